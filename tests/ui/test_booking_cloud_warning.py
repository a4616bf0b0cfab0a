"""The booking dialog warns before saving when the branch's cloud cannot take the customer
(contract ``docs/clouds/qmatic.md`` "Behaviour": customer data — a Qmatic booking
needs first name, last name and e-mail; the desk invents none and the booking stays on the
desk). Real branch server, real widgets offscreen, on a qasync loop."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.client import DeskClient
from tests.ui.conftest import until

QMATIC = {
    "connected": True,
    "online": True,
    "cloud": "qmatic",
    "cloudTitle": "Qmatic",
    "customerRequires": ["firstName", "lastName", "email"],
    "pending": 0,
    "needsAttention": 0,
}


async def _open(window):
    window.activateWindow()
    await until(lambda: QApplication.activeWindow() is window, what="the main window to be active")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    return await until(
        lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the dialog"
    )


async def _pick_customer_and_slot(dialog, client: DeskClient, email: str | None):
    customer = await client.create_customer("Mona", "Saleh", "+966501112233", email)
    dialog.set_customer(customer)
    dialog.reload_slots()
    await until(lambda: dialog.slots.count() > 0, what="free times")
    dialog.slots.setCurrentRow(0)
    assert dialog.slot() is not None and dialog.book_button.isEnabled()
    return customer


def test_a_customer_without_email_is_warned_about_before_saving_on_qmatic(loop, desk, branch_server):
    window = desk
    window.sync_desk.status.status = dict(QMATIC)  # the branch is on Qmatic (its /sync/status)

    async def scenario():
        client = DeskClient(branch_server.url, token=branch_server.token)
        try:
            dialog = await _open(window)
            booked = []
            dialog.booked.connect(booked.append)
            await _pick_customer_and_slot(dialog, client, email=None)
            assert dialog.missing_for_cloud() == ["email"]
            dialog.book()
            text = dialog.status.text()
            assert "Qmatic" in text and "e-mail" in text and "Needs attention" in text, text
            await asyncio.sleep(0.5)
            assert not booked and window.booking_desk.booking_dialog is dialog  # nothing saved yet
            dialog.book()  # the second press saves anyway: the booking stays on the desk
            await until(lambda: booked, what="the booking saved after the warning")
        finally:
            await client.aclose()

    loop.run_until_complete(scenario())


def test_a_complete_customer_or_a_branch_not_on_qmatic_books_without_a_warning(loop, desk, branch_server):
    window = desk

    async def scenario():
        client = DeskClient(branch_server.url, token=branch_server.token)
        try:
            window.sync_desk.status.status = dict(QMATIC)
            dialog = await _open(window)
            booked = []
            dialog.booked.connect(booked.append)
            await _pick_customer_and_slot(dialog, client, email="mona@example.com")
            assert dialog.missing_for_cloud() == []
            dialog.book()
            await until(lambda: booked, what="booked at the first press")
            await until(lambda: window.booking_desk.booking_dialog is None, what="the dialog to close")

            window.sync_desk.status.status = {"connected": False}  # not connected to a cloud
            dialog = await _open(window)
            dialog.booked.connect(booked.append)
            customer = await client.create_customer("Huda", "Omar", "+966501112244", None)
            dialog.set_customer(customer)
            assert dialog.missing_for_cloud() == []
        finally:
            await client.aclose()

    loop.run_until_complete(scenario())
