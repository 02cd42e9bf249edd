"""Fortnightly PCN-level MDT meetings for each demo team over the year, with attendees from
the core team, 4-10 patients discussed in SBAR form and actions (some still open, carried
forward), plus one meeting planned for the coming week with its agenda."""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta

from app.core.timeutil import LONDON
from app.services import demo_notes as notes
from app.services.demo_patients import Person
from app.services.demo_world import Team, World
from app.services.tasks import local_due

FORTNIGHT = timedelta(days=14)
_PLANNED_ITEMS = 12


class _TeamIndex:
    """A team's patients, with their discharges in time order, for agenda choices."""

    def __init__(self, people: list[Person]) -> None:
        self.people = people
        pairs = sorted(
            ((d.at, i) for i, p in enumerate(people) for d in p.discharges),
            key=lambda x: (x[0], x[1]),
        )
        self.times = [t for t, _ in pairs]
        self.owners = [i for _, i in pairs]
        self.by_risk = sorted(range(len(people)), key=lambda i: -people[i].risk)


def _active_on(p: Person, day: date) -> bool:
    """On the caseload that day (a patient still on it counts for meetings to come)."""
    if p.active_from.astimezone(LONDON).date() > day:
        return False
    return p.active_now or day < p.active_to.astimezone(LONDON).date()


def write_team_mdts(w: World, team: Team, people: list[Person]) -> None:
    index = _TeamIndex(people)
    planned = w.today + timedelta(days=1)
    while planned.weekday() != team.mdt_weekday:
        planned += timedelta(days=1)
    held: list[date] = []
    day = planned - FORTNIGHT
    while day > w.year_start + timedelta(days=7):
        held.append(day)
        day -= FORTNIGHT
    for day in reversed(held):
        _meeting(w, team, index, day, held=True)
    _meeting(w, team, index, planned, held=False)


def _agenda(w: World, index: _TeamIndex, day: date, held: bool) -> list[tuple[Person, str]]:
    """4-10 patients for a held meeting (recent discharges, readmissions, high risk); for the
    planned one, everyone flagged for MDT first."""
    rng = w.rng
    start = w.at(day - FORTNIGHT, 0)
    end = w.at(day, 0)
    scores: dict[int, tuple[float, str]] = {}
    lo = bisect.bisect_left(index.times, start)
    hi = bisect.bisect_left(index.times, end)
    for k in range(lo, hi):
        i = index.owners[k]
        p = index.people[i]
        if not _active_on(p, day):
            continue
        t = index.times[k]
        earlier = [d.at for d in p.discharges if t - timedelta(days=30) <= d.at < t]
        reason = notes.mdt_reason(
            "readmitted" if earlier else "discharge",
            hospital=next(d.hospital for d in p.discharges if d.at == t),
            date=t.astimezone(LONDON).strftime("%d/%m"),
        )
        scores[i] = (3 + (2 if earlier else 0) + p.risk / 100 + rng.uniform(0, 1.5), reason)
    taken = 0
    for i in index.by_risk:
        if taken >= 40:
            break
        p = index.people[i]
        if i in scores or not _active_on(p, day):
            continue
        taken += 1
        scores[i] = (
            p.risk / 100 + rng.uniform(0, 1.5),
            notes.mdt_reason("risk", risk=f"{p.risk:.0f}"),
        )
    if not held:
        for i, p in enumerate(index.people):
            if p.flagged and p.active_now:
                scores[i] = (5 + rng.random(), notes.mdt_reason("flagged"))
    ranked = sorted(scores.items(), key=lambda kv: -kv[1][0])
    size = (
        min(_PLANNED_ITEMS, max(4, sum(1 for _, (s, _r) in ranked if s >= 5)))
        if not held
        else rng.randint(4, 10)
    )
    return [(index.people[i], reason) for i, (_s, reason) in ranked[:size]]


def _meeting(w: World, team: Team, index: _TeamIndex, day: date, *, held: bool) -> None:
    rng = w.rng
    meeting_id = w.uid()
    agenda = _agenda(w, index, day, held)
    absent = [r for r in team.core if r != "GP" and held and rng.random() < 0.15]
    lead = next(s for s in team.staff if s.is_lead)
    present: list[tuple[str, str]] = [("GP", rng.choice(team.core["GP"]))]
    present += [(r, names[0]) for r, names in team.core.items() if r != "GP" and r not in absent]
    coordinators = {lead.name: None, **{p.staff.name: None for p, _ in agenda}}
    present += [("Care Coordinator", name) for name in coordinators]
    venue = "Microsoft Teams"
    if rng.random() < 0.4:
        venue = f"{rng.choice(team.practices).short_name}, meeting room"
    w.sink.add(
        "mdt_meetings",
        {
            "id": meeting_id,
            "meeting_date": day,
            "level": "pcn",
            "practice_code": None,
            "pcn_name": team.pcn_name,
            "venue": venue,
            "status": "held" if held else "planned",
            "notes": notes.meeting_note(rng, absent) if held else None,
            "created_at": min(w.as_of, w.at(day - timedelta(days=10), 600)),
        },
    )
    for role, name in present:
        w.sink.add(
            "mdt_attendees", {"id": w.uid(), "meeting_id": meeting_id, "role": role, "name": name}
        )
    for position, (p, reason) in enumerate(agenda, start=1):
        _item(w, team, meeting_id, position, p, reason, day, held)


def _item(
    w: World,
    team: Team,
    meeting_id: str,
    position: int,
    p: Person,
    reason: str,
    day: date,
    held: bool,
) -> None:
    rng = w.rng
    item_id = w.uid()
    sbar: tuple[str | None, ...] = (None, None, None, None)
    actions: list[tuple[str, str]] = []
    if held:
        last = [d for d in p.discharges if d.at < w.at(day, 0)]
        recent = last[-1] if last else None
        conditions = p.conditions
        listed = (
            ", ".join(conditions[:-1]) + (" and " if len(conditions) > 1 else "") + conditions[-1]
        )
        six_months = [d for d in last if d.at > w.at(day - timedelta(days=182), 0)]
        s, b, a, r, owner_role = notes.sbar(
            rng,
            p.who,
            age=str(p.age),
            hospital=recent.hospital if recent else "hospital",
            date=recent.at.astimezone(LONDON).strftime("%d/%m") if recent else "recently",
            reason=recent.reason if recent else "a fall",
            admissions=notes.admissions_text(max(1, len(six_months))),
            conditions=listed[0].upper() + listed[1:],
            respect="in place" if p.respect else "not yet in place",
            efi=f"{p.efi:.2f}",
        )
        sbar = (s, b, a, r)
        actions.append((r, owner_role))
        if rng.random() < 0.5:
            extra = notes.extra_recommendation(rng, p.who)
            if extra[0] != r:
                actions.append(extra)
    w.sink.add(
        "mdt_items",
        {
            "id": item_id,
            "meeting_id": meeting_id,
            "patient_id": p.id,
            "position": position,
            "reason": reason,
            "situation": sbar[0],
            "background": sbar[1],
            "assessment": sbar[2],
            "recommendation": sbar[3],
        },
    )
    for description, role in actions:
        name = p.staff.name if role == "Care Coordinator" else rng.choice(team.core[role])
        due = day + timedelta(days=rng.randrange(7, 29))
        status, completed = _action_state(w, p, day, due)
        action_id = w.uid()
        w.sink.add(
            "mdt_actions",
            {
                "id": action_id,
                "meeting_id": meeting_id,
                "item_id": item_id,
                "patient_id": p.id,
                "description": description,
                "owner": f"{name} ({role})",
                "due_date": due,
                "status": status,
                "completed_at": completed,
            },
        )
        w.sink.add(
            "tasks",
            {
                "id": w.uid(),
                "kind": "mdt_action",
                "title": f"MDT action: {description}"[:200],
                "patient_id": p.id,
                "assigned_to_id": p.staff.id,
                "due_at": local_due(due),
                "status": {"open": "open", "done": "done", "dropped": "cancelled"}[status],
                "completed_at": completed,
                "source_table": "mdt_actions",
                "source_id": action_id,
                "notes": None,
                "created_at": min(w.as_of, w.at(day, 13 * 60)),
            },
        )


def _action_state(w: World, p: Person, day: date, due: date) -> tuple[str, datetime | None]:
    rng = w.rng
    meeting_end = w.at(day, 13 * 60)
    closed_by = min(w.as_of, p.active_to)
    roll = rng.random()
    if due < w.today - timedelta(days=14):
        status = "done" if roll < 0.9 else "dropped" if roll < 0.95 else "open"
    elif due < w.today:
        status = "done" if roll < 0.6 else "open"
    else:
        status = "done" if roll < 0.3 else "open"
    if status == "open" and not p.active_now:
        status = "dropped"
    if status == "open":
        return "open", None
    finish = w.work_time(due + timedelta(days=rng.randrange(-6, 8)))
    finish = max(meeting_end + timedelta(hours=2), finish)
    if finish >= closed_by:  # not finished by today, or the patient left the caseload first
        return ("open", None) if p.active_now else ("dropped", closed_by)
    return status, finish
