"""ClientHello messages built byte by byte, so that any version and any cipher suite can be offered.

The local OpenSSL refuses to offer SSL 3.0, RC4, EXPORT, DES and many other suites that servers in
the field still accept; a diagnosis has to see those, so the prober writes its own ClientHello
(RFC 5246 §7.4.1.2, RFC 8446 §4.1.2) and reads only the answer. No handshake is ever completed, so
the key shares we send need only be well-formed, not secret (see ``_KEY_SHARES``).
"""

from __future__ import annotations

import enum
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from core.wire.records import (
    ContentType,
    HandshakeType,
    TlsVersion,
    encode_handshake,
    encode_record,
)

#: Signals secure renegotiation support (RFC 5746) without an extension; SSL 3.0 servers
#: understand it, and some servers refuse clients that show neither it nor the extension.
TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
TLS_FALLBACK_SCSV = 0x5600


class ExtensionType(enum.IntEnum):
    SERVER_NAME = 0
    STATUS_REQUEST = 5
    SUPPORTED_GROUPS = 10
    EC_POINT_FORMATS = 11
    SIGNATURE_ALGORITHMS = 13
    ALPN = 16
    PADDING = 21
    ENCRYPT_THEN_MAC = 22
    EXTENDED_MASTER_SECRET = 23
    SESSION_TICKET = 35
    PRE_SHARED_KEY = 41
    EARLY_DATA = 42
    SUPPORTED_VERSIONS = 43
    COOKIE = 44
    PSK_KEY_EXCHANGE_MODES = 45
    KEY_SHARE = 51
    RENEGOTIATION_INFO = 0xFF01


#: The IANA "TLS Supported Groups" registry, by code, under the registry's names.
GROUP_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "sect163k1",
        2: "sect163r1",
        3: "sect163r2",
        4: "sect193r1",
        5: "sect193r2",
        6: "sect233k1",
        7: "sect233r1",
        8: "sect239k1",
        9: "sect283k1",
        10: "sect283r1",
        11: "sect409k1",
        12: "sect409r1",
        13: "sect571k1",
        14: "sect571r1",
        15: "secp160k1",
        16: "secp160r1",
        17: "secp160r2",
        18: "secp192k1",
        19: "secp192r1",
        20: "secp224k1",
        21: "secp224r1",
        22: "secp256k1",
        23: "secp256r1",
        24: "secp384r1",
        25: "secp521r1",
        26: "brainpoolP256r1",
        27: "brainpoolP384r1",
        28: "brainpoolP512r1",
        29: "x25519",
        30: "x448",
        31: "brainpoolP256r1tls13",
        32: "brainpoolP384r1tls13",
        33: "brainpoolP512r1tls13",
        41: "curveSM2",
        256: "ffdhe2048",
        257: "ffdhe3072",
        258: "ffdhe4096",
        259: "ffdhe6144",
        260: "ffdhe8192",
        0x0200: "MLKEM512",
        0x0201: "MLKEM768",
        0x0202: "MLKEM1024",
        0x11EB: "SecP256r1MLKEM768",
        0x11EC: "X25519MLKEM768",
        0x11ED: "SecP384r1MLKEM1024",
    }
)

#: OpenSSL and client-simulation spellings of the same groups.
GROUP_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "prime192v1": "secp192r1",
        "prime256v1": "secp256r1",
        "P-256": "secp256r1",
        "P-384": "secp384r1",
        "P-521": "secp521r1",
        "X25519": "x25519",
        "X448": "x448",
    }
)

_GROUP_CODES = {name: code for code, name in GROUP_NAMES.items()}


def group_name(code: int) -> str:
    """Registry name of a group, or its hex value when the registry has none we know."""
    return GROUP_NAMES.get(code, f"0x{code:04x}")


def group_code(name: str) -> int | None:
    """Code for a group name in IANA, OpenSSL or client-simulation spelling."""
    return _GROUP_CODES.get(GROUP_ALIASES.get(name, name))


#: Groups a TLS 1.3 server may pick (RFC 8446 §4.2.7 and later registrations), most common first.
#: Offering codes a server does not know is harmless: it must ignore them.
TLS13_GROUPS: tuple[int, ...] = (
    29,  # x25519
    23,  # secp256r1
    24,  # secp384r1
    25,  # secp521r1
    30,  # x448
    0x11EC,  # X25519MLKEM768
    0x11EB,  # SecP256r1MLKEM768
    0x11ED,  # SecP384r1MLKEM1024
    0x0200,
    0x0201,
    0x0202,
    31,
    32,
    33,
    41,
    256,
    257,
    258,
    259,
    260,
)

#: Elliptic curves a TLS 1.0–1.2 server may pick for ECDHE (RFC 4492, RFC 7027, RFC 8422).
ECDHE_GROUPS: tuple[int, ...] = (29, 23, 24, 25, 30, 26, 27, 28, 22, *range(1, 22))

#: Every signature scheme a server might need to sign with, modern first. SHA-1 and the
#: legacy (hash, signature) pairs are included because a diagnosis must reach old servers.
SIGNATURE_ALGORITHMS: tuple[int, ...] = (
    0x0403,  # ecdsa_secp256r1_sha256
    0x0804,  # rsa_pss_rsae_sha256
    0x0401,  # rsa_pkcs1_sha256
    0x0503,
    0x0805,
    0x0501,
    0x0603,
    0x0806,
    0x0601,
    0x0807,  # ed25519
    0x0808,  # ed448
    0x0809,  # rsa_pss_pss_sha256
    0x080A,
    0x080B,
    0x081A,  # ecdsa_brainpoolP256r1tls13_sha256
    0x081B,
    0x081C,
    0x0303,  # sha224 ecdsa
    0x0301,
    0x0302,
    0x0402,  # sha256 dsa
    0x0502,
    0x0602,
    0x0203,  # ecdsa_sha1
    0x0201,  # rsa_pkcs1_sha1
    0x0202,  # dsa_sha1
)

# Key shares need not be secret: the prober never finishes a handshake. They must still be
# valid, because servers check them before answering. Any 32 or 56 bytes are an X25519/X448
# public key (RFC 7748 §5), but a random P-256 string is almost never on the curve and OpenSSL
# answers ``illegal_parameter``; the curve's generator point G is a valid public key.
_P256_GENERATOR = bytes.fromhex(
    "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
)
_KEY_SHARE_LENGTHS = {29: 32, 30: 56}
#: Groups we send a key share for unless asked otherwise: what nearly every TLS 1.3 server picks.
DEFAULT_KEY_SHARE_GROUPS: tuple[int, ...] = (29, 23)


def key_share_for(group: int) -> bytes | None:
    """A well-formed public value for ``group``, or None where we cannot make one cheaply."""
    if group == 23:
        return _P256_GENERATOR
    length = _KEY_SHARE_LENGTHS.get(group)
    return os.urandom(length) if length is not None else None


def _u8_vector(data: bytes) -> bytes:
    return struct.pack("!B", len(data)) + data


def _u16_vector(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _u16_list(values: Iterable[int]) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


def _extension(ext_type: int, data: bytes) -> bytes:
    return struct.pack("!HH", ext_type, len(data)) + data


def _server_name(host: str) -> bytes:
    name = host.encode("ascii", "strict")
    entry = b"\x00" + _u16_vector(name)  # name_type host_name
    return _u16_vector(entry)


def build_client_hello(
    version: TlsVersion,
    cipher_suites: Sequence[int],
    *,
    sni: str | None = None,
    groups: Sequence[int] | None = None,
    key_share_groups: Sequence[int] | None = None,
    signature_algorithms: Sequence[int] = SIGNATURE_ALGORITHMS,
    signal_renegotiation: bool = True,
    random: bytes | None = None,
) -> bytes:
    """The complete ClientHello, framed as records, offering exactly ``version``.

    For TLS 1.3 the legacy version is TLS 1.2 and ``supported_versions`` lists only TLS 1.3, so a
    server either speaks 1.3 or refuses; below 1.3 no ``supported_versions`` is sent and the
    server answers with the highest version it has up to ``version``. ``key_share_groups``
    chooses the TLS 1.3 shares: None sends x25519 and secp256r1 where offered; an empty sequence
    sends none, which makes a server reply with a HelloRetryRequest naming the group it wants
    (how groups are enumerated). SSL 3.0 hellos carry no extensions: SSL 3.0 has none, and old
    servers are known to choke on them.
    """
    body = client_hello_body(
        version,
        cipher_suites,
        sni=sni,
        groups=groups,
        key_share_groups=key_share_groups,
        signature_algorithms=signature_algorithms,
        signal_renegotiation=signal_renegotiation,
        random=random,
    )
    # The record version of a first ClientHello is TLS 1.0 for every later version
    # (RFC 8446 §5.1 recommends 0x0301): some servers refuse a hello whose record says 1.2.
    record_version = TlsVersion.SSL3 if version is TlsVersion.SSL3 else TlsVersion.TLS1_0
    return encode_record(ContentType.HANDSHAKE, record_version, body)


def client_hello_body(
    version: TlsVersion,
    cipher_suites: Sequence[int],
    *,
    sni: str | None = None,
    groups: Sequence[int] | None = None,
    key_share_groups: Sequence[int] | None = None,
    signature_algorithms: Sequence[int] = SIGNATURE_ALGORITHMS,
    signal_renegotiation: bool = True,
    random: bytes | None = None,
) -> bytes:
    """The ClientHello handshake message (type, length, body) without record framing."""
    if not cipher_suites:
        raise ValueError("a ClientHello needs at least one cipher suite")
    tls13 = version is TlsVersion.TLS1_3
    suites = list(cipher_suites)
    if signal_renegotiation and not tls13 and TLS_EMPTY_RENEGOTIATION_INFO_SCSV not in suites:
        suites.append(TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
    client_random = random if random is not None else os.urandom(32)
    if len(client_random) != 32:
        raise ValueError("the client random is 32 bytes")
    # TLS 1.3 middlebox compatibility mode (RFC 8446 §D.4): a non-empty session id.
    session_id = os.urandom(32) if tls13 else b""
    legacy_version = TlsVersion.TLS1_2 if tls13 else version

    head = (
        struct.pack("!H", legacy_version)
        + client_random
        + _u8_vector(session_id)
        + _u16_vector(_u16_list(suites))
        + _u8_vector(b"\x00")  # compression: null only
    )
    if version is TlsVersion.SSL3:
        return encode_handshake(HandshakeType.CLIENT_HELLO, head)

    default_groups = TLS13_GROUPS if tls13 else ECDHE_GROUPS
    offered_groups = tuple(groups) if groups is not None else default_groups
    extensions: list[bytes] = []
    if sni:
        extensions.append(_extension(ExtensionType.SERVER_NAME, _server_name(sni)))
    extensions.append(_extension(ExtensionType.EC_POINT_FORMATS, _u8_vector(b"\x00")))
    if offered_groups:
        extensions.append(
            _extension(ExtensionType.SUPPORTED_GROUPS, _u16_vector(_u16_list(offered_groups)))
        )
    # RFC 5246 §7.4.1.4.1: signature_algorithms is meaningless before TLS 1.2 and must not be
    # offered with older versions.
    if version >= TlsVersion.TLS1_2:
        extensions.append(
            _extension(
                ExtensionType.SIGNATURE_ALGORITHMS, _u16_vector(_u16_list(signature_algorithms))
            )
        )
    if tls13:
        extensions.append(
            _extension(ExtensionType.SUPPORTED_VERSIONS, _u8_vector(_u16_list([TlsVersion.TLS1_3])))
        )
        # psk_dhe_ke: harmless without a PSK, and some servers expect the extension.
        extensions.append(_extension(ExtensionType.PSK_KEY_EXCHANGE_MODES, _u8_vector(b"\x01")))
        extensions.append(
            _extension(ExtensionType.KEY_SHARE, _key_shares(offered_groups, key_share_groups))
        )

    message_len = 4 + len(head) + 2 + sum(len(e) for e in extensions)
    padding = _padding_length(message_len)
    if padding is not None:
        extensions.append(_extension(ExtensionType.PADDING, bytes(padding)))
    return encode_handshake(HandshakeType.CLIENT_HELLO, head + _u16_vector(b"".join(extensions)))


def _key_shares(offered_groups: Sequence[int], wanted: Sequence[int] | None) -> bytes:
    if wanted is None:
        wanted = [g for g in DEFAULT_KEY_SHARE_GROUPS if g in offered_groups]
    entries = b""
    for group in wanted:
        share = key_share_for(group)
        if share is not None:
            entries += struct.pack("!H", group) + _u16_vector(share)
    return _u16_vector(entries)


def _padding_length(message_len: int) -> int | None:
    """Padding that lifts a hello out of 256–511 bytes (RFC 7685 §4): some load balancers
    (F5 BIG-IP among them) hang on hellos in that range. Same rule as OpenSSL and BoringSSL."""
    if 0xFF < message_len < 0x200:
        return max(1, 0x200 - message_len - 4)
    return None
