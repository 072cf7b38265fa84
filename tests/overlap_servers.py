"""Loopback TLS servers with chosen versions, suites and order, for the overlap tests.

Each is a Python ``ssl`` server on 127.0.0.1:0 in threads. The prober hangs up after the
ServerHello, so every handshake here ends in an error on the server side; that is the normal case
and is swallowed. Servers stop when their ``with`` block ends, and by themselves after
``lifetime`` seconds at the latest, so a failing test cannot leave one running.
"""

from __future__ import annotations

import functools
import select
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.wire.parse import ClientHello, parse_client_hello_records
from tests import tls_servers
from tests.pki import make_self_signed


@dataclass(frozen=True)
class ServerSpec:
    """What the server accepts. ``ciphers`` is an OpenSSL cipher string for TLS 1.2 and below
    (TLS 1.3 suites are OpenSSL's defaults); ``groups`` an OpenSSL curve name."""

    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    ciphers: str | None = None
    server_preference: bool = False
    group: str | None = None


@functools.cache
def _identity() -> tuple[str, str]:
    """One RSA certificate for every server in the process (RSA, so that static-RSA suites such
    as AES128-SHA can be chosen). Files live in a directory removed at interpreter exit."""
    identity = make_self_signed(("localhost",), key_kind="rsa2048")
    directory = Path(_TEMP.name)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(identity.pem)
    key_path.write_bytes(identity.key_pem)
    return str(cert_path), str(key_path)


_TEMP = tempfile.TemporaryDirectory(prefix="overlap-servers-")


def server_context(spec: ServerSpec) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        # TLS 1.0/1.1 and SECLEVEL=0 are deprecated: that is exactly what these servers are for.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = spec.minimum
        context.maximum_version = spec.maximum
    if spec.ciphers is not None:
        context.set_ciphers(spec.ciphers)
    elif spec.minimum < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    # Python's ssl turns server preference on for every context; these servers say which.
    if spec.server_preference:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if spec.group is not None:
        context.set_ecdh_curve(spec.group)
    context.load_cert_chain(*_identity())
    return context


class LoopbackServer(tls_servers.LoopbackServer):
    """The tests' loopback server (tests/tls_servers.py) with :meth:`handle` to override, a
    backlog deep enough for the prober's bursts of connections and 3 s a read."""

    def __init__(self, *, lifetime: float = 30.0) -> None:
        super().__init__(self._handle, lifetime=lifetime, backlog=128, conn_timeout=3.0)

    def _handle(self, conn: socket.socket, _stop: threading.Event) -> None:
        self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


class OverlapServer(LoopbackServer):
    """A TLS server that handshakes each connection; configured by a :class:`ServerSpec`."""

    def __init__(self, spec: ServerSpec, *, lifetime: float = 30.0) -> None:
        self.spec = spec
        self.context = server_context(spec)
        super().__init__(lifetime=lifetime)

    def handle(self, conn: socket.socket) -> None:
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # a real client would speak now; the prober hangs up instead
        except ssl.SSLError:
            pass  # the prober never finishes a handshake: this is every connection's end


class RawServer(LoopbackServer):
    """Runs ``handler(conn)`` for each connection: servers that misbehave on purpose."""

    def __init__(self, handler: Callable[[socket.socket], None], *, lifetime: float = 30.0) -> None:
        self._each = handler
        super().__init__(lifetime=lifetime)

    def handle(self, conn: socket.socket) -> None:
        self._each(conn)


def read_client_hello(conn: socket.socket, limit: float = 3.0) -> bytes:
    """The bytes of one ClientHello, read until it parses (or the peer stops sending)."""
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if isinstance(parse_client_hello_records(data), ClientHello):
            return data
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class SuiteLimitProxy(LoopbackServer):
    """In front of a real server, hangs up on (or ignores) any ClientHello offering more than
    ``limit`` suites, as some servers in the field do; relays everything else. Records each
    hello's suite count."""

    def __init__(
        self, backend_port: int, limit: int, *, hang: bool = False, lifetime: float = 30.0
    ) -> None:
        self.backend_port = backend_port
        self.limit = limit
        #: Stay silent on long hellos instead of hanging up, like the F5 hello-size bug.
        self.hang = hang
        self.suite_counts: list[int] = []
        super().__init__(lifetime=lifetime)

    def handle(self, conn: socket.socket) -> None:
        data = read_client_hello(conn)
        hello = parse_client_hello_records(data)
        if not isinstance(hello, ClientHello):
            return
        with self._lock:
            self.suite_counts.append(len(hello.cipher_suites))
        if len(hello.cipher_suites) > self.limit:
            if self.hang:
                silent(conn)
            return
        with socket.create_connection(("127.0.0.1", self.backend_port), timeout=3.0) as backend:
            backend.sendall(data)
            _relay(backend, conn)


def _relay(source: socket.socket, sink: socket.socket) -> None:
    """Copy the server's answer to the client until either side hangs up."""
    while True:
        readable, _, _ = select.select([source, sink], [], [], 3.0)
        if not readable:
            return
        if sink in readable and not sink.recv(65536):
            return
        if source in readable:
            chunk = source.recv(65536)
            if not chunk:
                return
            sink.sendall(chunk)


def silent(conn: socket.socket) -> None:
    """Accept and never answer, like a firewall that drops after the handshake starts."""
    while conn.recv(65536):
        pass


def http_banner(conn: socket.socket) -> None:
    """A plain-HTTP server on the TLS port."""
    read_client_hello(conn, limit=1.0)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def hang_up(conn: socket.socket) -> None:
    """Read the hello and close without a word."""
    read_client_hello(conn, limit=1.0)
