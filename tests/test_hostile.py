"""Broken and hostile servers on 127.0.0.1, checked through the command line as a user runs it.

Each case must give the right finding with a clear cause, end within ``--timeout`` + 1 s with
and without ``--quick`` (the full check adds the protocol enumeration, a second connection per
version), and leave no thread and no socket behind.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from tests import hostile_servers as hostile
from tests.pki import Pki
from tests.timing import within
from tests.tls_servers import (
    Handler,
    LoopbackServer,
    TlsConfig,
    banner,
    make_server_context,
    raw_server,
    reset_after_hello,
    tls_server,
)

TIMEOUT = 2.0


# --------------------------------------------------------------------------- leak guard


def _open_sockets() -> set[str]:
    """This process's open sockets, by inode (Linux); empty elsewhere."""
    found = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/self/fd/{fd}")
                if target.startswith("socket:"):
                    found.add(target)
    return found


@contextlib.contextmanager
def no_leaks() -> Iterator[None]:
    """Fails if a thread or a socket made inside the block outlives it."""
    gc.collect()
    threads = set(threading.enumerate())
    sockets = _open_sockets()
    yield
    deadline = time.monotonic() + 2.0
    while True:
        gc.collect()
        new_threads = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
        new_sockets = _open_sockets() - sockets
        if not (new_threads or new_sockets) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not new_threads, f"threads left behind: {[t.name for t in new_threads]}"
    assert not new_sockets, f"sockets left open: {sorted(new_sockets)}"


# --------------------------------------------------------------------------- running a check


@dataclass
class Outcome:
    code: int
    report: dict[str, Any]
    took: float

    @property
    def ids(self) -> list[str]:
        return [f["id"] for f in self.report["findings"]]

    @property
    def evidence(self) -> dict[str, Any]:
        return dict(self.report["findings"][0]["evidence"])


def run_check(
    capsys: pytest.CaptureFixture[str],
    server: LoopbackServer,
    root_file: Path,
    *,
    quick: bool,
    timeout: float = TIMEOUT,
) -> Outcome:
    args = [
        "check",
        "localhost",
        "--connect",
        server.address,
        "--ca-file",
        str(root_file),
        "--json",
        "--no-network-time",
        "--timeout",
        str(timeout),
    ]
    started = time.monotonic()
    code = main([*args, "--quick"] if quick else args)
    took = time.monotonic() - started
    out = capsys.readouterr()
    assert out.err == "", out.err
    report = json.loads(out.out)
    for finding in report["findings"]:
        assert finding["title"] and finding["detail"], finding
    return Outcome(code, report, took)


MODES = pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])


# --------------------------------------------------------------------------- raw servers


@dataclass(frozen=True)
class Case:
    name: str
    handler: Handler
    finding: str
    check: Callable[[dict[str, Any]], bool]


RAW_CASES = [
    Case(
        "garbage-after-client-hello",
        hostile.garbage_after_hello,
        "not-tls",
        lambda ev: ev["looks_like"] == "unknown" and ev["first_bytes"].startswith("\\x9c"),
    ),
    Case(
        "tls-framed-garbage",
        hostile.tls_framed_garbage_after_hello,
        "tls-alert",
        lambda ev: ev["alert"].startswith("no alert, but a reply that breaks the TLS rules"),
    ),
    Case(
        "server-hello-then-garbage",
        hostile.server_hello_then_garbage,
        "tls-alert",
        lambda ev: "breaks the TLS rules" in ev["alert"] and ev["stage"] == "after server hello",
    ),
    Case(
        "reset-after-client-hello",
        reset_after_hello,
        "connection-reset",
        lambda ev: ev["stage"] == "after the ClientHello",
    ),
    Case(
        "close-after-server-hello",
        hostile.close_after_server_hello,
        "connection-reset",
        lambda ev: (
            ev["stage"] == "after the server hello" and "closed the connection" in ev["detail"]
        ),
    ),
    Case(
        "certificate-flood",
        hostile.flood,
        "tls-alert",
        lambda ev: "excessive message size" in ev["alert"],
    ),
    Case(
        "http-on-the-tls-port",
        hostile.plain_http,
        "not-tls",
        lambda ev: ev["looks_like"] == "HTTP" and ev["first_bytes"].startswith("HTTP/1.1 400"),
    ),
    Case(
        "smtp-banner",
        hostile.smtp_banner,
        "not-tls",
        lambda ev: ev["looks_like"] == "SMTP or FTP" and ev["first_bytes"].startswith("220 "),
    ),
    Case(
        "ssh-banner",
        banner(b"SSH-2.0-OpenSSH_9.6\r\n"),
        "not-tls",
        lambda ev: ev["looks_like"] == "SSH",
    ),
]


@MODES
@pytest.mark.parametrize("case", RAW_CASES, ids=[c.name for c in RAW_CASES])
def test_broken_server(
    capsys: pytest.CaptureFixture[str], root_file: Path, case: Case, quick: bool
) -> None:
    with no_leaks(), raw_server(case.handler) as server:
        outcome = run_check(capsys, server, root_file, quick=quick)
    assert outcome.ids == [case.finding], outcome.report["findings"]
    assert case.check(outcome.evidence), outcome.evidence
    assert outcome.code == 1
    assert outcome.report["handshake"]["ok"] is False
    assert outcome.took < within(TIMEOUT + 1)


@MODES
@pytest.mark.parametrize(
    ("alert", "code"),
    sorted(hostile.COMMON_FATAL_ALERTS.items()),
    ids=sorted(hostile.COMMON_FATAL_ALERTS),
)
def test_each_fatal_alert_is_named(
    capsys: pytest.CaptureFixture[str], root_file: Path, alert: str, code: int, quick: bool
) -> None:
    """A server that answers every hello with the same fatal alert: the alert is the finding,
    and the enumeration, which sees only refusals, does not invent a protocol mismatch."""
    with no_leaks(), raw_server(hostile.fatal_alert(code)) as server:
        outcome = run_check(capsys, server, root_file, quick=quick)
    assert outcome.ids == ["tls-alert"]
    assert outcome.evidence["alert"] == alert
    assert outcome.evidence["stage"] == "after client hello"
    assert alert.replace("_", " ") in outcome.report["findings"][0]["detail"].replace("_", " ")
    assert outcome.code == 1 and outcome.took < within(TIMEOUT + 1)
    if not quick:
        assert not any(outcome.report["protocols"].values())


@MODES
def test_one_byte_every_two_seconds_is_bounded_by_the_whole_handshake(
    capsys: pytest.CaptureFixture[str], root_file: Path, quick: bool
) -> None:
    """Each read gets its byte within the timeout, forever; only a deadline on the whole
    handshake (and the whole check) ends it."""
    timeout = 2.5
    with no_leaks(), raw_server(hostile.trickle(2.0)) as server:
        outcome = run_check(capsys, server, root_file, quick=quick, timeout=timeout)
    assert outcome.ids == ["handshake-timeout"]
    assert "kept sending, but far too slowly" in outcome.evidence["detail"]
    assert timeout - 0.1 < outcome.took < within(timeout + 1)
    assert outcome.code == 1


def test_probes_answered_one_byte_at_a_time(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, tmp_path: Path
) -> None:
    """A server that handshakes properly but trickles to the protocol prober: the versions are
    "not tested" (null), never "refused", and no finding is invented from silence. Bound: the
    prober waits one timeout per hello, and once more with short hellos after a timeout."""
    leaf = pki.leaf()
    context = make_server_context(TlsConfig([leaf, pki.intermediate], leaf), tmp_path)
    handler = hostile.tls_first_then(context, hostile.trickle(0.5))
    with no_leaks(), raw_server(handler) as server:
        outcome = run_check(capsys, server, root_file, quick=False)
    assert outcome.ids == [] and outcome.code == 0
    assert set(outcome.report["protocols"].values()) == {None}
    protocols = next(s for s in outcome.report["stages"] if s["stage"] == "protocols")
    assert protocols["summary"].startswith("not tested: ")
    assert outcome.took < within(2 * TIMEOUT + 1)


# --------------------------------------------------------------------------- odd certificates


@MODES
def test_chain_of_fifteen_certificates(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, quick: bool
) -> None:
    chain = hostile.long_chain(pki, 15)
    with no_leaks(), tls_server(TlsConfig(chain, chain[0])) as server:
        outcome = run_check(capsys, server, root_file, quick=quick)
    assert outcome.ids == ["chain-invalid"]
    assert outcome.evidence["reason"].startswith(
        "the chain is too long: the server sent 15 certificates"
    )
    assert sum(c["sent_by_server"] for c in outcome.report["certificates"]) == 15
    assert outcome.report["handshake"]["ok"] is True
    assert outcome.took < within(TIMEOUT + 1)


@MODES
def test_sixty_kilobyte_certificate(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, quick: bool
) -> None:
    leaf = hostile.huge_leaf(pki.intermediate)
    assert len(leaf.der) > 60_000
    with no_leaks(), tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        outcome = run_check(capsys, server, root_file, quick=quick)
    assert outcome.ids == [] and outcome.code == 0
    assert len(outcome.report["certificates"][0]["san"]) > 2500
    assert outcome.took < within(TIMEOUT + 1)


@MODES
def test_certificate_that_cryptography_cannot_parse(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, quick: bool
) -> None:
    """OpenSSL reads a BOOLEAN TRUE encoded as 0x01 (BER) and completes the handshake;
    cryptography's strict DER parser refuses the certificate. The check names which certificate
    and why, instead of failing or blaming something else."""
    leaf, der = hostile.unparseable_leaf(pki.intermediate)
    assert hostile.cryptography_refuses(der)
    with no_leaks(), tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:  # type: ignore[list-item]
        outcome = run_check(capsys, server, root_file, quick=quick)
    assert outcome.report["handshake"]["ok"] is True, "OpenSSL accepts it in a handshake"
    assert outcome.ids == ["chain-invalid"]
    reason = outcome.evidence["reason"]
    assert reason.startswith("certificate 1 of 2 that the server sent (its own certificate)")
    assert "Extension::critical" in reason
    stages = {s["stage"]: s for s in outcome.report["stages"]}
    assert stages["certificates"]["status"] == "failed"
    assert outcome.code == 1 and outcome.took < within(TIMEOUT + 1)


def test_hostile_server_text_output_stays_one_report(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    """The readable report of a garbage-speaking server: no traceback, nothing raw from the
    server on the terminal (its bytes are shown as escapes)."""
    with raw_server(hostile.garbage_after_hello) as server:
        code = main(
            [
                "check",
                "localhost",
                "--connect",
                server.address,
                "--no-network-time",
                "--quick",
                "--timeout",
                "2",
            ]
        )
    out = capsys.readouterr()
    assert code == 1 and out.err == ""
    assert "not-tls" in out.out
    assert all(ch == "\n" or ch.isprintable() for ch in out.out)
