"""UTC storage, Europe/London display, ISO week boundaries in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def ensure_utc(value: datetime) -> datetime:
    """Aware datetime in UTC; a naive value is refused (it would be ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone before storing")
    return value.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    return ensure_utc(value).astimezone(LONDON)


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant of 00:00 Europe/London on ``day``."""
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


def iso_week_bounds(year: int, week: int) -> tuple[datetime, datetime]:
    """[start, end) of ISO week ``year-Www`` as UTC instants of local Monday midnights."""
    monday = date.fromisocalendar(year, week, 1)
    return local_midnight_utc(monday), local_midnight_utc(monday + timedelta(days=7))


def iso_week_of(value: datetime) -> str:
    """'2026-W47' for the local (Europe/London) date of an instant."""
    y, w, _ = to_local(value).isocalendar()
    return f"{y}-W{w:02d}"


def parse_iso_week(text: str) -> tuple[int, int]:
    """'2026-W47' -> (2026, 47); ValueError on anything else."""
    t = text.strip().upper()
    if len(t) != 8 or t[4:6] != "-W" or not (t[:4].isdigit() and t[6:].isdigit()):
        raise ValueError(f"week must look like 2026-W47, not {text!r}")
    year, week = int(t[:4]), int(t[6:])
    date.fromisocalendar(year, week, 1)  # raises ValueError for week 53 in a 52-week year
    return year, week


def format_utc(value: datetime) -> str:
    """Canonical UTC ISO 8601 text with a 'Z', seconds precision unless there are micros."""
    v = ensure_utc(value)
    text = v.isoformat(timespec="microseconds" if v.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def format_local(value: datetime, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return to_local(value).strftime(fmt)


def age_on(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
