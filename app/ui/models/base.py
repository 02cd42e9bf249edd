"""A read-only table model over a tuple of plain row dataclasses, described by its columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row dataclass itself


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str  # source text, translated with the model's tr()
    text: Callable[[R], str]
    background: Callable[[R], QColor | None] | None = None
    foreground: Callable[[R], QColor | None] | None = None
    tooltip: Callable[[R], str | None] | None = None
    decoration: Callable[[R], QColor | None] | None = None  # a colour swatch before the text
    align_right: bool = False


class RowTableModel(QAbstractTableModel, Generic[R]):
    """Subclasses set ``columns``; ``set_rows`` replaces the content in one reset."""

    columns: Sequence[Column[Any]] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[R, ...] = ()

    # --- content ---
    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def rows(self) -> tuple[R, ...]:
        return self._rows

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # --- QAbstractTableModel ---
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return self.tr(self.columns[section].header)
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not self.checkIndex(index):
            return None
        row = self._rows[index.row()]
        col = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return col.text(row)
        if role == Qt.ItemDataRole.BackgroundRole and col.background is not None:
            return col.background(row)
        if role == Qt.ItemDataRole.ForegroundRole and col.foreground is not None:
            return col.foreground(row)
        if role == Qt.ItemDataRole.DecorationRole and col.decoration is not None:
            return col.decoration(row)
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return row
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
