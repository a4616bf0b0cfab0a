"""Creating, rescheduling, holding and cancelling bookings (Ehjzny API reference, "Create Confirmed
Booking", "Create Temporary Booking", "Convert Temporary Booking into Confirmed Booking",
"Instant Booking", "Cancel / Leave Queue"; contract "Behaviour", "Shapes the reference lost").

* ``assign`` true (default): ``date`` + military ``time`` (organization-local) are
  required. The resource is chosen through ``resourceFilters``: the contract fixes
  ``{"resourceId": "<id>"}`` as the filter naming one resource; any other key is matched
  against the resource's own fields (custom data). A top-level ``resourceId`` is not in
  the API reference and is ignored. When the named resource is not free the cloud places the
  booking on another free resource serving the type (contract: "The cloud may still place
  a booking elsewhere"); ``strict_resource_filters`` makes it answer 409 instead. None
  free → 409 ``SCH-SLOT-TAKEN``. A taken span counts the types' ``leaveMinutesBefore/After``.
  Staff (``/management``) may book outside working hours; customers (``/customer``) may
  not (409 ``SCH-OUTSIDE-WORKING-HOURS``) and get ``PENDING_APPROVAL`` for a type with
  ``autoConfirm: false``.
* ``assign: false``: a queue booking, ``PENDING_ASSIGNMENT`` (``PENDING_PAYMENT`` first
  for a priced type while ``payments`` is on, API reference "Payment Integration"), no
  date/time/resource, ``assignmentTimeout`` clamped to 5..180 ("Assignment Timeout").
* ``rescheduleBookingId``: the old booking becomes ``CANCELED`` and a new booking with a
  NEW id is created; the reply is the new booking and nothing on the old one points to it
  (contract "Reschedule replies"). An old booking already final → 400 ``BKS-NOT-ACTIVE``.
* Temporary booking: ``reservedForMinutes`` (default 15) → ``PENDING_APPROVAL``; not
  confirmed in time → deleted (a later confirm → 404). The hold's end is not shown.
* Cancel is idempotent on a final booking (returns it unchanged).
"""

from __future__ import annotations

from datetime import date, timedelta

from .errors import NO_RESOURCE
from .rules import (
    CANCELED,
    CONFIRMED,
    FINAL,
    NOT_ACTIVE,
    OCCUPYING,
    OUTSIDE_WORKING_HOURS,
    PENDING_APPROVAL,
    PENDING_ASSIGNMENT,
    PENDING_PAYMENT,
    SLOT_TAKEN,
    SimError,
    at_local,
    clamp_timeout,
    collides,
    invalid,
    iso,
    not_found,
    span,
    taken,
    within_hours,
)
from .state import cloud_id

TEMPORARY_DEFAULT_MINUTES = 15


class SchedulingMixin:
    #: answer 409 instead of placing a booking on another resource than the filter names
    strict_resource_filters = False
    #: priced queue bookings start PENDING_PAYMENT (a payment gateway is linked)
    payments = False

    def schedule(
        self,
        body: dict,
        *,
        customer_id: str | None = None,
        customer_side: bool = False,
        reserved_minutes: int | None = None,
        lang: str = "en",
    ) -> dict:
        """``PUT /management/scheduling/new`` (or ``/temporary`` with ``reserved_minutes``)."""
        with self.lock:
            self.tick()
            old = (
                self.get("bookings", body["rescheduleBookingId"]) if body.get("rescheduleBookingId") else None
            )
            if old is not None and old["status"] in FINAL:
                raise SimError(NOT_ACTIVE, f"booking {old['id']} is {old['status']}")
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
            record = self.bookings.record(
                {
                    "id": cloud_id(),
                    "status": CONFIRMED,
                    "typeId": btype["id"],
                    "customerId": customer["id"],
                    "duration": int(btype["minutes"]),
                    "note": body.get("note", (old or {}).get("note")),
                    "info": body.get("info") or {},
                    "createdAt": iso(now),
                    "_seq": self.next_seq(),
                    "_timeout": clamp_timeout(body.get("assignmentTimeout")),
                }
            )
            if body.get("assign", True) is False:
                if reserved_minutes is not None:
                    raise invalid("a temporary booking needs a date and time")
                if not self.serving(btype["id"]):
                    raise SimError(NO_RESOURCE, f"no resource serves type {btype['id']}")
                record["status"] = (
                    PENDING_PAYMENT if self.payments and self._priced(btype) else PENDING_ASSIGNMENT
                )
            else:
                start = self._start_of(body)
                resource = self._free_resource(
                    btype,
                    start,
                    body.get("resourceFilters") or {},
                    ignore_id=old and old["id"],
                    check_hours=customer_side,
                )
                record.update(
                    resourceId=resource["id"],
                    startDateTime=iso(start),
                    endDateTime=iso(start + timedelta(minutes=int(btype["minutes"]))),
                )
                if reserved_minutes is not None:
                    record.update(
                        status=PENDING_APPROVAL, _reservedUntil=iso(now + timedelta(minutes=reserved_minutes))
                    )
                elif customer_side and btype.get("autoConfirm") is False:
                    record["status"] = PENDING_APPROVAL
                elif customer_id and self.payments and self._priced(btype):  # booked online by the customer
                    record["status"] = PENDING_PAYMENT
            if record["status"] == PENDING_PAYMENT:
                record["payment"] = self._invoice(btype, record["id"])
            if old is not None:
                old.update(
                    status=CANCELED,
                    _cancelReason="rescheduled",
                    _rescheduledTo=record["id"],
                    updatedAt=iso(now),
                )
                old.pop("_reservedUntil", None)
            self.bookings[record["id"]] = record
            return self.view(record, lang)

    def confirm(self, booking_id: str, lang: str = "en") -> dict:
        """``POST /management/scheduling/confirm``: a held (temporary) booking → CONFIRMED."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            if record.pop("_reservedUntil", None) is not None:
                record.update(status=CONFIRMED, updatedAt=iso(self.clock.now()))
            elif record["status"] != CONFIRMED:
                raise SimError(NOT_ACTIVE, f"booking {booking_id} is not a temporary booking")
            return self.view(record, lang)

    @staticmethod
    def _priced(btype: dict) -> bool:
        return float(btype.get("price") or 0) > 0

    def _invoice(self, btype: dict, booking_id: str) -> dict:
        """The ``payment`` object of a booking awaiting payment (contract "Objects": invoiceId,
        invoiceNumber, paymentLink, paymentWebViewLink, amount{subTotal,total,balance,discount})."""
        self.invoices = getattr(self, "invoices", 0) + 1
        invoice_id = f"inv{booking_id}"
        total = f"{float(btype.get('price') or 0):.2f}"
        return {
            "invoiceId": invoice_id,
            "invoiceNumber": 5000 + self.invoices,
            "paymentLink": f"https://pay.ehjzny.test/i/{invoice_id}",
            "paymentWebViewLink": f"https://pay.ehjzny.test/i/{invoice_id}?view=web",
            "amount": {"subTotal": total, "total": total, "balance": total, "discount": "0.00"},
        }

    def pay(self, booking_id: str, lang: str = "en") -> dict:
        """The customer pays a ``PENDING_PAYMENT`` booking: a queue booking →
        ``PENDING_ASSIGNMENT``, a booking with a time → ``CONFIRMED`` (Ehjzny API reference, "Online
        Payments"); its invoice's balance becomes 0."""
        with self.lock:
            record = self.get("bookings", booking_id)
            if record["status"] == PENDING_PAYMENT:
                status = CONFIRMED if record.get("startDateTime") else PENDING_ASSIGNMENT
                record.update(status=status, updatedAt=iso(self.clock.now()))
                if record.get("payment"):
                    record["payment"] = {
                        **record["payment"],
                        "amount": {**record["payment"]["amount"], "balance": "0.00"},
                    }
            return self.view(record, lang)

    def cancel(
        self, booking_id: str, reason: str | None = None, *, customer_id: str | None = None, lang: str = "en"
    ) -> dict:
        """Cancel a booking or leave the queue; ``customer_id`` limits it to that customer's."""
        with self.lock:
            self.tick()
            record = self.get("bookings", booking_id)
            if customer_id and record["customerId"] != customer_id:
                raise not_found("Booking", booking_id)
            if record["status"] not in FINAL:
                record.update(status=CANCELED, _cancelReason=reason, updatedAt=iso(self.clock.now()))
                record.pop("_reservedUntil", None)
            return self.view(record, lang)

    def _start_of(self, body: dict):
        if not body.get("date") or body.get("time") is None:
            raise invalid("date and time are required unless assign is false")
        try:
            return at_local(date.fromisoformat(str(body["date"])), int(body["time"]), self.zone)
        except ValueError as exc:
            raise invalid(str(exc)) from exc

    def _matching(self, btype: dict, filters: dict) -> list[dict]:
        """Resources serving ``btype`` that match ``resourceFilters``; the named one first."""
        serving = self.serving(btype["id"])
        wanted = filters.get("resourceId")
        others = {k: v for k, v in filters.items() if k != "resourceId"}

        def fits(resource: dict) -> bool:
            for key, value in others.items():
                have = resource.get(key, (resource.get("data") or {}).get(key))
                if have not in (value if isinstance(value, list) else [value]):
                    return False
            return True

        found = [r for r in serving if fits(r)]
        if wanted:
            named = [r for r in found if r["id"] == wanted]
            rest = [] if self.strict_resource_filters else [r for r in found if r["id"] != wanted]
            return named + rest
        return found

    def _free_resource(
        self, btype: dict, start, filters: dict, ignore_id: str | None, check_hours: bool
    ) -> dict:
        candidates = self._matching(btype, filters)
        lo, hi = span(start, btype)
        inside = 0
        for resource in candidates:
            if check_hours and not within_hours(lo, hi, self.time_rules.get(resource["id"]), self.zone):
                continue
            inside += 1
            if not collides(lo, hi, taken(self.active_on(resource["id"]), self.types, ignore_id)):
                return resource
        if candidates and not inside:
            raise SimError(OUTSIDE_WORKING_HOURS, "the time is outside working hours", 409)
        raise SimError(SLOT_TAKEN, "the slot is no longer free", 409)

    def active_on(self, resource_id: str) -> list[dict]:
        """Bookings occupying ``resource_id``'s time (held temporary bookings included)."""
        return [
            b
            for b in self.bookings.values()
            if b.get("resourceId") == resource_id and b["status"] in OCCUPYING
        ]
