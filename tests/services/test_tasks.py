"""The task queue: overdue work never vanishes, late completion is allowed and marked, the
queue filters by coordinator, kind, due time and patient."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.clock import FixedClock
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.services import tasks as tk
from app.services.caseload import add_coordinator, deactivate_coordinator
from tests.services.test_caseload import NOW, logged, ops, refused, register

HOUR = timedelta(hours=1)


def chase(s: Session, source_id: str, due: datetime, **kw: str | None) -> tk.TaskView:
    view, created = tk.ensure_task(
        s,
        kind="referral_chase",
        source_table="referrals",
        source_id=source_id,
        title="Chase referral",
        due_at=due,
        now=NOW,
        **kw,
    )
    assert created
    return view


def test_overdue_tasks_stay_in_the_queue_and_completing_them_marks_them_late(
    ctx: AppContext, clock: FixedClock
) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        early = tk.add_task(s, title="Ring GP", due_at=NOW - HOUR, now=NOW, patient_id=pid)
        later = tk.add_task(s, title="Visit", due_at=NOW + 48 * HOUR, now=NOW, patient_id=pid)
    a_week_on = NOW + timedelta(days=7)
    with ctx.db.read() as s:
        queue = tk.list_tasks(s, now=a_week_on)
        due_today = tk.list_tasks(s, now=a_week_on, due_before=a_week_on)
        assert tk.overdue_count(s, now=a_week_on) == 2
    assert [t.title for t in queue] == ["Ring GP", "Visit"]
    assert all(t.overdue for t in queue)
    assert [t.id for t in due_today] == [early.id, later.id]
    assert queue[0].patient_name == "OKAFOR, Grace"
    before = ops(ctx)
    with ctx.db.write() as s:
        done_late = tk.complete_task(s, task_id=early.id, now=a_week_on, notes="Spoke to GP")
        done_early = tk.complete_task(s, task_id=later.id, now=NOW)
    assert ops(ctx) == before + 2
    assert (done_late.status, done_late.late, done_late.overdue) == ("done", True, False)
    assert done_late.completed_at == a_week_on and done_late.notes == "Spoke to GP"
    assert not done_early.late
    with ctx.db.read() as s:
        assert tk.list_tasks(s, now=a_week_on) == []
        history = tk.list_tasks(s, now=a_week_on, include_done=True)
    assert {t.title: t.late for t in history} == {"Ring GP": True, "Visit": False}
    refused(
        ctx,
        ConflictError,
        "cannot be completed: it is already done",
        lambda s: tk.complete_task(s, task_id=early.id, now=a_week_on),
    )


def test_the_queue_filters_by_coordinator_kind_due_time_and_patient(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        amy = add_coordinator(s, name="Amy")
        zoes = register(s, coordinator_id=zoe.id).id
        amys = register(s, nhs="9990000034", coordinator_id=amy.id).id
        tk.add_task(s, title="Zoe's patient", due_at=NOW, now=NOW, patient_id=zoes)
        tk.add_task(s, title="Given to Amy", due_at=NOW + HOUR, now=NOW, assigned_to_id=amy.id)
        chase(s, "r1", NOW + 2 * HOUR, patient_id=amys)  # unassigned, Amy's patient
        chase(s, "r2", NOW + 3 * HOUR, patient_id=zoes, assigned_to_id=amy.id)
    with ctx.db.read() as s:

        def titles(**kw: object) -> list[str]:
            return [
                f"{t.title}:{t.patient_id == amys}"
                for t in tk.list_tasks(s, now=NOW, **kw)  # type: ignore[arg-type]
            ]

        assert titles(coordinator_id=zoe.id) == ["Zoe's patient:False"]
        assert titles(coordinator_id=amy.id) == [
            "Given to Amy:False",
            "Chase referral:True",
            "Chase referral:False",
        ]
        assert titles(kinds=["referral_chase"], patient_id=amys) == ["Chase referral:True"]
        assert titles(due_before=NOW + HOUR) == ["Zoe's patient:False"]
        with pytest.raises(ValidationError, match="Unknown task kind chores"):
            tk.list_tasks(s, now=NOW, kinds=["chores"])
        counts = tk.task_counts(s, now=NOW + 150 * timedelta(minutes=1))
        amy_counts = tk.task_counts(s, now=NOW, coordinator_id=amy.id)
        assert tk.overdue_count(s, now=NOW + 150 * timedelta(minutes=1), coordinator_id=amy.id) == 2
    assert counts.open_by_kind["referral_chase"] == 2 and counts.open_by_kind["other"] == 2
    assert counts.overdue_by_kind == {
        **dict.fromkeys(counts.overdue_by_kind, 0),
        "other": 2,
        "referral_chase": 1,
    }
    assert (counts.open_total, counts.overdue_total) == (4, 3)
    assert amy_counts.open_total == 3 and amy_counts.overdue_total == 0


def test_manual_tasks_are_checked_and_go_to_the_patients_coordinator(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        pid = register(s, coordinator_id=zoe.id).id
    refused(
        ctx,
        ValidationError,
        "Title is required",
        lambda s: tk.add_task(s, title="  ", due_at=NOW, now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "needs a time zone",
        lambda s: tk.add_task(s, title="x", due_at=NOW.replace(tzinfo=None), now=NOW),
    )
    refused(
        ctx,
        NotFoundError,
        "No patient",
        lambda s: tk.add_task(s, title="x", due_at=NOW, now=NOW, patient_id="nope"),
    )
    with ctx.db.write() as s:
        view = tk.add_task(s, title=" Ring   pharmacy ", due_at=NOW, now=NOW, patient_id=pid)
    assert (view.kind, view.title, view.assigned_to_name) == ("other", "Ring pharmacy", "Zoe")


def test_assign_and_cancel(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        gone = add_coordinator(s, name="Gone")
        deactivate_coordinator(s, coordinator_id=gone.id)
        task = tk.add_task(s, title="x", due_at=NOW, now=NOW)
    refused(
        ctx,
        ConflictError,
        "Gone is no longer an active coordinator",
        lambda s: tk.assign_task(s, task_id=task.id, coordinator_id=gone.id, now=NOW),
    )
    refused(
        ctx,
        NotFoundError,
        "No coordinator",
        lambda s: tk.assign_task(s, task_id=task.id, coordinator_id="x", now=NOW),
    )
    with ctx.db.write() as s:
        assert tk.assign_task(s, task_id=task.id, coordinator_id=zoe.id, now=NOW).assigned_to_name
        cancelled = tk.cancel_task(s, task_id=task.id, now=NOW, reason="Not needed")
        assert tk.list_tasks(s, now=NOW) == []
    assert (cancelled.status, cancelled.notes, cancelled.late) == ("cancelled", "Not needed", False)
    refused(
        ctx,
        ConflictError,
        "already cancelled",
        lambda s: tk.cancel_task(s, task_id=task.id, now=NOW),
    )
    refused(
        ctx,
        ConflictError,
        "cannot be reassigned",
        lambda s: tk.assign_task(s, task_id=task.id, coordinator_id=None, now=NOW),
    )
    refused(ctx, NotFoundError, "No task", lambda s: tk.complete_task(s, task_id="x", now=NOW))


def test_ensure_task_is_idempotent_and_close_tasks_closes_the_open_one(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        first = chase(s, "r1", NOW)
        again, created = tk.ensure_task(
            s,
            kind="referral_chase",
            source_table="referrals",
            source_id="r1",
            title="Chase again",
            due_at=NOW + HOUR,
            now=NOW,
        )
        assert not created and again.id == first.id
        assert (again.title, again.due_at) == ("Chase again", NOW + HOUR)
        closed = tk.close_tasks(
            s, kind="referral_chase", source_table="referrals", source_id="r1", now=NOW
        )
        assert closed == 1
        assert (
            tk.close_tasks(
                s, kind="referral_chase", source_table="referrals", source_id="r1", now=NOW
            )
            == 0
        )
        assert chase(s, "r1", NOW).id != first.id  # a new one once the old one is closed


def test_every_task_write_is_in_the_change_log(ctx: AppContext) -> None:
    zoe = logged(ctx, lambda s: add_coordinator(s, name="Zoe"))
    one = logged(ctx, lambda s: tk.add_task(s, title="One", due_at=NOW, now=NOW))
    two = logged(ctx, lambda s: tk.add_task(s, title="Two", due_at=NOW, now=NOW))
    logged(ctx, lambda s: tk.assign_task(s, task_id=one.id, coordinator_id=zoe.id, now=NOW))
    logged(ctx, lambda s: tk.complete_task(s, task_id=one.id, now=NOW))
    logged(ctx, lambda s: tk.cancel_task(s, task_id=two.id, now=NOW))
    logged(ctx, lambda s: chase(s, "r9", NOW))
    logged(
        ctx,
        lambda s: tk.close_tasks(
            s, kind="referral_chase", source_table="referrals", source_id="r9", now=NOW
        ),
    )
