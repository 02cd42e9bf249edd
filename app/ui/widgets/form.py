"""Small pieces shared by the forms: an inline error line under a field, and date/time text
checked with app.core.validation as it is typed."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from app.core.errors import ValidationError
from app.core.timeutil import to_local
from app.core.validation import parse_date, parse_datetime


class ErrorLabel(QLabel):
    """Red text under a field; empty and hidden while the field is fine."""

    def __init__(self, about: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldError")
        self.setWordWrap(True)
        self.setAccessibleName(self.tr("Problem with %1").replace("%1", about))
        self.setStyleSheet("color: #a50e0e;")
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))

    def clear_error(self) -> None:
        self.show_error("")

    @property
    def has_error(self) -> bool:
        return bool(self.text())


def local_text(value: datetime) -> str:
    """How a time is typed in the forms: 23/11/2026 14:05 (UK time)."""
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def read_datetime(edit: QLineEdit, *, field: str, now: datetime, what: str) -> datetime:
    """The aware UTC instant typed in ``edit``; refuses impossible and future times."""
    value = parse_datetime(edit.text(), field=field)
    if value > now:
        text = QCoreApplication.translate("Form", "The %1 time %2 is in the future; it is now %3.")
        text = text.replace("%1", what).replace("%2", local_text(value))
        raise ValidationError(text.replace("%3", local_text(now)), field=field)
    return value


def read_date(edit: QLineEdit, *, field: str, today: date, what: str) -> date:
    value = parse_date(edit.text(), field=field)
    if value > today:
        text = QCoreApplication.translate("Form", "The %1 %2 is in the future.")
        raise ValidationError(
            text.replace("%1", what).replace("%2", f"{value:%d/%m/%Y}"), field=field
        )
    return value
