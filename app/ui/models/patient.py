"""Item models of the patient record's tabs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject

from app.core.timeutil import to_local
from app.services.caseload_view import CarerSummary, ReferralSummary, TimelineEntry
from app.services.followup import DischargeView
from app.services.tasks import TaskView
from app.ui import format as fmt
from app.ui.format import QT_TRANSLATE_NOOP
from app.ui.models.base import Column, RowTableModel

_KINDS = {
    "registered": QT_TRANSLATE_NOOP("Timeline", "Caseload"),
    "episode": QT_TRANSLATE_NOOP("Timeline", "Episode"),
    "level": QT_TRANSLATE_NOOP("Timeline", "Level"),
    "admission": QT_TRANSLATE_NOOP("Timeline", "Admission"),
    "discharge": QT_TRANSLATE_NOOP("Timeline", "Discharge"),
    "call": QT_TRANSLATE_NOOP("Timeline", "Call"),
    "referral": QT_TRANSLATE_NOOP("Timeline", "Referral"),
    "assessment": QT_TRANSLATE_NOOP("Timeline", "Assessment"),
    "care_plan": QT_TRANSLATE_NOOP("Timeline", "Care plan"),
    "task": QT_TRANSLATE_NOOP("Timeline", "Task"),
    "mdt": QT_TRANSLATE_NOOP("Timeline", "MDT"),
}

STATUS_COLOURS = {"met": fmt.GREEN, "missed": fmt.RED, "pending": fmt.AMBER}


def _kind(code: str) -> str:
    return QCoreApplication.translate("Timeline", _KINDS.get(code, code))


class TimelineModel(RowTableModel[TimelineEntry]):
    columns = (
        Column[TimelineEntry](
            "When", lambda e: fmt.day(to_local(e.at).date()) if e.whole_day else fmt.when(e.at)
        ),
        Column[TimelineEntry]("What", lambda e: _kind(e.kind)),
        Column[TimelineEntry]("Details", lambda e: e.text, tooltip=lambda e: e.text),
    )


class DischargeModel(RowTableModel[DischargeView]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.now = datetime.now(UTC)
        self.columns: tuple[Column[Any], ...] = (
            Column[DischargeView]("Discharged", lambda d: fmt.when(d.discharged_at)),
            Column[DischargeView]("Admitted", lambda d: fmt.when(d.admitted_at)),
            Column[DischargeView](
                "Hospital",
                lambda d: ", ".join(x for x in (d.hospital, d.ward) if x),
            ),
            Column[DischargeView]("Destination", lambda d: d.discharge_destination or ""),
            Column[DischargeView](
                "48 hours",
                self._status,
                background=lambda d: STATUS_COLOURS.get(d.status),
                tooltip=lambda d: d.excluded_because,
            ),
            Column[DischargeView]("Attempts", lambda d: str(d.attempts), align_right=True),
            Column[DischargeView]("Last outcome", lambda d: fmt.label(d.last_outcome)),
            Column[DischargeView]("Contacted", lambda d: fmt.when(d.contacted_at)),
            Column[DischargeView](
                "Readmitted",
                lambda d: fmt.when(d.readmitted_at),
                foreground=lambda d: fmt.RED_TEXT if d.readmitted_at else None,
            ),
        )

    def _status(self, d: DischargeView) -> str:
        text = fmt.label(d.status)
        if d.status == "pending":
            hours = (d.deadline - self.now).total_seconds() / 3600
            text += f" — {fmt.hours_left_text(hours)}"
        return text

    def set_rows_at(self, rows: tuple[DischargeView, ...], now: datetime) -> None:
        self.now = now
        self.set_rows(rows)


class CarerModel(RowTableModel[CarerSummary]):
    columns = (
        Column[CarerSummary]("Name", lambda c: c.name),
        Column[CarerSummary]("Relationship", lambda c: c.relationship or ""),
        Column[CarerSummary]("Phone", lambda c: c.phone or ""),
        Column[CarerSummary]("Lives with", lambda c: fmt.yes_no(c.lives_with)),
        Column[CarerSummary]("Main carer", lambda c: fmt.yes_no(c.main_carer)),
        Column[CarerSummary]("Young carer", lambda c: fmt.yes_no(c.young_carer)),
        Column[CarerSummary]("Carer's assessment", lambda c: fmt.label(c.assessment_status)),
    )


class ReferralModel(RowTableModel[ReferralSummary]):
    columns = (
        Column[ReferralSummary]("Made", lambda r: fmt.when(r.created_at)),
        Column[ReferralSummary]("Service", lambda r: r.service),
        Column[ReferralSummary]("Status", lambda r: fmt.label(r.status)),
        Column[ReferralSummary]("Since", lambda r: fmt.when(r.status_changed_at)),
        Column[ReferralSummary]("Consent", lambda r: fmt.yes_no(r.consent_given)),
        Column[ReferralSummary]("Reason", lambda r: r.reason, tooltip=lambda r: r.reason),
    )


class PatientTaskModel(RowTableModel[TaskView]):
    columns = (
        Column[TaskView](
            "Due",
            lambda t: fmt.when(t.due_at),
            foreground=lambda t: fmt.RED_TEXT if t.overdue else None,
        ),
        Column[TaskView]("Task", lambda t: t.title, tooltip=lambda t: t.notes),
        Column[TaskView]("Kind", lambda t: fmt.label(t.kind)),
        Column[TaskView](
            "Status",
            lambda t: (
                fmt.label(t.status)
                + (QCoreApplication.translate("Tasks", " (late)") if t.late else "")
                + (QCoreApplication.translate("Tasks", " (overdue)") if t.overdue else "")
            ),
        ),
        Column[TaskView]("Done", lambda t: fmt.when(t.completed_at)),
        Column[TaskView]("Assigned to", lambda t: t.assigned_to_name or ""),
    )
