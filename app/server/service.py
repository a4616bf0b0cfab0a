"""The branch booking service: the booking rules applied to the store, one atomic write
per action, a history entry and a live event for each change.

Every public method either returns the changed booking in API shape or raises
:class:`~app.domain.errors.BookingError` with nothing written. The service is used by the
HTTP API (one event loop thread: calls are serialised, so of two concurrent accepts exactly
one wins, seed 000 "Race Condition Handling") and by the sync engine, which registers a
``change listener`` that writes its outbox row inside the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from app.domain import availability, errors, rules
from app.domain.clock import Clock, from_iso, from_local, local_date, local_day_bounds, military, to_iso
from app.domain.errors import BookingError
from app.domain.model import ACTIVE_STATUSES, Status
from app.domain.queue import best_position, clamp_timeout, is_expired, positions, resource_queue
from app.ids import new_id
from app.server.events import EventLog
from app.store import Store

log = logging.getLogger(__name__)

#: ``listener(action, before, after, actor)`` runs inside the write transaction.
ChangeListener = Callable[[str, dict | None, dict, dict], None]


class BookingService:
    def __init__(self, store: Store, clock: Clock | None = None, events: EventLog | None = None):
        self.store = store
        self.clock = clock or Clock()
        self.events = events or EventLog()
        self.listeners: list[ChangeListener] = []

    # reference data -------------------------------------------------------------
    @property
    def zone(self) -> str:
        return self.store.zone

    def now(self) -> datetime:
        return self.clock.now()

    def _types(self) -> dict[str, dict]:
        return {t["id"]: t for t in self.store.types()}

    def _booking(self, booking_id: str) -> dict:
        booking = self.store.booking(booking_id)
        if booking is None:
            raise errors.not_found("booking", booking_id)
        return booking

    def _resource(self, resource_id: str) -> dict:
        resource = self.store.resource(resource_id)
        if resource is None:
            raise errors.not_found("resource", resource_id)
        return resource

    def _type(self, type_id: str) -> dict:
        booking_type = self.store.booking_type(type_id)
        if booking_type is None:
            raise errors.not_found("booking type", type_id)
        return booking_type

    # output ---------------------------------------------------------------------
    def to_api(self, booking: dict, queued: list[dict] | None = None,
               resources: list[dict] | None = None) -> dict:
        """The booking as the API returns it: stored fields, the branch-local
        ``startDate``/``startTime`` view, ``cloudIds`` and, while waiting, the queue fields."""
        out = dict(booking)
        if booking.get("startDateTime"):
            start = from_iso(booking["startDateTime"])
            out["startDate"] = local_date(start, self.zone).isoformat()
            out["startTime"] = military(start, self.zone)
        out["cloudIds"] = self.store.cloud_ids(booking["id"])
        if booking["status"] == Status.PENDING_ASSIGNMENT:
            now = self.now()
            queued = self.store.queued_bookings() if queued is None else queued
            resources = self.store.resources() if resources is None else resources
            pos = best_position(booking, resources, queued, now)
            if pos is not None:
                minutes = int((self.store.booking_type(booking["typeId"]) or {}).get("minutes") or 0)
                out["queuePosition"], out["estimatedWaitMinutes"] = pos, pos * minutes
        return out

    def list_bookings(self, start: datetime, end: datetime, resource_ids: list[str] | None = None,
                      statuses: list[str] | None = None) -> list[dict]:
        """Scheduled bookings overlapping ``[start, end)`` (UTC), ordered by start."""
        rows = self.store.bookings_between(to_iso(start), to_iso(end), resource_ids, statuses)
        return [self.to_api(b) for b in rows]

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        return local_day_bounds(day, self.zone)

    def queue(self, resource_id: str) -> list[dict]:
        """The resource's queue, FIFO, with ``queuePosition`` and ``estimatedWaitMinutes``
        (seed 000 "Provider: View Unassigned Bookings")."""
        self.expire_overdue()
        resource = self._resource(resource_id)
        queue = resource_queue(resource, self.store.queued_bookings(), self.now())
        return [{**self.to_api(b), **{k: p[k] for k in ("queuePosition", "estimatedWaitMinutes")}}
                for b, p in zip(queue, positions(queue, self._types()), strict=True)]

    def waiting(self) -> list[dict]:
        """Every booking waiting for a resource, oldest first, with its best position."""
        self.expire_overdue()
        queued, resources = self.store.queued_bookings(), self.store.resources()
        return [self.to_api(b, queued, resources) for b in queued]

    def attendances(self, day: date) -> list[dict]:
        start, end = self.day_bounds(day)
        return self.store.attendances(to_iso(start), to_iso(end))

    # writing ----------------------------------------------------------------------
    def _commit(self, action: str, before: dict | None, after: dict, actor: dict,
                attendance: str | None = None, extra: dict | None = None) -> dict:
        now = to_iso(self.now())
        after = {**after, "updatedAt": now, "version": int((before or {}).get("version") or 0) + 1}
        with self.store.transaction():
            if before is None:
                self.store.insert_booking(after)
            else:
                current = self.store.booking(after["id"])
                if current is None or current["version"] != before["version"]:
                    raise BookingError(errors.ALREADY_ASSIGNED if action == "accept" else "CONFLICT",
                                       "the booking changed meanwhile; reload and try again", 409,
                                       bookingId=after["id"])
                self.store.replace_booking(after)
            if attendance:
                self.store.add_attendance({"id": new_id(), "type": attendance, "bookingId": after["id"],
                                           "customerId": after["customerId"], "createdAt": now})
            self.store.add_history({
                "bookingId": after["id"], "createdAt": now, "action": action,
                "actor": actor.get("user"), "deskId": actor.get("deskId"),
                "before": _changed(before, after, old=True), "after": {**_changed(before, after), **(extra or {})},
            })
            for listener in self.listeners:
                listener(action, before, after, actor)
        out = self.to_api(after)
        self.events.publish("booking.changed", {"action": action, "booking": out})
        return out

    def expire_overdue(self) -> int:
        """Turn every unassigned booking past its assignment timeout ``REJECTED``."""
        now, count = self.now(), 0
        for booking in self.store.queued_bookings():
            if is_expired(booking, now):
                self._commit("expire", booking, rules.expire(booking), {"user": "system"})
                count += 1
        return count

    def create(self, body: dict, actor: dict | None = None) -> dict:
        """Book (``assign`` true: date + military time + type, optional resource) or put a
        walk-in in the queue (``assign`` false: type only) — ``PUT /management/scheduling/new``.
        With ``rescheduleBookingId`` it moves that booking instead (its local id stays).

        Raises NOT-FOUND (type, resource, customer), VALIDATION, SCH-SLOT-TAKEN (409),
        SCH-OUTSIDE-WORKING-HOURS, SCH-TYPE-NOT-SERVED.
        """
        actor = actor or {}
        if body.get("rescheduleBookingId"):
            return self.reschedule(body["rescheduleBookingId"], body, actor)
        booking_type = self._type(body["type"])
        customer = self._customer(body.get("customerIdentifier") or {})
        now = self.now()
        booking = {"id": new_id(), "typeId": booking_type["id"], "customerId": customer["id"],
                   "note": body.get("note"), "createdAt": to_iso(now), "visitStatus": None}
        if body.get("assign", True) is False:
            day_start, day_end = self.day_bounds(local_date(now, self.zone))
            booking.update(status=Status.PENDING_ASSIGNMENT,
                           assignmentTimeout=clamp_timeout(body.get("assignmentTimeout")),
                           queueNumber=self.store.next_queue_number(to_iso(day_start), to_iso(day_end)))
            if not any(booking_type["id"] in (r.get("types") or []) for r in self.store.resources()):
                raise BookingError(errors.TYPE_NOT_SERVED, "no resource serves this booking type", 400)
            return self._commit("create", None, booking, actor)
        start, resource = self._place(body, booking_type, ignore_id=None)
        minutes = int(booking_type["minutes"])
        booking.update(status=Status.CONFIRMED if booking_type.get("autoConfirm", True) is not False
                       else Status.PENDING_APPROVAL,
                       resourceId=resource["id"], startDateTime=to_iso(start),
                       endDateTime=to_iso(start + timedelta(minutes=minutes)), duration=minutes)
        extra = {"overbookReason": body["overbookReason"]} if body.get("overbookReason") else None
        return self._commit("create", None, booking, actor, extra=extra)

    def _customer(self, identifier: dict) -> dict:
        customer = None
        if identifier.get("id"):
            customer = self.store.customer(identifier["id"])
        elif identifier.get("phone") or identifier.get("email"):
            customer = self.store.customer_by(phone=identifier.get("phone"), email=identifier.get("email"))
        else:
            raise errors.invalid("customerIdentifier needs the customer's id, phone or email",
                                 field="customerIdentifier")
        if customer is None:
            raise errors.not_found("customer", str(next(iter(identifier.values()))))
        return customer

    def _place(self, body: dict, booking_type: dict, ignore_id: str | None) -> tuple[datetime, dict]:
        """Resolve the start (``date`` + ``time`` branch-local, or ``startDateTime`` UTC) and the
        resource (given, or the first free one serving the type), checking hours and overlaps."""
        if body.get("startDateTime"):
            start = from_iso(body["startDateTime"])
        else:
            try:
                start = from_local(date.fromisoformat(body["date"]), int(body["time"]), self.zone)
            except (KeyError, TypeError, ValueError) as exc:
                raise errors.invalid("date (YYYY-MM-DD) and time (military, e.g. 930) are required",
                                     field="date") from exc
        override = bool((body.get("overbookReason") or "").strip())
        if body.get("resourceId"):
            candidates = [self._resource(body["resourceId"])]
        else:
            candidates = [r for r in self.store.resources() if booking_type["id"] in (r.get("types") or [])]
            if not candidates:
                raise BookingError(errors.TYPE_NOT_SERVED, "no resource serves this booking type", 400)
        problem: BookingError | None = None
        for resource in candidates:
            problem = self._check_slot(resource, booking_type, start, ignore_id, override)
            if problem is None:
                return start, resource
        raise problem

    def _check_slot(self, resource: dict, booking_type: dict, start: datetime, ignore_id: str | None,
                    override: bool) -> BookingError | None:
        if booking_type["id"] not in (resource.get("types") or []):
            return BookingError(errors.TYPE_NOT_SERVED, f"{resource['name']} does not serve this booking type",
                                400, resourceId=resource["id"])
        if not availability.within_working_hours(start, booking_type, resource.get("timeRules"), self.zone) \
                and not override:
            return BookingError(errors.OUTSIDE_WORKING_HOURS, "the time is outside the resource's working hours",
                                400, resourceId=resource["id"], startDateTime=to_iso(start))
        lo, hi = availability.span_with_buffers(start, booking_type)
        around = self.store.resource_bookings(resource["id"], to_iso(lo - timedelta(hours=4)),
                                              to_iso(hi + timedelta(hours=4)))
        spans = availability.busy_spans(around, self._types(), ignore_id)
        if availability.overlaps(lo, hi, spans) and not override:
            return BookingError(errors.SLOT_TAKEN, "the slot is no longer free", 409,
                                resourceId=resource["id"], startDateTime=to_iso(start))
        return None

    def reschedule(self, booking_id: str, body: dict, actor: dict | None = None) -> dict:
        """Move a booking to ``date``/``time`` (or ``startDateTime``) and optionally another
        ``resourceId``; the local id stays (seed 000 "Create Confirmed Booking" → Rescheduling)."""
        booking = self._booking(booking_id)
        booking_type = self._type(booking["typeId"])
        body = {**body, "resourceId": body.get("resourceId") or booking.get("resourceId")}
        rules.ensure_movable(booking)
        start, resource = self._place(body, booking_type, ignore_id=booking_id)
        after = rules.reschedule(booking, start, resource["id"], booking_type)
        extra = {"overbookReason": body["overbookReason"]} if body.get("overbookReason") else None
        return self._commit("reschedule", booking, after, actor or {}, extra=extra)

    def accept(self, booking_id: str, resource_id: str, actor: dict | None = None) -> dict:
        """Accept a waiting booking for ``resource_id`` (``POST /management/bookings/assign``)."""
        booking = self._booking(booking_id)
        resource = self._resource(resource_id)
        after = rules.accept(booking, resource, self._type(booking["typeId"]), self.now())
        out = self._commit("accept", booking, after, actor or {})
        self.events.publish("queue.changed", {"typeId": booking["typeId"]})
        return out

    def cancel(self, booking_id: str, reason: str, actor: dict | None = None) -> dict:
        booking = self._booking(booking_id)
        out = self._commit("cancel", booking, rules.cancel(booking, reason), actor or {})
        if booking["status"] == Status.PENDING_ASSIGNMENT:
            self.events.publish("queue.changed", {"typeId": booking["typeId"]})
        return out

    def check_in(self, booking_id: str, actor: dict | None = None) -> dict:
        booking = self._booking(booking_id)
        return self._commit("checkin", booking, rules.check_in(booking, self.now()), actor or {},
                            attendance="CheckIn")

    def start(self, booking_id: str, actor: dict | None = None) -> dict:
        booking = self._booking(booking_id)
        arrived = booking.get("visitStatus") is None
        return self._commit("start", booking, rules.start(booking, self.now()), actor or {},
                            attendance="CheckIn" if arrived else None)

    def end(self, booking_id: str, actor: dict | None = None) -> dict:
        """End the visit (``POST /management/bookings/end``): shortened to the time served."""
        booking = self._booking(booking_id)
        return self._commit("end", booking, rules.end(booking, self.now()), actor or {},
                            attendance="CheckOut")

    def no_show(self, booking_id: str, actor: dict | None = None) -> dict:
        booking = self._booking(booking_id)
        return self._commit("noshow", booking, rules.no_show(booking, self.now()), actor or {})

    def free_times(self, type_id: str, day: date, resource_id: str | None = None,
                   ignore_id: str | None = None, step: int | None = None) -> list[dict]:
        """Free start times on the branch-local ``day``: ``[{resourceId, startDateTime,
        date, time}]`` ordered by time then resource (``POST /availability/times``)."""
        booking_type = self._type(type_id)
        resources = [self._resource(resource_id)] if resource_id else [
            r for r in self.store.resources() if type_id in (r.get("types") or [])]
        lo, hi = self.day_bounds(day)
        types, now, out = self._types(), self.now(), []
        for resource in resources:
            around = self.store.resource_bookings(resource["id"], to_iso(lo - timedelta(hours=4)),
                                                  to_iso(hi + timedelta(hours=4)))
            for start in availability.free_starts(day, booking_type, resource.get("timeRules"), around, types,
                                                  self.zone, now, step=step, ignore_id=ignore_id):
                out.append({"resourceId": resource["id"], "startDateTime": to_iso(start),
                            "date": day.isoformat(), "time": military(start, self.zone)})
        return sorted(out, key=lambda s: (s["startDateTime"], s["resourceId"]))

    def history(self, booking_id: str) -> list[dict]:
        self._booking(booking_id)
        return self.store.history(booking_id)


def _changed(before: dict | None, after: dict, old: bool = False) -> dict:
    """The fields that differ between two versions (``old``: their previous values)."""
    keys = [k for k in after if k not in ("updatedAt", "version") and (before or {}).get(k) != after.get(k)]
    source = (before or {}) if old else after
    return {k: source.get(k) for k in keys}


__all__ = ["BookingService", "ACTIVE_STATUSES"]
