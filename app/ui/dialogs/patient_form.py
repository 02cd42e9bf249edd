"""Add or edit a patient. Each field is checked as it is typed (NHS number check digit, real
and past dates, UK postcode); the service checks everything again when saving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.core.timeutil import to_local
from app.core.validation import format_nhs_number, normalise_nhs_number, normalise_postcode
from app.models.patient import FRAILTY_BANDS, LEVELS, REFERRAL_SOURCES, SEXES
from app.services import caseload
from app.services.caseload_view import FilterOptions, PatientDetails, caseload_filter_options
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel, read_date


@dataclass(frozen=True)
class PatientForm:
    """What the form holds once every field has been checked."""

    nhs_number: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str | None
    practice_code: str | None
    postcode: str | None
    phone: str | None
    coordinator_id: str | None
    level: str
    referral_source: str
    ltc_count: int | None
    frailty_band: str | None
    predicted_cost_ratio: float | None
    risk_score: float | None
    respect_in_place: bool
    respect_date: date | None
    respect_location: str | None
    consent_to_share: bool
    flag_for_mdt: bool
    level_reason: str | None
    notes: str | None


def save_patient(
    session: Session, *, form: PatientForm, before: PatientDetails | None, now: datetime
) -> str:
    """Register or update a patient through the caseload service; returns the patient id."""
    cohort: dict[str, Any] = {
        "ltc_count": form.ltc_count,
        "frailty_band": form.frailty_band,
        "predicted_cost_ratio": form.predicted_cost_ratio,
        "risk_score": form.risk_score,
        "notes": form.notes,
    }
    if before is None:
        view = caseload.register_patient(
            session,
            nhs_number=form.nhs_number,
            family_name=form.family_name,
            given_name=form.given_name,
            date_of_birth=form.date_of_birth,
            now=now,
            practice_code=form.practice_code,
            sex=form.sex,
            postcode=form.postcode,
            phone=form.phone,
            coordinator_id=form.coordinator_id,
            level=form.level,
            referral_source=form.referral_source,
            **{k: v for k, v in cohort.items() if v is not None},
        )
        pid = view.id
    else:
        pid = before.patient_id
        caseload.update_patient(
            session,
            patient_id=pid,
            now=now,
            nhs_number=form.nhs_number,
            family_name=form.family_name,
            given_name=form.given_name,
            date_of_birth=form.date_of_birth,
            sex=form.sex,
            practice_code=form.practice_code,
            postcode=form.postcode,
            phone=form.phone,
            **cohort,
        )
        if form.level != before.level:
            caseload.change_level(
                session,
                patient_id=pid,
                to_level=form.level,
                reason=form.level_reason or "",
                now=now,
            )
        if form.coordinator_id and form.coordinator_id != before.coordinator_id:
            caseload.reassign_patient(
                session, patient_id=pid, coordinator_id=form.coordinator_id, now=now
            )
    respect = (form.respect_in_place, form.respect_date, form.respect_location)
    if (before is None and form.respect_in_place) or (
        before is not None
        and respect != (before.respect_in_place, before.respect_date, before.respect_location)
    ):
        caseload.set_respect(
            session,
            patient_id=pid,
            in_place=form.respect_in_place,
            respect_date=form.respect_date,
            location=form.respect_location,
            now=now,
        )
    if before is None or form.consent_to_share != before.consent_to_share:
        caseload.set_consent(session, patient_id=pid, consent=form.consent_to_share, now=now)
    if before is None or form.flag_for_mdt != before.flag_for_mdt:
        caseload.flag_for_mdt(session, patient_id=pid, flagged=form.flag_for_mdt, now=now)
    return pid


_FIELD_ERRORS = {
    "nhs_number": "nhs_error",
    "family name": "family_error",
    "family_name": "family_error",
    "given name": "given_error",
    "given_name": "given_error",
    "date_of_birth": "dob_error",
    "postcode": "postcode_error",
    "phone": "phone_error",
    "practice_code": "practice_error",
    "respect_date": "respect_error",
    "reason for the change": "level_error",
}


class PatientDialog(QDialog):
    patient_saved = Signal(str)  # the patient id

    def __init__(
        self, shell: Shell, before: PatientDetails | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.before = before
        self.setWindowTitle(self.tr("Edit patient") if before else self.tr("New patient"))
        self._build()
        self._connect()
        self._fill(before)
        self.shell.runner.read(caseload_filter_options, on_success=self._options_loaded)

    # --- layout ---
    def _line(self, name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def _build(self) -> None:
        t = self.tr
        self.nhs_number = self._line(t("NHS number"), t("10 digits, e.g. 943 476 5919"))
        self.nhs_error = ErrorLabel(t("NHS number"))
        self.family_name = self._line(t("Family name"))
        self.family_error = ErrorLabel(t("family name"))
        self.given_name = self._line(t("Given name"))
        self.given_error = ErrorLabel(t("given name"))
        self.date_of_birth = self._line(t("Date of birth"), t("dd/mm/yyyy"))
        self.dob_error = ErrorLabel(t("date of birth"))
        self.sex = QComboBox()
        self.sex.setAccessibleName(t("Sex"))
        self.sex.addItem(t("Not recorded"), None)
        for s in SEXES:
            self.sex.addItem(t(s.capitalize()), s)
        self.postcode = self._line(t("Postcode"), t("e.g. LE1 5WW"))
        self.postcode_error = ErrorLabel(t("postcode"))
        self.phone = self._line(t("Phone"))
        self.phone_error = ErrorLabel(t("phone"))

        self.practice = QComboBox()
        self.practice.setAccessibleName(t("GP practice"))
        self.practice.setEditable(True)
        self.practice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.practice.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.practice_error = ErrorLabel(t("practice"))
        self.coordinator = QComboBox()
        self.coordinator.setAccessibleName(t("Coordinator"))
        self.level = QComboBox()
        self.level.setAccessibleName(t("Care coordination level"))
        for lv in LEVELS:
            self.level.addItem(t(lv), lv)
        self.level_reason = self._line(t("Reason for the level change"))
        self.level_error = ErrorLabel(t("level change"))
        self.source = QComboBox()
        self.source.setAccessibleName(t("Referral source"))
        for src in REFERRAL_SOURCES:
            self.source.addItem(t(src), src)

        self.ltc = QSpinBox()
        self.ltc.setAccessibleName(t("Number of long-term conditions"))
        self.ltc.setRange(-1, 60)
        self.ltc.setSpecialValueText(t("Not recorded"))
        self.frailty = QComboBox()
        self.frailty.setAccessibleName(t("Frailty"))
        self.frailty.addItem(t("Not recorded"), None)
        for band in FRAILTY_BANDS:
            self.frailty.addItem(t(band.capitalize()), band)
        self.cost = QDoubleSpinBox()
        self.cost.setAccessibleName(t("Predicted cost, times the average"))
        self.cost.setRange(-0.1, 1000)
        self.cost.setDecimals(1)
        self.cost.setSingleStep(0.1)
        self.cost.setSpecialValueText(t("Not recorded"))
        self.risk = QSpinBox()
        self.risk.setAccessibleName(t("Risk score"))
        self.risk.setRange(-1, 100)
        self.risk.setSpecialValueText(t("Not scored"))

        self.respect = QCheckBox(t("ReSPECT form in place"))
        self.respect.setAccessibleName(t("ReSPECT form in place"))
        self.respect_date = self._line(t("ReSPECT date"), t("dd/mm/yyyy"))
        self.respect_error = ErrorLabel(t("ReSPECT date"))
        self.respect_location = self._line(t("Where the ReSPECT form is held"))
        self.consent = QCheckBox(t("Consent to share information"))
        self.consent.setAccessibleName(t("Consent to share information"))
        self.for_mdt = QCheckBox(t("Flag for the next MDT"))
        self.for_mdt.setAccessibleName(t("Flag for the next MDT"))
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName(t("Notes"))
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(60)
        self.general_error = ErrorLabel(t("the patient"))

        person = QGroupBox(t("Person"))
        f1 = QFormLayout(person)
        f1.addRow(t("&NHS number"), self.nhs_number)
        f1.addRow("", self.nhs_error)
        f1.addRow(t("&Family name"), self.family_name)
        f1.addRow("", self.family_error)
        f1.addRow(t("&Given name"), self.given_name)
        f1.addRow("", self.given_error)
        f1.addRow(t("Date of &birth"), self.date_of_birth)
        f1.addRow("", self.dob_error)
        f1.addRow(t("Se&x"), self.sex)
        f1.addRow(t("&Postcode"), self.postcode)
        f1.addRow("", self.postcode_error)
        f1.addRow(t("P&hone"), self.phone)
        f1.addRow("", self.phone_error)

        care = QGroupBox(t("Care coordination"))
        f2 = QFormLayout(care)
        f2.addRow(t("GP p&ractice"), self.practice)
        f2.addRow("", self.practice_error)
        f2.addRow(t("&Coordinator"), self.coordinator)
        f2.addRow(t("&Level"), self.level)
        f2.addRow(t("Why the level changes"), self.level_reason)
        f2.addRow("", self.level_error)
        if self.before is None:
            f2.addRow(t("Referral &source"), self.source)
        f2.addRow(t("Long-term conditions"), self.ltc)
        f2.addRow(t("Frailty"), self.frailty)
        f2.addRow(t("Predicted cost ×"), self.cost)
        f2.addRow(t("Risk score"), self.risk)

        wishes = QGroupBox(t("ReSPECT, consent and MDT"))
        f3 = QFormLayout(wishes)
        f3.addRow(self.respect)
        f3.addRow(t("ReSPECT &date"), self.respect_date)
        f3.addRow("", self.respect_error)
        f3.addRow(t("Held at"), self.respect_location)
        f3.addRow(self.consent)
        f3.addRow(self.for_mdt)
        f3.addRow(t("No&tes"), self.notes)

        right = QVBoxLayout()
        right.addWidget(care)
        right.addWidget(wishes)
        columns = QHBoxLayout()
        columns.addWidget(person, 1)
        columns.addLayout(right, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName(t("Save the patient"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(t("Cancel"))
        self.setMinimumWidth(780)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self._level_changed()
        self._respect_toggled()

    def _connect(self) -> None:
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.nhs_number.editingFinished.connect(self._check_nhs)
        self.nhs_number.textChanged.connect(self._nhs_typed)
        self.date_of_birth.editingFinished.connect(self._check_dob)
        self.date_of_birth.textChanged.connect(self.dob_error.clear_error)
        self.postcode.editingFinished.connect(self._check_postcode)
        self.postcode.textChanged.connect(self.postcode_error.clear_error)
        self.family_name.textChanged.connect(self.family_error.clear_error)
        self.given_name.textChanged.connect(self.given_error.clear_error)
        self.respect_date.editingFinished.connect(self._check_respect)
        self.respect.toggled.connect(self._respect_toggled)
        self.level.currentIndexChanged.connect(self._level_changed)

    # --- filling ---
    def _fill(self, d: PatientDetails | None) -> None:
        if d is None:
            self.level.setCurrentIndex(self.level.findData("Enhanced"))
            self.ltc.setValue(-1)
            self.cost.setValue(-0.1)
            self.risk.setValue(-1)
            return
        self.nhs_number.setText(format_nhs_number(d.nhs_number))
        self.family_name.setText(d.family_name)
        self.given_name.setText(d.given_name)
        self.date_of_birth.setText(d.date_of_birth.strftime("%d/%m/%Y"))
        self.sex.setCurrentIndex(max(self.sex.findData(d.sex), 0))
        self.postcode.setText(d.postcode or "")
        self.phone.setText(d.phone or "")
        self.level.setCurrentIndex(max(self.level.findData(d.level), 0))
        self.ltc.setValue(-1 if d.ltc_count is None else d.ltc_count)
        self.frailty.setCurrentIndex(max(self.frailty.findData(d.frailty_band), 0))
        self.cost.setValue(-0.1 if d.predicted_cost_ratio is None else d.predicted_cost_ratio)
        self.risk.setValue(-1 if d.risk_score is None else round(d.risk_score))
        self.respect.setChecked(d.respect_in_place)
        self.respect_date.setText(d.respect_date.strftime("%d/%m/%Y") if d.respect_date else "")
        self.respect_location.setText(d.respect_location or "")
        self.consent.setChecked(d.consent_to_share)
        self.for_mdt.setChecked(d.flag_for_mdt)
        self.notes.setPlainText(d.notes or "")
        self._level_changed()

    def _options_loaded(self, options: FilterOptions) -> None:
        self.practice.clear()
        self.practice.addItem(self.tr("Not recorded"), None)
        for p in options.practices:
            self.practice.addItem(f"{p.name} — {p.sub_locality}", p.code)
        self.coordinator.clear()
        self.coordinator.addItem(self.tr("Unassigned"), None)
        for c in options.coordinators:
            self.coordinator.addItem(c.label, c.value)
        d = self.before
        wanted_coordinator = d.coordinator_id if d else self.shell.coordinator_id
        self.coordinator.setCurrentIndex(max(self.coordinator.findData(wanted_coordinator), 0))
        if d is not None:
            self.practice.setCurrentIndex(max(self.practice.findData(d.practice_code), 0))

    # --- field checks ---
    def _nhs_typed(self, text: str) -> None:
        if sum(ch.isdigit() for ch in text) >= 10:
            self._check_nhs()
        else:
            self.nhs_error.clear_error()

    def _check_nhs(self) -> str | None:
        try:
            value = normalise_nhs_number(self.nhs_number.text())
        except ValidationError as exc:
            self.nhs_error.show_error(str(exc))
            return None
        self.nhs_error.clear_error()
        return value

    def _today(self) -> date:
        return to_local(self.shell.now()).date()

    def _check_dob(self) -> date | None:
        try:
            value = read_date(
                self.date_of_birth, field="date_of_birth", today=self._today(),
                what=self.tr("date of birth"),
            )  # fmt: skip
        except ValidationError as exc:
            self.dob_error.show_error(str(exc))
            return None
        if value.year < 1900:
            self.dob_error.show_error(self.tr("The date of birth is before 1900."))
            return None
        self.dob_error.clear_error()
        return value

    def _check_postcode(self) -> tuple[bool, str | None]:
        if not self.postcode.text().strip():
            self.postcode_error.clear_error()
            return True, None
        try:
            value = normalise_postcode(self.postcode.text())
        except ValidationError as exc:
            self.postcode_error.show_error(str(exc))
            return False, None
        self.postcode_error.clear_error()
        return True, value

    def _check_respect(self) -> tuple[bool, date | None]:
        if not self.respect.isChecked():
            self.respect_error.clear_error()
            return True, None
        if not self.respect_date.text().strip():
            self.respect_error.show_error(self.tr("Give the date the ReSPECT form was signed."))
            return False, None
        try:
            value = read_date(
                self.respect_date, field="respect_date", today=self._today(),
                what=self.tr("ReSPECT date"),
            )  # fmt: skip
        except ValidationError as exc:
            self.respect_error.show_error(str(exc))
            return False, None
        self.respect_error.clear_error()
        return True, value

    def _check_name(self, edit: QLineEdit, error: ErrorLabel, what: str) -> str | None:
        value = " ".join(edit.text().split())
        if not value:
            error.show_error(self.tr("The %1 is required.").replace("%1", what))
            return None
        return value

    def _practice_code(self) -> tuple[bool, str | None]:
        text = self.practice.currentText().strip()
        index = self.practice.findText(text, Qt.MatchFlag.MatchFixedString)
        if index < 0:
            self.practice_error.show_error(self.tr("Choose a practice from the list."))
            return False, None
        self.practice_error.clear_error()
        return True, self.practice.itemData(index)

    def _respect_toggled(self) -> None:
        on = self.respect.isChecked()
        self.respect_date.setEnabled(on)
        self.respect_location.setEnabled(on)
        if not on:
            self.respect_error.clear_error()

    def _level_changed(self) -> None:
        changing = self.before is not None and self.level.currentData() != self.before.level
        self.level_reason.setEnabled(changing)
        if not changing:
            self.level_error.clear_error()

    # --- saving ---
    def read_form(self) -> PatientForm | None:
        """Check every field, show every problem, and return the form only if all are fine."""
        nhs = self._check_nhs()
        family = self._check_name(self.family_name, self.family_error, self.tr("family name"))
        given = self._check_name(self.given_name, self.given_error, self.tr("given name"))
        dob = self._check_dob()
        postcode_ok, postcode = self._check_postcode()
        respect_ok, respect_date = self._check_respect()
        practice_ok, practice = self._practice_code()
        reason = self.level_reason.text().strip() or None
        level_ok = not self.level_reason.isEnabled() or reason is not None
        if not level_ok:
            self.level_error.show_error(self.tr("Say why the level is changing."))
        fine = (nhs, family, given, dob)
        if any(v is None for v in fine) or not (postcode_ok and respect_ok and practice_ok):
            return None
        if not level_ok:
            return None
        assert nhs and family and given and dob
        return PatientForm(
            nhs_number=nhs,
            family_name=family,
            given_name=given,
            date_of_birth=dob,
            sex=self.sex.currentData(),
            practice_code=practice,
            postcode=postcode,
            phone=self.phone.text().strip() or None,
            coordinator_id=self.coordinator.currentData(),
            level=self.level.currentData(),
            referral_source=self.source.currentData(),
            ltc_count=None if self.ltc.value() < 0 else self.ltc.value(),
            frailty_band=self.frailty.currentData(),
            predicted_cost_ratio=None if self.cost.value() < 0 else self.cost.value(),
            risk_score=None if self.risk.value() < 0 else float(self.risk.value()),
            respect_in_place=self.respect.isChecked(),
            respect_date=respect_date,
            respect_location=self.respect_location.text().strip() or None,
            consent_to_share=self.consent.isChecked(),
            flag_for_mdt=self.for_mdt.isChecked(),
            level_reason=reason,
            notes=self.notes.toPlainText().strip() or None,
        )

    def _save(self) -> None:
        self.general_error.clear_error()
        form = self.read_form()
        if form is None:
            self.general_error.show_error(self.tr("Please correct the fields marked in red."))
            return
        before, now = self.before, self.shell.now()

        def job(session: Session) -> str:
            return save_patient(session, form=form, before=before, now=now)

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, patient_id: str) -> None:
        self.patient_saved.emit(patient_id)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        target = _FIELD_ERRORS.get(getattr(exc, "field", None) or "")
        if isinstance(exc, ValidationError) and target is not None:
            getattr(self, target).show_error(str(exc))
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The patient could not be saved: %1").replace("%1", str(exc))
            )
