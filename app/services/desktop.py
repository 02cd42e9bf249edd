"""What the desktop app needs beyond the domain services: this laptop's own settings (idle lock,
default folders; device-local ``Setting`` rows, never synced), editing a team member's profile,
finding a carer already known to the team so they can be linked to another patient, and saying
in words which record a sync conflict is about."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.models import Base, Carer, Coordinator, Patient, Setting
from app.services.carers import CarerView, get_carer
from app.services.caseload import CoordinatorView, clean_text, list_coordinators
from app.services.patients import display_name

IDLE_LOCK_KEY = "idle_lock_minutes"
EXPORT_FOLDER_KEY = "folder.export"
IMPORT_FOLDER_KEY = "folder.import"
PDF_FOLDER_KEY = "folder.pdf"
DEFAULT_IDLE_LOCK_MINUTES = 5
MAX_IDLE_LOCK_MINUTES = 240


@dataclass(frozen=True)
class DeviceSettings:
    """Settings of this laptop only."""

    idle_lock_minutes: int = DEFAULT_IDLE_LOCK_MINUTES
    export_folder: str | None = None  # where bundles are written
    import_folder: str | None = None  # where colleagues' bundles are picked up
    pdf_folder: str | None = None  # where reports are saved


def _get(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row is not None and row.value != "" else None


def _put(session: Session, key: str, value: str | None) -> None:
    row = session.get(Setting, key)
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Setting(key=key, value=value))
    elif row.value != value:
        row.value = value


def _minutes(text: str | None) -> int:
    try:
        value = int(text) if text is not None else DEFAULT_IDLE_LOCK_MINUTES
    except ValueError:
        return DEFAULT_IDLE_LOCK_MINUTES
    return value if 1 <= value <= MAX_IDLE_LOCK_MINUTES else DEFAULT_IDLE_LOCK_MINUTES


def get_device_settings(session: Session) -> DeviceSettings:
    return DeviceSettings(
        idle_lock_minutes=_minutes(_get(session, IDLE_LOCK_KEY)),
        export_folder=_get(session, EXPORT_FOLDER_KEY),
        import_folder=_get(session, IMPORT_FOLDER_KEY),
        pdf_folder=_get(session, PDF_FOLDER_KEY),
    )


def save_device_settings(
    session: Session,
    *,
    idle_lock_minutes: int,
    export_folder: str | None = None,
    import_folder: str | None = None,
    pdf_folder: str | None = None,
) -> DeviceSettings:
    """Save this laptop's settings as a whole (a folder left empty is forgotten)."""
    if (
        isinstance(idle_lock_minutes, bool)
        or not isinstance(idle_lock_minutes, int)
        or not 1 <= idle_lock_minutes <= MAX_IDLE_LOCK_MINUTES
    ):
        raise ValidationError(
            f"The idle lock must be a whole number of minutes from 1 to {MAX_IDLE_LOCK_MINUTES}.",
            field="idle_lock_minutes",
        )
    _put(session, IDLE_LOCK_KEY, str(idle_lock_minutes))
    for key, value, label in (
        (EXPORT_FOLDER_KEY, export_folder, "export folder"),
        (IMPORT_FOLDER_KEY, import_folder, "import folder"),
        (PDF_FOLDER_KEY, pdf_folder, "PDF folder"),
    ):
        _put(session, key, clean_text(value, label, limit=1000))
    session.flush()
    return get_device_settings(session)


def update_coordinator(
    session: Session,
    *,
    coordinator_id: str,
    name: str,
    role: str,
    locality: str | None = None,
) -> CoordinatorView:
    """Change a team member's name, role and locality; two active coordinators may not share
    a name (imports match coordinators by name)."""
    person = session.get(Coordinator, coordinator_id)
    if person is None:
        raise NotFoundError(f"No coordinator with id {coordinator_id}.")
    text = " ".join((clean_text(name, "name", required=True, limit=120) or "").split())
    clash = session.scalars(
        select(Coordinator).where(
            Coordinator.active,
            Coordinator.id != person.id,
            func.lower(Coordinator.name) == text.casefold(),
        )
    ).first()
    if clash is not None:
        raise ConflictError(f"There is already an active coordinator called {clash.name}.")
    values = {
        "name": text,
        "role": clean_text(role, "role", required=True, limit=80),
        "locality": clean_text(locality, "locality", limit=80),
    }
    for key, value in values.items():
        if getattr(person, key) != value:
            setattr(person, key, value)
    session.flush()
    return next(
        c for c in list_coordinators(session, include_inactive=True) if c.id == coordinator_id
    )


def find_carers(session: Session, *, text: str, limit: int = 20) -> list[CarerView]:
    """Carers whose family or given name starts with ``text`` (or whose phone contains it),
    by name: to link a carer already known to the team to another patient."""
    words = text.split()
    if not words:
        return []
    stmt = select(Carer.id)
    for word in words:
        prefix = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Carer.family_name.ilike(prefix, escape="\\"),
                Carer.given_name.ilike(prefix, escape="\\"),
                Carer.phone.ilike("%" + prefix, escape="\\"),
            )
        )
    stmt = stmt.order_by(Carer.family_name, Carer.given_name, Carer.id).limit(limit)
    return [get_carer(session, carer_id=i) for i in session.scalars(stmt)]


TABLE_LABELS = {
    "patients": "Patient",
    "episodes": "Episode",
    "level_changes": "Level change",
    "admissions": "Hospital stay",
    "call_attempts": "Call",
    "needs_assessments": "Needs assessment",
    "needs_domain_entries": "Needs assessment domain",
    "agreed_actions": "Agreed action",
    "care_plans": "Care plan",
    "carers": "Carer",
    "carer_links": "Carer link",
    "services": "Service",
    "referrals": "Referral",
    "referral_status_changes": "Referral status",
    "tasks": "Task",
    "mdt_meetings": "MDT meeting",
    "mdt_attendees": "MDT attendee",
    "mdt_items": "MDT agenda item",
    "mdt_actions": "MDT action",
    "coordinators": "Coordinator",
    "team_devices": "Laptop",
}


@dataclass(frozen=True)
class RecordLabel:
    table: str
    record_id: str
    what: str  # "Patient", "Referral", ...
    about: str | None  # the patient (or carer, coordinator, service) it concerns


def describe_record(session: Session, *, table: str, record_id: str) -> RecordLabel:
    """Which record ``table``/``record_id`` is, in words (it may have been deleted)."""
    what = TABLE_LABELS.get(table, table.replace("_", " ").capitalize())
    tbl = Base.metadata.tables.get(table)
    row = None
    if tbl is not None and "id" in tbl.c:
        row = session.execute(select(tbl).where(tbl.c.id == record_id)).mappings().first()
    about: str | None = None
    if row is not None:
        if "family_name" in row and "given_name" in row:
            about = display_name(row["family_name"], row["given_name"])
        elif row.get("patient_id"):
            patient = session.get(Patient, row["patient_id"])
            about = display_name(patient.family_name, patient.given_name) if patient else None
        elif row.get("name"):
            about = str(row["name"])
        elif row.get("label"):
            about = str(row["label"])
    return RecordLabel(table, record_id, what, about)
