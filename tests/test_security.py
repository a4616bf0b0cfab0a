"""Who may talk to the branch server: a token on every listener (loopback too), Origin and
Host checks, proxy headers ignored, declared roles walked over every route of
``/openapi.json``, providers limited to their own patients, and pairing that cannot be
abused — all over real sockets."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from app.domain.clock import utc_now
from app.server.api import create_app
from app.server.desks import DeskRegistry
from app.server.lan import lan_listener
from app.server.runner import ServerThread
from app.server.security import route_roles
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import bearer, clock_at, fill, serve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def branch(tmp_path):
    """A full branch server (backup and sync routes too) on the test clinic."""
    from app.composition import BranchServer

    store = open_store(tmp_path / "branch" / "branch.sqlite3")
    fill(store)
    store.close()
    server = BranchServer(tmp_path / "branch", demo=False, backup_interval=None).start()
    try:
        yield server
    finally:
        server.stop()


def desk_token(server, role: str, resources: list[str] | None = None) -> str:
    registry = server.app.state.desks
    code = registry.pairing_code(role, resources)["code"]
    return registry.pair(f"{role} desk", code=code, source="test")["token"]


# a token on every listener ---------------------------------------------------------------
def test_a_loopback_request_without_a_token_is_refused(branch):
    """Any process on this machine used to be the manager desk without a token."""
    for method, path in (
        ("GET", "/management/customers"),
        ("POST", "/backups"),
        ("GET", "/events"),
        ("GET", "/management/bookings/waiting?includes=customer"),
        ("GET", "/desks"),
    ):
        answer = httpx.request(method, branch.url + path)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"]["code"] == "AUTH-REQUIRED" and "Fatima" not in answer.text
    assert httpx.get(branch.url + "/management/customers", headers=bearer("guess")).status_code == 401
    own = httpx.get(branch.url + "/management/customers", headers=bearer(branch.token))
    assert own.status_code == 200 and own.json()["result"]
    assert httpx.get(branch.url + "/readyz").status_code == 200  # declared open: status and version only


def test_the_event_stream_needs_the_token(branch):
    assert httpx.get(branch.url + "/events").status_code == 401
    with httpx.stream("GET", branch.url + "/events", headers=bearer(branch.token), timeout=5) as stream:
        assert stream.status_code == 200
        assert next(stream.iter_lines()).startswith(("event: hello", ":", "id:", "event:"))


def test_a_headless_server_writes_its_token_for_scripts_only_its_owner_reads(tmp_path):
    """``main.py --server-only`` writes ``<data dir>/local-token`` (0600, the token alone on one
    line); a script sends it as a bearer token; the file goes when the server stops."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "main.py", "--server-only", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        path = tmp_path / "local-token"
        text = path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert text.endswith("\n") and text.count("\n") == 1 and len(text.strip()) >= 40
        from app.client import local_token

        assert local_token(tmp_path) == text.strip()
        assert httpx.get(url + "/desks").status_code == 401
        assert httpx.get(url + "/desks", headers=bearer(text.strip())).status_code == 200
        proc.terminate()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
        assert not path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_web_page_cannot_drive_the_server_even_with_a_token(branch):
    """A page on another origin may POST ``text/plain`` without a preflight: refused before
    anything runs, token or not, and no backup is taken."""
    before = httpx.get(branch.url + "/backups", headers=bearer(branch.token)).json()["result"]
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        for auth in ({}, bearer(branch.token)):
            answer = httpx.post(
                branch.url + "/backups",
                content=b"x",
                headers={"Content-Type": "text/plain", **headers, **auth},
            )
            assert answer.status_code == 403, (headers, answer.text)
            assert answer.json()["error"]["code"] == "ORIGIN-NOT-ALLOWED"
    assert httpx.get(branch.url + "/backups", headers=bearer(branch.token)).json()["result"] == before
    same = httpx.get(
        branch.url + "/backups",
        headers={"Origin": branch.url, "Sec-Fetch-Site": "same-origin", **bearer(branch.token)},
    )
    assert same.status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "localhost:80@evil.example",
        "evil.example",
        "localhost:99999",
        "localhost:",
        "localhost:80/x",
        "127.0.0.1:0",
        "[::1",
        "",
        "user@localhost",
    ],
)
def test_the_host_header_is_parsed_strictly(branch, host):
    port = branch.url.rsplit(":", 1)[1]
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as sock:
        sock.sendall(f"GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 403), answer[:200]
    if status == 403:
        assert b"HOST-NOT-ALLOWED" in answer


def test_good_host_headers_still_work(branch):
    port = branch.url.rsplit(":", 1)[1]
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert httpx.get(branch.url + "/readyz", headers={"Host": host}).status_code == 200, host


def test_proxy_headers_are_ignored_on_the_lan_listener(tmp_path):
    """A loopback peer claiming ``X-Forwarded-Proto: http`` used to be the manager desk."""
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    api = create_app(BookingService(store, clock_at(1000)))
    listener = lan_listener(api, tmp_path, "127.0.0.2", 0)
    try:
        thread = ServerThread(api, "127.0.0.1", 0, extra=[listener]).start()
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    try:
        with httpx.Client(base_url=thread.urls[1], verify=False) as http:
            for path in ("/management/customers", "/desks", "/management/bookings/waiting?includes=customer"):
                answer = http.get(
                    path,
                    headers={
                        "X-Forwarded-Proto": "http",
                        "X-Forwarded-For": "127.0.0.1",
                        "Forwarded": "for=127.0.0.1;proto=http",
                        "Host": "127.0.0.1",
                    },
                )
                assert answer.status_code == 401, (path, answer.text)
    finally:
        thread.stop()
        store.close()


# declared roles ---------------------------------------------------------------------------
RANKS = {"none": 0, "provider": 1, "reception": 2, "manager": 3}


def test_every_route_declares_its_role_and_answers_by_it(branch):
    """Walk every operation of ``/openapi.json`` as no desk, a provider, a reception and a
    manager desk: 401 without a desk, 403 for a lesser role, neither when allowed."""
    routes = route_roles(branch.app)
    assert len(routes) >= 50 and [p for p, _, role in routes if role is None] == []
    tokens = {
        "none": None,
        "provider": desk_token(branch, "provider", ["dr-omar"]),
        "reception": desk_token(branch, "reception"),
        "manager": desk_token(branch, "manager"),
    }
    spec = httpx.get(branch.url + "/openapi.json", headers=bearer(tokens["provider"])).json()
    walked, wrong = 0, []
    with httpx.Client(base_url=branch.url, timeout=10) as http:
        for path, item in spec["paths"].items():
            concrete = path.replace("{", "").replace("}", "")  # {bookingId} → bookingId: an unknown id
            for method, operation in item.items():
                needed = RANKS[operation["x-role"]]
                for role, token in tokens.items():
                    if path == "/events" and RANKS[role] >= needed:
                        continue  # an endless stream: allowed roles are checked below
                    headers = bearer(token) if token else {}
                    body = {} if method in ("post", "put", "delete") else None
                    answer = http.request(method.upper(), concrete, json=body, headers=headers)
                    walked += 1
                    if needed and role == "none":
                        expected = {401}
                    elif RANKS[role] < needed:
                        expected = {403}
                    else:
                        expected = None
                    ok = (
                        (answer.status_code in expected) if expected else answer.status_code not in (401, 403)
                    )
                    if not ok:
                        wrong.append(
                            f"{method.upper()} {path} as {role}: {answer.status_code} {answer.text[:80]}"
                        )
    assert walked > 150 and not wrong, "\n".join(wrong)
    for role in ("provider", "reception", "manager"):
        with httpx.stream("GET", branch.url + "/events", headers=bearer(tokens[role]), timeout=5) as stream:
            assert stream.status_code == 200


def test_a_provider_desk_sees_only_its_own_waiting_and_queued_patients(branch):
    service = branch.service
    mine = service.create(
        {"type": "gen", "assign": False, "customerIdentifier": {"id": "c1"}}
    )  # omar serves gen
    other = service.create(
        {"type": "dental", "assign": False, "customerIdentifier": {"id": "c2"}}
    )  # sara only
    provider = bearer(desk_token(branch, "provider", ["dr-omar"]))
    waiting = httpx.get(
        branch.url + "/management/bookings/waiting?includes=customer", headers=provider
    ).json()
    assert [b["id"] for b in waiting["result"]] == [mine["id"]]
    assert other["customerId"] not in str(waiting)
    queues = httpx.get(branch.url + "/management/queues?includes=customer", headers=provider).json()["result"]
    assert [q["resourceId"] for q in queues] == ["dr-omar"]
    assert httpx.get(branch.url + f"/management/bookings/{other['id']}", headers=provider).status_code == 403
    everyone = httpx.get(branch.url + "/management/bookings/waiting", headers=bearer(branch.token)).json()
    assert {b["id"] for b in everyone["result"]} == {mine["id"], other["id"]}


# pairing ----------------------------------------------------------------------------------
@pytest.fixture
def pairing(tmp_path):
    """A server whose pairing clock the test moves: ``(thread, registry, clock)``."""
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    now = [utc_now()]
    registry = DeskRegistry(store, now=lambda: now[0])
    thread = serve(BookingService(store, clock_at(1000)), desks=registry)
    yield thread, registry, now
    thread.stop()
    store.close()


def _pair(thread, **body):
    return httpx.post(thread.url + "/desks/pair", json={"deskName": "new desk", **body})


def test_a_code_without_a_role_pairs_a_reception_desk_and_the_role_cannot_be_raised(pairing):
    thread, _, _ = pairing
    code = httpx.post(thread.url + "/desks/pairing-code", json={}, headers=thread.auth).json()["result"]
    assert code["role"] == "reception"
    raised = _pair(thread, code=code["code"], role="manager")
    assert raised.status_code == 403 and raised.json()["error"]["code"] == "PAIRING-FAILED"
    # the role was checked before the code was used: the right request still pairs with it
    paired = _pair(thread, code=code["code"])
    assert paired.status_code == 201 and paired.json()["result"]["role"] == "reception"
    token = paired.json()["result"]["token"]
    assert httpx.get(thread.url + "/desks", headers=bearer(token)).status_code == 403
    assert _pair(thread, code=code["code"]).status_code == 403  # single use


def test_a_provider_code_fixes_its_resources(pairing):
    thread, _, _ = pairing
    made = httpx.post(
        thread.url + "/desks/pairing-code",
        json={"role": "provider", "resourceIds": ["dr-omar"]},
        headers=thread.auth,
    ).json()["result"]
    assert _pair(thread, code=made["code"], role="provider", resourceIds=["dr-sara"]).status_code == 403
    assert _pair(thread, code=made["code"], role="reception").status_code == 403
    paired = _pair(thread, code=made["code"]).json()["result"]
    assert paired["role"] == "provider" and paired["resourceIds"] == ["dr-omar"]
    no_resources = httpx.post(
        thread.url + "/desks/pairing-code", json={"role": "provider"}, headers=thread.auth
    )
    assert no_resources.status_code == 400


def test_wrong_guesses_are_slowed_per_address_and_void_no_code(pairing):
    """Wrong codes from one address: a few free, then an exponential wait (429 with
    Retry-After); the open codes stay valid — for that address after the wait, and at once
    for another address."""
    thread, registry, now = pairing
    first = registry.pairing_code()["code"]
    second = registry.pairing_code()["code"]
    answers = [_pair(thread, code="AAAA-AAAA") for _ in range(6)]
    assert [a.status_code for a in answers[:3]] == [403, 403, 403]
    assert answers[3].status_code == 403 or answers[3].status_code == 429
    limited = answers[-1]
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "PAIRING-RATE-LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1
    assert _pair(thread, code=first).status_code == 429  # even a right code waits its turn here
    # another address is not affected, and nothing was voided
    assert registry.pair("elsewhere", code=second, source="192.168.1.20")["role"] == "reception"
    # the wait grows with each wrong guess after the free ones, and ends
    waits = []
    for _ in range(4):
        now[0] += timedelta(seconds=400)
        assert _pair(thread, code="BBBB-BBBB").status_code == 403
        waits.append(int(_pair(thread, code="BBBB-BBBB").headers["Retry-After"]))
    assert waits == sorted(waits) and waits[-1] > waits[0] and max(waits) <= 300
    late = registry.pairing_code()["code"]
    assert _pair(thread, code=late).status_code == 429
    now[0] += timedelta(seconds=301)
    assert _pair(thread, code=late).status_code == 201
    assert registry._guesses.get("127.0.0.1") is None  # a right code clears the address's count
