"""The results as plain-text tables (also pasted into bench/RESULTS.md)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime

from bench.lines import Result

ORDER = ("start", "filter", "today", "weekly", "mdt_pdf", "export", "import", "rss")


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [_row(r, widths) for r in rows]
    return "\n".join(lines)


def ordered(results: list[Result]) -> list[Result]:
    rank = {k: i for i, k in enumerate(ORDER)}
    return sorted(results, key=lambda r: rank.get(r.key, len(ORDER)))


def results_table(results: list[Result]) -> str:
    rows = []
    for r in ordered(results):
        floor = r.floor
        ratio = r.ratio
        rows.append(
            [
                r.name,
                r.show(r.median),
                r.budget.text(),
                r.show(floor) if floor is not None else "—",
                f"{ratio:,.2f}×" if ratio is not None else "—",
                "PASS" if r.passed else "FAIL",
            ]
        )
    return markdown_table(["operation", "median", "budget", "floor", "ratio", "result"], rows)


def notes(results: list[Result]) -> str:
    return "\n".join(f"- {r.name}: {r.note}" for r in ordered(results) if r.note)


def growth_table(small: int, large: int, a: list[Result], b: list[Result]) -> str:
    by_key = {r.key: r for r in a}
    rows = []
    for r in ordered(b):
        s = by_key.get(r.key)
        if s is None:
            continue
        rows.append(
            [
                r.name,
                s.show(s.median),
                r.show(r.median),
                f"{r.median / s.median:,.1f}×" if s.median else "—",
            ]
        )
    return markdown_table(
        ["operation", f"{small:,} patients", f"{large:,} patients", "growth"], rows
    )


def machine() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        load = f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"
    except OSError:
        load = "load average unknown"
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
        f"{sys.version.split()[0]}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load}"
    )
