"""The patient record: header, tabs, logging a call and adding an admission from the record."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.ui.dialogs.admission import AdmissionDialog
from app.ui.dialogs.log_call import LogCallDialog
from app.ui.screens.patient import PatientScreen
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def record(qtbot, window, team) -> PatientScreen:
    screen = window.open_patient(team.overdue)
    qtbot.waitUntil(lambda: screen.data is not None, timeout=WAIT_MS)
    return screen


def test_header_shows_who_and_why(record) -> None:
    assert record.name.text() == "ASHWORTH, Doreen"
    assert record.nhs.text().startswith("NHS 999 ")
    assert record.born.text() == "85 years (born 09/03/1941)"
    assert record.practice.text() == "Ashby Medical Centre (Weir)"
    assert record.level.text() == "Enhanced"
    assert record.coordinator.text() == "Amira Shah"
    assert record.cohort.text() == "On the list because: 6 long-term conditions"
    assert record.respect.text() == "Not in place"
    assert record.carers.text() == "None recorded"


def test_tabs_show_timeline_newest_first_and_the_discharge(record) -> None:
    timeline = record.timeline
    kinds = [timeline.index(r, 1).data() for r in range(timeline.rowCount())]
    assert kinds == ["Caseload", "Episode", "Discharge", "Admission"]
    assert record.discharges.rowCount() == 1
    assert record.discharges.index(0, 4).data() == "Missed"
    assert record.tabs.tabText(1) == "&Discharges && calls (1)"


def test_log_call_from_the_record_marks_the_attempt(qtbot, window, record) -> None:
    window.log_call_action.trigger()  # Ctrl+L: the newest discharge is chosen
    dialog = record.findChild(LogCallDialog)
    assert dialog is not None
    dialog.outcome.setCurrentIndex(dialog.outcome.findData("contacted_carer"))
    with qtbot.waitSignal(record.loaded, timeout=WAIT_MS):
        dialog.save_button.click()
    assert record.discharges.index(0, 5).data() == "1"
    assert record.discharges.index(0, 6).data() == "Contacted carer"
    assert record.timeline.index(0, 2).data().startswith("Call: contacted carer")


def test_add_admission_refuses_impossible_dates_then_saves(qtbot, record) -> None:
    record.admission_button.click()
    dialog = record.findChild(AdmissionDialog)
    assert dialog is not None
    dialog.admitted_at.setText("30/02/2026 10:00")
    dialog.save_button.click()
    assert "February 2026 has 28 days" in dialog.admitted_error.text()
    dialog.admitted_at.setText("22/11/2026 10:00")
    dialog.discharged_at.setText("21/11/2026 10:00")
    dialog.save_button.click()
    assert "before the admission" in dialog.discharged_error.text()
    dialog.discharged_at.setText("24/11/2026 10:00")
    dialog.save_button.click()
    assert "in the future" in dialog.discharged_error.text()
    dialog.discharged_at.setText("")  # still in hospital
    dialog.hospital.setText("Glenfield Hospital")
    with qtbot.waitSignal(record.loaded, timeout=WAIT_MS):
        dialog.save_button.click()
    assert "In hospital since 22/11/2026 10:00" in record.in_hospital.text()
    assert record.discharge_button.isEnabled()


def test_service_refusals_are_shown_in_the_dialog(qtbot, record) -> None:
    """An admission overlapping the existing stay passes the form's checks but not the
    service's: the message appears in the dialog, which stays open."""
    record.admission_button.click()
    dialog = record.findChild(AdmissionDialog)
    dialog.admitted_at.setText("20/11/2026 10:00")
    dialog.discharged_at.setText("20/11/2026 12:00")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=WAIT_MS)
    shown = dialog.general_error.text() + dialog.admitted_error.text()
    assert shown
    assert dialog.isVisible()
    dialog.reject()


def test_back_button_returns(qtbot, window, record) -> None:
    window.show_screen("caseload")
    window.open_patient(record.patient_id)
    qtbot.mouseClick(record.back_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.screens["caseload"]
