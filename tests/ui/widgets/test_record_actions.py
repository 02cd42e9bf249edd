"""The patient record's Assessment, Carers and Referrals tabs: their buttons open the dialogs,
and what is saved there shows in the record."""

from __future__ import annotations

import pytest

from app.services.reference import seeded_service_id
from app.ui.dialogs.assessment import AssessmentDialog
from app.ui.dialogs.care_plan import CarePlanDialog
from app.ui.dialogs.carer import CarerDialog
from app.ui.dialogs.referral import ReferralDialog
from app.ui.dialogs.referral_status import ReferralStatusDialog
from tests.ui.boxes import questions  # noqa: F401 - fixture
from tests.ui.conftest import WAIT_MS

pytestmark = pytest.mark.usefixtures("questions")


@pytest.fixture
def record(qtbot, window, team):
    screen = window.open_patient(team.overdue)
    qtbot.waitUntil(lambda: screen.data is not None, timeout=WAIT_MS)
    return screen


def test_assessment_tab_opens_the_assessment_and_the_plan(qtbot, record) -> None:
    assert record.needs_actions.assessment_button.isEnabled()
    dialog = record.needs_actions.open_assessment()
    assert isinstance(dialog, AssessmentDialog) and dialog.patient_name == "ASHWORTH, Doreen"
    qtbot.waitUntil(lambda: dialog.state is not None, timeout=WAIT_MS)
    dialog.reject()
    plan = record.needs_actions.open_plan()
    assert isinstance(plan, CarePlanDialog)
    qtbot.waitUntil(lambda: plan.state is not None, timeout=WAIT_MS)
    plan.reject()


def test_carers_tab_adds_opens_and_unlinks_a_carer(qtbot, record) -> None:
    actions = record.carer_actions
    assert not actions.open_button.isEnabled()
    dialog = actions.add_carer()
    assert isinstance(dialog, CarerDialog)
    dialog.family_name.setText("Ashworth")
    dialog.given_name.setText("Keith")
    dialog.relationship.setText("son")
    with qtbot.waitSignal(record.loaded, timeout=WAIT_MS):
        dialog.save_button.click()
    assert record.carer_model.rowCount() == 1
    assert record.tabs.tabText(3) == "&Carers (1)"
    record.carer_table.selectRow(0)
    assert actions.open_button.isEnabled() and actions.unlink_button.isEnabled()
    details = actions.open_carer()
    assert isinstance(details, CarerDialog) and details.carer_id is not None
    details.reject()
    with qtbot.waitSignal(record.loaded, timeout=WAIT_MS):
        actions.unlink_selected()
    assert record.carer_model.rowCount() == 0


def test_referrals_tab_refers_and_shows_progress(qtbot, record) -> None:
    dialog = record.referral_actions.refer()
    assert isinstance(dialog, ReferralDialog)
    qtbot.waitUntil(lambda: dialog.choices is not None, timeout=WAIT_MS)
    dialog.select_service(seeded_service_id("first-contact-plus"))
    dialog.reason.setPlainText("Help with benefits")
    dialog.consent.setChecked(True)
    with qtbot.waitSignal(record.loaded, timeout=WAIT_MS):
        dialog.save_button.click()
    assert record.referral_model.rowCount() == 1
    record.referral_table.selectRow(0)
    progress = record.referral_actions.open_progress()
    assert isinstance(progress, ReferralStatusDialog)
    qtbot.waitUntil(lambda: progress.state is not None, timeout=WAIT_MS)
    assert "cancelled" in progress.offered_statuses()
    progress.reject()
