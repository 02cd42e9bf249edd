"""Memory management for the few operations that build millions of objects at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk operation (a bundle import) builds
    millions of plain objects (dicts, tuples, text) that form no reference cycles.

    Left running, the collector walks every object still alive each time their number has
    grown by a quarter: at a million ops that is most of a minute spent finding nothing.
    Reference counting still frees everything as usual; the collector is switched back on
    afterwards (if it was on), whatever happens.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
