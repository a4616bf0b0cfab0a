"""The week view: seven days in the locale's week order (Saudi Arabia: Sunday first), each
day split into one lane per shown resource. It is the same painted canvas as the day view
(:class:`ui.calendar.TimeCanvas`: culling, batching, cached geometry), with a two-row header:
the days, then the resources' lanes. Mirrored in a right-to-left layout (the first day is
the rightmost)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QToolTip, QWidget

from app.i18n import formats as fmt
from app.i18n.text import display_name
from ui.calendar.canvas import TimeCanvas
from ui.calendar.common import AXIS_COLOR, HEADER_H, day_label
from ui.calendar.layout import elide_end


def week_days(day: date) -> list[date]:
    """The seven days of the week containing ``day``, starting on the territory's first day."""
    first = fmt.first_week_day()
    start = day - timedelta(days=(day.weekday() - first) % 7)
    return [start + timedelta(days=i) for i in range(7)]


def short_name(resource: dict, width: int, metrics: QFontMetrics) -> str:
    """The resource's name fitted to a lane: whole, elided, or its initials."""
    name = display_name(resource)
    if metrics.horizontalAdvance(name) <= width:
        return name
    words = [w for w in name.split() if not w.endswith(".")]  # no titles (Dr., د.)
    initials = "".join(w[0] for w in words[:3])
    if width >= metrics.horizontalAdvance(name[:6] + "…"):
        return elide_end(name, width, lambda text, _role: metrics.horizontalAdvance(text), "")
    while initials and metrics.horizontalAdvance(initials) > width:
        initials = initials[:-1]  # the lane's tooltip has the whole name
    return initials


class WeekCanvas(TimeCanvas):
    """Seven local days × the shown resources."""

    def set_week(
        self,
        days: list[date],
        resources: list[dict],
        bookings: list[dict],
        types: dict[str, dict],
        zone: str,
        now: datetime,
    ) -> None:
        self.set_data(days, resources, bookings, types, zone, now)


class WeekHeader(QWidget):
    """Day names (today highlighted, weekend greyed) above their resource lanes, each lane
    labelled with its resource's name, elided name or initials (the tooltip has it whole)."""

    def lane_at(self, pos: QPoint) -> tuple[date, dict] | None:
        """The (day, resource) of the lane label under ``pos`` (header coordinates)."""
        offset = (
            self.canvas.mapTo(self.window(), QPoint(0, 0)).x() - self.mapTo(self.window(), QPoint(0, 0)).x()
        )
        column = self.canvas.column_at(pos.x() - offset)
        if column is None or not self.canvas.resources:
            return None
        return self.canvas.column_day_resource(column)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            lane = self.lane_at(event.pos())
            if lane is None:
                QToolTip.hideText()
            else:
                day, resource = lane
                QToolTip.showText(
                    event.globalPos(),
                    "\n".join((display_name(resource), day_label(day, "EEEE d MMMM"))),
                    self,
                )
            return True
        return super().event(event)

    def __init__(self, canvas: WeekCanvas, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.setFixedHeight(HEADER_H)
        canvas.layoutChanged.connect(self.update)
        self._cache: dict[tuple, str] = {}

    def paintEvent(self, event: QPaintEvent) -> None:
        canvas = self.canvas
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        p.fillRect(self.rect(), QColor(AXIS_COLOR))
        offset = canvas.mapTo(self.window(), QPoint(0, 0)).x() - self.mapTo(self.window(), QPoint(0, 0)).x()
        bold = QFont(self.font())
        bold.setBold(True)
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.78)
        sm = QFontMetrics(small)
        row = HEADER_H // 2 + 2
        today = canvas.now.astimezone(ZoneInfo(canvas.zone)).date() if canvas.now else None
        weekend = fmt.weekend_days()
        nres = max(1, len(canvas.resources))
        for d, day in enumerate(canvas.days):
            rect = canvas.day_rect(d).translated(offset, 0)
            top = QRect(rect.x(), 0, rect.width(), row)
            if day == today:
                p.fillRect(top, QColor("#dbe7fb"))
            elif day.weekday() in weekend:
                p.fillRect(top, QColor("#e3e5e9"))
            p.setFont(bold)
            p.setPen(QColor("#1565c0") if day == today else QColor("#1c2530"))
            label = day_label(day, "EEE d MMM")  # CLDR pattern: Babel localises the names
            p.drawText(
                top.adjusted(4, 0, -4, 0),
                Qt.AlignmentFlag.AlignCenter,
                elide_end(
                    label, max(0, top.width() - 8), lambda t, _r: QFontMetrics(bold).horizontalAdvance(t), ""
                ),
            )
            p.setFont(small)
            p.setPen(QColor("#5f6b7a"))
            for r, resource in enumerate(canvas.resources):
                lane = canvas.column_rect(d * nres + r).translated(offset, 0)
                width = lane.width() - 2
                key = (resource["id"], width)
                text = self._cache.get(key)
                if text is None:
                    text = self._cache[key] = short_name(resource, width, sm)
                if text:
                    p.drawText(
                        QRect(lane.x() + 1, row, width, HEADER_H - row - 2),
                        Qt.AlignmentFlag.AlignCenter,
                        text,
                    )
                if r:
                    p.setPen(QColor("#d5d9df"))
                    x = lane.left() if not canvas.is_rtl() else lane.right()
                    p.drawLine(x, row + 3, x, HEADER_H - 3)
                    p.setPen(QColor("#5f6b7a"))
        p.setPen(QColor("#c3c9d0"))
        p.drawLine(0, row, self.width(), row)
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        p.end()
