"""The page path of a pull against the simulated Ehjzny cloud over loopback HTTP: the next
page is fetched while the one before is written (the connector reads ahead), pages still
commit in order with their cursor, a failed page after a written one loses nothing, and a
malformed booking in a page is set aside while the rest of the page is applied."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest

from app.domain.clock import Clock, from_local, local_date, to_iso
from app.sync.ehjzny.client import CloudError
from tests.clouds.ehjzny import sample_clinic, start_cloud
from tests.test_sync_engine import ZONE, Branch, run

BOOKINGS = 40
PAGE = 10
SLOW = 0.4  # seconds each written page keeps its transaction open


def _clinic(count: int) -> dict:
    today = local_date(Clock().now(), ZONE)
    clinic = sample_clinic(today, ZONE)
    created = to_iso(Clock().now() - timedelta(days=2))
    for i in range(count):
        day = today + timedelta(days=1 + i % 5)
        minutes = 9 * 60 + i // 5 * 20
        clinic["bookings"].append(
            {
                "id": f"page{i:03d}",
                "status": "CONFIRMED",
                "typeId": "typeGeneral",
                "resourceId": "resAhmed",
                "customerId": ("cusHuda", "cusLina", "cusOmar")[i % 3],
                "duration": 20,
                "createdAt": created,
                "startDateTime": to_iso(from_local(day, minutes // 60 * 100 + minutes % 60, ZONE)),
            }
        )
    return clinic


@pytest.fixture
def running():
    with start_cloud(clinic=_clinic(BOOKINGS), zone=ZONE) as cloud:
        yield cloud


@pytest.fixture
def branch(running, tmp_path):
    b = Branch(running, tmp_path, page_limit=PAGE)
    yield b
    b.close()


def _slow_pages(branch) -> list[tuple[float, float]]:
    """Make each written page keep its transaction open for :data:`SLOW` s; returns the
    (started, ended) of each, filled in as the pull goes."""
    applier, written = branch.engine.applier, []
    real = applier.apply_bookings

    def slow(bookings, zone, now, **options):
        changed = real(bookings, zone, now, **options)
        if len(bookings) > 1:  # a pulled page, not a reply
            started = time.monotonic()
            time.sleep(SLOW)
            written.append((started, time.monotonic()))
        return changed

    applier.apply_bookings = slow
    return written


def _listed(running) -> list[float]:
    """The moments the cloud was asked for a page of bookings (filled in as it is asked)."""
    cloud, asked = running.cloud, []
    real = cloud.find_bookings

    def find(params, customer_id=None):
        asked.append(time.monotonic())
        return real(params, customer_id)

    cloud.find_bookings = find
    return asked


def test_the_next_page_is_fetched_while_a_page_is_written(branch, running):
    run(branch, lambda: branch.engine.pull_reference())
    written, asked = _slow_pages(branch), _listed(running)
    started = time.monotonic()
    run(branch, lambda: branch.engine.pull(horizon=True, reference=False))
    took = time.monotonic() - started
    assert all(branch.store.local_id("ehjzny", f"page{i:03d}") for i in range(BOOKINGS))
    assert branch.engine._cursor("pull")["windows"]["horizon"] == {"done": True}
    # a page was asked for while another page's transaction was open ...
    overlapped = [t for t in asked if any(began < t < ended for began, ended in written)]
    assert overlapped, (asked, written)
    # ... and the writes never overlapped each other: one page after the other, in order
    assert all(a[1] <= b[0] for a, b in zip(written, written[1:], strict=False)), written
    assert took < SLOW * len(written) + 5, (took, len(written))


def test_a_page_that_fails_after_a_written_one_loses_nothing(branch, running):
    """The page read ahead fails (the cloud answers 503): the page before it is still
    written with its cursor, the pull reports the failure, and the next pull goes on from
    that cursor to the end."""
    run(branch, lambda: branch.engine.pull_reference())
    written = _slow_pages(branch)
    real_window = branch.engine.connector._window
    pages_served = threading.Event()

    async def window(name, *args):
        count = 0
        async for page in real_window(name, *args):
            count += 1
            if name == "horizon" and count == 2:
                running.cloud.faults.fail(5)  # the next page (read ahead while this one is written) fails
                pages_served.set()
            yield page

    branch.engine.connector._window = window
    with pytest.raises(CloudError):
        run(branch, lambda: branch.engine.pull(horizon=True, reference=False))
    assert pages_served.is_set() and written
    cursor = branch.engine._cursor("pull")
    token = cursor["windows"]["horizon"]["token"]
    assert token, cursor  # the written pages' cursor, in the middle of the listing
    mapped = [i for i in range(BOOKINGS) if branch.store.local_id("ehjzny", f"page{i:03d}")]
    assert PAGE <= len(mapped) < BOOKINGS  # the pages before the failure, written
    running.cloud.faults.clear()
    branch.engine.connector._window = real_window
    run(branch, lambda: branch.engine.pull(horizon=True, reference=False))
    assert all(branch.store.local_id("ehjzny", f"page{i:03d}") for i in range(BOOKINGS))
    assert branch.engine._cursor("pull")["windows"]["horizon"] == {"done": True}


def test_a_malformed_booking_in_a_page_is_set_aside_and_the_rest_applied(branch, running, caplog):
    with running.cloud.lock:  # as the cloud might send it: a status the contract does not have
        running.cloud.bookings["page007"]["status"] = "SOMETHING_NEW"
        running.cloud.bookings["page012"]["duration"] = "twenty"
        running.cloud.bookings["page012"]["endDateTime"] = None
    with caplog.at_level(logging.WARNING, logger="app.sync.ehjzny.connector"):
        run(branch, lambda: branch.engine.sync_once(deadline=10))
    assert branch.store.local_id("ehjzny", "page007") is None
    assert branch.store.local_id("ehjzny", "page012") is None
    others = [i for i in range(BOOKINGS) if i not in (7, 12)]
    assert all(branch.store.local_id("ehjzny", f"page{i:03d}") for i in others)
    assert branch.engine._cursor("pull")["windows"]["horizon"] == {"done": True}
    assert sum("set aside" in r.getMessage() for r in caplog.records) >= 2
