"""Read queries behind the desktop screens: the caseload table (filtered, sorted and paged in
SQL, so 50,000 patients never become 50,000 objects), the patient record, the status bar and
the signed-in coordinator (a device-local setting)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from app.core.errors import NotFoundError
from app.core.timeutil import LONDON, to_local
from app.models import (
    Admission,
    AgreedAction,
    CallAttempt,
    CarePlan,
    Carer,
    CarerLink,
    Coordinator,
    Episode,
    LevelChange,
    MdtAction,
    MdtItem,
    MdtMeeting,
    NeedsAssessment,
    NeedsDomainEntry,
    Op,
    Patient,
    Practice,
    Referral,
    ReferralStatusChange,
    Service,
    Setting,
    Task,
)
from app.models.admission import CONTACT_OUTCOMES
from app.models.assessment import NEED_DOMAIN_LABELS
from app.services.patients import age, cohort_flags, display_name

SIGNED_IN_KEY = "coordinator_id"
UNSYNCED_CAP = 100_000
UNASSIGNED = "__unassigned__"
FLAG_LTC5, FLAG_FRAIL, FLAG_COST, FLAG_MDT = "ltc5", "frailty", "high_cost", "for_mdt"
COHORT_FLAGS = (FLAG_LTC5, FLAG_FRAIL, FLAG_COST, FLAG_MDT)
NULLABLE_SORT_KEYS = frozenset({"practice", "risk", "next_task", "last_contact"})
# An NHS-number prefix matching more patients than this is read in name order through the
# name index (which holds the NHS number too) rather than through the NHS-number index and a
# sort: reading each match's row costs more than walking index entries that do not match.
NHS_INDEX_MAX_ROWS = 500
SORT_KEYS = (
    "name",
    "nhs_number",
    "age",
    "practice",
    "level",
    "risk",
    "flags",
    "next_task",
    "last_contact",
)


# --- caseload table ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadQuery:
    """What the caseload screen asks for. ``coordinator_id`` may be UNASSIGNED."""

    text: str = ""
    coordinator_id: str | None = None
    level: str | None = None
    practice_code: str | None = None
    sub_locality: str | None = None
    flags: frozenset[str] = frozenset()
    overdue_only: bool = False
    sort: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class CaseloadRow:
    patient_id: str
    name: str
    nhs_number: str
    age: int
    practice: str | None
    level: str
    risk_score: float | None
    flags: tuple[str, ...]
    next_task: str | None
    next_task_due: datetime | None
    last_contact: datetime | None
    coordinator: str | None


@dataclass(frozen=True)
class CaseloadPage:
    rows: tuple[CaseloadRow, ...]
    total: int
    offset: int = 0


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _text_filter(text: str, *, nhs_index: bool = True) -> ColumnElement[bool] | None:
    """Digits: an NHS number prefix. Words: each must start the family or given name.

    An NHS number prefix is a range the NHS-number index answers (the same rows as LIKE
    'digits%', NHS numbers being digits), unless ``nhs_index`` is false: then it is written so
    that SQLite walks the name index instead, which is quicker for the first page in name
    order when the prefix matches many patients.
    """
    cleaned = text.replace(",", " ").strip()
    if not cleaned:
        return None
    compact = cleaned.replace(" ", "").replace("-", "")
    if compact.isdigit():
        if nhs_index:
            return and_(Patient.nhs_number >= compact, Patient.nhs_number < compact + ":")
        return Patient.nhs_number.like(_like_prefix(compact), escape="\\")
    terms = [
        or_(
            Patient.family_name.like(_like_prefix(word), escape="\\"),
            Patient.given_name.like(_like_prefix(word), escape="\\"),
        )
        for word in cleaned.split()
    ]
    return and_(*terms)


def _flag_exprs() -> dict[str, ColumnElement[bool]]:
    return {
        FLAG_LTC5: Patient.ltc_count >= 5,
        FLAG_FRAIL: Patient.frailty_band.in_(("mild", "moderate", "severe")),
        FLAG_COST: Patient.predicted_cost_ratio >= 3.0,
        FLAG_MDT: Patient.flag_for_mdt.is_(True),
    }


def _conditions(
    query: CaseloadQuery, now: datetime, *, nhs_index: bool = True
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    text = _text_filter(query.text, nhs_index=nhs_index)
    if text is not None:
        conds.append(text)
    if query.coordinator_id == UNASSIGNED:
        conds.append(Patient.coordinator_id.is_(None))
    elif query.coordinator_id:
        conds.append(Patient.coordinator_id == query.coordinator_id)
    if query.level:
        conds.append(Patient.level == query.level)
    if query.practice_code:
        conds.append(Patient.practice_code == query.practice_code)
    if query.sub_locality:
        conds.append(Practice.sub_locality == query.sub_locality)
    flags = _flag_exprs()
    conds.extend(flags[f] for f in sorted(query.flags) if f in flags)
    if query.overdue_only:  # one range of the (status, due) index, not a lookup per patient
        overdue = select(Task.patient_id).where(Task.status == "open", Task.due_at < now)
        conds.append(Patient.id.in_(overdue))
    return conds


def _open_task() -> ColumnElement[bool]:
    """``status = 'open'`` written so that SQLite cannot use it to pick an index: looking a few
    patients' tasks up through the patient index is far quicker than walking every open task
    of the team through the (status, due) index, which SQLite would otherwise choose."""
    return Task.status.concat("") == "open"


def open_tasks_statement(ids: Sequence[str]) -> Any:
    """The open tasks of the listed patients (a page), through the patient index."""
    return select(Task.patient_id, Task.title, Task.due_at, Task.id).where(
        Task.patient_id.in_(ids), _open_task()
    )


def last_contacts_statement(ids: Sequence[str]) -> Any:
    """Each listed patient's last contact, through the patient index: the outcome is written
    so that SQLite cannot use it to pick an index, or it walks every contact call of the team
    through the (outcome, called_at) index the weekly trend reads."""
    return (
        select(CallAttempt.patient_id, func.max(CallAttempt.called_at))
        .where(
            CallAttempt.patient_id.in_(ids),
            CallAttempt.outcome.concat("").in_(CONTACT_OUTCOMES),
        )
        .group_by(CallAttempt.patient_id)
    )


def _next_due() -> Any:
    """Each patient's earliest open task, computed once for the whole list (a correlated
    subquery per patient would read every patient's tasks one by one)."""
    return (
        select(Task.patient_id, func.min(Task.due_at).label("due"))
        .where(Task.status == "open")
        .group_by(Task.patient_id)
        .subquery("next_due")
    )


def _last_contact() -> Any:
    return (
        select(CallAttempt.patient_id, func.max(CallAttempt.called_at).label("at"))
        .where(CallAttempt.outcome.in_(CONTACT_OUTCOMES))
        .group_by(CallAttempt.patient_id)
        .subquery("last_contact")
    )


def _order_by(query: CaseloadQuery, joined: Any = None) -> list[Any]:
    """ORDER BY for the query's sort; ``joined`` is the derived table of the next task or the
    last contact when sorting by one of those (see page_statement)."""
    if query.sort not in SORT_KEYS:
        raise ValueError(f"unknown caseload sort key {query.sort!r}")
    next_due = joined.c.due if query.sort == "next_task" and joined is not None else None
    last_contact = joined.c.at if query.sort == "last_contact" and joined is not None else None
    flag_count = reduce(operator.add, [case((e, 1), else_=0) for e in _flag_exprs().values()])
    keys: dict[str, list[Any]] = {
        "name": [Patient.family_name, Patient.given_name],
        "nhs_number": [Patient.nhs_number],
        "age": [Patient.date_of_birth],
        "practice": [Practice.name],
        "level": [Patient.level],
        "risk": [Patient.risk_score],
        "flags": [flag_count],
        "next_task": [next_due],
        "last_contact": [last_contact],
    }
    descending = query.descending
    if query.sort == "age":  # ascending age = descending date of birth
        descending = not descending
    ordered = [k.desc() if descending else k.asc() for k in keys[query.sort]]
    if query.sort in NULLABLE_SORT_KEYS:  # NULLS LAST on a NOT NULL column stops index use
        ordered = [k.nulls_last() for k in ordered]
    if query.sort != "name":
        ordered += [Patient.family_name, Patient.given_name]
    return [*ordered, Patient.id]


def count_statement(query: CaseloadQuery, now: datetime) -> Select[int]:
    """The SELECT of how many patients match (the practice is joined only for a sub-locality
    filter, so a name or NHS-number filter is counted from its index alone)."""
    base = select(Patient.id)
    if query.sub_locality:
        base = base.outerjoin(Practice, Practice.code == Patient.practice_code)
    return select(func.count()).select_from(base.where(*_conditions(query, now)).subquery())


# The columns a caseload row shows: plain rows rather than whole Patient objects, so a page
# costs no ORM bookkeeping and the sort (when there is one) carries less.
_ROW_COLUMNS = (
    Patient.id,
    Patient.family_name,
    Patient.given_name,
    Patient.nhs_number,
    Patient.date_of_birth,
    Patient.level,
    Patient.risk_score,
    Patient.ltc_count,
    Patient.frailty_band,
    Patient.efi_score,
    Patient.predicted_cost_ratio,
    Patient.flag_for_mdt,
    Practice.name.label("practice_name"),
    Coordinator.name.label("coordinator_name"),
)


def page_statement(
    query: CaseloadQuery, now: datetime, *, offset: int, limit: int, nhs_index: bool = True
) -> Select[*tuple[Any, ...]]:
    """The SELECT of one page of patients (with practice and coordinator names)."""
    if query.sort not in SORT_KEYS:
        raise ValueError(f"unknown caseload sort key {query.sort!r}")
    stmt = (
        select(*_ROW_COLUMNS)
        .outerjoin(Practice, Practice.code == Patient.practice_code)
        .outerjoin(Coordinator, Coordinator.id == Patient.coordinator_id)
    )
    joined = None
    if query.sort == "next_task":
        joined = _next_due()
    elif query.sort == "last_contact":
        joined = _last_contact()
    if joined is not None:
        stmt = stmt.outerjoin(joined, joined.c.patient_id == Patient.id)
    return (
        stmt.where(*_conditions(query, now, nhs_index=nhs_index))
        .order_by(*_order_by(query, joined))
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )


def search_caseload(
    session: Session, *, query: CaseloadQuery, offset: int, limit: int, now: datetime
) -> CaseloadPage:
    """One page of the caseload, filtered and sorted in SQL, with the total that match."""
    total = session.scalar(count_statement(query, now)) or 0
    # sorting every match would cost more than walking the name index in order
    stmt = page_statement(
        query, now, offset=offset, limit=limit, nhs_index=total <= NHS_INDEX_MAX_ROWS
    )
    found = session.execute(stmt).all()
    ids = [p.id for p in found]
    next_tasks: dict[str, tuple[str, datetime]] = {}
    contacts: dict[str, datetime] = {}
    if ids:
        earliest: dict[str, tuple[datetime, str, str]] = {}
        for pid, title, due, task_id in session.execute(open_tasks_statement(ids)):
            if pid is not None and (pid not in earliest or (due, task_id) < earliest[pid][:2]):
                earliest[pid] = (due, task_id, title)
        next_tasks = {pid: (title, due) for pid, (due, _, title) in earliest.items()}
        for pid, called in session.execute(last_contacts_statement(ids)):
            contacts[pid] = called
    today = to_local(now).date()
    rows = []
    for patient in found:
        task = next_tasks.get(patient.id)
        rows.append(
            CaseloadRow(
                patient_id=patient.id,
                name=display_name(patient.family_name, patient.given_name),
                nhs_number=patient.nhs_number,
                age=age(patient.date_of_birth, today),
                practice=patient.practice_name,
                level=patient.level,
                risk_score=patient.risk_score,
                flags=_flags_of(patient),
                next_task=task[0] if task else None,
                next_task_due=task[1] if task else None,
                last_contact=contacts.get(patient.id),
                coordinator=patient.coordinator_name,
            )
        )
    return CaseloadPage(rows=tuple(rows), total=total, offset=offset)


def _flags_of(patient: Any) -> tuple[str, ...]:
    """The cohort flags of a Patient, or of a row with the same column names."""
    flags = cohort_flags(
        ltc_count=patient.ltc_count,
        frailty_band=patient.frailty_band,
        efi_score=patient.efi_score,
        predicted_cost_ratio=patient.predicted_cost_ratio,
    )
    chosen = (
        (FLAG_LTC5, flags.five_plus_ltcs),
        (FLAG_FRAIL, flags.frailty),
        (FLAG_COST, flags.high_cost),
        (FLAG_MDT, patient.flag_for_mdt),
    )
    return tuple(code for code, on in chosen if on)


# --- filter choices, team, settings, status ------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class PracticeChoice:
    code: str
    name: str
    sub_locality: str
    locality: str


@dataclass(frozen=True)
class FilterOptions:
    coordinators: tuple[Choice, ...]
    practices: tuple[PracticeChoice, ...]
    sub_localities: tuple[str, ...]


def caseload_filter_options(session: Session) -> FilterOptions:
    """Coordinators of the team and the reference practices, for the filter and form combos."""
    coordinators = tuple(
        Choice(c.id, c.name)
        for c in session.scalars(
            select(Coordinator).where(Coordinator.active.is_(True)).order_by(Coordinator.name)
        )
    )
    practices = tuple(
        PracticeChoice(p.code, p.name, p.sub_locality, p.locality)
        for p in session.scalars(select(Practice).order_by(Practice.name))
    )
    return FilterOptions(
        coordinators=coordinators,
        practices=practices,
        sub_localities=tuple(sorted({p.sub_locality for p in practices})),
    )


@dataclass(frozen=True)
class StatusSummary:
    as_of: datetime | None
    unsynced: int  # changes not yet exported in a bundle, counted up to UNSYNCED_CAP
    coordinator_id: str | None
    coordinator_name: str | None
    patients: int
    unsynced_capped: bool = False  # more than UNSYNCED_CAP changes wait


def _setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row is not None else None


def signed_in_coordinator(session: Session) -> Choice | None:
    """Who uses this laptop (device-local setting), or None before the first sign-in."""
    cid = _setting(session, SIGNED_IN_KEY)
    if not cid:
        return None
    coordinator = session.get(Coordinator, cid)
    return Choice(coordinator.id, coordinator.name) if coordinator is not None else None


def sign_in(session: Session, *, coordinator_id: str) -> Choice:
    """Remember on this laptop which coordinator is using it."""
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise NotFoundError("That coordinator is not in the team.")
    row = session.get(Setting, SIGNED_IN_KEY)
    if row is None:
        session.add(Setting(key=SIGNED_IN_KEY, value=coordinator.id))
    else:
        row.value = coordinator.id
    session.flush()
    return Choice(coordinator.id, coordinator.name)


def has_patients(session: Session) -> bool:
    return session.scalar(select(Patient.id).limit(1)) is not None


def status_summary(session: Session) -> StatusSummary:
    """Latest change, changes not yet exported in a bundle, and who is signed in."""
    who = signed_in_coordinator(session)
    # the newest op is the last one recorded here (local_order is indexed; received_at is not,
    # and the op log of a big team runs to millions of rows)
    latest = select(Op.received_at).order_by(Op.local_order.desc()).limit(1)
    # counted up to a cap: past it the exact number tells nobody anything, and costs a scan
    capped = select(Op.local_order).where(Op.exported == false()).limit(UNSYNCED_CAP + 1)
    unsynced = session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    return StatusSummary(
        as_of=session.scalar(latest),
        unsynced=min(unsynced, UNSYNCED_CAP),
        unsynced_capped=unsynced > UNSYNCED_CAP,
        coordinator_id=who.value if who else None,
        coordinator_name=who.label if who else None,
        patients=session.scalar(select(func.count()).select_from(Patient)) or 0,
    )


# --- the patient record --------------------------------------------------------------------


@dataclass(frozen=True)
class CarerSummary:
    carer_id: str
    name: str
    relationship: str | None
    phone: str | None
    lives_with: bool
    main_carer: bool
    young_carer: bool
    assessment_status: str


@dataclass(frozen=True)
class PatientDetails:
    patient_id: str
    nhs_number: str
    family_name: str
    given_name: str
    name: str
    date_of_birth: date
    age: int
    sex: str | None
    postcode: str | None
    phone: str | None
    practice_code: str | None
    practice: str | None
    sub_locality: str | None
    coordinator_id: str | None
    coordinator: str | None
    level: str
    referral_source: str | None
    ltc_count: int | None
    frailty_band: str | None
    efi_score: float | None
    predicted_cost_ratio: float | None
    risk_score: float | None
    flags: tuple[str, ...]
    cohort_explanation: str
    respect_in_place: bool
    respect_date: date | None
    respect_location: str | None
    consent_to_share: bool
    flag_for_mdt: bool
    date_of_death: date | None
    notes: str | None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    text: str
    whole_day: bool = False  # known only to the day (shown without a time)


@dataclass(frozen=True)
class ReferralSummary:
    referral_id: str
    service: str
    status: str
    reason: str
    consent_given: bool
    created_at: datetime
    status_changed_at: datetime


@dataclass(frozen=True)
class DomainNeed:
    domain: str
    need_level: str
    notes: str | None


@dataclass(frozen=True)
class AssessmentSummary:
    version: int
    status: str
    started_at: datetime
    completed_at: datetime | None
    what_matters: str | None
    goals: str | None
    review_date: date | None
    needs: tuple[DomainNeed, ...]
    actions: tuple[str, ...]
    care_plan_agreed_at: datetime | None
    care_plan_review: date | None
    care_plan_outcomes: str | None


@dataclass(frozen=True)
class MdtNote:
    meeting_date: date
    reason: str | None
    situation: str | None
    background: str | None
    assessment: str | None
    recommendation: str | None
    actions: tuple[str, ...]


@dataclass(frozen=True)
class HospitalStay:
    """An admission without a discharge yet (the patient is in hospital)."""

    admission_id: str
    admitted_at: datetime | None
    hospital: str | None
    ward: str | None


@dataclass(frozen=True)
class PatientRecord:
    details: PatientDetails
    in_hospital: tuple[HospitalStay, ...]
    carers: tuple[CarerSummary, ...]
    referrals: tuple[ReferralSummary, ...]
    assessment: AssessmentSummary | None
    mdt_notes: tuple[MdtNote, ...]
    timeline: tuple[TimelineEntry, ...]


def patient_details(session: Session, *, patient_id: str, now: datetime) -> PatientDetails:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("That patient is not on this laptop.")
    practice = session.get(Practice, patient.practice_code) if patient.practice_code else None
    coordinator = (
        session.get(Coordinator, patient.coordinator_id) if patient.coordinator_id else None
    )
    flags = cohort_flags(
        ltc_count=patient.ltc_count,
        frailty_band=patient.frailty_band,
        efi_score=patient.efi_score,
        predicted_cost_ratio=patient.predicted_cost_ratio,
    )
    return PatientDetails(
        patient_id=patient.id,
        nhs_number=patient.nhs_number,
        family_name=patient.family_name,
        given_name=patient.given_name,
        name=display_name(patient.family_name, patient.given_name),
        date_of_birth=patient.date_of_birth,
        age=age(patient.date_of_birth, to_local(now).date()),
        sex=patient.sex,
        postcode=patient.postcode,
        phone=patient.phone,
        practice_code=patient.practice_code,
        practice=practice.name if practice else None,
        sub_locality=practice.sub_locality if practice else None,
        coordinator_id=patient.coordinator_id,
        coordinator=coordinator.name if coordinator else None,
        level=patient.level,
        referral_source=patient.referral_source,
        ltc_count=patient.ltc_count,
        frailty_band=patient.frailty_band,
        efi_score=patient.efi_score,
        predicted_cost_ratio=patient.predicted_cost_ratio,
        risk_score=patient.risk_score,
        flags=_flags_of(patient),
        cohort_explanation=flags.explanation,
        respect_in_place=patient.respect_in_place,
        respect_date=patient.respect_date,
        respect_location=patient.respect_location,
        consent_to_share=patient.consent_to_share,
        flag_for_mdt=patient.flag_for_mdt,
        date_of_death=patient.date_of_death,
        notes=patient.notes,
    )


def _carers(session: Session, patient_id: str) -> tuple[CarerSummary, ...]:
    found = session.execute(
        select(Carer, CarerLink)
        .join(CarerLink, CarerLink.carer_id == Carer.id)
        .where(CarerLink.patient_id == patient_id, CarerLink.active.is_(True))
        .order_by(CarerLink.main_carer.desc(), Carer.family_name, Carer.given_name)
    ).all()
    return tuple(
        CarerSummary(
            carer_id=carer.id,
            name=display_name(carer.family_name, carer.given_name),
            relationship=link.relationship,
            phone=carer.phone,
            lives_with=link.lives_with,
            main_carer=link.main_carer,
            young_carer=carer.young_carer,
            assessment_status=carer.assessment_status,
        )
        for carer, link in found
    )


def _referrals(session: Session, patient_id: str) -> tuple[ReferralSummary, ...]:
    found = session.execute(
        select(Referral, Service.name)
        .join(Service, Service.id == Referral.service_id)
        .where(Referral.patient_id == patient_id)
        .order_by(Referral.created_at.desc(), Referral.id)
    ).all()
    return tuple(
        ReferralSummary(
            referral_id=r.id,
            service=name,
            status=r.status,
            reason=r.reason,
            consent_given=r.consent_given,
            created_at=r.created_at,
            status_changed_at=r.status_changed_at,
        )
        for r, name in found
    )


def _assessment(session: Session, patient_id: str) -> AssessmentSummary | None:
    latest = session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.patient_id == patient_id)
        .order_by(NeedsAssessment.version.desc(), NeedsAssessment.started_at.desc())
    ).first()
    if latest is None:
        return None
    needs = tuple(
        DomainNeed(NEED_DOMAIN_LABELS.get(e.domain, e.domain), e.need_level, e.notes)
        for e in session.scalars(
            select(NeedsDomainEntry).where(NeedsDomainEntry.assessment_id == latest.id)
        )
    )
    order = {label: i for i, label in enumerate(NEED_DOMAIN_LABELS.values())}
    actions = tuple(
        ("[done] " if a.done else "") + a.description + (f" — {a.owner}" if a.owner else "")
        for a in session.scalars(
            select(AgreedAction)
            .where(AgreedAction.assessment_id == latest.id)
            .order_by(AgreedAction.due_date, AgreedAction.id)
        )
    )
    plan = session.scalars(
        select(CarePlan)
        .where(CarePlan.patient_id == patient_id)
        .order_by(CarePlan.agreed_at.desc().nulls_last(), CarePlan.id)
    ).first()
    return AssessmentSummary(
        version=latest.version,
        status=latest.status,
        started_at=latest.started_at,
        completed_at=latest.completed_at,
        what_matters=latest.what_matters,
        goals=latest.goals,
        review_date=latest.review_date,
        needs=tuple(sorted(needs, key=lambda n: order.get(n.domain, 99))),
        actions=actions,
        care_plan_agreed_at=plan.agreed_at if plan else None,
        care_plan_review=plan.review_date if plan else None,
        care_plan_outcomes=plan.outcomes_agreed if plan else None,
    )


def _mdt_notes(session: Session, patient_id: str) -> tuple[MdtNote, ...]:
    found = session.execute(
        select(MdtItem, MdtMeeting.meeting_date)
        .join(MdtMeeting, MdtMeeting.id == MdtItem.meeting_id)
        .where(MdtItem.patient_id == patient_id)
        .order_by(MdtMeeting.meeting_date.desc(), MdtItem.id)
    ).all()
    notes = []
    for item, day in found:
        actions = tuple(
            a.description + (f" ({a.owner})" if a.owner else "") + f" [{a.status}]"
            for a in session.scalars(
                select(MdtAction).where(MdtAction.item_id == item.id).order_by(MdtAction.id)
            )
        )
        notes.append(
            MdtNote(
                day,
                item.reason,
                item.situation,
                item.background,
                item.assessment,
                item.recommendation,
                actions,
            )
        )
    return tuple(notes)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


def _on_day(day: date, kind: str, text: str) -> TimelineEntry:
    return TimelineEntry(_day_start(day), kind, text, whole_day=True)


def patient_timeline(session: Session, *, patient_id: str) -> tuple[TimelineEntry, ...]:
    """Everything that happened to a patient, newest first."""
    out: list[TimelineEntry] = []
    add = out.append
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("That patient is not on this laptop.")
    add(TimelineEntry(patient.created_at, "registered", "Added to the caseload"))
    for ep in session.scalars(select(Episode).where(Episode.patient_id == patient_id)):
        add(_on_day(ep.opened_on, "episode", f"Episode opened ({ep.level}, {ep.source})"))
        if ep.closed_on:
            why = f": {ep.close_reason}" if ep.close_reason else ""
            add(_on_day(ep.closed_on, "episode", f"Episode closed{why}"))
    for lc in session.scalars(
        select(LevelChange).where(
            LevelChange.patient_id == patient_id, LevelChange.from_level.is_not(None)
        )
    ):
        why = f" ({lc.reason})" if lc.reason else ""
        add(TimelineEntry(lc.changed_at, "level", f"Level {lc.from_level} → {lc.to_level}{why}"))
    for adm in session.scalars(select(Admission).where(Admission.patient_id == patient_id)):
        place = ", ".join(x for x in (adm.hospital, adm.ward) if x)
        if adm.admitted_at:
            add(
                TimelineEntry(
                    adm.admitted_at, "admission", f"Admitted{' to ' + place if place else ''}"
                )
            )
        if adm.discharged_at:
            dest = f" to {adm.discharge_destination}" if adm.discharge_destination else ""
            add(TimelineEntry(adm.discharged_at, "discharge", f"Discharged{dest}"))
    for call in session.scalars(select(CallAttempt).where(CallAttempt.patient_id == patient_id)):
        issues = call.issues.replace("_", " ").replace(",", ", ")
        text = f"Call: {call.outcome.replace('_', ' ')}"
        text += f"; issues: {issues}" if issues else ""
        text += f" — {call.notes}" if call.notes else ""
        add(TimelineEntry(call.called_at, "call", text))
    referrals = session.execute(
        select(ReferralStatusChange, Service.name, Referral.reason)
        .join(Referral, Referral.id == ReferralStatusChange.referral_id)
        .join(Service, Service.id == Referral.service_id)
        .where(Referral.patient_id == patient_id)
    ).all()
    for change, service, reason in referrals:
        if change.to_status == "draft":
            text = f"Referral to {service} drafted: {reason}"
        else:
            note = f" — {change.note}" if change.note else ""
            text = f"Referral to {service}: {change.to_status.replace('_', ' ')}{note}"
        add(TimelineEntry(change.changed_at, "referral", text))
    for na in session.scalars(
        select(NeedsAssessment).where(NeedsAssessment.patient_id == patient_id)
    ):
        add(TimelineEntry(na.started_at, "assessment", f"Needs assessment v{na.version} started"))
        if na.completed_at:
            add(
                TimelineEntry(
                    na.completed_at, "assessment", f"Needs assessment v{na.version} completed"
                )
            )
    for plan in session.scalars(select(CarePlan).where(CarePlan.patient_id == patient_id)):
        if plan.agreed_at:
            add(TimelineEntry(plan.agreed_at, "care_plan", "Care & support plan agreed"))
    for task in session.scalars(
        select(Task).where(
            Task.patient_id == patient_id,
            Task.status.concat("") == "done",  # through the patient index (see _open_task)
            Task.kind != "post_discharge_call",  # the call itself is on the timeline
        )
    ):
        done = task.completed_at or task.due_at
        late = " (late)" if done > task.due_at else ""
        add(TimelineEntry(done, "task", f"Task done{late}: {task.title}"))
    for item, day in session.execute(
        select(MdtItem, MdtMeeting.meeting_date)
        .join(MdtMeeting, MdtMeeting.id == MdtItem.meeting_id)
        .where(MdtItem.patient_id == patient_id)
    ).all():
        rec = f": {item.recommendation}" if item.recommendation else ""
        add(_on_day(day, "mdt", f"Discussed at MDT{rec}"))
    # newest first; at equal times the entry found later (registration is found first) leads
    ranked = sorted(enumerate(out), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
    return tuple(entry for _, entry in ranked)


def patient_record(session: Session, *, patient_id: str, now: datetime) -> PatientRecord:
    """Header, carers, referrals, latest assessment, MDT notes and timeline of one patient."""
    return PatientRecord(
        details=patient_details(session, patient_id=patient_id, now=now),
        in_hospital=tuple(
            HospitalStay(a.id, a.admitted_at, a.hospital, a.ward)
            for a in session.scalars(
                select(Admission)
                .where(Admission.patient_id == patient_id, Admission.discharged_at.is_(None))
                .order_by(Admission.admitted_at.desc())
            )
        ),
        carers=_carers(session, patient_id),
        referrals=_referrals(session, patient_id),
        assessment=_assessment(session, patient_id),
        mdt_notes=_mdt_notes(session, patient_id),
        timeline=patient_timeline(session, patient_id=patient_id),
    )
