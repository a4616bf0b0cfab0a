"""The calendar: a time axis, one column per resource (day view) or per day and resource
lane (week view, :mod:`ui.week_view`), bookings painted as blocks.

One painted widget (no widget or scene item per booking), built to stay smooth with
thousands of bookings:

* the bookings are parsed once per data change (:meth:`TimeCanvas._prepare`), placed in
  columns and overlap lanes once per filter change (:meth:`TimeCanvas._assign`) and turned
  into rectangles once per zoom or resize (:meth:`TimeCanvas._geometry`);
* painting visits only the columns and the minutes the exposed rectangle intersects (a
  bisection on each column's sorted starts), draws small blocks in batches of one colour
  (``drawRects``) and big ones with their text laid out once (``QStaticText``, cached).

In a right-to-left layout the time axis is on the right and the first day / resource is the
rightmost column: every rectangle is computed left to right and mirrored.

While a booking is dragged the canvas shows where it could go (free starts shaded green,
the rest hatched) from free times the :class:`CalendarView` fetches from the server when the
drag starts; a drop emits :attr:`TimeCanvas.dropped` and the view decides (free slot →
reschedule, busy → ask an overbook reason first)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QStaticText,
    QTextOption,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import from_local, local_day_bounds, to_iso
from app.domain.model import Status, VisitStatus
from app.domain.timerules import periods_on
from app.i18n import _, current_language
from app.i18n import formats as fmt
from app.i18n.text import display_name, fsi
from ui import formatting as f
from ui.models import allowed

AXIS_W = 72
HOUR_H = 104  # the default zoom: pixels per hour
ZOOM_STEPS = (24, 32, 40, 52, 64, 80, 104, 130, 160, 200, 260)
TOP_PAD, BOTTOM_PAD = 10, 12
HEADER_H = 46
DAY_GAP = 5
DEFAULT_HOURS = (7, 22)
HIDDEN_STATUSES = {Status.CANCELED, Status.REJECTED}
SNAP_MINUTES = 5
MAGNET_MINUTES = 7      # a drop this close to a free start snaps to it
DETAIL_W, DETAIL_H = 46, 13   # smaller blocks are painted in batches, without text
TILE_H, MAX_TILES = 512, 10   # the painted content is kept in tiles of the full width

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
#: The status bar across the top of a small block (and the legend's status marks).
STATUS_MARK = {
    VisitStatus.CHECKED_IN: "#f9a825",
    VisitStatus.IN_PROGRESS: "#2e7d32",
    VisitStatus.COMPLETED: "#78909c",
    VisitStatus.NO_SHOW: "#c62828",
    Status.PENDING_APPROVAL: "#6a1b9a",
    Status.PENDING_PAYMENT: "#6a1b9a",
    Status.CANCELED: "#b71c1c",
    Status.REJECTED: "#b71c1c",
}
FADED = (VisitStatus.COMPLETED, VisitStatus.NO_SHOW, Status.CANCELED, Status.REJECTED)
OFF_COLOR, WORK_COLOR, AXIS_COLOR = "#e9ebef", "#ffffff", "#eef0f3"
FREE_COLOR = QColor(76, 175, 80, 70)
BUSY_COLOR = QColor(120, 130, 140, 110)


def state_key(booking: dict) -> str:
    """The visual state of a booking: its visit status when it has one, else its status."""
    return booking.get("visitStatus") or booking.get("status") or ""


def _minutes(military: int) -> int:
    return military // 100 * 60 + military % 100


class Block:
    """One placed booking: its rectangle (widget coordinates, mirrored in RTL), its column,
    its minutes after the local midnight of its day, and the colours it is painted with."""

    __slots__ = ("rect", "booking", "column", "start", "end", "lane", "lanes", "fill", "stripe", "mark", "key")

    def __init__(self, booking: dict, column: int, start: int, end: int, fill: QColor, stripe: QColor,
                 mark: QColor | None, key: str):
        self.booking, self.column, self.start, self.end = booking, column, start, end
        self.fill, self.stripe, self.mark, self.key = fill, stripe, mark, key
        self.lane, self.lanes = 0, 1
        self.rect = QRect()


@dataclass
class _Item:
    """A booking parsed once per data change: its day index, resource and minutes."""
    booking: dict
    day: int
    resource: str
    start: int
    end: int


@dataclass
class DragState:
    booking: dict
    offset: int                 # minutes between the booking's start and the grab point
    duration: int
    column: int | None = None   # the target column
    minutes: int | None = None  # the target start
    free: bool = False


class TimeCanvas(QWidget):
    """Time axis + (day × resource) columns + booking blocks for one or more local days."""

    bookingClicked = Signal(str)
    bookingActivated = Signal(str)
    layoutChanged = Signal()
    dragStarted = Signal(str)                       # booking id
    dropped = Signal(str, object, int, str, bool)   # booking id, day, local minutes, resource id, free
    zoomRequested = Signal(int, int)                # steps (+ in, - out), anchor y in the canvas

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.days: list[date] = []
        self.all_resources: list[dict] = []
        self.resources: list[dict] = []     # the shown ones (resource filter)
        self.hidden_resources: set[str] = set()
        self.bookings: list[dict] = []
        self.types: dict[str, dict] = {}
        self.zone = "UTC"
        self.now: datetime | None = None
        self.selected: str | None = None
        self.show_canceled = False
        self.hour_h = HOUR_H
        self.first_hour, self.last_hour = DEFAULT_HOURS
        self.blocks: list[Block] = []
        self._items: list[_Item] = []
        self._by_column: list[list[Block]] = []
        self._starts: list[list[int]] = []
        self._max_len: list[int] = []
        self._periods: list[list[tuple[int, int]]] = []   # per column: working periods (minutes)
        self._work_rects: list[QRect] = []
        self._break_rects: list[QRect] = []
        self._text_cache: dict[tuple, list] = {}
        self._tiles: dict[int, QPixmap] = {}
        self._block_by_id: dict[str, Block] = {}
        self._colors: dict[str, QColor] = {}
        self._free: dict[tuple[int, str], list[int]] | None = None   # (day, resource) → free starts
        self._free_for: str | None = None
        self.drag: DragState | None = None
        self.pending: DragState | None = None   # a drop waiting for the server's answer
        self._press: tuple[QPoint, Block] | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumWidth(AXIS_W + 160)

    # data ------------------------------------------------------------------------------
    @property
    def day(self) -> date | None:
        return self.days[0] if self.days else None

    def set_data(self, days: list[date], resources: list[dict], bookings: list[dict], types: dict[str, dict],
                 zone: str, now: datetime) -> None:
        self.days, self.all_resources, self.bookings = list(days), list(resources), list(bookings)
        self.types, self.zone, self.now = types, zone, now
        self.pending = None
        if self.drag is not None and self.find(self.drag.booking["id"]) is None:
            self.drag = None
        self._text_cache.clear()
        self._prepare()
        self._assign()

    def set_now(self, now: datetime) -> None:
        self.now = now
        self.update()

    def set_selected(self, booking_id: str | None) -> None:
        if booking_id != self.selected:
            self.selected = booking_id
            self.update()

    def set_show_canceled(self, show: bool) -> None:
        self.show_canceled = show
        self._assign()

    def set_hidden_resources(self, hidden: Iterable[str]) -> None:
        self.hidden_resources = set(hidden)
        self._assign()

    def set_hour_height(self, hour_h: int) -> None:
        if hour_h != self.hour_h:
            self.hour_h = hour_h
            self._text_cache.clear()
            self.setMinimumHeight(self.content_height())
            self._geometry()

    def find(self, booking_id: str | None) -> dict | None:
        return next((b for b in self.bookings if b["id"] == booking_id), None) if booking_id else None

    def visible_bookings(self) -> list[dict]:
        ids = {r["id"] for r in self.resources}
        return [b for b in self.bookings
                if b.get("startDateTime") and b.get("resourceId") in ids
                and (self.show_canceled or b.get("status") not in HIDDEN_STATUSES)]

    def block_of(self, booking_id: str) -> Block | None:
        return self._block_by_id.get(booking_id)

    def booking_at(self, pos: QPoint) -> dict | None:
        block = self.block_at(pos)
        return block.booking if block else None

    def block_at(self, pos: QPoint) -> Block | None:
        column = self.column_at(pos.x())
        if column is None or column >= len(self._by_column):
            return None
        for block in reversed(self._by_column[column]):
            if block.rect.contains(pos):
                return block
        return None

    # preparing (once per data change / filter change) ----------------------------------
    def _color(self, name: str) -> QColor:
        color = self._colors.get(name)
        if color is None:
            color = self._colors[name] = QColor(name)
        return color

    def _prepare(self) -> None:
        """Parse every booking once: its day index, resource and local minutes."""
        self._items = []
        if not self.days:
            return
        zone = ZoneInfo(self.zone)
        # Epoch seconds of each shown day's local midnight (and of the day after the last):
        # minutes are elapsed time since the day's midnight, right across a DST change.
        days = [*self.days, self.days[-1] + timedelta(days=1)]
        edges = [datetime.combine(d, time(0), zone).timestamp() for d in days]
        first, last = edges[0], edges[-1]
        parse = datetime.fromisoformat
        items = self._items
        for b in self.bookings:
            text = b.get("startDateTime")
            resource = b.get("resourceId")
            if not text or not resource:
                continue
            start = parse(text).timestamp()
            if start < first or start >= last:
                continue
            day = bisect.bisect_right(edges, start) - 1
            midnight = edges[day]
            end = parse(b.get("endDateTime") or text).timestamp()
            m0 = int((start - midnight) // 60)
            m1 = int((end - midnight) // 60)
            items.append(_Item(b, day, resource, m0, m1 if m1 < 1440 else 1440))

    def _type_colors(self, booking: dict, faded: bool) -> tuple[QColor, QColor]:
        booking_type = booking.get("type") or self.types.get(booking.get("typeId") or "") or {}
        name = booking_type.get("color") or "#90a4ae"
        key = f"{name}/{'f' if faded else 'n'}"
        fill = self._colors.get(key)
        if fill is None:
            base = self._color(name)
            fill = self._colors[key] = _mix(base, QColor("#ffffff"), 0.62 if faded else 0.18)
            self._colors[name + "/s"] = base.darker(130)
        return fill, self._colors[name + "/s"]

    def _assign(self) -> None:
        """Columns, working periods, hours and overlap lanes of the shown bookings."""
        self.resources = [r for r in self.all_resources if r["id"] not in self.hidden_resources]
        nres = max(1, len(self.resources))
        res_index = {r["id"]: i for i, r in enumerate(self.resources)}
        ncols = len(self.days) * len(self.resources)
        self._periods = []
        for day in self.days:
            for resource in self.resources:
                self._periods.append([(_minutes(a), _minutes(b)) for a, b in periods_on(resource.get("timeRules"), day)])
        columns: list[list[Block]] = [[] for _ in range(ncols)]
        lo, hi = 24 * 60, 0
        for periods in self._periods:
            for a, b in periods:
                lo, hi = min(lo, a), max(hi, b)
        marks = {key: self._color(color) for key, color in STATUS_MARK.items()}
        show_canceled = self.show_canceled
        type_colors = self._type_colors
        for item in self._items:
            r = res_index.get(item.resource)
            if r is None:
                continue
            b = item.booking
            if not show_canceled and b.get("status") in HIDDEN_STATUSES:
                continue
            key = b.get("visitStatus") or b.get("status") or ""
            fill, stripe = type_colors(b, key in FADED)
            start, end = item.start, item.end
            if end < start + 10:
                end = start + 10
            column = item.day * nres + r
            columns[column].append(Block(b, column, start, end, fill, stripe, marks.get(key), key))
            if start < lo:
                lo = start
            if end > hi:
                hi = end
        self.first_hour, self.last_hour = (DEFAULT_HOURS if lo >= hi else (max(0, lo // 60), min(24, -(-hi // 60))))
        self.blocks = []
        self._starts, self._max_len = [], []
        for column in columns:
            column.sort(key=lambda bl: (bl.start, -bl.end))
            longest = 0
            for cluster in _clusters(column):
                lanes: list[int] = []   # the end minute of each lane
                for block in cluster:
                    start = block.start
                    for i, last in enumerate(lanes):
                        if last <= start:
                            lanes[i] = block.end
                            block.lane = i
                            break
                    else:
                        block.lane = len(lanes)
                        lanes.append(block.end)
                    if block.end - start > longest:
                        longest = block.end - start
                n = len(lanes)
                for block in cluster:
                    block.lanes = n
            self.blocks.extend(column)
            self._starts.append([bl.start for bl in column])
            self._max_len.append(longest)
        self._by_column = columns
        self._block_by_id = {bl.booking["id"]: bl for bl in self.blocks}
        self.setMinimumHeight(self.content_height())
        self._geometry()

    # geometry (once per zoom / resize) ----------------------------------------------------
    def content_height(self) -> int:
        return TOP_PAD + (self.last_hour - self.first_hour) * self.hour_h + BOTTOM_PAD

    def y_of(self, minutes: float) -> int:
        return round(TOP_PAD + (minutes - self.first_hour * 60) * self.hour_h / 60)

    def minutes_at(self, y: float) -> float:
        return self.first_hour * 60 + (y - TOP_PAD) * 60 / self.hour_h

    def is_rtl(self) -> bool:
        return self.layoutDirection() == Qt.LayoutDirection.RightToLeft

    def _mirror(self, rect: QRect) -> QRect:
        if self.is_rtl():
            return QRect(self.width() - rect.x() - rect.width(), rect.y(), rect.width(), rect.height())
        return rect

    def _unmirror_x(self, x: int) -> int:
        return self.width() - 1 - x if self.is_rtl() else x

    def axis_rect(self) -> QRect:
        return self._mirror(QRect(0, 0, AXIS_W, self.height()))

    def _gap(self) -> int:
        return DAY_GAP if len(self.days) > 1 else 0

    def _day_width(self) -> float:
        n = max(1, len(self.days))
        return (self.width() - AXIS_W - self._gap() * (n - 1)) / n

    def _column_x(self, index: int) -> tuple[int, int]:
        """Left-to-right x range of a column (before mirroring)."""
        nres = max(1, len(self.resources))
        day, r = divmod(index, nres)
        day_w = self._day_width()
        lane_w = day_w / nres
        x = AXIS_W + day * (day_w + self._gap())
        return round(x + r * lane_w), round(x + (r + 1) * lane_w)

    def column_rect(self, index: int) -> QRect:
        x0, x1 = self._column_x(index)
        return self._mirror(QRect(x0, 0, x1 - x0, self.height()))

    def day_rect(self, day_index: int) -> QRect:
        nres = max(1, len(self.resources))
        x0 = self._column_x(day_index * nres)[0]
        x1 = self._column_x(day_index * nres + nres - 1)[1]
        return self._mirror(QRect(x0, 0, x1 - x0, self.height()))

    def column_count(self) -> int:
        return len(self.days) * len(self.resources)

    def column_at(self, x: int) -> int | None:
        """The column under widget x (None on the axis or a gap between days)."""
        x = self._unmirror_x(x)
        if x < AXIS_W or not self.resources or not self.days:
            return None
        nres = len(self.resources)
        day_w = self._day_width()
        day, within = divmod(x - AXIS_W, day_w + self._gap())
        if day >= len(self.days) or within >= day_w:
            return None
        return int(day) * nres + min(nres - 1, int(within / (day_w / nres)))

    def column_day_resource(self, column: int) -> tuple[date, dict]:
        nres = max(1, len(self.resources))
        return self.days[column // nres], self.resources[column % nres]

    def _geometry(self) -> None:
        """Rectangles of blocks and working hours for the current zoom and width."""
        rtl, width = self.is_rtl(), self.width()
        scale, origin = self.hour_h / 60, TOP_PAD - self.first_hour * self.hour_h
        min_h = 6 if self.hour_h < 60 else 14
        for column, blocks in enumerate(self._by_column):
            x0, x1 = self._column_x(column)
            inner = x1 - x0 - (3 if x1 - x0 > 24 else 1)
            pad = 2 if x1 - x0 > 24 else 0
            for block in blocks:
                lane_w = inner / block.lanes
                y0 = round(origin + block.start * scale)
                h = round(origin + block.end * scale) - y0 - 2
                w = round(lane_w) - 1
                x = round(x0 + pad + block.lane * lane_w)
                if w < 3:
                    w = 3
                if rtl:
                    x = width - x - w
                block.rect = QRect(x, y0 + 1, w, h if h > min_h else min_h)
        self._work_rects, self._break_rects = [], []
        for column, periods in enumerate(self._periods):
            x0, x1 = self._column_x(column)
            for i, (a, b) in enumerate(periods):
                self._work_rects.append(self._mirror(QRect(x0, self.y_of(a), x1 - x0, self.y_of(b) - self.y_of(a))))
                if i + 1 < len(periods) and periods[i + 1][0] > b:
                    nxt = periods[i + 1][0]
                    self._break_rects.append(self._mirror(QRect(x0, self.y_of(b), x1 - x0, self.y_of(nxt) - self.y_of(b))))
        self._tiles.clear()
        self.update()
        self.layoutChanged.emit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._geometry()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LayoutDirectionChange:
            self._text_cache.clear()
            self._geometry()

    def sizeHint(self) -> QSize:
        return QSize(900, self.content_height())

    # painting --------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget the painted tiles and the laid-out texts (a language switch, new colours)."""
        self._text_cache.clear()
        self._tiles.clear()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The static content (working hours, grid, axis, blocks) comes from tiles painted once
        per data change / zoom / width; selection, drag state and the time line go on top."""
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        exposed = event.rect()
        if not self.days:
            p.fillRect(exposed, self._color(OFF_COLOR))
            p.end()
            return
        if self.drag is not None and self._free is not None:   # free/busy shading under the blocks
            p.fillRect(exposed, self._color(OFF_COLOR))
            p.setClipRect(exposed)
            self._paint_background(p, exposed)
            self._paint_free_busy(p, exposed)
            self._paint_axis(p, exposed)
            self._paint_blocks(p, exposed)
        else:
            self._paint_tiles(p, exposed)
            p.setClipRect(exposed)
        self._paint_overlays(p)
        self._paint_now(p)
        for ghost in (self.pending, self.drag):
            if ghost is not None and ghost.column is not None:
                self._paint_ghost(p, ghost)
        p.end()

    def _paint_tiles(self, p: QPainter, exposed: QRect) -> None:
        dpr = self.devicePixelRatioF()
        for tile in range(max(0, exposed.top()) // TILE_H, exposed.bottom() // TILE_H + 1):
            pixmap = self._tiles.pop(tile, None)
            if pixmap is None or pixmap.width() != round(self.width() * dpr):
                pixmap = self._render_tile(tile, dpr)
            self._tiles[tile] = pixmap          # most recently used last
            while len(self._tiles) > MAX_TILES:
                self._tiles.pop(next(iter(self._tiles)))
            target = QRect(0, tile * TILE_H, self.width(), TILE_H).intersected(exposed)
            source = QRectF(target.x() * dpr, (target.y() - tile * TILE_H) * dpr,
                            target.width() * dpr, target.height() * dpr)
            p.drawPixmap(QRectF(target), pixmap, source)

    def _render_tile(self, tile: int, dpr: float) -> QPixmap:
        pixmap = QPixmap(round(self.width() * dpr), round(TILE_H * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(self._color(OFF_COLOR))
        rect = QRect(0, tile * TILE_H, self.width(), TILE_H)
        tp = QPainter(pixmap)
        tp.setLayoutDirection(self.layoutDirection())
        tp.setFont(self.font())
        tp.translate(0, -tile * TILE_H)
        tp.setClipRect(rect)
        self._paint_background(tp, rect)
        self._paint_axis(tp, rect)
        self._paint_blocks(tp, rect)
        tp.end()
        return pixmap

    def _paint_overlays(self, p: QPainter) -> None:
        """Dragged (or waiting to move) blocks veiled, the selected one outlined."""
        for ghost in (self.drag, self.pending):
            if ghost is not None and ghost.column is not None:
                block = self._block_by_id.get(ghost.booking["id"])
                if block is not None:
                    veil = QColor(self._color(WORK_COLOR))
                    veil.setAlpha(150)
                    p.fillRect(block.rect, veil)
        block = self._block_by_id.get(self.selected) if self.selected else None
        if block is not None:
            p.setPen(QPen(self.palette().highlight().color(), 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(block.rect.adjusted(-1, -1, 0, 0))

    def _visible_columns(self, exposed: QRect) -> range:
        n = self.column_count()
        if n == 0:
            return range(0)
        a, b = self._unmirror_x(exposed.left()), self._unmirror_x(exposed.right())
        a, b = min(a, b), max(a, b)
        lo = next((c for c in range(n) if self._column_x(c)[1] >= a), n)
        hi = lo
        while hi < n and self._column_x(hi)[0] <= b:
            hi += 1
        return range(lo, hi)

    def _paint_background(self, p: QPainter, exposed: QRect) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._color(WORK_COLOR))
        p.drawRects([r for r in self._work_rects if r.intersects(exposed)])
        breaks = [r for r in self._break_rects if r.intersects(exposed)]
        if breaks:
            p.setBrush(QBrush(self._color("#d5d9df"), Qt.BrushStyle.BDiagPattern))
            p.drawRects(breaks)
        grid = self._mirror(QRect(AXIS_W, 0, self.width() - AXIS_W, self.height()))
        top, bottom = exposed.top(), exposed.bottom()
        hour_pen, half_pen = QPen(self._color("#cfd4da"), 1), QPen(self._color("#e6e9ed"), 1, Qt.PenStyle.DashLine)
        for hour in range(self.first_hour, self.last_hour + 1):
            y = self.y_of(hour * 60)
            if top - 1 <= y <= bottom + 1:
                p.setPen(hour_pen)
                p.drawLine(grid.left(), y, grid.right(), y)
            if hour < self.last_hour and self.hour_h >= 40:
                y = self.y_of(hour * 60 + 30)
                if top <= y <= bottom:
                    p.setPen(half_pen)
                    p.drawLine(grid.left(), y, grid.right(), y)
        nres = max(1, len(self.resources))
        lane_pen, day_pen = QPen(self._color("#dde1e6"), 1), QPen(self._color("#aab2bc"), 1)
        for column in self._visible_columns(exposed):
            rect = self.column_rect(column)
            x = rect.left() if not self.is_rtl() else rect.right()
            p.setPen(day_pen if column % nres == 0 else lane_pen)
            p.drawLine(x, top, x, bottom)
        if len(self.days) > 1:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._color("#c9ced6"))
            for d in range(len(self.days) - 1):
                right = self.day_rect(d)
                gap = QRect(right.right() + 1, top, DAY_GAP, bottom - top + 1) if not self.is_rtl() else \
                    QRect(right.left() - DAY_GAP, top, DAY_GAP, bottom - top + 1)
                p.drawRect(gap)

    def _paint_free_busy(self, p: QPainter, exposed: QRect) -> None:
        """While dragging: free starts of the dragged booking's type green, the rest hatched."""
        type_id = self.drag.booking.get("typeId")
        busy = QBrush(BUSY_COLOR, Qt.BrushStyle.BDiagPattern)
        not_served = QBrush(QColor(120, 130, 140, 60), Qt.BrushStyle.Dense6Pattern)
        p.setPen(Qt.PenStyle.NoPen)
        step = 15
        for column in self._visible_columns(exposed):
            day, resource = self.column_day_resource(column)
            rect = self.column_rect(column)
            area = QRect(rect.x(), self.y_of(self.first_hour * 60), rect.width(),
                         self.y_of(self.last_hour * 60) - self.y_of(self.first_hour * 60))
            if type_id not in (resource.get("types") or []):
                p.fillRect(area, not_served)
                continue
            p.fillRect(area, busy)
            starts = self._free.get((self.days.index(day), resource["id"]), [])
            p.setBrush(self._color(WORK_COLOR))
            cells = [QRect(rect.x(), self.y_of(m), rect.width(), max(2, self.y_of(m + step) - self.y_of(m)))
                     for m in starts]
            p.drawRects(cells)
            p.setBrush(FREE_COLOR)
            p.drawRects(cells)

    def _paint_axis(self, p: QPainter, exposed: QRect) -> None:
        axis = self.axis_rect()
        if not axis.intersects(exposed):
            return
        p.fillRect(axis.intersected(exposed), self._color(AXIS_COLOR))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.9)
        p.setFont(font)
        p.setPen(self._color("#5f6b7a"))
        day = self.days[0]
        for hour in range(self.first_hour, self.last_hour + 1):
            y = self.y_of(hour * 60)
            if not (exposed.top() - 12 <= y <= exposed.bottom() + 12):
                continue
            label = _axis_label(day, hour, self.zone)
            rect = QRect(axis.x() + 4, y - 9, axis.width() - 10, 18)
            # AlignRight is mirrored by the painter's layout direction: next to the columns.
            p.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)

    def _visible_blocks(self, exposed: QRect) -> list[Block]:
        lo = self.minutes_at(exposed.top() - 2)
        hi = self.minutes_at(exposed.bottom() + 2)
        out: list[Block] = []
        for column in self._visible_columns(exposed):
            if column >= len(self._by_column):
                break
            blocks, starts = self._by_column[column], self._starts[column]
            i0 = bisect.bisect_left(starts, lo - self._max_len[column])
            i1 = bisect.bisect_right(starts, hi)
            out.extend(bl for bl in blocks[i0:i1] if bl.end >= lo)
        return out

    def _paint_blocks(self, p: QPainter, exposed: QRect) -> None:
        visible = self._visible_blocks(exposed)
        small: dict[int, tuple[QColor, list[QRect]]] = {}
        stripes: dict[int, tuple[QColor, list[QRect]]] = {}
        marks: dict[int, tuple[QColor, list[QRect]]] = {}
        big: list[Block] = []
        rtl = self.is_rtl()
        for block in visible:
            rect = block.rect
            if rect.width() >= DETAIL_W and rect.height() >= DETAIL_H:
                big.append(block)
                continue
            small.setdefault(id(block.fill), (block.fill, []))[1].append(rect)
            if rect.width() >= 8:
                stripe = QRect(rect.right() - 1, rect.y(), 2, rect.height()) if rtl else \
                    QRect(rect.x(), rect.y(), 2, rect.height())
                stripes.setdefault(id(block.stripe), (block.stripe, []))[1].append(stripe)
            if block.mark is not None:
                marks.setdefault(id(block.mark), (block.mark, []))[1].append(
                    QRect(rect.x(), rect.y(), rect.width(), min(3, rect.height())))
        p.setPen(Qt.PenStyle.NoPen)
        for group in (small, stripes, marks):
            for color, rects in group.values():
                p.setBrush(color)
                p.drawRects(rects)
        if big:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            for block in big:
                self._paint_block(p, block)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_block(self, p: QPainter, block: Block) -> None:
        b, rect, key = block.booking, block.rect, block.key
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(block.fill)
        p.drawRoundedRect(rect, 4, 4)
        stripe = QRect(rect.x(), rect.y(), 4, rect.height())
        if self.is_rtl():
            stripe.moveRight(rect.right())
        p.fillRect(stripe, block.stripe)
        base = block.stripe
        if key in (Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, VisitStatus.NO_SHOW, Status.CANCELED):
            p.setPen(QPen(base.darker(120), 1.5, Qt.PenStyle.DashLine))
        elif key == VisitStatus.IN_PROGRESS:
            p.setPen(QPen(self._color("#1b5e20"), 2.5))
        elif key == VisitStatus.CHECKED_IN:
            p.setPen(QPen(self._color("#f9a825"), 2.5))
        else:
            p.setPen(QPen(base, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        cache_key = (b["id"], rect.width(), rect.height())
        parts = self._text_cache.get(cache_key)
        if parts is None:
            if len(self._text_cache) > 4000:   # keyed by size: old zooms and widths pile up
                self._text_cache.clear()
            parts = self._text_cache[cache_key] = self._layout_text(block)
        origin = rect.topLeft()
        for kind, item, offset, a, c in parts:
            if kind == "chip":
                chip = item.translated(origin)
                p.setPen(QPen(c, 0.6))
                p.setBrush(a)
                p.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            elif kind == "dot":
                p.setPen(QPen(self._color("#ffffff"), 1.2))
                p.setBrush(a)
                p.drawEllipse(item.translated(origin))
            else:
                p.setPen(c)
                p.setFont(a)
                p.drawStaticText(QPointF(origin) + offset, item)

    def _static(self, text: str, font: QFont) -> QStaticText:
        st = QStaticText(text)
        st.setTextFormat(Qt.TextFormat.PlainText)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.NoWrap)
        option.setTextDirection(self.layoutDirection())
        st.setTextOption(option)
        st.prepare(QTransform(), font)
        return st

    def _layout_text(self, block: Block) -> list:
        """The block's text and status chip, laid out once (relative to the block's corner)."""
        b, rect, key = block.booking, block.rect, block.key
        rtl = self.is_rtl()
        parts: list = []
        inner = QRect(8, 1, rect.width() - 14, rect.height() - 2)
        indicator = 0
        colors = CHIP.get(key)
        if colors:
            label = f.booking_status(b)
            chip_font = QFont(self.font())
            chip_font.setPointSizeF(self.font().pointSizeF() * 0.78)
            chip_font.setBold(True)
            cm = QFontMetrics(chip_font)
            w = cm.horizontalAdvance(label) + 12
            h = min(cm.height() + 2, inner.height())
            if w <= inner.width() * 0.42 and (key != Status.CONFIRMED or inner.width() >= 220):
                chip = QRect(inner.right() - w + 1, inner.y() + 2, w, h)
                if rtl:
                    chip.moveLeft(inner.left())
                parts.append(("chip", chip, None, self._color(colors[0]), self._color(colors[1])))
                st = self._static(label, chip_font)
                size = st.size()
                parts.append(("text", st, QPointF(chip.x() + (w - size.width()) / 2, chip.y() + (h - size.height()) / 2),
                              chip_font, self._color(colors[1])))
                indicator = w + 4
            elif key != Status.CONFIRMED:
                d = 9
                dot = QRect(inner.right() - d, inner.y() + 4, d, d)
                if rtl:
                    dot.moveLeft(inner.left())
                parts.append(("dot", dot, None, self._color(colors[0] if colors[0] != "#eceff1" else "#78909c"), None))
                indicator = d + 4
        text_color = self._color("#1c2530") if _luminance(block.fill) > 0.5 else self._color("#ffffff")
        bold = QFont(self.font())
        bold.setPointSizeF(self.font().pointSizeF() * 0.95)
        bold.setBold(True)
        bold.setStrikeOut(key == VisitStatus.NO_SHOW)
        metrics = QFontMetrics(bold)
        line_h = metrics.height()
        width = max(0, inner.width() - indicator)
        name = f.customer_name(b)
        if inner.height() < line_h * 2:  # one line: the name first, then the time if it fits whole
            # Translators: a short booking block in the calendar: customer name, then start time.
            both = _("{name}  {time}").format(name=fsi(name), time=fsi(f.time_of(b.get("startDateTime"), self.zone)))
            if metrics.horizontalAdvance(both) <= width:  # never a cut-off time such as "1…"
                name = both
        lines = [(metrics.elidedText(name, Qt.TextElideMode.ElideRight, width), bold, width, line_h)]
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.85)
        sm = QFontMetrics(small)
        y = line_h
        for line in (f.span_of(b, self.zone), f.type_name(b, self.types), f.booking_status(b)):
            if inner.y() + y + sm.height() > inner.bottom() + 3:
                break
            lines.append((sm.elidedText(line, Qt.TextElideMode.ElideRight, inner.width()), small, inner.width(), sm.height()))
            y += sm.height()
        y = inner.y()
        for text, font, _w, h in lines:
            if not text or y + min(h, inner.height()) > rect.height() + 2:
                break
            st = self._static(text, font)
            size = st.size()
            x = inner.right() + 1 - size.width() if rtl else inner.x()
            parts.append(("text", st, QPointF(x, y + (h - size.height()) / 2), font, text_color))
            y += h
        return parts

    def _paint_now(self, p: QPainter) -> None:
        if not self.now or not self.days:
            return
        local = self.now.astimezone(ZoneInfo(self.zone))
        if local.date() not in self.days:
            return
        y = self.y_of(local.hour * 60 + local.minute + local.second / 60)
        grid = self.day_rect(self.days.index(local.date())) if len(self.days) > 1 else \
            self._mirror(QRect(AXIS_W, 0, self.width() - AXIS_W, self.height()))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(self._color("#e53935"), 2))
        p.drawLine(grid.left(), y, grid.right(), y)
        p.setBrush(self._color("#e53935"))
        x = grid.left() if not self.is_rtl() else grid.right()
        p.drawEllipse(QPoint(x, y), 5, 5)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_ghost(self, p: QPainter, ghost: DragState) -> None:
        col = self.column_rect(ghost.column)
        y0, y1 = self.y_of(ghost.minutes), self.y_of(ghost.minutes + ghost.duration)
        rect = QRect(col.x() + 2, y0 + 1, col.width() - 4, max(8, y1 - y0 - 2))
        fill, stripe = self._type_colors(ghost.booking, False)
        color = QColor(fill)
        color.setAlpha(210)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(color)
        p.setPen(QPen(self._color("#2e7d32") if ghost.free else self._color("#c62828"), 2, Qt.PenStyle.DashLine))
        p.drawRoundedRect(rect, 4, 4)
        day, _resource = self.column_day_resource(ghost.column)
        moment = from_local(day, ghost.minutes // 60 * 100 + ghost.minutes % 60, self.zone)
        label = fmt.format_time(moment, self.zone)
        if not ghost.free and self._free is not None:
            # Translators: shown on a dragged booking over a taken slot (dropping asks a reason).
            label = _("{time} · busy").format(time=fsi(label))
        p.setPen(self._color("#1c2530"))
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.drawText(rect.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight, max(0, rect.width() - 12)))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    # dragging ----------------------------------------------------------------------------
    def set_free_slots(self, booking_id: str, slots: list[dict]) -> None:
        """Free starts for the dragged booking (``[{resourceId, date, time}]``, per shown day)."""
        if self.drag is None and self.pending is None:
            return
        free: dict[tuple[int, str], list[int]] = {}
        index = {d.isoformat(): i for i, d in enumerate(self.days)}
        for slot in slots:
            day = index.get(slot.get("date"))
            if day is not None:
                free.setdefault((day, slot["resourceId"]), []).append(_minutes(int(slot["time"])))
        for starts in free.values():
            starts.sort()
        self._free, self._free_for = free, booking_id
        if self.drag is not None:
            self._retarget(self.drag.column, self.drag.minutes)
        self.update()

    def is_free(self, column: int, minutes: int) -> bool:
        if self._free is None:
            return False
        day, resource = self.column_day_resource(column)
        return minutes in self._free.get((self.days.index(day), resource["id"]), ())

    def _retarget(self, column: int | None, minutes: int | None) -> None:
        drag = self.drag
        if drag is None:
            return
        if column is None or minutes is None:
            drag.column = drag.minutes = None
            drag.free = False
            return
        _day, resource = self.column_day_resource(column)
        if drag.booking.get("typeId") not in (resource.get("types") or []):
            drag.column = drag.minutes = None   # this resource does not serve the type
            drag.free = False
            return
        minutes = max(0, min(24 * 60 - drag.duration, minutes))
        if self._free is not None:
            starts = self._free.get((column // max(1, len(self.resources)), resource["id"]), [])
            near = min(starts, key=lambda m: abs(m - minutes), default=None)
            if near is not None and abs(near - minutes) <= MAGNET_MINUTES:
                minutes = near
        drag.column, drag.minutes = column, minutes
        drag.free = self.is_free(column, minutes)

    def begin_drag(self, block: Block, grab_minutes: float) -> None:
        b = block.booking
        self.drag = DragState(b, int(grab_minutes - block.start), max(5, block.end - block.start))
        self._free = None
        self._retarget(block.column, block.start)
        self.dragStarted.emit(b["id"])
        self.update()

    def move_drag(self, pos: QPoint) -> None:
        if self.drag is None:
            return
        column = self.column_at(pos.x())
        raw = self.minutes_at(pos.y()) - self.drag.offset
        self._retarget(column, int(round(raw / SNAP_MINUTES) * SNAP_MINUTES))
        self.setCursor(Qt.CursorShape.ClosedHandCursor if self.drag.column is not None
                       else Qt.CursorShape.ForbiddenCursor)
        self.update()

    def end_drag(self, drop: bool = True) -> None:
        drag, self.drag = self.drag, None
        self.unsetCursor()
        if drag is None:
            return
        if drop and drag.column is not None:
            block = self.block_of(drag.booking["id"])
            if block is not None and block.column == drag.column and block.start == drag.minutes:
                self.update()
                return   # dropped where it was
            self.pending = drag
            day, resource = self.column_day_resource(drag.column)
            self.dropped.emit(drag.booking["id"], day, drag.minutes, resource["id"], drag.free)
        else:
            self._free = None
        self.update()

    def clear_pending(self) -> None:
        self.pending = None
        self._free = None
        self.update()

    # interaction -----------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        block = self.block_at(pos)
        if block is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_selected(block.booking["id"])
            self.bookingClicked.emit(block.booking["id"])
            self._press = (pos, block)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self.drag is not None:
            self.move_drag(pos)
        elif self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            start, block = self._press
            if (pos - start).manhattanLength() >= QApplication.startDragDistance() and self.now is not None \
                    and allowed("reschedule", block.booking, self.now):
                self.begin_drag(block, self.minutes_at(start.y()))
                self.move_drag(pos)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        if self.drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self.move_drag(event.position().toPoint())
            self.end_drag(drop=True)
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        booking = self.booking_at(event.position().toPoint())
        if booking is not None:
            self.bookingActivated.emit(booking["id"])
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoomRequested.emit(1 if delta > 0 else -1, int(event.position().y()))
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and self.drag is not None:
            self.end_drag(drop=False)
            return
        moves = {Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1), Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0)}
        if key in moves and not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            target = self.neighbour(self.selected, *moves[key])
            if target is not None:
                self.set_selected(target.booking["id"])
                self.bookingClicked.emit(target.booking["id"])
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected:
            self.bookingActivated.emit(self.selected)
            return
        super().keyPressEvent(event)

    def neighbour(self, booking_id: str | None, dx: int, dy: int) -> Block | None:
        """The block next to ``booking_id`` on screen: up/down in time in its column, left/right
        (visual directions, so mirrored in RTL) the nearest in time in the next non-empty column."""
        current = self.block_of(booking_id) if booking_id else None
        if current is None:
            return self.blocks[0] if self.blocks else None
        if dy:
            column = self._by_column[current.column]
            i = column.index(current) + dy
            return column[i] if 0 <= i < len(column) else None
        step = -dx if self.is_rtl() else dx
        column = current.column + step
        while 0 <= column < len(self._by_column):
            candidates = self._by_column[column]
            if candidates:
                return min(candidates, key=lambda bl: abs(bl.start - current.start))
            column += step
        return None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()
            booking = self.booking_at(pos)
            if booking is None:
                column = self.column_at(pos.x())
                if column is not None and len(self.days) > 1:
                    day, resource = self.column_day_resource(column)
                    QToolTip.showText(event.globalPos(), "\n".join((display_name(resource), f.day_label(day))), self)
                else:
                    QToolTip.hideText()
            else:
                resource = next((r for r in self.resources if r["id"] == booking.get("resourceId")), None)
                QToolTip.showText(event.globalPos(), "\n".join(x for x in (
                    f.customer_name(booking), f.span_of(booking, self.zone), f.type_name(booking, self.types),
                    display_name(resource) if resource else "", f.booking_status(booking)) if x), self)
            return True
        return super().event(event)


class DayCanvas(TimeCanvas):
    """One branch-local day, one column per resource."""

    def set_day(self, day: date, resources: list[dict], bookings: list[dict], types: dict[str, dict],
                zone: str, now: datetime) -> None:
        self.set_data([day], resources, bookings, types, zone, now)


_LABELS: dict[tuple, str] = {}


def _axis_label(day: date, hour: int, zone: str) -> str:
    """The hour label of the time axis, formatted once per language, digits, zone and hour."""
    key = (hour, zone, current_language(), fmt.current_digits(), day if hour in (2, 3) else None)  # DST hours
    label = _LABELS.get(key)
    if label is None:
        moment = from_local(day, min(hour, 23) * 100, zone) + timedelta(hours=max(0, hour - 23))
        label = _LABELS[key] = fmt.format_time(moment, zone)
    return label


def day_label(day: date, pattern: str) -> str:
    """``fmt.format_date(day, pattern)``, cached per language and digits."""
    key = (day, pattern, current_language(), fmt.current_digits())
    label = _LABELS.get(key)
    if label is None:
        if len(_LABELS) > 5000:
            _LABELS.clear()
        label = _LABELS[key] = fmt.format_date(day, format=pattern)
    return label


def _clusters(blocks: list[Block]):
    """Groups of transitively overlapping blocks, sorted by start."""
    cluster: list = []
    end = -1
    for block in blocks:
        if cluster and block.start >= end:
            yield cluster
            cluster, end = [], -1
        cluster.append(block)
        end = max(end, block.end)
    if cluster:
        yield cluster


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def _luminance(c: QColor) -> float:
    return (0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()) / 255


class ResourceHeader(QWidget):
    """The resource names above the day canvas's columns (kept aligned with them)."""

    def __init__(self, canvas: TimeCanvas, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.setFixedHeight(HEADER_H)
        canvas.layoutChanged.connect(self.update)

    def offset(self) -> int:
        return self.canvas.mapTo(self.window(), QPoint(0, 0)).x() - self.mapTo(self.window(), QPoint(0, 0)).x()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        p.fillRect(self.rect(), QColor(AXIS_COLOR))
        offset = self.offset()
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


class OverbookDialog(QDialog):
    """Ask why a booking goes on a taken slot (the reason is kept in the booking's history)."""

    def __init__(self, booking: dict, when: str, resource: dict | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Overbook"))
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(_("Why does this booking go on a taken slot? (required)"))
        layout = QVBoxLayout(self)
        # Translators: the overbook dialog: {name} is the customer, {when} the new time, {resource} who.
        text = _("{name} → {when}, {resource}: this time is not free.").format(
            name=fsi(f.customer_name(booking)), when=fsi(when), resource=fsi(display_name(resource) if resource else ""))
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addWidget(QLabel(_("Reason")))
        layout.addWidget(self.reason_edit)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(_("Overbook"))
        self.ok.setEnabled(False)
        box.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        self.reason_edit.textChanged.connect(lambda: self.ok.setEnabled(bool(self.reason())))
        layout.addWidget(box)
        self.resize(420, 240)

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()


class _Pane(QWidget):
    """A header + a scrollable canvas (the day view, or the week view with its own header)."""

    def __init__(self, canvas: TimeCanvas, header: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas, self.header = canvas, header
        self.scroll = QScrollArea()
        self.scroll.setWidget(canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.scroll, 1)


class CalendarView(QWidget):
    """The calendar pane: a bar (legend, resource filter, zoom), then the day view or the week
    view. ``attach(client, tasks)`` lets it fetch the week's bookings and, while a booking is
    dragged, its free times; a drop ends in :attr:`moveRequested` (with the overbook reason
    already asked when the slot is taken)."""

    moveRequested = Signal(str, object, int, str, str)   # booking id, day, military time, resource id, reason
    bookingClicked = Signal(str)
    modeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        from ui.legend import Legend
        from ui.resource_filter import ResourceFilter
        from ui.week_view import WeekCanvas, WeekHeader

        super().__init__(parent)
        self.client = None
        self.tasks = None
        self.mode = "day"
        self._context: tuple | None = None
        self._week_generation = 0
        self._drag_task = None
        self._free_task = None
        self._dialog: QDialog | None = None
        self.canvas = DayCanvas()
        self.header = ResourceHeader(self.canvas)
        self.day_pane = _Pane(self.canvas, self.header)
        self.scroll = self.day_pane.scroll
        self.week = WeekCanvas()
        self.week_header = WeekHeader(self.week)
        self.week_pane = _Pane(self.week, self.week_header)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.day_pane)
        self.stack.addWidget(self.week_pane)

        self.legend = Legend()
        self.filter = ResourceFilter()
        self.filter.changed.connect(self.set_hidden_resources)
        self.zoom_out_button, self.zoom_in_button = QToolButton(), QToolButton()
        self.act_day = QAction(_("&Day view"), self)
        self.act_day.setShortcut(QKeySequence("Ctrl+1"))
        self.act_day.setCheckable(True)
        self.act_day.setChecked(True)
        self.act_day.triggered.connect(lambda: self.set_mode("day"))
        self.act_week = QAction(_("&Week view"), self)
        self.act_week.setShortcut(QKeySequence("Ctrl+2"))
        self.act_week.setCheckable(True)
        self.act_week.triggered.connect(lambda: self.set_mode("week"))
        self.act_zoom_in = QAction(_("Zoom &in"), self)
        self.act_zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.act_zoom_in.triggered.connect(lambda: self.zoom(1))
        self.act_zoom_out = QAction(_("Zoom &out"), self)
        self.act_zoom_out.setShortcuts([QKeySequence("Ctrl+-")])
        self.act_zoom_out.triggered.connect(lambda: self.zoom(-1))
        self.zoom_in_button.setDefaultAction(self.act_zoom_in)
        self.zoom_out_button.setDefaultAction(self.act_zoom_out)
        self.zoom_in_button.setText("+")
        self.zoom_out_button.setText("−")
        self.mode_buttons = []
        for action in (self.act_day, self.act_week):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setText(action.text().replace("&", ""))
            self.mode_buttons.append(button)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        for button in self.mode_buttons:
            bar.addWidget(button)
        bar.addSpacing(8)
        bar.addWidget(self.legend, 1)
        bar.addWidget(self.filter)
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_in_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        for canvas in (self.canvas, self.week):
            canvas.bookingClicked.connect(self._clicked)
            canvas.dragStarted.connect(lambda booking_id, c=canvas: self._drag_started(c, booking_id))
            canvas.dropped.connect(lambda *args, c=canvas: self._dropped(c, *args))
            canvas.zoomRequested.connect(lambda steps, y, c=canvas: self.zoom(steps, c, y))

    # wiring ----------------------------------------------------------------------------
    def attach(self, client, tasks) -> None:
        self.client, self.tasks = client, tasks

    def view_actions(self) -> list[QAction]:
        return [self.act_day, self.act_week, self.act_zoom_in, self.act_zoom_out]

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """After a language or digits switch: action texts, and every cached text laid out
        again (the canvases and headers repaint in the new language and direction)."""
        for action, text in ((self.act_day, _("&Day view")), (self.act_week, _("&Week view")),
                             (self.act_zoom_in, _("Zoom &in")), (self.act_zoom_out, _("Zoom &out"))):
            action.setText(text)
        for button in self.mode_buttons:
            button.setText(button.defaultAction().text().replace("&", ""))
        self.zoom_in_button.setText("+")
        self.zoom_out_button.setText("−")
        for canvas in (self.canvas, self.week):
            canvas.invalidate()
        getattr(self.week_header, "_cache", {}).clear()
        for widget in (self.header, self.week_header, self.legend):
            widget.update()

    def current(self) -> TimeCanvas:
        return self.week if self.mode == "week" else self.canvas

    def current_scroll(self) -> QScrollArea:
        return self.week_pane.scroll if self.mode == "week" else self.scroll

    def step_days(self) -> int:
        return 7 if self.mode == "week" else 1

    # data ------------------------------------------------------------------------------
    def set_day(self, day: date, resources: list[dict], bookings: list[dict], types: dict[str, dict],
                zone: str, now: datetime) -> None:
        self._context = (day, resources, types, zone)
        self.canvas.set_day(day, resources, bookings, types, zone, now)
        self.legend.set_types(types, bookings)
        self.filter.set_resources(resources)
        if self.mode == "week":
            self.load_week()

    def set_now(self, now: datetime) -> None:
        self.canvas.set_now(now)
        self.week.set_now(now)

    def set_selected(self, booking_id: str | None) -> None:
        self.canvas.set_selected(booking_id)
        self.week.set_selected(booking_id)

    def set_show_canceled(self, show: bool) -> None:
        self.canvas.set_show_canceled(show)
        self.week.set_show_canceled(show)

    def set_hidden_resources(self, hidden) -> None:
        self.canvas.set_hidden_resources(hidden)
        self.week.set_hidden_resources(hidden)

    def set_mode(self, mode: str) -> None:
        self.act_day.setChecked(mode == "day")
        self.act_week.setChecked(mode == "week")
        if mode == self.mode:
            return
        top = self.current().minutes_at(self.current_scroll().verticalScrollBar().value())
        self.mode = mode
        self.stack.setCurrentWidget(self.week_pane if mode == "week" else self.day_pane)
        if mode == "week":
            self.load_week()
        self.current_scroll().verticalScrollBar().setValue(max(0, self.current().y_of(top)))
        self.current().setFocus()
        self.modeChanged.emit(mode)

    def load_week(self) -> None:
        """Fetch the bookings of the week around the viewed day and show them."""
        if self._context is None or self.client is None or self.tasks is None:
            return
        from ui.week_view import week_days

        day, resources, types, zone = self._context
        days = week_days(day)
        self._week_generation += 1
        generation = self._week_generation
        start, _end = local_day_bounds(days[0], zone)
        _start, end = local_day_bounds(days[-1], zone)

        def show(rows: list[dict]) -> None:
            if generation == self._week_generation:
                self.week.set_week(days, resources, rows, types, zone, self.canvas.now or datetime.now().astimezone())
                self.legend.set_types(types, rows)

        self.tasks.run(self.client.bookings(to_iso(start), to_iso(end)), show)

    def scroll_to_minutes(self, minutes: int) -> None:
        """Scroll so that ``minutes`` after local midnight is near the top."""
        for pane in (self.day_pane, self.week_pane):
            pane.scroll.verticalScrollBar().setValue(max(0, pane.canvas.y_of(minutes) - pane.canvas.hour_h // 2))

    def _clicked(self, booking_id: str) -> None:
        self.bookingClicked.emit(booking_id)

    # zoom ------------------------------------------------------------------------------
    def zoom(self, steps: int, canvas: TimeCanvas | None = None, anchor_y: int | None = None) -> None:
        canvas = canvas or self.current()
        scroll = self.week_pane.scroll if canvas is self.week else self.scroll
        bar = scroll.verticalScrollBar()
        if anchor_y is None:
            anchor_y = bar.value() + scroll.viewport().height() // 2
        minute = canvas.minutes_at(anchor_y)
        on_screen = anchor_y - bar.value()
        current = canvas.hour_h
        index = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - current))
        new = ZOOM_STEPS[max(0, min(len(ZOOM_STEPS) - 1, index + steps))]
        for c in (self.canvas, self.week):
            c.set_hour_height(new)
        scroll.widget().adjustSize()
        bar.setValue(max(0, canvas.y_of(minute) - on_screen))

    # drag and drop ---------------------------------------------------------------------
    def _drag_started(self, canvas: TimeCanvas, booking_id: str) -> None:
        """Fetch the dragged booking's free times for every shown day (asynchronously)."""
        booking = canvas.find(booking_id)
        if booking is None or self.client is None or self.tasks is None:
            return
        import asyncio

        days = list(canvas.days)

        async def fetch() -> list[dict]:
            answers = await asyncio.gather(*(self.client.free_times(booking["typeId"], d, ignore_id=booking_id)
                                             for d in days))
            return [slot for answer in answers for slot in answer]

        self._free_task = self.tasks.run(fetch(), lambda slots: canvas.set_free_slots(booking_id, slots),
                                         lambda exc: None)

    def _dropped(self, canvas: TimeCanvas, booking_id: str, day: date, minutes: int, resource_id: str,
                 free: bool) -> None:
        booking = canvas.find(booking_id)
        if booking is None:
            canvas.clear_pending()
            return
        task = self._free_task

        async def decide() -> None:
            if task is not None and not task.done():   # the free times are still on their way
                try:
                    await task
                except Exception:  # noqa: BLE001 - unknown: ask for a reason rather than guess
                    pass
            column = canvas.pending.column if canvas.pending else None
            is_free = column is not None and canvas.is_free(column, minutes)
            military = minutes // 60 * 100 + minutes % 60
            if is_free:
                self.moveRequested.emit(booking_id, day, military, resource_id, "")
            else:
                self._ask_reason(canvas, booking, day, military, resource_id)

        self.tasks.run(decide())

    def _ask_reason(self, canvas: TimeCanvas, booking: dict, day: date, military: int, resource_id: str) -> None:
        zone = canvas.zone
        moment = from_local(day, military, zone)
        when = f"{fmt.format_date(day, format='medium')} {fmt.format_time(moment, zone)}"
        resource = next((r for r in canvas.resources if r["id"] == resource_id), None)
        dialog = OverbookDialog(booking, when, resource, self.window())
        self._dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(result: int) -> None:
            self._dialog = None
            if result == QDialog.DialogCode.Accepted and dialog.reason():
                self.moveRequested.emit(booking["id"], day, military, resource_id, dialog.reason())
            else:
                canvas.clear_pending()

        dialog.finished.connect(finished)
        dialog.open()
