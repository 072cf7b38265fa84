"""PySide6 6.12 on CPython 3.11 drops a reference to True on each Python ``emit`` and to None on
each C++ signal that calls a Python slot, until the interpreter aborts ("bool_dealloc").
pyproject.toml keeps 3.11 on PySide6 < 6.12; this test fails if a version with the leak comes
back. It runs in a child process: a crash there must not take the test session with it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STRESS = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QCheckBox
    app = QApplication([])
    class Probe(QObject):
        ping = Signal(object)
    probe = Probe()
    probe.ping.connect(lambda value: None)
    box = QCheckBox()
    box.toggled.connect(lambda on: None)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(5000):
        probe.ping.emit(i)
        box.setChecked(i % 2 == 0)
    after = sys.getrefcount(True), sys.getrefcount(None)
    print(before[0] - after[0], before[1] - after[1])
    """
)


def test_thousands_of_emits_and_slot_calls_lose_no_references() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", STRESS],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lost_true, lost_none = (int(n) for n in result.stdout.split())
    # A reference or two may be held by the loop's own frames; a leak loses thousands.
    assert lost_true < 10 and lost_none < 10, result.stdout
