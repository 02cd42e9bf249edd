"""MDT screen: plan a meeting, build its agenda from the proposed patients, record the SBAR
discussion and an action, see open actions carried forward, and print the summary PDF."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from app.services import mdt
from app.ui.dialogs.mdt_action import MdtActionDialog
from app.ui.dialogs.mdt_agenda import MdtAgendaDialog
from app.ui.dialogs.mdt_meeting import MdtMeetingDialog
from app.ui.screens.mdt import MdtScreen
from tests.ui.conftest import WAIT_MS
from tests.ui.factories import PRACTICE

MEETING_DAY = date(2026, 11, 30)


@pytest.fixture
def screen(qtbot, window) -> MdtScreen:
    s = window.show_screen("mdt")
    assert isinstance(s, MdtScreen)
    qtbot.waitUntil(lambda: s.data is not None, timeout=WAIT_MS)
    return s


@pytest.fixture
def meeting(ctx, clock, team, window) -> mdt.MeetingView:
    window.runner.wait()  # the window's reads share the in-memory database's connection
    with ctx.db.write() as s:
        m = mdt.create_meeting(
            s,
            meeting_date=MEETING_DAY,
            level="practice",
            practice_code=PRACTICE,
            now=clock.now(),
            attendees=[mdt.AttendeeInput("GP", "Dr Ruth Ellery")],
        )
        for pid in (team.overdue, team.amber):
            mdt.add_item(s, meeting_id=m.id, patient_id=pid, now=clock.now(), reason="Discharged")
        return mdt.get_meeting(s, meeting_id=m.id)


def _show(qtbot, screen: MdtScreen, meeting_id: str) -> None:
    screen._wanted = meeting_id
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        screen.refresh()
    assert screen.meeting is not None and screen.meeting.id == meeting_id


def test_plan_a_meeting_and_build_its_agenda_from_the_proposals(qtbot, screen) -> None:
    dialog = screen.new_meeting()
    assert isinstance(dialog, MdtMeetingDialog)
    qtbot.waitUntil(lambda: dialog.practice.count() > 100, timeout=WAIT_MS)
    dialog.save_button.click()  # no practice chosen
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=WAIT_MS)
    assert "needs a known GP practice" in dialog.place_error.text()
    dialog.practice.setCurrentIndex(dialog.practice.findData(PRACTICE))
    dialog.meeting_date.setText("30/11/2026")
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        dialog.save_button.click()
    assert screen.meeting is not None
    assert screen.meeting.meeting_date == MEETING_DAY
    assert "Amira Shah (Care Coordinator)" in screen.attendee_text.text()

    agenda = screen.add_patients()
    assert isinstance(agenda, MdtAgendaDialog)
    qtbot.waitUntil(lambda: agenda.candidates.rowCount() == 3, timeout=WAIT_MS)
    first = agenda.candidates.row_at(0)
    assert first is not None and first.patient_name == "ASHWORTH, Doreen"
    assert "48-hour post-discharge call overdue" in first.reasons
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        agenda.add_ticked()
    names = [i.patient_name for i in screen.meeting.items]
    assert names[0] == "ASHWORTH, Doreen" and len(names) == 3
    assert "Discharged from hospital on" in (screen.meeting.items[0].reason or "")
    qtbot.waitUntil(lambda: agenda.candidates.chosen() == (), timeout=WAIT_MS)
    agenda.reject()


def test_reorder_discuss_and_add_an_action(qtbot, screen, meeting) -> None:
    _show(qtbot, screen, meeting.id)
    screen.agenda_table.selectRow(0)
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        screen.down_button.click()
    assert [i.patient_name for i in screen.meeting.items] == ["PATEL, Harjit", "ASHWORTH, Doreen"]
    assert screen.selected_item().patient_name == "ASHWORTH, Doreen"  # the selection follows

    screen.sbar.edits["situation"].setPlainText("Home 2 days, struggling with stairs")
    screen.sbar.edits["recommendation"].setPlainText("Therapy assessment this week")
    assert screen.save_sbar_button.isEnabled()
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        screen.save_sbar_button.click()
    item = screen.meeting.items[1]
    assert item.situation == "Home 2 days, struggling with stairs" and item.discussed
    assert screen.agenda.index(1, 3).data() == "Yes"

    screen.agenda_table.selectRow(1)
    dialog = screen.add_action()
    assert isinstance(dialog, MdtActionDialog)
    dialog.save_button.click()
    assert "Say what is to be done." in dialog.description_error.text()
    assert "Give the action an owner." in dialog.owner_error.text()
    dialog.description.setPlainText("Refer to community therapy")
    dialog.owner.setCurrentIndex(0)  # Dr Ruth Ellery (GP)
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        dialog.save_button.click()
    assert [(a.description, a.owner) for a in screen.meeting.actions] == [
        ("Refer to community therapy", "Dr Ruth Ellery")
    ]
    assert screen.action_model.rowCount() == 1

    # an item with actions cannot come off the agenda; the refusal is shown
    screen.agenda_table.selectRow(1)
    screen.remove_button.click()
    qtbot.waitUntil(lambda: "has actions" in screen.message.text(), timeout=WAIT_MS)
    assert len(screen.meeting.items) == 2


def test_open_actions_carry_forward_to_the_next_meeting(qtbot, ctx, clock, screen, meeting):
    screen.shell.runner.wait()
    with ctx.db.write() as s:
        mdt.add_action(
            s,
            meeting_id=meeting.id,
            description="Falls clinic referral",
            owner="Dr Ruth Ellery",
            due_date=MEETING_DAY + timedelta(days=7),
            item_id=meeting.items[0].id,
            now=clock.now(),
        )
        later = mdt.create_meeting(
            s,
            meeting_date=MEETING_DAY + timedelta(days=14),
            level="practice",
            practice_code=PRACTICE,
            now=clock.now(),
        )
    _show(qtbot, screen, later.id)
    assert screen.carried.rowCount() == 1
    assert screen.carried.index(0, 0).data() == "Falls clinic referral"
    assert screen.carried.index(0, 1).data() == "ASHWORTH, Doreen"
    assert screen.carried_box.title() == "Open actions from earlier meetings (1)"
    screen.carried_table.selectRow(0)
    with qtbot.waitSignal(screen.meeting_loaded, timeout=WAIT_MS):
        screen.carried_done_button.click()
    assert screen.carried.rowCount() == 0


def test_a_meeting_cannot_be_marked_held_before_its_date(qtbot, screen, meeting) -> None:
    _show(qtbot, screen, meeting.id)
    screen.held_button.click()
    refused = "cannot be held before its date"
    qtbot.waitUntil(lambda: refused in screen.message.text(), timeout=WAIT_MS)
    assert screen.meeting.status == "planned"


def test_print_summary_writes_a_readable_pdf_and_opens_it(
    qtbot, monkeypatch, tmp_path, screen, meeting
) -> None:
    opened = []
    monkeypatch.setattr("app.ui.screens.mdt.open_file", opened.append)
    _show(qtbot, screen, meeting.id)
    target = tmp_path / "mdt summary"  # the .pdf is added
    with qtbot.waitSignal(screen.summary_printed, timeout=WAIT_MS * 2) as signal:
        screen.print_summary_to(target)
    out = tmp_path / "mdt summary.pdf"
    assert signal.args == [str(out)]
    assert opened == [out]
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "ASHWORTH, Doreen" in text and "PATEL, Harjit" in text
    assert not screen.progress.isVisible()


def test_cancelling_the_print_writes_nothing(qtbot, monkeypatch, tmp_path, screen, meeting):
    monkeypatch.setattr("app.ui.screens.mdt.open_file", lambda p: pytest.fail("opened"))
    _show(qtbot, screen, meeting.id)
    original = screen.progress.start

    def start_then_cancel(*args, **kwargs):
        report = original(*args, **kwargs)
        screen.progress.cancel()  # as if Cancel were pressed at once
        return report

    monkeypatch.setattr(screen.progress, "start", start_then_cancel)
    screen.print_summary_to(tmp_path / "x.pdf")
    qtbot.waitUntil(lambda: "cancelled" in screen.message.text(), timeout=WAIT_MS)
    assert not (tmp_path / "x.pdf").exists()
    assert screen.print_button.isEnabled()
