"""Referrals of demo patients into the seeded service directory, in every status, each with
the dated status history the referral service would have written (draft -> sent ->
acknowledged -> accepted | declined | no response -> completed, or cancelled) and the
``referral_chase`` tasks raised after five working days without a reply."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise

from app.core.reference import ServiceSeed, load_service_directory
from app.models.referral import REFERRAL_STATUSES
from app.services import demo_notes as notes
from app.services.demo_patients import CITY_CCG, Person
from app.services.demo_world import World
from app.services.reference import seeded_service_id
from app.services.referrals import add_working_days

CHASE_AFTER_WORKING_DAYS = 5
_KIND_WEIGHTS = {
    "LAC": 16,
    "FIRST_CONTACT_PLUS": 12,
    "BEFRIENDING": 10,
    "SOCIAL_PRESCRIBING": 8,
    "ADULT_SOCIAL_CARE": 12,
    "COMMUNITY_NURSING": 8,
    "HOME_FIRST": 6,
    "THERAPY": 10,
    "MENTAL_HEALTH": 5,
    "CARERS_SUPPORT": 7,
    "OTHER": 6,
}
_OPEN_WEIGHTS = {
    "draft": 4,
    "sent": 9,
    "acknowledged": 8,
    "accepted": 18,
    "declined": 8,
    "no_response": 6,
    "completed": 38,
    "cancelled": 9,
}
_CLOSED_WEIGHTS = {"completed": 60, "declined": 20, "cancelled": 20}
# How recent the last change of a referral still in this status is (days before --today).
_RECENT_DAYS = {"draft": 8, "sent": 14, "acknowledged": 30, "no_response": 40, "accepted": 60}


@cache
def _services_by_kind() -> dict[str, list[ServiceSeed]]:
    out: dict[str, list[ServiceSeed]] = defaultdict(list)
    for s in load_service_directory():
        out[s.kind].append(s)
    return dict(out)


def _service(w: World, p: Person) -> ServiceSeed:
    kinds = [k for k in _KIND_WEIGHTS if p.carer or k != "CARERS_SUPPORT"]
    kind = w.rng.choices(kinds, weights=[_KIND_WEIGHTS[k] for k in kinds])[0]
    services = _services_by_kind()
    locality = p.practice.locality
    if kind == "LAC":
        local = [s for s in services["LAC"] if s.locality == locality]
        if local:
            return local[0]
        kind = "SOCIAL_PRESCRIBING"
    if kind == "ADULT_SOCIAL_CARE":
        code = "asc-leicestershire"
        if p.practice.ccg_code == CITY_CCG:
            code = "asc-leicester-city"
        elif p.practice.sub_locality == "Rutland":
            code = "asc-rutland"
        return next(s for s in services[kind] if s.code == code)
    if kind == "CARERS_SUPPORT":
        code = "young-carers-support" if p.carer_young else "carers-support"
        return next(s for s in services[kind] if s.code == code)
    return w.rng.choice([s for s in services[kind] if s.locality in (None, locality)])


def _path(w: World, final: str) -> list[str]:
    rng = w.rng
    if final in ("draft", "sent", "acknowledged", "no_response"):
        return {
            "draft": ["draft"],
            "sent": ["draft", "sent"],
            "acknowledged": ["draft", "sent", "acknowledged"],
            "no_response": ["draft", "sent", "no_response"],
        }[final]
    if final == "cancelled":
        path = ["draft"]
        if rng.random() < 0.7:
            path.append("sent")
            if rng.random() < 0.3:
                path.append("acknowledged")
        return [*path, "cancelled"]
    path = ["draft", "sent"]
    if rng.random() < (0.5 if final == "declined" else 0.7):
        path.append("acknowledged")
    if final == "declined":
        return [*path, "declined"]
    path.append("accepted")
    return [*path, "completed"] if final == "completed" else path


def _gap(w: World, before: str, after: str, response_days: int) -> float:
    """Calendar days between two status changes."""
    u = w.rng.uniform
    if before == "draft" and after == "sent":
        return 0.0 if w.rng.random() < 0.7 else u(0.5, 3)
    if after == "cancelled":
        return u(1, 14)
    if after == "acknowledged":
        return u(0.2, response_days + 3)
    if after == "no_response":
        return u(12, 21)
    if after == "completed":
        return u(14, 90)
    return u(1, 12) if before == "acknowledged" else u(1, response_days + 6)


def write_referrals(w: World, p: Person) -> None:
    years = (p.active_to - p.active_from).total_seconds() / (365 * 86400)
    count = min(5, w.poisson((0.6 + 1.4 * p.severity) * max(years, 0.05)))
    used: set[str] = set()
    for _ in range(count):
        service = _service(w, p)
        if service.code in used:
            continue
        if _write_one(w, p, service):
            used.add(service.code)


def _final_status(w: World, p: Person) -> str:
    if p.active_now and w.referral_statuses_due:
        return w.referral_statuses_due[0]
    weights = _OPEN_WEIGHTS if p.active_now else _CLOSED_WEIGHTS
    return w.rng.choices(list(weights), weights=list(weights.values()))[0]


def _write_one(w: World, p: Person, service: ServiceSeed) -> bool:
    rng = w.rng
    final = _final_status(w, p)
    path = _path(w, final)
    gaps = [_gap(w, a, b, service.response_days) for a, b in pairwise(path)]
    span = timedelta(days=sum(gaps) + 3 * len(gaps))
    earliest = p.active_from + timedelta(days=1)
    if final in _RECENT_DAYS:
        created = w.as_of - timedelta(days=rng.uniform(0.2, _RECENT_DAYS[final])) - span
        created = max(created, earliest)
    else:
        latest = p.active_to - span - timedelta(days=3)
        if latest <= earliest:
            return False
        created = w.between(earliest, latest)
    end = min(w.as_of, p.active_to)
    created = w.pick_work_time(created, created + timedelta(days=4), saturday=False) or created
    times = [created]
    for g in gaps:
        if g == 0.0:
            times.append(times[-1])
            continue
        start = times[-1] + timedelta(days=g)
        times.append(w.pick_work_time(start, start + timedelta(days=3), saturday=False) or start)
    if times[-1] >= end:
        return False
    if w.referral_statuses_due and final == w.referral_statuses_due[0]:
        w.referral_statuses_due.pop(0)
    referral_id = w.uid()
    w.sink.add(
        "referrals",
        {
            "id": referral_id,
            "patient_id": p.id,
            "service_id": seeded_service_id(service.code),
            "status": final,
            "reason": notes.referral_reason(rng, service.kind, p.who),
            "consent_given": True,
            "consent_recorded_at": created,
            "created_at": created,
            "status_changed_at": times[-1],
            "created_by_id": p.staff.id,
        },
    )
    previous: str | None = None
    for status, when in zip(path, times, strict=True):
        w.sink.add(
            "referral_status_changes",
            {
                "id": w.uid(),
                "referral_id": referral_id,
                "from_status": previous,
                "to_status": status,
                "changed_at": when,
                "note": notes.status_note(rng, status),
                "changed_by_id": p.staff.id,
            },
        )
        previous = status
    if "sent" in path:
        i = path.index("sent")
        left = (path[i + 1], times[i + 1]) if i + 1 < len(path) else None
        _chase(w, p, referral_id, service, times[i], left)
    return True


def _chase(
    w: World,
    p: Person,
    referral_id: str,
    service: ServiceSeed,
    sent_at: datetime,
    left: tuple[str, datetime] | None,
) -> None:
    """A chase-up task when the referral sat unanswered for five working days."""
    due = add_working_days(sent_at, CHASE_AFTER_WORKING_DAYS)
    if due > (left[1] if left else w.as_of):
        return
    status, completed = "open", None
    if left is not None:
        status = "cancelled" if left[0] == "cancelled" else "done"
        completed = left[1]
    w.sink.add(
        "tasks",
        {
            "id": w.uid(),
            "kind": "referral_chase",
            "title": f"Chase referral to {service.name}",
            "patient_id": p.id,
            "assigned_to_id": p.staff.id,
            "due_at": due,
            "status": status,
            "completed_at": completed,
            "source_table": "referrals",
            "source_id": referral_id,
            "notes": f"No reply {CHASE_AFTER_WORKING_DAYS} working days after sending.",
            "created_at": due,
        },
    )


assert set(_OPEN_WEIGHTS) == set(REFERRAL_STATUSES)
