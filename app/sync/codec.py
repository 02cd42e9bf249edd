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


_SYNCED_COLUMNS: dict[str, tuple[Column[Any], ...]] = {}


def synced_columns(table: Table) -> tuple[Column[Any], ...]:
    """The columns that travel in ops (all but ``id`` and those marked local)."""
    cols = _SYNCED_COLUMNS.get(table.name)
    if cols is None:
        cols = tuple(c for c in table.columns if c.name != "id" and not c.info.get("local"))
        _SYNCED_COLUMNS[table.name] = cols
    return cols


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _as_date(value: Any) -> date:
    return date.fromisoformat(str(value))


def _same(value: Any) -> Any:
    return value


_DECODERS: dict[str, tuple[tuple[str, Any], ...]] = {}


def column_decoders(table: Table) -> tuple[tuple[str, Any], ...]:
    """(column name, converter) pairs turning JSON values back into column values."""
    found = _DECODERS.get(table.name)
    if found is None:
        pairs = []
        for col in synced_columns(table):
            ctype = col.type
            if isinstance(ctype, UTCDateTime | DateTime):
                fn: Any = _as_datetime
            elif isinstance(ctype, Date):
                fn = _as_date
            elif isinstance(ctype, Boolean):
                fn = bool
            elif isinstance(ctype, Integer):
                fn = int
            elif isinstance(ctype, Float):
                fn = float
            else:
                fn = _same
            pairs.append((col.name, fn))
        found = _DECODERS[table.name] = tuple(pairs)
    return found


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
