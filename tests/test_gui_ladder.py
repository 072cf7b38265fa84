"""The handshake ladder: the six steps from the recorded messages, the failing step marked, and
the image the PDF report embeds."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from pytestqt.qtbot import QtBot

from core.models import (
    CheckReport,
    Direction,
    HandshakeObservation,
    HandshakeStep,
    HandshakeStepKind,
    NetworkFailure,
    StageId,
    StageOutcome,
    StageResult,
    StageStatus,
    stage_facts,
)
from gui.ladder import (
    LadderLayout,
    LadderWidget,
    RowState,
    ladder_layout,
    ladder_rows,
    ladder_text,
    paint_ladder,
    render_ladder_image,
)
from gui.theme import light_palette
from tests.test_gui_support import TLS13_STEPS, make_report


def test_tls13_rows_are_the_six_steps_in_the_order_they_happened() -> None:
    rows = ladder_rows(make_report())
    assert [r.key for r in rows] == [
        "client-hello",
        "server-hello",
        "certificate",
        "key-exchange",
        "server-finished",  # TLS 1.3: the server finishes first
        "client-finished",
    ]
    assert all(r.state is RowState.DONE for r in rows)
    hello = rows[1]
    assert "TLS 1.3" in hello.detail and "TLS_AES_256_GCM_SHA384" in hello.detail
    assert hello.messages == ("ServerHello", "EncryptedExtensions")
    assert rows[0].t_ms == 0.1


def _silent_handshake() -> HandshakeObservation:
    """A server that takes the connection and never answers the ClientHello."""
    return HandshakeObservation(
        address="127.0.0.1",
        ok=False,
        steps=TLS13_STEPS[:1],
        failure=NetworkFailure.HANDSHAKE_TIMEOUT,
        failure_detail="the server accepted the connection but did not answer the ClientHello",
    )


def test_silent_server_marks_server_hello_as_the_failing_step() -> None:
    hs = _silent_handshake()
    rows = ladder_rows(make_report(handshake=hs, certificates=()))
    states = {r.key: r.state for r in rows}
    assert states["client-hello"] is RowState.DONE
    assert states["server-hello"] is RowState.FAILED
    assert "no answer within 2 s" in rows[1].detail
    assert all(states[k] is RowState.NOT_REACHED for k in ("certificate", "client-finished"))


def test_alert_is_its_own_failed_row() -> None:
    steps = (
        HandshakeStep(HandshakeStepKind.CLIENT_HELLO, Direction.CLIENT, 0.1),
        HandshakeStep(HandshakeStepKind.ALERT, Direction.SERVER, 0.4, "fatal protocol_version"),
    )
    hs = HandshakeObservation(
        address="127.0.0.1",
        ok=False,
        steps=steps,
        failure=NetworkFailure.TLS_ALERT,
        alert="protocol_version",
    )
    rows = ladder_rows(make_report(handshake=hs, certificates=()))
    assert rows[1].key == "alert"
    assert rows[1].state is RowState.FAILED
    assert "protocol_version" in rows[1].detail
    assert "✗ Alert from the server" in ladder_text(make_report(handshake=hs, certificates=()))


def test_no_handshake_says_which_step_failed() -> None:
    report = make_report(
        handshake=False,
        certificates=(),
        stages=(
            StageResult(
                StageId.RESOLVE,
                StageStatus.OK,
                0.1,
                StageOutcome.RESOLVE_IP_LITERAL,
                stage_facts(address="127.0.0.1"),
            ),
            StageResult(StageId.CONNECT, StageStatus.FAILED, 0.3, StageOutcome.CONNECT_FAILED),
        ),
    )
    assert ladder_rows(report) == []
    assert "connect step failed (no address connected)" in ladder_text(report)


def test_render_ladder_image_has_the_width_asked_and_is_not_blank(qapp: object) -> None:
    image = render_ladder_image(make_report(), 640)
    assert image.width() == 640
    assert image.height() > 300
    colours = {image.pixel(x, y) for x in range(0, 640, 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 3  # lines and text were drawn, not just the background
    sharp = render_ladder_image(make_report(), 640, device_pixel_ratio=2)
    assert sharp.width() == 1280
    assert sharp.deviceIndependentSize().width() == 640


def _drawn(report: CheckReport) -> tuple[QImage, LadderLayout, QColor]:
    """The ladder painted into a plain image, with the layout it was painted from."""
    palette = light_palette()
    image = QImage(700, 800, QImage.Format.Format_ARGB32)
    rect = QRectF(0, 0, 700, 800)
    painter = QPainter(image)
    paint_ladder(painter, rect, report, palette)
    layout = ladder_layout(rect, report, painter.font(), painter.device())
    painter.end()
    return image, layout, palette.color(QPalette.ColorRole.Base)


def _inked(image: QImage, x: float, y: float, background: QColor) -> bool:
    """Anything but the background within a pixel of (x, y): antialiasing spreads a line."""
    return any(
        image.pixelColor(round(x) + dx, round(y) + dy) != background
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    )


def test_paint_ladder_draws_each_arrow_where_its_layout_says(qapp: object) -> None:
    """Every message is an arrow from its sender's lane towards the other one, with its head at
    the receiver; nothing is drawn on the lanes' far side of an arrow's head."""
    image, layout, background = _drawn(make_report())
    assert image.pixelColor(2, 2) == background
    assert [a.row.key for a in layout.arrows] == [r.key for r in ladder_rows(make_report())]
    for arrow in layout.arrows:
        sender = layout.client_x if arrow.row.direction is Direction.CLIENT else layout.server_x
        assert arrow.start_x == sender
        for part in (0.2, 0.5, 0.8):  # the shaft, all the way
            x = arrow.start_x + (arrow.end_x - arrow.start_x) * part
            assert _inked(image, x, arrow.y, background), (arrow.row.key, part)
        # The head is wider than the shaft, just before the receiving lane.
        inward = -1 if arrow.end_x > arrow.start_x else 1
        assert _inked(image, arrow.end_x + inward * 6, arrow.y + 4, background), arrow.row.key


def test_a_message_that_never_came_stops_short_at_a_cross(qapp: object) -> None:
    hs = _silent_handshake()
    image, layout, background = _drawn(make_report(handshake=hs, certificates=()))
    hello = next(a for a in layout.arrows if a.row.key == "server-hello")
    assert hello.row.state is RowState.FAILED
    full = layout.client_x - layout.server_x
    assert hello.end_x == layout.server_x + full * 0.45
    assert _inked(image, hello.end_x + 4, hello.y + 4, background)  # the cross
    # Past the cross, towards this computer's lane, the line does not go on.
    assert not _inked(image, layout.server_x + full * 0.7, hello.y, background)


def test_ladder_strings_from_the_server_are_not_markup(qapp: object) -> None:
    hs = dataclasses.replace(
        make_report().handshake,  # type: ignore[arg-type]
        cipher="<b>bold</b>\x1b[31m",
    )
    text = ladder_text(make_report(handshake=hs))
    assert "<b>bold</b>\\x1b[31m" in text


def test_widget_grows_to_fit_every_row(qtbot: QtBot) -> None:
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.set_report(make_report())
    assert widget.height() >= widget.sizeHint().height() > 300
    assert "Client hello" in widget.accessibleDescription()
    widget.resize(700, widget.height())
    widget.grab()  # paints without warnings
