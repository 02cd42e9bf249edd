"""Background maintenance in the desktop app: the full check and daily backup that start-up
left for a big database run once the window has its data, when due and only then; progress in
the status bar; damage gives one clear message; closing stops it cleanly."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from app.context import FULL_CHECK, MaintenanceResult, open_context
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.db import encryption, integrity
from app.db.integrity import MARKER_DIR_NAME, claim_open_marker, last_full_check
from app.ui import application
from app.ui.application import Startup

WAIT_MS = 20_000


@pytest.fixture
def paths(data_dir: Path, clock: FixedClock) -> AppPaths:
    """A data folder made and closed cleanly (so nothing is due yet)."""
    folder = AppPaths(data_dir)
    open_context(folder, clock=clock).close()
    return folder


@pytest.fixture
def big_database(monkeypatch: pytest.MonkeyPatch, clock: FixedClock) -> None:
    """The window opens the data as if the file were too big to check before it shows."""

    def opener(folder: AppPaths, **kwargs: Any) -> Any:
        return open_context(folder, clock=clock, check_budget=0, **kwargs)

    monkeypatch.setattr(application, "open_context", opener)


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = integrity.full_check

    def spy(conn: object) -> list[str]:
        calls.append(1)
        return real(conn)

    monkeypatch.setattr(integrity, "full_check", spy)
    return calls


@pytest.fixture
def startup(qtbot, paths: AppPaths, qt_settings: QSettings) -> Iterator[Startup]:
    started = Startup(paths, settings=qt_settings)
    qtbot.addWidget(started.window)
    yield started
    started.window.close()
    started.finish()


def _crashed_before(paths: AppPaths) -> Path:
    """A process that had the folder open died: its marker stays, unlocked."""
    dead = claim_open_marker(paths.data_dir)
    assert dead._fh is not None
    dead._fh.close()
    return dead.path


def _markers(paths: AppPaths) -> list[Path]:
    return sorted((paths.data_dir / MARKER_DIR_NAME).iterdir())


def _open_window(qtbot, startup: Startup) -> None:
    with qtbot.waitSignal(startup.ready, timeout=WAIT_MS):
        startup.window.show()
    qtbot.waitUntil(lambda: startup.window.maintenance is not None, timeout=WAIT_MS)


@pytest.mark.usefixtures("big_database")
def test_a_due_full_check_runs_after_the_window_is_ready_and_clears_the_crash(
    qtbot,
    startup: Startup,
    paths: AppPaths,
    clock: FixedClock,
    full_checks: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale = _crashed_before(paths)
    gate = threading.Event()
    real = integrity.full_check

    def held(conn: object) -> list[str]:  # the check waits until the test has looked
        assert gate.wait(WAIT_MS / 1000)
        return real(conn)

    monkeypatch.setattr(integrity, "full_check", held)
    _open_window(qtbot, startup)
    window = startup.window
    maintenance = window.maintenance
    assert maintenance is not None and maintenance.started and maintenance.running
    assert window.is_ready and window.stack.currentWidget() is window.screens["today"]
    assert maintenance.label.isVisible()
    assert maintenance.label.text() == "Checking your data…"
    assert full_checks == []  # at start-up, none: it was left for later
    window.grab().save(str(paths.data_dir.parent / "checking.png"))
    with qtbot.waitSignal(maintenance.finished, timeout=WAIT_MS) as done:
        gate.set()
    assert full_checks == [1]

    result = done.args[0]
    assert isinstance(result, MaintenanceResult) and not result.cancelled
    assert result.checked_at == clock.now()
    assert maintenance.label.text() == "Data checked 23/11/2026 09:00"
    assert "Full integrity check passed." in maintenance.label.toolTip()
    assert last_full_check(paths.data_dir) == clock.now()
    assert startup.ctx is not None and startup.ctx.maintenance_due == []
    assert not stale.exists()  # the crash has been dealt with
    label = maintenance.label  # laid out in full, not cut short by its neighbours
    qtbot.waitUntil(lambda: label.width() >= label.sizeHint().width(), timeout=WAIT_MS)
    window.grab().save(str(paths.data_dir.parent / "checked.png"))
    assert maintenance.message_box is None


@pytest.mark.usefixtures("big_database")
def test_nothing_runs_when_nothing_is_due(
    qtbot, startup: Startup, paths: AppPaths, full_checks: list[int]
) -> None:
    _open_window(qtbot, startup)
    maintenance = startup.window.maintenance
    assert maintenance is not None
    assert not maintenance.started and not maintenance.running
    assert not maintenance.label.isVisible()
    startup.window.runner.wait()
    assert full_checks == []


@pytest.mark.usefixtures("big_database")
def test_damage_found_in_the_background_gives_one_clear_message(
    qtbot, startup: Startup, paths: AppPaths, clock: FixedClock
) -> None:
    ctx = open_context(paths, clock=clock)
    key = ctx.db_key
    ctx.close()
    conn = encryption.connect(paths.db_path, key)  # a row pointing at no patient
    conn.execute(
        "INSERT INTO tasks (id, kind, title, patient_id, due_at, status, created_at) "
        "VALUES ('t1', 'other', 'x', 'no-such-patient', '2026-11-23 09:00:00', 'open', "
        "'2026-11-23 09:00:00')"
    )
    conn.commit()
    conn.close()
    clock.advance(timedelta(days=8))  # the weekly full check is due
    damage: list[str] = []

    _open_window(qtbot, startup)
    maintenance = startup.window.maintenance
    assert maintenance is not None
    maintenance.damage_found.connect(damage.append)
    qtbot.waitUntil(lambda: not maintenance.running, timeout=WAIT_MS)

    assert len(damage) == 1
    box = maintenance.message_box
    assert box is not None and box.isVisible()
    assert box.windowTitle() == "CareCoord found a problem in your data"
    assert "carecoord.db is damaged" in box.text()
    assert "point at missing records" in box.text()
    assert "Settings, Backups, select it, Restore" in box.informativeText()
    assert maintenance.label.text() == "Data check found damage"
    assert startup.ctx is not None and FULL_CHECK in startup.ctx.maintenance_due

    maintenance.start()  # asking again neither re-runs it nor repeats the message
    assert len(damage) == 1 and maintenance.message_box is box
    box.close()


@pytest.mark.usefixtures("big_database")
def test_closing_during_the_check_stops_it_and_concludes_nothing(
    qtbot, startup: Startup, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = _crashed_before(paths)
    monkeypatch.setattr(integrity, "PROGRESS_STEPS", 1)
    running = threading.Event()
    cancelled: list[Callable[[], bool]] = []
    real_run_check = integrity.run_check

    def watched(conn: Any, **kwargs: Any) -> list[str] | None:
        if kwargs.get("cancel") is not None:  # the background check
            cancelled.append(kwargs["cancel"])
            running.set()
            while not kwargs["cancel"]():  # reading a huge file...
                threading.Event().wait(0.01)
        return real_run_check(conn, **kwargs)

    monkeypatch.setattr("app.context.run_check", watched)
    _open_window(qtbot, startup)
    maintenance = startup.window.maintenance
    assert maintenance is not None
    qtbot.waitUntil(running.is_set, timeout=WAIT_MS)
    results: list[object] = []
    maintenance.finished.connect(results.append)

    startup.window.close()  # asks it to stop, and waits for the pool
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    assert isinstance(results[0], MaintenanceResult) and results[0].cancelled
    ctx = startup.ctx
    assert ctx is not None and ctx.maintenance_due == [FULL_CHECK]
    startup.finish()
    assert stale.exists()  # not concluded: the next start checks again
    assert _markers(paths) == [stale]
    assert not list(paths.backups_dir.glob("*.part"))


@pytest.mark.usefixtures("big_database")
def test_restoring_a_backup_stops_a_running_check_before_the_file_is_replaced(
    qtbot, startup: Startup, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crashed_before(paths)  # a full check is due
    monkeypatch.setattr(integrity, "PROGRESS_STEPS", 1)
    running = threading.Event()
    stopped = threading.Event()
    runs: list[int] = []
    real_run_check = integrity.run_check

    def watched(conn: Any, **kwargs: Any) -> list[str] | None:
        if kwargs.get("cancel") is not None:  # the background check
            runs.append(1)
            running.set()
            while not kwargs["cancel"]():  # reading a huge file...
                threading.Event().wait(0.01)
            stopped.set()
        return real_run_check(conn, **kwargs)

    monkeypatch.setattr("app.context.run_check", watched)
    _open_window(qtbot, startup)
    qtbot.waitUntil(running.is_set, timeout=WAIT_MS)
    # screens go on refreshing meanwhile: the running check does not make the runner busy
    qtbot.waitUntil(lambda: not startup.window.runner.busy, timeout=WAIT_MS)
    assert running.is_set() and not stopped.is_set()
    seen: list[bool] = []

    def restore(ctx: Any, backup: Path) -> str:
        seen.append(stopped.is_set())  # the check had let go of the file by now
        return ""

    monkeypatch.setattr("app.ui.screens.settings.restore_in_place", restore)
    settings_screen = startup.window.show_screen("settings")
    settings_screen.restore(paths.backups_dir / "any-backup.db")
    assert seen == [True]
    # the check the restore stopped is still due: it starts again once the file is back
    qtbot.waitUntil(lambda: len(runs) == 2, timeout=WAIT_MS)


def test_a_daily_backup_that_failed_is_not_shown_as_made(
    qtbot, startup: Startup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_window(qtbot, startup)
    window = startup.window
    maintenance = window.maintenance
    assert maintenance is not None
    problem = "The daily backup could not be written (disk full)."
    failed = MaintenanceResult(backup=None, warnings=(problem,))
    maintenance._succeeded(failed)  # what the worker reports for a failed daily backup
    assert maintenance.label.text() == "Daily backup not made"
    assert problem in maintenance.label.toolTip()
    assert window.statusBar().currentMessage() == problem
