"""Personalised needs assessments (DESIGN.md §1.3): versioned, one draft at a time, each new
version starting from the last completed one. Completing a version needs every domain rated and
a review date, which becomes an assessment_review task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.models import AgreedAction, NeedsAssessment, NeedsDomainEntry
from app.models.assessment import NEED_DOMAIN_LABELS, NEED_DOMAINS, NEED_LEVELS
from app.services.caseload import (
    clean_text,
    local_today,
    require_active_coordinator,
    require_patient,
)
from app.services.tasks import close_tasks, ensure_task, local_due

REVIEW_TITLE = "Review the personalised needs assessment"


@dataclass(frozen=True)
class DomainRating:
    """Input: the need level (one of NEED_LEVELS) and notes for one domain."""

    domain: str
    need_level: str
    notes: str | None = None


@dataclass(frozen=True)
class ActionInput:
    """Input: an agreed action; give the ``id`` of an existing action to change it."""

    description: str
    owner: str | None = None
    due_date: date | None = None
    done: bool = False
    id: str | None = None


@dataclass(frozen=True)
class DomainView:
    domain: str
    label: str
    need_level: str
    notes: str | None


@dataclass(frozen=True)
class ActionView:
    id: str
    description: str
    owner: str | None
    due_date: date | None
    done: bool


@dataclass(frozen=True)
class AssessmentView:
    id: str
    patient_id: str
    version: int
    status: str  # draft | completed
    assessor_id: str | None
    started_at: datetime
    completed_at: datetime | None
    what_matters: str | None
    goals: str | None
    review_date: date | None
    domains: tuple[DomainView, ...]  # rated domains, in NEED_DOMAINS order
    actions: tuple[ActionView, ...]
    unrated_domains: tuple[str, ...]

    @property
    def high_need_domains(self) -> tuple[str, ...]:
        return tuple(d.domain for d in self.domains if d.need_level == "high")


def _entries(session: Session, assessment_id: str) -> list[NeedsDomainEntry]:
    return list(
        session.scalars(
            select(NeedsDomainEntry).where(NeedsDomainEntry.assessment_id == assessment_id)
        )
    )


def _actions(session: Session, assessment_id: str) -> list[AgreedAction]:
    return list(
        session.scalars(
            select(AgreedAction)
            .where(AgreedAction.assessment_id == assessment_id)
            .order_by(AgreedAction.due_date.is_(None), AgreedAction.due_date, AgreedAction.id)
        )
    )


def _view(session: Session, a: NeedsAssessment) -> AssessmentView:
    entries = {e.domain: e for e in _entries(session, a.id)}
    return AssessmentView(
        id=a.id,
        patient_id=a.patient_id,
        version=a.version,
        status=a.status,
        assessor_id=a.assessor_id,
        started_at=a.started_at,
        completed_at=a.completed_at,
        what_matters=a.what_matters,
        goals=a.goals,
        review_date=a.review_date,
        domains=tuple(
            DomainView(d, NEED_DOMAIN_LABELS[d], entries[d].need_level, entries[d].notes)
            for d in NEED_DOMAINS
            if d in entries
        ),
        actions=tuple(
            ActionView(x.id, x.description, x.owner, x.due_date, x.done)
            for x in _actions(session, a.id)
        ),
        unrated_domains=tuple(d for d in NEED_DOMAINS if d not in entries),
    )


def _require(session: Session, assessment_id: str) -> NeedsAssessment:
    found = session.get(NeedsAssessment, assessment_id)
    if found is None:
        raise NotFoundError(f"No needs assessment with id {assessment_id}.")
    return found


def _require_draft(session: Session, assessment_id: str) -> NeedsAssessment:
    found = _require(session, assessment_id)
    if found.status != "draft":
        raise ConflictError(
            f"Version {found.version} is completed and cannot be changed; start a new version."
        )
    return found


def get_assessment(session: Session, *, assessment_id: str) -> AssessmentView:
    return _view(session, _require(session, assessment_id))


def list_assessments(session: Session, *, patient_id: str) -> list[AssessmentView]:
    """Every version of the patient's assessment, newest first."""
    found = session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.patient_id == patient_id)
        .order_by(NeedsAssessment.version.desc(), NeedsAssessment.started_at.desc())
    )
    return [_view(session, a) for a in found]


def _latest_completed(session: Session, patient_id: str) -> NeedsAssessment | None:
    return session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.patient_id == patient_id, NeedsAssessment.status == "completed")
        .order_by(NeedsAssessment.version.desc(), NeedsAssessment.completed_at.desc())
    ).first()


def latest_completed(session: Session, *, patient_id: str) -> AssessmentView | None:
    found = _latest_completed(session, patient_id)
    return _view(session, found) if found else None


def start_assessment(
    session: Session, *, patient_id: str, now: datetime, assessor_id: str | None = None
) -> AssessmentView:
    """A new draft version, starting from the last completed one (its review date is not
    copied, nor actions already done)."""
    require_patient(session, patient_id)
    if assessor_id is not None:
        require_active_coordinator(session, assessor_id)
    draft = session.scalars(
        select(NeedsAssessment).where(
            NeedsAssessment.patient_id == patient_id, NeedsAssessment.status == "draft"
        )
    ).first()
    if draft is not None:
        raise ConflictError(
            f"Version {draft.version} is still a draft; complete or discard it first."
        )
    last = session.scalar(
        select(func.max(NeedsAssessment.version)).where(NeedsAssessment.patient_id == patient_id)
    )
    previous = _latest_completed(session, patient_id)
    new = NeedsAssessment(
        patient_id=patient_id,
        version=(last or 0) + 1,
        status="draft",
        assessor_id=assessor_id,
        started_at=now,
        what_matters=previous.what_matters if previous else None,
        goals=previous.goals if previous else None,
    )
    session.add(new)
    session.flush()
    if previous is not None:
        for e in _entries(session, previous.id):
            session.add(
                NeedsDomainEntry(
                    assessment_id=new.id, domain=e.domain, need_level=e.need_level, notes=e.notes
                )
            )
        for x in _actions(session, previous.id):
            if not x.done:
                session.add(
                    AgreedAction(
                        assessment_id=new.id,
                        description=x.description,
                        owner=x.owner,
                        due_date=x.due_date,
                        done=False,
                    )
                )
        session.flush()
    return _view(session, new)


def _check_domains(domains: Sequence[DomainRating]) -> dict[str, DomainRating]:
    out: dict[str, DomainRating] = {}
    for rating in domains:
        if rating.domain not in NEED_DOMAINS:
            raise ValidationError(
                f"Unknown need domain {rating.domain!r}; "
                f"expected one of {', '.join(NEED_DOMAINS)}.",
                field="domains",
            )
        if rating.need_level not in NEED_LEVELS:
            raise ValidationError(
                f"Need level {rating.need_level!r} for {NEED_DOMAIN_LABELS[rating.domain]} is not "
                f"one of: {', '.join(NEED_LEVELS)}.",
                field="domains",
            )
        if rating.domain in out:
            raise ValidationError(
                f"{NEED_DOMAIN_LABELS[rating.domain]} is rated twice.", field="domains"
            )
        out[rating.domain] = rating
    return out


def save_assessment(
    session: Session,
    *,
    assessment_id: str,
    now: datetime,
    domains: Sequence[DomainRating] = (),
    what_matters: str | None = None,
    goals: str | None = None,
    actions: Sequence[ActionInput] = (),
    review_date: date | None = None,
) -> AssessmentView:
    """Save the whole draft form: what is left out (a domain, an action, a text) is cleared."""
    a = _require_draft(session, assessment_id)
    ratings = _check_domains(domains)
    existing_actions = {x.id: x for x in _actions(session, a.id)}
    cleaned: list[tuple[ActionInput, str, str | None]] = []
    for item in actions:
        text = clean_text(item.description, "action description", required=True) or ""
        if item.id is not None and item.id not in existing_actions:
            raise ValidationError(
                f"Action {item.id} does not belong to this assessment.", field="actions"
            )
        cleaned.append((item, text, clean_text(item.owner, "action owner", limit=120)))
    a.what_matters = clean_text(what_matters, "what matters to me")
    a.goals = clean_text(goals, "goals")
    a.review_date = review_date
    for entry in _entries(session, a.id):
        rating = ratings.pop(entry.domain, None)
        if rating is None:
            session.delete(entry)
            continue
        entry.need_level, entry.notes = rating.need_level, clean_text(rating.notes, "notes")
    for rating in ratings.values():
        session.add(
            NeedsDomainEntry(
                assessment_id=a.id,
                domain=rating.domain,
                need_level=rating.need_level,
                notes=clean_text(rating.notes, "notes"),
            )
        )
    kept = {item.id for item, _, _ in cleaned if item.id}
    for action_id, action in existing_actions.items():
        if action_id not in kept:
            session.delete(action)
    for item, text, owner in cleaned:
        target = existing_actions[item.id] if item.id else AgreedAction(assessment_id=a.id)
        target.description, target.owner = text, owner
        target.due_date, target.done = item.due_date, item.done
        if item.id is None:
            session.add(target)
    session.flush()
    return _view(session, a)


def discard_draft(session: Session, *, assessment_id: str) -> None:
    """Delete a draft version that will not be completed."""
    a = _require_draft(session, assessment_id)
    for child in [*_entries(session, a.id), *_actions(session, a.id)]:
        session.delete(child)
    session.flush()
    session.delete(a)
    session.flush()


def complete_assessment(session: Session, *, assessment_id: str, now: datetime) -> AssessmentView:
    """Complete a draft: every domain rated and a review date not in the past, which becomes
    the assessment_review task (the previous version's review task is closed)."""
    a = _require_draft(session, assessment_id)
    patient = require_patient(session, a.patient_id)
    rated = {e.domain for e in _entries(session, a.id)}
    missing = [NEED_DOMAIN_LABELS[d] for d in NEED_DOMAINS if d not in rated]
    if missing:
        raise ValidationError(
            f"Rate every need domain before completing; not yet rated: {', '.join(missing)}.",
            field="domains",
        )
    if a.review_date is None:
        raise ValidationError("Set a review date before completing.", field="review_date")
    if a.review_date < local_today(now):
        raise ValidationError(
            f"The review date {a.review_date:%d/%m/%Y} is in the past.", field="review_date"
        )
    a.status, a.completed_at = "completed", now
    for earlier in session.scalars(
        select(NeedsAssessment.id).where(
            NeedsAssessment.patient_id == a.patient_id, NeedsAssessment.id != a.id
        )
    ):
        close_tasks(
            session,
            kind="assessment_review",
            source_table="needs_assessments",
            source_id=earlier,
            now=now,
        )
    ensure_task(
        session,
        kind="assessment_review",
        source_table="needs_assessments",
        source_id=a.id,
        title=REVIEW_TITLE,
        due_at=local_due(a.review_date),
        now=now,
        patient_id=a.patient_id,
        assigned_to_id=patient.coordinator_id,
    )
    session.flush()
    return _view(session, a)
