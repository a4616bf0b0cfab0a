"""Taking back a cancel (the desk's Undo) restores the same booking: same id, time, resource
and ticket, with a history entry and an outbox row, and refuses when that cannot be done."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.domain.errors import BookingError
from app.domain.model import Status
from app.server.service import BookingService
from app.store import open_store
from app.sync.ehjzny.connector import plan
from app.sync.outbox import Outbox
from tests.clinic import DAY, clock_at, fill


@pytest.fixture
def service(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    svc = BookingService(store, clock_at(1000))
    svc.listeners.append(Outbox(store, "ehjzny", plan=plan).listener)
    yield svc
    store.close()


def book(svc, time, resource="dr-sara", customer="c2"):
    return svc.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": time,
            "resourceId": resource,
            "customerIdentifier": {"id": customer},
        }
    )


def bookings_of(svc, customer):
    return svc.store._rows("select * from bookings where customerId = ?", [customer])


def test_undo_cancel_restores_the_same_booking_with_history_and_outbox(service):
    booking = book(service, 1100)
    service.cancel(booking["id"], "called to cancel")
    restored = service.restore(booking["id"], {"user": "desk"})
    assert restored["id"] == booking["id"] and restored["status"] == Status.CONFIRMED
    assert (restored["startDateTime"], restored["resourceId"]) == (booking["startDateTime"], "dr-sara")
    assert restored["cancelReason"] is None
    assert [b["id"] for b in bookings_of(service, "c2")] == [booking["id"]]  # never a second booking
    assert [h["action"] for h in service.history(booking["id"])] == ["create", "cancel", "restore"]
    ops = Outbox(service.store, "ehjzny").pending()
    assert [op["action"] for op in ops] == ["create", "cancel", "restore"]
    assert ops[-1]["payload"]["after"]["status"] == Status.CONFIRMED


def test_a_move_below_the_cancel_still_undoes_after_the_restore(service):
    booking = book(service, 1100)
    moved = service.reschedule(booking["id"], {"date": DAY.isoformat(), "time": 1200})
    service.cancel(booking["id"], "called to cancel")
    service.restore(booking["id"])
    back = service.reschedule(booking["id"], {"date": DAY.isoformat(), "time": 1100})
    assert moved["startDateTime"] != back["startDateTime"] == booking["startDateTime"]
    assert back["status"] == Status.CONFIRMED


def test_a_restored_walk_in_keeps_its_ticket_and_place(service):
    walk = service.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c1"}})
    service.cancel(walk["id"], "left")
    restored = service.restore(walk["id"])
    assert restored["status"] == Status.PENDING_ASSIGNMENT
    assert restored["queueNumber"] == walk["queueNumber"]
    assert [b["id"] for b in service.queue("dr-omar")] == [walk["id"]]


def test_restore_is_refused_when_the_time_was_taken_meanwhile(service):
    booking = book(service, 1100)
    service.cancel(booking["id"], "called to cancel")
    book(service, 1100, customer="c3")  # another desk books the freed time
    with pytest.raises(BookingError) as err:
        service.restore(booking["id"])
    assert err.value.code == "SCH-SLOT-TAKEN"
    assert service.store.booking(booking["id"])["status"] == Status.CANCELED


def test_restore_needs_a_desk_cancel(service):
    booking = book(service, 1100)
    with pytest.raises(BookingError) as err:
        service.restore(booking["id"])  # not canceled
    assert err.value.code == "INVALID-TRANSITION"
    hold = service.hold(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1200,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c4"},
            "reservedForMinutes": 5,
        }
    )
    service.clock.shift(timedelta(minutes=10))
    service.expire_overdue()  # a lapsed hold is not a desk cancel
    with pytest.raises(BookingError):
        service.restore(hold["id"])


def test_a_restore_reaches_the_cloud_as_the_same_local_booking(tmp_path):
    from tests.test_sync_engine import Branch, cloud_for_tests, run, work_days

    with cloud_for_tests() as running:
        branch = Branch(running, tmp_path)
        try:
            run(branch, lambda: branch.engine.sync_once(deadline=10))
            booking = branch.book(work_days(1)[0], 1000)
            run(branch, lambda: branch.engine.sync_once(deadline=10))
            first_cloud = branch.cloud_id(booking["id"])
            branch.service.cancel(booking["id"], "called to cancel")
            run(branch, lambda: branch.engine.sync_once(deadline=10))
            assert running.cloud.bookings[first_cloud]["status"] == Status.CANCELED
            branch.service.restore(booking["id"])
            status = run(branch, lambda: branch.engine.sync_once(deadline=10))
            again = branch.cloud_id(booking["id"])
            assert status["pending"] == 0 and again != first_cloud
            assert running.cloud.bookings[again]["status"] == Status.CONFIRMED
            assert datetime.fromisoformat(
                running.cloud.bookings[again]["startDateTime"]
            ) == datetime.fromisoformat(booking["startDateTime"])
            local = branch.store.booking(booking["id"])
            assert local["status"] == Status.CONFIRMED
            run(branch, lambda: branch.engine.pull(horizon=True))  # the canceled one never comes back
            assert (
                branch.store.db.execute(
                    "select count(*) from bookings where startDateTime = ? and customerId = ?",
                    [booking["startDateTime"], booking["customerId"]],
                ).fetchone()[0]
                == 1
            )
        finally:
            branch.close()
