"""The service directory editor: add, edit and deactivate services; refusals shown."""

from __future__ import annotations

import pytest

from app.services import directory
from app.services.reference import seeded_service_id
from app.ui.dialogs.directory import DirectoryDialog
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def dialog(qtbot, shell) -> DirectoryDialog:
    d = DirectoryDialog(shell)
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: d.data is not None, timeout=WAIT_MS)
    return d


def _select(d: DirectoryDialog, service_id: str) -> None:
    row = next(n for n, s in enumerate(d.services.rows()) if s.id == service_id)
    d.table.selectRow(row)


def test_add_a_service(qtbot, ctx, dialog) -> None:
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=WAIT_MS)
    assert "Service name is required." in dialog.error.text()
    dialog.kind.setCurrentIndex(dialog.kind.findData("BEFRIENDING"))
    dialog.name.setText("Coalville Tea and Talk")
    dialog.locality.setCurrentIndex(dialog.locality.findData("North West Leicestershire"))
    dialog.response_days.setValue(3)
    with qtbot.waitSignal(dialog.service_saved, timeout=WAIT_MS) as saved:
        dialog.save_button.click()
    added = saved.args[0]
    assert (added.code, added.locality, added.response_days) == (
        "coalville-tea-and-talk", "North West Leicestershire", 3
    )  # fmt: skip
    qtbot.waitUntil(
        lambda: dialog.form_box.title() == "Edit: Coalville Tea and Talk", timeout=WAIT_MS
    )
    assert "Added by the team" in dialog.state.text()


def test_edit_then_deactivate_a_seeded_service(qtbot, ctx, dialog) -> None:
    fcp = seeded_service_id("first-contact-plus")
    _select(dialog, fcp)
    assert "Shipped with CareCoord" in dialog.state.text()
    dialog.contact.setText("0116 305 0005")
    with qtbot.waitSignal(dialog.service_saved, timeout=WAIT_MS):
        dialog.save_button.click()
    with qtbot.waitSignal(dialog.service_saved, timeout=WAIT_MS) as saved:
        dialog.active_button.click()
    assert not saved.args[0].active
    qtbot.waitUntil(lambda: dialog.active_button.text() == "Re&activate", timeout=WAIT_MS)
    assert dialog.show_inactive.isChecked()  # so the service stays in view
    dialog.shell.runner.wait()  # its reads share the in-memory database's connection
    with ctx.db.read() as s:
        assert fcp not in {x.id for x in directory.list_services(s)}
        assert directory.get_service(s, service_id=fcp).contact == "0116 305 0005"
