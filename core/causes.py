"""The one place that turns symptoms into causes.

A wrong clock explains validity failures; a self-signed leaf explains "untrusted"; a server that
speaks only TLS 1.0 explains its protocol_version alert; a CertificateRequest explains the alert
that follows a missing client certificate. Symptoms become evidence of their cause, never extra
findings. Pure functions: everything they need arrives as observations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from core.analyze.chain import ChainAnalysis, validity_findings
from core.analyze.clients import (
    MIN_SCTS_LONG,
    MIN_SCTS_SHORT,
    SHORT_LEAF_DAYS,
    ChainFacts,
    ClientVerdict,
)
from core.analyze.clock import clock_findings, is_skewed
from core.analyze.portal import PortalResult, PortalVerdict
from core.models import (
    CheckReport,
    ClockResult,
    Direction,
    EvidenceValue,
    Finding,
    FindingId,
    FixId,
    HandshakeObservation,
    NetworkFailure,
    ProxyFailure,
    ProxyObservation,
    RevocationStatus,
    Severity,
    StarttlsFailure,
    Target,
    evidence,
)
from core.observations import CLIENT_CERT_ALERTS, NetworkObservation
from core.route import (
    DnsObservation,
    DnsOutcome,
    blocking_answers,
)

if TYPE_CHECKING:  # the overlap analysis is imported where a cause needs it
    from core.analyze.overlap import ClientProfile

#: The findings that say what is wrong with a chain itself.
CHAIN_ERRORS = frozenset(
    {
        FindingId.CERT_EXPIRED,
        FindingId.CERT_NOT_YET_VALID,
        FindingId.HOSTNAME_MISMATCH,
        FindingId.SELF_SIGNED,
        FindingId.UNTRUSTED_ROOT,
        FindingId.INCOMPLETE_CHAIN,
        FindingId.WEAK_SIGNATURE,
        FindingId.WEAK_KEY,
        FindingId.CERT_REVOKED,
        FindingId.WRONG_PURPOSE,
    }
)


@dataclass(frozen=True)
class Observations:
    target: Target
    local_now: dt.datetime
    #: The name, the connection and the handshakes.
    network: NetworkObservation = field(default_factory=NetworkObservation)
    chain: ChainAnalysis | None = None
    chain_unreadable: str | None = None
    clock: ClockResult | None = None
    revocation: RevocationStatus | None = None
    overlap_findings: tuple[Finding, ...] = ()
    credentials_given: bool = False
    timeout_s: float = 10.0
    internal_errors: tuple[tuple[str, str], ...] = ()
    #: Why the direct route failed where the proxy worked (None: not tried, or it worked too).
    direct_failure: str | None = None
    #: The issuer of the leaf each route was given: they differ where the proxy inspects TLS.
    direct_issuer: str | None = None
    proxied_issuer: str | None = None
    portal: PortalResult | None = None
    #: This computer's client (run_check builds it once, from the local TLS library, where a
    #: cause needs it): what a failed handshake's alert is measured against.
    local_client: ClientProfile | None = None
    #: Every app's verdict (this computer's first), and the chain facts they were judged on.
    clients: tuple[ClientVerdict, ...] = ()
    chain_facts: ChainFacts | None = None
    #: The server's Diffie-Hellman group size, where it offers DHE.
    dh_bits: int | None = None
    #: ``--client``: the app that showed the error; None: "I don't know".
    chosen_client: str | None = None

    @property
    def proxy(self) -> ProxyObservation | None:
        """The proxy the check went through (None: direct), and what it answered."""
        route = self.network.route
        return route.proxy if route is not None else None


def _looks_like(first: bytes) -> str:
    head = first[:16]
    if head.startswith(b"HTTP/") or head[:4] in (b"<htm", b"<!DO", b"<HTM"):
        return "HTTP"
    if head.startswith(b"220"):
        return "SMTP or FTP"
    if head.startswith(b"SSH-"):
        return "SSH"
    if head.startswith((b"* OK", b"+OK")):
        return "IMAP or POP3"
    if head.startswith((b"<?xml", b"<stream")):
        return "XMPP"
    return "unknown"


def printable_preview(data: bytes, limit: int = 48) -> str:
    """Bytes from a stranger, shown safely: printable ASCII kept, everything else as \\xNN."""
    out = []
    for byte in data[:limit]:
        ch = chr(byte)
        out.append(ch if 32 <= byte < 127 else f"\\x{byte:02x}")
    return "".join(out)


#: DNS outcomes that are facts about the name, not about the way to the resolver.
_NAME_FACTS = frozenset({DnsOutcome.NXDOMAIN, DnsOutcome.NO_ADDRESSES, DnsOutcome.INVALID_NAME})


def _path_findings(obs: Observations) -> list[Finding] | None:
    """Offline, a DNS filter, or the name's own failure: None when resolution is not the
    cause (it worked, or was skipped)."""
    route = obs.network.route
    dns = route.dns if route is not None else None
    if dns is None:
        return None
    host = obs.target.host_ascii
    blocked = blocking_answers(dns, host)
    if blocked:
        return [
            Finding(
                FindingId.DNS_BLOCKED,
                Severity.ERROR,
                evidence(
                    host=host,
                    answers=list(blocked),
                    resolver=dns.resolver,
                    answered_by=dns.answered_by,
                ),
            )
        ]
    if dns.outcome is DnsOutcome.ANSWER:
        return None
    reach = route.reach if route is not None else None
    if reach is not None and not reach.any and dns.outcome not in _NAME_FACTS:
        return [_offline(dns.resolver, dns.error or "", reach.ipv4, reach.ipv6)]
    return [_dns_failure(host, dns)]


def _offline(resolver: str | None, detail: str, ipv4: bool, ipv6: bool) -> Finding:
    return Finding(
        FindingId.NETWORK_OFFLINE,
        Severity.ERROR,
        evidence(resolver=resolver, detail=detail, ipv4_route=ipv4, ipv6_route=ipv6),
    )


def _dns_failure(host: str, dns: DnsObservation) -> Finding:
    return Finding(
        FindingId.DNS_FAILURE,
        Severity.ERROR,
        evidence(
            host=host,
            error=dns.error,
            kind=dns.outcome.value,
            resolver=dns.resolver,
            answered_by=dns.answered_by,
            servers=[f"{r.qtype}: {r.detail}" for r in dns.replies if r.detail],
            note=dns.note or None,
        ),
    )


def _network_findings(obs: Observations) -> list[Finding]:
    target = obs.target
    path = _path_findings(obs)
    if path is not None:
        return path
    if obs.network.resolve is not None and obs.network.resolve.error:
        return [
            Finding(
                FindingId.DNS_FAILURE,
                Severity.ERROR,
                # The system resolver's own words: which server said what, it does not tell.
                evidence(
                    host=target.host_ascii,
                    error=obs.network.resolve.error,
                    kind="system-error",
                    resolver="this computer's resolver",
                    answered_by=None,
                    servers=(),
                    note=None,
                ),
            )
        ]
    reach = obs.network.route.reach if obs.network.route is not None else None
    tried = [a for a in obs.network.attempts if a.connects is False]
    if (
        obs.network.connect_failure is NetworkFailure.UNREACHABLE
        and reach is not None
        and tried
        and not any(getattr(reach, a.family) for a in tried)
    ):
        return [_offline(None, obs.network.connect_detail, reach.ipv4, reach.ipv6)]
    if obs.network.connect_failure is not None:
        kind = {
            NetworkFailure.CONNECT_REFUSED: FindingId.CONNECT_REFUSED,
            NetworkFailure.UNREACHABLE: FindingId.CONNECT_REFUSED,
            NetworkFailure.CONNECT_TIMEOUT: FindingId.CONNECT_TIMEOUT,
            NetworkFailure.CONNECTION_RESET: FindingId.CONNECTION_RESET,
        }.get(obs.network.connect_failure, FindingId.CONNECT_REFUSED)
        return [
            Finding(
                kind,
                Severity.ERROR,
                evidence(
                    address=obs.network.connect_address,
                    port=target.dial_port,
                    detail=obs.network.connect_detail,
                    stage="while connecting",
                ),
            )
        ]
    return []


def _handshake_findings(obs: Observations) -> list[Finding]:
    hs = obs.network.handshake
    if hs is None:
        return []
    if hs.ok:
        if hs.alert and hs.certificate_requested and hs.alert in CLIENT_CERT_ALERTS:
            return [_client_cert_finding(obs, hs.alert, "after the handshake (TLS 1.3)")]
        return []
    failure = hs.failure

    def cut_off(fid: FindingId, **facts: EvidenceValue) -> list[Finding]:
        """The handshake with this address ended without an answer: where, and what we saw."""
        where = {"address": hs.address, "port": obs.target.dial_port}
        return [Finding(fid, Severity.ERROR, evidence(**where, **facts, detail=hs.failure_detail))]

    address = hs.address
    through = [r for r in obs.network.sni_retries if r.got_server_hello]
    if through and failure in (NetworkFailure.CONNECTION_RESET, NetworkFailure.HANDSHAKE_TIMEOUT):
        return [
            Finding(
                FindingId.SNI_FILTERED,
                Severity.ERROR,
                evidence(
                    host=obs.target.host_ascii,
                    address=address,
                    how="reset" if failure is NetworkFailure.CONNECTION_RESET else "no answer",
                    got_through=[r.label for r in through],
                    cut=[r.label for r in obs.network.sni_retries if not r.got_server_hello],
                    detail=hs.failure_detail,
                ),
            )
        ]
    if failure is NetworkFailure.HANDSHAKE_TIMEOUT:
        return cut_off(FindingId.HANDSHAKE_TIMEOUT, timeout_s=obs.timeout_s)
    if failure is NetworkFailure.NOT_TLS:
        return [
            Finding(
                FindingId.NOT_TLS,
                Severity.ERROR,
                evidence(
                    first_bytes=printable_preview(hs.first_bytes),
                    looks_like=_looks_like(hs.first_bytes),
                ),
            )
        ]
    if hs.certificate_requested and (
        hs.alert in CLIENT_CERT_ALERTS or failure is NetworkFailure.CONNECTION_RESET
    ):
        return [_client_cert_finding(obs, hs.alert or "connection closed", "during the handshake")]
    explained = _explained_by_overlap(obs)
    if explained:
        return explained
    if failure is NetworkFailure.CONNECTION_RESET:
        return cut_off(FindingId.CONNECTION_RESET, stage=_cut_stage(hs))
    # No alert: the server's reply broke the TLS rules (garbage after a ServerHello, a message
    # too large to accept, ...). Its own logs will not say why; the reply is the evidence.
    alert = hs.alert or f"no alert, but a reply that breaks the TLS rules ({hs.failure_detail})"
    return [
        Finding(
            FindingId.TLS_ALERT,
            Severity.ERROR,
            evidence(alert=alert, stage=_alert_stage(hs), detail=hs.failure_detail),
        )
    ]


def _cut_stage(hs: HandshakeObservation) -> str:
    """When the connection was cut: after the ClientHello, or after the server's last message."""
    heard = [s for s in hs.steps if s.direction is Direction.SERVER]
    if not heard:
        return "after the ClientHello"
    return f"after the {heard[-1].step.value.replace('-', ' ')}"


def _alert_stage(hs: HandshakeObservation) -> str:
    last = hs.steps[-2].step.value if len(hs.steps) >= 2 else "client-hello"
    return f"after {last.replace('-', ' ')}"


def _client_cert_finding(obs: Observations, alert: str, stage: str) -> Finding:
    given = (
        "a client certificate was sent but refused"
        if obs.credentials_given
        else "no client certificate was given"
    )
    return Finding(
        FindingId.CLIENT_CERT_REQUIRED,
        Severity.ERROR,
        evidence(alert=alert, stage=stage, detail=given),
    )


def _explained_by_overlap(obs: Observations) -> list[Finding]:
    """A failed handshake whose alert the protocol/cipher overlap explains."""
    shared = [
        f
        for f in obs.overlap_findings
        if f.id in (FindingId.NO_SHARED_PROTOCOL, FindingId.NO_SHARED_CIPHER)
    ]
    if shared:
        return [replace(f, severity=Severity.ERROR) for f in shared]
    mine = next((v for v in obs.clients if v.id == "local"), None)
    if mine is not None and FindingId.WEAK_DH in mine.reasons:
        # This computer offered DHE, the server's group is below what it accepts: that is
        # why its handshake failed (OpenSSL's "dh key too small").
        refused = [v for v in obs.clients if FindingId.WEAK_DH in v.reasons and v.id != "local"]
        return [
            Finding(
                FindingId.WEAK_DH, Severity.ERROR, _client_evidence(obs, FindingId.WEAK_DH, refused)
            )
        ]
    hs = obs.network.handshake
    legacy = obs.network.legacy
    if hs is None or legacy is None or not legacy.ok:
        return []
    local = obs.local_client
    if local is None:
        return []
    # The analysis's module, loaded only for this rare case (a fresh quick check needs none).
    from core.analyze.overlap import (
        analyze_overlap,
        enumeration_from_handshake,
        explain_alert,
        load_client_profiles,
    )

    server = enumeration_from_handshake(legacy.protocol, legacy.cipher or legacy.cipher_openssl)
    cause = explain_alert(hs.alert, server, local)
    if cause is None:
        return []
    # What the one permissive handshake showed, folded like a full enumeration: the same
    # evidence (versions, suites, the reference clients that would still connect).
    overlap = analyze_overlap(server, local, load_client_profiles())
    return [replace(f, severity=Severity.ERROR) for f in overlap.findings if f.id is cause]


def _chain_findings(obs: Observations) -> tuple[list[Finding], list[Finding]]:
    """(chain findings, clock findings), with the clock attributed where it explains."""
    chain = obs.chain
    clock = obs.clock
    clock_out: list[Finding] = []
    if obs.chain_unreadable:
        return [
            Finding(
                FindingId.CHAIN_INVALID,
                Severity.ERROR,
                evidence(reason=obs.chain_unreadable),
            )
        ], (list(clock_findings(clock, False)) if clock else [])
    if chain is None:
        # Without a certificate the clock explains nothing; a measured skew is still worth
        # saying, but "could not measure the clock" would only be noise beside a network cause.
        unjudged = [
            f
            for f in (clock_findings(clock, False) if clock else ())
            if f.id is not FindingId.CLOCK_UNVERIFIED
        ]
        return [], unjudged
    path = chain.path.certs
    local = validity_findings(path, chain.path.anchor, obs.local_now)
    reference_time = clock.reference_time if clock else None
    skewed = clock is not None and is_skewed(clock)
    if skewed and reference_time is not None and clock is not None:
        at_reference = validity_findings(path, chain.path.anchor, reference_time)
        ref_ids = {f.id for f in at_reference}
        symptoms = [f for f in local if f.id not in ref_ids]
        explains = any(f.id is not FindingId.EXPIRES_SOON for f in symptoms)
        clock_out = list(clock_findings(clock, explains))
        if symptoms:
            clock_out = [
                replace(
                    f,
                    evidence=evidence(
                        **{**dict(f.evidence), "symptoms": [_symptom(s) for s in symptoms]}
                    ),
                )
                if f.id is FindingId.CLOCK_SKEW
                else f
                for f in clock_out
            ]
        validity = at_reference
    else:
        validity = local
        if clock is not None:
            clock_out = list(clock_findings(clock, False))
    findings = validity + list(chain.findings)
    if obs.revocation is not None and obs.revocation.revoked:
        rev = obs.revocation
        findings.append(
            Finding(
                FindingId.CERT_REVOKED,
                Severity.CRITICAL,
                evidence(
                    subject=chain.certificates[0].subject if chain.certificates else None,
                    revoked_at=rev.revoked_at.isoformat() if rev.revoked_at else None,
                    reason=rev.reason,
                    responder=rev.responder,
                ),
            )
        )
    if not chain.valid and not any(f.id in CHAIN_ERRORS for f in findings):
        findings.append(
            Finding(
                FindingId.CHAIN_INVALID,
                Severity.ERROR,
                evidence(reason=plain_verifier_error(chain.verifier_error, chain)),
            )
        )
    return findings, clock_out


def plain_verifier_error(reason: str | None, chain: ChainAnalysis) -> str | None:
    """The verifier's reason in words a site owner can act on, where we know better words."""
    if reason and "exceeds max depth" in reason:
        sent = sum(1 for c in chain.certificates if c.sent_by_server)
        return (
            f"the chain is too long: the server sent {sent} certificates, more intermediates "
            f"than verifiers follow, so none reached a trusted root ({reason})"
        )
    return reason


def _symptom(finding: Finding) -> str:
    ev = finding.evidence
    if finding.id is FindingId.CERT_EXPIRED:
        return f"the certificate looks expired (since {ev.get('not_after_date')})"
    if finding.id is FindingId.CERT_NOT_YET_VALID:
        return f"the certificate looks not yet valid (until {ev.get('not_before_date')})"
    return f"the certificate looks about to expire ({ev.get('not_after_date')})"


_PROXY_FINDINGS = {
    ProxyFailure.PROXY_UNREACHABLE: FindingId.PROXY_UNREACHABLE,
    ProxyFailure.TIMED_OUT: FindingId.PROXY_UNREACHABLE,
    ProxyFailure.MALFORMED: FindingId.PROXY_UNREACHABLE,
    ProxyFailure.AUTH_REQUIRED: FindingId.PROXY_AUTH_REQUIRED,
    ProxyFailure.REFUSED: FindingId.PROXY_REFUSED,
}

#: What a captive portal does to a check on port 443: it answers in the site's place, with its
#: own certificate or not at all. With the portal found, these are its symptoms, not causes.
_PORTAL_SYMPTOMS = frozenset(
    {
        FindingId.DNS_FAILURE,
        FindingId.CONNECT_REFUSED,
        FindingId.CONNECT_TIMEOUT,
        FindingId.CONNECTION_RESET,
        FindingId.HANDSHAKE_TIMEOUT,
        FindingId.NOT_TLS,
        FindingId.TLS_ALERT,
        FindingId.HOSTNAME_MISMATCH,
        FindingId.SELF_SIGNED,
        FindingId.UNTRUSTED_ROOT,
        FindingId.INCOMPLETE_CHAIN,
        FindingId.INTERCEPTION_SUSPECTED,
        FindingId.CHAIN_INVALID,
    }
)


def _proxy_findings(obs: Observations) -> list[Finding]:
    """The proxy's own answer, when it gave no path to the site."""
    proxy = obs.proxy
    if proxy is None or proxy.failure is None:
        return []
    if proxy.failure is ProxyFailure.SITE_UNREACHABLE:
        # The proxy reached out and the site did not answer it: the site's problem, seen from
        # the proxy; the proxy's words are the detail.
        return [
            Finding(
                FindingId.CONNECT_REFUSED,
                Severity.ERROR,
                evidence(
                    address=obs.target.dial_host,
                    port=obs.target.dial_port,
                    detail=f"through the proxy {proxy.proxy}: {proxy.detail}",
                    stage="while connecting",
                ),
            )
        ]
    kind = _PROXY_FINDINGS[proxy.failure]
    values: dict[str, EvidenceValue] = {
        "proxy": proxy.proxy,
        "setting": proxy.setting,
        "detail": proxy.detail,
    }
    if kind is FindingId.PROXY_AUTH_REQUIRED:
        values["schemes"] = proxy.auth_schemes
    if kind is FindingId.PROXY_REFUSED:
        values["proxy_words"] = proxy.proxy_words
    return [Finding(kind, Severity.ERROR, evidence(**values))]


def _direct_blocked(obs: Observations) -> list[Finding]:
    hs = obs.network.handshake
    if obs.proxy is None or obs.direct_failure is None or hs is None or not hs.ok:
        return []
    return [
        Finding(
            FindingId.DIRECT_BLOCKED,
            Severity.INFO,
            evidence(proxy=obs.proxy.proxy, detail=obs.direct_failure),
        )
    ]


def _ipv6_findings(obs: Observations) -> list[Finding]:
    """IPv6 addresses that fail while an IPv4 one connects: this check goes on over IPv4, but a
    browser may wait on IPv6 first. The failures are the evidence, not findings of their own."""
    v6 = [a for a in obs.network.attempts if a.family == "ipv6"]
    v4_ok = [a for a in obs.network.attempts if a.family == "ipv4" and a.connects]
    failed = [a for a in v6 if a.connects is False]
    if not failed or any(a.connects for a in v6) or not v4_ok:
        return []
    return [
        Finding(
            FindingId.IPV6_BROKEN,
            Severity.WARNING,
            evidence(
                failed=[f"{a.address}: {a.error}" for a in failed],
                working=v4_ok[0].address,
            ),
        )
    ]


def _proxy_interception(obs: Observations, findings: list[Finding]) -> list[Finding]:
    """Through the proxy the site's certificate comes from another issuer than straight to the
    site: the proxy opens the TLS connection and makes its own certificate (the commonest
    interception of all, a company's inspecting proxy)."""
    if (
        obs.proxy is None
        or obs.direct_issuer is None
        or obs.proxied_issuer is None
        or obs.direct_issuer == obs.proxied_issuer
        or any(f.id is FindingId.INTERCEPTION_SUSPECTED for f in findings)
    ):
        return []
    return [
        Finding(
            FindingId.INTERCEPTION_SUSPECTED,
            Severity.WARNING,
            evidence(
                root_subject=obs.proxied_issuer,
                product=f"the proxy {obs.proxy.proxy}",
                reason=f"through the proxy the certificate is issued by {obs.proxied_issuer}; "
                f"straight to the site, by {obs.direct_issuer}",
            ),
        )
    ]


def _with_portal(obs: Observations, findings: list[Finding]) -> list[Finding]:
    """A portal explains the failures it causes; without any failure, it is not in the way."""
    portal = obs.portal
    if portal is None or portal.verdict is not PortalVerdict.PORTAL:
        return findings
    symptoms = [f for f in findings if f.id in _PORTAL_SYMPTOMS]
    if not symptoms:
        return findings
    finding = Finding(
        FindingId.CAPTIVE_PORTAL,
        Severity.ERROR,
        evidence(
            probe_url=portal.probe_url,
            portal_url=portal.portal_url,
            sign=portal.sign,
            symptoms=tuple(f.id.value for f in symptoms),
        ),
    )
    return [finding] + [f for f in findings if f.id not in _PORTAL_SYMPTOMS]


#: What the enumeration says the server accepts. A ServerHello is only the server's first word:
#: a server that answers every hello and then hangs up accepts nothing in truth, so these
#: stand as findings only when a handshake of ours did complete.
_SERVER_ACCEPTS = frozenset(
    {FindingId.LEGACY_PROTOCOL, FindingId.WEAK_CIPHER, FindingId.NO_FORWARD_SECRECY}
)


def _handshake_completed(obs: Observations) -> bool:
    return any(hs is not None and hs.ok for hs in (obs.network.handshake, obs.network.legacy))


def _starttls_findings(obs: Observations) -> list[Finding]:
    """The exchange before TLS failed: the server does not offer the upgrade, refuses it, or
    is not this protocol (or says nothing, or hangs up), each as the cause it is."""
    seen = obs.network.starttls
    if seen is None or seen.ok or seen.failure is None:
        return []
    from core.target import PROTOCOL_NAMES

    target = obs.target
    protocol = PROTOCOL_NAMES[seen.protocol]
    where: dict[str, EvidenceValue] = {
        "protocol": protocol,
        "host": target.host_ascii,
        "port": target.port,
        "detail": seen.detail,
        "banner": seen.banner or None,
        "capabilities": seen.capabilities,
        "reply": seen.reply or None,
    }
    if seen.failure is StarttlsFailure.UNSUPPORTED:
        from core.target import IMPLICIT_TLS_SIBLING, SERVICES

        sibling = IMPLICIT_TLS_SIBLING.get(seen.protocol.value)
        where["try_instead"] = (
            f"{sibling}://{target.host_ascii}:{SERVICES[sibling].port}" if sibling else None
        )
        return [Finding(FindingId.STARTTLS_UNSUPPORTED, Severity.ERROR, evidence(**where))]
    if seen.failure is StarttlsFailure.REFUSED:
        return [Finding(FindingId.STARTTLS_REFUSED, Severity.ERROR, evidence(**where))]
    address = obs.network.connect_address
    if seen.failure is StarttlsFailure.SILENT:
        return [
            Finding(
                FindingId.HANDSHAKE_TIMEOUT,
                Severity.ERROR,
                evidence(
                    address=address,
                    port=target.dial_port,
                    timeout_s=obs.timeout_s,
                    detail=f"{protocol}: {seen.detail}"
                    + (
                        ""
                        if any(line.direction is Direction.SERVER for line in seen.lines)
                        else " (a server that expects TLS at once says nothing until it gets "
                        "a ClientHello)"
                    ),
                ),
            )
        ]
    if seen.failure is StarttlsFailure.CLOSED:
        return [
            Finding(
                FindingId.CONNECTION_RESET,
                Severity.ERROR,
                evidence(
                    address=address,
                    port=target.dial_port,
                    stage=f"during the {protocol} exchange before STARTTLS",
                    detail=seen.detail,
                ),
            )
        ]
    said = (seen.banner or seen.reply or "").encode("utf-8", "replace")
    return [
        Finding(
            FindingId.NOT_TLS,
            Severity.ERROR,
            evidence(first_bytes=printable_preview(said), looks_like=_looks_like(said)),
        )
    ]


#: The findings where a mail app's settings (name, port, security) are the likely fix. Not
#: starttls-refused: a server that lists STARTTLS and refuses it is its owner's to fix.
_MAIL_SETTINGS_FINDINGS = frozenset(
    {
        FindingId.STARTTLS_UNSUPPORTED,
        FindingId.HOSTNAME_MISMATCH,
        FindingId.NOT_TLS,
        FindingId.HANDSHAKE_TIMEOUT,
    }
)


def _with_mail_fix(target: Target, finding: Finding) -> Finding:
    """For a mail server, the app's settings come first among the fixes where they can help."""
    from core.target import MAIL_SERVICES

    if target.service not in MAIL_SERVICES or finding.id not in _MAIL_SETTINGS_FINDINGS:
        return finding
    rest = tuple(f for f in finding.fixes if f is not FixId.CONFIGURE_MAIL_CLIENT)
    return replace(finding, fixes=(FixId.CONFIGURE_MAIL_CLIENT, *rest))


def decide(obs: Observations) -> tuple[Finding, ...]:
    """All findings of a check, causes only, most severe first, each with its fixes."""
    findings: list[Finding] = []
    findings += _proxy_findings(obs)
    findings += _network_findings(obs)
    findings += _starttls_findings(obs)
    findings += _ipv6_findings(obs)
    findings += _handshake_findings(obs)
    chain_findings, clock_out = _chain_findings(obs)
    findings += chain_findings
    findings += [
        f
        for f in obs.overlap_findings
        if not any(f.id == g.id for g in findings)
        and (f.id not in _SERVER_ACCEPTS or _handshake_completed(obs))
    ]
    findings += clock_out
    findings += _direct_blocked(obs)
    findings += _proxy_interception(obs, findings)
    findings = _with_portal(obs, findings)
    findings = _for_clients(obs, findings)
    findings += [internal_error_finding(check, error) for check, error in obs.internal_errors]
    return tuple(
        sorted(
            (_with_mail_fix(obs.target, _with_fixes(f)) for f in _dedupe(findings)),
            key=lambda f: -f.severity.rank,
        )
    )


#: Causes that some clients refuse and others accept: their weight is the chosen app's.
_PER_CLIENT = (
    FindingId.WEAK_DH,
    FindingId.CHAIN_TOO_LONG,
    FindingId.CT_MISSING,
    FindingId.LIFETIME_TOO_LONG,
)
#: Existing causes whose weight, with an app chosen, is that app's.
_CHOSEN_DECIDES = frozenset(
    {
        FindingId.INCOMPLETE_CHAIN,
        FindingId.NO_SHARED_PROTOCOL,
        FindingId.NO_SHARED_CIPHER,
        FindingId.WEAK_DH,
        FindingId.WEAK_KEY,
        FindingId.WEAK_SIGNATURE,
    }
)


def _for_clients(obs: Observations, findings: list[Finding]) -> list[Finding]:
    """The causes only some clients refuse, as findings, weighed for the chosen app."""
    verdicts = obs.clients
    if not verdicts:
        return findings
    out = list(findings)
    present = {f.id for f in out}
    for fid in _PER_CLIENT:
        refused = [v for v in verdicts if fid in v.reasons and v.id != "local"]
        local_refuses = any(fid in v.reasons for v in verdicts if v.id == "local")
        if (refused or local_refuses) and fid not in present:
            out.append(Finding(fid, Severity.WARNING, _client_evidence(obs, fid, refused)))
    return weigh(out, verdicts, obs.chosen_client)


class _Judged(Protocol):
    """A client's verdict as weighing needs it: a ClientVerdict, or a report's ClientResult."""

    @property
    def id(self) -> str: ...
    @property
    def reasons(self) -> tuple[FindingId, ...]: ...
    @property
    def connects(self) -> bool | None: ...
    @property
    def current(self) -> bool: ...
    @property
    def browser(self) -> bool: ...


def weigh(
    findings: Sequence[Finding], verdicts: Sequence[_Judged], chosen_id: str | None
) -> list[Finding]:
    """Each cause that only some clients refuse, weighed for the app that showed the error:
    an error when that app refuses it, a warning when it connects anyway. With "I don't know",
    the per-client causes are errors when a current browser (or this computer) refuses them,
    and the others keep the weight they have as causes of this computer's failure (error)."""
    chosen = next((v for v in verdicts if v.id == chosen_id), None)
    if (
        chosen is not None
        and chosen.connects is False
        and not any(f.id in chosen.reasons for f in findings)
    ):
        # The chosen app fails for a reason no finding names (Chrome offers no DHE suite at
        # all): nothing is lightened for it, the causes keep the weight they have for everyone.
        chosen = None
    out = []
    for finding in findings:
        severity = finding.severity
        if finding.id in _PER_CLIENT:
            severity = _weight(finding.id, verdicts, chosen)
        elif finding.id in _CHOSEN_DECIDES:
            if chosen is not None:
                spared = bool(chosen.connects) and finding.id not in chosen.reasons
            else:
                spared = _every_browser_connects(verdicts)
            severity = Severity.WARNING if spared else Severity.ERROR
        out.append(
            replace(finding, severity=severity) if severity is not finding.severity else finding
        )
    return out


def _every_browser_connects(verdicts: Sequence[_Judged]) -> bool:
    """With "I don't know" the verdict is the worst among the current browsers: a cause that
    none of them suffers (each one was probed and connects) is a warning, even where this
    computer's own client fails on it."""
    browsers = [v for v in verdicts if v.current and v.browser]
    return bool(browsers) and all(v.connects is True for v in browsers)


def _weight(fid: FindingId, verdicts: Sequence[_Judged], chosen: _Judged | None) -> Severity:
    if chosen is not None:
        return Severity.ERROR if fid in chosen.reasons else Severity.WARNING
    decisive = [v for v in verdicts if v.id == "local" or (v.current and v.browser)]
    return Severity.ERROR if any(fid in v.reasons for v in decisive) else Severity.WARNING


def for_client(report: CheckReport, client: str | None) -> CheckReport:
    """The same report spoken for another app (the window's app list changed after a check):
    the verdicts are the report's own, only their weight changes. Findings stay most severe
    first."""
    options = replace(report.options, client=client)
    verdicts = report.app_verdicts or report.clients
    if not verdicts:
        return replace(report, options=options)
    weighed = weigh(report.findings, verdicts, client)
    ordered = tuple(sorted(weighed, key=lambda f: -f.severity.rank))
    return replace(report, options=options, findings=ordered)


def _client_evidence(
    obs: Observations, fid: FindingId, refused: Sequence[ClientVerdict]
) -> Mapping[str, EvidenceValue]:
    accepted = [v.name for v in obs.clients if v.connects and v.id != "local"]
    refused_by = [v.name for v in refused] or ["this computer"]
    facts = obs.chain_facts
    if fid is FindingId.WEAK_DH:
        return evidence(dh_bits=obs.dh_bits, refused_by=refused_by, accepted_by=accepted)
    if fid is FindingId.CHAIN_TOO_LONG:
        unknown = [v.name for v in obs.clients if "max_chain_certs" in v.unknown]
        return evidence(
            certificates=facts.path_certs if facts else None,
            refused_by=refused_by,
            accepted_by=[
                v.name
                for v in obs.clients
                if v.trusted and v.id != "local" and "max_chain_certs" not in v.unknown
            ],
            unknown_for=unknown,
        )
    if fid is FindingId.CT_MISSING:
        days = facts.leaf_days if facts else 0
        return evidence(
            scts=facts.scts if facts else None,
            needed=MIN_SCTS_SHORT if days <= SHORT_LEAF_DAYS else MIN_SCTS_LONG,
            refused_by=refused_by,
            accepted_by=accepted,
        )
    from core.analyze.clients import find_app

    limits = [
        limit
        for v in refused
        if (app := find_app(v.id)) is not None
        and isinstance(limit := app.known("max_leaf_days"), int)
    ]
    return evidence(
        days=facts.leaf_days if facts else None,
        limit=min(limits) if limits else None,
        refused_by=refused_by,
        accepted_by=accepted,
    )


def internal_error_finding(check: str, error: str) -> Finding:
    """A bug of ours in one check. ``error`` is the exception's line, then its traceback: the
    words show the line, ``details`` keeps everything for the user to copy into a report."""
    first = error.splitlines()[0] if error else "unknown error"
    return Finding(
        FindingId.INTERNAL_ERROR,
        Severity.WARNING,
        evidence(check=check, error=first, details=error),
        (),
    )


def _dedupe(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per cause; internal errors stay one per check."""
    seen: set[tuple[FindingId, object]] = set()
    out = []
    for finding in findings:
        key = (
            finding.id,
            finding.evidence.get("check") if finding.id is FindingId.INTERNAL_ERROR else None,
        )
        if key in seen:
            continue
        seen.add(key)
        out.append(finding)
    return out


def _with_fixes(finding: Finding) -> Finding:
    if finding.fixes:
        return finding
    from core.catalogue import load_catalogue  # only when there is a finding to give fixes to

    return replace(finding, fixes=load_catalogue().finding(finding.id).default_fixes)
