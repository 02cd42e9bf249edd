"""Progress and cancel for long background jobs (PDFs, bundles, backups).

A job run by the Runner reports through :meth:`ProgressPanel.reporter`: a plain callback
``report(done, total, message)`` that is safe to call from the worker thread (it emits a
queued signal) and raises :class:`Cancelled` once the user has pressed Cancel, which abandons
the job (services and renderers leave nothing half-written when their callback raises).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.core.errors import CareCoordError

Report = Callable[[int, int, str], None]


class Cancelled(CareCoordError):
    """Raised inside a job when the user pressed Cancel (a refusal, not a fault: the worker
    reports it without logging a traceback)."""

    def __init__(self) -> None:
        super().__init__("Cancelled; nothing was written.")


class _Relay(QObject):
    progressed = Signal(int, int, str)


class ProgressPanel(QWidget):
    """A one-line progress strip: what is happening, a bar and a Cancel button. Hidden while
    idle."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._cancel = threading.Event()
        self._build()
        self._connect()
        self.hide()

    def _build(self) -> None:
        self.label = QLabel()
        self.label.setAccessibleName(self.tr("What is happening"))
        self.bar = QProgressBar()
        self.bar.setAccessibleName(self.tr("Progress"))
        self.bar.setMaximumWidth(260)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the work in progress"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)

    def _connect(self) -> None:
        self._relay.progressed.connect(self._show_progress)
        self.cancel_button.clicked.connect(self.cancel)

    def start(self, text: str, *, cancellable: bool = True, raises: bool = True) -> Report:
        """Show the strip and return the callback for the job. With ``raises`` the callback
        raises :class:`Cancelled` once Cancel is pressed; services that poll
        :meth:`cancelled_check` themselves are given ``raises=False``."""
        self._cancel = threading.Event()
        cancel = self._cancel
        relay = self._relay
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first report
        self.cancel_button.setEnabled(cancellable)
        self.cancel_button.setVisible(cancellable)
        self.show()

        def report(done: int, total: int, message: str = "") -> None:
            if raises and cancel.is_set():
                raise Cancelled()
            relay.progressed.emit(done, total, message)

        return report

    def cancelled_check(self) -> Callable[[], bool]:
        """A thread-safe "has Cancel been pressed?" for the job started last."""
        return self._cancel.is_set

    def cancel(self) -> None:
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self.label.setText(self.tr("Cancelling…"))
        self.cancel_requested.emit()

    def finish(self) -> None:
        self.hide()

    def _show_progress(self, done: int, total: int, message: str) -> None:
        if self._cancel.is_set():
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        if message:
            self.label.setText(message)
