"""The weekly summary's post-discharge figures (DESIGN.md §3), counted by SQLite.

:func:`app.services.metrics.figures_for_weeks` loads every discharge of the weeks with its
patient's admissions and calls and judges each one in Python; on a large team (≈ 17,000
discharges in 12 weeks at 50,000 patients) that is most of the weekly summary's time. Here
the same definitions are written as one aggregate statement, which returns a handful of rows
(week, status, readmitted, eligible, count); the tests check it against the Python
definitions on the edge cases (the 48-hour and 30-day bounds, clock changes, report time).

Each definition of :mod:`app.services.metrics`, as SQL:

- deadline / 30-day window end: the discharge's stored UTC text plus 48 h / 30 days. Instants
  are stored as naive UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` by
  :class:`app.models.base.UTCDateTime`, so they compare as text, and UTC has no clock changes:
  the bound is the date two (thirty) days after the discharge's UTC date followed by the
  discharge's own time of day, exact to the microsecond. The discharges are read from their
  index one UTC day (within one week) at a time, and each day comes with those two dates,
  worked out in Python: no date arithmetic is done per discharge.
- met: a call on this discharge (and patient) with a contact outcome at
  ``t_d <= t_call <= deadline``, and by the report time.
- excluded: not met, and known by the report time: another admission of the patient starting
  in ``(t_d, deadline)`` (each discharge's next stay is looked up in the patient's stays
  index); a ``readmitted`` call at ``t_d <= t < deadline``; a ``deceased`` call
  before the deadline; or a date of death whose local day began before the deadline (local
  midnights come from :func:`app.core.timeutil.local_midnight_utc`, passed in as a small table).
- pending while the report time is at or before the deadline, missed after it.
- readmitted: another admission starting in ``(t_d, t_d + 30 days]`` by the report time;
  eligible when readmitted or the 30 days had passed by the report time.
- week: ``t_d`` between the UTC instants of the local Monday midnights of the weeks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from app.core.timeutil import ensure_utc, iso_week_bounds, local_midnight_utc, to_local
from app.models import Admission, CallAttempt, Patient
from app.models.admission import CONTACT_OUTCOMES
from app.models.base import UTCDateTime
from app.services import metrics
from app.sync.changelog import stored_datetime

READMITTED = "readmitted"
DECEASED = "deceased"

_UTC = UTCDateTime()


def _instant(value: datetime) -> ColumnElement[Any]:
    """A bound instant, stored-text form (compares with the columns as text)."""
    return literal(ensure_utc(value), _UTC)


def _table(name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> CTE:
    """A small constant table, passed as one JSON parameter (so that the statement's text does
    not depend on it and is compiled once, not on every report)."""
    each = func.json_each(literal(json.dumps(rows), String)).table_valued("value")
    return (
        select(
            *(func.json_extract(each.c.value, f"$[{i}]").label(c) for i, c in enumerate(columns))
        )
        .cte(name)
        .prefix_with("MATERIALIZED")  # read once; and, as a table, known to be small
    )


def _whole_days(span: timedelta) -> timedelta:
    assert span == timedelta(days=span.days), "whole days only"
    return span


def _stay_start(a: Any) -> ColumnElement[Any]:
    """When a stay began: the admission time, else (at the latest) the discharge."""
    return func.coalesce(a.admitted_at, a.discharged_at)


def _segments(start: datetime, ends: Sequence[datetime]) -> list[tuple[str, str, int, str, str]]:
    """``[start, ends[-1])`` cut at the weeks' ends and at every UTC midnight: for each piece,
    its bounds, its week's index, and the stored-text dates 48 hours and 30 days after its
    UTC date (an instant of the piece plus 48 h / 30 days is that date and the same time of
    day, as UTC has no clock changes)."""
    cuts = set(ends)
    midnight = datetime.combine(start.date(), time(0, 0), tzinfo=UTC) + timedelta(days=1)
    while midnight < ends[-1]:
        cuts.add(midnight)
        midnight += timedelta(days=1)
    out = []
    lo, week = start, 0
    for hi in sorted(cuts):
        day = lo.date()
        out.append(
            (
                stored_datetime(lo),
                stored_datetime(hi),
                week,
                (day + _whole_days(metrics.FOLLOW_UP_WINDOW)).isoformat(),
                (day + _whole_days(metrics.READMISSION_WINDOW)).isoformat(),
            )
        )
        if hi == ends[week]:
            week += 1
        lo = hi
    return out


def figures_for_weeks(
    session: Session, *, weeks: Sequence[tuple[int, int]], as_of: datetime
) -> list[metrics.WeekFigures]:
    """Week-by-week figures for consecutive ISO weeks ``(year, week)``: the same figures as
    :func:`app.services.metrics.figures_for_weeks`, from one aggregate statement."""
    if not weeks:
        return []
    as_of = ensure_utc(as_of)
    ends = [iso_week_bounds(*w)[1] for w in weeks]
    start = iso_week_bounds(*weeks[0])[0]
    report_time = _instant(as_of)

    # The discharges of the weeks, known by the report time, each with its week and bounds:
    # the admissions' discharge-time index is read piece by piece (a UTC day within a week),
    # and each piece gives its discharges' week and the dates of their deadline and 30-day
    # window end, so that no date arithmetic is done per discharge.
    seg = _table("seg", ("lo", "hi", "wk", "plus_48h", "plus_30d"), _segments(start, ends))
    a = Admission
    time_of_day = func.substr(a.discharged_at, 11)
    discharges = (
        select(
            seg.c.wk.label("wk"),
            literal_column("admissions.rowid").label("rid"),
            a.id.label("id"),
            a.patient_id.label("pid"),
            a.discharged_at.label("td"),
            type_coerce(seg.c.plus_48h.op("||")(time_of_day), String).label("dl"),
            type_coerce(seg.c.plus_30d.op("||")(time_of_day), String).label("rl"),
        )
        .select_from(seg)
        .join(
            a,
            and_(
                a.discharged_at >= seg.c.lo,
                a.discharged_at < seg.c.hi,
                a.discharged_at <= report_time,
            ),
        )
        .cte("d")
        .prefix_with("MATERIALIZED")
    )
    d = discharges.c

    # The contacts of the weeks, read in one pass over the calls' outcome index (looking each
    # discharge's calls up through the admission index reads call rows one page at a time),
    # and apart from them the few calls that exclude: readmitted, deceased.
    c_ = CallAttempt
    contacts = (
        select(
            c_.admission_id.label("aid"),
            c_.patient_id.label("pid"),
            c_.called_at.label("t"),
        )
        .where(
            c_.outcome.in_(CONTACT_OUTCOMES),
            c_.called_at >= _instant(start),
            c_.called_at <= report_time,
        )
        .cte("c")
        .prefix_with("MATERIALIZED")
    )
    c = contacts.c
    excluding = (
        select(
            c_.patient_id.label("pid"),
            c_.called_at.label("t"),
            c_.outcome.label("outcome"),
        )
        .where(
            c_.called_at <= report_time,
            or_(
                and_(c_.outcome == READMITTED, c_.called_at >= _instant(start)),
                c_.outcome == DECEASED,
            ),
        )
        .cte("x")
        .prefix_with("MATERIALIZED")
    )
    x = excluding.c

    o = aliased(Admission, name="o")
    next_stay = (
        select(func.min(_stay_start(o)))
        .where(
            o.patient_id == d.pid,
            literal_column("o.rowid") != d.rid,
            _stay_start(o) > d.td,
            _stay_start(o) <= report_time,
        )
        .scalar_subquery()
    )
    met = exists().where(c.aid == d.id, c.pid == d.pid, c.t >= d.td, c.t <= d.dl)
    judged = (
        select(
            d.wk.label("wk"),
            d.pid.label("pid"),
            d.td.label("td"),
            d.dl.label("dl"),
            d.rl.label("rl"),
            met.label("met"),
            next_stay.label("nxt"),
        )
        .cte("e")
        .prefix_with("MATERIALIZED")
    )
    e = judged.c

    call_exclusion = exists().where(
        x.pid == e.pid,
        x.t < e.dl,
        or_(and_(x.outcome == READMITTED, x.t >= e.td), x.outcome == DECEASED),
    )
    # Dates of death: a day before the first week began before every deadline; a day after the
    # report time's day (or after the last deadline's day) is not known / too late; the days
    # between are looked up in a small table of local midnights.
    first_day = to_local(start).date()
    last_day = min(to_local(as_of).date(), to_local(ends[-1] + metrics.FOLLOW_UP_WINDOW).date())
    days = _table(
        "days",
        ("day", "began"),
        [
            (day.isoformat(), stored_datetime(local_midnight_utc(day)))
            for day in (
                first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)
            )
        ],
    )
    day_began = select(days.c.began).where(days.c.day == Patient.date_of_death).scalar_subquery()
    death_exclusion = exists().where(
        Patient.id == e.pid,
        Patient.date_of_death <= last_day,
        or_(Patient.date_of_death < first_day, day_began < e.dl),
    )
    status = case(
        (e.met == 1, metrics.MET),
        (e.nxt < e.dl, metrics.EXCLUDED),
        (call_exclusion, metrics.EXCLUDED),
        (death_exclusion, metrics.EXCLUDED),
        (report_time <= e.dl, metrics.PENDING),
        else_=metrics.MISSED,
    )
    # Whether the 30-day window had closed by the report time is the same comparison moved
    # to the discharge.
    readmitted = and_(e.nxt.is_not(None), e.nxt <= e.rl)
    eligible = or_(readmitted, e.td <= _instant(as_of - metrics.READMISSION_WINDOW))
    outcomes = (
        select(
            e.wk.label("wk"),
            status.label("status"),
            case((readmitted, 1), else_=0).label("readmitted"),
            case((eligible, 1), else_=0).label("eligible"),
        )
        .cte("f")
        .prefix_with("MATERIALIZED")
    )
    f = outcomes.c
    counts: list[dict[str, int]] = [{} for _ in weeks]
    for wk, st, was_readmitted, was_eligible, n in session.execute(
        select(f.wk, f.status, f.readmitted, f.eligible, func.count()).group_by(
            f.wk, f.status, f.readmitted, f.eligible
        )
    ):
        row = counts[wk]
        row[st] = row.get(st, 0) + n
        row["eligible"] = row.get("eligible", 0) + (n if was_eligible else 0)
        row["readmitted"] = row.get("readmitted", 0) + (n if was_readmitted else 0)

    out = []
    for (year, number), row in zip(weeks, counts, strict=True):
        met_n, missed_n = row.get(metrics.MET, 0), row.get(metrics.MISSED, 0)
        eligible_n, readmitted_n = row.get("eligible", 0), row.get("readmitted", 0)
        out.append(
            metrics.WeekFigures(
                week=f"{year}-W{number:02d}",
                discharges=sum(row.get(s, 0) for s in metrics.FOLLOW_UP_STATUSES),
                met=met_n,
                missed=missed_n,
                pending=row.get(metrics.PENDING, 0),
                excluded=row.get(metrics.EXCLUDED, 0),
                pct_within_48h=metrics.pct_within_48h(met_n, missed_n),
                readmission_eligible=eligible_n,
                readmitted=readmitted_n,
                readmission_rate_pct=metrics.percent(readmitted_n, eligible_n),
            )
        )
    return out
