"""The "Check several…" dialog against real loopback servers: paste a list, watch the table fill
(in the background, bounded), sort it, open a row in the main window, export CSV and PDF,
cancel, close."""

from __future__ import annotations

import csv
import io
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core.request import RequestSpec
from gui.batch_dialog import (
    CAUSE_COLUMN,
    DAYS_COLUMN,
    TARGET_COLUMN,
    VERDICT_COLUMN,
    BatchDialog,
    BatchModel,
)
from gui.window import MainWindow
from tests.batch_servers import EXPIRED, GOOD, REFUSED, SELF_SIGNED, STUCK, WRONG_NAME, fleet
from tests.pki import Pki
from tests.timing import within
from tests.tls_servers import ConcurrencyGauge, TlsConfig, tls_server

RUN_MS = 30_000
#: Qt's offscreen platform (the tests' display) cannot resize a dialog to its size hints, nor
#: raise a window that is already shown (opening Check several… again does).
pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support propagateSizeHints", "This plugin does not support raise"
)


@pytest.fixture
def window(open_window: Callable[[RequestSpec], MainWindow], root_file: Path) -> MainWindow:
    return open_window(
        RequestSpec(ca_file=str(root_file), no_network_time=True, quick=True, timeout=2.0)
    )


def _column(dialog: BatchDialog, column: int) -> list[str]:
    proxy = dialog.proxy
    return [str(proxy.data(proxy.index(r, column))) for r in range(proxy.rowCount())]


def _run(qtbot: QtBot, dialog: BatchDialog, text: str) -> str:
    dialog.set_list(text)
    with qtbot.waitSignal(dialog.runEnded, timeout=RUN_MS) as ended:
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    return str(ended.args[0])


def test_the_table_fills_sorts_and_opens_rows(
    qtbot: QtBot, window: MainWindow, pki: Pki, qtmodeltester: object
) -> None:
    gauge = ConcurrencyGauge()
    kinds = [GOOD, EXPIRED, WRONG_NAME, SELF_SIGNED, REFUSED, GOOD]
    with fleet(pki, kinds, gauge=gauge) as hosts:
        dialog = window.open_batch_dialog()
        dialog.parallel.setValue(2)
        text = "# mixed\n" + "\n".join(h.line for h in hosts) + "\nlocalhost:99999\n"
        gui_thread = threading.current_thread()
        seen_threads: set[str] = set()
        dialog.model.dataChanged.connect(
            lambda *_: seen_threads.add(threading.current_thread().name)
        )
        assert _run(qtbot, dialog, text) == "done"
    qtmodeltester.check(dialog.model)  # type: ignore[attr-defined]
    # The model is only ever changed on the GUI thread; the checks ran elsewhere, two at once.
    assert seen_threads == {gui_thread.name}
    assert 1 <= gauge.max_servers <= 2
    # In the list's order first: one row per line, the bad line with its number.
    assert _column(dialog, TARGET_COLUMN)[: len(hosts)] == [h.line for h in hosts]
    verdicts = _column(dialog, VERDICT_COLUMN)
    assert verdicts == [h.kind.verdict for h in hosts] + ["bad line"]
    causes = _column(dialog, CAUSE_COLUMN)
    assert causes[-1].startswith("line 8: ") and "99999" in causes[-1]
    assert dialog.status.text() == "6/6 checked, 4 failing; 1 bad line"

    # Sortable: by verdict (worst last ascending), by days left (no leaf last).
    dialog.table.sortByColumn(VERDICT_COLUMN, Qt.SortOrder.AscendingOrder)
    assert _column(dialog, VERDICT_COLUMN)[:2] == ["ok", "ok"]
    dialog.table.sortByColumn(DAYS_COLUMN, Qt.SortOrder.AscendingOrder)
    days = _column(dialog, DAYS_COLUMN)
    numbers = [int(d) for d in days if d]
    assert numbers == sorted(numbers) and numbers[0] < 0  # the expired one first
    assert days[-2:] == ["", ""]  # refused and the bad line: no certificate

    # A row opens its full result in the main window.
    dialog.table.sortByColumn(TARGET_COLUMN, Qt.SortOrder.AscendingOrder)
    expired = next(h for h in hosts if h.kind is EXPIRED)
    row = _column(dialog, TARGET_COLUMN).index(expired.line)
    with qtbot.waitSignal(window.reportShown, timeout=5000) as shown:
        dialog.open_row(row)
    report = shown.args[0]
    assert report.target.port == expired.port
    assert window.report is report
    assert "expired" in window.banner.headline.text().lower()


def test_exports_csv_and_one_pdf_of_the_selected(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    gauge = ConcurrencyGauge()
    with fleet(pki, [GOOD, EXPIRED, REFUSED], gauge=gauge) as hosts:
        dialog = window.open_batch_dialog()
        assert _run(qtbot, dialog, "\n".join(h.line for h in hosts)) == "done"
    table = tmp_path / "table.csv"
    assert dialog.export_csv(table)
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [(r["target"], r["verdict"], r["cause_id"]) for r in rows] == [
        (h.line, h.kind.verdict, h.kind.cause or "") for h in hosts
    ]
    assert not dialog.export_csv(Path("/dev/full"))
    assert "no space left on device" in dialog.status.text()

    dialog.table.selectAll()
    # Written in the background, cancellable: nothing is written when cancelled.
    cancelled = tmp_path / "cancelled.pdf"
    with qtbot.waitSignal(dialog.pdfEnded, timeout=RUN_MS) as ended:
        assert dialog.export_pdf(cancelled)
        assert dialog.exporting and not dialog.check_button.isEnabled()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == [False]
    assert dialog.status.text() == "Cancelled: the PDF was not written."
    assert not cancelled.exists()

    out = tmp_path / "reports.pdf"
    with qtbot.waitSignal(dialog.pdfEnded, timeout=RUN_MS) as ended:
        assert dialog.export_pdf(out)
    assert ended.args == [True]
    assert dialog.status.text().startswith("Saved 3 reports (")
    assert dialog.check_button.isEnabled()
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    # The cover with the table, then each report from a page of its own.
    assert "Handshake Doctor: 3 servers" in pages[0]
    for host in hosts:
        assert host.line in pages[0]
    starts = [i for i, page in enumerate(pages) if "Handshake Doctor report · 127.0.0.1" in page]
    assert len(starts) >= 3
    assert f"Page 1 of {len(pages) - 1}" in pages[0]


def test_the_table_names_the_connect_port_and_a_row_fills_the_form(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    """A line's connect address is shown with its port where that differs from the target's
    (IPv6 in brackets); a row opened in the main window names its server in the form, so that
    "Check again" checks that server, through the same address."""
    from gui.request import build_request
    from tests.batch_servers import closed_port

    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        port, refused = server.port, closed_port()
        lines = [
            f"localhost:443 127.0.0.1:{port}",
            f"localhost:{port} 127.0.0.1",
            f"localhost:8443 [::1]:{refused}",
        ]
        dialog = window.open_batch_dialog()
        window.form.host.setText("typed-before.example")
        assert _run(qtbot, dialog, "\n".join(lines)) == "done"
        assert _column(dialog, TARGET_COLUMN) == [
            f"localhost:443 via 127.0.0.1:{port}",
            f"localhost:{port} via 127.0.0.1",
            f"localhost:8443 via [::1]:{refused}",
        ]

        with qtbot.waitSignal(window.reportShown, timeout=5000):
            dialog.open_row(2)
        assert window.form.host.text() == "localhost:8443"
        assert window.form.connect_to.text() == f"[::1]:{refused}"
        with qtbot.waitSignal(window.reportShown, timeout=5000) as shown:
            dialog.open_row(0)
        report = shown.args[0]
        assert (report.target.port, report.target.connect_port) == (443, port)
        assert window.form.host.text() == "localhost:443"
        assert window.form.connect_to.text() == f"127.0.0.1:{port}"
        assert window.form.port.value() == 0  # the address field names the port
        assert build_request(window.form.state()).target == report.target

        dialog.close()
        with qtbot.waitSignal(window.reportShown, timeout=RUN_MS) as again:
            window.again_action.trigger()
    checked = again.args[0]
    assert checked is not report
    assert checked.target == report.target
    assert checked.verdict.value == "ok"
    assert window.tabs.currentWidget() is window.fixit  # "Check again" shows what changed


def test_cancel_and_close_stop_the_checks(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    """Stuck servers with a long timeout: Cancel ends the run within a second or two, and
    closing the dialog during a run leaves no check behind."""
    window.form.timeout.setValue(30)
    gauge = ConcurrencyGauge()
    with fleet(pki, [STUCK] * 6, gauge=gauge) as hosts:
        dialog = window.open_batch_dialog()
        dialog.set_list("\n".join(h.line for h in hosts))
        dialog.start()
        qtbot.waitUntil(lambda: gauge.max_servers == 4, timeout=10_000)
        started = time.monotonic()
        with qtbot.waitSignal(dialog.runEnded, timeout=10_000) as ended:
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert ended.args == ["cancelled"]
        assert time.monotonic() - started < within(2.0)
        assert "(cancelled)" in dialog.status.text()
        assert set(_column(dialog, VERDICT_COLUMN)) == {"cancelled"}

        dialog.start()
        qtbot.waitUntil(lambda: dialog.model.counts()[2] == 6 and dialog.running, timeout=5000)
        worker_threads = [t for t in threading.enumerate() if t.name.startswith("batch")]
        started = time.monotonic()
        dialog.close()
        assert not dialog.running
        assert time.monotonic() - started < within(2.5)
        for thread in worker_threads:
            thread.join(within(2.0))
            assert not thread.is_alive(), thread.name


def test_a_file_and_bad_lists(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    assert window.several_action.text() == "Check &several…"
    window.several_action.trigger()  # Check → Check several…
    dialog = window.open_batch_dialog()
    assert dialog.isVisible()
    assert window.findChildren(BatchDialog) == [dialog]  # one per window
    listing = tmp_path / "hosts.txt"
    listing.write_text("\ufeff# from a file\nexample.com\n")
    assert dialog.open_list(listing)
    assert dialog.list_edit.toPlainText() == "# from a file\nexample.com\n"
    assert not dialog.open_list(tmp_path / "missing.txt")
    assert "Could not open" in dialog.status.text()
    dialog.set_list("# nothing\n\n")
    assert not dialog.start()
    assert dialog.status.text() == "The list names no server to check."
    dialog.set_list(":1\nbad host name here\n")
    assert not dialog.start()
    assert dialog.status.text() == "No line of the list names a server: 2 bad lines."
    window.form.ca_file.setText(str(tmp_path / "missing.pem"))
    dialog.set_list("example.com\n")
    assert not dialog.start()
    assert dialog.status.text().startswith("The list cannot be checked: ")
    assert not dialog.running
    # Closing the window closes its dialog too.
    assert dialog.isVisible()
    window.close()
    assert not dialog.isVisible()


def test_the_forms_connect_address_is_not_used_for_a_list(qtbot: QtBot, window: MainWindow) -> None:
    from tests.ports import closed_port

    window.form.connect_to.setText("127.0.0.1")
    dialog = window.open_batch_dialog()
    assert _run(qtbot, dialog, f"localhost:{closed_port()} 127.0.0.1\n") == "done"
    assert dialog.status.text() == (
        "1/1 checked, 1 failing. The Options' connect address is not used for a list: put each "
        "server's address after it on its line."
    )


def test_untrusted_text_stays_plain(qtbot: QtBot) -> None:
    """A list line is a stranger's text too: plain text for the view, escaped in tooltips."""
    from core.batch import plan

    model = BatchModel()
    model.reset(plan("<b>bold</b>.example\n", RequestSpec()))
    target = model.index(0, TARGET_COLUMN)
    assert model.data(target) == "<b>bold</b>.example"
    tip = model.data(target, Qt.ItemDataRole.ToolTipRole)
    assert "&lt;b&gt;bold&lt;/b&gt;" in tip and "<b>" not in tip
    cause_tip = model.data(model.index(0, CAUSE_COLUMN), Qt.ItemDataRole.ToolTipRole)
    assert cause_tip.startswith("<p>line 1: ") and "<b>" not in cause_tip
