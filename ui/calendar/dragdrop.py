"""Drag and drop on the calendar: the canvas's half (the ghost's target, snapping to free
starts, Escape) and the view's half (fetching the dragged booking's free times, and on a
drop either a reschedule or, on a taken slot, the overbook reason asked first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.calendar.common import MAGNET_MINUTES, SNAP_MINUTES, military_minutes
from ui.calendar.dialogs import OverbookDialog

if TYPE_CHECKING:
    from ui.calendar.canvas import Block, TimeCanvas


from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QDialog,
)

from app.domain.clock import from_local
from app.i18n import formats as fmt


@dataclass
class DragState:
    booking: dict
    offset: int  # minutes between the booking's start and the grab point
    duration: int
    column: int | None = None  # the target column
    minutes: int | None = None  # the target start
    free: bool = False


class DragMixin:
    """The dragging half of :class:`ui.calendar.canvas.TimeCanvas`."""

    def set_free_slots(self, booking_id: str, slots: list[dict]) -> None:
        """Free starts for the dragged booking (``[{resourceId, date, time}]``, per shown day)."""
        if self.drag is None and self.pending is None:
            return
        free: dict[tuple[int, str], list[int]] = {}
        index = {d.isoformat(): i for i, d in enumerate(self.days)}
        for slot in slots:
            day = index.get(slot.get("date"))
            if day is not None:
                free.setdefault((day, slot["resourceId"]), []).append(military_minutes(int(slot["time"])))
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
            drag.column = drag.minutes = None  # this resource does not serve the type
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
        self.setCursor(
            Qt.CursorShape.ClosedHandCursor
            if self.drag.column is not None
            else Qt.CursorShape.ForbiddenCursor
        )
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
                return  # dropped where it was
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


class DropHandlerMixin:
    """The dragging half of :class:`ui.calendar.view.CalendarView`."""

    def _drag_started(self, canvas: TimeCanvas, booking_id: str) -> None:
        """Fetch the dragged booking's free times for every shown day (asynchronously)."""
        booking = canvas.find(booking_id)
        if booking is None or self.client is None or self.tasks is None:
            return
        import asyncio

        days = list(canvas.days)

        async def fetch() -> list[dict]:
            answers = await asyncio.gather(
                *(self.client.free_times(booking["typeId"], d, ignore_id=booking_id) for d in days)
            )
            return [slot for answer in answers for slot in answer]

        self._free_task = self.tasks.run(
            fetch(), lambda slots: canvas.set_free_slots(booking_id, slots), lambda exc: None
        )

    def _dropped(
        self, canvas: TimeCanvas, booking_id: str, day: date, minutes: int, resource_id: str, free: bool
    ) -> None:
        booking = canvas.find(booking_id)
        if booking is None:
            canvas.clear_pending()
            return
        task = self._free_task

        async def decide() -> None:
            if task is not None and not task.done():  # the free times are still on their way
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

    def _ask_reason(
        self, canvas: TimeCanvas, booking: dict, day: date, military: int, resource_id: str
    ) -> None:
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
