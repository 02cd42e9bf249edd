"""``carecoord key init | export | import | revoke | list`` as a user runs them."""

from __future__ import annotations

import getpass
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli.main import run
from app.core import secrets
from app.core.clock import FixedClock

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "ARGON2_MEMORY_COST_KIB", 8)
    monkeypatch.setattr(secrets, "ARGON2_ITERATIONS", 1)
    monkeypatch.setattr(secrets, "ARGON2_LANES", 1)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def cli(folder: Path, *args: str) -> int:
    return run(
        ["--data-dir", str(folder), *args],
        clock=FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
    )


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "a", tmp_path / "b"


def _team_of_two(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    a, b = folders
    monkeypatch.setenv("CARECOORD_PASSPHRASE", PASSPHRASE)
    assert cli(a, "key", "init", "--label", "Laptop A") == 0
    key_file = tmp_path / "team.cck"
    assert cli(a, "key", "export", "--out", str(key_file)) == 0
    assert cli(b, "key", "import", str(key_file), "--label", "Laptop B") == 0
    return key_file


def test_init_export_and_import_hand_the_team_key_over(
    folders: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = folders
    monkeypatch.setenv("CARECOORD_PASSPHRASE", PASSPHRASE)
    assert cli(a, "key", "init", "--label", "Laptop A") == 0
    out = capsys.readouterr().out
    team = out.split("(team ")[1][:8]
    assert "Laptop A, fingerprint" in out

    assert cli(a, "key", "init") == 1
    assert "already holds a team key" in capsys.readouterr().err

    key_file = tmp_path / "team.cck"
    assert cli(a, "key", "export", "--out", str(key_file)) == 0
    assert "1 laptop(s) written" in capsys.readouterr().out
    assert PASSPHRASE not in key_file.read_text()
    assert cli(a, "key", "export", "--out", str(key_file)) == 1
    assert "already exists" in capsys.readouterr().err

    assert cli(b, "key", "import", str(key_file), "--label", "Laptop B") == 0
    out = capsys.readouterr().out
    assert f"Joined team {team}" in out and "lists 1 laptop(s)" in out
    assert cli(b, "sync", "status") == 0
    assert f"Team: {team}, key epoch 1" in capsys.readouterr().out
    assert cli(b, "key", "list") == 0
    listing = capsys.readouterr().out
    assert "Laptop B" in listing and "(this laptop)" in listing and "Laptop A" not in listing


def test_a_wrong_passphrase_imports_nothing(
    folders: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = folders
    monkeypatch.setenv("CARECOORD_PASSPHRASE", PASSPHRASE)
    assert cli(a, "key", "init") == 0
    key_file = tmp_path / "team.cck"
    assert cli(a, "key", "export", "--out", str(key_file)) == 0
    capsys.readouterr()
    monkeypatch.setenv("CARECOORD_PASSPHRASE", "not the passphrase")
    assert cli(b, "key", "import", str(key_file)) == 1
    assert "passphrase does not unlock the key file team.cck" in capsys.readouterr().err
    assert cli(b, "sync", "status") == 0
    assert "Team key: none" in capsys.readouterr().out


def test_export_needs_a_passphrase_typed_the_same_twice(
    folders: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, _ = folders
    assert cli(a, "key", "init") == 0
    key_file = tmp_path / "team.cck"
    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert cli(a, "key", "export", "--out", str(key_file)) == 1
    assert "CARECOORD_PASSPHRASE" in capsys.readouterr().err

    answers = iter(["first try", "second try"])
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert cli(a, "key", "export", "--out", str(key_file)) == 1
    assert "passphrases differ" in capsys.readouterr().err
    assert not key_file.exists()

    answers = iter(["same", "same"])
    assert cli(a, "key", "export", "--out", str(key_file)) == 0
    assert key_file.exists()


def test_a_key_of_another_team_is_refused(
    folders: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_file = _team_of_two(folders, tmp_path, monkeypatch)
    other = tmp_path / "other"
    assert cli(other, "key", "init") == 0
    capsys.readouterr()
    assert cli(other, "key", "import", str(key_file)) == 1
    assert "already belongs to another team" in capsys.readouterr().err


def test_revoke_and_list(
    folders: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = folders
    _team_of_two(folders, tmp_path, monkeypatch)
    bundles = tmp_path / "stick"
    bundles.mkdir()
    assert cli(b, "sync", "export", "--out", str(bundles / "b.ccb")) == 0
    assert cli(a, "sync", "import", str(bundles / "b.ccb")) == 0
    capsys.readouterr()
    assert cli(a, "key", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("active  (this laptop)") and "Laptop A" in lines[0]
    b_id = lines[1].split()[0]
    assert "Laptop B" in lines[1] and lines[1].endswith("active")

    assert cli(a, "key", "revoke", b_id[:8], "--reason", "laptop lost") == 0
    assert "Revoked Laptop B" in capsys.readouterr().out
    assert cli(a, "key", "list") == 0
    assert "revoked Mon 23 Nov 2026 09:00 (laptop lost)" in capsys.readouterr().out
    assert cli(a, "key", "revoke", b_id) == 1
    assert "already revoked" in capsys.readouterr().err
    assert cli(a, "key", "revoke", "ffffffff") == 1
    assert "No laptop of the team" in capsys.readouterr().err

    # B does not know yet: its next bundle is refused by A
    assert cli(b, "import", "patients", str(_patients_csv(tmp_path))) == 0
    assert cli(b, "sync", "export", "--out", str(bundles / "b2.ccb")) == 0
    capsys.readouterr()
    assert cli(a, "sync", "import", str(bundles / "b2.ccb")) == 1
    assert "which has been revoked" in capsys.readouterr().err


def _patients_csv(tmp_path: Path) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(
        "nhs_number,family_name,given_name,date_of_birth\n9991408916,Testperson,Margaret,01/02/1940\n",
        encoding="utf-8",
    )
    return path
