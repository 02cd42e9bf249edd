"""The service directory (DESIGN.md §1.5): seeded from resources/reference, then edited by the
team. Services are never deleted (referrals point at them); they are deactivated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.reference import MAX_RESPONSE_DAYS, SERVICE_KIND_LABELS, SERVICE_KINDS
from app.models import Practice, Service
from app.services.caseload import clean_text
from app.services.reference import seeded_service_id

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_EDITABLE = ("kind", "name", "locality", "description", "how_to_refer", "contact", "response_days")


@dataclass(frozen=True)
class ServiceView:
    id: str
    code: str
    kind: str
    kind_label: str
    name: str
    locality: str | None  # None: available everywhere
    description: str | None
    how_to_refer: str | None
    contact: str | None
    response_days: int
    active: bool
    seeded: bool  # shipped with the app (and possibly edited since)


def _view(s: Service) -> ServiceView:
    return ServiceView(
        id=s.id,
        code=s.code,
        kind=s.kind,
        kind_label=SERVICE_KIND_LABELS.get(s.kind, s.kind),
        name=s.name,
        locality=s.locality,
        description=s.description,
        how_to_refer=s.how_to_refer,
        contact=s.contact,
        response_days=s.response_days,
        active=s.active,
        seeded=s.id == seeded_service_id(s.code),
    )


def _sort_key(s: Service) -> tuple[int, str, str]:
    rank = SERVICE_KINDS.index(s.kind) if s.kind in SERVICE_KINDS else len(SERVICE_KINDS)
    return rank, s.locality or "", s.name.casefold()


def require_service(session: Session, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFoundError(f"No service with id {service_id} in the directory.")
    return service


def localities(session: Session) -> list[str]:
    """The LLR localities a service can be limited to."""
    return sorted(set(session.scalars(select(Practice.locality))))


def list_services(
    session: Session,
    *,
    kind: str | None = None,
    locality: str | None = None,
    active_only: bool = True,
) -> list[ServiceView]:
    """Services by kind (directory order), then locality and name. With a locality, the
    services of that locality and those available everywhere."""
    stmt = select(Service)
    if kind is not None:
        stmt = stmt.where(Service.kind == _kind(kind))
    if locality is not None:
        stmt = stmt.where((Service.locality == locality) | Service.locality.is_(None))
    if active_only:
        stmt = stmt.where(Service.active)
    return [_view(s) for s in sorted(session.scalars(stmt), key=_sort_key)]


def get_service(session: Session, *, service_id: str) -> ServiceView:
    return _view(require_service(session, service_id))


def _kind(value: Any) -> str:
    if value not in SERVICE_KINDS:
        raise ValidationError(
            f"Service kind {value!r} is not one of: {', '.join(SERVICE_KINDS)}.", field="kind"
        )
    return str(value)


def _checked(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in _EDITABLE:
            raise ValidationError(
                f"{key!r} cannot be edited; editable fields: {', '.join(_EDITABLE)}.", field=key
            )
        if key == "kind":
            out[key] = _kind(value)
        elif key == "name":
            out[key] = clean_text(value, "service name", required=True, limit=160)
        elif key == "locality":
            out[key] = clean_text(value, "locality", limit=80)
            if out[key] is not None and out[key] not in localities(session):
                raise ValidationError(
                    f"Unknown locality {out[key]!r}; leave it empty for a service available "
                    "everywhere.",
                    field="locality",
                )
        elif key == "response_days":
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_RESPONSE_DAYS
            ):
                raise ValidationError(
                    f"Response days must be a whole number from 0 to {MAX_RESPONSE_DAYS}.",
                    field="response_days",
                )
            out[key] = value
        else:
            out[key] = clean_text(value, key.replace("_", " "))
    return out


def _free_code(session: Session, name: str) -> str:
    base = "-".join(re.findall(r"[a-z0-9]+", name.casefold())) or "service"
    taken = set(session.scalars(select(Service.code).where(Service.code.like(f"{base}%"))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def add_service(
    session: Session,
    *,
    kind: str,
    name: str,
    locality: str | None = None,
    description: str | None = None,
    how_to_refer: str | None = None,
    contact: str | None = None,
    response_days: int = 5,
    code: str | None = None,
) -> ServiceView:
    """A new directory entry; its code is made from the name unless given."""
    values = _checked(
        session,
        {
            "kind": kind,
            "name": name,
            "locality": locality,
            "description": description,
            "how_to_refer": how_to_refer,
            "contact": contact,
            "response_days": response_days,
        },
    )
    if code is None:
        code = _free_code(session, values["name"])
    elif not _SLUG.fullmatch(code):
        raise ValidationError(
            f"Service code {code!r} must be lower-case letters and digits joined by hyphens.",
            field="code",
        )
    elif session.scalars(select(Service).where(Service.code == code)).first() is not None:
        raise ConflictError(f"The directory already has a service with code {code!r}.")
    service = Service(code=code, active=True, **values)
    session.add(service)
    session.flush()
    return _view(service)


def update_service(session: Session, *, service_id: str, **changes: Any) -> ServiceView:
    """Edit a directory entry (seeded or added): kind, name, locality, description,
    how_to_refer, contact, response_days. None clears an optional field."""
    service = require_service(session, service_id)
    for key, value in _checked(session, changes).items():
        if getattr(service, key) != value:
            setattr(service, key, value)
    session.flush()
    return _view(service)


def _set_active(session: Session, service_id: str, active: bool) -> ServiceView:
    service = require_service(session, service_id)
    if service.active == active:
        state = "active" if active else "inactive"
        raise ConflictError(f"{service.name} is already {state}.")
    service.active = active
    session.flush()
    return _view(service)


def deactivate_service(session: Session, *, service_id: str) -> ServiceView:
    """Take a service out of the list offered for new referrals (existing ones keep it)."""
    return _set_active(session, service_id, False)


def reactivate_service(session: Session, *, service_id: str) -> ServiceView:
    return _set_active(session, service_id, True)
