"""The caseload table: holds only the pages fetched so far and asks for more as the view
scrolls. Sorting is done in SQL: ``sort()`` only says which order is wanted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.services.caseload_view import SORT_KEYS, CaseloadPage, CaseloadRow
from app.ui import format as fmt
from app.ui.models.base import ROW_ROLE

Index = QModelIndex | QPersistentModelIndex

HEADERS = (
    "Name",
    "NHS number",
    "Age",
    "Practice",
    "Level",
    "Risk",
    "Flags",
    "Next task",
    "Last contact",
)
assert len(HEADERS) == len(SORT_KEYS)


class CaseloadTableModel(QAbstractTableModel):
    more_wanted = Signal(int)  # the offset of the next page
    sort_changed = Signal(str, bool)  # sort key, descending

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[CaseloadRow] = []
        self._total = 0
        self._waiting = False
        self._now = datetime.now(UTC)
        self.sort_key = "name"
        self.descending = False

    # --- content ---
    @property
    def total(self) -> int:
        return self._total

    def set_now(self, now: datetime) -> None:
        self._now = now

    def reset_page(self, page: CaseloadPage) -> None:
        """The first page of a new query."""
        self.beginResetModel()
        self._rows = list(page.rows)
        self._total = page.total
        self._waiting = False
        self.endResetModel()

    def append_page(self, page: CaseloadPage) -> None:
        """A following page; ignored unless it continues exactly where the rows end."""
        self._waiting = False
        if page.offset != len(self._rows) or not page.rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
        self._rows.extend(page.rows)
        self.endInsertRows()
        self._total = page.total

    def fetch_failed(self) -> None:
        self._waiting = False

    def row_at(self, row: int) -> CaseloadRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # --- lazy fetching ---
    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid() or self._waiting or len(self._rows) >= self._total:
            return
        self._waiting = True
        self.more_wanted.emit(len(self._rows))

    # --- sorting (in SQL) ---
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(SORT_KEYS):
            return
        key, descending = SORT_KEYS[column], order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self.sort_key, self.descending):
            return
        self.sort_key, self.descending = key, descending
        self.sort_changed.emit(key, descending)

    # --- QAbstractTableModel ---
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
            return self.tr(HEADERS[section])
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not self.checkIndex(index):
            return None
        row = self._rows[index.row()]
        key = SORT_KEYS[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(row, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, key)
        if role == Qt.ItemDataRole.ForegroundRole and key == "next_task" and self._overdue(row):
            return fmt.RED_TEXT
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("age", "risk"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return row
        return None

    def _overdue(self, row: CaseloadRow) -> bool:
        return row.next_task_due is not None and row.next_task_due < self._now

    def _text(self, row: CaseloadRow, key: str) -> str:
        if key == "name":
            return row.name
        if key == "nhs_number":
            return fmt.nhs(row.nhs_number)
        if key == "age":
            return str(row.age)
        if key == "practice":
            return row.practice or ""
        if key == "level":
            return row.level
        if key == "risk":
            return "" if row.risk_score is None else f"{row.risk_score:.0f}"
        if key == "flags":
            return " · ".join(fmt.label(f) for f in row.flags)
        if key == "next_task":
            if row.next_task is None:
                return ""
            return f"{fmt.short_when(row.next_task_due, self._now)} · {row.next_task}"
        return fmt.short_when(row.last_contact, self._now)

    def _tooltip(self, row: CaseloadRow, key: str) -> str | None:
        if key == "next_task" and row.next_task is not None:
            prefix = self.tr("Overdue: ") if self._overdue(row) else ""
            return f"{prefix}{row.next_task} — {fmt.when(row.next_task_due)}"
        if key == "flags" and row.flags:
            return ", ".join(fmt.label(f) for f in row.flags)
        if key == "name" and row.coordinator:
            return self.tr("Coordinator: %1").replace("%1", row.coordinator)
        return None
