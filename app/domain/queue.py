"""Queues of walk-ins and instant bookings (Ehjzny API reference, "Instant Booking", "Queue Booking").

* Queues are per resource: a resource's queue holds the unassigned bookings whose type it
  serves, oldest ``createdAt`` first ("Resource-Scoped Queues", "Provider: View
  Unassigned Bookings").
* ``queuePosition`` 1 is next; ``estimatedWaitMinutes`` = position × the booking type's
  ``minutes`` ("Queue Booking" step 2; contract "Behaviour").
* An unassigned booking older than its ``assignmentTimeout`` (clamped to 5..180 minutes,
  "Assignment Timeout") is expired: it becomes ``REJECTED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from app.domain.clock import from_iso
from app.domain.model import (
    ASSIGNMENT_TIMEOUT_DEFAULT,
    ASSIGNMENT_TIMEOUT_MAX,
    ASSIGNMENT_TIMEOUT_MIN,
    Status,
)

#: a booking row (:class:`app.domain.rows.BookingRow`) or its API shape
_Row = TypeVar("_Row", bound=Mapping[str, Any])


def clamp_timeout(minutes: int | None) -> int:
    """Assignment timeout in minutes, clamped to 5..180; None → the branch default (120)."""
    if minutes is None:
        return ASSIGNMENT_TIMEOUT_DEFAULT
    return max(ASSIGNMENT_TIMEOUT_MIN, min(ASSIGNMENT_TIMEOUT_MAX, int(minutes)))


def expires_at(booking: Mapping[str, Any]) -> datetime:
    """UTC instant at which an unassigned booking expires."""
    return from_iso(booking["createdAt"]) + timedelta(minutes=clamp_timeout(booking.get("assignmentTimeout")))


def is_expired(booking: Mapping[str, Any], now: datetime) -> bool:
    return booking["status"] == Status.PENDING_ASSIGNMENT and expires_at(booking) <= now


def resource_queue(resource: Mapping[str, Any], queued: Iterable[_Row], now: datetime) -> list[_Row]:
    """The resource's queue, FIFO: the waiting bookings whose type the resource serves.

    ``queued`` are PENDING_ASSIGNMENT bookings ordered by ``createdAt``; expired ones are
    left out. Returns the bookings in order (callers add positions with :func:`positions`).
    """
    served = set(resource.get("types") or [])
    return [b for b in queued if b["typeId"] in served and not is_expired(b, now)]


def positions(queue: Sequence[Mapping[str, Any]], types: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """Copies of ``queue``'s bookings with ``queuePosition`` and ``estimatedWaitMinutes``.

    ``types`` maps type id → booking type (for its ``minutes``).
    """
    out = []
    for index, booking in enumerate(queue, start=1):
        minutes = int(types.get(booking["typeId"], {}).get("minutes") or 0)
        out.append({**booking, "queuePosition": index, "estimatedWaitMinutes": index * minutes})
    return out


def best_position(
    booking: Mapping[str, Any],
    resources: Iterable[Mapping[str, Any]],
    queued: Iterable[Mapping[str, Any]],
    now: datetime,
) -> int | None:
    """The booking's position in the shortest queue among the resources serving its type."""
    best = None
    for resource in resources:
        if booking["typeId"] not in (resource.get("types") or []):
            continue
        queue = resource_queue(resource, queued, now)
        ids = [b["id"] for b in queue]
        if booking["id"] in ids:
            pos = ids.index(booking["id"]) + 1
            best = pos if best is None else min(best, pos)
    return best


def called_to(resource_id: str, bookings: Iterable[_Row]) -> list[_Row]:
    """The patients ``resource_id`` is seeing or has been sent, in order: the one in the room
    (``IN_PROGRESS``) first, then those checked in and the walk-ins accepted for it (a
    ticket) that have not gone in, who came first first. ``bookings``: the resource's
    bookings of the day. A provider calls the next ticket only when this is empty, so two
    tickets are never called to one provider at once (the desk's rule; Ehjzny API reference, "Instant
    Booking" leaves the pace of accepting to the provider)."""
    mine = [b for b in bookings if b.get("resourceId") == resource_id and b.get("status") == Status.CONFIRMED]
    in_room = [b for b in mine if b.get("visitStatus") == "IN_PROGRESS"]
    sent = [
        b
        for b in mine
        if b.get("visitStatus") == "CHECKED_IN"
        or ((b.get("ticket") or b.get("queueNumber")) and b.get("visitStatus") in (None, ""))
    ]
    sent.sort(key=lambda b: (b.get("checkedInAt") or b.get("startDateTime") or "", b["id"]))
    return in_room + sent
