"""Colours that follow the system palette: one tone per severity, readable in light and dark.

Severity colours are fixed hues (green, blue, amber, red) but their lightness is picked for the
current palette, so a red banner is a dark red on a light window and a soft red on a dark one.
Everything else (text, lines, muted text) comes straight from the palette.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette

from core.models import Severity, Verdict
from core.render.tones import LIGHT_TONES


@dataclass(frozen=True)
class Tone:
    """Foreground (text, icons), background (banner fill) and border of one severity."""

    foreground: QColor
    background: QColor
    border: QColor


# (foreground, background, border): the light tones are the PDF's too (core.render.tones); the
# dark ones are the window's own.
_LIGHT = LIGHT_TONES
_DARK: dict[str, tuple[str, str, str]] = {
    "ok": ("#a8dab5", "#1e3a26", "#3c7a4d"),
    "info": ("#aecbfa", "#1c2b41", "#3b5f99"),
    "warning": ("#fde293", "#3d3214", "#8a6d1f"),
    "error": ("#f6aea9", "#4a1f1c", "#a8453d"),
    "critical": ("#ffffff", "#8c1d18", "#d9534f"),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _key(level: Severity | Verdict | None) -> str:
    if level is None:
        return "ok"
    return str(level.value)


def tone(level: Severity | Verdict | None, palette: QPalette) -> Tone:
    """The tone for a severity or verdict (``None`` and ``Verdict.OK`` are "all good")."""
    table = _DARK if is_dark(palette) else _LIGHT
    fg, bg, border = table[_key(level)]
    return Tone(QColor(fg), QColor(bg), QColor(border))


def muted(palette: QPalette) -> QColor:
    """Secondary text: the palette's placeholder colour, which both light and dark themes set."""
    return palette.color(QPalette.ColorRole.PlaceholderText)


def failure_colour(palette: QPalette) -> QColor:
    return tone(Severity.ERROR, palette).foreground if is_dark(palette) else QColor("#c5221f")


def success_colour(palette: QPalette) -> QColor:
    return tone(None, palette).foreground if is_dark(palette) else QColor("#188038")


def light_palette() -> QPalette:
    """A fixed light palette for images that go on paper (the PDF report)."""
    palette = QPalette(QColor("#f3f3f3"), QColor("#ffffff"))
    for role, colour in (
        (QPalette.ColorRole.WindowText, "#202124"),
        (QPalette.ColorRole.Text, "#202124"),
        (QPalette.ColorRole.Base, "#ffffff"),
        (QPalette.ColorRole.Window, "#ffffff"),
        (QPalette.ColorRole.Mid, "#9aa0a6"),
        (QPalette.ColorRole.PlaceholderText, "#5f6368"),
        (QPalette.ColorRole.Highlight, "#1a73e8"),
    ):
        palette.setColor(role, QColor(colour))
    return palette
