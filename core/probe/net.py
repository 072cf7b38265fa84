"""Name resolution and TCP connection, each bounded by the budget and cancellable.

A failure here is an observation (refused, timed out, unreachable), not an exception: the
analysis turns it into a cause.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import queue
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.budget import Budget, Cancelled, wait_slice
from core.models import NetworkFailure, ResolveResult

#: getaddrinfo-like: (host, port) -> list of IP address strings. Tests inject one to simulate
#: a name that does not resolve without asking any real DNS server.
Resolver = Callable[[str, int], Sequence[str]]


class ResolveError(Exception):
    """The name does not resolve; the message is the resolver's own words."""


def is_ip_literal(host: str) -> bool:
    """An address to dial as it is, not a name to resolve."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def system_resolver(host: str, port: int) -> Sequence[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ResolveError(exc.strerror or str(exc)) from None
    except UnicodeError:
        raise ResolveError("the name is not valid for DNS") from None
    seen: list[str] = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = str(sockaddr[0])
            if address not in seen:
                seen.append(address)
    return seen


def resolve(
    host: str, port: int, budget: Budget, resolver: Resolver | None = None
) -> ResolveResult:
    """Resolve in a helper thread so a stuck system resolver cannot outlive the step timeout."""
    started = time.monotonic()
    use = resolver or system_resolver
    outcome: list[Sequence[str] | BaseException] = []

    def work() -> None:
        try:
            outcome.append(use(host, port))
        except BaseException as exc:  # handed back to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=work, name=f"resolve {host}", daemon=True)
    worker.start()
    deadline = budget.step_deadline()
    while worker.is_alive() and time.monotonic() < deadline:
        if budget.cancelled:
            raise Cancelled
        worker.join(wait_slice(deadline))
    took = (time.monotonic() - started) * 1000
    if not outcome:
        return ResolveResult(
            (), took, f"no answer from the resolver within {budget.step_timeout:g} s"
        )
    result = outcome[0]
    if isinstance(result, ResolveError):
        return ResolveResult((), took, str(result))
    if isinstance(result, BaseException):
        raise result
    if not result:
        return ResolveResult((), took, "the name has no addresses")
    return ResolveResult(tuple(result), took)


@dataclass(frozen=True)
class ConnectOutcome:
    sock: socket.socket | None
    address: str
    failure: NetworkFailure | None
    detail: str
    duration_ms: float


#: How a check opens each connection: straight to an address (``connect_one``), or through the
#: route's proxy (``core.probe.tunnel.proxy_dialer``), where the host may be a name.
Dialer = Callable[[str, int, Budget], ConnectOutcome]


def connect_one(
    address: str, port: int, budget: Budget, deadline: float | None = None
) -> ConnectOutcome:
    """Non-blocking connect watched in short slices, so cancel and the deadline both hold."""
    started = time.monotonic()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    # Handshake messages are small and answered at once: without this, Nagle's algorithm and
    # the peer's delayed ACK add ~40 ms to each round trip.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def outcome(failure: NetworkFailure | None, detail: str) -> ConnectOutcome:
        took = (time.monotonic() - started) * 1000
        if failure is not None:
            sock.close()
            return ConnectOutcome(None, address, failure, detail, took)
        return ConnectOutcome(sock, address, None, detail, took)

    try:
        code = sock.connect_ex((address, port))
    except OSError as exc:
        return outcome(NetworkFailure.UNREACHABLE, exc.strerror or str(exc))
    deadline = budget.step_deadline() if deadline is None else deadline
    if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
        return outcome(_failure_for(code), _strerror(code))
    while code != 0:
        if budget.cancelled:
            sock.close()
            raise Cancelled
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return outcome(NetworkFailure.CONNECT_TIMEOUT, "no answer to the connection request")
        _, writable, _ = select.select([], [sock], [], wait_slice(deadline))
        if writable:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code != 0:
                return outcome(_failure_for(code), _strerror(code))
            break
    return outcome(None, "connected")


def connect(addresses: Sequence[str], port: int, budget: Budget) -> ConnectOutcome:
    """Try each address in turn; the first that connects wins, else the most telling failure."""
    last: ConnectOutcome | None = None
    for address in addresses:
        attempt = connect_one(address, port, budget)
        if attempt.failure is None:
            return attempt
        last = attempt
        if attempt.failure is NetworkFailure.CONNECT_TIMEOUT:
            break  # the time is spent; another address would overrun the step
    assert last is not None, "connect() needs at least one address"
    return last


def _failure_for(code: int) -> NetworkFailure:
    if code == errno.ECONNREFUSED:
        return NetworkFailure.CONNECT_REFUSED
    if code in (errno.ETIMEDOUT,):
        return NetworkFailure.CONNECT_TIMEOUT
    if code in (errno.ECONNRESET,):
        return NetworkFailure.CONNECTION_RESET
    return NetworkFailure.UNREACHABLE


def _strerror(code: int) -> str:
    return os.strerror(code)


#: RFC 8305 section 5: the recommended Connection Attempt Delay.
HAPPY_EYEBALLS_DELAY_S = 0.25


class Race:
    """Happy Eyeballs (RFC 8305): the addresses in turn, each next one started when the one
    before fails or after a short delay, the first that connects wins. The attempts still under
    way when one wins go on in the background, so every address gets its own outcome
    (``finish``) without delaying the handshake: the one that failed is the evidence of a
    broken IPv6 path that a browser would stall on."""

    def __init__(
        self,
        addresses: Sequence[str],
        port: int,
        budget: Budget,
        *,
        delay: float | None = HAPPY_EYEBALLS_DELAY_S,
    ) -> None:
        self.addresses = tuple(addresses)
        self._port = port
        self._budget = budget
        self._delay = delay
        self._deadline = budget.step_deadline()
        self._done: queue.Queue[tuple[str, ConnectOutcome]] = queue.Queue()
        self._results: dict[str, ConnectOutcome] = {}
        self._running = 0
        self._started: list[str] = []
        self.winner: ConnectOutcome | None = None
        #: Set once nobody will read the queue again: a late attempt closes its own socket.
        self._abandoned = False
        self._lock = threading.Lock()

    def run(self) -> ConnectOutcome:
        """The winner, or the most telling failure when no address connects."""
        pending = list(self.addresses)
        next_start = 0.0
        while self.winner is None and (pending or self._running):
            now = time.monotonic()
            if pending and (self._running == 0 or (self._delay is not None and now >= next_start)):
                self._start(pending.pop(0))
                next_start = now + (self._delay or 0.0)
                continue
            if self._budget.cancelled:
                self.abandon()
                raise Cancelled
            wait = wait_slice(self._deadline + 0.5)
            if pending and self._delay is not None:
                wait = max(0.0, min(wait, next_start - now))
            try:
                address, result = self._done.get(timeout=max(wait, 0.001))
            except queue.Empty:
                continue
            self._record(address, result)
        if self.winner is not None:
            return self.winner
        return self._most_telling()

    def finish(self) -> tuple[tuple[str, ConnectOutcome | None], ...]:
        """Wait for the attempts still under way (each bounded by the step deadline) and give
        every address's outcome, None for those never tried."""
        while self._running:
            try:
                address, result = self._done.get(timeout=wait_slice(self._deadline + 0.5) or 0.05)
            except queue.Empty:
                if time.monotonic() > self._deadline + 1:
                    break
                continue
            self._record(address, result)
        self.abandon()
        return tuple((a, self._results.get(a)) for a in self.addresses)

    def abandon(self) -> None:
        """Nobody waits for the attempts still under way: each closes what it connects (a
        cancel, or the handshake's end, must not leave a connected socket behind)."""
        with self._lock:
            self._abandoned = True
            while True:
                try:
                    _, result = self._done.get_nowait()
                except queue.Empty:
                    break
                if result.sock is not None:
                    result.sock.close()

    def _start(self, address: str) -> None:
        self._running += 1
        self._started.append(address)

        def work() -> None:
            try:
                result = connect_one(address, self._port, self._budget, self._deadline)
            except Cancelled:
                result = ConnectOutcome(None, address, NetworkFailure.CANCELLED, "cancelled", 0.0)
            except OSError as exc:
                result = ConnectOutcome(
                    None, address, NetworkFailure.UNREACHABLE, exc.strerror or str(exc), 0.0
                )
            with self._lock:
                if self._abandoned:
                    if result.sock is not None:
                        result.sock.close()
                    return
                self._done.put((address, result))

        threading.Thread(target=work, name=f"connect {address}", daemon=True).start()

    def _record(self, address: str, result: ConnectOutcome) -> None:
        self._running -= 1
        if result.sock is not None and self.winner is not None:
            result.sock.close()  # a later one connected too: its outcome is all we keep
            result = ConnectOutcome(None, address, None, "connected", result.duration_ms)
        elif result.sock is not None:
            self.winner = result
        self._results[address] = result

    def _most_telling(self) -> ConnectOutcome:
        failures = [self._results[a] for a in self._started if a in self._results]
        assert failures, "a race needs at least one address"
        for kind in (
            NetworkFailure.CONNECT_REFUSED,
            NetworkFailure.CONNECTION_RESET,
            NetworkFailure.CONNECT_TIMEOUT,
        ):
            for failure in failures:
                if failure.failure is kind:
                    return failure
        return failures[0]
