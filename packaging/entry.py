"""The frozen app's entry script: the bundle does what ``handshake-doctor`` does from source.

Double-clicked, it opens the window; with ``check``, ``inspect``, ``report`` or ``--self-test`` it
runs that command (handshake_doctor/main.py dispatches; check and inspect never import Qt).
"""

from __future__ import annotations

import os
import sys

#: Arguments that mean "someone typed this in a terminal and wants to read the answer there".
_TERMINAL_COMMANDS = {"check", "inspect", "report", "--self-test", "--version", "-h", "--help"}


def _windows_windowed_streams() -> None:
    """Windows builds are windowed (no console flashes up on a double-click), so Python starts
    with ``sys.stdout``/``sys.stderr`` set to None and the engine's ``sys.stdout.write`` would
    fail. For a terminal command, attach to the console of the shell that started us, so
    ``HandshakeDoctor.exe check host`` prints there; otherwise write to the null device.
    cmd.exe does not wait for a windowed program, so scripts should use HandshakeDoctor-cli.exe
    (packaging/README.md)."""
    if sys.platform != "win32" or (sys.stdout is not None and sys.stderr is not None):
        return
    attached = False
    if len(sys.argv) > 1 and sys.argv[1] in _TERMINAL_COMMANDS:
        import ctypes

        attach_parent_process = -1
        attached = bool(ctypes.windll.kernel32.AttachConsole(attach_parent_process))
    target = "CONOUT$" if attached else os.devnull
    if sys.stdout is None:
        sys.stdout = open(target, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(target, "w", encoding="utf-8", errors="replace")  # noqa: SIM115


def _main() -> None:
    _windows_windowed_streams()
    from handshake_doctor.main import run

    run()


if __name__ == "__main__":
    _main()
