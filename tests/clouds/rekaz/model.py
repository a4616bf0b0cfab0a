"""The state and rules of the simulated Rekaz cloud (Rekaz API reference; contract ``docs/clouds/rekaz.md``). One tenant, in memory, guarded by one lock.

Objects are kept in the API reference's shapes ("Branches API", "Products API", "Customers API",
"Providers", "Reservations API", "Attendances API"). A reservation also keeps what the
API never shows (its price id, product id, provider ids, cancellation reason), under keys
that start with ``_``; :meth:`RekazCloud.reservation_view` strips them.

Times are aware UTC datetimes inside, ``2025-01-20T14:00:00Z`` outside (API reference
"Reservations API": ``startAt``/``endAt`` in UTC with ``Z``). Errors are
:class:`RekazError`, shaped as the API reference's "Error Response Format".

Cloud-side changes for tests (a kiosk check-in, an online booking, a cancellation in the
Rekaz dashboard...) are the methods under "cloud-side"; each takes the lock.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .faults import Faults

# Error codes, API reference "Common Error Codes"; FORBIDDEN is this simulation's (see NOTES.md).
VALIDATION = "ValidationError"
NOT_FOUND = "NotFound"
UNAUTHORIZED = "Unauthorized"
RATE_LIMIT = "RateLimit"
BUSINESS = "BusinessLogicError"
FORBIDDEN = "Forbidden"

CONFIRMED, PENDING, CANCELLED = "Confirmed", "Pending", "Cancelled"
CHECK_IN, CHECK_OUT = "CheckIn", "CheckOut"
MAX_RESULT_COUNT = 100
DEFAULT_MINUTES = 60


class RekazError(Exception):
    """An API error: HTTP ``status`` and the API reference's envelope ``{"error": {code, message,
    details, validationErrors}}``."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        details: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.validation_errors = [{"field": field, "message": message}] if field else []

    def body(self) -> dict:
        return envelope(self.status, self.code, self.message, self.details, self.validation_errors)


def envelope(
    status: int,
    code: str | None,
    message: str,
    details: str | None = None,
    validation_errors: list | None = None,
) -> dict:
    """The API reference's "Error Response Format" (``status`` is not part of the body)."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "validationErrors": validation_errors or [],
        }
    }


def invalid(message: str, field: str | None = None) -> RekazError:
    return RekazError(400, VALIDATION, message, field=field)


def not_found(kind: str, ident) -> RekazError:
    return RekazError(404, NOT_FOUND, f"{kind} {ident} does not exist")


def business(message: str) -> RekazError:
    return RekazError(400, BUSINESS, message)


class Clock:
    """The cloud's "now" (aware UTC): the wall clock, or ``Clock(fixed)``; ``shift`` moves it."""

    def __init__(self, start: datetime | None = None):
        self._fixed = start
        self._offset = timedelta()

    def now(self) -> datetime:
        base = self._fixed or datetime.now(UTC)
        return (base + self._offset).astimezone(UTC).replace(microsecond=0)

    def shift(self, delta: timedelta) -> None:
        self._offset += delta


def iso(moment: datetime | None) -> str | None:
    """Aware datetime → ``2025-01-20T14:00:00Z`` (API reference "Reservations API")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def parse_time(text, field: str) -> datetime:
    """ISO-8601 → aware UTC. A value without a zone is read as UTC (contract "Transport":
    the slot search's zone-less dates are sent as UTC). Raises a 400 ``ValidationError``."""
    if not isinstance(text, str) or not text:
        raise invalid(f"{field} is required", field)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"{field} is not an ISO-8601 date-time", field) from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def mobile_digits(text: str | None) -> str:
    """A Saudi mobile number as digits with the country code: ``+966 50…``, ``96650…``,
    ``050…`` and ``0096650…`` all give ``96650…`` (contract "Behaviour": the lost reply on
    ``POST /customers``; used here for the mobile filters, see NOTES.md)."""
    digits = re.sub(r"\D", "", text or "")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("05"):
        digits = "966" + digits[1:]
    elif digits.startswith("5") and len(digits) == 9:
        digits = "966" + digits
    return digits


def guid() -> str:
    """An id as the API reference shows them (a GUID, ``3a1c29af-6c55-0661-5e51-8403ff2b9288``)."""
    return str(uuid.uuid4())


class RekazCloud:
    """One simulated Rekaz tenant.

    ``key``: the API key exactly as ``Authorization: Basic <key>`` carries it; ``tenant``:
    the ``__tenant`` header's value; ``zone`` and ``hours`` (local opening hours as two
    ``datetime.time``) only drive the slot search, which is the API reference's one availability
    signal (contract "Desk operations": working hours **none**).
    """

    def __init__(
        self,
        *,
        key: str | None = None,
        tenant: str | None = None,
        clock: Clock | None = None,
        zone: str = "Asia/Riyadh",
        hours: tuple[time, time] = (time(9), time(21)),
        fault_seed: int = 0,
        admin_key: str | None = None,
    ):
        self.key = key or "sim-" + secrets.token_urlsafe(24)
        self.tenant = tenant or guid()
        self.admin_key = admin_key or "admin-" + secrets.token_urlsafe(18)
        self.clock = clock or Clock()
        self.zone = ZoneInfo(zone)
        self.hours = hours
        self.faults = Faults(fault_seed)
        self.lock = threading.RLock()
        self.branches: dict[str, dict] = {}
        self.products: dict[str, dict] = {}
        self.providers: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.reservations: dict[str, dict] = {}
        self.attendances: list[dict] = []  # oldest first; listed newest first
        self.invoices: dict[str, dict] = {}
        self.notifications: list[dict] = []  # messages the cloud "sent" to customers
        self._customer_numbers = itertools.count(100001)
        self._reservation_numbers = itertools.count(10001)

    # ---- reference data ------------------------------------------------------------------
    def add_branch(self, name_ar: str, name_en: str, address_url: str | None = None) -> dict:
        branch = {
            "id": guid(),
            "name": name_ar,
            "nameAr": name_ar,
            "nameEn": name_en,
            "addressUrl": address_url,
        }
        with self.lock:
            self.branches[branch["id"]] = branch
        return branch

    def add_provider(self, name: str) -> dict:
        provider = {"id": guid(), "name": name}
        with self.lock:
            self.providers[provider["id"]] = provider
        return provider

    def add_product(
        self,
        name_ar: str,
        name_en: str,
        pricing: list[dict],
        provider_ids: list[str],
        branch_ids: list[str],
        duration: int | None = None,
    ) -> dict:
        """A product (a service) with ``pricing`` items ``{nameAr, nameEn, amount,
        discountedAmount?, duration?}`` (minutes, nullable: contract "Objects")."""
        prices = [
            {
                "id": guid(),
                "name": p["nameAr"],
                "nameAr": p["nameAr"],
                "nameEn": p["nameEn"],
                "model": 0,
                "billingCycle": 0,
                "amount": p["amount"],
                "discountedAmount": p.get("discountedAmount", p["amount"]),
                "hasMinimum": False,
                "hasDeposit": False,
                "hasOccurrence": False,
                "duration": p.get("duration"),
                "sku": None,
            }
            for p in pricing
        ]
        with self.lock:
            product = {
                "id": guid(),
                "name": name_ar,
                "nameAr": name_ar,
                "nameEn": name_en,
                "description": "",
                "shortDescription": "",
                "amount": prices[0]["amount"] if prices else 0,
                "duration": duration,
                "slots": None,
                "productProviders": [
                    {"id": i, "image": None, "name": self.providers[i]["name"], "description": ""}
                    for i in provider_ids
                ],
                "pricing": prices,
                "maximumQuantityPerOrder": 1,
                "customFields": [],
                "type": 0,
                "typeString": "Reservation",
                "branchIds": list(branch_ids),
            }
            self.products[product["id"]] = product
        return product

    def price(self, price_id: str | None) -> tuple[dict, dict]:
        """(product, price) of ``price_id``; 400 ``ValidationError`` when unknown."""
        for product in self.products.values():
            for price in product["pricing"]:
                if price["id"] == price_id:
                    return product, price
        raise invalid(f"price {price_id} does not exist", "priceId")

    @staticmethod
    def minutes(product: dict, price: dict) -> int:
        return int(price.get("duration") or product.get("duration") or DEFAULT_MINUTES)

    def get(self, table: str, ident: str, kind: str) -> dict:
        obj = getattr(self, table).get(ident)
        if obj is None:
            raise not_found(kind, ident)
        return obj

    def branch_for_write(self, branch_id: str | None) -> dict:
        """The branch a write names: 403 when none is named or it is not this tenant's
        (API reference "HTTP Status Codes": 403 missing branch ID or permissions)."""
        branch = self.branches.get(branch_id or "")
        if branch is None:
            raise RekazError(403, FORBIDDEN, "a branchId of this tenant is required", field="branchId")
        return branch

    # ---- customers -----------------------------------------------------------------------
    def create_customer(self, body: dict) -> str:
        """``POST /customers`` (API reference "Customers API") → the new id. A mobile number must be
        a valid Saudi mobile (API reference "Error Response Format" sample); duplicates are allowed."""
        name = (body.get("name") or "").strip() if isinstance(body.get("name"), str) else ""
        if not name:
            raise invalid("name is required", "name")
        mobile = body.get("mobileNumber")
        if not isinstance(mobile, str) or not re.fullmatch(r"9665\d{8}", mobile_digits(mobile)):
            raise RekazError(
                400,
                VALIDATION,
                "The request validation failed",
                "The mobile number format is invalid",
                "mobileNumber",
            )
        kind = body.get("type", 1)
        if kind not in (1, 2):
            raise invalid("type must be 1 (individual) or 2 (company)", "type")
        with self.lock:
            branch = self.branch_for_write(body.get("branchId"))
            customer = {
                "id": guid(),
                "name": name,
                "customerNumber": next(self._customer_numbers),
                "mobileNumber": mobile,
                "email": body.get("email") or None,
                "customerType": kind,
                "address": body.get("address") or None,
                "companyName": body.get("companyName") or None,
                "customFields": dict(body.get("customFields") or {}),
                "branchIds": [branch["id"]],
                "isBlocked": False,
            }
            self.customers[customer["id"]] = customer
        return customer["id"]

    # ---- reservations --------------------------------------------------------------------
    def reservation_view(self, record: dict) -> dict:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def find_reservations(self, query: Callable[[str], list[str]], *, view: bool = True) -> list[dict]:
        """``GET /reservations`` filters (API reference "Reservations API" query parameters):
        ``dateMin``/``dateMax`` bound ``startAt`` (both inclusive; contract "Desk operations":
        the dates filter ``startAt``), ``statuses`` repeated and case-insensitive
        (``Canceled`` = ``Cancelled``), ``customerId``, ``customerMobile`` (digits compared),
        ``upcoming=true`` (``startAt`` ≥ now), ``keyword``, ``branchId``. Ordered by ``startAt``.
        ``view=False`` gives the records themselves (the caller views the page it serves, under
        :attr:`lock`)."""

        def one(name):
            values = query(name)
            return values[-1] if values else None

        low = parse_time(one("dateMin"), "dateMin") if one("dateMin") else None
        high = parse_time(one("dateMax"), "dateMax") if one("dateMax") else None
        statuses = {_status_key(s) for raw in query("statuses") for s in raw.split(",") if s.strip()}
        mobile = mobile_digits(one("customerMobile")) if one("customerMobile") else None
        keyword = (one("keyword") or "").strip().casefold()
        upcoming = (one("upcoming") or "").lower()
        if upcoming not in ("", "true", "false"):
            raise invalid("upcoming must be true or false", "upcoming")
        branch_id, customer_id = one("branchId"), one("customerId")
        with self.lock:
            if branch_id and branch_id not in self.branches:
                raise RekazError(403, FORBIDDEN, "no permission on this branch", field="branchId")
            now = self.clock.now()
            found = []
            for r in self.reservations.values():
                start = r["_start"]
                if (
                    (low and start < low)
                    or (high and start > high)
                    or (branch_id and r["branchId"] != branch_id)
                ):
                    continue
                if statuses and _status_key(r["status"]) not in statuses:
                    continue
                if customer_id and r["customerId"] != customer_id:
                    continue
                if mobile and mobile_digits(r["customerMobile"]) != mobile:
                    continue
                if upcoming == "true" and start < now:
                    continue
                if keyword and keyword not in _haystack(r):
                    continue
                found.append(r)
            found.sort(key=lambda r: (r["_start"], r["reservationNumber"]))
            return [self.reservation_view(r) for r in found] if view else found

    def reservation(self, ident: str) -> dict:
        with self.lock:
            return self.reservation_view(self.get("reservations", ident, "reservation"))

    def busy(self, provider_id: str, start: datetime, end: datetime, ignore: str | None = None) -> bool:
        return any(
            r["_start"] < end
            and start < r["_end"]
            and provider_id in r["_providerIds"]
            and r["status"] != CANCELLED
            and r["id"] != ignore
            for r in self.reservations.values()
        )

    def _check_providers(
        self, product: dict, provider_ids, start, end, ignore=None, field="providerIds"
    ) -> list:
        if not isinstance(provider_ids, list) or not all(isinstance(p, str) for p in provider_ids):
            raise invalid("providerIds must be a list of ids", field)
        allowed = {p["id"] for p in product["productProviders"]}
        for provider_id in provider_ids:
            if provider_id not in self.providers or provider_id not in allowed:
                raise invalid(f"provider {provider_id} does not serve this product", field)
            if self.busy(provider_id, start, end, ignore):
                raise business(
                    f"the provider {self.providers[provider_id]['name']} is not available at that time"
                )
        return list(dict.fromkeys(provider_ids))

    def bulk_create(self, body: dict, source: str = "PublicApi") -> dict:
        """``POST /reservations/bulk`` (API reference "Reservations API") → ``{invoiceId,
        reservationIds, paymentLink}``. All items or none. A priced item is ``Pending``
        until confirmed; a free one is ``Confirmed`` and has no payment link (NOTES.md)."""
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise invalid("items must hold at least one reservation", "items")
        with self.lock:
            branch = self.branch_for_write(body.get("branchId"))
            customer = self._customer_of(body)
            planned = []
            for n, item in enumerate(items):
                planned.append(self._plan_item(item, n, branch, planned))
            if body.get("customerId") is None:
                customer = self.customers[
                    self.create_customer({**body["customerDetails"], "branchId": branch["id"]})
                ]
            total = round(sum(p["_total"] for p in planned), 2)
            invoice_id = guid()
            link = f"https://platform.rekaz.io/i/{secrets.token_urlsafe(3)}" if total > 0 else None
            ids = []
            for p in planned:
                record = self._new_reservation(p, branch, customer, total, source)
                ids.append(record["id"])
            self.invoices[invoice_id] = {
                "id": invoice_id,
                "reservationIds": ids,
                "total": total,
                "paymentLink": link,
            }
            return {"invoiceId": invoice_id, "reservationIds": ids, "paymentLink": link}

    def _customer_of(self, body: dict) -> dict | None:
        if body.get("customerId") is not None:
            return self.get("customers", body["customerId"], "customer")
        details = body.get("customerDetails")
        if not isinstance(details, dict):
            raise invalid("customerId or customerDetails is required", "customerId")
        return None  # created after every item checked out

    def _plan_item(self, item: dict, n: int, branch: dict, planned: list) -> dict:
        field = f"items[{n}]"
        if not isinstance(item, dict):
            raise invalid("an item must be an object", field)
        product, price = self.price(item.get("priceId"))
        if branch["id"] not in product["branchIds"]:
            raise invalid("this product is not offered in this branch", f"{field}.priceId")
        quantity = item.get("quantity", 1)
        if not isinstance(quantity, int) or quantity < 1 or quantity > product["maximumQuantityPerOrder"]:
            raise invalid(
                "quantity must be at least 1 and at most the product's maximum", f"{field}.quantity"
            )
        start, end = parse_time(item.get("from"), f"{field}.from"), parse_time(item.get("to"), f"{field}.to")
        if end <= start:
            raise invalid("to must be after from", f"{field}.to")
        provider_ids = self._check_providers(
            product, item.get("providerIds") or [], start, end, field=f"{field}.providerIds"
        )
        for other in planned:
            if (
                set(provider_ids) & set(other["_providerIds"])
                and other["_start"] < end
                and start < other["_end"]
            ):
                raise business("two items of this request take the same provider at the same time")
        amount = float(price["discountedAmount"]) * quantity
        discount = item.get("discount") or {}
        if discount:
            kind, value = str(discount.get("type") or "").lower(), discount.get("value") or 0
            if kind not in ("percentage", "fixed") or not isinstance(value, int | float) or value < 0:
                raise invalid("discount needs type percentage or fixed and a value ≥ 0", f"{field}.discount")
            amount -= amount * value / 100 if kind == "percentage" else value
        custom = item.get("customFields") or {}
        if not isinstance(custom, dict):
            raise invalid("customFields must be an object", f"{field}.customFields")
        labels = {f["name"]: f["label"] for f in product["customFields"]}
        return {
            "_product": product,
            "_price": price,
            "_start": start,
            "_end": end,
            "_providerIds": provider_ids,
            "_total": round(max(amount, 0.0), 2),
            "quantity": quantity,
            "customFields": [
                {"name": k, "label": labels.get(k, k), "type": "String", "value": v}
                for k, v in custom.items()
            ],
        }

    def _new_reservation(
        self, plan: dict, branch: dict, customer: dict, invoice_total: float, source: str
    ) -> dict:
        product, price = plan["_product"], plan["_price"]
        record = {
            "id": guid(),
            "startAt": iso(plan["_start"]),
            "endAt": iso(plan["_end"]),
            "status": CONFIRMED if plan["_total"] == 0 else PENDING,
            "customStatus": None,
            "customerName": customer["name"],
            "customerMobile": customer["mobileNumber"],
            "customerId": customer["id"],
            "reservationNumber": next(self._reservation_numbers),
            "productName": product["name"],
            "priceName": price["name"],
            "quantity": plan["quantity"],
            "providers": [self.providers[i]["name"] for i in plan["_providerIds"]],
            "customFields": plan["customFields"],
            "invoiceTotalAmount": invoice_total,
            "reservationTotalAmount": plan["_total"],
            "reservationRemainingAmount": plan["_total"],
            "branchId": branch["id"],
            "branchName": branch["name"],
            "meetingUrl": None,
            "source": source,
            "isZeroPrice": plan["_total"] == 0,
            "isWalkInCustomer": False,
            "_start": plan["_start"],
            "_end": plan["_end"],
            "_providerIds": plan["_providerIds"],
            "_priceId": price["id"],
            "_productId": product["id"],
            "_cancellationReason": None,
        }
        self.reservations[record["id"]] = record
        return record

    def update(self, ident: str, body: dict) -> None:
        """``PUT /reservations/{id}``: ``startDate`` required; without ``endDate`` the
        duration is kept; without ``providerIds`` the providers are kept (API reference "PUT
        /api/public/reservations/{id}"). A cancelled reservation cannot change."""
        with self.lock:
            record = self.get("reservations", ident, "reservation")
            start = parse_time(body.get("startDate"), "startDate")
            if body.get("endDate") is not None:
                end = parse_time(body.get("endDate"), "endDate")
            else:
                end = start + (record["_end"] - record["_start"])
            if end <= start:
                raise invalid("endDate must be after startDate", "endDate")
            if record["status"] == CANCELLED:
                raise business("a cancelled reservation cannot be changed")
            product = self.products[record["_productId"]]
            wanted = body["providerIds"] if body.get("providerIds") is not None else record["_providerIds"]
            providers = self._check_providers(product, wanted, start, end, ignore=ident)
            record.update(
                _start=start,
                _end=end,
                startAt=iso(start),
                endAt=iso(end),
                _providerIds=providers,
                providers=[self.providers[i]["name"] for i in providers],
            )

    def confirm(self, ident: str) -> None:
        """``PUT /reservations/{id}/confirm``: ``Pending`` → ``Confirmed``; confirming a
        confirmed one changes nothing; a cancelled one is a ``BusinessLogicError``."""
        with self.lock:
            record = self.get("reservations", ident, "reservation")
            if record["status"] == CANCELLED:
                raise business("a cancelled reservation cannot be confirmed")
            record["status"] = CONFIRMED

    def cancel(self, ident: str, reason: str | None, notify: bool) -> None:
        """``PUT /reservations/{id}/cancel``; cancelling twice is a ``BusinessLogicError``
        (contract "Behaviour": a re-sent cancel meets ``BusinessLogicError``)."""
        with self.lock:
            record = self.get("reservations", ident, "reservation")
            if record["status"] == CANCELLED:
                raise business("the reservation is already cancelled")
            record["status"] = CANCELLED
            record["_cancellationReason"] = reason
            if notify:
                self.notifications.append(
                    {
                        "customerId": record["customerId"],
                        "reservationId": ident,
                        "kind": "cancelled",
                        "reason": reason,
                    }
                )

    def slots(self, query: Callable[[str], list[str]]) -> list[dict]:
        """``GET /reservations/slots`` (API reference): ``StartDate``, ``EndDate`` (no zone, read as
        UTC), ``PriceId``, ``MinQuantity`` ≥ 1 required; ``MinProvidersCount``,
        ``ProvidersIds`` (repeated) optional. Slots are the price's duration long, within
        the opening hours in :attr:`zone`; a slot is available when enough of the
        product's (or the named) providers are free."""

        def one(name):
            values = query(name)
            return values[-1] if values else None

        low, high = parse_time(one("StartDate"), "StartDate"), parse_time(one("EndDate"), "EndDate")
        if high <= low:
            raise invalid("EndDate must be after StartDate", "EndDate")
        if high - low > timedelta(days=62):
            raise invalid("the slot search spans at most 62 days", "EndDate")
        try:
            quantity = int(one("MinQuantity") or "")
            min_providers = int(one("MinProvidersCount") or 0)
        except ValueError as exc:
            raise invalid("MinQuantity and MinProvidersCount are integers", "MinQuantity") from exc
        if quantity < 1:
            raise invalid("MinQuantity must be at least 1", "MinQuantity")
        with self.lock:
            product, price = self.price(one("PriceId"))
            pool = [p["id"] for p in product["productProviders"]]
            named = [i for raw in query("ProvidersIds") for i in raw.split(",") if i]
            if named:
                pool = [i for i in pool if i in named]
            step = timedelta(minutes=self.minutes(product, price))
            now, out = self.clock.now(), []
            day = low.astimezone(self.zone).date()
            while day <= high.astimezone(self.zone).date():
                moment = datetime.combine(day, self.hours[0], self.zone).astimezone(UTC)
                close = datetime.combine(day, self.hours[1], self.zone).astimezone(UTC)
                while moment + step <= close:
                    if moment >= low and moment + step <= high:
                        out.append(
                            self._slot(
                                product, price, pool, moment, moment + step, quantity, min_providers, now
                            )
                        )
                    moment += step
                day += timedelta(days=1)
            return out

    def _slot(self, product, price, pool, start, end, quantity, min_providers, now) -> dict:
        free = {i: not self.busy(i, start, end) for i in pool}
        free_ids = [i for i, ok in free.items() if ok]
        total = round(float(price["amount"]) * quantity, 2)
        return {
            "from": iso(start),
            "to": iso(end),
            "availableReservationsCount": len(free_ids),
            "availableProvidersCount": len(free_ids),
            "availableProviderIds": free_ids,
            "isOutDated": start < now,
            "isAvailable": start >= now and len(free_ids) >= max(min_providers, 1),
            "amounts": {
                "totalPrice": total,
                "effectiveQuantity": quantity,
                "totalAfterDiscount": round(float(price["discountedAmount"]) * quantity, 2),
                "depositAmount": None,
            },
            "maxConnectedTo": iso(end),
            "allProvidersAvailability": free,
        }

    # ---- attendances ---------------------------------------------------------------------
    def attend(self, body: dict, source: str = "PublicApi") -> dict:
        """``POST /attendances`` ``{type: 0, actionType: 0|1, customerId, actionId}`` (API reference
        "Attendances API") → the new item as ``GET /attendances`` lists it. Only
        reservations (``type`` 0) exist here. A check-in needs a reservation that is not
        cancelled and not checked in; a check-out needs a check-in before it."""
        if body.get("type") not in (0, 1):
            raise invalid("type must be 0 (reservation) or 1 (subscription)", "type")
        if body.get("actionType") not in (0, 1):
            raise invalid("actionType must be 0 (check-in) or 1 (check-out)", "actionType")
        with self.lock:
            if body["type"] == 1:
                raise not_found("subscription", body.get("actionId"))
            record = self.get("reservations", body.get("actionId"), "reservation")
            if body.get("customerId") != record["customerId"]:
                raise invalid("customerId is not the reservation's customer", "customerId")
            kind = CHECK_IN if body["actionType"] == 0 else CHECK_OUT
            state = self._attendance_state(record["id"])
            if record["status"] == CANCELLED:
                raise business("a cancelled reservation cannot be attended")
            if kind == CHECK_IN and state == CHECK_IN:
                raise business("the customer is already checked in")
            if kind == CHECK_OUT and state != CHECK_IN:
                raise business("the customer is not checked in")
            entry = {
                "kind": kind,
                "reservationId": record["id"],
                "first": kind == CHECK_IN and state is None,
                "at": self.clock.now(),
                "source": source,
            }
            self.attendances.append(entry)
            return self.attendance_view(entry)

    def _attendance_state(self, reservation_id: str) -> str | None:
        last = None
        for entry in self.attendances:
            if entry["reservationId"] == reservation_id:
                last = entry["kind"]
        return last

    def attendance_view(self, entry: dict) -> dict:
        """An item of ``GET /attendances``: ``type`` is the kind (``CheckIn``/``CheckOut``)
        and ``actionType`` the target (``Reservation``), as the API reference's GET sample spells
        them (contract "Objects": Attendance)."""
        r = self.reservations[entry["reservationId"]]
        state = self._attendance_state(r["id"])
        return {
            "type": entry["kind"],
            "actionType": "Reservation",
            "customerId": r["customerId"],
            "customerName": r["customerName"],
            "customerMobileNumber": r["customerMobile"],
            "providers": list(r["providers"]),
            "customerImageUrl": None,
            "actionName": r["productName"],
            "actionId": r["id"],
            "actionDateFrom": r["startAt"],
            "actionDateTo": r["endAt"],
            "isActive": r["status"] != CANCELLED,
            "canDoCheckIn": r["status"] != CANCELLED and state != CHECK_IN,
            "isFirstCheckIn": entry["first"],
            "customFields": [{"label": f["label"], "value": f["value"]} for f in r["customFields"]],
            "isPackage": False,
        }

    def find_attendances(self, customer_id: str | None, mobile: str | None, number: str | None) -> list[dict]:
        """``GET /attendances`` filters (API reference): ``customerId``, ``mobileNumber`` (digits
        compared), ``customerNumber``; newest first (contract "Behaviour": recent first)."""
        if number is not None and not number.isdigit():
            raise invalid("customerNumber is a number", "customerNumber")
        with self.lock:
            out = []
            for entry in reversed(self.attendances):
                r = self.reservations[entry["reservationId"]]
                customer = self.customers.get(r["customerId"], {})
                if customer_id and r["customerId"] != customer_id:
                    continue
                if mobile and mobile_digits(customer.get("mobileNumber")) != mobile_digits(mobile):
                    continue
                if number and str(customer.get("customerNumber")) != number:
                    continue
                out.append(self.attendance_view(entry))
            return out

    # ---- cloud-side changes (tests act as the clinic's other channels) --------------------
    def kiosk_attendance(self, reservation_id: str, kind: str = CHECK_IN) -> dict:
        """The customer checks in (or out) at the clinic's kiosk or in the Rekaz app."""
        with self.lock:
            record = self.get("reservations", reservation_id, "reservation")
            body = {
                "type": 0,
                "actionType": 0 if kind == CHECK_IN else 1,
                "customerId": record["customerId"],
                "actionId": reservation_id,
            }
            return self.attend(body, source="Kiosk")

    def online_booking(
        self,
        price_id: str,
        start: datetime,
        *,
        customer_id: str | None = None,
        provider_ids: list[str] | None = None,
        branch_id: str | None = None,
        end: datetime | None = None,
    ) -> dict:
        """A customer books on the Rekaz web page (``source: WebBooking``); returns the
        reservation. Without ``customer_id`` the first customer books; without
        ``branch_id`` the product's first branch."""
        with self.lock:
            product, price = self.price(price_id)
            customer_id = customer_id or next(iter(self.customers))
            end = end or start + timedelta(minutes=self.minutes(product, price))
            body = {
                "customerId": customer_id,
                "branchId": branch_id or product["branchIds"][0],
                "items": [
                    {
                        "quantity": 1,
                        "priceId": price_id,
                        "from": iso(start),
                        "to": iso(end),
                        "providerIds": provider_ids or [],
                    }
                ],
            }
            created = self.bulk_create(body, source="WebBooking")
            return self.reservation(created["reservationIds"][0])

    def cloud_cancel(self, reservation_id: str, reason: str = "cancelled in Rekaz") -> dict:
        """Someone cancels in the Rekaz dashboard (or the customer online)."""
        self.cancel(reservation_id, reason, notify=False)
        return self.reservation(reservation_id)

    def cloud_payment(self, reservation_id: str, amount: float) -> dict:
        """The customer pays ``amount`` (SAR, VAT included) of the reservation in Rekaz, e.g.
        through its ``paymentLink`` (contract "Objects": ``reservationRemainingAmount``): the
        remaining amount goes down, never below 0. 400 for an amount that is not positive."""
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            raise invalid("amount must be a positive number", "amount")
        with self.lock:
            record = self.get("reservations", reservation_id, "reservation")
            record["reservationRemainingAmount"] = round(
                max(0.0, record["reservationRemainingAmount"] - amount), 2
            )
            return self.reservation_view(record)

    def cloud_move(
        self,
        reservation_id: str,
        start: datetime,
        end: datetime | None = None,
        provider_ids: list[str] | None = None,
    ) -> dict:
        """Someone moves the reservation (or changes its providers) in the Rekaz dashboard."""
        body = {"startDate": iso(start), "endDate": iso(end), "providerIds": provider_ids}
        self.update(reservation_id, body)
        return self.reservation(reservation_id)

    def remove(self, reservation_id: str) -> None:
        """The reservation is deleted in the dashboard: later GETs answer 404 (contract
        "Behaviour": "On 404 it was deleted")."""
        with self.lock:
            self.get("reservations", reservation_id, "reservation")
            del self.reservations[reservation_id]
            self.attendances = [a for a in self.attendances if a["reservationId"] != reservation_id]

    def set_custom_status(self, reservation_id: str, label: str | None) -> dict:
        """A staff member sets the free ``customStatus`` label in the dashboard."""
        with self.lock:
            self.get("reservations", reservation_id, "reservation")["customStatus"] = label
        return self.reservation(reservation_id)

    def load_reservations(
        self,
        branch_id: str,
        price_id: str,
        rows: list[tuple[datetime, str, str]],
        status: str = CONFIRMED,
        source: str = "Dashboard",
    ) -> list[str]:
        """Many reservations at once, as the cloud keeps them, for benchmarks: ``rows`` of
        (UTC start, customer id, provider id), each the price's duration long, without the
        create's per-item checks (the caller keeps every provider free of overlaps: a
        provider holds one reservation at a time). Returns the new ids."""
        with self.lock:
            branch = self.branches[branch_id]
            product, price = self.price(price_id)
            minutes = timedelta(minutes=self.minutes(product, price))
            total = round(float(price["discountedAmount"]), 2)
            ids = []
            for start, customer_id, provider_id in rows:
                plan = {
                    "_product": product,
                    "_price": price,
                    "_start": start,
                    "_end": start + minutes,
                    "_providerIds": [provider_id],
                    "_total": total,
                    "quantity": 1,
                    "customFields": [],
                }
                record = self._new_reservation(plan, branch, self.customers[customer_id], total, source)
                record["status"] = status
                ids.append(record["id"])
            return ids

    def add_customer(self, name: str, mobile: str, branch_id: str, email: str | None = None) -> dict:
        """A customer registers in Rekaz (web page or dashboard); returns the customer."""
        ident = self.create_customer(
            {"name": name, "mobileNumber": mobile, "branchId": branch_id, "email": email, "type": 1}
        )
        return self.customers[ident]


def _status_key(text: str) -> str:
    key = text.strip().replace("_", "").casefold()
    return "cancelled" if key == "canceled" else key


def _haystack(r: dict) -> str:
    parts = [
        r["customerName"],
        r["customerMobile"],
        r["productName"],
        r["priceName"],
        str(r["reservationNumber"]),
        *r["providers"],
        r.get("customStatus") or "",
    ]
    return " ".join(p for p in parts if p).casefold()


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)
