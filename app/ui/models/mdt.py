"""Item models of the MDT screen: meetings, the agenda, actions, and the proposed patients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt

from app.services.mdt import ActionView, AgendaCandidate, ItemView, MeetingView
from app.ui import format as fmt
from app.ui.models.base import Column, Index, RowTableModel

_T = QCoreApplication.translate


def meeting_place(m: MeetingView) -> str:
    practice = m.practice_name or m.practice_code
    place = practice if m.level == "practice" else m.pcn_name
    return ", ".join(x for x in (place, m.venue) if x)


def level_text(level: str) -> str:
    return _T("Mdt", "Practice") if level == "practice" else _T("Mdt", "PCN")


def status_text(status: str) -> str:
    return {
        "planned": _T("Mdt", "Planned"),
        "held": _T("Mdt", "Held"),
        "open": _T("Mdt", "Open"),
        "done": _T("Mdt", "Done"),
        "dropped": _T("Mdt", "Dropped"),
    }.get(status, fmt.label(status))


class MeetingListModel(RowTableModel[MeetingView]):
    columns = (
        Column[MeetingView](
            "Date",
            lambda m: fmt.day(m.meeting_date),
            tooltip=lambda m: m.meeting_date.strftime("%A %d %B %Y"),
        ),
        Column[MeetingView]("Level", lambda m: level_text(m.level)),
        Column[MeetingView]("Where", meeting_place, tooltip=meeting_place),
        Column[MeetingView]("Patients", lambda m: str(len(m.items)), align_right=True),
        Column[MeetingView]("Status", lambda m: status_text(m.status)),
    )


class AgendaModel(RowTableModel[ItemView]):
    columns = (
        Column[ItemView]("#", lambda i: str(i.position), align_right=True),
        Column[ItemView]("Patient", lambda i: i.patient_name),
        Column[ItemView]("NHS number", lambda i: i.nhs_number),
        Column[ItemView](
            "Discussed",
            lambda i: fmt.yes_no(i.discussed),
            background=lambda i: fmt.GREEN if i.discussed else None,
        ),
        Column[ItemView]("Why on the agenda", lambda i: i.reason or "", tooltip=lambda i: i.reason),
    )


def _due(a: ActionView) -> str:
    return fmt.day(a.due_date)


class MdtActionModel(RowTableModel[ActionView]):
    """Actions of a meeting, or those carried forward from earlier meetings."""

    columns = (
        Column[ActionView]("Action", lambda a: a.description, tooltip=lambda a: a.description),
        Column[ActionView]("Patient", lambda a: a.patient_name or ""),
        Column[ActionView]("Owner", lambda a: a.owner or ""),
        Column[ActionView]("Due", _due),
        Column[ActionView](
            "Status",
            lambda a: status_text(a.status),
            background=lambda a: fmt.GREEN if a.status == "done" else None,
        ),
        Column[ActionView]("Raised", lambda a: fmt.day(a.meeting_date)),
    )


class CandidateModel(RowTableModel[AgendaCandidate]):
    """Patients proposed for the agenda, each with why; the first column is a check box
    (already on the agenda: checked and not changeable)."""

    columns = (
        Column[AgendaCandidate]("Patient", lambda c: c.patient_name),
        Column[AgendaCandidate]("NHS number", lambda c: c.nhs_number),
        Column[AgendaCandidate](
            "Risk", lambda c: "" if c.risk_score is None else f"{c.risk_score:g}", align_right=True
        ),
        Column[AgendaCandidate](
            "Why", lambda c: "; ".join(c.reasons), tooltip=lambda c: "\n".join(c.reasons)
        ),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._checked: set[str] = set()

    def set_rows(self, rows: Sequence[AgendaCandidate]) -> None:
        self._checked = {c.patient_id for c in rows if not c.on_agenda}
        super().set_rows(rows)

    def chosen(self) -> tuple[AgendaCandidate, ...]:
        return tuple(c for c in self.rows() if c.patient_id in self._checked and not c.on_agenda)

    def set_all(self, checked: bool) -> None:
        self._checked = {c.patient_id for c in self.rows() if checked and not c.on_agenda}
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(self.rowCount() - 1, 0),
                [Qt.ItemDataRole.CheckStateRole],
            )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.CheckStateRole
            and index.isValid()
            and index.column() == 0
            and self.checkIndex(index)
        ):
            c = self.rows()[index.row()]
            ticked = c.on_agenda or c.patient_id in self._checked
            return Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        return super().data(index, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == 0:
            c = self.rows()[index.row()]
            if c.on_agenda:
                return flags & ~Qt.ItemFlag.ItemIsEnabled
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or index.column() != 0:
            return False
        c = self.rows()[index.row()]
        if c.on_agenda:
            return False
        state = Qt.CheckState(value) if isinstance(value, int) else value
        if state == Qt.CheckState.Checked:
            self._checked.add(c.patient_id)
        else:
            self._checked.discard(c.patient_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True
