"""A really full disk (a small tmpfs, where this machine lets the tests mount one): imports and
backup exports are refused with one sentence and leave nothing half-written.

The same refusals are checked everywhere else with SQLite's page limit
(tests/db/test_integrity.py) and an injected failure (tests/db/test_backup.py).
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.cli.main import run
from app.context import open_context
from app.core.clock import FixedClock
from app.core.errors import StorageError
from app.core.paths import AppPaths
from app.models import Patient
from app.services.import_patients import import_patients_file
from tests.db.factories import count, nhs_number

DISK_FULL = "The disk is full: free some space and try again; nothing was changed."


def _mount_tmpfs(folder: Path, size_kib: int) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.2 MB file system: room for a new data folder, not for much more."""
    folder = tmp_path / "small-disk"
    if not _mount_tmpfs(folder, 1200):
        pytest.skip("mounting a small tmpfs needs root on Linux")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def _fill(disk: Path, *, leave_kib: int) -> None:
    """Leave about ``leave_kib`` KiB free on ``disk``."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with contextlib.suppress(OSError), open(disk / f"filler-{free}", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_kib * 1024))  # ENOSPC at the end: fine


def _patients_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["nhs_number", "family_name", "given_name", "date_of_birth"])
        for i in range(rows):
            w.writerow([nhs_number(100 + i), f"Family{i:04d}", "Given", "1940-01-01"])
    return path


def test_an_import_that_fills_the_disk_writes_nothing(
    small_disk: Path, tmp_path: Path, clock: FixedClock
) -> None:
    paths = AppPaths(small_disk / "data")
    ctx = open_context(paths, clock=clock)
    _fill(small_disk, leave_kib=60)
    try:
        source = _patients_csv(tmp_path / "patients.csv", 200)
        with pytest.raises(StorageError) as err, ctx.db.write() as s:
            import_patients_file(s, source, skip_invalid=False, now=clock.now())
        assert str(err.value) == DISK_FULL
        assert count(ctx, Patient) == 0
    finally:
        ctx.close()
    _fill(small_disk, leave_kib=0)
    clock.advance(timedelta(days=2))  # a daily backup is due, and cannot be made
    again = open_context(paths, clock=clock)  # the data can still be read on a full disk
    try:
        assert count(again, Patient) == 0
        assert any(
            w.startswith("The daily backup was not made: The disk is full") for w in again.warnings
        )
    finally:
        again.close()


def test_a_backup_exported_to_a_full_stick_is_refused_and_leaves_no_file(
    small_disk: Path, data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(small_disk, leave_kib=300)
    out = small_disk / "copy.db"
    code = run(["--data-dir", str(data_dir), "db", "backup", "--out", str(out)], clock=clock)
    assert code == 1
    err = capsys.readouterr().err
    assert "The disk is full: the backup copy.db could not be written; nothing was changed." in err
    assert [p.name for p in small_disk.iterdir() if not p.name.startswith("filler")] == []
