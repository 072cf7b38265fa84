"""Bugs in Handshake Doctor itself: an unexpected exception in one stage of a check becomes an
``internal-error`` finding for that stage (with the details kept for copying), and every other
stage still reports. Faults are injected into our own pure functions (parsers and analyses),
never into ssl or socket.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.cli import EXIT_INTERNAL, main
from core.diagnose import run_check
from core.models import CheckOptions, FindingId, StageStatus, Target
from tests.cli_args import check_args
from tests.pki import Pki
from tests.sntp_server import SntpServer
from tests.tls_servers import TlsConfig, tls_server


class InjectedFault(RuntimeError):
    """Stands for a bug: nothing in the app expects it."""


def _boom(*args: object, **kwargs: object) -> Any:
    raise InjectedFault("injected fault")


@pytest.fixture(scope="module")
def server(pki: Pki) -> Iterator[str]:
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=120) as running:
        yield running.address


def check(
    capsys: pytest.CaptureFixture[str],
    server: str,
    root_file: Path,
    *extra: str,
    quick: bool = True,
) -> tuple[int, dict[str, Any]]:
    args = [
        "check",
        "localhost",
        "--connect",
        server,
        "--ca-file",
        str(root_file),
        "--json",
        "--timeout",
        "3",
        *extra,
    ]
    if "--time-server" not in extra:
        args.append("--no-network-time")
    code = main([*args, "--quick"] if quick else args)
    out = capsys.readouterr()
    assert out.err == ""
    report = json.loads(out.out)
    for finding in report["findings"]:
        assert "Traceback" not in finding["detail"], "the words show one line, not a traceback"
    return code, report


@dataclass(frozen=True)
class Faulty:
    """A check of the module's server with faults injected into our own functions."""

    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    server: str
    root_file: Path

    def inject(self, target: str) -> None:
        """``target`` (a dotted name) raises InjectedFault when called, for this test."""
        self.monkeypatch.setattr(target, _boom)

    def check(self, *extra: str, quick: bool = True) -> tuple[int, dict[str, Any]]:
        return check(self.capsys, self.server, self.root_file, *extra, quick=quick)


@pytest.fixture
def faulty(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: str,
    root_file: Path,
) -> Faulty:
    return Faulty(capsys, monkeypatch, server, root_file)


def internal_errors(report: dict[str, Any]) -> dict[str, str]:
    """check -> its details (the error line, then the traceback)."""
    return {
        f["evidence"]["check"]: f["evidence"]["details"]
        for f in report["findings"]
        if f["id"] == "internal-error"
    }


def stages(report: dict[str, Any]) -> dict[str, str]:
    return {s["stage"]: s["status"] for s in report["stages"]}


# --------------------------------------------------------------------------- one stage at a time


def test_the_healthy_check_first(
    capsys: pytest.CaptureFixture[str], server: str, root_file: Path
) -> None:
    code, report = check(capsys, server, root_file)
    assert code == 0 and report["findings"] == []


def test_fault_in_the_chain_analysis(faulty: Faulty) -> None:
    faulty.inject("core.diagnose.analyze_chain")
    code, report = faulty.check()
    errors = internal_errors(report)
    assert list(errors) == ["certificates"]
    assert "InjectedFault: injected fault" in errors["certificates"]
    assert "Traceback" in errors["certificates"], "the details keep the traceback for copying"
    assert report["handshake"]["ok"] is True and report["handshake"]["protocol"] == "TLSv1.3"
    assert report["clock"]["reference"] == "http-date"
    assert stages(report)["certificates"] == "failed"
    assert stages(report)["handshake"] == "ok"
    assert report["verdict"] == "warning" and code == 0


def test_fault_in_the_clock_analysis(faulty: Faulty) -> None:
    faulty.inject("core.diagnose.measure_clock")
    _, report = faulty.check()
    assert list(internal_errors(report)) == ["clock"]
    assert report["clock"]["reference"] == "none"
    assert report["handshake"]["ok"] is True
    assert report["certificates"][0]["subject"] == "CN=localhost"
    assert report["trust"]["custom"] is True


def test_fault_in_the_time_server_thread(faulty: Faulty) -> None:
    """The NTP query runs in its own thread: a fault there reaches the report, not the void."""
    # Patched where it lives: core.diagnose imports it only when a time server is asked.
    faulty.inject("core.probe.sntp.best_sntp")
    with SntpServer() as sntp:
        _, report = faulty.check("--time-server", sntp.address)
    assert "clock" in internal_errors(report)
    assert report["handshake"]["ok"] is True
    assert report["clock"]["reference"] == "http-date", "the server's Date still serves"


def test_fault_in_the_protocol_analysis(faulty: Faulty) -> None:
    faulty.inject("core.analyze.overlap.analyze_overlap")
    _, report = faulty.check(quick=False)
    assert list(internal_errors(report)) == ["protocols"]
    assert stages(report)["protocols"] == "failed"
    assert report["protocols"]["TLSv1.3"] is True, "the handshake still tells one version"
    assert report["certificates"] and report["handshake"]["ok"] is True


def test_fault_in_a_parser_inside_the_handshake(faulty: Faulty) -> None:
    """The handshake stage itself: its observation is lost, the check still ends in a report
    that says so, and the verdict does not claim that everything works."""
    faulty.inject("core.probe.tls._group_name")
    code, report = faulty.check()
    assert list(internal_errors(report)) == ["handshake"]
    assert stages(report)["handshake"] == "failed"
    assert report["handshake"]["ok"] is False
    assert code == 1, "no handshake was seen to work"


def test_fault_in_the_causes(faulty: Faulty) -> None:
    """The one function that words the causes: its failure is itself the finding, never a
    silent "nothing to fix"."""
    faulty.inject("core.diagnose.decide")
    _, report = faulty.check()
    assert list(internal_errors(report)) == ["findings"]
    assert report["verdict"] != "ok"
    assert report["handshake"]["ok"] is True and report["certificates"]


def test_faults_in_two_stages_are_two_findings(faulty: Faulty) -> None:
    faulty.inject("core.diagnose.analyze_chain")
    faulty.inject("core.diagnose.measure_clock")
    _, report = faulty.check()
    assert sorted(internal_errors(report)) == ["certificates", "clock"]
    assert report["handshake"]["ok"] is True


def test_text_report_shows_the_internal_error_in_one_line(faulty: Faulty) -> None:
    faulty.inject("core.diagnose.analyze_chain")
    code = main(check_args(faulty.server, faulty.root_file))
    out = faulty.capsys.readouterr()
    assert code == 0 and out.err == ""
    assert "Traceback" not in out.out
    assert "internal-error" in out.out
    assert "Internal error: certificates: InjectedFault: injected fault" in out.out


def test_progress_sees_every_stage_end_despite_a_fault(
    monkeypatch: pytest.MonkeyPatch, server: str, root_file: Path
) -> None:
    """The window follows the stages: a crashed stage must still end (as failed), or its
    spinner would turn forever."""
    monkeypatch.setattr("core.probe.tls._group_name", _boom)
    host, port = server.rsplit(":", 1)
    events = []
    report = run_check(
        Target("localhost", 443, host, int(port), "localhost"),
        CheckOptions(ca_file=root_file, no_network_time=True, quick=True, timeout=3),
        progress=events.append,
    )
    started = {e.stage for e in events if e.status is StageStatus.RUNNING}
    ended = {e.stage for e in events if e.status is not StageStatus.RUNNING}
    assert started <= ended
    assert [f.id for f in report.findings].count(FindingId.INTERNAL_ERROR) == 1


# --------------------------------------------------------------------------- outside a stage


def test_a_bug_outside_any_stage_is_one_line_not_a_traceback(faulty: Faulty) -> None:
    faulty.inject("core.render.json_out.report_dict")
    code = main(["check", "localhost", "--connect", faulty.server, "--no-network-time", "--json"])
    out = faulty.capsys.readouterr()
    assert code == EXIT_INTERNAL and out.out == ""
    line = out.err
    assert line.count("\n") == 1 and "Traceback" not in line
    assert "internal error (InjectedFault" in line and "please report it" in line


def test_the_details_of_an_internal_error_on_request(tmp_path: Path) -> None:
    """As a real process, with HANDSHAKE_DOCTOR_DEBUG=1, the traceback is printed."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "import core.cli\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('injected fault')\n"
        "core.cli._run_inspect = boom\n"
        "sys.exit(core.cli.main(['inspect', 'x.pem']))\n"
    )
    root = Path(__file__).resolve().parent.parent

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            cwd=root,
            check=False,
            env={**env, "PATH": "", "PYTHONPATH": str(root)},
        )

    plain = run()
    assert plain.returncode == EXIT_INTERNAL and "Traceback" not in plain.stderr
    assert plain.stderr.count("\n") == 1
    debug = run(HANDSHAKE_DOCTOR_DEBUG="1")
    assert debug.returncode == EXIT_INTERNAL and "Traceback" in debug.stderr
