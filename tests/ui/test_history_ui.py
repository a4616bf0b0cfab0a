"""The booking's history at the desk: a branch synced with the simulated Agendize cloud,
a booking rescheduled at the desk and then by the client online; the history opened from
the booking pane with Ctrl+H reads newest first, in words, with who acted and when (the
branch's zone), in English and in Arabic, and follows the live events of its booking."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.client import DeskClient
from app.domain.clock import from_iso
from app.domain.model import Status
from app.i18n import formats as fmt
from app.i18n.text import strip_bidi_controls
from tests.clouds.agendize import AgendizeCloud, generate_clinic, start_cloud
from tests.test_sync_agendize import cloud_time, free_start, staff_ids
from tests.ui.conftest import until, until_pulled

pytestmark = pytest.mark.usefixtures("keep_running")

WORDS = {
    "en": {
        "moved": "Rescheduled from {start} to {end}",
        "desk": "This computer's desk",
        "client": "The client, online (Agendize)",
        "echo": "Through the Agendize API (this branch's key)",
        "echo_what": "Rescheduled to a new time",
        "made": "Booking made",
        "title": "Booking history",
    },
    "ar": {
        "moved": "أُعيدت جدولته من {start} إلى {end}",
        "desk": "مكتب الاستقبال على هذا الجهاز",
        "client": "العميل، عبر الإنترنت (Agendize)",
        "echo": "عبر واجهة Agendize البرمجية (مفتاح هذا الفرع)",
        "echo_what": "أُعيدت جدولته إلى وقت جديد",
        "made": "تم الحجز",
        "title": "سجل الحجز",
    },
}


def _plain(text: str) -> str:
    """Text as read: without the direction marks and isolates (Babel's Arabic dates have some)."""
    return strip_bidi_controls(text)


def _rows(dialog) -> list[tuple[str, str, str]]:
    table = dialog.table
    return [tuple(_plain(table.item(r, c).text()) for c in range(3)) for r in range(table.rowCount())]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_history_reads_newest_first_with_who_and_when(loop, empty_server, tmp_path, lang):
    from ui.core import language
    from ui.dialogs.history import HistoryDialog
    from ui.windows.main import MainWindow

    cloud = AgendizeCloud(page_size=50)
    clinic = generate_clinic(cloud, seed=5)
    company = cloud.companies[clinic["companies"][0]]
    words = WORDS[lang]

    async def scenario(running):
        client = DeskClient(empty_server.url, token=empty_server.token)
        window = None
        try:
            await client.connect_cloud(
                "agendize", running.url, cloud.api_key, cloud.token, {"companyId": company.id}
            )
            await until_pulled(client)
            now = datetime.now(UTC)
            lina = staff_ids(running)[2]  # works the whole week
            cloud_id = next(
                i
                for i, r in sorted(company.appointments.items(), key=lambda kv: kv[1]["_start"])
                if r["type"] == "normal"
                and r["status"] == "accepted"
                and r["_staff"] == lina
                and now + timedelta(days=1, hours=6) < r["_start"] < now + timedelta(days=20)
            )
            bookings = await client.bookings(
                (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                (now + timedelta(days=21)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            booking = next(b for b in bookings if (b.get("cloudIds") or {}).get("agendize") == cloud_id)
            assert booking["status"] == Status.CONFIRMED

            language.controller().apply(lang)
            window = MainWindow(DeskClient(empty_server.url, token=empty_server.token))
            window.resize(1400, 900)
            window.start()
            window.show()
            await asyncio.wait_for(window.first_load, 15)
            zone = window.state.zone
            day = from_iso(booking["startDateTime"]).astimezone(company.zone).date()
            window.go_to(day)
            await until(
                lambda: window.state.find(booking["id"]) and not window.tasks.busy, what="the booking's day"
            )
            window.select_booking(booking["id"])
            assert window.detail.history_button.isEnabled()

            # Ctrl+H on the window opens the selected booking's history
            QTest.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
            dialog = await until(
                lambda: (
                    isinstance(window.history.dialog, HistoryDialog)
                    and window.history.dialog.isVisible()
                    and window.history.dialog
                ),
                what="the history",
            )
            assert strip_bidi_controls(dialog.windowTitle()) == words["title"]
            await until(lambda: dialog.table.rowCount() > 0, what="the first entries")
            assert words["made"] in [what for _when, what, _who in _rows(dialog)]

            # the desk reschedules: the live event brings the new entry to the open history
            slots = await client.free_times(
                booking["typeId"], day, resource_id=booking["resourceId"], ignore_id=booking["id"]
            )
            slot = next(s for s in slots if s["startDateTime"] != booking["startDateTime"])
            old_start, new_start = from_iso(booking["startDateTime"]), from_iso(slot["startDateTime"])
            await window.client.reschedule(booking["id"], day, slot["time"], resource_id=slot["resourceId"])
            desk_line = (
                _plain(
                    words["moved"].format(
                        start=fmt.format_time(old_start, zone), end=fmt.format_time(new_start, zone)
                    )
                ),
                words["desk"],
            )
            # (newest first: its echo from the cloud, in the same second, may come above it)
            await until(
                lambda: desk_line in [r[1:] for r in _rows(dialog)[:2]], what="the desk's reschedule on top"
            )

            # the push reaches Agendize; then the client moves it online with the reschedule link
            await until(lambda: company.appointments[cloud_id]["_start"] == new_start, what="the push")
            moved = free_start(running, 2, 0, new_start + timedelta(days=1))
            cloud.client_reschedule(company.id, cloud_id, moved)
            at = cloud_time(company.appointments[cloud_id]["history"][-1])  # when the cloud recorded it
            client_line = (
                _plain(fmt.format_datetime(at, zone, "medium", "short")),
                _plain(
                    words["moved"].format(
                        start=fmt.format_datetime(new_start, zone, "medium", "short"),
                        end=fmt.format_datetime(moved, zone, "medium", "short"),
                    )
                ),
                words["client"],
            )
            try:
                await until(
                    lambda: _rows(dialog) and _rows(dialog)[0] == client_line, what="the client's reschedule"
                )
            except AssertionError:
                raise AssertionError(f"{_rows(dialog)[:3]} != {client_line}") from None
            rows = _rows(dialog)
            # the desk's own change came back from the cloud as made through its API key, once
            echoes = [r for r in rows if r[1:] == (words["echo_what"], words["echo"])]
            assert len(echoes) == 1
            assert rows.index(echoes[0]) < rows.index(next(r for r in rows if r[1:] == desk_line))
            assert not any("_" in what or what.startswith("cloud.") for _w, what, _who in rows)  # no raw keys
            assert dialog.isRightToLeft() == (lang == "ar")

            window.detail.grab().save(str(tmp_path / f"pane-{lang}.png"))
            dialog.grab().save(str(tmp_path / f"history-{lang}.png"))
            assert (tmp_path / f"history-{lang}.png").stat().st_size > 0
            dialog.done(0)
        finally:
            if window is not None:
                window.stop()
                await asyncio.sleep(0)
                await window.client.aclose()
                window.close()
                window.deleteLater()
            await client.aclose()
            language.controller().apply("en")
            await asyncio.sleep(0.05)

    with start_cloud(cloud) as running:
        running.clinic, running.company = clinic, company
        loop.run_until_complete(scenario(running))
