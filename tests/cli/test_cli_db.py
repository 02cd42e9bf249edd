"""``carecoord db check | backup | backups | restore`` as a user runs them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.cli.main import build_parser, run
from app.context import open_context
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.db.backup import list_backups
from app.db.encryption import FileKind, file_kind
from app.models import Patient
from tests.db.factories import add_patient, count


class _Terminal(io.StringIO):
    """Typed answers on an interactive terminal."""

    def isatty(self) -> bool:
        return True


def _db(data_dir: Path, clock: FixedClock, *args: str) -> int:
    return run(["--data-dir", str(data_dir), "db", *args], clock=clock)


def test_db_check_reports_a_sound_database(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _db(data_dir, clock, "check") == 0
    assert "Database OK" in capsys.readouterr().out


def test_db_backup_writes_an_encrypted_file_and_refuses_to_overwrite(
    data_dir: Path, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "copy.db"
    assert _db(data_dir, clock, "backup", "--out", str(out)) == 0
    assert file_kind(out) is FileKind.ENCRYPTED
    assert "Backup written and checked" in capsys.readouterr().out

    assert _db(data_dir, clock, "backup", "--out", str(out)) == 1
    assert "already exists" in capsys.readouterr().err


def test_db_backups_lists_them_newest_first(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _db(data_dir, clock, "backups") == 0
    assert "No backups yet." in capsys.readouterr().out
    _db(data_dir, clock, "backup")
    capsys.readouterr()
    assert _db(data_dir, clock, "backups") == 0
    out = capsys.readouterr().out
    assert "Mon 23 Nov 2026 09:00" in out and "manual" in out


def _folder_with_backup(data_dir: Path, clock: FixedClock) -> tuple[AppPaths, Path]:
    """One patient in a backup, a second one added after it."""
    paths = AppPaths(data_dir)
    ctx = open_context(paths, clock=clock)
    add_patient(ctx, n=1)
    ctx.close()
    assert _db(data_dir, clock, "backup") == 0
    ctx = open_context(paths, clock=clock)
    add_patient(ctx, n=2)
    ctx.close()
    return paths, list_backups(paths.backups_dir)[0].path


def _patients(paths: AppPaths, clock: FixedClock) -> int:
    ctx = open_context(paths, clock=clock)
    try:
        return count(ctx, Patient)
    finally:
        ctx.close()


def test_db_restore_with_yes_replaces_the_database_and_keeps_the_old_one(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    paths, backup = _folder_with_backup(data_dir, clock)
    capsys.readouterr()
    assert _db(data_dir, clock, "restore", str(backup), "--yes") == 0
    out = capsys.readouterr().out
    assert f"Restored {backup.name}." in out
    assert "-replaced.db" in out
    assert _patients(paths, clock) == 1
    assert len(list(paths.backups_dir.glob("*-replaced.db"))) == 1


def test_db_restore_asks_first_and_no_means_nothing_changes(
    data_dir: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths, backup = _folder_with_backup(data_dir, clock)
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert _db(data_dir, clock, "restore", str(backup)) == 1
    out = capsys.readouterr().out
    assert "Replace the current database" in out and "Nothing was restored." in out
    assert _patients(paths, clock) == 2

    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert _db(data_dir, clock, "restore", str(backup)) == 0
    assert _patients(paths, clock) == 1


def test_db_restore_without_a_terminal_needs_yes(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    paths, backup = _folder_with_backup(data_dir, clock)
    capsys.readouterr()
    assert _db(data_dir, clock, "restore", str(backup)) == 1
    assert "add --yes" in capsys.readouterr().err
    assert _patients(paths, clock) == 2


def test_db_restore_of_a_missing_file_is_refused(
    data_dir: Path, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _db(data_dir, clock, "restore", str(tmp_path / "nope.db"), "--yes") == 1
    assert "does not exist" in capsys.readouterr().err


def test_db_restore_works_on_a_database_too_damaged_to_open(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    paths, backup = _folder_with_backup(data_dir, clock)
    data = bytearray(paths.db_path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 32] = bytes(32)
    paths.db_path.write_bytes(bytes(data))
    assert _db(data_dir, clock, "check") == 1
    assert backup.name in capsys.readouterr().err  # the refusal names the backup to restore

    # ``db restore`` asks to be given the folder, not an opened database
    args = build_parser().parse_args(["db", "restore", str(backup), "--yes"])
    assert args.needs_context is False
    assert args.handler(args, paths) == 0
    assert _patients(paths, clock) == 1
