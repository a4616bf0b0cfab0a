"""Payment links: a cloud booking awaiting payment (Ehjzny ``PENDING_PAYMENT`` with its
``payment.paymentLink``, Ehjzny API reference, "Online Payments") reaches the branch with its link, and
turns paid when the simulated cloud (real HTTP) marks it paid. The desk side (the QR code in
the booking pane and on the ticket) is ``tests/ui/test_payment_links_ui.py``."""

from __future__ import annotations

from datetime import timedelta

from app.domain.clock import Clock, local_date
from app.domain.model import Status
from app.sync.ehjzny import mapping
from tests.test_sync_engine import ZONE, run
from tests.test_sync_seed import branch, running  # noqa: F401  (fixtures)


def unpaid_booking(cloud) -> dict:
    """A priced booking made online by a customer while online payments are on."""
    cloud.payments = True
    day = local_date(Clock().now(), ZONE) + timedelta(days=1)
    return cloud.add_online_booking("typeGeneral", day=day, time=1000, customer_id="cusLina")


def test_the_mapping_keeps_the_payment_link_and_drops_a_bad_one():
    base = {
        "id": "b1",
        "status": "PENDING_PAYMENT",
        "typeId": "t",
        "customerId": "c",
        "startDateTime": "2026-11-22T07:00:00.000Z",
        "endDateTime": "2026-11-22T07:20:00.000Z",
        "createdAt": "2026-11-21T07:00:00.000Z",
    }
    link = "https://pay.example/i/42?x=1"
    assert mapping.booking_from_cloud({**base, "payment": {"paymentLink": link}}, ZONE)["paymentLink"] == link
    for bad in (
        {"paymentLink": "javascript:alert(1)"},
        {"paymentLink": 5},
        "nope",
        {"paymentLink": "https://a b"},
        {"paymentLink": "https://x/" + "a" * 2000},
        None,
    ):
        assert mapping.booking_from_cloud({**base, "payment": bad}, ZONE)["paymentLink"] is None
    assert mapping.booking_from_cloud(base, ZONE)["paymentLink"] is None


def test_a_booking_awaiting_payment_arrives_with_its_link_and_turns_paid(branch, running):  # noqa: F811
    unpaid = unpaid_booking(running.cloud)
    assert unpaid["status"] == Status.PENDING_PAYMENT and unpaid["payment"]["paymentLink"].startswith(
        "https://"
    )
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.local_id("ehjzny", unpaid["id"])
    row = branch.service.to_api(branch.store.booking(local))
    assert (row["status"], row["paymentLink"]) == (Status.PENDING_PAYMENT, unpaid["payment"]["paymentLink"])
    assert (
        branch.store.db.execute("select source from bookings where id = ?", [local]).fetchone()[0] == "cloud"
    )

    running.cloud.pay(unpaid["id"])
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    row = branch.store.booking(local)
    assert row["status"] == Status.CONFIRMED  # the desk's copy is paid: no QR code any more


def test_the_invoice_amounts_map_to_cloud_money():
    obj = {
        "payment": {
            "invoiceNumber": 5001,
            "amount": {"subTotal": "150.00", "total": "172.50", "balance": "72.50", "discount": "0.00"},
        }
    }
    money = mapping.money(obj)
    assert (money.price, money.paid, money.fully_paid, money.reference) == ("172.50", "100.00", False, "5001")
    assert mapping.money({"payment": {"amount": {"total": "10.00", "balance": "0.00"}}}).fully_paid is True
    assert mapping.money({}) is None and mapping.money({"payment": {"amount": {"total": "x"}}}) is None


def test_the_invoice_comes_down_and_turns_paid_once_when_paid_in_the_cloud(branch, running):  # noqa: F811
    """The invoice amounts of a booking awaiting payment (contract "Objects": ``payment.amount``)
    show as the booking's price and paid; paid online (the simulation's ``/_sim`` surface over
    HTTP) it shows paid in the cloud, once, however often the branch pulls."""
    import httpx

    from app.server.payments import Payments

    unpaid = unpaid_booking(running.cloud)
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.local_id("ehjzny", unpaid["id"])
    payments = Payments(branch.service)
    total = round(float(unpaid["payment"]["amount"]["total"]) * 100)
    figures = payments.figures(local, parts=True)
    assert (figures["price"], figures["priceSource"], figures["paid"], figures["balance"]) == (
        total,
        "cloud",
        0,
        total,
    )
    reply = httpx.post(f"{running.url}/_sim/bookings/{unpaid['id']}/pay")
    assert reply.status_code == 200, reply.text
    for _ in range(2):
        run(branch, lambda: branch.engine.sync_once(deadline=10))
        figures = payments.figures(local, parts=True)
        assert (figures["paidCloud"], figures["paidLocal"], figures["balance"], figures["cloud"]) == (
            total,
            0,
            0,
            "ehjzny",
        )
        assert figures["cloudFullyPaid"] is True
