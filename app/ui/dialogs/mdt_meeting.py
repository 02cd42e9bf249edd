"""New MDT meeting: its date, practice or PCN level, venue and attendees by role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.core.timeutil import to_local
from app.models.mdt import MDT_ROLES
from app.services.caseload_view import FilterOptions, caseload_filter_options
from app.services.mdt import AttendeeInput, MeetingView, create_meeting
from app.ui.shell import Shell
from app.ui.widgets.date_field import DateField
from app.ui.widgets.form import ErrorLabel


@dataclass(frozen=True)
class MeetingChoices:
    options: FilterOptions


def load_choices(session: Session) -> MeetingChoices:
    return MeetingChoices(options=caseload_filter_options(session))


class MdtMeetingDialog(QDialog):
    meeting_created = Signal(object)  # MeetingView

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.setWindowTitle(self.tr("New MDT meeting"))
        self.resize(640, 560)
        self._build()
        self._connect()
        self.shell.runner.read(load_choices, on_success=self._choices_loaded)

    def _build(self) -> None:
        self.meeting_date = DateField(self.tr("Meeting date"))
        self.meeting_date.set_value(to_local(self.shell.now()).date() + timedelta(days=7))
        self.date_error = ErrorLabel(self.tr("meeting date"))
        self.practice_level = QRadioButton(self.tr("&Practice"))
        self.practice_level.setAccessibleName(self.tr("Practice-level MDT"))
        self.pcn_level = QRadioButton(self.tr("P&CN"))
        self.pcn_level.setAccessibleName(self.tr("PCN-level MDT"))
        self.practice_level.setChecked(True)
        self.levels = QButtonGroup(self)
        self.levels.addButton(self.practice_level)
        self.levels.addButton(self.pcn_level)
        levels = QHBoxLayout()
        levels.addWidget(self.practice_level)
        levels.addWidget(self.pcn_level)
        levels.addStretch(1)
        self.practice = QComboBox()
        self.practice.setAccessibleName(self.tr("GP practice"))
        self.practice.setEditable(True)
        self.practice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.pcn = QComboBox()
        self.pcn.setAccessibleName(self.tr("Primary care network"))
        self.pcn.setEditable(True)
        self.pcn.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.place_error = ErrorLabel(self.tr("practice or PCN"))
        self.venue = QLineEdit()
        self.venue.setAccessibleName(self.tr("Venue"))
        self.venue.setPlaceholderText(self.tr("e.g. Meeting room 2, or Teams"))

        self.attendees = QTableWidget(0, 2)
        self.attendees.setAccessibleName(self.tr("Attendees"))
        self.attendees.setHorizontalHeaderLabels([self.tr("Role"), self.tr("Name")])
        self.attendees.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.attendees.setColumnWidth(0, 230)
        self.attendees.verticalHeader().setVisible(False)
        self.attendees.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add_attendee_button = QPushButton(self.tr("&Add attendee"))
        self.add_attendee_button.setAccessibleName(self.tr("Add an attendee row"))
        self.remove_attendee_button = QPushButton(self.tr("&Remove attendee"))
        self.remove_attendee_button.setAccessibleName(self.tr("Remove the selected attendee"))
        self.attendee_error = ErrorLabel(self.tr("attendees"))
        attendee_buttons = QHBoxLayout()
        attendee_buttons.addWidget(self.add_attendee_button)
        attendee_buttons.addWidget(self.remove_attendee_button)
        attendee_buttons.addStretch(1)
        for role in ("GP", "Community Matron", "Adult Social Care", "Care Coordinator"):
            name = self.shell.coordinator_name if role == "Care Coordinator" else ""
            self.add_attendee(role, name or "")

        self.general_error = ErrorLabel(self.tr("the meeting"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("Create meeting"))
        self.save_button.setAccessibleName(self.tr("Create the meeting"))

        form = QFormLayout()
        date_label = QLabel(self.tr("&Date"))
        date_label.setBuddy(self.meeting_date.edit)
        form.addRow(date_label, self.meeting_date)
        form.addRow("", self.date_error)
        form.addRow(self.tr("Level"), levels)
        self.practice_label = QLabel(self.tr("P&ractice"))
        self.practice_label.setBuddy(self.practice)
        form.addRow(self.practice_label, self.practice)
        self.pcn_label = QLabel(self.tr("PC&N"))
        self.pcn_label.setBuddy(self.pcn)
        form.addRow(self.pcn_label, self.pcn)
        form.addRow("", self.place_error)
        venue_label = QLabel(self.tr("&Venue"))
        venue_label.setBuddy(self.venue)
        form.addRow(venue_label, self.venue)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        heading = QLabel(self.tr("Attendees (the core team by role)"))
        heading.setObjectName("factKey")
        layout.addWidget(heading)
        layout.addWidget(self.attendees, 1)
        layout.addLayout(attendee_buttons)
        layout.addWidget(self.attendee_error)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self._level_changed()

    def _connect(self) -> None:
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.practice_level.toggled.connect(self._level_changed)
        self.add_attendee_button.clicked.connect(lambda: self.add_attendee("Other", ""))
        self.remove_attendee_button.clicked.connect(self._remove_attendee)
        self.meeting_date.changed.connect(self.date_error.clear_error)

    def _choices_loaded(self, choices: MeetingChoices) -> None:
        self.practice.clear()
        for p in choices.options.practices:
            self.practice.addItem(f"{p.name} ({p.sub_locality})", p.code)
        self.practice.setCurrentIndex(-1)
        self.pcn.clear()
        self.pcn.addItems(list(choices.options.sub_localities))
        self.pcn.setCurrentIndex(-1)

    def _level_changed(self) -> None:
        practice = self.practice_level.isChecked()
        for w in (self.practice, self.practice_label):
            w.setVisible(practice)
        for w in (self.pcn, self.pcn_label):
            w.setVisible(not practice)
        self.place_error.clear_error()

    # --- attendees ---
    def add_attendee(self, role: str, name: str) -> None:
        row = self.attendees.rowCount()
        self.attendees.insertRow(row)
        combo = QComboBox()
        combo.setAccessibleName(self.tr("Role of attendee %1").replace("%1", str(row + 1)))
        for r in MDT_ROLES:
            combo.addItem(self.tr(r), r)
        combo.setCurrentIndex(max(combo.findData(role), 0))
        self.attendees.setCellWidget(row, 0, combo)
        self.attendees.setItem(row, 1, QTableWidgetItem(name))

    def _remove_attendee(self) -> None:
        rows = sorted({i.row() for i in self.attendees.selectedIndexes()}, reverse=True)
        if not rows and self.attendees.currentRow() >= 0:
            rows = [self.attendees.currentRow()]
        for row in rows:
            self.attendees.removeRow(row)

    def attendee_inputs(self) -> tuple[AttendeeInput, ...]:
        out = []
        for row in range(self.attendees.rowCount()):
            combo = self.attendees.cellWidget(row, 0)
            item = self.attendees.item(row, 1)
            name = item.text().strip() if item is not None else ""
            if name and isinstance(combo, QComboBox):
                out.append(AttendeeInput(role=str(combo.currentData()), name=name))
        return tuple(out)

    # --- saving ---
    def _save(self) -> None:
        self.general_error.clear_error()
        try:
            day = self.meeting_date.value(field="meeting_date")
        except ValidationError as exc:
            self.date_error.show_error(str(exc))
            return
        if day is None:
            self.date_error.show_error(self.tr("Give the date of the meeting."))
            return
        level = "practice" if self.practice_level.isChecked() else "pcn"
        found = self.practice.findText(self.practice.currentText())
        code = self.practice.itemData(found) if found >= 0 else None
        pcn = self.pcn.currentText().strip() or None
        venue = self.venue.text().strip() or None
        attendees, now = self.attendee_inputs(), self.shell.now()

        def job(session: Session) -> MeetingView:
            return create_meeting(
                session,
                meeting_date=day,
                level=level,
                now=now,
                practice_code=code,
                pcn_name=pcn,
                venue=venue,
                attendees=attendees,
            )

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, meeting: MeetingView) -> None:
        self.meeting_created.emit(meeting)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        field = getattr(exc, "field", None)
        if isinstance(exc, ValidationError) and field in ("practice_code", "pcn_name"):
            self.place_error.show_error(str(exc))
        elif isinstance(exc, ValidationError) and field == "attendees":
            self.attendee_error.show_error(str(exc))
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The meeting could not be saved: %1").replace("%1", str(exc))
            )
