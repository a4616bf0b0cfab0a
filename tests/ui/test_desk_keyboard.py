"""The everyday dialogs from the keyboard, against a real branch server: the cancel dialog
(Enter confirms, Tab moves on, common reasons, the booking's date), booking on a chosen
date, Day → Go to date, the customer card, and the feedback the desk gives (the new
customer's name, working hours on accept, header direction, phones, menus, status bar)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app import desk_prefs, i18n
from app.client import DeskClient
from app.domain.clock import from_iso
from app.domain.model import Status
from app.i18n.text import first_strong, strip_bidi_controls
from tests.ui.conftest import until
from tests.ui.keys import arabic, plain, typed

ALT, CTRL, SHIFT = (
    Qt.KeyboardModifier.AltModifier,
    Qt.KeyboardModifier.ControlModifier,
    Qt.KeyboardModifier.ShiftModifier,
)


@pytest.fixture(autouse=True)
def _own_settings_and_english_afterwards(tmp_path, monkeypatch):
    monkeypatch.setenv(desk_prefs.ENV_DIR, str(tmp_path / "config"))
    yield
    from ui.core import language

    if QApplication.instance() is not None:
        language.controller().apply("en")
    i18n.set_language("en")


def _focus():
    return QApplication.focusWidget()


async def _active(window):
    window.activateWindow()
    await until(lambda: QApplication.activeWindow() is window, what="the main window to be active")


def _future(window, exclude=()):
    """A confirmed booking of the shown day starting over an hour from now (None: the day has
    none left, e.g. late in the evening)."""
    now = window.state.now()
    return next(
        (
            b
            for b in window.calendar.canvas.visible_bookings()
            if b["status"] == Status.CONFIRMED
            and not b.get("visitStatus")
            and from_iso(b["startDateTime"]) > now + timedelta(hours=1)
            and b["id"] not in exclude
        ),
        None,
    )


async def _tomorrow(window):
    state = window.state
    tomorrow = state.today_date() + timedelta(days=1)
    window.go_to(tomorrow)
    await until(
        lambda: window.calendar.canvas.day == tomorrow and not window.tasks.busy, timeout=30, what="tomorrow"
    )


def test_cancel_dialog_enter_confirms_tab_moves_on_and_reasons_are_offered(loop, desk, branch_server):
    from ui.dialogs.common import CANCEL_REASONS, CancelDialog

    window = desk

    async def scenario():
        await _tomorrow(window)
        target = _future(window)
        window.select_booking(target["id"])
        await _active(window)
        window.calendar.setFocus()
        plain(Qt.Key.Key_Delete, CTRL | SHIFT)  # Booking → Cancel booking…
        dialog = await until(
            lambda: (
                isinstance(window._dialog, CancelDialog) and window._dialog.isVisible() and window._dialog
            ),
            what="the cancel dialog",
        )
        header = strip_bidi_controls(dialog.header.text())
        start = from_iso(target["startDateTime"]).astimezone(ZoneInfo(window.state.zone))
        assert str(start.year) in header and str(start.day) in header  # the date, not only the time
        await until(lambda: _focus() is dialog.reason_edit, what="focus in the reason")
        assert dialog.reason_edit.count() == len(CANCEL_REASONS)
        plain(Qt.Key.Key_Tab)  # Tab moves on, never inserts a tab
        assert _focus() is not dialog.reason_edit and "\t" not in dialog.reason()
        plain(Qt.Key.Key_Tab, SHIFT)
        assert _focus() is dialog.reason_edit
        assert dialog.reason() == "" and not dialog.ok.isEnabled(), (dialog.reason(), _focus())
        plain(Qt.Key.Key_Return)  # no reason yet: Enter does nothing
        assert dialog.isVisible()
        plain(Qt.Key.Key_Down)  # a common reason from the list
        assert dialog.reason() == CANCEL_REASONS[0]
        dialog.reason_edit.lineEdit().selectAll()
        QTest.keyClicks(_focus(), "Called, will come next week")  # free text too
        plain(Qt.Key.Key_Return)
        await until(lambda: window._dialog is None, what="Enter to confirm")
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            row = await until_async(
                lambda: other.booking(target["id"]), lambda r: r["status"] == Status.CANCELED
            )
        finally:
            await other.aclose()
        assert row["cancelReason"] == "Called, will come next week" and "\n" not in row["cancelReason"]

    loop.run_until_complete(scenario())


async def until_async(fetch, ok, timeout: float = 10.0):
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {value}")
        await asyncio.sleep(0.05)


def test_cancel_dialog_mnemonic_confirms(loop, desk):
    from ui.dialogs.common import CancelDialog

    window = desk
    booking = next(b for b in window.state.bookings if b["status"] == Status.CONFIRMED)

    async def scenario():
        dialog = CancelDialog(booking, window.state.zone, window)
        dialog.open()
        await until(lambda: QApplication.activeWindow() is dialog, what="the dialog")
        dialog.reason_edit.setFocus()
        arabic("c", ALT)  # Alt+C (ؤ on the Arabic layout): no reason yet, nothing typed
        assert dialog.isVisible() and dialog.reason() == ""
        dialog.reason_edit.setEditText("Doctor ill")
        dialog.reason_edit.setFocus()
        arabic("c", ALT)  # &Cancel booking
        await until(lambda: not dialog.isVisible(), what="Alt+C to confirm")
        assert dialog.result() == dialog.DialogCode.Accepted and dialog.reason() == "Doctor ill"

    loop.run_until_complete(scenario())


def test_book_on_a_chosen_date_with_the_hijri_date_shown(loop, desk, branch_server):
    window = desk
    state = window.state

    async def scenario():
        await _active(window)
        window.calendar.setFocus()
        QTest.keyClick(window, Qt.Key.Key_N, CTRL)
        dialog = await until(
            lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the dialog"
        )
        QTest.keyClicks(dialog.search.edit, "ahmed")
        await until(lambda: dialog.search.results.count() > 0, what="customers found")
        plain(Qt.Key.Key_Return)
        assert dialog.customer is not None
        hijri_today = dialog.hijri.text()
        assert hijri_today
        arabic("d", ALT)  # &Date: (ي on the Arabic layout)
        assert _focus() is dialog.date_edit
        for _i in range(9):
            plain(Qt.Key.Key_Up)  # day by day
        wanted = state.today_date() + timedelta(days=9)
        assert dialog.day() == wanted
        assert dialog.hijri.text() and dialog.hijri.text() != hijri_today
        plain(Qt.Key.Key_Tab)
        assert _focus() is dialog.slots
        await until(
            lambda: (
                dialog.slots.count() > 0 and dialog.slot() and dialog.slot()["date"] >= wanted.isoformat()
            ),
            what="free times from the chosen date",
        )
        slots = [dialog.slots.item(i).data(256) for i in range(dialog.slots.count())]
        assert all(s["date"] >= wanted.isoformat() for s in slots)
        slot = dialog.slot()
        plain(Qt.Key.Key_Return)
        await until(lambda: window.booking_desk.booking_dialog is None, what="booked")
        await until(
            lambda: state.day.isoformat() == slot["date"], what="the calendar to go to the booked day"
        )

    loop.run_until_complete(scenario())


def test_booking_dialog_prefilled_with_resource_and_start(loop, desk):
    from ui.dialogs.booking import BookingDialog

    window, state = desk, desk.state

    async def scenario():
        resource = state.resources[0]
        type_id = resource["types"][0]
        for ahead in range(3, 10):  # the first day from three days on with free times (not a day off)
            day = state.today_date() + timedelta(days=ahead)
            probe = await window.client.free_times(type_id, day, resource_id=resource["id"])
            if len(probe) > 2:
                break
        assert len(probe) > 2
        start = from_iso(probe[2]["startDateTime"])
        dialog = BookingDialog(
            window.client,
            state.resources,
            state.types,
            state.zone,
            state.today_date(),
            window,
            resource_id=resource["id"],
            start=start,
        )
        index = dialog.type_combo.findData(type_id)
        dialog.type_combo.setCurrentIndex(index)
        dialog.resource_combo.setCurrentIndex(dialog.resource_combo.findData(resource["id"]))
        assert dialog.day() == day
        await until(
            lambda: dialog.slot() is not None and dialog.slot()["startDateTime"] == probe[2]["startDateTime"],
            what="the pre-filled free time picked",
        )
        dialog.reject()

    loop.run_until_complete(scenario())


def test_go_to_date_from_the_keyboard(loop, desk):
    from ui.windows.booking_desk import GO_TO_DATE_SHORTCUT

    window, state = desk, desk.state
    assert GO_TO_DATE_SHORTCUT == "Ctrl+D"
    rows = dict((k, t) for t, k in window.shortcut_help.shortcut_rows())
    assert "Ctrl+D" in rows

    async def scenario():
        await _active(window)
        window.calendar.setFocus()
        arabic("d", CTRL)  # Ctrl+D on the Arabic layout (Ctrl+ي)
        dialog = await until(
            lambda: next(
                (d for d in window.booking_desk.dialogs if d.isVisible() and d.windowTitle() == "Go to date"),
                None,
            ),
            what="the go-to-date dialog",
        )
        await until(
            lambda: dialog.calendar.isAncestorOf(_focus()) or _focus() is dialog.calendar,
            what="focus in the month calendar",
        )
        assert "AH" in dialog.hijri.text()
        plain(Qt.Key.Key_PageDown)  # a month later
        for _i in range(2):
            plain(Qt.Key.Key_Right)
        wanted = dialog.day()
        assert wanted > state.today_date() + timedelta(days=27)
        plain(Qt.Key.Key_Return)
        await until(
            lambda: state.day == wanted and window.calendar.canvas.day == wanted, what="the chosen day"
        )

    loop.run_until_complete(scenario())


def test_customer_card_from_the_booking_dialog_and_the_booking_pane(loop, desk, branch_server):
    from ui.dialogs.customer_card import CustomerCard

    window, state = desk, desk.state

    async def scenario():
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            booking = _future(window)
            if booking is None:  # late in the day: tomorrow's
                await _tomorrow(window)
                booking = _future(window)
            customer = booking["customer"]
            past = await other.book(
                booking["typeId"], customer["id"], state.today_date() + timedelta(days=20), 900
            )
            await other.no_show(past["id"]) if False else None
        finally:
            await other.aclose()
        window.select_booking(booking["id"])
        assert window.detail.card_button.isEnabled()
        window.detail.card_button.click()
        card = await until(
            lambda: next(
                (d for d in window.booking_desk.dialogs if isinstance(d, CustomerCard) and d.isVisible()),
                None,
            ),
            what="the card from the booking pane",
        )
        await until(lambda: card.bookings is not None, what="the bookings")
        assert customer["phone"] in strip_bidi_controls(card.values["phone"].text())
        assert int(card.values["upcoming"].text()) >= 2
        ids = {card.upcoming_table.item(r, 0).data(256) for r in range(card.upcoming_table.rowCount())}
        assert {booking["id"], past["id"]} <= ids
        card.reject()

        await _active(window)
        QTest.keyClick(window, Qt.Key.Key_N, CTRL)
        dialog = await until(
            lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the dialog"
        )
        assert not dialog.card_button.isEnabled()
        QTest.keyClicks(dialog.search.edit, customer["phone"])
        await until(lambda: dialog.search.results.count() > 0, what="found by phone")
        plain(Qt.Key.Key_Return)
        arabic("a", ALT)  # Customer c&ard… (ش on the Arabic layout)
        card = await until(
            lambda: next(
                (d for d in window.booking_desk.dialogs if isinstance(d, CustomerCard) and d.isVisible()),
                None,
            ),
            what="the card from the booking dialog",
        )
        await until(lambda: card.bookings is not None, what="the bookings")
        assert card.customer["id"] == customer["id"]
        card.reject()
        dialog.reject()

    loop.run_until_complete(scenario())


def test_split_bookings_counts_no_shows_in_the_past():
    from ui.dialogs.customer_card import split_bookings

    now = datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("UTC"))
    rows = [
        {"id": "a", "status": "CONFIRMED", "startDateTime": "2026-12-08T09:00:00Z"},
        {"id": "b", "status": "CONFIRMED", "startDateTime": "2026-12-01T09:00:00Z", "visitStatus": "NO_SHOW"},
        {"id": "c", "status": "CANCELED", "startDateTime": "2026-12-09T09:00:00Z"},
        {"id": "d", "status": "PENDING_ASSIGNMENT"},
        {
            "id": "e",
            "status": "CONFIRMED",
            "startDateTime": "2026-12-03T09:00:00Z",
            "visitStatus": "COMPLETED",
        },
    ]
    upcoming, past, no_shows = split_bookings(rows, now)
    assert [b["id"] for b in upcoming] == ["d", "a"]
    assert [b["id"] for b in past] == ["c", "e", "b"] and no_shows == 1


def test_booked_names_the_customer_created_a_moment_ago(loop, desk):
    window = desk

    async def scenario():
        await _active(window)
        QTest.keyClick(window, Qt.Key.Key_N, CTRL)
        dialog = await until(
            lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the dialog"
        )
        QTest.keyClicks(dialog.search.edit, "Zainab Haddad")
        await until(lambda: "No customer found" in dialog.search.status.text(), what="no match")
        QTest.keyClick(dialog, Qt.Key.Key_N, ALT)
        await until(lambda: _focus() is dialog.first_name, what="the form")
        plain(Qt.Key.Key_Return)
        await until(lambda: dialog.customer is not None, what="the customer saved")
        await until(lambda: dialog.slot() is not None, what="free times")
        dialog.slots.setFocus()
        plain(Qt.Key.Key_Return)
        await until(lambda: window.booking_desk.booking_dialog is None, what="booked")
        await until(lambda: "Booked" in window.statusBar().currentMessage(), what="the message")
        message = strip_bidi_controls(window.statusBar().currentMessage())
        assert message == "Booked: Zainab Haddad", message

    loop.run_until_complete(scenario())


def test_accept_outside_working_hours_warns_then_confirms(loop, desk):
    from ui.dialogs.common import AcceptDialog

    window, state = desk, desk.state
    waiting = state.waiting[0]
    zone = ZoneInfo(state.zone)
    night = datetime.combine(state.today_date(), datetime.min.time(), zone).replace(hour=1, minute=16)

    async def scenario():
        dialog = AcceptDialog(
            waiting, state.resources_serving(waiting["typeId"]), state.zone, window, now=night
        )
        accepted = []
        dialog.accepted.connect(lambda: accepted.append(True))
        dialog.open()
        await until(lambda: QApplication.activeWindow() is dialog, what="the dialog")
        dialog.list.setFocus()
        plain(Qt.Key.Key_Return)
        assert not accepted and dialog.isVisible()
        assert dialog.warning.isVisible() and "does not work" in dialog.warning.text()
        assert dialog.ok.text() == "Accept anyway"
        plain(Qt.Key.Key_Return)
        await until(lambda: accepted, what="the second Enter to accept")
        # in working hours: no warning
        resource = state.resources_serving(waiting["typeId"])[0]
        from app.domain.timerules import periods_on

        periods = periods_on(resource.get("timeRules"), state.today_date())
        if periods:
            start = periods[0][0]
            inside = night.replace(hour=start // 100, minute=start % 100) + timedelta(minutes=5)
            again = AcceptDialog(waiting, [resource], state.zone, window, now=inside)
            again.open()
            assert again.outside_hours() is None
            again.reject()

    loop.run_until_complete(scenario())


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_dialog_headers_follow_the_desk_direction(loop, desk, lang):
    from ui.core import language
    from ui.dialogs.common import AcceptDialog, CancelDialog

    window, state = desk, desk.state
    language.controller().apply(lang)
    latin = next(b for b in state.bookings if (b.get("customer") or {}).get("firstName", "").isascii())
    arabic_name = next(
        b for b in state.bookings if not (b.get("customer") or {}).get("firstName", "x").isascii()
    )
    wanted = "rtl" if lang == "ar" else "ltr"
    for booking in (latin, arabic_name):
        for dialog in (
            AcceptDialog(booking, state.resources, state.zone, window),
            CancelDialog(booking, state.zone, window),
        ):
            assert first_strong(dialog.header.text()) == wanted, (lang, dialog.header.text())
            dialog.deleteLater()


def _isolated_ltr(text: str, phone: str) -> bool:
    """``phone`` sits inside a left-to-right isolate (LRI … PDI) in ``text``."""
    return f"\u2066{phone}\u2069" in text


def test_a_customers_phone_corrected_from_the_card_shows_on_the_card_and_the_booking_pane(
    loop, desk, branch_server
):
    from ui.dialogs.customer_card import CustomerCard, CustomerEdit

    window, state = desk, desk.state

    async def scenario():
        booking = _future(window)
        if booking is None:  # late in the day: tomorrow's
            await _tomorrow(window)
            booking = _future(window)
        customer = booking["customer"]
        other = next(
            b["customer"]
            for b in state.bookings
            if (b.get("customer") or {}).get("phone") and b["customer"]["id"] != customer["id"]
        )
        window.select_booking(booking["id"])
        window.detail.card_button.click()
        card = await until(
            lambda: next(
                (d for d in window.booking_desk.dialogs if isinstance(d, CustomerCard) and d.isVisible()),
                None,
            ),
            what="the card",
        )
        card.activateWindow()
        await until(lambda: QApplication.activeWindow() is card, what="the card to be active")
        QTest.keyClick(card, Qt.Key.Key_E, ALT)  # &Edit…
        editor = await until(
            lambda: isinstance(card.editor, CustomerEdit) and card.editor.isVisible() and card.editor,
            what="the edit form",
        )
        await until(lambda: _focus() is editor.first_name, what="the first name to have the focus")
        editor.phone.selectAll()
        QTest.keyClicks(editor.phone, other["phone"])  # a number another customer has
        QTest.keyClick(editor.phone, Qt.Key.Key_Return)
        await until(lambda: "⚠" in editor.message.text(), what="the refusal")
        assert editor.isVisible() and editor.buttons.isEnabled()
        editor.phone.selectAll()
        QTest.keyClicks(editor.phone, "0559876543")
        QTest.keyClick(editor.phone, Qt.Key.Key_Return)
        await until(lambda: not editor.isVisible(), what="the form to close once saved")
        assert "+966559876543" in strip_bidi_controls(card.values["phone"].text())
        card.reject()
        await until(
            lambda: "+966559876543" in strip_bidi_controls(window.detail.fields["phone"].text()),
            timeout=10,
            what="the booking pane to show the new phone (customer.changed)",
        )

    loop.run_until_complete(scenario())


def test_phones_read_left_to_right_in_the_arabic_desk(loop, desk):
    from ui.core import language
    from ui.dialogs.customer_card import CustomerCard
    from ui.dialogs.customer_search import customer_text
    from ui.paper.printing import day_sheet_html, document

    window, state = desk, desk.state
    language.controller().apply("ar")
    booking = next(b for b in state.bookings if (b.get("customer") or {}).get("phone", "").startswith("+"))
    customer = booking["customer"]
    phone = customer["phone"]
    assert _isolated_ltr(customer_text(customer), phone)  # the search results
    window.select_booking(booking["id"])
    assert _isolated_ltr(window.detail.fields["phone"].text(), phone)  # the booking pane
    card = CustomerCard(window.client, customer, state.zone, window)
    assert _isolated_ltr(card.values["phone"].text(), phone)
    card.deleteLater()
    doc = document(
        day_sheet_html(state.day, state.resources, [booking], state.types, state.zone, state.branch)
    )
    assert _isolated_ltr(doc.toPlainText(), phone)  # the printed day sheet


def test_menus_file_quit_first_help_last_and_shortcuts_left_to_right(loop, desk):
    from ui.core import language
    from ui.core.menus import isolate_shortcut

    window = desk
    bar = window.menuBar()
    titles = [a.text() for a in bar.actions()]
    assert titles[0] == "&File" and titles[-1] == "&Help", titles
    quit_action = window.menus.act_quit
    assert quit_action.shortcut().toString() == "Ctrl+Q"
    assert quit_action in window.menus.file_menu.actions()
    language.controller().apply("ar")
    titles = [a.text() for a in bar.actions()]
    assert titles[-1] == window.menus.help_menu.title()

    def menus(menu):
        yield menu
        for action in menu.actions():
            if action.menu() is not None:
                yield from menus(action.menu())

    for top in bar.actions():
        for menu in menus(top.menu()):
            assert menu.style() is window.menus.menu_style, menu.title()
    assert isolate_shortcut("تكبير\tCtrl+=") == "تكبير\t\u2066Ctrl+=\u2069"
    assert isolate_shortcut(isolate_shortcut("تكبير\tCtrl+=")) == "تكبير\t\u2066Ctrl+=\u2069"
    assert isolate_shortcut("Today") == "Today"

    async def scenario():
        await _active(window)
        closed = []
        window.destroyed.connect(lambda: closed.append(True))
        window.calendar.setFocus()
        arabic("q", CTRL)  # Ctrl+Q on the Arabic layout (Ctrl+ض): the desk closes
        await until(lambda: not window.isVisible(), what="Ctrl+Q to close the desk")

    loop.run_until_complete(scenario())


def test_status_bar_names_the_server(loop, desk):
    from ui.windows.main import server_text

    window = desk
    text = window.server_label.text()
    assert "127.0.0.1" not in text and "http" not in text
    assert text == "Server: this computer"
    assert "127.0.0.1" in window.server_label.toolTip()
    branch = {"name": "Olaya branch"}
    assert strip_bidi_controls(server_text("https://10.0.0.5:8443", branch)) == "Server: Olaya branch"
    assert strip_bidi_controls(server_text("https://frontdesk.local:8443")) == "Server: frontdesk.local"


def test_first_run_page_shows_where_the_keyboard_focus_is(loop, tmp_path):
    from ui.windows.first_run import FirstRunPage

    async def scenario():
        page = FirstRunPage()
        page.show()
        page.activateWindow()
        await until(lambda: page.buttons["demo"].hasFocus(), what="focus on the first choice")
        focused = page.buttons["cloud"].grab().toImage()
        page.buttons["cloud"].setFocus()
        await until(lambda: page.buttons["cloud"].hasFocus(), what="Tab focus")
        import asyncio

        await asyncio.sleep(0.05)
        with_focus = page.buttons["cloud"].grab().toImage()
        assert with_focus != focused  # the focused choice looks different
        plain(Qt.Key.Key_Tab)
        assert page.buttons["lan"].hasFocus()
        page.close()

    loop.run_until_complete(scenario())


def test_typed_arabic_reaches_the_search(loop, desk):
    window = desk

    async def scenario():
        await _active(window)
        QTest.keyClick(window, Qt.Key.Key_N, CTRL)
        dialog = await until(
            lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d, what="the dialog"
        )
        await until(lambda: _focus() is dialog.search.edit, what="focus in the search")
        typed("أحمد")  # plain Arabic letters are typed, never taken as shortcuts
        assert dialog.search.edit.text() == "أحمد"
        dialog.reject()

    loop.run_until_complete(scenario())
