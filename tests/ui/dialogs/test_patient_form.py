"""Add / edit patient: inline messages for bad NHS numbers and impossible dates; saving
registers through the caseload service and opens the record."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from app.core.validation import is_valid_nhs_number
from app.ui.dialogs.patient_form import PatientDialog
from tests.ui.conftest import WAIT_MS
from tests.ui.factories import nhs


@pytest.fixture
def dialog(qtbot, window) -> PatientDialog:
    d = window.new_patient()
    qtbot.waitUntil(lambda: d.practice.count() > 100, timeout=WAIT_MS)
    return d


def _fill(d: PatientDialog, number: str) -> None:
    d.nhs_number.setText(number)
    d.family_name.setText("Whitlock")
    d.given_name.setText("Olwen")
    d.date_of_birth.setText("02/07/1938")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("999 000 0019", "fails the check-digit test"),
        ("999 000 001", "has 9 digits; it needs 10"),
        ("9.99E+09", "scientific notation"),
        ("999-000-001X", "characters other than digits"),
    ],
)
def test_bad_nhs_numbers_are_explained_inline(qtbot, dialog, typed, message) -> None:
    dialog.nhs_number.setText(typed)
    dialog.nhs_number.editingFinished.emit()
    assert message in dialog.nhs_error.text()
    assert dialog.nhs_error.isVisible()
    dialog.nhs_number.setText(nhs())
    assert dialog.nhs_error.text() == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/04/1950", "April 1950 has 30 days"),
        ("12/13/1950", "month 13, which does not exist"),
        ("01/01/2030", "in the future"),
        ("01/01/50", "two-digit year"),
        ("01/01/1850", "before 1900"),
    ],
)
def test_impossible_dates_of_birth_are_explained(qtbot, dialog, typed, message) -> None:
    _fill(dialog, nhs())
    dialog.date_of_birth.setText(typed)
    with qtbot.assertNotEmitted(dialog.patient_saved):
        dialog.save_button.click()
    assert message in dialog.dob_error.text()
    assert dialog.isVisible()


def test_respect_needs_a_date_and_level_change_needs_a_reason(qtbot, dialog) -> None:
    _fill(dialog, nhs())
    dialog.respect.setChecked(True)
    dialog.save_button.click()
    assert dialog.respect_error.text() == "Give the date the ReSPECT form was signed."
    assert not dialog.level_reason.isEnabled()  # only when editing


def test_saving_a_new_patient_opens_their_record(qtbot, window, dialog) -> None:
    number = nhs()
    _fill(dialog, number)
    dialog.postcode.setText("le1 5ww")
    dialog.practice.setCurrentIndex(dialog.practice.findText("Ashby Surgery — Weir"))
    dialog.ltc.setValue(5)
    dialog.respect.setChecked(True)
    dialog.respect_date.setText("01/10/2026")
    dialog.consent.setChecked(True)
    with qtbot.waitSignal(dialog.patient_saved, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    record = window.patient
    qtbot.waitUntil(lambda: record.data is not None and record.name.text() == "WHITLOCK, Olwen")
    assert record.practice.text() == "Ashby Surgery (Weir)"
    assert record.respect.text() == "In place, signed 01/10/2026"
    assert record.consent.text() == "Given"
    assert record.coordinator.text() == "Amira Shah"  # defaults to who is signed in
    assert record.data.record.details.postcode == "LE1 5WW"


def test_duplicate_nhs_number_is_refused_by_the_service(qtbot, window, ctx, team) -> None:
    with ctx.db.read() as s:
        from app.services.caseload_view import patient_details

        taken = patient_details(s, patient_id=team.green, now=window.shell.now()).nhs_number
    d = window.new_patient()
    qtbot.waitUntil(lambda: d.practice.count() > 100, timeout=WAIT_MS)
    _fill(d, taken)
    d.save_button.click()
    qtbot.waitUntil(lambda: "already registered" in d.general_error.text(), timeout=WAIT_MS)
    assert d.isVisible()
    d.reject()


def test_editing_changes_the_level_with_a_reason(qtbot, window, team) -> None:
    record = window.open_patient(team.green)
    qtbot.waitUntil(lambda: record.data is not None, timeout=WAIT_MS)
    record.edit_button.click()
    d = record.findChild(PatientDialog)
    qtbot.waitUntil(lambda: d.practice.count() > 100, timeout=WAIT_MS)
    assert d.family_name.text() == "Okafor"
    d.level.setCurrentIndex(d.level.findData("Expert"))
    d.save_button.click()
    assert d.level_error.text() == "Say why the level is changing."
    d.level_reason.setText("Stable after discharge")
    with qtbot.waitSignal(record.loaded, timeout=WAIT_MS):
        d.save_button.click()
    assert record.level.text().startswith("Expert")
    texts = [record.timeline.index(r, 2).data() for r in range(record.timeline.rowCount())]
    assert "Level Enhanced → Expert (Stable after discharge)" in texts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet="0123456789 -", min_size=1, max_size=14))
def test_inline_nhs_check_agrees_with_core_validation(dialog, typed) -> None:
    dialog.nhs_number.setText(typed)
    dialog.nhs_number.editingFinished.emit()
    assert (dialog.nhs_error.text() == "") == is_valid_nhs_number(typed)
