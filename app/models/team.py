"""Coordinators (the people whose caseloads the app tracks) and the team's devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Synced


class Coordinator(Synced, Base):
    __tablename__ = "coordinators"

    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(80), default="Care Coordinator")
    locality: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_team_lead: Mapped[bool] = mapped_column(Boolean, default=False)


class TeamDevice(Synced, Base):
    """A laptop enrolled in the team (id = its device id). Revocations travel in bundles."""

    __tablename__ = "team_devices"

    label: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(Text)  # base64 Ed25519 public key
    fingerprint: Mapped[str] = mapped_column(String(80))
    enrolled_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
