"""Several desks live on one branch server over real sockets: races, live event streams,
replay after a server restart, temporary holds, early ends offering the freed time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.client import ApiError, DeskClient, pair
from app.server.api import create_app
from app.server.lan import lan_listener
from app.server.runner import ServerThread
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, clock_at, fill


class Branch:
    """A branch server on a data dir that can be stopped and started again."""

    def __init__(self, data_dir, lan_host: str | None = None):
        self.data_dir, self.lan_host, self.clock = data_dir, lan_host, clock_at(1000)
        self.thread = None

    def start(self) -> Branch:
        self.store = open_store(self.data_dir / "branch.sqlite3")
        if self.store.is_empty():
            fill(self.store)
        self.service = BookingService(self.store, self.clock)
        api = create_app(self.service)
        extra = [lan_listener(api, self.data_dir, self.lan_host, 0)] if self.lan_host else []
        self.thread = ServerThread(api, "127.0.0.1", 0, extra=extra).start()
        self.token = api.state.desks.local_token
        return self

    def stop(self) -> None:
        self.thread.stop()
        self.store.close()


@pytest.fixture
def branch(tmp_path):
    b = Branch(tmp_path).start()
    yield b
    b.stop()


def run(coro):
    return asyncio.run(coro)


async def collect(
    client: DeskClient,
    into: list,
    last_event_id=None,
    types=("booking.changed", "queue.changed", "slot.freed"),
):
    async for event in client.events(last_event_id=last_event_id):
        if event["type"] in types:
            into.append(event)


async def until(predicate, timeout=5.0):
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for events")


def test_two_desks_racing_for_one_slot_one_wins_the_other_is_told(branch):
    async def scenario():
        a = DeskClient(branch.thread.url, token=branch.token, desk_id="a")
        b = DeskClient(branch.thread.url, token=branch.token, desk_id="b")
        try:
            return await asyncio.gather(
                a.book("gen", "c1", DAY, 1100, "dr-sara"),
                b.book("gen", "c2", DAY, 1110, "dr-sara"),
                return_exceptions=True,
            )
        finally:
            await a.aclose()
            await b.aclose()

    results = run(scenario())
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, ApiError)]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].status == 409 and losses[0].code == "SCH-SLOT-TAKEN" and losses[0].message
    assert branch.store.db["bookings"].count == 1


def test_provider_accepts_from_its_queue_while_reception_books_walk_ins_both_live(tmp_path):
    b = Branch(tmp_path, lan_host="127.0.0.2")
    try:
        b.start()
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")

    async def scenario():
        reception = DeskClient(b.thread.urls[0], token=b.token, desk_id="reception")
        code = (await reception.pairing_code(role="provider", resource_ids=["dr-omar"]))["code"]
        creds = await pair(b.thread.urls[1], code, "Dr. Omar's room", "provider", ["dr-omar"])
        provider = DeskClient(b.thread.urls[1], token=creds["token"], fingerprint=creds["fingerprint"])
        seen_r, seen_p = [], []
        tasks = [
            asyncio.create_task(collect(reception, seen_r)),
            asyncio.create_task(collect(provider, seen_p)),
        ]
        try:
            await asyncio.sleep(0.3)
            first = await reception.walk_in("gen", "c1")
            second = await reception.walk_in("gen", "c2")
            dental = await reception.walk_in("dental", "c3")  # dr-omar does not serve dental
            await until(lambda: sum(e["type"] == "booking.changed" for e in seen_p) >= 2)
            queue = await provider.queue("dr-omar")
            accepted = await provider.accept(queue[0]["id"], "dr-omar")
            walk = await reception.walk_in("gen", "c4")  # reception keeps booking meanwhile
            await until(lambda: any(e["data"].get("action") == "accept" for e in seen_r))
            await until(
                lambda: any(
                    e["type"] == "booking.changed" and e["data"]["booking"]["id"] == walk["id"]
                    for e in seen_p
                )
            )
            return first, second, dental, accepted, seen_r, seen_p
        finally:
            for task in tasks:
                task.cancel()
            await reception.aclose()
            await provider.aclose()

    try:
        first, second, dental, accepted, seen_r, seen_p = run(scenario())
    finally:
        b.stop()
    assert accepted["id"] == first["id"] and accepted["status"] == "CONFIRMED"
    # the provider saw its walk-ins with names (no refetch needed) but not the dental one
    booked = [e["data"]["booking"] for e in seen_p if e["type"] == "booking.changed"]
    assert booked[0]["customer"]["firstName"] == "أحمد" and booked[0]["type"]["minutes"] == 20
    assert dental["id"] not in {x["id"] for x in booked}
    # queue events carry the new positions: after the accept the second walk-in is first
    after_accept = [e for e in seen_r if e["type"] == "queue.changed" and e["data"]["reason"] == "accept"][0]
    omar = after_accept["data"]["queues"]["dr-omar"]
    assert omar[0] == {
        "bookingId": second["id"],
        "queuePosition": 1,
        "estimatedWaitMinutes": 20,
        "bestPosition": 1,
        "bestWaitMinutes": 20,
    }
    provider_queues = [e["data"]["queues"] for e in seen_p if e["type"] == "queue.changed"]
    assert provider_queues and all(set(q) == {"dr-omar"} for q in provider_queues)
    ids = [e["id"] for e in seen_r]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_a_desk_reconnecting_after_a_server_restart_misses_no_event(tmp_path):
    b = Branch(tmp_path).start()

    async def first_session():
        desk = DeskClient(b.thread.url, token=b.token)
        seen = []
        task = asyncio.create_task(collect(desk, seen))
        try:
            await asyncio.sleep(0.3)
            walk = await desk.walk_in("gen", "c1")
            await until(lambda: len(seen) >= 1)
            return walk, seen[-1]["id"]
        finally:
            task.cancel()
            await desk.aclose()

    walk, last_seen = run(first_session())
    # changes the desk does not see: one before the restart, two after it
    b.service.accept(walk["id"], "dr-omar", {"deskId": "other"})
    b.stop()
    b.start()
    b.service.start(walk["id"], {"deskId": "other"})
    booked = b.service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def second_session():
        desk = DeskClient(b.thread.url, token=b.token)
        seen = []
        task = asyncio.create_task(collect(desk, seen, last_event_id=last_seen, types=("booking.changed",)))
        try:
            await until(lambda: len(seen) >= 3)
            await asyncio.sleep(0.2)
            return seen
        finally:
            task.cancel()
            await desk.aclose()

    try:
        seen = run(second_session())
    finally:
        b.stop()
    assert [e["data"]["action"] for e in seen] == ["accept", "start", "create"]
    assert seen[-1]["data"]["booking"]["id"] == booked["id"]
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == 3 and ids[0] > last_seen


def test_temporary_hold_keeps_the_slot_then_confirms_or_lapses(branch):
    service = branch.service
    body = {
        "type": "gen",
        "date": DAY.isoformat(),
        "time": 1100,
        "resourceId": "dr-sara",
        "customerIdentifier": {"id": "c1"},
    }

    async def scenario():
        desk = DeskClient(branch.thread.url, token=branch.token)
        try:
            held = await desk.hold("gen", "c1", DAY, 1100, "dr-sara", minutes=10)
            with pytest.raises(ApiError) as taken:
                await desk.book("gen", "c2", DAY, 1100, "dr-sara")
            confirmed = await desk.confirm(held["id"])
            other = await desk.hold("gen", "c3", DAY, 1200, "dr-sara", minutes=5)
            return held, taken.value, confirmed, other
        finally:
            await desk.aclose()

    held, taken, confirmed, other = run(scenario())
    assert held["status"] == "PENDING_APPROVAL" and held["heldUntil"] == "2026-11-22T07:10:00Z"
    assert taken.code == "SCH-SLOT-TAKEN"
    assert confirmed["status"] == "CONFIRMED" and confirmed["heldUntil"] is None
    service.clock.shift(timedelta(minutes=6))
    with pytest.raises(Exception) as lapsed:
        service.confirm(other["id"])
    assert lapsed.value.code == "SCH-HOLD-EXPIRED"
    assert service.create({**body, "time": 1200, "customerIdentifier": {"id": "c4"}})["startTime"] == 1200
    service.expire_overdue()
    assert service.store.booking(other["id"])["status"] == "CANCELED"
    assert [h["action"] for h in service.history(other["id"])] == ["hold", "hold.expire"]


def test_ending_early_offers_the_freed_time_to_the_first_waiting_booking(branch):
    service = branch.service
    booked = service.create(
        {
            "type": "dental",
            "date": DAY.isoformat(),
            "time": 1000,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c1"},
        }
    )
    walk = service.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c2"}})
    service.start(booked["id"])
    service.clock.shift(timedelta(minutes=5))
    before = service.events.last_id
    service.end(booked["id"])
    freed = [e for e in service.events.since(before) if e["type"] == "slot.freed"]
    assert len(freed) == 1
    data = freed[0]["data"]
    assert data["resourceId"] == "dr-sara" and data["from"] == "2026-11-22T07:05:00Z"
    assert data["to"] == "2026-11-22T10:00:00Z"  # nothing else booked until the 13:00 break
    assert data["firstWaiting"]["bookingId"] == walk["id"] and data["firstWaiting"]["queuePosition"] == 1


def test_overbooking_needs_a_reason_and_it_is_recorded(branch):
    service = branch.service
    body = {
        "type": "gen",
        "date": DAY.isoformat(),
        "time": 1100,
        "resourceId": "dr-sara",
        "customerIdentifier": {"id": "c1"},
    }
    service.create(body)
    with pytest.raises(Exception) as err:
        service.create({**body, "customerIdentifier": {"id": "c2"}, "overbookReason": "   "})
    assert err.value.code == "SCH-SLOT-TAKEN"
    over = service.create(
        {**body, "customerIdentifier": {"id": "c2"}, "overbookReason": "urgent, doctor agreed"},
        {"deskId": "reception-1", "user": "mona"},
    )
    entry = service.history(over["id"])[0]
    assert entry["after"]["overbookReason"] == "urgent, doctor agreed" and entry["deskId"] == "reception-1"
