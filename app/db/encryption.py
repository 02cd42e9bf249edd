"""Encryption at rest with SQLCipher, keyed by a random 256-bit key from the secret store.

The key is applied as a raw key (``PRAGMA key = "x'<64 hex>'"``), so no passphrase KDF runs
per connection. It lives in the same :class:`~app.core.secrets.SecretStore` as the team key
(the OS keyring, or the passphrase-protected key file). Backups use the same key.

A plaintext database from an earlier CareCoord is converted in place the first time it is
opened: an encrypted backup is written first, then ``sqlcipher_export`` fills a new encrypted
file, which is verified (integrity check, same row count in every table) and swapped in with
an atomic rename. Plaintext backups in the backups folder are converted the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import sqlcipher3

from app.core.errors import KeyError_, StorageError
from app.core.secrets import SecretStore, fsync_directory

log = logging.getLogger(__name__)

DB_KEY_SECRET = "db.key"
KEY_BYTES = 32
SQLITE_HEADER = b"SQLite format 3\x00"

dbapi: Any = sqlcipher3.dbapi2


@dataclass(frozen=True)
class DatabaseKey:
    """The raw 256-bit SQLCipher key of one data folder (never shown, never logged)."""

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != KEY_BYTES:
            raise ValueError("a database key is 32 bytes")

    @classmethod
    def generate(cls) -> DatabaseKey:
        return cls(os.urandom(KEY_BYTES))

    def pragma(self, schema: str = "") -> str:
        prefix = f"{schema}." if schema else ""
        return f"PRAGMA {prefix}key = \"x'{self.raw.hex()}'\""

    def attach_clause(self) -> str:
        return f"KEY \"x'{self.raw.hex()}'\""


class FileKind(Enum):
    ABSENT = "absent"  # no file, or an empty one: SQLite starts a new database
    PLAINTEXT = "plaintext"
    ENCRYPTED = "encrypted"  # anything else: an encrypted file (or not a database at all)


def file_kind(path: Path) -> FileKind:
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return FileKind.ABSENT
    except OSError as exc:
        raise StorageError(f"The database {path.name} cannot be read ({exc.strerror}).") from exc
    if not head:
        return FileKind.ABSENT
    return FileKind.PLAINTEXT if head == SQLITE_HEADER else FileKind.ENCRYPTED


def connect(path: Path, key: DatabaseKey | None) -> Any:
    """A DB-API connection to ``path``: keyed with SQLCipher, or plaintext when ``key`` is None.

    Temporary tables and indices stay in memory so nothing decrypted reaches a temp file.
    The key is not checked here (see :func:`verify_key`); a wrong key fails on first read.
    """
    conn = dbapi.connect(str(path), check_same_thread=False)
    try:
        if key is not None:
            conn.execute("PRAGMA cipher_log_level = NONE")  # wrong keys are reported by us
            conn.execute(key.pragma())
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def connector(path: Path, key: DatabaseKey | None) -> Callable[[], Any]:
    """The engine's ``creator``: every pooled connection is keyed before it is used."""

    def create() -> Any:
        return connect(path, key)

    return create


def verify_key(path: Path, key: DatabaseKey | None) -> None:
    """Raise KeyError_ when ``key`` does not open ``path`` (StorageError when it is locked)."""
    conn = connect(path, key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StorageError(LOCKED_MESSAGE) from exc
        if key is None:
            raise KeyError_(
                f"The database {path.name} is encrypted and no key was given to open it."
            ) from exc
        raise KeyError_(
            f"The database key stored on this computer does not open {path.name}; "
            "the file was left untouched."
        ) from exc
    finally:
        conn.close()


LOCKED_MESSAGE = (
    "The database is in use by another CareCoord window or command; close it and try again."
)
DISK_FULL_MESSAGE = "The disk is full: free some space and try again; nothing was changed."


def is_disk_full(exc: BaseException) -> bool:
    return "database or disk is full" in str(exc) or getattr(exc, "errno", None) == 28


def is_locked(exc: BaseException) -> bool:
    text = str(exc)
    return (
        "database is locked" in text
        or "database table is locked" in text
        or ("database schema is locked" in text)
    )


# --- the key in the secret store ------------------------------------------------------------


def load_key(store: SecretStore) -> DatabaseKey | None:
    raw = store.get(DB_KEY_SECRET)
    if raw is None:
        return None
    try:
        return DatabaseKey(raw)
    except ValueError as exc:
        raise KeyError_("The database key stored on this computer is damaged.") from exc


def load_or_create_key(store: SecretStore) -> DatabaseKey:
    key = load_key(store)
    if key is None:
        key = DatabaseKey.generate()
        store.set(DB_KEY_SECRET, key.raw)
        log.info("new database key created")
    return key


def key_for_data_folder(db_path: Path, store: SecretStore) -> DatabaseKey:
    """The key that opens ``db_path``, created for a new database; KeyError_ when it is lost.

    A plaintext database is not converted here (see :func:`encrypt_in_place`).
    """
    kind = file_kind(db_path)
    if kind is FileKind.ENCRYPTED:
        key = load_key(store)
        if key is None:
            raise KeyError_(
                f"The database {db_path.name} is encrypted but its key is not in this "
                "computer's keyring or key file; restore the key to open it."
            )
        verify_key(db_path, key)
        return key
    return load_or_create_key(store)


# --- copying into encrypted files -----------------------------------------------------------


def _table_counts(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0] for n in names}


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def sidecars(path: Path) -> tuple[Path, Path]:
    """The WAL and shared-memory files SQLite keeps next to ``path``."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def export_encrypted(
    source: Path, source_key: DatabaseKey | None, target: Path, key: DatabaseKey
) -> None:
    """Write an encrypted, verified copy of ``source`` to ``target`` with ``sqlcipher_export``.

    ``target`` must not exist. On any failure it is removed and the error re-raised.
    """
    remove_quietly(target, *sidecars(target))
    src = connect(source, source_key)
    try:
        before = _table_counts(src)
        src.execute(f"ATTACH DATABASE ? AS carecoord_export {key.attach_clause()}", (str(target),))
        try:
            src.execute("SELECT sqlcipher_export('carecoord_export')")
            after = _table_counts(src, "carecoord_export")
        finally:
            src.execute("DETACH DATABASE carecoord_export")
        check = connect(target, key)
        try:
            result = [r[0] for r in check.execute("PRAGMA integrity_check")]
        finally:
            check.close()
        if before != after or result != ["ok"]:
            raise StorageError(
                f"The encrypted copy of {source.name} did not match the original; "
                "the original was left untouched."
            )
        fsync_file(target)
    except BaseException:
        remove_quietly(target, *sidecars(target))
        raise
    finally:
        src.close()


def make_self_contained(path: Path, key: DatabaseKey | None) -> None:
    """Fold the WAL into the main file and leave rollback-journal mode, so the main file
    alone holds the whole database (needed before it is copied or swapped)."""
    conn = connect(path, key)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def encrypt_file_in_place(path: Path, key: DatabaseKey) -> None:
    """Replace the plaintext database ``path`` by an encrypted copy (verified, atomic)."""
    make_self_contained(path, None)
    tmp = path.with_name(path.name + ".encrypting")
    export_encrypted(path, None, tmp, key)
    wal, shm = sidecars(path)
    remove_quietly(wal, shm)
    os.replace(tmp, path)
    fsync_directory(path.parent)


def encrypt_in_place(
    db_path: Path, key: DatabaseKey, *, backups_dir: Path, backup_name: str
) -> Path:
    """Convert a plaintext live database: encrypted backup first, then the swap.

    Plaintext backups found in ``backups_dir`` are converted too, so no readable copy of the
    data stays behind in CareCoord's folders. Returns the backup written.
    """
    backups_dir.mkdir(parents=True, exist_ok=True)
    make_self_contained(db_path, None)
    backup = backups_dir / backup_name
    export_encrypted(db_path, None, backup, key)
    fsync_directory(backups_dir)
    encrypt_file_in_place(db_path, key)
    log.info("plaintext database converted to an encrypted one; backup %s", backup.name)
    for old in sorted(backups_dir.glob("*.db")):
        if file_kind(old) is FileKind.PLAINTEXT:
            encrypt_file_in_place(old, key)
            log.info("plaintext backup %s encrypted", old.name)
    return backup
