"""``carecoord db check | backup | dump``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import text

from app.cli.common import add_handler, echo
from app.context import AppContext
from app.core.errors import StorageError
from app.db.backup import backup_database
from app.sync.dump import dump_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="integrity check, backup, canonical JSON dump")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    check = dbsub.add_parser("check", help="integrity and foreign-key check of the database")
    add_handler(check, _check)
    backup = dbsub.add_parser("backup", help="write a checked backup copy of the database")
    backup.add_argument("--out", type=Path, metavar="FILE", help="where to write the backup")
    add_handler(backup, _backup)
    dump = dbsub.add_parser("dump", help="print the clinical content as canonical JSON")
    add_handler(dump, _dump)


def _check(args: argparse.Namespace, ctx: AppContext) -> int:
    with ctx.db.read() as session:
        integrity = [r[0] for r in session.execute(text("PRAGMA integrity_check"))]
        fk = list(session.execute(text("PRAGMA foreign_key_check")))
    if integrity != ["ok"]:
        raise StorageError("Integrity check failed: " + "; ".join(integrity[:5]))
    if fk:
        raise StorageError(f"Foreign-key check failed: {len(fk)} rows point at missing records.")
    echo("Database OK: integrity check passed, no broken references.")
    return 0


def _backup(args: argparse.Namespace, ctx: AppContext) -> int:
    out: Path | None = args.out
    if out is not None and out.exists():
        raise StorageError(f"{out} already exists; choose a new file name for the backup.")
    made = backup_database(ctx.db.engine, ctx.paths.backups_dir, reason="manual", out=out)
    echo(f"Backup written and checked: {made}")
    return 0


def _dump(args: argparse.Namespace, ctx: AppContext) -> int:
    with ctx.db.read() as session:
        echo(dump_json(session))
    return 0
