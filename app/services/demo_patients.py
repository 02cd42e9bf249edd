"""Demo patients: demographics and cohort measures, episodes and level history."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.core.reference import Practice
from app.core.validation import random_test_nhs_number
from app.models.patient import REFERRAL_SOURCES
from app.services import demo_notes as notes
from app.services import demo_vocab as vocab
from app.services.demo_text import Who
from app.services.demo_world import Staff, Team, World
from app.services.patients import efi_band

_SOURCE_WEIGHTS = {
    "MDT referral": 0.30,
    "hospital referral": 0.25,
    "risk stratification": 0.20,
    "PCN clinician": 0.12,
    "LPT/ASC frontline staff": 0.08,
    "local intelligence": 0.05,
}
assert set(_SOURCE_WEIGHTS) == set(REFERRAL_SOURCES)
CITY_CCG = "LCCCG"


@dataclass(slots=True)
class Discharge:
    admission_id: str
    at: datetime
    hospital: str
    reason: str


@dataclass(slots=True)
class Person:
    """Everything later steps need to know about one demo patient."""

    id: str
    team: Team
    staff: Staff
    practice: Practice
    group: int
    sex: str
    given: str
    family: str
    age: int
    dob: date
    severity: float
    ltc_count: int
    efi: float
    predicted_cost: float
    risk: float
    conditions: tuple[str, ...]
    source: str
    level: str  # level when the episode opened
    opened_on: date
    created_at: datetime
    active_from: datetime  # first moment the team works with the patient in CareCoord
    active_to: datetime  # the start of --today, or when the episode closed / the patient died
    closed_on: date | None = None
    close_reason: str | None = None
    death: date | None = None
    lives_alone: bool = True
    carer: str | None = None  # "daughter Karen", for notes
    carer_owner: str = "Patient"
    carer_young: bool = False
    postcode: str = ""
    flagged: bool = False
    respect: bool = False
    what_matters: str | None = None
    goals: str | None = None
    who_cache: Who | None = None
    discharges: list[Discharge] = field(default_factory=list)
    admission_starts: list[datetime] = field(default_factory=list)

    @property
    def active_now(self) -> bool:
        return self.closed_on is None and self.death is None

    @property
    def who(self) -> Who:
        """The person as notes speak of them (built once carers are known)."""
        if self.who_cache is None or self.who_cache.carer != self.carer:
            self.who_cache = Who(self.given, self.sex, self.carer, self.lives_alone)
        return self.who_cache


def _choose(w: World, weights: dict[str, float]) -> str:
    return w.rng.choices(list(weights), weights=list(weights.values()))[0]


def make_person(w: World, team: Team, practice: Practice, *, keep_open: bool = False) -> Person:
    """A synthetic patient of ``practice`` (not yet written); ``keep_open``: still on the
    caseload at the end of the year."""
    rng = w.rng
    younger = rng.random() < 0.13
    age = rng.randint(28, 64) if younger else min(98, max(65, int(rng.gauss(82, 7))))
    sex = rng.choices(("female", "male", "other", "unknown"), weights=(56, 43, 0.4, 0.6))[0]
    group = vocab.pick_group(rng, practice.ccg_code == CITY_CCG)
    given, family = vocab.patient_name(rng, group, sex, younger)
    dob = w.today - timedelta(days=int(age * 365.25) + rng.randrange(1, 364))
    s = rng.betavariate(2.4, 1.8)  # how complex this person's needs are
    ltc = max(1, min(14, round(2 + 7 * s + rng.gauss(0, 1.4))))
    efi = round(
        min(0.75, max(0.02, 0.05 + 0.45 * s + rng.gauss(0, 0.06) - (0.1 if younger else 0))), 2
    )
    cost = round(math.exp(rng.gauss(math.log(1.0 + 4.0 * s + (1.5 if younger else 0)), 0.3)), 1)
    risk = round(min(100.0, max(1.0, 12 + 78 * s + rng.gauss(0, 6))), 1)
    conditions = tuple(rng.sample(vocab.LONG_TERM_CONDITIONS, min(ltc, 4)))
    staff_here = [x for x in team.staff if practice.code in x.practices]
    staff = rng.choices(staff_here, weights=[0.4 if x.is_lead else 1.0 for x in staff_here])[0]
    source = _choose(w, _SOURCE_WEIGHTS)
    level = rng.choices(("Enhanced", "Expert", "Essential"), weights=(80, 12, 8))[0]
    new_this_year = rng.random() < 0.42
    if new_this_year:
        opened_on = w.day_between(w.year_start + timedelta(days=1), w.today - timedelta(days=1))
        created_at = w.work_time(opened_on)
        if source == "hospital referral":  # registered on the evening of the discharge
            created_at = w.at(opened_on, rng.randrange(15 * 60, 19 * 60))
    else:  # on the caseload before CareCoord; imported in the first weeks
        opened_on = w.year_start - timedelta(days=rng.randrange(20, 1000))
        created_at = w.work_time(w.year_start + timedelta(days=rng.randrange(0, 21)))
    p = Person(
        id=w.uid(), team=team, staff=staff, practice=practice, group=group, sex=sex,
        given=given, family=family, age=age, dob=dob, severity=s, ltc_count=ltc, efi=efi,
        predicted_cost=cost, risk=risk, conditions=conditions, source=source, level=level,
        opened_on=opened_on, created_at=min(created_at, w.as_of), active_from=created_at,
        active_to=w.as_of,
    )  # fmt: skip
    p.postcode = vocab.postcode(rng, practice.locality)
    if not keep_open:
        _ending(w, p)
    p.respect = rng.random() < 0.12 + 0.5 * s + (0.1 if age > 85 else 0)
    p.flagged = p.active_now and rng.random() < 0.008 + 0.02 * s
    p.lives_alone = rng.random() < 0.45
    return p


def _ending(w: World, p: Person) -> None:
    """Some episodes closed during the year and some patients died."""
    earliest = p.created_at.date() + timedelta(days=30)
    latest = w.today - timedelta(days=2)
    if earliest >= latest:
        return
    roll = w.rng.random()
    if roll < 0.035 + 0.03 * p.severity:
        p.death = w.day_between(earliest, latest)
        p.closed_on, p.close_reason = p.death, "Died"
    elif roll < 0.16:
        p.closed_on = w.day_between(earliest, latest)
        reasons = notes.CLOSE_REASONS
        p.close_reason = w.rng.choices([r for r, _ in reasons], weights=[x for _, x in reasons])[0]
    if p.closed_on is not None:
        p.active_to = w.at(p.closed_on, 17 * 60)


def new_nhs_number(w: World) -> str:
    while True:
        number = random_test_nhs_number(w.rng)
        if number not in w.nhs_numbers:
            w.nhs_numbers.add(number)
            return number


def write_person(w: World, p: Person) -> None:
    """The patient row, the episode(s) and the level history."""
    rng = w.rng
    level_now, changes = _level_history(w, p)
    phone_roll = rng.random()
    phone = (
        vocab.landline(rng)
        if phone_roll < 0.65
        else vocab.mobile(rng)
        if phone_roll < 0.93
        else None
    )
    no_efi = rng.random() < 0.05
    respect_date = None
    if p.respect:
        respect_date = w.today - timedelta(days=rng.randrange(10, 1100))
    w.sink.add(
        "patients",
        {
            "id": p.id,
            "nhs_number": new_nhs_number(w),
            "family_name": p.family,
            "given_name": p.given,
            "date_of_birth": p.dob,
            "sex": p.sex,
            "practice_code": p.practice.code,
            "postcode": p.postcode,
            "phone": phone,
            "coordinator_id": p.staff.id,
            "level": level_now,
            "referral_source": p.source,
            "ltc_count": p.ltc_count,
            "frailty_band": efi_band(p.efi),
            "efi_score": None if no_efi else p.efi,
            "predicted_cost_ratio": p.predicted_cost,
            "risk_score": p.risk,
            "respect_in_place": p.respect,
            "respect_date": respect_date,
            "respect_location": rng.choice(notes.RESPECT_LOCATIONS) if p.respect else None,
            "consent_to_share": rng.random() < 0.93,
            "flag_for_mdt": p.flagged,
            "date_of_death": p.death,
            "notes": notes.patient_note(rng, p.who, p.group),
            "created_at": p.created_at,
        },
    )
    episode_id = w.uid()
    w.sink.add(
        "episodes",
        {
            "id": episode_id,
            "patient_id": p.id,
            "coordinator_id": p.staff.id,
            "opened_on": p.opened_on,
            "source": p.source,
            "level": level_now,
            "closed_on": p.closed_on,
            "close_reason": p.close_reason,
        },
    )
    previous: str | None = None
    for when, level, reason in changes:
        w.sink.add(
            "level_changes",
            {
                "id": w.uid(),
                "patient_id": p.id,
                "episode_id": episode_id,
                "changed_at": when,
                "from_level": previous,
                "to_level": level,
                "reason": reason,
                "changed_by_id": p.staff.id,
            },
        )
        previous = level


_UP = {"Essential": "Expert", "Expert": "Enhanced"}
_DOWN = {"Enhanced": "Expert", "Expert": "Essential"}


def _level_history(w: World, p: Person) -> tuple[str, list[tuple[datetime, str, str]]]:
    """The level now and every change: registration, then step ups and downs."""
    rng = w.rng
    changes = [(p.created_at, p.level, "Registered")]
    level = p.level
    span = (p.active_to - p.active_from).total_seconds()
    count = 0
    if span > 60 * 86400 and rng.random() < (0.14 if level == "Enhanced" else 0.4):
        count = 2 if rng.random() < 0.25 else 1
    moments = sorted(
        p.active_from + timedelta(seconds=rng.uniform(0.15, 0.95) * span) for _ in range(count)
    )
    for moment in moments:
        up = level != "Enhanced" and (level == "Essential" or rng.random() < 0.85)
        target = _UP[level] if up else _DOWN[level]
        when = w.pick_work_time(moment, moment + timedelta(days=4), saturday=False) or moment
        when = min(when, p.active_to)
        changes.append((when, target, notes.level_change_reason(rng, up, p.who)))
        level = target
    return level, changes
