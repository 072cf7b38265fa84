"""The window and the user's path: the DNS server field, the answers and resolver in "Find the
server", each address in "Connect", and the banner for a DNS filter. Real dnsmasq on loopback;
nothing leaves the machine."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from core.models import FindingId, StageId, StageStatus
from core.request import RequestError, RequestSpec
from gui.request import build_request
from gui.window import MainWindow
from tests.dns_servers import GOOD, SINKHOLE, Dnsmasq, dnsmasq_missing, run_dnsmasq
from tests.gui_checks import press_enter_and_wait

CHECK_TIMEOUT_MS = 15_000
needs_dnsmasq = pytest.mark.skipif(dnsmasq_missing() is not None, reason=dnsmasq_missing() or "")


@pytest.fixture(scope="module")
def dnsmasq() -> Iterator[Dnsmasq]:
    with run_dnsmasq() as server:
        yield server


@pytest.fixture
def window(open_window: Callable[[RequestSpec], MainWindow]) -> MainWindow:
    return open_window(RequestSpec(no_network_time=True, quick=True, timeout=2.0))


def run(qtbot: QtBot, win: MainWindow, host: str, dns_server: str) -> str:
    win.form.build_options()
    win.form.dns_server.setText(dns_server)
    win.form.host.clear()
    qtbot.keyClicks(win.form.host, host)
    return press_enter_and_wait(qtbot, win, CHECK_TIMEOUT_MS)


@pytest.mark.parametrize("text", ["dns.google", "1.2.3.4:0"])
def test_dns_server_is_validated_like_the_option(text: str) -> None:
    with pytest.raises(RequestError) as caught:
        build_request(RequestSpec(host="example.com", dns_server=text))
    assert caught.value.field == "dns_server"
    assert "DNS server" in caught.value.words("window")


def test_malformed_dns_server_is_explained_next_to_its_field(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.form.build_options()
    window.form.dns_server.setText("not an address")
    window.form.host.setText("example.com")
    assert not window.start_check()
    assert window.form.options.isVisible()
    assert "not an address" in window.form.fields["dns_server"].error.text()


@needs_dnsmasq
def test_dns_filter_banner_and_find_the_server_line(
    qtbot: QtBot, window: MainWindow, dnsmasq: Dnsmasq
) -> None:
    assert run(qtbot, window, SINKHOLE, dnsmasq.server) == "report"
    report = window.report
    assert report is not None and report.cause is not None
    assert report.cause.id is FindingId.DNS_BLOCKED
    assert window.banner.headline.text().startswith("A DNS filter blocks this site")
    line = window.stage_model.summary(StageId.RESOLVE)
    assert "0.0.0.0" in line and dnsmasq.server in line
    assert window.stage_model.status(StageId.CONNECT) is StageStatus.SKIPPED


@needs_dnsmasq
def test_connect_step_shows_each_address_tried(
    qtbot: QtBot, window: MainWindow, dnsmasq: Dnsmasq
) -> None:
    window.form.build_options()
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    window.form.port.setValue(port)
    assert run(qtbot, window, GOOD, dnsmasq.server) == "report"
    assert "127.0.0.1" in window.stage_model.summary(StageId.RESOLVE)
    assert dnsmasq.server + " answered 127.0.0.1" in window.stage_model.summary(StageId.RESOLVE)
    assert "127.0.0.1 refused" in window.stage_model.summary(StageId.CONNECT)
