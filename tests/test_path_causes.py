"""causes.decide for the user's path: what a proxy's answer, the direct route beside it and a
captive portal's probe mean, as a table of observations and the causes they must give."""

from __future__ import annotations

import datetime as dt

import pytest

from core.analyze.portal import PortalResult, PortalVerdict
from core.causes import Observations, decide
from core.models import (
    FindingId,
    FixId,
    HandshakeObservation,
    NetworkFailure,
    ProxyFailure,
    ProxyObservation,
    Severity,
    Target,
)
from core.wire.records import TlsVersion
from tests.evidence import assert_documented

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
TARGET = Target("shop.example", 443, sni="shop.example")


def _proxy(failure: ProxyFailure | None, **kw: object) -> ProxyObservation:
    return ProxyObservation(
        "http://proxy.corp:3128",
        "env",
        "HTTPS_PROXY",
        failure,
        kw.pop("detail", "x"),
        **kw,  # type: ignore[arg-type]
    )


def _ids(obs: Observations) -> list[FindingId]:
    findings = decide(obs)
    assert_documented(findings)
    return [f.id for f in findings]


@pytest.mark.parametrize(
    ("failure", "finding"),
    [
        (ProxyFailure.PROXY_UNREACHABLE, FindingId.PROXY_UNREACHABLE),
        (ProxyFailure.TIMED_OUT, FindingId.PROXY_UNREACHABLE),
        (ProxyFailure.MALFORMED, FindingId.PROXY_UNREACHABLE),
        (ProxyFailure.AUTH_REQUIRED, FindingId.PROXY_AUTH_REQUIRED),
        (ProxyFailure.REFUSED, FindingId.PROXY_REFUSED),
        (ProxyFailure.SITE_UNREACHABLE, FindingId.CONNECT_REFUSED),
    ],
)
def test_a_proxy_that_gives_no_path_is_the_cause(failure: ProxyFailure, finding: FindingId) -> None:
    obs = Observations(TARGET, NOW, proxy=_proxy(failure))
    assert _ids(obs) == [finding]


def test_proxy_evidence_says_where_the_setting_came_from_and_what_it_said() -> None:
    auth = decide(
        Observations(
            TARGET,
            NOW,
            proxy=_proxy(
                ProxyFailure.AUTH_REQUIRED,
                detail="the proxy answered HTTP/1.1 407 Proxy Authentication Required",
                status=407,
                auth_schemes=("Negotiate", "NTLM"),
            ),
        )
    )[0]
    assert dict(auth.evidence) == {
        "proxy": "http://proxy.corp:3128",
        "setting": "HTTPS_PROXY",
        "detail": "the proxy answered HTTP/1.1 407 Proxy Authentication Required",
        "schemes": ("Negotiate", "NTLM"),
    }
    assert FixId.CONFIGURE_PROXY in auth.fixes
    refused = decide(
        Observations(
            TARGET,
            NOW,
            proxy=_proxy(ProxyFailure.REFUSED, status=403, proxy_words="Blocked by policy <b>"),
        )
    )[0]
    assert refused.evidence["proxy_words"] == "Blocked by policy <b>"
    assert refused.fixes[0] is FixId.ASK_NETWORK_ADMIN


def test_direct_blocked_only_when_the_proxy_worked() -> None:
    ok = HandshakeObservation("127.0.0.1", True, TlsVersion.TLS1_3)
    proxied = Observations(
        TARGET, NOW, handshake=ok, proxy=_proxy(None), direct_failure="connection refused"
    )
    (finding,) = decide(proxied)
    assert finding.id is FindingId.DIRECT_BLOCKED and finding.severity is Severity.INFO
    assert _ids(Observations(TARGET, NOW, handshake=ok, proxy=_proxy(None))) == []
    # No proxy: a direct failure is just the failure, never "direct-blocked".
    assert _ids(Observations(TARGET, NOW, handshake=ok, direct_failure="refused")) == []


def _portal(verdict: PortalVerdict = PortalVerdict.PORTAL) -> PortalResult:
    return PortalResult(
        verdict, "http://probe.test/canonical.html", "http://portal.test/login", "HTTP 302 redirect"
    )


def test_a_portal_explains_the_failures_it_causes() -> None:
    failed = Observations(
        TARGET,
        NOW,
        connect_failure=NetworkFailure.CONNECT_TIMEOUT,
        connect_address="10.0.0.1",
        portal=_portal(),
    )
    (finding,) = decide(failed)
    assert finding.id is FindingId.CAPTIVE_PORTAL
    assert finding.evidence["symptoms"] == ("connect-timeout",)
    assert finding.evidence["portal_url"] == "http://portal.test/login"
    assert finding.fixes[0] is FixId.SIGN_IN_TO_NETWORK


def test_a_portal_verdict_without_a_failure_is_not_a_finding() -> None:
    ok = HandshakeObservation("127.0.0.1", True, TlsVersion.TLS1_3)
    assert _ids(Observations(TARGET, NOW, handshake=ok, portal=_portal())) == []


@pytest.mark.parametrize("verdict", [PortalVerdict.NONE, PortalVerdict.UNKNOWN])
def test_no_portal_leaves_the_failure_as_it_is(verdict: PortalVerdict) -> None:
    obs = Observations(
        TARGET,
        NOW,
        connect_failure=NetworkFailure.CONNECT_TIMEOUT,
        connect_address="10.0.0.1",
        portal=_portal(verdict),
    )
    assert _ids(obs) == [FindingId.CONNECT_TIMEOUT]


def test_another_issuer_through_the_proxy_is_interception() -> None:
    ok = HandshakeObservation("127.0.0.1", True, TlsVersion.TLS1_3)
    obs = Observations(
        TARGET,
        NOW,
        handshake=ok,
        proxy=_proxy(None),
        direct_issuer="CN=Real CA",
        proxied_issuer="CN=Corp Inspection CA",
    )
    (finding,) = decide(obs)
    assert finding.id is FindingId.INTERCEPTION_SUSPECTED
    assert finding.evidence["product"] == "the proxy http://proxy.corp:3128"
    assert "CN=Corp Inspection CA" in str(finding.evidence["reason"])
    assert "CN=Real CA" in str(finding.evidence["reason"])
    same = Observations(
        TARGET,
        NOW,
        handshake=ok,
        proxy=_proxy(None),
        direct_issuer="CN=Real CA",
        proxied_issuer="CN=Real CA",
    )
    assert _ids(same) == []
