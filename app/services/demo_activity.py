"""A year of hospital activity for a demo patient: admissions, discharges, the 48-hour calls
that follow each discharge and their ``post_discharge_call`` tasks.

The task rules are those of :mod:`app.services.followup`: done at the first contact, cancelled
when, without a contact, the patient was admitted again or died, otherwise open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.timeutil import LONDON
from app.models.admission import CALL_ISSUES, CONTACT_OUTCOMES
from app.services import demo_vocab as vocab
from app.services.demo_patients import Discharge, Person
from app.services.demo_text import call_note
from app.services.demo_world import World
from app.services.followup import TASK_KIND, TASK_SOURCE
from app.services.metrics import FOLLOW_UP_WINDOW

_ISSUE_WEIGHTS = {
    "medication": 30,
    "follow_up_appointment": 20,
    "care_package": 18,
    "equipment": 15,
    "carer_strain": 10,
    "other": 7,
}
assert set(_ISSUE_WEIGHTS) == set(CALL_ISSUES)


@dataclass
class Stay:
    admitted_at: datetime
    discharged_at: datetime | None
    hospital: str
    ward: str
    reason: str


def plan_stays(w: World, p: Person, *, final: str | None) -> list[Stay]:
    """The patient's hospital stays while on the caseload. ``final`` forces the last one:
    "recent" (discharged in the last 30 hours), "overdue" (50-70 hours ago) or "inpatient"
    (still in hospital)."""
    rng = w.rng
    stays: list[Stay] = []
    start = p.active_from
    if p.source == "hospital referral" and p.opened_on >= w.year_start:
        # The discharge that brought the patient to the team, that afternoon.
        discharged = w.at(p.opened_on, rng.randrange(11 * 60, 14 * 60 + 30))
        stays.append(_stay(w, discharged - timedelta(days=_los(w)), discharged))
        start = discharged
    end = p.active_to - timedelta(days=6) if final else p.active_to
    rate = 0.55 + 1.7 * p.severity  # admissions a year
    t = start + timedelta(days=rng.expovariate(rate) * 365)
    while t < end:
        admitted = t.replace(second=0, microsecond=0)
        hospital, ward = vocab.hospital_and_ward(rng)
        los = _los(w, community=hospital in vocab.COMMUNITY_HOSPITALS)
        day = (admitted + timedelta(days=los)).astimezone(LONDON).date()
        discharged = max(w.at(day, rng.randrange(10 * 60, 20 * 60)), admitted + timedelta(hours=5))
        if discharged >= end:
            break
        stays.append(
            Stay(admitted, discharged, hospital, ward, rng.choice(vocab.ADMISSION_REASONS))
        )
        if rng.random() < 0.17:  # back in within 30 days
            gap = min(29.5, 0.4 + rng.expovariate(1 / 8))
        else:
            gap = rng.expovariate(rate) * 365
        t = discharged + timedelta(days=gap)
    if final in ("recent", "overdue"):
        hours = (3, 30) if final == "recent" else (50, 70)
        discharged = w.as_of - timedelta(minutes=rng.randrange(hours[0] * 60, hours[1] * 60))
        discharged = discharged.replace(second=0, microsecond=0)
        stays.append(_stay(w, discharged - timedelta(days=_los(w)), discharged))
    elif final == "inpatient":
        admitted = w.as_of - timedelta(minutes=rng.randrange(20 * 60, 12 * 24 * 60))
        stays.append(_stay(w, admitted, None))
    # Stays never overlap: a forced last stay pushes earlier ones out.
    kept: list[Stay] = []
    for s in stays:
        while kept and (kept[-1].discharged_at or s.admitted_at) >= s.admitted_at:
            kept.pop()
        kept.append(s)
    if p.death is not None and kept and kept[-1].discharged_at and rng.random() < 0.3:
        # Died soon after coming home.
        day = kept[-1].discharged_at.astimezone(LONDON).date() + timedelta(days=1)
        if p.created_at.date() < day <= w.today - timedelta(days=2):
            p.death = p.closed_on = day
            p.active_to = w.at(day, 17 * 60)
    return kept


def _los(w: World, community: bool = False) -> float:
    median = 14.0 if community else 4.0
    return min(35.0, max(0.3, math.exp(w.rng.gauss(math.log(median), 0.7))))


def _stay(w: World, admitted: datetime, discharged: datetime | None) -> Stay:
    admitted = admitted.replace(second=0, microsecond=0)
    hospital, ward = vocab.hospital_and_ward(w.rng, community_share=0.0)
    return Stay(admitted, discharged, hospital, ward, w.rng.choice(vocab.ADMISSION_REASONS))


@dataclass
class _FollowUp:
    first_call: datetime | None
    contact: datetime | None
    excluded_at: datetime | None  # when, without a contact, a readmission or death was known
    still_open: bool


def write_stays(w: World, p: Person, stays: list[Stay]) -> int:
    """Admission rows, then the follow-up of each discharge. Returns the clocks left open."""
    rng = w.rng
    open_clocks = 0
    death_at = w.at(p.death, 12 * 60) if p.death else None
    for i, s in enumerate(stays):
        next_start = stays[i + 1].admitted_at if i + 1 < len(stays) else None
        admission_id = w.uid()
        source = "import" if s.discharged_at is not None and rng.random() < 0.65 else "manual"
        base = s.discharged_at or s.admitted_at
        created = min(w.as_of, base + timedelta(minutes=rng.randrange(20, 6 * 60)))
        fu = None
        if s.discharged_at is not None:
            last = i == len(stays) - 1
            fu = _follow_up(w, p, admission_id, s, next_start, death_at, forced=last)
            open_clocks += fu.still_open
            p.discharges.append(Discharge(admission_id, s.discharged_at, s.hospital, s.reason))
            if fu.first_call is not None:
                created = min(created, fu.first_call - timedelta(minutes=5))
        p.admission_starts.append(s.admitted_at)
        created = max(created, s.admitted_at, p.created_at)
        w.sink.add(
            "admissions",
            {
                "id": admission_id,
                "patient_id": p.id,
                "admitted_at": s.admitted_at,
                "discharged_at": s.discharged_at,
                "hospital": s.hospital,
                "ward": s.ward,
                "discharge_destination": (
                    vocab.discharge_destination(rng) if s.discharged_at is not None else None
                ),
                "source": source,
                "created_at": created,
            },
        )
        if fu is not None and s.discharged_at is not None:
            _write_task(w, p, admission_id, s.discharged_at, s.hospital, fu, created)
    return open_clocks


def _plan(w: World, p: Person, t_d: datetime, forced: bool) -> str:
    """met | late | never (no contact yet) | open (a clock the Today view must show)."""
    rng = w.rng
    if forced and t_d > w.as_of - timedelta(days=3) and p.active_now:
        return "open"
    if not p.active_now or rng.random() < p.staff.diligence + w.week_bias(t_d):
        return "met"  # a patient who has left the caseload was reached before leaving
    recent = t_d > w.as_of - timedelta(days=10)
    if recent and p.active_now and rng.random() < 0.3:
        return "never"
    return "late"


def _follow_up(
    w: World,
    p: Person,
    admission_id: str,
    s: Stay,
    next_start: datetime | None,
    death_at: datetime | None,
    *,
    forced: bool,
) -> _FollowUp:
    """The calls after one discharge."""
    rng = w.rng
    assert s.discharged_at is not None
    t_d = s.discharged_at
    deadline = t_d + FOLLOW_UP_WINDOW
    limit = min(x for x in (next_start, death_at, w.as_of) if x is not None)
    plan = _plan(w, p, t_d, forced)
    known = max(t_d, p.created_at)  # a hospital referral is registered after its discharge
    contact: datetime | None = None
    if plan == "met":
        contact = w.pick_work_time(known + timedelta(minutes=45), deadline, eager=0.65)
        plan = "met" if contact else "late"
    if plan == "late":
        contact = w.pick_work_time(deadline + timedelta(hours=1), deadline + timedelta(days=4))
    if contact is not None and contact >= limit:
        contact = None
    if plan == "open":
        fails = rng.choice((1, 2)) if t_d < w.as_of - FOLLOW_UP_WINDOW else rng.choice((0, 1))
    elif plan == "never":
        fails = rng.choice((1, 2, 3))
    elif plan == "met":
        fails = rng.choices((0, 1, 2), weights=(65, 25, 10))[0]
    else:
        fails = rng.choices((0, 1, 2, 3), weights=(25, 35, 25, 15))[0]
    end = contact - timedelta(minutes=30) if contact else min(limit, deadline + timedelta(days=2))
    calls: list[tuple[datetime, str]] = []
    for _ in range(fails):
        when = w.pick_work_time(known + timedelta(minutes=30), end, eager=0.5)
        if when is None or when >= limit:
            continue
        if all(abs((when - c).total_seconds()) > 1800 for c, _ in calls):
            failed = ("no_answer", "voicemail", "wrong_number")
            calls.append((when, rng.choices(failed, weights=(60, 32, 8))[0]))
    excluded_at: datetime | None = None
    if contact is not None:
        carer_share = 0.3 if p.carer else 0.06
        outcome = "contacted_carer" if rng.random() < carer_share else "contacted_patient"
        if p.carer and rng.random() < 0.04:
            calls.append((contact - timedelta(minutes=10), "declined"))
            outcome = "contacted_carer"
        calls.append((contact, outcome))
    else:
        told = _exclusion_call(w, next_start, death_at, limit)
        if told is not None:
            calls.append(told)
        moments = [x for x in (next_start, death_at, told[0] if told else None) if x is not None]
        if moments:
            excluded_at = max(t_d, min([w.as_of, *moments]))
    calls.sort()
    _write_calls(w, p, admission_id, s, calls)
    return _FollowUp(
        first_call=calls[0][0] if calls else None,
        contact=contact,
        excluded_at=excluded_at,
        still_open=contact is None and excluded_at is None,
    )


def _write_calls(
    w: World, p: Person, admission_id: str, s: Stay, calls: list[tuple[datetime, str]]
) -> None:
    rng = w.rng
    assert s.discharged_at is not None
    day = s.discharged_at.astimezone(LONDON).strftime("%A")
    for when, outcome in calls:
        issues: tuple[str, ...] = ()
        if outcome in CONTACT_OUTCOMES:
            issues = _issues(w, p)
        staff = p.staff
        if rng.random() < 0.1:
            staff = rng.choice(p.team.staff)  # a colleague covering
        note = call_note(rng, outcome, p.who, issues=issues, hospital=s.hospital, day=day)
        w.sink.add(
            "call_attempts",
            {
                "id": w.uid(),
                "admission_id": admission_id,
                "patient_id": p.id,
                "called_at": when,
                "outcome": outcome,
                "issues": ",".join(issues),
                "notes": note,
                "coordinator_id": staff.id,
            },
        )


def _exclusion_call(
    w: World, next_start: datetime | None, death_at: datetime | None, limit: datetime
) -> tuple[datetime, str] | None:
    """The call on which the coordinator learns of a readmission or a death."""
    if next_start is not None and limit == next_start and w.rng.random() < 0.5:
        until = min(next_start + timedelta(days=3), w.as_of)
        when = w.pick_work_time(next_start + timedelta(hours=1), until)
        return (when, "readmitted") if when else None
    if death_at is not None and limit == death_at and w.rng.random() < 0.7:
        when = w.pick_work_time(death_at, min(death_at + timedelta(days=3), w.as_of))
        return (when, "deceased") if when else None
    return None


def _issues(w: World, p: Person) -> tuple[str, ...]:
    rng = w.rng
    count = rng.choices((0, 1, 2, 3), weights=(45, 35, 15, 5))[0]
    kinds = [k for k in _ISSUE_WEIGHTS if p.carer or k != "carer_strain"]
    weights = [_ISSUE_WEIGHTS[k] for k in kinds]
    picked = {rng.choices(kinds, weights=weights)[0] for _ in range(count)}
    return tuple(k for k in CALL_ISSUES if k in picked)


def _write_task(
    w: World,
    p: Person,
    admission_id: str,
    t_d: datetime,
    hospital: str,
    fu: _FollowUp,
    created: datetime,
) -> None:
    """The 48-hour call task, in the state the follow-up service would give it."""
    status, completed = "open", None
    if fu.contact is not None:
        status, completed = "done", fu.contact
    elif fu.excluded_at is not None:
        status, completed = "cancelled", fu.excluded_at
    w.sink.add(
        "tasks",
        {
            "id": w.uid(),
            "kind": TASK_KIND,
            "title": f"48-hour call after discharge from {hospital}",
            "patient_id": p.id,
            "assigned_to_id": p.staff.id,
            "due_at": t_d + FOLLOW_UP_WINDOW,
            "status": status,
            "completed_at": completed,
            "source_table": TASK_SOURCE,
            "source_id": admission_id,
            "notes": None,
            "created_at": created,
        },
    )
