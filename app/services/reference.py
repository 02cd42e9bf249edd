"""Reference data into the database: GP practices (plain table) and the seeded service
directory (synced records with ids derived from their codes, so every laptop seeds the same
records and sync sees no duplicates)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.core.reference import load_practices, load_service_directory
from app.models import Practice, Service

_SERVICE_NS = uuid.UUID("6f1d8a52-53a4-4b55-9d0e-6c1c4b1f3a10")


def seeded_service_id(code: str) -> str:
    return str(uuid.uuid5(_SERVICE_NS, code))


def seed_reference_data(session: Session) -> None:
    """Insert what is missing; never overwrite a user's edits to the directory."""
    practices = load_practices()
    if (session.scalar(select(func.count()).select_from(Practice)) or 0) != len(practices):
        for p in practices:
            values = {
                "code": p.code,
                "name": p.name,
                "sub_locality": p.sub_locality,
                "sub_locality_population": p.sub_locality_population,
                "locality": p.locality,
                "locality_population": p.locality_population,
                "ccg_code": p.ccg_code,
                "ccg_name": p.ccg_name,
            }
            stmt = sqlite_insert(Practice).values(**values)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Practice.code],
                    set_={k: v for k, v in values.items() if k != "code"},
                )
            )
    existing = set(session.scalars(select(Service.id)))
    for s in load_service_directory():
        sid = seeded_service_id(s.code)
        if sid in existing:
            continue
        session.add(
            Service(
                id=sid,
                code=s.code,
                kind=s.kind,
                name=s.name,
                locality=s.locality,
                description=s.description,
                how_to_refer=s.how_to_refer,
                response_days=s.response_days,
                active=True,
            )
        )
    session.flush()
