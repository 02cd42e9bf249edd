"""The weekly summary reads index ranges, not whole tables: on a 50,000-patient team the
tables it counts are larger than the page cache, and every full read is decrypted again.

The plans are those of SQLCipher's own SQLite (which plans differently from Python's
``sqlite3``), on a demo team in an encrypted data folder; SQLite has no statistics here, as on
a user's laptop, so the plans do not depend on the size of the team."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from app.context import AppContext
from app.core.clock import FixedClock
from app.services.demo import generate_demo
from app.services.weekly import build_weekly_summary

TODAY = date(2026, 11, 23)
AS_OF = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# Tables the weekly summary must never read in full (carers are read once, one row each;
# CTEs and constant tables are the statement's own).
LARGE = (
    "admissions",
    "call_attempts",
    "episodes",
    "level_changes",
    "needs_assessments",
    "ops",
    "patients",
    "referral_status_changes",
    "referrals",
    "tasks",
)
FULL_READ = re.compile(rf"^SCAN (?:{'|'.join(LARGE)})\b(?! USING COVERING INDEX)")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AS_OF)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[str]]]:
    """Each statement the weekly summary runs, with its query plan's steps."""
    from app.context import open_context
    from app.core.paths import AppPaths

    data_dir = tmp_path_factory.mktemp("weekly-plans")
    ctx: AppContext = open_context(AppPaths(data_dir), clock=FixedClock(AS_OF))
    try:
        with ctx.db.write() as s:
            generate_demo(s, patients=60, seed=3, today=TODAY, clock=ctx.clock)
        seen: list[tuple[str, object]] = []

        def record(*args: object) -> None:
            seen.append((str(args[2]), args[3]))

        event.listen(ctx.db.engine, "before_cursor_execute", record)
        try:
            with ctx.db.read() as s:
                build_weekly_summary(s, week=None, as_of=AS_OF)
                build_weekly_summary(s, week="2026-W46", as_of=AS_OF)  # a full past week
        finally:
            event.remove(ctx.db.engine, "before_cursor_execute", record)
        out = []
        with ctx.db.read() as s:
            raw = s.connection().connection.driver_connection
            assert raw is not None
            for sql, params in seen:
                if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    steps = [str(r[-1]) for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
                    out.append((" ".join(sql.split()), steps))
        return out
    finally:
        ctx.close()


def _steps(plans: list[tuple[str, list[str]]], *, reading: str) -> list[str]:
    found = [step for sql, steps in plans if reading in sql for step in steps]
    assert found, f"no statement reads {reading}"
    return found


def test_no_large_table_is_read_in_full(plans: list[tuple[str, list[str]]]) -> None:
    for sql, steps in plans:
        full = [s for s in steps if FULL_READ.match(s)]
        assert not full, f"{sql}\n{steps}"


@pytest.mark.parametrize(
    ("reading", "step"),
    [
        # carers identified: each carer's first op time and first assessment task
        ("FROM ops", "SEARCH ops USING COVERING INDEX ix_ops_record_hlc"),
        ("FROM tasks WHERE tasks.source_table", "COVERING INDEX ix_tasks_source_kind_created"),
        # overdue work: open tasks, and tasks completed after the report time
        ("tasks.status = ? AND tasks.due_at", "COVERING INDEX ix_tasks_status_due_kind"),
        ("tasks.completed_at >", "USING INDEX ix_tasks_completed_at"),
        # referrals awaiting a reply, and made in the week
        ("FROM referrals WHERE referrals.status IN", "COVERING INDEX ix_referrals_status_changed"),
        ("referrals.created_at >=", "USING INDEX ix_referrals_created_at"),
        # assessments completed and reviews due in the week
        (
            "needs_assessments.completed_at >=",
            "COVERING INDEX ix_needs_assessments_status_completed",
        ),
        ("needs_assessments.review_date", "USING INDEX ix_needs_assessments_review_date"),
        ("needs_assessments.review_date", "USING INDEX ix_needs_assessments_patient_id"),
        # caseload: open episodes (patients in id order, each one's open episodes, and
        # patients by coordinator and level), opened and closed, levels changed after the
        # report time
        ("other_than_one", "SCAN p USING COVERING INDEX sqlite_autoindex_patients_1"),
        ("other_than_one", "SEARCH episodes USING COVERING INDEX ix_episodes_patient_dates"),
        ("other_than_one", "SEARCH m USING COVERING INDEX ix_patients_coordinator_level"),
        ("episodes.opened_on BETWEEN", "COVERING INDEX ix_episodes_patient_dates"),
        ("level_changes.changed_at >", "USING INDEX ix_level_changes_changed_at"),
        # the 12-week trend: deciding calls, discharges, each patient's next stay
        ("FROM call_attempts", "COVERING INDEX ix_call_attempts_outcome_called"),
        (
            "FROM seg JOIN admissions",
            "SEARCH admissions USING COVERING INDEX ix_admissions_discharged_patient"
            " (discharged_at>? AND discharged_at<?)",
        ),
        ("FROM admissions AS o", "COVERING INDEX ix_admissions_patient_stay"),
    ],
)
def test_each_count_reads_its_index(
    plans: list[tuple[str, list[str]]], reading: str, step: str
) -> None:
    steps = _steps(plans, reading=reading)
    assert any(step in s for s in steps), steps


def test_open_episodes_are_counted_without_reading_the_patients_rows(
    plans: list[tuple[str, list[str]]],
) -> None:
    steps = _steps(plans, reading="other_than_one")
    reads = [s for s in steps if re.match(r"^(SCAN|SEARCH) (p|m|patients|episodes)\b", s)]
    assert reads, steps
    assert all("COVERING INDEX" in s for s in reads), steps


def test_reviews_due_are_not_found_by_walking_every_completed_assessment(
    plans: list[tuple[str, list[str]]],
) -> None:
    """(status, completed_at) matches the review query's conditions too; used there, each
    review due would walk every completed assessment of the team."""
    steps = _steps(plans, reading="needs_assessments.review_date")
    assert not any("ix_needs_assessments_status_completed" in s for s in steps), steps
