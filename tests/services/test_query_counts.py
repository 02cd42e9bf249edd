"""Screens that list many records read them with a fixed number of queries, however many
records there are (no query per row): what keeps the Today view fast on a large caseload."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.validation import random_test_nhs_number
from app.services import referrals as rf
from app.services.directory import get_service
from app.services.reference import seeded_service_id
from tests.services.test_caseload import NOW, register

SERVICES = [seeded_service_id(c) for c in ("first-contact-plus", "lac-north-charnwood")]


@contextmanager
def counted(ctx: AppContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)


def _referrals_sent(ctx: AppContext, n: int, rng: random.Random) -> None:
    with ctx.db.write() as s:
        for i in range(n):
            pid = register(s, random_test_nhs_number(rng), family_name=f"Family{i}").id
            made = rf.make_referral(
                s,
                patient_id=pid,
                service_id=SERVICES[i % 2],
                reason="Lonely since bereavement",
                consent_given=True,
                now=NOW - timedelta(days=10),
            )
            rf.transition_referral(
                s, referral_id=made.id, to_status="sent", now=NOW - timedelta(days=9)
            )


def _queries(ctx: AppContext, read: Callable[[Session], object]) -> tuple[int, object]:
    with ctx.db.read() as s, counted(ctx) as seen:
        result = read(s)
    return len(seen), result


def test_referrals_awaiting_reply_take_the_same_queries_for_3_or_15(ctx: AppContext) -> None:
    rng = random.Random(5)
    _referrals_sent(ctx, 3, rng)
    few, _ = _queries(ctx, lambda s: rf.referrals_awaiting_reply(s, now=NOW))
    _referrals_sent(ctx, 12, rng)
    many, views = _queries(ctx, lambda s: rf.referrals_awaiting_reply(s, now=NOW))
    assert many == few
    assert isinstance(views, list) and len(views) == 15
    assert sorted(v.patient_name for v in views) == sorted(
        [f"FAMILY{i}, Grace" for i in range(3)] + [f"FAMILY{i}, Grace" for i in range(12)]
    )
    with ctx.db.read() as s:
        names = {sid: get_service(s, service_id=sid).name for sid in SERVICES}
    assert all(v.service_name == names[v.service_id] for v in views)
    assert all(v.working_days_waiting == 6 for v in views)  # sent Sat 14 Nov
