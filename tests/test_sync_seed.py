"""The sync engine against a simulated cloud that follows the seed and the contract only
(``shared/contracts/ehjzny.md`` "Shapes the seed lost"), not the connector's habits:
time rules in the contract's shape (and unreadable ones), a resource chosen through
``resourceFilters`` and moved by the cloud, lost replies of creates and reschedules found by
natural key, failed look-ups, and queue order by millisecond ``createdAt``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.clock import from_iso
from app.domain.model import Status
from tests.clouds.ehjzny.rules import SimClock
from tests.test_sync_engine import Branch, cloud_for_tests, run, work_days


@pytest.fixture
def running():
    with cloud_for_tests() as cloud:
        yield cloud


@pytest.fixture
def branch(running, tmp_path):
    b = Branch(running, tmp_path)
    run(b, lambda: b.engine.sync_once(deadline=10))
    yield b
    b.close()


def desk_made(cloud, customer: str = "cusHuda") -> list[dict]:
    return [b for b in cloud.bookings.values() if not b["id"].startswith("bk") and b["customerId"] == customer]


# ---- time rules -----------------------------------------------------------------------------
def test_time_rules_in_the_contract_shape_give_free_times(branch):
    day = work_days(1)[0]
    times = branch.service.free_times("typeGeneral", day, "resAhmed", step=60)
    assert [t["time"] for t in times][:4] == [900, 1000, 1100, 1200]
    assert 1600 in [t["time"] for t in times]
    booked = branch.book(day, 1000)
    assert booked["status"] == Status.CONFIRMED


def test_unreadable_time_rules_are_unknown_not_closed(running, tmp_path, caplog):
    running.cloud.time_rules["resSara"] = {"schedule": "Sat-Thu 9-5"}  # a shape nobody agreed on
    b = Branch(running, tmp_path)
    try:
        status = run(b, lambda: b.engine.sync_once(deadline=10))
        assert status["hoursUnknown"] == ["resSara"]
        assert "cannot be read" in caplog.text
        day = work_days(1)[0]
        assert b.service.free_times("typeDental", day, "resSara", step=60)  # not closed
        booked = b.service.create({"type": "typeDental", "date": day.isoformat(), "time": 1000,
                                   "resourceId": "resSara", "customerIdentifier": {"id": b.customer("cusLina")}})
        assert booked["status"] == Status.CONFIRMED
        assert b.store.resource("resAhmed")["timeRules"]["rules"]  # the readable ones are read
    finally:
        b.close()


# ---- the desk's resource --------------------------------------------------------------------
def test_the_chosen_resource_goes_in_resource_filters_and_a_move_is_followed_and_shown(branch, running):
    day = work_days(1)[0]
    running.cloud.add_online_booking("typeGeneral", day=day, time=1000, resource_id="resAhmed", customer_id="cusLina")
    assert running.cloud.bookings  # Ahmed is taken in the cloud, the desk does not know yet
    booking = branch.book(day, 1000, resource="resAhmed")
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and status["needsAttention"] == 0
    made = desk_made(running.cloud)
    assert len(made) == 1 and made[0]["resourceId"] == "resSara"
    local = branch.store.booking(booking["id"])
    assert local["resourceId"] == "resSara" and branch.cloud_id(booking["id"]) == made[0]["id"]
    history = [h["action"] for h in branch.store.db.query("select action from history where bookingId = ?",
                                                          [booking["id"]])]
    assert "sync.moved" in history


def test_a_lost_create_reply_on_a_moved_resource_is_not_sent_again(branch, running):
    day = work_days(1)[0]
    running.cloud.add_online_booking("typeGeneral", day=day, time=1100, resource_id="resAhmed", customer_id="cusLina")
    running.cloud.faults.lose_reply(method="PUT", path="/management/scheduling")
    booking = branch.book(day, 1100, resource="resAhmed")
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    made = desk_made(running.cloud)
    assert len(made) == 1 and made[0]["resourceId"] == "resSara"
    assert status["pending"] == 0 and status["needsAttention"] == 0
    assert branch.cloud_id(booking["id"]) == made[0]["id"]
    assert branch.store.booking(booking["id"])["resourceId"] == "resSara"


# ---- lost reschedule reply ------------------------------------------------------------------
def test_a_lost_reschedule_reply_finds_the_new_booking_by_natural_key(branch, running):
    day = work_days(1)[0]
    booking = branch.book(day, 1000)
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    old = branch.cloud_id(booking["id"])
    running.cloud.faults.lose_reply(method="PUT", path="/management/scheduling")
    branch.service.reschedule(booking["id"], {"date": day.isoformat(), "time": 1200, "resourceId": "resSara"})
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.booking(booking["id"])
    assert status["pending"] == 0 and status["needsAttention"] == 0
    assert local["status"] == Status.CONFIRMED and branch.cloud_id(booking["id"]) != old
    live = [b for b in desk_made(running.cloud) if b["status"] != Status.CANCELED]
    assert [b["id"] for b in live] == [branch.cloud_id(booking["id"])]
    assert running.cloud.bookings[old]["status"] == Status.CANCELED
    # the new cloud booking did not come down as another booking: bkMorning and the desk's one
    assert len(branch.store.db.execute("select id from bookings").fetchall()) == 2


# ---- a failed look-up is not an answer ------------------------------------------------------
@pytest.mark.parametrize("kind", ["rate_limit", "fail"])
def test_a_failed_look_up_keeps_the_memory_of_a_sent_walk_in(branch, running, kind):
    running.cloud.faults.lose_reply(method="PUT", path="/management/scheduling")
    walk = branch.walk_in(customer="cusHuda")
    run(branch, lambda: branch.engine.push())
    getattr(running.cloud.faults, kind)(1, method="GET", path="/management/bookings")  # the look-up fails
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    made = desk_made(running.cloud)
    assert len(made) == 1 and branch.cloud_id(walk["id"]) == made[0]["id"]


# ---- queue order ----------------------------------------------------------------------------
def test_created_at_keeps_milliseconds_and_the_queue_follows_the_cloud(tmp_path):
    base = datetime.now(UTC).replace(microsecond=100_000)
    moments = iter([base, base + timedelta(milliseconds=500)])
    clock = SimClock()
    with cloud_for_tests(clock=clock) as running:
        b = Branch(running, tmp_path)
        try:
            run(b, lambda: b.engine.sync_once(deadline=10))
            first_at, second_at = next(moments), next(moments)
            clock._source = lambda: first_at
            first = running.cloud.customer_join_queue("cusOmar", "typeFollowUp")
            clock._source = lambda: second_at
            second = running.cloud.customer_join_queue("cusHuda", "typeFollowUp")
            assert first["createdAt"].endswith(".100Z") and second["createdAt"].endswith(".600Z")
            run(b, lambda: b.engine.sync_once(deadline=10))
            queue = b.service.queue("resAhmed")
            cloud_order = [x["id"] for x in running.cloud.queue("resAhmed")]
            assert [b.cloud_id(x["id"]) for x in queue] == cloud_order == [first["id"], second["id"]]
            assert from_iso(b.store.booking(queue[0]["id"])["createdAt"]) == from_iso(first["createdAt"])
        finally:
            b.close()
