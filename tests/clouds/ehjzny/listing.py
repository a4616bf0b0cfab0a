"""Queries of the simulated cloud: the bookings listing and available times (contract
"Operations" → list bookings; Ehjzny API reference, "List Available Times", "List Available Booking Types").

``GET /management/bookings``: ``from``/``to`` ISO date-times (``from`` inclusive, ``to``
exclusive) on ``dateType`` ``dateTime`` (the start; unassigned bookings have none and are
left out when a bound is given) or ``createdAt``; ``resources`` and ``status``
comma-separated; ``customerId``; ``orderDirection`` ``asc|desc`` (default ``desc``) on the
``dateType`` field. A listing is filtered and sorted once and its pages served from that
while no booking changes (:attr:`.state.CloudState.revision`): what a page shows is as
if the whole listing were read again for it, without the O(bookings) work per page.

``POST /availability/times`` answers one object per organization-local day
``{"date": "2026-11-21", "times": [{"time": 900, "resourceIds": [...]}]}``. The grid is
the finest granularity asked (``showSixthHour`` 10 … ``showOclock`` 60 minutes, default
60) or ``showFixedTimes``; ``resourceFilters`` narrows the resources as in scheduling;
``from``/``to`` default to today and six days on; ``limit`` caps the number of days.
"""

from __future__ import annotations

from datetime import date, timedelta

from .rules import free_times, invalid, local_day, military_of, parse

#: sorted listings kept for their next pages (one per set of filters), while no booking changes
LISTINGS_KEPT = 16
ORDER_FLAGS = (("showSixthHour", 10), ("showQuarterHour", 15), ("showThirdHour", 20), ("showHalfHour", 30))


def _csv(value: str | None) -> set[str] | None:
    return {v for v in value.split(",") if v} if value else None


class Listing(list):
    """Records in listing order with their sort keys in ascending order
    (``ascending_keys``), so a page token resumes by bisection
    (:meth:`.paging.PageTokens.page`). Shared between the requests of one listing: read
    it, never change it."""

    def __init__(self, records: list[dict], key, descending: bool):
        super().__init__(records)
        self.ascending_keys = [key(r) for r in (reversed(records) if descending else records)]


class ListingMixin:
    _listings: dict

    def find_bookings(self, params: dict, customer_id: str | None = None) -> tuple[list[dict], object, bool]:
        """Records matching ``params`` in order → (records, sort key, descending)."""
        date_type = params.get("dateType") or "dateTime"
        direction = params.get("orderDirection") or "desc"
        if date_type not in ("dateTime", "createdAt") or direction not in ("asc", "desc"):
            raise invalid("dateType is dateTime|createdAt and orderDirection asc|desc")
        field = "startDateTime" if date_type == "dateTime" else "createdAt"
        try:
            lo, hi = parse(params.get("from")), parse(params.get("to"))
        except ValueError as exc:  # pragma: no cover - parse raises SimError
            raise invalid(str(exc)) from exc
        resources, statuses = _csv(params.get("resources")), _csv(params.get("status"))
        customer_id = customer_id or params.get("customerId")

        def wanted(b: dict) -> bool:
            moment = parse(b.get(field))
            if (lo or hi) and moment is None:
                return False
            return (
                (lo is None or moment >= lo)
                and (hi is None or moment < hi)
                and (resources is None or b.get("resourceId") in resources)
                and (statuses is None or b["status"] in statuses)
                and (customer_id is None or b["customerId"] == customer_id)
            )

        def key(b: dict) -> tuple:
            return (b.get(field) or b["createdAt"], b["_seq"])

        query = (
            field,
            lo,
            hi,
            frozenset(resources or ()) if resources is not None else None,
            frozenset(statuses or ()) if statuses is not None else None,
            customer_id,
            direction,
        )
        with self.lock:
            self.tick()
            cached = self._listings.get(query)
            if cached is None or cached[0] != self.revision:
                found = Listing(
                    sorted(
                        (b for b in self.bookings.values() if wanted(b)), key=key, reverse=direction == "desc"
                    ),
                    key,
                    direction == "desc",
                )
                if len(self._listings) >= LISTINGS_KEPT:
                    self._listings.pop(next(iter(self._listings)))
                self._listings[query] = cached = (self.revision, found)
        return cached[1], key, direction == "desc"

    def available_times(self, body: dict) -> list[dict]:
        with self.lock:
            btype = self.get("types", body.get("type"))
            resources = self._matching(btype, body.get("resourceFilters") or {})
            if (body.get("resourceFilters") or {}).get("resourceId"):
                resources = [r for r in resources if r["id"] == body["resourceFilters"]["resourceId"]]
            now = self.clock.now()
            first = _day(body.get("from")) or local_day(now, self.zone)
            last = _day(body.get("to")) or first + timedelta(days=6)
            step = next((m for flag, m in ORDER_FLAGS if body.get(flag)), 60)
            fixed = (
                [int(t) for t in str(body["showFixedTimes"]).split(",")]
                if body.get("showFixedTimes")
                else None
            )
            days = []
            day = first
            while day <= last and len(days) < int(body.get("limit") or 366):
                slots: dict[int, list[str]] = {}
                for resource in resources:
                    for start in free_times(
                        day,
                        btype,
                        self.time_rules.get(resource["id"]),
                        self.active_on(resource["id"]),
                        self.types,
                        self.zone,
                        now,
                        step=step,
                        fixed=fixed,
                        ignore_id=body.get("rescheduleBookingId"),
                    ):
                        slots.setdefault(military_of(start, self.zone), []).append(resource["id"])
                days.append(
                    {
                        "date": day.isoformat(),
                        "times": [{"time": t, "resourceIds": ids} for t, ids in sorted(slots.items())],
                    }
                )
                day += timedelta(days=1)
            return days


def _day(text: str | None) -> date | None:
    """The date part of an ISO date or date-time ("the time component is ignored")."""
    if not text:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError as exc:
        raise invalid(f"not an ISO date: {text!r}") from exc
