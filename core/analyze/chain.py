"""What is wrong with a certificate chain, named by cause. Pure: no I/O, time is passed in.

The structured checks here (validity windows, names, issuer links, key sizes, signature hashes)
name the cause; cryptography's web-PKI verifier gives the final verdict. Its error strings are
never parsed to decide a finding (two different causes share one message), only shown as
evidence when none of our checks explains a failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

# The verifier imports this on its first ECDSA signature (cryptography does so lazily, ~5 ms):
# imported with this module, the window's warm-up pays for it instead of the first check.
import cryptography.hazmat.backends.openssl.backend  # noqa: F401
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from core.cert_urls import display_url
from core.certs import (
    common_name,
    describe,
    extension_value,
    extensions_problem,
    is_ca,
    is_self_issued,
    key_description,
    name_text,
    san_names,
    signature_hash,
    signed_by,
)
from core.models import CertificateInfo, Finding, FindingId, Severity, TrustResult, evidence
from core.trust import CUSTOM, MOZILLA, OS, Roots, TrustStores

EXPIRES_SOON = dt.timedelta(days=30)
MAX_PATH = 16
#: cryptography's default path depth; a valid chain longer than this is judged again with
#: room for it, since OpenSSL-based clients follow 100 (the per-client verdict says who not).
DEFAULT_DEPTH = 8
#: Certificates path building may visit; enough for any real chain and for BetterTLS's
#: 35-certificate path-building graphs, small enough that a hostile pile of cross-signed
#: intermediates cannot stall a check.
MAX_SEARCH_STEPS = 256
WEAK_HASHES = frozenset({"md5", "sha1", "md2", "md4"})

#: Issuer names of TLS-inspection products, from shared/reference/diagnosis.md §2.7. Matched
#: case-insensitively as substrings of the CN or O of the chain's top.
INTERCEPTION_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("avast! web/mail shield", "Avast"),
    ("avg web/mail shield", "AVG"),
    ("kaspersky anti-virus personal root", "Kaspersky"),
    ("eset ssl filter", "ESET"),
    ("bitdefender personal ca", "Bitdefender"),
    ("norton web/mail shield", "Norton"),
    ("zscaler", "Zscaler"),
    ("netskope", "Netskope"),
    ("goskope.com", "Netskope"),
    ("certadmin", "Netskope"),
    ("fortigate ca", "Fortinet FortiGate"),
    ("fortinet", "Fortinet"),
    ("sophos", "Sophos"),
    ("cisco umbrella", "Cisco Umbrella"),
    ("blue coat", "Blue Coat"),
    ("forcepoint", "Forcepoint"),
    ("mcafee web gateway", "McAfee Web Gateway"),
    ("sonicwall", "SonicWall"),
    ("cyberoam", "Cyberoam"),
    ("smoothwall", "Smoothwall"),
    ("contentkeeper", "ContentKeeper"),
    ("netspark", "NetSpark"),
    ("iwss.trend", "Trend Micro IWSS"),
    ("mitmproxy", "mitmproxy"),
    ("do_not_trust_fiddlerroot", "Fiddler"),
    ("charles proxy ca", "Charles Proxy"),
    ("badssl mitm software test", "BadSSL MITM test"),
)


@dataclass(frozen=True)
class ChainPath:
    """The path built from the leaf upwards through the certificates at hand."""

    certs: tuple[x509.Certificate, ...]
    anchor: x509.Certificate | None
    anchor_stores: tuple[str, ...]

    @property
    def top(self) -> x509.Certificate:
        return self.certs[-1]


@dataclass(frozen=True)
class ChainAnalysis:
    """Everything about the chain that does not depend on the time, plus the verdict at
    ``verified_at``. Time-dependent findings come from :func:`validity_findings`."""

    sent: tuple[x509.Certificate, ...]
    path: ChainPath
    certificates: tuple[CertificateInfo, ...]
    trust: TrustResult
    findings: tuple[Finding, ...]
    valid: bool
    verifier_error: str | None
    verified_at: dt.datetime


@functools.lru_cache(maxsize=8192)
def _signed(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """:func:`signed_by`, remembered: path building asks the same question many times, and
    certificates compare and hash by their DER bytes, so a cached answer is always right."""
    return signed_by(cert, issuer)


def _key_ids_differ(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """The cert names its issuer's key (AKI) and the candidate names another one (SKI)."""
    aki = extension_value(cert, x509.AuthorityKeyIdentifier)
    ski = extension_value(issuer, x509.SubjectKeyIdentifier)
    if aki is None or aki.key_identifier is None or ski is None:
        return False
    return aki.key_identifier != ski.digest


def _issuers_in(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    return [
        c
        for c in pool
        if c.subject == cert.issuer and not _key_ids_differ(cert, c) and _signed(cert, c)
    ]


def _self_signed(cert: x509.Certificate) -> bool:
    return is_self_issued(cert) and _signed(cert, cert)


def _path_problems(
    certs: Sequence[x509.Certificate], anchor: x509.Certificate | None, at: dt.datetime | None
) -> int:
    """How many of the checks a client makes the path's certificates fail (the anchor is not
    counted): validity at ``at``, CA flags of intermediates, signature hashes."""
    problems = 0
    moment = _whole_seconds(at) if at is not None else None
    for position, cert in enumerate(certs):
        if cert == anchor:
            continue
        if moment is not None and not (
            cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc
        ):
            problems += 1
        if position > 0 and not is_ca(cert):
            problems += 1
        if signature_hash(cert) in WEAK_HASHES:
            problems += 1
    return problems


class _Anchors:
    """The roots in use, with the stores that hold each; looked up by name and parsed only
    when the path reaches a certificate they could have issued."""

    def __init__(self, stores: TrustStores) -> None:
        self.stores = stores.in_use()

    def holders(self, cert: x509.Certificate) -> list[str]:
        return [name for name, roots in self.stores.items() if cert in roots]

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        candidates: dict[x509.Certificate, None] = {}
        for roots in self.stores.values():
            candidates.update(dict.fromkeys(roots.named(cert)))
        return _issuers_in(cert, [c for c in candidates if c.subject == cert.issuer])


def build_path(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    stores: TrustStores,
    *,
    at: dt.datetime | None = None,
) -> ChainPath:
    """The best path from the leaf upwards through the certificates at hand.

    Every issuer that signs a certificate is tried, not only the first one found, so sent
    certificates in any order, duplicates, unrelated extras and cross-signed alternatives all
    lead to the path a client would build. Best means: ending at a trust anchor if any path
    does; then the fewest problems at ``at`` (expired or not-yet-valid certificates, non-CA
    intermediates, weak signature hashes); then the shortest; then the root most stores hold.
    The search is bounded, so a pathological pile of certificates cannot stall it.
    """
    anchors = _Anchors(stores)
    by_subject: dict[x509.Name, list[x509.Certificate]] = {}
    for cert in dict.fromkeys(pool):
        if cert != leaf:
            by_subject.setdefault(cert.subject, []).append(cert)
    best: tuple[tuple[int, int, int, int], ChainPath] | None = None
    steps = MAX_SEARCH_STEPS

    def consider(certs: list[x509.Certificate], anchor: x509.Certificate | None) -> None:
        nonlocal best
        holders = tuple(anchors.holders(anchor)) if anchor is not None else ()
        key = (0 if anchor else 1, _path_problems(certs, anchor, at), len(certs), -len(holders))
        if best is None or key < best[0]:
            best = (key, ChainPath(tuple(certs), anchor, holders))

    def done() -> bool:
        return best is not None and best[0][:2] == (0, 0)

    def visit(certs: list[x509.Certificate]) -> None:
        nonlocal steps
        steps -= 1
        current = certs[-1]
        if anchors.holders(current):
            consider(certs, current)
            return
        for root in anchors.issuers_of(current):
            consider(certs if root == current else [*certs, root], root)
        if done():
            return
        candidates: list[x509.Certificate] = []
        if len(certs) <= MAX_PATH and not _self_signed(current):
            issuers = _issuers_in(current, by_subject.get(current.issuer, []))
            candidates = [c for c in issuers if c not in certs]
        if not candidates:
            consider(certs, None)
        for nxt in candidates:
            if steps <= 0 or done():
                return
            visit([*certs, nxt])

    visit([leaf])
    return best[1] if best is not None else ChainPath((leaf,), None, ())


def _store_trust(path: ChainPath, stores: TrustStores) -> TrustResult:
    """Which stores hold a root that signs the path's top (or the top itself)."""

    def holds(roots: Roots | None) -> bool | None:
        if roots is None:
            return None
        if path.anchor is None:
            return False
        top = (
            path.certs[-2] if len(path.certs) > 1 and path.anchor is path.certs[-1] else path.anchor
        )
        return path.anchor in roots or any(
            r.subject == top.issuer and _signed(top, r) for r in roots.named(top)
        )

    return TrustResult(
        mozilla=holds(stores.mozilla), os=holds(stores.os), custom=holds(stores.custom)
    )


def hostname_matches(host: str, cert: x509.Certificate) -> bool:
    """RFC 6125 as browsers do it: SANs only, wildcards only as the whole left-most label."""
    ext = extension_value(cert, x509.SubjectAlternativeName)
    if ext is None:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return any(addr == ip for addr in ext.get_values_for_type(x509.IPAddress))
    wanted = host.lower().rstrip(".")
    for pattern in ext.get_values_for_type(x509.DNSName):
        pattern = pattern.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "*" not in pattern[2:]:
            suffix = pattern[1:]
            head, dot, rest = wanted.partition(".")
            if dot and head and "." + rest == suffix and suffix.count(".") >= 2:
                return True
    return False


def _interception(path: ChainPath, stores: TrustStores) -> Finding | None:
    top = path.anchor or path.top
    names = [common_name(top), name_text(top.subject), name_text(top.issuer)]
    haystack = " ".join(names).lower()
    for needle, product in INTERCEPTION_PRODUCTS:
        if needle in haystack:
            return Finding(
                FindingId.INTERCEPTION_SUSPECTED,
                Severity.WARNING,
                evidence(
                    root_subject=name_text(top.subject),
                    product=product,
                    reason="the chain ends at a root made by a TLS-inspection product",
                ),
            )
    stores_in_use = stores.in_use()
    if (
        path.anchor is not None
        and MOZILLA in stores_in_use
        and OS in path.anchor_stores
        and MOZILLA not in path.anchor_stores
        and CUSTOM not in path.anchor_stores
    ):
        return Finding(
            FindingId.INTERCEPTION_SUSPECTED,
            Severity.WARNING,
            evidence(
                root_subject=name_text(path.anchor.subject),
                product="unknown",
                reason="the root is trusted by this computer but not by Mozilla's public list",
            ),
        )
    return None


def _order_problems(sent: Sequence[x509.Certificate], path: ChainPath) -> list[str]:
    problems: list[str] = []
    if len(set(sent)) != len(sent):
        problems.append("the same certificate is sent more than once")
    used = set(path.certs)
    extra = [c for c in sent[1:] if c not in used]
    if extra:
        problems.append(
            "certificates that are not part of the chain are sent: "
            + "; ".join(common_name(c) for c in extra[:5])
        )
    for i in range(1, len(sent)):
        if sent[i] in used and sent[i - 1] in used and not _signed(sent[i - 1], sent[i]):
            problems.append(
                "the certificates are not in order (each should be followed by its issuer)"
            )
            break
    return problems


def _purpose_problem(leaf: x509.Certificate) -> Finding | None:
    """A leaf whose extended key usage does not include serverAuth (nor anyExtendedKeyUsage):
    a certificate for e-mail or client login, which no TLS client accepts from a server."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    usage = extension_value(leaf, x509.ExtendedKeyUsage)
    if usage is None:
        return None
    oids = list(usage)
    wanted = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE)
    if any(oid in oids for oid in wanted):
        return None
    names = [getattr(oid, "_name", None) or oid.dotted_string for oid in oids]
    return Finding(
        FindingId.WRONG_PURPOSE,
        Severity.ERROR,
        evidence(subject=common_name(leaf), usages=names or ["nothing"]),
    )


def _weakness(path: ChainPath) -> list[Finding]:
    found: list[Finding] = []
    for cert in path.certs:
        if cert == path.anchor:
            continue
        if is_self_issued(cert) and cert is not path.certs[0]:
            continue
        algorithm = signature_hash(cert)
        if algorithm in WEAK_HASHES:
            found.append(
                Finding(
                    FindingId.WEAK_SIGNATURE,
                    Severity.ERROR,
                    evidence(
                        subject=common_name(cert),
                        algorithm=algorithm.upper().replace("SHA", "SHA-"),
                    ),
                )
            )
            break
    for cert in path.certs:
        if cert == path.anchor:
            continue
        text, bits = key_description(cert)
        weak = (text.startswith(("RSA", "DSA")) and bits < 2048) or (
            text.startswith("EC") and bits < 256
        )
        if weak:
            found.append(
                Finding(
                    FindingId.WEAK_KEY,
                    Severity.ERROR,
                    evidence(subject=common_name(cert), key=text),
                )
            )
            break
    return found


def verify(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    host: str | None,
    at: dt.datetime,
    *,
    max_depth: int | None = None,
) -> str | None:
    """The web-PKI verdict: None when the chain is valid for ``host`` at ``at``, else why not."""
    return _verify(leaf, intermediates, roots, host, at, max_depth=max_depth)[0]


def _verify(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    host: str | None,
    at: dt.datetime,
    *,
    max_depth: int | None = None,
) -> tuple[str | None, list[x509.Certificate] | None]:
    """(None, the path the verifier built, leaf first) or (why not, None)."""
    if not roots:
        return "no trust anchors", None
    builder = PolicyBuilder().store(Store(list(roots))).time(at)
    if max_depth is not None:
        builder = builder.max_chain_depth(max_depth)
    subject: x509.GeneralName
    name = host or next(iter(san_names(leaf)), "invalid.invalid")
    try:
        subject = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        subject = x509.DNSName(name)
    try:
        verifier = builder.build_server_verifier(subject)
        built = verifier.verify(leaf, list(intermediates))
    except VerificationError as exc:
        return str(exc), None
    except (ValueError, TypeError) as exc:  # a name or certificate the verifier cannot take
        return str(exc) or type(exc).__name__, None
    return None, list(built)


def analyze_chain(
    sent: Sequence[x509.Certificate],
    host: str | None,
    stores: TrustStores,
    verify_at: dt.datetime,
    *,
    fetched: Sequence[x509.Certificate] = (),
    aia_status: str = "not tried",
    max_depth: int | None = None,
) -> ChainAnalysis:
    """``sent`` is the chain as the server sent it (leaf first); ``fetched`` are issuers found
    through the leaf's AIA address. ``host`` None skips the name check (inspect without --host).
    """
    leaf = sent[0]
    pool = list(sent[1:]) + list(fetched)
    in_use = stores.in_use()
    store_names = tuple(in_use)
    # The roots the chain names (the verifier can use no other), else any one root: the
    # verifier's own words for "no path" are kept as evidence, and they need a store to run.
    roots = stores.roots_for([leaf, *pool]) or stores.any_root()
    error, built = _verify(leaf, pool, roots, host, verify_at, max_depth=max_depth)
    if error is not None and max_depth is None:
        # A path longer than the verifier's default: our own path finder says whether one
        # reaches a root; if so, the verdict is asked again with room for it. Which clients
        # give up on such a chain is theirs to say (chain-too-long), not "invalid" for all.
        long_path = build_path(leaf, pool, stores, at=verify_at)
        if long_path.anchor is not None and len(long_path.certs) > DEFAULT_DEPTH:
            error_again, built_again = _verify(
                leaf, pool, roots, host, verify_at, max_depth=MAX_PATH + 2
            )
            if error_again is None:
                error, built = None, built_again
    if built is not None:
        # The verifier accepted a path: that is the chain a client uses, so the checks below
        # judge it rather than a path of our own that may have taken another branch.
        anchor = built[-1]
        holders = tuple(name for name, roots in in_use.items() if anchor in roots)
        path = ChainPath(tuple(built), anchor, holders)
        sent_set = set(sent)
        complete = all(c in sent_set for c in built[1:-1])
        sent_path = path if complete else build_path(leaf, sent[1:], stores, at=verify_at)
    else:
        sent_path = build_path(leaf, sent[1:], stores, at=verify_at)
        path = build_path(leaf, pool, stores, at=verify_at) if fetched else sent_path
    trust = _store_trust(path, stores)
    findings: list[Finding] = []

    # A leaf whose extensions cannot be parsed (a duplicated extension, a malformed value) has
    # no readable names: calling that a name mismatch would be wrong. The verifier refuses such
    # a certificate, and that verdict is reported as it stands.
    leaf_readable = extensions_problem(leaf) is None

    if host is not None and leaf_readable and not hostname_matches(host, leaf):
        findings.append(
            Finding(
                FindingId.HOSTNAME_MISMATCH,
                Severity.ERROR,
                evidence(
                    host=host,
                    names=list(san_names(leaf)) or [f"(no names; CN {common_name(leaf)})"],
                ),
            )
        )

    if sent_path.anchor is None:
        leaf_self_signed = _self_signed(leaf)
        top = sent_path.top
        if leaf_self_signed:
            findings.append(
                Finding(
                    FindingId.SELF_SIGNED, Severity.ERROR, evidence(subject=name_text(leaf.subject))
                )
            )
        elif path.anchor is not None:
            findings.append(
                Finding(
                    FindingId.INCOMPLETE_CHAIN,
                    Severity.ERROR,
                    evidence(
                        missing_issuer=name_text(top.issuer),
                        aia_url=_aia_url(leaf),
                        aia_repairs="yes",
                    ),
                )
            )
        elif (
            is_self_issued(top) or is_ca(top) or (is_self_issued(path.top) and path.top is not leaf)
        ):
            root = path.top if is_self_issued(path.top) else top
            findings.append(
                Finding(
                    FindingId.UNTRUSTED_ROOT,
                    Severity.ERROR,
                    evidence(
                        root_subject=name_text(
                            root.subject if is_self_issued(root) else root.issuer
                        ),
                        stores=list(store_names),
                    ),
                )
            )
        else:
            findings.append(
                Finding(
                    FindingId.INCOMPLETE_CHAIN,
                    Severity.ERROR,
                    evidence(
                        missing_issuer=name_text(top.issuer),
                        aia_url=_aia_url(leaf),
                        aia_repairs=aia_status,
                    ),
                )
            )

    purpose = _purpose_problem(leaf)
    if purpose is not None:
        findings.append(purpose)

    order = _order_problems(sent, sent_path)
    if order:
        findings.append(
            Finding(FindingId.CHAIN_ORDER, Severity.WARNING, evidence(problem="; ".join(order)))
        )
    findings += _weakness(path)
    intercept = _interception(path, stores)
    if intercept is not None:
        findings.append(intercept)

    infos = _describe_path(sent, path, in_use)
    return ChainAnalysis(
        sent=tuple(sent),
        path=path,
        certificates=infos,
        trust=trust,
        findings=tuple(findings),
        valid=error is None,
        verifier_error=error,
        verified_at=verify_at,
    )


def _describe_path(
    sent: Sequence[x509.Certificate],
    path: ChainPath,
    in_use: dict[str, Roots],
) -> tuple[CertificateInfo, ...]:
    infos = []
    for cert in sent:
        holders = [n for n, roots in in_use.items() if cert in roots]
        infos.append(describe(cert, sent_by_server=True, trusted_by=holders))
    for cert in path.certs:
        if cert not in sent:
            holders = [n for n, roots in in_use.items() if cert in roots]
            infos.append(describe(cert, sent_by_server=False, trusted_by=holders))
    return tuple(infos)


def _aia_url(cert: x509.Certificate) -> str | None:
    """The address as it may be shown: never with the ``user:pass@`` a stranger put in it."""
    urls = aia_urls(cert)
    return display_url(urls[0]) if urls else None


def aia_urls(cert: x509.Certificate, *, ocsp: bool = False) -> list[str]:
    """The leaf's caIssuers (or OCSP) addresses, http(s) only."""
    from cryptography.x509.oid import AuthorityInformationAccessOID

    wanted = (
        AuthorityInformationAccessOID.OCSP if ocsp else AuthorityInformationAccessOID.CA_ISSUERS
    )
    ext = extension_value(cert, x509.AuthorityInformationAccess)
    if ext is None:
        return []
    return [
        str(d.access_location.value)
        for d in ext
        if d.access_method == wanted
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and str(d.access_location.value).lower().startswith(("http://", "https://"))
    ]


def needs_issuer(analysis: ChainAnalysis) -> bool:
    """True when fetching the leaf's issuer through AIA could change the verdict."""
    return analysis.path.anchor is None and not is_self_issued(analysis.sent[0])


def validity_findings(
    path: Sequence[x509.Certificate], anchor: x509.Certificate | None, at: dt.datetime
) -> list[Finding]:
    """Validity windows at time ``at``: expired, not yet valid, the leaf expiring soon.

    Certificate times have whole seconds and notAfter is inclusive (RFC 5280 4.1.2.5), so a
    certificate whose notAfter is 12:00:00 is still valid at 12:00:00.5.
    """
    found: list[Finding] = []
    at = _whole_seconds(at)
    for position, cert in enumerate(path):
        if cert == anchor:
            continue
        where = "the server's certificate" if position == 0 else "an intermediate certificate"
        if cert.not_valid_after_utc < at:
            days = (at - cert.not_valid_after_utc).days
            found.append(
                Finding(
                    FindingId.CERT_EXPIRED,
                    Severity.ERROR,
                    evidence(
                        subject=common_name(cert),
                        not_after=cert.not_valid_after_utc.isoformat(),
                        not_after_date=_date(cert.not_valid_after_utc),
                        days_ago=days,
                        position=where,
                    ),
                )
            )
        elif cert.not_valid_before_utc > at:
            days = (cert.not_valid_before_utc - at).days
            found.append(
                Finding(
                    FindingId.CERT_NOT_YET_VALID,
                    Severity.ERROR,
                    evidence(
                        subject=common_name(cert),
                        not_before=cert.not_valid_before_utc.isoformat(),
                        not_before_date=_date(cert.not_valid_before_utc),
                        days_until=days,
                        position=where,
                    ),
                )
            )
    leaf = path[0]
    if not found and leaf.not_valid_after_utc - at < EXPIRES_SOON:
        found.append(
            Finding(
                FindingId.EXPIRES_SOON,
                Severity.WARNING,
                evidence(
                    subject=common_name(leaf),
                    not_after=leaf.not_valid_after_utc.isoformat(),
                    not_after_date=_date(leaf.not_valid_after_utc),
                    days_left=max(0, (leaf.not_valid_after_utc - at).days),
                ),
            )
        )
    return found


def _whole_seconds(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def _date(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"
