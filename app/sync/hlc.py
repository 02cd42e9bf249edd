"""Hybrid logical clock: wall-clock milliseconds plus a counter, monotonic per laptop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, order=True)
class Hlc:
    wall_ms: int
    counter: int

    def encode(self) -> str:
        return f"{self.wall_ms:013d}.{self.counter:08d}"

    @staticmethod
    def decode(text: str) -> Hlc:
        wall, _, counter = text.partition(".")
        if not (wall.isdigit() and counter.isdigit()):
            raise ValueError(f"not an HLC timestamp: {text!r}")
        return Hlc(int(wall), int(counter))

    def to_datetime(self) -> datetime:
        from datetime import UTC

        return datetime.fromtimestamp(self.wall_ms / 1000, UTC)


def tick(last: Hlc, now: datetime) -> Hlc:
    """The next local timestamp: never behind ``last``, even if the wall clock went back."""
    wall = int(now.timestamp() * 1000)
    if wall > last.wall_ms:
        return Hlc(wall, 0)
    return Hlc(last.wall_ms, last.counter + 1)


def observe(last: Hlc, remote: Hlc, now: datetime) -> Hlc:
    """Merge a remote timestamp into the local clock (receive rule of the HLC)."""
    wall = int(now.timestamp() * 1000)
    top = max(wall, last.wall_ms, remote.wall_ms)
    if top == last.wall_ms == remote.wall_ms:
        return Hlc(top, max(last.counter, remote.counter) + 1)
    if top == last.wall_ms:
        return Hlc(top, last.counter + 1)
    if top == remote.wall_ms:
        return Hlc(top, remote.counter + 1)
    return Hlc(top, 0)
