"""The weekly team summary: every section of DESIGN.md §4.3 from a small synthetic team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.context import AppContext
from app.core.clock import FixedClock
from app.core.errors import ValidationError
from app.models import Admission, Carer, Episode, MdtAction, MdtMeeting, NeedsAssessment, Task
from app.services.caseload import add_coordinator, change_level, close_episode, register_patient
from app.services.followup import log_call_attempt, record_admission
from app.services.reference import seeded_service_id
from app.services.referrals import make_referral, transition_referral
from app.services.weekly import SUMMARY_PAGE_CACHE_KIB, build_weekly_summary

AS_OF = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday after ISO week 2026-W47
H = timedelta(hours=1)
NHS = ("9991408916", "9995968533", "9998885981", "9998412358", "9990000026")


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def patient(ctx: AppContext, i: int, coordinator: str | None, *, registered: datetime) -> str:
    with ctx.db.write() as s:
        return register_patient(
            s,
            nhs_number=NHS[i],
            family_name=f"Example{i}",
            given_name="Olwen",
            date_of_birth=date(1935, 1, 1 + i),
            coordinator_id=coordinator,
            now=registered,
        ).id


def stay(ctx: AppContext, pid: str, admitted: datetime, discharged: datetime | None) -> str:
    with ctx.db.write() as s:
        return record_admission(
            s, patient_id=pid, admitted_at=admitted, discharged_at=discharged, now=AS_OF
        ).id


def call(ctx: AppContext, aid: str, when: datetime, outcome: str) -> None:
    with ctx.db.write() as s:
        log_call_attempt(s, admission_id=aid, called_at=when, outcome=outcome, now=AS_OF)


@pytest.fixture
def clock() -> FixedClock:
    """The laptop's clock starts on Thursday of ISO week 2026-W47."""
    return FixedClock(at(19))


@pytest.fixture
def team(ctx: AppContext, clock: FixedClock) -> dict[str, str]:
    # The carer is first recorded on Thursday of the week (the laptop's clock), then time moves on.
    with ctx.db.write() as s:
        s.add(
            Carer(
                family_name="Carer", given_name="Ada", assessment_status="offered",
                assessment_offered_on=date(2026, 11, 19),
            )
        )  # fmt: skip
        # Entered this week, but known since an assessment offered on 2 November.
        s.add(Carer(family_name="Carer", given_name="Bea", assessment_offered_on=date(2026, 11, 2)))
    clock.set(AS_OF)
    with ctx.db.write() as s:
        # Recorded after the week, but their carer's-assessment task dates from Wednesday.
        late = Carer(family_name="Carer", given_name="Cy")
        s.add(late)
        s.flush()
        s.add(
            Task(
                kind="carers_assessment", title="Offer a carer's assessment", due_at=at(25),
                status="open", source_table="carers", source_id=late.id, created_at=at(18),
            )
        )  # fmt: skip
    with ctx.db.write() as s:
        ann = add_coordinator(s, name="Ann Coordinator").id
        bob = add_coordinator(s, name="Bob Coordinator").id
    early = at(1, month=9)
    p0 = patient(ctx, 0, ann, registered=early)
    p1 = patient(ctx, 1, bob, registered=early)
    p2 = patient(ctx, 2, None, registered=early)
    p3 = patient(ctx, 3, ann, registered=at(18))  # new this week
    p4 = patient(ctx, 4, bob, registered=early)
    with ctx.db.write() as s:
        change_level(
            s, patient_id=p1, to_level="Expert", reason="stepped down", now=at(1, month=10)
        )
        episode = s.scalars(select(Episode).where(Episode.patient_id == p4)).one()
        close_episode(
            s, episode_id=episode.id, reason="Moved away", now=at(20), closed_on=date(2026, 11, 20)
        )

    # W45: one met discharge (for the trend)
    old = stay(ctx, p0, at(1), at(3))
    call(ctx, old, at(4), "contacted_patient")
    # W47: met, missed, pending, excluded (readmitted)
    met = stay(ctx, p0, at(15), at(17))
    call(ctx, met, at(17, 12), "no_answer")
    call(ctx, met, at(18, 9), "contacted_patient")
    stay(ctx, p1, at(16), at(18, 12))  # missed: no call, deadline 20/11 12:00
    stay(ctx, p2, at(20), at(22, 20))  # pending at AS_OF
    excluded = stay(ctx, p3, at(18, 8), at(19))
    stay(ctx, p3, at(20), None)  # readmitted 24 h after discharge, still in hospital
    assert excluded

    lac = seeded_service_id("lac-north-west-leicestershire")
    with ctx.db.write() as s:
        r = make_referral(
            s, patient_id=p0, service_id=lac, reason="isolation", consent_given=True,
            now=at(17), send=True,
        )  # fmt: skip
        make_referral(
            s, patient_id=p1, service_id=lac, reason="isolation", consent_given=True, now=at(5)
        )
        transition_referral(s, referral_id=r.id, to_status="accepted", now=at(23, 10))
        s.add_all(
            [
                NeedsAssessment(
                    patient_id=p0, version=1, status="completed", started_at=at(16),
                    completed_at=at(17), review_date=date(2027, 2, 1),
                ),
                NeedsAssessment(
                    patient_id=p1, version=1, status="completed", started_at=at(1, month=8),
                    completed_at=at(2, month=8), review_date=date(2026, 11, 19),
                ),
            ]
        )  # fmt: skip
        meeting = MdtMeeting(meeting_date=date(2026, 11, 19), level="pcn", created_at=at(10))
        s.add(meeting)
        s.flush()
        s.add_all(
            [
                MdtAction(meeting_id=meeting.id, description="Review meds", status="open"),
                MdtAction(
                    meeting_id=meeting.id, description="Book OT", status="done",
                    completed_at=at(23, 10),
                ),
            ]
        )  # fmt: skip
    return {"ann": ann, "bob": bob}


def test_every_section_of_the_week(ctx: AppContext, team: dict[str, str]) -> None:
    with ctx.db.read() as s:
        w = build_weekly_summary(s, week="2026-W47", as_of=AS_OF)
    assert w.week == "2026-W47"
    assert (w.period.start, w.period.end) == (at(16, 0), at(23, 0))
    pd = w.post_discharge
    assert (pd.discharges, pd.met, pd.missed, pd.pending, pd.excluded) == (4, 1, 1, 1, 1)
    assert (pd.pct_within_48h, pd.target_pct) == (50.0, 84.0)
    ra = w.readmissions_30d
    assert (ra.eligible, ra.readmitted, ra.rate_pct) == (1, 1, 100.0)

    cl = w.caseload
    assert (cl.open_episodes, cl.opened, cl.closed) == (4, 1, 1)
    assert cl.by_level == {"Essential": 0, "Expert": 1, "Enhanced": 3}
    assert cl.by_coordinator == {
        "Ann Coordinator": {"Essential": 0, "Expert": 0, "Enhanced": 2},
        "Bob Coordinator": {"Essential": 0, "Expert": 1, "Enhanced": 0},
        "Unassigned": {"Essential": 0, "Expert": 0, "Enhanced": 1},
    }
    rf = w.referrals
    assert rf.made == 1 and rf.by_service_kind["LAC"] == 1
    assert rf.by_status["sent"] == 1 and sum(rf.by_status.values()) == 1  # accepted after as_of
    assert (w.assessments.completed, w.assessments.reviews_due) == (1, 1)
    assert (w.carers.identified, w.carers.assessment_offered) == (2, 1)
    assert (w.mdt.meetings, w.mdt.actions_open) == (1, 2)  # "Book OT" was done after as_of
    assert w.tasks.overdue == 1
    assert (w.overdue_work.calls, w.overdue_work.tasks, w.overdue_work.referrals_waiting) == (
        1,
        0,
        1,
    )
    assert len(w.trend) == 12
    assert w.trend[0].week == "2026-W36" and w.trend[-1].week == "2026-W47"
    assert [(p.week, p.pct_within_48h) for p in w.trend if p.pct_within_48h is not None] == [
        ("2026-W45", 100.0),
        ("2026-W47", 50.0),
    ]
    assert w.named_appendix is None
    assert "Olwen" not in str(w.to_json_dict())


def test_caseload_counts_levels_as_they_were_at_as_of(
    ctx: AppContext, team: dict[str, str]
) -> None:
    with ctx.db.write() as s:
        change_level(
            s, patient_id=_patient_of(ctx, NHS[0]), to_level="Essential", reason="better",
            now=AS_OF + H,
        )  # fmt: skip
    with ctx.db.read() as s:
        then = build_weekly_summary(s, week="2026-W47", as_of=AS_OF).caseload
        later = build_weekly_summary(s, week="2026-W48", as_of=AS_OF + 2 * H).caseload
    assert then.by_level == {"Essential": 0, "Expert": 1, "Enhanced": 3}
    assert later.by_level == {"Essential": 1, "Expert": 1, "Enhanced": 2}
    assert later.by_coordinator["Ann Coordinator"] == {"Essential": 1, "Expert": 0, "Enhanced": 1}


def test_named_appendix_lists_overdue_work_by_patient(
    ctx: AppContext, team: dict[str, str]
) -> None:
    with ctx.db.read() as s:
        w = build_weekly_summary(s, week=None, as_of=at(22, 22), named_appendix=True)
    assert w.week == "2026-W47"
    assert w.named_appendix is not None
    (entry,) = w.named_appendix
    assert entry.patient_name == "EXAMPLE1, Olwen"
    assert entry.nhs_number == NHS[1]
    assert entry.due == date(2026, 11, 20)


def test_a_report_as_of_a_past_time_ignores_what_happened_later(
    ctx: AppContext, team: dict[str, str]
) -> None:
    then = at(19, 12)
    with ctx.db.read() as s:
        before = build_weekly_summary(s, week="2026-W47", as_of=then).to_json_dict()
    p0 = _patient_of(ctx, NHS[0])
    with ctx.db.write() as s:
        missed = s.scalars(select(Admission.id).where(Admission.discharged_at == at(18, 12))).one()
        log_call_attempt(
            s, admission_id=missed, called_at=at(19, 13), outcome="contacted_patient", now=AS_OF
        )
        record_admission(s, patient_id=p0, admitted_at=at(20), discharged_at=at(21), now=AS_OF)
    with ctx.db.read() as s:
        after = build_weekly_summary(s, week="2026-W47", as_of=then).to_json_dict()
        now = build_weekly_summary(s, week="2026-W47", as_of=AS_OF).to_json_dict()
    assert after == before
    pd = before["post_discharge"]
    # At Thursday noon: contact made on Wednesday; the readmission on Friday is not known yet.
    assert (pd["discharges"], pd["met"], pd["pending"], pd["excluded"]) == (3, 1, 2, 0)
    assert (now["post_discharge"]["met"], now["readmissions_30d"]["readmitted"]) == (2, 2)


def _patient_of(ctx: AppContext, nhs: str) -> str:
    from app.models import Patient

    with ctx.db.read() as s:
        return s.scalars(select(Patient.id).where(Patient.nhs_number == nhs)).one()


def test_week_defaults_to_the_local_week_of_as_of(ctx: AppContext) -> None:
    sunday_late = datetime(2026, 7, 5, 23, 30, tzinfo=UTC)  # Monday 00:30 BST
    with ctx.db.read() as s:
        assert build_weekly_summary(s, week=None, as_of=sunday_late).week == "2026-W28"
        assert build_weekly_summary(s, week=None, as_of=AS_OF).week == "2026-W48"


@pytest.mark.parametrize(
    ("week", "words"),
    [("2026-47", "not an ISO week"), ("2026-W54", "not an ISO week"), ("2026-W49", "after")],
)
def test_bad_or_future_weeks_are_refused(ctx: AppContext, week: str, words: str) -> None:
    with ctx.db.read() as s, pytest.raises(ValidationError, match=words):
        build_weekly_summary(s, week=week, as_of=AS_OF)


def test_query_count_does_not_grow_with_the_number_of_discharges(ctx: AppContext) -> None:
    def queries(first: int, last: int) -> int:
        for i in range(first, last):
            pid = patient(ctx, i, None, registered=at(1, month=9))
            aid = stay(ctx, pid, at(10 + i), at(11 + i))
            call(ctx, aid, at(11 + i, 12), "contacted_patient")
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(ctx.db.engine, "before_cursor_execute", count)
        try:
            with ctx.db.read() as s:
                build_weekly_summary(s, week="2026-W47", as_of=AS_OF)
        finally:
            event.remove(ctx.db.engine, "before_cursor_execute", count)
        return len(seen)

    one = queries(0, 1)
    assert queries(1, 5) == one  # four more discharges and patients, same number of queries


def test_the_page_cache_grows_only_while_the_summary_runs(ctx: AppContext) -> None:
    """(The summary reads more pages than the everyday cache holds on a large team.)"""
    sizes: list[int] = []

    def record(*args: object) -> None:
        statement = str(args[2])
        if statement.startswith("PRAGMA cache_size="):
            sizes.append(int(statement.partition("=")[2]))

    with ctx.db.read() as s:
        before = s.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        event.listen(ctx.db.engine, "before_cursor_execute", record)
        try:
            build_weekly_summary(s, week="2026-W47", as_of=AS_OF)
        finally:
            event.remove(ctx.db.engine, "before_cursor_execute", record)
        assert s.connection().exec_driver_sql("PRAGMA cache_size").scalar() == before
    assert sizes == [-SUMMARY_PAGE_CACHE_KIB, before]
