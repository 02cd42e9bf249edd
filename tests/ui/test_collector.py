"""Cyclic garbage is collected on the GUI thread only while the app runs."""

from __future__ import annotations

import gc

from app.ui.collector import GarbageCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_collection_runs_on_the_timer_not_automatically(qtbot) -> None:
    gc.enable()
    collector = GarbageCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        for _ in range(gc.get_threshold()[0] + 10):
            _Cycle()
        assert gc.get_count()[0] > gc.get_threshold()[0]  # nothing collected by itself
        collector.collect()
        assert gc.get_count()[0] < gc.get_threshold()[0]
    finally:
        collector.stop()
    assert gc.isenabled()
