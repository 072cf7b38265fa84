"""Runs a check off the GUI thread and reports back with signals.

The engine never imports Qt: its progress hook is a plain callable, called from its own threads.
Here that callable is a signal's ``emit``; because the receiver lives in the GUI thread, Qt queues
each event there. Cancelling sets the budget's flag, which the engine checks at least every 0.1 s.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import traceback
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from core.budget import Budget, Cancelled, DeadlineExceeded
from core.models import CheckReport, ClientCredentials, StageEvent
from gui.request import ClientCertSpec, Request

#: core.credentials words its errors for the command line ("give it with --client-key"); the
#: window names its own fields instead. Longest first: one option's name starts another's.
_OPTION_WORDS = (
    ("give it with --client-key", "choose the key file in the Client key field"),
    (" (--client-key)", ""),  # "The private key in key.pem (--client-key) does not belong ..."
    ("--client-cert-password-env", "the Password field"),
    ("--client-key", "the Client key field"),
    ("--client-cert", "the Client certificate field"),
)


def load_credentials(spec: ClientCertSpec) -> ClientCredentials:
    """The client certificate with the password typed into the form (never a terminal prompt:
    an empty field means "no password"). Raises CredentialsError with one sentence."""
    from core.credentials import load_client_credentials

    return load_client_credentials(spec.cert, spec.key, password=spec.password.encode())


def credentials_problem(message: str) -> tuple[str, str]:
    """The form field a client-certificate problem belongs under, and its sentence in the
    window's words: a missing, unreadable or mismatched key goes under Client key."""
    about_key = "--client-key" in message or "client key" in message.lower()
    for option, words in _OPTION_WORDS:
        message = message.replace(option, words)
    return ("client_key" if about_key else "client_cert"), message


def overlap_available() -> bool:
    """Whether this build has the protocol and cipher enumeration (it lands separately)."""
    try:
        return (
            importlib.util.find_spec("core.analyze.overlap") is not None
            and importlib.util.find_spec("core.probe.hello") is not None
        )
    except (ImportError, ValueError):
        return False


def budget_for(timeout: float) -> Budget:
    """The same bounds ``run_check`` would pick, but one we hold so we can cancel it."""
    return Budget(timeout, total=timeout * 3 + 5)


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
        self.budget = budget_for(request.options.timeout)
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
        from core.credentials import CredentialsError
        from core.diagnose import CheckError, run_check

        try:
            load_catalogue()  # parse it here, not on the GUI thread when the report arrives
            options = self.request.options
            if not options.quick and not overlap_available():
                options = replace(options, quick=True)
            if self.request.client_cert is not None:
                self.budget.check()
                # Bounded by core.certs' count of the file's password work, refused past
                # MAX_PKCS12_ROUNDS; one derivation cannot be interrupted (it holds the GIL).
                credentials = load_credentials(self.request.client_cert)
                options = replace(options, client_credentials=credentials)
            self.budget.check()
            report: CheckReport = run_check(
                self.request.target, options, progress=self._progress, budget=self.budget
            )
        except Cancelled:
            self._end("cancelled")
        except CredentialsError as exc:
            self._end("invalid", *credentials_problem(str(exc)))
        except CheckError as exc:
            self._end("invalid", "ca_file", str(exc).removeprefix("--ca-file: "))
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
