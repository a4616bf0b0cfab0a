"""The calendar canvas on its own: layout, hit-testing and right-to-left mirroring."""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtCore import QPoint, Qt

from app.i18n import _
from ui.calendar import AXIS_W, DayCanvas

DAY = date(2026, 11, 22)
RULES = {"rules": [{"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 900, "to": 1700}]}
RESOURCES = [
    {"id": "r1", "name": "Dr. One", "timeRules": RULES},
    {"id": "r2", "name": "Dr. Two", "timeRules": RULES},
]
TYPES = {"t": {"id": "t", "name": "Consultation", "color": "#4a90d9", "minutes": 30}}


def _booking(ident, resource, start, end, **extra):
    return {
        "id": ident,
        "resourceId": resource,
        "typeId": "t",
        "status": "CONFIRMED",
        "visitStatus": None,
        "startDateTime": start,
        "endDateTime": end,
        "customer": {"firstName": ident},
        **extra,
    }


BOOKINGS = [
    _booking("a", "r1", "2026-11-22T07:00:00Z", "2026-11-22T07:30:00Z"),  # 10:00 Riyadh
    _booking("b", "r1", "2026-11-22T07:15:00Z", "2026-11-22T07:45:00Z"),  # overlaps a
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


ARABIC_NAMES = ("عمر عبد الرحمن القحطاني", "فاطمة الزهراء بنت عبد الله", "Ravi Khan", "مُحَمَّد الشَّهْرِي")


def _arabic_day(qtbot, minutes: tuple[int, ...]):
    """An Arabic (right-to-left) day canvas with one booking per duration in ``minutes``,
    in the desk's own fonts (Noto Naskh Arabic first)."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from ui.core.language import load_fonts

    families = load_fonts()
    font = QFont(QApplication.font())
    font.setFamilies([f for f in families if "Arabic" in f] + [f for f in families if "Arabic" not in f])
    font.setPointSizeF(10)
    bookings, start = [], datetime(2026, 11, 22, 6, tzinfo=UTC)
    from datetime import timedelta

    states = (None, "CHECKED_IN", "IN_PROGRESS", "NO_SHOW", "COMPLETED")
    for i, length in enumerate(minutes):
        for r, resource in enumerate(("r1", "r2")):
            end = start + timedelta(minutes=length)
            name = ARABIC_NAMES[(i + r) % len(ARABIC_NAMES)].split(" ", 1)
            bookings.append(
                _booking(
                    f"{resource}-{i}",
                    resource,
                    start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    visitStatus=states[i % len(states)],
                    customer={"firstName": name[0], "lastName": name[1] if len(name) > 1 else ""},
                )
            )
        start = end + timedelta(minutes=5)
    canvas = DayCanvas()
    qtbot.addWidget(canvas)
    canvas.setFont(font)
    canvas.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    canvas.resize(520, 900)
    types = {"t": {**TYPES["t"], "name_translations": {"en": "Consultation", "ar": "استشارة"}}}
    canvas.set_day(DAY, RESOURCES, bookings, types, "Asia/Riyadh", datetime(2026, 11, 22, 5, tzinfo=UTC))
    canvas.resize(520, canvas.content_height())
    return canvas


def test_arabic_blocks_keep_their_text_inside(qtbot):
    """Every line laid out inside its block, names cut at their logical end, and no text
    pixel painted outside the blocks (short Arabic bookings used to spill over the next)."""
    from app.i18n import set_language
    from ui.calendar.layout import ELLIPSIS

    set_language("ar")
    try:
        canvas = _arabic_day(qtbot, (10, 15, 20, 25, 30, 40, 60))
        names = set()
        for block in canvas.blocks:
            fitted = canvas.fit_text(block)
            w, h = block.rect.width(), block.rect.height()
            for line in fitted.lines:
                assert line.box.inside(w, h), (block.booking["id"], line)
            if fitted.chip:
                assert fitted.chip.box.inside(w, h)
            if fitted.lines:
                first = fitted.lines[0].text
                full = f"{block.booking['customer']['firstName']} {block.booking['customer']['lastName']}".strip()
                names.add(first)
                if ELLIPSIS in first:
                    assert first.endswith(ELLIPSIS) and full.startswith(first[:-1].strip("\u2068\u2069"))
            if block.end - block.start >= 40:  # a 40-minute block keeps its type line
                assert any("استشارة" in line.text for line in fitted.lines), [x.text for x in fitted.lines]
        assert names
        image = canvas.grab().toImage()
        rects = [bl.rect.adjusted(-1, -1, 1, 1) for bl in canvas.blocks]
        axis = canvas.axis_rect()
        stray = []
        for y in range(0, image.height(), 1):
            for x in range(0, image.width(), 2):
                if axis.contains(x, y):
                    continue
                color = image.pixelColor(x, y)
                if color.lightnessF() < 0.3 and not any(r.contains(x, y) for r in rects):
                    stray.append((x, y))
        assert not stray, f"{len(stray)} dark (text) pixels outside every block, e.g. {stray[:5]}"
    finally:
        set_language("en")


def test_block_state_is_readable_not_a_colour_dot(qtbot):
    from app.i18n.labels import status_label
    from ui.calendar.common import STATE_PATTERN

    states = ["CHECKED_IN", "IN_PROGRESS", "NO_SHOW", "COMPLETED"]
    bookings = [
        _booking(
            f"s{i}",
            "r1" if i % 2 else "r2",
            f"2026-11-22T0{6 + i}:00:00Z",
            f"2026-11-22T0{6 + i}:30:00Z",
            visitStatus=state,
        )
        for i, state in enumerate(states)
    ]
    bookings += [
        _booking(
            f"n{i}", "r1" if i % 2 else "r2", f"2026-11-22T0{6 + i}:00:00Z", f"2026-11-22T0{6 + i}:30:00Z"
        )
        for i in range(4)
    ]  # side by side: narrow lanes
    for width in (1400, 800, 420):
        canvas = DayCanvas()
        qtbot.addWidget(canvas)
        canvas.resize(width, 900)
        canvas.set_day(DAY, RESOURCES, bookings, TYPES, "Asia/Riyadh", datetime(2026, 11, 22, 8, tzinfo=UTC))
        for i, state in enumerate(states):
            block = canvas.block_of(f"s{i}")
            parts = canvas._layout_text(block)
            kinds = [part[0] for part in parts]
            assert "dot" not in kinds
            fitted = canvas.fit_text(block)
            words = {status_label("CONFIRMED", state), _(SHORT.get(state, "-"))}
            readable = (fitted.chip is not None and fitted.chip.text in words) or any(
                line.text in words for line in fitted.lines
            )
            assert readable or ("pattern" in kinds and STATE_PATTERN[state] is not None), (
                width,
                state,
                fitted,
            )
        canvas.grab()


SHORT = {"CHECKED_IN": "Arrived"}
