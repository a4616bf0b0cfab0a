"""The branch booking service: the booking rules applied to the store, one atomic write
per action, a history entry and live events for each change.

Every public method either returns the changed booking in API shape or raises
:class:`~app.domain.errors.BookingError` with nothing written. Checks and writes run under
the store's writer lock, so of two desks racing for one booking or one slot exactly one
wins (Ehjzny API reference, "Race Condition Handling"); the other gets ``SCH-ALREADY_ASSIGNED`` (400) or
``SCH-SLOT-TAKEN`` (409). The sync engine registers a ``change listener`` that writes its
outbox row inside the same transaction. Events are written in that transaction too
(:mod:`app.server.events`) and reach desks after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from app.domain import availability, errors, rules
from app.domain.actions import ACTIONS
from app.domain.clock import Clock, from_iso, from_local, local_date, to_iso
from app.domain.errors import BookingError
from app.domain.model import (
    ACTIVE_STATUSES,
    HOLD_MINUTES_DEFAULT,
    HOLD_MINUTES_MAX,
    HOLD_MINUTES_MIN,
    Action,
    AttendanceKind,
    EventType,
    Status,
)
from app.domain.queue import called_to, clamp_timeout, is_expired, positions, resource_queue
from app.domain.rows import BookingTypeRow, CustomerRow, ResourceRow
from app.ids import new_id
from app.server.events import EventLog
from app.server.reads import ReadsMixin
from app.store import Store
from app.store.changes import BookingChange, StaleWrite

log = logging.getLogger(__name__)

#: actions that take back the attendance an earlier action recorded (:data:`app.domain.actions.ACTIONS`)
RETRACTS = {action: spec.retracts for action, spec in ACTIONS.items() if spec.retracts}

#: ``listener(action, before, after, actor)`` runs inside the write transaction.
ChangeListener = Callable[[str, dict | None, dict, dict], None]
HOLD_EXPIRED = "SCH-HOLD-EXPIRED"


class BookingService(ReadsMixin):
    def __init__(self, store: Store, clock: Clock | None = None, events: EventLog | None = None):
        self.store = store
        self.clock = clock or Clock()
        self.events = events or EventLog(store)
        self.listeners: list[ChangeListener] = []
        #: ``listener(resource_id, time_rules)`` runs inside the transaction of a time-rule edit
        self.time_rule_listeners: list[Callable[[str, dict], None]] = []

    @property
    def zone(self) -> str:
        return self.store.zone

    def now(self) -> datetime:
        return self.clock.now()

    # writing ----------------------------------------------------------------------
    def _commit(
        self,
        action: Action,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any],
        actor: dict,
        attendance: AttendanceKind | None = None,
        extra: dict | None = None,
    ) -> dict:
        """Write one change: booking row, attendance, history (who, when, which desk, old →
        new), listeners and events, all in one transaction. Raises CONFLICT (409; for an
        accept SCH-ALREADY_ASSIGNED) when the booking changed since ``before`` was read."""
        now = to_iso(self.now())
        after = {**after, "updatedAt": now, "version": int((before or {}).get("version") or 0) + 1}
        with self.store.transaction():
            return self._write(action, before, after, actor, attendance, extra, now)

    def _write(self, action, before, after, actor, attendance, extra, now) -> dict:
        try:
            self.store.write_changes(
                [
                    BookingChange(
                        action, before, after, actor.get("user"), actor.get("deskId"), extra, check=True
                    )
                ],
                now,
            )
        except StaleWrite:
            raise BookingError(
                errors.ALREADY_ASSIGNED if action == Action.ACCEPT else "CONFLICT",
                "the booking changed meanwhile; reload and try again",
                409,
                bookingId=after["id"],
            ) from None
        if attendance:
            self.store.add_attendance(
                {
                    "id": new_id(),
                    "type": attendance,
                    "bookingId": after["id"],
                    "customerId": after["customerId"],
                    "createdAt": now,
                }
            )
        if action in RETRACTS:
            self.store.remove_last_attendance(after["id"], RETRACTS[action])
        if extra and extra.get("overbookReason"):  # the audited override goes out with the change
            actor = {**actor, "overbookReason": extra["overbookReason"]}
        for listener in self.listeners:
            listener(action, before, after, actor)
        out = self.to_api(after)
        self.events.record(
            EventType.BOOKING_CHANGED,
            {"action": action, "booking": self.embed([dict(out)], {"customer", "type"})[0]},
        )
        was_queued = (before or {}).get("status") == Status.PENDING_ASSIGNMENT
        if was_queued or after["status"] == Status.PENDING_ASSIGNMENT:
            self.events.record(
                EventType.QUEUE_CHANGED,
                {
                    "typeId": after["typeId"],
                    "reason": action,
                    "bookingId": after["id"],
                    "queues": self.queue_positions(after["typeId"]),
                },
            )
        if action == Action.END and before and after["endDateTime"] != before["endDateTime"]:
            self.events.record(EventType.SLOT_FREED, self._freed(after, before))
        return out

    def _freed(self, after: dict, before: dict) -> dict:
        """``slot.freed``: the time from the early end to the resource's next booking (or the end
        of its working period, at least the booked end) and the first waiting booking whose
        type the resource serves and that fits (Ehjzny API reference, "End Booking")."""
        resource = self._resource(after["resourceId"])
        start, booked_end = from_iso(after["endDateTime"]), from_iso(before["endDateTime"])
        day = local_date(start, self.zone)
        period_end = max(
            [
                hi
                for lo, hi in availability.working_spans(resource.get("timeRules"), day, self.zone)
                if lo <= start < hi
            ]
            or [booked_end]
        )
        types = self._types()
        later = availability.busy_spans(
            self.store.resource_bookings(
                resource["id"], to_iso(start), to_iso(period_end + timedelta(hours=1))
            ),
            types,
            ignore_id=after["id"],
            now=self.now(),
        )
        until = min([s.start for s in later if s.start >= start] + [max(period_end, booked_end)])
        first = None
        for b in positions(resource_queue(resource, self.store.queued_bookings(), self.now()), types):
            lo, hi = availability.span_with_buffers(start, types.get(b["typeId"], {"minutes": 0}))
            if hi <= until:
                first = {
                    "bookingId": b["id"],
                    "typeId": b["typeId"],
                    "customerId": b["customerId"],
                    "queuePosition": b["queuePosition"],
                }
                break
        return {
            "resourceId": resource["id"],
            "from": to_iso(start),
            "to": to_iso(until),
            "bookingId": after["id"],
            "firstWaiting": first,
        }

    def expire_overdue(self) -> int:
        """Turn every unassigned booking past its assignment timeout ``REJECTED`` (Ehjzny API reference
        "Assignment Timeout") and cancel every temporary hold past its ``heldUntil`` (Ehjzny API reference
        "Create Temporary Booking": not confirmed in time). Returns how many changed."""
        now, count = self.now(), 0
        for booking in self.store.queued_bookings():
            if is_expired(booking, now):
                self._commit(Action.EXPIRE, booking, rules.expire(booking), {"user": "system"})
                count += 1
        for booking in self.store.expired_holds(to_iso(now)):
            self._commit(
                Action.HOLD_EXPIRE,
                booking,
                {**booking, "status": Status.CANCELED, "cancelReason": "temporary hold expired"},
                {"user": "system"},
            )
            count += 1
        return count

    def create(self, body: dict, actor: dict | None = None) -> dict:
        """Book (``assign`` true: date + military time + type, optional resource) or put a
        walk-in in the queue (``assign`` false: type only) — ``PUT /management/scheduling/new``.
        With ``rescheduleBookingId`` it moves that booking instead (its local id stays).
        A non-empty ``overbookReason`` books over a taken slot or outside working hours; the
        reason is kept in the history.

        Raises NOT-FOUND (type, resource, customer), VALIDATION, SCH-SLOT-TAKEN (409),
        SCH-OUTSIDE-WORKING-HOURS, SCH-TYPE-NOT-SERVED.
        """
        actor = actor or {}
        if body.get("rescheduleBookingId"):
            return self.reschedule(body["rescheduleBookingId"], body, actor)
        booking_type = self._type(body["type"])
        customer = self._customer(body.get("customerIdentifier") or {})
        now = self.now()
        booking = {
            "id": new_id(),
            "typeId": booking_type["id"],
            "customerId": customer["id"],
            "note": body.get("note"),
            "createdAt": to_iso(now),
            "visitStatus": None,
        }
        if body.get("assign", True) is False:
            if not any(booking_type["id"] in (r.get("types") or []) for r in self.store.resources()):
                raise BookingError(errors.TYPE_NOT_SERVED, "no resource serves this booking type", 400)
            with self.store.lock, self.store.transaction():  # the ticket is given with the booking's write
                number, ticket = self.store.new_ticket(booking_type["id"], booking["createdAt"], self.zone)
                booking.update(
                    status=Status.PENDING_ASSIGNMENT,
                    source="walk-in",
                    assignmentTimeout=clamp_timeout(body.get("assignmentTimeout")),
                    queueNumber=number,
                    ticket=ticket,
                )
                return self._commit(Action.CREATE, None, booking, actor)
        return self._create_at(body, booking, booking_type, actor, held_minutes=None)

    def _create_at(
        self, body: dict, booking: dict, booking_type: BookingTypeRow, actor: dict, held_minutes: int | None
    ) -> dict:
        with self.store.lock:  # the slot check and the write with nothing in between
            start, resource = self._place(body, booking_type, ignore_id=None)
            minutes = int(booking_type["minutes"])
            confirmed = booking_type.get("autoConfirm", True) is not False and held_minutes is None
            booking.update(
                status=Status.CONFIRMED if confirmed else Status.PENDING_APPROVAL,
                source="desk",
                resourceId=resource["id"],
                startDateTime=to_iso(start),
                endDateTime=to_iso(start + timedelta(minutes=minutes)),
                duration=minutes,
            )
            if held_minutes is not None:
                booking["heldUntil"] = to_iso(self.now() + timedelta(minutes=held_minutes))
            return self._commit(
                Action.HOLD if held_minutes is not None else Action.CREATE,
                None,
                booking,
                actor,
                extra=_overbook(body),
            )

    def hold(self, body: dict, actor: dict | None = None) -> dict:
        """A temporary booking that keeps its slot for ``reservedForMinutes`` (clamped to
        1..60, default 15) — ``PUT /management/scheduling/temporary`` (Ehjzny API reference, "Create
        Temporary Booking"). Status ``PENDING_APPROVAL`` with ``heldUntil``; not confirmed in
        time it is canceled and the slot is free. Raises as :meth:`create`."""
        if body.get("rescheduleBookingId") or body.get("assign") is False:
            raise errors.invalid(
                "a temporary booking needs a date and time and cannot reschedule", field="rescheduleBookingId"
            )
        booking_type = self._type(body["type"])
        customer = self._customer(body.get("customerIdentifier") or {})
        minutes = max(
            HOLD_MINUTES_MIN,
            min(HOLD_MINUTES_MAX, int(body.get("reservedForMinutes") or HOLD_MINUTES_DEFAULT)),
        )
        booking = {
            "id": new_id(),
            "typeId": booking_type["id"],
            "customerId": customer["id"],
            "note": body.get("note"),
            "createdAt": to_iso(self.now()),
            "visitStatus": None,
        }
        return self._create_at(body, booking, booking_type, actor or {}, held_minutes=minutes)

    def confirm(self, booking_id: str, actor: dict | None = None) -> dict:
        """Turn a temporary hold into a booking (``POST /management/scheduling/confirm``):
        ``CONFIRMED`` (``PENDING_APPROVAL`` for a type without autoConfirm). Raises
        SCH-HOLD-EXPIRED (409) once ``heldUntil`` has passed, INVALID-TRANSITION (409) for a
        booking that is not a live hold."""
        with self.store.lock:
            booking = self._booking(booking_id)
            if not booking.get("heldUntil") or booking["status"] not in ACTIVE_STATUSES:
                raise BookingError(
                    errors.INVALID_TRANSITION,
                    "this booking is not a temporary hold",
                    409,
                    bookingId=booking_id,
                    status=booking["status"],
                )
            if from_iso(booking["heldUntil"]) <= self.now():
                raise BookingError(
                    HOLD_EXPIRED,
                    "the temporary hold has expired; book again",
                    409,
                    bookingId=booking_id,
                    heldUntil=booking["heldUntil"],
                )
            booking_type = self._type(booking["typeId"])
            status = (
                Status.CONFIRMED
                if booking_type.get("autoConfirm", True) is not False
                else Status.PENDING_APPROVAL
            )
            return self._commit(
                Action.CONFIRM, booking, {**booking, "status": status, "heldUntil": None}, actor or {}
            )

    def _customer(self, identifier: dict) -> CustomerRow:
        customer = None
        if identifier.get("id"):
            customer = self.store.customer(identifier["id"])
        elif identifier.get("phone") or identifier.get("email"):
            customer = self.store.customer_by(phone=identifier.get("phone"), email=identifier.get("email"))
        else:
            raise errors.invalid(
                "customerIdentifier needs the customer's id, phone or email", field="customerIdentifier"
            )
        if customer is None:
            raise errors.not_found("customer", str(next(v for v in identifier.values() if v)))
        return customer

    def _start_of(self, body: dict) -> datetime:
        """``startDateTime`` (ISO with a zone) or ``date`` + military ``time`` (branch-local).
        Raises VALIDATION for a missing, malformed or zone-less time."""
        if body.get("startDateTime"):
            try:
                return from_iso(body["startDateTime"])
            except ValueError as exc:
                raise errors.invalid(
                    "startDateTime must be ISO-8601 with a zone (e.g. 2026-11-22T07:00:00Z)",
                    field="startDateTime",
                ) from exc
        try:
            return from_local(date.fromisoformat(body["date"]), int(body["time"]), self.zone)
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.invalid(
                "date (YYYY-MM-DD) and time (military, e.g. 930) are required", field="date"
            ) from exc

    def _place(
        self, body: dict, booking_type: BookingTypeRow, ignore_id: str | None
    ) -> tuple[datetime, ResourceRow]:
        """Resolve the start and the resource (given, or the first free one serving the type),
        checking hours and overlaps."""
        start = self._start_of(body)
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

    def _check_slot(
        self,
        resource: ResourceRow,
        booking_type: BookingTypeRow,
        start: datetime,
        ignore_id: str | None,
        override: bool,
    ) -> BookingError | None:
        if booking_type["id"] not in (resource.get("types") or []):
            return BookingError(
                errors.TYPE_NOT_SERVED,
                f"{resource['name']} does not serve this booking type",
                400,
                resourceId=resource["id"],
            )
        if (
            not availability.within_working_hours(start, booking_type, resource.get("timeRules"), self.zone)
            and not override
        ):
            return BookingError(
                errors.OUTSIDE_WORKING_HOURS,
                "the time is outside the resource's working hours",
                400,
                resourceId=resource["id"],
                startDateTime=to_iso(start),
            )
        lo, hi = availability.span_with_buffers(start, booking_type)
        around = self.store.resource_bookings(
            resource["id"], to_iso(lo - timedelta(hours=4)), to_iso(hi + timedelta(hours=4))
        )
        spans = availability.busy_spans(around, self._types(), ignore_id, now=self.now())
        if availability.overlaps(lo, hi, spans) and not override:
            return BookingError(
                errors.SLOT_TAKEN,
                "the slot is no longer free",
                409,
                resourceId=resource["id"],
                startDateTime=to_iso(start),
            )
        return None

    def reschedule(self, booking_id: str, body: dict, actor: dict | None = None) -> dict:
        """Move a booking to ``date``/``time`` (or ``startDateTime``) and optionally another
        ``resourceId``; the local id stays (Ehjzny API reference, "Create Confirmed Booking" → Rescheduling)."""
        with self.store.lock:
            booking = self._booking(booking_id)
            booking_type = self._type(booking["typeId"])
            body = {**body, "resourceId": body.get("resourceId") or booking.get("resourceId")}
            rules.ensure_movable(booking)
            start, resource = self._place(body, booking_type, ignore_id=booking_id)
            after = rules.reschedule(booking, start, resource["id"], booking_type)
            return self._commit(Action.RESCHEDULE, booking, after, actor or {}, extra=_overbook(body))

    def _act(
        self,
        action: Action,
        booking_id: str,
        change,
        actor: dict | None,
        attendance: AttendanceKind | None = None,
    ):
        """Apply ``change`` (the rule) to the stored booking and commit it, with the attendance
        the action records (:data:`app.domain.actions.ACTIONS`) unless ``attendance`` is given."""
        with self.store.lock:
            booking = self._booking(booking_id)
            return self._commit(
                action,
                booking,
                change(booking),
                actor or {},
                attendance=attendance or ACTIONS[action].records,
            )

    def accept(
        self, booking_id: str, resource_id: str, actor: dict | None = None, when_free: bool = False
    ) -> dict:
        """Accept a waiting booking for ``resource_id`` (``POST /management/bookings/assign``).
        ``when_free`` (doctor mode's "Accept next"): only while the resource has nobody in the
        room or called (:func:`app.domain.queue.called_to`), else SCH-PROVIDER-BUSY (409)."""
        resource = self._resource(resource_id)
        with self.store.lock:
            if when_free:
                start, end = self.day_bounds(local_date(self.now(), self.zone))
                busy = called_to(
                    resource_id, self.store.resource_bookings(resource_id, to_iso(start), to_iso(end))
                )
                if busy:
                    raise BookingError(
                        errors.PROVIDER_BUSY,
                        "the provider has a patient called or in the room",
                        409,
                        resourceId=resource_id,
                        bookingId=busy[0]["id"],
                    )
            return self._act(
                Action.ACCEPT,
                booking_id,
                lambda b: rules.accept(b, resource, self._type(b["typeId"]), self.now()),
                actor,
            )

    def cancel(self, booking_id: str, reason: str, actor: dict | None = None) -> dict:
        return self._act(Action.CANCEL, booking_id, lambda b: rules.cancel(b, reason), actor)

    def act(self, action: Action | str, booking_id: str, actor: dict | None = None) -> dict:
        """Do an action whose request names the booking alone (the ``ref_only`` ones of
        :data:`app.domain.actions.ACTIONS`): a ``plain`` one applies its rule and commits with
        the attendance it records; another runs the service method the table names. Raises
        as the rule does, NOT-FOUND for an unknown booking, ValueError for another action."""
        action = Action(action)
        spec = ACTIONS[action]
        if not spec.ref_only:
            raise ValueError(f"{action} needs more than the booking's id")
        if spec.plain and spec.check is not None:
            check = spec.check
            return self._act(action, booking_id, lambda b: check(b, self.now()), actor)
        return getattr(self, spec.method or "")(booking_id, actor)

    def check_in(self, booking_id: str, actor: dict | None = None) -> dict:
        return self.act(Action.CHECK_IN, booking_id, actor)

    def start(self, booking_id: str, actor: dict | None = None) -> dict:
        with self.store.lock:
            arrived = self._booking(booking_id).get("visitStatus") is None
            return self._act(
                Action.START,
                booking_id,
                lambda b: rules.start(b, self.now()),
                actor,
                AttendanceKind.CHECK_IN if arrived else None,
            )

    def end(self, booking_id: str, actor: dict | None = None) -> dict:
        """End the visit (``POST /management/bookings/end``): shortened to the time served;
        an early end publishes ``slot.freed``."""
        return self.act(Action.END, booking_id, actor)

    def no_show(self, booking_id: str, actor: dict | None = None) -> dict:
        return self.act(Action.NO_SHOW, booking_id, actor)

    def undo_check_in(self, booking_id: str, actor: dict | None = None) -> dict:
        """Take back a check-in (the desk's Undo); its CheckIn attendance is removed."""
        return self.act(Action.UNDO_CHECK_IN, booking_id, actor)

    def reopen(self, booking_id: str, actor: dict | None = None) -> dict:
        """Take back "end" (the desk's Undo): the visit continues with its scheduled end,
        read from the history entry of the end; its CheckOut attendance is removed."""
        with self.store.lock:
            ends = [h for h in self.store.history(booking_id) if h["action"] == Action.END]
            before = ends[-1]["before"] if ends else {}
            return self._act(
                Action.REOPEN,
                booking_id,
                lambda b: rules.reopen(b, before.get("endDateTime"), before.get("duration")),
                actor,
            )

    def restore(self, booking_id: str, actor: dict | None = None) -> dict:
        """Take back a cancel (the desk's Undo, ``POST /management/bookings/cancel/undo``):
        the same booking, same id, time, resource and ticket, gets back the status its last
        cancel's history entry recorded (:func:`app.domain.rules.restore`). Raises
        INVALID-TRANSITION (409) unless it is canceled at a desk, SCH-SLOT-TAKEN (409) when
        another booking took its time meanwhile, BKS-110 for a walk-in past its timeout."""
        with self.store.lock:
            booking = self._booking(booking_id)
            cancels = [h for h in self.store.history(booking_id) if h["action"] == Action.CANCEL]
            status_before = (cancels[-1]["before"] or {}).get("status") if cancels else None
            after = rules.restore(booking, status_before, self.now())
            if after["status"] in ACTIVE_STATUSES and after.get("resourceId") and after.get("startDateTime"):
                start = from_iso(after["startDateTime"])
                lo, hi = availability.span_with_buffers(start, self._type(after["typeId"]))
                around = self.store.resource_bookings(
                    after["resourceId"], to_iso(lo - timedelta(hours=4)), to_iso(hi + timedelta(hours=4))
                )
                if availability.overlaps(
                    lo, hi, availability.busy_spans(around, self._types(), booking_id, now=self.now())
                ):
                    raise BookingError(
                        errors.SLOT_TAKEN,
                        "another booking took this time meanwhile",
                        409,
                        resourceId=after["resourceId"],
                        startDateTime=after["startDateTime"],
                    )
            return self._commit(Action.RESTORE, booking, after, actor or {})

    def attendances(self, day: date) -> list[dict]:
        start, end = self.day_bounds(day)
        return self.store.attendances(to_iso(start), to_iso(end))

    def history(self, booking_id: str) -> list[dict]:
        self._booking(booking_id)
        return self.store.history(booking_id)


def _overbook(body: dict) -> dict | None:
    reason = (body.get("overbookReason") or "").strip()
    return {"overbookReason": reason} if reason else None


__all__ = ["BookingService", "ACTIVE_STATUSES"]
