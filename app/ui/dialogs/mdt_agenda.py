"""Build an MDT agenda: the patients the app proposes (each with why), ticked to add, and any
other patient found by name or NHS number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError
from app.services.caseload_view import CaseloadPage, CaseloadQuery, search_caseload
from app.services.mdt import AgendaCandidate, add_item, get_meeting, propose_agenda
from app.ui import format as fmt
from app.ui.models.mdt import CandidateModel
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class AddedItems:
    meeting_id: str
    added: int


def add_to_agenda(
    session: Session,
    *,
    meeting_id: str,
    patients: tuple[tuple[str, str | None], ...],
    now: datetime,
) -> AddedItems:
    """Put each (patient id, reason) on the agenda, in order, in one transaction."""
    on_agenda = {i.patient_id for i in get_meeting(session, meeting_id=meeting_id).items}
    added = 0
    for patient_id, reason in patients:
        if patient_id in on_agenda:
            continue
        add_item(session, meeting_id=meeting_id, patient_id=patient_id, now=now, reason=reason)
        on_agenda.add(patient_id)
        added += 1
    return AddedItems(meeting_id, added)


class MdtAgendaDialog(QDialog):
    agenda_changed = Signal(object)  # AddedItems

    def __init__(self, shell: Shell, meeting_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.meeting_id = meeting_id
        self.setWindowTitle(self.tr("Add patients to the agenda"))
        self.resize(900, 620)
        self._build()
        self._connect()
        self.load()

    def _build(self) -> None:
        intro = QLabel(
            self.tr(
                "Proposed from recent discharges, overdue 48-hour calls, high risk scores, open "
                "escalations and patients flagged for MDT. Untick anyone the team need not "
                "discuss."
            )
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        self.candidates = CandidateModel(self)
        self.table = QTableView()
        self.table.setAccessibleName(self.tr("Proposed patients"))
        self.table.setModel(self.candidates)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((190, 110, 60)):
            self.table.setColumnWidth(col, width)
        self.status = QLabel(self.tr("Looking for patients to propose…"))
        self.status.setAccessibleName(self.tr("Proposal status"))
        self.all_button = QPushButton(self.tr("Tick &all"))
        self.all_button.setAccessibleName(self.tr("Tick every proposed patient"))
        self.none_button = QPushButton(self.tr("Tick &none"))
        self.none_button.setAccessibleName(self.tr("Untick every proposed patient"))
        ticks = QHBoxLayout()
        ticks.addWidget(self.status, 1)
        ticks.addWidget(self.all_button)
        ticks.addWidget(self.none_button)
        proposed = QGroupBox(self.tr("Proposed"))
        box = QVBoxLayout(proposed)
        box.addWidget(intro)
        box.addWidget(self.table, 1)
        box.addLayout(ticks)

        self.search = QLineEdit()
        self.search.setAccessibleName(self.tr("Find another patient by name or NHS number"))
        self.search.setPlaceholderText(self.tr("Name or NHS number…"))
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setAccessibleName(self.tr("Patients found"))
        self.results.setMaximumHeight(120)
        self.other_reason = QLineEdit()
        self.other_reason.setAccessibleName(self.tr("Why this patient is on the agenda"))
        self.other_reason.setPlaceholderText(self.tr("Why discuss them (optional)"))
        self.add_other_button = QPushButton(self.tr("Add &this patient"))
        self.add_other_button.setAccessibleName(self.tr("Add the patient found to the agenda"))
        self.add_other_button.setEnabled(False)
        other = QGroupBox(self.tr("Someone else"))
        obox = QVBoxLayout(other)
        obox.addWidget(self.search)
        obox.addWidget(self.results)
        row = QHBoxLayout()
        row.addWidget(self.other_reason, 1)
        row.addWidget(self.add_other_button)
        obox.addLayout(row)

        self.error = ErrorLabel(self.tr("the agenda"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.add_button = QPushButton(self.tr("Add ticked patients"))
        self.add_button.setAccessibleName(self.tr("Add the ticked patients to the agenda"))
        self.add_button.setDefault(True)
        self.buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(proposed, 3)
        layout.addWidget(other, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)

    def _connect(self) -> None:
        self.buttons.rejected.connect(self.reject)
        self.add_button.clicked.connect(self.add_ticked)
        self.all_button.clicked.connect(lambda: self.candidates.set_all(True))
        self.none_button.clicked.connect(lambda: self.candidates.set_all(False))
        self.search.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._search)
        self.results.currentRowChanged.connect(
            lambda row: self.add_other_button.setEnabled(row >= 0)
        )
        self.add_other_button.clicked.connect(self._add_other)
        self.results.itemActivated.connect(lambda _item: self._add_other())

    # --- loading ---
    def load(self) -> None:
        meeting_id, now = self.meeting_id, self.shell.now()

        def job(session: Session) -> tuple[AgendaCandidate, ...]:
            return tuple(propose_agenda(session, meeting_id=meeting_id, now=now))

        self.shell.runner.read(job, on_success=self._loaded, on_failure=self._refused)

    def _loaded(self, candidates: tuple[AgendaCandidate, ...]) -> None:
        self.candidates.set_rows(candidates)
        waiting = sum(1 for c in candidates if not c.on_agenda)
        if not candidates:
            self.status.setText(self.tr("No patient of this practice or PCN is flagged now."))
        else:
            self.status.setText(
                self.tr("%1 proposed, %2 already on the agenda")
                .replace("%1", str(waiting))
                .replace("%2", str(len(candidates) - waiting))
            )
        self.add_button.setEnabled(waiting > 0)

    def _search(self) -> None:
        text, now = self.search.text().strip(), self.shell.now()
        if len(text) < 2:
            self.results.clear()
            return

        def job(session: Session) -> CaseloadPage:
            return search_caseload(
                session, query=CaseloadQuery(text=text), offset=0, limit=SEARCH_LIMIT, now=now
            )

        self.shell.runner.read(job, on_success=self._found)

    def _found(self, page: CaseloadPage) -> None:
        self.results.clear()
        for row in page.rows:
            item = QListWidgetItem(
                f"{row.name}  ·  {fmt.nhs(row.nhs_number)}  ·  {row.practice or ''}"
            )
            item.setData(Qt.ItemDataRole.UserRole, row.patient_id)
            self.results.addItem(item)

    # --- adding ---
    def add_ticked(self) -> None:
        chosen = tuple((c.patient_id, "; ".join(c.reasons)) for c in self.candidates.chosen())
        if not chosen:
            self.error.show_error(self.tr("Tick at least one patient to add."))
            return
        self._add(chosen)

    def _add_other(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        reason = self.other_reason.text().strip() or None
        self._add(((str(item.data(Qt.ItemDataRole.UserRole)), reason),))
        self.other_reason.clear()

    def _add(self, patients: tuple[tuple[str, str | None], ...]) -> None:
        self.error.clear_error()
        meeting_id, now = self.meeting_id, self.shell.now()
        self.add_button.setEnabled(False)

        def job(session: Session) -> AddedItems:
            return add_to_agenda(session, meeting_id=meeting_id, patients=patients, now=now)

        self.shell.runner.write(job, on_success=self._added, on_failure=self._refused)

    def _added(self, result: AddedItems) -> None:
        self.agenda_changed.emit(result)
        self.load()

    def _refused(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        if isinstance(exc, CareCoordError):
            self.error.show_error(str(exc))
        else:
            self.error.show_error(
                self.tr("The agenda could not be changed: %1").replace("%1", str(exc))
            )
