"""The branch's reports against a small clinic whose figures are worked out by hand below,
over a real server on 127.0.0.1 through the desk's own client.

The day (``DAY``, a Sunday in Riyadh; both doctors work 09–13 and 16–21 = 540 minutes):

=====  ========  =======  =======================================================  ======
id     resource  type     what happens (local times)                               source
=====  ========  =======  =======================================================  ======
B1     Sara      gen 20   09:00; in 08:55, start 09:05, end 09:25 (served 20)      desk
B2     Sara      gen 20   09:30; in 09:20, start 09:40, end 09:48 (served 8;        desk
                          the booking shortens to 09:30–09:48, duration 18)
B3     Sara      dent 30  10:00; in 10:00, start 10:30, end 11:15 (served 45)      desk
B4     Omar      gen 20   09:00; no-show at 09:30                                  desk
B5     Omar      gen 20   09:20; canceled                                          desk
B6     Omar      gen 20   11:00; not arrived by noon                               desk
B7     Sara      dent 30  16:00 (later than noon)                                  desk
B8     Sara      gen 20   the next day, outside the range                          desk
W1     Omar      gen      queue 10:00, accepted 10:10, start 10:15, end 10:35      walk-in
W2     Omar      gen      queue 10:05, accepted and started 10:40, end 10:50       walk-in
                          (served 10, shortened: duration 10)
W3     —         gen      queue 11:00, still waiting                               walk-in
C1     Sara      gen 20   12:30 PENDING_PAYMENT, pulled from the cloud             cloud
=====  ========  =======  =======================================================  ======

Payments (VAT 15 % inside the amount): B1 cash 150.00 (VAT 19.57), B2 card 150.00 (19.57),
W1 cash 150.00 (19.57), B3 card 250.00 (32.61), a card refund on B2 of −50.00 (−6.52).
The reports are read at 12:00.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.client import ApiError, DeskClient
from app.domain import reports as rules
from app.domain.clock import Clock, to_iso
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, at, fill, serve


def make_day(path):
    """The day of the module docstring in a new store at ``path``: ``(store, service)``,
    the service's clock left at 12:00."""
    store = open_store(path)
    fill(store)
    now = [at(800)]
    service = BookingService(store, Clock(lambda: now[0]))

    def when(military: int):
        now[0] = at(military)

    def book(type_id, resource, time, customer, day=DAY):
        return service.create(
            {
                "type": type_id,
                "date": day.isoformat(),
                "time": time,
                "resourceId": resource,
                "customerIdentifier": {"id": customer},
            }
        )["id"]

    def pay(booking_id, amount, method, reason=None):
        from app.server.payments import Payments

        Payments(service).take(
            {"bookingId": booking_id, "amount": amount, "method": method, "reason": reason},
            {"deskId": "d1", "user": "amal"},
        )

    b1, b2 = book("gen", "dr-sara", 900, "c1"), book("gen", "dr-sara", 930, "c2")
    b3, b4 = book("dental", "dr-sara", 1000, "c3"), book("gen", "dr-omar", 900, "c4")
    b5 = book("gen", "dr-omar", 920, "c5")
    book("gen", "dr-omar", 1100, "c1")
    book("dental", "dr-sara", 1600, "c2")
    book("gen", "dr-sara", 900, "c3", day=DAY + timedelta(days=1))
    when(830)
    service.cancel(b5, "called to say")
    when(855)
    service.check_in(b1)
    when(905)
    service.start(b1)
    when(920)
    service.check_in(b2)
    when(925)
    service.end(b1)
    when(926)
    pay(b1, 15000, "cash")
    when(930)
    service.no_show(b4)
    when(940)
    service.start(b2)
    when(948)
    service.end(b2)
    when(949)
    pay(b2, 15000, "card")
    when(1000)
    service.check_in(b3)
    w1 = service.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c2"}})["id"]
    when(1005)
    w2 = service.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c3"}})["id"]
    when(1010)
    service.accept(w1, "dr-omar")
    when(1015)
    service.start(w1)
    when(1030)
    service.start(b3)
    when(1035)
    service.end(w1)
    when(1036)
    pay(w1, 15000, "cash")
    when(1040)
    service.accept(w2, "dr-omar")
    service.start(w2)
    when(1050)
    service.end(w2)
    when(1100)
    service.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c4"}})
    when(1115)
    service.end(b3)
    when(1116)
    pay(b3, 25000, "card")
    when(1130)
    pay(b2, -5000, "card", "shorter visit")
    with store.transaction():  # as the sync engine writes a pulled booking: no source given
        store.insert_booking(
            {
                "id": "C1",
                "status": "PENDING_PAYMENT",
                "typeId": "gen",
                "resourceId": "dr-sara",
                "customerId": "c5",
                "startDateTime": to_iso(at(1230)),
                "endDateTime": to_iso(at(1250)),
                "duration": 20,
                "createdAt": to_iso(at(1130)),
                "updatedAt": to_iso(at(1130)),
                "version": 1,
            }
        )
    when(1200)
    return store, service


@pytest.fixture
def clinic(tmp_path):
    """The day above on a real server: ``(client_factory, service, thread)``."""
    store, service = make_day(tmp_path / "branch.sqlite3")
    thread = serve(service)

    def client():
        return DeskClient(thread.url, token=thread.token)

    yield client, service, thread
    thread.stop()
    store.close()


def report(client_factory, kind, **options):
    async def go():
        client = client_factory()
        try:
            return await client.report(kind, DAY, DAY, **options)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_bookings_by_state_and_source(clinic):
    out = report(clinic[0], "bookings")
    counts = {(r["state"], r["source"]): r["count"] for r in out["rows"]}
    assert counts == {
        ("COMPLETED", "desk"): 3,
        ("NO_SHOW", "desk"): 1,
        ("CANCELED", "desk"): 1,
        ("CONFIRMED", "desk"): 2,
        ("COMPLETED", "walk-in"): 2,
        ("PENDING_ASSIGNMENT", "walk-in"): 1,
        ("PENDING_PAYMENT", "cloud"): 1,
    }
    assert out["total"] == 11  # B8 is on the next day


def test_bookings_of_one_resource_and_per_type(clinic):
    sara = report(clinic[0], "bookings", resource_id="dr-sara")
    assert sara["total"] == 5  # B1 B2 B3 B7 C1
    per_type = report(clinic[0], "bookings", group_by="type")
    totals = {}
    for r in per_type["rows"]:
        totals[r["group"]] = totals.get(r["group"], 0) + r["count"]
    assert totals == {"gen": 9, "dental": 2}


def test_no_show_rate_counts_bookings_made_ahead_whose_start_has_passed(clinic):
    out = report(clinic[0], "no-shows", group_by="resource")
    assert (out["expected"], out["noShows"], out["rate"]) == (5, 1, 0.2)  # B1 B2 B3 B4 B6; B4
    by = {r["group"]: (r["expected"], r["noShows"], r["rate"]) for r in out["rows"]}
    assert by == {"dr-sara": (3, 0, 0.0), "dr-omar": (2, 1, 0.5)}


def test_waits_median_and_90th_percentile(clinic):
    out = report(clinic[0], "waits")
    booked, walk_in = out["total"]["booked"], out["total"]["walk-in"]
    # booked: check-in → start 10, 20, 30 min; p90: h = 2·0.9 = 1.8 → 20 + 0.8·10
    assert booked == {"count": 3, "median": 20.0, "p90": pytest.approx(28.0), "mean": 20.0}
    # walk-ins: joined the queue → start 15, 35 min; median 25, p90 15 + 0.9·20
    assert walk_in == {"count": 2, "median": 25.0, "p90": pytest.approx(33.0), "mean": 25.0}
    per_type = report(clinic[0], "waits", group_by="type")
    rows = {(r["group"], r["kind"]): (r["count"], r["median"]) for r in per_type["rows"]}
    assert rows == {
        ("gen", "booked"): (2, 15.0),
        ("dental", "booked"): (1, 30.0),
        ("gen", "walk-in"): (2, 25.0),
    }


def test_a_walk_in_from_a_clouds_queue_waits_from_joining_it(clinic):
    """Q1, pulled from the cloud's queue (Ehjzny ``PENDING_ASSIGNMENT``, given a ticket) at
    10:20, accepted by Omar and started at 10:50 without a separate check-in (the start marks
    it arrived), ended 11:05: a walk-in that waited 30 min, not a booked patient who waited 0,
    and no booking made ahead that could be a no-show."""
    store = clinic[1].store
    with store.transaction():  # as the sync engine writes it: source cloud, a queue number
        store.insert_booking(
            {
                "id": "Q1",
                "status": "CONFIRMED",
                "visitStatus": "COMPLETED",
                "typeId": "gen",
                "resourceId": "dr-omar",
                "customerId": "c4",
                "queueNumber": 9,
                "ticket": "A009",
                "startDateTime": to_iso(at(1050)),
                "endDateTime": to_iso(at(1105)),
                "duration": 15,
                "createdAt": to_iso(at(1020)),
                "updatedAt": to_iso(at(1105)),
                "version": 3,
                "checkedInAt": to_iso(at(1050)),
                "startedAt": to_iso(at(1050)),
                "endedAt": to_iso(at(1105)),
            }
        )
    out = report(clinic[0], "waits")
    assert out["total"]["booked"] == {"count": 3, "median": 20.0, "p90": pytest.approx(28.0), "mean": 20.0}
    # walk-ins: 15, 35 and Q1's 30 min; p90: h = 1.8 → 30 + 0.8·5
    assert out["total"]["walk-in"] == {
        "count": 3,
        "median": 30.0,
        "p90": pytest.approx(34.0),
        "mean": pytest.approx(80 / 3),
    }
    no_shows = report(clinic[0], "no-shows")
    assert (no_shows["expected"], no_shows["noShows"]) == (5, 1)
    assert {(r["state"], r["source"]): r["count"] for r in report(clinic[0], "bookings")["rows"]}[
        ("COMPLETED", "cloud")
    ] == 1  # its source stays the cloud


def test_visit_length_against_booked(clinic):
    out = report(clinic[0], "visits", group_by="resource")
    # served 20, 8, 45, 20, 10 → sorted 8 10 20 20 45; p90: h = 3.6 → 20 + 0.6·25
    assert out["total"] == {
        "count": 5,
        "servedMean": pytest.approx(20.6),
        "servedMedian": 20.0,
        "servedP90": pytest.approx(35.0),
        "bookedMean": 22.0,
        "overran": 1,
    }
    by = {r["group"]: r for r in out["rows"]}
    assert (by["dr-sara"]["count"], by["dr-sara"]["servedMedian"], by["dr-sara"]["servedP90"]) == (
        3,
        20.0,
        pytest.approx(40.0),
    )
    assert (by["dr-omar"]["servedMedian"], by["dr-omar"]["bookedMean"], by["dr-omar"]["overran"]) == (
        15.0,
        20.0,
        0,
    )


def test_utilisation_booked_and_served_over_working_minutes(clinic):
    out = report(clinic[0], "utilisation")
    by = {r["group"]: r for r in out["rows"]}
    # Sara: B1 20 + B2 18 + B3 30 + B7 30 + C1 20 booked; served 20 + 8 + 45
    assert (
        by["dr-sara"]["workingMinutes"],
        by["dr-sara"]["bookedMinutes"],
        by["dr-sara"]["servedMinutes"],
    ) == (540, 118, 73)
    # Omar: B4 20 (a no-show held the time) + B6 20 + W1 20 + W2 10; served 20 + 10
    assert (by["dr-omar"]["bookedMinutes"], by["dr-omar"]["servedMinutes"]) == (70, 30)
    assert out["total"]["booked"] == pytest.approx(188 / 1080)
    assert out["total"]["served"] == pytest.approx(103 / 1080)
    dental = report(clinic[0], "utilisation", type_id="dental")
    assert [(r["group"], r["bookedMinutes"]) for r in dental["rows"]] == [("dr-sara", 60)]  # B3 + B7


def test_revenue_and_vat_by_method(clinic):
    out = report(clinic[0], "revenue")
    by = {r["method"]: r for r in out["rows"]}
    assert {k: by["cash"][k] for k in ("count", "taken", "refunded", "net", "vat", "netOfVat")} == {
        "count": 2,
        "taken": 30000,
        "refunded": 0,
        "net": 30000,
        "vat": 3914,
        "netOfVat": 26086,
    }
    # card: 150.00 (19.57) + 250.00 (32.61) − 50.00 (−6.52)
    assert {k: by["card"][k] for k in ("count", "taken", "refunded", "net", "vat")} == {
        "count": 3,
        "taken": 40000,
        "refunded": -5000,
        "net": 35000,
        "vat": 4566,
    }
    assert out["total"]["net"] == 65000 and out["total"]["vat"] == 8480 and out["currency"] == "SAR"
    sara = report(clinic[0], "revenue", resource_id="dr-sara")
    assert sara["total"]["net"] == 15000 + 15000 - 5000 + 25000


def _booking_at(store, resource_id, moment) -> str:
    return store.db.execute(
        "select id from bookings where resourceId = ? and startDateTime = ?", [resource_id, to_iso(moment)]
    ).fetchone()[0]


def test_revenue_counts_what_the_clouds_report_paid_once(clinic):
    """On top of the day above, as the sync engine writes them (:class:`app.sync.apply.Applier`):
    C1 paid online through Ehjzny's payment link (an invoice total of 150.00, no payments
    listed); B7 (dental, its own VAT rate 5 %) with a desk cash payment of 50.00 that was pushed
    to DigitalBooker, which lists it back beside a payment of 100.00 taken in DigitalBooker
    itself (kind ``prepaid``, no tax given); B8, the next day, paid 150.00 in Ehjzny.

    Revenue of the day: cash 300.00 + 50.00 (the pushed one, once, on the day it was taken;
    VAT 39.14 + 2.38), ``other`` 100.00 (VAT 5 %: 4.76), ``online`` 150.00 (VAT 19.57); B8 is
    outside the range. The booking pane's ``paid`` of B7 is the same 150.00."""
    from app.server.payments import Payments, save_billing
    from app.sync import registry
    from app.sync.apply import Applier
    from app.sync.connector import CloudMoney, CloudPayment
    from app.sync.outbox import Outbox

    _client, service, _thread = clinic
    store = service.store
    b7, b8 = (
        _booking_at(store, "dr-sara", at(1600)),
        _booking_at(store, "dr-sara", at(900, DAY + timedelta(days=1))),
    )
    save_billing(store, {"typeVatRates": {"dental": 500}})
    payments = Payments(service)
    pushed = payments.take(
        {"bookingId": b7, "amount": 5000, "method": "cash"}, {"deskId": "d1", "user": "amal"}
    )

    def applier(cloud):
        fields = registry.get(cloud).synced_fields
        return Applier(store, Outbox(store, cloud, synced_fields=fields), cloud, fields)

    now = service.now()
    with store.transaction():
        ehjzny = applier("ehjzny")
        ehjzny.apply_money(
            "C1", CloudMoney(price="150.00", paid="150.00", fully_paid=True, reference="INV-7"), now
        )
        ehjzny.apply_money(b8, CloudMoney(price="150.00", paid="150.00", fully_paid=True), now)
        digitalbooker = applier("digitalbooker")
        digitalbooker.map_payment(pushed["id"], "db-1", b7, now)
        digitalbooker.apply_money(
            b7,
            CloudMoney(
                price="250.00",
                payments=(
                    CloudPayment("db-1", "50.0", "cash", "cash", 1500),
                    CloudPayment("db-2", "100.0", "other", "prepaid", None),
                ),
            ),
            now,
        )
    assert payments.figures(b7)["paid"] == 15000

    out = report(clinic[0], "revenue")
    by = {
        r["method"]: {k: r[k] for k in ("count", "taken", "refunded", "net", "vat", "netOfVat", "cloud")}
        for r in out["rows"]
    }
    assert by == {
        "cash": {
            "count": 3,
            "taken": 35000,
            "refunded": 0,
            "net": 35000,
            "vat": 3914 + 238,
            "netOfVat": 35000 - 4152,
            "cloud": 0,
        },
        "card": {
            "count": 3,
            "taken": 40000,
            "refunded": -5000,
            "net": 35000,
            "vat": 4566,
            "netOfVat": 30434,
            "cloud": 0,
        },
        "other": {
            "count": 1,
            "taken": 10000,
            "refunded": 0,
            "net": 10000,
            "vat": 476,
            "netOfVat": 9524,
            "cloud": 10000,
        },
        "online": {
            "count": 1,
            "taken": 15000,
            "refunded": 0,
            "net": 15000,
            "vat": 1957,
            "netOfVat": 13043,
            "cloud": 15000,
        },
    }
    assert [r["method"] for r in out["rows"]] == ["cash", "card", "online", "other"]
    assert (out["total"]["net"], out["total"]["vat"], out["total"]["cloud"]) == (95000, 11151, 25000)
    sara = report(clinic[0], "revenue", resource_id="dr-sara")
    assert sara["total"]["net"] == 15000 + 15000 - 5000 + 25000 + 5000 + 10000 + 15000
    omar = report(clinic[0], "revenue", group_by="resource")
    assert {r["group"]: r["net"] for r in omar["rows"] if r["method"] == "online"} == {"dr-sara": 15000}
    # the long-range path (index order) gives the same money
    long = asyncio.run(_long_revenue(clinic[0]))
    assert long["total"] == out["total"]
    nxt = asyncio.run(_revenue_of(clinic[0], DAY + timedelta(days=1)))
    assert [(r["method"], r["net"], r["cloud"]) for r in nxt["rows"]] == [("online", 15000, 15000)]


async def _revenue_of(client_factory, day):
    client = client_factory()
    try:
        return await client.report("revenue", day, day)
    finally:
        await client.aclose()


async def _long_revenue(client_factory):
    from app.server.reports import LONG_RANGE_DAYS

    client = client_factory()
    try:
        return await client.report("revenue", DAY - timedelta(days=LONG_RANGE_DAYS), DAY)
    finally:
        await client.aclose()


def test_bad_report_requests_get_a_code(clinic):
    async def go():
        client = clinic[0]()
        try:
            with pytest.raises(ApiError) as backwards:
                await client.report("bookings", DAY, DAY - timedelta(days=1))
            with pytest.raises(ApiError) as long:
                await client.report("bookings", DAY, DAY + timedelta(days=rules.MAX_DAYS))
            with pytest.raises(ApiError) as unknown:
                await client.report("profit", DAY, DAY)
            with pytest.raises(ApiError) as group:
                await client.report("waits", DAY, DAY, group_by="desk")
            return backwards.value, long.value, unknown.value, group.value
        finally:
            await client.aclose()

    backwards, long, unknown, group = asyncio.run(go())
    assert (backwards.status, backwards.code) == (400, "VALIDATION")
    assert (long.status, long.code) == (400, "VALIDATION")
    assert (unknown.status, unknown.code) == (404, "NOT-FOUND")
    assert (group.status, group.code) == (400, "VALIDATION")


def test_reports_need_a_reception_desk(clinic):
    import httpx

    from app.server.security import Role, route_roles

    thread = clinic[2]
    roles = {path: role for path, _methods, role in route_roles(thread.app)}
    assert roles["/reports/{kind}"] is Role.RECEPTION  # a provider desk gets 403 FORBIDDEN
    response = httpx.get(
        f"{thread.url}/reports/bookings", params={"from": DAY.isoformat(), "to": DAY.isoformat()}
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "AUTH-REQUIRED"


def test_quantiles_of_a_histogram():
    assert rules.quantile([(3, 1), (1, 2), (4, 1)], 0.5) == 2.0  # 1 1 3 4
    assert rules.quantile([], 0.5) is None
    assert rules.quantile([(7, 5)], 0.9) == 7
    with pytest.raises(ValueError):
        rules.quantile([(1, 1)], 1.5)


def test_a_long_range_read_in_index_order_gives_the_same_figures(clinic):
    """From :data:`LONG_RANGE_DAYS` days on, the reports walk their group-by indexes instead
    of the day index: the same day inside a long range must give the same figures."""
    from app.server.reports import KINDS, LONG_RANGE_DAYS

    async def go():
        client = clinic[0]()
        try:
            out = []
            for kind in KINDS:
                short = await client.report(kind, DAY, DAY)
                long = await client.report(kind, DAY - timedelta(days=LONG_RANGE_DAYS), DAY)
                out.append((kind, short, long))
            return out
        finally:
            await client.aclose()

    for kind, short, long in asyncio.run(go()):
        strip = {"from", "to"}
        if kind == "utilisation":  # more days, more working minutes: compare what was used
            assert [(r["group"], r["bookedMinutes"], r["servedMinutes"]) for r in long["rows"]] == [
                (r["group"], r["bookedMinutes"], r["servedMinutes"]) for r in short["rows"]
            ]
            continue
        assert {k: v for k, v in long.items() if k not in strip} == {
            k: v for k, v in short.items() if k not in strip
        }, kind


def test_the_migration_gives_existing_bookings_their_source(tmp_path):
    """Bookings from before ``m017``: made at a desk (a ``create`` or ``hold`` in their
    history; with a queue number: a walk-in), else pulled from a cloud."""
    import sqlite3

    from sqlite_utils import Database

    from app.store import migrations

    path = tmp_path / "old.sqlite3"
    db = Database(sqlite3.connect(str(path)))
    migrations.migrations.apply(db, stop_before="m017_reports_payment_links")
    for booking_id, number, action in (
        ("desk1", None, "create"),
        ("held", None, "hold"),
        ("walk", 7, "create"),
        ("pulled", None, "sync"),
        ("queued-cloud", 3, None),
    ):
        db["bookings"].insert({"id": booking_id, "status": "CONFIRMED", "queueNumber": number, "version": 1})
        if action:
            db["history"].insert(
                {"bookingId": booking_id, "action": action, "createdAt": "2026-11-22T07:00:00Z"}
            )
    db.conn.commit()
    db.conn.close()
    store = open_store(path)
    try:
        sources = dict(store.db.execute("select id, source from bookings").fetchall())
    finally:
        store.close()
    assert sources == {
        "desk1": "desk",
        "held": "desk",
        "walk": "walk-in",
        "pulled": "cloud",
        "queued-cloud": "cloud",
    }


def test_a_days_reports_read_that_day_not_the_year(tmp_path):
    """A year of bookings in a store with no ``ANALYZE`` statistics (as every branch store):
    each report over one day costs a small part of the same report over the year (SQLite
    virtual-machine steps, counted by a progress handler), broken down or not. Left to the
    planner, one day's no-shows read every confirmed booking of the year."""
    import sqlite3
    from datetime import UTC, date, datetime

    from app.server.reports import KINDS, Reports
    from tests.bench.bench_reports import DAYS, FIRST, ZONE, build

    path = tmp_path / "year.sqlite3"
    build(path, 7300)  # one booking a resource and day, 20 resources, with visits and payments
    store = open_store(path)
    conn = sqlite3.connect(str(path))
    steps = [0]
    conn.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1), 100)
    try:
        assert (
            conn.execute("select count(*) from sqlite_master where name = 'sqlite_stat1'").fetchone()[0] == 0
        )
        reports = Reports.of_store(store, ZONE, lambda: datetime(2026, 11, 10, tzinfo=UTC), conn)
        day, last = date(2026, 3, 10), FIRST + timedelta(days=DAYS - 1)

        def cost(kind, first, to, group_by=None):
            steps[0] = 0
            reports.run(kind, first, to, group_by=group_by)
            return steps[0]

        for kind in KINDS:
            for group_by in (None, "type"):
                one, year = cost(kind, day, day, group_by), cost(kind, FIRST, last, group_by)
                assert one * 20 < year, (kind, group_by, one, year)
    finally:
        conn.close()
        store.close()
