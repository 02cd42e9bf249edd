"""MDT meetings: attendees, agenda items with a structured (SBAR) discussion, and actions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

MDT_ROLES = (
    "GP",
    "Community Matron",
    "Senior Nurse Complex Needs",
    "Adult Social Care",
    "Therapy Lead",
    "Local Area Coordinator",
    "Care Coordinator",
    "Other",
)
MDT_LEVELS = ("practice", "pcn")


class MdtMeeting(Synced, Base):
    __tablename__ = "mdt_meetings"

    meeting_date: Mapped[date] = mapped_column(index=True)
    level: Mapped[str] = mapped_column(String(10), default="pcn")
    practice_code: Mapped[str | None] = mapped_column(ForeignKey("practices.code"))
    pcn_name: Mapped[str | None] = mapped_column(String(120))
    venue: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="planned")  # planned | held
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class MdtAttendee(Synced, Base):
    __tablename__ = "mdt_attendees"

    meeting_id: Mapped[str] = mapped_column(ForeignKey("mdt_meetings.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))


class MdtItem(Synced, Base):
    __tablename__ = "mdt_items"

    meeting_id: Mapped[str] = mapped_column(ForeignKey("mdt_meetings.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    situation: Mapped[str | None] = mapped_column(Text)
    background: Mapped[str | None] = mapped_column(Text)
    assessment: Mapped[str | None] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)


class MdtAction(Synced, Base):
    """Open actions carry forward: they show at every later meeting until done."""

    __tablename__ = "mdt_actions"

    meeting_id: Mapped[str] = mapped_column(ForeignKey("mdt_meetings.id"), index=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("mdt_items.id"))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(120))
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done | dropped
    completed_at: Mapped[datetime | None]
