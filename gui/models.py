"""What every Qt item model over the engine's report shares; the panes' own models are in
gui/stage_model.py, gui/finding_models.py, gui/certificate_model.py and gui/protocol_models.py.
Views only read these; each is replaced wholesale with ``beginResetModel``/``endResetModel``
(or updated cell by cell for the live stage list).

Every string that came from a server or a certificate goes through ``core.untrusted.visible``
for display (control and bidi characters become escapes) and ``for_html`` for tooltips, which
Qt would otherwise read as rich text. Item views draw DisplayRole text as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from core.untrusted import for_html

Index = QModelIndex | QPersistentModelIndex
ROOT_INDEX = QModelIndex()

#: Custom roles: the engine object behind a row.
OBJECT_ROLE = int(Qt.ItemDataRole.UserRole) + 1


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


class HeaderedTable(QAbstractTableModel):
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


class RowsModel(HeaderedTable):
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

    def rowCount(self, parent: Index = ROOT_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT_INDEX) -> int:
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
