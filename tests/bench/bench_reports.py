"""Reports benchmark (a script, not collected by pytest)::

    uv run python -m tests.bench.bench_reports [--bookings 250000] [--runs 5] [--no-window]

1. A year of a 20-resource clinic written straight into a branch store: about 250,000
   bookings (34 a resource a working day: made ahead at the desk, walk-ins and cloud
   bookings; completed, no-shows, canceled, still to come), their check-in/check-out
   attendances and a payment for most completed visits (some refunds): taken at the desk,
   or — for a good part of the cloud bookings — paid in the cloud (an invoice total, or a
   payment the cloud lists), which the revenue report counts too.
2. Each report over the whole year on a real branch server on 127.0.0.1, through the
   desk's client (median of ``--runs``), next to the same aggregate written by hand as one
   SQL query on a connection of its own, in the same run. Goals: each report < 300 ms and
   within 2× of its hand-written query.
3. The *Reports* window on that server, offscreen: from ``show()`` until every chart is
   drawn (the reports fetched and the window painted). Goal < 500 ms.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

ZONE = "Asia/Riyadh"
FIRST = date(2025, 12, 1)
DAYS = 365
WEEK = ["sat", "sun", "mon", "tue", "wed", "thu", "fri"]
RULES = {"rules": [{"days": WEEK, "from": 800, "to": 1400}, {"days": WEEK, "from": 1600, "to": 2200}]}
TYPES = (("gen", 20, "150.00"), ("dental", 30, "250.00"), ("follow", 15, "80.00"))
METHODS = ("cash", "card", "card", "online", "transfer")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(path: Path, n_bookings: int, seed: int = 7) -> tuple[date, date]:
    """Write the synthetic year into a new branch store at ``path``; returns the range."""
    from zoneinfo import ZoneInfo

    from app.domain import payments as pay
    from app.domain.model import BOOKING_FIELDS
    from app.store import open_store

    rnd = random.Random(seed)
    zone = ZoneInfo(ZONE)
    store = open_store(path)
    store.set_setting(
        "branch",
        {
            "name": "Bench clinic",
            "name_translations": {"en": "Bench clinic", "ar": "عيادة"},
            "timeZone": ZONE,
        },
    )
    store.upsert(
        "types",
        [
            {
                "id": t,
                "name": t,
                "name_translations": {"en": t, "ar": t},
                "minutes": m,
                "leaveMinutesBefore": 0,
                "leaveMinutesAfter": 0,
                "color": "#4f9dde",
                "price": price,
                "autoConfirm": True,
                "on": True,
            }
            for t, m, price in TYPES
        ],
    )
    store.upsert(
        "resources",
        [
            {
                "id": f"r{i:02d}",
                "name": f"Dr. {i}",
                "name_translations": {"en": f"Dr. {i}", "ar": f"د. {i}"},
                "category": "doctors",
                "types": [t for t, _m, _p in TYPES],
                "on": True,
                "activated": True,
                "timeRules": RULES,
                "sortOrder": i,
            }
            for i in range(20)
        ],
    )
    store.upsert(
        "customers",
        [
            {
                "id": f"c{i}",
                "firstName": f"P{i}",
                "lastName": "X",
                "phone": None,
                "customerNumber": 1000 + i,
                "searchText": f"p{i} x",
                "createdAt": "2025-01-01T00:00:00Z",
            }
            for i in range(2000)
        ],
    )
    working_days = [FIRST + timedelta(days=d) for d in range(DAYS)]
    per_day = max(1, round(n_bookings / (len(working_days) * 20)))
    now = datetime.combine(FIRST + timedelta(days=DAYS - 20), datetime.min.time(), zone)
    columns = (*BOOKING_FIELDS, "source")
    bookings, attendances, payments, cloud_money, cloud_payments = [], [], [], [], []
    minutes_of = {t: m for t, m, _p in TYPES}
    price_of = {t: pay.to_minor(p) for t, _m, p in TYPES}
    invoice = 0
    k = 0
    for day in working_days:
        for r in range(20):
            slots = sorted(rnd.sample(range(36), min(per_day, 36)))
            for slot in slots:
                k += 1
                type_id = TYPES[rnd.randrange(3)][0]
                minutes = minutes_of[type_id]
                hour = 8 + slot // 3 if slot < 18 else 16 + (slot - 18) // 3
                start = datetime(day.year, day.month, day.day, hour, 20 * (slot % 3), tzinfo=zone)
                source = rnd.choices(("desk", "walk-in", "cloud"), (0.55, 0.15, 0.30))[0]
                created = start - (
                    timedelta(minutes=rnd.randrange(5, 90))
                    if source == "walk-in"
                    else timedelta(days=rnd.randrange(1, 20))
                )
                row = dict.fromkeys(columns)
                row.update(
                    id=f"b{k}",
                    typeId=type_id,
                    resourceId=f"r{r:02d}",
                    customerId=f"c{rnd.randrange(2000)}",
                    startDateTime=_iso(start),
                    endDateTime=_iso(start + timedelta(minutes=minutes)),
                    duration=minutes,
                    createdAt=_iso(created),
                    updatedAt=_iso(created),
                    version=1,
                    source=source,
                    status="CONFIRMED",
                )
                if source == "walk-in":
                    row["queueNumber"], row["ticket"] = slot + 1, f"A{slot + 1:03d}"
                if start > now:
                    pass
                else:
                    roll = rnd.random()
                    if roll < 0.08:
                        row.update(status="CANCELED", cancelReason="called")
                    elif roll < 0.13 and source != "walk-in":
                        row["visitStatus"] = "NO_SHOW"
                    else:
                        arrived = (
                            created
                            if source == "walk-in"
                            else start - timedelta(minutes=rnd.randrange(0, 20))
                        )
                        began = max(arrived, start) + timedelta(seconds=rnd.randrange(0, 1500))
                        ended = began + timedelta(seconds=rnd.randrange(5 * 60, (minutes + 15) * 60))
                        row.update(
                            visitStatus="COMPLETED",
                            checkedInAt=_iso(arrived),
                            startedAt=_iso(began),
                            endedAt=_iso(ended),
                        )
                        attendances.append((f"a{k}i", "CheckIn", row["id"], row["customerId"], _iso(arrived)))
                        attendances.append((f"a{k}o", "CheckOut", row["id"], row["customerId"], _iso(ended)))
                        paid_in_cloud = rnd.random() if source == "cloud" else 1.0
                        if paid_in_cloud < 0.6:  # paid through the cloud's payment link: an invoice total
                            cloud_money.append(
                                (
                                    "ehjzny",
                                    row["id"],
                                    price_of[type_id],
                                    price_of[type_id],
                                    1,
                                    f"INV-{k}",
                                    _iso(ended),
                                )
                            )
                        elif paid_in_cloud < 0.75:  # a cloud that lists its payments
                            cloud_money.append(
                                (
                                    "digitalbooker",
                                    row["id"],
                                    price_of[type_id],
                                    price_of[type_id],
                                    1,
                                    None,
                                    _iso(ended),
                                )
                            )
                            cloud_payments.append(
                                (
                                    "digitalbooker",
                                    f"cp{k}",
                                    row["id"],
                                    price_of[type_id],
                                    "online",
                                    "online",
                                    1500,
                                    _iso(ended),
                                )
                            )
                        elif rnd.random() < 0.9:
                            for amount in (
                                (price_of[type_id],)
                                if rnd.random() < 0.97
                                else (price_of[type_id], -price_of[type_id] // 2)
                            ):
                                invoice += 1
                                method = METHODS[rnd.randrange(len(METHODS))]
                                payments.append(
                                    (
                                        f"p{invoice}",
                                        invoice,
                                        row["id"],
                                        row["customerId"],
                                        amount,
                                        "SAR",
                                        method,
                                        None,
                                        "refund" if amount < 0 else None,
                                        1500,
                                        pay.vat_in(amount, 1500),
                                        "amal",
                                        "d1",
                                        _iso(ended + timedelta(minutes=2 + (amount < 0))),
                                    )
                                )
                bookings.append(tuple(row[c] for c in columns))
    with store.transaction():
        marks = ", ".join("?" * len(columns))
        store.db.conn.executemany(
            f"insert into bookings ({', '.join(chr(34) + c + chr(34) for c in columns)}) values ({marks})",
            bookings,
        )
        store.db.conn.executemany(
            "insert into attendances (id, type, bookingId, customerId, createdAt) values (?, ?, ?, ?, ?)",
            attendances,
        )
        store.db.conn.executemany(
            "insert into payments (id, invoiceNumber, bookingId, customerId, amount, currency,"
            " method, reference, reason, vatRate, vatAmount, actor, deskId, createdAt)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            payments,
        )
        store.db.conn.executemany(
            "insert into cloud_money (cloud, bookingId, price, paid, fullyPaid, reference,"
            " updatedAt) values (?, ?, ?, ?, ?, ?, ?)",
            cloud_money,
        )
        store.db.conn.executemany(
            "insert into cloud_payments (cloud, cloudId, bookingId, amount, method, kind,"
            " vatRate, seenAt) values (?, ?, ?, ?, ?, ?, ?, ?)",
            cloud_payments,
        )
    store.close()  # no ANALYZE: a branch store has no statistics either (the reports name their indexes)
    print(
        f"built {len(bookings):,} bookings, {len(attendances):,} attendances, {len(payments):,} payments"
        f" at the desk, {len(cloud_money):,} bookings paid in a cloud ({len(cloud_payments):,} listed payments)",
        file=sys.stderr,
    )
    return FIRST, FIRST + timedelta(days=DAYS - 1)


def _quantile_sql(value: str, where: str) -> str:
    """One hand-written query: count, mean and the two ranks around the median and p90
    (linear quantiles need both neighbours) per kind, with window functions."""
    return (
        f"with w as (select {value} from bookings b where {where}),"
        " r as (select k, s, row_number() over (partition by k order by s) - 1 as rn,"
        " count(*) over (partition by k) as n from w)"
        " select k, n, avg(s),"
        " max(case when rn = cast((n - 1) * 0.5 as int) then s end),"
        " max(case when rn = min(cast((n - 1) * 0.5 as int) + 1, n - 1) then s end),"
        " max(case when rn = cast((n - 1) * 0.9 as int) then s end),"
        " max(case when rn = min(cast((n - 1) * 0.9 as int) + 1, n - 1) then s end)"
        " from r group by k"
    )


def hand_written(first: date, last: date, now: datetime) -> dict[str, tuple[str, list]]:
    """The same aggregates as the reports, each as one SQL query."""
    from app.domain.clock import local_day_bounds, to_iso

    lo, hi = to_iso(local_day_bounds(first, ZONE)[0]), to_iso(local_day_bounds(last, ZONE)[1])
    day = "coalesce(b.startDateTime, b.createdAt) >= ? and coalesce(b.startDateTime, b.createdAt) < ?"
    wait = (
        "b.queueNumber is not null as k, max(0, unixepoch(b.startedAt) - unixepoch(case when b.queueNumber"
        " is not null then b.createdAt else b.checkedInAt end)) as s"
    )
    return {
        "bookings": (
            "select case when status = 'CONFIRMED' and visitStatus is not null then visitStatus else status"
            f" end, source, count(*) from bookings b where {day} group by 1, 2",
            [lo, hi],
        ),
        "no-shows": (
            f"select count(*), sum(visitStatus = 'NO_SHOW') from bookings b where {day}"
            " and status = 'CONFIRMED' and queueNumber is null and startDateTime < ?",
            [lo, hi, to_iso(now)],
        ),
        "waits": (
            _quantile_sql(wait, f"{day} and b.startedAt is not null and b.checkedInAt is not null"),
            [lo, hi],
        ),
        "visits": (
            _quantile_sql(
                "1 as k, unixepoch(b.endedAt) - unixepoch(b.startedAt) as s",
                f"{day} and b.visitStatus = 'COMPLETED' and b.endedAt is not null",
            ),
            [lo, hi],
        ),
        "utilisation": (
            "select resourceId, sum(case when status in ('CONFIRMED', 'PENDING_APPROVAL',"
            " 'PENDING_PAYMENT') then duration end), sum(case when visitStatus = 'COMPLETED' then"
            f" unixepoch(endedAt) - unixepoch(startedAt) end) from bookings b where {day}"
            " and resourceId is not null group by 1",
            [lo, hi],
        ),
        # the desk's payments on the day taken, the clouds' listed payments and paid totals
        # ("online", VAT at the branch's 15 %) on the day of their booking
        "revenue": (
            "select m, count(*), sum(max(a, 0)), sum(min(a, 0)), sum(a), sum(v) from ("
            " select method as m, amount as a, vatAmount as v from payments where createdAt >= ? and"
            " createdAt < ? union all select cp.method, cp.amount, (abs(cp.amount) * cp.vatRate * 2 + 10000"
            " + cp.vatRate) / (2 * (10000 + cp.vatRate)) from cloud_payments cp cross join bookings b on"
            f" b.id = cp.bookingId where {day} union all select 'online', cm.paid, (cm.paid * 3000 + 11500)"
            f" / 23000 from cloud_money cm cross join bookings b on b.id = cm.bookingId where {day} and cm.paid != 0"
            " and not exists (select 1 from cloud_payments x where x.cloud = cm.cloud and"
            " x.bookingId = cm.bookingId)) group by 1",
            [lo, hi, lo, hi, lo, hi],
        ),
    }


def _median_ms(fn, runs: int) -> float:
    fn()  # warm: page cache, statement cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_server(path: Path, first: date, last: date, runs: int) -> list[tuple]:
    from zoneinfo import ZoneInfo

    from app.client import DeskClient
    from app.domain.clock import Clock
    from app.server.reports import KINDS
    from app.server.service import BookingService
    from app.store import open_store
    from tests.clinic import serve

    now = datetime.combine(FIRST + timedelta(days=DAYS - 20), datetime.min.time(), ZoneInfo(ZONE)).astimezone(
        UTC
    )
    store = open_store(path)
    service = BookingService(store, Clock(lambda: now))
    thread = serve(service)
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(_client(thread, DeskClient))
    queries = hand_written(first, last, now)
    raw = sqlite3.connect(str(path))
    rows = []
    try:
        for kind in KINDS:
            server = _median_ms(
                lambda kind=kind: loop.run_until_complete(client.report(kind, first, last)), runs
            )
            sql, params = queries[kind]
            baseline = _median_ms(lambda sql=sql, params=params: raw.execute(sql, params).fetchall(), runs)
            rows.append((kind, server, baseline))
    finally:
        raw.close()
        loop.run_until_complete(client.aclose())
        loop.close()
        thread.stop()
        store.close()
    return rows


async def _client(thread, factory):
    return factory(thread.url, token=thread.token, timeout=120)


def bench_window(path: Path, ranges: list[tuple[date, date]], runs: int) -> list[list[tuple[float, float]]]:
    """Open the Reports window on a real server ``runs`` times per range: ms from show to
    every chart drawn, and from the figures' arrival to drawn (the window's own part)."""
    import PySide6.QtWidgets  # noqa: F401  (before qasync)
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.client import DeskClient
    from app.server.service import BookingService
    from app.store import open_store
    from tests.clinic import serve
    from ui.core.tasks import Tasks
    from ui.windows.reports import ReportsWindow

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    store = open_store(path)
    thread = serve(BookingService(store))
    out = []

    async def scenario():
        client = DeskClient(thread.url, token=thread.token, timeout=120)
        tasks = Tasks()
        try:
            for first, last in ranges:
                times = []
                out.append(times)
                for _ in range(runs + 1):
                    t0 = time.perf_counter()
                    window = ReportsWindow(client, tasks, ZONE, first=first, last=last)
                    arrived = []
                    window.loaded.connect(lambda arrived=arrived: arrived.append(time.perf_counter()))
                    window.resize(1280, 860)
                    window.show()
                    deadline = time.perf_counter() + 120
                    while not window.drawn:
                        if time.perf_counter() > deadline or window.status.text().startswith("⚠"):
                            raise RuntimeError(f"the Reports window did not draw: {window.status.text()}")
                        await asyncio.sleep(0.002)
                    window.grab()  # everything painted
                    done = time.perf_counter()
                    # (show → drawn, the figures arriving → drawn: the window's own part)
                    times.append(((done - t0) * 1000, (done - arrived[0]) * 1000))
                    window.close()
                    window.deleteLater()
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    try:
        loop.run_until_complete(scenario())
    finally:
        thread.stop()
        store.close()
    return [times[1:] for times in out]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-window", action="store_true")
    parser.add_argument("--window-only", action="store_true")
    parser.add_argument("--db", type=Path, help="keep the generated store here (reused when it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "branch.sqlite3"
        t0 = time.perf_counter()
        if path.exists():
            first, last = FIRST, FIRST + timedelta(days=DAYS - 1)
        else:
            first, last = build(path, args.bookings)
        print(f"built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows = [] if args.window_only else bench_server(path, first, last, args.runs)
        print(f"\nReports over {first} … {last} (median of {args.runs}):\n")
        print(
            "| report | server (HTTP, through the client) | one hand-written SQL query | ratio | goal < 300 ms, ≤ 2× |"
        )
        print("|---|---|---|---|---|")
        for kind, server, baseline in rows:
            ok = "✓" if server < 300 and server <= 2 * baseline else "✗"
            print(f"| {kind} | {server:.1f} ms | {baseline:.1f} ms | {server / baseline:.2f}× | {ok} |")
        if not args.no_window:
            labels = ("this month so far (the window's default)", "the whole year")
            results = bench_window(path, [(last.replace(day=1), last), (first, last)], args.runs)
            for label, times in zip(labels, results, strict=True):
                total = statistics.median(t for t, _own in times)
                own = statistics.median(o for _t, o in times)
                print(
                    f"\nReports window over {label}: show → every chart drawn median {total:.0f} ms"
                    f" (worst {max(t for t, _o in times):.0f} ms; the window's own part, figures arrived → drawn,"
                    f" {own:.0f} ms) — goal < 500 ms {'✓' if total < 500 else '✗'}"
                )


if __name__ == "__main__":
    main()
