"""Background maintenance in the desktop app: the full integrity check and the daily backup
that start-up left for later on a large database (``ctx.maintenance_due``, see
:func:`app.context.maintain`).

Started once the data is open and the first screen is up; nothing runs when nothing is due
(the full check is weekly, or after an unclean shutdown; the backup daily). It runs on the
runner's thread for long jobs (so a restore from Settings, which stops it and waits for the
runner, never replaces the file under it; and screens go on refreshing meanwhile) and only
reads the database. Progress shows in a small label in the status
bar ("Checking your data…", then "Data checked 26/11/2026 02:30"). Damage gives one clear
message naming the problem and the backup to restore. Closing the window stops it: the check
concludes nothing and the backup, written under a temporary name, is discarded.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QMessageBox

from app.context import DAILY_BACKUP, FULL_CHECK, MaintenanceResult, maintain
from app.db.integrity import DamagedDatabaseError
from app.ui import format as fmt

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class Maintenance(QObject):
    """Runs the due maintenance for ``window`` once, and reports it in its status bar."""

    finished = Signal(object)  # MaintenanceResult, or the exception that stopped it
    damage_found = Signal(str)  # the message shown

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._cancel = threading.Event()
        self._resume_after = False
        self.started = False
        self.running = False
        self.result: MaintenanceResult | None = None
        self.message_box: QMessageBox | None = None
        self.label = QLabel()
        self.label.setObjectName("maintenance-status")
        self.label.setAccessibleName(self.tr("Data check"))
        self.label.hide()
        window.statusBar().insertPermanentWidget(0, self.label)

    @property
    def due(self) -> tuple[str, ...]:
        ctx = self._window.ctx
        return () if ctx.in_memory else tuple(ctx.maintenance_due)

    def start(self) -> bool:
        """Start the due maintenance in the background; False when nothing is due (or it
        has already been started, or the window is closing)."""
        due = self.due
        if self.started or not due or self._cancel.is_set():
            return False
        self.started = True
        self.running = True
        if FULL_CHECK in due:
            self._show(self.tr("Checking your data…"))
        elif DAILY_BACKUP in due:
            self._show(self.tr("Backing up your data…"))
        job = partial(maintain, self._window.ctx, cancel=self._cancel.is_set)
        self._window.runner.background(job, on_success=self._succeeded, on_failure=self._failed)
        return True

    def cancel(self) -> None:
        """The window is closing, or a backup is about to be restored: stop soon (nothing
        half-done is kept)."""
        self._resume_after = False
        self._cancel.set()

    def resume(self) -> None:
        """After a restore (or a refused one): start again with what is due now, as soon as
        the stopped run has reported."""
        if self.running:
            self._resume_after = True
            return
        self._cancel.clear()
        self.started = False
        self.start()

    def _reported(self, outcome: object) -> None:
        self.finished.emit(outcome)
        if self._resume_after:
            self._resume_after = False
            self.resume()

    def _show(self, text: str, tooltip: str = "") -> None:
        self.label.setText(text)
        self.label.setToolTip(tooltip)
        self.label.setVisible(bool(text))

    def _succeeded(self, result: MaintenanceResult) -> None:
        self.running = False
        self.result = result
        if result.cancelled:
            self._show("")
        else:
            details: list[str] = []
            if result.checked_at is not None:
                text = self.tr("Data checked %1").replace("%1", fmt.when(result.checked_at))
                details.append(self.tr("Full integrity check passed."))
            elif result.backup:
                text = self.tr("Data backed up %1").replace(
                    "%1", fmt.when(self._window.ctx.clock.now())
                )
            else:  # the daily backup failed: the warning says why
                text = self.tr("Daily backup not made")
            if result.backup:
                details.append(self.tr("Daily backup made: %1").replace("%1", result.backup))
            details.extend(result.warnings)
            self._show(text, "\n".join(details))
            for warning in result.warnings:
                self._window.statusBar().showMessage(warning, 30_000)
        self._reported(result)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        if isinstance(exc, DamagedDatabaseError):
            self._show(self.tr("Data check found damage"), str(exc))
            self._report_damage(str(exc))
        elif not self._cancel.is_set():
            message = self.tr("The data check could not finish: %1").replace("%1", str(exc))
            self._show(self.tr("Data check did not finish"), message)
            self._window.statusBar().showMessage(message, 30_000)
        else:
            self._show("")
        self._reported(exc)

    def _report_damage(self, message: str) -> None:
        if self.message_box is not None:  # one message, however often it is found
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            self.tr("CareCoord found a problem in your data"),
            message,
            QMessageBox.StandardButton.Ok,
            self._window,
        )
        box.setInformativeText(
            self.tr(
                "To restore a backup: Settings, Backups, select it, Restore (the damaged file "
                "is kept aside). Until then, avoid entering new work on this laptop."
            )
        )
        self.message_box = box
        box.open()
        self.damage_found.emit(message)
