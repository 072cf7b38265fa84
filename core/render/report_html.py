"""The PDF report as one HTML document for Qt's rich-text engine (QTextDocument).

A pure function: a CheckReport in, HTML out; no Qt, no I/O, no clock reads. ``gui/pdf.py`` lays
it out on pages and prints it. Page one answers what a support agent asks first (the verdict, the
cause in one sentence, who acts, what to do first, the target and the time); the detail follows,
then an appendix with the certificates as the server sent them.

Safety: every string that came from the server, a certificate or the network (subjects, names,
alerts, evidence, stage summaries ...) goes through ``core.untrusted.for_html``, and so does every
catalogue text, because its templates are filled with such strings. Markup in a certificate
therefore shows as text and cannot change the layout. Nothing from ``report.options`` is shown
except yes/no facts: neither paths nor, above all, the client certificate's key.

The HTML sticks to what Qt's rich text supports (a subset of HTML 4 and CSS 2.1): tables with
``cellpadding``/``bgcolor``, ``page-break-before`` on headings. Section headings are ``<h2>``
and items inside a section ``<h3>``: the PDF writer keeps each of them together on a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.catalogue import (
    Actor,
    Catalogue,
    OsName,
    current_os,
    load_catalogue,
    render_value,
)
from core.environment import Environment
from core.models import (
    CertificateInfo,
    CheckReport,
    ClockSource,
    Direction,
    EvidenceValue,
    Finding,
    FindingId,
    Severity,
    StageStatus,
    Verdict,
)
from core.render.for_client import THIS_APP, app_words, why_not
from core.render.stages import stage_line, stage_name
from core.target import PROTOCOL_NAMES
from core.untrusted import for_html, visible

__all__ = [
    "LADDER_URL",
    "ImageSlot",
    "ReportDocument",
    "build_report_html",
    "header_text",
]

#: Where the GUI registers the handshake picture (QTextDocument.addResource).
LADDER_URL = "mem://ladder.png"

#: Long enough for the PEM of a 16384-bit RSA certificate.
_PEM_LIMIT = 20_000

# (text, background, border) per verdict and severity; fixed light tones, since this is paper.
_TONES: Mapping[str, tuple[str, str, str]] = {
    "ok": ("#1b5e20", "#e6f4ea", "#81c995"),
    "info": ("#0b4a9e", "#e8f0fe", "#8ab4f8"),
    "warning": ("#6d4c00", "#fef3d6", "#f2c14e"),
    "error": ("#a50e0e", "#fce8e6", "#f28b82"),
    "critical": ("#ffffff", "#a50e0e", "#7a0a0a"),
}
_MUTED = "#5f6368"
_RULE = "#c8ccd0"

_STYLE = f"""
body {{ font-size: 9.5pt; color: #202124; }}
h1 {{ font-size: 17pt; font-weight: bold; margin-top: 0px; margin-bottom: 6px; }}
h2 {{ font-size: 13pt; font-weight: bold; margin-top: 18px; margin-bottom: 6px;
      color: #174ea6; }}
h3 {{ font-size: 10.5pt; font-weight: bold; margin-top: 12px; margin-bottom: 4px; }}
h4 {{ font-size: 9.5pt; font-weight: bold; margin-top: 6px; margin-bottom: 2px; }}
p {{ margin-top: 2px; margin-bottom: 4px; }}
th {{ background-color: #eef1f4; text-align: left; font-weight: bold; }}
td.k {{ color: {_MUTED}; }}
.muted {{ color: {_MUTED}; }}
.mono {{ font-family: 'DejaVu Sans Mono', 'Consolas', 'Menlo', monospace; font-size: 8.5pt; }}
pre {{ font-family: 'DejaVu Sans Mono', 'Consolas', 'Menlo', monospace; font-size: 7.5pt; }}
"""

_TABLE = (
    f'<table width="100%" cellspacing="0" cellpadding="4" border="1" '
    f'style="border-collapse: collapse; border-color: {_RULE}; border-style: solid;">'
)
_FACTS = '<table width="100%" cellspacing="0" cellpadding="3" border="0">'

_DIRECTION_ARROWS = {Direction.CLIENT: "you → server", Direction.SERVER: "server → you"}
_STORE_NAMES = {
    "mozilla": "Mozilla (certifi)",
    "os": "this computer's store",
    "custom": "your --ca-file",
}
_STATUS_WORDS = {
    StageStatus.OK: "✓ ok",
    StageStatus.FAILED: "✗ failed",
    StageStatus.SKIPPED: "— skipped",
    StageStatus.RUNNING: "… running",
    StageStatus.PENDING: "pending",
}


@dataclass(frozen=True)
class ImageSlot:
    """An image the GUI registers with the document: its URL and size in CSS pixels (1/96 in)."""

    url: str
    width: int
    height: int


@dataclass(frozen=True)
class ReportDocument:
    #: For the PDF's metadata (plain text).
    title: str
    #: The running header of every page, left and right (plain text: painted, never parsed).
    header_left: str
    header_right: str
    html: str


def e(text: object, *, limit: int = 2000) -> str:
    """Escape anything for Qt rich text: control characters visible, markup inert."""
    return for_html(str(text), limit=limit)


def header_text(report: CheckReport) -> tuple[str, str]:
    """The running header: the target on the left, the check's UTC time on the right."""
    left = f"Handshake Doctor report · {visible(report.target.display(), limit=120)}"
    right = f"checked {report.started_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return left, right


# --------------------------------------------------------------------------- small helpers


def _lines(text: str, *, limit: int) -> str:
    """Multi-line text (a PEM): each line escaped on its own, so the line breaks stay."""
    return "\n".join(e(line, limit=limit) for line in text[:limit].splitlines())


def _adds(detail: str, name: str) -> bool:
    """Whether a step's detail says more than its name ("client_hello" after "client-hello")."""

    def key(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    return bool(detail) and key(detail) != key(name)


def _fmt_time(moment: dt.datetime, tz: dt.tzinfo | None) -> tuple[str, str]:
    utc = moment.astimezone(dt.UTC)
    local = moment.astimezone(tz) if tz is not None else moment.astimezone()
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = local.tzname() or ""
    zone = f"{name}, {offset}" if name and name != offset and name != "UTC" else offset
    return f"{utc:%Y-%m-%d %H:%M:%S} UTC", f"{local:%Y-%m-%d %H:%M:%S} ({zone})"


def _date(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _yes_no(value: bool | None, *, none: str = "not tested") -> str:
    if value is None:
        return none
    return "yes" if value else "no"


def _fingerprint(hex_digest: str) -> str:
    """Upper-case pairs separated by spaces, as browsers show them; wraps cleanly."""
    clean = "".join(ch for ch in hex_digest if ch.isalnum()).upper()
    return " ".join(clean[i : i + 2] for i in range(0, len(clean), 2))


def _duration(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def _facts(rows: Iterable[tuple[str, str]], *, key_width: int = 28) -> str:
    """Two columns, the label muted; values are already escaped HTML."""
    out = [_FACTS]
    for label, value in rows:
        out.append(
            f'<tr><td class="k" width="{key_width}%" valign="top">{e(label)}</td>'
            f'<td valign="top">{value}</td></tr>'
        )
    out.append("</table>")
    return "".join(out)


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[int] = ()) -> str:
    """A ruled table with a header row that Qt repeats on every page; cells are escaped HTML."""
    out = [_TABLE, "<thead><tr>"]
    for i, title in enumerate(head):
        width = f' width="{widths[i]}%"' if i < len(widths) else ""
        out.append(f"<th{width}>{e(title)}</th>")
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = "".join(
            f'<td valign="top"{" nowrap" if i == 0 else ""}>{cell}</td>'
            for i, cell in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _badge(level: str, text: str) -> str:
    fg, bg, _border = _TONES[level]
    style = f"color:{fg}; background-color:{bg}; font-weight:bold;"
    # Non-breaking spaces: a badge never wraps ("Serious problem" stays one piece).
    return f'<span style="{style}">&nbsp;{text.replace(" ", "&nbsp;")}&nbsp;</span>'


def _h2(title: str, *, new_page: bool = False) -> str:
    style = ' style="page-break-before: always;"' if new_page else ""
    return f"<h2{style}>{e(title)}</h2>"


def _address(report: CheckReport) -> str | None:
    hs = report.handshake
    if hs is not None and hs.address:
        return hs.address
    if report.target.connect_address:
        return report.target.connect_address
    for finding in report.findings:
        value = finding.evidence.get("address")
        if isinstance(value, str) and value:
            return value
    return None


# --------------------------------------------------------------------------- page one


def _verdict_words(report: CheckReport, cat: Catalogue) -> str:
    verdict = report.verdict
    if verdict is Verdict.OK:
        return "OK"
    return f"{verdict.value.upper()} · {cat.severity_label(Severity(verdict.value))}"


def _headline(report: CheckReport, cat: Catalogue) -> str:
    cause = report.cause
    if cause is None:
        return "The TLS connection works and nothing needs fixing."
    return cat.headline(cause)


def _banner(report: CheckReport, cat: Catalogue) -> str:
    fg, bg, border = _TONES[report.verdict.value]
    cause = report.cause
    title = cat.title(cause) if cause is not None else "The connection works"
    app = app_words(report, cat)
    return (
        f'<table width="100%" cellspacing="0" cellpadding="10" border="1" '
        f'style="border-collapse: collapse; border-color: {border}; border-style: solid;">'
        # The cell carries the colour: Qt paints a cell's bgcolor, not the table's.
        f'<tr><td bgcolor="{bg}" style="color:{fg};">'
        f'<p style="font-size: 9pt; margin: 0px;">Verdict: <b>{e(_verdict_words(report, cat))}</b>'
        f"&nbsp;&nbsp;·&nbsp;&nbsp;{e(title)}</p>"
        f'<p style="font-size: 14pt; font-weight: bold; margin-top: 6px; margin-bottom: 0px;">'
        f"{e(app.headline or _headline(report, cat))}</p>"
        + (
            f'<p style="margin-top: 4px; margin-bottom: 0px;">{e(app.others)}</p>'
            if app.others
            else ""
        )
        + (
            f'<p style="margin-top: 4px; margin-bottom: 0px;">{e(_headline(report, cat))}</p>'
            if app.headline
            else ""
        )
        + "</td></tr></table>"
    )


def _first_steps(report: CheckReport, cat: Catalogue, os_name: OsName) -> str:
    cause = report.cause
    out: list[str] = []
    if cause is not None:
        who = cat.finding(cause.id).who_acts
        out.append(
            f'<p style="font-size: 11pt; margin-top: 10px;">Who should act: '
            f"<b>{e(cat.actor_label(who))}</b></p>"
        )
    fixes = cat.ordered_fixes(report.findings)
    if not fixes:
        return "".join(out)
    first = fixes[0]
    out.append(
        f'<p style="font-size: 11pt; margin-top: 6px;">What to do first: <b>{e(first.title)}</b>'
        f' <span class="muted">({e(cat.actor_label(first.who))})</span></p>'
        f"<p>{e(first.why)}</p>"
    )
    steps = first.steps_for(os_name)
    if steps:
        out.append("<ol>" + "".join(f"<li>{e(step)}</li>" for step in steps[:4]) + "</ol>")
        if len(steps) > 4:
            out.append(f'<p class="muted">… {len(steps) - 4} more steps under “What to do”.</p>')
    owner = [f for f in fixes if f.who.value == "site-owner"]
    if owner and first.who.value != "site-owner":
        titles = "; ".join(e(f.title) for f in owner)
        out.append(f"<p>For the site owner: <b>{titles}</b> (steps under “What to do”).</p>")
    return "".join(out)


def _path_rows(report: CheckReport, redacted: bool) -> list[tuple[str, str]]:
    """The proxy the check went through, if any. Never its credentials (the route holds none);
    redacted, not its host name either, which names the company's network."""
    proxy = report.route.proxy if report.route is not None else None
    rows: list[tuple[str, str]] = []
    if proxy is not None:
        shown = proxy.proxy
        if redacted:
            scheme, _, rest = shown.partition("://")
            shown = f"{scheme}://proxy-host:{rest.rsplit(':', 1)[-1]}"
        rows.append(("Path", f"through the proxy {e(shown)} (from {e(proxy.setting)})"))
    portal = report.portal
    if portal is not None and portal.verdict.value == "portal":
        rows.append(
            ("Captive portal", f"yes: {e(portal.sign or '')}, {e(portal.portal_url or '')}")
        )
    return rows


def _target_rows(
    report: CheckReport, tz: dt.tzinfo | None, environment: Environment | None, redacted: bool
) -> list[tuple[str, str]]:
    target = report.target
    hs = report.handshake
    address = _address(report)
    connected = e(address) if address else '<span class="muted">not reached</span>'
    through_proxy = report.route is not None and report.route.proxy is not None
    if through_proxy and not address:
        connected = '<span class="muted">known only to the proxy, which connected</span>'
    elif target.connect_address:
        connected += f" port {target.dial_port} (given with --connect)"
    elif address:
        connected += f" port {target.dial_port}"
    if target.sni:
        sni = e(target.sni)
    else:
        sni = '<span class="muted">none (an IP address is not sent as SNI)</span>'
    utc, local = _fmt_time(report.started_at, tz)
    if hs is not None and hs.ok:
        protocol = hs.protocol.human if hs.protocol else None
        handshake = e(", ".join(p for p in (protocol, hs.cipher, hs.group) if p))
    elif hs is not None:
        reason = (
            f"alert {hs.alert}"
            if hs.alert
            else hs.failure_detail or (hs.failure.value if hs.failure else "")
        )
        handshake = "failed" + (f" ({e(reason, limit=200)})" if reason else "")
    else:
        handshake = "not reached"
    kind = "quick (protocols and cipher suites not enumerated)" if report.options.quick else "full"
    rows = [
        ("Host", f"<b>{e(target.host)}</b>"),
        ("Port", str(target.port)),
        ("Address", connected),
        *_path_rows(report, redacted),
        ("SNI (name sent)", sni),
        ("Handshake", handshake),
        ("Checked at", f"{e(utc)}<br/>{e(local)} local time"),
        ("Check", f"{kind}, took {_duration(report.duration_ms)}"),
        ("App that failed", e(_app_name(report))),
    ]
    if environment is not None:
        rows.append(("Handshake Doctor", e(environment.app_version)))
    if redacted:
        rows.append(
            (
                "Redacted",
                "yes: internal host names and private addresses are replaced by placeholders "
                "(host-1, private-address-1, …); certificates that name them have no PEM below.",
            )
        )
    return rows


def _app_name(report: CheckReport) -> str:
    """The chosen app's name (``--client``), or that none was named."""
    if report.client is None:
        return "not named (the verdict is the worst among current browsers)"
    from core.analyze.clients import find_app

    app = find_app(report.client)
    return app.name if app is not None else report.client


def _glance(report: CheckReport, cat: Catalogue) -> str:
    if not report.findings:
        return "<p>No problems were found.</p>"
    rows = []
    for finding in report.findings:
        level = finding.severity.value
        rows.append(
            (
                _badge(level, e(cat.severity_label(finding.severity))),
                f"<b>{e(cat.title(finding))}</b>",
                e(cat.actor_label(cat.finding(finding.id).who_acts)),
            )
        )
    return _table(("Severity", "Finding", "Who acts"), rows, (20, 55, 25))


def _page_one(
    report: CheckReport,
    cat: Catalogue,
    os_name: OsName,
    tz: dt.tzinfo | None,
    environment: Environment | None,
    redacted: bool,
) -> str:
    return "".join(
        [
            '<p class="muted" style="margin-bottom: 2px;">'
            "Handshake Doctor · TLS connection report</p>",
            f"<h1>{e(report.target.display())}</h1>",
            _banner(report, cat),
            _first_steps(report, cat, os_name),
            "<h3>Target</h3>",
            _facts(_target_rows(report, tz, environment, redacted)),
            "<h3>Findings at a glance</h3>",
            _glance(report, cat),
        ]
    )


# --------------------------------------------------------------------------- findings and fixes


def _evidence_value(value: EvidenceValue) -> str:
    if isinstance(value, tuple) and len(value) > 1:
        return "<br/>".join(e(item, limit=400) for item in value)
    return e(render_value(value))


def _finding(finding: Finding, cat: Catalogue) -> str:
    text = cat.finding(finding.id)
    out = [
        f"<h3>{_badge(finding.severity.value, e(cat.severity_label(finding.severity)))}"
        f"&nbsp; {e(text.title)}</h3>",
        f'<p class="muted">Who acts: {e(cat.actor_label(text.who_acts))} · '
        f'ID <span class="mono">{e(finding.id.value)}</span></p>',
        f"<p>{e(cat.detail(finding))}</p>",
    ]
    if finding.evidence:
        rows = [
            (f'<span class="mono">{e(key)}</span>', _evidence_value(value))
            for key, value in finding.evidence.items()
        ]
        out.append(_table(("Evidence", "Value"), rows, (28, 72)))
    fixes = cat.fix_ids_for(finding)
    if fixes:
        titles = ", ".join(e(cat.fix(fix_id).title) for fix_id in fixes)
        out.append(f'<p class="muted">Fixes: {titles}</p>')
    return "".join(out)


def _findings(report: CheckReport, cat: Catalogue) -> str:
    # With nothing found, the details follow page one directly instead of a near-empty page.
    out = [_h2("Findings", new_page=bool(report.findings))]
    if not report.findings:
        out.append(
            "<p>No problems were found: the handshake works and the certificate is valid.</p>"
        )
    out.extend(_finding(finding, cat) for finding in report.findings)
    for note in report.internal_errors:
        first = note.splitlines()[0] if note else ""
        out.append(f'<p class="muted">Internal error in one check: {e(first, limit=300)}</p>')
    return "".join(out)


def _fixes(report: CheckReport, cat: Catalogue, os_name: OsName) -> str:
    fixes = cat.ordered_fixes(report.findings)
    out = [_h2("What to do")]
    if not fixes:
        out.append("<p>Nothing needs fixing.</p>")
        return "".join(out)
    out.append(
        f'<p class="muted">In the order to try them. Steps for {e(cat.os_label(os_name))}, '
        "the system this report was made on; the site owner's steps follow each of theirs.</p>"
    )
    for number, fix in enumerate(fixes, 1):
        out.append(
            f"<h3>{number}. {e(fix.title)} "
            f'<span class="muted" style="font-weight: normal;">· {e(cat.actor_label(fix.who))}'
            "</span></h3>"
        )
        out.append(f"<p>{e(fix.why)}</p>")
        steps = fix.steps_for(os_name)
        if steps:
            out.append("<ol>" + "".join(f"<li>{e(step)}</li>" for step in steps) + "</ol>")
        for software, variant in fix.variants.items():
            where = "In" if fix.who is Actor.USER else "On"  # an app, or server software
            out.append(f"<h4>{where} {e(software)}</h4>")
            out.append("<ol>" + "".join(f"<li>{e(step)}</li>" for step in variant) + "</ol>")
    return "".join(out)


# --------------------------------------------------------------------------- handshake


def _handshake(report: CheckReport, ladder: ImageSlot | None) -> str:
    out = [_h2("The handshake")]
    note = load_catalogue().service_note(report.target)
    if note:
        out.append(f"<p>{e(note, limit=400)}</p>")
    out.append(_starttls_exchange(report))
    hs = report.handshake
    if hs is None:
        out.append("<p>No handshake took place: the connection failed before TLS could start.</p>")
    else:
        facts = [
            ("Result", "completed" if hs.ok else "failed"),
            ("Protocol", e(hs.protocol.human if hs.protocol else "none negotiated")),
            ("Cipher suite", e(hs.cipher or hs.cipher_openssl or "none negotiated")),
            ("Key agreement", e(hs.group or "—")),
            ("ALPN", e(hs.alpn or "none")),
        ]
        if hs.alert:
            facts.append(("Alert", e(hs.alert)))
        if hs.failure is not None:
            detail = f" ({e(hs.failure_detail, limit=300)})" if hs.failure_detail else ""
            facts.append(("Failure", e(hs.failure.value) + detail))
        if hs.certificate_requested:
            sent = "sent" if hs.client_certificate_sent else "none sent"
            facts.append(("Client certificate", f"asked for by the server; {sent}"))
        if hs.legacy_retry:
            facts.append(("Retry", "a second, permissive handshake fetched the certificate"))
        facts.append(("Took", _duration(hs.duration_ms)))
        out.append(_facts(facts, key_width=22))
        if ladder is not None:
            out.append(
                f'<p align="center" style="margin-top: 8px;"><img src="{e(ladder.url)}" '
                f'width="{ladder.width}" height="{ladder.height}" /></p>'
            )
        else:
            # The place for the picture of the handshake (the GUI fills it when it can draw).
            out.append('<p class="muted">(Handshake picture not available.)</p>')
        if hs.steps:
            details = [
                e(s.detail, limit=200) if _adds(s.detail, s.step.value) else "" for s in hs.steps
            ]
            head = ["Time", "Direction", "Message"] + (["Detail"] if any(details) else [])
            rows = [
                [f"+{step.t_ms:.1f} ms", e(_DIRECTION_ARROWS[step.direction]), e(step.step.value)]
                + ([detail] if any(details) else [])
                for step, detail in zip(hs.steps, details, strict=True)
            ]
            widths = (14, 18, 30, 38) if any(details) else (20, 30, 50)
            out.append("<h3>Messages, with times from the first byte sent</h3>")
            out.append(_table(head, rows, widths))
    if report.stages:
        stages = [
            (
                e(stage_name(stage.stage)),
                e(_STATUS_WORDS.get(stage.status, stage.status.value)),
                _duration(stage.duration_ms),
                e(stage_line(stage), limit=300),
            )
            for stage in report.stages
        ]
        out.append("<h3>What was checked</h3>")
        out.append(_table(("Step", "Result", "Time", "Summary"), stages, (21, 11, 9, 59)))
    return "".join(out)


def _starttls_exchange(report: CheckReport) -> str:
    """The plain-text exchange before TLS, line by line: the server's lines are a stranger's
    text, escaped like every other."""
    seen = report.starttls
    if seen is None or not seen.lines:
        return ""
    rows = [
        [f"+{line.t_ms:.1f} ms", e(_DIRECTION_ARROWS[line.direction]), e(line.text, limit=300)]
        for line in seen.lines[:60]
    ]
    name = PROTOCOL_NAMES[seen.protocol]
    return f"<h3>{e(name)} before TLS, as the server sent it</h3>" + _table(
        ("Time", "Direction", "Line"), rows, (14, 18, 68)
    )


# --------------------------------------------------------------------------- certificates


def _trust_line(report: CheckReport) -> str:
    trust = report.trust
    parts = []
    for key, value in (("mozilla", trust.mozilla), ("os", trust.os), ("custom", trust.custom)):
        word = "not consulted" if value is None else ("trusts it" if value else "does not")
        parts.append(f"{_STORE_NAMES[key]}: {word}")
    verdict = trust.os_verifier
    if verdict is not None:  # Windows and macOS only (core/os_verifier.py)
        word = {True: "trusts it", False: "does not", None: "gave no answer"}[verdict.trusted]
        parts.append(f"{verdict.verifier.split(' (')[0]} itself: {word}")
    return "; ".join(parts)


def _validity_note(cert: CertificateInfo, report: CheckReport) -> str:
    """Expired or not yet valid, by the reference clock when there is one: with a wrong local
    clock, a good certificate only *looks* out of date, and the report must not say otherwise."""

    def state(now: dt.datetime) -> str | None:
        if cert.not_after < now:
            return "expired"
        if cert.not_before > now:
            return "not yet valid"
        return None

    local = state(report.started_at)
    offset = report.clock.offset_s
    if offset is None:
        return f' <b style="color:#a50e0e;">({local} by this computer’s clock)</b>' if local else ""
    true = state(report.started_at - dt.timedelta(seconds=offset))
    if true:
        return f' <b style="color:#a50e0e;">({true})</b>'
    if local:
        return f" <b>(looks {local} only by this computer’s wrong clock)</b>"
    return ""


def _certificate(index: int, cert: CertificateInfo, report: CheckReport) -> str:
    if cert.sent_by_server:
        role = "server's certificate" if index == 0 else "sent by the server"
    else:
        role = "from a trust store" if cert.self_issued else "fetched or found locally"
    state = _validity_note(cert, report)
    stores = ", ".join(_STORE_NAMES.get(s, s) for s in cert.trusted_by)
    rows = [
        ("Subject", f"<b>{e(cert.subject)}</b>"),
        ("Issuer", e(cert.issuer)),
        ("Valid from", e(_date(cert.not_before))),
        ("Valid until", e(_date(cert.not_after)) + state),
        ("Names (SAN)", "<br/>".join(e(n, limit=300) for n in cert.san) or "none"),
        ("Key", e(cert.key)),
        ("Signature", e(cert.signature_algorithm)),
        ("SHA-256", f'<span class="mono">{e(_fingerprint(cert.sha256))}</span>'),
        ("SHA-1", f'<span class="mono">{e(_fingerprint(cert.sha1))}</span>'),
        ("Serial", f'<span class="mono">{e(cert.serial)}</span>'),
        ("CA", "yes" if cert.is_ca else "no"),
        ("Trust anchor in", e(stores) if stores else "none"),
    ]
    return f"<h3>{index + 1}. {e(role.capitalize())}</h3>" + _facts(rows, key_width=20)


def _chain(report: CheckReport) -> str:
    out = [_h2("Certificate chain")]
    if not report.certificates:
        out.append(
            "<p>No certificate was received: the connection failed before the server sent one.</p>"
        )
        return "".join(out)
    sent = sum(1 for c in report.certificates if c.sent_by_server)
    out.append(
        f"<p>The server sent {sent} certificate{'s' if sent != 1 else ''}; the list also shows "
        "where the chain was completed from. Trust: "
        f"{e(_trust_line(report))}.</p>"
    )
    rev = report.revocation
    if rev is not None:
        # The responder's address is a stranger's text: escaped like every certificate field.
        out.append(
            f"<p>Revocation (OCSP, asked at {e(rev.responder or 'no address', limit=200)}): "
            f"{e(rev.note, limit=300)}.</p>"
        )
    out.extend(_certificate(i, cert, report) for i, cert in enumerate(report.certificates))
    return "".join(out)


# --------------------------------------------------------------------------- protocols


def _protocols(report: CheckReport, cat: Catalogue) -> str:
    out = [_h2("Protocols, cipher suites and client profiles")]
    quick = report.options.quick
    if quick:
        out.append(
            "<p><b>Not tested:</b> this was a quick check (--quick), so only the one handshake "
            "was made; the versions and suites the server accepts were not enumerated.</p>"
        )
    versions = sorted(report.protocols)
    rows = [(e(v.label), e(_yes_no(report.protocols[v]))) for v in versions]
    if rows:
        out.append("<h3>Protocol versions the server accepts</h3>")
        out.append(_table(("Version", "Accepted"), rows, (40, 60)))
    out.append("<h3>Cipher suites</h3>")
    if report.ciphers:
        order = " (in the server's order of preference)" if report.server_preference else ""
        for version, suites in report.ciphers.items():
            listed = "<br/>".join(e(s) for s in suites) if suites else "none"
            out.append(f"<p><b>{e(version.label)}</b>{order}:</p>")
            out.append(f'<p class="mono" style="margin-left: 12px;">{listed}</p>')
    else:
        out.append("<p>Not tested.</p>")
    if report.groups:
        out.append(f"<p>Key agreement groups: {e(', '.join(report.groups))}</p>")
    if report.server_preference is not None:
        out.append(
            "<p>The server picks the cipher suite: "
            + ("yes (its own order)" if report.server_preference else "no (the client’s order)")
            + "</p>"
        )
    out.append("<h3>Client profiles</h3>")
    if report.clients:
        clients = [
            (
                e(c.name),
                "connects" if c.connects else "<b>fails</b>",
                e(c.protocol.human if c.protocol else "—"),
                f'<span class="mono">{e(c.cipher)}</span>'
                if c.cipher
                else e("—" if c.connects else why_not(c, cat, name=THIS_APP)),
            )
            for c in report.clients
        ]
        head = ("Client", "Result", "Protocol", "Cipher suite or reason")
        out.append(_table(head, clients, (27, 10, 11, 52)))
    else:
        out.append("<p>Not tested.</p>")
    return "".join(out)


# --------------------------------------------------------------------------- clock and environment


def _offset_words(report: CheckReport) -> str:
    clock = report.clock
    if clock.offset_s is None:
        return "unknown (no reference time)"
    text = f"{clock.offset_s:+.1f} s"
    if clock.uncertainty_s is not None:
        text += f" ± {clock.uncertainty_s:.1f} s"
    human = next(
        (
            f.evidence.get("offset_human")
            for f in report.findings
            if f.id is FindingId.CLOCK_SKEW and f.evidence.get("offset_human")
        ),
        None,
    )
    if human:
        text += f" (this computer's clock is {render_value(human)})"
    elif abs(clock.offset_s) <= 120:
        text += " (within the 2 minutes that matter)"
    return text


def _clock(report: CheckReport, tz: dt.tzinfo | None) -> str:
    clock = report.clock
    out = [_h2("Clock")]
    source = {
        ClockSource.NTP: "network time (NTP)",
        ClockSource.HTTP_DATE: "the server's HTTP Date header",
        ClockSource.NONE: "none could be had",
    }[clock.reference]
    rows = [
        (
            "This computer's time",
            "<br/>".join(e(t) for t in _fmt_time(clock.local_time, tz))
            if clock.local_time
            else "—",
        ),
        ("Reference time", e(_date(clock.reference_time)) if clock.reference_time else "—"),
        ("Offset (local − reference)", e(_offset_words(report))),
        ("Reference", e(source) + (f" · {e(clock.source)}" if clock.source else "")),
    ]
    if clock.notes:
        rows.append(("Tried", "<br/>".join(e(n, limit=300) for n in clock.notes)))
    out.append(_facts(rows))
    return "".join(out)


def _options_rows(report: CheckReport) -> list[tuple[str, str]]:
    opts = report.options
    # Only facts, never values: paths and the client key stay out of the report.
    network_time = (
        "not used (--no-network-time)"
        if opts.no_network_time
        else e(", ".join(visible(s, limit=100) for s in opts.time_servers))
    )
    return [
        ("Quick check (--quick)", _yes_no(opts.quick)),
        ("Gentle (--gentle)", _yes_no(opts.gentle)),
        ("Timeout per step", f"{opts.timeout:g} s"),
        ("Extra trust anchors (--ca-file)", "given" if opts.ca_file is not None else "none"),
        ("Default trust stores", "not used" if opts.no_default_trust else "used"),
        (
            "Client certificate",
            "given (its key is never shown)" if opts.client_credentials is not None else "none",
        ),
        ("Network time servers", network_time),
    ]


def _environment(report: CheckReport, environment: Environment | None) -> str:
    out = [_h2("Environment")]
    if environment is not None:
        out.append(_facts([(label, e(value)) for label, value in environment.rows()]))
    else:
        out.append("<p>Not collected.</p>")
    out.append("<h3>Options of this check</h3>")
    out.append(_facts(_options_rows(report)))
    return "".join(out)


def _appendix(report: CheckReport) -> str:
    sent = [c for c in report.certificates if c.sent_by_server]
    out = [_h2("Appendix: certificates as the server sent them (PEM)", new_page=bool(sent))]
    if not sent:
        out.append("<p>The server sent no certificate.</p>")
        return "".join(out)
    for index, cert in enumerate(sent, 1):
        out.append(f"<h3>{index}. {e(cert.subject, limit=300)}</h3>")
        out.append(f"<pre>{_lines(cert.pem.strip(), limit=_PEM_LIMIT)}</pre>")
    return "".join(out)


# --------------------------------------------------------------------------- the document


def build_report_html(
    report: CheckReport,
    *,
    environment: Environment | None = None,
    ladder: ImageSlot | None = None,
    local_tz: dt.tzinfo | None = None,
    os_name: OsName | None = None,
    catalogue: Catalogue | None = None,
    redacted: bool = False,
) -> ReportDocument:
    """The whole report. ``local_tz`` defaults to this computer's zone; ``os_name`` to the OS
    this runs on (its fix steps are shown); ``redacted`` only adds the note saying so (redact the
    report itself with ``core.redact.redact_report`` first)."""
    cat = catalogue or load_catalogue()
    os_choice = os_name or current_os()
    body = "".join(
        [
            _page_one(report, cat, os_choice, local_tz, environment, redacted),
            _findings(report, cat),
            _fixes(report, cat, os_choice),
            _handshake(report, ladder),
            _chain(report),
            _protocols(report, cat),
            _clock(report, local_tz),
            _environment(report, environment),
            _appendix(report),
        ]
    )
    title = f"Handshake Doctor report: {visible(report.target.display(), limit=120)}"
    html = (
        f'<html><head><meta charset="utf-8"/><title>{e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    left, right = header_text(report)
    return ReportDocument(title=title, header_left=left, header_right=right, html=html)
