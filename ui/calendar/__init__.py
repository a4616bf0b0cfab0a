"""The calendar: a time axis, one column per resource (day view) or per day and resource
lane (week view), bookings painted as blocks.

The package by concern: :mod:`~ui.calendar.layout` (lanes and text fitting, no Qt),
:mod:`~ui.calendar.canvas` (data, geometry, keyboard and mouse), :mod:`~ui.calendar.painting`,
:mod:`~ui.calendar.dragdrop`, :mod:`~ui.calendar.week` (the week's lanes and header),
:mod:`~ui.calendar.header`, :mod:`~ui.calendar.dialogs` and :mod:`~ui.calendar.view` (the
pane with its bar). Importing from ``ui.calendar`` itself keeps working for the rest of the
desk."""

from ui.calendar.canvas import Block, DayCanvas, TimeCanvas
from ui.calendar.common import (
    AXIS_COLOR,
    AXIS_W,
    CHIP,
    DEFAULT_HOURS,
    HEADER_H,
    HOUR_H,
    STATUS_MARK,
    ZOOM_STEPS,
    day_label,
    state_key,
)
from ui.calendar.dialogs import OverbookDialog
from ui.calendar.dragdrop import DragState
from ui.calendar.header import ResourceHeader
from ui.calendar.view import CalendarView

__all__ = [
    "AXIS_COLOR",
    "AXIS_W",
    "CHIP",
    "DEFAULT_HOURS",
    "HEADER_H",
    "HOUR_H",
    "STATUS_MARK",
    "ZOOM_STEPS",
    "Block",
    "CalendarView",
    "DayCanvas",
    "DragState",
    "OverbookDialog",
    "ResourceHeader",
    "TimeCanvas",
    "day_label",
    "state_key",
]
