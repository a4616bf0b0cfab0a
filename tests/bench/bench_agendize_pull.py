"""What an Agendize pull costs: ``uv run python -m tests.bench.bench_agendize_pull [--appointments N]``.

The simulated Agendize cloud runs in its own process (``python -m tests.clouds.agendize``)
with N normal appointments (default 100,000: two companies of about 50,000). The
connector (``app/sync/agendize``) reads the first company through its interface methods:

1. the initial full read (requests, bytes, seconds);
2. a pull with no change, and a pull after one appointment changed cloud-side (issue's
   goal: one request, under 50 ms);
3. a full window re-read in the same run, for comparison.

Then the same through the sync engine with a branch store (SQLite in a temporary
directory): the initial sync end to end, the local apply rate (seconds inside the store's
write transactions) next to the ceiling (the same rows in one ``executemany``, one
transaction), and a pull after one cloud-side change, end to end (goal < 50 ms).

Not a pytest module. Prints two small tables.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.sync import registry
from app.sync.connector import CloudConfig

ROOT = Path(__file__).resolve().parents[2]


class Context:
    """A ConnectorContext with in-memory maps (the engine's part, without a store)."""

    zone = "Asia/Riyadh"

    def __init__(self):
        self.bookings: dict[str, str] = {}  # cloud id → status

    def now(self):
        return datetime.now(UTC)

    def cloud_id(self, entity, local_id):
        return None

    def local_id(self, entity, cloud_id):
        return cloud_id if entity == "booking" and cloud_id in self.bookings else None

    def customer(self, local_id):
        return None

    async def mark_requested(self, op):
        pass

    async def save_steps(self, op, steps):
        op.steps = steps

    async def save_secret(self, secret):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def pull(connector, ctx, cursor, full=False):
    client = connector.client
    requests, received, began = client.requests, client.received, time.perf_counter()
    rows = 0
    async for page in connector.pull(cursor, full=full):
        rows += len(page.bookings)
        ctx.bookings.update((b.cloud_id, b.row.get("status")) for b in page.bookings)
        cursor = page.cursor
    return cursor, {
        "requests": client.requests - requests,
        "bytes": client.received - received,
        "seconds": time.perf_counter() - began,
        "rows": rows,
    }


async def run(url: str, root: str, key: str, token: str, admin: str) -> list[tuple[str, dict]]:
    ctx = Context()
    companies = httpx.get(f"{url}/scheduling/companies", params={"apiKey": key, "token": token}).json()[
        "items"
    ]
    company = str(companies[0]["id"])
    config = CloudConfig(url, key, token, cloud="agendize", extra={"companyId": company})
    connector = registry.get("agendize").factory(config, ctx)
    connector.horizon_days = (-8, 4000)  # the whole generated calendar
    await connector.open()
    out = []
    try:
        cursor, first = await pull(connector, ctx, None)
        out.append(("initial full read", first))
        quiet = []
        for _ in range(7):
            cursor, one = await pull(connector, ctx, cursor)
            quiet.append(one)
        out.append(
            (
                "no-change pull (median of 7)",
                {**quiet[0], "seconds": statistics.median(q["seconds"] for q in quiet)},
            )
        )
        changed = []
        for n in range(7):
            target = sorted(c for c, status in ctx.bookings.items() if status == "CONFIRMED")[n * 97]
            httpx.post(
                f"{root}/_sim/companies/{company}/appointments/{target}/status",
                json={"status": "noShow"},
                headers={"X-Sim-Admin": admin},
            ).raise_for_status()
            cursor, one = await pull(connector, ctx, cursor)
            changed.append(one)
        out.append(
            (
                "one-change pull (median of 7)",
                {**changed[0], "seconds": statistics.median(c["seconds"] for c in changed)},
            )
        )
        connector.full_every = 0  # the nightly re-read, now
        cursor, full = await pull(connector, ctx, cursor, full=True)
        full["requests"] -= 1  # the change feed's own call before the window
        out.append(("full window re-read, same run", full))
    finally:
        await connector.close()
    return out


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


def engine_run(url: str, root: str, key: str, token: str, admin: str) -> list[tuple[str, str]]:
    from app.domain.model import BOOKING_FIELDS
    from app.server.service import BookingService
    from app.store import open_store
    from app.store.changes import UPSERT
    from app.sync.engine import SyncEngine

    companies = httpx.get(f"{url}/scheduling/companies", params={"apiKey": key, "token": token}).json()[
        "items"
    ]
    company = str(companies[0]["id"])
    config = CloudConfig(url, key, token, cloud="agendize", extra={"companyId": company})
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "branch.sqlite3")
        engine = SyncEngine(BookingService(store), config, horizon_days=(-8, 4000)).attach()
        timer = TimedTransactions(store)

        async def scenario():
            await engine.open()
            try:
                began = time.perf_counter()
                await engine.pull_reference()
                store.transaction = timer  # from here: the booking pages (and their cursors)
                await engine.pull(horizon=False, reference=False)
                total = time.perf_counter() - began
                client = engine.connector.client
                changes = []
                for n in range(7):
                    cloud_id = store.db.execute(
                        "select c.cloudId from cloud_ids c join bookings b on b.id = c.localId where c.cloud ="
                        " 'agendize' and c.entity = 'booking' and b.status = 'CONFIRMED' and b.visitStatus is null"
                        " order by c.cloudId limit 1 offset ?",
                        [n * 89],
                    ).fetchone()[0]
                    httpx.post(
                        f"{root}/_sim/companies/{company}/appointments/{cloud_id}/status",
                        json={"status": "noShow"},
                        headers={"X-Sim-Admin": admin},
                    ).raise_for_status()
                    requests, began = client.requests, time.perf_counter()
                    await engine.pull(horizon=False, reference=False)
                    changes.append((time.perf_counter() - began, client.requests - requests))
                    assert store.booking(store.local_id("agendize", cloud_id))["visitStatus"] == "NO_SHOW"
                return total, changes
            finally:
                await engine.close()

        total, changes = asyncio.run(scenario())
        pulled = store.db.execute("select count(*) from bookings").fetchone()[0]
        rows = [
            tuple(r)
            for r in store.db.execute(
                f"select {', '.join(chr(34) + f + chr(34) for f in BOOKING_FIELDS)} from bookings"
            )
        ]
        store.close()
        ceiling_store = open_store(Path(tmp) / "ceiling.sqlite3")
        began = time.perf_counter()
        with ceiling_store.transaction():
            ceiling_store.db.conn.executemany(UPSERT, rows)
        ceiling = time.perf_counter() - began
        ceiling_store.close()
    apply_rate, ceiling_rate = pulled / timer.seconds, len(rows) / ceiling
    seconds = statistics.median(c[0] for c in changes)
    out += [
        ("initial sync through the engine, end to end", f"{total:.1f} s for {pulled:,} bookings"),
        ("local apply (in write transactions)", f"{apply_rate:,.0f} bookings/s ({timer.seconds:.1f} s)"),
        ("ceiling: one executemany, one transaction", f"{ceiling_rate:,.0f} bookings/s ({ceiling:.2f} s)"),
        ("apply / ceiling", f"{100 * apply_rate / ceiling_rate:.0f} %"),
        (
            "pull after one cloud change, end to end (median of 7)",
            f"{seconds * 1000:.1f} ms, {max(c[1] for c in changes)} request(s)",
        ),
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appointments", type=int, default=100_000)
    args = parser.parse_args()
    port, key, token, admin = (
        free_port(),
        "ak" + secrets.token_hex(8),
        "st" + secrets.token_hex(8),
        secrets.token_hex(8),
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.clouds.agendize",
            "--port",
            str(port),
            "--appointments",
            str(args.appointments),
            "--page-size",
            "500",
            "--api-key",
            key,
            "--token",
            token,
            "--admin-key",
            admin,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("admin"):
                break
        root = f"http://127.0.0.1:{port}"
        results = asyncio.run(run(root + "/api/2.1", root, key, token, admin))
        through_engine = engine_run(root + "/api/2.1", root, key, token, admin)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"{'measurement':34} {'rows':>7} {'requests':>9} {'bytes':>12} {'time':>10}")
    for name, r in results:
        seconds = r["seconds"]
        shown = f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
        print(f"{name:34} {r['rows']:>7} {r['requests']:>9} {r['bytes']:>12,} {shown:>10}")
    print()
    for name, value in through_engine:
        print(f"{name:55} {value}")


if __name__ == "__main__":
    main()
