"""The patient record: a header with who the person is and why they are on the list, and tabs
for the timeline, discharges and calls, assessment and care plan, carers, referrals, tasks and
MDT notes."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.caseload_view import AssessmentSummary, MdtNote, PatientRecord, patient_record
from app.services.followup import DischargeView, discharges_for_patient
from app.services.tasks import TaskView, complete_task, list_tasks
from app.ui import format as fmt
from app.ui.dialogs.admission import AdmissionDialog
from app.ui.dialogs.log_call import CallTarget, LogCallDialog
from app.ui.dialogs.patient_form import PatientDialog
from app.ui.models.patient import (
    CarerModel,
    DischargeModel,
    PatientTaskModel,
    ReferralModel,
    TimelineModel,
)
from app.ui.screens.base import Screen
from app.ui.shell import Shell
from app.ui.widgets.record_actions import CarerActions, NeedsActions, ReferralActions, tab_page


@dataclass(frozen=True)
class PatientData:
    record: PatientRecord
    discharges: tuple[DischargeView, ...]
    tasks: tuple[TaskView, ...]
    now: datetime


def load_patient(session: Session, *, patient_id: str, now: datetime) -> PatientData:
    return PatientData(
        record=patient_record(session, patient_id=patient_id, now=now),
        discharges=tuple(discharges_for_patient(session, patient_id=patient_id, now=now)),
        tasks=tuple(list_tasks(session, now=now, patient_id=patient_id, include_done=True)),
        now=now,
    )


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


def _value_label(name: str) -> QLabel:
    label = QLabel()
    label.setAccessibleName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class PatientScreen(Screen):
    loaded = Signal()
    back_requested = Signal()
    call_logged = Signal(object)

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.patient_id: str | None = None
        self.data: PatientData | None = None
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        self.back_button = QPushButton(self.tr("← Back"))
        self.back_button.setAccessibleName(self.tr("Back to the previous screen (Alt+Left)"))
        self.back_button.setShortcut("Alt+Left")
        self.name = QLabel()
        self.name.setObjectName("patientName")
        self.name.setAccessibleName(self.tr("Patient name"))
        self.nhs = _value_label(self.tr("NHS number"))
        self.nhs.setObjectName("patientNhs")
        self.nhs.setWordWrap(False)
        self.born = _value_label(self.tr("Age and date of birth"))
        self.born.setObjectName("patientBorn")
        self.born.setWordWrap(False)
        self.deceased = QLabel()
        self.deceased.setObjectName("banner")
        self.deceased.hide()
        self.edit_button = QPushButton(self.tr("Edit details…"))
        self.edit_button.setAccessibleName(self.tr("Edit the patient's details"))
        self.admission_button = QPushButton(self.tr("Add admission…"))
        self.admission_button.setAccessibleName(self.tr("Add a hospital admission or discharge"))

        self.practice = _value_label(self.tr("Practice"))
        self.level = _value_label(self.tr("Care coordination level"))
        self.coordinator = _value_label(self.tr("Coordinator"))
        self.risk = _value_label(self.tr("Risk score"))
        self.cohort = _value_label(self.tr("Why this person is on the list"))
        self.cohort.setObjectName("cohort")
        self.respect = _value_label(self.tr("ReSPECT form"))
        self.consent = _value_label(self.tr("Consent to share"))
        self.carers = _value_label(self.tr("Carers"))
        self.contact = _value_label(self.tr("Contact details"))

        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addSpacing(12)
        top.addWidget(self.name)
        top.addSpacing(12)
        top.addWidget(self.nhs)
        top.addSpacing(12)
        top.addWidget(self.born)
        top.addStretch(1)
        top.addWidget(self.edit_button)
        top.addWidget(self.admission_button)

        facts = QGridLayout()
        facts.setHorizontalSpacing(18)
        pairs = (
            (self.tr("Practice"), self.practice),
            (self.tr("Level"), self.level),
            (self.tr("Coordinator"), self.coordinator),
            (self.tr("Risk"), self.risk),
            (self.tr("ReSPECT"), self.respect),
            (self.tr("Consent"), self.consent),
            (self.tr("Contact"), self.contact),
            (self.tr("Carers"), self.carers),
        )
        for i, (caption, value) in enumerate(pairs):
            key = QLabel(caption)
            key.setObjectName("factKey")
            facts.addWidget(key, i // 4, (i % 4) * 2, Qt.AlignmentFlag.AlignTop)
            facts.addWidget(value, i // 4, (i % 4) * 2 + 1, Qt.AlignmentFlag.AlignTop)
        for col, stretch in ((1, 3), (3, 1), (5, 2), (7, 2)):
            facts.setColumnStretch(col, stretch)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Patient record sections"))
        self.timeline = TimelineModel(self)
        self.timeline_table = _table(self.tr("Timeline"))
        self.timeline_table.setModel(self.timeline)
        self.timeline_table.setColumnWidth(0, 140)
        self.timeline_table.setColumnWidth(1, 110)
        self.tabs.addTab(self.timeline_table, self.tr("&Timeline"))

        self.discharges = DischargeModel(self)
        self.discharge_table = _table(self.tr("Discharges and calls"))
        self.discharge_table.setModel(self.discharges)
        for col, width in enumerate((130, 130, 270, 140, 170, 70, 130, 130)):
            self.discharge_table.setColumnWidth(col, width)
        self.in_hospital = QLabel()
        self.in_hospital.setAccessibleName(self.tr("Current hospital stay"))
        self.in_hospital.setWordWrap(True)
        self.log_button = QPushButton(self.tr("Log call…"))
        self.log_button.setAccessibleName(self.tr("Log a call on the selected discharge (Ctrl+L)"))
        self.discharge_button = QPushButton(self.tr("Record discharge…"))
        self.discharge_button.setAccessibleName(self.tr("Record the discharge of the current stay"))
        page = QWidget()
        buttons = QHBoxLayout()
        buttons.addWidget(self.in_hospital, 1)
        buttons.addWidget(self.discharge_button)
        buttons.addWidget(self.log_button)
        box = QVBoxLayout(page)
        box.addWidget(self.discharge_table, 1)
        box.addLayout(buttons)
        self.tabs.addTab(page, self.tr("&Discharges && calls"))

        self.assessment = QTextBrowser()
        self.assessment.setAccessibleName(self.tr("Needs assessment and care plan"))
        self.needs_actions = NeedsActions(self.shell, self)
        self.tabs.addTab(
            tab_page(self.assessment, self.needs_actions), self.tr("&Assessment && care plan")
        )

        self.carer_model = CarerModel(self)
        self.carer_table = _table(self.tr("Carers"))
        self.carer_table.setModel(self.carer_model)
        self.carer_actions = CarerActions(self.shell, self.carer_table, self)
        self.tabs.addTab(tab_page(self.carer_table, self.carer_actions), self.tr("&Carers"))

        self.referral_model = ReferralModel(self)
        self.referral_table = _table(self.tr("Referrals"))
        self.referral_table.setModel(self.referral_model)
        for col, width in enumerate((130, 220, 110, 130, 70)):
            self.referral_table.setColumnWidth(col, width)
        self.referral_actions = ReferralActions(self.shell, self.referral_table, self)
        self.tabs.addTab(
            tab_page(self.referral_table, self.referral_actions), self.tr("&Referrals")
        )

        self.task_model = PatientTaskModel(self)
        self.task_table = _table(self.tr("Tasks"))
        self.task_table.setModel(self.task_model)
        for col, width in enumerate((130, 280, 140, 120, 130)):
            self.task_table.setColumnWidth(col, width)
        self.complete_button = QPushButton(self.tr("Complete"))
        self.complete_button.setAccessibleName(self.tr("Mark the selected task done"))
        tasks_page = QWidget()
        tasks_box = QVBoxLayout(tasks_page)
        tasks_box.addWidget(self.task_table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.complete_button)
        tasks_box.addLayout(row)
        self.tabs.addTab(tasks_page, self.tr("Ta&sks"))

        self.mdt = QTextBrowser()
        self.mdt.setAccessibleName(self.tr("MDT notes"))
        self.tabs.addTab(self.mdt, self.tr("&MDT notes"))

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.deceased)
        layout.addLayout(facts)
        layout.addWidget(self.cohort)
        layout.addWidget(self.tabs, 1)
        self._update_buttons()

    def _connect(self) -> None:
        self.back_button.clicked.connect(self.back_requested)
        self.edit_button.clicked.connect(self._edit)
        self.admission_button.clicked.connect(self._add_admission)
        self.discharge_button.clicked.connect(self._record_discharge)
        self.log_button.clicked.connect(self.log_call)
        self.discharge_table.activated.connect(self.log_call)
        self.complete_button.clicked.connect(self._complete_selected)
        for table in (self.discharge_table, self.task_table):
            table.selectionModel().selectionChanged.connect(self._update_buttons)
            table.model().modelReset.connect(self._update_buttons)

    # --- loading ---
    def show_patient(self, patient_id: str) -> None:
        if patient_id != self.patient_id:
            self.patient_id = patient_id
            self.data = None
            self.name.setText(self.tr("Loading…"))
            for model in (self.timeline, self.discharges, self.carer_model, self.referral_model):
                model.set_rows(())
            self.task_model.set_rows(())
            self.tabs.setCurrentIndex(0)
        self.refresh()

    def refresh(self) -> None:
        super().refresh()
        if self.patient_id is None:
            return
        self._generation += 1
        generation, pid, now = self._generation, self.patient_id, self.shell.now()

        def job(session: Session) -> PatientData:
            return load_patient(session, patient_id=pid, now=now)

        self.shell.runner.read(
            job, on_success=lambda d: self._loaded(generation, d), on_failure=self._failed
        )

    def _loaded(self, generation: int, data: PatientData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self._show_header(data)
        rec = data.record
        self.timeline.set_rows(rec.timeline)
        self.discharges.set_rows_at(data.discharges, data.now)
        self.carer_model.set_rows(rec.carers)
        self.referral_model.set_rows(rec.referrals)
        self.task_model.set_rows(data.tasks)
        self.assessment.setHtml(self._assessment_html(rec.assessment))
        for bar in (self.needs_actions, self.carer_actions, self.referral_actions):
            bar.set_patient(rec.details)
        self.mdt.setHtml(self._mdt_html(rec.mdt_notes))
        if rec.in_hospital:
            stay = rec.in_hospital[0]
            where = ", ".join(x for x in (stay.hospital, stay.ward) if x)
            self.in_hospital.setText(
                self.tr("In hospital since %1 %2")
                .replace("%1", fmt.when(stay.admitted_at))
                .replace("%2", f"({where})" if where else "")
            )
        else:
            self.in_hospital.setText(self.tr("Not in hospital."))
        self._set_tab_counts(data)
        self._update_buttons()
        self.loaded.emit()

    def _set_tab_counts(self, data: PatientData) -> None:
        rec = data.record
        open_tasks = sum(1 for t in data.tasks if t.status == "open")
        self.tabs.setTabText(
            1, self.tr("&Discharges && calls (%1)").replace("%1", str(len(data.discharges)))
        )
        self.tabs.setTabText(3, self.tr("&Carers (%1)").replace("%1", str(len(rec.carers))))
        self.tabs.setTabText(4, self.tr("&Referrals (%1)").replace("%1", str(len(rec.referrals))))
        self.tabs.setTabText(5, self.tr("Ta&sks (%1 open)").replace("%1", str(open_tasks)))
        self.tabs.setTabText(6, self.tr("&MDT notes (%1)").replace("%1", str(len(rec.mdt_notes))))

    def _show_header(self, data: PatientData) -> None:
        d = data.record.details
        self.name.setText(d.name)
        self.nhs.setText(self.tr("NHS %1").replace("%1", fmt.nhs(d.nhs_number)))
        sex = f", {self.tr(d.sex)}" if d.sex else ""
        self.born.setText(
            self.tr("%1 years (born %2)%3")
            .replace("%1", str(d.age))
            .replace("%2", fmt.day(d.date_of_birth))
            .replace("%3", sex)
        )
        if d.date_of_death is not None:
            self.deceased.setText(self.tr("Died %1").replace("%1", fmt.day(d.date_of_death)))
        self.deceased.setVisible(d.date_of_death is not None)
        where = f" ({d.sub_locality})" if d.sub_locality else ""
        self.practice.setText((d.practice or self.tr("Not recorded")) + where)
        self.level.setText(d.level + (self.tr(" · for MDT") if d.flag_for_mdt else ""))
        self.coordinator.setText(d.coordinator or self.tr("Unassigned"))
        self.risk.setText(self.tr("Not scored") if d.risk_score is None else f"{d.risk_score:.0f}")
        self.cohort.setText(d.cohort_explanation)
        if d.respect_in_place:
            respect = self.tr("In place, signed %1").replace("%1", fmt.day(d.respect_date))
            if d.respect_location:
                respect += self.tr(", held: %1").replace("%1", d.respect_location)
        else:
            respect = self.tr("Not in place")
        self.respect.setText(respect)
        self.consent.setText(
            self.tr("Given") if d.consent_to_share else self.tr("Not given — do not share")
        )
        self.contact.setText(", ".join(x for x in (d.phone, d.postcode) if x) or "—")
        carers = data.record.carers
        self.carers.setText(
            "; ".join(c.name + (f" ({c.relationship})" if c.relationship else "") for c in carers)
            or self.tr("None recorded")
        )

    def _assessment_html(self, a: AssessmentSummary | None) -> str:
        if a is None:
            return "<p>" + html.escape(self.tr("No needs assessment yet.")) + "</p>"
        esc = html.escape
        parts = [
            "<h3>"
            + esc(
                self.tr("Needs assessment v%1 — %2")
                .replace("%1", str(a.version))
                .replace("%2", fmt.label(a.status))
            )
            + "</h3>",
            "<p>"
            + esc(self.tr("Started %1").replace("%1", fmt.when(a.started_at)))
            + (
                esc(self.tr(", completed %1").replace("%1", fmt.when(a.completed_at)))
                if a.completed_at
                else ""
            )
            + (
                esc(self.tr(" · review %1").replace("%1", fmt.day(a.review_date)))
                if a.review_date
                else ""
            )
            + "</p>",
        ]
        if a.what_matters:
            parts.append(
                f"<p><b>{esc(self.tr('What matters to me'))}:</b> {esc(a.what_matters)}</p>"
            )
        if a.goals:
            parts.append(f"<p><b>{esc(self.tr('Goals'))}:</b> {esc(a.goals)}</p>")
        needs = [n for n in a.needs if n.need_level != "none"]
        if needs:
            parts.append("<table cellpadding='3'>")
            for n in needs:
                parts.append(
                    f"<tr><td><b>{esc(n.domain)}</b></td><td>{esc(n.need_level)}</td>"
                    f"<td>{esc(n.notes or '')}</td></tr>"
                )
            parts.append("</table>")
        if a.actions:
            parts.append(f"<p><b>{esc(self.tr('Agreed actions'))}</b></p><ul>")
            parts += [f"<li>{esc(x)}</li>" for x in a.actions]
            parts.append("</ul>")
        if a.care_plan_agreed_at:
            parts.append(
                "<h3>"
                + esc(self.tr("Care & support plan"))
                + "</h3><p>"
                + esc(self.tr("Agreed %1").replace("%1", fmt.when(a.care_plan_agreed_at)))
                + (
                    esc(self.tr(" · review %1").replace("%1", fmt.day(a.care_plan_review)))
                    if a.care_plan_review
                    else ""
                )
                + "</p>"
            )
            if a.care_plan_outcomes:
                parts.append(f"<p>{esc(a.care_plan_outcomes)}</p>")
        return "".join(parts)

    def _mdt_html(self, notes: tuple[MdtNote, ...]) -> str:
        esc = html.escape
        if not notes:
            return "<p>" + esc(self.tr("Not discussed at an MDT yet.")) + "</p>"
        parts = []
        for n in notes:
            parts.append(f"<h3>{esc(fmt.day(n.meeting_date))}</h3>")
            for caption, text in (
                (self.tr("Reason"), n.reason),
                (self.tr("Situation"), n.situation),
                (self.tr("Background"), n.background),
                (self.tr("Assessment"), n.assessment),
                (self.tr("Recommendation"), n.recommendation),
            ):
                if text:
                    parts.append(f"<p><b>{esc(caption)}:</b> {esc(text)}</p>")
            if n.actions:
                parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in n.actions) + "</ul>")
        return "".join(parts)

    def _failed(self, exc: BaseException) -> None:
        self.name.setText(self.tr("Could not load this patient: %1").replace("%1", str(exc)))

    # --- actions ---
    def _selected(self, table: QTableView) -> int | None:
        rows = table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _update_buttons(self) -> None:
        loaded = self.data is not None
        self.edit_button.setEnabled(loaded)
        self.admission_button.setEnabled(loaded)
        self.discharge_button.setEnabled(
            loaded and bool(self.data and self.data.record.in_hospital)
        )
        self.log_button.setEnabled(self.discharges.rowCount() > 0)
        task_row = self._selected(self.task_table)
        task = None if task_row is None else self.task_model.row_at(task_row)
        self.complete_button.setEnabled(task is not None and task.status == "open")

    def log_call(self) -> bool:
        if self.data is None:
            return False
        row = self._selected(self.discharge_table)
        if row is None and self.discharges.rowCount():
            row = 0  # the newest discharge
            self.tabs.setCurrentIndex(1)
            self.discharge_table.selectRow(0)
        discharge = None if row is None else self.discharges.row_at(row)
        if discharge is None:
            return False
        d = self.data.record.details
        target = CallTarget(
            admission_id=discharge.admission_id,
            patient_name=d.name,
            nhs_number=d.nhs_number,
            discharged_at=discharge.discharged_at,
            deadline=discharge.deadline,
            attempts=discharge.attempts,
        )
        dialog = LogCallDialog(self.shell, target, self)
        dialog.call_logged.connect(self.call_logged)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return True

    def _edit(self) -> None:
        if self.data is None:
            return
        dialog = PatientDialog(self.shell, self.data.record.details, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _add_admission(self) -> None:
        if self.data is None:
            return
        dialog = AdmissionDialog(self.shell, self.data.record.details, None, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _record_discharge(self) -> None:
        if self.data is None or not self.data.record.in_hospital:
            return
        stay = self.data.record.in_hospital[0]
        dialog = AdmissionDialog(self.shell, self.data.record.details, stay, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _complete_selected(self) -> None:
        row = self._selected(self.task_table)
        task = None if row is None else self.task_model.row_at(row)
        if task is None:
            return
        task_id, now = task.id, self.shell.now()
        self.complete_button.setEnabled(False)
        self.shell.runner.write(
            lambda s: complete_task(s, task_id=task_id, now=now),
            on_success=lambda _t: None,
            on_failure=self._failed,
        )
