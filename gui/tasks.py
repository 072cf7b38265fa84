"""Work that must not block the window (reading and validating a certificate file), run on
Qt's thread pool; its result or its error comes back to the GUI thread as a signal."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Signal


class _TaskSignals(QObject):
    done = Signal(object)
    error = Signal(object)  # the exception: its kind may say what to do next


class BackgroundTask(QRunnable):
    """A function run on the thread pool; its result or error comes back as a signal."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__()
        self.work = work
        self.signals = _TaskSignals()
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:
            self.signals.error.emit(exc)
        else:
            self.signals.done.emit(result)
