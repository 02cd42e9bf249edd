"""The service directory and referrals with their dated status history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

REFERRAL_STATUSES = (
    "draft",
    "sent",
    "acknowledged",
    "accepted",
    "declined",
    "no_response",
    "completed",
    "cancelled",
)
OPEN_REFERRAL_STATUSES = ("draft", "sent", "acknowledged", "accepted", "no_response")


class Service(Synced, Base):
    """An entry of the (editable) service directory; seeded from resources/reference."""

    __tablename__ = "services"

    code: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    name: Mapped[str] = mapped_column(String(160))
    locality: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    how_to_refer: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    response_days: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Referral(Synced, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_patient_service", "patient_id", "service_id"),
        # referrals by status (awaiting a reply); since when and when made ride along for the
        # weekly summary
        Index("ix_referrals_status_changed", "status", "status_changed_at", "created_at"),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    status: Mapped[str] = mapped_column(String(14), default="draft")
    reason: Mapped[str] = mapped_column(Text)
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_recorded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)  # weekly: referrals made
    status_changed_at: Mapped[datetime]
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))


class ReferralStatusChange(Synced, Base):
    __tablename__ = "referral_status_changes"

    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(14))
    to_status: Mapped[str] = mapped_column(String(14))
    changed_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
