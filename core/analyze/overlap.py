"""Where the server and the clients fail to meet: versions, cipher suites and groups.

Pure functions over a :class:`~core.observations.ServerEnumeration` and client profiles: no I/O
except reading the shipped profiles and asking the ``ssl`` module what this computer offers.

A client connects when the server and it share a version, and at the version the server picks
(the highest they share; servers do not fall back to a lower one when suites do not match) a
suite and, for TLS 1.3 or ECDHE, a group. Which suite: the server's favourite among the client's
when the server imposes its order, else the client's first that the server accepts.
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from core.ciphers import CipherSuite, Strength, code_for_name, suite, suite_name
from core.models import (
    ClientMismatch,
    ClientResult,
    EvidenceValue,
    Finding,
    FindingId,
    FixId,
    Severity,
    evidence,
)
from core.observations import ServerEnumeration
from core.wire.hello import group_code
from core.wire.records import (
    CIPHER_ALERTS,
    LEGACY_VERSIONS,
    VERSION_ALERTS,
    TlsVersion,
)

__all__ = [
    "ClientProfile",
    "Mismatch",
    "OverlapResult",
    "Simulation",
    "analyze_overlap",
    "enumeration_from_handshake",
    "explain_alert",
    "load_client_profiles",
    "local_client_profile",
    "simulate",
]

RESOURCE_PACKAGE = "resources"
RESOURCE_NAME = "clients.json"

#: Groups usable for ECDHE in TLS 1.0–1.2: the elliptic curves (codes below 256, RFC 8422).
_ECDHE_MAX_CODE = 0xFF


@dataclass(frozen=True)
class ClientProfile:
    """What one client offers: versions (oldest first), suites in its order (codes,
    TLS 1.3 and older mixed as in its hello) and groups in its order ("" entries never)."""

    name: str
    versions: tuple[TlsVersion, ...]
    suites: tuple[int, ...]
    groups: tuple[str, ...]
    id: str = ""
    family: str = ""
    current: bool = True
    #: True for this computer's own client, which the no-shared-* findings are about.
    local: bool = False
    #: Where the facts come from, for the report's notes.
    source: str = ""

    def suites_for(self, version: TlsVersion) -> tuple[int, ...]:
        """The suites this client can get in ``version``, in its order."""
        usable: list[int] = []
        for code in self.suites:
            entry = suite(code)
            if entry is not None and entry.usable_with(version):
                usable.append(code)
        return tuple(usable)


#: Why a simulated client does not connect (the name the analysis has always used).
Mismatch = ClientMismatch


@dataclass(frozen=True)
class Simulation:
    """One client against the server: the outcome and the facts behind it."""

    profile: ClientProfile
    mismatch: Mismatch
    version: TlsVersion | None = None
    cipher: int | None = None
    #: What the catalogue's words for the mismatch are filled from.
    facts: Mapping[str, EvidenceValue] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def connects(self) -> bool:
        return self.mismatch is Mismatch.NONE

    def as_client_result(self) -> ClientResult:
        return ClientResult(
            name=self.profile.name,
            connects=self.connects,
            protocol=self.version if self.connects else None,
            cipher=suite_name(self.cipher) if self.connects and self.cipher is not None else None,
            mismatch=self.mismatch,
            facts=self.facts,
        )


@dataclass(frozen=True)
class OverlapResult:
    """The contract's ``protocols``, ``ciphers``, ``groups``, ``server_preference`` and
    ``clients`` (this computer first), and the findings the overlap shows."""

    protocols: Mapping[TlsVersion, bool | None]
    ciphers: Mapping[TlsVersion, tuple[str, ...]]
    groups: tuple[str, ...]
    server_preference: bool | None
    clients: tuple[ClientResult, ...]
    findings: tuple[Finding, ...]
    local: Simulation | None = None
    simulations: tuple[Simulation, ...] = ()


# --------------------------------------------------------------------------- client profiles


def local_client_profile(context: ssl.SSLContext | None = None) -> ClientProfile:
    """This computer's default client, as the ``ssl`` module would connect: the versions and
    suites of ``ssl.create_default_context()`` (or ``context``).

    The ``ssl`` module cannot report the groups OpenSSL offers, so they are OpenSSL's built-in
    client defaults for the linked version (no FFDHE before 3.0, X25519MLKEM768 first from 3.5);
    a system-wide OpenSSL configuration that changes them is not seen.
    """
    ctx = context if context is not None else ssl.create_default_context()
    low = _resolve_version(ctx.minimum_version, lowest=True)
    high = _resolve_version(ctx.maximum_version, lowest=False)
    versions = tuple(v for v in TlsVersion if low <= v <= high and _library_has(v))
    suites = tuple(int(c["id"]) & 0xFFFF for c in ctx.get_ciphers())
    groups: tuple[str, ...] = _OPENSSL3_CLIENT_GROUPS
    if ssl.OPENSSL_VERSION_INFO < (3, 0):
        groups = tuple(g for g in groups if not g.startswith("ffdhe"))
    if ssl.OPENSSL_VERSION_INFO >= (3, 5):
        groups = ("X25519MLKEM768", *groups)
    return ClientProfile(
        name=f"This computer ({ssl.OPENSSL_VERSION})",
        versions=versions,
        suites=suites,
        groups=groups,
        id="local",
        family="local",
        current=True,
        local=True,
        source="ssl.create_default_context() at run time",
    )


#: OpenSSL 3's default client group list (``ssl/t1_lib.c``, ``supported_groups_default``).
_OPENSSL3_CLIENT_GROUPS = (
    "x25519",
    "secp256r1",
    "x448",
    "secp521r1",
    "secp384r1",
    "ffdhe2048",
    "ffdhe3072",
    "ffdhe4096",
    "ffdhe6144",
    "ffdhe8192",
)


def _resolve_version(value: ssl.TLSVersion, *, lowest: bool) -> TlsVersion:
    if value == ssl.TLSVersion.MINIMUM_SUPPORTED:
        return TlsVersion.SSL3 if lowest else TlsVersion.TLS1_3
    if value == ssl.TLSVersion.MAXIMUM_SUPPORTED:
        return TlsVersion.TLS1_3 if ssl.HAS_TLSv1_3 else TlsVersion.TLS1_2
    return TlsVersion(int(value))


def _library_has(version: TlsVersion) -> bool:
    return {
        TlsVersion.SSL3: ssl.HAS_SSLv3,
        TlsVersion.TLS1_0: ssl.HAS_TLSv1,
        TlsVersion.TLS1_1: ssl.HAS_TLSv1_1,
        TlsVersion.TLS1_2: ssl.HAS_TLSv1_2,
        TlsVersion.TLS1_3: ssl.HAS_TLSv1_3,
    }[version]


@functools.cache
def load_client_profiles() -> tuple[ClientProfile, ...]:
    """The reference clients in ``resources/clients.json`` (current browsers, then old ones)."""
    text = resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME).read_text(encoding="utf-8")
    return parse_client_profiles(json.loads(text))


def parse_client_profiles(data: Mapping[str, Any]) -> tuple[ClientProfile, ...]:
    source = str(data.get("_source", ""))
    profiles: list[ClientProfile] = []
    for row in data["clients"]:
        labels = [str(v) for v in row["versions"]]
        versions = tuple(v for v in map(TlsVersion.from_label, labels) if v is not None)
        if len(versions) != len(labels):
            raise ValueError(f"client {row['name']!r}: unknown versions in {labels}")
        profiles.append(
            ClientProfile(
                name=str(row["name"]),
                versions=versions,
                suites=tuple(int(c) for c in row["suite_codes"]),
                groups=tuple(str(g) for g in row["groups"]),
                id=str(row["id"]),
                family=str(row["family"]),
                current=bool(row["current"]),
                source=source,
            )
        )
    return tuple(profiles)


# --------------------------------------------------------------------------- simulation


def simulate(profile: ClientProfile, enum: ServerEnumeration) -> Simulation:
    """Would ``profile`` connect to the enumerated server, and with what?"""
    server_versions = enum.accepted_versions
    if not server_versions:
        return Simulation(profile, Mismatch.UNKNOWN)
    shared = [v for v in profile.versions if v in server_versions]
    if not shared:
        return Simulation(
            profile,
            Mismatch.PROTOCOL,
            facts=evidence(
                server_versions=_human_list(server_versions),
                client_versions=_human_list(profile.versions),
            ),
        )
    version = max(shared)
    server_suites = enum.cipher_codes.get(version)
    if not server_suites:
        return Simulation(profile, Mismatch.UNKNOWN, version, facts=evidence(version=version.human))
    client_suites = profile.suites_for(version)
    server_groups = set(enum.groups)
    client_groups = set(profile.groups)
    groups_known = bool(server_groups) and bool(client_groups)
    if version is TlsVersion.TLS1_3 and groups_known and not server_groups & client_groups:
        return Simulation(profile, Mismatch.GROUP, version)
    ec_shared = {g for g in server_groups & client_groups if _is_curve(g)}

    def usable(code: int) -> bool:
        entry = suite(code)
        is_ecdhe = entry is not None and entry.key_exchange.startswith("ECDHE")
        return not (is_ecdhe and version < TlsVersion.TLS1_3 and groups_known and not ec_shared)

    offered = set(client_suites)
    if enum.preference_by_version.get(version):
        chosen = next((c for c in server_suites if c in offered and usable(c)), None)
    else:
        accepted = set(server_suites)
        chosen = next((c for c in client_suites if c in accepted and usable(c)), None)
    if chosen is None:
        return Simulation(profile, Mismatch.CIPHER, version, facts=evidence(version=version.human))
    return Simulation(profile, Mismatch.NONE, version, chosen)


def _is_curve(group: str) -> bool:
    code = group_code(group)
    return code is not None and code <= _ECDHE_MAX_CODE


# --------------------------------------------------------------------------- findings


def analyze_overlap(
    enum: ServerEnumeration, local: ClientProfile, profiles: Sequence[ClientProfile]
) -> OverlapResult:
    """Fold the enumeration and the client profiles into the contract's overlap fields and
    findings: ``no-shared-protocol``/``no-shared-cipher`` for this computer's client (errors),
    ``legacy-protocol``, ``weak-cipher`` and ``no-forward-secrecy`` for the server (warnings)."""
    local_sim = simulate(local, enum)
    sims = tuple(simulate(p, enum) for p in profiles)
    measured = bool(enum.accepted_versions)
    findings: list[Finding] = []
    findings += _local_findings(local_sim, sims, enum)
    findings += _server_findings(enum)
    clients = (local_sim, *sims) if measured else ()
    return OverlapResult(
        protocols=MappingProxyType({v: enum.versions.get(v) for v in TlsVersion}),
        ciphers=enum.ciphers,
        groups=enum.groups,
        server_preference=enum.server_preference,
        clients=tuple(s.as_client_result() for s in clients),
        findings=tuple(findings),
        local=local_sim,
        simulations=sims,
    )


def _local_findings(
    local: Simulation, sims: Sequence[Simulation], enum: ServerEnumeration
) -> list[Finding]:
    connecting = tuple(s.profile.name for s in sims if s.connects)
    current_connects = any(s.connects and s.profile.current for s in sims)
    if local.mismatch is Mismatch.PROTOCOL:
        server = enum.accepted_versions
        server_too_old = not local.profile.versions or server[-1] < min(local.profile.versions)
        fixes = (
            (FixId.ENABLE_MODERN_TLS, FixId.CONTACT_SITE_OWNER)
            if server_too_old
            else _client_side_fixes(current_connects)
        )
        return [
            Finding(
                FindingId.NO_SHARED_PROTOCOL,
                Severity.ERROR,
                evidence(
                    server_versions=_human_list(server),
                    client_versions=_human_list(local.profile.versions),
                    clients_that_connect=connecting,
                ),
                fixes,
            )
        ]
    if local.mismatch is Mismatch.CIPHER and local.version is not None:
        server_codes = enum.cipher_codes.get(local.version, ())
        modern_browsers_meet = any(
            s.connects and s.profile.current and s.version == local.version for s in sims
        )
        server_only_weak = all(_entry_strength(c) is not Strength.STRONG for c in server_codes)
        fixes = (
            (FixId.ENABLE_MODERN_CIPHERS, FixId.CONTACT_SITE_OWNER)
            if server_only_weak or not modern_browsers_meet
            else _client_side_fixes(current_connects)
        )
        return [
            Finding(
                FindingId.NO_SHARED_CIPHER,
                Severity.ERROR,
                evidence(
                    protocol=local.version.human,
                    server_ciphers=tuple(suite_name(c) for c in server_codes),
                    client_ciphers=tuple(
                        suite_name(c) for c in local.profile.suites_for(local.version)
                    ),
                    clients_that_connect=connecting,
                ),
                fixes,
            )
        ]
    return []


def _client_side_fixes(current_browser_connects: bool) -> tuple[FixId, ...]:
    if current_browser_connects:
        return (FixId.UPDATE_CLIENT, FixId.TRY_ANOTHER_BROWSER)
    return (FixId.UPDATE_CLIENT,)


def _server_findings(enum: ServerEnumeration) -> list[Finding]:
    findings: list[Finding] = []
    legacy = [v for v in LEGACY_VERSIONS if enum.versions.get(v)]
    if legacy:
        findings.append(
            Finding(
                FindingId.LEGACY_PROTOCOL,
                Severity.WARNING,
                evidence(versions=_human_list(legacy)),
                (FixId.ENABLE_MODERN_TLS,),
            )
        )
    accepted = _accepted_suites(enum)
    weak = [e.name for e in accepted if e.weak]
    if weak:
        findings.append(
            Finding(
                FindingId.WEAK_CIPHER,
                Severity.WARNING,
                evidence(ciphers=weak),
                (FixId.ENABLE_MODERN_CIPHERS,),
            )
        )
    # Weak suites lack forward secrecy too, but they are already named above, and removing
    # them is the fix for both; this finding is about otherwise sound suites.
    static = [e.name for e in accepted if e.strength is Strength.NO_FORWARD_SECRECY]
    if static:
        findings.append(
            Finding(
                FindingId.NO_FORWARD_SECRECY,
                Severity.WARNING,
                evidence(ciphers=static),
                (FixId.ENABLE_MODERN_CIPHERS,),
            )
        )
    return findings


def _accepted_suites(enum: ServerEnumeration) -> list[CipherSuite]:
    """Every suite accepted in any version, once each, newest version first."""
    seen: dict[int, CipherSuite] = {}
    for version in sorted(TlsVersion, reverse=True):
        for code in enum.cipher_codes.get(version, ()):
            entry = suite(code)
            if entry is not None and code not in seen:
                seen[code] = entry
    return list(seen.values())


def _entry_strength(code: int) -> Strength | None:
    entry = suite(code)
    return entry.strength if entry is not None else None


def enumeration_from_handshake(
    protocol: TlsVersion | None, cipher: str | None
) -> ServerEnumeration:
    """What one permissive handshake (a quick check's legacy retry) tells of the server: the
    version and suite it chose. Every other version is unknown, never refused."""
    versions: dict[TlsVersion, bool | None] = dict.fromkeys(TlsVersion)
    if protocol is not None:
        versions[protocol] = True
    code = code_for_name(cipher) if cipher else None
    return ServerEnumeration(
        versions=versions,
        ciphers={},
        cipher_codes={protocol: (code,)} if code is not None and protocol is not None else {},
        groups=(),
        server_preference=None,
        preference_by_version={},
        hellos_sent={},
        refusals={},
        complete=False,
    )


def explain_alert(
    alert: str | None, enum: ServerEnumeration, local: ClientProfile
) -> FindingId | None:
    """Which overlap finding explains a failed handshake of this computer's client, given the
    server's alert (RFC name, e.g. ``protocol_version``; None when the server just hung up).

    ``protocol_version``/``inappropriate_fallback`` are explained by no shared version;
    ``handshake_failure``/``insufficient_security`` (and a silent hang-up) by no shared version
    or no shared suite, since many servers send ``handshake_failure`` for both. None: the
    enumeration does not explain it, and the engine should report the alert itself.
    """
    mismatch = simulate(local, enum).mismatch
    if alert in VERSION_ALERTS:
        return FindingId.NO_SHARED_PROTOCOL if mismatch is Mismatch.PROTOCOL else None
    if alert is None or alert in CIPHER_ALERTS:
        if mismatch is Mismatch.PROTOCOL:
            return FindingId.NO_SHARED_PROTOCOL
        if mismatch is Mismatch.CIPHER:
            return FindingId.NO_SHARED_CIPHER
    return None


# --------------------------------------------------------------------------- words


def _human_list(versions: Iterable[TlsVersion]) -> tuple[str, ...]:
    return tuple(v.human for v in versions)
