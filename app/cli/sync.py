"""``carecoord sync export | import | status | conflicts | resolve`` (DESIGN.md §4.1, §5)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.cli.common import add_handler, echo, warn
from app.cli.keys import device_line
from app.context import AppContext
from app.core.errors import ValidationError
from app.core.timeutil import to_local
from app.services.sync import (
    ConflictView,
    ImportOutcome,
    RecordChoice,
    SyncEvent,
    export_bundle,
    find_conflict,
    head_choice,
    import_bundles,
    list_conflicts,
    resolve_conflict,
    sync_status,
)
from app.sync.state import DELETED_FIELD

_WHEN = "%a %d %b %Y %H:%M"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this group's commands to the ``carecoord`` parser."""
    p = sub.add_parser("sync", help="exchange encrypted bundles of changes with colleagues")
    ssub = p.add_subparsers(dest="sync_command", metavar="ACTION", required=True)

    export = ssub.add_parser("export", help="write a bundle of the changes not exported yet")
    export.add_argument(
        "--out", type=Path, required=True, metavar="DIR_OR_FILE", help="a folder or a file name"
    )
    export.add_argument(
        "--full", action="store_true", help="every change held here, not just the new ones"
    )
    add_handler(export, _export)

    imp = ssub.add_parser("import", help="verify, decrypt and merge bundles")
    imp.add_argument("files", type=Path, nargs="+", metavar="FILE")
    add_handler(imp, _import)

    status = ssub.add_parser("status", help="keys, laptops, what waits to be exported, gaps")
    add_handler(status, _status)

    conflicts = ssub.add_parser("conflicts", help="fields changed differently on two laptops")
    add_handler(conflicts, _conflicts)

    resolve = ssub.add_parser("resolve", help="settle a conflict for every laptop")
    resolve.add_argument("table", metavar="TABLE")
    resolve.add_argument("record_id", metavar="RECORD")
    resolve.add_argument("field", metavar="FIELD")
    how = resolve.add_mutually_exclusive_group(required=True)
    how.add_argument("--pick", metavar="OP_ID", help="keep the value of this change")
    how.add_argument(
        "--value", metavar="JSON", help="""a new value as JSON: '"text"', 3, true or null"""
    )
    how.add_argument("--keep", action="store_true", help="keep a record deleted elsewhere")
    how.add_argument("--delete", action="store_true", help="delete a record edited elsewhere")
    add_handler(resolve, _resolve)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1 << 20:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1 << 20):.1f} MiB"


def _export(args: argparse.Namespace, ctx: AppContext) -> int:
    result = export_bundle(ctx, out=args.out, full=args.full)
    if result.path is None:
        echo("Nothing to export: every change here has been exported already.")
        return 0
    echo(f"Bundle written and checked: {result.path}")
    echo(f"{result.op_count} change(s), {_size(result.size)}. It is safe to remove the drive.")
    return 0


def outcome_lines(o: ImportOutcome) -> list[str]:
    """The summary of one imported bundle, as printed."""
    lines = [
        f"Imported {o.path.name} from {o.sender_label}: {o.received} change(s) "
        f"({o.new} new, {o.already_held} already held), {o.records_changed} record(s) changed, "
        f"{o.conflicts} conflict(s) open, {o.held_back} held back."
    ]
    if o.enrolled:
        lines.append(
            f"  Newly enrolled laptop: {o.sender_label}, fingerprint {o.sender_fingerprint}."
        )
    if o.pending_records:
        lines.append(f"  {o.pending_records} record(s) wait for changes not received yet.")
    if o.duplicates_flagged:
        lines.append(
            f"  {o.duplicates_flagged} possible duplicate patient(s) to check (see tasks)."
        )
    if o.held_back:
        lines.append("  Changes dated more than a day ahead are held back until then.")
    lines.extend(f"  Warning: {gap}." for gap in o.gaps)
    return lines


def _import(args: argparse.Namespace, ctx: AppContext) -> int:
    outcomes = import_bundles(ctx, args.files)
    failed = 0
    for o in outcomes:
        if o.ok:
            for line in outcome_lines(o):
                echo(line)
            continue
        failed += 1
        where = f" It was moved to {o.moved_to}." if o.moved_to is not None else ""
        warn(f"carecoord: {o.message}{where}")
    if failed:
        warn(f"carecoord: {failed} of {len(outcomes)} file(s) refused.")
        return 1
    return 0


def _event(e: SyncEvent | None) -> str:
    if e is None:
        return "never"
    who = f" from {e.device_label}" if e.device_label else ""
    return f"{to_local(e.at).strftime(_WHEN)}, {e.file}{who}, {e.ops} change(s)"


def _status(args: argparse.Namespace, ctx: AppContext) -> int:
    s = sync_status(ctx)
    echo(f"This laptop: {s.device_label or 'not enrolled'} ({s.device_id})")
    if s.team_id is None:
        echo("Team key: none (run 'carecoord key init' or 'carecoord key import FILE').")
    else:
        echo(f"Team: {s.team_id[:8]}, key epoch {s.team_key_epoch}, fingerprint {s.fingerprint}")
    if s.revoked_here:
        echo("This laptop has been revoked: its bundles are refused by the team.")
    echo(f"Changes waiting to be exported: {s.unexported_ops}")
    echo(f"Last export: {_event(s.last_export)}")
    echo(f"Last import: {_event(s.last_import)}")
    echo(
        f"Open conflicts: {s.open_conflicts}; held back: {s.held_back_ops}; "
        f"records waiting: {s.pending_records}"
    )
    echo(f"Laptops ({len(s.devices)}):")
    for d in s.devices:
        echo(f"  {device_line(d)}")
    for gap in s.gaps:
        echo(f"Warning: {gap}.")
    return 0


def _value_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def conflict_lines(v: ConflictView) -> list[str]:
    lines = [f"{v.table} {v.record_id} field {v.field}" + (f" ({v.note})" if v.note else "")]
    for h in v.heads:
        what = "deleted the record" if h.deleted else _value_text(h.value)
        shown = "  (shown now)" if h.shown else ""
        when = to_local(h.at).strftime(_WHEN)
        lines.append(f"  {h.op_id}  {what}  by {h.device_label}, {when}{shown}")
    if v.deletion:
        how = (
            "--keep | --delete" if v.field == DELETED_FIELD else "--keep | --delete | --value JSON"
        )
    else:
        how = "--pick OP_ID | --value JSON"
    lines.append(f"  resolve: carecoord sync resolve {v.table} {v.record_id} {v.field} {how}")
    return lines


def _conflicts(args: argparse.Namespace, ctx: AppContext) -> int:
    with ctx.db.read() as session:
        views = list_conflicts(session)
    if not views:
        echo("No conflicts.")
        return 0
    echo(f"{len(views)} conflicted field(s):")
    for v in views:
        for line in conflict_lines(v):
            echo(line)
    return 0


def _resolve(args: argparse.Namespace, ctx: AppContext) -> int:
    with ctx.db.write() as session:
        if args.keep:
            value: Any = RecordChoice.KEEP
        elif args.delete:
            value = RecordChoice.DELETE
        elif args.pick is not None:
            view = find_conflict(
                session, table=args.table, record_id=args.record_id, field=args.field
            )
            value = head_choice(view, args.pick)
        else:
            try:
                value = json.loads(args.value)
            except ValueError as exc:
                raise ValidationError(
                    "The --value is not JSON: put text in double quotes, e.g. '\"text\"'.",
                    field="--value",
                ) from exc
        left = resolve_conflict(
            session,
            clock=ctx.clock,
            table=args.table,
            record_id=args.record_id,
            field=args.field,
            value=value,
        )
    if left is None:
        echo(f"Resolved {args.table} {args.record_id} field {args.field}.")
    else:
        echo(f"Partly resolved; {args.table} {args.record_id} field {args.field} still differs:")
        for line in conflict_lines(left):
            echo(line)
    echo("Export a bundle so the other laptops settle the same way.")
    return 0
