"""Exporting a bundle of changes (DESIGN.md §5 Bundles).

Every op not exported yet (this laptop's own and those relayed from others), or all of them,
is streamed in local order into a bundle that is written, fsynced, renamed and read back; only
then are the ops marked exported, in the same transaction. Every bundle also carries the ops of
the team's laptop list, so whoever receives it can enrol the sender from the sender's own
record, and hears of every revocation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, String, func, literal_column, or_, select, true, update
from sqlalchemy.orm import Session

from app import __version__
from app.core.errors import CareCoordError, KeyError_
from app.core.timeutil import format_utc
from app.db.migrate import head_revision
from app.models import Op, Setting, TeamDevice
from app.services.sync_keys import require_device_key, require_team_keys
from app.sync.bundle import write_bundle_lines

if TYPE_CHECKING:
    from app.context import AppContext

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while long work goes on."""
Cancelled = Callable[[], bool]
"""Asked now and then; returning True stops the work (SyncCancelled, nothing written)."""

TEAM_DEVICES = TeamDevice.__tablename__
LAST_EXPORT_KEY = "sync.last_export"
LAST_IMPORT_KEY = "sync.last_import"
_BATCH = 2000


class SyncCancelled(CareCoordError):
    """The user cancelled an export or import; nothing of the unfinished part was written."""


@dataclass(frozen=True)
class ExportResult:
    path: Path | None  # None when there was nothing to export
    op_count: int  # changes in the bundle
    new_ops: int  # of which not exported before
    size: int
    bundle_id: str | None

    @property
    def written(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class SyncEvent:
    at: datetime
    file: str
    ops: int
    device_label: str | None = None


def _export_filter(full: bool) -> ColumnElement[bool]:
    if full:
        return true()
    return or_(Op.exported.is_(False), Op.table_name == TEAM_DEVICES)


# One op as it travels (the form of app.sync.merge.op_to_dict, keys in canonical order), built
# by SQLite from the stored columns: fields and parents are kept as canonical JSON text, so
# they go into the line as they are, and the text columns are quoted by json_quote.
_LINE_SQL = (
    "'{\"device_id\":'||json_quote(device_id)||',\"fields\":'||fields"
    "||',\"hlc\":'||json_quote(hlc)||',\"kind\":'||json_quote(kind)"
    "||',\"op_id\":'||json_quote(op_id)||',\"parents\":'||parents"
    "||',\"record_id\":'||json_quote(record_id)||',\"seq\":'||seq"
    "||',\"table\":'||json_quote(table_name)||'}'"
)


def _op_lines(
    session: Session,
    where: ColumnElement[bool],
    total: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> Iterator[bytes]:
    """The ops as JSON lines, streamed in local order, a batch of lines per item.

    Nothing is decoded and encoded again: at a million ops, building a dict per op and
    encoding it was most of the export's time.
    """
    stmt = (
        select(literal_column(_LINE_SQL, String))
        .select_from(Op)
        .where(where)
        .order_by(Op.local_order)
    )

    def check(done: int) -> None:
        if cancelled is not None and cancelled():
            raise SyncCancelled("The export was cancelled; no bundle was written.")
        if progress is not None:
            progress(done, total)

    check(0)
    done = 0
    result = session.connection().execute(stmt.execution_options(stream_results=True))
    while batch := result.fetchmany(_BATCH):
        yield ("\n".join([row[0] for row in batch]) + "\n").encode("utf-8")
        done += len(batch)
        check(done)  # the file is renamed into place only after the last op


def export_bundle(
    ctx: AppContext,
    *,
    out: Path,
    full: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write a bundle of the changes not exported yet (all with ``full``) to ``out`` (a folder
    or a file name). The ops are marked exported only once the file has read back verified."""
    team_keys = require_team_keys(ctx)
    team_key = team_keys[max(team_keys)]
    device_key = require_device_key(ctx)
    with ctx.db.write() as session:
        me = session.get(TeamDevice, ctx.device_id)
        if me is not None and me.revoked:
            raise KeyError_(
                "This laptop has been revoked by the team, so its bundles would be refused; "
                "no bundle was written."
            )
        unexported = count_ops(session, Op.exported.is_(False))
        if unexported == 0 and not full:
            return ExportResult(path=None, op_count=0, new_ops=0, size=0, bundle_id=None)
        where = _export_filter(full)
        ranges: dict[str, tuple[int, int]] = {}
        total = 0
        for device, low, high, count in session.execute(
            select(Op.device_id, func.min(Op.seq), func.max(Op.seq), func.count())
            .where(where)
            .group_by(Op.device_id)
        ):
            ranges[device] = (int(low), int(high))
            total += int(count)
        if total == 0:
            return ExportResult(path=None, op_count=0, new_ops=0, size=0, bundle_id=None)
        top = session.scalar(select(func.max(Op.local_order))) or 0
        info = write_bundle_lines(
            Path(out),
            lines=_op_lines(session, where, total, progress, cancelled),
            team_key=team_key,
            device_key=device_key,
            schema_version=head_revision(),
            app_version=__version__,
            op_count=total,
            seq_ranges=ranges,
            clock=ctx.clock,
        )
        session.execute(
            update(Op)
            .where(Op.exported.is_(False), Op.local_order <= top)
            .values(exported=True)
            .execution_options(synchronize_session=False)
        )
        remember_event(
            session,
            LAST_EXPORT_KEY,
            {"at": format_utc(ctx.clock.now()), "file": info.path.name, "ops": total},
        )
    return ExportResult(
        path=info.path,
        op_count=total,
        new_ops=unexported,
        size=info.size,
        bundle_id=info.header.bundle_id,
    )


def count_ops(session: Session, where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(Op).where(where)) or 0)


def remember_event(session: Session, key: str, value: dict[str, Any]) -> None:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=text))
    else:
        row.value = text


def recall_event(session: Session, key: str) -> SyncEvent | None:
    row = session.get(Setting, key)
    if row is None:
        return None
    try:
        doc = json.loads(row.value)
        return SyncEvent(
            at=datetime.fromisoformat(doc["at"].replace("Z", "+00:00")),
            file=str(doc["file"]),
            ops=int(doc["ops"]),
            device_label=doc.get("device_label"),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
