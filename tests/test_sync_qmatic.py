"""The Qmatic connector (``app/sync/qmatic``).

Each test names the seed (``001_07b4ebc8faea0778.txt``) or contract
(``shared/contracts/qmatic.md``) section whose rule it checks. The first part reads the
seed's own example payloads through the mapping (no I/O); the second drives the connector
through its protocol methods against the simulated Qmatic cloud over real HTTP, with a
small in-memory :class:`Ctx` standing in for the engine's context; the last part runs a
real branch server process and kills it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.timerules import periods_on
from app.ids import new_id
from app.sync import registry
from app.sync.connector import CloudConfig, FailureKind
from app.sync.qmatic import mapping
from app.sync.qmatic.client import NAMES, QmaticError, TransportError
from app.sync.qmatic.connector import CustomerIncomplete, OrphanHeld, QmaticConnector

ZONE = "Asia/Riyadh"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh

# seed "Services" → Response (the example as written, with its placeholder GUIDs)
SEED_SERVICES = [{
    "branch": {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "string",
               "address": {"streetName": "string", "zipCode": "string", "city": "string", "country": "string"},
               "location": {"longitude": 180, "latitude": 180}},
    "service": {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "string",
                "config": {"maxNumberOfReservations": 0, "onlineBookable": False}},
    "resourceSelection": {"required": True, "availableResources": [
        {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "string"}]},
    "informationQuestions": [{"required": True, "questionText": "string", "clarificationText": "string"}],
    "screeningQuestions": [{"yesRequiredAnswer": True, "questionText": "string", "clarificationText": "string",
                            "answerDeniedMessage": "string"}],
}]
BRANCH = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


# ---- the mapping, on the seed's payloads ----------------------------------------------------

def test_service_rows_give_the_branch_its_services_resources_and_required_questions():
    """Seed "Services": one row per branch and service, with its resources and questions."""
    assert list(mapping.branches(SEED_SERVICES)) == [BRANCH]
    rows = mapping.branch_rows(SEED_SERVICES, BRANCH)
    assert len(rows) == 1 and mapping.branch_rows(SEED_SERVICES, "another") == []
    assert [r["id"] for r in mapping.named_resources(rows[0])] == ["3fa85f64-5717-4562-b3fc-2c963f66afa6"]
    assert mapping.required_questions(rows[0]) == ["string"]
    # seed note: a virtual pool gives an empty list, and the service books on the branch's pool
    pool = {**rows[0], "resourceSelection": {"required": False, "availableResources": []}}
    assert mapping.named_resources(pool) == []


def test_a_known_service_keeps_the_arabic_name_the_desk_gave_it():
    """Contract "Transport": no Arabic in Qmatic, the desk keeps its own Arabic names."""
    service = SEED_SERVICES[0]["service"]
    new = mapping.booking_type(service, 20, known=False)
    assert new["name_translations"] == {"en": "string", "ar": "string"} and new["minutes"] == 20
    known = mapping.booking_type(service, 20, known=True)
    assert "name_translations" not in known and known["name"] == "string"  # the upsert leaves the stored names


def test_cloud_times_with_an_offset_become_utc_and_desk_times_go_out_in_the_branch_zone():
    """Contract "Transport": times are ISO-8601 with an offset (public page example)."""
    assert mapping.from_cloud_time("2022-03-03T09:00:00+01:00", ZONE) == datetime(2022, 3, 3, 8, 0, tzinfo=UTC)
    assert mapping.from_cloud_time("2022-03-03T09:00:00", ZONE) == datetime(2022, 3, 3, 6, 0, tzinfo=UTC)
    assert mapping.to_cloud_time(datetime(2026, 12, 8, 6, 0, tzinfo=UTC), ZONE) == "2026-12-08T09:00:00+03:00"
    with pytest.raises(mapping.MappingError):
        mapping.from_cloud_time("next tuesday", ZONE)


def test_slots_give_the_duration_and_the_hours_of_a_day():
    """Seed "Timeslots": a 60-minute service open 8–16 offers 8–9, 9–10, …; the duration is
    the slots' length and the desk's working hours are the periods they cover."""
    day = "2026-12-08"
    reply = [{"startTime": f"{day}T{h:02d}:00:00+03:00", "endTime": f"{day}T{h + 1:02d}:00:00+03:00"}
             for h in (8, 9, 10, 13, 14, 15)]
    spans = mapping.slot_spans(reply, ZONE)
    assert mapping.duration_minutes(spans) == 60
    rules = mapping.time_rules_from_slots(spans, ZONE)
    assert periods_on(rules, datetime(2026, 12, 8).date()) == [(800, 1100), (1300, 1600)]
    assert periods_on(rules, datetime(2026, 12, 9).date()) == []  # no slot that day: closed
    with pytest.raises(mapping.MappingError):
        mapping.slot_spans({"unexpected": "shape"}, ZONE)


def test_the_personal_identifier_is_the_customer_uuid_in_32_hex_digits():
    """Seed "Confirm a reservation": 10–48 characters of [A-Za-z0-9] (also called GUID)."""
    local = new_id()
    ident = mapping.personal_identifier(local)
    assert len(ident) == 32 and int(ident, 16) >= 0 and mapping.valid_identifier(ident)
    assert mapping.personal_identifier(local) == ident  # stable
    imported = mapping.personal_identifier("cusOmar")
    assert mapping.valid_identifier(imported) and imported == mapping.personal_identifier("cusOmar")
    assert not mapping.valid_identifier("short") and not mapping.valid_identifier("with-hyphens-1234")


def test_missing_customer_fields_are_named_and_nothing_is_invented():
    """Contract "Behaviour": customer data — first name, last name, e-mail and the required
    answers; the desk invents no placeholder."""
    ident = mapping.personal_identifier(new_id())
    full = {"firstName": "Sara", "lastName": "Ali", "email": "sara@example.com", "phone": "+966501234567"}
    assert mapping.missing_fields(full, ident) == []
    assert mapping.missing_fields({**full, "email": None}, ident) == ["email"]
    assert mapping.missing_fields({"firstName": " "}, "bad") == ["firstName", "lastName", "email",
                                                                 "personalIdentifier"]
    assert mapping.missing_fields(full, ident, ["Reason for visit"]) == ["informationQuestions: Reason for visit"]
    body = mapping.confirm_body(full, ident)[NAMES["customer"]]
    assert body == {"personalIdentifier": ident, "firstName": "Sara", "lastName": "Ali",
                    "email": "sara@example.com", "phoneNumber": "966501234567"}  # digits, as a string


def test_a_searched_appointment_maps_to_a_confirmed_booking_with_its_customer():
    """Contract "Objects": Appointment (public page search reply)."""
    ident = mapping.personal_identifier(new_id())
    obj = {"appointmentId": "a-1", "timeSlot": {"startTime": "2026-12-08T09:00:00+03:00",
                                                 "endTime": "2026-12-08T09:30:00+03:00"},
           "customer": {"firstName": "Sara", "lastName": "Ali", "phoneNumber": 966501234567,
                        "email": "sara@example.com"},
           "service": {"id": "svc", "name": "Check-up", "config": {"maxNumberOfReservations": 1}},
           "branch": {"id": BRANCH, "name": "Main"}, "numberOfReservations": 1, "supportNotes": ""}
    row = mapping.appointment(obj, ZONE, pools={"svc": mapping.pool_id(BRANCH)})
    assert row == {"id": "a-1", "status": "CONFIRMED", "startDateTime": "2026-12-08T06:00:00Z",
                   "endDateTime": "2026-12-08T06:30:00Z", "duration": 30, "typeId": "svc",
                   "resourceId": mapping.pool_id(BRANCH)}
    customer = mapping.customer_row(obj["customer"], ident)
    assert customer["id"] == ident and customer["phone"] == "+966501234567"
    assert mapping.appointment({**obj, "resource": {"id": "r1"}}, ZONE)["resourceId"] == "r1"
    with pytest.raises(mapping.MappingError):  # a reservation only held is no booking
        mapping.appointment({**obj, "status": "RESERVED"}, ZONE)
    assert mapping.is_confirmed({**obj, "status": "FINALIZED"}) and mapping.is_confirmed(obj)


def test_a_reserve_body_names_the_slot_as_qmatic_offered_it():
    """Seed "Create a new Reservation": service, branch, resource, time slot, notes, 1."""
    slot = {"startTime": "2026-12-08T09:00:00+03:00", "endTime": "2026-12-08T09:30:00+03:00"}
    body = mapping.reserve_body(service_id="svc", branch_id=BRANCH, resource_id="r1", slot=slot, notes="x")
    assert body == {"serviceId": "svc", "branchId": BRANCH, "requestedResourceId": "r1", "timeSlot": slot,
                    "notes": "x", "numberOfReservations": 1}
    pooled = mapping.reserve_body(service_id="svc", branch_id=BRANCH, resource_id=mapping.pool_id(BRANCH),
                                  slot=slot)
    assert "requestedResourceId" not in pooled  # a virtual pool: Qmatic picks


# ---- declarations, plan and classify --------------------------------------------------------

def test_qmatic_declares_what_it_lacks():
    """Contract "Desk operations on Qmatic": no listing, no queue, no check-in."""
    info = registry.get("qmatic")
    caps = info.capabilities.as_dict()
    assert caps["pull_mode"] == "none"
    assert not any(caps[k] for k in ("queue", "walk_ins", "attendances", "visit_status_push", "end_early",
                                     "deleted_feed", "customer_write", "time_rules_write"))
    assert caps["restore"]
    keys = {f.key: f for f in info.fields}
    assert set(keys) >= {"baseUrl", "account", "secret", "branchId"}
    assert not keys["secret"].required and not info.secret_required  # the Authorization is optional
    assert keys["account"].label == "Tenant ID"


class _Ctx:
    zone = ZONE

    def now(self):
        return NOW


def _connector() -> QmaticConnector:
    return QmaticConnector(CloudConfig("http://127.0.0.1:9/external/v1", "tenant", cloud="qmatic"), _Ctx())


def _row(**changes) -> dict:
    row = {"id": "b1", "status": "CONFIRMED", "startDateTime": "2026-12-08T06:00:00Z", "duration": 30,
           "typeId": "t1", "resourceId": "r1", "customerId": "c1"}
    return {**row, **changes}


def test_plan_follows_the_desk_operations_table():
    c = _connector()
    assert [p.action for p in c.plan("create", None, _row())] == ["create"]
    assert c.plan("create", None, _row(startDateTime=None, status="PENDING_ASSIGNMENT")) == []  # no queue
    assert c.plan("hold", None, _row(heldUntil="2026-12-07T06:10:00Z")) == []
    assert [p.action for p in c.plan("cancel", _row(), _row(status="CANCELED"))] == ["cancel"]
    assert [p.action for p in c.plan("restore", _row(status="CANCELED"), _row())] == ["restore"]
    assert [p.action for p in c.plan("reschedule", _row(), _row(startDateTime="2026-12-08T07:00:00Z"))] \
        == ["reschedule"]
    assert [p.action for p in c.plan("reschedule", _row(), _row(resourceId="r2"))] == ["reschedule"]
    assert [p.action for p in c.plan("reschedule", _row(), _row(typeId="t2"))] == ["reschedule"]
    for visit in ("CHECKED_IN", "IN_PROGRESS", "COMPLETED", "NO_SHOW"):  # local only
        assert c.plan("checkin", _row(), _row(visitStatus=visit)) == []
    accepted = c.plan("accept", _row(status="PENDING_ASSIGNMENT", startDateTime=None, resourceId=None), _row())
    assert [(p.action, p.creates) for p in accepted] == [("create", True)]  # a desk walk-in, now timed


def test_classify_sorts_the_failures_the_contract_names():
    """Contract "Transport" → Errors, "Behaviour": lost reply on reserve, customer data."""
    c = _connector()
    assert c.classify(TransportError("x")).kind == FailureKind.TRANSIENT
    assert c.classify(QmaticError(503, None, "x")).kind == FailureKind.TRANSIENT
    limited = c.classify(QmaticError(429, None, "x", retry_after=7))
    assert limited.kind == FailureKind.TRANSIENT and limited.retry_after == 7
    assert c.classify(QmaticError(401, None, "x")).kind == FailureKind.AUTH
    assert c.classify(QmaticError(403, None, "x")).kind == FailureKind.AUTH
    assert c.classify(QmaticError(404, None, "x")).kind == FailureKind.NOT_FOUND
    taken = c.classify(QmaticError(409, None, "taken"))
    assert taken.kind == FailureKind.REFUSED and taken.code == "SLOT-TAKEN"
    assert c.classify(QmaticError(400, "PATTERN", "bad id")).kind == FailureKind.REFUSED
    held = c.classify(OrphanHeld("held", 5))
    assert held.kind == FailureKind.TRANSIENT and held.retry_after == 5
    incomplete = c.classify(CustomerIncomplete(["email"]))
    assert incomplete.kind == FailureKind.REFUSED and incomplete.keep_local and "email" in incomplete.message
    assert c.classify(ValueError("a bug")) is None

