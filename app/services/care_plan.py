"""The personalised care and support plan (DESIGN.md §1.3): one plan per person, checked against
the five NHS England personalised care and support planning criteria, with what is missing said
in plain English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import ValidationError
from app.models import CarePlan, NeedsAssessment
from app.services.caseload import clean_text, local_today, require_patient
from app.sync.changelog import CHANGE_CONTEXT_KEY, ChangeContext

CRITERIA = (
    "The person is central to developing and agreeing their plan, including who is involved",
    "A proactive and personalised conversation that focuses on what matters to them",
    "They agree the health and wellbeing outcomes they want to achieve",
    "One plan, shared with them and with those involved in their care",
    "They can formally and regularly review their plan",
)


@dataclass(frozen=True)
class CarePlanView:
    id: str
    patient_id: str
    assessment_id: str | None
    person_involved: bool
    who_involved: str | None
    outcomes_agreed: str | None
    contingency_plan: str | None
    shared_with_person: bool
    shared_with_others: str | None
    agreed_at: datetime | None
    review_date: date | None


@dataclass(frozen=True)
class Criterion:
    number: int  # 1-5, in NHS England's order
    title: str
    met: bool
    missing: tuple[str, ...]  # what to record for it to be met, in plain English


@dataclass(frozen=True)
class PlanCheck:
    patient_id: str
    has_plan: bool
    criteria: tuple[Criterion, ...]

    @property
    def met_count(self) -> int:
        return sum(c.met for c in self.criteria)

    @property
    def all_met(self) -> bool:
        return self.met_count == len(self.criteria)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(m for c in self.criteria for m in c.missing)

    @property
    def summary(self) -> str:
        return f"{self.met_count} of {len(self.criteria)} care planning criteria met"


def _view(p: CarePlan) -> CarePlanView:
    return CarePlanView(
        id=p.id,
        patient_id=p.patient_id,
        assessment_id=p.assessment_id,
        person_involved=p.person_involved,
        who_involved=p.who_involved,
        outcomes_agreed=p.outcomes_agreed,
        contingency_plan=p.contingency_plan,
        shared_with_person=p.shared_with_person,
        shared_with_others=p.shared_with_others,
        agreed_at=p.agreed_at,
        review_date=p.review_date,
    )


def _plan(session: Session, patient_id: str) -> CarePlan | None:
    return session.scalars(
        select(CarePlan).where(CarePlan.patient_id == patient_id).order_by(CarePlan.id)
    ).first()


def _latest_completed(session: Session, patient_id: str) -> NeedsAssessment | None:
    return session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.patient_id == patient_id, NeedsAssessment.status == "completed")
        .order_by(NeedsAssessment.version.desc())
    ).first()


def get_care_plan(session: Session, *, patient_id: str) -> CarePlanView | None:
    require_patient(session, patient_id)
    plan = _plan(session, patient_id)
    return _view(plan) if plan else None


def save_care_plan(
    session: Session,
    *,
    patient_id: str,
    now: datetime,
    person_involved: bool = False,
    who_involved: str | None = None,
    outcomes_agreed: str | None = None,
    contingency_plan: str | None = None,
    shared_with_person: bool = False,
    shared_with_others: str | None = None,
    agreed: bool = False,
    review_date: date | None = None,
    assessment_id: str | None = None,
) -> CarePlanView:
    """Save the person's one plan as a whole form (what is left out is cleared). It is built
    from ``assessment_id``, or else from their latest completed needs assessment; ``agreed``
    stamps when the person agreed it (kept from the first time)."""
    require_patient(session, patient_id)
    if assessment_id is not None:
        source = session.get(NeedsAssessment, assessment_id)
        if source is None or source.patient_id != patient_id:
            raise ValidationError(
                "That needs assessment is not one of this patient's.", field="assessment_id"
            )
    else:
        latest = _latest_completed(session, patient_id)
        assessment_id = latest.id if latest else None
    plan = _plan(session, patient_id)
    if plan is None:
        plan = CarePlan(patient_id=patient_id)
        session.add(plan)
    values = {
        "assessment_id": assessment_id,
        "person_involved": person_involved,
        "who_involved": clean_text(who_involved, "who was involved"),
        "outcomes_agreed": clean_text(outcomes_agreed, "outcomes agreed"),
        "contingency_plan": clean_text(contingency_plan, "contingency plan"),
        "shared_with_person": shared_with_person,
        "shared_with_others": clean_text(shared_with_others, "shared with"),
        "agreed_at": (plan.agreed_at or now) if agreed else None,
        "review_date": review_date,
    }
    for key, value in values.items():
        if getattr(plan, key) != value:
            setattr(plan, key, value)
    session.flush()
    return _view(plan)


def _session_now(session: Session) -> datetime:
    context = session.info.get(CHANGE_CONTEXT_KEY)
    if not isinstance(context, ChangeContext):
        raise ValueError("pass now= when the session carries no clock")
    return context.clock.now()


def check_care_plan(session: Session, *, patient_id: str, now: datetime | None = None) -> PlanCheck:
    """Which of the five criteria the person's plan meets, and what is missing. ``now``
    (for "is the review date still ahead") defaults to the database's injected clock."""
    require_patient(session, patient_id)
    today = local_today(now or _session_now(session))
    plan = _plan(session, patient_id)
    p = _view(plan) if plan else None
    assessment = None
    if p is not None and p.assessment_id is not None:
        assessment = session.get(NeedsAssessment, p.assessment_id)
    assessment = assessment or _latest_completed(session, patient_id)

    gaps: list[list[str]] = [[] for _ in CRITERIA]
    if p is None:
        gaps[0].append("No care and support plan has been saved yet.")
    if not (p and p.person_involved):
        gaps[0].append("Record that the person took part in developing and agreeing the plan.")
    if not (p and p.who_involved):
        gaps[0].append("Record who else was involved (for example family, carers, professionals).")
    if assessment is None:
        gaps[1].append("Complete a personalised needs assessment with the person.")
    else:
        if assessment.status != "completed":
            gaps[1].append(
                f"Complete the needs assessment (version {assessment.version} is a draft)."
            )
        if not assessment.what_matters:
            gaps[1].append("Record what matters to the person.")
    if not (p and p.outcomes_agreed):
        gaps[2].append("Record the outcomes the person wants to achieve.")
    if not (p and p.agreed_at):
        gaps[2].append("Record that the person agreed the plan and its outcomes.")
    if not (p and p.shared_with_person):
        gaps[3].append("Record that the plan was shared with the person.")
    if not (p and p.shared_with_others):
        gaps[3].append("Record who else the plan was shared with (those involved in their care).")
    if p is None or p.review_date is None:
        gaps[4].append("Set a date to review the plan.")
    elif p.review_date < today:
        gaps[4].append(f"The review date {p.review_date:%d/%m/%Y} has passed; set a new one.")
    return PlanCheck(
        patient_id=patient_id,
        has_plan=p is not None,
        criteria=tuple(
            Criterion(n + 1, title, not gaps[n], tuple(gaps[n])) for n, title in enumerate(CRITERIA)
        ),
    )
