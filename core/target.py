"""Turning what a person typed or pasted into a Target, or one clear sentence saying why not.

Accepted: ``host``, ``host:port``, ``[v6]:port``, bare IPv6, IDN names (sent as punycode), and
pasted URLs such as ``https://host:8443/path?q#frag`` (path, query and fragment are ignored).
Services beyond the web come as URLs (``smtp://mail.example:587``, ``imaps://``, ``ldap://``...,
see ``SERVICES``), as ``--starttls PROTO`` with a plain ``host:port``, or from a well-known port
alone (``mail.example:587``); the Target says which service and where that came from.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from core.models import ServiceSource, StarttlsProtocol, Target

_SCHEME_PORTS = {"https": 443, "wss": 443, "ldaps": 636, "imaps": 993, "pop3s": 995, "smtps": 465}


@dataclass(frozen=True)
class Service:
    """A service a URL scheme names: its usual port, and the protocol that asks it for TLS
    (None: TLS from the first byte, "implicit TLS")."""

    port: int
    starttls: StarttlsProtocol | None


#: The services beyond the web (issue 17), by URL scheme. ``postgresql://`` is libpq's spelling.
SERVICES: Mapping[str, Service] = MappingProxyType(
    {
        "smtp": Service(25, StarttlsProtocol.SMTP),
        "smtps": Service(465, None),
        "imap": Service(143, StarttlsProtocol.IMAP),
        "imaps": Service(993, None),
        "pop3": Service(110, StarttlsProtocol.POP3),
        "pop3s": Service(995, None),
        "ftp": Service(21, StarttlsProtocol.FTP),
        "xmpp": Service(5222, StarttlsProtocol.XMPP),
        "ldap": Service(389, StarttlsProtocol.LDAP),
        "ldaps": Service(636, None),
        "postgres": Service(5432, StarttlsProtocol.POSTGRES),
        "postgresql": Service(5432, StarttlsProtocol.POSTGRES),
    }
)
#: Each protocol's own name, as its users write it (for evidence and the stage line).
PROTOCOL_NAMES: Mapping[StarttlsProtocol, str] = MappingProxyType(
    {
        StarttlsProtocol.SMTP: "SMTP",
        StarttlsProtocol.IMAP: "IMAP",
        StarttlsProtocol.POP3: "POP3",
        StarttlsProtocol.FTP: "FTP",
        StarttlsProtocol.XMPP: "XMPP",
        StarttlsProtocol.LDAP: "LDAP",
        StarttlsProtocol.POSTGRES: "PostgreSQL",
    }
)
#: A STARTTLS service's sibling with TLS from the first byte, where there is one: what to try
#: when a server does not offer STARTTLS on the usual port.
IMPLICIT_TLS_SIBLING: Mapping[str, str] = MappingProxyType(
    {"smtp": "smtps", "imap": "imaps", "pop3": "pop3s", "ldap": "ldaps"}
)
#: Services a mail app uses: their findings offer the mail-app settings first.
MAIL_SERVICES = frozenset({"smtp", "smtps", "imap", "imaps", "pop3", "pop3s"})

#: Well-known ports that name their service when the user types only ``host:port`` (sslyze's
#: automatic choice, plus 587, mail submission): the report says the protocol was inferred.
PORT_SERVICES: Mapping[int, str] = MappingProxyType(
    {
        25: "smtp",
        587: "smtp",
        465: "smtps",
        143: "imap",
        993: "imaps",
        110: "pop3",
        995: "pop3s",
        21: "ftp",
        5222: "xmpp",
        389: "ldap",
        636: "ldaps",
        5432: "postgres",
    }
)
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
MAX_INPUT = 2048
_IDEOGRAPHIC_DOTS = re.compile("[\u3002\uff0e\uff61]")


class TargetProblem(enum.StrEnum):
    """Why a text names no server; the catalogue's ``targets`` section words each."""

    PORT_NOT_NUMBER = "port_not_number"
    PORT_OUT_OF_RANGE = "port_out_of_range"
    HOST_EMPTY = "host_empty"
    EMPTY_LABEL = "empty_label"
    BAD_INTERNATIONAL_NAME = "bad_international_name"
    LABEL_TOO_LONG = "label_too_long"
    BAD_NAME = "bad_name"
    NAME_TOO_LONG = "name_too_long"
    BRACKET_NOT_CLOSED = "bracket_not_closed"
    NOT_IPV6_IN_BRACKETS = "not_ipv6_in_brackets"
    TEXT_AFTER_IPV6 = "text_after_ipv6"
    BRACKET_NOT_OPENED = "bracket_not_opened"
    BAD_IP_ADDRESS = "bad_ip_address"
    INPUT_TOO_LONG = "input_too_long"
    NO_HOST = "no_host"
    CONTROL_CHARACTERS = "control_characters"
    LEADING_DASH = "leading_dash"
    PLAIN_HTTP = "plain_http"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    URL_WITHOUT_HOST = "url_without_host"
    SPACES = "spaces"
    TWO_PORTS = "two_ports"
    CONNECT_EMPTY = "connect_empty"
    URL_UNREADABLE = "url_unreadable"
    UNKNOWN_STARTTLS = "unknown_starttls"
    STARTTLS_CONFLICT = "starttls_conflict"


class TargetError(ValueError):
    """The input cannot name a server: what is wrong, and the facts (the input quoted
    safely) that the catalogue's sentence shows. ``str()`` is that sentence."""

    def __init__(self, kind: TargetProblem, **facts: str) -> None:
        super().__init__(kind)
        self.kind = kind
        self.facts: Mapping[str, str] = MappingProxyType(facts)

    def __str__(self) -> str:
        from core.catalogue import load_catalogue

        return load_catalogue().target_text(self.kind, self.facts)


def parse_port(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        raise TargetError(TargetProblem.PORT_NOT_NUMBER, shown=_show(text))
    port = int(text)
    if not 1 <= port <= 65535:
        raise TargetError(TargetProblem.PORT_OUT_OF_RANGE, port=str(port))
    return port


def _show(text: str) -> str:
    """Quote user input for an error message without letting control characters through."""
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text[:60])
    return repr(shown + ("…" if len(text) > 60 else ""))


def _idna(host: str) -> str:
    """Host name to its ASCII (punycode) form, label by label, with the rules of DNS."""
    host = _IDEOGRAPHIC_DOTS.sub(".", host)  # 。．｡ separate labels too (UTS #46)
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise TargetError(TargetProblem.HOST_EMPTY)
    labels = host.split(".")
    out: list[str] = []
    for label in labels:
        if not label:
            raise TargetError(TargetProblem.EMPTY_LABEL, shown=_show(host))
        if label.isascii():
            ascii_label = label.lower()
        else:
            try:
                ascii_label = label.encode("idna").decode("ascii")
            except UnicodeError:
                raise TargetError(TargetProblem.BAD_INTERNATIONAL_NAME, shown=_show(host)) from None
        if not _LABEL.match(ascii_label):
            if len(ascii_label) > 63:
                raise TargetError(TargetProblem.LABEL_TOO_LONG)
            raise TargetError(TargetProblem.BAD_NAME, shown=_show(host))
        out.append(ascii_label)
    name = ".".join(out)
    if len(name) > 253:
        raise TargetError(TargetProblem.NAME_TOO_LONG)
    return name


def _is_ipv6(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text.split("%", 1)[0]), ipaddress.IPv6Address)
    except ValueError:
        return False


def _split_host_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise TargetError(TargetProblem.BRACKET_NOT_CLOSED, shown=_show(text))
        host, rest = text[1:end], text[end + 1 :]
        if host and not _is_ipv6(host):
            raise TargetError(TargetProblem.NOT_IPV6_IN_BRACKETS, shown=_show(host))
        if rest and not rest.startswith(":"):
            raise TargetError(TargetProblem.TEXT_AFTER_IPV6, shown=_show(text))
        return host, parse_port(rest[1:]) if rest else None
    if "]" in text:
        raise TargetError(TargetProblem.BRACKET_NOT_OPENED, shown=_show(text))
    if text.count(":") > 1:  # a bare IPv6 literal
        return text, None
    if ":" in text:
        host, _, port = text.partition(":")
        return host, parse_port(port)
    return text, None


def _normalise_host(host: str) -> tuple[str, str | None]:
    """Return (display host, SNI). IP literals get no SNI."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return str(ip) if "%" not in host else host, None
    ascii_name = _idna(host)
    if all(part.isdigit() for part in ascii_name.split(".")):
        raise TargetError(TargetProblem.BAD_IP_ADDRESS, shown=_show(host))
    display = host.rstrip(".") if not host.isascii() else ascii_name
    return display, ascii_name


def parse_target(text: str, port: int | None = None, starttls: str | None = None) -> Target:
    """Parse the user's input; ``port`` (from --port) applies when the input names none, and
    ``starttls`` (``--starttls PROTO``) asks for that protocol's upgrade first. Without either, a
    service scheme (``smtp://``) or a well-known port (587) chooses the service."""
    default_port = 443
    if starttls is not None and starttls.strip():
        default_port = SERVICES[parse_starttls(starttls).value].port
    target = _parse_address(text, port, default_port)
    return _with_service(target, _scheme_of(text), starttls)


def _scheme_of(text: str) -> str | None:
    raw = text.strip()
    return raw.split("://", 1)[0].lower() if "://" in raw else None


def parse_starttls(text: str) -> StarttlsProtocol:
    name = text.strip().lower()
    name = "postgres" if name == "postgresql" else name
    try:
        return StarttlsProtocol(name)
    except ValueError:
        known = ", ".join(p.value for p in StarttlsProtocol)
        raise TargetError(TargetProblem.UNKNOWN_STARTTLS, shown=_show(text), known=known) from None


def _with_service(target: Target, scheme: str | None, starttls: str | None) -> Target:
    if starttls is not None and starttls.strip():
        protocol = parse_starttls(starttls)
        if scheme is not None and scheme not in ("https", "wss"):
            named = SERVICES[scheme].starttls if scheme in SERVICES else None
            if named is not protocol:
                raise TargetError(
                    TargetProblem.STARTTLS_CONFLICT, scheme=f"{scheme}://", protocol=protocol.value
                )
        elif scheme is not None:
            raise TargetError(
                TargetProblem.STARTTLS_CONFLICT, scheme=f"{scheme}://", protocol=protocol.value
            )
        return replace(
            target, service=protocol.value, starttls=protocol, service_source=ServiceSource.OPTION
        )
    if scheme is not None:
        service = SERVICES.get(scheme)
        if service is None:
            return target  # https:// and wss://: the web
        name = "postgres" if scheme == "postgresql" else scheme
        return replace(
            target, service=name, starttls=service.starttls, service_source=ServiceSource.SCHEME
        )
    inferred = PORT_SERVICES.get(target.port)
    if inferred is None:
        return target
    return replace(
        target,
        service=inferred,
        starttls=SERVICES[inferred].starttls,
        service_source=ServiceSource.PORT,
    )


def _parse_address(text: str, port: int | None, default_port: int) -> Target:
    if len(text) > MAX_INPUT:
        raise TargetError(TargetProblem.INPUT_TOO_LONG)
    raw = text.strip()
    if not raw:
        raise TargetError(TargetProblem.NO_HOST)
    if any(not ch.isprintable() for ch in raw):
        raise TargetError(TargetProblem.CONTROL_CHARACTERS, shown=_show(raw))
    if raw.startswith("-"):
        raise TargetError(TargetProblem.LEADING_DASH, shown=_show(raw))
    url_port: int | None = None
    scheme_port = default_port
    if "://" in raw:
        scheme = raw.split("://", 1)[0].lower()
        if scheme not in _SCHEME_PORTS and scheme not in SERVICES:
            if scheme == "http":
                raise TargetError(TargetProblem.PLAIN_HTTP)
            raise TargetError(TargetProblem.UNSUPPORTED_SCHEME, scheme=f"{scheme}://")
        try:
            parsed = urllib.parse.urlsplit(raw)
        except ValueError:  # "Invalid IPv6 URL": brackets that do not hold an IPv6 address
            netloc = re.split(r"[/?#]", raw.split("://", 1)[1], maxsplit=1)[0]
            host, _ = _split_host_port(netloc.rsplit("@", 1)[-1])  # names a bracket problem
            kind = TargetProblem.URL_WITHOUT_HOST if not host else TargetProblem.URL_UNREADABLE
            raise TargetError(kind, shown=_show(raw)) from None
        netloc = parsed.netloc.rsplit("@", 1)[-1]  # drop user:password@
        if not netloc:
            raise TargetError(TargetProblem.URL_WITHOUT_HOST, shown=_show(raw))
        host, url_port = _split_host_port(netloc)
        scheme_port = SERVICES[scheme].port if scheme in SERVICES else _SCHEME_PORTS[scheme]
    else:
        # Forgive a pasted "host/path" without a scheme.
        host_part = re.split(r"[/?#]", raw, maxsplit=1)[0]
        host, url_port = _split_host_port(host_part)
    if " " in host:
        raise TargetError(TargetProblem.SPACES, shown=_show(host))
    display, sni = _normalise_host(host)
    if port is not None and url_port is not None and port != url_port:
        raise TargetError(TargetProblem.TWO_PORTS, first=str(url_port), second=str(port))
    final_port = url_port if url_port is not None else (port if port is not None else scheme_port)
    return Target(host=display, port=final_port, sni=sni)


def parse_connect(text: str, default_port: int) -> tuple[str, int]:
    """``--connect ADDR[:PORT]``: where to open the TCP connection instead of resolving HOST."""
    raw = text.strip()
    if not raw:
        raise TargetError(TargetProblem.CONNECT_EMPTY)
    host, port = _split_host_port(raw)
    address, _ = _normalise_host(host)
    return address, port if port is not None else default_port


def with_connect(target: Target, connect: str | None) -> Target:
    if connect is None:
        return target
    address, port = parse_connect(connect, target.port)
    return replace(target, connect_address=address, connect_port=port)
