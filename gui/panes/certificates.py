"""Certificates: the chain as a tree (root at the top) with validity bars, and the details of the
selected certificate: names, key, signature, fingerprints, which store trusts it, Save PEM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontDatabase, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core.models import CertificateInfo, CheckReport, TrustResult
from core.render.labels import cert_name, days_text, trusted_by_text
from core.untrusted import visible
from gui.certificate_model import CertificateModel
from gui.models import OBJECT_ROLE
from gui.widgets import (
    ValidityBar,
    heading,
    list_and_details,
    paint_validity,
    plain_label,
    scroll_area,
)

if TYPE_CHECKING:
    from core.inspect import InspectReport

BAR_WIDTH = 70


class ValidityDelegate(QStyledItemDelegate):
    """Draws a small validity bar before the "n days left" text."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        cert = index.data(OBJECT_ROLE)
        model = index.model()
        now = getattr(model, "now", None)
        if not isinstance(cert, CertificateInfo) or not isinstance(now, dt.datetime):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else None
        rect = opt.rect
        bar = QRectF(rect.left() + 4, rect.center().y() - 4, BAR_WIDTH, 8)
        opt.rect = rect.adjusted(BAR_WIDTH + 10, 0, 0, 0)
        if style is not None:
            # The row background and selection first, across the whole cell.
            background = QStyleOptionViewItem(option)
            self.initStyleOption(background, index)
            background.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        painter.save()
        paint_validity(painter, bar, (cert.not_before, cert.not_after, now), option.palette)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + BAR_WIDTH + 10, max(size.height(), 20))


def fingerprint_text(hex_digest: str) -> str:
    """AB:CD:… in lines of 16 bytes, so a SHA-256 fingerprint fits a narrow pane."""
    pairs = [hex_digest[i : i + 2].upper() for i in range(0, len(hex_digest), 2)]
    return "\n".join(":".join(pairs[i : i + 16]) for i in range(0, len(pairs), 16))


def trust_summary(trust: TrustResult) -> str:
    names = (
        ("Mozilla's list", trust.mozilla),
        ("this computer", trust.os),
        ("your CA file", trust.custom),
    )
    parts = []
    for name, value in names:
        if value is None:
            continue
        parts.append(f"{name} {'✓' if value else '✗'}")
    verdict = trust.os_verifier
    if verdict is not None:
        said = {True: "✓", False: "✗", None: "no answer"}[verdict.trusted]
        parts.append(f"{verdict.verifier.split(' (')[0]} itself {said}")
    return "Chain accepted by: " + (", ".join(parts) if parts else "no store was consulted")


class CertificatesPane(QWidget):
    status = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = CertificateModel(self)
        self.certificate: CertificateInfo | None = None
        #: The chain shown (a check's or a file's) and the time its validity is judged at.
        self.chain: tuple[CertificateInfo, ...] = ()
        self.now = dt.datetime.now(dt.UTC)
        # Replaced in tests: asks where to save.
        self.ask_path: Callable[[str], str] = self._ask_path

        self.trust_line = plain_label("", self)
        self.trust_line.setAccessibleName("Trust stores")
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setAccessibleName("Certificate chain")
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setItemDelegateForColumn(1, ValidityDelegate(self.tree))
        self.tree.setIndentation(14)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)

        self.details = QWidget(self)
        form = QFormLayout(self.details)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.name = heading("", self.details)
        form.addRow(self.name)
        self.fields: dict[str, object] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for key, label in (
            ("subject", "Issued to"),
            ("issuer", "Issued by"),
            ("validity", "Valid"),
            ("bar", ""),
            ("san", "Names it covers"),
            ("key", "Public key"),
            ("signature", "Signature"),
            ("sha256", "SHA-256 fingerprint"),
            ("sha1", "SHA-1 fingerprint"),
            ("serial", "Serial number"),
            ("origin", "Where it came from"),
            ("trusted", "Trusted root in"),
        ):
            if key == "bar":
                widget: QWidget = ValidityBar(self.details)
            else:
                widget = plain_label("", self.details, selectable=True)
                widget.setAccessibleName(label)
                if key in ("sha256", "sha1", "serial"):
                    font = QFont(mono)
                    widget.setFont(font)
            self.fields[key] = widget
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save PEM…", self.details)
        self.save_button.setAccessibleName("Save this certificate as a PEM file")
        self.save_button.clicked.connect(self.save_selected)
        self.save_chain_button = QPushButton("Save whole chain…", self.details)
        self.save_chain_button.setAccessibleName("Save the whole chain as a PEM file")
        self.save_chain_button.clicked.connect(self.save_chain)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.save_chain_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.empty = plain_label("", self, muted=True)
        self.splitter = list_and_details(self, self.tree, scroll_area(self.details, self), (5, 6))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.trust_line)
        layout.addWidget(self.empty, 0)
        layout.addWidget(self.splitter, 1)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.set_report(None)

    def show_waiting(self, text: str) -> None:
        self.empty.setText(text)

    def reference_now(self, report: CheckReport) -> dt.datetime:
        """Validity is judged by the correct time when the clock check found one."""
        return report.clock.reference_time or report.started_at

    def set_report(self, report: CheckReport | None) -> None:
        if report is None:
            self._show_chain(
                (),
                None,
                dt.datetime.now(dt.UTC),
                empty="Run a check, or open a certificate file (File menu), to see certificates.",
            )
            return
        self._show_chain(
            report.certificates,
            report.trust,
            self.reference_now(report),
            empty="No certificate was received: the connection failed before the server sent one.",
        )

    def show_inspected(self, result: InspectReport) -> None:
        """The chain read from a certificate file, judged at the time it was inspected at."""
        self._show_chain(
            result.chain.certificates,
            result.chain.trust,
            result.at,
            empty="The file holds no certificate.",
        )

    def _show_chain(
        self,
        certificates: Sequence[CertificateInfo],
        trust: TrustResult | None,
        now: dt.datetime,
        *,
        empty: str,
    ) -> None:
        """The tree, the trust line and the details for a chain from a check or from a file;
        ``now`` is the time validity is judged at, ``empty`` what to say without certificates."""
        self.chain = tuple(certificates)
        self.now = now
        self.model.set_certificates(self.chain, now)
        header = self.tree.header()  # clear() dropped the sections: set their modes again
        header.setStretchLastSection(False)
        if header.count() == len(CertificateModel.HEADERS):
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.expandAll()
        has = bool(self.chain)
        self.splitter.setVisible(has)
        self.trust_line.setVisible(has)
        self.empty.setVisible(not has)
        if not has:
            self.empty.setText(empty)
        else:
            self.trust_line.setText(trust_summary(trust) if trust is not None else "")
            leaf = self._leaf_index()
            if leaf is not None:
                self.tree.setCurrentIndex(leaf)
        self.save_chain_button.setEnabled(has)
        self._show(None if not has else self.certificate)

    def _leaf_index(self) -> QModelIndex | None:
        """The deepest certificate of the first chain (the server's own)."""
        index = self.model.index(0, 0)
        if not index.isValid():
            return None
        while self.model.rowCount(index) > 0:
            index = self.model.index(0, 0, index)
        return index

    def _selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        for index in selected.indexes():
            value = index.data(OBJECT_ROLE)
            if isinstance(value, CertificateInfo):
                self._show(value)
                return

    def _set(self, key: str, text: str) -> None:
        widget = self.fields[key]
        widget.setText(text)  # type: ignore[attr-defined]

    def _show(self, cert: CertificateInfo | None) -> None:
        self.certificate = cert
        self.details.setVisible(cert is not None)
        self.save_button.setEnabled(cert is not None)
        if cert is None:
            return
        now = self.now
        self.name.setText(visible(cert_name(cert), limit=200))
        self._set("subject", visible(cert.subject, limit=600))
        self._set("issuer", visible(cert.issuer, limit=600))
        self._set(
            "validity",
            f"{cert.not_before:%Y-%m-%d %H:%M} to {cert.not_after:%Y-%m-%d %H:%M} UTC"
            f" ({days_text(cert, now)})",
        )
        bar = self.fields["bar"]
        assert isinstance(bar, ValidityBar)
        bar.set_span(cert.not_before, cert.not_after, now)
        self._set("san", visible(", ".join(cert.san), limit=2000) if cert.san else "none listed")
        self._set(
            "key",
            visible(cert.key, limit=80) + ("" if not cert.is_ca else " (a certificate authority)"),
        )
        self._set("signature", visible(cert.signature_algorithm, limit=120))
        self._set("sha256", fingerprint_text(cert.sha256))
        self._set("sha1", fingerprint_text(cert.sha1))
        self._set("serial", visible(cert.serial, limit=80).upper())
        self._set(
            "origin",
            "sent by the server"
            if cert.sent_by_server
            else "found in a trust store (the server did not send it)",
        )
        self._set("trusted", trusted_by_text(cert) or "— (not a trusted root itself)")

    # -- saving

    def _ask_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save certificate", suggested, "PEM certificate (*.pem *.crt);;All files (*)"
        )
        return str(path)

    def _safe_name(self, cert: CertificateInfo) -> str:
        name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cert_name(cert))[:60]
        return (name.strip("._") or "certificate") + ".pem"

    def save_selected(self) -> None:
        if self.certificate is not None:
            self._save(self.certificate.pem, self._safe_name(self.certificate))

    def save_chain(self) -> None:
        if self.chain:
            pem = "".join(c.pem for c in self.chain)
            self._save(pem, "chain.pem")

    def _save(self, pem: str, suggested: str) -> None:
        path = self.ask_path(suggested)
        if not path:
            return
        try:
            Path(path).write_text(pem, encoding="ascii")
        except OSError as exc:
            self.status.emit(f"Could not save {path}: {exc.strerror}.")
            return
        self.status.emit(f"Saved {path}.")
