"""The report input dataclasses: the weekly JSON contract (DESIGN.md 4.3) and refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import ValidationError
from app.reports.data import (
    Assessments,
    Carers,
    Caseload,
    Mdt,
    OverdueWork,
    Period,
    PostDischarge,
    Readmissions,
    Referrals,
    Tasks,
    TrendPoint,
    WeeklySummary,
)
from tests.reports.factories import make_pack, make_patient, make_weekly, nhs_number

COUNT = int
PCT = (float, type(None))

# Every key of DESIGN.md section 4.3, with the JSON type it must have.
CONTRACT: dict[str, object] = {
    "week": str,
    "as_of": str,
    "period": {"start": str, "end": str},
    "post_discharge": {
        "discharges": COUNT,
        "met": COUNT,
        "missed": COUNT,
        "pending": COUNT,
        "excluded": COUNT,
        "pct_within_48h": PCT,
        "target_pct": float,
    },
    "readmissions_30d": {"eligible": COUNT, "readmitted": COUNT, "rate_pct": PCT},
    "caseload": {
        "open_episodes": COUNT,
        "opened": COUNT,
        "closed": COUNT,
        "by_coordinator": dict,
        "by_level": dict,
    },
    "referrals": {"made": COUNT, "by_service_kind": dict, "by_status": dict},
    "assessments": {"completed": COUNT, "reviews_due": COUNT},
    "carers": {"identified": COUNT, "assessment_offered": COUNT},
    "mdt": {"meetings": COUNT, "actions_open": COUNT},
    "tasks": {"overdue": COUNT},
}
EXTRA_KEYS = {"trend", "overdue_work"}


def _check(contract: dict[str, object], value: dict[str, object], path: str) -> None:
    for key, expected in contract.items():
        assert key in value, f"missing {path}{key}"
        if isinstance(expected, dict):
            assert isinstance(value[key], dict), f"{path}{key} is not an object"
            _check(expected, value[key], f"{path}{key}.")  # type: ignore[arg-type]
        else:
            got = value[key]
            assert isinstance(got, expected), f"{path}{key} has type {type(got).__name__}"  # type: ignore[arg-type]
            assert not isinstance(got, bool), f"{path}{key} is a bool"


def test_weekly_json_has_every_key_of_the_contract_with_the_right_types() -> None:
    d = json.loads(json.dumps(make_weekly().to_json_dict()))
    _check(CONTRACT, d, "")
    assert set(d) == set(CONTRACT) | EXTRA_KEYS
    assert d["week"] == "2026-W47"
    assert d["as_of"] == "2026-11-23T07:00:00Z"
    assert d["period"] == {"start": "2026-11-16T00:00:00Z", "end": "2026-11-23T00:00:00Z"}
    assert d["post_discharge"]["pct_within_48h"] == 81.3
    assert d["post_discharge"]["target_pct"] == 84.0
    assert d["caseload"]["by_level"] == {"Essential": 15, "Expert": 52, "Enhanced": 76}
    assert d["caseload"]["by_coordinator"]["Ravi Coordinator"] == {"Expert": 30, "Enhanced": 25}
    assert d["referrals"]["by_service_kind"]["FIRST_CONTACT_PLUS"] == 5
    assert d["referrals"]["by_status"]["accepted"] == 5
    assert len(d["trend"]) == 12
    assert d["trend"][2] == {"week": "2026-W38", "pct_within_48h": None, "met": 0, "missed": 0}
    assert d["overdue_work"] == {"calls": 2, "tasks": 6, "referrals_waiting": 4}


def test_an_empty_week_gives_null_percentages_not_zero() -> None:
    s = replace(
        make_weekly(),
        post_discharge=PostDischarge(0, 0, 0, 0, 0, None),
        readmissions_30d=Readmissions(0, 0, None),
    )
    d = s.to_json_dict()
    assert d["post_discharge"]["pct_within_48h"] is None
    assert d["readmissions_30d"]["rate_pct"] is None
    assert json.dumps(d)  # still plain JSON


def test_the_named_appendix_never_reaches_the_json() -> None:
    s = make_weekly(with_appendix=True)
    assert s.named_appendix
    text = json.dumps(s.to_json_dict())
    for entry in s.named_appendix:
        assert entry.patient_name not in text
        assert entry.nhs_number not in text
    assert "named_appendix" not in text
    assert WeeklySummary.from_json_dict(json.loads(text)).named_appendix is None


def test_json_round_trip_of_the_sample_week() -> None:
    s = make_weekly()
    assert WeeklySummary.from_json_dict(json.loads(json.dumps(s.to_json_dict()))) == s


def test_json_without_the_extra_sections_still_loads() -> None:
    d = make_weekly().to_json_dict()
    del d["trend"], d["overdue_work"]
    s = WeeklySummary.from_json_dict(d)
    assert s.trend == ()
    assert s.overdue_work == OverdueWork(0, 0, 0)


def test_json_missing_a_key_is_refused_naming_it() -> None:
    d = make_weekly().to_json_dict()
    del d["post_discharge"]["missed"]
    with pytest.raises(ValidationError, match=r"post_discharge\.missed") as info:
        WeeklySummary.from_json_dict(d)
    assert info.value.field == "post_discharge.missed"


@pytest.mark.parametrize(
    ("section", "key", "bad"),
    [
        ("post_discharge", "met", "13"),
        ("post_discharge", "met", True),
        ("post_discharge", "pct_within_48h", "81%"),
        ("period", "start", "last Monday"),
        ("period", "start", "2026-11-16T00:00:00"),  # no offset: ambiguous
    ],
)
def test_json_with_a_wrong_type_is_refused(section: str, key: str, bad: object) -> None:
    d = make_weekly().to_json_dict()
    d[section][key] = bad
    with pytest.raises(ValidationError, match=rf"{section}\.{key}"):
        WeeklySummary.from_json_dict(d)


_counts = st.integers(min_value=0, max_value=100_000)
_pcts = st.none() | st.floats(min_value=0, max_value=100, allow_nan=False).map(
    lambda v: round(v, 1)
)
_names = st.text(min_size=1, max_size=30)
_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def _summaries(draw: st.DrawFn) -> WeeklySummary:
    start = draw(_instants)
    return WeeklySummary(
        week=draw(st.from_regex(r"\A20[0-9]{2}-W[0-5][0-9]\Z")),
        as_of=draw(_instants),
        period=Period(start=start, end=start + timedelta(days=7)),
        post_discharge=PostDischarge(
            draw(_counts), draw(_counts), draw(_counts), draw(_counts), draw(_counts), draw(_pcts)
        ),
        readmissions_30d=Readmissions(draw(_counts), draw(_counts), draw(_pcts)),
        caseload=Caseload(
            draw(_counts),
            draw(_counts),
            draw(_counts),
            draw(st.dictionaries(_names, st.dictionaries(_names, _counts, max_size=4), max_size=5)),
            draw(st.dictionaries(_names, _counts, max_size=4)),
        ),
        referrals=Referrals(
            draw(_counts),
            draw(st.dictionaries(_names, _counts, max_size=11)),
            draw(st.dictionaries(_names, _counts, max_size=8)),
        ),
        assessments=Assessments(draw(_counts), draw(_counts)),
        carers=Carers(draw(_counts), draw(_counts)),
        mdt=Mdt(draw(_counts), draw(_counts)),
        tasks=Tasks(draw(_counts)),
        trend=tuple(
            draw(
                st.lists(
                    st.builds(TrendPoint, st.text(max_size=8), _pcts, _counts, _counts),
                    max_size=12,
                )
            )
        ),
        overdue_work=OverdueWork(draw(_counts), draw(_counts), draw(_counts)),
    )


@given(_summaries())
def test_any_summary_survives_a_json_round_trip(s: WeeklySummary) -> None:
    d = s.to_json_dict()
    _check(CONTRACT, d, "")
    assert WeeklySummary.from_json_dict(json.loads(json.dumps(d))) == s


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="as_of"):
        replace(make_weekly(), as_of=datetime(2026, 11, 23, 7, 0))
    with pytest.raises(ValidationError, match="printed_at"):
        replace(make_pack(1), printed_at=datetime(2026, 11, 23, 9, 30))


def test_mdt_level_must_be_practice_or_pcn() -> None:
    assert replace(make_pack(1), level="PCN").level == "PCN"
    with pytest.raises(ValidationError, match="MDT level") as info:
        replace(make_pack(1), level="Ward")
    assert info.value.field == "level"


@pytest.mark.parametrize("bad", ["999 000 0018", "99900001", "99900000189", "9.99E+09"])
def test_mdt_patient_nhs_number_must_be_ten_digits(bad: str) -> None:
    with pytest.raises(ValidationError, match="10 plain digits") as info:
        replace(make_patient(0), nhs_number=bad)
    assert bad not in str(info.value)  # the number itself never goes into a message


def test_packs_are_frozen_and_use_tuples() -> None:
    pack = make_pack(2)
    with pytest.raises(AttributeError):
        pack.level = "PCN"  # type: ignore[misc]
    assert isinstance(pack.patients, tuple)
    assert isinstance(pack.patients[0].needs, tuple)
    assert pack.patients[0].nhs_number == nhs_number(0)
    assert pack.meeting_date == date(2026, 11, 23)
