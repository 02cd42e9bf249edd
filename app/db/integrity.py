"""Is the database sound? Checks at start-up, and knowing when a full check is due.

* Every start runs ``PRAGMA quick_check``.
* A full ``integrity_check`` plus ``foreign_key_check`` runs weekly, and after an unclean
  shutdown. Each open process holds an *open marker* (a small file in ``run/`` locked by the
  operating system for as long as the process lives, removed at a clean close). A marker that
  nobody holds any more belongs to a process that died: the next start runs the full check.
* A failed check raises :class:`DamagedDatabaseError`, which explains what is wrong and names
  the latest good backup. The user's database file is never deleted or modified.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from app.core.errors import StorageError
from app.core.secrets import atomic_write_bytes
from app.core.timeutil import ensure_utc

log = logging.getLogger(__name__)

FULL_CHECK_INTERVAL = timedelta(days=7)
PROGRESS_STEPS = 20_000  # SQLite VM steps between two looks at the clock
HEALTH_FILE_NAME = "carecoord-health.json"
MARKER_DIR_NAME = "run"
MARKER_SUFFIX = ".open"


class MaintenanceCancelled(Exception):
    """Background maintenance was asked to stop (the app is closing): nothing was concluded
    and nothing half-written was left."""


class DamagedDatabaseError(StorageError):
    """The database failed an integrity check. ``latest_backup`` is the newest backup that
    passed its own check (None when there is none), for the restore offer."""

    def __init__(self, message: str, *, latest_backup: Path | None) -> None:
        super().__init__(message)
        self.latest_backup = latest_backup


# --- checks on a DB-API connection ----------------------------------------------------------


def quick_check(conn: Any) -> list[str]:
    """Problems found by ``PRAGMA quick_check`` (empty when the file is sound)."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    return [] if rows == ["ok"] else rows


def full_check(conn: Any) -> list[str]:
    """Problems found by ``integrity_check`` and ``foreign_key_check`` (empty when sound)."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    problems = [] if rows == ["ok"] else rows
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(r[0]) for r in broken})
        problems.append(
            f"{len(broken)} rows point at missing records (tables: {', '.join(tables)})"
        )
    return problems


def run_check(
    conn: Any,
    *,
    full: bool,
    budget_seconds: float | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[str] | None:
    """The quick (or full) check within ``budget_seconds`` of wall time.

    Returns the problems found (empty: sound), or None when the time ran out first (a large
    database) or ``cancel()`` became true: the check is then simply not done, nothing is
    concluded. A file SQLite cannot even read counts as a problem. The check only reads: on a
    WAL database it never blocks a writer.
    """
    watched = budget_seconds is not None or cancel is not None
    if budget_seconds is not None:
        if budget_seconds <= 0:
            return None
        deadline = time.monotonic() + budget_seconds
    else:
        deadline = None

    def stop() -> int:
        if deadline is not None and time.monotonic() > deadline:
            return 1
        return int(cancel is not None and cancel())

    if watched:
        conn.set_progress_handler(stop, PROGRESS_STEPS)
    try:
        return full_check(conn) if full else quick_check(conn)
    except Exception as exc:  # the DB-API module's DatabaseError (sqlite3 or sqlcipher3)
        text = str(exc)
        if "interrupted" in text:
            return None
        if "locked" in text or not hasattr(exc, "sqlite_errorcode"):
            raise
        return [text]
    finally:
        if watched:
            conn.set_progress_handler(None, 0)


def damaged_message(db_name: str, problems: list[str], latest: Path | None) -> str:
    first = problems[0] if problems else "unknown problem"
    more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
    if latest is not None:
        advice = (
            f"The latest good backup is {latest.name} in the backups folder: restore it from "
            f"Settings or with `carecoord db restore {latest}`."
        )
    else:
        advice = "No good backup was found; keep a copy of the file and ask for support."
    return (
        f"The database {db_name} is damaged ({first}{more}); it has been left untouched. " + advice
    )


# --- when the full check is due -------------------------------------------------------------


def _health_path(data_dir: Path) -> Path:
    return data_dir / HEALTH_FILE_NAME


def _read_health(data_dir: Path) -> dict[str, Any]:
    try:
        doc = json.loads(_health_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _health_time(data_dir: Path, name: str) -> datetime | None:
    try:
        return ensure_utc(datetime.fromisoformat(_read_health(data_dir)[name]))
    except (KeyError, TypeError, ValueError):
        return None


def _record(data_dir: Path, **times: datetime) -> None:
    doc = _read_health(data_dir)
    doc.update({name: ensure_utc(when).isoformat() for name, when in times.items()})
    text = json.dumps(doc, sort_keys=True) + "\n"
    try:
        atomic_write_bytes(_health_path(data_dir), text.encode("utf-8"), what="status file")
    except StorageError:  # only bookkeeping: at worst a check or backup comes early
        log.warning("could not update the status file")


def last_full_check(data_dir: Path) -> datetime | None:
    return _health_time(data_dir, "last_full_check")


def database_created(data_dir: Path) -> datetime | None:
    """When this data folder's database was created (None when not recorded)."""
    return _health_time(data_dir, "created")


def full_check_due(data_dir: Path, now: datetime) -> bool:
    last = last_full_check(data_dir)
    return last is None or now - last >= FULL_CHECK_INTERVAL or last > now


def record_full_check(data_dir: Path, now: datetime) -> None:
    _record(data_dir, last_full_check=now)


def record_created(data_dir: Path, now: datetime) -> None:
    """A new database: nothing to check or back up for a while."""
    _record(data_dir, created=now, last_full_check=now)


# --- open markers ---------------------------------------------------------------------------


def _try_lock(fh: IO[bytes]) -> bool:
    """Take an exclusive, non-blocking OS lock on ``fh``; False when another process has it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@dataclass
class OpenMarker:
    """This process's marker: held (locked) from open until :meth:`release`."""

    path: Path
    _fh: IO[bytes] | None = field(default=None, repr=False)
    stale: tuple[Path, ...] = ()

    @property
    def unclean_shutdown(self) -> bool:
        """True when a previous process died with the database open."""
        return bool(self.stale)

    def forget_stale(self) -> None:
        """Called once the full check has passed: the crash has been dealt with. A marker
        that a live process holds by now is kept (it was only being created when it was
        seen)."""
        for p in self.stale:
            _remove_if_unheld(p)
        self.stale = ()

    def release(self) -> None:
        """Clean close: remove the marker (then let go of the lock)."""
        if self._fh is None:
            return
        self._fh.close()  # first: Windows cannot delete a file that is still open
        self._fh = None
        with contextlib.suppress(OSError):
            self.path.unlink()


def _held(p: Path) -> bool | None:
    """True when a live process holds the marker ``p`` (its OS lock goes with the process,
    however it ended); False when nobody does; None when it cannot be opened (gone)."""
    try:
        fh = open(p, "rb+")  # noqa: SIM115 - closed below, lock test only
    except OSError:
        return None
    try:
        return not _try_lock(fh)
    finally:
        fh.close()


def _remove_if_unheld(p: Path) -> None:
    if _held(p) is False:
        with contextlib.suppress(OSError):
            p.unlink()


def marker_pid(p: Path) -> int | None:
    """The process id recorded in a marker (for the log and for people; the OS lock, not
    the pid, says whether its process still runs: pids are reused)."""
    try:
        return int(json.loads(p.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stale_markers(run_dir: Path) -> list[Path]:
    # nobody holds them: their processes ended without closing
    return [p for p in sorted(run_dir.glob(f"*{MARKER_SUFFIX}")) if _held(p) is False]


def claim_open_marker(data_dir: Path) -> OpenMarker:
    """Find markers left by processes that died, then create and lock this process's own.

    Where the marker cannot be created (a full disk), CareCoord still opens: only the
    detection of an unclean shutdown is lost for this run.
    """
    run_dir = data_dir / MARKER_DIR_NAME
    path = run_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{MARKER_SUFFIX}"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        stale = _stale_markers(run_dir)
        fh = open(path, "wb+")  # noqa: SIM115 - held open for the life of the context
    except OSError:
        log.warning("could not write the open marker; an unclean shutdown may go unnoticed")
        return OpenMarker(path=path)
    if not _try_lock(fh):  # pragma: no cover - a brand-new file nobody else knows about
        fh.close()
        return OpenMarker(path=path)
    try:  # the lock is on the first byte, taken at position 0; the content is informative
        os.write(fh.fileno(), json.dumps({"pid": os.getpid()}).encode("ascii"))  # unbuffered
    except OSError:
        log.warning("could not record the process id in the open marker")
    if stale:
        pids = [marker_pid(p) for p in stale]
        log.warning(
            "%d previous CareCoord process(es) did not close cleanly (pids %s)",
            len(stale),
            ", ".join(str(pid) if pid is not None else "?" for pid in pids),
        )
    return OpenMarker(path=path, _fh=fh, stale=tuple(stale))


def other_processes_open(data_dir: Path, mine: OpenMarker | None = None) -> bool:
    """True when another live process holds a marker in ``data_dir``."""
    run_dir = data_dir / MARKER_DIR_NAME
    if not run_dir.is_dir():
        return False
    for p in run_dir.glob(f"*{MARKER_SUFFIX}"):
        if mine is not None and p == mine.path:
            continue
        if _held(p):
            return True
    return False
