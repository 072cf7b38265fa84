"""Helpers shared by the window's tests: reports made by hand (no network) and a few checks of
the helpers themselves, so a broken helper fails here rather than in every test that uses it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from core.models import (
    CertificateInfo,
    CheckOptions,
    CheckReport,
    ClockResult,
    ClockSource,
    Direction,
    Finding,
    HandshakeObservation,
    HandshakeStep,
    HandshakeStepKind,
    StageId,
    StageOutcome,
    StageResult,
    StageStatus,
    Target,
    TrustResult,
)
from core.wire.records import TlsVersion

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)

TLS13_STEPS = (
    HandshakeStep(HandshakeStepKind.CLIENT_HELLO, Direction.CLIENT, 0.1),
    HandshakeStep(HandshakeStepKind.SERVER_HELLO, Direction.SERVER, 0.9),
    HandshakeStep(HandshakeStepKind.ENCRYPTED_EXTENSIONS, Direction.SERVER, 1.0),
    HandshakeStep(HandshakeStepKind.CERTIFICATE, Direction.SERVER, 1.1),
    HandshakeStep(HandshakeStepKind.CERTIFICATE_VERIFY, Direction.SERVER, 1.4),
    HandshakeStep(HandshakeStepKind.FINISHED, Direction.SERVER, 1.5),
    HandshakeStep(HandshakeStepKind.CHANGE_CIPHER_SPEC, Direction.CLIENT, 1.54),
    HandshakeStep(HandshakeStepKind.FINISHED, Direction.CLIENT, 1.56),
    HandshakeStep(HandshakeStepKind.NEW_SESSION_TICKET, Direction.SERVER, 1.9),
)


#: A plain outcome for each stage that ran.
_DONE = {
    StageId.RESOLVE: StageOutcome.RESOLVE_IP_LITERAL,
    StageId.PROXY: StageOutcome.PROXY_CONNECTED,
    StageId.CONNECT: StageOutcome.CONNECTED,
    StageId.HANDSHAKE: StageOutcome.HANDSHAKE_DONE,
    StageId.CERTIFICATES: StageOutcome.CHAIN_VALID,
    StageId.CLOCK: StageOutcome.CLOCK_RIGHT,
}


def make_cert(subject: str = "CN=localhost", **changes: Any) -> CertificateInfo:
    info = CertificateInfo(
        subject=subject,
        issuer="CN=Handshake Doctor Test Intermediate,O=Test PKI",
        not_before=NOW - dt.timedelta(days=1),
        not_after=NOW + dt.timedelta(days=90),
        san=("localhost", "127.0.0.1"),
        sha256="ab" * 32,
        sha1="cd" * 20,
        serial="1234",
        key="EC P-256",
        key_bits=256,
        signature_algorithm="ecdsa-with-SHA256",
        sent_by_server=True,
        is_ca=False,
        self_issued=False,
        pem="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        trusted_by=(),
    )
    return dataclasses.replace(info, **changes)


def make_report(
    *,
    findings: Sequence[Finding] = (),
    handshake: HandshakeObservation | bool | None = True,
    certificates: Sequence[CertificateInfo] | None = None,
    **changes: Any,
) -> CheckReport:
    if handshake is True:
        hs: HandshakeObservation | None = HandshakeObservation(
            address="127.0.0.1",
            ok=True,
            protocol=TlsVersion.TLS1_3,
            cipher="TLS_AES_256_GCM_SHA384",
            group="x25519",
            steps=TLS13_STEPS,
            chain_der=(b"leaf", b"intermediate"),
        )
    elif handshake is False:
        hs = None
    else:
        hs = handshake
    certs = (
        tuple(certificates)
        if certificates is not None
        else (
            make_cert(),
            make_cert(
                "CN=Handshake Doctor Test Intermediate,O=Test PKI",
                issuer="CN=Handshake Doctor Test Root,O=Test PKI",
                is_ca=True,
                san=(),
            ),
        )
    )
    report = CheckReport(
        target=Target(host="localhost", port=443, sni="localhost", connect_address="127.0.0.1"),
        options=CheckOptions(no_network_time=True, quick=True, timeout=2.0),
        started_at=NOW,
        duration_ms=42.0,
        handshake=hs,
        certificates=certs,
        trust=TrustResult(mozilla=False, os=False, custom=True),
        protocols={
            **dict.fromkeys(
                (TlsVersion.SSL3, TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2)
            ),
            TlsVersion.TLS1_3: True,
        },
        ciphers={},
        groups=("x25519",),
        server_preference=None,
        clients=(),
        clock=ClockResult(ClockSource.HTTP_DATE, "localhost:443", 0.2, 0.5, NOW, NOW),
        findings=tuple(findings),
        stages=(
            *(StageResult(s, StageStatus.OK, 1.0, o) for s, o in _DONE.items()),
            StageResult(StageId.PROTOCOLS, StageStatus.SKIPPED, 0.0, StageOutcome.PROTOCOLS_QUICK),
        ),
    )
    return dataclasses.replace(report, **changes)


def test_make_report_is_a_working_report() -> None:
    report = make_report()
    assert report.handshake is not None
    assert report.handshake.ok
    assert report.verdict.value == "ok"
    assert len(report.certificates) == 2
