"""How values look on screen: NHS numbers 3-3-4, London times, 48-hour clock colours, and the
labels of stored codes (call outcomes, issues, flags), translated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP as _QT_TRANSLATE_NOOP
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from app.core.errors import ValidationError
from app.core.timeutil import to_local
from app.core.validation import format_nhs_number

# Marks a source text for translation where it is defined; it is translated where shown.
QT_TRANSLATE_NOOP = cast(Callable[[str, str], str], _QT_TRANSLATE_NOOP)

AMBER_HOURS = 12.0

RED = QColor("#f4c7c3")
AMBER = QColor("#fce8b2")
GREEN = QColor("#d2ecd5")
RED_TEXT = QColor("#a50e0e")

_LABELS = {
    # call outcomes
    "contacted_patient": QT_TRANSLATE_NOOP("Labels", "Contacted patient"),
    "contacted_carer": QT_TRANSLATE_NOOP("Labels", "Contacted carer"),
    "no_answer": QT_TRANSLATE_NOOP("Labels", "No answer"),
    "voicemail": QT_TRANSLATE_NOOP("Labels", "Left voicemail"),
    "wrong_number": QT_TRANSLATE_NOOP("Labels", "Wrong number"),
    "declined": QT_TRANSLATE_NOOP("Labels", "Declined"),
    "readmitted": QT_TRANSLATE_NOOP("Labels", "Readmitted"),
    "deceased": QT_TRANSLATE_NOOP("Labels", "Deceased"),
    # call issues
    "medication": QT_TRANSLATE_NOOP("Labels", "Medication"),
    "equipment": QT_TRANSLATE_NOOP("Labels", "Equipment"),
    "care_package": QT_TRANSLATE_NOOP("Labels", "Care package"),
    "follow_up_appointment": QT_TRANSLATE_NOOP("Labels", "Follow-up appointment"),
    "carer_strain": QT_TRANSLATE_NOOP("Labels", "Carer strain"),
    "other": QT_TRANSLATE_NOOP("Labels", "Other"),
    # cohort flags
    "ltc5": QT_TRANSLATE_NOOP("Labels", "5+ LTCs"),
    "frailty": QT_TRANSLATE_NOOP("Labels", "Frail"),
    "high_cost": QT_TRANSLATE_NOOP("Labels", "High cost"),
    "for_mdt": QT_TRANSLATE_NOOP("Labels", "For MDT"),
    # 48-hour status
    "met": QT_TRANSLATE_NOOP("Labels", "Met"),
    "missed": QT_TRANSLATE_NOOP("Labels", "Missed"),
    "pending": QT_TRANSLATE_NOOP("Labels", "Pending"),
    "excluded": QT_TRANSLATE_NOOP("Labels", "Excluded"),
    # task kinds
    "post_discharge_call": QT_TRANSLATE_NOOP("Labels", "48-hour call"),
    "assessment_review": QT_TRANSLATE_NOOP("Labels", "Assessment review"),
    "referral_chase": QT_TRANSLATE_NOOP("Labels", "Referral chase"),
    "mdt_action": QT_TRANSLATE_NOOP("Labels", "MDT action"),
    "carers_assessment": QT_TRANSLATE_NOOP("Labels", "Carer's assessment"),
    "possible_duplicate": QT_TRANSLATE_NOOP("Labels", "Possible duplicate"),
    # task and referral states
    "open": QT_TRANSLATE_NOOP("Labels", "Open"),
    "done": QT_TRANSLATE_NOOP("Labels", "Done"),
    "cancelled": QT_TRANSLATE_NOOP("Labels", "Cancelled"),
    "draft": QT_TRANSLATE_NOOP("Labels", "Draft"),
    "sent": QT_TRANSLATE_NOOP("Labels", "Sent"),
    "acknowledged": QT_TRANSLATE_NOOP("Labels", "Acknowledged"),
    "accepted": QT_TRANSLATE_NOOP("Labels", "Accepted"),
    "no_response": QT_TRANSLATE_NOOP("Labels", "No response"),
    "completed": QT_TRANSLATE_NOOP("Labels", "Completed"),
    "not_offered": QT_TRANSLATE_NOOP("Labels", "Not offered"),
    "offered": QT_TRANSLATE_NOOP("Labels", "Offered"),
}


def tr(text: str, context: str = "Format") -> str:
    return QCoreApplication.translate(context, text)


def label(code: str | None) -> str:
    """The translated label of a stored code; unknown codes are shown readably."""
    if not code:
        return ""
    known = _LABELS.get(code)
    if known is not None:
        return QCoreApplication.translate("Labels", known)
    return code.replace("_", " ").capitalize()


def nhs(digits: str) -> str:
    try:
        return format_nhs_number(digits)
    except ValidationError:
        return digits


def when(value: datetime | None) -> str:
    """A London wall time, e.g. 23/11/2026 14:05."""
    return to_local(value).strftime("%d/%m/%Y %H:%M") if value is not None else ""


def short_when(value: datetime | None, now: datetime) -> str:
    """Compact for tables: 'Today 14:05', 'Yesterday 09:10', 'Tomorrow 09:00',
    'Fri 20 Nov 16:00', or with the year when it is not this year."""
    if value is None:
        return ""
    local, today = to_local(value), to_local(now).date()
    delta = (today - local.date()).days
    clock = local.strftime("%H:%M")
    if delta == 0:
        return tr("Today %1").replace("%1", clock)
    if delta == 1:
        return tr("Yesterday %1").replace("%1", clock)
    if delta == -1:
        return tr("Tomorrow %1").replace("%1", clock)
    if local.year == today.year:
        return local.strftime("%a %d %b %H:%M")
    return local.strftime("%d %b %Y %H:%M")


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


def rag(hours_left: float) -> str:
    """'red' when overdue, 'amber' under 12 hours, otherwise 'green'."""
    if hours_left < 0:
        return "red"
    if hours_left < AMBER_HOURS:
        return "amber"
    return "green"


RAG_COLOURS = {"red": RED, "amber": AMBER, "green": GREEN}
RAG_SWATCHES = {"red": QColor("#d5281b"), "amber": QColor("#ffb81c"), "green": QColor("#007f3b")}


def hours_left_text(hours_left: float) -> str:
    whole = int(abs(hours_left))
    minutes = round((abs(hours_left) - whole) * 60)
    if minutes == 60:
        whole, minutes = whole + 1, 0
    span = f"{whole} h {minutes:02d} m" if whole < 10 else f"{whole} h"
    if hours_left < 0:
        return tr("Overdue by %1").replace("%1", span)
    return tr("%1 left").replace("%1", span)


def rag_text(colour: str) -> str:
    return {
        "red": tr("Overdue"),
        "amber": tr("Due soon"),
        "green": tr("On track"),
    }[colour]


def yes_no(value: bool) -> str:
    return tr("Yes") if value else tr("No")
