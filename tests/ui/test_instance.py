"""One running app per data folder: a second start is refused with a message; a lock left by
a dead process is taken over."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QLockFile

from app.core.paths import AppPaths
from app.ui.application import run_gui
from app.ui.instance import InstanceLock


def test_a_second_instance_is_refused_and_says_so(qtbot, data_dir, capsys) -> None:
    paths = AppPaths(data_dir)
    first = InstanceLock(paths)
    assert first.acquire()
    try:
        assert run_gui(paths) == 1
    finally:
        first.release()
    err = capsys.readouterr().err
    assert "already running" in err
    assert str(data_dir) in err
    assert not paths.db_path.exists()  # refused before the database was touched


def test_the_lock_is_free_again_after_release(data_dir) -> None:
    paths = AppPaths(data_dir)
    first = InstanceLock(paths)
    assert first.acquire()
    second = InstanceLock(paths)
    assert not second.acquire()
    assert second.holder_pid() is not None
    first.release()
    assert second.acquire()
    second.release()


def test_a_stale_lock_from_a_dead_process_is_taken_over(data_dir) -> None:
    paths = AppPaths(data_dir)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    paths.lock_file.write_text(f"{dead.stdout.strip()}\ncarecoord\n\n")
    lock = InstanceLock(paths)
    assert lock.acquire()
    lock.release()
    assert QLockFile(str(paths.lock_file)).tryLock(0)
