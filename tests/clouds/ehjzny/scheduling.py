"""Creating, rescheduling, holding and cancelling bookings (seed 000 "Create Confirmed
Booking", "Create Temporary Booking", "Convert Temporary Booking into Confirmed Booking",
"Instant Booking", "Cancel / Leave Queue"; contract "Behaviour").

* ``assign`` true (default): ``date`` + military ``time`` (organization-local) are
  required; the booking gets ``resourceId`` (our extension) or the first resource that is
  on, serves the type and is free then; none free → 409 ``SCH-SLOT-TAKEN``. A taken span
  counts the types' ``leaveMinutesBefore/After`` (:mod:`app.domain.availability`). Staff
  (``/management``) may book outside working hours; customers (``/customer``) may not
  (409 ``SCH-OUTSIDE-WORKING-HOURS``) and get ``PENDING_APPROVAL`` for a type with
  ``autoConfirm: false``.
* ``assign: false``: a queue booking, ``PENDING_ASSIGNMENT``, no date/time/resource,
  ``assignmentTimeout`` clamped to 5..180 (default 120) ("Assignment Timeout"); it waits
  in the queue of every resource serving its type (``resourceId`` is ignored). Payments
  are not simulated, so ``PENDING_PAYMENT`` never occurs.
* ``rescheduleBookingId``: the old booking is cancelled (``cancelReason: "rescheduled"``)
  and a new booking with a NEW id is created ("Rescheduling" note of both create
  operations). Type, customer and note default to the old booking's.
* Temporary booking: ``reservedForMinutes`` (default 15) → ``PENDING_APPROVAL`` with
  ``reservedUntil``; not confirmed in time → deleted (a later confirm → 404).
* Cancel is idempotent on a final booking (returns it unchanged).
"""

from __future__ import annotations

from datetime import date, timedelta

from app.domain.availability import busy_spans, overlaps, span_with_buffers, within_working_hours
from app.domain.clock import from_local, to_iso
from app.domain.errors import (
    INVALID_TRANSITION,
    OUTSIDE_WORKING_HOURS,
    SLOT_TAKEN,
    TYPE_NOT_SERVED,
    BookingError,
    invalid,
    not_found,
)
from app.domain.model import ACTIVE_STATUSES, FINAL_STATUSES, Status
from app.domain.queue import clamp_timeout

from .errors import NO_RESOURCE
from .state import cloud_id

TEMPORARY_DEFAULT_MINUTES = 15


class SchedulingMixin:
    def schedule(self, body: dict, *, customer_id: str | None = None, customer_side: bool = False,
                 reserved_minutes: int | None = None, lang: str = "en") -> dict:
        """``PUT /management/scheduling/new`` (or ``/temporary`` with ``reserved_minutes``)."""
        with self.lock:
            self.tick()
            old = self.get("bookings", body["rescheduleBookingId"]) if body.get("rescheduleBookingId") else None
            if old is not None and old["status"] in FINAL_STATUSES:
                raise BookingError(INVALID_TRANSITION, f"booking {old['id']} is {old['status']}")
            if not (body.get("type") or old):
                raise invalid("type is required")
            btype = self.get("types", body.get("type") or old["typeId"])
            if customer_id:
                customer = self.get("customers", customer_id)
            elif body.get("customerIdentifier") or old is None:
                customer = self.find_or_create_customer(body.get("customerIdentifier"))
            else:
                customer = self.get("customers", old["customerId"])
            now = self.clock.now()
            record = {"id": cloud_id(), "status": Status.CONFIRMED.value, "typeId": btype["id"],
                      "customerId": customer["id"], "duration": int(btype["minutes"]),
                      "note": body.get("note", (old or {}).get("note")), "info": body.get("info") or {},
                      "createdAt": to_iso(now), "_seq": self.next_seq()}
            if body.get("assign", True) is False:
                if reserved_minutes is not None:
                    raise invalid("a temporary booking needs a date and time")
                if not self.serving(btype["id"]):
                    raise BookingError(NO_RESOURCE, f"no resource serves type {btype['id']}")
                record.update(status=Status.PENDING_ASSIGNMENT.value,
                              assignmentTimeout=clamp_timeout(body.get("assignmentTimeout")))
            else:
                start = self._start_of(body)
                resource = self._free_resource(btype, start, body.get("resourceId"),
                                               ignore_id=old and old["id"], check_hours=customer_side)
                record.update(resourceId=resource["id"], startDateTime=to_iso(start),
                              endDateTime=to_iso(start + timedelta(minutes=int(btype["minutes"]))))
                if reserved_minutes is not None:
                    record.update(status=Status.PENDING_APPROVAL.value,
                                  reservedUntil=to_iso(now + timedelta(minutes=reserved_minutes)))
                elif customer_side and btype.get("autoConfirm") is False:
                    record["status"] = Status.PENDING_APPROVAL.value
            if old is not None:
                old.update(status=Status.CANCELED.value, cancelReason="rescheduled", rescheduledTo=record["id"],
                           updatedAt=to_iso(now))
                old.pop("reservedUntil", None)
            self.bookings[record["id"]] = record
            return self.view(record, lang)

    def confirm(self, booking_id: str, lang: str = "en") -> dict:
        """``POST /management/scheduling/confirm``: a held (temporary) booking → CONFIRMED."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            if record.pop("reservedUntil", None) is not None:
                record.update(status=Status.CONFIRMED.value, updatedAt=to_iso(self.clock.now()))
            elif record["status"] != Status.CONFIRMED:
                raise BookingError(INVALID_TRANSITION, f"booking {booking_id} is not a temporary booking")
            return self.view(record, lang)

    def cancel(self, booking_id: str, reason: str | None = None, *, customer_id: str | None = None,
               lang: str = "en") -> dict:
        """Cancel a booking or leave the queue; ``customer_id`` limits it to that customer's."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            if customer_id and record["customerId"] != customer_id:
                raise not_found("Booking", booking_id)
            if record["status"] not in FINAL_STATUSES:
                record.update(status=Status.CANCELED.value, cancelReason=reason, updatedAt=to_iso(self.clock.now()))
                record.pop("reservedUntil", None)
            return self.view(record, lang)

    def _start_of(self, body: dict):
        if not body.get("date") or body.get("time") is None:
            raise invalid("date and time are required unless assign is false")
        try:
            return from_local(date.fromisoformat(str(body["date"])), int(body["time"]), self.zone)
        except ValueError as exc:
            raise invalid(str(exc)) from exc

    def _free_resource(self, btype: dict, start, resource_id: str | None, ignore_id: str | None,
                       check_hours: bool) -> dict:
        if resource_id:
            resource = self.get("resources", resource_id)
            if btype["id"] not in (resource.get("types") or []):
                raise BookingError(TYPE_NOT_SERVED, f"resource {resource_id} does not serve {btype['id']}")
            candidates = [resource]
        else:
            candidates = self.serving(btype["id"])
        lo, hi = span_with_buffers(start, btype)
        outside = False
        for resource in candidates:
            if check_hours and not within_working_hours(start, btype, self.time_rules.get(resource["id"]), self.zone):
                outside = True
                continue
            if not overlaps(lo, hi, busy_spans(self.active_on(resource["id"]), self.types, ignore_id)):
                return resource
        if outside and len(candidates) == 1:
            raise BookingError(OUTSIDE_WORKING_HOURS, "the time is outside working hours", 409)
        raise BookingError(SLOT_TAKEN, "the slot is no longer free", 409)

    def active_on(self, resource_id: str) -> list[dict]:
        """Bookings occupying ``resource_id``'s time (held temporary bookings included)."""
        return [b for b in self.bookings.values()
                if b.get("resourceId") == resource_id and b["status"] in ACTIVE_STATUSES]
