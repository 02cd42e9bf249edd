"""The command line's contract: exit codes, stderr messages, import and db commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import run
from app.core.clock import FixedClock


def test_unknown_command_is_a_usage_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["--data-dir", str(data_dir), "frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_no_subcommand_for_a_group_is_a_usage_error(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["--data-dir", str(data_dir), "db"])
    assert exc.value.code == 2


def test_import_then_dump_round_trip(
    data_dir: Path, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text(
        "nhs_number,family_name,given_name,date_of_birth\n9990000026,Okafor,Grace,1938-05-03\n"
    )
    assert run(["--data-dir", str(data_dir), "import", "patients", str(csv)], clock=clock) == 0
    assert "1 patients added" in capsys.readouterr().out
    assert run(["--data-dir", str(data_dir), "db", "dump"], clock=clock) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert [p["nhs_number"] for p in dumped["patients"]] == ["9990000026"]
    assert dumped["patients"][0]["date_of_birth"] == "1938-05-03"


def test_refused_import_exits_1_with_the_reason_on_stderr(
    data_dir: Path, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("nhs_number,family_name,given_name,date_of_birth\n1234567890,A,B,1938-05-03\n")
    assert run(["--data-dir", str(data_dir), "import", "patients", str(csv)], clock=clock) == 1
    err = capsys.readouterr().err
    assert "bad.csv: 1 invalid row, nothing imported" in err
    assert "line 2, column nhs_number" in err


def test_missing_file_is_refused(
    data_dir: Path, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        ["--data-dir", str(data_dir), "import", "patients", str(tmp_path / "nope.csv")], clock=clock
    )
    assert code == 1
    assert "Cannot read" in capsys.readouterr().err


def test_db_check_and_backup(
    data_dir: Path, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--data-dir", str(data_dir), "db", "check"], clock=clock) == 0
    assert "Database OK" in capsys.readouterr().out
    out = tmp_path / "copy.db"
    assert run(["--data-dir", str(data_dir), "db", "backup", "--out", str(out)], clock=clock) == 0
    assert out.exists() and out.stat().st_size > 0
    assert run(["--data-dir", str(data_dir), "db", "backup", "--out", str(out)], clock=clock) == 1


def test_demo_open_on_a_folder_with_a_team_just_opens_it(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(data_dir), "demo", "--patients", "30"]
    assert run(base, clock=clock) == 0
    capsys.readouterr()
    assert run([*base, "--open"], clock=clock) == 0
    assert "already holds a team (30 patients); opening it" in capsys.readouterr().out
    assert run(base, clock=clock) == 1  # without --open a second demo is refused


def test_main_opens_the_app_after_demo_open(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.main as entry

    opened: list[str | None] = []
    monkeypatch.setattr(entry, "_start_logging", lambda data_dir: None)
    monkeypatch.setattr("app.cli.main.run", lambda args, clock=None: 0)
    monkeypatch.setattr(entry, "gui_main", lambda data_dir=None: opened.append(data_dir) or 0)
    assert entry.main(["--data-dir", str(data_dir), "demo", "--open"]) == 0
    assert opened == [str(data_dir)]
