"""Merging ops between laptops: idempotent, order-independent, nothing silently lost."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from app.context import AppContext, open_memory_context
from app.core.clock import FixedClock
from app.models import Conflict, Op, Patient, Task
from app.sync.dump import dump_json
from app.sync.merge import (
    OpConflictError,
    devices_with_ops,
    held_back_count,
    merge_ops,
    op_to_dict,
)
from app.sync.state import rebuild_all

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Laptop:
    def __init__(self, name: str) -> None:
        self.name = name
        self.clock = FixedClock(START)
        self.ctx: AppContext = open_memory_context(clock=self.clock)

    def ops(self) -> list[dict]:
        with self.ctx.db.read() as s:
            return [op_to_dict(o) for o in s.scalars(select(Op).order_by(Op.local_order))]

    def receive(self, ops: list[dict]):  # type: ignore[no-untyped-def]
        with self.ctx.db.write() as s:
            return merge_ops(s, ops, clock=self.clock)

    def dump(self) -> str:
        with self.ctx.db.read() as s:
            return dump_json(s)

    def add_patient(self, nhs: str, family: str) -> str:
        with self.ctx.db.write() as s:
            # like the real service, one laptop never registers an NHS number twice
            mine = s.scalars(select(Patient.id).where(Patient.nhs_number == nhs)).first()
            if mine is not None:
                return mine
            p = Patient(
                nhs_number=nhs,
                family_name=family,
                given_name="Test",
                date_of_birth=date(1940, 1, 1),
                created_at=self.clock.now(),
            )
            s.add(p)
            s.flush()
            return p.id

    def edit(self, pid: str, **changes: object) -> bool:
        with self.ctx.db.write() as s:
            p = s.get(Patient, pid)
            if p is None:
                return False
            for k, v in changes.items():
                setattr(p, k, v)
            return True

    def delete(self, pid: str) -> None:
        with self.ctx.db.write() as s:
            p = s.get(Patient, pid)
            if p is not None:
                for t in s.scalars(select(Task).where(Task.patient_id == pid)):
                    s.delete(t)
                s.flush()
                s.delete(p)

    def conflicts(self) -> list[tuple[str, str, str]]:
        with self.ctx.db.read() as s:
            return [(c.table_name, c.record_id, c.field) for c in s.scalars(select(Conflict))]


@pytest.fixture
def pair() -> Iterator[tuple[Laptop, Laptop]]:
    a, b = Laptop("a"), Laptop("b")
    yield a, b
    a.ctx.close()
    b.ctx.close()


def test_import_is_idempotent(pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    a.add_patient("9990000026", "Okafor")
    first = b.receive(a.ops())
    dump = b.dump()
    again = b.receive(a.ops())
    assert first.new > 0 and again.new == 0 and again.already_held == again.received
    assert b.dump() == dump
    assert json.loads(dump)["patients"][0]["family_name"] == "Okafor"


def test_concurrent_edits_become_a_conflict_with_the_same_provisional_value(
    pair: tuple[Laptop, Laptop],
) -> None:
    a, b = pair
    pid = a.add_patient("9990000026", "Okafor")
    b.receive(a.ops())
    a.clock.advance(timedelta(minutes=1))
    b.clock.advance(timedelta(minutes=2))
    a.edit(pid, phone="0116 496 0001")
    b.edit(pid, phone="0116 496 0002")
    a.receive(b.ops())
    b.receive(a.ops())
    assert a.dump() == b.dump()
    assert ("patients", pid, "phone") in a.conflicts()
    assert ("patients", pid, "phone") in b.conflicts()
    # provisional value: the highest HLC (b edited later)
    assert json.loads(a.dump())["patients"][0]["phone"] == "0116 496 0002"
    # resolving: a local edit whose parents are both heads settles it everywhere
    a.clock.advance(timedelta(minutes=5))
    a.edit(pid, phone="0116 496 0001")
    b.receive(a.ops())
    assert a.conflicts() == [] and b.conflicts() == []
    assert a.dump() == b.dump()
    assert json.loads(b.dump())["patients"][0]["phone"] == "0116 496 0001"


def test_edit_versus_delete_is_a_conflict_not_a_loss(pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    pid = a.add_patient("9990000026", "Okafor")
    b.receive(a.ops())
    a.edit(pid, phone="0116 496 0001")
    b.delete(pid)
    a.receive(b.ops())
    b.receive(a.ops())
    assert a.dump() == b.dump()
    patients = json.loads(a.dump())["patients"]
    assert [p["phone"] for p in patients] == ["0116 496 0001"]
    assert ("patients", pid, "phone") in a.conflicts()


def test_same_op_id_with_different_content_halts_the_import(pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    a.add_patient("9990000026", "Okafor")
    ops = a.ops()
    b.receive(ops)
    before = b.dump()
    forged = [dict(o) for o in ops]
    forged[-1] = {**forged[-1], "fields": {**forged[-1]["fields"], "family_name": "Forged"}}
    with pytest.raises(OpConflictError, match="different content"):
        b.receive(forged)
    assert b.dump() == before


def test_gaps_are_reported_and_filled_later(pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    for i, nhs in enumerate(["9990000026", "9990000034", "9990000042"]):
        a.add_patient(nhs, f"Family{i}")
    ops = [o for o in a.ops() if o["table"] == "patients"]
    late = ops[:1]
    report = b.receive(ops[1:])
    assert report.gaps, "the missing first change must be reported"
    assert "missing" in report.gaps[0].describe()
    b.receive(late + [o for o in a.ops() if o["table"] != "patients"])
    assert len(json.loads(b.dump())["patients"]) == 3


def _held_back(laptop: Laptop) -> tuple[int, int]:
    """(the count the Sync screen shows, the count in the op log)."""
    with laptop.ctx.db.read() as s:
        flagged = s.scalar(select(func.count()).select_from(Op).where(Op.held_back.is_(True)))
        return held_back_count(s), int(flagged or 0)


def test_ops_far_in_the_future_are_held_back(pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    a.clock.advance(timedelta(days=3))  # a laptop with a wrong clock
    a.add_patient("9990000026", "Okafor")
    report = b.receive(a.ops())
    assert report.held_back > 0
    assert _held_back(b) == (report.held_back, report.held_back)
    assert json.loads(b.dump())["patients"] == []
    b.clock.advance(timedelta(days=3))
    b.receive([])
    assert len(json.loads(b.dump())["patients"]) == 1
    assert _held_back(b) == (0, 0)


def test_with_nothing_held_back_an_import_does_not_read_the_whole_op_log(
    pair: tuple[Laptop, Laptop],
) -> None:
    a, b = pair
    a.add_patient("9990000026", "Okafor")
    b.receive(a.ops())  # counts what is held back once, and keeps the count
    a.add_patient("9990000018", "Nowak")
    statements: list[str] = []
    engine = b.ctx.db.engine

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert b.receive(a.ops()).new > 0
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [q for q in statements if "held_back IS 1" in q]
    assert _held_back(b) == (0, 0)


def test_the_devices_in_the_op_log_are_listed_by_index_seeks(pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    a.add_patient("9990000026", "Okafor")
    b.add_patient("9990000018", "Nowak")
    b.receive(a.ops())
    with b.ctx.db.read() as s:
        distinct = sorted(s.scalars(select(Op.device_id).distinct()))
        assert devices_with_ops(s) == distinct and len(distinct) >= 2


def test_same_nhs_number_on_two_laptops_raises_a_possible_duplicate_task(
    pair: tuple[Laptop, Laptop],
) -> None:
    a, b = pair
    a.add_patient("9990000026", "Okafor")
    b.add_patient("9990000026", "Okafor")
    report = b.receive(a.ops())
    a.receive(b.ops())
    assert report.duplicates_flagged == 1
    b.receive(a.ops())
    a.receive(b.ops())
    assert a.dump() == b.dump()
    dumped = json.loads(a.dump())
    assert len(dumped["patients"]) == 2  # never merged automatically
    dup_tasks = [t for t in dumped["tasks"] if t["kind"] == "possible_duplicate"]
    assert len(dup_tasks) == 1


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), laptops=st.integers(3, 5))
def test_random_exchange_schedules_converge(seed: int, laptops: int) -> None:
    rng = random.Random(seed)
    fleet = [Laptop(f"l{i}") for i in range(laptops)]
    try:
        known: list[str] = []
        nhs_pool = ["9990000026", "9990000034", "9990000042", "9990000050", "9990000069"]
        for _step in range(rng.randint(8, 20)):
            lap = rng.choice(fleet)
            lap.clock.advance(timedelta(seconds=rng.randint(1, 600)))
            action = rng.random()
            if action < 0.3 or not known:
                known.append(lap.add_patient(rng.choice(nhs_pool), rng.choice("ABCDE")))
            elif action < 0.7:
                lap.edit(rng.choice(known), phone=f"0116 496 {rng.randint(0, 9999):04d}")
            elif action < 0.8:
                lap.delete(rng.choice(known))
            else:  # a bundle: all of a sender's ops, or a stale/dropped part of them
                sender, receiver = rng.sample(fleet, 2)
                ops = sender.ops()
                if rng.random() < 0.5:
                    ops = [o for o in ops if rng.random() < 0.6]
                rng.shuffle(ops)
                receiver.receive(ops)
        for _round in range(2):  # a final full exchange, in random order, duplicated
            for receiver in rng.sample(fleet, len(fleet)):
                for sender in fleet:
                    if sender is not receiver:
                        receiver.receive(sender.ops())
        dumps = {lap.dump() for lap in fleet}
        assert len(dumps) == 1
        op_sets = [{o["op_id"] for o in lap.ops()} for lap in fleet]
        assert all(s == op_sets[0] for s in op_sets)
        # the tables are exactly what the ops say
        lap = fleet[0]
        with lap.ctx.db.write() as s:
            before = dump_json(s)
            rebuild_all(s, now=lap.clock.now())
            assert dump_json(s) == before
            assert s.scalar(select(func.count()).select_from(Op)) == len(op_sets[0])
    finally:
        for lap in fleet:
            lap.ctx.close()
