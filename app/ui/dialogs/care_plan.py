"""The care and support plan, with its check against the five NHS England personalised care and
support planning criteria: each shown met or not, and what is missing in plain English."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.services.care_plan import (
    CarePlanView,
    PlanCheck,
    check_care_plan,
    get_care_plan,
    save_care_plan,
)
from app.ui import format as fmt
from app.ui.shell import Shell
from app.ui.widgets.date_field import DateField
from app.ui.widgets.form import ErrorLabel

MET, NOT_MET = "#007f3b", "#d5281b"


@dataclass(frozen=True)
class PlanState:
    plan: CarePlanView | None
    check: PlanCheck


def load_plan(session: Session, *, patient_id: str, now: datetime) -> PlanState:
    return PlanState(
        plan=get_care_plan(session, patient_id=patient_id),
        check=check_care_plan(session, patient_id=patient_id, now=now),
    )


class CarePlanDialog(QDialog):
    plan_saved = Signal(object)  # PlanState

    def __init__(
        self, shell: Shell, patient_id: str, patient_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.patient_id = patient_id
        self.state: PlanState | None = None
        self.setWindowTitle(self.tr("Care and support plan — %1").replace("%1", patient_name))
        self.resize(1000, 680)
        self._build()
        self._connect()
        self.load()

    def _build(self) -> None:
        self.person_involved = QCheckBox(
            self.tr("The person took part in developing and agreeing the plan")
        )
        self.person_involved.setAccessibleName(self.tr("Person involved in the plan"))
        self.who_involved = QLineEdit()
        self.who_involved.setAccessibleName(self.tr("Who else was involved"))
        self.who_involved.setPlaceholderText(self.tr("e.g. daughter (main carer), GP, LAC"))
        self.outcomes = QPlainTextEdit()
        self.outcomes.setAccessibleName(self.tr("Outcomes the person wants to achieve"))
        self.outcomes.setTabChangesFocus(True)
        self.contingency = QPlainTextEdit()
        self.contingency.setAccessibleName(self.tr("Contingency plan"))
        self.contingency.setTabChangesFocus(True)
        self.contingency.setFixedHeight(70)
        self.shared_with_person = QCheckBox(self.tr("The plan was shared with the person"))
        self.shared_with_person.setAccessibleName(self.tr("Plan shared with the person"))
        self.shared_with_others = QLineEdit()
        self.shared_with_others.setAccessibleName(self.tr("Who else the plan was shared with"))
        self.shared_with_others.setPlaceholderText(self.tr("e.g. GP practice, district nurses"))
        self.agreed = QCheckBox(self.tr("The person agreed the plan and its outcomes"))
        self.agreed.setAccessibleName(self.tr("Plan agreed by the person"))
        self.agreed_when = QLabel()
        self.agreed_when.setObjectName("hint")
        self.review_date = DateField(self.tr("Plan review date"))
        self.review_error = ErrorLabel(self.tr("review date"))

        form_box = QGroupBox(self.tr("The plan"))
        form = QFormLayout(form_box)
        form.addRow(self.person_involved)
        who_label = QLabel(self.tr("&Who was involved"))
        who_label.setBuddy(self.who_involved)
        form.addRow(who_label, self.who_involved)
        outcomes_label = QLabel(self.tr("&Outcomes"))
        outcomes_label.setBuddy(self.outcomes)
        form.addRow(outcomes_label, self.outcomes)
        contingency_label = QLabel(self.tr("&Contingency"))
        contingency_label.setBuddy(self.contingency)
        form.addRow(contingency_label, self.contingency)
        form.addRow(self.shared_with_person)
        shared_label = QLabel(self.tr("S&hared with"))
        shared_label.setBuddy(self.shared_with_others)
        form.addRow(shared_label, self.shared_with_others)
        agreed = QHBoxLayout()
        agreed.addWidget(self.agreed)
        agreed.addWidget(self.agreed_when, 1)
        form.addRow(agreed)
        review_label = QLabel(self.tr("&Review date"))
        review_label.setBuddy(self.review_date.edit)
        form.addRow(review_label, self.review_date)
        form.addRow("", self.review_error)

        self.check = QTextBrowser()
        self.check.setAccessibleName(self.tr("Check against the five care planning criteria"))
        check_box = QGroupBox(self.tr("Personalised care and support planning criteria"))
        QVBoxLayout(check_box).addWidget(self.check)

        self.general_error = ErrorLabel(self.tr("the plan"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("Save and check"))
        self.save_button.setAccessibleName(self.tr("Save the plan and check it"))
        body = QHBoxLayout()
        body.addWidget(form_box, 3)
        body.addWidget(check_box, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.review_date.changed.connect(self.review_error.clear_error)

    def load(self) -> None:
        pid, now = self.patient_id, self.shell.now()
        self.shell.runner.read(
            lambda s: load_plan(s, patient_id=pid, now=now),
            on_success=self._loaded,
            on_failure=self._refused,
        )

    def _loaded(self, state: PlanState) -> None:
        self.state = state
        p = state.plan
        self.person_involved.setChecked(bool(p and p.person_involved))
        self.who_involved.setText((p.who_involved or "") if p else "")
        self.outcomes.setPlainText((p.outcomes_agreed or "") if p else "")
        self.contingency.setPlainText((p.contingency_plan or "") if p else "")
        self.shared_with_person.setChecked(bool(p and p.shared_with_person))
        self.shared_with_others.setText((p.shared_with_others or "") if p else "")
        self.agreed.setChecked(bool(p and p.agreed_at))
        self.agreed_when.setText(
            self.tr("(agreed %1)").replace("%1", fmt.when(p.agreed_at)) if p and p.agreed_at else ""
        )
        self.review_date.set_value(p.review_date if p else None)
        self.show_check(state.check)

    def show_check(self, check: PlanCheck) -> None:
        self.check.setHtml(self.check_html(check))

    def check_html(self, check: PlanCheck) -> str:
        """The five criteria: a tick or a cross, the criterion, and what is missing."""
        esc = html.escape
        summary = (
            self.tr("%1 of %2 criteria met")
            .replace("%1", str(check.met_count))
            .replace("%2", str(len(check.criteria)))
        )
        parts = [f"<p><b>{esc(summary)}</b></p>"]
        for c in check.criteria:
            mark, colour = ("✔", MET) if c.met else ("✘", NOT_MET)
            state = self.tr("met") if c.met else self.tr("not met")
            parts.append(
                f"<p style='margin:6px 0 2px 0'><span style='color:{colour};font-weight:bold'>"
                f"{mark} {c.number}. {esc(self.tr(c.title))}</span> <i>({esc(state)})</i></p>"
            )
            if c.missing:
                items = "".join(f"<li>{esc(self.tr(m))}</li>" for m in c.missing)
                parts.append(f"<ul style='margin-top:0'>{items}</ul>")
        return "".join(parts)

    def save(self) -> None:
        self.general_error.clear_error()
        try:
            review = self.review_date.value(field="review_date")
        except ValidationError as exc:
            self.review_error.show_error(str(exc))
            return
        pid, now = self.patient_id, self.shell.now()
        values = {
            "person_involved": self.person_involved.isChecked(),
            "who_involved": self.who_involved.text(),
            "outcomes_agreed": self.outcomes.toPlainText(),
            "contingency_plan": self.contingency.toPlainText(),
            "shared_with_person": self.shared_with_person.isChecked(),
            "shared_with_others": self.shared_with_others.text(),
            "agreed": self.agreed.isChecked(),
            "review_date": review,
        }

        def job(session: Session) -> PlanState:
            save_care_plan(session, patient_id=pid, now=now, **values)  # type: ignore[arg-type]
            return load_plan(session, patient_id=pid, now=now)

        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._saved, on_failure=self._refused)

    def _saved(self, state: PlanState) -> None:
        self.save_button.setEnabled(True)
        self._loaded(state)
        self.plan_saved.emit(state)

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError) and getattr(exc, "field", None) == "review_date":
            self.review_error.show_error(str(exc))
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The plan could not be saved: %1").replace("%1", str(exc))
            )
