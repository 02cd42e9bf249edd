"""Caseload: typing filters (debounced, in SQL), filters and sorting, lazy paging, opening a
patient with Enter or a double-click."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from app.models import Patient
from app.ui.screens.caseload import PAGE_SIZE, CaseloadScreen
from tests.ui.conftest import WAIT_MS
from tests.ui.factories import PRACTICE, nhs


@pytest.fixture
def screen(qtbot, window) -> CaseloadScreen:
    page = window.show_screen("caseload")
    assert isinstance(page, CaseloadScreen)
    qtbot.waitUntil(lambda: page.model.total == 4 and page.coordinator.count() > 2, timeout=WAIT_MS)
    return page


def _names(screen: CaseloadScreen) -> list[str]:
    return [screen.model.index(r, 0).data() for r in range(screen.model.rowCount())]


def test_typing_filters_after_a_short_pause(qtbot, screen) -> None:
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS) as blocker:
        qtbot.keyClicks(screen.search, "pat")
    assert blocker.args == [1]
    assert _names(screen) == ["PATEL, Harjit"]
    assert screen.count_label.text() == "1 patient"


def test_nhs_number_search_and_escape_clears(qtbot, screen, ctx, team) -> None:
    with ctx.db.read() as s:
        from app.services.caseload_view import patient_details

        number = patient_details(s, patient_id=team.green, now=screen.shell.now()).nhs_number
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.search.setText(spaced)
    assert _names(screen) == ["OKAFOR, Kwame"]
    assert screen.model.index(0, 1).data() == spaced
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        qtbot.keyClick(screen.search, Qt.Key.Key_Escape)
    assert screen.model.total == 4


def test_filters_by_coordinator_level_and_flags(qtbot, screen, team) -> None:
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.coordinator.setCurrentIndex(screen.coordinator.findData(team.other_coordinator_id))
    assert _names(screen) == ["BROWN, Stanley"]
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.clear_button.click()
    assert screen.model.total == 4
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.flag_boxes["ltc5"].setChecked(True)
    assert _names(screen) == ["ASHWORTH, Doreen", "OKAFOR, Kwame", "PATEL, Harjit"]
    assert screen.model.index(0, 6).data() == "5+ LTCs"
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.level.setCurrentIndex(screen.level.findData("Essential"))
    assert _names(screen) == []
    assert screen.count_label.text() == "0 patients"


def test_clicking_a_header_sorts_in_sql(qtbot, screen) -> None:
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _names(screen) == [
        "PATEL, Harjit",
        "OKAFOR, Kwame",
        "BROWN, Stanley",
        "ASHWORTH, Doreen",
    ]
    assert screen.current_query().sort == "name" and screen.current_query().descending


def test_enter_opens_the_patient_record(qtbot, window, screen, team) -> None:
    screen.table.setFocus()
    screen.table.setCurrentIndex(screen.model.index(0, 0))
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.patient
    qtbot.waitUntil(lambda: window.patient.data is not None, timeout=WAIT_MS)
    assert window.patient.name.text() == "ASHWORTH, Doreen"
    window.go_back()
    assert window.stack.currentWidget() is screen


def test_rows_are_fetched_a_page_at_a_time(qtbot, window, screen, ctx, clock) -> None:
    window.runner.wait()
    with ctx.db.write() as s:
        s.add_all(
            Patient(
                nhs_number=nhs(),
                family_name=f"Zed{i:04d}",
                given_name="Test",
                date_of_birth=date(1950, 1, 1),
                created_at=clock.now(),
                practice_code=PRACTICE,
                level="Enhanced",
                respect_in_place=False,
                consent_to_share=False,
                flag_for_mdt=False,
            )
            for i in range(PAGE_SIZE + 30)
        )
    with qtbot.waitSignal(screen.results_shown, timeout=WAIT_MS):
        screen.search.setText("zed")
    assert screen.model.total == PAGE_SIZE + 30
    assert screen.model.rowCount() == PAGE_SIZE  # only the first page is held
    assert screen.model.canFetchMore(screen.model.index(-1, -1))
    with qtbot.waitSignal(screen.model.rowsInserted, timeout=WAIT_MS):
        screen.table.scrollToBottom()
        screen.model.fetchMore(screen.model.index(-1, -1))
    assert screen.model.rowCount() == PAGE_SIZE + 30
    assert not screen.model.canFetchMore(screen.model.index(-1, -1))
