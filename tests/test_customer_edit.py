"""PATCH /management/customers/{id}: a desk corrects a customer's name, phone or e-mail."""

from __future__ import annotations

import pytest

from app.client import ApiError
from tests.clinic import DAY
from tests.test_api import run, server, with_client  # noqa: F401  (the server fixture)


def test_a_corrected_phone_and_email_are_kept_found_by_search_and_shown_on_bookings(server):  # noqa: F811
    thread, _ = server

    async def scenario(client):
        made = await client.create_customer("Huda", "Salem", "0551112222")
        booking = await client.book("gen", made["id"], DAY, 1030, "dr-omar")
        fixed = await client.update_customer(
            made["id"], phone="055 111 2233", email="huda@example.com", lastName="Al-Salem"
        )
        found = await client.customers("0551112233")
        day = await client.day(DAY)
        return made, booking, fixed, found, day

    made, booking, fixed, found, day = run(with_client(thread, scenario))
    assert fixed["phone"] == "+966551112233" and fixed["email"] == "huda@example.com"
    assert fixed["firstName"] == "Huda" and fixed["lastName"] == "Al-Salem"
    assert fixed["customerNumber"] == made["customerNumber"]  # the same customer, not a new one
    assert [c["id"] for c in found] == [made["id"]]
    shown = next(b for b in day if b["id"] == booking["id"])
    assert shown["customer"]["lastName"] == "Al-Salem"


def test_a_phone_another_customer_has_is_refused_naming_them_and_nothing_changes(server):  # noqa: F811
    thread, _ = server

    async def scenario(client):
        first = await client.create_customer("Omar", "", "0552223333")
        second = await client.create_customer("Lina", "", "0554445555")
        with pytest.raises(ApiError) as taken:
            await client.update_customer(second["id"], phone="+966552223333", firstName="Lina K")
        with pytest.raises(ApiError) as empty:
            await client.update_customer(second["id"], firstName="  ")
        with pytest.raises(ApiError) as missing:
            await client.update_customer("nobody", firstName="X")
        return first, second, taken.value, empty.value, missing.value, await client.customer(second["id"])

    first, second, taken, empty, missing, after = run(with_client(thread, scenario))
    assert taken.status == 409 and taken.code == "CUSTOMER-EXISTS"
    assert taken.details["candidate"]["id"] == first["id"]
    assert empty.status == 400 and missing.status == 404
    assert after["firstName"] == "Lina" and after["phone"] == "+966554445555"  # nothing half-changed
