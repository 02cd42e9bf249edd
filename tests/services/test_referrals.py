"""Referrals: consent and reason required, only legal status moves, every change dated, a
warning on duplicate open referrals, chase-up tasks after five working days."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.errors import ConflictError, ValidationError
from app.core.timeutil import to_local
from app.models import Patient
from app.models.referral import REFERRAL_STATUSES
from app.services import referrals as rf
from app.services.caseload import add_coordinator, record_death
from app.services.directory import deactivate_service, get_service
from app.services.reference import seeded_service_id
from app.services.tasks import complete_task, list_tasks
from tests.services.test_caseload import NOW, logged, ops, refused, register

FCP = seeded_service_id("first-contact-plus")
LAC = seeded_service_id("lac-north-charnwood")
FRIDAY = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def refer(s: Session, pid: str, service: str = FCP, **kw: object) -> rf.ReferralView:
    values: dict[str, object] = {"reason": "Lonely since bereavement", "consent_given": True}
    values.update(kw)
    values.setdefault("now", NOW)
    return rf.make_referral(s, patient_id=pid, service_id=service, **values)  # type: ignore[arg-type]


def test_the_seeded_services_used_here_exist(ctx: AppContext) -> None:
    with ctx.db.read() as s:
        assert get_service(s, service_id=FCP).kind == "FIRST_CONTACT_PLUS"
        assert get_service(s, service_id=LAC).kind == "LAC"


def test_a_referral_without_consent_or_reason_is_refused(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
    refused(
        ctx,
        ValidationError,
        "consent must be recorded",
        lambda s: refer(s, pid, consent_given=False),
    )
    refused(
        ctx,
        ValidationError,
        "Reason for the referral is required",
        lambda s: refer(s, pid, reason="  "),
    )
    with ctx.db.write() as s:
        deactivate_service(s, service_id=LAC)
    refused(ctx, ConflictError, "no longer active", lambda s: refer(s, pid, service=LAC))
    with ctx.db.write() as s:
        record_death(s, patient_id=pid, date_of_death=date(2026, 11, 22), now=NOW)
    refused(ctx, ConflictError, "death is recorded", lambda s: refer(s, pid))


def test_a_referral_moves_through_its_states_with_every_change_dated(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        zoe = add_coordinator(s, name="Zoe")
    before = ops(ctx)
    with ctx.db.write() as s:
        made = refer(s, pid, created_by_id=zoe.id)
    assert ops(ctx) > before
    assert (made.status, made.consent_given, made.consent_recorded_at) == ("draft", True, NOW)
    assert made.allowed_next == ("sent", "cancelled") and made.warnings == ()
    assert made.service_name == "First Contact Plus" and made.patient_name == "OKAFOR, Grace"
    when = NOW
    for status in ("sent", "acknowledged", "accepted", "completed"):
        when += timedelta(days=1)
        before = ops(ctx)
        with ctx.db.write() as s:
            view = rf.transition_referral(
                s, referral_id=made.id, to_status=status, now=when, note=f"now {status}"
            )
        assert ops(ctx) == before + 2  # the referral and its status change
        assert (view.status, view.status_changed_at) == (status, when)
    assert [(h.from_status, h.to_status) for h in view.history] == [
        (None, "draft"),
        ("draft", "sent"),
        ("sent", "acknowledged"),
        ("acknowledged", "accepted"),
        ("accepted", "completed"),
    ]
    assert [h.changed_at for h in view.history] == [NOW + timedelta(days=n) for n in range(5)]
    assert view.history[-1].note == "now completed"
    assert view.sent_at == NOW + timedelta(days=1) and not view.is_open
    refused(
        ctx,
        ConflictError,
        "A completed referral cannot be marked sent; allowed next: none, it is closed.",
        lambda s: rf.transition_referral(s, referral_id=made.id, to_status="sent", now=when),
    )


def test_an_illegal_transition_is_refused_listing_the_allowed_next_states(
    ctx: AppContext,
) -> None:
    with ctx.db.write() as s:
        ref = refer(s, register(s).id)
    refused(
        ctx,
        ConflictError,
        "A draft referral cannot be marked accepted; allowed next: sent, cancelled.",
        lambda s: rf.transition_referral(s, referral_id=ref.id, to_status="accepted", now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "'lost' is not a referral status",
        lambda s: rf.transition_referral(s, referral_id=ref.id, to_status="lost", now=NOW),
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.sampled_from(REFERRAL_STATUSES), max_size=8))
def test_only_legal_moves_ever_change_a_referral(ctx: AppContext, moves: list[str]) -> None:
    with ctx.db.write() as s:
        pid = s.scalars(select(Patient.id)).first() or register(s).id
        ref = refer(s, pid)
        current, accepted = "draft", 0
        for move in moves:
            if move in rf.TRANSITIONS[current]:
                rf.transition_referral(s, referral_id=ref.id, to_status=move, now=NOW)
                current, accepted = move, accepted + 1
            else:
                with pytest.raises(ConflictError, match="allowed next"):
                    rf.transition_referral(s, referral_id=ref.id, to_status=move, now=NOW)
        view = rf.get_referral(s, referral_id=ref.id, now=NOW)
    assert view.status == current
    assert len(view.history) == accepted + 1
    chain = [h.to_status for h in view.history]
    assert all(b in rf.TRANSITIONS[a] for a, b in itertools.pairwise(chain))


def test_a_second_open_referral_to_the_same_service_is_warned_about_not_blocked(
    ctx: AppContext,
) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        first = refer(s, pid)
        other_service = refer(s, pid, service=LAC)
        second = refer(s, pid, reason="Asked again by daughter")
    assert other_service.warnings == ()
    assert second.warnings == (
        "Another open referral to First Contact Plus exists for this patient "
        "(draft, made 23/11/2026).",
    )
    with ctx.db.write() as s:
        rf.transition_referral(s, referral_id=first.id, to_status="cancelled", now=NOW)
        listed = rf.referrals_for_patient(s, patient_id=pid, now=NOW)
    assert {r.id: r.warnings for r in listed}[second.id] == ()
    assert len(listed) == 3


def test_chase_tasks_after_five_working_days_once_per_wait(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        pid = register(s, coordinator_id=zoe.id).id
        sent = refer(s, pid, now=FRIDAY, send=True)
        refer(s, pid, service=LAC, now=FRIDAY)  # a draft is never chased
    next_friday = FRIDAY + timedelta(days=7)
    with ctx.db.write() as s:
        assert rf.raise_chase_tasks(s, now=next_friday - timedelta(minutes=1)) == []
    before = ops(ctx)
    with ctx.db.write() as s:
        (task,) = rf.raise_chase_tasks(s, now=next_friday)
        assert rf.raise_chase_tasks(s, now=next_friday + timedelta(days=3)) == []
    assert ops(ctx) == before + 1
    assert (task.kind, task.source_id, task.due_at) == ("referral_chase", sent.id, next_friday)
    assert task.assigned_to_id == zoe.id and task.title == "Chase referral to First Contact Plus"
    with ctx.db.write() as s:
        complete_task(s, task_id=task.id, now=next_friday)
        assert rf.raise_chase_tasks(s, now=next_friday + timedelta(days=6)) == []
        (again,) = rf.raise_chase_tasks(s, now=next_friday + timedelta(days=7))
        view = rf.transition_referral(
            s, referral_id=sent.id, to_status="accepted", now=next_friday + timedelta(days=8)
        )
        chases = list_tasks(s, now=NOW, kinds=["referral_chase"], include_done=True)
    assert view.status == "accepted"
    assert {t.id: t.status for t in chases} == {task.id: "done", again.id: "done"}


def test_awaiting_reply_lists_unanswered_referrals_longest_waiting_first(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        amy = add_coordinator(s, name="Amy")
        zoes = register(s, coordinator_id=zoe.id).id
        amys = register(s, nhs="9990000034", coordinator_id=amy.id).id
        late = refer(s, zoes, now=FRIDAY + timedelta(days=1), send=True)
        early = refer(s, amys, now=FRIDAY, send=True)
        refer(s, zoes, service=LAC, now=FRIDAY)  # draft: not awaiting
        answered = refer(s, amys, service=LAC, now=FRIDAY, send=True)
        rf.transition_referral(s, referral_id=answered.id, to_status="accepted", now=FRIDAY)
        waiting = rf.referrals_awaiting_reply(s, now=FRIDAY + timedelta(days=7))
        zoes_only = rf.referrals_awaiting_reply(s, now=NOW, coordinator_id=zoe.id)
    assert [w.id for w in waiting] == [early.id, late.id]
    assert [w.working_days_waiting for w in waiting] == [5, 5]
    assert [w.id for w in zoes_only] == [late.id]


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=0, max_value=40),
)
def test_working_days_arithmetic_skips_weekends(start: datetime, days: int) -> None:
    end = rf.add_working_days(start, days)
    assert rf.working_days_between(start, end) == days
    if days:
        assert to_local(end).weekday() < 5
        assert end - start <= timedelta(days=days + 2 + 2 * (days // 5) + 1)


def test_every_referral_write_is_in_the_change_log(ctx: AppContext) -> None:
    pid = logged(ctx, lambda s: register(s)).id
    ref = logged(ctx, lambda s: refer(s, pid, now=FRIDAY))
    logged(
        ctx, lambda s: rf.transition_referral(s, referral_id=ref.id, to_status="sent", now=FRIDAY)
    )
    logged(ctx, lambda s: rf.raise_chase_tasks(s, now=FRIDAY + timedelta(days=7)))
    logged(
        ctx,
        lambda s: rf.transition_referral(
            s, referral_id=ref.id, to_status="cancelled", now=FRIDAY + timedelta(days=8)
        ),
    )
