"""Carers for demo patients: about three in ten patients have one; a few carers look after
two patients (a daughter caring for both parents); young carers; carer's assessments in every
state, with a ``carers_assessment`` task from the day the carer is identified."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.services import demo_vocab as vocab
from app.services.demo_patients import Person
from app.services.demo_text import carer_needs
from app.services.demo_world import World
from app.services.tasks import local_due

CARER_SHARE = 0.30
TITLE = "Offer a carer's assessment"
_OLDER = (
    ("spouse", 35),
    ("daughter", 30),
    ("son", 15),
    ("daughter-in-law", 5),
    ("neighbour", 5),
    ("friend", 3),
    ("sister", 3),
    ("grandchild", 4),
)
_YOUNGER = (("spouse", 45), ("child", 25), ("mother", 20), ("friend", 10))
_PAIRABLE = ("daughter", "son", "daughter-in-law", "neighbour", "friend")


@dataclass
class _Link:
    patient: Person
    relationship: str
    lives_with: bool


@dataclass
class CarerPlan:
    id: str
    given: str
    family: str
    young: bool
    links: list[_Link] = field(default_factory=list)


def plan_carers(w: World, people: list[Person]) -> list[CarerPlan]:
    """Choose carers for some of ``people`` and fill in who looks after whom (before any
    notes are written, so notes can name the carer)."""
    rng = w.rng
    plans: list[CarerPlan] = []
    free = [p for p in people if p.age >= 65]
    for p in people:
        if p.carer is not None or rng.random() >= CARER_SHARE:
            continue
        plan = _carer_for(w, p)
        plans.append(plan)
        link = plan.links[0]
        if link.relationship.lower() in _PAIRABLE and (w.carer_pair_due or rng.random() < 0.15):
            partner = next(
                (
                    q
                    for q in free
                    if q is not p and q.carer is None and q.team is p.team and q.group == p.group
                ),
                None,
            )
            if partner is not None:
                if link.relationship.lower() in ("daughter", "son", "daughter-in-law"):
                    partner.family, partner.postcode = p.family, p.postcode
                    p.lives_alone = partner.lives_alone = False
                w.carer_pair_due = False
                plan.links.append(_Link(partner, link.relationship, False))
                _describe(partner, plan, link.relationship)
                free.remove(partner)
    return plans


def _carer_for(w: World, p: Person) -> CarerPlan:
    rng = w.rng
    choices = _YOUNGER if p.age < 65 else _OLDER
    kind = rng.choices([k for k, _ in choices], weights=[x for _, x in choices])[0]
    if w.young_carer_due and p.age >= 65:
        kind, w.young_carer_due = "grandchild", False
    group = vocab.NAME_GROUPS[p.group]
    sex = rng.choice(("female", "male"))
    family = p.family
    young = False
    lives_with = False
    if kind == "spouse":
        sex = {"female": "male", "male": "female"}.get(p.sex, sex)
        older = p.age >= 65
        given = rng.choice(
            (group.older_men if older else group.younger_men)
            if sex == "male"
            else (group.older_women if older else group.younger_women)
        )
        relationship = {"male": "Husband", "female": "Wife"}[sex]
        if p.age < 65 and rng.random() < 0.3:
            relationship = "Partner"
            family = rng.choice(group.family)
        lives_with = True
    elif kind in ("grandchild", "child"):
        young = True
        given = rng.choice(vocab.YOUNG_CARER_GIVEN[sex])
        relationship = (
            {"female": "Granddaughter", "male": "Grandson"}[sex]
            if kind == "grandchild"
            else {"female": "Daughter", "male": "Son"}[sex]
        )
        lives_with = kind == "child" or rng.random() < 0.5
    elif kind in ("neighbour", "friend"):
        given = rng.choice(vocab.CARER_CHILD_GIVEN[sex])
        family = rng.choice(group.family)
        relationship = kind.capitalize()
    else:
        sex = {"daughter": "female", "daughter-in-law": "female", "son": "male"}.get(kind, sex)
        if kind == "mother" or kind == "sister":
            sex = "female"
            given = rng.choice(group.older_women)
        else:
            given = rng.choice(vocab.CARER_CHILD_GIVEN[sex])
        if kind == "daughter-in-law" or rng.random() < 0.35:
            family = rng.choice(group.family)
        relationship = kind.capitalize()
        lives_with = kind == "mother" or rng.random() < 0.2
    plan = CarerPlan(w.uid(), given, family, young, [_Link(p, relationship, lives_with)])
    if lives_with:
        p.lives_alone = False
    _describe(p, plan, relationship)
    return plan


def _describe(p: Person, plan: CarerPlan, relationship: str) -> None:
    p.carer = f"{relationship.lower()} {plan.given}"
    p.carer_owner = f"{relationship} ({plan.given})"
    p.carer_young = plan.young


def write_carers(w: World, plans: list[CarerPlan]) -> None:
    rng = w.rng
    for plan in plans:
        first = plan.links[0].patient
        identified = w.between(
            first.active_from, min(first.active_to, first.active_from + timedelta(days=60))
        )
        status, dates = _assessment(w, identified.date(), first.active_to.date())
        if status in w.carer_states_due[:1]:
            w.carer_states_due.pop(0)
        together = plan.links[0].lives_with
        w.sink.add(
            "carers",
            {
                "id": plan.id,
                "family_name": plan.family,
                "given_name": plan.given,
                "phone": vocab.mobile(rng) if rng.random() < 0.8 else vocab.landline(rng),
                "postcode": first.postcode
                if together
                else vocab.postcode(rng, first.practice.locality),
                "young_carer": plan.young,
                "needs": carer_needs(rng, plan.young),
                "assessment_status": status,
                "assessment_offered_on": dates.get("offered"),
                "assessment_accepted_on": dates.get("accepted"),
                "assessment_declined_on": dates.get("declined"),
                "assessment_completed_on": dates.get("completed"),
            },
        )
        for i, link in enumerate(plan.links):
            w.sink.add(
                "carer_links",
                {
                    "id": w.uid(),
                    "carer_id": plan.id,
                    "patient_id": link.patient.id,
                    "relationship": link.relationship,
                    "lives_with": link.lives_with,
                    "main_carer": i == 0 or rng.random() < 0.7,
                    "active": link.patient.active_now,
                },
            )
        _write_task(w, plan, first, identified, dates.get("offered"))


def _assessment(w: World, identified: date, until: date) -> tuple[str, dict[str, date]]:
    """A carer's assessment state and its dates, none after ``until`` or today."""
    rng = w.rng
    last = min(until, w.today - timedelta(days=1))
    wanted = rng.choices(
        ("not_offered", "offered", "accepted", "declined", "completed"),
        weights=(22, 18, 15, 15, 30),
    )[0]
    if w.carer_states_due:
        wanted = w.carer_states_due[0]
    dates: dict[str, date] = {}
    if wanted == "not_offered":
        return "not_offered", dates
    offered = identified + timedelta(days=rng.randrange(2, 30))
    if offered > last:
        return "not_offered", dates
    dates["offered"] = offered
    if wanted == "offered":
        return "offered", dates
    if wanted == "declined":
        declined = offered + timedelta(days=rng.randrange(0, 14))
        if declined > last:
            return "offered", dates
        dates["declined"] = declined
        return "declined", dates
    accepted = offered + timedelta(days=rng.randrange(1, 21))
    if accepted > last:
        return "offered", dates
    dates["accepted"] = accepted
    completed = accepted + timedelta(days=rng.randrange(14, 70))
    if wanted == "accepted" or completed > last:
        return "accepted", dates
    dates["completed"] = completed
    return "completed", dates


def _write_task(
    w: World, plan: CarerPlan, p: Person, identified: datetime, offered: date | None
) -> None:
    status: str = "open"
    completed: datetime | None = None
    if offered is not None:
        status, completed = "done", w.work_time(offered)
    elif not p.active_now:
        status, completed = "cancelled", p.active_to
    w.sink.add(
        "tasks",
        {
            "id": w.uid(),
            "kind": "carers_assessment",
            "title": TITLE,
            "patient_id": p.id,
            "assigned_to_id": p.staff.id,
            "due_at": local_due(identified.date() + timedelta(days=28)),
            "status": status,
            "completed_at": None if completed is None else max(completed, identified),
            "source_table": "carers",
            "source_id": plan.id,
            "notes": f"{plan.given} {plan.family} was identified as a carer.",
            "created_at": identified,
        },
    )
