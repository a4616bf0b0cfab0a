"""Doctor mode against a real branch server: accept next, start and end by keyboard; the
doctor is told when a patient joins an empty queue or is checked in (live events)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.client import DeskClient
from app.domain.clock import from_iso
from app.domain.model import Status, VisitStatus
from tests.ui.conftest import until


async def _doctor(window, resource_id):
    window.extras.open_doctor_mode(resource_id)
    doctor = window.extras.doctor
    await until(lambda: doctor.loaded and doctor.isVisible(), what="doctor mode")
    doctor.activateWindow()
    await until(lambda: QApplication.activeWindow() is doctor, what="doctor mode to be active")
    return doctor


def test_accept_next_start_end(loop, desk, branch_server):
    window = desk

    async def scenario():
        resource = next(r for r in window.state.resources if r.get("category") == "doctors")
        doctor = await _doctor(window, resource["id"])
        assert doctor.queue_rows, "the demo clinic has walk-ins waiting"
        first = min(doctor.queue_rows, key=lambda b: b["queuePosition"])
        assert doctor.current() is None or doctor.current()["visitStatus"] == VisitStatus.IN_PROGRESS
        QTest.keyClick(doctor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept next
        await until(lambda: doctor.current_id == first["id"] and not doctor._acting, what="the accepted patient")
        assert doctor.queue_model.row_of(first["id"]) == -1
        assert "Accepted" in doctor.statusBar().currentMessage()
        assert doctor.current_name.text() == f"{first['customer']['firstName']} {first['customer']['lastName']}"
        assert doctor.buttons["start"].isEnabled() and not doctor.buttons["end"].isEnabled()

        QTest.keyClick(doctor, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)  # Start
        await until(lambda: (c := doctor.current()) and c["visitStatus"] == VisitStatus.IN_PROGRESS
                    and not doctor._acting, what="the visit to start")
        assert doctor.buttons["end"].isEnabled()
        QTest.keyClick(doctor, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # End
        await until(lambda: doctor.current_id is None and not doctor._acting, what="the visit to end")
        assert "Visit ended" in doctor.statusBar().currentMessage()
        row = doctor.day_model.row_of(first["id"])
        assert doctor.day_model.booking(row)["visitStatus"] == VisitStatus.COMPLETED

        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            served = await other.booking(first["id"])
        finally:
            await other.aclose()
        assert served["resourceId"] == resource["id"] and served["visitStatus"] == VisitStatus.COMPLETED
        assert from_iso(served["endedAt"]) >= from_iso(served["startedAt"])
        await until(lambda: window.state.find(first["id"]) is None or
                    window.state.find(first["id"])["visitStatus"] == VisitStatus.COMPLETED,
                    what="the main window to follow")

    loop.run_until_complete(scenario())


def test_notifications_from_live_events(loop, desk, branch_server):
    window = desk

    async def scenario():
        room = next(r for r in window.state.resources if r.get("category") == "rooms"
                    and r["types"][0] in window.state.types)
        type_id = room["types"][0]
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            for booking in await other.queue(room["id"]):  # empty the room's queue first
                await other.accept(booking["id"], room["id"])
            doctor = await _doctor(window, room["id"])
            await until(lambda: not doctor.queue_rows, what="an empty queue")
            customer = (await other.customers("ahmed"))[0]
            walk_in = await other.walk_in(type_id, customer["id"])
            await until(lambda: any(t == "A patient is waiting" for t, _x in doctor.notifications),
                        what="the empty-queue notification")
            assert doctor.queue_model.row_of(walk_in["id"]) == 0
            assert doctor.banner.isVisible() and "A patient is waiting" in doctor.banner.text()

            accepted = await other.accept(walk_in["id"], room["id"])
            assert accepted["status"] == Status.CONFIRMED
            booked = await other.walk_in(type_id, customer["id"])
            booked = await other.accept(booked["id"], room["id"])
            await other.check_in(booked["id"])
        finally:
            await other.aclose()
        await until(lambda: any(t == "Patient checked in" for t, _x in doctor.notifications),
                    what="the check-in notification")

    loop.run_until_complete(scenario())
