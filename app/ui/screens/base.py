"""The small contract between the main window and its screens."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.ui.shell import Shell


class Screen(QWidget):
    """A page of the main window. ``refresh`` reloads its data (in the background); the window
    calls it when the page is shown and after every saved change while it is visible."""

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.stale = True

    def refresh(self) -> None:
        self.stale = False

    def log_call(self) -> bool:
        """Open the Log call dialog for the selection; False when there is nothing to log."""
        return False

    def focus_search(self) -> bool:
        return False
