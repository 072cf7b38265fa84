"""Addresses a stranger wrote into a certificate (AIA "CA Issuers", OCSP) are fetched within hard
limits: one deadline, three redirects to http(s) only, a size cap, no credentials, and only
addresses of the right kind. A fetch that fails in any way is evidence, never the end of the
certificate analysis.

The fetches go to real hostile HTTP servers on 127.0.0.1, through the command line as a user
runs it (``check HOST --connect ... --json --quick --timeout 3``).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.cert_urls import (
    AddressKind,
    FetchUrl,
    UrlProblem,
    address_kind,
    display_url,
    fetch_refusal,
    parse_fetch_url,
)
from core.cli import main
from handshake_doctor.main import main as entry_main
from tests.cli_args import check_args
from tests.http_servers import (
    http_drip,
    http_huge,
    http_ok,
    http_raw,
    http_recorder,
    http_redirect,
    ocsp_responder,
)
from tests.pki import DAY, NOW, Issued, Pki
from tests.test_report import flat, pdf_text
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

TIMEOUT_S = 3.0
#: The promise is "ends within --timeout + 1 s"; a loaded 2-core CI machine may stretch it.
SLACK = float(os.environ.get("HANDSHAKE_DOCTOR_TEST_SLACK", "1.0"))
BOUND_S = (TIMEOUT_S + 1.0) * SLACK


def _check(
    capsys: pytest.CaptureFixture[str], chain: list[Issued], key: Issued, root_file: Path
) -> tuple[int, dict[str, Any], float]:
    with tls_server(TlsConfig(chain, key)) as server:
        started = time.monotonic()
        code = main(check_args(server.address, root_file, "--json", timeout=TIMEOUT_S))
        took = time.monotonic() - started
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, json.loads(out.out), took


def _finding(report: dict[str, Any], finding_id: str) -> dict[str, Any]:
    found = [f for f in report["findings"] if f["id"] == finding_id]
    assert found, f"{finding_id} missing from {[f['id'] for f in report['findings']]}"
    return found[0]


@pytest.fixture
def no_thread_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError(f"threads left behind: {left}")


def _aia_check(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, url: str, **leaf: Any
) -> tuple[int, dict[str, Any], float]:
    """A leaf-only server whose AIA address is ``url``: the fetch is the only way to a root."""
    cert = pki.leaf(aia_issuer_url=url, **leaf)
    return _check(capsys, [cert], cert, root_file)


# --------------------------------------------------------------------------- AIA: the four servers


@pytest.mark.usefixtures("no_thread_left")
def test_aia_server_that_drips_is_stopped_at_the_timeout(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    with LoopbackServer(http_drip(1.0)) as http:
        _, report, took = _aia_check(capsys, pki, root_file, f"http://{http.address}/inter.der")
    assert took < BOUND_S, f"took {took:.1f} s"
    repairs = _finding(report, "incomplete-chain")["evidence"]["aia_repairs"]
    assert repairs == f"fetch failed: no complete answer within {TIMEOUT_S:g} s"


@pytest.mark.usefixtures("no_thread_left")
def test_aia_redirect_loop_stops_after_three(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    with LoopbackServer(http_redirect(lambda _req: "/again")) as http:
        _, report, took = _aia_check(capsys, pki, root_file, f"http://{http.address}/inter.der")
        connections = http.connections
    assert took < BOUND_S
    assert connections == 4  # the first request and three redirects, then no more
    repairs = _finding(report, "incomplete-chain")["evidence"]["aia_repairs"]
    assert repairs == "fetch failed: redirected more than 3 times"


@pytest.mark.usefixtures("no_thread_left")
def test_aia_redirect_to_ftp_is_not_followed(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    ftp = socket.socket()
    ftp.bind(("127.0.0.1", 0))
    ftp.listen(4)
    ftp.setblocking(False)
    ftp_url = f"ftp://127.0.0.1:{ftp.getsockname()[1]}/inter.der"
    try:
        with LoopbackServer(http_redirect(lambda _req: ftp_url)) as http:
            _, report, took = _aia_check(capsys, pki, root_file, f"http://{http.address}/inter.der")
        with pytest.raises(BlockingIOError):
            ftp.accept()  # nothing ever connected to the ftp address
    finally:
        ftp.close()
    assert took < BOUND_S
    repairs = _finding(report, "incomplete-chain")["evidence"]["aia_repairs"]
    assert repairs == (
        f"fetch failed: redirected to {ftp_url}: only http and https addresses are fetched"
    )


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "unannounced"])
@pytest.mark.usefixtures("no_thread_left")
def test_aia_answer_of_10_mb_is_cut_at_the_cap(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, announce: bool
) -> None:
    with LoopbackServer(http_huge(announce=announce)) as http:
        _, report, took = _aia_check(capsys, pki, root_file, f"http://{http.address}/inter.der")
    assert took < BOUND_S
    repairs = _finding(report, "incomplete-chain")["evidence"]["aia_repairs"]
    assert repairs == "fetch failed: the answer is larger than 256 KB"


# --------------------------------------------------------------------------- malformed answers


_MALFORMED = {
    "bad-status-line": (b"HTTP/1.1 OK-ish\r\n\r\n", "a malformed status line"),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "a malformed status line"),
    "101-headers": (
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(101)) + b"\r\n",
        "more than 100 headers",
    ),
    "header-without-colon": (b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n", "malformed header"),
    "short-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\nabc", "announced length"),
    "bad-length": (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a number"),
    "bad-chunks": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk"),
    "not-a-certificate": (http_ok(b"<html>hello</html>"), "not a certificate"),
}


@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_malformed_aia_answer_keeps_the_certificate_findings(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, case: str
) -> None:
    """The worst case of the old fetch: an answer that made it raise erased the chain verdict,
    so an expired certificate came out as a warning. It must stay an error, with the reason."""
    answer, words = _MALFORMED[case]
    with LoopbackServer(http_raw(answer)) as http:
        code, report, took = _aia_check(
            capsys,
            pki,
            root_file,
            f"http://{http.address}/inter.der",
            not_before=NOW - 400 * DAY,
            not_after=NOW - 3 * DAY,
        )
    assert took < BOUND_S
    ids = [f["id"] for f in report["findings"]]
    assert "cert-expired" in ids and "incomplete-chain" in ids
    assert report["verdict"] == "error" and code == 1
    repairs = _finding(report, "incomplete-chain")["evidence"]["aia_repairs"]
    assert repairs.startswith("fetch failed: ") and words in repairs


def test_aia_url_with_a_space_is_refused_and_the_chain_still_judged(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    requests: list[bytes] = []
    with LoopbackServer(http_recorder(requests, http_ok(pki.intermediate.der))) as http:
        _, report, _ = _aia_check(
            capsys, pki, root_file, f"http://{http.address}/inter der", names=["other.example"]
        )
    assert requests == []
    ids = [f["id"] for f in report["findings"]]
    assert "hostname-mismatch" in ids
    repairs = _finding(report, "incomplete-chain")["evidence"]["aia_repairs"]
    assert repairs == "fetch failed: the address is not a valid URL"


# --------------------------------------------------------------------------- credentials in URLs


def test_userinfo_in_an_aia_url_is_never_sent_nor_shown(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, tmp_path: Path, qapp: Any
) -> None:
    """``qapp``: the report command prints with Qt, and must find pytest-qt's QApplication
    rather than make a QGuiApplication of its own that later window tests could not use."""
    requests: list[bytes] = []
    with LoopbackServer(http_recorder(requests, http_ok(pki.intermediate.der))) as http:
        url = f"http://alice:s3cret@{http.address}/inter.der"
        _, report, _ = _aia_check(capsys, pki, root_file, url)
        # The same certificate through the text output and the PDF report.
        cert = pki.leaf(aia_issuer_url=url)
        with tls_server(TlsConfig([cert], cert)) as server:
            common = [
                "--connect",
                server.address,
                "--ca-file",
                str(root_file),
                "--quick",
                "--no-network-time",
                "--timeout",
                "3",
            ]
            main(["check", "localhost", *common])
            text = capsys.readouterr().out
            pdf = tmp_path / "report.pdf"
            entry_main(["report", "localhost", *common, "-o", str(pdf)])
            err = capsys.readouterr().err
            assert pdf.exists(), err
    assert len(requests) == 3
    for request in requests:
        assert b"s3cret" not in request and b"alice" not in request
        assert b"authorization" not in request.lower()
        assert request.startswith(b"GET /inter.der HTTP/1.1\r\n")
    evidence = _finding(report, "incomplete-chain")["evidence"]
    assert evidence["aia_repairs"] == "yes"
    assert evidence["aia_url"] == f"http://{http.address}/inter.der"
    dumped = json.dumps(report)
    assert "s3cret" not in dumped and "alice" not in dumped
    assert "s3cret" not in text and "alice" not in text
    pages = pdf_text(pdf)
    assert "inter.der" in flat(pages)  # the address is in the report, without its userinfo
    assert "s3cret" not in pages and "alice" not in pages


# --------------------------------------------------------------------------- OCSP


def _ocsp_check(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, url: str, **leaf: Any
) -> tuple[int, dict[str, Any], float]:
    cert = pki.leaf(ocsp_url=url, **leaf)
    return _check(capsys, [cert, pki.intermediate], cert, root_file)


def test_ocsp_status_is_in_the_report(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    from tests.http_servers import http_server

    with http_server(post=ocsp_responder(pki.intermediate, revoked=False)) as base:
        _, report, _ = _ocsp_check(capsys, pki, root_file, base)
    assert report["revocation"] == {
        "checked": True,
        "revoked": False,
        "responder": base + "/",
        "status": "good",
    }


@pytest.mark.parametrize(
    ("handler", "status"),
    [
        (http_drip(1.0), f"no complete answer within {TIMEOUT_S:g} s"),
        (http_raw(b"HTTP/1.1 OK-ish\r\n\r\n"), "a malformed status line"),
        (http_raw(http_ok(b"\x30\x03\x0a\x01\x00", "application/ocsp-response")), "not readable"),
        (http_raw(http_ok(b"garbage", "application/ocsp-response")), "not readable"),
        (http_huge(), "the answer is larger than 256 KB"),
        (http_redirect(lambda _r: "/loop"), "redirected more than 3 times"),
    ],
    ids=["drip", "bad-status", "empty-success", "garbage", "huge", "redirect-loop"],
)
@pytest.mark.usefixtures("no_thread_left")
def test_broken_ocsp_answer_is_evidence_and_keeps_the_verdict(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, handler: Any, status: str
) -> None:
    with LoopbackServer(handler) as http:
        code, report, took = _ocsp_check(
            capsys, pki, root_file, f"http://{http.address}/", names=["other.example"]
        )
    assert took < BOUND_S
    assert [f["id"] for f in report["findings"]] == ["hostname-mismatch"]
    assert code == 1
    assert report["revocation"]["checked"] is False
    assert report["revocation"]["revoked"] is None
    assert status in report["revocation"]["status"]


# --------------------------------------------------------------------------- the address rule


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", AddressKind.PUBLIC),
        ("2606:4700:4700::1111", AddressKind.PUBLIC),
        ("10.1.2.3", AddressKind.PRIVATE),
        ("172.16.0.1", AddressKind.PRIVATE),
        ("172.31.255.254", AddressKind.PRIVATE),
        ("192.168.1.1", AddressKind.PRIVATE),
        ("100.64.0.1", AddressKind.PRIVATE),
        ("fd12:3456::1", AddressKind.PRIVATE),
        ("::ffff:192.168.1.1", AddressKind.PRIVATE),
        ("127.0.0.1", AddressKind.LOOPBACK),
        ("127.8.9.10", AddressKind.LOOPBACK),
        ("::1", AddressKind.LOOPBACK),
        ("::ffff:127.0.0.1", AddressKind.LOOPBACK),
        ("169.254.169.254", AddressKind.LINK_LOCAL),
        ("fe80::1", AddressKind.LINK_LOCAL),
        ("fe80::1%eth0", AddressKind.LINK_LOCAL),
        ("0.0.0.0", AddressKind.RESERVED),
        ("::", AddressKind.RESERVED),
        ("224.0.0.251", AddressKind.RESERVED),
        ("255.255.255.255", AddressKind.RESERVED),
        ("192.0.2.1", AddressKind.RESERVED),
        ("2001:db8::1", AddressKind.RESERVED),
        ("240.0.0.1", AddressKind.RESERVED),
        ("not-an-address", AddressKind.RESERVED),
    ],
)
def test_address_kind(address: str, kind: AddressKind) -> None:
    assert address_kind(address) is kind


@pytest.mark.parametrize(
    ("address", "site", "allowed"),
    [
        ("93.184.216.34", "203.0.113.9", True),  # public from anywhere
        ("93.184.216.34", "127.0.0.1", True),
        ("93.184.216.34", None, True),
        ("2606:4700:4700::1111", "10.0.0.5", True),
        ("192.168.1.1", "93.184.216.34", False),  # the router, named by a public site
        ("10.0.0.1", None, False),  # an unknown site counts as public
        ("192.168.1.1", "10.0.0.5", True),  # a private site may point to the private network
        ("fd00::1", "10.0.0.5", True),
        ("127.0.0.1", "127.0.0.1", True),  # a loopback server to loopback
        ("::1", "127.0.0.1", True),
        ("127.0.0.1", "93.184.216.34", False),
        ("127.0.0.1", "10.0.0.5", False),
        ("10.0.0.1", "127.0.0.1", False),
        ("169.254.169.254", "93.184.216.34", False),  # cloud metadata
        ("169.254.169.254", "10.0.0.5", False),
        ("fe80::1", "fe80::2", True),
        ("0.0.0.0", "0.0.0.0", False),  # reserved is never dialled
        ("224.0.0.251", "127.0.0.1", False),
    ],
)
def test_fetch_refusal(address: str, site: str | None, allowed: bool) -> None:
    assert (fetch_refusal(address, site) is None) is allowed


def test_refusal_words_say_what_and_why() -> None:
    refusal = fetch_refusal("192.168.1.1", "93.184.216.34")
    assert str(refusal) == "192.168.1.1 is a private-network address, and the site is public"
    refusal = fetch_refusal("0.0.0.0", "127.0.0.1")
    assert str(refusal) == "0.0.0.0 is a reserved address, never fetched"


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("http://ca.example/i.crt", FetchUrl("http", "ca.example", 80, "/i.crt")),
        ("HTTPS://CA.Example:8443/a?b=c", FetchUrl("https", "ca.example", 8443, "/a?b=c")),
        ("http://alice:s3cret@127.0.0.1:81/x", FetchUrl("http", "127.0.0.1", 81, "/x")),
        ("http://[::1]:8080", FetchUrl("http", "::1", 8080, "/")),
        ("ftp://ca.example/i.crt", UrlProblem.NOT_HTTP),
        ("file:///etc/passwd", UrlProblem.NOT_HTTP),
        ("ldap://ca.example/cn=x", UrlProblem.NOT_HTTP),
        ("http://ca.example/a b", UrlProblem.MALFORMED),
        ("http://ca.example/\r\nX: y", UrlProblem.MALFORMED),
        ("http://cä.example/", UrlProblem.MALFORMED),
        ("http://ca.example:99999/", UrlProblem.MALFORMED),
        ("http:///nohost", UrlProblem.MALFORMED),
        ("http://bad_host!/", UrlProblem.MALFORMED),
        ("", UrlProblem.MALFORMED),
    ],
)
def test_parse_fetch_url(url: str, parsed: FetchUrl | UrlProblem) -> None:
    assert parse_fetch_url(url) == parsed


def test_redirect_is_read_relative_to_the_hop_it_came_from() -> None:
    base = parse_fetch_url("http://ca.example:81/a/b")
    assert isinstance(base, FetchUrl)
    assert parse_fetch_url("../c", base) == FetchUrl("http", "ca.example", 81, "/c")
    assert parse_fetch_url("//other.example/d", base) == FetchUrl("http", "other.example", 80, "/d")
    assert parse_fetch_url("ftp://x/", base) is UrlProblem.NOT_HTTP


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://alice:s3cret@ca.example/i.crt", "http://ca.example/i.crt"),
        ("ftp://bob:pw@ca.example/i.crt", "ftp://ca.example/i.crt"),
        ("http://bob:pw@ca.example/a b", "http://ca.example/a b"),
        ("http://ca.example:80/", "http://ca.example/"),
    ],
)
def test_display_url_never_shows_credentials(url: str, shown: str) -> None:
    assert display_url(url) == shown
