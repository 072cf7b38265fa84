"""Runs a check off the GUI thread and reports back with signals.

The engine never imports Qt: its progress hook is a plain callable, called from its own threads.
Here that callable is a signal's ``emit``; because the receiver lives in the GUI thread, Qt queues
each event there. Cancelling sets the budget's flag, which the engine checks at least every 0.1 s.
"""

from __future__ import annotations

import contextlib
import threading
import traceback

from PySide6.QtCore import QObject, QTimer, Signal

from core.budget import Cancelled, DeadlineExceeded, check_budget
from core.models import CheckReport, StageEvent
from gui.request import Request, form_words


class CheckWorker(QObject):
    """Runs one check on a Python thread of its own; emits exactly one of finished, cancelled,
    invalid or failed (also kept in ``outcome``), then ``done``.

    A Python thread rather than a QThread: a QThread that is still running when Python drops
    it aborts the whole process ("QThread: Destroyed while thread is still running"), and a
    step that does not honour a cancel at once (a slow fetch) must never be able to do that
    to a window being closed."""

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
        #: (signal name, its arguments), set by the worker's thread just before it emits them.
        self.outcome: tuple[str, tuple[object, ...]] | None = None
        self.ended = threading.Event()

    def _progress(self, event: StageEvent) -> None:
        self.progress.emit(event)

    def _end(self, name: str, *args: object) -> None:
        self.outcome = (name, args)
        getattr(self, name).emit(*args)

    def run(self) -> None:
        try:
            self._run()
        finally:
            self.ended.set()
            self.done.emit()

    def _run(self) -> None:
        # Imported here, on the worker's thread: the engine (and cryptography) never delays
        # the window's first paint.
        from core.catalogue import load_catalogue
        from core.diagnose import run_check
        from core.request import RequestError, load_trust, with_credentials

        try:
            load_catalogue()  # parse it here, not on the GUI thread when the report arrives
            self.budget.check()
            # Bounded by core.certs' count of the file's password work, refused past
            # MAX_PKCS12_ROUNDS; one derivation cannot be interrupted (it holds the GIL).
            options = with_credentials(self.request.spec, self.request.options, prompt=False)
            self.budget.check()
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
            self._end("cancelled")
        except RequestError as exc:  # the client certificate, or the CA file
            self._end("invalid", exc.field, form_words(exc))
        except DeadlineExceeded:
            self._end("failed", "The check ran out of time before it could finish.")
        except Exception as exc:
            detail = traceback.format_exc(limit=12)
            self._end(
                "failed",
                f"Something went wrong inside the check ({type(exc).__name__}).\n\n{detail}",
            )
        else:
            self._end("finished", report)


class CheckRunner(QObject):
    """Owns at most one check at a time, and relays its worker's signals on the GUI thread.

    The check's end is known from the worker itself (its ``ended`` flag and ``outcome``), not
    from one queued delivery: each relayed signal says which worker sent it, a late one from
    an earlier check is dropped, and a watchdog ends a check whose outcome never arrived."""

    progress = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    invalid = Signal(str, str)
    failed = Signal(str)
    runningChanged = Signal(bool)

    #: How often the watchdog looks at a running worker.
    WATCH_MS = 250

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: CheckWorker | None = None
        self._thread: threading.Thread | None = None
        #: Ended or let-go checks, referenced until their thread is over, so that each worker
        #: is deleted here on the GUI thread and never by the last reference its thread drops.
        self._retired: list[tuple[CheckWorker, threading.Thread]] = []
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(self.WATCH_MS)
        self._watchdog.timeout.connect(self._watch)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self, request: Request) -> None:
        if self._worker is not None:
            self._watch()  # it may have ended with its outcome still on the way
        if self._worker is not None:
            raise RuntimeError("a check is already running")
        worker = CheckWorker(request)
        worker.progress.connect(self._relay_progress)
        for name in ("finished", "cancelled", "invalid", "failed"):
            getattr(worker, name).connect(self._relay_outcome)
        thread = threading.Thread(target=worker.run, name="check", daemon=True)
        self._worker, self._thread = worker, thread
        thread.start()
        self._watchdog.start()
        self.runningChanged.emit(True)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.budget.cancel()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Cancel and wait for the check, at most ``timeout_ms``; True when it ended in time.
        A check that does not end in time is let go: its thread is a daemon (it never holds
        the process open), and nothing it emits afterwards reaches the window."""
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return True
        self.cancel()
        thread.join(timeout_ms / 1000)
        ended = not thread.is_alive()
        if not ended:
            _disconnect(worker)
        self._clear()
        return ended

    def _relay_progress(self, event: object) -> None:
        if self.sender() is self._worker:
            self.progress.emit(event)

    def _relay_outcome(self, *_args: object) -> None:
        if self.sender() is self._worker:
            self._watch()

    def _watch(self) -> None:
        """End the current check if its worker has an outcome: relay it once, then let go."""
        worker = self._worker
        if worker is None or worker.outcome is None:
            return
        name, args = worker.outcome
        if self._thread is not None:
            self._thread.join(1.0)  # it has only ``done`` left to emit
        self._clear()
        getattr(self, name).emit(*args)

    def _clear(self) -> None:
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return
        self._watchdog.stop()
        self._retired = [(w, t) for w, t in self._retired if t.is_alive()]
        self._retired.append((worker, thread))
        self._worker = self._thread = None
        self.runningChanged.emit(False)


def _disconnect(worker: CheckWorker) -> None:
    for signal in (worker.progress, worker.finished, worker.cancelled, worker.invalid):
        with contextlib.suppress(RuntimeError, TypeError):
            signal.disconnect()
    with contextlib.suppress(RuntimeError, TypeError):
        worker.failed.disconnect()


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
