"""Handshake: the negotiated version, suite and key agreement, and the ladder of messages."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from core.models import CheckReport, NetworkFailure
from core.untrusted import visible
from gui.ladder import LadderWidget, ladder_text
from gui.widgets import plain_label


def handshake_facts(report: CheckReport) -> str:
    """The pane's line: for a service, first how the check came to speak it (the catalogue's
    words: which scheme, --starttls, or which well-known port), then the handshake's facts."""
    from core.catalogue import load_catalogue

    note = load_catalogue().service_note(report.target)
    facts = _tls_facts(report)
    return f"{visible(note, limit=300)} {facts}" if note else facts


def _tls_facts(report: CheckReport) -> str:
    hs = report.handshake
    if hs is None:
        return "No handshake took place."
    if not hs.ok:
        took = f"{hs.duration_ms:.0f} ms"
        if hs.alert:
            alert = visible(hs.alert, limit=60)
            return f"The server ended the handshake after {took} with the alert “{alert}”."
        if hs.failure is NetworkFailure.HANDSHAKE_TIMEOUT:
            return f"The server never answered; the check gave up after {took}."
        if hs.failure is NetworkFailure.CONNECTION_RESET:
            return f"The connection was closed during the handshake, after {took}."
        if hs.failure is NetworkFailure.NOT_TLS:
            return "The server answered with something that is not TLS."
        what = visible(hs.failure_detail or (hs.failure.value if hs.failure else "failed"))
        return f"The handshake failed after {took}: {what}."
    protocol = hs.protocol.human if hs.protocol else "?"
    parts = [f"{visible(protocol, limit=20)} with {visible(hs.cipher or '?', limit=80)}"]
    if hs.group:
        parts.append(f"key agreement {visible(hs.group, limit=40)}")
    if hs.alpn:
        parts.append(f"application protocol {visible(hs.alpn, limit=40)}")
    parts.append(f"{hs.duration_ms:.0f} ms in all")
    text = "Negotiated " + ", ".join(parts) + "."
    if hs.alert:
        text += (
            f" Then the server ended the connection with the alert “{visible(hs.alert, limit=60)}”."
        )
    return text


class HandshakePane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: CheckReport | None = None
        self.facts = plain_label("", self, selectable=True)
        self.facts.setAccessibleName("Handshake summary")
        self.copy = QPushButton("Copy as text", self)
        self.copy.setAccessibleName("Copy the handshake as text")
        self.copy.clicked.connect(self._copy)
        top = QHBoxLayout()
        top.addWidget(self.facts, 1)
        top.addWidget(self.copy)
        self.ladder = LadderWidget(self)
        holder = QWidget(self)
        hl = QVBoxLayout(holder)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.ladder)
        hl.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.set_report(None)

    def set_report(self, report: CheckReport | None, *, offline: bool = False) -> None:
        self.report = report if not offline else None
        self.copy.setEnabled(self.report is not None)
        if offline:
            self.facts.setText("A certificate file has no handshake: check a server to see one.")
        elif report is None:
            self.facts.setText("Run a check to see the handshake, step by step.")
        else:
            self.facts.setText(handshake_facts(report))
        self.ladder.set_report(self.report)

    def show_waiting(self, text: str) -> None:
        self.facts.setText(text)

    def _copy(self) -> None:
        if self.report is not None:
            QGuiApplication.clipboard().setText(ladder_text(self.report))
