"""The needs assessment editor: start a version, save a draft as a whole, completion refused
with what is missing shown inline, then completed with its review task."""

from __future__ import annotations

import pytest

from app.models.assessment import NEED_DOMAINS
from app.services import assessments, tasks
from app.ui.dialogs.assessment import AssessmentDialog
from tests.ui.boxes import questions  # noqa: F401 - fixture
from tests.ui.conftest import WAIT_MS

pytestmark = pytest.mark.usefixtures("questions")  # no test may block on a message box


@pytest.fixture
def dialog(qtbot, shell, team) -> AssessmentDialog:
    d = AssessmentDialog(shell, team.overdue, "ASHWORTH, Doreen")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.state is not None, timeout=WAIT_MS)
    return d


def _start(qtbot, d: AssessmentDialog) -> None:
    assert d.heading.text() == "No needs assessment yet"
    assert not d.save_button.isEnabled()
    d.start_button.click()
    qtbot.waitUntil(lambda: d.current is not None, timeout=WAIT_MS)
    assert d.heading.text().startswith("Version 1 — draft")


def test_completing_with_an_unrated_domain_is_refused_inline(qtbot, ctx, team, dialog) -> None:
    _start(qtbot, dialog)
    for domain in NEED_DOMAINS[:-1]:
        dialog.set_level(domain, "low")
    dialog.set_level("housing", "high")
    dialog.notes["housing"].setText("Stairs to the flat; no lift")
    dialog.what_matters.setPlainText("Staying at home with my cat")
    dialog.review_date.setText("01/03/2027")
    dialog.complete_button.click()
    qtbot.waitUntil(lambda: dialog.domain_error.text() != "", timeout=WAIT_MS)
    assert "not yet rated: Safeguarding" in dialog.domain_error.text()
    assert "border" in dialog.levels["safeguarding"].styleSheet()
    assert dialog.levels["housing"].styleSheet() == ""
    dialog.shell.runner.wait()  # its reads share the in-memory database's connection
    with ctx.db.read() as s:
        draft = assessments.list_assessments(s, patient_id=team.overdue)[0]
    assert draft.status == "draft"  # the form was saved before completing was refused
    assert draft.unrated_domains == ("safeguarding",)
    assert draft.what_matters == "Staying at home with my cat"
    assert [d.notes for d in draft.domains if d.domain == "housing"] == [
        "Stairs to the flat; no lift"
    ]


def test_complete_with_every_domain_rated_sets_the_review_task(qtbot, ctx, clock, team, dialog):
    _start(qtbot, dialog)
    for domain in NEED_DOMAINS:
        dialog.set_level(domain, "none")
    row = dialog.actions_model.add_row()
    model = dialog.actions_model
    assert model.setData(model.index(row, 0), "Blue badge application")
    assert model.setData(model.index(row, 1), "Care coordinator")
    assert not model.setData(model.index(row, 2), "31/02/2027")  # refused, explained
    assert "February 2027 has 28 days" in dialog.action_error.text()
    assert model.setData(model.index(row, 2), "15/01/2027")
    dialog.review_date.setText("01/03/2027")
    with qtbot.waitSignal(dialog.completed, timeout=WAIT_MS):
        dialog.complete_button.click()
    qtbot.waitUntil(lambda: dialog.current.status == "completed", timeout=WAIT_MS)
    assert dialog.heading.text().startswith("Version 1 — completed")
    assert not dialog.save_button.isEnabled()
    assert dialog.start_button.isEnabled()
    dialog.shell.runner.wait()
    with ctx.db.read() as s:
        done = assessments.latest_completed(s, patient_id=team.overdue)
        reviews = tasks.list_tasks(
            s, now=clock.now(), kinds=("assessment_review",), patient_id=team.overdue
        )
    assert done is not None
    assert [(a.description, a.owner, str(a.due_date)) for a in done.actions] == [
        ("Blue badge application", "Care coordinator", "2027-01-15")
    ]
    assert len(reviews) == 1 and reviews[0].source_id == done.id


def test_a_review_date_in_the_past_is_refused(qtbot, dialog) -> None:
    _start(qtbot, dialog)
    for domain in NEED_DOMAINS:
        dialog.set_level(domain, "moderate")
    dialog.review_date.setText("01/01/2026")
    dialog.complete_button.click()
    qtbot.waitUntil(lambda: dialog.review_error.text() != "", timeout=WAIT_MS)
    assert "is in the past" in dialog.review_error.text()
    assert dialog.current.status == "draft"


def test_a_new_version_starts_from_the_completed_one(qtbot, ctx, clock, team, shell) -> None:
    with ctx.db.write() as s:
        a = assessments.start_assessment(s, patient_id=team.amber, now=clock.now())
        assessments.save_assessment(
            s,
            assessment_id=a.id,
            now=clock.now(),
            domains=[assessments.DomainRating(d, "low") for d in NEED_DOMAINS],
            goals="Walk to the shop",
            review_date=clock.now().date(),
        )
        assessments.complete_assessment(s, assessment_id=a.id, now=clock.now())
    d = AssessmentDialog(shell, team.amber, "PATEL, Harjit")
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: d.state is not None, timeout=WAIT_MS)
    assert d.heading.text().startswith("Version 1 — completed")
    assert d.goals.isReadOnly()
    d.start_button.click()
    qtbot.waitUntil(lambda: d.current is not None and d.current.version == 2, timeout=WAIT_MS)
    assert d.goals.toPlainText() == "Walk to the shop"
    assert d.levels["housing"].currentData() == "low"
    assert not d.goals.isReadOnly()
