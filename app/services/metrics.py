"""The post-discharge measures of DESIGN.md §3, defined once and used everywhere.

Two layers. Pure functions over plain rows (:class:`AdmissionRow`, :class:`CallRow`,
:class:`PatientHistory`) hold the definitions, so they can be tested without a database; a
small query layer loads those rows in a fixed number of queries (never one per discharge).

The weekly summary's 12-week trend is counted by one SQL statement instead
(:mod:`app.services.weekly_trend`, fast on a big team). :func:`figures_for_weeks` here stays
the reference it is tested against (tests/services/test_weekly_trend.py compares the two at
every boundary below): a change to a rule goes in both.

Definitions, for a discharge at instant ``t_d`` and a report time ``T`` (facts dated after
``T`` are ignored, so a report with ``--as-of`` does not change when later work is entered):

- ``deadline = t_d + 48 h`` in absolute time: a clock change inside the window does not move it.
- **met**: a call attempt on this discharge with outcome ``contacted_patient`` or
  ``contacted_carer`` at ``t_d <= t_call <= deadline``.
- **excluded**: not met, and before the deadline (strictly) the patient was readmitted or died:
  another admission of the patient starting in ``(t_d, deadline)``; a call (on any discharge of
  the patient) with outcome ``readmitted`` at ``t_d <= t_call < deadline``; a call with outcome
  ``deceased`` before the deadline; or a recorded ``date_of_death`` whose day began (00:00
  Europe/London) before the deadline, i.e. a date of death on or before the deadline's local
  date (the time of death is not recorded, so a death on the deadline's day counts). Met takes
  precedence: a contact inside the window is met even if the patient was readmitted earlier in
  the window ("before any contact" can only fail that way, since calls before ``t_d`` are
  refused).
- **pending**: neither met nor excluded and ``T <= deadline``; **missed** otherwise. A contact
  after the deadline is logged and shown as late, but the discharge stays missed.
- ``pct_within_48h = round(100 * met / (met + missed), 1)``, ``None`` when nobody is met or
  missed.
- An admission *starts* at ``admitted_at``; a discharge-list row with no admission time starts,
  at the latest, at its discharge, and that is the time used.
- **Readmission within 30 days**: another admission of the patient starting in
  ``(t_d, t_d + 30 days]`` (and by ``T``). A discharge is *eligible* for the rate when it was
  readmitted or its 30-day window closed by ``T``; rate = readmitted / eligible × 100.
- A discharge belongs to ISO week W when ``t_d`` in Europe/London falls between that Monday
  00:00 and the next Monday 00:00 (:func:`app.core.timeutil.iso_week_of`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, true
from sqlalchemy.orm import Session

from app.core.timeutil import ensure_utc, iso_week_bounds, iso_week_of, local_midnight_utc
from app.models import Admission, CallAttempt, Patient
from app.models.admission import CONTACT_OUTCOMES

FOLLOW_UP_WINDOW = timedelta(hours=48)
READMISSION_WINDOW = timedelta(days=30)
TARGET_PCT_WITHIN_48H = 84.0

MET = "met"
MISSED = "missed"
PENDING = "pending"
EXCLUDED = "excluded"
FOLLOW_UP_STATUSES = (MET, MISSED, PENDING, EXCLUDED)

_CHUNK = 500


# --------------------------------------------------------------------------------------------
# Plain rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdmissionRow:
    id: str
    patient_id: str
    admitted_at: datetime | None
    discharged_at: datetime | None

    @property
    def starts_at(self) -> datetime | None:
        """When the stay began: the admission time, else (at the latest) the discharge."""
        return self.admitted_at if self.admitted_at is not None else self.discharged_at


@dataclass(frozen=True)
class CallRow:
    admission_id: str | None
    called_at: datetime
    outcome: str


@dataclass(frozen=True)
class PatientHistory:
    """Everything the definitions need about one patient."""

    patient_id: str
    admissions: tuple[AdmissionRow, ...] = ()
    calls: tuple[CallRow, ...] = ()
    date_of_death: date | None = None


@dataclass(frozen=True)
class FollowUp:
    """The 48-hour follow-up of one discharge at report time ``as_of``."""

    admission_id: str
    discharged_at: datetime
    deadline: datetime
    status: str  # met | missed | pending | excluded
    contacted_at: datetime | None  # first contact at or after discharge (may be late)
    attempts: int  # calls logged on this discharge by as_of
    last_outcome: str | None
    excluded_because: str | None  # "readmitted" | "deceased" when excluded

    @property
    def late(self) -> bool:
        """Contact was made, but after the deadline."""
        return self.contacted_at is not None and self.contacted_at > self.deadline

    @property
    def hours_to_contact(self) -> float | None:
        if self.contacted_at is None:
            return None
        return (self.contacted_at - self.discharged_at).total_seconds() / 3600


@dataclass(frozen=True)
class Readmission:
    admission_id: str
    starts_at: datetime


@dataclass(frozen=True)
class DischargeOutcome:
    """One discharge with both measures, as counted in a weekly report."""

    week: str
    patient_id: str
    follow_up: FollowUp
    readmission: Readmission | None
    readmission_eligible: bool


@dataclass(frozen=True)
class WeekFigures:
    week: str
    discharges: int
    met: int
    missed: int
    pending: int
    excluded: int
    pct_within_48h: float | None
    readmission_eligible: int
    readmitted: int
    readmission_rate_pct: float | None


@dataclass(frozen=True)
class ReadmissionLink:
    """A discharge and the first admission of the same patient starting within 30 days."""

    patient_id: str
    discharge_admission_id: str
    readmission_admission_id: str
    discharged_at: datetime
    readmitted_at: datetime

    @property
    def days_after(self) -> float:
        return (self.readmitted_at - self.discharged_at).total_seconds() / 86400


# --------------------------------------------------------------------------------------------
# Definitions (pure)
# --------------------------------------------------------------------------------------------


def deadline_of(discharged_at: datetime) -> datetime:
    """48 real hours after the discharge, whatever the clocks do in between."""
    return ensure_utc(discharged_at) + FOLLOW_UP_WINDOW


def percent(numerator: int, denominator: int) -> float | None:
    """``round(100 * n / d, 1)``, or None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return round(100 * numerator / denominator, 1)


def pct_within_48h(met: int, missed: int) -> float | None:
    return percent(met, met + missed)


def _exclusion(
    discharge: AdmissionRow, history: PatientHistory, deadline: datetime, as_of: datetime
) -> tuple[datetime, str] | None:
    """The earliest readmission or death inside the window that was known by ``as_of``."""
    assert discharge.discharged_at is not None
    t_d = discharge.discharged_at
    events: list[tuple[datetime, str]] = []
    for other in history.admissions:
        start = other.starts_at
        if other.id != discharge.id and start is not None and t_d < start < deadline:
            events.append((start, "readmitted"))
    for call in history.calls:
        if call.outcome == "readmitted" and t_d <= call.called_at < deadline:
            events.append((call.called_at, "readmitted"))
        elif call.outcome == "deceased" and call.called_at < deadline:
            events.append((call.called_at, "deceased"))
    if history.date_of_death is not None:
        day_began = local_midnight_utc(history.date_of_death)
        if day_began < deadline:
            events.append((max(day_began, t_d), "deceased"))
    known = [e for e in events if e[0] <= as_of]
    return min(known) if known else None


def follow_up_status(
    discharge: AdmissionRow, history: PatientHistory, *, as_of: datetime
) -> FollowUp:
    """Met / excluded / pending / missed for one discharge at report time ``as_of``."""
    if discharge.discharged_at is None:
        raise ValueError("follow_up_status needs a discharged admission")
    as_of = ensure_utc(as_of)
    t_d = ensure_utc(discharge.discharged_at)
    deadline = deadline_of(t_d)
    linked = sorted(
        (c for c in history.calls if c.admission_id == discharge.id and c.called_at <= as_of),
        key=lambda c: (c.called_at, c.outcome),
    )
    contacts = [c.called_at for c in linked if c.outcome in CONTACT_OUTCOMES and c.called_at >= t_d]
    contacted_at = contacts[0] if contacts else None
    excluded_because: str | None = None
    if contacted_at is not None and contacted_at <= deadline:
        status = MET
    else:
        exclusion = _exclusion(discharge, history, deadline, as_of)
        if exclusion is not None:
            status, excluded_because = EXCLUDED, exclusion[1]
        elif as_of <= deadline:
            status = PENDING
        else:
            status = MISSED
    return FollowUp(
        admission_id=discharge.id,
        discharged_at=t_d,
        deadline=deadline,
        status=status,
        contacted_at=contacted_at,
        attempts=len(linked),
        last_outcome=linked[-1].outcome if linked else None,
        excluded_because=excluded_because,
    )


def readmission_after(
    discharge: AdmissionRow, history: PatientHistory, *, as_of: datetime | None = None
) -> Readmission | None:
    """The first other admission starting in ``(t_d, t_d + 30 days]`` (and by ``as_of``)."""
    if discharge.discharged_at is None:
        return None
    t_d = discharge.discharged_at
    found: list[tuple[datetime, str]] = []
    for other in history.admissions:
        start = other.starts_at
        if other.id == discharge.id or start is None:
            continue
        if t_d < start <= t_d + READMISSION_WINDOW and (as_of is None or start <= as_of):
            found.append((start, other.id))
    if not found:
        return None
    start, admission_id = min(found)
    return Readmission(admission_id, start)


def discharge_outcome(
    discharge: AdmissionRow, history: PatientHistory, *, as_of: datetime
) -> DischargeOutcome:
    assert discharge.discharged_at is not None
    readmission = readmission_after(discharge, history, as_of=as_of)
    return DischargeOutcome(
        week=iso_week_of(discharge.discharged_at),
        patient_id=discharge.patient_id,
        follow_up=follow_up_status(discharge, history, as_of=as_of),
        readmission=readmission,
        readmission_eligible=(
            readmission is not None or discharge.discharged_at + READMISSION_WINDOW <= as_of
        ),
    )


def week_figures(week: str, outcomes: Iterable[DischargeOutcome]) -> WeekFigures:
    """Counts for the discharges of ``week`` among ``outcomes`` (others are ignored)."""
    counts = dict.fromkeys(FOLLOW_UP_STATUSES, 0)
    discharges = eligible = readmitted = 0
    for o in outcomes:
        if o.week != week:
            continue
        discharges += 1
        counts[o.follow_up.status] += 1
        if o.readmission_eligible:
            eligible += 1
            readmitted += o.readmission is not None
    return WeekFigures(
        week=week,
        discharges=discharges,
        met=counts[MET],
        missed=counts[MISSED],
        pending=counts[PENDING],
        excluded=counts[EXCLUDED],
        pct_within_48h=pct_within_48h(counts[MET], counts[MISSED]),
        readmission_eligible=eligible,
        readmitted=readmitted,
        readmission_rate_pct=percent(readmitted, eligible),
    )


def link_readmissions(admissions: Iterable[AdmissionRow]) -> list[ReadmissionLink]:
    """Every discharge with its 30-day readmission; the same whatever order rows come in."""
    by_patient: dict[str, list[AdmissionRow]] = defaultdict(list)
    for a in admissions:
        by_patient[a.patient_id].append(a)
    links: list[ReadmissionLink] = []
    for patient_id, rows in by_patient.items():
        history = PatientHistory(patient_id, tuple(rows))
        for a in rows:
            found = readmission_after(a, history)
            if found is not None and a.discharged_at is not None:
                links.append(
                    ReadmissionLink(
                        patient_id, a.id, found.admission_id, a.discharged_at, found.starts_at
                    )
                )
    links.sort(key=lambda x: (x.discharged_at, x.discharge_admission_id))
    return links


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _histories(
    session: Session,
    patient_filter: Select[tuple[str]] | Select[str] | Sequence[str],
    *,
    since: datetime | None = None,
) -> dict[str, PatientHistory]:
    """Histories of the patients; with ``since``, only what can matter to discharges from then
    on: stays starting or ending since, calls since, and deaths whenever recorded."""
    admissions: dict[str, list[AdmissionRow]] = defaultdict(list)
    calls: dict[str, list[CallRow]] = defaultdict(list)
    deaths: dict[str, date | None] = {}
    batches: Iterable[Any] = (
        [patient_filter] if isinstance(patient_filter, Select) else _chunks(patient_filter)
    )
    for batch in batches:
        subq = batch.scalar_subquery() if isinstance(batch, Select) else list(batch)
        for a in session.execute(
            select(
                Admission.id, Admission.patient_id, Admission.admitted_at, Admission.discharged_at
            ).where(
                Admission.patient_id.in_(subq),
                true()
                if since is None
                else or_(Admission.discharged_at >= since, Admission.admitted_at >= since),
            )
        ):
            admissions[a.patient_id].append(
                AdmissionRow(a.id, a.patient_id, a.admitted_at, a.discharged_at)
            )
        for c in session.execute(
            select(
                CallAttempt.patient_id,
                CallAttempt.admission_id,
                CallAttempt.called_at,
                CallAttempt.outcome,
            ).where(
                CallAttempt.patient_id.in_(subq),
                true()
                if since is None
                else or_(CallAttempt.called_at >= since, CallAttempt.outcome == "deceased"),
            )
        ):
            calls[c.patient_id].append(CallRow(c.admission_id, c.called_at, c.outcome))
        for p in session.execute(
            select(Patient.id, Patient.date_of_death).where(Patient.id.in_(subq))
        ):
            deaths[p.id] = p.date_of_death
    return {
        pid: PatientHistory(pid, tuple(admissions[pid]), tuple(calls[pid]), deaths[pid])
        for pid in deaths
    }


def load_histories(session: Session, patient_ids: Iterable[str]) -> dict[str, PatientHistory]:
    """The admissions, calls and date of death of each patient (a few queries per 500)."""
    return _histories(session, sorted(set(patient_ids)))


def discharges_between(
    session: Session, *, start: datetime, end: datetime, as_of: datetime
) -> list[DischargeOutcome]:
    """Both measures for every discharge in ``[start, end)`` that had happened by ``as_of``."""
    in_range = (
        Admission.discharged_at >= ensure_utc(start),
        Admission.discharged_at < ensure_utc(end),
        Admission.discharged_at <= ensure_utc(as_of),
    )
    patients = select(Admission.patient_id).where(*in_range).distinct()
    histories = _histories(session, patients, since=ensure_utc(start))
    out: list[DischargeOutcome] = []
    for history in histories.values():
        for a in history.admissions:
            d = a.discharged_at
            if d is not None and start <= d < end and d <= as_of:
                out.append(discharge_outcome(a, history, as_of=as_of))
    out.sort(key=lambda o: (o.follow_up.discharged_at, o.follow_up.admission_id))
    return out


def figures_for_weeks(
    session: Session, *, weeks: Sequence[tuple[int, int]], as_of: datetime
) -> list[WeekFigures]:
    """Week-by-week figures for consecutive ISO weeks ``(year, week)``, loaded in one pass."""
    if not weeks:
        return []
    start = iso_week_bounds(*weeks[0])[0]
    end = iso_week_bounds(*weeks[-1])[1]
    outcomes = discharges_between(session, start=start, end=end, as_of=as_of)
    by_week: dict[str, list[DischargeOutcome]] = defaultdict(list)
    for o in outcomes:
        by_week[o.week].append(o)
    labels = [f"{y}-W{w:02d}" for y, w in weeks]
    return [week_figures(label, by_week[label]) for label in labels]


def readmission_links(session: Session, *, patient_id: str | None = None) -> list[ReadmissionLink]:
    """Readmissions within 30 days, derived from the admissions (never stored)."""
    stmt = select(
        Admission.id, Admission.patient_id, Admission.admitted_at, Admission.discharged_at
    )
    if patient_id is not None:
        stmt = stmt.where(Admission.patient_id == patient_id)
    rows = [
        AdmissionRow(r.id, r.patient_id, r.admitted_at, r.discharged_at)
        for r in session.execute(stmt)
    ]
    return link_readmissions(rows)
