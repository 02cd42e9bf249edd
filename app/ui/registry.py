"""The screens of the main window, in navigation order. Adding a screen is one line here: a key,
its title, a factory ``(shell) -> Screen`` and a shortcut."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.ui.format import QT_TRANSLATE_NOOP
from app.ui.screens.base import Screen
from app.ui.screens.caseload import CaseloadScreen
from app.ui.screens.mdt import MdtScreen
from app.ui.screens.reports import ReportsScreen
from app.ui.screens.settings import SettingsScreen
from app.ui.screens.sync import SyncScreen
from app.ui.screens.today import TodayScreen
from app.ui.shell import Shell


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    title: str  # source text, translated in the "Screens" context
    build: Callable[[Shell], Screen]
    shortcut: str


_T = QT_TRANSLATE_NOOP

SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("today", _T("Screens", "Today"), TodayScreen, "Ctrl+1"),
    ScreenSpec("caseload", _T("Screens", "Caseload"), CaseloadScreen, "Ctrl+2"),
    ScreenSpec("mdt", _T("Screens", "MDT"), MdtScreen, "Ctrl+3"),
    ScreenSpec("reports", _T("Screens", "Reports"), ReportsScreen, "Ctrl+4"),
    ScreenSpec("sync", _T("Screens", "Sync"), SyncScreen, "Ctrl+5"),
    ScreenSpec("settings", _T("Screens", "Settings"), SettingsScreen, "Ctrl+6"),
)


def spec(key: str) -> ScreenSpec:
    for s in SCREENS:
        if s.key == key:
            return s
    raise KeyError(key)
