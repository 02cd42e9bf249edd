"""Item models of the Reports screen: counts by a label, and the caseload by coordinator and
care-coordination level."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject

from app.models.patient import LEVELS
from app.ui.models.base import Column, RowTableModel


@dataclass(frozen=True)
class CountRow:
    label: str
    count: int


@dataclass(frozen=True)
class CoordinatorRow:
    name: str
    by_level: tuple[int, ...]  # in LEVELS order
    total: int


def coordinator_rows(by_coordinator: Mapping[str, Mapping[str, int]]) -> tuple[CoordinatorRow, ...]:
    """One row per coordinator (largest caseload first) and a team total."""
    rows = [
        CoordinatorRow(
            name,
            tuple(int(levels.get(level, 0)) for level in LEVELS),
            sum(int(n) for n in levels.values()),
        )
        for name, levels in by_coordinator.items()
    ]
    rows.sort(key=lambda r: (-r.total, r.name))
    if rows:
        totals = tuple(sum(r.by_level[i] for r in rows) for i in range(len(LEVELS)))
        rows.append(CoordinatorRow("Team", totals, sum(r.total for r in rows)))
    return tuple(rows)


class CountModel(RowTableModel[CountRow]):
    """Two columns: what is counted, and how many. Headers are source texts (tr'd here)."""

    def __init__(self, label_header: str, count_header: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns: Sequence[Column[Any]] = (
            Column[CountRow](label_header, lambda r: r.label),
            Column[CountRow](count_header, lambda r: f"{r.count:,}", align_right=True),
        )


class CoordinatorModel(RowTableModel[CoordinatorRow]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        level_columns = [
            Column[CoordinatorRow](level, self._level_text(i), align_right=True)
            for i, level in enumerate(LEVELS)
        ]
        self.columns = (
            Column[CoordinatorRow]("Coordinator", lambda r: r.name),
            *level_columns,
            Column[CoordinatorRow]("Open", lambda r: f"{r.total:,}", align_right=True),
        )

    @staticmethod
    def _level_text(i: int) -> Callable[[CoordinatorRow], str]:
        return lambda r: f"{r.by_level[i]:,}"
