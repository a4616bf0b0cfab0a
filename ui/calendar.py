"""The day calendar: one column per resource, a time axis, bookings painted as blocks.

One painted widget (no widget per booking): :class:`DayCanvas` lays the blocks out from
raw booking dicts into ``QRect``s (also used for hit-testing) and paints them. In a
right-to-left layout the time axis is on the right and the first resource is the
rightmost column: every rectangle is computed left to right and mirrored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QToolTip, QVBoxLayout, QWidget

from app.domain.clock import from_iso, from_local
from app.domain.model import Status, VisitStatus
from app.domain.timerules import periods_on
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.text import display_name, fsi
from ui import formatting as f

AXIS_W = 72
HOUR_H = 104
TOP_PAD, BOTTOM_PAD = 10, 12
HEADER_H = 46
DEFAULT_HOURS = (7, 22)
HIDDEN_STATUSES = {Status.CANCELED, Status.REJECTED}

#: Status chip colours: (background, text).
CHIP = {
    "CONFIRMED": ("#ffffff", "#37474f"),
    VisitStatus.CHECKED_IN: ("#ffe082", "#5d4000"),
    VisitStatus.IN_PROGRESS: ("#2e7d32", "#ffffff"),
    VisitStatus.COMPLETED: ("#eceff1", "#455a64"),
    VisitStatus.NO_SHOW: ("#c62828", "#ffffff"),
    Status.PENDING_APPROVAL: ("#6a1b9a", "#ffffff"),
    Status.PENDING_PAYMENT: ("#6a1b9a", "#ffffff"),
    Status.CANCELED: ("#b71c1c", "#ffffff"),
    Status.REJECTED: ("#b71c1c", "#ffffff"),
}


def state_key(booking: dict) -> str:
    """The visual state of a booking: its visit status when it has one, else its status."""
    return booking.get("visitStatus") or booking.get("status") or ""


@dataclass
class Block:
    rect: QRect
    booking: dict
    column: int


class DayCanvas(QWidget):
    """Time axis + resource columns + booking blocks for one branch-local day."""

    bookingClicked = Signal(str)
    layoutChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.resources: list[dict] = []
        self.bookings: list[dict] = []
        self.types: dict[str, dict] = {}
        self.zone = "UTC"
        self.day: date | None = None
        self.now: datetime | None = None
        self.selected: str | None = None
        self.show_canceled = False
        self.first_hour, self.last_hour = DEFAULT_HOURS
        self.blocks: list[Block] = []
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumWidth(AXIS_W + 160)

    # data ------------------------------------------------------------------------------
    def set_day(self, day: date, resources: list[dict], bookings: list[dict], types: dict[str, dict],
                zone: str, now: datetime) -> None:
        self.day, self.resources, self.bookings = day, list(resources), list(bookings)
        self.types, self.zone, self.now = types, zone, now
        self.first_hour, self.last_hour = self._hours()
        self.setMinimumHeight(self.content_height())
        self.relayout()

    def set_now(self, now: datetime) -> None:
        self.now = now
        self.update()

    def set_selected(self, booking_id: str | None) -> None:
        if booking_id != self.selected:
            self.selected = booking_id
            self.update()

    def set_show_canceled(self, show: bool) -> None:
        self.show_canceled = show
        self.relayout()

    def visible_bookings(self) -> list[dict]:
        ids = {r["id"] for r in self.resources}
        return [b for b in self.bookings
                if b.get("startDateTime") and b.get("resourceId") in ids
                and (self.show_canceled or b.get("status") not in HIDDEN_STATUSES)]

    def block_of(self, booking_id: str) -> Block | None:
        return next((b for b in self.blocks if b.booking["id"] == booking_id), None)

    def booking_at(self, pos: QPoint) -> dict | None:
        for block in reversed(self.blocks):
            if block.rect.contains(pos):
                return block.booking
        return None

    # geometry --------------------------------------------------------------------------
    def _local(self, iso: str) -> datetime:
        return from_iso(iso).astimezone(ZoneInfo(self.zone))

    def _hours(self) -> tuple[int, int]:
        """First and last hour shown: the working hours of the day, widened to the bookings."""
        lo, hi = 24 * 60, 0
        for resource in self.resources:
            for start, end in periods_on(resource.get("timeRules"), self.day):
                lo, hi = min(lo, start // 100 * 60 + start % 100), max(hi, end // 100 * 60 + end % 100)
        for b in self.visible_bookings():
            start, end = self._minutes(b)
            lo, hi = min(lo, start), max(hi, end)
        if lo >= hi:
            return DEFAULT_HOURS
        return max(0, lo // 60), min(24, -(-hi // 60))

    def _minutes(self, booking: dict) -> tuple[int, int]:
        """Start and end of ``booking`` as minutes after the viewed day's local midnight."""
        midnight = datetime.combine(self.day, datetime.min.time(), ZoneInfo(self.zone))
        start = self._local(booking["startDateTime"])
        end = self._local(booking.get("endDateTime") or booking["startDateTime"])
        return (max(0, int((start - midnight).total_seconds() // 60)),
                min(24 * 60, int((end - midnight).total_seconds() // 60)))

    def content_height(self) -> int:
        return TOP_PAD + (self.last_hour - self.first_hour) * HOUR_H + BOTTOM_PAD

    def y_of(self, minutes: float) -> int:
        return round(TOP_PAD + (minutes - self.first_hour * 60) * HOUR_H / 60)

    def is_rtl(self) -> bool:
        return self.layoutDirection() == Qt.LayoutDirection.RightToLeft

    def _mirror(self, rect: QRect) -> QRect:
        if self.is_rtl():
            return QRect(self.width() - rect.x() - rect.width(), rect.y(), rect.width(), rect.height())
        return rect

    def axis_rect(self) -> QRect:
        return self._mirror(QRect(0, 0, AXIS_W, self.height()))

    def column_rect(self, index: int) -> QRect:
        n = max(1, len(self.resources))
        width = (self.width() - AXIS_W) / n
        x0, x1 = AXIS_W + round(index * width), AXIS_W + round((index + 1) * width)
        return self._mirror(QRect(x0, 0, x1 - x0, self.height()))

    def relayout(self) -> None:
        """Place every visible booking: its column, its minutes, and a lane when it overlaps others."""
        self.blocks = []
        if self.day is None:
            self.update()
            return
        columns = {r["id"]: i for i, r in enumerate(self.resources)}
        n = max(1, len(self.resources))
        col_w = (self.width() - AXIS_W) / n
        by_column: dict[int, list[tuple[int, int, dict]]] = {}
        for b in self.visible_bookings():
            start, end = self._minutes(b)
            by_column.setdefault(columns[b["resourceId"]], []).append((start, max(end, start + 10), b))
        for column, items in by_column.items():
            items.sort(key=lambda t: (t[0], -t[1]))
            for cluster in _clusters(items):
                lanes: list[int] = []  # end minute of each lane
                placed = []
                for start, end, b in cluster:
                    lane = next((i for i, last in enumerate(lanes) if last <= start), len(lanes))
                    if lane == len(lanes):
                        lanes.append(end)
                    else:
                        lanes[lane] = end
                    placed.append((start, end, b, lane))
                lane_w = (col_w - 8) / len(lanes)
                for start, end, b, lane in placed:
                    x = AXIS_W + column * col_w + 3 + lane * lane_w
                    y0, y1 = self.y_of(start), self.y_of(end)
                    rect = QRect(round(x), y0 + 1, max(8, round(lane_w) - 2), max(14, y1 - y0 - 2))
                    self.blocks.append(Block(self._mirror(rect), b, column))
        self.update()
        self.layoutChanged.emit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.relayout()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LayoutDirectionChange:
            self.relayout()

    def sizeHint(self) -> QSize:
        return QSize(900, self.content_height())

    # painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setLayoutDirection(self.layoutDirection())
        pal = self.palette()
        p.fillRect(event.rect(), QColor("#f4f5f7"))
        if self.day is None:
            return
        self._paint_columns(p)
        self._paint_axis(p, pal)
        for block in self.blocks:
            self._paint_block(p, block)
        self._paint_now(p)
        p.end()

    def _paint_columns(self, p: QPainter) -> None:
        for i, resource in enumerate(self.resources):
            col = self.column_rect(i)
            for start, end in periods_on(resource.get("timeRules"), self.day):
                y0 = self.y_of(start // 100 * 60 + start % 100)
                y1 = self.y_of(end // 100 * 60 + end % 100)
                p.fillRect(QRect(col.x(), y0, col.width(), y1 - y0), QColor("#ffffff"))
        grid = self._mirror(QRect(AXIS_W, 0, self.width() - AXIS_W, self.height()))
        for hour in range(self.first_hour, self.last_hour + 1):
            y = self.y_of(hour * 60)
            p.setPen(QPen(QColor("#cfd4da"), 1))
            p.drawLine(grid.left(), y, grid.right(), y)
            if hour < self.last_hour:
                p.setPen(QPen(QColor("#e6e9ed"), 1, Qt.PenStyle.DashLine))
                y = self.y_of(hour * 60 + 30)
                p.drawLine(grid.left(), y, grid.right(), y)
        p.setPen(QPen(QColor("#c3c9d0"), 1))
        for i in range(len(self.resources)):
            col = self.column_rect(i)
            x = col.left() if not self.is_rtl() else col.right()
            p.drawLine(x, 0, x, self.height())

    def _paint_axis(self, p: QPainter, pal) -> None:
        axis = self.axis_rect()
        p.fillRect(axis, QColor("#eef0f3"))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.9)
        p.setFont(font)
        p.setPen(QColor("#5f6b7a"))
        for hour in range(self.first_hour, self.last_hour + 1):
            y = self.y_of(hour * 60)
            moment = from_local(self.day, min(hour, 23) * 100, self.zone) + timedelta(hours=max(0, hour - 23))
            label = fmt.format_time(moment, self.zone)
            rect = QRect(axis.x() + 4, y - 9, axis.width() - 10, 18)
            # AlignRight is mirrored by the painter's layout direction: next to the columns.
            p.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)

    def _paint_block(self, p: QPainter, block: Block) -> None:
        b, rect = block.booking, block.rect
        booking_type = b.get("type") or self.types.get(b.get("typeId") or "") or {}
        base = QColor(booking_type.get("color") or "#90a4ae")
        key = state_key(b)
        faded = key in (VisitStatus.COMPLETED, VisitStatus.NO_SHOW, Status.CANCELED, Status.REJECTED)
        fill = _mix(base, QColor("#ffffff"), 0.62 if faded else 0.18)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(fill))
        p.drawRoundedRect(rect, 4, 4)
        stripe = QRect(rect.x(), rect.y(), 4, rect.height())
        if self.is_rtl():
            stripe.moveRight(rect.right())
        p.fillRect(stripe, base.darker(130))
        if key in (Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, VisitStatus.NO_SHOW, Status.CANCELED):
            p.setPen(QPen(base.darker(150), 1.5, Qt.PenStyle.DashLine))
        elif key == VisitStatus.IN_PROGRESS:
            p.setPen(QPen(QColor("#1b5e20"), 2.5))
        elif key == VisitStatus.CHECKED_IN:
            p.setPen(QPen(QColor("#f9a825"), 2.5))
        else:
            p.setPen(QPen(base.darker(125), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        if b["id"] == self.selected:
            p.setPen(QPen(self.palette().highlight().color(), 3))
            p.drawRoundedRect(rect.adjusted(-1, -1, 0, 0), 5, 5)

        text_color = QColor("#1c2530") if _luminance(fill) > 0.5 else QColor("#ffffff")
        p.save()
        p.setClipRect(rect)
        inner = rect.adjusted(8, 1, -6, -1)
        indicator = self._paint_status(p, b, key, inner)
        bold = QFont(self.font())
        bold.setPointSizeF(self.font().pointSizeF() * 0.95)
        bold.setBold(True)
        bold.setStrikeOut(key == VisitStatus.NO_SHOW)
        metrics = QFontMetrics(bold)
        line_h = metrics.height()
        first = QRect(inner.x(), inner.y(), max(0, inner.width() - indicator), min(line_h, inner.height()))
        if self.is_rtl():
            first.moveRight(inner.right())
        name = f.customer_name(b)
        if inner.height() < line_h * 2:  # one line: the name first, then the time if it fits
            # Translators: a short booking block in the calendar: customer name, then start time.
            name = _("{name}  {time}").format(name=fsi(name), time=fsi(f.time_of(b.get("startDateTime"), self.zone)))
        p.setPen(text_color)
        p.setFont(bold)
        p.drawText(first, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   metrics.elidedText(name, Qt.TextElideMode.ElideRight, first.width()))
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.85)
        p.setFont(small)
        sm = QFontMetrics(small)
        y = inner.y() + line_h
        for line in (f.span_of(b, self.zone), f.type_name(b, self.types), f.booking_status(b)):
            if y + sm.height() > inner.bottom() + 3:
                break
            p.drawText(QRect(inner.x(), y, inner.width(), sm.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       sm.elidedText(line, Qt.TextElideMode.ElideRight, inner.width()))
            y += sm.height()
        p.restore()

    def _paint_status(self, p: QPainter, booking: dict, key: str, inner: QRect) -> int:
        """The status in the block's trailing top corner: a labelled chip when the block is
        wide enough, else a coloured dot (none for a plain confirmed booking). Returns the
        width it took."""
        colors = CHIP.get(key)
        if not colors:
            return 0
        label = f.booking_status(booking)
        font = QFont(self.font())
        font.setPointSizeF(self.font().pointSizeF() * 0.78)
        font.setBold(True)
        metrics = QFontMetrics(font)
        w = metrics.horizontalAdvance(label) + 12
        h = min(metrics.height() + 2, inner.height())
        wide_enough = w <= inner.width() * 0.42 and (key != Status.CONFIRMED or inner.width() >= 220)
        if wide_enough:
            chip = QRect(inner.right() - w + 1, inner.y() + 2, w, h)
            if self.is_rtl():
                chip.moveLeft(inner.left())
            p.setPen(QPen(QColor(colors[1]), 0.6))
            p.setBrush(QColor(colors[0]))
            p.drawRoundedRect(chip, h / 2, h / 2)
            p.setPen(QColor(colors[1]))
            p.setFont(font)
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
            return w + 4
        if key == Status.CONFIRMED:
            return 0
        d = 9
        dot = QRect(inner.right() - d, inner.y() + 4, d, d)
        if self.is_rtl():
            dot.moveLeft(inner.left())
        p.setPen(QPen(QColor("#ffffff"), 1.2))
        p.setBrush(QColor(colors[0] if colors[0] != "#eceff1" else "#78909c"))
        p.drawEllipse(dot)
        return d + 4

    def _paint_now(self, p: QPainter) -> None:
        if not self.now or self.day is None:
            return
        local = self.now.astimezone(ZoneInfo(self.zone))
        if local.date() != self.day:
            return
        y = self.y_of(local.hour * 60 + local.minute + local.second / 60)
        grid = self._mirror(QRect(AXIS_W, 0, self.width() - AXIS_W, self.height()))
        p.setPen(QPen(QColor("#e53935"), 2))
        p.drawLine(grid.left(), y, grid.right(), y)
        p.setBrush(QColor("#e53935"))
        x = grid.left() if not self.is_rtl() else grid.right()
        p.drawEllipse(QPoint(x, y), 5, 5)

    # interaction -----------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        booking = self.booking_at(event.position().toPoint())
        if booking is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_selected(booking["id"])
            self.bookingClicked.emit(booking["id"])
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            booking = self.booking_at(event.pos())
            if booking is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), "\n".join(x for x in (
                    f.customer_name(booking), f.span_of(booking, self.zone),
                    f.type_name(booking, self.types), f.booking_status(booking)) if x), self)
            return True
        return super().event(event)


def _clusters(items: list[tuple[int, int, dict]]):
    """Groups of transitively overlapping (start, end, booking), sorted by start."""
    cluster: list = []
    end = -1
    for item in items:
        if cluster and item[0] >= end:
            yield cluster
            cluster, end = [], -1
        cluster.append(item)
        end = max(end, item[1])
    if cluster:
        yield cluster


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def _luminance(c: QColor) -> float:
    return (0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()) / 255


class ResourceHeader(QWidget):
    """The resource names above the canvas's columns (kept aligned with them)."""

    def __init__(self, canvas: DayCanvas, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.setFixedHeight(HEADER_H)
        canvas.layoutChanged.connect(self.update)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        p.fillRect(self.rect(), QColor("#eef0f3"))
        offset = self.canvas.mapTo(self.window(), QPoint(0, 0)).x() - self.mapTo(self.window(), QPoint(0, 0)).x()
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        p.setFont(bold)
        for i, resource in enumerate(self.canvas.resources):
            col = self.canvas.column_rect(i).translated(offset, 0)
            rect = QRect(col.x() + 6, 0, col.width() - 12, self.height())
            p.setPen(QColor("#1c2530"))
            name = display_name(resource)
            if metrics.horizontalAdvance(name) > rect.width():  # wrap on two lines, elide the rest
                words, lines = name.split(), [""]
                for word in words:
                    joined = f"{lines[-1]} {word}".strip()
                    if metrics.horizontalAdvance(joined) <= rect.width() or not lines[-1] or len(lines) == 2:
                        lines[-1] = joined
                    else:
                        lines.append(word)
                name = "\n".join(metrics.elidedText(x, Qt.TextElideMode.ElideRight, rect.width()) for x in lines)
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, name)
            p.setPen(QColor("#c3c9d0"))
            x = col.left() if not self.canvas.is_rtl() else col.right()
            p.drawLine(x, 8, x, self.height())
        p.setPen(QColor("#c3c9d0"))
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        p.end()


class CalendarView(QWidget):
    """Header + scrollable canvas."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = DayCanvas()
        self.header = ResourceHeader(self.canvas)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)

    def scroll_to_minutes(self, minutes: int) -> None:
        """Scroll so that ``minutes`` after local midnight is near the top."""
        self.scroll.verticalScrollBar().setValue(max(0, self.canvas.y_of(minutes) - HOUR_H // 2))
