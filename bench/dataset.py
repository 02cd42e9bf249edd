"""The benchmark's demo databases: built once per (patients, seed, schema) and kept under
``bench/.cache/`` (gitignored).

Each is an ordinary CareCoord data folder, encrypted with SQLCipher like a user's: its key is
in the OS keyring when there is one, otherwise in the folder's key file protected by the
benchmark's own passphrase (``CARECOORD_PASSPHRASE``, set by :func:`use_bench_passphrase`), so
the benchmark never waits for a terminal.

On top of the demo team, the build adds the things the benchmark measures that a demo does
not necessarily hold: a signed-in coordinator (the team lead) and a planned practice MDT with
30 patients on its agenda, each with a discussion and an action.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import func, select

from app.context import AppContext, open_context
from app.core.paths import PASSPHRASE_ENV, AppPaths
from app.core.timeutil import LONDON

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_CACHE = BENCH_DIR / ".cache"
MIGRATIONS = BENCH_DIR.parent / "app" / "db" / "migrations" / "versions"
BENCH_PASSPHRASE = "carecoord-benchmark-only"
DEMO_TODAY = date(2026, 11, 23)  # a Monday; the demo's activity stops at 00:00 that day
MDT_PATIENTS = 30


def use_bench_passphrase() -> None:
    """The benchmark's data folders are unlocked with the benchmark's own passphrase."""
    os.environ[PASSPHRASE_ENV] = BENCH_PASSPHRASE


def bench_now() -> datetime:
    """The instant every measurement takes as 'now': 09:00 UK time on the demo's today."""
    return datetime.combine(DEMO_TODAY, dtime(9, 0), tzinfo=LONDON).astimezone(UTC)


def schema_version() -> str:
    """A fingerprint of the packaged migrations: a changed schema means a new database."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Dataset:
    patients: int
    seed: int
    schema: str
    data_dir: Path
    meeting_id: str
    records: int
    ops: int
    db_bytes: int
    build_seconds: float
    built_at: str

    @property
    def paths(self) -> AppPaths:
        return AppPaths(self.data_dir)


def dataset_dir(cache: Path, patients: int, seed: int) -> Path:
    return cache / f"demo-p{patients}-s{seed}-{schema_version()}"


def open_dataset(dataset: Dataset) -> AppContext:
    return open_context(dataset.paths)


def ensure_dataset(
    cache: Path, *, patients: int, seed: int, rebuild: bool = False, log: bool = True
) -> Dataset:
    """The cached dataset, built first when missing (or when ``rebuild``)."""
    use_bench_passphrase()
    home = dataset_dir(cache, patients, seed)
    meta_file = home / "meta.json"
    if rebuild and home.exists():
        shutil.rmtree(home)
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        meta["data_dir"] = home / "data"
        return Dataset(**meta)
    if home.exists():  # an interrupted build
        shutil.rmtree(home)
    for stale in cache.glob(f"demo-p{patients}-s{seed}-*"):  # built for an older schema
        if stale != home:
            shutil.rmtree(stale, ignore_errors=True)
    partial = home.with_name(home.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    if log:
        print(f"building the {patients:,}-patient demo database (seed {seed}) once...", flush=True)
    started = time.perf_counter()
    meeting_id, records = _build(partial / "data", patients=patients, seed=seed)
    seconds = time.perf_counter() - started
    partial.rename(home)
    data_dir = home / "data"
    ctx = open_context(AppPaths(data_dir))
    try:
        ops = _count_ops(ctx)
    finally:
        ctx.close()
    dataset = Dataset(
        patients=patients,
        seed=seed,
        schema=schema_version(),
        data_dir=data_dir,
        meeting_id=meeting_id,
        records=records,
        ops=ops,
        db_bytes=AppPaths(data_dir).db_path.stat().st_size,
        build_seconds=round(seconds, 1),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    meta = asdict(dataset)
    del meta["data_dir"]
    meta_file.write_text(json.dumps(meta, indent=2) + "\n")
    if log:
        print(f"  built in {seconds:.0f} s: {records:,} records, {ops:,} ops", flush=True)
    return dataset


def _count_ops(ctx: AppContext) -> int:
    from app.models import Op

    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Op)) or 0)


def _build(data_dir: Path, *, patients: int, seed: int) -> tuple[str, int]:
    from app.services.demo import generate_demo

    ctx = open_context(AppPaths(data_dir))
    try:
        with ctx.db.write() as session:
            summary = generate_demo(
                session, patients=patients, seed=seed, today=DEMO_TODAY, clock=ctx.clock
            )
        with ctx.db.write() as session:
            meeting_id = _mdt_meeting(session, bench_now())
    finally:
        ctx.close()
    return meeting_id, summary.records


def _mdt_meeting(session: object, now: datetime) -> str:
    """Sign the team lead in, and plan an MDT at the busiest practice with 30 patients."""
    from sqlalchemy.orm import Session

    from app.models import Coordinator, Patient
    from app.services import mdt
    from app.services.caseload_view import sign_in

    assert isinstance(session, Session)
    lead = session.scalars(
        select(Coordinator.id).order_by(Coordinator.is_team_lead.desc(), Coordinator.name)
    ).first()
    if lead is not None:
        sign_in(session, coordinator_id=lead)
    practice = session.execute(
        select(Patient.practice_code, func.count())
        .where(Patient.practice_code.is_not(None), Patient.date_of_death.is_(None))
        .group_by(Patient.practice_code)
        .order_by(func.count().desc(), Patient.practice_code)
    ).first()
    if practice is None:
        raise RuntimeError("the demo database has no patients with a practice")
    day = DEMO_TODAY
    meeting = mdt.create_meeting(
        session,
        meeting_date=day,
        level="practice",
        practice_code=practice[0],
        venue="Practice meeting room",
        now=now,
        attendees=[mdt.AttendeeInput(role, f"{role} (benchmark)") for role in _ROLES],
    )
    chosen = [c.patient_id for c in mdt.propose_agenda(session, meeting_id=meeting.id, now=now)]
    if len(chosen) < MDT_PATIENTS:  # fill up from the practice's highest risk
        more = session.scalars(
            select(Patient.id)
            .where(Patient.practice_code == practice[0], Patient.date_of_death.is_(None))
            .order_by(Patient.risk_score.desc().nulls_last(), Patient.id)
        )
        chosen += [pid for pid in more if pid not in chosen]
    for n, pid in enumerate(chosen[:MDT_PATIENTS], 1):
        item = mdt.add_item(session, meeting_id=meeting.id, patient_id=pid, now=now)
        mdt.record_discussion(
            session,
            item_id=item.id,
            now=now,
            situation=f"Discharged recently; item {n} reviewed by the team.",
            background="Several long-term conditions; lives alone with a daughter nearby.",
            assessment="Medication changes at discharge not yet reconciled with the GP record.",
            recommendation="Pharmacist review this week; coordinator to phone on Friday.",
        )
        mdt.add_action(
            session,
            meeting_id=meeting.id,
            item_id=item.id,
            description="Arrange a structured medication review with the practice pharmacist",
            owner="Care Coordinator",
            due_date=day + timedelta(days=7),
            now=now,
        )
    return meeting.id


_ROLES = ("GP", "Community Matron", "Adult Social Care", "Care Coordinator")


def prune_backups(dataset: Dataset) -> None:
    """Keep only the newest backup in the benchmark's own folder (they are copies of a large
    throwaway database; the app would keep up to 11)."""
    backups = sorted(dataset.paths.backups_dir.glob("*.db"), key=lambda p: p.stat().st_mtime)
    for old in backups[:-1]:
        old.unlink()
