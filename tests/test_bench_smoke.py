"""The performance benchmark (``python -m bench``, DESIGN.md §6) runs end to end: it builds a
small demo database, measures every line once and prints the table. Timings are not checked
here (the benchmark itself judges them); only that every line is measured and reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = (
    "app start to first painted main window",
    "caseload filter keystroke → model updated",
    "Today view (open clocks + due tasks)",
    "weekly summary (JSON)",
    "MDT PDF",
    "export bundle of all changes (full)",
    "import of that bundle into an empty DB",
    "memory with the caseload screen open (RSS)",
)


def _bench(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bench", *args, "--cache-dir", str(cache)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_quick_run_measures_and_reports_every_line(tmp_path: Path) -> None:
    done = _bench("--quick", cache=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a budget was missed
    out = done.stdout
    assert "| operation" in out, out + done.stderr
    assert "| budget" in out and "| floor" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "operation" not in line]
    for name in OPERATIONS:
        row = next((r for r in rows if name in r), None)
        assert row is not None, f"{name!r} missing from:\n{out}"
        assert row.split("|")[-2].strip() in ("PASS", "FAIL"), row
    assert ("every budget met" in out) == (done.returncode == 0)
    assert "machine: " in out and "cores" in out
    built = list(tmp_path.glob("demo-p200-s1-*/meta.json"))
    assert len(built) == 1  # the database is kept for the next run
    assert not list(tmp_path.glob("work-*"))  # scratch files are cleaned up


def test_unknown_line_is_a_usage_error(tmp_path: Path) -> None:
    done = _bench("--only", "teleport", cache=tmp_path)
    assert done.returncode == 2
    assert "unknown line" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing built
