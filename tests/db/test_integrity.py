"""Start-up checks, unclean shutdowns, a locked database and a full disk: the user gets one clear
sentence and the data stays as it was."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app import context as context_module
from app.context import (
    DAILY_BACKUP,
    FULL_CHECK,
    AppContext,
    MaintenanceResult,
    backup_before,
    maintain,
    open_context,
    run_maintenance,
)
from app.core.clock import FixedClock
from app.core.errors import StorageError
from app.core.paths import AppPaths
from app.db import backup as backup_module
from app.db import encryption, integrity
from app.db import engine as engine_module
from app.db.backup import list_backups
from app.db.integrity import (
    MARKER_DIR_NAME,
    DamagedDatabaseError,
    claim_open_marker,
    last_full_check,
)
from app.models import Patient
from app.services.import_patients import import_patients_file
from tests.db.factories import add_patient, count, nhs_number


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the full integrity checks run at start-up."""
    calls: list[int] = []
    real = integrity.full_check

    def spy(conn: object) -> list[str]:
        calls.append(1)
        return real(conn)

    monkeypatch.setattr(integrity, "full_check", spy)
    return calls


def _reopen(paths: AppPaths, clock: FixedClock) -> None:
    open_context(paths, clock=clock).close()


def test_a_clean_close_leaves_no_marker_and_the_next_start_runs_only_the_quick_check(
    data_dir: Path, clock: FixedClock, full_checks: list[int]
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    assert len(list((data_dir / MARKER_DIR_NAME).iterdir())) == 1
    ctx.close()
    assert list((data_dir / MARKER_DIR_NAME).iterdir()) == []
    _reopen(paths, clock)
    assert full_checks == []


def test_an_unclean_shutdown_triggers_a_full_check_once(
    data_dir: Path, clock: FixedClock, full_checks: list[int]
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    dead = claim_open_marker(data_dir)  # a process that never closed: its lock is gone
    assert dead._fh is not None
    dead._fh.close()

    _reopen(paths, clock)
    assert full_checks == [1]
    _reopen(paths, clock)  # the crash has been dealt with
    assert full_checks == [1]


def test_a_window_still_open_is_not_mistaken_for_a_crash(
    data_dir: Path, clock: FixedClock, full_checks: list[int]
) -> None:
    paths = AppPaths(data_dir)
    first = open_context(paths, clock=clock)
    try:
        _reopen(paths, clock)  # e.g. a command run while the desktop app is open
        assert full_checks == []
        assert first.marker is not None and first.marker.path.exists()
    finally:
        first.close()


def test_the_full_check_runs_weekly(
    data_dir: Path, clock: FixedClock, full_checks: list[int]
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    clock.advance(timedelta(days=6))
    _reopen(paths, clock)
    assert full_checks == []
    clock.advance(timedelta(days=1))
    _reopen(paths, clock)
    assert full_checks == [1]
    assert last_full_check(data_dir) == clock.now()


def _corrupt_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page + 200
    data[middle : middle + 16] = bytes(16)
    path.write_bytes(bytes(data))


def test_a_damaged_database_is_refused_naming_the_latest_good_backup(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    add_patient(ctx)
    good = backup_before(ctx, "manual")
    ctx.close()
    assert good is not None
    _corrupt_middle(paths.db_path)
    damaged = paths.db_path.read_bytes()

    with pytest.raises(DamagedDatabaseError) as err:
        _reopen(paths, clock)
    message = str(err.value)
    assert message.startswith("The database carecoord.db is damaged")
    assert "left untouched" in message
    assert good.name in message
    assert err.value.latest_backup == good
    assert paths.db_path.read_bytes() == damaged  # never deleted, never changed


def test_a_damaged_backup_is_not_offered_as_the_latest_good_one(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    add_patient(ctx)
    older = backup_before(ctx, "manual")
    newer = backup_before(ctx, "manual")
    ctx.close()
    assert older is not None and newer is not None
    _corrupt_middle(newer)
    _corrupt_middle(paths.db_path)
    with pytest.raises(DamagedDatabaseError) as err:
        _reopen(paths, clock)
    assert err.value.latest_backup == older


def test_broken_references_are_found_by_the_weekly_check(data_dir: Path, clock: FixedClock) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    key = ctx.db_key
    ctx.close()
    conn = encryption.connect(paths.db_path, key)  # foreign keys are off on a bare connection
    conn.execute(
        "INSERT INTO tasks (id, kind, title, patient_id, due_at, status, created_at) "
        "VALUES ('t1', 'other', 'x', 'no-such-patient', '2026-11-23 09:00:00', 'open', "
        "'2026-11-23 09:00:00')"
    )
    conn.commit()
    conn.close()

    _reopen(paths, clock)  # the quick check does not look at references
    clock.advance(timedelta(days=8))
    with pytest.raises(DamagedDatabaseError, match="point at missing records"):
        _reopen(paths, clock)


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 50)


@pytest.fixture
def writer_elsewhere(file_ctx: AppContext) -> Iterator[None]:
    """Another process in the middle of a long write transaction."""
    conn = encryption.connect(file_ctx.paths.db_path, file_ctx.db_key)
    conn.isolation_level = None
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.usefixtures("short_busy_timeout")
def test_a_locked_database_gives_one_clear_sentence(
    data_dir: Path, clock: FixedClock, file_ctx: AppContext, writer_elsewhere: None
) -> None:
    file_ctx.db.dispose()  # new connections pick up the short busy timeout
    with pytest.raises(StorageError) as err:
        add_patient(file_ctx)
    assert str(err.value) == (
        "The database is in use by another CareCoord window or command; close it and try again."
    )
    with pytest.raises(StorageError, match="in use by another CareCoord"):
        open_context(AppPaths(data_dir), clock=clock)


def _patients_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["nhs_number", "family_name", "given_name", "date_of_birth"])
        for i in range(rows):
            w.writerow([nhs_number(100 + i), f"Family{i:04d}", "Given", "1940-01-01"])
    return path


def test_a_full_disk_during_an_import_refuses_it_and_changes_nothing(
    file_ctx: AppContext, tmp_path: Path
) -> None:
    add_patient(file_ctx)
    source = _patients_csv(tmp_path / "patients.csv", 120)
    with pytest.raises(StorageError) as err, file_ctx.db.write() as s:
        pages = s.execute(text("PRAGMA page_count")).scalar_one()
        s.execute(text(f"PRAGMA max_page_count = {pages + 2}"))  # the disk fills up
        import_patients_file(s, source, skip_invalid=False, now=file_ctx.clock.now())
    assert str(err.value) == (
        "The disk is full: free some space and try again; nothing was changed."
    )
    file_ctx.db.dispose()  # back to connections without the limit
    assert count(file_ctx, Patient) == 1

    with file_ctx.db.write() as s:  # with space again, the same import goes through
        result = import_patients_file(s, source, skip_invalid=False, now=file_ctx.clock.now())
    assert result.created == 120
    raw = file_ctx.db.engine.raw_connection()
    try:
        assert integrity.full_check(raw.driver_connection) == []
    finally:
        raw.close()


# --- large databases: start-up stays quick, the rest runs in the background --------------------


def test_a_check_out_of_time_concludes_nothing_and_a_finished_one_reports() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("CREATE INDEX ix_t ON t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", ((f"row {i}",) for i in range(20_000)))
    assert integrity.run_check(conn, full=False, budget_seconds=1e-9) is None
    assert integrity.run_check(conn, full=True, budget_seconds=0) is None
    assert integrity.run_check(conn, full=True, budget_seconds=None) == []
    conn.close()


def test_a_full_check_that_does_not_fit_at_start_up_runs_in_maintenance(
    data_dir: Path, clock: FixedClock, full_checks: list[int]
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    dead = claim_open_marker(data_dir)
    assert dead._fh is not None
    dead._fh.close()

    ctx = open_context(paths, clock=clock, check_budget=0)  # as if the file were huge
    try:
        assert ctx.maintenance_due == [FULL_CHECK]
        assert full_checks == []
        assert run_maintenance(ctx) == []
        assert full_checks == [1] and ctx.maintenance_due == []
    finally:
        ctx.close()
    _reopen(paths, clock)  # the crash has been dealt with
    assert full_checks == [1]


def test_damage_found_by_maintenance_is_reported_like_at_start_up(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    key = ctx.db_key
    ctx.close()
    conn = encryption.connect(paths.db_path, key)
    conn.execute(
        "INSERT INTO tasks (id, kind, title, patient_id, due_at, status, created_at) "
        "VALUES ('t1', 'other', 'x', 'no-such-patient', '2026-11-23 09:00:00', 'open', "
        "'2026-11-23 09:00:00')"
    )
    conn.commit()
    conn.close()
    clock.advance(timedelta(days=8))
    ctx = open_context(paths, clock=clock, check_budget=0)
    try:
        with pytest.raises(DamagedDatabaseError, match="point at missing records"):
            run_maintenance(ctx)
    finally:
        ctx.close()


def test_the_daily_backup_of_a_big_database_waits_for_maintenance(
    data_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    clock.advance(timedelta(days=2))
    monkeypatch.setattr(context_module, "INLINE_BACKUP_MAX_BYTES", 0)
    ctx = open_context(paths, clock=clock)
    try:
        assert ctx.maintenance_due == [DAILY_BACKUP]
        assert list_backups(paths.backups_dir) == []
        assert run_maintenance(ctx) == []
        assert [b.reason for b in list_backups(paths.backups_dir)] == ["daily"]
    finally:
        ctx.close()


def test_a_big_database_is_not_checked_before_the_window_opens(
    data_dir: Path, clock: FixedClock, full_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    clock.advance(timedelta(days=8))  # the weekly check is due
    monkeypatch.setattr(context_module, "STARTUP_CHECK_MAX_BYTES", 0)  # as if it were huge
    ctx = open_context(paths, clock=clock)
    try:
        assert full_checks == []
        assert ctx.maintenance_due == [FULL_CHECK]
    finally:
        ctx.close()


# --- open markers of other processes; maintenance that can be stopped ------------------------

_HOLDER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from app.db.integrity import claim_open_marker\n"
    "marker = claim_open_marker(Path(sys.argv[1]))\n"
    "print(marker.path, flush=True)\n"
    "sys.stdin.read()\n"  # holds the data folder open until told to go (or killed)
)


@pytest.fixture
def other_process(data_dir: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[str], Path]]]:
    """Starts another process that opens ``data_dir`` (claims its marker) and keeps it open."""
    started: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], Path]:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        started.append(proc)
        assert proc.stdout is not None
        return proc, Path(proc.stdout.readline().strip())

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # reaps it and closes its pipes


def test_a_marker_records_its_process_id(data_dir: Path) -> None:
    marker = claim_open_marker(data_dir)
    try:
        assert integrity.marker_pid(marker.path) == os.getpid()
    finally:
        marker.release()


def test_a_killed_process_counts_as_one_unclean_shutdown_cleared_once_the_check_passes(
    data_dir: Path,
    clock: FixedClock,
    full_checks: list[int],
    other_process: Callable[[], tuple[subprocess.Popen[str], Path]],
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    proc, left = other_process()
    assert integrity.marker_pid(left) == proc.pid
    proc.kill()  # kill -9: the marker stays, its lock goes with the process
    proc.wait()
    assert left.exists()

    ctx = open_context(paths, clock=clock, check_budget=0)  # a big file: check deferred
    try:
        assert ctx.marker is not None and ctx.marker.stale == (left,)
        assert ctx.maintenance_due == [FULL_CHECK] and full_checks == []
        ctx.close()
        # closed before maintenance ran: the crash has not been dealt with yet
        ctx = open_context(paths, clock=clock, check_budget=0)
        assert ctx.maintenance_due == [FULL_CHECK] and left.exists()
        assert run_maintenance(ctx) == []
        assert full_checks == [1]
        assert not left.exists()  # cleared after the full check passed
        assert last_full_check(data_dir) == clock.now()
    finally:
        ctx.close()
    ctx = open_context(paths, clock=clock, check_budget=0)
    try:
        assert ctx.maintenance_due == []  # no longer "unclean"
    finally:
        ctx.close()
    assert list((data_dir / MARKER_DIR_NAME).iterdir()) == []


def test_a_running_process_keeps_its_marker_through_a_full_check(
    data_dir: Path,
    clock: FixedClock,
    full_checks: list[int],
    other_process: Callable[[], tuple[subprocess.Popen[str], Path]],
) -> None:
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    proc, live = other_process()
    dead = claim_open_marker(data_dir)  # and one that died
    assert dead._fh is not None
    dead._fh.close()

    ctx = open_context(paths, clock=clock, check_budget=0)
    try:
        assert ctx.marker is not None and ctx.marker.stale == (dead.path,)
        assert run_maintenance(ctx) == [] and full_checks == [1]
        assert live.exists() and not dead.path.exists()
        assert integrity.other_processes_open(data_dir, ctx.marker)
    finally:
        ctx.close()
    assert proc.poll() is None and live.exists()


def test_a_marker_taken_by_a_live_process_after_it_was_seen_is_not_cleared(
    data_dir: Path,
) -> None:
    mine = claim_open_marker(data_dir)
    starting = claim_open_marker(data_dir)  # seen unlocked while being created, then locked
    try:
        mine.stale = (starting.path,)
        mine.forget_stale()
        assert starting.path.exists() and mine.stale == ()
    finally:
        starting.release()
        mine.release()


def _deferred(data_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    """A context whose full check (after a crash) and daily backup wait for maintenance."""
    paths = AppPaths(data_dir)
    _reopen(paths, clock)
    dead = claim_open_marker(data_dir)
    assert dead._fh is not None
    dead._fh.close()
    clock.advance(timedelta(days=2))
    monkeypatch.setattr(context_module, "INLINE_BACKUP_MAX_BYTES", 0)
    ctx = open_context(paths, clock=clock, check_budget=0)
    assert ctx.maintenance_due == [FULL_CHECK, DAILY_BACKUP]
    return ctx


def test_stopped_maintenance_concludes_nothing_and_stays_due(
    data_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "PROGRESS_STEPS", 1)
    ctx = _deferred(data_dir, clock, monkeypatch)
    try:
        assert ctx.marker is not None
        stale = ctx.marker.stale
        checked = last_full_check(data_dir)
        assert maintain(ctx, cancel=lambda: True) == MaintenanceResult(cancelled=True)
        assert ctx.maintenance_due == [FULL_CHECK, DAILY_BACKUP]
        assert ctx.marker.stale == stale and all(p.exists() for p in stale)
        assert last_full_check(data_dir) == checked

        # the check passes, then the backup is stopped part-way: no file, still due
        steps: list[int] = []
        monkeypatch.setattr(backup_module, "STEP_PAGES", 1)

        def stop_in_the_backup() -> bool:
            if FULL_CHECK in ctx.maintenance_due:
                return False
            steps.append(1)
            return len(steps) > 2

        result = maintain(ctx, cancel=stop_in_the_backup)
        assert result.cancelled and result.checked_at == clock.now()
        assert ctx.maintenance_due == [DAILY_BACKUP]
        assert list(ctx.paths.backups_dir.iterdir()) == []
        assert not any(p.exists() for p in stale)
    finally:
        ctx.close()


def test_maintenance_does_not_hold_up_a_writer(
    data_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the check reads and the backup copies, another connection writes at once (a
    busy timeout of 0: it would fail if maintenance held the write lock)."""
    monkeypatch.setattr(integrity, "PROGRESS_STEPS", 100)
    monkeypatch.setattr(backup_module, "STEP_PAGES", 2)
    ctx = _deferred(data_dir, clock, monkeypatch)
    writer = encryption.connect(ctx.paths.db_path, ctx.db_key)
    writer.isolation_level = None
    writer.execute("PRAGMA busy_timeout = 0")
    writes: list[int] = []

    def write_meanwhile() -> bool:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE local_state SET next_seq = next_seq + 1")
        writer.execute("COMMIT")
        writes.append(1)
        return False

    try:
        result = maintain(ctx, cancel=write_meanwhile)
        assert not result.cancelled and result.backup is not None and result.warnings == ()
        assert len(writes) > 2
        assert ctx.maintenance_due == []
    finally:
        writer.close()
        ctx.close()
