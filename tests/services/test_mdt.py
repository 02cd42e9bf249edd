"""MDT meetings: attendees, the proposed agenda with its reasons, SBAR discussion, actions that
become tasks and carry forward until done."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.validation import is_valid_nhs_number
from app.models import Admission, Referral, Task
from app.services import mdt
from app.services.caseload import (
    add_coordinator,
    close_episode,
    flag_for_mdt,
    patient_view,
    record_death,
)
from app.services.reference import seeded_service_id
from app.services.tasks import complete_task, list_tasks
from tests.services.test_caseload import NOW, logged, ops, refused, register

PRACTICE = "wl-weir-measham"  # sub-locality (PCN) Weir
OTHER_WEIR = "wl-weir-ibstock"
ELSEWHERE = "wl-ainslie-mahavir"  # sub-locality Ainslie
TODAY = NOW.date()
TEAM = [
    mdt.AttendeeInput("Care Coordinator", "Zoe Ward"),
    mdt.AttendeeInput("GP", "Dr Mehta"),
    mdt.AttendeeInput("Community Matron", "Sue Hall"),
]
NUMBERS = iter(f"99900{n:04d}{c}" for n in range(1, 99) for c in "0123456789")


def nhs() -> str:
    return next(n for n in NUMBERS if is_valid_nhs_number(n))


def person(s: Session, family: str, practice: str = PRACTICE, **kw: object) -> str:
    return register(s, nhs=nhs(), family_name=family, practice_code=practice, **kw).id


def meeting(s: Session, day: date = TODAY, **kw: object) -> mdt.MeetingView:
    values: dict[str, object] = {"level": "practice", "practice_code": PRACTICE}
    values.update(kw)
    return mdt.create_meeting(s, meeting_date=day, now=NOW, **values)  # type: ignore[arg-type]


def test_create_meeting_with_attendees_by_role(ctx: AppContext) -> None:
    before = ops(ctx)
    with ctx.db.write() as s:
        m = meeting(s, venue="Measham surgery", attendees=TEAM)
        pcn = meeting(s, level="pcn", pcn_name=" Weir ", practice_code=None)
    assert ops(ctx) == before + 2 + len(TEAM)
    assert [(a.role, a.name) for a in m.attendees] == [
        ("GP", "Dr Mehta"),
        ("Community Matron", "Sue Hall"),
        ("Care Coordinator", "Zoe Ward"),
    ]
    assert (m.level, m.practice_name, m.status, m.venue) == (
        "practice",
        "Measham",
        "planned",
        "Measham surgery",
    )
    assert (pcn.pcn_name, pcn.practice_code) == ("Weir", None)
    refused(
        ctx,
        ValidationError,
        "needs a known GP practice",
        lambda s: meeting(s, practice_code="nowhere"),
    )
    refused(
        ctx,
        ValidationError,
        "needs the PCN's name",
        lambda s: meeting(s, level="pcn", practice_code=None),
    )
    refused(ctx, ValidationError, "MDT level 'county'", lambda s: meeting(s, level="county"))
    refused(
        ctx,
        ValidationError,
        "Role 'Butler' is not one of",
        lambda s: meeting(s, attendees=[mdt.AttendeeInput("Butler", "Jeeves")]),
    )
    with ctx.db.write() as s:
        grown = mdt.add_attendee(s, meeting_id=m.id, role="Adult Social Care", name="Kim", now=NOW)
        gp = next(a for a in grown.attendees if a.role == "GP")
        shrunk = mdt.remove_attendee(s, attendee_id=gp.id, now=NOW)
    assert len(grown.attendees) == 4 and len(shrunk.attendees) == 3


def test_the_agenda_is_proposed_from_flagged_patients_with_reasons(ctx: AppContext) -> None:
    service = seeded_service_id("first-contact-plus")
    with ctx.db.write() as s:
        home = person(s, "Home", risk_score=10.0)  # also top of the risk list
        s.add(
            Admission(
                patient_id=home,
                admitted_at=NOW - timedelta(days=6),
                discharged_at=NOW - timedelta(days=3),
                created_at=NOW,
            )
        )
        s.add(
            Admission(
                patient_id=person(s, "Longago"),
                admitted_at=NOW - timedelta(days=30),
                discharged_at=NOW - timedelta(days=20),
                created_at=NOW,
            )
        )
        late = person(s, "Late", risk_score=2.0)
        s.add(
            Task(
                kind="post_discharge_call",
                title="Call",
                patient_id=late,
                status="open",
                due_at=NOW - timedelta(hours=2),
                created_at=NOW,
            )
        )
        for n in range(8):
            person(s, f"Average{n}", risk_score=float(n))
        closed = person(s, "Closed", risk_score=99.0)  # not on the open caseload
        close_episode(s, episode_id=_episode(s, closed), reason="Moved", now=NOW)
        silent, refused_, old = person(s, "Silent"), person(s, "Refused"), person(s, "Old")
        for pid, status, days in (
            (silent, "no_response", 60),
            (refused_, "declined", 5),
            (old, "declined", 40),
        ):
            s.add(
                Referral(
                    patient_id=pid,
                    service_id=service,
                    status=status,
                    reason="r",
                    consent_given=True,
                    created_at=NOW - timedelta(days=days),
                    status_changed_at=NOW - timedelta(days=days),
                )
            )
        flagged = person(s, "Flagged")
        flag_for_mdt(s, patient_id=flagged, now=NOW)
        flag_for_mdt(s, patient_id=person(s, "Away", practice=ELSEWHERE), now=NOW)
        dead = person(s, "Dead")
        flag_for_mdt(s, patient_id=dead, now=NOW)
        record_death(s, patient_id=dead, date_of_death=TODAY, now=NOW)
        m = meeting(s)
        mdt.add_item(s, meeting_id=m.id, patient_id=flagged, now=NOW)
        proposed = mdt.propose_agenda(s, meeting_id=m.id, now=NOW)
    assert [(c.patient_name, c.reasons, c.on_agenda) for c in proposed] == [
        (
            "HOME, Grace",
            ("Discharged from hospital on 20/11/2026", "High risk score 10 (top 10%)"),
            False,
        ),
        ("LATE, Grace", ("48-hour post-discharge call overdue",), False),
        ("FLAGGED, Grace", ("Flagged for MDT discussion",), True),
        ("REFUSED, Grace", ("Referral to First Contact Plus declined",), False),
        ("SILENT, Grace", ("Referral to First Contact Plus not answered",), False),
    ]


def _episode(s: Session, pid: str) -> str:
    episode = patient_view(s, patient_id=pid, now=NOW).open_episode
    assert episode is not None
    return episode.id


def test_a_pcn_meeting_covers_the_practices_of_that_pcn(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        for family, practice in (
            ("Measham", PRACTICE),
            ("Ibstock", OTHER_WEIR),
            ("Mahavir", ELSEWHERE),
        ):
            flag_for_mdt(s, patient_id=person(s, family, practice=practice), now=NOW)
        weir = meeting(s, level="pcn", pcn_name="weir", practice_code=None)
        named = meeting(s, level="pcn", pcn_name="Not a sub-locality", practice_code=None)
        covered = {c.patient_name for c in mdt.propose_agenda(s, meeting_id=weir.id, now=NOW)}
        everyone = mdt.propose_agenda(s, meeting_id=named.id, now=NOW)
    assert covered == {"MEASHAM, Grace", "IBSTOCK, Grace"}
    assert len(everyone) == 3


def test_agenda_items_are_added_reordered_and_removed(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        a, b, c = person(s, "Able"), person(s, "Baker"), person(s, "Cole")
        m = meeting(s)
        first = mdt.add_item(s, meeting_id=m.id, patient_id=a, now=NOW, reason="Falls")
        second = mdt.add_item(s, meeting_id=m.id, patient_id=b, now=NOW)
        third = mdt.add_item(s, meeting_id=m.id, patient_id=c, now=NOW)
    assert (first.position, second.position, third.position) == (1, 2, 3)
    assert first.reason == "Falls" and first.nhs_number.startswith("999")
    refused(
        ctx,
        ConflictError,
        "already on the agenda",
        lambda s: mdt.add_item(s, meeting_id=m.id, patient_id=a, now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "every agenda item of this meeting exactly once",
        lambda s: mdt.reorder_items(s, meeting_id=m.id, item_ids=[third.id], now=NOW),
    )
    with ctx.db.write() as s:
        order = mdt.reorder_items(
            s, meeting_id=m.id, item_ids=[third.id, first.id, second.id], now=NOW
        )
        after = mdt.remove_item(s, item_id=first.id, now=NOW)
    assert [(i.patient_name, i.position) for i in order] == [
        ("COLE, Grace", 1),
        ("ABLE, Grace", 2),
        ("BAKER, Grace", 3),
    ]
    assert [(i.patient_name, i.position) for i in after] == [
        ("COLE, Grace", 1),
        ("BAKER, Grace", 2),
    ]
    with ctx.db.write() as s:
        mdt.add_action(
            s,
            meeting_id=m.id,
            item_id=third.id,
            description="x",
            owner="GP",
            due_date=TODAY,
            now=NOW,
        )
    refused(
        ctx, ConflictError, "has actions", lambda s: mdt.remove_item(s, item_id=third.id, now=NOW)
    )
    with ctx.db.write() as s:
        mdt.mark_held(s, meeting_id=m.id, now=NOW, notes="Quorate")
    refused(
        ctx,
        ConflictError,
        "has been held; its agenda is final",
        lambda s: mdt.add_item(s, meeting_id=m.id, patient_id=a, now=NOW),
    )


def test_discussion_is_recorded_as_sbar(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        m = meeting(s)
        item = mdt.add_item(s, meeting_id=m.id, patient_id=person(s, "Able"), now=NOW)
    assert not item.discussed
    before = ops(ctx)
    with ctx.db.write() as s:
        done = mdt.record_discussion(
            s,
            item_id=item.id,
            now=NOW,
            situation="Two falls this month",
            background="Lives alone; COPD",
            assessment="Deconditioned after admission",
            recommendation="Therapy review; befriending",
        )
    assert ops(ctx) == before + 1
    assert done.discussed and done.recommendation == "Therapy review; befriending"
    refused(
        ctx,
        NotFoundError,
        "No agenda item",
        lambda s: mdt.record_discussion(s, item_id="x", now=NOW),
    )


def test_actions_become_tasks_and_closing_either_closes_both(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        pid = person(s, "Able", coordinator_id=zoe.id)
        m = meeting(s)
        item = mdt.add_item(s, meeting_id=m.id, patient_id=pid, now=NOW)
        action = mdt.add_action(
            s,
            meeting_id=m.id,
            item_id=item.id,
            description="Book OT visit",
            owner="Therapy Lead",
            due_date=date(2026, 11, 30),
            now=NOW,
        )
        other = mdt.add_action(
            s,
            meeting_id=m.id,
            description="Review ward list",
            owner="GP",
            due_date=date(2026, 12, 1),
            now=NOW,
        )
        tasks = {t.source_id: t for t in list_tasks(s, now=NOW, kinds=["mdt_action"])}
    assert (action.patient_id, action.owner, action.status) == (pid, "Therapy Lead", "open")
    task = tasks[action.id]
    assert task.title == "MDT action (Therapy Lead): Book OT visit"
    assert task.due_at == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert task.assigned_to_id == zoe.id and task.patient_id == pid
    assert tasks[other.id].patient_id is None
    refused(
        ctx,
        ValidationError,
        "Action owner is required",
        lambda s: mdt.add_action(
            s, meeting_id=m.id, description="x", owner=" ", due_date=TODAY, now=NOW
        ),
    )
    with ctx.db.write() as s:
        done = mdt.complete_action(s, action_id=action.id, now=NOW)
        complete_task(s, task_id=tasks[other.id].id, now=NOW)
        view = mdt.get_meeting(s, meeting_id=m.id)
        statuses = {t.source_id: t.status for t in list_tasks(s, now=NOW, include_done=True)}
    assert done.status == "done" and done.completed_at == NOW
    assert {a.id: a.status for a in view.actions} == {action.id: "done", other.id: "done"}
    assert statuses == {action.id: "done", other.id: "done"}
    refused(
        ctx,
        ConflictError,
        "already done",
        lambda s: mdt.drop_action(s, action_id=action.id, now=NOW),
    )


def test_open_actions_carry_forward_to_later_meetings(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        first = meeting(s, day=date(2026, 11, 2))
        kept = mdt.add_action(
            s,
            meeting_id=first.id,
            description="Chase ASC",
            owner="ASC",
            due_date=date(2026, 11, 9),
            now=NOW,
        )
        done = mdt.add_action(
            s,
            meeting_id=first.id,
            description="Done",
            owner="GP",
            due_date=date(2026, 11, 9),
            now=NOW,
        )
        dropped = mdt.add_action(
            s,
            meeting_id=first.id,
            description="Dropped",
            owner="GP",
            due_date=date(2026, 11, 9),
            now=NOW,
        )
        mdt.complete_action(s, action_id=done.id, now=NOW)
        mdt.drop_action(s, action_id=dropped.id, now=NOW)
        second = meeting(s, day=date(2026, 11, 16))
        earlier = meeting(s, day=date(2026, 10, 19))
        carried = mdt.open_actions(s, before_meeting_id=second.id)
        view = mdt.get_meeting(s, meeting_id=second.id)
        nothing = mdt.open_actions(s, before_meeting_id=earlier.id)
        by_task = {t.source_id: t.status for t in list_tasks(s, now=NOW, include_done=True)}
        listed = [x.meeting_date for x in mdt.list_meetings(s, from_date=date(2026, 11, 1))]
    assert [a.id for a in carried] == [kept.id] == [a.id for a in view.carried_forward]
    assert carried[0].meeting_date == date(2026, 11, 2)
    assert nothing == []
    assert by_task[dropped.id] == "cancelled"
    assert listed == [date(2026, 11, 16), date(2026, 11, 2)]


def test_a_meeting_is_held_once_and_not_before_its_date(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        future = meeting(s, day=date(2026, 11, 30))
        today = meeting(s)
    refused(
        ctx,
        ConflictError,
        "cannot be held before its date",
        lambda s: mdt.mark_held(s, meeting_id=future.id, now=NOW),
    )
    with ctx.db.write() as s:
        held = mdt.mark_held(s, meeting_id=today.id, now=NOW, notes="8 patients discussed")
    assert (held.status, held.notes) == ("held", "8 patients discussed")
    refused(
        ctx,
        ConflictError,
        "has been held",
        lambda s: mdt.mark_held(s, meeting_id=today.id, now=NOW),
    )


@pytest.mark.parametrize("missing", ["meeting", "action"])
def test_unknown_records_are_named(ctx: AppContext, missing: str) -> None:
    if missing == "meeting":
        refused(
            ctx,
            NotFoundError,
            "No MDT meeting",
            lambda s: mdt.propose_agenda(s, meeting_id="x", now=NOW),
        )
    else:
        refused(
            ctx,
            NotFoundError,
            "No MDT action",
            lambda s: mdt.complete_action(s, action_id="x", now=NOW),
        )


def test_every_mdt_write_is_in_the_change_log(ctx: AppContext) -> None:
    pid = logged(ctx, lambda s: person(s, "Able"))
    m = logged(ctx, lambda s: meeting(s))
    m = logged(ctx, lambda s: mdt.add_attendee(s, meeting_id=m.id, role="GP", name="Dr A", now=NOW))
    logged(ctx, lambda s: mdt.remove_attendee(s, attendee_id=m.attendees[0].id, now=NOW))
    item = logged(ctx, lambda s: mdt.add_item(s, meeting_id=m.id, patient_id=pid, now=NOW))
    other = logged(
        ctx, lambda s: mdt.add_item(s, meeting_id=m.id, patient_id=person(s, "B"), now=NOW)
    )
    logged(
        ctx, lambda s: mdt.reorder_items(s, meeting_id=m.id, item_ids=[other.id, item.id], now=NOW)
    )
    logged(ctx, lambda s: mdt.remove_item(s, item_id=other.id, now=NOW))
    logged(ctx, lambda s: mdt.record_discussion(s, item_id=item.id, now=NOW, situation="S"))
    one = logged(
        ctx,
        lambda s: mdt.add_action(
            s, meeting_id=m.id, description="a", owner="GP", due_date=TODAY, now=NOW
        ),
    )
    two = logged(
        ctx,
        lambda s: mdt.add_action(
            s, meeting_id=m.id, description="b", owner="GP", due_date=TODAY, now=NOW
        ),
    )
    logged(ctx, lambda s: mdt.complete_action(s, action_id=one.id, now=NOW))
    logged(ctx, lambda s: mdt.drop_action(s, action_id=two.id, now=NOW))
    logged(ctx, lambda s: mdt.mark_held(s, meeting_id=m.id, now=NOW))
