"""The window's "app that showed the error": choosing an app changes the banner and the order
of the checklist, and the choice is still there after a restart. Real servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from core.models import FixId, Severity
from core.request import RequestSpec
from gui.form import DONT_KNOW
from gui.window import CLIENT_KEY, MainWindow
from tests.http_servers import http_server
from tests.pki import Pki, make_ca
from tests.tls_servers import TlsConfig, tls_server

CHECK_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def pki() -> Pki:
    # A root named like a TLS-inspection product: beside the missing intermediate, the check
    # also warns of interception, whose first fix ranks high on its own.
    return Pki(root=make_ca("mitmproxy test root"))


@pytest.fixture(scope="module")
def root_file(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.write_root(tmp_path_factory.mktemp("pki"))


#: Opens a window checking with the test PKI's root, its settings in the file given (if any).
OpenWindow = Callable[..., MainWindow]


@pytest.fixture
def open_app_window(open_window: OpenWindow, root_file: Path) -> OpenWindow:
    initial = RequestSpec(ca_file=str(root_file), no_network_time=True, timeout=3.0)
    return lambda settings_path=None: open_window(initial, settings_path)


@pytest.fixture
def window(open_app_window: OpenWindow) -> MainWindow:
    return open_app_window()


def choose(win: MainWindow, client: str) -> None:
    index = win.form.app.findData(client)
    assert index >= 0, client
    win.form.app.setCurrentIndex(index)


def fix_ids(win: MainWindow) -> list[FixId]:
    return [card.fix.id for card in win.fixit.cards]


def test_the_list_starts_with_i_dont_know(window: MainWindow) -> None:
    assert window.form.app.itemText(0) == DONT_KNOW and window.form.client() == ""
    names = [window.form.app.itemText(i) for i in range(window.form.app.count())]
    assert "Firefox" in names and "Chrome" in names and "Java 8 (old)" in names
    assert window.form.state().client is None
    windows = window.form.app.findData("windows")
    tip = window.form.app.itemData(windows, Qt.ItemDataRole.ToolTipRole)
    assert "Internet Explorer 11" in tip  # what stands in for Schannel's hello is said


def test_choosing_an_app_changes_the_banner_and_the_checklist(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    with http_server({"/inter.der": pki.intermediate.der}) as base:
        leaf = pki.leaf(aia_issuer_url=f"{base}/inter.der")
        with tls_server(TlsConfig([leaf], leaf)) as server:
            window.form.connect_to.setText(server.address)
            window.form.host.setText("localhost")
            with qtbot.waitSignal(window.checkEnded, timeout=CHECK_TIMEOUT_MS) as ended:
                qtbot.keyClick(window.form.host, Qt.Key.Key_Return)
    assert ended.args == ["report"]
    # "I don't know": the cause's own headline, and which current browsers fail.
    assert "does not send all the certificates" in window.banner.headline.text()
    assert "Of the current browsers, Firefox cannot connect." in window.banner.subline.text()
    unknown_order = fix_ids(window)

    choose(window, "firefox")
    assert window.banner.headline.text() == (
        "Firefox cannot connect: the server does not send its intermediate certificate, "
        "and Firefox does not fetch it."
    )
    assert "Chrome" in window.banner.subline.text()
    assert window.banner.level is Severity.ERROR
    firefox_order = fix_ids(window)
    assert firefox_order[0] is FixId.TRY_ANOTHER_BROWSER  # its own failure's fixes first

    choose(window, "chrome")
    assert window.banner.headline.text() == "Chrome connects."
    assert "Firefox" in window.banner.subline.text()
    assert window.banner.level is Severity.WARNING
    chrome_order = fix_ids(window)
    # Nothing fails for Chrome: the interception check, a warning like the rest, ranks first.
    assert chrome_order[0] is FixId.CHECK_ANTIVIRUS_INSPECTION
    assert chrome_order != firefox_order and set(chrome_order) == set(firefox_order)
    assert unknown_order == firefox_order  # Firefox is the current browser that fails


def test_the_choice_survives_a_restart(tmp_path: Path, open_app_window: OpenWindow) -> None:
    path = tmp_path / "settings.ini"
    first = open_app_window(path)
    choose(first, "java-8")
    first.close()
    assert QSettings(str(path), QSettings.Format.IniFormat).value(CLIENT_KEY) == "java-8"
    second = open_app_window(path)
    assert second.form.client() == "java-8"
    assert second.form.app.currentText() == "Java 8 (old)"
    assert second.form.state().client == "java-8"
    second.close()


def test_a_remembered_app_that_no_longer_exists_is_i_dont_know(
    tmp_path: Path, open_app_window: OpenWindow
) -> None:
    path = tmp_path / "settings.ini"
    QSettings(str(path), QSettings.Format.IniFormat).setValue(CLIENT_KEY, "netscape-4")
    win = open_app_window(path)
    assert win.form.client() == "" and win.form.app.currentText() == DONT_KNOW
    win.close()


def test_a_first_start_preselects_the_default_browser(
    tmp_path: Path, open_app_window: OpenWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never chosen: the browser the desktop opens https:// links with (freedesktop's
    mimeapps.list here). A remembered choice, "I don't know" included, wins over it."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/https=firefox_firefox.desktop;\n"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    first = open_app_window(tmp_path / "fresh.ini")
    assert first.form.client() == "firefox"
    first.close()
    remembered = tmp_path / "remembered.ini"
    QSettings(str(remembered), QSettings.Format.IniFormat).setValue(CLIENT_KEY, "")
    second = open_app_window(remembered)
    assert second.form.client() == ""
    second.close()


def test_handlers_of_each_desktop_name_their_browser() -> None:
    from core.default_browser import app_for_handler

    assert app_for_handler("google-chrome.desktop") == "chrome"
    assert app_for_handler("ChromeHTML") == "chrome"  # Windows' ProgId
    assert app_for_handler("MSEdgeHTM") == "edge"
    assert app_for_handler("com.apple.Safari") == "safari"
    assert app_for_handler("org.mozilla.firefox") == "firefox"
    assert app_for_handler("org.gnome.Epiphany.desktop") is None  # not one we have facts for
