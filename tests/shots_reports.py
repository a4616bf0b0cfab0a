"""Screenshots of the Reports window and the close-the-day dialog (a script, not collected by pytest)::

    QT_QPA_PLATFORM=offscreen uv run python -m tests.shots_reports --out docs/screenshots

The demo clinic (8 doctors and rooms, about 600 bookings around "today", :mod:`app.demo`)
with a past week lived through it, written into a new branch store: the booked patients
checked in, seen and paid (at the desk, or online through the cloud's payment link), some
no-shows, a few walk-ins a day from the queue, a refund; then the *Reports* window over
that week on a real branch server (English; Arabic right to left with Arabic-Indic digits)
and this desk's *Close the day* dialog with a short drawer. Writes ``reports-en.png``,
``reports-ar.png``, ``close-day-en.png`` and ``close-day-ar.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

ZONE = "Asia/Riyadh"
TODAY = date(2026, 11, 26)  # a Thursday
FIRST = TODAY - timedelta(days=6)
NOW_LOCAL = 1330  # the reports are read at 13:30 branch time
DESK, USER = "desk-1", "Huda"


def build(path: Path):
    """The demo clinic and its past week at ``path``: ``(store, service, now)``; the
    service's clock stays at ``now``."""
    from app.demo.loader import load_demo
    from app.domain.clock import Clock, from_iso, from_local, to_iso
    from app.server.payments import Payments
    from app.server.service import BookingService
    from app.store import open_store
    from app.sync import registry
    from app.sync.apply import Applier
    from app.sync.connector import CloudMoney
    from app.sync.outbox import Outbox

    rnd = random.Random(11)
    store = open_store(path)
    now = from_local(TODAY, NOW_LOCAL, ZONE)
    load_demo(store, now=now)
    clock = [now]
    service = BookingService(store, Clock(lambda: clock[0]))
    payments = Payments(service)
    types = {t["id"]: t for t in store.types()}
    serving = {t: [r["id"] for r in store.resources() if t in (r.get("types") or [])] for t in types}
    iso = to_iso

    def price(type_id: str) -> int:
        from app.domain.payments import to_minor

        return to_minor(types[type_id].get("price"))

    paid_desk, paid_cloud = [], []
    customers = [c[0] for c in store.db.execute("select id from customers").fetchall()]
    past = store._rows(
        "select * from bookings where status = 'CONFIRMED' and startDateTime < ?"
        " and startDateTime >= ? order by startDateTime",
        [iso(now), iso(from_local(FIRST, 0, ZONE))],
    )
    with store.transaction():
        for b in past:
            start = from_iso(b["startDateTime"])
            source = "cloud" if rnd.random() < 0.4 else "desk"
            if rnd.random() < 0.07:
                store.db.execute(
                    "update bookings set visitStatus = 'NO_SHOW', source = ? where id = ?", [source, b["id"]]
                )
                continue
            arrived = start - timedelta(minutes=rnd.randrange(0, 16))
            began = max(arrived, start) + timedelta(minutes=rnd.choice((0, 2, 5, 8, 12, 18, 25, 35)))
            ended = began + timedelta(minutes=round(b["duration"] * rnd.uniform(0.6, 1.35)))
            if ended > now:
                store.db.execute(
                    "update bookings set visitStatus = 'IN_PROGRESS', checkedInAt = ?, startedAt = ?,"
                    " source = ? where id = ?",
                    [iso(arrived), iso(began), source, b["id"]],
                )
                continue
            store.db.execute(
                "update bookings set visitStatus = 'COMPLETED', checkedInAt = ?, startedAt = ?,"
                " endedAt = ?, source = ? where id = ?",
                [iso(arrived), iso(began), iso(ended), source, b["id"]],
            )
            (paid_cloud if source == "cloud" and rnd.random() < 0.5 else paid_desk).append((b, ended))
        k = 0
        for offset in range(7):
            day = FIRST + timedelta(days=offset)
            for _ in range(rnd.randrange(4, 9)):
                type_id = rnd.choice([t for t in ("consult", "followup") if t in types] or list(types))
                joined = from_local(
                    day, rnd.choice((930, 1010, 1045, 1120, 1600, 1700, 1815)), ZONE
                ) + timedelta(minutes=rnd.randrange(0, 30))
                began = joined + timedelta(minutes=rnd.randrange(4, 45))
                ended = began + timedelta(minutes=round(types[type_id]["minutes"] * rnd.uniform(0.5, 1.2)))
                if ended > now:
                    continue
                k += 1
                row = {
                    "id": f"walk-in-{k}",
                    "status": "CONFIRMED",
                    "visitStatus": "COMPLETED",
                    "typeId": type_id,
                    "resourceId": rnd.choice(serving[type_id]),
                    "customerId": rnd.choice(customers),
                    "startDateTime": iso(began),
                    "endDateTime": iso(ended),
                    "duration": round((ended - began).total_seconds() / 60),
                    "createdAt": iso(joined),
                    "updatedAt": iso(ended),
                    "checkedInAt": iso(joined),
                    "startedAt": iso(began),
                    "endedAt": iso(ended),
                    "queueNumber": k,
                    "ticket": f"A{k:03d}",
                    "version": 1,
                }
                store.insert_booking({**row, "source": "walk-in"})
                paid_desk.append((row, ended))
    methods = ("cash", "cash", "card", "card", "card", "transfer")
    for b, ended in sorted(paid_desk, key=lambda x: x[1]):
        clock[0] = ended + timedelta(minutes=2)
        taken = payments.take(
            {"bookingId": b["id"], "amount": price(b["typeId"]), "method": rnd.choice(methods)},
            {
                "deskId": DESK if clock[0].date() == now.date() or rnd.random() < 0.5 else "desk-2",
                "user": USER,
            },
        )
        if rnd.random() < 0.02:
            clock[0] += timedelta(minutes=5)
            payments.take(
                {
                    "bookingId": b["id"],
                    "amount": -(taken["amount"] // 2),
                    "method": taken["method"],
                    "reason": "shorter visit",
                },
                {"deskId": DESK, "user": USER},
            )
    fields = registry.get("ehjzny").synced_fields
    cloud = Applier(store, Outbox(store, "ehjzny", synced_fields=fields), "ehjzny", fields)
    with store.transaction():
        for b, ended in paid_cloud:
            amount = f"{price(b['typeId']) / 100:.2f}"
            cloud.apply_money(b["id"], CloudMoney(price=amount, paid=amount, fully_paid=True), ended)
    clock[0] = now
    return store, service, now


async def _until(predicate, what: str, timeout: float = 60.0):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import PySide6.QtWidgets  # noqa: F401  (before qasync)
    import qasync
    from PySide6.QtWidgets import QApplication, QWidget

    from app.client import DeskClient
    from app.i18n import formats as fmt
    from app.i18n import prefs
    from tests.clinic import serve
    from ui.core import language
    from ui.core.tasks import Tasks
    from ui.dialogs.close_day import CloseDayDialog
    from ui.windows.reports import ReportsWindow

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    language.load_fonts()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[prefs.ENV_DIR] = tmp  # the desk's own settings are not touched
        store, service, _now = build(Path(tmp) / "branch.sqlite3")
        thread = serve(service)

        async def scenario():
            client = DeskClient(thread.url, token=thread.token, desk_id=DESK, user=USER)
            tasks = Tasks()
            owner = QWidget()
            try:
                for lang, digits in (("en", "latn"), ("ar", "arab")):
                    language.controller().apply(lang)
                    fmt.set_digits(digits)
                    window = ReportsWindow(client, tasks, ZONE, first=FIRST, last=TODAY)
                    window.resize(1400, 860)
                    window.show()
                    await _until(lambda window=window: window.drawn, "the charts")
                    await asyncio.sleep(0.2)
                    window.grab().save(str(args.out / f"reports-{lang}.png"), "PNG")
                    window.close()
                    dialog = CloseDayDialog(client, tasks, TODAY, ZONE, owner)
                    dialog.show()
                    dialog.load()
                    await _until(lambda dialog=dialog: dialog.ok.isEnabled(), "the expected takings")
                    for method, edit in dialog.counted.items():
                        expected = dialog.expected.get(method, 0)
                        shown = expected - 1000 if method == "cash" and expected else expected
                        edit.setText(
                            fmt.localize_digits(f"{shown / 100:.2f}")
                        )  # typed (QTest types ASCII only)
                    dialog.note.setText(
                        "١٠ ر.س. ناقصة — فكّة لمراجع"
                        if lang == "ar"
                        else "10 SAR short: change given to a patient"
                    )
                    await asyncio.sleep(0.2)
                    dialog.grab().save(str(args.out / f"close-day-{lang}.png"), "PNG")
                    dialog.close()
            finally:
                await client.aclose()
                language.controller().apply("en")
                fmt.set_digits("latn")

        try:
            loop.run_until_complete(scenario())
        finally:
            thread.stop()
            store.close()
    print(f"saved in {args.out}")


if __name__ == "__main__":
    main()
