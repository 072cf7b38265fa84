"""One real TLS handshake, as this machine's default client would make it, watched message by
message.

The handshake runs over memory BIOs on a socket we own, so every read has the budget's deadline,
the first bytes from the server can be checked for "is this TLS at all", and cancel works. The
certificate is not verified here (CERT_NONE): the handshake must complete even when the chain is
bad, so that the chain can be examined; verification happens in the analysis, against several
trust stores and at two times.

Right after the handshake a ``HEAD /`` is sent: it fetches the server's ``Date:`` header (a clock
reference that works even with a bad certificate) and, in TLS 1.3, it is what surfaces a server's
complaint about a missing client certificate, which only arrives after our Finished.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import select
import socket
import ssl
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from core.budget import Budget, Cancelled, wait_slice
from core.http_date import date_from_response
from core.models import (
    ClientCredentials,
    Direction,
    HandshakeObservation,
    HandshakeStep,
    HandshakeStepKind,
    HttpDateSample,
    NetworkFailure,
)
from core.wire.records import TlsVersion, alert_name

#: How long to wait for the answer to ``HEAD /``; non-HTTP services never answer it.
HTTP_DATE_WAIT_S = 2.0
MAX_HTTP_HEAD = 16384
_TLS_CONTENT_TYPES = {20, 21, 22, 23}

_HANDSHAKE_NAMES = {
    "CLIENT_HELLO": HandshakeStepKind.CLIENT_HELLO,
    "SERVER_HELLO": HandshakeStepKind.SERVER_HELLO,
    "HELLO_RETRY_REQUEST": HandshakeStepKind.HELLO_RETRY_REQUEST,
    "ENCRYPTED_EXTENSIONS": HandshakeStepKind.ENCRYPTED_EXTENSIONS,
    "CERTIFICATE": HandshakeStepKind.CERTIFICATE,
    "CERTIFICATE_STATUS": HandshakeStepKind.CERTIFICATE_STATUS,
    "SERVER_KEY_EXCHANGE": HandshakeStepKind.SERVER_KEY_EXCHANGE,
    "CERTIFICATE_REQUEST": HandshakeStepKind.CERTIFICATE_REQUEST,
    "CERTIFICATE_VERIFY": HandshakeStepKind.CERTIFICATE_VERIFY,
    "SERVER_DONE": HandshakeStepKind.SERVER_HELLO_DONE,
    "CLIENT_KEY_EXCHANGE": HandshakeStepKind.CLIENT_KEY_EXCHANGE,
    "FINISHED": HandshakeStepKind.FINISHED,
    "NEWSESSION_TICKET": HandshakeStepKind.NEW_SESSION_TICKET,
}


@dataclass
class _Recorder:
    """Collects the handshake messages OpenSSL reports, with their time since the ClientHello."""

    started: float = field(default_factory=time.monotonic)
    steps: list[HandshakeStep] = field(default_factory=list)
    alerts_received: list[str] = field(default_factory=list)
    finished_sent: bool = False
    server_hello: bytes = b""
    server_key_exchange: bytes = b""

    def __call__(
        self, conn: Any, direction: str, version: Any, content_type: Any, msg_type: Any, data: bytes
    ) -> None:
        who = Direction.CLIENT if direction == "write" else Direction.SERVER
        t_ms = (time.monotonic() - self.started) * 1000
        ctype = getattr(content_type, "name", str(content_type))
        if ctype == "HANDSHAKE":
            name = getattr(msg_type, "name", str(msg_type))
            kind = _HANDSHAKE_NAMES.get(name, HandshakeStepKind.OTHER)
            if kind is HandshakeStepKind.CERTIFICATE and who is Direction.CLIENT:
                kind = HandshakeStepKind.CLIENT_CERTIFICATE
            if kind is HandshakeStepKind.CERTIFICATE_VERIFY and who is Direction.CLIENT:
                kind = HandshakeStepKind.CLIENT_CERTIFICATE_VERIFY
            if kind is HandshakeStepKind.FINISHED and who is Direction.CLIENT:
                self.finished_sent = True
            if kind is HandshakeStepKind.SERVER_HELLO:
                self.server_hello = bytes(data)
            if kind is HandshakeStepKind.SERVER_KEY_EXCHANGE:
                self.server_key_exchange = bytes(data)
            self.steps.append(HandshakeStep(kind, who, round(t_ms, 3), name.lower()))
        elif ctype == "CHANGE_CIPHER_SPEC":
            self.steps.append(
                HandshakeStep(HandshakeStepKind.CHANGE_CIPHER_SPEC, who, round(t_ms, 3))
            )
        elif ctype == "ALERT" and len(data) >= 2:
            name = alert_name(data[1])
            level = "fatal" if data[0] == 2 else "warning"
            self.steps.append(
                HandshakeStep(HandshakeStepKind.ALERT, who, round(t_ms, 3), f"{level} {name}")
            )
            if who is Direction.SERVER and name != "close_notify":
                self.alerts_received.append(name)


def client_context(*, legacy: bool = False) -> ssl.SSLContext:
    """This machine's default client, minus verification (done separately, several ways).

    ``legacy`` opens every version and suite the local OpenSSL still has; it is used only to
    fetch the certificate of a server the default client cannot talk to.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if legacy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        with contextlib.suppress(ssl.SSLError):
            ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    with contextlib.suppress(NotImplementedError):
        ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@contextlib.contextmanager
def _credentials_loaded(ctx: ssl.SSLContext, creds: ClientCredentials | None) -> Iterator[None]:
    """ssl wants files, and the decrypted key must be in none that a crash leaves behind:
    see core.credentials.load_into_context."""
    if creds is not None:
        from core.credentials import load_into_context  # loaded already: creds come from it

        load_into_context(ctx, creds)
    yield


class _HandshakeFailure(Exception):
    def __init__(self, failure: NetworkFailure, detail: str, alert: str | None = None) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        self.alert = alert


class _Channel:
    """Moves bytes between the socket and the TLS object, each wait bounded and cancellable."""

    def __init__(self, sock: socket.socket, budget: Budget, deadline: float) -> None:
        self.sock = sock
        self.budget = budget
        self.deadline = deadline
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.first_bytes = b""
        self.received_any = False
        self.received = 0
        self.last_received = 0.0

    def flush(self) -> None:
        data = self.outgoing.read()
        while data:
            self._wait(write=True)
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                continue
            except (ConnectionResetError, BrokenPipeError) as exc:
                raise _HandshakeFailure(NetworkFailure.CONNECTION_RESET, str(exc)) from None
            data = data[sent:]

    def _wait(self, *, write: bool = False) -> None:
        while True:
            if self.budget.cancelled:
                raise Cancelled
            if time.monotonic() >= self.deadline:
                raise TimeoutError
            sockets = [self.sock]
            ready = (
                select.select([], sockets, [], wait_slice(self.deadline))
                if write
                else (select.select(sockets, [], [], wait_slice(self.deadline)))
            )
            if ready[1] if write else ready[0]:
                return

    def pull(self) -> bytes:
        """Read what the server sent next; b"" means it closed the connection."""
        self._wait()
        quick_ack(self.sock)
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return self.pull()
        except ConnectionResetError as exc:
            raise _HandshakeFailure(NetworkFailure.CONNECTION_RESET, str(exc) or "reset") from None
        if data and not self.received_any:
            self.received_any = True
            self.first_bytes = data[:64]
            if not _looks_like_tls(data):
                raise _HandshakeFailure(
                    NetworkFailure.NOT_TLS, "the server did not answer with TLS"
                )
        if data:
            self.received += len(data)
            self.last_received = time.monotonic()
            self.incoming.write(data)
        return data

    def stall_detail(self, started: float) -> str:
        """Why the handshake ran out of time, in the words of what the server did."""
        if not self.received_any:
            return "the server accepted the connection but did not answer the ClientHello"
        took = time.monotonic() - started
        if time.monotonic() - self.last_received < min(2.5, took / 2):
            # Bytes kept coming: a per-read timeout would never have fired.
            return (
                f"the server kept sending, but far too slowly: {self.received} bytes "
                f"in {took:.1f} s"
            )
        return "the server stopped answering during the handshake"


#: Linux only; elsewhere delayed ACKs are left as they are.
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def tune_socket(sock: socket.socket) -> None:
    """No answer the check waits for may sit behind a delayed ACK.

    Nagle's algorithm holds a small write (our ``HEAD /`` after the Finished) until the previous
    one is acknowledged, and a peer that delays its ACKs (40 ms on Linux) makes that a 40 ms
    stall; NODELAY sends at once. The other way round, a server whose own Nagle holds its reply
    until we acknowledge its last segment (its session tickets) waits for our delayed ACK:
    QUICKACK acknowledges at once. Options a platform lacks are skipped."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quick_ack(sock)


def quick_ack(sock: socket.socket) -> None:
    """Linux leaves quick-ACK mode by itself after a while, so this is set again before
    each read."""
    if _TCP_QUICKACK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)


def _looks_like_tls(data: bytes) -> bool:
    """A TLS record starts with a content type (20–23) and major version 3."""
    if data[0] not in _TLS_CONTENT_TYPES:
        return False
    return len(data) < 2 or data[1] == 3


def _alert_from_error(exc: ssl.SSLError, recorder: _Recorder) -> str | None:
    if recorder.alerts_received:
        return recorder.alerts_received[-1]
    reason = (getattr(exc, "reason", None) or "").upper()
    marker = "ALERT_"
    if marker in reason:
        return reason.split(marker, 1)[1].lower()
    return None


def handshake(
    sock: socket.socket,
    sni: str | None,
    budget: Budget,
    *,
    credentials: ClientCredentials | None = None,
    legacy: bool = False,
    host_header: str | None = None,
    fetch_http_date: bool = True,
) -> HandshakeObservation:
    """Handshake on a connected socket (which this function closes) and watch it."""
    address = _peer(sock)
    recorder = _Recorder()
    ctx = client_context(legacy=legacy)
    ctx._msg_callback = recorder  # type: ignore[attr-defined]  # private CPython hook, see stack.md
    started = time.monotonic()
    deadline = budget.step_deadline()
    channel = _Channel(sock, budget, deadline)
    base = HandshakeObservation(address=address, ok=False, legacy_retry=legacy)
    tune_socket(sock)
    try:
        with _credentials_loaded(ctx, credentials):
            tls = ctx.wrap_bio(channel.incoming, channel.outgoing, server_hostname=sni)
        recorder.started = time.monotonic()
        # The HEAD request goes out in the same segment as our Finished, unless a client
        # certificate was asked for: then the server's verdict is awaited first.
        _drive_handshake(tls, channel, hold_last=fetch_http_date)
        if any(s.step is HandshakeStepKind.CERTIFICATE_REQUEST for s in recorder.steps):
            channel.flush()
    except _HandshakeFailure as failure:
        sock.close()
        return _failed(
            base, recorder, channel, started, failure.failure, failure.detail, failure.alert
        )
    except TimeoutError:
        sock.close()
        detail = channel.stall_detail(started)
        return _failed(base, recorder, channel, started, NetworkFailure.HANDSHAKE_TIMEOUT, detail)
    except ssl.SSLError as exc:
        sock.close()
        alert = _alert_from_error(exc, recorder)
        kind = NetworkFailure.TLS_ALERT if alert else NetworkFailure.TLS_ERROR
        server_spoke_tls = any(s.direction is Direction.SERVER for s in recorder.steps)
        if not alert and not server_spoke_tls and "WRONG_VERSION_NUMBER" in str(exc).upper():
            # Not TLS from the first record on. After a ServerHello the same error means the
            # server's TLS broke off into something else: a protocol error, not "not TLS".
            kind = NetworkFailure.NOT_TLS
        return _failed(base, recorder, channel, started, kind, _ssl_reason(exc), alert)
    except Cancelled:
        sock.close()
        raise
    except OSError as exc:
        sock.close()
        return _failed(base, recorder, channel, started, NetworkFailure.CONNECTION_RESET, str(exc))

    observation = replace(
        base,
        ok=True,
        protocol=TlsVersion.from_label(tls.version() or ""),
        cipher_openssl=(tls.cipher() or (None,))[0],
        alpn=tls.selected_alpn_protocol(),
        chain_der=_chain_as_sent(tls),
        certificate_requested=any(
            s.step is HandshakeStepKind.CERTIFICATE_REQUEST for s in recorder.steps
        ),
        client_certificate_sent=credentials is not None,
        first_bytes=channel.first_bytes,
    )
    http_date: HttpDateSample | None = None
    late_alert: str | None = None
    if fetch_http_date or observation.certificate_requested:
        try:
            http_date = _fetch_http_date(
                tls,
                channel,
                budget,
                host_header or sni or address or "",
                expect_verdict=observation.certificate_requested
                and observation.protocol is TlsVersion.TLS1_3,
            )
        except ssl.SSLError as exc:
            late_alert = _alert_from_error(exc, recorder)
        except (_HandshakeFailure, TimeoutError, OSError):
            pass
        finally:  # also when a cancel ends the Date request: never leave the socket open
            with contextlib.suppress(OSError):
                sock.close()
    with contextlib.suppress(OSError):
        sock.close()
    return replace(
        observation,
        steps=tuple(recorder.steps),
        http_date=http_date,
        alert=late_alert,
        alert_after_finished=late_alert is not None,
        duration_ms=(time.monotonic() - started) * 1000,
        group=_group_name(recorder),
    )


def _drive_handshake(tls: ssl.SSLObject, channel: _Channel, *, hold_last: bool = False) -> None:
    """``hold_last``: leave the client's last flight (TLS 1.3: its Finished) in the outgoing
    buffer, so the caller can send its first request in the same segment."""
    while True:
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            channel.flush()
            if not channel.pull():
                raise _HandshakeFailure(
                    NetworkFailure.CONNECTION_RESET,
                    "the server closed the connection during the handshake",
                ) from None
        else:
            if not hold_last:
                channel.flush()
            return


def _await_server_verdict(tls: ssl.SSLObject, channel: _Channel) -> None:
    """After a TLS 1.3 CertificateRequest, the server judges our certificate only once it has
    our Finished. Read its answer (tickets, or an alert) before sending anything: if we sent
    the request first, a server that rejects us closes with our bytes unread, the kernel answers
    with a reset, and the alert that says why is lost with it."""
    try:
        if channel.pull():
            tls.read(4096)
    except (ssl.SSLWantReadError, TimeoutError):
        return


def _fetch_http_date(
    tls: ssl.SSLObject, channel: _Channel, budget: Budget, host: str, *, expect_verdict: bool
) -> HttpDateSample | None:
    """Send ``HEAD /`` and read the response head; returns the Date sample if one came."""
    request = (
        f"HEAD / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: HandshakeDoctor\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii", "replace")
    channel.deadline = min(budget.step_deadline(), time.monotonic() + HTTP_DATE_WAIT_S)
    if expect_verdict:
        _await_server_verdict(tls, channel)
    sent_at = dt.datetime.now(dt.UTC)
    tls.write(request)
    channel.flush()
    head = b""
    while b"\r\n\r\n" not in head and len(head) < MAX_HTTP_HEAD:
        try:
            chunk = tls.read(4096)
        except ssl.SSLWantReadError:
            channel.flush()
            if not channel.pull():
                break
            continue
        except ssl.SSLZeroReturnError:
            break
        if not chunk:
            break
        head += chunk
    received_at = dt.datetime.now(dt.UTC)
    date = date_from_response(head)
    return HttpDateSample(date[:100], sent_at, received_at) if date else None


def _failed(
    base: HandshakeObservation,
    recorder: _Recorder,
    channel: _Channel,
    started: float,
    failure: NetworkFailure,
    detail: str,
    alert: str | None = None,
) -> HandshakeObservation:
    return replace(
        base,
        steps=tuple(recorder.steps),
        failure=failure,
        failure_detail=detail,
        alert=alert,
        certificate_requested=any(
            s.step is HandshakeStepKind.CERTIFICATE_REQUEST for s in recorder.steps
        ),
        first_bytes=channel.first_bytes,
        duration_ms=(time.monotonic() - started) * 1000,
    )


def _chain_as_sent(tls: ssl.SSLObject) -> tuple[bytes, ...]:
    public = getattr(tls, "get_unverified_chain", None)  # Python 3.13+
    if public is not None:
        return tuple(bytes(c) for c in public() or ())
    inner = getattr(tls, "_sslobj", None)
    getter = getattr(inner, "get_unverified_chain", None)
    if getter is None:
        return ()
    certs = getter() or []
    return tuple(c.public_bytes(ssl._ssl.ENCODING_DER) for c in certs)  # type: ignore[attr-defined]


def _group(code: int) -> str:
    """The group's IANA name (wire/'s registry, the one TLS vocabulary), or its number."""
    from core.wire.hello import GROUP_NAMES

    return GROUP_NAMES.get(code, f"0x{code:04x}")


def _group_name(recorder: _Recorder) -> str | None:
    """The key-exchange group, from the ServerHello's key_share (TLS 1.3) or the
    ServerKeyExchange's named curve (TLS 1.2 ECDHE). Both messages arrive with their 4-byte
    handshake header."""
    ske = recorder.server_key_exchange
    if len(ske) >= 7 and ske[4] == 3:  # curve_type named_curve
        code = int.from_bytes(ske[5:7], "big")
        return _group(code)
    from core.wire.parse import ServerHello, parse_server_hello

    parsed = parse_server_hello(recorder.server_hello[4:])
    if isinstance(parsed, ServerHello) and parsed.key_share_group is not None:
        return _group(parsed.key_share_group)
    return None


_SSL_NOISE = re.compile(r"^\[[^\]]*\]\s*|\s*\(_ssl\.c:\d+\)$")


def _ssl_reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason in plain words: "wrong version number", not
    "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"."""
    reason = getattr(exc, "reason", None)
    text = str(reason) if reason else _SSL_NOISE.sub("", str(exc.strerror or exc))
    return text.replace("_", " ").lower().strip() or "unknown TLS error"


def _peer(sock: socket.socket) -> str | None:
    try:
        return str(sock.getpeername()[0])
    except OSError:
        return None
