"""The live list of a check's stages: filled from StageEvents as they come, then from the
report; every line worded by ``core.render.stages``, as in the terminal and the PDF."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor

from core.models import StageEvent, StageId, StageOutcome, StageResult, StageStatus
from core.render.stages import STATUS_MARKS, event_line, format_ms, stage_line, stage_text
from core.stage_words import load_stage_words
from core.untrusted import visible
from gui import theme
from gui.models import OBJECT_ROLE, ROOT_INDEX, HeaderedTable, Index, tooltip
from gui.widgets import app_palette

#: The rows, in the order a check takes its steps (StageId's own order, as the report's).
STAGE_ORDER: tuple[StageId, ...] = tuple(StageId)
#: Steps only some checks have (the Proxy step, through a proxy; STARTTLS, for a mail or other
#: service that upgrades a plain connection): pending means "not part of this check", and the
#: window hides them.
OPTIONAL_STAGES = frozenset({StageId.PROXY, StageId.STARTTLS})
#: Each step's line after a certificate file was checked: nothing went over the network.
OFFLINE_LINE = "not run: the file was checked offline, with no network step"
#: The Certificates step's line then: that step is the one that did run, on the file.
FILE_CHAIN_LINE = "the chain read from the file, checked offline"


@dataclass
class _StageRow:
    status: StageStatus = StageStatus.PENDING
    elapsed_ms: float = 0.0
    #: The line the renderer worded from the stage's outcome and facts.
    line: str = ""
    started: float | None = None
    #: False for the Certificates row of a certificate file: that step has no time of its own.
    timed: bool = True


class StageModel(HeaderedTable):
    """The stages of a check, filled live from StageEvents and then from the report: every
    line worded by ``core.render.stages``, as in the terminal and the PDF."""

    HEADERS = ("Step", "Time", "What happened")
    _headers = HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words = load_stage_words()
        self._waiting = stage_text(StageOutcome.WAITING, {}, self._words)
        self._rows = {stage: _StageRow() for stage in STAGE_ORDER}
        self._clock: Callable[[], float] = time.monotonic

    def reset(self) -> None:
        self.beginResetModel()
        self._rows = {stage: _StageRow() for stage in STAGE_ORDER}
        self.endResetModel()

    def status(self, stage: StageId) -> StageStatus:
        return self._rows[stage].status

    def summary(self, stage: StageId) -> str:
        """The stage's line as shown (for tests and the accessible text)."""
        row = self._rows[stage]
        return row.line or (self._waiting if row.status is StageStatus.PENDING else "")

    def apply(self, event: StageEvent) -> None:
        row = self._rows.get(event.stage)
        if row is None:
            return
        if event.status is StageStatus.RUNNING:
            if row.status is not StageStatus.RUNNING:
                row.started = self._clock() - event.elapsed_ms / 1000
            row.status = StageStatus.RUNNING
            if event.outcome is not None or not row.line:
                row.line = event_line(event, self._words)
        else:
            row.status = event.status
            row.elapsed_ms = event.elapsed_ms
            row.line = event_line(event, self._words)
            row.started = None
        r = STAGE_ORDER.index(event.stage)
        self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.HEADERS) - 1))

    def set_results(self, results: Sequence[StageResult]) -> None:
        """The final word from the report (events may have been coalesced or missed)."""
        self.beginResetModel()
        given = {result.stage for result in results}
        for result in results:
            if result.stage in self._rows:
                self._rows[result.stage] = _StageRow(
                    result.status, result.duration_ms, stage_line(result, self._words)
                )
        for stage, row in self._rows.items():
            if stage in OPTIONAL_STAGES and stage not in given:
                self._rows[stage] = _StageRow()  # not part of this check (no proxy): hidden
            elif row.status in (StageStatus.RUNNING, StageStatus.PENDING):
                row.status = StageStatus.SKIPPED
                row.started = None
        self.endResetModel()

    def show_offline(self) -> None:
        """A certificate file was checked: the chain step ran on the file, no network step ran,
        and every row says so (rather than "waiting", which reads as a check that never
        started)."""
        self.beginResetModel()
        self._rows = {
            stage: _StageRow(StageStatus.SKIPPED, line=OFFLINE_LINE) for stage in STAGE_ORDER
        }
        for stage in OPTIONAL_STAGES:
            self._rows[stage] = _StageRow()  # not part of any check of a file: hidden
        self._rows[StageId.CERTIFICATES] = _StageRow(
            StageStatus.OK, line=FILE_CHAIN_LINE, timed=False
        )
        self.endResetModel()

    def stop_running(self, outcome: StageOutcome) -> None:
        """After a cancel or a failure: whatever was still running or waiting did not finish."""
        self.beginResetModel()
        line = stage_text(outcome, {}, self._words)
        for stage, row in self._rows.items():
            if stage in OPTIONAL_STAGES and row.status is StageStatus.PENDING:
                continue  # never part of this check
            if row.status in (StageStatus.RUNNING, StageStatus.PENDING):
                row.status = StageStatus.SKIPPED
                row.line = line
                row.started = None
        self.endResetModel()

    def tick(self) -> None:
        """Refresh the running stages' times (called by a timer while a check runs)."""
        for r, stage in enumerate(STAGE_ORDER):
            if self._rows[stage].status is StageStatus.RUNNING:
                self.dataChanged.emit(self.index(r, 1), self.index(r, 1))

    def rowCount(self, parent: Index = ROOT_INDEX) -> int:
        return 0 if parent.isValid() else len(STAGE_ORDER)

    def columnCount(self, parent: Index = ROOT_INDEX) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def _colour(self, status: StageStatus) -> QColor | None:
        palette = app_palette()
        if status is StageStatus.OK:
            return theme.success_colour(palette)
        if status is StageStatus.FAILED:
            return theme.failure_colour(palette)
        if status in (StageStatus.SKIPPED, StageStatus.PENDING):
            return theme.muted(palette)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(STAGE_ORDER):
            return None
        stage = STAGE_ORDER[index.row()]
        row = self._rows[stage]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == 0:
                return f"{STATUS_MARKS[row.status]}  {self._words.name(stage)}"
            if column == 1:
                if row.status is StageStatus.RUNNING and row.started is not None:
                    return format_ms((self._clock() - row.started) * 1000)
                if row.timed and row.status in (StageStatus.OK, StageStatus.FAILED):
                    return format_ms(row.elapsed_ms)
                return ""
            if column == 2:
                return visible(self.summary(stage), limit=300)
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column in (0, 1):
            colour = self._colour(row.status)
            return QBrush(colour) if colour is not None else None
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == 2
            and row.status is StageStatus.PENDING
        ):
            return QBrush(theme.muted(app_palette()))
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and row.line:
            return tooltip(row.line)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == OBJECT_ROLE:
            return stage
        return None
