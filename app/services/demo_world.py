"""Shared state of one demo generation: the seeded random streams, the reporting instant, the
area and its teams, and a sink that writes rows (with their change-log ops) in batches."""

from __future__ import annotations

import math
import queue
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.reference import Practice, load_practices
from app.core.timeutil import LONDON, iso_week_of, local_midnight_utc
from app.models import Base, synced_models
from app.services import demo_vocab as vocab
from app.sync.changelog import record_bulk_inserts

T = TypeVar("T")
BATCH_ROWS = 10_000
TOP_SHARE = 0.05  # the Enhanced tier: the most complex 5% of the population
PATIENTS_PER_COORDINATOR = 70
CORE_ROLES = (
    "GP",
    "Community Matron",
    "Senior Nurse Complex Needs",
    "Adult Social Care",
    "Therapy Lead",
    "Local Area Coordinator",
)


@lru_cache(maxsize=65536)
def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=LONDON).astimezone(UTC)


Batch = dict[str, list[dict[str, Any]]]  # table name -> rows


class RowSink:
    """Collects the generated rows per table; ``flush`` hands them on as one batch."""

    def __init__(self, emit: Callable[[Batch], None]) -> None:
        self.pending: Batch = defaultdict(list)
        self._emit = emit

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.pending[table].append(row)

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = dict(self.pending), defaultdict(list)
        for rows in batch.values():
            # Id order keeps the inserts into the indexes local (ids are random UUIDs).
            rows.sort(key=lambda r: str(r["id"]))
        self._emit(batch)


class BatchWriter:
    """Writes batches parents-first, every row with its op (record_bulk_inserts)."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self._order = [m.__tablename__ for m in synced_models()]

    def write(self, batch: Batch) -> None:
        unknown = set(batch) - set(self._order)
        if unknown:  # rows for a table that does not sync: a programming error
            raise ValueError(f"not synced tables: {sorted(unknown)}")
        for name in self._order:
            rows = batch.get(name)
            if not rows:
                continue
            table: Table = Base.metadata.tables[name]
            for start in range(0, len(rows), BATCH_ROWS):
                record_bulk_inserts(
                    self.session, self.clock, table, rows[start : start + BATCH_ROWS]
                )
            self.counts[name] += len(rows)


class _Stopped(Exception):
    """The writer failed; the generator stops at its next batch."""


def run_pipeline(
    produce: Callable[[Callable[[Batch], None]], T], write: Callable[[Batch], None]
) -> T:
    """Run ``produce`` on a helper thread while this thread writes the batches it emits, in
    order. SQLite does its share of each write with the GIL released, so generating the next
    batch overlaps with storing the last one. The session stays on this thread; errors on
    either side are raised here."""
    batches: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def emit(batch: Batch) -> None:
        while not stop.is_set():
            try:
                batches.put(batch, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def run() -> None:
        try:
            outcome["value"] = produce(emit)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the writing thread
            outcome["error"] = exc
        finally:
            while True:
                try:
                    batches.put(None, timeout=0.1)
                    break
                except queue.Full:
                    if stop.is_set():
                        break

    worker = threading.Thread(target=run, name="demo-generator", daemon=True)
    worker.start()
    try:
        while (batch := batches.get()) is not None:
            write(batch)
    finally:
        stop.set()
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class Staff:
    id: str
    name: str
    is_lead: bool
    diligence: float  # share of discharges this coordinator reaches within 48 hours
    practices: list[str] = field(default_factory=list)

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass
class Team:
    locality: str
    pcn_name: str
    practices: list[Practice]
    staff: list[Staff]
    core: dict[str, list[str]]  # MDT role -> names
    mdt_weekday: int


class World:
    """Random streams, dates and the area. ``rng`` drives the content; ``ids`` only makes ids,
    so the content does not shift when a record is added or dropped."""

    def __init__(self, sink: RowSink, *, seed: int, today: date, patients: int) -> None:
        self.sink = sink
        self.seed = seed
        self.rng = random.Random(f"carecoord-demo:{seed}")
        self.ids = random.Random(f"carecoord-demo-ids:{seed}")
        self.today = today
        self.as_of = local_midnight_utc(today)  # the demo stops at the start of --today
        self.year_start = today - timedelta(days=365)  # the team started using CareCoord
        self.patients = patients
        self.nhs_numbers: set[str] = set()
        # Statuses every demo must show at least once, taken by the next referrals that fit.
        self.referral_statuses_due: list[str] = []
        self.carer_states_due: list[str] = []
        self.carer_pair_due = True  # a carer looking after two patients
        self.young_carer_due = True
        self.teams = self._build_teams()
        self._week_bias: dict[str, float] = {}

    # --- ids and times ---------------------------------------------------------------------

    def uid(self) -> str:
        """A version-4 UUID from the id stream: ``str(uuid.UUID(int=bits, version=4))``,
        without building UUID objects (a demo makes millions)."""
        n = self.ids.getrandbits(128)
        n = (n & ~(0xC000 << 48)) | (0x8000 << 48)  # variant: RFC 4122
        n = (n & ~(0xF000 << 64)) | (4 << 76)  # version 4
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    @staticmethod
    def at(day: date, minute: int) -> datetime:
        """The UTC instant of ``minute`` minutes after local midnight on ``day``."""
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=LONDON).astimezone(UTC)

    def work_time(self, day: date) -> datetime:
        """A random office-hours moment on ``day``."""
        return self.at(day, self.rng.randrange(8 * 60 + 45, 17 * 60))

    def day_between(self, start: date, end: date) -> date:
        span = (end - start).days
        return start + timedelta(days=self.rng.randrange(span + 1)) if span > 0 else start

    def between(self, start: datetime, end: datetime) -> datetime:
        """A random whole minute in [start, end] (``start`` itself if there is none)."""
        first = start.replace(second=0, microsecond=0)
        if first < start:
            first += timedelta(minutes=1)
        minutes = int((end - first).total_seconds()) // 60
        if minutes < 0:
            return start
        return first + timedelta(minutes=self.rng.randrange(minutes + 1))

    def pick_work_time(
        self, start: datetime, end: datetime, *, eager: float = 0.6, saturday: bool = True
    ) -> datetime | None:
        """An office-hours moment (or a Saturday-morning rota slot) in [start, end]: each
        period in turn is taken with probability ``eager``, else the last one; None if the
        window holds no office hours."""
        day = start.astimezone(LONDON).date()
        last = end.astimezone(LONDON).date()
        fallback: tuple[datetime, datetime] | None = None
        while day <= last:
            wd = day.weekday()
            if wd < 5 or (saturday and wd == 5):
                a = max(_at(day, 525 if wd < 5 else 540), start)
                b = min(_at(day, 1035 if wd < 5 else 750), end)
                if b > a:
                    if self.rng.random() < eager:
                        return self.between(a, b)
                    fallback = (a, b)
            day += timedelta(days=1)
        return self.between(*fallback) if fallback else None

    def week_bias(self, when: datetime) -> float:
        """How a given week went for the whole team (sickness, bank holidays, winter)."""
        week = iso_week_of(when)
        if week not in self._week_bias:
            r = random.Random(f"carecoord-demo-week:{self.seed}:{week}")
            bias = r.gauss(0.0, 0.035)
            local = when.astimezone(LONDON)
            if (local.month, local.day) >= (12, 20) or (local.month, local.day) <= (1, 3):
                bias -= 0.08
            self._week_bias[week] = bias
        return self._week_bias[week]

    def poisson(self, mean: float) -> int:
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    # --- area and teams --------------------------------------------------------------------

    def _build_teams(self) -> list[Team]:
        practices = load_practices()
        localities: list[str] = list(dict.fromkeys(p.locality for p in practices))
        population = {p.locality: p.locality_population for p in practices}
        start = self.rng.randrange(len(localities))
        chosen: list[str] = []
        for i in range(len(localities)):
            chosen.append(localities[(start + i) % len(localities)])
            if sum(population[x] for x in chosen) * TOP_SHARE >= self.patients:
                break
        total_pop = sum(population[x] for x in chosen)
        taken: set[str] = set()
        teams: list[Team] = []
        for locality in chosen:
            here = [p for p in practices if p.locality == locality]
            share = self.patients * population[locality] / total_pop
            size = max(5, min(12, math.ceil(share / PATIENTS_PER_COORDINATOR)))
            families: set[str] = set()
            staff = [
                Staff(
                    id=self.uid(),
                    name=vocab.staff_name(self.rng, taken, families),
                    is_lead=i == 0,
                    diligence=min(0.93, max(0.72, self.rng.gauss(0.835, 0.03))),
                )
                for i in range(size)
            ]
            for i in range(max(len(here), len(staff))):
                staff[(i + 1) % len(staff)].practices.append(here[i % len(here)].code)
            core = {role: [vocab.staff_name(self.rng, taken)] for role in CORE_ROLES}
            core["GP"] = [f"Dr {vocab.staff_name(self.rng, taken)}" for _ in range(2)]
            teams.append(
                Team(
                    locality=locality,
                    pcn_name=f"{locality} PCN",
                    practices=here,
                    staff=staff,
                    core=core,
                    mdt_weekday=self.rng.choice((1, 2, 3)),
                )
            )
        return teams

    def practice_weights(self) -> list[tuple[Team, Practice, float]]:
        """Each practice with its share of patients (sub-locality list size split evenly)."""
        out: list[tuple[Team, Practice, float]] = []
        for team in self.teams:
            per_sub = Counter(p.sub_locality for p in team.practices)
            for p in team.practices:
                out.append((team, p, p.sub_locality_population / per_sub[p.sub_locality]))
        return out
