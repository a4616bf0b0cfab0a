"""``EhjznyCloud``: the whole simulated organization, usable directly from tests.

Tests act "cloud-side" through these methods while the desk talks HTTP to the same
instance: a customer joining the queue from the Ehjzny app, another branch's provider
accepting a booking, an online booking arriving (Ehjzny API reference, "Queue Booking", "Instant
Booking", "Race Condition Handling"). Every method takes the cloud's lock; booking
methods return the booking as the API shows it (``lang`` picks the names).
"""

from __future__ import annotations

from datetime import date, datetime

from .auth import AuthMixin
from .catalog import CatalogMixin
from .faults import Faults
from .listing import ListingMixin
from .queueing import QueueMixin
from .rules import local_day, military_of
from .scheduling import SchedulingMixin
from .state import CloudState
from .views import ViewsMixin


class EhjznyCloud(AuthMixin, CatalogMixin, SchedulingMixin, QueueMixin, ListingMixin, ViewsMixin, CloudState):
    def __init__(self, clock=None, zone: str = "Asia/Riyadh", *, fault_seed: int = 0, **options):
        super().__init__(clock, zone, **options)
        self._auth_init()
        self.faults = Faults(fault_seed)

    def customer_join_queue(
        self,
        customer_id: str,
        type_id: str,
        *,
        assignment_timeout: int | None = None,
        note: str | None = None,
    ) -> dict:
        """A customer joins the queue from the Ehjzny app (``assign: false``)."""
        body = {"type": type_id, "assign": False, "assignmentTimeout": assignment_timeout, "note": note}
        return self.schedule(body, customer_id=customer_id, customer_side=True)

    def add_online_booking(
        self,
        type_id: str,
        start: datetime | None = None,
        *,
        day: date | None = None,
        time: int | None = None,
        customer_id: str | None = None,
        resource_id: str | None = None,
        note: str | None = None,
    ) -> dict:
        """A confirmed booking made online (by ``start`` UTC, or local ``day`` + military ``time``).

        Without ``customer_id`` the first customer books. Working hours are not checked.
        """
        if start is not None:
            day, time = local_day(start, self.zone), military_of(start, self.zone)
        if day is None or time is None:
            raise ValueError("give start, or day and time")
        with self.lock:
            customer_id = customer_id or next(iter(self.customers))
        body = {
            "type": type_id,
            "date": day.isoformat(),
            "time": time,
            "note": note,
            "resourceFilters": {"resourceId": resource_id} if resource_id else {},
        }
        return self.schedule(body, customer_id=customer_id)

    def customer_cancel(self, customer_id: str, booking_id: str) -> dict:
        """The customer cancels, or leaves the queue (``POST /customer/bookings/cancel``)."""
        return self.cancel(booking_id, customer_id=customer_id)

    def booking(self, booking_id: str, lang: str = "en") -> dict:
        with self.lock:
            self.tick()
            return self.view(self.get("bookings", booking_id), lang)

    def queue(self, resource_id: str, lang: str = "en") -> list[dict]:
        """``resource_id``'s queue as ``GET /management/bookings/unassigned`` lists it."""
        with self.lock:
            return [self.view(b, lang, position=i) for i, b in enumerate(self.unassigned(resource_id), 1)]
