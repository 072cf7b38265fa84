"""Summary: the findings by severity with their plain titles; the explanation of the selected
one, and its evidence on demand."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import Catalogue
from core.models import CheckReport, Finding, Severity
from core.untrusted import visible
from gui.finding_models import EvidenceModel, FindingsModel
from gui.models import OBJECT_ROLE
from gui.widgets import Badge, heading, list_and_details, plain_label, scroll_area


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class SummaryPane(QWidget):
    showFixes = Signal()

    def __init__(self, catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalogue = catalogue
        self.model = FindingsModel(self)
        self.evidence_model = EvidenceModel(self)

        self.empty = plain_label("Run a check to see what was found.", self, muted=True)
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setAccessibleName("Findings")
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setUniformRowHeights(True)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)

        detail = QWidget(self)
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(12, 4, 4, 4)
        dl.setSpacing(8)
        self.title = heading("", detail)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        badges = QHBoxLayout()
        self.severity_badge = Badge("", None, detail)
        self.who_badge = Badge("", Severity.INFO, detail)
        badges.addWidget(self.severity_badge)
        badges.addWidget(self.who_badge)
        badges.addStretch(1)
        self.explanation = plain_label("", detail, selectable=True)
        self.explanation.setAccessibleName("Explanation")
        self.todo_title = plain_label("What to do", detail, bold=True)
        self.todo = plain_label("", detail)
        self.todo.setAccessibleName("What to do")
        buttons = QHBoxLayout()
        self.fixes_button = QPushButton("Open the checklist", detail)
        self.fixes_button.setAccessibleName("Show the fixes for this finding")
        self.fixes_button.clicked.connect(self.showFixes)
        self.evidence_button = QPushButton("Show evidence", detail)
        self.evidence_button.setCheckable(True)
        self.evidence_button.setAccessibleName("Show the evidence for this finding")
        self.evidence_button.toggled.connect(self._toggle_evidence)
        buttons.addWidget(self.fixes_button)
        buttons.addWidget(self.evidence_button)
        buttons.addStretch(1)
        self.evidence = QTableView(detail)
        self.evidence.setModel(self.evidence_model)
        self.evidence.setAccessibleName("Evidence")
        self.evidence.verticalHeader().hide()
        self.evidence.horizontalHeader().setStretchLastSection(True)
        self.evidence.setWordWrap(True)
        self.evidence.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.evidence.hide()
        dl.addWidget(self.title)
        dl.addLayout(badges)
        dl.addWidget(self.explanation)
        dl.addSpacing(4)
        dl.addWidget(self.todo_title)
        dl.addWidget(self.todo)
        dl.addLayout(buttons)
        dl.addWidget(self.evidence, 1)
        dl.addStretch(0)
        self.detail = detail

        self.splitter = list_and_details(self, self.tree, scroll_area(detail, self), (2, 3))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.empty, 0)
        layout.addWidget(self.splitter, 1)
        layout.addStretch(0)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.set_report(None)

    def set_report(self, report: CheckReport | None) -> None:
        self.set_findings(report.findings if report is not None else None)

    def set_findings(self, findings: Sequence[Finding] | None) -> None:
        """The findings of a check or of a certificate file; None: nothing was checked yet."""
        checked = findings is not None
        findings = tuple(findings or ())
        self.model.set_findings(findings, self.catalogue)
        self._size_columns()
        self.tree.expandAll()
        has = bool(findings)
        self.splitter.setVisible(has)
        self.empty.setVisible(not has)
        if not checked:
            self.empty.setText("Run a check to see what was found.")
        elif not has:
            self.empty.setText("Nothing to report: no problems and no warnings were found.")
        self._show(None)
        if has:
            group = self.model.index(0, 0)
            self.tree.setCurrentIndex(self.model.index(0, 0, group))

    def show_waiting(self, text: str) -> None:
        self.empty.setText(text)

    def _size_columns(self) -> None:
        # The model's clear() drops the header's sections, so their modes are set again here.
        header = self.tree.header()
        header.setStretchLastSection(False)
        if header.count() >= 2:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

    def selected_finding(self) -> Finding | None:
        index = self.tree.currentIndex()
        value = index.data(OBJECT_ROLE) if index.isValid() else None
        return value if isinstance(value, Finding) else None

    def _selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        finding = None
        for index in selected.indexes():
            value = index.data(OBJECT_ROLE)
            if isinstance(value, Finding):
                finding = value
                break
        self._show(finding)

    def _show(self, finding: Finding | None) -> None:
        self.detail.setVisible(finding is not None)
        self.evidence_model.set_finding(finding)
        if finding is None:
            return
        cat = self.catalogue
        self.title.setText(visible(cat.title(finding), limit=300))
        self.severity_badge.setText(cat.severity_label(finding.severity))
        self.severity_badge.set_level(finding.severity)
        who = cat.finding(finding.id).who_acts
        self.who_badge.setText(f"Who acts: {cat.actor_label(who)}")
        self.explanation.setText(visible(cat.detail(finding), limit=2000))
        fixes = cat.fixes_for(finding)
        self.todo.setText(
            "\n".join(
                f"{n}. {fix.title} ({_lower_first(cat.actor_label(fix.who))})"
                for n, fix in enumerate(fixes, 1)
            )
        )
        for widget in (self.todo_title, self.todo, self.fixes_button):
            widget.setVisible(bool(fixes))
        self.evidence_button.setEnabled(bool(finding.evidence))
        self.evidence.resizeRowsToContents()

    def _toggle_evidence(self, shown: bool) -> None:
        self.evidence.setVisible(shown)
        self.evidence_button.setText("Hide evidence" if shown else "Show evidence")
        if shown:
            self.evidence.resizeColumnToContents(0)
            self.evidence.resizeRowsToContents()
