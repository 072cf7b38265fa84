"""The Export dialog: where to save the PDF report, and whether to hide internal names."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget


class ExportDialog(QDialog):
    def __init__(self, suggested: str, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import (
            QCheckBox,
            QDialogButtonBox,
            QHBoxLayout,
            QLineEdit,
            QPushButton,
        )

        from gui.widgets import plain_label

        super().__init__(parent)
        self.setWindowTitle("Export report")
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label("Save the full report as a PDF you can attach to a ticket.", self)
        )
        row = QHBoxLayout()
        self.path = QLineEdit(suggested, self)
        self.path.setAccessibleName("File to save")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.redact = QCheckBox("Hide internal host names and private addresses", self)
        self.redact.setAccessibleName("Redact the report")
        layout.addWidget(self.redact)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def _browse(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export report", self.path.text(), "PDF (*.pdf)"
        )
        if path:
            self.path.setText(path)
