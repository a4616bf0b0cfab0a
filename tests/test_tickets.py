"""Queue tickets: a per-type prefix, numbers per branch-local day, never a ticket repeated
while it may still be called (also across the branch's local midnight)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.client import ApiError, DeskClient
from app.domain.clock import Clock
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, at, clock_at, fill, serve


@pytest.fixture
def service(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    svc = BookingService(store, clock_at(1000))
    yield svc
    store.close()


def walk_in(svc, type_id="gen", customer="c1"):
    return svc.create({"type": type_id, "assign": False, "customerIdentifier": {"id": customer}})


def test_each_type_gets_its_own_prefix_and_numbers(service):
    types = {t["id"]: t["ticketPrefix"] for t in service.store.types()}
    assert types == {"dental": "A", "gen": "B"}  # first free letters in name order
    tickets = [walk_in(service, t)["ticket"] for t in ("gen", "gen", "dental", "gen")]
    assert tickets == ["B001", "B002", "A001", "B003"]
    assert len({b["ticket"] for b in service.waiting()}) == 4


def test_numbers_restart_at_the_branch_local_midnight_not_the_utc_one(service):
    service.clock = Clock(lambda: at(2200))  # 22:00 Riyadh = 19:00 UTC
    first = walk_in(service)
    service.accept(first["id"], "dr-omar")
    service.clock = Clock(
        lambda: at(200, DAY + timedelta(days=1))
    )  # 02:00 next local day, 23:00 UTC same date
    assert walk_in(service)["ticket"] == "B001"


def test_tickets_still_waiting_from_yesterday_are_not_given_again(service):
    service.clock = Clock(lambda: at(2340))
    late = [walk_in(service)["ticket"] for _ in range(3)]  # B001..B003, still waiting after midnight
    service.clock = Clock(lambda: at(10, DAY + timedelta(days=1)))
    today = walk_in(service)["ticket"]
    assert late == ["B001", "B002", "B003"] and today == "B004"
    waiting = [b["ticket"] for b in service.waiting()]
    assert len(waiting) == len(set(waiting)) == 4  # one queue, two dates, no number twice


def test_a_new_type_gets_a_free_prefix(service):
    service.store.upsert("types", [{"id": "xray", "name": "X-ray", "minutes": 15, "on": True}])
    prefixes = {t["id"]: t["ticketPrefix"] for t in service.store.types()}
    assert prefixes["xray"] == "C" and len(set(prefixes.values())) == 3


def test_the_prefix_is_configurable_through_the_api(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    service = BookingService(store, clock_at(1000))
    thread = serve(service)

    async def scenario():
        client = DeskClient(thread.url, token=thread.token)
        try:
            changed = await client.set_ticket_prefix("gen", "g")
            assert changed["ticketPrefix"] == "G"
            assert {t["id"]: t["ticketPrefix"] for t in await client.types()}["gen"] == "G"
            walk = await client.walk_in("gen", "c1")
            assert walk["ticket"] == "G001" and walk["queueNumber"] == 1
            with pytest.raises(ApiError) as err:
                await client.set_ticket_prefix("gen", "1")
            assert err.value.code == "VALIDATION"
        finally:
            await client.aclose()

    try:
        asyncio.run(scenario())
    finally:
        thread.stop()
        store.close()


def test_migration_gives_existing_walk_ins_their_ticket(tmp_path):
    """A branch file from before tickets: its types get prefixes and its walk-ins a ticket."""
    from sqlite_utils import Database

    from app.store import migrations

    path = tmp_path / "old.sqlite3"
    db = Database(path)
    migrations.migrations.apply(db, stop_before="m013_tickets")
    db["types"].insert({"id": "gen", "name": "General"})
    db["bookings"].insert({"id": "b1", "typeId": "gen", "queueNumber": 7, "status": "PENDING_ASSIGNMENT"})
    migrations.apply(db)  # what opening the file does
    assert not migrations.migrations.pending(db)
    assert db.execute("select ticketPrefix from types").fetchone()[0] == "A"
    assert db.execute("select ticket from bookings").fetchone()[0] == "A007"
