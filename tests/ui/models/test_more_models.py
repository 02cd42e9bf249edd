"""The item models of the MDT, Reports, Sync and Settings screens and of the dialogs pass Qt's
model tester, empty and filled with real service rows; the editable and checkable ones keep
what is typed and refuse what is not valid."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from app.services import directory, mdt, referrals, tasks
from app.services.caseload import CoordinatorView
from app.services.desktop import RecordLabel
from app.services.reference import seeded_service_id
from app.services.sync import ConflictHead, ConflictView, DeviceView
from app.ui.models.assessment import ActionRow, AgreedActionModel
from app.ui.models.base import ROW_ROLE
from app.ui.models.directory import ChaseTaskModel, ReferralHistoryModel, ServiceModel
from app.ui.models.mdt import AgendaModel, CandidateModel, MdtActionModel, MeetingListModel
from app.ui.models.reports import CoordinatorModel, CountModel, CountRow, coordinator_rows
from app.ui.models.settings import BackupModel, BackupRow, TeamModel
from app.ui.models.sync import (
    ConflictHeadModel,
    ConflictModel,
    ConflictRow,
    DeviceModel,
    ImportResultModel,
    ImportRow,
)
from tests.ui.factories import PRACTICE

WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def rows(ctx, clock, team):
    now = clock.now()
    with ctx.db.write() as s:
        m = mdt.create_meeting(
            s, meeting_date=date(2026, 11, 30), level="practice", practice_code=PRACTICE,
            now=now, attendees=[mdt.AttendeeInput("GP", "Dr Ellery")],
        )  # fmt: skip
        item = mdt.add_item(s, meeting_id=m.id, patient_id=team.overdue, now=now, reason="Why")
        mdt.add_action(
            s, meeting_id=m.id, description="Call GP", owner="Dr Ellery",
            due_date=date(2026, 12, 7), item_id=item.id, now=now,
        )  # fmt: skip
        r = referrals.make_referral(
            s, patient_id=team.amber, service_id=seeded_service_id("first-contact-plus"),
            reason="Benefits", consent_given=True, now=now - timedelta(days=10), send=True,
        )  # fmt: skip
        referrals.raise_chase_tasks(s, now=now)
    with ctx.db.read() as s:
        meeting = mdt.get_meeting(s, meeting_id=m.id)
        return {
            "meetings": (meeting,),
            "agenda": meeting.items,
            "actions": meeting.actions,
            "candidates": tuple(mdt.propose_agenda(s, meeting_id=m.id, now=now)),
            "services": tuple(directory.list_services(s, active_only=False)),
            "history": referrals.get_referral(s, referral_id=r.id, now=now).history,
            "chases": tuple(tasks.list_tasks(s, now=now, kinds=("referral_chase",))),
        }


def _filled(qtmodeltester, model, data) -> None:
    qtmodeltester.check(model)
    assert data, "no rows to test with"
    model.set_rows(data)
    qtmodeltester.check(model)
    assert model.rowCount() == len(data)
    assert model.index(0, 0).data(ROW_ROLE) is data[0]
    assert all(model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount()))


@pytest.mark.parametrize(
    ("model_class", "key"),
    [
        (MeetingListModel, "meetings"),
        (AgendaModel, "agenda"),
        (MdtActionModel, "actions"),
        (CandidateModel, "candidates"),
        (ServiceModel, "services"),
        (ReferralHistoryModel, "history"),
        (ChaseTaskModel, "chases"),
    ],
)
def test_service_row_models(qtmodeltester, rows, model_class, key) -> None:
    _filled(qtmodeltester, model_class(), rows[key])


def test_candidates_are_ticked_unless_already_on_the_agenda(qtmodeltester, rows) -> None:
    model = CandidateModel()
    model.set_rows(rows["candidates"])
    on = [c.on_agenda for c in rows["candidates"]]
    assert on.count(True) == 1  # Doreen is on the agenda already
    fixed = on.index(True)
    assert not model.flags(model.index(fixed, 0)) & Qt.ItemFlag.ItemIsEnabled
    assert not model.setData(model.index(fixed, 0), Qt.CheckState.Unchecked, Qt.CheckStateRole)
    free = on.index(False)
    assert model.setData(model.index(free, 0), Qt.CheckState.Unchecked, Qt.CheckStateRole)
    assert model.index(free, 0).data(Qt.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.chosen() == tuple(
        c for i, c in enumerate(rows["candidates"]) if not on[i] and i != free
    )
    model.set_all(True)
    assert len(model.chosen()) == on.count(False)
    qtmodeltester.check(model)


def test_agreed_actions_are_edited_in_place(qtmodeltester) -> None:
    model = AgreedActionModel()
    qtmodeltester.check(model)
    model.set_rows((ActionRow("Blue badge", "CC", date(2027, 1, 5), False, "a1"),))
    row = model.add_row()
    assert model.setData(model.index(row, 0), "Pendant alarm")
    assert not model.setData(model.index(row, 2), "yesterday")
    assert "yesterday" in model.last_error
    assert model.setData(model.index(row, 3), Qt.CheckState.Checked, Qt.CheckStateRole)
    qtmodeltester.check(model)
    assert [(i.description, i.done, i.id) for i in model.inputs()] == [
        ("Blue badge", False, "a1"),
        ("Pendant alarm", True, None),
    ]
    model.editable = False
    assert not model.setData(model.index(0, 0), "changed")
    model.remove_row(0)
    assert model.rowCount() == 1


def test_report_models(qtmodeltester) -> None:
    counts = CountModel("Service", "Referrals")
    _filled(qtmodeltester, counts, (CountRow("Befriending", 3), CountRow("Therapy", 1200)))
    assert counts.index(1, 1).data() == "1,200"
    by = {"Ben": {"Enhanced": 2}, "Amira": {"Essential": 1, "Enhanced": 4}}
    rows = coordinator_rows(by)
    assert [(r.name, r.by_level, r.total) for r in rows] == [
        ("Amira", (1, 0, 4), 5),
        ("Ben", (0, 0, 2), 2),
        ("Team", (1, 0, 6), 7),
    ]
    _filled(qtmodeltester, CoordinatorModel(), rows)
    assert coordinator_rows({}) == ()


def test_sync_and_settings_models(qtmodeltester) -> None:
    head = ConflictHead("d1:4", "d1", "Ben's laptop", WHEN, False, "0116 496 0000", True)
    gone = ConflictHead("d2:9", "d2", "Amira's laptop", WHEN, True, None, False)
    view = ConflictView("patients", "p1", "phone", (head, gone), "0116 496 0000", WHEN, True)
    _filled(
        qtmodeltester,
        ConflictModel(),
        (ConflictRow(view, RecordLabel("patients", "p1", "Patient", "SMITH, Ann")),),
    )
    heads = ConflictHeadModel()
    _filled(qtmodeltester, heads, view.heads)
    assert heads.index(1, 0).data() == "Deleted the record"
    row = ImportRow("b.ccb", False, "tampered", "b.ccb was changed.", "/x/b.ccb", None,
                    0, 0, 0, 0, 0, 0, 0, False, ())  # fmt: skip
    results = ImportResultModel()
    _filled(qtmodeltester, results, (row,))
    assert results.index(0, 6).data() == "Refused (tampered): b.ccb was changed."
    device = DeviceView("d1", "Ben's laptop", "ab12", WHEN, True, WHEN, "lost", False)
    _filled(qtmodeltester, DeviceModel(), (device,))
    _filled(
        qtmodeltester,
        BackupModel(),
        (BackupRow("/b/carecoord-x-daily.db", WHEN, "daily", 2_097_152),),
    )

    _filled(
        qtmodeltester, TeamModel(), (CoordinatorView("c1", "Amira", "CC", None, True, True, 3),)
    )
