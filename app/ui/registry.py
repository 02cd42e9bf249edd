"""The screens of the main window, in navigation order. Adding a screen is one line here: a key,
its title, a loader returning its class and a shortcut.

A screen's module is imported by its loader, when the screen is first shown: the main window's
first paint needs only the titles (the screens bring in the services, SQLAlchemy and
reportlab). The imports are ordinary ``from … import`` statements inside functions, so a
freezer (PyInstaller) still finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QT_TRANSLATE_NOOP as _QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from app.ui.screens.base import Screen
    from app.ui.shell import Shell


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    title: str  # source text, translated in the "Screens" context
    load: Callable[[], type[Screen]]  # imports the screen's module; returns its class
    shortcut: str

    def build(self, shell: Shell) -> Screen:
        return self.load()(shell)


def _today() -> type[Screen]:
    from app.ui.screens.today import TodayScreen

    return TodayScreen


def _caseload() -> type[Screen]:
    from app.ui.screens.caseload import CaseloadScreen

    return CaseloadScreen


def _mdt() -> type[Screen]:
    from app.ui.screens.mdt import MdtScreen

    return MdtScreen


def _reports() -> type[Screen]:
    from app.ui.screens.reports import ReportsScreen

    return ReportsScreen


def _sync() -> type[Screen]:
    from app.ui.screens.sync import SyncScreen

    return SyncScreen


def _settings() -> type[Screen]:
    from app.ui.screens.settings import SettingsScreen

    return SettingsScreen


_T = cast(Callable[[str, str], str], _QT_TRANSLATE_NOOP)

SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("today", _T("Screens", "Today"), _today, "Ctrl+1"),
    ScreenSpec("caseload", _T("Screens", "Caseload"), _caseload, "Ctrl+2"),
    ScreenSpec("mdt", _T("Screens", "MDT"), _mdt, "Ctrl+3"),
    ScreenSpec("reports", _T("Screens", "Reports"), _reports, "Ctrl+4"),
    ScreenSpec("sync", _T("Screens", "Sync"), _sync, "Ctrl+5"),
    ScreenSpec("settings", _T("Screens", "Settings"), _settings, "Ctrl+6"),
)


SCREEN_KEYS: tuple[str, ...] = tuple(s.key for s in SCREENS)
"""The screens' keys, in navigation order (a key's index is its row)."""


def row_of(key: object) -> int:
    """The navigation row of ``key``; the first screen's for an unknown key (or none, or a
    stored setting that is not one)."""
    return SCREEN_KEYS.index(key) if isinstance(key, str) and key in SCREEN_KEYS else 0


def spec(key: str) -> ScreenSpec:
    for s in SCREENS:
        if s.key == key:
            return s
    raise KeyError(key)
