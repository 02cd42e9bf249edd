"""MDT meetings (DESIGN.md §1.7): attendees by role, an agenda proposed from flagged patients,
a structured (SBAR) discussion per patient, and actions with an owner and due date that carry
forward to later meetings until done."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.timeutil import to_local
from app.core.validation import format_nhs_number
from app.models import (
    Admission,
    Episode,
    MdtAction,
    MdtAttendee,
    MdtItem,
    MdtMeeting,
    Patient,
    Practice,
    Referral,
    Service,
    Task,
)
from app.models.mdt import MDT_LEVELS, MDT_ROLES
from app.services.caseload import clean_text, local_today, require_active_coordinator
from app.services.caseload import require_patient as _require_patient
from app.services.patients import display_name
from app.services.tasks import close_tasks, ensure_task, local_due

RECENT_DISCHARGE = timedelta(days=14)
RECENT_DECLINE = timedelta(days=28)
ACTION_DUE_HOUR = 17  # an action due on a day falls due at 17:00 UK time


@dataclass(frozen=True)
class AttendeeInput:
    role: str  # one of MDT_ROLES
    name: str


@dataclass(frozen=True)
class AttendeeView:
    id: str
    role: str
    name: str


@dataclass(frozen=True)
class ItemView:
    id: str
    meeting_id: str
    patient_id: str
    patient_name: str
    nhs_number: str  # 999 123 4567
    position: int
    reason: str | None
    situation: str | None
    background: str | None
    assessment: str | None
    recommendation: str | None

    @property
    def discussed(self) -> bool:
        return any((self.situation, self.background, self.assessment, self.recommendation))


@dataclass(frozen=True)
class ActionView:
    id: str
    meeting_id: str
    meeting_date: date
    item_id: str | None
    patient_id: str | None
    patient_name: str | None
    description: str
    owner: str | None
    due_date: date | None
    status: str  # open | done | dropped
    completed_at: datetime | None


@dataclass(frozen=True)
class MeetingView:
    id: str
    meeting_date: date
    level: str  # practice | pcn
    practice_code: str | None
    practice_name: str | None
    pcn_name: str | None
    venue: str | None
    status: str  # planned | held
    notes: str | None
    attendees: tuple[AttendeeView, ...]
    items: tuple[ItemView, ...]  # agenda order
    actions: tuple[ActionView, ...]  # raised at this meeting
    carried_forward: tuple[ActionView, ...]  # still open from earlier meetings


@dataclass(frozen=True)
class AgendaCandidate:
    patient_id: str
    patient_name: str
    nhs_number: str
    risk_score: float | None
    reasons: tuple[str, ...]
    on_agenda: bool


# --- lookups and views ---------------------------------------------------------------------


def _meeting(session: Session, meeting_id: str) -> MdtMeeting:
    found = session.get(MdtMeeting, meeting_id)
    if found is None:
        raise NotFoundError(f"No MDT meeting with id {meeting_id}.")
    return found


def _item(session: Session, item_id: str) -> MdtItem:
    found = session.get(MdtItem, item_id)
    if found is None:
        raise NotFoundError(f"No agenda item with id {item_id}.")
    return found


def _action(session: Session, action_id: str) -> MdtAction:
    found = session.get(MdtAction, action_id)
    if found is None:
        raise NotFoundError(f"No MDT action with id {action_id}.")
    return found


def _planned(meeting: MdtMeeting) -> None:
    if meeting.status == "held":
        raise ConflictError(
            f"The meeting of {meeting.meeting_date:%d/%m/%Y} has been held; its agenda is final."
        )


def _patient_name(session: Session, patient_id: str | None) -> str | None:
    p = session.get(Patient, patient_id) if patient_id else None
    return display_name(p.family_name, p.given_name) if p else None


def _item_view(session: Session, i: MdtItem) -> ItemView:
    p = session.get_one(Patient, i.patient_id)
    return ItemView(
        i.id, i.meeting_id, i.patient_id, display_name(p.family_name, p.given_name),
        format_nhs_number(p.nhs_number), i.position, i.reason, i.situation, i.background,
        i.assessment, i.recommendation,
    )  # fmt: skip


def _action_view(session: Session, a: MdtAction) -> ActionView:
    meeting = session.get_one(MdtMeeting, a.meeting_id)
    return ActionView(
        a.id, a.meeting_id, meeting.meeting_date, a.item_id, a.patient_id,
        _patient_name(session, a.patient_id), a.description, a.owner, a.due_date, a.status,
        a.completed_at,
    )  # fmt: skip


def _items(session: Session, meeting_id: str) -> list[MdtItem]:
    return list(
        session.scalars(
            select(MdtItem)
            .where(MdtItem.meeting_id == meeting_id)
            .order_by(MdtItem.position, MdtItem.id)
        )
    )


def _earlier_open_actions(session: Session, meeting: MdtMeeting) -> list[MdtAction]:
    earlier = select(MdtMeeting.id).where(
        or_(
            MdtMeeting.meeting_date < meeting.meeting_date,
            (MdtMeeting.meeting_date == meeting.meeting_date)
            & (MdtMeeting.created_at < meeting.created_at),
        )
    )
    return list(
        session.scalars(
            select(MdtAction)
            .where(MdtAction.status == "open", MdtAction.meeting_id.in_(earlier))
            .order_by(MdtAction.due_date.is_(None), MdtAction.due_date, MdtAction.id)
        )
    )


def get_meeting(session: Session, *, meeting_id: str) -> MeetingView:
    m = _meeting(session, meeting_id)
    practice = session.get(Practice, m.practice_code) if m.practice_code else None
    attendees = session.scalars(
        select(MdtAttendee).where(MdtAttendee.meeting_id == m.id).order_by(MdtAttendee.id)
    )
    actions = session.scalars(
        select(MdtAction)
        .where(MdtAction.meeting_id == m.id)
        .order_by(MdtAction.due_date.is_(None), MdtAction.due_date, MdtAction.id)
    )
    roles = {r: n for n, r in enumerate(MDT_ROLES)}
    return MeetingView(
        id=m.id,
        meeting_date=m.meeting_date,
        level=m.level,
        practice_code=m.practice_code,
        practice_name=practice.name if practice else None,
        pcn_name=m.pcn_name,
        venue=m.venue,
        status=m.status,
        notes=m.notes,
        attendees=tuple(
            sorted(
                (AttendeeView(a.id, a.role, a.name) for a in attendees),
                key=lambda a: (roles.get(a.role, len(roles)), a.name),
            )
        ),
        items=tuple(_item_view(session, i) for i in _items(session, m.id)),
        actions=tuple(_action_view(session, a) for a in actions),
        carried_forward=tuple(_action_view(session, a) for a in _earlier_open_actions(session, m)),
    )


def list_meetings(
    session: Session, *, from_date: date | None = None, to_date: date | None = None
) -> list[MeetingView]:
    """Meetings between the dates (inclusive), most recent first."""
    stmt = select(MdtMeeting.id).order_by(MdtMeeting.meeting_date.desc(), MdtMeeting.created_at)
    if from_date is not None:
        stmt = stmt.where(MdtMeeting.meeting_date >= from_date)
    if to_date is not None:
        stmt = stmt.where(MdtMeeting.meeting_date <= to_date)
    return [get_meeting(session, meeting_id=i) for i in session.scalars(stmt)]


def open_actions(session: Session, *, before_meeting_id: str) -> list[ActionView]:
    """Actions from earlier meetings that are still open: they carry forward to this one."""
    meeting = _meeting(session, before_meeting_id)
    return [_action_view(session, a) for a in _earlier_open_actions(session, meeting)]


# --- meetings and attendees ----------------------------------------------------------------


def _attendee(meeting_id: str, a: AttendeeInput) -> MdtAttendee:
    if a.role not in MDT_ROLES:
        raise ValidationError(
            f"Role {a.role!r} is not one of: {', '.join(MDT_ROLES)}.", field="attendees"
        )
    name = clean_text(a.name, "attendee name", required=True, limit=120) or ""
    return MdtAttendee(meeting_id=meeting_id, role=a.role, name=name)


def create_meeting(
    session: Session,
    *,
    meeting_date: date,
    level: str,
    now: datetime,
    practice_code: str | None = None,
    pcn_name: str | None = None,
    venue: str | None = None,
    attendees: Sequence[AttendeeInput] = (),
) -> MeetingView:
    """A planned meeting: practice level needs the practice, PCN level the PCN's name."""
    if level not in MDT_LEVELS:
        raise ValidationError(f"MDT level {level!r} is not one of: practice, pcn.", field="level")
    pcn = clean_text(pcn_name, "PCN name", limit=120)
    if level == "practice":
        if practice_code is None or session.get(Practice, practice_code) is None:
            raise ValidationError(
                "A practice-level MDT needs a known GP practice.", field="practice_code"
            )
    elif pcn is None:
        raise ValidationError("A PCN-level MDT needs the PCN's name.", field="pcn_name")
    meeting = MdtMeeting(
        meeting_date=meeting_date,
        level=level,
        practice_code=practice_code if level == "practice" else None,
        pcn_name=pcn if level == "pcn" else None,
        venue=clean_text(venue, "venue", limit=120),
        status="planned",
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    session.add_all([_attendee(meeting.id, a) for a in attendees])
    session.flush()
    return get_meeting(session, meeting_id=meeting.id)


def add_attendee(
    session: Session, *, meeting_id: str, role: str, name: str, now: datetime
) -> MeetingView:
    _meeting(session, meeting_id)
    session.add(_attendee(meeting_id, AttendeeInput(role, name)))
    session.flush()
    return get_meeting(session, meeting_id=meeting_id)


def remove_attendee(session: Session, *, attendee_id: str, now: datetime) -> MeetingView:
    attendee = session.get(MdtAttendee, attendee_id)
    if attendee is None:
        raise NotFoundError(f"No attendee with id {attendee_id}.")
    meeting_id = attendee.meeting_id
    session.delete(attendee)
    session.flush()
    return get_meeting(session, meeting_id=meeting_id)


def mark_held(
    session: Session, *, meeting_id: str, now: datetime, notes: str | None = None
) -> MeetingView:
    meeting = _meeting(session, meeting_id)
    _planned(meeting)
    if meeting.meeting_date > local_today(now):
        raise ConflictError(
            f"The meeting of {meeting.meeting_date:%d/%m/%Y} cannot be held before its date."
        )
    meeting.status, meeting.notes = "held", clean_text(notes, "notes")
    session.flush()
    return get_meeting(session, meeting_id=meeting_id)


# --- agenda ---------------------------------------------------------------------------------


def _scope(session: Session, meeting: MdtMeeting) -> list[Patient]:
    """Living patients the meeting covers: the practice's, or for a PCN the practices of the
    sub-locality of that name (everyone when the name matches none)."""
    stmt = select(Patient).where(Patient.date_of_death.is_(None))
    if meeting.level == "practice":
        stmt = stmt.where(Patient.practice_code == meeting.practice_code)
    else:
        codes = list(
            session.scalars(
                select(Practice.code).where(
                    func.lower(Practice.sub_locality) == (meeting.pcn_name or "").casefold()
                )
            )
        )
        if codes:
            stmt = stmt.where(Patient.practice_code.in_(codes))
    return list(session.scalars(stmt))


def propose_agenda(session: Session, *, meeting_id: str, now: datetime) -> list[AgendaCandidate]:
    """Patients to discuss, each with why: discharged in the last 14 days, a 48-hour call
    overdue, a risk score in the top tenth of the open caseload, an open escalation (a
    referral declined in the last 28 days or not answered), or flagged for the MDT. Most
    reasons first."""
    meeting = _meeting(session, meeting_id)
    patients = {p.id: p for p in _scope(session, meeting)}
    ids = list(patients)
    reasons: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return []
    latest = session.execute(
        select(Admission.patient_id, func.max(Admission.discharged_at))
        .where(
            Admission.patient_id.in_(ids),
            Admission.discharged_at >= now - RECENT_DISCHARGE,
            Admission.discharged_at <= now,
        )
        .group_by(Admission.patient_id)
    )
    for discharged_id, when in latest:
        if when is not None:
            reasons[discharged_id].append(f"Discharged from hospital on {to_local(when):%d/%m/%Y}")
    for overdue_id in session.scalars(
        select(Task.patient_id)
        .where(
            Task.patient_id.in_(ids),
            Task.kind == "post_discharge_call",
            Task.status == "open",
            Task.due_at < now,
        )
        .distinct()
    ):
        if overdue_id is not None:
            reasons[overdue_id].append("48-hour post-discharge call overdue")
    open_ids = set(
        session.scalars(
            select(Episode.patient_id).where(
                Episode.patient_id.in_(ids), Episode.closed_on.is_(None)
            )
        )
    )
    scored = sorted(
        (p.risk_score for p in patients.values() if p.id in open_ids and p.risk_score is not None),
        reverse=True,
    )
    if scored:
        threshold = scored[math.ceil(len(scored) / 10) - 1]
        for p in patients.values():
            if p.id in open_ids and p.risk_score is not None and p.risk_score >= threshold:
                reasons[p.id].append(f"High risk score {p.risk_score:g} (top 10%)")
    for pid, name, status in session.execute(
        select(Referral.patient_id, Service.name, Referral.status)
        .join(Service, Service.id == Referral.service_id)
        .where(
            Referral.patient_id.in_(ids),
            (Referral.status == "no_response")
            | (
                (Referral.status == "declined")
                & (Referral.status_changed_at >= now - RECENT_DECLINE)
            ),
        )
        .order_by(Referral.status_changed_at)
    ):
        what = "declined" if status == "declined" else "not answered"
        reasons[pid].append(f"Referral to {name} {what}")
    for p in patients.values():
        if p.flag_for_mdt:
            reasons[p.id].append("Flagged for MDT discussion")
    on_agenda = {i.patient_id for i in _items(session, meeting.id)}
    found = [
        AgendaCandidate(
            patient_id=pid,
            patient_name=display_name(patients[pid].family_name, patients[pid].given_name),
            nhs_number=format_nhs_number(patients[pid].nhs_number),
            risk_score=patients[pid].risk_score,
            reasons=tuple(why),
            on_agenda=pid in on_agenda,
        )
        for pid, why in reasons.items()
    ]
    return sorted(
        found, key=lambda c: (-len(c.reasons), -(c.risk_score or 0), c.patient_name, c.patient_id)
    )


def add_item(
    session: Session, *, meeting_id: str, patient_id: str, now: datetime, reason: str | None = None
) -> ItemView:
    """Put a patient on the agenda, at the end."""
    meeting = _meeting(session, meeting_id)
    _planned(meeting)
    _require_patient(session, patient_id)
    items = _items(session, meeting_id)
    if any(i.patient_id == patient_id for i in items):
        raise ConflictError("This patient is already on the agenda.")
    item = MdtItem(
        meeting_id=meeting_id,
        patient_id=patient_id,
        position=max((i.position for i in items), default=0) + 1,
        reason=clean_text(reason, "reason"),
    )
    session.add(item)
    session.flush()
    return _item_view(session, item)


def _renumber(items: Sequence[MdtItem]) -> None:
    for n, item in enumerate(items, start=1):
        if item.position != n:
            item.position = n


def remove_item(session: Session, *, item_id: str, now: datetime) -> list[ItemView]:
    """Take a patient off the agenda (not once actions are recorded against the item)."""
    item = _item(session, item_id)
    _planned(_meeting(session, item.meeting_id))
    if session.scalars(select(MdtAction.id).where(MdtAction.item_id == item.id)).first():
        raise ConflictError("This agenda item has actions; drop them before removing it.")
    meeting_id = item.meeting_id
    session.delete(item)
    session.flush()
    items = _items(session, meeting_id)
    _renumber(items)
    session.flush()
    return [_item_view(session, i) for i in items]


def reorder_items(
    session: Session, *, meeting_id: str, item_ids: Sequence[str], now: datetime
) -> list[ItemView]:
    """Set the agenda order: ``item_ids`` must list every item of the meeting once."""
    _planned(_meeting(session, meeting_id))
    items = {i.id: i for i in _items(session, meeting_id)}
    if sorted(item_ids) != sorted(items):
        raise ValidationError(
            "The new order must list every agenda item of this meeting exactly once.",
            field="item_ids",
        )
    ordered = [items[i] for i in item_ids]
    _renumber(ordered)
    session.flush()
    return [_item_view(session, i) for i in ordered]


def record_discussion(
    session: Session,
    *,
    item_id: str,
    now: datetime,
    situation: str | None = None,
    background: str | None = None,
    assessment: str | None = None,
    recommendation: str | None = None,
) -> ItemView:
    """Record the structured discussion (SBAR) of an agenda item; also after the meeting."""
    item = _item(session, item_id)
    item.situation = clean_text(situation, "situation")
    item.background = clean_text(background, "background")
    item.assessment = clean_text(assessment, "assessment")
    item.recommendation = clean_text(recommendation, "recommendation")
    session.flush()
    return _item_view(session, item)


# --- actions ---------------------------------------------------------------------------------


def add_action(
    session: Session,
    *,
    meeting_id: str,
    description: str,
    owner: str,
    due_date: date,
    now: datetime,
    item_id: str | None = None,
    patient_id: str | None = None,
    assigned_to_id: str | None = None,
) -> ActionView:
    """An action agreed at the meeting, with an mdt_action task in the queue of
    ``assigned_to_id`` (or the patient's coordinator), due 17:00 on its due date."""
    meeting = _meeting(session, meeting_id)
    text = clean_text(description, "action", required=True) or ""
    who = clean_text(owner, "action owner", required=True, limit=120)
    if item_id is not None:
        item = _item(session, item_id)
        if item.meeting_id != meeting.id:
            raise ValidationError("That agenda item belongs to another meeting.", field="item_id")
        patient_id = item.patient_id
    patient = _require_patient(session, patient_id) if patient_id else None
    if assigned_to_id is not None:
        require_active_coordinator(session, assigned_to_id)
    action = MdtAction(
        meeting_id=meeting.id,
        item_id=item_id,
        patient_id=patient_id,
        description=text,
        owner=who,
        due_date=due_date,
        status="open",
    )
    session.add(action)
    session.flush()
    ensure_task(
        session,
        kind="mdt_action",
        source_table="mdt_actions",
        source_id=action.id,
        title=f"MDT action ({who}): {text}"[:200],
        due_at=local_due(due_date, ACTION_DUE_HOUR),
        now=now,
        patient_id=patient_id,
        assigned_to_id=assigned_to_id or (patient.coordinator_id if patient else None),
    )
    return _action_view(session, action)


def _close_action(session: Session, action_id: str, status: str, now: datetime) -> ActionView:
    action = _action(session, action_id)
    if action.status != "open":
        raise ConflictError(f"This MDT action is already {action.status}.")
    action.status, action.completed_at = status, now
    close_tasks(
        session,
        kind="mdt_action",
        source_table="mdt_actions",
        source_id=action.id,
        now=now,
        status="done" if status == "done" else "cancelled",
    )
    session.flush()
    return _action_view(session, action)


def complete_action(session: Session, *, action_id: str, now: datetime) -> ActionView:
    return _close_action(session, action_id, "done", now)


def drop_action(session: Session, *, action_id: str, now: datetime) -> ActionView:
    """The team agrees an action is no longer needed (its task is cancelled)."""
    return _close_action(session, action_id, "dropped", now)
