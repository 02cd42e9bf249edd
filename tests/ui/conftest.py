"""Desktop fixtures: a main window over the in-memory context, window settings in a temporary
INI file (never the user's), and Qt warnings treated as failures."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import QSettings

from app.context import AppContext, build_database, open_memory_context
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.core.secrets import MemorySecretStore
from app.db.engine import make_engine
from app.ui.main_window import MainWindow
from app.ui.shell import Shell
from app.ui.workers import Runner
from tests.ui.factories import Team, seed_team

WAIT_MS = 5000


@pytest.fixture(autouse=True)
def gc_on_gui_thread() -> Iterator[None]:
    """As in the app (app.ui.collector): no cyclic collection on worker threads."""
    was = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if was:
        gc.enable()


@pytest.fixture
def qt_settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="session")
def templates() -> Iterator[dict[str, tuple[AppContext, Team | None]]]:
    """Migrated databases made once per run: empty, and with the seeded team."""
    clock = FixedClock()
    empty = open_memory_context(clock=clock)
    seeded = open_memory_context(clock=clock)
    with seeded.db.write() as s:
        team = seed_team(s, clock.now())
    yield {"empty": (empty, None), "team": (seeded, team)}
    empty.close()
    seeded.close()


def _clone(template: AppContext, clock: FixedClock) -> AppContext:
    """A private copy of a template database (much faster than migrating per test)."""
    engine = make_engine(None)
    with template.db.engine.connect() as src, engine.connect() as dst:
        source = cast(sqlite3.Connection, src.connection.driver_connection)
        source.backup(cast(sqlite3.Connection, dst.connection.driver_connection))
    return AppContext(
        paths=AppPaths(Path(".")),
        clock=clock,
        db=build_database(engine, clock),
        device_id=template.device_id,
        secrets=MemorySecretStore(),
        in_memory=True,
    )


@pytest.fixture
def ctx(request, templates, clock: FixedClock) -> Iterator[AppContext]:
    """Overrides the root ``ctx``: a clone of the seeded template when the test uses ``team``
    (or a fixture that does), otherwise of the empty one."""
    kind = "team" if "team" in request.fixturenames else "empty"
    context = _clone(templates[kind][0], clock)
    yield context
    context.close()


@pytest.fixture
def team(ctx: AppContext, templates) -> Team:
    team = templates["team"][1]
    assert team is not None
    return team


@pytest.fixture
def shell(qtbot, ctx: AppContext) -> Iterator[Shell]:
    runner = Runner(ctx.db)
    shell = Shell(ctx, runner)
    yield shell
    runner.wait()


def _open(qtbot, ctx: AppContext, qt_settings: QSettings) -> MainWindow:
    win = MainWindow(ctx, settings=qt_settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.status is not None, timeout=WAIT_MS)
    win.runner.wait()
    return win


@pytest.fixture
def empty_window(qtbot, ctx: AppContext, qt_settings: QSettings) -> Iterator[MainWindow]:
    """A window on a folder with no team and no patients."""
    win = _open(qtbot, ctx, qt_settings)
    yield win
    win.close()
    win.runner.wait()


@pytest.fixture
def window(qtbot, ctx: AppContext, team: Team, qt_settings: QSettings) -> Iterator[MainWindow]:
    """A window on the seeded team, signed in as Amira."""
    win = _open(qtbot, ctx, qt_settings)
    yield win
    win.close()
    win.runner.wait()
