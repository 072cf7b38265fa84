"""SNTP client (RFC 4330): how far this computer's clock is from an NTP server's.

One 48-byte UDP request per server, one reply, bounded by the budget's step timeout and looking at
the cancel flag at least every ``CANCEL_SLICE_S``. NTP is unauthenticated and often blocked, so
every way it can fail is an ordinary :class:`SntpFailure`, never an exception: a blocked UDP port
must fall back quietly to the HTTP ``Date:`` header.

Sign convention (the whole app uses it): ``offset_s`` is **local clock minus reference clock**;
positive means this computer's clock is *ahead* of real time, negative that it is *behind*.
RFC 4330's θ has the opposite sign (what to add to the local clock), so ``offset_s == -θ``.

Wall-clock stamps come from :func:`time.time` on purpose: the point is to measure the clock the
rest of the process (and libfaketime, in the tests) sees. Deadlines use :func:`time.monotonic`.
"""

from __future__ import annotations

import enum
import ipaddress
import secrets
import socket
import struct
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from core.budget import Budget, wait_slice
from core.observations import SntpSample as SntpSample  # re-exported: the probe makes them

DEFAULT_PORT = 123
PACKET_SIZE = 48

#: Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_UNIX_DELTA = 2_208_988_800
_FRACTION = 1 << 32
_WRAP = 1 << 64
_HALF_WRAP = 1 << 63

#: LI = 0 (no warning), VN = 4, Mode = 3 (client).
_REQUEST_FIRST_BYTE = (0 << 6) | (4 << 3) | 3
_MODE_SERVER = 4
_LEAP_ALARM = 3
_MAX_STRATUM = 15

#: Low bits of our transmit timestamp that are random rather than clock: ~15 µs of jitter in T1,
#: far below what the answer needs, and 16 bits an off-path spoofer has to guess (RFC 4330 §3,
#: RFC 5905 §9.1 "origin timestamp" check).
_RANDOM_BITS = 16

#: Most parallel queries at once; more servers than this wait for a free worker.
_MAX_PARALLEL = 8


class SntpFailureReason(enum.StrEnum):
    """Why no usable time came back. All are normal outcomes on real networks."""

    BAD_ADDRESS = "bad-address"  # the server string is not HOST[:PORT]
    DNS_FAILURE = "dns-failure"  # the name does not resolve
    UNREACHABLE = "unreachable"  # no route / sending failed
    REFUSED = "refused"  # ICMP port unreachable: nothing listens on that UDP port
    TIMEOUT = "timeout"  # no answer in time: typically a firewall dropping UDP 123
    INVALID_REPLY = "invalid-reply"  # an answer, but not a usable one (mode, kiss-o'-death, …)
    UNSYNCHRONIZED = "unsynchronized"  # the server says its own clock is not set
    CANCELLED = "cancelled"  # the user cancelled the check


@dataclass(frozen=True)
class SntpFailure:
    server: str
    reason: SntpFailureReason
    detail: str = ""


SntpResult = SntpSample | SntpFailure


# --------------------------------------------------------------------------- addresses


def parse_server(text: str) -> tuple[str, int]:
    """Split ``HOST[:PORT]``, ``[V6]:PORT`` or a bare IPv6 literal; raise ValueError if malformed.

    The CLI can call this to reject a bad ``--time-server`` with exit status 2.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty time server")
    host: str
    port_text: str | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unclosed '[' in {text!r}")
        host = text[1:end]
        rest = text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"unexpected text after ']' in {text!r}")
            port_text = rest[1:]
        if ":" not in host:
            raise ValueError(f"brackets hold an IPv6 address, not {host!r}")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host = text  # a name, an IPv4 address, or an unbracketed IPv6 literal (no port then)
    if not host or any(c.isspace() for c in host):
        raise ValueError(f"bad host in {text!r}")
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port in {text!r}")
    return host, int(port_text)


def format_server(host: str, port: int) -> str:
    """The display form, brackets around IPv6 so the port stays readable."""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def _resolve(
    host: str, port: int, budget: Budget, deadline: float
) -> list[tuple[int, tuple[str, int]]] | SntpFailureReason:
    """Addresses for ``host``; name lookups run in a helper thread so cancel is not stuck on DNS.

    ``getaddrinfo`` cannot be interrupted; a lookup that outlives its deadline is abandoned (the
    daemon thread ends with the resolver's own timeout) rather than making the user wait.
    """
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return [(family, (str(literal), port))]

    done = threading.Event()
    box: list[list[tuple[int, tuple[str, int]]]] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            box.append([(int(fam), (str(sa[0]), int(sa[1]))) for fam, _, _, _, sa in infos])
        except (OSError, UnicodeError):
            pass
        finally:
            done.set()

    threading.Thread(target=lookup, name=f"sntp-dns-{host}", daemon=True).start()
    while not done.wait(wait_slice(deadline)):
        if budget.cancelled:
            return SntpFailureReason.CANCELLED
        if time.monotonic() >= deadline:
            return SntpFailureReason.TIMEOUT
    if budget.cancelled:
        return SntpFailureReason.CANCELLED
    if not box or not box[0]:
        return SntpFailureReason.DNS_FAILURE
    return box[0]


# --------------------------------------------------------------------------- timestamps


def _to_ntp(unix_time: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point); wraps into era 1 after 2036 as RFC 4330 §3 says."""
    seconds = unix_time + NTP_UNIX_DELTA
    whole = int(seconds // 1)
    fraction = int((seconds - whole) * _FRACTION)
    return ((whole << 32) | fraction) % _WRAP


def _diff(a: int, b: int) -> int:
    """``a - b`` in NTP units as a signed 64-bit difference, so era rollovers cancel out."""
    return (a - b + _HALF_WRAP) % _WRAP - _HALF_WRAP


def _kiss_code(ref_id: bytes) -> str:
    code = ref_id.rstrip(b"\0").decode("ascii", "replace")
    return "".join(c if c.isprintable() else "?" for c in code)


# --------------------------------------------------------------------------- one query


def query_sntp(server: str, port: int, budget: Budget) -> SntpResult:
    """Ask one NTP server for the time; never raises for network trouble.

    Replies whose origin timestamp is not our transmit timestamp are dropped and the wait goes on
    (they are stale or spoofed, RFC 4330 §5); a reply that does match but is unusable (wrong mode,
    kiss-o'-death, unsynchronised server, zero timestamps) ends the query at once.
    """
    shown = format_server(server, port)
    deadline = budget.step_deadline()
    if budget.cancelled:
        return SntpFailure(shown, SntpFailureReason.CANCELLED)
    resolved = _resolve(server, port, budget, deadline)
    if isinstance(resolved, SntpFailureReason):
        detail = "name does not resolve" if resolved is SntpFailureReason.DNS_FAILURE else ""
        return SntpFailure(shown, resolved, detail)

    last: SntpFailure | None = None
    for family, sockaddr in resolved:
        result = _exchange(shown, family, sockaddr, budget, deadline)
        if isinstance(result, SntpSample) or result.reason is not SntpFailureReason.UNREACHABLE:
            return result
        last = result  # e.g. an IPv6 address first on a host without IPv6: try the next one
    assert last is not None  # getaddrinfo never succeeds with an empty list
    return last


def _exchange(
    shown: str,
    family: int,
    sockaddr: tuple[str, int],
    budget: Budget,
    deadline: float,
) -> SntpResult:
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        return SntpFailure(shown, SntpFailureReason.UNREACHABLE, str(exc))
    with sock:
        try:
            # A connected UDP socket only hears from that address and reports ICMP "port
            # unreachable" as ConnectionRefusedError, so a closed port fails fast.
            sock.connect(sockaddr)
            t1 = (_to_ntp(time.time()) & ~((1 << _RANDOM_BITS) - 1)) | secrets.randbits(
                _RANDOM_BITS
            )
            request = bytes([_REQUEST_FIRST_BYTE]) + bytes(39) + struct.pack("!Q", t1)
            sock.send(request)
        except OSError as exc:
            return SntpFailure(shown, SntpFailureReason.UNREACHABLE, str(exc))

        dropped = 0
        while True:
            if budget.cancelled:
                return SntpFailure(shown, SntpFailureReason.CANCELLED)
            if time.monotonic() >= deadline:
                if dropped:
                    return SntpFailure(
                        shown,
                        SntpFailureReason.INVALID_REPLY,
                        f"ignored {dropped} datagram(s) that did not answer our request "
                        "(too short, or an origin timestamp that is not ours)",
                    )
                return SntpFailure(shown, SntpFailureReason.TIMEOUT, "no answer in time")
            sock.settimeout(max(wait_slice(deadline), 0.001))
            try:
                reply = sock.recv(512)
                now = time.time()
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                return SntpFailure(shown, SntpFailureReason.REFUSED, "UDP port closed")
            except OSError as exc:
                return SntpFailure(shown, SntpFailureReason.UNREACHABLE, str(exc))
            received_at = datetime.fromtimestamp(now, UTC)
            outcome = _read_reply(shown, sockaddr, reply, t1, _to_ntp(now), received_at)
            if outcome is None:
                dropped += 1
                continue
            return outcome


def _read_reply(
    shown: str,
    sockaddr: tuple[str, int],
    reply: bytes,
    t1: int,
    t4: int,
    received_at: datetime,
) -> SntpResult | None:
    """Check one datagram; None means "not an answer to our request": keep waiting."""
    if len(reply) < PACKET_SIZE:
        return None
    (first, stratum, _poll, _precision, _root_delay, _root_disp, ref_id, _ref_ts, origin,
     t2, t3) = struct.unpack("!BBBbII4sQQQQ", reply[:PACKET_SIZE])  # fmt: skip
    if origin != t1:
        return None
    leap, mode = first >> 6, first & 0b111
    if mode != _MODE_SERVER:
        return SntpFailure(shown, SntpFailureReason.INVALID_REPLY, f"reply mode {mode}, not 4")
    if stratum == 0:
        code = _kiss_code(ref_id)
        return SntpFailure(shown, SntpFailureReason.INVALID_REPLY, f"kiss-o'-death {code!r}")
    if stratum > _MAX_STRATUM or leap == _LEAP_ALARM:
        return SntpFailure(
            shown, SntpFailureReason.UNSYNCHRONIZED, f"stratum {stratum}, leap indicator {leap}"
        )
    if t3 == 0 or t2 == 0:
        return SntpFailure(shown, SntpFailureReason.INVALID_REPLY, "zero server timestamp")

    theta = (_diff(t2, t1) + _diff(t3, t4)) / 2 / _FRACTION  # reference minus local
    delay = (_diff(t4, t1) - _diff(t3, t2)) / _FRACTION
    # A stratum-1 server names its clock ("GPS", "PPS"); others give their upstream's IPv4.
    reference_id = _kiss_code(ref_id) if stratum == 1 else ".".join(str(b) for b in ref_id)
    return SntpSample(
        server=shown,
        address=sockaddr[0],
        port=sockaddr[1],
        offset_s=-theta,
        delay_s=max(delay, 0.0),  # a negative delay is rounding between two clocks' stamps
        stratum=stratum,
        reference_id=reference_id,
        received_at=received_at,
    )


# --------------------------------------------------------------------------- several servers


def query_all(servers: Sequence[str], budget: Budget) -> tuple[SntpResult, ...]:
    """Query every ``HOST[:PORT]`` at once; one result per server, in the order given."""
    results: list[SntpResult | None] = [None] * len(servers)
    jobs: list[tuple[int, str, int]] = []
    for i, text in enumerate(servers):
        try:
            host, port = parse_server(text)
        except ValueError as exc:
            results[i] = SntpFailure(text, SntpFailureReason.BAD_ADDRESS, str(exc))
        else:
            jobs.append((i, host, port))
    if jobs:
        workers = min(len(jobs), _MAX_PARALLEL)
        with ThreadPoolExecutor(workers, thread_name_prefix="sntp") as pool:
            futures = [(i, pool.submit(query_sntp, host, port, budget)) for i, host, port in jobs]
            for i, future in futures:
                results[i] = future.result()  # each query ends by its own deadline
    return tuple(r for r in results if r is not None)


def pick_best(results: Sequence[SntpResult]) -> SntpSample | None:
    """The answer with the shortest round trip: the tightest bound on the true offset."""
    samples = [r for r in results if isinstance(r, SntpSample)]
    return min(samples, key=lambda s: s.delay_s, default=None)


def best_sntp(servers: Sequence[str], budget: Budget) -> SntpSample | None:
    """Query several servers in parallel and keep the one with the lowest round-trip delay."""
    return pick_best(query_all(servers, budget))
