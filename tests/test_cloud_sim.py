"""The simulated Ehjzny cloud over real HTTP on 127.0.0.1 (tests/clouds/ehjzny).

Rules checked come from ``docs/clouds/ehjzny.md`` and Ehjzny API reference ("Pagination",
"Instant Booking", "Queue Booking", "Assignment Timeout", "Race Condition Handling",
"Create Confirmed Booking", "Create Temporary Booking").
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.domain.clock import Clock
from tests.clouds.ehjzny import EhjznyCloud, sample_clinic, start_cloud
from tests.clouds.ehjzny.rules import SimError

TODAY = date(2026, 11, 22)  # a Sunday: the sample clinic works 09-13 and 16-21 (Riyadh)
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh


@pytest.fixture
def sim():
    with start_cloud(clinic=sample_clinic(TODAY), clock=Clock(lambda: NOW)) as running:
        yield running


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.url, headers=sim.headers, timeout=5) as client:
        yield client


def code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


def customer_headers(sim, phone: str | None = None, email: str | None = None) -> dict:
    """Sign in as a customer (OTP with ``isOrgMember: false``): their bearer header."""
    who = {"phoneNumber": phone} if phone else {"email": email}
    base = {"X-APP-ID": sim.app_id}
    httpx.post(
        sim.url + "/auth/otp/request", json={"method": "sms", **who, "isOrgMember": False}, headers=base
    )
    tokens = httpx.post(
        sim.url + "/auth/otp/verify", json={**who, "isOrgMember": False, "code": "1234"}, headers=base
    ).json()["result"]
    return {**base, "Authorization": f"Bearer {tokens['accessToken']}"}


def book(http: httpx.Client, time_: int, **extra) -> httpx.Response:
    body = {
        "date": TODAY.isoformat(),
        "time": time_,
        "type": "typeGeneral",
        "customerIdentifier": {"id": "cusOmar"},
        **extra,
    }
    return http.put("/management/scheduling/new", json=body)


# ---- transport ----------------------------------------------------------------------------
def test_envelopes_language_and_headers(sim, http):
    one = http.get("/management/resources/resSara", headers={"lang": "ar"})
    assert one.status_code == 200 and one.json()["result"]["name"] == "د. سارة"
    listing = http.get("/management/types").json()
    assert set(listing) == {"result", "pagination"}
    assert listing["pagination"] == {"nextPageToken": None, "hasMore": False}
    assert [t["name"] for t in listing["result"]][:1] == ["Dental cleaning"]

    missing = http.get("/management/bookings/nope")
    assert missing.status_code == 404 and code(missing) == "NOT-FOUND"
    assert httpx.get(sim.url + "/management/types").status_code == 400  # no X-APP-ID
    assert code(httpx.get(sim.url + "/management/types")) == "APP-ID-REQUIRED"


def test_booking_shape_is_local_date_and_millisecond_utc(http):
    created = book(http, 1020, note="first visit").json()["result"]
    assert created["startDate"] == "2026-11-22" and created["startTime"] == 1020
    assert created["startDateTime"] == "2026-11-22T07:20:00.000Z"
    assert created["endDateTime"] == "2026-11-22T07:40:00.000Z" and created["duration"] == 20
    assert created["createdAt"] == "2026-11-22T06:00:00.000Z"
    assert created["resourceId"] == "resAhmed" and created["type"]["name"] == "General consultation"
    assert "queuePosition" not in created
    assert http.get(f"/management/bookings/{created['id']}").json()["result"]["note"] == "first visit"


def test_pagination_follows_tokens_and_tokens_expire(sim, http):
    for hour in (1000, 1030, 1100, 1130, 1200):
        assert book(http, hour, resourceFilters={"resourceId": "resSara"}).status_code == 200
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 2, "resources": "resSara", "orderDirection": "asc"}
        body = http.get(
            "/management/bookings", params={**params, **({"nextPageToken": token} if token else {})}
        ).json()
        seen += [b["startTime"] for b in body["result"]]
        pages += 1
        token = body["pagination"]["nextPageToken"]
        assert body["pagination"]["hasMore"] is (token is not None)
        if token is None:
            break
    assert seen == [1000, 1030, 1100, 1130, 1200] and pages == 3

    first = http.get("/management/bookings", params={"limit": 2}).json()["pagination"]["nextPageToken"]
    other = http.get(
        "/management/bookings", params={"limit": 2, "status": "CANCELED", "nextPageToken": first}
    )
    assert other.status_code == 400 and code(other) == "PAGINATION-TOKEN-INVALID"
    sim.cloud.clock.shift(timedelta(seconds=61))
    expired = http.get("/management/bookings", params={"limit": 2, "nextPageToken": first})
    assert expired.status_code == 400 and code(expired) == "PAGINATION-TOKEN-EXPIRED"


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_listing_read_page_by_page_shows_what_changed_between_its_pages(sim, http, direction):
    """Each page is as if the whole listing were read again for it (keyset paging): a
    booking added beyond the last one served shows, and one canceled, one deleted and one
    moved to another resource before their page is read are left out."""
    times = (1000, 1030, 1100, 1130, 1200)
    made = [book(http, t, resourceFilters={"resourceId": "resSara"}).json()["result"]["id"] for t in times]
    order = made if direction == "asc" else made[::-1]
    params = {"limit": 2, "resources": "resSara", "status": "CONFIRMED", "orderDirection": direction}
    page = http.get("/management/bookings", params=params).json()
    assert [b["id"] for b in page["result"]] == order[:2]
    later = order[2:]
    added = book(http, 1230 if direction == "asc" else 930, resourceFilters={"resourceId": "resSara"}).json()
    http.post("/management/bookings/cancel", json={"bookingId": later[0], "reason": "ill"})
    with sim.cloud.lock:  # changed cloud-side, as a test may
        del sim.cloud.bookings[later[1]]
        sim.cloud.bookings[later[2]]["resourceId"] = "resAhmed"
    rest, token = [], page["pagination"]["nextPageToken"]
    while token:
        page = http.get("/management/bookings", params={**params, "nextPageToken": token}).json()
        rest += [b["id"] for b in page["result"]]
        token = page["pagination"]["nextPageToken"]
    assert rest == [added["result"]["id"]]


def test_a_waiting_booking_leaves_the_listing_when_its_timeout_passes(sim, http):
    """Time alone changes a listing: an unassigned booking past its assignment timeout is
    listed REJECTED though no booking was touched since the listing was last read."""
    joined = sim.cloud.customer_join_queue("cusOmar", "typeFollowUp", assignment_timeout=5)["id"]
    waiting = {"status": "PENDING_ASSIGNMENT", "dateType": "createdAt"}
    assert [b["id"] for b in http.get("/management/bookings", params=waiting).json()["result"]] == [joined]
    sim.cloud.clock.shift(timedelta(minutes=4))
    assert [b["id"] for b in http.get("/management/bookings", params=waiting).json()["result"]] == [joined]
    sim.cloud.clock.shift(timedelta(minutes=1))
    assert http.get("/management/bookings", params=waiting).json()["result"] == []
    assert [
        b["status"]
        for b in http.get("/management/bookings", params={"dateType": "createdAt"}).json()["result"]
        if b["id"] == joined
    ] == ["REJECTED"]


def test_the_pages_of_a_long_listing_cost_about_one_sort_not_one_each():
    """Reading 40 pages of a 20,000-booking listing costs a few times its first page (which
    filters and sorts), not 40 times: the cloud serves an initial sync at HTTP speed."""
    cloud = EhjznyCloud(clock=Clock(lambda: NOW))
    clinic = sample_clinic(TODAY)
    clinic["bookings"] = [
        {
            "id": f"bk{i:05d}",
            "status": "CONFIRMED",
            "typeId": "typeGeneral",
            "resourceId": "resAhmed",
            "customerId": "cusHuda",
            "duration": 20,
            "startDateTime": f"2026-12-{1 + i % 28:02d}T{6 + i // 28 % 10:02d}:{i % 60:02d}:00Z",
            "createdAt": "2026-11-20T06:00:00Z",
        }
        for i in range(20_000)
    ]
    cloud.load(clinic)
    params = {"orderDirection": "asc", "dateType": "dateTime", "from": "2026-11-30T00:00:00Z"}

    def page(token):
        found, key, descending = cloud.find_bookings(params)
        return cloud.pages.page(found, key, 500, token, "bench", descending)

    started = time.perf_counter()
    items, token = page(None)
    first = time.perf_counter() - started
    started, seen = time.perf_counter(), len(items)
    while token:
        items, token = page(token)
        seen += len(items)
    rest = time.perf_counter() - started
    assert seen == 20_000
    assert rest < 8 * first, f"39 more pages took {rest / first:.1f}× the first"


def test_bookings_filters(sim, http):
    a = book(http, 1000).json()["result"]
    sim.cloud.clock.shift(timedelta(minutes=5))
    b = book(http, 1600, resourceFilters={"resourceId": "resSara"}).json()["result"]
    http.post("/management/bookings/cancel", json={"bookingId": a["id"], "reason": "ill"})

    def ids(**params) -> list[str]:
        return [x["id"] for x in http.get("/management/bookings", params=params).json()["result"]]

    assert ids(status="CANCELED") == [a["id"]]
    assert ids(resources="resSara") == [b["id"]]
    assert ids(customerId="cusOmar", orderDirection="asc") == [a["id"], b["id"]]
    assert ids(customerId="cusOmar") == [b["id"], a["id"]]  # desc by default
    assert ids(dateType="createdAt", **{"from": "2026-11-22T06:03:00Z"}) == [b["id"]]
    assert set(ids(**{"from": "2026-11-22T12:00:00Z", "to": "2026-11-22T14:00:00Z"})) == {b["id"]}
    listed = http.get("/management/bookings", params={"includes": "customer", "status": "CANCELED"}).json()
    assert listed["result"][0]["customer"]["firstName"] == "Omar" and "type" not in listed["result"][0]
    assert http.get("/management/bookings", params={"orderDirection": "up"}).status_code == 400


# ---- scheduling ---------------------------------------------------------------------------
def test_slot_taken_and_reschedule_gives_a_new_id(sim, http):
    first = book(http, 1000, resourceFilters={"resourceId": "resAhmed"}).json()["result"]
    elsewhere = book(http, 1010, resourceFilters={"resourceId": "resAhmed"})
    assert elsewhere.json()["result"]["resourceId"] == "resSara"  # the named one is busy: placed elsewhere
    assert code(book(http, 1005)) == "SCH-SLOT-TAKEN"
    ignored = book(http, 1230, resourceId="resSara")  # a top-level resourceId is not in the API reference
    assert ignored.json()["result"]["resourceId"] == "resAhmed"
    sim.cloud.strict_resource_filters = True
    strict = book(http, 1230, resourceFilters={"resourceId": "resAhmed"})
    assert strict.status_code == 409 and code(strict) == "SCH-SLOT-TAKEN"
    sim.cloud.strict_resource_filters = False

    moved = book(
        http, 1100, resourceFilters={"resourceId": "resAhmed"}, rescheduleBookingId=first["id"]
    ).json()["result"]
    assert moved["id"] != first["id"] and moved["startTime"] == 1100 and moved["status"] == "CONFIRMED"
    old = http.get(f"/management/bookings/{first['id']}").json()["result"]
    assert old["status"] == "CANCELED" and not {"rescheduledTo", "cancelReason"} & set(old)
    again = book(http, 1130, rescheduleBookingId=first["id"])
    assert again.status_code == 400 and code(again) == "BKS-NOT-ACTIVE"
    assert (
        book(http, 1000, resourceFilters={"resourceId": "resAhmed"}).status_code == 200
    )  # the old slot is free again


def test_temporary_booking_is_held_then_confirmed_or_deleted(sim, http):
    body = {
        "date": TODAY.isoformat(),
        "time": 1130,
        "type": "typeFollowUp",
        "reservedForMinutes": 10,
        "customerIdentifier": {"phone": "+966500000099"},
    }
    held = http.put("/management/scheduling/temporary", json=body).json()["result"]
    assert held["status"] == "PENDING_APPROVAL" and "reservedUntil" not in held
    assert sim.cloud.customers[held["customerId"]]["phone"] == "+966500000099"  # created on the fly
    confirmed = http.post("/management/scheduling/confirm", json={"bookingId": held["id"]}).json()["result"]
    assert confirmed["status"] == "CONFIRMED" and "reservedUntil" not in confirmed

    lapsing = http.put("/management/scheduling/temporary", json={**body, "time": 1145}).json()["result"]
    sim.cloud.clock.shift(timedelta(minutes=11))
    gone = http.post("/management/scheduling/confirm", json={"bookingId": lapsing["id"]})
    assert gone.status_code == 404


# ---- queue --------------------------------------------------------------------------------
def test_queue_positions_and_shift_after_leaving(sim, http):
    cloud = sim.cloud
    joined = [cloud.customer_join_queue(c, "typeFollowUp") for c in ("cusHuda", "cusOmar", "cusLina")]
    assert [(j["queuePosition"], j["estimatedWaitMinutes"]) for j in joined] == [(1, 10), (2, 20), (3, 30)]
    assert all("resourceId" not in j and "startDate" not in j for j in joined)
    queue = http.get("/management/bookings/unassigned", params={"resourceId": "resAhmed"}).json()["result"]
    assert [b["id"] for b in queue] == [j["id"] for j in joined]
    assert (
        http.get("/management/bookings/unassigned", params={"resourceId": "resSara"}).json()["result"] == []
    )
    assert code(http.get("/management/bookings/unassigned")) == "VALIDATION"
    pending = {t["id"]: t["pendingCount"] for t in http.post("/availability/types", json={}).json()["result"]}
    assert pending["typeFollowUp"] == 3 and pending["typeGeneral"] == 0

    huda, lina = customer_headers(sim, phone="+966500000001"), customer_headers(sim, email="lina@example.com")
    left = httpx.post(
        sim.url + "/customer/bookings/cancel", json={"bookingId": joined[0]["id"]}, headers=huda
    )
    assert left.json()["result"]["status"] == "CANCELED"
    mine = httpx.get(
        sim.url + "/customer/bookings", params={"status": "PENDING_ASSIGNMENT"}, headers=lina
    ).json()["result"]
    assert [(b["queuePosition"], b["estimatedWaitMinutes"]) for b in mine] == [(2, 20)]
    foreign = httpx.post(
        sim.url + "/customer/bookings/cancel", json={"bookingId": joined[1]["id"]}, headers=lina
    )
    assert foreign.status_code == 404
    shortcut = http.post(
        "/customer/bookings/cancel", json={"bookingId": joined[1]["id"]}, headers={"X-CUSTOMER-ID": "cusOmar"}
    )  # not in the API reference: no such shortcut
    assert shortcut.status_code == 403


def test_customer_joins_queue_over_http(sim, http):
    response = httpx.put(
        sim.url + "/customer/scheduling/new",
        json={"type": "typeGeneral", "assign": False, "assignmentTimeout": 999},
        headers=customer_headers(sim, phone="+966500000002"),
    )
    joined = response.json()["result"]
    assert joined["status"] == "PENDING_ASSIGNMENT" and "assignmentTimeout" not in joined
    assert sim.cloud.bookings[joined["id"]]["_timeout"] == 180  # clamped, kept inside the cloud
    assert joined["queuePosition"] == 1 and joined["estimatedWaitMinutes"] == 20


def test_accept_race_exactly_one_wins(sim):
    booking = sim.cloud.customer_join_queue("cusOmar", "typeGeneral")
    barrier = threading.Barrier(4)

    def accept(resource_id: str) -> httpx.Response:
        with httpx.Client(base_url=sim.url, headers=sim.headers, timeout=5) as client:
            barrier.wait()
            return client.post(
                "/management/bookings/assign", json={"bookingId": booking["id"], "resourceId": resource_id}
            )

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(accept, ["resAhmed", "resSara", "resAhmed", "resSara"]))
    winners = [r for r in answers if r.status_code == 200]
    assert len(winners) == 1
    assert sorted(code(r) for r in answers if r.status_code != 200) == ["SCH-ALREADY_ASSIGNED"] * 3
    won = winners[0].json()["result"]
    assert won["status"] == "CONFIRMED" and "queuePosition" not in won
    assert sim.cloud.booking(booking["id"])["resourceId"] == won["resourceId"]
    with pytest.raises(SimError) as moved:  # another branch: never moves
        sim.cloud.assign(booking["id"], "resSara" if won["resourceId"] == "resAhmed" else "resAhmed")
    assert moved.value.code == "SCH-ALREADY_ASSIGNED"


def test_accept_race_in_process_threads():
    cloud = EhjznyCloud(Clock(lambda: NOW))
    cloud.load(sample_clinic(TODAY))
    booking = cloud.customer_join_queue("cusHuda", "typeGeneral")
    barrier, outcomes = threading.Barrier(8), []

    def accept(resource_id: str) -> None:
        barrier.wait()
        try:
            outcomes.append(cloud.assign(booking["id"], resource_id)["status"])
        except SimError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=accept, args=(r,)) for r in ["resAhmed", "resSara"] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["CONFIRMED"] + ["SCH-ALREADY_ASSIGNED"] * 7


def test_assignment_timeout_rejects_then_bks110(sim, http):
    booking = sim.cloud.customer_join_queue("cusOmar", "typeFollowUp", assignment_timeout=1)
    assert (
        "assignmentTimeout" not in booking and sim.cloud.bookings[booking["id"]]["_timeout"] == 5
    )  # clamped
    sim.cloud.clock.shift(timedelta(minutes=4))
    assert (
        http.get(f"/management/bookings/{booking['id']}").json()["result"]["status"] == "PENDING_ASSIGNMENT"
    )
    sim.cloud.clock.shift(timedelta(minutes=1))
    assert http.get(f"/management/bookings/{booking['id']}").json()["result"]["status"] == "REJECTED"
    late = http.post(
        "/management/bookings/assign", json={"bookingId": booking["id"], "resourceId": "resAhmed"}
    )
    assert late.status_code == 400 and code(late) == "BKS-110"


def test_end_shortens_to_time_served(sim, http):
    booking = sim.cloud.customer_join_queue("cusOmar", "typeGeneral")
    sim.cloud.assign(booking["id"], "resSara")
    sim.cloud.clock.shift(timedelta(minutes=7))
    ended = http.post("/management/bookings/end", json={"bookingId": booking["id"]}).json()["result"]
    assert ended["duration"] == 7 and ended["endDateTime"] == "2026-11-22T06:07:00.000Z"
    assert ended["startTime"] == 900


def test_online_booking_and_available_times(sim, http):
    sim.cloud.add_online_booking("typeDental", day=TODAY, time=1600, customer_id="cusLina")
    days = http.post(
        "/availability/times",
        json={"type": "typeDental", "from": "2026-11-22T00:00:00Z", "to": "2026-11-22T00:00:00Z"},
    ).json()["result"]
    assert [d["date"] for d in days] == ["2026-11-22"]
    times = [t["time"] for t in days[0]["times"]]
    assert 1600 not in times and 1700 in times and 900 in times


def test_customers_create_update_and_duplicates(http):
    created = http.post("/management/customers", json={"firstName": "Noor", "phone": "+966500000077"})
    customer = created.json()["result"]
    again = http.post("/management/customers", json={"firstName": "N", "phone": "+966500000077"})
    assert again.status_code == 409 and code(again) == "CUSTOMER-EXISTS"
    http.put(f"/management/customers/{customer['id']}", json={"lastName": "Ali"})
    assert http.get(f"/management/customers/{customer['id']}").json()["result"]["lastName"] == "Ali"
    assert len(http.get("/management/customers", params={"limit": 500}).json()["result"]) == 4


def test_time_rules_round_trip_in_the_contract_shape(sim, http):
    rules = {
        "depthOfDays": 7,
        "scheduleAfterHoursFromNow": 1,
        "rules": [{"weekDays": [0], "times": [{"from": 800, "to": 1200}]}],
    }
    assert (
        http.put("/management/resources/resAhmed/timeRules", json=rules).json()["result"]["depthOfDays"] == 7
    )
    assert http.get("/management/resources/resAhmed/timeRules").json()["result"]["rules"] == rules["rules"]
    ours = {"rules": [{"days": ["sun"], "from": 800, "to": 1200}]}  # the app's own shape is not the cloud's
    assert http.put("/management/resources/resAhmed/timeRules", json=ours).status_code == 400


def test_time_rules_close_the_customer_side_by_weekday_number(sim):
    friday = TODAY + timedelta(days=5)  # weekDays 5: not in the sample's 6, 0..4
    with pytest.raises(SimError) as closed:
        sim.cloud.schedule(
            {"type": "typeGeneral", "date": friday.isoformat(), "time": 1000},
            customer_id="cusOmar",
            customer_side=True,
        )
    assert closed.value.code == "SCH-OUTSIDE-WORKING-HOURS"
    sunday = sim.cloud.schedule(
        {"type": "typeGeneral", "date": TODAY.isoformat(), "time": 1000},
        customer_id="cusOmar",
        customer_side=True,
    )
    assert sunday["status"] == "CONFIRMED"


def test_extensions_stay_off_unless_named():
    cloud = EhjznyCloud(Clock(lambda: NOW), extensions={"rescheduledTo", "assignmentTimeout"})
    cloud.load(sample_clinic(TODAY))
    moved = cloud.schedule(
        {"type": "typeGeneral", "date": TODAY.isoformat(), "time": 1100, "rescheduleBookingId": "bkMorning"}
    )
    assert cloud.booking("bkMorning")["rescheduledTo"] == moved["id"]
    assert cloud.customer_join_queue("cusOmar", "typeGeneral")["assignmentTimeout"] == 120
    with pytest.raises(ValueError):
        EhjznyCloud(extensions={"resourceId"})


# ---- auth ---------------------------------------------------------------------------------
def test_auth_tokens_expire_and_refresh(sim):
    base = {"X-APP-ID": sim.app_id}
    with httpx.Client(base_url=sim.url, headers=base, timeout=5) as client:
        login = {"method": "sms", "phoneNumber": "+966511111111", "isOrgMember": True}
        assert client.post("/auth/otp/request", json=login).status_code == 200
        assert code(client.post("/auth/otp/verify", json={**login, "code": "0000"})) == "AUTH-OTP-INVALID"
        client.post("/auth/otp/request", json=login)
        tokens = client.post("/auth/otp/verify", json={**login, "code": "1234"}).json()["result"]
        assert tokens["expiresIn"] == 3600 and tokens["accessToken"] and tokens["refreshToken"]
        bearer = {"Authorization": f"Bearer {tokens['accessToken']}"}
        assert client.get("/management/types", headers=bearer).status_code == 200
        bad = client.get("/management/types", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and code(bad) == "AUTH-UNAUTHORIZED"
        assert client.get("/management/types").status_code == 401

        sim.cloud.expire_tokens()
        stale = client.get("/management/types", headers=bearer)
        assert stale.status_code == 401 and code(stale) == "AUTH-TOKEN-EXPIRED"
        assert client.get("/management/types", headers=sim.headers).status_code == 200  # the API key stays
        fresh = client.get("/auth/token", params={"refreshToken": tokens["refreshToken"]}).json()["result"]
        assert (
            client.get(
                "/management/types", headers={"Authorization": f"Bearer {fresh['accessToken']}"}
            ).status_code
            == 200
        )
        sim.cloud.clock.shift(timedelta(seconds=3601))
        assert (
            code(client.get("/management/types", headers={"Authorization": f"Bearer {fresh['accessToken']}"}))
            == "AUTH-TOKEN-EXPIRED"
        )


def test_customer_sign_in_reaches_only_customer_side(sim):
    with httpx.Client(base_url=sim.url, headers={"X-APP-ID": sim.app_id}, timeout=5) as client:
        login = {"method": "sms", "phoneNumber": "+966500000001"}
        client.post("/auth/otp/request", json=login)
        tokens = client.post("/auth/otp/verify", json={**login, "code": "1234"}).json()["result"]
        assert tokens["user"] == {"role": "customer", "customerId": "cusHuda"}
        bearer = {"Authorization": f"Bearer {tokens['accessToken']}"}
        assert client.get("/management/bookings", headers=bearer).status_code == 403
        mine = client.get("/customer/bookings", headers=bearer).json()["result"]
        assert [b["id"] for b in mine] == ["bkMorning"]


# ---- faults -------------------------------------------------------------------------------
def test_fault_fail_next_requests_and_ratio(sim, http):
    sim.cloud.faults.fail(2, status=502)
    answers = [http.get("/management/types") for _ in range(3)]
    assert [r.status_code for r in answers] == [502, 502, 200]
    assert code(answers[0]) == "SERVER-UNAVAILABLE"
    sim.cloud.faults.fail(ratio=0.5)
    statuses = {http.get("/management/types").status_code for _ in range(20)}
    assert statuses == {200, 503}
    sim.cloud.faults.clear()
    assert http.get("/management/types").status_code == 200


def test_fault_rate_limit_and_latency(sim, http):
    sim.cloud.faults.rate_limit(retry_after=2)
    limited = http.get("/management/types")
    assert (
        limited.status_code == 429
        and limited.headers["Retry-After"] == "2"
        and code(limited) == "RATE-LIMITED"
    )
    sim.cloud.faults.latency(150, path="/management/types")
    began = time.monotonic()
    assert http.get("/management/types").status_code == 200
    assert time.monotonic() - began >= 0.15
    began = time.monotonic()
    http.get("/management/resources")  # out of the fault's scope
    assert time.monotonic() - began < 0.15


def test_fault_drop_and_lost_reply(sim, http):
    sim.cloud.faults.drop(method="PUT")
    with pytest.raises(httpx.TransportError):
        book(http, 1000)
    assert not any(b["startDateTime"] for b in sim.cloud.bookings.values() if b["customerId"] == "cusOmar")

    sim.cloud.faults.lose_reply(path="/management/scheduling")
    assert http.get("/management/types").status_code == 200  # out of scope
    with pytest.raises(httpx.TransportError):
        book(http, 1000)
    found = http.get(
        "/management/bookings",
        params={"customerId": "cusOmar", "dateType": "createdAt", "from": "2026-11-22T05:59:00Z"},
    ).json()["result"]
    assert [b["startTime"] for b in found] == [1000]  # the write committed
    assert book(http, 1100).status_code == 200  # faults are spent


def test_faults_over_admin_http(sim, http):
    admin = httpx.Client(base_url=sim.url, timeout=5)
    rules = admin.post(
        "/_sim/faults",
        json={"kind": "fail", "count": 1, "status": 500, "path": "/management/bookings", "method": "GET"},
    ).json()
    assert rules["result"][0]["kind"] == "fail"
    assert http.get("/management/types").status_code == 200
    assert http.get("/management/bookings").status_code == 500
    assert http.get("/management/bookings").status_code == 200
    admin.post("/_sim/faults", json={"faults": [{"kind": "rate_limit", "retry_after": 3}]})
    assert http.get("/management/types").headers["Retry-After"] == "3"
    assert admin.post("/_sim/faults", json={"kind": "bogus"}).status_code == 400

    with httpx.Client(base_url=sim.url, headers={"X-APP-ID": sim.app_id}, timeout=5) as client:
        login = {"method": "email", "email": "desk@example.com", "isOrgMember": True}
        client.post("/auth/otp/request", json=login)
        token = client.post("/auth/otp/verify", json={**login, "code": "1234"}).json()["result"][
            "accessToken"
        ]
        admin.post("/_sim/faults", json={"kind": "expire_tokens"})
        assert (
            code(client.get("/management/types", headers={"Authorization": f"Bearer {token}"}))
            == "AUTH-TOKEN-EXPIRED"
        )
    admin.post("/_sim/clock", json={"shiftSeconds": 600})
    assert sim.cloud.clock.now() == NOW + timedelta(minutes=10)
    assert admin.delete("/_sim/faults").json()["result"] == []
    admin.close()


def test_loads_the_demo_clinic():
    demo = pytest.importorskip("app.demo")
    from app.sync.ehjzny.mapping import time_rules_to_cloud

    clinic = demo.generate_clinic(TODAY, "Asia/Riyadh", 7, NOW)
    clinic["timeRules"] = {rid: time_rules_to_cloud(rules) for rid, rules in clinic["timeRules"].items()}
    cloud = EhjznyCloud(Clock(lambda: NOW))
    cloud.load(clinic)
    assert len(cloud.bookings) == len(clinic["bookings"]) and len(cloud.resources) == len(clinic["resources"])
    shown = cloud.booking(clinic["bookings"][0]["id"])
    assert {k: shown[k] for k in ("startDate", "startTime", "startDateTime")} == {
        k: clinic["bookings"][0][k] for k in ("startDate", "startTime", "startDateTime")
    }
