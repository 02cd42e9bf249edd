"""Backups with SQLite's online backup API, checked with integrity_check after writing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from app.core.errors import StorageError


def backup_database(
    engine: Engine, backups_dir: Path, *, reason: str = "manual", out: Path | None = None
) -> Path:
    """Copy the live database to ``out`` (default: a timestamped file in ``backups_dir``)."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = out or backups_dir / f"carecoord-{stamp}-{reason}.db"
    tmp = target.with_name(target.name + ".part")
    raw = engine.raw_connection()
    try:
        src = raw.driver_connection
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # type: ignore[union-attr]
            ok = dst.execute("PRAGMA integrity_check").fetchone()
            if not ok or ok[0] != "ok":
                raise StorageError(f"The backup {target.name} failed its integrity check.")
        finally:
            dst.close()
    finally:
        raw.close()
    tmp.replace(target)
    return target
