"""Carers as people in their own right, linked to one or more patients."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

CARER_ASSESSMENT_STATES = ("not_offered", "offered", "accepted", "declined", "completed")


class Carer(Synced, Base):
    __tablename__ = "carers"

    family_name: Mapped[str] = mapped_column(String(80))
    given_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(30))
    postcode: Mapped[str | None] = mapped_column(String(10))
    young_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    needs: Mapped[str | None] = mapped_column(Text)
    assessment_status: Mapped[str] = mapped_column(String(12), default="not_offered")
    assessment_offered_on: Mapped[date | None]
    assessment_accepted_on: Mapped[date | None]
    assessment_declined_on: Mapped[date | None]
    assessment_completed_on: Mapped[date | None]


class CarerLink(Synced, Base):
    __tablename__ = "carer_links"
    __table_args__ = (UniqueConstraint("carer_id", "patient_id"),)

    carer_id: Mapped[str] = mapped_column(ForeignKey("carers.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    relationship: Mapped[str | None] = mapped_column(String(60))
    lives_with: Mapped[bool] = mapped_column(Boolean, default=False)
    main_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
