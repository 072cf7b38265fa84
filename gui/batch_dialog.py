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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    QSortFilterProxyModel,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.batch import (
    DEFAULT_PARALLEL,
    MAX_PARALLEL,
    VERDICT_RANK,
    BadLine,
    BatchResult,
    HostList,
    Outcome,
    TableRow,
    table_row,
)
from core.models import CheckReport, Verdict
from core.request import RequestSpec
from core.untrusted import for_html, visible
from gui import theme

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 10
REPORT_ROLE = int(Qt.ItemDataRole.UserRole) + 11

COLUMNS = ("Verdict", "Target", "Main cause", "Days left")
VERDICT_COLUMN, TARGET_COLUMN, CAUSE_COLUMN, DAYS_COLUMN = range(4)
BAD_LINE = "bad line"
_STATE_RANK = {"waiting": -2, "checking…": -1, BAD_LINE: 6}
#: Rows without a leaf sort after every number of days, whichever way.
_NO_DAYS = 10**9


@dataclass
class _Row:
    """One line of the list as the table shows it now."""

    line: int
    target: str
    state: str = "waiting"  # waiting, checking…, done, or BAD_LINE
    row: TableRow | None = None
    report: CheckReport | None = None
    message: str = ""


class BatchModel(QAbstractTableModel):
    """The many-hosts table: one row per line of the list (bad lines included), filled as the
    checks end. Targets and causes are shown as plain text, tooltips escaped."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._by_job: list[int] = []

    # -- filling

    def reset(self, hosts: HostList) -> None:
        self.beginResetModel()
        rows = [_Row(j.line.number, visible(j.target.display(), limit=120)) for j in hosts.jobs]
        for job, row in zip(hosts.jobs, rows, strict=True):
            if job.target.connect_address:
                row.target += f" via {visible(job.target.connect_address, limit=80)}"
        self._by_job = list(range(len(rows)))
        rows += [_bad_row(b) for b in hosts.bad]
        self._rows = rows
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._by_job = [], []
        self.endResetModel()

    def mark_started(self, job_index: int) -> None:
        row = self._by_job[job_index]
        self._rows[row].state = "checking…"
        self._changed(row)

    def set_result(self, result: BatchResult) -> None:
        row = self._by_job[result.index]
        entry = self._rows[row]
        if result.outcome is Outcome.CANCELLED:
            entry.state = "cancelled"
        else:
            entry.state = "done"
            entry.row = table_row(result)
            entry.report = result.report
        self._changed(row)

    def stop_waiting(self) -> None:
        """After a cancel: the rows that never started say so."""
        for number, entry in enumerate(self._rows):
            if entry.state in ("waiting", "checking…"):
                entry.state = "cancelled"
                self._changed(number)

    def _changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # -- reading

    def table_rows(self, rows: list[int] | None = None) -> list[TableRow]:
        """The rows that ended (a check's, or a bad line's), in the order asked."""
        out = []
        for number in rows if rows is not None else range(len(self._rows)):
            entry = self._rows[number]
            if entry.row is not None:
                out.append(entry.row)
            elif entry.state == BAD_LINE:
                out.append(
                    TableRow(entry.line, entry.target, BAD_LINE, None, None, None, entry.message)
                )
        return out

    def report(self, row: int) -> CheckReport | None:
        return self._rows[row].report

    def counts(self) -> tuple[int, int, int]:
        """(ended, failing, checks in all)."""
        checks = [self._rows[r] for r in self._by_job]
        ended = [r for r in checks if r.state in ("done",)]
        failing = sum(
            1 for r in ended if r.row is not None and VERDICT_RANK.get(r.row.verdict, 0) >= 2
        )
        return len(ended), failing, len(checks)

    # -- the model

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, column)
        if role == SORT_ROLE:
            return self._sort_key(entry, column)
        if role == REPORT_ROLE:
            return entry.report
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self._text(entry, column)
            return f"<p>{for_html(text)}</p>" if text else None
        if column == VERDICT_COLUMN and role in (
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            verdict = _verdict(entry)
            if verdict is None:
                return None
            tone = theme.tone(verdict, _palette())
            return tone.foreground if role == Qt.ItemDataRole.ForegroundRole else tone.background
        if column == DAYS_COLUMN and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(entry: _Row, column: int) -> str:
        row = entry.row
        if column == TARGET_COLUMN:
            return entry.target
        if column == VERDICT_COLUMN:
            return row.verdict if row is not None else entry.state
        if column == CAUSE_COLUMN:
            if entry.state == BAD_LINE:
                return f"line {entry.line}: {entry.message}"
            if row is None:
                return ""
            if row.cause_title:
                return row.cause_title
            return row.problem or ("—" if row.verdict == "ok" else "")
        if column == DAYS_COLUMN:
            return "" if row is None or row.days_left is None else str(row.days_left)
        return ""

    @staticmethod
    def _sort_key(entry: _Row, column: int) -> Any:
        row = entry.row
        if column == VERDICT_COLUMN:
            if row is None:
                return _STATE_RANK.get(entry.state, 2)
            return VERDICT_RANK.get(row.verdict, 2)
        if column == DAYS_COLUMN:
            return _NO_DAYS if row is None or row.days_left is None else row.days_left
        if column == TARGET_COLUMN:
            return entry.target.lower()
        return BatchModel._text(entry, column).lower()


def _verdict(entry: _Row) -> Verdict | None:
    if entry.row is None:
        return Verdict.ERROR if entry.state == BAD_LINE else None
    with contextlib.suppress(ValueError):
        return Verdict(entry.row.verdict)
    return Verdict.ERROR if entry.row.verdict in ("failed", "timed out") else None


def _bad_row(bad: BadLine) -> _Row:
    return _Row(bad.number, visible(bad.text, limit=120), BAD_LINE, message=bad.message)


def _palette() -> Any:
    app = QApplication.instance()
    from PySide6.QtGui import QPalette

    return app.palette() if isinstance(app, QApplication) else QPalette()


class BatchWorker(QObject):
    """Runs one list on a Python thread of its own (see gui.worker.CheckWorker for why not a
    QThread) and reports each check's start and end through signals, queued to the dialog."""

    started = Signal(int)
    result = Signal(object)  # BatchResult
    problem = Signal(str)  # the run could not start: the CA file, the client certificate
    done = Signal()

    def __init__(self, hosts: HostList, spec: RequestSpec, parallel: int) -> None:
        super().__init__()
        self.hosts = hosts
        self.spec = spec
        self.parallel = parallel
        self.cancel_event = threading.Event()

    def run(self) -> None:
        from core.batch import run_batch, with_credentials
        from core.request import RequestError, load_credentials, load_trust

        try:
            hosts = with_credentials(self.hosts, load_credentials(self.spec, prompt=False))
            stores = load_trust(hosts.jobs[0].options)
            batch = run_batch(
                hosts.jobs,
                parallel=self.parallel,
                stores=stores,
                cancel=self.cancel_event,
                on_start=self.started.emit,
            )
            with contextlib.closing(batch):
                for result in batch:
                    self.result.emit(result)
        except RequestError as exc:
            self.problem.emit(exc.words("window"))
        except Exception as exc:  # a bug of ours: said in the dialog, never a dead thread
            self.problem.emit(f"Something went wrong inside the checks ({type(exc).__name__}).")
        finally:
            self.done.emit()


class PdfWorker(QObject):
    """Writes one PDF of several reports on a thread of Qt's pool: laying out dozens of reports
    takes seconds, which the window must not freeze for. A Qt thread, not a Python one: text
    layout starts Qt timers, which need the thread's own event dispatcher."""

    progress = Signal(int, int)  # reports laid out, reports in all
    ended = Signal(str, bool)  # what to say, written or not

    def __init__(self, reports: list[CheckReport], path: Path, *, redact: bool) -> None:
        super().__init__()
        self.reports = reports
        self.path = path
        self.redact = redact
        self.cancel_event = threading.Event()
        self.finished = threading.Event()

    def _progress(self, done: int, total: int) -> bool:
        self.progress.emit(done, total)
        return not self.cancel_event.is_set()

    def run(self) -> None:
        count = f"{len(self.reports)} report" + ("s" if len(self.reports) != 1 else "")
        try:
            self._write(count)
        finally:
            self.finished.set()

    def _write(self, count: str) -> None:
        from gui import pdf

        try:
            pages = pdf.export_reports(
                self.reports, self.path, redact=self.redact, progress=self._progress
            )
        except pdf.ExportCancelled:
            self.ended.emit("Cancelled: the PDF was not written.", False)
        except OSError as exc:
            self.ended.emit(f"Could not export the reports: {exc}", False)
        except Exception as exc:  # a bug of ours: said, never a dead thread
            self.ended.emit(f"Could not export the reports ({type(exc).__name__}).", False)
        else:
            self.ended.emit(f"Saved {count} ({pages} pages) to {visible(str(self.path))}.", True)


class _Runnable(QRunnable):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()


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
        self._pdf: PdfWorker | None = None
        #: Ended or let-go PDF workers, referenced until their thread is over.
        self._pdf_retired: list[PdfWorker] = []

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
        self.open_button = QPushButton("Open list…", self)
        self.open_button.clicked.connect(self.open_list_dialog)
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
        self.check_button = QPushButton("Check all", self)
        self.check_button.setDefault(True)
        self.check_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
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
        self.csv_button = QPushButton("Export table (CSV)…", self)
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.pdf_button = QPushButton("Export selected to PDF…", self)
        self.pdf_button.clicked.connect(self.export_pdf_dialog)
        self.close_button = QPushButton("Close", self)
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)
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
        if self._pdf is not None:
            self._pdf.cancel_event.set()
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
        self._stop_pdf(timeout_s)
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
        running = running or self._pdf is not None or self._worker is not None
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
        return self._pdf is not None

    def export_pdf(self, path: Path, *, redact: bool = False) -> bool:
        """Start writing the selected results to one PDF, in the background (``pdfEnded``
        says how it ended); False when there is nothing to write or a PDF is being written."""
        reports = self.selected_reports()
        if not reports:
            self.status.setText("Select the rows to export first.")
            return False
        if self._pdf is not None or self.running:
            return False
        worker = PdfWorker(reports, path, redact=redact)
        worker.progress.connect(self._on_pdf_progress)
        worker.ended.connect(self._on_pdf_ended)
        self._pdf = worker
        self.status.setText(f"Writing the PDF: 0 of {len(reports)} reports laid out…")
        self._set_running(True)
        QThreadPool.globalInstance().start(_Runnable(worker.run))
        return True

    def _on_pdf_progress(self, done: int, total: int) -> None:
        if self._pdf is not None and self.sender() is self._pdf:
            self.status.setText(f"Writing the PDF: {done} of {total} reports laid out…")

    def _on_pdf_ended(self, text: str, written: bool) -> None:
        if self._pdf is None or self.sender() is not self._pdf:
            return
        self._pdf.finished.wait(1.0)  # it has only returned left to do
        self._retire_pdf()
        self._set_running(False)
        self.status.setText(text)
        self.pdfEnded.emit(written)

    def _stop_pdf(self, timeout_s: float) -> None:
        if self._pdf is None:
            return
        worker = self._pdf
        worker.cancel_event.set()
        worker.finished.wait(timeout_s)
        with contextlib.suppress(RuntimeError, TypeError):
            worker.progress.disconnect()
        with contextlib.suppress(RuntimeError, TypeError):
            worker.ended.disconnect()
        self._retire_pdf()

    def _retire_pdf(self) -> None:
        if self._pdf is not None:
            self._pdf_retired = [w for w in self._pdf_retired if not w.finished.is_set()]
            self._pdf_retired.append(self._pdf)
        self._pdf = None
        self._set_running(False)

    # -- closing

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing cancels the checks (each ends within the engine's cancel slice)."""
        self.shutdown(2.0)
        event.accept()

    def reject(self) -> None:  # Esc
        self.shutdown(2.0)
        super().reject()
