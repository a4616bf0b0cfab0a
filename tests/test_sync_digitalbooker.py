"""The DigitalBooker connector (``app/sync/digitalbooker``).

Part one: the mapping and the plan on payloads in the contract's shapes
(``docs/clouds/digitalbooker.md`` "The inferred names", API reference
the DigitalBooker API reference "The booking object" and the others). Part two (below): the
connector against the simulated DigitalBooker cloud over real HTTP.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.domain import timerules
from app.sync import registry
from app.sync.digitalbooker import mapping
from app.sync.digitalbooker.connector import CAPABILITIES, DigitalBookerConnector
from app.sync.digitalbooker.names import NAMES

ZONE = "Asia/Riyadh"
KINDS = {"11": "worker", "12": "worker", "21": "resource"}


def booking(**changes) -> dict:
    """A booking object as the contract names it (API reference "The booking object")."""
    obj = {
        "object": "booking",
        "id": 501,
        "type": "service",
        "title": "General",
        "location_id": 1,
        "date": "2026-12-08",
        "start_time": "09:30",
        "end_time": "10:00",
        "service_id": 7,
        "resources": [11, 21],
        "price": 230.0,
        "tax": 30.0,
        "paid": False,
        "user": {"object": "user", "id": 900, "name": "Huda Saleh"},
        "notes": "first visit",
        "confirmed": True,
        "interface": 1,
        "created": "2026-12-01T08:15:00",
    }
    obj.update(changes)
    return obj


# ---- times: the one place -------------------------------------------------------------
def test_local_date_and_time_become_utc_with_the_location_zone():
    assert mapping.local_to_utc("2026-12-08", "09:30", ZONE) == datetime(2026, 12, 8, 6, 30, tzinfo=UTC)
    assert mapping.local_to_utc("2026-12-08", "09:30:15", ZONE).second == 15  # HH:MM:SS accepted
    assert mapping.stamp_to_utc("2026-12-01 08:15:00", ZONE) == datetime(2026, 12, 1, 5, 15, tzinfo=UTC)
    assert mapping.stamp_to_utc("2026-12-01T08:15:00+00:00", ZONE) == datetime(2026, 12, 1, 8, 15, tzinfo=UTC)
    assert mapping.utc_to_local(datetime(2026, 12, 8, 21, 30, tzinfo=UTC), ZONE) == ("2026-12-09", "00:30")
    assert mapping.utc_to_stamp(datetime(2026, 12, 8, 6, 30, tzinfo=UTC), ZONE) == "2026-12-08T09:30:00"
    with pytest.raises(mapping.MappingError):
        mapping.local_to_utc("2026-12-08", "25:00", ZONE)


def test_the_mark_is_the_clouds_newest_created_or_modified_in_its_own_wall_time():
    """Contract "Behaviour" → Pull: the mark comes from the cloud's values, never the desk's
    clock; ``modified`` is present only on modified bookings (API reference)."""
    assert mapping.booking_mark(booking()) == "2026-12-01T08:15:00"
    assert mapping.booking_mark(booking(modified="2026-12-03 10:00:00")) == "2026-12-03T10:00:00"
    assert mapping.shift_stamp("2026-12-03T10:00:00", -5) == "2026-12-03T09:55:00"


# ---- bookings -------------------------------------------------------------------------
def test_a_confirmed_service_booking_maps_to_its_worker_type_and_times():
    row = mapping.booking_from_cloud(booking(), ZONE, KINDS)
    assert row == {
        "status": "CONFIRMED",
        "startDateTime": "2026-12-08T06:30:00Z",
        "endDateTime": "2026-12-08T07:00:00Z",
        "duration": 30,
        "typeId": "7",
        "resourceId": "11",
        "customerId": "900",
        "note": "first visit",
        "createdAt": "2026-12-01T05:15:00Z",
    }


def test_the_confirmed_flag_is_the_only_status_and_no_worker_means_the_queue():
    assert mapping.booking_from_cloud(booking(confirmed=False), ZONE, KINDS)["status"] == "PENDING_APPROVAL"
    queued = mapping.booking_from_cloud(booking(resources=[21]), ZONE, KINDS)
    assert queued["status"] == "PENDING_ASSIGNMENT" and queued["resourceId"] == "21"


def test_resource_and_class_bookings_get_the_read_only_types():
    room = mapping.booking_from_cloud(booking(type="resource", service_id=None, resources=[21]), ZONE, KINDS)
    assert (room["typeId"], room["resourceId"], room["status"]) == (mapping.ROOM_TYPE, "21", "CONFIRMED")
    group = mapping.booking_from_cloud(
        booking(type="class", service_id=None, class_id=3, resources=[12]), ZONE, KINDS
    )
    assert (group["typeId"], group["resourceId"]) == (mapping.CLASS_TYPE, "12")
    connector = DigitalBookerConnector.__new__(DigitalBookerConnector)
    assert connector.plan("reschedule", {**room, "id": "b"}, {**room, "id": "b"}) == []
    assert connector.plan("cancel", {**group, "id": "b"}, {**group, "id": "b", "status": "CANCELED"}) == []


def test_a_booking_that_cannot_be_read_is_refused_not_guessed():
    for bad in (
        booking(start_time="late"),
        booking(date=None),
        booking(type="course"),
        booking(service_id=None),
        booking(id=None),
    ):
        with pytest.raises(mapping.MappingError):
            mapping.booking_from_cloud(bad, ZONE, KINDS)


def test_a_booking_past_midnight_ends_the_next_day():
    row = mapping.booking_from_cloud(booking(start_time="23:30", end_time="00:15"), ZONE, KINDS)
    assert row["duration"] == 45 and row["endDateTime"] == "2026-12-08T21:15:00Z"


def test_the_natural_key_of_a_created_booking_matches_its_body():
    body = mapping.service_booking_body(
        location_id="1",
        service_id="7",
        start=datetime(2026, 12, 8, 6, 30, tzinfo=UTC),
        zone=ZONE,
        resources=["11"],
        user="900",
    )
    assert body == {
        "location_id": 1,
        "service_id": 7,
        "date": "2026-12-08",
        "start_time": "09:30",
        "resources": [11],
        "user_id": 900,
    }
    assert mapping.body_key(body) == mapping.booking_key(booking(resources=[11], start_time="09:30:00"))
    assert mapping.body_key(body) != mapping.booking_key(booking(resources=[12]))


# ---- users and payments ---------------------------------------------------------------
def test_users_are_normal_with_an_email_or_phone_and_temporary_without():
    """Contract "Behaviour" → Users: the user list omits temporary users, so the desk makes
    normal users whenever it has an email or phone."""
    assert mapping.user_body({"firstName": "Huda", "lastName": "Saleh", "phone": "+966501234567"}) == {
        "first_name": "Huda",
        "last_name": "Saleh",
        "phone": "+966501234567",
        "type": "normal",
    }
    assert mapping.user_body({"firstName": "Walk", "lastName": ""})["type"] == "temporary"
    row = mapping.customer_from_cloud(
        {"id": 900, "name": "Huda bint Saleh", "phone": "0501234567", "email": "h@example.com"}
    )
    assert (row["firstName"], row["lastName"], row["phone"]) == ("Huda bint", "Saleh", "+966501234567")
    assert mapping.same_person({"phone": "+966 50 123 4567"}, {"phone": "+966501234567"})
    assert mapping.same_person({"email": "H@Example.com"}, {"email": "h@example.com"})


def test_a_cash_payment_goes_with_its_amount_including_tax_and_the_tax_percentage():
    assert mapping.payment_body(23000, 2, 1500) == {"type": "cash", "amount": 230.0, "tax": 15.0}
    with pytest.raises(mapping.MappingError):
        mapping.payment_body(100_000_00, 2, 1500)  # API reference: amount range 0 - 99999
    assert mapping.payments_from_cloud(
        [{"object": "payment", "id": 4, "type": "cash", "amount": 230, "tax": 15}, "junk"]
    ) == [{"id": "4", "type": "cash", "amount": 230.0, "tax": 15.0}]


# ---- reference data -------------------------------------------------------------------
def test_dated_work_hours_become_dated_time_rules_and_a_day_without_hours_is_off():
    hours = [
        {
            "object": "work_hours",
            "date": "2026-12-08",
            "location_id": 1,
            "hours": [
                {"start_time": "09:00", "end_time": "13:00"},
                {"start_time": "16:00", "end_time": "00:00"},
            ],
        },
        {
            "object": "work_hours",
            "date": "2026-12-08",
            "location_id": 2,
            "hours": [{"start_time": "06:00", "end_time": "08:00"}],
        },
    ]
    rules = mapping.time_rules(hours, "1", date(2026, 12, 7), date(2027, 1, 6))
    assert timerules.periods_on(rules, date(2026, 12, 8)) == [(900, 1300), (1600, 2400)]
    assert timerules.periods_on(rules, date(2026, 12, 9)) == []
    with pytest.raises(mapping.MappingError):
        mapping.time_rules([{"date": "2026-12-08", "hours": "9-5"}], "1", date(2026, 12, 7), date(2027, 1, 6))


def test_public_durations_give_a_services_minutes():
    categories = [
        {
            "object": "service_category",
            "id": 1,
            "services": [
                {"object": "service", "id": 7, "durations": ["00:45", "01:00"]},
                {"object": "service", "id": 8},
            ],
        }
    ]
    assert mapping.public_minutes(categories) == {"7": 45}
    assert mapping.booking_type({"id": 8, "name": "Cleaning"})["minutes"] == mapping.DEFAULT_MINUTES


# ---- the connector's declaration ------------------------------------------------------
def test_the_connector_is_registered_with_its_fields_and_capabilities():
    info = registry.get("digitalbooker")
    assert [f.key for f in info.fields] == ["baseUrl", "account", "secret", "lang", "locationId"]
    assert CAPABILITIES.pull_mode == "changed-since" and CAPABILITIES.deleted_feed and CAPABILITIES.payments
    assert CAPABILITIES.reschedule_new_id and not CAPABILITIES.walk_ins and not CAPABILITIES.end_early


def test_every_path_is_in_the_one_table():
    """Contract: every path and name is inferred and kept in one table."""
    import inspect

    from app.sync.digitalbooker import client, connector

    for module in (client, connector, mapping):
        source = inspect.getsource(module)
        assert '"/admin/' not in source and '"/public/' not in source, module.__name__  # no path literal
    assert all(isinstance(v, tuple) for k, v in NAMES.items() if k.startswith("route."))


def test_the_plan_of_each_desk_action():
    connector = DigitalBookerConnector.__new__(DigitalBookerConnector)
    timed = {"id": "b", "status": "CONFIRMED", "typeId": "7", "startDateTime": "2026-12-08T06:30:00Z"}
    assert [(p.action, p.creates) for p in connector.plan("create", None, timed)] == [("create", True)]
    walk_in = {"id": "w", "status": "PENDING_ASSIGNMENT", "typeId": "7", "startDateTime": None}
    assert connector.plan("create", None, walk_in) == []  # stays local until accepted
    assert [p.action for p in connector.plan("reschedule", timed, timed)] == ["reschedule"]
    assert [p.action for p in connector.plan("accept", walk_in, timed)] == ["reschedule"]
    assert [p.action for p in connector.plan("cancel", timed, {**timed, "status": "CANCELED"})] == ["cancel"]
    for local in ("check_in", "start", "end", "no_show"):
        assert connector.plan(local, timed, timed) == []
    assert [
        p.action
        for p in connector.plan("payment", timed, {**timed, "payment": {"method": "cash", "amount": 100}})
    ] == ["payment"]
    assert connector.plan("payment", timed, {**timed, "payment": {"method": "card", "amount": 100}}) == []
    assert connector.plan("payment", timed, {**timed, "payment": {"method": "cash", "amount": -100}}) == []


# =========================================================================================
# Part two: the connector against the simulated DigitalBooker cloud over real HTTP, through
# a real branch store, the booking service and the sync engine.
# =========================================================================================
import asyncio  # noqa: E402
from datetime import time, timedelta  # noqa: E402

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from app.domain.model import Status  # noqa: E402
from app.sync.connector import BareContext, CloudConfig, FailureKind  # noqa: E402
from tests.clouds.digitalbooker import DigitalBookerCloud, generate_clinic, start_cloud  # noqa: E402
from tests.clouds.digitalbooker.model import Span  # noqa: E402

CREATE = ("POST", "/api/en/admin/v1/bookings/service")
DELETE = ("DELETE", "/api/en/admin/v1/bookings/")


class Sim:
    """A started simulated cloud with its generated clinic (fewer bookings, so that free
    times are easy to find) and the ids the tests use."""

    def __init__(self, running, clinic):
        self.running, self.cloud, self.clinic = running, running.cloud, clinic
        self.location = clinic["locations"][0]
        self.sara, self.omar, self.lina = clinic["workers"][self.location]
        self.consult = clinic["services"][self.location][0]
        self.users = clinic["users"]

    def config(self, **extra) -> CloudConfig:
        return CloudConfig(
            self.running.url,
            self.cloud.key_id,
            self.cloud.password,
            cloud="digitalbooker",
            extra={"locationId": str(self.location), **extra},
        )

    def workday(self, skip: int = 1):
        day = self.cloud.today() + timedelta(days=skip)
        while day.weekday() not in (6, 0, 1, 2, 3) or day == self.cloud.today() + timedelta(days=3):
            day += timedelta(days=1)
        return day

    def free(self, worker: int, day, minutes: int = 30, after: int = 9 * 60) -> time:
        """The first start from ``after`` (minutes of the day) where ``worker`` works and is free."""
        for start in range(after, 20 * 60, 15):
            begin = datetime.combine(day, time(start // 60, start % 60))
            visit = {
                "id": None,
                "date": day,
                "start": begin.time(),
                "start_offset": 0,
                "end_offset": 0,
                "end": (begin + timedelta(minutes=minutes)).time(),
                "resources": [worker],
            }
            with self.cloud.lock:
                if (
                    self.cloud.works(worker, self.location, Span(begin, begin + timedelta(minutes=minutes)))
                    and self.cloud.clash(visit) is None
                ):
                    return begin.time()
        raise AssertionError("no free time")

    def live_for(self, user: int, service: int) -> list[dict]:
        with self.cloud.lock:
            return [
                dict(b)
                for b in self.cloud.bookings.values()
                if b["user_id"] == user and b["service_id"] == service
            ]


def new_sim() -> tuple:
    cloud = DigitalBookerCloud(fault_seed=3)
    clinic = generate_clinic(cloud, seed=3, bookings=30)
    running = start_cloud(cloud)
    return running, Sim(running, clinic)


@pytest.fixture
def sim():
    running, made = new_sim()
    with running:
        yield made


class Branch:
    """A branch store, its booking service and the sync engine with the DigitalBooker
    connector (the engine's own context: real cloud_ids, outbox and steps)."""

    def __init__(self, sim: Sim, path):
        from app.server.payments import Payments
        from app.server.service import BookingService
        from app.store import open_store
        from app.sync.engine import SyncEngine

        self.sim = sim
        self.store = open_store(path / "branch.sqlite3")
        self.service = BookingService(self.store)
        self.payments = Payments(self.service)
        self.engine = SyncEngine(self.service, sim.config()).attach()

    def sync(self, deadline: float = 20):
        async def once():
            try:
                return await self.engine.sync_once(deadline=deadline)
            finally:
                await self.engine.close()

        return asyncio.run(once())

    def local(self, cloud_id) -> str | None:
        return self.store.local_id("digitalbooker", str(cloud_id))

    def cloud_id(self, local_id) -> str | None:
        return self.store.cloud_ids(local_id).get("digitalbooker")

    def local_of(self, entity: str, cloud_id) -> str:
        return self.store.local_id("digitalbooker", str(cloud_id), entity)

    def book(self, worker: int, day, at: time, user: int) -> dict:
        return self.service.create(
            {
                "type": self.local_of("type", self.sim.consult),
                "date": day.isoformat(),
                "time": at.hour * 100 + at.minute,
                "resourceId": self.local_of("resource", worker),
                "customerIdentifier": {"id": self.local_of("customer", user)},
            }
        )

    def booked_in_cloud(self, worker: int, user: int, minutes: int = 30) -> tuple[dict, object, time]:
        """After a first sync, a desk booking with ``worker`` for ``user`` at the first free time
        (``minutes`` long) of the next working day, synced: (booking, day, start)."""
        self.sync()
        day = self.sim.workday(1)
        at = self.sim.free(worker, day, minutes=minutes)
        booking = self.book(worker, day, at, user)
        self.sync()
        return booking, day, at

    def move(self, local_id: str, day, at: time, **extra) -> dict:
        return self.service.reschedule(
            local_id, {"date": day.isoformat(), "time": at.hour * 100 + at.minute, **extra}
        )


@pytest.fixture
def branch(sim, tmp_path):
    made = Branch(sim, tmp_path)
    yield made
    made.store.close()


def horizon_ids(sim: Sim) -> set[str]:
    today = sim.cloud.today()
    with sim.cloud.lock:
        return {
            str(i)
            for i, b in sim.cloud.bookings.items()
            if b["location_id"] == sim.location
            and today - timedelta(days=1) <= b["date"] <= today + timedelta(days=30)
        }


def test_a_wrong_key_password_is_an_auth_failure(sim):
    """API reference "Authentication": HTTP Basic with the key's id and password; contract: 401."""
    connector = registry.get("digitalbooker").factory(sim.config(), BareContext("Asia/Riyadh"))
    connector.config.secret = "wrong"

    async def check():
        try:
            await connector.check()
        finally:
            await connector.close()

    with pytest.raises(Exception) as caught:
        asyncio.run(check())
    assert connector.classify(caught.value).kind == FailureKind.AUTH


def test_the_first_pull_mirrors_the_location_with_its_people_hours_and_read_only_bookings(sim, branch):
    status = branch.sync()
    assert status["lastError"] is None and status["pending"] == 0, status
    mapped = {
        r[0]
        for r in branch.store.db.execute(
            "select cloudId from cloud_ids where cloud = 'digitalbooker' and entity = 'booking'"
        )
    }
    assert mapped == horizon_ids(sim)  # every booking of this location, once; none of the other location's
    providers = {r["id"]: r for r in branch.store.resources() if r.get("category") == "provider"}
    assert len(providers) == 3 and all(r["timeRules"]["rules"] for r in providers.values())
    rooms = [r for r in branch.store.resources() if r.get("category") == "room"]
    assert rooms and all(r["types"] == ["resource"] for r in rooms)  # no service is booked on a room alone
    minutes = {t["name"]: t["minutes"] for t in branch.store.db["types"].rows}
    assert minutes["Follow-up"] == 15 and minutes["Dental cleaning"] == 45  # the Public API's durations
    kinds = {b["typeId"] for b in (branch.store.booking(branch.local(c)) for c in mapped)}
    assert {"class", "resource"} <= kinds  # class and room bookings show (read-only types)
    temporary = sim.clinic["temporary_users"][0]
    with sim.cloud.lock:
        theirs = [str(i) for i, b in sim.cloud.bookings.items() if b["user_id"] == temporary]
    customer = branch.store.customer(branch.store.booking(branch.local(theirs[0]))["customerId"])
    assert (customer["firstName"], customer["lastName"]) == (
        "Walk-in Guest",
        "1",
    )  # read by get-user (not listed)


def test_changes_are_found_by_the_clouds_own_mark_when_its_clock_is_hours_behind(tmp_path):
    """Contract "Behaviour" → Pull: the mark is the cloud's newest created/modified, never the
    desk's clock (a mark from the desk's clock would be three hours ahead of every stamp of a
    cloud whose clock is three hours behind, and find nothing)."""
    cloud = DigitalBookerCloud(fault_seed=3)
    cloud.clock.shift(timedelta(hours=-3))
    clinic = generate_clinic(cloud, seed=3, bookings=30)
    with start_cloud(cloud) as running:
        sim = Sim(running, clinic)
        branch = Branch(sim, tmp_path)
        try:
            branch.sync()
            day = sim.workday(2)
            at = sim.free(sim.sara, day)
            made = sim.cloud.online_booking(
                sim.location, sim.consult, day, at, user_id=sim.users[0], worker_id=sim.sara, confirmed=True
            )
            branch.sync()
            assert branch.local(made["id"])  # a new booking, by the mark
            later = sim.free(sim.sara, day, after=at.hour * 60 + at.minute + 60)
            sim.cloud.clock.shift(timedelta(seconds=1))
            sim.cloud.calendar_move(made["id"], day, later, [sim.sara])
            branch.sync()
            local = branch.store.booking(branch.local(made["id"]))
            assert local["startDateTime"] == mapping.local_to_utc(
                day.isoformat(), later.strftime("%H:%M"), ZONE
            ).isoformat().replace("+00:00", "Z")
        finally:
            branch.store.close()


def test_a_booking_deleted_in_the_cloud_shows_as_cancelled(sim, branch):
    branch.sync()
    gone = next(c for c in sorted(horizon_ids(sim)) if sim.cloud.bookings[int(c)]["type"] == "service")
    sim.cloud.calendar_delete(int(gone))
    branch.sync()
    local = branch.store.booking(branch.local(gone))
    assert local is not None and local["status"] == Status.CANCELED
    branch.sync()  # the deleted list is read again with its overlap: nothing changes twice
    assert [h["action"] for h in branch.store.history(local["id"])].count("sync") == 1


def test_a_move_made_elsewhere_as_create_then_delete_is_followed(sim, branch):
    """No edit in the cloud: another desk moves a booking by creating a new one and deleting
    the old; the local booking follows the new id (module docstring, "Pull" 3)."""
    day = sim.workday(2)
    at = sim.free(sim.lina, day)
    old = sim.cloud.online_booking(
        sim.location, sim.consult, day, at, user_id=sim.users[3], worker_id=sim.lina, confirmed=True
    )
    branch.sync()
    local_id = branch.local(old["id"])
    later = sim.free(sim.lina, day, after=at.hour * 60 + at.minute + 60)
    new = sim.cloud.create_service_booking(
        {
            "location_id": sim.location,
            "service_id": sim.consult,
            "date": day.isoformat(),
            "start_time": later.strftime("%H:%M"),
            "resources": [sim.lina],
            "user_id": sim.users[3],
        }
    )
    sim.cloud.delete_booking(old["id"])
    branch.sync()
    assert branch.local(new["id"]) == local_id and branch.local(old["id"]) is None
    assert branch.store.booking(local_id)["status"] == Status.PENDING_APPROVAL  # the new one is not confirmed


def test_a_lost_create_reply_is_found_by_the_listing_and_never_doubles(sim, branch):
    branch.sync()
    day = sim.workday(1)
    at = sim.free(sim.sara, day)
    sim.cloud.faults.lose_reply(method=CREATE[0], path=CREATE[1])
    booking = branch.book(sim.sara, day, at, sim.users[4])
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    made = [b for b in sim.live_for(sim.users[4], sim.consult) if b["date"] == day]
    assert len(made) == 1 and made[0]["confirmed"] and made[0]["interface"] == 1
    assert branch.cloud_id(booking["id"]) == str(made[0]["id"])
    assert not sim.cloud.faults.rules()  # the reply was lost indeed


def test_a_new_customer_becomes_a_normal_user_once_even_after_a_lost_reply(sim, branch):
    branch.sync()
    customer = branch.service.store.upsert(
        "customers",
        [
            {
                "id": "C-new",
                "firstName": "Noura",
                "lastName": "Saad",
                "phone": "+966555000111",
                "customerNumber": 9001,
            }
        ],
    )
    del customer
    sim.cloud.faults.lose_reply(method="POST", path="/api/en/admin/v1/users")
    day = sim.workday(1)
    at = sim.free(sim.lina, day)
    booking = branch.service.create(
        {
            "type": branch.local_of("type", sim.consult),
            "date": day.isoformat(),
            "time": at.hour * 100 + at.minute,
            "resourceId": branch.local_of("resource", sim.lina),
            "customerIdentifier": {"id": "C-new"},
        }
    )
    branch.sync()
    users = [u for u in sim.cloud.users.values() if u["phone"] and u["phone"].endswith("555000111")]
    assert len(users) == 1 and users[0]["type"] == "normal"
    assert sim.cloud.bookings[int(branch.cloud_id(booking["id"]))]["user_id"] == users[0]["id"]


def test_a_cash_payment_taken_at_the_desk_is_in_the_cloud(sim, branch):
    """Issue "Done when": a cash payment taken at the desk is in the cloud (amount including
    tax, tax a percentage: API reference "Add a payment to a booking"); a card payment stays local."""
    branch.sync()
    day = sim.workday(1)
    booking = branch.book(sim.sara, day, sim.free(sim.sara, day), sim.users[5])
    branch.sync()
    branch.payments.set_price(booking["id"], 23000, "price list", {"user": "manager"})
    sim.cloud.faults.lose_reply(method="POST", path="/api/en/admin/v1/bookings/")
    branch.payments.take({"bookingId": booking["id"], "amount": 20000, "method": "cash"}, {"user": "desk"})
    branch.payments.take({"bookingId": booking["id"], "amount": 3000, "method": "card"}, {"user": "desk"})
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    record = sim.cloud.bookings[int(branch.cloud_id(booking["id"]))]
    assert [(p["type"], p["amount"], p["tax"]) for p in record["payments"]] == [("cash", 200.0, 15.0)]


def test_a_payment_is_queued_only_for_a_cloud_that_takes_payments(tmp_path):
    """The desk's payment reaches the sync listeners in its own transaction; Ehjzny (payments
    False) plans nothing for it."""
    from app.server.payments import Payments
    from app.server.service import BookingService
    from app.store import open_store
    from app.sync.engine import SyncEngine

    store = open_store(tmp_path / "b.sqlite3")
    try:
        service = BookingService(store)
        engine = SyncEngine(service, CloudConfig("http://127.0.0.1:9", "app", "k", cloud="ehjzny")).attach()
        store.upsert("types", [{"id": "t", "name": "T", "minutes": 20, "price": "100.00", "on": True}])
        store.upsert(
            "resources",
            [
                {
                    "id": "r",
                    "name": "R",
                    "types": ["t"],
                    "on": True,
                    "activated": True,
                    "timeRules": {"rules": [{"days": list(timerules.DAY_NAMES), "from": 0, "to": 2400}]},
                }
            ],
        )
        store.upsert("customers", [{"id": "c", "firstName": "A", "lastName": "B", "customerNumber": 1}])
        day = date.today() + timedelta(days=2)
        made = service.create(
            {
                "type": "t",
                "date": day.isoformat(),
                "time": 1000,
                "resourceId": "r",
                "customerIdentifier": {"id": "c"},
            }
        )
        before = engine.outbox.pending_count()
        Payments(service).take({"bookingId": made["id"], "amount": 5000, "method": "cash"}, {"user": "desk"})
        assert engine.outbox.pending_count() == before
        dbk = SyncEngine(service, CloudConfig("http://127.0.0.1:9", "k", "p", cloud="digitalbooker")).attach()
        Payments(service).take({"bookingId": made["id"], "amount": 5000, "method": "cash"}, {"user": "desk"})
        assert [o["action"] for o in dbk.outbox.pending()][-1] == "payment"
    finally:
        store.close()


def test_a_small_shift_on_the_same_worker_deletes_first(sim, branch):
    """Contract "Behaviour": a new booking refused only because it overlaps the old one (a
    small shift on the same worker) — the old one is deleted first."""
    booking, day, at = branch.booked_in_cloud(sim.sara, sim.users[6], minutes=60)
    old = branch.cloud_id(booking["id"])
    shifted = (datetime.combine(day, at) + timedelta(minutes=15)).time()
    branch.move(booking["id"], day, shifted)
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    live = [b for b in sim.live_for(sim.users[6], sim.consult) if b["date"] == day]
    assert len(live) == 1 and live[0]["start"] == shifted and str(live[0]["id"]) != old
    assert branch.cloud_id(booking["id"]) == str(live[0]["id"])


def test_a_refused_move_after_the_delete_books_the_old_time_again(sim, branch):
    """Contract "Behaviour": if the create fails after the delete-first, the old booking is
    re-created (another new id) and the case goes to needs-attention."""
    booking, day, at = branch.booked_in_cloud(sim.sara, sim.users[7], minutes=60)
    blocker_at = (datetime.combine(day, at) + timedelta(minutes=30)).time()
    sim.cloud.online_booking(
        sim.location, sim.consult, day, blocker_at, user_id=sim.users[8], worker_id=sim.sara, confirmed=True
    )  # the next half hour, booked online meanwhile
    shifted = (datetime.combine(day, at) + timedelta(minutes=15)).time()  # overlaps both
    branch.move(booking["id"], day, shifted, overbookReason="squeezed in")
    status = branch.sync()
    assert status["needsAttention"] == 1, status
    case = branch.engine.outbox.attention()[0]
    assert case["code"] == "DIGITALBOOKER-MOVE-ROLLED-BACK" and case["bookingId"] == booking["id"]
    live = [b for b in sim.live_for(sim.users[7], sim.consult) if b["date"] == day]
    assert len(live) == 1 and live[0]["start"] == at  # put back at its old time
    assert branch.cloud_id(booking["id"]) == str(live[0]["id"])
    branch.sync()
    assert branch.store.booking(booking["id"])["startDateTime"] == mapping.local_to_utc(
        day.isoformat(), at.strftime("%H:%M"), ZONE
    ).isoformat().replace("+00:00", "Z")


STEP_FAULTS = st.sampled_from(("none", "lose_reply", "drop", "fail"))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@example(create="lose_reply", delete="none", confirm="none", shift=120)
@example(create="none", delete="lose_reply", confirm="none", shift=120)
@example(create="lose_reply", delete="lose_reply", confirm="lose_reply", shift=15)
@given(create=STEP_FAULTS, delete=STEP_FAULTS, confirm=STEP_FAULTS, shift=st.sampled_from((15, 120)))
def test_a_reschedule_with_either_reply_dropped_ends_with_one_booking(
    tmp_path_factory, create, delete, confirm, shift
):
    """Issue "Done when": whichever step of a reschedule loses its reply (or its request, or
    meets a 5xx), the cloud ends with exactly one booking for that visit, at the new time,
    mapped to the desk's booking (contract "Behaviour": the new id is committed as soon as
    it is known, so a retry never creates a third booking). ``shift`` 15 minutes overlaps
    the old time (the delete-first path); 120 does not."""
    running, sim = new_sim()
    with running:
        branch = Branch(sim, tmp_path_factory.mktemp("branch"))
        try:
            branch.sync()
            day = sim.workday(1)
            at = sim.free(sim.sara, day, minutes=150)
            booking = branch.book(sim.sara, day, at, sim.users[2])
            branch.sync()
            moved_to = (datetime.combine(day, at) + timedelta(minutes=shift)).time()
            faults = sim.cloud.faults
            for kind, (method, path) in (
                (create, CREATE),
                (delete, DELETE),
                (confirm, ("POST", "/api/en/admin/v1/bookings/")),
            ):
                if kind != "none":
                    getattr(faults, kind)(method=method, path=path)
            branch.move(booking["id"], day, moved_to)
            status = branch.sync(deadline=30)
            assert status["pending"] == 0 and status["needsAttention"] == 0, (status, create, delete, confirm)
            live = [b for b in sim.live_for(sim.users[2], sim.consult) if b["date"] == day]
            assert len(live) == 1, live
            assert live[0]["start"] == moved_to and live[0]["confirmed"]
            assert branch.cloud_id(booking["id"]) == str(live[0]["id"])
            assert branch.local(live[0]["id"]) == booking["id"]
            assert not faults.rules()  # every fault was met
        finally:
            branch.store.close()


def test_a_cancel_deletes_and_its_undo_books_the_same_visit_again(sim, branch):
    """Contract "Desk operations": cancel is a delete (the reason stays local); the desk's
    undo books the visit again under a new id, which the booking follows."""
    booking, day, at = branch.booked_in_cloud(sim.lina, sim.users[9])
    first = branch.cloud_id(booking["id"])
    branch.service.cancel(booking["id"], "patient called")
    branch.sync()
    assert int(first) not in sim.cloud.bookings and not sim.live_for(sim.users[9], sim.consult)
    assert branch.store.booking(booking["id"])["cancelReason"] == "patient called"
    branch.service.restore(booking["id"])
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    live = [b for b in sim.live_for(sim.users[9], sim.consult) if b["date"] == day]
    assert len(live) == 1 and live[0]["start"] == at and str(live[0]["id"]) != first
    assert branch.cloud_id(booking["id"]) == str(live[0]["id"])
    assert branch.store.booking(booking["id"])["status"] == Status.CONFIRMED


def test_a_move_whose_delete_keeps_failing_shows_one_booking_at_the_desk(sim, branch):
    """Contract "Behaviour" (reschedule is create-then-delete): while the old booking's delete
    waits to be retried, a pull meets the new booking in the cloud. It is the same visit: the
    desk never shows it as a second booking, and once the delete goes through the desk's
    booking follows the new id."""
    booking, day, at = branch.booked_in_cloud(sim.sara, sim.users[3], minutes=150)
    old = branch.cloud_id(booking["id"])
    customer = booking["customerId"]

    def on_desk() -> set[str]:
        return {
            b["id"]
            for b in branch.store.db.query(
                "select id from bookings where customerId = ? and status != 'CANCELED'", [customer]
            )
        }

    before = on_desk()
    sim.cloud.faults.fail(count=None, method=DELETE[0], path=DELETE[1])
    moved_to = (datetime.combine(day, at) + timedelta(minutes=120)).time()
    branch.move(booking["id"], day, moved_to)
    status = branch.sync(deadline=8)
    assert status["pending"] == 1, status
    made = [b for b in sim.live_for(sim.users[3], sim.consult) if b["date"] == day and str(b["id"]) != old]
    assert len(made) == 1  # the new booking is in the cloud, the old one not deleted yet
    assert on_desk() == before
    sim.cloud.faults.clear()
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    assert branch.cloud_id(booking["id"]) == str(made[0]["id"])
    assert on_desk() == before


def test_a_move_of_a_booking_deleted_in_the_cloud_meanwhile_is_not_booked_again(sim, branch):
    """A patient cancels online (the cloud deletes the booking) while the desk's move of it
    waits to go out: the move does not book the visit again; the booking shows cancelled and
    the case needs attention."""
    booking, day, at = branch.booked_in_cloud(sim.sara, sim.users[4], minutes=150)
    old = branch.cloud_id(booking["id"])
    branch.move(booking["id"], day, (datetime.combine(day, at) + timedelta(minutes=120)).time())
    sim.cloud.delete_booking(int(old))
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 1, status
    assert [c["code"] for c in branch.engine.outbox.attention()] == ["DIGITALBOOKER-BOOKING-GONE"]
    assert not [b for b in sim.live_for(sim.users[4], sim.consult) if b["date"] == day]
    assert branch.store.booking(booking["id"])["status"] == "CANCELED"


# ---- money coming down ----------------------------------------------------------------------
def test_a_bookings_payments_and_paid_flag_map_to_cloud_money():
    obj = {**booking(), "price": 230.0, "paid": False}
    money = mapping.money_from_cloud(
        obj,
        [
            {"object": "payment", "id": 7, "type": "prepaid", "amount": 100, "tax": 15},
            {"object": "payment", "id": 8, "type": "online", "amount": 30.5, "tax": 15},
            {"object": "payment", "type": "cash"},
        ],
    )  # no id: left out
    assert money.price == "230.0" and money.fully_paid is False and money.paid is None
    assert [(p.cloud_id, p.amount, p.method, p.kind, p.vat_rate) for p in money.payments] == [
        ("7", "100.0", "other", "prepaid", 1500),
        ("8", "30.5", "online", "online", 1500),
    ]
    assert mapping.has_money(obj) and not mapping.has_money({**booking(), "price": None, "paid": None})


def _admin_payment(sim: Sim, cloud_id: str, kind: str, amount: float) -> dict:
    """A payment taken in DigitalBooker itself, through the simulation's admin surface over HTTP."""
    import httpx

    reply = httpx.post(
        f"{sim.running.root}/_sim/bookings/{cloud_id}/payments",
        headers=sim.running.admin,
        json={"type": kind, "amount": amount, "tax": 15},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_payments_made_in_the_cloud_show_on_the_booking_once_and_a_repull_changes_nothing(sim, branch):
    """The clinic's paid bookings come down with their price and payments (API reference "The booking
    object" price and paid, "List payments for a booking"); one more payment taken in the
    cloud shows once, marked with its source, however often the branch pulls."""
    branch.sync()
    with sim.cloud.lock:
        paid = {
            str(i): (b["price"], [p["amount"] for p in b["payments"]])
            for i, b in sim.cloud.bookings.items()
            if b["payments"] and branch.local(i)
        }
    assert paid
    for cloud_id, (price, amounts) in paid.items():
        figures = branch.payments.figures(branch.local(cloud_id), parts=True)
        assert figures["price"] == round(price * 100) and figures["priceSource"] == "cloud"
        assert (figures["paidCloud"], figures["paidLocal"]) == (round(sum(amounts) * 100), 0)
        assert figures["cloud"] == "digitalbooker"
    day = sim.workday(1)
    with sim.cloud.lock:
        unpaid = next(
            str(i)
            for i, b in sim.cloud.bookings.items()
            if b["price"] and not b["payments"] and branch.local(i) and b["date"] >= day
        )
    local = branch.local(unpaid)
    before = branch.payments.figures(local, parts=True)
    assert before["paid"] == 0 and before["cloudFullyPaid"] is False
    made = _admin_payment(sim, unpaid, "online", 50.0)
    for _ in range(3):
        status = branch.sync()
        assert status["lastError"] is None, status
        figures = branch.payments.figures(local, parts=True)
        assert (figures["paidCloud"], figures["paid"], figures["balance"]) == (
            5000,
            5000,
            before["price"] - 5000,
        )
        rows = branch.payments.of_booking(local)
        assert [(r["source"], r["amount"], r["method"], r["cloudId"]) for r in rows] == [
            ("digitalbooker", 5000, "online", str(made["id"]))
        ]
    assert (
        branch.store.db.execute(
            "select count(*) from cloud_payments where bookingId = ?", [local]
        ).fetchone()[0]
        == 1
    )


def test_a_cash_payment_pushed_from_the_desk_does_not_come_back_as_a_second_one(sim, branch):
    """The desk's cash payment goes up (its reply lost once), the pull lists it back: it is
    the desk's own (matched by the cloud payment id the push got), so it counts once, local."""
    branch.sync()
    day = sim.workday(1)
    booking = branch.book(sim.omar, day, sim.free(sim.omar, day), sim.users[6])
    branch.sync()
    sim.cloud.faults.lose_reply(method="POST", path="/api/en/admin/v1/bookings/")
    taken = branch.payments.take(
        {"bookingId": booking["id"], "amount": 10000, "method": "cash"}, {"user": "desk"}
    )
    for _ in range(3):
        status = branch.sync()
        assert status["pending"] == 0 and status["needsAttention"] == 0, status
    record = sim.cloud.bookings[int(branch.cloud_id(booking["id"]))]
    assert [(p["type"], p["amount"]) for p in record["payments"]] == [("cash", 100.0)]
    assert branch.store.local_id("digitalbooker", str(record["payments"][0]["id"]), "payment") == taken["id"]
    figures = branch.payments.figures(booking["id"], parts=True)
    assert (figures["paidLocal"], figures["paidCloud"], figures["paid"]) == (10000, 0, 10000)
    assert [r["source"] for r in branch.payments.of_booking(booking["id"])] == ["local"]
