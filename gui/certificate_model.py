"""The Certificates pane's model: the chain as a tree, each certificate under its issuer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QObject
from PySide6.QtGui import QBrush, QStandardItem, QStandardItemModel

from core.models import CertificateInfo, Severity
from core.render.labels import cert_name, chain_parents, days_text
from core.untrusted import visible
from gui import theme
from gui.models import OBJECT_ROLE, tooltip
from gui.widgets import app_palette


class CertificateModel(QStandardItemModel):
    """The chain as a tree, root at the top: each certificate under its issuer."""

    HEADERS = ("Certificate", "Validity")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.now = dt.datetime.now(dt.UTC)

    def set_certificates(self, certs: Sequence[CertificateInfo], now: dt.datetime) -> None:
        self.clear()
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.now = now
        parents = chain_parents(certs)
        items: dict[int, QStandardItem] = {}

        def add(i: int) -> QStandardItem:
            if i in items:
                return items[i]
            row = self._row(certs[i], now)
            parent = parents[i]
            if parent is None:
                self.appendRow(row)
            else:
                add(parent).appendRow(row)
            items[i] = row[0]
            return row[0]

        for i in range(len(certs)):
            add(i)

    def _row(self, cert: CertificateInfo, now: dt.datetime) -> list[QStandardItem]:
        palette = app_palette()
        name = visible(cert_name(cert), limit=200)
        if not cert.sent_by_server:
            name += "  (from the store)"
        elif cert.trusted_by:
            name += "  (root)"
        first = QStandardItem(name)
        first.setToolTip(tooltip(cert.subject))
        validity = QStandardItem(days_text(cert, now))
        validity.setToolTip(f"Valid until {cert.not_after:%Y-%m-%d}")
        expired = not (cert.not_before <= now <= cert.not_after)
        soon = not expired and (cert.not_after - now) < dt.timedelta(days=30)
        if expired:
            validity.setForeground(QBrush(theme.failure_colour(palette)))
        elif soon:
            validity.setForeground(QBrush(theme.tone(Severity.WARNING, palette).foreground))
        row = [first, validity]
        for item in row:
            item.setEditable(False)
            item.setData(cert, OBJECT_ROLE)
        return row
