"""The personalised needs assessment editor: all eleven domains with a need level and notes,
what matters to the person, goals, agreed actions with owner and due date, and the review date.
A draft is saved as a whole; completing it needs every domain rated and a review date (the
refusal is shown next to what is missing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError, ValidationError
from app.models.assessment import NEED_DOMAIN_LABELS, NEED_DOMAINS, NEED_LEVELS
from app.services.assessments import (
    AssessmentView,
    DomainRating,
    complete_assessment,
    discard_draft,
    list_assessments,
    save_assessment,
    start_assessment,
)
from app.ui import format as fmt
from app.ui.models.assessment import ActionRow, AgreedActionModel
from app.ui.shell import Shell
from app.ui.widgets.date_field import DateField
from app.ui.widgets.form import ErrorLabel

LEVEL_TEXT = {
    "none": "No need",
    "low": "Low",
    "moderate": "Moderate",
    "high": "High",
}
UNRATED_STYLE = "QComboBox { border: 2px solid #d5281b; }"


@dataclass(frozen=True)
class AssessmentState:
    versions: tuple[AssessmentView, ...]  # newest first

    @property
    def draft(self) -> AssessmentView | None:
        return next((a for a in self.versions if a.status == "draft"), None)

    @property
    def latest(self) -> AssessmentView | None:
        return self.versions[0] if self.versions else None


def load_state(session: Session, *, patient_id: str) -> AssessmentState:
    return AssessmentState(tuple(list_assessments(session, patient_id=patient_id)))


class AssessmentDialog(QDialog):
    saved = Signal(object)  # AssessmentView (draft saved)
    completed = Signal(object)  # AssessmentView

    def __init__(
        self, shell: Shell, patient_id: str, patient_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.patient_id = patient_id
        self.patient_name = patient_name
        self.state: AssessmentState | None = None
        self.current: AssessmentView | None = None
        self.dirty = False
        self._loading = False
        self._close_after_save = False
        self.setWindowTitle(self.tr("Needs assessment — %1").replace("%1", patient_name))
        self.resize(980, 820)
        self._build()
        self._connect()
        self.load()

    # --- layout ---
    def _build(self) -> None:
        self.heading = QLabel(self.tr("Loading…"))
        self.heading.setObjectName("screenTitle")
        self.heading.setAccessibleName(self.tr("Assessment version"))
        self.start_button = QPushButton(self.tr("Start &new version"))
        self.start_button.setAccessibleName(
            self.tr("Start a new version from the last completed one")
        )
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.start_button)

        domains = QGroupBox(self.tr("Needs, domain by domain"))
        grid = QGridLayout(domains)
        grid.addWidget(self._caption(self.tr("Domain")), 0, 0)
        grid.addWidget(self._caption(self.tr("Need")), 0, 1)
        grid.addWidget(self._caption(self.tr("Notes")), 0, 2)
        self.levels: dict[str, QComboBox] = {}
        self.notes: dict[str, QLineEdit] = {}
        for row, domain in enumerate(NEED_DOMAINS, start=1):
            name = self.tr(NEED_DOMAIN_LABELS[domain])
            label = QLabel(name.replace("&", "&&"))  # "&" is a mnemonic marker in a label
            combo = QComboBox()
            combo.setAccessibleName(self.tr("Need level: %1").replace("%1", name))
            combo.setPlaceholderText(self.tr("Not rated"))
            for level in NEED_LEVELS:
                combo.addItem(self.tr(LEVEL_TEXT[level]), level)
            combo.setCurrentIndex(-1)
            combo.setMinimumWidth(130)
            note = QLineEdit()
            note.setAccessibleName(self.tr("Notes: %1").replace("%1", name))
            label.setBuddy(combo)
            self.levels[domain], self.notes[domain] = combo, note
            grid.addWidget(label, row, 0)
            grid.addWidget(combo, row, 1)
            grid.addWidget(note, row, 2)
        grid.setColumnStretch(2, 1)
        self.domain_error = ErrorLabel(self.tr("need domains"))
        grid.addWidget(self.domain_error, len(NEED_DOMAINS) + 1, 0, 1, 3)

        self.what_matters = QPlainTextEdit()
        self.what_matters.setAccessibleName(self.tr("What matters to me"))
        self.what_matters.setTabChangesFocus(True)
        self.what_matters.setFixedHeight(70)
        self.goals = QPlainTextEdit()
        self.goals.setAccessibleName(self.tr("Goals"))
        self.goals.setTabChangesFocus(True)
        self.goals.setFixedHeight(70)
        person = QGroupBox(self.tr("The person"))
        pgrid = QGridLayout(person)
        matters_label = QLabel(self.tr("&What matters to me"))
        matters_label.setBuddy(self.what_matters)
        goals_label = QLabel(self.tr("&Goals"))
        goals_label.setBuddy(self.goals)
        pgrid.addWidget(matters_label, 0, 0)
        pgrid.addWidget(self.what_matters, 1, 0)
        pgrid.addWidget(goals_label, 0, 1)
        pgrid.addWidget(self.goals, 1, 1)

        self.actions_model = AgreedActionModel(self)
        self.action_table = QTableView()
        self.action_table.setAccessibleName(self.tr("Agreed actions"))
        self.action_table.setModel(self.actions_model)
        self.action_table.verticalHeader().setVisible(False)
        self.action_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.action_table.setMinimumHeight(130)
        header = self.action_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 170), (2, 140), (3, 55)):
            self.action_table.setColumnWidth(col, width)
        self.add_action_button = QPushButton(self.tr("&Add action"))
        self.add_action_button.setAccessibleName(self.tr("Add an agreed action"))
        self.remove_action_button = QPushButton(self.tr("&Remove action"))
        self.remove_action_button.setAccessibleName(self.tr("Remove the selected action"))
        self.action_error = ErrorLabel(self.tr("agreed actions"))
        actions = QGroupBox(self.tr("Agreed actions"))
        abox = QVBoxLayout(actions)
        abox.addWidget(self.action_table)
        arow = QHBoxLayout()
        arow.addWidget(self.action_error, 1)
        arow.addStretch(1)
        arow.addWidget(self.add_action_button)
        arow.addWidget(self.remove_action_button)
        abox.addLayout(arow)

        self.review_date = DateField(self.tr("Review date"))
        self.review_error = ErrorLabel(self.tr("review date"))
        review = QHBoxLayout()
        review_label = QLabel(self.tr("Re&view date"))
        review_label.setBuddy(self.review_date.edit)
        review.addWidget(review_label)
        review.addWidget(self.review_date)
        review.addWidget(self.review_error, 1)

        body = QWidget()
        bbox = QVBoxLayout(body)
        bbox.addWidget(domains)
        bbox.addWidget(person)
        bbox.addWidget(actions)
        bbox.addLayout(review)
        self.body = body
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)

        self.general_error = ErrorLabel(self.tr("the assessment"))
        self.message = QLabel()
        self.message.setObjectName("hint")
        self.message.setAccessibleName(self.tr("Messages"))
        self.save_button = QPushButton(self.tr("&Save draft"))
        self.save_button.setAccessibleName(self.tr("Save the draft (Ctrl+S)"))
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.complete_button = QPushButton(self.tr("&Complete"))
        self.complete_button.setAccessibleName(
            self.tr("Complete the assessment and set its review task")
        )
        self.discard_button = QPushButton(self.tr("&Discard draft"))
        self.discard_button.setAccessibleName(self.tr("Delete this draft version"))
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close the assessment"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.complete_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general_error)
        layout.addLayout(buttons)
        self._set_editable(False)

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("factKey")
        return label

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start_new_version)
        self.save_button.clicked.connect(self.save_draft)
        self.complete_button.clicked.connect(self.complete)
        self.discard_button.clicked.connect(self._discard)
        self.close_button.clicked.connect(self.reject)
        self.add_action_button.clicked.connect(self._add_action)
        self.remove_action_button.clicked.connect(self._remove_action)
        for domain, combo in self.levels.items():
            combo.currentIndexChanged.connect(lambda _i, d=domain: self._rated(d))
        for edit in self.notes.values():
            edit.textChanged.connect(self._changed)
        for text in (self.what_matters, self.goals):
            text.textChanged.connect(self._changed)
        self.review_date.changed.connect(self._changed)
        self.review_date.changed.connect(self.review_error.clear_error)
        self.actions_model.dataChanged.connect(self._action_edited)
        self.actions_model.edit_refused.connect(self.action_error.show_error)
        self.actions_model.rowsInserted.connect(self._changed)
        self.actions_model.rowsRemoved.connect(self._changed)

    # --- loading and showing ---
    def load(self) -> None:
        pid = self.patient_id
        self.shell.runner.read(
            lambda s: load_state(s, patient_id=pid),
            on_success=self._loaded,
            on_failure=self._refused,
        )

    def _loaded(self, state: AssessmentState) -> None:
        self.state = state
        self._show(state.draft or state.latest)

    def _show(self, a: AssessmentView | None) -> None:
        self.current = a
        self._loading = True
        try:
            rated = {d.domain: d for d in (a.domains if a else ())}
            for domain, combo in self.levels.items():
                entry = rated.get(domain)
                combo.setCurrentIndex(combo.findData(entry.need_level) if entry else -1)
                combo.setStyleSheet("")
                self.notes[domain].setText((entry.notes or "") if entry else "")
            self.what_matters.setPlainText((a.what_matters or "") if a else "")
            self.goals.setPlainText((a.goals or "") if a else "")
            self.actions_model.set_rows(tuple(ActionRow.of(x) for x in (a.actions if a else ())))
            self.review_date.set_value(a.review_date if a else None)
        finally:
            self._loading = False
        self.dirty = False
        for e in (self.domain_error, self.review_error, self.general_error, self.action_error):
            e.clear_error()
        draft = a is not None and a.status == "draft"
        self._set_editable(draft)
        if a is None:
            self.heading.setText(self.tr("No needs assessment yet"))
            self.message.setText(self.tr("Start the first version to record the assessment."))
        elif draft:
            self.heading.setText(
                self.tr("Version %1 — draft, started %2")
                .replace("%1", str(a.version))
                .replace("%2", fmt.when(a.started_at))
            )
            self.message.setText(self._unrated_text(a))
        else:
            self.heading.setText(
                self.tr("Version %1 — completed %2")
                .replace("%1", str(a.version))
                .replace("%2", fmt.when(a.completed_at))
            )
            self.message.setText(
                self.tr("Completed versions cannot be changed; start a new version to update it.")
            )
        self.start_button.setEnabled(self.state is not None and self.state.draft is None)

    def _unrated_text(self, a: AssessmentView) -> str:
        if not a.unrated_domains:
            return self.tr("Every domain is rated.")
        return (
            self.tr("%1 of %2 domains still to rate.")
            .replace("%1", str(len(a.unrated_domains)))
            .replace("%2", str(len(NEED_DOMAINS)))
        )

    def _set_editable(self, editable: bool) -> None:
        for combo in self.levels.values():
            combo.setEnabled(editable)
        for edit in self.notes.values():
            edit.setReadOnly(not editable)
        for text in (self.what_matters, self.goals):
            text.setReadOnly(not editable)
        self.review_date.setEnabled(editable)
        self.actions_model.editable = editable
        for b in (self.add_action_button, self.remove_action_button, self.save_button,
                  self.complete_button, self.discard_button):  # fmt: skip
            b.setEnabled(editable)

    # --- editing ---
    def _changed(self) -> None:
        if not self._loading:
            self.dirty = True

    def _rated(self, domain: str) -> None:
        self.levels[domain].setStyleSheet("")
        self._changed()

    def _action_edited(self) -> None:
        self._changed()
        self.action_error.show_error(self.actions_model.last_error)

    def _add_action(self) -> None:
        row = self.actions_model.add_row()
        index = self.actions_model.index(row, 0)
        self.action_table.setCurrentIndex(index)
        self.action_table.edit(index)

    def _remove_action(self) -> None:
        rows = self.action_table.selectionModel().selectedRows()
        row = rows[0].row() if rows else self.action_table.currentIndex().row()
        self.actions_model.remove_row(row)

    def set_level(self, domain: str, level: str) -> None:
        combo = self.levels[domain]
        combo.setCurrentIndex(combo.findData(level))

    def ratings(self) -> tuple[DomainRating, ...]:
        return tuple(
            DomainRating(domain, str(combo.currentData()), self.notes[domain].text() or None)
            for domain, combo in self.levels.items()
            if combo.currentIndex() >= 0
        )

    # --- saving ---
    def start_new_version(self) -> None:
        pid, now, who = self.patient_id, self.shell.now(), self.shell.coordinator_id

        def job(session: Session) -> AssessmentState:
            start_assessment(session, patient_id=pid, now=now, assessor_id=who)
            return load_state(session, patient_id=pid)

        self.start_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._loaded, on_failure=self._refused)

    def _save_job(self) -> Callable[[Session], AssessmentView]:
        assert self.current is not None
        assessment_id, now = self.current.id, self.shell.now()
        domains = self.ratings()
        what, goals = self.what_matters.toPlainText(), self.goals.toPlainText()
        actions = self.actions_model.inputs()
        review = self.review_date.value(field="review_date")

        def job(session: Session) -> AssessmentView:
            saved = save_assessment(
                session,
                assessment_id=assessment_id,
                now=now,
                domains=domains,
                what_matters=what,
                goals=goals,
                actions=actions,
                review_date=review,
            )
            return saved

        return job

    def _clear_errors(self) -> None:
        for e in (self.domain_error, self.review_error, self.general_error, self.action_error):
            e.clear_error()

    def save_draft(self) -> None:
        if self.current is None or self.current.status != "draft":
            return
        self._clear_errors()
        try:
            job = self._save_job()
        except ValidationError as exc:
            self.review_error.show_error(str(exc))
            return
        self.save_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._draft_saved, on_failure=self._refused)

    def _draft_saved(self, view: AssessmentView) -> None:
        self._after_save(view)
        self.message.setText(
            self.tr("Draft saved at %1. %2")
            .replace("%1", fmt.when(self.shell.now()))
            .replace("%2", self._unrated_text(view))
        )
        self.saved.emit(view)
        if self._close_after_save:
            super().reject()

    def _after_save(self, view: AssessmentView) -> None:
        self.current = view
        self.dirty = False
        self._set_editable(view.status == "draft")
        self._loading = True
        try:
            self.actions_model.set_rows(tuple(ActionRow.of(x) for x in view.actions))
        finally:
            self._loading = False

    def complete(self) -> None:
        """Save the form, then complete it (two steps: a refused completion keeps the draft)."""
        if self.current is None or self.current.status != "draft":
            return
        self._clear_errors()
        try:
            save = self._save_job()
        except ValidationError as exc:
            self.review_error.show_error(str(exc))
            return
        self.complete_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.shell.runner.write(
            save, on_success=self._saved_then_complete, on_failure=self._refused
        )

    def _saved_then_complete(self, view: AssessmentView) -> None:
        self._after_save(view)
        self.saved.emit(view)
        assessment_id, now = view.id, self.shell.now()

        def job(session: Session) -> AssessmentView:
            return complete_assessment(session, assessment_id=assessment_id, now=now)

        self.shell.runner.write(job, on_success=self._completed, on_failure=self._refused)

    def _completed(self, view: AssessmentView) -> None:
        self.completed.emit(view)
        pid = self.patient_id
        self.shell.runner.read(lambda s: load_state(s, patient_id=pid), on_success=self._loaded)

    def _discard(self) -> None:
        if self.current is None or self.current.status != "draft":
            return
        answer = QMessageBox.question(
            self,
            self.tr("Discard draft"),
            self.tr("Delete draft version %1? What it holds will be lost.").replace(
                "%1", str(self.current.version)
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        assessment_id, pid = self.current.id, self.patient_id

        def job(session: Session) -> AssessmentState:
            discard_draft(session, assessment_id=assessment_id)
            return load_state(session, patient_id=pid)

        self.shell.runner.write(job, on_success=self._loaded, on_failure=self._refused)

    def _refused(self, exc: BaseException) -> None:
        self._close_after_save = False
        editable = self.current is not None and self.current.status == "draft"
        self._set_editable(editable)
        self.start_button.setEnabled(self.state is not None and self.state.draft is None)
        field = getattr(exc, "field", None)
        if isinstance(exc, ValidationError) and field == "domains":
            self.domain_error.show_error(str(exc))
            for combo in self.levels.values():
                if combo.currentIndex() < 0:
                    combo.setStyleSheet(UNRATED_STYLE)
            first = next((c for c in self.levels.values() if c.currentIndex() < 0), None)
            if first is not None:
                first.setFocus(Qt.FocusReason.OtherFocusReason)
        elif isinstance(exc, ValidationError) and field == "review_date":
            self.review_error.show_error(str(exc))
            self.review_date.setFocus(Qt.FocusReason.OtherFocusReason)
        elif isinstance(exc, ValidationError) and field == "actions":
            self.action_error.show_error(str(exc))
        elif isinstance(exc, CareCoordError):
            self.general_error.show_error(str(exc))
        else:
            self.general_error.show_error(
                self.tr("The assessment could not be saved: %1").replace("%1", str(exc))
            )

    # --- closing ---
    def reject(self) -> None:
        """Close (Esc, Close): unsaved changes to a draft are offered for saving first."""
        if self.dirty and self.current is not None and self.current.status == "draft":
            answer = QMessageBox.question(
                self,
                self.tr("Unsaved changes"),
                self.tr("Save the changes to the draft before closing?"),
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                return
            if answer == QMessageBox.StandardButton.Save:
                self._close_after_save = True
                self.save_draft()
                return
        super().reject()
