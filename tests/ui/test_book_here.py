"""Booking on an empty calendar slot: a double-click, or Enter on the slot cursor, opens the
booking dialog pre-filled with that resource, day and time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.domain.clock import from_iso
from tests.ui.conftest import until


async def _free_slot(window):
    """A free, empty quarter-hour of a shown resource tomorrow (the day the calendar shows)."""
    state = window.state
    tomorrow = state.today_date() + timedelta(days=1)
    window.go_to(tomorrow)
    await until(
        lambda: window.calendar.canvas.day == tomorrow and not window.tasks.busy, what="tomorrow shown"
    )
    canvas = window.calendar.canvas
    for column, resource in enumerate(canvas.resources):
        for type_id in resource.get("types") or []:
            slots = await window.client.free_times(type_id, tomorrow, resource_id=resource["id"])
            for slot in slots:
                minutes = int(slot["time"]) // 100 * 60 + int(slot["time"]) % 100
                point = QPoint(canvas.column_rect(column).center().x(), canvas.y_of(minutes) + 3)
                if minutes % 15 == 0 and canvas.slot_at(point) == (column, minutes):
                    return canvas, point, resource, slot
    raise AssertionError("no free slot tomorrow")


def _check_dialog(window, resource, slot):
    dialog = window.booking_desk.booking_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.resource_id() == resource["id"]
    assert dialog.type_id() in resource["types"]
    chosen = dialog.slot()
    assert chosen and chosen["resourceId"] == resource["id"]
    assert from_iso(chosen["startDateTime"]) == from_iso(slot["startDateTime"])
    return dialog


def test_double_click_or_enter_on_an_empty_slot_books_there(loop, desk):
    window = desk

    async def scenario():
        canvas, point, resource, slot = await _free_slot(window)
        window.calendar.scroll.ensureVisible(point.x(), point.y(), 0, 200)
        await asyncio.sleep(0.05)
        QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=point)
        await until(
            lambda: (
                (d := window.booking_desk.booking_dialog) is not None
                and d.slot() is not None
                and d.slot()["resourceId"] == resource["id"]
                and from_iso(d.slot()["startDateTime"]) == from_iso(slot["startDateTime"])
            ),
            what="the dialog on the double-clicked slot",
        )
        dialog = _check_dialog(window, resource, slot)
        dialog.reject()
        await until(lambda: window.booking_desk.booking_dialog is None, what="the dialog closed")

        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=point)  # the slot cursor …
        assert canvas.slot is not None and window.selected_id is None
        canvas.setFocus()
        QTest.keyClick(canvas, Qt.Key.Key_Down)  # … a quarter later …
        QTest.keyClick(canvas, Qt.Key.Key_Up)  # … and back
        QTest.keyClick(canvas, Qt.Key.Key_Return)  # Enter books there
        await until(
            lambda: (
                (d := window.booking_desk.booking_dialog) is not None
                and d.slot() is not None
                and from_iso(d.slot()["startDateTime"]) == from_iso(slot["startDateTime"])
            ),
            what="the dialog on the slot cursor",
        )
        _check_dialog(window, resource, slot).reject()

    loop.run_until_complete(scenario())


def test_the_slot_picked_in_the_calendar_is_looked_for_once(loop, desk):
    """Once the dialog has shown the slot picked in the calendar, the receptionist may look at
    another day: its free times are listed without a "that time is not free" warning."""
    window = desk

    async def scenario():
        _canvas, _point, resource, slot = await _free_slot(window)
        window.book_here(resource["id"], from_iso(slot["startDateTime"]))
        dialog = await until(
            lambda: (
                (d := window.booking_desk.booking_dialog)
                and d.slot() is not None
                and from_iso(d.slot()["startDateTime"]) == from_iso(slot["startDateTime"])
                and d
            ),
            what="the picked slot chosen",
        )
        dialog.set_day(dialog.day() + timedelta(days=2))
        await until(
            lambda: (
                dialog.slot() is not None
                and from_iso(dialog.slot()["startDateTime"]).date() >= dialog.day() - timedelta(days=1)
            ),
            what="the later day's free times",
        )
        assert dialog.status.text() == "", dialog.status.text()
        dialog.reject()

    loop.run_until_complete(scenario())
