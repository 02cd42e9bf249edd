"""Run in a fresh interpreter (``python -c <this file's source> MODE DATA_DIR SETTINGS``):
start the desktop app offscreen and report, as one JSON line on stdout, seconds since the
parent launched the process (``BENCH_LAUNCHED``, a CLOCK_MONOTONIC reading) at each phase.

Modes:
  bare   a plain QMainWindow (the floor): Qt start-up and a first paint, nothing of CareCoord;
  app    open the data folder (keys, checks, migration) and build CareCoord's MainWindow, the
         way the app starts (style sheet, per-folder settings), up to its first paint;
  rss    as app, then open the caseload screen, wait for its first page, and report the
         process's resident memory (VmRSS, and the peak VmHWM) in bytes.

This file is executed as a script; it imports nothing from the benchmark.
"""

import json
import os
import sys
import time
from typing import Any

LAUNCHED = float(os.environ["BENCH_LAUNCHED"])
marks: dict[str, float] = {}


def mark(name: str) -> None:
    marks[name] = time.monotonic() - LAUNCHED


def vm_status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def main() -> int:
    mode, data_dir, settings_file = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    app = QApplication(["carecoord"])
    mark("qt")
    ctx = None
    window: Any
    if mode == "bare":
        window = QMainWindow()
        window.setWindowTitle("CareCoord")
        window.resize(1280, 800)
    else:
        from pathlib import Path

        from app.context import open_context
        from app.core.paths import AppPaths

        mark("imports")
        ctx = open_context(AppPaths(Path(data_dir)))
        mark("data")
        from app.ui.main_window import MainWindow
        from app.ui.style import STYLE_SHEET

        app.setStyleSheet(STYLE_SHEET)
        window = MainWindow(ctx, settings=QSettings(settings_file, QSettings.Format.IniFormat))
        mark("window")

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and "first_paint" not in marks
                and isinstance(obj, QWidget)
                and obj.window() is window
            ):
                mark("first_paint")
                QTimer.singleShot(0, painted)  # after the whole frame is drawn
            return False

    def painted() -> None:
        mark("painted")
        app.quit()

    watcher = FirstPaint()
    app.installEventFilter(watcher)
    window.show()
    QTimer.singleShot(30_000, app.quit)  # a window that never paints is reported, not awaited
    app.exec()
    app.removeEventFilter(watcher)
    if "painted" not in marks:
        app.processEvents()
        mark("processed")
    result: dict[str, object] = {"marks": marks}
    if mode == "rss":
        screen = window.show_screen("caseload")
        shown: list[int] = []

        def listed(total: int) -> None:
            shown.append(total)
            app.quit()

        screen.results_shown.connect(listed)
        QTimer.singleShot(60_000, app.quit)
        if not shown:
            app.exec()
        for _ in range(5):
            app.processEvents()
        window.runner.wait()
        app.processEvents()
        mark("caseload")
        result["caseload_total"] = shown[0] if shown else None
        result.update(vm_status())
    window.close()
    if ctx is not None:
        window.runner.wait()
        ctx.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
