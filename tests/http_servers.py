"""Plain HTTP servers on 127.0.0.1 for certificate plumbing: an AIA "caIssuers" server handing
out an intermediate, and an OCSP responder with a chosen answer. Both stop with their block."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import threading
from collections.abc import Callable, Iterator

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.pki import Issued

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
