"""The window and mail (and other STARTTLS) services: the address field takes ``smtp://`` and
friends, the STARTTLS step shows in the step list only for such services, and the ladder draws
the plain-text exchange before the handshake, the server's words as text."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core.models import Direction, StageId, StageStatus, StarttlsLine
from core.request import RequestSpec, validate
from gui.ladder import RowState, ladder_rows, ladder_text, render_ladder_image
from gui.stage_model import STAGE_ORDER
from gui.window import MainWindow
from tests.gui_checks import press_enter_and_wait
from tests.pki import Pki
from tests.service_servers import smtp_server
from tests.tls_servers import TlsConfig, make_server_context, tls_server

CHECK_TIMEOUT_MS = 15_000
MAIL = "mail.example"


@pytest.fixture
def window(open_window: Callable[[RequestSpec], MainWindow], root_file: Path) -> MainWindow:
    return open_window(
        RequestSpec(
            ca_file=str(root_file),
            no_network_time=True,
            quick=True,
            timeout=3.0,
            connect="127.0.0.1",
        )
    )


def run(qtbot: QtBot, win: MainWindow, host: str) -> str:
    win.form.host.setText(host)
    return press_enter_and_wait(qtbot, win, CHECK_TIMEOUT_MS)


def test_window_checks_a_mail_server_through_starttls(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    leaf = pki.leaf([MAIL])
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_server_context(TlsConfig([leaf, pki.intermediate], leaf), Path(tmp))
    row = STAGE_ORDER.index(StageId.STARTTLS)
    with smtp_server(ctx) as smtp:
        assert run(qtbot, window, f"smtp://{MAIL}:{smtp.port}") == "report"
    report = window.report
    assert report is not None
    # No time server here (--no-network-time), and a mail server has no HTTP Date: to offer.
    assert [f.id.value for f in report.findings] == ["clock-unverified"]
    assert report.starttls is not None and report.starttls.ok
    assert not window.stages.isRowHidden(row)
    assert window.stage_model.status(StageId.STARTTLS) is StageStatus.OK
    assert window.stage_model.summary(StageId.STARTTLS) == "SMTP STARTTLS accepted"
    # The ladder: the SMTP exchange first, then the handshake, in the order they happened.
    rows = ladder_rows(report)
    assert [r.key for r in rows[:5]] == ["starttls"] * 5
    assert rows[0].title == "Greeting" and rows[0].direction is Direction.SERVER
    assert rows[5].key == "client-hello"
    times = [r.t_ms for r in rows if r.t_ms is not None]
    assert times == sorted(times)
    text = ladder_text(report)
    assert "EHLO handshake-doctor.invalid" in text and "STARTTLS" in text
    # Drawn differently from the same handshake without the exchange before it.
    image = render_ladder_image(report, 900)
    bare = render_ladder_image(replace(report, starttls=None), 900)
    assert image.height() > bare.height()


def test_starttls_option_opens_the_window_with_the_service_url(window: MainWindow) -> None:
    """``handshake-doctor mx.example:2525 --starttls smtp`` shows as the URL that says so."""
    window.form.set_state(RequestSpec(host="mx.example:2525", starttls="smtp"))
    assert window.form.host.text() == "smtp://mx.example:2525"
    target = validate(window.form.state())[0]
    assert target.starttls is not None and target.starttls.value == "smtp"
    assert target.port == 2525
    window.form.set_state(RequestSpec(host="example.com"))
    assert window.form.host.text() == "example.com"


def test_the_starttls_step_is_hidden_for_a_web_site(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    leaf = pki.leaf(["localhost"])
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as site:
        assert run(qtbot, window, f"localhost:{site.port}") == "report"
    assert window.stages.isRowHidden(STAGE_ORDER.index(StageId.STARTTLS))
    assert window.stages.isRowHidden(STAGE_ORDER.index(StageId.PROXY))
    report = window.report
    assert report is not None and report.starttls is None
    assert all(r.key != "starttls" for r in ladder_rows(report))


def test_a_refused_starttls_is_the_failed_step(qtbot: QtBot, window: MainWindow, pki: Pki) -> None:
    leaf = pki.leaf([MAIL])
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_server_context(TlsConfig([leaf, pki.intermediate], leaf), Path(tmp))
    with smtp_server(ctx, refuse=True) as smtp:
        assert run(qtbot, window, f"smtp://{MAIL}:{smtp.port}") == "report"
    report = window.report
    assert report is not None
    assert [f.id.value for f in report.findings] == ["starttls-refused"]
    assert window.stage_model.status(StageId.STARTTLS) is StageStatus.FAILED
    assert window.stage_model.status(StageId.HANDSHAKE) is StageStatus.SKIPPED
    rows = ladder_rows(report)
    assert rows[-1].state is RowState.FAILED and "454" in rows[-1].detail
    # The banner names the cause with the server's own answer.
    assert "454 4.7.0" in window.banner.headline.text()


def test_hostile_server_lines_stay_text_in_the_ladder(window: MainWindow, pki: Pki) -> None:
    """A greeting with control and bidirectional characters is shown escaped, not obeyed."""
    leaf = pki.leaf([MAIL])
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_server_context(TlsConfig([leaf, pki.intermediate], leaf), Path(tmp))
    with smtp_server(ctx) as smtp:
        from core.diagnose import run_check

        target, options = validate(
            RequestSpec(
                host=f"smtp://{MAIL}:{smtp.port}",
                connect="127.0.0.1",
                quick=True,
                no_network_time=True,
                portal_url="none",
                timeout=3.0,
            )
        )
        report = run_check(target, options)
    assert report.starttls is not None
    evil = StarttlsLine(Direction.SERVER, "220 \u202eevil\x1b[2J<b>bold</b>", 0.0)
    hostile = replace(report, starttls=replace(report.starttls, lines=(evil,)))
    row = ladder_rows(hostile)[0]
    assert "\x1b" not in row.detail and "\u202e" not in row.detail
    assert "<b>bold</b>" in row.detail  # drawn with drawText: markup is just characters


def test_a_well_known_port_alone_says_so_in_the_window(
    qtbot: QtBot, window: MainWindow, pki: Pki
) -> None:
    """``mail.example:587`` typed without a scheme: SMTP is inferred from the port, and the
    handshake pane says so in the catalogue's words."""
    leaf = pki.leaf([MAIL])
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_server_context(TlsConfig([leaf, pki.intermediate], leaf), Path(tmp))
    with smtp_server(ctx) as smtp:
        window.form.build_options()
        window.form.connect_to.setText(f"127.0.0.1:{smtp.port}")
        assert run(qtbot, window, f"{MAIL}:587") == "report"
    assert window.stage_model.status(StageId.STARTTLS) is StageStatus.OK
    assert window.handshake.facts.text().startswith("Port 587 is the usual port of SMTP")
