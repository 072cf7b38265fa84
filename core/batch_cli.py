"""``check --hosts FILE``: many targets, a bounded number at once, one table at the end.

Standard output gets the table (or, with ``--json``, one contract object a line, each flushed as
its check ends: JSON Lines); standard error gets the lines that name no target, with their
numbers, and, on a terminal only, a progress line. ``--csv FILE`` writes the table to a file.

Exit status: the worst of the run. 0 every check works; 1 some check found a problem (or ran
out of time); 2 bad usage, or a line of the list that names no target (the other lines are
still checked and reported); 70 a check broke on a bug of ours; 130 interrupted (Ctrl-C: the
running checks are cancelled, the table shows those that ended).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.batch import (
    DEFAULT_PARALLEL,
    MAX_LIST_BYTES,
    MAX_PARALLEL,
    BatchResult,
    HostList,
    HostListError,
    Outcome,
    ParallelError,
    bad_line_row,
    parse_parallel,
    plan,
    run_batch,
    table_row,
    with_credentials,
)
from core.output import write_file, write_output
from core.request import RequestError, load_credentials
from core.untrusted import visible
from core.usage import EXIT_INTERNAL, EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, PROG, UsageError

if TYPE_CHECKING:
    from core.trust import TrustStores

EXIT_INTERRUPTED = 130


def _parallel(text: str) -> int:
    try:
        return parse_parallel(text)
    except ParallelError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_hosts_options(check: argparse.ArgumentParser) -> None:
    """``check``'s options for many targets (the contract's --hosts, --parallel, --csv)."""
    check.add_argument(
        "--hosts",
        metavar="FILE",
        help="check every target in FILE ('-': standard input), one a line: "
        "TARGET [ADDR[:PORT]], the second word the line's --connect address; "
        "'#' starts a comment",
    )
    check.add_argument(
        "--parallel",
        type=_parallel,
        metavar="N",
        help=f"with --hosts: checks at once, 1 to {MAX_PARALLEL} (default {DEFAULT_PARALLEL}); "
        "each check keeps its own connection cap and --gentle",
    )
    check.add_argument(
        "--csv", metavar="FILE", help="with --hosts: also write the table to FILE as CSV"
    )


def refuse_without_hosts(args: argparse.Namespace) -> None:
    """--parallel and --csv mean something only for a list."""
    for name in ("parallel", "csv"):
        if getattr(args, name, None) is not None:
            raise UsageError(f"--{name} is for a list of targets: give it with --hosts FILE")


def _read_list(name: str) -> str:
    if name == "-":
        stream = sys.stdin
        if stream is None:
            raise UsageError("--hosts -: standard input is closed")
        buffer = getattr(stream, "buffer", None)  # a text-only stream (an embedding's) has none
        try:
            data = (
                buffer.read(MAX_LIST_BYTES + 1)
                if buffer is not None
                else stream.read(MAX_LIST_BYTES + 1).encode("utf-8", "replace")
            )
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            raise UsageError(f"--hosts -: cannot read standard input: {reason}") from None
        where = "standard input"
    else:
        path = Path(name)
        where = visible(name, limit=200)
        if not path.exists():
            raise UsageError(f"--hosts: there is no file {where}")
        if path.is_dir():
            raise UsageError(f"--hosts: {where} is a folder, not a list of targets")
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_LIST_BYTES + 1)
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            raise UsageError(f"--hosts: cannot read {where}: {reason}") from None
    if len(data) > MAX_LIST_BYTES:
        raise UsageError(
            f"--hosts: {where} is larger than {MAX_LIST_BYTES // (1024 * 1024)} MB: "
            "it is not a list of targets"
        )
    if b"\0" in data:
        raise UsageError(f"--hosts: {where} is not text (one target a line)")
    return data.decode("utf-8-sig", errors="replace")


def _check_combinations(args: argparse.Namespace) -> None:
    if args.host is not None:
        raise UsageError(
            "give one target or --hosts FILE, not both (the target "
            f"{visible(args.host, limit=60)!r} could be a line of the list)"
        )
    if args.summary:
        raise UsageError("--summary is for one target; with --hosts the table is the summary")
    if args.connect is not None:
        raise UsageError(
            "--connect names one address, and --hosts many targets: put each target's address "
            "on its line instead, after the target (example.com 10.0.0.5)"
        )
    if args.json and args.csv == "-":
        raise UsageError("--json and --csv - would both write to standard output: name a file")


class _Progress:
    """ "12/50 checked, 3 failing" on standard error, only when it is a terminal."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = total
        self.done = 0
        self.failing = 0
        self._stream = stream if stream is not None and _isatty(stream) else None

    def count(self, result: BatchResult) -> None:
        if result.outcome is not Outcome.CANCELLED:
            self.done += 1
            self.failing += result.failing

    def show(self) -> None:
        if self._stream is not None:
            self._write(f"\r\x1b[K{self.done}/{self.total} checked, {self.failing} failing")

    def clear(self) -> None:
        if self._stream is not None:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        assert self._stream is not None
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def _say(text: str) -> None:
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"{PROG}: {text}\n")


def run_hosts(args: argparse.Namespace) -> int:
    """``check --hosts``: returns the exit status (see the module's docstring)."""
    from core import usage

    _check_combinations(args)
    text = _read_list(args.hosts)
    base = usage.spec_from_args(args)
    try:
        hosts = plan(text, base)
        hosts = with_credentials(hosts, load_credentials(base, prompt=True))
    except HostListError as exc:
        raise UsageError(f"--hosts: {exc}") from None
    except RequestError as exc:
        raise UsageError(str(exc)) from None
    where = "standard input" if args.hosts == "-" else visible(args.hosts, limit=200)
    for bad in hosts.bad:
        _say(f"{where}, line {bad.number}: {visible(bad.message, limit=300)}")
    if not hosts.jobs:
        if hosts.bad:
            return EXIT_USAGE
        raise UsageError(f"--hosts: {where} holds no targets (one a line; '#' starts a comment)")
    stores = usage.trust_from_options(hosts.jobs[0].options)
    results, interrupted = _run(args, hosts, stores)
    return _finish(args, hosts, results, interrupted)


def _run(
    args: argparse.Namespace, hosts: HostList, stores: TrustStores
) -> tuple[list[BatchResult], bool]:
    from core.render.json_out import report_dict

    parallel = args.parallel or DEFAULT_PARALLEL
    progress = _Progress(len(hosts.jobs), sys.stderr)
    results: list[BatchResult] = []
    cancel = threading.Event()
    progress.show()
    interrupted = False
    batch = run_batch(hosts.jobs, parallel=parallel, stores=stores, cancel=cancel)
    try:
        with contextlib.closing(batch):
            for result in batch:
                results.append(result)
                progress.count(result)
                if args.json and result.report is not None:
                    progress.clear()
                    line = json.dumps(report_dict(result.report), ensure_ascii=True)
                    write_output(line + "\n")
                elif result.outcome in (Outcome.FAILED, Outcome.TIMED_OUT):
                    progress.clear()
                    _say(
                        f"line {result.job.line.number}: "
                        f"{visible(result.job.line.target, limit=80)}: "
                        f"{visible(result.problem, limit=200)}"
                    )
                progress.show()
    except KeyboardInterrupt:
        cancel.set()
        interrupted = True
    finally:
        progress.clear()
    return results, interrupted


def _finish(
    args: argparse.Namespace,
    hosts: HostList,
    results: Sequence[BatchResult],
    interrupted: bool,
) -> int:
    from core.render.table import render_csv, render_table

    ended = sorted(
        (r for r in results if r.outcome is not Outcome.CANCELLED), key=lambda r: r.index
    )
    # Every line of the list, in its order: the bad ones too (stderr said why, the table
    # keeps the record whole).
    rows = sorted(
        [*(table_row(r) for r in ended), *(bad_line_row(b) for b in hosts.bad)],
        key=lambda row: row.line,
    )
    if not args.json and rows:
        import shutil

        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 120
        write_output(render_table(rows, width=width))
    if args.csv is not None:
        write_file(args.csv, render_csv(rows))
    if interrupted:
        _say(f"interrupted: {len(ended)} of {len(hosts.jobs)} targets checked")
        return EXIT_INTERRUPTED
    status = EXIT_OK
    if any(r.failing for r in ended):
        status = EXIT_PROBLEM
    if hosts.bad:
        status = EXIT_USAGE
    if any(r.outcome is Outcome.FAILED for r in ended):
        status = EXIT_INTERNAL
    return status
