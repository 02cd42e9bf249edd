"""Personalised needs assessments: versions, the whole-form save, completion rules and the
review task."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.models.assessment import NEED_DOMAINS
from app.services import assessments as asm
from app.services.caseload import add_coordinator
from app.services.tasks import list_tasks
from tests.services.test_caseload import NOW, logged, ops, refused, register

ALL_RATED = [asm.DomainRating(d, "low") for d in NEED_DOMAINS]
REVIEW = date(2027, 2, 23)


def completed(s: Session, pid: str, *, review: date = REVIEW, **kw: object) -> asm.AssessmentView:
    draft = asm.start_assessment(s, patient_id=pid, now=NOW)
    values: dict[str, object] = {"domains": ALL_RATED, "review_date": review}
    values.update(kw)
    asm.save_assessment(s, assessment_id=draft.id, now=NOW, **values)  # type: ignore[arg-type]
    return asm.complete_assessment(s, assessment_id=draft.id, now=NOW)


def test_a_first_assessment_is_saved_as_a_whole_form(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        pid = register(s).id
    before = ops(ctx)
    with ctx.db.write() as s:
        draft = asm.start_assessment(s, patient_id=pid, now=NOW, assessor_id=zoe.id)
        saved = asm.save_assessment(
            s,
            assessment_id=draft.id,
            now=NOW,
            domains=[
                asm.DomainRating("housing", "high", " Stairs to bathroom "),
                asm.DomainRating("medication", "moderate"),
            ],
            what_matters="Staying at home with her cat",
            goals="Walk to the shop again",
            actions=[
                asm.ActionInput("Stairlift assessment", owner="ASC", due_date=date(2026, 12, 4)),
                asm.ActionInput("Pharmacy review"),
            ],
            review_date=REVIEW,
        )
    assert ops(ctx) > before
    assert (draft.version, draft.status, draft.what_matters) == (1, "draft", None)
    assert [(d.label, d.need_level, d.notes) for d in saved.domains] == [
        ("Medication", "moderate", None),
        ("Housing", "high", "Stairs to bathroom"),
    ]
    assert saved.high_need_domains == ("housing",) and len(saved.unrated_domains) == 9
    assert [(x.description, x.owner) for x in saved.actions] == [
        ("Stairlift assessment", "ASC"),
        ("Pharmacy review", None),
    ]
    stairlift = saved.actions[0]
    with ctx.db.write() as s:
        resaved = asm.save_assessment(
            s,
            assessment_id=draft.id,
            now=NOW,
            domains=[asm.DomainRating("housing", "moderate")],
            actions=[asm.ActionInput("Stairlift fitted", owner="ASC", done=True, id=stairlift.id)],
        )
    assert [(d.domain, d.need_level) for d in resaved.domains] == [("housing", "moderate")]
    assert [(x.id, x.description, x.done) for x in resaved.actions] == [
        (stairlift.id, "Stairlift fitted", True)
    ]
    assert (resaved.what_matters, resaved.review_date) == (None, None)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"domains": [asm.DomainRating("gardening", "low")]}, "Unknown need domain 'gardening'"),
        ({"domains": [asm.DomainRating("housing", "dire")]}, "Need level 'dire' for Housing"),
        ({"domains": [asm.DomainRating("housing", "low")] * 2}, "Housing is rated twice"),
        ({"actions": [asm.ActionInput(" ")]}, "Action description is required"),
        ({"actions": [asm.ActionInput("x", id="nope")]}, "does not belong to this assessment"),
    ],
)
def test_bad_assessment_input_is_refused(
    ctx: AppContext, kw: dict[str, object], message: str
) -> None:
    with ctx.db.write() as s:
        draft = asm.start_assessment(s, patient_id=register(s).id, now=NOW)
    refused(
        ctx,
        ValidationError,
        message,
        lambda s: asm.save_assessment(s, assessment_id=draft.id, now=NOW, **kw),  # type: ignore[arg-type]
    )


def test_completing_needs_every_domain_and_a_review_date_not_in_the_past(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        draft = asm.start_assessment(s, patient_id=pid, now=NOW)
        asm.save_assessment(s, assessment_id=draft.id, now=NOW, domains=ALL_RATED[:-1])
    refused(
        ctx,
        ValidationError,
        "not yet rated: Safeguarding",
        lambda s: asm.complete_assessment(s, assessment_id=draft.id, now=NOW),
    )
    with ctx.db.write() as s:
        asm.save_assessment(s, assessment_id=draft.id, now=NOW, domains=ALL_RATED)
    refused(
        ctx,
        ValidationError,
        "Set a review date",
        lambda s: asm.complete_assessment(s, assessment_id=draft.id, now=NOW),
    )
    with ctx.db.write() as s:
        asm.save_assessment(
            s, assessment_id=draft.id, now=NOW, domains=ALL_RATED, review_date=date(2026, 11, 22)
        )
    refused(
        ctx,
        ValidationError,
        "review date 22/11/2026 is in the past",
        lambda s: asm.complete_assessment(s, assessment_id=draft.id, now=NOW),
    )


def test_completion_creates_the_review_task_at_nine_in_the_morning_uk_time(
    ctx: AppContext,
) -> None:
    with ctx.db.write() as s:
        zoe = add_coordinator(s, name="Zoe")
        pid = register(s, coordinator_id=zoe.id).id
        first = completed(s, pid, review=date(2027, 6, 1))  # British Summer Time
        (task,) = list_tasks(s, now=NOW, kinds=["assessment_review"])
    assert (first.status, first.completed_at) == ("completed", NOW)
    assert task.due_at == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    assert (task.source_table, task.source_id) == ("needs_assessments", first.id)
    assert task.assigned_to_id == zoe.id and task.patient_id == pid
    refused(
        ctx,
        ConflictError,
        "Version 1 is completed and cannot be changed",
        lambda s: asm.save_assessment(s, assessment_id=first.id, now=NOW, goals="x"),
    )
    refused(
        ctx,
        ConflictError,
        "Version 1 is completed",
        lambda s: asm.complete_assessment(s, assessment_id=first.id, now=NOW),
    )


def test_a_new_version_starts_from_the_last_completed_one(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        first = completed(
            s,
            pid,
            what_matters="Her garden",
            goals="Sleep better",
            actions=[asm.ActionInput("Done already", done=True), asm.ActionInput("Still to do")],
        )
        second = asm.start_assessment(s, patient_id=pid, now=NOW)
    assert second.version == 2 and second.status == "draft"
    assert (second.what_matters, second.goals, second.review_date) == (
        "Her garden",
        "Sleep better",
        None,
    )
    assert [d.need_level for d in second.domains] == ["low"] * len(NEED_DOMAINS)
    assert [x.description for x in second.actions] == ["Still to do"]
    assert second.actions[0].id not in {x.id for x in first.actions}
    refused(
        ctx,
        ConflictError,
        "Version 2 is still a draft",
        lambda s: asm.start_assessment(s, patient_id=pid, now=NOW),
    )
    with ctx.db.write() as s:
        assert asm.latest_completed(s, patient_id=pid) == first
        asm.save_assessment(
            s, assessment_id=second.id, now=NOW, domains=ALL_RATED, review_date=date(2027, 5, 1)
        )
        done = asm.complete_assessment(s, assessment_id=second.id, now=NOW)
        reviews = list_tasks(s, now=NOW, kinds=["assessment_review"], include_done=True)
        versions = [a.version for a in asm.list_assessments(s, patient_id=pid)]
        assert asm.latest_completed(s, patient_id=pid) == done
    assert versions == [2, 1]
    assert {(t.source_id, t.status) for t in reviews} == {(first.id, "done"), (second.id, "open")}


def test_a_draft_can_be_discarded(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        first = completed(s, pid, actions=[asm.ActionInput("Keep")])
        draft = asm.start_assessment(s, patient_id=pid, now=NOW)
    before = ops(ctx)
    with ctx.db.write() as s:
        asm.discard_draft(s, assessment_id=draft.id)
        assert [a.id for a in asm.list_assessments(s, patient_id=pid)] == [first.id]
        assert asm.start_assessment(s, patient_id=pid, now=NOW).version == 2
    assert ops(ctx) > before
    refused(
        ctx,
        NotFoundError,
        "No needs assessment",
        lambda s: asm.get_assessment(s, assessment_id="x"),
    )
    refused(
        ctx, NotFoundError, "No patient", lambda s: asm.start_assessment(s, patient_id="x", now=NOW)
    )


def test_every_assessment_write_is_in_the_change_log(ctx: AppContext) -> None:
    pid = logged(ctx, lambda s: register(s)).id
    draft = logged(ctx, lambda s: asm.start_assessment(s, patient_id=pid, now=NOW))
    logged(
        ctx,
        lambda s: asm.save_assessment(
            s, assessment_id=draft.id, now=NOW, domains=ALL_RATED, review_date=REVIEW
        ),
    )
    logged(ctx, lambda s: asm.complete_assessment(s, assessment_id=draft.id, now=NOW))
    second = logged(ctx, lambda s: asm.start_assessment(s, patient_id=pid, now=NOW))
    logged(ctx, lambda s: asm.discard_draft(s, assessment_id=second.id))
