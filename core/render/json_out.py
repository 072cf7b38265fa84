"""The contract's JSON (shared/contract.md): fields may be added, none renamed or removed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.models import CertificateInfo, CheckReport, EvidenceValue, Finding, StageFact, TrustResult
from core.render.stages import stage_line
from core.route import AddressAttempt

if TYPE_CHECKING:
    from core.catalogue import Catalogue
    from core.inspect import InspectReport


def _evidence(values: Any) -> dict[str, EvidenceValue | list[str]]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _facts(facts: Mapping[str, StageFact]) -> dict[str, Any]:
    """A stage's facts as JSON: tuples as lists, a list of items as a list of objects."""
    return {
        key: [dict(v) if isinstance(v, Mapping) else v for v in value]
        if isinstance(value, tuple)
        else value
        for key, value in facts.items()
    }


def certificate_dict(cert: CertificateInfo) -> dict[str, Any]:
    return {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "san": list(cert.san),
        "sha256": cert.sha256,
        "key": cert.key,
        "signature_algorithm": cert.signature_algorithm,
        "sent_by_server": cert.sent_by_server,
        "trusted_by": list(cert.trusted_by),
    }


def finding_dict(finding: Finding, catalogue: Catalogue) -> dict[str, Any]:
    return {
        "id": finding.id.value,
        "severity": finding.severity.value,
        "title": catalogue.title(finding),
        "detail": catalogue.detail(finding),
        "evidence": _evidence(finding.evidence),
        "fixes": [f.value for f in finding.fixes],
    }


def report_dict(report: CheckReport, catalogue: Catalogue | None = None) -> dict[str, Any]:
    if catalogue is None and report.findings:  # a clean report needs no catalogue
        from core.catalogue import load_catalogue

        catalogue = load_catalogue()
    target = report.target
    hs = report.handshake
    return {
        "schema": report.schema,
        "target": {
            "host": target.host,
            "port": target.port,
            "connect_address": target.connect_address,
            "sni": target.sni or "",
        },
        "started_at": report.started_at.isoformat(),
        "duration_ms": round(report.duration_ms, 3),
        "verdict": report.verdict.value,
        "handshake": {
            "ok": bool(hs and hs.ok),
            "protocol": hs.protocol.label if hs and hs.protocol else None,
            "cipher": hs.cipher if hs else None,
            "group": hs.group if hs else None,
            "alpn": hs.alpn if hs else None,
            "address": hs.address if hs else None,
            "alert": hs.alert if hs else None,
            "steps": [
                {"step": s.step.value, "direction": s.direction.value, "t_ms": s.t_ms}
                for s in (hs.steps if hs else ())
            ],
        },
        "certificates": [certificate_dict(c) for c in report.certificates],
        "trust": {
            "mozilla": report.trust.mozilla,
            "os": report.trust.os,
            "custom": report.trust.custom,
            # Only where the OS has a verifier of its own (Windows, macOS): Linux is unchanged.
            **_os_verifier(report.trust),
        },
        "protocols": {v.label: ok for v, ok in report.protocols.items()},
        "ciphers": {v.label: list(names) for v, names in report.ciphers.items()},
        "groups": list(report.groups),
        "server_preference": report.server_preference,
        "clients": [
            {
                "id": c.id,
                "name": c.name,
                "connects": bool(c.connects),  # entries exist only where it is known
                "protocol": c.protocol.label if c.protocol else None,
                "cipher": c.cipher,
                "trusted": c.trusted,
                "reasons": [r.value for r in c.reasons],
                "unknown": list(c.unknown),
            }
            for c in report.clients
        ],
        "client": report.client,
        "clock": {
            "reference": report.clock.reference.value,
            "source": report.clock.source,
            "offset_s": report.clock.offset_s,
            "uncertainty_s": report.clock.uncertainty_s,
        },
        "revocation": _revocation(report),
        "service": service_dict(report),
        "path": path_dict(report),
        "findings": [finding_dict(f, catalogue) for f in report.findings]
        if catalogue is not None
        else [],
        "stages": [
            {
                "stage": s.stage.value,
                "status": s.status.value,
                "duration_ms": round(s.duration_ms, 3),
                "summary": stage_line(s),
                "outcome": s.outcome.value,
                "facts": _facts(s.facts),
            }
            for s in report.stages
        ],
    }


def path_dict(report: CheckReport) -> dict[str, Any]:
    """The route taken: the proxy (never its credentials) and where that setting came from, the
    resolver and its answers, every address tried, the captive-portal probe, and the protocol
    whose STARTTLS opened the way to TLS (null: TLS from the first byte)."""
    route = report.route
    proxy = route.proxy if route is not None else None
    portal = report.portal
    dns = route.dns if route is not None else None
    attempts = report.attempts
    if not attempts and route is not None:
        attempts = tuple(AddressAttempt(a, None) for a in route.addresses)
    return {
        "kind": route.kind.value if route is not None else None,
        "proxy": proxy.proxy if proxy is not None else None,
        "proxy_source": proxy.source if proxy is not None else None,
        "proxy_setting": proxy.setting if proxy is not None else None,
        "portal": None
        if portal is None
        else {
            "probe_url": portal.probe_url,
            "verdict": portal.verdict.value,
            "portal_url": portal.portal_url,
            "sign": portal.sign,
        },
        "resolver": dns.resolver if dns is not None else None,
        "dns": None
        if dns is None
        else {
            "source": dns.source.value,
            "outcome": dns.outcome.value,
            "answered_by": dns.answered_by,
            "answers": list(dns.ipv6 + dns.ipv4),
            "note": dns.note or None,
            "duration_ms": round(dns.duration_ms, 3),
        },
        "addresses": [
            {
                "address": a.address,
                "family": a.family,
                "connects": a.connects,
                "error": a.error,
            }
            for a in attempts
        ],
        "sni_retries": [
            {"sni": r.sni, "got_server_hello": r.got_server_hello} for r in report.sni_retries
        ],
        "starttls": report.target.starttls.value if report.target.starttls else None,
    }


def service_dict(report: CheckReport) -> dict[str, Any] | None:
    """The service beyond the web (null for HTTPS): which, how the check chose it, and the
    exchange before TLS with the server's own lines (untrusted text, as it sent them)."""
    target = report.target
    if target.service is None:
        return None
    seen = report.starttls
    return {
        "name": target.service,
        "source": target.service_source.value if target.service_source else None,
        "starttls": None
        if seen is None
        else {
            "protocol": seen.protocol.value,
            "ok": seen.ok,
            "failure": seen.failure.value if seen.failure else None,
            "detail": seen.detail,
            "banner": seen.banner,
            "capabilities": list(seen.capabilities),
            "reply": seen.reply,
            "steps": [
                {"direction": line.direction.value, "text": line.text, "t_ms": line.t_ms}
                for line in seen.lines
            ],
        },
    }


def _revocation(report: CheckReport) -> dict[str, Any] | None:
    """What the OCSP responder said, or why nothing was asked or heard (``status``)."""
    rev = report.revocation
    if rev is None:
        return None
    return {
        "checked": rev.checked,
        "revoked": rev.revoked if rev.checked else None,
        "responder": rev.responder,
        "status": rev.note,
    }


def inspect_json(report: InspectReport, catalogue: Catalogue, file: str) -> str:
    """``inspect --json``: the file's chain, its trust, and the same verdict and findings as a
    check's."""
    trust = report.chain.trust
    payload = {
        "file": file,
        "host": report.host,
        "at": report.at.isoformat(),
        "verdict": report.verdict.value,
        "valid": report.valid,
        "trust": {"mozilla": trust.mozilla, "os": trust.os, "custom": trust.custom},
        "certificates": [certificate_dict(c) for c in report.chain.certificates],
        "findings": [finding_dict(f, catalogue) for f in report.findings],
    }
    return json.dumps(payload, indent=2, ensure_ascii=True)


def to_json(report: CheckReport) -> str:
    # ensure_ascii keeps every stranger's character as an escape: safe in any terminal or log.
    return json.dumps(report_dict(report), indent=2, ensure_ascii=True)


def _os_verifier(trust: TrustResult) -> dict[str, object]:
    verdict = trust.os_verifier
    if verdict is None:
        return {}
    return {
        "os_verifier": {
            "verifier": verdict.verifier,
            "trusted": verdict.trusted,
            "detail": verdict.detail,
        }
    }
