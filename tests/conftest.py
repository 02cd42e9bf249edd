"""Shared fixtures: an injected clock, an in-memory database migrated to head, a temporary
data folder and an in-memory keyring for every test; Qt offscreen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("CARECOORD_DATA_DIR", None)
os.environ.pop("CARECOORD_PASSPHRASE", None)

from app.context import AppContext, open_context, open_memory_context
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.db.unit_of_work import Database


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FixedClock:
    """Monday 23 November 2026, 09:00 UTC (09:00 in London)."""
    return FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def ctx(clock: FixedClock) -> Iterator[AppContext]:
    """An in-memory database migrated to head, with reference data and a device id."""
    context = open_memory_context(clock=clock)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def db(ctx: AppContext) -> Database:
    return ctx.db


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def file_ctx(data_dir: Path, clock: FixedClock) -> Iterator[AppContext]:
    """A real on-disk data folder (WAL, backups, migrations) in a temporary directory."""
    context = open_context(AppPaths(data_dir), clock=clock)
    try:
        yield context
    finally:
        context.close()
