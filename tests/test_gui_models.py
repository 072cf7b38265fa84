"""The item models pass Qt's model tester, with the awkward data real servers send."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core.catalogue import load_catalogue
from core.models import (
    ClientMismatch,
    ClientResult,
    Finding,
    FindingId,
    FixId,
    Severity,
    StageEvent,
    StageId,
    StageOutcome,
    StageStatus,
    evidence,
    stage_facts,
)
from core.render.labels import cert_name, chain_parents, days_text, evidence_label, unescape_rdn
from core.wire.records import TlsVersion
from gui.certificate_model import CertificateModel
from gui.finding_models import EvidenceModel, FindingsModel
from gui.models import OBJECT_ROLE
from gui.protocol_models import CipherModel, ClientModel, ProtocolModel
from gui.stage_model import STAGE_ORDER, StageModel
from tests.test_gui_support import NOW, make_cert

FINDINGS = (
    Finding(
        FindingId.CERT_EXPIRED,
        Severity.ERROR,
        evidence(
            subject="CN=<b>x</b>", not_after_date="3 March 2026", days_ago=2, position="the leaf"
        ),
        (FixId.CONTACT_SITE_OWNER, FixId.RENEW_CERTIFICATE),
    ),
    Finding(FindingId.CLOCK_UNVERIFIED, Severity.INFO),
    Finding(FindingId.LEGACY_PROTOCOL, Severity.WARNING, evidence(versions=["TLSv1.0", "TLSv1.1"])),
)


def test_stage_model(qtmodeltester: object, qtbot: QtBot) -> None:
    model = StageModel()
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.apply(StageEvent(StageId.RESOLVE, StageStatus.RUNNING))
    model.apply(
        StageEvent(
            StageId.RESOLVE,
            StageStatus.OK,
            1.5,
            StageOutcome.RESOLVE_IP_LITERAL,
            stage_facts(address="127.0.0.1"),
        )
    )
    model.apply(StageEvent(StageId.HANDSHAKE, StageStatus.RUNNING))
    model.tick()
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.index(0, 0).data() == "✓  Find the server"
    assert model.index(0, 1).data() == "2 ms"
    handshake, protocols = (
        STAGE_ORDER.index(StageId.HANDSHAKE),
        STAGE_ORDER.index(StageId.PROTOCOLS),
    )
    assert model.index(handshake, 0).data().startswith("…")
    assert model.index(0, 2).data() == "not needed: 127.0.0.1 is an IP address"
    assert model.index(handshake, 2).data() == "saying hello, waiting for the server…"
    assert model.index(protocols, 2).data() == "waiting"
    model.stop_running(StageOutcome.CANCELLED)
    assert model.status(StageId.HANDSHAKE) is StageStatus.SKIPPED
    assert model.index(protocols, 2).data() == "cancelled"
    assert model.status(StageId.PROXY) is StageStatus.PENDING  # no proxy: never part of it


def test_stage_summary_with_escape_codes_is_shown_literally(qtbot: QtBot) -> None:
    model = StageModel()
    hostile = stage_facts(detail="alert \x1b[31m<b>x</b>")
    model.apply(
        StageEvent(
            StageId.HANDSHAKE, StageStatus.FAILED, 3.0, StageOutcome.HANDSHAKE_FAILED, hostile
        )
    )
    row = STAGE_ORDER.index(StageId.HANDSHAKE)
    assert model.index(row, 2).data() == "alert \\x1b[31m<b>x</b>"
    assert "&lt;b&gt;" in model.index(row, 2).data(Qt.ItemDataRole.ToolTipRole)


def test_findings_model_groups_by_severity(qtmodeltester: object, qtbot: QtBot) -> None:
    model = FindingsModel()
    model.set_findings(FINDINGS, load_catalogue())
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    groups = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert groups == ["Problem (1)", "Warning (1)", "Note (1)"]
    first = model.index(0, 0, model.index(0, 0))
    assert first.data(OBJECT_ROLE).id is FindingId.CERT_EXPIRED
    assert first.data() == "The certificate has expired"
    model.set_findings((), load_catalogue())
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.rowCount() == 0


def test_evidence_model(qtmodeltester: object, qtbot: QtBot) -> None:
    model = EvidenceModel()
    model.set_finding(FINDINGS[0])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.index(0, 0).data() == "Subject"
    assert model.index(0, 1).data() == "CN=<b>x</b>"
    model.set_finding(None)
    assert model.rowCount() == 0
    assert evidence_label("not_after_date") == "Not after date"


def test_certificate_model_is_a_tree_from_the_root(qtmodeltester: object, qtbot: QtBot) -> None:
    leaf = make_cert()
    inter = make_cert(
        "CN=Handshake Doctor Test Intermediate,O=Test PKI",
        issuer="CN=Root,O=Test PKI",
        is_ca=True,
    )
    root = make_cert(
        "CN=Root,O=Test PKI", issuer="CN=Root,O=Test PKI", self_issued=True, is_ca=True
    )
    model = CertificateModel()
    model.set_certificates((leaf, inter, root), NOW)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.rowCount() == 1
    top = model.index(0, 0)
    assert top.data().startswith("Root")
    assert model.columnCount() == 2
    assert model.index(0, 0, model.index(0, 0, top)).data() == "localhost"
    assert chain_parents((leaf, inter, root)) == [1, 2, None]


def test_chain_parents_never_loops() -> None:
    a = make_cert("CN=A", issuer="CN=B")
    b = make_cert("CN=B", issuer="CN=A")
    parents = chain_parents((a, b))
    assert None in parents


def test_validity_words() -> None:
    cert = make_cert(not_before=NOW - dt.timedelta(days=10), not_after=NOW + dt.timedelta(days=5))
    assert days_text(cert, NOW) == "5 days left"
    assert days_text(cert, NOW + dt.timedelta(days=7)) == "expired 2 days ago"
    assert days_text(cert, NOW - dt.timedelta(days=11)) == "not valid for 1 more day"


def test_common_name_is_unescaped_for_display() -> None:
    assert cert_name(make_cert("CN=\\<b\\>x\\</b\\>,O=Evil")) == "<b>x</b>"
    assert unescape_rdn("a\\2cb\\1b") == "a,b\x1b"
    assert cert_name(make_cert("O=No CN")) == "O=No CN"


def test_protocol_model(qtmodeltester: object, qtbot: QtBot) -> None:
    model = ProtocolModel()
    model.set_protocols(
        {
            TlsVersion.TLS1_0: True,
            TlsVersion.TLS1_3: True,
            TlsVersion.TLS1_2: False,
            TlsVersion.SSL3: None,
        }
    )
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    rows = [(model.index(r, 0).data(), model.index(r, 1).data()) for r in range(model.rowCount())]
    assert rows == [
        ("TLS 1.3", "✓ yes"),
        ("TLS 1.2", "✗ no"),
        ("TLS 1.0", "✓ yes"),
        ("SSL 3.0", "not tested"),
    ]
    assert "outdated" in model.index(2, 2).data()


def test_cipher_and_client_models(qtmodeltester: object, qtbot: QtBot) -> None:
    ciphers = CipherModel()
    ciphers.set_ciphers(
        {
            TlsVersion.TLS1_3: ("TLS_AES_256_GCM_SHA384",),
            TlsVersion.TLS1_2: (
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                "TLS_RSA_WITH_AES_128_GCM_SHA256",
                "NOT_A_SUITE",
            ),
        }
    )
    qtmodeltester.check(ciphers)  # type: ignore[attr-defined]
    strengths = [ciphers.index(r, 2).data() for r in range(ciphers.rowCount())]
    assert strengths == ["strong", "weak", "no forward secrecy", "unknown"]
    clients = ClientModel()
    clients.set_clients(
        (
            ClientResult("Firefox 140", True, TlsVersion.TLS1_3, "TLS_AES_128_GCM_SHA256"),
            ClientResult(
                "Java 8 \x1b[1m",
                False,
                None,
                None,
                ClientMismatch.CIPHER,
                evidence(version="TLS 1.2 \x1b[1m"),
            ),
        )
    )
    qtmodeltester.check(clients)  # type: ignore[attr-defined]
    assert clients.index(1, 0).data() == "Java 8 \\x1b[1m"
    assert clients.index(1, 1).data() == "✗ no"
    assert clients.index(0, 2).data() == "TLS 1.3"
    assert clients.index(1, 4).data() == "no shared cipher suite in TLS 1.2 \\x1b[1m"
    assert clients.index(0, 4).data() == ""


@pytest.mark.parametrize("empty", [{}, {TlsVersion.TLS1_2: ()}])
def test_empty_tables_are_valid_models(
    qtmodeltester: object, qtbot: QtBot, empty: dict[str, tuple[str, ...]]
) -> None:
    model = CipherModel()
    model.set_ciphers(empty)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.rowCount() == 0
