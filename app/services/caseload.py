"""The caseload (DESIGN.md §1.1): registering patients, coordinators, episodes of care
coordination, step-up/step-down between levels, reassignment, ReSPECT, consent and death."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.timeutil import to_local
from app.core.validation import format_nhs_number, normalise_nhs_number, normalise_postcode
from app.models import Coordinator, Episode, LevelChange, Patient, Practice, Task
from app.models.patient import FRAILTY_BANDS, LEVELS, REFERRAL_SOURCES, SEXES
from app.services.patients import CohortFlags, age, cohort_flags, display_name, efi_band

_V = TypeVar("_V")


@dataclass(frozen=True)
class CoordinatorView:
    id: str
    name: str
    role: str
    locality: str | None
    active: bool
    is_team_lead: bool
    caseload: int  # patients with an open episode on their list


@dataclass(frozen=True)
class EpisodeView:
    id: str
    patient_id: str
    coordinator_id: str | None
    opened_on: date
    source: str
    level: str
    closed_on: date | None
    close_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True)
class LevelChangeView:
    id: str
    patient_id: str
    episode_id: str | None
    changed_at: datetime
    from_level: str | None
    to_level: str
    reason: str | None
    direction: str  # "start" | "step up" | "step down"


@dataclass(frozen=True)
class PatientView:
    id: str
    nhs_number: str  # 10 digits
    nhs_number_display: str  # 999 123 4567
    family_name: str
    given_name: str
    display_name: str
    date_of_birth: date
    age: int
    sex: str | None
    practice_code: str | None
    practice_name: str | None
    postcode: str | None
    phone: str | None
    coordinator_id: str | None
    coordinator_name: str | None
    level: str
    referral_source: str | None
    ltc_count: int | None
    frailty_band: str | None
    efi_score: float | None
    predicted_cost_ratio: float | None
    risk_score: float | None
    cohort: CohortFlags
    respect_in_place: bool
    respect_date: date | None
    respect_location: str | None
    consent_to_share: bool
    flag_for_mdt: bool
    date_of_death: date | None
    notes: str | None
    created_at: datetime
    episodes: tuple[EpisodeView, ...]  # newest first
    level_history: tuple[LevelChangeView, ...]  # oldest first

    @property
    def cohort_explanation(self) -> str:
        return self.cohort.explanation

    @property
    def open_episode(self) -> EpisodeView | None:
        return next((e for e in self.episodes if e.is_open), None)


@dataclass(frozen=True)
class ReassignResult:
    patients_moved: int
    tasks_moved: int


# --- helpers other services use ------------------------------------------------------------


def local_today(now: datetime) -> date:
    return to_local(now).date()


def clean_text(
    value: str | None,
    label: str,
    *,
    required: bool = False,
    limit: int | None = None,
    field: str | None = None,
) -> str | None:
    """Trimmed text (None when blank); refuses blank when required and text over ``limit``.
    The error's ``field`` is ``field`` if given, else ``label``."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(f"{label.capitalize()} is required.", field=field or label)
        return None
    if limit is not None and len(text) > limit:
        raise ValidationError(
            f"{label.capitalize()} is longer than {limit} characters.", field=field or label
        )
    return text


def require_patient(session: Session, patient_id: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    return patient


def require_active_coordinator(session: Session, coordinator_id: str) -> Coordinator:
    person = session.get(Coordinator, coordinator_id)
    if person is None:
        raise NotFoundError(f"No coordinator with id {coordinator_id}.")
    if not person.active:
        raise ConflictError(f"{person.name} is no longer an active coordinator.")
    return person


def open_episode_of(session: Session, patient_id: str) -> Episode | None:
    return session.scalars(
        select(Episode).where(Episode.patient_id == patient_id, Episode.closed_on.is_(None))
    ).first()


# --- validation of patient fields ----------------------------------------------------------

_Check = Callable[[Session, Any, date], Any]


def _choice(options: tuple[str, ...], label: str) -> _Check:
    def check(_s: Session, v: Any, _t: date) -> Any:
        if v not in options:
            raise ValidationError(
                f"{label} {v!r} is not one of: {', '.join(options)}.", field=label
            )
        return v

    return check


def _number(label: str, low: float, high: float, *, integer: bool = False) -> _Check:
    def check(_s: Session, v: Any, _t: date) -> Any:
        ok = isinstance(v, int) if integer else isinstance(v, int | float)
        if isinstance(v, bool) or not ok or not low <= v <= high:
            kind = "a whole number" if integer else "a number"
            raise ValidationError(f"{label} must be {kind} from {low:g} to {high:g}.", field=label)
        return v

    return check


def _name(label: str) -> _Check:
    return lambda _s, v, _t: clean_text(v, label, required=True, limit=80)


def _dob(_s: Session, v: Any, today: date) -> date:
    if not isinstance(v, date) or isinstance(v, datetime):
        raise ValidationError("Date of birth must be a date.", field="date_of_birth")
    if v > today or v.year < 1900:
        raise ValidationError(
            f"Date of birth {v:%d/%m/%Y} is impossible (in the future or before 1900).",
            field="date_of_birth",
        )
    return v


def _practice(session: Session, v: Any, _t: date) -> str:
    if session.get(Practice, v) is None:
        raise ValidationError(f"Unknown GP practice {v!r}.", field="practice_code")
    return str(v)


def _phone(_s: Session, v: Any, _t: date) -> str:
    text = " ".join(str(v).split())
    digits = "".join(ch for ch in text if ch.isdigit())
    if any(ch not in "0123456789 +()-" for ch in text) or not 10 <= len(digits) <= 13:
        raise ValidationError(f"{text!r} is not a UK phone number.", field="phone")
    return text


_CHECKS: dict[str, _Check] = {
    "nhs_number": lambda _s, v, _t: normalise_nhs_number(str(v)),
    "family_name": _name("family name"),
    "given_name": _name("given name"),
    "date_of_birth": _dob,
    "sex": _choice(SEXES, "sex"),
    "practice_code": _practice,
    "postcode": lambda _s, v, _t: normalise_postcode(str(v)),
    "phone": _phone,
    "referral_source": _choice(REFERRAL_SOURCES, "referral source"),
    "ltc_count": _number("long-term condition count", 0, 60, integer=True),
    "frailty_band": _choice(FRAILTY_BANDS, "frailty band"),
    "efi_score": _number("eFI score", 0, 1),
    "predicted_cost_ratio": _number("predicted cost ratio", 0, 1000),
    "risk_score": _number("risk score", 0, 100),
    "notes": lambda _s, v, _t: clean_text(v, "notes"),
}
_REQUIRED = ("nhs_number", "family_name", "given_name", "date_of_birth")


def _checked(session: Session, values: dict[str, Any], today: date) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _CHECKS:
            raise ValidationError(
                f"{key!r} cannot be changed here; editable fields: {', '.join(_CHECKS)}."
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            if key in _REQUIRED:
                label = key.replace("_", " ").capitalize()
                raise ValidationError(f"{label} is required.", field=key)
            out[key] = None
            continue
        try:
            out[key] = _CHECKS[key](session, value, today)
        except ValidationError as exc:
            exc.field = key  # the column, whatever label the check used
            raise
    if out.get("efi_score") is not None and "frailty_band" not in values:
        out["frailty_band"] = efi_band(out["efi_score"])
    return out


def _refuse_duplicate(session: Session, nhs: str, *, other_than: str | None = None) -> None:
    stmt = select(Patient).where(Patient.nhs_number == nhs)
    if other_than is not None:
        stmt = stmt.where(Patient.id != other_than)
    existing = session.scalars(stmt.order_by(Patient.created_at)).first()
    if existing is not None:
        raise ConflictError(
            f"NHS number {format_nhs_number(nhs)} is already registered on this laptop to "
            f"{display_name(existing.family_name, existing.given_name)} (record {existing.id})."
        )


# --- views ---------------------------------------------------------------------------------


def _direction(before: str | None, after: str) -> str:
    if before is None:
        return "start"
    return "step up" if LEVELS.index(after) > LEVELS.index(before) else "step down"


def view_of(cls: type[_V], record: object, **extra: Any) -> _V:
    """A frozen view of ``cls`` filled from the record's attributes of the same names."""
    names = [f.name for f in fields(cast(Any, cls)) if f.name not in extra]
    return cls(**{n: getattr(record, n) for n in names}, **extra)


def _level_view(c: LevelChange) -> LevelChangeView:
    return view_of(LevelChangeView, c, direction=_direction(c.from_level, c.to_level))


def patient_view(session: Session, *, patient_id: str, now: datetime) -> PatientView:
    p = require_patient(session, patient_id)
    practice = session.get(Practice, p.practice_code) if p.practice_code else None
    person = session.get(Coordinator, p.coordinator_id) if p.coordinator_id else None
    episodes = session.scalars(
        select(Episode).where(Episode.patient_id == p.id).order_by(Episode.opened_on.desc())
    )
    changes = session.scalars(
        select(LevelChange).where(LevelChange.patient_id == p.id).order_by(LevelChange.changed_at)
    )
    return view_of(
        PatientView,
        p,
        nhs_number_display=format_nhs_number(p.nhs_number),
        display_name=display_name(p.family_name, p.given_name),
        age=age(p.date_of_birth, p.date_of_death or local_today(now)),
        practice_name=practice.name if practice else None,
        coordinator_name=person.name if person else None,
        cohort=cohort_flags(
            ltc_count=p.ltc_count,
            frailty_band=p.frailty_band,
            efi_score=p.efi_score,
            predicted_cost_ratio=p.predicted_cost_ratio,
        ),
        episodes=tuple(view_of(EpisodeView, e) for e in episodes),
        level_history=tuple(_level_view(c) for c in changes),
    )


# --- patients ------------------------------------------------------------------------------


def register_patient(
    session: Session,
    *,
    nhs_number: str,
    family_name: str,
    given_name: str,
    date_of_birth: date,
    now: datetime,
    practice_code: str | None = None,
    sex: str | None = None,
    postcode: str | None = None,
    phone: str | None = None,
    coordinator_id: str | None = None,
    level: str = "Enhanced",
    referral_source: str = "MDT referral",
    **cohort: Any,
) -> PatientView:
    """Add a patient and open their first episode (cohort fields: ltc_count, frailty_band,
    efi_score, predicted_cost_ratio, risk_score, notes). A second patient with the same NHS
    number on this laptop is refused."""
    today = local_today(now)
    values = _checked(
        session,
        {
            "nhs_number": nhs_number,
            "family_name": family_name,
            "given_name": given_name,
            "date_of_birth": date_of_birth,
            "practice_code": practice_code,
            "sex": sex,
            "postcode": postcode,
            "phone": phone,
            "referral_source": referral_source,
            **cohort,
        },
        today,
    )
    _choice(LEVELS, "level")(session, level, today)
    if coordinator_id is not None:
        require_active_coordinator(session, coordinator_id)
    _refuse_duplicate(session, values["nhs_number"])
    patient = Patient(**values, coordinator_id=coordinator_id, level=level, created_at=now)
    session.add(patient)
    session.flush()
    episode = Episode(
        patient_id=patient.id,
        coordinator_id=coordinator_id,
        opened_on=today,
        source=referral_source,
        level=level,
    )
    session.add(episode)
    session.flush()
    session.add(
        LevelChange(
            patient_id=patient.id, episode_id=episode.id, changed_at=now, from_level=None,
            to_level=level, reason="Registered",
        )
    )  # fmt: skip
    session.flush()
    return patient_view(session, patient_id=patient.id, now=now)


def update_patient(
    session: Session, *, patient_id: str, now: datetime, **changes: Any
) -> PatientView:
    """Change demographics, cohort fields or notes (level, coordinator, ReSPECT, consent and
    death have their own actions). A value of None clears an optional field."""
    patient = require_patient(session, patient_id)
    values = _checked(session, changes, local_today(now))
    if "nhs_number" in values:
        _refuse_duplicate(session, values["nhs_number"], other_than=patient.id)
    for key, value in values.items():
        if getattr(patient, key) != value:
            setattr(patient, key, value)
    session.flush()
    return patient_view(session, patient_id=patient_id, now=now)


def set_respect(
    session: Session,
    *,
    patient_id: str,
    in_place: bool,
    now: datetime,
    respect_date: date | None = None,
    location: str | None = None,
) -> PatientView:
    """Record whether a ReSPECT form is in place, when it was signed and where it is held."""
    patient = require_patient(session, patient_id)
    where = clean_text(location, "ReSPECT location", limit=120)
    if in_place:
        if respect_date is None:
            raise ValidationError("Give the date of the ReSPECT form.", field="respect_date")
        if respect_date > local_today(now):
            raise ValidationError(
                f"The ReSPECT date {respect_date:%d/%m/%Y} is in the future.", field="respect_date"
            )
    else:
        respect_date, where = None, None
    patient.respect_in_place, patient.respect_date = in_place, respect_date
    patient.respect_location = where
    session.flush()
    return patient_view(session, patient_id=patient_id, now=now)


def set_consent(session: Session, *, patient_id: str, consent: bool, now: datetime) -> PatientView:
    require_patient(session, patient_id).consent_to_share = consent
    session.flush()
    return patient_view(session, patient_id=patient_id, now=now)


def flag_for_mdt(
    session: Session, *, patient_id: str, now: datetime, flagged: bool = True
) -> PatientView:
    require_patient(session, patient_id).flag_for_mdt = flagged
    session.flush()
    return patient_view(session, patient_id=patient_id, now=now)


def record_death(
    session: Session, *, patient_id: str, date_of_death: date, now: datetime
) -> PatientView:
    """Record a death: closes the open episode and cancels the patient's open work (a
    possible-duplicate check stays, as the records still need sorting out)."""
    patient = require_patient(session, patient_id)
    if patient.date_of_death is not None:
        raise ConflictError(f"A date of death ({patient.date_of_death:%d/%m/%Y}) is recorded.")
    if date_of_death > local_today(now) or date_of_death < patient.date_of_birth:
        raise ValidationError(
            f"Date of death {date_of_death:%d/%m/%Y} is in the future or before birth.",
            field="date_of_death",
        )
    patient.date_of_death = date_of_death
    episode = open_episode_of(session, patient_id)
    if episode is not None:
        episode.closed_on = max(date_of_death, episode.opened_on)
        episode.close_reason = "Died"
    for task in session.scalars(
        select(Task).where(
            Task.patient_id == patient_id, Task.status == "open", Task.kind != "possible_duplicate"
        )
    ):
        task.status, task.completed_at = "cancelled", now
    session.flush()
    return patient_view(session, patient_id=patient_id, now=now)


# --- coordinators --------------------------------------------------------------------------


def _coordinator_views(session: Session, stmt: Any) -> list[CoordinatorView]:
    counts = dict(
        session.execute(
            select(Patient.coordinator_id, func.count(Patient.id))
            .join(Episode, (Episode.patient_id == Patient.id) & Episode.closed_on.is_(None))
            .group_by(Patient.coordinator_id)
        ).all()
    )
    return [
        CoordinatorView(
            c.id, c.name, c.role, c.locality, c.active, c.is_team_lead, int(counts.get(c.id, 0))
        )
        for c in session.scalars(stmt)
    ]


def add_coordinator(
    session: Session,
    *,
    name: str,
    role: str = "Care Coordinator",
    locality: str | None = None,
    is_team_lead: bool = False,
) -> CoordinatorView:
    """Add a team member; two active coordinators may not share a name (imports match by it)."""
    text = " ".join((clean_text(name, "name", required=True, limit=120) or "").split())
    clash = session.scalars(
        select(Coordinator).where(
            Coordinator.active, func.lower(Coordinator.name) == text.casefold()
        )
    ).first()
    if clash is not None:
        raise ConflictError(f"There is already an active coordinator called {clash.name}.")
    person = Coordinator(
        name=text,
        role=clean_text(role, "role", required=True, limit=80) or "",
        locality=clean_text(locality, "locality", limit=80),
        active=True,
        is_team_lead=is_team_lead,
    )
    session.add(person)
    session.flush()
    return _coordinator_views(session, select(Coordinator).where(Coordinator.id == person.id))[0]


def list_coordinators(session: Session, *, include_inactive: bool = False) -> list[CoordinatorView]:
    stmt = select(Coordinator).order_by(Coordinator.name, Coordinator.id)
    if not include_inactive:
        stmt = stmt.where(Coordinator.active)
    return _coordinator_views(session, stmt)


def deactivate_coordinator(session: Session, *, coordinator_id: str) -> CoordinatorView:
    """Someone leaves the team: refused while patients with an open episode are on their list."""
    person = require_active_coordinator(session, coordinator_id)
    held = _coordinator_views(session, select(Coordinator).where(Coordinator.id == person.id))
    if held[0].caseload:
        raise ConflictError(
            f"{person.name} still has {held[0].caseload} open patient(s); reassign them first."
        )
    person.active = False
    session.flush()
    return _coordinator_views(session, select(Coordinator).where(Coordinator.id == person.id))[0]


# --- episodes and levels -------------------------------------------------------------------


def open_episode(
    session: Session,
    *,
    patient_id: str,
    source: str,
    level: str,
    now: datetime,
    coordinator_id: str | None = None,
) -> EpisodeView:
    """Start a new episode of care coordination (one open episode at a time)."""
    patient = require_patient(session, patient_id)
    today = local_today(now)
    _choice(REFERRAL_SOURCES, "referral source")(session, source, today)
    _choice(LEVELS, "level")(session, level, today)
    if patient.date_of_death is not None:
        raise ConflictError("This patient's death is recorded; no new episode can be opened.")
    if open_episode_of(session, patient_id) is not None:
        raise ConflictError("This patient already has an open episode; close it first.")
    if coordinator_id is not None:
        require_active_coordinator(session, coordinator_id)
        patient.coordinator_id = coordinator_id
    episode = Episode(
        patient_id=patient_id, coordinator_id=patient.coordinator_id, opened_on=today,
        source=source, level=level,
    )  # fmt: skip
    session.add(episode)
    session.flush()
    if patient.level != level:
        session.add(
            LevelChange(
                patient_id=patient_id, episode_id=episode.id, changed_at=now,
                from_level=patient.level, to_level=level, reason="New episode opened",
            )
        )  # fmt: skip
        patient.level = level
    patient.referral_source = source
    session.flush()
    return view_of(EpisodeView, episode)


def close_episode(
    session: Session,
    *,
    episode_id: str,
    reason: str,
    now: datetime,
    closed_on: date | None = None,
) -> EpisodeView:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFoundError(f"No episode with id {episode_id}.")
    if episode.closed_on is not None:
        raise ConflictError(f"This episode was already closed on {episode.closed_on:%d/%m/%Y}.")
    why = clean_text(reason, "reason for closing", required=True)
    day = closed_on or local_today(now)
    if day > local_today(now) or day < episode.opened_on:
        raise ValidationError(
            f"The closing date {day:%d/%m/%Y} must be between the opening date and today.",
            field="closed_on",
        )
    episode.closed_on, episode.close_reason = day, why
    session.flush()
    return view_of(EpisodeView, episode)


def change_level(
    session: Session,
    *,
    patient_id: str,
    to_level: str,
    reason: str,
    now: datetime,
    changed_by_id: str | None = None,
) -> LevelChangeView:
    """Step a patient up or down between Essential, Expert and Enhanced, with a reason."""
    patient = require_patient(session, patient_id)
    _choice(LEVELS, "level")(session, to_level, local_today(now))
    if patient.level == to_level:
        raise ConflictError(f"This patient is already at the {to_level} level.")
    why = clean_text(reason, "reason for the change", required=True)
    if changed_by_id is not None:
        require_active_coordinator(session, changed_by_id)
    episode = open_episode_of(session, patient_id)
    change = LevelChange(
        patient_id=patient_id, episode_id=episode.id if episode else None, changed_at=now,
        from_level=patient.level, to_level=to_level, reason=why, changed_by_id=changed_by_id,
    )  # fmt: skip
    session.add(change)
    patient.level = to_level
    if episode is not None:
        episode.level = to_level
    session.flush()
    return _level_view(change)


# --- reassignment --------------------------------------------------------------------------


def _move_tasks(session: Session, patient_ids: list[str], old: str | None, new: str) -> int:
    if old is None or not patient_ids:
        return 0
    moved = 0
    for task in session.scalars(
        select(Task).where(
            Task.patient_id.in_(patient_ids), Task.assigned_to_id == old, Task.status == "open"
        )
    ):
        task.assigned_to_id = new
        moved += 1
    return moved


def reassign_patient(
    session: Session, *, patient_id: str, coordinator_id: str, now: datetime
) -> PatientView:
    """Move a patient (their open episode and open tasks) to another active coordinator."""
    patient = require_patient(session, patient_id)
    person = require_active_coordinator(session, coordinator_id)
    if patient.coordinator_id == coordinator_id:
        raise ConflictError(f"This patient is already on {person.name}'s caseload.")
    _move_tasks(session, [patient_id], patient.coordinator_id, coordinator_id)
    patient.coordinator_id = coordinator_id
    episode = open_episode_of(session, patient_id)
    if episode is not None:
        episode.coordinator_id = coordinator_id
    session.flush()
    return patient_view(session, patient_id=patient_id, now=now)


def reassign_caseload(
    session: Session, *, from_coordinator_id: str, to_coordinator_id: str, now: datetime
) -> ReassignResult:
    """Move every patient of one coordinator (who may have left) to an active colleague."""
    if session.get(Coordinator, from_coordinator_id) is None:
        raise NotFoundError(f"No coordinator with id {from_coordinator_id}.")
    person = require_active_coordinator(session, to_coordinator_id)
    if from_coordinator_id == to_coordinator_id:
        raise ConflictError(f"The caseload is already {person.name}'s.")
    ids = list(
        session.scalars(select(Patient.id).where(Patient.coordinator_id == from_coordinator_id))
    )
    moved = _move_tasks(session, ids, from_coordinator_id, to_coordinator_id)
    for patient in session.scalars(select(Patient).where(Patient.id.in_(ids))):
        patient.coordinator_id = to_coordinator_id
    for episode in session.scalars(
        select(Episode).where(Episode.patient_id.in_(ids), Episode.closed_on.is_(None))
    ):
        episode.coordinator_id = to_coordinator_id
    session.flush()
    return ReassignResult(patients_moved=len(ids), tasks_moved=moved)
