"""GET /management/customers/{id}/bookings: a customer's bookings for the desk's customer card."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.client import ApiError
from tests.clinic import DAY
from tests.test_api import run, server, with_client  # noqa: F401  (the server fixture)


def test_a_customers_bookings_newest_first_with_waiting_ones_on_top(server):  # noqa: F811
    thread, _ = server

    async def scenario(client):
        early = await client.book("gen", "c1", DAY, 1030, "dr-omar")
        later = await client.book("gen", "c1", DAY + timedelta(days=1), 1100, "dr-omar")
        other = await client.book("gen", "c2", DAY, 1100, "dr-omar")
        canceled = await client.book("gen", "c1", DAY, 1200, "dr-omar")
        await client.cancel(canceled["id"], "called")
        walk = await client.walk_in("gen", "c1")
        rows = await client.customer_bookings("c1")
        with pytest.raises(ApiError) as missing:
            await client.customer_bookings("nobody")
        return early, later, other, canceled, walk, rows, missing.value

    early, later, other, canceled, walk, rows, missing = run(with_client(thread, scenario))
    ids = [r["id"] for r in rows]
    assert ids == [walk["id"], later["id"], canceled["id"], early["id"]]
    assert other["id"] not in ids
    assert rows[1]["type"]["minutes"] == 20 and rows[1]["resource"]["id"] == "dr-omar"
    assert next(r for r in rows if r["id"] == canceled["id"])["status"] == "CANCELED"
    assert missing.status == 404
