"""The entry point: opening the desktop app skips the command line's modules; everything else
goes through the full parser, as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import app.main as entry


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], (True, None)),
        (["--data-dir", "/some/folder"], (True, "/some/folder")),
        (["--data-dir=/some/folder"], (True, "/some/folder")),
        (["--data-dir", "-x"], (False, None)),  # a usage error, reported by the parser
        (["--data", "/some/folder"], (False, None)),  # an abbreviation: the parser decides
        (["--version"], (False, None)),
        (["--help"], (False, None)),
        (["--smoke-test"], (False, None)),
        (["--data-dir", "/f", "demo", "--open"], (False, None)),
        (["db", "check"], (False, None)),
    ],
)
def test_only_plain_desktop_starts_take_the_short_way(args, expected) -> None:
    assert entry._desktop_only(args) == expected


@pytest.mark.parametrize("args", [[], ["--data-dir", "D"], ["--data-dir=D"], ["--data", "D"]])
def test_every_desktop_start_reaches_the_app_with_its_folder(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str | None] = []
    monkeypatch.setattr(entry, "_start_logging", lambda _d: None)
    monkeypatch.setattr(entry, "gui_main", lambda data_dir=None: opened.append(data_dir) or 0)
    assert entry.main(args) == 0
    assert opened == ([None] if not args else ["D"])


def test_version_and_usage_errors_still_come_from_the_parser(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        entry.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("CareCoord ")
    with pytest.raises(SystemExit) as info:
        entry.main(["--data-dir", "-x"])
    assert info.value.code == 2


def test_the_smoke_test_still_passes(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "app", "--smoke-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "main window built" in done.stdout
