"""The browser this computer opens https:// links with, as an app id of client_facts.json: the
window's app list starts there when the user has not chosen one yet.

Each desktop says it in its own place, read here without starting any program: the
freedesktop ``mimeapps.list`` (``x-scheme-handler/https``), Windows' UrlAssociations
``UserChoice`` ProgId, macOS' LaunchServices handler for ``https``. Anything not recognised is
None ("I don't know"), never a guess.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["app_for_handler", "default_browser", "linux_https_handler"]

#: Handler names (desktop files, ProgIds, bundle ids), lower-cased prefixes -> app id.
_HANDLERS: tuple[tuple[str, str], ...] = (
    ("firefox", "firefox"),
    ("org.mozilla.firefox", "firefox"),
    ("google-chrome", "chrome"),
    ("com.google.chrome", "chrome"),
    ("chromehtml", "chrome"),
    ("chromium", "chrome"),
    ("org.chromium.chromium", "chrome"),
    ("microsoft-edge", "edge"),
    ("msedgehtm", "edge"),
    ("com.microsoft.edgemac", "edge"),
    ("com.apple.safari", "safari"),
)


def app_for_handler(handler: str) -> str | None:
    """``firefox.desktop``, ``ChromeHTML``, ``com.apple.safari`` -> an app id, else None."""
    name = handler.strip().lower()
    for prefix, app in _HANDLERS:
        if name.startswith(prefix):
            return app
    return None


def default_browser(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    try:
        if sys.platform == "win32":
            handler = _windows_https_handler()
        elif sys.platform == "darwin":
            handler = _macos_https_handler(Path(env.get("HOME", "~")).expanduser())
        else:
            handler = linux_https_handler(env)
    except (OSError, ValueError):
        return None
    return app_for_handler(handler) if handler else None


def linux_https_handler(environ: Mapping[str, str]) -> str | None:
    """The first ``x-scheme-handler/https`` default in the mimeapps.list files, in the
    freedesktop order: the user's config folder first, then the system's."""
    home = Path(environ.get("HOME", "~")).expanduser()
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    folders = [config, *(Path(p) for p in environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":"))]
    folders.append(Path(environ.get("XDG_DATA_HOME") or home / ".local/share") / "applications")
    for folder in folders:
        found = _mimeapps_default(folder / "mimeapps.list")
        if found:
            return found
    return None


def _mimeapps_default(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:100_000]
    except OSError:
        return None
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Default Applications]" and line.startswith("x-scheme-handler/https="):
            first = line.split("=", 1)[1].split(";")[0].strip()
            return first or None
    return None


def _windows_https_handler() -> str | None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    key = r"Software\Microsoft\Windows\Shell\Associations\UrlAssociations\https\UserChoice"
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:  # type: ignore[attr-defined,unused-ignore]
        value, _kind = winreg.QueryValueEx(handle, "ProgId")  # type: ignore[attr-defined,unused-ignore]
    return str(value)


def _macos_https_handler(home: Path) -> str | None:
    plist = (
        home / "Library/Preferences/com.apple.LaunchServices/com.apple.launchservices.secure.plist"
    )
    with plist.open("rb") as handle:
        data = plistlib.load(handle)
    for entry in data.get("LSHandlers", []):
        if isinstance(entry, dict) and entry.get("LSHandlerURLScheme") == "https":
            role = entry.get("LSHandlerRoleAll")
            return str(role) if role else None
    return "com.apple.safari"  # no handler set: macOS opens https:// links in Safari
