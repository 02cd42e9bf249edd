"""``carecoord demo`` as a user runs it: fills an empty data folder, prints what it made,
refuses a folder that already holds patients, and reads --today as a UK date."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli.main import run
from app.core.clock import FixedClock


def _demo(data_dir: Path, clock: FixedClock, *args: str) -> int:
    return run(["--data-dir", str(data_dir), "demo", *args], clock=clock)


def test_demo_fills_an_empty_folder_and_refuses_to_run_twice(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _demo(data_dir, clock, "--patients", "60", "--seed", "3", "--today", "2026-11-23") == 0
    out = capsys.readouterr().out
    assert "seed 3, today 23/11/2026" in out
    assert "Patients: 60 (" in out and "Done in" in out

    assert _demo(data_dir, clock, "--patients", "60") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().count("\n") == 0
    assert "already holds 60 patients" in captured.err

    assert run(["--data-dir", str(data_dir), "db", "check"], clock=clock) == 0


def test_today_defaults_to_the_uk_date_of_the_clock(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late_evening = FixedClock(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 00:30 BST, 1 July
    assert _demo(data_dir, late_evening, "--patients", "20") == 0
    assert "today 01/07/2026" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--today", "31/02/2026"), "February 2026 has 28 days"),
        (("--today", "next week"), "not a date"),
        (("--patients", "0"), "between 1 and"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    data_dir: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    assert _demo(data_dir, clock, *args) == 1
    assert message in capsys.readouterr().err
    assert _demo(data_dir, clock, "--patients", "5", "--today", "2026-11-23") == 0


def test_a_patient_count_that_is_not_a_number_is_a_usage_error(
    data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        _demo(data_dir, clock, "--patients", "many")
    assert exc.value.code == 2
    assert "invalid int value" in capsys.readouterr().err
