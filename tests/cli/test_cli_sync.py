"""``carecoord sync export | import | status | conflicts | resolve`` between data folders."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select

from app.cli.main import run
from app.context import open_context
from app.core import secrets
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.core.secrets import default_namespace
from app.models import Patient, synced_models
from tests.conftest import MemoryKeyring

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"
NHS = "9991408916"


def cli(folder: Path, clock: FixedClock, *args: str) -> int:
    return run(["--data-dir", str(folder), *args], clock=clock)


def _patients_csv(path: Path, rows: str) -> Path:
    path.write_text("nhs_number,family_name,given_name,date_of_birth,phone\n" + rows, "utf-8")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], str]]:
    """Laptop A started a team and B joined it with A's key file, on the command line."""
    root = tmp_path_factory.mktemp("cli-sync")
    backend, previous = MemoryKeyring(), keyring.get_keyring()
    keyring.set_keyring(backend)
    clock = FixedClock(START)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(secrets, "ARGON2_MEMORY_COST_KIB", 8)
            mp.setattr(secrets, "ARGON2_ITERATIONS", 1)
            mp.setattr(secrets, "ARGON2_LANES", 1)
            mp.setenv("CARECOORD_PASSPHRASE", PASSPHRASE)
            assert cli(root / "a", clock, "key", "init", "--label", "Laptop A") == 0
            assert cli(root / "a", clock, "key", "export", "--out", str(root / "team.cck")) == 0
            assert cli(root / "b", clock, "key", "import", str(root / "team.cck"),
                       "--label", "Laptop B") == 0  # fmt: skip
    finally:
        keyring.set_keyring(previous)
    return root, dict(backend.store)


@pytest.fixture
def laptops(
    template: tuple[Path, dict[tuple[str, str], str]],
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Path, Path, Path]:
    """Copies of A and B (their keys under the copies' keyring names) and an empty stick."""
    src, saved = template
    copies = []
    for name in ("a", "b"):
        copy = tmp_path / name
        shutil.copytree(src / name, copy)
        old, new = (default_namespace(AppPaths(d).key_file) for d in (src / name, copy))
        for (service, user), secret in saved.items():
            if user.startswith(old + "/"):
                memory_keyring.store[(service, new + user[len(old) :])] = secret
        copies.append(copy)
    stick = tmp_path / "stick"
    stick.mkdir()
    capsys.readouterr()
    return copies[0], copies[1], stick


def _dump(folder: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert cli(folder, clock, "db", "dump") == 0
    return capsys.readouterr().out


def _export(folder: Path, clock: FixedClock, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    capsys.readouterr()
    assert cli(folder, clock, "sync", "export", "--out", str(out)) == 0
    first = capsys.readouterr().out.splitlines()[0]
    return Path(first.split(": ", 1)[1])


def test_two_laptops_exchange_on_the_command_line_and_dump_identically(
    laptops: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, stick = laptops
    clock = FixedClock(START)
    csv_a = _patients_csv(tmp_path / "a.csv", f"{NHS},Testperson,Margaret,01/02/1940,\n")
    csv_b = _patients_csv(tmp_path / "b.csv", "9995968533,Sampleton,Arthur,03/04/1938,\n")
    assert cli(a, clock, "import", "patients", str(csv_a)) == 0
    assert cli(b, clock, "import", "patients", str(csv_b)) == 0

    capsys.readouterr()
    assert cli(a, clock, "sync", "export", "--out", str(stick)) == 0
    out = capsys.readouterr().out
    assert "Bundle written and checked" in out and "safe to remove" in out
    (bundle,) = stick.iterdir()
    assert cli(a, clock, "sync", "export", "--out", str(stick)) == 0
    assert "Nothing to export" in capsys.readouterr().out
    assert list(stick.iterdir()) == [bundle]

    assert cli(b, clock, "sync", "import", str(bundle)) == 0
    out = capsys.readouterr().out
    assert f"Imported {bundle.name} from Laptop A" in out
    assert "Newly enrolled laptop: Laptop A, fingerprint" in out

    back = _export(b, clock, stick / "from-b.ccb", capsys)
    assert cli(a, clock, "sync", "import", str(back)) == 0
    assert "from Laptop B" in capsys.readouterr().out
    assert _dump(a, clock, capsys) == _dump(b, clock, capsys)
    assert "Sampleton" in _dump(a, clock, capsys)

    dump = _dump(b, clock, capsys)
    assert cli(b, clock, "sync", "import", str(bundle)) == 0  # again
    assert "(0 new," in capsys.readouterr().out
    assert _dump(b, clock, capsys) == dump

    assert cli(b, clock, "sync", "status") == 0
    status = capsys.readouterr().out
    assert "Laptops (2):" in status and "Last import: Mon 23 Nov 2026 09:00" in status
    assert f"{bundle.name} from Laptop A" in status


def test_refused_files_are_moved_aside_and_the_others_imported(
    laptops: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, stick = laptops
    clock = FixedClock(START)
    good = _export(a, clock, stick / "good.ccb", capsys)
    tampered = stick / "tampered.ccb"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    random_file = stick / "holiday.ccb"
    random_file.write_bytes(os.urandom(500))
    dump = _dump(b, clock, capsys)

    assert cli(b, clock, "sync", "import", str(random_file), str(tampered)) == 1
    err = capsys.readouterr().err
    assert "holiday.ccb is not a CareCoord bundle" in err
    assert "tampered.ccb has been altered" in err
    assert "moved to" in err and "2 of 2 file(s) refused" in err
    assert sorted(p.name for p in (b / "rejected").iterdir()) == ["holiday.ccb", "tampered.ccb"]
    assert _dump(b, clock, capsys) == dump

    other = tmp_path / "other"
    assert cli(other, clock, "key", "init") == 0  # another team
    foreign = _export(other, clock, stick / "foreign.ccb", capsys)
    assert cli(b, clock, "sync", "import", str(foreign), str(good)) == 1
    captured = capsys.readouterr()
    assert "made for another team" in captured.err and "1 of 2 file(s) refused" in captured.err
    assert "Imported good.ccb from Laptop A" in captured.out


def test_a_skipped_bundle_shows_as_missing_changes(
    laptops: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, stick = laptops
    clock = FixedClock(START)
    csv = _patients_csv(tmp_path / "p.csv", f"{NHS},Testperson,Margaret,01/02/1940,\n")
    assert cli(a, clock, "import", "patients", str(csv)) == 0
    _export(a, clock, stick / "one.ccb", capsys)
    csv.write_text(csv.read_text() + "9995968533,Sampleton,Arthur,03/04/1938,\n", "utf-8")
    assert cli(a, clock, "import", "patients", str(csv)) == 0
    two = _export(a, clock, stick / "two.ccb", capsys)
    assert cli(b, clock, "sync", "import", str(two)) == 0
    out = capsys.readouterr().out
    assert "Warning: changes 1–" in out and "from Laptop A missing." in out
    assert cli(b, clock, "sync", "status") == 0
    assert "from Laptop A missing" in capsys.readouterr().out
    assert cli(b, clock, "sync", "import", str(stick / "one.ccb")) == 0
    assert "missing" not in capsys.readouterr().out


def _conflicting_phones(
    laptops: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> FixedClock:
    a, b, stick = laptops
    clock = FixedClock(START)
    row = f"{NHS},Testperson,Margaret,01/02/1940,"
    assert (
        cli(a, clock, "import", "patients", str(_patients_csv(tmp_path / "p.csv", row + "\n"))) == 0
    )
    assert cli(b, clock, "sync", "import", str(_export(a, clock, stick / "1.ccb", capsys))) == 0
    clock.advance(timedelta(minutes=1))
    csv_a = _patients_csv(tmp_path / "pa.csv", row + "0116 496 0001\n")
    assert cli(a, clock, "import", "patients", str(csv_a)) == 0
    clock.advance(timedelta(minutes=1))
    csv_b = _patients_csv(tmp_path / "pb.csv", row + "0116 496 0002\n")
    assert cli(b, clock, "import", "patients", str(csv_b)) == 0
    from_a = _export(a, clock, stick / "2.ccb", capsys)
    from_b = _export(b, clock, stick / "3.ccb", capsys)
    assert cli(a, clock, "sync", "import", str(from_b)) == 0
    assert cli(b, clock, "sync", "import", str(from_a)) == 0
    assert "1 conflict(s) open" in capsys.readouterr().out
    return clock


def test_conflicts_are_listed_and_resolved_on_the_command_line(
    laptops: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, stick = laptops
    clock = _conflicting_phones(laptops, tmp_path, capsys)
    assert cli(a, clock, "sync", "conflicts") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 conflicted field(s):"
    table, record, _, field = lines[1].split()
    assert (table, field) == ("patients", "phone")
    heads = {line.strip().split("  ")[1]: line for line in lines[2:4]}
    assert '"0116 496 0001"' in heads and '"0116 496 0002"' in heads
    assert "by Laptop A, Mon 23 Nov 2026 09:01" in heads['"0116 496 0001"']
    assert heads['"0116 496 0002"'].endswith("(shown now)")
    pick = heads['"0116 496 0001"'].split()[0]

    assert cli(a, clock, "sync", "resolve", table, record, field, "--value", "not json") == 1
    assert "not JSON" in capsys.readouterr().err
    assert cli(a, clock, "sync", "resolve", table, record, field, "--pick", "x:1") == 1
    assert "not one of the competing values" in capsys.readouterr().err
    assert cli(a, clock, "sync", "resolve", table, record, field, "--keep") == 1
    assert "not a deletion" in capsys.readouterr().err

    assert cli(a, clock, "sync", "resolve", table, record, field, "--pick", pick) == 0
    assert "Resolved patients" in capsys.readouterr().out
    assert cli(a, clock, "sync", "conflicts") == 0
    assert capsys.readouterr().out.strip() == "No conflicts."
    assert cli(a, clock, "sync", "resolve", table, record, field, "--pick", pick) == 1
    assert "no open conflict" in capsys.readouterr().err

    assert cli(b, clock, "sync", "import", str(_export(a, clock, stick / "4.ccb", capsys))) == 0
    assert "0 conflict(s) open" in capsys.readouterr().out
    assert _dump(a, clock, capsys) == _dump(b, clock, capsys)
    assert '"phone": "0116 496 0001"' in _dump(b, clock, capsys)


def test_an_edit_against_a_delete_can_be_kept(
    laptops: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, stick = laptops
    clock = FixedClock(START)
    row = f"{NHS},Testperson,Margaret,01/02/1940,"
    assert (
        cli(a, clock, "import", "patients", str(_patients_csv(tmp_path / "p.csv", row + "\n"))) == 0
    )
    assert cli(b, clock, "sync", "import", str(_export(a, clock, stick / "1.ccb", capsys))) == 0
    clock.advance(timedelta(minutes=1))
    ctx = open_context(AppPaths(a), clock=clock)  # no command deletes a patient
    try:
        with ctx.db.write() as s:
            patient = s.scalars(select(Patient)).one()
            for model in reversed(synced_models()):  # the patient's records first
                column = model.__table__.columns.get("patient_id")
                if column is not None:
                    for child in s.scalars(select(model).where(column == patient.id)):
                        s.delete(child)
                    s.flush()
            s.delete(patient)
    finally:
        ctx.close()
    csv_b = _patients_csv(tmp_path / "pb.csv", row + "0116 496 0002\n")
    assert cli(b, clock, "import", "patients", str(csv_b)) == 0
    from_a = _export(a, clock, stick / "2.ccb", capsys)
    from_b = _export(b, clock, stick / "3.ccb", capsys)
    assert cli(a, clock, "sync", "import", str(from_b)) == 0
    assert cli(b, clock, "sync", "import", str(from_a)) == 0
    capsys.readouterr()

    assert cli(b, clock, "sync", "conflicts") == 0
    lines = capsys.readouterr().out.splitlines()
    table, record, _, field = lines[1].split()
    assert any("deleted the record  by Laptop A" in line for line in lines)
    assert lines[-1].endswith("--keep | --delete | --value JSON")
    assert cli(b, clock, "sync", "resolve", table, record, field, "--keep") == 0
    assert cli(a, clock, "sync", "import", str(_export(b, clock, stick / "4.ccb", capsys))) == 0
    assert "0 conflict(s) open" in capsys.readouterr().out
    dump = _dump(a, clock, capsys)
    assert dump == _dump(b, clock, capsys) and '"phone": "0116 496 0002"' in dump


def test_status_without_a_team_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clock = FixedClock(START)
    folder = tmp_path / "fresh"
    assert cli(folder, clock, "sync", "status") == 0
    out = capsys.readouterr().out
    assert "Team key: none" in out and "Last export: never" in out
    assert cli(folder, clock, "sync", "export", "--out", str(tmp_path)) == 1
    assert "holds no team key" in capsys.readouterr().err
