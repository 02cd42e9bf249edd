"""The weekly team summary (DESIGN.md §1.8, §4.3): every figure aggregated in SQL.

Report time ``as_of`` (default: now) makes a report reproducible: facts dated after it are
ignored. Calendar days are Europe/London days; the week runs Monday 00:00 to Monday 00:00 local.
What each figure counts:

- post_discharge / readmissions_30d / trend: the definitions of :mod:`app.services.metrics`
  (DESIGN.md §3), counted in SQL by :mod:`app.services.weekly_trend`.
- caseload: episodes open at ``as_of`` (opened on or before its day, not closed by then), by the
  patient's coordinator and by care-coordination level at ``as_of`` (the patient's level; if it
  changed after ``as_of``, the last level change by then, else the episode's opening level);
  episodes opened / closed on days of the week.
- referrals: referrals created in the week, by service kind and by their status at ``as_of``.
- assessments: needs assessments completed in the week; reviews due on days of the week (review
  dates of each patient's latest completed assessment).
- carers: carers identified in the week (the earliest evidence of the carer: first change-log
  entry, which travels with the record, carer's-assessment task or dates); carer's assessments
  offered on days of the week.
- mdt: meetings dated in the week up to ``as_of``; MDT actions still open at ``as_of``.
- tasks: every task due before ``as_of`` and not completed by then (``overdue_work`` splits
  them into 48-hour calls and other tasks, and counts referrals waiting for a reply at
  ``as_of``: sent, acknowledged or marked no response).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from app.core.errors import ValidationError
from app.core.reference import SERVICE_KINDS
from app.core.timeutil import ensure_utc, iso_week_bounds, parse_iso_week, to_local
from app.db.engine import bulk_page_cache
from app.models import (
    Carer,
    Coordinator,
    Episode,
    LevelChange,
    MdtAction,
    MdtMeeting,
    NeedsAssessment,
    Op,
    Patient,
    Referral,
    ReferralStatusChange,
    Service,
    Task,
)
from app.models.patient import LEVELS
from app.models.referral import REFERRAL_STATUSES
from app.reports import data
from app.services import metrics, weekly_trend
from app.services.patients import display_name
from app.services.referrals import AWAITING_REPLY

TREND_WEEKS = 12
UNASSIGNED = "Unassigned"
CALL_TASK = "post_discharge_call"
SUMMARY_PAGE_CACHE_KIB = 128 * 1024


def resolve_week(week: str | None, as_of: datetime) -> tuple[int, int]:
    """``(year, week)`` of ``week`` ('2026-W47'), or of the local ISO week containing ``as_of``."""
    if week is None:
        y, w, _ = to_local(as_of).isocalendar()
        return y, w
    try:
        return parse_iso_week(week)
    except ValueError:
        raise ValidationError(
            f"Week {week.strip()!r} is not an ISO week of the form 2026-W47.", field="week"
        ) from None


def _trend_weeks(year: int, week: int) -> list[tuple[int, int]]:
    monday = date.fromisocalendar(year, week, 1)
    out = []
    for back in range(TREND_WEEKS - 1, -1, -1):
        y, w, _ = (monday - timedelta(weeks=back)).isocalendar()
        out.append((y, w))
    return out


def _count(session: Session, stmt: Any) -> int:
    return int(session.scalar(stmt) or 0)


def _open_episodes_by_coordinator(
    session: Session, open_at: ColumnElement[bool]
) -> list[tuple[str | None, str, int]]:
    """Open episodes by the patient's coordinator (else the episode's) and level, without
    reading the patients' rows: every patient counts once at their (coordinator, level) from
    that index alone, corrected by the patients with other than one open episode (each
    patient's open episodes counted from the episodes' patient index, patients taken in id
    order from their id index, so that both are read in order); the patients without a
    coordinator (the episode's coordinator counts) are looked up apart."""
    p = aliased(Patient, name="p")
    delta = (func.count(Episode.patient_id) - 1).label("delta")
    other_than_one = (
        select(literal_column("p.rowid").label("r"), delta)
        .select_from(p)
        .outerjoin(Episode, and_(Episode.patient_id == p.id, open_at))
        .group_by(p.id)
        .having(delta != 0)
        .cte("other_than_one")
        .prefix_with("MATERIALIZED")
    )
    m = aliased(Patient, name="m")
    rows = [
        (who, lvl, int(n))
        for who, lvl, n in session.execute(
            select(
                m.coordinator_id,
                m.level,
                func.count() + func.coalesce(func.sum(other_than_one.c.delta), 0),
            )
            .select_from(m)
            .outerjoin(other_than_one, other_than_one.c.r == literal_column("m.rowid"))
            .where(m.coordinator_id.is_not(None))
            .group_by(m.coordinator_id, m.level)
        )
    ]
    rows.extend(
        (who, lvl, int(n))
        for who, lvl, n in session.execute(
            select(Episode.coordinator_id, Patient.level, func.count())
            .select_from(Patient)
            .join(Episode, Episode.patient_id == Patient.id)
            .where(Patient.coordinator_id.is_(None), open_at)
            .group_by(Episode.coordinator_id, Patient.level)
        )
    )
    return rows


def _caseload(session: Session, as_of: datetime, monday: date, last_day: date) -> data.Caseload:
    today = to_local(as_of).date()
    coordinator = func.coalesce(Patient.coordinator_id, Episode.coordinator_id)
    open_at = and_(
        Episode.opened_on <= today, or_(Episode.closed_on.is_(None), Episode.closed_on > today)
    )
    # Counted at the patient's current level, then moved back for the (few) patients whose
    # level changed after as_of: to the last change by then, else the episode's opening level.
    counts: dict[tuple[str | None, str], int] = defaultdict(int)
    for coordinator_id, lvl, n in _open_episodes_by_coordinator(session, open_at):
        counts[(coordinator_id, lvl)] += n
    lc = aliased(LevelChange)
    level_then = (
        select(lc.to_level)
        .where(lc.patient_id == Episode.patient_id, lc.changed_at <= as_of)
        .order_by(lc.changed_at.desc(), lc.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    changed_later = select(LevelChange.patient_id).where(LevelChange.changed_at > as_of)
    for coordinator_id, now_level, then_level in session.execute(
        select(coordinator, Patient.level, func.coalesce(level_then, Episode.level))
        .select_from(Episode)
        .join(Patient, Patient.id == Episode.patient_id)
        .where(open_at, Episode.patient_id.in_(changed_later))
    ):
        counts[(coordinator_id, now_level)] -= 1
        counts[(coordinator_id, then_level)] += 1

    names = {c.id: c.name for c in session.execute(select(Coordinator.id, Coordinator.name))}
    by_coordinator: dict[str, dict[str, int]] = {}
    by_level = dict.fromkeys(LEVELS, 0)
    seen_names: dict[str, str] = {}
    for (who, lvl), n in sorted(counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if n == 0:
            continue
        name = names.get(who, UNASSIGNED) if who else UNASSIGNED
        if seen_names.setdefault(name, who or "") != (who or ""):
            name = f"{name} ({(who or '')[:8]})"  # two coordinators, one name
        row = by_coordinator.setdefault(name, dict.fromkeys(LEVELS, 0))
        row[lvl] = row.get(lvl, 0) + n
        by_level[lvl] = by_level.get(lvl, 0) + n
    total = sum(by_level.values())
    # Episodes opened and closed in the week: one pass over the episodes' patient index,
    # which holds both dates.
    opened, closed = session.execute(
        select(
            func.count(case((Episode.opened_on.between(monday, last_day), 1))),
            func.count(case((Episode.closed_on.between(monday, last_day), 1))),
        )
    ).one()
    return data.Caseload(
        open_episodes=total,
        opened=int(opened),
        closed=int(closed),
        by_coordinator=dict(sorted(by_coordinator.items())),
        by_level=by_level,
    )


def _referral_status_at(as_of: datetime) -> ColumnElement[str]:
    rsc = aliased(ReferralStatusChange)
    # Changes made in the same instant (created and sent at once) are ordered by the lifecycle.
    stage = case(
        {status: i for i, status in enumerate(REFERRAL_STATUSES)}, value=rsc.to_status, else_=-1
    )
    latest = (
        select(rsc.to_status)
        .where(rsc.referral_id == Referral.id, rsc.changed_at <= as_of)
        .order_by(rsc.changed_at.desc(), stage.desc(), rsc.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # The current status is the status at as_of unless it changed since.
    return case(
        (Referral.status_changed_at <= as_of, Referral.status),
        else_=func.coalesce(latest, "draft"),
    )


def _referrals(
    session: Session, start: datetime, until: datetime, as_of: datetime
) -> data.Referrals:
    """The week's referrals, found through the creation-time index and read once."""
    made = and_(Referral.created_at >= start, Referral.created_at < until)
    by_kind = dict.fromkeys(SERVICE_KINDS, 0)
    by_status = dict.fromkeys(REFERRAL_STATUSES, 0)
    status = _referral_status_at(as_of)
    for kind, st, n in session.execute(
        select(Service.kind, status, func.count())
        .select_from(Referral)
        .join(Service, Service.id == Referral.service_id)
        .where(made)
        .group_by(Service.kind, status)
    ):
        by_kind[kind] = by_kind.get(kind, 0) + n
        by_status[st] = by_status.get(st, 0) + n
    return data.Referrals(made=sum(by_kind.values()), by_service_kind=by_kind, by_status=by_status)


def _assessments(
    session: Session, start: datetime, until: datetime, as_of: datetime, monday: date
) -> data.Assessments:
    """Completed in the week: the (status, completed_at) index alone. Reviews due: the week's
    review dates through their index, each checked against the patient's other assessments
    through the patient index (the planner is told that the status and time conditions are
    not selective: otherwise it walks every completed assessment for each one)."""
    na = NeedsAssessment
    completed = _count(
        session,
        select(func.count()).where(
            na.status == "completed", na.completed_at >= start, na.completed_at < until
        ),
    )
    newer = aliased(NeedsAssessment)
    latest = ~(
        select(newer.id)
        .where(
            newer.patient_id == na.patient_id,
            _not_selective(newer.status == "completed"),
            _not_selective(newer.completed_at <= as_of),
            newer.version > na.version,
        )
        .exists()
    )
    reviews = _count(
        session,
        select(func.count()).where(
            _not_selective(na.status == "completed"),
            _not_selective(na.completed_at <= as_of),
            na.review_date.between(monday, monday + timedelta(days=6)),
            latest,
        ),
    )
    return data.Assessments(completed=completed, reviews_due=reviews)


def _not_selective(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``condition``, with a hint to SQLite's query planner that most rows pass it (so that
    it drives the search by a more selective index)."""
    return func.likelihood(condition, literal_column("0.9"))


def _hlc_bound(instant: datetime) -> str:
    return f"{int(instant.timestamp() * 1000):013d}"


def _carers(
    session: Session, start: datetime, until: datetime, monday: date, last_day: date
) -> data.Carers:
    """A carer is identified when the earliest evidence of them falls in the week: their first
    change-log entry, their carer's-assessment task, or any carer's-assessment date (records
    entered later, or in bulk, keep the day the carer became known).

    That is: some evidence in the week and none before it. The carers with evidence in the
    week are found first (their change-log entries and assessment tasks in the week, read from
    the carers' part of the change log's record index and of the tasks' source index, which
    hold the op's time and the task's kind and creation time; their dates, from the carers'
    rows), and only those few are then looked up for earlier evidence."""
    lo, hi = _hlc_bound(start), _hlc_bound(until)
    carers = Carer.__tablename__
    kind = "carers_assessment"
    days = (
        Carer.assessment_offered_on,
        Carer.assessment_accepted_on,
        Carer.assessment_declined_on,
        Carer.assessment_completed_on,
    )
    in_week: CompoundSelect[tuple[str]] = union_all(
        select(Op.record_id).where(Op.table_name == carers, Op.hlc >= lo, Op.hlc < hi),
        select(Task.source_id).where(
            Task.source_table == carers,
            Task.kind == kind,
            Task.created_at >= start,
            Task.created_at < until,
        ),
        select(Carer.id).where(or_(*(d.between(monday, last_day) for d in days))),
    )
    before = or_(
        # (the indexed columns selected, so that only the indexes are read)
        select(Op.hlc)
        .where(Op.table_name == carers, Op.record_id == Carer.id, Op.hlc < lo)
        .exists(),
        select(Task.created_at)
        .where(
            Task.source_table == carers,
            Task.source_id == Carer.id,
            Task.kind == kind,
            Task.created_at < start,
        )
        .exists(),
        *(and_(d.is_not(None), d < monday) for d in days),
    )
    identified = select(func.count()).where(Carer.id.in_(in_week), ~before).scalar_subquery()
    offered = (
        select(func.count())
        .where(Carer.assessment_offered_on.between(monday, last_day))
        .scalar_subquery()
    )
    n_identified, n_offered = session.execute(select(identified, offered)).one()
    return data.Carers(identified=int(n_identified), assessment_offered=int(n_offered))


def _mdt(session: Session, as_of: datetime, monday: date, last_day: date) -> data.Mdt:
    today = to_local(as_of).date()
    meetings = _count(
        session,
        select(func.count(MdtMeeting.id)).where(MdtMeeting.meeting_date.between(monday, last_day)),
    )
    still_open = or_(
        MdtAction.status == "open",
        and_(MdtAction.completed_at.is_not(None), MdtAction.completed_at > as_of),
    )
    actions = _count(
        session,
        select(func.count(MdtAction.id))
        .join(MdtMeeting, MdtMeeting.id == MdtAction.meeting_id)
        .where(MdtMeeting.meeting_date <= today, still_open),
    )
    return data.Mdt(meetings=meetings, actions_open=actions)


def _overdue_parts(as_of: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """A task overdue at ``as_of`` (due before it, not completed by then) as two disjoint
    conditions: still open, or completed (or cancelled) after ``as_of``."""
    due = Task.due_at < as_of
    return (
        and_(Task.status == "open", due),
        and_(Task.completed_at > as_of, Task.status != "open", due),
    )


def _overdue_at(as_of: datetime) -> ColumnElement[bool]:
    return or_(*_overdue_parts(as_of))


def _overdue(session: Session, as_of: datetime) -> tuple[data.Tasks, data.OverdueWork]:
    """Tasks due before ``as_of`` and not completed by then, as two disjoint counts: tasks
    still open (the (status, due_at, kind) index alone) and tasks completed or cancelled after
    ``as_of`` (the completed_at index: none when the report is for now)."""
    is_call = Task.kind == CALL_TASK
    counts: dict[bool, int] = defaultdict(int)
    for part in _overdue_parts(as_of):
        stmt = select(is_call, func.count()).where(part).group_by(is_call)
        for call_task, n in session.execute(stmt):
            counts[bool(call_task)] += int(n)
    calls, other = counts[True], counts[False]
    return data.Tasks(overdue=calls + other), data.OverdueWork(
        calls, other, _awaiting_reply(session, as_of)
    )


def _awaiting_reply(session: Session, as_of: datetime) -> int:
    """Referrals made by ``as_of`` and waiting for a reply then, as two disjoint counts:
    those whose status has not changed since (the (status, status_changed_at, created_at)
    index alone), and those changed after ``as_of``, judged by their history (found through
    the same index, status by status; a referral's status is always one of
    REFERRAL_STATUSES, which :func:`app.services.referrals.transition_referral` enforces)."""
    unchanged = _count(
        session,
        select(func.count()).where(
            Referral.status.in_(AWAITING_REPLY),
            Referral.status_changed_at <= as_of,
            Referral.created_at <= as_of,
        ),
    )
    changed_later = _count(
        session,
        select(func.count()).where(
            Referral.status.in_(REFERRAL_STATUSES),
            Referral.status_changed_at > as_of,
            Referral.created_at <= as_of,
            _referral_status_at(as_of).in_(AWAITING_REPLY),
        ),
    )
    return unchanged + changed_later


def _named_appendix(session: Session, as_of: datetime) -> tuple[data.NamedOverdue, ...]:
    rows = session.execute(
        select(Task.title, Task.due_at, Patient.family_name, Patient.given_name, Patient.nhs_number)
        .join(Patient, Patient.id == Task.patient_id)
        .where(_overdue_at(as_of))
        .order_by(Task.due_at, Patient.family_name, Patient.given_name, Task.id)
    )
    return tuple(
        data.NamedOverdue(
            patient_name=display_name(r.family_name, r.given_name),
            nhs_number=r.nhs_number,
            what=r.title,
            due=to_local(r.due_at).date(),
        )
        for r in rows
    )


def build_weekly_summary(
    session: Session, *, week: str | None, as_of: datetime, named_appendix: bool = False
) -> data.WeeklySummary:
    """The weekly team summary for ISO ``week`` (default: the week of ``as_of``) at ``as_of``."""
    as_of = ensure_utc(as_of)
    year, number = resolve_week(week, as_of)
    label = f"{year}-W{number:02d}"
    start, end = iso_week_bounds(year, number)
    if start > as_of:
        raise ValidationError(
            f"Week {label} starts after the report time; choose an earlier week or a later "
            "--as-of.",
            field="week",
        )
    until = min(end, as_of + timedelta(microseconds=1))  # [start, until) = the week up to as_of
    monday = to_local(start).date()
    last_day = min(monday + timedelta(days=6), to_local(as_of).date())

    # The summary reads more distinct pages than the everyday page cache holds (about 11,000
    # on a 50,000-patient team): with that cache, the pages read first are evicted before the
    # end, so each summary decrypts every page again, even those it read a moment before.
    # The cache grows while the summary runs, only as pages are read, and goes back to its
    # size afterwards (keeping the pages read last, as it always does).
    with bulk_page_cache(session.connection(), SUMMARY_PAGE_CACHE_KIB):
        trend = weekly_trend.figures_for_weeks(
            session, weeks=_trend_weeks(year, number), as_of=as_of
        )
        this = trend[-1]
        tasks, overdue_work = _overdue(session, as_of)
        return data.WeeklySummary(
            week=label,
            as_of=as_of,
            period=data.Period(start=start, end=end),
            post_discharge=data.PostDischarge(
                discharges=this.discharges,
                met=this.met,
                missed=this.missed,
                pending=this.pending,
                excluded=this.excluded,
                pct_within_48h=this.pct_within_48h,
                target_pct=metrics.TARGET_PCT_WITHIN_48H,
            ),
            readmissions_30d=data.Readmissions(
                eligible=this.readmission_eligible,
                readmitted=this.readmitted,
                rate_pct=this.readmission_rate_pct,
            ),
            caseload=_caseload(session, as_of, monday, last_day),
            referrals=_referrals(session, start, until, as_of),
            assessments=_assessments(session, start, until, as_of, monday),
            carers=_carers(session, start, until, monday, last_day),
            mdt=_mdt(session, as_of, monday, last_day),
            tasks=tasks,
            trend=tuple(
                data.TrendPoint(
                    week=f.week, pct_within_48h=f.pct_within_48h, met=f.met, missed=f.missed
                )
                for f in trend
            ),
            overdue_work=overdue_work,
            named_appendix=_named_appendix(session, as_of) if named_appendix else None,
        )
