"""``import patients``: a risk-stratification or caseload list (DESIGN.md §4.2).

All-or-nothing unless ``skip_invalid``; keyed by NHS number, so re-importing the same file
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import ValidationError
from app.core.reference import default_practice_matcher
from app.core.timeutil import to_local
from app.core.validation import (
    normalise_nhs_number,
    normalise_postcode,
    parse_choice,
    parse_date,
)
from app.models import Coordinator, Episode, Patient
from app.models.patient import FRAILTY_BANDS, LEVELS
from app.services.csvio import (
    ImportRefused,
    ImportResult,
    ProblemCollector,
    RowProblem,
    read_csv,
)
from app.services.patients import efi_band

PATIENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "nhs_number": ("NHS Number", "NHS No", "NHS No."),
    "family_name": ("surname", "last name"),
    "given_name": ("forename", "first name"),
    "date_of_birth": ("DOB", "birth date"),
    "sex": ("gender",),
    "gp_practice": ("practice", "GP"),
    "postcode": ("post code",),
    "phone": ("telephone", "phone number"),
    "ltc_count": ("LTCs", "long term conditions"),
    "frailty": ("eFI", "frailty band"),
    "predicted_cost_ratio": ("cost ratio",),
    "risk_score": ("risk",),
    "coordinator": ("care coordinator",),
    "level": ("care coordination level",),
}
REQUIRED = ("nhs_number", "family_name", "given_name", "date_of_birth")
SEX_CHOICES = {
    "female": "female",
    "f": "female",
    "male": "male",
    "m": "male",
    "other": "other",
    "unknown": "unknown",
    "u": "unknown",
}
# Fields the file may set on a patient; compared to decide "unchanged".
UPDATABLE = (
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "practice_code",
    "postcode",
    "phone",
    "ltc_count",
    "frailty_band",
    "efi_score",
    "predicted_cost_ratio",
    "risk_score",
    "coordinator_id",
    "level",
)


@dataclass(frozen=True)
class _Parsed:
    line: int
    values: dict[str, Any]  # only the columns present and non-empty


def _name(text: str, column: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise ValidationError(f"{column.replace('_', ' ')} is empty.")
    if len(value) > 80:
        raise ValidationError(f"{column.replace('_', ' ')} is longer than 80 characters.")
    return value


def _number(text: str, column: str, *, low: float, high: float, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ValidationError(f"'{text}' is not {kind}.") from None
    if not low <= value <= high:
        raise ValidationError(f"{value} is outside {low:g}–{high:g}.")
    return value


def _phone(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    if any(ch not in "0123456789 +()-" for ch in text) or not 10 <= len(digits) <= 13:
        raise ValidationError(f"'{text}' is not a UK phone number.")
    return " ".join(text.split())


def parse_patient_row(
    values: dict[str, str],
    line: int,
    *,
    today: date,
    coordinators: dict[str, str],
    problems: ProblemCollector,
) -> _Parsed | None:
    out: dict[str, Any] = {}
    before = len(problems.problems)

    def attempt(column: str, fn: Any) -> None:
        text = values.get(column, "")
        if column not in REQUIRED and not text:
            return
        try:
            fn(text)
        except ValidationError as exc:
            problems.add(line, column, str(exc))

    def nhs(t: str) -> None:
        out["nhs_number"] = normalise_nhs_number(t)

    def dob(t: str) -> None:
        d = parse_date(t, field="date_of_birth")
        if d > today:
            raise ValidationError(f"date of birth {d:%d/%m/%Y} is in the future.")
        if d.year < 1900:
            raise ValidationError(f"date of birth {d:%d/%m/%Y} is before 1900.")
        out["date_of_birth"] = d

    def frailty(t: str) -> None:
        try:
            efi = float(t)
        except ValueError:
            out["frailty_band"] = parse_choice(t, {b: b for b in FRAILTY_BANDS}, field="frailty")
            return
        if not 0.0 <= efi <= 1.0:
            raise ValidationError(f"eFI {efi:g} is outside 0–1 (or use fit/mild/moderate/severe).")
        out["efi_score"] = efi
        out["frailty_band"] = efi_band(efi)

    def coordinator(t: str) -> None:
        key = " ".join(t.split()).casefold()
        if key not in coordinators:
            raise ValidationError(
                f"unknown coordinator '{t}'; add them to the team first "
                f"(known: {', '.join(sorted(coordinators.values())) or 'none'})."
            )
        out["coordinator_id"] = coordinators[key]

    attempt("nhs_number", nhs)
    attempt("family_name", lambda t: out.__setitem__("family_name", _name(t, "family_name")))
    attempt("given_name", lambda t: out.__setitem__("given_name", _name(t, "given_name")))
    attempt("date_of_birth", dob)
    attempt("sex", lambda t: out.__setitem__("sex", parse_choice(t, SEX_CHOICES, field="sex")))
    attempt(
        "gp_practice",
        lambda t: out.__setitem__("practice_code", default_practice_matcher().match(t).code),
    )
    attempt("postcode", lambda t: out.__setitem__("postcode", normalise_postcode(t)))
    attempt("phone", lambda t: out.__setitem__("phone", _phone(t)))
    attempt(
        "ltc_count",
        lambda t: out.__setitem__(
            "ltc_count", int(_number(t, "ltc_count", low=0, high=60, integer=True))
        ),
    )
    attempt("frailty", frailty)
    attempt(
        "predicted_cost_ratio",
        lambda t: out.__setitem__(
            "predicted_cost_ratio", _number(t, "predicted_cost_ratio", low=0, high=1000)
        ),
    )
    attempt(
        "risk_score",
        lambda t: out.__setitem__("risk_score", _number(t, "risk_score", low=0, high=100)),
    )
    attempt("coordinator", coordinator)
    attempt(
        "level",
        lambda t: out.__setitem__("level", parse_choice(t, {x: x for x in LEVELS}, field="level")),
    )
    if len(problems.problems) != before:
        return None
    return _Parsed(line, out)


def import_patients_file(
    session: Session, path: Path, *, skip_invalid: bool, now: datetime
) -> ImportResult:
    table = read_csv(path, columns=PATIENT_COLUMNS, required=REQUIRED)
    today = to_local(now).date()
    coordinators = {
        " ".join(c.name.split()).casefold(): c.id for c in session.scalars(select(Coordinator))
    }
    problems = ProblemCollector()
    parsed: list[_Parsed] = []
    first_line: dict[str, int] = {}
    for row in table.rows:
        p = parse_patient_row(
            dict(row.values), row.line, today=today, coordinators=coordinators, problems=problems
        )
        if p is None:
            continue
        nhs = p.values["nhs_number"]
        if nhs in first_line:
            problems.add(
                row.line, "nhs_number", f"the same NHS number is already on line {first_line[nhs]}."
            )
            continue
        first_line[nhs] = row.line
        parsed.append(p)
    if problems.problems and not skip_invalid:
        raise ImportRefused(table.file_name, problems.problems)

    existing: dict[str, Patient] = {}
    numbers = [p.values["nhs_number"] for p in parsed]
    for start in range(0, len(numbers), 500):
        for patient in session.scalars(
            select(Patient).where(Patient.nhs_number.in_(numbers[start : start + 500]))
        ):
            existing.setdefault(patient.nhs_number, patient)
    created = updated = unchanged = 0
    for p in parsed:
        current = existing.get(p.values["nhs_number"])
        if current is None:
            patient = Patient(
                nhs_number=p.values["nhs_number"],
                referral_source="risk stratification",
                created_at=now,
                **{k: v for k, v in p.values.items() if k != "nhs_number"},
            )
            session.add(patient)
            session.flush()
            session.add(
                Episode(
                    patient_id=patient.id,
                    coordinator_id=patient.coordinator_id,
                    opened_on=today,
                    source="risk stratification",
                    level=patient.level or "Enhanced",
                )
            )
            created += 1
            continue
        changed = False
        for key in UPDATABLE:
            if key in p.values and getattr(current, key) != p.values[key]:
                setattr(current, key, p.values[key])
                changed = True
        if changed:
            updated += 1
        else:
            unchanged += 1
    session.flush()
    notes: tuple[str, ...] = ()
    if table.ignored_headers:
        notes = (f"Ignored columns: {', '.join(table.ignored_headers)}.",)
    return ImportResult(
        kind="patients",
        file_name=table.file_name,
        rows=len(table.rows),
        created=created,
        updated=updated,
        unchanged=unchanged,
        rejected=tuple(problems.problems) if skip_invalid else tuple[RowProblem, ...](),
        notes=notes,
    )
