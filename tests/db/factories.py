"""Small builders shared by the data-safety tests (synthetic patients, test-range NHS numbers)."""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import func, select

from app.context import AppContext
from app.models import Patient, Task


def _check_digit(body: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


@cache
def nhs_number(n: int) -> str:
    """The n-th valid NHS number of the 999 test range (modulus 11), n >= 1: all distinct."""
    found = 0
    candidate = 0
    while True:
        body = f"999{candidate:06d}"
        check = _check_digit(body)
        if check is not None:
            found += 1
            if found == n:
                return body + str(check)
        candidate += 1


def add_patient(
    ctx: AppContext, *, n: int = 1, family: str = "Quenby", given: str = "Ottoline"
) -> str:
    """One patient written through the unit of work (and so the change log); returns its id."""
    with ctx.db.write() as s:
        p = Patient(
            nhs_number=nhs_number(n),
            family_name=family,
            given_name=given,
            date_of_birth=date(1941, 3, 2),
            created_at=ctx.clock.now(),
        )
        s.add(p)
        s.flush()
        return p.id


def count(ctx: AppContext, model: type[Patient] | type[Task]) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
