"""``db dump``: the clinical content as canonical JSON, identical on laptops that have
exchanged all bundles (no local bookkeeping: no seq numbers, import times or settings)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app.models import synced_models
from app.sync.codec import encode_value, synced_columns


def dump_records(session: Session) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for model in sorted(synced_models(), key=lambda m: m.__tablename__):
        table: Table = model.__table__  # type: ignore[assignment]
        cols = synced_columns(table)
        records = []
        for row in session.execute(select(table).order_by(table.c.id)).mappings():
            rec = {"id": row["id"]}
            rec.update({c.name: encode_value(c, row[c.name]) for c in cols})
            records.append(rec)
        out[table.name] = records
    return out


def dump_json(session: Session) -> str:
    return json.dumps(dump_records(session), sort_keys=True, indent=1, ensure_ascii=False)
