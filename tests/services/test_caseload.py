"""Caseload: registering patients, coordinators, episodes, levels, reassignment, ReSPECT,
consent and death — and that every write is in the change log while refusals write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.models import Op, Patient, Task
from app.models.patient import LEVELS
from app.services import caseload as cl
from app.services.tasks import add_task, ensure_task, list_tasks

T = TypeVar("T")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PRACTICE = "wl-weir-measham"


def ops(ctx: AppContext) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Op)) or 0)


def register(s: Session, nhs: str = "9990000026", **kw: Any) -> cl.PatientView:
    values: dict[str, Any] = {
        "family_name": "Okafor",
        "given_name": "Grace",
        "date_of_birth": date(1938, 5, 1),
        "now": NOW,
    }
    values.update(kw)
    return cl.register_patient(s, nhs_number=nhs, **values)


def logged(ctx: AppContext, action: Callable[[Session], T]) -> T:
    """Run one write; it must leave at least one op in the change log."""
    before = ops(ctx)
    with ctx.db.write() as s:
        result = action(s)
    assert ops(ctx) > before, "the write left no op in the change log"
    return result


def refused(
    ctx: AppContext, error: type[Exception], match: str, action: Callable[[Session], object]
) -> None:
    """The action is refused with ``error`` and leaves the change log as it was."""
    before = ops(ctx)
    with pytest.raises(error, match=match), ctx.db.write() as s:
        action(s)
    assert ops(ctx) == before


# --- patients ------------------------------------------------------------------------------


def test_register_patient_opens_an_episode_and_explains_the_cohort(ctx: AppContext) -> None:
    before = ops(ctx)
    with ctx.db.write() as s:
        alice = cl.add_coordinator(s, name="Asha Patel")
        view = register(
            s,
            nhs="999 000 0026",
            practice_code=PRACTICE,
            postcode="le12 7ab",
            coordinator_id=alice.id,
            ltc_count=6,
            efi_score=0.3,
            referral_source="hospital referral",
        )
    assert ops(ctx) > before
    assert view.nhs_number == "9990000026"
    assert view.nhs_number_display == "999 000 0026"
    assert view.display_name == "OKAFOR, Grace"
    assert view.age == 88
    assert view.postcode == "LE12 7AB"
    assert view.practice_name == "Measham"
    assert view.coordinator_name == "Asha Patel"
    assert view.frailty_band == "moderate"  # derived from the eFI score
    assert view.cohort_explanation.startswith("On the list because: 6 long-term conditions")
    assert "moderate frailty (eFI 0.30)" in view.cohort_explanation
    episode = view.open_episode
    assert episode is not None
    assert (episode.source, episode.level, episode.opened_on) == (
        "hospital referral",
        "Enhanced",
        date(2026, 11, 23),
    )
    assert [(c.from_level, c.to_level, c.direction) for c in view.level_history] == [
        (None, "Enhanced", "start")
    ]


def test_a_second_patient_with_the_same_nhs_number_is_refused_naming_the_first(
    ctx: AppContext,
) -> None:
    with ctx.db.write() as s:
        first = register(s)
    refused(
        ctx,
        ConflictError,
        f"999 000 0026 is already registered.*OKAFOR, Grace.*{first.id}",
        lambda s: register(s, nhs="999-000-0026", family_name="Other"),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"nhs": "9990000025"}, "check-digit"),
        ({"date_of_birth": date(2027, 1, 1)}, "in the future"),
        ({"family_name": "  "}, "Family name is required"),
        ({"practice_code": "no-such-practice"}, "Unknown GP practice"),
        ({"postcode": "LE1"}, "not a valid UK postcode"),
        ({"phone": "call me"}, "not a UK phone number"),
        ({"level": "Platinum"}, "level 'Platinum' is not one of"),
        ({"referral_source": "gossip"}, "referral source 'gossip'"),
        ({"ltc_count": 2.5}, "whole number"),
        ({"risk_score": 101}, "risk score must be a number from 0 to 100"),
        ({"shoe_size": 9}, "'shoe_size' cannot be changed here"),
    ],
)
def test_register_patient_refuses_bad_input(
    ctx: AppContext, change: dict[str, Any], message: str
) -> None:
    refused(ctx, ValidationError, message, lambda s: register(s, **change))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postcode": "LE1"}, "postcode"),
        ({"given_name": ""}, "given_name"),
        ({"family_name": "x" * 81}, "family_name"),
        ({"nhs": "123"}, "nhs_number"),
    ],
)
def test_refusals_name_the_field_for_the_form(
    ctx: AppContext, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refusal, ctx.db.write() as s:
        register(s, **change)
    assert refusal.value.field == field


def test_register_refuses_an_inactive_coordinator(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        gone = cl.add_coordinator(s, name="Ben Clarke")
        cl.deactivate_coordinator(s, coordinator_id=gone.id)
    refused(
        ctx, ConflictError, "no longer an active", lambda s: register(s, coordinator_id=gone.id)
    )


def test_update_patient_validates_and_keeps_nhs_numbers_unique(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        grace = register(s)
        register(s, nhs="9990000034", given_name="Tom")
    before = ops(ctx)
    with ctx.db.write() as s:
        view = cl.update_patient(s, patient_id=grace.id, now=NOW, postcode="le1 5ww", phone=None)
    assert view.postcode == "LE1 5WW"
    assert ops(ctx) == before + 1
    refused(
        ctx,
        ConflictError,
        "already registered",
        lambda s: cl.update_patient(s, patient_id=grace.id, now=NOW, nhs_number="9990000034"),
    )
    refused(
        ctx,
        ValidationError,
        "'level' cannot be changed here",
        lambda s: cl.update_patient(s, patient_id=grace.id, now=NOW, level="Expert"),
    )
    refused(
        ctx,
        NotFoundError,
        "No patient",
        lambda s: cl.update_patient(s, patient_id="nope", now=NOW, phone=None),
    )


def test_respect_consent_and_mdt_flag(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
    refused(
        ctx,
        ValidationError,
        "date of the ReSPECT form",
        lambda s: cl.set_respect(s, patient_id=pid, in_place=True, now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "in the future",
        lambda s: cl.set_respect(
            s, patient_id=pid, in_place=True, respect_date=date(2026, 12, 1), now=NOW
        ),
    )
    before = ops(ctx)
    with ctx.db.write() as s:
        view = cl.set_respect(
            s,
            patient_id=pid,
            in_place=True,
            respect_date=date(2026, 10, 2),
            location=" Kitchen drawer ",
            now=NOW,
        )
        assert (view.respect_in_place, view.respect_location) == (True, "Kitchen drawer")
        view = cl.set_consent(s, patient_id=pid, consent=True, now=NOW)
        view = cl.flag_for_mdt(s, patient_id=pid, now=NOW)
    assert view.consent_to_share and view.flag_for_mdt and view.respect_date == date(2026, 10, 2)
    assert ops(ctx) > before
    with ctx.db.write() as s:
        view = cl.set_respect(s, patient_id=pid, in_place=False, now=NOW)
        view = cl.flag_for_mdt(s, patient_id=pid, now=NOW, flagged=False)
    assert (view.respect_in_place, view.respect_date, view.respect_location) == (False, None, None)
    assert not view.flag_for_mdt


def test_record_death_closes_the_episode_and_cancels_open_work(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s, now=NOW - timedelta(days=30)).id
        add_task(s, title="Phone daughter", due_at=NOW, now=NOW, patient_id=pid)
        ensure_task(
            s,
            kind="possible_duplicate",
            source_table="patients",
            source_id=pid,
            title="Check",
            due_at=NOW,
            now=NOW,
            patient_id=pid,
        )
    refused(
        ctx,
        ValidationError,
        "in the future or before birth",
        lambda s: cl.record_death(s, patient_id=pid, date_of_death=date(2026, 11, 24), now=NOW),
    )
    with ctx.db.write() as s:
        view = cl.record_death(s, patient_id=pid, date_of_death=date(2026, 11, 20), now=NOW)
        statuses = {t.kind: t.status for t in list_tasks(s, now=NOW, include_done=True)}
    assert view.open_episode is None
    assert view.episodes[0].close_reason == "Died"
    assert view.episodes[0].closed_on == date(2026, 11, 20)
    assert view.age == 88
    assert statuses == {"other": "cancelled", "possible_duplicate": "open"}
    refused(
        ctx,
        ConflictError,
        "date of death .* is recorded",
        lambda s: cl.record_death(s, patient_id=pid, date_of_death=date(2026, 11, 20), now=NOW),
    )
    refused(
        ctx,
        ConflictError,
        "death is recorded",
        lambda s: cl.open_episode(
            s, patient_id=pid, source="MDT referral", level="Expert", now=NOW
        ),
    )


# --- coordinators --------------------------------------------------------------------------


def test_coordinators_are_listed_by_name_with_their_open_caseload(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = cl.add_coordinator(s, name="Zoe Ward", locality="Central")
        amy = cl.add_coordinator(s, name="  Amy   Shah ", is_team_lead=True)
        register(s, coordinator_id=zoe.id)
        register(s, nhs="9990000034", coordinator_id=zoe.id)
        listed = cl.list_coordinators(s)
    assert [(c.name, c.caseload) for c in listed] == [("Amy Shah", 0), ("Zoe Ward", 2)]
    assert listed[0].is_team_lead and listed[0].id == amy.id
    assert listed[1].locality == "Central" and listed[1].role == "Care Coordinator"
    refused(
        ctx,
        ConflictError,
        "already an active coordinator called Zoe Ward",
        lambda s: cl.add_coordinator(s, name="zoe ward"),
    )
    refused(ctx, ValidationError, "Name is required", lambda s: cl.add_coordinator(s, name=" "))


def test_a_coordinator_with_open_patients_cannot_be_deactivated(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = cl.add_coordinator(s, name="Zoe Ward")
        amy = cl.add_coordinator(s, name="Amy Shah")
        register(s, coordinator_id=zoe.id)
    refused(
        ctx,
        ConflictError,
        "still has 1 open patient",
        lambda s: cl.deactivate_coordinator(s, coordinator_id=zoe.id),
    )
    with ctx.db.write() as s:
        cl.reassign_caseload(s, from_coordinator_id=zoe.id, to_coordinator_id=amy.id, now=NOW)
        gone = cl.deactivate_coordinator(s, coordinator_id=zoe.id)
        names = [c.name for c in cl.list_coordinators(s)]
        everyone = [c.name for c in cl.list_coordinators(s, include_inactive=True)]
    assert not gone.active
    assert names == ["Amy Shah"] and everyone == ["Amy Shah", "Zoe Ward"]
    refused(
        ctx,
        ConflictError,
        "no longer an active",
        lambda s: cl.deactivate_coordinator(s, coordinator_id=zoe.id),
    )


# --- episodes and levels -------------------------------------------------------------------


def test_closing_an_already_closed_episode_is_refused(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        episode = register(s).episodes[0]
    refused(
        ctx,
        ValidationError,
        "Reason for closing is required",
        lambda s: cl.close_episode(s, episode_id=episode.id, reason=" ", now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "between the opening date and today",
        lambda s: cl.close_episode(
            s, episode_id=episode.id, reason="x", now=NOW, closed_on=date(2026, 11, 1)
        ),
    )
    before = ops(ctx)
    with ctx.db.write() as s:
        closed = cl.close_episode(s, episode_id=episode.id, reason="Goals met", now=NOW)
    assert ops(ctx) == before + 1
    assert (closed.closed_on, closed.close_reason, closed.is_open) == (
        date(2026, 11, 23),
        "Goals met",
        False,
    )
    refused(
        ctx,
        ConflictError,
        "already closed on 23/11/2026",
        lambda s: cl.close_episode(s, episode_id=episode.id, reason="again", now=NOW),
    )
    refused(
        ctx,
        NotFoundError,
        "No episode",
        lambda s: cl.close_episode(s, episode_id="missing", reason="x", now=NOW),
    )


def test_a_new_episode_needs_the_previous_one_closed(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        patient = register(s)
    refused(
        ctx,
        ConflictError,
        "already has an open episode",
        lambda s: cl.open_episode(
            s, patient_id=patient.id, source="MDT referral", level="Enhanced", now=NOW
        ),
    )
    later = NOW + timedelta(days=40)
    with ctx.db.write() as s:
        cl.close_episode(s, episode_id=patient.episodes[0].id, reason="Stable", now=NOW)
        cl.open_episode(s, patient_id=patient.id, source="PCN clinician", level="Expert", now=later)
        view = cl.patient_view(s, patient_id=patient.id, now=later)
    assert [(e.level, e.is_open) for e in view.episodes] == [("Expert", True), ("Enhanced", False)]
    assert view.level == "Expert" and view.referral_source == "PCN clinician"
    assert [c.direction for c in view.level_history] == ["start", "step down"]


def test_change_level_records_step_up_and_down_history(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s, level="Essential").id
        lead = cl.add_coordinator(s, name="Lead")
    with ctx.db.write() as s:
        up = cl.change_level(
            s,
            patient_id=pid,
            to_level="Enhanced",
            reason="Two admissions",
            now=NOW,
            changed_by_id=lead.id,
        )
        down = cl.change_level(s, patient_id=pid, to_level="Expert", reason="Settled", now=NOW)
        view = cl.patient_view(s, patient_id=pid, now=NOW)
    assert (up.from_level, up.to_level, up.direction) == ("Essential", "Enhanced", "step up")
    assert (down.direction, down.reason) == ("step down", "Settled")
    assert view.level == "Expert" and view.open_episode is not None
    assert view.open_episode.level == "Expert"
    assert [c.to_level for c in view.level_history] == ["Essential", "Enhanced", "Expert"]
    refused(
        ctx,
        ConflictError,
        "already at the Expert level",
        lambda s: cl.change_level(s, patient_id=pid, to_level="Expert", reason="x", now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "Reason for the change is required",
        lambda s: cl.change_level(s, patient_id=pid, to_level="Enhanced", reason="", now=NOW),
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.sampled_from(LEVELS), max_size=8))
def test_level_history_follows_any_sequence_of_changes(ctx: AppContext, steps: list[str]) -> None:
    with ctx.db.write() as s:
        patient = s.scalars(select(Patient)).first()
        pid = patient.id if patient else register(s).id
        current = cl.patient_view(s, patient_id=pid, now=NOW).level
        expected = [c.to_level for c in cl.patient_view(s, patient_id=pid, now=NOW).level_history]
        for level in steps:
            if level == current:
                with pytest.raises(ConflictError):
                    cl.change_level(s, patient_id=pid, to_level=level, reason="r", now=NOW)
                continue
            change = cl.change_level(s, patient_id=pid, to_level=level, reason="r", now=NOW)
            assert change.direction == (
                "step up" if LEVELS.index(level) > LEVELS.index(current) else "step down"
            )
            expected.append(level)
            current = level
        view = cl.patient_view(s, patient_id=pid, now=NOW)
    assert view.level == current
    assert [c.to_level for c in view.level_history] == expected


# --- reassignment --------------------------------------------------------------------------


def test_reassigning_to_an_unknown_or_inactive_coordinator_is_refused(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = cl.add_coordinator(s, name="Zoe Ward")
        gone = cl.add_coordinator(s, name="Gone")
        cl.deactivate_coordinator(s, coordinator_id=gone.id)
        pid = register(s, coordinator_id=zoe.id).id
    refused(
        ctx,
        NotFoundError,
        "No coordinator with id nobody",
        lambda s: cl.reassign_patient(s, patient_id=pid, coordinator_id="nobody", now=NOW),
    )
    refused(
        ctx,
        ConflictError,
        "Gone is no longer an active coordinator",
        lambda s: cl.reassign_patient(s, patient_id=pid, coordinator_id=gone.id, now=NOW),
    )
    refused(
        ctx,
        ConflictError,
        "already on Zoe Ward's caseload",
        lambda s: cl.reassign_patient(s, patient_id=pid, coordinator_id=zoe.id, now=NOW),
    )
    refused(
        ctx,
        NotFoundError,
        "No coordinator",
        lambda s: cl.reassign_caseload(
            s, from_coordinator_id=zoe.id, to_coordinator_id="nobody", now=NOW
        ),
    )
    refused(
        ctx,
        NotFoundError,
        "No coordinator",
        lambda s: cl.reassign_caseload(
            s, from_coordinator_id="nobody", to_coordinator_id=zoe.id, now=NOW
        ),
    )


def test_reassign_patient_moves_the_episode_and_open_tasks(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = cl.add_coordinator(s, name="Zoe Ward")
        amy = cl.add_coordinator(s, name="Amy Shah")
        pid = register(s, coordinator_id=zoe.id).id
        add_task(s, title="Call", due_at=NOW, now=NOW, patient_id=pid)
        done = add_task(s, title="Old", due_at=NOW, now=NOW, patient_id=pid)
        s.get_one(Task, done.id).status = "done"
    before = ops(ctx)
    with ctx.db.write() as s:
        view = cl.reassign_patient(s, patient_id=pid, coordinator_id=amy.id, now=NOW)
        tasks = {t.title: t.assigned_to_id for t in list_tasks(s, now=NOW, include_done=True)}
    assert ops(ctx) == before + 3  # patient, episode, open task
    assert view.coordinator_name == "Amy Shah"
    assert view.open_episode is not None and view.open_episode.coordinator_id == amy.id
    assert tasks == {"Call": amy.id, "Old": zoe.id}


def test_reassign_caseload_moves_every_patient_of_a_leaver(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = cl.add_coordinator(s, name="Zoe Ward")
        amy = cl.add_coordinator(s, name="Amy Shah")
        ids = [register(s, nhs=n, coordinator_id=zoe.id).id for n in ("9990000026", "9990000034")]
        other = register(s, nhs="9990000042", coordinator_id=amy.id).id
        add_task(s, title="Call", due_at=NOW, now=NOW, patient_id=ids[0])
    with ctx.db.write() as s:
        result = cl.reassign_caseload(
            s, from_coordinator_id=zoe.id, to_coordinator_id=amy.id, now=NOW
        )
        owners = {i: cl.patient_view(s, patient_id=i, now=NOW).coordinator_id for i in ids}
        amy_view = next(c for c in cl.list_coordinators(s) if c.id == amy.id)
    assert result == cl.ReassignResult(patients_moved=2, tasks_moved=1)
    assert set(owners.values()) == {amy.id}
    assert amy_view.caseload == 3 and other
    refused(
        ctx,
        ConflictError,
        "already Amy Shah's",
        lambda s: cl.reassign_caseload(
            s, from_coordinator_id=amy.id, to_coordinator_id=amy.id, now=NOW
        ),
    )


def test_every_caseload_write_is_in_the_change_log(ctx: AppContext) -> None:
    zoe = logged(ctx, lambda s: cl.add_coordinator(s, name="Zoe"))
    amy = logged(ctx, lambda s: cl.add_coordinator(s, name="Amy"))
    pid = logged(ctx, lambda s: register(s, coordinator_id=zoe.id)).id
    logged(ctx, lambda s: cl.update_patient(s, patient_id=pid, now=NOW, phone="0116 496 0000"))
    logged(
        ctx, lambda s: cl.change_level(s, patient_id=pid, to_level="Expert", reason="r", now=NOW)
    )
    logged(
        ctx,
        lambda s: cl.set_respect(
            s, patient_id=pid, in_place=True, respect_date=date(2026, 1, 1), now=NOW
        ),
    )
    logged(ctx, lambda s: cl.set_consent(s, patient_id=pid, consent=True, now=NOW))
    logged(ctx, lambda s: cl.flag_for_mdt(s, patient_id=pid, now=NOW))
    logged(ctx, lambda s: cl.reassign_patient(s, patient_id=pid, coordinator_id=amy.id, now=NOW))
    logged(
        ctx,
        lambda s: cl.reassign_caseload(
            s, from_coordinator_id=amy.id, to_coordinator_id=zoe.id, now=NOW
        ),
    )
    logged(ctx, lambda s: cl.deactivate_coordinator(s, coordinator_id=amy.id))
    view = logged(
        ctx,
        lambda s: cl.close_episode(
            s,
            episode_id=cl.patient_view(s, patient_id=pid, now=NOW).episodes[0].id,
            reason="r",
            now=NOW,
        ),
    )
    logged(
        ctx,
        lambda s: cl.open_episode(
            s, patient_id=pid, source="MDT referral", level="Enhanced", now=NOW
        ),
    )
    logged(ctx, lambda s: cl.record_death(s, patient_id=pid, date_of_death=NOW.date(), now=NOW))
    assert not view.is_open
