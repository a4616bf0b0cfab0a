"""Booking rules through the branch service on a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import BookingError
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, at, clock_at, fill


@pytest.fixture
def service(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    svc = BookingService(store, clock_at(1000))
    yield svc
    store.close()


def walk_in(svc, customer="c1", type_id="gen", minutes_ago=0, **extra):
    svc.clock.shift(timedelta(minutes=-minutes_ago))
    try:
        return svc.create({"type": type_id, "assign": False, "customerIdentifier": {"id": customer}, **extra})
    finally:
        svc.clock.shift(timedelta(minutes=minutes_ago))


def book(svc, time, resource="dr-sara", customer="c2", type_id="gen", **extra):
    return svc.create(
        {
            "type": type_id,
            "date": DAY.isoformat(),
            "time": time,
            "resourceId": resource,
            "customerIdentifier": {"id": customer},
            **extra,
        }
    )


def test_queue_is_fifo_per_resource_with_positions_and_wait(service):
    first = walk_in(service, "c1", "gen", minutes_ago=30)
    dental = walk_in(service, "c2", "dental", minutes_ago=20)
    second = walk_in(service, "c3", "gen", minutes_ago=10)
    omar = service.queue("dr-omar")  # serves gen only
    assert [b["id"] for b in omar] == [first["id"], second["id"]]
    assert [b["queuePosition"] for b in omar] == [1, 2]
    assert [b["estimatedWaitMinutes"] for b in omar] == [20, 40]
    sara = service.queue("dr-sara")  # serves both
    assert [b["id"] for b in sara] == [first["id"], dental["id"], second["id"]]
    assert sara[1]["estimatedWaitMinutes"] == 2 * 30
    assert [first["ticket"], dental["ticket"], second["ticket"]] == [
        "B001",
        "A001",
        "B002",
    ]  # per type prefix


def test_accept_confirms_now_and_second_accept_is_refused(service):
    booking = walk_in(service)
    accepted = service.accept(booking["id"], "dr-omar")
    assert accepted["status"] == "CONFIRMED" and accepted["resourceId"] == "dr-omar"
    assert accepted["startDateTime"] == "2026-11-22T07:00:00Z" and accepted["duration"] == 20
    assert "queuePosition" not in accepted
    with pytest.raises(BookingError) as err:
        service.accept(booking["id"], "dr-sara")
    assert err.value.code == "SCH-ALREADY_ASSIGNED"
    assert service.store.booking(booking["id"])["resourceId"] == "dr-omar"
    assert service.queue("dr-omar") == []


def test_accept_needs_a_resource_that_serves_the_type(service):
    booking = walk_in(service, type_id="dental")
    with pytest.raises(BookingError) as err:
        service.accept(booking["id"], "dr-omar")
    assert err.value.code == "SCH-TYPE-NOT-SERVED"
    assert service.store.booking(booking["id"])["status"] == "PENDING_ASSIGNMENT"


def test_timeout_rejects_and_later_accept_is_bks_110(service):
    booking = walk_in(service, assignmentTimeout=1)  # clamped up to 5 minutes
    assert booking["assignmentTimeout"] == 5
    service.clock.shift(timedelta(minutes=6))
    assert service.queue("dr-omar") == []
    assert service.store.booking(booking["id"])["status"] == "REJECTED"
    with pytest.raises(BookingError) as err:
        service.accept(booking["id"], "dr-omar")
    assert err.value.code == "BKS-110"


def test_leaving_the_queue_moves_the_others_up(service):
    a, b, c = (
        walk_in(service, "c1", minutes_ago=3),
        walk_in(service, "c2", minutes_ago=2),
        walk_in(service, "c3", minutes_ago=1),
    )
    service.cancel(a["id"], "patient left")
    assert [(x["id"], x["queuePosition"]) for x in service.queue("dr-omar")] == [(b["id"], 1), (c["id"], 2)]


def test_visit_check_in_start_end_shortens_to_time_served(service):
    booking = book(service, 1000)
    service.check_in(booking["id"])
    service.start(booking["id"])
    service.clock.shift(timedelta(minutes=12))
    ended = service.end(booking["id"])
    assert ended["visitStatus"] == "COMPLETED"
    assert ended["duration"] == 12 and ended["endDateTime"] == "2026-11-22T07:12:00Z"
    kinds = [a["type"] for a in service.attendances(DAY)]
    assert kinds == ["CheckIn", "CheckOut"]


def test_invalid_transitions_are_refused_with_a_code_and_change_nothing(service):
    booking = book(service, 1100)
    before = service.store.booking(booking["id"])
    with pytest.raises(BookingError) as err:
        service.end(booking["id"])
    assert err.value.code == "INVALID-TRANSITION"
    with pytest.raises(BookingError) as err:
        service.no_show(booking["id"])  # starts at 11:00, it is 10:00
    assert err.value.code == "INVALID-TRANSITION"
    service.cancel(booking["id"], "called to cancel")
    with pytest.raises(BookingError) as err:
        service.check_in(booking["id"])
    assert err.value.code == "INVALID-TRANSITION"
    assert service.store.booking(booking["id"])["cancelReason"] == "called to cancel"
    assert before["version"] + 1 == service.store.booking(booking["id"])["version"]


def test_cancel_requires_a_reason(service):
    booking = book(service, 1100)
    with pytest.raises(BookingError) as err:
        service.cancel(booking["id"], "  ")
    assert err.value.code == "VALIDATION"
    assert service.store.booking(booking["id"])["status"] == "CONFIRMED"


def test_reschedule_keeps_the_local_id_and_respects_busy_slots_and_hours(service):
    booking = book(service, 1000)
    book(service, 1100, customer="c3")
    moved = service.reschedule(booking["id"], {"date": DAY.isoformat(), "time": 1200})
    assert moved["id"] == booking["id"] and moved["startTime"] == 1200
    with pytest.raises(BookingError) as err:
        service.reschedule(booking["id"], {"date": DAY.isoformat(), "time": 1110})
    assert err.value.code == "SCH-SLOT-TAKEN"
    with pytest.raises(BookingError) as err:
        service.reschedule(booking["id"], {"date": DAY.isoformat(), "time": 1250})  # runs past 13:00
    assert err.value.code == "SCH-OUTSIDE-WORKING-HOURS"
    assert service.store.booking(booking["id"])["startDateTime"] == "2026-11-22T09:00:00Z"
    overbooked = service.reschedule(
        booking["id"], {"date": DAY.isoformat(), "time": 1110, "overbookReason": "doctor agreed"}
    )
    assert overbooked["startTime"] == 1110
    assert service.history(booking["id"])[-1]["after"]["overbookReason"] == "doctor agreed"


def test_free_times_leave_out_busy_slots_buffers_and_the_past(service):
    book(service, 1100, type_id="dental")  # 11:00-11:30 + 10 min after
    free = service.free_times("gen", DAY, "dr-sara")
    times = [s["time"] for s in free]
    assert 1000 in times and 945 not in times  # it is 10:00 now
    assert 1100 not in times and 1130 not in times and 1145 in times  # 11:40 buffer end
    assert 1245 not in times  # 12:45 + 20 min is past 13:00
    assert 1600 in times


def test_no_show_after_start(service):
    booking = book(service, 1000)
    service.clock.shift(timedelta(minutes=15))
    assert service.no_show(booking["id"])["visitStatus"] == "NO_SHOW"
    # the slot is free again for someone else
    assert book(service, 1015, customer="c4")["startTime"] == 1015


def test_history_records_who_and_what_changed(service):
    booking = book(service, 1000)
    service.check_in(booking["id"], {"deskId": "reception-1", "user": "mona"})
    history = service.history(booking["id"])
    assert [h["action"] for h in history] == ["create", "check_in"]
    assert history[1]["deskId"] == "reception-1" and history[1]["actor"] == "mona"
    assert history[1]["before"] == {"visitStatus": None, "checkedInAt": None}
    assert history[1]["after"]["visitStatus"] == "CHECKED_IN"


def test_persistence_across_a_restart(tmp_path, service):
    booking = book(service, 1000)
    service.store.close()
    store = open_store(tmp_path / "branch.sqlite3")
    again = BookingService(store, clock_at(1000))
    assert again.store.booking(booking["id"])["startDateTime"] == booking["startDateTime"]
    assert again.store.customer("c1")["firstName"] == "أحمد"
    store.close()


def test_times_are_stored_in_utc(service):
    booking = book(service, 900)
    assert service.store.booking(booking["id"])["startDateTime"] == "2026-11-22T06:00:00Z"
    assert at(900).isoformat() == "2026-11-22T06:00:00+00:00"


def test_undo_check_in_and_reopen_an_ended_visit(service):
    booking = book(service, 1000)
    service.check_in(booking["id"])
    undone = service.undo_check_in(booking["id"])
    assert undone["visitStatus"] is None and undone["checkedInAt"] is None
    assert service.attendances(DAY) == []
    service.start(booking["id"])
    service.clock.shift(timedelta(minutes=5))
    ended = service.end(booking["id"])
    assert ended["duration"] == 5
    reopened = service.reopen(booking["id"])
    assert reopened["visitStatus"] == "IN_PROGRESS" and reopened["endedAt"] is None
    assert reopened["endDateTime"] == booking["endDateTime"] and reopened["duration"] == 20
    assert [a["type"] for a in service.attendances(DAY)] == ["CheckIn"]
    with pytest.raises(BookingError) as err:
        service.undo_check_in(booking["id"])  # the visit is under way
    assert err.value.code == "INVALID-TRANSITION"
