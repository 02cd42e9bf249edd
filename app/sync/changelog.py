"""The change log: every write to a synced record becomes an immutable op in the same
transaction (DESIGN.md §5), so sync and audit come for free.

Installed as a ``before_flush`` listener on the write sessionmaker; services just use the ORM.
One op per record write, carrying per-field parents (the heads each field had on this laptop).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock
from app.core.errors import StorageError
from app.models import Conflict, LocalState, Op, new_id
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


def record_bulk_inserts(
    session: Session, clock: Clock, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert many new synced records fast (demo data, CSV import), with their ops.

    Each row is a dict of column values; ``id`` and scalar defaults are filled in. Equivalent
    to adding the records through the ORM, without materialising ORM objects: the clock is read
    once per call (the ops' HLC counter runs on), and rows and ops go to the database as two
    Core ``executemany`` statements.
    """
    if not rows:
        return
    alloc = OpAllocator(session, clock)
    cols = synced_columns(table)
    names = [c.name for c in cols]
    defaults = [
        (c.name, c.default.arg)  # type: ignore[attr-defined]
        for c in cols
        if c.default is not None and c.default.is_scalar
    ]
    encoders = [(c.name, c) for c in cols]
    st = alloc.state
    device = st.device_id
    first_seq = st.next_seq
    h = tick(Hlc(st.hlc_wall_ms, st.hlc_counter), clock.now())
    wall, counter = h.wall_ms, h.counter
    received = clock.now()
    order = alloc.order
    no_parents = canonical_json({})
    full_rows: list[dict[str, Any]] = []
    ops: list[dict[str, Any]] = []
    for n, row in enumerate(rows):
        full = dict(row)
        if full.get("id") is None:
            full["id"] = new_id()
        for name, value in defaults:
            if full.get(name) is None:
                full[name] = value
        for name in names:
            full.setdefault(name, None)
        full_rows.append(full)
        fields = {name: encode_value(c, full[name]) for name, c in encoders}
        seq = first_seq + n
        ops.append(
            {
                "op_id": f"{device}:{seq}",
                "device_id": device,
                "seq": seq,
                "hlc": Hlc(wall, counter + n).encode(),
                "table_name": table.name,
                "record_id": full["id"],
                "kind": "put",
                "fields": canonical_json(fields),
                "parents": no_parents,
                "local_order": order + n + 1,
                "received_at": received,
                "exported": False,
                "held_back": False,
            }
        )
    count = len(rows)
    st.next_seq = first_seq + count
    st.hlc_wall_ms, st.hlc_counter = wall, counter + count - 1
    conn = session.connection()
    conn.execute(insert(table), full_rows)
    conn.execute(insert(Op.__table__), ops)  # type: ignore[arg-type]


def ops_for_records(session: Session, keys: Iterable[tuple[str, str]]) -> list[Op]:
    """The ops of the given records in local order: the audit trail."""
    out: list[Op] = []
    for t, r in keys:
        out.extend(
            session.scalars(
                select(Op).where(Op.table_name == t, Op.record_id == r).order_by(Op.local_order)
            )
        )
    return out


def decode_parents(op: Op) -> dict[str, list[str]]:
    return dict(json.loads(op.parents))
