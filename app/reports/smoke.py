"""A one-page PDF through the shared layout, for `carecoord --smoke-test` and the frozen build.

It exercises what a packaged build can lose: the page template, both Helvetica weights (their
metrics modules are imported lazily by reportlab), the bundled DejaVu fonts (loaded only for
text Helvetica cannot encode, such as "Ł"), tables and a reportlab.graphics chart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reportlab.platypus import Flowable, Spacer

from app.reports.charts import trend_chart
from app.reports.data import TARGET_PCT_WITHIN_48H, TrendPoint
from app.reports.layout import (
    CONTENT_WIDTH,
    OFFICIAL,
    PageDecor,
    data_table,
    make_styles,
    para,
    render_story,
    widths,
)

SMOKE_TITLE = "CareCoord smoke test"


def render_smoke_pdf(out: Path, *, now: datetime | None = None) -> int:
    """Write the smoke-test page to ``out``; returns the page count (1)."""
    when = datetime.now(UTC) if now is None else now
    styles = make_styles()
    trend = tuple(
        TrendPoint(week=f"2026-W{w:02d}", pct_within_48h=pct, met=0, missed=0)
        for w, pct in ((44, 80.0), (45, None), (46, 86.0), (47, 90.0))
    )
    story: list[Flowable] = [
        para(SMOKE_TITLE, styles.title),
        para("This page checks that printing works on this computer.", styles.body),
        Spacer(0, 8),
        data_table(
            styles,
            ["Check", "Result"],
            [
                ["Page layout, fonts and tables", "OK"],
                ["Names in any script (Łukasz, Ştefan, Jiří)", "OK"],
                ["Charts", "OK (below)"],
            ],
            widths(0.6, 0.4),
        ),
        Spacer(0, 8),
        trend_chart(trend, target=TARGET_PCT_WITHIN_48H, width=CONTENT_WIDTH, height=120),
    ]
    decor = PageDecor(
        title=SMOKE_TITLE,
        classification=OFFICIAL,
        printed_by="CareCoord",
        printed_at=when,
        data_as_of=when,
        subject=SMOKE_TITLE,
    )
    return render_story(story, decor, out)
