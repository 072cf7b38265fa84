"""Many targets at once: reading a host list, checking it with a bounded number of checks at a
time, and folding each report into one table row.

Shared by ``check --hosts`` (core/batch_cli.py) and the window's "Check several…" dialog, so both
read a list the same way and a slow or stuck host costs the same everywhere: its own budget,
never the others'. Each line goes through ``core.request.validate`` like a single target, so
whatever that learns (new URL schemes, new options) a list learns too.

A line is ``TARGET [ADDR[:PORT]]``: the second field is that line's ``--connect`` address
(one ``--connect`` cannot name where each of many hosts lives). ``#`` starts a comment at the
start of a line or after a space (an URL's ``#fragment`` is not one); blank lines are skipped.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import enum
import math
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.budget import Cancelled, DeadlineExceeded, check_budget
from core.models import CheckOptions, CheckReport, ClientCredentials, Target, Verdict
from core.request import RequestError, RequestSpec, validate

if TYPE_CHECKING:
    from core.catalogue import Catalogue
    from core.trust import TrustStores

#: ``--parallel``'s default and its bounds. Above 32, checks from one process only queue for
#: the interpreter and the CPU, and a network's intrusion detection starts to see a scan.
DEFAULT_PARALLEL = 4
MAX_PARALLEL = 32
#: A list longer than this is refused before anything is checked: a mistake (a log file given
#: for a host list), not a plan.
MAX_LINES = 10_000
#: A host list is text a person wrote: more than this is a wrong file, not a list.
MAX_LIST_BYTES = 4 * 1024 * 1024
#: Fields of the request a line may set; any other RequestError is about the whole run.
_LINE_FIELDS = frozenset({"host", "connect"})


class HostListError(ValueError):
    """The list as a whole cannot be checked (too long, unreadable, no targets at all)."""


class ParallelError(ValueError):
    """``--parallel`` (or the dialog's count) is not a number of checks we run at once."""


def parse_parallel(text: str) -> int:
    """The number of checks at once, from what was typed; raises ParallelError."""
    shown = text.strip()[:40]
    if not shown.isascii() or not shown.isdigit():
        raise ParallelError(
            f"--parallel must be a whole number of checks at once, from 1 to {MAX_PARALLEL}, "
            f"not {shown!r}"
        )
    value = int(shown)
    if not 1 <= value <= MAX_PARALLEL:
        raise ParallelError(
            f"--parallel must be from 1 to {MAX_PARALLEL} checks at once, not {value}"
            + (": with 0 nothing would be checked" if value == 0 else "")
        )
    return value


@dataclass(frozen=True)
class HostLine:
    """One target of a list as written: its line number (from 1), the target, and the
    address to connect to instead of resolving it, if the line names one."""

    number: int
    target: str
    connect: str | None = None


@dataclass(frozen=True)
class BadLine:
    """A line that names no target we can check, and the sentence that says why."""

    number: int
    text: str
    message: str


@dataclass(frozen=True)
class BatchJob:
    """One line, validated: what ``run_check`` needs, and the line it came from."""

    line: HostLine
    target: Target
    options: CheckOptions


@dataclass(frozen=True)
class HostList:
    jobs: tuple[BatchJob, ...]
    bad: tuple[BadLine, ...]


def _strip_comment(text: str) -> str:
    for index, char in enumerate(text):
        if char == "#" and (index == 0 or text[index - 1].isspace()):
            return text[:index]
    return text


def read_lines(text: str) -> tuple[list[HostLine], list[BadLine]]:
    """Split a list into its target lines and the lines that are malformed as lines (too many
    fields); what each target means is ``plan``'s job."""
    lines: list[HostLine] = []
    bad: list[BadLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = _strip_comment(raw).split()
        if not fields:
            continue
        if len(fields) > 2:
            bad.append(
                BadLine(
                    number,
                    raw,
                    "a line holds one target and, optionally, the address to connect to "
                    f"(TARGET [ADDR[:PORT]]), not {len(fields)} words",
                )
            )
            continue
        lines.append(HostLine(number, fields[0], fields[1] if len(fields) == 2 else None))
    return lines, bad


def plan(text: str, base: RequestSpec) -> HostList:
    """Validate every line of ``text`` as ``base`` with that line's target (and connect
    address). A line's own problem becomes a BadLine; a problem of the options every line
    shares (a missing CA file) raises RequestError, since no line could be checked."""
    if text.count("\n") >= MAX_LINES:
        raise HostListError(f"the list has more than {MAX_LINES:,} lines; split it up")
    lines, bad = read_lines(text)
    jobs: list[BatchJob] = []
    for line in lines:
        spec = replace(base, host=line.target, connect=line.connect)
        try:
            target, options = validate(spec)
        except RequestError as exc:
            if exc.field not in _LINE_FIELDS:
                raise
            about = "the connect address (second word): " if exc.field == "connect" else ""
            bad.append(BadLine(line.number, line.target, about + str(exc)))
            continue
        jobs.append(BatchJob(line, target, options))
    bad.sort(key=lambda b: b.number)
    return HostList(tuple(jobs), tuple(bad))


def with_credentials(hosts: HostList, credentials: ClientCredentials | None) -> HostList:
    """Every line with the one client certificate of the run (loaded once: a PKCS#12
    password's key derivation is not paid per line)."""
    if credentials is None:
        return hosts
    jobs = tuple(
        replace(j, options=replace(j.options, client_credentials=credentials)) for j in hosts.jobs
    )
    return replace(hosts, jobs=jobs)


class Outcome(enum.StrEnum):
    """How one line's check ended."""

    CHECKED = "checked"
    #: Cancelled before or while it ran (Ctrl-C, the dialog's Cancel).
    CANCELLED = "cancelled"
    #: The check ran past its overall deadline: no report.
    TIMED_OUT = "timed out"
    #: The check itself broke on a bug of ours: no report.
    FAILED = "failed"


@dataclass(frozen=True)
class BatchResult:
    """One job's end. ``index`` is the job's place in the list (the table's order)."""

    index: int
    job: BatchJob
    outcome: Outcome
    report: CheckReport | None = None
    problem: str = ""
    duration_s: float = 0.0

    @property
    def failing(self) -> bool:
        """Would ``check`` exit with 1 for this one alone?"""
        from core.usage import exit_status

        if self.report is None:
            return self.outcome in (Outcome.FAILED, Outcome.TIMED_OUT)
        return exit_status(self.report) != 0


RunCheck = Callable[..., CheckReport]


def _run_one(
    index: int,
    job: BatchJob,
    stores: TrustStores,
    cancel: threading.Event,
    on_start: Callable[[int], None] | None,
    run_check: RunCheck,
) -> BatchResult:
    if cancel.is_set():
        return BatchResult(index, job, Outcome.CANCELLED)
    if on_start is not None:
        on_start(index)
    # The budget starts with the check, not when the list was read: a line waiting its turn
    # must not spend its time queueing. It shares the list's cancel flag.
    budget = check_budget(job.options.timeout)
    budget.cancel_event = cancel
    started = time.monotonic()
    try:
        report = run_check(job.target, job.options, budget=budget, stores=stores)
    except Cancelled:
        return BatchResult(index, job, Outcome.CANCELLED, duration_s=time.monotonic() - started)
    except DeadlineExceeded:
        return BatchResult(
            index,
            job,
            Outcome.TIMED_OUT,
            problem="the check ran out of time before it could finish",
            duration_s=time.monotonic() - started,
        )
    except Exception as exc:  # a bug of ours in one check: the others still run
        return BatchResult(
            index,
            job,
            Outcome.FAILED,
            problem=f"internal error ({type(exc).__name__}): {str(exc)[:160]}",
            duration_s=time.monotonic() - started,
        )
    return BatchResult(index, job, Outcome.CHECKED, report, duration_s=time.monotonic() - started)


def run_batch(
    jobs: Sequence[BatchJob],
    *,
    parallel: int,
    stores: TrustStores,
    cancel: threading.Event | None = None,
    on_start: Callable[[int], None] | None = None,
    run_check: RunCheck | None = None,
) -> Generator[BatchResult, None, None]:
    """Check ``jobs``, at most ``parallel`` at once, yielding each result as it ends.

    Each check keeps its own politeness (the prober's connection cap, ``gentle``) and its own
    budget. Setting ``cancel``, or leaving the loop early (Ctrl-C raising KeyboardInterrupt in
    the caller's thread, a ``break``), cancels the running checks and drops the waiting ones;
    the generator returns only once every running check has ended (within the engine's cancel
    slice), so no check outlives the list. ``on_start(index)`` is called from the check's own
    thread when it begins."""
    if run_check is None:
        from core.diagnose import run_check as engine_check

        run_check = engine_check
    cancel = cancel if cancel is not None else threading.Event()
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, min(parallel, MAX_PARALLEL)), thread_name_prefix="batch"
    )
    try:
        pending = {
            pool.submit(_run_one, index, job, stores, cancel, on_start, run_check)
            for index, job in enumerate(jobs)
        }
        while pending:
            done, pending = concurrent.futures.wait(
                pending, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                yield future.result()
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class TableRow:
    """One line of the final table: what a person scanning fifty hosts needs first."""

    line: int
    target: str
    #: "ok", "warning", "error", "critical", or "cancelled" / "failed" without a report.
    verdict: str
    cause_id: str | None
    cause_title: str | None
    #: Days from the check to the leaf's notAfter (negative once expired); None without a leaf.
    days_left: int | None
    problem: str = ""


def days_left(report: CheckReport) -> int | None:
    """Whole days from the check's start to the leaf's notAfter, rounded down."""
    leaf = next((c for c in report.certificates if c.sent_by_server), None)
    if leaf is None:
        return None
    seconds = (leaf.not_after - report.started_at.astimezone(dt.UTC)).total_seconds()
    return math.floor(seconds / 86400)


def table_row(result: BatchResult, catalogue: Catalogue | None = None) -> TableRow:
    report = result.report
    line = result.job.line
    if report is None:
        target = _target_text(result.job.target)
        return TableRow(line.number, target, result.outcome.value, None, None, None, result.problem)
    return report_row(report, line.number, catalogue)


def report_row(report: CheckReport, line: int, catalogue: Catalogue | None = None) -> TableRow:
    """The table's row for one report: the cause named only when the verdict is not ok (an
    info finding is no cause)."""
    cause = report.cause if report.verdict is not Verdict.OK else None
    title = None
    if cause is not None:
        if catalogue is None:
            from core.catalogue import load_catalogue

            catalogue = load_catalogue()
        title = catalogue.title(cause)
    return TableRow(
        line,
        _target_text(report.target),
        report.verdict.value,
        cause.id.value if cause is not None else None,
        title,
        days_left(report),
    )


BAD_LINE = "bad line"


def bad_line_row(bad: BadLine) -> TableRow:
    """A line that names no target, as the table shows it: its text and why."""
    from core.untrusted import visible

    return TableRow(
        bad.number, visible(bad.text, limit=120), BAD_LINE, None, None, None, bad.message
    )


def _target_text(target: Target) -> str:
    text = target.display()
    if target.connect_address:
        text += f" via {target.connect_address}"
    return text


#: Worst first: the order the table sorts the verdict column by, and the exit status's.
VERDICT_RANK = {
    "ok": 0,
    "warning": 1,
    "cancelled": 2,
    "error": 3,
    "timed out": 3,
    "failed": 4,
    "critical": 5,
    "bad line": 6,
}
