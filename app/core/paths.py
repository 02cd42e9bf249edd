"""Where CareCoord keeps its files: platform folders, overridable for development and tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app import APP_ID, APP_NAME

DATA_DIR_ENV = "CARECOORD_DATA_DIR"
PASSPHRASE_ENV = "CARECOORD_PASSPHRASE"  # unlocks the key file where there is no OS keyring


@dataclass(frozen=True)
class AppPaths:
    """All paths derive from one data folder, which must be on the local disk (never the shared
    sync folder)."""

    data_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "carecoord.db"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def rejected_dir(self) -> Path:
        return self.data_dir / "rejected"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "keys.cck"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "carecoord.lock"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    def ensure(self) -> None:
        for d in (self.data_dir, self.backups_dir, self.rejected_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """``--data-dir`` wins, then ``CARECOORD_DATA_DIR``, then the platform's user data folder."""
    if data_dir is not None:
        chosen = Path(data_dir)
    elif os.environ.get(DATA_DIR_ENV):
        chosen = Path(os.environ[DATA_DIR_ENV])
    else:
        chosen = default_data_dir()
    return AppPaths(chosen.expanduser().resolve())


__all__ = ["APP_ID", "DATA_DIR_ENV", "AppPaths", "default_data_dir", "resolve_paths"]
