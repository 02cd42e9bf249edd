"""Start-up: the main window is on screen, in its loading state, before the data is opened;
the data is opened off the GUI thread after the first paint; navigation and the menus wait
for it; a folder that cannot be opened gives one clear message and exit status 1."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog

from app.context import open_context
from app.core.clock import FixedClock
from app.core.errors import KeyError_, StorageError
from app.core.paths import AppPaths
from app.core.secrets import FileSecretStore
from app.db import encryption
from app.db.integrity import MARKER_DIR_NAME
from app.ui import application
from app.ui.application import PassphraseAsker, Startup, run_gui
from app.ui.main_window import MainWindow

WAIT_MS = 20_000
HEAVY = ("sqlalchemy", "alembic", "reportlab", "cryptography", "argon2", "keyring")
HEAVY_APP = ("app.context", "app.db", "app.services", "app.sync", "app.reports", "app.cli")


def _loaded_after(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; the heavy and data modules it left imported."""
    probe = (
        code
        + "\nimport json, sys\n"
        + f"heavy = {HEAVY!r}; heavy_app = {HEAVY_APP!r}\n"
        + "mods = sorted(sys.modules)\n"
        + "print(json.dumps({'heavy': [m for m in mods if m.split('.')[0] in heavy],"
        + " 'app': [m for m in mods if m.startswith(heavy_app)"
        + " or m.startswith('app.ui.screens') or m == 'importlib.metadata']}))\n"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_start_up_modules_import_no_database_pdf_or_crypto_code() -> None:
    loaded = _loaded_after("import app.main, app.ui.application, app.ui.main_window")
    assert loaded == {"heavy": [], "app": []}


def test_the_first_paint_needs_no_database_pdf_or_crypto_code(tmp_path: Path) -> None:
    """The window in its loading state, shown and painted, has imported none of them."""
    loaded = _loaded_after(
        "from pathlib import Path\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.core.paths import AppPaths\n"
        "from app.ui.main_window import MainWindow\n"
        "from app.ui.style import STYLE_SHEET\n"
        "app = QApplication([])\n"
        "app.setStyleSheet(STYLE_SHEET)\n"
        f"window = MainWindow(paths=AppPaths(Path({str(tmp_path)!r})))\n"
        "window.show()\n"
        "while not window.loading.painted:\n"
        "    app.processEvents()\n"
        "assert not window.is_ready\n"
    )
    assert loaded == {"heavy": [], "app": []}


def _markers(paths: AppPaths) -> list[Path]:
    """Open markers left in the folder (none after a clean close or a refusal)."""
    run = paths.data_dir / MARKER_DIR_NAME
    return sorted(run.iterdir()) if run.is_dir() else []


@pytest.fixture
def paths(data_dir: Path) -> AppPaths:
    return AppPaths(data_dir)


@pytest.fixture
def startup(qtbot, paths: AppPaths, qt_settings: QSettings):
    started = Startup(paths, settings=qt_settings)
    qtbot.addWidget(started.window)
    yield started
    started.window.close()
    started.finish()


class HeldOpen:
    """Stands in for app.context.open_context: notes what the window looked like when the
    data began to open, then waits until the test lets it go on."""

    def __init__(self, window: MainWindow, error: BaseException | None = None) -> None:
        self.window = window
        self.error = error
        self.release = threading.Event()
        self.started = threading.Event()
        self.seen: dict[str, Any] = {}

    def __call__(self, paths: AppPaths, **kwargs: Any) -> Any:
        loading = self.window.loading
        self.seen = {
            "gui_thread": threading.current_thread() is threading.main_thread(),
            "painted": loading is not None and loading.painted,
            "ready": self.window.is_ready,
        }
        self.started.set()
        assert self.release.wait(WAIT_MS / 1000)
        if self.error is not None:
            raise self.error
        return open_context(paths, **kwargs)


def test_the_window_shows_its_loading_state_and_opens_the_data_after_painting(
    qtbot, startup: Startup, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = startup.window
    held = HeldOpen(window)
    monkeypatch.setattr(application, "open_context", held)
    window.show()
    qtbot.waitUntil(held.started.is_set, timeout=WAIT_MS)

    assert held.seen == {"gui_thread": False, "painted": True, "ready": False}
    assert window.loading is not None and window.loading.isVisible()
    assert window.stack.currentWidget() is window.loading
    assert window.loading.title.text() == "Opening your team's data…"
    assert window.screens == {}
    assert not window.nav.isEnabled()
    for action in (window.new_patient_action, window.find_action, window.log_call_action):
        assert not action.isEnabled()
    enabled = {a.text() for a in window.actions() if a.isEnabled()}
    assert enabled == {"&Quit", "&About CareCoord"}
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [
        "Today",
        "Caseload",
        "MDT",
        "Reports",
        "Sync",
        "Settings",
    ]

    with qtbot.waitSignal(startup.ready, timeout=WAIT_MS):
        held.release.set()
    assert window.is_ready and startup.ctx is not None
    assert window.loading is None
    assert set(window.screens) == {"today"}
    assert window.stack.currentWidget() is window.screens["today"]
    assert window.nav.isEnabled() and window.new_patient_action.isEnabled()
    qtbot.waitUntil(lambda: window.status is not None, timeout=WAIT_MS)


def test_a_folder_that_cannot_be_opened_says_why_once_and_keeps_navigation_off(
    qtbot, startup: Startup, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = startup.window
    refusal = StorageError("The database carecoord.db was written by a newer version.")
    held = HeldOpen(window, error=refusal)
    monkeypatch.setattr(application, "open_context", held)
    failures: list[tuple[str, str]] = []
    startup.failed.connect(lambda title, message: failures.append((title, message)))
    window.show()
    qtbot.waitUntil(held.started.is_set, timeout=WAIT_MS)
    held.release.set()
    qtbot.waitUntil(lambda: bool(failures), timeout=WAIT_MS)

    assert failures == [("CareCoord cannot open its data", str(refusal))]
    assert window.loading is not None and window.loading.failed
    assert window.loading.detail.text() == str(refusal)
    assert not window.is_ready and not window.nav.isEnabled()
    assert not window.new_patient_action.isEnabled()
    assert startup.ctx is None


def test_an_unexpected_error_while_opening_is_raised_after_the_loop(
    qtbot, paths: AppPaths, qt_settings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_paths: AppPaths, **_kw: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(application, "open_context", broken)
    started = Startup(paths, settings=qt_settings)
    qtbot.addWidget(started.window)
    messages: list[str] = []
    started.failed.connect(lambda _t, message: messages.append(message))
    started.window.show()
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)
    assert "unexpected error" in messages[0] and "ZeroDivisionError" in messages[0]
    with pytest.raises(ZeroDivisionError):
        started.finish()


def test_a_window_that_cannot_be_built_on_the_data_says_so_rather_than_spin(
    qtbot, paths: AppPaths, qt_settings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.main_window import MainWindow

    def broken(self: MainWindow, ctx: Any) -> None:
        raise ZeroDivisionError("a screen bug")

    monkeypatch.setattr(MainWindow, "attach", broken)
    started = Startup(paths, settings=qt_settings)
    qtbot.addWidget(started.window)
    messages: list[str] = []
    started.failed.connect(lambda _t, message: messages.append(message))
    started.window.show()
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)
    assert "ZeroDivisionError" in messages[0]
    assert started.window.loading is not None and started.window.loading.failed
    with pytest.raises(ZeroDivisionError):
        started.finish()
    assert started.ctx is None  # the data was closed
    assert _markers(paths) == []


def test_closing_while_the_data_opens_lets_the_opening_finish_then_closes_it(
    qtbot, startup: Startup, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldOpen(startup.window)
    monkeypatch.setattr(application, "open_context", held)
    startup.window.show()
    qtbot.waitUntil(held.started.is_set, timeout=WAIT_MS)
    startup.window.close()
    QTimer.singleShot(50, held.release.set)
    startup.finish()
    assert not startup.window.is_ready and startup.ctx is None
    assert paths.db_path.exists()  # opened (and migrated) to the end, not cut short
    assert _markers(paths) == []  # and closed cleanly


def test_data_that_opens_after_the_window_closed_is_closed_not_attached(
    qtbot, startup: Startup, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldOpen(startup.window)
    monkeypatch.setattr(application, "open_context", held)
    startup.window.show()
    qtbot.waitUntil(held.started.is_set, timeout=WAIT_MS)
    startup.window.close()  # the event loop is still running: finish() has not been called
    held.release.set()
    thread = startup._thread
    assert thread is not None
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=WAIT_MS)
    qtbot.wait(50)  # the opened data reaches the GUI thread
    assert not startup.window.is_ready and startup.ctx is None
    assert _markers(paths) == []  # closed cleanly


def test_the_passphrase_is_asked_on_the_gui_thread_for_the_opening_thread(
    qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, bool]] = []

    def get_text(_parent: Any, _title: str, prompt: str, _echo: Any) -> tuple[str, bool]:
        asked.append((prompt, threading.current_thread() is threading.main_thread()))
        return "correct horse battery", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    asker = PassphraseAsker()
    answers: list[object] = []

    def worker() -> None:
        answers.append(asker.ask("Passphrase?"))
        asker.cancel()
        try:
            asker.ask("Again?")
        except KeyError_ as exc:
            answers.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=WAIT_MS)
    assert asked == [("Passphrase?", True)]
    assert answers[0] == "correct horse battery"
    assert isinstance(answers[1], KeyError_)


# --- run_gui, the whole start, with the real event loop ---------------------------------------


def _close_when_ready(app: QApplication) -> None:
    """Poll for the started window; close it once it has its data (the app then quits)."""

    def check() -> None:
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].is_ready and windows[0].status is not None:
            windows[0].runner.wait()
            windows[0].close()
        else:
            QTimer.singleShot(20, check)

    QTimer.singleShot(20, check)


def test_run_gui_opens_a_new_folder_and_exits_cleanly(qtbot, qapp, paths: AppPaths) -> None:
    _close_when_ready(qapp)
    assert run_gui(paths) == 0
    assert paths.db_path.exists()
    assert _markers(paths) == []
    assert QApplication.applicationVersion()


def _newer_schema(paths: AppPaths, clock: FixedClock) -> str:
    ctx = open_context(paths, clock=clock)
    key = ctx.db_key
    ctx.close()
    conn = encryption.connect(paths.db_path, key)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    return "newer version of CareCoord"


def _damaged(paths: AppPaths, clock: FixedClock) -> str:
    ctx = open_context(paths, clock=clock, check_budget=float("inf"))
    ctx.close()
    data = bytearray(paths.db_path.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096 + 200
    data[middle : middle + 16] = bytes(16)
    paths.db_path.write_bytes(bytes(data))
    return "is damaged"


def _wrong_passphrase(paths: AppPaths, _clock: FixedClock) -> str:
    FileSecretStore(paths.key_file, "the right passphrase").set("probe", b"x")
    return "The passphrase does not unlock the key file keys.cck."


@pytest.mark.parametrize("spoil", [_newer_schema, _damaged, _wrong_passphrase])
def test_run_gui_refuses_a_folder_it_cannot_open_with_one_message_and_status_1(
    qtbot, qapp, paths: AppPaths, clock: FixedClock, capsys, monkeypatch, spoil
) -> None:
    expected = spoil(paths, clock)
    monkeypatch.setenv(application.PASSPHRASE_ENV, "not the passphrase")
    capsys.readouterr()
    guard = QTimer()  # never hang the suite
    guard.setSingleShot(True)
    guard.timeout.connect(qapp.quit)
    guard.start(WAIT_MS)
    try:
        assert run_gui(paths) == 1
    finally:
        guard.stop()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("carecoord: ")
    assert expected in lines[0]
    assert _markers(paths) == []


def test_the_passphrase_variable_is_the_one_the_context_reads() -> None:
    from app import context

    assert application.PASSPHRASE_ENV == context.PASSPHRASE_ENV
