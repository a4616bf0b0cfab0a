"""One patient at a time: "Accept next" (``whenFree``) calls no second ticket to a provider
who has a patient called or in the room; reception's plain accept is unchanged."""

from __future__ import annotations

import pytest

from app.domain.errors import BookingError
from app.domain.queue import called_to
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import clock_at, fill


@pytest.fixture
def service(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    svc = BookingService(store, clock_at(1000))
    yield svc
    store.close()


def walk_in(svc, customer):
    return svc.create({"type": "gen", "assign": False, "customerIdentifier": {"id": customer}})


def test_accept_next_waits_until_the_called_patient_is_done(service):
    first, second = walk_in(service, "c1"), walk_in(service, "c2")
    service.accept(first["id"], "dr-omar", when_free=True)
    with pytest.raises(BookingError) as err:
        service.accept(second["id"], "dr-omar", when_free=True)  # first is called, not in yet
    assert err.value.code == "SCH-PROVIDER-BUSY" and err.value.details["bookingId"] == first["id"]
    service.start(first["id"])
    with pytest.raises(BookingError):
        service.accept(second["id"], "dr-omar", when_free=True)  # first is in the room
    service.end(first["id"])
    assert service.accept(second["id"], "dr-omar", when_free=True)["resourceId"] == "dr-omar"
    assert service.store.booking(second["id"])["status"] == "CONFIRMED"


def test_called_to_orders_room_then_who_came_first():
    rows = [
        {
            "id": "a",
            "resourceId": "r",
            "status": "CONFIRMED",
            "visitStatus": "CHECKED_IN",
            "checkedInAt": "2026-11-22T07:10:00Z",
        },
        {
            "id": "b",
            "resourceId": "r",
            "status": "CONFIRMED",
            "visitStatus": None,
            "ticket": "A001",
            "startDateTime": "2026-11-22T07:05:00Z",
        },
        {"id": "c", "resourceId": "r", "status": "CONFIRMED", "visitStatus": "IN_PROGRESS"},
        {"id": "d", "resourceId": "r", "status": "CONFIRMED", "visitStatus": None},  # booked, not arrived
        {"id": "e", "resourceId": "x", "status": "CONFIRMED", "visitStatus": "IN_PROGRESS"},
    ]
    assert [b["id"] for b in called_to("r", rows)] == ["c", "b", "a"]
