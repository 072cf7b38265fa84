"""Total parsers for what a server sends back to a ClientHello, and for ClientHellos themselves.

The bytes come from strangers: servers that are broken, middleboxes that inject junk, ports that
speak another protocol. Every function here therefore returns either its result or a
:class:`Malformed` that says where and why the bytes stopped making sense; none of them raises,
whatever the input (the property tests feed them arbitrary and mutated bytes). Reading goes
through :class:`_Reader`, whose every read returns None instead of running past the end.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from core.wire.records import (
    MAX_RECORD_PAYLOAD,
    RECORD_HEADER_LEN,
    AlertLevel,
    ContentType,
    HandshakeType,
    TlsVersion,
    alert_name,
)

#: ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)

_EXT_SUPPORTED_VERSIONS = 43
_EXT_KEY_SHARE = 51
_EXT_SUPPORTED_GROUPS = 10
_EXT_SERVER_NAME = 0
_EXT_SIGNATURE_ALGORITHMS = 13
_EC_CURVE_TYPE_NAMED = 3


@dataclass(frozen=True)
class Malformed:
    """The bytes are not what they should be; ``offset`` is where reading gave up."""

    reason: str
    offset: int = 0


class _Reader:
    """Bounds-checked big-endian reads over ``data[start:end]``; every read past the end
    returns None and leaves the position unchanged."""

    __slots__ = ("_data", "_end", "pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self._data = data
        self.pos = start
        self._end = len(data) if end is None else min(end, len(data))

    @property
    def remaining(self) -> int:
        return self._end - self.pos

    def take(self, n: int) -> bytes | None:
        if n < 0 or self.remaining < n:
            return None
        chunk = self._data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, width: int) -> int | None:
        chunk = self.take(width)
        return int.from_bytes(chunk, "big") if chunk is not None else None

    def vector(self, len_width: int) -> bytes | None:
        start = self.pos
        length = self.uint(len_width)
        if length is None:
            return None
        chunk = self.take(length)
        if chunk is None:
            self.pos = start
        return chunk


def _u16_values(data: bytes) -> tuple[int, ...] | None:
    if len(data) % 2:
        return None
    return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Record:
    content_type: int
    version: int
    payload: bytes


@dataclass(frozen=True)
class RecordStream:
    """The whole records found, an incomplete record still waiting for bytes (``remainder``),
    and, if the bytes stopped looking like TLS, why (``malformed``; nothing after it is read)."""

    records: tuple[Record, ...]
    remainder: bytes
    malformed: Malformed | None = None


def looks_like_record_header(header: bytes) -> bool:
    """Whether five bytes can start a TLS record: a known content type, major version 3, a
    length a peer may send. Plain HTTP, SMTP banners and SSH greetings all fail this."""
    if len(header) < RECORD_HEADER_LEN:
        return False
    content_type, major, length = header[0], header[1], int.from_bytes(header[3:5], "big")
    return content_type in _CONTENT_TYPES and major == 3 and length <= MAX_RECORD_PAYLOAD


_CONTENT_TYPES = frozenset(int(t) for t in ContentType)


def parse_records(data: bytes) -> RecordStream:
    """Split a byte stream into records. Never raises; see :class:`RecordStream`."""
    records: list[Record] = []
    pos = 0
    while len(data) - pos >= RECORD_HEADER_LEN:
        header = data[pos : pos + RECORD_HEADER_LEN]
        if not looks_like_record_header(header):
            return RecordStream(tuple(records), b"", Malformed(_not_a_record(header), pos))
        length = int.from_bytes(header[3:5], "big")
        if len(data) - pos - RECORD_HEADER_LEN < length:
            break
        start = pos + RECORD_HEADER_LEN
        records.append(
            Record(header[0], int.from_bytes(header[1:3], "big"), data[start : start + length])
        )
        pos = start + length
    remainder = data[pos:]
    if remainder and not _plausible_prefix(remainder):
        return RecordStream(tuple(records), b"", Malformed(_not_a_record(remainder), pos))
    return RecordStream(tuple(records), remainder)


def _plausible_prefix(partial: bytes) -> bool:
    """Whether fewer than five bytes could still grow into a record header."""
    if partial[0] not in _CONTENT_TYPES:
        return False
    return len(partial) < 2 or partial[1] == 3


def _not_a_record(header: bytes) -> str:
    if header[0] not in _CONTENT_TYPES:
        return f"not a TLS record (first byte 0x{header[0]:02x})"
    if len(header) >= 2 and header[1] != 3:
        return f"not a TLS record (version byte 0x{header[1]:02x})"
    return "record longer than TLS allows"


# --------------------------------------------------------------------------- handshake framing


@dataclass(frozen=True)
class HandshakeMessage:
    msg_type: int
    body: bytes


@dataclass(frozen=True)
class HandshakeStream:
    messages: tuple[HandshakeMessage, ...]
    remainder: bytes


def parse_handshake_messages(data: bytes) -> HandshakeStream:
    """Split the concatenated payloads of handshake records into messages. A message may span
    records, so an incomplete one is returned as ``remainder`` rather than as an error."""
    messages: list[HandshakeMessage] = []
    reader = _Reader(data)
    while reader.remaining >= 4:
        start = reader.pos
        msg_type = reader.uint(1)
        body = reader.vector(3)
        if msg_type is None or body is None:
            reader.pos = start
            break
        messages.append(HandshakeMessage(msg_type, body))
    return HandshakeStream(tuple(messages), data[reader.pos :])


# --------------------------------------------------------------------------- extensions


@dataclass(frozen=True)
class Extension:
    ext_type: int
    data: bytes


def parse_extensions(data: bytes) -> tuple[Extension, ...] | Malformed:
    """The ``extensions`` vector's contents (without its own length prefix)."""
    reader = _Reader(data)
    found: list[Extension] = []
    while reader.remaining:
        ext_type = reader.uint(2)
        body = reader.vector(2)
        if ext_type is None or body is None:
            return Malformed("truncated extension", reader.pos)
        found.append(Extension(ext_type, body))
    return tuple(found)


def _find(extensions: tuple[Extension, ...], ext_type: int) -> bytes | None:
    for ext in extensions:
        if ext.ext_type == ext_type:
            return ext.data
    return None


# --------------------------------------------------------------------------- ServerHello


@dataclass(frozen=True)
class ServerHello:
    """A ServerHello or HelloRetryRequest (same wire format, RFC 8446 §4.1.3)."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: tuple[Extension, ...]
    #: supported_versions' selected_version: how TLS 1.3 says "1.3" (legacy_version is 0x0303).
    selected_version: int | None = None
    #: ServerHello: the group of the server's key share; HelloRetryRequest: the group it asks for.
    key_share_group: int | None = None

    @property
    def is_hello_retry_request(self) -> bool:
        return self.random == HELLO_RETRY_REQUEST_RANDOM

    @property
    def version(self) -> int:
        """The version the server chose."""
        return self.selected_version if self.selected_version is not None else self.legacy_version


def parse_server_hello(body: bytes) -> ServerHello | Malformed:
    """The body of a ServerHello handshake message (after type and length)."""
    reader = _Reader(body)
    legacy_version = reader.uint(2)
    random = reader.take(32)
    session_id = reader.vector(1)
    cipher_suite = reader.uint(2)
    compression = reader.uint(1)
    if (
        legacy_version is None
        or random is None
        or session_id is None
        or cipher_suite is None
        or compression is None
    ):
        return Malformed("ServerHello truncated", reader.pos)
    if len(session_id) > 32:
        return Malformed("ServerHello session id longer than 32 bytes", 34)
    extensions: tuple[Extension, ...] = ()
    if reader.remaining:
        raw = reader.vector(2)
        if raw is None:
            return Malformed("ServerHello extensions truncated", reader.pos)
        if reader.remaining:
            return Malformed("bytes after the ServerHello extensions", reader.pos)
        parsed = parse_extensions(raw)
        if isinstance(parsed, Malformed):
            return parsed
        extensions = parsed
    is_hrr = random == HELLO_RETRY_REQUEST_RANDOM
    selected_version: int | None = None
    versions = _find(extensions, _EXT_SUPPORTED_VERSIONS)
    if versions is not None:
        if len(versions) != 2:
            return Malformed("supported_versions in a ServerHello is not one version")
        selected_version = int.from_bytes(versions, "big")
    key_share_group: int | None = None
    share = _find(extensions, _EXT_KEY_SHARE)
    if share is not None:
        group = _server_key_share_group(share, hello_retry=is_hrr)
        if isinstance(group, Malformed):
            return group
        key_share_group = group
    return ServerHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher_suite,
        compression_method=compression,
        extensions=extensions,
        selected_version=selected_version,
        key_share_group=key_share_group,
    )


def _server_key_share_group(data: bytes, *, hello_retry: bool) -> int | Malformed:
    reader = _Reader(data)
    group = reader.uint(2)
    if group is None:
        return Malformed("key_share truncated")
    if hello_retry:
        return group if not reader.remaining else Malformed("key_share in HRR is not one group")
    share = reader.vector(2)
    if share is None or not share or reader.remaining:
        return Malformed("key_share entry malformed", reader.pos)
    return group


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Alert:
    level: int
    description: int

    @property
    def name(self) -> str:
        """RFC name (``handshake_failure``), or ``alert_<n>`` for an unassigned number."""
        return alert_name(self.description)

    @property
    def fatal(self) -> bool:
        # A warning-level alert during a handshake that the server then abandons acts as fatal
        # too; callers treat any alert before a ServerHello as a refusal.
        return self.level == AlertLevel.FATAL


def parse_alert(payload: bytes) -> Alert | Malformed:
    """The first alert in an alert record's payload."""
    if len(payload) < 2:
        return Malformed("alert shorter than two bytes")
    return Alert(payload[0], payload[1])


# --------------------------------------------------------------------------- ServerKeyExchange


def parse_ecdhe_group(body: bytes) -> int | Malformed:
    """The named curve in an ECDHE ServerKeyExchange (RFC 8422 §5.4): the group a TLS 1.0–1.2
    server chose, which its ServerHello does not say."""
    reader = _Reader(body)
    curve_type = reader.uint(1)
    group = reader.uint(2)
    if curve_type is None or group is None:
        return Malformed("ServerKeyExchange truncated")
    if curve_type != _EC_CURVE_TYPE_NAMED:
        return Malformed(f"ServerKeyExchange curve type {curve_type}, not named_curve")
    return group


def parse_dhe_prime_bits(body: bytes) -> int | Malformed:
    """The size of the prime in a DHE ServerKeyExchange (RFC 5246 §7.4.3: dh_p, dh_g, dh_Ys):
    the Diffie-Hellman group a TLS 1.0–1.2 server uses, which clients judge by its bits."""
    reader = _Reader(body)
    prime = reader.vector(2)
    if not prime:
        return Malformed("ServerKeyExchange truncated")
    stripped = prime.lstrip(b"\x00")
    return int.from_bytes(stripped, "big").bit_length() if stripped else 0


# --------------------------------------------------------------------------- ClientHello


@dataclass(frozen=True)
class ClientHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: bytes
    extensions: tuple[Extension, ...]

    def extension(self, ext_type: int) -> bytes | None:
        return _find(self.extensions, ext_type)

    @property
    def supported_versions(self) -> tuple[int, ...]:
        """Versions offered via the extension, or the legacy version alone."""
        data = self.extension(_EXT_SUPPORTED_VERSIONS)
        if data is None or not data or data[0] != len(data) - 1:
            return (self.legacy_version,)
        return _u16_values(data[1:]) or (self.legacy_version,)

    @property
    def supported_groups(self) -> tuple[int, ...]:
        data = self.extension(_EXT_SUPPORTED_GROUPS)
        if data is None or len(data) < 2 or int.from_bytes(data[:2], "big") != len(data) - 2:
            return ()
        return _u16_values(data[2:]) or ()

    @property
    def signature_algorithms(self) -> tuple[int, ...]:
        data = self.extension(_EXT_SIGNATURE_ALGORITHMS)
        if data is None or len(data) < 2 or int.from_bytes(data[:2], "big") != len(data) - 2:
            return ()
        return _u16_values(data[2:]) or ()

    @property
    def key_share_groups(self) -> tuple[int, ...]:
        data = self.extension(_EXT_KEY_SHARE)
        if data is None:
            return ()
        outer = _Reader(data)
        entries = outer.vector(2)
        if entries is None:
            return ()
        reader = _Reader(entries)
        groups: list[int] = []
        while reader.remaining:
            group = reader.uint(2)
            share = reader.vector(2)
            if group is None or share is None:
                return tuple(groups)
            groups.append(group)
        return tuple(groups)

    @property
    def server_name(self) -> str | None:
        data = self.extension(_EXT_SERVER_NAME)
        if data is None:
            return None
        reader = _Reader(data)
        names = reader.vector(2)
        if names is None:
            return None
        inner = _Reader(names)
        while inner.remaining:
            name_type = inner.uint(1)
            name = inner.vector(2)
            if name_type is None or name is None:
                return None
            if name_type == 0:
                return name.decode("ascii", "replace")
        return None


def parse_client_hello(body: bytes) -> ClientHello | Malformed:
    """The body of a ClientHello handshake message (after type and length)."""
    reader = _Reader(body)
    legacy_version = reader.uint(2)
    random = reader.take(32)
    session_id = reader.vector(1)
    suites = reader.vector(2)
    compression = reader.vector(1)
    if (
        legacy_version is None
        or random is None
        or session_id is None
        or suites is None
        or compression is None
    ):
        return Malformed("ClientHello truncated", reader.pos)
    cipher_suites = _u16_values(suites)
    if cipher_suites is None:
        return Malformed("cipher suite list of odd length")
    extensions: tuple[Extension, ...] = ()
    if reader.remaining:
        raw = reader.vector(2)
        if raw is None or reader.remaining:
            return Malformed("ClientHello extensions malformed", reader.pos)
        parsed = parse_extensions(raw)
        if isinstance(parsed, Malformed):
            return parsed
        extensions = parsed
    return ClientHello(legacy_version, random, session_id, cipher_suites, compression, extensions)


def parse_client_hello_records(data: bytes) -> ClientHello | Malformed:
    """A ClientHello as sent on the wire: records, then the handshake message inside."""
    stream = parse_records(data)
    if stream.malformed is not None:
        return stream.malformed
    payload = b"".join(r.payload for r in stream.records if r.content_type == ContentType.HANDSHAKE)
    messages = parse_handshake_messages(payload).messages
    if not messages:
        return Malformed("no complete handshake message")
    if messages[0].msg_type != HandshakeType.CLIENT_HELLO:
        return Malformed(f"first handshake message is type {messages[0].msg_type}")
    return parse_client_hello(messages[0].body)


# --------------------------------------------------------------------------- the server's answer


class ReplyKind(enum.StrEnum):
    SERVER_HELLO = "server-hello"
    HELLO_RETRY_REQUEST = "hello-retry-request"
    ALERT = "alert"
    #: Nothing conclusive yet: wait for more bytes (or for the connection to end).
    INCOMPLETE = "incomplete"
    #: Bytes that are not a TLS answer to a ClientHello.
    MALFORMED = "malformed"


@dataclass(frozen=True)
class ServerReply:
    """What the bytes received so far say about the server's answer.

    ``complete`` is False when a ServerHello was read but the caller asked for the key exchange
    group of a TLS 1.0–1.2 server and the ServerKeyExchange has not arrived yet.
    """

    kind: ReplyKind
    hello: ServerHello | None = None
    alert: Alert | None = None
    key_exchange_group: int | None = None
    malformed: Malformed | None = None
    complete: bool = True
    #: The ServerKeyExchange's body, when it was read (a DHE one holds the group's prime).
    key_exchange: bytes | None = None

    @property
    def conclusive(self) -> bool:
        return self.kind is not ReplyKind.INCOMPLETE and self.complete


def read_server_reply(data: bytes, *, want_key_exchange: bool = False) -> ServerReply:
    """Interpret the first bytes a server sent after our ClientHello.

    Call it again as bytes arrive. It stops at the ServerHello (or, with
    ``want_key_exchange``, at the ECDHE ServerKeyExchange or ServerHelloDone of a TLS 1.0–1.2
    server); what follows is encrypted in TLS 1.3 and of no interest before that.
    """
    stream = parse_records(data)
    handshake = b""
    hello: ServerHello | None = None
    for record in stream.records:
        if record.content_type == ContentType.ALERT:
            if hello is not None:
                return _hello_reply(hello, None, complete=True)
            alert = parse_alert(record.payload)
            if isinstance(alert, Malformed):
                return ServerReply(ReplyKind.MALFORMED, malformed=alert)
            return ServerReply(ReplyKind.ALERT, alert=alert)
        if record.content_type != ContentType.HANDSHAKE:
            if hello is not None:
                return _hello_reply(hello, None, complete=True)
            return ServerReply(
                ReplyKind.MALFORMED,
                malformed=Malformed(f"record type {record.content_type} before a ServerHello"),
            )
        handshake += record.payload
        outcome = _scan_handshake(handshake, want_key_exchange)
        if outcome is not None and outcome.conclusive:
            return outcome
        if outcome is not None and outcome.hello is not None:
            hello = outcome.hello
    if stream.malformed is not None:
        if hello is not None:
            return _hello_reply(hello, None, complete=True)
        return ServerReply(ReplyKind.MALFORMED, malformed=stream.malformed)
    if hello is not None:
        return _hello_reply(hello, None, complete=False)
    return ServerReply(ReplyKind.INCOMPLETE)


def _scan_handshake(data: bytes, want_key_exchange: bool) -> ServerReply | None:
    messages = parse_handshake_messages(data).messages
    hello: ServerHello | None = None
    for message in messages:
        if hello is None:
            if message.msg_type == HandshakeType.HELLO_REQUEST:
                continue
            if message.msg_type != HandshakeType.SERVER_HELLO:
                return ServerReply(
                    ReplyKind.MALFORMED,
                    malformed=Malformed(f"handshake message {message.msg_type} before ServerHello"),
                )
            parsed = parse_server_hello(message.body)
            if isinstance(parsed, Malformed):
                return ServerReply(ReplyKind.MALFORMED, malformed=parsed)
            hello = parsed
            if (
                not want_key_exchange
                or hello.is_hello_retry_request
                or hello.version >= TlsVersion.TLS1_3
            ):
                return _hello_reply(hello, None, complete=True)
            continue
        if message.msg_type == HandshakeType.SERVER_KEY_EXCHANGE:
            group = parse_ecdhe_group(message.body)
            reply = _hello_reply(hello, None if isinstance(group, Malformed) else group, True)
            return replace(reply, key_exchange=message.body)
        if message.msg_type in (HandshakeType.SERVER_HELLO_DONE, HandshakeType.CERTIFICATE_REQUEST):
            return _hello_reply(hello, None, complete=True)
    if hello is not None:
        return _hello_reply(hello, None, complete=False)
    return None


def _hello_reply(hello: ServerHello, group: int | None, complete: bool) -> ServerReply:
    kind = ReplyKind.HELLO_RETRY_REQUEST if hello.is_hello_retry_request else ReplyKind.SERVER_HELLO
    if group is None:
        group = hello.key_share_group
    return ServerReply(kind, hello=hello, key_exchange_group=group, complete=complete)
