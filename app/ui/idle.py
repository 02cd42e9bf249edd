"""Idle lock: after the configured minutes without keyboard or mouse input anywhere in the app
(an application-wide event filter), or when the system reports the session or screen locked,
the main window hides every patient detail behind a lock page and closes its dialogs from
view, until someone chooses who they are (and, where a passphrase protects the key file,
types it)."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import (
    SLOT,
    QAbstractNativeEventFilter,
    QCoreApplication,
    QEvent,
    QObject,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError
from app.core.secrets import FileSecretStore
from app.services.caseload import CoordinatorView, list_coordinators
from app.services.caseload_view import sign_in
from app.services.desktop import DEFAULT_IDLE_LOCK_MINUTES, DeviceSettings, get_device_settings
from app.ui.widgets.lock_screen import LockScreen

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TabletPress,
    }
)
WM_WTSSESSION_CHANGE = 0x02B1
WTS_SESSION_LOCK = 0x7


def check_passphrase(_session: Session, *, store: FileSecretStore, passphrase: str) -> bool:
    """True when ``passphrase`` opens the key file in use (slow on purpose: Argon2id)."""
    try:
        FileSecretStore(store.path, passphrase)
    except CareCoordError:
        return False
    return True


class _WindowsSessionFilter(QAbstractNativeEventFilter):
    """Windows tells a registered window when the session is locked (Win+L)."""

    def __init__(self, on_lock: Any) -> None:
        super().__init__()
        self._on_lock = on_lock

    def nativeEventFilter(self, event_type: Any, message: Any) -> Any:
        import ctypes.wintypes

        if bytes(event_type) == b"windows_generic_MSG":
            msg = ctypes.wintypes.MSG.from_address(int(message))
            if msg.message == WM_WTSSESSION_CHANGE and msg.wParam == WTS_SESSION_LOCK:
                self._on_lock()
        return False, 0


class IdleLock(QObject):
    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.is_locked = False
        self.minutes = DEFAULT_IDLE_LOCK_MINUTES
        self._hidden: list[QWidget] = []
        self._disabled: list[Any] = []
        self._native: _WindowsSessionFilter | None = None
        self._build()
        self._connect()
        self.set_interval_ms(self.minutes * 60_000)
        self.reload_settings()

    def _build(self) -> None:
        content = self.window.takeCentralWidget()
        assert content is not None, "the main window is built before its lock"
        self.lock_screen = LockScreen()
        self.lock_screen.set_passphrase_needed(isinstance(self.window.ctx.secrets, FileSecretStore))
        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.stack.addWidget(self.lock_screen)
        self.content: QWidget = content
        self.window.setCentralWidget(self.stack)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)

    def _connect(self) -> None:
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self._state_changed)
        self.timer.timeout.connect(self._idle)
        self.lock_screen.unlock_requested.connect(self._unlock_requested)
        self.window.runner.data_changed.connect(self.reload_settings)
        self._watch_system_lock()

    # --- settings ---
    def set_interval_ms(self, ms: int) -> None:
        """How long without input before locking (tests use a few milliseconds)."""
        self.timer.setInterval(max(ms, 1))
        if not self.is_locked:
            self.timer.start()

    def reload_settings(self) -> None:
        self.window.runner.read(get_device_settings, on_success=self._settings_loaded)

    def _settings_loaded(self, settings: DeviceSettings) -> None:
        if settings.idle_lock_minutes != self.minutes:
            self.minutes = settings.idle_lock_minutes
            self.set_interval_ms(self.minutes * 60_000)

    # --- noticing use, idleness and the system's lock ---
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.is_locked and event.type() in INPUT_EVENTS:
            self.timer.start()
        return False

    def _idle(self) -> None:
        self.lock(
            self.tr("Locked after %1 minute(s) without use.").replace("%1", str(self.minutes))
        )

    def _state_changed(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationSuspended:
            self.lock(self.tr("Locked because the computer was suspended."))

    def _watch_system_lock(self) -> None:
        if sys.platform == "win32":
            try:
                import ctypes

                wtsapi = ctypes.windll.wtsapi32  # type: ignore[attr-defined]
                wtsapi.WTSRegisterSessionNotification(int(self.window.winId()), 0)
                self._native = _WindowsSessionFilter(self.system_locked)
                app = QCoreApplication.instance()
                if app is not None:
                    app.installNativeEventFilter(self._native)
            except (OSError, AttributeError):
                log.info("session lock notifications are not available")
            return
        try:
            from PySide6.QtDBus import QDBusConnection

            bus = QDBusConnection.sessionBus()
            if bus.isConnected():
                for service in ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"):
                    path = "/" + service.replace(".", "/")
                    slot = SLOT("_screensaver(bool)").encode()
                    bus.connect(service, path, service, "ActiveChanged", self, slot)
        except ImportError:
            log.info("screen lock notifications are not available")

    @Slot(bool)
    def _screensaver(self, active: bool) -> None:
        if active:
            self.system_locked()

    def system_locked(self) -> None:
        self.lock(self.tr("Locked because the screen was locked."))

    # --- locking and unlocking ---
    def lock(self, reason: str) -> None:
        if self.is_locked:
            return
        self.is_locked = True
        self.timer.stop()
        app = QApplication.instance()
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        if isinstance(app, QApplication):
            self._hidden = [
                w
                for w in app.topLevelWidgets()
                if w is not self.window and w.isWindow() and w.isVisible()
            ]
        for w in self._hidden:
            w.hide()
        self._disabled = [a for a in self.window.actions() if a.isEnabled()]
        for action in self._disabled:
            action.setEnabled(False)
        self.window.menuBar().setEnabled(False)
        self.lock_screen.set_passphrase_needed(isinstance(self.window.ctx.secrets, FileSecretStore))
        self.stack.setCurrentWidget(self.lock_screen)
        self.content.hide()
        self.lock_screen.reset(reason)
        self.window.runner.read(lambda s: tuple(list_coordinators(s)), on_success=self._team_loaded)
        log.info("locked")
        self.locked.emit()

    def _team_loaded(self, team: tuple[CoordinatorView, ...]) -> None:
        self.lock_screen.set_team(team, self.window.shell.coordinator_id)

    def _unlock_requested(self, coordinator_id: str, name: str, passphrase: str) -> None:
        store = self.window.ctx.secrets
        if isinstance(store, FileSecretStore):
            self.window.runner.read(
                lambda s: check_passphrase(s, store=store, passphrase=passphrase),
                on_success=lambda ok: self._passphrase_checked(ok, coordinator_id, name),
                on_failure=lambda exc: self.lock_screen.refuse(str(exc)),
            )
        else:
            self._confirmed(coordinator_id, name)

    def _passphrase_checked(self, ok: bool, coordinator_id: str, name: str) -> None:
        if ok:
            self._confirmed(coordinator_id, name)
        else:
            self.lock_screen.refuse(self.tr("That passphrase does not open the key file."))

    def _confirmed(self, coordinator_id: str, name: str) -> None:
        if coordinator_id != self.window.shell.coordinator_id:
            self.window.shell.set_coordinator(coordinator_id, name)
            self.window.runner.write(
                lambda s: sign_in(s, coordinator_id=coordinator_id), on_success=lambda _c: None
            )
        self.unlock()

    def unlock(self) -> None:
        if not self.is_locked:
            return
        self.content.show()
        self.stack.setCurrentWidget(self.content)
        self.window.menuBar().setEnabled(True)
        for action in self._disabled:
            action.setEnabled(True)
        self._disabled = []
        for w in self._hidden:
            if shiboken6.isValid(w):  # a message box that was waiting is gone by now
                w.show()
        self._hidden = []
        self.is_locked = False
        self.timer.start()
        log.info("unlocked")
        self.unlocked.emit()
