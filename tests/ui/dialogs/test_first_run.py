"""First run: an empty folder offers a demo team or an empty start, then asks who you are."""

from __future__ import annotations

import pytest

from app.services import caseload
from app.services.caseload_view import signed_in_coordinator
from app.ui.dialogs.first_run import FirstRunDialog, demo_available
from tests.ui.conftest import WAIT_MS


def _dialog(qtbot, win) -> FirstRunDialog:
    win.start_first_run()
    qtbot.waitUntil(
        lambda: win.first_run is not None and win.first_run.isVisible(), timeout=WAIT_MS
    )
    assert win.first_run is not None
    return win.first_run


def test_empty_folder_start_empty_then_add_yourself(qtbot, empty_window, ctx) -> None:
    dialog = _dialog(qtbot, empty_window)
    assert dialog.pages.currentIndex() == 0
    assert dialog.empty_button.isVisible()
    dialog.empty_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=WAIT_MS)
    assert dialog.team.count() == 0
    assert not dialog.add_button.isEnabled()
    dialog.new_name.setText("Priya Mistry")
    with qtbot.waitSignal(empty_window.first_run_finished, timeout=WAIT_MS):
        dialog.add_button.click()
    qtbot.waitUntil(lambda: empty_window.user_label.text() == "Signed in: Priya Mistry")
    empty_window.runner.wait()
    with ctx.db.read() as s:
        who = signed_in_coordinator(s)
    assert who is not None and who.label == "Priya Mistry"


def test_choose_yourself_from_the_team(qtbot, empty_window, ctx, clock) -> None:
    empty_window.runner.wait()
    with ctx.db.write() as s:
        caseload.add_coordinator(s, name="Amira Shah")
        caseload.add_coordinator(s, name="Ben Okoro")
        caseload.register_patient(
            s, nhs_number="9990000018", family_name="A", given_name="B",
            date_of_birth=clock.now().date().replace(year=1950), now=clock.now(),
        )  # fmt: skip
    dialog = _dialog(qtbot, empty_window)
    assert dialog.pages.currentIndex() == 1  # has patients: straight to "who are you"
    assert [dialog.team.item(i).text() for i in range(dialog.team.count())] == [
        "Amira Shah",
        "Ben Okoro",
    ]
    dialog.team.setCurrentRow(1)
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT_MS) as blocker:
        dialog.choose_button.click()
    assert blocker.args[0].label == "Ben Okoro"
    assert empty_window.shell.coordinator_name == "Ben Okoro"


def test_adding_a_clashing_name_is_refused_in_the_dialog(qtbot, empty_window, ctx) -> None:
    empty_window.runner.wait()
    with ctx.db.write() as s:
        caseload.add_coordinator(s, name="Amira Shah")
    dialog = _dialog(qtbot, empty_window)
    dialog.empty_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=WAIT_MS)
    dialog.new_name.setText("amira shah")
    dialog.add_button.click()
    qtbot.waitUntil(lambda: "already an active coordinator" in dialog.who_error.text())
    assert dialog.isVisible()
    dialog.reject()


def test_nothing_is_asked_when_signed_in_with_patients(qtbot, window) -> None:
    with qtbot.waitSignal(window.first_run_finished, timeout=WAIT_MS):
        window.start_first_run()
    assert window.first_run is None


@pytest.mark.skipif(not demo_available(), reason="the demo generator is not installed")
def test_open_a_demo_team_fills_the_folder(qtbot, empty_window) -> None:
    dialog = _dialog(qtbot, empty_window)
    dialog.demo_patients = 25
    dialog.demo_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=60_000)
    assert dialog.team.count() >= 5  # a team lead and coordinators
    dialog.team.setCurrentRow(0)
    with qtbot.waitSignal(empty_window.first_run_finished, timeout=WAIT_MS):
        dialog.choose_button.click()
    empty_window.runner.wait()
    caseload_screen = empty_window.show_screen("caseload")
    qtbot.waitUntil(lambda: caseload_screen.model.total == 25, timeout=WAIT_MS)
