"""The conflicts inbox: fields two laptops changed differently. For each, every competing value
with the laptop and time it came from; keep one, or type the merged value. A record deleted on
one laptop and edited on another is kept or deleted."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.services.sync import ConflictView, RecordChoice, head_choice, resolve_conflict
from app.ui.models.sync import ConflictHeadModel, ConflictModel, ConflictRow, field_text
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel


def typed_value(text: str, view: ConflictView) -> Any:
    """What the user typed, in the form the field's competing values have."""
    values = [h.value for h in view.heads if not h.deleted and h.value is not None]
    text = text.strip()
    if not text:
        return None
    if not values or all(isinstance(v, str) for v in values):
        return text
    if all(isinstance(v, bool) for v in values):
        lowered = text.casefold()
        if lowered in ("yes", "true", "y", "1"):
            return True
        if lowered in ("no", "false", "n", "0"):
            return False
        raise ValidationError("Type yes or no for this field.", field="value")
    try:
        return json.loads(text)
    except ValueError:
        raise ValidationError(
            f"{text} is not a value this field can hold; type a number.", field="value"
        ) from None


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


class ConflictsPanel(QWidget):
    conflict_resolved = Signal(object)  # ConflictView still open, or None when settled

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self._build()
        self._connect()

    def _build(self) -> None:
        self.model = ConflictModel(self)
        self.table = _table(self.tr("Conflicts"))
        self.table.setModel(self.model)
        for col, width in enumerate((210, 100, 140, 55)):
            self.table.setColumnWidth(col, width)
        self.empty = QLabel(self.tr("No conflicts: every field has one agreed value."))
        self.empty.setObjectName("hint")

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setObjectName("factKey")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        self.heads = ConflictHeadModel(self)
        self.head_table = _table(self.tr("Competing values"))
        self.head_table.setModel(self.heads)
        for col, width in enumerate((170, 120, 125)):
            self.head_table.setColumnWidth(col, width)
        self.keep_button = QPushButton(self.tr("&Keep the selected value"))
        self.keep_button.setAccessibleName(self.tr("Resolve with the selected value"))
        self.merged = QLineEdit()
        self.merged.setAccessibleName(self.tr("Merged value"))
        self.merged.setPlaceholderText(self.tr("Or type the value to keep…"))
        self.merge_button = QPushButton(self.tr("&Use this value"))
        self.merge_button.setAccessibleName(self.tr("Resolve with the value typed"))
        self.keep_record_button = QPushButton(self.tr("Keep the &record"))
        self.keep_record_button.setAccessibleName(self.tr("Keep the record deleted elsewhere"))
        self.delete_record_button = QPushButton(self.tr("&Delete the record"))
        self.delete_record_button.setAccessibleName(self.tr("Delete the record edited elsewhere"))
        self.error = ErrorLabel(self.tr("the conflict"))
        self.detail = QGroupBox(self.tr("Choose the value to keep"))
        dbox = QVBoxLayout(self.detail)
        dbox.addWidget(self.heading)
        dbox.addWidget(self.note)
        dbox.addWidget(self.head_table, 1)
        keep = QHBoxLayout()
        keep.addWidget(self.keep_button)
        keep.addWidget(self.keep_record_button)
        keep.addWidget(self.delete_record_button)
        keep.addStretch(1)
        dbox.addLayout(keep)
        merge = QHBoxLayout()
        merge.addWidget(self.merged, 1)
        merge.addWidget(self.merge_button)
        dbox.addLayout(merge)
        dbox.addWidget(self.error)

        left = QWidget()
        lbox = QVBoxLayout(left)
        lbox.setContentsMargins(0, 0, 0, 0)
        lbox.addWidget(self.empty)
        lbox.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.detail)
        split.setSizes([600, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._show(None)

    def _connect(self) -> None:
        self.table.selectionModel().selectionChanged.connect(self._chosen)
        self.head_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.keep_button.clicked.connect(self.keep_selected)
        self.merge_button.clicked.connect(self.use_typed)
        self.merged.returnPressed.connect(self.use_typed)
        self.keep_record_button.clicked.connect(lambda: self._resolve(RecordChoice.KEEP))
        self.delete_record_button.clicked.connect(lambda: self._resolve(RecordChoice.DELETE))

    def set_conflicts(self, rows: tuple[ConflictRow, ...]) -> None:
        current = self.selected()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        keys = [(r.conflict.table, r.conflict.record_id, r.conflict.field) for r in rows]
        key = (
            (current.conflict.table, current.conflict.record_id, current.conflict.field)
            if current
            else None
        )
        if rows:
            self.table.selectRow(keys.index(key) if key in keys else 0)
        else:
            self._show(None)

    def selected(self) -> ConflictRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _chosen(self) -> None:
        self._show(self.selected())

    def _show(self, row: ConflictRow | None) -> None:
        self.error.clear_error()
        self.merged.clear()
        self.detail.setEnabled(row is not None)
        if row is None:
            self.heading.setText(self.tr("Choose a conflict on the left."))
            self.note.clear()
            self.heads.set_rows(())
        else:
            c, r = row.conflict, row.record
            about = f" — {r.about}" if r.about else ""
            what = self.tr(r.what) + about
            if c.field.startswith("_"):
                self.heading.setText(what)
            else:
                self.heading.setText(
                    self.tr("%1: %2").replace("%1", what).replace("%2", field_text(c.field))
                )
            self.note.setText(
                c.note
                or self.tr(
                    "Changed differently on %1 laptops. Until you choose, the value marked "
                    "'Shown now' is used."
                ).replace("%1", str(len({h.device_id for h in c.heads})))
            )
            self.heads.set_rows(c.heads)
            if c.heads:
                self.head_table.selectRow(0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected()
        deletion = bool(row and row.conflict.deletion)
        self.keep_record_button.setVisible(deletion)
        self.delete_record_button.setVisible(deletion)
        values = row is not None and not row.conflict.field.startswith("_")
        chosen = self.head_table.selectionModel().selectedRows()
        self.keep_button.setVisible(values)
        self.keep_button.setEnabled(values and bool(chosen))
        self.merged.setVisible(values and not deletion)
        self.merge_button.setVisible(values and not deletion)

    def keep_selected(self) -> None:
        row = self.selected()
        chosen = self.head_table.selectionModel().selectedRows()
        if row is None or not chosen:
            return
        head = self.heads.row_at(chosen[0].row())
        if head is not None:
            self._resolve(head_choice(row.conflict, head.op_id))

    def use_typed(self) -> None:
        row = self.selected()
        if row is None:
            return
        try:
            value = typed_value(self.merged.text(), row.conflict)
        except ValidationError as exc:
            self.error.show_error(str(exc))
            return
        self._resolve(value)

    def _resolve(self, value: Any) -> None:
        row = self.selected()
        if row is None:
            return
        c, clock = row.conflict, self.shell.ctx.clock
        self.error.clear_error()

        def job(session: Session) -> ConflictView | None:
            return resolve_conflict(
                session, clock=clock, table=c.table, record_id=c.record_id, field=c.field,
                value=value,
            )  # fmt: skip

        self.detail.setEnabled(False)
        self.shell.runner.write(job, on_success=self._resolved, on_failure=self._refused)

    def _resolved(self, still: ConflictView | None) -> None:
        self.detail.setEnabled(True)
        self.conflict_resolved.emit(still)

    def _refused(self, exc: BaseException) -> None:
        self.detail.setEnabled(True)
        text = str(exc) if isinstance(exc, CareCoordError) else repr(exc)
        self.error.show_error(text)
