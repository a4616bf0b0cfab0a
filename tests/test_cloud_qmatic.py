"""The simulated Qmatic cloud over real HTTP on 127.0.0.1 (``tests/clouds/qmatic``).

Each test names the Qmatic API reference or the contract
(``docs/clouds/qmatic.md``) section whose rule it checks.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.clouds.qmatic import (
    BASE,
    CONFIRMED,
    EXPIRED,
    RESERVED,
    Clock,
    QmaticCloud,
    customer_of,
    generate_clinic,
    start_cloud,
)
from tests.clouds.qmatic.app import ROUTES
from tests.clouds.qmatic.clinic import WEEK

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Riyadh
HOLD = timedelta(minutes=15)  # API reference "Create a new Reservation"
REASON = {"required": True, "questionText": "Reason for the visit", "clarificationText": "for the doctor"}
ALLERGIES = {"required": False, "questionText": "Known allergies", "clarificationText": ""}
HUDA = {
    "personalIdentifier": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "firstName": "Huda",
    "lastName": "Saleh",
    "email": "huda@example.com",
    "phoneNumber": "966501234567",
}
OMAR = {
    "personalIdentifier": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "firstName": "Omar",
    "lastName": "Nasser",
    "email": "omar@example.com",
}


def build(**options) -> tuple[QmaticCloud, dict]:
    cloud = QmaticCloud(tenant="istiqbal-test", clock=Clock(NOW), **options)
    riyadh = cloud.add_branch(
        "Riyadh clinic",
        "Asia/Riyadh",
        hours=WEEK,
        address={
            "streetName": "King Fahd Road",
            "zipCode": "12271",
            "city": "Riyadh",
            "country": "Saudi Arabia",
        },
        location={"longitude": 46.7, "latitude": 24.7},
    )
    jeddah = cloud.add_branch("Jeddah clinic", "Asia/Riyadh", hours=WEEK)
    sara, omar = cloud.add_resource(riyadh.id, "Dr. Sara"), cloud.add_resource(riyadh.id, "Dr. Omar")
    lina = cloud.add_resource(jeddah.id, "Dr. Lina")
    consult = cloud.add_service(
        {"en_US": "Consultation", "fr_FR": "Consultation générale"}, 30, questions=[REASON, ALLERGIES]
    )
    follow = cloud.add_service({"en_US": "Follow-up", "de_DE": "Nachkontrolle"}, 15)
    vaccine = cloud.add_service("Vaccination", 20, max_reservations=3)
    dental = cloud.add_service("Dental cleaning", 45, online_bookable=False)
    cloud.offer(consult.id, riyadh.id, resources=[sara.id, omar.id], selection_required=True)
    cloud.offer(consult.id, jeddah.id, resources=[lina.id], selection_required=True)
    cloud.offer(follow.id, riyadh.id, resources=[sara.id, omar.id])
    cloud.offer(vaccine.id, riyadh.id, pool=1)
    cloud.offer(dental.id, riyadh.id, resources=[omar.id])
    group = cloud.add_group(
        {"en_US": "General medicine", "fr_FR": "Médecine générale"}, [consult.id, follow.id]
    )
    ids = {
        "riyadh": riyadh.id,
        "jeddah": jeddah.id,
        "sara": sara.id,
        "omar": omar.id,
        "lina": lina.id,
        "consult": consult.id,
        "follow": follow.id,
        "vaccine": vaccine.id,
        "dental": dental.id,
        "group": group.id,
    }
    return cloud, ids


@pytest.fixture
def sim():
    cloud, ids = build()
    with start_cloud(cloud) as running:
        running.ids = ids
        yield running


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.url, headers=sim.headers, timeout=5) as client:
        yield client


def slot(local: str, minutes: int) -> dict:
    """A time slot from a Riyadh local ``YYYY-MM-DDTHH:MM``."""
    start = datetime.fromisoformat(local + ":00+03:00")
    return {"startTime": start.isoformat(), "endTime": (start + timedelta(minutes=minutes)).isoformat()}


def reserve(
    sim,
    http,
    local: str,
    service: str = "consult",
    resource: str | None = "sara",
    branch: str = "riyadh",
    **extra,
) -> httpx.Response:
    minutes = sim.cloud.services[sim.ids[service]].minutes
    body = {
        "serviceId": sim.ids[service],
        "branchId": sim.ids[branch],
        "timeSlot": slot(local, minutes),
        "numberOfReservations": 1,
        **extra,
    }
    if resource:
        body["requestedResourceId"] = sim.ids[resource]
    return http.post("/reservations", json=body)


def answers(text: str = "Back pain") -> list[dict]:
    return [{"questionText": "Reason for the visit", "answer": [text]}]


def book(sim, http, local: str, customer: dict = HUDA, **kw) -> dict:
    made = reserve(sim, http, local, **kw)
    assert made.status_code == 201, made.text
    questions = answers() if kw.get("service", "consult") == "consult" else []
    confirmed = http.put(
        f"/reservations/{made.json()['appointmentId']}",
        json={"customer": customer, "informationQuestions": questions},
    )
    assert confirmed.status_code == 201, confirmed.text
    return confirmed.json()


def starts(http, sim, service: str = "consult", **params) -> list[str]:
    reply = http.get(
        f"/services/{sim.ids[service]}/timeslots", params={"branchId": sim.ids["riyadh"], **params}
    )
    assert reply.status_code == 200, reply.text
    return [s["startTime"] for s in reply.json()]


def shift(sim, delta: timedelta) -> None:
    assert (
        httpx.post(
            sim.root + "/_sim/clock", json={"shiftSeconds": delta.total_seconds()}, headers=sim.admin
        ).status_code
        == 200
    )


# ---- transport ------------------------------------------------------------------------------
def test_tenant_header_names_the_tenant(sim, http):
    """API reference (every table): ``X-TENANT-ID`` "must be the same as an existing system Id";
    contract "Errors": 401/403 for an unknown tenant, body with ``message`` and ``code``."""
    assert http.get("/services").status_code == 200
    for headers in (
        {"X-TENANT-ID": "someone-else", "Accept-Language": "en_US"},
        {"Accept-Language": "en_US"},
    ):
        refused = httpx.get(sim.url + "/services", headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {"code": "tenant.unknown", "message": refused.json()["message"]}
    assert httpx.post(sim.url + "/reservations", json={}, headers={"X-TENANT-ID": "x"}).status_code == 403
    assert sim.cloud.appointments == {}


def test_accept_language_has_no_arabic(sim, http):
    """API reference "Services": Accept-Language is required and one of en_US, en_UK, fr_FR, nl_NL,
    de_DE, it_IT, ES_es; names come in that language (contract: "There is no Arabic")."""
    bare = httpx.get(sim.url + "/services", headers={"X-TENANT-ID": sim.cloud.tenant})
    assert bare.status_code == 400 and bare.json()["code"] == "language.required"
    for code in ("ar", "ar_SA", "en", "en-US,en;q=0.9"):
        refused = http.get("/services", headers={"Accept-Language": code})
        assert refused.status_code == 400 and refused.json()["code"] == "language.not.supported", code
    names = {r["service"]["name"] for r in http.get("/services", headers={"Accept-Language": "fr_FR"}).json()}
    assert "Consultation générale" in names and "Follow-up" in names  # no French name: en_US
    german = http.get("/services/groups", headers={"Accept-Language": "de_DE"}).json()
    assert german["serviceGroups"][0]["services"][1]["name"] == "Nachkontrolle"
    assert (
        http.get("/services", headers={"Accept-Language": "es_ES"}).status_code == 200
    )  # the API reference's ES_es
    body = {
        "serviceId": sim.ids["follow"],
        "branchId": sim.ids["riyadh"],
        "timeSlot": slot("2026-12-08T10:00", 15),
    }
    arabic = http.post("/reservations", json=body, headers={"Accept-Language": "ar_SA"})
    assert arabic.status_code == 400 and sim.cloud.appointments == {}
    no_language = {
        "X-TENANT-ID": sim.cloud.tenant
    }  # not required on reserve (API reference: not in its table)
    made = httpx.post(sim.url + "/reservations", json=body, headers=no_language)
    assert made.status_code == 201 and made.json()["service"]["name"] == "Follow-up"
    german = httpx.get(
        sim.url + f"/appointments/{made.json()['appointmentId']}",
        headers={**no_language, "Accept-Language": "de_DE"},
    )
    assert german.json()["service"]["name"] == "Nachkontrolle"


def test_language_limited_to_the_tenants_localization():
    """API reference: "The system will support languages depending on Tenant Localization settings"."""
    cloud, _ = build(languages=("en_US", "fr_FR"))
    with start_cloud(cloud) as running, httpx.Client(base_url=running.url, headers=running.headers) as http:
        assert http.get("/services", headers={"Accept-Language": "fr_FR"}).status_code == 200
        assert http.get("/services", headers={"Accept-Language": "de_DE"}).status_code == 400


def test_configured_authorization_is_required_on_every_call():
    """Contract "Transport": a configured ``Authorization`` is sent on every call; without
    it (or a wrong one) the call is refused 401."""
    cloud, ids = build(authorization="Bearer gateway-key")
    with start_cloud(cloud) as running:
        assert running.headers["Authorization"] == "Bearer gateway-key"
        ok = httpx.get(running.url + "/services", headers=running.headers)
        assert ok.status_code == 200
        for auth in (None, "Bearer other"):
            headers = {k: v for k, v in running.headers.items() if k != "Authorization"}
            if auth:
                headers["Authorization"] = auth
            refused = httpx.get(
                running.url + f"/services/{ids['consult']}/timeslots",
                params={"branchId": ids["riyadh"]},
                headers=headers,
            )
            assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"


def test_without_configured_authorization_none_is_needed(sim):
    """Contract "Transport": the API reference names no credential."""
    assert "Authorization" not in sim.headers
    assert httpx.get(sim.url + "/services", headers=sim.headers).status_code == 200


def test_imports_nothing_from_the_desk():
    """The simulated cloud is written from the API reference and the contract alone: no module of it
    imports the desk's ``app`` package."""
    folder = Path(__file__).parent / "clouds" / "qmatic"
    for source in folder.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            )
            assert not any(n == "app" or n.startswith("app.") for n in names), (source.name, names)


def test_offers_only_the_contracts_operations(sim, http):
    """Contract "Operations" is the whole API: no calendar listing, queue or check-in
    ("Desk operations on Qmatic": none)."""
    table = {(r.method, r.path.removeprefix(BASE)) for r in ROUTES}
    assert table == {
        ("GET", "/services"),
        ("GET", "/services/groups"),
        ("GET", "/services/{serviceId}"),
        ("GET", "/services/{serviceId}/timeslots"),
        ("POST", "/reservations"),
        ("PUT", "/reservations/{reservationId}"),
        ("DELETE", "/reservations/reservations/{appointmentId}"),
        ("POST", "/appointments/search"),
        ("GET", "/appointments/{appointmentId}"),
        ("PUT", "/appointments/{appointmentId}/reschedule"),
        ("DELETE", "/appointments/{appointmentId}"),
        ("PUT", "/appointments/{appointmentId}/customer"),
    }
    for method, path in (
        ("GET", "/appointments"),
        ("GET", "/branches"),
        ("GET", "/queues"),
        ("POST", "/appointments/x/checkin"),
        ("GET", "/customers"),
    ):
        assert http.request(method, path).status_code in (404, 405), path


# ---- reference data -------------------------------------------------------------------------
def test_services_rows_carry_branch_resources_and_questions(sim, http):
    """API reference "Services": one row per branch and service, with ``resourceSelection`` (a
    virtual pool: ``required false``, no resources), questions and ``onlineBookable``."""
    rows = http.get("/services").json()
    by = {(r["branch"]["id"], r["service"]["id"]): r for r in rows}
    assert len(rows) == 5
    consult = by[(sim.ids["riyadh"], sim.ids["consult"])]
    assert (
        consult["branch"]["address"]["city"] == "Riyadh" and consult["branch"]["location"]["latitude"] == 24.7
    )
    assert consult["resourceSelection"] == {
        "required": True,
        "availableResources": [
            {"id": sim.ids["sara"], "name": "Dr. Sara"},
            {"id": sim.ids["omar"], "name": "Dr. Omar"},
        ],
    }
    assert [q["required"] for q in consult["informationQuestions"]] == [True, False]
    assert consult["service"]["config"] == {"maxNumberOfReservations": 1, "onlineBookable": True}
    assert by[(sim.ids["riyadh"], sim.ids["vaccine"])]["resourceSelection"] == {
        "required": False,
        "availableResources": [],
    }
    assert by[(sim.ids["riyadh"], sim.ids["dental"])]["service"]["config"]["onlineBookable"] is False
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", sim.ids["consult"])


def test_groups_and_branches_of_a_service(sim, http):
    """API reference "Service Groups" (``services`` and ``serviceGroups``) and "Branches"
    (``GET /services/{serviceId}``: the branches with their resources)."""
    groups = http.get("/services/groups").json()
    assert [g["name"] for g in groups["serviceGroups"]] == ["General medicine"]
    assert [s["id"] for s in groups["serviceGroups"][0]["services"]] == [
        sim.ids["consult"],
        sim.ids["follow"],
    ]
    assert {s["id"] for s in groups["services"]} == {sim.ids["vaccine"], sim.ids["dental"]}
    assert set(groups["services"][0]) == {"id", "name", "index", "externalDescription", "onlineBookable"}
    branches = http.get(f"/services/{sim.ids['consult']}").json()
    assert [
        (b["branch"]["id"], [r["id"] for r in b["resourceSelection"]["availableResources"]]) for b in branches
    ] == [(sim.ids["riyadh"], [sim.ids["sara"], sim.ids["omar"]]), (sim.ids["jeddah"], [sim.ids["lina"]])]
    missing = http.get("/services/3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert missing.status_code == 404 and missing.json()["code"] == "service.not.found"


def test_groups_endpoint_needs_groups_configured():
    """API reference "Service Groups": "valid only in case if service groups are configured"."""
    cloud = QmaticCloud(tenant="t1", clock=Clock(NOW))
    with start_cloud(cloud) as running:
        reply = httpx.get(running.url + "/services/groups", headers=running.headers)
        assert reply.status_code == 404 and reply.json()["code"] == "service.groups.not.configured"


# ---- time slots -----------------------------------------------------------------------------
def test_time_slots_are_consecutive_service_lengths_over_the_horizon(sim, http):
    """API reference "Timeslots": "8am-9am, 9am-10am etc." for the service's length; contract
    "Bodies": a bare array of ``{startTime, endTime}`` with an offset, over the horizon."""
    reply = http.get(
        f"/services/{sim.ids['consult']}/timeslots",
        params={"branchId": sim.ids["riyadh"], "numberOfReservations": 1},
    ).json()
    assert reply[0] == {"startTime": "2026-12-07T09:00:00+03:00", "endTime": "2026-12-07T09:30:00+03:00"}
    assert reply[1]["startTime"] == "2026-12-07T09:30:00+03:00"
    days = {s["startTime"][:10] for s in reply}
    assert "2026-12-11" not in days  # a Friday: closed
    assert "2026-12-12" in days  # Saturday 09:00-14:00
    assert max(days) == "2027-01-06"  # today + 30
    saturday = [s["startTime"][11:16] for s in reply if s["startTime"].startswith("2026-12-12")]
    assert saturday[0] == "09:00" and saturday[-1] == "13:30" and len(saturday) == 10
    follow = starts(http, sim, "follow")
    assert follow[:3] == [
        "2026-12-07T09:00:00+03:00",
        "2026-12-07T09:15:00+03:00",
        "2026-12-07T09:30:00+03:00",
    ]


def test_time_slot_query_is_checked(sim, http):
    """API reference "Timeslots": ``branchId`` required; ``requestedResourceId`` a resource of the
    service; ``numberOfReservations`` 1 by default, at most ``maxNumberOfReservations``."""
    url = f"/services/{sim.ids['vaccine']}/timeslots"
    assert http.get(url).status_code == 400
    assert http.get(url, params={"branchId": sim.ids["jeddah"]}).json()["code"] == "service.not.offered"
    assert http.get(url, params={"branchId": sim.ids["riyadh"], "numberOfReservations": 3}).status_code == 200
    assert http.get(url, params={"branchId": sim.ids["riyadh"], "numberOfReservations": 4}).status_code == 400
    assert (
        http.get(
            f"/services/{sim.ids['consult']}/timeslots",
            params={"branchId": sim.ids["riyadh"], "requestedResourceId": sim.ids["lina"]},
        ).status_code
        == 400
    )
    assert http.get("/services/nope/timeslots", params={"branchId": sim.ids["riyadh"]}).status_code == 404


def test_a_resource_serves_one_appointment_at_a_time_across_services(sim, http):
    """API reference "Timeslots": availability from the resources: Sara booked for a follow-up at
    09:00 is not free for a consultation at 09:00; Omar still is."""
    book(sim, http, "2026-12-07T09:00", service="follow", resource="sara")
    assert "2026-12-07T09:00:00+03:00" not in starts(http, sim, requestedResourceId=sim.ids["sara"])
    assert "2026-12-07T09:00:00+03:00" in starts(http, sim, requestedResourceId=sim.ids["omar"])
    assert "2026-12-07T09:00:00+03:00" in starts(http, sim)  # some resource is free
    book(sim, http, "2026-12-07T09:00", resource="omar", customer=OMAR)
    assert "2026-12-07T09:00:00+03:00" not in starts(http, sim)


# ---- reserve, hold, confirm -----------------------------------------------------------------
def test_reserve_holds_the_slot_for_15_minutes_of_the_cloud_clock(sim, http):
    """API reference "Create a new Reservation": "If the reservation is not confirmed the timeslot will
    become available in 15 minutes"; contract "Behaviour": after the hold, 404 on confirm."""
    made = reserve(sim, http, "2026-12-08T10:00")
    assert made.status_code == 201
    body = made.json()
    assert body["status"] == RESERVED and "customer" not in body
    assert body["resource"] == {"id": sim.ids["sara"], "name": "Dr. Sara"}
    assert body["timeSlot"] == slot("2026-12-08T10:00", 30)
    held = body["appointmentId"]
    sara = {"requestedResourceId": sim.ids["sara"]}
    assert "2026-12-08T10:00:00+03:00" not in starts(http, sim, **sara)
    again = reserve(sim, http, "2026-12-08T10:00")
    assert again.status_code == 409 and again.json()["code"] == "timeslot.not.available"
    assert http.get(f"/appointments/{held}").json()["status"] == RESERVED
    shift(sim, HOLD - timedelta(seconds=1))
    assert http.get(f"/appointments/{held}").status_code == 200
    shift(sim, timedelta(seconds=1))
    assert http.get(f"/appointments/{held}").status_code == 404
    late = http.put(f"/reservations/{held}", json={"customer": HUDA, "informationQuestions": answers()})
    assert late.status_code == 404 and late.json()["code"] == "appointment.not.found"
    assert sim.cloud.appointments[held].state == EXPIRED
    assert "2026-12-08T10:00:00+03:00" in starts(http, sim, **sara)
    assert reserve(sim, http, "2026-12-08T10:00").status_code == 201


def test_confirm_within_the_hold_books_the_customer(sim, http):
    """API reference "Confirm a reservation": 201 "Appointment confirmed"; contract "Objects": the
    appointment with its customer; GET and search find it."""
    made = reserve(sim, http, "2026-12-08T10:00", notes="First visit").json()
    shift(sim, timedelta(minutes=14))
    confirmed = http.put(
        f"/reservations/{made['appointmentId']}", json={"customer": HUDA, "informationQuestions": answers()}
    )
    assert confirmed.status_code == 201
    body = confirmed.json()
    assert body["status"] == CONFIRMED and body["appointmentId"] == made["appointmentId"]
    assert body["customer"] == {
        "firstName": "Huda",
        "lastName": "Saleh",
        "phoneNumber": "966501234567",
        "email": "huda@example.com",
        "dateOfBirth": None,
    }
    assert body["service"] == {
        "id": sim.ids["consult"],
        "name": "Consultation",
        "config": {"maxNumberOfReservations": 1},
    }
    assert body["notes"] == "First visit" and body["numberOfReservations"] == 1
    shift(sim, timedelta(hours=1))  # confirmed: no hold expires it
    assert http.get(f"/appointments/{made['appointmentId']}").json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"firstName": None}, "firstName"),
        ({"lastName": "  "}, "lastName"),
        ({"email": ""}, "email"),
        ({"firstName": "x" * 256}, "firstName"),
        ({"personalIdentifier": "short1234"}, "personalIdentifier"),
        ({"personalIdentifier": "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90"}, "personalIdentifier"),
        ({"personalIdentifier": "a" * 49}, "personalIdentifier"),
        ({"phoneNumber": "+966501234567"}, "phoneNumber"),
        ({"phoneNumber": "0501 234"}, "phoneNumber"),
        ({"dateOfBirth": "01/02/2000"}, "dateOfBirth"),
        ({"dateOfBirth": "2030-01-01"}, "dateOfBirth"),
    ],
)
def test_confirm_refuses_an_invalid_customer_and_keeps_the_hold(sim, http, change, field):
    """API reference "Confirm a reservation": personalIdentifier 10-48 characters of A-Za-z0-9;
    firstName, lastName max 255 and required; email required; phoneNumber an integer;
    dateOfBirth like "2000-01-01". The reservation stays held after a refusal."""
    made = reserve(sim, http, "2026-12-08T10:00").json()
    customer = {**HUDA, **change}
    refused = http.put(
        f"/reservations/{made['appointmentId']}",
        json={"customer": customer, "informationQuestions": answers()},
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "validation.error" and f"customer.{field}" in refused.json()["message"]
    assert http.get(f"/appointments/{made['appointmentId']}").json()["status"] == RESERVED
    assert (
        http.put(
            f"/reservations/{made['appointmentId']}",
            json={"customer": HUDA, "informationQuestions": answers()},
        ).status_code
        == 201
    )


def test_confirm_needs_the_required_answers(sim, http):
    """API reference "Confirm a reservation": informationQuestions "yes/no (depends on configs)": the
    ``required`` flags of ``GET /services``; answers at most 2048."""
    made = reserve(sim, http, "2026-12-08T10:00").json()
    url = f"/reservations/{made['appointmentId']}"
    for questions in (
        None,
        [],
        answers("   "),
        [{"questionText": "Known allergies", "answer": ["none"]}],
        [{"questionText": "Favourite colour", "answer": ["red"]}],
        answers("x" * 2049),
    ):
        body = {"customer": HUDA} | ({} if questions is None else {"informationQuestions": questions})
        refused = http.put(url, json=body)
        assert refused.status_code == 400 and "informationQuestions" in refused.json()["message"], questions
    assert http.put(url, json={"customer": HUDA, "informationQuestions": answers()}).status_code == 201
    follow = reserve(sim, http, "2026-12-08T10:00", service="follow", resource="omar").json()  # no questions
    assert http.put(f"/reservations/{follow['appointmentId']}", json={"customer": OMAR}).status_code == 201


def test_phone_number_as_integer_or_digits(sim, http):
    """API reference: ``phoneNumber`` integer; contract "Bodies": sent as a string of digits, the
    simulated cloud accepts both, and gives it back as sent."""
    first = book(sim, http, "2026-12-08T10:00", customer={**HUDA, "phoneNumber": 966501234567})
    assert first["customer"]["phoneNumber"] == 966501234567
    second = book(sim, http, "2026-12-08T10:30", customer={**HUDA, "phoneNumber": "0501234567"})
    assert second["customer"]["phoneNumber"] == "0501234567"


def test_date_of_birth_required_by_the_tenant():
    """API reference "Confirm a reservation": dateOfBirth "yes/no (depends on configs)"."""
    cloud, ids = build(date_of_birth_required=True)
    with start_cloud(cloud) as running, httpx.Client(base_url=running.url, headers=running.headers) as http:
        running.ids = ids
        made = reserve(running, http, "2026-12-08T10:00").json()
        url = f"/reservations/{made['appointmentId']}"
        refused = http.put(url, json={"customer": HUDA, "informationQuestions": answers()})
        assert refused.status_code == 400 and "dateOfBirth" in refused.json()["message"]
        assert (
            http.put(
                url,
                json={"customer": {**HUDA, "dateOfBirth": "1990-05-01"}, "informationQuestions": answers()},
            ).json()["customer"]["dateOfBirth"]
            == "1990-05-01"
        )


def test_a_second_confirm_changes_nothing(sim, http):
    """Contract "Lost reply on confirm": "A second confirm may answer 2xx or 4xx"; it does
    not touch the appointment (here 409)."""
    booked = book(sim, http, "2026-12-08T10:00")
    again = http.put(f"/reservations/{booked['appointmentId']}", json={"customer": OMAR})
    assert again.status_code == 409 and again.json()["code"] == "appointment.already.confirmed"
    assert http.get(f"/appointments/{booked['appointmentId']}").json()["customer"]["firstName"] == "Huda"


def test_reserve_checks_the_slot_and_body(sim, http):
    """API reference "Create a new Reservation": serviceId, branchId, timeSlot required; a slot of the
    service's own grid (API reference "Timeslots"); contract: 400 validation, 409 slot taken."""
    cases = [
        ({"resource": "sara", "local": "2026-12-08T10:10"}, "timeslot.not.valid"),  # off the grid
        ({"resource": "sara", "local": "2026-12-07T08:30"}, "timeslot.not.valid"),  # before now
        ({"resource": "sara", "local": "2026-12-11T10:00"}, "timeslot.not.valid"),  # Friday: closed
        ({"resource": "sara", "local": "2027-01-08T10:00"}, "timeslot.not.valid"),  # beyond 30 days
        ({"resource": None, "local": "2026-12-08T10:00"}, "resource.required"),
        ({"resource": "lina", "local": "2026-12-08T10:00"}, "resource.not.found"),
    ]
    for kw, code in cases:
        refused = reserve(sim, http, kw["local"], resource=kw["resource"])
        assert refused.status_code == 400 and refused.json()["code"] == code, (kw, refused.text)
    wrong_end = {
        "serviceId": sim.ids["follow"],
        "branchId": sim.ids["riyadh"],
        "timeSlot": slot("2026-12-08T10:00", 30),
    }
    assert http.post("/reservations", json=wrong_end).json()["code"] == "timeslot.not.valid"
    naive = {**wrong_end, "timeSlot": {"startTime": "2026-12-08T10:00:00", "endTime": "2026-12-08T10:15:00"}}
    assert http.post("/reservations", json=naive).status_code == 400
    assert http.post("/reservations", json={"branchId": sim.ids["riyadh"]}).status_code == 400
    assert (
        reserve(
            sim, http, "2026-12-08T10:00", service="vaccine", resource=None, numberOfReservations=4
        ).status_code
        == 400
    )
    assert sim.cloud.appointments == {}


def test_the_cloud_picks_a_resource_when_none_is_required(sim, http):
    """API reference "Services": ``resourceSelection.required false``: the cloud serves it with a
    free resource; a virtual pool has no named resource."""
    first = reserve(sim, http, "2026-12-08T10:00", service="follow", resource=None).json()
    second = reserve(sim, http, "2026-12-08T10:00", service="follow", resource=None).json()
    assert {first["resource"]["id"], second["resource"]["id"]} == {sim.ids["sara"], sim.ids["omar"]}
    assert reserve(sim, http, "2026-12-08T10:00", service="follow", resource=None).status_code == 409
    pooled = reserve(sim, http, "2026-12-08T10:00", service="vaccine", resource=None)
    assert pooled.status_code == 201 and "resource" not in pooled.json()
    assert (
        reserve(sim, http, "2026-12-08T10:00", service="vaccine", resource=None).status_code == 409
    )  # pool of 1


def test_staff_only_service_can_be_booked_by_the_desk(sim, http):
    """API reference "Services": ``onlineBookable: false`` "can be used only for internal bookings";
    contract: "the desk may still book it"."""
    booked = book(sim, http, "2026-12-08T11:00", service="dental", resource="omar")  # 08:00 + 4 × 45 min
    assert booked["service"]["id"] == sim.ids["dental"]


# ---- release, get, search, reschedule, delete -------------------------------------------------
def test_release_frees_the_slot_at_once(sim, http):
    """Contract "Behaviour": an abandoned reservation is released at once; release works
    only until the appointment is CONFIRMED, then cancel."""
    made = reserve(sim, http, "2026-12-08T10:00").json()
    gone = http.delete(f"/reservations/reservations/{made['appointmentId']}")
    assert gone.status_code == 204 and gone.content == b""
    assert "2026-12-08T10:00:00+03:00" in starts(http, sim, requestedResourceId=sim.ids["sara"])
    assert http.get(f"/appointments/{made['appointmentId']}").status_code == 404
    assert http.delete(f"/reservations/reservations/{made['appointmentId']}").status_code == 404
    booked = book(sim, http, "2026-12-08T10:00")
    refused = http.delete(f"/reservations/reservations/{booked['appointmentId']}")
    assert refused.status_code == 409 and refused.json()["code"] == "appointment.confirmed"
    assert http.get(f"/appointments/{booked['appointmentId']}").json()["status"] == CONFIRMED


def test_search_finds_a_known_customers_appointments(sim, http):
    """Contract "Operations" (public page): ``POST /appointments/search`` by
    ``personalIdentifier``: every confirmed appointment of that customer, by start."""
    later = book(sim, http, "2026-12-09T11:00")
    sooner = book(sim, http, "2026-12-08T10:00", branch="jeddah", resource="lina")
    book(sim, http, "2026-12-08T10:00", customer=OMAR)
    reserve(sim, http, "2026-12-08T12:00")  # held only: no customer yet
    found = http.post(
        "/appointments/search", json={"customer": {"personalIdentifier": HUDA["personalIdentifier"]}}
    )
    assert found.status_code == 200
    assert [a["appointmentId"] for a in found.json()] == [sooner["appointmentId"], later["appointmentId"]]
    assert found.json()[0]["branch"]["id"] == sim.ids["jeddah"]
    assert http.post("/appointments/search", json={"customer": {"personalIdentifier": "z" * 20}}).json() == []
    assert (
        http.post("/appointments/search", json={"customer": {"personalIdentifier": "bad-id"}}).status_code
        == 400
    )
    assert http.post("/appointments/search", json={}).status_code == 400


def test_reschedule_rebases_onto_a_new_reservation_keeping_the_id(sim, http):
    """Contract "Behaviour" → Reschedule: reserve a new slot, then rebase the appointment on
    it; the service never changes; the appointment keeps its id (inferred)."""
    booked = book(sim, http, "2026-12-08T10:00")
    new = reserve(sim, http, "2026-12-09T11:30", resource="omar").json()
    moved = http.put(
        f"/appointments/{booked['appointmentId']}/reschedule", json={"reservationId": new["appointmentId"]}
    )
    assert moved.status_code == 200
    body = moved.json()
    assert body["appointmentId"] == booked["appointmentId"] and body["status"] == CONFIRMED
    assert body["timeSlot"] == slot("2026-12-09T11:30", 30) and body["resource"]["id"] == sim.ids["omar"]
    assert body["customer"] == booked["customer"]
    assert http.get(f"/appointments/{new['appointmentId']}").status_code == 404  # used up
    assert "2026-12-08T10:00:00+03:00" in starts(http, sim, requestedResourceId=sim.ids["sara"])
    assert "2026-12-09T11:30:00+03:00" not in starts(http, sim, requestedResourceId=sim.ids["omar"])
    resent = http.put(
        f"/appointments/{booked['appointmentId']}/reschedule", json={"reservationId": new["appointmentId"]}
    )
    assert resent.status_code == 404  # a lost reply re-sent: the client GETs and sees the new start
    assert http.get(f"/appointments/{booked['appointmentId']}").json()["timeSlot"] == body["timeSlot"]


def test_change_of_resource_is_a_reschedule_to_the_same_time(sim, http):
    """Contract "Desk operations" → accept / assign: "rescheduling to the same time with
    another resource"."""
    booked = book(sim, http, "2026-12-08T10:00")
    same_time = reserve(sim, http, "2026-12-08T10:00", resource="omar").json()
    moved = http.put(
        f"/appointments/{booked['appointmentId']}/reschedule",
        json={"reservationId": same_time["appointmentId"]},
    ).json()
    assert moved["resource"]["id"] == sim.ids["omar"] and moved["timeSlot"] == booked["timeSlot"]


def test_reschedule_refusals(sim, http):
    """Contract "Reschedule": another service is a cancel plus a new booking (400); an expired
    hold is a 404; only a confirmed appointment moves (409)."""
    booked = book(sim, http, "2026-12-08T10:00")
    url = f"/appointments/{booked['appointmentId']}/reschedule"
    other = reserve(sim, http, "2026-12-09T11:00", service="follow", resource="omar").json()
    assert http.put(url, json={"reservationId": other["appointmentId"]}).json()["code"] == "service.mismatch"
    held = reserve(sim, http, "2026-12-09T12:00").json()
    assert (
        http.put(
            f"/appointments/{held['appointmentId']}/reschedule",
            json={"reservationId": other["appointmentId"]},
        ).status_code
        == 409
    )
    shift(sim, HOLD)
    assert http.put(url, json={"reservationId": held["appointmentId"]}).status_code == 404
    assert http.put(url, json={}).status_code == 400
    assert http.get(f"/appointments/{booked['appointmentId']}").json()["timeSlot"] == booked["timeSlot"]


def test_delete_cancels_and_get_answers_404(sim, http):
    """Contract "Behaviour" → Cancel: ``DELETE`` answers 204; the appointment then disappears
    from search and GET answers 404; a re-sent delete gets 404 ("404 means done")."""
    booked = book(sim, http, "2026-12-08T10:00")
    url = f"/appointments/{booked['appointmentId']}"
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404
    assert (
        http.post(
            "/appointments/search", json={"customer": {"personalIdentifier": HUDA["personalIdentifier"]}}
        ).json()
        == []
    )
    assert http.delete(url).status_code == 404
    assert "2026-12-08T10:00:00+03:00" in starts(http, sim, requestedResourceId=sim.ids["sara"])


def test_update_customer_details(sim, http):
    """API reference "Update customer details on Appointment"; contract: ``PUT .../customer``, body as
    in confirm (checked the same way)."""
    booked = book(sim, http, "2026-12-08T10:00")
    url = f"/appointments/{booked['appointmentId']}/customer"
    assert http.put(url, json={"customer": {**HUDA, "email": ""}}).status_code == 400
    changed = http.put(url, json={"customer": {**HUDA, "lastName": "Saleh-Fahad"}})
    assert changed.status_code == 200 and changed.json()["customer"]["lastName"] == "Saleh-Fahad"
    held = reserve(sim, http, "2026-12-08T11:00").json()
    assert (
        http.put(f"/appointments/{held['appointmentId']}/customer", json={"customer": HUDA}).status_code
        == 409
    )


# ---- faults ---------------------------------------------------------------------------------
def test_lost_reserve_reply_leaves_an_orphan_hold_that_expires(sim, http):
    """Contract "Lost reply on reserve": the re-sent reserve of that same slot gets 409 (the
    orphan); the orphaned hold expires by itself (API reference: 15 minutes)."""
    sim.cloud.faults.lose_reply(method="POST", path=BASE + "/reservations")
    with pytest.raises(httpx.TransportError):
        reserve(sim, http, "2026-12-08T10:00")
    orphan = [r for r in sim.cloud.appointments.values() if r.state == RESERVED]
    assert len(orphan) == 1
    assert reserve(sim, http, "2026-12-08T10:00").status_code == 409
    shift(sim, HOLD)
    again = reserve(sim, http, "2026-12-08T10:00")
    assert again.status_code == 201
    assert [r.id for r in sim.cloud.live()] == [again.json()["appointmentId"]]


def test_lost_confirm_reply_then_get_shows_it_confirmed(sim, http):
    """Contract "Lost reply on confirm": confirm is keyed by the reservation id; the client
    verifies with GET."""
    made = reserve(sim, http, "2026-12-08T10:00").json()
    sim.cloud.faults.lose_reply(method="PUT", path=BASE + "/reservations")
    with pytest.raises(httpx.TransportError):
        http.put(
            f"/reservations/{made['appointmentId']}",
            json={"customer": HUDA, "informationQuestions": answers()},
        )
    assert http.get(f"/appointments/{made['appointmentId']}").json()["status"] == CONFIRMED


def test_faults_fail_rate_limit_drop_and_latency(sim, http):
    """Contract "Errors": 429 with ``Retry-After``, 5xx transient; a dropped connection does
    nothing; latency delays the reply. The admin interface is never faulted."""
    sim.cloud.faults.fail(status=503, method="POST")
    failed = reserve(sim, http, "2026-12-08T10:00")
    assert failed.status_code == 503 and failed.json()["code"] == "server.error"
    sim.cloud.faults.rate_limit(retry_after=7)
    limited = http.get("/services")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["code"] == "rate.limited"
    sim.cloud.faults.drop(method="POST")
    with pytest.raises(httpx.TransportError):
        reserve(sim, http, "2026-12-08T10:00")
    assert sim.cloud.appointments == {}
    sim.cloud.faults.latency(300, path=BASE + "/services")
    sim.cloud.faults.fail(count=1, path="/_sim/")
    with pytest.raises(httpx.ReadTimeout):
        http.get("/services", timeout=0.1)
    assert httpx.get(sim.root + "/_sim/health", headers=sim.admin).status_code == 200
    added = httpx.post(sim.root + "/_sim/faults", json={"kind": "fail", "status": 502}, headers=sim.admin)
    assert added.status_code == 200
    assert http.get(f"/appointments/{'0' * 8}").status_code == 502
    assert reserve(sim, http, "2026-12-08T10:00").status_code == 201


# ---- admin: cloud-side changes ----------------------------------------------------------------
def test_cloud_side_booking_cancel_move_and_delete(sim, http):
    """The test-only ``/_sim/`` interface: a booking made on the customer's booking page, the
    customer cancelling it, staff moving (same id) or deleting it; it needs the admin key."""
    admin = httpx.Client(base_url=sim.root + "/_sim", headers=sim.admin)
    assert httpx.get(sim.root + "/_sim/appointments").status_code == 401
    body = {
        "serviceId": sim.ids["consult"],
        "branchId": sim.ids["riyadh"],
        "start": "2026-12-07T08:56:00+03:00",
        "customer": HUDA,
        "resourceId": sim.ids["sara"],
        "answers": answers(),
    }
    assert admin.post("/appointments", json={**body, "start": "2026-12-07T07:00:00+03:00"}).status_code == 400
    assert admin.post("/appointments", json={**body, "resourceId": sim.ids["lina"]}).status_code == 400
    online = admin.post("/appointments", json=body)  # began four minutes ago, off the grid
    assert online.status_code == 200, online.text
    ident = online.json()["appointmentId"]
    assert (
        online.json()["source"] == "online"
        and online.json()["personalIdentifier"] == HUDA["personalIdentifier"]
    )
    found = http.post(
        "/appointments/search", json={"customer": {"personalIdentifier": HUDA["personalIdentifier"]}}
    )
    assert [a["appointmentId"] for a in found.json()] == [ident]
    staff_only = {
        **body,
        "serviceId": sim.ids["dental"],
        "resourceId": sim.ids["omar"],
        "start": "2026-12-08T12:00:00+03:00",
        "answers": [],
    }
    assert admin.post("/appointments", json=staff_only).status_code == 400  # not bookable online
    assert admin.post("/appointments", json={**staff_only, "source": "staff"}).status_code == 200
    moved = admin.post(f"/appointments/{ident}/move", json={"start": "2026-12-09T13:00:00+03:00"})
    assert moved.status_code == 200
    assert http.get(f"/appointments/{ident}").json()["timeSlot"] == slot("2026-12-09T13:00", 30)
    assert admin.post(f"/appointments/{ident}/cancel").status_code == 204
    assert http.get(f"/appointments/{ident}").status_code == 404
    assert admin.get(f"/appointments/{ident}").json()["status"] == "CANCELLED"
    other = book(sim, http, "2026-12-08T10:00")
    assert admin.delete(f"/appointments/{other['appointmentId']}").status_code == 204
    assert other["appointmentId"] not in {
        a["appointmentId"] for a in admin.get("/appointments").json()["items"]
    }
    assert http.get(f"/appointments/{other['appointmentId']}").status_code == 404
    admin.close()


# ---- generated clinic and the command line ----------------------------------------------------
def test_generated_clinic_is_bookable_and_has_todays_appointments():
    """A realistic tenant for the connector: reference data as the API reference shapes it, known
    customers whose appointments (today included) search finds, open slots ahead."""
    cloud = QmaticCloud(clock=Clock(NOW))
    clinic = generate_clinic(cloud, seed=3)
    again = generate_clinic(QmaticCloud(clock=Clock(NOW)), seed=3)
    assert again["branches"] == clinic["branches"] and again["services"] == clinic["services"]
    assert len(clinic["branches"]) == 2 and len(clinic["groups"]) == 2
    records = [cloud.appointments[i] for i in clinic["appointments"]]
    assert len(records) == 80
    days = {r.start.astimezone(cloud.branches[r.branch_id].zone).date() for r in records}
    today = date(2026, 12, 7)
    assert (
        today in days and min(days) >= today - timedelta(days=1) and max(days) <= today + timedelta(days=30)
    )
    assert all(r.state in (CONFIRMED, "CANCELLED") for r in records)
    with start_cloud(cloud) as running, httpx.Client(base_url=running.url, headers=running.headers) as http:
        rows = http.get("/services").json()
        assert any(r["resourceSelection"]["required"] for r in rows)
        assert any(q["required"] for r in rows for q in r["informationQuestions"])
        assert any(not r["service"]["config"]["onlineBookable"] for r in rows)
        confirmed = next(r for r in records if r.state == CONFIRMED)
        pid = confirmed.personal_identifier
        assert pid in {c["personalIdentifier"] for c in clinic["customers"]}
        found = http.post("/appointments/search", json={"customer": {"personalIdentifier": pid}}).json()
        assert confirmed.id in {a["appointmentId"] for a in found}
        branch = clinic["branches"][0]
        service = clinic["services"][branch][1]
        free = http.get(f"/services/{service}/timeslots", params={"branchId": branch}).json()
        made = http.post(
            "/reservations",
            json={"serviceId": service, "branchId": branch, "timeSlot": free[0], "numberOfReservations": 1},
        )
        assert made.status_code == 201
        confirm = http.put(
            f"/reservations/{made.json()['appointmentId']}", json={"customer": customer_of(clinic, 2)}
        )
        assert confirm.status_code == 201, confirm.text


def test_command_line_runs_the_cloud():
    """``python -m tests.clouds.qmatic --port N`` serves a generated clinic and prints the
    url and the tenant."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.clouds.qmatic",
            "--port",
            "0",
            "--tenant",
            "demo-tenant",
            "--authorization",
            "Bearer k",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().split(" at ")[1].strip()
        assert "demo-tenant" in proc.stdout.readline()
        reply = httpx.get(
            url + "/services",
            headers={"X-TENANT-ID": "demo-tenant", "Accept-Language": "en_US", "Authorization": "Bearer k"},
            timeout=5,
        )
        assert reply.status_code == 200 and len(reply.json()) == 7
    finally:
        proc.terminate()
        proc.wait(timeout=10)
