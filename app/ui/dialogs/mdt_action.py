"""An action agreed at an MDT: what, who owns it, when it is due, and whose task queue it
goes into."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.core.timeutil import to_local
from app.services.caseload import CoordinatorView, list_coordinators
from app.services.mdt import ActionView, ItemView, MeetingView, add_action
from app.ui.shell import Shell
from app.ui.widgets.date_field import DateField
from app.ui.widgets.form import ErrorLabel

DEFAULT_DUE = timedelta(days=14)


def _team(session: Session) -> tuple[CoordinatorView, ...]:
    return tuple(list_coordinators(session))


class MdtActionDialog(QDialog):
    action_added = Signal(object)  # ActionView

    def __init__(
        self,
        shell: Shell,
        meeting: MeetingView,
        item: ItemView | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.meeting = meeting
        self.item = item
        self.setWindowTitle(self.tr("New MDT action"))
        self.resize(560, 380)
        self._build()
        self._connect()
        self.shell.runner.read(_team, on_success=self._team_loaded)

    def _build(self) -> None:
        about = (
            self.tr("For %1 (%2)").replace("%1", self.item.patient_name)
            if self.item is not None
            else self.tr("For the meeting as a whole (no one patient)")
        )
        if self.item is not None:
            about = about.replace("%2", self.item.nhs_number)
        heading = QLabel(about)
        heading.setObjectName("factKey")
        self.description = QPlainTextEdit()
        self.description.setAccessibleName(self.tr("What is to be done"))
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(80)
        self.description_error = ErrorLabel(self.tr("action"))
        self.owner = QComboBox()
        self.owner.setEditable(True)
        self.owner.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.owner.setAccessibleName(self.tr("Who owns the action"))
        for a in self.meeting.attendees:
            self.owner.addItem(f"{a.name} ({self.tr(a.role)})", a.name)
        self.owner.setCurrentIndex(-1)
        self.owner.setEditText("")
        self.owner_error = ErrorLabel(self.tr("owner"))
        self.due = DateField(self.tr("Due date"))
        self.due.set_value(max(self.meeting.meeting_date, self._today()) + DEFAULT_DUE)
        self.due_error = ErrorLabel(self.tr("due date"))
        self.assignee = QComboBox()
        self.assignee.setAccessibleName(self.tr("Whose task list the action goes on"))
        self.assignee.addItem(self.tr("The patient's coordinator"), None)
        self.general_error = ErrorLabel(self.tr("the action"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName(self.tr("Save the action"))

        form = QFormLayout()
        for text, widget, error in (
            (self.tr("&Action"), self.description, self.description_error),
            (self.tr("&Owner"), self.owner, self.owner_error),
            (self.tr("&Due"), self.due, self.due_error),
            (self.tr("&Task for"), self.assignee, None),
        ):
            label = QLabel(text)
            label.setBuddy(widget.edit if isinstance(widget, DateField) else widget)
            form.addRow(label, widget)
            if error is not None:
                form.addRow("", error)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.description.setFocus()

    def _connect(self) -> None:
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)

    def _today(self) -> date:
        return to_local(self.shell.now()).date()

    def _team_loaded(self, team: tuple[CoordinatorView, ...]) -> None:
        for c in team:
            self.assignee.addItem(c.name, c.id)

    def owner_text(self) -> str:
        text = self.owner.currentText().strip()
        index = self.owner.findText(text)
        if index >= 0:
            return str(self.owner.itemData(index))
        return text

    def _save(self) -> None:
        for e in (self.description_error, self.owner_error, self.due_error, self.general_error):
            e.clear_error()
        description = self.description.toPlainText().strip()
        owner = self.owner_text()
        try:
            due = self.due.value(field="due_date")
        except ValidationError as exc:
            self.due_error.show_error(str(exc))
            return
        problems = False
        if not description:
            self.description_error.show_error(self.tr("Say what is to be done."))
            problems = True
        if not owner:
            self.owner_error.show_error(self.tr("Give the action an owner."))
            problems = True
        if due is None:
            self.due_error.show_error(self.tr("Give the action a due date."))
            problems = True
        if problems or due is None:
            return
        meeting_id, now = self.meeting.id, self.shell.now()
        item_id = self.item.id if self.item is not None else None
        assigned = self.assignee.currentData()

        def job(session: Session) -> ActionView:
            return add_action(
                session,
                meeting_id=meeting_id,
                description=description,
                owner=owner,
                due_date=due,
                now=now,
                item_id=item_id,
                assigned_to_id=assigned,
            )

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, action: ActionView) -> None:
        self.action_added.emit(action)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The action could not be saved: %1").replace("%1", str(exc))
            )
