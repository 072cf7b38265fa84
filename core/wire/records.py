"""The TLS record layer and the protocol numbers that every other wire module shares.

We speak just enough TLS to send one ClientHello and read what comes back, so this module knows
the record header (RFC 8446 §5.1, unchanged since SSL 3.0), the version numbers, the content
types, the handshake message types and the alert descriptions. Nothing here reads a socket.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator

#: Largest plaintext fragment a record may carry (RFC 8446 §5.1). Longer messages are split.
MAX_FRAGMENT = 1 << 14
#: A received record may be up to 2^14 + 2048 bytes (ciphertext expansion, RFC 5246 §6.2.3);
#: anything longer is not a TLS record we should believe.
MAX_RECORD_PAYLOAD = MAX_FRAGMENT + 2048
RECORD_HEADER_LEN = 5


class TlsVersion(enum.IntEnum):
    """Protocol versions as they appear on the wire, named as the contract's JSON names them."""

    SSL3 = 0x0300
    TLS1_0 = 0x0301
    TLS1_1 = 0x0302
    TLS1_2 = 0x0303
    TLS1_3 = 0x0304

    @property
    def label(self) -> str:
        """The name used in reports and JSON ("SSLv3", "TLSv1.0", …)."""
        return _VERSION_LABELS[self]

    def __str__(self) -> str:
        # An IntEnum prints as its number ("771"): a version is never shown that way.
        return self.label

    @property
    def human(self) -> str:
        """The name people read ("SSL 3.0", "TLS 1.3")."""
        return _HUMAN_NAMES[self]

    @classmethod
    def from_label(cls, label: str) -> TlsVersion | None:
        """The version a label names, OpenSSL's "TLSv1" included."""
        label = _OPENSSL_ALIASES.get(label, label)
        for version, name in _VERSION_LABELS.items():
            if name == label:
                return version
        return None

    @classmethod
    def from_wire(cls, value: int) -> TlsVersion | None:
        try:
            return cls(value)
        except ValueError:
            return None


_VERSION_LABELS = {
    TlsVersion.SSL3: "SSLv3",
    TlsVersion.TLS1_0: "TLSv1.0",
    TlsVersion.TLS1_1: "TLSv1.1",
    TlsVersion.TLS1_2: "TLSv1.2",
    TlsVersion.TLS1_3: "TLSv1.3",
}

_HUMAN_NAMES = {
    TlsVersion.SSL3: "SSL 3.0",
    TlsVersion.TLS1_0: "TLS 1.0",
    TlsVersion.TLS1_1: "TLS 1.1",
    TlsVersion.TLS1_2: "TLS 1.2",
    TlsVersion.TLS1_3: "TLS 1.3",
}
#: OpenSSL names TLS 1.0 "TLSv1" (``SSLSocket.version()``).
_OPENSSL_ALIASES = {"TLSv1": "TLSv1.0"}

#: Every version label, oldest first: the keys of the contract's ``protocols`` object.
VERSION_LABELS: tuple[str, ...] = tuple(_VERSION_LABELS[v] for v in TlsVersion)
#: The versions below TLS 1.2, which the legacy-protocol finding names.
LEGACY_VERSIONS: tuple[TlsVersion, ...] = tuple(v for v in TlsVersion if v < TlsVersion.TLS1_2)
LEGACY_LABELS: tuple[str, ...] = tuple(v.label for v in LEGACY_VERSIONS)


def contract_label(name: str) -> str:
    """A version as the contract's JSON names it: OpenSSL's "TLSv1" as "TLSv1.0"; a name that
    is no version is left as it is."""
    known = TlsVersion.from_label(name)
    return known.label if known is not None else name


def human_version(name: str) -> str:
    """ "TLSv1.3" (or OpenSSL's "TLSv1") as people read it; a name that is no version is left
    as it is."""
    known = TlsVersion.from_label(name)
    return known.human if known is not None else name


def version_label(value: int) -> str:
    """A readable name for any 16-bit version number, including ones we do not know."""
    known = TlsVersion.from_wire(value)
    return known.label if known is not None else f"0x{value:04x}"


class ContentType(enum.IntEnum):
    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23
    HEARTBEAT = 24


class HandshakeType(enum.IntEnum):
    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    NEW_SESSION_TICKET = 4
    END_OF_EARLY_DATA = 5
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20
    CERTIFICATE_STATUS = 22
    KEY_UPDATE = 24
    MESSAGE_HASH = 254


class AlertLevel(enum.IntEnum):
    WARNING = 1
    FATAL = 2


class AlertDescription(enum.IntEnum):
    """RFC 8446 §6 and the older ones RFC 5246 still lists; names match the RFC spelling, which is
    what the engine and the catalogue put in evidence (``protocol_version``, …)."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    no_application_protocol = 120


#: Alerts by which a server refuses every version it was offered (RFC 8446 §6.2, RFC 7507).
VERSION_ALERTS = frozenset({"protocol_version", "inappropriate_fallback"})
#: Alerts a server sends when no offered suite (or group) will do; many also send
#: ``handshake_failure`` when the versions do not meet, so it explains either.
CIPHER_ALERTS = frozenset({"handshake_failure", "insufficient_security"})


def alert_name(description: int) -> str:
    """RFC name of an alert, or ``alert_<n>`` for numbers no RFC we know assigns."""
    try:
        return AlertDescription(description).name
    except ValueError:
        return f"alert_{description}"


def encode_record(content_type: int, version: int, payload: bytes) -> bytes:
    """Frame ``payload`` as records, splitting it at 2^14 bytes as RFC 8446 §5.1 requires.

    An empty payload still yields one (empty) record, which only alerts and tests want.
    """
    return b"".join(
        struct.pack("!BHH", content_type, version, len(chunk)) + chunk
        for chunk in _fragments(payload)
    )


def _fragments(payload: bytes) -> Iterator[bytes]:
    if not payload:
        yield b""
        return
    for start in range(0, len(payload), MAX_FRAGMENT):
        yield payload[start : start + MAX_FRAGMENT]


def encode_handshake(msg_type: int, body: bytes) -> bytes:
    """One handshake message: type, 24-bit length, body (RFC 8446 §4)."""
    if len(body) >= 1 << 24:
        raise ValueError("handshake message longer than 2^24 - 1 bytes")
    return struct.pack("!B", msg_type) + len(body).to_bytes(3, "big") + body
