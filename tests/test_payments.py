"""Payments, refunds, prices, billing settings and the cash drawer: the rules (Qt-free) and
the branch API over a real server on 127.0.0.1 through the desk's own client."""

from __future__ import annotations

import asyncio
import base64
import sqlite3

import httpx
import pytest

from app.client import ApiError, DeskClient
from app.domain import payments as pay
from app.domain import zatca
from app.domain.errors import BookingError
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, clock_at, fill, serve

# --- rules ------------------------------------------------------------------------------


def test_vat_inside_a_vat_inclusive_amount_rounds_half_away_from_zero():
    assert pay.vat_in(11500, 1500) == 1500  # 115.00 SAR incl. 15 % → 15.00 VAT
    assert pay.vat_in(15000, 1500) == 1957  # 19.5652… → 19.57
    assert pay.vat_in(-15000, 1500) == -1957  # a refund's VAT mirrors the payment's
    assert pay.vat_in(10000, 0) == 0
    assert pay.vat_in(1, 1500) == 0 and pay.vat_in(4, 1500) == 1  # 0.13 → 0, 0.52 → 1


def test_prices_become_minor_units_of_the_currency():
    assert pay.to_minor("150.00") == 15000
    assert pay.to_minor("150", "KWD") == 150000  # three decimals (CLDR)
    assert pay.to_minor(None) == 0 and pay.to_minor("") == 0
    assert str(pay.to_major(1957)) == "19.57"
    with pytest.raises(BookingError) as bad:
        pay.to_minor("abc")
    assert bad.value.code == pay.BAD_AMOUNT


def test_typed_amounts_in_latin_or_arabic_indic_digits():
    assert pay.parse_amount("150") == 15000
    assert pay.parse_amount("1,234.5") == 123450
    assert pay.parse_amount("١٥٠٫٥٠") == 15050
    assert pay.parse_amount("١٬٢٣٤") == 123400
    for bad in ("", "abc", "1.234", "-5", "1.", "1e3", "12.3.4"):
        with pytest.raises(BookingError):
            pay.parse_amount(bad)


@pytest.mark.parametrize(
    ("amount", "method", "reason", "code"),
    [
        (0, "cash", None, pay.BAD_AMOUNT),
        (1.5, "cash", None, pay.BAD_AMOUNT),
        ("100", "cash", None, pay.BAD_AMOUNT),
        (True, "cash", None, pay.BAD_AMOUNT),
        (100, "cheque", None, pay.BAD_METHOD),
        (100, None, None, pay.BAD_METHOD),
        (10001, "cash", None, pay.OVER_BALANCE),
        (-100, "cash", "", pay.REASON_REQUIRED),
        (-4001, "cash", "returned", pay.OVER_REFUND),
    ],
)
def test_refused_payments_name_their_reason(amount, method, reason, code):
    with pytest.raises(BookingError) as refused:
        pay.check_payment(amount, method, reason, price=14000, paid=4000)
    assert refused.value.code == code and refused.value.http_status == 400


def test_allowed_payments_and_refunds():
    pay.check_payment(10000, "card", None, price=14000, paid=4000)  # exactly the balance
    pay.check_payment(-4000, "cash", "returned", price=14000, paid=4000)  # exactly what was paid
    assert pay.figures(15000, [{"amount": 10000}, {"amount": -2500}]) == {
        "price": 15000,
        "paid": 7500,
        "balance": 7500,
    }
    assert pay.drawer_expected(
        [
            {"method": "cash", "amount": 5000},
            {"method": "cash", "amount": -1000},
            {"method": "card", "amount": 700},
        ]
    ) == {"cash": 4000, "card": 700, "transfer": 0, "online": 0}


# --- API --------------------------------------------------------------------------------


@pytest.fixture
def server(clinic_server):
    return clinic_server


def run(coro):
    return asyncio.run(coro)


async def with_client(server, scenario, **kwargs):
    """``scenario(client)`` with a desk client of ``server`` (its own token)."""
    client = DeskClient(
        server.url,
        token=server.token,
        desk_id=kwargs.pop("desk_id", "desk-1"),
        user=kwargs.pop("user", "Huda"),
        **kwargs,
    )
    try:
        return await scenario(client)
    finally:
        await client.aclose()


def test_a_booking_shows_its_price_paid_and_balance_and_a_refund_is_negative(server):
    thread, service = server

    async def scenario(client):
        booked = await client.book("gen", "c1", DAY, 1030, "dr-omar")
        first = await client.take_payment(booked["id"], 10000, "cash", reference="drawer 1")
        second = await client.take_payment(booked["id"], 5000, "card", reference="POS 4411")
        refund = await client.take_payment(booked["id"], -3000, "cash", reason="lab test not done")
        return (
            booked,
            first,
            second,
            refund,
            await client.booking(booked["id"]),
            await client.payments(booking_id=booked["id"]),
            await client.day(DAY),
            await client.history(booked["id"]),
        )

    booked, first, second, refund, after, listed, day, history = run(with_client(thread, scenario))
    assert (booked["price"], booked["paid"], booked["balance"], booked["currency"]) == (
        15000,
        0,
        15000,
        "SAR",
    )
    assert first["invoiceNumber"] == 1 and second["invoiceNumber"] == 2 and refund["invoiceNumber"] == 3
    assert first["vatRate"] == 1500 and first["vatAmount"] == 1304 and refund["vatAmount"] == -391
    assert (
        first["deskId"] == "desk-1"
        and first["actor"] == "Huda"
        and first["createdAt"] == "2026-11-22T07:00:00Z"
    )
    assert refund["amount"] == -3000 and refund["reason"] == "lab test not done"
    assert refund["booking"] == {"price": 15000, "paid": 12000, "balance": 3000, "currency": "SAR"}
    assert (after["paid"], after["balance"]) == (12000, 3000)
    assert [p["amount"] for p in listed] == [10000, 5000, -3000]
    assert day[0]["balance"] == 3000
    assert [h["action"] for h in history][-3:] == ["payment", "payment", "refund"]


def test_bad_payments_get_a_code_and_write_nothing(server):
    thread, service = server
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def scenario(client):
        codes = []
        for amount, method, reason in (
            (0, "cash", None),
            (12.5, "cash", None),
            (100, "bitcoin", None),
            (15001, "cash", None),
            (-1, "cash", "oops"),
            (-1, "cash", None),
        ):
            try:
                await client.take_payment(booking["id"], amount, method, reason=reason)
            except ApiError as exc:
                codes.append((exc.status, exc.code, bool(exc.message)))
        try:
            await client.take_payment("nope", 100, "cash")
        except ApiError as exc:
            codes.append((exc.status, exc.code, True))
        return codes

    codes = run(with_client(thread, scenario))
    assert codes == [
        (400, "PAY-BAD-AMOUNT", True),
        (400, "PAY-BAD-AMOUNT", True),
        (400, "PAY-BAD-METHOD", True),
        (400, "PAY-OVER-BALANCE", True),
        (400, "PAY-REFUND-OVER-PAID", True),
        (400, "PAY-REASON-REQUIRED", True),
        (404, "NOT-FOUND", True),
    ]
    assert service.store.db["payments"].count == 0


def test_a_canceled_booking_takes_no_payment_but_gives_its_money_back(server):
    thread, service = server
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1130,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def scenario(client):
        await client.take_payment(booking["id"], 5000, "cash")  # a deposit
        await client.cancel(booking["id"], "patient travelling")
        try:
            await client.take_payment(booking["id"], 1000, "cash")
        except ApiError as exc:
            refused = exc
        else:
            raise AssertionError("a payment on a canceled booking was taken")
        refund = await client.take_payment(booking["id"], -5000, "cash", reason="visit canceled")
        return refused, refund, await client.payments(booking_id=booking["id"])

    refused, refund, listed = run(with_client(thread, scenario))
    assert (refused.status, refused.code) == (409, pay.BOOKING_CLOSED)
    assert refund["booking"]["paid"] == 0
    assert [p["amount"] for p in listed] == [5000, -5000]


def test_payments_are_never_changed_or_deleted_in_the_file(server):
    thread, service = server
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )
    run(with_client(thread, lambda c: c.take_payment(booking["id"], 500, "cash")))
    with pytest.raises(sqlite3.DatabaseError, match="never changed"):
        service.store.db.execute("delete from payments")
    with pytest.raises(sqlite3.DatabaseError, match="never changed"):
        service.store.db.execute("update payments set amount = 1")


def test_manager_edits_the_price_with_a_reason_kept_in_history(server):
    thread, service = server
    booking = service.create(
        {
            "type": "dental",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c3"},
        }
    )

    async def scenario(client):
        errors = []
        for price, reason in ((-5, "x"), ("20000", "x"), (20000, "")):
            try:
                await client.set_price(booking["id"], price, reason)
            except ApiError as exc:
                errors.append(exc.code)
        changed = await client.set_price(booking["id"], 20000, "family discount")
        return errors, changed, await client.history(booking["id"])

    errors, changed, history = run(with_client(thread, scenario))
    assert errors == ["PAY-BAD-AMOUNT", "PAY-BAD-AMOUNT", "VALIDATION"]
    assert (changed["price"], changed["balance"]) == (20000, 20000)  # the type's price was 25000
    assert history[-1]["action"] == "price" and history[-1]["before"] == {"price": 25000}
    assert history[-1]["after"] == {"price": 20000, "priceReason": "family discount"}
    assert history[-1]["deskId"] == "desk-1"


def test_billing_settings_and_a_booking_type_overriding_the_rate(server):
    thread, service = server
    booking = service.create(
        {
            "type": "dental",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c3"},
        }
    )

    async def scenario(client):
        default = await client.billing()
        errors = []
        for change in (
            {"vatRate": 20000},
            {"vatRate": "15"},
            {"vatNumber": "12345"},
            {"currency": "sar"},
            {"typeVatRates": {"nope": 0}},
        ):
            try:
                await client.save_billing(**change)
            except ApiError as exc:
                errors.append(exc.code)
        saved = await client.save_billing(
            sellerName="عيادة الاختبار", vatNumber="310122393500003", typeVatRates={"dental": 0}
        )
        taken = await client.take_payment(booking["id"], 25000, "card")
        return default, errors, saved, taken

    default, errors, saved, taken = run(with_client(thread, scenario))
    assert default == {
        "sellerName": "Test clinic",
        "vatNumber": "",
        "vatRate": 1500,
        "currency": "SAR",
        "typeVatRates": {},
    }
    assert errors == ["PAY-BAD-VAT-RATE", "PAY-BAD-VAT-RATE", "VALIDATION", "PAY-BAD-CURRENCY", "NOT-FOUND"]
    assert saved["vatNumber"] == "310122393500003" and saved["sellerName"] == "عيادة الاختبار"
    assert taken["vatRate"] == 0 and taken["vatAmount"] == 0


def test_invoice_numbers_stay_gap_free_when_desks_race_and_some_are_refused(server):
    thread, service = server
    bookings = [
        service.create(
            {
                "type": "gen",
                "date": DAY.isoformat(),
                "time": t,
                "resourceId": "dr-sara",
                "customerIdentifier": {"id": "c1"},
            }
        )
        for t in (900, 930, 1000, 1030)
    ]

    async def scenario(client):
        calls = [client.take_payment(b["id"], amount, "cash") for b in bookings for amount in (9000, 9000)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = run(with_client(thread, scenario))
    taken = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(taken) == 4 and {r.code for r in refused} == {"PAY-OVER-BALANCE"}  # 9000 + 9000 > 15000
    numbers = [
        r[0] for r in service.store.db.execute("select invoiceNumber from payments order by invoiceNumber")
    ]
    assert numbers == [1, 2, 3, 4]


def test_receipt_carries_the_zatca_qr_payload(server):
    thread, service = server
    service.store.set_setting("billing", {"vatNumber": "310122393500003"})
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def scenario(client):
        taken = await client.take_payment(booking["id"], 15000, "card")
        return await client.receipt(taken["id"])

    receipt = run(with_client(thread, scenario))
    assert receipt["payment"]["invoiceNumber"] == 1 and receipt["net"] == 15000 - 1957
    assert zatca.read_invoice_qr(receipt["qr"]) == {
        "sellerName": "Test clinic",
        "vatNumber": "310122393500003",
        "timestamp": "2026-11-22T07:00:00Z",
        "total": "150.00",
        "vatTotal": "19.57",
    }


@pytest.fixture
def desks_server(tmp_path):
    """The server with its app kept, so desks can be paired on its registry."""
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    service = BookingService(store, clock_at(1000))
    thread = serve(service)
    yield thread, service, thread.app.state.desks
    thread.stop()
    store.close()


def test_roles_provider_takes_no_payment_reception_edits_no_price(desks_server):
    thread, service, registry = desks_server
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    def paired(role: str) -> str:
        resources = ["dr-sara"] if role == "provider" else None  # only a provider desk is limited
        code = registry.pairing_code(role, resources)["code"]
        return registry.pair(f"{role} desk", role, code=code, resource_ids=resources)["token"]

    tokens = {role: paired(role) for role in ("provider", "reception", "manager")}

    async def as_desk(role, call):
        client = DeskClient(thread.url, token=tokens[role], user="someone")
        try:
            return await call(client)
        except ApiError as exc:
            return exc.status, exc.code
        finally:
            await client.aclose()

    async def scenario():
        return (
            await as_desk("provider", lambda c: c.take_payment(booking["id"], 100, "cash")),
            await as_desk("reception", lambda c: c.take_payment(booking["id"], 100, "cash")),
            await as_desk("reception", lambda c: c.set_price(booking["id"], 100, "why")),
            await as_desk("reception", lambda c: c.save_billing(vatRate=0)),
            await as_desk("manager", lambda c: c.set_price(booking["id"], 9000, "why")),
        )

    provider, reception, reception_price, reception_billing, manager = run(scenario())
    assert provider == (403, "FORBIDDEN")
    assert reception["amount"] == 100 and reception["actor"] == "someone"
    assert reception["deskId"] not in ("local", None)  # the paired desk's own id, from its token
    assert reception_price == (403, "FORBIDDEN") and reception_billing == (403, "FORBIDDEN")
    assert manager["price"] == 9000 and manager["balance"] == 8900


def test_closing_the_day_balances_cash_after_a_refund(server):
    thread, service = server
    a = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )
    b = service.create(
        {
            "type": "dental",
            "date": DAY.isoformat(),
            "time": 1200,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c3"},
        }
    )

    async def scenario(client):
        await client.take_payment(a["id"], 15000, "cash")
        await client.take_payment(b["id"], 25000, "card")
        await client.take_payment(a["id"], -5000, "cash", reason="partly refunded")
        expected = await client.drawer(DAY)
        try:
            await client.close_drawer(DAY, {"cash": 9500, "card": 25000})
            missing_note = None
        except ApiError as exc:
            missing_note = exc.code
        closed = await client.close_drawer(DAY, {"cash": 9500, "card": 25000}, note="50 SAR short, coin tray")
        balanced = await client.close_drawer(DAY, {"cash": 10000, "card": 25000})
        return expected, missing_note, closed, balanced, await client.drawer_counts(DAY)

    expected, missing_note, closed, balanced, counts = run(with_client(thread, scenario))
    assert expected["expected"] == {"cash": 10000, "card": 25000, "transfer": 0, "online": 0}
    assert expected["deskId"] == "desk-1" and expected["user"] == "Huda" and expected["count"] == 3
    assert missing_note == "VALIDATION"
    assert closed["difference"] == -500 and closed["differenceByMethod"]["cash"] == -500
    assert balanced["difference"] == 0 and balanced["note"] is None
    assert [c["difference"] for c in counts] == [-500, 0]


def test_another_desk_day_is_not_in_my_drawer(server):
    thread, service = server
    a = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def mine(client):
        await client.take_payment(a["id"], 4000, "cash")

    async def theirs(client):
        await client.take_payment(a["id"], 6000, "cash")
        return await client.drawer(DAY), await client.payments(day=DAY)

    run(with_client(thread, mine))
    drawer, day = run(with_client(thread, theirs, desk_id="desk-2", user="Sami"))
    assert drawer["expected"]["cash"] == 6000 and len(day) == 2


def test_payment_body_over_http_with_junk_gets_a_code(server):
    thread, _ = server
    with httpx.Client(base_url=thread.url, headers=thread.auth) as http:
        junk = http.post(
            "/management/payments", content=b"{not json", headers={"content-type": "application/json"}
        )
        missing = http.post("/management/payments", json={"amount": 100, "method": "cash"})
    assert junk.status_code == 400 and junk.json()["error"]["code"] == "VALIDATION"
    assert missing.status_code == 400 and "bookingId" in missing.json()["error"]["message"]


def test_qr_payload_is_base64_of_tlv():
    payload = zatca.invoice_qr_payload("Test", "310122393500003", "2026-11-22T07:00:00Z", "150.00", "19.57")
    raw = base64.b64decode(payload)
    assert raw[:6] == bytes([1, 4]) + b"Test"
