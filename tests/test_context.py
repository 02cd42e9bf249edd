"""Opening a data folder: an encrypted, checked, migrated database and a clean close."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.context import AppContext, open_context, open_memory_context
from app.core.clock import FixedClock
from app.core.errors import StorageError
from app.core.paths import AppPaths
from app.db import encryption
from app.db.encryption import DB_KEY_SECRET, FileKind, file_kind
from app.db.integrity import MARKER_DIR_NAME
from app.models import Patient
from tests.db.factories import add_patient, count


def test_open_context_creates_an_encrypted_store_and_keeps_its_key_in_the_secret_store(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    try:
        assert not ctx.in_memory
        assert ctx.device_id
        assert ctx.warnings == []
        assert ctx.secrets is not None and ctx.db_key is not None
        assert ctx.secrets.get(DB_KEY_SECRET) == ctx.db_key.raw
        assert "raw" not in repr(ctx.db_key) and ctx.db_key.raw.hex() not in repr(ctx)
        add_patient(ctx)
        assert count(ctx, Patient) == 1
    finally:
        ctx.close()
        ctx.close()  # closing twice is harmless
    assert file_kind(paths.db_path) is FileKind.ENCRYPTED
    for folder in (paths.backups_dir, paths.rejected_dir, paths.log_dir):
        assert folder.is_dir()


def test_the_memory_context_stays_plaintext_and_touches_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = open_memory_context(clock=clock)
    try:
        assert ctx.in_memory and ctx.db_key is None
        add_patient(ctx)
        assert count(ctx, Patient) == 1
    finally:
        ctx.close()
    assert list(tmp_path.iterdir()) == []


def test_a_database_from_a_newer_version_is_refused_and_left_closed(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    key = ctx.db_key
    ctx.close()
    conn = encryption.connect(paths.db_path, key)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()

    with pytest.raises(StorageError, match="newer version of CareCoord"):
        open_context(paths, clock=clock)
    assert list((data_dir / MARKER_DIR_NAME).iterdir()) == []  # a refusal is a clean close


def test_two_contexts_on_one_folder_share_the_data(file_ctx: AppContext, clock: FixedClock) -> None:
    other = open_context(file_ctx.paths, clock=clock)
    try:
        pid = add_patient(other)
        with file_ctx.db.read() as s:
            assert s.get(Patient, pid) is not None
    finally:
        other.close()
