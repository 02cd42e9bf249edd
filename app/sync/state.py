"""Current state derived from the op log (DESIGN.md §5).

A field's heads are the ops touching it that no other op on that field names as a parent.
One head: settled. Several heads with different values: a conflict, with a deterministic
provisional value (highest HLC, then device id). A delete touches every field, so an edit
concurrent with a delete is a conflict and the record stays visible.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Conflict, Op, synced_models
from app.sync.codec import canonical_json, column_decoders, synced_columns, table_for

DELETED_FIELD = "_deleted"


class OpRow(NamedTuple):
    """One op as the state derivation needs it (a tuple: a large import makes millions)."""

    op_id: str
    device_id: str
    hlc: str
    kind: str
    fields: dict[str, Any]
    parents: dict[str, list[str]]

    @property
    def order_key(self) -> tuple[str, str]:
        return (self.hlc, self.device_id)

    @staticmethod
    def from_model(op: Op) -> OpRow:
        return OpRow(
            op.op_id, op.device_id, op.hlc, op.kind, json.loads(op.fields), json.loads(op.parents)
        )

    @staticmethod
    def from_dict(d: dict[str, Any]) -> OpRow:
        return OpRow(d["op_id"], d["device_id"], d["hlc"], d["kind"], d["fields"], d["parents"])


@dataclass(frozen=True)
class RecordState:
    exists: bool
    complete: bool  # every NOT NULL field has a value (false while an earlier op is missing)
    values: dict[str, Any]  # encoded (JSON) values
    conflicts: dict[str, list[str]] = field(default_factory=dict)  # field -> head op ids


def field_heads(ops: Sequence[OpRow], field_names: Iterable[str]) -> dict[str, list[OpRow]]:
    heads: dict[str, list[OpRow]] = {}
    for name in field_names:
        touching = [o for o in ops if o.kind == "delete" or name in o.fields]
        named = {p for o in touching for p in o.parents.get(name, ())}
        heads[name] = [o for o in touching if o.op_id not in named]
    return heads


def resolve_record(table: Table, ops: Sequence[OpRow]) -> RecordState:
    columns = synced_columns(table)
    if len(ops) == 1 and ops[0].kind == "put" and not ops[0].parents:
        # the common case: a record written once (fast path, same result as below)
        fields = ops[0].fields
        return RecordState(
            exists=True,
            complete=all(c.nullable or c.name in fields for c in columns),
            values={c.name: fields.get(c.name) for c in columns},
            conflicts={},
        )
    names = [c.name for c in columns]
    heads = field_heads(ops, names)
    exists = any(o.kind == "put" for hs in heads.values() for o in hs)
    values: dict[str, Any] = {}
    conflicts: dict[str, list[str]] = {}
    for col in columns:
        hs = heads[col.name]
        puts = [o for o in hs if o.kind == "put"]
        if puts:
            values[col.name] = max(puts, key=lambda o: o.order_key).fields[col.name]
        else:
            writers = [o for o in ops if o.kind == "put" and col.name in o.fields]
            values[col.name] = (
                max(writers, key=lambda o: o.order_key).fields[col.name] if writers else None
            )
        distinct = {canonical_json(o.fields[col.name]) if o.kind == "put" else "\0del" for o in hs}
        if len(distinct) > 1:
            conflicts[col.name] = sorted(o.op_id for o in hs)
    written = {n for o in ops if o.kind == "put" for n in o.fields}
    complete = all(c.nullable or c.name in written for c in columns)
    return RecordState(exists=exists, complete=complete, values=values, conflicts=conflicts)


def current_heads(session: Session, table_name: str, record_id: str) -> dict[str, list[str]]:
    """Head op ids per field of one record, as this laptop sees them now."""
    rows = [
        OpRow.from_model(o)
        for o in session.scalars(
            select(Op).where(Op.table_name == table_name, Op.record_id == record_id)
        )
    ]
    table = table_for(table_name)
    heads = field_heads(rows, [c.name for c in synced_columns(table)])
    return {f: sorted(o.op_id for o in hs) for f, hs in heads.items() if hs}


def row_values(table: Table, record_id: str, state: RecordState) -> dict[str, Any]:
    row: dict[str, Any] = {"id": record_id}
    values = state.values
    for name, convert in column_decoders(table):
        value = values.get(name)
        row[name] = None if value is None else convert(value)
    return row


def materialise(
    session: Session,
    keys: Iterable[tuple[str, str]],
    *,
    now: datetime,
    known_ops: dict[tuple[str, str], list[OpRow]] | None = None,
) -> list[tuple[str, str]]:
    """Re-derive the rows of the given (table, record id) pairs from their ops.

    Upserts run parents-first and deletes children-first. Returns the keys that could not be
    materialised yet (an earlier op of theirs, or the record they refer to, has not arrived).
    Records kept after a delete are looked at again every time, and a record waiting for a
    deleted parent brings that parent in, so the outcome depends on the op set alone.
    """
    wanted = set(keys)
    wanted |= {
        (c.table_name, c.record_id)
        for c in session.scalars(select(Conflict).where(Conflict.field == DELETED_FIELD))
    }
    while True:
        pending, missing = _materialise_once(session, wanted, now=now, known_ops=known_ops)
        extra = {
            key
            for key in missing
            if key not in wanted
            and session.execute(
                select(Op.op_id).where(Op.table_name == key[0], Op.record_id == key[1]).limit(1)
            ).first()
        }
        if not extra:
            return pending
        wanted |= extra


CHUNK = 900  # stays under SQLite's bound-parameter limit


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def load_ops(
    session: Session, table_name: str, record_ids: Sequence[str]
) -> dict[str, list[OpRow]]:
    """The applicable (not held back) ops of many records of one table, in a few queries."""
    out: dict[str, list[OpRow]] = {rid: [] for rid in record_ids}
    loads = json.loads
    for chunk in _chunks(record_ids):
        for op_id, device_id, hlc, kind, fields, parents, rid in session.execute(
            select(
                Op.op_id, Op.device_id, Op.hlc, Op.kind, Op.fields, Op.parents, Op.record_id
            ).where(
                Op.table_name == table_name,
                Op.record_id.in_(chunk),
                Op.held_back.is_(False),
            )
        ):
            out[rid].append(OpRow(op_id, device_id, hlc, kind, loads(fields), loads(parents)))
    return out


def _present_ids(session: Session, column: Any, ids: set[str]) -> set[str]:
    """Which of ``ids`` exist in the referenced ``column``."""
    found: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _materialise_once(
    session: Session,
    keys: Iterable[tuple[str, str]],
    *,
    now: datetime,
    known_ops: dict[tuple[str, str], list[OpRow]] | None = None,
) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """One pass over the wanted records, batched per table (no per-record queries except for
    deletions, which are rare)."""
    by_table: dict[str, list[str]] = {}
    for tkey, rkey in keys:
        by_table.setdefault(tkey, []).append(rkey)
    order = [m.__tablename__ for m in synced_models() if m.__tablename__ in by_table]
    states: dict[str, dict[str, RecordState]] = {}
    for tname in order:
        rids = sorted(set(by_table[tname]))
        table = table_for(tname)
        known = known_ops or {}
        grouped = load_ops(session, tname, [r for r in rids if (tname, r) not in known])
        grouped.update({r: known[(tname, r)] for r in rids if (tname, r) in known})
        states[tname] = {rid: resolve_record(table, grouped[rid]) for rid in rids}
    for tname in order:  # a record deleted elsewhere but still referred to stays
        for rid, st in states[tname].items():
            if not st.exists and has_live_referrers(session, tname, rid):
                states[tname][rid] = kept_after_delete(st)
    for tname in reversed(order):  # deletions, children first
        table = table_for(tname)
        for rid, st in sorted(states[tname].items()):
            if st.exists:
                continue
            try:
                with session.begin_nested():
                    session.execute(delete(table).where(table.c.id == rid))
            except IntegrityError:  # pragma: no cover - has_live_referrers keeps these
                states[tname][rid] = kept_after_delete(st)
    _store_conflicts_bulk(session, states, now=now)
    pending: list[tuple[str, str]] = []
    missing: set[tuple[str, str]] = set()
    upserted: dict[str, set[str]] = {}
    for tname in order:  # upserts, parents first
        table = table_for(tname)
        ready: list[tuple[str, RecordState]] = []
        for rid, st in sorted(states[tname].items()):
            if not st.exists:
                continue
            if not st.complete:
                pending.append((tname, rid))
                continue
            ready.append((rid, st))
        for fk in table.foreign_keys:
            col = fk.parent.name
            wanted = {str(v) for _, st in ready if (v := st.values.get(col)) is not None}
            if not wanted:
                continue
            target: Table = fk.column.table
            present = wanted & upserted.get(target.name, set())
            if wanted - present:
                present |= _present_ids(session, fk.column, wanted - present)
            kept = []
            for rid, st in ready:
                value = st.values.get(col)
                if value is None or str(value) in present:
                    kept.append((rid, st))
                else:
                    pending.append((tname, rid))
                    missing.add((target.name, str(value)))
            ready = kept
        if ready:
            _upsert(session, table, ready)
            upserted[tname] = {rid for rid, _ in ready}
    return pending, missing


_UPSERTS: dict[str, tuple[str, tuple[tuple[str, Any, Any], ...]] | None] = {}


def _upsert(session: Session, table: Table, records: list[tuple[str, RecordState]]) -> None:
    """Insert or update the rows of ``records`` (id, derived state).

    Through the driver, each JSON value turned into the column's value and then stored by the
    column type's own bind processor: the same stored values as a SQLAlchemy insert, without
    its per-row work, which was most of a large import's time. A table with columns outside
    the change log (which could have defaults to fill in) goes through SQLAlchemy.
    """
    connection = session.connection()
    if table.name not in _UPSERTS:
        _UPSERTS[table.name] = _upsert_plan(table, connection.dialect)
    plan = _UPSERTS[table.name]
    if plan is None:
        rows = [row_values(table, rid, st) for rid, st in records]
        stmt = sqlite_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={c.name: stmt.excluded[c.name] for c in synced_columns(table)},
        )
        for start in range(0, len(rows), 5000):
            session.execute(stmt, rows[start : start + 5000])
        return
    sql, columns = plan
    stored: list[tuple[Any, ...]] = []
    for rid, st in records:
        values = st.values
        row: list[Any] = [rid]
        for name, convert, process in columns:
            value = values.get(name)
            if value is not None:
                value = convert(value)
                if process is not None:
                    value = process(value)
            row.append(value)
        stored.append(tuple(row))
    connection.exec_driver_sql(sql, stored)


def _upsert_plan(table: Table, dialect: Any) -> tuple[str, tuple[tuple[str, Any, Any], ...]] | None:
    columns = synced_columns(table)
    if len(columns) + 1 != len(table.columns):
        return None
    converters = dict(column_decoders(table))
    plan = tuple((c.name, converters[c.name], c.type.bind_processor(dialect)) for c in columns)
    names = ["id", *(c.name for c in columns)]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        f" ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{c.name} = excluded.{c.name}" for c in columns)
    )
    return sql, plan


def _store_conflicts_bulk(
    session: Session, states: dict[str, dict[str, RecordState]], *, now: datetime
) -> None:
    had_conflicts = session.execute(select(Conflict.field).limit(1)).first() is not None
    for tname, by_id in states.items():
        rids = sorted(by_id)
        for chunk in _chunks(rids) if had_conflicts else ():
            session.execute(
                delete(Conflict).where(Conflict.table_name == tname, Conflict.record_id.in_(chunk))
            )
        rows = [
            {
                "table_name": tname,
                "record_id": rid,
                "field": fname,
                "head_op_ids": json.dumps(op_ids),
                "detected_at": now,
            }
            for rid in rids
            for fname, op_ids in by_id[rid].conflicts.items()
        ]
        if rows:
            session.execute(insert(Conflict), rows)


def kept_after_delete(st: RecordState) -> RecordState:
    """A record deleted elsewhere while live records still refer to it stays visible, with the
    deletion shown as a conflict (edit vs delete is never a silent loss)."""
    return RecordState(
        exists=True,
        complete=st.complete,
        values=st.values,
        conflicts={**st.conflicts, DELETED_FIELD: ["deleted while still referred to"]},
    )


def has_live_referrers(session: Session, table_name: str, record_id: str) -> bool:
    """Does any record that exists by its own ops point at ``record_id`` through a foreign key?

    Decided from the op log alone, so every laptop with the same ops decides the same.
    """
    target = table_for(table_name)
    referring: dict[str, list[str]] = {}
    for model in synced_models():
        t: Table = model.__table__  # type: ignore[assignment]
        cols = [fk.parent.name for fk in t.foreign_keys if fk.column.table is target]
        if cols:
            referring[t.name] = cols
    if not referring:
        return False
    candidates = session.execute(
        select(Op.table_name, Op.record_id)
        .where(
            Op.table_name.in_(list(referring)),
            Op.fields.contains(record_id),
            Op.held_back.is_(False),
        )
        .distinct()
    ).all()
    for tname, rid in candidates:
        ops = [
            OpRow.from_model(o)
            for o in session.scalars(
                select(Op).where(
                    Op.table_name == tname, Op.record_id == rid, Op.held_back.is_(False)
                )
            )
        ]
        st = resolve_record(table_for(tname), ops)
        if st.exists and any(st.values.get(c) == record_id for c in referring[tname]):
            return True
    return False


def _store_conflicts(
    session: Session, tname: str, rid: str, st: RecordState, *, now: datetime
) -> None:
    session.execute(delete(Conflict).where(Conflict.table_name == tname, Conflict.record_id == rid))
    for fname, op_ids in st.conflicts.items():
        session.add(
            Conflict(
                table_name=tname,
                record_id=rid,
                field=fname,
                head_op_ids=json.dumps(op_ids),
                detected_at=now,
            )
        )


def _with_references(
    session: Session, table: Table, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rows whose foreign keys all point at present records (the others stay pending)."""
    fks = [fk for fk in table.foreign_keys]
    if not fks:
        return rows
    present = {fk.parent.name: set(session.scalars(select(fk.column))) for fk in fks}
    return [
        r for r in rows if all(r.get(col) is None or r[col] in ids for col, ids in present.items())
    ]


def rebuild_all(session: Session, *, now: datetime) -> None:
    """Throw the current state away and derive every synced row again from the op log."""
    models = synced_models()
    for model in reversed(models):
        session.execute(delete(model.__table__))  # type: ignore[arg-type]
    session.execute(delete(Conflict))
    for model in models:
        table: Table = model.__table__  # type: ignore[assignment]
        tname = table.name
        grouped: dict[str, list[OpRow]] = {}
        for op in session.scalars(
            select(Op).where(Op.table_name == tname, Op.held_back.is_(False)).order_by(Op.record_id)
        ):
            grouped.setdefault(op.record_id, []).append(OpRow.from_model(op))
        rows = []
        for rid, ops in grouped.items():
            st = resolve_record(table, ops)
            if not st.exists and has_live_referrers(session, tname, rid):
                st = kept_after_delete(st)
            if st.conflicts:
                _store_conflicts(session, tname, rid, st, now=now)
            if st.exists and st.complete:
                rows.append(row_values(table, rid, st))
        rows = _with_references(session, table, rows)
        for start in range(0, len(rows), 5000):
            session.execute(insert(table), rows[start : start + 5000])
    session.flush()
