"""Backups with SQLite's online backup API, checked with integrity_check after writing.

Backups are encrypted with the database key (the backup API copies between two keyed
connections), written to a temporary name, checked, fsynced and renamed, and named
``carecoord-<UTC stamp>-<reason>.db`` so their age is known without trusting file times.
Rotation keeps the newest backup of each of the last 7 days and of each of the last 4 ISO
weeks that have one (Europe/London dates), plus up to 10 backups of the last 24 hours (a day
with several bundle imports keeps the state before each). A restore keeps the current file aside as
``carecoord-<stamp>-replaced.db``; those files are never rotated away.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.core.errors import KeyError_, StorageError
from app.core.secrets import fsync_directory
from app.core.timeutil import to_local
from app.db import encryption
from app.db.encryption import (
    DatabaseKey,
    FileKind,
    export_encrypted,
    file_kind,
    fsync_file,
    is_disk_full,
    remove_quietly,
    sidecars,
)
from app.db.integrity import PROGRESS_STEPS, MaintenanceCancelled

log = logging.getLogger(__name__)

KEEP_DAILY = 7
KEEP_WEEKLY = 4
# Several backups on one day (before each bundle import): keep the day's earlier ones for a
# while, so the state before the first import of the day can still be restored.
KEEP_RECENT = 10
RECENT_WINDOW = timedelta(hours=24)
DAILY_INTERVAL = timedelta(hours=24)
REPLACED_REASON = "replaced"
STALE_PART_SECONDS = 3600
STEP_PAGES = 1024  # pages per step of a cancellable copy (4 MiB at the default page size)
_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^carecoord-(\d{8}T\d{12}Z)-([a-z0-9-]+)\.db$")
_REQUIRED_TABLES = {"alembic_version", "local_state"}


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime  # UTC, from the file name
    reason: str


def _slug(reason: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")
    return slug or "manual"


def backup_name(now: datetime, reason: str) -> str:
    return f"carecoord-{now.astimezone(UTC).strftime(_STAMP_FORMAT)}-{_slug(reason)}.db"


def _unique(directory: Path, now: datetime, reason: str) -> Path:
    target = directory / backup_name(now, reason)
    while target.exists():  # two backups in the same microsecond (a fixed test clock)
        now = now + timedelta(microseconds=1)
        target = directory / backup_name(now, reason)
    return target


def parse_backup_name(path: Path) -> BackupFile | None:
    m = _NAME.match(path.name)
    if m is None:
        return None
    taken = datetime.strptime(m.group(1), _STAMP_FORMAT).replace(tzinfo=UTC)
    return BackupFile(path=path, taken_at=taken, reason=m.group(2))


def list_backups(backups_dir: Path) -> list[BackupFile]:
    """Backups in ``backups_dir``, newest first (files kept aside by a restore excluded)."""
    if not backups_dir.is_dir():
        return []
    found = [parse_backup_name(p) for p in backups_dir.glob("carecoord-*.db")]
    backups = [b for b in found if b is not None and b.reason != REPLACED_REASON]
    return sorted(backups, key=lambda b: b.taken_at, reverse=True)


def latest_backup_time(backups_dir: Path) -> datetime | None:
    backups = list_backups(backups_dir)
    return backups[0].taken_at if backups else None


def daily_backup_due(backups_dir: Path, now: datetime, *, created: datetime | None = None) -> bool:
    """True when the newest backup (or the database's creation, when later) is more than
    24 hours old, or when there is neither."""
    times = [t for t in (latest_backup_time(backups_dir), created) if t is not None]
    return not times or now - max(times) > DAILY_INTERVAL


def backups_to_keep(backups: list[BackupFile]) -> set[Path]:
    """Newest of each of the last 7 days and of each of the last 4 ISO weeks (London time),
    and every backup of the 24 hours before the newest one (at most 10)."""
    keep: set[Path] = set()
    days: set[object] = set()
    weeks: set[object] = set()
    ordered = sorted(backups, key=lambda x: x.taken_at, reverse=True)
    if ordered:
        newest = ordered[0].taken_at
        recent = [b for b in ordered if newest - b.taken_at < RECENT_WINDOW]
        keep.update(b.path for b in recent[:KEEP_RECENT])
    for b in ordered:
        local_day = to_local(b.taken_at).date()
        week = local_day.isocalendar()[:2]
        if local_day not in days and len(days) < KEEP_DAILY:
            days.add(local_day)
            keep.add(b.path)
        if week not in weeks and len(weeks) < KEEP_WEEKLY:
            weeks.add(week)
            keep.add(b.path)
    return keep


def rotate_backups(backups_dir: Path) -> list[Path]:
    """Delete backups outside the 7 daily + 4 weekly (+ recent) window; returns them."""
    backups = list_backups(backups_dir)
    keep = backups_to_keep(backups)
    removed: list[Path] = []
    for b in backups:
        if b.path not in keep:
            remove_quietly(b.path, *sidecars(b.path))
            removed.append(b.path)
    if removed:
        log.info("backup rotation removed %d old backup(s)", len(removed))
    return removed


def _remove_stale_parts(backups_dir: Path) -> None:
    """Half-written backups of a process that was killed (older than an hour)."""
    cutoff = time.time() - STALE_PART_SECONDS
    for p in backups_dir.glob("*.part"):
        try:
            if p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            continue


def _target_connection(source: Any, path: Path, key: DatabaseKey | None) -> Any:
    if isinstance(source, sqlite3.Connection):  # a plaintext test or in-memory database
        if key is not None:
            raise StorageError("An encrypted backup needs an encrypted database.")
        return sqlite3.connect(str(path))
    if key is None:  # never a readable copy of an encrypted database
        raise StorageError("The database key is needed to back up an encrypted database.")
    return encryption.connect(path, key)


def copy_pages(source: Any, target: Any) -> None:
    """The online backup API: a consistent copy of every page of ``source``."""
    source.backup(target)


def copy_pages_until(source: Any, target: Any, cancel: Callable[[], bool]) -> None:
    """:func:`copy_pages` in steps of :data:`STEP_PAGES`, stopping (MaintenanceCancelled)
    between two steps once ``cancel()`` is true.

    The copy runs inside one read transaction on ``source`` (its isolation level is None:
    we begin it ourselves), so every step sees the same snapshot and writes made meanwhile
    by other connections neither restart the copy nor wait for it (WAL: readers do not block
    writers).
    """

    def step(_status: int, _remaining: int, _total: int) -> None:
        if cancel():
            raise MaintenanceCancelled("the backup was stopped")

    if cancel():
        raise MaintenanceCancelled("the backup was stopped")
    source.execute("BEGIN")
    try:
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pins the snapshot
        source.backup(target, pages=STEP_PAGES, progress=step)
    finally:
        source.execute("ROLLBACK")


def backup_database(
    engine: Engine,
    backups_dir: Path,
    *,
    reason: str = "manual",
    out: Path | None = None,
    key: DatabaseKey | None = None,
    now: datetime | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Copy the live database to ``out`` (default: a timestamped file in ``backups_dir``).

    ``key`` encrypts the copy (it must be the live database's key). The copy is checked with
    ``integrity_check`` before it gets its final name; backups in ``backups_dir`` are then
    rotated. A full disk raises StorageError and leaves no partial file. With ``cancel``
    (background maintenance) the copy and its check stop soon after ``cancel()`` becomes
    true, raising MaintenanceCancelled and leaving no partial file either.
    """
    now = now or datetime.now(UTC)
    try:
        backups_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(backups_dir)
    except OSError as exc:
        raise _os_error("The backups folder cannot be written", exc) from exc
    target = out or _unique(backups_dir, now, reason)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex[:8]}.part")
    raw = engine.raw_connection()
    try:
        dst = _target_connection(raw.driver_connection, tmp, key)
        try:
            if cancel is None:
                copy_pages(raw.driver_connection, dst)
            else:
                copy_pages_until(raw.driver_connection, dst, cancel)
                dst.set_progress_handler(lambda: int(cancel()), PROGRESS_STEPS)
            result = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
        finally:
            dst.close()
        if result != ["ok"]:
            raise StorageError(
                f"The backup {target.name} failed its integrity check and was not kept."
            )
        fsync_file(tmp)
        tmp.replace(target)
        fsync_directory(target.parent)
    except (encryption.dbapi.Error, sqlite3.Error, OSError) as exc:
        remove_quietly(tmp, *sidecars(tmp))
        if cancel is not None and cancel():
            raise MaintenanceCancelled("the backup was stopped") from exc
        if is_disk_full(exc):
            raise StorageError(
                f"The disk is full: the backup {target.name} could not be written; "
                "nothing was changed."
            ) from exc
        raise StorageError(f"The backup {target.name} could not be written ({exc}).") from exc
    except BaseException:
        remove_quietly(tmp, *sidecars(tmp))
        raise
    finally:
        raw.close()
    log.info("backup written and checked: %s", target.name)
    if out is None:
        rotate_backups(backups_dir)
    return target


def _os_error(what: str, exc: OSError) -> StorageError:
    if is_disk_full(exc):
        return StorageError(f"The disk is full: {what.lower()}; nothing was changed.")
    return StorageError(f"{what} ({exc.strerror}).")


# --- checking and restoring backup files ----------------------------------------------------


def check_backup_file(path: Path, key: DatabaseKey | None) -> DatabaseKey | None:
    """Raise unless ``path`` is a sound CareCoord backup that ``key`` opens.

    Returns the key to read it with (None for a plaintext file from an older CareCoord).
    """
    kind = file_kind(path)
    if not path.is_file() or kind is FileKind.ABSENT:
        raise StorageError(f"The backup {path.name} does not exist or is empty.")
    read_key = key if kind is FileKind.ENCRYPTED else None
    try:
        conn = encryption.connect(path, read_key)
    except encryption.dbapi.Error as exc:
        raise StorageError(f"The backup {path.name} cannot be opened ({exc}).") from exc
    try:
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        except encryption.dbapi.DatabaseError as exc:
            raise KeyError_(
                f"The backup {path.name} cannot be read with this data folder's key "
                "(it was made elsewhere, or it is not a CareCoord backup)."
            ) from exc
        if not _REQUIRED_TABLES.issubset(tables):
            raise StorageError(f"{path.name} is not a CareCoord backup.")
        try:
            result = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        except encryption.dbapi.DatabaseError as exc:
            result = [str(exc)]
        if result != ["ok"]:
            raise StorageError(f"The backup {path.name} is damaged ({result[0]}).")
    finally:
        conn.close()
    return read_key


def latest_good_backup(backups_dir: Path, key: DatabaseKey | None) -> Path | None:
    """The newest backup that opens with ``key`` and passes its integrity check."""
    for b in list_backups(backups_dir):
        try:
            check_backup_file(b.path, key)
        except (StorageError, KeyError_, encryption.dbapi.Error):
            continue
        return b.path
    return None


@dataclass(frozen=True)
class RestoredBackup:
    restored_from: Path
    replaced: Path | None  # where the previous database was kept (None: there was none)


def restore_database(
    db_path: Path,
    backup_file: Path,
    *,
    key: DatabaseKey | None,
    backups_dir: Path,
    now: datetime | None = None,
) -> RestoredBackup:
    """Replace ``db_path`` by a copy of ``backup_file`` (nothing may have the database open).

    The backup is checked first; the copy is encrypted with ``key`` and checked; the current
    file (and its WAL) is copied aside as ``carecoord-<stamp>-replaced.db``; then the copy is
    renamed over the database. Any failure before the rename leaves the database as it was.
    """
    now = now or datetime.now(UTC)
    backup_file = Path(backup_file)
    read_key = check_backup_file(backup_file, key)
    staging = db_path.with_name(db_path.name + ".restoring")
    replaced: Path | None = None
    try:
        backups_dir.mkdir(parents=True, exist_ok=True)
        if key is not None:
            export_encrypted(backup_file, read_key, staging, key)
        else:
            remove_quietly(staging)
            shutil.copyfile(backup_file, staging)
            fsync_file(staging)
        wal, shm = sidecars(db_path)
        if file_kind(db_path) is not FileKind.ABSENT:
            try:
                encryption.make_self_contained(db_path, key)
            except encryption.dbapi.Error:
                log.warning("the current database could not be checkpointed before restore")
            replaced = _unique(backups_dir, now, REPLACED_REASON)
            shutil.copyfile(db_path, replaced)
            if wal.exists():
                shutil.copyfile(wal, sidecars(replaced)[0])
            fsync_file(replaced)
            fsync_directory(backups_dir)
        remove_quietly(wal, shm)
        os.replace(staging, db_path)
    except (OSError, encryption.dbapi.Error) as exc:
        _discard(staging, replaced)
        what = f"The backup {backup_file.name} could not be restored"
        if isinstance(exc, OSError):
            raise _os_error(what, exc) from exc
        if is_disk_full(exc):
            raise StorageError(f"The disk is full: {what.lower()}; nothing was changed.") from exc
        raise StorageError(f"{what} ({exc}).") from exc
    except BaseException:
        _discard(staging, replaced)
        raise
    fsync_directory(db_path.parent)
    log.info("database restored from %s", backup_file.name)
    return RestoredBackup(restored_from=backup_file, replaced=replaced)


def _discard(staging: Path, replaced: Path | None) -> None:
    remove_quietly(staging, *sidecars(staging))
    if replaced is not None:
        remove_quietly(replaced, *sidecars(replaced))
