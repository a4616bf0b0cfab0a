"""The simulated DigitalBooker cloud over real HTTP on 127.0.0.1 (``tests/clouds/digitalbooker``).

Each test names the DigitalBooker API reference or the contract
(``docs/clouds/digitalbooker.md``) line whose rule it checks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from tests.clouds.digitalbooker import WWW, Clock, DigitalBookerCloud, generate_clinic, start_cloud

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Riyadh (the account's zone)
TODAY = date(2026, 12, 7)


@pytest.fixture
def sim():
    cloud = DigitalBookerCloud(clock=Clock(NOW), zone="Asia/Riyadh")
    loc = cloud.add_location({"en": "Olaya", "ar": "العليا"}, "olaya", external_id="branch-1")
    other = cloud.add_location("North", "north")
    cloud.add_view(loc["id"], "Book", "book", "services")
    doctors = cloud.add_resource_category({"en": "Doctors", "ar": "الأطباء"}, "worker")
    rooms = cloud.add_resource_category("Rooms", "resource")
    sara = cloud.add_resource("worker", {"en": "Sara", "ar": "سارة"}, doctors["id"], [loc["id"]])
    omar = cloud.add_resource("worker", "Omar", doctors["id"], [loc["id"], other["id"]])
    room = cloud.add_resource("resource", "Room 1", rooms["id"], [loc["id"]])
    for worker in (sara, omar):
        cloud.set_work_hours(
            worker["id"],
            loc["id"],
            {TODAY + timedelta(days=n): [(time(9), time(12)), (time(13), time(17))] for n in range(-1, 8)},
        )
    general = cloud.add_service_category("General")
    consult = cloud.add_service(
        {"en": "Consultation", "ar": "استشارة"},
        general["id"],
        [30],
        [sara["id"], omar["id"]],
        [loc["id"]],
        price=230.0,
        tax_percent=15,
    )
    cleaning = cloud.add_service(
        "Cleaning",
        general["id"],
        [45],
        [sara["id"]],
        [loc["id"]],
        price=100.0,
        start_offset=10,
        end_offset=15,
    )
    huda = cloud.create_user({"first_name": "Huda", "last_name": "Saleh", "email": "huda@example.com"})
    with start_cloud(cloud) as running:
        running.ids = {
            "loc": loc["id"],
            "other": other["id"],
            "sara": sara["id"],
            "omar": omar["id"],
            "room": room["id"],
            "consult": consult.id,
            "cleaning": cleaning.id,
            "huda": huda["id"],
        }
        yield running


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.admin_url, auth=sim.auth, timeout=5) as client:
        yield client


def book(
    sim, http, start: str, day: date = TODAY, worker: str | None = "sara", service: str = "consult", **extra
) -> httpx.Response:
    body = {
        "location_id": sim.ids["loc"],
        "service_id": sim.ids[service],
        "date": day.isoformat(),
        "start_time": start,
        "resources": [sim.ids[worker]] if worker else [],
        "user_id": sim.ids["huda"],
        **extra,
    }
    return http.post("/bookings/service", json=body)


def all_pages(http, path: str, **params) -> list:
    rows, cursor = [], 0
    while True:
        page = http.get(path, params={**params, "cursor": cursor}).json()
        rows += page["data"]
        if not page["has_more"]:
            return rows
        cursor += len(page["data"])


# ---- authentication and transport (API reference "Authentication", "Localization", "Pagination") --------
def test_admin_api_needs_the_key_id_and_password_by_http_basic(sim, http):
    plain = httpx.get(f"{sim.admin_url}/bookings")
    assert plain.status_code == 401
    assert plain.json()["error"]["code"] == "unauthorized"
    wrong = httpx.get(f"{sim.admin_url}/bookings", auth=(sim.cloud.key_id, "not-the-password"))
    assert wrong.status_code == 401
    bearer = httpx.get(f"{sim.admin_url}/bookings", headers={"Authorization": f"Bearer {sim.cloud.password}"})
    assert bearer.status_code == 401
    garbled = httpx.get(f"{sim.admin_url}/bookings", headers={"Authorization": "Basic !!not-base64"})
    assert garbled.status_code == 401 and garbled.headers["www-authenticate"].startswith("Basic")
    swapped = httpx.get(f"{sim.admin_url}/bookings", auth=(sim.cloud.password, sim.cloud.key_id))
    assert swapped.status_code == 401
    assert http.get("/bookings").status_code == 200
    assert httpx.get(f"{sim.public_url}/locations").status_code == 200  # the Public API needs none


def test_a_key_without_the_privilege_gets_403_and_a_deleted_key_401(sim):
    reader = sim.cloud.add_key(privileges={"bookings:read"})
    with httpx.Client(base_url=sim.admin_url, auth=(reader.id, reader.password)) as client:
        assert client.get("/bookings").status_code == 200
        refused = client.post("/bookings/service", json={})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert client.get("/users").status_code == 403
        sim.cloud.delete_key(reader.id)
        assert client.get("/bookings").status_code == 401


def test_the_language_segment_picks_the_localization_and_falls_back(sim):
    def name(lang):
        return httpx.get(f"{sim.url}/{lang}/admin/v1/locations/{sim.ids['loc']}", auth=sim.auth).json()[
            "name"
        ]

    assert name("en") == "Olaya"
    assert name("ar") == "العليا"
    assert name("fi") in ("Olaya", "العليا")  # no Finnish text: any defined one
    assert httpx.get(f"{sim.url}/english/admin/v1/locations", auth=sim.auth).status_code == 404


def test_offset_paging_with_has_more_and_total_count(sim, http):
    for start in ("09:00", "09:30", "10:00", "10:30", "11:00"):
        assert book(sim, http, start).status_code == 200
    first = http.get("/bookings", params={"limit": 2}).json()
    assert first["object"] == "list" and first["has_more"] is True and first["total_count"] == 5
    assert [b["start_time"] for b in first["data"]] == ["09:00", "09:30"]
    last = http.get("/bookings", params={"limit": 2, "cursor": 4}).json()
    assert last["has_more"] is False and [b["start_time"] for b in last["data"]] == ["11:00"]
    assert len({b["id"] for b in all_pages(http, "/bookings", limit=2)}) == 5
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": -1}, {"limit": "many"}):
        refused = http.get("/bookings", params=bad)
        assert refused.status_code == 400
        assert refused.json()["error"]["errors"][0]["param"] in ("limit", "cursor")


def test_ids_are_integers_and_stamps_are_local_without_offset(sim, http):
    made = book(sim, http, "09:00").json()
    assert isinstance(made["id"], int) and made["object"] == "booking"
    assert made["created"] == "2026-12-07T09:00:00"  # 06:00 UTC on the cloud's clock, in Riyadh, no zone
    assert (
        "modified" not in made
    )  # only once modified (API reference: "Included only if the booking has been modified")
    assert made["interface"] == 1 and made["confirmed"] is False
    assert made["price"] == 230.0 and made["tax"] == 30.0 and made["paid"] is False


# ---- listing (API reference "List booking objects") ---------------------------------------------------------
def test_the_list_defaults_to_today_and_takes_a_date_range(sim, http):
    book(sim, http, "09:00")
    book(sim, http, "09:00", day=TODAY + timedelta(days=2))
    book(sim, http, "09:00", day=TODAY + timedelta(days=5))
    assert [b["date"] for b in http.get("/bookings").json()["data"]] == ["2026-12-07"]
    ranged = http.get("/bookings", params={"from_date": "2026-12-08", "to_date": "2026-12-12"}).json()["data"]
    assert [b["date"] for b in ranged] == ["2026-12-09", "2026-12-12"]
    assert len(http.get("/bookings", params={"from_date": "2026-12-07"}).json()["data"]) == 3
    assert http.get("/bookings", params={"date": "2026-12-07", "from_date": "2026-12-07"}).status_code == 400
    assert http.get("/bookings", params={"date": "7.12.2026"}).json()["error"]["errors"][0]["param"] == "date"


def test_changed_since_holds_creates_and_modifications_after_it(sim, http):
    old = book(sim, http, "09:00").json()
    untouched = book(sim, http, "10:00").json()
    sim.cloud.clock.shift(timedelta(hours=1))
    mark = "2026-12-07T09:30:00"
    fresh = book(sim, http, "11:00").json()
    confirmed = http.post(f"/bookings/{old['id']}/confirm").json()
    assert confirmed["confirmed"] is True and confirmed["modified"] == "2026-12-07T10:00:00"
    changed = http.get("/bookings", params={"changed_since": mark}).json()["data"]
    assert {b["id"] for b in changed} == {old["id"], fresh["id"]}
    assert untouched["id"] not in {b["id"] for b in changed}
    # an offset is accepted and converted: 06:30Z is 09:30 in Riyadh
    assert {
        b["id"]
        for b in http.get("/bookings", params={"changed_since": "2026-12-07T06:30:00Z"}).json()["data"]
    } == {old["id"], fresh["id"]}
    assert http.get("/bookings", params={"changed_since": "yesterday"}).status_code == 400


def test_list_filters_by_location_resources_and_confirmed(sim, http):
    a = book(sim, http, "09:00", worker="sara").json()
    b = book(sim, http, "09:00", worker="omar").json()
    http.post(f"/bookings/{b['id']}/confirm")
    assert [
        x["id"] for x in http.get("/bookings", params={"resources": str(sim.ids["sara"])}).json()["data"]
    ] == [a["id"]]
    both = f"{sim.ids['sara']},{sim.ids['omar']}"
    assert len(http.get("/bookings", params={"resources": both}).json()["data"]) == 2
    assert [x["id"] for x in http.get("/bookings", params={"confirmed": "true"}).json()["data"]] == [b["id"]]
    assert http.get("/bookings", params={"location_id": sim.ids["other"]}).json()["data"] == []


# ---- create, delete, deleted ids (API reference "Create a service booking", "Delete a booking") ---------------
def test_a_deleted_booking_is_gone_and_listed_by_id_under_its_deletion_date(sim, http):
    made = book(sim, http, "09:00", day=TODAY + timedelta(days=3)).json()
    assert http.delete(f"/bookings/{made['id']}").json() == {"id": made["id"]}
    assert http.get(f"/bookings/{made['id']}").status_code == 404
    assert http.delete(f"/bookings/{made['id']}").status_code == 404  # a re-sent delete
    assert made["id"] not in [
        b["id"] for b in http.get("/bookings", params={"from_date": "2026-12-01"}).json()["data"]
    ]
    assert http.get("/bookings/deleted").json()["data"] == [made["id"]]  # default: deleted today
    sim.cloud.clock.shift(timedelta(days=1))
    assert http.get("/bookings/deleted").json()["data"] == []
    window = http.get("/bookings/deleted", params={"from_date": "2026-12-06", "to_date": "2026-12-09"}).json()
    assert window["data"] == [made["id"]] and window["has_more"] is False
    assert http.get("/bookings/deleted", params={"date": "2026-12-07"}).json()["data"] == [made["id"]]


def test_there_is_no_booking_edit(sim, http):
    made = book(sim, http, "09:00").json()
    for method in ("PUT", "PATCH", "POST"):
        answer = http.request(method, f"/bookings/{made['id']}", json={"start_time": "10:00"})
        assert answer.status_code == 405
    assert http.get(f"/bookings/{made['id']}").json()["start_time"] == "09:00"


def test_validation_errors_name_each_bad_argument(sim, http):
    missing = http.post("/bookings/service", json={"location_id": sim.ids["loc"]})
    assert missing.status_code == 400
    params = {e["param"] for e in missing.json()["error"]["errors"]}
    assert params == {"service_id", "date", "start_time", "resources", "user_id"}
    for bad, param in (
        (dict(date="07/12/2026"), "date"),
        (dict(start_time="9am"), "start_time"),
        (dict(user_id=999999), "user_id"),
        (dict(service_id="consult"), "service_id"),
        (dict(resources=[sim.ids["huda"] + 10**6]), "resources"),
    ):
        answer = book(sim, http, "09:00", **bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["errors"][0]["param"] == param
    wrong_worker = book(sim, http, "09:00", worker="omar", service="cleaning")  # Omar gives no cleaning
    assert wrong_worker.status_code == 400
    assert http.post("/bookings/service", content=b"{not json").status_code == 400
    assert http.get("/bookings", params={"from_date": "2026-12-01"}).json()["data"] == []  # nothing half-made


def test_slot_conflicts_and_work_hours_are_409(sim, http):
    assert book(sim, http, "09:00").status_code == 200
    taken = book(sim, http, "09:15")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "slot_taken"
    assert book(sim, http, "09:15", worker="omar").status_code == 200  # another worker is free
    late = book(sim, http, "16:45")  # 30 minutes past 17:00
    assert late.status_code == 409 and late.json()["error"]["code"] == "outside_work_hours"
    assert book(sim, http, "12:15").json()["error"]["code"] == "outside_work_hours"  # the lunch gap
    assert book(sim, http, "09:00", worker=None).status_code == 200  # no worker: waiting for one


def test_offsets_block_the_resource_around_the_visit(sim, http):
    cleaning = book(sim, http, "10:00", service="cleaning").json()
    assert cleaning["end_time"] == "10:45" and cleaning["start_offset"] == 10 and cleaning["end_offset"] == 15
    assert book(sim, http, "10:45").json()["error"]["code"] == "slot_taken"  # inside the 15 minute end offset
    assert book(sim, http, "09:30").json()["error"]["code"] == "slot_taken"  # ends inside the start offset
    assert book(sim, http, "11:00").status_code == 200


def test_a_resource_booking_holds_the_room(sim, http):
    body = {
        "location_id": sim.ids["loc"],
        "date": TODAY.isoformat(),
        "start_time": "14:00",
        "duration": "01:30",
        "resources": [sim.ids["room"]],
        "user_id": sim.ids["huda"],
    }
    made = http.post("/bookings/resource", json=body)
    assert made.status_code == 200
    assert made.json()["type"] == "resource" and made.json()["end_time"] == "15:30"
    assert http.post("/bookings/resource", json={**body, "start_time": "15:00"}).status_code == 409
    assert http.post("/bookings/resource", json={**body, "duration": None}).status_code == 400


# ---- confirm, payments (API reference "Confirm a booking", "Payments") ---------------------------------------
def test_confirm_and_unconfirm_can_be_resent(sim, http):
    made = book(sim, http, "09:00").json()
    assert http.post(f"/bookings/{made['id']}/confirm").json()["confirmed"] is True
    assert http.post(f"/bookings/{made['id']}/confirm").json()["confirmed"] is True
    assert http.post(f"/bookings/{made['id']}/unconfirm").json()["confirmed"] is False
    assert http.post("/bookings/999999/confirm").status_code == 404


def test_a_cash_payment_is_added_and_paid_follows_the_price(sim, http):
    made = book(sim, http, "09:00").json()
    sim.cloud.clock.shift(timedelta(minutes=10))
    first = http.post(f"/bookings/{made['id']}/payments", json={"amount": 100, "tax": 15})
    assert first.status_code == 200
    assert first.json() == {
        "object": "payment",
        "id": first.json()["id"],
        "type": "cash",
        "amount": 100.0,
        "tax": 15.0,
    }
    after = http.get(f"/bookings/{made['id']}").json()
    assert after["paid"] is False and after["modified"] == "2026-12-07T09:10:00"
    http.post(f"/bookings/{made['id']}/payments", json={"type": "cash", "amount": 130, "tax": 15})
    assert http.get(f"/bookings/{made['id']}").json()["paid"] is True
    listed = http.get(f"/bookings/{made['id']}/payments").json()
    assert [p["amount"] for p in listed["data"]] == [100.0, 130.0] and listed["total_count"] == 2
    one = http.get(f"/bookings/{made['id']}/payments/{first.json()['id']}").json()
    assert one["amount"] == 100.0
    assert http.get(f"/bookings/{made['id']}/payments/999999").status_code == 404
    changed = http.get("/bookings", params={"changed_since": "2026-12-07T09:05:00"}).json()["data"]
    assert [b["id"] for b in changed] == [made["id"]]


def test_only_cash_can_be_added_within_the_seed_ranges(sim, http):
    made = book(sim, http, "09:00").json()
    for body, param in (
        ({"type": "online", "amount": 10, "tax": 0}, "type"),
        ({"amount": 100000, "tax": 0}, "amount"),
        ({"amount": -1, "tax": 0}, "amount"),
        ({"amount": 10, "tax": 101}, "tax"),
        ({"amount": 10}, "tax"),
    ):
        answer = http.post(f"/bookings/{made['id']}/payments", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["errors"][0]["param"] == param
    assert http.get(f"/bookings/{made['id']}/payments").json()["data"] == []
    assert http.post("/bookings/999999/payments", json={"amount": 1, "tax": 0}).status_code == 404


# ---- users (API reference "Users") ---------------------------------------------------------------------------
def test_users_create_edit_delete_and_the_list_leaves_out_temporary_ones(sim, http):
    made = http.post(
        "/users",
        json={
            "first_name": "Omar",
            "last_name": "Nasser",
            "phone": "+966501234567",
            "gender": "male",
            "birth_year": 1980,
        },
    )
    assert made.status_code == 200
    user = made.json()
    assert user["name"] == "Omar Nasser" and user["type"] == "normal" and isinstance(user["id"], int)
    temp = http.post("/users", json={"type": "temporary", "first_name": "Walk", "last_name": "In"}).json()
    listed = {u["id"] for u in all_pages(http, "/users")}
    assert user["id"] in listed and temp["id"] not in listed
    temp_read = http.get(f"/users/{temp['id']}").json()
    assert temp_read["type"] == "temporary" and temp_read["email"] is None and "phone" not in temp_read
    edited = http.post(
        f"/users/{user['id']}", json={"first_name": "Omar", "last_name": "Nasr", "city": "Riyadh"}
    )
    assert edited.json()["name"] == "Omar Nasr" and edited.json()["phone"] == "+966501234567"
    for body, param in (
        ({"first_name": "A"}, "last_name"),
        ({"first_name": "A", "last_name": "B", "gender": "x"}, "gender"),
        ({"first_name": "A", "last_name": "B", "birth_year": 1850}, "birth_year"),
        ({"first_name": "A", "last_name": "B", "email": "not-an-email"}, "email"),
    ):
        answer = http.post("/users", json=body)
        assert answer.status_code == 400 and answer.json()["error"]["errors"][0]["param"] == param
    assert http.delete(f"/users/{user['id']}").json() == {"id": user["id"]}
    assert http.get(f"/users/{user['id']}").status_code == 404


def test_a_booking_carries_its_user_not_fully_expanded(sim, http):
    made = book(sim, http, "09:00").json()
    assert made["user"] == {"object": "user", "id": sim.ids["huda"], "name": "Huda Saleh"}
    assert http.get(f"/users/{sim.ids['huda']}").json()["email"] == "huda@example.com"


# ---- reference data, work hours (API reference "Locations", "Resources", "Workers", "Services") ---------------
def test_resources_by_type_and_location(sim, http):
    workers = http.get("/resources", params={"type": "worker", "location_id": sim.ids["other"]}).json()[
        "data"
    ]
    assert [w["id"] for w in workers] == [sim.ids["omar"]]
    rooms = http.get("/resources", params={"type": "resource"}).json()["data"]
    assert [r["name"] for r in rooms] == ["Room 1"]
    assert http.get("/resources", params={"type": "robot"}).status_code == 400
    assert http.get("/locations/999999").status_code == 404
    assert "external_id" not in http.get(f"/locations/{sim.ids['loc']}").json()
    assert (
        http.get(f"/locations/{sim.ids['loc']}", params={"external_ids": "true"}).json()["external_id"]
        == "branch-1"
    )
    service = http.get(f"/services/{sim.ids['consult']}").json()
    assert service == {
        "object": "service",
        "id": sim.ids["consult"],
        "name": "Consultation",
        "category_id": service["category_id"],
    }  # the admin service object has no durations


def test_work_hours_are_read_by_date_and_replaced_per_date(sim, http):
    sara = sim.ids["sara"]
    read = http.get(
        f"/workers/{sara}/work_hours", params={"from_date": "2026-12-07", "to_date": "2026-12-08"}
    ).json()
    assert [(d["date"], d["location_id"], d["hours"][0]) for d in read["data"]] == [
        ("2026-12-07", sim.ids["loc"], {"start_time": "09:00", "end_time": "12:00"}),
        ("2026-12-08", sim.ids["loc"], {"start_time": "09:00", "end_time": "12:00"}),
    ]
    assert len(http.get(f"/workers/{sara}/work_hours").json()["data"]) == 1  # default: today
    body = {
        "location_id": sim.ids["loc"],
        "work_hours": [{"date": "2026-12-07", "hours": [{"start_time": "18:00", "end_time": "20:00"}]}],
    }
    assert http.post(f"/workers/{sara}/work_hours", json=body).status_code == 200
    at_loc = http.get(f"/workers/{sara}/locations/{sim.ids['loc']}/work_hours").json()["data"]
    assert at_loc[0]["hours"] == [{"start_time": "18:00", "end_time": "20:00"}]
    assert book(sim, http, "09:00").json()["error"]["code"] == "outside_work_hours"
    assert book(sim, http, "18:00").status_code == 200
    assert (
        http.delete(
            f"/workers/{sara}/work_hours", params={"location_id": sim.ids["loc"], "date": "2026-12-08"}
        ).status_code
        == 204
    )
    assert (
        book(sim, http, "09:00", day=TODAY + timedelta(days=1)).json()["error"]["code"]
        == "outside_work_hours"
    )
    assert (
        http.delete(f"/workers/{sara}/work_hours", params={"location_id": sim.ids["loc"]}).status_code == 400
    )
    assert http.get(f"/workers/{sim.ids['room']}/work_hours").status_code == 404  # a room is no worker
    wrong = http.post(f"/workers/{sara}/work_hours", json={"location_id": sim.ids["other"], "work_hours": []})
    assert wrong.status_code == 400


def test_public_times_leave_out_taken_and_past_slots(sim, http):
    base = f"{sim.public_url}/locations/olaya/views/book"
    services = httpx.get(f"{base}/services").json()["data"]
    assert services[0]["object"] == "service_category"
    assert services[0]["services"][0]["durations"] == ["00:30"]
    sim.cloud.clock.shift(timedelta(hours=1))  # 10:00 in Riyadh
    book(sim, http, "10:30", worker="sara")
    times = httpx.get(
        f"{base}/times",
        params={
            "service_id": sim.ids["consult"],
            "worker_id": sim.ids["sara"],
            "date": "2026-12-07",
            "range": "day",
        },
    ).json()["data"]
    starts = [t["start_time"] for t in times]
    assert "09:30" not in starts and "10:00" in starts  # past; now
    assert "10:30" not in starts and "10:15" not in starts and "11:00" in starts
    assert all(t["worker_id"] == sim.ids["sara"] and t["date"] == "2026-12-07" for t in times)
    week = httpx.get(f"{base}/times", params={"service_id": sim.ids["consult"], "date": "2026-12-09"}).json()
    assert {t["date"] for t in week["data"]} == {
        f"2026-12-{d:02d}" for d in range(7, 14)
    }  # the ISO week (till +7)
    assert (
        httpx.get(f"{base}/times", params={"service_id": sim.ids["consult"], "range": "month"}).status_code
        == 400
    )
    later = httpx.get(
        f"{base}/times",
        params={"service_id": sim.ids["consult"], "date": "2026-12-21", "next_available": "true"},
    ).json()
    assert later["data"] == []  # no hours beyond the generated week, and none within 90 days after


# ---- faults (tests/clouds/faults.py; contract "Transport" → Errors) -----------------------------------
def test_a_lost_reply_on_create_commits_the_booking(sim, http):
    sim.cloud.faults.lose_reply(method="POST", path="/api/en/admin/v1/bookings/service")
    with pytest.raises(httpx.TransportError):
        book(sim, http, "09:00")
    found = http.get(
        "/bookings",
        params={
            "date": "2026-12-07",
            "location_id": sim.ids["loc"],
            "resources": str(sim.ids["sara"]),
            "changed_since": "2026-12-07T08:58:00",
        },
    ).json()["data"]
    assert [(b["start_time"], b["user"]["id"], b["interface"]) for b in found] == [
        ("09:00", sim.ids["huda"], 1)
    ]
    assert book(sim, http, "09:00").status_code == 409  # a blind re-send finds the slot taken


def test_a_lost_reply_on_delete_leaves_it_deleted(sim, http):
    made = book(sim, http, "09:00").json()
    sim.cloud.faults.lose_reply(method="DELETE")
    with pytest.raises(httpx.TransportError):
        http.delete(f"/bookings/{made['id']}")
    assert http.get("/bookings/deleted").json()["data"] == [made["id"]]
    assert http.delete(f"/bookings/{made['id']}").status_code == 404


def test_transient_faults_429_5xx_drop_and_latency(sim, http):
    sim.cloud.faults.rate_limit(retry_after=3)
    limited = http.get("/bookings")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["code"] == "rate_limited"
    sim.cloud.faults.fail(status=503)
    assert http.get("/bookings").status_code == 503
    sim.cloud.faults.drop(method="POST")
    with pytest.raises(httpx.TransportError):
        book(sim, http, "09:00")
    assert http.get("/bookings").json()["data"] == []  # a drop does nothing
    sim.cloud.faults.latency(400)
    started = datetime.now(UTC)
    assert http.get("/bookings").status_code == 200
    assert datetime.now(UTC) - started >= timedelta(milliseconds=380)
    sim.cloud.faults.clear()


def test_the_admin_interface_is_never_faulted_and_needs_its_key(sim):
    sim.cloud.faults.fail(count=None)
    assert httpx.get(f"{sim.root}/_sim/health").status_code == 401
    health = httpx.get(f"{sim.root}/_sim/health", headers=sim.admin)
    assert health.status_code == 200 and health.json()["zone"] == "Asia/Riyadh"
    added = httpx.post(f"{sim.root}/_sim/faults", headers=sim.admin, json={"kind": "rate_limit", "count": 2})
    assert len(added.json()["faults"]) == 2
    assert httpx.delete(f"{sim.root}/_sim/faults", headers=sim.admin).json() == {"faults": []}


# ---- cloud-side changes (the admin interface) ---------------------------------------------------------
def test_cloud_side_online_booking_move_assign_payment_and_delete(sim, http):
    admin = httpx.Client(base_url=f"{sim.root}/_sim", headers=sim.admin)
    online = admin.post(
        "/bookings",
        json={
            "location_id": sim.ids["loc"],
            "service_id": sim.ids["consult"],
            "date": "2026-12-08",
            "start_time": "10:00",
            "campaign_code": "WINTER",
        },
    )
    assert online.status_code == 200
    made = online.json()
    assert made["interface"] == WWW and "resources" not in made and made["campaign_code"] == "WINTER"
    sim.cloud.clock.shift(timedelta(minutes=5))
    assigned = admin.post(f"/bookings/{made['id']}/assign", json={"worker_id": sim.ids["omar"]}).json()
    assert assigned["id"] == made["id"] and assigned["resources"] == [sim.ids["omar"]]
    moved = admin.post(
        f"/bookings/{made['id']}/move", json={"date": "2026-12-09", "start_time": "11:00"}
    ).json()
    assert (moved["id"], moved["date"], moved["start_time"], moved["end_time"]) == (
        made["id"],
        "2026-12-09",
        "11:00",
        "11:30",
    )
    assert moved["modified"] == "2026-12-07T09:05:00"
    paid = admin.post(f"/bookings/{made['id']}/payments", json={"type": "online", "amount": 230, "tax": 15})
    assert paid.json()["type"] == "online" and http.get(f"/bookings/{made['id']}").json()["paid"] is True
    assert admin.post("/clock", json={"shift_seconds": 3600}).json()["now"] == "2026-12-07T10:05:00"
    assert admin.delete(f"/bookings/{made['id']}").json() == {"id": made["id"]}
    assert http.get("/bookings/deleted").json()["data"] == [made["id"]]
    assert (
        admin.post("/bookings/999999/move", json={"date": "2026-12-09", "start_time": "11:00"}).status_code
        == 404
    )
    staff = admin.post(
        "/bookings",
        json={
            "by": "staff",
            "location_id": sim.ids["loc"],
            "service_id": sim.ids["consult"],
            "date": "2026-12-08",
            "start_time": "20:00",
            "worker_id": sim.ids["sara"],
            "user_id": sim.ids["huda"],
        },
    )
    assert staff.status_code == 200  # staff may book outside the work hours; the API may not
    assert (staff.json()["interface"], staff.json()["confirmed"]) == (1, True)
    assert (
        book(sim, http, "20:00", day=TODAY + timedelta(days=1)).json()["error"]["code"]
        == "outside_work_hours"
    )
    assert httpx.post(f"{sim.root}/_sim/bookings", json={}).status_code == 401
    admin.close()


# ---- the generated clinic --------------------------------------------------------------------------------
def test_the_generated_clinic_is_realistic():
    cloud = DigitalBookerCloud(clock=Clock(NOW))
    clinic = generate_clinic(cloud, seed=3)
    with start_cloud(cloud) as running, httpx.Client(base_url=running.admin_url, auth=running.auth) as http:
        assert len(all_pages(http, "/locations")) == 2
        location = clinic["locations"][0]
        window = {"location_id": location, "from_date": "2026-12-06", "to_date": "2027-01-06", "limit": 25}
        rows = all_pages(http, "/bookings", **window)
        days = {b["date"] for b in rows}
        assert "2026-12-07" in days and "2026-12-06" in days and len(days) >= 8
        assert {b["type"] for b in rows} == {"service", "class", "resource"}
        assert any(b.get("paid") for b in rows) and any(b.get("paid") is False for b in rows)
        assert any("modified" in b for b in rows) and any("modified" not in b for b in rows)
        assert {b["interface"] for b in rows} == {1, 2}
        assert any(b["confirmed"] for b in rows) and any(not b["confirmed"] for b in rows)
        assert any(b["type"] == "service" and "resources" not in b for b in rows)  # waiting for a worker
        assert all(b["created"] <= "2026-12-07T09:00:00" for b in rows)
        deleted = http.get(
            "/bookings/deleted", params={"from_date": "2026-12-04", "to_date": "2026-12-08"}
        ).json()
        assert deleted["data"] == clinic["deleted"]
        workers = http.get("/resources", params={"type": "worker", "location_id": location}).json()["data"]
        assert len(workers) == 3
        hours = http.get(
            f"/workers/{workers[0]['id']}/work_hours",
            params={"from_date": "2026-12-06", "to_date": "2027-01-06"},
        ).json()["data"]
        assert hours[0]["date"] == "2026-12-06" and hours[-1]["date"] >= "2027-01-05"
        assert all(date.fromisoformat(h["date"]).weekday() != 4 for h in hours)  # Fridays closed
        users = {u["id"] for u in all_pages(http, "/users")}
        assert len(users) == 24 and not users & set(clinic["temporary_users"])
        assert generate_clinic(DigitalBookerCloud(clock=Clock(NOW)), seed=3).keys() == clinic.keys()


def test_a_bulk_load_reads_back_page_by_page(sim, http):
    made = sim.cloud.load_bookings(sim.ids["loc"], 1500, service_id=sim.ids["consult"])
    assert len(made) == 1500
    rows = all_pages(
        http, "/bookings", from_date="2026-12-07", to_date="2027-01-06", location_id=sim.ids["loc"]
    )
    assert sorted(b["id"] for b in rows) == sorted(made)
    nine = next(b for b in rows if b["start_time"] == "10:00" and b["date"] == "2026-12-08")
    worker = "sara" if nine["resources"] == [sim.ids["sara"]] else "omar"
    again = book(sim, http, "10:00", day=TODAY + timedelta(days=1), worker=worker)
    assert again.json()["error"]["code"] == "slot_taken"  # the loaded bookings hold their workers


def test_offset_paging_over_a_changing_list_can_repeat_a_row(sim, http):
    for start in ("10:00", "10:30", "11:00"):
        book(sim, http, start)
    first = http.get("/bookings", params={"limit": 2}).json()["data"]
    book(sim, http, "09:00")  # sorts first: every later row moves down one place
    second = http.get("/bookings", params={"limit": 2, "cursor": 2}).json()["data"]
    assert [b["start_time"] for b in first] == ["10:00", "10:30"]
    assert [b["start_time"] for b in second] == ["10:30", "11:00"]  # contract: "can skip or repeat a row"


def test_a_rate_limited_or_failed_create_does_nothing(sim, http):
    sim.cloud.faults.rate_limit(method="POST")
    assert book(sim, http, "09:00").status_code == 429
    sim.cloud.faults.fail(method="POST", status=502)
    assert book(sim, http, "09:00").status_code == 502
    assert http.get("/bookings").json()["data"] == []
    assert book(sim, http, "09:00").status_code == 200


def test_a_lost_reply_on_a_payment_commits_it(sim, http):
    made = book(sim, http, "09:00").json()
    sim.cloud.faults.lose_reply(method="POST", path=f"/api/en/admin/v1/bookings/{made['id']}/payments")
    with pytest.raises(httpx.TransportError):
        http.post(f"/bookings/{made['id']}/payments", json={"amount": 230, "tax": 15})
    assert [p["amount"] for p in http.get(f"/bookings/{made['id']}/payments").json()["data"]] == [230.0]
    assert http.get(f"/bookings/{made['id']}").json()["paid"] is True


def test_a_course_booking_is_a_class_booking_until_the_class_is_full(sim, http):
    category = sim.cloud.add_class_category({"en": "Group sessions", "ar": "جلسات جماعية"})
    kind = sim.cloud.add_class_type("Diabetes education", category["id"])
    held = sim.cloud.add_class(
        kind["id"],
        sim.ids["loc"],
        TODAY + timedelta(days=1),
        time(17),
        time(18),
        resources=[sim.ids["room"]],
        price=50.0,
        tax_percent=15,
        max_bookings=1,
    )
    made = http.post("/bookings/course", json={"course_id": held["id"], "user_id": sim.ids["huda"]})
    assert made.status_code == 200
    assert (made.json()["type"], made.json()["class_id"], made.json()["title"]) == (
        "class",
        held["id"],
        "Diabetes education",
    )
    assert "service_id" not in made.json() and made.json()["start_time"] == "17:00"
    full = http.post("/bookings/course", json={"course_id": held["id"], "user_id": sim.ids["huda"]})
    assert full.status_code == 409 and full.json()["error"]["code"] == "class_full"
    assert (
        http.post("/bookings/course", json={"course_id": 999999, "user_id": sim.ids["huda"]}).status_code
        == 400
    )
    assert http.get("/class_types").json()["data"][0]["title"] == "Diabetes education"
    assert http.get("/class_categories", headers={}).json()["data"][0]["object"] == "category"
    arabic = httpx.get(f"{sim.url}/ar/admin/v1/class_categories", auth=sim.auth).json()["data"][0]
    assert arabic["name"] == "جلسات جماعية"


def test_user_groups_and_the_group_filter(sim, http):
    group = sim.cloud.add_user_group({"en": "VIP", "ar": "كبار العملاء"})
    other = http.post("/users", json={"first_name": "Reem", "last_name": "Shehri"}).json()
    group["members"].append(sim.ids["huda"])
    assert [u["id"] for u in http.get("/users", params={"group_id": group["id"]}).json()["data"]] == [
        sim.ids["huda"]
    ]
    assert http.get(f"/users/{sim.ids['huda']}/groups").json()["data"] == [
        {"object": "user_group", "id": group["id"], "name": "VIP"}
    ]
    assert http.get(f"/users/{other['id']}/groups").json()["data"] == []
    assert http.get(f"/user_groups/{group['id']}").json()["name"] == "VIP"
    assert http.get("/user_groups/999999").status_code == 404
    assert http.get("/users", params={"group_id": 999999}).status_code == 404


def test_the_public_api_locations_views_and_service_resources(sim):
    listed = httpx.get(f"{sim.public_url}/locations").json()
    assert {loc["url_text"] for loc in listed["data"]} == {"olaya", "north"}
    assert all("admin_calendar" not in loc and "external_id" not in loc for loc in listed["data"])
    olaya = httpx.get(f"{sim.public_url}/locations/olaya", params={"expand": "views"}).json()
    assert [(v["type"], v["url_text"]) for v in olaya["views"]] == [("services", "book")]
    assert "views" not in httpx.get(f"{sim.public_url}/locations/olaya").json()
    assert httpx.get(f"{sim.public_url}/locations/nowhere").status_code == 404
    assert httpx.get(f"{sim.public_url}/locations/olaya/views/book").json()["object"] == "view"
    base = f"{sim.public_url}/locations/olaya/views/book/services"
    workers = httpx.get(f"{base}/{sim.ids['cleaning']}/resources").json()["data"]
    assert [w["id"] for w in workers] == [sim.ids["sara"]]
    assert httpx.get(f"{base}/{sim.ids['consult']}/alternatives").json()["data"] == []
    assert httpx.get(f"{base}/999999/resources").status_code == 404
