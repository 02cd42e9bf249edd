"""Personalised care for demo patients: versioned needs assessments with all eleven domains,
agreed actions, review tasks and the care & support plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.models.assessment import NEED_DOMAINS, NEED_LEVELS
from app.services import demo_text as text
from app.services.assessments import REVIEW_TITLE
from app.services.demo_patients import Person
from app.services.demo_world import World
from app.services.tasks import local_due

_NO_CARER_NOTES = ("No informal carer.", "No carer involved; manages with the care agency.")


@dataclass
class _Action:
    description: str
    owner: str
    due: date
    done: bool = False


@dataclass
class _Version:
    id: str
    number: int
    started: datetime
    completed: datetime | None
    review: date | None
    levels: dict[str, str]
    notes: dict[str, str | None]
    actions: list[_Action]


def _level(score: float) -> str:
    if score < 0.25:
        return "none"
    if score < 0.5:
        return "low"
    if score < 0.75:
        return "moderate"
    return "high"


def _first_levels(w: World, p: Person) -> dict[str, str]:
    s, g = p.severity, w.rng.gauss
    base = {
        "physical_health": 0.25 + 0.7 * s,
        "medication": 0.1 + 0.06 * p.ltc_count,
        "mobility_falls": 1.5 * p.efi,
        "personal_care": 1.3 * p.efi - 0.05,
        "nutrition": 0.15 + 0.4 * s,
        "housing": 0.12,
        "finances_benefits": 0.22,
        "loneliness_social_contact": 0.5 if p.lives_alone else 0.12,
        "mental_wellbeing": 0.3,
        "carer_situation": 0.5 + 0.3 * s if p.carer else 0.0,
        "safeguarding": -0.05,
    }
    levels = {d: _level(base[d] + g(0, 0.18)) for d in NEED_DOMAINS}
    if not p.carer:
        levels["carer_situation"] = "none"
    return levels


def _notes(w: World, p: Person, levels: dict[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for d in NEED_DOMAINS:
        if d == "carer_situation" and not p.carer:
            out[d] = w.rng.choice(_NO_CARER_NOTES)
        else:
            out[d] = text.domain_note(w.rng, d, levels[d], p.who)
    return out


def _evolve(w: World, p: Person, v: _Version) -> tuple[dict[str, str], dict[str, str | None]]:
    """The next version's ratings: most domains unchanged, some better, a few worse."""
    levels, notes = dict(v.levels), dict(v.notes)
    for d in NEED_DOMAINS:
        if w.rng.random() < 0.3 and not (d == "carer_situation" and not p.carer):
            i = NEED_LEVELS.index(levels[d]) + (-1 if w.rng.random() < 0.6 else 1)
            levels[d] = NEED_LEVELS[max(0, min(len(NEED_LEVELS) - 1, i))]
            notes[d] = text.domain_note(w.rng, d, levels[d], p.who)
    return levels, notes


def _new_actions(w: World, p: Person, levels: dict[str, str], on: date, n: int) -> list[_Action]:
    order = {"high": 0, "moderate": 1, "low": 2, "none": 3}
    domains = sorted(NEED_DOMAINS, key=lambda d: (order[levels[d]], w.rng.random()))
    out: list[_Action] = []
    for d in domains[:n]:
        if levels[d] == "none":
            break
        description, owner = text.agreed_action(w.rng, d, p.staff.name, p.carer_owner)
        if all(a.description != description for a in out):
            due = on + timedelta(days=w.rng.randrange(14, 75))
            out.append(_Action(description, owner, due))
    return out


def write_assessments(w: World, p: Person) -> None:
    """Completed versions (reviewed every three or six months), perhaps a draft, the review
    tasks and the care plan."""
    rng = w.rng
    if p.level != "Enhanced" and rng.random() < 0.85:
        return  # the full personalised assessment is part of the Enhanced offer
    first = p.active_from + timedelta(days=rng.uniform(5, 35))
    if first >= p.active_to - timedelta(days=1):
        if p.active_now and rng.random() < 0.6:
            _write_draft(w, p, None, max(p.active_from, w.as_of - timedelta(days=10)))
        return
    if rng.random() < 0.07:  # not assessed yet: declined, or waiting
        return
    levels = _first_levels(w, p)
    notes = _notes(w, p, levels)
    versions: list[_Version] = []
    carried: list[_Action] = []
    t = first
    while True:
        started = max(p.active_from, t - timedelta(days=rng.uniform(0.1, 7)))
        if versions and versions[-1].completed:
            started = max(started, versions[-1].completed + timedelta(hours=1))
        completed = w.pick_work_time(t, t + timedelta(days=5), saturday=False) or t
        if completed >= p.active_to:
            break
        months = 3 if p.level == "Enhanced" and rng.random() < 0.3 else 6
        review = completed.date() + timedelta(days=months * 30 + rng.randrange(-5, 11))
        actions = [_Action(a.description, a.owner, a.due) for a in carried]
        fresh = rng.choice((2, 3, 3, 4)) if not versions else rng.choice((1, 1, 2))
        actions += _new_actions(w, p, levels, completed.date(), fresh)
        v = _Version(w.uid(), len(versions) + 1, started, completed, review, levels, notes, actions)
        versions.append(v)
        nxt = w.at(review, 600) + timedelta(days=rng.randrange(-14, 22))
        if nxt < p.active_to and len(versions) < 3 and rng.random() < 0.4:
            nxt = max(nxt, completed + timedelta(days=20))
            t = nxt
            levels, notes = _evolve(w, p, v)
        else:
            nxt = p.active_to
        for a in v.actions:
            a.done = a.due < nxt.date() and rng.random() < 0.75
        carried = [a for a in v.actions if not a.done]
        if nxt >= p.active_to:
            break
    if not versions:
        return
    for i, v in enumerate(versions):
        _write_version(w, p, v, what=None, goals=None)
        _write_review_task(w, p, v, versions[i + 1].completed if i + 1 < len(versions) else None)
    if p.active_now and rng.random() < 0.1:
        last = versions[-1]
        assert last.completed is not None
        _write_draft(w, p, last, max(last.completed, w.as_of - timedelta(days=20)))
    _write_care_plan(w, p, versions[-1])


def _write_version(
    w: World, p: Person, v: _Version, *, what: str | None, goals: str | None
) -> None:
    who = p.who
    w.sink.add(
        "needs_assessments",
        {
            "id": v.id,
            "patient_id": p.id,
            "version": v.number,
            "status": "completed" if v.completed else "draft",
            "assessor_id": p.staff.id,
            "started_at": v.started,
            "completed_at": v.completed,
            "what_matters": what or _what_matters(w, p, who),
            "goals": goals or _goals(w, p, who),
            "review_date": v.review,
        },
    )
    for d in NEED_DOMAINS:
        if d not in v.levels:
            continue
        w.sink.add(
            "needs_domain_entries",
            {
                "id": w.uid(),
                "assessment_id": v.id,
                "domain": d,
                "need_level": v.levels[d],
                "notes": v.notes[d],
            },
        )
    for a in v.actions:
        w.sink.add(
            "agreed_actions",
            {
                "id": w.uid(),
                "assessment_id": v.id,
                "description": a.description,
                "owner": a.owner,
                "due_date": a.due,
                "done": a.done,
            },
        )


def _what_matters(w: World, p: Person, who: text.Who) -> str:
    if p.what_matters is None:
        p.what_matters = text.what_matters(w.rng, who)
    return p.what_matters


def _goals(w: World, p: Person, who: text.Who) -> str:
    if p.goals is None:
        p.goals = text.goals(w.rng, who)
    return p.goals


def _write_draft(w: World, p: Person, last: _Version | None, earliest: datetime) -> None:
    """A draft in progress: the next version copied from the last one, or a first
    assessment with some domains rated."""
    rng = w.rng
    started = w.pick_work_time(earliest, w.as_of, eager=0.3) or earliest
    if last is not None:
        levels, notes = dict(last.levels), dict(last.notes)
        actions = [_Action(a.description, a.owner, a.due) for a in last.actions if not a.done]
    else:
        full = _first_levels(w, p)
        rated = rng.sample(NEED_DOMAINS, rng.randrange(3, 10))
        levels = {d: full[d] for d in rated}
        notes = {d: n for d, n in _notes(w, p, full).items() if d in rated}
        actions = []
    number = last.number + 1 if last else 1
    v = _Version(w.uid(), number, started, None, None, levels, notes, actions)
    _write_version(w, p, v, what=None, goals=None)


def _write_review_task(w: World, p: Person, v: _Version, next_done: datetime | None) -> None:
    """Done when the next version was completed; cancelled when the episode closed; for the
    latest version past its date, often done as a review without changes, otherwise open."""
    assert v.completed is not None and v.review is not None
    due = local_due(v.review)
    status: str = "open"
    completed: datetime | None = None
    note = None
    if next_done is not None:
        status, completed = "done", next_done
    elif not p.active_now:
        status, completed = "cancelled", p.active_to
    elif due < w.as_of and w.rng.random() < 0.7:
        reviewed = w.work_time(v.review + timedelta(days=w.rng.randrange(-10, 12)))
        status, completed = "done", min(w.as_of, max(v.completed, reviewed))
        note = "Reviewed with the patient; no change to the plan."
    w.sink.add(
        "tasks",
        {
            "id": w.uid(),
            "kind": "assessment_review",
            "title": REVIEW_TITLE,
            "patient_id": p.id,
            "assigned_to_id": p.staff.id,
            "due_at": due,
            "status": status,
            "completed_at": completed,
            "source_table": "needs_assessments",
            "source_id": v.id,
            "notes": note,
            "created_at": v.completed,
        },
    )


def _write_care_plan(w: World, p: Person, v: _Version) -> None:
    rng = w.rng
    if rng.random() > 0.85 or v.completed is None:
        return
    agreed = min(w.as_of, p.active_to, v.completed + timedelta(days=rng.uniform(0, 5)))
    texts = text.care_plan_texts(rng, p.who, _goals(w, p, p.who))
    w.sink.add(
        "care_plans",
        {
            "id": w.uid(),
            "patient_id": p.id,
            "assessment_id": v.id,
            "person_involved": rng.random() < 0.95,
            "who_involved": texts["who_involved"],
            "outcomes_agreed": texts["outcomes_agreed"],
            "contingency_plan": texts["contingency_plan"],
            "shared_with_person": rng.random() < 0.9,
            "shared_with_others": texts["shared_with_others"],
            "agreed_at": agreed,
            "review_date": v.review,
        },
    )
