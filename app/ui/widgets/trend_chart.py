"""The 12-week trend of the share of discharges contacted within 48 hours, against the 84%
target, drawn with QPainter (QtCharts is not part of PySide6-Essentials)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

LINE = QColor("#005eb8")
TARGET = QColor("#da291c")
GRID = QColor("#d8dde0")
TEXT = QColor("#425563")


@dataclass(frozen=True)
class TrendValue:
    label: str  # "W47"
    pct: float | None  # None: no discharge was met or missed that week
    met: int
    missed: int


class TrendChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: tuple[TrendValue, ...] = ()
        self.target = 84.0
        self.setMinimumSize(360, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(self.tr("Share contacted within 48 hours, last 12 weeks"))
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)

    def sizeHint(self) -> QSize:
        return QSize(560, 240)

    def set_values(self, values: tuple[TrendValue, ...], target: float) -> None:
        self.values, self.target = values, target
        self.setAccessibleDescription(self.describe())
        self.setToolTip(self.describe().replace("; ", "\n"))
        self.update()

    def describe(self) -> str:
        """The chart in words (screen readers, tooltip)."""
        parts = [
            self.tr("%1: %2")
            .replace("%1", v.label)
            .replace("%2", self.tr("no data") if v.pct is None else f"{v.pct:.1f}%")
            for v in self.values
        ]
        target = self.tr("target %1%").replace("%1", f"{self.target:g}")
        return "; ".join([*parts, target])

    # --- drawing ---
    def _plot_rect(self) -> QRectF:
        fm = self.fontMetrics()
        left = fm.horizontalAdvance("100%") + 10
        return QRectF(left, 10, self.width() - left - 16, self.height() - fm.height() * 2 - 16)

    def _x(self, plot: QRectF, n: int) -> float:
        count = max(len(self.values), 2)
        return plot.left() + plot.width() * (n + 0.5) / count

    @staticmethod
    def _y(plot: QRectF, pct: float) -> float:
        return plot.bottom() - plot.height() * max(0.0, min(pct, 100.0)) / 100.0

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        plot = self._plot_rect()
        fm = self.fontMetrics()
        painter.setPen(QPen(GRID, 1))
        for pct in (0, 25, 50, 75, 100):
            y = self._y(plot, pct)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(TEXT)
            painter.drawText(
                QRectF(0, y - fm.height() / 2, plot.left() - 6, fm.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                f"{pct}%",
            )
            painter.setPen(QPen(GRID, 1))
        target_y = self._y(plot, self.target)
        pen = QPen(TARGET, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(plot.left(), target_y), QPointF(plot.right(), target_y))
        painter.drawText(
            QRectF(plot.left() + 4, target_y - fm.height() - 1, plot.width() - 8, fm.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
            self.tr("target %1%").replace("%1", f"{self.target:g}"),
        )
        if not self.values:
            painter.setPen(TEXT)
            painter.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), self.tr("No data yet"))
            painter.end()
            return
        self._draw_series(painter, plot)
        painter.setPen(TEXT)
        small = QFont(painter.font())
        small.setPointSizeF(max(small.pointSizeF() - 1, 7))
        painter.setFont(small)
        step = 1 if plot.width() / max(len(self.values), 1) > 40 else 2
        for n, v in enumerate(self.values):
            if n % step and n != len(self.values) - 1:
                continue
            x = self._x(plot, n)
            painter.drawText(
                QRectF(x - 30, plot.bottom() + 4, 60, fm.height()),
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                v.label,
            )
        painter.end()

    def _draw_series(self, painter: QPainter, plot: QRectF) -> None:
        path = QPainterPath()
        drawing = False
        for n, v in enumerate(self.values):
            if v.pct is None:
                drawing = False
                continue
            point = QPointF(self._x(plot, n), self._y(plot, v.pct))
            if drawing:
                path.lineTo(point)
            else:
                path.moveTo(point)
                drawing = True
        painter.setPen(QPen(LINE, 2.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        for n, v in enumerate(self.values):
            if v.pct is None:
                continue
            colour = LINE if v.pct >= self.target else TARGET
            painter.setPen(QPen(colour, 1.5))
            painter.setBrush(QColor("white"))
            painter.drawEllipse(QPointF(self._x(plot, n), self._y(plot, v.pct)), 4, 4)
