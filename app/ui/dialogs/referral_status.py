"""A referral's progress: its dated history, the chase-up tasks it has raised, and the next
statuses it may legally move to (only those are offered)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError
from app.services.referrals import ReferralView, get_referral, transition_referral
from app.services.tasks import TaskView, complete_task, list_tasks
from app.ui import format as fmt
from app.ui.models.directory import ChaseTaskModel, ReferralHistoryModel
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel


@dataclass(frozen=True)
class ReferralState:
    referral: ReferralView
    chases: tuple[TaskView, ...]


def load_referral(session: Session, *, referral_id: str, now: datetime) -> ReferralState:
    referral = get_referral(session, referral_id=referral_id, now=now)
    chases = list_tasks(
        session,
        now=now,
        kinds=("referral_chase",),
        include_done=True,
        patient_id=referral.patient_id,
    )
    return ReferralState(referral, tuple(t for t in chases if t.source_id == referral_id))


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


class ReferralStatusDialog(QDialog):
    status_changed = Signal(object)  # ReferralView

    def __init__(self, shell: Shell, referral_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.referral_id = referral_id
        self.state: ReferralState | None = None
        self.setWindowTitle(self.tr("Referral"))
        self.resize(760, 620)
        self._build()
        self._connect()
        self.load()

    def _build(self) -> None:
        self.heading = QLabel(self.tr("Loading…"))
        self.heading.setObjectName("screenTitle")
        self.heading.setWordWrap(True)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAccessibleName(self.tr("Referral details"))
        self.warnings = QLabel()
        self.warnings.setObjectName("banner")
        self.warnings.setStyleSheet("background: #ffb81c; color: black;")
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        self.history = ReferralHistoryModel(self)
        self.history_table = _table(self.tr("Status history"))
        self.history_table.setModel(self.history)
        for col, width in enumerate((140, 120, 120)):
            self.history_table.setColumnWidth(col, width)
        self.chases = ChaseTaskModel(self)
        self.chase_table = _table(self.tr("Chase-up tasks"))
        self.chase_table.setModel(self.chases)
        self.chase_table.setMaximumHeight(130)
        for col, width in enumerate((130, 250, 80, 130)):
            self.chase_table.setColumnWidth(col, width)
        self.chase_done_button = QPushButton(self.tr("Chased"))
        self.chase_done_button.setAccessibleName(self.tr("Mark the selected chase-up done"))
        history_box = QGroupBox(self.tr("History"))
        QVBoxLayout(history_box).addWidget(self.history_table)
        chase_box = QGroupBox(self.tr("Chase-ups"))
        cbox = QVBoxLayout(chase_box)
        cbox.addWidget(self.chase_table)
        crow = QHBoxLayout()
        crow.addStretch(1)
        crow.addWidget(self.chase_done_button)
        cbox.addLayout(crow)

        self.move_box = QGroupBox(self.tr("Move to"))
        self.move_row = QHBoxLayout(self.move_box)
        self.moves = QButtonGroup(self)
        self.note = QLineEdit()
        self.note.setAccessibleName(self.tr("Note about the change"))
        self.note.setPlaceholderText(
            self.tr("Note (optional), e.g. who replied and what they said")
        )
        self.general_error = ErrorLabel(self.tr("the referral"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("Change status"))
        self.save_button.setAccessibleName(self.tr("Change the referral's status"))

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.details)
        layout.addWidget(self.warnings)
        layout.addWidget(history_box, 1)
        layout.addWidget(chase_box)
        layout.addWidget(self.move_box)
        layout.addWidget(self.note)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        self.buttons.accepted.connect(self.change_status)
        self.buttons.rejected.connect(self.reject)
        self.chase_done_button.clicked.connect(self._chase_done)
        self.chase_table.selectionModel().selectionChanged.connect(self._update_buttons)

    def load(self) -> None:
        rid, now = self.referral_id, self.shell.now()
        self.shell.runner.read(
            lambda s: load_referral(s, referral_id=rid, now=now),
            on_success=self._loaded,
            on_failure=self._refused,
        )

    def _loaded(self, state: ReferralState) -> None:
        self.state = state
        r = state.referral
        self.setWindowTitle(self.tr("Referral to %1").replace("%1", r.service_name))
        self.heading.setText(
            self.tr("%1 — %2").replace("%1", r.service_name).replace("%2", fmt.label(r.status))
        )
        esc = html.escape
        lines = [
            f"<b>{esc(self.tr('Patient'))}:</b> {esc(r.patient_name)}",
            f"<b>{esc(self.tr('Reason'))}:</b> {esc(r.reason)}",
            f"<b>{esc(self.tr('Consent recorded'))}:</b> {esc(fmt.when(r.consent_recorded_at))}",
            f"<b>{esc(self.tr('Status since'))}:</b> {esc(fmt.when(r.status_changed_at))}",
        ]
        if r.working_days_waiting is not None:
            lines.append(
                esc(
                    self.tr("Waiting for a reply for %1 working day(s).").replace(
                        "%1", str(r.working_days_waiting)
                    )
                )
            )
        self.details.setText("<br>".join(lines))
        self.warnings.setText("\n".join(r.warnings))
        self.warnings.setVisible(bool(r.warnings))
        self.history.set_rows(r.history)
        self.chases.set_rows(state.chases)
        self._show_moves(r)
        self._update_buttons()

    def _show_moves(self, r: ReferralView) -> None:
        for button in self.moves.buttons():
            self.moves.removeButton(button)
            button.deleteLater()
        while self.move_row.count():
            item = self.move_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for status in r.allowed_next:
            button = QRadioButton(fmt.label(status))
            button.setAccessibleName(self.tr("Move to %1").replace("%1", fmt.label(status)))
            button.setProperty("status", status)
            self.moves.addButton(button)
            self.move_row.addWidget(button)
        if not r.allowed_next:
            self.move_row.addWidget(QLabel(self.tr("This referral is closed.")))
        self.move_row.addStretch(1)
        self.note.setEnabled(bool(r.allowed_next))

    def offered_statuses(self) -> tuple[str, ...]:
        return tuple(str(b.property("status")) for b in self.moves.buttons())

    def choose(self, status: str) -> None:
        for b in self.moves.buttons():
            if b.property("status") == status:
                b.setChecked(True)

    def _update_buttons(self) -> None:
        rows = self.chase_table.selectionModel().selectedRows()
        task = self.chases.row_at(rows[0].row()) if rows else None
        self.chase_done_button.setEnabled(task is not None and task.status == "open")
        self.save_button.setEnabled(bool(self.state and self.state.referral.allowed_next))

    def change_status(self) -> None:
        self.general_error.clear_error()
        chosen = self.moves.checkedButton()
        if chosen is None:
            self.general_error.show_error(self.tr("Choose the status to move the referral to."))
            return
        status = str(chosen.property("status"))
        rid, now, who = self.referral_id, self.shell.now(), self.shell.coordinator_id
        note = self.note.text().strip() or None

        def job(session: Session) -> ReferralState:
            transition_referral(
                session, referral_id=rid, to_status=status, now=now, note=note, changed_by_id=who
            )
            return load_referral(session, referral_id=rid, now=now)

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._changed, on_failure=self._refused)

    def _changed(self, state: ReferralState) -> None:
        self.note.clear()
        self._loaded(state)
        self.status_changed.emit(state.referral)

    def _chase_done(self) -> None:
        rows = self.chase_table.selectionModel().selectedRows()
        task = self.chases.row_at(rows[0].row()) if rows else None
        if task is None:
            return
        task_id, rid, now = task.id, self.referral_id, self.shell.now()

        def job(session: Session) -> ReferralState:
            complete_task(session, task_id=task_id, now=now)
            return load_referral(session, referral_id=rid, now=now)

        self.shell.runner.write(job, on_success=self._loaded, on_failure=self._refused)

    def _refused(self, exc: BaseException) -> None:
        self._update_buttons()
        if isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The referral could not be changed: %1").replace("%1", str(exc))
            )
