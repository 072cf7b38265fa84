"""The "Check several…" dialog's background work: the list's checks on a Python thread, the
PDF of the selected results on Qt's thread pool. Each reports through signals, which Qt queues
to the dialog on the GUI thread; each stops when its cancel flag is set.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from core.batch import HostList
from core.models import CheckReport
from core.request import RequestSpec
from core.untrusted import visible


class BatchWorker(QObject):
    """Runs one list on a Python thread of its own (see gui.worker.CheckWorker for why not a
    QThread) and reports each check's start and end through signals, queued to the dialog."""

    started = Signal(int)
    result = Signal(object)  # BatchResult
    problem = Signal(str)  # the run could not start: the CA file, the client certificate
    done = Signal()

    def __init__(self, hosts: HostList, spec: RequestSpec, parallel: int) -> None:
        super().__init__()
        self.hosts = hosts
        self.spec = spec
        self.parallel = parallel
        self.cancel_event = threading.Event()

    def run(self) -> None:
        from core.batch import run_batch, with_credentials
        from core.request import RequestError, load_credentials, load_trust

        try:
            hosts = with_credentials(self.hosts, load_credentials(self.spec, prompt=False))
            stores = load_trust(hosts.jobs[0].options)
            batch = run_batch(
                hosts.jobs,
                parallel=self.parallel,
                stores=stores,
                cancel=self.cancel_event,
                on_start=self.started.emit,
            )
            with contextlib.closing(batch):
                for result in batch:
                    self.result.emit(result)
        except RequestError as exc:
            self.problem.emit(exc.words("window"))
        except Exception as exc:  # a bug of ours: said in the dialog, never a dead thread
            self.problem.emit(f"Something went wrong inside the checks ({type(exc).__name__}).")
        finally:
            self.done.emit()


class PdfWorker(QObject):
    """Writes one PDF of several reports on a thread of Qt's pool: laying out dozens of reports
    takes seconds, which the window must not freeze for. A Qt thread, not a Python one: text
    layout starts Qt timers, which need the thread's own event dispatcher."""

    progress = Signal(int, int)  # reports laid out, reports in all
    ended = Signal(str, bool)  # what to say, written or not

    def __init__(self, reports: list[CheckReport], path: Path, *, redact: bool) -> None:
        super().__init__()
        self.reports = reports
        self.path = path
        self.redact = redact
        self.cancel_event = threading.Event()
        self.finished = threading.Event()

    def _progress(self, done: int, total: int) -> bool:
        self.progress.emit(done, total)
        return not self.cancel_event.is_set()

    def run(self) -> None:
        count = f"{len(self.reports)} report" + ("s" if len(self.reports) != 1 else "")
        try:
            self._write(count)
        finally:
            self.finished.set()

    def _write(self, count: str) -> None:
        from gui import pdf

        try:
            pages = pdf.export_reports(
                self.reports, self.path, redact=self.redact, progress=self._progress
            )
        except pdf.ExportCancelled:
            self.ended.emit("Cancelled: the PDF was not written.", False)
        except OSError as exc:
            self.ended.emit(f"Could not export the reports: {exc}", False)
        except Exception as exc:  # a bug of ours: said, never a dead thread
            self.ended.emit(f"Could not export the reports ({type(exc).__name__}).", False)
        else:
            self.ended.emit(f"Saved {count} ({pages} pages) to {visible(str(self.path))}.", True)


class Runnable(QRunnable):
    """A callable for QThreadPool."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()
