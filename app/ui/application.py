"""Start the desktop app: one instance per data folder; the main window on screen at once, in
its loading state; then the data opened (keys, checks, migration, backups) on a background
thread, and the window given its data and the first-run questions.

Nothing here imports the database layer or the services before the first paint: they are
imported by the thread that opens the data. Navigation and the menus stay disabled until the
data is open (see :class:`~app.ui.main_window.MainWindow`). When the data cannot be opened
(wrong passphrase, a database from a newer version, a damaged one, a locked one...) the user
gets one clear message and the app exits with status 1.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox, QWidget

from app import APP_NAME
from app.core.errors import CareCoordError, KeyError_, ValidationError
from app.core.paths import PASSPHRASE_ENV, AppPaths
from app.ui.instance import InstanceLock
from app.ui.main_window import MainWindow, preload
from app.ui.style import STYLE_SHEET

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

HEADLESS_PLATFORMS = ("offscreen", "minimal")


def open_context(paths: AppPaths, **kwargs: Any) -> AppContext:
    """:func:`app.context.open_context`, imported when first called: it brings SQLAlchemy,
    alembic and the key handling, which the first paint does not need."""
    from app.context import open_context as open_data_folder

    return open_data_folder(paths, **kwargs)


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    return app


def refuse(title: str, message: str, parent: QWidget | None = None) -> None:
    """Tell the user why the app cannot start: a message box, or stderr when headless."""
    if headless():
        print(f"carecoord: {message}", file=sys.stderr)
    else:
        QMessageBox.critical(parent, title, message)


def headless() -> bool:
    return QGuiApplication.platformName() in HEADLESS_PLATFORMS


class PassphraseAsker(QObject):
    """Asks for the key file's passphrase in a password box on the GUI thread, for whichever
    thread needs it (the one opening the data waits for the answer)."""

    _asked = Signal(str)

    def __init__(self, parent_window: QWidget | None = None) -> None:
        super().__init__()
        self._window = parent_window
        self._answer: str | None = None
        self._error: CareCoordError | None = None
        self.cancelled = False
        self._asked.connect(self._ask, Qt.ConnectionType.BlockingQueuedConnection)

    def cancel(self) -> None:
        """The app is closing: questions not yet shown are answered with a refusal."""
        self.cancelled = True

    def ask(self, prompt: str) -> str:
        """The passphrase typed; KeyError_ when none was given. Any thread."""
        self._answer, self._error = None, None
        if QThread.currentThread() is self.thread():
            self._ask(prompt)
        else:
            self._asked.emit(prompt)  # returns once _ask has run on the GUI thread
        if self._error is not None:
            raise self._error
        assert self._answer is not None
        return self._answer

    def _ask(self, prompt: str) -> None:
        if self.cancelled:
            self._error = KeyError_("CareCoord was closed before its keys were unlocked.")
            return
        title = QApplication.translate("Startup", "CareCoord passphrase")
        text, ok = QInputDialog.getText(self._window, title, prompt, QLineEdit.EchoMode.Password)
        if not ok or not text:
            self._error = KeyError_("No passphrase was given, so CareCoord cannot unlock its keys.")
        else:
            self._answer = str(text)


def gui_passphrase_provider(
    paths: AppPaths, asker: PassphraseAsker | None = None
) -> Callable[[], str]:
    """Where there is no OS keyring: CARECOORD_PASSPHRASE, or ask in a password box (twice
    when the key file is being created). Made on the GUI thread; may be called on any."""
    asker = asker or PassphraseAsker()
    no_screen = headless()
    t = QApplication.translate
    existing = t("Startup", "Passphrase that protects CareCoord's keys:")
    choose = t("Startup", "Choose a passphrase to protect CareCoord's keys:")
    again = t("Startup", "Type the passphrase again:")

    def provide() -> str:
        value = os.environ.get(PASSPHRASE_ENV)
        if value:
            return value
        if no_screen:
            raise KeyError_(
                f"A passphrase is needed to unlock CareCoord's key file: set {PASSPHRASE_ENV}."
            )
        if paths.key_file.exists():
            return asker.ask(existing)
        first = asker.ask(choose)
        if asker.ask(again) != first:
            raise ValidationError("The two passphrases differ; nothing was created.")
        return first

    return provide


class Startup(QObject):
    """The main window from its first paint until it has its data.

    The window is built in its loading state; once it has been painted, the data folder is
    opened on a background thread. Then :attr:`ready` (the window has its data) or
    :attr:`failed` (a title and one clear message: the data cannot be opened).
    """

    ready = Signal()
    failed = Signal(str, str)  # title, message
    _opened = Signal(object)  # AppContext, from the opening thread
    _open_failed = Signal(object)  # the exception, from the opening thread

    def __init__(
        self,
        paths: AppPaths,
        *,
        settings: QSettings | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.window = MainWindow(paths=paths, settings=settings)
        self.ctx: AppContext | None = None
        self.error: BaseException | None = None  # an unexpected failure, re-raised by finish()
        self.closing = False
        self._thread: threading.Thread | None = None
        self._asker = PassphraseAsker(self.window)
        self._opened.connect(self._attach)
        self._open_failed.connect(self._failed)
        assert self.window.loading is not None
        self.window.loading.first_painted.connect(self._painted)

    def _painted(self) -> None:
        QTimer.singleShot(0, self.open_data)  # after the whole first frame has been drawn

    def open_data(self) -> None:
        """Start opening the data folder in the background (once)."""
        if self._thread is not None or self.closing:
            return
        provider = gui_passphrase_provider(self.paths, self._asker)
        screen = self.window.current_key()
        self._thread = threading.Thread(
            target=self._open, args=(provider, screen), name="carecoord-open", daemon=True
        )
        self._thread.start()

    def _open(self, provider: Callable[[], str], screen: str) -> None:
        """On the background thread: open, then import what the window needs next."""
        try:
            ctx = open_context(self.paths, passphrase_provider=provider)
        except BaseException as exc:  # handed to the GUI thread, which reports it
            self._open_failed.emit(exc)
            return
        try:
            preload(screen)
            from app import __version__  # noqa: F401 - read once, off the GUI thread
        except Exception:  # imported again on the GUI thread by attach, which reports it
            log.warning("preloading the main window's modules failed", exc_info=True)
        self._opened.emit(ctx)

    def _attach(self, ctx: AppContext) -> None:
        if self.closing or self.window.closing:  # the window went while the data was opening
            ctx.close()
            return
        from app import __version__

        QCoreApplication.setApplicationVersion(__version__)
        self.ctx = ctx
        try:
            self.window.attach(ctx)
        except Exception as exc:  # a screen that cannot be built: say so, not spin forever
            self._failed(exc)
            return
        for warning in ctx.warnings:
            self.window.statusBar().showMessage(warning, 30_000)
        QTimer.singleShot(0, self.window.start_first_run)
        # after the first screen's frame: the deferred full check and daily backup, if due
        QTimer.singleShot(0, self.window.start_maintenance)
        self.ready.emit()

    def _failed(self, exc: BaseException) -> None:
        if self.closing:
            return
        title = QApplication.translate("Startup", "CareCoord cannot open its data")
        if isinstance(exc, CareCoordError):
            message = str(exc)
        else:
            log.error("opening the data failed", exc_info=exc)
            self.error = exc
            message = QApplication.translate(
                "Startup", "An unexpected error stopped CareCoord opening its data (%1)."
            ).replace("%1", type(exc).__name__)
        self.window.show_failure(title, message)
        self.failed.emit(title, message)

    def finish(self) -> None:
        """After the event loop: wait for the opening thread (a migration is never cut short),
        then close the data. Re-raises an unexpected failure of the opening."""
        self.closing = True
        self._asker.cancel()
        app = QCoreApplication.instance()
        thread = self._thread
        while thread is not None and thread.is_alive():
            if app is not None:  # it may be waiting for an answer from this thread
                app.processEvents()
            thread.join(0.05)
        if app is not None:
            app.processEvents()  # a result still queued: _attach closes it, _failed ignores it
        if self.ctx is not None:
            if self.window.is_ready:
                self.window.stop_maintenance()
                self.window.runner.wait()  # reads still running when the loop was left
            self.ctx.close()
            self.ctx = None
        if self.error is not None:
            raise self.error


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
        app.setStyleSheet(STYLE_SHEET)
        startup = Startup(paths)
        outcome: list[int] = []

        def cannot_open(title: str, message: str) -> None:
            refuse(title, message, startup.window)
            outcome.append(1)
            app.exit(1)

        startup.failed.connect(cannot_open)
        startup.window.show()
        try:
            code = int(app.exec())
        finally:
            startup.finish()
        return outcome[0] if outcome else code
    finally:
        lock.release()
