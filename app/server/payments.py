"""Payments, refunds, booking prices, receipts and the day's cash drawer on the branch store.

Tables (migration ``m015_payments``): ``payments`` (never updated or deleted; a refund is a
new negative row), ``booking_prices`` (a price set on one booking instead of its booking
type's) and ``drawer_counts`` (a closed day of one desk and user). Money is integer minor
units and VAT rates basis points (:mod:`app.domain.payments`); times UTC ISO strings.

Branch billing settings (``Store.setting("billing")``), defaults in :data:`BILLING_DEFAULT`:
``sellerName`` (the invoice's seller; the branch name when empty), ``vatNumber`` (15 digits,
ZATCA), ``vatRate`` (bp), ``currency`` (ISO 4217) and ``typeVatRates`` ``{typeId: bp}``
(a booking type's own rate).

Money a cloud reports (migration ``m018_cloud_money``, written by :mod:`app.sync.apply`):
``cloud_money`` (the cloud's price and paid per booking) and ``cloud_payments`` (the
cloud's own payments on it). They are shown beside the desk's payments and counted in a
booking's ``paid``, never numbered as the branch's invoices nor counted in a desk's drawer.

Invoice numbers: every payment and refund is a simplified tax invoice (a refund a credit
note) numbered 1, 2, 3… per branch database, assigned under the writer lock in the
transaction that writes the row, so the sequence has no gaps and no repeats.
"""

from __future__ import annotations

import json

from app.domain import errors, payments, zatca
from app.domain.clock import from_iso, local_date, to_iso
from app.domain.errors import BookingError
from app.domain.model import Action, EventType
from app.ids import new_id

BILLING_KEY = "billing"
BILLING_DEFAULT = {
    "sellerName": "",
    "vatNumber": "",
    "vatRate": payments.VAT_RATE_DEFAULT,
    "currency": payments.CURRENCY_DEFAULT,
    "typeVatRates": {},
}
PAYMENT_FIELDS = (
    "id",
    "invoiceNumber",
    "bookingId",
    "customerId",
    "amount",
    "currency",
    "method",
    "reference",
    "reason",
    "vatRate",
    "vatAmount",
    "actor",
    "deskId",
    "createdAt",
)


def billing(store) -> dict:
    """The branch's billing settings with defaults filled in; ``sellerName`` falls back to
    the branch's name."""
    out = {**BILLING_DEFAULT, **(store.setting(BILLING_KEY) or {})}
    if not out["sellerName"]:
        out["sellerName"] = store.branch().get("name") or ""
    return out


def save_billing(store, changes: dict) -> dict:
    """Merge ``changes`` into the billing settings after checking them. Raises
    PAY-BAD-VAT-RATE, PAY-BAD-CURRENCY, VALIDATION (vatNumber not 15 digits, unknown type)."""
    current = {**BILLING_DEFAULT, **(store.setting(BILLING_KEY) or {})}
    new = {**current, **{k: v for k, v in changes.items() if v is not None}}
    payments.check_rate(new["vatRate"])
    payments.decimals(new["currency"])
    if new["vatNumber"] and not (
        len(new["vatNumber"]) == 15 and new["vatNumber"].isascii() and new["vatNumber"].isdigit()
    ):
        raise errors.invalid("the VAT registration number has 15 digits", field="vatNumber")
    for type_id, rate in (new["typeVatRates"] or {}).items():
        if store.booking_type(type_id) is None:
            raise errors.not_found("booking type", type_id)
        payments.check_rate(rate)
    if new["currency"] != current["currency"] and store.db["payments"].count:
        raise BookingError(
            "PAY-CURRENCY-IN-USE",
            "the currency cannot change once payments are recorded",
            409,
            field="currency",
        )
    store.set_setting(BILLING_KEY, new)
    return billing(store)


class Payments:
    """``Payments(service)``: the payment side of a :class:`~app.server.service.BookingService`
    (its store, clock, zone and events)."""

    def __init__(self, service):
        self.service = service
        self.store = service.store

    # figures on bookings -----------------------------------------------------------
    def add_figures(self, rows: list[dict]) -> list[dict]:
        """Add ``price``, ``paid``, ``balance`` (minor units, VAT included) and ``currency`` to
        bookings in API shape, in place, with one query per table. ``price`` is the booking's
        own (``booking_prices``), else the cloud's (``cloud_money``), else its booking type's;
        ``priceSource`` says which (``desk`` | ``cloud`` | ``type``). ``paid`` = ``paidLocal``
        (the desk's payments) + ``paidCloud`` (what the cloud reports paid besides them);
        ``cloud``: the cloud that reported money on it (None: none); ``cloudFullyPaid``: that
        cloud's own paid flag (None when it gives none)."""
        if not rows:
            return rows
        currency = billing(self.store)["currency"]
        ids = [r["id"] for r in rows]
        own, paid, cloud = {}, {}, {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for booking_id, price in self.store.db.execute(
                f"select bookingId, price from booking_prices where bookingId in ({marks})", part
            ):
                own[booking_id] = price
            for booking_id, total in self.store.db.execute(
                f"select bookingId, sum(amount) from payments where bookingId in ({marks}) group by bookingId",
                part,
            ):
                paid[booking_id] = total
            for booking_id, name, price, cloud_paid, full in self.store.db.execute(
                f"select bookingId, cloud, price, paid, fullyPaid from cloud_money where bookingId in ({marks})"
                " order by cloud",
                part,
            ):
                cloud.setdefault(booking_id, (name, price, int(cloud_paid or 0), full))
        type_prices = {}
        for t in self.store.types():
            try:
                type_prices[t["id"]] = payments.to_minor(t.get("price"), currency)
            except BookingError:
                type_prices[t["id"]] = 0  # a cloud type with an unreadable price: no price
        for row in rows:
            name, cloud_price, cloud_paid, full = cloud.get(row["id"], (None, None, 0, None))
            price, source = own.get(row["id"]), "desk"
            if price is None and cloud_price is not None:
                price, source = cloud_price, "cloud"
            if price is None:
                price, source = type_prices.get(row.get("typeId"), 0), "type"
            local = int(paid.get(row["id"]) or 0)
            row.update(
                price=price,
                priceSource=source,
                paidLocal=local,
                paidCloud=cloud_paid,
                paid=local + cloud_paid,
                currency=currency,
                cloud=name,
                cloudFullyPaid=None if full is None else bool(full),
            )
            row["balance"] = price - row["paid"]
        return rows

    def figures(self, booking_id: str, *, parts: bool = False) -> dict:
        """``{price, paid, balance, currency}`` of one booking; ``parts``: also ``priceSource``,
        ``paidLocal``, ``paidCloud``, ``cloud``, ``cloudFullyPaid`` (:meth:`add_figures`)."""
        booking = self.service._booking(booking_id)
        row = self.add_figures([{"id": booking["id"], "typeId": booking["typeId"]}])[0]
        keys = ("price", "paid", "balance", "currency")
        return {
            k: row[k]
            for k in (*keys, "priceSource", "paidLocal", "paidCloud", "cloud", "cloudFullyPaid")
            if parts or k in keys
        }

    def vat_rate(self, type_id: str) -> int:
        settings = billing(self.store)
        return int((settings["typeVatRates"] or {}).get(type_id, settings["vatRate"]))

    # writing -----------------------------------------------------------------------
    def take(self, body: dict, actor: dict) -> dict:
        """Record a payment (``amount`` > 0) or refund (< 0, with ``reason``) on a booking:
        ``{bookingId, amount, method, reference?, reason?}`` → the payment row with its
        ``invoiceNumber`` and the booking's new ``price/paid/balance``. Raises NOT-FOUND and
        the PAY-… codes of :func:`app.domain.payments.check_payment`; nothing is written then."""
        store = self.store
        with store.lock:
            booking = self.service._booking(body["bookingId"])
            money = self.figures(booking["id"], parts=True)
            refund = (
                isinstance(body.get("amount"), int) and body["amount"] < 0
            )  # the desk refunds only its own
            payments.check_payment(
                body.get("amount"),
                body.get("method"),
                body.get("reason"),
                price=money["price"],
                paid=money["paidLocal"] if refund else money["paid"],
                status=booking["status"],
            )
            rate = self.vat_rate(booking["typeId"])
            row = {
                "id": new_id(),
                "bookingId": booking["id"],
                "customerId": booking.get("customerId"),
                "amount": body["amount"],
                "currency": money["currency"],
                "method": body["method"],
                "reference": (body.get("reference") or "").strip() or None,
                "reason": (body.get("reason") or "").strip() or None,
                "vatRate": rate,
                "vatAmount": payments.vat_in(body["amount"], rate),
                "actor": actor.get("user"),
                "deskId": actor.get("deskId"),
                "createdAt": to_iso(self.service.now()),
            }
            with store.transaction():
                number = store.db.execute(
                    "select coalesce(max(invoiceNumber), 0) + 1 from payments"
                ).fetchone()[0]
                row["invoiceNumber"] = int(number)
                store.db["payments"].insert(row)
                store.add_history(
                    {
                        "bookingId": booking["id"],
                        "createdAt": row["createdAt"],
                        "action": Action.PAYMENT if row["amount"] > 0 else Action.REFUND,
                        "actor": actor.get("user"),
                        "deskId": actor.get("deskId"),
                        "before": {"paid": money["paid"]},
                        "after": {
                            "paid": money["paid"] + row["amount"],
                            "paymentId": row["id"],
                            "invoiceNumber": row["invoiceNumber"],
                        },
                    }
                )
                self._changed(booking, Action.PAYMENT)
                for (
                    listener
                ) in self.service.listeners:  # a cloud that takes payments queues it (same transaction)
                    listener("payment", booking, {**booking, "payment": dict(row)}, actor)
        return {**row, "booking": self.figures(booking["id"])}

    def set_price(self, booking_id: str, price: int, reason: str, actor: dict) -> dict:
        """Give one booking its own price (minor units, VAT included) with a reason kept in its
        history (``action: "price"``). Raises NOT-FOUND, PAY-BAD-AMOUNT, VALIDATION (no reason)."""
        payments.check_price(price)
        reason = (reason or "").strip()
        if not reason:
            raise errors.invalid("a price change needs a reason", field="reason")
        store = self.store
        with store.lock:
            booking = self.service._booking(booking_id)
            old = self.figures(booking_id)["price"]
            now = to_iso(self.service.now())
            with store.transaction():
                store.db["booking_prices"].upsert(
                    {
                        "bookingId": booking_id,
                        "price": price,
                        "reason": reason,
                        "actor": actor.get("user"),
                        "deskId": actor.get("deskId"),
                        "updatedAt": now,
                    },
                    pk="bookingId",
                )
                store.add_history(
                    {
                        "bookingId": booking_id,
                        "createdAt": now,
                        "action": Action.PRICE,
                        "actor": actor.get("user"),
                        "deskId": actor.get("deskId"),
                        "before": {"price": old},
                        "after": {"price": price, "priceReason": reason},
                    }
                )
                self._changed(booking, Action.PRICE)
        return self.service.embed(
            [self.service.to_api(self.service._booking(booking_id))], {"customer", "type"}
        )[0]

    def _changed(self, booking: dict, action: Action) -> None:
        """``booking.changed`` inside the open transaction: desks refetch the new balance."""
        out = self.service.to_api(booking)
        self.service.events.record(
            EventType.BOOKING_CHANGED,
            {"action": action, "booking": self.service.embed([out], {"customer", "type"})[0]},
        )

    # reading -----------------------------------------------------------------------
    def of_booking(self, booking_id: str) -> list[dict]:
        """The desk's payments of a booking by invoice number (``source: "local"``), then the
        ones a cloud reported (``source``: the cloud's name; ``id`` ``<cloud>:<cloud id>``,
        no ``invoiceNumber``, ``kind`` the cloud's word, ``createdAt`` when first pulled)."""
        self.service._booking(booking_id)
        rows = self.store._rows(
            "select * from payments where bookingId = ? order by invoiceNumber", [booking_id]
        )
        for row in rows:
            row["source"] = "local"
        currency = billing(self.store)["currency"]
        for row in self.store._rows(
            "select * from cloud_payments where bookingId = ? order by seenAt, cloudId", [booking_id]
        ):
            rows.append(
                {
                    "id": f"{row['cloud']}:{row['cloudId']}",
                    "invoiceNumber": None,
                    "bookingId": booking_id,
                    "amount": row["amount"],
                    "currency": currency,
                    "method": row["method"],
                    "kind": row["kind"],
                    "vatRate": row["vatRate"],
                    "source": row["cloud"],
                    "cloudId": row["cloudId"],
                    "createdAt": row["seenAt"],
                }
            )
        return rows

    def of_day(self, day, desk_id: str | None = None, user: str | None = None) -> list[dict]:
        """Payments taken on the branch-local ``day`` (optionally by one desk and/or user)."""
        start, end = self.service.day_bounds(day)
        sql, params = (
            "select * from payments where createdAt >= ? and createdAt < ?",
            [to_iso(start), to_iso(end)],
        )
        if desk_id:
            sql, params = sql + " and deskId = ?", [*params, desk_id]
        if user:
            sql, params = sql + " and actor = ?", [*params, user]
        return self.store._rows(sql + " order by invoiceNumber", params)

    def payment(self, payment_id: str) -> dict:
        rows = self.store._rows("select * from payments where id = ?", [payment_id])
        if not rows:
            raise errors.not_found("payment", payment_id)
        return rows[0]

    def receipt(self, payment_id: str) -> dict:
        """What a printed simplified tax invoice shows: the payment, the seller, the booking's
        customer and type, the amounts without VAT, and ``qr`` (Base64 TLV, :mod:`app.domain.zatca`)."""
        p = self.payment(payment_id)
        settings = billing(self.store)
        booking = self.store.booking(p["bookingId"]) or {}
        customer = self.store.customer(booking.get("customerId") or "") or {}
        booking_type = self.store.booking_type(booking.get("typeId") or "") or {}
        total = payments.to_major(p["amount"], p["currency"])
        vat = payments.to_major(p["vatAmount"], p["currency"])
        qr = zatca.invoice_qr_payload(
            settings["sellerName"], settings["vatNumber"], p["createdAt"], str(total), str(vat)
        )
        return {
            "payment": p,
            "sellerName": settings["sellerName"],
            "vatNumber": settings["vatNumber"],
            "branch": self.store.branch(),
            "customer": customer,
            "type": booking_type,
            "booking": {k: booking.get(k) for k in ("id", "startDateTime", "resourceId")},
            "net": p["amount"] - p["vatAmount"],
            "qr": qr,
            "localDate": local_date(from_iso(p["createdAt"]), self.service.zone).isoformat(),
        }

    # closing the day ---------------------------------------------------------------
    def drawer(self, day, desk_id: str | None, user: str | None) -> dict:
        """Expected takings of the branch-local ``day`` by method for one desk and user:
        ``{"date", "deskId", "user", "expected": {method: minor units}, "count", "currency"}``."""
        rows = self.of_day(day, desk_id, user)
        return {
            "date": day.isoformat(),
            "deskId": desk_id,
            "user": user,
            "expected": payments.drawer_expected(rows),
            "count": len(rows),
            "currency": billing(self.store)["currency"],
        }

    def close_drawer(
        self, day, desk_id: str, user: str | None, counted: dict[str, int], note: str | None, actor: dict
    ) -> dict:
        """Save the counted drawer of a desk and user for ``day``: expected by method (from the
        payments), counted, ``difference`` = counted − expected per method and in total (minor
        units). A difference needs a ``note`` (VALIDATION). Each save is kept; the newest counts."""
        for method, amount in counted.items():
            if method not in payments.METHODS:
                raise BookingError(
                    payments.BAD_METHOD, f"method takes {', '.join(payments.METHODS)}", 400, field="counted"
                )
            if isinstance(amount, bool) or not isinstance(amount, int) or abs(amount) > payments.AMOUNT_MAX:
                raise BookingError(
                    payments.BAD_AMOUNT, "counted amounts are whole minor units", 400, field="counted"
                )
        report = self.drawer(day, desk_id, user)
        full = {m: int(counted.get(m, 0)) for m in payments.METHODS}
        difference = {m: full[m] - report["expected"][m] for m in payments.METHODS}
        if any(difference.values()) and not (note or "").strip():
            raise errors.invalid("the counted drawer differs from the expected; give a note", field="note")
        row = {
            "id": new_id(),
            "date": report["date"],
            "deskId": desk_id,
            "user": user,
            "expected": json.dumps(report["expected"]),
            "counted": json.dumps(full),
            "difference": sum(difference.values()),
            "note": (note or "").strip() or None,
            "currency": report["currency"],
            "actor": actor.get("user"),
            "createdAt": to_iso(self.service.now()),
        }
        with self.store.transaction():
            self.store.db["drawer_counts"].insert(row)
        return self._drawer_out(row)

    def drawer_counts(self, day) -> list[dict]:
        rows = self.store.db.execute(
            "select * from drawer_counts where date = ? order by createdAt", [day.isoformat()]
        )
        names = [c[0] for c in rows.description]
        return [self._drawer_out(dict(zip(names, r, strict=True))) for r in rows.fetchall()]

    @staticmethod
    def _drawer_out(row: dict) -> dict:
        out = {**row, "expected": json.loads(row["expected"]), "counted": json.loads(row["counted"])}
        out["differenceByMethod"] = {m: out["counted"][m] - out["expected"].get(m, 0) for m in out["counted"]}
        return out
