"""The DigitalBooker connector (``app/sync/digitalbooker``).

Part one: the mapping and the plan on payloads in the contract's shapes
(``shared/contracts/digitalbooker.md`` "The inferred names", seed
``004_7907c60232aa2c57.txt`` "The booking object" and the others). Part two (below): the
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
    """A booking object as the contract names it (seed "The booking object")."""
    obj = {"object": "booking", "id": 501, "type": "service", "title": "General", "location_id": 1,
           "date": "2026-12-08", "start_time": "09:30", "end_time": "10:00", "service_id": 7,
           "resources": [11, 21], "price": 230.0, "tax": 30.0, "paid": False,
           "user": {"object": "user", "id": 900, "name": "Huda Saleh"}, "notes": "first visit",
           "confirmed": True, "interface": 1, "created": "2026-12-01T08:15:00"}
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
    clock; ``modified`` is present only on modified bookings (seed)."""
    assert mapping.booking_mark(booking()) == "2026-12-01T08:15:00"
    assert mapping.booking_mark(booking(modified="2026-12-03 10:00:00")) == "2026-12-03T10:00:00"
    assert mapping.shift_stamp("2026-12-03T10:00:00", -5) == "2026-12-03T09:55:00"


# ---- bookings -------------------------------------------------------------------------
def test_a_confirmed_service_booking_maps_to_its_worker_type_and_times():
    row = mapping.booking_from_cloud(booking(), ZONE, KINDS)
    assert row == {"status": "CONFIRMED", "startDateTime": "2026-12-08T06:30:00Z",
                   "endDateTime": "2026-12-08T07:00:00Z", "duration": 30, "typeId": "7", "resourceId": "11",
                   "customerId": "900", "note": "first visit", "createdAt": "2026-12-01T05:15:00Z"}


def test_the_confirmed_flag_is_the_only_status_and_no_worker_means_the_queue():
    assert mapping.booking_from_cloud(booking(confirmed=False), ZONE, KINDS)["status"] == "PENDING_APPROVAL"
    queued = mapping.booking_from_cloud(booking(resources=[21]), ZONE, KINDS)
    assert queued["status"] == "PENDING_ASSIGNMENT" and queued["resourceId"] == "21"


def test_resource_and_class_bookings_get_the_read_only_types():
    room = mapping.booking_from_cloud(booking(type="resource", service_id=None, resources=[21]), ZONE, KINDS)
    assert (room["typeId"], room["resourceId"], room["status"]) == (mapping.ROOM_TYPE, "21", "CONFIRMED")
    group = mapping.booking_from_cloud(booking(type="class", service_id=None, class_id=3, resources=[12]), ZONE,
                                       KINDS)
    assert (group["typeId"], group["resourceId"]) == (mapping.CLASS_TYPE, "12")
    connector = DigitalBookerConnector.__new__(DigitalBookerConnector)
    assert connector.plan("reschedule", {**room, "id": "b"}, {**room, "id": "b"}) == []
    assert connector.plan("cancel", {**group, "id": "b"}, {**group, "id": "b", "status": "CANCELED"}) == []


def test_a_booking_that_cannot_be_read_is_refused_not_guessed():
    for bad in (booking(start_time="late"), booking(date=None), booking(type="course"), booking(service_id=None),
                booking(id=None)):
        with pytest.raises(mapping.MappingError):
            mapping.booking_from_cloud(bad, ZONE, KINDS)


def test_a_booking_past_midnight_ends_the_next_day():
    row = mapping.booking_from_cloud(booking(start_time="23:30", end_time="00:15"), ZONE, KINDS)
    assert row["duration"] == 45 and row["endDateTime"] == "2026-12-08T21:15:00Z"


def test_the_natural_key_of_a_created_booking_matches_its_body():
    body = mapping.service_booking_body(location_id="1", service_id="7", start=datetime(2026, 12, 8, 6, 30, tzinfo=UTC),
                                        zone=ZONE, resources=["11"], user="900")
    assert body == {"location_id": 1, "service_id": 7, "date": "2026-12-08", "start_time": "09:30",
                    "resources": [11], "user_id": 900}
    assert mapping.body_key(body) == mapping.booking_key(booking(resources=[11], start_time="09:30:00"))
    assert mapping.body_key(body) != mapping.booking_key(booking(resources=[12]))


# ---- users and payments ---------------------------------------------------------------
def test_users_are_normal_with_an_email_or_phone_and_temporary_without():
    """Contract "Behaviour" → Users: the user list omits temporary users, so the desk makes
    normal users whenever it has an email or phone."""
    assert mapping.user_body({"firstName": "Huda", "lastName": "Saleh", "phone": "+966501234567"}) == {
        "first_name": "Huda", "last_name": "Saleh", "phone": "+966501234567", "type": "normal"}
    assert mapping.user_body({"firstName": "Walk", "lastName": ""})["type"] == "temporary"
    row = mapping.customer_from_cloud({"id": 900, "name": "Huda bint Saleh", "phone": "0501234567",
                                       "email": "h@example.com"})
    assert (row["firstName"], row["lastName"], row["phone"]) == ("Huda bint", "Saleh", "+966501234567")
    assert mapping.same_person({"phone": "+966 50 123 4567"}, {"phone": "+966501234567"})
    assert mapping.same_person({"email": "H@Example.com"}, {"email": "h@example.com"})


def test_a_cash_payment_goes_with_its_amount_including_tax_and_the_tax_percentage():
    assert mapping.payment_body(23000, 2, 1500) == {"type": "cash", "amount": 230.0, "tax": 15.0}
    with pytest.raises(mapping.MappingError):
        mapping.payment_body(100_000_00, 2, 1500)  # seed: amount range 0 - 99999
    assert mapping.payments_from_cloud([{"object": "payment", "id": 4, "type": "cash", "amount": 230, "tax": 15},
                                        "junk"]) == [{"id": "4", "type": "cash", "amount": 230.0, "tax": 15.0}]


# ---- reference data -------------------------------------------------------------------
def test_dated_work_hours_become_dated_time_rules_and_a_day_without_hours_is_off():
    hours = [{"object": "work_hours", "date": "2026-12-08", "location_id": 1,
              "hours": [{"start_time": "09:00", "end_time": "13:00"}, {"start_time": "16:00", "end_time": "00:00"}]},
             {"object": "work_hours", "date": "2026-12-08", "location_id": 2,
              "hours": [{"start_time": "06:00", "end_time": "08:00"}]}]
    rules = mapping.time_rules(hours, "1", date(2026, 12, 7), date(2027, 1, 6))
    assert timerules.periods_on(rules, date(2026, 12, 8)) == [(900, 1300), (1600, 2400)]
    assert timerules.periods_on(rules, date(2026, 12, 9)) == []
    with pytest.raises(mapping.MappingError):
        mapping.time_rules([{"date": "2026-12-08", "hours": "9-5"}], "1", date(2026, 12, 7), date(2027, 1, 6))


def test_public_durations_give_a_services_minutes():
    categories = [{"object": "service_category", "id": 1, "services": [
        {"object": "service", "id": 7, "durations": ["00:45", "01:00"]}, {"object": "service", "id": 8}]}]
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
    for local in ("checkin", "start", "end", "noshow"):
        assert connector.plan(local, timed, timed) == []
    assert [p.action for p in connector.plan("payment", timed, {**timed, "payment": {"method": "cash",
                                                                                     "amount": 100}})] == ["payment"]
    assert connector.plan("payment", timed, {**timed, "payment": {"method": "card", "amount": 100}}) == []
    assert connector.plan("payment", timed, {**timed, "payment": {"method": "cash", "amount": -100}}) == []
