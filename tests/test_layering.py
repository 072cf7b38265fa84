"""The layers of design.md, checked: core/ never imports Qt or the GUI (the engine runs headless);
the analysis and ``causes`` never import the probes (pure functions over observations); gui/
never imports the headless command line (its options and exit statuses are core.usage's)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "gui")
#: Imports of the probes that the analysis may still make, each with why (none left: the
#: observation types all live in core.models and core.observations).
PROBE_EXCEPTIONS: set[str] = set()


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function ("from core import probe"
    counts as core.probe)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_no_qt_import_in_core_sources() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        names = imported_modules(path)
        offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_analysis_and_causes_import_nothing_from_the_probes() -> None:
    """Analysis is pure: it reads observations (core.models, core.observations), never a
    socket's module, so its tests need no network and no probe can leak I/O into it."""
    sources = [*sorted((CORE / "analyze").glob("*.py")), CORE / "causes.py"]
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources
        for name in imported_modules(path)
        if (name == "core.probe" or name.startswith("core.probe."))
        and name not in PROBE_EXCEPTIONS
        and name.rsplit(".", 1)[0] not in PROBE_EXCEPTIONS
    ]
    assert offenders == []


def test_gui_imports_nothing_from_the_command_line() -> None:
    """The window and ``report`` share the options, usage errors and exit statuses through
    core.usage; core.cli is the headless commands' own entry."""
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "gui").rglob("*.py"))
        for name in imported_modules(path)
        if name == "core.cli" or name.startswith("core.cli.")
    ]
    assert offenders == []


def test_check_and_inspect_run_without_loading_qt() -> None:
    code = (
        "import sys, core.cli, core.diagnose, core.inspect, core.render.text, core.render.json_out;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','shiboken6','gui')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
