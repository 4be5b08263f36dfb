"""Small trend charts for the recruitment dashboard, painted with QPainter.

QtCharts ships in PySide6-Addons, which the till does not install (the Essentials wheel is a
third of the size and starts faster; docs/rules.md, "Recruitment KPIs"). Two chart kinds are
enough here: bars against a target line (registrations per day), and percentage lines against a
target (会销比 and member sales share). Values are integers (counts, tenths of a percent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

GREEN = QColor("#0b6e4f")
LIGHT_GREEN = QColor("#8fd3b6")
RED = QColor("#c81e1e")
BLUE = QColor("#1c64f2")
ORANGE = QColor("#d97706")
GREY = QColor("#9aa5b1")
TEXT = QColor("#52606d")
GRID = QColor("#e4e7eb")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[int | None]
    color: QColor


class TrendChart(QWidget):
    """``bars`` mode: one bar per day (green when the day's target was met, else light), the
    target as a dashed line. ``lines`` mode: each series a line in tenths of a percent, the
    target dashed. Labels under the x axis thin out to fit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(280, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.title = ""
        self.labels: list[str] = []
        self.bars: list[int] = []
        self.targets: list[int] = []
        self.lines: list[Series] = []
        self.target_permille: int | None = None
        self.legend: list[tuple[str, QColor, bool]] = []  # name, colour, dashed

    def sizeHint(self) -> QSize:
        return QSize(340, 200)

    def set_bars(self, title: str, labels: Sequence[str], values: Sequence[int],
                 targets: Sequence[int], legend: Sequence[tuple[str, QColor, bool]] = ()
                 ) -> None:
        self.title, self.labels = title, list(labels)
        self.bars, self.targets, self.lines = list(values), list(targets), []
        self.target_permille, self.legend = None, list(legend)
        self.update()

    def set_lines(self, title: str, labels: Sequence[str], series: Sequence[Series],
                  target_permille: int | None, legend: Sequence[tuple[str, QColor, bool]] = ()
                  ) -> None:
        self.title, self.labels = title, list(labels)
        self.bars, self.targets, self.lines = [], [], list(series)
        self.target_permille, self.legend = target_permille, list(legend)
        self.update()

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        p.setPen(QPen(GRID))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        font = QFont(self.font())
        font.setPointSizeF(10.5)
        font.setBold(True)
        p.setFont(font)
        p.setPen(TEXT)
        p.drawText(QRectF(10, 6, self.width() - 20, 20), Qt.AlignmentFlag.AlignLeft, self.title)
        title_w = p.fontMetrics().horizontalAdvance(self.title)
        font.setBold(False)
        font.setPointSizeF(8.5)
        p.setFont(font)
        fm = p.fontMetrics()
        legend_w = sum(fm.horizontalAdvance(name) + 30 for name, _c, _d in self.legend)
        below = 10 + title_w + 20 + legend_w > self.width()  # no room beside the title
        self._legend(p, 26 if below else 8)
        top = 50 if below else 34
        area = QRectF(38, top, self.width() - 50, self.height() - top - 24)
        if area.width() < 40 or area.height() < 30 or not self.labels:
            p.end()
            return
        if self.bars or self.targets:
            self._paint_bars(p, area)
        else:
            self._paint_lines(p, area)
        self._x_labels(p, area)
        p.end()

    def _legend(self, p: QPainter, y: float) -> None:
        x = self.width() - 10
        for name, color, dashed in reversed(self.legend):
            w = p.fontMetrics().horizontalAdvance(name)
            x -= w
            p.setPen(TEXT)
            p.drawText(QRectF(x, y, w + 2, 16), Qt.AlignmentFlag.AlignLeft, name)
            x -= 18
            pen = QPen(color, 2.5)
            if dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x, y + 8), QPointF(x + 14, y + 8))
            x -= 12

    def _y_axis(self, p: QPainter, area: QRectF, top: int, fmt: str) -> None:
        p.setPen(QPen(GRID))
        for i in range(5):
            y = area.bottom() - area.height() * i / 4
            p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        p.setPen(TEXT)
        for i in (0, 2, 4):
            y = area.bottom() - area.height() * i / 4
            value = top * i // 4
            text = fmt.format(value / 10) if fmt else str(value)
            p.drawText(QRectF(0, y - 8, area.left() - 4, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_bars(self, p: QPainter, area: QRectF) -> None:
        n = len(self.labels)
        top = max([*self.bars, *self.targets, 1])
        top = _nice(top)
        self._y_axis(p, area, top, "")
        slot = area.width() / n
        for i, v in enumerate(self.bars):
            h = area.height() * v / top
            met = i < len(self.targets) and v >= self.targets[i] and self.targets[i] > 0
            color = GREEN if met else LIGHT_GREEN
            w = max(slot * 0.7, 1.0)
            p.fillRect(QRectF(area.left() + slot * i + (slot - w) / 2, area.bottom() - h, w, h),
                       color)
            if n <= 10 and v:
                p.setPen(TEXT)
                p.drawText(QRectF(area.left() + slot * i, area.bottom() - h - 15, slot, 14),
                           Qt.AlignmentFlag.AlignCenter, str(v))
        if self.targets:
            pen = QPen(ORANGE, 2, Qt.PenStyle.DashLine)
            p.setPen(pen)
            path = QPainterPath()
            for i, t in enumerate(self.targets):
                y = area.bottom() - area.height() * t / top
                x0, x1 = area.left() + slot * i, area.left() + slot * (i + 1)
                if i == 0:
                    path.moveTo(x0, y)
                else:
                    path.lineTo(x0, y)
                path.lineTo(x1, y)
            p.drawPath(path)

    def _paint_lines(self, p: QPainter, area: QRectF) -> None:
        n = len(self.labels)
        values = [v for s in self.lines for v in s.values if v is not None]
        top = _nice(max([*values, self.target_permille or 0, 1000]) // 10) * 10
        self._y_axis(p, area, top, "{:.0f}%")
        slot = area.width() / n

        def point(i: int, v: int) -> QPointF:
            return QPointF(area.left() + slot * (i + 0.5), area.bottom() - area.height() * v / top)

        if self.target_permille is not None:
            p.setPen(QPen(ORANGE, 2, Qt.PenStyle.DashLine))
            y = point(0, self.target_permille).y()
            p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        for s in self.lines:
            p.setPen(QPen(s.color, 2.2))
            path = QPainterPath()
            started = False
            for i, v in enumerate(s.values):
                if v is None:
                    started = False
                    continue
                if started:
                    path.lineTo(point(i, v))
                else:
                    path.moveTo(point(i, v))
                    started = True
            p.drawPath(path)
            if n <= 10:
                p.setBrush(s.color)
                for i, v in enumerate(s.values):
                    if v is not None:
                        p.drawEllipse(point(i, v), 2.5, 2.5)
                p.setBrush(Qt.BrushStyle.NoBrush)

    def _x_labels(self, p: QPainter, area: QRectF) -> None:
        n = len(self.labels)
        slot = area.width() / n
        width = max(p.fontMetrics().horizontalAdvance(t) for t in self.labels) + 6
        step = max(1, int(width // slot) + 1)
        p.setPen(TEXT)
        for i in range(n - 1, -1, -step):  # the newest day always labelled
            p.drawText(QRectF(area.left() + slot * i - 20, area.bottom() + 4, slot + 40, 16),
                       Qt.AlignmentFlag.AlignHCenter, self.labels[i])


def _nice(top: int) -> int:
    """The axis top: the value rounded up to 4, 8, 20, 40, ... so quarter lines are round."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2500, 5000):
        if top <= step * 4:
            return step * 4
    return (top + 9999) // 10000 * 10000
