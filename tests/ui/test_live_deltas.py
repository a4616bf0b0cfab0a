"""Server events carry the change; desks apply it without refetching their day.

A real branch server on 127.0.0.1 counts the requests each desk makes (by its ``X-Desk-Id``);
real desks run offscreen on a qasync loop: two main windows, a doctor-mode window and the
waiting-room screen, each with its own client and event stream."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from app.client import DeskClient
from app.domain.model import Status
from tests.ui.conftest import until

#: the desk's own periodic poll of the sync status (a clock, not a reaction to a change)
CLOCKED = {("GET", "/sync/status")}


class RequestCounter:
    """ASGI middleware: ``seen[desk id]`` = [(method, path, query)] of every request."""

    def __init__(self, app, seen):
        self.app, self.seen = app, seen

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            desk = headers.get(b"x-desk-id", b"").decode() or "?"
            self.seen[desk].append((scope["method"], scope["path"], scope.get("query_string", b"").decode()))
        await self.app(scope, receive, send)


@pytest.fixture
def counted_server(tmp_path):
    from app.composition import BranchServer

    seen: dict[str, list] = defaultdict(list)
    server = BranchServer(tmp_path / "branch", host="127.0.0.1", port=0)
    server.app.add_middleware(RequestCounter, seen=seen)
    server.start()
    try:
        yield server, seen
    finally:
        server.stop()


def _since(seen, desk, mark):
    return [r for r in seen[desk][mark.get(desk, 0) :] if r[:2] not in CLOCKED]


def test_an_accept_costs_its_desk_one_request_and_other_desks_none(loop, counted_server):
    from ui.windows.doctor_mode import DoctorMode
    from ui.windows.main import MainWindow
    from ui.windows.waiting_room import WaitingRoom

    server, seen = counted_server
    windows = []

    async def scenario():
        def client(desk_id):
            return DeskClient(server.url, token=server.token, desk_id=desk_id)

        for desk_id in ("A", "B"):
            window = MainWindow(client(desk_id))
            window.resize(1400, 900)
            window.start()
            window.show()
            windows.append(window)
        a, b = windows
        await asyncio.wait_for(asyncio.gather(a.first_load, b.first_load), 15)
        booking = a.state.waiting[0]
        resource = a.state.resources_serving(booking["typeId"])[0]
        doctor = DoctorMode(client("doctor"), resource, a.state.zone, a.state.types)
        room = WaitingRoom(client("room"))
        for view in (doctor, room):
            view.start()
            view.show()
            windows.append(view)
        await until(lambda: doctor.loaded and room.loaded, what="doctor mode and the waiting room")
        assert any(r["id"] == booking["id"] for r in doctor.queue_rows)
        ticket = booking["ticket"]
        assert any(ticket in t for g in room.groups for t in g["tickets"])
        await until(
            lambda: all(
                len([r for r in seen[d] if r[1] == "/events"]) == 1 for d in ("A", "B", "doctor", "room")
            ),
            what="every event stream open",
        )
        await until(
            lambda: all(("GET", "/backups/recovery", "") in seen[d] for d in ("A", "B")),
            what="the desks' one start-up check of the backups",
        )
        await asyncio.sleep(0.5)  # first loads and streams settled
        for window in (a, b):
            await window.tasks.wait_idle()
        mark = {desk: len(rows) for desk, rows in seen.items()}
        before = {r["id"]: r.get("queuePosition") for r in b.state.waiting if r.get("queuePosition")}
        fetches = (a.state.fetches, b.state.fetches)

        a.run_action("accept", booking["id"])  # the desk's Accept… dialog, OK
        dialog = a._dialog
        assert dialog.resource_id() == resource["id"]  # the first resource serving the type
        dialog.ok.click()
        if a._dialog is dialog:  # outside working hours: the first click only warns
            dialog.ok.click()

        def shows_accepted(rows):
            row = next((r for r in rows if r["id"] == booking["id"]), None)
            return (
                row is not None and row["status"] == Status.CONFIRMED and row["resourceId"] == resource["id"]
            )

        await until(
            lambda: (
                shows_accepted(a.state.bookings)
                and shows_accepted(b.state.bookings)
                and not any(r["id"] == booking["id"] for r in a.state.waiting + b.state.waiting)
            ),
            what="both desks to show the accept",
        )
        await until(
            lambda: (
                shows_accepted(doctor.day_rows)
                and not any(r["id"] == booking["id"] for r in doctor.queue_rows)
            ),
            what="doctor mode to show the accept",
        )
        await until(
            lambda: (
                not any(ticket in t for g in room.groups for t in g["tickets"])
                and any(r["id"] == booking["id"] for r in room.called_rows)
            ),
            what="the waiting room to call it",
        )
        await asyncio.sleep(1.0)  # any late reaction (the echo, a debounce) would show now
        for window in (a, b):
            await window.tasks.wait_idle()

        assert _since(seen, "A", mark) == [("POST", "/management/bookings/assign", "")]
        for desk in ("B", "doctor", "room"):
            assert _since(seen, desk, mark) == [], desk
        assert (a.state.fetches, b.state.fetches) == fetches
        assert a.queue.model.row_of(booking["id"]) == -1 and b.queue.model.row_of(booking["id"]) == -1
        # the bookings behind it moved up on the other desk, from the event alone: its
        # positions are what a refetch (here another client's) shows now
        truth = {r["id"]: r.get("queuePosition") for r in await client("check").waiting()}
        shown = {r["id"]: r.get("queuePosition") for r in b.state.waiting}
        assert shown == truth
        assert any(shown[i] < p for i, p in before.items() if i in shown), "no waiting booking moved up"

    try:
        loop.run_until_complete(scenario())
    finally:

        async def close():
            for window in windows:
                window.stop()
            await asyncio.sleep(0)
            for window in windows:
                await window.client.aclose()
                window.close()

        loop.run_until_complete(close())
        for window in windows:
            window.deleteLater()


def test_the_live_events_helper_hands_a_burst_over_once_in_order_and_to_a_running_fetch(loop):
    """The one consumer of live events the main window, doctor mode and the waiting-room
    screen share: a burst is one batch, oldest first; each event is seen at once by
    ``on_event``; a fetch running meanwhile gets the events that arrived during it; a
    stopped window applies nothing more."""
    from PySide6.QtCore import QObject

    from ui.core.live_events import LiveEvents

    owner, batches, seen_at_once = QObject(), [], []
    live = LiveEvents(
        DeskClient("http://127.0.0.1:9", token="t"),
        batches.append,
        owner,
        debounce_ms=50,
        on_event=lambda e: seen_at_once.append(e["id"]),
    )
    events = [{"id": n, "type": "booking.changed", "data": {}} for n in (1, 2, 3)]

    async def scenario():
        for event in events[:2]:
            live.receive(event)
        with live.collecting() as during_fetch:
            live.receive(events[2])
        assert during_fetch == [events[2]]
        assert seen_at_once == [1, 2, 3] and batches == []  # nothing applied before the pause
        await until(lambda: batches, what="the batch")
        await asyncio.sleep(0.2)
        assert batches == [events]
        live.receive({"id": 4, "type": "booking.changed", "data": {}})
        live.stop()
        await asyncio.sleep(0.2)
        assert batches == [events], "a stopped window still applied events"

    loop.run_until_complete(scenario())
