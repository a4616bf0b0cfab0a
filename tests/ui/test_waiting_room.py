"""The waiting-room screen follows the server's live events: a new walk-in's ticket shows
as waiting; once a provider accepts it, it shows as called with the provider's name in
English and Arabic side by side (whatever the desk language), and the chime counts."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app.client import DeskClient
from app.i18n import current_language
from tests.ui.conftest import until


def _texts(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel)]


def test_waiting_room_updates_when_a_number_is_called(loop, desk, branch_server):
    window = desk

    async def scenario():
        room = window.screens.open_waiting_room(None)  # windowed in tests
        await until(lambda: room.loaded, what="the waiting room's first load")
        assert not room.isFullScreen()
        assert current_language() == "en"
        texts = _texts(room)
        assert "Now calling" in texts and "Waiting" in texts
        assert "عيادات النور" in texts and "Al Noor Clinics" in texts  # both languages at once
        chimes = room.chimes

        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            doctor = next(r for r in window.state.resources if r.get("category") == "doctors")
            type_id = doctor["types"][0]
            customer = (await other.customers("ahmed"))[0]
            walk_in = await other.walk_in(type_id, customer["id"])
            number = walk_in["ticket"]
            assert number[:-3].isalpha() and number[-3:].isdigit()  # e.g. B004: prefix and number
            await until(lambda: number in room.shown_tickets()["waiting"], what="the new ticket waiting")
            assert number not in room.shown_tickets()["called"]
            waiting = room.shown_tickets()["waiting"]
            assert len(waiting) == len(set(waiting)) and waiting.count(number) == 1  # never two of one ticket
            queue = window.queue.model
            await until(lambda: queue.row_of(walk_in["id"]) >= 0, what="the walk-in in the desk's queue")
            assert queue.index(queue.row_of(walk_in["id"]), queue.TICKET).data() == number  # the same string

            await other.accept(walk_in["id"], doctor["id"])
            await until(
                lambda: room.shown_tickets()["called"][:1] == [number], what="the number to be called"
            )
        finally:
            await other.aclose()
        assert number not in room.shown_tickets()["waiting"]
        assert room.chimes == chimes + 1
        texts = _texts(room.called_frame)
        assert number in texts
        assert f"Please go to {doctor['name_translations']['en']}" in texts
        assert any(doctor["name_translations"]["ar"] in t for t in texts)
        room.close()

    loop.run_until_complete(scenario())


def test_screen_menu_lists_the_monitors(loop, desk):
    from PySide6.QtGui import QGuiApplication

    menu = desk.screens.screen_menu
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[0] == "In a &window"
    assert len([t for t in texts if t.startswith("Full screen on monitor")]) == len(QGuiApplication.screens())
    assert desk.screens.act_chime.isCheckable()
