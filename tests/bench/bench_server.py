"""Branch server benchmarks (a script, not a test): ``uv run python -m tests.bench.bench_server``.

The server runs in its own process on loopback with a day of 20 resources and 600
bookings. Measured: the day view (``GET /management/bookings?date=&includes=customer,type``)
p50/p99 for one desk alone and while 32 other desks each make one change per second;
saturation throughput of the day view and of ``/readyz`` with several client processes;
event fan-out from an accept on one desk to 20 subscribed desks. Prints a markdown table.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

DAY = date(2026, 11, 22)
RESOURCES, PER_RESOURCE = 20, 30
DAY_PATH = f"/management/bookings?date={DAY.isoformat()}&includes=customer,type"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def serve(data_dir: str, ready) -> None:
    from app.domain.clock import Clock, from_local, to_iso
    from app.server.api import create_app
    from app.server.runner import ServerThread
    from app.server.service import BookingService
    from app.store import open_store
    from tests.clinic import fill

    store = open_store(Path(data_dir) / "branch.sqlite3")
    fill(store)
    every = {"rules": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": 700, "to": 2300}]}
    store.upsert("resources", [{"id": f"r{i:02d}", "name": f"Dr {i}", "name_translations": {"en": f"Dr {i}"},
                                "category": "doctors", "types": ["gen", "dental"], "on": True, "activated": True,
                                "timeRules": every, "sortOrder": i} for i in range(RESOURCES)])
    store.upsert("customers", [{"id": f"k{i}", "firstName": f"Patient {i}", "lastName": "Test",
                                "phone": f"+9665{i:08d}", "customerNumber": 5000 + i, "searchText": f"patient {i}",
                                "createdAt": to_iso(from_local(DAY, 700, "Asia/Riyadh"))} for i in range(800)])
    service = BookingService(store, Clock(lambda: from_local(DAY, 730, "Asia/Riyadh")))
    n = 0
    for r in range(RESOURCES):
        for slot in range(PER_RESOURCE):
            minute = 8 * 60 + slot * 20
            service.create({"type": "gen", "date": DAY.isoformat(), "time": (minute // 60) * 100 + minute % 60,
                            "resourceId": f"r{r:02d}", "customerIdentifier": {"id": f"k{n}"}})
            n += 1
    api = create_app(service)
    thread = ServerThread(api, "127.0.0.1", 0).start()
    ready.put((thread.url, api.state.desks.local_token))
    while True:
        time.sleep(3600)


def latencies(url: str, token: str, count: int) -> list[float]:
    out = []
    with httpx.Client(base_url=url, headers=bearer(token)) as http:
        for _ in range(10):
            http.get(DAY_PATH)
        for _ in range(count):
            t = time.perf_counter()
            response = http.get(DAY_PATH)
            out.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200 and len(response.json()["result"]) == RESOURCES * PER_RESOURCE
    return out


def writers(url: str, token: str, desks: int, seconds: float, done) -> None:
    """``desks`` desks, each one change per second: a walk-in, then its cancel, alternating."""

    async def desk(index: int, http: httpx.AsyncClient):
        pending, end = None, time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            if pending is None:
                r = await http.put("/management/scheduling/new", json={
                    "type": "gen", "assign": False, "customerIdentifier": {"id": f"k{600 + index}"}})
                pending = r.json()["result"]["id"]
            else:
                await http.post("/management/bookings/cancel", json={"bookingId": pending, "reason": "bench"})
                pending = None
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))

    async def main():
        async with httpx.AsyncClient(base_url=url, headers=bearer(token), limits=httpx.Limits(max_connections=desks)) as http:
            await asyncio.gather(*(desk(i, http) for i in range(desks)))

    asyncio.run(main())
    done.put(True)


def hammer(url: str, token: str, path: str, seconds: float, out) -> None:
    count, end = 0, time.perf_counter() + seconds
    with httpx.Client(base_url=url, headers=bearer(token)) as http:
        while time.perf_counter() < end:
            http.get(path)
            count += 1
    out.put(count)


def throughput(url: str, token: str, path: str, procs: int, seconds: float = 4.0) -> float:
    out = mp.Queue()
    workers = [mp.Process(target=hammer, args=(url, token, path, seconds, out)) for _ in range(procs)]
    for w in workers:
        w.start()
    total = sum(out.get() for _ in workers)
    for w in workers:
        w.join()
    return total / seconds


async def fan_out(url: str, token: str, subscribers: int = 20, rounds: int = 30) -> list[float]:
    """ms from sending an accept to each of ``subscribers`` desks receiving its event."""
    received: dict[str, list[float]] = {}

    async def listen(http: httpx.AsyncClient):
        async with http.stream("GET", "/events", timeout=None) as response:
            kind = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:") and kind == "booking.changed":
                    data = json.loads(line[5:])
                    if data["action"] == "accept":
                        received.setdefault(data["booking"]["id"], []).append(time.perf_counter())

    clients = [httpx.AsyncClient(base_url=url, headers=bearer(token)) for _ in range(subscribers)]
    tasks = [asyncio.create_task(listen(c)) for c in clients]
    samples = []
    async with httpx.AsyncClient(base_url=url, headers=bearer(token)) as desk:
        await asyncio.sleep(0.5)
        for i in range(rounds):
            walk = (await desk.put("/management/scheduling/new", json={
                "type": "gen", "assign": False, "customerIdentifier": {"id": f"k{700 + i}"}})).json()["result"]
            await asyncio.sleep(0.05)
            sent = time.perf_counter()
            await desk.post("/management/bookings/assign", json={"bookingId": walk["id"], "resourceId": "dr-omar"})
            for _ in range(200):
                if len(received.get(walk["id"], [])) >= subscribers:
                    break
                await asyncio.sleep(0.005)
            samples += [(t - sent) * 1000 for t in received.get(walk["id"], [])]
            missing = subscribers - len(received.get(walk["id"], []))
            samples += [float("inf")] * missing
            end = time.perf_counter() + 0.05
            await asyncio.sleep(max(0.0, end - time.perf_counter()))
            walk_end = await desk.post("/management/bookings/end", json={"bookingId": walk["id"]})
            assert walk_end.status_code in (200, 409)
    for task in tasks:
        task.cancel()
    for c in clients:
        await c.aclose()
    return samples


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    ctx_ready = mp.Queue()
    with tempfile.TemporaryDirectory() as data_dir:
        server = mp.Process(target=serve, args=(data_dir, ctx_ready), daemon=True)
        server.start()
        url, token = ctx_ready.get(timeout=120)
        rows = []
        alone = latencies(url, token, 300)
        rows.append(("day view, 1 desk alone", f"{pct(alone, 50):.1f} ms", f"{pct(alone, 99):.1f} ms", "p50 < 10 ms"))
        done = mp.Queue()
        load = mp.Process(target=writers, args=(url, token, 32, 12.0, done))
        load.start()
        time.sleep(1.5)
        busy = latencies(url, token, 300)
        done.get(timeout=60)
        load.join()
        rows.append(("day view, 32 desks writing 1/s", f"{pct(busy, 50):.1f} ms", f"{pct(busy, 99):.1f} ms",
                     "p99 < 50 ms"))
        procs = max(2, min(8, mp.cpu_count()))
        day_rps = throughput(url, token, DAY_PATH, procs)
        ready_rps = throughput(url, token, "/readyz", procs)
        rows.append((f"saturation, {procs} client processes: day view", f"{day_rps:.0f} req/s", "", ""))
        rows.append((f"saturation, {procs} client processes: /readyz", f"{ready_rps:.0f} req/s", "", ""))
        fan = asyncio.run(fan_out(url, token))
        rows.append(("accept → 20 subscribed desks", f"{pct(fan, 50):.1f} ms", f"{pct(fan, 99):.1f} ms",
                     "p99 < 100 ms"))
        server.terminate()
    print("\n| measurement | p50 / rate | p99 | goal |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n({RESOURCES} resources, {RESOURCES * PER_RESOURCE} bookings on the day; "
          f"{mp.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')})")


if __name__ == "__main__":
    main()
