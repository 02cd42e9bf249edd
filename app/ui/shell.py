"""What every screen and dialog is given: the context, the background runner, who is signed in,
and a way to ask the main window to show something."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from app.context import AppContext
    from app.ui.workers import Runner


class Shell(QObject):
    patient_requested = Signal(str)  # a patient id to show
    screen_requested = Signal(str)  # a registry key
    new_patient_requested = Signal()
    coordinator_changed = Signal()
    # the database file is about to be replaced (a backup restored): background work such as
    # the integrity check must stop first
    background_stop_requested = Signal()
    background_resume_requested = Signal()  # the file is back: what is due may run again

    def __init__(self, ctx: AppContext, runner: Runner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = runner
        self.coordinator_id: str | None = None
        self.coordinator_name: str | None = None

    def now(self) -> datetime:
        return self.ctx.clock.now()

    def open_patient(self, patient_id: str) -> None:
        self.patient_requested.emit(patient_id)

    def show_screen(self, key: str) -> None:
        self.screen_requested.emit(key)

    def set_coordinator(self, coordinator_id: str | None, name: str | None) -> None:
        if (coordinator_id, name) == (self.coordinator_id, self.coordinator_name):
            return
        self.coordinator_id, self.coordinator_name = coordinator_id, name
        self.coordinator_changed.emit()
