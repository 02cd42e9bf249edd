"""Carers: add a new carer, link one the team already knows to a second patient, and move the
carer's assessment only through its legal steps."""

from __future__ import annotations

import pytest

from app.services import carers
from app.ui.dialogs.carer import CarerDialog
from tests.ui.conftest import WAIT_MS


def _open(qtbot, shell, patient_id: str, carer_id: str | None = None) -> CarerDialog:
    d = CarerDialog(shell, patient_id, "A Patient", carer_id)
    qtbot.addWidget(d)
    return d


def test_add_a_new_carer(qtbot, ctx, team, shell) -> None:
    d = _open(qtbot, shell, team.overdue)
    d.save_button.click()
    qtbot.waitUntil(lambda: d.general_error.text() != "", timeout=WAIT_MS)
    assert "Family name is required." in d.general_error.text()
    d.family_name.setText("Ashworth")
    d.given_name.setText("Keith")
    d.phone.setText("0116 496 0123")
    d.relationship.setText("son")
    d.main_carer.setChecked(True)
    with qtbot.waitSignal(d.carer_saved, timeout=WAIT_MS) as saved:
        d.save_button.click()
    carer = saved.args[0]
    assert carer.display_name == "ASHWORTH, Keith"
    assert carer.patient_ids == (team.overdue,)
    shell.runner.wait()  # its reads share the in-memory database's connection
    with ctx.db.read() as s:
        links = carers.carers_for_patient(s, patient_id=team.overdue)
    assert [(link.relationship, link.main_carer) for link in links] == [("son", True)]


def test_link_a_carer_the_team_already_knows(qtbot, ctx, clock, team, shell) -> None:
    with ctx.db.write() as s:
        known = carers.add_carer(s, family_name="Okafor", given_name="Ada", now=clock.now())
        carers.link_carer(s, carer_id=known.id, patient_id=team.green, now=clock.now())
    d = _open(qtbot, shell, team.amber)
    d.search.setText("okaf")
    qtbot.waitUntil(lambda: d.found.count() == 1, timeout=WAIT_MS)
    assert "cares for 1 patient(s)" in d.found.item(0).text()
    d.found.setCurrentRow(0)
    assert not d.details_box.isEnabled()
    assert d.save_button.text() == "Link carer"
    with qtbot.waitSignal(d.carer_saved, timeout=WAIT_MS) as saved:
        d.save_button.click()
    assert set(saved.args[0].patient_ids) == {team.green, team.amber}


def test_assessment_steps_offer_only_legal_moves(qtbot, ctx, clock, team, shell) -> None:
    with ctx.db.write() as s:
        c = carers.add_carer(s, family_name="Patel", given_name="Meera", now=clock.now())
        carers.link_carer(s, carer_id=c.id, patient_id=team.amber, now=clock.now())
    d = _open(qtbot, shell, team.amber, c.id)
    qtbot.waitUntil(lambda: d.carer is not None, timeout=WAIT_MS)

    def enabled() -> set[str]:
        return {k for k, b in d.step_buttons.items() if b.isEnabled()}

    assert enabled() == {"offered"}
    assert "Not yet offered." in d.assessment_state.text()
    d.step_on.setText("30/11/2026")  # in the future: refused
    d.step_buttons["offered"].click()
    qtbot.waitUntil(lambda: d.step_error.text() != "", timeout=WAIT_MS)
    assert "is in the future" in d.step_error.text()
    d.step_on.setText("20/11/2026")
    with qtbot.waitSignal(d.carer_saved, timeout=WAIT_MS):
        d.step_buttons["offered"].click()
    assert enabled() == {"accepted", "declined"}
    with qtbot.waitSignal(d.carer_saved, timeout=WAIT_MS):
        d.step_buttons["accepted"].click()
    assert enabled() == {"declined", "completed"}
    assert "Offered 20/11/2026, accepted 20/11/2026" in d.assessment_state.text()


def test_edit_a_carers_details(qtbot, ctx, clock, team, shell) -> None:
    with ctx.db.write() as s:
        c = carers.add_carer(s, family_name="Brown", given_name="Iris", now=clock.now())
    d = _open(qtbot, shell, team.amber, c.id)
    qtbot.waitUntil(lambda: d.carer is not None, timeout=WAIT_MS)
    d.postcode.setText("le1 5ww")
    d.young_carer.setChecked(True)
    with qtbot.waitSignal(d.carer_saved, timeout=WAIT_MS) as saved:
        d.save_button.click()
    assert saved.args[0].postcode == "LE1 5WW" and saved.args[0].young_carer


@pytest.mark.parametrize("postcode", ["LE1", "12345"])
def test_a_bad_postcode_is_refused(qtbot, team, shell, postcode) -> None:
    d = _open(qtbot, shell, team.overdue)
    d.family_name.setText("Ashworth")
    d.given_name.setText("Keith")
    d.postcode.setText(postcode)
    d.save_button.click()
    qtbot.waitUntil(lambda: d.general_error.text() != "", timeout=WAIT_MS)
    assert "postcode" in d.general_error.text().lower()
