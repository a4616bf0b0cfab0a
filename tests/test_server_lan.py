"""Desks on the LAN: HTTPS with the server's own certificate on 127.0.0.2 (off the trusted
loopback listener, so the token path is exercised), pairing, pinning, roles, Host allow-list
and body limits — all over real sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.client import ApiError, DeskClient, pair
from app.server.api import create_app
from app.server.lan import lan_listener
from app.server.runner import ServerThread
from app.server.service import BookingService
from app.server.tls import ensure_certificate, pinned_context
from app.store import open_store
from tests.clinic import DAY, clock_at, fill

LAN_HOST = "127.0.0.2"


@pytest.fixture
def lan(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    service = BookingService(store, clock_at(1000))
    api = create_app(service)
    listener = lan_listener(api, tmp_path, LAN_HOST, 0)
    try:
        thread = ServerThread(api, "127.0.0.1", 0, extra=[listener]).start()
    except OSError:
        pytest.skip("127.0.0.2 cannot be bound here")
    thread.token = api.state.desks.local_token
    yield thread, service, api.state.desks.fingerprint
    thread.stop()
    store.close()


def run(coro):
    return asyncio.run(coro)


async def paired(thread, role="reception", resource_ids=None, name="desk"):
    """Pair a desk the way a new machine does: code (for that role) from the server's desk,
    proof over TLS."""
    local = DeskClient(thread.urls[0], token=thread.token)
    try:
        code = (await local.pairing_code(role, resource_ids))["code"]
    finally:
        await local.aclose()
    result = await pair(thread.urls[1], code, name, role, resource_ids)
    return DeskClient(thread.urls[1], token=result["token"], fingerprint=result["fingerprint"]), result


def test_pairing_gives_a_token_and_the_pinned_fingerprint(lan):
    thread, service, fingerprint = lan
    assert thread.urls[1].startswith("https://127.0.0.2:")

    async def scenario():
        desk, result = await paired(thread, name="Reception 2")
        try:
            booked = await desk.book("gen", "c1", DAY, 1030, "dr-omar")
            history = await desk.history(booked["id"])
            return result, history
        finally:
            await desk.aclose()

    result, history = run(scenario())
    assert result["fingerprint"] == fingerprint and len(result["token"]) > 30
    assert history[0]["deskId"] == result["deskId"] and history[0]["actor"] == "Reception 2"
    stored = service.store.db.execute("select tokenHash from desks").fetchone()[0]
    assert stored != result["token"] and len(stored) == 64  # only the hash is kept


def test_no_token_wrong_token_and_wrong_role_learn_nothing(lan):
    thread, service, fingerprint = lan
    ctx = pinned_context(fingerprint)
    with httpx.Client(base_url=thread.urls[1], verify=ctx) as http:
        for method, path in (
            ("GET", "/management/bookings?date=2026-11-22"),
            ("GET", "/openapi.json"),
            ("GET", "/management/customers"),
            ("GET", "/events"),
        ):
            response = http.request(method, path)
            assert response.status_code == 401, path
            assert response.json() == {
                "error": {"code": "AUTH-REQUIRED", "message": "a valid desk token is required"}
            }
        wrong = http.get("/management/customers", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "Fatima" not in wrong.text
        bad_pair = http.post("/desks/pair", json={"deskName": "x", "role": "manager", "code": "AAAA-BBBB"})
        assert bad_pair.status_code == 403 and bad_pair.json()["error"]["code"] == "PAIRING-FAILED"

    async def scenario():
        desk, _ = await paired(thread, role="provider", resource_ids=["dr-omar"])
        reception, _ = await paired(thread, role="reception")
        out = {}
        try:
            for name, call in (
                ("customers", desk.customers("Fat")),
                ("book", desk.book("gen", "c1", DAY, 1100)),
                ("other queue", desk.queue("dr-sara")),
                ("pairing", reception.pairing_code()),
                ("other day", desk.day(DAY, ["dr-sara"])),
            ):
                try:
                    await call
                    out[name] = None
                except ApiError as exc:
                    out[name] = (exc.status, exc.code)
            out["own queue"] = await desk.queue("dr-omar")
        finally:
            await desk.aclose()
            await reception.aclose()
        return out

    out = run(scenario())
    assert out["customers"] == (403, "FORBIDDEN") and out["book"] == (403, "FORBIDDEN")
    assert out["other queue"] == (403, "FORBIDDEN") and out["other day"] == (403, "FORBIDDEN")
    assert out["pairing"] == (403, "FORBIDDEN")  # reception may not pair desks: manager only
    assert out["own queue"] == []
    assert service.store.db["bookings"].count == 0


def test_a_desk_refuses_a_server_with_another_certificate(lan, tmp_path):
    thread, _, fingerprint = lan
    _, _, other = ensure_certificate(tmp_path / "impostor")

    async def scenario():
        desk = DeskClient(thread.urls[1], token="whatever", fingerprint=other)
        try:
            await desk.ready()
        finally:
            await desk.aclose()

    with pytest.raises(ApiError) as err:
        run(scenario())
    assert err.value.code == "NETWORK" and "paired" in err.value.message
    assert other != fingerprint


def test_revoked_desk_is_refused(lan):
    thread, _, _ = lan

    async def scenario():
        desk, result = await paired(thread)
        local = DeskClient(thread.urls[0], token=thread.token)
        try:
            await desk.resources()
            await local.revoke_desk(result["deskId"])
            await desk.resources()
        finally:
            await desk.aclose()
            await local.aclose()

    with pytest.raises(ApiError) as err:
        run(scenario())
    assert err.value.status == 401


def test_host_allow_list_and_body_limit_on_loopback(lan):
    thread, service, _ = lan
    with httpx.Client(base_url=thread.urls[0]) as http:
        rebinding = http.get("/management/customers", headers={"Host": "evil.example:80"})
        assert rebinding.status_code == 403 and rebinding.json()["error"]["code"] == "HOST-NOT-ALLOWED"
        assert http.get("/readyz", headers={"Host": "localhost"}).status_code == 200
        big = http.put(
            "/management/scheduling/new",
            content=b"{" + b" " * 70_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert big.status_code == 413 and big.json()["error"]["code"] == "TOO-LARGE"

        def chunks():
            for _ in range(20):
                yield b" " * 8192

        chunked = http.put(
            "/management/scheduling/new", content=chunks(), headers={"content-type": "application/json"}
        )
        assert chunked.status_code == 413
    assert service.store.db["bookings"].count == 0
