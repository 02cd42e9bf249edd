"""AppContext: everything a command or a window needs, built once in ``main()`` and passed on
(no global singletons).

Opening a data folder (:func:`open_context`) is where data safety happens:

1. the secret store is opened (OS keyring, or the passphrase-protected key file) and the
   database key taken from it; a plaintext database from an older CareCoord is encrypted in
   place after an encrypted backup;
2. an open marker is written (removed at a clean :meth:`AppContext.close`);
3. ``quick_check`` runs, or the full integrity and foreign-key check when a week has passed
   or the previous process died with the database open; a damaged database raises
   :class:`~app.db.integrity.DamagedDatabaseError` naming the latest good backup;
4. migrations run after a backup; a daily backup is made when the last is over 24 hours old.

On a large database the checks and the daily backup would hold the window back for minutes:
what does not fit in a few seconds is left in ``ctx.maintenance_due`` for
:func:`run_maintenance`, which the desktop app runs in the background once its first screen
is up (``app.ui.maintenance``): the check only reads and the backup copies one read snapshot,
so neither holds the write lock while the coordinator works, and both stop cleanly when asked.
Open markers of processes that died are cleared only once a full check has passed.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from app.core.clock import Clock, SystemClock
from app.core.errors import KeyError_, StorageError, ValidationError
from app.core.paths import PASSPHRASE_ENV, AppPaths
from app.core.secrets import MemorySecretStore, SecretStore, open_secret_store
from app.db import encryption
from app.db.backup import (
    RestoredBackup,
    backup_database,
    backup_name,
    daily_backup_due,
    latest_good_backup,
    restore_database,
)
from app.db.encryption import DatabaseKey, FileKind, connector, file_kind
from app.db.engine import make_engine
from app.db.integrity import (
    DamagedDatabaseError,
    MaintenanceCancelled,
    OpenMarker,
    claim_open_marker,
    damaged_message,
    database_created,
    full_check_due,
    other_processes_open,
    record_created,
    record_full_check,
    run_check,
)
from app.db.migrate import upgrade_to_head
from app.db.unit_of_work import Database
from app.sync import changelog

log = logging.getLogger(__name__)

# Start-up must stay quick on a large database (a 50,000-patient team with a year of work is
# over a gigabyte, and reading it all through SQLCipher takes a minute or more): only a file
# up to STARTUP_CHECK_MAX_BYTES is checked before the window opens, within
# STARTUP_CHECK_SECONDS; a full check that does not fit, and the daily backup of a file over
# INLINE_BACKUP_MAX_BYTES, wait for run_maintenance (in the background).
STARTUP_CHECK_SECONDS = 2.0
STARTUP_CHECK_MAX_BYTES = 64 * 1024 * 1024
INLINE_BACKUP_MAX_BYTES = 64 * 1024 * 1024
FULL_CHECK = "full check"
DAILY_BACKUP = "daily backup"
PassphraseProvider = Callable[[], str]


@dataclass
class AppContext:
    paths: AppPaths
    clock: Clock
    db: Database
    device_id: str = field(default="")
    secrets: SecretStore | None = field(default=None, repr=False)
    """The store holding the database key, and the team and device keys of sync."""
    db_key: DatabaseKey | None = field(default=None, repr=False)
    in_memory: bool = False
    warnings: list[str] = field(default_factory=list)
    """Things the user should hear about that did not stop the start (e.g. a failed backup)."""
    maintenance_due: list[str] = field(default_factory=list)
    """Start-up work left for :func:`run_maintenance`: FULL_CHECK, DAILY_BACKUP."""
    marker: OpenMarker | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the database; a clean close removes the open marker. Safe to call twice."""
        self.db.dispose()
        if self.marker is not None:
            self.marker.release()
            self.marker = None


def build_database(engine: Engine, clock: Clock) -> Database:
    return Database(
        engine,
        session_info={changelog.CHANGE_CONTEXT_KEY: changelog.ChangeContext(clock=clock)},
        configure=changelog.install,
    )


def terminal_passphrase_provider(paths: AppPaths) -> PassphraseProvider:
    """``CARECOORD_PASSPHRASE`` when set, otherwise ask on the terminal (twice for a new key
    file); without a terminal, a KeyError_ saying how to supply it."""

    def provide() -> str:
        value = os.environ.get(PASSPHRASE_ENV)
        if value:
            return value
        if sys.stdin is None or not sys.stdin.isatty():
            raise KeyError_(
                f"A passphrase is needed to unlock CareCoord's key file: set {PASSPHRASE_ENV} "
                "or run the command in a terminal."
            )
        if paths.key_file.exists():
            return getpass.getpass("CareCoord passphrase: ")
        first = getpass.getpass("Choose a passphrase to protect CareCoord's keys: ")
        if getpass.getpass("Type the passphrase again: ") != first:
            raise ValidationError("The two passphrases differ; nothing was created.")
        return first

    return provide


def _open_store(
    paths: AppPaths,
    secrets: SecretStore | None,
    passphrase_provider: PassphraseProvider | None,
) -> SecretStore:
    if secrets is not None:
        return secrets
    return open_secret_store(
        key_file=paths.key_file,
        passphrase_provider=passphrase_provider or terminal_passphrase_provider(paths),
    )


def _database_bytes(paths: AppPaths) -> int:
    wal = paths.db_path.with_name(paths.db_path.name + "-wal")
    return sum(p.stat().st_size for p in (paths.db_path, wal) if p.exists())


def _damaged(paths: AppPaths, key: DatabaseKey | None, problems: list[str]) -> DamagedDatabaseError:
    log.error("integrity check failed: %d problem(s)", len(problems))
    latest = latest_good_backup(paths.backups_dir, key)
    return DamagedDatabaseError(
        damaged_message(paths.db_path.name, problems, latest), latest_backup=latest
    )


def _check_database(
    paths: AppPaths,
    key: DatabaseKey | None,
    marker: OpenMarker | None,
    clock: Clock,
    *,
    full: bool,
    budget_seconds: float | None,
    cancel: Callable[[], bool] | None = None,
) -> bool:
    """Run the check; True when it finished (False: out of time or cancelled, nothing
    concluded).

    Raises DamagedDatabaseError when it finds a problem, StorageError when locked.
    """
    conn = encryption.connect(paths.db_path, key)
    try:
        problems = run_check(conn, full=full, budget_seconds=budget_seconds, cancel=cancel)
    except encryption.dbapi.Error as exc:
        if encryption.is_locked(exc):
            raise StorageError(encryption.LOCKED_MESSAGE) from exc
        raise
    finally:
        conn.close()
    if problems is None:
        log.info("%s check left for later (out of time or stopped)", "full" if full else "quick")
        return False
    if problems:
        raise _damaged(paths, key, problems)
    if full:
        log.info("full integrity check passed")
        record_full_check(paths.data_dir, clock.now())
        if marker is not None:
            marker.forget_stale()
    return True


@dataclass(frozen=True)
class MaintenanceResult:
    """What :func:`maintain` did (immutable: it crosses from the worker thread)."""

    checked_at: datetime | None = None
    """When the full integrity check passed (None: it was not due, or was stopped)."""
    backup: str | None = None
    """The name of the daily backup made (None: not due, stopped, or failed)."""
    warnings: tuple[str, ...] = ()
    cancelled: bool = False
    """Stopped before the end: what was left stays in ``ctx.maintenance_due``."""


def maintain(ctx: AppContext, *, cancel: Callable[[], bool] | None = None) -> MaintenanceResult:
    """Do what start-up left for later (``ctx.maintenance_due``): the full integrity check,
    then the daily backup. Meant for a background worker once the window is up; uses its own
    connections. The check only reads and the backup copies one read snapshot, so writers
    are not held up. Once ``cancel()`` is true both stop soon, conclude nothing, leave no
    partial backup, and stay due. Raises DamagedDatabaseError when the check finds a problem
    (the file is left untouched, and nothing is backed up)."""
    if ctx.in_memory:
        return MaintenanceResult()
    checked_at: datetime | None = None
    backup: str | None = None
    warnings: list[str] = []
    if FULL_CHECK in ctx.maintenance_due:
        started = ctx.clock.now()
        finished = _check_database(
            ctx.paths,
            ctx.db_key,
            ctx.marker,
            ctx.clock,
            full=True,
            budget_seconds=None,
            cancel=cancel,
        )
        if not finished:
            return MaintenanceResult(cancelled=True)
        ctx.maintenance_due.remove(FULL_CHECK)
        checked_at = started
    if DAILY_BACKUP in ctx.maintenance_due:
        try:
            made = backup_before(ctx, "daily", cancel=cancel)
        except MaintenanceCancelled:
            return MaintenanceResult(checked_at=checked_at, cancelled=True)
        except StorageError as exc:
            warnings.append(f"The daily backup was not made: {exc}")
        else:
            backup = made.name if made is not None else None
        ctx.maintenance_due.remove(DAILY_BACKUP)
    return MaintenanceResult(checked_at=checked_at, backup=backup, warnings=tuple(warnings))


def run_maintenance(ctx: AppContext, *, cancel: Callable[[], bool] | None = None) -> list[str]:
    """:func:`maintain`, returning only the warnings for the user."""
    return list(maintain(ctx, cancel=cancel).warnings)


def open_context(
    paths: AppPaths,
    *,
    clock: Clock | None = None,
    passphrase_provider: PassphraseProvider | None = None,
    secrets: SecretStore | None = None,
    check_budget: float | None = None,
) -> AppContext:
    """Open (creating if needed) the data folder ``paths``: keys, checks, migration, backups.

    ``passphrase_provider`` is asked only when the key file is used (no OS keyring); the
    default reads ``CARECOORD_PASSPHRASE`` or prompts on the terminal. ``secrets`` replaces
    the secret store altogether (tests, the smoke test).

    The start-up check (quick, or full when a week has passed or after an unclean shutdown)
    gets ``check_budget`` seconds (``math.inf``: unlimited); by default
    :data:`STARTUP_CHECK_SECONDS` for a database up to :data:`STARTUP_CHECK_MAX_BYTES`, none
    for a bigger one. A full check that does not fit, and the daily backup of a database over
    :data:`INLINE_BACKUP_MAX_BYTES`, are listed in ``ctx.maintenance_due`` for
    :func:`run_maintenance` (the desktop app runs it in the background once its window is up).
    """
    from app.services.reference import seed_reference_data

    clock = clock or SystemClock()
    try:
        paths.ensure()
    except OSError as exc:
        raise StorageError(
            f"CareCoord cannot create its data folder {paths.data_dir} ({exc.strerror})."
        ) from exc
    store = _open_store(paths, secrets, passphrase_provider)
    kind = file_kind(paths.db_path)
    fresh = kind is FileKind.ABSENT
    marker = claim_open_marker(paths.data_dir)
    engine: Engine | None = None
    warnings: list[str] = []
    try:
        key = encryption.key_for_data_folder(paths.db_path, store)
        if kind is FileKind.PLAINTEXT:
            if other_processes_open(paths.data_dir, marker):
                raise StorageError(encryption.LOCKED_MESSAGE)
            encryption.encrypt_in_place(
                paths.db_path,
                key,
                backups_dir=paths.backups_dir,
                backup_name=backup_name(clock.now(), "pre-encryption"),
            )
        maintenance: list[str] = []
        if fresh:
            record_created(paths.data_dir, clock.now())
        else:
            full = marker.unclean_shutdown or full_check_due(paths.data_dir, clock.now())
            budget = check_budget
            if budget is None:  # big files are not checked before the window opens
                small = _database_bytes(paths) <= STARTUP_CHECK_MAX_BYTES
                budget = STARTUP_CHECK_SECONDS if small else 0.0
            finished = _check_database(paths, key, marker, clock, full=full, budget_seconds=budget)
            if full and not finished:
                maintenance.append(FULL_CHECK)
        db_engine = make_engine(
            paths.db_path, creator=connector(paths.db_path, key), module=encryption.dbapi
        )
        engine = db_engine
        upgrade_to_head(
            db_engine,
            backup=lambda: backup_database(
                db_engine, paths.backups_dir, reason="pre-migration", key=key, now=clock.now()
            ),
        )
        created = database_created(paths.data_dir)
        if not fresh and daily_backup_due(paths.backups_dir, clock.now(), created=created):
            if _database_bytes(paths) > INLINE_BACKUP_MAX_BYTES:
                maintenance.append(DAILY_BACKUP)  # minutes for a big file: not before the window
            else:
                try:
                    backup_database(
                        db_engine, paths.backups_dir, reason="daily", key=key, now=clock.now()
                    )
                except StorageError as exc:  # the user can still work; tell them
                    log.warning("daily backup failed")
                    warnings.append(f"The daily backup was not made: {exc}")
        db = build_database(db_engine, clock)
        with db.write() as session:
            state = changelog.ensure_local_state(session, clock)
            seed_reference_data(session)
            device_id = state.device_id
    except BaseException:
        if engine is not None:
            engine.dispose()
        marker.release()
        raise
    return AppContext(
        paths=paths,
        clock=clock,
        db=db,
        device_id=device_id,
        secrets=store,
        db_key=key,
        warnings=warnings,
        maintenance_due=maintenance,
        marker=marker,
    )


_memory_template: bytes | None = None


def _memory_database_image() -> bytes:
    """A migrated, seeded in-memory database, serialised once per process and then cloned
    (migrating and seeding for every test would cost most of a second each)."""
    global _memory_template
    if _memory_template is None:
        from app.services.reference import seed_reference_data

        clock = SystemClock()
        engine = make_engine(None)
        upgrade_to_head(engine)
        db = build_database(engine, clock)
        with db.write() as session:
            changelog.ensure_local_state(session, clock)
            seed_reference_data(session)
        raw = engine.raw_connection()
        try:
            _memory_template = raw.driver_connection.serialize()  # type: ignore[union-attr]
        finally:
            raw.close()
        engine.dispose()
    return _memory_template


def open_memory_context(*, clock: Clock | None = None) -> AppContext:
    """An in-memory database migrated to head (plaintext) with reference data and its own
    device id: for tests and the smoke test."""
    import sqlite3

    from app.models import LocalState, new_id

    clock = clock or SystemClock()
    image = _memory_database_image()

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.deserialize(image)
        return conn

    engine = make_engine(None, creator=connect)
    db = build_database(engine, clock)
    with db.write() as session:
        state = session.get_one(LocalState, 1)
        state.device_id = new_id()
        state.next_seq = 1
        state.hlc_wall_ms = 0
        state.hlc_counter = 0
        state.created_at = clock.now()
        device_id = state.device_id
    return AppContext(
        paths=AppPaths(Path(".")),
        clock=clock,
        db=db,
        device_id=device_id,
        secrets=MemorySecretStore(),
        in_memory=True,
    )


def backup_before(
    ctx: AppContext, reason: str, *, cancel: Callable[[], bool] | None = None
) -> Path | None:
    """A checked, encrypted backup of the live database before a risky change (a bundle
    import, a bulk edit), or the daily one. Returns the file (None for an in-memory
    database). A StorageError (disk full...) means the change should not go ahead; with
    ``cancel``, MaintenanceCancelled when it returned true (no partial file is left)."""
    if ctx.in_memory:
        return None
    return backup_database(
        ctx.db.engine,
        ctx.paths.backups_dir,
        reason=reason,
        key=ctx.db_key,
        now=ctx.clock.now(),
        cancel=cancel,
    )


def restore_backup(
    paths: AppPaths,
    backup_file: Path,
    *,
    secrets: SecretStore | None = None,
    passphrase_provider: PassphraseProvider | None = None,
    clock: Clock | None = None,
) -> RestoredBackup:
    """Replace the data folder's database by ``backup_file``, keeping the current file aside.

    Close every AppContext on the folder first (then open a new one): a database that any
    CareCoord process still has open is refused.
    """
    clock = clock or SystemClock()
    if other_processes_open(paths.data_dir):
        raise StorageError(encryption.LOCKED_MESSAGE)
    store = _open_store(paths, secrets, passphrase_provider)
    key = encryption.load_key(store)
    if key is None:
        if file_kind(paths.db_path) is FileKind.ENCRYPTED:
            raise KeyError_(
                f"The database {paths.db_path.name} is encrypted but its key is not in this "
                "computer's keyring or key file; restore the key first."
            )
        key = encryption.load_or_create_key(store)
    return restore_database(
        paths.db_path, Path(backup_file), key=key, backups_dir=paths.backups_dir, now=clock.now()
    )
