"""``carecoord report weekly|mdt``: JSON contract, PDFs, and refusals that write nothing."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import keyring
import pytest
from pypdf import PdfReader

from app.cli.main import run
from app.context import open_context
from app.core.clock import FixedClock
from app.core.paths import AppPaths
from app.core.secrets import default_namespace
from app.models import MdtItem, MdtMeeting, Patient, Setting
from app.services.caseload import add_coordinator
from tests.conftest import MemoryKeyring

NHS = "9991408916"
SECTION_KEYS = {
    "week": None,
    "as_of": None,
    "period": {"start", "end"},
    "post_discharge": {
        "discharges", "met", "missed", "pending", "excluded", "pct_within_48h", "target_pct",
    },
    "readmissions_30d": {"eligible", "readmitted", "rate_pct"},
    "caseload": {"open_episodes", "opened", "closed", "by_coordinator", "by_level"},
    "referrals": {"made", "by_service_kind", "by_status"},
    "assessments": {"completed", "reviews_due"},
    "carers": {"identified", "assessment_offered"},
    "mdt": {"meetings", "actions_open"},
    "tasks": {"overdue"},
}  # fmt: skip


def cli(data_dir: Path, clock: FixedClock, *args: str) -> int:
    return run(["--data-dir", str(data_dir), *args], clock=clock)


def out_of(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[tuple[str, str], str]]:
    """A data folder with a patient discharged Tue 17/11 and called back within 48 h, and one
    discharged Fri 20/11 and not called (built once, copied for each test)."""
    root = tmp_path_factory.mktemp("report")
    backend, previous = MemoryKeyring(), keyring.get_keyring()
    keyring.set_keyring(backend)  # the data folder's key is kept with the template
    data_dir, clock = root / "data", FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    csv = root / "discharges.csv"
    csv.write_text(
        "nhs_number,discharge_datetime,family_name,given_name,date_of_birth,gp_practice\n"
        f"{NHS},17/11/2026 10:00,Testperson,Margaret,01/02/1940,Ashby Medical Centre\n"
        "9995968533,20/11/2026 10:00,Sampleton,Arthur,03/04/1938,Ashby Medical Centre\n",
        encoding="utf-8",
    )
    assert cli(data_dir, clock, "import", "discharges", str(csv)) == 0
    assert cli(
        data_dir, clock, "call", "log", "--nhs", NHS, "--at", "2026-11-18T09:00",
        "--outcome", "contacted_patient",
    ) == 0  # fmt: skip
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


def test_weekly_json_has_every_key_of_the_contract(
    team: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ("report", "weekly", "--week", "2026-W47", "--as-of", "2026-11-23T08:00Z", "--json")
    assert cli(team, clock, *args) == 0
    text = out_of(capsys)
    data = json.loads(text)
    for key, inner in SECTION_KEYS.items():
        assert key in data
        if inner is not None:
            assert inner <= set(data[key]), key
    assert data["week"] == "2026-W47" and data["as_of"] == "2026-11-23T08:00:00Z"
    pd = data["post_discharge"]
    assert (pd["discharges"], pd["met"], pd["missed"], pd["pct_within_48h"]) == (2, 1, 1, 50.0)
    assert pd["target_pct"] == 84.0
    assert len(data["trend"]) == 12
    assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"  # keys sorted
    assert "Testperson" not in text and NHS not in text
    assert cli(team, clock, *args) == 0
    assert out_of(capsys) == text  # --as-of makes the report repeatable


def test_weekly_pdf_with_named_appendix(
    team: Path, clock: FixedClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _ctx(team, clock) as ctx, ctx.db.write() as s:
        coordinator = add_coordinator(s, name="Priya Lead")
        s.add(Setting(key="coordinator_id", value=coordinator.id))
    pdf = tmp_path / "weekly.pdf"
    code = cli(
        team, clock, "report", "weekly", "--week", "2026-W47", "--out", str(pdf),
        "--named-appendix",
    )  # fmt: skip
    assert code == 0
    assert "written to" in out_of(capsys)
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "2026-W47" in text
    assert "SAMPLETON, Arthur" in text  # the overdue call, in the appendix
    assert "Priya Lead" in text


def test_weekly_default_prints_headline(
    team: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli(team, clock, "report", "weekly", "--as-of", "2026-11-22T12:00") == 0
    out = out_of(capsys)
    assert "Week 2026-W47" in out and "84% target" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["weekly", "--week", "2026-47"], "not an ISO week"),
        (["weekly", "--week", "2025-W53"], "not an ISO week"),
        (["weekly", "--week", "2026-W49"], "starts after"),
        (["weekly", "--as-of", "2026-11-24T10:00"], "in the future"),
        (["weekly", "--as-of", "yesterday"], "--as-of"),
        (["weekly", "--out", "missing/folder/w.pdf"], "does not exist"),
        (["mdt", "--date", "2026-11-22", "--out", "x.pdf"], "No MDT meeting on 22/11/2026"),
        (["mdt", "--date", "2026-11-23", "--out", "x.pdf"], "choose one with --meeting"),
        (["mdt", "--meeting", "nope", "--out", "x.pdf"], "No MDT meeting with id nope"),
        (["mdt", "--date", "31/02/2026", "--out", "x.pdf"], "--date"),
        (["mdt", "--date", "2026-11-23", "--out", "missing/x.pdf"], "does not exist"),
    ],
)
def test_report_refusals_exit_1_and_write_nothing(
    team: Path,
    clock: FixedClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    words: str,
) -> None:
    with _ctx(team, clock) as ctx, ctx.db.write() as s:
        for _ in range(2):
            s.add(MdtMeeting(meeting_date=date(2026, 11, 23), created_at=clock.now()))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli(team, clock, "db", "dump") == 0
    before = out_of(capsys)
    assert cli(team, clock, "report", *args) == 1
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()
    assert cli(team, clock, "db", "dump") == 0
    assert out_of(capsys) == before


def test_mdt_pdf_by_date(
    team: Path, clock: FixedClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _ctx(team, clock) as ctx, ctx.db.write() as s:
        m = MdtMeeting(
            meeting_date=date(2026, 11, 24), level="practice", practice_code=None,
            venue="Surgery", created_at=datetime(2026, 11, 20, tzinfo=UTC),
        )  # fmt: skip
        s.add(m)
        s.flush()
        patient = s.query(Patient).filter(Patient.nhs_number == NHS).one()
        s.add(MdtItem(meeting_id=m.id, patient_id=patient.id, position=1, reason="Discharge"))
    pdf = tmp_path / "mdt.pdf"
    assert cli(team, clock, "report", "mdt", "--date", "2026-11-24", "--out", str(pdf)) == 0
    assert "MDT summary for 24/11/2026" in out_of(capsys)
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "TESTPERSON, Margaret" in text
    assert "CareCoord" in text  # printed by the application: nobody is signed in


def _ctx(data_dir: Path, clock: FixedClock):  # type: ignore[no-untyped-def]
    from contextlib import closing

    return closing(open_context(AppPaths(data_dir), clock=clock))
