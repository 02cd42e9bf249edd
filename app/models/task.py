"""One queue of dated work across every kind of task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

TASK_KINDS = (
    "post_discharge_call",
    "assessment_review",
    "referral_chase",
    "mdt_action",
    "carers_assessment",
    "possible_duplicate",
    "other",
)
TASK_STATUSES = ("open", "done", "cancelled")


class Task(Synced, Base):
    """Overdue tasks never vanish; completing one after ``due_at`` marks it late (derived)."""

    __tablename__ = "tasks"
    __table_args__ = (
        # open tasks by due time; the kind rides along for the weekly summary's overdue counts
        Index("ix_tasks_status_due_kind", "status", "due_at", "kind"),
        Index("ix_tasks_assignee_status_due", "assigned_to_id", "status", "due_at"),
        # a record's tasks; kind and creation time ride along for the weekly summary's carers
        Index("ix_tasks_source_kind_created", "source_table", "source_id", "kind", "created_at"),
        # a patient's open tasks (the caseload's next task, the patient record) without
        # walking every open task of the team
        Index("ix_tasks_patient_status_due", "patient_id", "status", "due_at"),
    )

    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    assigned_to_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")
    completed_at: Mapped[datetime | None] = mapped_column(index=True)  # weekly: done since
    source_table: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[str | None] = mapped_column(String(36))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
