"""Synthetic MDT packs and weekly summaries for the report tests (no real people)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from pypdf import PdfReader

from app.reports.data import (
    AdmissionLine,
    Assessments,
    Attendee,
    Carers,
    Caseload,
    Mdt,
    MdtAction,
    MdtPack,
    MdtPatient,
    NamedOverdue,
    NeedLine,
    OverdueWork,
    Period,
    PostDischarge,
    Readmissions,
    ReferralLine,
    Referrals,
    Sbar,
    Tasks,
    TrendPoint,
    WeeklySummary,
)

PRINTED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DATA_AS_OF = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
MEETING_DATE = date(2026, 11, 23)

GIVEN = ("Margaret", "Arthur", "Doreen", "Kwame", "Priya", "Stanley", "Olwen", "Harjit")
FAMILY = ("Testperson", "Sampleton", "Fictional", "Example", "Dummyfield", "Madeup")


def nhs_number(i: int) -> str:
    """A modulus-11 valid number from the 999 test range, different for each ``i``."""
    n = 0
    while True:
        stem = f"999{(i * 7 + n) % 1_000_000:06d}"
        total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            return stem + str(check)
        n += 1


def patient_name(i: int) -> str:
    return f"{GIVEN[i % len(GIVEN)]} {FAMILY[i % len(FAMILY)]}-{i:03d}"


def make_patient(i: int, *, note: str | None = None, discussed: bool = True) -> MdtPatient:
    name = patient_name(i)
    discharged = datetime(2026, 11, 18, 14, 5, tzinfo=UTC) - timedelta(hours=i % 40)
    return MdtPatient(
        name=name,
        nhs_number=nhs_number(i),
        date_of_birth=date(1938 + i % 30, 1 + i % 12, 1 + i % 28),
        age=88 - i % 30,
        practice=("Fictional Road Surgery", "Example Lane Health Centre")[i % 2],
        level=("Enhanced", "Expert", "Essential")[i % 3],
        cohort_explanation="Six long-term conditions, severe frailty (eFI 0.41) and two "
        "emergency admissions in the last year.",
        respect_status="ReSPECT form in place (12/03/2026), held at home",
        carers=(f"Daughter {FAMILY[(i + 1) % len(FAMILY)]} (lives nearby)",) if i % 2 else (),
        recent_admissions=(
            AdmissionLine(
                admitted=discharged - timedelta(days=5),
                discharged=discharged,
                hospital="Leicester Royal Infirmary",
                follow_up_status=("Met", "Missed", "Pending", "Excluded")[i % 4],
                hours_to_contact=26.5 if i % 4 == 0 else None,
            ),
        ),
        needs=(
            NeedLine(
                "Mobility & falls", "High", note or "Two falls since August; walks with frame."
            ),
            NeedLine("Loneliness & social contact", "Medium", "Lives alone; keen on a lunch club."),
            NeedLine("Medication", "Low", "Blister packs from the pharmacy."),
        ),
        plan_summary="Keep well at home: falls review, befriending referral, weekly calls.",
        open_referrals=(
            ReferralLine("First Contact Plus", "sent", date(2026, 11, 12)),
            ReferralLine("Befriending (Age UK)", "acknowledged", date(2026, 11, 16)),
        ),
        discussion=Sbar(
            situation="Discharged after a fall; anxious about going out.",
            background="Lives alone, daughter visits twice a week. Third fall this year.",
            assessment="Risk of readmission high; carer strain reported.",
            recommendation="Therapy home visit; carer's assessment; review in two weeks.",
        )
        if discussed
        else None,
        actions=(
            MdtAction(
                description="Arrange therapy home visit",
                owner="Therapy lead",
                due=date(2026, 11, 30),
                status="open",
                carried_forward=False,
                patient_name=name,
            ),
        ),
        reason_on_agenda=("New discharge", "Overdue call", "High risk", "Flagged for MDT")[i % 4],
    )


def make_pack(n_patients: int = 3, **changes: object) -> MdtPack:
    patients = tuple(make_patient(i) for i in range(n_patients))
    open_actions = (
        *(p.actions[0] for p in patients),
        MdtAction(
            description="Chase community nursing about the shared caseload list",
            owner="Care coordinator",
            due=date(2026, 11, 9),
            status="open",
            carried_forward=True,
            patient_name=None,
        ),
    )
    pack = MdtPack(
        meeting_id="mdt-2026-11-23-fictional",
        meeting_date=MEETING_DATE,
        level="Practice",
        venue_or_practice="Fictional Road Surgery",
        attendees=(
            Attendee("Care coordinator", "Sam Coordinator"),
            Attendee("GP", "Dr Alex Example"),
            Attendee("Community matron", "Jo Matron"),
            Attendee("Local area coordinator", "Chris Lac"),
        ),
        patients=patients,
        open_actions=open_actions,
        printed_by="Sam Coordinator",
        printed_at=PRINTED_AT,
        data_as_of=DATA_AS_OF,
    )
    return replace(pack, **changes)  # type: ignore[arg-type]


def make_weekly(*, with_appendix: bool = False, **changes: object) -> WeeklySummary:
    pcts: list[float | None] = [78.0, 81.5, None, 85.0, 90.0, 83.3, 86.7, None, None, 88.9, 79.2]
    trend = (
        *(
            TrendPoint(
                week=f"2026-W{36 + i:02d}",
                pct_within_48h=v,
                met=0 if v is None else round(v / 10),
                missed=0 if v is None else 10 - round(v / 10),
            )
            for i, v in enumerate(pcts)
        ),
        TrendPoint(week="2026-W47", pct_within_48h=81.3, met=13, missed=3),
    )
    summary = WeeklySummary(
        week="2026-W47",
        as_of=DATA_AS_OF,
        period=Period(
            start=datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
            end=datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
        ),
        post_discharge=PostDischarge(
            discharges=19, met=13, missed=3, pending=2, excluded=1, pct_within_48h=81.3
        ),
        readmissions_30d=Readmissions(eligible=24, readmitted=3, rate_pct=12.5),
        caseload=Caseload(
            open_episodes=143,
            opened=7,
            closed=4,
            by_coordinator={
                "Sam Coordinator": {"Essential": 10, "Expert": 22, "Enhanced": 31},
                "Ravi Coordinator": {"Expert": 30, "Enhanced": 25},
                "Lee Coordinator": {"Essential": 5, "Enhanced": 20},
            },
            by_level={"Essential": 15, "Expert": 52, "Enhanced": 76},
        ),
        referrals=Referrals(
            made=17,
            by_service_kind={
                "LAC": 4,
                "FIRST_CONTACT_PLUS": 5,
                "BEFRIENDING": 3,
                "SOCIAL_PRESCRIBING": 2,
                "ADULT_SOCIAL_CARE": 1,
                "THERAPY": 2,
            },
            by_status={"sent": 6, "acknowledged": 4, "accepted": 5, "declined": 1, "draft": 1},
        ),
        assessments=Assessments(completed=9, reviews_due=6),
        carers=Carers(identified=5, assessment_offered=3),
        mdt=Mdt(meetings=2, actions_open=11),
        tasks=Tasks(overdue=8),
        trend=trend,
        overdue_work=OverdueWork(calls=2, tasks=6, referrals_waiting=4),
        named_appendix=(
            (
                NamedOverdue(
                    patient_name=patient_name(1),
                    nhs_number=nhs_number(1),
                    what="Post-discharge call",
                    due=datetime(2026, 11, 21, 15, 0, tzinfo=UTC),
                ),
                NamedOverdue(
                    patient_name=patient_name(2),
                    nhs_number=nhs_number(2),
                    what="Assessment review",
                    due=date(2026, 11, 20),
                ),
            )
            if with_appendix
            else None
        ),
    )
    return replace(summary, **changes)  # type: ignore[arg-type]


def page_texts(pdf: bytes) -> list[str]:
    """The extracted text of each page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def render_bytes(render: Callable[..., int], data: object, **kwargs: object) -> tuple[bytes, int]:
    """Render to memory; returns the PDF bytes and the page count the renderer reported."""
    buffer = io.BytesIO()
    pages = render(data, buffer, **kwargs)
    return buffer.getvalue(), pages
