"""A bare PySide6 window, bundled by the same spec (``--bare``) as the yardstick for
benchmarks/startup.py: what any PySide6 app of this shape costs to start, frozen the same way.

It honours the same hook as the real app: with HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW=1 it prints
``shown`` right after the window is shown (once the event loop has run) and quits.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Bare window")
    window.setCentralWidget(QLabel("Bare window"))
    window.resize(900, 640)
    window.show()
    if os.environ.get("HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW") == "1":

        def done() -> None:
            print("shown", flush=True)
            app.quit()

        QTimer.singleShot(0, done)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
