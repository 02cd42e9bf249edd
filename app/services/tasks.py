"""One queue of dated work (DESIGN.md §1.6): post-discharge calls, assessment reviews, referral
chases, MDT actions, carer's assessments and possible-duplicate checks.

Overdue tasks stay in the queue until they are done or cancelled; completing one after its due
time is allowed and marks it late (derived: ``completed_at > due_at``). Other services raise and
close the tasks they own through ``ensure_task`` and ``close_tasks``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.timeutil import LONDON, ensure_utc
from app.models import Coordinator, MdtAction, Patient, Task
from app.models.task import TASK_KINDS
from app.services.caseload import clean_text, require_active_coordinator, require_patient
from app.services.patients import display_name

MAX_TITLE = 200


@dataclass(frozen=True)
class TaskView:
    id: str
    kind: str
    title: str
    patient_id: str | None
    patient_name: str | None
    assigned_to_id: str | None
    assigned_to_name: str | None
    due_at: datetime
    status: str  # open | done | cancelled
    completed_at: datetime | None
    source_table: str | None
    source_id: str | None
    notes: str | None
    created_at: datetime
    overdue: bool  # still open and past its due time
    late: bool  # done after its due time


@dataclass(frozen=True)
class TaskCounts:
    open_by_kind: dict[str, int]
    overdue_by_kind: dict[str, int]

    @property
    def open_total(self) -> int:
        return sum(self.open_by_kind.values())

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue_by_kind.values())


def local_due(day: date, hour: int = 9) -> datetime:
    """The aware instant of ``hour``:00 Europe/London on ``day`` (how dated tasks fall due)."""
    return ensure_utc(datetime.combine(day, time(hour, 0), tzinfo=LONDON))


def _view(task: Task, patient: Patient | None, assignee: str | None, now: datetime) -> TaskView:
    return TaskView(
        id=task.id,
        kind=task.kind,
        title=task.title,
        patient_id=task.patient_id,
        patient_name=display_name(patient.family_name, patient.given_name) if patient else None,
        assigned_to_id=task.assigned_to_id,
        assigned_to_name=assignee,
        due_at=task.due_at,
        status=task.status,
        completed_at=task.completed_at,
        source_table=task.source_table,
        source_id=task.source_id,
        notes=task.notes,
        created_at=task.created_at,
        overdue=task.status == "open" and task.due_at < now,
        late=task.status == "done"
        and task.completed_at is not None
        and task.completed_at > task.due_at,
    )


def task_view(session: Session, task: Task, *, now: datetime) -> TaskView:
    patient = session.get(Patient, task.patient_id) if task.patient_id else None
    assignee = session.get(Coordinator, task.assigned_to_id) if task.assigned_to_id else None
    return _view(task, patient, assignee.name if assignee else None, now)


_Sel = TypeVar("_Sel", bound="Select[*tuple[Any, ...]]")


def _scoped(stmt: _Sel, coordinator_id: str | None) -> _Sel:
    """Tasks assigned to the coordinator, and unassigned tasks of their patients."""
    if coordinator_id is None:
        return stmt
    owner = aliased(Patient)
    return stmt.outerjoin(owner, owner.id == Task.patient_id).where(
        or_(
            Task.assigned_to_id == coordinator_id,
            and_(Task.assigned_to_id.is_(None), owner.coordinator_id == coordinator_id),
        )
    )


def _load(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFoundError(f"No task with id {task_id}.")
    return task


def _require_open(task: Task, verb: str) -> None:
    if task.status != "open":
        raise ConflictError(f"This task cannot be {verb}: it is already {task.status}.")


def list_tasks(
    session: Session,
    *,
    now: datetime,
    coordinator_id: str | None = None,
    kinds: Iterable[str] | None = None,
    due_before: datetime | None = None,
    include_done: bool = False,
    patient_id: str | None = None,
) -> list[TaskView]:
    """The queue, soonest due first (overdue tasks first of all, as they are due earliest)."""
    stmt = (
        select(Task, Patient, Coordinator.name)
        .outerjoin(Patient, Patient.id == Task.patient_id)
        .outerjoin(Coordinator, Coordinator.id == Task.assigned_to_id)
    )
    filters: list[ColumnElement[bool]] = []
    if kinds is not None:
        wanted = list(kinds)
        unknown = sorted(set(wanted) - set(TASK_KINDS))
        if unknown:
            raise ValidationError(
                f"Unknown task kind {', '.join(unknown)}; expected one of {', '.join(TASK_KINDS)}.",
                field="kinds",
            )
        filters.append(Task.kind.in_(wanted))
    if due_before is not None:
        filters.append(Task.due_at < ensure_utc(due_before))
    if patient_id is not None:
        filters.append(Task.patient_id == patient_id)
    is_open = Task.status == "open"
    if coordinator_id is None:
        rows = list(
            session.execute(
                stmt.where(*filters, *([] if include_done else [is_open])).order_by(
                    Task.due_at, Task.created_at, Task.id
                )
            )
        )
    else:  # the two halves of _scoped, each read through its own index, then merged
        owner = aliased(Patient)
        theirs = select(owner.id).where(owner.coordinator_id == coordinator_id)
        mine = stmt.where(Task.assigned_to_id == coordinator_id, *filters)
        unassigned = stmt.where(
            _not_selective(Task.assigned_to_id.is_(None)), Task.patient_id.in_(theirs), *filters
        )
        if not include_done:
            mine = mine.where(is_open)
            unassigned = unassigned.where(_not_selective(is_open))
        rows = [*session.execute(mine), *session.execute(unassigned)]
        rows.sort(key=lambda r: (r[0].due_at, r[0].created_at, r[0].id))
    return [_view(t, p, name, now) for t, p, name in rows]


def _not_selective(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``condition``, with a hint to SQLite's query planner that most rows pass it. Without
    it, the unassigned tasks of a coordinator's patients are read by walking every open task of
    the team (the status index) rather than each patient's own (the patient index): a
    hundredfold difference on a 50,000-patient team."""
    return func.likelihood(condition, literal_column("0.9"))


def overdue_count(session: Session, *, now: datetime, coordinator_id: str | None = None) -> int:
    stmt = select(func.count(Task.id)).where(Task.status == "open", Task.due_at < now)
    return int(session.scalar(_scoped(stmt, coordinator_id)) or 0)


def task_counts(
    session: Session, *, now: datetime, coordinator_id: str | None = None
) -> TaskCounts:
    """Open and overdue tasks by kind (every kind listed, zeros included)."""
    overdue = func.sum(case((Task.due_at < now, 1), else_=0))
    stmt = select(Task.kind, func.count(Task.id), overdue).where(Task.status == "open")
    rows = session.execute(_scoped(stmt, coordinator_id).group_by(Task.kind)).all()
    open_by = dict.fromkeys(TASK_KINDS, 0)
    overdue_by = dict.fromkeys(TASK_KINDS, 0)
    for kind, n_open, n_overdue in rows:
        open_by[kind] = int(n_open)
        overdue_by[kind] = int(n_overdue or 0)
    return TaskCounts(open_by_kind=open_by, overdue_by_kind=overdue_by)


def _set_action_status(session: Session, task: Task, status: str, now: datetime) -> None:
    """An MDT action and its task are one piece of work: closing one closes the other."""
    if task.kind != "mdt_action" or not task.source_id:
        return
    action = session.get(MdtAction, task.source_id)
    if action is not None and action.status == "open":
        action.status = status
        action.completed_at = now


def _append_note(task: Task, notes: str | None) -> None:
    text = (notes or "").strip()
    if text:
        task.notes = f"{task.notes}\n{text}" if task.notes else text


def complete_task(
    session: Session, *, task_id: str, now: datetime, notes: str | None = None
) -> TaskView:
    """Mark a task done now; after its due time it counts as done late."""
    task = _load(session, task_id)
    _require_open(task, "completed")
    task.status = "done"
    task.completed_at = now
    _append_note(task, notes)
    _set_action_status(session, task, "done", now)
    session.flush()
    return task_view(session, task, now=now)


def cancel_task(
    session: Session, *, task_id: str, now: datetime, reason: str | None = None
) -> TaskView:
    task = _load(session, task_id)
    _require_open(task, "cancelled")
    task.status = "cancelled"
    task.completed_at = now
    _append_note(task, reason)
    _set_action_status(session, task, "dropped", now)
    session.flush()
    return task_view(session, task, now=now)


def assign_task(
    session: Session, *, task_id: str, coordinator_id: str | None, now: datetime
) -> TaskView:
    """Give an open task to an active coordinator (``None`` leaves it unassigned)."""
    task = _load(session, task_id)
    _require_open(task, "reassigned")
    if coordinator_id is not None:
        require_active_coordinator(session, coordinator_id)
    if task.assigned_to_id != coordinator_id:
        task.assigned_to_id = coordinator_id
        session.flush()
    return task_view(session, task, now=now)


def add_task(
    session: Session,
    *,
    title: str,
    due_at: datetime,
    now: datetime,
    patient_id: str | None = None,
    assigned_to_id: str | None = None,
    notes: str | None = None,
) -> TaskView:
    """A manual ("other") task; assigned to the patient's coordinator unless said otherwise."""
    text = " ".join((clean_text(title, "title", required=True, limit=MAX_TITLE) or "").split())
    if due_at.tzinfo is None:
        raise ValidationError("The due time needs a time zone.", field="due_at")
    patient = require_patient(session, patient_id) if patient_id is not None else None
    if assigned_to_id is not None:
        require_active_coordinator(session, assigned_to_id)
    elif patient is not None:
        assigned_to_id = patient.coordinator_id
    task = Task(
        kind="other",
        title=text,
        patient_id=patient_id,
        assigned_to_id=assigned_to_id,
        due_at=ensure_utc(due_at),
        status="open",
        notes=(notes or "").strip() or None,
        created_at=now,
    )
    session.add(task)
    session.flush()
    return task_view(session, task, now=now)


def open_tasks_for(session: Session, *, kind: str, source_table: str, source_id: str) -> list[Task]:
    return list(
        session.scalars(
            select(Task).where(
                Task.kind == kind,
                Task.source_table == source_table,
                Task.source_id == source_id,
                Task.status == "open",
            )
        )
    )


def ensure_task(
    session: Session,
    *,
    kind: str,
    source_table: str,
    source_id: str,
    title: str,
    due_at: datetime,
    now: datetime,
    patient_id: str | None = None,
    assigned_to_id: str | None = None,
    notes: str | None = None,
) -> tuple[TaskView, bool]:
    """The open task of this kind for this source, created if there is none (idempotent).

    An existing open task gets the new title and due time. Returns the task and whether it
    was created.
    """
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown task kind {kind!r}")
    existing = open_tasks_for(session, kind=kind, source_table=source_table, source_id=source_id)
    if existing:
        task = existing[0]
        if task.title != title:
            task.title = title
        if task.due_at != due_at:
            task.due_at = ensure_utc(due_at)
        session.flush()
        return task_view(session, task, now=now), False
    task = Task(
        kind=kind,
        title=title[:MAX_TITLE],
        patient_id=patient_id,
        assigned_to_id=assigned_to_id,
        due_at=ensure_utc(due_at),
        status="open",
        source_table=source_table,
        source_id=source_id,
        notes=notes,
        created_at=now,
    )
    session.add(task)
    session.flush()
    return task_view(session, task, now=now), True


def close_tasks(
    session: Session,
    *,
    kind: str,
    source_table: str,
    source_id: str,
    now: datetime,
    status: str = "done",
) -> int:
    """Close every open task of this kind for this source; returns how many were closed."""
    tasks = open_tasks_for(session, kind=kind, source_table=source_table, source_id=source_id)
    for task in tasks:
        task.status = status
        task.completed_at = now
    if tasks:
        session.flush()
    return len(tasks)
