"""Sync screen: create the team key, export a bundle ("safe to remove" after the read-back),
import a colleague's bundle with a clear result, refuse a file that is not a bundle, and
resolve a conflict by typing the merged value."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.context import open_memory_context
from app.core.paths import AppPaths
from app.services import caseload, sync
from app.ui.screens.sync import SyncScreen
from tests.ui.conftest import WAIT_MS

PASSPHRASE = "a long shared passphrase"


@pytest.fixture
def screen(qtbot, ctx, tmp_path, window) -> SyncScreen:
    ctx.paths = AppPaths(tmp_path / "data")  # refused files are moved aside in here
    s = window.show_screen("sync")
    assert isinstance(s, SyncScreen)
    qtbot.waitUntil(lambda: s.data is not None, timeout=WAIT_MS)
    return s


def _create_team(qtbot, screen: SyncScreen) -> None:
    assert not screen.export_button.isEnabled()
    assert "no team key yet" in screen.summary.text()
    screen.team.label.setText("Amira's laptop")
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.team.create_team_key()
    assert screen.data.status.team_id is not None
    assert screen.export_button.isEnabled()
    assert screen.team.devices.index(0, 0).data() == "Amira's laptop (this laptop)"


def _phone(screen: SyncScreen, patient_id: str) -> str | None:
    screen.shell.runner.wait()  # the window's reads share the in-memory database's connection
    ctx = screen.shell.ctx
    with ctx.db.read() as s:
        return caseload.patient_view(s, patient_id=patient_id, now=ctx.clock.now()).phone


def test_export_then_import_a_colleagues_changes_and_resolve_a_conflict(
    qtbot, ctx, clock, team, tmp_path, screen
) -> None:
    _create_team(qtbot, screen)
    usb = tmp_path / "usb"
    usb.mkdir()
    with qtbot.waitSignal(screen.bundle_exported, timeout=WAIT_MS) as exported:
        screen.export_to(usb)
    first = Path(exported.args[0].path)
    assert first.parent == usb and first.exists()
    assert screen.export_result.text().startswith("Safe to remove: " + first.name)
    qtbot.waitUntil(lambda: screen.data.status.unexported_ops == 0, timeout=WAIT_MS)

    # a colleague's laptop: joins with the key file, takes the bundle, edits the same field
    key_file = tmp_path / "team.cckey"
    screen.shell.runner.wait()
    sync.export_key(ctx, key_file, PASSPHRASE)
    other = open_memory_context(clock=clock)
    try:
        sync.import_key(other, key_file, PASSPHRASE, label="Ben's laptop")
        assert sync.import_bundles(other, [first])[0].ok
        with other.db.write() as s:
            caseload.update_patient(
                s, patient_id=team.overdue, now=clock.now(), phone="07700 900111"
            )
        theirs = sync.export_bundle(other, out=usb / "from-ben.ccb").path
    finally:
        other.close()
    screen.shell.runner.wait()
    with ctx.db.write() as s:
        caseload.update_patient(s, patient_id=team.overdue, now=clock.now(), phone="0116 496 0222")

    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        screen.import_files([theirs])
    (row,) = screen.results
    assert row.ok and row.sender == "Ben's laptop" and row.enrolled
    assert "1 of 1 bundle(s) imported" in screen.import_summary.text()
    assert "from Ben's laptop" in screen.import_summary.text()
    assert "1 conflict(s) to resolve" in screen.import_summary.text()
    assert screen.conflicts_box.title() == "Conflicts to resolve (1)"

    panel = screen.conflicts
    conflict = panel.selected()
    assert conflict is not None
    assert panel.heading.text() == "Patient — ASHWORTH, Doreen: Phone"
    values = {panel.heads.index(r, 0).data(): panel.heads.index(r, 1).data() for r in range(2)}
    assert values == {"07700 900111": "Ben's laptop", "0116 496 0222": "Amira's laptop"}
    panel.merged.setText("0116 496 0222 (home), 07700 900111 (mobile)")
    with qtbot.waitSignal(screen.loaded, timeout=WAIT_MS):
        panel.merge_button.click()
    assert screen.data.conflicts == ()
    assert screen.conflicts_box.title() == "Conflicts"
    assert _phone(screen, team.overdue) == "0116 496 0222 (home), 07700 900111 (mobile)"


def test_a_file_that_is_not_a_bundle_is_refused_and_moved_aside(
    qtbot, ctx, tmp_path, screen
) -> None:
    _create_team(qtbot, screen)
    junk = tmp_path / "holiday.ccb"
    junk.write_bytes(b"not a bundle at all")
    with qtbot.waitSignal(screen.bundles_imported, timeout=WAIT_MS) as imported:
        screen.import_files([junk])
    (row,) = imported.args[0]
    assert not row.ok and row.reason == "not a bundle"
    assert screen.result_model.index(0, 2).data() == "Refused"
    assert "refused and moved aside" in screen.import_summary.text()
    assert not junk.exists()
    assert row.moved_to is not None and Path(row.moved_to).parent == ctx.paths.rejected_dir


def test_exporting_without_changes_says_so(qtbot, tmp_path, screen) -> None:
    _create_team(qtbot, screen)
    with qtbot.waitSignal(screen.bundle_exported, timeout=WAIT_MS):
        screen.export_to(tmp_path)
    with qtbot.waitSignal(screen.bundle_exported, timeout=WAIT_MS) as again:
        screen.export_to(tmp_path)
    assert again.args[0].path is None
    assert screen.export_result.text().startswith("Nothing new to export")


def test_a_wrong_passphrase_for_a_key_file_is_refused(qtbot, ctx, tmp_path, screen) -> None:
    _create_team(qtbot, screen)
    key_file = tmp_path / "team.cckey"
    screen.team.export_key_to(key_file, PASSPHRASE)
    qtbot.waitUntil(
        lambda: "Key file team.cckey written" in screen.team.message.text(), timeout=WAIT_MS
    )
    other = open_memory_context()
    try:
        with pytest.raises(Exception, match="passphrase"):
            sync.import_key(other, key_file, "not the passphrase")
    finally:
        other.close()
    screen.team.import_key_from(key_file, "not the passphrase")
    qtbot.waitUntil(lambda: "passphrase" in screen.team.message.text(), timeout=WAIT_MS)
