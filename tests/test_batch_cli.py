"""``check --hosts``: many targets against real loopback servers of mixed kinds, as real
``python -m handshake_doctor`` processes.

The fleet's servers count how many of them have a client at the same moment, so "never more
than --parallel at once" is measured where a firewall would see it: at the servers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.batch_servers import (
    EXPIRED,
    GOOD,
    MIXED,
    REFUSED,
    STUCK,
    WRONG_NAME_VIA,
    Host,
    Kind,
    closed_port,
    fleet,
)
from tests.pki import Pki
from tests.timing import within
from tests.tls_servers import ConcurrencyGauge

ROOT_DIR = Path(__file__).resolve().parent.parent
#: Long enough that a loaded machine never times out a server that answers; the stuck hosts
#: wait it out whole.
TIMEOUT = 3.0
FAST = ["--no-network-time", "--quick", "--timeout", str(TIMEOUT)]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "handshake_doctor", "check", *args]


def _run(
    args: Sequence[str], *, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT_DIR,
        env=dict(os.environ, PYTHONWARNINGS=""),
    )


def _start(*args: str, stdin: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """The check command started, not waited for, its output in pipes: for the tests that
    read its lines as they come, interrupt it, or run several at once."""
    return subprocess.Popen(
        _command(*args),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT_DIR,
    )


def _main_cause(obj: dict[str, Any]) -> str | None:
    """The JSON's most severe finding above info, the first of equals (the table's cause)."""
    rank = {"warning": 1, "error": 2, "critical": 3}
    worst: tuple[int, str] | None = None
    for finding in obj["findings"]:
        level = rank.get(finding["severity"], 0)
        if level and (worst is None or level > worst[0]):
            worst = (level, finding["id"])
    return worst[1] if worst else None


def _shape(value: Any) -> Any:
    """The structure of a JSON value: the keys of objects, the kind of everything else."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return "list"
    return "value"


#: 50 hosts: two stuck ones (at the front and in the middle: each costs a full --timeout) and
#: six of each mixed kind, one reached by a name its certificate lacks through the line's own
#: connect address.
FIFTY: list[Kind] = [STUCK, *MIXED * 3, STUCK, *MIXED * 3]
FIFTY[-1] = WRONG_NAME_VIA
BAD_LINES = {"localhost:99999": "out of range", "one two three": "not 3 words", ":8443": "empty"}


def _list_text(hosts: Sequence[Host]) -> tuple[str, dict[int, str]]:
    """The list file: the hosts with comments, blank lines and three bad lines among them;
    and the bad lines' numbers."""
    lines = ["# the fleet", ""]
    bad: dict[int, str] = {}
    for index, host in enumerate(hosts):
        if index in (5, 20, 40):
            text = list(BAD_LINES)[(5, 20, 40).index(index)]
            lines.append(text)
            bad[len(lines)] = text
        lines.append(f"{host.line}   # {host.kind.name}" if index % 3 else host.line)
    return "\n".join(lines) + "\n", bad


def test_fifty_hosts(pki: Pki, root_file: Path, tmp_path: Path) -> None:
    """The right verdict and cause per host, JSON Lines, the CSV, bad lines by number, never
    more than --parallel servers busy at once, and the whole list in about the time of its
    slowest check."""
    gauge = ConcurrencyGauge()
    with fleet(pki, FIFTY, gauge=gauge) as hosts:
        text, bad = _list_text(hosts)
        listing = tmp_path / "hosts.txt"
        listing.write_text(text)
        table = tmp_path / "table.csv"
        started = time.monotonic()
        result = _run(
            [
                *("--hosts", str(listing), "--parallel", "4", "--json", "--csv", str(table)),
                *("--ca-file", str(root_file), *FAST),
            ]
        )
        wall = time.monotonic() - started

    # Every good line is a contract object on a line of its own.
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == len(hosts) == 50
    by_port = {obj["target"]["port"]: obj for obj in objects}
    for host in hosts:
        obj = by_port[host.port]
        seen = (obj["verdict"], _main_cause(obj))
        assert seen == (host.kind.verdict, host.kind.cause), (host, obj["findings"])

    # A bad line costs its own line only, named by its number; the exit status says bad input.
    assert result.returncode == 2
    err_lines = result.stderr.splitlines()
    assert len(err_lines) == len(bad), result.stderr
    for (number, line_text), err in zip(sorted(bad.items()), err_lines, strict=True):
        assert err.startswith(f"handshake-doctor: {listing}, line {number}: "), err
        assert BAD_LINES[line_text] in err
    assert "Traceback" not in result.stderr

    # The table, in the list's order, with the same verdicts and the days left.
    every = list(csv.DictReader(io.StringIO(table.read_text())))
    # Every line of the list in its order, the bad ones with their line numbers and reasons.
    assert [int(r["line"]) for r in every] == sorted(int(r["line"]) for r in every)
    bad_rows = [r for r in every if r["verdict"] == "bad line"]
    assert [(int(r["line"]), r["target"]) for r in bad_rows] == sorted(bad.items())
    for row in bad_rows:
        assert BAD_LINES[row["target"]] in row["problem"]
    rows = [r for r in every if r["verdict"] != "bad line"]
    assert [r["target"] for r in rows] == [
        h.line.split()[0] if h.kind is not WRONG_NAME_VIA else f"{h.line.split()[0]} via 127.0.0.1"
        for h in hosts
    ]
    for row, host in zip(rows, hosts, strict=True):
        assert (row["verdict"], row["cause_id"] or None) == (host.kind.verdict, host.kind.cause)
        if host.kind is EXPIRED:
            assert row["days_left"] == "-10"
        elif host.kind.name == "expires-soon":
            assert row["days_left"] == "10"
        elif host.kind is GOOD:
            assert int(row["days_left"]) == 89
        elif host.kind in (REFUSED, STUCK):
            assert row["days_left"] == ""

    # Polite: never more than 4 servers busy at once, yet really 4 at a time.
    assert 2 <= gauge.max_servers <= 4, gauge.max_servers
    slowest = max(obj["duration_ms"] for obj in objects) / 1000
    assert slowest >= TIMEOUT  # the stuck hosts waited their whole timeout
    # The stuck hosts take a slot each for their whole timeout while the others share the rest:
    # the list ends about when its slowest check does (the margin: the process's own start).
    assert wall < within(slowest + 1.5), f"{wall:.1f} s for a slowest check of {slowest:.1f} s"


def test_stdin_and_the_single_checks_object(pki: Pki, root_file: Path) -> None:
    """``--hosts -`` reads standard input; each line is the very object ``check --json``
    prints for that target, in the same shape."""
    gauge = ConcurrencyGauge()
    with fleet(pki, [GOOD, EXPIRED, REFUSED], gauge=gauge) as hosts:
        listed = _run(
            ["--hosts", "-", "--json", "--ca-file", str(root_file), *FAST],
            stdin="".join(f"{h.line}\n" for h in hosts),
        )
        singles = [
            json.loads(_run([h.line, "--json", "--ca-file", str(root_file), *FAST]).stdout)
            for h in hosts
        ]
    assert listed.returncode == 1, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3
    objects = {json.loads(line)["target"]["port"]: json.loads(line) for line in lines}
    for host, single in zip(hosts, singles, strict=True):
        obj = objects[host.port]
        assert _shape(obj) == _shape(single)
        for field in ("target", "verdict", "certificates", "trust", "protocols"):
            assert obj[field] == single[field], field
        assert [f["id"] for f in obj["findings"]] == [f["id"] for f in single["findings"]]


def test_each_json_line_comes_as_its_check_ends(pki: Pki, root_file: Path) -> None:
    """JSON Lines are flushed one by one: a good host's object is there while a stuck one
    still waits out its timeout."""
    gauge = ConcurrencyGauge()
    with fleet(pki, [STUCK, GOOD], gauge=gauge) as hosts:
        process = _start(
            *("--hosts", "-", "--json", "--parallel", "2", "--ca-file", str(root_file)),
            *("--no-network-time", "--quick", "--timeout", "2"),
            stdin=subprocess.PIPE,
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("".join(f"{h.line}\n" for h in hosts))
            process.stdin.close()
            first = json.loads(process.stdout.readline())
            assert process.poll() is None  # the stuck host is still being waited for
            out = process.stdout.read()  # to the end: the stuck host's own line
            process.wait(30)
        finally:
            process.kill()
            process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
    assert process.returncode == 1
    assert first["target"]["port"] == hosts[1].port and first["verdict"] == "ok"
    assert json.loads(out)["target"]["port"] == hosts[0].port


def test_exit_status_is_the_worst_check(pki: Pki, root_file: Path, tmp_path: Path) -> None:
    gauge = ConcurrencyGauge()
    with fleet(pki, [GOOD, GOOD, EXPIRED], gauge=gauge) as hosts:
        good = tmp_path / "good.txt"
        good.write_text("".join(f"{h.line}\n" for h in hosts[:2]))
        mixed = tmp_path / "mixed.txt"
        mixed.write_text("".join(f"{h.line}\n" for h in hosts))
        all_good = _run(["--hosts", str(good), "--ca-file", str(root_file), *FAST])
        one_bad = _run(["--hosts", str(mixed), "--ca-file", str(root_file), *FAST])
    assert (all_good.returncode, one_bad.returncode) == (0, 1), one_bad.stderr
    assert all_good.stderr == one_bad.stderr == ""
    # Not a terminal: the table only, no progress line.
    table = one_bad.stdout.splitlines()
    assert table[0].split() == ["TARGET", "VERDICT", "MAIN", "CAUSE", "DAYS", "LEFT"]
    assert [line.split()[0] for line in table[1:]] == [h.line for h in hosts]
    assert "cert-expired: " in table[3] and table[3].rstrip().endswith("-10")


def _read_pty(fd: int, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            data += chunk
        elif process.poll() is not None:
            break
    return data


def test_progress_line_and_table_on_a_terminal(pki: Pki, root_file: Path, tmp_path: Path) -> None:
    """On a terminal: "N/M checked, K failing" on standard error as checks end, then the
    table."""
    gauge = ConcurrencyGauge()
    with fleet(pki, [GOOD, EXPIRED, REFUSED, GOOD], gauge=gauge) as hosts:
        listing = tmp_path / "hosts.txt"
        listing.write_text("".join(f"{h.line}\n" for h in hosts))
        main_fd, child_fd = pty.openpty()
        process = subprocess.Popen(
            _command(
                "--hosts", str(listing), "--parallel", "2", "--ca-file", str(root_file), *FAST
            ),
            stdin=subprocess.DEVNULL,
            stdout=child_fd,
            stderr=child_fd,
            cwd=ROOT_DIR,
        )
        os.close(child_fd)
        try:
            shown = _read_pty(main_fd, process, 30).decode()
            process.wait(10)
        finally:
            process.kill()
            os.close(main_fd)
    assert process.returncode == 1
    assert "0/4 checked, 0 failing" in shown
    assert "4/4 checked, 2 failing" in shown
    assert "Traceback" not in shown
    table = shown.rsplit("\x1b[K", 1)[1].splitlines()
    assert table[0].split()[:2] == ["TARGET", "VERDICT"]
    assert [line.split()[1] for line in table[1:5]] == ["ok", "error", "error", "ok"]


def test_ctrl_c_cancels_the_running_checks(pki: Pki, root_file: Path, tmp_path: Path) -> None:
    """Interrupted while four stuck hosts hold their slots with a 30 s timeout: it ends at
    once, with exit status 130, one line, no traceback, and no check left running."""
    gauge = ConcurrencyGauge()
    with fleet(pki, [GOOD, STUCK, STUCK, STUCK, STUCK, STUCK], gauge=gauge) as hosts:
        listing = tmp_path / "hosts.txt"
        listing.write_text("".join(f"{h.line}\n" for h in hosts))
        process = _start(
            *("--hosts", str(listing), "--timeout", "30", "--quick", "--no-network-time"),
            *("--ca-file", str(root_file)),
        )
        try:
            deadline = time.monotonic() + within(10)
            while gauge.max_servers < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gauge.max_servers == 4
            time.sleep(within(1.0))  # the good host's quick check is over by now
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=within(10))
            took = time.monotonic() - sent
        finally:
            process.kill()
    assert process.returncode == 130
    assert err == "handshake-doctor: interrupted: 1 of 6 targets checked\n", err
    assert out.splitlines()[1].split()[:2] == [hosts[0].line, "ok"]
    assert took < within(2.0), f"{took:.1f} s to stop"


def test_gentle_and_the_connection_cap_hold_per_check(
    pki: Pki, root_file: Path, tmp_path: Path
) -> None:
    """Each check of a list keeps its own politeness: with --gentle one connection at a time
    on each server, whatever --parallel says."""
    gauge = ConcurrencyGauge()
    with fleet(pki, [GOOD, GOOD], gauge=gauge) as hosts:
        listing = tmp_path / "hosts.txt"
        listing.write_text("".join(f"{h.line}\n" for h in hosts))
        result = _run(
            [
                *(
                    "--hosts",
                    str(listing),
                    "--parallel",
                    "2",
                    "--gentle",
                    "--ca-file",
                    str(root_file),
                ),
                *("--no-network-time", "--timeout", str(TIMEOUT)),
            ],
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(gauge.max_per_server) == {h.port for h in hosts}
    assert max(gauge.max_per_server.values()) == 1


# --------------------------------------------------------------------------- bad usage


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "one.txt"
    path.write_text(f"127.0.0.1:{closed_port()}\n")
    return path


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--parallel", "0"], "from 1 to 32 checks at once, not 0"),
        (["--parallel", "-1"], "whole number of checks at once"),
        (["--parallel", "four"], "not 'four'"),
        (["--parallel", "100000"], "from 1 to 32 checks at once, not 100000"),
        (["--connect", "127.0.0.1"], "put each target's address on its line"),
        (["--summary"], "--summary is for one target"),
        (["example.com"], "not both"),
        (["--json", "--csv", "-"], "both write to standard output"),
    ],
)
def test_bad_options_with_hosts(
    listing: Path, args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before anything is checked: exit status 2, one line that says why."""
    from handshake_doctor.main import main

    code = main(["check", "--hosts", str(listing), *FAST, *args])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and says in err, err


def test_bad_usage_as_a_real_process(listing: Path, tmp_path: Path) -> None:
    """Each: exit status 2, exactly one line on stderr that says what is wrong, nothing on
    standard output, no traceback."""
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n")
    cases = [
        (["--hosts", str(listing), "--parallel", "1e9"], "not '1e9'"),
        (["--hosts", str(tmp_path / "missing.txt")], "there is no file"),
        (["--hosts", str(tmp_path)], "is a folder"),
        (["--hosts", str(empty)], "holds no targets"),
        (["--parallel", "4", "127.0.0.1"], "--parallel is for a list of targets"),
        (["--csv", "t.csv", "127.0.0.1"], "--csv is for a list of targets"),
        ([], "required: HOST[:PORT] (or --hosts FILE for many"),
        (["--hosts", str(listing), "--csv", "/dev/full", *FAST], "no space left on device"),
    ]
    running = [
        (
            says,
            _start(*args),
        )
        for args, says in cases
    ]
    for says, process in running:
        try:
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        assert process.returncode == 2, (says, err)
        assert err.count("\n") == 1 and says in err, (says, err)
        assert "Traceback" not in err
        if "no space" not in says:  # there, the table was printed before the CSV failed
            assert out == "", (says, out)
