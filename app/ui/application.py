"""Start the desktop app: QApplication, the data folder, the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app import APP_NAME, __version__
from app.context import open_context
from app.core.paths import AppPaths


def run_gui(paths: AppPaths) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    from app.ui.main_window import MainWindow

    ctx = open_context(paths)
    try:
        window = MainWindow(ctx)
        window.show()
        return app.exec()
    finally:
        ctx.close()
