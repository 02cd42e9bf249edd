"""Start the desktop app: one instance per data folder, the database opened and migrated
before any window shows, then the main window and the first-run questions."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox

from app import APP_NAME, __version__
from app.context import PASSPHRASE_ENV, open_context
from app.core.errors import CareCoordError, KeyError_, ValidationError
from app.core.paths import AppPaths
from app.ui.instance import InstanceLock
from app.ui.style import STYLE_SHEET

HEADLESS_PLATFORMS = ("offscreen", "minimal")


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    return app


def refuse(title: str, message: str) -> None:
    """Tell the user why the app cannot start: a message box, or stderr when headless."""
    if headless():
        print(f"carecoord: {message}", file=sys.stderr)
    else:
        QMessageBox.critical(None, title, message)


def headless() -> bool:
    return QGuiApplication.platformName() in HEADLESS_PLATFORMS


def gui_passphrase_provider(paths: AppPaths) -> Callable[[], str]:
    """Where there is no OS keyring: CARECOORD_PASSPHRASE, or ask in a password box (twice
    when the key file is being created)."""

    def ask(prompt: str) -> str:
        title = QApplication.translate("Startup", "CareCoord passphrase")
        text, ok = QInputDialog.getText(None, title, prompt, QLineEdit.EchoMode.Password)
        if not ok or not text:
            raise KeyError_("No passphrase was given, so CareCoord cannot unlock its keys.")
        return str(text)

    def provide() -> str:
        value = os.environ.get(PASSPHRASE_ENV)
        if value:
            return value
        if headless():
            raise KeyError_(
                f"A passphrase is needed to unlock CareCoord's key file: set {PASSPHRASE_ENV}."
            )
        t = QApplication.translate
        if paths.key_file.exists():
            return ask(t("Startup", "Passphrase that protects CareCoord's keys:"))
        first = ask(t("Startup", "Choose a passphrase to protect CareCoord's keys:"))
        if ask(t("Startup", "Type the passphrase again:")) != first:
            raise ValidationError("The two passphrases differ; nothing was created.")
        return first

    return provide


def run_gui(paths: AppPaths) -> int:
    app = _application()
    paths.ensure()
    lock = InstanceLock(paths)
    if not lock.acquire():
        refuse(
            app.translate("Startup", "CareCoord is already running"),
            app.translate(
                "Startup",
                "CareCoord is already running with the data folder %1; switch to that window "
                "(only one copy may use a data folder at a time).",
            ).replace("%1", str(paths.data_dir)),
        )
        return 1
    try:
        try:
            ctx = open_context(paths, passphrase_provider=gui_passphrase_provider(paths))
        except CareCoordError as exc:
            refuse(app.translate("Startup", "CareCoord cannot open its data"), str(exc))
            return 1
        try:
            from app.ui.main_window import MainWindow

            app.setStyleSheet(STYLE_SHEET)
            window = MainWindow(ctx)
            window.show()
            for warning in ctx.warnings:
                window.statusBar().showMessage(warning, 30_000)
            QTimer.singleShot(0, window.start_first_run)
            return int(app.exec())
        finally:
            ctx.close()
    finally:
        lock.release()
