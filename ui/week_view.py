"""The week view lives in :mod:`ui.calendar.week`; this name is kept for older imports."""

from ui.calendar.week import WeekCanvas, WeekHeader, short_name, week_days

__all__ = ["WeekCanvas", "WeekHeader", "short_name", "week_days"]
