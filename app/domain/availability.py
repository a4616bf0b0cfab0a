"""Free times of a resource for a booking type (Ehjzny API reference, "List Available Times"
``POST /availability/times``, "Manage Time Rules"; contract "Operations").

A start time is free when the booking's span, widened by the type's
``leaveMinutesBefore``/``leaveMinutesAfter`` buffers, lies inside one working period of
the resource (:mod:`app.domain.timerules`) and overlaps no active booking of that
resource (itself widened by its own type's buffers; a temporary hold past its
``heldUntil`` no longer counts), it is not earlier than "now" plus
``scheduleAfterHoursFromNow`` and its day is within ``depthOfDays``.

Candidate starts (the API reference's granularity flags ``showOclock``, ``showHalfHour``,
``showThirdHour``, ``showQuarterHour``, ``showSixthHour``, ``showFixedTimes`` and
``showInBetweenSlots``) are branch-local wall times: a start is on the grid of ``step``
minutes when its local minute of the day is a multiple of ``step`` (60 on the hour, 30 half,
20 third, 15 quarter, 10 sixth). Candidates are walked in UTC and read back in local time,
so a daylight-saving change neither invents a start in the skipped hour nor loses the
repeated one. ``fixed_times`` are military local times (``800`` = 08:00).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import gcd
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.clock import from_iso, from_local, local_date
from app.domain.timerules import periods_on

#: Grid names → minutes. The first five are this API's names, the rest the API reference's
#: ``bookingTimeSplitting`` values (Ehjzny API reference, widget settings).
GRANULARITY = {
    "hour": 60,
    "half": 30,
    "third": 20,
    "quarter": 15,
    "sixth": 10,
    "oclock": 60,
    "oclockAndHalf": 30,
    "20": 20,
    "15": 15,
    "10": 10,
}
#: The API reference's ``show...`` flags of ``/availability/times`` → minutes.
SHOW_FLAGS = {
    "showOclock": 60,
    "showHalfHour": 30,
    "showThirdHour": 20,
    "showQuarterHour": 15,
    "showSixthHour": 10,
}


@dataclass(frozen=True)
class Busy:
    """An occupied UTC span of a resource, buffers included."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Grid:
    """Which local start times to offer: any multiple of one of ``steps`` (minutes), the
    ``fixed`` military times, and with ``in_between`` also the first minute after each busy
    span and each period start (the API reference's ``showInBetweenSlots`` / "optimize")."""

    steps: tuple[int, ...] = (15,)
    fixed: tuple[int, ...] = ()
    in_between: bool = False


def grid_from(
    granularity: str | None = None,
    step: int | None = None,
    fixed_times=None,
    flags: dict | None = None,
    in_between: bool = False,
) -> Grid:
    """Build a :class:`Grid` from the API's options. Raises ValueError for an unknown
    granularity or a fixed time that is not military (HHMM). With nothing given: quarters."""
    steps: set[int] = set()
    fixed = tuple(sorted({int(t) for t in fixed_times or ()}))
    for t in fixed:
        if not (0 <= t // 100 < 24 and 0 <= t % 100 < 60):
            raise ValueError(f"not a military time: {t}")
    if granularity == "optimize":
        in_between = True
    elif granularity == "fixed":
        if not fixed:
            raise ValueError("granularity 'fixed' needs fixedTimes")
    elif granularity:
        if granularity not in GRANULARITY:
            raise ValueError(f"unknown granularity {granularity!r}")
        steps.add(GRANULARITY[granularity])
    if step:
        steps.add(int(step))
    steps |= {minutes for name, minutes in SHOW_FLAGS.items() if (flags or {}).get(name)}
    if not steps and not fixed:
        steps.add(GRANULARITY["quarter"])
    return Grid(tuple(sorted(steps)), fixed, in_between)


def busy_spans(
    bookings: Iterable[Mapping[str, Any]],
    types: Mapping[str, Mapping[str, Any]],
    ignore_id: str | None = None,
    now: datetime | None = None,
) -> list[Busy]:
    """Occupied spans of a resource's active bookings (their buffers included). With ``now``,
    a temporary hold whose ``heldUntil`` has passed is left out."""
    spans = []
    for b in bookings:
        if b["id"] == ignore_id or not b.get("startDateTime"):
            continue
        if now is not None and b.get("heldUntil") and from_iso(b["heldUntil"]) <= now:
            continue
        t = types.get(b["typeId"], {})
        spans.append(
            Busy(
                from_iso(b["startDateTime"]) - timedelta(minutes=t.get("leaveMinutesBefore") or 0),
                from_iso(b["endDateTime"]) + timedelta(minutes=t.get("leaveMinutesAfter") or 0),
            )
        )
    return spans


def span_with_buffers(start: datetime, booking_type: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The UTC span a booking of ``booking_type`` starting at ``start`` occupies."""
    before = timedelta(minutes=booking_type.get("leaveMinutesBefore") or 0)
    after = timedelta(minutes=booking_type.get("leaveMinutesAfter") or 0)
    return start - before, start + timedelta(minutes=int(booking_type["minutes"])) + after


def overlaps(start: datetime, end: datetime, spans: list[Busy]) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def working_spans(time_rules: dict | None, day: date, zone: str) -> list[tuple[datetime, datetime]]:
    """The UTC spans of the resource's working periods on the branch-local ``day``."""

    def at(military: int) -> datetime:  # 2400: midnight at the day's end
        return (
            from_local(day + timedelta(days=1), 0, zone)
            if military >= 2400
            else from_local(day, military, zone)
        )

    return [(at(p_from), at(p_to)) for p_from, p_to in periods_on(time_rules, day)]


def within_working_hours(
    start: datetime, booking_type: Mapping[str, Any], time_rules: dict | None, zone: str
) -> bool:
    """True when the booking (with buffers) fits inside one working period of its local day."""
    lo, hi = span_with_buffers(start, booking_type)
    return any(
        p_lo <= lo and hi <= p_hi for p_lo, p_hi in working_spans(time_rules, local_date(start, zone), zone)
    )


def earliest_start(time_rules: dict | None, now: datetime, zone: str) -> datetime:
    """ "Schedule after N hours from now" (Ehjzny API reference, "Update Resource's Time Rules"):
    -1 = from tomorrow (branch-local midnight), n ≥ 0 = now + n hours."""
    hours = int((time_rules or {}).get("scheduleAfterHoursFromNow") or 0)
    if hours < 0:
        tomorrow = local_date(now, zone) + timedelta(days=1)
        return from_local(tomorrow, 0, zone)
    return now + timedelta(hours=hours)


def within_depth(day: date, time_rules: dict | None, now: datetime, zone: str) -> bool:
    """``depthOfDays`` (Ehjzny API reference, "Manage Time Rules"): with n > 0 only the n branch-local days
    from today on (today .. today + n - 1) may be booked; 0 or absent = no limit."""
    depth = int((time_rules or {}).get("depthOfDays") or 0)
    return depth <= 0 or day < local_date(now, zone) + timedelta(days=depth)


def _grid_starts(lo: datetime, hi: datetime, steps: tuple[int, ...], zone: str) -> list[datetime]:
    """UTC instants in ``[lo, hi)`` whose local minute of the day is a multiple of a step."""
    tz = ZoneInfo(zone)
    unit = 5 if all(s % 5 == 0 for s in steps) else 1
    unit = gcd(unit, *steps) or 1
    out, t = [], lo.replace(second=0, microsecond=0)
    while t < hi:
        local = t.astimezone(tz)
        minute = local.hour * 60 + local.minute
        if any(minute % s == 0 for s in steps):
            out.append(t)
        # walk by the unit once aligned to it (again after a daylight-saving jump)
        t += timedelta(minutes=unit if minute % unit == 0 else 1)
    return out


def _fixed_starts(day: date, fixed: tuple[int, ...], zone: str) -> list[datetime]:
    """Every UTC instant at which the local wall clock of ``day`` shows a fixed time (none in
    a skipped hour, two in a repeated one)."""
    tz = ZoneInfo(zone)
    out = set()
    for military in fixed:
        wall = time(military // 100, military % 100)
        for fold in (0, 1):
            moment = datetime.combine(day, wall, tz).replace(fold=fold).astimezone(UTC)
            back = moment.astimezone(tz)
            if back.date() == day and (back.hour, back.minute) == (wall.hour, wall.minute):
                out.add(moment)
    return sorted(out)


def free_starts(
    day: date,
    booking_type: Mapping[str, Any],
    time_rules: dict | None,
    bookings: Iterable[Mapping[str, Any]],
    types: Mapping[str, Mapping[str, Any]],
    zone: str,
    now: datetime,
    step: int | None = None,
    fixed_times: list[int] | None = None,
    ignore_id: str | None = None,
    grid: Grid | None = None,
) -> list[datetime]:
    """Free UTC start times on the branch-local ``day`` for ``booking_type`` on one resource,
    ascending.

    ``bookings`` are that resource's active bookings around the day; ``ignore_id`` leaves
    one out (the booking being rescheduled). ``grid`` (or the older ``step`` /
    ``fixed_times``) picks the candidate starts; default: quarter hours.
    """
    if grid is None:
        grid = grid_from(step=step, fixed_times=fixed_times) if (step or fixed_times) else Grid()
    if not within_depth(day, time_rules, now, zone):
        return []
    spans = busy_spans(bookings, types, ignore_id, now)
    not_before = earliest_start(time_rules, now, zone)
    before = timedelta(minutes=booking_type.get("leaveMinutesBefore") or 0)
    fixed = _fixed_starts(day, grid.fixed, zone) if grid.fixed else []
    out: set[datetime] = set()
    for period_start, period_end in working_spans(time_rules, day, zone):
        candidates = [t for t in fixed if period_start <= t < period_end]
        if grid.steps:
            candidates += _grid_starts(period_start, period_end, grid.steps, zone)
        if grid.in_between:
            candidates += [period_start + before] + [
                s.end + before for s in spans if period_start <= s.end < period_end
            ]
        for start in candidates:
            lo, hi = span_with_buffers(start, booking_type)
            if lo < period_start or hi > period_end or start < not_before:
                continue
            if not overlaps(lo, hi, spans):
                out.add(start)
    return sorted(out)
