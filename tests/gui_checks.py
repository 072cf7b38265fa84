"""Driving the main window as a user does in the GUI tests: Enter in the host field starts a
check, and the test waits for the window to say how it ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from gui.window import MainWindow


def press_enter_and_wait(qtbot: QtBot, win: MainWindow, timeout_ms: int) -> str:
    """Presses Enter in the host field and waits up to ``timeout_ms`` for the check it starts
    to end (a check that never ends fails the test); returns the window's word for the end."""
    with qtbot.waitSignal(win.checkEnded, timeout=timeout_ms) as ended:
        qtbot.keyClick(win.form.host, Qt.Key.Key_Return)
    return str(ended.args[0])
