"""AppContext: everything a command or a window needs, built once in ``main()`` and passed on
(no global singletons)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from app.core.clock import Clock, SystemClock
from app.core.paths import AppPaths
from app.db.engine import make_engine
from app.db.migrate import upgrade_to_head
from app.db.unit_of_work import Database
from app.sync import changelog

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: AppPaths
    clock: Clock
    db: Database
    device_id: str = field(default="")

    def close(self) -> None:
        self.db.dispose()


def build_database(engine: Engine, clock: Clock) -> Database:
    return Database(
        engine,
        session_info={changelog.CHANGE_CONTEXT_KEY: changelog.ChangeContext(clock=clock)},
        configure=changelog.install,
    )


def _backup_before_migration(paths: AppPaths, engine: Engine) -> Path | None:
    from app.db.backup import backup_database

    return backup_database(engine, paths.backups_dir, reason="pre-migration")


def open_context(paths: AppPaths, *, clock: Clock | None = None) -> AppContext:
    """Create folders, migrate (after a backup), seed reference data, ensure a device id."""
    from app.services.reference import seed_reference_data

    clock = clock or SystemClock()
    paths.ensure()
    engine = make_engine(paths.db_path)
    upgrade_to_head(engine, backup=lambda: _backup_before_migration(paths, engine))
    db = build_database(engine, clock)
    with db.write() as session:
        state = changelog.ensure_local_state(session, clock)
        seed_reference_data(session)
        device_id = state.device_id
    return AppContext(paths=paths, clock=clock, db=db, device_id=device_id)


_memory_template: bytes | None = None


def _memory_database_image() -> bytes:
    """A migrated, seeded in-memory database, serialised once per process and cloned."""
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
    """A private in-memory database migrated to head with reference data and its own device
    id: for tests and the smoke test."""
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
    return AppContext(paths=AppPaths(Path(".")), clock=clock, db=db, device_id=device_id)
