"""Each cause the engine names, produced by a real server on 127.0.0.1, checked through the
command line exactly as a user would run it:
``handshake-doctor check HOST --connect 127.0.0.1:PORT --ca-file root.pem --json``.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.budget import Budget
from core.cli import main
from core.diagnose import run_check
from core.models import CheckOptions, FindingId, Target
from core.probe.net import ResolveError
from tests.cli_args import check_args, run_app
from tests.evidence import assert_documented
from tests.http_servers import http_server, ocsp_responder
from tests.pki import DAY, NOW, Issued, Pki, make_ca, make_leaf, make_self_signed, make_sha1_leaf
from tests.ports import closed_port
from tests.timing import within
from tests.tls_servers import (
    TlsConfig,
    alert_record,
    banner,
    raw_server,
    reset_after_hello,
    send_after_hello,
    silent,
    tls10_only_server,
    tls_server,
)


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any]]:
    code = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    report = json.loads(out.out)
    assert_documented(report["findings"])
    return code, report


def check_json(
    capsys: pytest.CaptureFixture[str],
    address: str,
    root_file: Path,
    host: str = "localhost",
    *extra: str,
) -> tuple[int, dict[str, Any]]:
    return run_cli(capsys, check_args(address, root_file, "--json", *extra, host=host))


def ids(report: dict[str, Any]) -> list[str]:
    return [f["id"] for f in report["findings"]]


def serve(chain: list[Issued], key: Issued, **kw: Any) -> Any:
    return tls_server(TlsConfig(chain, key, **kw))


# --------------------------------------------------------------------------- a good server


def test_good_server_has_no_findings(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf()
    with serve([leaf, pki.intermediate], leaf) as server:
        code, report = check_json(capsys, server.address, root_file)
    assert code == 0
    assert report["findings"] == []
    assert report["verdict"] == "ok"
    # Scripts read a step's outcome and facts as data; ``summary`` stays, worded from them.
    stages = {s["stage"]: s for s in report["stages"]}
    connect = stages["connect"]
    address, port = server.address.rsplit(":", 1)
    assert connect["outcome"] == "connected"
    assert connect["facts"] == {"address": address, "port": int(port)}
    assert connect["summary"] == f"connected to {address}:{port}"
    assert stages["handshake"]["facts"]["protocol"] == "TLSv1.3"  # the JSON's own names
    assert stages["protocols"]["outcome"] == "protocols-quick"
    assert stages["protocols"]["facts"] == {}
    hs = report["handshake"]
    assert hs["ok"] and hs["protocol"] == "TLSv1.3"
    assert hs["cipher"].startswith("TLS_")
    steps = [(s["step"], s["direction"]) for s in hs["steps"]]
    assert steps[:2] == [("client-hello", "client"), ("server-hello", "server")]
    assert ("certificate", "server") in steps and ("finished", "client") in steps
    assert [s["t_ms"] for s in hs["steps"]] == sorted(s["t_ms"] for s in hs["steps"])
    assert report["trust"] == {"mozilla": False, "os": False, "custom": True}
    sent = [c for c in report["certificates"] if c["sent_by_server"]]
    assert [c["subject"] for c in sent] == [
        "CN=localhost",
        "O=Test PKI,CN=Handshake Doctor Test Intermediate",
    ]
    assert report["clock"]["reference"] == "http-date"
    assert report["target"] == {
        "host": "localhost",
        "port": 443,
        "connect_address": "127.0.0.1",
        "sni": "localhost",
    }


def test_ip_san_and_wildcard_one_label(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(["*.example.test", "127.0.0.1"])
    with serve([leaf, pki.intermediate], leaf) as server:
        assert ids(check_json(capsys, server.address, root_file, "www.example.test")[1]) == []
        assert ids(check_json(capsys, server.address, root_file, "127.0.0.1")[1]) == []
        _, deep = check_json(capsys, server.address, root_file, "a.b.example.test")
        _, bare = check_json(capsys, server.address, root_file, "example.test")
    assert ids(deep) == ["hostname-mismatch"]
    assert ids(bare) == ["hostname-mismatch"]
    assert deep["findings"][0]["evidence"]["names"] == ["*.example.test", "127.0.0.1"]


# --------------------------------------------------------------------------- chain causes


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("expired", ["cert-expired"]),
        ("not-yet-valid", ["cert-not-yet-valid"]),
        ("expires-soon", ["expires-soon"]),
        ("mismatch", ["hostname-mismatch"]),
        ("self-signed", ["self-signed"]),
        ("untrusted-root", ["untrusted-root"]),
        ("chain-order", ["chain-order"]),
        ("weak-key", ["weak-key"]),
        ("weak-signature", ["weak-signature"]),
        ("intermediate-expired", ["cert-expired"]),
    ],
)
def test_chain_causes(
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    root_file: Path,
    situation: str,
    expected: list[str],
) -> None:
    host = "localhost"
    legacy = "DEFAULT:@SECLEVEL=0"
    kw: dict[str, Any] = {}
    if situation == "expired":
        leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
        chain = [leaf, pki.intermediate]
    elif situation == "not-yet-valid":
        leaf = pki.leaf(not_before=NOW + 3 * DAY, not_after=NOW + 90 * DAY)
        chain = [leaf, pki.intermediate]
    elif situation == "expires-soon":
        leaf = pki.leaf(not_after=NOW + 6 * DAY)
        chain = [leaf, pki.intermediate]
    elif situation == "mismatch":
        leaf = pki.leaf(["www.example.test"])
        chain = [leaf, pki.intermediate]
        host = "shop.example.test"
    elif situation == "self-signed":
        leaf = make_self_signed()
        chain = [leaf]
    elif situation == "untrusted-root":
        stranger = Pki()
        leaf = stranger.leaf()
        chain = [leaf, stranger.intermediate]
    elif situation == "chain-order":
        leaf = pki.leaf()
        chain = [leaf, pki.intermediate, make_self_signed(["unrelated.test"]), pki.intermediate]
    elif situation == "weak-key":
        leaf = pki.leaf(key_kind="rsa1024")
        chain = [leaf, pki.intermediate]
        kw["ciphers"] = legacy
    elif situation == "weak-signature":
        leaf = make_sha1_leaf(pki.intermediate)
        chain = [leaf, pki.intermediate]
        kw["ciphers"] = legacy
    else:
        old = make_ca(
            "Old Intermediate", issuer=pki.root, not_before=NOW - 400 * DAY, not_after=NOW - DAY
        )
        leaf = make_leaf(old)
        chain = [leaf, old]
    with serve(chain, leaf, **kw) as server:
        code, report = check_json(capsys, server.address, root_file, host)
    assert ids(report) == expected
    severities = {f["severity"] for f in report["findings"]}
    assert code == (1 if severities & {"error", "critical"} else 0)
    for finding in report["findings"]:
        assert finding["title"] and finding["detail"] and finding["fixes"]


def test_expired_evidence_names_the_date(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
    with serve([leaf, pki.intermediate], leaf) as server:
        _, report = check_json(capsys, server.address, root_file)
    finding = report["findings"][0]
    assert finding["evidence"]["days_ago"] in (2, 3)
    assert "renew-certificate" in finding["fixes"]
    assert report["verdict"] == "error"


def test_incomplete_chain_repaired_by_aia(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    with http_server({"/inter.der": pki.intermediate.der}) as base:
        leaf = pki.leaf(aia_issuer_url=f"{base}/inter.der")
        with serve([leaf], leaf) as server:
            _, report = check_json(capsys, server.address, root_file)
    assert ids(report) == ["incomplete-chain"]
    ev = report["findings"][0]["evidence"]
    assert ev["aia_repairs"] == "yes"
    assert ev["aia_url"].endswith("/inter.der")
    assert [c["sent_by_server"] for c in report["certificates"]] == [True, False, False]


def test_incomplete_chain_aia_unreachable(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    closed = closed_port()
    leaf = pki.leaf(aia_issuer_url=f"http://127.0.0.1:{closed}/inter.der")
    with serve([leaf], leaf) as server:
        _, report = check_json(capsys, server.address, root_file)
    assert ids(report) == ["incomplete-chain"]
    assert report["findings"][0]["evidence"]["aia_repairs"].startswith("fetch failed")


@pytest.mark.parametrize("revoked", [True, False])
def test_ocsp_revocation(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, revoked: bool
) -> None:
    with http_server(post=ocsp_responder(pki.intermediate, revoked=revoked)) as base:
        leaf = pki.leaf(ocsp_url=base)
        with serve([leaf, pki.intermediate], leaf) as server:
            code, report = check_json(capsys, server.address, root_file)
    assert ids(report) == (["cert-revoked"] if revoked else [])
    if revoked:
        assert report["verdict"] == "critical" and code == 1


def test_ocsp_answer_signed_by_a_stranger_is_ignored(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    impostor = make_ca("Impostor")
    with http_server(
        post=ocsp_responder(pki.intermediate, revoked=True, sign_with=impostor)
    ) as base:
        leaf = pki.leaf(ocsp_url=base)
        with serve([leaf, pki.intermediate], leaf) as server:
            _, report = check_json(capsys, server.address, root_file)
    assert ids(report) == []


def test_unreachable_ocsp_responder_is_no_finding(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(ocsp_url=f"http://127.0.0.1:{closed_port()}/")
    with serve([leaf, pki.intermediate], leaf) as server:
        code, report = check_json(capsys, server.address, root_file)
    assert ids(report) == [] and code == 0


# --------------------------------------------------------------------------- trust and interception


def test_interception_product_root_flagged_even_when_valid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    proxy_root = make_ca("Zscaler Root CA", "Zscaler Inc.")
    proxy_intermediate = make_ca("Zscaler Intermediate Root CA", "Zscaler Inc.", issuer=proxy_root)
    leaf = make_leaf(proxy_intermediate)
    root_file = tmp_path / "corp.pem"
    root_file.write_bytes(proxy_root.pem)
    with serve([leaf, proxy_intermediate], leaf) as server:
        code, report = check_json(capsys, server.address, root_file)
    assert ids(report) == ["interception-suspected"]
    assert report["findings"][0]["evidence"]["product"] == "Zscaler"
    assert report["handshake"]["ok"] and code == 0


def test_root_only_the_os_trusts_is_suspected(pki: Pki, tmp_path: Path) -> None:
    """The OS store is what OpenSSL would use, which honours SSL_CERT_FILE: a root placed there
    and absent from Mozilla's list is how a corporate or antivirus proxy looks."""
    import os

    os_store = pki.write_root(tmp_path)
    leaf = pki.leaf()
    env = dict(os.environ, SSL_CERT_FILE=str(os_store), SSL_CERT_DIR=str(tmp_path))
    with serve([leaf, pki.intermediate], leaf) as server:
        result = run_app(*check_args(server.address, None, "--json"), env=env)
    report = json.loads(result.stdout)
    assert report["trust"] == {"mozilla": False, "os": True, "custom": None}
    assert ids(report) == ["interception-suspected"]


def test_no_default_trust_needs_ca_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "localhost", "--no-default-trust"]) == 2
    assert "--ca-file" in capsys.readouterr().err


# --------------------------------------------------------------------------- client certificates


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_client_certificate_required(
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    root_file: Path,
    tmp_path: Path,
    version: ssl.TLSVersion,
) -> None:
    leaf = pki.leaf()
    client = pki.leaf(["alice"], client=True)
    cert_file = tmp_path / "client.pem"
    cert_file.write_bytes(client.pem + pki.intermediate.pem + client.key_pem)
    with serve([leaf, pki.intermediate], leaf, client_ca=pki.root, max_version=version) as server:
        _, without = check_json(capsys, server.address, root_file)
        code, with_cert = check_json(
            capsys, server.address, root_file, "localhost", "--client-cert", str(cert_file)
        )
    assert ids(without)[0] == "client-cert-required"
    assert "provide-client-certificate" in without["findings"][0]["fixes"]
    assert "client-cert-required" not in ids(with_cert)
    assert with_cert["handshake"]["ok"] and code == 0
    assert "PRIVATE KEY" not in json.dumps(with_cert)


# --------------------------------------------------------------------------- network causes


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener whose accept queue is full: the kernel drops further SYNs, exactly what a
    firewall that silently drops packets looks like to a client."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.05)
    try:
        yield port
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_connect_refused(capsys: pytest.CaptureFixture[str], root_file: Path) -> None:
    code, report = check_json(capsys, f"127.0.0.1:{closed_port()}", root_file)
    assert ids(report) == ["connect-refused"] and code == 1
    assert report["handshake"]["ok"] is False and report["certificates"] == []


def test_connect_timeout(
    capsys: pytest.CaptureFixture[str], root_file: Path, full_backlog: int
) -> None:
    started = time.monotonic()
    code, report = check_json(
        capsys, f"127.0.0.1:{full_backlog}", root_file, "localhost", "--timeout", "1"
    )
    assert ids(report) == ["connect-timeout"] and code == 1
    assert time.monotonic() - started < within(2.0)


def test_handshake_timeout_within_timeout_plus_one(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    with raw_server(silent) as server:
        started = time.monotonic()
        code, report = check_json(capsys, server.address, root_file, "localhost", "--timeout", "1")
        took = time.monotonic() - started
    assert ids(report) == ["handshake-timeout"] and code == 1
    assert took < within(2.0)


def test_handshake_timeout_full_check(capsys: pytest.CaptureFixture[str], root_file: Path) -> None:
    """Without --quick too: no step outlives --timeout."""
    with raw_server(silent) as server:
        started = time.monotonic()
        args = check_args(server.address, root_file, "--json", quick=False, timeout=1)
        _, report = run_cli(capsys, args)
        took = time.monotonic() - started
    assert ids(report) == ["handshake-timeout"]
    assert took < within(2.0)


@pytest.mark.parametrize(
    ("handler", "expected", "looks_like"),
    [
        (banner(b"220 mail.example.test ESMTP ready\r\n"), "not-tls", "SMTP or FTP"),
        (
            send_after_hello(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
            "not-tls",
            "HTTP",
        ),
        (reset_after_hello, "connection-reset", None),
        (send_after_hello(alert_record(80)), "tls-alert", None),
    ],
)
def test_network_causes(
    capsys: pytest.CaptureFixture[str],
    root_file: Path,
    handler: Any,
    expected: str,
    looks_like: str | None,
) -> None:
    with raw_server(handler) as server:
        code, report = check_json(capsys, server.address, root_file)
    assert ids(report) == [expected] and code == 1
    evidence = report["findings"][0]["evidence"]
    if looks_like:
        assert evidence["looks_like"] == looks_like
    if expected == "tls-alert":
        assert evidence["alert"] == "internal_error"


def test_dns_failure_with_injected_resolver(root_file: Path) -> None:
    def no_such_name(host: str, port: int) -> list[str]:
        raise ResolveError("Name or service not known")

    report = run_check(
        Target("no-such-host.test", 443, sni="no-such-host.test"),
        CheckOptions(ca_file=root_file, no_network_time=True, quick=True, timeout=2),
        resolver=no_such_name,
    )
    assert [f.id for f in report.findings] == [FindingId.DNS_FAILURE]
    assert report.findings[0].evidence["error"] == "Name or service not known"
    assert "check-dns" in report.findings[0].fixes


def test_no_shared_protocol_quick(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """A TLS 1.0-only server: the default client cannot talk to it; the permissive second
    handshake still fetches its certificate and shows which version it speaks."""
    with tls_server(tls10_only_server(pki)) as server:
        code, report = check_json(capsys, server.address, root_file)
    assert ids(report)[0] == "no-shared-protocol" and code == 1
    assert report["certificates"], "the legacy handshake should still show the certificate"


def test_cancel_stops_quickly(pki: Pki, root_file: Path) -> None:
    import threading

    with raw_server(silent) as server:
        budget = Budget(10)
        timer = threading.Timer(0.3, budget.cancel)
        timer.start()
        started = time.monotonic()
        from core.budget import Cancelled

        with pytest.raises(Cancelled):
            run_check(
                Target("localhost", 443, "127.0.0.1", server.port, "localhost"),
                CheckOptions(ca_file=root_file, no_network_time=True, quick=True, timeout=10),
                budget=budget,
            )
        timer.join()
    assert time.monotonic() - started < within(1.3)


# ------------------------------------------------------------------ full check with overlap


def full_check(capsys: pytest.CaptureFixture[str], address: str, root_file: Path) -> dict[str, Any]:
    return run_cli(capsys, check_args(address, root_file, "--json", quick=False))[1]


@pytest.mark.parametrize(
    ("config", "expected", "accepted"),
    [
        (
            {
                "min_version": ssl.TLSVersion.TLSv1,
                "max_version": ssl.TLSVersion.TLSv1,
                "ciphers": "DEFAULT:@SECLEVEL=0",
            },
            ["no-shared-protocol", "legacy-protocol", "no-forward-secrecy"],
            ["TLSv1.0"],
        ),
        (
            {"max_version": ssl.TLSVersion.TLSv1_2, "ciphers": "NULL-SHA256:@SECLEVEL=0"},
            ["no-shared-cipher", "weak-cipher"],
            ["TLSv1.2"],
        ),
        (
            {"max_version": ssl.TLSVersion.TLSv1_2, "ciphers": "AES128-SHA"},
            ["no-shared-cipher", "no-forward-secrecy"],
            ["TLSv1.2"],
        ),
    ],
)
def test_overlap_names_the_mismatch(
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    root_file: Path,
    config: dict[str, Any],
    expected: list[str],
    accepted: list[str],
) -> None:
    leaf = pki.leaf(key_kind="rsa2048")  # the RSA key-exchange suites need an RSA certificate
    with serve([leaf, pki.intermediate], leaf, **config) as server:
        report = full_check(capsys, server.address, root_file)
    assert ids(report) == expected
    assert [v for v, ok in report["protocols"].items() if ok] == accepted
    local = report["clients"][0]
    assert local["name"].startswith("This computer") and local["connects"] is False
    assert report["certificates"], (
        "the certificate is still examined through a permissive handshake"
    )
    assert [s["stage"] for s in report["stages"]] == [
        "resolve",
        "connect",
        "handshake",
        "certificates",
        "clock",
        "protocols",
    ]


def test_full_check_of_a_good_server(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf()
    with serve([leaf, pki.intermediate], leaf) as server:
        report = full_check(capsys, server.address, root_file)
    assert ids(report) == []
    assert report["protocols"]["TLSv1.3"] is True and report["protocols"]["TLSv1.0"] is False
    assert "TLS_AES_128_GCM_SHA256" in report["ciphers"]["TLSv1.3"]
    assert all(
        c["connects"]
        for c in report["clients"]
        if not c["name"].startswith(("Android 4", "Java 8"))
    )


def test_summary_is_a_short_ticket(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
    with serve([leaf, pki.intermediate], leaf) as server:
        code = main(check_args(server.address, root_file, "--summary"))
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert code == 1
    assert 5 <= len(lines) <= 15
    assert "localhost:443" in lines[0] and "127.0.0.1" in lines[0]
    assert "Verdict: ERROR" in text
    assert "expired" in text.lower()
    assert any(line.startswith("First step: ") for line in lines)


def test_text_report_is_readable_and_colourless_off_a_tty(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(["www.example.test"])
    with serve([leaf, pki.intermediate], leaf) as server:
        code = main(check_args(server.address, root_file, host="shop.example.test"))
    text = capsys.readouterr().out
    assert code == 1
    assert "\x1b[" not in text
    assert text.splitlines()[1].startswith("ERROR: ")
    assert "(hostname-mismatch)" in text and "What to do:" in text


@pytest.mark.parametrize(
    ("version", "where"),
    [(ssl.TLSVersion.TLSv1_3, "the ServerHello's key share"), (ssl.TLSVersion.TLSv1_2, "ECDHE")],
)
def test_the_handshake_names_its_key_exchange_group(
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    root_file: Path,
    version: ssl.TLSVersion,
    where: str,
) -> None:
    """The group is read from the ServerHello (TLS 1.3) by wire/'s parser, or from the
    ServerKeyExchange (TLS 1.2 ECDHE), and named by wire/'s registry."""
    from core.wire.hello import GROUP_NAMES

    leaf = pki.leaf()
    config = TlsConfig([leaf, pki.intermediate], leaf, min_version=version, max_version=version)
    with tls_server(config) as server:
        _, report = check_json(capsys, server.address, root_file)
    group = report["handshake"]["group"]
    assert group in GROUP_NAMES.values(), where
