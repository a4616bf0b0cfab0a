"""The sync engine against the simulated Ehjzny cloud over loopback HTTP.

Named cases: an offline day (100 changes arrive once), two branches accepting the same
walk-in, a reschedule made offline, a create whose reply was lost; plus retries (5xx, 429
with Retry-After, 401 refresh), pull rules (protected fields, expired page token, deletion
by absence), the /sync routes, the secret's keyring/file fallback and ``sync --once``.
"""

from __future__ import annotations

import asyncio
import os
import stat
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from app.domain.clock import Clock, from_iso, local_date, to_iso
from app.domain.model import Status
from app.server.service import BookingService
from app.store import open_store
from app.sync.connection import CloudConfig
from app.sync.engine import SyncEngine, backoff_seconds
from tests.clinic import Authed
from tests.clouds.ehjzny import sample_clinic, start_cloud
from tests.clouds.ehjzny.sample import BOOKING_IDS

ZONE = "Asia/Riyadh"


def work_days(count: int, start: date | None = None) -> list[date]:
    """The next ``count`` working days (not Friday) from tomorrow (sample clinic hours)."""
    day = (start or local_date(Clock().now(), ZONE)) + timedelta(days=1)
    out = []
    while len(out) < count:
        if day.weekday() != 4:
            out.append(day)
        day += timedelta(days=1)
    return out


def slots(day: date) -> list[int]:
    """Military start times of 20-minute slots within the sample clinic's hours."""
    out = []
    for lo, hi in ((900, 1300), (1600, 2100)):
        minutes = lo // 100 * 60
        while minutes + 20 <= hi // 100 * 60:
            out.append(minutes // 60 * 100 + minutes % 60)
            minutes += 20
    return out


@contextmanager
def cloud_for_tests(**options):
    clinic = sample_clinic(local_date(Clock().now(), ZONE), ZONE)
    with start_cloud(clinic=clinic, **options) as running:
        yield running


class Branch:
    """A branch store + service + engine against ``running`` (a started simulated cloud)."""

    def __init__(self, running, path: Path, **engine_options):
        self.running = running
        self.store = open_store(path / "branch.sqlite3")
        self.service = BookingService(self.store)
        config = CloudConfig(running.url, running.app_id, running.api_key)
        self.engine = SyncEngine(self.service, config, **engine_options).attach()

    def customer(self, cloud_customer_id: str) -> str:
        return self.store.local_id("ehjzny", cloud_customer_id, "customer")

    def cloud_id(self, local_id: str) -> str | None:
        return self.store.cloud_ids(local_id).get("ehjzny")

    def book(
        self,
        day: date,
        time: int,
        resource: str = "resAhmed",
        customer: str = "cusHuda",
        type_: str = "typeGeneral",
    ) -> dict:
        return self.service.create(
            {
                "type": type_,
                "date": day.isoformat(),
                "time": time,
                "resourceId": resource,
                "customerIdentifier": {"id": self.customer(customer)},
            }
        )

    def walk_in(self, customer: str = "cusOmar", type_: str = "typeGeneral") -> dict:
        return self.service.create(
            {"type": type_, "assign": False, "customerIdentifier": {"id": self.customer(customer)}}
        )

    def close(self) -> None:
        self.store.close()


def run(branch_or_branches, scenario):
    """Run ``scenario()`` in a fresh loop with the engines' HTTP clients open."""
    branches = branch_or_branches if isinstance(branch_or_branches, list) else [branch_or_branches]

    async def main():
        for b in branches:
            await b.engine.open()
        try:
            return await scenario()
        finally:
            for b in branches:
                await b.engine.close()

    return asyncio.run(main())


def desk_bookings_in_cloud(cloud) -> list[dict]:
    return [b for b in cloud.bookings.values() if b["id"] not in BOOKING_IDS]


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


def test_first_sync_pulls_reference_data_and_bookings(branch, running):
    assert {r["id"] for r in branch.store.resources()} == {"resAhmed", "resSara"}
    assert branch.store.resource("resAhmed")["timeRules"]["rules"]
    assert len(branch.store.types()) == 3
    assert branch.customer("cusHuda") and branch.customer("cusLina")
    local = branch.store.local_id("ehjzny", "bkMorning")
    assert local and branch.store.booking(local)["resourceId"] == "resAhmed"
    assert branch.engine.status()["online"] is True and branch.engine.status()["lastPullAt"]


def test_offline_day_100_changes_arrive_once(branch, running):
    cloud = running.cloud
    cloud.faults.drop(count=None)  # the line is down
    made = []
    days = work_days(3)
    for i in range(50):
        day = days[i % 3]
        made.append(branch.book(day, slots(day)[i // 6], resource=("resAhmed", "resSara")[i % 2]))
    for booking in made[:25]:
        branch.service.cancel(booking["id"], "patient called")
    walk_ins = [branch.walk_in(customer=("cusHuda", "cusOmar", "cusLina")[i % 3]) for i in range(25)]
    assert branch.engine.outbox.pending_count() == 100
    status = run(branch, lambda: branch.engine.sync_once(deadline=0.5))
    assert status["online"] is False and status["pending"] == 100
    cloud.faults.clear()
    status = run(branch, lambda: branch.engine.sync_once(deadline=30))
    assert status["pending"] == 0 and status["needsAttention"] == 0
    in_cloud = desk_bookings_in_cloud(cloud)
    assert len(in_cloud) == 75  # each create once
    ids = {branch.cloud_id(b["id"]) for b in made + walk_ins}
    assert None not in ids and ids == {b["id"] for b in in_cloud}
    assert sum(b["status"] == Status.CANCELED for b in in_cloud) == 25
    assert sum(b["status"] == Status.PENDING_ASSIGNMENT for b in in_cloud) == 25


def test_two_branches_accept_the_same_walk_in(running, tmp_path):
    a, b = Branch(running, tmp_path / "a"), Branch(running, tmp_path / "b")
    run([a, b], lambda: asyncio.gather(a.engine.sync_once(deadline=10), b.engine.sync_once(deadline=10)))
    walk = running.cloud.customer_join_queue("cusLina", "typeGeneral")
    run([a, b], lambda: asyncio.gather(a.engine.pull(), b.engine.pull()))
    local_a, local_b = a.store.local_id("ehjzny", walk["id"]), b.store.local_id("ehjzny", walk["id"])
    a.service.accept(local_a, "resAhmed")
    b.service.accept(local_b, "resSara")
    run(a, lambda: a.engine.sync_once(deadline=10))
    status = run(b, lambda: b.engine.sync_once(deadline=10))
    assert running.cloud.bookings[walk["id"]]["resourceId"] == "resAhmed"
    assert status["needsAttention"] == 1 and status["pending"] == 0
    case = b.engine.outbox.attention()[0]
    assert case["code"] == "SCH-ALREADY_ASSIGNED" and case["action"] == "assign"
    assert case["desk"]["payload"]["after"]["resourceId"] == "resSara"
    assert b.store.booking(local_b)["resourceId"] == "resAhmed"  # took the cloud's state
    assert a.engine.outbox.attention_count() == 0
    a.close()
    b.close()


def test_offline_reschedule_maps_to_the_new_cloud_id(branch, running):
    day = work_days(1)[0]
    booking = branch.book(day, 1000)
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    old_cloud = branch.cloud_id(booking["id"])
    running.cloud.faults.drop(count=None)
    moved = branch.service.reschedule(booking["id"], {"date": day.isoformat(), "time": 1100})
    run(branch, lambda: branch.engine.push())
    assert branch.cloud_id(booking["id"]) == old_cloud
    running.cloud.faults.clear()
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    new_cloud = branch.cloud_id(booking["id"])
    assert status["pending"] == 0 and new_cloud != old_cloud
    assert running.cloud.bookings[old_cloud]["status"] == Status.CANCELED
    assert from_iso(running.cloud.bookings[new_cloud]["startDateTime"]) == from_iso(moved["startDateTime"])
    assert branch.store.booking(booking["id"])["startDateTime"] == moved["startDateTime"]
    # the old, canceled cloud booking never comes back as a second local booking
    run(branch, lambda: branch.engine.pull(horizon=True))
    assert branch.store.local_id("ehjzny", old_cloud) is None
    assert (
        branch.store.db.execute(
            "select count(*) from bookings where startDateTime = ?", [moved["startDateTime"]]
        ).fetchone()[0]
        == 1
    )


@pytest.mark.parametrize("kind", ["timed", "walk-in"])
def test_a_lost_reply_does_not_create_a_second_booking(branch, running, kind):
    running.cloud.faults.lose_reply(method="PUT", path="/management/scheduling")
    booking = branch.book(work_days(1)[0], 1200) if kind == "timed" else branch.walk_in()
    run(branch, lambda: branch.engine.push())
    op = branch.engine.outbox.pending()[0]
    assert op["requestedAt"] and len(desk_bookings_in_cloud(running.cloud)) == 1  # committed, reply lost
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0
    assert len(desk_bookings_in_cloud(running.cloud)) == 1
    assert branch.cloud_id(booking["id"]) == desk_bookings_in_cloud(running.cloud)[0]["id"]


def test_a_pull_recognises_an_unanswered_create(branch, running):
    running.cloud.faults.lose_reply(method="PUT")
    booking = branch.walk_in()
    run(branch, lambda: branch.engine.push())
    run(branch, lambda: branch.engine.pull())
    assert branch.engine.outbox.pending_count() == 0
    assert branch.cloud_id(booking["id"]) == desk_bookings_in_cloud(running.cloud)[0]["id"]
    assert (
        branch.store.db.execute(
            "select count(*) from bookings where status = 'PENDING_ASSIGNMENT'"
        ).fetchone()[0]
        == 1
    )


def test_transient_failures_are_retried_with_backoff_and_retry_after(branch, running):
    running.cloud.faults.rate_limit(retry_after=1, method="PUT")
    booking = branch.walk_in()
    run(branch, lambda: branch.engine.push())
    op = branch.engine.outbox.pending()[0]
    wait = (from_iso(op["nextAttemptAt"]) - branch.engine.now()).total_seconds()
    assert 0 <= wait <= 1.01 and "429" in op["lastError"]
    running.cloud.faults.fail(2, method="PUT")

    async def until_sent():
        for _ in range(100):
            await branch.engine.push()
            if not branch.engine.outbox.pending_count():
                return True
            await asyncio.sleep(0.1)
        return False

    assert run(branch, until_sent)
    assert branch.cloud_id(booking["id"])
    # uniform(0.5, 1) × min(60, 0.5 × 2^(n-1)): the 7th retry waits 16–32 s, never more than the cap
    assert backoff_seconds(1) <= 0.5 and backoff_seconds(3, 2.0) == 2.0
    assert all(16 <= backoff_seconds(7) <= 32 for _ in range(200))
    assert all(30 <= backoff_seconds(20) <= 60 for _ in range(200))


def test_an_expired_access_token_is_refreshed(running, tmp_path):
    tokens = httpx.post(
        running.url + "/auth/otp/verify",
        headers={"X-APP-ID": running.app_id},
        json={"phoneNumber": "+966511111111", "isOrgMember": True, "code": "1234"},
    )
    assert tokens.status_code == 400 or tokens.status_code == 401  # not requested yet
    httpx.post(
        running.url + "/auth/otp/request",
        headers={"X-APP-ID": running.app_id},
        json={"phoneNumber": "+966511111111", "isOrgMember": True},
    )
    tokens = httpx.post(
        running.url + "/auth/otp/verify",
        headers={"X-APP-ID": running.app_id},
        json={"phoneNumber": "+966511111111", "isOrgMember": True, "code": "1234"},
    ).json()["result"]
    b = Branch(running, tmp_path)
    b.engine.config = CloudConfig(running.url, running.app_id, tokens["refreshToken"], auth="otp")
    run(b, lambda: b.engine.sync_once(deadline=10))
    running.cloud.expire_tokens()
    booking = b.walk_in()
    status = run(b, lambda: b.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and b.cloud_id(booking["id"])
    b.close()


def test_pulled_rows_leave_unacknowledged_fields_alone(branch, running):
    local = branch.store.local_id("ehjzny", "bkMorning")
    running.cloud.faults.drop(count=None, method="POST")
    branch.service.cancel(local, "moved abroad")
    running.cloud.update_customer("cusHuda", {"note": "vip"})
    with running.cloud.lock:
        running.cloud.bookings["bkMorning"]["note"] = "from the cloud"
    run(branch, lambda: branch.engine.pull(horizon=True))
    row = branch.store.booking(local)
    assert row["status"] == Status.CANCELED and row["note"] == "from the cloud"
    running.cloud.faults.clear()
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert running.cloud.bookings["bkMorning"]["status"] == Status.CANCELED


def test_an_expired_page_token_restarts_the_listing(branch, running):
    for i, day in enumerate(work_days(2)):
        for time in slots(day)[:6]:
            running.cloud.add_online_booking(
                "typeGeneral", day=day, time=time, resource_id=("resAhmed", "resSara")[i % 2]
            )
    branch.engine.page_limit = 5
    with branch.store.transaction():
        params = branch.engine.windows(True)["horizon"]
        branch.engine._set_cursor(
            "pull", {"createdSince": None, "windows": {"horizon": {"params": params, "token": "stale-token"}}}
        )
    run(branch, lambda: branch.engine.pull(horizon=True))
    assert all(branch.store.local_id("ehjzny", b) for b in running.cloud.bookings)
    assert branch.engine._cursor("pull")["windows"]["horizon"] == {"done": True}


def test_a_booking_gone_from_the_cloud_shows_canceled_and_keeps_what_the_desk_recorded(branch, running):
    """A cloud deletion never loses the desk's record: the booking turns CANCELED with its
    payments and a history entry; one with a pending desk change waits for that change;
    one whose patient has arrived stays as it is and needs attention."""
    from app.server.payments import Payments

    day = work_days(1)[0]
    gone, kept, here = (
        running.cloud.add_online_booking("typeGeneral", day=day, time=t, resource_id="resAhmed")
        for t in (1000, 1100, 1200)
    )
    run(branch, lambda: branch.engine.pull(horizon=True))
    gone_local, kept_local, here_local = (
        branch.store.local_id("ehjzny", b["id"]) for b in (gone, kept, here)
    )

    Payments(branch.service).take(
        {"bookingId": gone_local, "amount": 5000, "method": "cash"}, {"user": "reception"}
    )
    branch.service.check_in(here_local)
    run(branch, lambda: branch.engine.push())
    assert not branch.engine.outbox.dirty_map()
    running.cloud.faults.drop(count=None, method="POST")
    branch.service.cancel(kept_local, "desk change pending")
    with running.cloud.lock:
        for b in (gone, kept, here):
            del running.cloud.bookings[b["id"]]
    run(branch, lambda: branch.engine.pull(horizon=True))
    canceled = branch.store.booking(gone_local)
    assert canceled["status"] == Status.CANCELED
    assert [p["amount"] for p in Payments(branch.service).of_booking(gone_local)] == [5000]
    assert branch.service.history(gone_local)[-1]["after"]["cloudChange"]["type"] == "deleted"
    assert branch.store.booking(kept_local)["cancelReason"] == "desk change pending"
    stays = branch.store.booking(here_local)
    assert stays["status"] == Status.CONFIRMED and stays["visitStatus"] == "CHECKED_IN"
    cases = [c for c in branch.engine.outbox.attention() if c["bookingId"] == here_local]
    assert [c["code"] for c in cases] == ["SYNC-DELETED-DURING-VISIT"]
    run(branch, lambda: branch.engine.pull(horizon=True))  # once, while it is open
    assert len([c for c in branch.engine.outbox.attention() if c["bookingId"] == here_local]) == 1


def test_sync_routes_status_attention_resolve_and_now(running, tmp_path):
    from app.composition import BranchServer

    server = BranchServer(
        tmp_path,
        cloud=CloudConfig(running.url, running.app_id, running.api_key),
        sync_options={"hot_every": 0.3},
    ).start()
    http = Authed(server)
    try:
        url = server.url
        walk = running.cloud.customer_join_queue("cusLina", "typeGeneral")
        local = _wait(lambda: server.store.local_id("ehjzny", walk["id"]))
        # the branch cannot read the cloud's bookings meanwhile, so it accepts without knowing
        running.cloud.faults.fail(count=None, method="GET", path="/management/bookings")
        running.cloud.assign(walk["id"], "resSara")  # another branch is quicker
        running.cloud.faults.drop(count=None, method="POST", path="/management/bookings/assign")
        accepted = http.post(
            url + "/management/bookings/assign", json={"bookingId": local, "resourceId": "resAhmed"}
        )
        assert accepted.status_code == 200, accepted.text
        running.cloud.faults.clear()
        http.post(url + "/sync/now")
        cases = _wait(lambda: http.get(url + "/sync/attention").json()["result"])
        assert cases[0]["code"] == "SCH-ALREADY_ASSIGNED" and cases[0]["bookingId"] == local
        status = http.get(url + "/sync/status").json()["result"]
        assert status["needsAttention"] == 1 and status["online"] is True and status["lastPullAt"]
        shown = http.get(url + f"/management/bookings/{local}").json()["result"]
        assert shown["cloudIds"] == {"ehjzny": walk["id"]} and shown["resourceId"] == "resSara"
        bad = http.post(url + f"/sync/attention/{cases[0]['id']}/resolve", json={"resolution": "maybe"})
        assert bad.status_code == 400
        done = http.post(
            url + f"/sync/attention/{cases[0]['id']}/resolve", json={"resolution": "accept-cloud"}
        )
        assert done.json()["result"]["resolution"] == "accept-cloud"
        assert http.get(url + "/sync/attention").json()["result"] == []
        again = http.post(url + f"/sync/attention/{cases[0]['id']}/resolve", json={"resolution": "reapply"})
        assert again.status_code == 404
    finally:
        server.stop()


def test_reapply_queues_the_desk_version_again(branch, running):
    day = work_days(1)[0]
    running.cloud.strict_resource_filters = True  # a deployment that refuses rather than moves
    running.cloud.add_online_booking("typeGeneral", day=day, time=1000, resource_id="resAhmed")
    running.cloud.faults.drop(count=None)
    booking = branch.book(day, 1000)  # the desk does not know the slot is gone
    running.cloud.faults.clear()
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["needsAttention"] == 1 and branch.store.booking(booking["id"])["status"] == Status.REJECTED
    case = branch.engine.outbox.attention()[0]
    assert case["code"] == "SCH-SLOT-TAKEN"
    with running.cloud.lock:  # the online booking is canceled meanwhile
        for b in running.cloud.bookings.values():
            if b.get("startDateTime") and from_iso(b["startDateTime"]) == from_iso(booking["startDateTime"]):
                b["status"] = Status.CANCELED.value
    branch.engine.resolve(case["id"], "reapply")
    assert branch.store.booking(booking["id"])["status"] == Status.CONFIRMED
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and status["needsAttention"] == 0 and branch.cloud_id(booking["id"])


def test_a_booking_the_cloud_cannot_take_stays_on_the_desk_and_needs_attention(branch, running):
    """Ehjzny books a customer by phone or e-mail: a walk-in known by name only cannot go up.
    The booking stays as the desk made it, the outbox does not stick on it (the next booking
    still goes up), and staff see why; with a phone added, re-applying sends it."""
    day = work_days(1)[0]
    now = to_iso(Clock().now())
    nameless = {
        "id": "cusLocalOnly",
        "firstName": "Salma",
        "lastName": "Nour",
        "phone": None,
        "email": None,
        "createdAt": now,
        "searchText": "salma nour",
        "customerNumber": 9001,
    }
    with branch.store.transaction():
        branch.store.upsert("customers", [nameless])
    stuck = branch.service.create(
        {
            "type": "typeGeneral",
            "date": day.isoformat(),
            "time": 1000,
            "resourceId": "resAhmed",
            "customerIdentifier": {"id": "cusLocalOnly"},
        }
    )
    other = branch.book(day, 1100)
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and status["needsAttention"] == 1
    assert branch.cloud_id(other["id"]) is not None  # the queue did not stop behind it
    assert branch.cloud_id(stuck["id"]) is None
    assert branch.store.booking(stuck["id"])["status"] == Status.CONFIRMED  # not rejected: the visit stands
    case = branch.engine.outbox.attention()[0]
    assert case["bookingId"] == stuck["id"] and case["code"] == "SYNC-NOT-SENT"
    assert "phone" in case["message"] and "e-mail" in case["message"]
    with branch.store.transaction():
        branch.store.upsert("customers", [{**nameless, "phone": "+966551230000"}])
    branch.engine.resolve(case["id"], "reapply")
    status = run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert status["pending"] == 0 and status["needsAttention"] == 0
    cloud_id = branch.cloud_id(stuck["id"])
    assert cloud_id and from_iso(running.cloud.bookings[cloud_id]["startDateTime"]) == from_iso(
        stuck["startDateTime"]
    )


def test_secret_falls_back_to_a_private_file_without_keyring(monkeypatch, tmp_path):
    from app.sync import connection

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    import keyring
    import keyring.backends.fail

    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    where = connection.save_secret("app@http://x", "s3cret")
    assert where.startswith("file:")
    path = Path(where[5:])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert connection.load_secret("app@http://x") == ("s3cret", where)
    store = open_store(tmp_path / "b.sqlite3")
    assert connection.connect(store, CloudConfig("http://x/", "app", "s3cret")).startswith("file:")
    assert "s3cret" not in str(store.setting(connection.SETTING_KEY))
    monkeypatch.delenv(connection.ENV_KEY, raising=False)
    config = connection.load_config(store)
    assert (config.base_url, config.app_id, config.secret) == ("http://x", "app", "s3cret")
    store.close()


def test_sync_once_command_exit_status(running, tmp_path, monkeypatch, capsys):
    from app.composition.sync_cli import main

    monkeypatch.setenv("ISTIQBAL_CLOUD_KEY", running.api_key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert (
        main(
            [
                "sync",
                "--data-dir",
                str(tmp_path),
                "--cloud",
                "ehjzny",
                "--cloud-url",
                running.url,
                "--app-id",
                running.app_id,
                "--once",
            ]
        )
        == 0
    )
    assert main(["sync", "--data-dir", str(tmp_path), "--once"]) == 0  # the connection is remembered
    running.cloud.faults.drop(count=None)
    store = open_store(tmp_path / "branch.sqlite3")
    b = BookingService(store)
    from app.sync.engine import SyncEngine as Engine

    Engine(b, CloudConfig(running.url, running.app_id, running.api_key)).attach()
    b.create(
        {
            "type": "typeGeneral",
            "assign": False,
            "customerIdentifier": {"id": store.local_id("ehjzny", "cusHuda", "customer")},
        }
    )
    store.close()
    assert main(["sync", "--data-dir", str(tmp_path), "--once", "--deadline", "0.5"]) == 2
    running.cloud.faults.clear()
    assert main(["sync", "--data-dir", str(tmp_path), "--once"]) == 0
    assert "pending" in capsys.readouterr().out


def _wait(probe, timeout: float = 30.0):
    """Poll ``probe`` until truthy (returned). Generous: a loaded 2-core machine runs the
    branch's sync several times slower; a passing wait returns at once."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


__all__ = ["Branch", "cloud_for_tests", "desk_bookings_in_cloud", "run", "slots", "work_days", "to_iso"]
