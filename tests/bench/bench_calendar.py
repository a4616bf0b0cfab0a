"""Calendar benchmark (a script, not collected by pytest)::

    uv run python -m tests.bench.bench_calendar [--quick]

1. Week view of 20 resources with 5,000 bookings at 1920×1080, offscreen: the time to the
   first full paint after switching to another week (``set_week`` + a synchronous repaint
   of the visible viewport and header), and the worst frame while scrolling from top to
   bottom (each step: move the scroll bar, then repaint the *whole* viewport — stricter than
   a real scroll, which only paints the uncovered strip). The same for an empty week, as the
   floor.
2. Memory: a desk process (embedded branch server + main window, in week view) on a store
   with 100,000 bookings, generated with the store directly; its RSS (``VmRSS``) and peak
   (``VmHWM``) after the week is shown.

Prints a small markdown table. Goals: first paint < 100 ms, worst scroll frame < 16 ms,
RSS < 300 MB."""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

ROOT = Path(__file__).resolve().parents[2]
ZONE = "Asia/Riyadh"
WIDTH, HEIGHT = 1920, 1080
RULES = {
    "rules": [
        {"days": ["sun", "mon", "tue", "wed", "thu", "sat"], "from": 800, "to": 1300},
        {"days": ["sun", "mon", "tue", "wed", "thu", "sat"], "from": 1400, "to": 2000},
    ]
}
COLORS = ("#4f8fd6", "#e8a54b", "#5fbf95", "#cf7fbf", "#8c9bab", "#e57373")
STATES = (
    (0.70, "CONFIRMED", None),
    (0.08, "CONFIRMED", "CHECKED_IN"),
    (0.05, "CONFIRMED", "IN_PROGRESS"),
    (0.10, "CONFIRMED", "COMPLETED"),
    (0.04, "CONFIRMED", "NO_SHOW"),
    (0.03, "PENDING_APPROVAL", None),
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def synthetic(days: list[date], n_resources: int = 20, n_bookings: int = 5000, seed: int = 1):
    """Resources, types and ``n_bookings`` API-shaped bookings spread over ``days``."""
    from zoneinfo import ZoneInfo

    rnd = random.Random(seed)
    zone = ZoneInfo(ZONE)
    types = {
        f"t{i}": {"id": f"t{i}", "name": f"Type {i}", "color": c, "minutes": (10, 15, 20, 30, 45, 30)[i]}
        for i, c in enumerate(COLORS)
    }
    resources = [
        {"id": f"r{i:02d}", "name": f"Dr. Resource Number {i}", "timeRules": RULES, "types": list(types)}
        for i in range(n_resources)
    ]
    bookings = []
    for k in range(n_bookings):
        day = days[k % len(days)]
        type_id = rnd.choice(list(types))
        minutes = types[type_id]["minutes"]
        start = datetime(day.year, day.month, day.day, 8, tzinfo=zone) + timedelta(
            minutes=5 * rnd.randrange(0, 140)
        )
        roll, acc = rnd.random(), 0.0
        status, visit = STATES[0][1:]
        for p, s, v in STATES:
            acc += p
            if roll <= acc:
                status, visit = s, v
                break
        bookings.append(
            {
                "id": f"b{seed}-{k}",
                "resourceId": resources[rnd.randrange(n_resources)]["id"],
                "typeId": type_id,
                "status": status,
                "visitStatus": visit,
                "startDateTime": _iso(start),
                "endDateTime": _iso(start + timedelta(minutes=minutes)),
                "customer": {"firstName": f"Patient{k}", "lastName": "Example"},
                "type": types[type_id],
            }
        )
    return resources, types, bookings


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def paint_bench(quick: bool = False) -> dict:
    gc.disable()  # as the desk does (ui.app.collect_garbage_on_gui_thread): no collection mid-frame
    try:
        return _paint_bench(quick)
    finally:
        gc.enable()


def _paint_bench(quick: bool = False) -> dict:
    from PySide6.QtWidgets import QApplication

    from app.i18n import set_language
    from ui.calendar import CalendarView
    from ui.calendar.week import week_days

    app = QApplication.instance() or QApplication([])
    set_language("en")
    view = CalendarView()
    view.resize(WIDTH, HEIGHT)
    view.mode = "week"
    view.stack.setCurrentWidget(view.week_pane)
    view.show()
    app.processEvents()
    week, header, scroll = view.week, view.week_header, view.week_pane.scroll
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    weeks = [week_days(date(2026, 11, 22) + timedelta(days=7 * i)) for i in range(3)]
    data = [synthetic(days, seed=i + 1) for i, days in enumerate(weeks)]

    paints = [0]
    original = type(week).paintEvent

    def counted(self, event) -> None:
        paints[0] += 1
        original(self, event)

    type(week).paintEvent = counted

    def frame() -> None:
        """Paint everything of the week that is on screen, now (not only what changed)."""
        week.repaint(week.visibleRegion().boundingRect())
        header.repaint()

    # Warm up: the view already shows a week (fonts, Babel's locale data, colours loaded).
    week.set_week(weeks[2], data[2][0], data[2][2], data[2][1], ZONE, now)
    frame()

    results = {}
    for label, full in (("5,000 bookings", True), ("empty week", False)):
        switches = []
        for i in range(4 if quick else 9):
            days = weeks[i % 2]
            resources, types, bookings = data[i % 2]
            rows = bookings if full else []
            t0 = time.perf_counter()
            week.set_week(days, resources, rows, types, ZONE, now)
            frame()
            switches.append(time.perf_counter() - t0)
        bar = scroll.verticalScrollBar()
        frames = []
        for _round in range(1 if quick else 2):
            for value in list(range(0, bar.maximum() + 1, 24)) + list(range(bar.maximum(), -1, -24)):
                t0 = time.perf_counter()
                bar.setValue(value)
                frame()
                frames.append(time.perf_counter() - t0)
        app.processEvents()
        results[label] = {
            "first_paint_ms": _ms(switches[0]),
            "switch_median_ms": _ms(statistics.median(switches)),
            "switch_max_ms": _ms(max(switches)),
            "scroll_worst_ms": _ms(max(frames)),
            "scroll_p95_ms": _ms(sorted(frames)[int(len(frames) * 0.95)]),
            "frames": len(frames),
            "blocks": len(week.blocks),
            "shown": len(week._visible_blocks(scroll.viewport().rect().translated(0, bar.value()))),
        }
    view.close()
    type(week).paintEvent = original
    print("paints", paints[0], "frames", len(frames), file=sys.stderr)
    return results


def make_store(data_dir: Path, n: int = 100_000, seed: int = 7) -> int:
    """The demo clinic plus ``n`` bookings spread over ±60 days around today, written with
    the store directly (one transaction, batched inserts)."""
    from zoneinfo import ZoneInfo

    from app.composition import DB_NAME, load_demo
    from app.domain.model import BOOKING_FIELDS
    from app.ids import new_id
    from app.store import open_store

    store = open_store(data_dir / DB_NAME)
    if store.is_empty():
        load_demo(store)
    resources, types = store.resources(), {t["id"]: t for t in store.types()}
    customers = [r["id"] for r in store._rows("select id from customers")]
    zone = ZoneInfo(store.zone)
    today = datetime.now(zone).date()
    rnd = random.Random(seed)
    rows = []
    stamp = _iso(datetime.now(UTC))
    for k in range(n):
        resource = resources[k % len(resources)]
        type_id = rnd.choice(resource.get("types") or list(types))
        minutes = int(types[type_id]["minutes"])
        day = today + timedelta(days=rnd.randrange(-60, 61))
        start = datetime(day.year, day.month, day.day, 8, tzinfo=zone) + timedelta(
            minutes=5 * rnd.randrange(0, 150)
        )
        row = {
            "id": new_id(),
            "status": "CONFIRMED",
            "visitStatus": None,
            "startDateTime": _iso(start),
            "endDateTime": _iso(start + timedelta(minutes=minutes)),
            "duration": minutes,
            "resourceId": resource["id"],
            "typeId": type_id,
            "customerId": rnd.choice(customers),
            "createdAt": stamp,
            "updatedAt": stamp,
            "version": 1,
        }
        rows.append({f: row.get(f) for f in BOOKING_FIELDS})
    with store.transaction():
        store.db["bookings"].insert_all(rows, batch_size=2000)
    count = store.db.execute("select count(*) from bookings").fetchone()[0]
    store.close()
    return count


def desk_rss(data_dir: Path) -> dict:
    """Run in a child process: the embedded server + the desk in week view, then its memory."""
    import asyncio

    from PySide6.QtWidgets import QApplication  # noqa: F401 - before qasync
    from qasync import run as run_qasync

    from app.composition import BranchServer
    from ui.app import application, setup_language

    app = application()
    setup_language(app, "en")
    server = BranchServer(data_dir, port=0).start()
    out: dict = {}

    async def main() -> None:
        from app.client import DeskClient
        from ui.windows.main import MainWindow

        window = MainWindow(DeskClient(server.url, token=server.token))
        window.resize(WIDTH, HEIGHT)
        window.start()
        window.show()
        await asyncio.wait_for(window.first_load, 60)
        await window.tasks.wait_idle(60)
        window.calendar.act_week.trigger()
        await asyncio.sleep(0.1)
        await window.tasks.wait_idle(60)
        window.grab()
        out["week_bookings"] = len(window.calendar.week.bookings)
        status = Path("/proc/self/status").read_text()
        for key in ("VmRSS", "VmHWM"):
            line = next(x for x in status.splitlines() if x.startswith(key))
            out[key] = round(int(line.split()[1]) / 1024, 1)
        window.stop()
        await window.client.aclose()

    try:
        run_qasync(main())
    finally:
        server.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 20,000 bookings in the store")
    parser.add_argument("--desk-rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.desk_rss:
        print(json.dumps(desk_rss(args.desk_rss)))
        return 0

    paint = paint_bench(args.quick)
    n = 20_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        count = make_store(Path(tmp), n)
        made = time.perf_counter() - t0
        child = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_calendar", "--desk-rss", tmp],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        if child.returncode != 0:
            print(child.stderr[-3000:], file=sys.stderr)
            return 1
        memory = json.loads(child.stdout.strip().splitlines()[-1])

    print(f"\nWeek view, 20 resources, {WIDTH}×{HEIGHT} offscreen (PySide6, QT_QPA_PLATFORM=offscreen)\n")
    print(
        "| week | blocks | first paint after switch | switch median / max | scroll worst frame | scroll p95 | frames |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in paint.items():
        print(
            f"| {label} | {r['blocks']} | {r['first_paint_ms']} ms | {r['switch_median_ms']} / {r['switch_max_ms']} ms"
            f" | {r['scroll_worst_ms']} ms | {r['scroll_p95_ms']} ms | {r['frames']} |"
        )
    print(
        f"\nDesk process (embedded server + main window in week view), store of {count:,} bookings"
        f" (generated in {made:.1f} s)\n"
    )
    print("| store bookings | bookings in the shown week | RSS | peak RSS (VmHWM) |")
    print("|---:|---:|---:|---:|")
    print(f"| {count:,} | {memory['week_bookings']:,} | {memory['VmRSS']} MB | {memory['VmHWM']} MB |")
    goals = (
        paint["5,000 bookings"]["first_paint_ms"] < 100,
        paint["5,000 bookings"]["scroll_worst_ms"] < 16,
        memory["VmRSS"] < 300,
    )
    print(
        f"\ngoals: first paint < 100 ms {'✓' if goals[0] else '✗'}, worst scroll frame < 16 ms "
        f"{'✓' if goals[1] else '✗'}, RSS < 300 MB {'✓' if goals[2] else '✗'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
