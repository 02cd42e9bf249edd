"""``import discharges``: keyed by NHS number + discharge time, all-or-nothing, new patients."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli.main import run
from app.context import AppContext, open_memory_context
from app.core.clock import FixedClock
from app.models import Admission, Episode, Patient, Task
from app.services.caseload import register_patient
from app.services.csvio import ImportRefused
from app.services.followup import record_admission
from app.services.import_discharges import import_discharges_file
from app.services.metrics import readmission_links
from app.sync.dump import dump_json

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KNOWN = "9991408916"
NEW = "9995968533"
OTHER = "9998885981"
HEADER = "NHS Number,Discharged,admission_datetime,hospital,ward,Surname,Forename,DOB,GP"
NEW_DETAILS = "Sampleton,Arthur,03/04/1938,Ashby Medical Centre"


def write(tmp_path: Path, *lines: str, name: str = "discharges.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def add_known(ctx: AppContext) -> str:
    with ctx.db.write() as s:
        return register_patient(
            s,
            nhs_number=KNOWN,
            family_name="Testperson",
            given_name="Margaret",
            date_of_birth=date(1940, 2, 1),
            now=NOW,
        ).id


def do_import(ctx: AppContext, path: Path, *, skip: bool = False):  # type: ignore[no-untyped-def]
    with ctx.db.write() as s:
        return import_discharges_file(s, path, skip_invalid=skip, now=NOW)


def dump(ctx: AppContext) -> str:
    with ctx.db.read() as s:
        return dump_json(s)


def count(ctx: AppContext, model: type) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_import_adds_discharges_tasks_and_unknown_patients(ctx: AppContext, tmp_path: Path) -> None:
    add_known(ctx)
    path = write(
        tmp_path,
        f"{KNOWN},20/11/2026 14:05,15/11/2026 10:00,Leicester Royal Infirmary,Ward 7,,,,",
        f"{NEW},2026-11-21T09:30,,Glenfield Hospital,,{NEW_DETAILS}",
    )
    result = do_import(ctx, path)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (2, 0, 0, ())
    assert "1 new patient added (referral source: hospital referral)" in result.summary()
    with ctx.db.read() as s:
        new = s.scalars(select(Patient).where(Patient.nhs_number == NEW)).one()
        assert (new.family_name, new.referral_source, new.level) == (
            "Sampleton",
            "hospital referral",
            "Enhanced",
        )
        assert new.practice_code is not None
        assert s.scalars(select(Episode).where(Episode.patient_id == new.id)).one().opened_on
        a = s.scalars(select(Admission).where(Admission.patient_id == new.id)).one()
        assert a.discharged_at == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
        assert a.admitted_at is None and a.source == "import"
        due = sorted(t.due_at for t in s.scalars(select(Task)))
    assert due == [
        datetime(2026, 11, 22, 14, 5, tzinfo=UTC),
        datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    ]


def test_the_same_file_twice_changes_nothing(ctx: AppContext, tmp_path: Path) -> None:
    add_known(ctx)
    path = write(
        tmp_path,
        f"{KNOWN},20/11/2026 14:05,15/11/2026 10:00,LRI,Ward 7,,,,",
        f"{NEW},2026-11-21T09:30,,Glenfield Hospital,,{NEW_DETAILS}",
    )
    do_import(ctx, path)
    before = dump(ctx)
    again = do_import(ctx, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert dump(ctx) == before


def test_a_discharge_completes_a_stay_recorded_as_still_in_hospital(
    ctx: AppContext, tmp_path: Path
) -> None:
    pid = add_known(ctx)
    with ctx.db.write() as s:
        aid = record_admission(
            s, patient_id=pid, admitted_at=datetime(2026, 11, 15, 10, tzinfo=UTC), now=NOW
        ).id
    result = do_import(ctx, write(tmp_path, f"{KNOWN},20/11/2026 14:05,,LRI,,,,,"))
    assert (result.created, result.updated) == (0, 1)
    with ctx.db.read() as s:
        a = s.get(Admission, aid)
        assert a is not None and a.discharged_at == datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
        assert a.hospital == "LRI"
    assert count(ctx, Task) == 1


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        (f"{KNOWN},24/11/2026 10:00,,,,,,,", "discharge_datetime", "in the future"),
        (f"{KNOWN},20/11/2026 10:00,21/11/2026 09:00,,,,,,", "admission_datetime", "after the"),
        (f"{NEW},20/11/2026 10:00,,,,,,,", "family_name", "no patient with this NHS number"),
        (f"{NEW},20/11/2026 10:00,,,,Sampleton,Arthur,,", "date_of_birth", "date_of_birth"),
        (
            f"{NEW},20/11/2026 10:00,,,,Sampleton,Arthur,03/04/1938,Nowhere Surgery",
            "gp_practice",
            "",
        ),
        (f"{KNOWN},20/11/2026 10:00,,,,,,01/01/1950,", "date_of_birth", "does not match"),
        ("9.99E+09,20/11/2026 10:00,,,,,,,", "nhs_number", "scientific notation"),
        (f"{KNOWN},25/10/2026 01:30,,,,,,,", "discharge_datetime", "ambiguous"),
        (f"{KNOWN},29/03/2026 01:30,,,,,,,", "discharge_datetime", "does not exist"),
    ],
)
def test_invalid_rows_refuse_the_whole_file(
    ctx: AppContext, tmp_path: Path, line: str, column: str, words: str
) -> None:
    add_known(ctx)
    good = f"{KNOWN},10/11/2026 10:00,,,,,,,"
    before = dump(ctx)
    with pytest.raises(ImportRefused) as info:
        do_import(ctx, write(tmp_path, good, line))
    assert dump(ctx) == before
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (3, column)
    assert words in problem.reason
    skipped = do_import(ctx, write(tmp_path, good, line), skip=True)
    assert skipped.created == 1 and [p.line for p in skipped.rejected] == [3]


def test_duplicate_rows_in_one_file_are_reported(ctx: AppContext, tmp_path: Path) -> None:
    add_known(ctx)
    row = f"{KNOWN},20/11/2026 14:05,,LRI,,,,,"
    path = write(tmp_path, row, f"{KNOWN},2026-11-20 14:05,,LRI,,,,,")
    with pytest.raises(ImportRefused, match="already on line 2"):
        do_import(ctx, path)
    assert count(ctx, Admission) == 0
    result = do_import(ctx, path, skip=True)
    assert result.created == 1 and result.rejected[0].line == 3


def test_overlapping_stays_are_rejected(ctx: AppContext, tmp_path: Path) -> None:
    add_known(ctx)
    path = write(
        tmp_path,
        f"{KNOWN},20/11/2026 14:05,10/11/2026 10:00,,,,,,",
        f"{KNOWN},18/11/2026 10:00,,,,,,,",
    )
    with pytest.raises(ImportRefused, match="overlaps the discharge on line 2"):
        do_import(ctx, path)


def test_a_new_patient_with_several_discharges_is_added_once(
    ctx: AppContext, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{NEW},01/11/2026 10:00,,,,{NEW_DETAILS}",
        f"{NEW},20/11/2026 10:00,18/11/2026 09:00,,,,,,",
    )
    result = do_import(ctx, path)
    assert result.created == 2
    assert count(ctx, Patient) == 1


def test_rows_in_any_order_give_the_same_links_and_tasks(clock: FixedClock, tmp_path: Path) -> None:
    rows = [
        f"{NEW},01/11/2026 10:00,28/10/2026 10:00,,,{NEW_DETAILS}",
        f"{NEW},10/11/2026 10:00,02/11/2026 09:00,,,{NEW_DETAILS}",
        f"{NEW},20/11/2026 10:00,19/11/2026 09:00,,,{NEW_DETAILS}",
        f"{OTHER},21/11/2026 10:00,,,,Madeup,Olwen,05/06/1931,Ashby Medical Centre",
    ]
    seen = set()
    for i, order in enumerate(itertools.islice(itertools.permutations(rows), 0, 24, 7)):
        context = open_memory_context(clock=clock)
        try:
            do_import(context, write(tmp_path, *order, name=f"d{i}.csv"))
            with context.db.read() as s:
                links = tuple((x.discharged_at, x.readmitted_at) for x in readmission_links(s))
                tasks = tuple(sorted((t.due_at, t.status) for t in s.scalars(select(Task))))
            seen.add((links, tasks))
        finally:
            context.close()
    assert len(seen) == 1
    links, tasks = seen.pop()
    assert len(links) == 2
    assert [status for _, status in tasks] == ["cancelled", "cancelled", "open", "open"]


# --- through the command line --------------------------------------------------------------


def cli(data_dir: Path, clock: FixedClock, *args: str) -> int:
    return run(["--data-dir", str(data_dir), *args], clock=clock)


def cli_dump(data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert cli(data_dir, clock, "db", "dump") == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (f"{NEW},20/11/2026 10:00,21/11/2026 10:00,,,{NEW_DETAILS}", "after the discharge"),
        (f"{NEW},24/11/2026 10:00,,,,{NEW_DETAILS}", "in the future"),
        (f"{NEW},20/11/2026 10:00,,,,,,,", "cannot add one without family_name"),
    ],
)
def test_cli_refusals_write_nothing_and_exit_1(
    data_dir: Path,
    clock: FixedClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,
    words: str,
) -> None:
    before = cli_dump(data_dir, clock, capsys)
    assert cli(data_dir, clock, "import", "discharges", str(write(tmp_path, line))) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and words in err
    assert cli_dump(data_dir, clock, capsys) == before


def test_cli_duplicate_rows_and_the_same_file_twice(
    data_dir: Path, clock: FixedClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = f"{NEW},20/11/2026 10:00,,,,{NEW_DETAILS}"
    dup = write(tmp_path, row, row, name="dup.csv")
    before = cli_dump(data_dir, clock, capsys)
    assert cli(data_dir, clock, "import", "discharges", str(dup)) == 1
    assert "already on line 2" in capsys.readouterr().err
    assert cli_dump(data_dir, clock, capsys) == before

    ok = write(tmp_path, row, name="ok.csv")
    assert cli(data_dir, clock, "import", "discharges", str(ok)) == 0
    assert "1 discharges added" in capsys.readouterr().out
    once = cli_dump(data_dir, clock, capsys)
    assert cli(data_dir, clock, "import", "discharges", str(ok)) == 0
    assert "0 discharges added" in capsys.readouterr().out
    assert cli_dump(data_dir, clock, capsys) == once
