"""The verdict banner: one plain sentence naming the cause and who acts, in the colour of the
worst finding. The sentence is the catalogue's headline for the report's cause."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.catalogue import Catalogue
from core.models import CheckReport, Finding, Severity, Verdict
from core.render.for_client import AppWords, app_words
from core.untrusted import visible
from gui import theme
from gui.widgets import RestylesWithPalette, app_palette, plain_label, set_style_sheet

if TYPE_CHECKING:
    from core.inspect import InspectReport

OK_HEADLINE = "The secure connection works, and nothing needs fixing."
FILE_OK_HEADLINE = "The certificate chain in this file is valid."
_ICONS = {
    None: "✓",
    Severity.INFO: "✓",
    Severity.WARNING: "!",
    Severity.ERROR: "✗",
    Severity.CRITICAL: "✗",
}


class VerdictBanner(RestylesWithPalette, QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictBanner")
        self.setAccessibleName("Verdict")
        self._level: Severity | str | None = "neutral"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(12)
        self.icon = QLabel(self)
        self.icon.setTextFormat(Qt.TextFormat.PlainText)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.icon.setFixedWidth(34)
        font = self.icon.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.icon.setFont(font)
        self.icon.setAccessibleName("Verdict symbol")
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.setSpacing(3)
        self.headline = plain_label("", self, bold=True, scale=1.25, selectable=True)
        self.headline.setAccessibleName("Verdict headline")
        # Selectable for copying, but never the focus (a caret in the banner looks like a glitch).
        self.headline.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.subline = plain_label("", self)
        self.subline.setAccessibleName("Verdict details")
        texts.addWidget(self.headline)
        texts.addWidget(self.subline)
        layout.addLayout(texts, 1)
        self.show_idle()

    # -- states

    def show_idle(self) -> None:
        self._set("neutral", "", "Type a host name and press Enter to check it.", "")

    def show_running(self, where: str) -> None:
        self._set(
            "neutral", "…", f"Checking {visible(where, limit=200)}…", "This takes a second or two."
        )

    def show_cancelled(self, where: str) -> None:
        self._set("neutral", "—", f"The check of {visible(where, limit=200)} was cancelled.", "")

    def show_problem(self, sentence: str, detail: str = "") -> None:
        """Something stopped the check itself (not a finding about the server)."""
        self._set(Severity.ERROR, "✗", sentence, detail)

    def show_report(self, report: CheckReport, catalogue: Catalogue) -> None:
        """A check's verdict: the cause and who acts, the chosen app's words first, and where
        and how long."""
        took = report.duration_ms
        took_text = f"{took:.0f} ms" if took < 1000 else f"{took / 1000:.1f} s"
        self._show_verdict(
            report.verdict,
            report.cause,
            report.findings,
            catalogue,
            ok_headline=OK_HEADLINE,
            app=app_words(report, catalogue),
            where=f"checked {visible(report.target.display(), limit=200)} in {took_text}",
        )

    def show_inspected(self, result: InspectReport, name: str, catalogue: Catalogue) -> None:
        """A certificate file's verdict, worded like a check's; ``name`` is the file's name
        (a stranger's text: shown as plain text, shortened)."""
        self._show_verdict(
            result.verdict,
            result.cause,
            result.findings,
            catalogue,
            ok_headline=FILE_OK_HEADLINE,
            app=AppWords(),  # no app connected to anything: a file says nothing about apps
            where=f"checked {visible(name, limit=120)} offline",
        )

    def _show_verdict(
        self,
        verdict: Verdict,
        cause: Finding | None,
        findings: Sequence[Finding],
        catalogue: Catalogue,
        *,
        ok_headline: str,
        app: AppWords,
        where: str,
    ) -> None:
        level: Severity | None = None if verdict is Verdict.OK else Severity(verdict.value)
        if cause is None or verdict is Verdict.OK:
            headline = ok_headline
            if cause is not None:  # only notes: name them quietly
                headline += " " + catalogue.title(cause) + "."
            who = ""
        else:
            headline = catalogue.headline(cause)
            who = "Who acts: " + catalogue.actor_label(catalogue.finding(cause.id).who_acts)
        lead: list[str] = []
        if app.headline:
            # The app that showed the error first; the cause's own sentence after it.
            lead = (
                [app.others, headline]
                if cause is not None and verdict is not Verdict.OK
                else [app.others]
            )
            headline = app.headline
        elif app.others:
            lead = [app.others]
        count = sum(1 for f in findings if f.severity.rank >= Severity.WARNING.rank)
        facts = [who] if who else []
        facts.append(
            f"{count} thing{'s' if count != 1 else ''} to look at" if count else "no problems found"
        )
        facts.append(where)
        line = " · ".join(facts)
        line = line[:1].upper() + line[1:]
        told = [visible(part, limit=400) for part in lead if part]
        if told:
            line = "\n".join([*told, line])
        self._set(level, _ICONS[level], visible(headline, limit=600), line)

    # -- painting

    @property
    def level(self) -> Severity | str | None:
        return self._level

    def _set(self, level: Severity | str | None, icon: str, headline: str, subline: str) -> None:
        self._level = level
        self.icon.setText(icon)
        self.headline.setText(headline)
        self.subline.setText(subline)
        self.subline.setVisible(bool(subline))
        self.setAccessibleDescription(f"{headline} {subline}".strip())
        self._restyle()

    def _restyle(self) -> None:
        palette = app_palette()
        if self._level == "neutral":
            fg = palette.color(palette.ColorRole.WindowText).name()
            bg = palette.color(palette.ColorRole.AlternateBase).name()
            border = palette.color(palette.ColorRole.Mid).name()
        else:
            tone = theme.tone(self._level if isinstance(self._level, Severity) else None, palette)
            fg, bg, border = tone.foreground.name(), tone.background.name(), tone.border.name()
        set_style_sheet(
            self,
            f"QFrame#verdictBanner {{ background: {bg}; border: 1px solid {border};"
            f" border-radius: 8px; }}"
            f" QFrame#verdictBanner QLabel {{ color: {fg}; background: transparent; }}",
        )
