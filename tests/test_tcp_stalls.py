"""No answer the check waits for sits behind a delayed ACK: the ``HEAD /`` that reads the
server's Date goes out in the same segment as the client's Finished (TLS 1.3), so neither our
Nagle nor the server's delayed ACK can hold it. Seen from a real server on 127.0.0.1 that reads
the raw socket: what arrives with the Finished is already the request."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from pathlib import Path

from core.cli import main
from tests.cli_args import check_args
from tests.pki import Pki
from tests.tls_servers import (
    Handler,
    TlsConfig,
    http_response,
    make_server_context,
    raw_server,
)


def _bio_server(ctx: ssl.SSLContext, seen: list[bytes]) -> Handler:
    """Handshakes over memory BIOs, so it knows which bytes came in which read."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                if outgoing.pending:
                    conn.sendall(outgoing.read())
                data = conn.recv(65536)
                if not data:
                    return
                incoming.write(data)
        if outgoing.pending:
            conn.sendall(outgoing.read())  # the session tickets
        try:
            early = tls.read(65536)  # what came in the same read as the client's Finished
        except ssl.SSLWantReadError:
            early = b""
        seen.append(early)
        request = early
        while b"\r\n\r\n" not in request:
            data = conn.recv(65536)
            if not data:
                return
            incoming.write(data)
            try:
                request += tls.read(65536)
            except ssl.SSLWantReadError:
                continue
        tls.write(http_response())
        conn.sendall(outgoing.read())

    return handle


def test_date_request_travels_with_the_finished(tmp_path: Path) -> None:
    out, seen = _check_against({"min_version": ssl.TLSVersion.TLSv1_3}, tmp_path)
    assert out["handshake"]["protocol"] == "TLSv1.3"
    assert seen and seen[0].startswith(b"HEAD / HTTP/1.1\r\n"), seen
    assert out["clock"]["reference"] == "http-date"


def _check(address: str, root: Path) -> dict[str, object]:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(check_args(address, root, "--json"))
    assert code == 0, buffer.getvalue()
    result = json.loads(buffer.getvalue())
    assert isinstance(result, dict)
    return result


def _check_against(
    version: dict[str, ssl.TLSVersion], folder: Path
) -> tuple[dict[str, object], list[bytes]]:
    """A quick check of a server that reads requests by hand (``seen``), at one TLS version."""
    pki = Pki()
    leaf = pki.leaf()
    root = pki.write_root(folder)
    ctx = make_server_context(TlsConfig([leaf, pki.intermediate], leaf, **version), folder)
    seen: list[bytes] = []
    with raw_server(_bio_server(ctx, seen), lifetime=20) as server:
        return _check(server.address, root), seen


def test_tls12_date_still_read(tmp_path: Path) -> None:
    """In TLS 1.2 our Finished goes before the server's, so there is nothing to join; the
    request follows the handshake and the Date is read as before."""
    out, _ = _check_against({"max_version": ssl.TLSVersion.TLSv1_2}, tmp_path)
    assert out["handshake"]["protocol"] == "TLSv1.2"
    assert out["clock"]["reference"] == "http-date"
