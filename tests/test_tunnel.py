"""The TCP path through a proxy, against real proxies on 127.0.0.1: tinyproxy for HTTP CONNECT
(open, Basic auth, a host filter) and microsocks for SOCKS5, plus hostile "proxies" that never
answer, close, or send garbage. Each ends within the step timeout with an outcome, never an
exception, and a working tunnel carries a real TLS handshake."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.budget import Budget
from core.probe import tls
from core.probe.tunnel import ProxyEndpoint, ProxyScheme, TunnelFailure, open_tunnel
from tests.pki import Pki
from tests.ports import free_port
from tests.proxy_servers import have_microsocks, have_tinyproxy, microsocks, tinyproxy
from tests.tls_servers import LoopbackServer, TlsConfig, silent, tls_server

needs_tinyproxy = pytest.mark.skipif(not have_tinyproxy(), reason="tinyproxy is not installed")
needs_microsocks = pytest.mark.skipif(not have_microsocks(), reason="microsocks is not installed")

TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def site(pki: Pki) -> Iterator[int]:
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=300) as server:
        yield server.port


def _http(port: int, user: str | None = None, password: str | None = None) -> ProxyEndpoint:
    return ProxyEndpoint(ProxyScheme.HTTP, "127.0.0.1", port, user, password)


def _handshake_through(sock: socket.socket) -> tls.HandshakeObservation:
    return tls.handshake(sock, "localhost", Budget(TIMEOUT_S), fetch_http_date=False)


# --------------------------------------------------------------------------- HTTP CONNECT


@needs_tinyproxy
def test_connect_through_tinyproxy_carries_the_handshake(tmp_path: Path, site: int) -> None:
    with tinyproxy(tmp_path) as port:
        outcome = open_tunnel(_http(port), "127.0.0.1", site, Budget(TIMEOUT_S))
        assert outcome.failure is None, outcome.detail
        assert outcome.sock is not None and outcome.proxy_address == "127.0.0.1"
        observed = _handshake_through(outcome.sock)
    assert observed.ok and len(observed.chain_der) == 2


@needs_tinyproxy
def test_proxy_asking_for_credentials_names_its_scheme(tmp_path: Path, site: int) -> None:
    with tinyproxy(tmp_path, basic_auth=("alice", "s3cret")) as port:
        missing = open_tunnel(_http(port), "127.0.0.1", site, Budget(TIMEOUT_S))
        wrong = open_tunnel(_http(port, "alice", "nope"), "127.0.0.1", site, Budget(TIMEOUT_S))
        right = open_tunnel(_http(port, "alice", "s3cret"), "127.0.0.1", site, Budget(TIMEOUT_S))
        assert right.failure is None and right.sock is not None, right.detail
        assert _handshake_through(right.sock).ok
    assert missing.failure is TunnelFailure.AUTH_REQUIRED
    assert missing.status == 407 and missing.auth_schemes == ("Basic",)
    assert missing.detail == "the proxy answered HTTP/1.0 407 Proxy Authentication Required"
    assert wrong.failure is TunnelFailure.AUTH_REQUIRED and wrong.status == 401
    assert "s3cret" not in repr(right) + repr(_http(port, "alice", "s3cret"))
    assert _http(port, "alice", "s3cret").display == f"http://127.0.0.1:{port}"


@needs_tinyproxy
def test_proxy_refusing_the_site_gives_its_status_and_words(tmp_path: Path) -> None:
    with tinyproxy(tmp_path, refuse=[r"^blocked\.test$"]) as port:
        outcome = open_tunnel(_http(port), "blocked.test", 443, Budget(TIMEOUT_S))
    assert outcome.failure is TunnelFailure.REFUSED and outcome.status == 403
    assert outcome.detail == "the proxy answered HTTP/1.1 403 Filtered"
    assert outcome.proxy_words and "filter" in outcome.proxy_words.lower()


@needs_tinyproxy
def test_proxy_that_cannot_reach_the_site(tmp_path: Path) -> None:
    with tinyproxy(tmp_path) as port:
        outcome = open_tunnel(_http(port), "127.0.0.1", free_port(), Budget(TIMEOUT_S))
    assert outcome.failure in (TunnelFailure.SITE_UNREACHABLE, TunnelFailure.REFUSED)
    assert outcome.status is not None and outcome.status >= 500


# --------------------------------------------------------------------------- SOCKS5


@needs_microsocks
@pytest.mark.parametrize("scheme", [ProxyScheme.SOCKS5, ProxyScheme.SOCKS5H])
def test_socks5_carries_the_handshake(site: int, scheme: ProxyScheme) -> None:
    with microsocks() as port:
        proxy = ProxyEndpoint(scheme, "127.0.0.1", port)
        outcome = open_tunnel(proxy, "localhost", site, Budget(TIMEOUT_S), resolver=_v4)
        assert outcome.failure is None, outcome.detail
        assert outcome.sock is not None
        assert _handshake_through(outcome.sock).ok


def _v4(host: str, port: int) -> list[str]:
    """Resolves ``localhost`` to IPv4 only: the site listens on 127.0.0.1, not ::1."""
    assert host == "localhost"
    return ["127.0.0.1"]


@needs_microsocks
def test_socks5_login(site: int) -> None:
    with microsocks(("bob", "pw")) as port:
        none = open_tunnel(
            ProxyEndpoint(ProxyScheme.SOCKS5, "127.0.0.1", port), "127.0.0.1", site, Budget(2)
        )
        wrong = open_tunnel(
            ProxyEndpoint(ProxyScheme.SOCKS5, "127.0.0.1", port, "bob", "bad"),
            "127.0.0.1",
            site,
            Budget(2),
        )
        right = open_tunnel(
            ProxyEndpoint(ProxyScheme.SOCKS5, "127.0.0.1", port, "bob", "pw"),
            "127.0.0.1",
            site,
            Budget(2),
        )
        assert right.failure is None and right.sock is not None, right.detail
        right.sock.close()
    assert none.failure is TunnelFailure.AUTH_REQUIRED
    assert none.auth_schemes == ("username/password",)
    assert wrong.failure is TunnelFailure.AUTH_REQUIRED
    assert wrong.detail == "the SOCKS proxy refused the user name and password"


@needs_microsocks
def test_socks5_to_a_closed_port_is_the_site_not_the_proxy() -> None:
    with microsocks() as port:
        proxy = ProxyEndpoint(ProxyScheme.SOCKS5, "127.0.0.1", port)
        outcome = open_tunnel(proxy, "127.0.0.1", free_port(), Budget(TIMEOUT_S))
    assert outcome.failure is TunnelFailure.SITE_UNREACHABLE
    assert outcome.detail.startswith("the SOCKS proxy said: ")


# --------------------------------------------------------------------------- hostile proxies


def test_proxy_that_is_not_there() -> None:
    outcome = open_tunnel(_http(free_port()), "example.test", 443, Budget(TIMEOUT_S))
    assert outcome.failure is TunnelFailure.PROXY_UNREACHABLE
    assert "connection refused" in outcome.detail.lower()


@pytest.mark.parametrize("scheme", [ProxyScheme.HTTP, ProxyScheme.SOCKS5H])
def test_proxy_that_never_answers_ends_at_the_timeout(scheme: ProxyScheme) -> None:
    with LoopbackServer(silent) as server:
        started = time.monotonic()
        outcome = open_tunnel(
            ProxyEndpoint(scheme, "127.0.0.1", server.port), "example.test", 443, Budget(1.0)
        )
        took = time.monotonic() - started
    assert outcome.failure is TunnelFailure.TIMED_OUT
    assert took < 2.0


def _sends(payload: bytes) -> object:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(4096)
        conn.sendall(payload)
        stop.wait(0.3)

    return handle


@pytest.mark.parametrize(
    ("scheme", "payload", "failure"),
    [
        (ProxyScheme.HTTP, b"\x16\x03\x01\x00\x02garbage\r\n\r\n", TunnelFailure.MALFORMED),
        (ProxyScheme.HTTP, b"<html>\x1b[31mhello</html>", TunnelFailure.MALFORMED),
        (ProxyScheme.HTTP, b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 2000, TunnelFailure.MALFORMED),
        (ProxyScheme.HTTP, b"HTTP/1.1 200 OK\r\n\r\nearly", TunnelFailure.MALFORMED),
        (ProxyScheme.SOCKS5H, b"HTTP/1.1 400 Bad\r\n\r\n", TunnelFailure.MALFORMED),
        (ProxyScheme.SOCKS5H, b"\x05\x07", TunnelFailure.MALFORMED),
    ],
    ids=["tls-garbage", "html", "endless-headers", "data-before-site", "http-to-socks", "method"],
)
def test_proxy_speaking_garbage(
    scheme: ProxyScheme, payload: bytes, failure: TunnelFailure
) -> None:
    with LoopbackServer(_sends(payload)) as server:  # type: ignore[arg-type]
        started = time.monotonic()
        outcome = open_tunnel(
            ProxyEndpoint(scheme, "127.0.0.1", server.port), "example.test", 443, Budget(1.0)
        )
        took = time.monotonic() - started
    assert outcome.failure is failure, outcome.detail
    assert outcome.sock is None and took < 2.0
