"""``carecoord db check | backup | backups | restore | dump``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.common import add_handler, echo
from app.context import AppContext, restore_backup
from app.core.errors import StorageError, ValidationError
from app.core.paths import AppPaths
from app.core.timeutil import to_local
from app.db.backup import backup_database, list_backups, parse_backup_name
from app.db.integrity import full_check, record_full_check
from app.sync.dump import dump_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="integrity check, backups, restore, canonical JSON dump")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    check = dbsub.add_parser("check", help="integrity and foreign-key check of the database")
    add_handler(check, _check)
    backup = dbsub.add_parser(
        "backup",
        help="write a checked backup, encrypted with this data folder's key",
    )
    backup.add_argument("--out", type=Path, metavar="FILE", help="where to write the backup")
    add_handler(backup, _backup)
    backups = dbsub.add_parser("backups", help="list the backups in the data folder")
    add_handler(backups, _list)
    restore = dbsub.add_parser(
        "restore", help="replace the database by a backup (the current file is kept aside)"
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="the backup to restore")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_handler(restore, _restore)
    # a damaged database cannot be opened, and a restore must not have it open: the command
    # line may call this handler with the data folder's paths instead of an opened context
    restore.set_defaults(needs_context=False)
    dump = dbsub.add_parser("dump", help="print the clinical content as canonical JSON")
    add_handler(dump, _dump)


def _check(args: argparse.Namespace, ctx: AppContext) -> int:
    raw = ctx.db.engine.raw_connection()
    try:
        problems = full_check(raw.driver_connection)
    finally:
        raw.close()
    if problems:
        raise StorageError(
            f"The database check failed: {problems[0]}"
            + (f" (and {len(problems) - 1} more problems)." if len(problems) > 1 else ".")
        )
    if not ctx.in_memory:
        record_full_check(ctx.paths.data_dir, ctx.clock.now())
    echo("Database OK: integrity check passed, no broken references.")
    return 0


def _backup(args: argparse.Namespace, ctx: AppContext) -> int:
    out: Path | None = args.out
    if out is not None and out.exists():
        raise StorageError(f"{out} already exists; choose a new file name for the backup.")
    made = backup_database(
        ctx.db.engine,
        ctx.paths.backups_dir,
        reason="manual",
        out=out,
        key=ctx.db_key,
        now=ctx.clock.now(),
    )
    echo(f"Backup written and checked: {made}")
    return 0


def _list(args: argparse.Namespace, ctx: AppContext) -> int:
    backups = list_backups(ctx.paths.backups_dir)
    if not backups:
        echo("No backups yet.")
        return 0
    for b in backups:
        when = to_local(b.taken_at).strftime("%a %d %b %Y %H:%M")
        echo(f"{when}  {b.reason:<14} {b.path}")
    return 0


def _confirm(question: str) -> bool:
    """Ask y/N on the terminal; without one, refuse (use --yes)."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise ValidationError(
            "Restoring replaces the current database: run it in a terminal to confirm, "
            "or add --yes.",
            field="--yes",
        )
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _restore(args: argparse.Namespace, ctx: AppContext | AppPaths) -> int:
    backup: Path = args.file
    if not backup.is_file():
        raise StorageError(f"The backup {backup} does not exist.")
    info = parse_backup_name(backup)
    made = f" made {to_local(info.taken_at).strftime('%d %b %Y %H:%M')}" if info else ""
    question = (
        f"Replace the current database by the backup {backup.name}{made}? "
        "The current file is kept in the backups folder."
    )
    if not args.yes and not _confirm(question):
        echo("Nothing was restored.")
        return 1
    if isinstance(ctx, AppPaths):
        result = restore_backup(ctx, backup)
    else:
        paths, secrets, clock = ctx.paths, ctx.secrets, ctx.clock
        ctx.close()  # a restore needs the database closed
        result = restore_backup(paths, backup, secrets=secrets, clock=clock)
    echo(f"Restored {result.restored_from.name}.")
    if result.replaced is not None:
        echo(f"The previous database was kept as {result.replaced}.")
    return 0


def _dump(args: argparse.Namespace, ctx: AppContext) -> int:
    with ctx.db.read() as session:
        echo(dump_json(session))
    return 0
