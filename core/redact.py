"""``--redact``: a report that can leave the company without naming what is inside it.

Internal host names (``*.local``, ``*.lan``, ``*.internal``, ``*.corp``, ``*.home`` and the like,
and single-label names such as ``intranet``) and addresses that are not on the public internet
(private, loopback, link-local, carrier-grade NAT, unique-local IPv6 ...) become stable
placeholders: the same name is ``host-1`` everywhere in one report, the next one ``host-2``;
addresses become ``private-address-1``, ``loopback-address-1``, ``link-local-address-1``.
Public names and addresses stay, because a support agent needs them.

The report itself is redacted, before any renderer sees it, so every renderer shows the same
placeholders and none can forget a field: every string in the report is passed through, found by
walking the dataclasses, so a field added later is covered too. Single-label names can only be
told apart from ordinary words where a host name is expected (the target, certificate names); once
seen there, they are replaced in free text as well. A certificate's PEM is withheld when the
certificate names anything internal, since its base64 would still carry the name.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.models import CertificateInfo, CheckReport

__all__ = [
    "INTERNAL_SUFFIXES",
    "Redactor",
    "address_kind",
    "is_internal_name",
    "redact_report",
]

#: Name suffixes that are never delegated on the public internet (RFC 6762, RFC 8375, ICANN's
#: name-collision list) and that companies use for inside names.
INTERNAL_SUFFIXES = (
    "local",
    "lan",
    "internal",
    "intranet",
    "corp",
    "home",
    "home.arpa",
    "localdomain",
    "localhost",
    "private",
)

#: What a withheld PEM says instead (the fingerprints are still shown).
PEM_WITHHELD = "(withheld by --redact: this certificate names internal hosts or addresses)"

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_TOKEN = re.compile(
    # IPv6 (validated below; "12:30:00" and the like fail validation and stay as they are)
    r"(?P<v6>(?<![0-9A-Za-z:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[0-9A-Za-z_.-]+)?"
    r"(?![0-9A-Za-z:]))"
    # IPv4
    r"|(?P<v4>(?<![0-9A-Za-z.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?[0-9A-Za-z]))"
    # host names, with an optional wildcard label
    rf"|(?P<name>(?<![A-Za-z0-9_.*-])(?:\*\.)?{_LABEL}(?:\.{_LABEL})*)"
)
_DN_CN = re.compile(r"(?:^|,)\s*CN=([^,+]+)", re.IGNORECASE)
_PEM_BODY = re.compile(r"-----BEGIN [A-Z ]+-----(.*?)-----END [A-Z ]+-----", re.DOTALL)


def _plain(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    return name[2:] if name.startswith("*.") else name


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_internal_name(name: str) -> bool:
    """True for a single-label name or one under an internal suffix; False for IP literals."""
    plain = _plain(name)
    if not plain or _is_ip(plain):
        return False
    if "." not in plain:
        return True
    return any(plain == s or plain.endswith("." + s) for s in INTERNAL_SUFFIXES)


def address_kind(text: str) -> str | None:
    """The kind of a non-public address ("loopback", "link-local", "private"); else None."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_global or address.is_multicast:
        return None
    return "private"


class Redactor:
    """Hands out stable placeholders for one report. ``learn`` registers names seen where a host
    name is expected, so that single-label names are also replaced in free text."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._single_labels: set[str] = set()

    @property
    def replaced(self) -> Mapping[str, str]:
        """Original (lower-cased) → placeholder, for tests and counts; never rendered."""
        return MappingProxyType(self._placeholders)

    def learn(self, name: str) -> None:
        plain = _plain(name)
        if plain and "." not in plain and not _is_ip(plain) and re.fullmatch(_LABEL, plain):
            self._single_labels.add(plain)

    def _placeholder(self, kind: str, key: str) -> str:
        found = self._placeholders.get(key)
        if found is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            found = f"{kind}-{self._counts[kind]}"
            self._placeholders[key] = found
        return found

    def address(self, text: str) -> str:
        kind = address_kind(text)
        if kind is None:
            return text
        canonical = str(ipaddress.ip_address(text.split("%", 1)[0]))
        return self._placeholder(f"{kind}-address", canonical)

    def name(self, text: str) -> str:
        plain = _plain(text)
        internal = is_internal_name(text) and ("." in plain or plain in self._single_labels)
        if not internal:
            return text
        wildcard = "*." if text.strip().startswith("*.") else ""
        return wildcard + self._placeholder("host", plain)

    def text(self, text: str) -> str:
        """Every internal name and non-public address in ``text`` replaced."""
        return _TOKEN.sub(self._replace, text)

    def finds_anything(self, text: str) -> bool:
        return self.text(text) != text

    def _replace(self, match: re.Match[str]) -> str:
        token = match.group(0)
        if match.group("v6") is not None or match.group("v4") is not None:
            return self.address(token) if _is_ip(token) else token
        return self.name(token)


# --------------------------------------------------------------------------- the report


def _learn_names(report: CheckReport, redactor: Redactor) -> None:
    target = report.target
    redactor.learn(target.host)
    if target.sni:
        redactor.learn(target.sni)
    for cert in report.certificates:
        for san in cert.san:
            redactor.learn(san)
        for dn in (cert.subject, cert.issuer):
            for cn in _DN_CN.findall(dn):
                redactor.learn(cn.strip())
    for finding in report.findings:
        host = finding.evidence.get("host")
        if isinstance(host, str):
            redactor.learn(host)


def _pem_names_internal(pem: str, redactor: Redactor) -> bool:
    """DER keeps names as plain ASCII (IA5String, PrintableString, UTF8String), so the decoded
    body, read as Latin-1, shows any internal name or dotted address it holds."""
    for body in _PEM_BODY.findall(pem):
        try:
            der = base64.b64decode("".join(body.split()), validate=False)
        except ValueError:
            return True
        if redactor.finds_anything(der.decode("latin-1")):
            return True
    return False


def _walk(value: Any, redactor: Redactor) -> Any:
    """A copy of ``value`` with every string redacted (enums, numbers and times as they are)."""
    if value is None or isinstance(value, enum.Enum | bool | int | float | datetime | Path):
        # Paths (--ca-file) are local and no renderer shows them.
        return value
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, bytes):
        # Raw bytes (DER, a server's first bytes) cannot be edited in place without corrupting
        # them: bytes that name anything internal are dropped.
        return b"" if redactor.finds_anything(value.decode("latin-1")) else value
    if isinstance(value, CertificateInfo):
        return _certificate(value, redactor)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _walk(getattr(value, f.name), redactor)
            for f in dataclasses.fields(value)
            if f.init and f.name != "client_credentials"
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_walk(item, redactor) for item in value)
    if isinstance(value, Mapping):
        return MappingProxyType({key: _walk(item, redactor) for key, item in value.items()})
    return value


def _certificate(cert: CertificateInfo, redactor: Redactor) -> CertificateInfo:
    changes = {
        f.name: _walk(getattr(cert, f.name), redactor)
        for f in dataclasses.fields(cert)
        if f.name != "pem"
    }
    redacted = dataclasses.replace(cert, **changes)
    if redacted != cert or _pem_names_internal(cert.pem, redactor):
        redacted = dataclasses.replace(redacted, pem=PEM_WITHHELD)
    return redacted


def redact_report(report: CheckReport) -> tuple[CheckReport, Redactor]:
    """The report with internal names and non-public addresses replaced, and the redactor
    (whose ``replaced`` tells how many were). Raw bytes that name anything internal (entries of
    ``handshake.chain_der``, ``first_bytes``) become empty."""
    redactor = Redactor()
    _learn_names(report, redactor)
    # The target first, so that it is host-1 (and its address the first address).
    _walk(report.target, redactor)
    redacted: CheckReport = _walk(report, redactor)
    return redacted, redactor
