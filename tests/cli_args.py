"""The command line of a ``check`` against a test server on loopback, and of a run of the app in
a process of its own, written once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def check_args(
    address: str | None,
    root_file: Path | None,
    *extra: str,
    host: str = "localhost",
    quick: bool = True,
    timeout: float = 3.0,
) -> list[str]:
    """``check HOST --connect ADDRESS --ca-file ROOT [--quick] --no-network-time --timeout T``,
    then ``extra`` (an output mode, more options). Network time is off: no test asks a public
    time server. ``address`` None leaves the name to be resolved (``--port`` in ``extra``)."""
    args = ["check", host]
    if address is not None:
        args += ["--connect", address]
    if root_file is not None:
        args += ["--ca-file", str(root_file)]
    if quick:
        args.append("--quick")
    return [*args, "--no-network-time", "--timeout", f"{timeout:g}", *extra]


def run_app(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``handshake-doctor ARGS`` in a process of its own (``report`` prints with Qt, whose
    application must not meet the test process's), offscreen, from the repository's root."""
    return subprocess.run(
        [sys.executable, "-m", "handshake_doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ if env is None else env, QT_QPA_PLATFORM="offscreen"),
        cwd=Path(__file__).resolve().parent.parent,
    )
