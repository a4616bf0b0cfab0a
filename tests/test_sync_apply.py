"""Pulled customers are written in bulk (``Applier.apply_customers``) with the rules of one
at a time: a customer keeps the number it was given, a new one gets the next number, and a
field a pulled row does not carry is left as stored (rows with different fields are never
written as one upsert, which would blank the missing ones). Real SQLite file."""

from __future__ import annotations

from app.store import open_store
from app.sync import registry
from app.sync.apply import Applier
from app.sync.outbox import Outbox


def test_bulk_customer_pull_keeps_numbers_and_fields_it_does_not_carry(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    try:
        info = registry.get("ehjzny")
        applier = Applier(
            store, Outbox(store, "ehjzny", synced_fields=info.synced_fields), "ehjzny", info.synced_fields
        )
        first = [
            {
                "id": f"cus{i}",
                "firstName": f"P{i}",
                "lastName": "X",
                "phone": f"+9665000000{i}",
                "email": f"p{i}@example.com",
            }
            for i in range(3)
        ]
        with store.transaction():
            assert applier.apply_customers(first) == 3
        numbers = {c["phone"]: c["customerNumber"] for c in store.customers()}
        assert sorted(numbers.values()) == [1001, 1002, 1003]
        again = [
            {"id": "cus0", "firstName": "Renamed", "lastName": "X", "phone": "+96650000000"},  # no email
            {
                "id": "cus1",
                "firstName": "P1",
                "lastName": "X",
                "phone": "+96650000001",
                "email": "new@example.com",
            },
            {"id": "cus9", "firstName": "New", "lastName": "Y", "phone": "+96650000009"},
        ]
        with store.transaction():
            assert applier.apply_customers(again) == 3
        by_phone = {c["phone"]: c for c in store.customers()}
        assert by_phone["+96650000000"]["firstName"] == "Renamed"
        assert by_phone["+96650000000"]["email"] == "p0@example.com"  # not carried: kept
        assert by_phone["+96650000001"]["email"] == "new@example.com"
        assert {p: by_phone[p]["customerNumber"] for p in numbers} == numbers
        assert by_phone["+96650000009"]["customerNumber"] == 1004
        assert store.local_id("ehjzny", "cus9", "customer") == by_phone["+96650000009"]["id"]
    finally:
        store.close()
