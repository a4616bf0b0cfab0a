"""The branch API over a real server on 127.0.0.1, through the desk's own client."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.client import ApiError, DeskClient
from app.server.api import create_app
from app.server.runner import ServerThread
from tests.clinic import DAY


@pytest.fixture
def server(clinic_server):
    return clinic_server


def run(coro):
    return asyncio.run(coro)


async def with_client(thread, scenario):
    client = DeskClient(thread.url, token=thread.token, desk_id="test-desk", user="tester")
    try:
        return await scenario(client)
    finally:
        await client.aclose()


def test_book_list_day_and_queue(server):
    thread, _ = server

    async def scenario(client):
        booked = await client.book("gen", "c1", DAY, 1030, "dr-omar")
        walk = await client.walk_in("gen", "c2")
        day = await client.day(DAY)
        queue = await client.queue("dr-omar")
        waiting = await client.waiting()
        return booked, walk, day, queue, waiting

    booked, walk, day, queue, waiting = run(with_client(thread, scenario))
    assert booked["startDate"] == DAY.isoformat() and booked["startTime"] == 1030
    assert [b["id"] for b in day] == [booked["id"]]
    assert day[0]["customer"]["firstName"] == "أحمد" and day[0]["type"]["minutes"] == 20
    assert queue[0]["id"] == walk["id"] and queue[0]["queuePosition"] == 1
    assert waiting[0]["customer"]["firstName"] == "Fatima"


def test_two_concurrent_accepts_exactly_one_wins(server):
    thread, service = server

    async def scenario(client):
        walk = await client.walk_in("gen", "c1")
        results = await asyncio.gather(
            client.accept(walk["id"], "dr-omar"), client.accept(walk["id"], "dr-sara"), return_exceptions=True
        )
        return walk, results

    walk, results = run(with_client(thread, scenario))
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, ApiError)]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].code == "SCH-ALREADY_ASSIGNED" and losses[0].status == 400
    assert service.store.booking(walk["id"])["resourceId"] == wins[0]["resourceId"]


def test_bad_requests_get_a_code_and_change_nothing(server):
    thread, service = server
    base = thread.url
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c1"},
        }
    )
    service.cancel(booking["id"], "patient called")
    version = service.store.booking(booking["id"])["version"]
    with httpx.Client(base_url=base, headers=thread.auth) as http:
        unknown = http.post(
            "/management/bookings/assign", json={"bookingId": "nope", "resourceId": "dr-sara"}
        )
        canceled = http.post("/management/bookings/end", json={"bookingId": booking["id"]})
        malformed = http.post(
            "/management/bookings/assign", content=b"{not json", headers={"content-type": "application/json"}
        )
        missing = http.put("/management/scheduling/new", json={"date": "2026-13-40"})
        bad_utf8 = http.post(
            "/management/bookings/cancel",
            content=b'{"bookingId": "\xff\xfe"}',
            headers={"content-type": "application/json"},
        )
        no_route = http.get("/management/nothing")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT-FOUND"
    assert canceled.status_code == 409 and canceled.json()["error"]["code"] == "INVALID-TRANSITION"
    for response in (malformed, missing, bad_utf8):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION" and response.json()["error"]["message"]
    assert no_route.status_code == 404
    assert service.store.booking(booking["id"])["version"] == version
    assert service.store.db["bookings"].count == 1


def test_events_reach_a_desk_and_resume_after_reconnect(server):
    thread, service = server

    async def scenario(client):
        received = []

        async def listen():
            async for event in client.events():
                received.append(event)
                if len(received) == 1:
                    return

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.3)
        walk = await client.walk_in("gen", "c3")
        await asyncio.wait_for(listener, 5)
        first = received[0]
        # two changes while this desk is away, then it resumes from its last id
        await client.accept(walk["id"], "dr-omar")
        await client.start(walk["id"])
        missed = []
        async for event in client.events(last_event_id=first["id"]):
            if event["type"] == "booking.changed":
                missed.append(event)
            if len(missed) == 2:
                break
        return walk, first, missed

    walk, first, missed = run(with_client(thread, scenario))
    assert first["type"] == "booking.changed"
    assert first["data"]["booking"]["id"] == walk["id"] and first["data"]["booking"]["queuePosition"] == 1
    assert [e["data"]["action"] for e in missed] == ["accept", "start"]
    assert len({e["id"] for e in missed}) == 2 and all(e["id"] > first["id"] for e in missed)


def test_openapi_is_served(server):
    thread, _ = server
    spec = httpx.get(f"{thread.url}/openapi.json", headers=thread.auth).json()
    for path in (
        "/management/bookings",
        "/management/bookings/assign",
        "/management/bookings/end",
        "/management/bookings/unassigned",
        "/management/scheduling/new",
        "/availability/times",
    ):
        assert path in spec["paths"]


def test_port_in_use_is_reported(server):
    thread, _ = server
    with pytest.raises(OSError):
        ServerThread(create_app(server[1]), "127.0.0.1", thread.port)


def test_one_branch_server_per_data_directory(tmp_path):
    """A second server (a desk or a headless one) on the same branch file is refused, and a
    server that failed to start leaves the branch free for the next try."""
    from app.composition import BranchServer, DataDirInUse

    first = BranchServer(tmp_path / "branch", demo=False).start()
    try:
        with pytest.raises(DataDirInUse):
            BranchServer(tmp_path / "branch", demo=False)
        with pytest.raises(OSError):  # the port is taken: nothing stays claimed
            BranchServer(tmp_path / "other", demo=False, port=first.thread.port)
        BranchServer(tmp_path / "other", demo=False).start().stop()
    finally:
        first.stop()
    BranchServer(tmp_path / "branch", demo=False).start().stop()


def test_lang_header_picks_the_display_name(server):
    """Ehjzny API reference, "Localization": the ``lang`` header selects the language of display fields."""
    thread, _ = server
    arabic = httpx.get(f"{thread.url}/management/resources", headers={"lang": "ar", **thread.auth}).json()[
        "result"
    ]
    english = httpx.get(f"{thread.url}/management/types/gen", headers={"lang": "en", **thread.auth}).json()[
        "result"
    ]
    assert {r["id"]: r["name"] for r in arabic} == {"dr-sara": "د. سارة", "dr-omar": "د. عمر"}
    assert english["name"] == "General consultation"
    assert arabic[0]["name_translations"]["en"] == "Dr. Sara"
