"""Day and week views: the week's days in the locale's order with resource lanes, mirroring
in Arabic, culling, zoom, the resource filter, keyboard selection, and the desk's View menu
against a real branch server."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolTip

from app.i18n import formats as fmt
from app.i18n import set_language
from tests.ui.conftest import until
from ui.calendar import AXIS_W, DayCanvas
from ui.calendar.common import HEADER_H
from ui.calendar.week import WeekCanvas, WeekHeader, week_days


@pytest.fixture(autouse=True)
def _collect_in_this_thread():
    """Collect this test's Qt garbage here, on the GUI thread: a cycle collected later by the
    branch server's thread would destroy QObjects (and their timers) from the wrong thread."""
    yield
    gc.collect()


DAY = date(2026, 11, 22)  # a Sunday
RULES = {
    "rules": [
        {"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 900, "to": 1300},
        {"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 1600, "to": 2000},
    ]
}
RESOURCES = [{"id": f"r{i}", "name": f"Dr. Number {i}", "timeRules": RULES, "types": ["t"]} for i in range(3)]
TYPES = {"t": {"id": "t", "name": "Consultation", "color": "#4a90d9", "minutes": 30}}
NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
TODAY_COLOUR, WEEKEND_COLOUR = "#dbe7fb", "#e3e5e9"  # the week header's day backgrounds


def _bookings(days: list[date]) -> list[dict]:
    out = []
    for d, day in enumerate(days):
        for r in range(3):
            for k in range(4):
                start = datetime(day.year, day.month, day.day, 6 + k, 15 * r, tzinfo=UTC)  # 9:00+ Riyadh
                out.append(
                    {
                        "id": f"b{d}{r}{k}",
                        "resourceId": f"r{r}",
                        "typeId": "t",
                        "status": "CONFIRMED",
                        "visitStatus": "CHECKED_IN" if k == 1 else None,
                        "startDateTime": start.isoformat().replace("+00:00", "Z"),
                        "endDateTime": (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
                        "customer": {"firstName": f"P{d}{r}{k}"},
                    }
                )
    return out


def _week(qtbot, direction=Qt.LayoutDirection.LeftToRight) -> WeekCanvas:
    canvas = WeekCanvas()
    qtbot.addWidget(canvas)
    canvas.setLayoutDirection(direction)
    canvas.resize(1400, 900)
    days = week_days(DAY)
    canvas.set_week(days, RESOURCES, _bookings(days), TYPES, "Asia/Riyadh", NOW)
    return canvas


def test_week_has_seven_days_in_locale_order_with_lanes(qtbot):
    canvas = _week(qtbot)
    assert len(canvas.days) == 7
    assert canvas.days[0].weekday() == fmt.first_week_day() == 6  # Saudi Arabia: Sunday first
    assert canvas.days == [canvas.days[0] + timedelta(days=i) for i in range(7)] and DAY in canvas.days
    assert canvas.column_count() == 7 * 3
    assert len(canvas.blocks) == 7 * 3 * 4
    for d in range(7):
        day_rect = canvas.day_rect(d)
        lanes = [canvas.column_rect(d * 3 + r) for r in range(3)]
        assert all(day_rect.contains(lane.center()) for lane in lanes)
        assert lanes[0].x() < lanes[1].x() < lanes[2].x()
        if d:
            assert canvas.day_rect(d - 1).right() < day_rect.left()
    block = canvas.block_of("b310")  # day 3, resource 1
    assert block.column == 3 * 3 + 1
    assert canvas.column_rect(block.column).contains(block.rect.center())
    assert canvas.booking_at(block.rect.center())["id"] == "b310"
    assert (canvas.first_hour, canvas.last_hour) == (9, 20)
    canvas.grab()


def test_week_is_mirrored_right_to_left(qtbot):
    ltr, rtl = _week(qtbot), _week(qtbot, Qt.LayoutDirection.RightToLeft)
    assert rtl.axis_rect().right() == rtl.width() - 1
    for d in range(6):
        assert rtl.day_rect(d).left() > rtl.day_rect(d + 1).right()  # the first day is rightmost
    assert rtl.column_rect(0).left() > rtl.column_rect(1).right()
    for ident in ("b000", "b321", "b612"):
        a, b = ltr.block_of(ident).rect, rtl.block_of(ident).rect
        assert b.x() == ltr.width() - a.x() - a.width() and b.y() == a.y()
    # hit-testing and the column under a point are mirrored too
    block = rtl.block_of("b321")
    assert rtl.column_at(block.rect.center().x()) == block.column
    assert rtl.booking_at(block.rect.center())["id"] == "b321"


def test_arabic_week_header_and_paint(qtbot):
    """In Arabic the week reads from the right: today (Sunday, the first day) is highlighted
    in the rightmost day beside the time axis, the weekend (Friday, Saturday) is greyed at the
    left, the lane under the pointer names its doctor and the Arabic day, and the bookings
    are painted where the mirrored geometry puts them."""
    set_language("ar")
    try:
        canvas = _week(qtbot, Qt.LayoutDirection.RightToLeft)
        header = WeekHeader(canvas)
        qtbot.addWidget(header)
        header.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        header.resize(1400, 46)
        shown = header.grab().toImage()

        def day_colour(d: int) -> str:  # the day row's background, beside its centred label
            return QColor(shown.pixel(canvas.day_rect(d).x() + 3, 3)).name()

        assert canvas.days[0] == DAY and canvas.day_rect(0).right() < canvas.axis_rect().left()
        assert canvas.day_rect(0).left() > canvas.day_rect(1).right()  # the first day is rightmost
        assert day_colour(0) == TODAY_COLOUR
        assert [canvas.days[d].weekday() for d in (5, 6)] == [4, 5]  # Friday, Saturday: leftmost
        assert day_colour(5) == day_colour(6) == WEEKEND_COLOUR
        assert {day_colour(d) for d in range(1, 5)}.isdisjoint({TODAY_COLOUR, WEEKEND_COLOUR})

        lane = QPoint(canvas.column_rect(0).center().x(), HEADER_H - 8)  # the rightmost lane label
        header.event(QHelpEvent(QEvent.Type.ToolTip, lane, header.mapToGlobal(lane)))
        try:
            assert QToolTip.text().splitlines() == [RESOURCES[0]["name"], "الأحد 22 نوفمبر"]
        finally:
            QToolTip.hideText()

        painted = canvas.grab().toImage()
        block = canvas.block_of("b000")  # Sunday, the first doctor, 09:00 Riyadh
        assert canvas.day_rect(0).contains(block.rect.center())
        colour = QColor(painted.pixel(block.rect.center()))
        assert abs(colour.hue() - QColor(TYPES["t"]["color"]).hue()) <= 5 and colour.saturation() > 60
    finally:
        set_language("en")


def test_legend_follows_a_language_switch(qtbot):
    from ui.calendar.legend import Legend

    legend = Legend()
    qtbot.addWidget(legend)
    types = {"t": {**TYPES["t"], "name_translations": {"en": "Consultation", "ar": "استشارة"}}}
    legend.set_types(types, _bookings([DAY]))
    assert legend.entries[0][0] == "Consultation"
    set_language("ar")
    try:
        legend.retranslate_ui()
        assert legend.entries[0][0] == "استشارة"
        legend.grab()
    finally:
        set_language("en")


def test_culling_zoom_filter_and_keyboard(qtbot):
    canvas = _week(qtbot)
    everything = canvas._visible_blocks(canvas.rect())
    assert len(everything) == len(canvas.blocks)
    first_day = canvas.day_rect(0)
    morning = QRect(first_day.x(), 0, first_day.width(), canvas.y_of(10 * 60))
    some = canvas._visible_blocks(morning)
    assert 0 < len(some) < len(everything)
    assert all(b.column < 3 and b.start < 10 * 60 + 1 for b in some)

    top = canvas.block_of("b000").rect
    canvas.set_hour_height(200)
    assert canvas.block_of("b000").rect.height() > top.height()
    assert canvas.minimumHeight() == canvas.content_height()

    canvas.set_hidden_resources({"r1"})
    assert [r["id"] for r in canvas.resources] == ["r0", "r2"] and canvas.column_count() == 14
    assert canvas.block_of("b010") is None and canvas.block_of("b020").column == 1
    canvas.set_hidden_resources(set())

    canvas.set_selected("b000")
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Down)
    assert canvas.selected == "b001"
    QTest.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.selected == "b011"
    QTest.keyClick(canvas, Qt.Key.Key_Up)
    assert canvas.selected == "b010"
    QTest.keyClick(canvas, Qt.Key.Key_Left)
    assert canvas.selected == "b000"


def test_day_canvas_status_blocks_paint_small_and_large(qtbot):
    canvas = DayCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(900, 900)
    canvas.set_day(DAY, RESOURCES, _bookings([DAY]), TYPES, "Asia/Riyadh", NOW)
    assert canvas.axis_rect().x() == 0 and canvas.column_rect(0).x() == AXIS_W

    def painted_in_its_type_colour(ident: str) -> bool:
        block = canvas.block_of(ident)
        inside = block.rect.adjusted(2, 2, -2, -2)
        shown = canvas.grab(inside).toImage()
        hues = [
            QColor(shown.pixel(x, y)) for x in range(0, shown.width(), 3) for y in range(0, shown.height(), 3)
        ]
        want = QColor(TYPES["t"]["color"]).hue()
        return sum(abs(c.hue() - want) <= 5 and c.saturation() > 60 for c in hues) > len(hues) // 3

    assert painted_in_its_type_colour("b000") and painted_in_its_type_colour("b021")
    assert canvas._text_cache  # big blocks laid out their text once
    cached = dict(canvas._text_cache)
    canvas.grab()
    assert all(canvas._text_cache[k] is v for k, v in cached.items())
    canvas.set_hour_height(24)  # small blocks: batched, no text, still in their type's colour
    assert canvas.block_of("b000").rect.height() < 20
    assert painted_in_its_type_colour("b000") and painted_in_its_type_colour("b021")
    assert canvas.block_at(QPoint(1, 1)) is None


def test_desk_view_menu_week_and_zoom(loop, desk):
    window = desk

    async def scenario():
        calendar = window.calendar
        assert calendar.act_day.shortcut().toString() == "Ctrl+1"
        assert calendar.act_week.shortcut().toString() == "Ctrl+2"
        calendar.act_week.trigger()
        await until(
            lambda: calendar.mode == "week" and len(calendar.week.days) == 7 and not window.tasks.busy,
            what="the week view",
        )
        week = calendar.week
        assert window.state.day in week.days
        assert week.days[0].weekday() == fmt.first_week_day()
        assert len(week.resources) == len(window.state.resources)
        day_ids = {b["id"] for b in calendar.canvas.visible_bookings()}
        week_ids = {b["id"] for b in week.visible_bookings()}
        assert day_ids < week_ids  # the whole week, fetched from the server
        target = next(iter(day_ids))
        calendar.week.bookingClicked.emit(target)
        assert window.detail.booking["id"] == target

        hour_h = week.hour_h
        calendar.act_zoom_in.trigger()
        assert week.hour_h > hour_h and calendar.canvas.hour_h == week.hour_h
        calendar.act_zoom_out.trigger()
        calendar.act_zoom_out.trigger()
        assert week.hour_h < hour_h

        first = window.state.resources[0]["id"]
        calendar.filter.actions_[first].setChecked(False)
        assert first not in {r["id"] for r in week.resources}
        assert "of" in calendar.filter.text()
        calendar.filter.set_hidden(set())

        before = window.state.day
        window.act_next.trigger()  # a week at a time in the week view
        await until(
            lambda: window.state.day == before + timedelta(days=7) and not window.tasks.busy,
            what="the next week",
        )
        await until(lambda: window.state.day in week.days, what="the next week's bookings")
        calendar.act_day.trigger()
        assert calendar.mode == "day" and calendar.stack.currentWidget() is calendar.day_pane
        await asyncio.sleep(0)

    loop.run_until_complete(scenario())


def test_week_lanes_are_labelled_and_narrow_blocks_show_the_name(qtbot):
    from PySide6.QtGui import QFontMetrics

    from ui.calendar.week import short_name

    canvas = WeekCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(900, 900)  # lanes of about 38 px
    days = week_days(DAY)
    canvas.set_week(days, RESOURCES, _bookings(days), TYPES, "Asia/Riyadh", NOW)
    header = WeekHeader(canvas)
    qtbot.addWidget(header)
    header.resize(900, 46)
    metrics = QFontMetrics(header.font())
    resource = {"id": "x", "name": "Dr. Sara Al-Harbi"}
    assert short_name(resource, 14, metrics)  # initials (or one) rather than nothing
    assert short_name(resource, 14, metrics) in "SA"
    lane = canvas.column_rect(1)
    day, found = header.lane_at(QPoint(lane.center().x(), 40))
    assert found["id"] == "r1" and day == canvas.days[0]
    block = canvas.block_of("b000")
    assert 26 <= block.rect.width() < 46
    canvas.grab()
    lines = canvas.fit_text(block).lines
    assert lines and lines[0].text.startswith("P0")  # the patient's name in the block
    assert any(key[0] == "b000" for key in canvas._text_cache)  # and it was painted


def test_week_opens_at_the_working_hours(loop, desk):
    window = desk

    async def scenario():
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(window.state.zone)
        night = datetime.combine(window.state.today_date(), datetime.min.time(), zone) + timedelta(
            hours=1, minutes=16
        )
        window.state.now = lambda: night.astimezone(UTC)  # 01:16, long before the working hours
        early = next(
            b
            for b in window.state.bookings
            if b.get("startDateTime") and b["status"] == "CONFIRMED" and not b.get("visitStatus")
        )
        await window.client.reschedule(
            early["id"],
            window.state.today_date(),
            100,
            resource_id=early["resourceId"],
            overbook_reason="a night walk-in",
        )  # a booking at 01:00
        window.refresh()
        await window.tasks.wait_idle()
        window.calendar.set_now(night)
        window.calendar.scroll_to_minutes(16)  # the day view at now - 1 h, as the desk does
        window.calendar.act_week.trigger()
        week = window.calendar.week
        await until(lambda: len(week.days) == 7 and week.blocks, what="the week's bookings")
        await asyncio.sleep(0.2)
        bar = window.calendar.week_pane.scroll.verticalScrollBar()
        assert week.first_hour <= 1
        top = week.minutes_at(bar.value())
        shown = window.calendar.week_pane.scroll.viewport().height() * 60 / week.hour_h
        periods = [p for column in week._periods for p in column]
        first_work = min(a for a, _b in periods)
        assert top >= first_work - 60, (top, first_work, week.first_hour)  # not at 01:00
        assert any(a < top + shown and b > top for a, b in periods)  # working hours in view
        assert top < max(b for _a, b in periods)

    loop.run_until_complete(scenario())


def test_legend_never_drops_an_entry(qtbot):
    from ui.calendar.legend import Legend

    legend = Legend()
    qtbot.addWidget(legend)
    legend.show()
    types = {
        f"t{i}": {"id": f"t{i}", "name": f"Booking type number {i}", "color": "#4a90d9"} for i in range(9)
    }
    legend.set_types(types)
    total = len(legend.entries)
    assert total == 9 + 6
    for width in (2600, 900, 420, 160):
        legend.resize(width, legend.height())
        shown = [i for i, _swatch, _label in legend.placed]
        assert sorted(shown + legend.overflow) == list(range(total)), width  # each painted or listed
        for _i, swatch, label in legend.placed:
            assert label.right() <= width and swatch.left() >= 0
        menu = [a.text() for a in legend.more.menu().actions()]
        assert menu == [legend.entries[i][0] for i in legend.overflow]
        assert legend.more.isVisibleTo(legend) == bool(legend.overflow)
        if width == 900:
            assert legend.height() > legend.row_height() + 4  # a second row
    assert legend.overflow  # at 160 px: behind "+N…"
    # States carry a pattern as well as a colour.
    assert all(pattern is not None for _t, _c, kind, pattern in legend.entries if kind == "status")
    legend.grab()
