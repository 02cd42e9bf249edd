"""Typing in the caseload search box stays quick on a large caseload: NHS-number prefixes find
the same patients whichever way SQLite is steered, and the first page in name order is read
through an index rather than by sorting every match."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from app.context import AppContext
from app.core.clock import FixedClock
from app.core.validation import random_test_nhs_number
from app.services import caseload_view as cv
from app.services.caseload_view import CaseloadQuery, search_caseload
from tests.ui.factories import add_patient

NAMES = ["Smith", "Smyth", "Patel", "O'Neil", "Ng", "Smithers", "Adeyemi"]


@pytest.fixture
def caseload(ctx: AppContext, clock: FixedClock) -> list[str]:
    rng = random.Random(11)
    numbers = []
    with ctx.db.write() as s:
        for i in range(40):
            nhs = random_test_nhs_number(rng)
            numbers.append(nhs)
            add_patient(s, clock.now(), NAMES[i % len(NAMES)], f"Given{i}", nhs_number=nhs)
    return numbers


def _page(ctx: AppContext, clock: FixedClock, typed: str) -> tuple[int, list[str]]:
    with ctx.db.read() as s:
        page = search_caseload(
            s, query=CaseloadQuery(text=typed), offset=0, limit=15, now=clock.now()
        )
    return page.total, [r.patient_id for r in page.rows]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=1, max_value=10), pick=st.integers(min_value=0, max_value=39))
def test_an_nhs_number_prefix_finds_the_same_page_by_either_index(
    ctx: AppContext,
    clock: FixedClock,
    caseload: list[str],
    monkeypatch: pytest.MonkeyPatch,
    cut: int,
    pick: int,
) -> None:
    typed = caseload[pick][:cut]
    expected = sorted(n for n in caseload if n.startswith(typed))
    by_range = _page(ctx, clock, typed)
    with monkeypatch.context() as m:
        m.setattr(cv, "NHS_INDEX_MAX_ROWS", -1)  # always walk the name index instead
        by_name_order = _page(ctx, clock, typed)
    assert by_range == by_name_order
    assert by_range[0] == len(expected)


def test_a_spaced_nhs_number_is_found(
    ctx: AppContext, clock: FixedClock, caseload: list[str]
) -> None:
    nhs = caseload[3]
    total, _ = _page(ctx, clock, f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    assert total == caseload.count(nhs)


def _plan(ctx: AppContext, clock: FixedClock, typed: str, *, count: bool = False) -> str:
    """The query plan of the count, or of the first page in name order (as EXPLAIN QUERY
    PLAN words it)."""
    query = CaseloadQuery(text=typed)
    stmt = (
        cv.count_statement(query, clock.now())
        if count
        else cv.page_statement(query, clock.now(), offset=0, limit=200, nhs_index=False)
    )
    sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with ctx.db.read() as s:
        rows = s.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
    return " / ".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize("typed", ["Sm", "999", "smith ann"])
def test_the_first_page_in_name_order_walks_the_name_index(
    file_ctx: AppContext, clock: FixedClock, typed: str
) -> None:
    """On the encrypted on-disk database (SQLCipher's SQLite, as users run it)."""
    with file_ctx.db.write() as s:
        add_patient(s, clock.now(), "Smith", "Ann", nhs_number="9990000026")
    plan = _plan(file_ctx, clock, typed)
    assert "USING INDEX ix_patients_name_nhs" in plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan  # at most the id tie-break is sorted


@pytest.mark.parametrize("typed", ["Sm", "999", "smith ann"])
def test_matches_are_counted_from_an_index_without_reading_the_table(
    file_ctx: AppContext, clock: FixedClock, typed: str
) -> None:
    with file_ctx.db.write() as s:
        add_patient(s, clock.now(), "Smith", "Ann", nhs_number="9990000026")
    plan = _plan(file_ctx, clock, typed, count=True)
    assert "COVERING INDEX" in plan and "practices" not in plan


def test_a_pages_last_contacts_and_next_tasks_are_read_per_patient(
    file_ctx: AppContext, clock: FixedClock
) -> None:
    """Not by walking every contact call or open task of the team through the indexes the
    weekly summary reads (outcome, called_at) and the Today view reads (status, due)."""
    ids = [f"patient-{n}" for n in range(200)]
    plans = []
    for stmt in (cv.last_contacts_statement(ids), cv.open_tasks_statement(ids)):
        sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        with file_ctx.db.read() as s:
            plans.append(
                " / ".join(str(r[-1]) for r in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
            )
    calls, tasks = plans
    assert "ix_call_attempts_patient_id (patient_id=?)" in calls, calls
    assert "ix_tasks_patient_status_due (patient_id=?" in tasks, tasks
