"""Run in a fresh interpreter (``python -c <this file's source> MODE DATA_DIR``): start the
desktop app offscreen and report, as one JSON line on stdout, seconds since the parent
launched the process (``BENCH_LAUNCHED``, a CLOCK_MONOTONIC reading) at each phase.

Modes:
  bare   a plain QMainWindow (the floor): Qt start-up and a first paint, nothing of CareCoord;
  app    ``carecoord --data-dir DATA_DIR`` as a user starts it (``app.main.main``: command
         line, log, single-instance lock, keys, checks, migration, main window), timed up to
         the main window's first paint. Where the window paints before the data is open (in
         its loading state), the run goes on until the window has its data ("ready"), so the
         phases show when the data was opened and when the window could be used;
  rss    as app, then open the caseload screen, wait for its first page, and report the
         process's resident memory (VmRSS, and the peak VmHWM) in bytes.

The app is stopped by wrapping ``QApplication.exec``: nothing in CareCoord knows about the
benchmark. This file is executed as a script; it imports nothing from the benchmark.
"""

import json
import os
import sys
import time
from typing import Any

LAUNCHED = float(os.environ["BENCH_LAUNCHED"])
marks: dict[str, float] = {}
result: dict[str, Any] = {"marks": marks}


def mark(name: str) -> None:
    marks.setdefault(name, time.monotonic() - LAUNCHED)


def vm_status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def main() -> int:
    mode, data_dir = sys.argv[1], sys.argv[2]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    def main_window() -> Any:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)]
        return shown[0] if shown else None

    def after_paint(app: QApplication) -> None:
        mark("painted")
        window = main_window()
        if not getattr(window, "is_ready", True):  # painted while the data was still opening
            window.ready.connect(lambda: when_ready(app, window))
            return
        when_ready(app, window)

    def when_ready(app: QApplication, window: Any) -> None:
        mark("ready")
        if mode != "rss":
            app.quit()
            return
        screen = window.show_screen("caseload")

        def listed(total: int) -> None:
            result["caseload_total"] = total
            for _ in range(5):
                app.processEvents()
            mark("caseload")
            result.update(vm_status())
            app.quit()

        screen.results_shown.connect(listed)

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and "first_paint" not in marks
                and isinstance(obj, QWidget)
                and isinstance(obj.window(), QMainWindow)
            ):
                mark("first_paint")
                app = QApplication.instance()
                assert isinstance(app, QApplication)
                QTimer.singleShot(0, lambda: after_paint(app))  # after the whole frame
            return False

    watcher = FirstPaint()
    real_exec = QApplication.exec  # called on the one application (a static in Qt)

    def exec_until_measured(app: QApplication) -> int:
        app.installEventFilter(watcher)
        QTimer.singleShot(120_000, app.quit)  # a window that never paints is reported
        code = real_exec()
        app.removeEventFilter(watcher)
        return int(code)

    QApplication.exec = exec_until_measured  # type: ignore[method-assign,assignment]
    if mode == "bare":
        app = QApplication(["carecoord"])
        window = QMainWindow()
        window.setWindowTitle("CareCoord")
        window.resize(1280, 800)
        window.show()
        app.exec()
        code = 0
    else:
        from app.main import main as carecoord
        from app.ui import application

        real_open = application.open_context  # app.context itself is imported when called

        def open_context(*args: Any, **kwargs: Any) -> Any:
            mark("open_data")
            try:
                return real_open(*args, **kwargs)
            finally:
                mark("data_open")

        application.open_context = open_context  # type: ignore[attr-defined]
        code = carecoord(["--data-dir", data_dir])
    result["exit"] = code
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
