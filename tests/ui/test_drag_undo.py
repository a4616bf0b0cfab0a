"""Drag and drop in the calendar against a real branch server: to a free slot (the block moves,
the server agrees), to a taken one (an overbook reason is asked first), then Ctrl+Z puts the
booking back; a cancel undone restores the same booking; an undo that cannot apply any more
is taken off the Edit menu with a message saying why."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.domain.clock import from_iso
from app.domain.model import Status
from tests.ui.conftest import until
from ui.calendar import OverbookDialog


@pytest.fixture(autouse=True)
def _collect_in_this_thread():
    """Collect this test's Qt garbage here, on the GUI thread: a cycle collected later by the
    branch server's thread would destroy QObjects (and their timers) from the wrong thread."""
    yield
    gc.collect()


def _minutes(window, iso: str) -> int:
    local = from_iso(iso).astimezone(ZoneInfo(window.state.zone))
    return local.hour * 60 + local.minute


def _drag(canvas, booking_id: str, column: int, minutes: int) -> None:
    """Press on the block's top edge, move in two steps, release at (column, minutes)."""
    block = canvas.block_of(booking_id)
    start = QPoint(block.rect.center().x(), block.rect.top() + 2)
    grab = canvas.minutes_at(start.y()) - block.start
    end = QPoint(canvas.column_rect(column).center().x(), canvas.y_of(minutes + grab))
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(canvas, start + QPoint(0, 12))
    assert canvas.drag is not None, "the drag did not start"
    QTest.mouseMove(canvas, end)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_drag_to_free_and_busy_slots_then_undo(loop, desk):
    window, state = desk, desk.state
    calendar = window.calendar
    canvas = calendar.canvas
    client = window.client

    async def scenario():
        tomorrow = state.today_date() + timedelta(days=1)
        window.act_next.trigger()
        await until(lambda: canvas.day == tomorrow and not window.tasks.busy, what="tomorrow")
        now = state.now()
        movable = [
            b
            for b in canvas.visible_bookings()
            if b["status"] == Status.CONFIRMED
            and not b.get("visitStatus")
            and from_iso(b["startDateTime"]) > now + timedelta(hours=1)
        ]
        shown = [r["id"] for r in canvas.resources]
        # A booking with a free slot elsewhere on its own resource.
        for target in movable:
            slots = await client.free_times(target["typeId"], tomorrow, ignore_id=target["id"])
            slots = [
                s
                for s in slots
                if s["resourceId"] == target["resourceId"]
                and abs(_minutes(window, s["startDateTime"]) - _minutes(window, target["startDateTime"]))
                >= 60
            ]
            if slots:
                break
        original = dict(target)
        slot = slots[-1]
        column = shown.index(slot["resourceId"])
        minutes = _minutes(window, slot["startDateTime"])

        # 1. A free slot: the free times arrive, the drop reschedules, the server agrees.
        _drag(canvas, target["id"], column, minutes)
        assert canvas.pending is not None and canvas.pending.minutes == minutes
        moved = await until(
            lambda: (
                (b := canvas.block_of(target["id"]))
                and b.booking["startDateTime"] == slot["startDateTime"]
                and b
            ),
            what="the block to move",
        )
        assert moved.column == column and moved.start == minutes
        assert (await client.booking(target["id"]))["startDateTime"] == slot["startDateTime"]
        assert window._dialog is None and calendar._dialog is None  # no reason asked
        assert "Undo move" in window.undo.action.text() and window.undo.action.isEnabled()

        # 2. A taken slot (another booking's start on a resource serving the type): a reason is asked.
        other = next(
            b
            for b in canvas.visible_bookings()
            if b["id"] != target["id"]
            and b["status"] == Status.CONFIRMED
            and target["typeId"] in (state.resource(b["resourceId"]).get("types") or [])
            and from_iso(b["startDateTime"]) > now + timedelta(hours=1)
        )
        busy_column, busy_minutes = shown.index(other["resourceId"]), _minutes(window, other["startDateTime"])
        _drag(canvas, target["id"], busy_column, busy_minutes)
        dialog = await until(
            lambda: (
                isinstance(calendar._dialog, OverbookDialog)
                and calendar._dialog.isVisible()
                and calendar._dialog
            ),
            what="the overbook reason dialog",
        )
        assert not dialog.ok.isEnabled()
        dialog.reason_edit.setPlainText("Doctor agreed to squeeze in")
        dialog.ok.click()
        over = await until(
            lambda: (
                (b := canvas.block_of(target["id"]))
                and b.booking["startDateTime"] == other["startDateTime"]
                and b
            ),
            what="the overbooked block",
        )
        assert over.booking["resourceId"] == other["resourceId"]
        history = await client.history(target["id"])
        assert history[-1]["action"] == "reschedule"
        assert history[-1]["after"].get("overbookReason") == "Doctor agreed to squeeze in"
        await until(lambda: "Overbooked" in window.statusBar().currentMessage(), what="the status message")

        # 3. Ctrl+Z twice: back to the free slot, then back where it started.
        window.activateWindow()
        await until(lambda: QApplication.activeWindow() is window, what="the window to be active")
        for expected in (slot["startDateTime"], original["startDateTime"]):
            QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            back = await until(
                lambda e=expected: (
                    (b := canvas.block_of(target["id"])) and b.booking["startDateTime"] == e and b
                ),
                what="the undo",
            )
        assert back.booking["resourceId"] == original["resourceId"]
        server = await client.booking(target["id"])
        assert (server["startDateTime"], server["resourceId"]) == (
            original["startDateTime"],
            original["resourceId"],
        )
        assert not window.undo.action.isEnabled()
        await asyncio.sleep(0)

    loop.run_until_complete(scenario())


def test_escape_cancels_a_drag_and_cancel_undo_restores(loop, desk):
    from ui.dialogs.common import CancelDialog

    window, state = desk, desk.state
    canvas = window.calendar.canvas

    async def scenario():
        tomorrow = state.today_date() + timedelta(days=1)
        window.act_next.trigger()
        await until(lambda: canvas.day == tomorrow and not window.tasks.busy, what="tomorrow")
        now = state.now()
        target = next(
            b
            for b in canvas.visible_bookings()
            if b["status"] == Status.CONFIRMED
            and not b.get("visitStatus")
            and from_iso(b["startDateTime"]) > now + timedelta(hours=1)
        )
        block = canvas.block_of(target["id"])
        start = QPoint(block.rect.center().x(), block.rect.top() + 2)
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(canvas, start + QPoint(0, 40))
        assert canvas.drag is not None
        await until(lambda: canvas._free is not None, what="the free times while dragging")
        canvas.grab()  # paints the free/busy overlay and the ghost
        QTest.keyClick(canvas, Qt.Key.Key_Escape)
        QTest.mouseRelease(
            canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(0, 40)
        )
        assert canvas.drag is None and canvas.pending is None

        # Cancel, then undo: the same booking comes back (same id, time and resource), never a second one.
        window.select_booking(target["id"])
        window.booking_actions["cancel"].trigger()
        dialog = await until(
            lambda: isinstance(window._dialog, CancelDialog) and window._dialog, what="cancel dialog"
        )
        dialog.reason_edit.setEditText("Called to cancel")
        dialog.ok.click()
        await until(lambda: canvas.block_of(target["id"]) is None, what="the canceled block to go")
        assert "Undo cancel" in window.undo.action.text() and "new booking" not in window.undo.action.text()
        window.undo.action.trigger()
        restored = await until(
            lambda: (b := canvas.block_of(target["id"])) and b.booking, what="the restored block"
        )
        assert restored["status"] == Status.CONFIRMED and restored["startDateTime"] == target["startDateTime"]
        window.show_canceled.setChecked(True)
        same_patient = [
            b
            for b in canvas.visible_bookings()
            if b["customerId"] == target["customerId"] and b["startDateTime"] == target["startDateTime"]
        ]
        assert [b["id"] for b in same_patient] == [target["id"]]
        window.show_canceled.setChecked(False)

        # Check-in by mistake, then undo: the patient is "not arrived" again.
        today = [b for b in state.today if b["status"] == Status.CONFIRMED and not b.get("visitStatus")]
        patient = today[0]["id"]
        window.run_action("check_in", patient)
        await until(lambda: (state.find(patient) or {}).get("visitStatus") == "CHECKED_IN", what="check-in")
        assert window.undo.action.isEnabled() and "check-in" in window.undo.action.text()
        window.undo.action.trigger()
        await until(lambda: (state.find(patient) or {}).get("visitStatus") is None, what="check-in undone")

        # End a visit early, then undo: the visit continues with its scheduled end.
        window.run_action("start", patient)
        await until(lambda: (state.find(patient) or {}).get("visitStatus") == "IN_PROGRESS", what="start")
        window.run_action("end", patient)
        await until(lambda: (state.find(patient) or {}).get("visitStatus") == "COMPLETED", what="end")
        window.undo.action.trigger()
        reopened = await until(
            lambda: (state.find(patient) or {}).get("visitStatus") == "IN_PROGRESS" and state.find(patient),
            what="visit reopened",
        )
        assert reopened["endDateTime"] == today[0]["endDateTime"] and reopened["endedAt"] is None
        await window.tasks.wait_idle()

    loop.run_until_complete(scenario())


def _movable(window, rows, exclude=()):
    now = window.state.now()
    return [
        b
        for b in rows
        if b["status"] == Status.CONFIRMED
        and not b.get("visitStatus")
        and from_iso(b["startDateTime"]) > now + timedelta(hours=1)
        and b["id"] not in exclude
    ]


def test_move_then_cancel_then_two_undos_restore_the_same_booking_where_it_was(loop, desk):
    """The reported path: undoing the cancel must not book a second booking, and the move
    below it must still undo afterwards."""
    window, state, client = desk, desk.state, desk.client
    canvas = window.calendar.canvas

    async def scenario():
        tomorrow = state.today_date() + timedelta(days=1)
        window.act_next.trigger()
        await until(lambda: canvas.day == tomorrow and not window.tasks.busy, what="tomorrow")
        for target in _movable(window, canvas.visible_bookings()):
            slots = [
                s
                for s in await client.free_times(target["typeId"], tomorrow, ignore_id=target["id"])
                if s["resourceId"] == target["resourceId"] and s["startDateTime"] != target["startDateTime"]
            ]
            if slots:
                break
        slot = slots[-1]
        window._reschedule(target, slot)
        await until(
            lambda: (
                (b := state.find(target["id"]))
                and b["startDateTime"] == slot["startDateTime"]
                and not window.tasks.busy
            ),
            what="the move",
        )
        window._do(client.cancel(target["id"], "called"), "{name}", state.find(target["id"]), record="cancel")
        await until(
            lambda: (
                (state.find(target["id"]) or {}).get("status") == Status.CANCELED and not window.tasks.busy
            ),
            what="the cancel",
        )
        assert window.undo.action.isEnabled() and "Undo cancel" in window.undo.action.text()
        window.undo.action.trigger()
        await until(
            lambda: (
                (state.find(target["id"]) or {}).get("status") == Status.CONFIRMED and not window.tasks.busy
            ),
            what="the cancel undone",
        )
        assert "Undo move" in window.undo.action.text() and window.undo.action.isEnabled()
        window.undo.action.trigger()
        await until(
            lambda: (
                (state.find(target["id"]) or {}).get("startDateTime") == target["startDateTime"]
                and not window.tasks.busy
            ),
            what="the move undone",
        )
        assert "no longer possible" not in window.statusBar().currentMessage()
        assert "Undone" in window.statusBar().currentMessage()
        day = await client.day(tomorrow)
        mine = [
            b
            for b in day
            if b["customerId"] == target["customerId"]
            and b["startDateTime"] in (target["startDateTime"], slot["startDateTime"])
        ]
        assert [(b["id"], b["status"]) for b in mine] == [(target["id"], Status.CONFIRMED)]
        assert not window.undo.action.isEnabled()

    loop.run_until_complete(scenario())


def test_an_undo_made_stale_by_another_desk_is_removed_with_the_reason(loop, desk, branch_server):
    from app.client import DeskClient

    window, state, client = desk, desk.state, desk.client
    canvas = window.calendar.canvas

    async def scenario():
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            tomorrow = state.today_date() + timedelta(days=1)
            window.act_next.trigger()
            await until(lambda: canvas.day == tomorrow and not window.tasks.busy, what="tomorrow")
            first, second = _movable(window, canvas.visible_bookings())[:2]
            window._do(client.cancel(first["id"], "called"), "{name}", first, record="cancel")
            await until(
                lambda: (
                    (state.find(first["id"]) or {}).get("status") == Status.CANCELED and not window.tasks.busy
                ),
                what="the cancel",
            )
            window._do(client.cancel(second["id"], "called"), "{name}", second, record="cancel")
            await until(
                lambda: (
                    (state.find(second["id"]) or {}).get("status") == Status.CANCELED
                    and not window.tasks.busy
                ),
                what="the second cancel",
            )
            # Another desk restores the second booking itself: this desk's undo of it cannot apply.
            await other.restore(second["id"])
            await until(
                lambda: "no longer possible" in window.statusBar().currentMessage(),
                what="the reason in the status bar",
            )
            assert "Undo cancel" in window.undo.action.text()
            assert len(window.undo.entries) == 1 and window.undo.entries[0].booking_id == first["id"]
            # The next Ctrl+Z still applies to the first booking.
            window.undo.action.trigger()
            await until(
                lambda: (
                    (state.find(first["id"]) or {}).get("status") == Status.CONFIRMED
                    and not window.tasks.busy
                ),
                what="the first cancel undone",
            )
            assert not window.undo.action.isEnabled()
        finally:
            await other.aclose()

    loop.run_until_complete(scenario())


def test_an_undo_refused_by_the_server_says_why_and_leaves_the_stack(loop, desk, branch_server):
    """The other desk books the freed time before this desk undoes its cancel."""
    window, state, client = desk, desk.state, desk.client
    canvas = window.calendar.canvas

    async def scenario():
        tomorrow = state.today_date() + timedelta(days=1)
        window.act_next.trigger()
        await until(lambda: canvas.day == tomorrow and not window.tasks.busy, what="tomorrow")
        target = _movable(window, canvas.visible_bookings())[0]
        window._do(client.cancel(target["id"], "called"), "{name}", target, record="cancel")
        await until(
            lambda: (
                (state.find(target["id"]) or {}).get("status") == Status.CANCELED and not window.tasks.busy
            ),
            what="the cancel",
        )
        start = from_iso(target["startDateTime"]).astimezone(ZoneInfo(state.zone))
        await client.book(
            target["typeId"],
            target["customerId"],
            start.date(),
            start.hour * 100 + start.minute,
            resource_id=target["resourceId"],
        )
        window.undo.action.trigger()
        await until(
            lambda: "no longer possible" in window.statusBar().currentMessage() and not window.tasks.busy,
            what="the refusal",
        )
        assert (
            "slot" in window.statusBar().currentMessage().lower()
            or "time" in window.statusBar().currentMessage().lower()
        )
        assert not window.undo.action.isEnabled()
        assert (await client.booking(target["id"]))["status"] == Status.CANCELED

    loop.run_until_complete(scenario())


def test_undo_right_after_another_desk_changed_the_booking_is_not_applied(loop, desk, branch_server):
    """The other desk's change has not reached this desk's view yet: Ctrl+Z checks the booking's
    version on the server first and says why it does not apply."""
    from app.client import DeskClient

    window, state, client = desk, desk.state, desk.client
    canvas = window.calendar.canvas

    async def scenario():
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            tomorrow = state.today_date() + timedelta(days=1)
            window.act_next.trigger()
            await until(lambda: canvas.day == tomorrow and not window.tasks.busy, what="tomorrow")
            target = _movable(window, canvas.visible_bookings())[0]
            window._do(client.cancel(target["id"], "called"), "{name}", target, record="cancel")
            await until(
                lambda: (
                    (state.find(target["id"]) or {}).get("status") == Status.CANCELED
                    and not window.tasks.busy
                ),
                what="the cancel",
            )
            await other.restore(target["id"])
            changed = await other.cancel(target["id"], "called again")  # canceled again, elsewhere
            window.undo.action.trigger()  # before the events arrive
            await until(
                lambda: "no longer possible" in window.statusBar().currentMessage() and not window.tasks.busy,
                what="the reason",
            )
            assert not window.undo.action.isEnabled()
            now = await client.booking(target["id"])
            assert now["status"] == Status.CANCELED and now["version"] == changed["version"]
        finally:
            await other.aclose()

    loop.run_until_complete(scenario())
