"""The audit trail of a patient: who changed what, where and when, read from the change log.

Every write is an op, and ops travel in bundles, so the trail is the same on every laptop that
holds the same ops, and it includes records deleted since. A patient's trail covers the patient
record and every record that refers to it, directly or through another such record
(admissions and their calls, episodes and level changes, assessments with their domains,
actions and plans, carer links, referrals and their status changes, tasks, MDT items and
actions), found by following the foreign keys of the synced tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from app.core.errors import NotFoundError
from app.models import Op, synced_models
from app.services.sync_keys import device_labels, label_for
from app.sync.hlc import Hlc

_CHUNK = 50


@dataclass(frozen=True)
class AuditEntry:
    when: datetime
    device_id: str
    device_label: str
    table: str
    record_id: str
    action: str  # "created", "changed" or "deleted"
    field_changes: tuple[tuple[str, Any], ...]  # (field, new value as it travels in ops)
    op_id: str


def _references() -> list[tuple[str, str, str]]:
    """(child table, column, parent table) for every foreign key between synced tables."""
    names = {m.__tablename__ for m in synced_models()}
    out: list[tuple[str, str, str]] = []
    for model in synced_models():
        table: Table = model.__table__  # type: ignore[assignment]
        for fk in table.foreign_keys:
            if fk.column.table.name in names:
                out.append((table.name, fk.parent.name, fk.column.table.name))
    return out


def related_records(session: Session, *, patient_id: str) -> dict[str, set[str]]:
    """Record ids by table: the patient and everything that refers to it, from the ops."""
    found: dict[str, set[str]] = {"patients": {patient_id}}
    frontier: dict[str, set[str]] = {"patients": {patient_id}}
    edges = _references()
    while frontier:
        discovered: dict[str, set[str]] = {}
        for child, column, parent in edges:
            ids = sorted(frontier.get(parent, ()))
            for start in range(0, len(ids), _CHUNK):
                patterns = [
                    Op.fields.contains(f'"{column}":"{i}"', autoescape=True)
                    for i in ids[start : start + _CHUNK]
                ]
                for (rid,) in session.execute(
                    select(Op.record_id)
                    .where(Op.table_name == child, Op.kind == "put", or_(*patterns))
                    .distinct()
                ):
                    if rid not in found.get(child, set()):
                        discovered.setdefault(child, set()).add(rid)
        for table, new_ids in discovered.items():
            found.setdefault(table, set()).update(new_ids)
        frontier = discovered
    return found


def audit_trail(session: Session, *, patient_id: str) -> list[AuditEntry]:
    """Every change to the patient and its related records, oldest first (by HLC time)."""
    exists = session.execute(
        select(Op.op_id).where(Op.table_name == "patients", Op.record_id == patient_id).limit(1)
    ).first()
    if exists is None:
        raise NotFoundError(f"No patient record {patient_id} is known on this laptop.")
    labels = device_labels(session)
    entries: list[tuple[tuple[str, str, int], AuditEntry]] = []
    for table, ids in sorted(related_records(session, patient_id=patient_id).items()):
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            for op in session.scalars(
                select(Op).where(
                    Op.table_name == table, Op.record_id.in_(ordered[start : start + 500])
                )
            ):
                fields: dict[str, Any] = json.loads(op.fields)
                if op.kind == "delete":
                    action = "deleted"
                else:
                    action = "changed" if json.loads(op.parents) else "created"
                entry = AuditEntry(
                    when=Hlc.decode(op.hlc).to_datetime(),
                    device_id=op.device_id,
                    device_label=label_for(labels, op.device_id),
                    table=op.table_name,
                    record_id=op.record_id,
                    action=action,
                    field_changes=tuple(sorted(fields.items())),
                    op_id=op.op_id,
                )
                entries.append(((op.hlc, op.device_id, op.seq), entry))
    entries.sort(key=lambda pair: pair[0])
    return [entry for _, entry in entries]
