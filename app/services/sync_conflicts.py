"""Conflicts left by a merge, shown with every competing value, and their resolution
(DESIGN.md §5 Merge).

A conflicted field has several heads (ops no other op supersedes). Resolving writes one new
op whose parents are all those heads, so every laptop that receives it settles the same way;
the record is then derived again from its ops. An edit against a delete (a head that deletes
the record, or the ``_deleted`` flag of a record deleted while still referred to) is resolved
by keeping or deleting the whole record.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, select
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.models import Conflict, Op, synced_models
from app.services.sync_keys import device_labels, label_for
from app.sync.changelog import OpAllocator
from app.sync.codec import canonical_json, decode_value, encode_value, synced_columns, table_for
from app.sync.hlc import Hlc
from app.sync.state import DELETED_FIELD, OpRow, field_heads, materialise, resolve_record


class RecordChoice(enum.Enum):
    """The answer to an edit-against-delete conflict."""

    KEEP = "keep"
    DELETE = "delete"


@dataclass(frozen=True)
class ConflictHead:
    """One competing change: a value, or the deletion of the record."""

    op_id: str
    device_id: str
    device_label: str
    at: datetime
    deleted: bool
    value: Any  # the field's value as it travels in ops (JSON); None for a deletion
    shown: bool  # the provisional value shown until someone resolves the conflict


@dataclass(frozen=True)
class ConflictView:
    table: str
    record_id: str
    field: str
    heads: tuple[ConflictHead, ...]
    current: Any  # the provisional value shown now (JSON form)
    detected_at: datetime
    deletion: bool  # an edit against a delete: resolve with RecordChoice.KEEP or .DELETE
    note: str = ""


def _record_ops(session: Session, table: str, record_id: str) -> list[OpRow]:
    return [
        OpRow.from_model(o)
        for o in session.scalars(
            select(Op)
            .where(Op.table_name == table, Op.record_id == record_id, Op.held_back.is_(False))
            .order_by(Op.local_order)
        )
    ]


def _delete_heads(heads: dict[str, list[OpRow]]) -> list[OpRow]:
    found = {o.op_id: o for hs in heads.values() for o in hs if o.kind == "delete"}
    return sorted(found.values(), key=lambda o: o.order_key)


def list_conflicts(session: Session) -> list[ConflictView]:
    """Every conflicted field, with each head's value, device and time, by table and record."""
    labels = device_labels(session)
    views: list[ConflictView] = []
    cache: dict[tuple[str, str], list[OpRow]] = {}
    rows = session.execute(
        select(
            Conflict.table_name, Conflict.record_id, Conflict.field, Conflict.detected_at
        ).order_by(Conflict.table_name, Conflict.record_id, Conflict.field)
    ).all()
    for c in rows:
        key = (c.table_name, c.record_id)
        if key not in cache:
            cache[key] = _record_ops(session, *key)
        ops = cache[key]
        table = table_for(c.table_name)
        heads = field_heads(ops, [col.name for col in synced_columns(table)])
        state = resolve_record(table, ops)
        note = ""
        if c.field == DELETED_FIELD:
            chosen, current, deletion = _delete_heads(heads), None, True
            note = "deleted on another laptop while other records still refer to it"
        else:
            chosen = sorted(heads.get(c.field, []), key=lambda o: o.order_key)
            current = state.values.get(c.field)
            deletion = any(o.kind == "delete" for o in chosen)
        puts = [o for o in chosen if o.kind == "put"]
        shown = max(puts, key=lambda o: o.order_key).op_id if puts else None
        views.append(
            ConflictView(
                table=c.table_name,
                record_id=c.record_id,
                field=c.field,
                heads=tuple(
                    ConflictHead(
                        op_id=o.op_id,
                        device_id=o.device_id,
                        device_label=label_for(labels, o.device_id),
                        at=Hlc.decode(o.hlc).to_datetime(),
                        deleted=o.kind == "delete",
                        value=o.fields.get(c.field) if o.kind == "put" else None,
                        shown=o.op_id == shown,
                    )
                    for o in chosen
                ),
                current=current,
                detected_at=c.detected_at,
                deletion=deletion,
                note=note,
            )
        )
    return views


def head_choice(view: ConflictView, op_id: str) -> Any:
    """The value to resolve ``view`` with when the user picks head ``op_id``."""
    for head in view.heads:
        if head.op_id == op_id:
            return RecordChoice.DELETE if head.deleted else head.value
    raise ValidationError(
        f"Change {op_id} is not one of the competing values of {view.table} "
        f"{view.record_id} field {view.field}.",
        field="pick",
    )


def find_conflict(session: Session, *, table: str, record_id: str, field: str) -> ConflictView:
    for view in list_conflicts(session):
        if (view.table, view.record_id, view.field) == (table, record_id, field):
            return view
    raise NotFoundError(f"There is no open conflict on {table} {record_id} field {field}.")


def _checked_value(table: Table, column: Column[Any], value: Any) -> Any:
    """``value`` (JSON) in the form ops carry for ``column``; ValidationError if it cannot be."""
    where = f"{table.name}.{column.name}"
    if value is None:
        if not column.nullable:
            raise ValidationError(f"The field {where} cannot be left empty.", field=column.name)
        return None
    try:
        expected = column.type.python_type
    except NotImplementedError:  # pragma: no cover - every synced column type has one
        expected = object
    wrong = (
        (expected is bool and not isinstance(value, bool))
        or (expected is int and (isinstance(value, bool) or not isinstance(value, int)))
        or (expected is float and (isinstance(value, bool) or not isinstance(value, int | float)))
        or (expected is str and not isinstance(value, str))
        or (expected not in (bool, int, float, str) and not isinstance(value, str))
    )
    if wrong:
        raise ValidationError(f"The value given is not valid for {where}.", field=column.name)
    try:
        return encode_value(column, decode_value(column, value))
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"The value given is not valid for {where}.", field=column.name
        ) from exc


def resolve_conflict(
    session: Session,
    *,
    clock: Clock,
    table: str,
    record_id: str,
    field: str,
    value: Any,
) -> ConflictView | None:
    """Settle a conflicted field with ``value`` (its JSON form), or an edit-against-delete
    with :class:`RecordChoice`. Writes one op whose parents are the heads it settles, derives
    the record again and clears the conflict. Returns what is still in conflict on this field
    (None when settled)."""
    if table not in {m.__tablename__ for m in synced_models()}:
        raise ValidationError(f"There is no synced table called {table}.", field="table")
    if not _is_open(session, table, record_id, field):
        raise NotFoundError(f"There is no open conflict on {table} {record_id} field {field}.")
    tbl = table_for(table)
    columns = {c.name: c for c in synced_columns(tbl)}
    ops = _record_ops(session, table, record_id)
    heads = field_heads(ops, list(columns))
    deletion = field == DELETED_FIELD or any(o.kind == "delete" for o in heads.get(field, []))
    if isinstance(value, RecordChoice) and not deletion:
        raise ValidationError(
            f"The conflict on {table} field {field} is between values, not a deletion; "
            "choose one of the values or give a new one.",
            field="value",
        )
    if field == DELETED_FIELD and not isinstance(value, RecordChoice):
        raise ValidationError(
            f"The {table} record was deleted while still in use: keep it or delete it.",
            field="value",
        )
    fields: dict[str, Any]
    parents: dict[str, list[str]]
    if value is RecordChoice.DELETE:
        kind, fields = "delete", {}
        parents = {name: sorted(o.op_id for o in hs) for name, hs in heads.items() if hs}
    elif value is RecordChoice.KEEP or deletion:
        kind = "put"
        fields, parents = _keep(tbl, ops, heads)
        if not isinstance(value, RecordChoice):
            fields[field] = _checked_value(tbl, columns[field], value)
            parents[field] = sorted(o.op_id for o in heads[field])
    else:
        if field not in columns:
            raise ValidationError(f"The table {table} has no field {field}.", field="field")
        kind = "put"
        fields = {field: _checked_value(tbl, columns[field], value)}
        parents = {field: sorted(o.op_id for o in heads[field])}
    _write_op(session, clock, table, record_id, kind, fields, parents)
    materialise(session, [(table, record_id)], now=clock.now())
    session.flush()
    left = _is_open(session, table, record_id, field)
    if left and value is RecordChoice.DELETE:
        raise ConflictError(
            f"The {table} record cannot be deleted while other records still refer to it; "
            "keep it, or remove those records first."
        )
    if not left:
        return None
    return find_conflict(session, table=table, record_id=record_id, field=field)


def _is_open(session: Session, table: str, record_id: str, field: str) -> bool:
    found = session.execute(
        select(Conflict.field).where(
            Conflict.table_name == table, Conflict.record_id == record_id, Conflict.field == field
        )
    ).first()
    return found is not None


def _keep(
    table: Table, ops: list[OpRow], heads: dict[str, list[OpRow]]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A put that brings the record back over every delete among its heads. A field whose
    other heads still disagree keeps that disagreement (only the delete is superseded)."""
    state = resolve_record(table, ops)
    fields: dict[str, Any] = {}
    parents: dict[str, list[str]] = {}
    for name, hs in heads.items():
        deletes = [o for o in hs if o.kind == "delete"]
        if not deletes:
            continue
        puts = [o for o in hs if o.kind == "put"]
        agreed = len({canonical_json(o.fields[name]) for o in puts}) <= 1
        fields[name] = state.values.get(name)
        parents[name] = sorted(o.op_id for o in (hs if agreed else deletes))
    return fields, parents


def _write_op(
    session: Session,
    clock: Clock,
    table: str,
    record_id: str,
    kind: str,
    fields: dict[str, Any],
    parents: dict[str, list[str]],
) -> None:
    alloc = OpAllocator(session, clock)
    op_id, seq, hlc, order = alloc.allocate()
    session.add(
        Op(
            op_id=op_id,
            device_id=alloc.device_id,
            seq=seq,
            hlc=hlc,
            table_name=table,
            record_id=record_id,
            kind=kind,
            fields=canonical_json(fields),
            parents=canonical_json(parents),
            local_order=order,
            received_at=clock.now(),
            exported=False,
            held_back=False,
        )
    )
    session.flush()


def conflict_value_text(value: Any) -> str:
    """A value as the user typed it for ``--value`` (JSON)."""
    return json.dumps(value, ensure_ascii=False)
