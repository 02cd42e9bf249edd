"""The encrypted database keeps a page cache large enough for a big team's indexes (pages are
decrypted once, not on every keystroke); the in-memory test database keeps SQLite's default."""

from __future__ import annotations

from sqlalchemy import text

from app.context import AppContext
from app.db.engine import PAGE_CACHE_KIB


def _cache_size(ctx: AppContext) -> int:
    with ctx.db.read() as s:
        return int(s.execute(text("PRAGMA cache_size")).scalar_one())


def test_an_on_disk_database_caches_up_to_32_mib_per_connection(file_ctx: AppContext) -> None:
    assert PAGE_CACHE_KIB == 32 * 1024
    assert _cache_size(file_ctx) == -PAGE_CACHE_KIB


def test_the_in_memory_database_keeps_the_default(ctx: AppContext) -> None:
    assert _cache_size(ctx) != -PAGE_CACHE_KIB
