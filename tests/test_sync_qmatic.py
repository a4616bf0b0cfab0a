"""The Qmatic connector (``app/sync/qmatic``).

Each test names the Qmatic API reference or the contract
(``docs/clouds/qmatic.md``) section whose rule it checks. The first part reads the
API reference's own example payloads through the mapping (no I/O); the second drives the connector
through its protocol methods against the simulated Qmatic cloud over real HTTP, with a
small in-memory :class:`Ctx` standing in for the engine's context; the last part runs a
real branch server process and kills it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.timerules import periods_on
from app.ids import new_id
from app.sync import registry
from app.sync.connector import CloudConfig, FailureKind, NotSendable, Operation
from app.sync.qmatic import mapping
from app.sync.qmatic.client import NAMES, QmaticError, TransportError
from app.sync.qmatic.connector import CustomerIncomplete, OrphanHeld, QmaticConnector
from tests.clouds.qmatic import (
    CONFIRMED,
    EXPIRED,
    RELEASED,
    RESERVED,
    QmaticCloud,
    generate_clinic,
    start_cloud,
)

ZONE = "Asia/Riyadh"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh

# API reference "Services" → Response (the example as written, with its placeholder GUIDs)
SEED_SERVICES = [
    {
        "branch": {
            "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "name": "string",
            "address": {"streetName": "string", "zipCode": "string", "city": "string", "country": "string"},
            "location": {"longitude": 180, "latitude": 180},
        },
        "service": {
            "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "name": "string",
            "config": {"maxNumberOfReservations": 0, "onlineBookable": False},
        },
        "resourceSelection": {
            "required": True,
            "availableResources": [{"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "string"}],
        },
        "informationQuestions": [{"required": True, "questionText": "string", "clarificationText": "string"}],
        "screeningQuestions": [
            {
                "yesRequiredAnswer": True,
                "questionText": "string",
                "clarificationText": "string",
                "answerDeniedMessage": "string",
            }
        ],
    }
]
BRANCH = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


# ---- the mapping, on the API reference's payloads ----------------------------------------------------


def test_service_rows_give_the_branch_its_services_resources_and_required_questions():
    """API reference "Services": one row per branch and service, with its resources and questions."""
    assert list(mapping.branches(SEED_SERVICES)) == [BRANCH]
    rows = mapping.branch_rows(SEED_SERVICES, BRANCH)
    assert len(rows) == 1 and mapping.branch_rows(SEED_SERVICES, "another") == []
    assert [r["id"] for r in mapping.named_resources(rows[0])] == ["3fa85f64-5717-4562-b3fc-2c963f66afa6"]
    assert mapping.required_questions(rows[0]) == ["string"]
    # API reference note: a virtual pool gives an empty list, and the service books on the branch's pool
    pool = {**rows[0], "resourceSelection": {"required": False, "availableResources": []}}
    assert mapping.named_resources(pool) == []


def test_a_known_service_keeps_the_arabic_name_the_desk_gave_it():
    """Contract "Transport": no Arabic in Qmatic, the desk keeps its own Arabic names."""
    service = SEED_SERVICES[0]["service"]
    new = mapping.booking_type(service, 20, known=False)
    assert new["name_translations"] == {"en": "string", "ar": "string"} and new["minutes"] == 20
    known = mapping.booking_type(service, 20, known=True)
    assert (
        "name_translations" not in known and known["name"] == "string"
    )  # the upsert leaves the stored names


def test_cloud_times_with_an_offset_become_utc_and_desk_times_go_out_in_the_branch_zone():
    """Contract "Transport": times are ISO-8601 with an offset (public page example)."""
    assert mapping.from_cloud_time("2022-03-03T09:00:00+01:00", ZONE) == datetime(
        2022, 3, 3, 8, 0, tzinfo=UTC
    )
    assert mapping.from_cloud_time("2022-03-03T09:00:00", ZONE) == datetime(2022, 3, 3, 6, 0, tzinfo=UTC)
    assert mapping.to_cloud_time(datetime(2026, 12, 8, 6, 0, tzinfo=UTC), ZONE) == "2026-12-08T09:00:00+03:00"
    with pytest.raises(mapping.MappingError):
        mapping.from_cloud_time("next tuesday", ZONE)


def test_slots_give_the_duration_and_the_hours_of_a_day():
    """API reference "Timeslots": a 60-minute service open 8–16 offers 8–9, 9–10, …; the duration is
    the slots' length and the desk's working hours are the periods they cover."""
    day = "2026-12-08"
    reply = [
        {"startTime": f"{day}T{h:02d}:00:00+03:00", "endTime": f"{day}T{h + 1:02d}:00:00+03:00"}
        for h in (8, 9, 10, 13, 14, 15)
    ]
    spans = mapping.slot_spans(reply, ZONE)
    assert mapping.duration_minutes(spans) == 60
    rules = mapping.time_rules_from_slots(spans, ZONE)
    assert periods_on(rules, datetime(2026, 12, 8).date()) == [(800, 1100), (1300, 1600)]
    assert periods_on(rules, datetime(2026, 12, 9).date()) == []  # no slot that day: closed
    with pytest.raises(mapping.MappingError):
        mapping.slot_spans({"unexpected": "shape"}, ZONE)


def test_the_personal_identifier_is_the_customer_uuid_in_32_hex_digits():
    """API reference "Confirm a reservation": 10–48 characters of [A-Za-z0-9] (also called GUID)."""
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
    assert mapping.missing_fields({"firstName": " "}, "bad") == [
        "firstName",
        "lastName",
        "email",
        "personalIdentifier",
    ]
    assert mapping.missing_fields(full, ident, ["Reason for visit"]) == [
        "informationQuestions: Reason for visit"
    ]
    body = mapping.confirm_body(full, ident)[NAMES["customer"]]
    assert body == {
        "personalIdentifier": ident,
        "firstName": "Sara",
        "lastName": "Ali",
        "email": "sara@example.com",
        "phoneNumber": "966501234567",
    }  # digits, as a string


def test_a_searched_appointment_maps_to_a_confirmed_booking_with_its_customer():
    """Contract "Objects": Appointment (public page search reply)."""
    ident = mapping.personal_identifier(new_id())
    obj = {
        "appointmentId": "a-1",
        "timeSlot": {"startTime": "2026-12-08T09:00:00+03:00", "endTime": "2026-12-08T09:30:00+03:00"},
        "customer": {
            "firstName": "Sara",
            "lastName": "Ali",
            "phoneNumber": 966501234567,
            "email": "sara@example.com",
        },
        "service": {"id": "svc", "name": "Check-up", "config": {"maxNumberOfReservations": 1}},
        "branch": {"id": BRANCH, "name": "Main"},
        "numberOfReservations": 1,
        "supportNotes": "",
    }
    row = mapping.appointment(obj, ZONE, pools={"svc": mapping.pool_id(BRANCH)})
    assert row == {
        "id": "a-1",
        "status": "CONFIRMED",
        "startDateTime": "2026-12-08T06:00:00Z",
        "endDateTime": "2026-12-08T06:30:00Z",
        "duration": 30,
        "typeId": "svc",
        "resourceId": mapping.pool_id(BRANCH),
    }
    customer = mapping.customer_row(obj["customer"], ident)
    assert customer["id"] == ident and customer["phone"] == "+966501234567"
    assert mapping.appointment({**obj, "resource": {"id": "r1"}}, ZONE)["resourceId"] == "r1"
    with pytest.raises(mapping.MappingError):  # a reservation only held is no booking
        mapping.appointment({**obj, "status": "RESERVED"}, ZONE)
    assert mapping.is_confirmed({**obj, "status": "FINALIZED"}) and mapping.is_confirmed(obj)


def test_a_reserve_body_names_the_slot_as_qmatic_offered_it():
    """API reference "Create a new Reservation": service, branch, resource, time slot, notes, 1."""
    slot = {"startTime": "2026-12-08T09:00:00+03:00", "endTime": "2026-12-08T09:30:00+03:00"}
    body = mapping.reserve_body(service_id="svc", branch_id=BRANCH, resource_id="r1", slot=slot, notes="x")
    assert body == {
        "serviceId": "svc",
        "branchId": BRANCH,
        "requestedResourceId": "r1",
        "timeSlot": slot,
        "notes": "x",
        "numberOfReservations": 1,
    }
    pooled = mapping.reserve_body(
        service_id="svc", branch_id=BRANCH, resource_id=mapping.pool_id(BRANCH), slot=slot
    )
    assert "requestedResourceId" not in pooled  # a virtual pool: Qmatic picks


# ---- declarations, plan and classify --------------------------------------------------------


def test_qmatic_declares_what_it_lacks():
    """Contract "Desk operations on Qmatic": no listing, no queue, no check-in."""
    info = registry.get("qmatic")
    caps = info.capabilities.as_dict()
    assert caps["pull_mode"] == "none"
    assert not any(
        caps[k]
        for k in (
            "queue",
            "walk_ins",
            "attendances",
            "visit_status_push",
            "end_early",
            "deleted_feed",
            "customer_write",
            "time_rules_write",
        )
    )
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
    row = {
        "id": "b1",
        "status": "CONFIRMED",
        "startDateTime": "2026-12-08T06:00:00Z",
        "duration": 30,
        "typeId": "t1",
        "resourceId": "r1",
        "customerId": "c1",
    }
    return {**row, **changes}


def test_plan_follows_the_desk_operations_table():
    c = _connector()
    assert [p.action for p in c.plan("create", None, _row())] == ["create"]
    assert c.plan("create", None, _row(startDateTime=None, status="PENDING_ASSIGNMENT")) == []  # no queue
    assert c.plan("hold", None, _row(heldUntil="2026-12-07T06:10:00Z")) == []
    assert [p.action for p in c.plan("cancel", _row(), _row(status="CANCELED"))] == ["cancel"]
    assert [p.action for p in c.plan("restore", _row(status="CANCELED"), _row())] == ["restore"]
    assert [p.action for p in c.plan("reschedule", _row(), _row(startDateTime="2026-12-08T07:00:00Z"))] == [
        "reschedule"
    ]
    assert [p.action for p in c.plan("reschedule", _row(), _row(resourceId="r2"))] == ["reschedule"]
    assert [p.action for p in c.plan("reschedule", _row(), _row(typeId="t2"))] == ["reschedule"]
    for visit in ("CHECKED_IN", "IN_PROGRESS", "COMPLETED", "NO_SHOW"):  # local only
        assert c.plan("check_in", _row(), _row(visitStatus=visit)) == []
    accepted = c.plan(
        "accept", _row(status="PENDING_ASSIGNMENT", startDateTime=None, resourceId=None), _row()
    )
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
    incomplete = CustomerIncomplete(["email"])  # not a failed call: the booking stays on the desk
    assert (
        isinstance(incomplete, NotSendable) and c.classify(incomplete) is None and "email" in str(incomplete)
    )
    assert c.classify(ValueError("a bug")) is None


# ---- the connector against the simulated Qmatic cloud, over real HTTP ---------------------

GATEWAY = "Bearer test-gateway"


class Ctx:
    """The engine's side of the protocol, in memory: id maps, customers, committed steps,
    the held bookings a known-customer pull reads."""

    zone = ZONE
    pull_asked = False

    def __init__(self):
        self.maps: dict[str, dict[str, str]] = {"booking": {}, "customer": {}, "resource": {}, "type": {}}
        self.customers: dict[str, dict] = {}
        self.saved: list[dict] = []  # every committed steps state, in order
        self.requested = 0
        self.held: list[dict] = []

    def now(self):
        return datetime.now(UTC)

    def cloud_id(self, entity, local_id):
        return self.maps[entity].get(local_id)

    def local_id(self, entity, cloud_id):
        return next((lo for lo, c in self.maps[entity].items() if c == cloud_id), None)

    def customer(self, local_id):
        return self.customers.get(local_id)

    def held_bookings(self, since):
        return [h for h in self.held if h["startDateTime"] >= since]

    async def mark_requested(self, op):
        op.requested_at = self.now().isoformat()
        self.requested += 1

    async def save_steps(self, op, steps):
        import copy

        op.steps = copy.deepcopy(steps)
        self.saved.append(copy.deepcopy(steps))

    async def save_secret(self, secret):
        return None


@pytest.fixture
def sim():
    cloud = QmaticCloud(authorization=GATEWAY)
    clinic = generate_clinic(cloud, seed=3)
    with start_cloud(cloud) as running:
        yield running, cloud, clinic


def _service(cloud, name: str) -> str:
    return next(s.id for s in cloud.services.values() if s.name("en_US") == name)


async def _connected(running, cloud, clinic, ctx: Ctx | None = None) -> tuple[QmaticConnector, Ctx]:
    ctx = ctx or Ctx()
    config = CloudConfig(
        running.url, cloud.tenant, GATEWAY, cloud="qmatic", extra={"branchId": clinic["branches"][0]}
    )
    connector = QmaticConnector(config, ctx)
    ref = await connector.pull_reference()
    for row in ref.types:
        ctx.maps["type"][f"T-{row['id']}"] = row["id"]
    for row in ref.resources:
        ctx.maps["resource"][f"R-{row['id']}"] = row["id"]
    return connector, ctx


def _customer(ctx: Ctx, email: str | None = "mona@example.com") -> str:
    local = new_id()
    ctx.customers[local] = {
        "id": local,
        "firstName": "Mona",
        "lastName": "Saleh",
        "phone": "+966501112233",
        "email": email,
    }
    return local


def _free(cloud, branch: str, service: str, resource: str | None, days: int = 2) -> datetime:
    """A free slot start of the service, ``days`` ahead, as the cloud offers it."""
    from tests.clouds.qmatic.model import parse_time

    slots = cloud.timeslots(service, {"branchId": branch, "requestedResourceId": resource})
    target = datetime.now(UTC) + timedelta(days=days)
    return next(
        parse_time(s["startTime"], "start") for s in slots if parse_time(s["startTime"], "s") > target
    )


def _create_op(
    ctx: Ctx, service: str, resource: str | None, start: datetime, customer: str, minutes: int = 15
) -> Operation:
    after = {
        "id": "B1",
        "status": "CONFIRMED",
        "startDateTime": start.isoformat().replace("+00:00", "Z"),
        "duration": minutes,
        "typeId": f"T-{service}",
        "resourceId": f"R-{resource}" if resource else None,
        "customerId": customer,
        "note": "first visit",
    }
    return Operation(new_id(), "B1", "create", {"before": None, "after": after, "creates": True})


def _confirmed(cloud) -> list:
    return [r for r in cloud.appointments.values() if r.state == CONFIRMED and r.source == "api"]


def run(coro):
    import asyncio

    return asyncio.run(coro)


def test_reference_data_types_resources_and_hours_from_the_slots(sim):
    """Contract "Desk operations": services → types, resources of each service and branch, a
    pool for a virtual pool; durations and working hours from the time slots."""
    running, cloud, clinic = sim

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        ref = await connector.pull_reference()
        await connector.close()
        return ref

    ref = run(go())
    minutes = {t["name"]: t["minutes"] for t in ref.types}
    assert minutes == {"General consultation": 30, "Follow-up": 15, "Vaccination": 20, "Dental cleaning": 45}
    branch = clinic["branches"][0]
    by_id = {r["id"]: r for r in ref.resources}
    assert set(by_id) == {*clinic["resources"][branch], mapping.pool_id(branch)}
    pool = by_id[mapping.pool_id(branch)]
    assert pool["types"] == [_service(cloud, "Vaccination")] and pool["category"] == "room"
    doctor = by_id[clinic["resources"][branch][0]]
    assert set(doctor["types"]) == {_service(cloud, "General consultation"), _service(cloud, "Follow-up")}
    friday = next(
        datetime.now(UTC).date() + timedelta(days=d)
        for d in range(1, 8)
        if (datetime.now(UTC).date() + timedelta(days=d)).weekday() == 4
    )
    assert periods_on(doctor["timeRules"], friday) == []  # the clinic is closed on Fridays
    sunday = friday + timedelta(days=2)
    assert periods_on(doctor["timeRules"], sunday)[0][0] == 800 and ref.hours_unknown == []


def test_every_call_carries_the_tenant_the_language_and_the_configured_authorization(sim):
    """Contract "Transport": X-TENANT-ID and Accept-Language always; Authorization only when
    configured — a gateway that wants one refuses a connection without it."""
    running, cloud, clinic = sim

    async def go(secret):
        config = CloudConfig(
            running.url,
            cloud.tenant,
            secret,
            cloud="qmatic",
            extra={"branchId": clinic["branches"][0], "language": "fr_FR"},
        )
        connector = QmaticConnector(config, Ctx())
        try:
            await connector.check()
            return [t["name"] for t in (await connector.pull_reference()).types]
        finally:
            await connector.close()

    assert "Suivi" in run(go(GATEWAY))  # the names in the chosen language
    with pytest.raises(QmaticError) as refused:
        run(go(None))
    assert refused.value.status == 401 and _connector().classify(refused.value).kind == FailureKind.AUTH


def test_check_without_a_branch_lists_the_tenant_branches(sim):
    """Contract "Transport": one desk branch = one Qmatic branch."""
    running, cloud, clinic = sim

    async def go():
        connector = QmaticConnector(CloudConfig(running.url, cloud.tenant, GATEWAY, cloud="qmatic"), Ctx())
        try:
            await connector.check()
        finally:
            await connector.close()

    with pytest.raises(QmaticError) as refused:
        run(go())
    assert "Riyadh" in refused.value.message and "Dubai" in refused.value.message


def test_create_reserves_commits_the_reservation_then_confirms_one_appointment(sim):
    """Contract "Behaviour": Hold — reserve, commit the reservation id and time, confirm."""
    running, cloud, clinic = sim
    branch = clinic["branches"][0]
    service, doctor = _service(cloud, "Follow-up"), clinic["resources"][branch][0]
    start = _free(cloud, branch, service, doctor)

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        op = _create_op(ctx, service, doctor, start, _customer(ctx))
        result = await connector.send(op)
        await connector.close()
        return ctx, op, result

    ctx, op, result = run(go())
    made = _confirmed(cloud)
    assert [r.id for r in made] == [result.booking.cloud_id]
    record = made[0]
    assert (record.start, record.resource_id, record.service_id, record.notes) == (
        start,
        doctor,
        service,
        "first visit",
    )
    assert record.personal_identifier == mapping.personal_identifier(op.payload["after"]["customerId"])
    # the reservation id and its time were committed before the confirm went out
    reserved = next(s["book"] for s in ctx.saved if s.get("book", {}).get("reservationId"))
    assert (
        reserved["reservationId"] == record.id
        and reserved["reservedAt"]
        and not reserved.get("confirmRequested")
    )
    assert result.booking.row["customerId"] == record.personal_identifier
    assert result.booking.customer["email"] == "mona@example.com"


def _interrupted(running, cloud, clinic, *, shift: timedelta | None):
    """A create whose confirm never arrives (the line drops it), then — after ``shift`` on
    the cloud's clock — the same operation sent again from its committed steps."""
    branch = clinic["branches"][0]
    service, doctor = _service(cloud, "Follow-up"), clinic["resources"][branch][1]
    start = _free(cloud, branch, service, doctor, days=3)

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        op = _create_op(ctx, service, doctor, start, _customer(ctx))
        cloud.faults.drop(count=None, method="PUT", path="/external/v1/reservations/")
        with pytest.raises(TransportError):
            await connector.send(op)
        first = op.steps["book"]["reservationId"]
        assert cloud.appointments[first].state == RESERVED
        cloud.faults.clear()
        if shift:
            cloud.clock.shift(shift)
        fresh = QmaticConnector(connector.config, ctx)  # a new process: only the committed steps remain
        await fresh.pull_reference()
        again = Operation(
            op.id, op.booking_id, op.action, op.payload, requested_at=op.requested_at, steps=ctx.saved[-1]
        )
        result = await fresh.send(again)
        await connector.close()
        await fresh.close()
        return first, result

    return run(go())


def test_a_crash_within_the_hold_confirms_the_same_reservation(sim):
    """Contract "Behaviour": after a crash within the hold, confirm with the stored id."""
    running, cloud, clinic = sim
    first, result = _interrupted(running, cloud, clinic, shift=timedelta(minutes=10))
    assert result.booking.cloud_id == first and cloud.appointments[first].state == CONFIRMED
    assert len(_confirmed(cloud)) == 1


def test_after_the_hold_the_slot_is_reserved_again_and_booked_once(sim):
    """Contract "Behaviour": after the hold (404 on confirm), reserve again."""
    running, cloud, clinic = sim
    first, result = _interrupted(running, cloud, clinic, shift=timedelta(minutes=16))
    assert result.booking.cloud_id != first and cloud.appointments[first].state == EXPIRED
    assert [r.id for r in _confirmed(cloud)] == [result.booking.cloud_id]


def test_a_lost_reserve_reply_waits_for_the_orphan_hold_and_books_once(sim):
    """Contract "Behaviour": lost reply on reserve — re-send; a 409 on the same slot is the
    orphan; retried until it expires by itself (16 minutes after the first attempt)."""
    running, cloud, clinic = sim
    branch = clinic["branches"][0]
    service, doctor = _service(cloud, "Follow-up"), clinic["resources"][branch][0]
    start = _free(cloud, branch, service, doctor, days=4)

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        op = _create_op(ctx, service, doctor, start, _customer(ctx))
        cloud.faults.lose_reply(method="POST", path="/external/v1/reservations")
        with pytest.raises(TransportError):
            await connector.send(op)
        with pytest.raises(OrphanHeld) as held:
            await connector.send(op)  # the orphan holds the slot
        failure = connector.classify(held.value)
        assert failure.kind == FailureKind.TRANSIENT and failure.code == "QMATIC-SLOT-HELD"
        cloud.clock.shift(timedelta(minutes=16))  # the orphan's hold expires
        result = await connector.send(op)
        await connector.close()
        return result

    result = run(go())
    states = sorted(r.state for r in cloud.appointments.values() if r.source == "api")
    assert states == [CONFIRMED, EXPIRED]  # the orphan expired; exactly one appointment
    assert [r.id for r in _confirmed(cloud)] == [result.booking.cloud_id]


def test_a_409_on_a_first_reserve_is_a_taken_slot(sim):
    """Contract "Transport" → Errors: 409 slot no longer free (not an orphan: nothing was lost)."""
    running, cloud, clinic = sim
    branch = clinic["branches"][0]
    service, doctor = _service(cloud, "Follow-up"), clinic["resources"][branch][0]
    start = _free(cloud, branch, service, doctor, days=5)
    cloud.online_booking(
        service,
        branch,
        start,
        {"personalIdentifier": "x" * 32, "firstName": "A", "lastName": "B", "email": "a@b.c"},
        resource_id=doctor,
    )

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        try:
            await connector.send(_create_op(ctx, service, doctor, start, _customer(ctx)))
        finally:
            await connector.close()

    with pytest.raises(QmaticError) as taken:
        run(go())
    assert _connector().classify(taken.value).kind == FailureKind.REFUSED and taken.value.status == 409


def test_a_customer_without_email_or_answers_is_not_sent(sim):
    """Contract "Behaviour": customer data — nothing is reserved, the missing field is named."""
    running, cloud, clinic = sim
    branch = clinic["branches"][0]
    follow, consult = _service(cloud, "Follow-up"), _service(cloud, "General consultation")
    doctor = clinic["resources"][branch][0]
    before = len(cloud.appointments)

    async def go(service, email):
        connector, ctx = await _connected(running, cloud, clinic)
        try:
            await connector.send(
                _create_op(ctx, service, doctor, _free(cloud, branch, service, doctor), _customer(ctx, email))
            )
        finally:
            await connector.close()

    with pytest.raises(CustomerIncomplete) as no_email:
        run(go(follow, None))
    assert no_email.value.missing == ["email"]
    with pytest.raises(CustomerIncomplete) as no_answer:
        run(go(consult, "mona@example.com"))
    assert no_answer.value.missing == ["informationQuestions: Reason for the visit"]
    assert len(cloud.appointments) == before  # no reservation was made


def test_a_refused_confirm_releases_the_reservation_at_once(sim):
    """Contract "Behaviour": abandoned reservation — released at once, not left 15 minutes."""
    running, _, _ = sim
    cloud = QmaticCloud()
    clinic = generate_clinic(cloud, seed=4)
    cloud.date_of_birth_required = True  # the tenant's setting now requires the date of birth
    branch = clinic["branches"][0]
    service, doctor = _service(cloud, "Follow-up"), clinic["resources"][branch][0]
    start = _free(cloud, branch, service, doctor)

    async def go(running):
        ctx = Ctx()
        config = CloudConfig(running.url, cloud.tenant, None, cloud="qmatic", extra={"branchId": branch})
        connector = QmaticConnector(config, ctx)
        ref = await connector.pull_reference()
        ctx.maps["type"] = {f"T-{t['id']}": t["id"] for t in ref.types}
        ctx.maps["resource"] = {f"R-{r['id']}": r["id"] for r in ref.resources}
        try:
            await connector.send(_create_op(ctx, service, doctor, start, _customer(ctx)))
        finally:
            await connector.close()

    with start_cloud(cloud) as other:
        with pytest.raises(QmaticError) as refused:
            run(go(other))
    assert refused.value.status == 400 and "dateOfBirth" in refused.value.message
    assert [r.state for r in cloud.appointments.values() if r.source == "api"] == [RELEASED]
    slots = cloud.timeslots(service, {"branchId": branch, "requestedResourceId": doctor})
    assert any(s["startTime"] == mapping.to_cloud_time(start, ZONE) for s in slots)  # free again now


def _booked(running, cloud, clinic, ctx_steps=None):
    """A confirmed desk appointment (Follow-up, first doctor) and the connector that made it."""
    branch = clinic["branches"][0]
    service, doctor = _service(cloud, "Follow-up"), clinic["resources"][branch][0]
    return branch, service, doctor, _free(cloud, branch, service, doctor, days=6)


def test_reschedule_cancel_restore_and_a_change_of_service(sim):
    """Contract "Desk operations": reschedule (reserve + rebase, same id; another resource at
    the same time), a lost reschedule reply settled by a GET, a change of service (cancel + new
    id), cancel (delete; 404 on a re-send is done), restore (booked again)."""
    running, cloud, clinic = sim
    branch, service, doctor, start = _booked(running, cloud, clinic)
    other_doctor = clinic["resources"][branch][1]

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        customer = _customer(ctx)
        created = await connector.send(_create_op(ctx, service, doctor, start, customer))
        ident = created.booking.cloud_id
        ctx.maps["booking"]["B1"] = ident
        before = _create_op(ctx, service, doctor, start, customer).payload["after"]
        later = _free(cloud, branch, service, doctor, days=7)
        moved = {**before, "startDateTime": later.isoformat().replace("+00:00", "Z")}
        op = Operation(new_id(), "B1", "reschedule", {"before": before, "after": moved})
        cloud.faults.lose_reply(method="PUT", path=f"/external/v1/appointments/{ident}/reschedule")
        with pytest.raises(TransportError):
            await connector.send(op)
        settled = await connector.send(op)  # the GET shows the new start: done
        assert settled.booking.cloud_id == ident and settled.replaces is None
        assert cloud.appointments[ident].start == later
        other = {**moved, "resourceId": f"R-{other_doctor}"}  # another doctor, same time
        swapped = await connector.send(
            Operation(new_id(), "B1", "reschedule", {"before": moved, "after": other})
        )
        assert swapped.booking.cloud_id == ident and cloud.appointments[ident].resource_id == other_doctor
        assert swapped.booking.row["resourceId"] == other_doctor
        vaccine = _service(cloud, "Dental cleaning")
        chair = next(r for r in clinic["resources"][branch] if cloud.resources[r].name == "Dental chair 1")
        dental_at = _free(cloud, branch, vaccine, chair, days=8)
        changed = {
            **other,
            "typeId": f"T-{vaccine}",
            "resourceId": f"R-{chair}",
            "duration": 45,
            "startDateTime": dental_at.isoformat().replace("+00:00", "Z"),
        }
        replaced = await connector.send(
            Operation(new_id(), "B1", "reschedule", {"before": other, "after": changed})
        )
        new_id_ = replaced.booking.cloud_id
        assert replaced.replaces == ident and new_id_ != ident
        assert (
            cloud.appointments[ident].state != CONFIRMED and cloud.appointments[new_id_].service_id == vaccine
        )
        ctx.maps["booking"]["B1"] = new_id_
        cancel = Operation(
            new_id(),
            "B1",
            "cancel",
            {"before": changed, "after": {**changed, "status": "CANCELED", "cancelReason": "called"}},
        )
        assert (await connector.send(cancel)).booking is None
        await connector.send(cancel)  # re-sent after a lost reply: 404 is done
        assert new_id_ not in {r.id for r in cloud.live()}
        restored = await connector.send(
            Operation(
                new_id(),
                "B1",
                "restore",
                {"before": {**changed, "status": "CANCELED"}, "after": changed, "creates": True},
            )
        )
        assert (
            restored.replaces == new_id_ and cloud.appointments[restored.booking.cloud_id].state == CONFIRMED
        )
        await connector.close()

    run(go())


def test_known_customer_pull_brings_new_appointments_and_cloud_cancellations(sim):
    """Contract "Behaviour": Pull — search per known customer; absence confirmed by GET → the
    local booking is cancelled; the gap: customers the desk never booked stay unseen."""
    running, cloud, clinic = sim
    branch, service, doctor, start = _booked(running, cloud, clinic)

    async def go():
        connector, ctx = await _connected(running, cloud, clinic)
        customer = _customer(ctx)
        created = await connector.send(_create_op(ctx, service, doctor, start, customer))
        ident, pid = created.booking.cloud_id, created.booking.row["customerId"]
        ctx.maps["booking"]["B1"], ctx.maps["customer"][customer] = ident, pid
        ctx.held = [
            {
                "cloudId": ident,
                "localId": "B1",
                "customer": pid,
                "localCustomer": customer,
                "startDateTime": created.booking.row["startDateTime"],
                "status": "CONFIRMED",
            }
        ]
        online_at = _free(cloud, branch, service, doctor, days=9)
        online = cloud.online_booking(
            service,
            branch,
            online_at,
            {
                "personalIdentifier": pid,
                "firstName": "Mona",
                "lastName": "Saleh",
                "email": "mona@example.com",
            },
            resource_id=doctor,
        )
        stranger = cloud.online_booking(
            service,
            branch,
            _free(cloud, branch, service, doctor, days=10),
            {"personalIdentifier": "f" * 32, "firstName": "Nour", "lastName": "Z", "email": "n@z.c"},
        )
        pages = [p async for p in connector.pull(None, full=True)]
        seen = {b.cloud_id: b for p in pages for b in p.bookings}
        assert set(seen) == {ident, online.id} and stranger.id not in seen
        assert seen[online.id].row["createdAt"] and seen[online.id].customer["id"] == pid
        assert pages[-1].cursor["searched"][pid]
        quiet = [p async for p in connector.pull(pages[-1].cursor, full=False)]  # searched a moment ago
        assert [b for p in quiet for b in p.bookings] == []
        cloud.customer_cancel(ident)
        ctx.pull_asked = True  # staff pressed "Sync now"
        pages = [p async for p in connector.pull(pages[-1].cursor, full=True)]
        cancelled = {b.cloud_id: b.row for p in pages for b in p.bookings}[ident]
        assert cancelled == {"id": ident, "status": "CANCELED"}
        found = await connector.find_sent(
            Operation(
                new_id(),
                "B2",
                "create",
                {
                    "after": {
                        "customerId": customer,
                        "typeId": f"T-{service}",
                        "startDateTime": online_at.isoformat().replace("+00:00", "Z"),
                    }
                },
                requested_at=datetime.now(UTC).isoformat(),
            )
        )
        assert [b.cloud_id for b in found] == [online.id]
        await connector.close()

    run(go())


# ---- a real branch server process: kill -9 between reserve and confirm --------------------


@pytest.fixture
def qmatic_branch(tmp_path):
    from tests.clouds.conformance.branch import Branch
    from tests.clouds.conformance.harness import QmaticHarness

    harness = QmaticHarness()
    with harness.started():
        branch = Branch(harness, tmp_path / "branch").start()
        try:
            branch.settle()
            harness.mark()
            yield harness, branch
        finally:
            branch.stop()


def _desk_booking(harness, branch, n: int = 0, customer: str | None = None, nth: int = 0):
    from tests.clouds.conformance.checks import Desk, free_slot

    desk = Desk(branch, harness.desk_pick(n))
    day, time_ = free_slot(branch, harness, desk, day_index=1, nth=nth)
    return branch.book(desk.type, day, time_, desk.resource, customer or desk.customer)


def _desk_appointments(harness) -> list:
    with harness.cloud.lock:
        return [
            r
            for r in harness.cloud.appointments.values()
            if r.source == "api" and r.id not in harness.initial
        ]


def _outbox_steps(branch) -> list[str]:
    """The JSON step state of each waiting operation, read from the branch's database."""
    import sqlite3

    from tests.clouds.conformance.branch import DB_NAME

    try:
        with sqlite3.connect(f"file:{branch.data_dir / DB_NAME}?mode=ro", uri=True, timeout=1) as conn:
            return [r[0] or "" for r in conn.execute("select steps from sync_outbox")]
    except sqlite3.Error:
        return []


def _outbox_errors(branch) -> list[str]:
    """The ``lastError`` of each waiting operation, read from the branch's database."""
    import sqlite3

    from tests.clouds.conformance.branch import DB_NAME

    try:
        with sqlite3.connect(f"file:{branch.data_dir / DB_NAME}?mode=ro", uri=True, timeout=1) as conn:
            return [r[0] or "" for r in conn.execute("select lastError from sync_outbox")]
    except sqlite3.Error:
        return []


@pytest.mark.parametrize("restart", ["within the hold", "after the hold"])
def test_kill_9_between_reserve_and_confirm(qmatic_branch, restart):
    """Contract "Behaviour": Hold — a crash after the reserve is committed: restarted within
    the hold the stored reservation is confirmed; after it, the slot is reserved again; one
    appointment in the end either way."""
    harness, branch = qmatic_branch
    faults = harness.cloud.faults  # the cloud's own: clearing them leaves the holds alone
    faults.drop(count=None, method="PUT", path="/external/v1/reservations/")  # no confirm arrives
    booking = _desk_booking(harness, branch)
    held = branch.wait_for(
        lambda: [r for r in _desk_appointments(harness) if r.state == RESERVED],
        what="the reserve in the cloud",
    )
    # the branch has committed the reservation's reply (its step state) before the crash; a
    # crash before that is the lost-reply case of the next test
    branch.wait_for(
        lambda: any(held[0].id in s for s in _outbox_steps(branch)), what="the reserve's reply kept"
    )
    branch.kill()
    faults.clear()
    if restart == "after the hold":
        harness.cloud.clock.shift(timedelta(minutes=16))
    done = branch.sync_once()
    assert done.returncode == 0, done.stdout + done.stderr
    confirmed = [r for r in _desk_appointments(harness) if r.state == CONFIRMED]
    assert len(confirmed) == 1
    assert (confirmed[0].id == held[0].id) == (restart == "within the hold")
    if restart == "after the hold":
        assert harness.cloud.appointments[held[0].id].state == EXPIRED
    branch.start()
    assert branch.cloud_id(booking["id"]) == confirmed[0].id
    assert branch.status()["pending"] == 0 and branch.status()["needsAttention"] == 0


def test_a_lost_reserve_reply_leaves_one_appointment_once_the_orphan_expires(qmatic_branch):
    """Contract "Behaviour": lost reply on reserve — the re-sent reserve meets the orphaned
    hold (409) and is retried, not refused, until the orphan expires by itself."""
    harness, branch = qmatic_branch
    harness.cloud.faults.lose_reply(method="POST", path="/external/v1/reservations")
    booking = _desk_booking(harness, branch, n=1)
    branch.wait_for(
        lambda: any("held" in e for e in _outbox_errors(branch)), what="the re-sent reserve met the orphan"
    )
    assert branch.status()["needsAttention"] == 0 and branch.status()["pending"] == 1  # kept, not refused
    harness.cloud.clock.shift(timedelta(minutes=16))  # the orphan's 15 minutes are over
    status = branch.settle()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    made = _desk_appointments(harness)
    assert sorted(r.state for r in made) == [CONFIRMED, EXPIRED]
    assert branch.cloud_id(booking["id"]) == next(r.id for r in made if r.state == CONFIRMED)


def test_a_customer_qmatic_cannot_take_stays_on_the_desk_and_needs_attention(qmatic_branch):
    """Contract "Behaviour": customer data — not sent, not rejected: needs-attention names it."""
    harness, branch = qmatic_branch
    customer = branch.call(
        "POST", "/management/customers", {"firstName": "Nour", "lastName": "Zaid", "phone": "+966501110099"}
    )
    booking = _desk_booking(harness, branch, customer=customer["id"], nth=2)
    status = branch.settle()
    assert status["pending"] == 0 and status["needsAttention"] == 1, status
    case = branch.attention()[0]
    assert case["bookingId"] == booking["id"] and case["code"] == "QMATIC-CUSTOMER-INCOMPLETE"
    assert "email" in case["message"]
    assert branch.booking(booking["id"])["status"] == "CONFIRMED"  # still the desk's booking
    assert not _desk_appointments(harness)  # nothing reserved in Qmatic
    assert status["customerRequires"] == ["firstName", "lastName", "email"] and status["pullGap"]
    # the receptionist adds the e-mail on the customer's card and re-applies the case: it goes out
    branch.call("PATCH", f"/management/customers/{customer['id']}", {"email": "nour@example.com"})
    branch.call("POST", f"/sync/attention/{case['id']}/resolve", {"resolution": "reapply"})
    status = branch.settle()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    made = _desk_appointments(harness)
    assert len(made) == 1 and branch.cloud_id(booking["id"]) == made[0].id
