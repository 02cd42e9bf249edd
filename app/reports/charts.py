"""Charts for the printed documents, drawn with reportlab.graphics (vector, no image files)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.reports.data import TrendPoint
from app.reports.layout import (
    FONT,
    FONT_BOLD,
    GRID,
    NHS_BLUE,
    NHS_DARK_GREY,
    NHS_RED,
    NHS_TEXT,
)

_LABEL_SIZE = 8


def _runs(values: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """Contiguous stretches of known values as (index, value) points; None breaks a stretch."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((float(i), float(v)))
    if current:
        runs.append(current)
    return runs


def _week_label(week: str) -> str:
    """'2026-W47' -> 'W47' (the text as given if it is not an ISO week)."""
    return week[5:] if len(week) == 8 and week[4:6] == "-W" else week


def trend_chart(
    points: Sequence[TrendPoint], *, target: float, width: float, height: float = 150.0
) -> Drawing:
    """A line of the weekly 48-hour contact %, oldest week on the left, with a dashed target
    line. A week with no met or missed discharge has no point, and the line breaks there
    instead of dropping to zero."""
    drawing = Drawing(width, height)
    n = len(points)
    legend_y = height - 10
    # Legend, drawn by hand so it sits above the plot in one line.
    drawing.add(Line(0, legend_y + 3, 18, legend_y + 3, strokeColor=NHS_BLUE, strokeWidth=2))
    drawing.add(
        String(22, legend_y, "Contacted within 48 hours (%)", fontName=FONT, fontSize=_LABEL_SIZE)
    )
    x2 = 22 + stringWidth("Contacted within 48 hours (%)", FONT, _LABEL_SIZE) + 16
    drawing.add(
        Line(
            x2,
            legend_y + 3,
            x2 + 18,
            legend_y + 3,
            strokeColor=NHS_RED,
            strokeWidth=1.2,
            strokeDashArray=[4, 3],
        )
    )
    drawing.add(
        String(x2 + 22, legend_y, f"Target {target:g}%", fontName=FONT, fontSize=_LABEL_SIZE)
    )
    if n == 0:
        drawing.add(
            String(
                width / 2,
                height / 2,
                "No weekly figures yet",
                fontName=FONT,
                fontSize=9,
                fillColor=NHS_DARK_GREY,
                textAnchor="middle",
            )
        )
        return drawing

    runs = _runs([p.pct_within_48h for p in points])
    target_line = [(-0.5, target), (n - 0.5, target)]
    plot = LinePlot()
    plot.x, plot.y = 30, 22
    plot.width, plot.height = width - 40, height - 22 - 24
    plot.data = [target_line, *runs]
    plot.joinedLines = 1
    plot.lineLabelFormat = "values"
    plot.lineLabelArray = [["", ""]] + [[f"{v:.0f}" for _, v in run] for run in runs]
    plot.lineLabels.fontName = FONT
    plot.lineLabels.fontSize = 7
    plot.lineLabels.fillColor = NHS_TEXT
    plot.lineLabelNudge = 7
    plot.lines[0].strokeColor = NHS_RED
    plot.lines[0].strokeWidth = 1.2
    plot.lines[0].strokeDashArray = [4, 3]
    plot.lines[0].symbol = None
    for r, run in enumerate(runs, start=1):
        for c, (_, v) in enumerate(run):
            if v < target:  # below the target line: label under the point, clear of the dashes
                plot.lineLabels[(r, c)].dy = -(2 * plot.lineLabelNudge + 6)
    for i in range(1, len(runs) + 1):
        plot.lines[i].strokeColor = NHS_BLUE
        plot.lines[i].strokeWidth = 2
        marker = makeMarker("FilledCircle")
        marker.size = 4.5
        marker.fillColor = NHS_BLUE
        marker.strokeColor = NHS_BLUE
        plot.lines[i].symbol = marker

    x_axis = plot.xValueAxis
    x_axis.valueMin, x_axis.valueMax = -0.5, n - 0.5
    x_axis.valueSteps = list(range(n))
    labels = [_week_label(p.week) for p in points]
    x_axis.labelTextFormat = lambda v: labels[round(v)] if 0 <= round(v) < n else ""
    x_axis.labels.fontName = FONT
    x_axis.labels.fontSize = _LABEL_SIZE
    x_axis.labels.fillColor = NHS_DARK_GREY
    x_axis.strokeColor = NHS_DARK_GREY
    x_axis.tickDown = 3

    y_axis = plot.yValueAxis
    y_axis.valueMin, y_axis.valueMax, y_axis.valueStep = 0, 100, 20
    y_axis.labelTextFormat = "%d"
    y_axis.labels.fontName = FONT
    y_axis.labels.fontSize = _LABEL_SIZE
    y_axis.labels.fillColor = NHS_DARK_GREY
    y_axis.strokeColor = NHS_DARK_GREY
    y_axis.visibleGrid = 1
    y_axis.gridStrokeColor = GRID
    y_axis.gridStrokeWidth = 0.4
    drawing.add(plot)
    if not runs:
        drawing.add(
            String(
                plot.x + plot.width / 2,
                plot.y + plot.height * 0.4,
                "No discharges with an outcome in these weeks",
                fontName=FONT,
                fontSize=9,
                fillColor=NHS_DARK_GREY,
                textAnchor="middle",
            )
        )
    return drawing


def _nice_step(top: int) -> int:
    """A round axis step giving about five intervals up to ``top``."""
    if top <= 5:
        return 1
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return int(m * magnitude)
    return int(10 * magnitude)


def bar_chart(rows: Sequence[tuple[str, int]], *, width: float) -> Drawing:
    """Horizontal bars of counts, one per (label, count), first row at the top."""
    bar_pitch = 15.0
    label_w = max([stringWidth(label, FONT, _LABEL_SIZE) for label, _ in rows] + [40.0])
    height = bar_pitch * max(len(rows), 1) + 26
    drawing = Drawing(width, height)
    if not rows:
        return drawing
    counts = [c for _, c in rows]
    step = _nice_step(max(max(counts), 1))
    top = step * max(1, math.ceil(max(counts) / step))
    if top == max(counts):
        top += step  # room for the value label at the end of the longest bar

    chart = HorizontalBarChart()
    chart.x = label_w + 8
    chart.y = 18
    chart.width = width - chart.x - 12
    chart.height = bar_pitch * len(rows)
    chart.data = [list(reversed(counts))]
    chart.categoryAxis.categoryNames = [label for label, _ in reversed(rows)]
    chart.categoryAxis.labels.textAnchor = "end"
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = _LABEL_SIZE
    chart.categoryAxis.labels.fillColor = NHS_TEXT
    chart.categoryAxis.strokeColor = NHS_DARK_GREY
    chart.categoryAxis.tickLeft = 0
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = "%d"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = _LABEL_SIZE
    chart.valueAxis.labels.fillColor = NHS_DARK_GREY
    chart.valueAxis.strokeColor = NHS_DARK_GREY
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.4
    chart.bars[0].fillColor = NHS_BLUE
    chart.bars[0].strokeColor = None
    chart.barWidth = 9
    chart.groupSpacing = 6
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT_BOLD
    chart.barLabels.fontSize = _LABEL_SIZE
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.barLabels.fillColor = NHS_TEXT
    drawing.add(chart)
    return drawing
