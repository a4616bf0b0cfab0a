"""Painting the calendar canvas: working hours, grid, axis, blocks (small ones in batches of
one colour, big ones with their text fitted by :mod:`ui.calendar.layout`), the selection,
the current time and a dragged booking's ghost.

The static content is painted into tiles of the canvas's full width once per data change,
zoom or width; only the selection, the drag state and the time line are painted on top on
every frame."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QStaticText,
    QTextOption,
    QTransform,
)

from app.domain.clock import from_local
from app.domain.model import Status, VisitStatus
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.text import fsi
from ui.calendar.common import (
    AXIS_COLOR,
    AXIS_W,
    BUSY_COLOR,
    CHIP,
    DAY_GAP,
    DETAIL_H,
    DETAIL_W,
    FREE_COLOR,
    MAX_TILES,
    OFF_COLOR,
    PATTERN_COLOR,
    SHORT_STATE,
    STATE_PATTERN,
    TILE_H,
    WORK_COLOR,
    axis_label,
    luminance,
)
from ui.calendar.layout import CHIP as CHIP_ROLE
from ui.calendar.layout import DETAIL, NAME, BlockText, fit_block
from ui.core import formatting as f

if TYPE_CHECKING:
    from ui.calendar.canvas import Block
    from ui.calendar.dragdrop import DragState


def _ink(metrics: QFontMetrics, text: str) -> tuple[int, int]:
    """(top below the line's top, height) of ``text``'s glyphs."""
    rect = metrics.tightBoundingRect(text)
    return metrics.ascent() + rect.top(), rect.height()


class PaintingMixin:
    """The painting half of :class:`ui.calendar.canvas.TimeCanvas` (it relies on the canvas's
    geometry: ``column_rect``, ``y_of``, ``_visible_columns`` …)."""

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
        if self.drag is not None and self._free is not None:  # free/busy shading under the blocks
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
            self._tiles[tile] = pixmap  # most recently used last
            while len(self._tiles) > MAX_TILES:
                self._tiles.pop(next(iter(self._tiles)))
            target = QRect(0, tile * TILE_H, self.width(), TILE_H).intersected(exposed)
            source = QRectF(
                target.x() * dpr,
                (target.y() - tile * TILE_H) * dpr,
                target.width() * dpr,
                target.height() * dpr,
            )
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
        slot = self.slot_rect()
        if slot is not None:  # the empty slot Enter books
            p.setPen(QPen(self.palette().highlight().color(), 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(slot)
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
        hour_pen, half_pen = (
            QPen(self._color("#cfd4da"), 1),
            QPen(self._color("#e6e9ed"), 1, Qt.PenStyle.DashLine),
        )
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
                gap = (
                    QRect(right.right() + 1, top, DAY_GAP, bottom - top + 1)
                    if not self.is_rtl()
                    else QRect(right.left() - DAY_GAP, top, DAY_GAP, bottom - top + 1)
                )
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
            area = QRect(
                rect.x(),
                self.y_of(self.first_hour * 60),
                rect.width(),
                self.y_of(self.last_hour * 60) - self.y_of(self.first_hour * 60),
            )
            if type_id not in (resource.get("types") or []):
                p.fillRect(area, not_served)
                continue
            p.fillRect(area, busy)
            starts = self._free.get((self.days.index(day), resource["id"]), [])
            p.setBrush(self._color(WORK_COLOR))
            cells = [
                QRect(rect.x(), self.y_of(m), rect.width(), max(2, self.y_of(m + step) - self.y_of(m)))
                for m in starts
            ]
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
            label = axis_label(day, hour, self.zone)
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
        patterns: dict[Qt.BrushStyle, list[QRect]] = {}
        big: list[Block] = []
        rtl = self.is_rtl()
        for block in visible:
            rect = block.rect
            if rect.width() >= DETAIL_W and rect.height() >= DETAIL_H:
                big.append(block)
                continue
            small.setdefault(id(block.fill), (block.fill, []))[1].append(rect)
            if rect.width() >= 8:
                stripe = (
                    QRect(rect.right() - 1, rect.y(), 2, rect.height())
                    if rtl
                    else QRect(rect.x(), rect.y(), 2, rect.height())
                )
                stripes.setdefault(id(block.stripe), (block.stripe, []))[1].append(stripe)
            if block.mark is not None:
                marks.setdefault(id(block.mark), (block.mark, []))[1].append(
                    QRect(rect.x(), rect.y(), rect.width(), min(3, rect.height()))
                )
            style = STATE_PATTERN.get(block.key)
            if style is not None:
                patterns.setdefault(style, []).append(rect)
        p.setPen(Qt.PenStyle.NoPen)
        for group in (small, stripes, marks):
            for color, rects in group.values():
                p.setBrush(color)
                p.drawRects(rects)
        for style, rects in patterns.items():  # the state without colour: a pattern per state
            p.setBrush(QBrush(self._color(PATTERN_COLOR), style))
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
            if len(self._text_cache) > 4000:  # keyed by size: old zooms and widths pile up
                self._text_cache.clear()
            parts = self._text_cache[cache_key] = self._layout_text(block)
        origin = rect.topLeft()
        for kind, item, offset, a, c in parts:
            if kind == "chip":
                chip = item.translated(origin)
                p.setPen(QPen(c, 0.6))
                p.setBrush(a)
                p.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            elif kind == "pattern":
                style = STATE_PATTERN.get(key)
                if style is not None:
                    p.setPen(Qt.PenStyle.NoPen)
                    veil = QColor(self._color(PATTERN_COLOR))
                    veil.setAlpha(70)  # light under the text: the name stays readable
                    p.setBrush(QBrush(veil, style))
                    p.drawRoundedRect(rect, 4, 4)
            else:
                p.setPen(c)
                p.setFont(a)
                p.drawStaticText(QPointF(origin) + offset, item)

    def _static(
        self, text: str, font: QFont, rtl: bool | None = None, width: int | None = None
    ) -> QStaticText:
        """``text`` laid out once in ``font``, in its own direction (``rtl``; default: the
        layout's), ``width`` wide when given (the right-to-left text then ends at the box's
        right edge instead of hanging left of the drawing point)."""
        st = QStaticText(text)
        st.setTextFormat(Qt.TextFormat.PlainText)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.NoWrap)
        if rtl is None:
            option.setTextDirection(self.layoutDirection())
        else:
            option.setTextDirection(Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight)
        st.setTextOption(option)
        if width is not None:
            st.setTextWidth(width)
        st.prepare(QTransform(), font)
        return st

    def block_fonts(self, strike: bool = False) -> dict[str, QFont]:
        """The fonts of a block's text by :mod:`ui.calendar.layout` role."""
        base = self.font()
        name = QFont(base)
        name.setPointSizeF(base.pointSizeF() * 0.95)
        name.setBold(True)
        name.setStrikeOut(strike)
        detail = QFont(base)
        detail.setPointSizeF(base.pointSizeF() * 0.85)
        chip = QFont(base)
        chip.setPointSizeF(base.pointSizeF() * 0.78)
        chip.setBold(True)
        return {NAME: name, DETAIL: detail, CHIP_ROLE: chip}

    def fit_text(self, block: Block) -> BlockText:
        """Which lines and chip ``block`` shows (:func:`ui.calendar.layout.fit_block`, measured
        with this canvas's fonts)."""
        b, rect, key = block.booking, block.rect, block.key
        fonts = self.block_fonts(key == VisitStatus.NO_SHOW)
        metrics = {role: QFontMetrics(font) for role, font in fonts.items()}
        state = ()
        if key in CHIP:
            label = f.booking_status(b)
            short = _(SHORT_STATE[key]) if key in SHORT_STATE else label
            if key != Status.CONFIRMED:
                state = (label, short) if short != label else (label,)
            elif rect.width() >= 234:  # "Confirmed" only where there is room to spare
                state = (label,)
        # Translators: a short booking block in the calendar: customer name, then start time.
        joined = _("{name}  {time}")
        return fit_block(
            rect.width(),
            rect.height(),
            name=f.customer_name(b),
            time=f.time_of(b.get("startDateTime"), self.zone),
            span=f.span_of(b, self.zone),
            details=(f.type_name(b, self.types),),
            state=state,
            state_line=f.booking_status(b) if key != Status.CONFIRMED else "",
            rtl=self.is_rtl(),
            measure=lambda text, role: metrics[role].horizontalAdvance(text),
            line_height=lambda role: metrics[role].height(),
            ink=lambda text, role: _ink(metrics[role], text),
            name_with_time=lambda n, t: joined.format(name=fsi(n), time=fsi(t)),
        )

    def _layout_text(self, block: Block) -> list:
        """The block's text and state chip as painted parts (relative to the block's corner)."""
        key = block.key
        fitted = self.fit_text(block)
        fonts = self.block_fonts(key == VisitStatus.NO_SHOW)
        parts: list = []
        chip = fitted.chip
        if chip is not None:
            colors = CHIP[key]
            box = QRect(chip.box.x, chip.box.y, chip.box.w, chip.box.h)
            parts.append(("chip", box, None, self._color(colors[0]), self._color(colors[1])))
            st = self._static(chip.text, fonts[CHIP_ROLE], width=box.width() - 12)
            size = st.size()
            parts.append(
                (
                    "text",
                    st,
                    QPointF(box.x() + 6, box.y() + (box.height() - size.height()) / 2),
                    fonts[CHIP_ROLE],
                    self._color(colors[1]),
                )
            )
        text_color = self._color("#1c2530") if luminance(block.fill) > 0.5 else self._color("#ffffff")
        for line in fitted.lines:
            box = line.box
            st = self._static(line.text, fonts[line.role], line.rtl, box.w)
            size = st.size()
            y = box.y - line.ink_top if line.ink_top is not None else box.y + (box.h - size.height()) / 2
            parts.append(("text", st, QPointF(box.x, y), fonts[line.role], text_color))
        if chip is None and not any(line.text == f.booking_status(block.booking) for line in fitted.lines):
            parts.insert(
                0, ("pattern", None, None, None, None)
            )  # no readable state: its pattern, under the text
        return parts

    def _paint_now(self, p: QPainter) -> None:
        if not self.now or not self.days:
            return
        local = self.now.astimezone(ZoneInfo(self.zone))
        if local.date() not in self.days:
            return
        y = self.y_of(local.hour * 60 + local.minute + local.second / 60)
        grid = (
            self.day_rect(self.days.index(local.date()))
            if len(self.days) > 1
            else self._mirror(QRect(AXIS_W, 0, self.width() - AXIS_W, self.height()))
        )
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
        p.setPen(
            QPen(self._color("#2e7d32") if ghost.free else self._color("#c62828"), 2, Qt.PenStyle.DashLine)
        )
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
        p.drawText(
            rect.adjusted(6, 0, -6, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight, max(0, rect.width() - 12)),
        )
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
