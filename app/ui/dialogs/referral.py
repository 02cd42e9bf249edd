"""Make a referral from the service directory: choose the service (by kind, in the patient's
locality), give the reason, record consent (required), and send it or keep it as a draft. A
second open referral to the same service is warned about before anything is sent."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.core.reference import SERVICE_KIND_LABELS, SERVICE_KINDS
from app.core.timeutil import to_local
from app.services.caseload_view import caseload_filter_options, patient_details
from app.services.directory import ServiceView, list_services
from app.services.referrals import ReferralView, make_referral, referrals_for_patient
from app.ui import format as fmt
from app.ui.models.directory import ServiceModel
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel


@dataclass(frozen=True)
class ReferralChoices:
    services: tuple[ServiceView, ...]
    referrals: tuple[ReferralView, ...]  # the patient's, to warn about duplicates
    locality: str | None  # the patient's practice's locality


def load_choices(session: Session, *, patient_id: str, now: datetime) -> ReferralChoices:
    details = patient_details(session, patient_id=patient_id, now=now)
    practices = caseload_filter_options(session).practices
    locality = next((p.locality for p in practices if p.code == details.practice_code), None)
    return ReferralChoices(
        services=tuple(list_services(session)),
        referrals=tuple(referrals_for_patient(session, patient_id=patient_id, now=now)),
        locality=locality,
    )


class ReferralDialog(QDialog):
    referral_made = Signal(object)  # ReferralView

    def __init__(
        self, shell: Shell, patient_id: str, patient_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.patient_id = patient_id
        self.choices: ReferralChoices | None = None
        self._confirmed_duplicate: str | None = None
        self.setWindowTitle(self.tr("Refer %1").replace("%1", patient_name))
        self.resize(900, 680)
        self._build()
        self._connect()
        pid, now = patient_id, shell.now()
        self.shell.runner.read(
            lambda s: load_choices(s, patient_id=pid, now=now),
            on_success=self._loaded,
            on_failure=self._refused,
        )

    def _build(self) -> None:
        self.kind = QComboBox()
        self.kind.setAccessibleName(self.tr("Kind of service"))
        self.kind.addItem(self.tr("All kinds of service"), None)
        for kind in SERVICE_KINDS:
            self.kind.addItem(self.tr(SERVICE_KIND_LABELS[kind]), kind)
        self.local_only = QCheckBox(self.tr("Only services for the patient's locality"))
        self.local_only.setAccessibleName(self.tr("Only services for the patient's locality"))
        self.local_only.setChecked(True)
        filters = QHBoxLayout()
        kind_label = QLabel(self.tr("&Kind"))
        kind_label.setBuddy(self.kind)
        filters.addWidget(kind_label)
        filters.addWidget(self.kind, 1)
        filters.addWidget(self.local_only)
        self.services = ServiceModel(self)
        self.table = QTableView()
        self.table.setAccessibleName(self.tr("Services in the directory"))
        self.table.setModel(self.services)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 190), (2, 150), (3, 85)):
            self.table.setColumnWidth(col, width)
        self.table.hideColumn(4)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setAccessibleName(self.tr("About the service"))
        self.service_error = ErrorLabel(self.tr("service"))
        self.duplicate = QLabel()
        self.duplicate.setObjectName("banner")
        self.duplicate.setStyleSheet("background: #ffb81c; color: black;")
        self.duplicate.setWordWrap(True)
        self.duplicate.setAccessibleName(self.tr("Duplicate referral warning"))
        self.duplicate.hide()
        service_box = QGroupBox(self.tr("Service"))
        sbox = QVBoxLayout(service_box)
        sbox.addLayout(filters)
        sbox.addWidget(self.table, 1)
        sbox.addWidget(self.about)
        sbox.addWidget(self.service_error)

        self.reason = QPlainTextEdit()
        self.reason.setAccessibleName(self.tr("Reason for the referral"))
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(80)
        self.reason_error = ErrorLabel(self.tr("reason"))
        self.consent = QCheckBox(
            self.tr("The patient consents to this referral and to sharing their details with it")
        )
        self.consent.setAccessibleName(self.tr("Patient's consent to the referral"))
        self.consent_error = ErrorLabel(self.tr("consent"))
        self.send_now = QCheckBox(self.tr("Mark it as sent now (otherwise it is kept as a draft)"))
        self.send_now.setAccessibleName(self.tr("Send the referral now"))
        self.send_now.setChecked(True)
        reason_label = QLabel(self.tr("&Reason"))
        reason_label.setBuddy(self.reason)

        self.general_error = ErrorLabel(self.tr("the referral"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("Refer"))
        self.save_button.setAccessibleName(self.tr("Make the referral"))

        layout = QVBoxLayout(self)
        layout.addWidget(service_box, 1)
        layout.addWidget(self.duplicate)
        layout.addWidget(reason_label)
        layout.addWidget(self.reason)
        layout.addWidget(self.reason_error)
        layout.addWidget(self.consent)
        layout.addWidget(self.consent_error)
        layout.addWidget(self.send_now)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        self.buttons.accepted.connect(self.refer)
        self.buttons.rejected.connect(self.reject)
        self.kind.currentIndexChanged.connect(self._filter)
        self.local_only.toggled.connect(self._filter)
        self.table.selectionModel().selectionChanged.connect(self._service_chosen)
        self.consent.toggled.connect(self.consent_error.clear_error)
        self.reason.textChanged.connect(self.reason_error.clear_error)

    # --- choosing the service ---
    def _loaded(self, choices: ReferralChoices) -> None:
        self.choices = choices
        if choices.locality:
            self.local_only.setText(self.tr("Only services for %1").replace("%1", choices.locality))
        else:
            self.local_only.setChecked(False)
            self.local_only.setEnabled(False)
        self._filter()

    def _filter(self) -> None:
        if self.choices is None:
            return
        kind, local = self.kind.currentData(), self.local_only.isChecked()
        where = self.choices.locality
        rows = [
            s
            for s in self.choices.services
            if (kind is None or s.kind == kind)
            and (not local or where is None or s.locality in (None, where))
        ]
        self.services.set_rows(rows)
        self._service_chosen()

    def selected_service(self) -> ServiceView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.services.row_at(rows[0].row()) if rows else None

    def select_service(self, service_id: str) -> bool:
        for row, s in enumerate(self.services.rows()):
            if s.id == service_id:
                self.table.selectRow(row)
                return True
        return False

    def open_duplicates(self, service: ServiceView | None) -> tuple[ReferralView, ...]:
        if service is None or self.choices is None:
            return ()
        return tuple(r for r in self.choices.referrals if r.service_id == service.id and r.is_open)

    def _service_chosen(self) -> None:
        service = self.selected_service()
        self.service_error.clear_error()
        if service is None:
            self.about.setText(self.tr("Choose a service."))
        else:
            esc = html.escape
            parts = [f"<b>{esc(service.name)}</b>"]
            for caption, text in (
                (self.tr("What it does"), service.description),
                (self.tr("How to refer"), service.how_to_refer),
                (self.tr("Contact"), service.contact),
            ):
                if text:
                    parts.append(f"<b>{esc(caption)}:</b> {esc(text)}")
            self.about.setText("<br>".join(parts))
        dupes = self.open_duplicates(service)
        if dupes:
            text = self.tr(
                "%1 already has an open referral to this service (%2, made %3). Check it "
                "before sending another: duplicate referrals waste the service's time."
            )
            first = dupes[0]
            self.duplicate.setText(
                text.replace("%1", first.patient_name)
                .replace("%2", fmt.label(first.status))
                .replace("%3", fmt.day(to_local(first.created_at).date()))
            )
        self.duplicate.setVisible(bool(dupes))
        self.save_button.setText(self.tr("Refer"))
        self._confirmed_duplicate = None

    # --- referring ---
    def refer(self) -> None:
        for e in (self.service_error, self.reason_error, self.consent_error, self.general_error):
            e.clear_error()
        service = self.selected_service()
        if service is None:
            self.service_error.show_error(self.tr("Choose the service to refer to."))
            return
        if self.open_duplicates(service) and self._confirmed_duplicate != service.id:
            # the warning is on screen: a second press sends anyway
            self._confirmed_duplicate = service.id
            self.save_button.setText(self.tr("Refer anyway"))
            self.duplicate.setFocus()
            return
        pid, sid, now = self.patient_id, service.id, self.shell.now()
        reason, consent = self.reason.toPlainText(), self.consent.isChecked()
        send, who = self.send_now.isChecked(), self.shell.coordinator_id

        def job(session: Session) -> ReferralView:
            return make_referral(
                session,
                patient_id=pid,
                service_id=sid,
                reason=reason,
                consent_given=consent,
                now=now,
                created_by_id=who,
                send=send,
            )

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._made, on_failure=self._refused)

    def _made(self, referral: ReferralView) -> None:
        self.referral_made.emit(referral)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        field = getattr(exc, "field", None)
        if isinstance(exc, ValidationError) and field == "consent_given":
            self.consent_error.show_error(str(exc))
            self.consent.setFocus()
        elif isinstance(exc, ValidationError) and field and "reason" in field:
            self.reason_error.show_error(str(exc))
            self.reason.setFocus()
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The referral could not be made: %1").replace("%1", str(exc))
            )
