"""Addresses that a stranger wrote into a certificate (AIA "CA Issuers", OCSP): how they are read,
shown and which of them may be fetched at all.

Pure functions, no I/O. A hostile certificate must not make the app send credentials it carries,
reach a scheme other than http(s), or probe the user's router and local network: the address rule
here is decided on the IP address actually dialled, so a name that resolves to a private address
is refused like a private literal.
"""

from __future__ import annotations

import enum
import ipaddress
import urllib.parse
from dataclasses import dataclass

#: Schemes a certificate-supplied address may use, for the first request and for every redirect.
FETCH_SCHEMES = frozenset({"http", "https"})

_DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressKind(enum.StrEnum):
    """Where an IP address lies, as far as "may a certificate send us there" is concerned."""

    PUBLIC = "public"
    PRIVATE = "private"  # RFC 1918, RFC 6598 shared (carrier NAT), IPv6 unique-local
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    #: unspecified, multicast, broadcast, documentation and other reserved ranges: never dialled.
    RESERVED = "reserved"


_KIND_WORDS = {
    AddressKind.PUBLIC: "a public address",
    AddressKind.PRIVATE: "a private-network address",
    AddressKind.LOOPBACK: "an address of this computer (loopback)",
    AddressKind.LINK_LOCAL: "a link-local address",
    AddressKind.RESERVED: "a reserved address",
}

_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598: private in practice
_PRIVATE_V4 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_UNIQUE_LOCAL_V6 = ipaddress.ip_network("fc00::/7")


def address_kind(address: str) -> AddressKind:
    """The kind of an IP address literal; anything that is not one counts as reserved."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return AddressKind.RESERVED
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1 on the wire
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if ip.is_link_local:
        return AddressKind.LINK_LOCAL
    if isinstance(ip, ipaddress.IPv4Address):
        if any(ip in net for net in _PRIVATE_V4) or ip in _SHARED_V4:
            return AddressKind.PRIVATE
    elif ip in _UNIQUE_LOCAL_V6:
        return AddressKind.PRIVATE
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return AddressKind.RESERVED
    return AddressKind.PUBLIC


@dataclass(frozen=True)
class AddressRefusal:
    """Why an address was not dialled, in words for the evidence."""

    address: str
    kind: AddressKind
    site_kind: AddressKind

    def __str__(self) -> str:
        site = "public" if self.site_kind is AddressKind.PUBLIC else _KIND_WORDS[self.site_kind]
        if self.kind is AddressKind.RESERVED:
            return f"{self.address} is {_KIND_WORDS[self.kind]}, never fetched"
        if self.site_kind is AddressKind.PUBLIC:
            return f"{self.address} is {_KIND_WORDS[self.kind]}, and the site is public"
        return f"{self.address} is {_KIND_WORDS[self.kind]}, and the site is at {site}"


def fetch_refusal(address: str, site_address: str | None) -> AddressRefusal | None:
    """None when a certificate-supplied URL may be fetched from ``address``.

    Public addresses are always allowed. Otherwise only an address of the same kind as the
    checked server's: a server on loopback may point to loopback, one on the private network to
    the private network. An unknown site address counts as public, the strictest case.
    """
    kind = address_kind(address)
    if kind is AddressKind.PUBLIC:
        return None
    site_kind = address_kind(site_address) if site_address else AddressKind.PUBLIC
    if kind is AddressKind.RESERVED or kind is not site_kind:
        return AddressRefusal(address, kind, site_kind)
    return None


class UrlProblem(enum.StrEnum):
    NOT_HTTP = "not-http"
    MALFORMED = "malformed"


_URL_PROBLEM_WORDS = {
    UrlProblem.NOT_HTTP: "only http and https addresses are fetched",
    UrlProblem.MALFORMED: "the address is not a valid URL",
}


@dataclass(frozen=True)
class FetchUrl:
    """A certificate-supplied URL reduced to what is dialled: never any userinfo."""

    scheme: str
    host: str  # a name or an IP literal, without brackets
    port: int
    target: str  # path and query, as sent in the request line

    @property
    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.target}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _has_control_or_space(text: str) -> bool:
    return any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def parse_fetch_url(url: str, base: FetchUrl | None = None) -> FetchUrl | UrlProblem:
    """Parse a URL from a certificate, or a redirect's Location relative to ``base``.

    Userinfo (``user:pass@``) is dropped here, before anything is resolved: it is never sent and
    never shown. Spaces and control characters are refused rather than "fixed", because a URL that
    needs fixing came from a certificate nobody should trust to be well-formed.
    """
    if not url or len(url) > 2048 or _has_control_or_space(url) or not url.isascii():
        return UrlProblem.MALFORMED
    if base is not None:
        url = urllib.parse.urljoin(base.display, url)
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in FETCH_SCHEMES:
            return UrlProblem.NOT_HTTP
        host = parts.hostname
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return UrlProblem.MALFORMED
    if not host or not 0 < port < 65536 or not _valid_host(host):
        return UrlProblem.MALFORMED
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return FetchUrl(scheme, host.lower(), port, target)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(
        0 < len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label) for label in labels
    )


def describe_url_problem(problem: UrlProblem) -> str:
    return _URL_PROBLEM_WORDS[problem]


def display_url(url: str) -> str:
    """A certificate-supplied URL as it may be shown: without userinfo, and cut to a sane size.

    Falls back to the text with any ``user:pass@`` cut out when the URL does not parse, so a
    malformed address never leaks the credentials it carries into a report.
    """
    parsed = parse_fetch_url(url)
    if isinstance(parsed, FetchUrl):
        return parsed.display
    scheme, sep, rest = url.partition("://")
    if sep:
        authority, slash, tail = rest.partition("/")
        authority = authority.rpartition("@")[2]
        url = f"{scheme}{sep}{authority}{slash}{tail}"
    return url if len(url) <= 300 else url[:299] + "…"
