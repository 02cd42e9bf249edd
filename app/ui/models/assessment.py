"""The agreed actions of a needs assessment, edited in place: what, who, by when, done."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from app.core.errors import ValidationError
from app.core.validation import parse_date
from app.services.assessments import ActionInput, ActionView
from app.ui import format as fmt
from app.ui.models.base import Column, Index, RowTableModel

DESCRIPTION, OWNER, DUE, DONE = range(4)


@dataclass(frozen=True)
class ActionRow:
    description: str = ""
    owner: str = ""
    due_date: date | None = None
    done: bool = False
    id: str | None = None  # None until saved

    @classmethod
    def of(cls, a: ActionView) -> ActionRow:
        return cls(a.description, a.owner or "", a.due_date, a.done, a.id)

    def to_input(self) -> ActionInput:
        return ActionInput(
            description=self.description,
            owner=self.owner or None,
            due_date=self.due_date,
            done=self.done,
            id=self.id,
        )


class AgreedActionModel(RowTableModel[ActionRow]):
    edit_refused = Signal(str)  # why a typed value was not taken
    columns = (
        Column[ActionRow]("Action", lambda r: r.description, tooltip=lambda r: r.description),
        Column[ActionRow]("Owner", lambda r: r.owner),
        Column[ActionRow]("Due (dd/mm/yyyy)", lambda r: fmt.day(r.due_date)),
        Column[ActionRow]("Done", lambda r: ""),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editable = True
        self.last_error = ""

    def inputs(self) -> tuple[ActionInput, ...]:
        """The rows to save (blank rows are left out)."""
        return tuple(r.to_input() for r in self.rows() if r.description.strip())

    def add_row(self) -> int:
        row = self.rowCount()
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows = (*self._rows, ActionRow())
        self.endInsertRows()
        return row

    def remove_row(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.beginRemoveRows(QModelIndex(), row, row)
            self._rows = self._rows[:row] + self._rows[row + 1 :]
            self.endRemoveRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not self.checkIndex(index):
            return None
        row = self._rows[index.row()]
        if index.column() == DONE and role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if row.done else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.EditRole:
            return self.columns[index.column()].text(row)
        return super().data(index, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid() or not self.editable:
            return flags
        if index.column() == DONE:
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        return flags | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not self.checkIndex(index) or not self.editable:
            return False
        row = self._rows[index.row()]
        col = index.column()
        if col == DONE and role == Qt.ItemDataRole.CheckStateRole:
            state = Qt.CheckState(value) if isinstance(value, int) else value
            new = dataclasses.replace(row, done=state == Qt.CheckState.Checked)
        elif role != Qt.ItemDataRole.EditRole or col == DONE:
            return False
        elif col == DESCRIPTION:
            new = dataclasses.replace(row, description=str(value).strip())
        elif col == OWNER:
            new = dataclasses.replace(row, owner=str(value).strip())
        else:
            text = str(value).strip()
            try:
                due = parse_date(text, field="due_date") if text else None
            except ValidationError as exc:
                self.last_error = str(exc)
                self.edit_refused.emit(self.last_error)
                return False
            new = dataclasses.replace(row, due_date=due)
        self.last_error = ""
        rows = list(self._rows)
        rows[index.row()] = new
        self._rows = tuple(rows)
        self.dataChanged.emit(index, index)
        return True
