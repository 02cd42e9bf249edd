"""Backups: encrypted, checked, taken daily / before migrations and imports, rotated 7 daily +
4 weekly, and restorable with the current file kept aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.context import AppContext, backup_before, open_context, restore_backup
from app.core.clock import FixedClock
from app.core.errors import KeyError_, StorageError
from app.core.paths import AppPaths
from app.core.secrets import MemorySecretStore
from app.core.timeutil import to_local
from app.db import backup as backup_module
from app.db.backup import (
    BackupFile,
    backups_to_keep,
    check_backup_file,
    list_backups,
    rotate_backups,
)
from app.db.encryption import FileKind, dbapi, file_kind
from app.models import Patient
from tests.db.factories import add_patient, count


def test_backup_before_writes_an_encrypted_checked_copy(file_ctx: AppContext) -> None:
    add_patient(file_ctx)
    made = backup_before(file_ctx, "pre-import")
    assert made is not None
    assert made.parent == file_ctx.paths.backups_dir
    assert "pre-import" in made.name
    assert file_kind(made) is FileKind.ENCRYPTED
    check_backup_file(made, file_ctx.db_key)  # opens with the data folder's key, sound
    with pytest.raises(KeyError_):
        check_backup_file(made, None)
    assert not list(file_ctx.paths.backups_dir.glob("*.part"))


def test_an_in_memory_database_has_no_backup(ctx: AppContext) -> None:
    assert backup_before(ctx, "pre-import") is None


def test_start_up_backs_up_when_the_last_backup_is_over_a_day_old(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    open_context(paths, clock=clock).close()
    clock.advance(timedelta(hours=23))
    open_context(paths, clock=clock).close()
    assert list_backups(paths.backups_dir) == []  # a database a day old needs none yet

    clock.advance(timedelta(hours=2))
    open_context(paths, clock=clock).close()
    first = list_backups(paths.backups_dir)
    assert [b.reason for b in first] == ["daily"]

    clock.advance(timedelta(hours=23))  # 23 h after the last backup: not yet
    open_context(paths, clock=clock).close()
    assert len(list_backups(paths.backups_dir)) == 1

    clock.advance(timedelta(hours=2))
    open_context(paths, clock=clock).close()
    assert [b.taken_at for b in list_backups(paths.backups_dir)] == [
        clock.now(),
        first[0].taken_at,
    ]


def test_a_failed_daily_backup_does_not_stop_the_start_but_is_reported(
    data_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = AppPaths(data_dir)
    open_context(paths, clock=clock).close()
    clock.advance(timedelta(days=2))

    def full_disk(source: object, target: object) -> None:
        raise dbapi.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_module, "copy_pages", full_disk)
    ctx = open_context(paths, clock=clock)
    try:
        assert len(ctx.warnings) == 1
        assert "The disk is full" in ctx.warnings[0]
    finally:
        ctx.close()


def test_a_full_disk_refuses_the_backup_and_leaves_no_partial_file(
    file_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(source: object, target: object) -> None:
        raise dbapi.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_module, "copy_pages", full_disk)
    with pytest.raises(StorageError, match=r"^The disk is full: .*nothing was changed\.$"):
        backup_before(file_ctx, "pre-import")
    assert list(file_ctx.paths.backups_dir.iterdir()) == []


def _stamps(times: list[datetime]) -> list[BackupFile]:
    return [
        BackupFile(path=Path(f"b{i}.db"), taken_at=t, reason="daily") for i, t in enumerate(times)
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 6, 30)).map(
            lambda d: d.replace(tzinfo=UTC)
        ),
        min_size=1,
        max_size=60,
        unique=True,
    )
)
def test_rotation_keeps_7_daily_4_weekly_and_the_last_day(times: list[datetime]) -> None:
    backups = _stamps(times)
    kept = backups_to_keep(backups)
    by_path = {b.path: b for b in backups}
    newest = max(backups, key=lambda b: b.taken_at)
    assert newest.path in kept

    kept_days = {to_local(by_path[p].taken_at).date() for p in kept}
    all_days = sorted({to_local(b.taken_at).date() for b in backups}, reverse=True)
    all_weeks = sorted(
        {to_local(b.taken_at).date().isocalendar()[:2] for b in backups}, reverse=True
    )
    assert set(all_days[:7]) <= kept_days  # each of the 7 most recent days is covered
    for week in all_weeks[:4]:  # ... and each of the 4 most recent weeks
        assert any(to_local(by_path[p].taken_at).date().isocalendar()[:2] == week for p in kept)
    recent = [b for b in backups if newest.taken_at - b.taken_at < timedelta(hours=24)]
    assert len(recent) > 10 or {b.path for b in recent} <= kept  # the last day, up to 10
    assert len(kept) <= 7 + 4 + 10
    for p in kept - {b.path for b in recent}:  # older ones kept are the newest of their day
        day = to_local(by_path[p].taken_at).date()
        same_day = [b for b in backups if to_local(b.taken_at).date() == day]
        assert by_path[p].taken_at == max(b.taken_at for b in same_day)


def test_rotation_deletes_old_backups_but_never_files_kept_aside(
    file_ctx: AppContext, clock: FixedClock
) -> None:
    for _ in range(40):  # forty days of daily backups
        clock.advance(timedelta(days=1))
        backup_before(file_ctx, "daily")
    aside = file_ctx.paths.backups_dir / "carecoord-20200101T000000000000Z-replaced.db"
    aside.write_bytes(b"kept aside by a restore")
    rotate_backups(file_ctx.paths.backups_dir)
    remaining = list_backups(file_ctx.paths.backups_dir)
    assert 7 <= len(remaining) <= 11
    assert remaining[0].taken_at == clock.now()
    assert aside.exists()


def test_restore_brings_back_the_backup_and_keeps_the_current_file_aside(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    first = add_patient(ctx, n=1)
    made = backup_before(ctx, "manual")
    assert made is not None
    second = add_patient(ctx, n=2)
    secrets = ctx.secrets
    ctx.close()

    clock.advance(timedelta(minutes=5))
    result = restore_backup(paths, made, secrets=secrets, clock=clock)
    assert result.replaced is not None
    assert result.replaced.name.endswith("-replaced.db")
    assert file_kind(result.replaced) is FileKind.ENCRYPTED

    after = open_context(paths, clock=clock, secrets=secrets)
    try:
        with after.db.read() as s:
            assert s.get(Patient, first) is not None
            assert s.get(Patient, second) is None
    finally:
        after.close()

    # the file kept aside still holds the newer state and can itself be restored
    restore_backup(paths, result.replaced, secrets=secrets, clock=clock)
    again = open_context(paths, clock=clock, secrets=secrets)
    try:
        assert count(again, Patient) == 2
    finally:
        again.close()


def test_restore_is_refused_while_the_database_is_open(file_ctx: AppContext) -> None:
    made = backup_before(file_ctx, "manual")
    assert made is not None
    with pytest.raises(StorageError, match="in use by another CareCoord window"):
        restore_backup(file_ctx.paths, made, secrets=file_ctx.secrets)


def test_a_damaged_backup_is_refused_and_the_database_left_as_it_was(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    store = MemorySecretStore()
    ctx = open_context(paths, clock=clock, secrets=store)
    add_patient(ctx)
    made = backup_before(ctx, "manual")
    assert made is not None
    ctx.close()
    data = bytearray(made.read_bytes())
    data[len(data) // 2] ^= 0xFF
    made.write_bytes(bytes(data))
    before = paths.db_path.read_bytes()

    with pytest.raises(StorageError, match=r"damaged|cannot be read"):
        restore_backup(paths, made, secrets=store, clock=clock)
    assert paths.db_path.read_bytes() == before
    assert [p for p in paths.backups_dir.iterdir() if "replaced" in p.name] == []


def test_a_backup_from_another_data_folder_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    other = AppPaths(tmp_path / "other")
    octx = open_context(other, clock=clock, secrets=MemorySecretStore())
    made = backup_before(octx, "manual")
    octx.close()
    assert made is not None
    mine = AppPaths(tmp_path / "mine")
    store = MemorySecretStore()
    open_context(mine, clock=clock, secrets=store).close()
    with pytest.raises(KeyError_, match="cannot be read with this data folder's key"):
        restore_backup(mine, made, secrets=store, clock=clock)


def test_an_encrypted_database_is_never_backed_up_without_its_key(
    file_ctx: AppContext,
) -> None:
    with pytest.raises(StorageError, match="database key is needed"):
        backup_module.backup_database(file_ctx.db.engine, file_ctx.paths.backups_dir)
    assert list(file_ctx.paths.backups_dir.iterdir()) == []
