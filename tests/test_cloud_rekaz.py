"""The simulated Rekaz cloud over real HTTP on 127.0.0.1 (``tests/clouds/rekaz``).

Each test names the Rekaz API reference or the contract
(``docs/clouds/rekaz.md``) section whose rule it checks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.clouds.rekaz import Clock, RekazCloud, generate_clinic, start_cloud

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh


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
            "huda": huda["id"],
        }
        yield running


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.url, headers=sim.headers, timeout=5) as client:
        yield client


def code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


def book(
    sim, http, start: datetime, price: str = "paid", providers=("sara",), minutes: int = 30
) -> httpx.Response:
    body = {
        "customerId": sim.ids["huda"],
        "branchId": sim.ids["main"],
        "items": [
            {
                "quantity": 1,
                "priceId": sim.ids[price],
                "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "to": (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "providerIds": [sim.ids[p] for p in providers],
                "customFields": {},
            }
        ],
    }
    return http.post("/reservations/bulk", json=body)


def test_every_call_needs_the_key_and_the_tenant(sim):
    """API reference "Authentication": Authorization (Basic) and ``__tenant`` on every call; API reference
    "Error Response Format" / "HTTP Status Codes": 401 ``Unauthorized`` in the envelope."""
    good = sim.headers
    assert httpx.get(sim.url + "/branches", headers=good).status_code == 200
    for headers in (
        {"__tenant": good["__tenant"]},
        {"Authorization": good["Authorization"]},
        {**good, "Authorization": "Basic wrong"},
        {**good, "__tenant": "another-tenant"},
    ):
        refused = httpx.get(sim.url + "/branches", headers=headers)
        assert refused.status_code == 401
        assert set(refused.json()["error"]) == {"code", "message", "details", "validationErrors"}
        assert code(refused) == "Unauthorized"


def test_reference_data_shapes(sim, http):
    """API reference "Branches API", "Products API", "Providers": branches and products are bare
    arrays with ``nameAr``/``nameEn``; providers ``{"items"}``; pricing ids are priceIds."""
    branches = http.get("/branches").json()
    assert [b["nameEn"] for b in branches] == ["Main Branch", "Secondary Branch"]
    assert branches[0]["name"] == branches[0]["nameAr"] == "الفرع الرئيسي"
    products = http.get("/products").json()
    assert [p["nameEn"] for p in products[0]["pricing"]] == ["New visit", "Follow-up"]
    assert products[0]["pricing"][1]["id"] == sim.ids["free"] and products[0]["typeString"] == "Reservation"
    assert {p["name"] for p in http.get("/providers").json()["items"]} == {"د. سارة", "Dr. Omar"}
    assert http.get(f"/branches/{sim.ids['other']}").json()["nameEn"] == "Secondary Branch"
    missing = http.get("/products/nope")
    assert missing.status_code == 404 and code(missing) == "NotFound"


def test_customers_paging_and_create(sim, http):
    """API reference "Customers API": skipCount/maxResultCount (max 100) → items + totalCount;
    ``POST /customers`` answers the new id as a JSON string; a bad mobile is a 400
    ``ValidationError`` naming the field (API reference "Error Response Format")."""
    for n in range(4):
        made = http.post(
            "/customers",
            json={
                "name": f"Patient {n}",
                "mobileNumber": f"05000000{n:02d}",
                "type": 1,
                "branchId": sim.ids["main"],
            },
        )
        assert made.status_code == 200 and isinstance(made.json(), str)
    seen, skip = [], 0
    while True:
        page = http.get("/customers", params={"skipCount": skip, "maxResultCount": 2}).json()
        seen += [c["name"] for c in page["items"]]
        skip += len(page["items"])
        if skip >= page["totalCount"]:
            break
    assert seen == ["Huda Saleh", "Patient 0", "Patient 1", "Patient 2", "Patient 3"]
    assert http.get("/customers", params={"maxResultCount": 101}).status_code == 400
    bad = http.post("/customers", json={"name": "X", "mobileNumber": "12", "branchId": sim.ids["main"]})
    assert bad.status_code == 400 and code(bad) == "ValidationError"
    assert bad.json()["error"]["validationErrors"][0]["field"] == "mobileNumber"
    no_branch = http.post("/customers", json={"name": "X", "mobileNumber": "0500000099"})
    assert no_branch.status_code == 403  # API reference "HTTP Status Codes": missing branch ID


def test_bulk_create_invoice_payment_link_and_status(sim, http):
    """API reference "POST /api/public/reservations/bulk": ``{invoiceId, reservationIds,
    paymentLink}``; contract "Behaviour" (created state): a priced reservation is Pending
    until confirmed; a free one is Confirmed, zero-priced and has no payment link."""
    paid = book(sim, http, NOW + timedelta(hours=1)).json()
    assert set(paid) == {"invoiceId", "reservationIds", "paymentLink"} and paid["paymentLink"]
    row = http.get(f"/reservations/{paid['reservationIds'][0]}").json()
    assert row["status"] == "Pending" and row["providers"] == ["د. سارة"] and row["priceName"] == "كشف جديد"
    assert row["startAt"] == "2026-12-07T07:00:00Z" and row["reservationTotalAmount"] == 200
    assert "priceId" not in row and "providerIds" not in row  # contract "Objects": names, not ids
    assert http.put(f"/reservations/{row['id']}/confirm").status_code == 204
    assert http.get(f"/reservations/{row['id']}").json()["status"] == "Confirmed"

    free = book(sim, http, NOW + timedelta(hours=2), price="free", providers=(), minutes=15).json()
    queued = http.get(f"/reservations/{free['reservationIds'][0]}").json()
    assert free["paymentLink"] is None and queued["isZeroPrice"] and queued["status"] == "Confirmed"
    assert queued["providers"] == []  # contract "Desk operations": the unassigned queue

    taken = book(sim, http, NOW + timedelta(hours=1, minutes=15))
    assert taken.status_code == 400 and code(taken) == "BusinessLogicError"
    body = {
        "customerId": sim.ids["huda"],
        "items": [
            {
                "quantity": 1,
                "priceId": sim.ids["paid"],
                "from": "2026-12-07T10:00:00Z",
                "to": "2026-12-07T10:30:00Z",
            }
        ],
    }
    assert http.post("/reservations/bulk", json=body).status_code == 403  # no branchId


def test_list_filters_and_paging(sim, http):
    """API reference "GET /api/public/reservations" query parameters; contract "Transport": repeated
    ``statuses`` keys, compared case-insensitively; contract "Desk operations": the dates
    filter ``startAt``, and cancelled rows stay listed."""
    ids = [book(sim, http, NOW + timedelta(days=d, hours=1)).json()["reservationIds"][0] for d in range(3)]
    http.put(f"/reservations/{ids[1]}/confirm")
    http.put(f"/reservations/{ids[2]}/cancel", json={"cancellationReason": "ill", "notifyCustomer": False})

    def listed(**params) -> list[str]:
        return [r["id"] for r in http.get("/reservations", params=params).json()["items"]]

    assert listed() == ids
    assert listed(dateMin="2026-12-08T00:00:00Z", dateMax="2026-12-08T23:59:59Z") == [ids[1]]
    assert listed(statuses=["confirmed", "Canceled"]) == ids[1:]
    assert listed(statuses="Pending") == [ids[0]]
    assert listed(customerMobile="0501234567") == ids and listed(branchId=sim.ids["other"]) == []
    assert listed(keyword="huda", upcoming="true") == ids
    page = http.get("/reservations", params={"skipCount": 2, "maxResultCount": 2}).json()
    assert page["totalCount"] == 3 and [r["id"] for r in page["items"]] == [ids[2]]
    assert http.get(f"/reservations/{ids[2]}").json()["status"] == "Cancelled"


def test_update_keeps_duration_and_providers(sim, http):
    """API reference "PUT /api/public/reservations/{id}": ``startDate`` required; without
    ``endDate`` the duration is preserved; without ``providerIds`` providers are kept."""
    ident = book(sim, http, NOW + timedelta(hours=1)).json()["reservationIds"][0]
    assert http.put(f"/reservations/{ident}", json={}).status_code == 400
    assert http.put(f"/reservations/{ident}", json={"startDate": "2026-12-07T10:00:00Z"}).status_code == 204
    row = http.get(f"/reservations/{ident}").json()
    assert (row["startAt"], row["endAt"], row["providers"]) == (
        "2026-12-07T10:00:00Z",
        "2026-12-07T10:30:00Z",
        ["د. سارة"],
    )
    http.put(
        f"/reservations/{ident}",
        json={
            "startDate": row["startAt"],
            "endDate": "2026-12-07T10:20:00Z",
            "providerIds": [sim.ids["omar"]],
        },
    )
    row = http.get(f"/reservations/{ident}").json()
    assert row["endAt"] == "2026-12-07T10:20:00Z" and row["providers"] == ["Dr. Omar"]


def test_cancel_twice_is_a_business_error(sim, http):
    """API reference "PUT …/cancel"; contract "Behaviour": a re-sent cancel meets
    ``BusinessLogicError`` and GET shows the reservation cancelled."""
    ident = book(sim, http, NOW + timedelta(hours=1)).json()["reservationIds"][0]
    body = {"cancellationReason": "Customer requested cancellation", "notifyCustomer": True}
    assert http.put(f"/reservations/{ident}/cancel", json=body).status_code == 204
    again = http.put(f"/reservations/{ident}/cancel", json=body)
    assert again.status_code == 400 and code(again) == "BusinessLogicError"
    assert http.get(f"/reservations/{ident}").json()["status"] == "Cancelled"
    assert sim.cloud.notifications[-1]["reason"] == "Customer requested cancellation"


def test_slots_follow_bookings(sim, http):
    """API reference "GET /api/public/reservations/slots": required StartDate/EndDate (no zone),
    PriceId, MinQuantity ≥ 1; a provider with a reservation is not available then."""
    book(sim, http, NOW + timedelta(hours=1))  # Sara, 10:00-10:30 Riyadh
    params = {
        "StartDate": "2026-12-07T06:00:00",
        "EndDate": "2026-12-07T08:00:00",
        "PriceId": sim.ids["paid"],
        "MinQuantity": 1,
    }
    slots = http.get("/reservations/slots", params=params).json()
    assert [s["from"] for s in slots] == [
        "2026-12-07T06:00:00Z",
        "2026-12-07T06:30:00Z",
        "2026-12-07T07:00:00Z",
        "2026-12-07T07:30:00Z",
    ]
    busy = slots[2]
    assert (
        busy["availableProviderIds"] == [sim.ids["omar"]]
        and busy["allProvidersAvailability"][sim.ids["sara"]] is False
    )
    only_sara = http.get("/reservations/slots", params={**params, "ProvidersIds": sim.ids["sara"]}).json()
    assert [s["isAvailable"] for s in only_sara] == [True, True, False, True]
    assert http.get("/reservations/slots", params={**params, "MinQuantity": 0}).status_code == 400


def test_attendances_check_in_and_out(sim, http):
    """API reference "Attendances API": POST ``{type: 0, actionType: 0|1, customerId, actionId}``;
    GET lists kind in ``type`` and target in ``actionType`` (contract "Objects":
    Attendance), newest first; no check-out before a check-in."""
    ident = book(sim, http, NOW - timedelta(minutes=10)).json()["reservationIds"][0]
    body = {"type": 0, "actionType": 1, "customerId": sim.ids["huda"], "actionId": ident}
    early = http.post("/attendances", json=body)
    assert early.status_code == 400 and code(early) == "BusinessLogicError"
    checked_in = http.post("/attendances", json={**body, "actionType": 0}).json()
    assert (checked_in["type"], checked_in["actionType"], checked_in["isFirstCheckIn"]) == (
        "CheckIn",
        "Reservation",
        True,
    )
    assert http.post("/attendances", json=body).status_code == 200
    items = http.get("/attendances", params={"customerId": sim.ids["huda"]}).json()
    assert [(i["type"], i["actionId"]) for i in items["items"]] == [("CheckOut", ident), ("CheckIn", ident)]
    assert items["totalCount"] == 2
    assert http.get("/attendances", params={"mobileNumber": "+966501234567"}).json()["totalCount"] == 2


def test_cloud_side_changes_over_admin_http(sim, http):
    """Contract "Behaviour" (attendances made in Rekaz; pull): a kiosk check-in, an online
    booking, a cancellation and a deletion (GET → 404) made in the cloud show in the API."""
    admin = httpx.Client(base_url=sim.root, headers=sim.admin, timeout=5)
    assert httpx.get(sim.root + "/_sim/health").status_code == 401  # the admin key is required
    online = admin.post(
        "/_sim/reservations", json={"priceId": sim.ids["free"], "startAt": "2026-12-07T06:15:00Z"}
    ).json()
    assert online["source"] == "WebBooking" and online["endAt"] == "2026-12-07T06:30:00Z"
    kiosk = admin.post("/_sim/attendances", json={"reservationId": online["id"]}).json()
    assert kiosk["type"] == "CheckIn"
    assert http.get("/attendances").json()["items"][0]["actionId"] == online["id"]
    admin.post(f"/_sim/reservations/{online['id']}/cancel", json={"reason": "no longer needed"})
    assert http.get(f"/reservations/{online['id']}").json()["status"] == "Cancelled"
    assert admin.delete(f"/_sim/reservations/{online['id']}").status_code == 204
    assert http.get(f"/reservations/{online['id']}").status_code == 404
    admin.close()


def test_rate_limit_and_5xx_faults(sim, http):
    """Contract "Transport": ``RateLimit`` comes as 429 with ``Retry-After``; 500 is the
    API reference's internal error, in the error envelope."""
    sim.cloud.faults.rate_limit(retry_after=3)
    limited = http.get("/branches")
    assert (
        limited.status_code == 429 and limited.headers["Retry-After"] == "3" and code(limited) == "RateLimit"
    )
    sim.cloud.faults.fail(1, status=503, path="/api/public/products")
    assert http.get("/products").status_code == 503 and http.get("/products").status_code == 200
    admin = httpx.Client(base_url=sim.root, headers=sim.admin, timeout=5)
    admin.post("/_sim/faults", json={"kind": "latency", "ms": 150, "path": "/api/public/providers"})
    started = datetime.now(UTC)
    http.get("/providers")
    assert datetime.now(UTC) - started >= timedelta(milliseconds=150)
    assert admin.delete("/_sim/faults").json()["faults"] == []
    admin.close()


def test_built_in_rate_limit():
    """API reference "Common Error Codes": ``RateLimit`` (too many requests) with ``Retry-After``."""
    cloud = RekazCloud()
    with start_cloud(cloud, rate_limit=(3, 60)) as running:
        answers = [httpx.get(running.url + "/branches", headers=running.headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_lost_reply_after_commit_is_committed(sim, http):
    """Contract "Behaviour": a lost reply on create is recognised by
    ``GET /reservations?customerId=&branchId=&dateMin=&dateMax=``; the write did commit."""
    sim.cloud.faults.lose_reply(method="POST", path="/api/public/reservations/bulk")
    with pytest.raises(httpx.TransportError):
        book(sim, http, NOW + timedelta(hours=3))
    found = http.get(
        "/reservations",
        params={
            "customerId": sim.ids["huda"],
            "branchId": sim.ids["main"],
            "dateMin": "2026-12-07T09:00:00Z",
            "dateMax": "2026-12-07T09:00:00Z",
        },
    ).json()
    assert found["totalCount"] == 1 and found["items"][0]["startAt"] == "2026-12-07T09:00:00Z"
    sim.cloud.faults.drop(method="POST", path="/api/public/attendances")
    body = {"type": 0, "actionType": 0, "customerId": sim.ids["huda"], "actionId": found["items"][0]["id"]}
    with pytest.raises(httpx.TransportError):
        http.post("/attendances", json=body)
    assert http.get("/attendances").json()["totalCount"] == 0  # a dropped call commits nothing


def test_lost_replies_on_customer_and_attendance(sim, http):
    """Contract "Behaviour": a lost ``POST /customers`` is found by paging all customers
    and matching the mobile digits; a lost ``POST /attendances`` by
    ``GET /attendances?customerId=`` with the same ``actionId`` and kind."""
    sim.cloud.faults.lose_reply(method="POST", path="/api/public/customers")
    with pytest.raises(httpx.TransportError):
        http.post(
            "/customers", json={"name": "Salem", "mobileNumber": "0555000111", "branchId": sim.ids["main"]}
        )
    customers = http.get("/customers").json()["items"]
    assert [c["name"] for c in customers if c["mobileNumber"].endswith("555000111")] == ["Salem"]

    ident = book(sim, http, NOW).json()["reservationIds"][0]
    sim.cloud.faults.lose_reply(method="POST", path="/api/public/attendances")
    with pytest.raises(httpx.TransportError):
        http.post(
            "/attendances",
            json={"type": 0, "actionType": 0, "customerId": sim.ids["huda"], "actionId": ident},
        )
    mine = http.get("/attendances", params={"customerId": sim.ids["huda"]}).json()["items"]
    assert [(a["actionId"], a["type"]) for a in mine] == [(ident, "CheckIn")]
    again = http.post(
        "/attendances", json={"type": 0, "actionType": 0, "customerId": sim.ids["huda"], "actionId": ident}
    )
    assert again.status_code == 400 and code(again) == "BusinessLogicError"  # a blind re-send is refused


def test_generated_clinic():
    """Issue scope: two branches with Arabic and English names, providers, priced and
    free products, reservations in each status, and attendances."""
    cloud = RekazCloud(clock=Clock(NOW))
    clinic = generate_clinic(cloud, seed=3)
    assert len(clinic["branches"]) == 2 and all(b["nameAr"] != b["nameEn"] for b in cloud.branches.values())
    amounts = {p["amount"] for product in cloud.products.values() for p in product["pricing"]}
    assert 0 in amounts and max(amounts) > 0
    statuses = {r["status"] for r in cloud.reservations.values()}
    assert statuses == {"Pending", "Confirmed", "Cancelled"}
    kinds = {a["kind"] for a in cloud.attendances}
    assert kinds == {"CheckIn", "CheckOut"}
    assert any(not r["providers"] for r in cloud.reservations.values())


def test_runs_as_a_module():
    """``python -m tests.clouds.rekaz --port N`` serves a generated clinic (issue scope)."""
    import subprocess
    import sys
    from pathlib import Path

    command = [
        sys.executable,
        "-m",
        "tests.clouds.rekaz",
        "--port",
        "0",
        "--key",
        "k1",
        "--tenant",
        "t1",
        "--per-day",
        "2",
    ]
    process = subprocess.Popen(
        command, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, text=True
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Rekaz simulated cloud at http://127.0.0.1:")
        url = first.split(" at ")[1].strip()
        branches = httpx.get(
            url + "/branches", headers={"Authorization": "Basic k1", "__tenant": "t1"}, timeout=5
        )
        assert [b["nameEn"] for b in branches.json()] == ["Main Branch", "Al Malqa Branch"]
    finally:
        process.terminate()
        process.wait(timeout=10)
