"""Today: open 48-hour clocks overdue first with red/amber/green, logging a call from the
keyboard, tasks due with Complete, referrals waiting on a reply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from app.services import referrals, tasks
from app.services.reference import seeded_service_id
from app.ui.dialogs.log_call import LogCallDialog
from app.ui.format import AMBER, GREEN, RED
from app.ui.screens.today import TodayScreen
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def today(qtbot, window) -> TodayScreen:
    screen = window.show_screen("today")
    assert isinstance(screen, TodayScreen)
    qtbot.waitUntil(lambda: screen.data is not None, timeout=WAIT_MS)
    return screen


def _clock_rows(screen: TodayScreen) -> list[tuple[str, str, str]]:
    m = screen.clocks
    return [
        (m.index(r, 0).data(), m.index(r, 1).data(), m.index(r, 4).data())
        for r in range(m.rowCount())
    ]


def _log_call(qtbot, screen: TodayScreen, patient: str, outcome: str) -> None:
    names = [screen.clocks.index(r, 1).data() for r in range(screen.clocks.rowCount())]
    screen.clock_table.setFocus()
    screen.clock_table.setCurrentIndex(screen.clocks.index(names.index(patient), 0))
    qtbot.keyClick(screen.clock_table, Qt.Key.Key_Return)  # Enter opens the dialog
    dialog = screen.findChild(LogCallDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(outcome))
    dialog.issue_boxes["medication"].setChecked(True)
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)


def test_open_clocks_overdue_first_with_rag_colours(today) -> None:
    rows = _clock_rows(today)
    assert rows == [
        ("Overdue", "ASHWORTH, Doreen", "Overdue by 2 h 00 m"),
        ("Due soon", "PATEL, Harjit", "8 h 00 m left"),
        ("On track", "OKAFOR, Kwame", "42 h left"),
    ]
    colours = [today.clocks.index(r, 4).data(Qt.ItemDataRole.BackgroundRole) for r in range(3)]
    assert colours == [RED, AMBER, GREEN]
    assert today.clocks.index(0, 2).data().count(" ") == 2  # NHS number 3-3-4
    assert today.summary.text().startswith("Calls overdue: 1 · due within 12 hours: 1")


def test_logging_a_contact_closes_the_clock(qtbot, today) -> None:
    _log_call(qtbot, today, "ASHWORTH, Doreen", "contacted_patient")
    assert [name for _, name, _ in _clock_rows(today)] == ["PATEL, Harjit", "OKAFOR, Kwame"]


def test_an_unanswered_call_keeps_the_clock_open_and_counts_the_attempt(qtbot, today) -> None:
    _log_call(qtbot, today, "PATEL, Harjit", "no_answer")
    names = [today.clocks.index(r, 1).data() for r in range(today.clocks.rowCount())]
    row = names.index("PATEL, Harjit")
    assert today.clocks.index(row, 5).data() == "1"
    assert today.clocks.index(row, 6).data() == "No answer"


def test_ctrl_l_logs_a_call_on_the_selected_discharge(qtbot, window, today) -> None:
    today.clock_table.setFocus()
    today.clock_table.selectRow(2)
    window.activateWindow()
    qtbot.keyClick(today.clock_table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    dialog = today.findChild(LogCallDialog)
    assert dialog is not None and dialog.target.patient_name == "OKAFOR, Kwame"
    dialog.reject()


def test_log_call_dialog_refuses_future_and_pre_discharge_times(qtbot, today, clock) -> None:
    dialog = today.open_log_call(today.clocks.row_at(2))
    dialog.outcome.setCurrentIndex(0)
    dialog.called_at.setText("23/11/2026 10:30")  # the clock says 09:00
    assert "in the future" in dialog.time_error.text()
    dialog.called_at.setText("22/11/2026 20:00")  # discharged 03:00 on the 23rd
    assert "before the discharge" in dialog.time_error.text()
    dialog.called_at.setText("31/02/2026 10:00")
    assert "February 2026 has 28 days" in dialog.time_error.text()
    with qtbot.assertNotEmitted(dialog.call_logged):
        dialog.save_button.click()
    assert dialog.isVisible()
    dialog.reject()


def test_outcome_must_be_chosen(qtbot, today) -> None:
    dialog = today.open_log_call(today.clocks.row_at(0))
    dialog.save_button.click()
    assert dialog.outcome_error.text() == "Choose the outcome of the call."
    assert dialog.isVisible()
    dialog.reject()


def test_tasks_due_and_complete(qtbot, window, ctx, clock, team) -> None:
    window.runner.wait()
    with ctx.db.write() as s:
        from app.models import Patient
        from tests.ui.factories import add_task

        p = s.get(Patient, team.amber)
        add_task(
            s,
            p,
            clock.now() - timedelta(days=1),
            "Chase OT assessment",
            now=clock.now(),
            assigned_to_id=team.coordinator_id,
        )
        add_task(
            s,
            p,
            clock.now() + timedelta(days=3),
            "Later task",
            now=clock.now(),
            assigned_to_id=team.coordinator_id,
        )
    screen = window.show_screen("today")
    screen.refresh()
    qtbot.waitUntil(lambda: screen.tasks.rowCount() == 1, timeout=WAIT_MS)
    assert screen.tasks.index(0, 1).data() == "Chase OT assessment"
    assert screen.tasks.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # overdue
    screen.task_table.selectRow(0)
    with qtbot.waitSignal(screen.task_completed, timeout=WAIT_MS):
        screen.complete_button.click()
    qtbot.waitUntil(lambda: screen.tasks.rowCount() == 0, timeout=WAIT_MS)
    with ctx.db.read() as s:
        done = tasks.list_tasks(s, now=clock.now(), include_done=True, patient_id=team.amber)
    assert [t.late for t in done if t.title == "Chase OT assessment"] == [True]


def test_referrals_waiting_on_a_reply(qtbot, window, ctx, clock, team) -> None:
    window.runner.wait()
    with ctx.db.write() as s:
        referrals.make_referral(
            s,
            patient_id=team.green,
            service_id=seeded_service_id("first-contact-plus"),
            reason="Benefits advice",
            consent_given=True,
            now=clock.now() - timedelta(days=8),
            send=True,
        )
    screen = window.show_screen("today")
    screen.refresh()
    qtbot.waitUntil(lambda: screen.referrals.rowCount() == 1, timeout=WAIT_MS)
    assert screen.referrals.index(0, 1).data() == "First Contact Plus"
    screen.referral_table.selectRow(0)
    screen.referral_open_button.click()
    qtbot.waitUntil(lambda: window.patient.data is not None, timeout=WAIT_MS)
    assert window.patient.data.record.details.name == "OKAFOR, Kwame"


def test_whole_team_scope_includes_other_coordinators(qtbot, today) -> None:
    assert today.coordinator_scope() is not None
    today.scope.setCurrentIndex(1)
    assert today.coordinator_scope() is None
