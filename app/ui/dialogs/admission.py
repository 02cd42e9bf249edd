"""Add an admission (with its discharge if known), or record the discharge of a current stay.
Dates are checked as they are typed: impossible dates, future times, discharge before
admission."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.services.caseload_view import HospitalStay, PatientDetails
from app.services.followup import AdmissionView, record_admission, record_discharge
from app.ui import format as fmt
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel, read_datetime

_ADMITTED = ("admission", "admitted_at")
_DISCHARGED = ("discharge", "discharged_at")


class AdmissionDialog(QDialog):
    admission_saved = Signal(object)  # AdmissionView

    def __init__(
        self,
        shell: Shell,
        patient: PatientDetails,
        stay: HospitalStay | None,
        parent: QWidget | None = None,
    ) -> None:
        """``stay`` None: a new admission; otherwise record that stay's discharge."""
        super().__init__(parent)
        self.shell = shell
        self.patient = patient
        self.stay = stay
        self.setWindowTitle(self.tr("Record discharge") if stay else self.tr("Add admission"))
        self._build()
        self._connect()

    def _build(self) -> None:
        p = self.patient
        heading = QLabel(f"<b>{html.escape(p.name)}</b> &nbsp; {fmt.nhs(p.nhs_number)}")
        self.admitted_at = QLineEdit()
        self.admitted_at.setAccessibleName(self.tr("Admitted at"))
        self.admitted_at.setPlaceholderText(self.tr("dd/mm/yyyy HH:MM"))
        self.admitted_error = ErrorLabel(self.tr("admission time"))
        self.discharged_at = QLineEdit()
        self.discharged_at.setAccessibleName(self.tr("Discharged at"))
        self.discharged_at.setPlaceholderText(
            self.tr("dd/mm/yyyy HH:MM — leave empty while still in hospital")
            if self.stay is None
            else self.tr("dd/mm/yyyy HH:MM")
        )
        self.discharged_error = ErrorLabel(self.tr("discharge time"))
        self.hospital = QLineEdit()
        self.hospital.setAccessibleName(self.tr("Hospital"))
        self.ward = QLineEdit()
        self.ward.setAccessibleName(self.tr("Ward"))
        self.destination = QLineEdit()
        self.destination.setAccessibleName(self.tr("Discharge destination"))
        self.destination.setPlaceholderText(self.tr("e.g. usual residence, care home"))
        self.general_error = ErrorLabel(self.tr("the admission"))

        form = QFormLayout()
        if self.stay is None:
            form.addRow(self.tr("&Admitted"), self.admitted_at)
            form.addRow("", self.admitted_error)
        else:
            where = ", ".join(x for x in (self.stay.hospital, self.stay.ward) if x)
            form.addRow(
                self.tr("Admitted"), QLabel(f"{fmt.when(self.stay.admitted_at)} {where}".strip())
            )
        form.addRow(self.tr("&Discharged"), self.discharged_at)
        form.addRow("", self.discharged_error)
        if self.stay is None:
            form.addRow(self.tr("&Hospital"), self.hospital)
            form.addRow(self.tr("&Ward"), self.ward)
        form.addRow(self.tr("Des&tination"), self.destination)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName(self.tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel")
        )
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def _connect(self) -> None:
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.admitted_at.editingFinished.connect(self._check)
        self.discharged_at.editingFinished.connect(self._check)
        self.admitted_at.textChanged.connect(self.admitted_error.clear_error)
        self.discharged_at.textChanged.connect(self.discharged_error.clear_error)

    def _read(
        self, edit: QLineEdit, error: ErrorLabel, field: str, what: str, *, required: bool
    ) -> tuple[bool, datetime | None]:
        if not edit.text().strip() and not required:
            error.clear_error()
            return True, None
        try:
            value = read_datetime(edit, field=field, now=self.shell.now(), what=what)
        except ValidationError as exc:
            error.show_error(str(exc))
            return False, None
        error.clear_error()
        return True, value

    def _check(self) -> tuple[bool, datetime | None, datetime | None]:
        """Check both times; returns (all fine, admitted, discharged)."""
        if self.stay is None:
            ok_a, admitted = self._read(
                self.admitted_at, self.admitted_error, "admitted_at", self.tr("admission"),
                required=True,
            )  # fmt: skip
        else:
            ok_a, admitted = True, self.stay.admitted_at
        ok_d, discharged = self._read(
            self.discharged_at, self.discharged_error, "discharged_at", self.tr("discharge"),
            required=self.stay is not None,
        )  # fmt: skip
        if ok_a and ok_d and admitted and discharged and discharged < admitted:
            self.discharged_error.show_error(
                self.tr("The discharge is before the admission (%1).").replace(
                    "%1", fmt.when(admitted)
                )
            )
            ok_d = False
        return ok_a and ok_d, admitted, discharged

    def _save(self) -> None:
        self.general_error.clear_error()
        ok, admitted, discharged = self._check()
        if not ok:
            first = self.admitted_at if self.admitted_error.has_error else self.discharged_at
            first.setFocus()
            return
        now, pid = self.shell.now(), self.patient.patient_id
        hospital = self.hospital.text().strip() or None
        ward = self.ward.text().strip() or None
        destination = self.destination.text().strip() or None
        stay = self.stay

        def job(session: Session) -> AdmissionView:
            if stay is not None:
                assert discharged is not None
                return record_discharge(
                    session,
                    admission_id=stay.admission_id,
                    discharged_at=discharged,
                    discharge_destination=destination,
                    now=now,
                )
            assert admitted is not None
            return record_admission(
                session,
                patient_id=pid,
                admitted_at=admitted,
                discharged_at=discharged,
                hospital=hospital,
                ward=ward,
                discharge_destination=destination,
                now=now,
            )

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, view: AdmissionView) -> None:
        self.admission_saved.emit(view)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        field = getattr(exc, "field", None)
        if field in _ADMITTED:
            self.admitted_error.show_error(str(exc))
        elif field in _DISCHARGED:
            self.discharged_error.show_error(str(exc))
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The admission could not be saved: %1").replace("%1", str(exc))
            )
