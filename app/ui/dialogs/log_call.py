"""Log call: one post-discharge call attempt (outcome, issues found, notes, time)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.models.admission import CALL_ISSUES, CALL_OUTCOMES
from app.services.followup import CallAttemptView, log_call_attempt
from app.ui import format as fmt
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel, local_text, read_datetime


@dataclass(frozen=True)
class CallTarget:
    """The discharge a call is about, as the calling screen knows it."""

    admission_id: str
    patient_name: str
    nhs_number: str
    discharged_at: datetime
    deadline: datetime
    attempts: int


class LogCallDialog(QDialog):
    call_logged = Signal(object)  # CallAttemptView

    def __init__(self, shell: Shell, target: CallTarget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.target = target
        self.setWindowTitle(self.tr("Log call"))
        self._build()
        self._connect()

    def _build(self) -> None:
        t = self.target
        heading = QLabel(f"<b>{html.escape(t.patient_name)}</b> &nbsp; {fmt.nhs(t.nhs_number)}")
        hours = (t.deadline - self.shell.now()).total_seconds() / 3600
        info = QLabel(
            self.tr("Discharged %1 · %2 · %3 attempt(s) so far")
            .replace("%1", fmt.when(t.discharged_at))
            .replace("%2", fmt.hours_left_text(hours))
            .replace("%3", str(t.attempts))
        )
        info.setObjectName("hint")

        self.outcome = QComboBox()
        self.outcome.setAccessibleName(self.tr("Outcome of the call"))
        self.outcome.setPlaceholderText(self.tr("Choose the outcome…"))
        for code in CALL_OUTCOMES:
            self.outcome.addItem(fmt.label(code), code)
        self.outcome.setCurrentIndex(-1)
        self.outcome_error = ErrorLabel(self.tr("outcome"))

        issues = QWidget()
        grid = QGridLayout(issues)
        grid.setContentsMargins(0, 0, 0, 0)
        self.issue_boxes: dict[str, QCheckBox] = {}
        for i, code in enumerate(CALL_ISSUES):
            box = QCheckBox(fmt.label(code))
            box.setAccessibleName(self.tr("Issue found: %1").replace("%1", fmt.label(code)))
            self.issue_boxes[code] = box
            grid.addWidget(box, i // 3, i % 3)

        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName(self.tr("Notes"))
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(80)

        self.called_at = QLineEdit(local_text(self.shell.now()))
        self.called_at.setAccessibleName(self.tr("Time of the call"))
        self.called_at.setPlaceholderText(self.tr("dd/mm/yyyy HH:MM"))
        self.now_button = QPushButton(self.tr("Now"))
        self.now_button.setAccessibleName(self.tr("Set the time of the call to now"))
        self.time_error = ErrorLabel(self.tr("time of the call"))
        when_row = QHBoxLayout()
        when_row.addWidget(self.called_at, 1)
        when_row.addWidget(self.now_button)

        self.general_error = ErrorLabel(self.tr("the call"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName(self.tr("Save the call"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel")
        )

        form = QFormLayout()
        form.addRow(self.tr("&Outcome"), self.outcome)
        form.addRow("", self.outcome_error)
        form.addRow(self.tr("Issues found"), issues)
        form.addRow(self.tr("&Notes"), self.notes)
        time_label = QLabel(self.tr("&Time (UK)"))
        time_label.setBuddy(self.called_at)
        form.addRow(time_label, when_row)
        form.addRow("", self.time_error)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(info)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.outcome.setFocus()

    def _connect(self) -> None:
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.called_at.textChanged.connect(self._check_time)
        self.now_button.clicked.connect(self._set_now)
        self.outcome.currentIndexChanged.connect(self.outcome_error.clear_error)

    # --- checks ---
    def _set_now(self) -> None:
        self.called_at.setText(local_text(self.shell.now()))

    def _check_time(self) -> datetime | None:
        try:
            value = read_datetime(
                self.called_at, field="called_at", now=self.shell.now(), what=self.tr("call")
            )
        except ValidationError as exc:
            self.time_error.show_error(str(exc))
            return None
        if value < self.target.discharged_at:
            self.time_error.show_error(
                self.tr("The call is before the discharge (%1).").replace(
                    "%1", fmt.when(self.target.discharged_at)
                )
            )
            return None
        self.time_error.clear_error()
        return value

    def _save(self) -> None:
        self.general_error.clear_error()
        called_at = self._check_time()
        outcome = self.outcome.currentData()
        if outcome is None:
            self.outcome_error.show_error(self.tr("Choose the outcome of the call."))
        if called_at is None or outcome is None:
            (self.outcome if outcome is None else self.called_at).setFocus()
            return
        issues = tuple(code for code, box in self.issue_boxes.items() if box.isChecked())
        notes = self.notes.toPlainText().strip() or None
        admission_id, coordinator, now = (
            self.target.admission_id,
            self.shell.coordinator_id,
            self.shell.now(),
        )

        def job(session: Session) -> CallAttemptView:
            return log_call_attempt(
                session,
                admission_id=admission_id,
                called_at=called_at,
                outcome=outcome,
                issues=issues,
                notes=notes,
                coordinator_id=coordinator,
                now=now,
            )

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, view: CallAttemptView) -> None:
        self.call_logged.emit(view)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        field = getattr(exc, "field", None)
        if isinstance(exc, ValidationError) and field in ("call", "called_at"):
            self.time_error.show_error(str(exc))
        elif isinstance(exc, ValidationError) and field == "outcome":
            self.outcome_error.show_error(str(exc))
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The call could not be saved: %1").replace("%1", str(exc))
            )
