"""The main window: navigation between the registered screens, the patient record, menus and
shortcuts, and a status bar with the data's "as of" time, unsynced changes and who is signed
in. Its size and layout are remembered per data folder.

The window is built in two steps so that it can be on screen before the data is open: the
frame (navigation, menus, status bar, style) with a loading page in the content area, then
:meth:`MainWindow.attach` once the data folder is open, which builds the screen to show and
turns navigation and the menus on. Until then they are disabled: nothing can act on data that
is not open. Other screens are built on their first visit. ``MainWindow(ctx)`` does both steps
at once.

This module is imported before the first paint, so it imports Qt and the window's own frame
only; the screens, the services and the database layer are imported when needed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app import APP_NAME
from app.ui import registry
from app.ui.collector import GarbageCollector
from app.ui.loading import LoadingPage
from app.ui.registry import SCREEN_KEYS, SCREENS, row_of

if TYPE_CHECKING:
    from app.context import AppContext
    from app.core.paths import AppPaths
    from app.services.caseload_view import StatusSummary
    from app.ui.dialogs.first_run import FirstRunDialog, FirstRunState
    from app.ui.dialogs.patient_form import PatientDialog
    from app.ui.idle import IdleLock
    from app.ui.maintenance import Maintenance
    from app.ui.screens.base import Screen
    from app.ui.screens.patient import PatientScreen
    from app.ui.shell import Shell
    from app.ui.workers import Runner

STATUS_REFRESH_MS = 60_000


def settings_group(paths: AppPaths) -> str:
    """Window settings are kept per data folder."""
    folder = str(paths.data_dir.expanduser().resolve())
    return "windows/" + hashlib.sha256(folder.encode()).hexdigest()[:16]


def preload(screen_key: str) -> None:
    """Import what :meth:`MainWindow.attach` needs for ``screen_key`` (the services, SQLAlchemy,
    the screen's module). Meant for the thread that opens the data, so that the GUI thread
    finds them imported; harmless anywhere (importing creates no Qt object)."""
    import app.services.caseload_view
    import app.ui.dialogs.first_run
    import app.ui.idle
    import app.ui.screens.base
    import app.ui.shell
    import app.ui.workers  # noqa: F401

    SCREENS[row_of(screen_key)].load()


class MainWindow(QMainWindow):
    status_shown = Signal(object)  # StatusSummary
    first_run_finished = Signal()
    ready = Signal()  # the data is attached: navigation and menus work

    # Set by attach(); reading them before the data is open is a programming error.
    ctx: AppContext
    runner: Runner
    shell: Shell
    idle_lock: IdleLock

    def __init__(
        self,
        ctx: AppContext | None = None,
        *,
        paths: AppPaths | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if ctx is not None:
            paths = ctx.paths
        if paths is None:
            raise TypeError("MainWindow needs the open context or the data folder's paths")
        self.paths = paths
        self.settings = settings if settings is not None else QSettings(APP_NAME, APP_NAME)
        self.collector = GarbageCollector(self)
        self.collector.start()
        self.screens: dict[str, Screen] = {}
        self._patient: PatientScreen | None = None
        self.status: StatusSummary | None = None
        self._history: list[QWidget] = []
        self.first_run: FirstRunDialog | None = None
        self.maintenance: Maintenance | None = None
        self._closing = False
        self.is_ready = False
        self.setWindowTitle(self.tr("CareCoord"))
        self._build()
        self._build_menus()
        self._restore()
        self._set_data_enabled(False)
        if ctx is not None:
            self.attach(ctx)

    # --- layout ---
    def _build(self) -> None:
        self.nav = QListWidget()
        self.nav.setObjectName("sidebar")
        self.nav.setAccessibleName(self.tr("Navigation"))
        self.nav.setFixedWidth(170)
        for spec in SCREENS:
            title = QCoreApplication.translate("Screens", spec.title)
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(f"{title} ({spec.shortcut})")
            self.nav.addItem(item)
        self.stack = QStackedWidget()
        self.loading: LoadingPage | None = LoadingPage(str(self.paths.data_dir))
        self.stack.addWidget(self.loading)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.as_of_label = QLabel()
        self.as_of_label.setAccessibleName(self.tr("Data as of"))
        self.unsynced_label = QLabel()
        self.unsynced_label.setAccessibleName(self.tr("Changes not yet synced"))
        self.user_label = QLabel()
        self.user_label.setAccessibleName(self.tr("Signed-in coordinator"))
        bar = self.statusBar()
        for label in (self.as_of_label, self.unsynced_label, self.user_label):
            bar.addPermanentWidget(label)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)

    def _action(
        self,
        text: str,
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None,
        slot: object,
        *,
        needs_data: bool = True,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        if needs_data:
            self._data_actions.append(action)
        return action

    def _build_menus(self) -> None:
        self._data_actions: list[QAction] = []
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        self.new_patient_action = self._action(
            self.tr("&New patient…"), QKeySequence.StandardKey.New, self.new_patient
        )
        file_menu.addAction(self.new_patient_action)
        file_menu.addSeparator()
        file_menu.addAction(
            self._action(
                self.tr("&Quit"), QKeySequence.StandardKey.Quit, self.close, needs_data=False
            )
        )
        go_menu = menu.addMenu(self.tr("&Go"))
        for spec in SCREENS:
            title = QCoreApplication.translate("Screens", spec.title)
            go_menu.addAction(
                self._action(title, spec.shortcut, lambda _=False, k=spec.key: self.show_screen(k))
            )
        go_menu.addSeparator()
        self.find_action = self._action(
            self.tr("&Find patient"), QKeySequence.StandardKey.Find, self.find_patient
        )
        go_menu.addAction(self.find_action)
        go_menu.addAction(self._action(self.tr("&Back"), "Alt+Left", self.go_back))
        patient_menu = menu.addMenu(self.tr("&Patient"))
        self.log_call_action = self._action(self.tr("&Log call…"), "Ctrl+L", self.log_call)
        patient_menu.addAction(self.log_call_action)
        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(
            self._action(self.tr("&About CareCoord"), None, self.about, needs_data=False)
        )

    def _set_data_enabled(self, enabled: bool) -> None:
        """Navigation and every action that reads or writes data: off until the data is open."""
        self.nav.setEnabled(enabled)
        for action in self._data_actions:
            action.setEnabled(enabled)

    # --- the data ---
    def attach(self, ctx: AppContext) -> None:
        """The data folder is open: build the screen to show, and let navigation and the menus
        act on the data."""
        from app.ui.idle import IdleLock
        from app.ui.shell import Shell
        from app.ui.workers import Runner

        if self.is_ready:
            raise RuntimeError("the main window already has its data")
        self.ctx = ctx
        self.runner = Runner(ctx.db, self)
        self.shell = Shell(ctx, self.runner, self)
        self.nav.currentRowChanged.connect(self._nav_changed)
        self.stack.currentChanged.connect(self._page_changed)
        self.shell.patient_requested.connect(self.open_patient)
        self.shell.screen_requested.connect(self.show_screen)
        self.shell.new_patient_requested.connect(self.new_patient)
        self.shell.coordinator_changed.connect(self.refresh_status)
        self.shell.background_stop_requested.connect(self.stop_maintenance)
        self.shell.background_resume_requested.connect(self.resume_maintenance)
        self.runner.data_changed.connect(self._data_changed)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self.idle_lock = IdleLock(self)
        self.is_ready = True
        self._set_data_enabled(True)
        focus: QWidget | None = self.focusWidget()
        if focus is not None and self.loading is not None and self.loading.isAncestorOf(focus):
            focus = None
        self._nav_changed(self.nav.currentRow())
        if self.loading is not None:
            self.stack.removeWidget(self.loading)
            self.loading.deleteLater()
            self.loading = None
        if focus is None:
            self.nav.setFocus(Qt.FocusReason.OtherFocusReason)
        self.refresh_status()
        self.ready.emit()

    def show_failure(self, title: str, message: str) -> None:
        """The data could not be opened: the loading page says why."""
        if self.loading is not None:
            self.loading.show_failure(title, message)

    # --- window state ---
    def _restore(self) -> None:
        self.resize(1280, 800)
        self.settings.beginGroup(settings_group(self.paths))
        geometry = self.settings.value("geometry")
        state = self.settings.value("state")
        last = self.settings.value("screen", "today")
        self.settings.endGroup()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.nav.setCurrentRow(row_of(last))

    def save_window_state(self) -> None:
        self.settings.beginGroup(settings_group(self.paths))
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("screen", self.current_key())
        self.settings.endGroup()
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        self._status_timer.stop()
        self._closing = True
        self.stop_maintenance()
        if self.is_ready:
            self.runner.wait()
        self.collector.stop()
        super().closeEvent(event)

    # --- navigation ---
    def current_key(self) -> str:
        item = self.nav.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else "today"

    def current_screen(self) -> Screen:
        from app.ui.screens.base import Screen

        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def get_screen(self, key: str) -> Screen:
        """The screen registered as ``key``, built on first use (after the data is open)."""
        screen = self.screens.get(key)
        if screen is None:
            if not self.is_ready:
                raise RuntimeError("screens are built once the data is open")
            screen = registry.spec(key).build(self.shell)
            screen.setObjectName(f"screen-{key}")
            self.screens[key] = screen
            self.stack.addWidget(screen)
        return screen

    @property
    def patient(self) -> PatientScreen:
        """The patient record, built on first use."""
        if self._patient is None:
            from app.ui.screens.patient import PatientScreen

            patient = PatientScreen(self.shell)
            patient.setObjectName("screen-patient")
            patient.back_requested.connect(self.go_back)
            self._patient = patient
            self.stack.addWidget(patient)
        return self._patient

    def show_screen(self, key: str) -> Screen:
        self.nav.setCurrentRow(SCREEN_KEYS.index(key))
        screen = self.get_screen(key)
        if self.stack.currentWidget() is not screen:
            self.stack.setCurrentWidget(screen)
        return screen

    def _nav_changed(self, row: int) -> None:
        if 0 <= row < len(SCREENS) and self.is_ready:
            self.stack.setCurrentWidget(self.get_screen(SCREENS[row].key))

    def _page_changed(self, index: int) -> None:
        from app.ui.screens.base import Screen

        screen = self.stack.widget(index)
        if screen is None or screen is self.loading:
            return
        if self._history and self._history[-1] is screen:
            return  # the same page at a new index (the loading page went)
        self._history.append(screen)
        del self._history[:-20]
        if isinstance(screen, Screen) and screen.stale and screen is not self._patient:
            screen.refresh()

    def open_patient(self, patient_id: str) -> PatientScreen:
        patient = self.patient
        patient.show_patient(patient_id)
        self.stack.setCurrentWidget(patient)
        patient.tabs.setFocus(Qt.FocusReason.OtherFocusReason)
        return patient

    def go_back(self) -> None:
        if len(self._history) < 2:
            return
        self._history.pop()
        target = self._history.pop()
        for key, screen in self.screens.items():
            if screen is target:
                self.show_screen(key)
                return
        self.stack.setCurrentWidget(target)

    # --- actions ---
    def find_patient(self) -> None:
        self.show_screen("caseload").focus_search()

    def log_call(self) -> None:
        if not self.current_screen().log_call():
            self.statusBar().showMessage(
                self.tr("Select a discharge in Today or in a patient's record to log a call."),
                5000,
            )

    def new_patient(self) -> PatientDialog:
        from app.ui.dialogs.patient_form import PatientDialog

        dialog = PatientDialog(self.shell, None, self)
        dialog.patient_saved.connect(self.open_patient)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def about(self) -> None:
        from app import __version__

        QMessageBox.about(
            self,
            self.tr("About CareCoord"),
            self.tr(
                "<h3>CareCoord %1</h3><p>Caseloads, 48-hour post-discharge calls, MDTs and "
                "encrypted sync for care coordinators in integrated neighbourhood teams.</p>"
                "<p>Data folder: %2</p>"
            )
            .replace("%1", __version__)
            .replace("%2", str(self.paths.data_dir)),
        )

    # --- data changes and the status bar ---
    def _data_changed(self) -> None:
        pages: list[Screen] = [*self.screens.values()]
        if self._patient is not None:
            pages.append(self._patient)
        for screen in pages:
            screen.stale = True
        current = self.current_screen()
        if current is self._patient and self._patient.patient_id is None:
            return
        current.refresh()
        self.refresh_status()

    def refresh_status(self) -> None:
        from app.services.caseload_view import status_summary

        self.runner.read(status_summary, on_success=self._show_status)

    def _show_status(self, summary: StatusSummary) -> None:
        from app.ui import format as fmt

        self.status = summary
        if summary.coordinator_id != self.shell.coordinator_id:
            self.shell.set_coordinator(summary.coordinator_id, summary.coordinator_name)
        as_of = fmt.when(summary.as_of) if summary.as_of else self.tr("no changes yet")
        self.as_of_label.setText(self.tr("Data as of %1").replace("%1", as_of))
        if summary.unsynced_capped:
            self.unsynced_label.setText(
                self.tr("More than %1 changes not yet synced").replace(
                    "%1", f"{summary.unsynced:,}"
                )
            )
        elif summary.unsynced == 1:
            self.unsynced_label.setText(self.tr("1 change not yet synced"))
        else:
            self.unsynced_label.setText(
                self.tr("%1 changes not yet synced").replace("%1", f"{summary.unsynced:,}")
            )
        self.user_label.setText(
            self.tr("Signed in: %1").replace("%1", summary.coordinator_name)
            if summary.coordinator_name
            else self.tr("Not signed in")
        )
        self.status_shown.emit(summary)

    @property
    def closing(self) -> bool:
        """The window has been closed (the data may still be opening behind it)."""
        return self._closing

    # --- background maintenance ---
    def start_maintenance(self) -> bool:
        """Run what start-up left for later (full check, daily backup) in the background,
        when it is due; True when it was started. Once the first screen is up."""
        from app.ui.maintenance import Maintenance

        if not self.is_ready or self._closing:
            return False
        if self.maintenance is None:
            self.maintenance = Maintenance(self)
        return self.maintenance.start()

    def resume_maintenance(self) -> None:
        """A restore has finished (or was refused): what is due may run again."""
        if self.maintenance is not None and not self._closing:
            self.maintenance.resume()
        elif not self._closing:
            self.start_maintenance()

    def stop_maintenance(self) -> None:
        """Closing, or a backup about to be restored: ask running maintenance to stop (then
        wait for the runner)."""
        if self.maintenance is not None:
            self.maintenance.cancel()

    # --- first run ---
    def start_first_run(self) -> None:
        """Ask who is using this laptop and offer a demo team when the folder is empty."""
        from app.ui.dialogs.first_run import first_run_state

        self.runner.read(first_run_state, on_success=self._first_run_state)

    def _first_run_state(self, state: FirstRunState) -> None:
        from app.ui.dialogs.first_run import FirstRunDialog

        if not state.needed:
            self.first_run_finished.emit()
            return
        dialog = FirstRunDialog(self.shell, self)
        self.first_run = dialog
        dialog.data_filled.connect(self._data_changed)
        dialog.finished.connect(self._first_run_done)
        dialog.start(state)
        if dialog.result() != FirstRunDialog.DialogCode.Accepted:
            dialog.open()

    def _first_run_done(self) -> None:
        self.first_run = None
        self._data_changed()
        self.first_run_finished.emit()
