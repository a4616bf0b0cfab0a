"""The calendar canvas on its own: layout, hit-testing and right-to-left mirroring."""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtCore import QPoint, Qt

from ui.calendar import AXIS_W, DayCanvas

DAY = date(2026, 11, 22)
RULES = {"rules": [{"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 900, "to": 1700}]}
RESOURCES = [{"id": "r1", "name": "Dr. One", "timeRules": RULES}, {"id": "r2", "name": "Dr. Two", "timeRules": RULES}]
TYPES = {"t": {"id": "t", "name": "Consultation", "color": "#4a90d9", "minutes": 30}}


def _booking(ident, resource, start, end, **extra):
    return {"id": ident, "resourceId": resource, "typeId": "t", "status": "CONFIRMED", "visitStatus": None,
            "startDateTime": start, "endDateTime": end, "customer": {"firstName": ident}, **extra}


BOOKINGS = [
    _booking("a", "r1", "2026-11-22T07:00:00Z", "2026-11-22T07:30:00Z"),            # 10:00 Riyadh
    _booking("b", "r1", "2026-11-22T07:15:00Z", "2026-11-22T07:45:00Z"),            # overlaps a
    _booking("c", "r2", "2026-11-22T10:00:00Z", "2026-11-22T10:30:00Z", visitStatus="COMPLETED"),
    _booking("x", "r2", "2026-11-22T11:00:00Z", "2026-11-22T11:30:00Z", status="CANCELED"),
]


def _canvas(qtbot, direction=Qt.LayoutDirection.LeftToRight) -> DayCanvas:
    canvas = DayCanvas()
    qtbot.addWidget(canvas)
    canvas.setLayoutDirection(direction)
    canvas.resize(800, 900)
    canvas.set_day(DAY, RESOURCES, BOOKINGS, TYPES, "Asia/Riyadh", datetime(2026, 11, 22, 8, tzinfo=UTC))
    return canvas


def test_layout_hours_lanes_and_hits(qtbot):
    canvas = _canvas(qtbot)
    assert (canvas.first_hour, canvas.last_hour) == (9, 17)
    assert {b.booking["id"] for b in canvas.blocks} == {"a", "b", "c"}  # canceled hidden
    a, b, c = (canvas.block_of(i) for i in "abc")
    assert a.column == b.column == 0 and c.column == 1
    assert a.rect.right() < b.rect.left()  # overlapping bookings side by side
    assert canvas.y_of(10 * 60) == a.rect.top() - 1
    assert canvas.booking_at(c.rect.center())["id"] == "c"
    assert canvas.booking_at(QPoint(5, 5)) is None
    with qtbot.waitSignal(canvas.bookingClicked) as clicked:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=a.rect.center())
    assert clicked.args == ["a"] and canvas.selected == "a"
    canvas.set_show_canceled(True)
    assert canvas.block_of("x") is not None
    canvas.grab()  # paints without error


def test_right_to_left_mirrors_axis_and_columns(qtbot):
    ltr, rtl = _canvas(qtbot), _canvas(qtbot, Qt.LayoutDirection.RightToLeft)
    assert ltr.axis_rect().x() == 0 and ltr.column_rect(0).x() == AXIS_W
    assert rtl.axis_rect().right() == rtl.width() - 1
    assert rtl.column_rect(0).right() < rtl.axis_rect().left()
    assert rtl.column_rect(1).right() < rtl.column_rect(0).left()  # the first resource is rightmost
    for ident in "abc":
        left, right = ltr.block_of(ident).rect, rtl.block_of(ident).rect
        assert right.x() == ltr.width() - left.x() - left.width() and right.y() == left.y()
    rtl.grab()
