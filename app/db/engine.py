"""The one engine of the process: SQLite with WAL, synchronous=FULL, foreign keys, a busy
timeout, and BEGIN IMMEDIATE for write transactions (the documented pysqlite workaround:
the driver's own transaction handling is switched off and SQLAlchemy emits BEGIN itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "carecoord_write"


def make_engine(db_path: Path | None, *, creator: Any = None) -> Engine:
    """Engine for ``db_path`` (None: private in-memory database, for tests).

    ``creator`` lets the encrypted-at-rest layer supply its own DB-API connections.
    """
    url = "sqlite://" if db_path is None else f"sqlite:///{db_path}"
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if creator is not None:
        kwargs["creator"] = creator
    if db_path is None:
        kwargs["poolclass"] = StaticPool  # one shared in-memory database
    engine = create_engine(url, **kwargs)
    _install_pragmas(engine, in_memory=db_path is None)
    return engine


def _install_pragmas(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
