"""The cipher-suite registry: every suite's IANA name, OpenSSL name and how much to trust it.

Loaded from ``resources/cipher_suites.json``, which ``scripts/make_cipher_table.py`` generates
from the IANA registry, so names and classifications are data, reviewed in one place, and the
app never asks the local OpenSSL (which lacks most legacy suites) what a code means.

Reports and JSON name suites by their IANA names (the contract says so; OpenSSL's names differ
between versions and vendors). :func:`iana_name_for_openssl` translates the other way, for
client profiles and ``ssl`` module output written in OpenSSL names.
"""

from __future__ import annotations

import enum
import functools
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from core.wire.records import TlsVersion

__all__ = [
    "CipherRegistry",
    "CipherSuite",
    "Strength",
    "code_for_name",
    "iana_name_for_openssl",
    "load_registry",
    "preference_key",
    "suite",
    "suite_name",
]

RESOURCE_PACKAGE = "resources"
RESOURCE_NAME = "cipher_suites.json"

#: Weaknesses that make a suite broken outright rather than merely dated.
_INSECURE = frozenset({"NULL", "EXPORT", "RC4", "DES", "anonymous"})


class Strength(enum.StrEnum):
    """How a suite rates, worst first. ``weak-cipher`` is about the first two,
    ``no-forward-secrecy`` about the third."""

    INSECURE = "insecure"  # NULL, EXPORT, RC4, single DES, anonymous: broken
    WEAK = "weak"  # 3DES and other 64-bit block ciphers (SWEET32)
    NO_FORWARD_SECRECY = "no-forward-secrecy"  # sound cipher, static RSA/DH key exchange
    STRONG = "strong"

    @property
    def rank(self) -> int:
        return _STRENGTH_RANK[self]


_STRENGTH_RANK = {
    Strength.STRONG: 0,
    Strength.NO_FORWARD_SECRECY: 1,
    Strength.WEAK: 2,
    Strength.INSECURE: 3,
}


@dataclass(frozen=True)
class CipherSuite:
    code: int
    #: The IANA name; for the few codes IANA never registered, the defining draft's name.
    name: str
    openssl_name: str | None
    registered: bool
    recommended: bool
    tls13: bool
    key_exchange: str
    min_version: TlsVersion
    forward_secrecy: bool
    #: Why the suite is weak: "NULL", "EXPORT", "RC4", "DES", "3DES", "64-bit block", "anonymous".
    weaknesses: tuple[str, ...]
    #: PSK, SRP, Kerberos or password suites: a server picks them only with those credentials.
    needs_credentials: bool
    #: Static (EC)DH certificate suites, which no public CA issues certificates for.
    static_dh: bool

    @property
    def hex(self) -> str:
        return f"0x{self.code:04X}"

    @property
    def weak(self) -> bool:
        return bool(self.weaknesses)

    @property
    def strength(self) -> Strength:
        if _INSECURE.intersection(self.weaknesses):
            return Strength.INSECURE
        if self.weaknesses:
            return Strength.WEAK
        if not self.forward_secrecy:
            return Strength.NO_FORWARD_SECRECY
        return Strength.STRONG

    @property
    def aead(self) -> bool:
        return self.tls13 or any(part in self.name for part in ("_GCM", "_CCM", "POLY1305"))

    def usable_with(self, version: TlsVersion) -> bool:
        """Whether a server can choose this suite in ``version``: TLS 1.3 suites only in 1.3,
        others from their minimum version up to 1.2."""
        if self.tls13:
            return version is TlsVersion.TLS1_3
        return self.min_version <= version <= TlsVersion.TLS1_2


@dataclass(frozen=True)
class CipherRegistry:
    by_code: Mapping[int, CipherSuite]
    by_name: Mapping[str, CipherSuite]
    by_openssl: Mapping[str, CipherSuite]
    source: str

    def suites(self) -> tuple[CipherSuite, ...]:
        return tuple(self.by_code.values())


def parse_registry(data: Mapping[str, Any]) -> CipherRegistry:
    """Build the registry from the JSON document (raises on a malformed file: it is ours)."""
    by_code: dict[int, CipherSuite] = {}
    for row in data["suites"]:
        entry = CipherSuite(
            code=int(row["code"]),
            name=str(row["name"]),
            openssl_name=row["openssl"],
            registered=bool(row["registered"]),
            recommended=bool(row["recommended"]),
            tls13=bool(row["tls13"]),
            key_exchange=str(row["kx"]),
            min_version=_version(row["min_version"]),
            forward_secrecy=bool(row["forward_secrecy"]),
            weaknesses=tuple(str(w) for w in row["weak"]),
            needs_credentials=bool(row["needs_credentials"]),
            static_dh=bool(row["static_dh"]),
        )
        by_code[entry.code] = entry
    by_name = {s.name: s for s in by_code.values()}
    by_openssl = {s.openssl_name: s for s in by_code.values() if s.openssl_name}
    if len(by_name) != len(by_code):
        raise ValueError("cipher suite names are not unique")
    return CipherRegistry(
        MappingProxyType(by_code),
        MappingProxyType(by_name),
        MappingProxyType(by_openssl),
        str(data.get("_source", "")),
    )


def _version(label: str) -> TlsVersion:
    version = TlsVersion.from_label(label)
    if version is None:
        raise ValueError(f"unknown version {label!r} in the cipher table")
    return version


@functools.cache
def load_registry() -> CipherRegistry:
    """The registry shipped in ``resources/`` (read once per process)."""
    text = resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME).read_text(encoding="utf-8")
    return parse_registry(json.loads(text))


def suite(code: int) -> CipherSuite | None:
    return load_registry().by_code.get(code)


def suite_name(code: int) -> str:
    """IANA name for a code; ``0xXXXX`` for a code no registry or draft names (a server may
    choose anything, and the report must still say what)."""
    found = suite(code)
    return found.name if found is not None else f"0x{code:04X}"


def iana_name_for_openssl(openssl_name: str) -> str | None:
    """The IANA name of a suite given its OpenSSL name (``EXP-RC4-MD5`` →
    ``TLS_RSA_EXPORT_WITH_RC4_40_MD5``). IANA names pass through unchanged, since OpenSSL uses
    them for TLS 1.3. None for names neither the table nor the local OpenSSL knows, and for
    SSL 2.0 cipher specs (``DES-CBC3-MD5``), which are not TLS suites."""
    if openssl_name in TLS13_SUITE_NAMES:
        return openssl_name  # the answer the table gives, without reading the table (~10 ms)
    registry = load_registry()
    found = registry.by_openssl.get(openssl_name) or registry.by_name.get(openssl_name)
    if found is not None:
        return found.name
    code = _local_openssl_codes().get(openssl_name)
    return suite_name(code) if code is not None else None


#: The TLS 1.3 suites (RFC 8446 B.4), whose OpenSSL names are their IANA names: the suite of
#: nearly every handshake today, named without loading the whole table in a fresh process.
TLS13_SUITE_NAMES = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    }
)


def code_for_name(name: str) -> int | None:
    """Code for an IANA or OpenSSL name."""
    registry = load_registry()
    found = registry.by_name.get(name) or registry.by_openssl.get(name)
    if found is not None:
        return found.code
    return _local_openssl_codes().get(name)


@functools.cache
def _local_openssl_codes() -> Mapping[str, int]:
    """Names a newer local OpenSSL may have that the shipped table does not."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    except ssl.SSLError:
        return MappingProxyType({})
    return MappingProxyType({c["name"]: c["id"] & 0xFFFF for c in context.get_ciphers()})


_KX_RANK = {"ECDHE": 0, "DHE": 1}


def preference_key(entry: CipherSuite) -> tuple[int, int, int, int, int]:
    """Sort key that puts suites in the order a careful client would offer them: strongest
    class first, then AEAD before CBC, ECDHE before DHE before the rest, then by code for a
    stable order. The prober offers suites in this order, so a server that follows the client's
    order yields its list best-first too."""
    kx = entry.key_exchange.split("_", 1)[0]
    return (
        entry.strength.rank,
        0 if entry.aead else 1,
        _KX_RANK.get(kx, 2),
        0 if entry.registered else 1,
        entry.code,
    )
