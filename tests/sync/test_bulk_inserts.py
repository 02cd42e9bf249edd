"""Bulk inserts (demo data, big imports) write the same records and ops as the ORM would."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from app.context import AppContext
from app.core.clock import FixedClock
from app.models import Coordinator, LocalState, Op, Patient
from app.sync.changelog import record_bulk_inserts
from app.sync.dump import dump_json
from app.sync.hlc import Hlc
from app.sync.state import rebuild_all


def _rows(clock: FixedClock, n: int) -> list[dict[str, object]]:
    return [
        {
            "nhs_number": f"99900000{i:02d}",
            "family_name": f"Family{i}",
            "given_name": "Ann",
            "date_of_birth": date(1940, 1, 1) + timedelta(days=i),
            "created_at": clock.now(),
        }
        for i in range(n)
    ]


def _ops(ctx: AppContext) -> list[Op]:
    """This laptop's ops (the seeded service directory came with ops of its own)."""
    with ctx.db.read() as s:
        return list(
            s.scalars(select(Op).where(Op.device_id == ctx.device_id).order_by(Op.local_order))
        )


def test_bulk_records_have_one_put_op_each_in_sequence(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.db.write() as s:
        s.add(Coordinator(name="Priya Shah"))
    with ctx.db.write() as s:
        record_bulk_inserts(s, clock, Patient.__table__, _rows(clock, 30))
    ops = _ops(ctx)
    assert len(ops) == 31
    bulk = ops[1:]
    assert [o.seq for o in ops] == list(range(1, 32))
    assert all(o.op_id == f"{ctx.device_id}:{o.seq}" for o in ops)
    hlcs = [Hlc.decode(o.hlc) for o in ops]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
    assert [o.hlc for o in ops] == sorted(o.hlc for o in ops)  # text order too
    assert {o.kind for o in bulk} == {"put"} and {o.parents for o in bulk} == {"{}"}
    with ctx.db.read() as s:
        patients = {p.id: p for p in s.scalars(select(Patient))}
        assert {o.record_id for o in bulk} == set(patients)
        fields = json.loads(bulk[0].fields)
        first = patients[bulk[0].record_id]
        assert fields["family_name"] == first.family_name
        assert fields["level"] == first.level == "Enhanced"  # scalar default filled in
        assert s.get_one(LocalState, 1).next_seq == 32


def test_orm_writes_after_a_bulk_insert_continue_the_log(
    ctx: AppContext, clock: FixedClock
) -> None:
    with ctx.db.write() as s:
        record_bulk_inserts(s, clock, Patient.__table__, _rows(clock, 5))
    with ctx.db.write() as s:
        record_bulk_inserts(s, clock, Patient.__table__, [])  # nothing
        s.add(Coordinator(name="Sam Lee"))
    ops = _ops(ctx)
    assert [o.seq for o in ops] == [1, 2, 3, 4, 5, 6]
    assert Hlc.decode(ops[-1].hlc) > Hlc.decode(ops[-2].hlc)
    assert ops[-1].local_order > ops[-2].local_order


def test_bulk_records_rebuild_from_their_ops(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.db.write() as s:
        record_bulk_inserts(s, clock, Patient.__table__, _rows(clock, 12))
    with ctx.db.write() as s:
        before = dump_json(s)
        rebuild_all(s, now=clock.now())
        assert dump_json(s) == before
    assert len(json.loads(before)["patients"]) == 12
