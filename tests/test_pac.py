"""Proxy auto-config: a PAC file named by this computer's settings decides the proxy, evaluated
in a child process that a looping PAC file cannot hold past the timeout. End to end through the
command line with KDE's settings pointing at a PAC file served on 127.0.0.1 and a real
tinyproxy behind it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.models import ProxyEndpoint, ProxyScheme
from core.pac import PacError, evaluate, parse_pac_result
from tests.http_servers import http_ok, http_raw
from tests.pki import Pki
from tests.ports import free_port
from tests.proxy_servers import have_tinyproxy, tinyproxy
from tests.test_proxy_path import check
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

HTTP = ProxyScheme.HTTP


@pytest.mark.parametrize(
    ("raw", "proxy"),
    [
        ("DIRECT", None),
        ("PROXY proxy.corp:3128; DIRECT", ProxyEndpoint(HTTP, "proxy.corp", 3128)),
        ("  proxy a:1", ProxyEndpoint(HTTP, "a", 1)),
        ("SOCKS5 127.0.0.1:1080", ProxyEndpoint(ProxyScheme.SOCKS5, "127.0.0.1", 1080)),
        ("HTTPS secure.corp:443; PROXY b:8080", ProxyEndpoint(HTTP, "b", 8080)),
        ("PROXY [::1]:3128", ProxyEndpoint(HTTP, "::1", 3128)),
    ],
)
def test_pac_answers(raw: str, proxy: ProxyEndpoint | None) -> None:
    assert parse_pac_result(raw).proxy == proxy


@pytest.mark.parametrize("raw", ["", "PROXY nowhere", "PROXY a:99999", "garbage"])
def test_pac_answers_naming_no_usable_proxy(raw: str) -> None:
    with pytest.raises(PacError):
        parse_pac_result(raw)


PAC = """
function FindProxyForURL(url, host) {
    if (dnsDomainIs(host, ".intranet.test")) return "DIRECT";
    if (shExpMatch(url, "https://*")) return "PROXY 127.0.0.1:%d; DIRECT";
    return "DIRECT";
}
"""


def test_pac_file_evaluated_in_a_child() -> None:
    answer = evaluate(PAC % 3128, "https://shop.example:443/", "shop.example", 10.0)
    assert answer.proxy == ProxyEndpoint(HTTP, "127.0.0.1", 3128)
    direct = evaluate(PAC % 3128, "https://a.intranet.test/", "a.intranet.test", 10.0)
    assert direct.proxy is None


@pytest.mark.parametrize(
    ("pac", "words"),
    [
        ("function FindProxyForURL(u, h) { while (true) {} }", "no answer within 1 s"),
        ("function FindProxyForURL(u, h) { throw new Error('x'); }", "the PAC file failed"),
        ("this is not javascript", "the PAC file failed"),
    ],
)
def test_hostile_pac_files_end_in_time(pac: str, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(PacError) as caught:
        evaluate(pac, "https://a.example/", "a.example", 1.0)
    assert time.monotonic() - started < 2.5
    assert words in str(caught.value)


def _kde(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pac_url: str) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "kioslaverc").write_text(
        f"[Proxy Settings]\nProxyType=2\nProxy Config Script={pac_url}\n"
    )
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "KDE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))


@pytest.mark.skipif(not have_tinyproxy(), reason="tinyproxy is not installed")
def test_pac_named_by_the_desktop_settings_picks_the_proxy(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    pki: Pki,
    root_file: Path,
) -> None:
    leaf = pki.leaf()
    proxy_port = free_port()
    answer = http_ok((PAC % proxy_port).encode(), "text/plain")
    with (
        tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as site,
        tinyproxy(tmp_path, port=proxy_port),
        LoopbackServer(http_raw(answer)) as pac,
    ):
        _kde(monkeypatch, tmp_path, f"http://{pac.address}/proxy.pac")
        code, report = check(capsys, root_file, site.port)
    assert code == 0 and report["findings"] == []
    assert report["path"]["proxy"] == f"http://127.0.0.1:{proxy_port}"
    assert report["path"]["proxy_source"] == "pac"
    assert report["path"]["proxy_setting"].startswith("KDE proxy settings (PAC http://")


def test_pac_file_that_cannot_be_had_is_the_proxy_not_answering(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    root_file: Path,
) -> None:
    _kde(monkeypatch, tmp_path, f"http://127.0.0.1:{free_port()}/proxy.pac")
    code, report = check(capsys, root_file, free_port())
    assert code == 1 and [f["id"] for f in report["findings"]] == ["proxy-unreachable"]
    evidence = report["findings"][0]["evidence"]
    assert evidence["setting"].startswith("KDE proxy settings (PAC")
    assert "gave nothing" in evidence["detail"]
