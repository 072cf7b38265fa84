"""The handshake as a ladder diagram: your computer on the left, the server on the right, one
arrow per step with the real messages and times, the step where it failed marked.

``paint_ladder`` draws on any QPainter (the window's widget, an image for the PDF report), so
the picture in the report is the one on screen. ``ladder_rows`` is the pure part: it folds the
engine's recorded messages into the six steps a person can follow.

All text is drawn with ``QPainter.drawText``, which never reads markup; strings that come from
the server or a certificate still go through ``core.untrusted.visible`` so control and
bidirectional characters show as escapes instead of reordering the line.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPaintDevice,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.models import (
    CheckReport,
    Direction,
    HandshakeObservation,
    HandshakeStep,
    HandshakeStepKind,
    NetworkFailure,
    StageStatus,
    StarttlsLine,
)
from core.render.stages import stage_line
from core.target import PROTOCOL_NAMES
from core.untrusted import visible
from gui.theme import failure_colour, light_palette, muted

__all__ = [
    "LadderRow",
    "LadderWidget",
    "RowState",
    "ladder_height",
    "ladder_rows",
    "ladder_text",
    "paint_ladder",
    "render_ladder_image",
    "starttls_rows",
]


class RowState(enum.Enum):
    DONE = "done"
    FAILED = "failed"
    NOT_REACHED = "not-reached"


@dataclass(frozen=True)
class LadderRow:
    key: str
    title: str
    direction: Direction
    t_ms: float | None
    messages: tuple[str, ...]
    detail: str
    state: RowState


# The six steps, in the order TLS 1.2 takes them (TLS 1.3 swaps the two Finished).
_STEPS: tuple[tuple[str, str, Direction], ...] = (
    ("client-hello", "Client hello", Direction.CLIENT),
    ("server-hello", "Server hello", Direction.SERVER),
    ("certificate", "Certificate", Direction.SERVER),
    ("key-exchange", "Key exchange & certificate request", Direction.SERVER),
    ("client-finished", "Client finished", Direction.CLIENT),
    ("server-finished", "Server finished", Direction.SERVER),
)
_TITLES = {key: title for key, title, _ in _STEPS}
_DIRECTIONS = {key: direction for key, _, direction in _STEPS}

# The protocol's own names for the messages, as a network capture would show them.
_MESSAGE_NAMES: dict[HandshakeStepKind, str] = {
    HandshakeStepKind.CLIENT_HELLO: "ClientHello",
    HandshakeStepKind.SERVER_HELLO: "ServerHello",
    HandshakeStepKind.HELLO_RETRY_REQUEST: "HelloRetryRequest",
    HandshakeStepKind.ENCRYPTED_EXTENSIONS: "EncryptedExtensions",
    HandshakeStepKind.CERTIFICATE: "Certificate",
    HandshakeStepKind.CERTIFICATE_STATUS: "CertificateStatus",
    HandshakeStepKind.SERVER_KEY_EXCHANGE: "ServerKeyExchange",
    HandshakeStepKind.CERTIFICATE_REQUEST: "CertificateRequest",
    HandshakeStepKind.CERTIFICATE_VERIFY: "CertificateVerify",
    HandshakeStepKind.SERVER_HELLO_DONE: "ServerHelloDone",
    HandshakeStepKind.CLIENT_CERTIFICATE: "Certificate",
    HandshakeStepKind.CLIENT_KEY_EXCHANGE: "ClientKeyExchange",
    HandshakeStepKind.CLIENT_CERTIFICATE_VERIFY: "CertificateVerify",
    HandshakeStepKind.CHANGE_CIPHER_SPEC: "ChangeCipherSpec",
    HandshakeStepKind.FINISHED: "Finished",
    HandshakeStepKind.NEW_SESSION_TICKET: "NewSessionTicket",
    HandshakeStepKind.OTHER: "other message",
}


def _group(step: HandshakeStep) -> str | None:
    kind, client = step.step, step.direction is Direction.CLIENT
    if kind is HandshakeStepKind.CLIENT_HELLO:
        return "client-hello"
    if kind in (
        HandshakeStepKind.SERVER_HELLO,
        HandshakeStepKind.HELLO_RETRY_REQUEST,
        HandshakeStepKind.ENCRYPTED_EXTENSIONS,
    ):
        return "server-hello"
    if kind in (HandshakeStepKind.CERTIFICATE, HandshakeStepKind.CERTIFICATE_STATUS):
        return "certificate"
    if kind in (
        HandshakeStepKind.SERVER_KEY_EXCHANGE,
        HandshakeStepKind.CERTIFICATE_REQUEST,
        HandshakeStepKind.CERTIFICATE_VERIFY,
        HandshakeStepKind.SERVER_HELLO_DONE,
    ):
        return "key-exchange"
    if kind in (
        HandshakeStepKind.CLIENT_CERTIFICATE,
        HandshakeStepKind.CLIENT_KEY_EXCHANGE,
        HandshakeStepKind.CLIENT_CERTIFICATE_VERIFY,
    ):
        return "client-finished"
    if kind in (HandshakeStepKind.FINISHED, HandshakeStepKind.CHANGE_CIPHER_SPEC):
        return "client-finished" if client else "server-finished"
    if kind is HandshakeStepKind.NEW_SESSION_TICKET:
        return "server-finished"
    return None


def _detail(
    key: str, report: CheckReport, hs: HandshakeObservation, seen: Sequence[HandshakeStep]
) -> str:
    kinds = {s.step for s in seen}
    if key == "client-hello":
        name = report.target.sni
        return (
            f"asks for {visible(name, limit=80)}" if name else "offers versions and cipher suites"
        )
    if key == "server-hello":
        protocol = hs.protocol.human if hs.protocol else None
        parts = [visible(p, limit=80) for p in (protocol, hs.cipher) if p]
        if HandshakeStepKind.HELLO_RETRY_REQUEST in kinds:
            parts.append("asked the client to retry its hello")
        return ", ".join(parts) if parts else "chose a version and a cipher suite"
    if key == "certificate":
        sent = len(hs.chain_der) or sum(1 for c in report.certificates if c.sent_by_server)
        if not sent:
            return "the server's certificate chain"
        return f"{sent} certificate{'s' if sent != 1 else ''} sent"
    if key == "key-exchange":
        parts = []
        if hs.group:
            parts.append(f"key agreement {visible(hs.group, limit=40)}")
        if HandshakeStepKind.CERTIFICATE_REQUEST in kinds:
            parts.append("asks for your client certificate")
        if HandshakeStepKind.CERTIFICATE_VERIFY in kinds:
            parts.append("proves it holds the key")
        return "; ".join(parts) if parts else "keys agreed"
    if key == "client-finished":
        if HandshakeStepKind.CLIENT_CERTIFICATE in kinds:
            if hs.client_certificate_sent:
                return "sends your client certificate and confirms the handshake"
            return "has no client certificate to send; confirms the handshake"
        return "your computer confirms the handshake"
    return "the server confirms the handshake"


def _failure_text(hs: HandshakeObservation, timeout: float) -> str:
    failure = hs.failure
    if failure is NetworkFailure.HANDSHAKE_TIMEOUT:
        return f"no answer within {timeout:g} s"
    if failure is NetworkFailure.CONNECTION_RESET:
        return "the connection was closed"
    if failure is NetworkFailure.NOT_TLS:
        return "the answer was not TLS"
    if failure is NetworkFailure.CANCELLED:
        return "cancelled"
    detail = visible(hs.failure_detail, limit=120)
    return detail or "the handshake failed here"


def starttls_rows(report: CheckReport) -> list[LadderRow]:
    """The plain-text exchange before TLS, as the ladder's first rows: each command of ours one
    row, the server's lines after it one row (its first line, the rest below). The server's
    words are drawn as text (``visible``), never as markup; the last row of a failed exchange is
    marked where it broke off."""
    seen = report.starttls
    if seen is None:
        return []
    protocol = PROTOCOL_NAMES[seen.protocol]
    groups: list[list[StarttlsLine]] = []
    for line in seen.lines:
        if groups and groups[-1][0].direction is line.direction is Direction.SERVER:
            groups[-1].append(line)
        else:
            groups.append([line])
    rows: list[LadderRow] = []
    for index, group in enumerate(groups):
        first = group[0]
        if first.direction is Direction.CLIENT:
            title = visible(first.text, limit=80)
            detail = f"{protocol}, before TLS"
            messages: tuple[str, ...] = ()
        else:
            title = "Greeting" if index == 0 else "Reply"
            detail = visible(first.text, limit=160)
            messages = tuple(visible(line.text, limit=60) for line in group[1:])
        rows.append(
            LadderRow(
                "starttls", title, first.direction, first.t_ms, messages, detail, RowState.DONE
            )
        )
    if not seen.ok:
        why = visible(seen.detail, limit=120) or "the exchange broke off"
        last = rows[-1] if rows else None
        if last is not None and last.direction is Direction.SERVER:
            rows[-1] = LadderRow(
                last.key,
                "✗ " + last.title,
                last.direction,
                last.t_ms,
                last.messages,
                f"{last.detail} — {why}",
                RowState.FAILED,
            )
        else:
            rows.append(
                LadderRow(
                    "starttls",
                    "Greeting" if last is None else "Reply",
                    Direction.SERVER,
                    None,
                    (),
                    why,
                    RowState.FAILED,
                )
            )
    return rows


def ladder_rows(report: CheckReport) -> list[LadderRow]:
    """The steps to draw, in the order they happened; steps never seen come last. A STARTTLS
    service's exchange comes first, and the handshake's times then count from its start."""
    before = starttls_rows(report)
    hs = report.handshake
    if hs is None:
        return before
    rows = _handshake_rows(report, hs)
    if report.starttls is not None:
        shift = report.starttls.duration_ms
        rows = [
            LadderRow(
                r.key,
                r.title,
                r.direction,
                None if r.t_ms is None else round(r.t_ms + shift, 3),
                r.messages,
                r.detail,
                r.state,
            )
            for r in rows
        ]
    return before + rows


def _handshake_rows(report: CheckReport, hs: HandshakeObservation) -> list[LadderRow]:
    by_group: dict[str, list[HandshakeStep]] = {}
    alerts: list[HandshakeStep] = []
    for step in hs.steps:
        if step.step is HandshakeStepKind.ALERT:
            if "close_notify" not in step.detail:
                alerts.append(step)
            continue
        group = _group(step)
        if group is not None:
            by_group.setdefault(group, []).append(step)

    rows: list[LadderRow] = []
    for key, title, direction in _STEPS:
        seen = by_group.get(key)
        if not seen:
            continue
        rows.append(
            LadderRow(
                key=key,
                title=title,
                direction=direction,
                t_ms=seen[0].t_ms,
                messages=tuple(_MESSAGE_NAMES.get(s.step, s.step.value) for s in seen),
                detail=_detail(key, report, hs, seen),
                state=RowState.DONE,
            )
        )
    rows.sort(key=lambda r: r.t_ms if r.t_ms is not None else 0.0)

    for alert in alerts:
        who = "server" if alert.direction is Direction.SERVER else "client"
        name = alert.detail.replace("fatal ", "").replace("warning ", "")
        rows.append(
            LadderRow(
                key="alert",
                title=f"Alert from the {who}",
                direction=alert.direction,
                t_ms=alert.t_ms,
                messages=("Alert",),
                detail=f"ends the handshake: {visible(name, limit=80) or 'alert'}",
                state=RowState.FAILED,
            )
        )
    rows.sort(key=lambda r: r.t_ms if r.t_ms is not None else 0.0)

    failed = not hs.ok or bool(alerts) or hs.alert is not None
    missing = [key for key, _, _ in _STEPS if key not in by_group]
    for index, key in enumerate(missing):
        state = RowState.NOT_REACHED
        detail = "not reached"
        if index == 0 and not hs.ok and not alerts:
            state = RowState.FAILED
            detail = _failure_text(hs, report.options.timeout)
        elif not failed and hs.ok:
            detail = "not seen"
        rows.append(LadderRow(key, _TITLES[key], _DIRECTIONS[key], None, (), detail, state))
    return rows


def ladder_text(report: CheckReport) -> str:
    """The diagram in words, for screen readers and the clipboard."""
    rows = ladder_rows(report)
    if not rows:
        return _no_handshake_text(report)
    lines = []
    proxy = _proxy_of(report)
    if proxy is not None:
        lines.append(f"through the proxy {visible(proxy, limit=120)}, which relays every message")
    for row in rows:
        arrow = "→" if row.direction is Direction.CLIENT else "←"
        when = f"+{row.t_ms:.1f} ms" if row.t_ms is not None else "—"
        mark = {RowState.DONE: "", RowState.FAILED: "✗ ", RowState.NOT_REACHED: ""}[row.state]
        messages = f" ({', '.join(row.messages)})" if row.messages else ""
        lines.append(f"{when} {arrow} {mark}{row.title}{messages}: {row.detail}")
    return "\n".join(lines)


def _proxy_of(report: CheckReport) -> str | None:
    """The proxy between the two lanes (scheme://host:port, never credentials), if any."""
    proxy = report.route.proxy if report.route is not None else None
    return proxy.proxy if proxy is not None else None


def _no_handshake_text(report: CheckReport) -> str:
    for stage in report.stages:
        if stage.status is StageStatus.FAILED:
            why = visible(stage_line(stage), limit=160)
            return f"No handshake took place: the {stage.stage.value} step failed ({why})."
    return "No handshake took place."


# --------------------------------------------------------------------------- painting

_PAD = 12.0
_ARROW = 7.0


@dataclass(frozen=True)
class _Metrics:
    title: QFont
    small: QFont
    messages: QFont
    header_h: float
    row_h: float
    time_w: float


def _metrics(base: QFont, device: QPaintDevice | None = None) -> _Metrics:
    title = QFont(base)
    title.setBold(True)
    small = QFont(base)
    size = base.pointSizeF()
    if size > 0:
        small.setPointSizeF(max(6.0, size * 0.88))
    fm_title = QFontMetricsF(title, device) if device is not None else QFontMetricsF(title)
    fm_small = QFontMetricsF(small, device) if device is not None else QFontMetricsF(small)
    header_h = fm_title.height() * 2 + _PAD
    row_h = fm_title.height() + fm_small.height() * 2 + _PAD * 2.2
    time_w = fm_small.horizontalAdvance("+00000.0 ms") + _PAD
    messages = QFont(small)
    messages.setItalic(True)
    return _Metrics(title, small, messages, header_h, row_h, time_w)


def ladder_height(report: CheckReport, font: QFont, device: QPaintDevice | None = None) -> int:
    """The height the diagram needs at this font, whatever the width."""
    m = _metrics(font, device)
    rows = max(len(ladder_rows(report)), 2)
    return int(m.header_h + rows * m.row_h + _PAD * 2)


@dataclass(frozen=True)
class ArrowPlace:
    """Where one row's arrow is drawn: from ``start_x`` to ``end_x`` at height ``y`` (a message
    that never came stops short, at its cross)."""

    row: LadderRow
    y: float
    start_x: float
    end_x: float


@dataclass(frozen=True)
class LadderLayout:
    """The ladder's geometry in a rectangle at a font: the two lanes and every arrow. The
    painter draws from it, and a test can check the picture against it."""

    client_x: float
    server_x: float
    lanes_top: float
    arrows: tuple[ArrowPlace, ...]


_CLIENT_TITLE = "Your computer"
_SERVER_TITLE = "Server"


def ladder_layout(
    rect: QRectF, report: CheckReport, font: QFont, device: QPaintDevice | None = None
) -> LadderLayout:
    m = _metrics(font, device)
    fm_title = QFontMetricsF(m.title, device) if device is not None else QFontMetricsF(m.title)
    left = rect.left() + _PAD + m.time_w
    half_label = (
        max(fm_title.horizontalAdvance(_CLIENT_TITLE), fm_title.horizontalAdvance(_SERVER_TITLE))
        / 2
    )
    client_x = left + half_label
    server_x = rect.right() - _PAD - max(half_label, 40.0)
    if server_x - client_x < 120:  # very narrow: keep the lanes apart anyway
        server_x = client_x + 120
    lanes_top = rect.top() + m.header_h
    arrows = []
    for i, row in enumerate(ladder_rows(report)):
        y = lanes_top + i * m.row_h + _PAD * 0.6 + fm_title.height() + _PAD * 0.7
        start, end = (
            (client_x, server_x) if row.direction is Direction.CLIENT else (server_x, client_x)
        )
        if row.state is RowState.FAILED and row.key != "alert":
            end = start + (end - start) * 0.45
        arrows.append(ArrowPlace(row, y, start, end))
    return LadderLayout(client_x, server_x, lanes_top, tuple(arrows))


def paint_ladder(painter: QPainter, rect: QRectF, report: CheckReport, palette: QPalette) -> None:
    """Draw the ladder into ``rect`` with ``painter``'s font and ``palette``'s colours."""
    painter.save()
    try:
        _paint(painter, rect, report, palette)
    finally:
        painter.restore()


def _paint(painter: QPainter, rect: QRectF, report: CheckReport, palette: QPalette) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    base = palette.color(QPalette.ColorRole.Base)
    painter.fillRect(rect, base)
    m = _metrics(painter.font(), painter.device())
    text = palette.color(QPalette.ColorRole.Text)
    soft = muted(palette)
    bad = failure_colour(palette)
    lane_pen = QPen(palette.color(QPalette.ColorRole.Mid), 2.0)

    fm_title = QFontMetricsF(m.title, painter.device())
    layout = ladder_layout(rect, report, painter.font(), painter.device())
    client_x, server_x = layout.client_x, layout.server_x
    host = visible(report.target.display(), limit=120)

    # Lane headings.
    top = rect.top() + _PAD
    painter.setFont(m.title)
    painter.setPen(text)
    line_h = fm_title.height()
    for x, label in ((client_x, _CLIENT_TITLE), (server_x, _SERVER_TITLE)):
        painter.drawText(QRectF(x - 150, top, 300, line_h), Qt.AlignmentFlag.AlignCenter, label)
    painter.setFont(m.small)
    painter.setPen(soft)
    fm_small = QFontMetricsF(m.small, painter.device())
    host_w = min(rect.width() / 2, 320.0)
    shown_host = fm_small.elidedText(host, Qt.TextElideMode.ElideMiddle, host_w)
    host_x = min(server_x + host_w / 2, rect.right() - _PAD) - host_w
    painter.drawText(
        QRectF(host_x, top + line_h, host_w, line_h),
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        shown_host,
    )
    painter.drawText(
        QRectF(client_x - 150, top + line_h, 300, line_h), Qt.AlignmentFlag.AlignCenter, "client"
    )

    lanes_top = layout.lanes_top
    rows = [arrow.row for arrow in layout.arrows]
    bottom = lanes_top + max(len(rows), 2) * m.row_h + _PAD
    plain = sum(1 for row in rows if row.key == "starttls")
    if plain and report.starttls is not None:  # under the lanes, so they run through it
        _plain_text_band(painter, rect, m, lanes_top, plain, report, palette, soft)
    bottom = min(bottom, rect.bottom())
    painter.setPen(lane_pen)
    painter.drawLine(QPointF(client_x, lanes_top), QPointF(client_x, bottom))
    painter.drawLine(QPointF(server_x, lanes_top), QPointF(server_x, bottom))
    proxy = _proxy_of(report)
    if proxy is not None:
        # The proxy as a hop between the lanes: a dashed lane, its name at the top, and a dot
        # where each message passes through it.
        proxy_x = (client_x + server_x) / 2
        dashed = QPen(lane_pen)
        dashed.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        painter.drawLine(QPointF(proxy_x, lanes_top), QPointF(proxy_x, bottom))
        painter.setFont(m.title)
        painter.setPen(text)
        painter.drawText(
            QRectF(proxy_x - 150, top, 300, line_h), Qt.AlignmentFlag.AlignCenter, "Proxy"
        )
        painter.setFont(m.small)
        painter.setPen(soft)
        painter.drawText(
            QRectF(proxy_x - 150, top + line_h, 300, line_h),
            Qt.AlignmentFlag.AlignCenter,
            fm_small.elidedText(visible(proxy, limit=120), Qt.TextElideMode.ElideMiddle, 300),
        )

    if not rows:
        painter.setFont(m.title)
        painter.setPen(bad)
        box = QRectF(
            client_x + _PAD, lanes_top + _PAD, server_x - client_x - 2 * _PAD, m.row_h * 2 - _PAD
        )
        painter.drawText(
            box,
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            _no_handshake_text(report),
        )
        return

    span = server_x - client_x
    for i, place in enumerate(layout.arrows):
        row = place.row
        y0 = lanes_top + i * m.row_h
        colour = {RowState.DONE: text, RowState.FAILED: bad, RowState.NOT_REACHED: soft}[row.state]
        title = row.title
        if row.state is RowState.FAILED:
            title = "✗ " + title
        # Title above the arrow, detail below it.
        painter.setFont(m.title)
        painter.setPen(colour)
        inner = QRectF(client_x + _PAD, y0 + _PAD * 0.6, span - 2 * _PAD, fm_title.height())
        shown = fm_title.elidedText(title, Qt.TextElideMode.ElideRight, inner.width())
        if proxy is not None:
            _clear_behind(painter, inner, fm_title.horizontalAdvance(shown), base)
        painter.drawText(inner, Qt.AlignmentFlag.AlignCenter, shown)
        arrow_y = place.y
        _arrow(painter, place, colour)
        if proxy is not None and row.state is not RowState.NOT_REACHED:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(QPointF((client_x + server_x) / 2, arrow_y), 3.5, 3.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setFont(m.small)
        painter.setPen(colour if row.state is RowState.FAILED else soft)
        detail_box = QRectF(
            client_x + _PAD, arrow_y + _PAD * 0.5, span - 2 * _PAD, fm_small.height()
        )
        shown = fm_small.elidedText(row.detail, Qt.TextElideMode.ElideRight, detail_box.width())
        if proxy is not None:  # the detail and the messages below it, before either is drawn
            lines = 2 if row.messages else 1
            tall = QRectF(detail_box.topLeft(), detail_box.size()).adjusted(
                0, 0, 0, fm_small.height() * (lines - 1)
            )
            _clear_behind(painter, tall, fm_small.horizontalAdvance(shown) * 1.1, base)
        painter.drawText(detail_box, Qt.AlignmentFlag.AlignCenter, shown)
        if row.messages:
            painter.setFont(m.messages)
            painter.setPen(soft)
            messages = ", ".join(dict.fromkeys(row.messages))
            below = detail_box.translated(0, fm_small.height())
            shown = fm_small.elidedText(messages, Qt.TextElideMode.ElideRight, below.width())
            painter.drawText(below, Qt.AlignmentFlag.AlignCenter, shown)
        # The time, left of the client lane.
        when = f"+{row.t_ms:.1f} ms" if row.t_ms is not None else "—"
        painter.setFont(m.small)
        painter.setPen(soft if row.state is not RowState.FAILED else bad)
        painter.drawText(
            QRectF(
                rect.left() + _PAD * 0.5,
                arrow_y - fm_small.height() / 2,
                m.time_w - _PAD,
                fm_small.height(),
            ),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            when,
        )


def _plain_text_band(
    painter: QPainter,
    rect: QRectF,
    m: _Metrics,
    lanes_top: float,
    rows: int,
    report: CheckReport,
    palette: QPalette,
    soft: QColor,
) -> None:
    """The exchange before TLS on a tinted band, named at its top, with a line where TLS
    begins: as the proxy is a hop of its own, the plain-text part is a phase of its own."""
    assert report.starttls is not None
    band = QRectF(rect.left() + 1, lanes_top, rect.width() - 2, rows * m.row_h)
    tint = QColor(palette.color(QPalette.ColorRole.AlternateBase))
    tint.setAlpha(200)
    painter.fillRect(band, tint)
    painter.setFont(m.small)
    painter.setPen(soft)
    fm_small = QFontMetricsF(m.small, painter.device())
    name = PROTOCOL_NAMES[report.starttls.protocol]
    painter.drawText(
        QRectF(band.left() + _PAD * 0.5, band.top() + 2, m.time_w * 3, fm_small.height()),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        f"{name}, plain text",
    )
    if report.handshake is not None:
        pen = QPen(palette.color(QPalette.ColorRole.Mid), 1.0)
        pen.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(band.left(), band.bottom()), QPointF(band.right(), band.bottom()))
        painter.setPen(soft)
        painter.drawText(
            QRectF(band.left() + _PAD * 0.5, band.bottom() + 2, m.time_w * 3, fm_small.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            "TLS",
        )


def _clear_behind(painter: QPainter, box: QRectF, width: float, base: QColor) -> None:
    """Blank the proxy's lane behind a centred text, so the dashes never run through words."""
    centre = box.center().x()
    painter.fillRect(QRectF(centre - width / 2 - 3, box.top(), width + 6, box.height()), base)


def _arrow(painter: QPainter, place: ArrowPlace, colour: QColor) -> None:
    row, y, start, end = place.row, place.y, place.start_x, place.end_x
    pen = QPen(colour, 2.0 if row.state is not RowState.NOT_REACHED else 1.4)
    if row.state is RowState.NOT_REACHED:
        pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.drawLine(QPointF(start, y), QPointF(end, y))
    sign = 1.0 if end > start else -1.0
    if row.state is RowState.FAILED and row.key != "alert":
        # The expected message never came: its line stops short, ending in a cross.
        painter.setPen(QPen(colour, 2.4))
        painter.drawLine(QPointF(end - 5, y - 5), QPointF(end + 5, y + 5))
        painter.drawLine(QPointF(end - 5, y + 5), QPointF(end + 5, y - 5))
        return
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    head = QPolygonF(
        [
            QPointF(end, y),
            QPointF(end - sign * _ARROW * 1.6, y - _ARROW * 0.8),
            QPointF(end - sign * _ARROW * 1.6, y + _ARROW * 0.8),
        ]
    )
    painter.drawPolygon(head)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def render_ladder_image(
    report: CheckReport, width: int, *, device_pixel_ratio: float = 1.0
) -> QImage:
    """The ladder as an image ``width`` logical pixels wide on a white background, for the PDF
    report. Needs a QGuiApplication (offscreen is fine). ``device_pixel_ratio`` > 1 gives a
    sharper image of the same logical size."""
    from PySide6.QtGui import QGuiApplication

    font = QGuiApplication.font()
    probe = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
    height = ladder_height(report, font, probe)
    ratio = max(1.0, float(device_pixel_ratio))
    image = QImage(
        int(width * ratio), int(height * ratio), QImage.Format.Format_ARGB32_Premultiplied
    )
    image.setDevicePixelRatio(ratio)
    palette = light_palette()
    image.fill(palette.color(QPalette.ColorRole.Base))
    painter = QPainter(image)
    try:
        painter.setFont(font)
        paint_ladder(painter, QRectF(0, 0, width, height), report, palette)
    finally:
        painter.end()
    return image


class LadderWidget(QWidget):
    """Shows the ladder of the last report; tall enough for every row, as wide as it is given."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: CheckReport | None = None
        self.setAccessibleName("Handshake diagram")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(420)

    @property
    def report(self) -> CheckReport | None:
        return self._report

    def set_report(self, report: CheckReport | None) -> None:
        self._report = report
        self.setAccessibleDescription(ladder_text(report) if report is not None else "")
        self.setFixedHeight(self._height())
        self.update()

    def _height(self) -> int:
        if self._report is None:
            return 80
        return ladder_height(self._report, self.font(), self)

    def sizeHint(self) -> QSize:
        return QSize(640, self._height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            if self._report is None:
                painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
                painter.setPen(muted(self.palette()))
                painter.drawText(
                    QRectF(self.rect()),
                    Qt.AlignmentFlag.AlignCenter,
                    "The handshake appears here after a check.",
                )
                return
            paint_ladder(painter, QRectF(self.rect()), self._report, self.palette())
        finally:
            painter.end()
