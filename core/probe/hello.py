"""The hello prober: which versions, cipher suites and groups a server accepts, in its order.

One probe is one TCP connection carrying one hand-built ClientHello; the server's ServerHello,
HelloRetryRequest or alert (or its silence, reset or garbage) is the observation, and the
connection is closed without finishing the handshake. That is enough to learn the server's
choice, costs the server a fraction of a handshake, and lets us offer suites the local OpenSSL
no longer has.

Enumeration, per version, offers every candidate suite at once and removes the one chosen until
the server refuses: accepted + 1 hellos. Alternate hellos list the suites in reverse, which
tells a server that imposes its own order (it keeps choosing the same way) from one that takes
the client's (its choice flips), so the preference order costs no extra hellos once a server
accepts three or more suites. Versions run in parallel, capped at ``max_connections``; each
version's chain of probes is sequential because each hello depends on the last answer.

Some servers mishandle hellos with more than about 128 suites. The first hello of a version
offers the whole candidate list (about 165 suites for TLS 1.2); if the server answers it with a
ServerHello it evidently copes and we go on that way. If it answers with anything but a
ServerHello or a ``protocol_version`` alert, we start that version again with windows of at most
:data:`SAFE_SUITES_PER_HELLO` suites, which costs one more refusal per window.
"""

from __future__ import annotations

import enum
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType

from core.budget import Budget, Cancelled, DeadlineExceeded, wait_slice
from core.ciphers import CipherSuite, load_registry, preference_key, suite
from core.observations import ServerEnumeration
from core.probe.net import Dialer, connect_one, is_ip_literal, resolve
from core.wire.hello import ECDHE_GROUPS, TLS13_GROUPS, build_client_hello, group_name
from core.wire.parse import (
    Malformed,
    ReplyKind,
    ServerReply,
    parse_dhe_prime_bits,
    read_server_reply,
)
from core.wire.records import TlsVersion, version_label

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "GENTLE_PACE_S",
    "SAFE_SUITES_PER_HELLO",
    "ProbeOutcome",
    "ProbeResult",
    "ServerEnumeration",
    "candidate_suites",
    "enumerate_server",
    "send_hello",
]

DEFAULT_MAX_CONNECTIONS = 8
#: Pause before each probe in gentle mode: fragile servers and watchful firewalls see a slow,
#: single client rather than a burst.
GENTLE_PACE_S = 0.25
#: Largest suite list in a hello once a server has shown it cannot take the full list; testssl.sh
#: found that some servers fail with 128 or more, nmap sends at most 64.
SAFE_SUITES_PER_HELLO = 120
#: Most bytes we read while waiting for the end of a TLS 1.0–1.2 server's first flight (its
#: certificate chain sits between the ServerHello and the ServerKeyExchange).
_MAX_REPLY_BYTES = 256 * 1024

#: The group chain's key in ``hellos_sent``.
GROUPS_KEY = "groups"


class ProbeOutcome(enum.StrEnum):
    """What one ClientHello got back."""

    SERVER_HELLO = "server-hello"
    HELLO_RETRY_REQUEST = "hello-retry-request"
    ALERT = "alert"
    #: The server closed or reset the connection without a word: a refusal in practice.
    CLOSED = "closed"
    #: No answer before the step timeout.
    TIMEOUT = "timeout"
    #: An answer that is not TLS, or TLS that makes no sense as a reply to a ClientHello.
    MALFORMED = "malformed"
    CONNECT_FAILED = "connect-failed"


@dataclass(frozen=True)
class ProbeResult:
    outcome: ProbeOutcome
    #: Version the server chose (from supported_versions for TLS 1.3).
    version: int | None = None
    cipher_suite: int | None = None
    #: Key share group (TLS 1.3), group asked for (HelloRetryRequest) or ECDHE curve (1.0–1.2).
    group: int | None = None
    alert: str | None = None
    detail: str = ""
    duration_ms: float = 0.0
    #: The ServerKeyExchange's body, when the probe read that far (``want_key_exchange``).
    key_exchange: bytes | None = None

    @property
    def chose(self) -> bool:
        """The server picked a version and suite (ServerHello or HelloRetryRequest)."""
        return self.outcome in (ProbeOutcome.SERVER_HELLO, ProbeOutcome.HELLO_RETRY_REQUEST)

    @property
    def refused(self) -> bool:
        """A clear no: an alert or a closed connection."""
        return self.outcome in (ProbeOutcome.ALERT, ProbeOutcome.CLOSED)

    def describe(self) -> str:
        if self.outcome is ProbeOutcome.ALERT:
            return f"alert {self.alert}"
        if self.chose and self.version is not None:
            return f"answered with {version_label(self.version)}"
        return f"{self.outcome.value}{': ' + self.detail if self.detail else ''}"


def send_hello(
    address: str,
    port: int,
    hello: bytes,
    budget: Budget,
    *,
    want_key_exchange: bool = False,
    dial: Dialer | None = None,
) -> ProbeResult:
    """One probe: connect, send ``hello``, read the answer, close.

    Every wait is bounded by the budget's step timeout and looks at the cancel flag at least
    every :data:`core.budget.CANCEL_SLICE_S`; raises :class:`Cancelled` or
    :class:`DeadlineExceeded` only when the whole check must stop. ``want_key_exchange`` keeps
    reading a TLS 1.0–1.2 answer up to its ServerKeyExchange, to learn the ECDHE curve.
    """
    budget.check()
    started = time.monotonic()
    connected = (dial or connect_one)(address, port, budget)
    if connected.sock is None:
        return ProbeResult(
            ProbeOutcome.CONNECT_FAILED,
            detail=f"{connected.failure}: {connected.detail}",
            duration_ms=_ms_since(started),
        )
    sock = connected.sock
    try:
        return _exchange(sock, hello, budget, want_key_exchange, started)
    finally:
        sock.close()


def _exchange(
    sock: socket.socket, hello: bytes, budget: Budget, want_key_exchange: bool, started: float
) -> ProbeResult:
    deadline = budget.step_deadline()
    pending = hello
    while pending:
        _raise_if_cancelled(budget)
        if time.monotonic() >= deadline:
            return ProbeResult(ProbeOutcome.TIMEOUT, detail="could not send the ClientHello")
        _, writable, _ = select.select([], [sock], [], wait_slice(deadline))
        if not writable:
            continue
        try:
            pending = pending[sock.send(pending) :]
        except BlockingIOError:
            continue
        except OSError as exc:
            return ProbeResult(ProbeOutcome.CLOSED, detail=f"while sending: {_os_error(exc)}")

    received = b""
    reply = ServerReply(ReplyKind.INCOMPLETE)
    ended = ""
    while True:
        _raise_if_cancelled(budget)
        if time.monotonic() >= deadline:
            ended = "timeout"
            break
        readable, _, _ = select.select([sock], [], [], wait_slice(deadline))
        if not readable:
            continue
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            continue
        except OSError as exc:
            ended = _os_error(exc)
            break
        if not chunk:
            ended = "closed"
            break
        received += chunk
        reply = read_server_reply(received, want_key_exchange=want_key_exchange)
        if reply.conclusive or len(received) > _MAX_REPLY_BYTES:
            break
    return _result(reply, received, ended, _ms_since(started))


def _result(reply: ServerReply, received: bytes, ended: str, took: float) -> ProbeResult:
    if reply.hello is not None:
        kind = (
            ProbeOutcome.HELLO_RETRY_REQUEST
            if reply.kind is ReplyKind.HELLO_RETRY_REQUEST
            else ProbeOutcome.SERVER_HELLO
        )
        return ProbeResult(
            kind,
            version=reply.hello.version,
            cipher_suite=reply.hello.cipher_suite,
            group=reply.key_exchange_group,
            duration_ms=took,
            key_exchange=reply.key_exchange,
        )
    if reply.kind is ReplyKind.ALERT and reply.alert is not None:
        return ProbeResult(ProbeOutcome.ALERT, alert=reply.alert.name, duration_ms=took)
    if reply.kind is ReplyKind.MALFORMED:
        reason = reply.malformed.reason if reply.malformed else "malformed"
        return ProbeResult(
            ProbeOutcome.MALFORMED,
            detail=f"{reason}; first bytes {received[:16].hex()}",
            duration_ms=took,
        )
    if ended == "timeout":
        return ProbeResult(ProbeOutcome.TIMEOUT, detail="no answer", duration_ms=took)
    detail = ended if not received else f"{ended} after {len(received)} bytes"
    return ProbeResult(ProbeOutcome.CLOSED, detail=detail, duration_ms=took)


def measure_dh_bits(
    address: str,
    port: int,
    sni: str | None,
    budget: Budget,
    enum: ServerEnumeration,
    *,
    dial: Dialer | None = None,
) -> int | None:
    """The size of the server's Diffie-Hellman group: one ClientHello offering only the DHE
    suites the server accepted, read up to its ServerKeyExchange. None: it accepts no DHE
    suite, or did not say. One connection, bounded by the step timeout."""
    for version in (TlsVersion.TLS1_2, TlsVersion.TLS1_1, TlsVersion.TLS1_0):
        codes = [
            code
            for code in enum.cipher_codes.get(version, ())
            if (entry := suite(code)) is not None and entry.key_exchange.startswith("DHE")
        ]
        if not codes:
            continue
        hello = build_client_hello(version, codes, sni=sni)
        result = send_hello(address, port, hello, budget, want_key_exchange=True, dial=dial)
        if result.key_exchange is None:
            return None
        bits = parse_dhe_prime_bits(result.key_exchange)
        return None if isinstance(bits, Malformed) else bits
    return None


def _raise_if_cancelled(budget: Budget) -> None:
    if budget.cancelled:
        raise Cancelled


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError):
        return "reset"
    return exc.strerror or type(exc).__name__


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


# --------------------------------------------------------------------------- enumeration result


def candidate_suites(version: TlsVersion) -> tuple[int, ...]:
    """Every suite worth offering in ``version``, strongest first.

    Left out: suites that need credentials a server has only if configured for them (PSK, SRP,
    Kerberos, passwords) and static-(EC)DH certificate suites, for which no CA issues
    certificates; both would only lengthen every hello.
    """
    registry = load_registry()
    usable = [
        s
        for s in registry.suites()
        if s.usable_with(version) and not s.needs_credentials and not s.static_dh
    ]
    return tuple(s.code for s in sorted(usable, key=preference_key))


# --------------------------------------------------------------------------- the scan


@dataclass
class _VersionScan:
    """Mutable notes of one version's chain, owned by the thread running it."""

    version: TlsVersion
    accepted: bool | None = None
    refusal: str = ""
    picks: list[int] = field(default_factory=list)
    #: Each hello's suites in offered order and the suite chosen (None: refused).
    steps: list[tuple[tuple[int, ...], int | None]] = field(default_factory=list)
    preference: bool | None = None
    order: tuple[int, ...] = ()
    closed_first: bool = False
    #: The full list went unanswered, so suites were offered in short windows.
    windowed: bool = False


class _Scan:
    def __init__(
        self,
        address: str,
        port: int,
        sni: str | None,
        budget: Budget,
        workers: int,
        gentle: bool,
        progress: Callable[[int, int], None] | None,
        dial: Dialer | None = None,
    ) -> None:
        self.dial = dial
        self.address = address
        self.port = port
        self.sni = sni
        self.budget = budget
        self.gentle = gentle
        self._progress = progress
        self._lock = threading.Lock()
        self._pace_lock = threading.Lock()
        self._last_probe = 0.0
        self._done = 0
        #: Probes known to be coming: one per chain that has started but not yet sent its
        #: next hello. ``done + _announced`` never overshoots, so the total only grows.
        self._announced = 0
        self._chain = threading.local()
        self.hellos: dict[str, int] = {}
        self.errors: list[str] = []
        self.incomplete = False
        self.groups: list[int] = []
        self._futures: list[Future[None]] = []
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hello-probe")

    # ---- chains and progress

    def spawn(self, work: Callable[[], None]) -> None:
        """Run a chain of probes on the pool; every chain sends at least one hello."""
        with self._lock:
            self._announced += 1
            self._futures.append(self._pool.submit(self._run_chain, work))
        self._report()

    def _run_chain(self, work: Callable[[], None]) -> None:
        self._chain.announced = True
        try:
            work()
        except DeadlineExceeded:
            self.note("the check ran out of time before the enumeration ended")
        finally:
            if self._chain.announced:  # it stopped before sending the hello it announced
                with self._lock:
                    self._announced -= 1
                self._report()

    def wait(self) -> None:
        """Wait for every chain, including chains started by other chains; re-raises the first
        chain's exception (Cancelled, or a bug) after all have stopped."""
        index = 0
        failure: BaseException | None = None
        while True:
            with self._lock:
                if index >= len(self._futures):
                    break
                future = self._futures[index]
            index += 1
            exc = future.exception()
            if exc is not None and failure is None:
                failure = exc
        if failure is not None:
            raise failure

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add_group(self, group: int) -> None:
        with self._lock:
            self.groups.append(group)

    def _report(self) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._progress(self._done, self._done + self._announced)

    def note(self, message: str, *, incomplete: bool = True) -> None:
        with self._lock:
            self.errors.append(message)
            if incomplete:
                self.incomplete = True

    # ---- probes

    def probe(
        self,
        key: str,
        version: TlsVersion,
        suites: Sequence[int],
        *,
        groups: Sequence[int] | None = None,
        key_share_groups: Sequence[int] | None = None,
        want_key_exchange: bool = False,
    ) -> ProbeResult:
        if not self._chain.announced:
            with self._lock:
                self._announced += 1
            self._chain.announced = True
            self._report()
        self._pace()
        hello = build_client_hello(
            version, suites, sni=self.sni, groups=groups, key_share_groups=key_share_groups
        )
        result = send_hello(
            self.address,
            self.port,
            hello,
            self.budget,
            want_key_exchange=want_key_exchange,
            dial=self.dial,
        )
        with self._lock:
            self.hellos[key] = self.hellos.get(key, 0) + 1
            self._done += 1
            self._announced -= 1
        self._chain.announced = False
        self._report()
        return result

    def _pace(self) -> None:
        if not self.gentle:
            return
        with self._pace_lock:
            wait = self._last_probe + GENTLE_PACE_S - time.monotonic()
            if wait > 0 and self.budget.cancel_event.wait(wait):
                raise Cancelled
            self._last_probe = time.monotonic()


def _suites_for_result(scan: _VersionScan) -> tuple[int, ...]:
    if scan.order:
        return scan.order
    return tuple(scan.picks)


def _enumerate_version(scan: _Scan, state: _VersionScan, on_accepted: Callable[[], None]) -> None:
    version = state.version
    pool = list(candidate_suites(version))
    first = scan.probe(version.label, version, pool)
    if not _judge_first(scan, state, first, pool):
        return
    if first.chose:
        on_accepted()
        _walk(scan, state, pool, first, len(pool))
    elif len(pool) > SAFE_SUITES_PER_HELLO:
        # No ServerHello to the full list: maybe no shared suite, maybe a server that cannot
        # take a long hello. Start again with short windows to tell the two apart.
        state.windowed = True
        _walk(scan, state, pool, None, SAFE_SUITES_PER_HELLO)
        if state.accepted:
            on_accepted()
    _settle_preference(scan, state, pool)


def _judge_first(scan: _Scan, state: _VersionScan, first: ProbeResult, pool: list[int]) -> bool:
    """Read the version's answer from its first hello; False when nothing more can be learnt."""
    version = state.version
    if first.chose:
        if first.version != version:
            state.accepted = False
            state.refusal = first.describe()
            return False
        state.accepted = True
        if first.cipher_suite not in pool:
            scan.note(
                f"{version.label}: the server chose {_name(first.cipher_suite or 0)}, not offered"
            )
            return False
        return True
    if first.refused:
        state.refusal = first.describe()
        state.closed_first = first.outcome is ProbeOutcome.CLOSED
        # A hang-up may be a server that does not speak this version or one that only refused
        # the suites; which, _fold decides from whether any other version got an answer.
        state.accepted = None if state.closed_first else False
        return not (first.outcome is ProbeOutcome.ALERT and first.alert == "protocol_version")
    state.refusal = first.describe()
    if first.outcome is ProbeOutcome.TIMEOUT and len(pool) > SAFE_SUITES_PER_HELLO:
        return True  # some servers hang on long hellos (RFC 7685 §4): try short ones once
    scan.note(f"{version.label}: {first.describe()}")
    return False


def _walk(
    scan: _Scan, state: _VersionScan, pool: list[int], first: ProbeResult | None, window: int
) -> None:
    """Offer the remaining candidates, drop the chosen suite, repeat until a refusal; windows of
    ``window`` suites, dropping a whole window when it is refused. ``first`` is the answer to a
    full-list hello already sent (fast path), whose choice is used instead of asking again.
    Every other hello lists the suites in reverse, for :func:`_settle_preference`."""
    version = state.version
    remaining = list(pool)
    step = 0
    pending = first
    while remaining:
        offer = remaining[:window]
        ordered = tuple(reversed(offer)) if step % 2 else tuple(offer)
        result = pending if pending is not None else scan.probe(version.label, version, ordered)
        pending = None
        step += 1
        chosen = result.cipher_suite
        if result.chose and result.version == version and chosen is not None and chosen in offer:
            state.accepted = True
            state.picks.append(chosen)
            state.steps.append((ordered, chosen))
            remaining.remove(chosen)
            continue
        if result.refused:
            state.steps.append((ordered, None))
            if not state.picks:
                state.refusal = result.describe()
                state.closed_first = result.outcome is ProbeOutcome.CLOSED
                if result.alert == "protocol_version":
                    break  # not the suites: the version itself is refused
            remaining = remaining[len(offer) :]
            continue
        scan.note(f"{version.label}: {result.describe()} while enumerating suites")
        return
    if not state.picks:
        state.accepted = None if state.closed_first else False


def _settle_preference(scan: _Scan, state: _VersionScan, pool: list[int]) -> None:
    """Decide whether the server imposes its order, and put the suites in the right order.

    A server that follows the client's order chose, in every hello, the first accepted suite
    listed. Any hello where it did not proves a server order, and then the order of choices is
    that order (each hello offered every accepted suite not yet chosen). If it always followed
    the list, and it did so both in a forward and in a reversed hello offering two or more
    accepted suites, it follows the client. Otherwise (two suites, or windows) one or two more
    hellos with only the accepted suites settle it.
    """
    picks = state.picks
    rank = {code: i for i, code in enumerate(pool)}
    by_pool = tuple(sorted(picks, key=rank.__getitem__))
    state.order = by_pool
    if len(picks) < 2:
        return
    accepted = set(picks)

    def client_first(offered: Sequence[int]) -> int | None:
        return next((c for c in offered if c in accepted), None)

    informative = [
        (offered, chosen)
        for offered, chosen in state.steps
        if chosen is not None and sum(c in accepted for c in offered) >= 2
    ]
    if any(client_first(offered) != chosen for offered, chosen in informative):
        state.preference = True
    else:
        state.preference = _ask_order(scan, state, by_pool, informative, rank)
    if state.preference:
        state.order = _server_order(scan, state, by_pool) if state.windowed else tuple(picks)


def _ask_order(
    scan: _Scan,
    state: _VersionScan,
    by_pool: tuple[int, ...],
    informative: Sequence[tuple[tuple[int, ...], int | None]],
    rank: Mapping[int, int],
) -> bool | None:
    seen_forward = any(_is_forward(offered, rank) for offered, _ in informative)
    seen_backward = any(not _is_forward(offered, rank) for offered, _ in informative)
    for needed, offer in ((seen_backward, tuple(reversed(by_pool))), (seen_forward, by_pool)):
        if needed:
            continue
        result = scan.probe(state.version.label, state.version, offer)
        if not (result.chose and result.cipher_suite in by_pool):
            scan.note(f"{state.version.label}: {result.describe()} while testing the order")
            return None
        if result.cipher_suite != offer[0]:
            return True
    return False


def _is_forward(offered: tuple[int, ...], rank: Mapping[int, int]) -> bool:
    return len(offered) < 2 or rank[offered[0]] < rank[offered[-1]]


def _server_order(scan: _Scan, state: _VersionScan, accepted: tuple[int, ...]) -> tuple[int, ...]:
    """The server's order when windows split the suites: offer all accepted suites together and
    take the favourite out until one is left (accepted - 1 hellos)."""
    remaining = list(accepted)
    order: list[int] = []
    while len(remaining) > 1:
        result = scan.probe(state.version.label, state.version, remaining)
        if not (result.chose and result.cipher_suite in remaining):
            scan.note(f"{state.version.label}: {result.describe()} while ordering suites")
            return tuple(order + remaining)
        chosen = int(result.cipher_suite)
        order.append(chosen)
        remaining.remove(chosen)
    return tuple(order + remaining)


def _enumerate_groups_tls13(scan: _Scan) -> None:
    """Offer groups without any key share, so the server must name the group it wants in a
    HelloRetryRequest; drop it and ask again until it refuses."""
    remaining = list(TLS13_GROUPS)
    suites = candidate_suites(TlsVersion.TLS1_3)
    while remaining:
        result = scan.probe(
            GROUPS_KEY, TlsVersion.TLS1_3, suites, groups=remaining, key_share_groups=()
        )
        if result.chose and result.group is not None and result.group in remaining:
            scan.add_group(result.group)
            remaining.remove(result.group)
            continue
        if not result.refused:
            scan.note(f"groups: {result.describe()}")
        return


def _enumerate_groups_tls12(scan: _Scan, version: TlsVersion, ecdhe_suites: Sequence[int]) -> None:
    """For servers without TLS 1.3: the curve is in the ServerKeyExchange of an ECDHE suite."""
    remaining = list(ECDHE_GROUPS)
    while remaining:
        result = scan.probe(
            GROUPS_KEY, version, ecdhe_suites, groups=remaining, want_key_exchange=True
        )
        if result.chose and result.group is not None and result.group in remaining:
            scan.add_group(result.group)
            remaining.remove(result.group)
            continue
        if result.chose:
            scan.note(f"groups: no named curve in the {version.label} ServerKeyExchange")
        elif not result.refused:
            scan.note(f"groups: {result.describe()}")
        return


def enumerate_server(
    host_for_connect: str,
    port: int,
    sni: str | None,
    budget: Budget,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    gentle: bool = False,
    progress: Callable[[int, int], None] | None = None,
    dial: Dialer | None = None,
) -> ServerEnumeration:
    """Find the versions, suites (in the server's order where it has one) and groups a server
    accepts, with as few hellos as the answers allow.

    ``host_for_connect`` is the address to dial (a name is resolved once); ``sni`` goes into
    every hello (None for IP targets). At most ``max_connections`` probes run at once; ``gentle``
    means one at a time with a pause of :data:`GENTLE_PACE_S` before each. ``progress(done,
    total)`` is called whenever either changes, from worker threads but never two at once;
    ``total`` counts only hellos certain to be sent, so it grows as the answers show more to
    ask, never shrinks, and equals ``done`` at the end.

    Never raises for what the server does: timeouts, resets and odd answers become ``None``
    entries and ``errors``. Raises :class:`core.budget.Cancelled` when the budget's cancel flag
    is set; when the budget's deadline passes, returns what it has with ``complete=False``.
    """
    started = time.monotonic()
    # Through a proxy, the proxy resolves the name: every probe names the host, as the
    # handshake did.
    address = host_for_connect if dial is not None else _address_for(host_for_connect, port, budget)
    if address is None:
        return _unreached(f"{host_for_connect} does not resolve", started)
    workers = 1 if gentle else max(1, max_connections)
    scan = _Scan(address, port, sni, budget, workers, gentle, progress, dial)
    states = {v: _VersionScan(v) for v in TlsVersion}
    groups_started = threading.Event()

    def tls13_accepted() -> None:
        if not groups_started.is_set():
            groups_started.set()
            scan.spawn(lambda: _enumerate_groups_tls13(scan))

    try:
        # Newest first: the versions most servers accept carry the longest chains.
        for version in sorted(TlsVersion, reverse=True):
            hook = tls13_accepted if version is TlsVersion.TLS1_3 else _nothing
            scan.spawn(_chain(scan, states[version], hook))
        scan.wait()
        if not groups_started.is_set():
            _groups_without_tls13(scan, states)
            scan.wait()
    finally:
        scan.close()
    return _fold(scan, states, started)


def _chain(scan: _Scan, state: _VersionScan, hook: Callable[[], None]) -> Callable[[], None]:
    return lambda: _enumerate_version(scan, state, hook)


def _nothing() -> None:
    return None


def _groups_without_tls13(scan: _Scan, states: Mapping[TlsVersion, _VersionScan]) -> None:
    for version in (TlsVersion.TLS1_2, TlsVersion.TLS1_1, TlsVersion.TLS1_0):
        state = states[version]
        ecdhe = [c for c in _suites_for_result(state) if _is_ecdhe(suite(c))]
        if state.accepted and ecdhe:
            scan.spawn(_tls12_groups_chain(scan, version, tuple(ecdhe)))
            return


def _tls12_groups_chain(
    scan: _Scan, version: TlsVersion, ecdhe: tuple[int, ...]
) -> Callable[[], None]:
    return lambda: _enumerate_groups_tls12(scan, version, ecdhe)


def _is_ecdhe(entry: CipherSuite | None) -> bool:
    return entry is not None and entry.key_exchange.startswith("ECDHE")


def _fold(
    scan: _Scan, states: Mapping[TlsVersion, _VersionScan], started: float
) -> ServerEnumeration:
    speaks_tls = any(s.accepted for s in states.values())
    versions: dict[TlsVersion, bool | None] = {}
    ciphers: dict[TlsVersion, tuple[str, ...]] = {}
    codes: dict[TlsVersion, tuple[int, ...]] = {}
    preference: dict[TlsVersion, bool | None] = {}
    refusals: dict[TlsVersion, str] = {}
    for version in TlsVersion:
        state = states[version]
        accepted = state.accepted
        if accepted is None and state.closed_first and speaks_tls:
            accepted = False  # a TLS server that hangs up on this version does not speak it
        versions[version] = accepted
        if accepted:
            order = _suites_for_result(state)
            codes[version] = order
            ciphers[version] = tuple(_name(c) for c in order)
            preference[version] = state.preference
        elif state.refusal:
            refusals[version] = state.refusal
    decided = [p for p in preference.values() if p is not None]
    server_preference = True if any(decided) else (False if decided else None)
    return ServerEnumeration(
        versions=MappingProxyType(versions),
        ciphers=MappingProxyType(ciphers),
        cipher_codes=MappingProxyType(codes),
        groups=tuple(group_name(g) for g in scan.groups),
        server_preference=server_preference,
        preference_by_version=MappingProxyType(preference),
        hellos_sent=MappingProxyType(dict(scan.hellos)),
        refusals=MappingProxyType(refusals),
        errors=tuple(scan.errors),
        complete=not scan.incomplete,
        duration_ms=_ms_since(started),
    )


def _name(code: int) -> str:
    entry = suite(code)
    return entry.name if entry is not None else f"0x{code:04X}"


def _address_for(host: str, port: int, budget: Budget) -> str | None:
    if is_ip_literal(host):
        return host
    found = resolve(host, port, budget)
    return found.addresses[0] if found.addresses else None


def _unreached(reason: str, started: float) -> ServerEnumeration:
    return ServerEnumeration(
        versions=MappingProxyType(dict.fromkeys(TlsVersion)),
        ciphers=MappingProxyType({}),
        cipher_codes=MappingProxyType({}),
        groups=(),
        server_preference=None,
        preference_by_version=MappingProxyType({}),
        hellos_sent=MappingProxyType({}),
        refusals=MappingProxyType({}),
        errors=(reason,),
        complete=False,
        duration_ms=_ms_since(started),
    )
