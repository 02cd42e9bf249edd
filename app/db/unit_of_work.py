"""Unit of work: a Session per user action. Services flush; only this commits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from app.db.engine import WRITE_OPTION


class Database:
    """Owns the engine and the two session factories (reads, and writes that BEGIN IMMEDIATE).

    ``session_info`` is copied into every session's ``info`` (the change log reads its context
    from there); ``configure`` callbacks get each sessionmaker once (to install listeners).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        session_info: dict[str, Any] | None = None,
        configure: Callable[[sessionmaker[Session]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.session_info = dict(session_info or {})
        write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._writes = sessionmaker(bind=write_engine, expire_on_commit=False, autoflush=True)
        self._reads = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        if configure is not None:
            configure(self._writes)
        # An in-memory database is one connection shared by every thread: sessions on it take
        # turns (an on-disk database has a connection per session and SQLite's own locking).
        self._turns: threading.RLock | None = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else None
        )

    def _turn(self) -> AbstractContextManager[Any]:
        return self._turns if self._turns is not None else nullcontext()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE): commit on success, roll back on any error."""
        with self._turn():
            session = self._writes(info=dict(self.session_info))
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot; anything written in it is rolled back."""
        with self._turn():
            session = self._reads(info=dict(self.session_info))
            try:
                yield session
            finally:
                session.close()  # ends the transaction; objects stay readable (detached)

    def dispose(self) -> None:
        self.engine.dispose()
