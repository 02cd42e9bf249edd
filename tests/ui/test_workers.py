"""The background runner: results come back on the GUI thread, refusals as exceptions, and
nothing mutable (ORM objects, lists) crosses threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.models import Coordinator
from app.ui.workers import Runner, check_immutable


@dataclass(frozen=True)
class Frozen:
    items: tuple[int, ...]


@dataclass
class Thawed:
    items: tuple[int, ...]


def test_check_immutable_accepts_frozen_data_and_refuses_the_rest() -> None:
    check_immutable(Frozen((1, 2)))
    check_immutable((Frozen(()), "x", None, 1.5))
    for bad in ([1], {"a": 1}, Thawed(()), Frozen(([],))):  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            check_immutable(bad)


def test_a_read_runs_off_the_gui_thread_and_answers_on_it(qtbot, ctx) -> None:
    runner = Runner(ctx.db)
    seen: dict[str, object] = {}

    def job(session):
        seen["job_thread"] = threading.get_ident()
        return session.scalar(select(Coordinator.id).limit(1))

    def done(result):
        seen["result"] = result
        seen["answer_thread"] = threading.get_ident()

    runner.read(job, on_success=done)
    # not waitSignal on the worker: a quick job may finish before a wait could be connected
    qtbot.waitUntil(lambda: "answer_thread" in seen, timeout=10_000)
    assert seen["result"] is None
    assert seen["job_thread"] != threading.get_ident()
    assert seen["answer_thread"] == threading.get_ident()
    runner.wait()


def test_a_refused_write_rolls_back_and_reports_the_error(qtbot, ctx, clock) -> None:
    runner = Runner(ctx.db)
    failures: list[BaseException] = []

    def job(session):
        session.add(Coordinator(name="Half Written", role="x", active=True, is_team_lead=False))
        session.flush()
        raise ValidationError("Nope.")

    with qtbot.assertNotEmitted(runner.data_changed):
        runner.write(job, on_success=lambda _r: None, on_failure=failures.append)
        qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert str(failures[0]) == "Nope."
    with ctx.db.read() as s:
        assert s.scalar(select(Coordinator).where(Coordinator.name == "Half Written")) is None
    runner.wait()


def test_an_orm_object_is_never_handed_back(qtbot, ctx, clock) -> None:
    runner = Runner(ctx.db)
    failures: list[BaseException] = []
    with ctx.db.write() as s:
        s.add(Coordinator(name="Amira Shah", role="x", active=True, is_team_lead=False))
    runner.read(
        lambda s: s.scalars(select(Coordinator)).first(),
        on_success=lambda _r: pytest.fail("an ORM object crossed threads"),
        on_failure=failures.append,
    )
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert isinstance(failures[0], TypeError)
    runner.wait()


def test_a_successful_write_announces_changed_data(qtbot, ctx) -> None:
    runner = Runner(ctx.db)
    with qtbot.waitSignal(runner.data_changed, timeout=5000):
        runner.write(
            lambda s: s.add(Coordinator(name="B", role="x", active=True, is_team_lead=False)),
            on_success=lambda _r: None,
        )
    runner.wait()
