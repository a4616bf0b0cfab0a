"""Phone numbers: ``055…`` and ``+96655…`` are the same customer — stored in E.164 in the
branch's region, found by any form, and a second customer with the same number is refused
with the existing one as the candidate."""

from __future__ import annotations

import asyncio

import pytest
from sqlite_utils import Database

from app.client import ApiError, DeskClient
from app.domain import phones
from app.store import migrations, open_store
from tests.clinic import DAY, fill


@pytest.mark.parametrize(
    "typed",
    ["0551234567", "055 123 4567", "+966 55 123 4567", "00966551234567", "٠٥٥١٢٣٤٥٦٧", "(055) 123-4567"],
)
def test_every_usual_form_is_one_number(typed):
    assert phones.normalize(typed, "SA") == "+966551234567"


def test_the_branch_region_reads_local_numbers():
    assert phones.normalize("050 123 4567", phones.region_of({"region": "AE"})) == "+971501234567"
    assert phones.region_of({}) == "SA" and phones.region_of({"region": "xx"}) == "SA"
    with pytest.raises(ValueError):
        phones.normalize("12", "SA")


@pytest.fixture
def server(clinic_server):
    return clinic_server


def test_create_stores_e164_search_finds_any_form_and_a_duplicate_names_the_candidate(server):
    thread, service = server

    async def scenario():
        client = DeskClient(thread.url, token=thread.token)
        try:
            made = await client.create_customer("Huda", "Saleh", "055 123 4567")
            assert made["phone"] == "+966551234567"
            for query in ("0551234567", "+966551234567", "966 55 123", "0551", "٠٥٥١٢٣٤٥٦٧"):
                found = await client.customers(query)
                assert made["id"] in [c["id"] for c in found], query
            with pytest.raises(ApiError) as err:
                await client.create_customer(
                    "Huda", "S.", "+966551234567"
                )  # the same person, typed another way
            assert err.value.code == "CUSTOMER-EXISTS" and err.value.status == 409
            assert err.value.details["candidate"]["id"] == made["id"]
            with pytest.raises(ApiError) as err:
                await client.create_customer("Nobody", "", "12")
            assert err.value.code == "VALIDATION"
            # booking by phone identifier works in any form too
            booked = await client._result(
                "PUT",
                "/management/scheduling/new",
                json={
                    "type": "gen",
                    "date": DAY.isoformat(),
                    "time": 1100,
                    "resourceId": "dr-sara",
                    "customerIdentifier": {"phone": "0551234567"},
                },
            )
            assert booked["customerId"] == made["id"]
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_customers_from_elsewhere_are_stored_normalised(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    store.upsert(
        "customers",
        [
            {
                "id": "x",
                "firstName": "Sync",
                "lastName": "Ed",
                "phone": "0509998877",
                "customerNumber": 2001,
                "searchText": "sync ed",
            },
            {
                "id": "y",
                "firstName": "Odd",
                "lastName": "",
                "phone": "n/a",
                "customerNumber": 2002,
                "searchText": "odd",
            },
        ],
    )
    assert store.customer("x")["phone"] == "+966509998877"
    assert store.customer("y")["phone"] == "n/a"  # unreadable: kept, never lost
    assert store.customer_by(phone="050 999 8877")["id"] == "x"
    store.close()


def test_migration_normalises_existing_phones(tmp_path):
    db = Database(tmp_path / "old.sqlite3")
    migrations.migrations.apply(db, stop_before="m014_phones")  # a branch file from before E.164
    db["settings"].insert({"key": "branch", "value": '{"timeZone": "Asia/Riyadh", "region": "SA"}'})
    db["customers"].insert_all(
        [
            {
                "id": "a",
                "firstName": "A",
                "phone": "0551234567",
                "searchText": "a 0551234567",
                "customerNumber": 1,
            },
            {
                "id": "b",
                "firstName": "B",
                "phone": "+966551234567",
                "searchText": "b +966551234567",
                "customerNumber": 2,
            },
            {"id": "c", "firstName": "C", "phone": "???", "searchText": "c", "customerNumber": 3},
        ]
    )
    migrations.apply(db)  # what opening it does
    assert not migrations.migrations.pending(db)
    rows = {r["id"]: r for r in db.query("select * from customers")}
    assert rows["a"]["phone"] == rows["b"]["phone"] == "+966551234567"
    assert "+966551234567" in rows["a"]["searchText"]
    assert rows["c"]["phone"] == "???"
