"""The short plain-text summary for a support ticket: at most 15 lines, no markup."""

from __future__ import annotations

from core.catalogue import load_catalogue
from core.models import CheckReport, StageId, StageStatus
from core.render.for_client import app_words
from core.render.stages import stage_line
from core.untrusted import visible

MAX_LINES = 15


def ticket_summary(report: CheckReport) -> str:
    cat = load_catalogue()
    target = report.target
    where = ""
    if target.connect_address:
        # The port too: --connect ADDR:PORT may dial another port than the one checked.
        address = visible(target.connect_address, limit=200)
        address = f"[{address}]" if ":" in address else address
        where = f" (connected to {address}:{target.dial_port})"
    lines = [
        f"Handshake Doctor check of {visible(target.display(), limit=200)}" + where,
        f"Time: {report.started_at:%Y-%m-%d %H:%M:%S} UTC",
        f"Verdict: {report.verdict.value.upper()}",
    ]
    app = app_words(report, cat)
    if app.text:
        lines.append(f"App: {visible(app.text, limit=400)}")
    cause = report.cause
    if cause is not None:
        lines.append(f"Cause: {visible(cat.headline(cause), limit=300)}")
        who = cat.finding(cause.id).who_acts.value.replace("-", " ")
        lines.append(f"Who acts: {who}")
    else:
        lines.append("Cause: none found; the connection works.")
    proxy = report.route.proxy if report.route is not None else None
    if proxy is not None:
        lines.append(
            f"Path: through the proxy {visible(proxy.proxy, limit=200)} "
            f"(from {visible(proxy.setting, limit=80)})"
        )
    starttls = next((s for s in report.stages if s.stage is StageId.STARTTLS), None)
    if starttls is not None:  # the exchange before TLS: how it ended, as the step list says
        lines.append(f"Service: {visible(stage_line(starttls), limit=200)}")
    hs = report.handshake
    if hs is not None and hs.ok:
        lines.append(f"Handshake: {hs.protocol}, {hs.cipher}")
    tried = ", ".join(
        f"{s.stage.value} {'ok' if s.status is StageStatus.OK else s.status.value}"
        for s in report.stages
    )
    lines.append(f"Tried: {tried}")
    others = [f for f in report.findings if f is not cause]
    for finding in others[: MAX_LINES - len(lines) - 1]:
        lines.append(f"Also: [{finding.severity.value}] {visible(cat.title(finding), limit=200)}")
    first = cat.ordered_fixes(report.findings)[:1]  # the same first step as the PDF's page one
    if first and len(lines) < MAX_LINES:
        lines.append(f"First step: {first[0].title}")
    return "\n".join(lines[:MAX_LINES]) + "\n"
