"""The one way screens reach the database: run a service function off the GUI thread.

A ``Worker`` opens its own Session (``ctx.db.read()`` or ``ctx.db.write()``), calls the job,
and hands back the result through its ``succeeded`` signal — only immutable values (frozen
dataclasses, tuples, scalars) may cross threads; an ORM object or a list is refused. Writes
run one at a time on their own thread; reads share a small pool (one thread for an in-memory
database, whose single connection cannot be shared).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from app.core.errors import CareCoordError
from app.db.unit_of_work import Database

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
_SCALARS = (type(None), bool, int, float, str, bytes, date, datetime, timedelta, Decimal)


def check_immutable(value: object, *, _depth: int = 0) -> None:
    """Raise TypeError unless ``value`` is safe to hand to another thread."""
    if _depth > 12 or isinstance(value, _SCALARS):
        return
    if isinstance(value, tuple | frozenset):
        for item in value:
            check_immutable(item, _depth=_depth + 1)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f"{type(value).__name__} is not a frozen dataclass")
        for f in dataclasses.fields(value):
            check_immutable(getattr(value, f.name), _depth=_depth + 1)
        return
    raise TypeError(f"a background job returned a {type(value).__name__}; return immutable data")


class WorkerSignals(QObject):
    progress = Signal(int, int, str)  # done, total, what is happening
    succeeded = Signal(object)  # the job's immutable result
    failed = Signal(object)  # the exception (CareCoordError for refusals)
    finished = Signal()


class Worker(QRunnable):
    def __init__(
        self,
        db: Database,
        job: Callable[..., Any],
        *,
        write: bool,
        with_progress: bool = False,
        with_session: bool = True,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self._db = db
        self._job = job
        self._write = write
        self._with_progress = with_progress
        self._with_session = with_session

    def _report(self, done: int, total: int, message: str) -> None:
        self.signals.progress.emit(done, total, message)

    def run(self) -> None:
        try:
            if self._with_session:
                opener = self._db.write if self._write else self._db.read
                with opener() as session:
                    result = self._call(session)
            else:
                result = self._job()
            check_immutable(result)
        except CareCoordError as exc:
            self.signals.failed.emit(exc)
        except Exception as exc:  # shown to the user, and logged without patient data
            log.exception("background job failed: %s", type(exc).__name__)
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()

    def _call(self, session: Session) -> Any:
        if self._with_progress:
            return self._job(session, self._report)
        return self._job(session)


class Runner(QObject):
    """Submits workers and keeps them alive until they finish.

    ``data_changed`` is emitted (on the GUI thread) after every successful write, so screens and
    the status bar refresh themselves.
    """

    data_changed = Signal()
    busy_changed = Signal(bool)

    def __init__(self, db: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)
        if isinstance(db.engine.pool, StaticPool):
            self._reads = self._writes
        else:
            self._reads = QThreadPool(self)
            self._reads.setMaxThreadCount(2)
        self._active: dict[WorkerSignals, Worker] = {}
        # long jobs that open their own connections (maintenance): one at a time, on their own
        # thread, so they neither take a read thread nor make the runner busy for minutes
        self._long = QThreadPool(self)
        self._long.setMaxThreadCount(1)
        self._long_jobs: dict[WorkerSignals, Worker] = {}

    def read(
        self,
        job: Callable[[Session], Any],
        *,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> Worker:
        return self._submit(job, False, on_success, on_failure, None)

    def write(
        self,
        job: Callable[..., Any],
        *,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> Worker:
        """A write transaction; with ``on_progress`` the job is called as job(session, report)."""
        return self._submit(job, True, on_success, on_failure, on_progress)

    def _submit(
        self,
        job: Callable[..., Any],
        write: bool,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None,
        on_progress: Callable[[int, int, str], None] | None,
    ) -> Worker:
        worker = Worker(self._db, job, write=write, with_progress=on_progress is not None)
        worker.signals.succeeded.connect(on_success)
        if on_failure is not None:
            worker.signals.failed.connect(on_failure)
        else:
            worker.signals.failed.connect(self._unhandled)
        if on_progress is not None:
            worker.signals.progress.connect(on_progress)
        if write:
            worker.signals.succeeded.connect(self._wrote)
        worker.signals.finished.connect(self._done)
        self._active[worker.signals] = worker
        if len(self._active) == 1:
            self.busy_changed.emit(True)
        (self._writes if write else self._reads).start(worker)
        return worker

    def background(
        self,
        job: Callable[[], Any],
        *,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> Worker:
        """A long job that needs no session of the runner's: it does not count as busy (so
        screens go on refreshing), and wait() waits for it too."""
        worker = Worker(self._db, job, write=False, with_session=False)
        worker.signals.succeeded.connect(on_success)
        worker.signals.failed.connect(on_failure if on_failure is not None else self._unhandled)
        worker.signals.finished.connect(self._long_done)
        self._long_jobs[worker.signals] = worker
        self._long.start(worker)
        return worker

    def _long_done(self) -> None:
        signals = self.sender()
        if isinstance(signals, WorkerSignals):
            self._long_jobs.pop(signals, None)
            signals.deleteLater()

    def _wrote(self, _result: object) -> None:
        self.data_changed.emit()

    def _unhandled(self, exc: BaseException) -> None:
        log.warning("background job failed without a handler: %s", type(exc).__name__)

    def _done(self) -> None:
        signals = self.sender()
        if isinstance(signals, WorkerSignals):
            self._active.pop(signals, None)
            signals.deleteLater()  # on the GUI thread, which owns it
        if not self._active:
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        return bool(self._active)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until queued work is done (closing the window, tests)."""
        ok = self._writes.waitForDone(msecs)
        if self._reads is not self._writes:
            ok = self._reads.waitForDone(msecs) and ok
        return self._long.waitForDone(msecs) and ok
