"""The new-booking dialog driven by the keyboard only (QTest key events, no mouse), against
a real branch server: book a caller into a free time; create a new customer and put them
in the queue."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.client import DeskClient
from app.domain.model import Status
from tests.ui.conftest import until


def _focus():
    return QApplication.focusWidget()


def _keys(text: str) -> None:
    QTest.keyClicks(_focus(), text)


def _key(key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(_focus(), key, modifier)


async def _open(window):
    window.activateWindow()
    await until(lambda: QApplication.activeWindow() is window, what="the main window to be active")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = await until(
        lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the booking dialog"
    )
    await until(lambda: _focus() is dialog.search.edit, what="focus in the customer search")
    return dialog


def test_book_a_caller_by_keyboard(loop, desk, branch_server):
    window = desk

    async def scenario():
        dialog = await _open(window)
        results = []
        dialog.booked.connect(results.append)
        _keys("ahmed")  # the search runs as you type (debounced)
        await until(lambda: dialog.search.results.count() > 0, what="customers found")
        _key(Qt.Key.Key_Down)  # the second one found
        wanted = dialog.search.results.currentItem().data(256)
        _key(Qt.Key.Key_Return)
        assert dialog.customer["id"] == wanted["id"]
        assert _focus() is dialog.type_combo

        _keys("General")  # keyboard search in the type list
        assert dialog.type_combo.currentText().startswith("General consultation")
        _key(Qt.Key.Key_Tab)
        assert _focus() is dialog.resource_combo
        _key(Qt.Key.Key_Down)  # the first provider instead of "Any provider"
        provider = dialog.resource_id()
        assert provider
        _key(Qt.Key.Key_Tab)
        assert _focus() is dialog.date_edit  # today unless another date is chosen
        _key(Qt.Key.Key_Tab)
        assert _focus() is dialog.slots
        await until(lambda: dialog.slots.count() >= 3 and dialog.status.text() == "", what="free times")
        slots = [dialog.slots.item(i).data(256) for i in range(dialog.slots.count())]
        assert {s["resourceId"] for s in slots} == {provider}
        assert slots == sorted(slots, key=lambda s: s["startDateTime"])
        _key(Qt.Key.Key_Down)
        _key(Qt.Key.Key_Down)
        slot = dialog.slot()
        assert slot == slots[2]
        _key(Qt.Key.Key_Return)  # Enter on a free time books it
        await until(
            lambda: window.booking_desk.booking_dialog is None, what="the dialog to close after booking"
        )
        booked = results[0]
        assert booked["startDateTime"] == slot["startDateTime"] and booked["resourceId"] == provider
        await until(lambda: "Booked" in window.statusBar().currentMessage(), what="the status message")

        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            row = await other.booking(booked["id"])
        finally:
            await other.aclose()
        assert row["customerId"] == wanted["id"] and row["status"] == Status.CONFIRMED
        assert row["type"]["name"] == "General consultation"
        await until(
            lambda: window.state.day == date.fromisoformat(slot["date"]) and window.state.find(booked["id"]),
            what="the desk to show the booking",
        )
        assert window.selected_id == booked["id"]

    loop.run_until_complete(scenario())


def test_new_customer_into_the_queue_by_keyboard(loop, desk, branch_server):
    window = desk

    async def scenario():
        before = len(window.state.waiting)
        dialog = await _open(window)
        _keys("Zainab Haddad")
        await until(lambda: "No customer found" in dialog.search.status.text(), what="no match")
        QTest.keyClick(dialog, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)  # &New customer
        await until(lambda: _focus() is dialog.first_name, what="the new-customer form")
        assert dialog.first_name.text() == "Zainab" and dialog.last_name.text() == "Haddad"
        _key(Qt.Key.Key_Tab)
        _key(Qt.Key.Key_Tab)
        assert _focus() is dialog.phone
        assert dialog.phone.layoutDirection() == Qt.LayoutDirection.LeftToRight
        _keys("+966 50 123 4567")
        _key(Qt.Key.Key_Return)
        await until(lambda: dialog.customer is not None, what="the customer to be created")
        assert dialog.customer["phone"] == "+966501234567"
        assert _focus() is dialog.type_combo
        _keys("Blood")
        QTest.keyClick(dialog, Qt.Key.Key_Q, Qt.KeyboardModifier.AltModifier)  # Put in &queue
        await until(lambda: dialog.print_button.isVisible(), what="the ticket offer")
        ticket = dialog.result_booking
        assert ticket["status"] == Status.PENDING_ASSIGNMENT and ticket["queueNumber"]
        assert str(ticket["queueNumber"]) in dialog.status.text()
        assert _focus() is dialog.print_button
        await until(lambda: len(window.state.waiting) == before + 1, what="the queue to grow")
        _key(Qt.Key.Key_Escape)
        await until(lambda: window.booking_desk.booking_dialog is None, what="Esc to close the dialog")

    loop.run_until_complete(scenario())
