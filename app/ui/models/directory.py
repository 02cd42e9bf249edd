"""Item models over the service directory and a referral's history."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from app.services.directory import ServiceView
from app.services.referrals import StatusChangeView
from app.services.tasks import TaskView
from app.ui import format as fmt
from app.ui.models.base import Column, RowTableModel

INACTIVE = QColor("#768692")
_T = QCoreApplication.translate


def _everywhere(s: ServiceView) -> str:
    return s.locality or QCoreApplication.translate("Directory", "Everywhere")


class ServiceModel(RowTableModel[ServiceView]):
    columns = (
        Column[ServiceView](
            "Service",
            lambda s: s.name,
            tooltip=lambda s: s.description,
            foreground=lambda s: None if s.active else INACTIVE,
        ),
        Column[ServiceView](
            "Kind", lambda s: QCoreApplication.translate("Directory", s.kind_label)
        ),
        Column[ServiceView]("Locality", _everywhere),
        Column[ServiceView]("Replies in", lambda s: f"{s.response_days} d", align_right=True),
        Column[ServiceView](
            "Active",
            lambda s: fmt.yes_no(s.active),
            foreground=lambda s: None if s.active else INACTIVE,
        ),
    )


class ReferralHistoryModel(RowTableModel[StatusChangeView]):
    columns = (
        Column[StatusChangeView]("When", lambda c: fmt.when(c.changed_at)),
        Column[StatusChangeView](
            "From", lambda c: fmt.label(c.from_status) if c.from_status else "—"
        ),
        Column[StatusChangeView]("To", lambda c: fmt.label(c.to_status)),
        Column[StatusChangeView]("Note", lambda c: c.note or "", tooltip=lambda c: c.note),
    )


class ChaseTaskModel(RowTableModel[TaskView]):
    columns = (
        Column[TaskView](
            "Due",
            lambda t: fmt.when(t.due_at),
            foreground=lambda t: fmt.RED_TEXT if t.overdue else None,
        ),
        Column[TaskView]("Chase", lambda t: t.title, tooltip=lambda t: t.notes),
        Column[TaskView]("Status", lambda t: fmt.label(t.status)),
        Column[TaskView]("Done", lambda t: fmt.when(t.completed_at)),
        Column[TaskView]("Assigned to", lambda t: t.assigned_to_name or ""),
    )
