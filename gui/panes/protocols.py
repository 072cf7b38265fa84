"""Protocols & ciphers: the versions the server accepts, its suites with their strength, and
which common clients can connect. A quick check tests none of this, and says so."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.models import CheckReport
from core.untrusted import visible
from gui.models import RowsModel
from gui.protocol_models import CipherModel, ClientModel, ProtocolModel
from gui.widgets import heading, plain_label, scroll_area

NOT_TESTED_QUICK = "Not tested (quick check). Turn off “Quick check” in Options to test them all."


def _table(model: RowsModel, name: str, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setAccessibleName(name)
    view.verticalHeader().hide()
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    rows = view.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 8)
    return view


def fit_height(view: QTableView, max_rows: int = 14) -> None:
    """Show every row (up to ``max_rows``) without an inner scroll bar."""
    rows = min(view.model().rowCount(), max_rows)
    height = view.horizontalHeader().sizeHint().height() + 2 * view.frameWidth()
    height += (
        sum(view.rowHeight(r) for r in range(rows))
        if rows
        else view.verticalHeader().defaultSectionSize()
    )
    view.setFixedHeight(height)


class ProtocolsPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.protocols = ProtocolModel(self)
        self.ciphers = CipherModel(self)
        self.clients = ClientModel(self)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.note = plain_label("", body, muted=True)
        self.note.setAccessibleName("About these results")
        layout.addWidget(self.note)
        layout.addWidget(heading("Versions", body))
        self.protocol_view = _table(self.protocols, "TLS versions", body)
        layout.addWidget(self.protocol_view)
        layout.addWidget(heading("Cipher suites", body))
        self.cipher_empty = plain_label("", body, muted=True)
        layout.addWidget(self.cipher_empty)
        self.cipher_view = _table(self.ciphers, "Cipher suites", body)
        layout.addWidget(self.cipher_view)
        layout.addWidget(heading("Common clients", body))
        self.client_empty = plain_label("", body, muted=True)
        layout.addWidget(self.client_empty)
        self.client_view = _table(self.clients, "Client profiles", body)
        layout.addWidget(self.client_view)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(scroll_area(body, self))
        self.set_report(None)

    def show_waiting(self, text: str) -> None:
        self.note.setText(text)

    def _not_tested(self, report: CheckReport | None) -> str:
        if report is None:
            return "Run a check to see which versions and suites the server accepts."
        if report.options.quick:
            return NOT_TESTED_QUICK
        return "Not tested: the check did not get far enough to try other versions."

    def show_offline(self) -> None:
        """A certificate file was checked: no version or suite was tried, and the pane says
        so (rather than "run a check")."""
        self.set_report(None)
        self.note.setText(
            "A certificate file says nothing about protocols: check a server to see them."
        )

    def set_report(self, report: CheckReport | None) -> None:
        protocols = dict(report.protocols) if report is not None else {}
        ciphers = dict(report.ciphers) if report is not None else {}
        clients = tuple(report.clients) if report is not None else ()
        self.protocols.set_protocols(protocols)
        self.ciphers.set_ciphers(ciphers)
        self.clients.set_clients(clients)
        tested = any(v is not None for v in protocols.values())
        full = report is not None and bool(ciphers or clients)
        if report is None or not full:
            note = self._not_tested(report)
            if report is not None and tested:
                note = "Only the version of the one handshake is known. " + note
            self.note.setText(note)
        else:
            preference = report.server_preference
            extra = ""
            if preference is not None:
                extra = (
                    " The server picks the suite in its own order."
                    if preference
                    else " The server follows the client's order of suites."
                )
            groups = ", ".join(visible(g, limit=40) for g in report.groups)
            self.note.setText(
                "Every version and suite was tried, one handshake each."
                + extra
                + (f" Key agreement groups: {groups}." if groups else "")
            )
        self.protocol_view.setVisible(bool(protocols))
        self.cipher_view.setVisible(bool(ciphers))
        self.cipher_empty.setVisible(not ciphers)
        self.cipher_empty.setText(
            "not tested (quick check)"
            if report is not None and report.options.quick
            else "not tested"
        )
        self.client_view.setVisible(bool(clients))
        self.client_empty.setVisible(not clients)
        self.client_empty.setText(self.cipher_empty.text())
        for view in (self.protocol_view, self.cipher_view, self.client_view):
            view.resizeColumnsToContents()
            fit_height(view, 40 if view is self.cipher_view else 14)
