"""The sync engine against a simulated cloud that follows the API reference and the contract only
(``docs/clouds/ehjzny.md`` "Shapes the reference lost"), not the connector's habits:
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
from tests.clouds.ehjzny.sample import BOOKING_IDS
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
    return [b for b in cloud.bookings.values() if b["id"] not in BOOKING_IDS and b["customerId"] == customer]


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
        booked = b.service.create(
            {
                "type": "typeDental",
                "date": day.isoformat(),
                "time": 1000,
                "resourceId": "resSara",
                "customerIdentifier": {"id": b.customer("cusLina")},
            }
        )
        assert booked["status"] == Status.CONFIRMED
        assert b.store.resource("resAhmed")["timeRules"]["rules"]  # the readable ones are read
    finally:
        b.close()


# ---- the desk's resource --------------------------------------------------------------------
def test_the_chosen_resource_goes_in_resource_filters_and_a_move_is_followed_and_shown(branch, running):
    day = work_days(1)[0]
    running.cloud.add_online_booking(
        "typeGeneral", day=day, time=1000, resource_id="resAhmed", customer_id="cusLina"
    )
    assert running.cloud.bookings  # Ahmed is taken in the cloud, the desk does not know yet
    booking = branch.book(day, 1000, resource="resAhmed")
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and status["needsAttention"] == 0
    made = desk_made(running.cloud)
    assert len(made) == 1 and made[0]["resourceId"] == "resSara"
    local = branch.store.booking(booking["id"])
    assert local["resourceId"] == "resSara" and branch.cloud_id(booking["id"]) == made[0]["id"]
    history = [
        h["action"]
        for h in branch.store.db.query("select action from history where bookingId = ?", [booking["id"]])
    ]
    assert "sync.moved" in history


def test_a_lost_create_reply_on_a_moved_resource_is_not_sent_again(branch, running):
    day = work_days(1)[0]
    running.cloud.add_online_booking(
        "typeGeneral", day=day, time=1100, resource_id="resAhmed", customer_id="cusLina"
    )
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


# ---- every local change reaches the cloud ---------------------------------------------------
def offline_book(b: Branch, day, time: int, resource: str = "resAhmed", customer: str = "cusOmar") -> dict:
    """A booking made while the branch had no cloud connection (no outbox row)."""
    b.service.listeners.remove(b.engine.outbox.listener)
    try:
        return b.book(day, time, resource=resource, customer=customer)
    finally:
        b.service.listeners.append(b.engine.outbox.listener)


def _api(branch):
    """The branch's real HTTP app (roles, errors) with the sync routes of ``branch``'s engine."""
    from app.composition.sync_routes import make_router
    from app.server.api import create_app

    api = create_app(branch.service)
    api.include_router(make_router(branch.engine))
    return api


def _manager(api) -> dict:
    return {"Authorization": f"Bearer {api.state.desks.local_token}"}


def test_bookings_made_before_connecting_are_uploaded_when_staff_agree(branch, running):
    from fastapi.testclient import TestClient

    day = work_days(2)[1]
    first, second = offline_book(branch, day, 1000), offline_book(branch, day, 1100, resource="resSara")
    assert branch.engine.status()["pending"] == 0  # nothing would ever reach the cloud by itself
    api = _api(branch)
    with TestClient(api, base_url="http://127.0.0.1") as http:
        answer = http.post("/sync/upload-local", headers=_manager(api)).json()["result"]
    assert answer["queued"] == 2
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and status["needsAttention"] == 0
    made = {b["id"]: b for b in desk_made(running.cloud, "cusOmar")}
    assert set(made) == {branch.cloud_id(first["id"]), branch.cloud_id(second["id"])}
    assert made[branch.cloud_id(second["id"])]["resourceId"] == "resSara"
    assert branch.engine.upload_local() == 0  # nothing twice


def test_the_demo_clinic_is_not_uploaded(branch):
    from fastapi.testclient import TestClient

    with branch.store.transaction():
        branch.store.set_cloud_id("demo-local", "demo", "demo-cloud")
    api = _api(branch)
    with TestClient(api, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        answer = http.post("/sync/upload-local", headers=_manager(api))
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "SYNC-DEMO-DATA"


def test_a_change_to_a_booking_the_cloud_never_had_creates_it_first(branch, running):
    day = work_days(2)[1]
    booking = offline_book(branch, day, 1000)
    branch.service.reschedule(booking["id"], {"date": day.isoformat(), "time": 1200})
    gone = offline_book(branch, day, 1600)
    branch.service.cancel(gone["id"], "ill")
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.booking(booking["id"])
    assert status["pending"] == 0 and status["needsAttention"] == 0
    assert local["status"] == Status.CONFIRMED
    made = desk_made(running.cloud, "cusOmar")
    assert [b["id"] for b in made] == [branch.cloud_id(booking["id"])]  # the canceled one never went
    assert from_iso(made[0]["startDateTime"]) == from_iso(local["startDateTime"])


def test_a_hold_goes_to_scheduling_temporary_and_its_confirmation_to_confirm(branch, running):
    day = work_days(1)[0]
    held = branch.service.hold(
        {
            "type": "typeGeneral",
            "date": day.isoformat(),
            "time": 1000,
            "resourceId": "resAhmed",
            "reservedForMinutes": 10,
            "customerIdentifier": {"id": branch.customer("cusHuda")},
        }
    )
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    cloud_id = branch.cloud_id(held["id"])
    assert cloud_id and running.cloud.bookings[cloud_id].get("_reservedUntil")  # held in the cloud
    branch.service.confirm(held["id"])
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    record = running.cloud.bookings[cloud_id]
    assert record["status"] == Status.CONFIRMED and not record.get("_reservedUntil")
    branch.service.cancel(held["id"], "changed plans")
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["needsAttention"] == 0 and running.cloud.bookings[cloud_id]["status"] == Status.CANCELED
    assert branch.store.booking(held["id"])["status"] == Status.CANCELED


def test_a_time_rule_edit_is_pushed_in_the_contract_shape(branch, running):
    edited = {
        "depthOfDays": 14,
        "scheduleAfterHoursFromNow": 0,
        "offRules": [],
        "rules": [{"days": ["sun", "mon"], "from": 800, "to": 1400}],
    }
    with branch.store.transaction():  # what PUT /management/resources/{id}/timeRules does
        branch.store.upsert("resources", [{**branch.store.resource("resAhmed"), "timeRules": edited}])
        for listener in branch.service.time_rule_listeners:
            listener("resAhmed", edited)
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0
    assert running.cloud.time_rules["resAhmed"]["rules"] == [
        {"weekDays": [0, 1], "times": [{"from": 800, "to": 1400}]}
    ]
    run(branch, lambda: branch.engine.pull(horizon=True))  # the next pull does not undo it
    rules = branch.store.resource("resAhmed")["timeRules"]["rules"]
    assert [(sorted(r["days"]), r["from"], r["to"]) for r in rules] == [(["mon", "sun"], 800, 1400)]


def test_a_rotated_refresh_token_survives_a_restart(running, tmp_path):
    import httpx

    from app.sync import connection
    from app.sync.engine import SyncEngine

    running.cloud.rotate_refresh_tokens = True
    base = {"X-APP-ID": running.app_id}
    login = {"method": "sms", "phoneNumber": "+966511111111", "isOrgMember": True}
    httpx.post(running.url + "/auth/otp/request", json=login, headers=base)
    tokens = httpx.post(
        running.url + "/auth/otp/verify", json={**login, "code": "1234"}, headers=base
    ).json()["result"]
    b = Branch(running, tmp_path)
    try:
        config = connection.CloudConfig(running.url, running.app_id, tokens["refreshToken"], auth="otp")
        connection.connect(b.store, config)
        b.engine = SyncEngine(b.service, connection.load_config(b.store)).attach()
        assert run(b, lambda: b.engine.sync_once(deadline=10))["online"] is True
        assert b.engine.config.secret != tokens["refreshToken"]  # the cloud rotated it
        restarted = SyncEngine(b.service, connection.load_config(b.store))  # a new process reads it back
        b.engine = restarted
        status = run(b, lambda: restarted.sync_once(deadline=10))
        assert status["online"] is True and status["lastError"] is None
    finally:
        b.close()


def test_a_queue_booking_awaiting_payment_is_shown_in_the_queue(branch, running):
    running.cloud.payments = True
    unpaid = running.cloud.customer_join_queue("cusLina", "typeGeneral")  # priced: 150.00
    assert unpaid["status"] == Status.PENDING_PAYMENT
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.local_id("ehjzny", unpaid["id"])
    waiting = {w["id"]: w for w in branch.service.waiting()}
    assert waiting[local]["awaitingPayment"] is True and waiting[local]["status"] == Status.PENDING_PAYMENT
    assert [q["id"] for q in branch.service.queue("resAhmed") if q.get("awaitingPayment")] == [local]
