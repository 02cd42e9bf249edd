"""Referrals: consent is required, a second open referral to the same service is warned about
before sending, statuses move only to their legal next states, and chase-ups are shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services import referrals
from app.services.reference import seeded_service_id
from app.ui.dialogs.referral import ReferralDialog
from app.ui.dialogs.referral_status import ReferralStatusDialog
from tests.ui.conftest import WAIT_MS

FCP = "first-contact-plus"


@pytest.fixture
def dialog(qtbot, shell, team) -> ReferralDialog:
    d = ReferralDialog(shell, team.overdue, "ASHWORTH, Doreen")
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: d.choices is not None, timeout=WAIT_MS)
    return d


def _refs(ctx, clock, patient_id, runner):
    runner.wait()  # the dialog's reads share the in-memory database's connection
    with ctx.db.read() as s:
        return referrals.referrals_for_patient(s, patient_id=patient_id, now=clock.now())


def test_services_are_those_of_the_patients_locality(dialog) -> None:
    here = "North West Leicestershire"
    assert dialog.choices.locality == here
    assert {s.locality for s in dialog.services.rows()} <= {None, here}
    dialog.local_only.setChecked(False)
    assert {s.locality for s in dialog.services.rows()} - {None, here}
    dialog.kind.setCurrentIndex(dialog.kind.findData("BEFRIENDING"))
    assert {s.kind for s in dialog.services.rows()} == {"BEFRIENDING"}


def test_a_referral_without_consent_is_refused(qtbot, ctx, clock, team, dialog) -> None:
    assert dialog.select_service(seeded_service_id(FCP))
    dialog.reason.setPlainText("Benefits advice")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.consent_error.text() != "", timeout=WAIT_MS)
    assert "consent must be recorded" in dialog.consent_error.text()
    assert _refs(ctx, clock, team.overdue, dialog.shell.runner) == []


def test_a_referral_needs_a_service_and_a_reason(qtbot, ctx, clock, team, dialog) -> None:
    dialog.consent.setChecked(True)
    dialog.save_button.click()
    assert dialog.service_error.text() == "Choose the service to refer to."
    dialog.select_service(seeded_service_id(FCP))
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.reason_error.text() != "", timeout=WAIT_MS)
    assert "Reason for the referral is required." in dialog.reason_error.text()


def test_refer_with_consent_sends_it(qtbot, ctx, clock, team, dialog) -> None:
    dialog.select_service(seeded_service_id(FCP))
    dialog.reason.setPlainText("Benefits advice")
    dialog.consent.setChecked(True)
    with qtbot.waitSignal(dialog.referral_made, timeout=WAIT_MS) as made:
        dialog.save_button.click()
    assert made.args[0].status == "sent"
    made_now = _refs(ctx, clock, team.overdue, dialog.shell.runner)
    assert [r.service_name for r in made_now] == ["First Contact Plus"]


def test_a_duplicate_is_warned_about_before_sending(qtbot, ctx, clock, team, shell) -> None:
    with ctx.db.write() as s:
        referrals.make_referral(
            s, patient_id=team.overdue, service_id=seeded_service_id(FCP), reason="Housing",
            consent_given=True, now=clock.now() - timedelta(days=3), send=True,
        )  # fmt: skip
    d = ReferralDialog(shell, team.overdue, "ASHWORTH, Doreen")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.choices is not None, timeout=WAIT_MS)
    d.select_service(seeded_service_id(FCP))
    assert d.duplicate.isVisible()
    assert "already has an open referral to this service (Sent, made 20/11/2026)" in (
        d.duplicate.text()
    )
    d.reason.setPlainText("Benefits advice")
    d.consent.setChecked(True)
    d.save_button.click()  # first press: the warning stands, nothing is sent
    assert d.save_button.text() == "Refer anyway"
    assert len(_refs(ctx, clock, team.overdue, shell.runner)) == 1
    with qtbot.waitSignal(d.referral_made, timeout=WAIT_MS) as made:
        d.save_button.click()
    assert made.args[0].warnings  # the service warns as well
    assert len(_refs(ctx, clock, team.overdue, shell.runner)) == 2


def test_status_moves_offer_only_legal_next_states_and_show_chases(
    qtbot, ctx, clock, team, shell
) -> None:
    with ctx.db.write() as s:
        r = referrals.make_referral(
            s, patient_id=team.amber, service_id=seeded_service_id(FCP), reason="Benefits",
            consent_given=True, now=clock.now() - timedelta(days=10), send=True,
        )  # fmt: skip
        referrals.raise_chase_tasks(s, now=clock.now())
    d = ReferralStatusDialog(shell, r.id)
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: d.state is not None, timeout=WAIT_MS)
    assert d.offered_statuses() == (
        "acknowledged", "accepted", "declined", "no_response", "cancelled"
    )  # fmt: skip
    assert d.chases.rowCount() == 1
    assert d.chases.index(0, 1).data() == "Chase referral to First Contact Plus"
    assert "Waiting for a reply for 6 working day(s)." in d.details.text()
    d.save_button.click()
    assert "Choose the status" in d.general_error.text()
    d.choose("accepted")
    d.note.setText("Phoned: accepted, first visit next week")
    with qtbot.waitSignal(d.status_changed, timeout=WAIT_MS):
        d.save_button.click()
    assert d.offered_statuses() == ("completed", "cancelled")
    assert d.history.rowCount() == 3
    assert d.history.index(2, 3).data() == "Phoned: accepted, first visit next week"
    assert d.chases.index(0, 2).data() == "Done"  # answering closes the chase
    d.choose("completed")
    with qtbot.waitSignal(d.status_changed, timeout=WAIT_MS):
        d.save_button.click()
    assert d.offered_statuses() == ()
    assert not d.save_button.isEnabled()
