"""Every write to a synced record is an op in the same transaction; state can be rebuilt from
the ops alone."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.context import AppContext
from app.core.clock import FixedClock
from app.core.errors import StorageError
from app.models import Coordinator, LocalState, Op, Patient, Task
from app.sync.dump import dump_json, dump_records
from app.sync.hlc import Hlc
from app.sync.state import rebuild_all


def _patient(clock: FixedClock, nhs: str = "9990000026") -> Patient:
    return Patient(
        nhs_number=nhs,
        family_name="Okafor",
        given_name="Grace",
        date_of_birth=date(1938, 5, 1),
        created_at=clock.now(),
    )


def _ops(ctx: AppContext, table: str) -> list[Op]:
    with ctx.db.read() as s:
        return list(s.scalars(select(Op).where(Op.table_name == table).order_by(Op.local_order)))


def test_insert_update_delete_each_record_an_op_with_field_parents(
    ctx: AppContext, clock: FixedClock
) -> None:
    with ctx.db.write() as s:
        p = _patient(clock)
        s.add(p)
        s.flush()
        pid = p.id
    with ctx.db.write() as s:
        p = s.get_one(Patient, pid)
        p.phone = "0116 496 0123"
    with ctx.db.write() as s:
        s.delete(s.get_one(Patient, pid))
    ops = _ops(ctx, "patients")
    assert [o.kind for o in ops] == ["put", "put", "delete"]
    insert, update, tomb = ops
    assert json.loads(insert.parents) == {}
    assert json.loads(insert.fields)["family_name"] == "Okafor"
    assert json.loads(update.fields) == {"phone": "0116 496 0123"}
    assert json.loads(update.parents) == {"phone": [insert.op_id]}
    tomb_parents = json.loads(tomb.parents)
    assert tomb_parents["phone"] == [update.op_id]
    assert tomb_parents["family_name"] == [insert.op_id]
    seqs = [o.seq for o in ops]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert all(o.op_id == f"{ctx.device_id}:{o.seq}" for o in ops)


def test_unchanged_assignment_records_no_op(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.db.write() as s:
        p = _patient(clock)
        s.add(p)
        s.flush()
        pid = p.id
    before = len(_ops(ctx, "patients"))
    with ctx.db.write() as s:
        s.get_one(Patient, pid).family_name = "Okafor"
    assert len(_ops(ctx, "patients")) == before


def test_failed_transaction_leaves_neither_record_nor_op(
    ctx: AppContext, clock: FixedClock
) -> None:
    with ctx.db.read() as s:
        ops_before = s.scalar(select(func.count()).select_from(Op))
    with pytest.raises(RuntimeError), ctx.db.write() as s:
        s.add(_patient(clock))
        s.flush()
        raise RuntimeError("the user's action failed half way")
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Op)) == ops_before
        assert s.scalar(select(func.count()).select_from(Patient)) == 0


def test_hlc_never_goes_backwards_when_the_wall_clock_does(
    ctx: AppContext, clock: FixedClock
) -> None:
    with ctx.db.write() as s:
        s.add(Coordinator(name="A"))
    clock.advance(timedelta(hours=-3))
    with ctx.db.write() as s:
        s.add(Coordinator(name="B"))
    a, b = _ops(ctx, "coordinators")
    assert Hlc.decode(b.hlc) > Hlc.decode(a.hlc)


def test_rebuilding_from_the_op_log_gives_the_same_dump(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.db.write() as s:
        c = Coordinator(name="Priya Shah")
        s.add(c)
        s.flush()
        for i, nhs in enumerate(["9990000026", "9990000034", "9990000042"]):
            p = _patient(clock, nhs)
            p.coordinator_id = c.id
            s.add(p)
            s.flush()
            s.add(
                Task(
                    kind="other",
                    title=f"Ring GP surgery {i}",
                    patient_id=p.id,
                    due_at=clock.now() + timedelta(days=i),
                    created_at=clock.now(),
                )
            )
    with ctx.db.write() as s:
        first = s.scalars(select(Patient).order_by(Patient.nhs_number)).first()
        assert first is not None
        first.level = "Expert"
        doomed = s.scalars(select(Task).order_by(Task.title)).first()
        assert doomed is not None
        s.delete(doomed)
    with ctx.db.write() as s:
        before = dump_json(s)
        rebuild_all(s, now=clock.now())
        after = dump_json(s)
    assert before == after
    records = json.loads(after)
    assert len(records["patients"]) == 3 and len(records["tasks"]) == 2
    assert any(p["level"] == "Expert" for p in records["patients"])


def test_dump_has_no_local_bookkeeping(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.db.write() as s:
        s.add(_patient(clock))
    with ctx.db.read() as s:
        dumped = dump_records(s)
    assert "ops" not in dumped and "local_state" not in dumped and "settings" not in dumped
    (patient,) = dumped["patients"]
    assert patient["nhs_number"] == "9990000026"
    assert patient["created_at"].endswith("Z")
    assert list(patient) == sorted(patient) or isinstance(patient, dict)


def test_writes_without_a_device_identity_are_refused(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.db.write() as s:
        s.delete(s.get_one(LocalState, 1))
    with pytest.raises(StorageError, match="device identity"), ctx.db.write() as s:
        s.add(_patient(clock))
