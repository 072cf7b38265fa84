"""Issue 8 in the window: whatever is pasted into the host field gets a message next to the
field (never a dialog, however often Enter is pressed); a broken server's cause reads as in the
terminal; a bug in one check is an internal-error finding and the window stays alive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from core.models import FindingId
from core.request import RequestSpec
from gui.window import MainWindow
from tests import hostile_servers as hostile
from tests.gui_checks import press_enter_and_wait
from tests.pki import Pki
from tests.tls_servers import TlsConfig, raw_server, tls_server

CHECK_TIMEOUT_MS = 15_000

BAD_HOSTS = [
    "",
    "   ",
    "localhost:0",
    "localhost:70000",
    "localhost:-1",
    "localhost:abc",
    "[::1",
    "::1]",
    "https://[::1/path",
    "[example.com]:443",
    "a" * 300 + ".example",
    ".".join(["a" * 60] * 5),
    "exa\x07mple.com",
    "example.com\x1b[31m",
    "\u202egoogle.com",
    "..",
    "-example.com",
    "gopher://example.com/",
    "http://example.com/",
    "exa mple.com",
    "x" * 3000,
]


@pytest.fixture
def window(open_window: Callable[[RequestSpec], MainWindow], root_file: Path) -> MainWindow:
    return open_window(
        RequestSpec(ca_file=str(root_file), no_network_time=True, quick=True, timeout=2.0)
    )


def _no_dialogs() -> None:
    top = [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and isinstance(w, QDialog | QMessageBox)
    ]
    assert not top, f"dialogs opened: {[type(w).__name__ for w in top]}"
    assert QApplication.activeModalWidget() is None


def _check(qtbot: QtBot, win: MainWindow, host: str, connect: str) -> str:
    win.form.connect_to.setText(connect)
    win.form.host.setText(host)
    return press_enter_and_wait(qtbot, win, CHECK_TIMEOUT_MS)


def test_every_bad_host_is_a_message_next_to_the_field(qtbot: QtBot, window: MainWindow) -> None:
    for text in BAD_HOSTS:
        window.form.host.setText(text)
        qtbot.keyClick(window.form.host, Qt.Key.Key_Return)
        assert not window.runner.running, repr(text)
        error = window.form.host_field.error
        assert error.isVisible(), repr(text)
        message = error.text()
        assert message and "\n" not in message, repr(text)
        assert error.textFormat() == Qt.TextFormat.PlainText
        assert all(ch.isprintable() for ch in message), repr(message)
        assert "Traceback" not in message and "Error:" not in message
        _no_dialogs()


def test_pressing_enter_again_and_again_opens_no_dialog(qtbot: QtBot, window: MainWindow) -> None:
    window.form.host.setText("[::1")
    for _ in range(25):
        qtbot.keyClick(window.form.host, Qt.Key.Key_Return)
    qtbot.wait(50)
    _no_dialogs()
    assert window.form.host_field.error.isVisible()
    assert window.isVisible()


def test_a_bad_connect_address_is_explained_under_options(qtbot: QtBot, window: MainWindow) -> None:
    window.form.connect_to.setText("127.0.0.1:99999")
    window.form.host.setText("localhost")
    assert not window.start_check()
    assert "99999" in window.form.fields["connect"].error.text()
    _no_dialogs()


def test_a_random_ca_file_is_explained_not_raised(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(bytes(range(256)) * 8)
    window.form.ca_file.setText(str(junk))
    assert _check(qtbot, window, "localhost", "127.0.0.1:9") == "invalid"
    assert "not a certificate" in window.form.error_text()
    _no_dialogs()


def test_server_hello_then_garbage_reads_as_in_the_terminal(
    qtbot: QtBot, window: MainWindow
) -> None:
    with raw_server(hostile.server_hello_then_garbage) as server:
        assert _check(qtbot, window, "localhost", server.address) == "report"
    report = window.report
    assert report is not None and report.cause is not None
    assert report.cause.id is FindingId.TLS_ALERT
    assert "breaks the TLS rules" in str(report.cause.evidence["alert"])
    _no_dialogs()


def test_a_bug_in_one_check_leaves_the_window_working(
    qtbot: QtBot, window: MainWindow, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected fault")

    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        monkeypatch.setattr("core.diagnose.analyze_chain", broken)
        assert _check(qtbot, window, "localhost", server.address) == "report"
        report = window.report
        assert report is not None
        errors = [f for f in report.findings if f.id is FindingId.INTERNAL_ERROR]
        assert [f.evidence["check"] for f in errors] == ["certificates"]
        assert "Traceback" in str(errors[0].evidence["details"]), "details to copy"
        assert report.handshake is not None and report.handshake.ok
        _no_dialogs()
        monkeypatch.undo()
        assert _check(qtbot, window, "localhost", server.address) == "report"
    assert window.report is not None
    assert not [f for f in window.report.findings if f.id is FindingId.INTERNAL_ERROR]
    json.dumps([f.id.value for f in window.report.findings])
