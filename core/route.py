"""The path a check takes to the server, decided once before the handshake (design.md, "The path").

A ``Route`` says how the connection is made (directly; a later issue adds proxies beside it),
which resolver was asked and what it answered, and the addresses in the order Happy Eyeballs
tries them. What each address then did, and the comparison handshakes after a cut connection,
are observations too. Everything here is pure: no sockets, no clock; ``causes.py`` decides what
the observations mean.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from core.models import EvidenceValue, NetworkFailure, ProxyObservation, StageItem

DEFAULT_DNS_PORT = 53


class RouteKind(enum.StrEnum):
    """How the connection reaches the server: straight, or through a proxy (which then
    resolves the site's name itself)."""

    DIRECT = "direct"
    PROXY = "proxy"


class ResolverSource(enum.StrEnum):
    """Where the resolver came from: it changes what the user can do about its answer."""

    #: ``--dns-server``: the user chose the server.
    OPTION = "option"
    #: The resolvers in this computer's settings, as dnspython reads them.
    SYSTEM = "system"
    #: The OS resolver (getaddrinfo): the settings could not be read, or the name is one only
    #: the OS knows (the hosts file, ``localhost``, a local-network name).
    SYSTEM_FALLBACK = "system-fallback"


class DnsOutcome(enum.StrEnum):
    ANSWER = "answer"
    #: The name does not exist (NXDOMAIN), said by a server.
    NXDOMAIN = "nxdomain"
    #: The name exists but has no IPv4 or IPv6 address (NODATA).
    NO_ADDRESSES = "no-addresses"
    #: The server answered that it failed (SERVFAIL) or refused (REFUSED).
    SERVER_FAILED = "server-failed"
    TIMEOUT = "timeout"
    #: The resolver cannot be reached at all: no route to it.
    UNREACHABLE = "unreachable"
    NO_RESOLVER = "no-resolver"
    INVALID_NAME = "invalid-name"
    #: The OS resolver's own error, which says no more than its words.
    SYSTEM_ERROR = "system-error"


@dataclass(frozen=True)
class ServerReply:
    """What one DNS server said to one question."""

    server: str
    qtype: str
    outcome: DnsOutcome
    detail: str = ""


@dataclass(frozen=True)
class DnsObservation:
    #: The resolver as a person may read it: "127.0.0.1:5353", "10.0.0.1, 10.0.0.2", ...
    resolver: str
    source: ResolverSource
    outcome: DnsOutcome
    ipv6: tuple[str, ...] = ()
    ipv4: tuple[str, ...] = ()
    #: The server whose reply decided the outcome (the answer, or the NXDOMAIN).
    answered_by: str | None = None
    replies: tuple[ServerReply, ...] = ()
    #: Why the OS resolver was used instead of the settings, where it was.
    note: str = ""
    duration_ms: float = 0.0

    @property
    def addresses(self) -> tuple[str, ...]:
        return happy_eyeballs_order(self.ipv6, self.ipv4)

    @property
    def error(self) -> str | None:
        """The failure in one line, for the stage list; None when addresses came back."""
        if self.outcome is DnsOutcome.ANSWER:
            return None
        details = [r.detail for r in self.replies if r.detail]
        return details[0] if details else self.outcome.value


@dataclass(frozen=True)
class NetworkReach:
    """Whether this computer has a route towards the internet in each family (asked of the
    routing table, nothing sent)."""

    ipv4: bool
    ipv6: bool

    @property
    def any(self) -> bool:
        return self.ipv4 or self.ipv6


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    #: None where resolution was skipped (``--connect``, an IP address as host).
    dns: DnsObservation | None
    #: The addresses to try, in Happy Eyeballs order.
    addresses: tuple[str, ...]
    #: Measured only when the path failed before the handshake: it tells "offline" apart.
    reach: NetworkReach | None = None
    #: The proxy the check goes through (kind ``proxy``), and what it answered.
    proxy: ProxyObservation | None = None


@dataclass(frozen=True)
class AddressAttempt:
    address: str
    #: None: not tried, because an earlier address connected first.
    connects: bool | None
    error: str | None = None
    failure: NetworkFailure | None = None

    @property
    def family(self) -> str:
        return address_family(self.address)


@dataclass(frozen=True)
class SniRetry:
    """One comparison handshake after a cut connection: the same address, another name."""

    #: None: no SNI at all.
    sni: str | None
    got_server_hello: bool
    detail: str = ""

    @property
    def label(self) -> str:
        return "without a name (no SNI)" if self.sni is None else f"with the name {self.sni}"


def address_family(address: str) -> str:
    return "ipv6" if ":" in address else "ipv4"


def happy_eyeballs_order(ipv6: Sequence[str], ipv4: Sequence[str]) -> tuple[str, ...]:
    """RFC 8305 section 4: alternate the families, IPv6 first, each in the resolver's order."""
    out: list[str] = []
    for index in range(max(len(ipv6), len(ipv4))):
        out += [family[index] for family in (ipv6, ipv4) if index < len(family)]
    return tuple(dict.fromkeys(out))


def split_families(addresses: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ipv6 = tuple(a for a in addresses if address_family(a) == "ipv6")
    ipv4 = tuple(a for a in addresses if address_family(a) == "ipv4")
    return ipv6, ipv4


# --------------------------------------------------------------------------- blocking answers

#: Sinkholes that blocking resolvers document: Cisco Umbrella's block pages.
DOCUMENTED_SINKHOLES = frozenset(
    {ipaddress.ip_address(f"146.112.61.{n}") for n in range(104, 111)}
    | {ipaddress.ip_address("::ffff:146.112.61.104")}
)

#: Names whose owners may well point them at this computer: RFC 6761/6762 special-use names,
#: RFC 8375's home network and the private-use names people give their own machines.
_LOCAL_SUFFIXES = (
    "localhost",
    "local",
    "test",
    "internal",
    "home.arpa",
    "lan",
    "localdomain",
    "home",
    "corp",
    "intranet",
    "invalid",
)


def is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    if "." not in name:
        return True
    return any(name == s or name.endswith("." + s) for s in _LOCAL_SUFFIXES)


def is_blocking_address(address: str, host: str) -> bool:
    """0.0.0.0 and ``::`` (Pi-hole and most DNS filters), a documented sinkhole, or this very
    computer for a name that belongs on the internet."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.is_unspecified or ip in DOCUMENTED_SINKHOLES:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_blocking_address(str(ip.ipv4_mapped), host)
    return ip.is_loopback and not is_local_name(host)


def blocking_answers(dns: DnsObservation, host: str) -> tuple[str, ...]:
    """The blocking addresses, when every address in the answer is one; else nothing."""
    answers = dns.ipv4 + dns.ipv6
    if not answers or not all(is_blocking_address(a, host) for a in answers):
        return ()
    return answers


# --------------------------------------------------------------------------- --dns-server


class DnsServerError(ValueError):
    """A DNS server that is not an address and port; the message says what is wrong, and the
    request layer names the option or the field it came from."""


def parse_dns_server(text: str) -> tuple[str, int]:
    """``ADDR``, ``ADDR:PORT``, ``[V6]:PORT`` or a bare IPv6 address. An address, not a name:
    resolving the resolver's name would need a resolver."""
    value = text.strip()
    port = DEFAULT_DNS_PORT
    host = value
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            raise DnsServerError(f"{value[:60]!r} lacks the closing ]")
        host, rest = value[1:close], value[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise DnsServerError(f"unexpected {rest[:20]!r} after the address")
            port = _dns_port(rest[1:])
    elif value.count(":") == 1:
        host, port_text = value.split(":")
        port = _dns_port(port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise DnsServerError(
            f"it takes an IP address with an optional port (such as 9.9.9.9 or "
            f"[2620:fe::fe]:53), not {value[:60]!r}"
        ) from None
    return str(address), port


def _dns_port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise DnsServerError(f"the port must be a number from 1 to 65535, not {text[:20]!r}")
    return int(text)


def format_server(address: str, port: int) -> str:
    if port == DEFAULT_DNS_PORT:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def attempt_items(attempts: Sequence[AddressAttempt]) -> tuple[Mapping[str, EvidenceValue], ...]:
    """Each address and what it did, for the Connect step's line ("::1 refused (...);
    127.0.0.1 connected"). Addresses never tried are left out: an earlier one connected first."""
    items: list[Mapping[str, EvidenceValue]] = []
    for attempt in attempts:
        if attempt.connects is None:
            continue
        if attempt.connects:
            kind = StageItem.ATTEMPT_CONNECTED
        else:
            kind = _FAILURE_ITEMS.get(attempt.failure, StageItem.ATTEMPT_FAILED)
        fact = {"item": kind.value, "address": attempt.address}
        if attempt.error:
            fact["error"] = attempt.error
        items.append(MappingProxyType(fact))
    return tuple(items)


_FAILURE_ITEMS: Mapping[NetworkFailure | None, StageItem] = {
    NetworkFailure.CONNECT_REFUSED: StageItem.ATTEMPT_REFUSED,
    NetworkFailure.CONNECT_TIMEOUT: StageItem.ATTEMPT_NO_ANSWER,
    NetworkFailure.UNREACHABLE: StageItem.ATTEMPT_UNREACHABLE,
    NetworkFailure.CONNECTION_RESET: StageItem.ATTEMPT_RESET,
}


def dns_facts(dns: DnsObservation) -> Mapping[str, EvidenceValue]:
    """The answers and who gave them, for the Find-the-server step: the resolver is left out
    of a failure that already names it ("10.0.0.1 cannot be reached: ...")."""
    by = dns.answered_by or dns.resolver
    if dns.outcome is DnsOutcome.ANSWER:
        return MappingProxyType({"resolver": by, "addresses": (dns.ipv4 + dns.ipv6)[:6]})
    error = dns.error or dns.outcome.value
    named = bool(dns.resolver) and dns.resolver in error
    return MappingProxyType({"error": error, "resolver": None if named else dns.resolver})


def dns_line(dns: DnsObservation) -> str:
    """The answers and who gave them, for the Find-the-server step."""
    by = dns.answered_by or dns.resolver
    if dns.outcome is DnsOutcome.ANSWER:
        return f"{by} answered " + ", ".join((dns.ipv4 + dns.ipv6)[:6])
    error = dns.error or dns.outcome.value
    # Most failures already name the server ("10.0.0.1 cannot be reached: ...").
    return error if dns.resolver and dns.resolver in error else f"{error} (asked {dns.resolver})"
