"""``carecoord call log``: logging, choosing the discharge, refusals that write nothing."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest

from app.cli.main import run
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.core.secrets import default_namespace
from tests.conftest import MemoryKeyring

NHS = "9991408916"
UNKNOWN = "9995968533"


def cli(data_dir: Path, clock: FixedClock, *args: str) -> int:
    return run(["--data-dir", str(data_dir), *args], clock=clock)


def dump(data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert cli(data_dir, clock, "db", "dump") == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[tuple[str, str], str]]:
    """One patient discharged twice: 10/11/2026 12:00 and 21/11/2026 14:00 (GMT); built once
    and copied for each test."""
    root = tmp_path_factory.mktemp("calls")
    backend, previous = MemoryKeyring(), keyring.get_keyring()
    keyring.set_keyring(backend)  # the data folder's key is kept with the template
    data_dir, clock = root / "data", FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    csv = root / "discharges.csv"
    csv.write_text(
        "nhs_number,discharge_datetime,admission_datetime,family_name,given_name,"
        "date_of_birth,gp_practice\n"
        f"{NHS},10/11/2026 12:00,05/11/2026 08:00,Testperson,Margaret,01/02/1940,"
        "Ashby Medical Centre\n"
        f"{NHS},21/11/2026 14:00,18/11/2026 08:00,,,,\n",
        encoding="utf-8",
    )
    assert cli(data_dir, clock, "import", "discharges", str(csv)) == 0
    keyring.set_keyring(previous)
    return data_dir, dict(backend.store)


@pytest.fixture
def team(
    template: tuple[Path, dict[tuple[str, str], str]], tmp_path: Path, memory_keyring: MemoryKeyring
) -> Path:
    data_dir, secrets = template
    copy = tmp_path / "team"
    shutil.copytree(data_dir, copy)
    # The keyring keeps a data folder's keys under a name derived from the folder's path.
    old, new = (default_namespace(AppPaths(d).key_file) for d in (data_dir, copy))
    for (service, user), secret in secrets.items():
        memory_keyring.store[(service, user.replace(old, new, 1))] = secret
    return copy


def calls(data_dir: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    return list(json.loads(dump(data_dir, clock, capsys))["call_attempts"])


def test_call_log_follows_the_latest_discharge_and_says_within_48_hours(
    team: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = cli(
        team, clock, "call", "log", "--nhs", "999 140 8916", "--at", "2026-11-22T09:30",
        "--outcome", "contacted_patient", "--issues", "medication,equipment", "--notes", "ok",
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "19.5 hours after the discharge of 21/11/2026 14:00 GMT" in out
    assert "within 48 hours" in out
    (logged,) = calls(team, clock, capsys)
    assert logged["issues"] == "medication,equipment"
    assert logged["called_at"] == "2026-11-22T09:30:00Z"
    assert logged["notes"] == "ok"
    assert NHS not in out


def test_call_log_on_an_earlier_discharge_is_late(
    team: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        team, clock, "call", "log", "--nhs", NHS, "--at", "2026-11-22 09:00",
        "--outcome", "contacted carer", "--discharge", "10/11/2026 12:00",
    )  # fmt: skip
    assert code == 0
    assert "late" in capsys.readouterr().out
    (logged,) = calls(team, clock, capsys)
    assert logged["outcome"] == "contacted_carer"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--nhs", NHS, "--at", "2026-11-09T10:00", "--outcome", "no_answer"], "before"),
        (
            ["--nhs", NHS, "--at", "2026-11-21T13:00", "--outcome", "no_answer",
             "--discharge", "2026-11-21T14:00"],
            "before the discharge",
        ),
        (["--nhs", NHS, "--at", "2026-11-23T10:00", "--outcome", "no_answer"], "in the future"),
        (["--nhs", UNKNOWN, "--at", "2026-11-22T10:00", "--outcome", "no_answer"], "No patient"),
        (["--nhs", "9991408917", "--at", "2026-11-22T10:00", "--outcome", "no_answer"],
         "check-digit"),
        (["--nhs", NHS, "--at", "2026-11-22T10:00", "--outcome", "phoned"], "voicemail"),
        (["--nhs", NHS, "--at", "2026-11-22T10:00", "--outcome", "no_answer",
          "--issues", "medication,weather"], "weather"),
        (["--nhs", NHS, "--at", "22/11/26 10:00", "--outcome", "no_answer"],
         "--at: '22/11/26 10:00' has a two-digit year"),
        (["--nhs", NHS, "--at", "2026-11-22T10:00", "--outcome", "no_answer",
          "--discharge", "2026-11-20T14:00"], "no discharge at"),
    ],
)  # fmt: skip
def test_refusals_write_nothing_and_exit_1(
    team: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    before = dump(team, clock, capsys)
    assert cli(team, clock, "call", "log", *args) == 1
    err = capsys.readouterr().err.strip()
    assert words in err
    assert len(err.splitlines()) == 1
    assert dump(team, clock, capsys) == before


def test_missing_options_are_usage_errors(
    team: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli(team, clock, "call", "log", "--nhs", NHS, "--outcome", "no_answer")
    assert info.value.code == 2
