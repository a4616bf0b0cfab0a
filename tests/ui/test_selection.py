"""One selection for the whole window: calendar, queue, check-ins and booking pane agree,
across a language switch, a refresh and a live event from another desk."""

from __future__ import annotations

import asyncio

from app import i18n
from app.client import DeskClient
from tests.ui.conftest import until


def _highlighted(table) -> list[str]:
    model = table.booking_model
    return [model.booking(index.row())["id"] for index in table.selectionModel().selectedRows()]


def _agree(window, booking_id: str) -> None:
    assert window.selected_id == booking_id
    assert window.detail.booking and window.detail.booking["id"] == booking_id
    assert window.calendar.canvas.selected == booking_id and window.calendar.week.selected == booking_id
    for table in (window.queue.table, window.checkins.table):
        assert _highlighted(table) in ([], [booking_id])  # never another row beside the block
    in_queue = window.queue.model.row_of(booking_id) >= 0
    assert (_highlighted(window.queue.table) == [booking_id]) == in_queue


def test_one_selection_across_panels_language_refresh_and_live_event(loop, desk, branch_server):
    window = desk

    async def scenario():
        window.tabs.setCurrentWidget(window.queue)
        await asyncio.sleep(0.05)
        assert len(window.queue.model.rows) >= 2
        waiting = window.queue.model.rows[1]["id"]
        window.queue.table.selectRow(1)  # the receptionist clicks a queue row
        await until(lambda: window.selected_id == waiting, what="queue selection")
        _agree(window, waiting)

        block = next(
            bl
            for bl in window.calendar.canvas.blocks
            if bl.booking["id"] not in {r["id"] for r in window.queue.model.rows}
        )
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.mouseClick(window.calendar.canvas, Qt.MouseButton.LeftButton, pos=block.rect.center())
        chosen = block.booking["id"]
        await until(lambda: window.selected_id == chosen, what="calendar selection")
        _agree(window, chosen)
        assert _highlighted(window.queue.table) == []  # the queue row is no longer highlighted

        window.refresh()  # F5
        await window.tasks.wait_idle()
        _agree(window, chosen)

        menus = window.language_menus
        next(a for a in menus.language_menu.actions() if a.data() == "ar").trigger()
        await asyncio.sleep(0.3)
        await window.tasks.wait_idle()
        assert i18n.current_language() == "ar"
        _agree(window, chosen)

        other = DeskClient(branch_server.url, token=branch_server.token)  # another desk changes the queue
        try:
            loaded = asyncio.Event()
            window.loaded.connect(loaded.set)
            first = window.queue.model.rows[0]
            await other.walk_in(first["typeId"], first.get("customerId") or first["customer"]["id"])
            await asyncio.wait_for(loaded.wait(), 10)
            await window.tasks.wait_idle()
        finally:
            await other.aclose()
        _agree(window, chosen)

        next(a for a in menus.language_menu.actions() if a.data() == "en").trigger()
        await asyncio.sleep(0.3)
        await window.tasks.wait_idle()
        _agree(window, chosen)

    loop.run_until_complete(scenario())
