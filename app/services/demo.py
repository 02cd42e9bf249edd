"""A realistic synthetic care-coordination team for demonstrations, training and benchmarks
(``carecoord demo``, the desktop app's "open a demo team").

One PCN-sized area of Leicester, Leicestershire & Rutland (more localities for a large
``patients``), 5-12 coordinators per locality with a team lead, and a year of work up to the
start of ``today``: admissions and 48-hour calls, needs assessments and care plans, carers,
referrals in every status, fortnightly MDTs, and the task queue those leave behind.

Deterministic: the same ``seed`` and ``today`` give the same records (ids included), whatever
the wall clock says; only the change log's own bookkeeping comes from ``clock``. Every record
is written with its change-log op through :func:`app.sync.changelog.record_bulk_inserts`, in
batches of plain rows (no ORM objects), while a helper thread generates the next batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import ConflictError, ValidationError
from app.db.engine import bulk_page_cache
from app.models import (
    Admission,
    CallAttempt,
    CarePlan,
    Carer,
    Coordinator,
    Episode,
    MdtAction,
    MdtMeeting,
    NeedsAssessment,
    Patient,
    Referral,
    Task,
)
from app.models.carer import CARER_ASSESSMENT_STATES
from app.models.referral import REFERRAL_STATUSES
from app.services.demo_activity import plan_stays, write_stays
from app.services.demo_care import write_assessments
from app.services.demo_carers import plan_carers, write_carers
from app.services.demo_mdt import write_team_mdts
from app.services.demo_patients import Person, make_person, write_person
from app.services.demo_referrals import write_referrals
from app.services.demo_world import Batch, BatchWriter, RowSink, Team, World, run_pipeline

MAX_PATIENTS = 200_000
CHUNK = 2_000  # patients generated and written together


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo`` wrote, for the command line and the first-run screen."""

    seed: int
    today: date
    as_of: datetime  # the demo's activity stops here: 00:00 UK time on ``today``
    localities: tuple[str, ...]
    coordinators: int
    patients: int
    open_episodes: int
    admissions: int
    discharges: int
    call_attempts: int
    open_clocks: int  # discharges still waiting for a 48-hour call at ``as_of``
    needs_assessments: int
    care_plans: int
    carers: int
    referrals: int
    mdt_meetings: int
    open_mdt_actions: int
    tasks: int
    open_tasks: int
    records: int  # every row written (each with its change-log op)


def generate_demo(
    session: Session,
    *,
    patients: int,
    seed: int,
    today: date,
    clock: Clock,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill an empty database with a demo team; refused if any patient is already there.

    ``progress(patients_written, patients)`` is called on this thread after each batch; an
    exception raised from it cancels the demo (the unit of work then rolls everything back).
    """
    if not 1 <= patients <= MAX_PATIENTS:
        raise ValidationError(
            f"A demo team needs between 1 and {MAX_PATIENTS:,} patients, not {patients:,}.",
            field="patients",
        )
    existing = session.scalar(select(func.count()).select_from(Patient)) or 0
    if existing:
        raise ConflictError(
            f"This data folder already holds {existing:,} patient"
            f"{'s' if existing != 1 else ''}; create the demo team in an empty data folder."
        )
    session.flush()
    with bulk_page_cache(session.connection()):
        return _generate(
            session, patients=patients, seed=seed, today=today, clock=clock, progress=progress
        )


def _generate(
    session: Session,
    *,
    patients: int,
    seed: int,
    today: date,
    clock: Clock,
    progress: Callable[[int, int], None] | None,
) -> DemoSummary:
    writer = BatchWriter(session, clock)

    def produce(emit: Callable[[Batch], None]) -> tuple[World, int]:
        return _produce(RowSink(emit), patients=patients, seed=seed, today=today)

    def write(batch: Batch) -> None:
        writer.write(batch)
        if progress is not None:
            progress(writer.counts["patients"], patients)

    w, open_clocks = run_pipeline(produce, write)
    return _summary(session, w, open_clocks, sum(writer.counts.values()))


def _produce(sink: RowSink, *, patients: int, seed: int, today: date) -> tuple[World, int]:
    """Generate every row (no database access here); returns the world and the clocks left
    open at the start of ``today``."""
    w = World(sink, seed=seed, today=today, patients=patients)
    w.referral_statuses_due = list(REFERRAL_STATUSES)
    w.carer_states_due = list(CARER_ASSESSMENT_STATES)
    _write_coordinators(w)
    by_team: dict[int, list[Person]] = defaultdict(list)
    open_clocks = 0
    forced = _forced_endings(w, patients)
    weights = w.practice_weights()
    for start in range(0, patients, CHUNK):
        people: list[Person] = []
        for n in range(start, min(patients, start + CHUNK)):
            team, practice, _ = w.rng.choices(weights, weights=[x for _, _, x in weights])[0]
            people.append(make_person(w, team, practice, keep_open=n in forced))
        carers = plan_carers(w, people)
        for n, p in enumerate(people, start=start):
            stays = plan_stays(w, p, final=forced.get(n))
            write_person(w, p)
            open_clocks += write_stays(w, p, stays)
            write_assessments(w, p)
            write_referrals(w, p)
            by_team[id(p.team)].append(p)
        write_carers(w, carers)
        sink.flush()
    for team in w.teams:
        write_team_mdts(w, team, by_team[id(team)])
    sink.flush()
    return w, open_clocks


def _forced_endings(w: World, patients: int) -> dict[int, str]:
    """Which patients end the year just discharged and not yet reached (so the Today view has
    clocks running and clocks overdue) or still in hospital."""
    recent = max(4, round(patients * 0.012))
    inpatients = max(1, round(patients * 0.02))
    chosen = w.rng.sample(range(patients), min(patients, recent + inpatients))
    kinds = ("recent", "overdue")
    return {n: kinds[i % 2] if i < recent else "inpatient" for i, n in enumerate(chosen)}


def _write_coordinators(w: World) -> None:
    for team in w.teams:
        for staff in team.staff:
            w.sink.add(
                "coordinators",
                {
                    "id": staff.id,
                    "name": staff.name,
                    "role": "Care Coordination Team Lead" if staff.is_lead else "Care Coordinator",
                    "locality": team.locality,
                    "active": True,
                    "is_team_lead": staff.is_lead,
                },
            )


def _count(session: Session, model: type, *where: object) -> int:
    stmt = select(func.count()).select_from(model)
    for condition in where:
        stmt = stmt.where(condition)  # type: ignore[arg-type]
    return int(session.scalar(stmt) or 0)


def _summary(session: Session, w: World, open_clocks: int, records: int) -> DemoSummary:
    teams: list[Team] = w.teams
    return DemoSummary(
        seed=w.seed,
        today=w.today,
        as_of=w.as_of,
        localities=tuple(t.locality for t in teams),
        coordinators=_count(session, Coordinator),
        patients=_count(session, Patient),
        open_episodes=_count(session, Episode, Episode.closed_on.is_(None)),
        admissions=_count(session, Admission),
        discharges=_count(session, Admission, Admission.discharged_at.is_not(None)),
        call_attempts=_count(session, CallAttempt),
        open_clocks=open_clocks,
        needs_assessments=_count(session, NeedsAssessment),
        care_plans=_count(session, CarePlan),
        carers=_count(session, Carer),
        referrals=_count(session, Referral),
        mdt_meetings=_count(session, MdtMeeting),
        open_mdt_actions=_count(session, MdtAction, MdtAction.status == "open"),
        tasks=_count(session, Task),
        open_tasks=_count(session, Task, Task.status == "open"),
        records=records,
    )
