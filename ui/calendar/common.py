"""Constants, colours and cached labels shared by the calendar's modules."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.domain.clock import from_local
from app.domain.model import Status, VisitStatus
from app.i18n import N_, current_language
from app.i18n import formats as fmt

AXIS_W = 72
HOUR_H = 104  # the default zoom: pixels per hour
ZOOM_STEPS = (24, 32, 40, 52, 64, 80, 104, 130, 160, 200, 260)
TOP_PAD, BOTTOM_PAD = 10, 12
HEADER_H = 46
DAY_GAP = 5
DEFAULT_HOURS = (7, 22)
HIDDEN_STATUSES = {Status.CANCELED, Status.REJECTED}
SNAP_MINUTES = 5
SLOT_MINUTES = 15  # the slot cursor's step (an empty slot to book on)
MAGNET_MINUTES = 7  # a drop this close to a free start snaps to it
DETAIL_W, DETAIL_H = 26, 13  # smaller blocks are painted in batches, without text
TILE_H, MAX_TILES = 512, 10  # the painted content is kept in tiles of the full width

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
#: A short word for a state, for a chip in a narrow block (the full label when it fits).
SHORT_STATE = {
    VisitStatus.CHECKED_IN: N_("Arrived"),
    Status.PENDING_APPROVAL: N_("Pending"),
    Status.PENDING_PAYMENT: N_("Pending"),
}
#: A pattern over a block whose state has no room for a word (it does not rely on colour alone;
#: the legend shows the same patterns).
STATE_PATTERN = {
    VisitStatus.CHECKED_IN: Qt.BrushStyle.Dense6Pattern,
    VisitStatus.IN_PROGRESS: Qt.BrushStyle.VerPattern,
    VisitStatus.COMPLETED: Qt.BrushStyle.HorPattern,
    VisitStatus.NO_SHOW: Qt.BrushStyle.DiagCrossPattern,
    Status.PENDING_APPROVAL: Qt.BrushStyle.BDiagPattern,
    Status.PENDING_PAYMENT: Qt.BrushStyle.BDiagPattern,
    Status.CANCELED: Qt.BrushStyle.CrossPattern,
    Status.REJECTED: Qt.BrushStyle.CrossPattern,
}
PATTERN_COLOR = "#37474f"
FADED = (VisitStatus.COMPLETED, VisitStatus.NO_SHOW, Status.CANCELED, Status.REJECTED)
OFF_COLOR, WORK_COLOR, AXIS_COLOR = "#e9ebef", "#ffffff", "#eef0f3"
FREE_COLOR = QColor(76, 175, 80, 70)
BUSY_COLOR = QColor(120, 130, 140, 110)


def state_key(booking: dict) -> str:
    """The visual state of a booking: its visit status when it has one, else its status."""
    return booking.get("visitStatus") or booking.get("status") or ""


def military_minutes(military: int) -> int:
    return military // 100 * 60 + military % 100


_LABELS: dict[tuple, str] = {}


def axis_label(day: date, hour: int, zone: str) -> str:
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


def mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def luminance(c: QColor) -> float:
    return (0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()) / 255
