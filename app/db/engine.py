"""The one engine of the process: SQLite with WAL, synchronous=FULL, foreign keys, a busy
timeout, and BEGIN IMMEDIATE for write transactions (the documented pysqlite workaround:
the driver's own transaction handling is switched off and SQLAlchemy emits BEGIN itself).

Two storage faults become one clear StorageError wherever they happen (connect, BEGIN, a
statement, COMMIT): the database is locked by another process beyond the busy timeout, and
the disk is full. Either way the transaction is rolled back, so nothing was changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.pool import StaticPool

from app.core.errors import StorageError
from app.db.encryption import DISK_FULL_MESSAGE, LOCKED_MESSAGE, is_disk_full, is_locked

BUSY_TIMEOUT_MS = 5000
PAGE_CACHE_KIB = 32 * 1024
BULK_PAGE_CACHE_KIB = 256 * 1024
WRITE_OPTION = "carecoord_write"


def make_engine(db_path: Path | None, *, creator: Any = None, module: Any = None) -> Engine:
    """Engine for ``db_path`` (None: private in-memory database, for tests).

    ``creator`` lets the encrypted-at-rest layer supply its own DB-API connections, and
    ``module`` names the DB-API module they come from (``sqlcipher3.dbapi2``), so SQLAlchemy
    recognises its exceptions.
    """
    url = "sqlite://" if db_path is None else f"sqlite:///{db_path}"
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if creator is not None:
        kwargs["creator"] = creator
    if module is not None:
        kwargs["module"] = module
    if db_path is None:
        kwargs["poolclass"] = StaticPool  # one shared in-memory database
    engine = create_engine(url, **kwargs)
    _install_pragmas(engine, in_memory=db_path is None)
    _install_error_translation(engine)
    return engine


def _install_pragmas(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        # busy_timeout first: switching to WAL may itself wait for another process
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
            # SQLCipher decrypts every page it reads into the cache: with SQLite's default
            # 2 MB a large team's name and NHS-number indexes do not stay decrypted between
            # keystrokes. Grown only as pages are read, up to this much per connection.
            cur.execute(f"PRAGMA cache_size=-{int(PAGE_CACHE_KIB)}")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _install_error_translation(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        original = context.original_exception
        if is_locked(original):
            raise StorageError(LOCKED_MESSAGE) from original
        if is_disk_full(original):
            raise StorageError(DISK_FULL_MESSAGE) from original


@contextmanager
def bulk_page_cache(connection: Connection, kib: int = BULK_PAGE_CACHE_KIB) -> Iterator[None]:
    """A bigger page cache on ``connection`` while a large operation runs: a write that grows
    indexes on random ids all over the file (a demo team, a bundle import), or a read whose
    pages do not fit the everyday cache (the weekly summary). With the everyday cache, pages
    evicted a moment before are read (and SQLCipher decrypts them) again. The cache grows only
    as pages are used and goes back to its size afterwards."""
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")
