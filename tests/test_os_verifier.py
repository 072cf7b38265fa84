"""The OS's own verdict on a chain (core/os_verifier.py).

The verifiers themselves (Windows' CertGetCertificateChain, macOS' SecTrustEvaluateWithError,
through truststore) run only on those systems: the frozen --self-test asks them on the
Windows and macOS CI runners (.github/workflows/bundles.yml) and must see an unknown root
refused. Here: that Linux asks nothing and its JSON is unchanged, and how an answer, a refusal
and a verifier that never answers become a verdict, with a verifier that does a real check
(cryptography's web-PKI verifier against one root) in the place of the OS's.
"""

from __future__ import annotations

import dataclasses
import json
import ssl
import sys
import threading

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from core.models import TrustResult
from core.os_verifier import OsVerdict, ask_os, platform_verify
from tests.pki import Issued, Pki


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def verifier_trusting(root: Issued) -> tuple[str, object]:
    """Something with truststore's signature that really verifies: against one root."""

    def verify(context: ssl.SSLContext, chain: list[bytes], host: str | None) -> None:
        assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
        certs = [x509.load_der_x509_certificate(der) for der in chain]
        builder = PolicyBuilder().store(Store([root.cert]))
        try:
            builder.build_server_verifier(x509.DNSName(host or "")).verify(certs[0], certs[1:])
        except VerificationError as exc:
            raise ssl.SSLCertVerificationError(1, str(exc)) from None

    return "Test OS (one root)", verify


def chain_of(*certs: Issued) -> list[bytes]:
    return [c.der for c in certs]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="Linux has no OS verifier")
def test_linux_has_no_os_verifier_to_ask(pki: Pki) -> None:
    assert platform_verify() is None
    leaf = pki.leaf()
    assert ask_os(chain_of(leaf, pki.intermediate), "localhost", timeout=1) is None


def test_the_os_accepting_and_refusing(pki: Pki) -> None:
    leaf = pki.leaf()
    verifier = verifier_trusting(pki.root)
    yes = ask_os(chain_of(leaf, pki.intermediate), "localhost", timeout=5, verifier=verifier)  # type: ignore[arg-type]
    assert yes is not None and yes.trusted is True and yes.detail is None
    assert yes.verifier == "Test OS (one root)"
    other = Pki()
    no = ask_os(
        chain_of(leaf, pki.intermediate),
        "localhost",
        timeout=5,
        verifier=verifier_trusting(other.root),
    )  # type: ignore[arg-type]
    assert no is not None and no.trusted is False
    assert no.detail and "candidates exhausted" in no.detail  # the verifier's own words
    wrong_name = ask_os(
        chain_of(leaf, pki.intermediate), "other.example", timeout=5, verifier=verifier
    )  # type: ignore[arg-type]
    assert wrong_name is not None and wrong_name.trusted is False


def test_a_verifier_that_never_answers_is_bounded(pki: Pki) -> None:
    release = threading.Event()

    def stuck(context: ssl.SSLContext, chain: list[bytes], host: str | None) -> None:
        release.wait(10)  # as an OS fetching a CRL from a server that never answers

    import time

    started = time.monotonic()
    verdict = ask_os(chain_of(pki.leaf()), "localhost", timeout=0.3, verifier=("Stuck OS", stuck))
    took = time.monotonic() - started
    release.set()
    assert verdict is not None and verdict.trusted is None
    assert verdict.detail == "no answer within 0.3 s"
    assert took < 2


def test_json_has_the_os_verdict_only_where_there_is_one(pki: Pki) -> None:
    from core.render.json_out import to_json as report_json
    from tests.test_gui_support import make_report

    plain = json.loads(report_json(make_report()))
    assert "os_verifier" not in plain["trust"]  # Linux: the contract's three fields, unchanged
    report = make_report()
    verdict = OsVerdict("Windows (CertGetCertificateChain)", False, "untrusted root")
    report = dataclasses.replace(
        report, trust=dataclasses.replace(report.trust, os_verifier=verdict)
    )
    data = json.loads(report_json(report))
    assert data["trust"]["os_verifier"] == {
        "verifier": "Windows (CertGetCertificateChain)",
        "trusted": False,
        "detail": "untrusted root",
    }


def test_the_trust_line_gives_the_os_verdict() -> None:
    from gui.panes.certificates import trust_summary

    verdict = OsVerdict("macOS (SecTrustEvaluateWithError)", True)
    line = trust_summary(TrustResult(False, True, None, os_verifier=verdict))
    assert line == "Chain accepted by: Mozilla's list ✗, this computer ✓, macOS itself ✓"
    assert trust_summary(TrustResult(False, True, None)).endswith("this computer ✓")


def test_the_pdf_report_gives_the_os_verdict() -> None:
    from core.render.report_html import build_report_html as report_html
    from tests.test_gui_support import make_report

    report = make_report()
    verdict = OsVerdict("Windows (CertGetCertificateChain)", False, "untrusted root")
    report = dataclasses.replace(
        report, trust=dataclasses.replace(report.trust, os_verifier=verdict)
    )
    assert "Windows itself: does not" in report_html(report).html
    assert "itself:" not in report_html(make_report()).html
