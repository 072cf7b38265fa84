"""Real servers on 127.0.0.1 for the tests: TLS servers with chosen certificates and versions,
and raw servers that misbehave on purpose. Every server stops when its ``with`` block ends, and
by itself after ``lifetime`` seconds at the latest.
"""

from __future__ import annotations

import contextlib
import email.utils
import socket
import ssl
import struct
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from tests.pki import Issued, Pki

Handler = Callable[[socket.socket, threading.Event], None]


_TCP_ESTABLISHED = 1  # tcp_info.tcpi_state (Linux)


def _established(sock: socket.socket) -> bool:
    """Is the client still connected? The kernel's word (TCP_INFO), not the handler's: a client
    that closed is in CLOSE_WAIT here the moment its FIN arrived, however late the handler's
    thread notices."""
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == _TCP_ESTABLISHED
    except OSError:
        return False


class ConcurrencyGauge:
    """Shared by many servers: the most of them that had a client connected at the same moment
    (a list checked with ``--parallel N`` must never exceed N), and the most connections at
    once on each one (a check's own politeness: 1 with ``--gentle``). Each open connection is
    watched through a duplicate of its descriptor, so a handler that wraps (TLS) or closes its
    socket cannot make the count read a reused descriptor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, list[socket.socket]] = {}
        self.max_servers = 0
        self.max_per_server: dict[int, int] = {}

    def opened(self, port: int, conn: socket.socket) -> socket.socket:
        watch = conn.dup()
        with self._lock:
            self._open.setdefault(port, []).append(watch)
            busy = 0
            for server_port, conns in self._open.items():
                live = sum(_established(c) for c in conns)
                busy += live > 0
                if server_port == port:
                    self.max_per_server[port] = max(self.max_per_server.get(port, 0), live)
            self.max_servers = max(self.max_servers, busy)
        return watch

    def closed(self, port: int, watch: socket.socket) -> None:
        with self._lock:
            conns = self._open.get(port, [])
            if watch in conns:
                conns.remove(watch)
        with contextlib.suppress(OSError):
            watch.close()


class LoopbackServer:
    """Accepts on 127.0.0.1:0 and runs ``handler`` for each connection in its own thread, each
    with ``conn_timeout`` seconds a read; with a ``gauge``, it reports each connection's start
    and end there. It stops when its ``with`` block ends, or after ``lifetime`` seconds at the
    latest, so a failing test cannot leave one running."""

    def __init__(
        self,
        handler: Handler,
        *,
        lifetime: float = 60.0,
        gauge: ConcurrencyGauge | None = None,
        backlog: int = 64,
        conn_timeout: float = 5.0,
    ) -> None:
        self._handler = handler
        self._gauge = gauge
        self._conn_timeout = conn_timeout
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(backlog)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + lifetime
        #: Monotonic time of each accepted connection, for pacing tests.
        self.accepted_at: list[float] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self.accepted_at)

    def __enter__(self) -> Self:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._acceptor.join(5)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self.accepted_at.append(time.monotonic())
                self._threads.append(thread)
            thread.start()
        self._stop.set()

    def _serve(self, conn: socket.socket) -> None:
        watch = self._gauge.opened(self.port, conn) if self._gauge is not None else None
        try:
            conn.settimeout(self._conn_timeout)
            self._handler(conn, self._stop)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            if watch is not None and self._gauge is not None:
                self._gauge.closed(self.port, watch)


def read_http_request(stream: socket.socket | ssl.SSLSocket, limit: int = 16384) -> bytes:
    """An HTTP request's head: read until its blank line, the peer's end or ``limit`` bytes,
    so that a server answers only once asked and a flood cannot hold it."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = stream.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def http_response(date_offset: float = 0.0, body: bytes = b"hello\n") -> bytes:
    date = email.utils.formatdate(time.time() + date_offset, usegmt=True)
    return (
        b"HTTP/1.1 200 OK\r\nDate: " + date.encode() + b"\r\nContent-Type: text/plain\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )


@dataclass
class TlsConfig:
    chain: Sequence[Issued]
    key: Issued
    min_version: ssl.TLSVersion | None = None
    max_version: ssl.TLSVersion | None = None
    ciphers: str | None = None
    client_ca: Issued | None = None
    date_offset: float = 0.0
    extra_chain_pem: bytes = b""
    server_preference: bool = False
    handshakes: list[str] = field(default_factory=list)
    #: Diffie-Hellman parameters (PEM) for the DHE suites; OpenSSL's built-in group otherwise.
    dh_params: Path | None = None


def old_rsa_server(
    pki: Pki,
    ciphers: str,
    names: Sequence[str] = ("localhost", "127.0.0.1"),
    dh_params: Path | None = None,
) -> TlsConfig:
    """An old server: TLS 1.2 at most, an RSA leaf (static-RSA and DHE suites need one) with
    the intermediate, and only ``ciphers`` on offer; the kind one app connects to and another
    does not, which the client tests and the screenshots both stage."""
    leaf = pki.leaf(names, key_kind="rsa2048")
    return TlsConfig(
        [leaf, pki.intermediate],
        leaf,
        max_version=ssl.TLSVersion.TLSv1_2,
        ciphers=ciphers,
        dh_params=dh_params,
    )


def tls10_only_server(pki: Pki, names: Sequence[str] = ("localhost", "127.0.0.1")) -> TlsConfig:
    """A server that speaks TLS 1.0 and nothing newer (at security level 0, as OpenSSL 3 needs
    for it): the legacy server no current client shares a protocol with."""
    leaf = pki.leaf(names)
    return TlsConfig(
        [leaf, pki.intermediate],
        leaf,
        min_version=ssl.TLSVersion.TLSv1,
        max_version=ssl.TLSVersion.TLSv1,
        ciphers="DEFAULT:@SECLEVEL=0",
    )


def make_server_context(cfg: TlsConfig, workdir: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    chain_path = workdir / "chain.pem"
    chain_path.write_bytes(b"".join(c.pem for c in cfg.chain) + cfg.extra_chain_pem)
    key_path = workdir / "key.pem"
    key_path.write_bytes(cfg.key.key_pem)
    if cfg.ciphers:
        ctx.set_ciphers(cfg.ciphers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 servers on purpose
        if cfg.min_version is not None:
            ctx.minimum_version = cfg.min_version
        if cfg.max_version is not None:
            ctx.maximum_version = cfg.max_version
    ctx.load_cert_chain(chain_path, key_path)
    if cfg.server_preference:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if cfg.dh_params is not None:
        ctx.load_dh_params(cfg.dh_params)
    if cfg.client_ca is not None:
        ca_path = workdir / "client-ca.pem"
        ca_path.write_bytes(cfg.client_ca.pem)
        ctx.load_verify_locations(ca_path)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


@contextlib.contextmanager
def tls_server(
    cfg: TlsConfig, *, lifetime: float = 60.0, gauge: ConcurrencyGauge | None = None
) -> Iterator[LoopbackServer]:
    """A TLS server that answers one HTTP request per connection, with a ``Date:`` header."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_server_context(cfg, Path(tmp))

        def handle(conn: socket.socket, stop: threading.Event) -> None:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                cfg.handshakes.append(tls.version() or "")
                request = read_http_request(tls)
                if request:
                    tls.sendall(http_response(cfg.date_offset))
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.unwrap()

        with LoopbackServer(handle, lifetime=lifetime, gauge=gauge) as server:
            yield server


def raw_server(
    handler: Handler, *, lifetime: float = 60.0, gauge: ConcurrencyGauge | None = None
) -> LoopbackServer:
    return LoopbackServer(handler, lifetime=lifetime, gauge=gauge)


def read_client_hello(conn: socket.socket) -> bytes:
    """Read one TLS record (the ClientHello) so a raw server answers at the right moment."""
    header = _recv_exact(conn, 5)
    length = struct.unpack("!H", header[3:5])[0]
    return header + _recv_exact(conn, length)


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accept and never answer: a server stuck, or a middlebox that swallows the ClientHello."""
    while not stop.wait(0.05):
        pass


def send_after_hello(payload: bytes) -> Handler:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        read_client_hello(conn)
        conn.sendall(payload)
        stop.wait(0.5)

    return handle


def banner(payload: bytes) -> Handler:
    """Speaks first, like SMTP or SSH, then reads whatever comes."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(payload)
        with contextlib.suppress(OSError):
            conn.recv(4096)
        stop.wait(0.2)

    return handle


def reset_after_hello(conn: socket.socket, stop: threading.Event) -> None:
    read_client_hello(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def alert_record(description: int, level: int = 2) -> bytes:
    return bytes([21, 3, 3, 0, 2, level, description])
