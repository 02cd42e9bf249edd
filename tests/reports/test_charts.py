"""Charts: a week without figures is a gap in the line, never a zero."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String

from app.reports.charts import bar_chart, trend_chart
from app.reports.data import TrendPoint


def _plot(drawing: Drawing) -> LinePlot:
    plots = [c for c in drawing.contents if isinstance(c, LinePlot)]
    assert len(plots) == 1
    return plots[0]


def _strings(drawing: Drawing) -> list[str]:
    return [c.text for c in drawing.contents if isinstance(c, String)]


def _points(values: list[float | None]) -> list[TrendPoint]:
    return [TrendPoint(f"2026-W{36 + i:02d}", v, 0, 0) for i, v in enumerate(values)]


def test_missing_weeks_break_the_line_instead_of_dropping_to_zero() -> None:
    values: list[float | None] = [80.0, 82.0, None, 90.0, None, None, 70.0]
    plot = _plot(trend_chart(_points(values), target=84.0, width=400))
    target, *lines = plot.data
    assert target == [(-0.5, 84.0), (6.5, 84.0)]  # dashed target across the whole plot
    assert plot.lines[0].strokeDashArray
    assert lines == [[(0.0, 80.0), (1.0, 82.0)], [(3.0, 90.0)], [(6.0, 70.0)]]
    plotted_weeks = {x for line in lines for x, _ in line}
    assert plotted_weeks.isdisjoint({2.0, 4.0, 5.0})
    assert all(y != 0 for line in lines for _, y in line)


def test_a_real_zero_percent_is_plotted() -> None:
    plot = _plot(trend_chart(_points([0.0, 50.0]), target=84.0, width=400))
    assert plot.data[1] == [(0.0, 0.0), (1.0, 50.0)]


def test_weeks_are_labelled_oldest_first() -> None:
    plot = _plot(trend_chart(_points([80.0, None, 85.0]), target=84.0, width=400))
    fmt = plot.xValueAxis.labelTextFormat
    assert [fmt(x) for x in plot.xValueAxis.valueSteps] == ["W36", "W37", "W38"]


def test_no_figures_at_all_says_so() -> None:
    drawing = trend_chart(_points([None, None]), target=84.0, width=400)
    assert "No discharges with an outcome in these weeks" in _strings(drawing)
    assert "No weekly figures yet" in _strings(trend_chart([], target=84.0, width=400))


def test_bar_chart_keeps_the_given_order_top_down() -> None:
    drawing = bar_chart([("First Contact Plus", 5), ("Befriending", 0), ("Therapy", 2)], width=300)
    chart = next(c for c in drawing.contents if isinstance(c, HorizontalBarChart))
    # reportlab draws the first category at the bottom, so the data is reversed.
    assert chart.categoryAxis.categoryNames == ["Therapy", "Befriending", "First Contact Plus"]
    assert chart.data == [[2, 0, 5]]
    assert chart.valueAxis.valueMax > 5  # room for the value label on the longest bar
