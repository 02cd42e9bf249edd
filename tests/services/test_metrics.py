"""The exact definitions of DESIGN.md §3, on plain rows (no database)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.timeutil import iso_week_of, to_local
from app.services.metrics import (
    EXCLUDED,
    MET,
    MISSED,
    PENDING,
    AdmissionRow,
    CallRow,
    PatientHistory,
    discharge_outcome,
    follow_up_status,
    link_readmissions,
    pct_within_48h,
    readmission_after,
    week_figures,
)

T_D = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday, GMT
H = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def discharge(
    at: datetime = T_D, *, admitted: datetime | None = None, aid: str = "d1"
) -> AdmissionRow:
    return AdmissionRow(aid, "p1", admitted if admitted is not None else at - 72 * H, at)


def history(
    d: AdmissionRow,
    *calls: tuple[timedelta, str],
    others: tuple[AdmissionRow, ...] = (),
    died: date | None = None,
) -> PatientHistory:
    assert d.discharged_at is not None
    rows = tuple(CallRow(d.id, d.discharged_at + off, outcome) for off, outcome in calls)
    return PatientHistory("p1", (d, *others), rows, died)


def status(d: AdmissionRow, h: PatientHistory, as_of: datetime) -> str:
    return follow_up_status(d, h, as_of=as_of).status


LATER = T_D + timedelta(days=10)


def test_contact_at_exactly_48_hours_is_met() -> None:
    d = discharge()
    fu = follow_up_status(d, history(d, (48 * H, "contacted_patient")), as_of=LATER)
    assert fu.status == MET
    assert fu.deadline == T_D + 48 * H
    assert fu.hours_to_contact == 48.0
    assert not fu.late


def test_contact_one_second_after_48_hours_is_missed_and_late() -> None:
    d = discharge()
    late = 48 * H + timedelta(seconds=1)
    fu = follow_up_status(d, history(d, (late, "contacted_patient")), as_of=LATER)
    assert fu.status == MISSED
    assert fu.late
    assert fu.contacted_at == T_D + late


def test_contact_at_the_moment_of_discharge_is_met() -> None:
    d = discharge()
    assert status(d, history(d, (timedelta(0), "contacted_patient")), LATER) == MET


def test_contacted_carer_counts_as_contact() -> None:
    d = discharge()
    assert status(d, history(d, (5 * H, "contacted_carer")), LATER) == MET


@pytest.mark.parametrize("outcome", ["no_answer", "voicemail", "wrong_number", "declined"])
def test_attempts_without_contact_are_not_met(outcome: str) -> None:
    d = discharge()
    assert status(d, history(d, (2 * H, outcome)), LATER) == MISSED


def test_several_attempts_where_only_a_later_one_succeeds() -> None:
    d = discharge()
    h = history(
        d,
        (2 * H, "no_answer"),
        (20 * H, "voicemail"),
        (47 * H, "contacted_patient"),
        (50 * H, "no_answer"),
    )
    fu = follow_up_status(d, h, as_of=LATER)
    assert fu.status == MET
    assert fu.attempts == 4
    assert fu.contacted_at == T_D + 47 * H
    assert fu.last_outcome == "no_answer"


def test_calls_on_another_discharge_do_not_count() -> None:
    d = discharge()
    other = AdmissionRow("d0", "p1", T_D - 30 * 24 * H, T_D - 20 * 24 * H)
    h = PatientHistory("p1", (other, d), (CallRow("d0", T_D + H, "contacted_patient"),))
    assert status(d, h, LATER) == MISSED


def test_pending_until_the_deadline_then_missed() -> None:
    d = discharge()
    h = history(d)
    assert status(d, h, T_D + 47 * H) == PENDING
    assert status(d, h, T_D + 48 * H) == PENDING
    assert status(d, h, T_D + 48 * H + timedelta(seconds=1)) == MISSED


def test_report_time_ignores_calls_made_after_it() -> None:
    d = discharge()
    h = history(d, (30 * H, "contacted_patient"))
    assert status(d, h, T_D + 29 * H) == PENDING
    assert status(d, h, T_D + 31 * H) == MET


def test_readmitted_before_contact_is_excluded() -> None:
    d = discharge()
    readmission = AdmissionRow("d2", "p1", T_D + 20 * H, T_D + 100 * H)
    fu = follow_up_status(d, history(d, others=(readmission,)), as_of=LATER)
    assert fu.status == EXCLUDED
    assert fu.excluded_because == "readmitted"


def test_readmitted_after_the_deadline_is_missed() -> None:
    d = discharge()
    readmission = AdmissionRow("d2", "p1", T_D + 49 * H, T_D + 100 * H)
    assert status(d, history(d, others=(readmission,)), LATER) == MISSED


def test_readmission_only_counts_once_known_at_report_time() -> None:
    d = discharge()
    readmission = AdmissionRow("d2", "p1", T_D + 20 * H, None)
    h = history(d, others=(readmission,))
    assert status(d, h, T_D + 10 * H) == PENDING
    assert status(d, h, T_D + 21 * H) == EXCLUDED


def test_readmitted_call_outcome_excludes() -> None:
    d = discharge()
    assert status(d, history(d, (3 * H, "readmitted")), LATER) == EXCLUDED


def test_deceased_call_before_contact_is_excluded() -> None:
    d = discharge()
    fu = follow_up_status(d, history(d, (6 * H, "deceased")), as_of=LATER)
    assert (fu.status, fu.excluded_because) == (EXCLUDED, "deceased")


def test_recorded_date_of_death_on_the_deadline_day_excludes() -> None:
    d = discharge()  # deadline Wednesday 18/11 10:00 GMT
    assert status(d, history(d, died=date(2026, 11, 18)), LATER) == EXCLUDED
    assert status(d, history(d, died=date(2026, 11, 19)), LATER) == MISSED


def test_contact_inside_the_window_is_met_even_after_a_readmission() -> None:
    d = discharge()
    readmission = AdmissionRow("d2", "p1", T_D + 5 * H, None)
    h = history(d, (10 * H, "contacted_carer"), others=(readmission,))
    assert status(d, h, LATER) == MET


def test_late_contact_after_readmission_still_excluded() -> None:
    d = discharge()
    readmission = AdmissionRow("d2", "p1", T_D + 5 * H, T_D + 60 * H)
    h = history(d, (70 * H, "contacted_patient"), others=(readmission,))
    assert status(d, h, LATER) == EXCLUDED


def test_deadline_is_48_real_hours_when_the_clocks_go_back() -> None:
    # 01:30 BST on Sunday 25 October 2026 (the first 01:30 of that night) is 00:30 UTC.
    t_d = utc(2026, 10, 25, 0, 30)
    assert to_local(t_d).strftime("%H:%M %Z") == "01:30 BST"
    d = discharge(t_d)
    fu = follow_up_status(d, history(d), as_of=t_d + timedelta(days=5))
    assert fu.deadline == utc(2026, 10, 27, 0, 30)
    assert to_local(fu.deadline).strftime("%d/%m %H:%M %Z") == "27/10 00:30 GMT"
    # 01:00 GMT on the 27th is inside "the same wall-clock time two days later" but 48.5 h on.
    late = history(d, (utc(2026, 10, 27, 1, 0) - t_d, "contacted_patient"))
    assert status(d, late, t_d + timedelta(days=5)) == MISSED
    assert iso_week_of(t_d) == "2026-W43"  # Sunday 25 October closes ISO week 43


def test_deadline_is_48_real_hours_when_the_clocks_go_forward() -> None:
    # 01:30 GMT on Sunday 29 March 2026 (= 02:30 BST after the change): 48 h later is 01:30
    # UTC on the 31st, 02:30 BST on the wall clock.
    t_d = utc(2026, 3, 29, 1, 30)
    assert to_local(t_d).strftime("%H:%M %Z") == "02:30 BST"
    before_change = utc(2026, 3, 29, 0, 30)  # 00:30 GMT, before the clocks move
    for start in (t_d, before_change):
        d = discharge(start)
        fu = follow_up_status(d, history(d), as_of=start + timedelta(days=5))
        assert fu.deadline - start == 48 * H
    d = discharge(before_change)
    # 01:15 BST on the 31st is 00:15 UTC: 47.75 real hours, although the wall clock shows more.
    call = history(d, (utc(2026, 3, 31, 0, 15) - before_change, "contacted_patient"))
    assert status(d, call, before_change + timedelta(days=5)) == MET
    assert iso_week_of(before_change) == "2026-W13"


def test_sunday_late_evening_utc_in_summer_belongs_to_the_next_local_week() -> None:
    t_d = utc(2026, 7, 5, 23, 30)  # Sunday 23:30 UTC = Monday 00:30 BST
    d = discharge(t_d)
    h = history(d, (H, "contacted_patient"))
    outcome = discharge_outcome(d, h, as_of=t_d + timedelta(days=40))
    assert outcome.week == "2026-W28"
    assert week_figures("2026-W28", [outcome]).met == 1
    assert week_figures("2026-W27", [outcome]).discharges == 0


def test_pct_within_48h_rounds_to_one_decimal_and_is_null_without_denominator() -> None:
    assert pct_within_48h(0, 0) is None
    assert pct_within_48h(2, 1) == 66.7
    assert pct_within_48h(84, 16) == 84.0
    assert pct_within_48h(0, 3) == 0.0


def test_week_figures_count_every_status_and_leave_pending_out_of_the_percentage() -> None:
    as_of = T_D + timedelta(days=2, hours=3)
    rows = []
    for i, calls in enumerate([[(H, "contacted_patient")], [], [(3 * H, "deceased")]]):
        d = AdmissionRow(f"d{i}", f"p{i}", T_D - 50 * H, T_D + i * H)
        assert d.discharged_at is not None
        h = PatientHistory(
            f"p{i}", (d,), tuple(CallRow(d.id, d.discharged_at + o, out) for o, out in calls)
        )
        rows.append(discharge_outcome(d, h, as_of=as_of))
    pending = AdmissionRow("d9", "p9", T_D, T_D + 30 * H)
    rows.append(discharge_outcome(pending, PatientHistory("p9", (pending,)), as_of=as_of))
    f = week_figures("2026-W47", rows)
    assert (f.discharges, f.met, f.missed, f.excluded, f.pending) == (4, 1, 1, 1, 1)
    assert f.pct_within_48h == 50.0


def test_readmission_within_30_days_window_bounds() -> None:
    d = discharge()
    at_30_days = AdmissionRow("r", "p1", T_D + timedelta(days=30), None)
    just_after = AdmissionRow("r", "p1", T_D + timedelta(days=30, seconds=1), None)
    found = readmission_after(d, PatientHistory("p1", (d, at_30_days)))
    assert found is not None and found.admission_id == "r"
    assert readmission_after(d, PatientHistory("p1", (d, just_after))) is None


def test_readmission_eligibility_waits_for_the_window_to_close() -> None:
    d = discharge()
    h = PatientHistory("p1", (d,))
    assert not discharge_outcome(d, h, as_of=T_D + timedelta(days=29)).readmission_eligible
    assert discharge_outcome(d, h, as_of=T_D + timedelta(days=30)).readmission_eligible
    r = AdmissionRow("r", "p1", T_D + timedelta(days=3), T_D + timedelta(days=6))
    early = discharge_outcome(d, PatientHistory("p1", (d, r)), as_of=T_D + timedelta(days=4))
    assert early.readmission_eligible and early.readmission is not None


def test_admission_without_a_start_time_starts_at_its_discharge() -> None:
    d = discharge()
    undated = AdmissionRow("u", "p1", None, T_D + 20 * H)
    assert status(d, PatientHistory("p1", (d, undated)), LATER) == EXCLUDED


_STAYS = st.lists(
    st.tuples(st.integers(0, 120), st.integers(0, 20), st.booleans()), min_size=1, max_size=8
)


@settings(max_examples=60, deadline=None)
@given(stays=_STAYS, seed=st.integers(0, 10_000))
def test_readmission_links_do_not_depend_on_row_order(
    stays: list[tuple[int, int, bool]], seed: int
) -> None:
    base = utc(2026, 1, 1)
    rows = []
    for i, (start_day, length, two_patients) in enumerate(stays):
        start = base + timedelta(days=start_day)
        rows.append(
            AdmissionRow(
                f"a{i}", "p2" if two_patients else "p1", start, start + timedelta(days=length)
            )
        )
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    assert link_readmissions(rows) == link_readmissions(shuffled)
    for link in link_readmissions(rows):
        assert 0 < link.days_after <= 30


_OUTCOMES = st.sampled_from(
    ["contacted_patient", "contacted_carer", "no_answer", "voicemail", "readmitted", "deceased"]
)


@settings(max_examples=150, deadline=None)
@given(
    calls=st.lists(st.tuples(st.integers(0, 120 * 60), _OUTCOMES), max_size=5),
    readmitted_after=st.none() | st.integers(1, 100 * 60),
    first=st.integers(0, 120 * 60),
    later=st.integers(0, 120 * 60),
)
def test_a_settled_status_never_changes_as_the_report_time_moves_on(
    calls: list[tuple[int, str]], readmitted_after: int | None, first: int, later: int
) -> None:
    """Facts are dated, so a later report can only settle what was pending; met stays met,
    missed stays missed, and an exclusion can only give way to a contact inside the window."""
    d = discharge()
    m = timedelta(minutes=1)
    others = (
        ()
        if readmitted_after is None
        else (AdmissionRow("r", "p1", T_D + readmitted_after * m, None),)
    )
    h = history(d, *((minutes * m, outcome) for minutes, outcome in calls), others=others)
    t1, t2 = sorted((T_D + first * m, T_D + later * m))
    s1, s2 = status(d, h, t1), status(d, h, t2)
    allowed = {PENDING: {PENDING, MET, MISSED, EXCLUDED}, MET: {MET}, MISSED: {MISSED},
               EXCLUDED: {EXCLUDED, MET}}  # fmt: skip
    assert s2 in allowed[s1]
    if t2 > T_D + 48 * H:
        assert s2 != PENDING
    met_calls = [c for c, o in calls if o.startswith("contacted") and c <= 48 * 60]
    assert (s2 == MET) == any(T_D + c * m <= t2 for c in met_calls)
