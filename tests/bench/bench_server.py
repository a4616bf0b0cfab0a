"""Branch server benchmarks (a script, not a test): ``uv run python -m tests.bench.bench_server``.

The server runs in its own process on loopback with a day of 20 resources and 600
bookings. Measured: the day view (``GET /management/bookings?date=&includes=customer,type``)
p50/p99 for one desk alone and while 32 other desks each make one change per second;
saturation throughput of the day view and of ``/readyz`` with several client processes;
event fan-out from an accept on one desk to 20 and to 100 subscribed desks; the capacity
curve: the day view while N desks (8…128) each make one change a second and react to the
events as the real desk does (``app.client.live``), next to the refetching desk of before
as the baseline, with the requests the server serves per change. Prints markdown tables.

    uv run python -m tests.bench.bench_server [--desks 8,16,32,64,128] [--baseline 8,32] [--seconds 10]
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
    store.upsert(
        "resources",
        [
            {
                "id": f"r{i:02d}",
                "name": f"Dr {i}",
                "name_translations": {"en": f"Dr {i}"},
                "category": "doctors",
                "types": ["gen", "dental"],
                "on": True,
                "activated": True,
                "timeRules": every,
                "sortOrder": i,
            }
            for i in range(RESOURCES)
        ],
    )
    store.upsert(
        "customers",
        [
            {
                "id": f"k{i}",
                "firstName": f"Patient {i}",
                "lastName": "Test",
                "phone": f"+9665{i:08d}",
                "customerNumber": 5000 + i,
                "searchText": f"patient {i}",
                "createdAt": to_iso(from_local(DAY, 700, "Asia/Riyadh")),
            }
            for i in range(800)
        ],
    )
    service = BookingService(store, Clock(lambda: from_local(DAY, 730, "Asia/Riyadh")))
    n = 0
    for r in range(RESOURCES):
        for slot in range(PER_RESOURCE):
            minute = 8 * 60 + slot * 20
            service.create(
                {
                    "type": "gen",
                    "date": DAY.isoformat(),
                    "time": (minute // 60) * 100 + minute % 60,
                    "resourceId": f"r{r:02d}",
                    "customerIdentifier": {"id": f"k{n}"},
                }
            )
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
                r = await http.put(
                    "/management/scheduling/new",
                    json={"type": "gen", "assign": False, "customerIdentifier": {"id": f"k{600 + index}"}},
                )
                pending = r.json()["result"]["id"]
            else:
                await http.post("/management/bookings/cancel", json={"bookingId": pending, "reason": "bench"})
                pending = None
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))

    async def main():
        async with httpx.AsyncClient(
            base_url=url, headers=bearer(token), limits=httpx.Limits(max_connections=desks)
        ) as http:
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
            walk = (
                await desk.put(
                    "/management/scheduling/new",
                    json={"type": "gen", "assign": False, "customerIdentifier": {"id": f"k{700 + i}"}},
                )
            ).json()["result"]
            await asyncio.sleep(0.05)
            sent = time.perf_counter()
            await desk.post(
                "/management/bookings/assign", json={"bookingId": walk["id"], "resourceId": "dr-omar"}
            )
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


def desks_process(url: str, token: str, first: int, count: int, seconds: float, react: str, out) -> None:
    """``count`` desks (numbered from ``first``), each as the real desk: the day and the queue
    loaded once, an event stream open (:meth:`app.client.DeskClient.events`), one change a
    second (a walk-in, then its cancel). ``react="apply"``: events and the action's own reply
    are applied to the rows (:class:`app.client.live.LiveDay`, a refetch only when it asks);
    ``react="refetch"`` (the desk before): every burst of events refetches day and queue.
    Puts ``{"changes", "requests", "refetches", "events", "failed"}`` (after each desk's
    first load; ``failed``: desks whose request failed, e.g. timed out)."""
    from app.client import DeskClient
    from app.client.live import REFETCH, LiveDay

    totals = {"changes": 0, "requests": 0, "refetches": 0, "events": 0, "failed": 0}

    async def desk(index: int):
        client = DeskClient(url, token=token, desk_id=f"bench-{index}")
        live = LiveDay("Asia/Riyadh", DAY)
        stop = time.perf_counter() + seconds
        dirty = asyncio.Event()

        async def refetch():
            day, waiting = await asyncio.gather(client.day(DAY), client.waiting())
            live.load(day, waiting)
            totals["requests"] += 2
            totals["refetches"] += 1

        async def follow():
            async for event in client.events():
                totals["events"] += 1
                if react == "refetch" or live.apply(event) == REFETCH or live.missing:
                    live.missing.clear()
                    dirty.set()

        async def refetcher():
            while True:
                await dirty.wait()
                await asyncio.sleep(0.15)  # the desk's debounce
                dirty.clear()
                await refetch()

        try:
            await refetch()
        except Exception:
            totals["failed"] += 1
            await client.aclose()
            return
        totals["requests"] -= 2  # the first load is not a change's cost
        totals["refetches"] -= 1
        tasks = [asyncio.create_task(follow()), asyncio.create_task(refetcher())]
        await asyncio.sleep(index % 100 / 100)  # spread the desks over the second
        pending = None
        try:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                if pending is None:
                    reply = await client.walk_in("gen", f"k{(600 + index) % 800}")
                    pending = reply["id"]
                else:
                    reply = await client.cancel(pending, "bench")
                    pending = None
                live.put(reply)
                totals["changes"] += 1
                totals["requests"] += 1
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))
        except Exception:
            totals["failed"] += 1
        finally:
            for task in tasks:
                task.cancel()
            await client.aclose()

    async def main():
        await asyncio.gather(*(desk(first + i) for i in range(count)), return_exceptions=True)

    asyncio.run(main())
    out.put(totals)


def capacity(url: str, token: str, desks: int, react: str, seconds: float = 10.0, procs: int = 2) -> dict:
    """Day-view latency (a separate prober) while ``desks`` desks work as :func:`desks_process`."""
    out = mp.Queue()
    share = [desks // procs + (1 if i < desks % procs else 0) for i in range(procs)]
    starts = [sum(share[:i]) for i in range(procs)]
    workers = [
        mp.Process(target=desks_process, args=(url, token, starts[i], share[i], seconds + 2, react, out))
        for i in range(procs)
        if share[i]
    ]
    for w in workers:
        w.start()
    time.sleep(2.5)  # the desks loaded and their streams open
    samples, end = [], time.perf_counter() + seconds - 1.5
    with httpx.Client(base_url=url, headers=bearer(token), timeout=60) as http:
        i = 0
        while time.perf_counter() < end or not samples:
            i += 1
            t = time.perf_counter()
            assert http.get(DAY_PATH + f"&limit={4000 + i % 997}").status_code == 200  # never a cached answer
            samples.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
    totals = {"changes": 0, "requests": 0, "refetches": 0, "events": 0, "failed": 0}
    for _ in workers:
        for key, value in out.get(timeout=120).items():
            totals[key] += value
    for w in workers:
        w.join()
    return {
        "p50": pct(samples, 50),
        "p99": pct(samples, 99),
        **totals,
        "per_change": totals["requests"] / max(1, totals["changes"]),
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="branch server benchmarks")
    parser.add_argument(
        "--desks",
        type=lambda t: [int(x) for x in t.split(",")],
        default=[8, 16, 32, 64, 128],
        help="capacity curve sizes (comma-separated)",
    )
    parser.add_argument(
        "--baseline",
        type=lambda t: [int(x) for x in t.split(",") if x],
        default=[8, 32],
        help="sizes measured with the refetching desk of before, as the baseline",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per capacity point")
    args = parser.parse_args(argv)
    ctx_ready = mp.Queue()
    with tempfile.TemporaryDirectory() as data_dir:
        server = mp.Process(target=serve, args=(data_dir, ctx_ready), daemon=True)
        server.start()
        url, token = ctx_ready.get(timeout=120)
        rows = []
        alone = latencies(url, token, 300)
        rows.append(
            ("day view, 1 desk alone", f"{pct(alone, 50):.1f} ms", f"{pct(alone, 99):.1f} ms", "p50 < 10 ms")
        )
        done = mp.Queue()
        load = mp.Process(target=writers, args=(url, token, 32, 12.0, done))
        load.start()
        time.sleep(1.5)
        busy = latencies(url, token, 300)
        done.get(timeout=60)
        load.join()
        rows.append(
            (
                "day view, 32 desks writing 1/s",
                f"{pct(busy, 50):.1f} ms",
                f"{pct(busy, 99):.1f} ms",
                "p99 < 50 ms",
            )
        )
        procs = max(2, min(8, mp.cpu_count()))
        day_rps = throughput(url, token, DAY_PATH, procs)
        ready_rps = throughput(url, token, "/readyz", procs)
        rows.append((f"saturation, {procs} client processes: day view", f"{day_rps:.0f} req/s", "", ""))
        rows.append((f"saturation, {procs} client processes: /readyz", f"{ready_rps:.0f} req/s", "", ""))
        rows.append(("saturation: day view / `/readyz`", f"{day_rps / ready_rps:.0%}", "", "≥ 60 %"))
        fan = asyncio.run(fan_out(url, token))
        rows.append(
            (
                "accept → 20 subscribed desks",
                f"{pct(fan, 50):.1f} ms",
                f"{pct(fan, 99):.1f} ms",
                "p99 < 100 ms",
            )
        )
        fan = asyncio.run(fan_out(url, token, subscribers=100, rounds=20))
        rows.append(
            (
                "accept → 100 subscribed desks",
                f"{pct(fan, 50):.1f} ms",
                f"{pct(fan, 99):.1f} ms",
                "p99 < 100 ms",
            )
        )
        curve = []
        for react, sizes in (("refetch", args.baseline), ("apply", args.desks)):
            for n in sizes:
                result = capacity(url, token, n, react, seconds=args.seconds)
                curve.append((react, n, result))
                print(
                    f"  {react:8} N={n:4}: p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
                    f"{result['per_change']:.2f} requests per change, {result['refetches']} refetches, "
                    f"{result['events']} events, {result['changes']} changes, {result['failed']} desks failed",
                    flush=True,
                )
        server.terminate()
    print("\n| measurement | p50 / rate | p99 | goal |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        "\nCapacity: N desks, each one change a second and an event stream it reacts to as the desk does"
        " (apply: the events' rows applied; refetch: the desk before, every event refetches day and queue)"
    )
    print(
        "\n| desks react | N | day view p50 | p99 | requests per change | full refetches | changes |"
        "\n|---|---|---|---|---|---|---|"
    )
    for react, n, r in curve:
        print(
            f"| {react} | {n} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['per_change']:.2f} | {r['refetches']} |"
            f" {r['changes']} |"
        )
    fits = [n for react, n, r in curve if react == "apply" and r["p99"] < 50]
    print(f"\nlargest N with p99 < 50 ms (apply): {max(fits) if fits else 'none'} (goal ≥ 100)")
    print(
        f"\n({RESOURCES} resources, {RESOURCES * PER_RESOURCE} bookings on the day; "
        f"{mp.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')})"
    )


if __name__ == "__main__":
    main()
