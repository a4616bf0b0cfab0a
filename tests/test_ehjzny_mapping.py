"""Ehjzny payloads ⇄ local rows (app.sync.ehjzny.mapping)."""

from __future__ import annotations

import pytest

from app.domain.model import BOOKING_FIELDS
from app.sync.connector import NotSendable
from app.sync.ehjzny.mapping import (
    CLOUD_BOOKING_FIELDS,
    MappingError,
    booking_from_cloud,
    booking_to_cloud,
    customer_from_cloud,
    customer_to_cloud,
    resource_from_cloud,
    type_from_cloud,
)

# Ehjzny API reference, "Create Confirmed Booking", response sample, verbatim (collapsed objects empty).
SEED_SAMPLE = {
    "id": "djeWd83ncD3989RtebfiR",
    "status": "CONFIRMED",
    "display": {},
    "startTime": 1800,
    "startDate": "2023-01-11",
    "startDateTime": "2023-01-11T18:00:00.000Z",
    "endDateTime": "2023-01-11T18:30:00.000Z",
    "duration": 30,
    "info": {},
    "typeId": "l68eESvkweJ4fkmn2Bbm",
    "type": {},
    "resourceId": "CEIz0piQ3BMWSS2ggcK2",
    "resource": {},
}


def local_only(**changes) -> dict:
    """The API reference sample without its UTC fields: only the organisation-local date and time."""
    payload = {k: v for k, v in SEED_SAMPLE.items() if k not in ("startDateTime", "endDateTime")}
    return payload | changes


def test_seed_sample_maps_with_utc_as_truth():
    row = booking_from_cloud(SEED_SAMPLE, "UTC")
    # cancelReason and assignmentTimeout are not API reference fields: absent from the payload, absent from the row
    assert set(row) == set(CLOUD_BOOKING_FIELDS) - {"cancelReason", "assignmentTimeout"}
    assert set(CLOUD_BOOKING_FIELDS) <= set(BOOKING_FIELDS)
    assert row["status"] == "CONFIRMED"
    assert row["startDateTime"] == "2023-01-11T18:00:00Z"
    assert row["endDateTime"] == "2023-01-11T18:30:00Z"
    assert row["duration"] == 30
    assert row["typeId"] == "l68eESvkweJ4fkmn2Bbm"
    assert row["resourceId"] == "CEIz0piQ3BMWSS2ggcK2"
    assert row["customerId"] is None


def test_utc_fields_win_over_the_local_view_in_another_zone():
    # The sample's org-local view is UTC; read in a Riyadh branch the UTC fields still decide.
    assert booking_from_cloud(SEED_SAMPLE, "Asia/Riyadh")["startDateTime"] == "2023-01-11T18:00:00Z"


def test_local_date_and_time_in_riyadh_become_utc():
    row = booking_from_cloud(local_only(), "Asia/Riyadh")
    assert row["startDateTime"] == "2023-01-11T15:00:00Z"  # 18:00 +03:00
    assert row["endDateTime"] == "2023-01-11T15:30:00Z"
    assert row["duration"] == 30


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-03-28", "2026-03-28T08:30:00Z"),  # CET, +01:00
        ("2026-03-29", "2026-03-29T07:30:00Z"),  # CEST from 02:00 that night, +02:00
        ("2026-10-24", "2026-10-24T07:30:00Z"),  # CEST
        ("2026-10-25", "2026-10-25T08:30:00Z"),  # back to CET
    ],
)
def test_berlin_across_daylight_saving_changes(day, expected):
    row = booking_from_cloud(local_only(startDate=day, startTime=930), "Europe/Berlin")
    assert row["startDateTime"] == expected


def test_duration_from_the_embedded_type_when_missing():
    payload = local_only(type={"id": "l68eESvkweJ4fkmn2Bbm", "minutes": 45})
    del payload["duration"]
    assert booking_from_cloud(payload, "UTC")["endDateTime"] == "2023-01-11T18:45:00Z"


def test_queued_booking_has_no_time_or_resource():
    payload = {
        "id": "q1",
        "status": "PENDING_ASSIGNMENT",
        "typeId": "t1",
        "customerId": "c1",
        "duration": 20,
        "createdAt": "2026-11-21T07:00:00.000Z",
        "assignmentTimeout": 500,
    }
    row = booking_from_cloud(payload, "Asia/Riyadh")
    assert row["startDateTime"] is row["endDateTime"] is row["resourceId"] is None
    assert row["assignmentTimeout"] == 180  # clamped (Ehjzny API reference, "Assignment Timeout")
    assert row["createdAt"] == row["updatedAt"] == "2026-11-21T07:00:00.000Z"  # milliseconds kept
    assert row["customerId"] == "c1"
    assert (
        booking_from_cloud({**payload, "createdAt": "2026-11-21T07:00:00.395Z"}, "UTC")["createdAt"]
        == "2026-11-21T07:00:00.395Z"
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({k: v for k, v in SEED_SAMPLE.items() if k != "id"}, "missing 'id'"),
        (SEED_SAMPLE | {"status": "DONE"}, "unknown status"),
        ({k: v for k, v in SEED_SAMPLE.items() if k != "status"}, "missing 'status'"),
        (SEED_SAMPLE | {"typeId": None}, "missing 'typeId'"),
        (SEED_SAMPLE | {"startDateTime": "2023-01-11T18:00:00"}, "bad time"),
        (SEED_SAMPLE | {"startDateTime": "yesterday"}, "bad time"),
        (SEED_SAMPLE | {"endDateTime": "2023-01-11T17:00:00.000Z"}, "not after"),
        (local_only(startTime=2460), "bad startDate/startTime"),
        (local_only(startTime="18:00"), "bad startDate/startTime"),
        (local_only(startDate="11/01/2023"), "bad startDate/startTime"),
        (local_only(startDate=None), "come together"),
        (local_only(startDate=None, startTime=None), "needs startDateTime"),
        (local_only(duration=-5), "minutes"),
        ("not an object", "expected an object"),
    ],
)
def test_malformed_payloads_raise_mapping_error(payload, message):
    with pytest.raises(MappingError, match=message):
        booking_from_cloud(payload, "Asia/Riyadh")


def test_mapping_error_is_a_value_error():
    assert issubclass(MappingError, ValueError)


def test_booking_round_trip_through_the_scheduling_body():
    local = {
        "id": "01J",
        "status": "CONFIRMED",
        "startDateTime": "2026-11-21T15:20:00Z",
        "endDateTime": "2026-11-21T15:40:00Z",
        "duration": 20,
        "note": "First visit",
    }
    body = booking_to_cloud(local, "Asia/Riyadh", "type1", "res1", {"phone": "+966500000001"})
    assert body == {
        "type": "type1",
        "customerIdentifier": {"phone": "+966500000001"},
        "date": "2026-11-21",
        "time": 1820,
        "assign": True,
        "resourceFilters": {"resourceId": "res1"},
        "note": "First visit",
    }
    # what the cloud answers: its own local view of the same request
    answer = {
        "id": "cloud1",
        "status": "CONFIRMED",
        "startDate": body["date"],
        "startTime": body["time"],
        "duration": 20,
        "typeId": body["type"],
        "resourceId": body["resourceFilters"]["resourceId"],
        "customerId": "cust1",
        "note": body["note"],
    }
    back = booking_from_cloud(answer, "Asia/Riyadh")
    assert (back["startDateTime"], back["endDateTime"]) == (local["startDateTime"], local["endDateTime"])
    assert back["note"] == local["note"]


def test_queue_body_has_no_date_and_a_clamped_timeout():
    local = {"id": "01J", "status": "PENDING_ASSIGNMENT", "startDateTime": None, "assignmentTimeout": 2}
    body = booking_to_cloud(
        local, "Asia/Riyadh", "type1", None, {"id": "cust1"}, reschedule_booking_id="old1"
    )
    assert body == {
        "type": "type1",
        "customerIdentifier": {"id": "cust1"},
        "assign": False,
        "assignmentTimeout": 5,
        "rescheduleBookingId": "old1",
    }
    with pytest.raises(NotSendable, match="phone number nor an e-mail"):  # stays on the desk, needs attention
        booking_to_cloud(local, "Asia/Riyadh", "type1", None, {})


def test_resource_and_type_keep_cloud_ids():
    resource = resource_from_cloud(
        {
            "id": "res_12345abcde",
            "name": "Dr. Sarah Johnson",
            "name_translations": {"ar": "د. سارة"},
            "category": "doctors",
            "types": ["t1"],
            "on": True,
            "activated": True,
        }
    )
    assert resource == {
        "id": "res_12345abcde",
        "name": "Dr. Sarah Johnson",
        "name_translations": {"en": "Dr. Sarah Johnson", "ar": "د. سارة"},
        "category": "doctors",
        "types": ["t1"],
        "on": True,
        "activated": True,
    }
    kind = type_from_cloud(
        {
            "id": "t1",
            "name": "Consultation",
            "minutes": 20,
            "price": "150",
            "color": "#4f8fd6",
            "leaveMinutesBefore": 0,
            "leaveMinutesAfter": 5,
        }
    )
    assert kind["id"] == "t1" and kind["minutes"] == 20 and kind["price"] == "150.00"
    with pytest.raises(MappingError, match="minutes"):
        type_from_cloud({"id": "t2", "name": "Broken", "minutes": 0})
    with pytest.raises(MappingError, match="missing 'id'"):
        resource_from_cloud({"name": "Nobody"})


def test_customer_round_trip_and_search_text():
    cloud = {
        "id": "c1",
        "firstName": "أَحْمَد",
        "lastName": "الزهراني",
        "phone": "+966501234567",
        "email": None,
        "note": "",
        "data": {},
    }
    row = customer_from_cloud(cloud, "01LOCAL", customer_number=1001)
    assert row["id"] == "01LOCAL" and row["customerNumber"] == 1001
    assert row["firstName"] == "أَحْمَد"  # stored as typed
    assert "احمد" in row["searchText"] and "+966501234567" in row["searchText"]
    assert customer_to_cloud(row) == {"phone": "+966501234567", "firstName": "أَحْمَد", "lastName": "الزهراني"}
    assert "customerNumber" not in customer_from_cloud(cloud, "01LOCAL")
    with pytest.raises(MappingError, match="phone or an email"):
        customer_from_cloud({"id": "c2", "firstName": "x"}, "01X")
