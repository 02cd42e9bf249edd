"""Idle lock: patient data is hidden after the configured time without input (a tiny interval
here), dialogs are hidden with it, and unlocking needs the coordinator (and the key file's
passphrase where one protects the keys)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.core.secrets import FileSecretStore
from app.services import desktop
from app.ui.dialogs.carer import CarerDialog
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def record(qtbot, window, team):
    screen = window.open_patient(team.overdue)
    qtbot.waitUntil(lambda: screen.data is not None, timeout=WAIT_MS)
    return screen


def _lock_soon(qtbot, window) -> None:
    lock = window.idle_lock
    lock.set_interval_ms(20)
    qtbot.waitUntil(lambda: lock.is_locked, timeout=WAIT_MS)


def test_idle_time_hides_the_record_and_its_dialogs(qtbot, window, record) -> None:
    dialog = record.carer_actions.add_carer()
    assert isinstance(dialog, CarerDialog) and dialog.isVisible()
    assert record.name.isVisible()
    _lock_soon(qtbot, window)
    lock = window.idle_lock
    assert lock.stack.currentWidget() is lock.lock_screen
    assert not record.name.isVisible()
    assert not lock.content.isVisible()
    assert not dialog.isVisible()
    assert not window.log_call_action.isEnabled()
    assert not window.menuBar().isEnabled()
    assert "without use" in lock.lock_screen.reason.text()

    qtbot.waitUntil(lambda: lock.lock_screen.who.count() == 2, timeout=WAIT_MS)
    assert lock.lock_screen.who.currentText() == "Amira Shah"
    assert not lock.lock_screen.passphrase.isVisible()  # the keys are in the keyring
    lock.set_interval_ms(60_000)
    with qtbot.waitSignal(lock.unlocked, timeout=WAIT_MS):
        qtbot.mouseClick(lock.lock_screen.unlock_button, Qt.MouseButton.LeftButton)
    assert record.name.isVisible() and dialog.isVisible()
    assert window.log_call_action.isEnabled()
    dialog.reject()


def test_input_keeps_the_window_unlocked(qtbot, window) -> None:
    lock = window.idle_lock
    lock.set_interval_ms(60_000)
    lock.timer.stop()
    qtbot.keyClick(window.nav, Qt.Key.Key_Down)  # any key or mouse use restarts the count
    assert lock.timer.isActive() and not lock.is_locked


def test_the_idle_time_is_the_laptops_setting(qtbot, ctx, window) -> None:
    assert window.idle_lock.minutes == 5
    assert window.idle_lock.timer.interval() == 5 * 60_000
    window.runner.wait()
    window.runner.write(
        lambda s: desktop.save_device_settings(s, idle_lock_minutes=12),
        on_success=lambda _s: None,
    )
    qtbot.waitUntil(lambda: window.idle_lock.minutes == 12, timeout=WAIT_MS)
    assert window.idle_lock.timer.interval() == 12 * 60_000


def test_a_locked_screen_from_the_system_locks_at_once(qtbot, window) -> None:
    window.idle_lock.system_locked()
    assert window.idle_lock.is_locked
    assert "screen was locked" in window.idle_lock.lock_screen.reason.text()


def test_unlocking_as_someone_else_signs_them_in(qtbot, window) -> None:
    _lock_soon(qtbot, window)
    lock = window.idle_lock
    screen = lock.lock_screen
    qtbot.waitUntil(lambda: screen.who.count() == 2, timeout=WAIT_MS)
    screen.who.setCurrentIndex(screen.who.findText("Ben Okoro"))
    lock.set_interval_ms(60_000)
    with qtbot.waitSignal(lock.unlocked, timeout=WAIT_MS):
        screen.unlock_button.click()
    assert window.shell.coordinator_name == "Ben Okoro"
    qtbot.waitUntil(lambda: window.user_label.text() == "Signed in: Ben Okoro", timeout=WAIT_MS)


def test_with_a_key_file_the_passphrase_is_needed(qtbot, tmp_path, ctx, window) -> None:
    store = FileSecretStore(tmp_path / "keys.cck", "correct horse battery")
    store.set("probe", b"1")
    ctx.secrets = store
    _lock_soon(qtbot, window)
    lock = window.idle_lock
    screen = lock.lock_screen
    assert screen.passphrase.isVisible()
    qtbot.waitUntil(lambda: screen.who.count() == 2, timeout=WAIT_MS)
    screen.unlock_button.click()
    assert "Type the passphrase" in screen.error.text()
    screen.passphrase.setText("wrong horse")
    screen.unlock_button.click()
    qtbot.waitUntil(lambda: "does not open" in screen.error.text(), timeout=WAIT_MS)
    assert lock.is_locked
    lock.set_interval_ms(60_000)
    screen.passphrase.setText("correct horse battery")
    with qtbot.waitSignal(lock.unlocked, timeout=WAIT_MS):
        screen.unlock_button.click()
    assert not lock.is_locked
