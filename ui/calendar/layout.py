"""The calendar's geometry and text fitting, without Qt: overlap lanes of the bookings in one
column, and which lines of text a booking block shows, where, and elided how.

Everything here is plain Python on minutes and pixels so that tests check it without a
display. Text is measured through a callable the caller passes (the canvas passes its
``QFontMetrics``): ``measure(text, role) -> advance in pixels`` and ``line_height(role) ->
pixels``, with the roles :data:`NAME` (the customer's name, bold), :data:`DETAIL` (time,
booking type, state) and :data:`CHIP` (the state label in its rounded chip).

Rules the fitting keeps, whatever the language and the block's size:

* every line's box and the state chip lie inside the block, in both directions;
* a line too long for its box is cut at the *logical* end of its string (the end of the
  name in reading order) and gets ``…`` there; the cut never separates a letter from its
  combining marks. ``QFontMetrics.elidedText`` is not used: on right-to-left text inside
  a left-to-right layout (and the other way round) it can put the ellipsis mid-string;
* the start time joins the name on one line only when both fit whole (never ``1…``);
* the lines sit on the block's start side (left in a left-to-right layout, right in a
  right-to-left one) and each keeps its own text's direction, so a Latin name in the Arabic
  desk reads ``Ravi Kh…`` and an Arabic one in the English desk is cut at its own end.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.i18n.text import first_strong

NAME, DETAIL, CHIP = "name", "detail", "chip"
ELLIPSIS = "…"
#: Padding inside a block: the type stripe's side (the start side), the other side, top and bottom.
PAD_START, PAD_END, PAD_Y = 8, 6, 1
#: Blocks narrower than this (a week lane) keep only the stripe's room and a hair on the other side.
NARROW, NARROW_PAD_START, NARROW_PAD_END = 60, 6, 2
CHIP_PAD = 12  # horizontal room around a chip's label
CHIP_GAP = 4  # between the chip and the name
MIN_NAME_CHARS = 2  # a name cut shorter than this (plus "…") is not shown at all

Measure = Callable[[str, str], float]
LineHeight = Callable[[str], int]


class Laned(Protocol):
    """What :func:`assign_lanes` needs of a block: its minutes and the lane fields it sets."""

    start: int
    end: int
    lane: int
    lanes: int


@dataclass(frozen=True)
class Box:
    """A rectangle in block coordinates (pixels from the block's top-left corner)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def inside(self, width: int, height: int) -> bool:
        return self.x >= 0 and self.y >= 0 and self.right <= width and self.bottom <= height


@dataclass(frozen=True)
class Line:
    """One line of a block: its text, its role (font), its box and its own direction."""

    text: str
    role: str
    box: Box
    rtl: bool
    #: Pixels from the font's line top to ``box.y``: for a line boxed by its ink (a block
    #: lower than a whole line), draw the text that much higher than the box.
    ink_top: int | None = None


@dataclass(frozen=True)
class Chip:
    """The state label in a rounded chip at the block's top end corner."""

    text: str
    box: Box


@dataclass(frozen=True)
class BlockText:
    lines: tuple[Line, ...]
    chip: Chip | None


# lanes ---------------------------------------------------------------------------------
def clusters(blocks: Sequence[Laned]) -> Iterable[list[Laned]]:
    """Groups of transitively overlapping blocks of one column sorted by (start, -end)."""
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


def assign_lanes(blocks: list[Laned]) -> int:
    """Sort one column's blocks and give each overlapping group side-by-side lanes: each
    block gets ``lane`` (0-based, the first free lane when it starts) and ``lanes`` (how many
    its group needs). Returns the longest block's length in minutes (for culling)."""
    blocks.sort(key=lambda bl: (bl.start, -bl.end))
    longest = 0
    for cluster in clusters(blocks):
        lanes: list[int] = []  # the end minute of each lane
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
    return longest


# text fitting --------------------------------------------------------------------------
def _cut_points(text: str) -> list[int]:
    """Indexes where ``text`` may be cut: never before a combining mark or a joiner."""
    points = []
    for i in range(1, len(text)):
        ch = text[i]
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me") or ch in "\u200d\u200c":
            continue
        if text[i - 1] == "\u200d":
            continue
        points.append(i)
    return points


def elide_end(text: str, width: float, measure: Measure, role: str) -> str:
    """``text`` if it fits ``width``, else its longest logical prefix followed by ``…`` that
    fits, else "" (fewer than :data:`MIN_NAME_CHARS` characters would be left)."""
    if measure(text, role) <= width:
        return text
    points = _cut_points(text)
    lo, hi, best = 0, len(points) - 1, ""
    while lo <= hi:  # the advance grows with the prefix: bisect the cut points
        mid = (lo + hi) // 2
        candidate = text[: points[mid]].rstrip() + ELLIPSIS
        if measure(candidate, role) <= width:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best if len(best) - 1 >= min(MIN_NAME_CHARS, len(text)) else ""


def _direction(text: str, rtl_layout: bool) -> bool:
    kind = first_strong(text)
    return rtl_layout if kind is None else kind == "rtl"


def fit_block(
    width: int,
    height: int,
    *,
    name: str,
    time: str,
    span: str,
    details: Sequence[str],
    state: Sequence[str],
    state_line: str = "",
    rtl: bool,
    measure: Measure,
    line_height: LineHeight,
    name_with_time: Callable[[str, str], str] = lambda n, t: f"{n}  {t}",
    ink: Callable[[str, str], tuple[int, int]] | None = None,
) -> BlockText:
    """The text of a ``width`` × ``height`` block (pixels).

    ``name``: the customer's name; ``time``: the start time, shown after the name on its
    line only when both fit whole; ``span``: the time range line (``9:00 – 9:30``), dropped
    first when the block is short (the start time then joins the name if it fits);
    ``details``: further lines in order of importance (booking type); ``state``: candidate
    chip labels, longest first (e.g. ``("Checked in", "Arrived")``), empty for none — the
    first that fits in 42 % of the width is drawn as a chip at the top end corner;
    ``state_line``: the state as the last line when no chip fits; ``rtl``: the layout's direction (the start side); ``name_with_time``: joins name
    and time (a translated pattern); ``ink(text, role) -> (top, height)``: where the glyphs of
    ``text`` lie within its line (a block lower than a whole line still shows the name when
    its glyphs fit, as Arabic fonts reserve much room for marks). Returns the lines top to
    bottom and the chip."""
    pad_start, pad_end = (PAD_START, PAD_END) if width >= NARROW else (NARROW_PAD_START, NARROW_PAD_END)
    inner_x = pad_end if rtl else pad_start
    inner_w = width - pad_start - pad_end
    inner_y, inner_h = PAD_Y, height - 2 * PAD_Y
    if inner_w <= 0 or inner_h <= 0:
        return BlockText((), None)
    name_h, detail_h = line_height(NAME), line_height(DETAIL)
    # The name line's font: bold when it fits the block's height, else the small one.
    if name_h <= inner_h:
        name_role, first_y, first_h = NAME, inner_y, name_h
    elif detail_h <= height:
        name_role, first_y, first_h = DETAIL, (height - detail_h) // 2, detail_h
    else:
        return _ink_line(width, height, name, inner_x, inner_w, rtl, measure, ink)
    chip = None
    chip_h = line_height(CHIP) + 2
    for label in state:
        w = int(measure(label, CHIP) + 0.999) + CHIP_PAD
        if w <= inner_w * 0.42 and chip_h <= first_h + 2 and chip_h <= inner_h:
            y = first_y + max(0, (first_h - chip_h) // 2)
            x = inner_x if rtl else inner_x + inner_w - w
            chip = Chip(label, Box(x, min(y, height - chip_h), w, chip_h))
            break
    name_w = inner_w - (chip.box.w + CHIP_GAP if chip else 0)
    # How many detail lines fit under the name line.
    room = (inner_y + inner_h - (first_y + first_h)) // detail_h if name_role == NAME else 0
    rest = [s for s in (*details, "" if chip else state_line) if s]
    wanted = [span, *rest] if span else rest
    if room < len(wanted) and span:
        wanted = rest  # the range goes first; the start time joins the name
        joined = True
    else:
        joined = room == 0
    title = name
    if joined and time:
        both = name_with_time(name, time)
        if measure(both, name_role) <= name_w:
            title = both
    lines: list[Line] = []

    def place(text: str, role: str, y: int, h: int, avail: int, whole: bool = False) -> bool:
        fitted = (
            text if measure(text, role) <= avail else "" if whole else elide_end(text, avail, measure, role)
        )
        if not fitted:
            return False
        w = min(avail, int(measure(fitted, role) + 0.999))
        x = inner_x + inner_w - w if rtl else inner_x
        lines.append(Line(fitted, role, Box(x, y, w, h), _direction(fitted, rtl)))
        return True

    if not place(title, name_role, first_y, first_h, name_w):
        if name_role == DETAIL or not place(
            name, DETAIL, first_y, detail_h, name_w
        ):  # a narrow lane: smaller
            return BlockText((), chip)  # no room for the name: nothing else either (the tooltip has it all)
        first_h = detail_h
    y = first_y + first_h
    for text in wanted[:room]:
        if place(text, DETAIL, y, detail_h, inner_w, whole=text == span):  # never a cut-off time
            y += detail_h
    return BlockText(tuple(lines), chip)


def _ink_line(
    width: int,
    height: int,
    name: str,
    inner_x: int,
    inner_w: int,
    rtl: bool,
    measure: Measure,
    ink: Callable[[str, str], tuple[int, int]] | None,
) -> BlockText:
    """The name alone in the small font, boxed by its glyphs, when they fit the block's height."""
    if ink is None:
        return BlockText((), None)
    fitted = elide_end(name, inner_w, measure, DETAIL)
    if not fitted:
        return BlockText((), None)
    top, h = ink(fitted, DETAIL)
    if h > height - 2:
        return BlockText((), None)
    w = min(inner_w, int(measure(fitted, DETAIL) + 0.999))
    x = inner_x + inner_w - w if rtl else inner_x
    return BlockText(
        (Line(fitted, DETAIL, Box(x, (height - h) // 2, w, h), _direction(fitted, rtl), top),), None
    )
