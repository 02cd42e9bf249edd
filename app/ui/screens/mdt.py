"""MDT meetings: the list of meetings; for the chosen one its attendees, the agenda (add,
remove, reorder), each patient's SBAR discussion and actions, the actions carried forward from
earlier meetings, and the printed MDT summary."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
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

from app.core.errors import CareCoordError
from app.core.timeutil import to_local
from app.reports.mdt_pdf import render_mdt_pdf
from app.services.desktop import DeviceSettings, get_device_settings
from app.services.mdt import (
    ActionView,
    ItemView,
    MeetingView,
    complete_action,
    drop_action,
    get_meeting,
    list_meetings,
    mark_held,
    record_discussion,
    remove_item,
    reorder_items,
)
from app.services.mdt_pack import build_mdt_pack
from app.ui.dialogs.mdt_action import MdtActionDialog
from app.ui.dialogs.mdt_agenda import MdtAgendaDialog
from app.ui.dialogs.mdt_meeting import MdtMeetingDialog
from app.ui.models.mdt import (
    AgendaModel,
    MdtActionModel,
    MeetingListModel,
    level_text,
    meeting_place,
    status_text,
)
from app.ui.screens.base import Screen
from app.ui.shell import Shell
from app.ui.widgets.files import choose_save_path, open_file
from app.ui.widgets.progress import Cancelled, ProgressPanel, Report
from app.ui.widgets.sbar import SbarEditor

PRINTED_BY_DEFAULT = "CareCoord"


@dataclass(frozen=True)
class MdtData:
    meetings: tuple[MeetingView, ...]
    settings: DeviceSettings


def load_mdt(session: Session) -> MdtData:
    return MdtData(tuple(list_meetings(session)), get_device_settings(session))


def print_summary(
    session: Session,
    report: Report,
    *,
    meeting_id: str,
    printed_by: str,
    now: datetime,
    out: str,
) -> str:
    """Build the MDT pack and render it to ``out``; returns the file written."""
    report(0, 1, "")
    pack = build_mdt_pack(session, meeting_id=meeting_id, printed_by=printed_by, now=now)
    render_mdt_pdf(pack, Path(out), progress=lambda done, total: report(done, total, ""))
    return out


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


def _button(text: str, name: str) -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(name)
    return b


def _box(title: str, body: QWidget, buttons: tuple[QPushButton, ...]) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(body, 1)
    if buttons:
        row = QHBoxLayout()
        row.addStretch(1)
        for b in buttons:
            row.addWidget(b)
        layout.addLayout(row)
    return box


class MdtScreen(Screen):
    loaded = Signal()
    meeting_loaded = Signal()
    summary_printed = Signal(str)  # the PDF written

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.data: MdtData | None = None
        self.meeting: MeetingView | None = None
        self._wanted: str | None = None
        self._sbar_item: ItemView | None = None
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        title = QLabel(self.tr("MDT meetings"))
        title.setObjectName("screenTitle")
        self.new_button = _button(self.tr("&New meeting…"), self.tr("Plan a new MDT meeting"))
        self.refresh_button = _button(self.tr("Refresh"), self.tr("Refresh the meetings (F5)"))
        self.refresh_button.setShortcut(QKeySequence("F5"))
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.new_button)
        top.addWidget(self.refresh_button)

        self.meetings = MeetingListModel(self)
        self.meeting_table = _table(self.tr("MDT meetings"))
        self.meeting_table.setModel(self.meetings)
        self.meeting_table.setMinimumWidth(300)
        for col, width in enumerate((86, 42, 104, 62)):
            self.meeting_table.setColumnWidth(col, width)

        self.heading = QLabel(self.tr("Choose a meeting, or plan a new one."))
        font = self.heading.font()
        font.setPointSize(13)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName(self.tr("Meeting"))
        self.attendee_text = QLabel()
        self.attendee_text.setWordWrap(True)
        self.attendee_text.setAccessibleName(self.tr("Attendees"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("hint")
        self.message.setAccessibleName(self.tr("Messages"))
        self.held_button = _button(self.tr("Mark &held"), self.tr("Mark the meeting as held"))
        self.print_button = _button(
            self.tr("&Print MDT summary…"), self.tr("Save the MDT summary as a PDF and open it")
        )
        self.print_button.setShortcut(QKeySequence.StandardKey.Print)
        header_buttons = QHBoxLayout()
        header_buttons.addWidget(self.attendee_text, 1)
        header_buttons.addWidget(self.held_button)
        header_buttons.addWidget(self.print_button)

        self.agenda = AgendaModel(self)
        self.agenda_table = _table(self.tr("Agenda"))
        self.agenda_table.setModel(self.agenda)
        for col, width in enumerate((32, 190, 110, 80)):
            self.agenda_table.setColumnWidth(col, width)
        self.add_button = _button(self.tr("&Add patients…"), self.tr("Add patients to the agenda"))
        self.up_button = _button(self.tr("Move &up"), self.tr("Move the patient up the agenda"))
        self.down_button = _button(
            self.tr("Move do&wn"), self.tr("Move the patient down the agenda")
        )
        self.remove_button = _button(self.tr("&Remove"), self.tr("Take the patient off the agenda"))
        self.open_button = _button(self.tr("Open record"), self.tr("Open the patient's record"))
        self.agenda_box = _box(
            self.tr("Agenda"),
            self.agenda_table,
            (self.open_button, self.add_button, self.up_button, self.down_button,
             self.remove_button),
        )  # fmt: skip

        self.sbar = SbarEditor()
        self.save_sbar_button = _button(
            self.tr("&Save discussion"), self.tr("Save the discussion (Ctrl+S)")
        )
        self.save_sbar_button.setShortcut(QKeySequence.StandardKey.Save)
        self.sbar_box = _box(self.tr("Discussion"), self.sbar, (self.save_sbar_button,))

        self.action_model = MdtActionModel(self)
        self.action_table = _table(self.tr("Actions agreed for this patient"))
        self.action_table.setModel(self.action_model)
        for col, width in enumerate((170, 0, 110, 85, 60)):
            if width:
                self.action_table.setColumnWidth(col, width)
        self.action_table.hideColumn(1)
        self.action_table.hideColumn(5)
        self.add_action_button = _button(self.tr("Add a&ction…"), self.tr("Add an action"))
        self.done_button = _button(self.tr("&Done"), self.tr("Mark the selected action done"))
        self.drop_button = _button(self.tr("Dro&p"), self.tr("Drop the selected action"))
        self.action_box = _box(
            self.tr("Actions"),
            self.action_table,
            (self.add_action_button, self.done_button, self.drop_button),
        )

        self.carried = MdtActionModel(self)
        self.carried_table = _table(self.tr("Open actions carried forward"))
        self.carried_table.setModel(self.carried)
        for col, width in enumerate((290, 160, 150, 85, 60)):
            self.carried_table.setColumnWidth(col, width)
        self.carried_done_button = _button(
            self.tr("Done"), self.tr("Mark the selected carried-forward action done")
        )
        self.carried_box = _box(
            self.tr("Open actions from earlier meetings"),
            self.carried_table,
            (self.carried_done_button,),
        )

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.sbar_box)
        lower.addWidget(self.action_box)
        lower.setSizes([500, 500])
        self.detail_split = QSplitter(Qt.Orientation.Vertical)
        self.detail_split.setChildrenCollapsible(False)
        for w in (self.agenda_box, lower, self.carried_box):
            self.detail_split.addWidget(w)
        self.detail_split.setSizes([250, 290, 190])

        detail = QWidget()
        dbox = QVBoxLayout(detail)
        dbox.setContentsMargins(0, 0, 0, 0)
        dbox.addWidget(self.heading)
        dbox.addLayout(header_buttons)
        dbox.addWidget(self.message)
        dbox.addWidget(self.detail_split, 1)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.meeting_table)
        self.split.addWidget(detail)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([396, 1044])

        self.progress = ProgressPanel()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.progress)
        self._update_buttons()

    def _connect(self) -> None:
        self.new_button.clicked.connect(self.new_meeting)
        self.refresh_button.clicked.connect(self.refresh)
        self.meeting_table.selectionModel().selectionChanged.connect(self._meeting_chosen)
        self.agenda_table.selectionModel().selectionChanged.connect(self._item_chosen)
        self.agenda_table.activated.connect(self._open_patient)
        self.open_button.clicked.connect(self._open_patient)
        self.add_button.clicked.connect(self.add_patients)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.remove_button.clicked.connect(self._remove_item)
        self.save_sbar_button.clicked.connect(self.save_discussion)
        self.sbar.edited.connect(self._update_buttons)
        self.add_action_button.clicked.connect(self.add_action)
        self.done_button.clicked.connect(lambda: self._close_action(self.action_table, "done"))
        self.drop_button.clicked.connect(lambda: self._close_action(self.action_table, "drop"))
        self.carried_done_button.clicked.connect(
            lambda: self._close_action(self.carried_table, "done")
        )
        self.held_button.clicked.connect(self._mark_held)
        self.print_button.clicked.connect(self.print_summary)
        for table in (self.action_table, self.carried_table):
            table.selectionModel().selectionChanged.connect(self._update_buttons)

    # --- loading ---
    def refresh(self) -> None:
        super().refresh()
        self._generation += 1
        generation = self._generation
        self.shell.runner.read(
            load_mdt,
            on_success=lambda d: self._loaded(generation, d),
            on_failure=self._failed,
        )

    def _loaded(self, generation: int, data: MdtData) -> None:
        if generation != self._generation:
            return
        self.data = data
        wanted = self._wanted or (self.meeting.id if self.meeting else None)
        self.meetings.set_rows(data.meetings)
        row = next((n for n, m in enumerate(data.meetings) if m.id == wanted), None)
        if row is None and data.meetings:
            row = self._default_row(data.meetings)
        if row is not None:
            self.meeting_table.selectRow(row)
        else:
            self._show_meeting(None)
        self._wanted = None
        self.loaded.emit()

    def _default_row(self, meetings: tuple[MeetingView, ...]) -> int:
        """The next planned meeting, else the most recent one."""
        today = to_local(self.shell.now()).date()
        upcoming = [n for n, m in enumerate(meetings) if m.meeting_date >= today]
        return upcoming[-1] if upcoming else 0

    def _meeting_chosen(self) -> None:
        meeting = self._selected(self.meeting_table, self.meetings)
        if not isinstance(meeting, MeetingView):
            self._show_meeting(None)
            return
        self._load_meeting(meeting.id)

    def _load_meeting(self, meeting_id: str) -> None:
        self._generation += 1
        generation = self._generation

        def job(session: Session) -> MeetingView:
            return get_meeting(session, meeting_id=meeting_id)

        self.shell.runner.read(
            job,
            on_success=lambda m: self._meeting_loaded(generation, m),
            on_failure=self._failed,
        )

    def _meeting_loaded(self, generation: int, meeting: MeetingView) -> None:
        if generation == self._generation:
            self._show_meeting(meeting)
            self.meeting_loaded.emit()

    def _show_meeting(self, meeting: MeetingView | None) -> None:
        previous = self.selected_item()
        self._save_pending()
        self.meeting = meeting
        if meeting is None:
            self.heading.setText(self.tr("Choose a meeting, or plan a new one."))
            self.attendee_text.clear()
            self.agenda.set_rows(())
            self.carried.set_rows(())
        else:
            self.heading.setText(
                self.tr("%1 MDT — %2 — %3 (%4)")
                .replace("%1", level_text(meeting.level))
                .replace("%2", meeting.meeting_date.strftime("%A %d %B %Y"))
                .replace("%3", meeting_place(meeting))
                .replace("%4", status_text(meeting.status))
            )
            people = ", ".join(f"{a.name} ({self.tr(a.role)})" for a in meeting.attendees)
            self.attendee_text.setText(
                "<b>" + html.escape(self.tr("Attendees:")) + "</b> "
                + html.escape(people or self.tr("none recorded"))
            )  # fmt: skip
            self.agenda.set_rows(meeting.items)
            self.carried.set_rows(meeting.carried_forward)
            self.agenda_box.setTitle(
                self.tr("Agenda (%1 patients)").replace("%1", str(len(meeting.items)))
            )
            self.carried_box.setTitle(
                self.tr("Open actions from earlier meetings (%1)").replace(
                    "%1", str(len(meeting.carried_forward))
                )
            )
        row = 0
        if previous is not None and meeting is not None:
            row = next((n for n, i in enumerate(meeting.items) if i.id == previous.id), 0)
        if self.agenda.rowCount():
            self.agenda_table.selectRow(row)
        else:
            self._item_chosen()
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(self.tr("Could not load the meetings: %1").replace("%1", str(exc)))

    # --- selection ---
    def _selected(self, table: QTableView, model: object) -> object:
        rows = table.selectionModel().selectedRows()
        return model.row_at(rows[0].row()) if rows else None  # type: ignore[attr-defined]

    def selected_item(self) -> ItemView | None:
        item = self._selected(self.agenda_table, self.agenda)
        return item if isinstance(item, ItemView) else None

    def _item_chosen(self) -> None:
        item = self.selected_item()
        if self.sbar.dirty and self._sbar_item is not None and item is not self._sbar_item:
            self._save_pending()
        self._sbar_item = item
        self.sbar.show_item(item)
        if self.meeting is not None and item is not None:
            own = tuple(
                a
                for a in self.meeting.actions
                if a.item_id == item.id or (a.item_id is None and a.patient_id == item.patient_id)
            )
            self.action_box.setTitle(self.tr("Actions for %1").replace("%1", item.patient_name))
        elif self.meeting is not None:
            own = tuple(a for a in self.meeting.actions if a.patient_id is None)
            self.action_box.setTitle(self.tr("Actions for the whole meeting"))
        else:
            own = ()
            self.action_box.setTitle(self.tr("Actions"))
        self.action_model.set_rows(own)
        self.sbar_box.setTitle(
            self.tr("Discussion: %1").replace("%1", item.patient_name)
            if item is not None
            else self.tr("Discussion")
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        m = self.meeting
        planned = m is not None and m.status == "planned"
        item = self.selected_item()
        row = self.agenda_table.selectionModel().selectedRows()
        index = row[0].row() if row else -1
        self.held_button.setEnabled(planned)
        self.print_button.setEnabled(m is not None)
        self.add_button.setEnabled(planned)
        self.up_button.setEnabled(planned and index > 0)
        self.down_button.setEnabled(planned and 0 <= index < self.agenda.rowCount() - 1)
        self.remove_button.setEnabled(planned and item is not None)
        self.open_button.setEnabled(item is not None)
        self.save_sbar_button.setEnabled(item is not None and self.sbar.dirty)
        self.add_action_button.setEnabled(m is not None)
        action = self._selected(self.action_table, self.action_model)
        is_open = isinstance(action, ActionView) and action.status == "open"
        self.done_button.setEnabled(is_open)
        self.drop_button.setEnabled(is_open)
        self.carried_done_button.setEnabled(
            self._selected(self.carried_table, self.carried) is not None
        )

    # --- writes ---
    def _write(self, job, done_text: str) -> None:  # type: ignore[no-untyped-def]
        self.message.clear()

        def ok(_result: object) -> None:
            self.message.setText(done_text)

        self.shell.runner.write(job, on_success=ok, on_failure=self._refused)

    def _refused(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, CareCoordError) else self.tr("Not saved: %1")
        self.message.setText(text.replace("%1", str(exc)))
        self._update_buttons()

    def new_meeting(self) -> MdtMeetingDialog:
        dialog = MdtMeetingDialog(self.shell, self)
        dialog.meeting_created.connect(self._created)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _created(self, meeting: MeetingView) -> None:
        self._wanted = meeting.id
        self.message.setText(self.tr("Meeting planned. Add patients to its agenda next."))

    def add_patients(self) -> MdtAgendaDialog | None:
        if self.meeting is None:
            return None
        dialog = MdtAgendaDialog(self.shell, self.meeting.id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _open_patient(self) -> None:
        item = self.selected_item()
        if item is not None:
            self.shell.open_patient(item.patient_id)

    def _move(self, step: int) -> None:
        m, item = self.meeting, self.selected_item()
        if m is None or item is None:
            return
        ids = [i.id for i in m.items]
        n = ids.index(item.id)
        if not 0 <= n + step < len(ids):
            return
        ids[n], ids[n + step] = ids[n + step], ids[n]
        order, meeting_id, now = tuple(ids), m.id, self.shell.now()
        self._write(
            lambda s: tuple(reorder_items(s, meeting_id=meeting_id, item_ids=order, now=now)),
            self.tr("Agenda reordered."),
        )

    def _remove_item(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        item_id, now = item.id, self.shell.now()
        self._write(
            lambda s: tuple(remove_item(s, item_id=item_id, now=now)),
            self.tr("%1 taken off the agenda.").replace("%1", item.patient_name),
        )

    def _save_pending(self) -> None:
        if self.sbar.dirty and self._sbar_item is not None:
            self._save_discussion(self._sbar_item)

    def save_discussion(self) -> None:
        item = self.selected_item()
        if item is not None:
            self._save_discussion(item)

    def _save_discussion(self, item: ItemView) -> None:
        values, item_id, now = self.sbar.values(), item.id, self.shell.now()
        self.sbar.dirty = False
        self._write(
            lambda s: record_discussion(s, item_id=item_id, now=now, **values),
            self.tr("Discussion of %1 saved.").replace("%1", item.patient_name),
        )

    def add_action(self) -> MdtActionDialog | None:
        if self.meeting is None:
            return None
        dialog = MdtActionDialog(self.shell, self.meeting, self.selected_item(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _close_action(self, table: QTableView, how: str) -> None:
        model = self.action_model if table is self.action_table else self.carried
        action = self._selected(table, model)
        if not isinstance(action, ActionView):
            return
        action_id, now = action.id, self.shell.now()
        if how == "done":
            self._write(
                lambda s: complete_action(s, action_id=action_id, now=now),
                self.tr("Action marked done."),
            )
        else:
            self._write(
                lambda s: drop_action(s, action_id=action_id, now=now),
                self.tr("Action dropped."),
            )

    def _mark_held(self) -> None:
        if self.meeting is None:
            return
        meeting_id, now = self.meeting.id, self.shell.now()
        self._write(
            lambda s: mark_held(s, meeting_id=meeting_id, now=now),
            self.tr("Meeting marked as held; its agenda is now final."),
        )

    # --- the printed summary ---
    def print_summary(self) -> None:
        if self.meeting is None:
            return
        folder = self.data.settings.pdf_folder if self.data else None
        name = f"MDT-summary-{self.meeting.meeting_date:%Y-%m-%d}.pdf"
        path = choose_save_path(
            self, self.tr("Save the MDT summary"), folder, name, self.tr("PDF files (*.pdf)")
        )
        if path is not None:
            self.print_summary_to(path)

    def print_summary_to(self, path: Path) -> None:
        """Render the summary of the chosen meeting to ``path`` in the background, then open
        it."""
        if self.meeting is None:
            return
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        meeting_id, now = self.meeting.id, self.shell.now()
        who = self.shell.coordinator_name or PRINTED_BY_DEFAULT
        report = self.progress.start(self.tr("Preparing the MDT summary…"))
        self.print_button.setEnabled(False)

        def job(session: Session) -> str:
            return print_summary(
                session, report, meeting_id=meeting_id, printed_by=who, now=now, out=str(path)
            )

        self.shell.runner.read(job, on_success=self._printed, on_failure=self._print_failed)

    def _printed(self, out: str) -> None:
        self.progress.finish()
        self._update_buttons()
        self.message.setText(self.tr("MDT summary saved to %1.").replace("%1", out))
        open_file(Path(out))
        self.summary_printed.emit(out)

    def _print_failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self._update_buttons()
        if isinstance(exc, Cancelled):
            self.message.setText(self.tr("Printing cancelled; no file was written."))
        else:
            self.message.setText(
                self.tr("The MDT summary could not be saved: %1").replace("%1", str(exc))
            )
