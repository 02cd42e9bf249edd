"""``import discharges``: a hospital discharge list (DESIGN.md §4.2).

Keyed by NHS number + discharge time, so re-importing the same file changes nothing. A row for
a patient not yet known adds them (referral source "hospital referral") when it gives
family_name, given_name, date_of_birth and gp_practice; otherwise it is rejected. A discharge
of a patient recorded as still in hospital completes that stay. All-or-nothing unless
``skip_invalid``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import ValidationError
from app.core.timeutil import ensure_utc, to_local
from app.core.validation import normalise_nhs_number, parse_date, parse_datetime
from app.models import Admission, Patient
from app.services.caseload import register_patient
from app.services.csvio import ImportRefused, ImportResult, ProblemCollector, read_csv
from app.services.followup import overlaps, refresh_followup_tasks, when
from app.services.import_patients import PATIENT_COLUMNS, parse_patient_row

DISCHARGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "nhs_number": PATIENT_COLUMNS["nhs_number"],
    "discharge_datetime": ("discharged", "discharge date", "discharge time", "discharged at"),
    "admission_datetime": ("admitted", "admission date", "admission time", "admitted at"),
    "hospital": ("hospital name", "site"),
    "ward": ("ward name",),
    "discharge_destination": ("destination", "discharged to"),
    "family_name": PATIENT_COLUMNS["family_name"],
    "given_name": PATIENT_COLUMNS["given_name"],
    "date_of_birth": PATIENT_COLUMNS["date_of_birth"],
    "gp_practice": PATIENT_COLUMNS["gp_practice"],
}
REQUIRED = ("nhs_number", "discharge_datetime")
NEW_PATIENT_DETAILS = ("family_name", "given_name", "date_of_birth", "gp_practice")
TEXT_LIMITS = {"hospital": 120, "ward": 80, "discharge_destination": 80}
REFERRAL_SOURCE = "hospital referral"


@dataclass
class _Stay:
    """A stay of one patient: recorded already (``admission``) or planned from a line."""

    admitted_at: datetime | None
    discharged_at: datetime | None
    admission: Admission | None = None
    line: int | None = None


@dataclass(frozen=True)
class _Row:
    line: int
    nhs: str
    discharged_at: datetime
    admitted_at: datetime | None
    text: dict[str, str]  # hospital, ward, discharge_destination when given
    raw: dict[str, str]


@dataclass
class _Plan:
    new_patients: dict[str, dict[str, object]] = field(default_factory=dict)  # nhs -> details
    creates: list[tuple[_Row, str | None]] = field(default_factory=list)  # row, patient id
    updates: dict[str, dict[str, object]] = field(default_factory=dict)  # admission id -> changes
    unchanged: int = 0


def _parse_row(
    values: dict[str, str], line: int, *, now: datetime, problems: ProblemCollector
) -> _Row | None:
    before = len(problems.problems)
    nhs = discharged = admitted = None
    try:
        nhs = normalise_nhs_number(values.get("nhs_number", ""))
    except ValidationError as exc:
        problems.add(line, "nhs_number", str(exc))
    try:
        discharged = parse_datetime(values.get("discharge_datetime", ""), field="discharge")
        if discharged > now:
            problems.add(
                line, "discharge_datetime", f"the discharge {when(discharged)} is in the future."
            )
    except ValidationError as exc:
        problems.add(line, "discharge_datetime", str(exc))
    if values.get("admission_datetime"):
        try:
            admitted = parse_datetime(values["admission_datetime"], field="admission")
            if discharged is not None and admitted > discharged:
                problems.add(
                    line,
                    "admission_datetime",
                    f"the admission {when(admitted)} is after the discharge {when(discharged)}.",
                )
        except ValidationError as exc:
            problems.add(line, "admission_datetime", str(exc))
    text: dict[str, str] = {}
    for column, limit in TEXT_LIMITS.items():
        value = " ".join(values.get(column, "").split())
        if len(value) > limit:
            problems.add(line, column, f"longer than {limit} characters.")
        elif value:
            text[column] = value
    if len(problems.problems) != before or nhs is None or discharged is None:
        return None
    return _Row(line, nhs, discharged, admitted, text, values)


def _new_patient_details(
    row: _Row, *, today: date, problems: ProblemCollector
) -> dict[str, object] | None:
    missing = [c for c in NEW_PATIENT_DETAILS if not row.raw.get(c)]
    if missing:
        problems.add(
            row.line,
            missing[0],
            "no patient with this NHS number is known, and the row cannot add one without "
            + ", ".join(missing)
            + ".",
        )
        return None
    subset = {c: row.raw[c] for c in ("nhs_number", *NEW_PATIENT_DETAILS)}
    parsed = parse_patient_row(subset, row.line, today=today, coordinators={}, problems=problems)
    return None if parsed is None else dict(parsed.values)


def _dob_mismatch(row: _Row, patient: Patient, problems: ProblemCollector) -> bool:
    text = row.raw.get("date_of_birth", "")
    if not text:
        return False
    try:
        dob = parse_date(text, field="date_of_birth")
    except ValidationError as exc:
        problems.add(row.line, "date_of_birth", str(exc))
        return True
    if dob != patient.date_of_birth:
        problems.add(
            row.line,
            "date_of_birth",
            f"date of birth {dob:%d/%m/%Y} does not match the patient recorded with this "
            "NHS number; check the NHS number.",
        )
        return True
    return False


def _stay_text(s: _Stay) -> str:
    if s.line is not None:
        return f"the discharge on line {s.line}"
    start = s.admitted_at or s.discharged_at
    assert start is not None
    end = f" to {when(s.discharged_at)}" if s.discharged_at else " (still in hospital)"
    return f"the recorded admission from {when(start)}{end}"


def _plan_row(
    row: _Row, patient_id: str | None, stays: list[_Stay], plan: _Plan, problems: ProblemCollector
) -> None:
    """Decide whether the row is new, completes or updates a recorded stay, or is unchanged."""
    same = next((s for s in stays if s.discharged_at == row.discharged_at), None)
    if same is not None and same.admission is not None:
        a = same.admission
        if row.admitted_at is not None and a.admitted_at not in (None, row.admitted_at):
            assert a.admitted_at is not None
            problems.add(
                row.line,
                "admission_datetime",
                f"this discharge is recorded with admission {when(a.admitted_at)}, "
                f"not {when(row.admitted_at)}.",
            )
            return
        changes: dict[str, object] = {k: v for k, v in row.text.items() if getattr(a, k) != v}
        if row.admitted_at is not None and a.admitted_at is None:
            clash = [s for s in stays if s is not same and _clash(row, s)]
            if clash:
                problems.add(row.line, "admission_datetime", f"overlaps {_stay_text(clash[0])}.")
                return
            changes["admitted_at"] = row.admitted_at
        if changes:
            plan.updates.setdefault(a.id, {}).update(changes)
            same.admitted_at = a.admitted_at or row.admitted_at
        else:
            plan.unchanged += 1
        return
    open_stay = next(
        (
            s
            for s in stays
            if s.admission is not None
            and s.discharged_at is None
            and s.admitted_at is not None
            and s.admitted_at <= row.discharged_at
            and row.admitted_at in (None, s.admitted_at)
        ),
        None,
    )
    if open_stay is not None and open_stay.admission is not None:
        plan.updates.setdefault(open_stay.admission.id, {}).update(
            {"discharged_at": row.discharged_at, **row.text}
        )
        open_stay.discharged_at = row.discharged_at
        return
    clash = [s for s in stays if _clash(row, s)]
    if clash:
        column = "discharge_datetime" if clash[0].discharged_at else "admission_datetime"
        problems.add(row.line, column, f"this stay overlaps {_stay_text(clash[0])}.")
        return
    stays.append(_Stay(row.admitted_at, row.discharged_at, line=row.line))
    plan.creates.append((row, patient_id))


def _clash(row: _Row, s: _Stay) -> bool:
    return overlaps(row.admitted_at, row.discharged_at, s.admitted_at, s.discharged_at)


def import_discharges_file(
    session: Session, path: Path, *, skip_invalid: bool, now: datetime
) -> ImportResult:
    now = ensure_utc(now)
    today = to_local(now).date()
    table = read_csv(path, columns=DISCHARGE_COLUMNS, required=REQUIRED)
    problems = ProblemCollector()
    rows = [
        r
        for r in (
            _parse_row(dict(t.values), t.line, now=now, problems=problems) for t in table.rows
        )
        if r is not None
    ]

    numbers = sorted({r.nhs for r in rows})
    patients: dict[str, Patient] = {}
    for start in range(0, len(numbers), 500):
        for p in session.scalars(
            select(Patient)
            .where(Patient.nhs_number.in_(numbers[start : start + 500]))
            .order_by(Patient.created_at, Patient.id)
        ):
            patients.setdefault(p.nhs_number, p)
    stays: dict[str, list[_Stay]] = {nhs: [] for nhs in numbers}
    ids = {p.id: nhs for nhs, p in patients.items()}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 500):
        for a in session.scalars(
            select(Admission).where(Admission.patient_id.in_(id_list[start : start + 500]))
        ):
            stays[ids[a.patient_id]].append(_Stay(a.admitted_at, a.discharged_at, a))

    plan = _Plan()
    first_line: dict[tuple[str, datetime], int] = {}
    for row in rows:
        key = (row.nhs, row.discharged_at)
        if key in first_line:
            problems.add(
                row.line,
                "discharge_datetime",
                f"the same discharge (NHS number and time) is already on line {first_line[key]}.",
            )
            continue
        first_line[key] = row.line
        patient = patients.get(row.nhs)
        if patient is None and row.nhs not in plan.new_patients:
            details = _new_patient_details(row, today=today, problems=problems)
            if details is None:
                continue
            plan.new_patients[row.nhs] = details
        elif patient is not None and _dob_mismatch(row, patient, problems):
            continue
        _plan_row(row, patient.id if patient else None, stays[row.nhs], plan, problems)

    if problems.problems and not skip_invalid:
        raise ImportRefused(table.file_name, problems.problems)

    new_ids: dict[str, str] = {}
    needed = {r.nhs for r, pid in plan.creates if pid is None}
    for nhs, details in plan.new_patients.items():
        if nhs not in needed:
            continue  # every discharge of this new patient was rejected
        view = register_patient(
            session,
            nhs_number=nhs,
            family_name=str(details["family_name"]),
            given_name=str(details["given_name"]),
            date_of_birth=details["date_of_birth"],  # type: ignore[arg-type]
            practice_code=details.get("practice_code"),  # type: ignore[arg-type]
            referral_source=REFERRAL_SOURCE,
            now=now,
        )
        new_ids[nhs] = view.id
    touched: set[str] = set()
    for row, patient_id in plan.creates:
        pid = patient_id or new_ids[row.nhs]
        session.add(
            Admission(
                patient_id=pid,
                admitted_at=row.admitted_at,
                discharged_at=row.discharged_at,
                hospital=row.text.get("hospital"),
                ward=row.text.get("ward"),
                discharge_destination=row.text.get("discharge_destination"),
                source="import",
                created_at=now,
            )
        )
        touched.add(pid)
    for admission_id, changes in plan.updates.items():
        admission = session.get(Admission, admission_id)
        assert admission is not None
        for attr, value in changes.items():
            setattr(admission, attr, value)
        touched.add(admission.patient_id)
    session.flush()
    refresh_followup_tasks(session, patient_ids=touched, now=now)

    notes: list[str] = []
    if new_ids:
        notes.append(
            f"{len(new_ids)} new patient{'s' if len(new_ids) != 1 else ''} added "
            f"(referral source: {REFERRAL_SOURCE})."
        )
    if table.ignored_headers:
        notes.append(f"Ignored columns: {', '.join(table.ignored_headers)}.")
    return ImportResult(
        kind="discharges",
        file_name=table.file_name,
        rows=len(table.rows),
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        rejected=tuple(problems.problems) if skip_invalid else (),
        notes=tuple(notes),
    )
