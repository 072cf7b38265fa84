"""How the window opens a settings page or a tool named by the catalogue, on each desktop.

Why a module of its own: what a catalogue target means differs per OS, and getting it wrong
opens nothing (or the wrong thing) with no error a user can act on. A URI (``ms-settings:…``,
``x-apple.systempreferences:…``) goes to the desktop's URI handler; a Windows snap-in
(``certmgr.msc``) is a document for the shell, which CreateProcess cannot start; anything else
is a program and its arguments, started without a shell. tests/test_platform_actions.py holds
the verified target of every action per OS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PureWindowsPath

from core.catalogue import FixAction, OsName


@dataclass(frozen=True)
class Launch:
    #: "uri": hand ``target`` to the desktop (QDesktopServices.openUrl); "argv": start the
    #: program ``target`` names (QProcess.startDetached, no shell).
    how: str
    target: str | tuple[str, ...]


def plan(action: FixAction, os_name: OsName, *, system_root: str | None = None) -> Launch | None:
    """What opening ``action`` on ``os_name`` does; None when that OS has nothing to open.
    ``system_root`` is Windows' %SystemRoot% (read from the environment when not given)."""
    uri = action.uri_for(os_name)
    if uri is not None:
        return Launch("uri", uri)
    argv = action.command_for(os_name)
    if not argv:
        return None
    if os_name is OsName.WINDOWS and len(argv) == 1 and argv[0].lower().endswith(".msc"):
        # A console snap-in: the shell opens it with mmc.exe and asks for elevation itself
        # when the snap-in needs it, which CreateProcess would refuse (ERROR_ELEVATION_REQUIRED).
        # (Windows' environment is case-blind: SYSTEMROOT is %SystemRoot%.)
        root = system_root or os.environ.get("SYSTEMROOT") or r"C:\Windows"
        path = PureWindowsPath(root, "System32", argv[0])
        return Launch("uri", path.as_uri())
    return Launch("argv", argv)
