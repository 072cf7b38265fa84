"""Qt item models over the engine's report. Views only read these; each is replaced wholesale
with ``beginResetModel``/``endResetModel`` (or updated cell by cell for the live stage list).

Every string that came from a server or a certificate goes through ``core.untrusted.visible``
for display (control and bidi characters become escapes) and ``for_html`` for tooltips, which
Qt would otherwise read as rich text. Item views draw DisplayRole text as plain text.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication

from core.catalogue import Catalogue, load_catalogue, render_value
from core.models import (
    CertificateInfo,
    ClientResult,
    Finding,
    Severity,
    StageEvent,
    StageId,
    StageOutcome,
    StageResult,
    StageStatus,
)
from core.render.stages import STATUS_MARKS, event_line, stage_line, stage_text
from core.stage_words import load_stage_words
from core.untrusted import for_html, visible
from gui import theme

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

#: Custom roles: the engine object behind a row.
OBJECT_ROLE = int(Qt.ItemDataRole.UserRole) + 1


def _palette() -> QPalette:
    app = QApplication.instance()
    return app.palette() if isinstance(app, QApplication) else QPalette()


def tooltip(text: str) -> str:
    """A tooltip Qt shows as rich text with the stranger's text escaped (Qt guesses the
    format of tooltips, so plain text with ``<b>`` in it would be rendered as markup)."""
    return f"<p>{for_html(text)}</p>" if text else ""


# --------------------------------------------------------------------------- base


@dataclass(frozen=True)
class Cell:
    text: str
    colour: QColor | None = None
    tip: str = ""
    bold: bool = False
    align_right: bool = False


class _HeaderedTable(QAbstractTableModel):
    """Fixed horizontal headers and read-only, selectable cells: what every table here shares."""

    _headers: tuple[str, ...] = ()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class RowsModel(_HeaderedTable):
    """A flat table of ``Cell`` rows with fixed headers; the object behind each row in
    OBJECT_ROLE."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._rows: list[tuple[Cell, ...]] = []
        self._objects: list[object] = []

    def set_rows(self, rows: Sequence[tuple[Sequence[Cell], object]]) -> None:
        self.beginResetModel()
        self._rows = [tuple(cells) for cells, _ in rows]
        self._objects = [obj for _, obj in rows]
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def cell(self, row: int, column: int) -> Cell:
        return self._rows[row][column]

    def object_at(self, row: int) -> object:
        return self._objects[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        cells = self._rows[index.row()]
        if not 0 <= index.column() < len(cells):
            return None
        cell = cells[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return cell.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(cell.tip) if cell.tip else None
        if role == Qt.ItemDataRole.ForegroundRole and cell.colour is not None:
            return QBrush(cell.colour)
        if role == Qt.ItemDataRole.FontRole and cell.bold:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if cell.align_right else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == OBJECT_ROLE:
            return self._objects[index.row()]
        return None


# --------------------------------------------------------------------------- stages

STAGE_ORDER: tuple[StageId, ...] = (
    StageId.RESOLVE,
    StageId.PROXY,
    StageId.CONNECT,
    StageId.STARTTLS,
    StageId.HANDSHAKE,
    StageId.CERTIFICATES,
    StageId.CLOCK,
    StageId.PROTOCOLS,
)
#: Steps only some checks have (the Proxy step, through a proxy; STARTTLS, for a mail or other
#: service that upgrades a plain connection): pending means "not part of this check", and the
#: window hides them.
OPTIONAL_STAGES = frozenset({StageId.PROXY, StageId.STARTTLS})


def format_ms(ms: float) -> str:
    if ms < 1:
        return "<1 ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


@dataclass
class _StageRow:
    status: StageStatus = StageStatus.PENDING
    elapsed_ms: float = 0.0
    #: The line the renderer worded from the stage's outcome and facts.
    line: str = ""
    started: float | None = None


class StageModel(_HeaderedTable):
    """The stages of a check, filled live from StageEvents and then from the report: every
    line worded by ``core.render.stages``, as in the terminal and the PDF."""

    HEADERS = ("Step", "Time", "What happened")
    _headers = HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words = load_stage_words()
        self._waiting = stage_text(StageOutcome.WAITING, {}, self._words)
        self._rows = {stage: _StageRow() for stage in STAGE_ORDER}
        self._clock: Callable[[], float] = time.monotonic

    def reset(self) -> None:
        self.beginResetModel()
        self._rows = {stage: _StageRow() for stage in STAGE_ORDER}
        self.endResetModel()

    def status(self, stage: StageId) -> StageStatus:
        return self._rows[stage].status

    def summary(self, stage: StageId) -> str:
        """The stage's line as shown (for tests and the accessible text)."""
        row = self._rows[stage]
        return row.line or (self._waiting if row.status is StageStatus.PENDING else "")

    def apply(self, event: StageEvent) -> None:
        row = self._rows.get(event.stage)
        if row is None:
            return
        if event.status is StageStatus.RUNNING:
            if row.status is not StageStatus.RUNNING:
                row.started = self._clock() - event.elapsed_ms / 1000
            row.status = StageStatus.RUNNING
            if event.outcome is not None or not row.line:
                row.line = event_line(event, self._words)
        else:
            row.status = event.status
            row.elapsed_ms = event.elapsed_ms
            row.line = event_line(event, self._words)
            row.started = None
        r = STAGE_ORDER.index(event.stage)
        self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.HEADERS) - 1))

    def set_results(self, results: Sequence[StageResult]) -> None:
        """The final word from the report (events may have been coalesced or missed)."""
        self.beginResetModel()
        given = {result.stage for result in results}
        for result in results:
            if result.stage in self._rows:
                self._rows[result.stage] = _StageRow(
                    result.status, result.duration_ms, stage_line(result, self._words)
                )
        for stage, row in self._rows.items():
            if stage in OPTIONAL_STAGES and stage not in given:
                self._rows[stage] = _StageRow()  # not part of this check (no proxy): hidden
            elif row.status in (StageStatus.RUNNING, StageStatus.PENDING):
                row.status = StageStatus.SKIPPED
                row.started = None
        self.endResetModel()

    def stop_running(self, outcome: StageOutcome) -> None:
        """After a cancel or a failure: whatever was still running or waiting did not finish."""
        self.beginResetModel()
        line = stage_text(outcome, {}, self._words)
        for stage, row in self._rows.items():
            if stage in OPTIONAL_STAGES and row.status is StageStatus.PENDING:
                continue  # never part of this check
            if row.status in (StageStatus.RUNNING, StageStatus.PENDING):
                row.status = StageStatus.SKIPPED
                row.line = line
                row.started = None
        self.endResetModel()

    def tick(self) -> None:
        """Refresh the running stages' times (called by a timer while a check runs)."""
        for r, stage in enumerate(STAGE_ORDER):
            if self._rows[stage].status is StageStatus.RUNNING:
                self.dataChanged.emit(self.index(r, 1), self.index(r, 1))

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(STAGE_ORDER)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def _colour(self, status: StageStatus) -> QColor | None:
        palette = _palette()
        if status is StageStatus.OK:
            return theme.success_colour(palette)
        if status is StageStatus.FAILED:
            return theme.failure_colour(palette)
        if status in (StageStatus.SKIPPED, StageStatus.PENDING):
            return theme.muted(palette)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(STAGE_ORDER):
            return None
        stage = STAGE_ORDER[index.row()]
        row = self._rows[stage]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == 0:
                return f"{STATUS_MARKS[row.status]}  {self._words.name(stage)}"
            if column == 1:
                if row.status is StageStatus.RUNNING and row.started is not None:
                    return format_ms((self._clock() - row.started) * 1000)
                if row.status in (StageStatus.OK, StageStatus.FAILED):
                    return format_ms(row.elapsed_ms)
                return ""
            if column == 2:
                return visible(self.summary(stage), limit=300)
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column in (0, 1):
            colour = self._colour(row.status)
            return QBrush(colour) if colour is not None else None
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == 2
            and row.status is StageStatus.PENDING
        ):
            return QBrush(theme.muted(_palette()))
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and row.line:
            return tooltip(row.line)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == OBJECT_ROLE:
            return stage
        return None


# --------------------------------------------------------------------------- findings

SEVERITY_ORDER = (Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.INFO)


class FindingsModel(QStandardItemModel):
    """Findings grouped under their severity, worst first: a tree of two levels."""

    HEADERS = ("Finding", "Who acts")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))

    def set_findings(self, findings: Sequence[Finding], catalogue: Catalogue) -> None:
        self.clear()
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        palette = _palette()
        for severity in SEVERITY_ORDER:
            group = [f for f in findings if f.severity is severity]
            if not group:
                continue
            label = catalogue.severity_label(severity)
            head = QStandardItem(f"{label} ({len(group)})")
            head.setEditable(False)
            head.setForeground(QBrush(theme.tone(severity, palette).foreground))
            font = head.font()
            font.setBold(True)
            head.setFont(font)
            head.setData(severity, OBJECT_ROLE)
            tail = QStandardItem("")
            tail.setEditable(False)
            for finding in group:
                title = QStandardItem(visible(catalogue.title(finding), limit=300))
                title.setEditable(False)
                title.setData(finding, OBJECT_ROLE)
                title.setToolTip(tooltip(catalogue.detail(finding)))
                who = QStandardItem(catalogue.actor_label(catalogue.finding(finding.id).who_acts))
                who.setEditable(False)
                who.setData(finding, OBJECT_ROLE)
                head.appendRow([title, who])
            self.appendRow([head, tail])


def evidence_label(key: str) -> str:
    words = key.replace("_", " ").strip()
    fixes = {
        "sni": "SNI",
        "ip": "IP",
        "san": "names in the certificate",
        "aia": "AIA",
        "ocsp": "OCSP",
    }
    parts = [fixes.get(w, w) for w in words.split()]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


class EvidenceModel(RowsModel):
    """The facts behind one finding, on demand."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Fact", "Value"), parent)

    def set_finding(self, finding: Finding | None) -> None:
        rows: list[tuple[Sequence[Cell], object]] = []
        if finding is not None:
            for key, value in finding.evidence.items():
                text = visible(render_value(value), limit=600)
                rows.append(((Cell(evidence_label(key)), Cell(text, tip=text)), key))
        self.set_rows(rows)


# --------------------------------------------------------------------------- certificates


def cert_name(info: CertificateInfo) -> str:
    """The certificate's most readable name: its CN (RFC 4514 escapes undone), else the whole
    subject. Still untrusted text: show it with ``visible`` in a plain-text widget."""
    for part in _rdn_parts(info.subject):
        if part.upper().startswith("CN="):
            return unescape_rdn(part[3:])
    return info.subject or "(no subject)"


def unescape_rdn(value: str) -> str:
    """Undo RFC 4514 escaping: ``\\<`` is ``<``, ``\\1b`` is the byte 0x1b."""
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out += value[i + 1].encode()
            i += 2
            continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", "replace")


def _rdn_parts(name: str) -> list[str]:
    parts: list[str] = []
    current = ""
    escaped = False
    for ch in name:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            current += ch
            escaped = True
        elif ch in ",+":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def chain_parents(certs: Sequence[CertificateInfo]) -> list[int | None]:
    """For each certificate, the index of its issuer among ``certs`` (None for a root or a
    certificate whose issuer is not at hand). Never makes a cycle."""
    parents: list[int | None] = []
    for i, cert in enumerate(certs):
        parent = None
        if not cert.self_issued:
            for j, other in enumerate(certs):
                if j != i and other.subject == cert.issuer:
                    parent = j
                    break
        parents.append(parent)
    for i in range(len(parents)):  # break any cycle (two certificates naming each other)
        seen = {i}
        up = parents[i]
        while up is not None:
            if up in seen:
                parents[i] = None
                break
            seen.add(up)
            up = parents[up]
    return parents


def days_text(cert: CertificateInfo, now: dt.datetime) -> str:
    if now < cert.not_before:
        days = (cert.not_before - now).days
        return f"not valid for {days} more day{'s' if days != 1 else ''}"
    if now > cert.not_after:
        days = (now - cert.not_after).days
        return f"expired {days} day{'s' if days != 1 else ''} ago" if days else "expired today"
    days = (cert.not_after - now).days
    return f"{days} day{'s' if days != 1 else ''} left"


def trusted_by_text(cert: CertificateInfo) -> str:
    names = {"mozilla": "Mozilla", "os": "this computer", "custom": "your CA file"}
    if not cert.trusted_by:
        return ""
    return ", ".join(names.get(n, n) for n in cert.trusted_by)


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
        palette = _palette()
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


# --------------------------------------------------------------------------- protocols

VERSION_ORDER = ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0", "SSLv3")
VERSION_NAMES = {
    "TLSv1.3": "TLS 1.3",
    "TLSv1.2": "TLS 1.2",
    "TLSv1.1": "TLS 1.1",
    "TLSv1.0": "TLS 1.0",
    "SSLv3": "SSL 3.0",
}
_MODERN = frozenset({"TLSv1.3", "TLSv1.2"})


class ProtocolModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Version", "Server accepts", "Note"), parent)

    def set_protocols(self, protocols: Mapping[str, bool | None]) -> None:
        palette = _palette()
        ok, bad, soft = (
            theme.success_colour(palette),
            theme.failure_colour(palette),
            theme.muted(palette),
        )
        warn = theme.tone(Severity.WARNING, palette).foreground
        names = [v for v in VERSION_ORDER if v in protocols] + [
            v for v in protocols if v not in VERSION_ORDER
        ]
        rows: list[tuple[Sequence[Cell], object]] = []
        for version in names:
            accepted = protocols[version]
            if accepted is None:
                cells = (
                    Cell(VERSION_NAMES.get(version, version)),
                    Cell("not tested", soft),
                    Cell(""),
                )
            elif accepted:
                note = "current" if version in _MODERN else "outdated: should be turned off"
                cells = (
                    Cell(VERSION_NAMES.get(version, version)),
                    Cell("✓ yes", ok if version in _MODERN else warn),
                    Cell(note, None if version in _MODERN else warn),
                )
            else:
                note = "" if version not in _MODERN else "modern clients need this"
                cells = (
                    Cell(VERSION_NAMES.get(version, version)),
                    Cell("✗ no", bad if version in _MODERN else soft),
                    Cell(note),
                )
            rows.append((cells, version))
        self.set_rows(rows)


STRENGTH_WORDS = {
    "strong": "strong",
    "no-forward-secrecy": "no forward secrecy",
    "weak": "weak",
    "insecure": "broken",
}


def suite_strength(name: str) -> str | None:
    from core.ciphers import load_registry

    entry = load_registry().by_name.get(name)
    return entry.strength.value if entry is not None else None


class CipherModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Version", "Cipher suite", "Strength"), parent)

    def set_ciphers(self, ciphers: Mapping[str, Sequence[str]]) -> None:
        palette = _palette()
        colours = {
            "strong": theme.success_colour(palette),
            "no-forward-secrecy": theme.tone(Severity.WARNING, palette).foreground,
            "weak": theme.failure_colour(palette),
            "insecure": theme.failure_colour(palette),
        }
        rows: list[tuple[Sequence[Cell], object]] = []
        versions = [v for v in VERSION_ORDER if v in ciphers] + [
            v for v in ciphers if v not in VERSION_ORDER
        ]
        for version in versions:
            for suite in ciphers[version]:
                strength = suite_strength(suite)
                shown = visible(suite, limit=120)
                rows.append(
                    (
                        (
                            Cell(VERSION_NAMES.get(version, visible(version, limit=20))),
                            Cell(shown, tip=shown),
                            Cell(
                                STRENGTH_WORDS.get(strength or "", "unknown"),
                                colours.get(strength or ""),
                            ),
                        ),
                        (version, suite),
                    )
                )
        self.set_rows(rows)


class ClientModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Client", "Connects", "Version", "Cipher suite", "Why not"), parent)

    def set_clients(self, clients: Sequence[ClientResult]) -> None:
        palette = _palette()
        ok, bad = theme.success_colour(palette), theme.failure_colour(palette)
        rows: list[tuple[Sequence[Cell], object]] = []
        catalogue = load_catalogue()
        for client in clients:
            reason = "" if client.connects else visible(catalogue.client_reason(client), limit=300)
            rows.append(
                (
                    (
                        Cell(visible(client.name, limit=120)),
                        Cell("✓ yes", ok, tip=reason)
                        if client.connects
                        else Cell("✗ no", bad, tip=reason),
                        Cell(
                            VERSION_NAMES.get(
                                client.protocol or "", visible(client.protocol or "—")
                            )
                        ),
                        Cell(visible(client.cipher or "—", limit=120)),
                        Cell("" if client.connects else reason, tip=reason),
                    ),
                    client,
                )
            )
        self.set_rows(rows)
