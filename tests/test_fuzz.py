"""Property tests over every reader of outside bytes that tests/test_wire.py and
tests/test_http_date.py do not already cover: certificate files as ``inspect`` reads them (PEM,
DER, PKCS#7, PKCS#12) and on through the chain analysis, client credentials, SNTP replies, the
HTTP ``Date:`` path into the clock analysis, a real handshake and a real probe answered with
fuzzed bytes, what people type as a target, and the escapes for strangers' text.

The rule everywhere: a value, or the module's own typed error; never another exception.

CI runs a few hundred examples per test. ``HYPOTHESIS_PROFILE=long`` multiplies every count by
50 (docs/fuzzing.md has the command and the totals).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.hazmat.primitives.serialization.pkcs12 import PBES
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from core.analyze.clock import clock_findings, measure_clock
from core.budget import Budget
from core.catalogue import load_catalogue
from core.causes import decide, printable_preview
from core.certs import CertificateFileError, describe, leaf_first, load_certificates
from core.cli import main as cli_main
from core.credentials import CredentialsError, load_client_credentials
from core.http_date import date_from_response, parse_http_date
from core.inspect import inspect_chain
from core.models import (
    ClientCredentials,
    HandshakeObservation,
    HttpDateSample,
    StarttlsProtocol,
    Target,
)
from core.probe import hello as hello_probe
from core.probe import sntp, tls
from core.target import TargetError, parse_connect, parse_target
from core.trust import TrustStores
from core.untrusted import BIDI_CONTROLS, for_html, visible
from core.wire.hello import build_client_hello
from core.wire.records import TlsVersion, encode_handshake, encode_record
from tests.hostile_servers import server_hello_tls12
from tests.observations import observations
from tests.pki import Pki
from tests.timing import within

#: "ci" (the default) or "long": every test's count times 50.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SCALE = 50 if PROFILE == "long" else 1


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


# --------------------------------------------------------------------------- seeds

PKI = Pki()
LEAF = PKI.leaf()
ROOT = PKI.root
CATALOGUE = load_catalogue()
STORES = TrustStores(mozilla=None, os=None, custom=(ROOT.cert,))
NOW = dt.datetime.now(dt.UTC)
_LOW_ROUNDS = (
    serialization.PrivateFormat.PKCS12.encryption_builder()
    .kdf_rounds(1)
    .key_cert_algorithm(PBES.PBESv2SHA256AndAES256CBC)
    .hmac_hash(hashes.SHA256())
    .build(b"pw")
)


def _pem(der: bytes, label: bytes = b"CERTIFICATE") -> bytes:
    return (
        b"-----BEGIN "
        + label
        + b"-----\n"
        + base64.encodebytes(der)
        + b"-----END "
        + label
        + b"-----\n"
    )


CERT_DER_SEEDS = [LEAF.der, PKI.intermediate.der, ROOT.der]
FILE_SEEDS = [
    LEAF.pem,
    LEAF.pem + PKI.intermediate.pem + ROOT.pem,
    LEAF.der,
    pkcs7.serialize_certificates([LEAF.cert, PKI.intermediate.cert], serialization.Encoding.PEM),
    pkcs7.serialize_certificates([LEAF.cert, PKI.intermediate.cert], serialization.Encoding.DER),
    pkcs12.serialize_key_and_certificates(
        b"leaf", LEAF.key, LEAF.cert, [PKI.intermediate.cert], _LOW_ROUNDS
    ),
    pkcs12.serialize_key_and_certificates(
        b"leaf", LEAF.key, LEAF.cert, None, serialization.NoEncryption()
    ),
    LEAF.key_pem + LEAF.pem,
]


def _mutate(data: bytes, draw: st.DrawFn) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "set", "repeat"]))
        at = draw(st.integers(0, max(0, len(buf) - 1)))
        if op == "flip" and buf:
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del buf[at:]
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and buf:
            del buf[at : at + draw(st.integers(1, 16))]
        elif op == "set" and buf:
            buf[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0xFF]))
        elif op == "repeat" and buf:
            size = draw(st.integers(1, 64))
            buf[at:at] = buf[at : at + size]
    return bytes(buf)


@st.composite
def certificate_files(draw: st.DrawFn) -> bytes:
    """Damaged certificate files: DER mutated under its PEM armour (so that the damage reaches
    the ASN.1 parser instead of the base64 decoder), or any seed file mutated as bytes."""
    how = draw(st.sampled_from(["der-in-pem", "der", "file", "junk"]))
    if how == "junk":
        return draw(st.binary(max_size=400))
    if how == "file":
        return _mutate(draw(st.sampled_from(FILE_SEEDS)), draw)
    der = _mutate(draw(st.sampled_from(CERT_DER_SEEDS)), draw)
    if how == "der":
        return der
    extra = draw(st.sampled_from([b"", PKI.intermediate.pem, ROOT.pem]))
    return _pem(der) + extra


# --------------------------------------------------------------------------- certificate files


#: Version 4 (value 3): cryptography raises InvalidVersion, not ValueError (found by the long run).
_V4 = LEAF.der.replace(bytes.fromhex("a003020102"), bytes.fromhex("a003020103"), 1)


@fuzz(400)
@given(certificate_files(), st.sampled_from([None, b"pw", b"wrong"]))
@example(_V4, None)
@example(_pem(_V4), None)
@example(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", None)
@example(b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n", None)
@example(b"\x30\x80\x00\x00", None)
def test_certificate_files_load_or_say_why(data: bytes, password: bytes | None) -> None:
    """What ``inspect`` does with a file: load it, order it, validate it, describe every
    certificate and word every finding. Only CertificateFileError may stop it."""
    try:
        certs = load_certificates(data, password=password)
    except CertificateFileError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    event("refused" if refusal else f"loaded {min(len(certs), 3)}")
    if refusal:
        return
    assert certs and all(isinstance(c, x509.Certificate) for c in certs)
    ordered = leaf_first(certs)
    report = inspect_chain(ordered, STORES, host="localhost", at=NOW)  # type: ignore[arg-type]
    for cert in ordered:
        info = describe(cert, sent_by_server=False)  # type: ignore[arg-type]
        assert info.sha256 and info.pem.startswith("-----BEGIN CERTIFICATE-----")
    for finding in report.findings:
        assert CATALOGUE.title(finding) and CATALOGUE.detail(finding)
        json.dumps(dict(finding.evidence))


_NAME_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80
)
_DNS_TEXT = st.text(st.characters(codec="ascii"), min_size=1, max_size=40)
_WHEN = st.datetimes(
    min_value=dt.datetime(1950, 1, 1),
    max_value=dt.datetime(9999, 12, 31),
    timezones=st.just(dt.UTC),
)


@st.composite
def odd_certificates(draw: st.DrawFn) -> list[x509.Certificate]:
    """Certificates that parse but say strange things: any text in the names, dates from 1950
    to 9999, odd SANs, random CA flags; issued by the test intermediate, by
    themselves, or by nobody we know."""
    import warnings

    from cryptography.x509.oid import NameOID

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attributes = [
            x509.NameAttribute(oid, draw(_NAME_TEXT), _validate=False)
            for oid in draw(
                st.lists(
                    st.sampled_from([NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME]),
                    max_size=3,
                )
            )
        ]
    subject = x509.Name(attributes)
    signer = draw(st.sampled_from(["intermediate", "self", "stranger"]))
    key = LEAF.key if signer != "self" else PKI.intermediate.key
    issuer = {
        "intermediate": PKI.intermediate.cert.subject,
        "self": subject,
        "stranger": x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nobody")]),
    }[signer]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(draw(st.integers(1, 2**159 - 1)))
        .not_valid_before(min(when := (draw(_WHEN), draw(_WHEN))))
        .not_valid_after(max(when))
    )
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in draw(st.lists(_DNS_TEXT, max_size=4))]
    if draw(st.booleans()):
        import ipaddress

        names.append(x509.IPAddress(ipaddress.ip_address(draw(st.integers(0, 2**32 - 1)))))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), draw(st.booleans()))
    if draw(st.booleans()):
        ca = draw(st.booleans())
        path = draw(st.one_of(st.none(), st.integers(0, 5))) if ca else None
        builder = builder.add_extension(x509.BasicConstraints(ca, path), draw(st.booleans()))
    signing_key = PKI.intermediate.key if signer == "intermediate" else key
    cert = builder.sign(signing_key, hashes.SHA256())
    return [cert, *draw(st.sampled_from([[], [PKI.intermediate.cert]]))]


@fuzz(250)
@given(odd_certificates(), st.sampled_from([None, "localhost", "127.0.0.1", "xn--bcher-kva.test"]))
def test_odd_but_readable_certificates_through_the_inspect_path(
    certs: list[x509.Certificate], host: str | None
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # long names warn on every read
        reloaded = load_certificates(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
        )
        report = inspect_chain(leaf_first(reloaded), STORES, host=host, at=NOW)
        infos = [describe(cert, sent_by_server=True) for cert in reloaded]
    event("valid" if report.valid else "not valid")
    assert all(info.not_before.tzinfo is not None for info in infos)
    for finding in report.findings:
        assert (
            CATALOGUE.title(finding) and CATALOGUE.detail(finding) and CATALOGUE.headline(finding)
        )
        json.dumps(dict(finding.evidence))


@fuzz(150)
@given(st.data())
def test_inspect_command_on_damaged_files(tmp_path: Path, data: st.DataObject) -> None:
    """The whole command, with the real trust stores: exit 0 or 1 with a report, or 2 with
    one line; never a traceback."""
    path = tmp_path / "fuzzed.crt"
    path.write_bytes(data.draw(certificate_files()))
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["inspect", str(path), "--host", "localhost", "--json"])
    if code == 2:
        assert err.getvalue().count("\n") == 1 and not out.getvalue()
    else:
        assert code in (0, 1) and not err.getvalue()
        assert json.loads(out.getvalue())["file"] == str(path)


@pytest.fixture(scope="module")
def password_env() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HD_FUZZ_PASSWORD", "pw")
        yield "HD_FUZZ_PASSWORD"


@st.composite
def credential_files(draw: st.DrawFn) -> bytes:
    seeds = [
        LEAF.pem + LEAF.key_pem,
        LEAF.pem + PKI.intermediate.pem + LEAF.key_pem,
        FILE_SEEDS[5],
        FILE_SEEDS[6],
    ]
    return _mutate(draw(st.sampled_from(seeds)), draw)


@fuzz(300)
@given(st.data())
def test_client_credentials_load_or_say_why(
    tmp_path: Path, password_env: str, data: st.DataObject
) -> None:
    path = tmp_path / "client.pem"
    path.write_bytes(data.draw(credential_files()))
    try:
        creds = load_client_credentials(path, None, password_env=password_env)
    except CredentialsError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    event("refused" if refusal else "loaded")
    if refusal:
        assert "PRIVATE KEY" not in refusal and "\n" not in refusal
        return
    assert isinstance(creds, ClientCredentials)
    assert b"PRIVATE KEY" in creds.key_pem and b"CERTIFICATE" in creds.certificate_pem
    assert "PRIVATE" not in repr(creds)


# --------------------------------------------------------------------------- SNTP and HTTP Date

T1 = sntp._to_ntp(time.time())


@st.composite
def sntp_replies(draw: st.DrawFn) -> bytes:
    """48-byte NTP packets that answer our request (the origin is our T1) with any values,
    so that the parser gets past the "is this for us" check; plus raw junk."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=120))
    # Mostly a valid mode-4 answer, so that the arithmetic is reached; sometimes anything.
    first = draw(st.one_of(st.sampled_from([0x24, 0x1C, 0x64, 0xE4]), st.integers(0, 255)))
    stratum = draw(st.one_of(st.integers(1, 3), st.integers(0, 255)))
    header = struct.pack(
        "!BBBbII4sQ",
        first,
        stratum,
        draw(st.integers(0, 255)),
        draw(st.integers(-128, 127)),
        draw(st.integers(0, 2**32 - 1)),
        draw(st.integers(0, 2**32 - 1)),
        draw(st.binary(min_size=4, max_size=4)),
        draw(st.integers(0, 2**64 - 1)),
    )
    near = st.integers(max(0, T1 - 2**40), min(2**64 - 1, T1 + 2**40))
    t2 = draw(st.one_of(st.integers(0, 2**64 - 1), near))
    t3 = draw(st.one_of(st.integers(0, 2**64 - 1), near))
    tail = draw(st.binary(max_size=20))
    return header + struct.pack("!QQQ", T1, t2, t3) + tail


@fuzz(500)
@given(sntp_replies())
@example(bytes(48))
@example(b"\x24" + bytes(23) + T1.to_bytes(8, "big") + bytes(16))
def test_sntp_replies_become_a_sample_a_failure_or_nothing(reply: bytes) -> None:
    received = dt.datetime.now(dt.UTC)
    t4 = sntp._to_ntp(time.time())
    result = sntp._read_reply("time.test", ("127.0.0.1", 123), reply, T1, t4, received)
    event(type(result).__name__)
    if result is None:
        return
    if isinstance(result, sntp.SntpFailure):
        assert result.detail.isprintable()
        return
    assert isinstance(result, sntp.SntpSample)
    assert math.isfinite(result.offset_s) and result.delay_s >= 0
    assert result.reference_id.isprintable()
    clock = measure_clock(
        received, result, None, sntp_tried=("time.test",), network_time_disabled=False
    )
    assert clock.reference_time is not None
    for finding in clock_findings(clock, False):
        assert CATALOGUE.detail(finding)


_HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: test\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@fuzz(400)
@given(st.data())
def test_http_date_reaches_the_clock_analysis_without_surprises(data: st.DataObject) -> None:
    """Damaged response heads, through the same path as a check: header, parser, sample,
    clock analysis, worded findings. The parsers alone are fuzzed in tests/test_http_date.py."""
    head = data.draw(st.one_of(st.binary(max_size=300), st.builds(lambda: _HEAD)))
    head = _mutate(head, data.draw) if head and data.draw(st.booleans()) else head
    value = date_from_response(head)
    if value is None:
        return
    sent = dt.datetime.now(dt.UTC)
    sample = HttpDateSample(value[:100], sent, sent + dt.timedelta(milliseconds=5))
    parsed = parse_http_date(sample.date_header)
    clock = measure_clock(
        sent, None, sample, sntp_tried=(), network_time_disabled=True, http_source="test"
    )
    assert (clock.reference_time is not None) == (parsed is not None)
    for finding in clock_findings(clock, False):
        assert CATALOGUE.detail(finding) and CATALOGUE.headline(finding)


# --------------------------------------------------------------------------- live bytes


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected client/server pair on 127.0.0.1, made without a thread."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    return client, server


def _certificate_message(ders: list[bytes]) -> bytes:
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return encode_handshake(11, len(entries).to_bytes(3, "big") + entries)


_CLIENT_HELLO = build_client_hello(TlsVersion.TLS1_2, [0xC02F, 0xC02B])
_SERVER_HELLO = server_hello_tls12(_CLIENT_HELLO) or b""
FLIGHT_SEEDS = [
    _SERVER_HELLO,
    _SERVER_HELLO
    + encode_record(
        22,
        0x0303,
        _certificate_message([LEAF.der, PKI.intermediate.der])
        + encode_handshake(12, os.urandom(80))
        + encode_handshake(14, b""),
    ),
    encode_record(21, 0x0303, b"\x02\x28"),
    encode_record(21, 0x0303, b"\x01\x70"),
    encode_record(22, 0x0303, encode_handshake(2, os.urandom(60))),
    b"HTTP/1.1 400 Bad Request\r\n\r\n",
    b"220 mail.example.test ESMTP\r\n",
]


@st.composite
def server_replies(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=300))
    return _mutate(draw(st.sampled_from(FLIGHT_SEEDS)), draw)


@fuzz(250)
@given(server_replies())
@example(b"")
@example(b"\x16")
@example(b"\x15\x03\x03\x00\x02\x02")
def test_a_real_handshake_answered_with_fuzzed_bytes(reply: bytes) -> None:
    """tls.handshake over a real socket whose server sends ``reply`` and hangs up: always an
    observation, and the causes and their words follow from it without error."""
    client, server = _tcp_pair()
    try:
        server.sendall(reply)
        server.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        hs = tls.handshake(client, "localhost", Budget(3.0), host_header="localhost")
        assert time.monotonic() - started < within(2.5), (
            "an answer that ended must not be waited for"
        )
    finally:
        client.close()
        server.close()
    assert isinstance(hs, HandshakeObservation)
    assert hs.ok or hs.failure is not None
    event(f"failure {hs.failure}")
    assert printable_preview(hs.first_bytes).isprintable()
    target = Target("localhost", 443, "127.0.0.1", 443, "localhost")
    findings = decide(observations(target, NOW, handshake=hs))
    assert findings or hs.ok
    for finding in findings:
        text = CATALOGUE.headline(finding) + CATALOGUE.detail(finding)
        assert visible(text) == text or "\\x" in visible(text)


@fuzz(250)
@given(server_replies(), st.booleans())
def test_a_probe_answered_with_fuzzed_bytes(reply: bytes, want_key_exchange: bool) -> None:
    client, server = _tcp_pair()
    client.setblocking(False)
    try:
        server.sendall(reply)
        server.shutdown(socket.SHUT_WR)
        result = hello_probe._exchange(
            client, _CLIENT_HELLO, Budget(3.0), want_key_exchange, time.monotonic()
        )
    finally:
        client.close()
        server.close()
    assert isinstance(result.outcome, hello_probe.ProbeOutcome)
    event(f"outcome {result.outcome}")
    assert result.outcome is not hello_probe.ProbeOutcome.TIMEOUT
    assert result.describe()


@fuzz(300)
@given(st.binary(max_size=80), st.binary(max_size=40))
@example(b"\x02\x00\x00\x26\x03\x03" + bytes(32), b"")
def test_key_exchange_group_from_any_server_message(hello: bytes, key_exchange: bytes) -> None:
    recorder = tls._Recorder()
    recorder.server_hello, recorder.server_key_exchange = hello, key_exchange
    group = tls._group_name(recorder)
    assert group is None or group.isprintable()


# --------------------------------------------------------------------------- typed and pasted text

_TARGET_ALPHABET = st.sampled_from(
    [
        *"abcxyz019-._:/[]@%?#&= \t",
        "::",
        "https://",
        "ftp://",
        "smtp://",
        "imaps://",
        "ü",
        "。",
        "\u202e",
        "\x1b",
    ]
)


@fuzz(500)
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(_TARGET_ALPHABET, max_size=30).map("".join),
    ),
    st.one_of(st.none(), st.integers(-5, 70_000)),
)
@example("https://[::1", None)
@example("[example.com]:443", None)
def test_any_text_is_a_target_or_one_sentence(text: str, port: int | None) -> None:
    try:
        target = parse_target(text, port if port is None or 1 <= port <= 65535 else None)
    except TargetError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert "\n" not in refusal
        return
    assert 1 <= target.port <= 65535
    assert target.host
    if target.sni is not None:
        assert target.sni.isascii() and len(target.sni) <= 253
        assert target.sni == target.host_ascii
    try:
        address, dial = parse_connect(text, target.port)
    except TargetError:
        return
    assert 1 <= dial <= 65535 and address


@fuzz(300)
@given(st.lists(_TARGET_ALPHABET, max_size=20).map("".join))
def test_time_server_text_is_a_server_or_a_value_error(text: str) -> None:
    try:
        host, port = sntp.parse_server(text)
    except ValueError:
        return
    assert host and 1 <= port <= 65535


@fuzz(400)
@given(st.text(max_size=300), st.integers(1, 400))
@example("\u202emoc.elgoog", 2000)
@example("<b>bold</b>\x1b[2J", 2000)
def test_strangers_text_is_made_visible(text: str, limit: int) -> None:
    shown = visible(text, limit=limit)
    assert not any(ch in BIDI_CONTROLS for ch in shown)
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in shown)
    assert len(shown) <= 6 * limit + 40
    html = for_html(text, limit=limit)
    assert "<" not in html and ">" not in html and '"' not in html


# --------------------------------------------------------------------------- STARTTLS dialogs

_GREETINGS = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from(
            [
                b"220 ",
                b"220-",
                b"250-STARTTLS",
                b"250 ",
                b"* OK ",
                b"a001 OK",
                b"a002 NO",
                b"+OK",
                b"-ERR",
                b".",
                b"211-",
                b"211 End",
                b"234 ",
                b"<stream:features>",
                b"</stream:features>",
                b"<starttls",
                b"<proceed/>",
                b"\x30\x0c\x02\x01\x01\x78",
                b"\x0a\x01\x00",
                b"S",
                b"N",
                b"\r\n",
                b"\n",
                b"\x1b[2J",
                b"\xff",
            ]
        ),
        max_size=20,
    ).map(b"".join),
)


@fuzz(60)
@given(st.sampled_from(list(StarttlsProtocol)), _GREETINGS)
def test_any_greeting_is_an_observation_in_bounded_time(
    protocol: StarttlsProtocol, greeting: bytes
) -> None:
    """Whatever a server says before TLS (then hanging up), the exchange ends with an
    observation, never an exception, within the step's time."""
    from core.probe.starttls import upgrade

    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(greeting)
        theirs.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        seen = upgrade(ours, protocol, "mail.example", Budget(0.5))
        assert time.monotonic() - started < 2.0
        assert seen.protocol is protocol
        assert seen.ok or seen.failure is not None
        assert len(seen.banner) <= 1200 and len(seen.lines) <= 400
    finally:
        ours.close()
        theirs.close()
