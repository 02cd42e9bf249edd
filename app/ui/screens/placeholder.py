"""A page for a screen whose desktop form is still to be built: it says what it is for and how
to do that work today."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout

from app.ui.screens.base import Screen
from app.ui.shell import Shell


class PlaceholderScreen(Screen):
    def __init__(self, shell: Shell, title: str, purpose: str, meanwhile: str) -> None:
        super().__init__(shell)
        self._title, self._purpose, self._meanwhile = title, purpose, meanwhile
        self._build()

    def _build(self) -> None:
        heading = QLabel(self._title)
        heading.setObjectName("screenTitle")
        purpose = QLabel(self._purpose)
        purpose.setWordWrap(True)
        meanwhile = QLabel(self._meanwhile)
        meanwhile.setWordWrap(True)
        meanwhile.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        meanwhile.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(purpose)
        layout.addSpacing(12)
        layout.addWidget(meanwhile)
        layout.addStretch(1)
        self.setAccessibleName(self._title)


def placeholder(title: str, purpose: str, meanwhile: str) -> Callable[[Shell], Screen]:
    """A registry factory; texts are translated in the "Screens" context when built."""

    def build(shell: Shell) -> Screen:
        t = QCoreApplication.translate
        return PlaceholderScreen(
            shell, t("Screens", title), t("Screens", purpose), t("Screens", meanwhile)
        )

    return build
