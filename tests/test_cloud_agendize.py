"""The simulated Agendize cloud over real HTTP on 127.0.0.1 (``tests/clouds/agendize``).

Each test names the Agendize API reference or the contract
(``docs/clouds/agendize.md``) section whose rule it checks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.clouds.agendize import STATUSES, AgendizeCloud, Clock, generate_clinic, start_cloud
from tests.clouds.agendize.clinic import EVENING, MORNING, WEEK

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Riyadh


@pytest.fixture
def sim():
    cloud = AgendizeCloud(clock=Clock(NOW), page_size=3)
    company = cloud.add_company("Riyadh clinic", "Asia/Riyadh", working_hours=WEEK)
    sara = cloud.add_staff(
        company.id,
        "Sara",
        "Qahtani",
        working_hours=MORNING,
        external_id="prov-sara",
        vacations=[{"startDate": "2026-12-09", "endDate": "2026-12-09"}],
    )
    omar = cloud.add_staff(
        company.id,
        "Omar",
        "Haddad",
        working_hours=EVENING,
        custom_hours=[{"date": "2026-12-08", "hours": [{"start": "09:00", "end": "11:00"}]}],
    )
    service = cloud.add_service(company.id, "Consultation", 30, [sara["id"], omar["id"]], price=200)
    room = cloud.add_resource(company.id, "Room 1", "room-1")
    huda = cloud.create_client(
        {"firstName": "Huda", "lastName": "Saleh", "email": "huda@example.com", "externalId": "desk-1"}
    )
    with start_cloud(cloud) as running:
        running.ids = {
            "company": company.id,
            "sara": sara["id"],
            "omar": omar["id"],
            "service": service["id"],
            "room": room["id"],
            "huda": huda["id"],
        }
        yield running


@pytest.fixture
def http(sim):
    base = f"{sim.url}/scheduling/companies/{sim.ids['company']}"
    with httpx.Client(base_url=base, params=sim.params, timeout=5) as client:
        yield client


def at(local: str) -> dict:
    return {"dateTime": local, "timeZone": "Asia/Riyadh"}


def insert(
    sim, http, local: str, staff: str | None = "sara", params: dict | None = None, **extra
) -> httpx.Response:
    body = {
        "client": {"id": sim.ids["huda"]},
        "service": {"id": sim.ids["service"]},
        "start": at(local),
        **extra,
    }
    if staff:
        body["staff"] = {"id": sim.ids[staff]}
    return http.post("/appointments", json=body, params=params or {})


def listing(http, **params) -> list[dict]:
    """All pages of a list call; returns (items, nextSyncToken)."""
    items, token, pages = [], None, 0
    while True:
        page = http.get("/appointments", params={**params, **({"pageToken": token} if token else {})}).json()
        items += page["items"]
        pages += 1
        assert ("nextPageToken" in page) != ("nextSyncToken" in page)  # the sync token on the last page only
        token = page.get("nextPageToken")
        if token is None:
            return items, page["nextSyncToken"]


def test_auth_by_query_headers_or_bearer(sim):
    """Contract "Transport" (Auth): ``apiKey`` + ``token`` as query parameters, as headers,
    or an OAuth2 bearer; anything else is a 401 in the error envelope."""
    url = sim.url + "/scheduling/companies"
    assert httpx.get(url, params=sim.params).status_code == 200
    assert httpx.get(url, headers={"apiKey": sim.cloud.api_key, "token": sim.cloud.token}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {sim.cloud.access_token}"}).status_code == 200
    refused = httpx.get(url, params={"apiKey": sim.cloud.api_key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 401
    old = dict(sim.params)
    sim.cloud.revoke_token()
    assert httpx.get(url, params=old).status_code == 401


def test_reference_data(sim, http):
    """Contract "Operations" and "Objects" (company, staff, services, resources; inferred
    rows): company ``timeZone``/``workingHours``, staff hours, custom hours and vacations,
    service duration and staff; every id is text of at most 16 characters (API reference)."""
    company = httpx.get(f"{sim.url}/scheduling/companies/{sim.ids['company']}", params=sim.params).json()
    assert company["timeZone"] == "Asia/Riyadh" and company["workingHours"][0]["day"] == "sunday"
    staff = http.get("/staff").json()["items"]
    assert [s["firstName"] for s in staff] == ["Sara", "Omar"]
    assert staff[0]["vacations"] == [{"startDate": "2026-12-09", "endDate": "2026-12-09"}]
    assert staff[1]["customWorkingHours"][0]["date"] == "2026-12-08"
    service = http.get("/services").json()["items"][0]
    assert service["duration"] == 30 and service["staff"] == [
        {"id": sim.ids["sara"]},
        {"id": sim.ids["omar"]},
    ]
    assert http.get("/resources").json()["items"][0]["name"] == "Room 1"
    assert all(isinstance(i, str) and len(i) <= 16 for i in sim.ids.values())
    clients = httpx.get(sim.clients_url + "/clients", params=sim.params).json()["items"]
    assert clients[0]["externalId"] == "desk-1"


def test_insert_shape_and_working_time_control(sim, http):
    """API reference "Insert" and "Appointments": the end follows the service duration, times are
    ``{dateTime, timeZone}`` with no offset, ``extendedProperties.private`` is kept,
    ``history[]`` starts with ``booked``; outside working hours → 400, a taken slot → 409
    (contract "Transport" → Errors), ``force`` needs a staff id and overrides both."""
    made = insert(
        sim,
        http,
        "2026-12-07T10:00:00",
        extendedProperties={"private": {"deskOpId": "op-1"}},
        notes="first visit",
    )
    assert made.status_code == 200
    a = made.json()
    assert a["start"] == at("2026-12-07T10:00:00") and a["end"] == at("2026-12-07T10:30:00")
    assert (
        a["status"] == "accepted"
        and a["staff"]["id"] == sim.ids["sara"]
        and a["client"]["externalId"] == "desk-1"
    )
    assert a["extendedProperties"]["private"] == {"deskOpId": "op-1"} and a["history"][0]["type"] == "booked"
    assert a["price"] == {"amount": 200.0, "currency": "USD"} and a["type"] == "normal"
    assert (
        http.get(f"/appointments/{a['reference']}").json()["id"] == a["id"]
    )  # API reference "Get": id or reference

    late = insert(sim, http, "2026-12-07T15:00:00")  # Sara works 08-14
    assert late.status_code == 400 and late.json()["error"]["reason"] == "outsideWorkingHours"
    assert insert(sim, http, "2026-12-09T10:00:00").status_code == 400  # her vacation
    assert insert(sim, http, "2026-12-08T09:30:00", staff="omar").status_code == 200  # his custom hours
    taken = insert(sim, http, "2026-12-07T10:15:00")
    assert taken.status_code == 409
    assert insert(sim, http, "2026-12-07T10:15:00", staff=None, params={"force": "true"}).status_code == 400
    forced = insert(sim, http, "2026-12-07T10:15:00", params={"force": "true"})
    assert forced.status_code == 200  # the audited overbook override
    offset = insert(sim, http, "2026-12-07T10:00:00+03:00")
    assert offset.status_code == 400  # dateTime carries no zone information (API reference "start.dateTime")


def test_update_is_partial_with_history_and_silent(sim, http):
    """API reference "Update" and "history[].type"; contract "Desk operations": reschedule keeps
    the id; the visit flow pushes ``inProgress``, ``completed``, ``noShow`` with
    ``silent=true`` (no message to the client); ``status`` with ``customStatus`` is refused."""
    a = insert(sim, http, "2026-12-07T11:00:00").json()
    moved = http.put(f"/appointments/{a['id']}", json={"start": at("2026-12-07T12:00:00")}).json()
    assert moved["id"] == a["id"] and moved["end"] == at("2026-12-07T12:30:00") and moved["notes"] == ""
    assert moved["history"][-1]["type"] == "user_rescheduled_changed_start"
    assert moved["client"]["id"] == sim.ids["huda"] and moved["staff"]["id"] == sim.ids["sara"]
    sent = len(sim.cloud.notifications)
    for status, kind in (("inProgress", "in_progress"), ("completed", "completed"), ("noShow", "no_show")):
        done = http.put(f"/appointments/{a['id']}", json={"status": status}, params={"silent": "true"}).json()
        assert done["status"] == status and done["history"][-1]["type"] == kind
    assert len(sim.cloud.notifications) == sent  # silent
    http.put(f"/appointments/{a['id']}", json={"notes": "moved by phone"})
    assert len(sim.cloud.notifications) == sent + 1
    both = http.put(f"/appointments/{a['id']}", json={"status": "accepted", "customStatus": {"id": "1"}})
    assert both.status_code == 400
    assert http.put(f"/appointments/{a['id']}", json={"status": "finished"}).status_code == 400

    ended = http.put(f"/appointments/{a['id']}", json={"end": at("2026-12-07T12:10:00")}).json()
    assert ended["end"] == at("2026-12-07T12:30:00")  # end is for personal appointments only (API reference)

    past = insert(sim, http, "2026-12-07T08:00:00", params={"force": "true"}).json()  # ended at 08:30
    stuck = http.put(f"/appointments/{past['id']}", json={"start": at("2026-12-07T13:00:00")})
    assert stuck.status_code == 400 and stuck.json()["error"]["reason"] == "finished"


def test_all_seven_statuses_are_written_and_read(sim, http):
    """API reference "status": the seven native statuses."""
    a = insert(sim, http, "2026-12-07T13:00:00").json()
    for status in ("pending", "accepted", "inProgress", "completed", "noShow", "declined", "cancelled"):
        assert http.put(f"/appointments/{a['id']}", json={"status": status}).json()["status"] == status
        assert http.get(f"/appointments/{a['id']}").json()["status"] == status


def test_delete_then_404_and_listed_only_with_show_deleted(sim, http):
    """API reference "Delete", "List" ``showDeleted``; contract "Behaviour": a re-sent delete
    answered by 404; deleted appointments come back as ``cancelled``."""
    a = insert(sim, http, "2026-12-07T10:00:00").json()
    assert http.delete(f"/appointments/{a['id']}").status_code == 204
    assert http.get(f"/appointments/{a['id']}").status_code == 404
    assert http.delete(f"/appointments/{a['id']}").status_code == 404
    assert listing(http)[0] == []
    shown = listing(http, showDeleted="true")[0]
    assert [(x["id"], x["status"]) for x in shown] == [(a["id"], "cancelled")]
    assert insert(sim, http, "2026-12-07T10:00:00").status_code == 200  # the time is free again


def test_list_window_filters_paging_and_detail(sim, http):
    """API reference "List" parameters; contract "Transport": the window is an overlap, the list
    pages with ``pageToken``, ``levelDetail=light`` by default, ``fields`` projects."""
    ids = [insert(sim, http, f"2026-12-07T{h:02d}:00:00").json()["id"] for h in (8, 9, 10, 11, 12)]
    insert(sim, http, "2026-12-07T16:00:00", staff="omar")
    http.put(f"/appointments/{ids[1]}", json={"status": "cancelled"})
    sim.cloud.add_personal(
        sim.ids["company"], sim.ids["sara"], NOW + timedelta(hours=5), NOW + timedelta(hours=6)
    )

    everything, _ = listing(http)
    assert [x["id"] for x in everything][:5] == ids and len(everything) == 6
    assert "extendedProperties" not in everything[0] and "history" not in everything[0]
    window, _ = listing(http, startDate="2026-12-07T06:15:00Z", endDate="2026-12-07T07:00:00Z")
    assert [x["id"] for x in window] == [ids[1]]  # ends after startDate, starts before endDate
    assert [x["id"] for x in listing(http, status="cancelled")[0]] == [ids[1]]
    assert len(listing(http, staffId="prov-sara")[0]) == 5  # an external id works too
    assert http.get("/appointments", params={"status": "inProgress"}).status_code == 400
    with_personal, _ = listing(http, personalAppointments="true")
    assert [x["type"] for x in with_personal].count("personal") == 1
    full = http.get("/appointments", params={"levelDetail": "full", "fields": "id,extendedProperties"}).json()
    assert set(full["items"][0]) == {"id", "extendedProperties"}


def test_sync_tokens_incremental_deleted_and_refused(sim, http):
    """API reference "List" (``syncToken``, ``nextSyncToken`` on the last page, ``showDeleted``);
    contract "Behaviour" → Incremental sync: a pull holds only the changes since the
    token; an invalidated or expired token is refused with 410 (contract "Transport")."""
    sync = {"showDeleted": "true", "personalAppointments": "true", "levelDetail": "full"}
    a, b, c, d = (insert(sim, http, f"2026-12-07T{h:02d}:00:00").json()["id"] for h in (8, 9, 10, 11))
    initial, token = listing(http, startDate="2026-12-01T00:00:00Z", endDate="2026-12-31T00:00:00Z", **sync)
    assert [x["id"] for x in initial] == [a, b, c, d]

    quiet, token = listing(http, syncToken=token, **sync)
    assert quiet == []
    http.put(f"/appointments/{b}", json={"status": "inProgress"}, params={"silent": "true"})
    http.delete(f"/appointments/{c}")
    online = sim.cloud.online_booking(sim.ids["company"], sim.ids["service"], NOW + timedelta(hours=4))
    changed, token = listing(http, syncToken=token, **sync)
    assert [(x["id"], x["status"]) for x in changed] == [
        (b, "inProgress"),
        (c, "cancelled"),
        (online["id"], "pending"),
    ]
    assert online["source"] == "widget" and "staff" not in online  # a request waiting in the queue
    assert listing(http, syncToken=token, **sync)[0] == []

    mixed = http.get("/appointments", params={"syncToken": token, "startDate": "2026-12-01T00:00:00Z"})
    assert mixed.status_code == 400  # a token carries its own query
    sim.cloud.invalidate_sync_tokens()
    gone = http.get("/appointments", params={"syncToken": token, **sync})
    assert gone.status_code == 410 and gone.json()["error"]["reason"] == "fullSyncRequired"

    _, fresh = listing(http, **sync)
    sim.cloud.clock.shift(sim.cloud.sync_token_ttl + timedelta(seconds=1))
    assert http.get("/appointments", params={"syncToken": fresh, **sync}).status_code == 410


def test_cloud_side_changes_over_admin_http(sim, http):
    """Contract "Desk operations" (accept a request) and "History": an online request,
    accepted with a staff member; the client reschedules (``client_rescheduled_changed_start``,
    source widget) and cancels (``client_deleted``); a dashboard delete; a personal block."""
    admin = httpx.Client(
        base_url=f"{sim.root}/_sim/companies/{sim.ids['company']}", headers=sim.admin, timeout=5
    )
    assert httpx.get(sim.root + "/_sim/health").status_code == 401
    request = admin.post(
        "/appointments", json={"serviceId": sim.ids["service"], "start": "2026-12-07T08:00:00Z"}
    ).json()
    assert request["status"] == "pending" and "staff" not in request
    accepted = http.put(
        f"/appointments/{request['id']}", json={"status": "accepted", "staff": {"id": sim.ids["sara"]}}
    ).json()
    assert accepted["status"] == "accepted" and accepted["staff"]["id"] == sim.ids["sara"]
    moved = admin.post(
        f"/appointments/{request['id']}/reschedule", json={"start": "2026-12-07T09:00:00Z"}
    ).json()
    assert moved["history"][-1]["type"] == "client_rescheduled_changed_start"
    assert moved["history"][-1]["source"] == "widget" and moved["history"][-1]["user"]["firstName"] == "Huda"
    cancelled = admin.post(f"/appointments/{request['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["history"][-1]["type"] == "client_deleted"
    block = admin.post(
        "/personal",
        json={
            "staffId": sim.ids["sara"],
            "start": "2026-12-07T07:00:00Z",
            "end": "2026-12-07T08:00:00Z",
            "notes": "meeting",
        },
    ).json()
    assert block["type"] == "personal" and block["end"] == at("2026-12-07T11:00:00")
    assert insert(sim, http, "2026-12-07T10:30:00").status_code == 409  # the block holds the time
    assert admin.delete(f"/appointments/{block['id']}").status_code == 204
    assert http.get(f"/appointments/{block['id']}").status_code == 404
    admin.close()


def test_lost_reply_on_insert_is_committed_and_findable(sim, http):
    """Contract "Behaviour" → Lost reply on insert: the write committed, and
    ``createdStartDate`` + ``externalClientId`` + ``levelDetail=full`` finds it by
    ``deskOpId``; a dropped call commits nothing."""
    sim.cloud.faults.lose_reply(method="POST", path="/api/2.1/scheduling")
    with pytest.raises(httpx.TransportError):
        insert(sim, http, "2026-12-07T10:00:00", extendedProperties={"private": {"deskOpId": "op-42"}})
    found, _ = listing(
        http, createdStartDate="2026-12-07T05:58:00Z", externalClientId="desk-1", levelDetail="full"
    )
    assert [x["extendedProperties"]["private"]["deskOpId"] for x in found] == ["op-42"]
    assert (
        listing(http, createdStartDate="2026-12-07T06:00:00Z", externalClientId="desk-1")[0] == []
    )  # exclusive

    sim.cloud.faults.drop(method="POST")
    with pytest.raises(httpx.TransportError):
        insert(sim, http, "2026-12-07T12:00:00")
    assert len(listing(http)[0]) == 1


def test_rate_limit_5xx_and_latency_faults(sim, http):
    """Contract "Transport" → Errors: 429 with ``Retry-After``; 5xx transient."""
    admin = httpx.Client(base_url=sim.root, headers=sim.admin, timeout=5)
    admin.post(
        "/_sim/faults",
        json={"faults": [{"kind": "rate_limit", "retry_after": 4}, {"kind": "fail", "status": 502}]},
    )
    limited = http.get("/staff")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "4"
    assert limited.json()["error"]["code"] == 429
    assert http.get("/staff").status_code == 502 and http.get("/staff").status_code == 200
    admin.post("/_sim/faults", json={"kind": "latency", "ms": 150})
    started = datetime.now(UTC)
    http.get("/staff")
    assert datetime.now(UTC) - started >= timedelta(milliseconds=150)
    assert admin.delete("/_sim/faults").json()["faults"] == []
    admin.close()


def test_generated_clinic():
    """Issue scope: two companies, all seven statuses, personal appointments, history."""
    cloud = AgendizeCloud(clock=Clock(NOW))
    clinic = generate_clinic(cloud, seed=5)
    assert len(clinic["companies"]) == 2
    records = [r for c in cloud.companies.values() for r in c.appointments.values()]
    assert {r["status"] for r in records} == set(STATUSES)
    assert any(r["type"] == "personal" for r in records)
    assert all(r["_created"] <= NOW for r in records)
    assert any(len(r["history"]) > 1 for r in records)
    assert {str(c.zone) for c in cloud.companies.values()} == {"Asia/Riyadh", "Asia/Dubai"}


def test_runs_as_a_module():
    """``python -m tests.clouds.agendize --port N`` serves a generated clinic (issue scope)."""
    import subprocess
    import sys
    from pathlib import Path

    command = [
        sys.executable,
        "-m",
        "tests.clouds.agendize",
        "--port",
        "0",
        "--api-key",
        "k1",
        "--token",
        "t1",
        "--appointments",
        "20",
    ]
    process = subprocess.Popen(
        command, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, text=True
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Agendize simulated cloud at http://127.0.0.1:")
        url = first.split(" at ")[1].split(" ")[0]
        companies = httpx.get(
            url + "/scheduling/companies", params={"apiKey": "k1", "token": "t1"}, timeout=5
        )
        assert [c["timeZone"] for c in companies.json()["items"]] == ["Asia/Riyadh", "Asia/Dubai"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_default_window_and_extended_properties_limit(sim, http):
    """API reference "List": the window defaults to now −1 month … now +1 month; API reference
    "extendedProperties": size limit 22KB (a larger body is refused, nothing is written)."""
    near = insert(sim, http, "2026-12-21T10:00:00").json()["id"]  # a Monday, two weeks ahead
    far = insert(sim, http, "2027-02-01T10:00:00", params={"force": "true"}).json()["id"]
    assert [x["id"] for x in listing(http)[0]] == [near]
    assert far in [x["id"] for x in listing(http, endDate="2027-03-01T00:00:00Z")[0]]
    big = insert(sim, http, "2026-12-14T10:00:00", extendedProperties={"private": {"blob": "x" * 23000}})
    assert big.status_code == 400
    assert [x["id"] for x in listing(http)[0]] == [near]
