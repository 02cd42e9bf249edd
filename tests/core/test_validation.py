"""NHS numbers, postcodes, dates and choices as a coordinator types them or a CSV holds them."""

from __future__ import annotations

import calendar
import enum
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.core.errors import ValidationError
from app.core.timeutil import LONDON
from app.core.validation import (
    format_nhs_number,
    is_valid_nhs_number,
    nhs_check_digit,
    normalise_nhs_number,
    normalise_postcode,
    parse_choice,
    parse_date,
    parse_datetime,
    random_test_nhs_number,
)

MODEST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refusal(func: Callable[..., Any], *args: Any, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    return info.value


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


# --- NHS numbers ---------------------------------------------------------------------------


@st.composite
def nhs_test_numbers(draw: st.DrawFn) -> str:
    first_nine = f"999{draw(st.integers(0, 999_999)):06d}"
    check = nhs_check_digit(first_nine)
    assume(check is not None)
    return f"{first_nine}{check}"


@pytest.mark.parametrize(
    "text",
    ["9434765919", "943 476 5919", "943-476-5919", "  943 476 5919\t", "943 - 476 - 5919"],
)
def test_nhs_number_accepts_digits_with_space_or_hyphen_separators(text: str) -> None:
    assert normalise_nhs_number(text) == "9434765919"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9.43E+09", "scientific notation ('9.43E+09'); format the column as text"),
        ("9.434765919E+09", "scientific notation"),
        ("9.434765919e9", "scientific notation"),
        ("9434765919.0", "decimal point"),
        ("943476591.9", "decimal point"),
        ("943476591A", "characters other than digits"),
        ("NHS 9434765919", "characters other than digits"),
        ("943_476_5919", "characters other than digits"),
        ("943476591", "has 9 digits; it needs 10"),
        ("94347659190", "has 11 digits; it needs 10"),
        ("-9434765919", "misplaced separators"),
        ("943--476-5919", "misplaced separators"),
        ("9434765918", "NHS number '9434765918' fails the check-digit test"),
        ("9990000000", "fails the check-digit test"),  # check digit would be 10
        ("   ", "missing"),
    ],
)
def test_nhs_number_refusals_say_what_is_wrong(text: str, expected: str) -> None:
    error = refusal(normalise_nhs_number, text)
    assert expected in str(error)
    assert error.field == "nhs_number"


def test_nhs_number_refusal_carries_the_callers_field_name() -> None:
    assert refusal(normalise_nhs_number, "123", field="nhs").field == "nhs"


def test_nhs_number_refuses_non_ascii_digits() -> None:
    assert not is_valid_nhs_number("٩٤٣٤٧٦٥٩١٩")  # Arabic-Indic 9434765919


def test_check_digit_examples() -> None:
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit("999000005") == 0  # remainder 0 gives check digit 0
    assert nhs_check_digit("999000000") is None  # check digit 10: no valid number
    assert is_valid_nhs_number("9990000050")
    with pytest.raises(ValueError):
        nhs_check_digit("94347659")


def test_format_nhs_number_groups_three_three_four() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943-476-5919") == "943 476 5919"
    with pytest.raises(ValidationError):
        format_nhs_number("9434765918")


def test_random_test_numbers_are_valid_repeatable_and_in_the_999_range() -> None:
    numbers = [random_test_nhs_number(random.Random(7)) for _ in range(2)]
    assert numbers[0] == numbers[1]
    rng = random.Random(11)
    batch = {random_test_nhs_number(rng) for _ in range(200)}
    assert len(batch) > 190
    for number in batch:
        assert len(number) == 10 and number.startswith("999")
        assert is_valid_nhs_number(number)


@MODEST
@given(st.integers(0, 2**32))
def test_generated_test_numbers_always_validate(seed: int) -> None:
    number = random_test_nhs_number(random.Random(seed))
    assert number.startswith("999")
    assert normalise_nhs_number(number) == number


@MODEST
@given(nhs_test_numbers())
def test_valid_numbers_normalise_and_format_round_trip(number: str) -> None:
    assert normalise_nhs_number(number) == number
    shown = format_nhs_number(number)
    assert shown == f"{number[:3]} {number[3:6]} {number[6:]}"
    assert normalise_nhs_number(shown) == number


@MODEST
@given(nhs_test_numbers())
def test_every_single_digit_substitution_is_rejected(number: str) -> None:
    for position in range(10):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1 :]
                assert not is_valid_nhs_number(typo), typo


@MODEST
@given(nhs_test_numbers())
def test_every_adjacent_transposition_is_rejected(number: str) -> None:
    for position in range(9):
        a, b = number[position], number[position + 1]
        if a != b:
            swapped = number[:position] + b + a + number[position + 2 :]
            assert not is_valid_nhs_number(swapped), swapped


@MODEST
@given(
    nhs_test_numbers(),
    st.lists(st.sampled_from(["", "", " ", "-", "  ", " - ", "\t"]), min_size=9, max_size=9),
    st.sampled_from(["", " ", "\t", "  "]),
)
def test_spacing_and_hyphen_variants_are_accepted(
    number: str, separators: list[str], pad: str
) -> None:
    text = "".join(d + s for d, s in zip(number, [*separators, ""], strict=True))
    assert normalise_nhs_number(pad + text + pad) == number


# --- Postcodes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LE1 5WW", "LE1 5WW"),
        ("le15ww", "LE1 5WW"),
        ("  Le1   5wW ", "LE1 5WW"),
        ("M1 1AE", "M1 1AE"),  # A9
        ("B33 8TH", "B33 8TH"),  # A99
        ("CR2 6XH", "CR2 6XH"),  # AA9
        ("DN55 1PT", "DN55 1PT"),  # AA99
        ("W1A 0AX", "W1A 0AX"),  # A9A
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A
        ("LE65 2AX", "LE65 2AX"),
        ("gir 0aa", "GIR 0AA"),
    ],
)
def test_postcode_is_normalised_to_canonical_form(text: str, expected: str) -> None:
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "QE1 5WW",  # first letter never Q
        "VE1 5WW",  # ... V
        "XE1 5WW",  # ... X
        "LI1 5WW",  # second letter never I
        "LJ1 5WW",  # ... J
        "LZ1 5WW",  # ... Z
        "W1L 0AX",  # A9A third-position letter outside ABCDEFGHJKPSTUW
        "EC1C 1BB",  # AA9A fourth-position letter outside ABEHMNPRVWXY
        "LE1 5CW",  # inward letters never C I K M O V
        "LE1 5WI",
        "LE1 5KW",
        "LE1 5WM",
        "LE1 5OW",
        "LE1 5WV",
        "LE1 WW5",
        "LE1",
        "LE1 5WWX",  # anchored at both ends
        "XLE1 5WW",
        "LE1 5WW LE1 5WW",
        "LE1-5WW",
        "LE123 5WW",
        "ＬＥ1 5WW",  # full-width letters
        "",
    ],
)
def test_postcode_refusals(text: str) -> None:
    error = refusal(normalise_postcode, text, field="home_postcode")
    assert error.field == "home_postcode"
    assert "postcode" in str(error).lower()


@MODEST
@given(st.from_regex(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", fullmatch=True))
def test_postcode_result_is_stable_under_case_and_spacing(text: str) -> None:
    try:
        canonical = normalise_postcode(text)
    except ValidationError:
        return
    assert canonical == canonical.upper() and canonical.count(" ") == 1
    assert normalise_postcode(canonical) == canonical
    assert normalise_postcode(canonical.replace(" ", "").lower()) == canonical
    assert normalise_postcode(f" {canonical.replace(' ', '   ')} ") == canonical


# --- Dates and times -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", utc(2026, 11, 23, 0, 0)),  # GMT: local midnight is 00:00 UTC
        ("2026-07-01", utc(2026, 6, 30, 23, 0)),  # BST: local midnight is 23:00 UTC
        ("2026-11-23T14:05", utc(2026, 11, 23, 14, 5)),
        ("2026-11-23 14:05", utc(2026, 11, 23, 14, 5)),
        ("2026-07-01 14:05", utc(2026, 7, 1, 13, 5)),
        ("2026-11-23T14:05:09", utc(2026, 11, 23, 14, 5, 9)),
        ("2026-11-23T14:05:09.25", datetime(2026, 11, 23, 14, 5, 9, 250000, tzinfo=UTC)),
        ("2026-07-01T14:05Z", utc(2026, 7, 1, 14, 5)),
        ("2026-11-23T14:05+01:00", utc(2026, 11, 23, 13, 5)),
        ("2026-11-23T14:05:00-05:00", utc(2026, 11, 23, 19, 5)),
        ("23/11/2026", utc(2026, 11, 23, 0, 0)),
        ("23/11/2026 14:05", utc(2026, 11, 23, 14, 5)),
        ("3/4/2026", utc(2026, 4, 2, 23, 0)),
        ("03/04/2026 09:30", utc(2026, 4, 3, 8, 30)),
        ("  23/11/2026 14:05  ", utc(2026, 11, 23, 14, 5)),
        ("2026-03-29 00:59", utc(2026, 3, 29, 0, 59)),  # just before the gap
        ("2026-03-29 02:00", utc(2026, 3, 29, 1, 0)),  # just after it
        ("2026-10-25T01:30+01:00", utc(2026, 10, 25, 0, 30)),  # the fold, made explicit
        ("2026-10-25T01:30+00:00", utc(2026, 10, 25, 1, 30)),
        ("29/02/2028", utc(2028, 2, 29, 0, 0)),
    ],
)
def test_parse_datetime_accepts(text: str, expected: datetime) -> None:
    result = parse_datetime(text, field="discharge_datetime")
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31/02/2026", "not a real date: February 2026 has 28 days"),
        ("2026-02-29", "not a real date"),
        ("31/04/2026 10:00", "April 2026 has 30 days"),
        ("0/1/2026", "not a real date"),
        ("23/11/26", "two-digit year"),
        ("26-11-23", "two-digit year"),
        ("23/11/202", "four-digit year"),
        ("13/25/2026", "dd/mm/yyyy"),
        ("2026-13-01", "month 13"),
        ("23/11/2026 25:00", "impossible time"),
        ("2026-11-23T14:60", "impossible time"),
        ("2026-11-23T14:05+24:00", "offset"),
        ("2026-03-29 01:30", "does not exist"),
        ("29/03/2026 01:00", "does not exist"),
        ("2026-10-25 01:30", "happens twice"),
        ("25/10/2026 01:59", "ambiguous"),
        ("23-11-2026", "dd/mm/yyyy or ISO 8601"),
        ("23.11.2026", "dd/mm/yyyy or ISO 8601"),
        ("2026-11-23T14", "dd/mm/yyyy or ISO 8601"),
        ("next Tuesday", "dd/mm/yyyy or ISO 8601"),
        ("0001-01-01T00:00+01:00", "outside the range"),
        ("", "No date given"),
    ],
)
def test_parse_datetime_refusals_say_what_is_wrong(text: str, expected: str) -> None:
    error = refusal(parse_datetime, text, field="discharge_datetime")
    assert expected in str(error)
    assert error.field == "discharge_datetime"


def test_ambiguous_time_asks_for_an_offset_and_names_both() -> None:
    message = str(refusal(parse_datetime, "2026-10-25 01:30", field="at"))
    assert "offset" in message and "+01:00" in message and "+00:00" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", date(2026, 11, 23)),
        ("23/11/2026", date(2026, 11, 23)),
        ("3/4/1941", date(1941, 4, 3)),
        ("1931-05-17", date(1931, 5, 17)),
        ("2026-03-29", date(2026, 3, 29)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text, field="date_of_birth") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23 14:05", "only a date"),
        ("23/11/2026 14:05", "only a date"),
        ("2026-11-23T14:05Z", "only a date"),
        ("31/02/2026", "not a real date"),
        ("13/25/2026", "dd/mm/yyyy"),
        ("23/11/26", "two-digit year"),
        ("yesterday", "dd/mm/yyyy or ISO 8601"),
    ],
)
def test_parse_date_refusals(text: str, expected: str) -> None:
    error = refusal(parse_date, text, field="date_of_birth")
    assert expected in str(error)
    assert error.field == "date_of_birth"


OFFSETS = st.one_of(
    st.sampled_from([UTC, LONDON]),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@MODEST
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 12, 31),
        timezones=OFFSETS,
        allow_imaginary=False,
    ),
    st.sampled_from(["T", " "]),
)
def test_parse_datetime_round_trips_iso_with_offset(moment: datetime, sep: str) -> None:
    result = parse_datetime(moment.isoformat(sep=sep), field="at")
    # Compared in UTC: Python never calls an ambiguous London time equal to another zone's.
    assert result == moment.astimezone(UTC)
    assert result.tzinfo is UTC


def _outcome(text: str) -> datetime | type[ValidationError]:
    try:
        return parse_datetime(text, field="at")
    except ValidationError:
        return ValidationError


@MODEST
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.one_of(st.none(), st.times().map(lambda t: t.replace(second=0, microsecond=0))),
    st.booleans(),
)
def test_uk_and_iso_forms_give_the_same_instant(
    day: date, clock: time | None, padded: bool
) -> None:
    uk = f"{day:%d/%m}/{day.year:04d}" if padded else f"{day.day}/{day.month}/{day.year:04d}"
    iso = day.isoformat()
    if clock is not None:
        uk += f" {clock:%H:%M}"
        iso += f" {clock:%H:%M}"
    assert _outcome(uk) == _outcome(iso)


def _last_sunday(year: int, month: int) -> date:
    return date(
        year, month, max(week[calendar.SUNDAY] for week in calendar.monthcalendar(year, month))
    )


@MODEST
@given(st.integers(1996, 2099), st.integers(0, 59), st.booleans())
def test_spring_forward_gap_is_refused(year: int, minute: int, uk_form: bool) -> None:
    day = _last_sunday(year, 3)
    text = f"{day:%d/%m/%Y} 01:{minute:02d}" if uk_form else f"{day} 01:{minute:02d}"
    assert "does not exist" in str(refusal(parse_datetime, text, field="at"))
    # The hour either side of the gap is fine.
    assert parse_datetime(f"{day} 02:{minute:02d}", field="at") == datetime.combine(
        day, time(1, minute), tzinfo=UTC
    )


@MODEST
@given(st.integers(1996, 2099), st.integers(0, 59), st.booleans())
def test_autumn_fold_is_refused_unless_an_offset_is_given(
    year: int, minute: int, uk_form: bool
) -> None:
    day = _last_sunday(year, 10)
    text = f"{day:%d/%m/%Y} 01:{minute:02d}" if uk_form else f"{day} 01:{minute:02d}"
    assert "ambiguous" in str(refusal(parse_datetime, text, field="at"))
    first = parse_datetime(f"{day}T01:{minute:02d}+01:00", field="at")
    second = parse_datetime(f"{day}T01:{minute:02d}+00:00", field="at")
    assert second - first == timedelta(hours=1)


# --- Choices -------------------------------------------------------------------------------


class Frailty(enum.Enum):
    FIT = "fit"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


FRAILTY = {f.value: f for f in Frailty}
OUTCOMES = {"contacted_patient": "cp", "contacted_carer": "cc", "no_answer": "na"}


@pytest.mark.parametrize("text", ["moderate", "MODERATE", "  Moderate ", "mode rate"])
def test_choice_matches_ignoring_case_and_spaces(text: str) -> None:
    assert parse_choice(text, FRAILTY, field="frailty") is Frailty.MODERATE


@pytest.mark.parametrize("text", ["Contacted Patient", "contacted_patient", "CONTACTEDPATIENT"])
def test_choice_treats_spaces_and_underscores_alike(text: str) -> None:
    assert parse_choice(text, OUTCOMES, field="outcome") == "cp"


def test_choice_refusal_lists_the_allowed_values() -> None:
    error = refusal(parse_choice, "very frail", FRAILTY, field="frailty")
    assert "'very frail'" in str(error)
    assert "fit, mild, moderate, severe" in str(error)
    assert error.field == "frailty"
    assert "fit, mild" in str(refusal(parse_choice, "  ", FRAILTY, field="frailty"))


# --- Nothing but ValidationError, whatever is typed ----------------------------------------

NASTY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 -/:.+eETZ,", max_size=30),
    st.text(alphabet="0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZgir", max_size=10),
)


@MODEST
@given(NASTY_TEXT)
def test_random_text_never_crashes_a_parser(text: str) -> None:
    checks: list[tuple[Callable[[str], object], Callable[[Any], bool]]] = [
        (normalise_nhs_number, lambda v: len(v) == 10 and v.isdigit()),
        (normalise_postcode, lambda v: v == v.upper() and " " in v),
        (lambda t: parse_datetime(t, field="f"), lambda v: v.tzinfo is UTC),
        (lambda t: parse_date(t, field="f"), lambda v: isinstance(v, date)),
        (lambda t: parse_choice(t, FRAILTY, field="f"), lambda v: isinstance(v, Frailty)),
    ]
    for parse, good in checks:
        try:
            result = parse(text)
        except ValidationError as error:
            assert error.field is not None
            assert "\n" not in str(error)  # one line for the CLI and the status bar
        else:
            assert good(result)
