"""The booking service's read side: bookings in API shape, queues, free times and the
``/availability/*`` views. Mixed into :class:`app.server.service.BookingService`.

Batched: one query per table for a whole list, never one per row (the day view of 20
resources and 600 bookings is the hot path, see ``tests/bench/bench_server.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.domain import availability, errors
from app.domain.clock import from_iso, local_date, local_day_bounds, military, to_iso
from app.domain.model import Status
from app.domain.queue import best_position, is_expired, positions, resource_queue
from app.domain.rows import BookingRow, BookingTypeRow, ResourceRow
from app.server.payments import Payments

if TYPE_CHECKING:
    from app.store.store import Store


def _on(row: Mapping[str, Any]) -> bool:
    return row.get("on") is not False and row.get("activated") is not False


class ReadsMixin:
    """Needs ``self.store``, ``self.zone``, ``self.now()`` and the ``_resource``/``_type``
    lookups of the service."""

    store: Store
    if TYPE_CHECKING:  # provided by BookingService

        @property
        def zone(self) -> str: ...
        def now(self) -> datetime: ...
        def expire_overdue(self) -> int: ...

    # lookups ---------------------------------------------------------------------------
    def _types(self) -> dict[str, BookingTypeRow]:
        return {t["id"]: t for t in self.store.types()}

    def _booking(self, booking_id: str) -> BookingRow:
        booking = self.store.booking(booking_id)
        if booking is None:
            raise errors.not_found("booking", booking_id)
        return booking

    def _resource(self, resource_id: str) -> ResourceRow:
        resource = self.store.resource(resource_id)
        if resource is None:
            raise errors.not_found("resource", resource_id)
        return resource

    def _type(self, type_id: str) -> BookingTypeRow:
        booking_type = self.store.booking_type(type_id)
        if booking_type is None:
            raise errors.not_found("booking type", type_id)
        return booking_type

    def _expire_due(self) -> None:
        """Expire what is overdue before a queue is read (:meth:`expire_overdue`), under the
        writer lock so two readers never expire the same booking; without taking the lock
        when nothing is due (the common case: a read does not wait for a running write)."""
        now = self.now()
        if any(is_expired(b, now) for b in self.store.queued_bookings()) or self.store.expired_holds(
            to_iso(now)
        ):
            with self.store.lock:
                self.expire_overdue()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        return local_day_bounds(day, self.zone)

    # bookings in API shape ---------------------------------------------------------------
    def to_api(
        self,
        booking: BookingRow,
        queued: Sequence[BookingRow] | None = None,
        resources: Sequence[ResourceRow] | None = None,
    ) -> dict:
        """The booking as the API returns it: stored fields, the branch-local
        ``startDate``/``startTime`` view, ``cloudIds``, ``price``/``paid``/``balance`` (minor
        units, VAT included) with ``currency`` (:mod:`app.server.payments`) and, while
        waiting, the queue fields."""
        return self.to_api_many([booking], queued, resources)[0]

    def to_api_many(
        self,
        rows: Sequence[Mapping[str, Any]],
        queued: Sequence[BookingRow] | None = None,
        resources: Sequence[ResourceRow] | None = None,
    ) -> list[dict]:
        """:meth:`to_api` for many bookings with one query per table."""
        cloud = self.store.cloud_ids_many([b["id"] for b in rows]) if rows else {}
        zone, out = self.zone, []
        waiting = [b for b in rows if b["status"] == Status.PENDING_ASSIGNMENT]
        if waiting:
            now = self.now()
            queued = self.store.queued_bookings() if queued is None else queued
            resources = self.store.resources() if resources is None else resources
            types = self._types()
        for booking in rows:
            item = dict(booking)
            if booking.get("startDateTime"):
                start = from_iso(booking["startDateTime"])
                item["startDate"] = local_date(start, zone).isoformat()
                item["startTime"] = military(start, zone)
            item["cloudIds"] = cloud.get(booking["id"], {})
            if booking["status"] == Status.PENDING_ASSIGNMENT:
                pos = best_position(booking, resources, queued, now)
                if pos is not None:
                    minutes = int(types.get(booking["typeId"], {}).get("minutes") or 0)
                    item["queuePosition"], item["estimatedWaitMinutes"] = pos, pos * minutes
            out.append(item)
        return Payments(self).add_figures(out)

    def embed(self, rows: list[dict], wanted: set[str]) -> list[dict]:
        """Add ``customer``, ``type`` and ``resource`` objects in place (the contract's
        ``includes``); returns ``rows``."""
        if not rows or not wanted & {"customer", "type", "resource"}:
            return rows
        types = self._types() if "type" in wanted else {}
        resources = {r["id"]: r for r in self.store.resources()} if "resource" in wanted else {}
        customers = (
            self.store.customers_many(sorted({r["customerId"] for r in rows if r.get("customerId")}))
            if "customer" in wanted
            else {}
        )
        for row in rows:
            if "customer" in wanted:
                row["customer"] = customers.get(row.get("customerId"))
            if "type" in wanted:
                row["type"] = types.get(row.get("typeId"))
            if "resource" in wanted and row.get("resourceId"):
                row["resource"] = resources.get(row["resourceId"])
        return rows

    def list_bookings(
        self,
        start: datetime,
        end: datetime,
        resource_ids: list[str] | None = None,
        statuses: list[str] | None = None,
    ) -> list[dict]:
        """Scheduled bookings overlapping ``[start, end)`` (UTC), ordered by start."""
        return self.to_api_many(
            self.store.bookings_between(to_iso(start), to_iso(end), resource_ids, statuses)
        )

    # queues ------------------------------------------------------------------------------
    def queue(self, resource_id: str) -> list[dict]:
        """The resource's queue, FIFO, with ``queuePosition`` and ``estimatedWaitMinutes``
        (Ehjzny API reference, "Provider: View Unassigned Bookings"), then the queue bookings of its types
        still awaiting payment (``PENDING_PAYMENT``, ``awaitingPayment: true``, no position:
        they join the queue once paid, Ehjzny API reference, "Instant Booking" step 2)."""
        self._expire_due()
        resource = self._resource(resource_id)
        queue = resource_queue(resource, self.store.queued_bookings(), self.now())
        served = set(resource.get("types") or [])
        unpaid = [b for b in self._awaiting_payment() if b["typeId"] in served]
        return [
            {**b, **{k: p[k] for k in ("queuePosition", "estimatedWaitMinutes")}}
            for b, p in zip(self.to_api_many(queue), positions(queue, self._types()), strict=True)
        ] + [{**b, "awaitingPayment": True} for b in self.to_api_many(unpaid)]

    def _awaiting_payment(self) -> list[dict]:
        """Queue bookings (no start) in ``PENDING_PAYMENT``, oldest first."""
        return self.store._rows(
            "select * from bookings where status = ? and startDateTime is null order by createdAt, id",
            [Status.PENDING_PAYMENT],
        )

    def waiting(self) -> list[dict]:
        """Every booking waiting for a resource, oldest first, with its best position."""
        self._expire_due()
        queued = self.store.queued_bookings()
        return self.to_api_many(queued, queued, self.store.resources()) + [
            {**b, "awaitingPayment": True} for b in self.to_api_many(self._awaiting_payment())
        ]

    def queue_positions(self, type_id: str) -> dict[str, list[dict]]:
        """``{resourceId: [{bookingId, queuePosition, estimatedWaitMinutes, bestPosition,
        bestWaitMinutes}]}`` for every resource serving ``type_id`` (the payload of
        ``queue.changed``). ``bestPosition``/``bestWaitMinutes``: the booking's position in
        the shortest queue among all resources serving its own type and that × its type's
        minutes — what the waiting list shows (:meth:`to_api`), so a desk updates it
        without a refetch (:mod:`app.client.live`)."""
        now, types = self.now(), self._types()
        queued = [b for b in self.store.queued_bookings() if not is_expired(b, now)]  # filter once
        out, best = {}, {}
        for resource in self.store.resources():
            queue = resource_queue(resource, queued, now)
            for index, b in enumerate(queue, start=1):
                if b["typeId"] in (resource.get("types") or []):
                    best[b["id"]] = min(best.get(b["id"], index), index)
            if type_id in (resource.get("types") or []):
                out[resource["id"]] = [
                    {
                        "bookingId": b["id"],
                        "queuePosition": b["queuePosition"],
                        "estimatedWaitMinutes": b["estimatedWaitMinutes"],
                        "bestPosition": best.get(b["id"]),
                        "bestWaitMinutes": (best.get(b["id"]) or 0)
                        * int(types.get(b["typeId"], {}).get("minutes") or 0),
                    }
                    for b in positions(queue, types)
                ]
        return out

    def customer_bookings(self, customer_id: str, limit: int = 500) -> list[dict]:
        """The customer's bookings in API shape, newest first (waiting ones first of all);
        raises NOT-FOUND for an unknown customer."""
        if self.store.customer(customer_id) is None:
            raise errors.not_found("customer", customer_id)
        return self.to_api_many(self.store.customer_bookings(customer_id, limit))

    # availability ------------------------------------------------------------------------
    def free_times(
        self,
        type_id: str,
        day: date,
        resource_id: str | None = None,
        ignore_id: str | None = None,
        step: int | None = None,
        grid: availability.Grid | None = None,
    ) -> list[dict]:
        """Free start times on the branch-local ``day``: ``[{resourceId, startDateTime,
        date, time}]`` ordered by time then resource (``POST /availability/times``).
        Raises NOT-FOUND for an unknown type or resource."""
        booking_type = self._type(type_id)
        resources = (
            [self._resource(resource_id)]
            if resource_id
            else [r for r in self.store.resources() if type_id in (r.get("types") or []) and _on(r)]
        )
        lo, hi = self.day_bounds(day)
        around = self.store.active_bookings(
            [r["id"] for r in resources], to_iso(lo - timedelta(hours=4)), to_iso(hi + timedelta(hours=4))
        )
        types, now, out = self._types(), self.now(), []
        for resource in resources:
            if type_id not in (resource.get("types") or []):
                continue
            mine = [b for b in around if b["resourceId"] == resource["id"]]
            for start in availability.free_starts(
                day,
                booking_type,
                resource.get("timeRules"),
                mine,
                types,
                self.zone,
                now,
                step=step,
                ignore_id=ignore_id,
                grid=grid,
            ):
                out.append(
                    {
                        "resourceId": resource["id"],
                        "startDateTime": to_iso(start),
                        "date": day.isoformat(),
                        "time": military(start, self.zone),
                    }
                )
        return sorted(out, key=lambda s: (s["startDateTime"], s["resourceId"]))

    def pending_counts(self) -> dict[str, int]:
        """Waiting (not expired) bookings per type id (Ehjzny API reference, "Queue Booking": pendingCount)."""
        now, counts = self.now(), {}
        for b in self.store.queued_bookings():
            if not is_expired(b, now):
                counts[b["typeId"]] = counts.get(b["typeId"], 0) + 1
        return counts

    def available_types(self, resource_id: str | None = None) -> list[dict]:
        """Booking types that are on and served by an active resource (or by ``resource_id``),
        each with ``pendingCount`` (``POST /availability/types``, Ehjzny API reference, "Queue Booking")."""
        resources = [self._resource(resource_id)] if resource_id else self.store.resources()
        served = {t for r in resources if _on(r) for t in (r.get("types") or [])}
        counts = self.pending_counts()
        return [
            {**t, "pendingCount": counts.get(t["id"], 0)}
            for t in self.store.types()
            if t["id"] in served and t.get("on") is not False
        ]

    def available_resources(self, type_id: str | None = None) -> list[ResourceRow]:
        """Active resources, those serving ``type_id`` when given (``POST
        /availability/resources``, Ehjzny API reference, "List Available Resources")."""
        if type_id:
            self._type(type_id)
        return [
            r
            for r in self.store.resources()
            if _on(r) and (type_id is None or type_id in (r.get("types") or []))
        ]
