"""Queue bookings on the simulated cloud: accept, expire, end (seed 000 "Instant Booking",
"Queue Booking", "Assignment Timeout", "Race Condition Handling", "End Booking").

* Queues are per resource, FIFO by ``createdAt`` over the types the resource serves
  ("Resource-Scoped Queues", "Provider: View Unassigned Bookings"; positions from
  :mod:`app.domain.queue`).
* Accept (``assign``) under the cloud's lock: exactly one concurrent assign wins (200,
  ``CONFIRMED``, ``resourceId`` set, starting now); every other gets 400
  ``SCH-ALREADY_ASSIGNED``; an assigned booking never moves ("Race Condition Handling").
* Timeout: an unassigned booking past ``assignmentTimeout`` becomes ``REJECTED`` (checked
  on every operation, :meth:`QueueMixin.tick`); a later assign → 400 ``BKS-110``.
* End: ``endDateTime`` = now and ``duration`` recomputed to the minutes served (rounded
  up) — "shortens the booking duration to the actual time served".
* Unheld temporary bookings are deleted once ``reservedUntil`` passes ("Create Temporary
  Booking").
"""

from __future__ import annotations

import math
from datetime import timedelta

from app.domain.clock import from_iso, to_iso
from app.domain.errors import (
    ALREADY_ASSIGNED,
    EXPIRED,
    INVALID_TRANSITION,
    TYPE_NOT_SERVED,
    BookingError,
)
from app.domain.model import Status
from app.domain.queue import is_expired, resource_queue


class QueueMixin:
    def tick(self) -> None:
        """Apply what time did: expire unassigned bookings, delete lapsed temporary holds."""
        with self.lock:
            now = self.clock.now()
            stamp = to_iso(now)
            for record in list(self.bookings.values()):
                if is_expired(record, now):
                    record.update(status=Status.REJECTED.value, updatedAt=stamp)
                elif record.get("reservedUntil") and from_iso(record["reservedUntil"]) <= now:
                    del self.bookings[record["id"]]

    def assign(self, booking_id: str, resource_id: str, lang: str = "en") -> dict:
        """Accept a queue booking for ``resource_id`` (``POST /management/bookings/assign``)."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            resource = self.get("resources", resource_id)
            if record["status"] == Status.REJECTED:
                raise BookingError(EXPIRED, "booking expired: its assignment timeout passed")
            if record.get("resourceId") or record["status"] == Status.CONFIRMED:
                raise BookingError(ALREADY_ASSIGNED, "another provider accepted this booking first")
            if record["status"] != Status.PENDING_ASSIGNMENT:
                raise BookingError(INVALID_TRANSITION, f"booking {booking_id} is {record['status']}")
            if record["typeId"] not in (resource.get("types") or []):
                raise BookingError(TYPE_NOT_SERVED, f"resource {resource_id} does not serve {record['typeId']}")
            now = self.clock.now()
            record.update(status=Status.CONFIRMED.value, resourceId=resource_id, startDateTime=to_iso(now),
                          endDateTime=to_iso(now + timedelta(minutes=record["duration"])),
                          assignedAt=to_iso(now), updatedAt=to_iso(now))
            return self.view(record, lang)

    def end(self, booking_id: str, lang: str = "en") -> dict:
        """End a started booking now (``POST /management/bookings/end``)."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            start = from_iso(record.get("startDateTime"))
            now = self.clock.now()
            if record["status"] != Status.CONFIRMED or start is None or now <= start:
                raise BookingError(INVALID_TRANSITION, "only a started CONFIRMED booking can be ended")
            end = min(now, from_iso(record["endDateTime"]))
            record.update(endDateTime=to_iso(end), duration=math.ceil((end - start).total_seconds() / 60),
                          updatedAt=to_iso(now))
            return self.view(record, lang)

    def unassigned(self, resource_id: str) -> list[dict]:
        """Records of ``resource_id``'s queue, FIFO."""
        with self.lock:
            self.tick()
            return resource_queue(self.get("resources", resource_id), self.queued(), self.clock.now())

    def pending_count(self, type_id: str) -> int:
        """How many wait for ``type_id`` across resources (``pendingCount``, "Queue Booking")."""
        with self.lock:
            self.tick()
            return sum(1 for b in self.queued() if b["typeId"] == type_id)
