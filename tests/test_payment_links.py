"""Payment links: a cloud booking awaiting payment (Ehjzny ``PENDING_PAYMENT`` with its
``payment.paymentLink``, seed 000 "Online Payments") reaches the branch with its link, and
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
    base = {"id": "b1", "status": "PENDING_PAYMENT", "typeId": "t", "customerId": "c",
            "startDateTime": "2026-11-22T07:00:00.000Z", "endDateTime": "2026-11-22T07:20:00.000Z",
            "createdAt": "2026-11-21T07:00:00.000Z"}
    link = "https://pay.example/i/42?x=1"
    assert mapping.booking_from_cloud({**base, "payment": {"paymentLink": link}}, ZONE)["paymentLink"] == link
    for bad in ({"paymentLink": "javascript:alert(1)"}, {"paymentLink": 5}, "nope", {"paymentLink": "https://a b"},
                {"paymentLink": "https://x/" + "a" * 2000}, None):
        assert mapping.booking_from_cloud({**base, "payment": bad}, ZONE)["paymentLink"] is None
    assert mapping.booking_from_cloud(base, ZONE)["paymentLink"] is None


def test_a_booking_awaiting_payment_arrives_with_its_link_and_turns_paid(branch, running):  # noqa: F811
    unpaid = unpaid_booking(running.cloud)
    assert unpaid["status"] == Status.PENDING_PAYMENT and unpaid["payment"]["paymentLink"].startswith("https://")
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.local_id("ehjzny", unpaid["id"])
    row = branch.service.to_api(branch.store.booking(local))
    assert (row["status"], row["paymentLink"]) == (Status.PENDING_PAYMENT, unpaid["payment"]["paymentLink"])
    assert branch.store.db.execute("select source from bookings where id = ?", [local]).fetchone()[0] == "cloud"

    running.cloud.pay(unpaid["id"])
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    row = branch.store.booking(local)
    assert row["status"] == Status.CONFIRMED  # the desk's copy is paid: no QR code any more
