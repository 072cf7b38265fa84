"""Unit tests of the chain analysis (core/analyze/chain.py) on the test PKI, without a network.

Trust stores are always passed explicitly: nothing here depends on this machine's store.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from core.analyze.chain import (
    ChainAnalysis,
    analyze_chain,
    build_path,
    hostname_matches,
    needs_issuer,
    validity_findings,
)
from core.inspect import inspect_chain
from core.models import FindingId
from core.trust import TrustStores
from tests.evidence import assert_documented
from tests.pki import (
    DAY,
    NOW,
    Issued,
    Pki,
    make_ca,
    make_leaf,
    make_self_signed,
    make_sha1_leaf,
    new_key,
)
from tests.timing import within


def custom(*roots: Issued) -> TrustStores:
    return TrustStores(mozilla=None, os=None, custom=tuple(r.cert for r in roots))


def analyse(
    certs: Sequence[Issued],
    stores: TrustStores,
    host: str | None = "localhost",
    at: dt.datetime = NOW,
    fetched: Sequence[Issued] = (),
) -> ChainAnalysis:
    analysis = analyze_chain(
        [c.cert for c in certs], host, stores, at, fetched=[c.cert for c in fetched]
    )
    assert_documented(analysis.findings)
    return analysis


def ids(analysis: ChainAnalysis) -> list[str]:
    return [str(f.id) for f in analysis.findings]


def reissue(ca: Issued, issuer: Issued, not_before: dt.datetime, not_after: dt.datetime) -> Issued:
    """Another certificate for the same CA (same subject, same key), as CAs do when renewing an
    intermediate or cross-signing it."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(ca.cert.subject)
        .issuer_name(issuer.cert.subject)
        .public_key(ca.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key()), False)
    )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), ca.key)


# --------------------------------------------------------------------------- host names


@pytest.fixture(scope="module")
def named(pki: Pki) -> x509.Certificate:
    return pki.leaf(
        ["www.example.com", "*.apps.example.com", "192.0.2.7", "2001:db8::1"], cn="cn.example.com"
    ).cert


@pytest.mark.parametrize(
    ("host", "matches"),
    [
        ("www.example.com", True),
        ("WWW.Example.COM", True),
        ("www.example.com.", True),
        ("example.com", False),
        ("cn.example.com", False),  # the CN is not a name browsers use
        ("a.apps.example.com", True),  # wildcard: exactly one label
        ("a.b.apps.example.com", False),  # ... never two
        ("apps.example.com", False),  # ... nor zero
        ("192.0.2.7", True),
        ("192.0.2.8", False),
        ("2001:db8:0:0::1", True),  # IPv6 compares as an address, not as text
        ("2001:db8::2", False),
    ],
)
def test_hostname_matching(named: x509.Certificate, host: str, matches: bool) -> None:
    assert hostname_matches(host, named) is matches


def test_ip_address_is_not_matched_by_a_dns_name(pki: Pki) -> None:
    leaf = pki.leaf(["192.0.2.7.example.com"]).cert
    assert not hostname_matches("192.0.2.7", leaf)
    assert not hostname_matches("192.0.2.7", pki.leaf(["localhost"]).cert)


@pytest.mark.parametrize("pattern", ["*.com", "f*.example.com", "*w.example.com", "www.*.com"])
def test_wildcards_browsers_refuse(pki: Pki, pattern: str) -> None:
    leaf = pki.leaf([pattern]).cert
    for host in ("example.com", "foo.example.com", "www.example.com", "www.x.com"):
        assert not hostname_matches(host, leaf), (pattern, host)


def test_hostname_mismatch_finding_names_the_host_and_the_names(pki: Pki) -> None:
    leaf = pki.leaf(["www.example.com"])
    report = analyse([leaf, pki.intermediate], custom(pki.root), host="other.example.com")
    assert ids(report) == ["hostname-mismatch"]
    assert not report.valid
    evidence = report.findings[0].evidence
    assert evidence["host"] == "other.example.com"
    assert evidence["names"] == ("www.example.com",)


def test_no_host_skips_the_name_check(pki: Pki) -> None:
    report = analyse([pki.leaf(["www.example.com"]), pki.intermediate], custom(pki.root), host=None)
    assert ids(report) == []
    assert report.valid


# --------------------------------------------------------------------------- path building


@pytest.fixture(scope="module")
def deep(pki: Pki) -> tuple[Issued, Issued, Issued]:
    """root -> upper -> lower -> leaf."""
    upper = make_ca("Upper Intermediate", issuer=pki.root)
    lower = make_ca("Lower Intermediate", issuer=upper)
    return upper, lower, make_leaf(lower)


def test_good_chain(pki: Pki) -> None:
    leaf = pki.leaf()
    report = analyse([leaf, pki.intermediate], custom(pki.root))
    assert ids(report) == []
    assert report.valid
    assert report.path.certs == (leaf.cert, pki.intermediate.cert, pki.root.cert)
    assert report.path.anchor == pki.root.cert
    assert report.path.anchor_stores == ("custom",)
    assert report.trust.custom is True
    assert report.trust.mozilla is None
    assert [c.sent_by_server for c in report.certificates] == [True, True, False]


def test_misordered_intermediates_are_put_in_order(
    pki: Pki, deep: tuple[Issued, Issued, Issued]
) -> None:
    upper, lower, leaf = deep
    report = analyse([leaf, upper, lower], custom(pki.root))
    assert report.valid
    assert report.path.certs == (leaf.cert, lower.cert, upper.cert, pki.root.cert)
    assert ids(report) == ["chain-order"]
    assert "not in order" in str(report.findings[0].evidence["problem"])


def test_build_path_alone_orders_misordered_intermediates(
    pki: Pki, deep: tuple[Issued, Issued, Issued]
) -> None:
    upper, lower, leaf = deep
    path = build_path(leaf.cert, [upper.cert, lower.cert], custom(pki.root), at=NOW)
    assert path.certs == (leaf.cert, lower.cert, upper.cert, pki.root.cert)
    assert path.anchor == pki.root.cert


def test_duplicate_certificate_is_an_order_warning_only(pki: Pki) -> None:
    leaf = pki.leaf()
    report = analyse([leaf, pki.intermediate, pki.intermediate], custom(pki.root))
    assert report.valid
    assert ids(report) == ["chain-order"]
    assert "more than once" in str(report.findings[0].evidence["problem"])


def test_unrelated_extra_certificate_is_named(pki: Pki) -> None:
    leaf = pki.leaf()
    extra = make_self_signed(["unrelated.test"])
    report = analyse([leaf, pki.intermediate, extra], custom(pki.root))
    assert report.valid
    assert ids(report) == ["chain-order"]
    assert "unrelated.test" in str(report.findings[0].evidence["problem"])


def test_sending_the_root_too_is_fine(pki: Pki) -> None:
    report = analyse([pki.leaf(), pki.intermediate, pki.root], custom(pki.root))
    assert report.valid
    assert ids(report) == []


def test_path_prefers_the_valid_one_of_two_intermediates(pki: Pki) -> None:
    """A renewed intermediate sent beside its expired predecessor (expired first): the path goes
    through the current one, so nothing is reported expired."""
    old = reissue(pki.intermediate, pki.root, NOW - 400 * DAY, NOW - 10 * DAY)
    leaf = pki.leaf()
    path = build_path(leaf.cert, [old.cert, pki.intermediate.cert], custom(pki.root), at=NOW)
    assert path.certs[1] == pki.intermediate.cert
    report = inspect_chain(
        [leaf.cert, old.cert, pki.intermediate.cert], custom(pki.root), host="localhost", at=NOW
    )
    assert report.valid
    assert [str(f.id) for f in report.findings] == ["chain-order"]


def test_path_prefers_the_branch_that_reaches_a_trusted_root(pki: Pki) -> None:
    """The intermediate is cross-signed by an untrusted root (sent first) and by the trusted
    one: the path must not stop at the untrusted root."""
    stranger = make_ca("Stranger Root")
    cross = reissue(pki.intermediate, stranger, NOW - DAY, NOW + 300 * DAY)
    leaf = pki.leaf()
    chain = [leaf, cross, stranger, pki.intermediate]
    path = build_path(leaf.cert, [c.cert for c in chain[1:]], custom(pki.root), at=NOW)
    assert path.anchor == pki.root.cert
    report = analyse(chain, custom(pki.root))
    assert report.valid
    assert "untrusted-root" not in ids(report)


def test_path_building_is_bounded(pki: Pki) -> None:
    """Thirty intermediates with one name and one key all sign each other: an unbounded search
    would try every ordering. It must give up quickly with an incomplete path."""
    key = new_key("ec")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loop CA")])
    loop = []
    for i in range(30):
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(i + 1)
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        loop.append(cert)
    loop_issuer = Issued(loop[0], key)
    leaf = make_leaf(loop_issuer)
    started = time.perf_counter()
    report = analyze_chain([leaf.cert, *loop], "localhost", custom(pki.root), NOW)
    assert_documented(report.findings)
    assert time.perf_counter() - started < within(5)
    assert not report.valid
    assert report.path.anchor is None


# --------------------------------------------------------------------------- trust causes


def test_self_signed_leaf_is_self_signed_only(pki: Pki) -> None:
    report = analyse([make_self_signed()], custom(pki.root))
    assert ids(report) == ["self-signed"]  # not also untrusted-root
    assert not report.valid


def test_chain_to_an_unknown_root_is_untrusted_root(pki: Pki) -> None:
    other = Pki()
    report = analyse([other.leaf(), other.intermediate], custom(pki.root))
    assert ids(report) == ["untrusted-root"]
    assert report.trust.custom is False


def test_unknown_root_sent_along_is_untrusted_root(pki: Pki) -> None:
    other = Pki()
    report = analyse([other.leaf(), other.intermediate, other.root], custom(pki.root))
    assert ids(report) == ["untrusted-root"]
    assert report.findings[0].evidence["root_subject"] == other.root.cert.subject.rfc4514_string()


def test_missing_intermediate_is_incomplete_chain(pki: Pki) -> None:
    leaf = pki.leaf()
    report = analyse([leaf], custom(pki.root))
    assert ids(report) == ["incomplete-chain"]
    assert not report.valid
    assert needs_issuer(report)


def test_incomplete_chain_repaired_by_fetched_issuer(pki: Pki) -> None:
    leaf = pki.leaf()
    report = analyse([leaf], custom(pki.root), fetched=[pki.intermediate])
    assert ids(report) == ["incomplete-chain"]  # still the server's fault
    assert report.findings[0].evidence["aia_repairs"] == "yes"
    assert report.path.anchor == pki.root.cert
    assert report.valid  # with the fetched issuer, the verifier accepts the chain
    assert not needs_issuer(report)


# --------------------------------------------------------------------------- weakness


def test_weak_key(pki: Pki) -> None:
    leaf = pki.leaf(key_kind="rsa1024")
    report = analyse([leaf, pki.intermediate], custom(pki.root))
    assert ids(report) == ["weak-key"]
    assert report.findings[0].evidence["key"] == "RSA 1024"
    # cryptography's verifier does not weigh a leaf's key; the weak-key check still fails it.
    verdict = inspect_chain(
        [leaf.cert, pki.intermediate.cert], custom(pki.root), host="localhost", at=NOW
    )
    assert not verdict.valid


def test_weak_signature(pki: Pki) -> None:
    leaf = make_sha1_leaf(pki.intermediate)
    report = analyse([leaf, pki.intermediate], custom(pki.root))
    assert ids(report) == ["weak-signature"]
    assert report.findings[0].evidence["algorithm"] == "SHA-1"
    assert not report.valid


def test_strong_rsa_is_not_weak(pki: Pki) -> None:
    report = analyse([pki.leaf(key_kind="rsa2048"), pki.intermediate], custom(pki.root))
    assert ids(report) == []


# --------------------------------------------------------------------------- interception


def test_interception_product_root_is_flagged_even_when_valid() -> None:
    root = make_ca("Zscaler Root CA", "Zscaler Inc.")
    intermediate = make_ca("Zscaler Intermediate Root CA", "Zscaler Inc.", issuer=root)
    leaf = make_leaf(intermediate)
    report = analyse([leaf, intermediate], custom(root))
    assert report.valid
    assert ids(report) == ["interception-suspected"]
    assert report.findings[0].evidence["product"] == "Zscaler"


def test_root_only_the_os_trusts_is_suspected(pki: Pki) -> None:
    public = make_ca("Some Public Root")
    stores = TrustStores(mozilla=(public.cert,), os=(public.cert, pki.root.cert), custom=None)
    report = analyse([pki.leaf(), pki.intermediate], stores)
    assert report.valid
    assert ids(report) == ["interception-suspected"]
    assert report.findings[0].evidence["product"] == "unknown"
    assert (report.trust.mozilla, report.trust.os, report.trust.custom) == (False, True, None)


def test_root_mozilla_trusts_is_not_suspected(pki: Pki) -> None:
    stores = TrustStores(mozilla=(pki.root.cert,), os=(pki.root.cert,), custom=None)
    report = analyse([pki.leaf(), pki.intermediate], stores)
    assert ids(report) == []
    assert set(report.path.anchor_stores) == {"mozilla", "os"}


def test_company_root_given_with_ca_file_is_not_suspected(pki: Pki) -> None:
    public = make_ca("Some Public Root")
    stores = TrustStores(mozilla=(public.cert,), os=(pki.root.cert,), custom=(pki.root.cert,))
    report = analyse([pki.leaf(), pki.intermediate], stores)
    assert ids(report) == []


# --------------------------------------------------------------------------- validity


def validity_ids(certs: Sequence[Issued], anchor: Issued | None, at: dt.datetime) -> list[str]:
    found = validity_findings([c.cert for c in certs], anchor.cert if anchor else None, at)
    assert_documented(found)
    return [str(f.id) for f in found]


def test_expired_leaf(pki: Pki) -> None:
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 2 * DAY)
    assert validity_ids([leaf, pki.intermediate, pki.root], pki.root, NOW) == ["cert-expired"]
    report = inspect_chain(
        [leaf.cert, pki.intermediate.cert], custom(pki.root), host="localhost", at=NOW
    )
    assert not report.valid
    expired = [f for f in report.findings if f.id is FindingId.CERT_EXPIRED]
    assert expired[0].evidence["position"] == "the server's certificate"
    assert expired[0].evidence["days_ago"] == 2


def test_not_yet_valid_leaf(pki: Pki) -> None:
    leaf = pki.leaf(not_before=NOW + 2 * DAY, not_after=NOW + 90 * DAY)
    assert validity_ids([leaf, pki.intermediate], pki.root, NOW) == ["cert-not-yet-valid"]


def test_expires_soon_is_a_warning_on_a_valid_chain(pki: Pki) -> None:
    leaf = pki.leaf(not_after=NOW + 5 * DAY)
    report = inspect_chain(
        [leaf.cert, pki.intermediate.cert], custom(pki.root), host="localhost", at=NOW
    )
    assert report.valid
    assert [str(f.id) for f in report.findings] == ["expires-soon"]


def test_expired_intermediate_is_named_as_such() -> None:
    root = make_ca()
    intermediate = make_ca(
        "Old Intermediate", issuer=root, not_before=NOW - 400 * DAY, not_after=NOW - DAY
    )
    leaf = make_leaf(intermediate)
    found = validity_findings([leaf.cert, intermediate.cert, root.cert], root.cert, NOW)
    assert_documented(found)
    assert [str(f.id) for f in found] == ["cert-expired"]
    assert found[0].evidence["position"] == "an intermediate certificate"


def test_expired_trust_anchor_is_not_reported(pki: Pki) -> None:
    root = make_ca(not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    leaf = make_leaf(make_ca("Intermediate", issuer=root))
    assert validity_ids([leaf], None, NOW) == []
    assert validity_ids([leaf, root], root, NOW) == []


def test_not_after_is_inclusive_to_the_second(pki: Pki) -> None:
    end = NOW.replace(microsecond=0) + 10 * DAY
    leaf = pki.leaf(not_after=end)
    path = [leaf, pki.intermediate]
    assert "cert-expired" not in validity_ids(path, None, end)
    assert "cert-expired" not in validity_ids(path, None, end + dt.timedelta(milliseconds=500))
    assert validity_ids(path, None, end + dt.timedelta(seconds=1)) == ["cert-expired"]


def test_verdict_follows_the_time_given(pki: Pki) -> None:
    leaf = pki.leaf()
    later = NOW + 200 * DAY
    report = inspect_chain(
        [leaf.cert, pki.intermediate.cert], custom(pki.root), host="localhost", at=later
    )
    assert not report.valid
    assert FindingId.CERT_EXPIRED in {f.id for f in report.findings}
