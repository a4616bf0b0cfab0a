"""Ehjzny payloads ⇄ local rows: the one place where the cloud's shapes are translated.

Pure functions, no Qt and no I/O (writing to the store is :mod:`app.sync.ehjzny.importer`).
Field names follow ``docs/clouds/ehjzny.md`` ("Objects") and :mod:`app.domain.model`.

Ids: resources and booking types keep the cloud's id as their local id; customers and
bookings get local ULIDs that the caller maps with ``Store.set_cloud_id``. So in a row
returned by :func:`booking_from_cloud`, ``typeId`` and ``resourceId`` are already local,
while ``customerId`` is still the *cloud's* customer id for the caller to map.

Times: ``startDateTime``/``endDateTime`` (UTC) are the truth. Only when a payload lacks
them are the organisation-local ``startDate`` + ``startTime`` (military) converted, with the
branch zone, here and nowhere else in the project.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.domain import clock, timerules
from app.domain.model import (
    ASSIGNMENT_TIMEOUT_DEFAULT,
    ASSIGNMENT_TIMEOUT_MAX,
    ASSIGNMENT_TIMEOUT_MIN,
    QUEUED_STATUSES,
    Status,
)
from app.i18n.search import search_text
from app.sync.connector import CloudMoney, NotSendable

#: Keys of the row :func:`booking_from_cloud` returns: the booking fields the cloud owns.
#: The desk-only fields (``id``, ``visitStatus``, ``queueNumber``, ``checkedInAt``,
#: ``startedAt``, ``endedAt``, ``version``) are the caller's.
CLOUD_BOOKING_FIELDS = (
    "status",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "note",
    "cancelReason",
    "assignmentTimeout",
    "createdAt",
    "updatedAt",
    "paymentLink",
)

#: Reply fields that are not in the API reference (contract "Shapes the reference lost"): used when a
#: deployment sends them, left out of the row when it does not (the local value stays).
OPTIONAL_FIELDS = ("cancelReason", "assignmentTimeout")

#: Statuses whose booking must have a time (a queued, unpaid, canceled or rejected
#: booking may have none: Ehjzny API reference, "Instant Booking", "Queue Booking").
_TIMED_STATUSES = frozenset({Status.CONFIRMED, Status.PENDING_APPROVAL})


class MappingError(ValueError):
    """A cloud payload that cannot become a local row (missing id, unknown status, bad time)."""


def _require(obj: dict, key: str, what: str) -> Any:
    if not isinstance(obj, dict):
        raise MappingError(f"{what}: expected an object, got {type(obj).__name__}")
    value = obj.get(key)
    if value in (None, ""):
        raise MappingError(f"{what} {obj.get('id', '?')}: missing {key!r}")
    return value


def _minutes(value, what: str, *, allow_zero: bool = True) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise MappingError(f"{what}: not a number of minutes: {value!r}") from None
    if minutes < 0 or (minutes == 0 and not allow_zero) or minutes != value:
        raise MappingError(f"{what}: bad number of minutes: {value!r}")
    return minutes


def _utc(text, what: str) -> datetime | None:
    """Cloud ISO time (``2023-01-11T18:00:00.000Z``) → aware UTC datetime; None stays None."""
    if text in (None, ""):
        return None
    if isinstance(text, str) and len(text) in (20, 24) and text[-1] == "Z" and text[10] == "T":
        try:  # the cloud's own form: one C call (bulk pulls), milliseconds kept, tzinfo UTC
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    try:
        return clock.from_iso(str(text))
    except ValueError as exc:
        raise MappingError(f"{what}: bad time {text!r} ({exc})") from None


def _iso_ms(moment: datetime | None) -> str | None:
    """Aware UTC datetime → ``2026-11-21T09:30:00.395Z`` (``createdAt``: queue order is by it,
    so the milliseconds stay, contract "Shapes the reference lost")."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def _iso(moment: datetime | None) -> str | None:
    """Aware UTC datetime → ``2026-11-21T09:30:00Z`` (``clock.to_iso``'s output, faster)."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        return clock.to_iso(moment)
    return moment.isoformat()[:19] + "Z"


def _price(value, what: str) -> str | None:
    """Cloud price (string ``d+.dd``, Ehjzny API reference) → the same string; None stays None."""
    if value in (None, ""):
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise MappingError(f"{what}: bad price {value!r}") from None
    if amount < 0:
        raise MappingError(f"{what}: negative price {value!r}")
    return f"{amount:.2f}"


def _translations(obj: dict) -> dict:
    names = obj.get("name_translations") or {}
    return {"en": names.get("en") or obj["name"], "ar": names.get("ar") or obj["name"]}


def clamp_timeout(minutes: int | None) -> int:
    """Assignment timeout in minutes clamped to 5..180, default when None (Ehjzny API reference,
    "Assignment Timeout")."""
    if minutes is None:
        return ASSIGNMENT_TIMEOUT_DEFAULT
    return max(ASSIGNMENT_TIMEOUT_MIN, min(ASSIGNMENT_TIMEOUT_MAX, int(minutes)))


# reference data ---------------------------------------------------------------------
def time_rules_from_cloud(obj) -> dict:
    """A resource's time rules as the cloud gives them (contract "Shapes the reference lost":
    ``{"depthOfDays", "scheduleAfterHoursFromNow", "rules": [{"weekDays": [0..6], "times":
    [{"from", "to"}], "fromDate"?, "toDate"?}]}`` and the variants it asks readers to take)
    → the project's shape (:mod:`app.domain.timerules`). A shape that cannot be read gives
    :func:`app.domain.timerules.unknown` (hours unknown, never closed); never raises."""
    try:
        return timerules.read(obj)
    except (timerules.UnreadableTimeRules, TypeError, ValueError) as exc:
        return timerules.unknown(str(exc), obj)


def time_rules_to_cloud(time_rules: dict) -> dict:
    """The project's time rules → the body of ``PUT /management/resources/{id}/timeRules``
    (contract shape). Raises MappingError for unknown or unreadable hours."""
    try:
        return timerules.to_contract(time_rules)
    except (timerules.UnreadableTimeRules, TypeError, ValueError) as exc:
        raise MappingError(f"time rules: {exc}") from None


def resource_from_cloud(obj: dict, *, time_rules: dict | None = None, sort_order: int | None = None) -> dict:
    """Ehjzny Resource (Ehjzny API reference, "ResourceForManagement") → local ``resources`` row.

    The row keeps the cloud's ``id``. ``types`` is the list of served booking type ids.
    ``timeRules`` (shape of :mod:`app.domain.timerules`) and ``sortOrder`` are set only when
    given, so an upsert without them keeps the stored values. Raises MappingError for a
    payload without ``id`` or ``name``.
    """
    _require(obj, "id", "resource")
    _require(obj, "name", "resource")
    row = {
        "id": str(obj["id"]),
        "name": obj["name"],
        "name_translations": _translations(obj),
        "category": obj.get("category"),
        "types": [str(t) for t in obj.get("types") or []],
        "on": bool(obj.get("on", True)),
        "activated": bool(obj.get("activated", True)),
    }
    if time_rules is not None:
        row["timeRules"] = time_rules
    if sort_order is not None:
        row["sortOrder"] = sort_order
    return row


def type_from_cloud(obj: dict) -> dict:
    """Ehjzny booking type (Ehjzny API reference, "BookingTypeForManagement") → local ``types`` row.

    ``minutes``, ``leaveMinutesBefore``/``After`` are whole minutes; ``price`` stays the
    cloud's ``d+.dd`` string. Raises MappingError for a missing id/name or bad minutes.
    """
    _require(obj, "id", "booking type")
    _require(obj, "name", "booking type")
    what = f"booking type {obj['id']}"
    return {
        "id": str(obj["id"]),
        "name": obj["name"],
        "name_translations": _translations(obj),
        "minutes": _minutes(obj.get("minutes"), what, allow_zero=False),
        "leaveMinutesBefore": _minutes(obj.get("leaveMinutesBefore") or 0, what),
        "leaveMinutesAfter": _minutes(obj.get("leaveMinutesAfter") or 0, what),
        "color": obj.get("color"),
        "price": _price(obj.get("price"), what),
        "autoConfirm": bool(obj.get("autoConfirm", True)),
        "on": bool(obj.get("on", True)),
    }


def customer_from_cloud(obj: dict, local_id: str, customer_number: int | None = None) -> dict:
    """Ehjzny Customer → local ``customers`` row with id ``local_id`` (a ULID of the caller).

    ``customerNumber`` is set only when given (an update keeps the stored number).
    The cloud's ``data`` (custom fields) is not kept. Raises MappingError without ``id``
    or without both ``phone`` and ``email``.
    """
    _require(obj, "id", "customer")
    if not (obj.get("phone") or obj.get("email")):
        raise MappingError(f"customer {obj['id']}: needs a phone or an email")
    created = _utc(obj.get("createdAt"), f"customer {obj['id']}")
    row = {
        "id": local_id,
        "firstName": obj.get("firstName"),
        "lastName": obj.get("lastName"),
        "phone": obj.get("phone"),
        "email": obj.get("email"),
        "note": obj.get("note"),
        "searchText": search_text(obj.get("firstName"), obj.get("lastName"), obj.get("phone")),
        "createdAt": clock.to_iso(created),
    }
    if customer_number is not None:
        row["customerNumber"] = customer_number
    return row


def customer_to_cloud(row: dict) -> dict:
    """Local customer row → body of the Ehjzny customer create/update (``phone``, ``email``,
    ``firstName``, ``lastName``, ``note``; absent values left out)."""
    keys = ("phone", "email", "firstName", "lastName", "note")
    return {key: row[key] for key in keys if row.get(key) not in (None, "")}


# bookings -----------------------------------------------------------------------------
def _status(obj: dict) -> Status:
    value = _require(obj, "status", "booking")
    try:
        return Status(value)
    except ValueError:
        raise MappingError(f"booking {obj['id']}: unknown status {value!r}") from None


def _local_start(obj: dict, zone: str, what: str) -> datetime | None:
    """``startDate`` (org-local ``YYYY-MM-DD``) + ``startTime`` (military) → UTC, or None."""
    day, military = obj.get("startDate"), obj.get("startTime")
    if day in (None, "") and military in (None, ""):
        return None
    if day in (None, "") or military in (None, ""):
        raise MappingError(f"{what}: startDate and startTime come together ({day!r}, {military!r})")
    try:
        if isinstance(military, bool) or int(military) != military:
            raise ValueError("not an integer")
        return clock.from_local(date.fromisoformat(str(day)), int(military), zone)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"{what}: bad startDate/startTime {day!r} {military!r} ({exc})") from None


def _times(obj: dict, zone: str, what: str) -> tuple[datetime | None, datetime | None, int | None]:
    """(start, end, duration minutes) of a booking payload; UTC fields win over local ones."""
    start = _utc(obj.get("startDateTime"), what) or _local_start(obj, zone, what)
    end = _utc(obj.get("endDateTime"), what)
    raw = obj.get("duration")
    if raw in (None, "") and isinstance(obj.get("type"), dict):
        raw = obj["type"].get("minutes")
    duration = None if raw in (None, "") else _minutes(raw, what)
    if start is None:
        return None, None, duration
    if end is None:
        if duration is None:
            raise MappingError(f"{what}: a start without endDateTime or duration")
        end = start + timedelta(minutes=duration)
    if end <= start:
        raise MappingError(f"{what}: endDateTime {clock.to_iso(end)} is not after the start")
    return start, end, int((end - start).total_seconds() // 60)


def _payment_link(obj: dict) -> str | None:
    """``payment.paymentLink`` of a booking awaiting payment (Ehjzny API reference, "Online Payments":
    "Use the paymentLink's URL in payment object found inside scheduling response"), when it
    is an http(s) URL of at most 2,000 characters; else None (the booking is still kept)."""
    link = (obj.get("payment") or {}).get("paymentLink") if isinstance(obj.get("payment"), dict) else None
    if (
        isinstance(link, str)
        and link.startswith(("https://", "http://"))
        and len(link) <= 2000
        and not any(c.isspace() for c in link)
    ):
        return link
    return None


def money(obj: dict) -> CloudMoney | None:
    """A booking's invoice (contract "Objects": ``payment`` ``{invoiceId, invoiceNumber,
    paymentLink, …, amount{subTotal, total, balance, discount}}``; amounts ``d+.dd`` with
    VAT, Ehjzny API reference, "Online Payments") → :class:`CloudMoney`: price = ``total``, paid =
    ``total`` − ``balance``, fully paid when the balance is 0, the invoice number as the
    reference. None without an invoice or with amounts that are no numbers."""
    payment = obj.get("payment")
    amount = payment.get("amount") if isinstance(payment, dict) else None
    if not isinstance(amount, dict):
        return None
    try:
        total = _price(amount.get("total"), "invoice total")
        balance = _price(amount.get("balance"), "invoice balance")
    except MappingError:
        return None
    if total is None:
        return None
    paid = None if balance is None else max(0.0, float(total) - float(balance))
    number = payment.get("invoiceNumber") or payment.get("invoiceId")
    return CloudMoney(
        price=total,
        paid=None if paid is None else f"{paid:.2f}",
        fully_paid=None if balance is None else float(balance) == 0,
        reference=None if number in (None, "") else str(number),
    )


def booking_from_cloud(obj: dict, zone: str) -> dict:
    """Ehjzny Booking (Ehjzny API reference, "Create Confirmed Booking" response) → local booking fields.

    Returns the keys of :data:`CLOUD_BOOKING_FIELDS`: ``startDateTime``/``endDateTime`` UTC
    strings ``YYYY-MM-DDTHH:MM:SSZ`` (the payload's UTC fields; else ``startDate`` +
    ``startTime`` read in the branch ``zone`` and ``duration``), ``duration`` minutes (end −
    start), ``typeId``/``resourceId`` (local = cloud ids), ``customerId`` (the CLOUD customer
    id, to be mapped by the caller), ``assignmentTimeout`` minutes (5..180) or None,
    ``paymentLink`` (the payment page of a booking awaiting payment) or None.
    A ``PENDING_ASSIGNMENT`` booking has no start, end or resource (model: waiting in a queue).
    ``updatedAt`` falls back to ``createdAt``.

    Raises MappingError (a ValueError) for a missing id/status/type, an unknown status,
    a malformed date/time/duration, an end not after its start, or a confirmed/pending
    approval booking without any time.
    """
    what = f"booking {_require(obj, 'id', 'booking')}"
    status = _status(obj)
    type_id = obj.get("typeId") or (obj.get("type") or {}).get("id")
    if not type_id:
        raise MappingError(f"{what}: missing 'typeId'")
    start, end, duration = _times(obj, zone, what)
    if start is None and status in _TIMED_STATUSES:
        raise MappingError(f"{what}: status {status} needs startDateTime or startDate+startTime")
    queued = status in QUEUED_STATUSES
    customer_id = obj.get("customerId") or (obj.get("customer") or {}).get("id")
    resource_id = obj.get("resourceId") or (obj.get("resource") or {}).get("id")
    timeout = obj.get("assignmentTimeout")
    created = _iso_ms(_utc(obj.get("createdAt"), what))
    out = {
        "status": str(status),
        "startDateTime": None if queued else _iso(start),
        "endDateTime": None if queued else _iso(end),
        "duration": duration,
        "typeId": str(type_id),
        "resourceId": None if queued or not resource_id else str(resource_id),
        "customerId": str(customer_id) if customer_id else None,
        "note": obj.get("note") or None,
        "cancelReason": obj.get("cancelReason") or None,
        "assignmentTimeout": None if timeout in (None, "") else clamp_timeout(_minutes(timeout, what)),
        "createdAt": created,
        "updatedAt": _iso(_utc(obj.get("updatedAt"), what)) or created,
        "paymentLink": _payment_link(obj),
    }
    for optional in OPTIONAL_FIELDS:  # not API reference fields: absent means "not said", never "none"
        if optional not in obj:
            del out[optional]
    return out


def booking_to_cloud(
    local_booking: dict,
    zone: str,
    cloud_type_id: str,
    cloud_resource_id: str | None,
    customer_identifier: dict,
    *,
    reschedule_booking_id: str | None = None,
) -> dict:
    """Local booking → body of ``PUT /management/scheduling/new`` (contract "Operations").

    A timed booking gives ``date`` (branch-local ``YYYY-MM-DD``), ``time`` (branch-local
    military, 18:20 → 1820), ``assign: true`` and the chosen resource as
    ``resourceFilters: {"resourceId": ..}`` (contract "Shapes the reference lost": the one filter
    that names a resource; no top-level ``resourceId``, the API reference has none). A booking without a start
    (waiting in a queue) gives ``assign: false`` and ``assignmentTimeout`` minutes clamped
    to 5..180 (Ehjzny API reference, "Instant Booking", "Assignment Timeout") and no date, time or resource.
    ``customer_identifier`` is ``{"phone": ..}``, ``{"email": ..}`` or ``{"id": ..}``.
    ``reschedule_booking_id`` (the cloud id of the booking replaced) is added when given.
    Raises NotSendable for an empty customer identifier (a customer with neither phone nor
    e-mail: Ehjzny books by one of them, Ehjzny API reference, "Create Booking" ``customerIdentifier``).
    """
    if not customer_identifier or not any(customer_identifier.values()):
        raise NotSendable(
            "the customer has neither a phone number nor an e-mail address, and Ehjzny "
            "needs one of them to book: add one to the customer, then re-apply"
        )
    body: dict = {"type": cloud_type_id, "customerIdentifier": dict(customer_identifier)}
    start = clock.from_iso(local_booking.get("startDateTime"))
    if start is None:
        body["assign"] = False
        body["assignmentTimeout"] = clamp_timeout(local_booking.get("assignmentTimeout"))
    else:
        body["date"] = clock.local_date(start, zone).isoformat()
        body["time"] = clock.military(start, zone)
        body["assign"] = True
        if cloud_resource_id:
            body["resourceFilters"] = {"resourceId": cloud_resource_id}
    if local_booking.get("note"):
        body["note"] = local_booking["note"]
    if reschedule_booking_id:
        body["rescheduleBookingId"] = reschedule_booking_id
    return body
