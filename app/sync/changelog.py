"""The change log: every write to a synced record becomes an immutable op in the same
transaction (DESIGN.md §5), so sync and audit come for free.

Installed as a ``before_flush`` listener on the write sessionmaker; services just use the ORM.
One op per record write, carrying per-field parents (the heads each field had on this laptop).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, Table, delete, event, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.errors import StorageError
from app.core.timeutil import format_utc
from app.models import Conflict, LocalState, Op, Setting, new_id
from app.models.base import UTCDateTime
from app.sync.codec import canonical_json, encode_value, synced_columns
from app.sync.hlc import Hlc, tick
from app.sync.state import current_heads

log = logging.getLogger(__name__)

CHANGE_CONTEXT_KEY = "change_context"


@dataclass(frozen=True)
class ChangeContext:
    """What the change log needs from the application: the injected clock."""

    clock: Clock


def install(factory: sessionmaker[Session]) -> None:
    """Record ops for every flush of sessions made by ``factory``."""
    event.listen(factory, "before_flush", _before_flush)


def ensure_local_state(session: Session, clock: Clock, *, label: str = "") -> LocalState:
    """This laptop's device identity, created on first use."""
    state = session.get(LocalState, 1)
    if state is None:
        state = LocalState(
            id=1,
            device_id=new_id(),
            device_label=label,
            next_seq=1,
            hlc_wall_ms=0,
            hlc_counter=0,
            created_at=clock.now(),
        )
        session.add(state)
        if session.get(Setting, HELD_BACK_KEY) is None:  # a new laptop holds nothing back
            held = session.scalar(select(func.count()).select_from(Op).where(Op.held_back))
            session.add(Setting(key=HELD_BACK_KEY, value=str(held or 0)))
        session.flush()
    return state


class OpAllocator:
    """Hands out op ids, sequence numbers, HLC timestamps and local order inside one flush."""

    def __init__(self, session: Session, clock: Clock) -> None:
        state = session.get(LocalState, 1)
        if state is None:
            raise StorageError("This database has no device identity; open it through CareCoord.")
        self.state = state
        self.clock = clock
        self.order = session.scalar(select(func.max(Op.local_order))) or 0

    @property
    def device_id(self) -> str:
        return self.state.device_id

    def allocate(self) -> tuple[str, int, str, int]:
        st = self.state
        seq = st.next_seq
        st.next_seq = seq + 1
        h = tick(Hlc(st.hlc_wall_ms, st.hlc_counter), self.clock.now())
        st.hlc_wall_ms, st.hlc_counter = h.wall_ms, h.counter
        self.order += 1
        return f"{st.device_id}:{seq}", seq, h.encode(), self.order


def _is_synced(obj: object) -> bool:
    return bool(getattr(type(obj), "__synced__", False))


def _apply_scalar_defaults(obj: Any, table: Table) -> None:
    if getattr(obj, "id", None) is None:
        obj.id = new_id()
    for col in synced_columns(table):
        if getattr(obj, col.key, None) is None and col.default is not None:
            if not col.default.is_scalar:
                raise TypeError(f"{table.name}.{col.name}: synced columns take scalar defaults")
            setattr(obj, col.key, col.default.arg)  # type: ignore[attr-defined]


def _op_row(
    alloc: OpAllocator,
    *,
    table: str,
    record_id: str,
    kind: str,
    fields: dict[str, Any],
    parents: dict[str, list[str]],
) -> dict[str, Any]:
    op_id, seq, hlc, order = alloc.allocate()
    return {
        "op_id": op_id,
        "device_id": alloc.device_id,
        "seq": seq,
        "hlc": hlc,
        "table_name": table,
        "record_id": record_id,
        "kind": kind,
        "fields": canonical_json(fields),
        "parents": canonical_json(parents),
        "local_order": order,
        "received_at": alloc.clock.now(),
        "exported": False,
        "held_back": False,
    }


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    new = [o for o in session.new if _is_synced(o)]
    dirty = [
        o
        for o in session.dirty
        if _is_synced(o) and session.is_modified(o, include_collections=False)
    ]
    deleted = [o for o in session.deleted if _is_synced(o)]
    if not (new or dirty or deleted):
        return
    ctx = session.info.get(CHANGE_CONTEXT_KEY)
    if not isinstance(ctx, ChangeContext):
        raise StorageError("A synced record was written outside the change log.")
    with session.no_autoflush:
        alloc = OpAllocator(session, ctx.clock)
        ops: list[dict[str, Any]] = []
        for obj in new:
            table: Table = obj.__table__
            _apply_scalar_defaults(obj, table)
            fields = {c.name: encode_value(c, getattr(obj, c.key)) for c in synced_columns(table)}
            ops.append(
                _op_row(
                    alloc, table=table.name, record_id=obj.id, kind="put", fields=fields, parents={}
                )
            )
        for obj in dirty:
            table = obj.__table__
            attrs = inspect(obj).attrs
            changed = [c for c in synced_columns(table) if attrs[c.key].history.has_changes()]
            if not changed:
                continue
            heads = current_heads(session, table.name, obj.id)
            fields = {c.name: encode_value(c, getattr(obj, c.key)) for c in changed}
            parents = {c.name: heads[c.name] for c in changed if heads.get(c.name)}
            settled = [c.name for c in changed if len(heads.get(c.name, ())) > 1]
            if settled:  # a local edit over several heads resolves that conflict
                session.execute(
                    delete(Conflict).where(
                        Conflict.table_name == table.name,
                        Conflict.record_id == obj.id,
                        Conflict.field.in_(settled),
                    )
                )
            ops.append(
                _op_row(
                    alloc,
                    table=table.name,
                    record_id=obj.id,
                    kind="put",
                    fields=fields,
                    parents=parents,
                )
            )
        for obj in deleted:
            table = obj.__table__
            heads = current_heads(session, table.name, obj.id)
            ops.append(
                _op_row(
                    alloc,
                    table=table.name,
                    record_id=obj.id,
                    kind="delete",
                    fields={},
                    parents=heads,
                )
            )
        for row in ops:
            session.add(Op(**row))
    log.debug("change log: %d ops recorded", len(ops))


HELD_BACK_KEY = "sync.held_back_ops"
"""Setting: how many received ops are held back (kept by every merge; see app.sync.merge)."""

_OPS_INSERT = (
    "INSERT INTO ops (op_id, device_id, seq, hlc, table_name, record_id, kind, fields, parents,"
    " local_order, received_at, exported, held_back) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def stored_datetime(value: datetime) -> str:
    """What SQLAlchemy's SQLite DATETIME stores for an aware value (naive UTC text)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


_PLANS: dict[str, tuple[list[str], dict[str, Any], list[str], str]] = {}


def _insert_plan(table: Table) -> tuple[list[str], dict[str, Any], list[str], str]:
    plan = _PLANS.get(table.name)
    if plan is None:
        cols = synced_columns(table)
        names = [c.name for c in cols]
        defaults = {
            c.name: c.default.arg  # type: ignore[attr-defined]
            for c in cols
            if c.default is not None and c.default.is_scalar
        }
        kinds = []
        for c in cols:
            if isinstance(c.type, UTCDateTime):
                kinds.append("dt")
            elif isinstance(c.type, Date):
                kinds.append("d")
            elif isinstance(c.type, Boolean):
                kinds.append("b")
            elif isinstance(c.type, Float):
                kinds.append("f")
            else:
                kinds.append("")
        marks = ", ".join("?" * (len(names) + 1))
        sql = f"INSERT INTO {table.name} (id, {', '.join(names)}) VALUES ({marks})"
        plan = _PLANS[table.name] = (names, defaults, kinds, sql)
    return plan


def record_bulk_inserts(
    session: Session, clock: Clock, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert many new synced records fast (demo data, big imports), with their ops.

    Each row is a dict of column values; ``id`` and scalar defaults are filled in. Equivalent
    to adding the records through the ORM (same stored rows, same op fields), without ORM
    objects or SQLAlchemy's per-row work: the clock is read once per call (the HLC counter runs
    on), values are converted once, and rows and ops go to the driver's executemany.
    """
    if not rows:
        return
    alloc = OpAllocator(session, clock)
    names, defaults, kinds, sql = _insert_plan(table)
    st = alloc.state
    device, seq = st.device_id, st.next_seq
    now = clock.now()
    h = tick(Hlc(st.hlc_wall_ms, st.hlc_counter), now)
    wall, counter = h.wall_ms, h.counter
    received = stored_datetime(now)
    order = alloc.order
    records: list[tuple[Any, ...]] = []
    ops: list[tuple[Any, ...]] = []
    for row in rows:
        rid = row.get("id") or new_id()
        stored: list[Any] = [rid]
        fields: dict[str, Any] = {}
        for name, kind in zip(names, kinds, strict=True):
            v = row.get(name)
            if v is None:
                v = defaults.get(name)
            if v is None:
                stored.append(None)
                fields[name] = None
            elif kind == "dt":
                stored.append(stored_datetime(v))
                fields[name] = format_utc(v)
            elif kind == "d":
                text = v.isoformat()
                stored.append(text)
                fields[name] = text
            elif kind == "b":
                stored.append(1 if v else 0)
                fields[name] = bool(v)
            elif kind == "f":
                stored.append(float(v))
                fields[name] = float(v)
            else:
                stored.append(v)
                fields[name] = v
        records.append(tuple(stored))
        order += 1
        ops.append(
            (f"{device}:{seq}", device, seq, Hlc(wall, counter).encode(), table.name, rid,
             "put", canonical_json(fields), "{}", order, received, 0, 0)
        )  # fmt: skip
        seq += 1
        counter += 1
    st.next_seq = seq
    st.hlc_wall_ms, st.hlc_counter = wall, counter - 1
    conn = session.connection()
    conn.exec_driver_sql(sql, records)
    conn.exec_driver_sql(_OPS_INSERT, ops)
