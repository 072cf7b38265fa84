"""Fix it: the guided checklist. The fixes the findings call for, in the order to try them, with
the steps for this computer's OS (switchable), a tick per step, buttons that open the right
settings page or copy a snippet, and "Check again", which reruns and says what changed.

Every word about a fix comes from the catalogue. Settings pages open through QDesktopServices
(URIs) or QProcess.startDetached (an argument list, never a shell).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QProcess, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import Actor, Catalogue, FixAction, FixText, OsName, current_os
from core.models import CheckReport, Finding, Severity
from core.untrusted import visible
from gui.launch import plan
from gui.widgets import Badge, heading, plain_label, scroll_area

_ACTOR_LEVEL = {
    Actor.USER: Severity.INFO,
    Actor.SITE_OWNER: Severity.WARNING,
    Actor.NETWORK_ADMIN: None,
}


def open_uri(uri: str) -> bool:
    return bool(QDesktopServices.openUrl(QUrl(uri)))


def start_command(argv: Sequence[str]) -> bool:
    if not argv:
        return False
    result = QProcess.startDetached(argv[0], list(argv[1:]))
    return bool(result[0] if isinstance(result, tuple) else result)


def describe_changes(
    before: Sequence[Finding], after: Sequence[Finding], catalogue: Catalogue
) -> str:
    """What "Check again" found, in plain words."""
    old = {f.id: f for f in before if f.severity.rank >= Severity.WARNING.rank}
    new = {f.id: f for f in after if f.severity.rank >= Severity.WARNING.rank}
    fixed = [catalogue.title(old[i]) for i in old if i not in new]
    still = [catalogue.title(new[i]) for i in new if i in old]
    added = [catalogue.title(new[i]) for i in new if i not in old]
    parts = []
    if fixed:
        parts.append("Fixed: " + "; ".join(fixed) + ".")
    if still:
        parts.append("Still to fix: " + "; ".join(still) + ".")
    if added:
        parts.append("New: " + "; ".join(added) + ".")
    if not parts:
        return "Checked again: still nothing to fix."
    if not new:
        parts.append("Everything that was wrong is fixed now.")
    return "Since the last check — " + " ".join(visible(p, limit=600) for p in parts)


class FixCard(QFrame):
    """One fix: who acts, why, numbered steps with ticks, and its buttons."""

    def __init__(
        self,
        number: int,
        fix: FixText,
        os_name: OsName,
        catalogue: Catalogue,
        done: dict[tuple[str, str, int], bool],
        pane: FixItPane,
    ) -> None:
        super().__init__(pane)
        self.fix = fix
        self.os_name = os_name
        self.setObjectName("fixCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(f"Fix {number}: {fix.title}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)

        top = QHBoxLayout()
        title = heading(f"{number}. {fix.title}", self)
        top.addWidget(title, 1)
        self.who = Badge(catalogue.actor_label(fix.who), _ACTOR_LEVEL.get(fix.who), self)
        self.who.setAccessibleName(f"Who acts: {catalogue.actor_label(fix.who)}")
        top.addWidget(self.who, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addWidget(plain_label(fix.why, self, muted=False))

        steps = fix.steps_for(os_name)
        self.checks: list[QCheckBox] = []
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(2, 1)
        for i, step in enumerate(steps):
            key = (fix.id.value, os_name.value, i)
            check = QCheckBox(self)
            check.setAccessibleName(f"Step {i + 1} done")
            check.setToolTip("Tick when done")
            check.setChecked(done.get(key, False))
            check.toggled.connect(lambda on, k=key: pane.mark_done(k, on))
            number_label = plain_label(f"{i + 1}.", self, wrap=False)
            text = plain_label(step, self, selectable=True)
            check.setAccessibleDescription(step)
            grid.addWidget(check, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(number_label, i, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, i, 2)
            self.checks.append(check)
        layout.addLayout(grid)

        # An action with nothing to open on this OS is not shown at all (a Linux desktop has no
        # certificate manager of its own, for one); a button must open the right place.
        actions = fix.actions_for(os_name)
        if actions:
            row = QHBoxLayout()
            for action in actions:
                row.addWidget(self._action_button(action, os_name, catalogue, pane))
            row.addStretch(1)
            layout.addLayout(row)

        if fix.variants:
            layout.addWidget(self._variants(fix, pane))

    def _action_button(
        self, action: FixAction, os_name: OsName, catalogue: Catalogue, pane: FixItPane
    ) -> QPushButton:
        button = QPushButton(action.label.replace("&", "&&"), self)  # "&" is not a mnemonic here
        button.setAccessibleName(action.label)
        target = action.target_for(os_name)
        here = os_name is current_os()
        if target is None:
            button.setEnabled(False)
            button.setToolTip(f"Not available on {catalogue.os_label(os_name)}.")
        elif action.kind == "copy-text":
            button.setToolTip("Copies: " + target)
            button.clicked.connect(lambda: pane.copy_text(target, action.label))
        elif not here:
            button.setEnabled(False)
            button.setToolTip(f"This opens the settings on {catalogue.os_label(os_name)} only.")
        else:
            button.clicked.connect(lambda: pane.run_action(action, os_name))
        return button

    def _variants(self, fix: FixText, pane: FixItPane) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        row = QHBoxLayout()
        # A site owner's variants are server software; a user's are the apps they use.
        for_user = fix.who is Actor.USER
        where = "In your app:" if for_user else "On the server:"
        row.addWidget(plain_label(where, box, wrap=False))
        combo = QComboBox(box)
        combo.setAccessibleName("Your app" if for_user else "Server software")
        combo.addItems(list(fix.variants))
        row.addWidget(combo)
        copy = QPushButton("Copy these steps", box)
        copy.setAccessibleName("Copy the app's steps" if for_user else "Copy the server steps")
        row.addWidget(copy)
        row.addStretch(1)
        layout.addLayout(row)
        text = plain_label("", box, selectable=True)
        text.setAccessibleName("Steps for the app" if for_user else "Steps for the server software")
        layout.addWidget(text)

        def show(name: str) -> None:
            steps = fix.variants.get(name, ())
            text.setText("\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)))

        combo.currentTextChanged.connect(show)
        copy.clicked.connect(
            lambda: pane.copy_text(text.text(), f"the steps for {combo.currentText()}")
        )
        show(combo.currentText())
        self.variant_combo = combo
        self.variant_text = text
        return box


class FixItPane(QWidget):
    checkAgain = Signal()
    status = Signal(str)

    def __init__(self, catalogue: Catalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalogue = catalogue
        self.os_name = current_os()
        self.findings: tuple[Finding, ...] = ()
        self.done: dict[tuple[str, str, int], bool] = {}
        self.cards: list[FixCard] = []
        # Replaced in tests, so no settings page opens during a test run.
        self.open_uri: Callable[[str], bool] = open_uri
        self.start_command: Callable[[Sequence[str]], bool] = start_command

        top = QHBoxLayout()
        top.addWidget(heading("What to do, in order", self), 1)
        top.addWidget(plain_label("Steps for:", self, wrap=False))
        self.os_combo = QComboBox(self)
        self.os_combo.setAccessibleName("Operating system for the steps")
        for os_name in OsName:
            self.os_combo.addItem(catalogue.os_label(os_name), os_name.value)
        self.os_combo.setCurrentIndex(list(OsName).index(self.os_name))
        self.os_combo.currentIndexChanged.connect(self._os_changed)
        top.addWidget(self.os_combo)
        self.again = QPushButton("Check again", self)
        self.again.setAccessibleName("Check again")
        self.again.setToolTip("Run the same check again and see what changed (Ctrl+R)")
        self.again.clicked.connect(self.checkAgain)
        self.again.setEnabled(False)
        top.addWidget(self.again)

        self.changes = plain_label("", self)
        self.changes.setAccessibleName("What changed")
        self.changes.hide()
        self.intro = plain_label("", self, muted=True)

        self.list_widget = QWidget(self)
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(12)
        scroll = scroll_area(self.list_widget, self)
        self.scroll_area = scroll

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.changes)
        layout.addWidget(self.intro)
        layout.addWidget(scroll, 1)
        self.set_report(None)

    # -- content

    def set_report(self, report: CheckReport | None) -> None:
        self.set_findings(report.findings if report is not None else None)

    def set_findings(self, findings: Sequence[Finding] | None) -> None:
        """The checklist for a check's or a certificate file's findings; None: nothing was
        checked yet (and "Check again" has nothing to repeat)."""
        self.findings = tuple(findings) if findings is not None else ()
        self.again.setEnabled(findings is not None)
        self._rebuild()

    def show_waiting(self, text: str) -> None:
        self.intro.setText(text)

    def fixes(self) -> tuple[FixText, ...]:
        return self.catalogue.ordered_fixes(self.findings)

    def _rebuild(self) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        while self.list_layout.count():
            item = self.list_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        fixes = self.fixes()
        if not self.findings and not fixes:
            self.intro.setText("Run a check; if something needs fixing, the steps appear here.")
        elif not fixes:
            self.intro.setText("Nothing needs fixing.")
        else:
            counts: dict[Actor, int] = {}
            for fix in fixes:
                counts[fix.who] = counts.get(fix.who, 0) + 1
            who = ", ".join(
                f"{n} for {self.catalogue.actor_label(actor)[:1].lower()}"
                f"{self.catalogue.actor_label(actor)[1:]}"
                for actor, n in counts.items()
            )
            self.intro.setText(
                f"Try these in order ({who}); tick each step as you go, then press Check again."
            )
        for number, fix in enumerate(fixes, 1):
            card = FixCard(number, fix, self.os_name, self.catalogue, self.done, self)
            self.cards.append(card)
            self.list_layout.addWidget(card)
        self.list_layout.addStretch(1)

    def _os_changed(self, index: int) -> None:
        try:
            self.os_name = OsName(str(self.os_combo.itemData(index)))
        except ValueError:
            return
        self._rebuild()

    def show_changes(self, before: Sequence[Finding], after: Sequence[Finding]) -> None:
        text = describe_changes(before, after, self.catalogue)
        self.changes.setText(text)
        self.changes.show()
        self.status.emit(text)

    def clear_changes(self) -> None:
        self.changes.hide()
        self.changes.setText("")

    # -- actions

    def mark_done(self, key: tuple[str, str, int], done: bool) -> None:
        self.done[key] = done

    def copy_text(self, text: str, what: str) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(text)
        self.status.emit(f"Copied {what[:1].lower() + what[1:]}.")

    def run_action(self, action: FixAction, os_name: OsName) -> None:
        launch = plan(action, os_name)
        ok = False
        if launch is not None and launch.how == "uri":
            ok = self.open_uri(str(launch.target))
        elif launch is not None:
            ok = self.start_command(tuple(launch.target))
        if ok:
            self.status.emit(f"Opened: {action.label}.")
        else:
            self.status.emit("That could not be opened here; follow the steps by hand instead.")


def card_texts(card: FixCard) -> list[str]:
    """The visible words of a card, for tests and screen-reader checks."""
    return [label.text() for label in card.findChildren(QLabel) if label.text()]
