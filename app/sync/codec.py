"""Field values <-> canonical JSON values, by column type (used by ops and by ``db dump``)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer

from app.core.timeutil import format_utc
from app.models.base import Base, UTCDateTime

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters kept: the same value gives the same text."""
    return _CANONICAL.encode(value)


def synced_columns(table: Table) -> list[Column[Any]]:
    """The columns that travel in ops (all but ``id`` and those marked local)."""
    return [c for c in table.columns if c.name != "id" and not c.info.get("local")]


def encode_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(column.type, Float):
        return float(value)
    return value


def decode_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    ctype = column.type
    if isinstance(ctype, UTCDateTime | DateTime):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if isinstance(ctype, Date):
        return date.fromisoformat(str(value))
    if isinstance(ctype, Boolean):
        return bool(value)
    if isinstance(ctype, Integer):
        return int(value)
    if isinstance(ctype, Float):
        return float(value)
    return value


def table_for(name: str) -> Table:
    table = Base.metadata.tables.get(name)
    if table is None:
        raise KeyError(name)
    return table
