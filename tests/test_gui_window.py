"""The window against real TLS servers on 127.0.0.1: type a host, press Enter, read the banner,
the stage list, the checklist. Nothing leaves the machine: every check connects to a loopback
address given under Options, and network time is off (the server's Date header is the clock)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from core.catalogue import load_catalogue
from core.models import FindingId, FixId, StageId, StageStatus
from core.render.json_out import report_dict
from core.render.report_html import build_report_html
from core.render.summary import ticket_summary
from core.render.text import render_text
from core.request import RequestSpec
from core.untrusted import visible
from gui.stage_model import STAGE_ORDER
from gui.window import MainWindow
from tests.gui_checks import press_enter_and_wait
from tests.pki import DAY, NOW, Issued, Pki, make_self_signed
from tests.ports import closed_port
from tests.timing import within
from tests.tls_servers import TlsConfig, raw_server, silent, tls10_only_server, tls_server

CHECK_TIMEOUT_MS = 15_000


@pytest.fixture
def window(open_window: Callable[[RequestSpec], MainWindow], root_file: Path) -> MainWindow:
    return open_window(
        RequestSpec(ca_file=str(root_file), no_network_time=True, quick=True, timeout=2.0)
    )


def type_and_check(qtbot: QtBot, win: MainWindow, host: str, connect: str) -> str:
    """Fill the connect address, type the host, press Enter; return how the check ended."""
    win.form.connect_to.setText(connect)
    win.form.host.clear()
    qtbot.keyClicks(win.form.host, host)
    return press_enter_and_wait(qtbot, win, CHECK_TIMEOUT_MS)


def check_served_leaf(
    qtbot: QtBot, win: MainWindow, pki: Pki, leaf: Issued | None = None, host: str = "localhost"
) -> str:
    """Checks ``host`` on a server on 127.0.0.1 that sends ``leaf`` (by default a good one for
    localhost) with its intermediate, and returns how the check ended: the start of the tests
    of what the window shows and offers once a report is there."""
    leaf = leaf or pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        return type_and_check(qtbot, win, host, server.address)


def fix_ids(win: MainWindow) -> list[FixId]:
    return [card.fix.id for card in win.fixit.cards]


# --------------------------------------------------------------------------- the banner


def _expect(win: MainWindow, finding: FindingId, *words: str) -> None:
    report = win.report
    assert report is not None
    cause = report.cause
    assert cause is not None, "no finding"
    assert cause.id is finding, [f.id for f in report.findings]
    headline = win.banner.headline.text()
    assert headline == visible(load_catalogue().headline(cause), limit=600)
    for word in words:
        assert word in headline


def test_good_site_says_it_works(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    assert check_served_leaf(qtbot, window, pki) == "report"
    assert window.report is not None
    assert window.report.cause is None or window.report.cause.severity.rank < 1
    assert "works" in window.banner.headline.text()
    assert window.stage_model.status(StageId.HANDSHAKE) is StageStatus.OK
    assert window.stage_model.status(StageId.CERTIFICATES) is StageStatus.OK
    assert window.stage_model.status(StageId.PROTOCOLS) is StageStatus.SKIPPED
    assert "the chain is valid" in window.stage_model.summary(StageId.CERTIFICATES)
    assert window.fixit.cards == []
    assert window.handshake.ladder.report is window.report


def test_expired_certificate_blames_the_site_and_lists_its_fixes(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    check_served_leaf(qtbot, window, pki, leaf)
    _expect(window, FindingId.CERT_EXPIRED, "expired", "site owner")
    assert "site owner" in window.banner.subline.text().lower()
    assert fix_ids(window) == [FixId.CONTACT_SITE_OWNER, FixId.RENEW_CERTIFICATE]
    assert window.tabs.tabText(1) == "Fix it (2)"
    assert window.stage_model.status(StageId.CERTIFICATES) is StageStatus.FAILED
    assert "expired" in window.stage_model.summary(StageId.CERTIFICATES)


def test_hostname_mismatch(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    check_served_leaf(qtbot, window, pki, host="other.example")
    _expect(window, FindingId.HOSTNAME_MISMATCH)
    assert FixId.FIX_SERVER_NAME in fix_ids(window)


def test_self_signed(qtbot: QtBot, window: MainWindow) -> None:
    cert = make_self_signed()
    with tls_server(TlsConfig([cert], cert)) as server:
        type_and_check(qtbot, window, "localhost", server.address)
    _expect(window, FindingId.SELF_SIGNED)


def test_untrusted_root(qtbot: QtBot, window: MainWindow) -> None:
    other = Pki()
    leaf = other.leaf()
    with tls_server(TlsConfig([leaf, other.intermediate], leaf)) as server:
        type_and_check(qtbot, window, "localhost", server.address)
    _expect(window, FindingId.UNTRUSTED_ROOT)


def test_refused_connection(qtbot: QtBot, window: MainWindow) -> None:
    type_and_check(qtbot, window, "localhost", f"127.0.0.1:{closed_port()}")
    _expect(window, FindingId.CONNECT_REFUSED, "port")
    assert window.stage_model.status(StageId.CONNECT) is StageStatus.FAILED
    assert window.stage_model.status(StageId.HANDSHAKE) is StageStatus.SKIPPED
    assert FixId.CHECK_PORT_AND_HOST in fix_ids(window)
    assert "No handshake took place" in window.handshake.ladder.accessibleDescription()


def test_handshake_timeout(qtbot: QtBot, window: MainWindow) -> None:
    window.form.timeout.setValue(0.5)
    with raw_server(silent) as server:
        type_and_check(qtbot, window, "localhost", server.address)
    _expect(window, FindingId.HANDSHAKE_TIMEOUT, "never answered")
    assert window.stage_model.status(StageId.HANDSHAKE) is StageStatus.FAILED


def test_client_certificate_required(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf, client_ca=pki.root)) as server:
        type_and_check(qtbot, window, "localhost", server.address)
    _expect(window, FindingId.CLIENT_CERT_REQUIRED)
    assert FixId.PROVIDE_CLIENT_CERTIFICATE in fix_ids(window)
    assert "Alert from the server" in window.handshake.ladder.accessibleDescription()


def test_tls10_only_server_has_no_shared_protocol(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    with tls_server(tls10_only_server(pki)) as server:
        type_and_check(qtbot, window, "localhost", server.address)
    _expect(window, FindingId.NO_SHARED_PROTOCOL)
    assert FixId.ENABLE_MODERN_TLS in fix_ids(window)


# --------------------------------------------------------------------------- running


def test_cancel_stops_a_silent_server_within_a_second(qtbot: QtBot, window: MainWindow) -> None:
    window.form.timeout.setValue(30.0)
    with raw_server(silent) as server:
        window.form.connect_to.setText(server.address)
        qtbot.keyClicks(window.form.host, "localhost")
        qtbot.keyClick(window.form.host, Qt.Key.Key_Return)
        assert window.form.button.text() == "Cancel"
        qtbot.waitUntil(
            lambda: window.stage_model.status(StageId.HANDSHAKE) is StageStatus.RUNNING,
            timeout=5000,
        )
        started = time.monotonic()
        with qtbot.waitSignal(window.checkEnded, timeout=2000) as ended:
            qtbot.mouseClick(window.form.button, Qt.MouseButton.LeftButton)
        took = time.monotonic() - started
        qtbot.waitUntil(lambda: not window.runner.running, timeout=2000)
    assert ended.args == ["cancelled"]
    assert took < within(1.0)
    assert window.form.button.text() == "Check"
    assert "cancelled" in window.banner.headline.text()


def test_closing_during_a_check_cancels_and_waits(qtbot: QtBot, window: MainWindow) -> None:
    window.form.timeout.setValue(30.0)
    with raw_server(silent) as server:
        window.form.connect_to.setText(server.address)
        window.form.host.setText("localhost")
        assert window.start_check()
        qtbot.waitUntil(
            lambda: window.stage_model.status(StageId.HANDSHAKE) is StageStatus.RUNNING,
            timeout=5000,
        )
        started = time.monotonic()
        window.close()
        assert time.monotonic() - started < within(2.0)
    assert not window.runner.running


def test_stage_list_fills_live(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    seen: list[tuple[StageId, StageStatus]] = []
    window.runner.progress.connect(lambda event: seen.append((event.stage, event.status)))
    check_served_leaf(qtbot, window, pki)
    assert (StageId.HANDSHAKE, StageStatus.RUNNING) in seen
    assert (StageId.HANDSHAKE, StageStatus.OK) in seen
    assert seen.index((StageId.RESOLVE, StageStatus.OK)) < seen.index(
        (StageId.HANDSHAKE, StageStatus.OK)
    )
    from gui.stage_model import STAGE_ORDER

    texts = {s: window.stage_model.index(r, 0).data() for r, s in enumerate(STAGE_ORDER)}
    assert texts[StageId.RESOLVE].startswith("✓") and texts[StageId.PROTOCOLS].startswith("—")
    assert window.stages.isRowHidden(STAGE_ORDER.index(StageId.PROXY))


def test_check_again_says_what_changed(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    expired = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    check_served_leaf(qtbot, window, pki, expired)
    assert window.fixit.again.isEnabled()
    fresh = pki.leaf()
    with tls_server(TlsConfig([fresh, pki.intermediate], fresh)) as server:
        window.form.connect_to.setText(server.address)  # the site owner renewed it
        with qtbot.waitSignal(window.checkEnded, timeout=CHECK_TIMEOUT_MS):
            qtbot.mouseClick(window.fixit.again, Qt.MouseButton.LeftButton)
    text = window.fixit.changes.text()
    assert window.fixit.changes.isVisible()
    assert "Fixed: The certificate has expired" in text
    assert window.tabs.currentWidget() is window.fixit


def test_ctrl_r_checks_again_and_ctrl_l_focuses_the_field(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    # Shortcuts go to the active window; under a bare X server (no window manager) a new
    # window is not active until asked.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        type_and_check(qtbot, window, "localhost", server.address)
        window.tabs.setFocus()
        with qtbot.waitSignal(window.checkEnded, timeout=CHECK_TIMEOUT_MS):
            qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    window.tabs.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.form.host.hasFocus()
    assert window.help_action.shortcut().toString() == "F1"
    assert window.export_action.shortcut().toString() == "Ctrl+E"


# --------------------------------------------------------------------------- the form


def test_bad_host_is_explained_next_to_the_field(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.form.host, "http://plain.example/")
    qtbot.keyClick(window.form.host, Qt.Key.Key_Return)
    assert not window.runner.running
    error = window.form.host_field.error
    assert error.isVisible()
    assert "http://" in error.text()
    assert error.textFormat() == Qt.TextFormat.PlainText


def test_missing_ca_file_is_explained_under_options(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.form.ca_file.setText(str(tmp_path / "nope.pem"))
    window.form.host.setText("localhost")
    assert not window.start_check()
    assert window.form.options.isVisible()
    assert "nope.pem" in window.form.fields["ca_file"].error.text()


def test_recent_hosts_are_remembered_but_never_the_password(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    window.form.password.setText("hunter2-secret")
    check_served_leaf(qtbot, window, pki)
    assert window.recent_hosts()[0] == "localhost"
    assert "localhost" in window.form.recent_model.stringList()
    window.settings.sync()
    stored = (tmp_path / "settings.ini").read_text()
    assert "hunter2" not in stored


# --------------------------------------------------------------------------- untrusted text


EVIL = "<b>bold</b><img src=x></table>\x1b[31m"


def test_markup_and_escapes_in_a_certificate_show_literally(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    leaf = pki.leaf(cn=EVIL, not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    check_served_leaf(qtbot, window, pki, leaf)
    shown = "<b>bold</b><img src=x></table>\\x1b[31m"
    window.tabs.setCurrentWidget(window.certificates)
    leaf_index = window.certificates.tree.currentIndex()
    assert shown in leaf_index.data()
    assert shown in window.certificates.name.text()
    assert window.certificates.name.textFormat() == Qt.TextFormat.PlainText
    tip = str(leaf_index.data(Qt.ItemDataRole.ToolTipRole))  # Qt reads tooltips as rich text
    assert "&lt;b" in tip
    assert "<b>" not in tip and "<img" not in tip
    explanation = window.summary.explanation.text()
    assert "bold" in explanation  # "issued to <subject>" in the catalogue's words
    assert window.summary.explanation.textFormat() == Qt.TextFormat.PlainText
    labels = [w for w in window.findChildren(QLabel) if "bold</b>" in w.text()]
    assert labels, "the subject should be on screen somewhere"
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.accessibleName()
        assert "\x1b" not in label.text()
    window.grab()  # and it paints without a warning


# --------------------------------------------------------------------------- menus


def test_copy_summary_puts_the_ticket_summary_on_the_clipboard(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    check_served_leaf(qtbot, window, pki)
    window.copy_action.trigger()
    assert window.report is not None
    assert QGuiApplication.clipboard().text() == ticket_summary(window.report)


def test_export_says_when_the_disk_is_full(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    """Qt's PDF printer is silent on a full disk; the window must not claim a saved report."""
    check_served_leaf(qtbot, window, pki)
    full = tmp_path / "full.pdf"
    full.symlink_to("/dev/full")
    with qtbot.waitSignal(window.exportEnded, timeout=CHECK_TIMEOUT_MS) as ended:
        assert window.export_to(full, redact=False)
    assert ended.args == [False]
    assert window.statusBar().currentMessage() == (
        f"Could not export the report: cannot write {full}: no space left on device"
    )
    unwritable = tmp_path / "no-such-folder" / "report.pdf"
    with qtbot.waitSignal(window.exportEnded, timeout=CHECK_TIMEOUT_MS) as ended:
        assert window.export_to(unwritable, redact=False)
    assert ended.args == [False]
    assert window.statusBar().currentMessage() == (
        f"Could not export the report: cannot write {unwritable}: no such file or directory"
    )
    good = tmp_path / "good.pdf"
    with qtbot.waitSignal(window.exportEnded, timeout=CHECK_TIMEOUT_MS) as ended:
        assert window.export_to(good, redact=False)
    assert ended.args == [True]
    assert good.read_bytes().startswith(b"%PDF-")
    assert window.statusBar().currentMessage() == f"Saved the report to {good}."


def test_export_runs_in_the_background_and_can_be_cancelled(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    """The window keeps handling events while the PDF is written (a timer ticks during the
    export), the status line says so with a Cancel button, and the PDF reads back as text."""
    import shutil
    import subprocess

    from PySide6.QtCore import QTimer

    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        type_and_check(qtbot, window, "localhost", server.address)

    cancelled = tmp_path / "cancelled.pdf"
    with qtbot.waitSignal(window.exportEnded, timeout=CHECK_TIMEOUT_MS) as ended:
        assert window.export_to(cancelled, redact=False)
        assert window.exporting and not window.export_action.isEnabled()
        assert not window.export_to(tmp_path / "second.pdf", redact=False)  # one at a time
        qtbot.mouseClick(window._export_cancel, Qt.MouseButton.LeftButton)
    assert ended.args == [False]
    assert window.statusBar().currentMessage() == "Cancelled: the PDF was not written."
    assert not cancelled.exists()
    assert window._export_cancel.isHidden()

    ticks_during_export: list[bool] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks_during_export.append(window.exporting))
    out = tmp_path / "report.pdf"
    timer.start()
    try:
        with qtbot.waitSignal(window.exportEnded, timeout=CHECK_TIMEOUT_MS) as ended:
            assert window.export_to(out, redact=False)
            assert window.statusBar().currentMessage() == "Writing the PDF report…"
            assert window._export_cancel.isVisible()
    finally:
        timer.stop()
    assert ended.args == [True]
    assert any(ticks_during_export), "the event loop stood still while the PDF was written"
    assert window.export_action.isEnabled() and window._export_cancel.isHidden()
    if shutil.which("pdftotext") is None:
        assert out.read_bytes().startswith(b"%PDF-")
        return
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Handshake Doctor report" in text
    assert "localhost" in text


def test_open_certificate_file_checks_it_offline(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    # A file name is a stranger's text: markup in it is shown as typed, never rendered.
    path = tmp_path / "site <b>x.pem"
    path.write_bytes(leaf.pem + pki.intermediate.pem)
    window.form.host.setText("localhost")
    with qtbot.waitSignal(window.fileShown, timeout=CHECK_TIMEOUT_MS) as shown:
        window.open_certificate_file(path)
    assert window.tabs.currentWidget() is window.certificates
    assert window.certificates.model.rowCount() >= 1
    assert window.certificates.trust_line.text().startswith("Chain accepted by:")
    # No fake report: the window holds the file's own result.
    assert window.report is None
    assert window.inspected is not None and window.inspected.name == path.name
    assert shown.args == [window.inspected.result]
    finding_ids = {f.id for f in window.inspected.result.findings}
    assert FindingId.CERT_EXPIRED in finding_ids
    assert window.summary.model.rowCount() >= 1
    assert window.tabs.tabText(1).startswith("Fix it (")
    assert window.banner.subline.text().endswith(f"checked {path.name} offline")
    assert window.banner.subline.textFormat() == Qt.TextFormat.PlainText
    assert window.statusBar().currentMessage() == f"Checked {path.name} offline."
    # The panes of the network steps say that none ran.
    assert window.handshake.facts.text().startswith("A certificate file has no handshake")
    assert not window.handshake.copy.isEnabled()
    assert window.protocols.note.text().startswith("A certificate file says nothing")
    assert window.clock.verdict.text() == "A certificate file check does not look at the clock."
    for stage in STAGE_ORDER:
        if window.stages.isRowHidden(STAGE_ORDER.index(stage)):
            continue
        ran = stage is StageId.CERTIFICATES
        assert window.stage_model.status(stage) is (StageStatus.OK if ran else StageStatus.SKIPPED)
        assert "checked offline" in window.stage_model.summary(stage)
    # No PDF for a file; Copy gives the findings as ``inspect`` prints them.
    assert not window.export_action.isEnabled()
    assert window.copy_action.isEnabled()
    window.copy_action.trigger()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith(f"NOT VALID: {path.name} for localhost at ")
    assert load_catalogue().title(window.inspected.result.findings[0]) in copied
    assert window.statusBar().currentMessage() == f"Copied what was found in {path.name}."


def test_unreadable_certificate_file_is_one_sentence(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "junk.pem"
    path.write_bytes(b"this is not a certificate")
    window.open_certificate_file(path)
    qtbot.waitUntil(lambda: "not a certificate" in window.banner.headline.text(), timeout=5000)


# --------------------------------------------------------------------------- the checklist


def test_checklist_buttons_and_ticks(qtbot: QtBot, window: MainWindow) -> None:
    from core.catalogue import OsName
    from core.models import Finding, Severity
    from tests.test_gui_support import make_report

    opened: list[object] = []
    window.fixit.open_uri = lambda uri: opened.append(uri) or True
    window.fixit.start_command = lambda argv: opened.append(tuple(argv)) or True
    report = make_report(
        findings=(Finding(FindingId.CLOCK_SKEW, Severity.CRITICAL, fixes=(FixId.SET_CLOCK,)),)
    )
    window._show_report(report)
    window.fixit.os_combo.setCurrentIndex(list(OsName).index(OsName.LINUX))
    card = window.fixit.cards[0]
    assert card.fix.id is FixId.SET_CLOCK
    card.checks[0].setChecked(True)
    from PySide6.QtWidgets import QPushButton

    buttons = {b.text().replace("&&", "&"): b for b in card.findChildren(QPushButton)}
    if OsName.LINUX.value == __import__("core.catalogue").catalogue.current_os().value:
        qtbot.mouseClick(buttons["Open date & time settings"], Qt.MouseButton.LeftButton)
        assert opened == [("gnome-control-center", "datetime")]
    qtbot.mouseClick(
        buttons["Copy the command that syncs the clock now"], Qt.MouseButton.LeftButton
    )
    assert QGuiApplication.clipboard().text() == "sudo timedatectl set-ntp true"
    # Switching the OS shows that OS's steps; the tick on Linux's first step is kept.
    window.fixit.os_combo.setCurrentIndex(list(OsName).index(OsName.WINDOWS))
    windows_steps = load_catalogue().fix(FixId.SET_CLOCK).steps_for(OsName.WINDOWS)
    texts = [label.text() for label in window.fixit.cards[0].findChildren(QLabel)]
    assert windows_steps[0] in texts
    window.fixit.os_combo.setCurrentIndex(list(OsName).index(OsName.LINUX))
    assert window.fixit.cards[0].checks[0].isChecked()


# --------------------------------------------------------------------------- accessibility


def test_every_control_has_an_accessible_name(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QHeaderView,
        QLineEdit,
        QMenuBar,
        QTabBar,
    )

    from core.models import Finding, Severity
    from tests.test_gui_support import make_report

    report = make_report(
        findings=(
            Finding(FindingId.INCOMPLETE_CHAIN, Severity.ERROR, fixes=(FixId.INSTALL_FULL_CHAIN,)),
        )
    )
    window._show_report(report)
    window.form.show_options(True)
    unnamed = []
    for widget in window.findChildren(QWidget):
        parent = widget.parentWidget()
        composite = (
            QAbstractSpinBox | QComboBox | QTabBar | QLineEdit | QAbstractItemView | QMenuBar
        )
        if (
            isinstance(parent, composite)
            or isinstance(widget, QHeaderView)
            or widget.window() is not window
        ):
            continue  # parts of a composite control (which carries the name) or popups
        if isinstance(widget, QAbstractButton):
            name = widget.accessibleName() or widget.text()
        elif isinstance(widget, QLineEdit | QComboBox | QAbstractSpinBox | QAbstractItemView):
            name = widget.accessibleName()
        else:
            continue
        if not name.strip():
            unnamed.append(f"{type(widget).__name__} in {type(parent).__name__}")
    assert unnamed == [], "\n".join(unnamed)


def test_command_line_host_opens_the_window_and_checks_at_once(
    qtbot: QtBot, pki: Pki, root_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QApplication

    import gui.app
    import gui.window

    shown: list[MainWindow] = []
    original_init = gui.window.MainWindow.__init__

    def init(self: MainWindow, **kwargs: object) -> None:
        settings = QSettings(str(tmp_path / "cli.ini"), QSettings.Format.IniFormat)
        original_init(self, settings=settings, **kwargs)  # type: ignore[arg-type]
        shown.append(self)

    def run_until_checked(self: QApplication) -> int:
        qtbot.waitUntil(
            lambda: bool(shown) and shown[0].report is not None, timeout=CHECK_TIMEOUT_MS
        )
        shown[0].close()
        return 0

    monkeypatch.setattr(gui.window.MainWindow, "__init__", init)
    monkeypatch.setattr(QApplication, "exec", run_until_checked)
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        argv = ["localhost", "--connect", server.address, "--ca-file", str(root_file)]
        status = gui.app.main([*argv, "--no-network-time", "--quick", "--timeout", "2"])
    assert status == 0
    window = shown[0]
    assert window.form.host.text() == "localhost"
    assert window.report is not None
    assert window.report.target.connect_address == "127.0.0.1"
    assert "works" in window.banner.headline.text()


def test_dropping_a_certificate_file_checks_it(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    path = tmp_path / "dropped.pem"
    path.write_bytes(pki.leaf().pem + pki.intermediate.pem)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.fileShown, timeout=CHECK_TIMEOUT_MS):
        window.dropEvent(event)
    assert window.inspected is not None and window.inspected.name == "dropped.pem"


def test_about_names_the_versions(window: MainWindow) -> None:
    box = window.about_box()
    text = box.informativeText()
    for name in ("Python", "OpenSSL", "Qt", "cryptography", "certifi"):
        assert name in text
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.deleteLater()


def test_save_pem_writes_the_selected_certificate(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf()
    check_served_leaf(qtbot, window, pki, leaf)
    target = tmp_path / "saved.pem"
    window.certificates.ask_path = lambda suggested: str(target)
    qtbot.mouseClick(window.certificates.save_button, Qt.MouseButton.LeftButton)
    assert target.read_bytes().strip() == leaf.pem.strip()
    window.certificates.save_chain()
    assert target.read_text().count("BEGIN CERTIFICATE") >= 2


def test_banner_follows_a_switch_to_a_dark_palette(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from gui.theme import tone

    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    check_served_leaf(qtbot, window, pki, leaf)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    assert tone(window.report.verdict, light).background.name() in window.banner.styleSheet()  # type: ignore[union-attr]
    dark = QPalette(QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(
            lambda: (
                tone(window.report.verdict, dark).background.name() in window.banner.styleSheet()
            ),  # type: ignore[union-attr]
            timeout=2000,
        )
    finally:
        app.setPalette(light)


def test_client_certificate_from_the_options_is_used(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    from tests.pki import write_chain

    client = pki.leaf(("client",), client=True)
    cert, key = write_chain(tmp_path, "client", [client, pki.intermediate], client)
    window.form.client_cert.setText(str(cert))
    window.form.client_key.setText(str(key))
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf, client_ca=pki.root)) as server:
        type_and_check(qtbot, window, "localhost", server.address)
    assert window.report is not None
    assert FindingId.CLIENT_CERT_REQUIRED not in {f.id for f in window.report.findings}
    assert "works" in window.banner.headline.text()


def test_unusable_client_certificate_is_explained_under_options(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    bogus = tmp_path / "client.pem"
    bogus.write_text("not a certificate")
    window.form.client_cert.setText(str(bogus))
    with raw_server(silent) as server:
        assert type_and_check(qtbot, window, "localhost", server.address) == "invalid"
    assert window.form.options.isVisible()
    assert window.form.fields["client_cert"].error.text()


def test_a_certificate_without_its_key_is_explained_under_client_key(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    from tests.pki import write_chain

    client = pki.leaf(("client",), client=True)
    cert, _ = write_chain(tmp_path, "client", [client], client)  # the key stays in its own file
    window.form.client_cert.setText(str(cert))
    with raw_server(silent) as server:
        assert type_and_check(qtbot, window, "localhost", server.address) == "invalid"
    error = window.form.fields["client_key"].error
    assert error.isVisible()
    assert "Client key field" in error.text()
    assert "--client-key" not in window.form.error_text()
    assert "Checking" not in window.summary.empty.text()  # nothing was checked


# --------------------------------------------------------------------------- starting up


def test_a_deferred_window_paints_the_form_first_and_the_rest_right_after(
    qtbot: QtBot, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, deferred=True)
    qtbot.addWidget(win)
    assert not win.is_ready and not hasattr(win, "tabs")
    with qtbot.waitSignal(win.ready, timeout=5000):
        win.show()
    assert win.tabs.count() == 6 and win.banner.isVisible()
    win.close()


def test_enter_before_the_rest_is_built_still_checks(
    qtbot: QtBot, tmp_path: Path, pki: Pki, root_file: Path
) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    initial = RequestSpec(ca_file=str(root_file), no_network_time=True, quick=True, timeout=2.0)
    win = MainWindow(settings=settings, initial=initial, deferred=True)
    qtbot.addWidget(win)
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        win.form.host.setText("localhost")
        assert not win.is_ready
        win.form.build_options()  # what a click on Options does before the rest is built
        win.form.connect_to.setText(server.address)
        with qtbot.waitSignal(win.checkEnded, timeout=CHECK_TIMEOUT_MS) as ended:
            assert win.start_check()
    assert ended.args == ["report"]
    assert "works" in win.banner.headline.text()
    assert win.form.state().ca_file == str(root_file)  # the initial form was applied too
    win.close()


def test_open_options_keep_their_rows_apart_in_a_short_window(
    qtbot: QtBot, tmp_path: Path, root_file: Path
) -> None:
    """Started with ``HOST --connect ...`` in a window last left small, the Options panel used to
    be squeezed until its three check boxes lay on top of each other; now the results area
    scrolls instead."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    initial = RequestSpec(host="localhost", connect="127.0.0.1:1", ca_file=str(root_file))
    win = MainWindow(settings=settings, initial=initial)
    qtbot.addWidget(win)
    win.resize(1000, 600)
    win.show()
    qtbot.waitExposed(win)
    assert win.form.options.isVisible()
    boxes = [win.form.no_network_time, win.form.quick, win.form.gentle]
    for box in boxes:
        assert box.height() >= box.sizeHint().height(), box.text()
    for upper, lower in itertools.pairwise(boxes):
        assert upper.geometry().bottom() < lower.geometry().top(), (upper.text(), lower.text())
    assert win.form.height() >= win.form.sizeHint().height()
    assert win.results_area.verticalScrollBar().maximum() > 0  # the results scroll instead
    win.close()


# --------------------------------------------------------------------------- one wording


class _StageCells(HTMLParser):
    """The Summary column of the PDF's "What was checked" table, unescaped."""

    def __init__(self) -> None:
        super().__init__()
        self.section = False
        self.row: list[str] = []
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td" and self.section:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        elif tag == "tr" and self.row:
            self.rows.append(self.row)
            self.row = []
        elif tag == "table":
            self.section = False

    def handle_data(self, data: str) -> None:
        if data == "What was checked":
            self.section = True
        elif self.cell is not None:
            self.cell.append(data)


def test_stage_lines_are_the_same_in_the_terminal_the_pdf_and_the_window(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    """One renderer words the steps: what the window lists is what the terminal prints and
    what the PDF tabulates, word for word (here for a connect address, a handshake and an
    expired chain)."""
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        assert type_and_check(qtbot, window, "localhost", server.address) == "report"
    report = window.report
    assert report is not None
    model = window.stage_model
    in_window = [model.index(STAGE_ORDER.index(s.stage), 2).data() for s in report.stages]
    steps = render_text(report).split("Steps:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    in_terminal = [line.split(" ms  ", 1)[1] for line in steps]
    cells = _StageCells()
    cells.feed(build_report_html(report).html)
    in_pdf = [row[3] for row in cells.rows]
    in_json = [s["summary"] for s in report_dict(report)["stages"]]
    assert in_window == in_terminal == in_pdf == in_json
    lines = dict(zip((s.stage for s in report.stages), in_window, strict=True))
    assert lines[StageId.RESOLVE] == "not needed: connecting to 127.0.0.1, the address given"
    assert lines[StageId.CERTIFICATES] == "2 received; not valid: the certificate has expired"
    assert lines[StageId.PROTOCOLS] == "skipped: a quick check"
