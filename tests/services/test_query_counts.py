"""Screens that list many records read them with a fixed number of queries, however many
records there are (no query per row), and what every screen reads at start-up comes from an
index rather than from a scan of the change log: what keeps the app quick on a large team."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.validation import random_test_nhs_number
from app.models import Op, Patient
from app.services import mdt
from app.services import referrals as rf
from app.services.caseload_view import (
    CaseloadPage,
    CaseloadQuery,
    search_caseload,
    status_summary,
)
from app.services.directory import get_service
from app.services.mdt_pack import build_mdt_pack
from app.services.reference import seeded_service_id
from app.services.tasks import TaskView, list_tasks
from tests.services.test_caseload import NOW, register
from tests.ui.factories import add_coordinator, add_patient, add_task

SERVICES = [seeded_service_id(c) for c in ("first-contact-plus", "lac-north-charnwood")]


@contextmanager
def counted(ctx: AppContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)


def _referrals_sent(ctx: AppContext, n: int, rng: random.Random) -> None:
    with ctx.db.write() as s:
        for i in range(n):
            pid = register(s, random_test_nhs_number(rng), family_name=f"Family{i}").id
            made = rf.make_referral(
                s,
                patient_id=pid,
                service_id=SERVICES[i % 2],
                reason="Lonely since bereavement",
                consent_given=True,
                now=NOW - timedelta(days=10),
            )
            rf.transition_referral(
                s, referral_id=made.id, to_status="sent", now=NOW - timedelta(days=9)
            )


def _queries(ctx: AppContext, read: Callable[[Session], object]) -> tuple[int, object]:
    with ctx.db.read() as s, counted(ctx) as seen:
        result = read(s)
    return len(seen), result


def test_referrals_awaiting_reply_take_the_same_queries_for_3_or_15(ctx: AppContext) -> None:
    rng = random.Random(5)
    _referrals_sent(ctx, 3, rng)
    few, _ = _queries(ctx, lambda s: rf.referrals_awaiting_reply(s, now=NOW))
    _referrals_sent(ctx, 12, rng)
    many, views = _queries(ctx, lambda s: rf.referrals_awaiting_reply(s, now=NOW))
    assert many == few
    assert isinstance(views, list) and len(views) == 15
    assert sorted(v.patient_name for v in views) == sorted(
        [f"FAMILY{i}, Grace" for i in range(3)] + [f"FAMILY{i}, Grace" for i in range(12)]
    )
    with ctx.db.read() as s:
        names = {sid: get_service(s, service_id=sid).name for sid in SERVICES}
    assert all(v.service_name == names[v.service_id] for v in views)
    assert all(v.working_days_waiting == 6 for v in views)  # sent Sat 14 Nov


def _plans(ctx: AppContext, read: Callable[[Session], object]) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement ``read`` runs (on SQLCipher's SQLite)."""
    seen: list[tuple[str, object]] = []

    def record(*args: object) -> None:
        seen.append((str(args[2]), args[3]))

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        with ctx.db.read() as s:
            read(s)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)
    plans = []
    with ctx.db.read() as s:
        raw = s.connection().connection.driver_connection
        for sql, params in seen:
            if sql.lstrip().upper().startswith("SELECT"):
                rows = raw.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                plans.append(sql + "\n" + " / ".join(str(r[-1]) for r in rows))
    return plans


def test_the_status_bar_reads_the_change_log_through_its_indexes(file_ctx: AppContext) -> None:
    """The latest change and the unsynced count, without reading the whole log (on a large
    team the log is over a gigabyte: a scan would hold the status bar up for seconds)."""
    with file_ctx.db.write() as s:
        register(s)
    with file_ctx.db.read() as s:
        summary = status_summary(s)
        last_op = s.scalars(select(Op).order_by(Op.received_at.desc())).first()
    assert last_op is not None and summary.as_of == last_op.received_at
    log_plans = [p for p in _plans(file_ctx, status_summary) if "FROM ops" in p]
    assert log_plans
    assert all("USING INDEX ix_ops_" in p or "USING COVERING INDEX ix_ops_" in p for p in log_plans)


def _team_with_tasks(ctx: AppContext) -> dict[str, str]:
    """Two coordinators; tasks assigned, unassigned on their patients, done, and not due."""
    with ctx.db.write() as s:
        amira, ben = add_coordinator(s, "Amira Shah"), add_coordinator(s, "Ben Okoro")
        mine = add_patient(s, NOW, "Smith", coordinator_id=amira.id)
        theirs = add_patient(s, NOW, "Jones", coordinator_id=ben.id)
        due = NOW - timedelta(hours=1)
        add_task(s, mine, due, "Ring Mrs Smith", now=NOW, assigned_to_id=amira.id)
        add_task(s, mine, due - timedelta(hours=1), "Check meds", now=NOW)  # unassigned
        add_task(s, theirs, due, "Assigned to Amira for Ben's patient", now=NOW,
                 assigned_to_id=amira.id)  # fmt: skip
        add_task(s, theirs, due, "Ben's unassigned", now=NOW)
        add_task(s, mine, NOW + timedelta(days=3), "Not due yet", now=NOW)
        done = add_task(s, mine, due, "Done already", now=NOW)
        done.status, done.completed_at = "done", NOW
    return {"amira": amira.id, "ben": ben.id, "mine": mine.id}


def test_a_coordinators_due_tasks_come_through_their_own_indexes(file_ctx: AppContext) -> None:
    ids = _team_with_tasks(file_ctx)
    end_of_day = NOW + timedelta(hours=15)

    def read(s: Session) -> list[TaskView]:
        return list_tasks(s, now=NOW, coordinator_id=ids["amira"], due_before=end_of_day)

    with file_ctx.db.read() as s:
        titles = [t.title for t in read(s)]
    assert titles[0] == "Check meds"  # due first; the other two are due together
    assert set(titles[1:]) == {"Ring Mrs Smith", "Assigned to Amira for Ben's patient"}
    task_plans = [p for p in _plans(file_ctx, read) if "FROM tasks" in p]
    assert len(task_plans) == 2
    assert all("ix_tasks_status_due" not in p for p in task_plans)
    assert any("ix_tasks_patient_status_due" in p for p in task_plans)


def test_the_caseload_finds_each_patients_next_task_through_the_patient_index(
    file_ctx: AppContext,
) -> None:
    ids = _team_with_tasks(file_ctx)

    def read(s: Session) -> CaseloadPage:
        return search_caseload(s, query=CaseloadQuery(), offset=0, limit=50, now=NOW)

    with file_ctx.db.read() as s:
        page = read(s)
    smith = next(r for r in page.rows if r.patient_id == ids["mine"])
    assert smith.next_task == "Check meds"  # the earliest open one
    task_plans = [p for p in _plans(file_ctx, read) if "FROM tasks" in p]
    assert task_plans and all("ix_tasks_patient_status_due" in p for p in task_plans)


def test_the_mdt_pack_reads_open_referrals_through_the_patient_index(
    file_ctx: AppContext,
) -> None:
    rng = random.Random(9)
    _referrals_sent(file_ctx, 30, rng)  # an MDT's worth of patients
    with file_ctx.db.write() as s:
        meeting = mdt.create_meeting(s, meeting_date=NOW.date(), level="pcn", pcn_name="Hinckley",
                                     now=NOW)  # fmt: skip
        for pid in s.scalars(select(Patient.id)):
            mdt.add_item(s, meeting_id=meeting.id, patient_id=pid, now=NOW)

    def read(s: Session) -> object:
        return build_mdt_pack(s, meeting_id=meeting.id, printed_by="Ann", now=NOW)

    with file_ctx.db.read() as s:
        pack = build_mdt_pack(s, meeting_id=meeting.id, printed_by="Ann", now=NOW)
    assert sum(len(p.open_referrals) for p in pack.patients) == 30
    referral_plans = [p for p in _plans(file_ctx, read) if "FROM referrals" in p]
    assert referral_plans and all("ix_referrals_status" not in p for p in referral_plans)
