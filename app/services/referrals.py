"""Referrals into the service directory (DESIGN.md §1.5): consent and reason required, a dated
status history, a warning on a second open referral to the same service, and chase-up tasks
for referrals left unanswered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.timeutil import LONDON, ensure_utc, to_local
from app.models import Patient, Referral, ReferralStatusChange, Service, Task
from app.models.referral import OPEN_REFERRAL_STATUSES, REFERRAL_STATUSES
from app.services.caseload import clean_text, require_active_coordinator, require_patient
from app.services.directory import require_service
from app.services.patients import display_name
from app.services.tasks import TaskView, close_tasks, ensure_task

# Legal moves: draft -> sent -> acknowledged -> accepted | declined | no response; accepted ->
# completed; cancelled from any open state. A service may answer without acknowledging first,
# and may still answer after being marked as not responding.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("sent", "cancelled"),
    "sent": ("acknowledged", "accepted", "declined", "no_response", "cancelled"),
    "acknowledged": ("accepted", "declined", "no_response", "cancelled"),
    "no_response": ("acknowledged", "accepted", "declined", "cancelled"),
    "accepted": ("completed", "cancelled"),
    "declined": (),
    "completed": (),
    "cancelled": (),
}
AWAITING_REPLY = ("sent", "acknowledged", "no_response")
STATUS_LABELS = {s: s.replace("_", " ") for s in REFERRAL_STATUSES}


@dataclass(frozen=True)
class StatusChangeView:
    from_status: str | None
    to_status: str
    changed_at: datetime
    note: str | None
    changed_by_id: str | None


@dataclass(frozen=True)
class ReferralView:
    id: str
    patient_id: str
    patient_name: str
    service_id: str
    service_name: str
    service_kind: str
    status: str
    reason: str
    consent_given: bool
    consent_recorded_at: datetime | None
    created_at: datetime
    created_by_id: str | None
    status_changed_at: datetime
    sent_at: datetime | None  # latest move to "sent"
    working_days_waiting: int | None  # since sent, while awaiting a reply
    allowed_next: tuple[str, ...]
    history: tuple[StatusChangeView, ...]  # oldest first
    warnings: tuple[str, ...]  # e.g. another open referral to the same service

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved on by ``days`` working days (Monday to Friday, UK wall-clock time kept).
    Bank holidays are not known to the app and count as working days."""
    local = to_local(start)
    day = local.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return ensure_utc(datetime.combine(day, local.time(), tzinfo=LONDON))


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after ``start``'s UK date up to and including ``end``'s."""
    day, last, count = to_local(start).date(), to_local(end).date(), 0
    while day < last:
        day += timedelta(days=1)
        count += day.weekday() < 5
    return count


def _chained(changes: list[ReferralStatusChange]) -> list[ReferralStatusChange]:
    """Status changes in time order; changes made at the same instant follow one another."""
    rest, out, current = list(changes), [], None
    while rest:
        same = [c for c in rest if c.changed_at == rest[0].changed_at]
        pick = next((c for c in same if c.from_status == current), same[0])
        rest.remove(pick)
        out.append(pick)
        current = pick.to_status
    return out


_IN_CHUNK = 500  # ids per IN (...) list, well inside SQLite's limit on bound variables


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def _views(session: Session, referrals: Sequence[Referral], now: datetime) -> list[ReferralView]:
    """Views of ``referrals`` with a fixed number of queries per 500 referrals (no query per
    referral: the Today view lists every referral awaiting a reply)."""
    ids = [r.id for r in referrals]
    patient_ids = sorted({r.patient_id for r in referrals})
    history: dict[str, list[ReferralStatusChange]] = defaultdict(list)
    open_pairs: dict[tuple[str, str], list[Referral]] = defaultdict(list)
    names: dict[str, str] = {}
    services: dict[str, Service] = {}
    for chunk in _chunks(ids):
        for change in session.scalars(
            select(ReferralStatusChange)
            .where(ReferralStatusChange.referral_id.in_(chunk))
            .order_by(ReferralStatusChange.changed_at, ReferralStatusChange.id)
        ):
            history[change.referral_id].append(change)
    for chunk in _chunks(patient_ids):
        # every referral of these patients, the open ones picked here: with the status in
        # the WHERE clause SQLite walks every open referral of the team instead
        for other in session.scalars(select(Referral).where(Referral.patient_id.in_(chunk))):
            if other.status in OPEN_REFERRAL_STATUSES:
                open_pairs[(other.patient_id, other.service_id)].append(other)
        for pid, family, given in session.execute(
            select(Patient.id, Patient.family_name, Patient.given_name).where(Patient.id.in_(chunk))
        ):
            names[pid] = display_name(family, given)
    service_ids = sorted({r.service_id for r in referrals})
    for chunk in _chunks(service_ids):
        services.update(
            (sv.id, sv) for sv in session.scalars(select(Service).where(Service.id.in_(chunk)))
        )
    out = []
    for r in referrals:
        service = services[r.service_id]
        changes = _chained(history[r.id])
        sent = [c.changed_at for c in changes if c.to_status == "sent"]
        warnings = tuple(
            f"Another open referral to {service.name} exists for this patient "
            f"({STATUS_LABELS[o.status]}, made {to_local(o.created_at):%d/%m/%Y})."
            for o in open_pairs[(r.patient_id, r.service_id)]
            if o.id != r.id
        )
        out.append(
            ReferralView(
                id=r.id,
                patient_id=r.patient_id,
                patient_name=names[r.patient_id],
                service_id=r.service_id,
                service_name=service.name,
                service_kind=service.kind,
                status=r.status,
                reason=r.reason,
                consent_given=r.consent_given,
                consent_recorded_at=r.consent_recorded_at,
                created_at=r.created_at,
                created_by_id=r.created_by_id,
                status_changed_at=r.status_changed_at,
                sent_at=sent[-1] if sent else None,
                working_days_waiting=working_days_between(sent[-1], now)
                if sent and r.status in AWAITING_REPLY
                else None,
                allowed_next=TRANSITIONS[r.status],
                history=tuple(
                    StatusChangeView(
                        c.from_status, c.to_status, c.changed_at, c.note, c.changed_by_id
                    )
                    for c in changes
                ),
                warnings=warnings,
            )
        )
    return out


def get_referral(session: Session, *, referral_id: str, now: datetime) -> ReferralView:
    return _views(session, [_require(session, referral_id)], now)[0]


def _require(session: Session, referral_id: str) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFoundError(f"No referral with id {referral_id}.")
    return referral


def _record(
    session: Session,
    referral: Referral,
    to_status: str,
    now: datetime,
    note: str | None,
    changed_by_id: str | None,
) -> None:
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=None if to_status == "draft" else referral.status,
            to_status=to_status,
            changed_at=now,
            note=clean_text(note, "note"),
            changed_by_id=changed_by_id,
        )
    )
    referral.status, referral.status_changed_at = to_status, now


def make_referral(
    session: Session,
    *,
    patient_id: str,
    service_id: str,
    reason: str,
    consent_given: bool,
    now: datetime,
    created_by_id: str | None = None,
    send: bool = False,
) -> ReferralView:
    """A new referral (a draft, or sent at once with ``send``). Refused without the patient's
    consent or a reason; a second open referral to the same service is only warned about."""
    patient = require_patient(session, patient_id)
    service = require_service(session, service_id)
    if not consent_given:
        raise ValidationError(
            "The patient's consent must be recorded before a referral is made.",
            field="consent_given",
        )
    why = clean_text(reason, "reason for the referral", required=True) or ""
    if patient.date_of_death is not None:
        raise ConflictError("This patient's death is recorded; no referral can be made.")
    if not service.active:
        raise ConflictError(f"{service.name} is no longer active in the directory.")
    if created_by_id is not None:
        require_active_coordinator(session, created_by_id)
    referral = Referral(
        patient_id=patient_id,
        service_id=service_id,
        status="draft",
        reason=why,
        consent_given=True,
        consent_recorded_at=now,
        created_at=now,
        status_changed_at=now,
        created_by_id=created_by_id,
    )
    session.add(referral)
    session.flush()
    _record(session, referral, "draft", now, None, created_by_id)
    if send:
        _record(session, referral, "sent", now, None, created_by_id)
    session.flush()
    return get_referral(session, referral_id=referral.id, now=now)


def transition_referral(
    session: Session,
    *,
    referral_id: str,
    to_status: str,
    now: datetime,
    note: str | None = None,
    changed_by_id: str | None = None,
) -> ReferralView:
    """Move a referral on; only the legal moves in ``TRANSITIONS`` are accepted."""
    referral = _require(session, referral_id)
    if to_status not in REFERRAL_STATUSES:
        raise ValidationError(
            f"{to_status!r} is not a referral status; expected one of "
            f"{', '.join(REFERRAL_STATUSES)}.",
            field="to_status",
        )
    allowed = TRANSITIONS[referral.status]
    if to_status not in allowed:
        current, wanted = STATUS_LABELS[referral.status], STATUS_LABELS[to_status]
        nexts = ", ".join(STATUS_LABELS[s] for s in allowed) or "none, it is closed"
        raise ConflictError(
            f"A {current} referral cannot be marked {wanted}; allowed next: {nexts}."
        )
    if changed_by_id is not None:
        require_active_coordinator(session, changed_by_id)
    leaving = referral.status
    _record(session, referral, to_status, now, note, changed_by_id)
    if leaving == "sent":
        close_tasks(
            session,
            kind="referral_chase",
            source_table="referrals",
            source_id=referral.id,
            now=now,
            status="cancelled" if to_status == "cancelled" else "done",
        )
    session.flush()
    return get_referral(session, referral_id=referral.id, now=now)


def raise_chase_tasks(session: Session, *, now: datetime, working_days: int = 5) -> list[TaskView]:
    """A referral_chase task for every sent referral with no reply after ``working_days``
    working days since it was sent (or since the last chase was done). Idempotent: no second
    task while one is open. Returns the tasks created."""
    open_chases = set(
        session.scalars(
            select(Task.source_id).where(Task.kind == "referral_chase", Task.status == "open")
        )
    )
    last_done = dict(
        session.execute(
            select(Task.source_id, func.max(Task.completed_at))
            .where(Task.kind == "referral_chase", Task.status == "done")
            .group_by(Task.source_id)
        ).all()
    )
    created: list[TaskView] = []
    rows = session.execute(
        select(Referral, Patient, Service)
        .join(Patient, Patient.id == Referral.patient_id)
        .join(Service, Service.id == Referral.service_id)
        .where(Referral.status == "sent")
        .order_by(Referral.status_changed_at)
    ).all()
    for referral, patient, service in rows:
        if referral.id in open_chases:
            continue
        since = max(referral.status_changed_at, last_done.get(referral.id) or referral.created_at)
        due = add_working_days(since, working_days)
        if due > now:
            continue
        view, _ = ensure_task(
            session,
            kind="referral_chase",
            source_table="referrals",
            source_id=referral.id,
            title=f"Chase referral to {service.name}",
            due_at=due,
            now=now,
            patient_id=patient.id,
            assigned_to_id=patient.coordinator_id or referral.created_by_id,
            notes=f"No reply {working_days} working days after sending.",
        )
        created.append(view)
    return created


def referrals_for_patient(
    session: Session, *, patient_id: str, now: datetime
) -> list[ReferralView]:
    """Every referral of the patient, newest first."""
    require_patient(session, patient_id)
    found = session.scalars(
        select(Referral)
        .where(Referral.patient_id == patient_id)
        .order_by(Referral.created_at.desc(), Referral.id)
    ).all()
    return _views(session, found, now)


def referrals_awaiting_reply(
    session: Session, *, now: datetime, coordinator_id: str | None = None
) -> list[ReferralView]:
    """Referrals sent and not yet answered (sent, acknowledged, no response), longest
    waiting first; optionally only those of one coordinator's patients."""
    stmt = select(Referral).where(Referral.status.in_(AWAITING_REPLY))
    if coordinator_id is not None:
        stmt = stmt.join(Patient, Patient.id == Referral.patient_id).where(
            Patient.coordinator_id == coordinator_id
        )
    found = session.scalars(stmt).all()
    views = _views(session, found, now)
    return sorted(views, key=lambda v: (v.sent_at or v.status_changed_at, v.id))
