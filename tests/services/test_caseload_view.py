"""The caseload table's queries: search, filters, sorting and paging in SQL; the patient record;
the status bar and the signed-in coordinator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.context import AppContext
from app.core.clock import FixedClock
from app.core.errors import NotFoundError
from app.models import Episode, Op, Referral, ReferralStatusChange
from app.services.caseload_view import (
    FLAG_COST,
    FLAG_FRAIL,
    FLAG_LTC5,
    SORT_KEYS,
    UNASSIGNED,
    CaseloadQuery,
    caseload_filter_options,
    has_patients,
    patient_record,
    search_caseload,
    sign_in,
    signed_in_coordinator,
    status_summary,
)
from app.services.reference import seeded_service_id
from tests.ui.factories import (
    OTHER_PRACTICE,
    add_call,
    add_coordinator,
    add_discharge,
    add_patient,
    add_task,
)


def _search(ctx: AppContext, clock: FixedClock, **query: object):
    with ctx.db.read() as s:
        return search_caseload(
            s, query=CaseloadQuery(**query), offset=0, limit=100, now=clock.now()
        )


def _names(page) -> list[str]:
    return [r.name for r in page.rows]


@pytest.fixture
def team(ctx: AppContext, clock: FixedClock) -> dict[str, str]:
    now = clock.now()
    with ctx.db.write() as s:
        amira = add_coordinator(s, "Amira Shah")
        ben = add_coordinator(s, "Ben Okoro")
        smith = add_patient(s, now, "Smith", "Ann", coordinator_id=amira.id, ltc_count=6)
        add_patient(
            s,
            now,
            "Smithson",
            "Bert",
            dob=date(1930, 1, 1),
            coordinator_id=ben.id,
            frailty_band="severe",
            level="Expert",
            risk_score=80.0,
        )
        jones = add_patient(
            s,
            now,
            "Jones",
            "Ann",
            nhs_number="9990000018",
            created_at=now - timedelta(days=30),
            practice_code=OTHER_PRACTICE,
            predicted_cost_ratio=4.2,
            risk_score=20.0,
        )
        add_task(s, smith, now - timedelta(hours=2), "Chase Home First", now=now)
        add_task(s, jones, now + timedelta(days=3), "Review plan", now=now)
        adm = add_discharge(s, jones, now - timedelta(days=2))
        add_call(s, jones, now - timedelta(days=1), "contacted_patient", adm)
        add_call(s, jones, now - timedelta(hours=3), "no_answer", adm)
        return {"amira": amira.id, "ben": ben.id, "smith": smith.id, "jones": jones.id}


def test_search_by_name_prefix_matches_family_or_given_names(ctx, clock, team) -> None:
    assert _names(_search(ctx, clock, text="smi")) == ["SMITH, Ann", "SMITHSON, Bert"]
    assert _names(_search(ctx, clock, text="ann")) == ["JONES, Ann", "SMITH, Ann"]
    assert _names(_search(ctx, clock, text="Smith, Ann")) == ["SMITH, Ann"]
    assert _search(ctx, clock, text="zz").total == 0


def test_search_by_nhs_number_with_spaces(ctx, clock, team) -> None:
    page = _search(ctx, clock, text="999 000 0")
    assert _names(page) == ["JONES, Ann"]
    assert page.rows[0].nhs_number == "9990000018"


def test_wildcards_typed_by_the_user_are_literal(ctx, clock, team) -> None:
    assert _search(ctx, clock, text="%").total == 0
    assert _search(ctx, clock, text="_mith").total == 0


def test_filters_by_coordinator_level_practice_flags_and_overdue(ctx, clock, team) -> None:
    assert _names(_search(ctx, clock, coordinator_id=team["amira"])) == ["SMITH, Ann"]
    assert _names(_search(ctx, clock, coordinator_id=UNASSIGNED)) == ["JONES, Ann"]
    assert _names(_search(ctx, clock, level="Expert")) == ["SMITHSON, Bert"]
    assert _names(_search(ctx, clock, practice_code=OTHER_PRACTICE)) == ["JONES, Ann"]
    assert _search(ctx, clock, sub_locality="Weir").total == 3
    assert _search(ctx, clock, sub_locality="Belgrave").total == 0
    assert _names(_search(ctx, clock, flags=frozenset({FLAG_LTC5}))) == ["SMITH, Ann"]
    assert _names(_search(ctx, clock, flags=frozenset({FLAG_FRAIL}))) == ["SMITHSON, Bert"]
    assert _names(_search(ctx, clock, flags=frozenset({FLAG_COST}))) == ["JONES, Ann"]
    assert _names(_search(ctx, clock, overdue_only=True)) == ["SMITH, Ann"]


def test_rows_carry_next_task_last_contact_and_flags(ctx, clock, team) -> None:
    rows = {r.name: r for r in _search(ctx, clock).rows}
    smith, jones = rows["SMITH, Ann"], rows["JONES, Ann"]
    assert smith.next_task == "Chase Home First"
    assert smith.next_task_due == clock.now() - timedelta(hours=2)
    assert smith.flags == (FLAG_LTC5,)
    assert smith.coordinator == "Amira Shah"
    assert smith.age == 86
    # the last *contact*, not the last unanswered call
    assert jones.last_contact == clock.now() - timedelta(days=1)
    assert jones.practice == "Ashby Surgery"


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("name", False, ["JONES, Ann", "SMITH, Ann", "SMITHSON, Bert"]),
        ("name", True, ["SMITHSON, Bert", "SMITH, Ann", "JONES, Ann"]),
        ("age", True, ["SMITHSON, Bert", "JONES, Ann", "SMITH, Ann"]),
        ("risk", True, ["SMITHSON, Bert", "JONES, Ann", "SMITH, Ann"]),  # unknown risk last
        ("risk", False, ["JONES, Ann", "SMITHSON, Bert", "SMITH, Ann"]),
        ("next_task", False, ["SMITH, Ann", "JONES, Ann", "SMITHSON, Bert"]),
        ("last_contact", True, ["JONES, Ann", "SMITH, Ann", "SMITHSON, Bert"]),
    ],
)
def test_sorting_happens_in_sql(ctx, clock, team, sort, descending, expected) -> None:
    assert _names(_search(ctx, clock, sort=sort, descending=descending)) == expected


def test_unknown_sort_key_is_refused(ctx, clock, team) -> None:
    with pytest.raises(ValueError, match="sort key"):
        _search(ctx, clock, sort="password")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    limit=st.integers(min_value=1, max_value=7),
    sort=st.sampled_from(SORT_KEYS),
    descending=st.booleans(),
)
def test_pages_tile_the_whole_result_without_gaps_or_repeats(
    ctx, clock, limit, sort, descending
) -> None:
    with ctx.db.write() as s:
        if not has_patients(s):
            for i in range(17):
                add_patient(s, clock.now(), "Same", f"Name{i % 3}", risk_score=float(i % 4))
    seen: list[str] = []
    query = CaseloadQuery(sort=sort, descending=descending)
    offset = 0
    with ctx.db.read() as s:
        while True:
            page = search_caseload(s, query=query, offset=offset, limit=limit, now=clock.now())
            assert page.total == 17
            if not page.rows:
                break
            seen += [r.patient_id for r in page.rows]
            offset += limit
    assert len(seen) == 17 == len(set(seen))


def test_filter_options_list_team_and_reference_practices(ctx, team) -> None:
    with ctx.db.read() as s:
        options = caseload_filter_options(s)
    assert [c.label for c in options.coordinators] == ["Amira Shah", "Ben Okoro"]
    assert len(options.practices) == 134
    assert "Weir" in options.sub_localities


def test_sign_in_is_remembered_and_shown_in_the_status(ctx, team) -> None:
    with ctx.db.read() as s:
        assert signed_in_coordinator(s) is None
        assert status_summary(s).coordinator_name is None
    with ctx.db.write() as s:
        sign_in(s, coordinator_id=team["ben"])
    with ctx.db.write() as s:
        sign_in(s, coordinator_id=team["amira"])
    with ctx.db.read() as s:
        summary = status_summary(s)
    assert summary.coordinator_name == "Amira Shah"
    assert summary.patients == 3


def test_sign_in_refuses_an_unknown_coordinator(ctx) -> None:
    with pytest.raises(NotFoundError), ctx.db.write() as s:
        sign_in(s, coordinator_id="nobody")


def test_status_counts_changes_not_yet_exported(ctx, clock, team) -> None:
    with ctx.db.read() as s:
        before = status_summary(s)
    assert before.unsynced > 0
    later = datetime(2027, 1, 4, 10, 30, tzinfo=UTC)
    clock.set(later)
    with ctx.db.write() as s:
        add_coordinator(s, "Cara Lee")
    with ctx.db.read() as s:
        after = status_summary(s)
    assert after.as_of == later  # the latest change
    assert after.unsynced == before.unsynced + 1
    with ctx.db.write() as s:
        for op in s.query(Op).limit(3):
            op.exported = True
    with ctx.db.read() as s:
        assert status_summary(s).unsynced == after.unsynced - 3


def test_patient_record_header_and_timeline_newest_first(ctx, clock, team) -> None:
    now = clock.now()
    with ctx.db.write() as s:
        s.add(
            Episode(
                patient_id=team["jones"],
                opened_on=date(2026, 1, 5),
                source="MDT referral",
                level="Enhanced",
            )
        )
        ref = Referral(
            patient_id=team["jones"],
            service_id=seeded_service_id("first-contact-plus"),
            status="sent",
            reason="Benefits advice",
            consent_given=True,
            created_at=now - timedelta(hours=5),
            status_changed_at=now - timedelta(hours=5),
        )
        s.add(ref)
        s.flush()
        s.add(
            ReferralStatusChange(
                referral_id=ref.id, from_status="draft", to_status="sent", changed_at=ref.created_at
            )
        )
    with ctx.db.read() as s:
        record = patient_record(s, patient_id=team["jones"], now=now)
    d = record.details
    assert (d.name, d.nhs_number, d.practice, d.sub_locality) == (
        "JONES, Ann",
        "9990000018",
        "Ashby Surgery",
        "Weir",
    )
    assert "predicted cost 4.2× average" in d.cohort_explanation
    texts = [e.text for e in record.timeline]
    assert texts[0].startswith("Call: no answer")
    assert texts[1] == "Referral to First Contact Plus: sent"
    assert texts[-1] == "Episode opened (Enhanced, MDT referral)"
    assert [e.at for e in record.timeline] == sorted((e.at for e in record.timeline), reverse=True)
    assert record.referrals[0].service == "First Contact Plus"
    assert record.assessment is None


def test_patient_record_of_unknown_patient_is_refused(ctx, clock) -> None:
    with pytest.raises(NotFoundError), ctx.db.read() as s:
        patient_record(s, patient_id="missing", now=clock.now())


def test_unsynced_changes_are_counted_up_to_a_cap(ctx, team, monkeypatch) -> None:
    import app.services.caseload_view as view

    with ctx.db.read() as s:
        exact = status_summary(s).unsynced
    monkeypatch.setattr(view, "UNSYNCED_CAP", exact - 1)
    with ctx.db.read() as s:
        capped = status_summary(s)
    assert (capped.unsynced, capped.unsynced_capped) == (exact - 1, True)
