"""The Rekaz connector (``app/sync/rekaz``) against the simulated Rekaz cloud over real HTTP.

Each test names the Rekaz API reference or the contract
(``docs/clouds/rekaz.md``) section whose rule it checks. The connector is driven
through its protocol methods (pull_reference, pull, fetch, plan/send, find_sent,
classify) with a small in-memory :class:`Ctx` standing in for the engine's context.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import ALREADY_ASSIGNED
from app.sync import registry
from app.sync.connector import CloudConfig, FailureKind, Operation
from app.sync.rekaz import mapping
from app.sync.rekaz.client import RekazClient, RekazError, TransportError, code_key
from app.sync.rekaz.connector import RekazConnector
from tests.clouds.rekaz import Clock, RekazCloud, generate_clinic, start_cloud
from tests.clouds.rekaz.model import CHECK_OUT

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh


class Ctx:
    """The engine's side of the protocol, in memory: cloud id ⇄ local id maps (local ids
    are ``L-<cloud id>``), customers, committed steps."""

    def __init__(self, now=NOW, zone="Asia/Riyadh"):
        self._now, self.zone = now, zone
        self.maps: dict[str, dict[str, str]] = {"booking": {}, "customer": {}, "resource": {}, "type": {}}
        self.customers: dict[str, dict] = {}
        self.steps_saved: list[dict] = []
        self.requested: list[str] = []

    def now(self):
        return self._now

    def map(self, entity, local_id, cloud_id):
        self.maps[entity][local_id] = cloud_id

    def cloud_id(self, entity, local_id):
        return self.maps[entity].get(local_id)

    def local_id(self, entity, cloud_id):
        return next((lo for lo, c in self.maps[entity].items() if c == cloud_id), None)

    def customer(self, local_id):
        return self.customers.get(local_id)

    async def mark_requested(self, op):
        op.requested_at = NOW.isoformat()
        self.requested.append(op.id)

    async def save_steps(self, op, steps):
        op.steps = dict(steps)
        self.steps_saved.append(dict(steps))

    async def save_secret(self, secret):
        pass


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def sim():
    cloud = RekazCloud(clock=Clock(NOW))
    main = cloud.add_branch("الفرع الرئيسي", "Main Branch")
    other = cloud.add_branch("الفرع الثانوي", "Secondary Branch")
    sara, omar = cloud.add_provider("د. سارة"), cloud.add_provider("Dr. Omar")
    product = cloud.add_product(
        "كشف عام",
        "General consultation",
        [
            {"nameAr": "كشف جديد", "nameEn": "New visit", "amount": 200, "duration": 30},
            {"nameAr": "مراجعة", "nameEn": "Follow-up", "amount": 0, "duration": 15},
        ],
        [sara["id"], omar["id"]],
        [main["id"]],
    )
    single = cloud.add_product(
        "تنظيف",
        "Cleaning",
        [{"nameAr": "جلسة", "nameEn": "Session", "amount": 0}],
        [omar["id"]],
        [main["id"], other["id"]],
        duration=45,
    )
    huda = cloud.add_customer("Huda Saleh", "+966501234567", main["id"])
    with start_cloud(cloud) as running:
        running.ids = {
            "main": main["id"],
            "other": other["id"],
            "sara": sara["id"],
            "omar": omar["id"],
            "product": product["id"],
            "paid": product["pricing"][0]["id"],
            "free": product["pricing"][1]["id"],
            "single": single["pricing"][0]["id"],
            "huda": huda["id"],
        }
        yield running


def connector(sim, ctx=None, *, key=None, tenant=None, branch=None) -> RekazConnector:
    config = CloudConfig(
        base_url=sim.url,
        account=tenant or sim.cloud.tenant,
        secret=key or sim.cloud.key,
        cloud="rekaz",
        extra={"branchId": branch or sim.ids["main"]},
    )
    return registry.get("rekaz").factory(config, ctx or Ctx())


def mapped_ctx(sim) -> Ctx:
    """A context where the reference data is mapped (local id = ``L-`` + cloud id)."""
    ctx = Ctx()
    for entity, ids in (("resource", ("sara", "omar")), ("type", ("paid", "free", "single"))):
        for name in ids:
            ctx.map(entity, "L-" + sim.ids[name], sim.ids[name])
    ctx.map("customer", "L-huda", sim.ids["huda"])
    ctx.customers["L-huda"] = {
        "id": "L-huda",
        "firstName": "Huda",
        "lastName": "Saleh",
        "phone": "+966501234567",
    }
    return ctx


def op(action, after, before=None, booking_id="B1", **kw) -> Operation:
    return Operation(
        id="op-" + action,
        booking_id=booking_id,
        action=action,
        payload={"before": before, "after": after, "actor": {}},
        **kw,
    )


async def _with(conn, fn):
    await conn.open()
    try:
        return await fn()
    finally:
        await conn.close()


def test_registered_with_its_fields_and_capabilities():
    """Contract "Transport": key, tenant, branch; the desk's capabilities on Rekaz."""
    info = registry.get("rekaz")
    assert [f.key for f in info.fields] == ["baseUrl", "account", "secret", "branchId"]
    assert info.capabilities.attendances and info.capabilities.queue and not info.capabilities.holds
    assert info.capabilities.pull_mode == "windows" and not info.capabilities.reschedule_new_id


# ---- transport ----------------------------------------------------------------------------
def test_key_goes_as_issued_and_a_wrong_key_is_auth(sim):
    """API reference "Authentication": ``Basic <key>`` and ``__tenant``; 401 → auth, not retried."""

    async def scenario():
        good = RekazClient(sim.url, sim.cloud.key, sim.cloud.tenant)
        bad = RekazClient(sim.url, sim.cloud.key + "x", sim.cloud.tenant)
        try:
            assert len(await good.listing("branches")) == 2
            with pytest.raises(RekazError) as caught:
                await bad.listing("branches")
            assert caught.value.kind == "auth" and bad.calls["branches"] == 1
        finally:
            await good.aclose()
            await bad.aclose()

    run(scenario())


def test_error_codes_compare_case_insensitively():
    """Contract "Transport": the sample spells ``VALIDATION_ERROR``; the list ``ValidationError``."""
    error = RekazError(400, "VALIDATION_ERROR", "bad")
    assert error.is_code("ValidationError") and error.kind == "refused"
    assert code_key("BusinessLogicError") == code_key("business_logic_error")
    assert RekazError(400, "ratelimit", "slow down").kind == "transient"


def test_429_retry_after_is_honoured_on_reads_and_raised_on_writes(sim):
    """Contract "Transport": ``RateLimit`` comes as 429 with ``Retry-After``, honoured."""

    async def scenario():
        client = RekazClient(sim.url, sim.cloud.key, sim.cloud.tenant)
        try:
            sim.cloud.faults.rate_limit(retry_after=1, path="/api/public/branches")
            began = time.monotonic()
            assert len(await client.listing("branches")) == 2
            assert time.monotonic() - began >= 0.95 and client.calls["branches"] == 2
            sim.cloud.faults.rate_limit(retry_after=7, method="POST")
            with pytest.raises(RekazError) as caught:
                await client.call(
                    "create_customer",
                    body={"name": "X", "mobileNumber": "0501112222", "branchId": sim.ids["main"]},
                )
            assert caught.value.transient and caught.value.retry_after == 7
            assert len(sim.cloud.customers) == 1
        finally:
            await client.aclose()

    run(scenario())


def test_paged_listings_are_read_to_the_end(sim):
    """API reference "Customers API": ``skipCount``/``maxResultCount`` ≤ 100 and ``totalCount``."""
    for n in range(230):
        sim.cloud.add_customer(f"Customer {n}", f"05{n:08d}", sim.ids["main"])

    async def scenario():
        client = RekazClient(sim.url, sim.cloud.key, sim.cloud.tenant)
        try:
            rows = await client.all("customers")
        finally:
            await client.aclose()
        assert len(rows) == 231 and client.calls["customers"] == 3

    run(scenario())


# ---- reference data -----------------------------------------------------------------------
def test_reference_data_in_arabic_and_english(sim):
    """Contract "Objects": a booking type is a (product, price) pair; names in both languages."""
    ref = run(_with(conn := connector(sim), conn.pull_reference))
    types = {t["id"]: t for t in ref.types}
    assert set(types) == {sim.ids["paid"], sim.ids["free"], sim.ids["single"]}
    paid = types[sim.ids["paid"]]
    assert paid["name_translations"] == {"ar": "كشف عام · كشف جديد", "en": "General consultation · New visit"}
    assert paid["minutes"] == 30 and paid["price"] == "200.00"
    assert (
        types[sim.ids["single"]]["name_translations"]["en"] == "Cleaning"
        and types[sim.ids["single"]]["minutes"] == 45
    )
    resources = {r["id"]: r for r in ref.resources}
    assert set(resources[sim.ids["omar"]]["types"]) == {sim.ids["paid"], sim.ids["free"], sim.ids["single"]}
    assert resources[sim.ids["sara"]]["timeRules"]["unknown"] is True
    assert [c["phone"] for c in ref.customers] == ["+966501234567"]


def test_other_branch_sees_only_its_products(sim):
    ref = run(_with(conn := connector(sim, branch=sim.ids["other"]), conn.pull_reference))
    assert [t["id"] for t in ref.types] == [sim.ids["single"]]


# ---- bookings -----------------------------------------------------------------------------
def _book(sim, price="paid", providers=("sara",), start=NOW + timedelta(hours=1), customer="huda"):
    product, price_obj = sim.cloud.price(sim.ids[price])
    minutes = sim.cloud.minutes(product, price_obj)
    body = {
        "customerId": sim.ids[customer],
        "branchId": sim.ids["main"],
        "items": [
            {
                "quantity": 1,
                "priceId": sim.ids[price],
                "from": start.isoformat(),
                "to": (start + timedelta(minutes=minutes)).isoformat(),
                "providerIds": [sim.ids[p] for p in providers],
            }
        ],
    }
    return sim.cloud.bulk_create(body, source="WebBooking")["reservationIds"][0]


async def _pages(conn, cursor=None, full=True):
    return [page async for page in conn.pull(cursor, full=full)]


def test_pull_maps_names_to_ids_and_reads_windows_to_the_end(sim):
    """Contract "Behaviour": names, not ids; windows listed to the end with cancelled rows."""
    ids = [_book(sim, start=NOW + timedelta(days=d, hours=h)) for d in range(3) for h in range(1, 9)]
    sim.cloud.cancel(ids[0], "ill", notify=False)
    queued = _book(sim, price="free", providers=(), start=NOW + timedelta(minutes=5))
    conn = connector(sim)
    pages = run(_with(conn, lambda: _pages(conn)))
    rows = {b.cloud_id: b.row for p in pages for b in p.bookings}
    assert len(rows) == 25 and pages[-1].windows_done and pages[0].restarted
    assert [w.column for w in pages[-1].windows_done] == ["startDateTime"]
    assert rows[ids[1]]["typeId"] == sim.ids["paid"] and rows[ids[1]]["resourceId"] == sim.ids["sara"]
    assert rows[ids[1]]["status"] == "PENDING_APPROVAL" and rows[ids[1]]["customerId"] == sim.ids["huda"]
    assert rows[ids[0]]["status"] == "CANCELED"
    assert rows[queued]["status"] == "PENDING_ASSIGNMENT" and rows[queued]["startDateTime"] is None
    assert rows[queued]["createdAt"] == "2026-12-07T06:05:00Z"
    assert not conn.problems


def test_unknown_and_ambiguous_names_are_problems_never_guesses(sim):
    """Contract "Behaviour": an ambiguous or unknown name leaves the field unresolved."""
    ident = _book(sim, providers=("omar",))
    sim.cloud.add_provider("Dr. Omar")  # now two providers carry the name
    conn = connector(sim)
    pages = run(_with(conn, lambda: _pages(conn)))
    booking = next(b for p in pages for b in p.bookings if b.cloud_id == ident)
    assert booking.row["resourceId"] is None and booking.row["typeId"] == sim.ids["paid"]
    assert conn.problems[ident][0].reason == "ambiguous"
    assert booking.raw["problems"][0]["code"] == "REKAZ-RESOURCE-AMBIGUOUS"
    sim.cloud.reservations[ident]["productName"] = "Something else"
    found = run(_with(conn, lambda: conn.fetch(ident)))
    assert found.row["typeId"] is None and {p.field for p in conn.problems[ident]} == {"type", "resource"}


def test_attendance_made_in_rekaz_moves_the_booking_once(sim):
    """Contract "Behaviour": attendances made in Rekaz → arrived, then done."""
    ident = _book(sim, price="free", start=NOW - timedelta(minutes=10))
    conn = connector(sim)

    async def scenario():
        first = await _pages(conn, None, full=False)
        assert "visitStatus" not in next(b.row for b in first[0].bookings if b.cloud_id == ident)
        sim.cloud.kiosk_attendance(ident)
        second = await _pages(conn, first[-1].cursor, full=False)
        assert next(b.row for b in second[0].bookings if b.cloud_id == ident)["visitStatus"] == "CHECKED_IN"
        third = await _pages(conn, second[-1].cursor, full=False)
        assert "visitStatus" not in next(b.row for b in third[0].bookings if b.cloud_id == ident)
        sim.cloud.kiosk_attendance(ident, CHECK_OUT)
        fourth = await _pages(conn, third[-1].cursor, full=False)
        assert next(b.row for b in fourth[0].bookings if b.cloud_id == ident)["visitStatus"] == "COMPLETED"

    run(_with(conn, scenario))


def test_fetch_after_delete_is_none(sim):
    """Contract "Behaviour": a row gone from a window is fetched; 404 → deleted."""
    ident = _book(sim)
    conn = connector(sim)

    async def scenario():
        assert (await conn.fetch(ident)).row["status"] == "PENDING_APPROVAL"
        sim.cloud.remove(ident)
        assert await conn.fetch(ident) is None

    run(_with(conn, scenario))


def test_interrupted_listing_resumes_at_its_page(sim):
    for h in range(130):
        _book(sim, price="single", providers=(), start=NOW + timedelta(minutes=h))
    conn = connector(sim)

    async def scenario():
        gen = conn.pull(None, full=True)
        page = await gen.__anext__()
        await gen.aclose()
        assert page.cursor["listing"]["skip"] == 100 and not page.windows_done
        rest = await _pages(conn, page.cursor, full=True)
        assert not rest[0].restarted and len(rest[0].bookings) == 30 and rest[0].windows_done

    run(_with(conn, scenario))


# ---- desk operations ----------------------------------------------------------------------
def _desk(sim, **kw):
    row = {
        "id": "B1",
        "status": "CONFIRMED",
        "startDateTime": "2026-12-07T08:00:00Z",
        "endDateTime": "2026-12-07T08:30:00Z",
        "duration": 30,
        "typeId": "L-" + sim.ids["paid"],
        "resourceId": "L-" + sim.ids["sara"],
        "customerId": "L-huda",
        "visitStatus": None,
    }
    row.update(kw)
    return row


def test_create_with_a_new_customer_first_then_confirmed(sim):
    """Contract "Desk operations": customer first, bulk create with one item; Pending →
    confirm; ``invoiceId`` and ``paymentLink`` kept."""
    ctx = mapped_ctx(sim)
    ctx.customers["L-new"] = {
        "id": "L-new",
        "firstName": "Reem",
        "lastName": "Alharbi",
        "phone": "+966551230000",
    }
    conn = connector(sim, ctx)
    after = _desk(sim, customerId="L-new")
    assert [p.action for p in conn.plan("create", None, after)] == ["create"]
    result = run(_with(conn, lambda: conn.send(op("create", after))))
    assert (
        result.booking.row["status"] == "CONFIRMED"
        and result.booking.row["startDateTime"] == after["startDateTime"]
    )
    assert result.booking.raw["paymentLink"].startswith("https://") and result.booking.raw["invoiceId"]
    assert (
        result.booking.row["paymentLink"] == result.booking.raw["paymentLink"]
    )  # shown on the desk as a QR code
    [created] = [c for c in sim.cloud.customers.values() if c["name"] == "Reem Alharbi"]
    assert created["mobileNumber"] == "+966551230000"
    assert sim.cloud.reservations[result.booking.cloud_id]["customerId"] == created["id"]


def test_lost_create_reply_makes_exactly_one_reservation(sim):
    """Contract "Behaviour": lost reply on create → natural-key scan before re-sending."""
    ctx = mapped_ctx(sim)
    conn = connector(sim, ctx)
    operation = op("create", _desk(sim))

    async def scenario():
        sim.cloud.faults.lose_reply(method="POST", path="/api/public/reservations/bulk")
        with pytest.raises(TransportError) as caught:
            await conn.send(operation)
        assert conn.classify(caught.value).kind == FailureKind.TRANSIENT
        assert operation.requested_at and operation.steps["createRequested"]
        candidates = await conn.find_sent(operation)
        assert len(candidates) == 1
        result = await conn.send(operation)
        assert result.booking.cloud_id == candidates[0].cloud_id

    run(_with(conn, scenario))
    assert len(sim.cloud.reservations) == 1


def test_lost_customer_reply_makes_exactly_one_customer(sim):
    """Contract "Behaviour": lost reply on ``POST /customers`` → scan by mobile (``05…`` = ``+9665…``)."""
    ctx = mapped_ctx(sim)
    ctx.customers["L-new"] = {
        "id": "L-new",
        "firstName": "Salman",
        "lastName": None,
        "phone": "+966559998888",
    }
    conn = connector(sim, ctx)
    operation = op("create", _desk(sim, customerId="L-new"))

    async def scenario():
        sim.cloud.faults.lose_reply(method="POST", path="/api/public/customers")
        with pytest.raises(TransportError):
            await conn.send(operation)
        await conn.send(operation)

    run(_with(conn, scenario))
    assert len([c for c in sim.cloud.customers.values() if c["name"] == "Salman"]) == 1
    assert len(sim.cloud.reservations) == 1


def test_reschedule_keeps_the_id_and_cancel_twice_is_done(sim):
    """API reference "PUT /reservations/{id}": same id; contract: a re-sent cancel meeting
    ``BusinessLogicError`` is done when GET shows it cancelled."""
    ctx = mapped_ctx(sim)
    ident = _book(sim, start=datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    ctx.map("booking", "B1", ident)
    conn = connector(sim, ctx)
    before = _desk(sim)
    after = _desk(
        sim,
        startDateTime="2026-12-07T10:00:00Z",
        endDateTime="2026-12-07T10:30:00Z",
        resourceId="L-" + sim.ids["omar"],
    )

    async def scenario():
        moved = await conn.send(op("reschedule", after, before))
        assert moved.booking.cloud_id == ident and moved.replaces is None
        assert moved.booking.row["startDateTime"] == "2026-12-07T10:00:00Z"
        assert moved.booking.row["resourceId"] == sim.ids["omar"]
        cancel = op("cancel", {**after, "status": "CANCELED", "cancelReason": "asked by phone"}, after)
        assert (await conn.send(cancel)).booking.row["status"] == "CANCELED"
        assert (await conn.send(cancel)).booking.row["status"] == "CANCELED"

    run(_with(conn, scenario))
    assert sim.cloud.reservations[ident]["_cancellationReason"] == "asked by phone"


def test_accept_is_read_check_write_check(sim):
    """Contract "Behaviour": accept race; a lost accept is refused with SCH-ALREADY_ASSIGNED."""
    ctx = mapped_ctx(sim)
    won = _book(sim, price="free", providers=(), start=NOW)
    lost = _book(sim, price="free", providers=(), start=NOW + timedelta(minutes=30))
    ctx.map("booking", "B1", won)
    ctx.map("booking", "B2", lost)
    conn = connector(sim, ctx)
    after = _desk(
        sim,
        typeId="L-" + sim.ids["free"],
        resourceId="L-" + sim.ids["sara"],
        startDateTime="2026-12-07T06:20:00Z",
        endDateTime="2026-12-07T06:35:00Z",
        duration=15,
    )
    assert [p.action for p in conn.plan("accept", {**after, "resourceId": None}, after)] == ["assign"]
    _book(sim, price="free", providers=("sara",), start=NOW)  # Sara was busy when the walk-in came

    async def scenario():
        result = await conn.send(op("assign", after))
        assert (
            result.booking.row["resourceId"] == sim.ids["sara"]
            and result.booking.row["status"] == "CONFIRMED"
        )
        sim.cloud.cloud_move(lost, NOW + timedelta(minutes=30), provider_ids=[sim.ids["omar"]])
        with pytest.raises(Exception) as caught:
            await conn.send(op("assign", after, booking_id="B2"))
        failure = conn.classify(caught.value)
        assert failure.kind == FailureKind.REFUSED and failure.code == ALREADY_ASSIGNED

    run(_with(conn, scenario))
    assert sim.cloud.reservations[lost]["providers"] == ["Dr. Omar"]
    assert sim.cloud.reservations[won]["startAt"] == "2026-12-07T06:20:00Z"  # accepted at the desk's time


def test_end_early_rereads_the_start_and_checks_out(sim):
    """Contract "Desk operations": end early = PUT the end with the current ``startAt``,
    then check-out; a move made in Rekaz meanwhile is not undone."""
    ctx = mapped_ctx(sim)
    ident = _book(sim, price="free", start=NOW - timedelta(minutes=10))
    ctx.map("booking", "B1", ident)
    conn = connector(sim, ctx)
    before = _desk(
        sim,
        startDateTime="2026-12-07T05:50:00Z",
        endDateTime="2026-12-07T06:05:00Z",
        typeId="L-" + sim.ids["free"],
        visitStatus="CHECKED_IN",
    )
    after = {**before, "endDateTime": "2026-12-07T06:02:00Z", "duration": 12, "visitStatus": "COMPLETED"}

    async def scenario():
        checkin = op("check_in", before)
        await conn.send(checkin)
        sim.cloud.cloud_move(ident, NOW - timedelta(minutes=11), NOW - timedelta(minutes=1))
        result = await conn.send(op("end", after, before))
        assert result.booking.row["startDateTime"] == "2026-12-07T05:49:00Z"
        assert result.booking.row["endDateTime"] == "2026-12-07T06:02:00Z"

    run(_with(conn, scenario))
    assert [a["kind"] for a in sim.cloud.attendances] == ["CheckIn", "CheckOut"]


def test_lost_attendance_reply_is_not_sent_twice(sim):
    """Contract "Behaviour": lost reply on ``POST /attendances`` → look it up by customer."""
    ctx = mapped_ctx(sim)
    ident = _book(sim, price="free", start=NOW - timedelta(minutes=10))
    ctx.map("booking", "B1", ident)
    conn = connector(sim, ctx)
    operation = op("check_in", _desk(sim, typeId="L-" + sim.ids["free"]))

    async def scenario():
        sim.cloud.faults.lose_reply(method="POST", path="/api/public/attendances")
        with pytest.raises(TransportError):
            await conn.send(operation)
        await conn.send(operation)

    run(_with(conn, scenario))
    assert [a["kind"] for a in sim.cloud.attendances] == ["CheckIn"]


def test_change_of_service_is_cancel_and_create_with_a_new_id(sim):
    """Contract "Desk operations": the PUT takes only times and providers."""
    ctx = mapped_ctx(sim)
    ident = _book(sim, start=datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    ctx.map("booking", "B1", ident)
    conn = connector(sim, ctx)
    before = _desk(sim)
    after = _desk(sim, typeId="L-" + sim.ids["free"], endDateTime="2026-12-07T08:15:00Z", duration=15)
    [planned] = conn.plan("reschedule", before, after)
    assert planned.creates
    result = run(_with(conn, lambda: conn.send(op(planned.action, after, before))))
    assert result.replaces == ident and result.booking.cloud_id != ident
    assert sim.cloud.reservations[ident]["status"] == "Cancelled"
    assert result.booking.row["typeId"] == sim.ids["free"] and result.booking.row["status"] == "CONFIRMED"


def test_local_only_actions_plan_nothing(sim):
    """Contract "Desk operations": in progress and no-show have no Rekaz form."""
    conn = connector(sim)
    row = _desk(sim, visitStatus="CHECKED_IN")
    assert conn.plan("start", row, {**row, "visitStatus": "IN_PROGRESS"}) == []
    assert conn.plan("no_show", row, row) == [] and conn.plan("hold", None, row) == []
    assert [p.action for p in conn.plan("start", {**row, "visitStatus": None}, row)] == ["check_in"]


def test_initial_sync_of_the_generated_clinic():
    """Every reservation of the generated clinic's main branch in the horizon comes down."""
    cloud = RekazCloud()
    clinic = generate_clinic(cloud, per_day=12)
    with start_cloud(cloud) as running:
        config = CloudConfig(
            base_url=running.url,
            account=cloud.tenant,
            secret=cloud.key,
            cloud="rekaz",
            extra={"branchId": clinic["branches"][0]},
        )
        conn = registry.get("rekaz").factory(config, Ctx(now=datetime.now(UTC)))

        async def scenario():
            ref = await conn.pull_reference()
            pages = await _pages(conn)
            return ref, pages

        ref, pages = run(_with(conn, scenario))
    want = {r["id"] for r in cloud.reservations.values() if r["branchId"] == clinic["branches"][0]}
    got = {b.cloud_id for p in pages for b in p.bookings}
    assert got == want and not conn.problems and sum(p.set_aside for p in pages) == 0
    assert {t["name_translations"]["en"] for t in ref.types} >= {
        "General consultation · New visit",
        "Free consultation",
    }


def test_mobile_keys_agree():
    """Contract "Behaviour": ``+966…``, ``966…`` and ``05…`` all become ``9665…``."""
    assert {
        mapping.mobile_key(m) for m in ("+966501234567", "966501234567", "0501234567", "00966501234567")
    } == {"966501234567"}


def test_unassigned_reservation_waits_180_minutes_then_is_rejected(sim):
    """Contract "Desk operations": unassigned queue; Rekaz has no assignment timeout, so a
    waiting reservation gets the longest (Ehjzny API reference, "Assignment Timeout": 5..180) from its time."""
    waiting = _book(sim, price="free", providers=(), start=NOW - timedelta(minutes=170))
    over = _book(sim, price="free", providers=(), start=NOW - timedelta(minutes=181))
    conn = connector(sim)
    pages = run(_with(conn, lambda: _pages(conn)))
    rows = {b.cloud_id: b.row for p in pages for b in p.bookings}
    assert rows[waiting]["status"] == "PENDING_ASSIGNMENT" and rows[waiting]["assignmentTimeout"] == 180
    assert rows[over]["status"] == "REJECTED" and rows[over]["startDateTime"] == clock_iso(
        NOW - timedelta(minutes=181)
    )
    assert rows[over]["resourceId"] is None


def test_created_at_only_for_reservations_the_branch_does_not_have(sim):
    """Rekaz has no creation time: a new timed row is stamped when first seen (the engine's
    natural-key match needs one); a mapped row leaves the local value alone."""
    new, known = _book(sim), _book(sim, start=NOW + timedelta(hours=3))
    ctx = mapped_ctx(sim)
    ctx.map("booking", "B-known", known)
    conn = connector(sim, ctx)
    pages = run(_with(conn, lambda: _pages(conn)))
    rows = {b.cloud_id: b.row for p in pages for b in p.bookings}
    assert rows[new]["createdAt"] == "2026-12-07T06:00:00Z" and "createdAt" not in rows[known]


def test_find_sent_candidates_carry_the_request_time(sim):
    ctx = mapped_ctx(sim)
    conn = connector(sim, ctx)
    operation = op("create", _desk(sim))

    async def scenario():
        sim.cloud.faults.lose_reply(method="POST", path="/api/public/reservations/bulk")
        with pytest.raises(TransportError):
            await conn.send(operation)
        operation.requested_at = "2026-12-07T05:59:30Z"
        [found] = await conn.find_sent(operation)
        assert (
            found.row["createdAt"] == "2026-12-07T05:59:30Z"
            and found.row["startDateTime"] == "2026-12-07T08:00:00Z"
        )

    run(_with(conn, scenario))


def test_a_kiosk_check_in_carries_its_time(sim):
    ident = _book(sim, price="free", start=NOW - timedelta(minutes=5))
    sim.cloud.kiosk_attendance(ident)
    conn = connector(sim)
    pages = run(_with(conn, lambda: _pages(conn, None, full=False)))
    row = next(b.row for p in pages for b in p.bookings if b.cloud_id == ident)
    assert row["visitStatus"] == "CHECKED_IN" and row["checkedInAt"] == "2026-12-07T06:00:00Z"


def test_a_cancel_taken_back_is_booked_again_with_a_new_id(sim):
    """Contract "Desk operations": no un-cancel in Rekaz (the cancel PUT is the only way),
    so the desk's undo books the same visit again."""
    ctx = mapped_ctx(sim)
    ident = _book(sim, start=datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    sim.cloud.cancel(ident, "by mistake", notify=False)
    ctx.map("booking", "B1", ident)
    conn = connector(sim, ctx)
    row = _desk(sim)
    [planned] = conn.plan("restore", {**row, "status": "CANCELED"}, row)
    assert planned.creates
    result = run(_with(conn, lambda: conn.send(op(planned.action, row, {**row, "status": "CANCELED"}))))
    assert result.replaces == ident and result.booking.cloud_id != ident
    assert (
        result.booking.row["status"] == "CONFIRMED"
        and result.booking.row["startDateTime"] == row["startDateTime"]
    )
    assert sim.cloud.reservations[ident]["status"] == "Cancelled"


def test_branch_is_checked_and_the_only_one_is_taken(sim):
    """Contract "Transport": one desk branch = one Rekaz branch; 403 for another tenant's."""
    conn = connector(sim, branch="not-a-branch")
    with pytest.raises(RekazError) as caught:
        run(_with(conn, conn.check))
    assert conn.classify(caught.value).kind == FailureKind.REFUSED
    conn = connector(sim)
    conn.branch_id = ""
    with pytest.raises(RekazError) as caught:  # two branches: the desk must choose
        run(_with(conn, conn.check))
    assert "Main Branch" in caught.value.message
    with sim.cloud.lock:
        del sim.cloud.branches[sim.ids["other"]]
    run(_with(conn, conn.check))
    assert conn.branch_id == sim.ids["main"]


def test_a_queue_booking_gone_from_its_window_is_checked_by_id(sim):
    """Contract "Behaviour" → Pull: a reservation missing from a fully read window is GET by
    id (200 moved, 404 deleted); queue bookings have no local start, so the connector
    checks the ones it listed as waiting itself."""
    gone = _book(sim, price="free", providers=(), start=NOW + timedelta(minutes=5))
    moved = _book(sim, price="free", providers=(), start=NOW + timedelta(minutes=10))
    stays = _book(sim, price="free", providers=(), start=NOW + timedelta(minutes=20))
    conn = connector(sim)

    async def scenario():
        first = await _pages(conn, None, full=False)
        assert set(first[-1].cursor["queued"]) == {gone, moved, stays} and not first[-1].deleted
        sim.cloud.remove(gone)
        sim.cloud.cloud_move(moved, NOW + timedelta(days=3))
        second = await _pages(conn, first[-1].cursor, full=False)
        assert second[-1].deleted == [gone]
        rows = {b.cloud_id: b.row for p in second for b in p.bookings}
        assert rows[moved]["createdAt"] == clock_iso(NOW + timedelta(days=3)) and stays in rows
        assert set(second[-1].cursor["queued"]) == {moved, stays}

    run(_with(conn, scenario))


def clock_iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_page_limit_is_at_most_100(sim):
    conn = registry.get("rekaz").factory(
        CloudConfig(sim.url, sim.cloud.tenant, sim.cloud.key, cloud="rekaz"),
        Ctx(),
        options={"page_limit": 500, "horizon_days": (0, 2)},
    )
    assert conn.page_limit == 100 and conn.horizon_days == (0, 2)
    conn.page_limit = 7
    assert conn.page_limit == 7


# ---- through the engine (a real branch store and booking service) ---------------------------
class EngineBranch:
    """A branch store + booking service + sync engine connected to a started Rekaz cloud."""

    def __init__(self, running, branch_id, path):
        from app.server.service import BookingService
        from app.store import open_store
        from app.sync.engine import SyncEngine

        self.running = running
        self.store = open_store(path / "branch.sqlite3")
        self.service = BookingService(self.store)
        config = CloudConfig(
            running.url, running.cloud.tenant, running.cloud.key, cloud="rekaz", extra={"branchId": branch_id}
        )
        self.engine = SyncEngine(self.service, config).attach()

    def local(self, cloud_id, entity="booking"):
        return self.store.local_id("rekaz", cloud_id, entity)

    def cloud_id(self, local_id, entity="booking"):
        return self.store.cloud_ids(local_id, entity).get("rekaz")

    def run(self, scenario):
        async def main():
            await self.engine.open()
            try:
                return await scenario()
            finally:
                await self.engine.close()

        return asyncio.run(main())


@pytest.fixture
def clinic(tmp_path):
    cloud = RekazCloud()
    made = generate_clinic(cloud)
    with start_cloud(cloud) as running:
        branch = EngineBranch(running, made["branches"][0], tmp_path)
        try:
            yield branch, made
        finally:
            branch.store.close()


def _in_horizon(cloud, branch_id):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Riyadh")
    today = datetime.now(UTC).astimezone(zone).date()
    return {
        r["id"]
        for r in cloud.reservations.values()
        if r["branchId"] == branch_id and -1 <= (r["_start"].astimezone(zone).date() - today).days <= 30
    }


def test_engine_initial_sync_and_a_kiosk_check_in(clinic):
    """Issue "Done when": an attendance made in the simulated cloud shows on a desk as arrived."""
    branch, made = clinic
    cloud = branch.running.cloud

    async def scenario():
        status = await branch.engine.sync_once(deadline=20)
        assert status["pending"] == 0 and status["needsAttention"] == 0, status
        want = _in_horizon(cloud, made["branches"][0])
        got = {
            r[0]
            for r in branch.store.db.execute(
                "select cloudId from cloud_ids where entity = 'booking' and cloud = 'rekaz'"
            )
        }
        assert got == want
        from zoneinfo import ZoneInfo

        local_today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Riyadh")).date()
        today = [
            r
            for r in cloud.reservations.values()
            if r["branchId"] == made["branches"][0]
            and r["status"] == "Confirmed"
            and r["_providerIds"]
            and cloud._attendance_state(r["id"]) is None
            and r["_start"].astimezone(ZoneInfo("Asia/Riyadh")).date() == local_today
        ]  # the hot window
        if not today:  # the generated day may have none left: make one (waiting, no provider)
            price = made["prices"]["Follow-up"]
            today = [
                cloud.reservations[
                    cloud.online_booking(
                        price, datetime.now(UTC).replace(microsecond=0), branch_id=made["branches"][0]
                    )["id"]
                ]
            ]
            await branch.engine.pull(horizon=False)
        target = today[0]["id"]
        cloud.kiosk_attendance(target)
        await branch.engine.pull(horizon=False)
        local = branch.store.booking(branch.local(target))
        assert local["visitStatus"] == "CHECKED_IN" and local["checkedInAt"]
        types = branch.store.types()
        assert any(t["name_translations"]["en"] == "General consultation · New visit" for t in types)

    branch.run(scenario)


def test_engine_desk_booking_with_a_lost_reply_is_made_once(clinic):
    """Issue "Done when": a bulk create whose reply is lost creates exactly one reservation."""
    branch, made = clinic
    cloud = branch.running.cloud

    async def scenario():
        await branch.engine.sync_once(deadline=20)
        before = set(cloud.reservations)
        type_id = branch.local(made["prices"]["Follow-up"], "type")
        resource = branch.local(made["providers"][0], "resource")
        customer = branch.store.customers(limit=1)[0]["id"]
        from zoneinfo import ZoneInfo

        day = (datetime.now(UTC).astimezone(ZoneInfo("Asia/Riyadh")) + timedelta(days=20)).date()
        cloud.faults.lose_reply(method="POST", path="/api/public/reservations/bulk")
        booking = branch.service.create(
            {
                "type": type_id,
                "date": day.isoformat(),
                "time": 2030,
                "resourceId": resource,
                "customerIdentifier": {"id": customer},
            }
        )
        status = await branch.engine.sync_once(deadline=30)
        assert status["pending"] == 0 and status["needsAttention"] == 0, status
        assert not cloud.faults.rules()  # the reply was lost
        new = set(cloud.reservations) - before
        assert len(new) == 1 and branch.cloud_id(booking["id"]) == next(iter(new))
        assert cloud.reservations[next(iter(new))]["status"] == "Confirmed"  # confirmed after the create
        assert (
            len(
                [
                    b
                    for b in branch.store.db.execute(
                        "select id from bookings where startDateTime = ?", [booking["startDateTime"]]
                    )
                ]
            )
            == 1
        )

    branch.run(scenario)


def test_engine_walk_in_then_accept(clinic):
    branch, made = clinic
    cloud = branch.running.cloud

    async def scenario():
        await branch.engine.sync_once(deadline=20)
        type_id = branch.local(made["prices"]["Follow-up"], "type")
        customer = branch.store.customers(limit=1)[0]["id"]
        walk_in = branch.service.create(
            {"type": type_id, "assign": False, "customerIdentifier": {"id": customer}}
        )
        await branch.engine.sync_once(deadline=20)
        cloud_id = branch.cloud_id(walk_in["id"])
        assert cloud_id and cloud.reservations[cloud_id]["providers"] == []
        free = next(
            p
            for p in made["providers"][:3]
            if not cloud.busy(p, datetime.now(UTC), datetime.now(UTC) + timedelta(minutes=15))
        )
        branch.service.accept(walk_in["id"], branch.local(free, "resource"))
        status = await branch.engine.sync_once(deadline=20)
        assert status["needsAttention"] == 0, branch.engine.outbox.attention()
        assert cloud.reservations[cloud_id]["_providerIds"] == [free]
        assert branch.store.booking(walk_in["id"])["status"] == "CONFIRMED"

    branch.run(scenario)


def test_customers_are_scanned_once_and_known_ones_not_sent_again(sim):
    """Contract "Objects": no customer update, so the desk's edits stay local; "Behaviour":
    a full scan of customers at start and nightly."""
    ctx = Ctx()
    conn = connector(sim, ctx)

    async def scenario():
        first = await conn.pull_reference()
        assert [c["id"] for c in first.customers] == [sim.ids["huda"]]
        ctx.map("customer", "L-huda", sim.ids["huda"])
        sim.cloud.add_customer("Noura", "0551112222", sim.ids["main"])
        calls = conn.client.calls.get("customers", 0)
        assert (await conn.pull_reference()).customers == [] and conn.client.calls.get(
            "customers", 0
        ) == calls
        conn._customers_at -= 24 * 3600
        again = await conn.pull_reference()
        assert [c["firstName"] for c in again.customers] == ["Noura"]  # Huda is known: not sent again

    run(_with(conn, scenario))


def test_a_create_whose_confirm_failed_is_not_made_again(sim):
    """The create committed and its reply came, then the confirm met a 5xx: the retry
    confirms the same reservation (steps kept), it does not book again."""
    ctx = mapped_ctx(sim)
    conn = connector(sim, ctx)
    operation = op("create", _desk(sim))

    async def scenario():
        sim.cloud.faults.fail(status=503, method="PUT")
        with pytest.raises(RekazError):
            await conn.send(operation)
        result = await conn.send(operation)
        assert result.booking.row["status"] == "CONFIRMED"

    run(_with(conn, scenario))
    assert len(sim.cloud.reservations) == 1


def test_a_lost_create_that_a_pull_mapped_is_not_made_again(sim):
    """Lost reply, then a pull recognised the reservation as this booking's: the retry's
    natural-key scan takes it (it is this booking's own), it does not book again."""
    ctx = mapped_ctx(sim)
    conn = connector(sim, ctx)
    operation = op("create", _desk(sim))

    async def scenario():
        sim.cloud.faults.lose_reply(method="POST", path="/api/public/reservations/bulk")
        with pytest.raises(TransportError):
            await conn.send(operation)
        ctx.map("booking", "B1", next(iter(sim.cloud.reservations)))
        await conn.send(operation)

    run(_with(conn, scenario))
    assert len(sim.cloud.reservations) == 1


def test_engine_ambiguous_provider_name_needs_attention_once(clinic):
    """Contract "Behaviour": an ambiguous name leaves the field unresolved on the local
    booking and raises a needs-attention note, never a guess."""
    branch, made = clinic
    cloud = branch.running.cloud
    name = cloud.providers[made["providers"][1]]["name"]
    cloud.add_provider(name)  # a second provider with the same name
    theirs = {
        r["id"]
        for r in cloud.reservations.values()
        if r["branchId"] == made["branches"][0] and name in r["providers"]
    } & _in_horizon(cloud, made["branches"][0])
    assert theirs

    async def scenario():
        await branch.engine.sync_once(deadline=20)
        cases = branch.engine.outbox.attention()
        assert {c["bookingId"] for c in cases} == {branch.local(i) for i in theirs}
        assert {c["code"] for c in cases} == {"REKAZ-RESOURCE-AMBIGUOUS"}
        assert all(branch.store.booking(branch.local(i))["resourceId"] is None for i in theirs)
        await branch.engine.pull(horizon=True)
        assert len(branch.engine.outbox.attention()) == len(cases)

    branch.run(scenario)


def test_engine_a_provider_busy_in_the_other_branch_is_refused_into_needs_attention(clinic):
    """The generated clinic's general-consultation providers work in both branches; the
    branch reads its own branch only (contract "Desk operations": ``branchId``), so the
    desk offers a time the provider has in the other branch. Rekaz refuses the create
    (``BusinessLogicError``, contract "Transport": not retried): nothing is left pending,
    the desk's booking stays as rejected, and one needs-attention case carries Rekaz's
    reason (a known gap, docs/clouds/rekaz.md)."""
    branch, made = clinic
    cloud = branch.running.cloud
    main, north = made["branches"]
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Riyadh")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    general = {p["id"] for p in cloud.products[made["products"][0]]["pricing"]}
    theirs = next(
        r
        for r in sorted(cloud.reservations.values(), key=lambda r: r["_start"])
        if r["branchId"] == north
        and r["_providerIds"]
        and r["status"] != "Cancelled"
        and r["_priceId"] in general
        and r["_start"] > tomorrow
    )
    provider, start = theirs["_providerIds"][0], theirs["_start"].astimezone(zone)

    async def scenario():
        status = await branch.engine.sync_once(deadline=20)
        assert status["needsAttention"] == 0, status
        before = set(cloud.reservations)
        booking = branch.service.create(
            {
                "type": branch.local(theirs["_priceId"], "type"),
                "date": start.date().isoformat(),
                "time": start.hour * 100 + start.minute,
                "resourceId": branch.local(provider, "resource"),
                "customerIdentifier": {"id": branch.store.customers(limit=1)[0]["id"]},
            }
        )
        status = await branch.engine.sync_once(deadline=20)
        assert status["pending"] == 0 and status["needsAttention"] == 1, status
        cases = branch.engine.outbox.attention()
        assert [(c["bookingId"], c["action"], c["code"]) for c in cases] == [
            (booking["id"], "create", "BusinessLogicError")
        ]
        assert cloud.providers[provider]["name"] in cases[0]["message"]  # Rekaz's reason, as it came
        assert set(cloud.reservations) == before  # nothing booked in Rekaz
        local = branch.store.booking(booking["id"])  # kept, and shown as refused by the cloud
        assert local is not None and local["status"] == "REJECTED"

    branch.run(scenario)


def test_a_kiosk_check_in_shows_on_a_desk_as_arrived_within_a_minute(tmp_path):
    """Contract "Behaviour": attendances made in Rekaz (a kiosk, the Rekaz app) move the
    booking to arrived, then done, on every desk within a minute. A real branch server
    process at the engine's own hot period (5 s), read over its HTTP API as a desk reads
    it; the desk sends nothing back to Rekaz for them."""
    from tests.clouds.conformance.branch import Branch
    from tests.clouds.conformance.harness import RekazHarness

    with RekazHarness().started() as harness:
        branch = Branch(harness, tmp_path / "branch", hot_every=5.0).start()
        try:
            branch.settle()
            cloud_id = harness.started_booking(harness.desk_pick(2))  # due now, confirmed in the dashboard
            branch.call("POST", "/sync/now")
            local_id = branch.wait_for(
                lambda: (branch.by_cloud_id().get(cloud_id) or [{}])[0].get("id"),
                what="the booking on the desk",
            )
            assert not branch.booking(local_id)["visitStatus"]
            for kind, shown in (("CheckIn", "CHECKED_IN"), ("CheckOut", "COMPLETED")):
                began = time.monotonic()
                harness.cloud.kiosk_attendance(cloud_id, kind)
                branch.wait_for(
                    lambda shown=shown: branch.booking(local_id)["visitStatus"] == shown,
                    timeout=60,
                    what=f"the desk to show {shown}",
                )
                assert time.monotonic() - began < 60
            assert [a["kind"] for a in harness.cloud.attendances if a["reservationId"] == cloud_id] == [
                "CheckIn",
                "CheckOut",
            ]  # the kiosk's two, none sent back by the desk
            assert branch.booking(local_id)["status"] == "CONFIRMED"
        finally:
            branch.stop()


def test_the_choices_route_lists_the_branches_the_key_sees(tmp_path, monkeypatch):
    """``POST /sync/choices/branchId`` (the settings dialog's branch picker; contract
    "Transport": one desk branch = one Rekaz branch, API reference "Branches API"): the branches
    with both names, never the key; a wrong key is ``CLOUD-AUTH-FAILED``; a field Rekaz does
    not list is a 400."""
    import keyring
    import keyring.backends.fail

    from app.composition import BranchServer
    from tests.clinic import Authed

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    cloud = RekazCloud()
    made = generate_clinic(cloud)
    with start_cloud(cloud) as running:
        server = BranchServer(tmp_path / "branch", demo=False).start()
        try:
            http = Authed(server)
            body = {"cloud": "rekaz", "baseUrl": running.url, "account": cloud.tenant, "secret": cloud.key}
            answer = http.post(server.url + "/sync/choices/branchId", json=body, timeout=20)
            assert answer.status_code == 200, answer.text
            assert [(c["value"], c["labels"]) for c in answer.json()["result"]] == [
                (made["branches"][0], {"en": "Main Branch", "ar": "الفرع الرئيسي"}),
                (made["branches"][1], {"en": "Al Malqa Branch", "ar": "فرع الملقا"}),
            ]
            wrong = http.post(
                server.url + "/sync/choices/branchId", json={**body, "secret": "nope"}, timeout=20
            )
            assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "CLOUD-AUTH-FAILED"
            other = http.post(server.url + "/sync/choices/account", json=body, timeout=20)
            assert other.status_code == 400 and other.json()["error"]["code"] == "VALIDATION", other.text
            assert cloud.key not in answer.text
        finally:
            server.stop()


# ---- money coming down ----------------------------------------------------------------------
def test_the_reservations_amounts_map_to_cloud_money():
    money = mapping.money(
        {"invoiceTotalAmount": 400, "reservationTotalAmount": 200, "reservationRemainingAmount": 50}
    )
    assert (money.price, money.paid, money.fully_paid) == ("200.00", "150.00", False)
    assert mapping.money({"reservationTotalAmount": 200, "reservationRemainingAmount": 0}).fully_paid is True
    assert mapping.money({"reservationTotalAmount": 0, "reservationRemainingAmount": 0}).fully_paid is None
    assert mapping.money({"invoiceTotalAmount": 400}) is None
    assert mapping.payment_link("https://pay.rekaz.io/i/1") == "https://pay.rekaz.io/i/1"
    assert mapping.payment_link("javascript:alert(1)") is None and mapping.payment_link(None) is None


def test_engine_invoice_amounts_come_down_and_a_payment_in_rekaz_shows_once(clinic):
    """A reservation's total and remaining amount (contract "Objects") are its price and paid
    on the desk; a payment made in Rekaz (the simulation's ``/_sim`` surface over HTTP) shows
    as paid in the cloud, once, however often the branch pulls."""
    import httpx

    from app.server.payments import Payments

    branch, made = clinic
    cloud = branch.running.cloud
    payments = Payments(branch.service)

    async def scenario():
        assert (await branch.engine.sync_once(deadline=20))["lastError"] is None
        with cloud.lock:
            priced = next(
                r["id"]
                for r in cloud.reservations.values()
                if r["reservationTotalAmount"] > 10
                and r["reservationRemainingAmount"] == r["reservationTotalAmount"]
                and r["status"] != "Cancelled"
                and branch.local(r["id"])
            )
            total = round(cloud.reservations[priced]["reservationTotalAmount"] * 100)
        local = branch.local(priced)
        figures = payments.figures(local, parts=True)
        assert (figures["price"], figures["priceSource"], figures["paid"]) == (total, "cloud", 0)
        async with httpx.AsyncClient() as http:
            reply = await http.post(
                f"{branch.running.root}/_sim/reservations/{priced}/pay",
                headers=branch.running.admin,
                json={"amount": 10},
            )
        assert reply.status_code == 200, reply.text
        for _ in range(2):
            await branch.engine.sync_once(deadline=20)
            figures = payments.figures(local, parts=True)
            assert (figures["paidCloud"], figures["paidLocal"], figures["balance"], figures["cloud"]) == (
                1000,
                0,
                total - 1000,
                "rekaz",
            )

    branch.run(scenario)
