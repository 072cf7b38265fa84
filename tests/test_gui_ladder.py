"""The handshake ladder: the six steps from the recorded messages, the failing step marked, and
the image the PDF report embeds."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from pytestqt.qtbot import QtBot

from core.models import (
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
    LadderWidget,
    RowState,
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
    assert "TLSv1.3" in hello.detail and "TLS_AES_256_GCM_SHA384" in hello.detail
    assert hello.messages == ("ServerHello", "EncryptedExtensions")
    assert rows[0].t_ms == 0.1


def test_silent_server_marks_server_hello_as_the_failing_step() -> None:
    hs = HandshakeObservation(
        address="127.0.0.1",
        ok=False,
        steps=TLS13_STEPS[:1],
        failure=NetworkFailure.HANDSHAKE_TIMEOUT,
        failure_detail="the server accepted the connection but did not answer the ClientHello",
    )
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


def test_paint_ladder_draws_into_any_painter(qapp: object) -> None:
    image = QImage(500, 700, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    paint_ladder(painter, QRectF(0, 0, 500, 700), make_report(), light_palette())
    painter.end()
    assert image.pixelColor(2, 2).name() == "#ffffff"


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
