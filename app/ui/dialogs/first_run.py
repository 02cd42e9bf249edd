"""First run on a data folder: fill an empty folder (a demo team, or start empty), then say who
you are (choose yourself from the team or add yourself)."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.timeutil import to_local
from app.services.caseload import add_coordinator
from app.services.caseload_view import (
    Choice,
    caseload_filter_options,
    has_patients,
    sign_in,
    signed_in_coordinator,
)
from app.ui.shell import Shell
from app.ui.widgets.form import ErrorLabel

DEMO_MODULE = "app.services.demo"
DEMO_PATIENTS = 400
DEMO_SEED = 1


@dataclass(frozen=True)
class FirstRunState:
    team: tuple[Choice, ...]
    signed_in: Choice | None
    has_patients: bool

    @property
    def needed(self) -> bool:
        return self.signed_in is None or not self.has_patients


def first_run_state(session: Session) -> FirstRunState:
    return FirstRunState(
        team=caseload_filter_options(session).coordinators,
        signed_in=signed_in_coordinator(session),
        has_patients=has_patients(session),
    )


def demo_available() -> bool:
    return importlib.util.find_spec(DEMO_MODULE) is not None


def run_demo(session: Session, *, clock: Clock, patients: int, seed: int = DEMO_SEED) -> str:
    """Fill the folder with the demo team of app.services.demo, its activity up to today."""
    module = importlib.import_module(DEMO_MODULE)
    today = to_local(clock.now()).date()
    summary = module.generate_demo(session, patients=patients, seed=seed, today=today, clock=clock)
    return f"{summary.patients} patients, {summary.coordinators} coordinators"


class FirstRunDialog(QDialog):
    signed_in = Signal(object)  # Choice
    data_filled = Signal()

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.state: FirstRunState | None = None
        self.demo_patients = DEMO_PATIENTS
        self.setWindowTitle(self.tr("Welcome to CareCoord"))
        self.setMinimumWidth(520)
        self._build()
        self._connect()

    def _build(self) -> None:
        self.pages = QStackedWidget()

        data_page = QWidget()
        welcome = QLabel(self.tr("Welcome to CareCoord"))
        welcome.setObjectName("screenTitle")
        self.data_text = QLabel(
            self.tr(
                "This data folder has no patients yet. Open a demo team to explore CareCoord "
                "with synthetic patients (NHS numbers from the 999 test range), or start empty "
                "and add or import your caseload."
            )
        )
        self.data_text.setWordWrap(True)
        self.demo_button = QPushButton(self.tr("Open a demo team"))
        self.demo_button.setAccessibleName(self.tr("Fill this folder with a synthetic demo team"))
        self.demo_button.setVisible(demo_available())
        self.empty_button = QPushButton(self.tr("Start empty"))
        self.empty_button.setAccessibleName(self.tr("Start with an empty caseload"))
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Demo team progress"))
        self.progress.hide()
        self.progress_text = QLabel()
        self.data_error = ErrorLabel(self.tr("the demo team"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.empty_button)
        box = QVBoxLayout(data_page)
        box.addWidget(welcome)
        box.addWidget(self.data_text)
        box.addWidget(self.progress)
        box.addWidget(self.progress_text)
        box.addWidget(self.data_error)
        box.addStretch(1)
        box.addLayout(buttons)
        self.pages.addWidget(data_page)

        who_page = QWidget()
        who_title = QLabel(self.tr("Who are you?"))
        who_title.setObjectName("screenTitle")
        who_text = QLabel(self.tr("Choose yourself from the team, or add yourself."))
        who_text.setWordWrap(True)
        self.team = QListWidget()
        self.team.setAccessibleName(self.tr("Team members"))
        self.choose_button = QPushButton(self.tr("Continue as selected"))
        self.choose_button.setAccessibleName(self.tr("Sign in as the selected team member"))
        self.choose_button.setEnabled(False)
        self.new_name = QLineEdit()
        self.new_name.setAccessibleName(self.tr("Your name"))
        self.new_name.setPlaceholderText(self.tr("Your name, e.g. Amira Shah"))
        self.add_button = QPushButton(self.tr("Add me and continue"))
        self.add_button.setAccessibleName(self.tr("Add yourself to the team and sign in"))
        self.add_button.setEnabled(False)
        self.who_error = ErrorLabel(self.tr("signing in"))
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_name, 1)
        add_row.addWidget(self.add_button)
        box = QVBoxLayout(who_page)
        box.addWidget(who_title)
        box.addWidget(who_text)
        box.addWidget(self.team, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.choose_button)
        box.addLayout(row)
        box.addWidget(QLabel(self.tr("Not in the list?")))
        box.addLayout(add_row)
        box.addWidget(self.who_error)
        self.pages.addWidget(who_page)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

    def _connect(self) -> None:
        self.demo_button.clicked.connect(self._open_demo)
        self.empty_button.clicked.connect(self._start_empty)
        self.team.currentRowChanged.connect(self._team_row_changed)
        self.team.itemActivated.connect(self._choose)
        self.choose_button.clicked.connect(self._choose)
        self.new_name.textChanged.connect(self._name_typed)
        self.new_name.returnPressed.connect(self._add_me)
        self.add_button.clicked.connect(self._add_me)

    # --- flow ---
    def start(self, state: FirstRunState) -> None:
        """Show the first step still needed (the caller opens the dialog when needed)."""
        self.state = state
        if not state.has_patients:
            self.pages.setCurrentIndex(0)
            (self.demo_button if self.demo_button.isVisible() else self.empty_button).setFocus()
        else:
            self._show_team(state.team)

    def _show_team(self, team: tuple[Choice, ...]) -> None:
        if self.state is not None and self.state.signed_in is not None:
            self.accept()
            return
        self.team.clear()
        for person in team:
            item = QListWidgetItem(person.label)
            item.setData(Qt.ItemDataRole.UserRole, person.value)
            self.team.addItem(item)
        self.pages.setCurrentIndex(1)
        if team:
            self.team.setCurrentRow(0)
            self.team.setFocus()
        else:
            self.new_name.setFocus()

    def _start_empty(self) -> None:
        self.data_filled.emit()
        self._after_data()

    def _after_data(self) -> None:
        self.shell.runner.read(first_run_state, on_success=self._reloaded)

    def _reloaded(self, state: FirstRunState) -> None:
        self.state = state
        self._show_team(state.team)

    def _open_demo(self) -> None:
        clock, patients = self.shell.ctx.clock, self.demo_patients
        self.demo_button.setEnabled(False)
        self.empty_button.setEnabled(False)
        self.progress.show()
        self.progress.setRange(0, 0)
        self.progress_text.setText(self.tr("Creating the demo team…"))

        def job(session: Session) -> str:
            return run_demo(session, clock=clock, patients=patients)

        self.shell.runner.write(job, on_success=self._demo_done, on_failure=self._demo_failed)

    def _demo_done(self, _summary: str) -> None:
        self.progress.hide()
        self.progress_text.clear()
        self.data_filled.emit()
        self._after_data()

    def _demo_failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self.progress_text.clear()
        self.demo_button.setEnabled(True)
        self.empty_button.setEnabled(True)
        self.data_error.show_error(
            self.tr("The demo team could not be created: %1").replace("%1", str(exc))
        )

    # --- who are you ---
    def _team_row_changed(self, row: int) -> None:
        self.choose_button.setEnabled(row >= 0)

    def _name_typed(self, text: str) -> None:
        self.add_button.setEnabled(bool(text.strip()))
        self.who_error.clear_error()

    def _choose(self) -> None:
        item = self.team.currentItem()
        if item is None:
            return
        cid = str(item.data(Qt.ItemDataRole.UserRole))
        self.shell.runner.write(
            lambda s: sign_in(s, coordinator_id=cid),
            on_success=self._signed_in,
            on_failure=self._sign_in_failed,
        )

    def _add_me(self) -> None:
        name = self.new_name.text().strip()
        if not name:
            return

        def job(session: Session) -> Choice:
            person = add_coordinator(session, name=name)
            return sign_in(session, coordinator_id=person.id)

        self.add_button.setEnabled(False)
        self.shell.runner.write(job, on_success=self._signed_in, on_failure=self._sign_in_failed)

    def _signed_in(self, who: Choice) -> None:
        self.shell.set_coordinator(who.value, who.label)
        self.signed_in.emit(who)
        self.accept()

    def _sign_in_failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(bool(self.new_name.text().strip()))
        self.who_error.show_error(str(exc))
