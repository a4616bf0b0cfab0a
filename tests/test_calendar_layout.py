"""The calendar's lanes and block text fitting, without Qt or a display (ui.calendar.layout)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ui.calendar.layout import CHIP, DETAIL, ELLIPSIS, NAME, assign_lanes, elide_end, fit_block

# A fake font: every character 7 px wide (bold 8), combining marks 0; lines 20 / 16 / 14 px high.
WIDTHS = {NAME: 8, DETAIL: 7, CHIP: 6}
HEIGHTS = {NAME: 20, DETAIL: 16, CHIP: 14}


def measure(text: str, role: str) -> float:
    import unicodedata

    return sum(0 if unicodedata.combining(ch) or ch in "\u2068\u2069" else WIDTHS[role] for ch in text)


def line_height(role: str) -> int:
    return HEIGHTS[role]


ARABIC = "عمر عبد الرحمن القحطاني"
LATIN = "Ravi Khan Fitzgerald-Smith"


def _fit(width, height, name=ARABIC, rtl=True, state=(), state_line=""):
    return fit_block(
        width,
        height,
        name=name,
        time="10:40 ص",
        span="10:40 – 11:20",
        details=("استشارة",),
        state=state,
        state_line=state_line,
        rtl=rtl,
        measure=measure,
        line_height=line_height,
    )


@pytest.mark.parametrize("rtl", [True, False])
@pytest.mark.parametrize("name", [ARABIC, LATIN])
@pytest.mark.parametrize("width", [20, 30, 47, 80, 140, 260])
@pytest.mark.parametrize("height", [8, 14, 17, 22, 30, 45, 66, 100])
def test_every_line_and_chip_stay_inside_the_block(rtl, name, width, height):
    fitted = _fit(width, height, name, rtl, state=("Checked in", "Arrived"))
    boxes = [line.box for line in fitted.lines] + ([fitted.chip.box] if fitted.chip else [])
    for box in boxes:
        assert box.inside(width, height), (box, width, height)
    for line in fitted.lines:
        assert measure(line.text, line.role) <= line.box.w
    for a, b in zip(fitted.lines, fitted.lines[1:], strict=False):
        assert a.box.bottom <= b.box.y  # lines never overlap
    if fitted.chip and fitted.lines:
        first = fitted.lines[0].box
        assert first.right <= fitted.chip.box.x or fitted.chip.box.right <= first.x


@pytest.mark.parametrize("name", [ARABIC, LATIN, "مُحَمَّد عَبْدُ الله"])
def test_the_ellipsis_is_at_the_logical_end(name):
    for width in range(20, 200, 3):
        text = elide_end(name, width, measure, NAME)
        if not text:
            continue
        assert measure(text, NAME) <= width
        if text != name:
            assert text.endswith(ELLIPSIS) and text.count(ELLIPSIS) == 1
            assert name.startswith(text[:-1])  # a prefix in reading order, never "القحط…عمر"
            import unicodedata

            cut = len(text) - 1
            assert not unicodedata.combining(name[cut])  # no mark cut off its letter


def test_the_name_line_follows_its_own_direction_and_the_start_side():
    latin_in_arabic = _fit(140, 22, LATIN, rtl=True).lines[0]
    assert latin_in_arabic.rtl is False and latin_in_arabic.box.right == 140 - 8  # on the right
    arabic_in_english = _fit(140, 22, ARABIC, rtl=False).lines[0]
    assert arabic_in_english.rtl is True and arabic_in_english.box.x == 8


def test_start_time_only_when_it_fits_whole():
    wide = _fit(400, 22, "Ali", rtl=False)
    assert [line.text for line in wide.lines] == ["Ali  10:40 ص"]
    narrow = _fit(80, 22, "Ali Mohammed", rtl=False)
    assert "10" not in narrow.lines[0].text and narrow.lines[0].text.endswith(ELLIPSIS)


def test_a_forty_minute_block_keeps_its_type_and_state():
    # 40 min at 104 px/h = 69 px: the name (with its start time), the type and the state.
    fitted = _fit(200, 67, "Ali", rtl=True, state_line="حضر")
    texts = [line.text for line in fitted.lines]
    assert texts[0].startswith("Ali") and "10:40" in texts[0]
    assert "استشارة" in texts and "حضر" in texts


def test_a_tiny_block_uses_the_small_font_or_shows_nothing():
    assert _fit(200, 18).lines[0].role == DETAIL
    assert _fit(200, 10).lines == ()


def test_state_chip_falls_back_to_its_short_word():
    wide = _fit(400, 60, state=("Checked in", "Arrived"))
    assert wide.chip.text == "Checked in"
    narrower = _fit(160, 60, state=("Checked in", "Arrived"))
    assert narrower.chip.text == "Arrived"
    tight = _fit(90, 60, state=("Checked in", "Arrived"), state_line="Checked in")
    assert tight.chip is None and tight.lines[-1].text.startswith("Check")


@dataclass
class _B:
    start: int
    end: int
    lane: int = 0
    lanes: int = 1


def test_overlapping_bookings_get_side_by_side_lanes():
    blocks = [_B(60, 90), _B(0, 30), _B(15, 45), _B(30, 60), _B(120, 130)]
    longest = assign_lanes(blocks)
    assert longest == 30
    by_start = {b.start: b for b in blocks}
    assert (by_start[0].lane, by_start[15].lane, by_start[30].lane) == (0, 1, 0)
    assert by_start[0].lanes == by_start[30].lanes == 2 and by_start[60].lanes == by_start[120].lanes == 1
