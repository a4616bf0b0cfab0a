"""Queue bookings on the simulated cloud: accept, expire, end (Ehjzny API reference, "Instant Booking",
"Queue Booking", "Assignment Timeout", "Race Condition Handling", "End Booking").

* Queues are per resource, FIFO by ``createdAt`` over the types the resource serves
  ("Resource-Scoped Queues", "Provider: View Unassigned Bookings").
* Accept (``assign``) under the cloud's lock: exactly one concurrent assign wins (200,
  ``CONFIRMED``, ``resourceId`` set, starting now); every other gets 400
  ``SCH-ALREADY_ASSIGNED``; an assigned booking never moves ("Race Condition Handling").
* Timeout: an unassigned booking past ``assignmentTimeout`` becomes ``REJECTED`` (checked
  on every operation, :meth:`QueueMixin.tick`); a later assign → 400 ``BKS-110``.
* End: ``endDateTime`` = now and ``duration`` recomputed to the minutes served (rounded
  up) — "shortens the booking duration to the actual time served".
* Unheld temporary bookings are deleted once their reservation passes ("Create Temporary
  Booking").
"""

from __future__ import annotations

import math
from datetime import timedelta

from .rules import (
    ALREADY_ASSIGNED,
    CONFIRMED,
    EXPIRED,
    NOT_ACTIVE,
    PENDING_ASSIGNMENT,
    REJECTED,
    TYPE_NOT_SERVED,
    SimError,
    expired,
    iso,
    parse,
    queue_of,
)


class QueueMixin:
    def tick(self) -> None:
        """Apply what time did: expire unassigned bookings, delete lapsed temporary holds.
        Nothing to do (no scan) while no booking changed and the earliest such deadline
        found by the last scan has not come."""
        with self.lock:
            now = self.clock.now()
            if self._ticked[0] == self.revision and (self._ticked[1] is None or now < self._ticked[1]):
                return
            stamp = iso(now)
            soonest = None
            for record in list(self.bookings.values()):
                if expired(record, now):
                    record.update(status=REJECTED, updatedAt=stamp)
                elif record.get("_reservedUntil") and parse(record["_reservedUntil"]) <= now:
                    del self.bookings[record["id"]]
                else:
                    deadline = _deadline(record)
                    if deadline is not None and (soonest is None or deadline < soonest):
                        soonest = deadline
            self._ticked = (self.revision, soonest)

    def assign(self, booking_id: str, resource_id: str, lang: str = "en") -> dict:
        """Accept a queue booking for ``resource_id`` (``POST /management/bookings/assign``)."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            resource = self.get("resources", resource_id)
            if record["status"] == REJECTED:
                raise SimError(EXPIRED, "booking expired: its assignment timeout passed")
            if record.get("resourceId") or record["status"] == CONFIRMED:
                raise SimError(ALREADY_ASSIGNED, "another provider accepted this booking first")
            if record["status"] != PENDING_ASSIGNMENT:
                raise SimError(NOT_ACTIVE, f"booking {booking_id} is {record['status']}")
            if record["typeId"] not in (resource.get("types") or []):
                raise SimError(TYPE_NOT_SERVED, f"resource {resource_id} does not serve {record['typeId']}")
            now = self.clock.now()
            record.update(
                status=CONFIRMED,
                resourceId=resource_id,
                startDateTime=iso(now),
                endDateTime=iso(now + timedelta(minutes=record["duration"])),
                updatedAt=iso(now),
            )
            return self.view(record, lang)

    def end(self, booking_id: str, lang: str = "en") -> dict:
        """End a started booking now (``POST /management/bookings/end``)."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            start = parse(record.get("startDateTime"))
            now = self.clock.now()
            if record["status"] != CONFIRMED or start is None or now <= start:
                raise SimError(NOT_ACTIVE, "only a started CONFIRMED booking can be ended")
            end = min(now, parse(record["endDateTime"]))
            record.update(
                endDateTime=iso(end),
                duration=max(1, math.ceil((end - start).total_seconds() / 60)),
                updatedAt=iso(now),
            )
            return self.view(record, lang)

    def unassigned(self, resource_id: str) -> list[dict]:
        """Records of ``resource_id``'s queue, FIFO."""
        with self.lock:
            self.tick()
            return queue_of(self.get("resources", resource_id), self.queued())

    def pending_count(self, type_id: str) -> int:
        """How many wait for ``type_id`` across resources (``pendingCount``, "Queue Booking")."""
        with self.lock:
            self.tick()
            return sum(1 for b in self.queued() if b["typeId"] == type_id)


def _deadline(record: dict):
    """When time alone changes ``record`` (:meth:`QueueMixin.tick`): an unassigned
    booking's assignment timeout, a temporary booking's reservation end; else None."""
    times = []
    if record["status"] == PENDING_ASSIGNMENT:
        times.append(parse(record["createdAt"]) + timedelta(minutes=record["_timeout"]))
    if record.get("_reservedUntil"):
        times.append(parse(record["_reservedUntil"]))
    return min(times) if times else None
