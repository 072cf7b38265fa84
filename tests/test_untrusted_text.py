"""Strangers' text is data. Certificate subjects and names, and a server's own bytes, carrying
HTML, Qt rich text, ANSI escapes, a right-to-left override and 10,000 characters, are shown
literally or made visible, and never act: in the terminal report, the JSON, the ticket summary,
``inspect``, the PDF's HTML and the PDF itself. (The window has its own test in
tests/test_gui_window.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from core.diagnose import run_check
from core.models import CheckOptions, CheckReport, Target
from core.render.report_html import build_report_html
from core.untrusted import BIDI_CONTROLS
from tests.cli_args import check_args, run_app
from tests.hostile_servers import hostile_chain, hostile_name
from tests.pki import Issued
from tests.tls_servers import TlsConfig, banner, raw_server, tls_server

MARKUP = '<b>bold</b><img src="file:///etc/passwd"><a href="http://evil.test/">click</a>'
QT_RICH = "<qt><font color=red size=7>RED</font></qt>"
ANSI = "\x1b[2J\x1b[31mred\x1b]0;window title\x07\x1b[0m"
RTL = "invoice\u202efdp.exe"
LONG = "L" * 10_000
HOSTILE = f"{MARKUP} {QT_RICH} {ANSI} {RTL} {LONG}"
HOSTILE_SANS = ["a\x1b[31m.evil.test", "<i>x</i>.evil.test"]
#: How names are shown everywhere: RFC 4514, which quotes < > " with a backslash.
SUBJECT = hostile_name(HOSTILE).rfc4514_string()
ROOT_SUBJECT = hostile_name("Root " + HOSTILE).rfc4514_string()


@pytest.fixture(scope="module")
def chain() -> tuple[Issued, Issued]:
    return hostile_chain(HOSTILE, HOSTILE_SANS)


@pytest.fixture(scope="module")
def server(chain: tuple[Issued, Issued]) -> Iterator[str]:
    root, leaf = chain
    with tls_server(TlsConfig([leaf, root], leaf), lifetime=120) as running:
        yield running.address


def _check(capsys: pytest.CaptureFixture[str], server: str, *extra: str) -> tuple[int, str]:
    code = main(check_args(server, None, *extra))
    out = capsys.readouterr()
    assert out.err == ""
    return code, out.out


def assert_inert_for_a_terminal(text: str, *, longest_line: int) -> None:
    """No character that a terminal would act on, none that reorders, no endless lines."""
    for ch in text:
        assert ch == "\n" or (ch.isprintable() and ch not in BIDI_CONTROLS), repr(ch)
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= longest_line


def test_terminal_report(capsys: pytest.CaptureFixture[str], server: str) -> None:
    code, out = _check(capsys, server, "--no-color")
    assert code == 1
    assert "untrusted-root" in out
    assert_inert_for_a_terminal(out, longest_line=2_500)
    assert "\\<b\\>bold\\</b\\>" in out, "markup is text in a terminal (RFC 4514 quoted)"
    assert "\\x1b[2J" in out and "\\u202e" in out, "escapes and overrides are made visible"
    assert "more characters)" in out, "10,000 characters are cut, and say so"
    assert len(out) < 40_000


def test_terminal_report_with_colour_is_still_inert(
    capsys: pytest.CaptureFixture[str], server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With colour on, the only escapes are our own colour codes: none from the certificate."""
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    import core.render.text as text_renderer

    report = _report(server)
    out = text_renderer.render_text(report, colour=True)
    ours = {"\x1b[36m", "\x1b[33m", "\x1b[31m", "\x1b[1;31m", "\x1b[32m", "\x1b[0m"}
    stripped = out
    for code in ours:
        stripped = stripped.replace(code, "")
    assert "\x1b" not in stripped
    assert "\u202e" not in out


def test_json_keeps_the_text_exactly_and_escapes_it(
    capsys: pytest.CaptureFixture[str], server: str
) -> None:
    _, out = _check(capsys, server, "--json")
    assert out.isascii(), "every stranger's character is a JSON escape"
    assert all(ch == "\n" or ch.isprintable() for ch in out)
    report: dict[str, Any] = json.loads(out)
    leaf, root = report["certificates"][0], report["certificates"][1]
    assert leaf["subject"] == SUBJECT, "JSON is data: the exact text, for programs"
    assert root["subject"] == ROOT_SUBJECT
    assert set(HOSTILE_SANS) <= set(leaf["san"])
    finding = next(f for f in report["findings"] if f["id"] == "untrusted-root")
    assert finding["evidence"]["root_subject"] == ROOT_SUBJECT


def test_ticket_summary(capsys: pytest.CaptureFixture[str], server: str) -> None:
    _, out = _check(capsys, server, "--summary")
    lines = out.splitlines()
    assert len(lines) <= 15
    assert_inert_for_a_terminal(out, longest_line=500)
    cause = next(line for line in lines if line.startswith("Cause: "))
    assert "\\<b\\>bold\\</b\\>" in cause and "\\x1b" in cause


def test_inspect_text_and_json(
    capsys: pytest.CaptureFixture[str], chain: tuple[Issued, Issued], tmp_path: Path
) -> None:
    root, leaf = chain
    path = tmp_path / "hostile.pem"
    path.write_bytes(leaf.pem + root.pem)
    code = main(["inspect", str(path), "--host", "localhost"])
    out = capsys.readouterr()
    assert code == 1 and out.err == ""
    assert_inert_for_a_terminal(out.out, longest_line=2_500)
    assert "\\u202e" in out.out
    main(["inspect", str(path), "--host", "localhost", "--json"])
    raw = capsys.readouterr().out
    assert raw.isascii()
    assert json.loads(raw)["certificates"][0]["subject"] == SUBJECT


def test_server_bytes_in_a_not_tls_answer(capsys: pytest.CaptureFixture[str]) -> None:
    """The first bytes of a non-TLS answer are evidence: shown, escaped, never executed."""
    hostile_banner = "220 <b>mail</b> \x1b[2J\x1b]0;pwned\x07 \u202eevil\r\n".encode()
    with raw_server(banner(hostile_banner)) as running:
        code, out = _check(capsys, running.address, "--no-color")
        _, summary = _check(capsys, running.address, "--summary")
        _, raw = _check(capsys, running.address, "--json")
    assert code == 1 and "not-tls" in out
    for text in (out, summary):
        assert_inert_for_a_terminal(text, longest_line=700)
    assert "<b>mail</b>" in out and "\\x1b[2J" in out and "\\xe2\\x80\\xae" in out
    evidence = json.loads(raw)["findings"][0]["evidence"]
    assert evidence["first_bytes"].isprintable() and "\\x1b" in evidence["first_bytes"]


# --------------------------------------------------------------------------- the PDF


def _report(server: str) -> CheckReport:
    host, port = server.rsplit(":", 1)
    return run_check(
        Target("localhost", 443, host, int(port), "localhost"),
        CheckOptions(no_network_time=True, quick=True, timeout=3),
    )


def test_report_html_escapes_every_strangers_string(server: str) -> None:
    document = build_report_html(_report(server))
    html = document.html
    for raw in ("<b>bold</b>", "<img", '<a href="http://evil', "<qt>", "<font", "<i>x</i>"):
        assert raw not in html, raw
    assert "\\&lt;b\\&gt;bold\\&lt;/b\\&gt;" in html
    assert "\x1b" not in html and not any(ch in BIDI_CONTROLS for ch in html)
    assert "\\u202e" in html
    for header in (document.title, document.header_left, document.header_right):
        assert "\x1b" not in header and not any(ch in BIDI_CONTROLS for ch in header)


def test_pdf_shows_the_markup_as_text(server: str, tmp_path: Path) -> None:
    out_file = tmp_path / "hostile.pdf"
    result = run_app("report", *check_args(server, None, "-o", str(out_file))[1:])
    assert result.returncode == 1, result.stderr
    try:
        text = subprocess.run(
            ["pdftotext", str(out_file), "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except FileNotFoundError:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    flat = " ".join(text.split())
    assert "\\<b\\>bold\\</b\\>" in flat, "markup from a certificate is printed as text"
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\u202e" in flat or "\\u202e" in text.replace("\n", "")


def test_a_real_terminal_gets_no_library_warnings(
    server: str, chain: tuple[Issued, Issued], tmp_path: Path
) -> None:
    """cryptography warns about a 10,000-character name on every read; a user's terminal
    must get the report, not those warnings (HANDSHAKE_DOCTOR_DEBUG=1 shows them)."""
    root, leaf = chain
    path = tmp_path / "hostile.pem"
    path.write_bytes(leaf.pem + root.pem)
    env = {k: v for k, v in os.environ.items() if k != "HANDSHAKE_DOCTOR_DEBUG"}
    commands = [
        ["check", "localhost", "--connect", server, "--no-network-time", "--quick", "--summary"],
        ["inspect", str(path)],
    ]
    for args in commands:
        result = subprocess.run(
            [sys.executable, "-m", "handshake_doctor", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert result.returncode == 1
        assert result.stderr == "", result.stderr
        assert_inert_for_a_terminal(result.stdout, longest_line=2_500)
