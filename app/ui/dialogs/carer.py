"""A carer: add a new one or link one the team already knows to this patient; for a linked
carer, their details and the carer's assessment (offered, accepted or declined, completed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.core.timeutil import to_local
from app.services.carers import (
    CarerView,
    accept_carers_assessment,
    add_carer,
    complete_carers_assessment,
    decline_carers_assessment,
    get_carer,
    link_carer,
    offer_carers_assessment,
    update_carer,
)
from app.services.desktop import find_carers
from app.ui import format as fmt
from app.ui.shell import Shell
from app.ui.widgets.date_field import DateField
from app.ui.widgets.form import ErrorLabel

# the carer's assessment: next step -> (the states it may follow, the service call)
STEPS = {
    "offered": (("not_offered", "declined"), offer_carers_assessment),
    "accepted": (("offered",), accept_carers_assessment),
    "declined": (("offered", "accepted"), decline_carers_assessment),
    "completed": (("accepted",), complete_carers_assessment),
}


def add_and_link(
    session: Session,
    *,
    patient_id: str,
    carer_id: str | None,
    details: dict[str, Any],
    relationship: str | None,
    lives_with: bool,
    main_carer: bool,
    now: datetime,
) -> CarerView:
    """Link ``carer_id``, or a new carer made from ``details``, to the patient (one
    transaction)."""
    if carer_id is None:
        carer_id = add_carer(session, now=now, **details).id
    link_carer(
        session,
        carer_id=carer_id,
        patient_id=patient_id,
        now=now,
        relationship=relationship,
        lives_with=lives_with,
        main_carer=main_carer,
    )
    return get_carer(session, carer_id=carer_id)


class CarerDialog(QDialog):
    carer_saved = Signal(object)  # CarerView

    def __init__(
        self,
        shell: Shell,
        patient_id: str,
        patient_name: str,
        carer_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.patient_id = patient_id
        self.carer_id = carer_id
        self.carer: CarerView | None = None
        self.existing: CarerView | None = None  # chosen from the search (add mode)
        self.setWindowTitle(
            self.tr("Carer of %1").replace("%1", patient_name)
            if carer_id
            else self.tr("Add a carer for %1").replace("%1", patient_name)
        )
        self.resize(620, 640 if carer_id is None else 560)
        self._build()
        self._connect()
        if carer_id is not None:
            self._load()

    # --- layout ---
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setAccessibleName(self.tr("Find a carer the team already knows"))
        self.search.setPlaceholderText(self.tr("Name or phone of a carer already known…"))
        self.search.setClearButtonEnabled(True)
        self.found = QListWidget()
        self.found.setAccessibleName(self.tr("Carers found"))
        self.found.setMaximumHeight(100)
        self.chosen = QLabel()
        self.chosen.setObjectName("hint")
        self.chosen.setWordWrap(True)
        if self.carer_id is None:
            known = QGroupBox(self.tr("Someone who already cares for another patient?"))
            kbox = QVBoxLayout(known)
            kbox.addWidget(self.search)
            kbox.addWidget(self.found)
            kbox.addWidget(self.chosen)
            layout.addWidget(known)

        self.family_name = QLineEdit()
        self.family_name.setAccessibleName(self.tr("Carer's family name"))
        self.given_name = QLineEdit()
        self.given_name.setAccessibleName(self.tr("Carer's given name"))
        self.phone = QLineEdit()
        self.phone.setAccessibleName(self.tr("Carer's phone"))
        self.postcode = QLineEdit()
        self.postcode.setAccessibleName(self.tr("Carer's postcode"))
        self.young_carer = QCheckBox(self.tr("Young carer (under 18)"))
        self.young_carer.setAccessibleName(self.tr("Young carer"))
        self.needs = QPlainTextEdit()
        self.needs.setAccessibleName(self.tr("The carer's own needs"))
        self.needs.setTabChangesFocus(True)
        self.needs.setFixedHeight(60)
        self.details_box = QGroupBox(self.tr("The carer"))
        form = QFormLayout(self.details_box)
        for text, widget in (
            (self.tr("&Family name"), self.family_name),
            (self.tr("&Given name"), self.given_name),
            (self.tr("&Phone"), self.phone),
            (self.tr("Post&code"), self.postcode),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow("", self.young_carer)
        needs_label = QLabel(self.tr("Their &needs"))
        needs_label.setBuddy(self.needs)
        form.addRow(needs_label, self.needs)
        layout.addWidget(self.details_box)

        self.relationship = QLineEdit()
        self.relationship.setAccessibleName(self.tr("Relationship to the patient"))
        self.relationship.setPlaceholderText(self.tr("e.g. daughter, husband, neighbour"))
        self.lives_with = QCheckBox(self.tr("Lives with the patient"))
        self.lives_with.setAccessibleName(self.tr("Lives with the patient"))
        self.main_carer = QCheckBox(self.tr("Main carer"))
        self.main_carer.setAccessibleName(self.tr("Main carer"))
        if self.carer_id is None:
            link_box = QGroupBox(self.tr("Caring for this patient"))
            lform = QFormLayout(link_box)
            rel_label = QLabel(self.tr("&Relationship"))
            rel_label.setBuddy(self.relationship)
            lform.addRow(rel_label, self.relationship)
            ticks = QHBoxLayout()
            ticks.addWidget(self.lives_with)
            ticks.addWidget(self.main_carer)
            ticks.addStretch(1)
            lform.addRow("", ticks)
            layout.addWidget(link_box)

        self.assessment_state = QLabel()
        self.assessment_state.setWordWrap(True)
        self.assessment_state.setAccessibleName(self.tr("Carer's assessment"))
        self.step_on = DateField(self.tr("Date of the step"))
        self.step_buttons: dict[str, QPushButton] = {}
        step_row = QHBoxLayout()
        for step, text in (
            ("offered", self.tr("&Offered")),
            ("accepted", self.tr("&Accepted")),
            ("declined", self.tr("&Declined")),
            ("completed", self.tr("Co&mpleted")),
        ):
            button = QPushButton(text)
            button.setAccessibleName(
                self.tr("Mark the carer's assessment %1").replace("%1", text.replace("&", ""))
            )
            self.step_buttons[step] = button
            step_row.addWidget(button)
        step_row.addStretch(1)
        self.step_error = ErrorLabel(self.tr("carer's assessment"))
        if self.carer_id is not None:
            steps_box = QGroupBox(self.tr("Carer's assessment"))
            sbox = QVBoxLayout(steps_box)
            sbox.addWidget(self.assessment_state)
            on_row = QHBoxLayout()
            on_label = QLabel(self.tr("O&n"))
            on_label.setBuddy(self.step_on.edit)
            on_row.addWidget(on_label)
            on_row.addWidget(self.step_on)
            on_row.addStretch(1)
            sbox.addLayout(on_row)
            sbox.addLayout(step_row)
            sbox.addWidget(self.step_error)
            layout.addWidget(steps_box)
            self.step_on.set_value(to_local(self.shell.now()).date())

        self.general_error = ErrorLabel(self.tr("the carer"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("Save details") if self.carer_id else self.tr("Add carer"))
        self.save_button.setAccessibleName(self.save_button.text())
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._show_steps()

    def _connect(self) -> None:
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.search.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._search)
        self.found.currentItemChanged.connect(self._choose)
        for step, button in self.step_buttons.items():
            button.clicked.connect(lambda _=False, s=step: self.take_step(s))

    # --- edit mode ---
    def _load(self) -> None:
        carer_id = self.carer_id
        assert carer_id is not None
        self.shell.runner.read(
            lambda s: get_carer(s, carer_id=carer_id), on_success=self._loaded,
            on_failure=self._refused,
        )  # fmt: skip

    def _loaded(self, carer: CarerView) -> None:
        self.carer = carer
        self.family_name.setText(carer.family_name)
        self.given_name.setText(carer.given_name)
        self.phone.setText(carer.phone or "")
        self.postcode.setText(carer.postcode or "")
        self.young_carer.setChecked(carer.young_carer)
        self.needs.setPlainText(carer.needs or "")
        self._show_steps()

    def _show_steps(self) -> None:
        c = self.carer
        status = c.assessment_status if c else "not_offered"
        for step, button in self.step_buttons.items():
            button.setEnabled(c is not None and status in STEPS[step][0])
        if c is None:
            self.assessment_state.clear()
            return
        dates = [
            (self.tr("offered"), c.assessment_offered_on),
            (self.tr("accepted"), c.assessment_accepted_on),
            (self.tr("declined"), c.assessment_declined_on),
            (self.tr("completed"), c.assessment_completed_on),
        ]
        history = ", ".join(f"{what} {fmt.day(on)}" for what, on in dates if on)
        self.assessment_state.setText(
            self.tr("Now: %1. %2")
            .replace("%1", fmt.label(status))
            .replace("%2", history.capitalize() if history else self.tr("Not yet offered."))
        )

    def take_step(self, step: str) -> None:
        if self.carer is None:
            return
        self.step_error.clear_error()
        try:
            on: date | None = self.step_on.value(field="on")
        except ValidationError as exc:
            self.step_error.show_error(str(exc))
            return
        carer_id, now, move = self.carer.id, self.shell.now(), STEPS[step][1]
        for b in self.step_buttons.values():
            b.setEnabled(False)
        self.shell.runner.write(
            lambda s: move(s, carer_id=carer_id, now=now, on=on),
            on_success=self._stepped,
            on_failure=self._step_refused,
        )

    def _stepped(self, carer: CarerView) -> None:
        self.carer = carer
        self._show_steps()
        self.carer_saved.emit(carer)

    def _step_refused(self, exc: BaseException) -> None:
        self._show_steps()
        self.step_error.show_error(str(exc))

    # --- add mode: find someone already known ---
    def _search(self) -> None:
        text = self.search.text().strip()
        if len(text) < 2:
            self.found.clear()
            return
        self.shell.runner.read(lambda s: tuple(find_carers(s, text=text)), on_success=self._found)

    def _found(self, carers: tuple[CarerView, ...]) -> None:
        self.found.clear()
        for c in carers:
            where = f" · {c.postcode}" if c.postcode else ""
            cares = self.tr(" · cares for %1 patient(s)").replace("%1", str(len(c.patient_ids)))
            item = QListWidgetItem(f"{c.display_name}{where}{cares}")
            item.setData(Qt.ItemDataRole.UserRole, c)
            item.setFlags(
                item.flags()
                if self.patient_id not in c.patient_ids
                else item.flags() & ~Qt.ItemFlag.ItemIsEnabled
            )
            self.found.addItem(item)

    def _choose(self, item: QListWidgetItem | None) -> None:
        carer = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.existing = carer if isinstance(carer, CarerView) else None
        self.details_box.setEnabled(self.existing is None)
        if self.existing is not None:
            self.chosen.setText(
                self.tr("%1 will be linked to this patient as well.").replace(
                    "%1", self.existing.display_name
                )
            )
            self.save_button.setText(self.tr("Link carer"))
        else:
            self.chosen.clear()
            self.save_button.setText(self.tr("Add carer"))

    def choose_existing(self, carer: CarerView) -> None:
        """Choose a carer already known (as picking them from the search does)."""
        self._found((carer,))
        self.found.setCurrentRow(0)

    # --- saving ---
    def _details(self) -> dict[str, Any]:
        return {
            "family_name": self.family_name.text(),
            "given_name": self.given_name.text(),
            "phone": self.phone.text() or None,
            "postcode": self.postcode.text() or None,
            "young_carer": self.young_carer.isChecked(),
            "needs": self.needs.toPlainText() or None,
        }

    def save(self) -> None:
        self.general_error.clear_error()
        now, details = self.shell.now(), self._details()
        if self.carer_id is not None:
            carer_id = self.carer_id
            self.shell.runner.write(
                lambda s: update_carer(s, carer_id=carer_id, now=now, **details),
                on_success=self._saved,
                on_failure=self._refused,
            )
            return
        pid = self.patient_id
        existing = self.existing.id if self.existing is not None else None
        relationship = self.relationship.text().strip() or None
        lives, main = self.lives_with.isChecked(), self.main_carer.isChecked()
        self.save_button.setEnabled(False)
        self.shell.runner.write(
            lambda s: add_and_link(
                s, patient_id=pid, carer_id=existing, details=details,
                relationship=relationship, lives_with=lives, main_carer=main, now=now,
            ),
            on_success=self._added,
            on_failure=self._refused,
        )  # fmt: skip

    def _saved(self, carer: CarerView) -> None:
        self.carer = carer
        self.carer_saved.emit(carer)
        self.general_error.clear_error()

    def _added(self, carer: CarerView) -> None:
        self.carer_saved.emit(carer)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The carer could not be saved: %1").replace("%1", str(exc))
            )
