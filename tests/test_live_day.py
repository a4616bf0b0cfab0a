"""A desk's day and queue kept current from real server events (app.client.live): the rows
after applying the events equal a fresh fetch of the day and the waiting list."""

from __future__ import annotations

from app.client.live import APPLIED, REFETCH, UNCHANGED, LiveDay, LiveQueues
from app.domain.clock import local_date
from app.server.events import EventLog
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, at, clock_at, fill

INCLUDES = {"customer", "type"}


def _service(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    return BookingService(store, clock_at(1000), events=EventLog())


def _day(service, day=DAY):
    lo, hi = service.day_bounds(day)
    return service.embed(service.list_bookings(lo, hi), INCLUDES)


def _waiting(service):
    return service.embed(service.waiting(), INCLUDES)


def _events(service, after: int) -> list[dict]:
    return service.events.since(after) or []


def _same(rows: list[dict]) -> list[dict]:
    """Rows compared as a desk reads them (``row.get``): an absent field is a None one."""
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


def test_events_bring_the_day_and_the_queue_to_what_a_fetch_returns(tmp_path):
    service = _service(tmp_path)
    try:
        booked = service.create(
            {
                "type": "gen",
                "customerIdentifier": {"id": "c1"},
                "resourceId": "dr-sara",
                "startDateTime": at(1100).isoformat(),
            }
        )
        first = service.create({"type": "gen", "customerIdentifier": {"id": "c2"}, "assign": False})
        live = LiveDay(service.zone, DAY, types=service._types())
        live.load(_day(service), _waiting(service))
        mark = service.events.last_id

        second = service.create({"type": "gen", "customerIdentifier": {"id": "c3"}, "assign": False})
        service.create({"type": "dental", "customerIdentifier": {"id": "c4"}, "assign": False})
        reply = service.accept(first["id"], "dr-omar")  # the second walk-in moves up
        service.check_in(booked["id"])
        service.cancel(second["id"], "left")
        service.reschedule(booked["id"], {"date": "2026-11-23", "time": 900})  # off the day
        answers = [live.apply(e) for e in _events(service, mark)]

        assert APPLIED in answers
        assert _same(live.bookings) == _same(_day(service))
        assert _same(live.waiting) == _same(_waiting(service))
        assert not live.missing
        # the echo of an action whose reply was applied first changes nothing
        assert live.put({k: v for k, v in reply.items() if k not in INCLUDES}) is False
    finally:
        service.store.close()


def test_an_older_version_never_replaces_a_newer_one(tmp_path):
    service = _service(tmp_path)
    try:
        booked = service.create(
            {
                "type": "gen",
                "customerIdentifier": {"id": "c1"},
                "resourceId": "dr-sara",
                "startDateTime": at(1100).isoformat(),
            }
        )
        live = LiveDay(service.zone, DAY, types=service._types())
        live.load(_day(service), _waiting(service))
        mark = service.events.last_id
        service.check_in(booked["id"])
        newer = _events(service, mark)
        service.undo_check_in(booked["id"])
        newest = _events(service, mark)[len(newer) :]
        for event in newest + newer:  # arriving out of order
            live.apply(event)
        assert _same(live.bookings) == _same(_day(service))
        assert live.find(booked["id"])["visitStatus"] is None
    finally:
        service.store.close()


def test_what_cannot_be_applied_asks_for_a_refetch():
    live = LiveDay("Asia/Riyadh", DAY)
    assert live.apply({"id": 1, "type": "resync", "data": {}}) == REFETCH
    assert live.apply({"id": 2, "type": "resource.changed", "data": {"resource": {}}}) == REFETCH
    assert live.apply({"id": 3, "type": "something.new", "data": {}}) == REFETCH
    assert live.apply({"id": 4, "type": "slot.freed", "data": {}}) == UNCHANGED
    # a booking without its customer, of a customer this view has never seen: fetch it
    live.apply(
        {
            "id": 5,
            "type": "booking.changed",
            "data": {
                "action": "sync",
                "booking": {
                    "id": "b1",
                    "status": "CONFIRMED",
                    "customerId": "c9",
                    "typeId": "gen",
                    "resourceId": "r",
                    "startDateTime": at(1100).isoformat(),
                    "endDateTime": at(1120).isoformat(),
                    "version": 1,
                },
            },
        }
    )
    assert live.missing == {"b1"}


def test_a_resource_queue_follows_the_events(tmp_path):
    service = _service(tmp_path)
    try:
        first = service.create({"type": "gen", "customerIdentifier": {"id": "c1"}, "assign": False})
        queues = LiveQueues({"dr-omar": {"gen"}, "dr-sara": {"gen", "dental"}})
        for rid in ("dr-omar", "dr-sara"):
            queues.load(rid, service.embed(service.queue(rid), INCLUDES))
        mark = service.events.last_id
        service.create({"type": "gen", "customerIdentifier": {"id": "c2"}, "assign": False})
        service.create({"type": "dental", "customerIdentifier": {"id": "c3"}, "assign": False})
        service.accept(first["id"], "dr-omar")
        answers = {queues.apply(e) for e in _events(service, mark)}
        assert REFETCH not in answers and not queues.unplaced
        for rid in ("dr-omar", "dr-sara"):
            assert _same(queues.queues[rid]) == _same(service.embed(service.queue(rid), INCLUDES)), rid
        assert local_date(service.now(), service.zone) == DAY
    finally:
        service.store.close()
