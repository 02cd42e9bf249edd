"""Local bookkeeping of this laptop: device state, the op log, conflicts, settings.

None of these tables is synced or dumped as such; ops travel in bundles and are stored here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class LocalState(Base):
    """Exactly one row: this laptop's device id, next op sequence number and HLC."""

    __tablename__ = "local_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    device_id: Mapped[str] = mapped_column(String(36))
    device_label: Mapped[str] = mapped_column(String(120), default="")
    next_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    hlc_wall_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    hlc_counter: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class Op(Base):
    """An immutable change: one record write with per-field parents (DESIGN.md §5)."""

    __tablename__ = "ops"
    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        # a record's ops; the HLC rides along so that a record's first op (when a carer was
        # first recorded, for the weekly summary) is read from the index, not the log's rows
        Index("ix_ops_record_hlc", "table_name", "record_id", "hlc"),
    )

    op_id: Mapped[str] = mapped_column(String(60), primary_key=True)  # "<device_id>:<seq>"
    device_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)
    hlc: Mapped[str] = mapped_column(String(24))  # "<wall_ms:013d>.<counter:08d>"
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(8))  # put | delete
    fields: Mapped[str] = mapped_column(Text)  # canonical JSON object
    parents: Mapped[str] = mapped_column(Text)  # canonical JSON {field: [op_id, ...]}
    # local bookkeeping
    local_order: Mapped[int] = mapped_column(BigInteger, index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)  # "data as of" without a scan
    exported: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    held_back: Mapped[bool] = mapped_column(Boolean, default=False)


class Conflict(Base):
    """A field with more than one head (derived from the op log, cached for the inbox)."""

    __tablename__ = "conflicts"

    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(60), primary_key=True)
    head_op_ids: Mapped[str] = mapped_column(Text)  # JSON list
    detected_at: Mapped[datetime]


class Setting(Base):
    """Device-local settings (signed-in coordinator, idle lock minutes, default folders)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
