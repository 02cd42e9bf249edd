"""Synthetic records for the desktop and caseload-view tests (999 test-range NHS numbers)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.core.validation import random_test_nhs_number
from app.models import Admission, CallAttempt, Coordinator, Patient, Task
from app.services import caseload, followup
from app.services.caseload_view import sign_in

_RNG = random.Random(20261123)
PRACTICE = "wl-weir-ashby-medical-centre"  # Ashby Medical Centre, sub-locality Weir
OTHER_PRACTICE = "wl-weir-ashby-surgery"


def nhs() -> str:
    return random_test_nhs_number(_RNG)


def add_coordinator(session: Session, name: str = "Amira Shah") -> Coordinator:
    c = Coordinator(name=name, role="Care Coordinator", active=True, is_team_lead=False)
    session.add(c)
    session.flush()
    return c


def add_patient(
    session: Session,
    now: datetime,
    family: str = "Smith",
    given: str = "Ann",
    *,
    nhs_number: str | None = None,
    dob: date = date(1940, 5, 17),
    **fields: object,
) -> Patient:
    values: dict[str, object] = {
        "level": "Enhanced",
        "respect_in_place": False,
        "consent_to_share": True,
        "flag_for_mdt": False,
        "practice_code": PRACTICE,
        "created_at": now,
    }
    values.update(fields)
    p = Patient(
        nhs_number=nhs_number or nhs(),
        family_name=family,
        given_name=given,
        date_of_birth=dob,
        **values,
    )
    session.add(p)
    session.flush()
    return p


def add_discharge(
    session: Session, patient: Patient, discharged_at: datetime, *, hours_in: int = 72
) -> Admission:
    a = Admission(
        patient_id=patient.id,
        admitted_at=discharged_at - timedelta(hours=hours_in),
        discharged_at=discharged_at,
        hospital="Leicester Royal Infirmary",
        ward="Ward 7",
        source="manual",
        created_at=discharged_at,
    )
    session.add(a)
    session.flush()
    return a


def add_task(
    session: Session,
    patient: Patient | None,
    due_at: datetime,
    title: str = "Review care plan",
    *,
    kind: str = "other",
    now: datetime,
    assigned_to_id: str | None = None,
) -> Task:
    t = Task(
        kind=kind,
        title=title,
        patient_id=patient.id if patient else None,
        assigned_to_id=assigned_to_id,
        due_at=due_at,
        status="open",
        created_at=now,
    )
    session.add(t)
    session.flush()
    return t


def add_call(
    session: Session, patient: Patient, called_at: datetime, outcome: str, admission=None
) -> CallAttempt:
    c = CallAttempt(
        admission_id=admission.id if admission is not None else None,
        patient_id=patient.id,
        called_at=called_at,
        outcome=outcome,
        issues="",
    )
    session.add(c)
    session.flush()
    return c


# --- a small team through the services, as the app would build it -------------------------

UTC_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Team:
    coordinator_id: str
    other_coordinator_id: str
    overdue: str  # patient ids
    amber: str
    green: str
    overdue_admission: str
    amber_admission: str
    green_admission: str


def seed_team(session: Session, now: datetime, *, sign_in_as_first: bool = True) -> Team:
    """Three discharged patients of Amira's (overdue, under 12 h, plenty of time) and a
    fourth patient of Ben's, at the conftest clock (Mon 23 Nov 2026 09:00 UTC)."""
    amira = caseload.add_coordinator(session, name="Amira Shah")
    ben = caseload.add_coordinator(session, name="Ben Okoro")
    if sign_in_as_first:
        sign_in(session, coordinator_id=amira.id)
    ids = {}
    admissions = {}
    for key, family, given, discharged in (
        ("overdue", "Ashworth", "Doreen", now - timedelta(hours=50)),
        ("amber", "Patel", "Harjit", now - timedelta(hours=40)),
        ("green", "Okafor", "Kwame", now - timedelta(hours=6)),
    ):
        p = caseload.register_patient(
            session,
            nhs_number=nhs(),
            family_name=family,
            given_name=given,
            date_of_birth=date(1941, 3, 9),
            now=now,
            practice_code=PRACTICE,
            coordinator_id=amira.id,
            ltc_count=6,
        )
        ids[key] = p.id
        admissions[key] = followup.record_admission(
            session,
            patient_id=p.id,
            admitted_at=discharged - timedelta(days=3),
            discharged_at=discharged,
            hospital="Leicester Royal Infirmary",
            ward="Ward 7",
            now=now,
        ).id
    caseload.register_patient(
        session,
        nhs_number=nhs(),
        family_name="Brown",
        given_name="Stanley",
        date_of_birth=date(1936, 12, 1),
        now=now,
        practice_code=OTHER_PRACTICE,
        coordinator_id=ben.id,
    )
    return Team(
        coordinator_id=amira.id,
        other_coordinator_id=ben.id,
        overdue=ids["overdue"],
        amber=ids["amber"],
        green=ids["green"],
        overdue_admission=admissions["overdue"],
        amber_admission=admissions["amber"],
        green_admission=admissions["green"],
    )
