"""Which app connects, and why another one does not: one verdict per client, from data.

The apps a user can name live in ``resources/client_facts.json``: the ClientHello each sends (an
entry of ``clients.json``, or this computer's Python), its root store and how it validates a
chain (fetches missing intermediates or not, how long a chain it follows, CT, leaf lifetime,
SHA-1, key and DH sizes), each fact with its source and date, or marked unknown with the reason.
:func:`judge_client` folds what a check saw and one app's facts into that app's verdict. Pure:
no I/O but reading the shipped data once, no clock.

A fact that is unknown never makes a client fail: it is named in the verdict's ``unknown``, so a
verdict says "connects, as far as we know" rather than guessing either way.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cryptography import x509

from core.certs import key_description
from core.ciphers import suite, suite_name
from core.models import Finding, FindingId, Severity
from core.wire.records import TlsVersion

if TYPE_CHECKING:  # the overlap analysis is loaded only where versions were probed
    from core.analyze.chain import ChainAnalysis
    from core.analyze.overlap import Simulation
    from core.microsoft_store import MicrosoftStore
    from core.trust import Roots

__all__ = [
    "FACT_NAMES",
    "AppProfile",
    "ChainFacts",
    "ClientVerdict",
    "Fact",
    "app_ids",
    "find_app",
    "judge_client",
    "load_apps",
    "parse_apps",
]

RESOURCE_PACKAGE = "resources"
RESOURCE_NAME = "client_facts.json"
#: The hello of this computer's own Python (``core.analyze.overlap.local_client_profile``).
LOCAL_HELLO = "local"
#: This computer's own client trusts what any store the check consulted holds.
LOCAL_STORE = "this computer's stores"

#: Every app states each of these, as a value with a source, unknown, or not applicable.
FACT_NAMES = (
    "root_store",
    "store_kind",
    "fetches_aia",
    "max_chain_certs",
    "requires_ct",
    "max_leaf_days",
    "accepts_sha1",
    "min_rsa_bits",
    "min_dh_bits",
    "requires_server_auth_eku",
)
ROOT_STORES = frozenset({"mozilla", "chrome", "microsoft", "os"})
#: The stores whose roots are "publicly trusted": CT and lifetime rules apply to their chains.
PUBLIC_STORES = frozenset({"mozilla", "chrome"})
#: Below this, some client refuses an RSA key: a client whose minimum is unknown is unknown.
WEAK_RSA_BITS = 2048
#: Embedded SCTs that every CT-enforcing client accepts as enough (Chrome: 2 for up to 180
#: days, 3 beyond; Apple the same; Firefox "essentially 2").
MIN_SCTS_SHORT, MIN_SCTS_LONG, SHORT_LEAF_DAYS = 2, 3, 180


@dataclass(frozen=True)
class Fact:
    """One validation rule of one client: its value and source, or why it is unknown."""

    value: object = None
    source: str = ""
    date: str = ""
    unknown: str = ""
    not_applicable: str = ""

    @property
    def known(self) -> bool:
        return not self.unknown and not self.not_applicable


@dataclass(frozen=True)
class AppProfile:
    id: str
    name: str
    hello: str
    hello_source: str
    current: bool
    browser: bool
    note: str
    facts: Mapping[str, Fact]

    def fact(self, name: str) -> Fact:
        return self.facts.get(name, Fact(unknown="not stated"))

    def known(self, name: str) -> object | None:
        """The fact's value when known, else None."""
        fact = self.fact(name)
        return fact.value if fact.known else None


@functools.cache
def load_apps() -> tuple[AppProfile, ...]:
    text = resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME).read_text(encoding="utf-8")
    return parse_apps(json.loads(text))


def app_ids() -> tuple[str, ...]:
    return tuple(app.id for app in load_apps())


def find_app(app_id: str) -> AppProfile | None:
    return next((a for a in load_apps() if a.id == app_id), None)


def parse_apps(data: Mapping[str, Any]) -> tuple[AppProfile, ...]:
    """The apps, each fact checked: a known one names a source in the table, an unknown one
    says why. Raises ValueError on a gap, so a bad data file fails in the tests, not later."""
    sources = data["sources"]
    apps: list[AppProfile] = []
    for row in data["apps"]:
        where = f"client {row.get('id')!r}"
        facts: dict[str, Fact] = {}
        for name, raw in row["facts"].items():
            facts[name] = _fact(raw, sources, f"{where}.{name}")
        missing = [n for n in FACT_NAMES if n not in facts]
        if missing:
            raise ValueError(f"{where}: no {missing}")
        store = facts["root_store"]
        if store.known and store.value not in ROOT_STORES:
            raise ValueError(f"{where}: root_store {store.value!r} is not one of {ROOT_STORES}")
        if row["hello_source"] not in sources:
            raise ValueError(f"{where}: hello_source {row['hello_source']!r} not in sources")
        apps.append(
            AppProfile(
                id=str(row["id"]),
                name=str(row["name"]),
                hello=str(row["hello"]),
                hello_source=str(row["hello_source"]),
                current=bool(row["current"]),
                browser=bool(row["browser"]),
                note=str(row.get("note", "")),
                facts=MappingProxyType(facts),
            )
        )
    ids = [a.id for a in apps]
    if len(set(ids)) != len(ids):
        raise ValueError("client ids repeat")
    return tuple(apps)


def _fact(raw: Mapping[str, Any], sources: Mapping[str, Any], where: str) -> Fact:
    if "unknown" in raw or "not_applicable" in raw:
        why = str(raw.get("unknown") or raw.get("not_applicable") or "")
        if not why.strip() or "value" in raw:
            raise ValueError(f"{where}: an unknown fact says why, and has no value")
        return Fact(
            unknown=str(raw.get("unknown", "")), not_applicable=raw.get("not_applicable", "")
        )
    if "value" not in raw or raw.get("source") not in sources:
        raise ValueError(f"{where}: a known fact needs a value and a source from the table")
    source = sources[raw["source"]]
    return Fact(value=raw["value"], source=str(source["what"]), date=str(source["date"]))


def local_app(name: str) -> AppProfile:
    """This computer's own client (Handshake Doctor's Python and OpenSSL) as an app: Python's
    rules, its own hello, and the stores the check consulted."""
    python = find_app("python")
    facts = dict(python.facts) if python is not None else {}
    facts["root_store"] = Fact(value=LOCAL_STORE, source="the stores this check used")
    return AppProfile(
        id=LOCAL_HELLO,
        name=name,
        hello=LOCAL_HELLO,
        hello_source="local-hello",
        current=True,
        browser=False,
        note="",
        facts=MappingProxyType(facts),
    )


# --------------------------------------------------------------------------- the chain's facts


@dataclass(frozen=True)
class ChainFacts:
    """What every client's validation is judged on, read once from the chain analysis.

    ``anchor_stores`` names the stores holding the chain's root (``custom``: the user's own,
    which stands for a root installed where the user's apps look). ``shared`` are the chain
    findings that no client's rules excuse (an expired or misnamed certificate)."""

    anchor_stores: frozenset[str]
    #: The chain reaches a root only with intermediates the server did not send.
    needs_fetch: bool
    #: Certificates in the path, leaf and root included.
    path_certs: int
    leaf_days: int
    #: Embedded SCTs in the leaf; None when the leaf cannot say.
    scts: int | None
    #: False when the leaf's extended key usage lacks serverAuth.
    server_auth: bool
    #: The smallest RSA key below the root, in bits; None when no RSA key is used.
    smallest_rsa: int | None
    sha1_signed: bool
    shared: tuple[FindingId, ...] = ()

    @property
    def public(self) -> bool:
        """Rooted in a public program's store, and not in the user's own (where CT and the
        lifetime limits do not apply)."""
        return bool(self.anchor_stores & PUBLIC_STORES) and "custom" not in self.anchor_stores


@dataclass(frozen=True)
class ClientVerdict:
    """One app against this server. ``trusted`` None: its root store could not be consulted.
    ``unknown`` names the rules that mattered here and that no source establishes."""

    id: str
    name: str
    current: bool
    browser: bool
    connects: bool | None
    trusted: bool | None
    reasons: tuple[FindingId, ...]
    protocol: TlsVersion | None = None
    cipher: str | None = None
    unknown: tuple[str, ...] = ()


def judge_client(
    app: AppProfile,
    hello: Simulation | None,
    chain: ChainFacts | None,
    *,
    dh_bits: int | None = None,
) -> ClientVerdict:
    """Fold the server's answers (``hello``: this client's simulated hello against the
    enumeration; None when the versions were not probed) and the chain into the app's verdict.
    """
    reasons: list[FindingId] = []
    unknown: list[str] = []
    hello_ok: bool | None = None
    protocol = cipher = None
    if hello is not None:
        from core.analyze.overlap import Mismatch

        if hello.mismatch is Mismatch.PROTOCOL:
            reasons.append(FindingId.NO_SHARED_PROTOCOL)
            hello_ok = False
        elif hello.mismatch in (Mismatch.CIPHER, Mismatch.GROUP):
            reasons.append(FindingId.NO_SHARED_CIPHER)
            hello_ok = False
        elif hello.mismatch is Mismatch.NONE:
            hello_ok = True
            protocol = hello.version
            cipher = suite_name(hello.cipher) if hello.cipher is not None else None
            if _weak_dh(app, hello, dh_bits, unknown):
                reasons.append(FindingId.WEAK_DH)
                hello_ok = False
    trusted = _trust(app, chain, reasons, unknown) if chain is not None else None
    if hello_ok is None:
        connects = None if trusted is not False else False
    else:
        connects = hello_ok and trusted is not False
    return ClientVerdict(
        id=app.id,
        name=app.name,
        current=app.current,
        browser=app.browser,
        connects=connects,
        trusted=trusted,
        reasons=tuple(dict.fromkeys(reasons)),
        protocol=protocol if connects else None,
        cipher=cipher if connects else None,
        unknown=tuple(dict.fromkeys(unknown)),
    )


def _weak_dh(app: AppProfile, hello: Simulation, dh_bits: int | None, unknown: list[str]) -> bool:
    entry = suite(hello.cipher) if hello.cipher is not None else None
    if entry is None or not entry.key_exchange.startswith("DHE") or dh_bits is None:
        return False
    minimum = app.known("min_dh_bits")
    if not isinstance(minimum, int):
        unknown.append("min_dh_bits")
        return False
    return dh_bits < minimum


def _trust(
    app: AppProfile, chain: ChainFacts, reasons: list[FindingId], unknown: list[str]
) -> bool | None:
    """False with reasons when a rule of this app refuses the chain; None when its root store
    could not be consulted and nothing else refuses it."""
    before = len(reasons)
    reasons.extend(chain.shared)
    if not chain.server_auth and app.known("requires_server_auth_eku") is True:
        reasons.append(FindingId.WRONG_PURPOSE)
    store_known = _store(app, chain, reasons, unknown)
    if chain.needs_fetch:
        _fetch(app, chain, reasons, unknown)
    longest = app.known("max_chain_certs")
    if isinstance(longest, int):
        if chain.path_certs > longest:
            reasons.append(FindingId.CHAIN_TOO_LONG)
    elif chain.path_certs > 8:  # longer than the shortest limit we know (Firefox's)
        unknown.append("max_chain_certs")
    if chain.public:
        if app.known("requires_ct") is True and chain.scts is not None:
            needed = MIN_SCTS_SHORT if chain.leaf_days <= SHORT_LEAF_DAYS else MIN_SCTS_LONG
            if chain.scts < needed:
                reasons.append(FindingId.CT_MISSING)
        elif not app.fact("requires_ct").known:
            unknown.append("requires_ct")
        limit = app.known("max_leaf_days")
        if isinstance(limit, int) and chain.leaf_days > limit:
            reasons.append(FindingId.LIFETIME_TOO_LONG)
    minimum = app.known("min_rsa_bits")
    if chain.smallest_rsa is not None and isinstance(minimum, int):
        if chain.smallest_rsa < minimum:
            reasons.append(FindingId.WEAK_KEY)
    elif chain.smallest_rsa is not None and chain.smallest_rsa < WEAK_RSA_BITS:
        unknown.append("min_rsa_bits")
    if chain.sha1_signed:
        if app.known("accepts_sha1") is False:
            reasons.append(FindingId.WEAK_SIGNATURE)
        elif not app.fact("accepts_sha1").known:
            unknown.append("accepts_sha1")
    if len(reasons) > before:
        return False
    return True if store_known else None


def _store(
    app: AppProfile, chain: ChainFacts, reasons: list[FindingId], unknown: list[str]
) -> bool:
    """Whether the app's store could be consulted; an untrusted root is a reason."""
    if "custom" in chain.anchor_stores:
        return True  # the user's own root: installed where the app looks
    store = app.known("root_store")
    if store == LOCAL_STORE:  # this computer: any store the check consulted
        if not chain.anchor_stores - {"chrome", "microsoft", *_UNAVAILABLE.values()}:
            reasons.append(FindingId.UNTRUSTED_ROOT)
        return True
    if not isinstance(store, str):
        unknown.append("root_store")
        return False
    if store in _UNAVAILABLE and _UNAVAILABLE[store] in chain.anchor_stores:
        unknown.append("root_store")
        return False
    if store not in chain.anchor_stores:
        reasons.append(FindingId.UNTRUSTED_ROOT)
    return True


def _fetch(
    app: AppProfile, chain: ChainFacts, reasons: list[FindingId], unknown: list[str]
) -> None:
    fetches = app.known("fetches_aia")
    if fetches is True:
        return
    if chain.public and app.known("preloads_public_intermediates") is True:
        return  # Firefox carries the public CAs' intermediates with it
    if fetches is False:
        reasons.append(FindingId.INCOMPLETE_CHAIN)
    else:
        unknown.append("fetches_aia")


# --------------------------------------------------------------------------- from a chain


def leaf_days(not_before: dt.datetime, not_after: dt.datetime) -> int:
    """Validity in whole days, as the CA/B Forum counts it (a 398-day leaf is 398)."""
    return (not_after - not_before).days


def verdicts_for(
    apps: Sequence[AppProfile],
    sims: Mapping[str, Simulation],
    chain: ChainFacts | None,
    dh_bits: int | None,
) -> tuple[ClientVerdict, ...]:
    """Every app's verdict; ``sims`` by hello id (``local`` for this computer's)."""
    return tuple(judge_client(app, sims.get(app.hello), chain, dh_bits=dh_bits) for app in apps)


#: Chain findings no client's rules excuse: every app refuses such a chain.
SHARED_CHAIN_FINDINGS = frozenset(
    {
        FindingId.CERT_EXPIRED,
        FindingId.CERT_NOT_YET_VALID,
        FindingId.HOSTNAME_MISMATCH,
        FindingId.SELF_SIGNED,
        FindingId.UNTRUSTED_ROOT,
        FindingId.CERT_REVOKED,
        FindingId.CHAIN_INVALID,
        FindingId.INCOMPLETE_CHAIN,
    }
)
#: The store data that is not installed: those apps' trust is unknown, never guessed.
CHROME_UNAVAILABLE = "chrome-unavailable"
MICROSOFT_UNAVAILABLE = "microsoft-unavailable"
_UNAVAILABLE = {"chrome": CHROME_UNAVAILABLE, "microsoft": MICROSOFT_UNAVAILABLE}


def chain_facts(
    chain: ChainAnalysis,
    problems: Sequence[Finding],
    chrome: Roots | None,
    microsoft: MicrosoftStore | None = None,
) -> ChainFacts:
    """The chain as every client judges it. ``problems`` are the time-dependent findings (at
    the reference time) and the revocation, beside the chain's own; ``chrome`` the Chrome
    Root Store and ``microsoft`` Microsoft's root program (None when the data is not
    installed)."""
    path = chain.path
    anchor = path.anchor
    stores = set(path.anchor_stores)
    if anchor is not None:
        if chrome is None:
            stores.add(CHROME_UNAVAILABLE)
        elif anchor in chrome:
            stores.add("chrome")
        if microsoft is None:
            stores.add(MICROSOFT_UNAVAILABLE)
        elif microsoft.trusts(anchor, chain.sent[0], chain.verified_at):
            stores.add("microsoft")
    sent = set(chain.sent)
    below_root = [c for c in path.certs if c != anchor]
    needs_fetch = anchor is not None and any(c not in sent for c in below_root[1:])
    shared = [
        f.id
        for f in (*chain.findings, *problems)
        if f.id in SHARED_CHAIN_FINDINGS
        and f.severity.rank >= Severity.ERROR.rank
        # An intermediate the AIA fetch found: each client's own rule decides (fetch or not).
        and not (f.id is FindingId.INCOMPLETE_CHAIN and needs_fetch)
    ]
    if (
        not chain.valid
        and not shared
        and not any(f.id is FindingId.WRONG_PURPOSE for f in chain.findings)
    ):
        shared.append(FindingId.CHAIN_INVALID)
    leaf = chain.sent[0]
    rsa_bits = [
        bits for c in below_root for text, bits in [key_description(c)] if text.startswith("RSA")
    ]
    length = len(path.certs) + (0 if anchor is None or anchor in path.certs else 1)
    return ChainFacts(
        anchor_stores=frozenset(stores),
        needs_fetch=needs_fetch,
        path_certs=length,
        leaf_days=leaf_days(leaf.not_valid_before_utc, leaf.not_valid_after_utc),
        scts=_embedded_scts(leaf),
        server_auth=not any(f.id is FindingId.WRONG_PURPOSE for f in chain.findings),
        smallest_rsa=min(rsa_bits) if rsa_bits else None,
        sha1_signed=any(f.id is FindingId.WEAK_SIGNATURE for f in chain.findings),
        shared=tuple(dict.fromkeys(shared)),
    )


def _embedded_scts(leaf: x509.Certificate) -> int | None:
    try:
        ext = leaf.extensions.get_extension_for_class(
            x509.PrecertificateSignedCertificateTimestamps
        )
    except x509.ExtensionNotFound:
        return 0
    except (ValueError, TypeError):
        return None
    return len(list(ext.value))
