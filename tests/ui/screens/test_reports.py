"""Reports: the weekly team summary on screen for a chosen ISO week, and saved as JSON (the
same as the service's) and as PDF, in the background."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pypdf import PdfReader

from app.services import followup
from app.services.weekly import build_weekly_summary
from app.ui.screens.reports import ReportsScreen, recent_weeks
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def screen(qtbot, window) -> ReportsScreen:
    s = window.show_screen("reports")
    assert isinstance(s, ReportsScreen)
    qtbot.waitUntil(lambda: s.summary is not None, timeout=WAIT_MS)
    return s


def test_weeks_offered_start_with_this_week(clock) -> None:
    weeks = recent_weeks(clock.now().date(), 3)
    assert [w for w, _ in weeks] == ["2026-W48", "2026-W47", "2026-W46"]


def test_the_last_whole_week_is_shown_first_with_the_target(qtbot, ctx, clock, team, screen):
    assert screen.selected_week() == "2026-W47"
    s = screen.summary
    assert s is not None and s.week == "2026-W47"
    # two of the team's discharges fall in W47: one missed, one still pending
    assert screen.tile_discharges.value.text() == "2"
    assert screen.tile_48h.value.text() == "0.0%"
    assert "Target 84%" in screen.tile_48h.detail.text()
    assert len(screen.chart.values) == 12
    assert screen.chart.values[-1].label == "W47"
    assert "target 84%" in screen.chart.accessibleDescription()
    names = [screen.coordinators.index(r, 0).data() for r in range(screen.coordinators.rowCount())]
    assert names == ["Amira Shah", "Ben Okoro", "Whole team"]
    assert screen.coordinators.index(2, 4).data() == "4"


def test_choosing_another_week_recalculates(qtbot, ctx, clock, team, screen) -> None:
    screen.shell.runner.wait()  # the window's reads share the in-memory database's connection
    with ctx.db.write() as s:
        followup.log_call_attempt(
            s,
            admission_id=team.amber_admission,
            called_at=clock.now() - timedelta(hours=1),
            outcome="contacted_patient",
            now=clock.now(),
        )
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.set_week("2026-W48")
    assert screen.summary.week == "2026-W48"
    assert screen.tile_discharges.value.text() == "1"
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.previous_button.click()
    assert screen.summary.week == "2026-W47"
    assert screen.summary.post_discharge.met == 1
    assert screen.tile_48h.value.text() == "50.0%"


def test_saved_json_is_the_weekly_summary(qtbot, ctx, clock, team, tmp_path, screen) -> None:
    out = tmp_path / "week.json"
    with qtbot.waitSignal(screen.json_saved, timeout=WAIT_MS):
        screen.save_json_to(out)
    screen.shell.runner.wait()
    with ctx.db.read() as s:
        expected = build_weekly_summary(s, week="2026-W47", as_of=clock.now()).to_json_dict()
    assert json.loads(out.read_text()) == expected
    assert "Doreen" not in out.read_text()  # aggregate only


def test_saved_pdf_can_be_read(qtbot, monkeypatch, tmp_path, screen) -> None:
    opened = []
    monkeypatch.setattr("app.ui.screens.reports.open_file", opened.append)
    screen.named.setChecked(True)
    with qtbot.waitSignal(screen.pdf_saved, timeout=WAIT_MS * 2):
        screen.save_pdf_to(tmp_path / "week.pdf")
    reader = PdfReader(tmp_path / "week.pdf")
    text = "".join(p.extract_text() for p in reader.pages)
    assert "2026-W47" in text
    assert "ASHWORTH" in text  # the named appendix was asked for
    assert opened == [tmp_path / "week.pdf"]


def test_a_folder_that_cannot_be_written_is_reported(qtbot, tmp_path, screen) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    screen.save_json_to(blocker / "week.json")  # a file where a folder should be
    qtbot.waitUntil(lambda: "could not be saved" in screen.message.text(), timeout=WAIT_MS)
    assert screen.json_button.isEnabled()
