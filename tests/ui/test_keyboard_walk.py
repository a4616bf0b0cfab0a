"""A receptionist's day by keyboard only, in English and in Arabic, with the key events of
an Arabic keyboard layout (tests/ui/keys.py; no setxkbmap): book on a chosen date, cancel
it with a reason, a walk-in with a ticket, accept, check in, start, end, undo. Each task's
time and key presses are measured and printed (``pytest -s``), and each task must stay
within a generous budget of keys."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app import desk_prefs, i18n
from app.domain.model import Status, VisitStatus
from tests.ui import keys
from tests.ui.conftest import until
from tests.ui.keys import arabic, plain, typed

ALT, CTRL, SHIFT = (
    Qt.KeyboardModifier.AltModifier,
    Qt.KeyboardModifier.ControlModifier,
    Qt.KeyboardModifier.ShiftModifier,
)
#: The most key presses each task may take (the walk fails if a change makes one longer).
BUDGET = {
    "book on a chosen date": 30,
    "cancel with a reason": 6,
    "walk-in with a ticket": 22,
    "accept": 3,
    "check in": 1,
    "start": 1,
    "end": 2,
    "undo": 1,
}


@pytest.fixture(autouse=True)
def _settings(tmp_path, monkeypatch):

    monkeypatch.setenv(desk_prefs.ENV_DIR, str(tmp_path / "config"))
    desk_prefs.remember_ticket_printer(f"pdf:{tmp_path / 'ticket.pdf'}")
    yield
    from ui.core import language

    if QApplication.instance() is not None:
        language.controller().apply("en")
    i18n.set_language("en")


def position_of(label: str) -> str:
    """The key (its US position) of a label's mnemonic on the Arabic layout, as F1 shows it."""
    from ui.core.keyboard import ARABIC_101, mnemonic_of

    letter = mnemonic_of(label)
    return ARABIC_101.get(letter, letter)


def _focus():
    return QApplication.focusWidget()


class Stopwatch:
    def __init__(self):
        self.rows: list[tuple[str, float, int]] = []

    def start(self, task: str) -> None:
        self.task, self.t0, self.k0 = task, time.monotonic(), len(keys.STROKES)

    def stop(self) -> None:
        self.rows.append((self.task, time.monotonic() - self.t0, len(keys.STROKES) - self.k0))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_keyboard_only_walk_with_an_arabic_layout(loop, desk, lang, tmp_path):
    from ui.core import language

    window, state = desk, desk.state
    language.controller().apply(lang)
    watch = Stopwatch()
    ticket = tmp_path / "ticket.pdf"
    customers = [b["customer"] for b in state.bookings if (b.get("customer") or {}).get("phone")]
    first, second = customers[0], next(c for c in customers if c["id"] != customers[0]["id"])

    async def open_booking():
        arabic("n", CTRL)  # Ctrl+N: Ctrl+ى
        dialog = await until(
            lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the dialog"
        )
        await until(lambda: _focus() is dialog.search.edit, what="focus in the search")
        return dialog

    async def find(dialog, customer):
        typed(customer["phone"].lstrip("+")[-9:])  # digits read the same on the Arabic layout
        await until(
            lambda: (
                dialog.search.results.count() > 0
                and dialog.search.results.item(0).data(256)["id"] == customer["id"]
            ),
            what="the customer found",
        )
        plain(Qt.Key.Key_Return)
        assert dialog.customer["id"] == customer["id"]

    async def back_to_desk():
        """A closed dialog gives the focus back to the desk (not a key press)."""
        window.activateWindow()
        await until(lambda: QApplication.activeWindow() is window, what="the desk active")
        window.calendar.setFocus()
        await until(lambda: _focus() is not None, what="a focused widget")

    async def scenario():
        await back_to_desk()

        watch.start("book on a chosen date")
        dialog = await open_booking()
        await find(dialog, first)
        arabic(
            position_of(dialog.date_label.text()), ALT
        )  # &Date (Alt+ي; in Arabic ال&تاريخ, Alt+ت): three days on
        for _i in range(3):
            plain(Qt.Key.Key_Up)
        wanted = state.today_date() + timedelta(days=3)
        assert dialog.day() == wanted
        plain(Qt.Key.Key_Tab)
        assert _focus() is dialog.slots
        await until(
            lambda: dialog.slot() is not None and dialog.slot()["date"] >= wanted.isoformat(),
            what="free times from that date",
        )
        plain(Qt.Key.Key_Return)
        await until(lambda: window.booking_desk.booking_dialog is None, what="booked")
        booked_id = window.selected_id
        await until(
            lambda: (b := state.find(booked_id)) and b["status"] == Status.CONFIRMED, what="the booking shown"
        )
        watch.stop()

        await back_to_desk()
        watch.start("cancel with a reason")
        plain(Qt.Key.Key_Delete, CTRL | SHIFT)
        from ui.dialogs.common import CancelDialog

        cancel = await until(
            lambda: (
                isinstance(window._dialog, CancelDialog) and window._dialog.isVisible() and window._dialog
            ),
            what="the cancel dialog",
        )
        await until(lambda: _focus() is cancel.reason_edit, what="focus in the reason")
        plain(Qt.Key.Key_Down)  # the first common reason
        plain(Qt.Key.Key_Return)
        await until(lambda: window._dialog is None, what="canceled")
        await until(
            lambda: (
                (b := window.selected_booking) and b["id"] == booked_id and b["status"] == Status.CANCELED
            ),
            what="the booking canceled",
        )
        watch.stop()

        await back_to_desk()
        watch.start("walk-in with a ticket")
        dialog = await open_booking()
        await find(dialog, second)
        arabic(position_of(dialog.queue_button.text()), ALT)  # Put in &queue (Alt+ض; in Arabic &قائمة, Alt+ق)
        await until(
            lambda: dialog.print_button.isVisible() and _focus() is dialog.print_button,
            what="the ticket offer",
        )
        walk_in = dialog.result_booking
        plain(Qt.Key.Key_Return)  # print the ticket: straight to the ticket printer
        await until(lambda: ticket.exists(), what="the ticket printed")
        plain(Qt.Key.Key_Escape)
        await until(lambda: window.booking_desk.booking_dialog is None, what="the dialog closed")
        await until(lambda: window.selected_id == walk_in["id"], what="the walk-in selected")
        watch.stop()

        watch.start("accept")
        from ui.dialogs.common import AcceptDialog

        await back_to_desk()
        await until(lambda: window.booking_actions["accept"].isEnabled(), what="accept enabled")
        arabic("a", CTRL | SHIFT)  # Ctrl+Shift+A
        accept = await until(
            lambda: (
                isinstance(window._dialog, AcceptDialog) and window._dialog.isVisible() and window._dialog
            ),
            what="the accept dialog",
        )
        await until(lambda: _focus() is accept.list, what="focus in the providers")
        plain(Qt.Key.Key_Return)
        if window._dialog is accept and accept.warning.isVisible():  # outside working hours: confirm
            plain(Qt.Key.Key_Return)
        await until(
            lambda: (b := state.find(walk_in["id"])) and b["status"] == Status.CONFIRMED, what="accepted"
        )
        watch.stop()

        for task, letter, visit in (
            ("check in", "i", VisitStatus.CHECKED_IN),
            ("start", "g", VisitStatus.IN_PROGRESS),
            ("end", "e", VisitStatus.COMPLETED),
        ):
            await back_to_desk()
            watch.start(task)
            await until(
                lambda t=task: window.booking_actions[t.replace(" ", "_")].isEnabled(), what=f"{task} enabled"
            )
            arabic(letter, CTRL)  # Ctrl+I / Ctrl+G / Ctrl+E on the Arabic layout
            done = await until(
                lambda v=visit: (b := state.find(walk_in["id"])) and b.get("visitStatus") == v and b,
                what=f"{task} done",
            )
            if task == "end" and int(done.get("balance") or 0) > 0:
                # Check-out asks for the balance; the receptionist takes it later (Esc).
                payment = await until(
                    lambda: (d := window.payments.dialog) and d.isVisible() and d,
                    what="the payment asked at check-out",
                )
                await until(
                    lambda p=payment: _focus() is not None and p.isAncestorOf(_focus()),
                    what="focus in the payment",
                )
                plain(Qt.Key.Key_Escape)
                await until(lambda: window.payments.dialog is None, what="the payment put off")
            watch.stop()

        await back_to_desk()
        watch.start("undo")
        arabic("z", CTRL)  # Ctrl+Z: Ctrl+ئ — the visit continues
        await until(
            lambda: (b := state.find(walk_in["id"])) and b.get("visitStatus") == VisitStatus.IN_PROGRESS,
            what="the end undone",
        )
        watch.stop()

    loop.run_until_complete(scenario())
    print(f"\nkeyboard walk ({lang}, Arabic layout events):")
    for task, seconds, strokes in watch.rows:
        print(f"  {task:<24} {seconds:6.2f} s  {strokes:3d} keys")
    for task, _seconds, strokes in watch.rows:
        assert strokes <= BUDGET[task], (task, strokes)
