"""Carers: linked to one or more patients, the carer's assessment lifecycle and its task."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.services import carers as cr
from app.services.caseload import add_coordinator
from app.services.tasks import list_tasks
from tests.services.test_caseload import NOW, logged, ops, refused, register


def test_one_carer_can_care_for_several_patients(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        mum = register(s).id
        dad = register(s, nhs="9990000034", given_name="Tom").id
    before = ops(ctx)
    with ctx.db.write() as s:
        ruth = cr.add_carer(
            s,
            family_name="Okafor",
            given_name="Ruth",
            postcode="le1 5ww",
            phone=" 0116 496 0000 ",
            now=NOW,
        )
        cr.link_carer(
            s, carer_id=ruth.id, patient_id=mum, now=NOW, relationship="Daughter", main_carer=True
        )
        cr.link_carer(s, carer_id=ruth.id, patient_id=dad, now=NOW, lives_with=True)
        view = cr.get_carer(s, carer_id=ruth.id)
        mums = cr.carers_for_patient(s, patient_id=mum)
    assert ops(ctx) > before
    assert view.patient_ids == tuple(sorted((mum, dad)))
    assert (view.postcode, view.phone, view.assessment_status) == (
        "LE1 5WW",
        "0116 496 0000",
        "not_offered",
    )
    (link,) = mums
    assert (link.carer.display_name, link.relationship, link.main_carer, link.lives_with) == (
        "OKAFOR, Ruth",
        "Daughter",
        True,
        False,
    )
    refused(
        ctx,
        ConflictError,
        "already linked",
        lambda s: cr.link_carer(s, carer_id=ruth.id, patient_id=mum, now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "Given name is required",
        lambda s: cr.add_carer(s, family_name="X", given_name=" ", now=NOW),
    )
    refused(
        ctx,
        NotFoundError,
        "No carer",
        lambda s: cr.link_carer(s, carer_id="x", patient_id=mum, now=NOW),
    )


def test_a_new_main_carer_replaces_the_old_one_and_links_can_end(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        ruth = cr.add_carer(s, family_name="Okafor", given_name="Ruth", now=NOW)
        sam = cr.add_carer(s, family_name="Adams", given_name="Sam", now=NOW)
        cr.link_carer(s, carer_id=ruth.id, patient_id=pid, now=NOW, main_carer=True)
        cr.link_carer(s, carer_id=sam.id, patient_id=pid, now=NOW, main_carer=True)
        order = [
            (c.carer.given_name, c.main_carer) for c in cr.carers_for_patient(s, patient_id=pid)
        ]
        ended = cr.unlink_carer(s, carer_id=sam.id, patient_id=pid, now=NOW)
        left = [c.carer.given_name for c in cr.carers_for_patient(s, patient_id=pid)]
        every = cr.carers_for_patient(s, patient_id=pid, include_inactive=True)
    assert order == [("Sam", True), ("Ruth", False)]
    assert not ended.active and not ended.main_carer and left == ["Ruth"]
    assert len(every) == 2
    refused(
        ctx,
        NotFoundError,
        "not linked",
        lambda s: cr.unlink_carer(s, carer_id=sam.id, patient_id=pid, now=NOW),
    )
    with ctx.db.write() as s:
        again = cr.link_carer(s, carer_id=sam.id, patient_id=pid, now=NOW, relationship="Son")
    assert again.link_id == ended.link_id and again.active and again.relationship == "Son"


def test_identifying_a_carer_raises_one_task_closed_when_the_assessment_is_offered(
    ctx: AppContext,
) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        mum = register(s, coordinator_id=zoe.id).id
        dad = register(s, nhs="9990000034", coordinator_id=zoe.id).id
        ruth = cr.add_carer(s, family_name="Okafor", given_name="Ruth", now=NOW)
        cr.link_carer(s, carer_id=ruth.id, patient_id=mum, now=NOW)
        cr.link_carer(s, carer_id=ruth.id, patient_id=dad, now=NOW)
        (task,) = list_tasks(s, now=NOW, kinds=["carers_assessment"])
        offered = cr.offer_carers_assessment(s, carer_id=ruth.id, now=NOW)
        after = list_tasks(s, now=NOW, kinds=["carers_assessment"], include_done=True)
    assert (task.source_table, task.source_id, task.patient_id) == ("carers", ruth.id, mum)
    assert task.title == "Offer a carer's assessment to OKAFOR, Ruth"
    assert task.assigned_to_id == zoe.id and task.due_at == NOW + timedelta(days=14)
    assert (offered.assessment_status, offered.assessment_offered_on) == ("offered", NOW.date())
    assert [(t.id, t.status) for t in after] == [(task.id, "done")]


def test_the_task_is_cancelled_when_the_carer_cares_for_nobody(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        ruth = cr.add_carer(s, family_name="Okafor", given_name="Ruth", now=NOW)
        cr.link_carer(s, carer_id=ruth.id, patient_id=pid, now=NOW)
        cr.unlink_carer(s, carer_id=ruth.id, patient_id=pid, now=NOW)
        (task,) = list_tasks(s, now=NOW, kinds=["carers_assessment"], include_done=True)
    assert task.status == "cancelled"


def test_the_assessment_moves_only_through_sensible_dated_steps(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        ruth = cr.add_carer(s, family_name="Okafor", given_name="Ruth", now=NOW).id
    refused(
        ctx,
        ConflictError,
        "cannot be marked accepted when it is not offered; it must be offered first",
        lambda s: cr.accept_carers_assessment(s, carer_id=ruth, now=NOW),
    )
    refused(
        ctx,
        ConflictError,
        "must be accepted first",
        lambda s: cr.complete_carers_assessment(s, carer_id=ruth, now=NOW),
    )
    refused(
        ctx,
        ValidationError,
        "in the future",
        lambda s: cr.offer_carers_assessment(s, carer_id=ruth, now=NOW, on=date(2026, 11, 24)),
    )
    with ctx.db.write() as s:
        cr.offer_carers_assessment(s, carer_id=ruth, now=NOW, on=date(2026, 11, 10))
        cr.decline_carers_assessment(s, carer_id=ruth, now=NOW, on=date(2026, 11, 12))
        cr.offer_carers_assessment(s, carer_id=ruth, now=NOW, on=date(2026, 11, 16))
    refused(
        ctx,
        ValidationError,
        "before the previous step \\(16/11/2026\\)",
        lambda s: cr.accept_carers_assessment(s, carer_id=ruth, now=NOW, on=date(2026, 11, 15)),
    )
    with ctx.db.write() as s:
        cr.accept_carers_assessment(s, carer_id=ruth, now=NOW, on=date(2026, 11, 17))
        done = cr.complete_carers_assessment(s, carer_id=ruth, now=NOW)
    assert (done.assessment_status, done.assessment_offered_on, done.assessment_declined_on) == (
        "completed",
        date(2026, 11, 16),
        date(2026, 11, 12),
    )
    assert (done.assessment_accepted_on, done.assessment_completed_on) == (
        date(2026, 11, 17),
        date(2026, 11, 23),
    )
    refused(
        ctx,
        ConflictError,
        "when it is completed",
        lambda s: cr.offer_carers_assessment(s, carer_id=ruth, now=NOW),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"postcode": "nowhere"}, "not a valid UK postcode"),
        ({"age": 12}, "'age' cannot be changed"),
    ],
)
def test_update_carer_checks_its_fields(
    ctx: AppContext, change: dict[str, object], message: str
) -> None:
    with ctx.db.write() as s:
        ruth = cr.add_carer(s, family_name="Okafor", given_name="Ruth", now=NOW).id
    with ctx.db.write() as s:
        view = cr.update_carer(s, carer_id=ruth, now=NOW, young_carer=True, needs="Respite")
    assert view.young_carer and view.needs == "Respite"
    refused(
        ctx,
        ValidationError,
        message,
        lambda s: cr.update_carer(s, carer_id=ruth, now=NOW, **change),
    )


def test_every_carer_write_is_in_the_change_log(ctx: AppContext) -> None:
    pid = logged(ctx, lambda s: register(s)).id
    ruth = logged(ctx, lambda s: cr.add_carer(s, family_name="O", given_name="Ruth", now=NOW)).id
    logged(ctx, lambda s: cr.update_carer(s, carer_id=ruth, now=NOW, needs="Sleep"))
    logged(ctx, lambda s: cr.link_carer(s, carer_id=ruth, patient_id=pid, now=NOW))
    for step in (
        cr.offer_carers_assessment,
        cr.accept_carers_assessment,
        cr.complete_carers_assessment,
    ):
        logged(ctx, lambda s, step=step: step(s, carer_id=ruth, now=NOW))  # type: ignore[misc]
    logged(ctx, lambda s: cr.unlink_carer(s, carer_id=ruth, patient_id=pid, now=NOW))
