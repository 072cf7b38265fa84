"""Clock: this computer's time, the reference time, the difference and where the reference came
from. A wrong clock makes good certificates look expired, so this pane is worth a glance."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from core.analyze.clock import SKEW_THRESHOLD_S, describe_offset
from core.catalogue import Catalogue
from core.models import CheckReport, ClockResult, ClockSource, FindingId, Severity
from core.untrusted import visible
from gui import theme
from gui.widgets import app_palette, heading, plain_label, set_text_colour

SOURCE_WORDS = {
    ClockSource.NTP: "a time server (NTP)",
    ClockSource.HTTP_DATE: "the server's own clock (the Date of its web reply)",
    ClockSource.NONE: "none",
}


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "unknown"
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def offset_words(clock: ClockResult) -> tuple[str, bool]:
    """("2 years behind", wrong?) for the offset; the uncertainty is part of the verdict."""
    if clock.offset_s is None:
        return "unknown", False
    offset = clock.offset_s
    uncertainty = clock.uncertainty_s or 0.0
    wrong = abs(offset) > SKEW_THRESHOLD_S + uncertainty
    if abs(offset) < 1:
        text = f"{offset:+.1f} s (about right)"
    elif not wrong:
        text = f"{offset:+.1f} s ({describe_offset(offset)}; close enough)"
    else:
        text = describe_offset(offset)
    if uncertainty >= 0.05:
        text += f", measured to ± {uncertainty:.1f} s"
    return text, wrong


class ClockPane(QWidget):
    def __init__(self, catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalogue = catalogue
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        self.verdict = heading("", self)
        self.verdict.setAccessibleName("Clock verdict")
        layout.addWidget(self.verdict)
        self.explanation = plain_label("", self, selectable=True)
        self.explanation.setAccessibleName("What this means")
        layout.addWidget(self.explanation)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("local", "This computer's clock"),
            ("reference", "Correct time (reference)"),
            ("offset", "Difference"),
            ("source", "Reference from"),
        ):
            value = plain_label("", self, selectable=True)
            value.setAccessibleName(label)
            self.fields[key] = value
            form.addRow(label, value)
        layout.addLayout(form)
        self.notes = plain_label("", self, muted=True, selectable=True)
        self.notes.setAccessibleName("Notes about the clock check")
        layout.addWidget(self.notes)
        layout.addStretch(1)
        self.set_report(None)

    def show_waiting(self, text: str) -> None:
        self.verdict.setText(text)

    def show_offline(self) -> None:
        """A certificate file was checked: no reference time was asked for."""
        self.set_report(None)
        self.verdict.setText("A certificate file check does not look at the clock.")

    def set_report(self, report: CheckReport | None) -> None:
        if report is None:
            self.verdict.setText(
                "Run a check to compare this computer's clock with the correct time."
            )
            set_text_colour(self.verdict, app_palette().color(app_palette().ColorRole.WindowText))
            for field in self.fields.values():
                field.setText("—")
            self.notes.setText("")
            self.explanation.setText("")
            self.explanation.hide()
            return
        finding = next(
            (
                f
                for f in report.findings
                if f.id in (FindingId.CLOCK_SKEW, FindingId.CLOCK_UNVERIFIED)
            ),
            None,
        )
        self.explanation.setText(
            visible(self.catalogue.detail(finding), limit=1500) if finding else ""
        )
        self.explanation.setVisible(finding is not None)
        clock = report.clock
        words, wrong = offset_words(clock)
        palette = app_palette()
        if clock.reference is ClockSource.NONE or clock.offset_s is None:
            self.verdict.setText("The clock could not be checked: no reference time was available.")
            set_text_colour(self.verdict, theme.tone(Severity.WARNING, palette).foreground)
        elif wrong:
            self.verdict.setText(f"This computer's clock is {describe_offset(clock.offset_s)}.")
            set_text_colour(self.verdict, theme.failure_colour(palette))
        else:
            self.verdict.setText("This computer's clock is right.")
            set_text_colour(self.verdict, theme.success_colour(palette))
        self.fields["local"].setText(_when(clock.local_time))
        self.fields["reference"].setText(_when(clock.reference_time))
        self.fields["offset"].setText(words)
        source = SOURCE_WORDS[clock.reference]
        if clock.source:
            source += f": {visible(clock.source, limit=200)}"
        self.fields["source"].setText(source)
        self.notes.setText("\n".join(visible(n, limit=400) for n in clock.notes))
