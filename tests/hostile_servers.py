"""Servers on 127.0.0.1 that misbehave on purpose: broken, slow or hostile by design.

Each handler plugs into :func:`tests.tls_servers.raw_server`; each stops when its server stops
(every wait looks at the ``stop`` event), so a test leaves no thread behind. The certificate
builders make the pathological certificates (a 15-certificate chain, a 60 KB leaf, a leaf that
OpenSSL accepts but cryptography cannot parse) for :func:`tests.tls_servers.tls_server`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import socket
import ssl
import struct
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from core.wire.parse import ClientHello, parse_client_hello_records
from core.wire.records import encode_handshake, encode_record
from tests.pki import Issued, Pki, make_ca, make_leaf, new_key
from tests.tls_servers import (
    Handler,
    alert_record,
    http_response,
    read_client_hello,
    read_http_request,
)

#: The fatal alerts servers commonly end a handshake with (RFC 8446 §6, RFC 5246 §7.2).
COMMON_FATAL_ALERTS: dict[str, int] = {
    "unexpected_message": 10,
    "bad_record_mac": 20,
    "handshake_failure": 40,
    "bad_certificate": 42,
    "illegal_parameter": 47,
    "access_denied": 49,
    "decode_error": 50,
    "protocol_version": 70,
    "insufficient_security": 71,
    "internal_error": 80,
    "unrecognized_name": 112,
    "certificate_required": 116,
    "no_application_protocol": 120,
}

#: Suites a sober TLS 1.2 server would pick, best first (ECDHE with AES-GCM or ChaCha20).
_TLS12_CHOICES = (0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0xCCA9)
_TLS12 = 0x0303


# --------------------------------------------------------------------------- building answers


def _hello_of(record: bytes) -> ClientHello | None:
    parsed = parse_client_hello_records(record)
    return parsed if isinstance(parsed, ClientHello) else None


def server_hello_tls12(client_hello: bytes) -> bytes | None:
    """A ServerHello record that OpenSSL's client accepts (TLS 1.2, an ECDHE-AES-GCM suite it
    offered, secure renegotiation), or None when the hello offers no TLS 1.2 suite we pick.

    What a real TLS 1.2 server sends first; what follows it is up to the handler."""
    hello = _hello_of(client_hello)
    if hello is None:
        return None
    if _TLS12 not in hello.supported_versions and hello.legacy_version < _TLS12:
        return None
    suite = next((s for s in _TLS12_CHOICES if s in hello.cipher_suites), None)
    if suite is None:
        return None
    renegotiation_info = struct.pack("!HHB", 0xFF01, 1, 0)
    body = (
        struct.pack("!H", _TLS12)
        + os.urandom(32)
        + b"\x00"  # no session id: a fresh session, not a resumption
        + struct.pack("!HB", suite, 0)
        + struct.pack("!H", len(renegotiation_info))
        + renegotiation_info
    )
    return encode_record(22, _TLS12, encode_handshake(2, body))


def garbage(size: int = 512) -> bytes:
    """Random bytes whose first byte is no TLS content type: nothing a TLS client can read."""
    data = bytearray(os.urandom(size))
    data[0] = 0x9C
    return bytes(data)


def tls_framed_garbage(size: int = 300) -> bytes:
    """A correct record header around a handshake message of random bytes."""
    return encode_record(22, _TLS12, b"\x02" + (size - 4).to_bytes(3, "big") + os.urandom(size - 4))


def _answer_or_refuse(conn: socket.socket, hello: bytes) -> bytes | None:
    """The ServerHello for ``hello``, or None after refusing it as a TLS 1.2 server would."""
    answer = server_hello_tls12(hello)
    if answer is None:
        conn.sendall(alert_record(70))  # protocol_version: only TLS 1.2 with modern suites
    return answer


def _linger_until_closed(conn: socket.socket, stop: threading.Event, seconds: float = 3.0) -> None:
    """Keep the connection open until the client goes away (or ``seconds``, or stop)."""
    conn.settimeout(0.05)
    for _ in range(int(seconds / 0.05)):
        if stop.is_set():
            return
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue
        except OSError:
            return


# --------------------------------------------------------------------------- handlers


def garbage_after_hello(conn: socket.socket, stop: threading.Event) -> None:
    """Reads the ClientHello, answers with random bytes."""
    read_client_hello(conn)
    conn.sendall(garbage())
    _linger_until_closed(conn, stop)


def tls_framed_garbage_after_hello(conn: socket.socket, stop: threading.Event) -> None:
    """Reads the ClientHello, answers with a TLS record full of random bytes."""
    read_client_hello(conn)
    conn.sendall(tls_framed_garbage())
    _linger_until_closed(conn, stop)


def server_hello_then_garbage(conn: socket.socket, stop: threading.Event) -> None:
    """A valid ServerHello, then random bytes where the Certificate should be."""
    answer = _answer_or_refuse(conn, read_client_hello(conn))
    if answer is not None:
        conn.sendall(answer + garbage())
    _linger_until_closed(conn, stop)


def close_after_server_hello(conn: socket.socket, stop: threading.Event) -> None:
    """A valid ServerHello, then an orderly close (FIN) with the handshake half done."""
    answer = _answer_or_refuse(conn, read_client_hello(conn))
    if answer is not None:
        conn.sendall(answer)
    conn.shutdown(socket.SHUT_WR)
    _linger_until_closed(conn, stop)


def server_hello_for_any_suite_then_close(conn: socket.socket, stop: threading.Event) -> None:
    """A ServerHello choosing the first suite offered, whatever it is (NULL, RC4, static RSA),
    in the version offered, then a close: a server that "accepts" everything and completes
    nothing."""
    hello = _hello_of(read_client_hello(conn))
    if hello is not None:
        version = min(hello.legacy_version, _TLS12)
        suite = next((s for s in hello.cipher_suites if s not in (0x00FF, 0x5600)), None)
        if suite is not None:
            renegotiation_info = struct.pack("!HHB", 0xFF01, 1, 0)
            body = (
                struct.pack("!H", version)
                + os.urandom(32)
                + b"\x00"
                + struct.pack("!HB", suite, 0)
                + struct.pack("!H", len(renegotiation_info))
                + renegotiation_info
            )
            conn.sendall(encode_record(22, version, encode_handshake(2, body)))
    conn.shutdown(socket.SHUT_WR)
    _linger_until_closed(conn, stop)


def trickle(interval: float = 2.0) -> Handler:
    """Answers the ClientHello one byte every ``interval`` seconds, forever: a valid ServerHello,
    then a Certificate message that never ends. Every single read gets a byte in time; only a
    deadline on the whole handshake ends it."""

    def stream(hello: bytes) -> Iterator[int]:
        yield from server_hello_tls12(hello) or tls_framed_garbage()
        yield from encode_record(22, _TLS12, b"")[:3] + b"\x40\x00"  # a 16 KB record
        yield from b"\x0b\xff\xff\xf0"  # a Certificate message of 16 MB
        while True:
            yield 0

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        for byte in stream(read_client_hello(conn)):
            conn.sendall(bytes([byte]))
            if stop.wait(interval):
                return

    return handle


def flood(conn: socket.socket, stop: threading.Event) -> None:
    """A ServerHello, then a Certificate message announced as 16 MB and sent as fast as the
    client reads: the client must refuse it by size, not buffer it."""
    answer = _answer_or_refuse(conn, read_client_hello(conn))
    if answer is None:
        return
    header = b"\x0b\xff\xff\xf0"
    conn.sendall(answer + encode_record(22, _TLS12, header + bytes(16384 - len(header))))
    chunk = encode_record(22, _TLS12, bytes(16384))
    conn.settimeout(0.2)
    sent = 0
    while not stop.is_set() and sent < 64 * 1024 * 1024:
        try:
            conn.sendall(chunk)
        except TimeoutError:
            continue
        except OSError:
            return
        sent += len(chunk)


def tls_first_then(context: ssl.SSLContext, then: Handler) -> Handler:
    """The first connection gets a real TLS server (one HTTP answer with a Date); every later
    one, such as the protocol prober's, gets ``then``."""
    lock = threading.Lock()
    served = [0]

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with lock:
            served[0] += 1
            first = served[0] == 1
        if not first:
            then(conn, stop)
            return
        with context.wrap_socket(conn, server_side=True) as tls:
            if read_http_request(tls):
                tls.sendall(http_response())

    return handle


def fatal_alert(description: int) -> Handler:
    """Reads the ClientHello and answers with one fatal alert (to every hello)."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        read_client_hello(conn)
        conn.sendall(alert_record(description))
        _linger_until_closed(conn, stop, 1.0)

    return handle


def plain_http(conn: socket.socket, stop: threading.Event) -> None:
    """A plain HTTP server on the TLS port: it reads the ClientHello as a (bad) request and
    answers 400, as nginx and Apache do."""
    read_client_hello(conn)
    body = b"<html><body><h1>400 Bad Request</h1></body></html>\r\n"
    conn.sendall(
        b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    conn.shutdown(socket.SHUT_WR)
    _linger_until_closed(conn, stop)


def smtp_banner(conn: socket.socket, stop: threading.Event) -> None:
    """A mail server: speaks first, and says what it thinks of the ClientHello."""
    conn.sendall(b"220 mail.example.test ESMTP Postfix\r\n")
    with contextlib.suppress(OSError):
        conn.settimeout(1.0)
        if conn.recv(4096):
            conn.sendall(b"500 5.5.2 Error: bad syntax\r\n")
    _linger_until_closed(conn, stop)


# --------------------------------------------------------------------------- certificates


@dataclass
class PemIssued:
    """Like :class:`tests.pki.Issued` for bytes that cryptography cannot load: only the PEM and
    the key, which is all a server needs."""

    pem: bytes
    key_pem: bytes


def long_chain(pki: Pki, length: int = 15) -> list[Issued]:
    """``length`` certificates as a server sends them: the leaf, then ``length - 1``
    intermediates in order, the last of them issued by ``pki.root``."""
    issuer = pki.root
    cas: list[Issued] = []
    for depth in range(length - 1):
        issuer = make_ca(f"Deep Intermediate {depth + 1}", issuer=issuer)
        cas.append(issuer)
    leaf = make_leaf(issuer)
    return [leaf, *reversed(cas)]


def huge_leaf(issuer: Issued, target_bytes: int = 60_000) -> Issued:
    """A leaf of about ``target_bytes`` DER bytes: thousands of DNS names in its SAN."""
    names = ["localhost", "127.0.0.1"]
    per_name = len("n00000.example.test") + 2  # each DNS name costs its length + 2 in DER
    names += [f"n{i:05d}.example.test" for i in range(target_bytes // per_name)]
    return make_leaf(issuer, names)


def der_to_pem(der: bytes) -> bytes:
    return (
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    )


def unparseable_leaf(issuer: Issued) -> tuple[PemIssued, bytes]:
    """A leaf that OpenSSL reads and serves but cryptography refuses to parse.

    DER encodes BOOLEAN TRUE as 0xFF only; this leaf's basicConstraints is marked critical with
    0x01, which BER allows. OpenSSL's decoder takes any non-zero byte as TRUE and completes the
    handshake with it; cryptography's strict DER parser raises ValueError while loading. Returns
    the server's view and the DER."""
    leaf = make_leaf(issuer)
    der = leaf.der
    marker = bytes.fromhex("0603551d130101ff")  # OID basicConstraints, BOOLEAN TRUE
    at = der.index(marker) + len(marker) - 1
    bad = der[:at] + b"\x01" + der[at + 1 :]
    return PemIssued(der_to_pem(bad), leaf.key_pem), bad


def cryptography_refuses(der: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        return True
    return False


def hostile_name(text: str) -> x509.Name:
    """A name whose CN and O are ``text``, whatever its length or characters (the CN's
    64-character bound is not checked: servers send what they like)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "length must be <= 64": on purpose
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, text, _validate=False),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, text, _validate=False),
            ]
        )


def hostile_chain(text: str, sans: Sequence[str] = ()) -> tuple[Issued, Issued]:
    """(root, leaf): a root named ``"Root " + text`` that no store trusts, and a leaf named
    ``text`` for localhost whose SAN also lists ``sans`` (ASCII, as DNS names are)."""
    now = dt.datetime.now(dt.UTC)
    root_key, leaf_key = new_key("ec"), new_key("ec")
    root_name = hostile_name("Root " + text)
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    names = [x509.DNSName("localhost"), *(x509.DNSName(s) for s in sans)]
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(hostile_name(text))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return Issued(root_cert, root_key), Issued(leaf_cert, leaf_key)


# --------------------------------------------------------------------------- hostile files


def _der_children(data: bytes) -> list[bytes]:
    """The complete TLVs inside one DER SEQUENCE ``data`` (short or long lengths)."""

    def header(buf: bytes, at: int) -> tuple[int, int]:
        size = buf[at + 1]
        start = at + 2
        if size & 0x80:
            count = size & 0x7F
            size = int.from_bytes(buf[start : start + count], "big")
            start += count
        return start, size

    start, size = header(data, 0)
    children, at = [], start
    while at < start + size:
        body, length = header(data, at)
        children.append(data[at : body + length])
        at = body + length
    return children


def _der_sequence(content: bytes) -> bytes:
    size = len(content)
    if size < 128:
        return b"\x30" + bytes([size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(raw)]) + raw + content


def stalling_pkcs12(leaf: Issued, password: bytes = b"pw", rounds: int = 2**31 - 1) -> bytes:
    """A PKCS#12 file whose MAC asks for ``rounds`` key-derivation rounds: opening it (with any
    password) would keep a CPU busy for minutes. Otherwise a normal file for ``leaf``."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    good = pkcs12.serialize_key_and_certificates(
        b"stall", leaf.key, leaf.cert, None, BestAvailableEncryption(password)
    )
    parts = _der_children(good)  # version, authSafe, macData
    mac = _der_children(parts[-1])  # mac, macSalt, iterations
    value = rounds.to_bytes(rounds.bit_length() // 8 + 1, "big")  # minimal, positive
    iterations = b"\x02" + bytes([len(value)]) + value
    mac_data = _der_sequence(b"".join(mac[:-1]) + iterations)
    return _der_sequence(b"".join(parts[:-1]) + mac_data)
