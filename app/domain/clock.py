"""UTC time helpers and an injectable clock.

All stored times are UTC strings ``YYYY-MM-DDTHH:MM:SSZ``; these helpers are the only
place that formats and parses them. Branch-local views are derived with :mod:`zoneinfo`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


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
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """Branch-local military time of ``moment``: 18:20 → ``1820`` (seed 000, scheduling body)."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.hour * 100 + local.minute


def from_local(day: date, military_time: int, zone: str) -> datetime:
    """Branch-local date + military time → aware UTC datetime.

    Raises ValueError for a military time that is not HHMM with HH < 24 and MM < 60.
    A wall time skipped by a daylight-saving change resolves forward (``fold=0``).
    """
    hours, minutes = divmod(int(military_time), 100)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"not a military time: {military_time}")
    local = datetime.combine(day, time(hours, minutes), ZoneInfo(zone))
    # normalise wall times that do not exist (spring forward) through a UTC round trip
    return local.astimezone(UTC)
