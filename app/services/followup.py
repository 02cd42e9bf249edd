"""Post-discharge follow-up: admissions, discharges, call attempts and the 48-hour clocks.

Each discharge opens a ``post_discharge_call`` task due 48 hours later (source
``("admissions", id)``). The task is closed as ``done`` (completed at the first contact) when a
contact is logged, even a late one, and ``cancelled`` when, before any contact, the patient is
readmitted or dies. Tasks only ever move forward (open -> done/cancelled, cancelled -> done), so a
task completed by hand is never reopened. The measures themselves are in
:mod:`app.services.metrics`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.timeutil import ensure_utc, local_midnight_utc, to_local
from app.core.validation import format_nhs_number, normalise_nhs_number
from app.models import Admission, CallAttempt, Coordinator, Patient, Task
from app.models.admission import CALL_ISSUES, CALL_OUTCOMES, CONTACT_OUTCOMES
from app.services import metrics
from app.services.metrics import AdmissionRow, PatientHistory
from app.services.patients import display_name

ADMISSION_SOURCES = ("manual", "import")
TASK_KIND = "post_discharge_call"
TASK_SOURCE = "admissions"
_TEXT_LIMITS = {"hospital": 120, "ward": 80, "discharge_destination": 80}


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdmissionView:
    id: str
    patient_id: str
    admitted_at: datetime | None
    discharged_at: datetime | None
    hospital: str | None
    ward: str | None
    discharge_destination: str | None
    source: str
    deadline: datetime | None  # 48 hours after the discharge; None while in hospital


@dataclass(frozen=True)
class CallAttemptView:
    id: str
    admission_id: str
    patient_id: str
    called_at: datetime
    outcome: str
    issues: tuple[str, ...]
    notes: str | None
    coordinator_id: str | None
    discharged_at: datetime
    deadline: datetime

    @property
    def is_contact(self) -> bool:
        return self.outcome in CONTACT_OUTCOMES

    @property
    def hours_after_discharge(self) -> float:
        return (self.called_at - self.discharged_at).total_seconds() / 3600

    @property
    def late(self) -> bool:
        """After the 48-hour deadline (a late contact counts as missed, not met)."""
        return self.called_at > self.deadline


@dataclass(frozen=True)
class OpenClock:
    admission_id: str
    patient_id: str
    patient_name: str
    nhs_number: str
    discharged_at: datetime
    deadline: datetime
    hours_left: float  # negative when overdue
    attempts: int
    last_outcome: str | None
    risk_score: float | None
    coordinator_id: str | None
    coordinator_name: str | None

    @property
    def overdue(self) -> bool:
        return self.hours_left < 0


@dataclass(frozen=True)
class DischargeView:
    admission_id: str
    patient_id: str
    admitted_at: datetime | None
    discharged_at: datetime
    deadline: datetime
    hospital: str | None
    ward: str | None
    discharge_destination: str | None
    source: str
    status: str  # met | missed | pending | excluded (app.services.metrics)
    contacted_at: datetime | None  # first contact, possibly late
    attempts: int
    last_outcome: str | None
    excluded_because: str | None
    readmission_id: str | None  # the admission that readmitted the patient within 30 days
    readmitted_at: datetime | None

    @property
    def late(self) -> bool:
        return self.contacted_at is not None and self.contacted_at > self.deadline


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def when(value: datetime) -> str:
    """An instant as people read it: '23/11/2026 14:05 GMT'."""
    local = to_local(value)
    return f"{local:%d/%m/%Y %H:%M} {local.tzname()}"


def _utc(value: datetime, what: str) -> datetime:
    try:
        return ensure_utc(value)
    except ValueError:
        raise ValidationError(f"The {what} time must carry a timezone.", field=what) from None


def _not_future(value: datetime, now: datetime, what: str) -> None:
    if value > now:
        raise ValidationError(
            f"The {what} time {when(value)} is in the future (it is now {when(now)}).", field=what
        )


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    limit = _TEXT_LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise ValidationError(
            f"The {name.replace('_', ' ')} is longer than {limit} characters.", field=name
        )
    return text


def _choice_key(text: str) -> str:
    """'Contacted patient', 'contacted_patient' and 'CONTACTED-PATIENT' all match."""
    return re.sub(r"[\s_-]+", "", text).casefold()


def parse_outcome(text: str) -> str:
    """A call outcome from CALL_OUTCOMES (case and spaces ignored)."""
    wanted = _choice_key(text)
    for outcome in CALL_OUTCOMES:
        if _choice_key(outcome) == wanted:
            return outcome
    raise ValidationError(
        f"Unknown call outcome {text.strip()!r}; use one of: {', '.join(CALL_OUTCOMES)}.",
        field="outcome",
    )


def parse_issues(issues: Sequence[str] | str) -> tuple[str, ...]:
    """Issues found on a call, from CALL_ISSUES, in their canonical order and without repeats."""
    items = issues.split(",") if isinstance(issues, str) else list(issues)
    found: set[str] = set()
    for raw in items:
        key = _choice_key(raw)
        if not key:
            continue
        match = next((i for i in CALL_ISSUES if _choice_key(i) == key), None)
        if match is None:
            raise ValidationError(
                f"Unknown call issue {raw.strip()!r}; use any of: {', '.join(CALL_ISSUES)}.",
                field="issues",
            )
        found.add(match)
    return tuple(i for i in CALL_ISSUES if i in found)


def _admission_view(a: Admission) -> AdmissionView:
    return AdmissionView(
        id=a.id,
        patient_id=a.patient_id,
        admitted_at=a.admitted_at,
        discharged_at=a.discharged_at,
        hospital=a.hospital,
        ward=a.ward,
        discharge_destination=a.discharge_destination,
        source=a.source,
        deadline=metrics.deadline_of(a.discharged_at) if a.discharged_at else None,
    )


def _stay_text(start: datetime | None, end: datetime | None) -> str:
    if start is None and end is not None:
        return f"discharged {when(end)}"
    assert start is not None
    return f"from {when(start)} to {when(end)}" if end else f"from {when(start)} (still in)"


def overlaps(
    start: datetime | None,
    end: datetime | None,
    other_start: datetime | None,
    other_end: datetime | None,
) -> bool:
    """Whether two stays overlap. A stay runs from its start (the admission, else the discharge)
    to its discharge, or on for ever while the patient is still in hospital. Stays that only
    touch (discharged and readmitted at the same minute) do not overlap."""
    s1 = start if start is not None else end
    s2 = other_start if other_start is not None else other_end
    if s1 is None or s2 is None:
        return False
    return (other_end is None or s1 < other_end) and (end is None or s2 < end)


def check_no_overlap(
    session: Session,
    *,
    patient_id: str,
    admitted_at: datetime | None,
    discharged_at: datetime | None,
    ignore_id: str | None = None,
) -> None:
    """Refuse a stay that duplicates or overlaps another stay of the same patient."""
    for other in session.scalars(select(Admission).where(Admission.patient_id == patient_id)):
        if other.id == ignore_id:
            continue
        same = (discharged_at is not None and other.discharged_at == discharged_at) or (
            admitted_at is not None and other.admitted_at == admitted_at
        )
        if same:
            raise ConflictError(
                "This patient already has an admission "
                f"{_stay_text(other.admitted_at, other.discharged_at)}."
            )
        if overlaps(admitted_at, discharged_at, other.admitted_at, other.discharged_at):
            raise ConflictError(
                f"This admission ({_stay_text(admitted_at, discharged_at)}) overlaps the "
                f"patient's admission {_stay_text(other.admitted_at, other.discharged_at)}."
            )


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


def _task_state(a: AdmissionRow, history: PatientHistory) -> tuple[str, datetime | None]:
    """('done', first contact) | ('cancelled', when it closed) | ('open', None).

    Decided from every fact recorded, so the result does not depend on the order in which
    they were entered. A cancelled task closes when the readmission or death happened (not
    before the discharge), so a report as of an earlier time still counts it as open.
    """
    assert a.discharged_at is not None
    t_d = a.discharged_at
    contacts = [
        c.called_at
        for c in history.calls
        if c.admission_id == a.id and c.outcome in CONTACT_OUTCOMES and c.called_at >= t_d
    ]
    if contacts:
        return "done", min(contacts)
    closing = [
        o.starts_at
        for o in history.admissions
        if o.id != a.id and o.starts_at is not None and o.starts_at > t_d
    ]
    closing += [
        c.called_at
        for c in history.calls
        if (c.outcome == "readmitted" and c.called_at >= t_d) or c.outcome == "deceased"
    ]
    if history.date_of_death is not None:
        closing.append(local_midnight_utc(history.date_of_death))
    if closing:
        return "cancelled", max(t_d, min(closing))
    return "open", None


def refresh_followup_tasks(
    session: Session, *, patient_ids: Collection[str], now: datetime
) -> None:
    """Create or close the 48-hour call tasks of these patients' discharges.

    Call after anything that changes a patient's admissions, calls or date of death.
    """
    if not patient_ids:
        return
    histories = metrics.load_histories(session, patient_ids)
    discharged = [
        (a, h) for h in histories.values() for a in h.admissions if a.discharged_at is not None
    ]
    if not discharged:
        return
    ids = [a.id for a, _ in discharged]
    tasks: dict[str, Task] = {}
    for start in range(0, len(ids), 500):
        for t in session.scalars(
            select(Task).where(
                Task.kind == TASK_KIND,
                Task.source_table == TASK_SOURCE,
                Task.source_id.in_(ids[start : start + 500]),
            )
        ):
            tasks.setdefault(t.source_id or "", t)
    details = {
        row.id: row
        for row in session.execute(
            select(Admission.id, Admission.hospital, Patient.coordinator_id)
            .join(Patient, Patient.id == Admission.patient_id)
            .where(Admission.patient_id.in_(list(histories)))
        )
    }
    for a, history in discharged:
        assert a.discharged_at is not None
        status, completed_at = _task_state(a, history)
        task = tasks.get(a.id)
        if task is None:
            hospital = details[a.id].hospital
            session.add(
                Task(
                    kind=TASK_KIND,
                    title="48-hour call after discharge"
                    + (f" from {hospital}" if hospital else ""),
                    patient_id=a.patient_id,
                    assigned_to_id=details[a.id].coordinator_id,
                    due_at=metrics.deadline_of(a.discharged_at),
                    status=status,
                    completed_at=completed_at,
                    source_table=TASK_SOURCE,
                    source_id=a.id,
                    notes=None,
                    created_at=now,
                )
            )
        elif (task.status == "open" and status != "open") or (
            task.status == "cancelled" and status == "done"
        ):
            task.status = status
            task.completed_at = completed_at
    session.flush()


# --------------------------------------------------------------------------------------------
# Admissions and discharges
# --------------------------------------------------------------------------------------------


def record_admission(
    session: Session,
    *,
    patient_id: str,
    admitted_at: datetime,
    discharged_at: datetime | None = None,
    hospital: str | None = None,
    ward: str | None = None,
    discharge_destination: str | None = None,
    source: str = "manual",
    now: datetime,
) -> AdmissionView:
    """Record a hospital stay (with its discharge when known, which starts the 48-hour clock)."""
    now = _utc(now, "current")
    admitted_at = _utc(admitted_at, "admission")
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("No such patient; it may have been removed.")
    if source not in ADMISSION_SOURCES:
        raise ValidationError(
            f"Unknown admission source {source!r}; use one of: {', '.join(ADMISSION_SOURCES)}.",
            field="source",
        )
    _not_future(admitted_at, now, "admission")
    if discharged_at is not None:
        discharged_at = _utc(discharged_at, "discharge")
        _not_future(discharged_at, now, "discharge")
        if discharged_at < admitted_at:
            raise ValidationError(
                f"The discharge ({when(discharged_at)}) is before the admission "
                f"({when(admitted_at)}).",
                field="discharged_at",
            )
    check_no_overlap(
        session, patient_id=patient_id, admitted_at=admitted_at, discharged_at=discharged_at
    )
    admission = Admission(
        patient_id=patient_id,
        admitted_at=admitted_at,
        discharged_at=discharged_at,
        hospital=_text(hospital, "hospital"),
        ward=_text(ward, "ward"),
        discharge_destination=_text(discharge_destination, "discharge_destination"),
        source=source,
        created_at=now,
    )
    session.add(admission)
    session.flush()
    refresh_followup_tasks(session, patient_ids=[patient_id], now=now)
    return _admission_view(admission)


def record_discharge(
    session: Session,
    *,
    admission_id: str,
    discharged_at: datetime,
    discharge_destination: str | None = None,
    now: datetime,
) -> AdmissionView:
    """Discharge a patient still in hospital; this starts the 48-hour clock."""
    now = _utc(now, "current")
    discharged_at = _utc(discharged_at, "discharge")
    admission = session.get(Admission, admission_id)
    if admission is None:
        raise NotFoundError("No such admission; it may have been removed.")
    if admission.discharged_at is not None:
        raise ConflictError(
            f"This admission already has a discharge, at {when(admission.discharged_at)}."
        )
    _not_future(discharged_at, now, "discharge")
    if admission.admitted_at is not None and discharged_at < admission.admitted_at:
        raise ValidationError(
            f"The discharge ({when(discharged_at)}) is before the admission "
            f"({when(admission.admitted_at)}).",
            field="discharged_at",
        )
    check_no_overlap(
        session,
        patient_id=admission.patient_id,
        admitted_at=admission.admitted_at,
        discharged_at=discharged_at,
        ignore_id=admission.id,
    )
    admission.discharged_at = discharged_at
    destination = _text(discharge_destination, "discharge_destination")
    if destination is not None:
        admission.discharge_destination = destination
    session.flush()
    refresh_followup_tasks(session, patient_ids=[admission.patient_id], now=now)
    return _admission_view(admission)


# --------------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------------


def log_call_attempt(
    session: Session,
    *,
    admission_id: str,
    called_at: datetime,
    outcome: str,
    issues: Sequence[str] | str = (),
    notes: str | None = None,
    coordinator_id: str | None = None,
    now: datetime,
) -> CallAttemptView:
    """Log a follow-up call on a discharge. A call after the deadline is logged as late."""
    now = _utc(now, "current")
    called_at = _utc(called_at, "call")
    outcome = parse_outcome(outcome)
    found = parse_issues(issues)
    admission = session.get(Admission, admission_id)
    if admission is None:
        raise NotFoundError("No such admission; it may have been removed.")
    _not_future(called_at, now, "call")
    if admission.discharged_at is None:
        raise ValidationError(
            "This admission has no discharge yet; record the discharge before logging a call.",
            field="admission_id",
        )
    if called_at < admission.discharged_at:
        raise ValidationError(
            f"The call ({when(called_at)}) is before the discharge "
            f"({when(admission.discharged_at)}).",
            field="called_at",
        )
    if coordinator_id is not None and session.get(Coordinator, coordinator_id) is None:
        raise NotFoundError("No such coordinator; choose one from the team list.")
    text = (notes or "").strip() or None
    call = CallAttempt(
        admission_id=admission.id,
        patient_id=admission.patient_id,
        called_at=called_at,
        outcome=outcome,
        issues=",".join(found),
        notes=text,
        coordinator_id=coordinator_id,
    )
    session.add(call)
    session.flush()
    refresh_followup_tasks(session, patient_ids=[admission.patient_id], now=now)
    return CallAttemptView(
        id=call.id,
        admission_id=admission.id,
        patient_id=admission.patient_id,
        called_at=called_at,
        outcome=outcome,
        issues=found,
        notes=text,
        coordinator_id=coordinator_id,
        discharged_at=admission.discharged_at,
        deadline=metrics.deadline_of(admission.discharged_at),
    )


def log_call_by_nhs(
    session: Session,
    *,
    nhs_number: str,
    called_at: datetime,
    outcome: str,
    discharge_at: datetime | None = None,
    issues: Sequence[str] | str = (),
    notes: str | None = None,
    coordinator_id: str | None = None,
    now: datetime,
) -> CallAttemptView:
    """Log a call on the discharge at ``discharge_at``, or else on the patient's most recent
    discharge not after the call."""
    now = _utc(now, "current")
    called_at = _utc(called_at, "call")
    outcome = parse_outcome(outcome)
    parse_issues(issues)
    digits = normalise_nhs_number(nhs_number)
    patient_ids = list(session.scalars(select(Patient.id).where(Patient.nhs_number == digits)))
    if not patient_ids:
        raise NotFoundError(f"No patient with NHS number {format_nhs_number(digits)}.")
    _not_future(called_at, now, "call")
    discharges = list(
        session.execute(
            select(Admission.id, Admission.discharged_at)
            .where(Admission.patient_id.in_(patient_ids), Admission.discharged_at.is_not(None))
            .order_by(Admission.discharged_at.desc(), Admission.id)
        )
    )
    if not discharges:
        raise NotFoundError(
            "No discharge is recorded for this patient; record or import the discharge first."
        )
    if discharge_at is not None:
        discharge_at = _utc(discharge_at, "discharge")
        match = [d for d in discharges if d.discharged_at == discharge_at]
        if not match:
            known = ", ".join(when(d.discharged_at) for d in discharges[:5])
            raise NotFoundError(
                f"This patient has no discharge at {when(discharge_at)} (recorded: {known})."
            )
        chosen = match[0].id
    else:
        before = [d for d in discharges if d.discharged_at <= called_at]
        if not before:
            first = discharges[-1].discharged_at
            raise ValidationError(
                f"The call ({when(called_at)}) is before the patient's first recorded "
                f"discharge ({when(first)}).",
                field="called_at",
            )
        chosen = before[0].id
    return log_call_attempt(
        session,
        admission_id=chosen,
        called_at=called_at,
        outcome=outcome,
        issues=issues,
        notes=notes,
        coordinator_id=coordinator_id,
        now=now,
    )


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def open_clocks(
    session: Session, *, now: datetime, coordinator_id: str | None = None
) -> list[OpenClock]:
    """Discharges still waiting for a contact, overdue first, then the soonest deadline.

    A clock closes with a contact (even a late one), or when, before any contact, the patient
    is readmitted or dies (then there is no one at home to call).
    """
    now = _utc(now, "current")
    other = aliased(Admission)
    c = aliased(CallAttempt)
    started = func.coalesce(other.admitted_at, other.discharged_at)
    stmt = (
        select(
            Admission.id,
            Admission.patient_id,
            Admission.discharged_at,
            Patient.family_name,
            Patient.given_name,
            Patient.nhs_number,
            Patient.risk_score,
            Patient.coordinator_id,
            Coordinator.name,
        )
        .join(Patient, Patient.id == Admission.patient_id)
        .outerjoin(Coordinator, Coordinator.id == Patient.coordinator_id)
        .where(
            Admission.discharged_at.is_not(None),
            Admission.discharged_at <= now,
            Patient.date_of_death.is_(None),
            ~exists().where(
                c.admission_id == Admission.id,
                c.outcome.in_(CONTACT_OUTCOMES),
                c.called_at >= Admission.discharged_at,
                c.called_at <= now,
            ),
            ~exists().where(
                c.patient_id == Admission.patient_id,
                c.called_at <= now,
                or_(
                    c.outcome == "deceased",
                    and_(c.outcome == "readmitted", c.called_at >= Admission.discharged_at),
                ),
            ),
            ~exists().where(
                other.patient_id == Admission.patient_id,
                other.id != Admission.id,
                started > Admission.discharged_at,
                started <= now,
            ),
        )
        .order_by(Admission.discharged_at, Admission.id)
    )
    if coordinator_id is not None:
        stmt = stmt.where(Patient.coordinator_id == coordinator_id)
    rows = list(session.execute(stmt))
    ids = [r.id for r in rows]
    attempts: dict[str, tuple[int, str | None]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        last = (
            select(CallAttempt.admission_id, CallAttempt.outcome)
            .where(CallAttempt.admission_id.in_(chunk), CallAttempt.called_at <= now)
            .order_by(CallAttempt.admission_id, CallAttempt.called_at)
        )
        for call in session.execute(last):
            count, _ = attempts.get(call.admission_id or "", (0, None))
            attempts[call.admission_id or ""] = (count + 1, call.outcome)
    out: list[OpenClock] = []
    for r in rows:
        deadline = metrics.deadline_of(r.discharged_at)
        count, last_outcome = attempts.get(r.id, (0, None))
        out.append(
            OpenClock(
                admission_id=r.id,
                patient_id=r.patient_id,
                patient_name=display_name(r.family_name, r.given_name),
                nhs_number=r.nhs_number,
                discharged_at=r.discharged_at,
                deadline=deadline,
                hours_left=round((deadline - now).total_seconds() / 3600, 2),
                attempts=count,
                last_outcome=last_outcome,
                risk_score=r.risk_score,
                coordinator_id=r.coordinator_id,
                coordinator_name=r.name,
            )
        )
    return out


def discharges_for_patient(
    session: Session, *, patient_id: str, now: datetime
) -> list[DischargeView]:
    """The patient's discharges, newest first, each with its 48-hour status at ``now``."""
    now = _utc(now, "current")
    history = metrics.load_histories(session, [patient_id]).get(patient_id)
    if history is None:
        raise NotFoundError("No such patient; it may have been removed.")
    admissions = {
        a.id: a
        for a in session.scalars(select(Admission).where(Admission.patient_id == patient_id))
    }
    out: list[DischargeView] = []
    for row in history.admissions:
        if row.discharged_at is None or row.discharged_at > now:
            continue
        fu = metrics.follow_up_status(row, history, as_of=now)
        readmission = metrics.readmission_after(row, history, as_of=now)
        a = admissions[row.id]
        out.append(
            DischargeView(
                admission_id=a.id,
                patient_id=a.patient_id,
                admitted_at=a.admitted_at,
                discharged_at=row.discharged_at,
                deadline=fu.deadline,
                hospital=a.hospital,
                ward=a.ward,
                discharge_destination=a.discharge_destination,
                source=a.source,
                status=fu.status,
                contacted_at=fu.contacted_at,
                attempts=fu.attempts,
                last_outcome=fu.last_outcome,
                excluded_because=fu.excluded_because,
                readmission_id=readmission.admission_id if readmission else None,
                readmitted_at=readmission.starts_at if readmission else None,
            )
        )
    out.sort(key=lambda d: (d.discharged_at, d.admission_id), reverse=True)
    return out
