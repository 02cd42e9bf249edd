"""Settings: your profile, the team's members (refusals shown), this laptop's idle lock and
folders, backups (back up now; restore after confirming, the data replaced kept aside)."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QMessageBox

from app.context import open_context
from app.core.paths import AppPaths
from app.core.secrets import MemorySecretStore
from app.services import caseload, desktop
from app.ui.dialogs.directory import DirectoryDialog
from app.ui.screens.settings import SettingsScreen
from app.ui.shell import Shell
from app.ui.workers import Runner
from tests.ui.conftest import WAIT_MS
from tests.ui.factories import nhs


@pytest.fixture
def screen(qtbot, window) -> SettingsScreen:
    s = window.show_screen("settings")
    assert isinstance(s, SettingsScreen)
    qtbot.waitUntil(lambda: s.data is not None, timeout=WAIT_MS)
    return s


def _team(screen: SettingsScreen):
    screen.shell.runner.wait()  # the window's reads share the in-memory database's connection
    with screen.shell.ctx.db.read() as s:
        return {c.name: c for c in caseload.list_coordinators(s, include_inactive=True)}


def test_profile_of_the_signed_in_coordinator(qtbot, ctx, screen) -> None:
    assert screen.name.text() == "Amira Shah"
    assert screen.sign_in_as.currentText() == "Amira Shah"
    screen.role.setText("Care Coordination Team Lead")
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.profile_button.click()
    assert _team(screen)["Amira Shah"].role == "Care Coordination Team Lead"
    screen.name.setText("Ben Okoro")  # someone else's name
    screen.profile_button.click()
    qtbot.waitUntil(lambda: screen.profile_error.text() != "", timeout=WAIT_MS)
    assert "already an active coordinator called Ben Okoro" in screen.profile_error.text()


def test_add_and_deactivate_team_members(qtbot, ctx, screen) -> None:
    screen.new_name.setText("Chloe Dunmore")
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.add_member_button.click()
    assert "Chloe Dunmore" in [screen.team.index(r, 0).data() for r in range(3)]
    names = [screen.team.index(r, 0).data() for r in range(screen.team.rowCount())]
    screen.team_table.selectRow(names.index("Amira Shah"))  # she has open patients
    screen.deactivate_button.click()
    qtbot.waitUntil(lambda: screen.team_error.text() != "", timeout=WAIT_MS)
    assert "reassign them first" in screen.team_error.text()
    screen.team_table.selectRow(names.index("Chloe Dunmore"))
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.deactivate_button.click()
    assert not _team(screen)["Chloe Dunmore"].active


def test_laptop_settings_are_saved_and_the_lock_follows(qtbot, ctx, tmp_path, window, screen):
    assert screen.idle_minutes.value() == 5
    screen.idle_minutes.setValue(15)
    screen.folders["pdf"].setText(str(tmp_path))
    with qtbot.waitSignal(screen.settings_saved, timeout=WAIT_MS):
        screen.save_button.click()
    screen.shell.runner.wait()
    with ctx.db.read() as s:
        saved = desktop.get_device_settings(s)
    assert (saved.idle_lock_minutes, saved.pdf_folder) == (15, str(tmp_path))
    qtbot.waitUntil(lambda: window.idle_lock.minutes == 15, timeout=WAIT_MS)


def test_backups_are_not_offered_for_data_in_memory(screen) -> None:
    assert not screen.backup_button.isEnabled()
    assert "held in memory" in screen.backup_note.text()


def test_the_service_directory_opens_from_settings(qtbot, screen) -> None:
    dialog = screen.open_directory()
    assert isinstance(dialog, DirectoryDialog)
    qtbot.waitUntil(lambda: dialog.services.rowCount() > 10, timeout=WAIT_MS)
    dialog.reject()


@pytest.fixture
def on_disk(qtbot, tmp_path, clock):
    """A real (encrypted) data folder, as on a laptop."""
    ctx = open_context(AppPaths(tmp_path / "data"), clock=clock, secrets=MemorySecretStore())
    runner = Runner(ctx.db)
    shell = Shell(ctx, runner)
    screen = SettingsScreen(shell)
    qtbot.addWidget(screen)
    yield ctx, screen
    runner.wait()
    ctx.close()


def _add_patient(ctx, family: str) -> None:
    with ctx.db.write() as s:
        caseload.register_patient(
            s, nhs_number=nhs(), family_name=family, given_name="Ann",
            date_of_birth=date(1940, 1, 1), now=ctx.clock.now(),
        )  # fmt: skip


def _names(ctx) -> list[str]:
    from app.services.caseload_view import CaseloadQuery, search_caseload

    with ctx.db.read() as s:
        page = search_caseload(s, query=CaseloadQuery(), offset=0, limit=50, now=ctx.clock.now())
    return [r.name for r in page.rows]


def test_back_up_now_then_restore_after_confirming(qtbot, monkeypatch, on_disk) -> None:
    ctx, screen = on_disk
    _add_patient(ctx, "Before")
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.refresh()
    assert screen.backup_button.isEnabled()
    with qtbot.waitSignal(screen.backup_made, timeout=WAIT_MS * 2):
        screen.back_up()
    qtbot.waitUntil(lambda: screen.backup_model.rowCount() >= 1, timeout=WAIT_MS)
    manual = next(
        r for r in range(screen.backup_model.rowCount())
        if screen.backup_model.index(r, 1).data() == "Manual"
    )  # fmt: skip
    _add_patient(ctx, "After")
    assert _names(ctx) == ["AFTER, Ann", "BEFORE, Ann"]

    answers = []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda *a, **k: answers.append(a[1]) or QMessageBox.StandardButton.Yes,
    )
    screen.backup_table.selectRow(manual)
    with qtbot.waitSignal(screen.backup_restored, timeout=WAIT_MS * 2):
        screen.restore_button.click()
    assert answers == ["Restore a backup"]
    assert _names(ctx) == ["BEFORE, Ann"]  # the window's database is the restored one
    assert "restored" in screen.message.text() and "replaced" in screen.message.text()
    _add_patient(ctx, "Later")  # and it can still be written
    assert len(_names(ctx)) == 2
