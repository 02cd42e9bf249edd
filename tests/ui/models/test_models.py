"""Every item model passes Qt's model tester, empty and filled with real service rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt

from app.models import Carer, CarerLink
from app.services import followup, referrals, tasks
from app.services.caseload_view import CaseloadPage, CaseloadQuery, patient_record, search_caseload
from app.services.reference import seeded_service_id
from app.ui.models.base import ROW_ROLE
from app.ui.models.caseload import CaseloadTableModel
from app.ui.models.patient import (
    CarerModel,
    DischargeModel,
    PatientTaskModel,
    ReferralModel,
    TimelineModel,
)
from app.ui.models.today import ClockTableModel, DueTaskTableModel, WaitingReferralModel
from tests.ui.factories import add_task


@pytest.fixture
def rows(ctx, clock, team):
    now = clock.now()
    with ctx.db.write() as s:
        add_task(s, None, now - timedelta(hours=1), "Team task", now=now)
        referrals.make_referral(
            s, patient_id=team.green, service_id=seeded_service_id("first-contact-plus"),
            reason="Benefits", consent_given=True, now=now - timedelta(days=2), send=True,
        )  # fmt: skip
        carer = Carer(family_name="Okafor", given_name="Ada", young_carer=False,
                      assessment_status="offered")  # fmt: skip
        s.add(carer)
        s.flush()
        s.add(CarerLink(carer_id=carer.id, patient_id=team.green, relationship="daughter",
                        lives_with=True, main_carer=True, active=True))  # fmt: skip
    with ctx.db.read() as s:
        record = patient_record(s, patient_id=team.green, now=now)
        return {
            "clocks": tuple(followup.open_clocks(s, now=now)),
            "tasks": tuple(tasks.list_tasks(s, now=now, include_done=True)),
            "waiting": tuple(referrals.referrals_awaiting_reply(s, now=now)),
            "discharges": tuple(followup.discharges_for_patient(s, patient_id=team.green, now=now)),
            "record": record,
            "page": search_caseload(s, query=CaseloadQuery(), offset=0, limit=3, now=now),
            "now": now,
        }


@pytest.mark.parametrize(
    ("model_class", "key"),
    [
        (ClockTableModel, "clocks"),
        (DueTaskTableModel, "tasks"),
        (WaitingReferralModel, "waiting"),
        (DischargeModel, "discharges"),
        (PatientTaskModel, "tasks"),
    ],
)
def test_timed_models(qtmodeltester, rows, model_class, key) -> None:
    model = model_class()
    qtmodeltester.check(model)
    assert rows[key], key
    if hasattr(model, "set_rows_at"):
        model.set_rows_at(rows[key], rows["now"])
    else:
        model.set_rows(rows[key])
    qtmodeltester.check(model)
    assert model.rowCount() == len(rows[key])
    assert model.index(0, 0).data(ROW_ROLE) is rows[key][0]
    assert model.headerData(0, Qt.Orientation.Horizontal)


@pytest.mark.parametrize(
    ("model_class", "attr"),
    [(TimelineModel, "timeline"), (CarerModel, "carers"), (ReferralModel, "referrals")],
)
def test_record_models(qtmodeltester, rows, model_class, attr) -> None:
    model = model_class()
    qtmodeltester.check(model)
    model.set_rows(getattr(rows["record"], attr))
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_caseload_model_pages(qtmodeltester, rows) -> None:
    qtmodeltester.check(CaseloadTableModel())
    model = CaseloadTableModel()
    page: CaseloadPage = rows["page"]
    model.set_now(rows["now"])
    model.reset_page(page)
    assert (model.rowCount(), model.total) == (3, 4)
    assert model.canFetchMore(QModelIndex())
    wanted: list[int] = []
    model.more_wanted.connect(wanted.append)
    model.fetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # already waiting: asked once
    assert wanted == [3]
    qtmodeltester.check(model)
    stale = CaseloadPage(rows=page.rows[:1], total=4, offset=1)
    model.append_page(stale)  # does not continue where the rows end: ignored
    assert model.rowCount() == 3
    model.append_page(CaseloadPage(rows=page.rows[:1], total=4, offset=3))
    assert model.rowCount() == 4 and not model.canFetchMore(QModelIndex())
    qtmodeltester.check(model)


def test_caseload_model_sort_asks_for_a_new_query(qtbot) -> None:
    model = CaseloadTableModel()
    with qtbot.waitSignal(model.sort_changed) as blocker:
        model.sort(5, Qt.SortOrder.DescendingOrder)
    assert blocker.args == ["risk", True]
    with qtbot.assertNotEmitted(model.sort_changed):
        model.sort(5, Qt.SortOrder.DescendingOrder)
