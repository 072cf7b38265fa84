"""A real SNTP server on UDP 127.0.0.1 for the tests, with a clock set wherever a test wants it.

``offset_s`` is how far the *server's* clock is from this process's clock: to pretend the client's
clock is 3 days ahead, run the server with ``offset_s = -3 days``. ``delay_s`` adds a symmetric
round trip (half before the receive stamp, half after the transmit stamp) so the offset stays
exact and only the delay grows. ``behaviour`` picks a broken answer for the negative tests.

The server stops when its ``with`` block ends, and by itself after ``lifetime`` seconds at the
latest, so a failing test never leaves a thread behind.
"""

from __future__ import annotations

import enum
import socket
import struct
import threading
import time
from types import TracebackType

NTP_UNIX_DELTA = 2_208_988_800


class Behaviour(enum.Enum):
    GOOD = "good"
    SILENT = "silent"  # reads and never answers: a firewall that drops UDP 123
    WRONG_MODE = "wrong-mode"  # mode 3 (client) instead of 4 (server)
    KISS_OF_DEATH = "kiss-of-death"  # stratum 0, "RATE"
    UNSYNCHRONIZED = "unsynchronized"  # leap indicator 3, stratum 16
    BAD_ORIGIN = "bad-origin"  # origin timestamp is not the client's transmit time
    ZERO_TRANSMIT = "zero-transmit"  # transmit timestamp 0
    SHORT = "short"  # a 20-byte datagram
    SPOOF_THEN_GOOD = "spoof-then-good"  # a bad-origin reply first, then the real one


def to_ntp(unix_time: float) -> int:
    seconds = unix_time + NTP_UNIX_DELTA
    whole = int(seconds // 1)
    return ((whole << 32) | int((seconds - whole) * (1 << 32))) % (1 << 64)


class SntpServer:
    """``with SntpServer(offset_s=...) as server: server.address`` → ``"127.0.0.1:PORT"``."""

    def __init__(
        self,
        offset_s: float = 0.0,
        *,
        delay_s: float = 0.0,
        behaviour: Behaviour = Behaviour.GOOD,
        stratum: int = 2,
        lifetime: float = 60.0,
    ) -> None:
        self.offset_s = offset_s
        self.delay_s = delay_s
        self.behaviour = behaviour
        self.stratum = stratum
        self.requests = 0
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="sntp-server", daemon=True)
        self._answers: list[threading.Thread] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> SntpServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for answer in self._answers:
            answer.join(5)
        self._sock.close()

    def _now(self) -> int:
        return to_ntp(time.time() + self.offset_s)

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                request, peer = self._sock.recvfrom(512)
            except (TimeoutError, OSError):
                continue
            self.requests += 1
            if self.behaviour is Behaviour.SILENT or len(request) < 48:
                continue
            # The request is handled in a thread so a slow (delayed) answer does not hold up a
            # second client: the best-of-several test sends to several servers at once anyway.
            answer = threading.Thread(
                target=self._answer, args=(request, peer), name="sntp-answer", daemon=True
            )
            self._answers.append(answer)
            answer.start()

    def _answer(self, request: bytes, peer: tuple[str, int]) -> None:
        half = self.delay_s / 2
        if half:
            time.sleep(half)  # the way there: before the receive stamp
        t2 = self._now()
        client_transmit = struct.unpack("!Q", request[40:48])[0]
        mode, leap, stratum, ref_id = 4, 0, self.stratum, b"\x7f\x00\x00\x01"
        origin = client_transmit
        b = self.behaviour
        if b is Behaviour.WRONG_MODE:
            mode = 3
        elif b is Behaviour.KISS_OF_DEATH:
            stratum, ref_id = 0, b"RATE"
        elif b is Behaviour.UNSYNCHRONIZED:
            leap, stratum = 3, 16
        elif b in (Behaviour.BAD_ORIGIN, Behaviour.SPOOF_THEN_GOOD):
            origin = client_transmit ^ (1 << 40)
        t3 = 0 if b is Behaviour.ZERO_TRANSMIT else self._now()
        if half:
            time.sleep(half)  # the way back: after the transmit stamp, as on a real network
        reply = struct.pack(
            "!BBBbII4sQQQQ",
            (leap << 6) | (4 << 3) | mode,
            stratum,
            4,
            -20,
            0,
            0,
            ref_id,
            t2,
            origin,
            t2,
            t3,
        )
        if b is Behaviour.SHORT:
            reply = reply[:20]
        try:
            self._sock.sendto(reply, peer)
            if b is Behaviour.SPOOF_THEN_GOOD:
                good = reply[:24] + struct.pack("!Q", client_transmit) + reply[32:]
                self._sock.sendto(good, peer)
        except OSError:
            pass  # the server is stopping, or the client went away


class SilentUdpPort:
    """A bound UDP port that never answers (and so sends no ICMP "port unreachable")."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]

    def __enter__(self) -> SilentUdpPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


def closed_udp_port() -> int:
    """A UDP port nothing listens on right now (bound, noted, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
