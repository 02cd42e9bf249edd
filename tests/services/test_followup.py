"""Admissions, discharges, call attempts, 48-hour tasks and open clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.models import Task
from app.services.caseload import add_coordinator, record_death, register_patient
from app.services.followup import (
    discharges_for_patient,
    log_call_attempt,
    log_call_by_nhs,
    open_clocks,
    record_admission,
    record_discharge,
)
from app.services.metrics import readmission_links
from app.sync.dump import dump_json

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
NHS = ("9991408916", "9995968533", "9998885981")


def add_patient(ctx: AppContext, nhs: str = NHS[0], *, coordinator_id: str | None = None) -> str:
    with ctx.db.write() as s:
        return register_patient(
            s,
            nhs_number=nhs,
            family_name="Testperson",
            given_name="Margaret",
            date_of_birth=date(1940, 2, 1),
            coordinator_id=coordinator_id,
            now=NOW - timedelta(days=400),
        ).id


def admit(ctx: AppContext, pid: str, admitted: datetime, discharged: datetime | None) -> str:
    with ctx.db.write() as s:
        return record_admission(
            s, patient_id=pid, admitted_at=admitted, discharged_at=discharged, now=NOW
        ).id


def call(ctx: AppContext, aid: str, at: datetime, outcome: str, **kw: object) -> None:
    with ctx.db.write() as s:
        log_call_attempt(s, admission_id=aid, called_at=at, outcome=outcome, now=NOW, **kw)  # type: ignore[arg-type]


def tasks(ctx: AppContext) -> dict[str, Task]:
    with ctx.db.read() as s:
        return {t.source_id or "": t for t in s.scalars(select(Task))}


def dump(ctx: AppContext) -> str:
    with ctx.db.read() as s:
        return dump_json(s)


def refused(ctx: AppContext, exc: type[Exception], fn: object, **kw: object) -> str:
    """Run a service in a write transaction, expect a refusal, check nothing was written."""
    before = dump(ctx)
    with pytest.raises(exc) as info, ctx.db.write() as s:
        fn(s, **kw)  # type: ignore[operator]
    assert dump(ctx) == before
    message = str(info.value)
    assert message.count(".") >= 1 and "\n" not in message
    return message


def test_discharge_opens_a_48_hour_task_that_a_contact_closes(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    t_d = NOW - 30 * H
    aid = admit(ctx, pid, t_d - 72 * H, t_d)
    task = tasks(ctx)[aid]
    assert (task.kind, task.status, task.due_at) == ("post_discharge_call", "open", t_d + 48 * H)
    assert task.source_table == "admissions" and task.patient_id == pid
    call(ctx, aid, t_d + 2 * H, "no_answer")
    assert tasks(ctx)[aid].status == "open"
    call(ctx, aid, t_d + 20 * H, "contacted_carer", issues="medication, carer strain")
    task = tasks(ctx)[aid]
    assert (task.status, task.completed_at) == ("done", t_d + 20 * H)


def test_late_contact_is_logged_closes_the_task_late_and_counts_as_missed(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    t_d = NOW - 72 * H
    aid = admit(ctx, pid, t_d - 24 * H, t_d)
    with ctx.db.write() as s:
        view = log_call_attempt(
            s, admission_id=aid, called_at=t_d + 60 * H, outcome="contacted_patient", now=NOW
        )
    assert view.late and view.is_contact
    task = tasks(ctx)[aid]
    assert task.status == "done" and task.completed_at is not None
    assert task.completed_at > task.due_at
    with ctx.db.read() as s:
        (d,) = discharges_for_patient(s, patient_id=pid, now=NOW)
    assert (d.status, d.late, d.contacted_at) == ("missed", True, t_d + 60 * H)


def test_admission_in_hospital_then_discharge_starts_the_clock(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    aid = admit(ctx, pid, NOW - 100 * H, None)
    assert aid not in tasks(ctx)
    with ctx.db.write() as s:
        view = record_discharge(s, admission_id=aid, discharged_at=NOW - 10 * H, now=NOW)
    assert view.deadline == NOW + 38 * H
    assert tasks(ctx)[aid].due_at == view.deadline
    refused(
        ctx,
        ConflictError,
        record_discharge,
        admission_id=aid,
        discharged_at=NOW - 5 * H,
        now=NOW,
    )


def test_readmission_before_contact_cancels_the_earlier_task(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    first = admit(ctx, pid, NOW - 200 * H, NOW - 100 * H)
    second = admit(ctx, pid, NOW - 80 * H, NOW - 10 * H)
    t = tasks(ctx)
    assert t[first].status == "cancelled"
    assert t[second].status == "open"
    with ctx.db.read() as s:
        views = discharges_for_patient(s, patient_id=pid, now=NOW)
    assert [v.admission_id for v in views] == [second, first]
    assert views[1].status == "excluded" and views[1].excluded_because == "readmitted"
    assert views[1].readmission_id == second


def test_deceased_outcome_and_recorded_death_close_the_clocks(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    aid = admit(ctx, pid, NOW - 50 * H, NOW - 10 * H)
    call(ctx, aid, NOW - 5 * H, "deceased")
    assert tasks(ctx)[aid].status == "cancelled"
    other = add_patient(ctx, NHS[1])
    bid = admit(ctx, other, NOW - 50 * H, NOW - 10 * H)
    with ctx.db.read() as s:
        assert [c.admission_id for c in open_clocks(s, now=NOW)] == [bid]
    with ctx.db.write() as s:
        record_death(s, patient_id=other, date_of_death=NOW.date(), now=NOW)
    with ctx.db.read() as s:
        assert open_clocks(s, now=NOW) == []
        (d,) = discharges_for_patient(s, patient_id=other, now=NOW)
    assert d.status == "excluded"


def test_open_clocks_overdue_first_with_hours_left_and_coordinator_filter(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        ann = add_coordinator(s, name="Ann Coordinator").id
        bob = add_coordinator(s, name="Bob Coordinator").id
    p1 = add_patient(ctx, NHS[0], coordinator_id=ann)
    p2 = add_patient(ctx, NHS[1], coordinator_id=bob)
    p3 = add_patient(ctx, NHS[2], coordinator_id=ann)
    soon = admit(ctx, p1, NOW - 60 * H, NOW - 40 * H)  # 8 h left
    overdue = admit(ctx, p2, NOW - 100 * H, NOW - 50 * H)  # 2 h overdue
    done = admit(ctx, p3, NOW - 60 * H, NOW - 20 * H)
    call(ctx, soon, NOW - 30 * H, "voicemail")
    call(ctx, done, NOW - 10 * H, "contacted_patient")
    with ctx.db.read() as s:
        clocks = open_clocks(s, now=NOW)
        mine = open_clocks(s, now=NOW, coordinator_id=ann)
    assert [c.admission_id for c in clocks] == [overdue, soon]
    assert clocks[0].hours_left == -2.0 and clocks[0].overdue
    assert clocks[1].hours_left == 8.0
    assert (clocks[1].attempts, clocks[1].last_outcome) == (1, "voicemail")
    assert clocks[1].patient_name == "TESTPERSON, Margaret"
    assert clocks[1].coordinator_name == "Ann Coordinator"
    assert [c.admission_id for c in mine] == [soon]


@pytest.mark.parametrize(
    ("called", "outcome", "kw", "exc", "words"),
    [
        (-1, "contacted_patient", {}, ValidationError, "before the discharge"),
        (12, "contacted_patient", {}, ValidationError, "in the future"),
        (0.5, "phoned", {}, ValidationError, "contacted_patient, contacted_carer"),
        (0.5, "no_answer", {"issues": "medication,parking"}, ValidationError, "parking"),
        (0.5, "no_answer", {"coordinator_id": "nobody"}, NotFoundError, "coordinator"),
    ],
)
def test_call_refusals_write_nothing(
    ctx: AppContext,
    called: float,
    outcome: str,
    kw: dict[str, object],
    exc: type[Exception],
    words: str,
) -> None:
    pid = add_patient(ctx)
    aid = admit(ctx, pid, NOW - 50 * H, NOW - 10 * H)
    at = NOW - 10 * H + called * H  # hours after the discharge
    message = refused(
        ctx, exc, log_call_attempt, admission_id=aid, called_at=at, outcome=outcome, now=NOW, **kw
    )
    assert words in message


def test_call_on_an_admission_without_discharge_is_refused(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    aid = admit(ctx, pid, NOW - 50 * H, None)
    message = refused(
        ctx, ValidationError, log_call_attempt, admission_id=aid, called_at=NOW,
        outcome="no_answer", now=NOW,
    )  # fmt: skip
    assert "no discharge" in message


def test_admission_refusals_write_nothing(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    admit(ctx, pid, NOW - 100 * H, NOW - 80 * H)
    cases = [
        (ValidationError, NOW - 10 * H, NOW - 20 * H, "before the admission"),
        (ValidationError, NOW - 10 * H, NOW + H, "in the future"),
        (ValidationError, NOW + H, None, "in the future"),
        (ConflictError, NOW - 90 * H, NOW - 70 * H, "overlaps"),
        (ConflictError, NOW - 120 * H, None, "overlaps"),
        (ConflictError, NOW - 100 * H, NOW - 80 * H, "already has"),
    ]
    for exc, admitted, discharged, words in cases:
        message = refused(
            ctx, exc, record_admission, patient_id=pid, admitted_at=admitted,
            discharged_at=discharged, now=NOW,
        )  # fmt: skip
        assert words in message
    refused(ctx, NotFoundError, record_admission, patient_id="x", admitted_at=NOW, now=NOW)


def test_back_to_back_stays_do_not_overlap_and_a_transfer_is_no_readmission(
    ctx: AppContext,
) -> None:
    pid = add_patient(ctx)
    admit(ctx, pid, NOW - 100 * H, NOW - 80 * H)
    admit(ctx, pid, NOW - 80 * H, NOW - 60 * H)  # starts the instant the first ends
    admit(ctx, pid, NOW - 50 * H, NOW - 40 * H)
    with ctx.db.read() as s:
        links = readmission_links(s, patient_id=pid)
    # The stay starting at the first discharge is not "after" it; the third stay is, for both.
    assert [(x.discharged_at, x.readmitted_at) for x in links] == [
        (NOW - 80 * H, NOW - 50 * H),
        (NOW - 60 * H, NOW - 50 * H),
    ]


def test_log_call_by_nhs_picks_the_discharge(ctx: AppContext) -> None:
    pid = add_patient(ctx)
    early = admit(ctx, pid, NOW - 300 * H, NOW - 200 * H)
    late = admit(ctx, pid, NOW - 100 * H, NOW - 50 * H)
    with ctx.db.write() as s:
        latest = log_call_by_nhs(
            s, nhs_number="999 140 8916", called_at=NOW - H, outcome="No answer", now=NOW
        )
        between = log_call_by_nhs(
            s, nhs_number=NHS[0], called_at=NOW - 150 * H, outcome="voicemail", now=NOW
        )
        chosen = log_call_by_nhs(
            s,
            nhs_number=NHS[0],
            called_at=NOW - H,
            outcome="contacted_patient",
            discharge_at=NOW - 200 * H,
            now=NOW,
        )
    assert (latest.admission_id, latest.outcome) == (late, "no_answer")
    assert between.admission_id == early
    assert chosen.admission_id == early and chosen.late
    assert "no discharge at" in refused(
        ctx, NotFoundError, log_call_by_nhs, nhs_number=NHS[0], called_at=NOW - H,
        outcome="no_answer", discharge_at=NOW - 199 * H, now=NOW,
    )  # fmt: skip
    assert "before the patient's first" in refused(
        ctx, ValidationError, log_call_by_nhs, nhs_number=NHS[0], called_at=NOW - 250 * H,
        outcome="no_answer", now=NOW,
    )  # fmt: skip
    assert "No patient" in refused(
        ctx, NotFoundError, log_call_by_nhs, nhs_number=NHS[1], called_at=NOW - H,
        outcome="no_answer", now=NOW,
    )  # fmt: skip


def test_readmission_links_do_not_depend_on_entry_order(clock: object) -> None:
    from app.context import open_memory_context

    stays = [
        (NOW - 1000 * H, NOW - 950 * H),
        (NOW - 900 * H, NOW - 800 * H),  # 50 h after the first: a readmission
        (NOW - 10 * H, None),  # 790 h (over 30 days) after the second: none
    ]
    results = []
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        context = open_memory_context(clock=clock)  # type: ignore[arg-type]
        try:
            pid = add_patient(context)
            for i in order:
                admit(context, pid, *stays[i])
            with context.db.read() as s:
                links = readmission_links(s)
                statuses = sorted(
                    d.status for d in discharges_for_patient(s, patient_id=pid, now=NOW)
                )
            results.append(([(x.discharged_at, x.readmitted_at) for x in links], statuses))
            task_states = sorted(t.status for t in tasks(context).values())
            assert task_states == ["cancelled", "cancelled"]
        finally:
            context.close()
    assert results[0] == results[1] == results[2]
    assert results[0][0] == [(NOW - 950 * H, NOW - 900 * H)]
