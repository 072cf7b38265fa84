"""The wire layer: ClientHellos we build, and total parsers of what servers send back.

Examples pin the formats (RFC 5246, RFC 8446); hypothesis then throws arbitrary bytes and
mutations of real traffic (the 175 recorded ClientHellos of client-simulation.txt, and server
flights we build) at every parser, which must answer with a result or a Malformed, never raise.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.wire import hello as hello_mod
from core.wire.hello import (
    DEFAULT_KEY_SHARE_GROUPS,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    ExtensionType,
    build_client_hello,
    client_hello_body,
    group_code,
    group_name,
    key_share_for,
)
from core.wire.parse import (
    HELLO_RETRY_REQUEST_RANDOM,
    Alert,
    ClientHello,
    Malformed,
    RecordStream,
    ReplyKind,
    ServerHello,
    ServerReply,
    looks_like_record_header,
    parse_alert,
    parse_client_hello,
    parse_client_hello_records,
    parse_ecdhe_group,
    parse_extensions,
    parse_handshake_messages,
    parse_records,
    parse_server_hello,
    read_server_reply,
)
from core.wire.records import (
    MAX_FRAGMENT,
    ContentType,
    HandshakeType,
    TlsVersion,
    alert_name,
    encode_handshake,
    encode_record,
    version_label,
)

SIMULATION = Path(__file__).resolve().parents[2] / "shared" / "data" / "client-simulation.txt"


def _recorded_hellos() -> list[bytes]:
    if not SIMULATION.exists():
        return []
    found = re.findall(r'handshakebytes\+=\("([0-9a-fA-F]+)"\)', SIMULATION.read_text())
    return [bytes.fromhex(h) for h in found]


RECORDED = _recorded_hellos()
needs_recorded = pytest.mark.skipif(not RECORDED, reason=f"{SIMULATION} not available")

# --------------------------------------------------------------------------- server messages


def _ext(ext_type: int, data: bytes) -> bytes:
    return struct.pack("!HH", ext_type, len(data)) + data


def server_hello_body(
    suite: int,
    *,
    version: int = 0x0303,
    selected: int | None = None,
    group: int | None = None,
    hrr: bool = False,
    session_id: bytes = b"",
) -> bytes:
    """A ServerHello (or HelloRetryRequest) body as a server would send it."""
    extensions = b""
    if selected is not None:
        extensions += _ext(ExtensionType.SUPPORTED_VERSIONS, struct.pack("!H", selected))
    if group is not None:
        share = struct.pack("!H", group) if hrr else struct.pack("!HH", group, 32) + bytes(32)
        extensions += _ext(ExtensionType.KEY_SHARE, share)
    random = HELLO_RETRY_REQUEST_RANDOM if hrr else bytes(range(32))
    body = struct.pack("!H", version) + random + bytes([len(session_id)]) + session_id
    body += struct.pack("!HB", suite, 0)
    if extensions:
        body += struct.pack("!H", len(extensions)) + extensions
    return body


def handshake_record(*messages: tuple[int, bytes], version: int = 0x0303) -> bytes:
    payload = b"".join(encode_handshake(t, b) for t, b in messages)
    return encode_record(ContentType.HANDSHAKE, version, payload)


def alert_record(description: int, level: int = 2) -> bytes:
    return encode_record(ContentType.ALERT, 0x0303, bytes([level, description]))


def ske_body(group: int) -> bytes:
    """An ECDHE ServerKeyExchange: named curve, a point, a (fake) signature."""
    point = b"\x04" + bytes(64)
    return (
        bytes([3]) + struct.pack("!H", group) + bytes([len(point)]) + point + b"\x04\x01\x00\x02ab"
    )


def tls12_flight(suite: int = 0xC02F, group: int = 23) -> bytes:
    """ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, in two records."""
    certificate = b"\x00\x00\x05\x00\x00\x02\xaa\xbb"
    first = handshake_record(
        (HandshakeType.SERVER_HELLO, server_hello_body(suite)),
        (HandshakeType.CERTIFICATE, certificate),
    )
    second = handshake_record(
        (HandshakeType.SERVER_KEY_EXCHANGE, ske_body(group)),
        (HandshakeType.SERVER_HELLO_DONE, b""),
    )
    return first + second


# --------------------------------------------------------------------------- building hellos


@pytest.mark.parametrize("version", list(TlsVersion))
def test_built_hello_round_trips(version: TlsVersion) -> None:
    suites = [0x1301, 0x1302] if version is TlsVersion.TLS1_3 else [0xC02F, 0x002F, 0x0005]
    raw = build_client_hello(version, suites, sni="example.test")
    parsed = parse_client_hello_records(raw)
    assert isinstance(parsed, ClientHello)
    # The first record says TLS 1.0 (or SSL 3.0) whatever is offered: RFC 8446 §5.1.
    assert raw[1:3] == (b"\x03\x00" if version is TlsVersion.SSL3 else b"\x03\x01")
    if version is TlsVersion.TLS1_3:
        assert parsed.legacy_version == TlsVersion.TLS1_2
        assert parsed.supported_versions == (TlsVersion.TLS1_3,)
        assert parsed.key_share_groups == DEFAULT_KEY_SHARE_GROUPS
        assert parsed.cipher_suites == tuple(suites)
        assert len(parsed.session_id) == 32
    else:
        assert parsed.legacy_version == version
        assert parsed.supported_versions == (version,)
        assert parsed.cipher_suites == (*suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
    if version is TlsVersion.SSL3:
        assert parsed.extensions == ()
        assert parsed.server_name is None
    else:
        assert parsed.server_name == "example.test"
        assert parsed.supported_groups
    # signature_algorithms must not be offered before TLS 1.2 (RFC 5246 §7.4.1.4.1).
    assert bool(parsed.signature_algorithms) == (version >= TlsVersion.TLS1_2)


def test_empty_key_share_list_forces_a_retry_request() -> None:
    raw = build_client_hello(TlsVersion.TLS1_3, [0x1301], key_share_groups=())
    parsed = parse_client_hello_records(raw)
    assert isinstance(parsed, ClientHello)
    assert parsed.extension(ExtensionType.KEY_SHARE) == b"\x00\x00"
    assert parsed.key_share_groups == ()


def test_hellos_skip_the_256_to_511_byte_range() -> None:
    """F5 BIG-IP and others hang on ClientHellos of 256–511 bytes; padding avoids the range."""
    for count in range(1, 200):
        for version in (TlsVersion.TLS1_0, TlsVersion.TLS1_2, TlsVersion.TLS1_3):
            body = client_hello_body(version, list(range(1, count + 1)), sni="a.example")
            assert not 0xFF < len(body) < 0x200, (version, count, len(body))


def test_p256_share_is_a_point_on_the_curve() -> None:
    """Random bytes are not, and OpenSSL answers illegal_parameter to them."""
    share = key_share_for(23)
    assert share is not None
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), share)
    assert key_share_for(29) is not None and len(key_share_for(29) or b"") == 32
    assert key_share_for(256) is None


def test_long_payloads_are_split_into_records() -> None:
    payload = bytes(MAX_FRAGMENT * 2 + 10)
    stream = parse_records(encode_record(ContentType.HANDSHAKE, 0x0301, payload))
    assert [len(r.payload) for r in stream.records] == [MAX_FRAGMENT, MAX_FRAGMENT, 10]
    assert b"".join(r.payload for r in stream.records) == payload


def test_builder_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_client_hello(TlsVersion.TLS1_2, [])
    with pytest.raises(ValueError, match="32 bytes"):
        build_client_hello(TlsVersion.TLS1_2, [0x002F], random=b"short")


def test_names() -> None:
    assert version_label(0x0303) == "TLSv1.2"
    assert version_label(0x0305) == "0x0305"
    assert TlsVersion.from_label("SSLv3") is TlsVersion.SSL3
    assert alert_name(70) == "protocol_version"
    assert alert_name(255) == "alert_255"
    assert group_name(0x11EC) == "X25519MLKEM768"
    assert group_name(0x9999) == "0x9999"
    assert group_code("prime256v1") == 23
    assert group_code("X25519") == 29


# --------------------------------------------------------------------------- reading replies


def test_tls12_server_hello() -> None:
    reply = read_server_reply(
        handshake_record((HandshakeType.SERVER_HELLO, server_hello_body(0x002F)))
    )
    assert reply.kind is ReplyKind.SERVER_HELLO and reply.conclusive
    assert reply.hello is not None
    assert reply.hello.version == 0x0303
    assert reply.hello.cipher_suite == 0x002F
    assert not reply.hello.is_hello_retry_request


def test_tls13_server_hello_names_its_version_in_an_extension() -> None:
    body = server_hello_body(0x1302, selected=0x0304, group=29, session_id=bytes(32))
    reply = read_server_reply(handshake_record((HandshakeType.SERVER_HELLO, body)))
    assert reply.hello is not None
    assert reply.hello.legacy_version == 0x0303
    assert reply.hello.version == 0x0304
    assert reply.key_exchange_group == 29


def test_hello_retry_request() -> None:
    body = server_hello_body(0x1301, selected=0x0304, group=24, hrr=True)
    reply = read_server_reply(handshake_record((HandshakeType.SERVER_HELLO, body)))
    assert reply.kind is ReplyKind.HELLO_RETRY_REQUEST
    assert reply.hello is not None and reply.hello.is_hello_retry_request
    assert reply.key_exchange_group == 24


def test_alert() -> None:
    reply = read_server_reply(alert_record(70))
    assert reply.kind is ReplyKind.ALERT
    assert reply.alert == Alert(2, 70)
    assert reply.alert.name == "protocol_version" and reply.alert.fatal


def test_plain_http_is_not_tls() -> None:
    reply = read_server_reply(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert reply.kind is ReplyKind.MALFORMED
    assert reply.malformed is not None and "0x48" in reply.malformed.reason


def test_partial_bytes_wait_for_more() -> None:
    whole = handshake_record((HandshakeType.SERVER_HELLO, server_hello_body(0x002F)))
    for cut in range(len(whole)):
        assert read_server_reply(whole[:cut]).kind is ReplyKind.INCOMPLETE, cut
    assert read_server_reply(whole).kind is ReplyKind.SERVER_HELLO


def test_server_hello_split_across_records() -> None:
    message = encode_handshake(HandshakeType.SERVER_HELLO, server_hello_body(0xC030))
    data = encode_record(22, 0x0303, message[:10]) + encode_record(22, 0x0303, message[10:])
    reply = read_server_reply(data)
    assert reply.hello is not None and reply.hello.cipher_suite == 0xC030


def test_key_exchange_group_of_a_tls12_flight() -> None:
    flight = tls12_flight(group=24)
    assert read_server_reply(flight).key_exchange_group is None
    wanting = read_server_reply(flight, want_key_exchange=True)
    assert wanting.conclusive and wanting.key_exchange_group == 24
    # Before the ServerKeyExchange arrives the answer is known but not complete.
    first_record_len = 5 + int.from_bytes(flight[3:5], "big")
    partial = read_server_reply(flight[:first_record_len], want_key_exchange=True)
    assert partial.kind is ReplyKind.SERVER_HELLO and not partial.conclusive


def test_rsa_flight_ends_at_server_hello_done() -> None:
    flight = handshake_record(
        (HandshakeType.SERVER_HELLO, server_hello_body(0x002F)),
        (HandshakeType.CERTIFICATE, b"\x00\x00\x00"),
        (HandshakeType.SERVER_HELLO_DONE, b""),
    )
    reply = read_server_reply(flight, want_key_exchange=True)
    assert reply.conclusive and reply.key_exchange_group is None


def test_odd_answers_are_malformed_not_errors() -> None:
    ccs_first = encode_record(ContentType.CHANGE_CIPHER_SPEC, 0x0303, b"\x01")
    assert read_server_reply(ccs_first).kind is ReplyKind.MALFORMED
    certificate_first = handshake_record((HandshakeType.CERTIFICATE, b"\x00\x00\x00"))
    assert read_server_reply(certificate_first).kind is ReplyKind.MALFORMED
    short_alert = encode_record(ContentType.ALERT, 0x0303, b"\x02")
    assert read_server_reply(short_alert).kind is ReplyKind.MALFORMED
    truncated_hello = handshake_record((HandshakeType.SERVER_HELLO, b"\x03\x03" + bytes(10)))
    assert read_server_reply(truncated_hello).kind is ReplyKind.MALFORMED


def test_server_hello_structure_errors() -> None:
    good = server_hello_body(0x1301, selected=0x0304, group=29)
    assert isinstance(parse_server_hello(good), ServerHello)
    assert isinstance(parse_server_hello(good + b"\x00"), Malformed)
    assert isinstance(parse_server_hello(good[:-1]), Malformed)
    bad_versions = server_hello_body(0x1301) + struct.pack("!H", 5) + _ext(43, b"\x03")
    assert isinstance(parse_server_hello(bad_versions), Malformed)
    long_session = server_hello_body(0x002F, session_id=bytes(33))
    assert isinstance(parse_server_hello(long_session), Malformed)


def test_small_parsers() -> None:
    assert parse_alert(b"\x01\x00") == Alert(1, 0)
    assert isinstance(parse_alert(b""), Malformed)
    assert parse_ecdhe_group(ske_body(29)) == 29
    assert isinstance(parse_ecdhe_group(b"\x01\x00\x17"), Malformed)
    assert isinstance(parse_ecdhe_group(b"\x03"), Malformed)
    assert isinstance(parse_extensions(b"\x00\x00\x00\x05ab"), Malformed)
    assert looks_like_record_header(b"\x16\x03\x01\x00\x10")
    assert not looks_like_record_header(b"\x16\x03\x01\xff\xff")
    assert not looks_like_record_header(b"SSH-2")


@needs_recorded
def test_every_recorded_tls_hello_parses() -> None:
    tls = [raw for raw in RECORDED if raw[:1] == b"\x16"]
    assert len(tls) >= 170
    for raw in tls:
        parsed = parse_client_hello_records(raw)
        assert isinstance(parsed, ClientHello), raw[:16].hex()
        assert parsed.cipher_suites


# --------------------------------------------------------------------------- property tests

PARSERS = (
    parse_server_hello,
    parse_client_hello,
    parse_alert,
    parse_extensions,
    parse_ecdhe_group,
    parse_handshake_messages,
    parse_records,
    parse_client_hello_records,
)


def _check_stream(data: bytes, stream: RecordStream) -> None:
    """Records read are exactly a prefix of the input, re-encoded byte for byte."""
    rebuilt = b"".join(
        struct.pack("!BHH", r.content_type, r.version, len(r.payload)) + r.payload
        for r in stream.records
    )
    assert data.startswith(rebuilt)
    if stream.malformed is None:
        assert rebuilt + stream.remainder == data
    else:
        assert stream.remainder == b""


def _check_reply(reply: ServerReply) -> None:
    assert isinstance(reply.kind, ReplyKind)
    if reply.kind in (ReplyKind.SERVER_HELLO, ReplyKind.HELLO_RETRY_REQUEST):
        assert reply.hello is not None
    if reply.kind is ReplyKind.ALERT:
        assert reply.alert is not None
    if reply.kind is ReplyKind.MALFORMED:
        assert reply.malformed is not None


@given(st.binary(max_size=600))
@example(b"")
@example(b"\x16\x03\x03\x00\x04\x02\xff\xff\xff")
@example(b"\x16\x03")
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for parser in PARSERS:
        result = parser(data)
        assert result is not None
    _check_stream(data, parse_records(data))
    _check_reply(read_server_reply(data))
    _check_reply(read_server_reply(data, want_key_exchange=True))


def _records_around(payload: bytes, content_type: int) -> bytes:
    return encode_record(content_type, 0x0303, payload)


@given(
    st.sampled_from([2, 12, 14, 11, 0, 1]),
    st.binary(max_size=120),
    st.sampled_from([20, 21, 22, 23, 24]),
)
def test_well_framed_garbage_never_raises(msg_type: int, body: bytes, content_type: int) -> None:
    """Bytes that pass the record and handshake framing reach the deeper parsers."""
    data = _records_around(encode_handshake(msg_type, body), content_type)
    _check_reply(read_server_reply(data))
    _check_reply(read_server_reply(data, want_key_exchange=True))


def _mutate(data: bytes, draw: st.DrawFn) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "set"]))
        at = draw(st.integers(0, max(0, len(buf) - 1)))
        if op == "flip" and buf:
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del buf[at:]
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and buf:
            del buf[at : at + draw(st.integers(1, 8))]
        elif op == "set" and buf:
            buf[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
    return bytes(buf)


@st.composite
def mutated_client_hellos(draw: st.DrawFn) -> bytes:
    seed = (
        draw(st.sampled_from(RECORDED))
        if RECORDED
        else build_client_hello(TlsVersion.TLS1_3, [0x1301])
    )
    return _mutate(seed, draw)


@st.composite
def mutated_server_flights(draw: st.DrawFn) -> bytes:
    seeds = [
        tls12_flight(),
        handshake_record(
            (HandshakeType.SERVER_HELLO, server_hello_body(0x1301, selected=0x0304, group=29))
        ),
        handshake_record(
            (
                HandshakeType.SERVER_HELLO,
                server_hello_body(0x1302, selected=0x0304, group=23, hrr=True),
            )
        ),
        alert_record(40),
    ]
    return _mutate(draw(st.sampled_from(seeds)), draw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_client_hellos())
def test_mutated_real_client_hellos_never_raise(data: bytes) -> None:
    _check_stream(data, parse_records(data))
    result = parse_client_hello_records(data)
    assert isinstance(result, ClientHello | Malformed)
    if isinstance(result, ClientHello):
        # The derived views are total too.
        _ = (result.supported_versions, result.supported_groups, result.key_share_groups)
        _ = (result.server_name, result.signature_algorithms)
    _check_reply(read_server_reply(data))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_server_flights())
def test_mutated_server_flights_never_raise(data: bytes) -> None:
    _check_stream(data, parse_records(data))
    _check_reply(read_server_reply(data))
    _check_reply(read_server_reply(data, want_key_exchange=True))


@given(st.data())
def test_any_prefix_of_a_good_flight_is_incomplete_or_the_answer(data: st.DataObject) -> None:
    flight = tls12_flight()
    cut = data.draw(st.integers(0, len(flight)))
    reply = read_server_reply(flight[:cut], want_key_exchange=True)
    assert reply.kind in (ReplyKind.INCOMPLETE, ReplyKind.SERVER_HELLO)
    assert reply.conclusive == (cut == len(flight))
    if reply.conclusive:
        assert reply.key_exchange_group == 23


@given(
    st.sampled_from(list(TlsVersion)),
    st.lists(st.integers(1, 0xFFFE), min_size=1, max_size=200),
    st.one_of(st.none(), st.from_regex(r"[a-z]{1,20}(\.[a-z]{1,10}){0,3}", fullmatch=True)),
)
def test_any_built_hello_parses_back(
    version: TlsVersion, suites: list[int], sni: str | None
) -> None:
    parsed = parse_client_hello_records(build_client_hello(version, suites, sni=sni))
    assert isinstance(parsed, ClientHello)
    assert parsed.cipher_suites[: len(suites)] == tuple(suites)
    if version is not TlsVersion.SSL3:
        assert parsed.server_name == (sni or None)


def test_module_exports_what_the_prober_uses() -> None:
    assert hello_mod.TLS13_GROUPS[0] == 29
    assert 23 in hello_mod.ECDHE_GROUPS


def test_one_place_names_each_version() -> None:
    from core.wire.records import LEGACY_LABELS, VERSION_LABELS, contract_label, human_version

    assert VERSION_LABELS == ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    assert LEGACY_LABELS == ("SSLv3", "TLSv1.0", "TLSv1.1")
    assert [human_version(v) for v in VERSION_LABELS] == [
        "SSL 3.0",
        "TLS 1.0",
        "TLS 1.1",
        "TLS 1.2",
        "TLS 1.3",
    ]
    assert contract_label("TLSv1") == "TLSv1.0" and human_version("TLSv1") == "TLS 1.0"
    assert contract_label("QUIC") == "QUIC" and human_version("QUIC") == "QUIC"
