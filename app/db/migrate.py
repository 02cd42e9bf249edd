"""Schema migrations, run before any window opens: back the file up first, refuse a database
written by a newer CareCoord, never ``create_all`` on a user database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.core.errors import StorageError
from app.db.engine import WRITE_OPTION

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "app.db:migrations")
    return cfg


@cache
def script_directory() -> ScriptDirectory:
    """The packaged migrations (read once per process: they do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StorageError("CareCoord's database migrations are missing from this installation.")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _known_revision(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises ResolutionError/CommandError for unknown ids
        return False


def upgrade_to_head(engine: Engine, *, backup: Callable[[], Path | None] | None = None) -> bool:
    """Bring the schema to head. Returns True when a migration ran.

    ``backup`` is called (once) before anything is changed on a database that already has data.
    """
    script = script_directory()
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return False
    if current is not None and not _known_revision(script, current):
        raise StorageError(
            f"This database was written by a newer version of CareCoord (schema {current}); "
            "install that version or newer to open it."
        )
    if current is not None and backup is not None:
        made = backup()
        log.info("backup before migration written: %s", made.name if made else "none")
    cfg = alembic_config()
    # BEGIN IMMEDIATE: take the write lock up front (waiting up to the busy timeout) rather
    # than failing half-way when another process writes at the same moment
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.info("database migrated from %s to %s", current, head)
    return True
