"""Desk flows against a real branch server, asserted on the widgets (calendar data and
the panels' models), not only on the server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.client import ApiError, DeskClient
from app.domain.clock import from_iso
from app.domain.model import Status, VisitStatus
from tests.ui.conftest import until
from ui.core.models import CheckinsModel


def _block(window, booking_id):
    return window.calendar.canvas.block_of(booking_id)


def _dialog(window, kind):
    return until(
        lambda: isinstance(window._dialog, kind) and window._dialog.isVisible() and window._dialog,
        what=f"the {kind.__name__}",
    )


def test_accept_check_in_start_end(loop, desk):
    from ui.dialogs.common import AcceptDialog

    window, state = desk, desk.state

    async def scenario():
        queue = window.queue
        assert queue.model.rowCount() > 0
        first = queue.model.booking(0)
        doctors = [r for r in state.resources_serving(first["typeId"]) if r.get("category") == "doctors"]
        doctor = doctors[0]

        # (b) Accept: the chooser lists only resources that serve the booking's type.
        queue.select(first["id"])
        queue.accept_button.click()
        dialog = await _dialog(window, AcceptDialog)
        offered = [dialog.list.item(i).data(256) for i in range(dialog.list.count())]
        assert offered == [r["id"] for r in state.resources_serving(first["typeId"])]
        dialog.list.setCurrentRow(offered.index(doctor["id"]))
        dialog.accept()
        block = await until(lambda: _block(window, first["id"]), what="the accepted booking's block")
        assert block.booking["resourceId"] == doctor["id"]
        assert block.column == [r["id"] for r in state.resources].index(doctor["id"])
        assert window.calendar.canvas.column_rect(block.column).contains(block.rect.center())
        assert queue.model.row_of(first["id"]) == -1
        assert window.detail.booking["id"] == first["id"]

        # (c) Check-ins: check in, start, end from the check-ins panel's buttons.
        checkins = window.checkins
        window.tabs.setCurrentWidget(checkins)
        assert checkins.select(first["id"])
        for action, visit in (
            ("check_in", VisitStatus.CHECKED_IN),
            ("start", VisitStatus.IN_PROGRESS),
            ("end", VisitStatus.COMPLETED),
        ):
            await until(lambda a=action: checkins.buttons[a].isEnabled(), what=f"{action} enabled")
            height_before = _block(window, first["id"]).rect.height()
            checkins.buttons[action].click()
            await until(
                lambda v=visit: (b := _block(window, first["id"])) and b.booking["visitStatus"] == v,
                what=f"the block to show {visit}",
            )
            row = checkins.model.row_of(first["id"])
            if row >= 0:
                assert checkins.model.booking(row)["visitStatus"] == visit
                state_text = checkins.model.index(row, CheckinsModel.STATE).data()
                assert state_text in ("Checked in", "In room", "Done")
            assert window.detail.booking["visitStatus"] == visit
        ended = _block(window, first["id"])
        # ended early: shortened to the time served (the calendar draws at least 10 minutes)
        assert from_iso(ended.booking["endDateTime"]) < from_iso(block.booking["endDateTime"])
        assert ended.booking["duration"] < block.booking["duration"]
        if block.booking["duration"] > 10:
            assert ended.rect.height() < height_before
        else:
            assert ended.rect.height() <= height_before
        assert not checkins.buttons["end"].isEnabled()
        await until(lambda: "Visit ended" in window.statusBar().currentMessage(), what="the end's message")
        await window.tasks.wait_idle()
        await asyncio.sleep(0.2)  # every earlier action and refresh has finished: none overwrote it
        assert "Visit ended" in window.statusBar().currentMessage()

    loop.run_until_complete(scenario())


def _future_booking(window, day_rows, exclude=()):
    now = window.state.now()
    return next(
        b
        for b in day_rows
        if b["status"] == Status.CONFIRMED
        and not b.get("visitStatus")
        and from_iso(b["startDateTime"]) > now + timedelta(hours=1)
        and b["id"] not in exclude
    )


def test_reschedule_and_cancel(loop, desk):
    from ui.dialogs.common import CancelDialog, RescheduleDialog

    window, state = desk, desk.state

    async def scenario():
        tomorrow = state.today_date() + timedelta(days=1)
        window.act_next.trigger()
        await until(
            lambda: (
                state.day == tomorrow and window.calendar.canvas.day == tomorrow and not window.tasks.busy
            ),
            what="tomorrow's view",
        )
        target = _future_booking(window, window.calendar.canvas.visible_bookings())
        before = _block(window, target["id"]).rect

        # (d) Reschedule through the detail pane: the dialog lists the server's free times.
        window.calendar.canvas.bookingClicked.emit(target["id"])
        assert window.detail.booking["id"] == target["id"]
        assert window.detail.buttons["reschedule"].isEnabled()
        window.detail.buttons["reschedule"].click()
        dialog = await _dialog(window, RescheduleDialog)
        assert dialog.day() == tomorrow
        await until(lambda: dialog.times.count() > 0, what="free times")
        slot = dialog.times.item(dialog.times.count() - 1).data(256)  # the last free time of the day
        assert slot["startDateTime"] != target["startDateTime"]
        dialog.times.setCurrentRow(dialog.times.count() - 1)
        dialog.accept()
        moved = await until(
            lambda: (
                (b := _block(window, target["id"]))
                and b.booking["startDateTime"] == slot["startDateTime"]
                and b
            ),
            what="the block to move",
        )
        assert moved.rect.topLeft() != before.topLeft()
        assert moved.booking["resourceId"] == slot["resourceId"]

        # Cancel with a reason: the block disappears, the detail pane says so.
        other = _future_booking(window, window.calendar.canvas.visible_bookings(), exclude={target["id"]})
        window.select_booking(other["id"])
        window.booking_actions["cancel"].trigger()
        dialog = await _dialog(window, CancelDialog)
        assert not dialog.ok.isEnabled()  # a reason is required
        dialog.reason_edit.setEditText("Patient called to cancel")
        assert dialog.ok.isEnabled()
        dialog.ok.click()
        await until(lambda: _block(window, other["id"]) is None, what="the canceled block to go")
        assert window.detail.booking["status"] == Status.CANCELED
        assert "Patient called to cancel" in window.detail.fields["note"].text()
        window.show_canceled.setChecked(True)
        assert _block(window, other["id"]) is not None  # still there when canceled ones are shown

    loop.run_until_complete(scenario())


def test_live_events_and_refused_action(loop, desk, branch_server):
    """Another desk accepts a queued booking: this desk's queue follows the server's events;
    accepting it here then shows the translated SCH-ALREADY_ASSIGNED message."""
    window = desk

    async def scenario():
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            waiting = window.queue.model.booking(0)
            resource = window.state.resources_serving(waiting["typeId"])[0]
            await other.accept(waiting["id"], resource["id"])
            await until(lambda: window.queue.model.row_of(waiting["id"]) == -1, what="the live update")
            stale = dict(waiting)
            window.state.waiting.append(stale)  # as if the event had not arrived yet
            window._do(window.client.accept(stale["id"], resource["id"]), "{name}", stale)
            await until(
                lambda: "accepted this booking first" in window.statusBar().currentMessage(),
                what="the error message",
            )
            await asyncio.sleep(0)
        finally:
            await other.aclose()

    loop.run_until_complete(scenario())


def test_an_older_action_finishing_late_never_overwrites_a_newer_ones_message(loop, desk):
    """Two actions answered out of order (the first is slower): the status bar, the selection
    and the day keep the newer action's."""
    window = desk

    async def scenario():
        rows = [b for b in window.state.today if b.get("customer")][:2]
        older, newer = rows[0], rows[1]
        slow, fast = asyncio.get_running_loop().create_future(), asyncio.get_running_loop().create_future()
        window._do(slow, "older {name}", older)
        window._do(fast, "newer {name}", newer)
        fast.set_result(dict(newer))
        await until(lambda: "newer" in window.statusBar().currentMessage(), what="the newer message")
        slow.set_result(dict(older))
        await window.tasks.wait_idle()
        assert "newer" in window.statusBar().currentMessage()
        assert window.selected_id == newer["id"]
        # an error of the older action does not overwrite the newer message either
        failing = asyncio.get_running_loop().create_future()
        window._do(failing, "third {name}", older)
        done = asyncio.get_running_loop().create_future()
        window._do(done, "fourth {name}", newer)
        done.set_result(dict(newer))
        await until(lambda: "fourth" in window.statusBar().currentMessage(), what="the fourth message")
        failing.set_exception(ApiError("CONFLICT", "changed"))
        await window.tasks.wait_idle()
        assert "fourth" in window.statusBar().currentMessage()

    loop.run_until_complete(scenario())


def test_refreshes_asked_during_a_slow_fetch_are_served_by_one_newer_fetch(loop, desk):
    """Refreshes are numbered: under load a burst of refreshes (events, actions) costs one
    more fetch, and what is shown at the end is the newest answer, never the slow old one."""
    window, state = desk, desk.state

    async def scenario():
        await window.tasks.wait_idle()
        real_day = state.client.day
        gate = asyncio.Event()
        calls = []

        async def day(d, *args, **kwargs):
            calls.append(d)
            rows = await real_day(d, *args, **kwargs)
            if len(calls) == 1:
                await gate.wait()  # the first fetch is slow
                return [dict(r, note="stale") for r in rows]
            return rows

        state.client.day = day
        try:
            first = asyncio.ensure_future(state.refresh())
            await until(lambda: calls, what="the first fetch")
            burst = [asyncio.ensure_future(state.refresh()) for _ in range(5)]
            await asyncio.sleep(0.05)
            gate.set()
            await asyncio.gather(first, *burst)
            assert len(calls) == 2
            assert not any(b.get("note") == "stale" for b in state.bookings)
        finally:
            state.client.day = real_day

    loop.run_until_complete(scenario())
