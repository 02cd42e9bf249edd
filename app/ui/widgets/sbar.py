"""The structured discussion of one patient at an MDT: situation, background, assessment,
recommendation (SBAR)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPlainTextEdit, QWidget

from app.services.mdt import ItemView

FIELDS = ("situation", "background", "assessment", "recommendation")


class SbarEditor(QWidget):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.dirty = False
        self._build()
        self._connect()

    def _build(self) -> None:
        captions = {
            "situation": self.tr("&Situation"),
            "background": self.tr("&Background"),
            "assessment": self.tr("Asse&ssment"),
            "recommendation": self.tr("Recommendat&ion"),
        }
        hints = {
            "situation": self.tr("What is happening now"),
            "background": self.tr("What led here: history, context"),
            "assessment": self.tr("What the team thinks the problem is"),
            "recommendation": self.tr("What the team agrees to do"),
        }
        self.edits: dict[str, QPlainTextEdit] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for n, name in enumerate(FIELDS):
            label = QLabel(captions[name])
            label.setObjectName("factKey")
            edit = QPlainTextEdit()
            edit.setAccessibleName(captions[name].replace("&", ""))
            edit.setPlaceholderText(hints[name])
            edit.setTabChangesFocus(True)
            label.setBuddy(edit)
            self.edits[name] = edit
            grid.addWidget(label, (n // 2) * 2, n % 2)
            grid.addWidget(edit, (n // 2) * 2 + 1, n % 2)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(3, 1)

    def _connect(self) -> None:
        for edit in self.edits.values():
            edit.textChanged.connect(self._changed)

    def _changed(self) -> None:
        if not self._loading:
            self.dirty = True
            self.edited.emit()

    def show_item(self, item: ItemView | None) -> None:
        self._loading = True
        try:
            for name, edit in self.edits.items():
                edit.setPlainText((getattr(item, name) or "") if item is not None else "")
                edit.setEnabled(item is not None)
        finally:
            self._loading = False
        self.dirty = False

    def values(self) -> dict[str, str | None]:
        return {name: edit.toPlainText().strip() or None for name, edit in self.edits.items()}
