"""The plain-text exchange that asks a service for TLS before the handshake (STARTTLS).

One table of dialogs, one per protocol, each the exchange testssl.sh and sslyze make
(shared/reference/clients-and-paths.md, section 6): SMTP ``EHLO``/``STARTTLS``, IMAP
``CAPABILITY``/``STARTTLS``, POP3 ``CAPA``/``STLS``, FTP ``FEAT``/``AUTH TLS``, XMPP's stream
header and ``<starttls/>``, LDAP's StartTLS extended request and PostgreSQL's SSLRequest.

Every connection of a check to such a service goes through here — the check's own handshake and
each prober connection (``starttls_dialer`` wraps the route's dialer) — so every probe speaks to
the server exactly as a mail or database client would. The server's words are a stranger's: each
read is bounded in size and in time (the step's deadline, cancellable), and what it said is kept
as text for the evidence, never acted on beyond the protocol's replies.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.budget import Budget
from core.models import (
    Direction,
    NetworkFailure,
    StarttlsFailure,
    StarttlsLine,
    StarttlsObservation,
    StarttlsProtocol,
)
from core.probe.net import ConnectOutcome, Dialer
from core.probe.stream import BoundedStream, StreamError, StreamProblem

#: Longest line a server may send (RFC 5321 allows 512 octets; real banners stay far below).
MAX_LINE = 4096
#: Most lines in one reply (an EHLO answer or a FEAT list has a dozen or two).
MAX_LINES = 100
#: Most bytes of an XMPP stream header plus its features, or of an LDAP response.
MAX_MESSAGE = 16 * 1024
#: Longest text kept of one line for the evidence and the ladder.
KEEP_CHARS = 300
#: The name this client gives itself in SMTP's EHLO (sslyze says "sslyze.scan"). ``.invalid``
#: is reserved (RFC 2606), so it names no one's host.
EHLO_NAME = "handshake-doctor.invalid"

_LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
#: The LDAP result codes that mean "I do not know this request" rather than "not now".
_LDAP_UNKNOWN_REQUEST = {2: "protocolError", 12: "unavailableCriticalExtension"}
_LDAP_RESULT_NAMES = {
    0: "success",
    1: "operationsError",
    2: "protocolError",
    12: "unavailableCriticalExtension",
    13: "confidentialityRequired",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
    80: "other",
}
#: PostgreSQL's SSLRequest: length 8, code 80877103 (protocol 1234.5679).
POSTGRES_SSL_REQUEST = bytes.fromhex("000000 0804d2162f".replace(" ", ""))


class _Ended(Exception):
    """The exchange is over without TLS: how, and why in a few words (for the evidence)."""

    def __init__(self, failure: StarttlsFailure, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail


@dataclass
class _Dialog:
    """The exchange so far: the stream under one deadline, and what each side said."""

    stream: BoundedStream
    started: float = field(default_factory=time.monotonic)
    lines: list[StarttlsLine] = field(default_factory=list)
    banner: str = ""
    capabilities: tuple[str, ...] = ()
    reply: str = ""

    def note(self, direction: Direction, text: str) -> None:
        t_ms = round((time.monotonic() - self.started) * 1000, 3)
        self.lines.append(StarttlsLine(direction, text[:KEEP_CHARS], t_ms))

    def send(self, data: bytes, shown: str | None = None) -> None:
        self.note(Direction.CLIENT, shown if shown is not None else _text(data).rstrip())
        self.stream.send_all(data)

    def line(self) -> str:
        raw = self.stream.read_until(b"\n", MAX_LINE)
        text = _text(raw).rstrip("\r")
        self.note(Direction.SERVER, text)
        return text

    def coded_reply(self) -> tuple[int | None, list[str]]:
        """An SMTP or FTP reply: ``CODE-text`` lines until ``CODE text``. The code is None when
        the first line has none: not this protocol."""
        first = self.line()
        code = int(first[:3]) if first[:3].isdigit() else None
        lines = [first]
        if code is None or len(first) <= 3 or first[3] != "-":
            return code, lines
        while not (lines[-1] == str(code) or lines[-1].startswith(f"{code} ")):
            if len(lines) >= MAX_LINES:
                raise _Ended(StarttlsFailure.TOO_LONG, f"more than {MAX_LINES} lines in one reply")
            lines.append(self.line())
        return code, lines


def _text(data: bytes) -> str:
    """A stranger's bytes as text: UTF-8 where it is, each other byte kept visible."""
    return data.decode("utf-8", errors="backslashreplace")


# --------------------------------------------------------------------------- the dialogs


def _smtp(d: _Dialog, host: str) -> None:
    code, greeting = d.coded_reply()
    d.banner = "\n".join(greeting)
    if code is None:
        raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the greeting is not an SMTP reply")
    if code != 220:
        d.reply = d.banner
        raise _Ended(StarttlsFailure.REFUSED, f"the server greets with {code}, not 220")
    d.send(f"EHLO {EHLO_NAME}\r\n".encode())
    code, lines = d.coded_reply()
    d.capabilities = tuple(line[4:] for line in lines[1:])
    if code != 250:
        d.reply = "\n".join(lines)
        raise _Ended(StarttlsFailure.UNSUPPORTED, f"EHLO answered {code}: no extensions at all")
    if not any(cap.upper().split(" ")[0] == "STARTTLS" for cap in d.capabilities):
        raise _Ended(StarttlsFailure.UNSUPPORTED, "STARTTLS is not among the EHLO extensions")
    d.send(b"STARTTLS\r\n")
    code, lines = d.coded_reply()
    d.reply = "\n".join(lines)
    if code != 220:
        raise _Ended(StarttlsFailure.REFUSED, f"STARTTLS answered {code}")


def _imap(d: _Dialog, host: str) -> None:
    greeting = d.line()
    d.banner = greeting
    upper = greeting.upper()
    if upper.startswith("* BYE"):
        d.reply = greeting
        raise _Ended(StarttlsFailure.REFUSED, "the server greets with BYE")
    if not upper.startswith(("* OK", "* PREAUTH")):
        raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the greeting is not an IMAP greeting")
    d.send(b"a001 CAPABILITY\r\n")
    caps: list[str] = []
    for _ in range(MAX_LINES):
        line = d.line()
        if line.upper().startswith("* CAPABILITY"):
            caps += line.split()[2:]
        if line.startswith("a001 "):
            break
    else:
        raise _Ended(StarttlsFailure.TOO_LONG, f"more than {MAX_LINES} lines in one reply")
    d.capabilities = tuple(caps)
    if "STARTTLS" not in (c.upper() for c in caps):
        raise _Ended(StarttlsFailure.UNSUPPORTED, "STARTTLS is not among the capabilities")
    d.send(b"a002 STARTTLS\r\n")
    for _ in range(MAX_LINES):
        line = d.line()
        if line.startswith("a002 "):
            d.reply = line
            break
    else:
        raise _Ended(StarttlsFailure.TOO_LONG, f"more than {MAX_LINES} lines in one reply")
    if not d.reply.upper().startswith("A002 OK"):
        raise _Ended(StarttlsFailure.REFUSED, "STARTTLS was not answered OK")


def _pop3(d: _Dialog, host: str) -> None:
    greeting = d.line()
    d.banner = greeting
    if greeting.startswith("-ERR"):
        d.reply = greeting
        raise _Ended(StarttlsFailure.REFUSED, "the server greets with -ERR")
    if not greeting.startswith("+OK"):
        raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the greeting is not a POP3 greeting")
    d.send(b"CAPA\r\n")
    answer = d.line()
    listed: bool | None = None  # None: the server has no CAPA, so it cannot say
    if answer.startswith("+OK"):
        caps: list[str] = []
        for _ in range(MAX_LINES):
            line = d.line()
            if line == ".":
                break
            caps.append(line)
        else:
            raise _Ended(StarttlsFailure.TOO_LONG, f"more than {MAX_LINES} capability lines")
        d.capabilities = tuple(caps)
        listed = any(c.upper().split(" ")[0] == "STLS" for c in caps)
        if not listed:
            raise _Ended(StarttlsFailure.UNSUPPORTED, "STLS is not among the capabilities")
    d.send(b"STLS\r\n")
    d.reply = d.line()
    if not d.reply.startswith("+OK"):
        if listed is None:
            raise _Ended(StarttlsFailure.UNSUPPORTED, "the server knows neither CAPA nor STLS")
        raise _Ended(StarttlsFailure.REFUSED, "STLS was not answered +OK")


def _ftp(d: _Dialog, host: str) -> None:
    code, greeting = d.coded_reply()
    d.banner = "\n".join(greeting)
    if code is None:
        raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the greeting is not an FTP reply")
    if code != 220:
        d.reply = d.banner
        raise _Ended(StarttlsFailure.REFUSED, f"the server greets with {code}, not 220")
    d.send(b"FEAT\r\n")
    code, lines = d.coded_reply()
    listed: bool | None = None
    if code == 211:
        d.capabilities = tuple(line.strip() for line in lines[1:-1])
        listed = any(c.upper().startswith("AUTH") and "TLS" in c.upper() for c in d.capabilities)
        if not listed:
            raise _Ended(StarttlsFailure.UNSUPPORTED, "AUTH TLS is not among the features")
    d.send(b"AUTH TLS\r\n")
    code, lines = d.coded_reply()
    d.reply = "\n".join(lines)
    if code != 234:
        if listed is None and code in (500, 502, 504):
            raise _Ended(StarttlsFailure.UNSUPPORTED, f"AUTH TLS answered {code}: unknown here")
        raise _Ended(StarttlsFailure.REFUSED, f"AUTH TLS answered {code}")


def _xmpp_read_until(d: _Dialog, *markers: bytes) -> str:
    """XMPP has no lines: read the stream until one of ``markers`` has arrived in full."""
    while not any(m in d.stream.buffer for m in markers):
        if len(d.stream.buffer) > MAX_MESSAGE:
            raise _Ended(StarttlsFailure.TOO_LONG, f"more than {MAX_MESSAGE} bytes of XML")
        if not d.stream.fill():
            raise StreamError(StreamProblem.CLOSED, "the server closed the stream")
    ends = [d.stream.buffer.find(m) + len(m) for m in markers if m in d.stream.buffer]
    end = min(ends)
    # The element goes on to its closing '>'.
    close = d.stream.buffer.find(b">", end - 1)
    while close < 0:
        if len(d.stream.buffer) > MAX_MESSAGE or not d.stream.fill():
            raise _Ended(StarttlsFailure.TOO_LONG, "an XML element without its end")
        close = d.stream.buffer.find(b">", end - 1)
    data, d.stream.buffer = d.stream.buffer[: close + 1], d.stream.buffer[close + 1 :]
    text = _text(data)
    d.note(Direction.SERVER, text)
    return text


def _xmpp(d: _Dialog, host: str) -> None:
    header = (
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
        f"xmlns='jabber:client' to='{_xml_attr(host)}' version='1.0'>"
    )
    d.send(header.encode())
    if not d.stream.buffer and not d.stream.fill():
        raise StreamError(StreamProblem.CLOSED, "the server closed the stream")
    if not d.stream.buffer.lstrip().startswith(b"<"):
        d.note(Direction.SERVER, _text(d.stream.buffer[:KEEP_CHARS]))
        d.banner = _text(d.stream.buffer[:KEEP_CHARS])
        raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the answer is not an XMPP stream")
    text = _xmpp_read_until(d, b"</stream:features>", b"<stream:features/>", b"</stream:error>")
    d.banner = text[:KEEP_CHARS]
    if "<stream:error" in text:
        d.reply = text[text.find("<stream:error") :][:KEEP_CHARS]
        raise _Ended(StarttlsFailure.REFUSED, "the server ended the stream with an error")
    features = text[text.find("<stream:features") :]
    d.capabilities = (features[:KEEP_CHARS],)
    if "<starttls" not in features:
        raise _Ended(StarttlsFailure.UNSUPPORTED, "starttls is not among the stream features")
    d.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    answer = _xmpp_read_until(d, b"<proceed", b"<failure", b"</stream:error>")
    d.reply = answer.strip()[:KEEP_CHARS]
    if "<proceed" not in answer:
        raise _Ended(StarttlsFailure.REFUSED, "the server answered starttls without <proceed/>")


def _xml_attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _ber_length(data: bytes, pos: int) -> tuple[int, int]:
    """A BER length at ``pos``: (length, position after it). Raises IndexError if cut short."""
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if not 1 <= count <= 3:
        raise ValueError("unreasonable BER length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def _ldap_message(d: _Dialog) -> bytes:
    """One LDAPMessage (a BER SEQUENCE), read whole, bounded."""
    while True:
        buf = d.stream.buffer
        if buf and buf[0] != 0x30:
            raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the answer is not an LDAP message")
        try:
            length, start = _ber_length(buf, 1)
        except IndexError:
            length, start = -1, 0
        except ValueError:
            raise _Ended(
                StarttlsFailure.NOT_PROTOCOL, "the answer is not an LDAP message"
            ) from None
        if length > MAX_MESSAGE:
            raise _Ended(StarttlsFailure.TOO_LONG, f"an LDAP message of {length} bytes")
        if length >= 0 and len(buf) >= start + length:
            d.stream.buffer = buf[start + length :]
            return buf[start : start + length]
        if not d.stream.fill():
            raise StreamError(StreamProblem.CLOSED, "the server closed the connection")


def _ldap_result(body: bytes) -> tuple[int, str]:
    """(resultCode, diagnosticMessage) of an ExtendedResponse; ValueError if it is none."""
    try:
        pos = 0
        if body[pos] != 0x02:  # messageID INTEGER
            raise ValueError("no message id")
        size, pos = _ber_length(body, pos + 1)
        pos += size
        if body[pos] != 0x78:  # [APPLICATION 24] ExtendedResponse
            raise ValueError(f"a response of type 0x{body[pos]:02x}, not an ExtendedResponse")
        _, pos = _ber_length(body, pos + 1)
        if body[pos] != 0x0A:  # resultCode ENUMERATED
            raise ValueError("no result code")
        size, pos = _ber_length(body, pos + 1)
        code = int.from_bytes(body[pos : pos + size], "big")
        pos += size
        size, pos = _ber_length(body, pos + 1)  # matchedDN
        pos += size
        size, pos = _ber_length(body, pos + 1)  # diagnosticMessage
        message = _text(body[pos : pos + size])
    except IndexError:
        raise ValueError("a response cut short") from None
    return code, message


def _ldap(d: _Dialog, host: str) -> None:
    oid = _LDAP_STARTTLS_OID
    request = bytes([0x77, len(oid) + 2, 0x80, len(oid)]) + oid
    message = bytes([0x02, 0x01, 0x01]) + request
    d.send(bytes([0x30, len(message)]) + message, f"ExtendedRequest {oid.decode()} (StartTLS)")
    body = _ldap_message(d)
    try:
        code, diagnostic = _ldap_result(body)
    except ValueError as exc:
        d.note(Direction.SERVER, body[:64].hex())
        raise _Ended(StarttlsFailure.NOT_PROTOCOL, f"not a StartTLS answer: {exc}") from None
    name = _LDAP_RESULT_NAMES.get(code, "")
    shown = (
        f"resultCode {code}"
        + (f" ({name})" if name else "")
        + (f": {diagnostic}" if diagnostic else "")
    )
    d.note(Direction.SERVER, shown)
    d.reply = shown
    if code in _LDAP_UNKNOWN_REQUEST:
        raise _Ended(StarttlsFailure.UNSUPPORTED, "the server does not know StartTLS")
    if code != 0:
        raise _Ended(StarttlsFailure.REFUSED, f"StartTLS answered {shown}")


def _postgres(d: _Dialog, host: str) -> None:
    d.send(POSTGRES_SSL_REQUEST, "SSLRequest")
    answer = d.stream.read_exact(1)
    shown = _text(answer)
    if answer == b"S":
        d.note(Direction.SERVER, "S (TLS accepted)")
        d.reply = "S"
        if d.stream.buffer:
            # Bytes after the 'S' before our ClientHello are not the server's (CVE-2021-23222).
            raise _Ended(StarttlsFailure.NOT_PROTOCOL, "plain bytes after the server's 'S'")
        return
    if answer == b"N":
        d.note(Direction.SERVER, "N (no TLS)")
        d.reply = "N"
        raise _Ended(StarttlsFailure.UNSUPPORTED, "the server answered N: TLS is off")
    if answer == b"E":
        rest = d.stream.read_available(512, 0.5)
        d.reply = _text(answer + rest)[:KEEP_CHARS]
        d.note(Direction.SERVER, d.reply)
        raise _Ended(
            StarttlsFailure.UNSUPPORTED, "the server answered the SSLRequest with an error"
        )
    d.note(Direction.SERVER, shown + _text(d.stream.read_available(64, 0.2)))
    d.banner = d.lines[-1].text
    raise _Ended(StarttlsFailure.NOT_PROTOCOL, "the answer is not PostgreSQL's")


_DIALOGS: dict[StarttlsProtocol, Callable[[_Dialog, str], None]] = {
    StarttlsProtocol.SMTP: _smtp,
    StarttlsProtocol.IMAP: _imap,
    StarttlsProtocol.POP3: _pop3,
    StarttlsProtocol.FTP: _ftp,
    StarttlsProtocol.XMPP: _xmpp,
    StarttlsProtocol.LDAP: _ldap,
    StarttlsProtocol.POSTGRES: _postgres,
}

_STREAM_FAILURES = {
    StreamProblem.TIMED_OUT: StarttlsFailure.SILENT,
    StreamProblem.CLOSED: StarttlsFailure.CLOSED,
    StreamProblem.FAILED: StarttlsFailure.CLOSED,
    StreamProblem.TOO_LONG: StarttlsFailure.TOO_LONG,
}


def upgrade(
    sock: socket.socket, protocol: StarttlsProtocol, host: str, budget: Budget
) -> StarttlsObservation:
    """Speak ``protocol`` on a connected socket until the server says "go ahead with TLS".

    On success the socket is ready for the ClientHello (left non-blocking, as the handshake
    wants it). On failure the socket is left open for the caller to close. ``host`` is the name
    the user typed: XMPP's ``to=``. Raises Cancelled."""
    dialog = _Dialog(BoundedStream(sock, budget, budget.step_deadline()))
    failure: StarttlsFailure | None = None
    detail = ""
    try:
        _DIALOGS[protocol](dialog, host)
    except _Ended as ended:
        failure, detail = ended.failure, ended.detail
    except StreamError as exc:
        failure = _STREAM_FAILURES[exc.problem]
        detail = _stream_detail(exc, dialog)
    return StarttlsObservation(
        protocol=protocol,
        ok=failure is None,
        failure=failure,
        banner=dialog.banner[: KEEP_CHARS * 4],
        capabilities=dialog.capabilities[:MAX_LINES],
        reply=dialog.reply[: KEEP_CHARS * 2],
        lines=tuple(dialog.lines),
        detail=detail,
        duration_ms=(time.monotonic() - dialog.started) * 1000,
    )


def _stream_detail(exc: StreamError, dialog: _Dialog) -> str:
    heard = any(line.direction is Direction.SERVER for line in dialog.lines)
    if exc.problem is StreamProblem.TIMED_OUT:
        if not heard:
            return "no greeting"
        # Still inside the server's reply (a line came last), or waiting after our command.
        last = dialog.lines[-1].direction
        return "the server's reply did not end" if last is Direction.SERVER else "no answer"
    if exc.problem is StreamProblem.TOO_LONG:
        return f"a line longer than {MAX_LINE} bytes"
    return exc.detail


def starttls_dialer(protocol: StarttlsProtocol, host: str, dial: Dialer) -> Dialer:
    """``dial``, then the STARTTLS exchange: a probe's connection that cannot be upgraded is a
    failed connection (``STARTTLS_FAILED``), like one that is refused."""

    def dial_and_upgrade(address: str, port: int, budget: Budget) -> ConnectOutcome:
        outcome = dial(address, port, budget)
        if outcome.sock is None:
            return outcome
        try:
            seen = upgrade(outcome.sock, protocol, host, budget)
        except BaseException:
            outcome.sock.close()
            raise
        if seen.ok:
            return outcome
        outcome.sock.close()
        failure = seen.failure.value if seen.failure else "failed"
        return ConnectOutcome(
            None,
            outcome.address,
            NetworkFailure.STARTTLS_FAILED,
            f"STARTTLS {failure}: {seen.detail}",
            outcome.duration_ms,
        )

    return dial_and_upgrade
