"""Shared fixtures. Qt runs offscreen unless a display is asked for explicitly."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.pki import Pki

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from core.request import RequestSpec
    from gui.window import MainWindow

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The check takes the path the user's apps take: the proxy settings of the machine running the
# tests (a CI runner's HTTPS_PROXY, a desktop's GNOME settings) must not reroute loopback tests,
# and the captive-portal probe must not ask a public address. Tests that want a proxy or a
# probe give one (--proxy, monkeypatch.setenv, --portal-url) on loopback.
for _name in (
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "XDG_CURRENT_DESKTOP",
):
    os.environ.pop(_name, None)
os.environ["HANDSHAKE_DOCTOR_PORTAL_URL"] = "none"


@pytest.fixture(autouse=True, scope="session")
def _private_root_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The root cache (core/root_cache.py) in a folder of the test run's own, not the user's."""
    from core.root_cache import CACHE_ENV

    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("root-cache"))
    yield
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


#: Where the desktop names its default browser (core/default_browser.py): the window's app list
#: starts there, so the tests' windows must not inherit the machine's own choice.
_DESKTOP_DEFAULTS = ("XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_HOME")


@pytest.fixture(autouse=True, scope="session")
def _no_default_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in _DESKTOP_DEFAULTS}
    empty = tmp_path_factory.mktemp("desktop")
    for name in _DESKTOP_DEFAULTS:
        os.environ[name] = str(empty)
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


# The test PKI and its root as a file, one per test module (a module that needs another PKI
# defines its own fixture of the same name).
@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def root_file(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.write_root(tmp_path_factory.mktemp("trust"))


@pytest.fixture
def open_window(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., MainWindow]]:
    """Opens the main window as a user would see it, with its settings in the test's own
    folder (or in ``settings_path``, for tests of what a restart remembers); it never opens a
    real settings page or command; each is closed after the test."""
    from PySide6.QtCore import QSettings

    from gui.window import MainWindow

    opened: list[MainWindow] = []

    def open_one(initial: RequestSpec, settings_path: Path | None = None) -> MainWindow:
        path = settings_path or tmp_path / "settings.ini"
        settings = QSettings(str(path), QSettings.Format.IniFormat)
        win = MainWindow(settings=settings, initial=initial)
        win.fixit.open_uri = lambda uri: False
        win.fixit.start_command = lambda argv: False
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        opened.append(win)
        return win

    yield open_one
    for win in opened:
        win.close()
