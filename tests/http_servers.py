"""Plain HTTP servers on 127.0.0.1 for certificate plumbing: an AIA "caIssuers" server handing
out an intermediate, and an OCSP responder with a chosen answer. Both stop with their block."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import socket
import threading
from collections.abc import Callable, Iterator

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.pki import Issued
from tests.tls_servers import Handler, read_http_request

Responder = Callable[[bytes], bytes]


@contextlib.contextmanager
def http_server(
    get: dict[str, bytes] | None = None, post: Responder | None = None
) -> Iterator[str]:
    """Yields the base URL, e.g. ``http://127.0.0.1:PORT``."""
    routes = get or {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = self.rfile.read(length)
            body = post(request) if post else b""
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def ocsp_responder(issuer: Issued, *, revoked: bool, sign_with: Issued | None = None) -> Responder:
    """Answers every request about a certificate issued by ``issuer`` as good or revoked.
    ``sign_with`` another key gives an answer the client must refuse to believe."""
    signer = sign_with or issuer

    def respond(request_der: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(request_der)
        now = dt.datetime.now(dt.UTC)
        status = ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=now - dt.timedelta(minutes=5),
            next_update=now + dt.timedelta(days=1),
            revocation_time=now - dt.timedelta(days=2) if revoked else None,
            revocation_reason=None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        response = builder.sign(signer.key, hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)

    return respond


# --------------------------------------------------------------------------- hostile HTTP answers
# Raw handlers for :class:`tests.tls_servers.LoopbackServer`: each reads the request, then
# misbehaves as a stranger's AIA or OCSP address could. Every wait looks at ``stop``.


def _read_http_request(conn: socket.socket) -> bytes:
    return read_http_request(conn, limit=65536)


def http_drip(interval: float = 1.0) -> Handler:
    """``200 OK``, then one byte of body every ``interval`` seconds, for as long as allowed."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        _read_http_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\n\r\n")
        while not stop.wait(interval):
            conn.sendall(b"0")

    return handle


def http_redirect(location: Callable[[bytes], str]) -> Handler:
    """``302`` to wherever ``location(request)`` says."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        request = _read_http_request(conn)
        target = location(request)
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        stop.wait(0.2)

    return handle


def http_huge(size: int = 10 * 1024 * 1024, *, announce: bool = True) -> Handler:
    """A ``size``-byte body, with or without a Content-Length saying so."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        _read_http_request(conn)
        head = b"HTTP/1.1 200 OK\r\n"
        if announce:
            head += f"Content-Length: {size}\r\n".encode()
        conn.sendall(head + b"\r\n")
        block = b"\x30" * 65536
        sent = 0
        while sent < size and not stop.is_set():
            conn.sendall(block)
            sent += len(block)

    return handle


def http_raw(answer: bytes) -> Handler:
    """Exactly ``answer`` as the reply, whatever it is, then close."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        _read_http_request(conn)
        conn.sendall(answer)
        stop.wait(0.1)

    return handle


def http_recorder(requests: list[bytes], answer: bytes) -> Handler:
    """Answers ``answer`` and keeps each request it received, to assert what was sent."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        requests.append(_read_http_request(conn))
        conn.sendall(answer)
        stop.wait(0.1)

    return handle


def http_ok(body: bytes, content_type: str = "application/pkix-cert") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
