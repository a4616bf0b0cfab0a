"""Bad input gets a 4xx with a code and a reason, changes nothing and never closes the
desk's connection: dates and instants out of bounds (reads and writes alike), event ids,
time rules (end of day ``2400``, ``from < to``, known fields only), strict JSON, and the
last-resort handler for an error nobody expected."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import httpx
import pytest

from tests.clinic import DAY, WEEK


@pytest.fixture
def server(clinic_server):
    thread, service = clinic_server
    with httpx.Client(base_url=thread.url, headers=thread.auth, timeout=10) as http:
        yield http, service


def refused(answer: httpx.Response, *words: str) -> None:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION", error
    for word in words:
        assert word in error["message"], error["message"]


def book(http, **fields):
    body = {"type": "gen", "customerIdentifier": {"id": "c1"}, "resourceId": "dr-omar", **fields}
    return http.put("/management/scheduling/new", json=body)


def test_event_ids_must_be_ascii_digits_within_a_bound(server):
    http, _ = server
    for value in (b"\xb2", "²".encode(), "٣".encode(), b"1" * 5000, b"-1", b"1e3", b"10000000000000001"):
        answer = http.get("/events", headers={"Last-Event-ID": value})
        refused(answer, "Last-Event-ID")
    refused(http.get("/events", params={"lastEventId": "9" * 5000}))
    refused(http.get("/events", params={"lastEventId": "²"}))


@pytest.mark.parametrize(
    "instant",
    [
        "9999-12-31T23:50:00Z",
        "0001-01-01T00:00:00+14:00",
        "2101-01-01T00:00:00Z",
        "1999-12-31T23:00:00Z",
        "2100-12-31T23:00:00-05:00",
        "tomorrow",
        "2026-11-22T10:00",
    ],
)
def test_instants_out_of_bounds_are_refused_in_reads_and_writes(server, instant):
    http, service = server
    refused(book(http, startDateTime=instant), "startDateTime")
    refused(http.get("/management/bookings", params={"from": instant, "to": "2026-11-23T00:00:00Z"}), "from")
    refused(http.get("/management/bookings", params={"from": "2026-11-22T00:00:00Z", "to": instant}), "to")
    assert service.store.db["bookings"].count == 0


@pytest.mark.parametrize(
    "day", ["0001-01-01", "9998-06-01", "2101-01-01", "1999-12-31", "2026-02-30", "٢٠٢٦-١١-٢٢"]
)
def test_dates_out_of_bounds_are_refused_in_reads_and_writes(server, day):
    http, service = server
    answer = book(http, date=day, time=1000)
    refused(answer, "date")
    if day[:4].isascii() and day[:4] != "2026":
        assert "between 2000 and 2100" in answer.json()["error"]["message"]
    refused(http.get("/management/bookings", params={"date": day}), "date")
    refused(http.get("/management/attendances", params={"date": day}), "date")
    refused(http.post("/availability/times", json={"type": "gen", "date": day}), "date")
    refused(
        http.put(
            "/management/resources/dr-omar/timeRules", json={**WEEK, "offRules": [{"from": day, "to": day}]}
        ),
        "offRules",
    )
    assert service.store.db["bookings"].count == 0


def test_the_bounds_themselves_are_accepted_and_listed(server):
    http, service = server
    service.store.upsert("resources", [{**service.store.resource("dr-omar"), "timeRules": WEEK}])
    for day in ("2000-01-01", "2100-12-30"):
        assert http.get("/management/bookings", params={"date": day}).status_code == 200
    assert (
        http.get(
            "/management/bookings", params={"from": "2100-12-30T00:00:00Z", "to": "2100-12-31T23:59:59Z"}
        ).status_code
        == 200
    )


def test_time_rules_end_of_day_2400_works_for_availability_and_booking(server):
    """A working period ending at 2400 (midnight) used to be fatal to availability and
    booking on that resource."""
    http, service = server
    rules = {"rules": [{"days": ["sun"], "from": 2000, "to": 2400}]}
    assert http.put("/management/resources/dr-omar/timeRules", json=rules).status_code == 200
    free = http.post(
        "/availability/times", json={"type": "gen", "date": DAY.isoformat(), "resourceId": "dr-omar"}
    )
    assert free.status_code == 200, free.text
    times = [s["time"] for s in free.json()["result"]]
    assert times[0] == 2000 and times[-1] == 2330  # quarter hours: 23:30 is the last that fits
    late = book(http, date=DAY.isoformat(), time=2340)  # a 20-minute visit ending at midnight exactly
    assert late.status_code == 200, late.text
    assert late.json()["result"]["endDateTime"] == "2026-11-22T21:00:00Z"  # 00:00 in Riyadh
    after = book(http, date=DAY.isoformat(), time=2350)  # would end after midnight: outside the hours
    assert after.status_code == 400 and after.json()["error"]["code"] == "SCH-OUTSIDE-WORKING-HOURS"
    assert (
        http.get("/management/bookings", params={"date": (DAY + timedelta(days=1)).isoformat()}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "body, words",
    [
        ({"workingHours": "09:00-17:00"}, ["workingHours"]),
        ({}, ["rules"]),
        ({"rules": [{"days": ["sun"], "from": 1700, "to": 900}]}, ["before"]),
        ({"rules": [{"days": ["sun"], "from": 900, "to": 900}]}, ["before"]),
        ({"rules": [{"days": ["sun"], "from": 2400, "to": 2400}]}, ["from"]),
        ({"rules": [{"days": ["sun"], "from": 900, "to": 2401}]}, ["to"]),
        ({"rules": [{"days": ["sun"], "from": 960, "to": 1200}]}, ["military"]),
        ({"rules": [{"days": ["sun"], "from": 900, "to": 1200, "break": 30}]}, ["break"]),
        ({"rules": [], "offRules": [{"from": "2026-12-02", "to": "2026-12-01"}]}, ["before"]),
        ({"rules": [{"days": ["someday"], "from": 900, "to": 1200}]}, ["days"]),
    ],
)
def test_bad_time_rules_are_refused_and_keep_the_working_hours(server, body, words):
    http, service = server
    service.store.upsert("resources", [{**service.store.resource("dr-omar"), "timeRules": WEEK}])
    refused(http.put("/management/resources/dr-omar/timeRules", json=body), *words)
    assert service.store.resource("dr-omar")["timeRules"] == WEEK


@pytest.mark.parametrize(
    "text",
    [
        '{"bookingId": Infinity, "resourceId": "dr-omar"}',
        '{"bookingId": "x", "resourceId": NaN}',
        '{"limit": -Infinity}',
        '{"type": "gen", "assignmentTimeout": ' + "9" * 5000 + "}",
        "[" * 10_000 + "]" * 10_000,
        '{"type": "gen"',
        '{"a": "\\ud800"}x',
    ],
)
def test_only_strict_json_is_read(server, text):
    http, service = server
    for path, method in (
        ("/management/bookings/assign", "POST"),
        ("/management/scheduling/new", "PUT"),
        ("/availability/types", "POST"),
    ):
        answer = http.request(
            method, path, content=text.encode(), headers={"Content-Type": "application/json"}
        )
        refused(answer)
    assert service.store.db["bookings"].count == 0


def _raw(port: int, *requests: bytes) -> list[bytes]:
    """Send ``requests`` one after another on ONE keep-alive connection; their answers."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for request in requests:
            sock.sendall(request)
            status = stream.readline()
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = stream.read(int(headers.get("content-length", "0")))
            answers.append(status + json.dumps(headers).encode() + b"\n" + body)
    return answers


def test_an_unexpected_error_answers_with_the_envelope_and_keeps_the_connection(server, monkeypatch, caplog):
    """A fault no input should cause (here: the store failing) — a mock is the only way to
    cause it: the answer is the JSON envelope with a code, the log has the traceback, and
    the same connection answers the next request."""
    http, service = server
    port = int(str(http.base_url).rsplit(":", 1)[1].rstrip("/"))
    token = http.headers["authorization"]

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "waiting", broken)
    request = f"GET /management/bookings/waiting HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n\r\n".encode()
    ready = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with caplog.at_level("ERROR"):
        first, second = _raw(port, request, ready)
    assert first.startswith(b"HTTP/1.1 500")
    envelope = json.loads(first.split(b"\n", 2)[2])
    assert envelope["error"]["code"] == "INTERNAL" and envelope["error"]["message"]
    assert b"disk on fire" not in first and b'"connection": "close"' not in first
    assert second.startswith(b"HTTP/1.1 200")
    assert any(
        "disk on fire" in (r.exc_text or "") or "unexpected error" in r.getMessage() for r in caplog.records
    )


def test_hand_written_cases_leave_the_connection_open(server):
    """The inputs that used to answer 500 (and close the keep-alive connection) now answer
    4xx on one connection, each followed by a request that works."""
    http, _ = server
    port = int(str(http.base_url).rsplit(":", 1)[1].rstrip("/"))
    token = http.headers["authorization"]
    head = f"Host: 127.0.0.1\r\nAuthorization: {token}\r\n"
    body = json.dumps(
        {
            "type": "gen",
            "startDateTime": "9999-12-31T23:50:00Z",
            "resourceId": "dr-omar",
            "customerIdentifier": {"id": "c1"},
        }
    ).encode()
    requests = [
        f"GET /events HTTP/1.1\r\n{head}Last-Event-ID: \xb2\r\n\r\n".encode("latin-1"),
        f"GET /events HTTP/1.1\r\n{head}Last-Event-ID: {'7' * 5000}\r\n\r\n".encode(),
        f"GET /management/bookings?date=0001-01-01 HTTP/1.1\r\n{head}\r\n".encode(),
        f"PUT /management/scheduling/new HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body,
        f"GET /management/resources HTTP/1.1\r\n{head}\r\n".encode(),
    ]
    answers = _raw(port, *requests)
    assert [a[9:12] for a in answers] == [b"400", b"400", b"400", b"400", b"200"]


def test_unknown_and_repeated_query_parameters_are_refused(server):
    """A misspelt filter, or one given twice, used to be ignored (FastAPI keeps the last)."""
    http, _ = server
    refused(
        http.get("/management/bookings", params={"date": DAY.isoformat(), "resource": "dr-omar"}), "resource"
    )
    refused(
        http.get("/management/attendances", params=[("customerId", "c1"), ("customerId", "c2")]), "customerId"
    )
    assert (
        http.get("/management/bookings", params={"date": DAY.isoformat(), "resources": "dr-omar"}).status_code
        == 200
    )


def test_a_length_limit_holds_for_the_text_as_sent(server):
    http, service = server
    answer = http.post("/management/customers", json={"firstName": "Lina", "lastName": " " + "x" * 100})
    refused(answer, "lastName")
    assert (
        http.post("/management/customers", json={"firstName": " Lina ", "lastName": "x" * 99}).json()[
            "result"
        ]["firstName"]
        == "Lina"
    )
