"""Possible duplicate patient records: the same NHS number on two records, or the same person
(family name, given name, date of birth, postcode) under two different NHS numbers. Each pair
gets one possible_duplicate task for a person to check; records are never merged
automatically."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Patient, Task
from app.sync.merge import duplicate_task_id

SAME_NHS = "same NHS number"
SAME_PERSON = "same name, date of birth and postcode but different NHS numbers"


@dataclass(frozen=True)
class DuplicateFinding:
    newer_id: str  # the task is raised on the newer record
    older_id: str
    reason: str
    task_id: str
    created: bool  # raised by this run (False: a task for the pair already existed)


@dataclass(frozen=True)
class _Rec:
    id: str
    nhs: str
    created_at: datetime


def _same_nhs_groups(session: Session) -> list[list[_Rec]]:
    numbers = select(Patient.nhs_number).group_by(Patient.nhs_number).having(func.count() > 1)
    groups: dict[str, list[_Rec]] = defaultdict(list)
    for pid, nhs, created in session.execute(
        select(Patient.id, Patient.nhs_number, Patient.created_at).where(
            Patient.nhs_number.in_(numbers)
        )
    ):
        groups[nhs].append(_Rec(pid, nhs, created))
    return list(groups.values())


def _same_person_groups(session: Session) -> list[list[_Rec]]:
    family = func.lower(func.trim(Patient.family_name))
    given = func.lower(func.trim(Patient.given_name))
    postcode = func.upper(func.replace(Patient.postcode, " ", ""))
    keys = (
        select(family, given, Patient.date_of_birth, postcode)
        .where(Patient.postcode.is_not(None))
        .group_by(family, given, Patient.date_of_birth, postcode)
        .having(func.count(func.distinct(Patient.nhs_number)) > 1)
    ).subquery()
    groups: dict[tuple[str, str, date, str], list[_Rec]] = defaultdict(list)
    rows = session.execute(
        select(
            Patient.id, Patient.nhs_number, Patient.created_at, family, given,
            Patient.date_of_birth, postcode,
        ).join(
            keys,
            (family == keys.c[0]) & (given == keys.c[1])
            & (Patient.date_of_birth == keys.c[2]) & (postcode == keys.c[3]),
        )
    )  # fmt: skip
    for pid, nhs, created, *key in rows:
        groups[(key[0], key[1], key[2], key[3])].append(_Rec(pid, nhs, created))
    return list(groups.values())


def _raise(session: Session, a: _Rec, b: _Rec, reason: str) -> DuplicateFinding:
    newer, older = sorted((a, b), key=lambda r: (r.created_at, r.id), reverse=True)
    task_id = duplicate_task_id(a.id, b.id)  # the same pair gives the same task on every laptop
    created = session.get(Task, task_id) is None
    if created:
        session.add(
            Task(
                id=task_id,
                kind="possible_duplicate",
                title=f"Possible duplicate patient record: {reason}",
                patient_id=newer.id,
                due_at=newer.created_at + timedelta(days=1),
                status="open",
                source_table="patients",
                source_id=newer.id,
                notes=f"Other record: {older.id}. Check and merge by hand if the same person; "
                "never merged automatically.",
                created_at=newer.created_at,
            )
        )
        session.flush()
    return DuplicateFinding(newer.id, older.id, reason, task_id, created)


def find_possible_duplicates(session: Session, *, now: datetime) -> list[DuplicateFinding]:
    """Raise a possible_duplicate task for each pair of records that may be the same person
    (idempotent: a pair already checked, or being checked, is not raised again). Returns every
    pair found."""
    found: dict[frozenset[str], DuplicateFinding] = {}
    for reason, groups in (
        (SAME_NHS, _same_nhs_groups(session)),
        (SAME_PERSON, _same_person_groups(session)),
    ):
        for group in groups:
            for a, b in combinations(sorted(group, key=lambda r: r.id), 2):
                pair = frozenset((a.id, b.id))
                if pair in found or (reason == SAME_PERSON and a.nhs == b.nhs):
                    continue
                found[pair] = _raise(session, a, b, reason)
    return sorted(found.values(), key=lambda f: (f.newer_id, f.older_id))
