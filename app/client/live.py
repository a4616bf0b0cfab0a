"""A view's bookings kept current from the branch server's live events, without refetching.

The server's events carry what changed (:mod:`app.server.events`): ``booking.changed`` the
booking in the API's shape with its ``version``, ``queue.changed`` the new positions of every
resource serving a type, ``customer.changed`` the customer. :class:`LiveDay` holds what a
desk shows — the bookings of one branch-local day (as ``GET /management/bookings?date=``
returns them) and the waiting queue (as ``GET /management/bookings/waiting``) — and applies
those events to it. An action's own reply is applied the same way (:meth:`LiveDay.put`), so
the echo of a desk's own action, arriving later with the same version, changes nothing.

:meth:`LiveDay.apply` answers what the event needs: :data:`APPLIED` (the rows changed),
:data:`UNCHANGED`, or :data:`REFETCH` (the view must be fetched again: ``resync`` — a gap the
server could not replay — a changed resource, or an event type this module does not know).
A booking that arrives without its embedded ``customer`` (the sync engine's events) takes
it from a row of the same customer; when none is known the booking's id is listed in
:attr:`LiveDay.missing` for the caller to fetch that one booking.

Pure Python, no Qt: the desk's main window, doctor mode and the waiting-room screen use it.
"""

from __future__ import annotations

from datetime import date

from app.domain.clock import local_day_bounds, to_iso
from app.domain.model import EventType, Status

APPLIED, UNCHANGED, REFETCH = "applied", "unchanged", "refetch"
#: events that never change the bookings a desk shows
QUIET = frozenset(
    {
        EventType.SLOT_FREED,
        EventType.SYNC_MOVED,
        EventType.SYNC_ATTENTION,
        EventType.SYNC_CONNECTED,
        EventType.SYNC_DISCONNECTED,
        EventType.HELLO,
        "ping",
    }
)


def _version(row: dict | None) -> int:
    return int((row or {}).get("version") or 0)


def _waiting_kind(booking: dict) -> str | None:
    """``"queued"`` (waiting for a resource), ``"unpaid"`` (a queue booking awaiting payment)
    or None (not in the waiting list)."""
    if booking.get("status") == Status.PENDING_ASSIGNMENT:
        return "queued"
    if booking.get("status") == Status.PENDING_PAYMENT and not booking.get("startDateTime"):
        return "unpaid"
    return None


class LiveDay:
    """The bookings of ``day`` (branch-local, in ``zone``) and the waiting queue.

    ``bookings``: the day's bookings overlapping it, ordered by start then resource (any
    status, as the day view returns them); ``waiting``: bookings waiting for a resource,
    oldest ``createdAt`` first, with ``queuePosition``/``estimatedWaitMinutes``, then the queue
    bookings awaiting payment (``awaitingPayment: true``). ``resource_ids``: keep only the
    bookings of these resources on the day (None: all). ``types``: ``{id: booking type}``
    (for the wait estimate, minutes per position)."""

    def __init__(
        self,
        zone: str,
        day: date | None = None,
        resource_ids: set[str] | None = None,
        types: dict[str, dict] | None = None,
        with_waiting: bool = True,
    ):
        self.zone, self.resource_ids, self.types = zone, resource_ids, types or {}
        self.with_waiting = with_waiting
        self.bookings: list[dict] = []
        self.waiting: list[dict] = []
        self.missing: set[str] = set()
        self._bounds: tuple[str, str] | None = None
        self.day: date | None = None
        if day is not None:
            self.set_day(day)

    def set_day(self, day: date) -> None:
        self.day = day
        lo, hi = local_day_bounds(day, self.zone)
        self._bounds = (to_iso(lo), to_iso(hi))

    def load(self, bookings: list[dict], waiting: list[dict] | None = None) -> None:
        """Replace the rows with a full fetch's answer."""
        self.bookings = list(bookings)
        if waiting is not None:
            self.waiting = list(waiting)

    def find(self, booking_id: str) -> dict | None:
        for rows in (self.bookings, self.waiting):
            for row in rows:
                if row["id"] == booking_id:
                    return row
        return None

    # one booking ------------------------------------------------------------------------
    def _on_day(self, booking: dict) -> bool:
        if self._bounds is None or not booking.get("startDateTime") or not booking.get("endDateTime"):
            return False
        if self.resource_ids is not None and booking.get("resourceId") not in self.resource_ids:
            return False
        lo, hi = self._bounds
        return booking["startDateTime"] < hi and booking["endDateTime"] > lo

    def _embed(self, booking: dict) -> dict:
        """``booking`` with ``customer`` and ``type`` from what is known when it lacks them."""
        out = dict(booking)
        if "type" not in out and out.get("typeId") in self.types:
            out["type"] = self.types[out["typeId"]]
        if "customer" not in out:
            cid = out.get("customerId")
            known = next(
                (
                    r["customer"]
                    for rows in (self.bookings, self.waiting)
                    for r in rows
                    if r.get("customerId") == cid and r.get("customer")
                ),
                None,
            )
            if known is not None:
                out["customer"] = known
            elif cid:
                self.missing.add(out["id"])
        return out

    def put(self, booking: dict) -> bool:
        """Apply one booking in the API's shape (an event's, or an action's reply): it goes to
        the day and/or the waiting list where it belongs and leaves those it no longer
        belongs to. An older version than the one held is ignored. Returns whether the rows
        changed."""
        held = self.find(booking["id"])
        if held is not None and _version(booking) < _version(held):
            return False
        booking = self._embed(booking)
        if held is not None and _version(booking) == _version(held):
            for key in ("customer", "type", "queuePosition", "estimatedWaitMinutes", "awaitingPayment"):
                if key not in booking and key in held:
                    booking[key] = held[key]
            if booking == held:
                return False
        rows = self._place(self.bookings, booking, self._on_day(booking), _day_order)
        changed = rows is not None
        if changed:
            self.bookings = rows
        if self.with_waiting:
            kind = _waiting_kind(booking)
            if kind == "unpaid":
                booking = {**booking, "awaitingPayment": True}
            rows = self._place(self.waiting, booking, kind is not None, _waiting_order)
            if rows is not None:
                self.waiting, changed = rows, True
        return changed

    def remove(self, booking_id: str) -> bool:
        before = len(self.bookings) + len(self.waiting)
        self.bookings = [b for b in self.bookings if b["id"] != booking_id]
        self.waiting = [b for b in self.waiting if b["id"] != booking_id]
        return len(self.bookings) + len(self.waiting) != before

    @staticmethod
    def _place(rows: list[dict], booking: dict, belongs: bool, order) -> list[dict] | None:
        """A new list with ``booking`` in (``belongs``) or out, or None when ``rows`` stays
        as it is. The lists are never changed in place: a view holding one keeps what it got."""
        index = next((i for i, r in enumerate(rows) if r["id"] == booking["id"]), None)
        if index is None and not belongs:
            return None
        if index is not None and belongs and rows[index] == booking:
            return None
        out = [r for r in rows if r["id"] != booking["id"]]
        if belongs:
            out.append(booking)
            out.sort(key=order)
        return out

    # events -----------------------------------------------------------------------------
    def apply(self, event: dict) -> str:
        """Apply one server event ``{"id", "type", "data"}``; returns :data:`APPLIED`,
        :data:`UNCHANGED` or :data:`REFETCH`."""
        kind, data = event.get("type"), event.get("data") or {}
        if kind == EventType.BOOKING_CHANGED and isinstance(data.get("booking"), dict):
            return APPLIED if self.put(data["booking"]) else UNCHANGED
        if kind == EventType.BOOKING_DELETED:
            return APPLIED if self.remove(str(data.get("id"))) else UNCHANGED
        if kind == EventType.QUEUE_CHANGED:
            return APPLIED if self._positions(data) else UNCHANGED
        if kind == EventType.CUSTOMER_CHANGED and isinstance(data.get("customer"), dict):
            return APPLIED if self._customer(data["customer"]) else UNCHANGED
        if kind in QUIET:
            return UNCHANGED
        return REFETCH  # resync, resource.changed, or a type this desk does not know

    def _positions(self, data: dict) -> bool:
        """``queue.changed``: each waiting booking listed gets its best position among the
        resources serving its type (``bestPosition``, as the server's waiting list gives,
        :func:`app.domain.queue.best_position`), the wait estimate that position × the
        type's minutes. A booking no changed queue lists kept its position."""
        best: dict[str, int] = {}
        for queue in (data.get("queues") or {}).values():
            for item in queue:
                pos = item.get("bestPosition", item.get("queuePosition"))
                if pos is not None and (item["bookingId"] not in best or pos < best[item["bookingId"]]):
                    best[item["bookingId"]] = pos
        rows = []
        for row in self.waiting:
            pos = best.get(row["id"])
            if pos is not None and not row.get("awaitingPayment"):
                minutes = int(((row.get("type") or self.types.get(row["typeId"])) or {}).get("minutes") or 0)
                row = {**row, "queuePosition": pos, "estimatedWaitMinutes": pos * minutes}
            rows.append(row)
        if rows == self.waiting:
            return False
        self.waiting = rows
        return True

    def _customer(self, customer: dict) -> bool:
        def with_customer(rows: list[dict]) -> list[dict]:
            return [
                {**r, "customer": customer}
                if r.get("customerId") == customer.get("id") and r.get("customer") != customer
                else r
                for r in rows
            ]

        bookings, waiting = with_customer(self.bookings), with_customer(self.waiting)
        if bookings == self.bookings and waiting == self.waiting:
            return False
        self.bookings, self.waiting = bookings, waiting
        return True


def _day_order(booking: dict):
    return booking.get("startDateTime") or "", booking.get("resourceId") or ""


def _waiting_order(booking: dict):
    return bool(booking.get("awaitingPayment")), booking.get("createdAt") or "", booking["id"]


class LiveQueues:
    """Resources' queues as ``GET /management/bookings/unassigned`` (one resource) or
    ``GET /management/queues`` (all) return them — the waiting bookings in FIFO order with
    ``queuePosition`` and ``estimatedWaitMinutes``, then those of the resource's types
    still awaiting payment (``awaitingPayment: true``) — kept current from events.

    ``served``: ``{resourceId: set of booking type ids it serves}``. A ``queue.changed``
    event gives each serving resource's new order; ``booking.changed`` the rows' new
    fields. An order naming a booking this view has never seen answers :data:`REFETCH`."""

    def __init__(self, served: dict[str, set[str]]):
        self.served = served
        self.queues: dict[str, list[dict]] = {rid: [] for rid in served}
        self._known: dict[str, dict] = {}
        #: waiting bookings of a served type no order has placed yet: ``queue.changed`` comes
        #: right after their ``booking.changed``; still unplaced after a batch, refetch
        self.unplaced: set[str] = set()

    def load(self, resource_id: str, rows: list[dict]) -> None:
        self.queues[resource_id] = list(rows)
        for row in rows:
            self._known[row["id"]] = row

    def apply(self, event: dict) -> str:
        kind, data = event.get("type"), event.get("data") or {}
        if kind == EventType.BOOKING_CHANGED and isinstance(data.get("booking"), dict):
            return APPLIED if self._booking(data["booking"]) else UNCHANGED
        if kind == EventType.BOOKING_DELETED:
            return APPLIED if self._drop(str(data.get("id"))) else UNCHANGED
        if kind == EventType.QUEUE_CHANGED:
            return self._order(data)
        if kind == EventType.CUSTOMER_CHANGED and isinstance(data.get("customer"), dict):
            customer, changed = data["customer"], False
            for rid, rows in self.queues.items():
                new = [
                    {**r, "customer": customer} if r.get("customerId") == customer.get("id") else r
                    for r in rows
                ]
                if new != rows:
                    self.queues[rid], changed = new, True
            return APPLIED if changed else UNCHANGED
        if kind in QUIET:
            return UNCHANGED
        return REFETCH

    def _drop(self, booking_id: str) -> bool:
        changed = False
        for rid, rows in self.queues.items():
            new = [r for r in rows if r["id"] != booking_id]
            if len(new) != len(rows):
                self.queues[rid], changed = new, True
        return changed

    def _booking(self, booking: dict) -> bool:
        held = self._known.get(booking["id"])
        if held is not None and _version(booking) < _version(held):
            return False
        if "customer" not in booking and held is not None and "customer" in held:
            booking = {**booking, "customer": held["customer"]}
        self._known[booking["id"]] = booking
        kind, changed = _waiting_kind(booking), False
        for rid, rows in self.queues.items():
            index = next((i for i, r in enumerate(rows) if r["id"] == booking["id"]), None)
            if index is not None:
                old = rows[index]
                if kind == "queued" and not old.get("awaitingPayment"):
                    new = {
                        **booking,
                        **{k: old[k] for k in ("queuePosition", "estimatedWaitMinutes") if k in old},
                    }
                elif kind == "unpaid" and old.get("awaitingPayment"):
                    new = {**booking, "awaitingPayment": True}
                else:
                    new = None  # accepted, canceled, paid…: out (a paid one comes back by queue.changed)
                if new != old:
                    rows = [r for r in rows if r["id"] != booking["id"]]
                    if new is not None:
                        rows.insert(index, new)
                    self.queues[rid], changed = rows, True
            elif kind == "unpaid" and booking.get("typeId") in self.served.get(rid, ()):
                self.queues[rid] = rows + [{**booking, "awaitingPayment": True}]
                changed = True
            elif kind == "queued" and booking.get("typeId") in self.served.get(rid, ()):
                self.unplaced.add(booking["id"])
        return changed

    def _order(self, data: dict) -> str:
        changed = False
        for rid, order in (data.get("queues") or {}).items():
            if rid not in self.queues:
                continue
            rows = []
            for item in order:
                row = self._known.get(item["bookingId"])
                if row is None:
                    return REFETCH
                rows.append(
                    {
                        **{
                            k: v for k, v in row.items() if k not in ("queuePosition", "estimatedWaitMinutes")
                        },
                        "queuePosition": item.get("queuePosition"),
                        "estimatedWaitMinutes": item.get("estimatedWaitMinutes"),
                    }
                )
                self.unplaced.discard(item["bookingId"])
            rows += [r for r in self.queues[rid] if r.get("awaitingPayment")]
            if rows != self.queues[rid]:
                self.queues[rid], changed = rows, True
        return APPLIED if changed else UNCHANGED
