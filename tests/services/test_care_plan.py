"""The care and support plan and its check against the five NHS England criteria."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.clock import FixedClock
from app.core.errors import ValidationError
from app.models.assessment import NEED_DOMAINS
from app.services import assessments as asm
from app.services import care_plan as cp
from tests.services.test_caseload import NOW, ops, refused, register

FULL: dict[str, Any] = {
    "person_involved": True,
    "who_involved": "Grace and her daughter Ruth",
    "outcomes_agreed": "Walk to the shop; fewer falls",
    "contingency_plan": "Ring Ruth, then 111",
    "shared_with_person": True,
    "shared_with_others": "GP, community matron",
    "agreed": True,
    "review_date": date(2027, 2, 1),
}


def assessed(s: Session, *, what_matters: str | None = "Her garden", complete: bool = True) -> str:
    pid = register(s).id
    draft = asm.start_assessment(s, patient_id=pid, now=NOW)
    asm.save_assessment(
        s,
        assessment_id=draft.id,
        now=NOW,
        domains=[asm.DomainRating(d, "none") for d in NEED_DOMAINS],
        what_matters=what_matters,
        review_date=date(2027, 2, 1),
    )
    if complete:
        asm.complete_assessment(s, assessment_id=draft.id, now=NOW)
    return pid


def test_without_a_plan_no_criterion_is_met(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = register(s).id
        check = cp.check_care_plan(s, patient_id=pid)
        assert cp.get_care_plan(s, patient_id=pid) is None
    assert not check.has_plan and check.met_count == 0
    assert [c.number for c in check.criteria] == [1, 2, 3, 4, 5]
    assert check.missing[0] == "No care and support plan has been saved yet."
    assert "Complete a personalised needs assessment with the person." in check.missing
    assert check.summary == "0 of 5 care planning criteria met"


def test_a_complete_plan_meets_all_five_criteria(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = assessed(s)
    before = ops(ctx)
    with ctx.db.write() as s:
        plan = cp.save_care_plan(s, patient_id=pid, now=NOW, **FULL)
        check = cp.check_care_plan(s, patient_id=pid)
        latest = asm.latest_completed(s, patient_id=pid)
    assert ops(ctx) == before + 1
    assert latest is not None and plan.assessment_id == latest.id
    assert plan.agreed_at == NOW and plan.who_involved == FULL["who_involved"]
    assert check.all_met and check.missing == () and check.has_plan


@pytest.mark.parametrize(
    ("change", "criterion", "message"),
    [
        ({"person_involved": False}, 1, "took part in developing and agreeing"),
        ({"who_involved": " "}, 1, "Record who else was involved"),
        ({"outcomes_agreed": None}, 3, "outcomes the person wants to achieve"),
        ({"agreed": False}, 3, "agreed the plan and its outcomes"),
        ({"shared_with_person": False}, 4, "shared with the person"),
        ({"shared_with_others": None}, 4, "Record who else the plan was shared with"),
        ({"review_date": None}, 5, "Set a date to review the plan"),
        ({"review_date": date(2026, 11, 22)}, 5, "review date 22/11/2026 has passed"),
    ],
)
def test_each_missing_piece_fails_only_its_own_criterion(
    ctx: AppContext, change: dict[str, Any], criterion: int, message: str
) -> None:
    with ctx.db.write() as s:
        pid = assessed(s)
        cp.save_care_plan(s, patient_id=pid, now=NOW, **{**FULL, **change})
        check = cp.check_care_plan(s, patient_id=pid, now=NOW)
    assert [c.number for c in check.criteria if not c.met] == [criterion]
    (gap,) = check.missing
    assert message in gap


@pytest.mark.parametrize(
    ("what_matters", "complete", "message"),
    [
        (None, True, "Record what matters to the person."),
        ("Her garden", False, "Complete a personalised needs assessment with the person."),
    ],
)
def test_the_conversation_criterion_needs_a_completed_assessment_of_what_matters(
    ctx: AppContext, what_matters: str | None, complete: bool, message: str
) -> None:
    with ctx.db.write() as s:
        pid = assessed(s, what_matters=what_matters, complete=complete)
        cp.save_care_plan(s, patient_id=pid, now=NOW, **FULL)
        check = cp.check_care_plan(s, patient_id=pid)
    assert [c.number for c in check.criteria if not c.met] == [2]
    assert check.missing == (message,)


def test_a_plan_built_from_a_draft_says_the_assessment_is_unfinished(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = assessed(s, complete=False)
        (draft,) = asm.list_assessments(s, patient_id=pid)
        cp.save_care_plan(s, patient_id=pid, now=NOW, assessment_id=draft.id, **FULL)
        check = cp.check_care_plan(s, patient_id=pid)
    assert check.missing == ("Complete the needs assessment (version 1 is a draft).",)


def test_the_review_criterion_follows_the_injected_clock(
    ctx: AppContext, clock: FixedClock
) -> None:
    with ctx.db.write() as s:
        pid = assessed(s)
        cp.save_care_plan(s, patient_id=pid, now=NOW, **FULL)
    clock.advance(timedelta(days=71))  # 2 February 2027
    with ctx.db.read() as s:
        check = cp.check_care_plan(s, patient_id=pid)
    assert [c.number for c in check.criteria if not c.met] == [5]


def test_one_plan_per_person_keeps_when_it_was_first_agreed(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        pid = assessed(s)
        first = cp.save_care_plan(s, patient_id=pid, now=NOW, **FULL)
        later = NOW + timedelta(days=3)
        second = cp.save_care_plan(s, patient_id=pid, now=later, **{**FULL, "who_involved": "Ruth"})
        third = cp.save_care_plan(s, patient_id=pid, now=later, **{**FULL, "agreed": False})
    assert first.id == second.id == third.id
    assert second.agreed_at == NOW and second.who_involved == "Ruth"
    assert third.agreed_at is None
    with ctx.db.write() as s:
        other = register(s, nhs="9990000034").id
        theirs = asm.start_assessment(s, patient_id=other, now=NOW).id
    refused(
        ctx,
        ValidationError,
        "not one of this patient's",
        lambda s: cp.save_care_plan(s, patient_id=pid, now=NOW, assessment_id=theirs),
    )
