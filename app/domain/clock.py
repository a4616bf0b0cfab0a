"""UTC time helpers and an injectable clock.

All stored times are UTC strings ``YYYY-MM-DDTHH:MM:SSZ``; these helpers are the only
place that formats and parses them. Branch-local views are derived with :mod:`zoneinfo`.

Input bounds: every date and instant a desk or script sends is read by :func:`parse_day`
or :func:`parse_instant`, which accept the years :data:`FIRST_YEAR` to :data:`LAST_YEAR`
only (far from the ends of :class:`datetime`, so buffers and zone shifts never overflow).
Military times are ``HHMM`` with ``HH`` < 24 and ``MM`` < 60; ``2400`` is the end of the
day (the next day's 00:00) where an end is meant (:func:`from_local`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FIRST_YEAR, LAST_YEAR = 2000, 2100
END_OF_DAY = 2400


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR} (got {year})")


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` → date. Raises ValueError naming the reason (not a date, or a year
    outside :data:`FIRST_YEAR`–:data:`LAST_YEAR`)."""
    if not isinstance(text, str) or len(text) != 10 or not text.isascii():
        raise ValueError(f"not a date (YYYY-MM-DD): {str(text)[:40]!r}")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None
    _check_year(day.year)
    return day


def parse_instant(text: str) -> datetime:
    """ISO-8601 with a zone (``Z`` or an offset) → aware UTC datetime. Raises ValueError
    naming the reason (not ISO-8601, no zone, or a year outside the bounds — in the text or
    once shifted to UTC)."""
    if not isinstance(text, str) or not text.isascii() or len(text) > 40:
        raise ValueError(f"not an ISO-8601 time: {str(text)[:40]!r}")
    try:
        local = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO-8601 time: {text!r}") from None
    if local.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    _check_year(local.year)
    moment = local.astimezone(UTC)
    _check_year(moment.year)
    return moment


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Clock:
    """A source of "now" (aware UTC). Tests pass ``Clock(lambda: fixed)`` or call ``shift``."""

    def __init__(self, source: Callable[[], datetime] = utc_now):
        self._source = source
        self._offset = timedelta()

    def now(self) -> datetime:
        return (self._source() + self._offset).astimezone(UTC)

    def shift(self, delta: timedelta) -> None:
        """Move this clock by ``delta`` (tests: let an assignment timeout pass)."""
        self._offset += delta


def to_iso(moment: datetime | None) -> str | None:
    """Aware datetime → ``2026-11-21T09:30:00Z``. Raises ValueError for a naive datetime."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every stored time must carry its zone")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def from_iso(text: str | None) -> datetime | None:
    """ISO-8601 (``Z``, offset or fractional seconds) → aware UTC datetime.

    Raises ValueError when the text has no zone: the API refuses ambiguous times.
    """
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return moment.astimezone(UTC)


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants where the branch-local ``day`` starts and the next day starts."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def military(moment: datetime, zone: str) -> int:
    """Branch-local military time of ``moment``: 18:20 → ``1820`` (Ehjzny API reference, scheduling body)."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.hour * 100 + local.minute


def from_local(day: date, military_time: int, zone: str) -> datetime:
    """Branch-local date + military time → aware UTC datetime.

    Raises ValueError for a military time that is not HHMM with HH < 24 and MM < 60.
    ``2400`` (:data:`END_OF_DAY`) is the end of ``day``: the next day's 00:00.
    A wall time skipped by a daylight-saving change resolves forward (``fold=0``).
    """
    if int(military_time) == END_OF_DAY:
        day, military_time = day + timedelta(days=1), 0
    hours, minutes = divmod(int(military_time), 100)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"not a military time: {military_time}")
    local = datetime.combine(day, time(hours, minutes), ZoneInfo(zone))
    # normalise wall times that do not exist (spring forward) through a UTC round trip
    return local.astimezone(UTC)
