"""Shared fixtures for the sync tests: cheap Argon2 parameters and fresh keys."""

from __future__ import annotations

import pytest

from app.core import secrets
from app.sync.keys import DeviceKey, TeamKey, new_device_key, new_team_key


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its minimum cost; the real parameters are exercised in tests/core."""
    monkeypatch.setattr(secrets, "ARGON2_MEMORY_COST_KIB", 8)
    monkeypatch.setattr(secrets, "ARGON2_ITERATIONS", 1)
    monkeypatch.setattr(secrets, "ARGON2_LANES", 1)


@pytest.fixture
def team_key() -> TeamKey:
    return new_team_key("team-1")


@pytest.fixture
def device_key() -> DeviceKey:
    return new_device_key("laptop-a")
