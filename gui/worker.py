"""Runs a check off the GUI thread and reports back with signals.

The engine never imports Qt: its progress hook is a plain callable, called from its own threads.
Here that callable is a signal's ``emit``; because the receiver lives in the GUI thread, Qt queues
each event there. Cancelling sets the budget's flag, which the engine checks at least every 0.1 s.
"""

from __future__ import annotations

import contextlib
import threading
import traceback

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.budget import Cancelled, DeadlineExceeded, check_budget
from core.models import CheckReport, StageEvent
from gui.request import Request, form_words

_ORPHANS: set[QThread] = set()


class CheckWorker(QObject):
    """Lives in the worker thread for one check; emits exactly one of finished, cancelled,
    invalid or failed, then ``done``."""

    progress = Signal(object)  # StageEvent
    finished = Signal(object)  # CheckReport
    cancelled = Signal()
    invalid = Signal(str, str)  # form field, one sentence
    failed = Signal(str)  # unexpected error, for the details view
    done = Signal()

    def __init__(self, request: Request) -> None:
        super().__init__()
        self.request = request
        # The same bounds ``run_check`` would pick, but one we hold so we can cancel it.
        self.budget = check_budget(request.options.timeout)

    def _progress(self, event: StageEvent) -> None:
        self.progress.emit(event)

    @Slot()
    def run(self) -> None:
        # Imported here, on the worker's thread: the engine (and cryptography) never delays
        # the window's first paint.
        from core.catalogue import load_catalogue
        from core.diagnose import run_check
        from core.request import RequestError, load_trust, with_credentials

        try:
            load_catalogue()  # parse it here, not on the GUI thread when the report arrives
            options = with_credentials(self.request.spec, self.request.options, prompt=False)
            stores = load_trust(options)
            self.budget.check()
            report: CheckReport = run_check(
                self.request.target,
                options,
                progress=self._progress,
                budget=self.budget,
                stores=stores,
            )
        except Cancelled:
            self.cancelled.emit()
        except RequestError as exc:  # the client certificate, or the CA file
            self.invalid.emit(exc.field, form_words(exc))
        except DeadlineExceeded:
            self.failed.emit("The check ran out of time before it could finish.")
        except Exception as exc:
            detail = traceback.format_exc(limit=12)
            self.failed.emit(
                f"Something went wrong inside the check ({type(exc).__name__}).\n\n{detail}"
            )
        else:
            self.finished.emit(report)
        finally:
            self.done.emit()


class CheckRunner(QObject):
    """Owns at most one worker thread at a time, and relays its signals on the GUI thread."""

    progress = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    invalid = Signal(str, str)
    failed = Signal(str)
    runningChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: CheckWorker | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, request: Request) -> None:
        if self._thread is not None:
            raise RuntimeError("a check is already running")
        thread = QThread()
        thread.setObjectName("check")
        worker = CheckWorker(request)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self.finished)
        worker.cancelled.connect(self.cancelled)
        worker.invalid.connect(self.invalid)
        worker.failed.connect(self.failed)
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the GUI thread,
        # which may itself be waiting for this thread (closing the window during a check).
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.runningChanged.emit(True)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.budget.cancel()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel and wait for the thread; True when it ended in time."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        ended = bool(thread.wait(timeout_ms))
        if ended:
            self._thread_finished()
        else:
            # Never let a running QThread be destroyed (that aborts the process): keep it
            # referenced until it ends by itself.
            _ORPHANS.add(thread)
            thread.finished.connect(lambda: _ORPHANS.discard(thread))
        return ended

    @Slot()
    def _thread_finished(self) -> None:
        thread = self._thread
        if thread is None:
            return
        # ``finished`` is emitted from inside the thread, which still has a little cleanup to do;
        # wait for it to end completely before the last references go. Python owns the thread
        # and the worker (no Qt parent), so dropping them deletes both, here on the GUI thread,
        # and never while the thread could still touch them.
        thread.wait()
        self._thread = self._worker = None
        self.runningChanged.emit(False)


def warm_up_engine() -> threading.Thread:
    """Import the engine and index the trust stores on a background thread, started with the
    window: the first check then starts as fast as the tenth, instead of paying for
    cryptography's import and the stores while the user waits. Failures are left for the
    check itself to report, in its own words."""

    def work() -> None:
        with contextlib.suppress(Exception):
            import core.diagnose  # noqa: F401 - the import is the work
            from core.catalogue import load_catalogue
            from core.trust import warm_up

            warm_up()
            load_catalogue()

    # Not a daemon: at exit, Python waits for it (a fraction of a second at most) rather than
    # tearing an import down half-way.
    thread = threading.Thread(target=work, name="warm-up", daemon=False)
    thread.start()
    return thread
