"""Name resolution asked of DNS servers directly, so a failure says which kind it is.

getaddrinfo answers "Name or service not known" whether the name does not exist, the resolver
failed, nothing answered or the computer is offline: four different fixes. dnspython reads the
resolvers this computer uses (resolv.conf on Linux and macOS, the registry on Windows) and we ask
each in turn ourselves, so every server's reply is kept as evidence. The OS resolver stays the
fallback where the settings cannot be read, and for names only the OS knows (hosts file,
``localhost``, mDNS, search domains).

A and AAAA are asked at once on one socket, as getaddrinfo does, so the library costs no extra
round trip and no thread per question.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.budget import Budget, Cancelled, wait_slice
from core.probe.net import ResolveError, Resolver, system_resolver
from core.route import (
    DnsObservation,
    DnsOutcome,
    NetworkReach,
    ResolverSource,
    ServerReply,
    format_server,
    split_families,
)

if TYPE_CHECKING:
    import dns.name

_UNREACHABLE = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
)
#: Worse outcomes come later: when servers disagree, the most telling one is reported.
_RANK = (
    DnsOutcome.ANSWER,
    DnsOutcome.NXDOMAIN,
    DnsOutcome.NO_ADDRESSES,
    DnsOutcome.SERVER_FAILED,
    DnsOutcome.TIMEOUT,
    DnsOutcome.UNREACHABLE,
    DnsOutcome.NO_RESOLVER,
    DnsOutcome.INVALID_NAME,
)

#: Where "is there a route towards the internet" is asked. Documentation addresses (RFC 5737,
#: RFC 3849): a UDP connect() only consults the routing table and sends nothing.
_REACH_PROBES = {socket.AF_INET: "198.51.100.1", socket.AF_INET6: "2001:db8::1"}


@dataclass(frozen=True)
class SystemSettings:
    servers: tuple[tuple[str, int], ...]
    #: Why there are none, when there are none.
    problem: str = ""


def system_settings() -> SystemSettings:
    """The resolvers this computer uses, read by dnspython as it reads them on each OS."""
    import dns.resolver  # here, not at the top: a check with --connect never needs it (~50 ms)

    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration as exc:
        return SystemSettings((), str(exc) or "no resolver configured")
    except OSError as exc:
        return SystemSettings((), exc.strerror or str(exc))
    servers = []
    for server in resolver.nameservers:
        if isinstance(server, str):
            servers.append((server, resolver.nameserver_ports.get(server, resolver.port)))
    if not servers:
        return SystemSettings((), "the settings name no DNS server this app can ask")
    return SystemSettings(tuple(servers))


def ask_servers(
    host: str, servers: Sequence[tuple[str, int]], deadline: float, cancel: threading.Event
) -> tuple[DnsOutcome, tuple[str, ...], str | None, tuple[ServerReply, ...]]:
    """A and AAAA for ``host``, each from the first server that gives a real answer."""
    import dns.exception
    import dns.name

    try:
        qname = dns.name.from_text(host)
    except dns.exception.DNSException as exc:
        reply = ServerReply("", "A", DnsOutcome.INVALID_NAME, str(exc))
        return DnsOutcome.INVALID_NAME, (), None, (reply,)
    replies: list[ServerReply] = []
    decided: dict[str, tuple[DnsOutcome, tuple[str, ...], str]] = {}
    for index, (address, port) in enumerate(servers):
        pending = [t for t in ("A", "AAAA") if t not in decided]
        remaining = deadline - time.monotonic()
        if not pending or cancel.is_set() or remaining <= 0:
            break
        # Each later server keeps a fair share of what is left; the last one gets it all.
        share = remaining / (len(servers) - index)
        shown = format_server(address, port)
        got = _exchange(qname, pending, address, port, share, cancel)
        for qtype in pending:
            reply, found = _classify(shown, qtype, got[qtype], share)
            replies.append(reply)
            if reply.outcome in (DnsOutcome.ANSWER, DnsOutcome.NXDOMAIN):
                decided[qtype] = (reply.outcome, found, shown)
    a = decided.get("A") or _undecided(replies, "A")
    b = decided.get("AAAA") or _undecided(replies, "AAAA")
    if a[0] is DnsOutcome.ANSWER or b[0] is DnsOutcome.ANSWER:
        found = a[1] + b[1]
        if not found:
            return DnsOutcome.NO_ADDRESSES, (), a[2] or b[2], tuple(replies)
        return DnsOutcome.ANSWER, found, a[2] if a[1] else b[2], tuple(replies)
    # Both failed: NXDOMAIN is the name's own fact; otherwise the more telling failure counts.
    if DnsOutcome.NXDOMAIN in (a[0], b[0]):
        by = a[2] if a[0] is DnsOutcome.NXDOMAIN else b[2]
        return DnsOutcome.NXDOMAIN, (), by, tuple(replies)
    return max(a[0], b[0], key=_RANK.index), (), None, tuple(replies)


def _undecided(
    replies: Sequence[ServerReply], qtype: str
) -> tuple[DnsOutcome, tuple[str, ...], str | None]:
    """No server answered this question: a server that said SERVFAIL says more than one that
    timed out, and that more than one that could not be reached."""
    kinds = {r.outcome for r in replies if r.qtype == qtype}
    for telling in (DnsOutcome.SERVER_FAILED, DnsOutcome.TIMEOUT, DnsOutcome.UNREACHABLE):
        if telling in kinds:
            return telling, (), None
    return DnsOutcome.TIMEOUT, (), None


def _exchange(
    qname: dns.name.Name,
    qtypes: Sequence[str],
    address: str,
    port: int,
    timeout: float,
    cancel: threading.Event,
) -> dict[str, object]:
    """Both questions on one UDP socket at once, as glibc asks them: one round trip, and no
    thread per question. A reply cut short (TC) is asked again over TCP. Each question's
    value is the reply, or the exception that stands for its failure."""
    import select

    import dns.exception
    import dns.flags
    import dns.message
    import dns.query

    queries = {t: dns.message.make_query(qname, t) for t in qtypes}
    results: dict[str, object] = {}
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        return dict.fromkeys(qtypes, exc)
    with sock:
        sock.setblocking(False)
        try:
            # Connected, so that "nothing listens there" comes back as an error, not silence.
            sock.connect((address, port))
            for query in queries.values():
                sock.send(query.to_wire())
        except OSError as exc:
            return dict.fromkeys(qtypes, exc)
        by_id = {q.id: t for t, q in queries.items()}
        deadline = time.monotonic() + timeout
        while len(results) < len(queries) and not cancel.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, _, _ = select.select([sock], [], [], min(remaining, 0.1))
            if not readable:
                continue
            try:
                wire = sock.recv(65535)
            except BlockingIOError:
                continue
            except OSError as exc:
                for qtype in qtypes:
                    results.setdefault(qtype, exc)
                break
            try:
                reply = dns.message.from_wire(wire)
            except (dns.exception.DNSException, ValueError):
                continue  # not a reply to us: keep listening, as dnspython does
            qtype = by_id.get(reply.id, "")
            if not qtype or qtype in results or not queries[qtype].is_response(reply):
                continue
            if reply.flags & dns.flags.TC:
                try:
                    reply = dns.query.tcp(
                        queries[qtype], address, timeout=max(0.1, remaining), port=port
                    )
                except (OSError, EOFError, dns.exception.DNSException) as exc:
                    results[qtype] = exc
                    continue
            results[qtype] = reply
    for qtype in qtypes:
        results.setdefault(qtype, TimeoutError())
    return results


def _classify(
    shown: str, qtype: str, result: object, waited: float
) -> tuple[ServerReply, tuple[str, ...]]:
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.rdatatype

    if isinstance(result, TimeoutError | dns.exception.Timeout):  # before OSError: a subclass
        words = f"no answer from {shown} within {waited:.1f} s"
        return ServerReply(shown, qtype, DnsOutcome.TIMEOUT, words), ()
    if isinstance(result, OSError):
        unreachable = result.errno in _UNREACHABLE
        outcome = DnsOutcome.UNREACHABLE if unreachable else DnsOutcome.SERVER_FAILED
        words = "cannot be reached" if unreachable else "failed"
        detail = f"{shown} {words}: {result.strerror or result}"
        return ServerReply(shown, qtype, outcome, detail), ()
    if not isinstance(result, dns.message.Message):
        detail = f"{shown} sent a malformed reply ({type(result).__name__})"
        return ServerReply(shown, qtype, DnsOutcome.SERVER_FAILED, detail), ()
    rcode = result.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        detail = f"{shown} says the name does not exist (NXDOMAIN)"
        return ServerReply(shown, qtype, DnsOutcome.NXDOMAIN, detail), ()
    if rcode != dns.rcode.NOERROR:
        detail = f"{shown} answered {dns.rcode.to_text(rcode)}"
        return ServerReply(shown, qtype, DnsOutcome.SERVER_FAILED, detail), ()
    rdtype = dns.rdatatype.from_text(qtype)
    found = tuple(
        str(rdata.address) for rrset in result.answer if rrset.rdtype == rdtype for rdata in rrset
    )
    words = ", ".join(found) if found else "no address of this kind"
    return ServerReply(shown, qtype, DnsOutcome.ANSWER, words), found


def resolve(
    host: str,
    port: int,
    budget: Budget,
    *,
    dns_server: tuple[str, int] | None = None,
    os_resolver: Resolver | None = None,
) -> DnsObservation:
    """Resolve ``host``, never past the step deadline, in a helper thread so cancel holds.
    ``os_resolver`` stands in for getaddrinfo (tests); it is then the only resolver asked."""
    started = time.monotonic()
    deadline = budget.step_deadline()
    outcome: list[DnsObservation | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_resolve(host, port, deadline, budget, dns_server, os_resolver))
        except BaseException as exc:  # handed back to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=work, name=f"resolve {host}", daemon=True)
    worker.start()
    while worker.is_alive() and time.monotonic() < deadline + 0.2:
        if budget.cancelled:
            raise Cancelled
        worker.join(max(0.01, wait_slice(deadline + 0.2)))
    took = (time.monotonic() - started) * 1000
    if not outcome:
        shown = format_server(*dns_server) if dns_server else "the system resolver"
        return DnsObservation(
            shown,
            ResolverSource.OPTION if dns_server else ResolverSource.SYSTEM_FALLBACK,
            DnsOutcome.TIMEOUT,
            replies=(
                ServerReply(
                    shown, "A", DnsOutcome.TIMEOUT, f"no answer within {budget.step_timeout:g} s"
                ),
            ),
            duration_ms=took,
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return replace(result, duration_ms=took)


def _resolve(
    host: str,
    port: int,
    deadline: float,
    budget: Budget,
    dns_server: tuple[str, int] | None,
    os_resolver: Resolver | None,
) -> DnsObservation:
    if dns_server is not None:
        shown = format_server(*dns_server)
        kind, found, by, replies = ask_servers(host, (dns_server,), deadline, budget.cancel_event)
        ipv6, ipv4 = split_families(found)
        return DnsObservation(shown, ResolverSource.OPTION, kind, ipv6, ipv4, by, replies)
    if os_resolver is not None or _only_the_os_knows(host):
        return _ask_os(host, port, os_resolver, "", ())
    settings = system_settings()
    if not settings.servers:
        note = (
            f"the DNS settings could not be read ({settings.problem}); "
            "the system resolver was asked instead"
        )
        return _ask_os(
            host,
            port,
            None,
            note,
            (ServerReply("", "A", DnsOutcome.NO_RESOLVER, settings.problem),),
        )
    shown = ", ".join(format_server(a, p) for a, p in settings.servers)
    kind, found, by, replies = ask_servers(host, settings.servers, deadline, budget.cancel_event)
    if kind is not DnsOutcome.ANSWER and kind is not DnsOutcome.UNREACHABLE:
        # The hosts file, search domains, mDNS or a VPN's split DNS may still know the name:
        # apps ask the OS, so the OS has the last word on "found", never on "why not".
        fallback = _ask_os(host, port, None, "", replies)
        if fallback.outcome is DnsOutcome.ANSWER:
            return DnsObservation(
                fallback.resolver,
                ResolverSource.SYSTEM_FALLBACK,
                DnsOutcome.ANSWER,
                fallback.ipv6,
                fallback.ipv4,
                fallback.answered_by,
                replies + fallback.replies,
                f"the DNS servers ({shown}) do not know the name; the system resolver does",
            )
    ipv6, ipv4 = split_families(found)
    return DnsObservation(shown, ResolverSource.SYSTEM, kind, ipv6, ipv4, by, replies)


def _only_the_os_knows(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost") or "." not in name


def _ask_os(
    host: str, port: int, use: Resolver | None, note: str, earlier: tuple[ServerReply, ...]
) -> DnsObservation:
    shown = "the system resolver"
    call = use or system_resolver
    try:
        found = tuple(call(host, port))
    except ResolveError as exc:
        reply = ServerReply(shown, "A", DnsOutcome.SYSTEM_ERROR, str(exc))
        return DnsObservation(
            shown,
            ResolverSource.SYSTEM_FALLBACK,
            DnsOutcome.SYSTEM_ERROR,
            replies=(*earlier, reply),
            note=note,
        )
    if not found:
        reply = ServerReply(shown, "A", DnsOutcome.NO_ADDRESSES, "the name has no addresses")
        return DnsObservation(
            shown,
            ResolverSource.SYSTEM_FALLBACK,
            DnsOutcome.NO_ADDRESSES,
            replies=(*earlier, reply),
            note=note,
        )
    ipv6, ipv4 = split_families(found)
    reply = ServerReply(shown, "A", DnsOutcome.ANSWER, ", ".join(found))
    return DnsObservation(
        shown,
        ResolverSource.SYSTEM_FALLBACK,
        DnsOutcome.ANSWER,
        ipv6,
        ipv4,
        shown,
        (*earlier, reply),
        note,
    )


def network_reach() -> NetworkReach:
    """Is there any route towards the internet, per family? Asked of the routing table: a UDP
    connect() sends no packet."""
    reach = {}
    for family, probe in _REACH_PROBES.items():
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 53))
            reach[family] = True
        except OSError:
            reach[family] = False
    return NetworkReach(ipv4=reach[socket.AF_INET], ipv6=reach[socket.AF_INET6])
