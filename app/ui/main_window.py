"""The main window: navigation between the registered screens, the patient record, menus and
shortcuts, and a status bar with the data's "as of" time, unsynced changes and who is signed
in. Its size and layout are remembered per data folder."""

from __future__ import annotations

import hashlib

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

from app import APP_NAME, __version__
from app.context import AppContext
from app.services.caseload_view import StatusSummary, status_summary
from app.ui import format as fmt
from app.ui.collector import GarbageCollector
from app.ui.dialogs.first_run import FirstRunDialog, FirstRunState, first_run_state
from app.ui.dialogs.patient_form import PatientDialog
from app.ui.idle import IdleLock
from app.ui.registry import SCREENS
from app.ui.screens.base import Screen
from app.ui.screens.patient import PatientScreen
from app.ui.shell import Shell
from app.ui.workers import Runner

STATUS_REFRESH_MS = 60_000


def settings_group(ctx: AppContext) -> str:
    """Window settings are kept per data folder."""
    folder = str(ctx.paths.data_dir.expanduser().resolve())
    return "windows/" + hashlib.sha256(folder.encode()).hexdigest()[:16]


class MainWindow(QMainWindow):
    status_shown = Signal(object)  # StatusSummary
    first_run_finished = Signal()

    def __init__(
        self, ctx: AppContext, *, settings: QSettings | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings if settings is not None else QSettings(APP_NAME, APP_NAME)
        self.collector = GarbageCollector(self)
        self.collector.start()
        self.runner = Runner(ctx.db, self)
        self.shell = Shell(ctx, self.runner, self)
        self.screens: dict[str, Screen] = {}
        self.status: StatusSummary | None = None
        self._history: list[int] = []
        self.first_run: FirstRunDialog | None = None
        self.setWindowTitle(self.tr("CareCoord"))
        self._build()
        self._build_menus()
        self._connect()
        self.idle_lock = IdleLock(self)
        self._restore()
        self._page_changed(self.stack.currentIndex())
        self.refresh_status()

    # --- layout ---
    def _build(self) -> None:
        self.nav = QListWidget()
        self.nav.setObjectName("sidebar")
        self.nav.setAccessibleName(self.tr("Navigation"))
        self.nav.setFixedWidth(170)
        self.stack = QStackedWidget()
        for spec in SCREENS:
            screen = spec.build(self.shell)
            screen.setObjectName(f"screen-{spec.key}")
            self.screens[spec.key] = screen
            self.stack.addWidget(screen)
            title = QCoreApplication.translate("Screens", spec.title)
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(f"{title} ({spec.shortcut})")
            self.nav.addItem(item)
        self.patient = PatientScreen(self.shell)
        self.patient.setObjectName("screen-patient")
        self.stack.addWidget(self.patient)

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
        self._status_timer.start()

    def _action(
        self,
        text: str,
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None,
        slot: object,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        self.new_patient_action = self._action(
            self.tr("&New patient…"), QKeySequence.StandardKey.New, self.new_patient
        )
        file_menu.addAction(self.new_patient_action)
        file_menu.addSeparator()
        file_menu.addAction(
            self._action(self.tr("&Quit"), QKeySequence.StandardKey.Quit, self.close)
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
        help_menu.addAction(self._action(self.tr("&About CareCoord"), None, self.about))

    def _connect(self) -> None:
        self.nav.currentRowChanged.connect(self._nav_changed)
        self.stack.currentChanged.connect(self._page_changed)
        self.shell.patient_requested.connect(self.open_patient)
        self.shell.screen_requested.connect(self.show_screen)
        self.shell.new_patient_requested.connect(self.new_patient)
        self.shell.coordinator_changed.connect(self.refresh_status)
        self.runner.data_changed.connect(self._data_changed)
        self.patient.back_requested.connect(self.go_back)
        self._status_timer.timeout.connect(self.refresh_status)

    # --- window state ---
    def _restore(self) -> None:
        self.resize(1280, 800)
        self.settings.beginGroup(settings_group(self.ctx))
        geometry = self.settings.value("geometry")
        state = self.settings.value("state")
        last = self.settings.value("screen", "today")
        self.settings.endGroup()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        keys = [s.key for s in SCREENS]
        self.nav.setCurrentRow(keys.index(last) if last in keys else 0)

    def save_window_state(self) -> None:
        self.settings.beginGroup(settings_group(self.ctx))
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("screen", self.current_key())
        self.settings.endGroup()
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        self._status_timer.stop()
        self.runner.wait()
        self.collector.stop()
        super().closeEvent(event)

    # --- navigation ---
    def current_key(self) -> str:
        item = self.nav.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else "today"

    def current_screen(self) -> Screen:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def show_screen(self, key: str) -> Screen:
        keys = [s.key for s in SCREENS]
        self.nav.setCurrentRow(keys.index(key))
        screen = self.screens[key]
        if self.stack.currentWidget() is not screen:
            self.stack.setCurrentWidget(screen)
        return screen

    def _nav_changed(self, row: int) -> None:
        if 0 <= row < len(SCREENS):
            self.stack.setCurrentWidget(self.screens[SCREENS[row].key])

    def _page_changed(self, index: int) -> None:
        self._history.append(index)
        del self._history[:-20]
        screen = self.stack.widget(index)
        if isinstance(screen, Screen) and screen.stale and screen is not self.patient:
            screen.refresh()

    def open_patient(self, patient_id: str) -> PatientScreen:
        self.patient.show_patient(patient_id)
        self.stack.setCurrentWidget(self.patient)
        self.patient.tabs.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.patient

    def go_back(self) -> None:
        if len(self._history) < 2:
            return
        self._history.pop()
        target = self._history.pop()
        widget = self.stack.widget(target)
        for key, screen in self.screens.items():
            if screen is widget:
                self.show_screen(key)
                return
        self.stack.setCurrentIndex(target)

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
        dialog = PatientDialog(self.shell, None, self)
        dialog.patient_saved.connect(self.open_patient)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About CareCoord"),
            self.tr(
                "<h3>CareCoord %1</h3><p>Caseloads, 48-hour post-discharge calls, MDTs and "
                "encrypted sync for care coordinators in integrated neighbourhood teams.</p>"
                "<p>Data folder: %2</p>"
            )
            .replace("%1", __version__)
            .replace("%2", str(self.ctx.paths.data_dir)),
        )

    # --- data changes and the status bar ---
    def _data_changed(self) -> None:
        for screen in (*self.screens.values(), self.patient):
            screen.stale = True
        current = self.current_screen()
        if current is self.patient and self.patient.patient_id is None:
            return
        current.refresh()
        self.refresh_status()

    def refresh_status(self) -> None:
        self.runner.read(status_summary, on_success=self._show_status)

    def _show_status(self, summary: StatusSummary) -> None:
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

    # --- first run ---
    def start_first_run(self) -> None:
        """Ask who is using this laptop and offer a demo team when the folder is empty."""
        self.runner.read(first_run_state, on_success=self._first_run_state)

    def _first_run_state(self, state: FirstRunState) -> None:
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
