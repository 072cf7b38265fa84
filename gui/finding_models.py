"""The Summary pane's models: the findings grouped by severity, and one finding's evidence."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject
from PySide6.QtGui import QBrush, QStandardItem, QStandardItemModel

from core.catalogue import Catalogue, render_value
from core.models import Finding, Severity
from core.render.labels import evidence_label
from core.untrusted import visible
from gui import theme
from gui.models import OBJECT_ROLE, Cell, RowsModel, tooltip
from gui.widgets import app_palette

SEVERITY_ORDER = (Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.INFO)


class FindingsModel(QStandardItemModel):
    """Findings grouped under their severity, worst first: a tree of two levels."""

    HEADERS = ("Finding", "Who acts")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))

    def set_findings(self, findings: Sequence[Finding], catalogue: Catalogue) -> None:
        self.clear()
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        palette = app_palette()
        for severity in SEVERITY_ORDER:
            group = [f for f in findings if f.severity is severity]
            if not group:
                continue
            label = catalogue.severity_label(severity)
            head = QStandardItem(f"{label} ({len(group)})")
            head.setEditable(False)
            head.setForeground(QBrush(theme.tone(severity, palette).foreground))
            font = head.font()
            font.setBold(True)
            head.setFont(font)
            head.setData(severity, OBJECT_ROLE)
            tail = QStandardItem("")
            tail.setEditable(False)
            for finding in group:
                title = QStandardItem(visible(catalogue.title(finding), limit=300))
                title.setEditable(False)
                title.setData(finding, OBJECT_ROLE)
                title.setToolTip(tooltip(catalogue.detail(finding)))
                who = QStandardItem(catalogue.actor_label(catalogue.finding(finding.id).who_acts))
                who.setEditable(False)
                who.setData(finding, OBJECT_ROLE)
                head.appendRow([title, who])
            self.appendRow([head, tail])


class EvidenceModel(RowsModel):
    """The facts behind one finding, on demand."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Fact", "Value"), parent)

    def set_finding(self, finding: Finding | None) -> None:
        rows: list[tuple[Sequence[Cell], object]] = []
        if finding is not None:
            for key, value in finding.evidence.items():
                text = visible(render_value(value), limit=600)
                rows.append(((Cell(evidence_label(key)), Cell(text, tip=text)), key))
        self.set_rows(rows)
