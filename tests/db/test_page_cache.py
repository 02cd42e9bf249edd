"""The encrypted database keeps a page cache large enough for a big team's indexes (pages are
decrypted once, not on every keystroke); the in-memory test database keeps SQLite's default."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.context import AppContext
from app.db.engine import BULK_PAGE_CACHE_KIB, PAGE_CACHE_KIB, bulk_page_cache


def _cache_size(ctx: AppContext) -> int:
    with ctx.db.read() as s:
        return int(s.execute(text("PRAGMA cache_size")).scalar_one())


def test_an_on_disk_database_caches_up_to_32_mib_per_connection(file_ctx: AppContext) -> None:
    assert PAGE_CACHE_KIB == 32 * 1024
    assert _cache_size(file_ctx) == -PAGE_CACHE_KIB


def test_the_in_memory_database_keeps_the_default(ctx: AppContext) -> None:
    assert _cache_size(ctx) != -PAGE_CACHE_KIB


def test_a_bulk_write_has_a_bigger_cache_and_gives_it_back_even_when_it_fails(
    file_ctx: AppContext,
) -> None:
    with file_ctx.db.write() as s:
        conn = s.connection()
        with bulk_page_cache(conn):
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -BULK_PAGE_CACHE_KIB
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -PAGE_CACHE_KIB
        with pytest.raises(RuntimeError), bulk_page_cache(conn):
            raise RuntimeError("the import failed")
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -PAGE_CACHE_KIB
