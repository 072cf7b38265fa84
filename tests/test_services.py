"""Mail and other STARTTLS services (issue 17, item 1), checked through the command line as a user
would run it: ``handshake-doctor check smtp://mail.example:PORT --connect 127.0.0.1 --ca-file
root.pem --json``, against real servers on 127.0.0.1 (aiosmtpd for SMTP; protocol-faithful
servers for FTP, XMPP, LDAP and PostgreSQL; Debian's dovecot and PostgreSQL are in
tests/test_services_daemons.py).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from core.models import CheckOptions, ServiceSource, StarttlsProtocol, Target
from core.request import RequestError, RequestSpec, validate
from core.target import TargetError, TargetProblem, parse_target
from tests.evidence import assert_documented
from tests.pki import DAY, NOW, Issued, Pki
from tests.proxy_servers import have_microsocks, microsocks
from tests.service_servers import (
    RunningService,
    banner_dialog,
    dialog_server,
    ftp_dialog,
    ldap_dialog,
    postgres_dialog,
    smtp_server,
    xmpp_dialog,
)
from tests.sntp_server import SntpServer
from tests.timing import within
from tests.tls_servers import TlsConfig, make_server_context, tls_server

MAIL = "mail.example"


@pytest.fixture(scope="module")
def time_server() -> Iterator[SntpServer]:
    with SntpServer(lifetime=300) as server:
        yield server


def context_for(chain: list[Issued], key: Issued, **kw: Any) -> ssl.SSLContext:
    with tempfile.TemporaryDirectory() as tmp:
        return make_server_context(TlsConfig(chain, key, **kw), Path(tmp))


def check(
    capsys: pytest.CaptureFixture[str], url: str, root_file: Path, *extra: str
) -> tuple[int, dict[str, Any]]:
    args = [
        "check",
        url,
        "--connect",
        "127.0.0.1",
        "--ca-file",
        str(root_file),
        "--json",
        "--portal-url",
        "none",
        "--timeout",
        "3",
        *extra,
    ]
    code = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    report = json.loads(out.out)
    assert_documented(report["findings"])
    return code, report


def loopback_smtp(port: int, timeout: float) -> tuple[Target, CheckOptions]:
    """The engine's input for a check of the SMTP server on 127.0.0.1:``port``, as the form
    would make it: no network time, no portal probe, for tests that call the engine directly."""
    return validate(
        RequestSpec(
            host=f"smtp://{MAIL}:{port}",
            connect="127.0.0.1",
            no_network_time=True,
            portal_url="none",
            timeout=timeout,
        )
    )


def ids(report: dict[str, Any]) -> list[str]:
    return sorted(f["id"] for f in report["findings"])


def stage(report: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in report["stages"] if s["stage"] == name), None)


# --------------------------------------------------------------------------- what the user types


@pytest.mark.parametrize(
    ("typed", "port", "service", "starttls", "source"),
    [
        ("smtp://mail.example", 25, "smtp", "smtp", "scheme"),
        ("smtp://mail.example:587", 587, "smtp", "smtp", "scheme"),
        ("smtps://mail.example", 465, "smtps", None, "scheme"),
        ("imap://mail.example", 143, "imap", "imap", "scheme"),
        ("imaps://mail.example", 993, "imaps", None, "scheme"),
        ("pop3://mail.example", 110, "pop3", "pop3", "scheme"),
        ("pop3s://mail.example", 995, "pop3s", None, "scheme"),
        ("ftp://files.example", 21, "ftp", "ftp", "scheme"),
        ("xmpp://chat.example", 5222, "xmpp", "xmpp", "scheme"),
        ("ldap://dir.example", 389, "ldap", "ldap", "scheme"),
        ("ldaps://dir.example", 636, "ldaps", None, "scheme"),
        ("postgres://db.example", 5432, "postgres", "postgres", "scheme"),
        ("postgresql://user@db.example:6432/app", 6432, "postgres", "postgres", "scheme"),
        ("mail.example.com:587", 587, "smtp", "smtp", "port"),
        ("mail.example.com:993", 993, "imaps", None, "port"),
        ("dir.example:389", 389, "ldap", "ldap", "port"),
        ("example.com", 443, None, None, None),
        ("https://example.com:587", 587, None, None, None),
    ],
)
def test_service_addresses(
    typed: str, port: int, service: str | None, starttls: str | None, source: str | None
) -> None:
    target = parse_target(typed)
    assert target.port == port
    assert target.service == service
    assert (target.starttls.value if target.starttls else None) == starttls
    assert (target.service_source.value if target.service_source else None) == source


def test_starttls_option_takes_a_plain_host_and_the_protocols_port() -> None:
    target, _ = validate(RequestSpec(host="mx.example", starttls="smtp"))
    assert (target.port, target.starttls, target.service_source) == (
        25,
        StarttlsProtocol.SMTP,
        ServiceSource.OPTION,
    )
    target, _ = validate(RequestSpec(host="mx.example:2525", starttls="SMTP"))
    assert target.port == 2525 and target.starttls is StarttlsProtocol.SMTP
    # The same protocol twice is no conflict.
    assert validate(RequestSpec(host="smtp://mx.example", starttls="smtp"))[0].port == 25


@pytest.mark.parametrize(
    ("host", "starttls", "kind"),
    [
        ("mx.example", "smtpx", TargetProblem.UNKNOWN_STARTTLS),
        ("imap://mx.example", "smtp", TargetProblem.STARTTLS_CONFLICT),
        ("https://mx.example", "smtp", TargetProblem.STARTTLS_CONFLICT),
    ],
)
def test_bad_starttls_requests_name_the_field(
    host: str, starttls: str, kind: TargetProblem
) -> None:
    with pytest.raises(TargetError) as raised:
        parse_target(host, starttls=starttls)
    assert raised.value.kind is kind
    with pytest.raises(RequestError) as request_error:
        validate(RequestSpec(host=host, starttls=starttls))
    assert request_error.value.field == "starttls"


def test_bad_starttls_on_the_command_line_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "mx.example", "--starttls", "gopher\x1b[31m"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "\x1b" not in err
    assert "smtp, imap, pop3, ftp, xmpp, ldap, postgres" in err


# --------------------------------------------------------------------------- SMTP (aiosmtpd)


def test_smtp_starttls_good_server(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, time_server: SntpServer
) -> None:
    leaf = pki.leaf([MAIL])
    with smtp_server(context_for([leaf, pki.intermediate], leaf)) as smtp:
        code, report = check(
            capsys, f"smtp://{MAIL}:{smtp.port}", root_file, "--time-server", time_server.address
        )
        upgrades = smtp.counter.upgrades
    assert code == 0, ids(report)
    assert report["findings"] == []
    assert report["path"]["starttls"] == "smtp"
    assert report["handshake"]["ok"] and report["handshake"]["protocol"] == "TLSv1.3"
    starttls = stage(report, "starttls")
    assert starttls is not None and starttls["status"] == "ok"
    names = [s["stage"] for s in report["stages"]]
    assert names.index("connect") < names.index("starttls") < names.index("handshake")
    service = report["service"]
    assert service["name"] == "smtp" and service["source"] == "scheme"
    exchange = service["starttls"]
    assert exchange["ok"] and exchange["banner"].startswith("220 ")
    assert "STARTTLS" in exchange["capabilities"]
    assert exchange["reply"].startswith("220")
    said = [(s["direction"], s["text"]) for s in exchange["steps"]]
    assert ("client", "EHLO handshake-doctor.invalid") in said and ("client", "STARTTLS") in said
    # The clock comes from NTP: a mail server is never sent HTTP's HEAD / for a Date: header.
    assert report["clock"]["reference"] == "ntp"
    # The enumeration ran, each of its connections with its own STARTTLS exchange.
    assert report["protocols"]["TLSv1.3"] is True and report["protocols"]["TLSv1.2"] is True
    assert report["protocols"]["TLSv1.0"] is False
    assert upgrades >= 10


def test_well_known_port_infers_smtp_and_says_so(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """``mail.example:587`` with no scheme: SMTP is inferred from the port and the report says
    so. The server listens elsewhere; ``--connect`` sends the connection there."""
    leaf = pki.leaf([MAIL])
    with smtp_server(context_for([leaf, pki.intermediate], leaf)) as smtp:
        code = main(
            [
                "check",
                f"{MAIL}:587",
                "--connect",
                f"127.0.0.1:{smtp.port}",
                "--ca-file",
                str(root_file),
                "--quick",
                "--no-network-time",
                "--portal-url",
                "none",
                "--timeout",
                "3",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Port 587 is the usual port of SMTP" in out
    assert "starttls" in out and "SMTP STARTTLS accepted" in out
    assert "S: 220 " in out and "C: STARTTLS" in out


def test_tls12_only_mail_server_is_enumerated_through_starttls(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf([MAIL])
    ctx = context_for(
        [leaf, pki.intermediate],
        leaf,
        min_version=ssl.TLSVersion.TLSv1_2,
        max_version=ssl.TLSVersion.TLSv1_2,
    )
    with smtp_server(ctx) as smtp:
        code, report = check(capsys, f"smtp://{MAIL}:{smtp.port}", root_file, "--no-network-time")
    assert code == 0
    assert report["handshake"]["protocol"] == "TLSv1.2"
    assert report["protocols"]["TLSv1.2"] is True
    assert report["protocols"]["TLSv1.3"] is False
    assert report["ciphers"]["TLSv1.2"], "cipher suites enumerated through STARTTLS"


def _chain_for(situation: str, pki: Pki) -> tuple[list[Issued], Issued, str]:
    """The certificate problems the HTTPS check names, made for mail.example."""
    if situation == "expired":
        leaf = pki.leaf([MAIL], not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
        return [leaf, pki.intermediate], leaf, MAIL
    if situation == "wrong-name":
        leaf = pki.leaf(["smtp.other.example"])
        return [leaf, pki.intermediate], leaf, MAIL
    if situation == "untrusted":
        stranger = Pki()
        leaf = stranger.leaf([MAIL])
        return [leaf, stranger.intermediate], leaf, MAIL
    if situation == "missing-intermediate":
        leaf = pki.leaf([MAIL])
        return [leaf], leaf, MAIL
    raise ValueError(situation)


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("expired", ["cert-expired"]),
        ("wrong-name", ["hostname-mismatch"]),
        ("untrusted", ["untrusted-root"]),
        ("missing-intermediate", ["incomplete-chain"]),
    ],
)
def test_smtp_names_the_same_certificate_causes_as_https(
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    root_file: Path,
    time_server: SntpServer,
    situation: str,
    expected: list[str],
) -> None:
    """The issue's "Done when": the same certificate problem behind STARTTLS and behind HTTPS
    gives the same finding IDs (both with the same NTP clock reference)."""
    chain, key, host = _chain_for(situation, pki)
    extra = ("--time-server", time_server.address, "--quick")
    with tls_server(TlsConfig(chain, key)) as https:
        https_code, https_report = check(capsys, f"https://{host}:{https.port}", root_file, *extra)
    with smtp_server(context_for(chain, key)) as smtp:
        smtp_code, smtp_report = check(capsys, f"smtp://{host}:{smtp.port}", root_file, *extra)
    assert ids(https_report) == expected
    assert ids(smtp_report) == ids(https_report)
    assert smtp_code == https_code == 1
    assert smtp_report["path"]["starttls"] == "smtp" and https_report["path"]["starttls"] is None
    if situation == "wrong-name":
        # The name checked is the one typed (the mail server's), and the mail-app settings are
        # the first fix offered for a mail server.
        finding = smtp_report["findings"][0]
        assert finding["fixes"][0] == "configure-mail-client"
        assert "configure-mail-client" not in https_report["findings"][0]["fixes"]


def test_smtp_without_starttls_is_starttls_unsupported(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    with smtp_server(None) as smtp:
        code, report = check(capsys, f"smtp://{MAIL}:{smtp.port}", root_file, "--no-network-time")
    assert code == 1
    assert ids(report) == ["starttls-unsupported"]
    finding = report["findings"][0]
    ev = finding["evidence"]
    assert ev["protocol"] == "SMTP" and ev["port"] == smtp.port
    assert "STARTTLS" not in ev["capabilities"] and "8BITMIME" in ev["capabilities"]
    assert ev["banner"].startswith("220 ")
    assert ev["try_instead"] == f"smtps://{MAIL}:465"
    assert finding["fixes"][0] == "configure-mail-client"
    assert stage(report, "starttls")["status"] == "failed"  # type: ignore[index]
    assert stage(report, "handshake")["status"] == "skipped"  # type: ignore[index]
    assert report["handshake"]["ok"] is False and report["certificates"] == []


def test_smtp_that_refuses_starttls_is_starttls_refused(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf([MAIL])
    with smtp_server(context_for([leaf, pki.intermediate], leaf), refuse=True) as smtp:
        code, report = check(capsys, f"smtp://{MAIL}:{smtp.port}", root_file, "--no-network-time")
    assert code == 1
    assert ids(report) == ["starttls-refused"]
    finding = report["findings"][0]
    assert finding["evidence"]["reply"] == "454 4.7.0 TLS not available due to local problem"
    assert "STARTTLS" in finding["evidence"]["capabilities"]
    assert "454 4.7.0" in finding["detail"]
    assert finding["fixes"][0] == "contact-site-owner"


# --------------------------------------------------------------------------- greetings gone wrong


@contextlib.contextmanager
def raw_service(payload: bytes, silent_for: float = 0.0) -> Iterator[RunningService]:
    with dialog_server(banner_dialog(payload, then_silent=silent_for), None) as server:
        yield server


def timed_smtp_check(
    capsys: pytest.CaptureFixture[str], port: int, root_file: Path, *extra: str
) -> tuple[float, int, dict[str, Any]]:
    """How long a check of the SMTP server on ``port`` took, its exit code and its report: the
    tests of servers that stall or babble bound the time as well as the verdict."""
    started = time.monotonic()
    code, report = check(capsys, f"smtp://{MAIL}:{port}", root_file, "--no-network-time", *extra)
    return time.monotonic() - started, code, report


def test_silent_greeting_ends_within_the_timeout(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    """A server that says nothing (an implicit-TLS port asked for STARTTLS does exactly that)."""
    with raw_service(b"", silent_for=10) as server:
        took, code, report = timed_smtp_check(capsys, server.port, root_file, "--timeout", "1")
    assert took < within(3.5)
    assert code == 1
    assert ids(report) == ["handshake-timeout"]
    detail = report["findings"][0]["evidence"]["detail"]
    assert detail.startswith("SMTP: no greeting (a server that expects TLS at once")


@pytest.mark.parametrize(
    "payload",
    [
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        b"\x00\xff\x1b[31mgarbage\x07\r\n",
        b"220" + b"x" * 20000,
    ],
)
def test_garbage_greeting_is_not_the_service(
    capsys: pytest.CaptureFixture[str], root_file: Path, payload: bytes
) -> None:
    with raw_service(payload, silent_for=5) as server:
        took, code, report = timed_smtp_check(capsys, server.port, root_file)
    assert took < within(4)
    assert code == 1
    assert ids(report) == ["not-tls"]
    shown = report["findings"][0]["evidence"]["first_bytes"]
    assert "\x1b" not in shown and "\x00" not in shown
    if payload.startswith(b"HTTP"):
        assert report["findings"][0]["evidence"]["looks_like"] == "HTTP"


def test_greeting_then_hang_up_is_connection_reset(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    with raw_service(b"* OK IMAP ready\r\n") as server:
        code, report = check(capsys, f"imap://{MAIL}:{server.port}", root_file, "--no-network-time")
    assert code == 1
    assert ids(report) == ["connection-reset"]
    assert "IMAP" in report["findings"][0]["evidence"]["stage"]


# --------------------------------------------------------------------------- FTP, XMPP, LDAP, PG


def _good(pki: Pki, name: str) -> ssl.SSLContext:
    leaf = pki.leaf([name])
    return context_for([leaf, pki.intermediate], leaf)


@pytest.mark.parametrize(
    ("scheme", "name", "dialog", "first_client_line"),
    [
        ("ftp", "files.example", ftp_dialog(), "FEAT"),
        ("xmpp", "chat.example", xmpp_dialog(), "<?xml version='1.0'?><stream:stream"),
        ("ldap", "dir.example", ldap_dialog(), "ExtendedRequest 1.3.6.1.4.1.1466.20037"),
        ("postgres", "db.example", postgres_dialog(), "SSLRequest"),
    ],
)
def test_other_services_upgrade_and_verify(
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    root_file: Path,
    scheme: str,
    name: str,
    dialog: Any,
    first_client_line: str,
) -> None:
    with dialog_server(dialog, _good(pki, name)) as server:
        code, report = check(
            capsys, f"{scheme}://{name}:{server.port}", root_file, "--no-network-time"
        )
        upgrades, handshakes = server.counter.upgrades, server.counter.handshakes
    assert code == 0, report["findings"]
    assert report["findings"] == [] or ids(report) == ["clock-unverified"]
    assert report["path"]["starttls"] == scheme
    assert report["certificates"][0]["subject"] == f"CN={name}"
    client_lines = [
        s["text"] for s in report["service"]["starttls"]["steps"] if s["direction"] == "client"
    ]
    assert any(line.startswith(first_client_line) for line in client_lines)
    assert report["protocols"]["TLSv1.3"] is True
    # Every prober connection did its own exchange before its ClientHello.
    assert upgrades >= 10 and handshakes >= 1


@pytest.mark.parametrize(
    ("scheme", "dialog", "expected", "reply_part"),
    [
        ("ftp", ftp_dialog(offer=False), "starttls-unsupported", None),
        ("xmpp", xmpp_dialog(offer=False), "starttls-unsupported", None),
        ("xmpp", xmpp_dialog(error=True), "starttls-refused", "host-unknown"),
        ("ldap", ldap_dialog(result=2), "starttls-unsupported", "protocolError"),
        (
            "ldap",
            ldap_dialog(result=52, message=b"TLS not configured"),
            "starttls-refused",
            "unavailable",
        ),
        ("postgres", postgres_dialog(accept=False), "starttls-unsupported", "N"),
    ],
)
def test_other_services_that_do_not_upgrade(
    capsys: pytest.CaptureFixture[str],
    root_file: Path,
    scheme: str,
    dialog: Any,
    expected: str,
    reply_part: str | None,
) -> None:
    with dialog_server(dialog, None) as server:
        code, report = check(
            capsys, f"{scheme}://svc.example:{server.port}", root_file, "--no-network-time"
        )
    assert code == 1
    assert ids(report) == [expected]
    if reply_part is not None:
        assert reply_part in report["findings"][0]["evidence"]["reply"]


# --------------------------------------------------------------------------- path and cancel


@pytest.mark.skipif(not have_microsocks(), reason="microsocks is not installed")
def test_smtp_through_a_socks_proxy_upgrades_every_connection(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """Through a real SOCKS5 proxy (microsocks) the exchange runs inside the tunnel, for the
    handshake and for each probe of the enumeration alike."""
    leaf = pki.leaf([MAIL])
    with smtp_server(context_for([leaf, pki.intermediate], leaf)) as smtp, microsocks() as port:
        code, report = check(
            capsys,
            f"smtp://{MAIL}:{smtp.port}",
            root_file,
            "--no-network-time",
            "--proxy",
            f"socks5://127.0.0.1:{port}",
        )
        upgrades = smtp.counter.upgrades
    assert code == 0, ids(report)
    names = [s["stage"] for s in report["stages"]]
    assert names.index("proxy") < names.index("starttls") < names.index("handshake")
    assert report["path"]["proxy"] == f"socks5://127.0.0.1:{port}"
    assert report["path"]["starttls"] == "smtp"
    assert report["protocols"]["TLSv1.3"] is True
    assert upgrades >= 10


def test_cancel_during_a_silent_greeting(root_file: Path) -> None:
    """Cancel holds while the check waits for a greeting that never comes."""
    import threading

    from core.budget import Budget, Cancelled
    from core.diagnose import run_check

    with raw_service(b"", silent_for=10) as server:
        target, options = loopback_smtp(server.port, timeout=8.0)
        budget = Budget(8.0)
        threading.Timer(0.3, budget.cancel_event.set).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            run_check(target, options, budget=budget)
        took = time.monotonic() - started
    assert took < within(1.5)


def test_implicit_tls_services_get_no_http_probe(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """``imaps://`` is TLS from the first byte: no STARTTLS step, and no HTTP ``HEAD /`` for a
    Date: header (a mail server would take it for a command), so without NTP the clock has no
    reference, where the same server checked as a web site gives its Date:."""
    leaf = pki.leaf([MAIL])
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        _, imaps = check(capsys, f"imaps://{MAIL}:{server.port}", root_file, "--no-network-time")
        _, https = check(capsys, f"https://{MAIL}:{server.port}", root_file, "--no-network-time")
    assert imaps["service"]["name"] == "imaps" and imaps["service"]["starttls"] is None
    assert imaps["path"]["starttls"] is None
    assert stage(imaps, "starttls") is None
    assert imaps["handshake"]["ok"]
    assert imaps["clock"]["reference"] == "none"
    assert https["clock"]["reference"] == "http-date"
    assert https["service"] is None
    tried = next(f for f in imaps["findings"] if f["id"] == "clock-unverified")["evidence"]["tried"]
    assert "HTTP Date: not asked (not a web server)" in tried


def _hostile_smtp(conn: Any, counter: Any) -> bool:
    from tests.service_servers import _readline

    conn.sendall("220 <b>mail</b> \u202eevil\x1b[31m ESMTP\r\n".encode())
    _readline(conn)
    conn.sendall(b"250-mail.example\r\n250-<i>PIPELINING</i>\r\n250 SIZE 1000\r\n")
    _readline(conn)
    return False


def test_hostile_greeting_is_data_in_every_renderer(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    """A greeting with markup, a bidirectional override and a terminal escape: kept as the
    evidence, escaped in the terminal, the report's HTML and the JSON."""
    from core.diagnose import run_check
    from core.render.report_html import build_report_html
    from core.render.text import render_text

    with dialog_server(_hostile_smtp, None) as server:
        target, options = loopback_smtp(server.port, timeout=3.0)
        report = run_check(target, options)
    assert [f.id.value for f in report.findings] == ["starttls-unsupported"]
    assert report.findings[0].evidence["banner"] == "220 <b>mail</b> \u202eevil\x1b[31m ESMTP"
    text = render_text(report)
    assert "\x1b" not in text and "\u202e" not in text and "S: 220 <b>mail</b>" in text
    html = build_report_html(report).html
    assert "<b>mail</b>" not in html and "&lt;b&gt;mail&lt;/b&gt;" in html
    assert "<i>PIPELINING</i>" not in html and "\x1b" not in html and "\u202e" not in html
    assert "SMTP before TLS" in html


def test_ticket_summary_names_the_starttls_outcome(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    with smtp_server(None) as smtp:
        args = ["check", f"smtp://{MAIL}:{smtp.port}", "--connect", "127.0.0.1", "--summary"]
        args += ["--ca-file", str(root_file), "--no-network-time", "--portal-url", "none"]
        code = main(args)
    out = capsys.readouterr().out
    assert code == 1
    assert "Service: SMTP STARTTLS failed: STARTTLS is not among the EHLO extensions" in out
    assert "Cause: The SMTP server at mail.example port" in out
    assert "First step: Set the server name, port and security setting in your app" in out


def test_old_protocol_mail_server_is_named_like_an_old_web_server(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, time_server: SntpServer
) -> None:
    """A TLS 1.0-only server: this computer's client refuses it, and the permissive retry and
    the enumeration (each through its own STARTTLS) name the cause as for HTTPS."""
    import warnings

    leaf = pki.leaf([MAIL])
    kw: dict[str, Any] = {
        "min_version": ssl.TLSVersion.TLSv1,
        "max_version": ssl.TLSVersion.TLSv1,
        "ciphers": "DEFAULT:@SECLEVEL=0",
    }
    extra = ("--time-server", time_server.address)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with tls_server(TlsConfig([leaf, pki.intermediate], leaf, **kw)) as https:
            _, https_report = check(capsys, f"https://{MAIL}:{https.port}", root_file, *extra)
        with smtp_server(context_for([leaf, pki.intermediate], leaf, **kw)) as smtp:
            _, smtp_report = check(capsys, f"smtp://{MAIL}:{smtp.port}", root_file, *extra)
    assert "no-shared-protocol" in ids(https_report)
    assert ids(smtp_report) == ids(https_report)
    assert smtp_report["protocols"] == https_report["protocols"]
    assert smtp_report["protocols"]["TLSv1.0"] is True


def _dripping_greeting(conn: Any, counter: Any) -> bool:
    """A multi-line greeting that never ends, a line every 50 ms: bytes keep coming, so only a
    deadline for the whole exchange (not one per read) ends it."""
    conn.settimeout(0.2)
    for _ in range(400):
        try:
            conn.sendall(b"220-still greeting\r\n")
        except OSError:
            return False
        time.sleep(0.05)
    return False


def test_a_greeting_that_never_ends_is_bounded(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    with dialog_server(_dripping_greeting, None) as server:
        took, code, report = timed_smtp_check(capsys, server.port, root_file, "--timeout", "1")
    assert took < within(3)
    assert code == 1
    assert ids(report) == ["handshake-timeout"]
    assert report["service"]["starttls"]["failure"] == "silent"
    detail = report["findings"][0]["evidence"]["detail"]
    assert detail == "SMTP: the server's reply did not end"


def test_smtp_over_ipv6_loopback(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """An IPv6 address typed as the server: no SNI, and the certificate checked for the
    address (its IP SAN), the STARTTLS exchange the same."""
    leaf = pki.leaf(["::1"])
    args = ["--json", "--ca-file", str(root_file), "--no-network-time", "--portal-url", "none"]
    with smtp_server(context_for([leaf, pki.intermediate], leaf), host="::1") as smtp:
        code = main(["check", f"smtp://[::1]:{smtp.port}", *args, "--timeout", "3", "--quick"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, ids(report)
    assert report["target"]["sni"] == "" and report["target"]["host"] == "::1"
    assert report["path"]["starttls"] == "smtp"
    assert report["handshake"]["ok"] and report["certificates"][0]["san"] == ["::1"]
