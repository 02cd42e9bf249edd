"""Item models of the Today screen: open 48-hour clocks, tasks due, referrals waiting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject

from app.services.followup import OpenClock
from app.services.referrals import ReferralView
from app.services.tasks import TaskView
from app.ui import format as fmt
from app.ui.models.base import Column, RowTableModel


class _Timed(RowTableModel[Any]):
    """Tables whose texts depend on the time they are shown ("Today 14:05", hours left)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.now = datetime.now(UTC)

    def set_rows_at(self, rows: tuple[Any, ...], now: datetime) -> None:
        self.now = now
        self.set_rows(rows)


class ClockTableModel(_Timed):
    """Open clocks, as the service orders them (overdue first, then the soonest deadline)."""

    def _hours(self, c: OpenClock) -> float:
        return (c.deadline - self.now).total_seconds() / 3600

    def _rag(self, c: OpenClock) -> str:
        return fmt.rag(self._hours(c))

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = (
            Column[OpenClock](
                "Status",
                lambda c: fmt.rag_text(self._rag(c)),
                background=lambda c: fmt.RAG_COLOURS[self._rag(c)],
                decoration=lambda c: fmt.RAG_SWATCHES[self._rag(c)],
            ),
            Column[OpenClock]("Patient", lambda c: c.patient_name),
            Column[OpenClock]("NHS number", lambda c: fmt.nhs(c.nhs_number)),
            Column[OpenClock]("Discharged", lambda c: fmt.short_when(c.discharged_at, self.now)),
            Column[OpenClock](
                "Time left",
                lambda c: fmt.hours_left_text(self._hours(c)),
                background=lambda c: fmt.RAG_COLOURS[self._rag(c)],
                tooltip=lambda c: self.tr("48 hours end %1").replace("%1", fmt.when(c.deadline)),
            ),
            Column[OpenClock]("Attempts", lambda c: str(c.attempts), align_right=True),
            Column[OpenClock]("Last outcome", lambda c: fmt.label(c.last_outcome)),
            Column[OpenClock]("Coordinator", lambda c: c.coordinator_name or ""),
        )


class DueTaskTableModel(_Timed):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = (
            Column[TaskView](
                "Due",
                lambda t: fmt.short_when(t.due_at, self.now),
                foreground=lambda t: fmt.RED_TEXT if t.overdue else None,
                tooltip=lambda t: self.tr("Overdue") if t.overdue else None,
            ),
            Column[TaskView]("Task", lambda t: t.title, tooltip=lambda t: t.notes),
            Column[TaskView]("Kind", lambda t: fmt.label(t.kind)),
            Column[TaskView]("Patient", lambda t: t.patient_name or ""),
            Column[TaskView]("Assigned to", lambda t: t.assigned_to_name or ""),
        )


class WaitingReferralModel(_Timed):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = (
            Column[ReferralView]("Patient", lambda r: r.patient_name),
            Column[ReferralView]("Service", lambda r: r.service_name),
            Column[ReferralView]("Status", lambda r: fmt.label(r.status)),
            Column[ReferralView](
                "Sent", lambda r: fmt.short_when(r.sent_at or r.created_at, self.now)
            ),
            Column[ReferralView](
                "Working days",
                lambda r: "" if r.working_days_waiting is None else str(r.working_days_waiting),
                align_right=True,
            ),
            Column[ReferralView]("Reason", lambda r: r.reason, tooltip=lambda r: r.reason),
        )
