"""``import patients``: all-or-nothing, every bad row named, idempotent, encodings."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.context import AppContext
from app.core.errors import ValidationError
from app.core.validation import random_test_nhs_number
from app.models import Coordinator, Episode, Op, Patient
from app.services.csvio import ImportRefused
from app.services.import_patients import import_patients_file
from app.sync.dump import dump_json

HEADER = "NHS Number,Surname,Forename,DOB,gp_practice,postcode,frailty,ltc_count,coordinator\n"


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _import(ctx: AppContext, path: Path, *, skip: bool = False):  # type: ignore[no-untyped-def]
    with ctx.db.write() as s:
        return import_patients_file(s, path, skip_invalid=skip, now=ctx.clock.now())


def _count(ctx: AppContext, model: type) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def team(ctx: AppContext) -> AppContext:
    with ctx.db.write() as s:
        s.add(Coordinator(name="Sharon Mills"))
    return ctx


GOOD = (
    HEADER
    + "999 000 0026,Okafor,Grace,03/05/1938,Heath Lane,LE10 1AB,0.31,6,Sharon Mills\n"
    + "9990000034,Nowak,Piotr,1941-02-11,Bushloe,LE18 4PE,severe,,\n"
)


def test_valid_file_adds_patients_with_an_open_episode(team: AppContext, tmp_path: Path) -> None:
    result = _import(team, _write(tmp_path, GOOD))
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    with team.db.read() as s:
        grace = s.scalars(select(Patient).where(Patient.nhs_number == "9990000026")).one()
        assert grace.frailty_band == "moderate" and grace.efi_score == pytest.approx(0.31)
        assert grace.postcode == "LE10 1AB" and grace.ltc_count == 6
        assert grace.practice_code is not None and "heath-lane" in grace.practice_code
        assert grace.coordinator_id is not None
    assert _count(team, Episode) == 2


def test_reimporting_the_same_file_changes_nothing(team: AppContext, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    _import(team, path)
    with team.db.read() as s:
        before = dump_json(s)
    ops_before = _count(team, Op)
    again = _import(team, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    with team.db.read() as s:
        assert dump_json(s) == before
    assert _count(team, Op) == ops_before


def test_changed_row_updates_the_existing_patient(team: AppContext, tmp_path: Path) -> None:
    _import(team, _write(tmp_path, GOOD))
    changed = GOOD.replace("LE10 1AB", "LE10 2ZZ")
    result = _import(team, _write(tmp_path, changed, name="v2.csv"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)


def test_any_invalid_row_writes_nothing_and_lists_every_bad_row(
    team: AppContext, tmp_path: Path
) -> None:
    bad = (
        GOOD
        + "9.43E+09,Smith,Ann,01/01/1950,,,,,\n"
        + "9990000042,Jones,,31/02/1950,,,,,\n"
        + "9990000050,Khan,Ali,01/01/1950,Nowhere Surgery,,,,Nobody\n"
    )
    ops_before = _count(team, Op)
    with pytest.raises(ImportRefused) as err:
        _import(team, _write(tmp_path, bad))
    text = str(err.value)
    assert "3 invalid rows, nothing imported" in text
    assert "line 4, column nhs_number" in text and "scientific notation" in text
    assert "line 5, column given_name" in text
    assert "line 5, column date_of_birth" in text and "February" in text
    assert "line 6, column gp_practice" in text and "line 6, column coordinator" in text
    assert _count(team, Patient) == 0 and _count(team, Op) == ops_before


def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(
    team: AppContext, tmp_path: Path
) -> None:
    bad = GOOD + "9990000043,Smith,Ann,01/01/1950,,,,,\n"  # check digit wrong
    result = _import(team, _write(tmp_path, bad), skip=True)
    assert result.created == 2
    assert [p.line for p in result.rejected] == [4]
    assert "check" in result.rejected[0].reason


def test_duplicate_nhs_number_in_one_file_is_reported(team: AppContext, tmp_path: Path) -> None:
    dup = GOOD + "9990000026,Okafor,Grace,03/05/1938,,,,,\n"
    with pytest.raises(ImportRefused, match="already on line 2"):
        _import(team, _write(tmp_path, dup))


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", "\ufeff"), ("utf-8", ""), ("cp1252", "")]
)
def test_bom_and_windows_1252_are_accepted(
    team: AppContext, tmp_path: Path, encoding: str, prefix: str
) -> None:
    text = prefix + HEADER + "9990000026,O'Sullivan,Siobhán,03/05/1938,,,,,\n"
    result = _import(team, _write(tmp_path, text, encoding=encoding))
    assert result.created == 1
    with team.db.read() as s:
        assert s.scalars(select(Patient.given_name)).one() == "Siobhán"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("nhs_number,family_name\n9990000026,Okafor\n", "required columns missing"),
        ("nhs_number;family_name;given_name;dob\n", "separated by ';'"),
        (HEADER, "no data rows"),
        (HEADER + '9990000026,"Okafor,Grace\n', "malformed CSV"),
        (HEADER + "9990000026,Okafor,Grace,03/05/1938\n", "fields where the header has"),
        ("nhs number,NHS No,surname,forename,dob\n", "appears twice"),
    ],
)
def test_malformed_files_are_refused_with_one_clear_message(
    team: AppContext, tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _import(team, _write(tmp_path, content))
    assert _count(team, Patient) == 0


def test_ambiguous_and_future_dates_are_refused(team: AppContext, tmp_path: Path) -> None:
    text = HEADER + "9990000026,Okafor,Grace,13/25/1938,,,,,\n9990000034,Nowak,P,01/01/2030,,,,,\n"
    with pytest.raises(ImportRefused) as err:
        _import(team, _write(tmp_path, text))
    assert "line 2, column date_of_birth" in str(err.value)
    assert "line 3, column date_of_birth" in str(err.value) and "future" in str(err.value)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12))
def test_any_valid_list_imports_once_and_reimports_as_unchanged(
    team: AppContext, tmp_path: Path, seed: int, n: int
) -> None:
    rng = random.Random(seed)
    numbers = sorted({random_test_nhs_number(rng) for _ in range(n)})
    rows = ""
    for i, num in enumerate(numbers):
        dob = f"{rng.randint(1, 28):02d}/0{rng.randint(1, 9)}/19{rng.randint(20, 60)}"
        rows += f"{num[:3]} {num[3:6]} {num[6:]},Fam{i},Giv{i},{dob},,,,,\n"
    path = _write(tmp_path, HEADER + rows, name=f"h{seed}-{n}.csv")
    with team.db.read() as s:
        known = set(s.scalars(select(Patient.nhs_number)))
    first = _import(team, path)
    assert first.created == len(set(numbers) - known)
    second = _import(team, path)
    assert second.created == 0 and second.updated == 0 and second.unchanged == len(numbers)
