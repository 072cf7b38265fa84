"""Small HTTP fetches for certificate plumbing: the issuer named by a leaf's AIA address, and
OCSP answers.

The addresses come from a stranger's certificate, so the fetch is ours end to end rather than
``urllib``'s: one deadline for resolve, connect, request, every redirect and the body together; at
most three redirects, each to http(s) and each checked like the first address; the body stopped at
the cap; only addresses that :func:`core.cert_urls.fetch_refusal` allows; and a parser that turns
any malformed answer into a failure with a reason, never an exception.
"""

from __future__ import annotations

import enum
import socket
import time
from dataclasses import dataclass

from cryptography import x509

from core.budget import Budget
from core.cert_urls import (
    AddressRefusal,
    FetchUrl,
    UrlProblem,
    describe_url_problem,
    display_url,
    fetch_refusal,
    parse_fetch_url,
)
from core.certs import CertificateFileError, load_certificates
from core.models import HttpProbeAnswer, ProxyEndpoint
from core.probe.net import connect_one, is_ip_literal, resolve
from core.probe.stream import BoundedStream, StreamError, StreamProblem

#: A CA certificate or an OCSP answer is a few KB; anything past this is not one.
MAX_FETCH_BYTES = 256 * 1024
MAX_REDIRECTS = 3
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchFailure(enum.StrEnum):
    BAD_URL = "bad-url"
    REFUSED_ADDRESS = "refused-address"
    UNRESOLVED = "unresolved"
    UNREACHABLE = "unreachable"
    TIMED_OUT = "timed-out"
    TOO_LARGE = "too-large"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    HTTP_STATUS = "http-status"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class FetchResult:
    url: str  # as it may be shown: no userinfo
    data: bytes | None
    failure: FetchFailure | None = None
    reason: str | None = None  # the facts behind the failure, for the evidence
    redirects: int = 0

    @property
    def error(self) -> str | None:
        """Why nothing came back, in words for the evidence; None when the fetch worked."""
        return self.reason if self.failure is not None else None

    @property
    def refused(self) -> bool:
        """True when nothing was sent at all: the address or the URL itself was refused."""
        return self.failure in (FetchFailure.BAD_URL, FetchFailure.REFUSED_ADDRESS)


class _Stop(Exception):
    """Ends one fetch with a failure; never leaves this module."""

    def __init__(self, failure: FetchFailure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes


def http_fetch(
    url: str,
    budget: Budget,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    site_address: str | None = None,
    proxy: ProxyEndpoint | None = None,
) -> FetchResult:
    """GET (or POST ``body``) a certificate-supplied ``url`` within the budget's step timeout.

    ``site_address`` is the IP address of the checked server: it decides which non-public
    addresses the URL may point to; ``proxy`` is the check's route. Only :class:`Cancelled` is
    raised.
    """
    started = time.monotonic()
    deadline = budget.step_deadline()
    timeout_s = max(0.0, deadline - started)
    parsed = parse_fetch_url(url)
    if isinstance(parsed, UrlProblem):
        return FetchResult(
            display_url(url), None, FetchFailure.BAD_URL, describe_url_problem(parsed)
        )
    current = parsed
    method = "POST" if body is not None else "GET"
    for hop in range(MAX_REDIRECTS + 1):
        try:
            response = _exchange(
                current, method, body, content_type, budget, deadline, site_address, proxy=proxy
            )
        except _Stop as stop:
            reason = stop.reason
            if stop.failure is FetchFailure.TIMED_OUT:
                reason = f"no complete answer within {timeout_s:.3g} s"
            if hop:
                reason += f" (at {current.display}, after {hop} redirect{'s' * (hop > 1)})"
            return FetchResult(parsed.display, None, stop.failure, reason, hop)
        if response.status in _REDIRECTS:
            location = response.headers.get("location", "")
            if hop == MAX_REDIRECTS:
                return FetchResult(
                    parsed.display,
                    None,
                    FetchFailure.TOO_MANY_REDIRECTS,
                    f"redirected more than {MAX_REDIRECTS} times",
                    hop,
                )
            following = parse_fetch_url(location, base=current)
            if isinstance(following, UrlProblem):
                shown = display_url(location) or "(none)"
                return FetchResult(
                    parsed.display,
                    None,
                    FetchFailure.BAD_URL,
                    f"redirected to {shown}: {describe_url_problem(following)}",
                    hop + 1,
                )
            current = following
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body, content_type = "GET", None, None
            continue
        if response.status != 200:
            return FetchResult(
                parsed.display,
                None,
                FetchFailure.HTTP_STATUS,
                f"the server answered HTTP {response.status}",
                hop,
            )
        return FetchResult(parsed.display, response.body, redirects=hop)
    raise AssertionError("unreachable: the loop returns on its last hop")


def http_probe(url: str, budget: Budget, *, proxy: ProxyEndpoint | None = None) -> HttpProbeAnswer:
    """GET ``url`` once within the step timeout and keep the answer as it is.

    The address is the user's setting (a connectivity-check URL), not a certificate's, so any
    address is dialled: a portal that answers every name with its own private address is exactly
    what this must see. Only :class:`Cancelled` is raised.
    """
    started = time.monotonic()
    deadline = budget.step_deadline()
    parsed = parse_fetch_url(url)
    if isinstance(parsed, UrlProblem):
        return HttpProbeAnswer(
            display_url(url), None, None, None, b"", describe_url_problem(parsed)
        )
    try:
        response = _exchange(
            parsed, "GET", None, None, budget, deadline, None, probe=True, proxy=proxy
        )
    except _Stop as stop:
        reason = stop.reason
        if stop.failure is FetchFailure.TIMED_OUT:
            reason = f"no complete answer within {max(0.0, deadline - started):.3g} s"
        return HttpProbeAnswer(parsed.display, None, None, None, b"", reason)
    return HttpProbeAnswer(
        parsed.display,
        response.status,
        response.headers.get("location"),
        response.headers.get("content-type"),
        response.body,
    )


def _exchange(
    url: FetchUrl,
    method: str,
    body: bytes | None,
    content_type: str | None,
    budget: Budget,
    deadline: float,
    site_address: str | None,
    *,
    probe: bool = False,
    proxy: ProxyEndpoint | None = None,
) -> _Response:
    sock, absolute = _open(url, budget, deadline, site_address, probe, proxy)
    conn = BoundedStream(sock, budget, deadline)
    try:
        if url.scheme == "https":
            conn.start_tls(url.host)
        conn.send_all(_request_bytes(url, method, body, content_type, proxy if absolute else None))
        return _read_response(conn, every_body=probe)
    except StreamError as exc:
        raise _stream_stop(exc) from None
    finally:
        conn.close()


def _open(
    url: FetchUrl,
    budget: Budget,
    deadline: float,
    site_address: str | None,
    probe: bool,
    proxy: ProxyEndpoint | None,
) -> tuple[socket.socket, bool]:
    """A connected socket for ``url``, straight or through ``proxy`` (the check's route), and
    whether the request goes to an HTTP proxy in absolute form (``GET http://host/path``):
    plain-http addresses are asked of an HTTP proxy that way, because many proxies (Squid's
    default among them) allow CONNECT only to port 443."""
    if proxy is None:
        address = _pick_address(url, budget, deadline, site_address, any_address=probe)
        connected = connect_one(address, url.port, _until(deadline, budget))
        if connected.sock is None:
            if time.monotonic() >= deadline:
                raise _Stop(FetchFailure.TIMED_OUT, "timed out")
            raise _Stop(
                FetchFailure.UNREACHABLE, f"{url.display} is unreachable ({connected.detail})"
            )
        return connected.sock, False
    # Through a proxy the proxy resolves names; an address literal is still held to the rule.
    if not probe and is_ip_literal(url.host):
        refusal = fetch_refusal(url.host, site_address)
        if refusal is not None:
            raise _Stop(FetchFailure.REFUSED_ADDRESS, f"not fetched: {refusal}")
    from core.probe.tunnel import ProxyScheme, open_tunnel

    if proxy.scheme is ProxyScheme.HTTP and url.scheme == "http":
        outcome = open_tunnel(proxy, url.host, url.port, _until(deadline, budget), plain=True)
        absolute = True
    else:
        outcome = open_tunnel(proxy, url.host, url.port, _until(deadline, budget))
        absolute = False
    if outcome.sock is None:
        failure = FetchFailure.TIMED_OUT if time.monotonic() >= deadline else None
        raise _Stop(
            failure or FetchFailure.UNREACHABLE,
            f"through the proxy {proxy.display}: {outcome.detail}",
        )
    return outcome.sock, absolute


def _stream_stop(exc: StreamError) -> _Stop:
    if exc.problem is StreamProblem.TIMED_OUT:
        return _Stop(FetchFailure.TIMED_OUT, "timed out")
    if exc.problem is StreamProblem.TOO_LONG:
        return _too_large()
    if exc.problem is StreamProblem.CLOSED:
        return _Stop(FetchFailure.MALFORMED, "the answer ended early")
    return _Stop(FetchFailure.UNREACHABLE, f"the connection failed ({exc.detail})")


def _until(deadline: float, budget: Budget) -> Budget:
    """A budget for one part of the fetch that ends with the fetch's own deadline."""
    left = max(0.0, deadline - time.monotonic())
    return Budget(left, total=left, cancel_event=budget.cancel_event)


def _pick_address(
    url: FetchUrl,
    budget: Budget,
    deadline: float,
    site_address: str | None,
    *,
    any_address: bool = False,
) -> str:
    answer = resolve(url.host, url.port, _until(deadline, budget))
    if not answer.addresses:
        if time.monotonic() >= deadline:
            raise _Stop(FetchFailure.TIMED_OUT, "timed out")
        raise _Stop(FetchFailure.UNRESOLVED, f"{url.host} does not resolve ({answer.error})")
    if any_address:
        return answer.addresses[0]
    refusals: list[AddressRefusal] = []
    for address in answer.addresses:
        refusal = fetch_refusal(address, site_address)
        if refusal is None:
            return address
        refusals.append(refusal)
    raise _Stop(FetchFailure.REFUSED_ADDRESS, f"not fetched: {refusals[0]}")


def _request_bytes(
    url: FetchUrl,
    method: str,
    body: bytes | None,
    content_type: str | None,
    http_proxy: ProxyEndpoint | None = None,
) -> bytes:
    target = url.target if http_proxy is None else url.display  # absolute form to a proxy
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {url.host_header}",
        "User-Agent: HandshakeDoctor",
        "Accept: */*",
        "Connection: close",
    ]
    if http_proxy is not None and http_proxy.has_credentials:
        from core.probe.tunnel import basic_credentials

        lines.append(f"Proxy-Authorization: {basic_credentials(http_proxy)}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
        if content_type:
            lines.append(f"Content-Type: {content_type}")
    # One write for head and body: a request split over two segments can wait on a delayed ACK.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (body or b"")


def _too_large() -> _Stop:
    return _Stop(FetchFailure.TOO_LARGE, f"the answer is larger than {MAX_FETCH_BYTES // 1024} KB")


def _read_response(conn: BoundedStream, *, every_body: bool = False) -> _Response:
    try:
        head = conn.read_until(b"\r\n\r\n", MAX_HEADER_BYTES)
    except StreamError as exc:
        if exc.problem is StreamProblem.TOO_LONG:
            raise _Stop(FetchFailure.MALFORMED, "the answer's headers are too long") from None
        if exc.problem is StreamProblem.CLOSED:
            raise _Stop(FetchFailure.MALFORMED, "the answer ended inside its headers") from None
        raise
    try:
        text = head.decode("iso-8859-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise _Stop(FetchFailure.MALFORMED, "the answer is not HTTP") from None
    status_line, *header_lines = text.split("\r\n")
    status = _status(status_line)
    if len(header_lines) > MAX_HEADERS:
        raise _Stop(FetchFailure.MALFORMED, f"the answer has more than {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or _has_bad_bytes(line):
            raise _Stop(FetchFailure.MALFORMED, "the answer has a malformed header line")
        headers[name.lower()] = value.strip()
    if status in (204, 304) or (not every_body and status != 200):
        return _Response(status, headers, b"")  # the body of a redirect or an error is not read
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _Response(status, headers, _read_chunked(conn))
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit() or len(length) > 12:
            raise _Stop(FetchFailure.MALFORMED, "the answer's Content-Length is not a number")
        if int(length) > MAX_FETCH_BYTES:
            raise _too_large()
        try:
            return _Response(status, headers, conn.read_exact(int(length)))
        except StreamError as exc:
            if exc.problem is StreamProblem.CLOSED:
                raise _Stop(
                    FetchFailure.MALFORMED, "the answer ended before its announced length"
                ) from None
            raise
    return _Response(status, headers, conn.read_to_end(MAX_FETCH_BYTES))


def _status(line: str) -> int:
    version, _, rest = line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(version) != 8 or not code.isdigit():
        raise _Stop(FetchFailure.MALFORMED, "the answer is not HTTP (a malformed status line)")
    if len(rest) > 3 and rest[3] != " ":
        raise _Stop(FetchFailure.MALFORMED, "the answer is not HTTP (a malformed status line)")
    return int(code)


def _has_bad_bytes(line: str) -> bool:
    return any(ord(c) < 0x20 and c != "\t" for c in line) or "\x7f" in line


def _read_chunked(conn: BoundedStream) -> bytes:
    try:
        return _chunks(conn)
    except StreamError as exc:
        if exc.problem in (StreamProblem.TIMED_OUT, StreamProblem.FAILED):
            raise
        raise _Stop(FetchFailure.MALFORMED, "the answer's chunk framing is broken") from None


def _chunks(conn: BoundedStream) -> bytes:
    body = b""
    while True:
        size_text = conn.read_until(b"\r\n", 64).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Stop(FetchFailure.MALFORMED, "the answer's chunk framing is broken") from None
        if size < 0:
            raise _Stop(FetchFailure.MALFORMED, "the answer's chunk framing is broken")
        if size == 0:
            return body
        if len(body) + size > MAX_FETCH_BYTES:
            raise _too_large()
        body += conn.read_exact(size)
        if conn.read_exact(2) != b"\r\n":
            raise _Stop(FetchFailure.MALFORMED, "the answer's chunk framing is broken")


def fetch_issuers(
    url: str,
    budget: Budget,
    *,
    site_address: str | None = None,
    proxy: ProxyEndpoint | None = None,
) -> tuple[list[x509.Certificate], str]:
    """Certificates found at a caIssuers address, and a status phrase for the evidence."""
    result = http_fetch(url, budget, site_address=site_address, proxy=proxy)
    if result.data is None:
        prefix = "" if (result.reason or "").startswith("not fetched") else "fetch failed: "
        return [], f"{prefix}{result.error}"
    try:
        return load_certificates(result.data), "fetched"
    except CertificateFileError:
        return [], "fetch failed: the answer is not a certificate"
