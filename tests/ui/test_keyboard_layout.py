"""Every documented shortcut and mnemonic works with an Arabic keyboard layout, driven
with the key events Qt receives from that layout (tests/ui/keys.py), in both languages;
mnemonics are unique in every menu and dialog; the shortcut sheet (F1) is translated."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMenu

from app import desk_prefs, i18n
from tests.ui.conftest import until
from tests.ui.keys import arabic, plain

ALT, CTRL = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ControlModifier


@pytest.fixture(autouse=True)
def _english_afterwards(tmp_path, monkeypatch):
    monkeypatch.setenv(desk_prefs.ENV_DIR, str(tmp_path / "config"))
    yield
    from ui.core import language

    if QApplication.instance() is not None:
        language.controller().apply("en")
    i18n.set_language("en")


def _focus():
    return QApplication.focusWidget()


async def _open_booking(window, native=True):
    window.activateWindow()
    window.calendar.setFocus()
    await until(lambda: QApplication.activeWindow() is window, what="the main window to be active")
    arabic("n", CTRL, native=native)  # Ctrl+N on the Arabic layout: Ctrl+ى
    dialog = await until(
        lambda: (d := window.booking_desk.booking_dialog) and d.isVisible() and d,
        what="the booking dialog from Ctrl+ى",
    )
    await until(lambda: _focus() is dialog.search.edit, what="focus in the customer search")
    return dialog


def test_latin_key_from_the_virtual_key_the_scan_code_or_the_arabic_table(qapp):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    from tests.ui.keys import arabic_event
    from ui.core.keyboard import latin_key

    for latin in "qwertyuiopasdfghjklzxcvnm":  # (B gives the ligature لا)
        assert latin_key(arabic_event(latin, ALT)) == ord(latin.upper()), latin  # VK / table
        assert latin_key(arabic_event(latin, CTRL, native=False)) == ord(latin.upper()), latin  # the table
    # a virtual key of the key's position wins over a text that is not in the table
    odd = QKeyEvent(QEvent.Type.KeyPress, 0x6A9, ALT, 0, 0x4E, 0, "ک")
    assert latin_key(odd) == Qt.Key.Key_N
    assert latin_key(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_N, CTRL, "n")) is None  # Latin already
    assert latin_key(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_F1, CTRL, "")) is None
    assert latin_key(QKeyEvent(QEvent.Type.KeyPress, ord("٣"), CTRL, "٣")) == Qt.Key.Key_3


@pytest.mark.parametrize("native", [True, False], ids=["qt-events", "qt-events-again"])
def test_booking_dialog_mnemonics_with_an_arabic_layout(loop, desk, native):
    window = desk

    async def scenario():
        dialog = await _open_booking(window, native)
        arabic("w", ALT, native=native)  # &With: → the provider list
        assert _focus() is dialog.resource_combo
        arabic("t", ALT, native=native)  # &Type:
        assert _focus() is dialog.type_combo
        arabic("c", ALT, native=native)  # Find &customer:
        assert _focus() is dialog.search.edit
        arabic("n", ALT, native=native)  # &New customer… — never types "ى" or "n"
        await until(lambda: dialog.new_button.isChecked(), what="Alt+ى to open the new-customer form")
        assert dialog.search.edit.text() == ""
        assert _focus() is dialog.first_name
        arabic("q", ALT, native=native)  # Put in &queue: disabled without a customer, types nothing
        assert dialog.first_name.text() == ""
        plain(Qt.Key.Key_Escape)
        await until(lambda: window.booking_desk.booking_dialog is None, what="Esc to close")

    loop.run_until_complete(scenario())


def test_arabic_desk_mnemonics_on_arabic_and_us_layouts(loop, desk):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    from ui.core import language

    window = desk
    language.controller().apply("ar")

    async def scenario():
        dialog = await _open_booking(window)
        assert "&" in dialog.new_button.text() and "ج" in dialog.new_button.text()  # عميل &جديد
        arabic("[", ALT)  # the ج key on the Arabic layout: the translated mnemonic
        await until(lambda: dialog.new_button.isChecked(), what="Alt+ج")
        dialog.new_button.setChecked(False)
        dialog.search.edit.setFocus()
        # The Arabic desk on a US layout: Alt+[ is the key that carries ج.
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(_focus(), QKeyEvent(kind, Qt.Key.Key_BracketLeft, ALT, "["))
        await until(lambda: dialog.new_button.isChecked(), what="Alt+[ on a US layout")
        assert dialog.search.edit.text() == ""
        plain(Qt.Key.Key_Escape)
        await until(lambda: window.booking_desk.booking_dialog is None, what="Esc to close")

    loop.run_until_complete(scenario())


def test_menu_shortcuts_and_menu_letters_with_an_arabic_layout(loop, desk):
    window = desk

    async def scenario():
        window.activateWindow()
        await until(lambda: QApplication.activeWindow() is window, what="the main window")
        day = window.state.day
        window.calendar.setFocus()
        arabic("2", CTRL)  # Ctrl+2: week view (digits are the same key)
        arabic("1", CTRL)
        arabic("t", CTRL)  # Ctrl+T (ف): today
        assert window.state.day == day
        arabic("h", ALT)  # &Help is Alt+H (ا): opens the menu
        menu = await until(
            lambda: isinstance(QApplication.activePopupWidget(), QMenu) and QApplication.activePopupWidget(),
            what="Alt+ا to open the Help menu",
        )
        assert menu is window.menus.help_menu
        arabic("k")  # &Keyboard shortcuts: the letter ن in the open menu
        sheet = await until(
            lambda: next(
                (
                    d
                    for d in window.shortcut_help.dialogs
                    if d.isVisible() and d.windowTitle() == "Keyboard shortcuts"
                ),
                None,
            ),
            what="the shortcut sheet from the menu letter",
        )
        sheet.close()

    loop.run_until_complete(scenario())


def _mnemonics(texts: list[str]) -> list[str]:
    from ui.core.keyboard import mnemonic_of

    return [m for m in (mnemonic_of(t) for t in texts) if m]


def _check_unique(where: str, texts: list[str]) -> None:
    found = _mnemonics(texts)
    duplicates = sorted({m for m in found if found.count(m) > 1})
    assert not duplicates, f"{where}: mnemonic(s) {duplicates} used twice in {texts}"


def _check_menu(menu: QMenu, path: str) -> int:
    checked = 1
    _check_unique(path, [a.text() for a in menu.actions() if a.isVisible() and not a.isSeparator()])
    for action in menu.actions():
        if action.menu() is not None:
            checked += _check_menu(action.menu(), f"{path} → {action.text()}")
    return checked


def _dialog_texts(dialog) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton

    texts = [b.text() for b in dialog.findChildren(QAbstractButton)]
    texts += [label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None]
    return texts


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_mnemonics_are_unique_in_every_menu_and_dialog(loop, desk, lang):
    from ui.core import language
    from ui.core.keyboard import ARABIC_101
    from ui.dialogs.common import AcceptDialog, CancelDialog

    window = desk
    language.controller().apply(lang)
    bar = [a.text() for a in window.menuBar().actions()]
    _check_unique("menu bar", bar)
    menus = sum(_check_menu(a.menu(), a.text()) for a in window.menuBar().actions() if a.menu() is not None)
    assert menus >= 6
    if lang == "ar":  # every Arabic mnemonic can be typed on the Arabic layout
        for m in _mnemonics(bar):
            assert m.isascii() or m in ARABIC_101, m

    async def scenario():
        dialog = await _open_booking(window)
        dialog.new_button.setChecked(True)
        _check_unique("new booking", _dialog_texts(dialog))
        dialog.reject()
        booking = window.state.bookings[0]
        for other in (
            CancelDialog(booking, window.state.zone, window),
            AcceptDialog(booking, window.state.resources, window.state.zone, window),
        ):
            _check_unique(type(other).__name__, _dialog_texts(other))
            other.deleteLater()

    loop.run_until_complete(scenario())


def test_shortcut_sheet_is_translated(loop, desk):
    from ui.core import language

    window = desk
    language.controller().apply("ar")
    rows = window.shortcut_help.shortcut_rows()
    keys = " ".join(k for _t, k in rows)
    assert "Down" not in keys and "Up" not in keys
    assert "الأسفل" in keys
    texts = [t for t, _k in rows]
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in t) for t in texts), texts
    # the dialog keys follow the translated labels: عميل &جديد → Alt+ج
    assert any("Alt+ج" in k for _t, k in rows), rows
