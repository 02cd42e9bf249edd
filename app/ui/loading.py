"""What the main window's content area shows while the team's data is being opened (keys,
checks, migration): a plain statement of what is happening, and then, if the data cannot be
opened, why."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget


class LoadingPage(QWidget):
    first_painted = Signal()  # once, when the page has been drawn the first time

    def __init__(self, data_folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._painted = False
        self.setObjectName("loading")
        self.title = QLabel(self.tr("Opening your team's data…"))
        self.title.setObjectName("screenTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel(
            self.tr("Unlocking and checking the database in %1.").replace("%1", data_folder)
        )
        self.detail.setObjectName("hint")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no percentage to give: it moves to say work goes on
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(260)
        self.busy.setAccessibleName(self.tr("Opening the data"))
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addSpacing(12)
        layout.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.setAccessibleName(self.tr("Opening your team's data"))

    @property
    def painted(self) -> bool:
        return self._painted

    @property
    def failed(self) -> bool:
        return self.busy.isHidden()

    def show_failure(self, title: str, message: str) -> None:
        """The data could not be opened: say so here too (the window stays until it closes)."""
        self.title.setText(title)
        self.detail.setText(message)
        self.busy.hide()
        self.setAccessibleName(title)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()
