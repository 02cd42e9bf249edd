"""Checks and normalisation for what people type or import: NHS numbers, postcodes, dates.

Every refusal is a ``ValidationError`` with one sentence saying what is wrong with the value
and ``field`` set, so the caller can add where it came from (file, line, column, option).
Nothing here touches Qt or the database.
"""

from __future__ import annotations

import calendar
import random
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, TypeVar

from app.core.errors import ValidationError
from app.core.timeutil import LONDON

T = TypeVar("T")

_SHOWN_MAX = 40


def _shown(text: str) -> str:
    """The user's value, quoted for a message: one line, and cut short if very long."""
    value = text.strip()
    if len(value) > _SHOWN_MAX:
        value = value[: _SHOWN_MAX - 1] + "…"
    return repr(value)


# --- NHS numbers ---------------------------------------------------------------------------

_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_NHS_GROUPED = re.compile(r"[0-9]+(?:(?:\s*-\s*|\s+)[0-9]+)*")
_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")
_NHS_CHARS = re.compile(r"[0-9\s-]+")


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid check digit exists."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("nhs_check_digit needs exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(text: str, *, field: str = "nhs_number") -> str:
    """Ten plain digits from an NHS number typed with or without space/hyphen separators."""
    value = text.strip()
    shown = _shown(text)
    if not value:
        raise ValidationError("NHS number is missing.", field=field)
    if _SCIENTIFIC.fullmatch(value):
        raise ValidationError(
            f"NHS number looks like a spreadsheet number in scientific notation ({shown}); "
            "format the column as text.",
            field=field,
        )
    if _DECIMAL.fullmatch(value):
        raise ValidationError(
            f"NHS number {shown} has a decimal point; it must be 10 digits "
            "(if it came from a spreadsheet, format the column as text).",
            field=field,
        )
    if not _NHS_CHARS.fullmatch(value):
        raise ValidationError(
            f"NHS number {shown} contains characters other than digits, spaces and hyphens.",
            field=field,
        )
    if not _NHS_GROUPED.fullmatch(value):
        raise ValidationError(
            f"NHS number {shown} has misplaced separators; write it as 10 digits, "
            "for example 943 476 5919.",
            field=field,
        )
    digits = re.sub(r"[^0-9]", "", value)
    if len(digits) != 10:
        raise ValidationError(
            f"NHS number {shown} has {len(digits)} digits; it needs 10.", field=field
        )
    if nhs_check_digit(digits[:9]) != int(digits[9]):
        raise ValidationError(f"NHS number {shown} fails the check-digit test.", field=field)
    return digits


def is_valid_nhs_number(text: str) -> bool:
    try:
        normalise_nhs_number(text)
    except ValidationError:
        return False
    return True


def format_nhs_number(digits: str) -> str:
    """'943 476 5919' for display; raises ValidationError if the number is not valid."""
    d = normalise_nhs_number(digits)
    return f"{d[:3]} {d[3:6]} {d[6:]}"


def random_test_nhs_number(rng: random.Random) -> str:
    """A valid NHS number from the 999 test range (never issued to a real person)."""
    while True:
        first_nine = f"999{rng.randrange(1_000_000):06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"


# --- Postcodes -----------------------------------------------------------------------------

_P1 = "[A-PR-UWYZ]"  # first position: not Q V X
_P2 = "[A-HK-Y]"  # second position: not I J Z
_P3 = "[ABCDEFGHJKPSTUW]"  # third position letter, A9A only
_P4 = "[ABEHMNPRVWXY]"  # fourth position letter, AA9A only
_INWARD = "[0-9][ABD-HJLNP-UW-Z]{2}"  # inward letters: never C I K M O V
_OUTWARD = (
    f"{_P1}[0-9]"  # A9
    f"|{_P1}[0-9]{{2}}"  # A99
    f"|{_P1}{_P2}[0-9]"  # AA9
    f"|{_P1}{_P2}[0-9]{{2}}"  # AA99
    f"|{_P1}[0-9]{_P3}"  # A9A
    f"|{_P1}{_P2}[0-9]{_P4}"  # AA9A
)
_POSTCODE = re.compile(f"(?:{_OUTWARD}){_INWARD}|GIR0AA")


def normalise_postcode(text: str, *, field: str = "postcode") -> str:
    """The canonical form of a UK postcode ('LE1 5WW'), whatever its case and spacing."""
    compact = re.sub(r"\s+", "", text).upper()
    if not compact:
        raise ValidationError("Postcode is missing.", field=field)
    if not compact.isascii() or not _POSTCODE.fullmatch(compact):
        raise ValidationError(
            f"Postcode {_shown(text)} is not a valid UK postcode (expected a form like LE1 5WW).",
            field=field,
        )
    return f"{compact[:-3]} {compact[-3:]}"


# --- Dates and times -----------------------------------------------------------------------

_UK = re.compile(
    r"(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]+)"
    r"(?:\s+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)
_ISO = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:(?:[Tt]|\s+)(?P<H>[0-9]{2}):(?P<M>[0-9]{2})"
    r"(?::(?P<S>[0-9]{2})(?P<frac>[.,][0-9]+)?)?"
    r"(?P<tz>[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_TWO_DIGIT_YEAR_ISO = re.compile(r"[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\s].*)?")
_FORMS = "use dd/mm/yyyy or ISO 8601 (2026-11-23), optionally with a time such as 14:05"


class _Parsed(NamedTuple):
    value: datetime  # naive = Europe/London wall time; aware = an explicit offset was given
    has_time: bool


def _check_day(year: int, month: int, day: int, shown: str, field: str, uk: bool) -> date:
    if not 1 <= month <= 12:
        hint = "; dates are read as dd/mm/yyyy" if uk else ""
        raise ValidationError(
            f"{shown} has month {month}, which does not exist{hint}.", field=field
        )
    if year < 1:
        raise ValidationError(
            f"{shown} has year {year:04d}, which is not a real year.", field=field
        )
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValidationError(
            f"{shown} is not a real date: {calendar.month_name[month]} {year} has {last} days.",
            field=field,
        )
    return date(year, month, day)


def _check_time(hour: int, minute: int, second: int, shown: str, field: str) -> time:
    if hour > 23 or minute > 59 or second > 59:
        raise ValidationError(
            f"{shown} has an impossible time of day {hour:02d}:{minute:02d}.", field=field
        )
    return time(hour, minute, second)


def _parse_uk(m: re.Match[str], shown: str, field: str) -> _Parsed:
    year_text = m["y"]
    if len(year_text) == 2:
        raise ValidationError(
            f"{shown} has a two-digit year; write the year in full (dd/mm/yyyy).", field=field
        )
    if len(year_text) != 4:
        raise ValidationError(f"{shown} needs a four-digit year (dd/mm/yyyy).", field=field)
    day = _check_day(int(year_text), int(m["m"]), int(m["d"]), shown, field, uk=True)
    if m["H"] is None:
        return _Parsed(datetime.combine(day, time()), has_time=False)
    clock = _check_time(int(m["H"]), int(m["M"]), int(m["S"] or 0), shown, field)
    return _Parsed(datetime.combine(day, clock), has_time=True)


def _parse_iso(m: re.Match[str], shown: str, field: str) -> _Parsed:
    day = _check_day(int(m["y"]), int(m["m"]), int(m["d"]), shown, field, uk=False)
    if m["H"] is None:
        return _Parsed(datetime.combine(day, time()), has_time=False)
    _check_time(int(m["H"]), int(m["M"]), int(m["S"] or 0), shown, field)
    iso = f"{day.isoformat()}T{m['H']}:{m['M']}"
    if m["S"] is not None:
        iso += f":{m['S']}{m['frac'] or ''}"
    if m["tz"] is not None:
        iso += m["tz"].upper()
    try:
        return _Parsed(datetime.fromisoformat(iso), has_time=True)
    except ValueError:  # the date and time were checked above, so it is the offset
        raise ValidationError(
            f"{shown} has an impossible UTC offset {m['tz']}.", field=field
        ) from None


def _parse(text: str, field: str, forms: str) -> _Parsed:
    value = text.strip()
    shown = _shown(text)
    if not value:
        raise ValidationError(f"No date given; {forms}.", field=field)
    if m := _UK.fullmatch(value):
        return _parse_uk(m, shown, field)
    if m := _ISO.fullmatch(value):
        return _parse_iso(m, shown, field)
    if _TWO_DIGIT_YEAR_ISO.fullmatch(value):
        raise ValidationError(
            f"{shown} has a two-digit year; write the year in full (2026-11-23).", field=field
        )
    raise ValidationError(f"{shown} is not a date this app can read; {forms}.", field=field)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _london_to_utc(wall: datetime, shown: str, field: str) -> datetime:
    """UTC instant of a Europe/London wall time, refusing times skipped or repeated by DST."""
    early = wall.replace(tzinfo=LONDON, fold=0)
    late = wall.replace(tzinfo=LONDON, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early.astimezone(UTC)
    if early.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != wall:
        raise ValidationError(
            f"{shown} does not exist in UK time, because the clocks go forward an hour "
            "that night; check the time, or give it with a UTC offset.",
            field=field,
        )
    raise ValidationError(
        f"{shown} is ambiguous: that time happens twice in the UK when the clocks go back, "
        f"so add an offset ({_offset(early.utcoffset())} for the first, "
        f"{_offset(late.utcoffset())} for the second).",
        field=field,
    )


def parse_datetime(text: str, *, field: str) -> datetime:
    """An aware UTC datetime from ISO 8601 or dd/mm/yyyy [HH:MM] text.

    Without an offset the text is Europe/London local time; a date alone means local midnight.
    """
    parsed = _parse(text, field, _FORMS)
    try:
        if parsed.value.tzinfo is not None:
            return parsed.value.astimezone(UTC)
        return _london_to_utc(parsed.value, _shown(text), field)
    except OverflowError:
        raise ValidationError(
            f"{_shown(text)} is outside the range of dates this app can handle.", field=field
        ) from None


def parse_date(text: str, *, field: str) -> date:
    """A calendar date from ISO 8601 (2026-11-23) or dd/mm/yyyy text; a time is refused."""
    parsed = _parse(text, field, "use dd/mm/yyyy or ISO 8601 (2026-11-23)")
    if parsed.has_time:
        raise ValidationError(
            f"{_shown(text)} includes a time, but only a date is wanted here.", field=field
        )
    return parsed.value.date()


# --- Choices -------------------------------------------------------------------------------


def _choice_key(text: str) -> str:
    return re.sub(r"[\s_]+", "", text).casefold()


def parse_choice(text: str, choices: Mapping[str, T], *, field: str) -> T:
    """The value whose key matches ``text``, ignoring case, spaces and underscores."""
    wanted = _choice_key(text)
    for key, value in choices.items():
        if _choice_key(key) == wanted:
            return value
    allowed = ", ".join(choices)
    if not wanted:
        raise ValidationError(f"No value given; expected one of: {allowed}.", field=field)
    raise ValidationError(f"{_shown(text)} is not one of: {allowed}.", field=field)
