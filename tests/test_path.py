"""The user's path, part 2: DNS asked directly, every address, name filters and "offline".

Each finding comes from real parts on loopback, through ``handshake-doctor check ... --json`` as
a user would run it: Debian's dnsmasq with records written here, a UDP socket that never
answers, IPv6 and IPv4 listeners on the same port, a relay that cuts connections naming one
host, and a fresh network namespace with nothing in it but a loopback that is down.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.route import (
    DnsServerError,
    happy_eyeballs_order,
    is_blocking_address,
    parse_dns_server,
)
from core.wire.parse import ClientHello, parse_client_hello_records
from tests.dns_servers import (
    DUAL,
    GOOD,
    LOOPBACK_PUBLIC,
    NXDOMAIN,
    SERVFAIL,
    SINKHOLE,
    Dnsmasq,
    dnsmasq_missing,
    on_ci,
    run_dnsmasq,
    silent_udp,
)
from tests.pki import Pki
from tests.test_engine import ids, run_cli
from tests.tls_servers import LoopbackServer, TlsConfig, read_client_hello, tls_server

needs_dnsmasq = pytest.mark.skipif(dnsmasq_missing() is not None, reason=dnsmasq_missing() or "")


@pytest.fixture(scope="module")
def dnsmasq() -> Iterator[Dnsmasq]:
    # The context manager kills dnsmasq when the module's tests are done, pass or fail.
    with run_dnsmasq() as server:
        yield server


def check(
    capsys: pytest.CaptureFixture[str], host: str, *extra: str, timeout: str = "3"
) -> tuple[int, dict[str, Any]]:
    return run_cli(
        capsys,
        ["check", host, "--json", "--quick", "--no-network-time", "--timeout", timeout, *extra],
    )


# --------------------------------------------------------------------------- pure parts


def test_happy_eyeballs_alternates_families_ipv6_first() -> None:
    assert happy_eyeballs_order(["::1", "::2", "::3"], ["10.0.0.1"]) == (
        "::1",
        "10.0.0.1",
        "::2",
        "::3",
    )
    assert happy_eyeballs_order([], ["10.0.0.1", "10.0.0.2"]) == ("10.0.0.1", "10.0.0.2")


@pytest.mark.parametrize(
    ("address", "host", "blocking"),
    [
        ("0.0.0.0", "shop.example.com", True),
        ("::", "shop.example.com", True),
        ("127.0.0.1", "shop.example.com", True),
        ("127.0.0.1", "dev.localhost", False),
        ("127.0.1.1", "myhost", False),
        ("::1", "build.internal", False),
        ("146.112.61.106", "shop.example.com", True),
        ("93.184.215.14", "shop.example.com", False),
    ],
)
def test_blocking_addresses(address: str, host: str, blocking: bool) -> None:
    assert is_blocking_address(address, host) is blocking


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("9.9.9.9", ("9.9.9.9", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:5353", ("::1", 5353)),
        ("2620:fe::fe", ("2620:fe::fe", 53)),
    ],
)
def test_dns_server_option_parses(text: str, parsed: tuple[str, int]) -> None:
    assert parse_dns_server(text) == parsed


@pytest.mark.parametrize("text", ["dns.google", "1.2.3.4:99999", "[::1", "1.2.3.4:", "::1]:53"])
def test_malformed_dns_server_is_one_clear_line_exit_2(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    with pytest.raises(DnsServerError):
        parse_dns_server(text)
    from core.cli import main

    code = main(["check", "example.com", "--dns-server", text])
    err = capsys.readouterr().err
    assert code == 2
    assert "--dns-server" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- DNS


@needs_dnsmasq
def test_answers_and_resolver_in_path(capsys: pytest.CaptureFixture[str], dnsmasq: Dnsmasq) -> None:
    """A name with only an A record: one address, tried and refused (nothing listens on 443),
    and the path says which resolver answered."""
    code, report = check(capsys, GOOD, "--dns-server", dnsmasq.server, "--port", "9")
    path = report["path"]
    assert path["resolver"] == dnsmasq.server
    assert path["proxy"] is None and path["proxy_source"] is None and path["starttls"] is None
    assert path["dns"]["answered_by"] == dnsmasq.server
    assert path["addresses"] == [
        {"address": "127.0.0.1", "family": "ipv4", "connects": False, "error": "Connection refused"}
    ]
    assert ids(report) == ["connect-refused"] and code == 1


@needs_dnsmasq
@pytest.mark.parametrize(
    ("name", "kind", "word"),
    [(NXDOMAIN, "nxdomain", "NXDOMAIN"), (SERVFAIL, "server-failed", "SERVFAIL")],
)
def test_a_failed_lookup_names_the_server_and_how_it_failed(
    capsys: pytest.CaptureFixture[str], dnsmasq: Dnsmasq, name: str, kind: str, word: str
) -> None:
    """NXDOMAIN is the name not existing, SERVFAIL the server failing: the evidence says which,
    with the server's own word for it."""
    code, report = check(capsys, name, "--dns-server", dnsmasq.server)
    assert ids(report) == ["dns-failure"] and code == 1
    ev = report["findings"][0]["evidence"]
    assert ev["kind"] == kind
    assert word in ev["error"]
    if kind == "nxdomain":  # a server that answers "no such name" is named as the one that said so
        assert ev["answered_by"] == dnsmasq.server
        assert "check-dns" in report["findings"][0]["fixes"]


def test_silent_dns_server_fails_within_timeout_plus_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with silent_udp() as port:
        started = time.monotonic()
        code, report = check(
            capsys, "www.example.com", "--dns-server", f"127.0.0.1:{port}", timeout="1"
        )
        took = time.monotonic() - started
    assert ids(report) == ["dns-failure"] and code == 1
    assert report["findings"][0]["evidence"]["kind"] == "timeout"
    assert took < 2.0


def test_no_dns_server_at_that_port_is_said_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listens on the chosen port: the ICMP "port unreachable" is the answer, not a
    wait for the timeout."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    code, report = check(capsys, "www.example.com", "--dns-server", f"127.0.0.1:{port}")
    assert time.monotonic() - started < 2.0
    assert ids(report) == ["dns-failure"] and code == 1
    ev = report["findings"][0]["evidence"]
    assert ev["kind"] == "server-failed" and "refused" in ev["error"]


@needs_dnsmasq
@pytest.mark.parametrize("name", [SINKHOLE, LOOPBACK_PUBLIC])
def test_blocking_answer_is_dns_blocked(
    capsys: pytest.CaptureFixture[str], dnsmasq: Dnsmasq, name: str
) -> None:
    """0.0.0.0/:: (a filter's "nowhere") and loopback for a public name; nothing is dialled."""
    code, report = check(capsys, name, "--dns-server", dnsmasq.server)
    assert ids(report) == ["dns-blocked"] and code == 1
    finding = report["findings"][0]
    assert finding["evidence"]["resolver"] == dnsmasq.server
    assert finding["evidence"]["answers"]
    assert finding["fixes"][0] == "check-dns-filter"
    assert all(a["connects"] is None for a in report["path"]["addresses"])
    assert finding["title"] == "A DNS filter blocks this site"


# --------------------------------------------------------------------------- every address


def _ipv6_loopback_missing() -> str | None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError as exc:
        return f"IPv6 loopback (::1) is not available here: {exc.strerror}"
    return None


@needs_dnsmasq
@pytest.mark.skipif(_ipv6_loopback_missing() is not None, reason=_ipv6_loopback_missing() or "")
def test_ipv6_refused_ipv4_works_is_ipv6_broken(
    capsys: pytest.CaptureFixture[str], dnsmasq: Dnsmasq, pki: Pki, root_file: Path
) -> None:
    """A good server on 127.0.0.1 and nothing on ::1 at the same port: the check goes on over
    IPv4; the refused IPv6 address is the evidence of one warning."""
    leaf = pki.leaf([DUAL])
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        with (
            socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe,
            contextlib.suppress(OSError),
        ):
            probe.connect(("::1", server.port))
            pytest.skip("something listens on ::1 at the test server's port")
        code, report = check(
            capsys,
            DUAL,
            "--dns-server",
            dnsmasq.server,
            "--port",
            str(server.port),
            "--ca-file",
            str(root_file),
        )
    assert report["handshake"]["ok"] is True
    assert report["handshake"]["address"] == "127.0.0.1"
    assert ids(report) == ["ipv6-broken"] and code == 0
    addresses = report["path"]["addresses"]
    assert [(a["address"], a["family"], a["connects"]) for a in addresses] == [
        ("::1", "ipv6", False),
        ("127.0.0.1", "ipv4", True),
    ]
    finding = report["findings"][0]
    assert finding["severity"] == "warning"
    assert finding["evidence"]["working"] == "127.0.0.1"
    assert "::1" in finding["evidence"]["failed"][0]
    assert "fix-ipv6" in finding["fixes"]


# --------------------------------------------------------------------------- name filters


class SniRelay(LoopbackServer):
    """A loopback "middlebox": reads the ClientHello, resets the connection when it names
    ``blocked``, and relays everything else to the real server behind it."""

    def __init__(self, blocked: str, backend_port: int, *, silent: bool = False) -> None:
        self.blocked = blocked
        self.backend_port = backend_port
        #: Say nothing instead of resetting: a filter that drops the connection.
        self.silent = silent
        self.seen: list[str | None] = []
        super().__init__(self._relay)

    def _relay(self, conn: socket.socket, stop: threading.Event) -> None:
        hello = read_client_hello(conn)
        parsed = parse_client_hello_records(hello)
        name = parsed.server_name if isinstance(parsed, ClientHello) else None
        self.seen.append(name)
        if name == self.blocked and self.silent:
            while not stop.is_set() and conn.recv(4096):
                pass
            return
        if name == self.blocked:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return  # closed by the server loop: with linger 0, a reset
        with socket.create_connection(("127.0.0.1", self.backend_port), timeout=5) as upstream:
            upstream.sendall(hello)
            _pump(conn, upstream, stop)


def _pump(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            for key, _ in sel.select(0.1):
                src = key.fileobj
                assert isinstance(src, socket.socket)
                data = src.recv(65536)
                if not data:
                    return
                key.data.sendall(data)


def _through(relay: SniRelay, root_file: Path) -> tuple[str, ...]:
    """The options of a check that reaches the test server through the SNI filter."""
    return ("--connect", relay.address, "--ca-file", str(root_file))


def test_reset_on_this_name_only_is_sni_filtered(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(["blocked.test"])
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as backend:
        relay = SniRelay("blocked.test", backend.port)
        with relay:
            code, report = check(capsys, "blocked.test", *_through(relay, root_file))
    assert ids(report)[0] == "sni-filtered" and code == 1
    finding = report["findings"][0]
    assert finding["evidence"]["how"] == "reset"
    assert "without a name (no SNI)" in finding["evidence"]["got_through"]
    assert "connection-reset" not in ids(report)
    retries = {r["sni"]: r["got_server_hello"] for r in report["path"]["sni_retries"]}
    assert retries == {None: True, "example.com": True}
    # Bounded: the first handshake, the legacy look at the certificate, one retry each.
    assert relay.seen.count(None) == 1 and relay.seen.count("example.com") == 1


def test_silence_on_this_name_only_is_sni_filtered(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """A filter that drops instead of resetting: the first handshake waits its timeout, the
    retries only a few round trips, and the whole check stays within its bounds."""
    leaf = pki.leaf(["blocked.test"])
    with (
        tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as backend,
        SniRelay("blocked.test", backend.port, silent=True) as relay,
    ):
        started = time.monotonic()
        code, report = check(capsys, "blocked.test", *_through(relay, root_file), timeout="1")
        took = time.monotonic() - started
    assert ids(report)[0] == "sni-filtered" and code == 1, report["path"]["sni_retries"]
    assert report["findings"][0]["evidence"]["how"] == "no answer"
    assert took < 3.0


def test_reset_for_every_name_stays_connection_reset(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    from tests.tls_servers import raw_server, reset_after_hello

    with raw_server(reset_after_hello) as server:
        code, report = check(
            capsys, "localhost", "--connect", server.address, "--ca-file", str(root_file)
        )
    assert ids(report) == ["connection-reset"] and code == 1
    assert [r["got_server_hello"] for r in report["path"]["sni_retries"]] == [False, False]


def test_no_retry_after_a_handshake_that_works(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        code, report = check(
            capsys, "localhost", "--connect", server.address, "--ca-file", str(root_file)
        )
    assert report["handshake"]["ok"] and code == 0
    assert report["path"]["sni_retries"] == []
    assert server.connections == 1


# --------------------------------------------------------------------------- offline


def _netns_missing() -> str | None:
    if on_ci():
        return None  # must run there: a failure says what is missing
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    flags = ["-n"] if os.geteuid() == 0 else ["-rn"]
    try:
        done = subprocess.run(["unshare", *flags, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare cannot run: {exc}"
    if done.returncode != 0:
        return (
            "network namespaces are not allowed here: "
            + done.stderr.decode(errors="replace").strip()
        )
    return None


@pytest.mark.skipif(_netns_missing() is not None, reason=_netns_missing() or "")
@pytest.mark.parametrize(
    "extra",
    [[], ["--connect", "127.0.0.1:443"]],
    ids=["system-resolvers", "connect"],
)
def test_offline_in_an_empty_network_namespace(extra: list[str]) -> None:
    """A fresh network namespace has only a loopback that is down: no resolver can be
    reached and there is no route anywhere."""
    flags = ["-n"] if os.geteuid() == 0 else ["-rn"]
    command = [
        "unshare",
        *flags,
        "--",
        sys.executable,
        "-m",
        "handshake_doctor",
        "check",
        "www.example.com",
        "--json",
        "--quick",
        "--no-network-time",
        "--timeout",
        "2",
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert ids(report) == ["network-offline"] and done.returncode == 1
    finding = report["findings"][0]
    assert finding["evidence"]["ipv4_route"] is False
    assert finding["fixes"][0] == "reconnect-network"
    assert finding["title"] == "This computer is offline"


@pytest.mark.skipif(_netns_missing() is not None, reason=_netns_missing() or "")
@pytest.mark.skipif(os.geteuid() != 0 and not on_ci(), reason="bind-mounting /etc files needs root")
def test_unreadable_settings_fall_back_to_the_system_resolver(tmp_path: Path) -> None:
    """With no DNS server in resolv.conf the library has nothing to ask; the OS resolver still
    finds a name from the hosts file, and the path says which resolver answered and why."""
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("# no nameserver here\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 fallback.example.org\n")
    script = (
        "set -e; ip link set lo up; "
        f"mount --bind {resolv} /etc/resolv.conf; mount --bind {hosts} /etc/hosts; "
        f"exec {sys.executable} -m handshake_doctor check fallback.example.org --port 9 "
        "--json --quick --no-network-time --timeout 2"
    )
    done = subprocess.run(
        ["unshare", "-mn", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    dns = report["path"]["dns"]
    assert dns["source"] == "system-fallback" and dns["outcome"] == "answer"
    assert "could not be read" in dns["note"]
    assert report["path"]["resolver"] == "the system resolver"
    assert report["path"]["addresses"][0]["address"] == "127.0.0.1"
