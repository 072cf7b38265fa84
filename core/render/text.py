"""The readable terminal report: findings first, then the facts, colour on a tty."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.catalogue import Catalogue, current_os, load_catalogue
from core.models import CheckReport, Severity, Verdict
from core.render.for_client import THIS_APP, app_words, why_not
from core.render.stages import STATUS_MARKS, stage_line
from core.target import PROTOCOL_NAMES
from core.untrusted import for_terminal as t

if TYPE_CHECKING:
    from core.inspect import InspectReport

_COLOURS = {
    Severity.INFO: "\x1b[36m",
    Severity.WARNING: "\x1b[33m",
    Severity.ERROR: "\x1b[31m",
    Severity.CRITICAL: "\x1b[1;31m",
}
_VERDICT_COLOURS = {
    Verdict.OK: "\x1b[32m",
    Verdict.WARNING: "\x1b[33m",
    Verdict.ERROR: "\x1b[31m",
    Verdict.CRITICAL: "\x1b[1;31m",
}
_RESET = "\x1b[0m"


def render_text(report: CheckReport, *, colour: bool = False) -> str:
    cat = load_catalogue()
    os_name = current_os()

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    lines: list[str] = []
    target = report.target
    where = t(target.display())
    if target.connect_address:
        where += f" via {t(target.connect_address)}:{target.dial_port}"
    proxy = report.route.proxy if report.route is not None else None
    if proxy is not None:
        where += f" through the proxy {t(proxy.proxy)} (from {t(proxy.setting)})"
    lines.append(f"Handshake Doctor — {where}")
    verdict = report.verdict
    cause = report.cause
    headline = (
        cat.headline(cause) if cause else "The TLS connection works and nothing needs fixing."
    )
    app = app_words(report, cat)
    if app.headline:
        # The app that showed the error first; the cause's own headline after it.
        lines.append(
            paint(f"{verdict.value.upper()}: {t(app.headline)}", _VERDICT_COLOURS[verdict])
        )
        if app.others:
            lines.append(f"  {t(app.others)}")
        lines.append(f"  {t(headline)}")
    else:
        lines.append(paint(f"{verdict.value.upper()}: {t(headline)}", _VERDICT_COLOURS[verdict]))
        if app.others:
            lines.append(f"  {t(app.others)}")
    note = cat.service_note(target)
    if note:
        lines.append(t(note, limit=300))
    lines.append("")
    lines.append("Steps:")
    for stage in report.stages:
        mark = STATUS_MARKS[stage.status]
        summary = t(stage_line(stage), limit=160)
        lines.append(f"  {mark} {stage.stage.value:<13} {stage.duration_ms:7.1f} ms  {summary}")
    if report.findings:
        lines.append("")
        lines.append("Findings:")
        for finding in report.findings:
            tag = paint(f"[{finding.severity.value}]", _COLOURS[finding.severity])
            lines.append(f"  {tag} {t(cat.title(finding))}  ({finding.id.value})")
            lines.append(f"      {t(cat.detail(finding), limit=600)}")
    seen = report.starttls
    if seen is not None and seen.lines:
        lines.append("")
        lines.append(
            f"{PROTOCOL_NAMES[seen.protocol]} before TLS (the server's lines as it sent them):"
        )
        for said in seen.lines[:40]:
            who = "C:" if said.direction.value == "client" else "S:"
            lines.append(f"  {who} {t(said.text, limit=200)}")
    hs = report.handshake
    if hs is not None and hs.ok:
        lines.append("")
        group = f", group {hs.group}" if hs.group else ""
        lines.append(f"Handshake: {hs.protocol}, {hs.cipher}{group}")
    if report.certificates:
        lines.append("")
        lines.append("Certificates:")
        for i, cert in enumerate(report.certificates):
            origin = "sent" if cert.sent_by_server else "from store"
            lines.append(f"  {i}. {t(cert.subject, limit=200)}  [{origin}]")
            lines.append(f"     issuer {t(cert.issuer, limit=200)}")
            window = f"{cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}"
            lines.append(f"     valid {window}, {cert.key}, {t(cert.signature_algorithm)}")
    if report.revocation is not None:
        lines.append(f"Revocation (OCSP): {t(report.revocation.note, limit=300)}")
    accepted = [version.label for version, ok in report.protocols.items() if ok]
    if accepted:
        lines.append("")
        lines.append("Protocols accepted: " + ", ".join(accepted))
    if report.clients:
        lines.append("")
        lines.append("Apps:")
        for client in report.clients:
            if client.connects:
                version = client.protocol.label if client.protocol else "?"
                state = f"connects ({version}, {client.cipher})"
                if client.unknown:
                    state += "; unknown here: " + ", ".join(client.unknown)
            else:
                state = "cannot connect: " + why_not(client, cat, name=THIS_APP)
            mark = "✓" if client.connects else "✗"
            lines.append(f"  {mark} {t(client.name):<34} {t(state, limit=200)}")
    clock = report.clock
    if clock.offset_s is not None:
        spread = clock.uncertainty_s or 0
        source = t(clock.source or "")
        offset = f"{clock.offset_s:+.1f} s ± {spread:.1f} s"
        lines.append(f"Clock: offset {offset} ({clock.reference.value}, {source})")
    fixes = cat.ordered_fixes(report.findings)
    if fixes:
        lines.append("")
        lines.append("What to do:")
        for fix in fixes:
            lines.append(f"  • {fix.title} ({fix.who.value.replace('-', ' ')})")
            for n, step in enumerate(fix.steps_for(os_name), 1):
                lines.append(f"      {n}. {step}")
    for note in report.internal_errors:
        lines.append(f"Internal error: {t(note.splitlines()[0])}")
    return "\n".join(lines) + "\n"


def render_inspect_text(report: InspectReport, file: str, cat: Catalogue) -> str:
    """``inspect``'s readable report: the verdict, the chain, the findings."""
    status = "VALID" if report.valid else "NOT VALID"
    host = f" for {report.host}" if report.host else ""
    lines = [f"{status}: {t(file)}{host} at {report.at:%Y-%m-%d %H:%M} UTC"]
    for i, cert in enumerate(report.chain.certificates):
        lines.append(f"  {i}. {t(cert.subject, limit=200)}")
        lines.append(f"     issuer {t(cert.issuer, limit=200)}")
        lines.append(
            f"     valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}, {cert.key}"
        )
    for finding in report.findings:
        title = t(cat.title(finding))
        lines.append(f"  [{finding.severity.value}] {title}: {t(cat.detail(finding), limit=400)}")
    return "\n".join(lines) + "\n"
