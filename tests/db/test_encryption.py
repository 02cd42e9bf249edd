"""Encryption at rest: the database and its backups are unreadable without the key held in the
secret store; a plaintext database from an older CareCoord is converted in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy import select

from app.context import open_context
from app.core import secrets
from app.core.clock import FixedClock
from app.core.errors import KeyError_
from app.core.paths import AppPaths
from app.core.secrets import MemorySecretStore
from app.db.encryption import (
    DB_KEY_SECRET,
    SQLITE_HEADER,
    DatabaseKey,
    FileKind,
    file_kind,
)
from app.db.engine import make_engine
from app.db.migrate import upgrade_to_head
from app.models import Patient
from tests.db.factories import add_patient, count, nhs_number


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_new_data_folder_is_encrypted_and_holds_no_readable_patient_data(
    data_dir: Path, clock: FixedClock
) -> None:
    ctx = open_context(AppPaths(data_dir), clock=clock)
    add_patient(ctx, n=7, family="Wetherspoonley")
    ctx.close()

    db_path = AppPaths(data_dir).db_path
    assert file_kind(db_path) is FileKind.ENCRYPTED
    blob = _all_bytes(data_dir)
    assert nhs_number(7).encode() not in blob
    assert b"Wetherspoonley" not in blob
    with pytest.raises(sqlite3.DatabaseError):  # what a finder of the laptop gets
        sqlite3.connect(db_path).execute("SELECT * FROM patients").fetchall()


def test_the_same_key_reopens_the_database(data_dir: Path, clock: FixedClock) -> None:
    ctx = open_context(AppPaths(data_dir), clock=clock)
    pid = add_patient(ctx)
    device = ctx.device_id
    ctx.close()
    again = open_context(AppPaths(data_dir), clock=clock)
    try:
        assert again.device_id == device
        with again.db.read() as s:
            assert s.get(Patient, pid) is not None
    finally:
        again.close()


def test_a_wrong_key_is_refused_in_one_sentence_and_the_file_is_untouched(
    data_dir: Path, clock: FixedClock
) -> None:
    store = MemorySecretStore()
    open_context(AppPaths(data_dir), clock=clock, secrets=store).close()
    db_path = AppPaths(data_dir).db_path
    before = db_path.read_bytes()
    store.set(DB_KEY_SECRET, DatabaseKey.generate().raw)

    with pytest.raises(KeyError_, match=r"does not open carecoord\.db") as err:
        open_context(AppPaths(data_dir), clock=clock, secrets=store)
    assert str(err.value).count(".") == 2  # "...carecoord.db; the file was left untouched."
    assert db_path.read_bytes() == before


def test_a_missing_key_for_an_encrypted_database_is_refused(
    data_dir: Path, clock: FixedClock
) -> None:
    open_context(AppPaths(data_dir), clock=clock, secrets=MemorySecretStore()).close()
    empty = MemorySecretStore()
    with pytest.raises(KeyError_, match="encrypted but its key is not"):
        open_context(AppPaths(data_dir), clock=clock, secrets=empty)
    assert empty.get(DB_KEY_SECRET) is None  # no new key was invented for the old file


def _plaintext_data_folder(data_dir: Path, clock: FixedClock) -> AppPaths:
    """A data folder as an older CareCoord left it: plaintext database and backup."""
    paths = AppPaths(data_dir)
    paths.ensure()
    engine = make_engine(paths.db_path)
    upgrade_to_head(engine)
    from app.context import build_database
    from app.sync.changelog import ensure_local_state

    db = build_database(engine, clock)
    with db.write() as s:
        ensure_local_state(s, clock)
        s.add(
            Patient(
                nhs_number=nhs_number(11),
                family_name="Plaintextworth",
                given_name="Ida",
                date_of_birth=clock.now().date().replace(year=1940),
                created_at=clock.now(),
            )
        )
    raw = engine.raw_connection()
    try:
        old_backup = sqlite3.connect(paths.backups_dir / "carecoord-20260101T000000000000Z-x.db")
        raw.driver_connection.backup(old_backup)  # type: ignore[union-attr]
        old_backup.close()
    finally:
        raw.close()
    engine.dispose()
    return paths


def test_a_plaintext_database_is_encrypted_in_place_after_a_backup(
    data_dir: Path, clock: FixedClock
) -> None:
    paths = _plaintext_data_folder(data_dir, clock)
    assert paths.db_path.read_bytes().startswith(SQLITE_HEADER)

    ctx = open_context(paths, clock=clock)
    try:
        with ctx.db.read() as s:
            names = list(s.scalars(select(Patient.family_name)))
        assert names == ["Plaintextworth"]
    finally:
        ctx.close()

    assert file_kind(paths.db_path) is FileKind.ENCRYPTED
    backups = sorted(p.name for p in paths.backups_dir.glob("*.db"))
    assert any("pre-encryption" in name for name in backups)
    for p in paths.backups_dir.glob("*.db"):  # the old plaintext backup was converted too
        assert file_kind(p) is FileKind.ENCRYPTED
    blob = _all_bytes(data_dir)
    assert b"Plaintextworth" not in blob
    assert nhs_number(11).encode() not in blob


def test_without_a_keyring_the_key_lives_in_a_passphrase_protected_key_file(
    data_dir: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secrets, "ARGON2_MEMORY_COST_KIB", 8)
    monkeypatch.setattr(secrets, "ARGON2_ITERATIONS", 1)
    monkeypatch.setattr(secrets, "ARGON2_LANES", 1)
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    paths = AppPaths(data_dir)

    ctx = open_context(paths, clock=clock, passphrase_provider=lambda: "correct horse")
    pid = add_patient(ctx)
    ctx.close()
    assert paths.key_file.exists()

    with pytest.raises(KeyError_, match="passphrase does not unlock"):
        open_context(paths, clock=clock, passphrase_provider=lambda: "wrong horse")

    monkeypatch.setenv("CARECOORD_PASSPHRASE", "correct horse")
    again = open_context(paths, clock=clock)  # the default provider reads the environment
    try:
        assert count(again, Patient) == 1
        with again.db.read() as s:
            assert s.get(Patient, pid) is not None
    finally:
        again.close()


def test_without_a_keyring_or_passphrase_a_command_says_how_to_give_one(
    data_dir: Path, clock: FixedClock
) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    with pytest.raises(KeyError_, match="set CARECOORD_PASSPHRASE"):
        open_context(AppPaths(data_dir), clock=clock)
