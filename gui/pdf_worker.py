"""Writing a PDF in the background, cancellably: the one way the window (one report) and the
"Check several…" dialog (a selection, with a cover page) write theirs.

The whole PDF is laid out and printed on a thread of Qt's pool: QTextDocument, QPrinter and
QPainter on a QImage are usable outside the GUI thread (no QPixmap, no widget is touched), and
laying out a long report takes long enough to freeze the window. Only starting the job and
showing how it ended run on the GUI thread, through queued signals. A Qt thread, not a Python
one: text layout starts Qt timers, which need the thread's own event dispatcher.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

if TYPE_CHECKING:
    from gui.pdf import Progress

#: ``write(progress)`` writes the PDF and returns its page count (see ``gui.pdf``).
WritePdf = Callable[["Progress"], int]


class PdfWorker(QObject):
    """One PDF written on Qt's pool. ``progress(done, total)`` counts the reports laid out;
    ``ended(sentence, written)`` says how it ended, in words for the status line: never a
    traceback, whatever went wrong (a full disk, a folder that cannot be written)."""

    progress = Signal(int, int)  # reports laid out, reports in all
    ended = Signal(str, bool)  # what to say, written or not

    def __init__(self, write: WritePdf, *, failure: str, saved: Callable[[int], str]) -> None:
        """``failure`` starts the sentence for an error ("Could not export the report");
        ``saved(pages)`` is the sentence for a written PDF."""
        super().__init__()
        self._write_pdf = write
        self._failure = failure
        self._saved = saved
        self.cancel_event = threading.Event()
        self.finished = threading.Event()

    def start(self) -> None:
        """Queue the work on Qt's global thread pool."""
        QThreadPool.globalInstance().start(_Runnable(self.run))

    def _progress(self, done: int, total: int) -> bool:
        self.progress.emit(done, total)
        return not self.cancel_event.is_set()

    def run(self) -> None:
        try:
            self._write()
        finally:
            self.finished.set()

    def _write(self) -> None:
        from gui import pdf  # QtPrintSupport: loaded with the first PDF, not with the window

        try:
            pages = self._write_pdf(self._progress)
        except pdf.ExportCancelled:
            self.ended.emit("Cancelled: the PDF was not written.", False)
        except OSError as exc:
            self.ended.emit(f"{self._failure}: {exc}", False)
        except Exception as exc:  # a bug of ours: said, never a dead thread
            self.ended.emit(f"{self._failure} ({type(exc).__name__}).", False)
        else:
            self.ended.emit(self._saved(pages), True)

    def stop(self, timeout_s: float) -> bool:
        """Cancel, wait at most ``timeout_s`` for the thread, and disconnect the signals (the
        receiver may be going away); True when the work has ended."""
        self.cancel_event.set()
        ended = self.finished.wait(timeout_s)
        for signal in (self.progress, self.ended):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect()
        return ended


class PdfJobs:
    """The one PDF a window (or the many-hosts dialog) writes at a time, and the workers it let
    go: each is referenced until its thread is over, since a pool thread may still emit the
    signals of a worker whose job ended (or was given up at closing)."""

    def __init__(self) -> None:
        self.current: PdfWorker | None = None
        self._retired: list[PdfWorker] = []

    @property
    def running(self) -> bool:
        return self.current is not None

    def start(self, worker: PdfWorker) -> None:
        self.current = worker
        worker.start()

    def cancel(self) -> bool:
        """Ask the running job to stop; False when none runs."""
        if self.current is None:
            return False
        self.current.cancel_event.set()
        return True

    def is_current(self, sender: object) -> bool:
        """For the slots: whether a signal comes from the running job (not one let go)."""
        return self.current is not None and sender is self.current

    def ended(self, sender: object) -> bool:
        """For the ``ended`` slot: when ``sender`` is the running job, wait for it to return
        (it has only that left to do), retire it and say True."""
        if self.current is None or not self.is_current(sender):
            return False
        self.current.finished.wait(1.0)
        self._retire()
        return True

    def stop(self, timeout_s: float) -> None:
        """Cancel the running job and wait for it at most ``timeout_s`` (closing)."""
        if self.current is not None:
            self.current.stop(timeout_s)
            self._retire()

    def _retire(self) -> None:
        if self.current is not None:
            self._retired = [w for w in self._retired if not w.finished.is_set()]
            self._retired.append(self.current)
        self.current = None


class _Runnable(QRunnable):
    """A callable for QThreadPool."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()
