"""The window and the proxy: the Options' Proxy field and its "Connect directly" switch take
the check through a real tinyproxy on loopback (or not), the Connect step names the path, a
refusing proxy is the banner's cause in plain words, and a malformed proxy is explained next to
its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core.models import FindingId, StageId
from core.request import RequestSpec
from gui.stage_model import STAGE_ORDER
from gui.window import MainWindow
from tests.gui_checks import press_enter_and_wait
from tests.pki import Pki
from tests.proxy_servers import have_tinyproxy, tinyproxy
from tests.tls_servers import TlsConfig, tls_server

CHECK_TIMEOUT_MS = 15_000
needs_tinyproxy = pytest.mark.skipif(not have_tinyproxy(), reason="tinyproxy is not installed")


@pytest.fixture
def window(open_window: Callable[[RequestSpec], MainWindow], root_file: Path) -> MainWindow:
    return open_window(
        RequestSpec(ca_file=str(root_file), no_network_time=True, quick=True, timeout=3.0)
    )


def run(qtbot: QtBot, win: MainWindow, host: str) -> str:
    win.form.host.setText(host)  # typed keys would open the recent-hosts popup on a re-check
    return press_enter_and_wait(qtbot, win, CHECK_TIMEOUT_MS)


@needs_tinyproxy
def test_check_through_the_proxy_field(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as site, tinyproxy(tmp_path) as port:
        window.form.build_options()
        window.form.proxy.setText(f"http://bob:pw@127.0.0.1:{port}")
        assert run(qtbot, window, f"localhost:{site.port}") == "report"
        report = window.report
        assert report is not None and report.findings == ()
        # A Proxy step appears in the step list, naming the proxy and where the setting is.
        proxy_row = STAGE_ORDER.index(StageId.PROXY)
        assert not window.stages.isRowHidden(proxy_row)
        assert window.stage_model.summary(StageId.PROXY) == (
            f"http://127.0.0.1:{port} (from --proxy)"
        )
        assert window.stage_model.summary(StageId.CONNECT) == (
            f"to localhost:{site.port} through the proxy http://127.0.0.1:{port}"
        )
        # The ladder shows the proxy as a hop between the two lanes (and says so in words).
        from gui.ladder import ladder_text, render_ladder_image

        assert ladder_text(report).splitlines()[0] == (
            f"through the proxy http://127.0.0.1:{port}, which relays every message"
        )
        image = render_ladder_image(report, 900)
        direct = render_ladder_image(replace(report, route=None), 900)
        assert image.size() == direct.size() and image != direct
        assert "pw" not in window.stage_model.summary(StageId.RESOLVE)
        # "Connect directly" wins over the field: the same check without the proxy.
        window.form.no_proxy.setChecked(True)
        assert not window.form.proxy.isEnabled()
        assert run(qtbot, window, f"localhost:{site.port}") == "report"
        assert window.report is not None and window.report.route is not None
        assert window.report.route.proxy is None
        assert window.stages.isRowHidden(proxy_row)  # no proxy, no Proxy step
    # The password typed into the field never reaches the settings file.
    window.settings.sync()
    saved = (tmp_path / "settings.ini").read_text(errors="replace")
    assert "localhost" in saved and "bob" not in saved and ":pw@" not in saved


@needs_tinyproxy
def test_refusing_proxy_is_the_cause_in_plain_words(
    qtbot: QtBot, window: MainWindow, pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf()
    with (
        tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as site,
        tinyproxy(tmp_path, refuse=[r"^localhost$"]) as port,
    ):
        window.form.build_options()
        window.form.proxy.setText(f"http://127.0.0.1:{port}")
        assert run(qtbot, window, f"localhost:{site.port}") == "report"
    report = window.report
    assert report is not None and report.cause is not None
    assert report.cause.id is FindingId.PROXY_REFUSED
    assert window.banner.headline.text().startswith(
        f"The proxy http://127.0.0.1:{port} refuses to connect to this site"
    )


def test_malformed_proxy_is_explained_next_to_its_field(qtbot: QtBot, window: MainWindow) -> None:
    window.form.build_options()
    window.form.proxy.setText("gopher://old.example:70")
    window.form.host.setText("example.com")
    assert not window.start_check()
    assert window.form.options.isVisible()
    error = window.form.fields["proxy"].error.text()
    assert error.startswith("The proxy is not valid: unknown proxy scheme 'gopher'")
