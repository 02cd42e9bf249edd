"""The buttons under the patient record's Assessment, Carers and Referrals tabs, and the
dialogs they open."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.carers import CaringLink, unlink_carer
from app.services.caseload_view import CarerSummary, PatientDetails, ReferralSummary
from app.ui.dialogs.assessment import AssessmentDialog
from app.ui.dialogs.care_plan import CarePlanDialog
from app.ui.dialogs.carer import CarerDialog
from app.ui.dialogs.referral import ReferralDialog
from app.ui.dialogs.referral_status import ReferralStatusDialog
from app.ui.models.base import ROW_ROLE
from app.ui.shell import Shell


def tab_page(content: QWidget, bar: QWidget) -> QWidget:
    """A tab: its content above a row of buttons."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(content, 1)
    layout.addWidget(bar)
    return page


def _button(text: str, name: str) -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(name)
    return b


class _Bar(QWidget):
    dialog_opened = Signal(object)  # the QDialog

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.patient: PatientDetails | None = None
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.message = QLabel()
        self.message.setObjectName("hint")
        self.message.setAccessibleName(self.tr("Messages"))
        self.row.addWidget(self.message, 1)

    def set_patient(self, patient: PatientDetails | None) -> None:
        self.patient = patient
        self.message.clear()
        self.update_buttons()

    def update_buttons(self) -> None:
        pass

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialog_opened.emit(dialog)
        return dialog

    def _alive(self) -> bool:
        return self.patient is not None and self.patient.date_of_death is None


class NeedsActions(_Bar):
    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.assessment_button = _button(
            self.tr("Needs &assessment…"), self.tr("Open the personalised needs assessment")
        )
        self.plan_button = _button(
            self.tr("Care && support &plan…"),
            self.tr("Open the care and support plan and its check"),
        )
        self.row.addWidget(self.assessment_button)
        self.row.addWidget(self.plan_button)
        self.assessment_button.clicked.connect(self.open_assessment)
        self.plan_button.clicked.connect(self.open_plan)
        self.update_buttons()

    def update_buttons(self) -> None:
        for b in (self.assessment_button, self.plan_button):
            b.setEnabled(self.patient is not None)

    def open_assessment(self) -> AssessmentDialog | None:
        if self.patient is None:
            return None
        dialog = AssessmentDialog(self.shell, self.patient.patient_id, self.patient.name, self)
        self._open(dialog)
        return dialog

    def open_plan(self) -> CarePlanDialog | None:
        if self.patient is None:
            return None
        dialog = CarePlanDialog(self.shell, self.patient.patient_id, self.patient.name, self)
        self._open(dialog)
        return dialog


class CarerActions(_Bar):
    carer_unlinked = Signal(object)  # CaringLink

    def __init__(self, shell: Shell, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.table = table
        self.add_button = _button(self.tr("Add &carer…"), self.tr("Add or link a carer"))
        self.open_button = _button(
            self.tr("Carer && ass&essment…"),
            self.tr("The selected carer's details and carer's assessment"),
        )
        self.unlink_button = _button(
            self.tr("&Unlink"), self.tr("The selected carer no longer cares for this patient")
        )
        for b in (self.add_button, self.open_button, self.unlink_button):
            self.row.addWidget(b)
        self.add_button.clicked.connect(self.add_carer)
        self.open_button.clicked.connect(self.open_carer)
        self.unlink_button.clicked.connect(lambda: self.unlink_selected())
        self.table.activated.connect(lambda _i: self.open_carer())
        self.table.selectionModel().selectionChanged.connect(self.update_buttons)
        self.table.model().modelReset.connect(self.update_buttons)
        self.update_buttons()

    def selected(self) -> CarerSummary | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = self.table.model().index(rows[0].row(), 0).data(ROW_ROLE)
        return row if isinstance(row, CarerSummary) else None

    def update_buttons(self) -> None:
        chosen = self.patient is not None and bool(self.table.selectionModel().selectedRows())
        self.add_button.setEnabled(self._alive())
        self.open_button.setEnabled(chosen)
        self.unlink_button.setEnabled(chosen)

    def add_carer(self) -> CarerDialog | None:
        if self.patient is None:
            return None
        dialog = CarerDialog(self.shell, self.patient.patient_id, self.patient.name, None, self)
        self._open(dialog)
        return dialog

    def open_carer(self) -> CarerDialog | None:
        carer = self.selected()
        if self.patient is None or carer is None:
            return None
        dialog = CarerDialog(
            self.shell, self.patient.patient_id, self.patient.name, carer.carer_id, self
        )
        self._open(dialog)
        return dialog

    def unlink_selected(self, *, ask: bool = True) -> None:
        carer = self.selected()
        if self.patient is None or carer is None:
            return
        if ask:
            answer = QMessageBox.question(
                self,
                self.tr("Unlink carer"),
                self.tr("%1 no longer cares for %2? They stay on record as a former carer.")
                .replace("%1", carer.name)
                .replace("%2", self.patient.name),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        cid, pid, now = carer.carer_id, self.patient.patient_id, self.shell.now()

        def job(session: Session) -> CaringLink:
            return unlink_carer(session, carer_id=cid, patient_id=pid, now=now)

        self.shell.runner.write(job, on_success=self._unlinked, on_failure=self._refused)

    def _unlinked(self, link: CaringLink) -> None:
        self.message.setText(self.tr("%1 unlinked.").replace("%1", link.carer.display_name))
        self.carer_unlinked.emit(link)

    def _refused(self, exc: BaseException) -> None:
        self.message.setText(str(exc))


class ReferralActions(_Bar):
    def __init__(self, shell: Shell, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.table = table
        self.refer_button = _button(self.tr("&Refer…"), self.tr("Refer to a service"))
        self.progress_button = _button(
            self.tr("Pro&gress…"),
            self.tr("The selected referral's history, chase-ups and next status"),
        )
        self.row.addWidget(self.refer_button)
        self.row.addWidget(self.progress_button)
        self.refer_button.clicked.connect(self.refer)
        self.progress_button.clicked.connect(self.open_progress)
        self.table.activated.connect(lambda _i: self.open_progress())
        self.table.selectionModel().selectionChanged.connect(self.update_buttons)
        self.table.model().modelReset.connect(self.update_buttons)
        self.update_buttons()

    def selected(self) -> ReferralSummary | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = self.table.model().index(rows[0].row(), 0).data(ROW_ROLE)
        return row if isinstance(row, ReferralSummary) else None

    def update_buttons(self) -> None:
        self.refer_button.setEnabled(self._alive())
        self.progress_button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def refer(self) -> ReferralDialog | None:
        if self.patient is None:
            return None
        dialog = ReferralDialog(self.shell, self.patient.patient_id, self.patient.name, self)
        self._open(dialog)
        return dialog

    def open_progress(self) -> ReferralStatusDialog | None:
        referral = self.selected()
        if referral is None:
            return None
        dialog = ReferralStatusDialog(self.shell, referral.referral_id, self)
        self._open(dialog)
        return dialog
