"""The packaged migrations and the models describe the same schema; migrations refuse a
database from a newer CareCoord."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from app.core.errors import StorageError
from app.db.engine import make_engine
from app.db.migrate import current_revision, head_revision, upgrade_to_head
from app.models import Base, synced_models


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "schema.db")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_upgrade_is_idempotent_and_backs_up_only_existing_databases(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "schema.db")
    calls: list[str] = []
    assert upgrade_to_head(engine, backup=lambda: calls.append("b") or None) is True
    assert calls == []  # a brand-new database has nothing to back up
    assert upgrade_to_head(engine, backup=lambda: calls.append("b") or None) is False


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "schema.db")
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StorageError, match="newer version of CareCoord"):
        upgrade_to_head(engine)


def test_every_synced_table_has_uuid_text_ids() -> None:
    for model in synced_models():
        id_col = model.__table__.c.id  # type: ignore[attr-defined]
        assert id_col.primary_key and id_col.type.length == 36
