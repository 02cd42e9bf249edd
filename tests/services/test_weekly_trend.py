"""The weekly summary's post-discharge figures counted in SQL (app.services.weekly_trend) are
the figures of the Python definitions (app.services.metrics, DESIGN.md §3): edge cases at the
48-hour and 30-day bounds, week boundaries and clock changes, report times, deaths."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from app.context import AppContext
from app.core.timeutil import iso_week_bounds, to_local
from app.core.validation import random_test_nhs_number
from app.models import Admission, CallAttempt, Patient
from app.services import metrics, weekly_trend

H = timedelta(hours=1)
US = timedelta(microseconds=1)
DAY = timedelta(days=1)
WINDOW = metrics.FOLLOW_UP_WINDOW
OUTCOMES = ("contacted_patient", "contacted_carer", "no_answer", "voicemail", "readmitted",
            "deceased")  # fmt: skip


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def weeks_ending(instant: datetime, n: int = 12) -> list[tuple[int, int]]:
    y, w, _ = to_local(instant).isocalendar()
    monday = date.fromisocalendar(y, w, 1)
    out = []
    for back in range(n - 1, -1, -1):
        yy, ww, _ = (monday - timedelta(weeks=back)).isocalendar()
        out.append((yy, ww))
    return out


class Team:
    """Patients, stays and calls written straight into the tables (no service checks), so the
    edge cases the services refuse can be stored too."""

    def __init__(self, ctx: AppContext, seed: int = 0) -> None:
        self.ctx = ctx
        self.rng = random.Random(seed)
        self.nhs: set[str] = set()

    def patient(self, died: date | None = None) -> str:
        nhs = random_test_nhs_number(self.rng)
        while nhs in self.nhs:
            nhs = random_test_nhs_number(self.rng)
        self.nhs.add(nhs)
        with self.ctx.db.write() as s:
            p = Patient(
                nhs_number=nhs, family_name="Example", given_name="Olwen",
                date_of_birth=date(1940, 1, 1), date_of_death=died, created_at=utc(2026, 1, 1),
            )  # fmt: skip
            s.add(p)
            s.flush()
            return p.id

    def stay(self, pid: str, admitted: datetime | None, discharged: datetime | None) -> str:
        with self.ctx.db.write() as s:
            a = Admission(
                patient_id=pid, admitted_at=admitted, discharged_at=discharged,
                created_at=utc(2026, 1, 1),
            )  # fmt: skip
            s.add(a)
            s.flush()
            return a.id

    def call(self, aid: str | None, pid: str, when: datetime, outcome: str) -> None:
        with self.ctx.db.write() as s:
            s.add(CallAttempt(admission_id=aid, patient_id=pid, called_at=when, outcome=outcome))


def both(
    ctx: AppContext, weeks: list[tuple[int, int]], as_of: datetime
) -> list[metrics.WeekFigures]:
    """The SQL figures, after checking they equal the Python definitions' figures."""
    with ctx.db.read() as s:
        sql = weekly_trend.figures_for_weeks(s, weeks=weeks, as_of=as_of)
        python = metrics.figures_for_weeks(s, weeks=weeks, as_of=as_of)
    assert sql == python
    return sql


def week_of(ctx: AppContext, t_d: datetime, as_of: datetime) -> metrics.WeekFigures:
    ((year, number),) = weeks_ending(t_d, 1)
    label = f"{year}-W{number:02d}"
    (figures,) = [f for f in both(ctx, weeks_ending(as_of), as_of) if f.week == label]
    return figures


def counts(f: metrics.WeekFigures) -> tuple[int, int, int, int, int]:
    return f.discharges, f.met, f.missed, f.pending, f.excluded


T_D = utc(2026, 11, 16, 10, 0) + timedelta(seconds=59, microseconds=999_999)  # a Monday, GMT
AS_OF = utc(2026, 11, 23, 9)


@pytest.mark.parametrize(
    ("offset", "outcome", "expected"),
    [
        (WINDOW, "contacted_patient", (1, 1, 0, 0, 0)),  # exactly 48 h: met
        (WINDOW + US, "contacted_patient", (1, 0, 1, 0, 0)),  # a microsecond late: missed
        (timedelta(0), "contacted_carer", (1, 1, 0, 0, 0)),  # at the moment of discharge
        (-US, "contacted_patient", (1, 0, 1, 0, 0)),  # before the discharge: not this one
        (WINDOW, "no_answer", (1, 0, 1, 0, 0)),
        (WINDOW - US, "readmitted", (1, 0, 0, 0, 1)),  # readmitted just before the deadline
        (WINDOW, "readmitted", (1, 0, 1, 0, 0)),  # ... and at it: too late to exclude
        (-DAY, "readmitted", (1, 0, 1, 0, 0)),  # a readmitted call before the discharge
        (-DAY, "deceased", (1, 0, 0, 0, 1)),  # deceased before: excluded
        (WINDOW, "deceased", (1, 0, 1, 0, 0)),
    ],
)
def test_calls_on_the_48_hour_bounds(
    ctx: AppContext, offset: timedelta, outcome: str, expected: tuple[int, ...]
) -> None:
    team = Team(ctx)
    pid = team.patient()
    aid = team.stay(pid, T_D - 3 * DAY, T_D)
    team.call(aid, pid, T_D + offset, outcome)
    assert counts(week_of(ctx, T_D, AS_OF)) == expected


def test_a_report_at_the_deadline_is_pending_and_a_microsecond_later_missed(
    ctx: AppContext,
) -> None:
    team = Team(ctx)
    pid = team.patient()
    aid = team.stay(pid, None, T_D)  # no admission time: the stay starts at its discharge
    team.call(aid, pid, T_D + H, "voicemail")
    team.call(aid, pid, T_D + WINDOW + H, "contacted_patient")  # late, and after the report
    assert counts(week_of(ctx, T_D, T_D + WINDOW)) == (1, 0, 0, 1, 0)
    assert counts(week_of(ctx, T_D, T_D + WINDOW + US)) == (1, 0, 1, 0, 0)
    assert counts(week_of(ctx, T_D, T_D + H - US)) == (1, 0, 0, 1, 0)


def test_calls_on_another_discharge_or_for_another_patient_do_not_count(
    ctx: AppContext,
) -> None:
    team = Team(ctx)
    pid, other = team.patient(), team.patient()
    aid = team.stay(pid, T_D - 3 * DAY, T_D)
    earlier = team.stay(pid, T_D - 30 * DAY, T_D - 20 * DAY)
    team.call(earlier, pid, T_D + H, "contacted_patient")
    team.call(None, pid, T_D + 2 * H, "contacted_patient")
    team.call(aid, other, T_D + 3 * H, "contacted_patient")
    team.call(aid, other, T_D + 4 * H, "deceased")  # another patient's death
    assert counts(week_of(ctx, T_D, AS_OF)) == (1, 0, 1, 0, 0)


@pytest.mark.parametrize(
    ("starts", "expected", "readmitted"),
    [
        (H, (1, 0, 0, 0, 1), 1),
        (WINDOW - US, (1, 0, 0, 0, 1), 1),
        (WINDOW, (1, 0, 1, 0, 0), 1),  # readmitted at the deadline: missed, still readmitted
        (30 * DAY, (1, 0, 1, 0, 0), 1),  # the 30-day window includes its end
        (30 * DAY + US, (1, 0, 1, 0, 0), 0),
        (timedelta(0), (1, 0, 1, 0, 0), 0),  # starting at the discharge is not after it
    ],
)
def test_another_stay_on_the_48_hour_and_30_day_bounds(
    ctx: AppContext, starts: timedelta, expected: tuple[int, ...], readmitted: int
) -> None:
    team = Team(ctx)
    pid = team.patient()
    team.stay(pid, T_D - 3 * DAY, T_D)
    team.stay(pid, T_D + starts, None)
    late = T_D + 40 * DAY
    f = week_of(ctx, T_D, late)
    assert counts(f) == expected
    assert (f.readmission_eligible, f.readmitted) == (1, readmitted)


def test_a_readmission_is_counted_once_known_and_eligibility_waits_for_30_days(
    ctx: AppContext,
) -> None:
    team = Team(ctx)
    pid = team.patient()
    team.stay(pid, T_D - 3 * DAY, T_D)
    team.stay(pid, T_D + 10 * DAY, T_D + 12 * DAY)
    quiet = team.patient()
    team.stay(quiet, T_D - 2 * DAY, T_D + H)
    for as_of, eligible, readmitted in [
        (T_D + 10 * DAY - US, 0, 0),
        (T_D + 10 * DAY, 1, 1),
        (T_D + H + 30 * DAY - US, 1, 1),
        (T_D + H + 30 * DAY, 2, 1),
    ]:
        f = week_of(ctx, T_D, as_of)
        assert (f.readmission_eligible, f.readmitted) == (eligible, readmitted), as_of


def test_week_boundaries_are_local_midnights_across_the_clock_changes(ctx: AppContext) -> None:
    team = Team(ctx)
    pid = team.patient()
    # Sunday 23:30 UTC in summer is Monday 00:30 BST: the next week. In winter it is Sunday.
    summer = [utc(2026, 10, 18, 22, 59), utc(2026, 10, 18, 23, 0), utc(2026, 10, 18, 23, 30)]
    winter = [utc(2026, 11, 1, 23, 59), utc(2026, 11, 2, 0, 0) - US, utc(2026, 11, 2, 0, 0)]
    # The clocks go back on Sunday 25 October: a 48-hour window across it is still 48 hours.
    across = utc(2026, 10, 24, 12, 0)
    for t in (*summer, *winter, across):
        aid = team.stay(pid, None, t)
        team.call(aid, pid, t + WINDOW, "contacted_patient")
    figures = {f.week: f.discharges for f in both(ctx, weeks_ending(AS_OF), AS_OF)}
    assert figures["2026-W42"] == 1  # Sunday 18 October 23:59 BST
    assert figures["2026-W43"] == 3  # Monday 19 October 00:00 and 00:30 BST; 24 October
    assert figures["2026-W44"] == 2  # Sunday 1 November 23:59 GMT, and a microsecond before
    assert figures["2026-W45"] == 1
    assert sum(f.met for f in both(ctx, weeks_ending(AS_OF), AS_OF)) == 7


@pytest.mark.parametrize(
    ("died", "excluded"),
    [
        (date(2026, 7, 4), 1),  # deadline 23:30 UTC on the 3rd is 00:30 BST on the 4th
        (date(2026, 7, 5), 0),
        (date(2026, 6, 1), 1),  # long before (a date of death entered late)
    ],
)
def test_a_date_of_death_counts_from_the_local_midnight(
    ctx: AppContext, died: date, excluded: int
) -> None:
    team = Team(ctx)
    pid = team.patient(died=died)
    t_d = utc(2026, 7, 1, 23, 30)
    team.stay(pid, t_d - 3 * DAY, t_d)
    f = week_of(ctx, t_d, utc(2026, 7, 20, 9))
    assert (f.excluded, f.missed) == (excluded, 1 - excluded)


def test_a_date_of_death_after_the_report_time_is_not_known_yet(ctx: AppContext) -> None:
    team = Team(ctx)
    t_d = utc(2026, 11, 20, 10)
    pid = team.patient(died=date(2026, 11, 21))
    team.stay(pid, t_d - DAY, t_d)
    assert counts(week_of(ctx, t_d, utc(2026, 11, 20, 23, 59))) == (1, 0, 0, 1, 0)
    assert counts(week_of(ctx, t_d, utc(2026, 11, 21, 0, 0))) == (1, 0, 0, 0, 1)


def test_discharges_after_the_report_time_and_outside_the_weeks_are_left_out(
    ctx: AppContext,
) -> None:
    team = Team(ctx)
    pid = team.patient()
    first = iso_week_bounds(*weeks_ending(AS_OF)[0])[0]
    team.stay(pid, None, first - US)
    team.stay(pid, None, first)
    team.stay(pid, None, AS_OF)
    team.stay(pid, None, AS_OF + US)
    figures = both(ctx, weeks_ending(AS_OF), AS_OF)
    assert [f.discharges for f in figures if f.discharges] == [1, 1]
    with ctx.db.read() as s:
        assert weekly_trend.figures_for_weeks(s, weeks=[], as_of=AS_OF) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_around_the_bounds_give_the_same_figures(
    ctx: AppContext, seed: int
) -> None:
    """Patients with several stays, calls of every outcome at and around the bounds, deaths;
    reports at times on and around the deadlines, in summer, winter and across a clock change."""
    team = Team(ctx, seed)
    rng = team.rng
    base = utc(2026, 10, 5, 0, 0)  # three weeks before the clocks go back
    offsets = [timedelta(0), US, H, WINDOW - US, WINDOW, WINDOW + US, 3 * DAY, 30 * DAY,
               30 * DAY + US, -US, -H]  # fmt: skip
    deadlines: list[datetime] = []
    for _ in range(25):
        died = base.date() + timedelta(days=rng.randrange(0, 60)) if rng.random() < 0.2 else None
        pid = team.patient(died=died)
        t = base + timedelta(minutes=rng.randrange(0, 50 * 24 * 60))
        stays = []
        for _ in range(rng.randrange(1, 4)):
            admitted = None if rng.random() < 0.2 else t - timedelta(hours=rng.randrange(1, 200))
            discharged = None if rng.random() < 0.1 else t
            stays.append(team.stay(pid, admitted, discharged))
            deadlines.append(t + WINDOW)
            t += (
                rng.choice(offsets[1:])
                if rng.random() < 0.5
                else rng.choice([WINDOW, 2 * DAY, 10 * DAY, 30 * DAY, 31 * DAY])
            )
        for aid in stays:
            for _ in range(rng.randrange(0, 4)):
                anchor = rng.choice(deadlines[-len(stays) :]) - WINDOW
                team.call(
                    rng.choice([aid, None]) if rng.random() < 0.2 else aid,
                    pid,
                    anchor + rng.choice(offsets),
                    rng.choice(OUTCOMES),
                )
    times = [base + timedelta(days=d) for d in (3, 20, 40, 70)]
    times += [x + dx for x in rng.sample(deadlines, 6) for dx in (-US, timedelta(0), US)]
    seen = {metrics.MET: 0, metrics.MISSED: 0, metrics.PENDING: 0, metrics.EXCLUDED: 0}
    for as_of in times:
        for f in both(ctx, weeks_ending(as_of), as_of):
            seen[metrics.MET] += f.met
            seen[metrics.MISSED] += f.missed
            seen[metrics.PENDING] += f.pending
            seen[metrics.EXCLUDED] += f.excluded
    assert all(seen.values()), seen  # every status was met somewhere
