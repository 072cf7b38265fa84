"""Turning what a person typed or pasted into a Target, or one clear sentence saying why not.

Accepted: ``host``, ``host:port``, ``[v6]:port``, bare IPv6, IDN names (sent as punycode), and
pasted URLs such as ``https://host:8443/path?q#frag`` (path, query and fragment are ignored).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

from core.models import Target

_SCHEME_PORTS = {"https": 443, "wss": 443, "ldaps": 636, "imaps": 993, "pop3s": 995, "smtps": 465}
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
MAX_INPUT = 2048
_IDEOGRAPHIC_DOTS = re.compile("[\u3002\uff0e\uff61]")


class TargetError(ValueError):
    """The input cannot name a server; the message is one sentence for the user."""


def parse_port(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        raise TargetError(f"The port must be a number from 1 to 65535, not {_show(text)}.")
    port = int(text)
    if not 1 <= port <= 65535:
        raise TargetError(f"The port must be from 1 to 65535; {port} is out of range.")
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
        raise TargetError("The host name is empty.")
    labels = host.split(".")
    out: list[str] = []
    for label in labels:
        if not label:
            raise TargetError(f"The host name {_show(host)} has an empty part (two dots in a row).")
        if label.isascii():
            ascii_label = label.lower()
        else:
            try:
                ascii_label = label.encode("idna").decode("ascii")
            except UnicodeError:
                raise TargetError(
                    f"{_show(host)} is not a valid international host name."
                ) from None
        if not _LABEL.match(ascii_label):
            if len(ascii_label) > 63:
                raise TargetError("A part of the host name is longer than 63 characters.")
            raise TargetError(
                f"{_show(host)} is not a valid host name (letters, digits, hyphens and dots only)."
            )
        out.append(ascii_label)
    name = ".".join(out)
    if len(name) > 253:
        raise TargetError("The host name is longer than 253 characters.")
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
            raise TargetError(f"{_show(text)} opens an IPv6 bracket '[' but never closes it.")
        host, rest = text[1:end], text[end + 1 :]
        if host and not _is_ipv6(host):
            raise TargetError(
                f"Brackets [ ] hold an IPv6 address, and {_show(host)} is not one; "
                "write a host name or an IPv4 address without brackets."
            )
        if rest and not rest.startswith(":"):
            raise TargetError(f"Unexpected text after the IPv6 address in {_show(text)}.")
        return host, parse_port(rest[1:]) if rest else None
    if "]" in text:
        raise TargetError(f"{_show(text)} closes an IPv6 bracket ']' that was never opened.")
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
        raise TargetError(f"{_show(host)} looks like an IP address but is not a valid one.")
    display = host.rstrip(".") if not host.isascii() else ascii_name
    return display, ascii_name


def parse_target(text: str, port: int | None = None) -> Target:
    """Parse the user's input; ``port`` (from --port) applies when the input names none."""
    if len(text) > MAX_INPUT:
        raise TargetError("That is too long to be a host name or URL.")
    raw = text.strip()
    if not raw:
        raise TargetError("Enter a host name, such as example.com, or paste a URL.")
    if any(not ch.isprintable() for ch in raw):
        raise TargetError(f"The host {_show(raw)} contains control characters.")
    if raw.startswith("-"):
        raise TargetError(f"{_show(raw)} is not a host name (it starts with a dash).")
    url_port: int | None = None
    scheme_port = 443
    if "://" in raw:
        scheme = raw.split("://", 1)[0].lower()
        if scheme not in _SCHEME_PORTS:
            if scheme == "http":
                raise TargetError(
                    "That is a plain http:// address, which does not use TLS; "
                    "use https:// or give the host name."
                )
            raise TargetError(
                f"{scheme}:// addresses are not supported; use https:// or a host name."
            )
        try:
            parsed = urllib.parse.urlsplit(raw)
        except ValueError:  # "Invalid IPv6 URL": brackets that do not hold an IPv6 address
            netloc = re.split(r"[/?#]", raw.split("://", 1)[1], maxsplit=1)[0]
            host, _ = _split_host_port(netloc.rsplit("@", 1)[-1])  # names a bracket problem
            what = "no host name" if not host else "an address that cannot be read"
            raise TargetError(f"{_show(raw)} has {what}.") from None
        netloc = parsed.netloc.rsplit("@", 1)[-1]  # drop user:password@
        if not netloc:
            raise TargetError(f"{_show(raw)} has no host name.")
        host, url_port = _split_host_port(netloc)
        scheme_port = _SCHEME_PORTS[scheme]
    else:
        # Forgive a pasted "host/path" without a scheme.
        host_part = re.split(r"[/?#]", raw, maxsplit=1)[0]
        host, url_port = _split_host_port(host_part)
    if " " in host:
        raise TargetError(f"{_show(host)} contains spaces; a host name has none.")
    display, sni = _normalise_host(host)
    if port is not None and url_port is not None and port != url_port:
        raise TargetError(f"Two different ports were given: {url_port} and {port}.")
    final_port = url_port if url_port is not None else (port if port is not None else scheme_port)
    return Target(host=display, port=final_port, sni=sni)


def parse_connect(text: str, default_port: int) -> tuple[str, int]:
    """``--connect ADDR[:PORT]``: where to open the TCP connection instead of resolving HOST."""
    raw = text.strip()
    if not raw:
        raise TargetError("--connect needs an address, such as 127.0.0.1 or 127.0.0.1:8443.")
    host, port = _split_host_port(raw)
    address, _ = _normalise_host(host)
    return address, port if port is not None else default_port


def with_connect(target: Target, connect: str | None) -> Target:
    if connect is None:
        return target
    address, port = parse_connect(connect, target.port)
    return Target(
        host=target.host,
        port=target.port,
        connect_address=address,
        connect_port=port,
        sni=target.sni,
    )
