"""Conformance: the SERVER cases of x509-limbo through the same code path as ``inspect``.

Each case gives trusted roots, untrusted intermediates, the server's certificate, the name the
client asked for and the time of validation; ``inspect_chain`` must reach the expected verdict on
at least 99.7% of the scored cases. ``pytest -s`` prints the figure, the skips by reason and the
cases where the app and limbo disagree.

Known disagreements (21 of 9,740 at the time of writing), all where cryptography's web-PKI
verifier, which gives the final verdict, decides otherwise than limbo and no structured check
should overrule it:

* limbo FAILURE, accepted (17): the CA/B Forum certificate *profile* rather than path validation
  — a CN that is not one of the SANs (``webpki::cn::*``), CA certificates without SKI or AKI, a
  root whose AKI carries issuer/serial fields or disagrees with its SKI, a 2052-bit RSA root.
  cryptography's verifier does not enforce these profile rules, and a check of our own would
  raise errors on chains that clients accept in practice (browsers ignore the CN entirely).
* limbo SUCCESS, refused (4): a CA certificate in the leaf position (cryptography requires an
  end entity, as the Web PKI does) and chains through a self-issued intermediate with a new key
  (cryptography's path builder does not take that step).
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from core.certs import CertificateFileError, load_certificates
from core.inspect import inspect_chain
from core.trust import TrustStores
from tests.timing import within

LIMBO = Path(__file__).resolve().parents[2] / "shared" / "data" / "x509-limbo.json.gz"
BAR = 0.997

#: Limbo's features are tags for optional behaviour; a case carrying one of these is not scored.
SKIPPED_FEATURES: dict[str, str] = {
    "has-crl": (
        "the case hands the validator a CRL; a TLS client has no CRL for a live server and this "
        "app checks revocation by OCSP, so CRL processing is not its behaviour"
    ),
    "name-constraint-dn": (
        "DirectoryName name constraints on subject DNs; limbo tags these for implementations "
        "without DN constraint support, and a web-PKI client (and cryptography's verifier) "
        "identifies a server only by its DNS/IP subjectAltNames"
    ),
    "rfc5280-incompatible-with-webpki": (
        "limbo marks the case as one where RFC 5280 prescribes more than the Web PKI does; this "
        "app judges chains as a web-PKI TLS client"
    ),
    "has-policy-constraints": (
        "for implementations that support certificate policy constraints and policy mapping; "
        "neither this app nor the verifier it relies on processes certificate policies"
    ),
}

#: Features whose name starts with this are limbo's own "pedantic" readings of the specs.
SKIPPED_PREFIX = (
    "pedantic-",
    "pedantic readings (serial-number form, EKU and subscriber-key minutiae, public-suffix "
    "wildcards) that limbo itself says most implementations make no attempt to enforce",
)

#: Features that are scored, and why that is meaningful for this app.
SCORED_FEATURES: dict[str, str] = {
    "max-chain-depth": "inspect_chain takes max_depth and passes it to the verifier",
    "denial-of-service": "a hostile chain must be judged, and quickly, not hang a check",
}

#: Peer-name kinds a TLS client connects by; others (RFC822) are skipped.
HOST_KINDS = ("DNS", "IP")

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    scored: int = 0
    agreed: int = 0
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)
    disagreements: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.agreed / self.scored if self.scored else 0.0


def skip_reason(case: dict[str, Any]) -> str | None:
    features: list[str] = case["features"]
    for feature in features:
        if feature in SKIPPED_FEATURES:
            return feature
        if feature.startswith(SKIPPED_PREFIX[0]):
            return SKIPPED_PREFIX[0] + "*"
    peer = case.get("expected_peer_name")
    if peer is not None and peer["kind"] not in HOST_KINDS:
        return f"peer name of kind {peer['kind']} (a TLS client connects by DNS name or IP)"
    return None


def _load(pems: Sequence[str]) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for pem in pems:
        certs += load_certificates(pem.encode())
    return certs


def verdict(case: dict[str, Any]) -> bool:
    """True when the app finds the chain valid, as ``inspect`` would report it."""
    try:
        peer = _load([case["peer_certificate"]])
        intermediates = _load(case["untrusted_intermediates"])
        roots = _load(case["trusted_certs"])
    except CertificateFileError:
        return False  # inspect refuses a file it cannot read: not a valid chain
    peer_name = case.get("expected_peer_name")
    host = peer_name["value"] if peer_name is not None else None
    when = case.get("validation_time")
    at = dt.datetime.fromisoformat(when) if when else dt.datetime.now(dt.UTC)
    stores = TrustStores(mozilla=None, os=None, custom=tuple(roots))
    report = inspect_chain(
        [*peer, *intermediates], stores, host=host, at=at, max_depth=case.get("max_chain_depth")
    )
    return report.valid


def server_cases() -> Iterator[dict[str, Any]]:
    with gzip.open(LIMBO, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    assert data["version"] == 1
    for case in data["testcases"]:
        if case["validation_kind"] == "SERVER":
            yield case


@pytest.fixture(scope="module")
def outcome() -> Outcome:
    if not LIMBO.is_file():
        pytest.skip(f"x509-limbo data not found at {LIMBO}")
    result = Outcome()
    timings: list[tuple[float, str]] = []
    started = time.perf_counter()
    for case in server_cases():
        reason = skip_reason(case)
        if reason is not None:
            result.skipped[reason] += 1
            continue
        begin = time.perf_counter()
        try:
            valid = verdict(case)
        except Exception as exc:  # a crash is a bug in the app, reported by its own test
            result.crashes.append(f"{case['id']}: {type(exc).__name__}: {exc}")
            continue
        timings.append((time.perf_counter() - begin, case["id"]))
        result.scored += 1
        if valid == (case["expected_result"] == "SUCCESS"):
            result.agreed += 1
        else:
            result.disagreements.append(f"{case['id']} (limbo: {case['expected_result']})")
    result.seconds = time.perf_counter() - started
    result.slowest = sorted(timings, reverse=True)[:3]
    _report(result)
    return result


def _report(result: Outcome) -> None:
    print(
        f"\nx509-limbo SERVER cases: {result.scored} scored, {result.agreed} agreed "
        f"({result.rate:.2%}, bar {BAR:.1%}); {sum(result.skipped.values())} skipped; "
        f"{len(result.crashes)} crashed; {result.seconds:.1f} s"
    )
    for key, count in sorted(result.skipped.items()):
        why = SKIPPED_FEATURES.get(key) or (
            SKIPPED_PREFIX[1] if key == SKIPPED_PREFIX[0] + "*" else ""
        )
        print(f"  skipped {count:4d}  {key}" + (f": {why}" if why else ""))
    print(f"  disagreements ({len(result.disagreements)}):")
    for case_id in result.disagreements:
        print(f"    {case_id}")
    print(
        "  slowest: " + ", ".join(f"{case_id} {s * 1000:.0f} ms" for s, case_id in result.slowest)
    )


def test_agreement_with_limbo(outcome: Outcome) -> None:
    assert outcome.scored > 9000, "far fewer cases than the 9,780 the data should hold"
    assert outcome.rate >= BAR, (
        f"{outcome.agreed}/{outcome.scored} = {outcome.rate:.2%} agree, below {BAR:.1%}; "
        "disagreements: " + ", ".join(outcome.disagreements)
    )


def test_no_case_crashes_inspect(outcome: Outcome) -> None:
    assert outcome.crashes == []


def test_every_case_is_quick(outcome: Outcome) -> None:
    """Including limbo's denial-of-service chains: path building is bounded."""
    slowest, case_id = outcome.slowest[0]
    assert slowest < within(3.0), f"{case_id} took {slowest:.1f} s"


def test_skipped_features_have_reasons() -> None:
    for feature, reason in {**SKIPPED_FEATURES, **SCORED_FEATURES}.items():
        assert len(reason.split()) >= 8, f"{feature}: say why"
    assert not set(SKIPPED_FEATURES) & set(SCORED_FEATURES)
