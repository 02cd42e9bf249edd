"""Python's cyclic garbage collector, run only on the GUI thread.

A collection can start in whichever thread happens to allocate; started in a worker thread it
may destroy Qt objects that belong to the GUI thread, which crashes the app. So automatic
collection is switched off while a window is open, and a timer collects on the GUI thread
instead (the approach Anki takes).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 2000


class GarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def collect(self) -> None:
        """Collect the generations whose thresholds have been passed, as gc itself would."""
        first, second, third = gc.get_threshold()
        count0, count1, count2 = gc.get_count()
        if count2 > third:
            gc.collect(2)
        elif count1 > second:
            gc.collect(1)
        elif count0 > first:
            gc.collect(0)

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
