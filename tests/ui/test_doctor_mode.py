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
    window.screens.open_doctor_mode(resource_id)
    doctor = window.screens.doctor
    await until(lambda: doctor.loaded and doctor.isVisible(), what="doctor mode")
    doctor.activateWindow()
    await until(lambda: QApplication.activeWindow() is doctor, what="doctor mode to be active")
    return doctor


def test_accept_next_start_end(loop, desk, branch_server):
    window = desk

    async def scenario():
        for resource in [r for r in window.state.resources if r.get("category") == "doctors"]:
            doctor = await _doctor(window, resource["id"])
            if doctor.queue_rows and doctor.busy_with() is None:  # nobody with this doctor now
                break
        assert doctor.queue_rows, "the demo clinic has walk-ins waiting"
        first = min(doctor.queue_rows, key=lambda b: b["queuePosition"])
        assert doctor.current() is None or doctor.current()["visitStatus"] == VisitStatus.IN_PROGRESS
        QTest.keyClick(doctor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Accept next
        await until(lambda: not doctor._acting, what="accept next to finish")
        assert doctor.current_id == first["id"], doctor.statusBar().currentMessage()
        assert doctor.queue_model.row_of(first["id"]) == -1
        assert "Accepted" in doctor.statusBar().currentMessage()
        assert (
            doctor.current_name.text() == f"{first['customer']['firstName']} {first['customer']['lastName']}"
        )
        assert doctor.buttons["start"].isEnabled() and not doctor.buttons["end"].isEnabled()

        QTest.keyClick(doctor, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)  # Start
        await until(
            lambda: (
                (c := doctor.current()) and c["visitStatus"] == VisitStatus.IN_PROGRESS and not doctor._acting
            ),
            what="the visit to start",
        )
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
        await until(
            lambda: (
                window.state.find(first["id"]) is None
                or window.state.find(first["id"])["visitStatus"] == VisitStatus.COMPLETED
            ),
            what="the main window to follow",
        )

    loop.run_until_complete(scenario())


def test_notifications_from_live_events(loop, desk, branch_server):
    window = desk

    async def scenario():
        room = next(
            r
            for r in window.state.resources
            if r.get("category") == "rooms" and r["types"][0] in window.state.types
        )
        type_id = room["types"][0]
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            for booking in await other.queue(room["id"]):  # empty the room's queue first
                await other.accept(booking["id"], room["id"])
            doctor = await _doctor(window, room["id"])
            await until(lambda: not doctor.queue_rows, what="an empty queue")
            customer = (await other.customers("ahmed"))[0]
            walk_in = await other.walk_in(type_id, customer["id"])
            await until(
                lambda: any(t == "A patient is waiting" for t, _x in doctor.notifications),
                what="the empty-queue notification",
            )
            assert doctor.queue_model.row_of(walk_in["id"]) == 0
            assert doctor.banner.isVisible() and "A patient is waiting" in doctor.banner.text()

            accepted = await other.accept(walk_in["id"], room["id"])
            assert accepted["status"] == Status.CONFIRMED
            booked = await other.walk_in(type_id, customer["id"])
            booked = await other.accept(booked["id"], room["id"])
            await other.check_in(booked["id"])
        finally:
            await other.aclose()
        await until(
            lambda: any(t == "Patient checked in" for t, _x in doctor.notifications),
            what="the check-in notification",
        )

    loop.run_until_complete(scenario())


def test_the_patient_reception_sends_is_current_and_one_ticket_at_a_time(loop, desk, branch_server):
    """Reception accepts a walk-in for the doctor: doctor mode shows that patient as current and
    does not call a second ticket until that visit is under way and ended."""
    window = desk

    async def scenario():
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            for resource in [r for r in window.state.resources if r.get("category") == "doctors"]:
                doctor = await _doctor(window, resource["id"])
                if len(doctor.queue_rows) >= 2 and doctor.busy_with() is None:
                    break
            assert len(doctor.queue_rows) >= 2 and doctor.busy_with() is None
            assert doctor.accept_next_button.isEnabled()
            sent = min(doctor.queue_rows, key=lambda b: b["queuePosition"])
            await other.accept(sent["id"], resource["id"])  # reception, another desk
            await until(lambda: (c := doctor.current()) and c["id"] == sent["id"], what="the sent patient")
            assert (
                doctor.current_name.text()
                == f"{sent['customer']['firstName']} {sent['customer']['lastName']}"
            )
            assert sent["ticket"] in doctor.current_detail.text()  # the same ticket string
            assert not doctor.accept_next_button.isEnabled()
            assert "one patient at a time" in doctor.accept_next_button.toolTip()
            waiting_before = len(doctor.queue_rows)
            doctor.accept_next()  # Ctrl+Enter anyway
            await until(lambda: not doctor._acting, what="nothing to do")
            assert "one patient at a time" in doctor.statusBar().currentMessage()
            assert len(await other.queue(resource["id"])) == waiting_before  # nobody else was called
            doctor.run("start")
            await until(
                lambda: (
                    (c := doctor.current())
                    and c["visitStatus"] == VisitStatus.IN_PROGRESS
                    and not doctor._acting
                ),
                what="the visit to start",
            )
            assert not doctor.accept_next_button.isEnabled()  # someone is in the room
            doctor.run("end")
            await until(lambda: doctor.current() is None and not doctor._acting, what="the visit to end")
            assert doctor.accept_next_button.isEnabled()

            # A patient reception checks in for this doctor is current too.
            today = [
                b
                for b in doctor.day_rows
                if b["status"] == Status.CONFIRMED and not b.get("visitStatus") and not b.get("ticket")
            ]
            if today:
                await other.check_in(today[0]["id"])
                await until(
                    lambda: (c := doctor.current()) and c["id"] == today[0]["id"], what="the checked-in one"
                )
                assert not doctor.accept_next_button.isEnabled()
        finally:
            await other.aclose()

    loop.run_until_complete(scenario())


def test_provider_by_name_or_id_and_the_copy_id_action(loop, desk, branch_server, capsys):
    from ui.app import resolve_provider
    from ui.windows.doctor_mode import ResourcePicker

    window = desk
    resources = window.state.resources
    doctor = next(r for r in resources if r.get("category") == "doctors")

    async def scenario():
        client = DeskClient(branch_server.url, token=branch_server.token)
        try:
            assert await resolve_provider(client, doctor["id"]) == doctor["id"]
            shouted = doctor["name_translations"]["en"].upper()
            assert await resolve_provider(client, shouted) == doctor["id"]  # case folded
            arabic = doctor["name_translations"]["ar"]
            assert await resolve_provider(client, arabic.replace("ة", "ه")) == doctor["id"]  # spelling folded
            capsys.readouterr()
            assert await resolve_provider(client, "Dr") is None  # several match
            err = capsys.readouterr().err
            assert "matches several providers" in err and doctor["id"] in err
            assert await resolve_provider(client, "nobody-like-this") is None
            err = capsys.readouterr().err
            assert "no provider has this name" in err
            assert all(r["id"] in err for r in resources)  # every choice listed, with its id
        finally:
            await client.aclose()

    loop.run_until_complete(scenario())
    picker = ResourcePicker(resources, doctor["id"], window)
    assert doctor["id"] in picker.list.currentItem().toolTip()
    picker.copy_button.click()
    from PySide6.QtWidgets import QApplication as App

    assert App.clipboard().text() == doctor["id"]
    picker.deleteLater()
