"""The MDT pack: patient details, follow-up status, needs, referrals, SBAR, carried actions."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.context import AppContext
from app.core.errors import NotFoundError
from app.core.validation import random_test_nhs_number
from app.models import (
    CarePlan,
    Carer,
    CarerLink,
    MdtAction,
    MdtAttendee,
    MdtItem,
    MdtMeeting,
    NeedsAssessment,
    NeedsDomainEntry,
    Op,
)
from app.services.caseload import register_patient, set_respect
from app.services.followup import log_call_attempt, record_admission
from app.services.mdt_pack import build_mdt_pack, meetings_on
from app.services.reference import seeded_service_id
from app.services.referrals import make_referral

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MEETING_DAY = date(2026, 11, 23)
NHS = ("9991408916", "9995968533", "9998885981", "9998412358", "9990000026")


def add_patient(ctx: AppContext, i: int, **cohort: Any) -> str:
    with ctx.db.write() as s:
        return register_patient(
            s,
            nhs_number=NHS[i],
            family_name=f"Fictional{i}",
            given_name="Doreen",
            date_of_birth=date(1940, 11, 24),
            practice_code=None,
            now=NOW - timedelta(days=300),
            **cohort,
        ).id


def meeting(ctx: AppContext, day: date, *, created: datetime, **kw: object) -> str:
    with ctx.db.write() as s:
        m = MdtMeeting(meeting_date=day, created_at=created, **kw)
        s.add(m)
        s.flush()
        return m.id


@pytest.fixture
def agenda(ctx: AppContext) -> dict[str, str]:
    p0 = add_patient(ctx, 0, ltc_count=6, frailty_band="moderate", predicted_cost_ratio=3.5)
    p1 = add_patient(ctx, 1)
    earlier = meeting(ctx, date(2026, 10, 26), created=NOW - timedelta(days=40), level="pcn")
    current = meeting(
        ctx, MEETING_DAY, created=NOW - timedelta(days=7), level="pcn", pcn_name="Hinckley PCN",
        venue="Health Centre",
    )  # fmt: skip
    with ctx.db.write() as s:
        set_respect(
            s, patient_id=p0, in_place=True, respect_date=date(2026, 3, 1), location="At home",
            now=NOW,
        )  # fmt: skip
        s.add_all(
            [
                MdtAttendee(meeting_id=current, role="GP", name="Dr Example"),
                MdtAttendee(meeting_id=current, role="Care Coordinator", name="Ann Coordinator"),
                MdtAction(meeting_id=earlier, patient_id=p0, description="Falls referral",
                          owner="Ann", due_date=date(2026, 11, 2), status="open"),
                MdtAction(meeting_id=earlier, patient_id=p1, description="Old, finished",
                          status="done", completed_at=NOW - timedelta(days=20)),
            ]
        )  # fmt: skip
        item0 = MdtItem(
            meeting_id=current, patient_id=p0, position=1, reason="New discharge",
            situation="Home after a fall", background="Lives alone", assessment="Frail",
            recommendation="Home First",
        )  # fmt: skip
        item1 = MdtItem(meeting_id=current, patient_id=p1, position=2, reason=None)
        s.add_all([item0, item1])
        s.flush()
        s.add(
            MdtAction(meeting_id=current, item_id=item0.id, patient_id=p0,
                      description="Refer to Home First", owner="GP", due_date=date(2026, 11, 30))
        )  # fmt: skip
        carer = Carer(family_name="Fictional", given_name="Ray", young_carer=False)
        s.add(carer)
        s.flush()
        s.add(CarerLink(carer_id=carer.id, patient_id=p0, relationship="son", lives_with=True))
        a = NeedsAssessment(
            patient_id=p0, version=1, status="completed", started_at=NOW - timedelta(days=30),
            completed_at=NOW - timedelta(days=29), what_matters="Staying at home",
        )  # fmt: skip
        s.add(a)
        s.flush()
        s.add_all(
            [
                NeedsDomainEntry(assessment_id=a.id, domain="mobility_falls", need_level="high",
                                 notes="Two falls"),
                NeedsDomainEntry(assessment_id=a.id, domain="housing", need_level="none"),
                NeedsDomainEntry(assessment_id=a.id, domain="medication", need_level="moderate"),
            ]
        )  # fmt: skip
        make_referral(
            s, patient_id=p0, service_id=seeded_service_id("lac-north-west-leicestershire"),
            reason="isolation", consent_given=True, now=NOW - timedelta(days=3), send=True,
        )  # fmt: skip
        adm = record_admission(
            s, patient_id=p0, admitted_at=NOW - timedelta(days=10),
            discharged_at=NOW - timedelta(days=5), hospital="Leicester Royal Infirmary", now=NOW,
        )  # fmt: skip
        log_call_attempt(
            s, admission_id=adm.id, called_at=NOW - timedelta(days=4), outcome="contacted_carer",
            now=NOW,
        )  # fmt: skip
        record_admission(
            s, patient_id=p0, admitted_at=NOW - timedelta(days=200),
            discharged_at=NOW - timedelta(days=190), now=NOW,
        )  # fmt: skip
    return {"p0": p0, "p1": p1, "current": current, "earlier": earlier}


def test_pack_has_everything_the_meeting_needs(ctx: AppContext, agenda: dict[str, str]) -> None:
    with ctx.db.read() as s:
        pack = build_mdt_pack(s, meeting_id=agenda["current"], printed_by="Ann", now=NOW)
        latest_change = s.scalar(select(func.max(Op.received_at)))
    assert (pack.level, pack.venue_or_practice) == ("PCN", "Hinckley PCN — Health Centre")
    assert pack.printed_at == NOW and pack.printed_by == "Ann"
    assert pack.data_as_of == latest_change  # when this laptop last received a change
    assert {(a.role, a.name) for a in pack.attendees} == {
        ("GP", "Dr Example"),
        ("Care Coordinator", "Ann Coordinator"),
    }
    first, second = pack.patients
    assert (first.name, first.nhs_number, first.age) == ("FICTIONAL0, Doreen", NHS[0], 85)
    assert "6 long-term conditions" in first.cohort_explanation
    assert first.respect_status == "In place since 01/03/2026, held at At home"
    assert first.carers == ("FICTIONAL, Ray (son; lives with)",)
    (recent,) = first.recent_admissions  # the stay 190 days ago is not recent
    assert (recent.follow_up_status, recent.hours_to_contact) == ("Met", 24.0)
    assert recent.hospital == "Leicester Royal Infirmary"
    assert [(n.domain, n.level) for n in first.needs] == [
        ("Medication", "Moderate"),
        ("Mobility & falls", "High"),
    ]
    assert "Staying at home" in first.plan_summary
    (ref,) = first.open_referrals
    assert ref.status == "Sent" and ref.since == date(2026, 11, 20)
    assert first.discussion is not None and first.discussion.recommendation == "Home First"
    assert [(a.description, a.carried_forward) for a in first.actions] == [
        ("Falls referral", True),
        ("Refer to Home First", False),
    ]
    assert first.reason_on_agenda == "New discharge"
    assert second.discussion is None and second.actions == () and second.needs == ()
    assert second.respect_status == "Not in place" and second.reason_on_agenda
    assert [(a.description, a.carried_forward, a.patient_name) for a in pack.open_actions] == [
        ("Falls referral", True, "FICTIONAL0, Doreen"),
        ("Refer to Home First", False, "FICTIONAL0, Doreen"),
    ]


def test_an_action_closed_since_is_not_carried(ctx: AppContext, agenda: dict[str, str]) -> None:
    with ctx.db.write() as s:
        for a in s.query(MdtAction).filter(MdtAction.description == "Falls referral"):
            a.status, a.completed_at = "done", NOW
    with ctx.db.read() as s:
        pack = build_mdt_pack(s, meeting_id=agenda["current"], printed_by="x", now=NOW)
    assert [a.description for a in pack.open_actions] == ["Refer to Home First"]


def test_earlier_meeting_does_not_carry_later_actions(
    ctx: AppContext, agenda: dict[str, str]
) -> None:
    with ctx.db.read() as s:
        pack = build_mdt_pack(s, meeting_id=agenda["earlier"], printed_by="x", now=NOW)
    assert pack.patients == ()
    assert [(a.description, a.carried_forward) for a in pack.open_actions] == [
        ("Falls referral", False)
    ]


def test_unknown_meeting_and_meetings_by_day(ctx: AppContext, agenda: dict[str, str]) -> None:
    with ctx.db.read() as s:
        with pytest.raises(NotFoundError):
            build_mdt_pack(s, meeting_id="nope", printed_by="x", now=NOW)
        assert meetings_on(s, MEETING_DAY) == [agenda["current"]]
        assert meetings_on(s, date(2026, 1, 1)) == []


def test_queries_do_not_grow_with_the_agenda(ctx: AppContext, agenda: dict[str, str]) -> None:
    before = _count_queries(ctx, agenda["current"])
    for i in (2, 3, 4):
        pid = add_patient(ctx, i)
        with ctx.db.write() as s:
            s.add(MdtItem(meeting_id=agenda["current"], patient_id=pid, position=i))
    assert _count_queries(ctx, agenda["current"]) == before


def _count_queries(ctx: AppContext, meeting_id: str) -> int:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        with ctx.db.read() as s:
            build_mdt_pack(s, meeting_id=meeting_id, printed_by="x", now=NOW)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)
    return len(seen)


def _full_meeting(ctx: AppContext, rng: random.Random, size: int, day: date) -> str:
    """A meeting of ``size`` patients who each have everything the pack prints: a carer, a
    recent admission with a call, a needs assessment, a care plan, an open referral, a
    discussion, an action of this meeting and one carried forward from an earlier meeting."""
    earlier = meeting(ctx, day - timedelta(days=28), created=NOW - timedelta(days=60), level="pcn")
    current = meeting(ctx, day, created=NOW - timedelta(days=30), level="pcn", pcn_name="Hinckley")
    for i in range(size):
        with ctx.db.write() as s:
            pid = register_patient(
                s, nhs_number=random_test_nhs_number(rng), family_name=f"Fictional{size}x{i}",
                given_name="Doreen", date_of_birth=date(1940, 1, 1), practice_code=None,
                now=NOW - timedelta(days=300), ltc_count=5,
            ).id  # fmt: skip
            carer = Carer(family_name="Fictional", given_name=f"Carer{i}", young_carer=False)
            s.add(carer)
            s.flush()
            s.add(CarerLink(carer_id=carer.id, patient_id=pid, relationship="daughter"))
            a = NeedsAssessment(
                patient_id=pid, version=1, status="completed", started_at=NOW - timedelta(days=30),
                completed_at=NOW - timedelta(days=29), what_matters="Staying at home",
            )  # fmt: skip
            s.add(a)
            s.flush()
            s.add(NeedsDomainEntry(assessment_id=a.id, domain="mobility_falls", need_level="high"))
            s.add(CarePlan(patient_id=pid, assessment_id=a.id, outcomes_agreed="Safe at home",
                           agreed_at=NOW - timedelta(days=20)))  # fmt: skip
            make_referral(
                s, patient_id=pid, service_id=seeded_service_id("lac-north-west-leicestershire"),
                reason="isolation", consent_given=True, now=NOW - timedelta(days=3), send=True,
            )  # fmt: skip
            adm = record_admission(
                s, patient_id=pid, admitted_at=NOW - timedelta(days=10),
                discharged_at=NOW - timedelta(days=5), hospital="Leicester Royal Infirmary",
                now=NOW,
            )  # fmt: skip
            log_call_attempt(s, admission_id=adm.id, called_at=NOW - timedelta(days=4),
                             outcome="contacted_patient", now=NOW)  # fmt: skip
            item = MdtItem(meeting_id=current, patient_id=pid, position=i, reason="Discharge",
                           situation="Home", recommendation="Review")  # fmt: skip
            s.add(item)
            s.flush()
            s.add_all(
                [
                    MdtAction(meeting_id=current, item_id=item.id, patient_id=pid,
                              description="Review medicines", owner="GP",
                              due_date=day + timedelta(days=7)),
                    MdtAction(meeting_id=earlier, patient_id=pid, description="Falls referral",
                              owner="Ann", due_date=day - timedelta(days=7), status="open"),
                ]
            )  # fmt: skip
    return current


def test_a_30_patient_pack_takes_the_statements_of_a_5_patient_one_through_indexes(
    file_ctx: AppContext,
) -> None:
    rng = random.Random(30)
    small = _full_meeting(file_ctx, rng, 5, date(2026, 11, 2))
    large = _full_meeting(file_ctx, rng, 30, MEETING_DAY)
    seen: dict[str, list[tuple[str, Any]]] = {}
    packs = {}
    for name, meeting_id in (("small", small), ("large", large)):
        statements: list[tuple[str, Any]] = []

        def record(*args: Any, into: list[tuple[str, Any]] = statements) -> None:
            into.append((str(args[2]), args[3]))

        event.listen(file_ctx.db.engine, "before_cursor_execute", record)
        try:
            with file_ctx.db.read() as s:
                packs[name] = build_mdt_pack(s, meeting_id=meeting_id, printed_by="x", now=NOW)
        finally:
            event.remove(file_ctx.db.engine, "before_cursor_execute", record)
        seen[name] = statements

    assert len(packs["small"].patients) == 5 and len(packs["large"].patients) == 30
    for p in packs["large"].patients:  # every section was filled, so every read ran
        assert p.carers and p.recent_admissions and p.needs and p.open_referrals
        assert [a.carried_forward for a in p.actions] == [True, False]
    assert len(seen["large"]) == len(seen["small"])
    # Each patient table is read through an index; only the open MDT actions of earlier
    # meetings are found by walking the team's MDT actions (there is no index on the status).
    with file_ctx.db.read() as s:
        raw = s.connection().connection.driver_connection
        for sql, params in seen["large"]:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            steps = [str(r[-1]) for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
            scans = [x for x in steps if x.startswith("SCAN") and x != "SCAN mdt_actions"]
            assert not scans, f"{sql}\n{steps}"
