"""A fleet of loopback servers of mixed kinds for the many-hosts tests, each kind with the
verdict and the main cause a check must name for it.

One server per host, all sharing one ConcurrencyGauge, so a test can tell how many servers had
a client at the same moment (``--parallel``) and how many connections each had (``--gentle``).
Every server stops when the ``with`` block ends, or by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tests.pki import DAY, NOW, Pki, make_self_signed
from tests.ports import closed_port
from tests.tls_servers import (
    ConcurrencyGauge,
    Handler,
    TlsConfig,
    raw_server,
    read_client_hello,
    tls_server,
)


@dataclass(frozen=True)
class Kind:
    name: str
    verdict: str
    cause: str | None  # the finding ID the table names; None for a clean one


GOOD = Kind("good", "ok", None)
EXPIRED = Kind("expired", "error", "cert-expired")
WRONG_NAME = Kind("wrong-name", "error", "hostname-mismatch")
#: A good certificate, reached by a name it does not hold: the line's own connect address.
WRONG_NAME_VIA = Kind("wrong-name-via", "error", "hostname-mismatch")
SELF_SIGNED = Kind("self-signed", "error", "self-signed")
REFUSED = Kind("refused", "error", "connect-refused")
NOT_TLS = Kind("not-tls", "error", "not-tls")
EXPIRES_SOON = Kind("expires-soon", "warning", "expires-soon")
RESET = Kind("reset", "error", "connection-reset")
STUCK = Kind("stuck", "error", "handshake-timeout")

MIXED = (GOOD, EXPIRED, WRONG_NAME, SELF_SIGNED, REFUSED, NOT_TLS, EXPIRES_SOON, RESET)


@dataclass(frozen=True)
class Host:
    line: str  # as written in the list
    kind: Kind
    port: int


def not_tls(conn: socket.socket, stop: threading.Event) -> None:
    """A plain HTTP server on the TLS port: it answers the ClientHello with a 400, and waits
    for the client to go."""
    read_client_hello(conn)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    _until_closed(conn, stop)


def reset(conn: socket.socket, stop: threading.Event) -> None:
    import struct

    read_client_hello(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def stuck(conn: socket.socket, stop: threading.Event) -> None:
    """Takes the connection and never answers, until the client gives up."""
    _until_closed(conn, stop)


def _until_closed(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(0.05)
    while not stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue


def _handler(kind: Kind) -> Handler:
    return {NOT_TLS.name: not_tls, RESET.name: reset, STUCK.name: stuck}[kind.name]


@contextlib.contextmanager
def fleet(
    pki: Pki, kinds: Sequence[Kind], *, gauge: ConcurrencyGauge, lifetime: float = 120.0
) -> Iterator[list[Host]]:
    """One server per entry of ``kinds`` (none for REFUSED: its port is closed)."""
    hosts: list[Host] = []
    with contextlib.ExitStack() as stack:
        for kind in kinds:
            if kind is REFUSED:
                port = closed_port()
                hosts.append(Host(f"127.0.0.1:{port}", kind, port))
                continue
            if kind in (NOT_TLS, RESET, STUCK):
                server = stack.enter_context(
                    raw_server(_handler(kind), lifetime=lifetime, gauge=gauge)
                )
            else:
                if kind is EXPIRED:
                    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 10 * DAY + DAY / 2)
                    chain = [leaf, pki.intermediate]
                elif kind is WRONG_NAME:
                    leaf = pki.leaf(["other.test"])
                    chain = [leaf, pki.intermediate]
                elif kind is SELF_SIGNED:
                    leaf = make_self_signed()
                    chain = [leaf]
                elif kind is EXPIRES_SOON:
                    leaf = pki.leaf(not_after=NOW + 10 * DAY + DAY / 2)
                    chain = [leaf, pki.intermediate]
                else:
                    leaf = pki.leaf()
                    chain = [leaf, pki.intermediate]
                server = stack.enter_context(
                    tls_server(TlsConfig(chain, leaf), lifetime=lifetime, gauge=gauge)
                )
            line = f"127.0.0.1:{server.port}"
            if kind is WRONG_NAME_VIA:
                line = f"wrong.test:{server.port} 127.0.0.1"
            hosts.append(Host(line, kind, server.port))
        yield hosts
