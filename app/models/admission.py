"""Hospital admissions/discharges and post-discharge call attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

CALL_OUTCOMES = (
    "contacted_patient",
    "contacted_carer",
    "no_answer",
    "voicemail",
    "wrong_number",
    "declined",
    "readmitted",
    "deceased",
)
CONTACT_OUTCOMES = ("contacted_patient", "contacted_carer")
CALL_ISSUES = (
    "medication",
    "equipment",
    "care_package",
    "follow_up_appointment",
    "carer_strain",
    "other",
)


class Admission(Synced, Base):
    """One hospital stay. ``discharged_at`` starts the 48-hour clock; readmissions are derived
    (another admission of the same patient starting within 30 days of a discharge)."""

    __tablename__ = "admissions"
    __table_args__ = (
        # a patient's stays (the weekly trend's next stay after each discharge, from the
        # index alone)
        Index("ix_admissions_patient_stay", "patient_id", "admitted_at", "discharged_at"),
        # discharges by time, with what the weekly trend reads of each
        Index("ix_admissions_discharged_patient", "discharged_at", "patient_id", "id"),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    admitted_at: Mapped[datetime | None]
    discharged_at: Mapped[datetime | None]
    hospital: Mapped[str | None] = mapped_column(String(120))
    ward: Mapped[str | None] = mapped_column(String(80))
    discharge_destination: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual | import
    created_at: Mapped[datetime]


class CallAttempt(Synced, Base):
    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_admission_called", "admission_id", "called_at"),
        # the calls that decide the weekly trend (contacts in its weeks, readmitted and
        # deceased), read from the index alone
        Index(
            "ix_call_attempts_outcome_called", "outcome", "called_at", "admission_id", "patient_id"
        ),
    )

    admission_id: Mapped[str | None] = mapped_column(ForeignKey("admissions.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    called_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))
    issues: Mapped[str] = mapped_column(Text, default="")  # comma-separated CALL_ISSUES
    notes: Mapped[str | None] = mapped_column(Text)
    coordinator_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
