"""Time and cancellation bounds shared by every network step.

A check has one overall deadline and a per-step timeout; every blocking call asks the budget how
long it may wait, in slices short enough that a cancel takes effect well within a second.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

#: Longest single wait between two looks at the cancel flag.
CANCEL_SLICE_S = 0.1


class Cancelled(Exception):
    """The user cancelled the check; callers unwind without reporting a finding."""


class DeadlineExceeded(TimeoutError):
    """The step or the whole check ran out of time."""


@dataclass
class Budget:
    """``step_timeout`` bounds each network step; ``total`` bounds the whole check."""

    step_timeout: float
    total: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _deadline: float = field(init=False)

    def __post_init__(self) -> None:
        total = self.total if self.total is not None else self.step_timeout * 4 + 5
        self._deadline = time.monotonic() + total

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    def check(self) -> None:
        """Raise if cancelled or out of time; call between steps."""
        if self.cancel_event.is_set():
            raise Cancelled
        if self.remaining() <= 0:
            raise DeadlineExceeded("the check ran out of time")

    def step_deadline(self, timeout: float | None = None) -> float:
        """Monotonic time by which the current step must end: its timeout, capped by the total."""
        step = self.step_timeout if timeout is None else timeout
        return min(time.monotonic() + step, self._deadline)

    def child(self, timeout: float | None = None) -> Budget:
        """A budget for one sub-step that shares this one's cancel flag and never outlives it."""
        step = self.step_timeout if timeout is None else timeout
        return Budget(
            step, total=max(0.0, min(step, self.remaining())), cancel_event=self.cancel_event
        )


def check_budget(timeout: float) -> Budget:
    """The budget of one whole check with this per-step timeout. Whoever starts a check (the
    command line, the window's worker) holds it, so it can cancel; ``run_check`` makes the
    same one when given none. The total leaves room for the handshake, the clock and the
    certificate stages each taking a full step, plus the enumeration's own pacing."""
    return Budget(timeout, total=timeout * 3 + 5)


def wait_slice(deadline: float) -> float:
    """How long one blocking wait may last before looking at the cancel flag again."""
    return max(0.0, min(CANCEL_SLICE_S, deadline - time.monotonic()))
