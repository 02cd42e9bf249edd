"""Today: open 48-hour clocks (overdue first), tasks due today or overdue, referrals waiting on
a reply. Enter or Ctrl+L on a discharge logs a call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.timeutil import LONDON, to_local
from app.services.followup import OpenClock, open_clocks
from app.services.referrals import ReferralView, referrals_awaiting_reply
from app.services.tasks import TaskView, complete_task, list_tasks
from app.ui import format as fmt
from app.ui.dialogs.log_call import CallTarget, LogCallDialog
from app.ui.models.today import ClockTableModel, DueTaskTableModel, WaitingReferralModel
from app.ui.screens.base import Screen
from app.ui.shell import Shell

REFRESH_MS = 60_000  # the clocks tick: re-read once a minute while shown


@dataclass(frozen=True)
class TodayData:
    clocks: tuple[OpenClock, ...]
    tasks: tuple[TaskView, ...]
    referrals: tuple[ReferralView, ...]
    now: datetime


def end_of_local_day(now: datetime) -> datetime:
    day = to_local(now).date() + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=LONDON)


def load_today(session: Session, *, now: datetime, coordinator_id: str | None) -> TodayData:
    tasks = list_tasks(
        session, now=now, coordinator_id=coordinator_id, due_before=end_of_local_day(now)
    )
    return TodayData(
        clocks=tuple(open_clocks(session, now=now, coordinator_id=coordinator_id)),
        # the 48-hour calls are the clocks above; the list shows the rest of the work
        tasks=tuple(t for t in tasks if t.kind != "post_discharge_call"),
        referrals=tuple(referrals_awaiting_reply(session, now=now, coordinator_id=coordinator_id)),
        now=now,
    )


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


class TodayScreen(Screen):
    loaded = Signal()
    call_logged = Signal(object)  # CallAttemptView
    task_completed = Signal(object)  # TaskView

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.data: TodayData | None = None
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        self.title = QLabel(self.tr("Today"))
        self.title.setObjectName("screenTitle")
        self.summary = QLabel()
        self.summary.setAccessibleName(self.tr("Summary of today's work"))
        self.scope = QComboBox()
        self.scope.setAccessibleName(self.tr("Whose work to show"))
        self.scope.addItem(self.tr("My patients"), "mine")
        self.scope.addItem(self.tr("Whole team"), "team")
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setAccessibleName(self.tr("Refresh today's lists (F5)"))
        self.refresh_button.setShortcut("F5")

        self.clocks = ClockTableModel(self)
        self.clock_table = _table(self.tr("Open 48-hour clocks"))
        self.clock_table.setModel(self.clocks)
        for col, width in enumerate((100, 200, 110, 150, 130, 75, 130)):
            self.clock_table.setColumnWidth(col, width)
        self.log_button = QPushButton(self.tr("Log call…"))
        self.log_button.setAccessibleName(self.tr("Log a call on the selected discharge (Ctrl+L)"))
        self.clock_open_button = QPushButton(self.tr("Open record"))
        self.clock_open_button.setAccessibleName(self.tr("Open the record of the selected patient"))

        self.tasks = DueTaskTableModel(self)
        self.task_table = _table(self.tr("Tasks due today or overdue"))
        self.task_table.setModel(self.tasks)
        for col, width in enumerate((150, 300, 150, 200)):
            self.task_table.setColumnWidth(col, width)
        self.complete_button = QPushButton(self.tr("Complete"))
        self.complete_button.setAccessibleName(self.tr("Mark the selected task done"))
        self.task_open_button = QPushButton(self.tr("Open record"))
        self.task_open_button.setAccessibleName(self.tr("Open the record of the task's patient"))

        self.referrals = WaitingReferralModel(self)
        self.referral_table = _table(self.tr("Referrals waiting on a reply"))
        self.referral_table.setModel(self.referrals)
        for col, width in enumerate((200, 220, 110, 150, 110)):
            self.referral_table.setColumnWidth(col, width)
        self.referral_open_button = QPushButton(self.tr("Open record"))
        self.referral_open_button.setAccessibleName(
            self.tr("Open the record of the referred patient")
        )

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(16)
        top.addWidget(self.summary, 1)
        show = QLabel(self.tr("S&how"))
        show.setBuddy(self.scope)
        top.addWidget(show)
        top.addWidget(self.scope)
        top.addWidget(self.refresh_button)

        self.clock_box = self._section(
            self.tr("48-hour calls after discharge"),
            self.clock_table,
            (self.log_button, self.clock_open_button),
        )
        self.task_box = self._section(
            self.tr("Tasks due today or overdue"),
            self.task_table,
            (self.complete_button, self.task_open_button),
        )
        self.referral_box = self._section(
            self.tr("Referrals waiting on a reply"),
            self.referral_table,
            (self.referral_open_button,),
        )
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        for box in (self.clock_box, self.task_box, self.referral_box):
            splitter.addWidget(box)
        self._balanced = False

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._update_buttons()

    def _section(
        self, title: str, table: QTableView, buttons: tuple[QPushButton, ...]
    ) -> QGroupBox:
        box = QGroupBox(title)
        row = QHBoxLayout()
        row.addStretch(1)
        for b in buttons:
            row.addWidget(b)
        layout = QVBoxLayout(box)
        layout.addWidget(table, 1)
        layout.addLayout(row)
        return box

    def _connect(self) -> None:
        self.scope.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self._timer.timeout.connect(self._tick)
        self.shell.coordinator_changed.connect(self._coordinator_changed)
        self.clock_table.activated.connect(self._clock_activated)
        self.log_button.clicked.connect(self.log_call)
        self.clock_open_button.clicked.connect(self._open_clock_patient)
        self.complete_button.clicked.connect(self._complete_selected)
        self.task_table.activated.connect(self._open_task_patient)
        self.task_open_button.clicked.connect(self._open_task_patient)
        self.referral_table.activated.connect(self._open_referral_patient)
        self.referral_open_button.clicked.connect(self._open_referral_patient)
        for table in (self.clock_table, self.task_table, self.referral_table):
            table.selectionModel().selectionChanged.connect(self._update_buttons)
            table.model().modelReset.connect(self._update_buttons)

    # --- loading ---
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def _tick(self) -> None:
        if not self.shell.runner.busy:
            self.refresh()

    def _coordinator_changed(self) -> None:
        self.stale = True
        self._balanced = False
        if self.isVisible():
            self.refresh()

    def coordinator_scope(self) -> str | None:
        if self.scope.currentData() == "mine":
            return self.shell.coordinator_id
        return None

    def refresh(self) -> None:
        super().refresh()
        self._generation += 1
        generation, now, who = self._generation, self.shell.now(), self.coordinator_scope()

        def job(session: Session) -> TodayData:
            return load_today(session, now=now, coordinator_id=who)

        self.shell.runner.read(
            job,
            on_success=lambda data: self._loaded(generation, data),
            on_failure=self._failed,
        )

    def _loaded(self, generation: int, data: TodayData) -> None:
        if generation != self._generation:
            return
        selected = self._selected_clock()
        self.data = data
        self.clocks.set_rows_at(data.clocks, data.now)
        self.tasks.set_rows_at(data.tasks, data.now)
        self.referrals.set_rows_at(data.referrals, data.now)
        if selected is not None:
            for row, clock in enumerate(data.clocks):
                if clock.admission_id == selected.admission_id:
                    self.clock_table.selectRow(row)
        elif data.clocks and self.clock_table.hasFocus():
            self.clock_table.selectRow(0)
        self._show_summary(data)
        if not self._balanced:
            self._balance(data)
        self.loaded.emit()

    def _balance(self, data: TodayData) -> None:
        """Give the clocks the room their rows need (up to 12), and share the rest between
        tasks and referrals by how much each holds. Once: the user may drag after."""
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0 or not self.isVisible():
            return
        self._balanced = True
        row = self.clock_table.verticalHeader().defaultSectionSize()
        overhead = sizes[0] - self.clock_table.viewport().height() + 6
        clocks = min(overhead + min(max(len(data.clocks), 2), 12) * row, total // 2)
        rest = total - clocks
        weights = [min(max(n, 2), 12) for n in (len(data.tasks), len(data.referrals))]
        tasks = rest * weights[0] // sum(weights)
        self.splitter.setSizes([clocks, tasks, rest - tasks])

    def _show_summary(self, data: TodayData) -> None:
        colours = [fmt.rag((c.deadline - data.now).total_seconds() / 3600) for c in data.clocks]
        overdue_tasks = sum(1 for t in data.tasks if t.overdue)
        self.title.setText(
            self.tr("Today — %1").replace("%1", to_local(data.now).strftime("%A %d %B %Y"))
        )
        self.summary.setText(
            self.tr("Calls overdue: %1 · due within 12 hours: %2 · tasks overdue: %3")
            .replace("%1", str(colours.count("red")))
            .replace("%2", str(colours.count("amber")))
            .replace("%3", str(overdue_tasks))
        )
        self.clock_box.setTitle(
            self.tr("48-hour calls after discharge (%1 open)").replace("%1", str(len(data.clocks)))
        )
        self.task_box.setTitle(
            self.tr("Tasks due today or overdue (%1)").replace("%1", str(len(data.tasks)))
        )
        self.referral_box.setTitle(
            self.tr("Referrals waiting on a reply (%1)").replace("%1", str(len(data.referrals)))
        )

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText(self.tr("Could not load today's work: %1").replace("%1", str(exc)))

    # --- selection ---
    def _selected_row(self, table: QTableView) -> int | None:
        rows = table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _selected_clock(self) -> OpenClock | None:
        row = self._selected_row(self.clock_table)
        return None if row is None else self.clocks.row_at(row)

    def _update_buttons(self) -> None:
        has_clock = self._selected_row(self.clock_table) is not None
        self.log_button.setEnabled(has_clock)
        self.clock_open_button.setEnabled(has_clock)
        task_row = self._selected_row(self.task_table)
        task = None if task_row is None else self.tasks.row_at(task_row)
        self.complete_button.setEnabled(task is not None and task.status == "open")
        self.task_open_button.setEnabled(task is not None and task.patient_id is not None)
        self.referral_open_button.setEnabled(self._selected_row(self.referral_table) is not None)

    # --- actions ---
    def log_call(self) -> bool:
        clock = self._selected_clock()
        if clock is None and self.clocks.rowCount() and self.clock_table.hasFocus():
            self.clock_table.selectRow(0)
            clock = self._selected_clock()
        if clock is None:
            return False
        self.open_log_call(clock)
        return True

    def open_log_call(self, clock: OpenClock) -> LogCallDialog:
        target = CallTarget(
            admission_id=clock.admission_id,
            patient_name=clock.patient_name,
            nhs_number=clock.nhs_number,
            discharged_at=clock.discharged_at,
            deadline=clock.deadline,
            attempts=clock.attempts,
        )
        dialog = LogCallDialog(self.shell, target, self)
        dialog.call_logged.connect(self.call_logged)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _clock_activated(self, index: QModelIndex) -> None:
        clock = self.clocks.row_at(index.row())
        if clock is not None:
            self.open_log_call(clock)

    def _open_clock_patient(self) -> None:
        clock = self._selected_clock()
        if clock is not None:
            self.shell.open_patient(clock.patient_id)

    def _selected_task(self) -> TaskView | None:
        row = self._selected_row(self.task_table)
        return None if row is None else self.tasks.row_at(row)

    def _open_task_patient(self) -> None:
        task = self._selected_task()
        if task is not None and task.patient_id is not None:
            self.shell.open_patient(task.patient_id)

    def _complete_selected(self) -> None:
        task = self._selected_task()
        if task is None:
            return
        task_id, now = task.id, self.shell.now()
        self.complete_button.setEnabled(False)
        self.shell.runner.write(
            lambda s: complete_task(s, task_id=task_id, now=now),
            on_success=self.task_completed.emit,
            on_failure=self._failed,
        )

    def _open_referral_patient(self) -> None:
        row = self._selected_row(self.referral_table)
        referral = None if row is None else self.referrals.row_at(row)
        if referral is not None:
            self.shell.open_patient(referral.patient_id)
