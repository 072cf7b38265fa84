"""Small widgets used across the panes.

``plain_label`` is the one way text reaches a QLabel here: QLabel guesses whether text is rich
text, so a certificate subject such as ``<b>bold</b><img src=x>`` would become markup. Every label
is therefore fixed to plain text; rich text is used nowhere for strangers' strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QWidget,
)

from core.models import Severity
from gui import theme


def app_palette() -> QPalette:
    """The application's palette (the system's light or dark one), not a widget's own, which a
    style sheet may have recoloured."""
    app = QApplication.instance()
    return app.palette() if isinstance(app, QApplication) else QPalette()


def plain_label(
    text: str = "",
    parent: QWidget | None = None,
    *,
    wrap: bool = True,
    selectable: bool = False,
    muted: bool = False,
    bold: bool = False,
    scale: float = 1.0,
) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setText(text)
    if selectable:
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
    if bold or scale != 1.0:
        font = QFont(label.font())
        font.setBold(bold)
        if scale != 1.0 and font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale)
        label.setFont(font)
    if muted:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def set_text_colour(widget: QWidget, colour: QColor) -> None:
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, colour)
    palette.setColor(QPalette.ColorRole.Text, colour)
    widget.setPalette(palette)


def heading(text: str, parent: QWidget | None = None) -> QLabel:
    label = plain_label(text, parent, bold=True, scale=1.15)
    label.setAccessibleName(text)
    return label


def push_button(text: str, parent: QWidget, on_click: Callable[[], object]) -> QPushButton:
    """A button that calls ``on_click`` when clicked."""
    button = QPushButton(text, parent)
    button.clicked.connect(on_click)
    return button


def scroll_area(content: QWidget, parent: QWidget) -> QScrollArea:
    """``content`` in a frameless area that scrolls when the pane is too short for it."""
    scroll = QScrollArea(parent)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(content)
    return scroll


def list_and_details(
    parent: QWidget, items: QWidget, details: QWidget, stretch: tuple[int, int]
) -> QSplitter:
    """A pane's list (findings, certificates) on the left and the chosen item's details on the
    right, sharing the width by ``stretch``; neither side can be dragged away to nothing."""
    splitter = QSplitter(Qt.Orientation.Horizontal, parent)
    splitter.addWidget(items)
    splitter.addWidget(details)
    splitter.setStretchFactor(0, stretch[0])
    splitter.setStretchFactor(1, stretch[1])
    splitter.setChildrenCollapsible(False)
    return splitter


def hline(parent: QWidget | None = None) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def set_style_sheet(widget: QWidget, sheet: str) -> None:
    """Set ``sheet`` only when it changed: setting one re-polishes the widget and its children,
    and restyling runs on every palette event."""
    if sheet != widget.styleSheet():
        widget.setStyleSheet(sheet)


class RestylesWithPalette:
    """For a widget (mixed in before its Qt class) whose style sheet carries palette colours:
    ``restyle()`` recomputes the sheet (``_restyle``) after the system switched between light
    and dark. A widget with a style sheet gets no palette events then, so the main window calls
    restyle() itself; the event handler covers a standalone use."""

    def _restyle(self) -> None:
        raise NotImplementedError

    def restyle(self) -> None:
        self._restyle()

    def changeEvent(self, event: QEvent) -> None:
        # The Qt class after this mixin in the MRO has changeEvent; mypy cannot see it.
        super().changeEvent(event)  # type: ignore[misc]
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self._restyle()


class Badge(RestylesWithPalette, QLabel):
    """A short coloured tag, such as "You" or "The site owner"."""

    def __init__(
        self, text: str, level: Severity | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)
        self._level = level
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self._restyle()

    def set_level(self, level: Severity | None) -> None:
        self._level = level
        self._restyle()

    def _restyle(self) -> None:
        tone = theme.tone(self._level, app_palette())
        set_style_sheet(
            self,
            f"QLabel {{ color: {tone.foreground.name()}; background: {tone.background.name()};"
            f" border: 1px solid {tone.border.name()}; border-radius: 4px; padding: 1px 6px; }}",
        )


class ValidityBar(QWidget):
    """A certificate's validity period as a bar, with a marker at "now": green while valid,
    amber in its last 30 days, red outside it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._span: tuple[dt.datetime, dt.datetime, dt.datetime] | None = None
        self.setMinimumHeight(14)
        self.setMaximumWidth(360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Validity period")

    def set_span(self, not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime) -> None:
        self._span = (not_before, not_after, now)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, 14)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            paint_validity(
                painter, QRectF(self.rect()).adjusted(1, 2, -1, -2), self._span, self.palette()
            )
        finally:
            painter.end()


def validity_fraction(not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime) -> float:
    total = (not_after - not_before).total_seconds()
    if total <= 0:
        return 1.0
    return max(0.0, min(1.0, (now - not_before).total_seconds() / total))


def paint_validity(
    painter: QPainter,
    rect: QRectF,
    span: tuple[dt.datetime, dt.datetime, dt.datetime] | None,
    palette: QPalette,
) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    if span is None:
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(rect, 3, 3)
        return
    not_before, not_after, now = span
    fraction = validity_fraction(not_before, not_after, now)
    valid = not_before <= now <= not_after
    if not valid:
        colour = theme.failure_colour(palette)
    elif (not_after - now) < dt.timedelta(days=30):
        colour = QColor("#e37400") if not theme.is_dark(palette) else QColor("#fdd663")
    else:
        colour = theme.success_colour(palette)
    # The whole period in a pale tint of the state's colour, the part already used up in full.
    pale = QColor(colour)
    pale.setAlpha(80)
    painter.setBrush(pale)
    painter.drawRoundedRect(rect, 3, 3)
    used = QRectF(rect)
    used.setWidth(rect.width() * (fraction if valid else 1.0))
    if used.width() >= 1:
        painter.setBrush(colour)
        painter.drawRoundedRect(used, 3, 3)
    if valid:
        x = rect.left() + rect.width() * fraction
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawLine(int(x), int(rect.top()) - 1, int(x), int(rect.bottom()) + 1)
