"""A date typed as dd/mm/yyyy (or ISO), with a calendar to pick from; it may be left empty."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from app.core.errors import ValidationError
from app.core.validation import parse_date


class DateField(QWidget):
    changed = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._build()
        self._connect()

    def _build(self) -> None:
        self.edit = QLineEdit()
        self.edit.setAccessibleName(self._name)
        self.edit.setPlaceholderText(self.tr("dd/mm/yyyy"))
        self.edit.setMaximumWidth(130)
        self.calendar = QCalendarWidget()
        self.calendar.setGridVisible(True)
        self.calendar.setAccessibleName(self.tr("Calendar for %1").replace("%1", self._name))
        self.menu = QMenu(self)
        holder = QWidgetAction(self.menu)
        holder.setDefaultWidget(self.calendar)
        self.menu.addAction(holder)
        self.pick = QToolButton()
        self.pick.setText("…")
        self.pick.setAccessibleName(self.tr("Pick %1 from a calendar").replace("%1", self._name))
        self.pick.setToolTip(self.tr("Pick from a calendar"))
        self.pick.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.pick.setMenu(self.menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.pick)
        layout.addStretch(1)
        self.setFocusProxy(self.edit)

    def _connect(self) -> None:
        self.calendar.clicked.connect(self._picked)
        self.calendar.activated.connect(self._picked)
        self.edit.textChanged.connect(self.changed)
        self.menu.aboutToShow.connect(self._sync_calendar)

    def _sync_calendar(self) -> None:
        try:
            current = self.value()
        except ValidationError:
            current = None
        if current is not None:
            self.calendar.setSelectedDate(QDate(current.year, current.month, current.day))

    def _picked(self, day: QDate) -> None:
        self.set_value(date(day.year(), day.month(), day.day()))
        self.menu.hide()

    def value(self, *, field: str = "date") -> date | None:
        """The date typed, None when empty; ValidationError when it is not a date."""
        text = self.edit.text().strip()
        return parse_date(text, field=field) if text else None

    def set_value(self, value: date | None) -> None:
        self.edit.setText(value.strftime("%d/%m/%Y") if value is not None else "")

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:
        self.edit.setText(text)
