"""Possible duplicates: raised once per pair as a task, never merged."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.models import Patient
from app.services.duplicates import SAME_NHS, SAME_PERSON, find_possible_duplicates
from app.services.tasks import complete_task, list_tasks
from app.sync.merge import flag_duplicate_nhs_numbers
from tests.services.test_caseload import NOW, ops, register


def arrived(s: Session, nhs: str, *, days_later: int = 1, **kw: object) -> str:
    """A record as it arrives from another laptop (sync does not refuse duplicates)."""
    values: dict[str, object] = {
        "family_name": "Okafor",
        "given_name": "Grace",
        "date_of_birth": date(1938, 5, 1),
        "postcode": "LE1 5WW",
    }
    values.update(kw)
    patient = Patient(nhs_number=nhs, created_at=NOW + timedelta(days=days_later), **values)
    s.add(patient)
    s.flush()
    return patient.id


def test_the_same_nhs_number_twice_raises_one_task_on_the_newer_record(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        older = register(s).id
        newer = arrived(s, "9990000026", family_name="OKAFOR")
    before = ops(ctx)
    with ctx.db.write() as s:
        (finding,) = find_possible_duplicates(s, now=NOW)
        (task,) = list_tasks(s, now=NOW, kinds=["possible_duplicate"])
        patients = s.scalar(select(func.count()).select_from(Patient))
    assert ops(ctx) == before + 1
    assert (finding.newer_id, finding.older_id, finding.reason, finding.created) == (
        newer,
        older,
        SAME_NHS,
        True,
    )
    assert (task.id, task.patient_id, task.source_table, task.source_id) == (
        finding.task_id,
        newer,
        "patients",
        newer,
    )
    assert task.notes is not None and older in task.notes
    assert patients == 2  # never merged
    with ctx.db.write() as s:
        (again,) = find_possible_duplicates(s, now=NOW)
        complete_task(s, task_id=task.id, now=NOW, notes="Different people")
        (after_check,) = find_possible_duplicates(s, now=NOW)
    assert not again.created and not after_check.created
    assert ops(ctx) == before + 2  # only the completion


def test_the_same_person_under_two_nhs_numbers_is_flagged(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        older = register(s, postcode="LE1 5WW").id
        newer = arrived(
            s, "9990000034", family_name=" okafor", given_name="GRACE", postcode="le15ww"
        )
        arrived(s, "9990000042", date_of_birth=date(1938, 5, 2))  # another birthday
        arrived(s, "9990000050", postcode=None)  # no postcode to compare
        arrived(s, "9990000069", given_name="Grace", postcode="LE1 5WX")
        findings = find_possible_duplicates(s, now=NOW)
    assert [(f.newer_id, f.older_id, f.reason) for f in findings] == [(newer, older, SAME_PERSON)]


def test_a_pair_already_raised_by_sync_is_not_raised_again(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        older = register(s).id
        newer = arrived(s, "9990000026")
        assert flag_duplicate_nhs_numbers(s, [newer], now=NOW) == 1
    with ctx.db.write() as s:
        (finding,) = find_possible_duplicates(s, now=NOW)
        tasks = list_tasks(s, now=NOW, kinds=["possible_duplicate"])
    assert not finding.created and (finding.newer_id, finding.older_id) == (newer, older)
    assert [t.id for t in tasks] == [finding.task_id]


def test_three_records_with_one_nhs_number_give_three_pairs(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        register(s)
        arrived(s, "9990000026", days_later=1)
        arrived(s, "9990000026", days_later=2)
        findings = find_possible_duplicates(s, now=NOW)
        assert find_possible_duplicates(s, now=NOW) == [
            f.__class__(f.newer_id, f.older_id, f.reason, f.task_id, False) for f in findings
        ]
    assert len(findings) == 3 and len({f.task_id for f in findings}) == 3
