"""Sync benchmarks: ``uv run python -m tests.bench.bench_sync [--bookings N]``.

1. Initial sync of N (default 50,000) bookings from the simulated cloud (run in its own
   process, so it does not share the GIL): end-to-end time (goal < 10 s) with a thread
   beside it standing in for the desk's GUI thread (:class:`GuiProbe`: how late its 5 ms
   wake-ups come, goal < 50 ms, next to the same thread idle); the local apply rate
   (bookings/s inside the store's write transactions, excluding network wait, from a second
   initial sync whose pages are fetched only after the one before is written, so nothing
   shares the interpreter with the writes) and, as the ceiling, the same rows upserted
   straight into SQLite with one ``executemany`` in one transaction (goal: apply ≥ 50 % of
   the ceiling).
2. An offline backlog of 200 changes drained after reconnecting, with 50 ms added to
   every cloud call (goal < 60 s).
3. Rekaz: the initial sync of N (``--rekaz-bookings``, default 10,000) reservations of one
   branch in the horizon (−1 to +30 days) from the simulated Rekaz cloud (its own
   process), read 100 a page (Rekaz API reference: ``maxResultCount`` max 100): end to end, the local
   apply rate and the same ceiling. The simulation filters and sorts every reservation
   for each page, so its end-to-end time grows with N squared; the apply rate does not.

Not a pytest module (pytest collects ``test_*.py`` only). Prints a small table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from app.domain.clock import Clock, from_local, local_date, to_iso
from app.domain.model import BOOKING_FIELDS
from app.server.service import BookingService
from app.store import open_store
from app.sync.connection import CloudConfig
from app.sync.engine import APPLY_BATCH, SyncEngine

ZONE = "Asia/Riyadh"
ROOT = Path(__file__).resolve().parents[2]


def cloud_clinic(bookings: int) -> dict:
    from tests.clouds.ehjzny import sample_clinic

    today = local_date(Clock().now(), ZONE)
    clinic = sample_clinic(today, ZONE)
    customers = [
        {"id": f"cus{i:04d}", "firstName": f"Patient {i}", "lastName": "Bench", "phone": f"+9665{i:08d}"}
        for i in range(500)
    ]
    clinic["customers"] += customers
    created = to_iso(Clock().now() - timedelta(days=5))
    rows = []
    for i in range(bookings):
        day = today + timedelta(days=i % 30)
        minutes = (i // 60) % 70 * 20
        start = from_local(day, minutes // 60 * 100 + minutes % 60, ZONE)
        rows.append(
            {
                "id": f"bench{i:06d}",
                "status": "CONFIRMED",
                "typeId": "typeGeneral",
                "resourceId": ("resAhmed", "resSara")[i % 2],
                "customerId": customers[i % 500]["id"],
                "startDateTime": to_iso(start),
                "duration": 20,
                "createdAt": created,
            }
        )
    clinic["bookings"] += rows
    return clinic


def serve_cloud(bookings: int) -> None:
    """Child process: run a simulated cloud with ``bookings`` bookings; print how to reach it."""
    from tests.clouds.ehjzny import start_cloud

    with start_cloud(clinic=cloud_clinic(bookings), zone=ZONE, page_token_ttl=600) as running:
        print(
            json.dumps({"url": running.url, "appId": running.app_id, "apiKey": running.api_key}), flush=True
        )
        sys.stdin.read()  # until the parent closes our stdin


def rekaz_cloud(bookings: int, providers: int = 40):
    """A simulated Rekaz tenant with one branch, one free 15-minute price served by
    ``providers`` providers, 500 customers and ``bookings`` confirmed reservations over the
    30 days from today (no provider holds two at once); returns (cloud, branch id)."""
    from tests.clouds.rekaz import RekazCloud

    cloud = RekazCloud(zone=ZONE)
    branch = cloud.add_branch("الفرع الرئيسي", "Main Branch")["id"]
    staff = [cloud.add_provider(f"Dr. Bench {i:02d}")["id"] for i in range(providers)]
    product = cloud.add_product(
        "كشف عام",
        "General consultation",
        [{"nameAr": "كشف", "nameEn": "Visit", "amount": 0, "duration": 15}],
        staff,
        [branch],
    )
    customers = [cloud.add_customer(f"Patient{i} Bench", f"+9665{i:08d}", branch)["id"] for i in range(500)]
    today = local_date(Clock().now(), ZONE)
    rows = []
    for i in range(bookings):
        slot, provider = divmod(i // 30, providers)
        minutes = slot * 15
        if minutes >= 24 * 60:
            raise ValueError(f"{bookings} reservations do not fit {providers} providers in 30 days")
        start = from_local(today + timedelta(days=i % 30), minutes // 60 * 100 + minutes % 60, ZONE)
        rows.append((start, customers[i % 500], staff[provider]))
    cloud.load_reservations(branch, product["pricing"][0]["id"], rows)
    return cloud, branch


def serve_rekaz(bookings: int) -> None:
    """Child process: run a simulated Rekaz cloud (:func:`rekaz_cloud`); print how to reach it."""
    from tests.clouds.rekaz import start_cloud

    cloud, branch = rekaz_cloud(bookings)
    with start_cloud(cloud) as running:
        print(
            json.dumps({"url": running.url, "tenant": cloud.tenant, "key": cloud.key, "branchId": branch}),
            flush=True,
        )
        sys.stdin.read()


@contextmanager
def cloud_process(bookings: int, cloud: str = "ehjzny"):
    serve = "--serve-rekaz" if cloud == "rekaz" else "--serve-cloud"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bench_sync", serve, str(bookings)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(child.stdout.readline())
        yield info
    finally:
        child.stdin.close()
        child.wait(timeout=30)


class TimedTransactions:
    """Wraps ``store.transaction`` to add up the seconds spent writing (local apply time)."""

    def __init__(self, store):
        self.store, self.seconds, self._inner = store, 0.0, store.transaction

    @contextmanager
    def __call__(self):
        started = time.perf_counter()
        with self._inner() as db:
            yield db
        self.seconds += time.perf_counter() - started


class GuiProbe:
    """A thread standing in for the desk's GUI thread in the same process as the engine: it
    wakes every ``tick`` seconds (as a Qt timer would) and notes how late each wake-up was,
    i.e. how long it waited for the interpreter (the GIL) held by the sync's threads."""

    def __init__(self, tick: float = 0.005):
        self.tick, self.late, self._stop = tick, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            due = time.perf_counter() + self.tick
            time.sleep(self.tick)
            self.late.append(max(0.0, time.perf_counter() - due))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def figures(self) -> tuple[float, float]:
        """(worst, p99) lateness in ms."""
        late = sorted(self.late) or [0.0]
        return 1000 * late[-1], 1000 * late[min(len(late) - 1, int(len(late) * 0.99))]


def _first_sync(info: dict, cloud: str, path: Path, *, read_ahead: bool | None = None):
    """One initial sync into a new store at ``path`` → (seconds end to end, bookings pulled,
    seconds inside the booking pages' write transactions, the rows as the UPSERT takes them).
    ``read_ahead=False``: pages fetched only after the one before is written (the engine
    before read-ahead), so the write transactions share the interpreter with nothing."""
    store = open_store(path)
    if cloud == "rekaz":
        config = CloudConfig(
            info["url"], info["tenant"], info["key"], cloud="rekaz", extra={"branchId": info["branchId"]}
        )
    else:
        config = CloudConfig(info["url"], info["appId"], info["apiKey"])
    engine = SyncEngine(BookingService(store), config).attach()
    if read_ahead is not None:
        engine.connector.read_ahead = read_ahead
    timer = TimedTransactions(store)

    async def first_sync():
        try:
            await engine.open()
            await engine.pull_reference()
            store.transaction = timer  # from here: the booking pages (and their cursors)
            return await engine.sync_once(deadline=120)
        finally:
            await engine.close()

    started = time.perf_counter()
    status = asyncio.run(first_sync())
    total = time.perf_counter() - started
    pulled = store.db.execute("select count(*) from bookings").fetchone()[0]
    columns = ", ".join(f'"{f}"' for f in (*BOOKING_FIELDS, "source"))  # as the store's UPSERT takes them
    rows = [tuple(r) for r in store.db.execute(f"select {columns} from bookings")]
    store.close()
    assert status["pending"] == 0, status
    return total, pulled, timer.seconds, rows


def bench_initial(bookings: int, cloud: str = "ehjzny") -> list[tuple[str, str, str]]:
    """The initial sync end to end (as shipped: Ehjzny reads ahead) with the GUI probe
    beside it; for Ehjzny a second initial sync into a new store with pages fetched only
    after the one before is written gives the apply rate alone; then the ceiling."""
    with cloud_process(bookings, cloud) as info, tempfile.TemporaryDirectory() as tmp:
        with GuiProbe() as idle:
            time.sleep(2)
        with GuiProbe() as during:
            total, pulled, in_run, rows = _first_sync(info, cloud, Path(tmp) / "branch.sqlite3")
        alone = in_run
        if cloud == "ehjzny":
            _, again, alone, _ = _first_sync(info, cloud, Path(tmp) / "alone.sqlite3", read_ahead=False)
            assert again == pulled, (again, pulled)
        ceiling_store = open_store(Path(tmp) / "ceiling.sqlite3")
        from app.store.changes import UPSERT as _UPSERT

        started = time.perf_counter()
        with ceiling_store.transaction():
            ceiling_store.db.conn.executemany(_UPSERT, rows)
        ceiling = time.perf_counter() - started
        ceiling_store.close()
        batched_store = open_store(Path(tmp) / "batched.sqlite3")  # the same, in the engine's transactions
        started = time.perf_counter()
        for first in range(0, len(rows), APPLY_BATCH):
            with batched_store.transaction():
                batched_store.db.conn.executemany(_UPSERT, rows[first : first + APPLY_BATCH])
        batched = time.perf_counter() - started
        batched_store.close()
    assert pulled >= bookings, pulled
    apply_rate, ceiling_rate = pulled / alone, len(rows) / ceiling
    label = "" if cloud == "ehjzny" else f"{cloud}: "
    out = [(f"{label}initial sync, end to end", f"{total:.1f} s for {pulled:,} bookings", "< 10 s")]
    if cloud == "ehjzny":
        out.append(
            (
                f"{label}write transactions during it (fetch alongside)",
                f"{pulled / in_run:,.0f} bookings/s ({in_run:.1f} s)",
                "",
            )
        )
    out += [
        (
            f"{label}local apply (write transactions, nothing alongside)",
            f"{apply_rate:,.0f} bookings/s ({alone:.1f} s)",
            "",
        ),
        (
            f"{label}ceiling: one executemany, one transaction",
            f"{ceiling_rate:,.0f} bookings/s ({ceiling:.2f} s)",
            "",
        ),
        (f"{label}apply / ceiling", f"{100 * apply_rate / ceiling_rate:.0f} %", ">= 50 %"),
        (
            f"{label}the ceiling's executemany in {APPLY_BATCH}-row transactions",
            f"{len(rows) / batched:,.0f} bookings/s ({batched:.2f} s)",
            "",
        ),
        (
            f"{label}GUI stand-in thread, worst wait / p99 during the sync",
            "{:.1f} ms / {:.1f} ms".format(*during.figures()),
            "< 50 ms",
        ),
        (
            f"{label}GUI stand-in thread, worst wait / p99 idle (baseline)",
            "{:.1f} ms / {:.1f} ms".format(*idle.figures()),
            "",
        ),
    ]
    return out


def bench_backlog(changes: int = 200, latency_ms: int = 50) -> list[tuple[str, str, str]]:
    with cloud_process(0) as info, tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "branch.sqlite3")
        service = BookingService(store)
        engine = SyncEngine(service, CloudConfig(info["url"], info["appId"], info["apiKey"])).attach()

        async def run(coro_factory):
            try:
                return await coro_factory()
            finally:
                await engine.close()

        asyncio.run(run(lambda: engine.sync_once(deadline=30)))
        customer = store.local_id("ehjzny", "cusHuda", "customer")
        day, made = local_date(Clock().now(), ZONE) + timedelta(days=1), 0
        while made < changes:
            if day.weekday() != 4:
                for resource in ("resAhmed", "resSara"):
                    for minutes in list(range(9 * 60, 13 * 60, 20)) + list(range(16 * 60, 21 * 60, 20)):
                        if made < changes:
                            service.create(
                                {
                                    "type": "typeGeneral",
                                    "date": day.isoformat(),
                                    "time": minutes // 60 * 100 + minutes % 60,
                                    "resourceId": resource,
                                    "customerIdentifier": {"id": customer},
                                }
                            )
                            made += 1
            day += timedelta(days=1)
        httpx.post(info["url"] + "/_sim/faults", json={"kind": "latency", "ms": latency_ms, "count": None})

        async def drain():
            await engine.open()
            started = time.perf_counter()
            while engine.outbox.pending_count():
                await engine.push()
                if engine.outbox.pending_count():
                    await asyncio.sleep(0.05)
            return time.perf_counter() - started

        seconds = asyncio.run(run(drain))
        left = engine.outbox.pending_count()
        store.close()
    return [
        (
            f"offline backlog of {changes} changes, +{latency_ms} ms per call",
            f"drained in {seconds:.1f} s ({left} left)",
            "< 60 s",
        )
    ]


# ---- DigitalBooker: the same initial sync through its connector (changed-since, offset pages of 100) ----
def serve_digitalbooker(bookings: int) -> None:
    """Child process: a simulated DigitalBooker cloud whose first location holds ``bookings``
    confirmed service bookings over the next 30 days (written straight into its state)."""
    from datetime import time

    from tests.clouds.digitalbooker import ADMIN, DigitalBookerCloud, generate_clinic, start_cloud

    cloud = DigitalBookerCloud(zone=ZONE)
    clinic = generate_clinic(cloud, bookings=0)
    location = clinic["locations"][0]
    workers, service = clinic["workers"][location], clinic["services"][location][0]
    today = cloud.today()
    with cloud.lock:  # straight into the state, several bookings a slot (a listing benchmark, not a calendar)
        for i in range(bookings):
            column, row = divmod(i, len(workers) * 30)
            start = time(column // 6 % 24, column % 6 * 10)
            record = cloud._new_record(
                "service",
                location,
                today + timedelta(days=row % 30),
                start,
                30,
                [workers[row // 30 % len(workers)]],
                clinic["users"][i % len(clinic["users"])],
                ADMIN,
            )
            record.update(service_id=service, confirmed=True)
            cloud._store(record)
    with start_cloud(cloud) as running:
        print(
            json.dumps(
                {
                    "url": running.url,
                    "account": cloud.key_id,
                    "secret": cloud.password,
                    "location": str(location),
                }
            ),
            flush=True,
        )
        sys.stdin.read()


def bench_digitalbooker(bookings: int) -> list[tuple[str, str, str]]:
    """Initial sync of ``bookings`` DigitalBooker bookings through the engine, the local apply
    rate, and the ``executemany`` ceiling of the same rows in the same run."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bench_sync", "--serve-digitalbooker", str(bookings)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(child.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / "branch.sqlite3")
            config = CloudConfig(
                info["url"],
                info["account"],
                info["secret"],
                cloud="digitalbooker",
                extra={"locationId": info["location"]},
            )
            engine = SyncEngine(BookingService(store), config).attach()
            timer = TimedTransactions(store)

            async def first_sync():
                try:
                    await engine.open()
                    await engine.pull_reference()
                    store.transaction = timer
                    return await engine.sync_once(deadline=600)
                finally:
                    await engine.close()

            started = time.perf_counter()
            status = asyncio.run(first_sync())
            total = time.perf_counter() - started
            pulled = store.db.execute("select count(*) from bookings").fetchone()[0]
            rows = [
                tuple(r)
                for r in store.db.execute(
                    f"select {', '.join(chr(34) + f + chr(34) for f in (*BOOKING_FIELDS, 'source'))} from bookings"
                )
            ]
            store.close()
            ceiling_store = open_store(Path(tmp) / "ceiling.sqlite3")
            from app.store.changes import UPSERT as _UPSERT

            started = time.perf_counter()
            with ceiling_store.transaction():
                ceiling_store.db.conn.executemany(_UPSERT, rows)
            ceiling = time.perf_counter() - started
            ceiling_store.close()
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    apply_rate, ceiling_rate = pulled / timer.seconds, len(rows) / ceiling
    assert status["pending"] == 0 and pulled >= bookings, (status, pulled)
    return [
        ("DigitalBooker: initial sync, end to end", f"{total:.1f} s for {pulled:,} bookings", ""),
        (
            "DigitalBooker: local apply (in write transactions)",
            f"{apply_rate:,.0f} bookings/s ({timer.seconds:.1f} s)",
            "",
        ),
        ("DigitalBooker: ceiling, one executemany", f"{ceiling_rate:,.0f} bookings/s ({ceiling:.2f} s)", ""),
        ("DigitalBooker: apply / ceiling", f"{100 * apply_rate / ceiling_rate:.0f} %", ">= 50 %"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_sync", description=__doc__)
    parser.add_argument("--bookings", type=int, default=50_000)
    parser.add_argument(
        "--digitalbooker-bookings",
        type=int,
        default=50_000,
        help="bookings of the DigitalBooker initial sync (default: %(default)s)",
    )
    parser.add_argument(
        "--rekaz-bookings", type=int, default=10_000, help="Rekaz reservations (0: skip Rekaz)"
    )
    parser.add_argument(
        "--only",
        choices=("ehjzny", "rekaz", "digitalbooker"),
        default=None,
        help="run one cloud's benchmarks only",
    )
    parser.add_argument("--serve-cloud", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve-rekaz", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve-digitalbooker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_cloud is not None:
        return serve_cloud(args.serve_cloud)
    if args.serve_rekaz is not None:
        return serve_rekaz(args.serve_rekaz)
    if args.serve_digitalbooker is not None:
        return serve_digitalbooker(args.serve_digitalbooker)
    rows = []
    if args.only in (None, "ehjzny"):
        rows += bench_initial(args.bookings) + bench_backlog()
    if args.only in (None, "rekaz") and args.rekaz_bookings:
        rows += bench_initial(args.rekaz_bookings, "rekaz")
    if args.only in (None, "digitalbooker"):
        rows += bench_digitalbooker(args.digitalbooker_bookings)
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)}  {'result':42}  goal")
    for name, result, goal in rows:
        print(f"{name.ljust(width)}  {result:42}  {goal}")


if __name__ == "__main__":
    main()
