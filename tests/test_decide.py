"""``causes.decide`` on its own: a table of observations and the causes they must give.

The engine tests reach these rules through real servers; here each rule is pinned with the
smallest observation that exercises it, so a change to one rule shows up as the one row it
breaks. The certificates are real (tests/pki.py) and analysed by the real chain analysis; no
network is involved because ``decide`` does none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.analyze.chain import ChainAnalysis, analyze_chain
from core.causes import Observations, decide
from core.models import (
    ClockResult,
    ClockSource,
    Finding,
    FindingId,
    HandshakeObservation,
    NetworkFailure,
    ResolveResult,
    Severity,
    Target,
    evidence,
)
from core.probe.ocsp import RevocationStatus
from core.trust import TrustStores
from core.wire.records import TlsVersion
from tests.evidence import assert_documented
from tests.pki import DAY, NOW, Pki

TARGET = Target("shop.example", 443, "127.0.0.1", 443, "shop.example")
PKI = Pki()
GOOD = PKI.leaf(["shop.example"], not_before=NOW - 10 * DAY, not_after=NOW + 90 * DAY)
STORES = TrustStores(mozilla=None, os=None, custom=(PKI.root.cert,))
#: This computer's clock, 200 days ahead of the reference: the good leaf looks expired here.
AHEAD = NOW + 200 * DAY


def chain(at: dt.datetime = NOW) -> ChainAnalysis:
    return analyze_chain([GOOD.cert, PKI.intermediate.cert], "shop.example", STORES, at)


def ntp(offset_s: float, local: dt.datetime) -> ClockResult:
    return ClockResult(
        ClockSource.NTP,
        "ntp.example",
        offset_s,
        0.05,
        local_time=local,
        reference_time=local - dt.timedelta(seconds=offset_s),
    )


def ok_handshake(**kw: object) -> HandshakeObservation:
    return HandshakeObservation("127.0.0.1", True, **{"protocol": TlsVersion.TLS1_3, **kw})  # type: ignore[arg-type]


def failed(failure: NetworkFailure, **kw: object) -> HandshakeObservation:
    return HandshakeObservation("127.0.0.1", False, failure=failure, **kw)  # type: ignore[arg-type]


def observe(**kw: object) -> Observations:
    from core.analyze.overlap import local_client_profile

    kw.setdefault("local_client", local_client_profile())
    return Observations(target=TARGET, local_now=NOW, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    id: str
    observations: Callable[[], Observations]
    #: The findings' IDs, most severe first, as decide must give them.
    causes: list[str]
    check: Callable[[tuple[Finding, ...]], bool] = lambda _findings: True


def _names_of_clients(value: object) -> bool:
    from core.analyze.overlap import load_client_profiles

    names = {profile.name for profile in load_client_profiles()}
    return isinstance(value, tuple) and bool(value) and set(value) <= names


def _first(findings: tuple[Finding, ...]) -> Finding:
    return findings[0]


ROWS = [
    Row(
        "dns",
        lambda: observe(resolve=ResolveResult((), 1.0, error="NXDOMAIN")),
        ["dns-failure"],
        lambda f: _first(f).evidence["host"] == "shop.example",
    ),
    Row(
        "refused",
        lambda: observe(connect_failure=NetworkFailure.CONNECT_REFUSED, connect_address="1.2.3.4"),
        ["connect-refused"],
        lambda f: _first(f).evidence["stage"] == "while connecting",
    ),
    Row(
        "unreachable-is-refused",
        lambda: observe(connect_failure=NetworkFailure.UNREACHABLE),
        ["connect-refused"],
    ),
    Row(
        "connect-timeout",
        lambda: observe(connect_failure=NetworkFailure.CONNECT_TIMEOUT),
        ["connect-timeout"],
    ),
    Row(
        "reset-while-connecting",
        lambda: observe(connect_failure=NetworkFailure.CONNECTION_RESET),
        ["connection-reset"],
    ),
    Row(
        "handshake-timeout",
        lambda: observe(handshake=failed(NetworkFailure.HANDSHAKE_TIMEOUT), timeout_s=3.0),
        ["handshake-timeout"],
        lambda f: _first(f).evidence["timeout_s"] == 3.0,
    ),
    Row(
        "plain-http",
        lambda: observe(
            handshake=failed(NetworkFailure.NOT_TLS, first_bytes=b"HTTP/1.1 400 Bad\r\n\x00")
        ),
        ["not-tls"],
        lambda f: (
            _first(f).evidence["looks_like"] == "HTTP"
            and "\\x00" in str(_first(f).evidence["first_bytes"])
        ),
    ),
    Row(
        "alert-after-certificate-request-is-the-client-certificate",
        lambda: observe(
            handshake=failed(
                NetworkFailure.TLS_ALERT, alert="handshake_failure", certificate_requested=True
            )
        ),
        ["client-cert-required"],
        lambda f: _first(f).evidence["detail"] == "no client certificate was given",
    ),
    Row(
        "a-refused-client-certificate-says-so",
        lambda: observe(
            handshake=failed(
                NetworkFailure.CONNECTION_RESET, certificate_requested=True, alert=None
            ),
            credentials_given=True,
        ),
        ["client-cert-required"],
        lambda f: (
            _first(f).evidence["detail"] == "a client certificate was sent but refused"
            and _first(f).evidence["alert"] == "connection closed"
        ),
    ),
    Row(
        "tls13-alert-after-the-handshake",
        lambda: observe(
            handshake=ok_handshake(alert="certificate_required", certificate_requested=True),
            chain=chain(),
            clock=ntp(0.5, NOW),
        ),
        ["client-cert-required"],
        lambda f: _first(f).evidence["stage"] == "after the handshake (TLS 1.3)",
    ),
    Row(
        "protocol-version-alert-and-an-old-server",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ALERT, alert="protocol_version"),
            legacy=ok_handshake(protocol=TlsVersion.TLS1_0, cipher="TLS_RSA_WITH_AES_128_CBC_SHA"),
        ),
        ["no-shared-protocol"],
        # The reference clients that still speak TLS 1.0, by name: facts, not a phrase.
        lambda f: (
            _first(f).evidence["server_versions"] == ("TLS 1.0",)
            and _names_of_clients(_first(f).evidence["clients_that_connect"])
        ),
    ),
    Row(
        # run_check hands decide this computer's client; without it nothing is measured
        # against the alert, which stays the finding.
        "without-this-computers-client-the-alert-stays-the-finding",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ALERT, alert="protocol_version"),
            legacy=ok_handshake(protocol=TlsVersion.TLS1_0),
            local_client=None,
        ),
        ["tls-alert"],
    ),
    Row(
        "this-computer-refusing-an-old-version-without-an-alert",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ERROR, failure_detail="unsupported protocol"),
            legacy=ok_handshake(protocol=TlsVersion.TLS1_1),
        ),
        ["no-shared-protocol"],
        lambda f: _first(f).evidence["server_versions"] == ("TLS 1.1",),
    ),
    Row(
        "a-version-alert-from-a-server-whose-version-this-computer-speaks-is-the-alert",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ALERT, alert="protocol_version"),
            legacy=ok_handshake(
                protocol=TlsVersion.TLS1_2, cipher="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ),
        ),
        ["tls-alert"],
    ),
    Row(
        "handshake-failure-and-a-server-with-old-ciphers",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ALERT, alert="handshake_failure"),
            legacy=ok_handshake(protocol=TlsVersion.TLS1_2, cipher="TLS_RSA_WITH_RC4_128_SHA"),
        ),
        ["no-shared-cipher"],
        lambda f: _first(f).evidence["server_ciphers"] == ("TLS_RSA_WITH_RC4_128_SHA",),
    ),
    Row(
        "the-enumeration-explains-a-failed-handshake-and-becomes-an-error",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ALERT, alert="protocol_version"),
            overlap_findings=(
                Finding(
                    FindingId.NO_SHARED_PROTOCOL,
                    Severity.WARNING,
                    evidence(
                        server_versions="TLS 1.0",
                        client_versions="TLS 1.2, TLS 1.3",
                        clients_that_connect="none",
                    ),
                ),
            ),
        ),
        ["no-shared-protocol"],
        lambda f: _first(f).severity is Severity.ERROR,
    ),
    Row(
        "reset-after-the-client-hello",
        lambda: observe(handshake=failed(NetworkFailure.CONNECTION_RESET)),
        ["connection-reset"],
        lambda f: _first(f).evidence["stage"] == "after the ClientHello",
    ),
    Row(
        "an-unexplained-alert-is-named",
        lambda: observe(handshake=failed(NetworkFailure.TLS_ALERT, alert="decode_error")),
        ["tls-alert"],
        lambda f: _first(f).evidence["alert"] == "decode_error",
    ),
    Row(
        "a-broken-reply-without-alert",
        lambda: observe(
            handshake=failed(NetworkFailure.TLS_ERROR, failure_detail="record overflow")
        ),
        ["tls-alert"],
        lambda f: "record overflow" in str(_first(f).evidence["alert"]),
    ),
    Row(
        "a-good-check-has-no-findings",
        lambda: observe(handshake=ok_handshake(), chain=chain(), clock=ntp(0.5, NOW)),
        [],
    ),
    Row(
        "a-clock-ahead-explains-the-expired-look-and-is-the-cause",
        lambda: Observations(
            target=TARGET,
            local_now=AHEAD,
            handshake=ok_handshake(),
            chain=chain(),
            clock=ntp((AHEAD - NOW).total_seconds(), AHEAD),
        ),
        ["clock-skew"],
        lambda f: (
            _first(f).severity is Severity.CRITICAL
            and "looks expired" in str(_first(f).evidence["symptoms"])
        ),
    ),
    Row(
        "a-skewed-clock-that-explains-nothing-is-a-warning",
        lambda: observe(handshake=ok_handshake(), chain=chain(), clock=ntp(600.0, NOW)),
        ["clock-skew"],
        lambda f: _first(f).severity is Severity.WARNING and not _first(f).evidence["symptoms"],
    ),
    Row(
        "a-truly-expired-certificate-with-a-good-clock",
        lambda: Observations(
            target=TARGET,
            local_now=AHEAD,
            handshake=ok_handshake(),
            chain=chain(AHEAD),
            clock=ntp(0.5, AHEAD),
        ),
        ["cert-expired"],
    ),
    Row(
        "no-reference-time-is-said-beside-a-certificate",
        lambda: observe(
            handshake=ok_handshake(),
            chain=chain(),
            clock=ClockResult(ClockSource.NONE, None, None, None, notes=("ntp: timeout",)),
        ),
        ["clock-unverified"],
    ),
    Row(
        "no-reference-time-is-noise-beside-a-network-cause",
        lambda: observe(
            connect_failure=NetworkFailure.CONNECT_REFUSED,
            clock=ClockResult(ClockSource.NONE, None, None, None),
        ),
        ["connect-refused"],
    ),
    Row(
        "revoked",
        lambda: observe(
            handshake=ok_handshake(),
            chain=chain(),
            clock=ntp(0.5, NOW),
            revocation=RevocationStatus(
                True, True, "http://ocsp.example", "revoked", NOW - DAY, "keyCompromise"
            ),
        ),
        ["cert-revoked"],
        lambda f: _first(f).severity is Severity.CRITICAL,
    ),
    Row(
        "an-unreadable-chain-is-chain-invalid",
        lambda: observe(handshake=ok_handshake(), chain_unreadable="certificate 1: bad DER"),
        ["chain-invalid"],
    ),
    Row(
        "internal-errors-one-per-check",
        lambda: observe(
            handshake=ok_handshake(),
            internal_errors=(
                ("clock", "ValueError: x\ntrace"),
                ("clock", "ValueError: y"),
                ("certificates", "KeyError: z"),
            ),
        ),
        ["internal-error", "internal-error"],
        lambda f: [x.evidence["check"] for x in f] == ["clock", "certificates"],
    ),
    Row(
        "most-severe-first",
        lambda: observe(
            handshake=ok_handshake(),
            chain=chain(),
            clock=ntp(600.0, NOW),
            revocation=RevocationStatus(True, True, None, "revoked"),
        ),
        ["cert-revoked", "clock-skew"],
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_observations_give_their_causes(row: Row) -> None:
    findings = decide(row.observations())
    assert [f.id.value for f in findings] == row.causes
    assert row.check(findings), findings
    assert all(f.fixes for f in findings if f.id is not FindingId.INTERNAL_ERROR)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_every_finding_has_the_documented_evidence(row: Row) -> None:
    assert_documented(decide(row.observations()))
