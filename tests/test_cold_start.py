"""A check in a fresh process imports only what it needs (issue 15): ``check --json --quick``
against a real server on 127.0.0.1 loads neither the catalogue (a clean report has no finding
to word), nor the prober, the renderers it does not print with, the clock server's client, or
the PKCS#7/#12 readers. Each of these cost a cold start milliseconds before the first byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.cli_args import check_args
from tests.pki import Pki
from tests.tls_servers import TlsConfig, tls_server

NOT_NEEDED = (
    "core.catalogue",
    "core.analyze.overlap",
    "core.probe.hello",
    "core.probe.sntp",
    "core.probe.ocsp",
    "core.probe.fetch",
    "core.credentials",
    "core.render.text",
    "core.render.summary",
    "core.render.report_html",
    "cryptography.hazmat.primitives.serialization.pkcs7",
    "cryptography.hazmat.primitives.serialization.pkcs12",
    "cryptography.hazmat.primitives.serialization.ssh",
    "certifi",
)

_PROGRAM = """
import json, sys
from core.cli import main
code = main(sys.argv[1:])
sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def _fresh_check(args: list[str], *, status: int = 0) -> tuple[dict[str, object], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == status, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    return json.loads(result.stdout), set(json.loads(line.removeprefix("MODULES ")))


def test_quick_json_check_imports_only_what_it_needs(tmp_path: Path) -> None:
    pki = Pki()
    leaf = pki.leaf()
    root = pki.write_root(tmp_path)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=30) as server:
        report, modules = _fresh_check(check_args(server.address, root, "--json"))
    assert report["verdict"] == "ok"
    assert report["trust"] == {"mozilla": False, "os": False, "custom": True}
    assert sorted(m for m in NOT_NEEDED if m in modules) == []


def test_findings_still_get_their_words(tmp_path: Path) -> None:
    """The catalogue is loaded when there is something to say."""
    pki = Pki()
    leaf = pki.leaf(names=("other.example",))
    root = pki.write_root(tmp_path)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=30) as server:
        report, modules = _fresh_check(
            check_args(server.address, root, "--json"),
            status=1,
        )
    findings = report["findings"]
    assert isinstance(findings, list)
    mismatch = next(f for f in findings if f["id"] == "hostname-mismatch")
    assert mismatch["title"] and mismatch["fixes"]
    assert "core.catalogue" in modules


def test_window_warm_up_imports_the_engine_and_indexes_the_stores() -> None:
    code = (
        "import sys\n"
        "from gui.worker import warm_up_engine\n"
        "warm_up_engine().join(60)\n"
        "from core.trust import mozilla_roots, os_roots\n"
        "from core.catalogue import load_catalogue\n"
        "print(mozilla_roots.cache_info().currsize, os_roots.cache_info().currsize,\n"
        "      load_catalogue.cache_info().currsize, 'core.diagnose' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "1", "True"]


def test_window_with_a_host_prints_its_first_verdict_and_quits(tmp_path: Path) -> None:
    """The hook benchmarks/cold_start.py times the window with."""
    import os

    from gui.app import EXIT_AFTER_VERDICT

    pki = Pki()
    leaf = pki.leaf()
    root = pki.write_root(tmp_path)
    env = {
        **os.environ,
        EXIT_AFTER_VERDICT: "1",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=60) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "handshake_doctor",
                "localhost",
                "--connect",
                server.address,
                "--ca-file",
                str(root),
                "--quick",
                "--no-network-time",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=env,
            cwd=Path(__file__).resolve().parents[1],
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "verdict ok"


def test_tls13_suite_names_agree_with_the_table() -> None:
    """The shortcut that names a TLS 1.3 suite without loading the table gives the table's
    answer, for each suite it knows."""
    from core.ciphers import TLS13_SUITE_NAMES, load_registry

    registry = load_registry()
    for name in TLS13_SUITE_NAMES:
        found = registry.by_openssl.get(name) or registry.by_name.get(name)
        assert found is not None and found.tls13 and found.name == name


def test_window_starts_the_asked_check_before_its_panes_exist(qtbot: QtBot, tmp_path: Path) -> None:
    """``handshake-doctor HOST``: the check starts as soon as the runner exists, while the panes
    are still being built; its progress and report wait in the queue and land in the finished
    window like any other check's."""
    from PySide6.QtCore import QSettings

    from core.models import StageId, StageStatus
    from core.request import RequestSpec
    from gui.window import MainWindow

    pki = Pki()
    leaf = pki.leaf()
    root = pki.write_root(tmp_path)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=60) as server:
        state = RequestSpec(
            host="localhost",
            connect=server.address,
            ca_file=str(root),
            no_network_time=True,
            quick=True,
            timeout=5.0,
        )
        win = MainWindow(settings=settings, initial=state, deferred=True)
        qtbot.addWidget(win)
        running_when_ready: list[bool] = []
        win.ready.connect(lambda: running_when_ready.append(win.runner.running))
        with qtbot.waitSignal(win.reportShown, timeout=20000) as shown:
            win.check_when_built()
            win.show()
        win.close()
    assert running_when_ready == [True]  # started while the panes were built
    report = shown.args[0]
    assert report.verdict.value == "ok"
    assert win.stage_model.status(StageId.HANDSHAKE) is StageStatus.OK
    assert "localhost" in win.windowTitle()
    assert win.recent_hosts()[0] == "localhost"


def test_window_shows_why_an_asked_check_cannot_start(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from core.request import RequestSpec
    from gui.window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    state = RequestSpec(host="localhost", ca_file=str(tmp_path / "missing.pem"), quick=True)
    win = MainWindow(settings=settings, initial=state, deferred=True)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.ready, timeout=10000):
        win.check_when_built()
        win.show()
    qtbot.waitUntil(lambda: bool(win.form.error_text()), timeout=10000)
    assert "There is no file" in win.form.error_text()
    assert "missing.pem" in win.form.fields["ca_file"].error_text()
    qtbot.waitUntil(lambda: not win.runner.running, timeout=10000)
    assert win.report is None
    win.close()


def test_the_light_encoding_is_the_public_one() -> None:
    """core.certs takes Encoding from the module that defines it, sparing the public module's
    SSH-key support: it must stay the very class the public module names."""
    from cryptography.hazmat.primitives import serialization

    from core.certs import Encoding

    assert Encoding is serialization.Encoding
