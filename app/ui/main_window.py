"""The main window (minimal: the real screens arrive in their own modules)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from app.context import AppContext


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.setWindowTitle(self.tr("CareCoord"))
        self.setCentralWidget(QLabel(self.tr("CareCoord")))
        self.resize(1200, 800)
