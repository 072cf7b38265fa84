"""The many-hosts table as a Qt model: one row per line of the list (bad lines included),
filled as the checks end, sortable by verdict, target, cause and days left through SORT_ROLE.

Targets and causes are a list's (a stranger's) text: DisplayRole gives plain text, which item
views draw as such, and tooltips are escaped for Qt's rich text.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from core.batch import (
    BAD_LINE,
    VERDICT_RANK,
    BadLine,
    BatchResult,
    HostList,
    Outcome,
    TableRow,
    bad_line_row,
    table_row,
)
from core.models import CheckReport, Verdict
from core.untrusted import for_html, visible
from gui import theme
from gui.models import HeaderedTable
from gui.request import connect_text
from gui.widgets import app_palette

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 10
REPORT_ROLE = int(Qt.ItemDataRole.UserRole) + 11

COLUMNS = ("Verdict", "Target", "Main cause", "Days left")
VERDICT_COLUMN, TARGET_COLUMN, CAUSE_COLUMN, DAYS_COLUMN = range(4)
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


class BatchModel(HeaderedTable):
    """The many-hosts table: one row per line of the list (bad lines included), filled as the
    checks end. Targets and causes are shown as plain text, tooltips escaped."""

    _headers = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._by_job: list[int] = []

    # -- filling

    def reset(self, hosts: HostList) -> None:
        self.beginResetModel()
        rows = [_Row(j.line.number, visible(j.target.display(), limit=120)) for j in hosts.jobs]
        for job, row in zip(hosts.jobs, rows, strict=True):
            via = connect_text(job.target)
            if via:
                row.target += f" via {visible(via, limit=80)}"
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
            tone = theme.tone(verdict, app_palette())
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
    return Verdict.ERROR if entry.row.verdict in ("failed", "timed out", BAD_LINE) else None


def _bad_row(bad: BadLine) -> _Row:
    return _Row(
        bad.number, visible(bad.text, limit=120), BAD_LINE, bad_line_row(bad), message=bad.message
    )
