"""The "Check several…" dialog's background checks: the list's checks on a Python thread,
reporting through signals, which Qt queues to the dialog on the GUI thread; they stop when the
cancel flag is set. (Its PDF is written by gui.pdf_worker, as the main window's is.)
"""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import QObject, Signal

from core.batch import HostList
from core.request import RequestSpec


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
