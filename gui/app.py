"""The desktop window's entry point (a placeholder until the window issue lands)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Handshake Doctor")
    window.setCentralWidget(QLabel("Handshake Doctor"))
    window.resize(900, 640)
    window.show()
    return int(app.exec())
