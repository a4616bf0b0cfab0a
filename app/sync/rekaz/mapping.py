"""Rekaz payloads ⇄ the domain's rows: the one place where Rekaz's shapes are translated.

Pure functions, no I/O. Field names follow ``docs/clouds/rekaz.md`` ("Objects") on
the cloud side and :mod:`app.domain.model` on the desk's.

What maps to what (contract "Desk operations on Rekaz"):

* a **booking type** is a (product, price) pair: one row per ``pricing[]`` item of a
  reservation product (``type`` 0) offered in the branch; its cloud id is the price's
  ``id`` (the ``priceId`` that slots and create take). Names come in Arabic and English
  both (``nameAr``/``nameEn``) and are kept as ``name_translations``.
* a **resource** is a provider (``GET /providers``: one name, no Arabic/English pair); it
  serves the booking types of the products that list it in ``productProviders``.
  Rekaz has no working hours: a resource's time rules are "hours unknown"
  (:func:`app.domain.timerules.unknown`), never a closed clinic.
* a **booking** is a reservation. A reservation names its provider, product and price; the
  names are resolved to cloud ids by :class:`NameIndex` (contract "Behaviour": names, not
  ids). A name that is unknown or ambiguous leaves the field ``None`` and is reported as a
  :class:`Problem` (a needs-attention note), never guessed.

Times: Rekaz's ``startAt``/``endAt`` are UTC with ``Z`` (API reference "Reservations API"); the slot
search's zone-less ``StartDate``/``EndDate`` are sent as UTC (contract "Transport",
inferred) by :func:`slot_time`. There are no branch-local cloud times to convert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.domain import clock, timerules
from app.domain.model import ASSIGNMENT_TIMEOUT_MAX, Status, VisitStatus
from app.domain.phones import normalize_or_keep
from app.i18n.search import search_text
from app.sync.connector import CloudMoney

#: minutes of a booking type whose price and product give no ``duration`` (the API reference's
#: ``duration`` is nullable and has no default; contract "Objects": read as minutes)
DEFAULT_MINUTES = 60
#: Rekaz's booking fields the pull writes (the desk-only ones are the caller's)
CLOUD_BOOKING_FIELDS = (
    "status",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
)
#: attendance kinds (contract "Objects": Attendance)
CHECK_IN, CHECK_OUT = "CheckIn", "CheckOut"
RESERVATION, SUBSCRIPTION = "Reservation", "Subscription"


class MappingError(ValueError):
    """A Rekaz payload that cannot become a local row (missing id, bad time)."""


@dataclass(frozen=True)
class Problem:
    """A name in a reservation that could not be resolved to one id (contract "Behaviour":
    an ambiguous or unknown name raises a needs-attention note). ``field``: ``resource`` |
    ``type``; ``reason``: ``unknown`` | ``ambiguous``; ``name``: what Rekaz sent;
    ``candidates``: the cloud ids it could be (ambiguous only)."""

    field: str
    reason: str
    name: str
    candidates: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return f"REKAZ-{self.field.upper()}-{self.reason.upper()}"

    def message(self) -> str:
        what = "provider" if self.field == "resource" else "product and price"
        if self.reason == "ambiguous":
            return f"Rekaz names the {what} {self.name!r}, which fits {len(self.candidates)} of them"
        return f"Rekaz names the {what} {self.name!r}, which the branch does not know"


# small readers ------------------------------------------------------------------------
def _utc(text, what: str) -> datetime | None:
    if text in (None, ""):
        return None
    try:
        moment = clock.from_iso(str(text))
    except ValueError as exc:
        raise MappingError(f"{what}: bad time {text!r} ({exc})") from None
    return moment


def _iso(moment: datetime | None) -> str | None:
    return clock.to_iso(moment) if moment is not None else None


def _names(obj: dict) -> dict:
    """``{"ar", "en"}`` of a Rekaz object (``nameAr``/``nameEn``, falling back to ``name``)."""
    name = (obj.get("name") or "").strip()
    return {"ar": (obj.get("nameAr") or "").strip() or name, "en": (obj.get("nameEn") or "").strip() or name}


def _amount(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return f"{max(amount, 0.0):.2f}"


def _key(text) -> str:
    """A name as compared: trimmed, inner spaces single (contract "Behaviour": exact match
    after trimming)."""
    return re.sub(r"\s+", " ", str(text or "")).strip()


def mobile_key(text: str | None) -> str:
    """A Saudi mobile number as digits with the country code, for comparing: ``+96650…``,
    ``96650…``, ``050…`` and ``0096650…`` all give ``96650…`` (contract "Behaviour": lost
    reply on ``POST /customers``, inferred)."""
    digits = "".join(ch for ch in str(text or "") if ch.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("0"):
        digits = "966" + digits[1:]
    elif digits.startswith("5") and len(digits) == 9:
        digits = "966" + digits
    return digits


def slot_time(moment: datetime) -> str:
    """Aware datetime → ``2025-08-10T20:00:00`` in UTC, no zone (API reference "slots": "DateTime
    format should be YYYY-MM-DDTHH:mm:ss (without timezone)"; contract: sent as UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def cloud_time(moment: datetime | str) -> str:
    """A UTC time as the PUT and create bodies take it, ISO-8601 with ``Z`` (API reference)."""
    if isinstance(moment, str):
        moment = clock.from_iso(moment)
    return clock.to_iso(moment)


# reference data -----------------------------------------------------------------------
def branch_from_cloud(obj: dict) -> dict:
    """Rekaz branch → ``{"id", "name", "name_translations": {ar, en}, "addressUrl"}``."""
    if not isinstance(obj, dict) or not obj.get("id"):
        raise MappingError("branch without an id")
    return {
        "id": str(obj["id"]),
        "name": obj.get("name") or obj.get("nameEn") or "",
        "name_translations": _names(obj),
        "addressUrl": obj.get("addressUrl"),
    }


def offered(product: dict, branch_id: str) -> bool:
    """A reservation product (``type`` 0 / ``Reservation``) offered in ``branch_id`` (an
    empty ``branchIds`` is read as every branch)."""
    kind = product.get("type")
    if kind not in (0, None) and str(product.get("typeString") or "").casefold() != "reservation":
        return False
    branches = product.get("branchIds") or []
    return not branches or branch_id in branches


def types_from_product(product: dict) -> list[dict]:
    """One booking type per ``pricing`` item of a Rekaz product: ``{"id": priceId (the
    cloud's id), "name", "name_translations": {ar, en}, "minutes", "price" ("d.dd", the
    discounted amount), "leaveMinutesBefore": 0, "leaveMinutesAfter": 0, "autoConfirm",
    "on"}``. The name is the product's, followed by the price's when the product has more
    than one (``General consultation · Follow-up``). ``minutes`` is the price's ``duration``,
    else the product's, else :data:`DEFAULT_MINUTES`. Raises MappingError without an id."""
    if not isinstance(product, dict) or not product.get("id"):
        raise MappingError("product without an id")
    names, prices = _names(product), [p for p in product.get("pricing") or [] if isinstance(p, dict)]
    out = []
    for price in prices:
        if not price.get("id"):
            continue
        own = _names(price)
        translations = dict(names)
        if len(prices) > 1:
            translations = {
                lang: f"{names[lang]} · {own[lang]}" if own[lang] else names[lang] for lang in names
            }
        minutes = price.get("duration") or product.get("duration") or DEFAULT_MINUTES
        try:
            minutes = max(1, int(minutes))
        except (TypeError, ValueError):
            minutes = DEFAULT_MINUTES
        amount = price.get("discountedAmount")
        amount = _amount(amount if amount not in (None, "") else price.get("amount"))
        out.append(
            {
                "id": str(price["id"]),
                "name": translations["ar"] or translations["en"],
                "name_translations": translations,
                "minutes": minutes,
                "leaveMinutesBefore": 0,
                "leaveMinutesAfter": 0,
                "color": None,
                "price": amount,
                "autoConfirm": True,
                "on": True,
            }
        )
    return out


def resource_from_provider(obj: dict, type_ids: list[str]) -> dict:
    """Rekaz provider → ``{"id" (the cloud's), "name", "name_translations", "category", "types"
    (cloud price ids it serves), "on", "activated", "timeRules" (hours unknown)}``."""
    if not isinstance(obj, dict) or not obj.get("id"):
        raise MappingError("provider without an id")
    name = _key(obj.get("name"))
    return {
        "id": str(obj["id"]),
        "name": name,
        "name_translations": {"ar": name, "en": name},
        "category": None,
        "types": list(type_ids),
        "on": True,
        "activated": True,
        "timeRules": timerules.unknown("Rekaz has no working hours; the slot search is its only signal"),
    }


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """Rekaz's single ``name`` → (firstName, lastName): the first word and the rest."""
    parts = _key(name).split(" ", 1)
    if not parts or not parts[0]:
        return None, None
    return parts[0], (parts[1] if len(parts) > 1 else None)


def customer_from_cloud(obj: dict, region: str = "SA") -> dict:
    """Rekaz customer → ``customers`` row with the cloud's ``id``: ``firstName``/
    ``lastName`` split from ``name``, ``phone`` in E.164 (read in ``region``; kept as sent
    when it cannot be read), ``email``, ``searchText``. ``customerNumber`` is left to the
    caller (the branch numbers its customers itself). Raises MappingError without an id."""
    if not isinstance(obj, dict) or not obj.get("id"):
        raise MappingError("customer without an id")
    first, last = split_name(obj.get("name"))
    mobile = obj.get("mobileNumber")
    if mobile and not str(mobile).startswith(("+", "0")) and str(mobile).startswith("966"):
        mobile = "+" + str(mobile)  # the API reference's samples write 9665… as well as +9665…
    phone = normalize_or_keep(mobile, region) if mobile else None
    return {
        "id": str(obj["id"]),
        "firstName": first,
        "lastName": last,
        "phone": phone,
        "email": obj.get("email") or None,
        "searchText": search_text(first, last, phone),
    }


def customer_to_cloud(row: dict, branch_id: str) -> dict:
    """Local customer → body of ``POST /customers`` (API reference "Customers API"): ``name`` (first
    and last name), ``mobileNumber`` (E.164), ``email``, ``type`` 1 (individual) and
    ``branchId`` (sent wherever an operation takes one: contract "Transport", the 403)."""
    name = " ".join(p for p in (row.get("firstName"), row.get("lastName")) if p) or (row.get("phone") or "")
    body = {"name": name, "mobileNumber": row.get("phone"), "type": 1, "branchId": branch_id}
    if row.get("email"):
        body["email"] = row["email"]
    return body


# names → ids ----------------------------------------------------------------------------
@dataclass
class NameIndex:
    """Provider and product/price names of the branch → cloud ids (contract "Behaviour":
    names, not ids). Build it with :meth:`build` from ``GET /products`` and
    ``GET /providers``."""

    providers: dict[str, list[str]] = field(default_factory=dict)
    products: dict[str, list[str]] = field(default_factory=dict)
    prices: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # product id → price name → ids
    single_price: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, products: list[dict], providers: list[dict], branch_id: str) -> NameIndex:
        index = cls()
        for provider in providers:
            if provider.get("id"):
                index.providers.setdefault(_key(provider.get("name")), []).append(str(provider["id"]))
        for product in products:
            if not product.get("id") or not offered(product, branch_id):
                continue
            pid = str(product["id"])
            for name in {_key(product.get(k)) for k in ("name", "nameAr", "nameEn")} - {""}:
                index.products.setdefault(name, []).append(pid)
            prices = [p for p in product.get("pricing") or [] if isinstance(p, dict) and p.get("id")]
            table = index.prices.setdefault(pid, {})
            for price in prices:
                for name in {_key(price.get(k)) for k in ("name", "nameAr", "nameEn")} - {""}:
                    table.setdefault(name, []).append(str(price["id"]))
            if len(prices) == 1:
                index.single_price[pid] = str(prices[0]["id"])
        return index

    def provider(self, name: str) -> tuple[str | None, Problem | None]:
        """(cloud provider id, None) or (None, the problem)."""
        found = self.providers.get(_key(name), [])
        if len(found) == 1:
            return found[0], None
        return None, Problem("resource", "ambiguous" if found else "unknown", _key(name), tuple(found))

    def price(self, product_name: str | None, price_name: str | None) -> tuple[str | None, Problem | None]:
        """(cloud price id, None) or (None, the problem): the product by any of its names,
        then ``priceName`` within its pricing (a product with one price needs no price name)."""
        label = " / ".join(p for p in (_key(product_name), _key(price_name)) if p)
        products = self.products.get(_key(product_name), [])
        if len(products) != 1:
            return None, Problem("type", "ambiguous" if products else "unknown", label, tuple(products))
        product = products[0]
        if not _key(price_name):
            single = self.single_price.get(product)
            return (single, None) if single else (None, Problem("type", "unknown", label))
        found = self.prices.get(product, {}).get(_key(price_name), [])
        if len(found) == 1:
            return found[0], None
        return None, Problem("type", "ambiguous" if found else "unknown", label, tuple(found))


# reservations ---------------------------------------------------------------------------
def status_key(text) -> str:
    """A reservation status folded for comparison (``Canceled`` = ``Cancelled``)."""
    key = str(text or "").strip().replace("_", "").casefold()
    return "cancelled" if key == "canceled" else key


def is_cancelled(obj: dict) -> bool:
    return status_key(obj.get("status")) == "cancelled"


def booking_from_cloud(
    obj: dict, names: NameIndex, now: datetime | None = None
) -> tuple[dict, list[Problem]]:
    """Rekaz reservation → (booking fields, problems).

    Fields: the keys of :data:`CLOUD_BOOKING_FIELDS` plus ``createdAt`` for a queue booking.
    ``status``: ``Pending`` → ``PENDING_APPROVAL``, ``Confirmed`` → ``CONFIRMED``,
    ``Cancelled``/``Canceled`` → ``CANCELED``, anything else → ``CONFIRMED`` (contract
    "Objects": stored raw, shown as confirmed; the raw value is :func:`cloud_state`'s).
    A reservation that is not cancelled and has no provider waits in the queue
    (``PENDING_ASSIGNMENT``, contract "Desk operations": unassigned queue): no start, end
    or resource, ``createdAt`` = its ``startAt`` (Rekaz has no creation time; the queue
    is ordered by it) and ``assignmentTimeout`` the longest, 180 minutes (Rekaz has no
    assignment timeout). Once that has passed (``now`` given), it is ``REJECTED``, as the
    desk's own expiry would make it, so the pull and the desk agree; a rejected one keeps
    its time (it is no longer waiting, and the day it belonged to lists it).
    ``startDateTime``/``endDateTime`` UTC; ``duration`` minutes.
    ``typeId``/``resourceId`` are CLOUD ids (price id, provider id) or None when the name
    is a problem; ``customerId`` is the CLOUD customer id. With several providers the first
    is the booking's resource. Raises MappingError for a missing id or a bad time.
    """
    ident = obj.get("id") if isinstance(obj, dict) else None
    if not ident:
        raise MappingError("reservation without an id")
    what = f"reservation {ident}"
    start, end = _utc(obj.get("startAt"), what), _utc(obj.get("endAt"), what)
    if start is None or end is None:
        raise MappingError(f"{what}: startAt and endAt are required")
    if end <= start:
        raise MappingError(f"{what}: endAt is not after startAt")
    problems: list[Problem] = []
    type_id, problem = names.price(obj.get("productName"), obj.get("priceName"))
    if problem:
        problems.append(problem)
    providers = [p for p in obj.get("providers") or [] if _key(p)]
    resource_id = None
    if providers:
        resource_id, problem = names.provider(providers[0])
        if problem:
            problems.append(problem)
    key = status_key(obj.get("status"))
    status = {"pending": Status.PENDING_APPROVAL, "cancelled": Status.CANCELED}.get(key, Status.CONFIRMED)
    unassigned = status != Status.CANCELED and not providers
    queued = False
    if unassigned:
        expired = now is not None and start + timedelta(minutes=ASSIGNMENT_TIMEOUT_MAX) <= now
        status = Status.REJECTED if expired else Status.PENDING_ASSIGNMENT
        queued = not expired
    row = {
        "status": str(status),
        "startDateTime": None if queued else _iso(start),
        "endDateTime": None if queued else _iso(end),
        "duration": int((end - start).total_seconds() // 60),
        "typeId": type_id,
        "resourceId": None if queued else resource_id,
        "customerId": str(obj["customerId"]) if obj.get("customerId") else None,
    }
    if unassigned:
        row["createdAt"] = _iso(start)
        row["assignmentTimeout"] = ASSIGNMENT_TIMEOUT_MAX
    return row, problems


def payment_link(link) -> str | None:
    """The ``paymentLink`` of a create reply (contract "Create body": the desk stores it)
    when it is an http(s) URL of at most 2,000 characters without spaces; else None."""
    if (
        isinstance(link, str)
        and link.startswith(("https://", "http://"))
        and len(link) <= 2000
        and not any(c.isspace() for c in link)
    ):
        return link
    return None


def money(obj: dict) -> CloudMoney | None:
    """A reservation's invoice amounts (contract "Objects": ``reservationTotalAmount``,
    ``reservationRemainingAmount``; SAR, VAT included) → :class:`CloudMoney`: the price is
    the reservation's total (``invoiceTotalAmount`` may cover other reservations of the same
    invoice), paid = total − remaining (never below 0), fully paid when nothing remains of
    a priced reservation. None when the reservation gives no total."""
    total = _amount(obj.get("reservationTotalAmount"))
    if total is None:
        return None
    remaining = _amount(obj.get("reservationRemainingAmount"))
    paid = max(0.0, float(total) - float(remaining)) if remaining is not None else None
    return CloudMoney(
        price=total,
        paid=None if paid is None else f"{paid:.2f}",
        fully_paid=None if paid is None or float(total) == 0 else float(remaining or 0) == 0,
    )


def cloud_state(obj: dict) -> dict:
    """What the desk keeps of a reservation beside the booking fields: ``reservationNumber``,
    ``status`` as sent, ``customStatus`` (a free label, read only), ``source``,
    ``providers`` (names), amounts, ``branchId``."""
    keys = (
        "id",
        "reservationNumber",
        "status",
        "customStatus",
        "source",
        "providers",
        "productName",
        "priceName",
        "invoiceTotalAmount",
        "reservationTotalAmount",
        "reservationRemainingAmount",
        "branchId",
        "isWalkInCustomer",
        "meetingUrl",
    )
    return {k: obj.get(k) for k in keys if k in obj}


def fingerprint(obj: dict) -> tuple:
    """The parts of a reservation whose change the desk acts on (change detection by
    comparison: Rekaz has no timestamps, contract "Behaviour" → Pull)."""
    return (
        obj.get("startAt"),
        obj.get("endAt"),
        status_key(obj.get("status")),
        tuple(obj.get("providers") or []),
        obj.get("productName"),
        obj.get("priceName"),
        obj.get("customerId"),
        obj.get("customStatus"),
    )


def create_body(
    *, customer_id: str, branch_id: str, price_id: str, start: datetime, minutes: int, provider_id: str | None
) -> dict:
    """Body of ``POST /reservations/bulk`` with one item (contract "Operations": create body).
    ``start`` aware; the item runs ``minutes`` from it. No provider → ``providerIds: []``,
    a queue booking (API reference sample)."""
    return {
        "customerId": customer_id,
        "branchId": branch_id,
        "items": [
            {
                "quantity": 1,
                "priceId": price_id,
                "from": cloud_time(start),
                "to": cloud_time(start + timedelta(minutes=minutes)),
                "providerIds": [provider_id] if provider_id else [],
                "customFields": {},
            }
        ],
    }


def update_body(
    start: str | datetime, *, end: str | datetime | None = None, provider_ids: list[str] | None = None
) -> dict:
    """Body of ``PUT /reservations/{id}``: ``startDate`` always (API reference: required), ``endDate``
    and ``providerIds`` only when given (API reference: omitted ones are kept)."""
    body: dict[str, object] = {"startDate": cloud_time(start)}
    if end is not None:
        body["endDate"] = cloud_time(end)
    if provider_ids is not None:
        body["providerIds"] = list(provider_ids)
    return body


# attendances -----------------------------------------------------------------------------
def attendance_kind(obj: dict) -> tuple[str | None, str | None]:
    """(kind ``CheckIn``/``CheckOut``, target ``Reservation``/``Subscription``) of an
    attendance. The GET sample puts the kind in ``type`` and the target in ``actionType``,
    the POST body the other way round with numbers (``type`` 0 reservation / 1 subscription;
    ``actionType`` 0 check-in / 1 check-out), so each value is classified by its content
    (contract "Objects": Attendance, inferred)."""
    kind = target = None
    for value in (obj.get("type"), obj.get("actionType")):
        key = str(value or "").replace("-", "").replace("_", "").casefold()
        if key in ("checkin", "checkout"):
            kind = CHECK_IN if key == "checkin" else CHECK_OUT
        elif key in ("reservation", "subscription"):
            target = RESERVATION if key == "reservation" else SUBSCRIPTION
    if (
        kind is None
        and target is None
        and isinstance(obj.get("type"), int)
        and isinstance(obj.get("actionType"), int)
    ):
        target = RESERVATION if obj["type"] == 0 else SUBSCRIPTION
        kind = CHECK_IN if obj["actionType"] == 0 else CHECK_OUT
    return kind, target


def attendance_body(kind: str, customer_id: str, reservation_id: str) -> dict:
    """Body of ``POST /attendances`` (API reference): ``type`` 0 (reservation), ``actionType`` 0
    check-in / 1 check-out."""
    return {
        "type": 0,
        "actionType": 0 if kind == CHECK_IN else 1,
        "customerId": customer_id,
        "actionId": reservation_id,
    }


def visit_from_attendances(items: list[dict]) -> dict[str, str]:
    """``{reservation id: visitStatus}`` from ``GET /attendances`` items listed newest first
    (contract "Behaviour": attendances made in Rekaz): the newest entry of each reservation
    decides, ``CheckIn`` → ``CHECKED_IN``, ``CheckOut`` → ``COMPLETED``."""
    out: dict[str, str] = {}
    for item in items:
        kind, target = attendance_kind(item)
        ident = item.get("actionId")
        if not ident or kind is None or target == SUBSCRIPTION or ident in out:
            continue
        out[str(ident)] = str(VisitStatus.CHECKED_IN if kind == CHECK_IN else VisitStatus.COMPLETED)
    return out
