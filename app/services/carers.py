"""Carers as people in their own right (DESIGN.md §1.4): one carer may care for several
patients; the carer's assessment moves offered -> accepted | declined -> completed, each step
dated. A carer identified without an assessment offered gets a carers_assessment task, closed
when it is offered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.validation import normalise_postcode
from app.models import Carer, CarerLink
from app.services.caseload import clean_text, local_today, require_patient
from app.services.patients import display_name
from app.services.tasks import close_tasks, ensure_task

OFFER_WITHIN = timedelta(days=14)
# to-state: (states it may come from, the date column it stamps)
_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "offered": (("not_offered", "declined"), "assessment_offered_on"),
    "accepted": (("offered",), "assessment_accepted_on"),
    "declined": (("offered", "accepted"), "assessment_declined_on"),
    "completed": (("accepted",), "assessment_completed_on"),
}
_EDITABLE = ("family_name", "given_name", "phone", "postcode", "young_carer", "needs")


@dataclass(frozen=True)
class CarerView:
    id: str
    family_name: str
    given_name: str
    display_name: str
    phone: str | None
    postcode: str | None
    young_carer: bool
    needs: str | None
    assessment_status: str  # not_offered | offered | accepted | declined | completed
    assessment_offered_on: date | None
    assessment_accepted_on: date | None
    assessment_declined_on: date | None
    assessment_completed_on: date | None
    patient_ids: tuple[str, ...]  # the people they currently care for


@dataclass(frozen=True)
class CaringLink:
    """A carer as seen from one patient's record."""

    link_id: str
    patient_id: str
    carer: CarerView
    relationship: str | None
    lives_with: bool
    main_carer: bool
    active: bool


def _active_links(session: Session, carer_id: str) -> list[CarerLink]:
    return list(
        session.scalars(select(CarerLink).where(CarerLink.carer_id == carer_id, CarerLink.active))
    )


def _view(session: Session, c: Carer) -> CarerView:
    return CarerView(
        id=c.id,
        family_name=c.family_name,
        given_name=c.given_name,
        display_name=display_name(c.family_name, c.given_name),
        phone=c.phone,
        postcode=c.postcode,
        young_carer=c.young_carer,
        needs=c.needs,
        assessment_status=c.assessment_status,
        assessment_offered_on=c.assessment_offered_on,
        assessment_accepted_on=c.assessment_accepted_on,
        assessment_declined_on=c.assessment_declined_on,
        assessment_completed_on=c.assessment_completed_on,
        patient_ids=tuple(sorted(link.patient_id for link in _active_links(session, c.id))),
    )


def _link_view(session: Session, link: CarerLink) -> CaringLink:
    return CaringLink(
        link_id=link.id,
        patient_id=link.patient_id,
        carer=_view(session, _require(session, link.carer_id)),
        relationship=link.relationship,
        lives_with=link.lives_with,
        main_carer=link.main_carer,
        active=link.active,
    )


def _require(session: Session, carer_id: str) -> Carer:
    carer = session.get(Carer, carer_id)
    if carer is None:
        raise NotFoundError(f"No carer with id {carer_id}.")
    return carer


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in _EDITABLE:
            raise ValidationError(
                f"{key!r} cannot be changed here; editable fields: {', '.join(_EDITABLE)}."
            )
        if key in ("family_name", "given_name"):
            out[key] = clean_text(value, key.replace("_", " "), required=True, limit=80)
        elif key == "postcode":
            out[key] = normalise_postcode(value) if value and value.strip() else None
        elif key == "young_carer":
            out[key] = bool(value)
        else:
            out[key] = clean_text(value, key, limit=30 if key == "phone" else None)
    return out


def get_carer(session: Session, *, carer_id: str) -> CarerView:
    return _view(session, _require(session, carer_id))


def add_carer(
    session: Session,
    *,
    family_name: str,
    given_name: str,
    now: datetime,
    phone: str | None = None,
    postcode: str | None = None,
    young_carer: bool = False,
    needs: str | None = None,
) -> CarerView:
    values = _checked(
        {
            "family_name": family_name,
            "given_name": given_name,
            "phone": phone,
            "postcode": postcode,
            "young_carer": young_carer,
            "needs": needs,
        }
    )
    carer = Carer(**values, assessment_status="not_offered")
    session.add(carer)
    session.flush()
    return _view(session, carer)


def update_carer(session: Session, *, carer_id: str, now: datetime, **changes: Any) -> CarerView:
    carer = _require(session, carer_id)
    for key, value in _checked(changes).items():
        if getattr(carer, key) != value:
            setattr(carer, key, value)
    session.flush()
    return _view(session, carer)


def link_carer(
    session: Session,
    *,
    carer_id: str,
    patient_id: str,
    now: datetime,
    relationship: str | None = None,
    lives_with: bool = False,
    main_carer: bool = False,
) -> CaringLink:
    """Record that the carer cares for the patient (a main carer replaces any other)."""
    carer = _require(session, carer_id)
    patient = require_patient(session, patient_id)
    link = session.scalars(
        select(CarerLink).where(CarerLink.carer_id == carer_id, CarerLink.patient_id == patient_id)
    ).first()
    if link is not None and link.active:
        raise ConflictError("This carer is already linked to this patient.")
    if main_carer:
        for other in session.scalars(
            select(CarerLink).where(CarerLink.patient_id == patient_id, CarerLink.main_carer)
        ):
            other.main_carer = False
    if link is None:
        link = CarerLink(carer_id=carer_id, patient_id=patient_id)
        session.add(link)
    link.relationship = clean_text(relationship, "relationship", limit=60)
    link.lives_with, link.main_carer, link.active = lives_with, main_carer, True
    if carer.assessment_status == "not_offered":
        name = display_name(carer.family_name, carer.given_name)
        ensure_task(
            session,
            kind="carers_assessment",
            source_table="carers",
            source_id=carer.id,
            title=f"Offer a carer's assessment to {name}",
            due_at=now + OFFER_WITHIN,
            now=now,
            patient_id=patient_id,
            assigned_to_id=patient.coordinator_id,
        )
    session.flush()
    return _link_view(session, link)


def unlink_carer(session: Session, *, carer_id: str, patient_id: str, now: datetime) -> CaringLink:
    """The carer no longer cares for the patient (kept in the record as inactive). A carer
    left caring for nobody no longer needs an assessment offered."""
    link = session.scalars(
        select(CarerLink).where(
            CarerLink.carer_id == carer_id, CarerLink.patient_id == patient_id, CarerLink.active
        )
    ).first()
    if link is None:
        raise NotFoundError("This carer is not linked to this patient.")
    link.active, link.main_carer = False, False
    session.flush()
    if not _active_links(session, carer_id):
        close_tasks(
            session,
            kind="carers_assessment",
            source_table="carers",
            source_id=carer_id,
            now=now,
            status="cancelled",
        )
    return _link_view(session, link)


def carers_for_patient(
    session: Session, *, patient_id: str, include_inactive: bool = False
) -> list[CaringLink]:
    """The patient's carers, main carer first, then by name."""
    require_patient(session, patient_id)
    stmt = (
        select(CarerLink)
        .join(Carer, Carer.id == CarerLink.carer_id)
        .where(CarerLink.patient_id == patient_id)
        .order_by(CarerLink.main_carer.desc(), Carer.family_name, Carer.given_name, Carer.id)
    )
    if not include_inactive:
        stmt = stmt.where(CarerLink.active)
    return [_link_view(session, link) for link in session.scalars(stmt)]


def _move(session: Session, carer_id: str, to: str, on: date | None, now: datetime) -> CarerView:
    carer = _require(session, carer_id)
    sources, column = _MOVES[to]
    current = carer.assessment_status.replace("_", " ")
    if carer.assessment_status not in sources:
        raise ConflictError(
            f"A carer's assessment cannot be marked {to} when it is {current}; "
            f"it must be {' or '.join(s.replace('_', ' ') for s in sources)} first."
        )
    day = on or local_today(now)
    if day > local_today(now):
        raise ValidationError(f"The date {day:%d/%m/%Y} is in the future.", field="on")
    earlier = {
        "accepted": carer.assessment_offered_on,
        "declined": carer.assessment_offered_on,
        "completed": carer.assessment_accepted_on,
    }.get(to)
    if earlier is not None and day < earlier:
        raise ValidationError(
            f"The date {day:%d/%m/%Y} is before the previous step ({earlier:%d/%m/%Y}).",
            field="on",
        )
    carer.assessment_status = to
    setattr(carer, column, day)
    if to == "offered":
        close_tasks(
            session, kind="carers_assessment", source_table="carers", source_id=carer.id, now=now
        )
    session.flush()
    return _view(session, carer)


def offer_carers_assessment(
    session: Session, *, carer_id: str, now: datetime, on: date | None = None
) -> CarerView:
    """Offer a carer's assessment (again, after a refusal); closes the reminder task."""
    return _move(session, carer_id, "offered", on, now)


def accept_carers_assessment(
    session: Session, *, carer_id: str, now: datetime, on: date | None = None
) -> CarerView:
    return _move(session, carer_id, "accepted", on, now)


def decline_carers_assessment(
    session: Session, *, carer_id: str, now: datetime, on: date | None = None
) -> CarerView:
    return _move(session, carer_id, "declined", on, now)


def complete_carers_assessment(
    session: Session, *, carer_id: str, now: datetime, on: date | None = None
) -> CarerView:
    return _move(session, carer_id, "completed", on, now)
