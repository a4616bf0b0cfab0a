"""The calendar canvas: a time axis, one column per resource (day view) or per day and
resource lane (week view, :mod:`ui.calendar.week`), bookings painted as blocks. This module
holds its data, geometry and keyboard/mouse handling; painting is in
:mod:`ui.calendar.painting`, dragging in :mod:`ui.calendar.dragdrop`, lanes and text fitting
in the Qt-free :mod:`ui.calendar.layout`.

One painted widget (no widget or scene item per booking), built to stay smooth with
thousands of bookings:

* the bookings are parsed once per data change (:meth:`TimeCanvas._prepare`), placed in
  columns and overlap lanes once per filter change (:meth:`TimeCanvas._assign`) and turned
  into rectangles once per zoom or resize (:meth:`TimeCanvas._geometry`);
* painting visits only the columns and the minutes the exposed rectangle intersects (a
  bisection on each column's sorted starts), draws small blocks in batches of one colour
  (``drawRects``) and big ones with their text laid out once (``QStaticText``, cached).

An empty slot can be booked: a click puts the slot cursor there (Escape moves it from the
selected booking to the slot after it, the arrows move it by a quarter hour or a column),
and a double-click or Enter emits :attr:`TimeCanvas.bookHere`.

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

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QToolTip,
    QWidget,
)

from app.domain.timerules import periods_on
from app.i18n.text import display_name
from ui.calendar.common import (
    AXIS_W,
    BOTTOM_PAD,
    DAY_GAP,
    DEFAULT_HOURS,
    FADED,
    HIDDEN_STATUSES,
    HOUR_H,
    SLOT_MINUTES,
    STATUS_MARK,
    TOP_PAD,
    military_minutes,
    mix,
)
from ui.calendar.dragdrop import DragMixin, DragState
from ui.calendar.layout import assign_lanes
from ui.calendar.painting import PaintingMixin
from ui.core import formatting as f
from ui.core.models import allowed


class Block:
    """One placed booking: its rectangle (widget coordinates, mirrored in RTL), its column,
    its minutes after the local midnight of its day, and the colours it is painted with."""

    __slots__ = (
        "rect",
        "booking",
        "column",
        "start",
        "end",
        "lane",
        "lanes",
        "fill",
        "stripe",
        "mark",
        "key",
    )

    def __init__(
        self,
        booking: dict,
        column: int,
        start: int,
        end: int,
        fill: QColor,
        stripe: QColor,
        mark: QColor | None,
        key: str,
    ):
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


class TimeCanvas(PaintingMixin, DragMixin, QWidget):
    """Time axis + (day × resource) columns + booking blocks for one or more local days."""

    bookingClicked = Signal(str)
    bookingActivated = Signal(str)
    layoutChanged = Signal()
    dragStarted = Signal(str)  # booking id
    dropped = Signal(str, object, int, str, bool)  # booking id, day, local minutes, resource id, free
    zoomRequested = Signal(int, int)  # steps (+ in, - out), anchor y in the canvas
    bookHere = Signal(object, int, str)  # day, local minutes, resource id: book on an empty slot
    slotMoved = Signal(QRect)  # the slot cursor moved (keep it in view)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.days: list[date] = []
        self.all_resources: list[dict] = []
        self.resources: list[dict] = []  # the shown ones (resource filter)
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
        self._periods: list[list[tuple[int, int]]] = []  # per column: working periods (minutes)
        self._work_rects: list[QRect] = []
        self._break_rects: list[QRect] = []
        self._text_cache: dict[tuple, list] = {}
        self._tiles: dict[int, QPixmap] = {}
        self._block_by_id: dict[str, Block] = {}
        self._colors: dict[str, QColor] = {}
        self._free: dict[tuple[int, str], list[int]] | None = None  # (day, resource) → free starts
        self._free_for: str | None = None
        self.drag: DragState | None = None
        self.pending: DragState | None = None  # a drop waiting for the server's answer
        self._press: tuple[QPoint, Block] | None = None
        self.slot: tuple[int, int] | None = None  # the empty slot cursor: (column, local minutes)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumWidth(AXIS_W + 160)

    # data ------------------------------------------------------------------------------
    @property
    def day(self) -> date | None:
        return self.days[0] if self.days else None

    def set_data(
        self,
        days: list[date],
        resources: list[dict],
        bookings: list[dict],
        types: dict[str, dict],
        zone: str,
        now: datetime,
    ) -> None:
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
            if booking_id:
                self.slot = None  # a booking selected: no empty slot under the cursor any more
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
        return [
            b
            for b in self.bookings
            if b.get("startDateTime")
            and b.get("resourceId") in ids
            and (self.show_canceled or b.get("status") not in HIDDEN_STATUSES)
        ]

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
            fill = self._colors[key] = mix(base, QColor("#ffffff"), 0.62 if faded else 0.18)
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
                self._periods.append(
                    [
                        (military_minutes(a), military_minutes(b))
                        for a, b in periods_on(resource.get("timeRules"), day)
                    ]
                )
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
        self.first_hour, self.last_hour = (
            DEFAULT_HOURS if lo >= hi else (max(0, lo // 60), min(24, -(-hi // 60)))
        )
        self.blocks = []
        self._starts, self._max_len = [], []
        for column in columns:
            longest = assign_lanes(column)
            self.blocks.extend(column)
            self._starts.append([bl.start for bl in column])
            self._max_len.append(longest)
        self._by_column = columns
        self._block_by_id = {bl.booking["id"]: bl for bl in self.blocks}
        self.setMinimumHeight(self.content_height())
        self._geometry()

    def opening_minutes(self) -> int:
        """Where the view opens (minutes after local midnight): half an hour before now when
        now is within a shown day's working hours, else the first working minute of the shown
        days, else the first booking, else the first hour shown."""
        starts = [a for periods in self._periods for a, _b in periods]
        if self.now is not None and self.days:
            local = self.now.astimezone(ZoneInfo(self.zone))
            if local.date() in self.days:
                minute = local.hour * 60 + local.minute
                if any(a <= minute < b for periods in self._periods for a, b in periods):
                    return max(0, minute - 30)
        if starts:
            return min(starts)
        if self.blocks:
            return min(bl.start for bl in self.blocks)
        return self.first_hour * 60

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
                self._work_rects.append(
                    self._mirror(QRect(x0, self.y_of(a), x1 - x0, self.y_of(b) - self.y_of(a)))
                )
                if i + 1 < len(periods) and periods[i + 1][0] > b:
                    nxt = periods[i + 1][0]
                    self._break_rects.append(
                        self._mirror(QRect(x0, self.y_of(b), x1 - x0, self.y_of(nxt) - self.y_of(b)))
                    )
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

    # interaction -----------------------------------------------------------------------
    # empty slots ------------------------------------------------------------------------
    def slot_at(self, pos: QPoint) -> tuple[int, int] | None:
        """The empty slot under ``pos``: (column, start minutes snapped to :data:`SLOT_MINUTES`)."""
        column = self.column_at(pos.x())
        if column is None or self.block_at(pos) is not None:
            return None
        minutes = int(self.minutes_at(pos.y()) // SLOT_MINUTES * SLOT_MINUTES)
        return (column, minutes) if 0 <= minutes < 24 * 60 else None

    def set_slot(self, slot: tuple[int, int] | None) -> None:
        """Show (or clear) the slot cursor: the empty slot Enter books."""
        if slot != self.slot:
            self.slot = slot
            self.update()

    def slot_rect(self) -> QRect | None:
        if self.slot is None:
            return None
        column, minutes = self.slot
        col = self.column_rect(column)
        y0, y1 = self.y_of(minutes), self.y_of(minutes + SLOT_MINUTES)
        return QRect(col.x() + 1, y0, col.width() - 2, max(4, y1 - y0))

    def book_slot(self) -> None:
        """Ask for a booking on the slot cursor (:attr:`bookHere`: day, minutes, resource id)."""
        if self.slot is None:
            return
        column, minutes = self.slot
        day, resource = self.column_day_resource(column)
        self.bookHere.emit(day, minutes, resource["id"])

    def _move_slot(self, dx: int, dy: int) -> None:
        column, minutes = self.slot
        step = -dx if self.is_rtl() else dx
        column = max(0, min(self.column_count() - 1, column + step))
        minutes = max(0, min(24 * 60 - SLOT_MINUTES, minutes + dy * SLOT_MINUTES))
        self.set_slot((column, minutes))
        rect = self.slot_rect()
        if rect is not None:
            self.slotMoved.emit(rect)

    # interaction -----------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        block = self.block_at(pos)
        if block is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_slot(None)
            self.set_selected(block.booking["id"])
            self.bookingClicked.emit(block.booking["id"])
            self._press = (pos, block)
        elif event.button() == Qt.MouseButton.LeftButton and (slot := self.slot_at(pos)) is not None:
            self.set_slot(slot)
            if self.selected:
                self.set_selected(None)
                self.bookingClicked.emit("")  # an empty slot: no booking selected
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self.drag is not None:
            self.move_drag(pos)
        elif self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            start, block = self._press
            if (
                (pos - start).manhattanLength() >= QApplication.startDragDistance()
                and self.now is not None
                and allowed("reschedule", block.booking, self.now)
            ):
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
        pos = event.position().toPoint()
        booking = self.booking_at(pos)
        if booking is not None:
            self.bookingActivated.emit(booking["id"])
        elif event.button() == Qt.MouseButton.LeftButton and (slot := self.slot_at(pos)) is not None:
            self.set_slot(slot)
            self.book_slot()
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
        if key == Qt.Key.Key_Escape and self.slot is None and self.column_count():
            # From the selected booking (or the opening hour) to the empty slot after it.
            block = self.block_of(self.selected) if self.selected else None
            minutes = -(-block.end // SLOT_MINUTES) * SLOT_MINUTES if block else self.opening_minutes()
            self.set_slot((block.column if block else 0, min(24 * 60 - SLOT_MINUTES, minutes)))
            if self.selected:
                self.set_selected(None)
                self.bookingClicked.emit("")
            event.accept()
            return
        moves = {
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
        }
        plain = not event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        )
        if self.slot is not None and plain and key in moves:
            self._move_slot(*moves[key])
            event.accept()
            return
        if self.slot is not None and plain and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.book_slot()
            event.accept()
            return
        if key in moves and plain:
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
                    QToolTip.showText(
                        event.globalPos(), "\n".join((display_name(resource), f.day_label(day))), self
                    )
                else:
                    QToolTip.hideText()
            else:
                resource = next((r for r in self.resources if r["id"] == booking.get("resourceId")), None)
                QToolTip.showText(
                    event.globalPos(),
                    "\n".join(
                        x
                        for x in (
                            f.customer_name(booking),
                            f.span_of(booking, self.zone),
                            f.type_name(booking, self.types),
                            display_name(resource) if resource else "",
                            f.booking_status(booking),
                        )
                        if x
                    ),
                    self,
                )
            return True
        return super().event(event)


class DayCanvas(TimeCanvas):
    """One branch-local day, one column per resource."""

    def set_day(
        self,
        day: date,
        resources: list[dict],
        bookings: list[dict],
        types: dict[str, dict],
        zone: str,
        now: datetime,
    ) -> None:
        self.set_data([day], resources, bookings, types, zone, now)
