"""A TCP path to the site through a proxy: HTTP ``CONNECT`` (with Basic credentials) or SOCKS5
(RFC 1928, with RFC 1929 user and password).

What the proxy answers is an observation, not an exception: it did not answer, it wants
credentials (and which scheme), it refused this site (its status line and its own words, kept as
untrusted text), it could not reach the site, or it spoke garbage. On success the socket is
connected to the site through the proxy, ready for the TLS handshake, exactly like a direct one.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass

from core.budget import Budget
from core.models import NetworkFailure, ProxyEndpoint, ProxyScheme
from core.models import ProxyFailure as TunnelFailure
from core.probe import net
from core.probe.stream import BoundedStream, StreamError, StreamProblem

__all__ = ["ProxyEndpoint", "ProxyScheme", "TunnelFailure", "TunnelOutcome", "open_tunnel"]

#: A proxy's answer to CONNECT is a status line and a few headers.
MAX_PROXY_HEAD = 8 * 1024
#: How much of a refusal page is kept as the proxy's own words.
MAX_PROXY_WORDS = 2048


@dataclass(frozen=True)
class TunnelOutcome:
    sock: socket.socket | None
    proxy: str  # display form, no credentials
    failure: TunnelFailure | None
    detail: str  # the facts, for the evidence
    status: int | None = None  # the HTTP status or the SOCKS reply code
    auth_schemes: tuple[str, ...] = ()  # what a 407 asks for: Basic, NTLM, Negotiate, ...
    proxy_words: str | None = None  # the proxy's own text (untrusted; escape where shown)
    proxy_address: str | None = None
    duration_ms: float = 0.0


class _Refused(Exception):
    def __init__(self, outcome_kw: dict[str, object]) -> None:
        super().__init__(str(outcome_kw.get("detail")))
        self.kw = outcome_kw


def open_tunnel(
    proxy: ProxyEndpoint,
    host: str,
    port: int,
    budget: Budget,
    *,
    resolver: net.Resolver | None = None,
    plain: bool = False,
) -> TunnelOutcome:
    """Connect to ``host:port`` through ``proxy`` within the budget's step timeout.

    ``plain``: only connect to an HTTP proxy, for a plain-http request sent to it in absolute
    form. Only :class:`core.budget.Cancelled` is raised; every other end is an outcome.
    """
    started = time.monotonic()

    def done(**kw: object) -> TunnelOutcome:
        kw.setdefault("proxy", proxy.display)
        return TunnelOutcome(duration_ms=(time.monotonic() - started) * 1000, **kw)  # type: ignore[arg-type]

    addresses = _proxy_addresses(proxy, budget, resolver)
    if isinstance(addresses, str):
        return done(sock=None, failure=TunnelFailure.PROXY_UNREACHABLE, detail=addresses)
    connected = net.connect(addresses, proxy.port, budget)
    if connected.sock is None:
        return done(
            sock=None,
            failure=TunnelFailure.PROXY_UNREACHABLE,
            detail=f"{proxy.display} does not answer ({connected.detail})",
            proxy_address=connected.address,
        )
    if plain:
        return done(
            sock=connected.sock, failure=None, detail="connected", proxy_address=connected.address
        )
    stream = BoundedStream(connected.sock, budget, budget.step_deadline())
    try:
        if proxy.scheme is ProxyScheme.HTTP:
            _http_connect(stream, proxy, host, port)
        else:
            _socks5_connect(stream, proxy, host, port, budget, resolver)
        if stream.buffer:
            raise _Refused(
                {
                    "failure": TunnelFailure.MALFORMED,
                    "detail": "the proxy sent data before the site could speak",
                }
            )
    except _Refused as refused:
        stream.close()
        return done(sock=None, proxy_address=connected.address, **refused.kw)
    except StreamError as exc:
        stream.close()
        if exc.problem is StreamProblem.TIMED_OUT:
            return done(
                sock=None,
                failure=TunnelFailure.TIMED_OUT,
                detail=f"{proxy.display} took the connection and did not answer within "
                f"{budget.step_timeout:g} s",
                proxy_address=connected.address,
            )
        words = {
            StreamProblem.CLOSED: "closed the connection without an answer",
            StreamProblem.FAILED: f"broke the connection ({exc.detail})",
            StreamProblem.TOO_LONG: "sent an answer too long to be one",
        }[exc.problem]
        failure = (
            TunnelFailure.MALFORMED
            if exc.problem is StreamProblem.TOO_LONG
            else TunnelFailure.PROXY_UNREACHABLE
        )
        return done(
            sock=None,
            failure=failure,
            detail=f"{proxy.display} {words}",
            proxy_address=connected.address,
        )
    except BaseException:
        stream.close()
        raise
    return done(
        sock=stream.sock,
        failure=None,
        detail="tunnel open",
        proxy_address=connected.address,
    )


def _proxy_addresses(
    proxy: ProxyEndpoint, budget: Budget, resolver: net.Resolver | None
) -> tuple[str, ...] | str:
    if net.is_ip_literal(proxy.host):
        return (proxy.host,)
    answer = net.resolve(proxy.host, proxy.port, budget, resolver)
    if not answer.addresses:
        return f"the proxy's name {proxy.host} does not resolve ({answer.error})"
    return answer.addresses


# --------------------------------------------------------------------------- HTTP CONNECT


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _http_connect(stream: BoundedStream, proxy: ProxyEndpoint, host: str, port: int) -> None:
    authority = _authority(host, port)
    lines = [
        f"CONNECT {authority} HTTP/1.1",
        f"Host: {authority}",
        "User-Agent: HandshakeDoctor",
        "Proxy-Connection: keep-alive",
    ]
    if proxy.has_credentials:
        lines.append(f"Proxy-Authorization: {basic_credentials(proxy)}")
    stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
    try:
        head = stream.read_until(b"\r\n\r\n", MAX_PROXY_HEAD)
    except StreamError as exc:
        if exc.problem is StreamProblem.CLOSED and stream.buffer:
            raise _Refused(_malformed(stream.buffer)) from None
        raise
    text = head.decode("iso-8859-1")
    status_line, *header_lines = text.split("\r\n")
    status = _status_code(status_line)
    if status is None:
        raise _Refused(_malformed(head))
    headers = [line.partition(":") for line in header_lines]
    if 200 <= status < 300:
        return
    words = _words(stream, headers)
    shown = _printable(status_line, 200)
    if status in (401, 407):  # tinyproxy answers wrong credentials with 401
        schemes = tuple(
            value.strip().split(" ", 1)[0]
            for name, _, value in headers
            if name.strip().lower() in ("proxy-authenticate", "www-authenticate") and value.strip()
        )
        raise _Refused(
            {
                "failure": TunnelFailure.AUTH_REQUIRED,
                "detail": f"the proxy answered {shown}",
                "status": status,
                "auth_schemes": schemes,
                "proxy_words": words,
            }
        )
    # 502, 503, 504: the proxy's own connection or DNS lookup for the site failed.
    failure = TunnelFailure.SITE_UNREACHABLE if status in (502, 503, 504) else TunnelFailure.REFUSED
    raise _Refused(
        {
            "failure": failure,
            "detail": f"the proxy answered {shown}",
            "status": status,
            "proxy_words": words,
        }
    )


def basic_credentials(proxy: ProxyEndpoint) -> str:
    """The ``Proxy-Authorization`` value for the proxy's user and password (Basic)."""
    pair = f"{proxy.username}:{proxy.password or ''}".encode()
    return f"Basic {base64.b64encode(pair).decode('ascii')}"


def _status_code(line: str) -> int | None:
    version, _, rest = line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        return None
    return int(code)


def _words(stream: BoundedStream, headers: list[tuple[str, str, str]]) -> str | None:
    """The refusal page's text, as far as it arrives promptly: the proxy's reason, untrusted."""
    length = next((v.strip() for n, _, v in headers if n.strip().lower() == "content-length"), None)
    cap = MAX_PROXY_WORDS
    if length is not None and length.isdigit():
        cap = min(cap, int(length))
    body = stream.read_available(cap, 0.3) if cap else b""
    text = readable_words(body.decode("utf-8", errors="replace"))
    return text or None


def readable_words(page: str, limit: int = 300) -> str:
    """A refusal page as the words a person reads on it: a proxy's HTML page (its body, tags
    and entities gone) or its plain text, in one line. Still a stranger's text: the renderers
    escape it."""
    import html
    import re

    text = page
    if "<" in text and ">" in text:
        body = re.search(r"<body[^>]*>(.*?)(</body>|$)", text, re.S | re.I)
        text = body.group(1) if body else text
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S | re.I)
        text = re.sub(r"<[^>]*>", " ", text)
        text = html.unescape(text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _printable(text: str, limit: int) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean[:limit]


def _malformed(data: bytes) -> dict[str, object]:
    return {
        "failure": TunnelFailure.MALFORMED,
        "detail": "the proxy's answer is not HTTP",
        "proxy_words": data[:MAX_PROXY_WORDS].decode("utf-8", errors="replace") or None,
    }


# --------------------------------------------------------------------------- SOCKS5

_SOCKS_REPLIES = {
    1: (TunnelFailure.SITE_UNREACHABLE, "a general failure of the proxy"),
    2: (TunnelFailure.REFUSED, "not allowed by the proxy's rules"),
    3: (TunnelFailure.SITE_UNREACHABLE, "the network is unreachable from the proxy"),
    4: (TunnelFailure.SITE_UNREACHABLE, "the site is unreachable from the proxy"),
    5: (TunnelFailure.SITE_UNREACHABLE, "the site refused the proxy's connection"),
    6: (TunnelFailure.SITE_UNREACHABLE, "the proxy's connection to the site timed out"),
    7: (TunnelFailure.REFUSED, "the proxy does not support CONNECT"),
    8: (TunnelFailure.REFUSED, "the proxy does not support this kind of address"),
}


def _socks5_connect(
    stream: BoundedStream,
    proxy: ProxyEndpoint,
    host: str,
    port: int,
    budget: Budget,
    resolver: net.Resolver | None,
) -> None:
    methods = b"\x00\x02" if proxy.has_credentials else b"\x00"
    stream.send_all(b"\x05" + bytes([len(methods)]) + methods)
    version, method = stream.read_exact(2)
    if version != 5:
        raise _Refused(_not_socks(bytes([version, method])))
    if method == 0xFF:
        raise _Refused(
            {
                "failure": TunnelFailure.AUTH_REQUIRED,
                "detail": "the SOCKS proxy accepts none of the login methods offered"
                + ("" if proxy.has_credentials else " (it wants a user name and password)"),
                "auth_schemes": ("username/password",) if not proxy.has_credentials else (),
            }
        )
    if method == 0x02 and proxy.has_credentials:
        user = (proxy.username or "").encode()[:255]
        password = (proxy.password or "").encode()[:255]
        stream.send_all(b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password)
        _, result = stream.read_exact(2)
        if result != 0:
            raise _Refused(
                {
                    "failure": TunnelFailure.AUTH_REQUIRED,
                    "detail": "the SOCKS proxy refused the user name and password",
                    "auth_schemes": ("username/password",),
                }
            )
    elif method != 0x00:
        raise _Refused(_not_socks(bytes([version, method])))
    stream.send_all(b"\x05\x01\x00" + _socks_address(proxy, host, port, budget, resolver))
    version, reply, _, kind = stream.read_exact(4)
    if version != 5:
        raise _Refused(_not_socks(bytes([version, reply])))
    if kind == 1:
        stream.read_exact(4 + 2)
    elif kind == 4:
        stream.read_exact(16 + 2)
    elif kind == 3:
        stream.read_exact(stream.read_exact(1)[0] + 2)
    else:
        raise _Refused(_not_socks(bytes([version, reply, 0, kind])))
    if reply != 0:
        failure, words = _SOCKS_REPLIES.get(
            reply, (TunnelFailure.REFUSED, f"an unknown refusal ({reply})")
        )
        raise _Refused(
            {"failure": failure, "detail": f"the SOCKS proxy said: {words}", "status": reply}
        )


def _socks_address(
    proxy: ProxyEndpoint, host: str, port: int, budget: Budget, resolver: net.Resolver | None
) -> bytes:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is None and proxy.scheme is ProxyScheme.SOCKS5:
        # socks5:// means this computer resolves the name, as curl does.
        answer = net.resolve(host, port, budget, resolver)
        if not answer.addresses:
            raise _Refused(
                {
                    "failure": TunnelFailure.SITE_UNREACHABLE,
                    "detail": f"{host} does not resolve here ({answer.error}); "
                    "socks5h:// would let the proxy resolve it",
                }
            )
        ip = ipaddress.ip_address(answer.addresses[0])
    if ip is None:
        name = host.encode("ascii", errors="replace")[:255]  # Target.host_ascii: ASCII
        return b"\x03" + bytes([len(name)]) + name + struct.pack("!H", port)
    if isinstance(ip, ipaddress.IPv4Address):
        return b"\x01" + ip.packed + struct.pack("!H", port)
    return b"\x04" + ip.packed + struct.pack("!H", port)


def _not_socks(data: bytes) -> dict[str, object]:
    return {
        "failure": TunnelFailure.MALFORMED,
        "detail": "the proxy's answer is not SOCKS5",
        "proxy_words": data.decode("utf-8", errors="replace") or None,
    }


_CONNECT_FAILURES = {
    TunnelFailure.PROXY_UNREACHABLE: NetworkFailure.UNREACHABLE,
    TunnelFailure.TIMED_OUT: NetworkFailure.CONNECT_TIMEOUT,
}


def proxy_dialer(proxy: ProxyEndpoint, resolver: net.Resolver | None = None) -> net.Dialer:
    """A dialer for every later connection of a check (the prober's, the retries'): the same
    path as the handshake's, so what they see is what the user's apps see."""

    def dial(host: str, port: int, budget: Budget) -> net.ConnectOutcome:
        outcome = open_tunnel(proxy, host, port, budget, resolver=resolver)
        if outcome.sock is not None:
            return net.ConnectOutcome(
                outcome.sock, outcome.proxy_address or host, None, "connected", outcome.duration_ms
            )
        failure = _CONNECT_FAILURES.get(outcome.failure or TunnelFailure.MALFORMED)
        return net.ConnectOutcome(
            None,
            outcome.proxy_address or host,
            failure or NetworkFailure.CONNECT_REFUSED,
            f"through the proxy {proxy.display}: {outcome.detail}",
            outcome.duration_ms,
        )

    return dial
