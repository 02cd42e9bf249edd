"""The MDT summary pack: everything the meeting needs about each patient on its agenda.

Built with a fixed number of queries whatever the agenda length (no query per patient).
Actions still open from earlier meetings are carried forward: they are listed under their
patient and in the open-actions table, marked as carried forward.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.core.errors import NotFoundError
from app.core.timeutil import ensure_utc, local_midnight_utc, to_local
from app.models import (
    Admission,
    CarePlan,
    Carer,
    CarerLink,
    MdtAttendee,
    MdtItem,
    MdtMeeting,
    NeedsAssessment,
    NeedsDomainEntry,
    Op,
    Patient,
    Practice,
    Referral,
    Service,
)
from app.models import MdtAction as MdtActionRecord
from app.models.assessment import NEED_DOMAIN_LABELS, NEED_DOMAINS
from app.models.referral import OPEN_REFERRAL_STATUSES
from app.reports import data
from app.services import metrics
from app.services.patients import age, cohort_flags, display_name

RECENT_ADMISSION_DAYS = 90
_DOMAIN_ORDER = {d: i for i, d in enumerate(NEED_DOMAINS)}


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _respect(p: Patient) -> str:
    if not p.respect_in_place:
        return "Not in place"
    text = "In place"
    if p.respect_date is not None:
        text += f" since {p.respect_date:%d/%m/%Y}"
    if p.respect_location:
        text += f", held at {p.respect_location}"
    return text


def _carers(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(CarerLink, Carer)
        .join(Carer, Carer.id == CarerLink.carer_id)
        .where(CarerLink.patient_id.in_(ids), CarerLink.active.is_(True))
        .order_by(CarerLink.main_carer.desc(), Carer.family_name, Carer.given_name, Carer.id)
    )
    for link, carer in rows:
        notes = [link.relationship] if link.relationship else []
        notes += ["main carer"] * link.main_carer + ["lives with"] * link.lives_with
        notes += ["young carer"] * carer.young_carer
        if carer.assessment_status != "not_offered":
            notes.append(f"carer's assessment {carer.assessment_status.replace('_', ' ')}")
        text = display_name(carer.family_name, carer.given_name)
        out[link.patient_id].append(text + (f" ({'; '.join(notes)})" if notes else ""))
    return out


def _admissions(
    session: Session, ids: Sequence[str], meeting_date: date, now: datetime
) -> dict[str, list[data.AdmissionLine]]:
    since = local_midnight_utc(meeting_date) - timedelta(days=RECENT_ADMISSION_DAYS)
    until = local_midnight_utc(meeting_date + timedelta(days=1))
    histories = metrics.load_histories(session, ids)
    hospitals = dict(
        session.execute(
            select(Admission.id, Admission.hospital).where(Admission.patient_id.in_(ids))
        ).all()
    )
    out: dict[str, list[data.AdmissionLine]] = defaultdict(list)
    for pid, history in histories.items():
        for a in history.admissions:
            start = a.starts_at
            if start is None or start >= until:
                continue
            if a.discharged_at is not None and a.discharged_at < since:
                continue
            if a.discharged_at is None or a.discharged_at > now:
                status, hours = "Pending", None
            else:
                fu = metrics.follow_up_status(a, history, as_of=now)
                status, hours = fu.status.capitalize(), fu.hours_to_contact
            out[pid].append(
                data.AdmissionLine(
                    admitted=start,
                    discharged=a.discharged_at,
                    hospital=hospitals.get(a.id) or "Not recorded",
                    follow_up_status=status,
                    hours_to_contact=None if hours is None else round(hours, 1),
                )
            )
    for lines in out.values():
        lines.sort(key=lambda x: x.admitted, reverse=True)
    return out


def _needs_and_plans(
    session: Session, ids: Sequence[str], now: datetime
) -> tuple[dict[str, list[data.NeedLine]], dict[str, str]]:
    latest: dict[str, NeedsAssessment] = {}
    for a in session.scalars(
        select(NeedsAssessment)
        .where(
            NeedsAssessment.patient_id.in_(ids),
            NeedsAssessment.status == "completed",
            NeedsAssessment.completed_at <= now,
        )
        .order_by(NeedsAssessment.version.desc(), NeedsAssessment.completed_at.desc())
    ):
        latest.setdefault(a.patient_id, a)
    by_assessment = {a.id: pid for pid, a in latest.items()}
    needs: dict[str, list[data.NeedLine]] = defaultdict(list)
    entries = session.scalars(
        select(NeedsDomainEntry).where(NeedsDomainEntry.assessment_id.in_(list(by_assessment)))
    )
    for e in sorted(entries, key=lambda e: (_DOMAIN_ORDER.get(e.domain, 99), e.domain)):
        if e.need_level == "none":
            continue  # domains without a need stay off the pack
        needs[by_assessment[e.assessment_id]].append(
            data.NeedLine(
                domain=NEED_DOMAIN_LABELS.get(e.domain, _label(e.domain)),
                level=_label(e.need_level),
                notes=e.notes or "",
            )
        )
    plans: dict[str, CarePlan] = {}
    for plan in session.scalars(
        select(CarePlan)
        .where(CarePlan.patient_id.in_(ids))
        .order_by(CarePlan.agreed_at.desc().nulls_last(), CarePlan.id)
    ):
        plans.setdefault(plan.patient_id, plan)
    summaries: dict[str, str] = {}
    for pid in ids:
        parts: list[str] = []
        assessment = latest.get(pid)
        if assessment is not None and assessment.what_matters:
            parts.append(f"What matters: {assessment.what_matters.strip()}")
        if assessment is not None and assessment.goals:
            parts.append(f"Goals: {assessment.goals.strip()}")
        current = plans.get(pid)
        if current is not None:
            if current.outcomes_agreed:
                parts.append(f"Outcomes agreed: {current.outcomes_agreed.strip()}")
            if current.contingency_plan:
                parts.append(f"Contingency: {current.contingency_plan.strip()}")
            if current.review_date is not None:
                parts.append(f"Plan review due {current.review_date:%d/%m/%Y}")
        summaries[pid] = ". ".join(p.rstrip(".") for p in parts) + ("." if parts else "")
    return needs, summaries


def _referrals(session: Session, ids: Sequence[str]) -> dict[str, list[data.ReferralLine]]:
    out: dict[str, list[data.ReferralLine]] = defaultdict(list)
    # every referral of these patients, the open ones kept here: with the status in the WHERE
    # clause SQLite walks every open referral of the team (125 ms on 50,000 patients)
    rows = session.execute(
        select(Referral.patient_id, Service.name, Referral.status, Referral.status_changed_at)
        .join(Service, Service.id == Referral.service_id)
        .where(Referral.patient_id.in_(ids))
        .order_by(Referral.status_changed_at, Service.name)
    )
    for pid, service, status, since in rows:
        if status not in OPEN_REFERRAL_STATUSES:
            continue
        out[pid].append(
            data.ReferralLine(service=service, status=_label(status), since=to_local(since).date())
        )
    return out


def _actions(
    session: Session, meeting: MdtMeeting, names: dict[str, str]
) -> tuple[list[tuple[MdtActionRecord, bool]], dict[str, str]]:
    """This meeting's actions and the still-open actions of earlier meetings (carried), in
    meeting date, due date (none first), id order.

    Two statements: this meeting's actions through the meeting index, then the open actions
    of earlier meetings. There is no index on the action status, so the second walks the
    team's MDT actions, testing the status before it looks the meeting up (a join in an OR
    looked up the meeting of every action the team ever had)."""
    own = session.scalars(
        select(MdtActionRecord).where(MdtActionRecord.meeting_id == meeting.id)
    ).all()
    earlier = session.execute(
        select(MdtActionRecord, MdtMeeting.meeting_date)
        .join(MdtMeeting, MdtMeeting.id == MdtActionRecord.meeting_id)
        .where(
            MdtActionRecord.status == "open",
            or_(
                MdtMeeting.meeting_date < meeting.meeting_date,
                and_(
                    MdtMeeting.meeting_date == meeting.meeting_date,
                    MdtMeeting.created_at < meeting.created_at,
                ),
            ),
        )
    ).all()
    dated = [(meeting.meeting_date, a, False) for a in own]
    dated += [(day, a, True) for a, day in earlier]
    dated.sort(key=lambda x: (x[0], x[1].due_date is not None, x[1].due_date or date.min, x[1].id))
    actions = [(a, carried) for _, a, carried in dated]
    missing = {a.patient_id for a, _ in actions if a.patient_id and a.patient_id not in names}
    if missing:
        for p in session.execute(
            select(Patient.id, Patient.family_name, Patient.given_name).where(
                Patient.id.in_(missing)
            )
        ):
            names[p.id] = display_name(p.family_name, p.given_name)
    return actions, names


def _actions_by_item(
    items: Sequence[MdtItem], actions: Sequence[tuple[MdtActionRecord, bool]]
) -> dict[str, list[int]]:
    """Indexes into ``actions`` shown under each agenda item, in ``actions`` order: this
    meeting's actions for the item (or for its patient when not tied to an item) and the
    actions carried forward for its patient."""
    by_item: dict[str, list[int]] = defaultdict(list)
    by_patient: dict[str, list[int]] = defaultdict(list)
    for i, (a, carried) in enumerate(actions):
        if not carried and a.item_id is not None:
            by_item[a.item_id].append(i)
        elif a.patient_id is not None:
            by_patient[a.patient_id].append(i)
    return {
        item.id: sorted(by_item.get(item.id, []) + by_patient.get(item.patient_id, []))
        for item in items
    }


def _action_line(a: MdtActionRecord, carried: bool, names: dict[str, str]) -> data.MdtAction:
    return data.MdtAction(
        description=a.description,
        owner=a.owner or "Not assigned",
        due=a.due_date,
        status=_label(a.status),
        carried_forward=carried,
        patient_name=names.get(a.patient_id) if a.patient_id else None,
    )


def build_mdt_pack(
    session: Session, *, meeting_id: str, printed_by: str, now: datetime
) -> data.MdtPack:
    """The MDT summary of one meeting, as of ``now``."""
    now = ensure_utc(now)
    meeting = session.get(MdtMeeting, meeting_id)
    if meeting is None:
        raise NotFoundError(f"No MDT meeting with id {meeting_id}.")
    attendees = tuple(
        data.Attendee(role=a.role, name=a.name)
        for a in session.scalars(
            select(MdtAttendee)
            .where(MdtAttendee.meeting_id == meeting.id)
            .order_by(MdtAttendee.role, MdtAttendee.name)
        )
    )
    items = list(
        session.scalars(
            select(MdtItem)
            .where(MdtItem.meeting_id == meeting.id)
            .order_by(MdtItem.position, MdtItem.id)
        )
    )
    ids = sorted({i.patient_id for i in items})
    patients = {
        p.id: (p, practice)
        for p, practice in session.execute(
            select(Patient, Practice.name)
            .outerjoin(Practice, Practice.code == Patient.practice_code)
            .where(Patient.id.in_(ids))
        )
    }
    names = {pid: display_name(p.family_name, p.given_name) for pid, (p, _) in patients.items()}
    carers = _carers(session, ids)
    admissions = _admissions(session, ids, meeting.meeting_date, now)
    needs, plans = _needs_and_plans(session, ids, now)
    referrals = _referrals(session, ids)
    actions, names = _actions(session, meeting, names)

    lines = [_action_line(a, carried, names) for a, carried in actions]
    shown = _actions_by_item(items, actions)
    agenda: list[data.MdtPatient] = []
    for item in items:
        p, practice = patients[item.patient_id]
        sbar = (item.situation, item.background, item.assessment, item.recommendation)
        own = [lines[i] for i in shown[item.id]]
        agenda.append(
            data.MdtPatient(
                name=names[p.id],
                nhs_number=p.nhs_number,
                date_of_birth=p.date_of_birth,
                age=age(p.date_of_birth, meeting.meeting_date),
                practice=practice or p.practice_code or "Not recorded",
                level=p.level,
                cohort_explanation=cohort_flags(
                    ltc_count=p.ltc_count,
                    frailty_band=p.frailty_band,
                    efi_score=p.efi_score,
                    predicted_cost_ratio=p.predicted_cost_ratio,
                ).explanation,
                respect_status=_respect(p),
                carers=tuple(carers.get(p.id, ())),
                recent_admissions=tuple(admissions.get(p.id, ())),
                needs=tuple(needs.get(p.id, ())),
                plan_summary=plans.get(p.id, ""),
                open_referrals=tuple(referrals.get(p.id, ())),
                discussion=data.Sbar(*(s or "" for s in sbar)) if any(sbar) else None,
                actions=tuple(
                    sorted(own, key=lambda x: (not x.carried_forward, x.due or date.max))
                ),
                reason_on_agenda=item.reason or "Added to the agenda",
            )
        )
    open_actions = sorted(
        (line for line, (a, _) in zip(lines, actions, strict=True) if a.status == "open"),
        key=lambda x: (not x.carried_forward, x.due or date.max, x.description),
    )
    place = (
        [_practice_name(session, meeting.practice_code)]
        if meeting.level == "practice"
        else [meeting.pcn_name]
    )
    place.append(meeting.venue)
    latest_change = session.scalar(select(func.max(Op.received_at)))
    return data.MdtPack(
        meeting_id=meeting.id,
        meeting_date=meeting.meeting_date,
        level="Practice" if meeting.level == "practice" else "PCN",
        venue_or_practice=" — ".join(x for x in place if x) or "Not recorded",
        attendees=attendees,
        patients=tuple(agenda),
        open_actions=tuple(open_actions),
        printed_by=printed_by,
        printed_at=now,
        data_as_of=latest_change if latest_change is not None else now,
    )


def _practice_name(session: Session, code: str | None) -> str | None:
    if code is None:
        return None
    return session.scalar(select(Practice.name).where(Practice.code == code)) or code


def meetings_on(session: Session, day: date) -> list[str]:
    """Ids of the meetings dated ``day`` (for choosing a meeting by date)."""
    return list(
        session.scalars(
            select(MdtMeeting.id)
            .where(MdtMeeting.meeting_date == day)
            .order_by(MdtMeeting.created_at, MdtMeeting.id)
        )
    )
