"""The care and support plan: saving it re-checks the five criteria, each shown met or with
what is missing in plain English."""

from __future__ import annotations

import pytest

from app.models.assessment import NEED_DOMAINS
from app.services import assessments
from app.ui.dialogs.care_plan import CarePlanDialog
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def dialog(qtbot, shell, team) -> CarePlanDialog:
    d = CarePlanDialog(shell, team.overdue, "ASHWORTH, Doreen")
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: d.state is not None, timeout=WAIT_MS)
    return d


def test_without_a_plan_every_criterion_says_what_is_missing(dialog) -> None:
    check = dialog.state.check
    assert check.met_count == 0
    text = dialog.check.toPlainText()
    assert "0 of 5 criteria met" in text
    assert "No care and support plan has been saved yet." in text
    assert "Complete a personalised needs assessment with the person." in text
    assert text.count("not met") == 5


def test_a_full_plan_meets_all_five(qtbot, ctx, clock, team, dialog) -> None:
    dialog.shell.runner.wait()  # its reads share the in-memory database's connection
    with ctx.db.write() as s:
        a = assessments.start_assessment(s, patient_id=team.overdue, now=clock.now())
        assessments.save_assessment(
            s,
            assessment_id=a.id,
            now=clock.now(),
            domains=[assessments.DomainRating(d, "low") for d in NEED_DOMAINS],
            what_matters="Getting back to the allotment",
            review_date=clock.now().date(),
        )
        assessments.complete_assessment(s, assessment_id=a.id, now=clock.now())
    dialog.person_involved.setChecked(True)
    dialog.who_involved.setText("Daughter, GP")
    dialog.outcomes.setPlainText("Walk to the allotment twice a week")
    dialog.shared_with_person.setChecked(True)
    dialog.shared_with_others.setText("GP practice")
    dialog.agreed.setChecked(True)
    dialog.review_date.setText("01/02/2025")  # in the past: criterion 5 not met
    with qtbot.waitSignal(dialog.plan_saved, timeout=WAIT_MS):
        dialog.save_button.click()
    assert dialog.state.check.met_count == 4
    assert "The review date 01/02/2025 has passed" in dialog.check.toPlainText()
    assert dialog.agreed_when.text() == "(agreed 23/11/2026 09:00)"
    dialog.review_date.setText("01/02/2027")
    with qtbot.waitSignal(dialog.plan_saved, timeout=WAIT_MS):
        dialog.save_button.click()
    assert dialog.state.check.all_met
    assert "5 of 5 criteria met" in dialog.check.toPlainText()


def test_a_review_date_that_is_not_a_date_is_refused(qtbot, dialog) -> None:
    dialog.review_date.setText("31/09/2027")
    dialog.save_button.click()
    assert "September 2027 has 30 days" in dialog.review_error.text()
    assert dialog.state.plan is None
