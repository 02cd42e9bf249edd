"""Reading and registering patients: cohort explanation, lookups by NHS number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFoundError
from app.core.validation import format_nhs_number, normalise_nhs_number
from app.models import Patient

EFI_BANDS = ((0.12, "fit"), (0.24, "mild"), (0.36, "moderate"))


def efi_band(efi: float) -> str:
    """Electronic Frailty Index category: fit <= 0.12 < mild <= 0.24 < moderate <= 0.36 < severe."""
    for limit, band in EFI_BANDS:
        if efi <= limit:
            return band
    return "severe"


@dataclass(frozen=True)
class CohortFlags:
    five_plus_ltcs: bool
    frailty: bool
    high_cost: bool
    explanation: str


def cohort_flags(
    *,
    ltc_count: int | None,
    frailty_band: str | None,
    efi_score: float | None,
    predicted_cost_ratio: float | None,
) -> CohortFlags:
    """The seed's three cohorts, with a plain-English 'why this person is on the list'."""
    reasons: list[str] = []
    ltcs = ltc_count is not None and ltc_count >= 5
    if ltc_count is not None and ltc_count > 0:
        reasons.append(f"{ltc_count} long-term condition{'s' if ltc_count != 1 else ''}")
    frail = frailty_band in ("mild", "moderate", "severe")
    if frail:
        efi = f" (eFI {efi_score:.2f})" if efi_score is not None else ""
        reasons.append(f"{frailty_band} frailty{efi}")
    cost = predicted_cost_ratio is not None and predicted_cost_ratio >= 3.0
    if cost and predicted_cost_ratio is not None:
        reasons.append(f"predicted cost {predicted_cost_ratio:.1f}× average")
    explanation = (
        "On the list because: " + "; ".join(reasons)
        if (ltcs or frail or cost)
        else "Not in a risk cohort" + (f" ({'; '.join(reasons)})" if reasons else "")
    )
    return CohortFlags(ltcs, frail, cost, explanation)


def patient_by_nhs_number(session: Session, nhs_number: str) -> Patient:
    digits = normalise_nhs_number(nhs_number)
    found = session.scalars(
        select(Patient).where(Patient.nhs_number == digits).order_by(Patient.created_at)
    ).first()
    if found is None:
        raise NotFoundError(f"No patient with NHS number {format_nhs_number(digits)}.")
    return found


def display_name(family: str, given: str) -> str:
    return f"{family.upper()}, {given}"


def age(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
