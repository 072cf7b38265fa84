"""The "Check several…" dialog: paste or open a list, check it in the background with a bounded
number at once, watch the table fill, open any row's full result in the main window.

The list is read and checked by core.batch, the same code as ``check --hosts``; the main
window's Options (timeout, CA file, proxy, …) apply to every line, as the command line's
options do. The checks run on a Python thread of their own (never the GUI thread), which hands
each result to the dialog through a queued signal; Cancel and closing the dialog set the run's
cancel flag, which every running check honours within the engine's cancel slice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.batch import DEFAULT_PARALLEL, MAX_PARALLEL, BatchResult
from core.models import CheckReport
from core.request import RequestSpec
from core.untrusted import visible
from gui.batch_model import (
    CAUSE_COLUMN,
    DAYS_COLUMN,
    REPORT_ROLE,
    SORT_ROLE,
    TARGET_COLUMN,
    VERDICT_COLUMN,
    BatchModel,
)
from gui.batch_workers import BatchWorker
from gui.pdf_worker import PdfJobs, PdfWorker
from gui.widgets import push_button

__all__ = [
    "CAUSE_COLUMN",
    "DAYS_COLUMN",
    "TARGET_COLUMN",
    "VERDICT_COLUMN",
    "BatchDialog",
    "BatchModel",
]


class BatchDialog(QDialog):
    """Not modal: the main window shows the row chosen here while the list goes on."""

    reportChosen = Signal(object)  # CheckReport
    runEnded = Signal(str)  # "done" or "cancelled"
    pdfEnded = Signal(bool)  # the PDF was written

    def __init__(
        self,
        base_spec: Callable[[], RequestSpec],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check several servers")
        self._base_spec = base_spec
        self._worker: BatchWorker | None = None
        self._thread: threading.Thread | None = None
        self._retired: list[tuple[BatchWorker, threading.Thread]] = []
        self._cancelled = False
        self._problem = ""
        self._note = ""
        self._pdf = PdfJobs()

        layout = QVBoxLayout(self)
        intro = QLabel(
            "One server a line: a host name, host:port or a pasted https:// link; a second word "
            "is the address to connect to. Lines starting with # are skipped. The main window's "
            "Options (timeout, CA file, proxy, …) apply to every line."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(intro)
        self.list_edit = QPlainTextEdit(self)
        self.list_edit.setPlaceholderText("example.com\nmail.example.com:993\n# intranet.corp")
        self.list_edit.setMaximumHeight(120)
        layout.addWidget(self.list_edit)

        controls = QHBoxLayout()
        self.open_button = push_button("Open list…", self, self.open_list_dialog)
        controls.addWidget(self.open_button)
        controls.addWidget(QLabel("Checks at once:", self))
        self.parallel = QSpinBox(self)
        self.parallel.setRange(1, MAX_PARALLEL)
        self.parallel.setValue(DEFAULT_PARALLEL)
        self.parallel.setToolTip(
            "How many servers are checked at the same time. Each check still opens only a few "
            "connections to its own server (one with Options → Gentle)."
        )
        controls.addWidget(self.parallel)
        controls.addStretch(1)
        self.check_button = push_button("Check all", self, self.start)
        self.check_button.setDefault(True)
        self.cancel_button = push_button("Cancel", self, self.cancel)
        self.cancel_button.setEnabled(False)
        controls.addWidget(self.check_button)
        controls.addWidget(self.cancel_button)
        layout.addLayout(controls)

        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.model = BatchModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(VERDICT_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TARGET_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CAUSE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(DAYS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the list's order at first
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.activated.connect(self._open_index)
        layout.addWidget(self.table, 1)

        exports = QHBoxLayout()
        self.csv_button = push_button("Export table (CSV)…", self, self.export_csv_dialog)
        self.pdf_button = push_button("Export selected to PDF…", self, self.export_pdf_dialog)
        self.close_button = push_button("Close", self, self.close)
        self.close_button.setAutoDefault(False)
        exports.addWidget(self.csv_button)
        exports.addWidget(self.pdf_button)
        exports.addStretch(1)
        exports.addWidget(self.close_button)
        layout.addLayout(exports)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)
        self._update_buttons()
        self.resize(860, 620)

    # -- running

    @property
    def running(self) -> bool:
        return self._worker is not None

    def set_list(self, text: str) -> None:
        self.list_edit.setPlainText(text)

    def start(self) -> bool:
        """Read the list and start checking it; False (and the reason shown) if nothing could
        start."""
        from core.batch import HostListError, plan
        from core.request import RequestError

        if self.running:
            return False
        spec = self._base_spec()
        # One connect address cannot name where each of many servers lives (the command line
        # refuses --connect with --hosts); the lines carry their own.
        self._note = (
            " The Options' connect address is not used for a list: put each server's address "
            "after it on its line."
            if spec.connect
            else ""
        )
        base = replace(spec, host="", connect=None)
        try:
            hosts = plan(self.list_edit.toPlainText(), base)
        except (HostListError, RequestError) as exc:
            words = exc.words("window") if isinstance(exc, RequestError) else str(exc)
            self.status.setText(f"The list cannot be checked: {words}")
            return False
        self.model.reset(hosts)
        if not hosts.jobs:
            self.status.setText(
                "The list names no server to check."
                if not hosts.bad
                else f"No line of the list names a server: {len(hosts.bad)} bad lines."
            )
            return False
        self._cancelled = False
        self._problem = ""
        worker = BatchWorker(hosts, base, self.parallel.value())
        worker.started.connect(self._on_started)
        worker.result.connect(self._on_result)
        worker.problem.connect(self._on_problem)
        worker.done.connect(self._on_done)
        thread = threading.Thread(target=worker.run, name="batch", daemon=True)
        self._worker, self._thread = worker, thread
        thread.start()
        self._set_running(True)
        self._show_counts()
        return True

    def cancel(self) -> None:
        if self._pdf.cancel():
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling the PDF…")
        if self._worker is not None:
            self._cancelled = True
            self._worker.cancel_event.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel and wait for the checks (and a PDF being written), at most ``timeout_s``
        each; True when the checks ended."""
        self._pdf.stop(timeout_s)
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return True
        worker.cancel_event.set()
        thread.join(timeout_s)
        ended = not thread.is_alive()
        for signal in (worker.started, worker.result, worker.problem, worker.done):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect()
        self._retire()
        return ended

    def _retire(self) -> None:
        if self._worker is not None and self._thread is not None:
            self._retired = [(w, t) for w, t in self._retired if t.is_alive()]
            self._retired.append((self._worker, self._thread))
        self._worker = self._thread = None
        self._set_running(False)

    def _on_started(self, index: int) -> None:
        if self.sender() is self._worker:
            self.model.mark_started(index)

    def _on_result(self, result: object) -> None:
        if self.sender() is self._worker and isinstance(result, BatchResult):
            self.model.set_result(result)
            self._show_counts()

    def _on_problem(self, text: str) -> None:
        if self.sender() is self._worker:
            self._problem = f"The list cannot be checked: {text}"

    def _on_done(self) -> None:
        if self.sender() is not self._worker:
            return
        if self._thread is not None:
            self._thread.join(1.0)  # it has only returned left to do
        self._retire()
        if self._cancelled:
            self.model.stop_waiting()
        self._show_counts(cancelled=self._cancelled)
        if self._problem:
            self.model.stop_waiting()
            self.status.setText(self._problem)
        self.runEnded.emit("cancelled" if self._cancelled else "done")

    def _show_counts(self, *, cancelled: bool = False) -> None:
        ended, failing, total = self.model.counts()
        text = f"{ended}/{total} checked, {failing} failing"
        bad = self.model.rowCount() - total
        if bad:
            text += f"; {bad} bad line" + ("s" if bad != 1 else "")
        if cancelled:
            text += " (cancelled)"
        self.status.setText(text + "." + self._note if self._note else text)

    def _set_running(self, running: bool) -> None:
        running = running or self._pdf.running or self._worker is not None
        self.check_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.list_edit.setReadOnly(running)
        self.open_button.setEnabled(not running)
        self.parallel.setEnabled(not running)

    # -- opening a row

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._open_index(current)

    def _open_index(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        report = self.proxy.data(index, REPORT_ROLE)
        if isinstance(report, CheckReport):
            self.reportChosen.emit(report)

    def open_row(self, view_row: int) -> None:
        """Select the table's ``view_row`` (as sorted), which opens it in the main window."""
        self.table.selectRow(view_row)

    # -- the list from a file

    def open_list_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a list of servers", "", "Text files (*.txt *.csv *.list);;All files (*)"
        )
        if path:
            self.open_list(Path(path))

    def open_list(self, path: Path) -> bool:
        from core.batch import MAX_LIST_BYTES

        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_LIST_BYTES + 1)
        except OSError as exc:
            self.status.setText(f"Could not open {visible(str(path))}: {exc.strerror or exc}")
            return False
        if len(data) > MAX_LIST_BYTES or b"\0" in data:
            self.status.setText(f"{visible(str(path))} is not a list of servers (one a line).")
            return False
        self.list_edit.setPlainText(data.decode("utf-8-sig", errors="replace"))
        self.status.setText(f"Opened {visible(str(path), limit=200)}.")
        return True

    # -- exports

    def _view_rows(self, *, selected: bool) -> list[int]:
        """Source rows in the table's current order (all, or the selected ones)."""
        if selected:
            chosen = {i.row() for i in self.table.selectionModel().selectedRows()}
            view = sorted(chosen)
        else:
            view = list(range(self.proxy.rowCount()))
        return [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in view]

    def selected_reports(self) -> list[CheckReport]:
        reports = [self.model.report(r) for r in self._view_rows(selected=True)]
        return [r for r in reports if r is not None]

    def _update_buttons(self, *_args: object) -> None:
        self.csv_button.setEnabled(bool(self.model.table_rows()))
        self.pdf_button.setEnabled(bool(self.selected_reports()))

    def export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the table", str(Path.home() / "handshake-doctor-hosts.csv"), "CSV (*.csv)"
        )
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> bool:
        from core.output import OutputError, write_file
        from core.render.table import render_csv

        rows = self.model.table_rows(self._view_rows(selected=False))
        try:
            write_file(str(path), render_csv(rows))
        except OutputError as exc:
            self.status.setText(f"Could not export the table: {exc}")
            return False
        self.status.setText(f"Saved the table ({len(rows)} rows) to {visible(str(path))}.")
        return True

    def export_pdf_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the selected reports",
            str(Path.home() / "handshake-doctor-reports.pdf"),
            "PDF (*.pdf)",
        )
        if path:
            self.export_pdf(Path(path))

    @property
    def exporting(self) -> bool:
        return self._pdf.running

    def export_pdf(self, path: Path, *, redact: bool = False) -> bool:
        """Start writing the selected results to one PDF, in the background (``pdfEnded``
        says how it ended); False when there is nothing to write or a PDF is being written."""
        reports = self.selected_reports()
        if not reports:
            self.status.setText("Select the rows to export first.")
            return False
        if self._pdf.running or self.running:
            return False
        from gui import pdf

        count = f"{len(reports)} report" + ("s" if len(reports) != 1 else "")
        worker = PdfWorker(
            lambda progress: pdf.export_reports(reports, path, redact=redact, progress=progress),
            failure="Could not export the reports",
            saved=lambda pages: f"Saved {count} ({pages} pages) to {visible(str(path))}.",
        )
        worker.progress.connect(self._on_pdf_progress)
        worker.ended.connect(self._on_pdf_ended)
        self._pdf.start(worker)
        self.status.setText(f"Writing the PDF: 0 of {len(reports)} reports laid out…")
        self._set_running(True)
        return True

    def _on_pdf_progress(self, done: int, total: int) -> None:
        if self._pdf.is_current(self.sender()):
            self.status.setText(f"Writing the PDF: {done} of {total} reports laid out…")

    def _on_pdf_ended(self, text: str, written: bool) -> None:
        if not self._pdf.ended(self.sender()):
            return
        self._set_running(False)
        self.status.setText(text)
        self.pdfEnded.emit(written)

    # -- closing

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing cancels the checks (each ends within the engine's cancel slice)."""
        self.shutdown(2.0)
        event.accept()

    def reject(self) -> None:  # Esc
        self.shutdown(2.0)
        super().reject()
