"""Patients on the caseload, their episodes of care coordination and level changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

LEVELS = ("Essential", "Expert", "Enhanced")
REFERRAL_SOURCES = (
    "MDT referral",
    "hospital referral",
    "PCN clinician",
    "local intelligence",
    "LPT/ASC frontline staff",
    "risk stratification",
)
FRAILTY_BANDS = ("fit", "mild", "moderate", "severe")
SEXES = ("female", "male", "other", "unknown")


class Patient(Synced, Base):
    """A person on a coordinator's list.

    ``nhs_number`` is indexed but deliberately not unique: two laptops may register the same
    person independently; the merge raises a possible-duplicate task instead of failing.
    """

    __tablename__ = "patients"
    __table_args__ = (
        # name order for the caseload; the NHS number rides along so that typing one is
        # checked on the index entry, without reading each patient's row
        Index("ix_patients_name_nhs", "family_name", "given_name", "nhs_number"),
        Index("ix_patients_coordinator_level", "coordinator_id", "level"),
    )

    nhs_number: Mapped[str] = mapped_column(String(10), index=True)
    family_name: Mapped[str] = mapped_column(String(80))
    given_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(10))
    practice_code: Mapped[str | None] = mapped_column(ForeignKey("practices.code"), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(30))
    coordinator_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
    level: Mapped[str] = mapped_column(String(12), default="Enhanced")
    referral_source: Mapped[str | None] = mapped_column(String(40))
    # cohort flags (seed: 5+ LTCs, frailty marker, predicted cost >= 3x average)
    ltc_count: Mapped[int | None] = mapped_column(Integer)
    frailty_band: Mapped[str | None] = mapped_column(String(10))
    efi_score: Mapped[float | None] = mapped_column(Float)
    predicted_cost_ratio: Mapped[float | None] = mapped_column(Float)
    risk_score: Mapped[float | None] = mapped_column(Float, index=True)
    # ReSPECT and consent
    respect_in_place: Mapped[bool] = mapped_column(Boolean, default=False)
    respect_date: Mapped[date | None]
    respect_location: Mapped[str | None] = mapped_column(String(120))
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_for_mdt: Mapped[bool] = mapped_column(Boolean, default=False)
    date_of_death: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Episode(Synced, Base):
    """An episode of care coordination: opened with a source and level, closed with a reason."""

    __tablename__ = "episodes"
    # a patient's episodes, with the dates and coordinator the weekly caseload counts
    __table_args__ = (
        Index(
            "ix_episodes_patient_dates", "patient_id", "opened_on", "closed_on", "coordinator_id"
        ),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    coordinator_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
    opened_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(12))
    closed_on: Mapped[date | None]
    close_reason: Mapped[str | None] = mapped_column(Text)


class LevelChange(Synced, Base):
    """Step-up / step-down history between Essential, Expert and Enhanced."""

    __tablename__ = "level_changes"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    episode_id: Mapped[str | None] = mapped_column(ForeignKey("episodes.id"))
    changed_at: Mapped[datetime] = mapped_column(index=True)  # weekly: levels changed since
    from_level: Mapped[str | None] = mapped_column(String(12))
    to_level: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
