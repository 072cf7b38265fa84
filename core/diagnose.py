"""One check, end to end: run the probes, fold what they saw into one immutable report.

The clock probe starts first and runs beside the handshake; the protocol enumeration runs last,
so the window can show the handshake and certificate stages while it is still going. Each stage
is reported through ``progress`` as it starts and ends. An unexpected exception inside one stage
becomes an internal-error note for that stage; the others still report.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.thread  # loaded on first use otherwise: inside the first check's time
import datetime as dt
import os
import re
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from cryptography import x509

from core.analyze.chain import (
    ChainAnalysis,
    aia_urls,
    analyze_chain,
    needs_issuer,
    validity_findings,
)
from core.analyze.clock import is_skewed, measure_clock
from core.budget import Budget, Cancelled, check_budget
from core.causes import CHAIN_ERRORS, Observations, decide, internal_error_finding
from core.cert_urls import display_url
from core.certs import CertificateFileError, name_text, signed_by, unreadable_field
from core.ciphers import iana_name_for_openssl
from core.models import (
    CheckOptions,
    CheckReport,
    ClientMismatch,
    ClientResult,
    ClockResult,
    ClockSource,
    Direction,
    Finding,
    FindingId,
    HandshakeObservation,
    HandshakeStepKind,
    NetworkFailure,
    ProxyEndpoint,
    ProxyFailure,
    ProxyObservation,
    ResolveResult,
    RevocationStatus,
    Severity,
    StageEvent,
    StageFact,
    StageId,
    StageOutcome,
    StageResult,
    StageStatus,
    StarttlsObservation,
    Target,
    TrustResult,
    stage_facts,
)
from core.observations import SntpSample
from core.probe import dns, net, tls
from core.proxy_settings import ProxyChoice, ProxySource
from core.request import RequestError, RequestProblem
from core.route import (
    AddressAttempt,
    DnsOutcome,
    Route,
    RouteKind,
    SniRetry,
    attempt_items,
    blocking_answers,
    dns_facts,
    dns_line,
)
from core.trust import TrustStores, build_stores
from core.wire.records import TlsVersion

if TYPE_CHECKING:
    from core.analyze.clients import ChainFacts, ClientVerdict
    from core.analyze.overlap import ClientProfile, Simulation
    from core.analyze.portal import (
        PortalResult,
    )  # the modules themselves are imported where a check needs them
    from core.probe.ocsp import RevocationStatus
    from core.probe.sntp import SntpSample

Progress = Callable[[StageEvent], None]
Clock = Callable[[], dt.datetime]
T = TypeVar("T")

#: Failures after which a second, permissive handshake may still fetch the certificate.
_RETRY_LEGACY = frozenset(
    {NetworkFailure.TLS_ALERT, NetworkFailure.TLS_ERROR, NetworkFailure.CONNECTION_RESET}
)


_CertificateOutcome: TypeAlias = "tuple[ChainAnalysis | None, str | None, RevocationStatus | None]"
_NO_CHAIN: _CertificateOutcome = (None, None, None)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Stages:
    progress: Progress | None
    results: dict[StageId, StageResult] = field(default_factory=dict)
    started: dict[StageId, float] = field(default_factory=dict)

    def start(self, stage: StageId, outcome: StageOutcome | None = None) -> None:
        self.started[stage] = time.monotonic()
        self._emit(StageEvent(stage, StageStatus.RUNNING, 0.0, outcome))

    def end(
        self, stage: StageId, status: StageStatus, outcome: StageOutcome, **facts: StageFact
    ) -> None:
        took = (time.monotonic() - self.started.get(stage, time.monotonic())) * 1000
        frozen = stage_facts(**facts)
        self.results[stage] = StageResult(stage, status, took, outcome, frozen)
        self._emit(StageEvent(stage, status, took, outcome, frozen))

    def amend(self, stage: StageId, outcome: StageOutcome, **facts: StageFact) -> None:
        """A better conclusion for a stage that has ended: the Connect step learns what the
        other addresses did only after the handshake has begun, the Certificates step which
        finding explains an invalid chain only once the causes are decided."""
        done = self.results.get(stage)
        if done is not None:
            self.results[stage] = replace(done, outcome=outcome, facts=stage_facts(**facts))

    def skip(self, stage: StageId, outcome: StageOutcome = StageOutcome.NOT_REACHED) -> None:
        self.results[stage] = StageResult(stage, StageStatus.SKIPPED, 0.0, outcome)
        self._emit(StageEvent(stage, StageStatus.SKIPPED, 0.0, outcome))

    def tick(self, stage: StageId, done: int, total: int) -> None:
        took = (time.monotonic() - self.started.get(stage, time.monotonic())) * 1000
        facts = stage_facts(done=done, total=total)
        outcome = StageOutcome.PROTOCOLS_PROBING
        self._emit(StageEvent(stage, StageStatus.RUNNING, took, outcome, facts, done, total))

    def _emit(self, event: StageEvent) -> None:
        if self.progress is not None:
            self.progress(event)

    def fail_unfinished(self) -> None:
        """Stages a crashed step started but never ended: failed, with an internal error."""
        for stage in list(self.started):
            if stage not in self.results:
                self.end(stage, StageStatus.FAILED, StageOutcome.INTERNAL_ERROR)

    def ordered(self) -> tuple[StageResult, ...]:
        return tuple(self.results[s] for s in StageId if s in self.results)


class CheckError(RequestError):
    """The check cannot start: the CA file is unusable (only when no ``stores`` are given:
    callers that build them with ``core.request.load_trust`` hear of it there)."""


def run_check(
    target: Target,
    options: CheckOptions,
    *,
    progress: Progress | None = None,
    budget: Budget | None = None,
    resolver: net.Resolver | None = None,
    now: Clock = utc_now,
    stores: TrustStores | None = None,
) -> CheckReport:
    """Raises Cancelled if the budget's cancel flag is set, CheckError for unusable options."""
    started_at = now()
    started = time.monotonic()
    budget = budget or check_budget(options.timeout)
    stages = _Stages(progress)
    errors: list[tuple[str, str]] = []
    if stores is None:
        try:
            stores = build_stores(options.ca_file, no_default_trust=options.no_default_trust)
        except CertificateFileError as exc:
            raise CheckError("ca_file", RequestProblem.CA_FILE_UNUSABLE, reason=str(exc)) from None

    choice = _proxy_choice(target, options, budget)
    proxy = choice.proxy
    # The clock, the portal probe and (through a proxy) the direct route run beside the
    # handshake, each with its own bound.
    with concurrent.futures.ThreadPoolExecutor(max_workers=3, thread_name_prefix="beside") as pool:
        sntp_future = _start_clock(pool, options, budget, stages)
        portal_future = (
            pool.submit(_portal_probe, options.portal_url, budget, proxy)
            if options.portal_url
            else None
        )
        direct_future = (
            pool.submit(_direct_try, target, options, budget, resolver)
            if proxy is not None
            else None
        )
        try:
            obs = (
                _guarded(
                    "handshake",
                    errors,
                    lambda: _connect_and_handshake(
                        target, options, budget, stages, resolver, choice
                    ),
                    None,
                )
                or _NetworkObs()
            )
            portal = _guarded(
                "portal", errors, lambda: portal_future.result() if portal_future else None, None
            )
            direct = _guarded(
                "direct", errors, lambda: direct_future.result() if direct_future else None, None
            )
            hs = obs.handshake
            date_from = hs if hs is not None and hs.http_date else obs.legacy
            ref_clock = _finish_clock(sntp_future, date_from, options, target, now, stages, errors)
            stages.fail_unfinished()
        except Cancelled:
            sntp_future.cancel()
            raise
    local_now = now()
    route = obs.route
    proxy_obs = route.proxy if route is not None else None
    chain, chain_unreadable, revocation = _guarded(
        "certificates",
        errors,
        lambda: _certificates(
            target,
            options,
            budget,
            stages,
            hs,
            obs.legacy,
            stores,
            ref_clock,
            local_now,
            errors,
            # Through a proxy the server's address is the proxy's to know; --connect names it.
            obs.connect_address or target.connect_address,
            proxy,
        ),
        _NO_CHAIN,
    )
    stages.fail_unfinished()
    overlap = _protocols(target, options, budget, stages, obs, errors)
    stages.fail_unfinished()
    no_verdicts: tuple[tuple[ClientVerdict, ...], ChainFacts | None] = ((), None)
    verdicts, facts = _guarded(
        "clients",
        errors,
        lambda: _client_verdicts(
            chain, ref_clock, local_now, revocation, overlap if _completed(obs) else None
        ),
        no_verdicts,
    )
    observations = Observations(
        target=target,
        local_now=local_now,
        resolve=obs.resolve,
        connect_failure=obs.connect_failure,
        connect_detail=obs.connect_detail,
        connect_address=obs.connect_address,
        handshake=hs,
        legacy=obs.legacy,
        chain=chain,
        chain_unreadable=chain_unreadable,
        clock=ref_clock,
        revocation=revocation,
        overlap_findings=overlap.findings if overlap else (),
        route=obs.route,
        attempts=obs.attempts,
        sni_retries=obs.sni_retries,
        credentials_given=options.client_credentials is not None,
        timeout_s=options.timeout,
        internal_errors=tuple(errors),
        proxy=proxy_obs,
        direct_failure=direct.failure if direct is not None else None,
        direct_issuer=direct.leaf_issuer if direct is not None else None,
        proxied_issuer=_leaf_issuer(hs) if proxy is not None else None,
        portal=portal,
        local_client=overlap.local if overlap else _local_client_for(hs, obs.legacy),
        clients=verdicts,
        chain_facts=facts,
        dh_bits=overlap.dh_bits if overlap else None,
        chosen_client=options.client,
        starttls=obs.starttls,
    )
    findings = _guarded("findings", errors, lambda: decide(observations), None)
    if findings is None:
        # The one place that words causes failed: say so as a finding of its own, so that the
        # verdict cannot read "works, nothing to fix" for a check we could not judge.
        findings = tuple(internal_error_finding(check, error) for check, error in errors)
    _blame_chain(stages, findings)
    if hs is not None and hs.cipher_openssl and not hs.cipher:
        hs = _with_iana(hs)
    return CheckReport(
        target=target,
        options=options,
        started_at=started_at,
        duration_ms=(time.monotonic() - started) * 1000,
        handshake=hs,
        certificates=chain.certificates if chain else (),
        trust=chain.trust if chain else TrustResult(None, None, None),
        protocols=overlap.protocols if overlap else _protocols_from_handshake(hs),
        ciphers=overlap.ciphers if overlap else {},
        groups=overlap.groups if overlap else ((hs.group,) if hs and hs.group else ()),
        server_preference=overlap.server_preference if overlap else None,
        clients=_client_results(verdicts)
        if overlap and overlap.clients and _completed(obs)
        else (),
        app_verdicts=_client_results(verdicts, overlap),
        clock=ref_clock,
        findings=findings,
        stages=stages.ordered(),
        internal_errors=tuple(f"{name}: {text}" for name, text in errors),
        revocation=revocation,
        route=obs.route,
        attempts=obs.attempts,
        sni_retries=obs.sni_retries,
        portal=portal,
        starttls=obs.starttls,
    )


def _completed(obs: _NetworkObs) -> bool:
    """A handshake of ours completed: only then do the prober's ServerHellos say what a
    client would get (a server may answer every hello and then hang up)."""
    return any(hs is not None and hs.ok for hs in (obs.handshake, obs.legacy))


def _client_verdicts(
    chain: ChainAnalysis | None,
    clock: ClockResult,
    local_now: dt.datetime,
    revocation: RevocationStatus | None,
    overlap: _Overlap | None,
) -> tuple[tuple[ClientVerdict, ...], ChainFacts | None]:
    """Every app's verdict (this computer's first), from the enumeration and the chain."""
    import ssl

    from core.analyze.clients import chain_facts, load_apps, local_app, verdicts_for
    from core.microsoft_store import microsoft_store
    from core.trust import chrome_roots

    facts = None
    if chain is not None:
        at = clock.reference_time or local_now
        problems = validity_findings(chain.path.certs, chain.path.anchor, at)
        if revocation is not None and revocation.revoked:
            problems.append(Finding(FindingId.CERT_REVOKED, Severity.CRITICAL))
        facts = chain_facts(chain, problems, chrome_roots(), microsoft_store())
    apps = (local_app(f"This computer ({ssl.OPENSSL_VERSION})"), *load_apps())
    sims = overlap.simulations if overlap is not None else {}
    dh_bits = overlap.dh_bits if overlap is not None else None
    return verdicts_for(apps, sims, facts, dh_bits), facts


def _client_results(
    verdicts: tuple[ClientVerdict, ...], overlap: _Overlap | None = None
) -> tuple[ClientResult, ...]:
    """The verdicts as the report holds them, with words for why each app fails."""
    if not verdicts:
        return ()
    sims = overlap.simulations if overlap is not None else {}
    from core.analyze.clients import find_app

    out = []
    for verdict in verdicts:
        app = find_app(verdict.id)
        hello = sims.get(app.hello if app is not None else verdict.id)
        out.append(
            ClientResult(
                name=verdict.name,
                connects=verdict.connects,
                protocol=verdict.protocol,
                cipher=verdict.cipher,
                # The hello's own mismatch and facts, for the catalogue's words beside the
                # finding-level reasons.
                mismatch=hello.mismatch if hello is not None else ClientMismatch.NONE,
                facts=hello.facts if hello is not None else MappingProxyType({}),
                id=verdict.id,
                trusted=verdict.trusted,
                reasons=verdict.reasons,
                current=verdict.current,
                browser=verdict.browser,
                unknown=verdict.unknown
                + (("hello",) if verdict.connects is None and overlap is not None else ()),
            )
        )
    return tuple(out)


#: The findings that can say why a chain is not valid, for the Certificates step's line: the
#: chain's own errors, and the causes that explain them.
_CHAIN_CAUSES = CHAIN_ERRORS | {
    FindingId.CHAIN_INVALID,
    FindingId.INTERCEPTION_SUSPECTED,
    FindingId.CLOCK_SKEW,
}


def _blame_chain(stages: _Stages, findings: tuple[Finding, ...]) -> None:
    """Once the causes are decided, the Certificates step names the cause, not the symptom: a
    clock two years behind, rather than "not yet valid"."""
    result = stages.results.get(StageId.CERTIFICATES)
    blame = next((f for f in findings if f.id in _CHAIN_CAUSES), None)
    if result is None or result.outcome is not StageOutcome.CHAIN_NOT_VALID or blame is None:
        return
    stages.amend(
        StageId.CERTIFICATES,
        StageOutcome.CHAIN_NOT_VALID,
        received=result.facts.get("received"),
        finding=blame.id.value,
    )


def _local_client_for(
    hs: HandshakeObservation | None, legacy: HandshakeObservation | None
) -> ClientProfile | None:
    """This computer's client, read from the TLS library only where a cause needs it without an
    enumeration: the default handshake failed and a permissive one got through."""
    if hs is None or hs.ok or legacy is None or not legacy.ok:
        return None
    from core.analyze.overlap import local_client_profile

    return local_client_profile()


def _with_iana(hs: HandshakeObservation) -> HandshakeObservation:
    return replace(hs, cipher=iana_name_for_openssl(hs.cipher_openssl or "") or hs.cipher_openssl)


def _guarded(name: str, errors: list[tuple[str, str]], work: Callable[[], T], fallback: T) -> T:
    """Run one analysis; a bug in it becomes an internal-error note, not a crash of the check."""
    try:
        return work()
    except Cancelled:
        raise
    except Exception as exc:
        errors.append((name, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"))
        return fallback


# --------------------------------------------------------------------------- clock


def _start_clock(
    pool: concurrent.futures.ThreadPoolExecutor,
    options: CheckOptions,
    budget: Budget,
    stages: _Stages,
) -> concurrent.futures.Future[SntpSample | None]:
    if options.no_network_time or not options.time_servers:
        stages.start(StageId.CLOCK, StageOutcome.CLOCK_WAITING_FOR_SERVER)
        done: concurrent.futures.Future[SntpSample | None] = concurrent.futures.Future()
        done.set_result(None)
        return done
    stages.start(StageId.CLOCK, StageOutcome.CLOCK_ASKING)
    from core.probe.sntp import best_sntp

    return pool.submit(
        best_sntp, list(options.time_servers), budget.child(min(options.timeout, 5.0))
    )


def _finish_clock(
    future: concurrent.futures.Future[SntpSample | None],
    hs: HandshakeObservation | None,
    options: CheckOptions,
    target: Target,
    now: Clock,
    stages: _Stages,
    errors: list[tuple[str, str]],
) -> ClockResult:
    try:
        sntp = future.result(timeout=min(options.timeout, 5.0) + 1)
    except Exception as exc:
        errors.append(("clock", f"{type(exc).__name__}: {exc}"))
        sntp = None
    http = hs.http_date if hs is not None else None

    def measure() -> ClockResult:
        return measure_clock(
            now(),
            sntp,
            http,
            sntp_tried=() if options.no_network_time else tuple(options.time_servers),
            network_time_disabled=options.no_network_time,
            http_source=target.host_ascii,
            http_date_asked=target.is_web,
        )

    result = _guarded("clock", errors, measure, ClockResult(ClockSource.NONE, None, None, None))
    if result.reference is ClockSource.NONE:
        stages.end(StageId.CLOCK, StageStatus.SKIPPED, StageOutcome.CLOCK_NO_REFERENCE)
    elif is_skewed(result):
        stages.end(
            StageId.CLOCK,
            StageStatus.FAILED,
            StageOutcome.CLOCK_WRONG,
            offset_s=result.offset_s or 0.0,
            reference=result.reference.value,
        )
    else:
        # Within a tenth of a second is as close as the step line tells.
        within = max(abs(result.offset_s or 0.0), result.uncertainty_s or 0.0, 0.1)
        stages.end(
            StageId.CLOCK,
            StageStatus.OK,
            StageOutcome.CLOCK_RIGHT,
            within_s=round(within, 1),
            reference=result.reference.value,
        )
    return result


# --------------------------------------------------------------------------- network


@dataclass
class _NetworkObs:
    resolve: ResolveResult | None = None
    connect_failure: NetworkFailure | None = None
    connect_detail: str = ""
    connect_address: str | None = None
    handshake: HandshakeObservation | None = None
    legacy: HandshakeObservation | None = None
    addresses: tuple[str, ...] = ()
    route: Route | None = None
    attempts: tuple[AddressAttempt, ...] = ()
    sni_retries: tuple[SniRetry, ...] = ()
    #: The proxy the check went through, credentials included: every later probe dials it too.
    proxy: ProxyEndpoint | None = None
    #: The exchange before TLS, for services that upgrade a plain connection.
    starttls: StarttlsObservation | None = None


#: An unrelated name for the comparison handshake: reserved by IANA, so no filter lists it.
CONTROL_SNI = "example.com"


def decide_route(
    target: Target, options: CheckOptions, budget: Budget, resolver: net.Resolver | None
) -> Route:
    """The path for this check, decided once: the addresses to dial, in Happy Eyeballs order,
    and which resolver gave them. ``--connect`` and an IP address skip resolution."""
    if target.connect_address:
        return Route(RouteKind.DIRECT, None, (target.connect_address,))
    if target.is_ip:
        return Route(RouteKind.DIRECT, None, (target.host_ascii,))
    answer = dns.resolve(
        target.host_ascii,
        target.dial_port,
        budget,
        dns_server=options.dns_server,
        os_resolver=resolver,
    )
    if answer.outcome is DnsOutcome.ANSWER:
        return Route(RouteKind.DIRECT, answer, answer.addresses)
    return Route(RouteKind.DIRECT, answer, (), reach=dns.network_reach())


def _connect_and_handshake(
    target: Target,
    options: CheckOptions,
    budget: Budget,
    stages: _Stages,
    resolver: net.Resolver | None,
    choice: ProxyChoice | None = None,
) -> _NetworkObs:
    if choice is not None and choice.proxy is not None:
        return _through_proxy(target, options, budget, stages, choice)
    if choice is not None and choice.pac_failure is not None:
        return _pac_failed(stages, choice)
    obs = _NetworkObs()
    stages.start(StageId.RESOLVE)
    route = decide_route(target, options, budget, resolver)
    obs.route = route
    answer = route.dns
    if answer is None:
        addresses = route.addresses
        not_needed = (
            StageOutcome.RESOLVE_NOT_NEEDED
            if target.connect_address
            else StageOutcome.RESOLVE_IP_LITERAL
        )
        stages.end(StageId.RESOLVE, StageStatus.OK, not_needed, address=addresses[0])
    else:
        obs.resolve = ResolveResult(answer.addresses, answer.duration_ms, answer.error)
        blocking = blocking_answers(answer, target.host_ascii)
        if answer.error or blocking:
            failed = StageOutcome.RESOLVE_BLOCKED if blocking else StageOutcome.RESOLVE_FAILED
            stages.end(StageId.RESOLVE, StageStatus.FAILED, failed, **dns_facts(answer))
            for stage in (StageId.CONNECT, StageId.HANDSHAKE):
                stages.skip(stage)
            # Dialling 0.0.0.0 would reach this very computer: the answer is the finding.
            obs.attempts = tuple(AddressAttempt(a, None) for a in blocking)
            return obs
        addresses = route.addresses
        stages.end(StageId.RESOLVE, StageStatus.OK, StageOutcome.RESOLVED, **dns_facts(answer))
    obs.addresses = addresses
    budget.check()
    stages.start(StageId.CONNECT)
    race = net.Race(
        addresses,
        target.dial_port,
        budget,
        delay=None if options.gentle else net.HAPPY_EYEBALLS_DELAY_S,
    )
    outcome = race.run()
    obs.connect_address = outcome.address
    if outcome.sock is None:
        obs.attempts = _attempts(race.finish())
        obs.connect_failure = outcome.failure
        obs.connect_detail = outcome.detail
        if all(
            a.failure is NetworkFailure.UNREACHABLE for a in obs.attempts if a.connects is False
        ):
            obs.route = replace(route, reach=dns.network_reach())
        stages.end(
            StageId.CONNECT,
            StageStatus.FAILED,
            StageOutcome.CONNECT_FAILED,
            attempts=attempt_items(obs.attempts),
        )
        stages.skip(StageId.HANDSHAKE)
        return obs
    stages.end(
        StageId.CONNECT,
        StageStatus.OK,
        StageOutcome.CONNECTED,
        address=outcome.address,
        port=target.dial_port,
    )
    try:
        obs.starttls = _starttls_stage(outcome.sock, target, budget, stages)
        if obs.starttls is not None and not obs.starttls.ok:
            obs.attempts = _attempts(race.finish())
            return obs
        hs = _handshake_stage(outcome.sock, target, options, budget, stages)
    except BaseException:
        race.abandon()  # a cancel: the attempts still under way close what they connect
        raise
    obs.handshake = hs
    dial = _service_dial(target, None)
    if _cut_after_hello(hs) and target.sni is not None:
        obs.sni_retries = _sni_retries(
            target, budget, outcome.address, outcome.duration_ms, hs, dial=dial or net.connect_one
        )
    if not hs.ok and hs.failure in _RETRY_LEGACY and not hs.certificate_requested:
        obs.legacy = _legacy_handshake(target, budget, outcome.address, dial=dial)
    obs.attempts = _attempts(race.finish())
    if len(obs.attempts) > 1:
        stages.amend(
            StageId.CONNECT,
            StageOutcome.CONNECTED_AFTER_TRIES,
            attempts=attempt_items(obs.attempts),
        )
    return obs


def _proxy_choice(target: Target, options: CheckOptions, budget: Budget) -> ProxyChoice:
    """The proxy the user's apps would take to this site; a setting that is there and cannot
    be used is the user's to fix (a usage error), never a silent direct check."""
    from core.proxy_settings import DIRECT, ProxySource, ProxyUrlError, choose_proxy, system_readers

    if options.proxy is not None:
        return ProxyChoice(options.proxy, ProxySource.OPTION, "--proxy")
    if options.no_proxy:
        return ProxyChoice(None, ProxySource.OPTION, "--no-proxy")
    if not options.system_proxy:
        return DIRECT
    host, port = target.host_ascii, target.dial_port
    env = dict(os.environ)
    try:
        choice = choose_proxy(host, port, env=env, system=system_readers(host, port, env))
    except ProxyUrlError as exc:
        raise CheckError(
            "proxy",
            RequestProblem.PROXY_SETTING,
            setting=exc.setting or "the proxy setting",
            reason=exc.message,
        ) from None
    if choice.source is ProxySource.PAC and choice.pac_url and choice.proxy is None:
        return _pac_choice(choice, target, budget)
    return choice


def _pac_choice(choice: ProxyChoice, target: Target, budget: Budget) -> ProxyChoice:
    """The PAC file's proxy for this site: read (bounded like every fetch), then evaluated in
    a child process killed at the step's timeout (core.pac)."""
    from core.pac import MAX_PAC_BYTES, PacError, evaluate

    url = choice.pac_url or ""
    timeout = min(budget.step_timeout, 5.0)
    text: str | None = None
    if url.startswith("file://"):
        try:
            with open(url.removeprefix("file://"), "rb") as handle:
                text = handle.read(MAX_PAC_BYTES + 1).decode("utf-8", errors="replace")
        except OSError as exc:
            why = f"the PAC file {url} cannot be read ({exc.strerror or exc})"
            return replace(choice, pac_failure=why)
    else:
        from core.probe.fetch import http_probe

        answer = http_probe(url, budget.child(timeout))
        if answer.status != 200:
            why = answer.failure or f"the server answered HTTP {answer.status}"
            return replace(choice, pac_failure=f"the PAC file {url} gave nothing: {why}")
        text = answer.body.decode("utf-8", errors="replace")
    site_url = f"https://{target.host_ascii}:{target.dial_port}/"
    try:
        found = evaluate(text, site_url, target.host_ascii, timeout)
    except PacError as exc:
        return replace(choice, pac_failure=f"{url}: {exc}")
    setting = f"{choice.setting}, which answered {found.raw[:80]!r}"
    return replace(choice, proxy=found.proxy, setting=setting)


def _through_proxy(
    target: Target,
    options: CheckOptions,
    budget: Budget,
    stages: _Stages,
    choice: ProxyChoice,
) -> _NetworkObs:
    """The path through the proxy: the proxy resolves the name and opens the connection; the
    handshake then runs inside the tunnel exactly as it would straight to the server."""
    from core.probe.tunnel import open_tunnel, proxy_dialer

    proxy = choice.proxy
    assert proxy is not None
    obs = _NetworkObs(proxy=proxy)
    where = stage_facts(proxy=proxy.display, setting=choice.setting)
    stages.start(StageId.RESOLVE)
    stages.end(StageId.RESOLVE, StageStatus.OK, StageOutcome.RESOLVE_LEFT_TO_PROXY, **where)
    stages.start(StageId.PROXY)
    outcome = open_tunnel(proxy, target.dial_host, target.dial_port, budget)
    observed = ProxyObservation(
        proxy.display,
        (choice.source or ProxySource.OPTION).value,
        choice.setting or "",
        outcome.failure,
        outcome.detail,
        outcome.status,
        outcome.auth_schemes,
        outcome.proxy_words,
    )
    obs.route = Route(RouteKind.PROXY, None, (), proxy=observed)
    if outcome.sock is None:
        stages.end(
            StageId.PROXY,
            StageStatus.FAILED,
            StageOutcome.PROXY_FAILED,
            detail=outcome.detail,
            **where,
        )
        for stage in (StageId.CONNECT, StageId.HANDSHAKE):
            stages.skip(stage)
        return obs
    stages.end(StageId.PROXY, StageStatus.OK, StageOutcome.PROXY_CONNECTED, **where)
    stages.start(StageId.CONNECT)
    stages.end(
        StageId.CONNECT,
        StageStatus.OK,
        StageOutcome.CONNECTED_THROUGH_PROXY,
        host=target.dial_host,
        port=target.dial_port,
        proxy=proxy.display,
    )
    obs.starttls = _starttls_stage(outcome.sock, target, budget, stages)
    if obs.starttls is not None and not obs.starttls.ok:
        return obs
    hs = _handshake_stage(outcome.sock, target, options, budget, stages)
    # The socket's peer is the proxy; the server's own address is known only to the proxy.
    obs.handshake = hs = replace(hs, address=None)
    dial = _service_dial(target, proxy_dialer(proxy))
    assert dial is not None
    if _cut_after_hello(hs) and target.sni is not None:
        obs.sni_retries = _sni_retries(
            target, budget, target.dial_host, outcome.duration_ms, hs, dial=dial
        )
    if not hs.ok and hs.failure in _RETRY_LEGACY and not hs.certificate_requested:
        obs.legacy = _legacy_handshake(target, budget, target.dial_host, dial=dial)
    return obs


@dataclass(frozen=True)
class _DirectTry:
    """The direct route beside the proxy: why it failed (None: it works too), and the issuer of
    the certificate it was given, to compare with the proxied one."""

    failure: str | None
    leaf_issuer: str | None = None


def _pac_failed(stages: _Stages, choice: ProxyChoice) -> _NetworkObs:
    """The settings point to a PAC file that gave no answer: the apps that follow them are
    stuck exactly as with a proxy that does not answer, so that is the finding."""
    observed = ProxyObservation(
        choice.pac_url or "the PAC file",
        ProxySource.PAC.value,
        choice.setting or "",
        ProxyFailure.PROXY_UNREACHABLE,
        choice.pac_failure or "",
    )
    obs = _NetworkObs(route=Route(RouteKind.PROXY, None, (), proxy=observed))
    stages.start(StageId.RESOLVE)
    stages.skip(StageId.RESOLVE, StageOutcome.RESOLVE_LEFT_TO_PAC)
    stages.start(StageId.PROXY)
    stages.end(
        StageId.PROXY, StageStatus.FAILED, StageOutcome.PAC_FAILED, detail=choice.pac_failure
    )
    for stage in (StageId.CONNECT, StageId.HANDSHAKE):
        stages.skip(stage)
    return obs


def _direct_try(
    target: Target, options: CheckOptions, budget: Budget, resolver: net.Resolver | None
) -> _DirectTry:
    """Tried once beside the proxy, bounded by one step timeout: it tells whether apps that
    ignore the proxy setting can reach the site from here, and what certificate they get."""
    step = budget.child()
    route = decide_route(target, options, step, resolver)
    if not route.addresses:
        dns_answer = route.dns
        why = dns_line(dns_answer) if dns_answer is not None else "the name does not resolve"
        return _DirectTry(why)
    race = net.Race(route.addresses, target.dial_port, step, delay=net.HAPPY_EYEBALLS_DELAY_S)
    outcome = race.run()
    race.finish()
    if outcome.sock is None:
        return _DirectTry(f"{outcome.address}: {outcome.detail}")
    if target.starttls is not None:
        from core.probe.starttls import upgrade

        try:
            seen = upgrade(outcome.sock, target.starttls, target.host_ascii, step)
        except BaseException:  # a cancel: never leave the socket open
            outcome.sock.close()
            raise
        if not seen.ok:
            outcome.sock.close()
            return _DirectTry(f"{outcome.address}: STARTTLS {seen.failure}: {seen.detail}")
    hs = tls.handshake(outcome.sock, target.sni, step, fetch_http_date=False)
    issuer = _leaf_issuer(hs)
    if hs.ok or any(s.direction is Direction.SERVER for s in hs.steps):
        return _DirectTry(None, issuer)
    return _DirectTry(f"{outcome.address}: {hs.failure_detail or hs.failure}", issuer)


def _leaf_issuer(hs: HandshakeObservation | None) -> str | None:
    if hs is None or not hs.chain_der:
        return None
    try:
        return name_text(x509.load_der_x509_certificate(hs.chain_der[0]).issuer)
    except ValueError:
        return None


def _portal_probe(url: str, budget: Budget, proxy: ProxyEndpoint | None) -> PortalResult:
    from core.analyze.portal import expectation_for, judge_portal
    from core.probe.fetch import http_probe

    answer = http_probe(url, budget.child(min(budget.step_timeout, 5.0)), proxy=proxy)
    return judge_portal(answer, expectation_for(url))


def _handshake_stage(
    sock: socket.socket, target: Target, options: CheckOptions, budget: Budget, stages: _Stages
) -> HandshakeObservation:
    """The check's own handshake on a connected socket, straight or through the proxy's tunnel:
    the same handshake either way, which is the point of taking the user's path."""
    stages.start(StageId.HANDSHAKE)
    hs = tls.handshake(
        sock,
        target.sni,
        budget,
        credentials=options.client_credentials,
        host_header=target.host_ascii,
        # HEAD / is HTTP: a mail or database server would wait on it, or take it for a command.
        fetch_http_date=target.is_web,
    )
    if hs.ok:
        hs = _with_iana(hs)
    status, outcome, facts = _handshake_outcome(hs, options)
    stages.end(StageId.HANDSHAKE, status, outcome, **facts)
    return hs


def _handshake_outcome(
    hs: HandshakeObservation, options: CheckOptions
) -> tuple[StageStatus, StageOutcome, Mapping[str, StageFact]]:
    """How the handshake ended: the version and suite, or why it failed (the server's alert,
    a silence, a close, a server that speaks something else; else the TLS library's detail)."""
    done, failed = StageStatus.OK, StageStatus.FAILED
    if hs.ok:
        return (
            done,
            StageOutcome.HANDSHAKE_DONE,
            stage_facts(protocol=hs.protocol.label if hs.protocol else None, cipher=hs.cipher),
        )
    if hs.alert:
        return failed, StageOutcome.HANDSHAKE_ALERT, stage_facts(alert=hs.alert)
    if hs.failure is NetworkFailure.HANDSHAKE_TIMEOUT:
        return failed, StageOutcome.HANDSHAKE_TIMEOUT, stage_facts(timeout_s=options.timeout)
    if hs.failure is NetworkFailure.CONNECTION_RESET:
        return failed, StageOutcome.HANDSHAKE_CLOSED, stage_facts()
    if hs.failure is NetworkFailure.NOT_TLS:
        return failed, StageOutcome.HANDSHAKE_NOT_TLS, stage_facts()
    detail = hs.failure_detail or (hs.failure.value if hs.failure else None)
    return failed, StageOutcome.HANDSHAKE_FAILED, stage_facts(detail=detail)


def _starttls_stage(
    sock: socket.socket, target: Target, budget: Budget, stages: _Stages
) -> StarttlsObservation | None:
    """The exchange that asks a service for TLS, a stage of its own; None for TLS at once. On
    failure the socket is closed and the handshake is not reached."""
    if target.starttls is None:
        return None
    from core.probe.starttls import upgrade

    stages.start(StageId.STARTTLS)
    try:
        seen = upgrade(sock, target.starttls, target.host_ascii, budget)
    except BaseException:
        sock.close()
        raise
    status, outcome, facts = _starttls_outcome(seen)
    stages.end(StageId.STARTTLS, status, outcome, **facts)
    if seen.ok:
        return seen
    sock.close()
    stages.skip(StageId.HANDSHAKE)
    return seen


def _starttls_outcome(
    seen: StarttlsObservation,
) -> tuple[StageStatus, StageOutcome, Mapping[str, StageFact]]:
    """The STARTTLS step as an outcome with its facts (the catalogue's stages section words it):
    accepted, or how the exchange broke off, in the probe's few words."""
    from core.target import PROTOCOL_NAMES

    protocol = PROTOCOL_NAMES[seen.protocol]
    if seen.ok:
        return StageStatus.OK, StageOutcome.STARTTLS_ACCEPTED, stage_facts(protocol=protocol)
    detail = seen.detail or (seen.failure.value if seen.failure else None)
    return (
        StageStatus.FAILED,
        StageOutcome.STARTTLS_FAILED,
        stage_facts(protocol=protocol, detail=detail),
    )


def _service_dial(target: Target, dial: net.Dialer | None) -> net.Dialer | None:
    """The dialer every further connection of the check uses: for a STARTTLS service, each one
    (prober, retries, the permissive handshake) does its own exchange before its ClientHello."""
    if target.starttls is None:
        return dial
    from core.probe.starttls import starttls_dialer

    return starttls_dialer(target.starttls, target.host_ascii, dial or net.connect_one)


def _attempts(
    outcomes: tuple[tuple[str, net.ConnectOutcome | None], ...],
) -> tuple[AddressAttempt, ...]:
    out = []
    for address, result in outcomes:
        if result is None:
            out.append(AddressAttempt(address, None))
        elif result.failure is None:
            out.append(AddressAttempt(address, True))
        else:
            out.append(AddressAttempt(address, False, result.detail, result.failure))
    return tuple(out)


def _cut_after_hello(hs: HandshakeObservation) -> bool:
    """Reset, closed or silent right after the ClientHello: the server said nothing at all."""
    if hs.ok or hs.failure not in (
        NetworkFailure.CONNECTION_RESET,
        NetworkFailure.HANDSHAKE_TIMEOUT,
    ):
        return False
    return not any(step.direction is Direction.SERVER for step in hs.steps)


def _sni_retries(
    target: Target,
    budget: Budget,
    address: str,
    connect_ms: float,
    hs: HandshakeObservation,
    *,
    dial: net.Dialer = net.connect_one,
) -> tuple[SniRetry, ...]:
    """Once without SNI and once with an unrelated name, side by side, one connection each: if
    the same server answers those, something on the way cuts connections naming this host.

    After a silent handshake the retries wait less than a full timeout: a server that answers
    at all sends its ServerHello within a few round trips, and the connect measured one."""
    names: list[str | None] = [None]
    if (target.sni or "").lower() != CONTROL_SNI:
        names.append(CONTROL_SNI)
    wait = budget.step_timeout
    if hs.failure is NetworkFailure.HANDSHAKE_TIMEOUT:
        wait = min(wait / 2, max(0.5, connect_ms / 1000 * 20))
    step = budget.child(wait)

    def attempt(name: str | None) -> SniRetry:
        connected = dial(address, target.dial_port, step)
        if connected.sock is None:
            return SniRetry(name, False, connected.detail)
        hs = tls.handshake(connected.sock, name, step, fetch_http_date=False)
        heard = hs.ok or any(
            s.step in (HandshakeStepKind.SERVER_HELLO, HandshakeStepKind.HELLO_RETRY_REQUEST)
            for s in hs.steps
        )
        return SniRetry(name, heard, "" if heard else hs.failure_detail or str(hs.failure))

    with concurrent.futures.ThreadPoolExecutor(len(names), thread_name_prefix="sni") as pool:
        return tuple(pool.map(attempt, names))


def _legacy_handshake(
    target: Target, budget: Budget, address: str, *, dial: net.Dialer | None = None
) -> HandshakeObservation | None:
    """A second handshake with every old version and suite allowed, only to see the server's
    certificate (and which version it speaks) when the default client cannot connect."""
    if budget.remaining() <= 0.2:
        return None
    if dial is not None:
        outcome = dial(address, target.dial_port, budget)
    else:
        outcome = net.connect([address], target.dial_port, budget)
    if outcome.sock is None:
        return None
    hs = tls.handshake(
        outcome.sock,
        target.sni,
        budget,
        legacy=True,
        host_header=target.host_ascii,
        fetch_http_date=target.is_web,
    )
    return _with_iana(hs) if hs.ok else hs


# --------------------------------------------------------------------------- certificates


def _certificates(
    target: Target,
    options: CheckOptions,
    budget: Budget,
    stages: _Stages,
    hs: HandshakeObservation | None,
    legacy: HandshakeObservation | None,
    stores: TrustStores,
    clock: ClockResult,
    local_now: dt.datetime,
    errors: list[tuple[str, str]],
    site_address: str | None,
    proxy: ProxyEndpoint | None = None,
) -> tuple[ChainAnalysis | None, str | None, RevocationStatus | None]:
    source = hs if hs is not None and hs.chain_der else legacy
    if source is None or not source.chain_der:
        stages.skip(StageId.CERTIFICATES, StageOutcome.NO_CERTIFICATE)
        return None, None, None
    stages.start(StageId.CERTIFICATES)
    sent, unreadable = _read_chain(source.chain_der)
    if unreadable:
        stages.end(StageId.CERTIFICATES, StageStatus.FAILED, StageOutcome.CERTIFICATE_UNREADABLE)
        return None, unreadable, None
    verify_at = clock.reference_time or local_now
    host = target.host_ascii

    def analyse(fetched: list[x509.Certificate], status: str) -> ChainAnalysis:
        return analyze_chain(sent, host, stores, verify_at, fetched=fetched, aia_status=status)

    chain = _guarded("certificates", errors, lambda: analyse([], "not tried"), None)
    if chain is None:
        stages.end(StageId.CERTIFICATES, StageStatus.FAILED, StageOutcome.INTERNAL_ERROR)
        return None, None, None
    if needs_issuer(chain) and options.fetch_aia:
        urls = aia_urls(sent[0])
        if urls:
            from core.probe.fetch import fetch_issuers

            # Whatever the fetch meets, the chain is still judged: a failure is evidence.
            fetched, status = _guarded(
                "aia-fetch",
                errors,
                lambda: fetch_issuers(
                    urls[0], budget.child(), site_address=site_address, proxy=proxy
                ),
                (list[x509.Certificate](), "fetch failed: an internal error"),
            )
            chain = _guarded("certificates", errors, lambda: analyse(fetched, status), chain)
        else:
            chain = _guarded(
                "certificates",
                errors,
                lambda: analyse([], "no AIA address in the certificate"),
                chain,
            )
    revocation = None
    if options.check_revocation and len(chain.path.certs) > 1:
        ocsp_urls = aia_urls(sent[0], ocsp=True)
        issuer = chain.path.certs[1]
        if ocsp_urls and signed_by(sent[0], issuer):
            from core.probe.ocsp import check_revocation

            revocation = _guarded(
                "revocation",
                errors,
                lambda: check_revocation(
                    sent[0],
                    issuer,
                    ocsp_urls[0],
                    budget.child(),
                    site_address=site_address,
                    proxy=proxy,
                ),
                RevocationStatus(False, False, display_url(ocsp_urls[0]), "an internal error"),
            )
    if stores.os is not None and sys.platform in ("win32", "darwin"):
        chain = _with_os_verdict(chain, source.chain_der, host, options.timeout, errors)
    if chain.valid:
        stages.end(
            StageId.CERTIFICATES, StageStatus.OK, StageOutcome.CHAIN_VALID, received=len(sent)
        )
    else:
        stages.end(
            StageId.CERTIFICATES,
            StageStatus.FAILED,
            StageOutcome.CHAIN_NOT_VALID,
            received=len(sent),
            finding=_chain_problem(chain, verify_at),
        )
    return chain, None, revocation


def _with_os_verdict(
    chain: ChainAnalysis,
    chain_der: tuple[bytes, ...],
    host: str,
    timeout: float,
    errors: list[tuple[str, str]],
) -> ChainAnalysis:
    """The chain with the OS verifier's own verdict beside the stores' (core/os_verifier.py)."""
    from core.os_verifier import ask_os

    verdict = _guarded(
        "os-verifier", errors, lambda: ask_os(chain_der, host, timeout=timeout), None
    )
    if verdict is None:
        return chain
    return replace(chain, trust=replace(chain.trust, os_verifier=verdict))


def _read_chain(chain_der: tuple[bytes, ...]) -> tuple[list[x509.Certificate], str | None]:
    """The chain as certificates, or why one of them cannot be read (which one, and what is
    wrong with its encoding, in a sentence for the evidence)."""
    sent: list[x509.Certificate] = []
    for index, der in enumerate(chain_der):
        problem: str | None = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a non-positive serial warns, and still loads
                cert = x509.load_der_x509_certificate(der)
        except x509.InvalidVersion:
            problem = " (its version)"
        except ValueError as exc:
            problem = _parse_problem(exc)
        else:
            field = unreadable_field(cert)  # fields cryptography parses only when asked
            problem = f" ({field})" if field else None
        if problem is not None:
            which = "its own certificate" if index == 0 else "an intermediate"
            return sent, (
                f"certificate {index + 1} of {len(chain_der)} that the server sent ({which}) "
                f"breaks the encoding rules for certificates and cannot be read"
                f"{problem}; lenient clients may accept it, strict ones refuse it"
            )
        sent.append(cert)
    return sent, None


def _parse_problem(exc: Exception) -> str:
    """cryptography's ParseError, shortened to its kind and the field it failed in."""
    text = str(exc)
    kind = re.search(r"kind: (\w+)", text)
    fields = re.findall(r'"([\w:]+)"', text)
    if kind is None:
        return ""
    return f" ({kind.group(1)}" + (f" in {fields[-1]})" if fields else ")")


def _chain_problem(chain: ChainAnalysis, at: dt.datetime) -> str | None:
    """The finding that names what is wrong with the chain, for the stage's line; the
    verifier's own message stays in the evidence of chain-invalid, where no structured check
    explains the failure."""
    problems = validity_findings(chain.path.certs, chain.path.anchor, at) + list(chain.findings)
    serious = [f for f in problems if f.severity.rank >= Severity.ERROR.rank]
    return serious[0].id.value if serious else None


# --------------------------------------------------------------------------- protocols


@dataclass(frozen=True)
class _Overlap:
    protocols: dict[TlsVersion, bool | None]
    ciphers: dict[TlsVersion, tuple[str, ...]]
    groups: tuple[str, ...]
    server_preference: bool | None
    clients: tuple[ClientResult, ...]
    findings: tuple[Finding, ...]
    #: The prober's first note (a timeout, a reset...), for a stage summary.
    note: str = ""
    #: This computer's client, as the overlap measured it.
    local: ClientProfile | None = None
    #: Each recorded hello against the enumeration, by its id ("local": this computer's).
    simulations: Mapping[str, Simulation] = field(default_factory=dict)
    #: The size of the server's Diffie-Hellman group, where it offers DHE (None: not seen).
    dh_bits: int | None = None


def _protocols(
    target: Target,
    options: CheckOptions,
    budget: Budget,
    stages: _Stages,
    obs: _NetworkObs,
    errors: list[tuple[str, str]],
) -> _Overlap | None:
    if options.quick:
        stages.skip(StageId.PROTOCOLS, StageOutcome.PROTOCOLS_QUICK)
        return None
    if obs.handshake is None or obs.handshake.failure in (
        NetworkFailure.NOT_TLS,
        NetworkFailure.HANDSHAKE_TIMEOUT,
    ):
        stages.skip(StageId.PROTOCOLS)
        return None
    from core.analyze.overlap import analyze_overlap, load_client_profiles, local_client_profile
    from core.probe.hello import enumerate_server, measure_dh_bits

    stages.start(StageId.PROTOCOLS, StageOutcome.PROTOCOLS_PROBING)
    address = obs.connect_address or target.dial_host
    dial: net.Dialer | None = None
    if obs.proxy is not None:
        from core.probe.tunnel import proxy_dialer

        dial = proxy_dialer(obs.proxy)
    dial = _service_dial(target, dial)

    def work() -> _Overlap:
        scan_budget = Budget(
            options.timeout,
            total=max(1.0, budget.remaining()),
            cancel_event=budget.cancel_event,
        )
        scan = enumerate_server(
            address,
            target.dial_port,
            target.sni,
            scan_budget,
            max_connections=1 if options.gentle else 8,
            gentle=options.gentle,
            progress=lambda done, total: stages.tick(StageId.PROTOCOLS, done, total),
            dial=dial,
        )
        dh_bits = (
            measure_dh_bits(address, target.dial_port, target.sni, scan_budget, scan, dial=dial)
            if scan_budget.remaining() > 0.2
            else None
        )
        profiles = load_client_profiles()
        local = local_client_profile()
        result = analyze_overlap(scan, local, profiles)
        sims = {p.id: s for p, s in zip(profiles, result.simulations, strict=True)}
        if result.local is not None:
            sims["local"] = result.local
        return _Overlap(
            simulations=sims,
            dh_bits=dh_bits,
            protocols=dict(result.protocols),
            ciphers={k: tuple(v) for k, v in result.ciphers.items()},
            groups=tuple(result.groups),
            server_preference=result.server_preference,
            clients=tuple(result.clients),
            findings=tuple(result.findings),
            note=scan.errors[0] if scan.errors else "",
            local=local,
        )

    overlap = _guarded("protocols", errors, work, None)
    if overlap is None:
        stages.end(StageId.PROTOCOLS, StageStatus.FAILED, StageOutcome.INTERNAL_ERROR)
        return None
    accepted = tuple(version.label for version, ok in overlap.protocols.items() if ok)
    if accepted:
        stages.end(
            StageId.PROTOCOLS, StageStatus.OK, StageOutcome.PROTOCOLS_ACCEPTED, versions=accepted
        )
    elif all(ok is None for ok in overlap.protocols.values()):
        # Nothing answered: that is "not tested", not "refused".
        stages.end(
            StageId.PROTOCOLS,
            StageStatus.FAILED,
            StageOutcome.PROTOCOLS_UNTESTED,
            note=overlap.note or None,
        )
    else:
        stages.end(StageId.PROTOCOLS, StageStatus.FAILED, StageOutcome.PROTOCOLS_NONE_ACCEPTED)
    return overlap


def _protocols_from_handshake(hs: HandshakeObservation | None) -> dict[TlsVersion, bool | None]:
    versions: dict[TlsVersion, bool | None] = dict.fromkeys(TlsVersion)
    if hs is not None and hs.ok and hs.protocol:
        versions[hs.protocol] = True
    return versions
