"""Finding the proxy as the user's apps do: the option, the environment with NO_PROXY, GNOME's
and KDE's settings, and Windows' and macOS' as the standard library reads them. Pure rules, fed
the settings the way this computer would hand them over."""

from __future__ import annotations

import pytest

from core.probe.tunnel import ProxyEndpoint, ProxyScheme
from core.proxy_settings import (
    DIRECT,
    ProxyChoice,
    ProxySource,
    ProxyUrlError,
    choose_proxy,
    from_environment,
    from_gnome,
    from_kde,
    from_platform,
    no_proxy_rule,
    parse_proxy_url,
)

HTTP = ProxyScheme.HTTP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://proxy.corp:3128", ProxyEndpoint(HTTP, "proxy.corp", 3128)),
        ("proxy.corp:3128", ProxyEndpoint(HTTP, "proxy.corp", 3128)),
        ("HTTP://Proxy.Corp", ProxyEndpoint(HTTP, "proxy.corp", 8080)),
        (
            "http://al%40ce:p%3Ass@10.0.0.1:8080/",
            ProxyEndpoint(HTTP, "10.0.0.1", 8080, "al@ce", "p:ss"),
        ),
        ("socks5://127.0.0.1:1080", ProxyEndpoint(ProxyScheme.SOCKS5, "127.0.0.1", 1080)),
        ("socks5h://[::1]:9050", ProxyEndpoint(ProxyScheme.SOCKS5H, "::1", 9050)),
        ("socks://tor:9050", ProxyEndpoint(ProxyScheme.SOCKS5H, "tor", 9050)),
    ],
)
def test_parse_proxy_url(text: str, expected: ProxyEndpoint) -> None:
    parsed = parse_proxy_url(text)
    assert parsed == expected
    assert parsed.password == expected.password


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("ftp://proxy:21", "unknown proxy scheme 'ftp'"),
        ("https://proxy:443", "https:// proxy"),
        ("http://proxy:99999", "port must be a number"),
        ("http://proxy:0", "port must be a number"),
        ("http://proxy:port", "port must be a number"),
        ("http://:8080", "no host"),
        ("http://proxy:8080/path", "without a path"),
        ("http://pro xy:8080", "spaces"),
        ("http://prøxy:8080", "characters"),
    ],
)
def test_malformed_proxy_says_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ProxyUrlError) as caught:
        parse_proxy_url(text)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("rules", "host", "port", "rule"),
    [
        ("*", "anything.example", 443, "*"),
        ("example.com", "example.com", 443, "example.com"),
        ("example.com", "www.example.com", 443, "example.com"),
        (".example.com", "www.example.com", 443, ".example.com"),
        (".example.com", "example.com", 443, ".example.com"),
        ("example.com", "badexample.com", 443, None),
        ("example.com:8443", "example.com", 443, None),
        ("example.com:8443", "example.com", 8443, "example.com:8443"),
        (" a.test , example.com ", "example.com", 443, "example.com"),
        ("10.0.0.0/8", "10.1.2.3", 443, "10.0.0.0/8"),
        ("10.0.0.0/8", "11.1.2.3", 443, None),
        ("192.168.1.5", "192.168.1.5", 443, "192.168.1.5"),
        ("::1", "::1", 443, "::1"),
        ("fd00::/8", "fd12::1", 443, "fd00::/8"),
        ("[::1]:443", "::1", 443, "[::1]:443"),
        ("10.0.0.0/8", "ten.example", 443, None),  # a CIDR never matches a name
        ("", "example.com", 443, None),
        ("*.corp.example", "a.corp.example", 443, "*.corp.example"),
    ],
)
def test_no_proxy_rules(rules: str, host: str, port: int, rule: str | None) -> None:
    assert no_proxy_rule(rules, host, port) == rule


def test_environment_lowercase_wins_and_all_proxy_is_the_fallback() -> None:
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    choice = from_environment(env, "site.example", 443)
    assert choice == ProxyChoice(ProxyEndpoint(HTTP, "lower", 2), ProxySource.ENV, "https_proxy")
    choice = from_environment({"ALL_PROXY": "socks5h://s:1080"}, "site.example", 443)
    assert choice is not None and choice.proxy == ProxyEndpoint(ProxyScheme.SOCKS5H, "s", 1080)
    assert choice.setting == "ALL_PROXY"
    assert from_environment({"http_proxy": "http://plain:1"}, "site.example", 443) is None


def test_environment_no_proxy_sends_the_site_direct_and_says_why() -> None:
    env = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost,.corp.example"}
    choice = from_environment(env, "intranet.corp.example", 443)
    assert choice == ProxyChoice(None, ProxySource.ENV, "HTTPS_PROXY", "NO_PROXY=.corp.example")


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ProxyUrlError) as caught:
        from_environment({"HTTPS_PROXY": "ftp://p:21"}, "a.example", 443)
    assert caught.value.setting == "HTTPS_PROXY"


def _gnome(values: dict[tuple[str, str], str]):  # type: ignore[no-untyped-def]
    return lambda schema, key: values.get((schema, key))


def test_gnome_manual_proxy_and_ignore_hosts() -> None:
    settings = {
        ("org.gnome.system.proxy", "mode"): "'manual'",
        ("org.gnome.system.proxy", "ignore-hosts"): "['localhost', '127.0.0.0/8', '.lan']",
        ("org.gnome.system.proxy.https", "host"): "'proxy.corp'",
        ("org.gnome.system.proxy.https", "port"): "3128",
    }
    choice = from_gnome(_gnome(settings), "site.example", 443)
    assert choice == ProxyChoice(
        ProxyEndpoint(HTTP, "proxy.corp", 3128), ProxySource.SYSTEM, "GNOME proxy settings"
    )
    direct = from_gnome(_gnome(settings), "nas.lan", 443)
    assert direct is not None and direct.proxy is None and direct.bypass == "ignore-hosts .lan"


def test_gnome_socks_only_and_none_and_auto() -> None:
    socks = {
        ("org.gnome.system.proxy", "mode"): "'manual'",
        ("org.gnome.system.proxy.https", "host"): "''",
        ("org.gnome.system.proxy.https", "port"): "0",
        ("org.gnome.system.proxy.socks", "host"): "'127.0.0.1'",
        ("org.gnome.system.proxy.socks", "port"): "uint32 9050",
    }
    choice = from_gnome(_gnome(socks), "a.example", 443)
    assert choice is not None and choice.proxy == ProxyEndpoint(
        ProxyScheme.SOCKS5, "127.0.0.1", 9050
    )
    assert from_gnome(_gnome({("org.gnome.system.proxy", "mode"): "'none'"}), "a", 443) is None
    auto = {
        ("org.gnome.system.proxy", "mode"): "'auto'",
        ("org.gnome.system.proxy", "autoconfig-url"): "'http://wpad.corp/proxy.pac'",
    }
    found = from_gnome(_gnome(auto), "a.example", 443)
    assert found == ProxyChoice(
        None,
        ProxySource.PAC,
        "GNOME proxy settings (PAC http://wpad.corp/proxy.pac)",
        pac_url="http://wpad.corp/proxy.pac",
    )


def test_kde_manual_and_pac() -> None:
    rc = (
        "[General]\nx=1\n[Proxy Settings]\nProxyType=1\n"
        "httpsProxy=http://kde.proxy 8080\nNoProxyFor=.local\n"
    )
    choice = from_kde(rc, "site.example", 443)
    assert choice == ProxyChoice(
        ProxyEndpoint(HTTP, "kde.proxy", 8080), ProxySource.SYSTEM, "KDE proxy settings"
    )
    assert from_kde(rc, "printer.local", 443) == ProxyChoice(
        None, ProxySource.SYSTEM, "KDE proxy settings", "NoProxyFor .local"
    )
    pac = "[Proxy Settings]\nProxyType=2\nProxy Config Script=http://corp/p.pac\n"
    assert from_kde(pac, "a", 443) == ProxyChoice(
        None,
        ProxySource.PAC,
        "KDE proxy settings (PAC http://corp/p.pac)",
        pac_url="http://corp/p.pac",
    )
    assert from_kde("[Proxy Settings]\nProxyType=0\n", "a", 443) is None


def test_windows_and_macos_settings_as_urllib_reads_them() -> None:
    choice = from_platform(
        {"https": "proxy.corp:8080", "http": "proxy.corp:8080"}, False, "Windows"
    )
    assert choice == ProxyChoice(
        ProxyEndpoint(HTTP, "proxy.corp", 8080), ProxySource.SYSTEM, "Windows proxy settings"
    )
    socks = from_platform({"socks": "socks://127.0.0.1:1080"}, False, "macOS")
    assert socks is not None and socks.proxy == ProxyEndpoint(
        ProxyScheme.SOCKS5H, "127.0.0.1", 1080
    )
    bypassed = from_platform({"https": "proxy.corp:8080"}, True, "macOS")
    assert bypassed == ProxyChoice(
        None, ProxySource.SYSTEM, "macOS proxy settings", "the bypass list"
    )
    assert from_platform({}, False, "Windows") is None


def test_choose_proxy_order() -> None:
    env = {"HTTPS_PROXY": "http://env:1"}
    system = [
        lambda: ProxyChoice(
            ProxyEndpoint(HTTP, "sys", 2), ProxySource.SYSTEM, "GNOME proxy settings"
        )
    ]
    assert choose_proxy("a", 443, no_proxy=True, option="http://o:3", env=env).proxy is None
    assert choose_proxy("a", 443, option="http://o:3", env=env).setting == "--proxy"
    assert choose_proxy("a", 443, env=env, system=system).setting == "HTTPS_PROXY"
    assert choose_proxy("a", 443, env={}, system=system).source is ProxySource.SYSTEM
    assert choose_proxy("a", 443, env={}, system=[lambda: None]) == DIRECT
    with pytest.raises(ProxyUrlError) as caught:
        choose_proxy("a", 443, option="gopher://x:1")
    assert caught.value.setting == "--proxy"
