"""Personalised needs assessments (versioned), their domains and agreed actions, and the
care & support plan built from them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced

NEED_DOMAINS = (
    "physical_health",
    "medication",
    "mobility_falls",
    "personal_care",
    "nutrition",
    "housing",
    "finances_benefits",
    "loneliness_social_contact",
    "mental_wellbeing",
    "carer_situation",
    "safeguarding",
)
NEED_DOMAIN_LABELS = {
    "physical_health": "Physical health",
    "medication": "Medication",
    "mobility_falls": "Mobility & falls",
    "personal_care": "Personal care",
    "nutrition": "Nutrition",
    "housing": "Housing",
    "finances_benefits": "Finances & benefits",
    "loneliness_social_contact": "Loneliness & social contact",
    "mental_wellbeing": "Mental wellbeing",
    "carer_situation": "Carer situation",
    "safeguarding": "Safeguarding",
}
NEED_LEVELS = ("none", "low", "moderate", "high")


class NeedsAssessment(Synced, Base):
    __tablename__ = "needs_assessments"
    # the weekly summary: assessments completed in a week, reviews due in a week
    __table_args__ = (Index("ix_needs_assessments_status_completed", "status", "completed_at"),)

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | completed
    assessor_id: Mapped[str | None] = mapped_column(ForeignKey("coordinators.id"))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    what_matters: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    review_date: Mapped[date | None] = mapped_column(index=True)


class NeedsDomainEntry(Synced, Base):
    __tablename__ = "needs_domain_entries"

    assessment_id: Mapped[str] = mapped_column(ForeignKey("needs_assessments.id"), index=True)
    domain: Mapped[str] = mapped_column(String(40))
    need_level: Mapped[str] = mapped_column(String(10), default="none")
    notes: Mapped[str | None] = mapped_column(Text)


class AgreedAction(Synced, Base):
    __tablename__ = "agreed_actions"

    assessment_id: Mapped[str] = mapped_column(ForeignKey("needs_assessments.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(120))
    due_date: Mapped[date | None]
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class CarePlan(Synced, Base):
    """The personalised care & support plan; its fields back the five NHS England criteria:
    person central and involved, what matters discussed, outcomes agreed, one plan shared,
    regular review."""

    __tablename__ = "care_plans"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    assessment_id: Mapped[str | None] = mapped_column(ForeignKey("needs_assessments.id"))
    person_involved: Mapped[bool] = mapped_column(Boolean, default=False)
    who_involved: Mapped[str | None] = mapped_column(Text)
    outcomes_agreed: Mapped[str | None] = mapped_column(Text)
    contingency_plan: Mapped[str | None] = mapped_column(Text)
    shared_with_person: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_with_others: Mapped[str | None] = mapped_column(Text)
    agreed_at: Mapped[datetime | None]
    review_date: Mapped[date | None]
