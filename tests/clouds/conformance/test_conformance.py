"""The conformance cases, each run against every cloud (``cloud_name``): a branch server
process synced with the simulated cloud, the desk acting through the branch's HTTP API.

A case that needs a capability asks :func:`.declared.require`, and is skipped with the
connector's declaration as the reason when the connector does not have it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from .checks import Desk, assert_mirrors, assert_settled, free_slot, live_desk_made, start_of
from .declared import capability, require

# ---- initial sync ---------------------------------------------------------------------------


#: pull modes that list a branch's bookings (``none``: push plus known-customer pull)
LISTING = ("windows", "changed-since", "sync-token")


def test_initial_sync_mirrors_the_generated_clinic(harness, branch):
    status = branch.status()
    assert status["connected"] and status["online"], status
    assert_settled(status)
    mirrored = assert_mirrors(harness, branch)
    Desk(branch, harness.desk_pick(0))  # reference data: the booking type, resource and customer
    require(harness.name, pull_modes=LISTING)  # without a listing the generated clinic cannot come down
    assert len(mirrored) >= 10  # the generated clinic is there, not an empty branch


# ---- desk actions ---------------------------------------------------------------------------


def _book(harness, branch, n: int = 0, day_index: int = 1, nth: int = 0):
    desk = Desk(branch, harness.desk_pick(n))
    day, time_ = free_slot(branch, harness, desk, day_index, nth)
    booking = branch.book(desk.type, day, time_, desk.resource, desk.customer)
    return desk, booking


def test_desk_create_reaches_the_cloud_once(harness, branch):
    desk, booking = _book(harness, branch, n=0)
    assert_settled(branch.settle())
    cloud_id = branch.cloud_id(booking["id"])
    assert cloud_id, branch.booking(booking["id"])
    record = harness.record(cloud_id)
    assert [r.id for r in live_desk_made(harness)] == [cloud_id]
    local = branch.booking(booking["id"])
    assert harness.same_start(record.start, start_of(local))
    assert (record.customer, record.type) == (desk.pick.customer, desk.pick.type)
    assert desk.resources.get(record.resource) == local["resourceId"]  # the cloud's choice is the desk's
    assert local["status"] in harness.local_statuses(record)
    assert_mirrors(harness, branch)


def test_desk_reschedule_moves_the_cloud_booking(harness, branch):
    desk, booking = _book(harness, branch, n=1)
    assert_settled(branch.settle())
    before = branch.cloud_id(booking["id"])
    day, time_ = free_slot(branch, harness, desk, day_index=2, nth=3)
    moved = branch.reschedule(booking["id"], day, time_)
    assert_settled(branch.settle())
    after = branch.cloud_id(booking["id"])
    record = harness.record(after)
    assert harness.same_start(record.start, start_of(moved)) and not record.canceled
    if capability(harness.name, "reschedule_new_id"):
        assert after != before and harness.record(before).canceled  # the old one is canceled, not left live
    else:
        assert after == before
    assert [r.id for r in live_desk_made(harness)] == [after]
    assert branch.booking(booking["id"])["status"] == "CONFIRMED"
    assert_mirrors(harness, branch)


def test_desk_cancel_cancels_in_the_cloud(harness, branch):
    _, booking = _book(harness, branch, n=2)
    assert_settled(branch.settle())
    cloud_id = branch.cloud_id(booking["id"])
    branch.cancel(booking["id"], "patient called")
    assert_settled(branch.settle())
    assert harness.record(cloud_id).canceled
    assert branch.booking(booking["id"])["status"] == "CANCELED"
    assert not live_desk_made(harness)


def test_a_desk_walk_in_joins_the_cloud_queue(harness, branch):
    require(harness.name, "queue", "walk_ins")
    desk = Desk(branch, harness.desk_pick(3))
    walk_in = branch.walk_in(desk.type, desk.customer)
    assert_settled(branch.settle())
    cloud_id = branch.cloud_id(walk_in["id"])
    assert cloud_id, branch.booking(walk_in["id"])
    assert harness.record(cloud_id).queued
    assert [r.id for r in live_desk_made(harness)] == [cloud_id]


def test_desk_accept_assigns_the_queue_booking_in_the_cloud(harness, branch):
    require(harness.name, "queue")
    desk = Desk(branch, harness.desk_pick(3))
    cloud_id = harness.join_queue(harness.desk_pick(19))  # a customer joined the queue online
    assert_settled(branch.settle())
    local_id = branch.by_cloud_id()[cloud_id][0]["id"]
    assert branch.booking(local_id)["status"] == "PENDING_ASSIGNMENT"
    branch.accept(local_id, desk.resource)
    assert_settled(branch.settle())
    now_id = branch.cloud_id(local_id)
    record = harness.record(now_id)
    assert not record.queued and record.resource == desk.pick.resource, record
    local = branch.booking(local_id)
    assert local["status"] == "CONFIRMED" and local["resourceId"] == desk.resource
    assert not live_desk_made(harness) or [r.id for r in live_desk_made(harness)] == [now_id]


def test_another_branch_accepting_first_is_taken_from_the_cloud(harness, branch):
    require(harness.name, "queue")
    desk = Desk(branch, harness.desk_pick(4))
    cloud_id = harness.join_queue(harness.desk_pick(5))
    assert_settled(branch.settle())
    local_id = branch.by_cloud_id()[cloud_id][0]["id"]
    harness.accept_elsewhere(cloud_id, desk.pick.other_resource)
    branch.accept(local_id, desk.resource)
    status = branch.settle()
    assert status["pending"] == 0
    record = harness.record(branch.cloud_id(local_id) or cloud_id)
    local = branch.booking(local_id)
    assert record.resource == desk.pick.other_resource  # the first accept won in the cloud
    assert local["resourceId"] == desk.resources[desk.pick.other_resource]  # and the branch took it
    cases = branch.attention()
    assert [c["bookingId"] for c in cases] == [local_id]  # staff see that their accept lost
    branch.call("POST", f"/sync/attention/{cases[0]['id']}/resolve", {"resolution": "accept-cloud"})
    assert_settled(branch.settle())
    assert branch.booking(local_id)["resourceId"] == desk.resources[desk.pick.other_resource]


def _arrived(harness, branch, n: int, *actions: str):
    """A booking that began minutes ago (made in the cloud for pick ``n``), pulled, then
    the desk's ``actions`` on it; returns (cloud id, local id)."""
    cloud_id = harness.started_booking(harness.desk_pick(n))
    assert_settled(branch.settle())
    local_id = branch.by_cloud_id()[cloud_id][0]["id"]
    for action in actions:
        branch.visit(action, local_id)
    return cloud_id, local_id


def test_desk_check_in_reaches_the_cloud(harness, branch):
    require(harness.name, "attendances")
    cloud_id, local_id = _arrived(harness, branch, 16, "checkin")
    assert_settled(branch.settle())
    assert harness.record(cloud_id).checked_in
    assert branch.booking(local_id)["visitStatus"] == "CHECKED_IN"


def test_desk_end_reaches_the_cloud(harness, branch):
    require(harness.name, "end_early")
    cloud_id, local_id = _arrived(harness, branch, 17, "checkin", "start", "end")
    assert_settled(branch.settle())
    now_id = branch.cloud_id(local_id)
    assert harness.record(now_id).ended, harness.record(now_id)
    assert branch.booking(local_id)["visitStatus"] == "COMPLETED"


def test_desk_no_show_reaches_the_cloud(harness, branch):
    require(harness.name, "visit_status_push")
    cloud_id, local_id = _arrived(harness, branch, 18, "noshow")
    assert_settled(branch.settle())
    assert harness.record(cloud_id).no_show
    assert branch.booking(local_id)["visitStatus"] == "NO_SHOW"


# ---- cloud-side changes ---------------------------------------------------------------------


def _initial_in_scope(harness, count: int):
    """``count`` bookings of the generated clinic, confirmed, starting tomorrow or later."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    found = sorted(
        (
            r
            for r in harness.records().values()
            if r.id in harness.initial
            and harness.in_scope(r)
            and not r.canceled
            and not r.queued
            and r.start
            and r.start > tomorrow
            and r.status in ("CONFIRMED", "Confirmed", "accepted")
        ),
        key=lambda r: (r.start, r.id),
    )
    assert len(found) >= count, found
    return found[:count]


def test_cloud_side_changes_are_pulled(harness, branch):
    desk = Desk(branch, harness.desk_pick(6))
    day, time_ = free_slot(branch, harness, desk, day_index=1, nth=2)
    online = harness.online_booking(desk.pick, harness.local_start(day, time_))
    canceled, moved = _initial_in_scope(harness, 2)
    harness.cloud_cancel(canceled.id)
    # a free time of the moved booking's own type and resource (a cloud whose resources serve
    # different types has none of another type's there)
    moved_desk = Desk(branch, replace(harness.desk_pick(6), type=moved.type, resource=moved.resource))
    to_day, to_time = free_slot(branch, harness, moved_desk, day_index=3, nth=5)
    moved_id = harness.cloud_move(moved.id, harness.local_start(to_day, to_time))
    assert_settled(branch.settle())
    mirrored = assert_mirrors(harness, branch)
    assert mirrored[online]["status"] in harness.local_statuses(harness.record(online))
    assert mirrored[canceled.id]["status"] == "CANCELED"
    assert harness.same_start(start_of(mirrored[moved_id]), harness.local_start(to_day, to_time))
    if moved_id != moved.id:  # the move made a new booking: the old one is canceled, not left live
        assert mirrored.get(moved.id, {"status": "CANCELED"})["status"] == "CANCELED"


def test_a_booking_deleted_in_the_cloud_leaves_the_branch(harness, branch):
    require(harness.name, pull_modes=LISTING)
    gone = _initial_in_scope(harness, 1)[0]
    local_id = branch.by_cloud_id()[gone.id][0]["id"]
    harness.cloud_delete(gone.id)
    assert_settled(branch.settle())
    answer = branch.call("GET", f"/management/bookings/{local_id}", ok=False)
    assert answer.status_code == 404 or answer.json()["result"]["status"] == "CANCELED", answer.text
    assert_mirrors(harness, branch)


# ---- faults ---------------------------------------------------------------------------------


def test_a_lost_create_reply_never_doubles(harness, branch):
    method, path = harness.create_call
    harness.faults.lose_reply(method=method, path=path)
    _, booking = _book(harness, branch, n=7)
    assert_settled(branch.settle())
    made = live_desk_made(harness)
    assert [r.id for r in made] == [branch.cloud_id(booking["id"])]
    assert_mirrors(harness, branch)


def test_a_lost_reschedule_reply_never_doubles(harness, branch):
    desk, booking = _book(harness, branch, n=8)
    assert_settled(branch.settle())
    method, path = harness.reschedule_call(branch.cloud_id(booking["id"]))
    harness.faults.lose_reply(method=method, path=path)
    day, time_ = free_slot(branch, harness, desk, day_index=2, nth=4)
    moved = branch.reschedule(booking["id"], day, time_)
    assert_settled(branch.settle())
    made = live_desk_made(harness)
    assert [r.id for r in made] == [branch.cloud_id(booking["id"])]
    assert harness.same_start(made[0].start, start_of(moved))
    assert_mirrors(harness, branch)


FAULTS = {
    "5xx": lambda f, method, path: f.fail(2, method=method, path=path),
    "429": lambda f, method, path: f.rate_limit(2, retry_after=1, method=method, path=path),
    "dropped": lambda f, method, path: f.drop(2, method=method, path=path),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_transient_failures_of_a_write_are_retried(harness, branch, fault):
    method, path = harness.create_call
    FAULTS[fault](harness.faults, method, path)
    _, booking = _book(harness, branch, n=9 + sorted(FAULTS).index(fault))
    assert_settled(branch.settle())
    assert [r.id for r in live_desk_made(harness)] == [branch.cloud_id(booking["id"])]
    assert not harness.faults.rules()  # both faults were met: the write was retried past them


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_transient_failures_of_a_pull_are_retried(harness, branch, fault):
    desk = Desk(branch, harness.desk_pick(12 + sorted(FAULTS).index(fault)))
    day, time_ = free_slot(branch, harness, desk, day_index=1, nth=6)
    online = harness.online_booking(desk.pick, harness.local_start(day, time_))
    FAULTS[fault](harness.faults, "GET", None)
    assert_settled(branch.settle())
    assert online in branch.by_cloud_id()
    assert not harness.faults.rules()


def test_a_reply_slower_than_the_timeout_is_retried(harness, branch):
    """One listing call answers only after ``slow_reply_ms`` (far beyond the connector's
    15 s HTTP timeout): the branch gives up on it, asks again and has the change long
    before that reply would have come."""
    desk = Desk(branch, harness.desk_pick(15))
    day, time_ = free_slot(branch, harness, desk, day_index=1, nth=7)
    online = harness.online_booking(desk.pick, harness.local_start(day, time_))
    method, path = harness.list_call
    harness.faults.add("latency", ms=harness.slow_reply_ms, count=1, method=method, path=path)
    began = time.monotonic()
    assert_settled(branch.settle(timeout=harness.slow_reply_ms / 1000))
    assert online in branch.by_cloud_id()
    assert not harness.faults.rules()  # the slow reply was met
    assert time.monotonic() - began < harness.slow_reply_ms / 1000 * 0.7, (
        "the branch waited for the slow reply"
    )
    assert_mirrors(harness, branch)


def test_an_expired_cursor_restarts_the_listing(fresh, new_branch):
    harness = fresh
    if harness.cursor is None:
        caps = capability(harness.name, "pull_mode")
        pytest.skip(
            f"{harness.name} declares pull_mode = {caps!r} and its simulated cloud pages without a "
            "cursor that can expire"
        )
    branch = new_branch(harness, page_limit=5).start()
    assert_settled(branch.settle())
    desk = Desk(branch, harness.desk_pick(5))
    day, time_ = free_slot(branch, harness, desk, day_index=1, nth=1)
    online = harness.online_booking(desk.pick, harness.local_start(day, time_))
    harness.arm_cursor_expiry()
    assert_settled(branch.settle())
    assert harness.cursor_expiries() >= 1  # a listing met its expired cursor
    assert online in branch.by_cloud_id()
    assert_mirrors(harness, branch)


# ---- the command line -----------------------------------------------------------------------


def test_sync_once_asks_the_running_server_and_waits_for_it(fresh, new_branch):
    """``sync --once`` beside a running server asks that server to sync (``POST /sync/now``)
    and reports as a run of its own would: exit 0 once nothing is pending."""
    harness, branch = fresh, new_branch(fresh).start()
    assert_settled(branch.settle())
    harness.faults.drop(count=None)  # the line is down
    _, booking = _book(harness, branch)
    branch.call("POST", "/sync/now")
    assert branch.status()["pending"] == 1
    harness.faults.clear()
    done = branch.sync_once()
    assert done.returncode == 0, done.stdout + done.stderr
    made = live_desk_made(harness)
    assert [r.id for r in made] == [branch.cloud_id(booking["id"])]
    assert_settled(branch.status())


# ---- money ----------------------------------------------------------------------------------


def test_a_payment_made_in_the_cloud_shows_on_the_desk_once(harness, branch):
    """A cloud that declares ``payments_down``: a booking paid in the cloud shows the cloud's
    paid on the desk (the booking's ``paidCloud``), once, also after more pulls."""
    require(harness.name, "payments_down", pull_modes=LISTING)
    desk = Desk(branch, harness.desk_pick(7))
    day, time_ = free_slot(branch, harness, desk, day_index=2, nth=4)
    cloud_id = harness.priced_unpaid(desk.pick, harness.local_start(day, time_))
    assert cloud_id, f"{harness.name}: the simulated clinic has no priced, unpaid booking"
    assert_settled(branch.settle())
    local_id = branch.by_cloud_id()[cloud_id][0]["id"]
    assert branch.booking(local_id)["paidCloud"] == 0
    expected = harness.cloud_payment(cloud_id)
    assert expected > 0
    for _ in range(2):
        assert_settled(branch.settle())
        booking = branch.booking(local_id)
        assert (booking["paidCloud"], booking["paidLocal"], booking["cloud"]) == (
            expected,
            0,
            harness.name,
        ), booking
        assert booking["paid"] == expected and booking["balance"] == booking["price"] - expected
