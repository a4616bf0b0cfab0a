"""A long sync page never stalls the desks: the engine writes a pulled page on the store's
writer thread in bounded batches (``app.sync.engine.APPLY_BATCH``, here half a page), so
while one batch keeps its transaction open (here deliberately slow, as on a slow disk) the branch server's loop
goes on serving the day view from a read connection, within 50 ms, and a desk's write gets
in between two batches of the page. Real parts: the simulated Ehjzny cloud and the branch
server over loopback HTTP, a real SQLite file."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import httpx

from app.domain.clock import Clock, from_local, local_date, to_iso
from app.sync import engine as engine_module
from app.sync.connection import CloudConfig
from tests.clinic import bearer
from tests.clouds.ehjzny import sample_clinic, start_cloud

ZONE = "Asia/Riyadh"
SLOW = 0.8  # seconds each batch of the page keeps its transaction open
PAGE = 500
BATCH = 250


def _clinic(today, count: int) -> dict:
    clinic = sample_clinic(today, ZONE)
    created = to_iso(Clock().now() - timedelta(days=2))
    for i in range(count):
        minutes = 6 * 60 + (i // 2) % 90 * 10  # all on today: a day view of 500 bookings
        clinic["bookings"].append(
            {
                "id": f"page{i:04d}",
                "status": "CONFIRMED",
                "typeId": "typeGeneral",
                "resourceId": ("resAhmed", "resSara")[i % 2],
                "customerId": ("cusHuda", "cusLina", "cusOmar")[i % 3],
                "startDateTime": to_iso(from_local(today, minutes // 60 * 100 + minutes % 60, ZONE)),
                "duration": 10,
                "createdAt": created,
            }
        )
    return clinic


def test_day_view_answers_while_a_long_sync_page_is_written(tmp_path, monkeypatch):
    from app.composition import BranchServer

    monkeypatch.setattr(engine_module, "APPLY_BATCH", BATCH, raising=False)  # a page of two batches

    today = local_date(Clock().now(), ZONE)
    with start_cloud(clinic=_clinic(today, PAGE), zone=ZONE) as cloud:
        server = BranchServer(
            tmp_path,
            cloud=CloudConfig(cloud.url, cloud.app_id, cloud.api_key),
            sync_options={"hot_every": 3600, "horizon_every": 3600, "page_limit": PAGE},
        )
        applier = server.sync.applier
        real_apply = applier.apply_bookings
        batches: list[tuple[int, float, float]] = []  # (bookings, started, ended) of each slow batch
        inside = threading.Event()

        def slow_apply(bookings, zone, now, **options):
            changed = real_apply(bookings, zone, now, **options)
            if len(bookings) > 1:  # a pulled page's batch, not a reply
                started = time.monotonic()
                inside.set()
                time.sleep(SLOW)  # the batch's transaction stays open
                inside.clear()
                batches.append((len(bookings), started, time.monotonic()))
            return changed

        applier.apply_bookings = slow_apply
        server.start()
        try:
            times, baseline, reads, written_at = asyncio.run(_scenario(server, today, inside))
        finally:
            server.stop()
    # the reads ran while one batch of the page kept its transaction open
    assert any(began <= reads[0] and reads[1] <= ended for _, began, ended in batches), (reads, batches)
    times, baseline = sorted(times), sorted(baseline)
    shown = [round(t * 1000, 1) for t in times], [round(t * 1000, 1) for t in baseline]
    # within 50 ms — or, on a machine so busy that the same reads take longer with no write
    # running, no slower than those (the median) — and none waited for the open batch
    assert times[len(times) // 2] < max(0.050, 1.5 * baseline[len(baseline) // 2]), shown
    assert times[-1] < SLOW / 4, shown
    sizes = [b[0] for b in batches]
    assert sum(sizes) >= PAGE and max(sizes) <= BATCH, sizes
    # the desk's write got in between two batches of the page: done long before the last ended
    assert written_at < batches[-1][2] - SLOW / 2, (written_at, batches)


async def _scenario(server, today, inside: threading.Event):
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(server.token), timeout=30) as http:
        day = {"date": today.isoformat(), "includes": "customer,type"}
        for _ in range(600):
            if inside.is_set():
                break
            await asyncio.sleep(0.05)
        assert inside.is_set(), "the pull never reached its page"
        started = time.monotonic()
        write = asyncio.ensure_future(
            http.post(
                "/management/customers", json={"firstName": "Walk", "lastName": "In", "phone": "0551234567"}
            )
        )
        times = []
        for limit in range(900, 910):  # each a new query: no cached answer
            t0 = time.perf_counter()
            reply = await http.get("/management/bookings", params={**day, "limit": limit})
            times.append(time.perf_counter() - t0)
            assert reply.status_code == 200
        reads = (started, time.monotonic())
        created = await write
        assert created.status_code == 201, created.text
        written_at = time.monotonic()
        for _ in range(600):  # the rest of the pull
            if server.sync.last_pull_at:
                break
            await asyncio.sleep(0.05)
        baseline = []
        for limit in range(800, 808):  # after the pull: the same reads, no write open
            t0 = time.perf_counter()
            assert (await http.get("/management/bookings", params={**day, "limit": limit})).status_code == 200
            baseline.append(time.perf_counter() - t0)
        return times, baseline, reads, written_at
