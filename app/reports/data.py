"""Input dataclasses of the printed documents: the MDT summary and the weekly team summary.

They hold plain values only (no ORM objects, no Qt): a service fills them from the database and
the renderers in this package turn them into PDFs. Sequences are tuples, so a filled pack can be
handed between threads without anyone changing it underneath.

Times are aware datetimes (stored UTC, printed in Europe/London); calendar days are dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.core.errors import ValidationError
from app.core.timeutil import ensure_utc, format_utc

MDT_LEVELS = ("Practice", "PCN")
FOLLOW_UP_STATUSES = ("Met", "Missed", "Pending", "Excluded")
TARGET_PCT_WITHIN_48H = 84.0


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must carry a timezone, not be a naive time.", field=name)


# --------------------------------------------------------------------------------------------
# MDT summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendee:
    role: str
    name: str


@dataclass(frozen=True)
class AdmissionLine:
    admitted: datetime
    discharged: datetime | None  # None while the patient is still in hospital
    hospital: str
    follow_up_status: str  # "Met" | "Missed" | "Pending" | "Excluded"
    hours_to_contact: float | None  # discharge to first successful contact; None if none yet


@dataclass(frozen=True)
class NeedLine:
    domain: str
    level: str
    notes: str


@dataclass(frozen=True)
class ReferralLine:
    service: str
    status: str
    since: date


@dataclass(frozen=True)
class Sbar:
    situation: str
    background: str
    assessment: str
    recommendation: str


@dataclass(frozen=True)
class MdtAction:
    description: str
    owner: str
    due: date | None
    status: str
    carried_forward: bool = False
    patient_name: str | None = None  # None for an action about the team, not one patient


@dataclass(frozen=True)
class MdtPatient:
    name: str
    nhs_number: str  # 10 plain digits; printed as 943 476 5919
    date_of_birth: date
    age: int
    practice: str
    level: str  # care-coordination level: Essential / Expert / Enhanced
    cohort_explanation: str
    respect_status: str
    carers: tuple[str, ...]
    recent_admissions: tuple[AdmissionLine, ...]
    needs: tuple[NeedLine, ...]
    plan_summary: str
    open_referrals: tuple[ReferralLine, ...]
    discussion: Sbar | None
    actions: tuple[MdtAction, ...]
    reason_on_agenda: str

    def __post_init__(self) -> None:
        if len(self.nhs_number) != 10 or not self.nhs_number.isdigit():
            # The number itself stays out of the message: messages end up in logs.
            raise ValidationError(
                "An MDT patient's NHS number must be 10 plain digits.", field="nhs_number"
            )


@dataclass(frozen=True)
class MdtPack:
    meeting_id: str
    meeting_date: date
    level: str  # "Practice" | "PCN"
    venue_or_practice: str
    attendees: tuple[Attendee, ...]
    patients: tuple[MdtPatient, ...]
    open_actions: tuple[MdtAction, ...]
    printed_by: str
    printed_at: datetime
    data_as_of: datetime

    def __post_init__(self) -> None:
        if self.level not in MDT_LEVELS:
            raise ValidationError(
                f"MDT level must be one of {', '.join(MDT_LEVELS)}, not {self.level!r}.",
                field="level",
            )
        _require_aware(self.printed_at, "printed_at")
        _require_aware(self.data_as_of, "data_as_of")


# --------------------------------------------------------------------------------------------
# Weekly team summary (DESIGN.md section 4.3)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime  # local Monday 00:00 as a UTC instant
    end: datetime  # the following Monday 00:00 (exclusive)


@dataclass(frozen=True)
class PostDischarge:
    discharges: int
    met: int
    missed: int
    pending: int
    excluded: int
    pct_within_48h: float | None
    target_pct: float = TARGET_PCT_WITHIN_48H


@dataclass(frozen=True)
class Readmissions:
    eligible: int
    readmitted: int
    rate_pct: float | None


@dataclass(frozen=True)
class Caseload:
    open_episodes: int
    opened: int
    closed: int
    # coordinator name -> {care-coordination level -> open episodes}
    by_coordinator: Mapping[str, Mapping[str, int]]
    # care-coordination level -> open episodes
    by_level: Mapping[str, int]


@dataclass(frozen=True)
class Referrals:
    made: int
    by_service_kind: Mapping[str, int]  # LAC, FIRST_CONTACT_PLUS, ... -> referrals made
    by_status: Mapping[str, int]  # draft, sent, acknowledged, ... -> referrals


@dataclass(frozen=True)
class Assessments:
    completed: int
    reviews_due: int


@dataclass(frozen=True)
class Carers:
    identified: int
    assessment_offered: int


@dataclass(frozen=True)
class Mdt:
    meetings: int
    actions_open: int


@dataclass(frozen=True)
class Tasks:
    overdue: int  # every overdue task in the queue, of any kind


@dataclass(frozen=True)
class TrendPoint:
    week: str  # "2026-W47"
    pct_within_48h: float | None  # None when the week had no met or missed discharge
    met: int
    missed: int


@dataclass(frozen=True)
class OverdueWork:
    calls: int  # post-discharge calls past their 48-hour deadline and not yet made
    tasks: int  # other overdue tasks (reviews, chases, MDT actions, carer's assessments)
    referrals_waiting: int  # referrals sent and still waiting for a reply


@dataclass(frozen=True)
class NamedOverdue:
    patient_name: str
    nhs_number: str
    what: str
    due: date  # a date, or a datetime for a deadline with a time (a 48-hour call)


@dataclass(frozen=True)
class WeeklySummary:
    """The weekly team summary. Aggregate figures; names only in the optional appendix."""

    week: str
    as_of: datetime
    period: Period
    post_discharge: PostDischarge
    readmissions_30d: Readmissions
    caseload: Caseload
    referrals: Referrals
    assessments: Assessments
    carers: Carers
    mdt: Mdt
    tasks: Tasks
    trend: tuple[TrendPoint, ...] = ()  # up to 12 weeks, oldest first, ending with `week`
    overdue_work: OverdueWork = field(default_factory=lambda: OverdueWork(0, 0, 0))
    named_appendix: tuple[NamedOverdue, ...] | None = None  # set only when asked for

    def __post_init__(self) -> None:
        _require_aware(self.as_of, "as_of")
        _require_aware(self.period.start, "period.start")
        _require_aware(self.period.end, "period.end")

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON of DESIGN.md section 4.3 plus 'trend' and 'overdue_work'. Never any name."""
        pd, ra, cl, rf = self.post_discharge, self.readmissions_30d, self.caseload, self.referrals
        return {
            "week": self.week,
            "as_of": format_utc(self.as_of),
            "period": {"start": format_utc(self.period.start), "end": format_utc(self.period.end)},
            "post_discharge": {
                "discharges": pd.discharges,
                "met": pd.met,
                "missed": pd.missed,
                "pending": pd.pending,
                "excluded": pd.excluded,
                "pct_within_48h": pd.pct_within_48h,
                "target_pct": float(pd.target_pct),
            },
            "readmissions_30d": {
                "eligible": ra.eligible,
                "readmitted": ra.readmitted,
                "rate_pct": ra.rate_pct,
            },
            "caseload": {
                "open_episodes": cl.open_episodes,
                "opened": cl.opened,
                "closed": cl.closed,
                "by_coordinator": {k: dict(v) for k, v in cl.by_coordinator.items()},
                "by_level": dict(cl.by_level),
            },
            "referrals": {
                "made": rf.made,
                "by_service_kind": dict(rf.by_service_kind),
                "by_status": dict(rf.by_status),
            },
            "assessments": {
                "completed": self.assessments.completed,
                "reviews_due": self.assessments.reviews_due,
            },
            "carers": {
                "identified": self.carers.identified,
                "assessment_offered": self.carers.assessment_offered,
            },
            "mdt": {"meetings": self.mdt.meetings, "actions_open": self.mdt.actions_open},
            "tasks": {"overdue": self.tasks.overdue},
            "trend": [
                {
                    "week": p.week,
                    "pct_within_48h": p.pct_within_48h,
                    "met": p.met,
                    "missed": p.missed,
                }
                for p in self.trend
            ],
            "overdue_work": {
                "calls": self.overdue_work.calls,
                "tasks": self.overdue_work.tasks,
                "referrals_waiting": self.overdue_work.referrals_waiting,
            },
        }

    @classmethod
    def from_json_dict(cls, d: Mapping[str, Any]) -> WeeklySummary:
        """Rebuild a summary from :meth:`to_json_dict` output (the appendix is never in JSON)."""
        r = _Reader(d, "")
        pd, ra, cl = r.obj("post_discharge"), r.obj("readmissions_30d"), r.obj("caseload")
        rf, period = r.obj("referrals"), r.obj("period")
        ow = r.obj("overdue_work") if "overdue_work" in d else None
        return cls(
            week=r.str_("week"),
            as_of=r.time("as_of"),
            period=Period(start=period.time("start"), end=period.time("end")),
            post_discharge=PostDischarge(
                discharges=pd.int_("discharges"),
                met=pd.int_("met"),
                missed=pd.int_("missed"),
                pending=pd.int_("pending"),
                excluded=pd.int_("excluded"),
                pct_within_48h=pd.pct("pct_within_48h"),
                target_pct=_or_default(pd.pct("target_pct"), TARGET_PCT_WITHIN_48H),
            ),
            readmissions_30d=Readmissions(
                eligible=ra.int_("eligible"),
                readmitted=ra.int_("readmitted"),
                rate_pct=ra.pct("rate_pct"),
            ),
            caseload=Caseload(
                open_episodes=cl.int_("open_episodes"),
                opened=cl.int_("opened"),
                closed=cl.int_("closed"),
                by_coordinator={
                    name: cl.obj("by_coordinator").obj(name).counts()
                    for name in cl.obj("by_coordinator").names()
                },
                by_level=cl.obj("by_level").counts(),
            ),
            referrals=Referrals(
                made=rf.int_("made"),
                by_service_kind=rf.obj("by_service_kind").counts(),
                by_status=rf.obj("by_status").counts(),
            ),
            assessments=Assessments(
                completed=r.obj("assessments").int_("completed"),
                reviews_due=r.obj("assessments").int_("reviews_due"),
            ),
            carers=Carers(
                identified=r.obj("carers").int_("identified"),
                assessment_offered=r.obj("carers").int_("assessment_offered"),
            ),
            mdt=Mdt(
                meetings=r.obj("mdt").int_("meetings"),
                actions_open=r.obj("mdt").int_("actions_open"),
            ),
            tasks=Tasks(overdue=r.obj("tasks").int_("overdue")),
            trend=tuple(
                TrendPoint(
                    week=p.str_("week"),
                    pct_within_48h=p.pct("pct_within_48h"),
                    met=p.int_("met"),
                    missed=p.int_("missed"),
                )
                for p in (r.items("trend") if "trend" in d else ())
            ),
            overdue_work=(
                OverdueWork(
                    calls=ow.int_("calls"),
                    tasks=ow.int_("tasks"),
                    referrals_waiting=ow.int_("referrals_waiting"),
                )
                if ow is not None
                else OverdueWork(0, 0, 0)
            ),
        )


def _or_default(value: float | None, default: float) -> float:
    return default if value is None else value


class _Reader:
    """Typed access to one JSON object, naming the key path when something is wrong."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"Weekly summary JSON: {path or 'the top level'} must be an object.", field=path
            )
        self._d = data
        self._path = path

    def _get(self, key: str) -> Any:
        if key not in self._d:
            raise ValidationError(
                f"Weekly summary JSON is missing {self._name(key)!r}.", field=self._name(key)
            )
        return self._d[key]

    def _name(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _bad(self, key: str, what: str) -> ValidationError:
        return ValidationError(
            f"Weekly summary JSON: {self._name(key)!r} must be {what}.", field=self._name(key)
        )

    def names(self) -> list[str]:
        return [str(k) for k in self._d]

    def obj(self, key: str) -> _Reader:
        return _Reader(self._get(key), self._name(key))

    def items(self, key: str) -> list[_Reader]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        return [_Reader(v, f"{self._name(key)}[{i}]") for i, v in enumerate(value)]

    def str_(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self._bad(key, "text")
        return value

    def int_(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, "a whole number")
        return value

    def pct(self, key: str) -> float | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(key, "a number or null")
        return float(value)

    def time(self, key: str) -> datetime:
        text = self.str_(key)
        try:
            return ensure_utc(datetime.fromisoformat(text))
        except ValueError:
            raise self._bad(key, "an ISO 8601 time with an offset") from None

    def counts(self) -> dict[str, int]:
        return {k: self.int_(k) for k in self.names()}
