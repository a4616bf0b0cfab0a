"""Free times of a resource for a booking type (seed 000 "Manage Time Rules",
``/availability/times``; contract "Operations").

A start time is free when the booking's span, widened by the type's
``leaveMinutesBefore``/``leaveMinutesAfter`` buffers, lies inside one working period of
the resource (:mod:`app.domain.timerules`) and overlaps no active booking of that
resource (itself widened by its own type's buffers), and it is not earlier than "now"
plus ``scheduleAfterHoursFromNow``. Candidate starts are laid on a grid of ``step``
minutes from each period's start (granularity: 60 on the hour, 30 half, 20 third,
15 quarter, 10 sixth), or on fixed military times when ``fixed_times`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain.clock import from_iso, from_local
from app.domain.timerules import periods_on

GRANULARITY = {"hour": 60, "half": 30, "third": 20, "quarter": 15, "sixth": 10}


@dataclass(frozen=True)
class Busy:
    """An occupied UTC span of a resource, buffers included."""

    start: datetime
    end: datetime


def busy_spans(bookings: list[dict], types: dict[str, dict], ignore_id: str | None = None) -> list[Busy]:
    """Occupied spans of a resource's active bookings (their buffers included)."""
    spans = []
    for b in bookings:
        if b["id"] == ignore_id or not b.get("startDateTime"):
            continue
        t = types.get(b["typeId"], {})
        spans.append(Busy(from_iso(b["startDateTime"]) - timedelta(minutes=t.get("leaveMinutesBefore") or 0),
                          from_iso(b["endDateTime"]) + timedelta(minutes=t.get("leaveMinutesAfter") or 0)))
    return spans


def span_with_buffers(start: datetime, booking_type: dict) -> tuple[datetime, datetime]:
    before = timedelta(minutes=booking_type.get("leaveMinutesBefore") or 0)
    after = timedelta(minutes=booking_type.get("leaveMinutesAfter") or 0)
    return start - before, start + timedelta(minutes=int(booking_type["minutes"])) + after


def overlaps(start: datetime, end: datetime, spans: list[Busy]) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def within_working_hours(start: datetime, booking_type: dict, time_rules: dict | None, zone: str) -> bool:
    """True when the booking (with buffers) fits inside one working period of its local day."""
    from app.domain.clock import local_date

    lo, hi = span_with_buffers(start, booking_type)
    day = local_date(start, zone)
    for p_from, p_to in periods_on(time_rules, day):
        if from_local(day, p_from, zone) <= lo and hi <= from_local(day, p_to, zone):
            return True
    return False


def earliest_start(time_rules: dict | None, now: datetime, zone: str) -> datetime:
    """"Schedule after N hours from now": -1 = from tomorrow (branch-local), n ≥ 0 = now + n h."""
    hours = int((time_rules or {}).get("scheduleAfterHoursFromNow") or 0)
    if hours < 0:
        from app.domain.clock import local_date

        tomorrow = local_date(now, zone) + timedelta(days=1)
        return from_local(tomorrow, 0, zone)
    return now + timedelta(hours=hours)


def free_starts(day: date, booking_type: dict, time_rules: dict | None, bookings: list[dict],
                types: dict[str, dict], zone: str, now: datetime, step: int | None = None,
                fixed_times: list[int] | None = None, ignore_id: str | None = None) -> list[datetime]:
    """Free UTC start times on the branch-local ``day`` for ``booking_type`` on one resource.

    ``bookings`` are that resource's active bookings around the day; ``ignore_id`` leaves
    one out (the booking being rescheduled). ``step`` defaults to 15 minutes.
    """
    step = step or GRANULARITY["quarter"]
    spans = busy_spans(bookings, types, ignore_id)
    not_before = earliest_start(time_rules, now, zone)
    out = []
    for p_from, p_to in periods_on(time_rules, day):
        period_start, period_end = from_local(day, p_from, zone), from_local(day, p_to, zone)
        if fixed_times is not None:
            candidates = [from_local(day, t, zone) for t in fixed_times if p_from <= t < p_to]
        else:
            candidates, t = [], period_start
            while t < period_end:
                candidates.append(t)
                t += timedelta(minutes=step)
        for start in candidates:
            lo, hi = span_with_buffers(start, booking_type)
            if lo < period_start or hi > period_end or start < not_before:
                continue
            if not overlaps(lo, hi, spans):
                out.append(start)
    return out
