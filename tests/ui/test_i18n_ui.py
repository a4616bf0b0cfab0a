"""Arabic and English as equals in the running desk.

* every visible text of the main window and of each dialog is in the Arabic catalog while
  the language is Arabic (clinic data excepted: see :func:`untranslated`);
* screenshots of each main screen and dialog in both languages (and pseudo mode), with the
  time axis on the right and the first resource column rightmost in Arabic;
* a live switch (View → Language) keeps the selected booking and the scroll position,
  mirrors the arrows, loads Qt's own translations and is remembered for the desk;
* phone and e-mail fields stay left to right; View → Digits shows Arabic-Indic digits.

Screenshots go to ``tmp_path`` (or ``$ISTIQBAL_SCREENSHOTS`` when set, to look at them).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from app import desk_prefs, i18n
from app.i18n import catalogs
from app.i18n import formats as fmt
from app.i18n.text import display_name, strip_bidi_controls
from tests.ui.conftest import until

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’._@-]*")
#: Placeholders that show a format, not words: an address or a code like ABCD-EFGH.
FORMAT_EXAMPLE = re.compile(r"https?://\S+|[A-Z0-9]+(?:-[A-Z0-9]+)+")
#: Key names and technical words that stay Latin in any language (the shortcut sheet,
#: file filters, the server address).
ALWAYS_LATIN = {
    "Ctrl",
    "Shift",
    "Alt",
    "Del",
    "Delete",
    "Enter",
    "Return",
    "Esc",
    "Tab",
    "Up",
    "Down",
    "Left",
    "Right",
    "Home",
    "End",
    "Ins",
    "PgUp",
    "PgDown",
    "Space",
    "Backspace",
    "Meta",
    "F1",
    "F5",
    "F11",
    "Print",
    "http",
    "https",
    "csv",
    "ics",
    "pdf",
    "PDF",
    "CSV",
}


@pytest.fixture(autouse=True)
def _own_settings_and_english_afterwards(tmp_path, monkeypatch):
    monkeypatch.setenv(desk_prefs.ENV_DIR, str(tmp_path / "config"))
    yield
    from ui.core import language

    fmt.set_digits("latn")
    if QApplication.instance() is not None:
        language.controller().apply("en")
    i18n.set_language("en")


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("ISTIQBAL_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _switch(lang: str) -> None:
    from ui.core import language

    language.controller().apply(lang)


async def _settle(window=None, rounds: int = 6) -> None:
    """Let layouts, paints and the desk's short fetches finish (the qasync loop runs Qt's
    events while we sleep; never processEvents() inside a coroutine: re-entrancy)."""
    for _i in range(rounds):
        await asyncio.sleep(0.04)


def _save(widget: QWidget, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    pixmap = widget.grab()
    assert not pixmap.isNull() and pixmap.save(str(path), "PNG"), path
    assert path.stat().st_size > 2_000
    return path


# --- what the user sees ----------------------------------------------------------------------


def arabic_msgstrs() -> set[str]:
    with catalogs.po_path("ar").open("rb") as fp:
        catalog = read_po(fp, locale="ar")
    out: set[str] = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        out.update(s for s in strings if s)
    return out


def _plain(text: str) -> str:
    text = strip_bidi_controls(text or "")
    text = re.sub(r"<[^>]+>", " ", text)  # rich text
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.strip()


def arabic_translations() -> dict[str, str]:
    """``{plain msgid: plain Arabic msgstr}`` of the singular messages translated to
    something else (the texts that must change when the desk switches to Arabic)."""
    with catalogs.po_path("ar").open("rb") as fp:
        catalog = read_po(fp, locale="ar")
    out: dict[str, str] = {}
    for message in catalog:
        if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            english, arabic = _plain(message.id), _plain(message.string)
            if english and arabic != english:
                out.setdefault(english, arabic)
    return out


def still_english(
    before: list[tuple[str, str]], after: list[tuple[str, str]], translations: dict[str, str]
) -> list[tuple[str, str]]:
    """The translatable texts shown before a switch to Arabic that are still shown, in the
    same kind of widget, after it: a widget that did not retranslate."""
    shown_after = {(where, _plain(text)) for where, text in after}
    return sorted(
        {
            (where, _plain(text))
            for where, text in before
            if _plain(text) in translations and (where, _plain(text)) in shown_after
        }
    )


def visible_texts(top: QWidget) -> list[tuple[str, str]]:
    """(where, text) of every text a user can see in ``top``: titles, labels, buttons,
    tooltips, placeholders, tabs, group boxes, combo items, headers, menus and actions."""
    found: list[tuple[str, str]] = []

    def add(where: str, text: str | None) -> None:
        if text and _plain(text):
            found.append((where, text))

    add(f"{type(top).__name__}.windowTitle", top.windowTitle())
    for w in [top, *top.findChildren(QWidget)]:
        if w is not top and not w.isVisibleTo(top):
            continue
        kind = type(w).__name__
        add(f"{kind}.toolTip", w.toolTip())
        if isinstance(w, QLabel):
            add(f"{kind}.text", w.text())
        elif isinstance(w, QAbstractButton):
            add(f"{kind}.text", w.text())
        elif isinstance(w, QLineEdit):
            add(f"{kind}.placeholder", w.placeholderText())
        elif isinstance(w, QPlainTextEdit):
            add(f"{kind}.placeholder", w.placeholderText())
        elif isinstance(w, QGroupBox):
            add(f"{kind}.title", w.title())
        elif isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(f"{kind}.tab", w.tabText(i))
        elif isinstance(w, QComboBox):
            for i in range(w.count()):
                add(f"{kind}.item", w.itemText(i))
        if isinstance(w, QTableWidget):
            for row in range(w.rowCount()):
                item = w.item(row, 0)
                add(f"{kind}.cell", item.text() if item else "")
        if isinstance(w, QAbstractItemView) and w.model() is not None and hasattr(w, "horizontalHeader"):
            model = w.model()
            for c in range(model.columnCount()):
                add(f"{kind}.header", model.headerData(c, Qt.Orientation.Horizontal))
    menus = list(top.findChildren(QMenu))
    if hasattr(top, "menuBar") and top.menuWidget() is not None:
        for action in top.menuBar().actions():
            add("menu bar", action.text())
    for menu in menus:
        add("QMenu.title", menu.title())
        for action in menu.actions():
            if not action.isSeparator():
                add("QAction.text", action.text())
                add("QAction.toolTip", action.toolTip() if action.toolTip() != action.text() else "")
    return found


def data_words(window) -> set[str]:
    """Latin words that come from the clinic's data (names, phones, e-mails, the address)."""
    state = window.state
    words: set[str] = set(ALWAYS_LATIN)

    def take(value) -> None:
        if isinstance(value, str):
            words.update(LATIN_WORD.findall(value))
        elif isinstance(value, dict):
            for v in value.values():
                take(v)
        elif isinstance(value, list | tuple):
            for v in value:
                take(v)

    take(
        [
            state.branch,
            state.resources,
            list(state.types.values()),
            state.bookings,
            state.waiting,
            state.today,
        ]
    )
    take(window.client.base_url)
    take(list(i18n.LANGUAGES.values()))  # View → Language: each language in its own name
    return words


def untranslated(texts: list[tuple[str, str]], msgstrs: set[str], data: set[str]) -> list[tuple[str, str]]:
    """Texts that show English the catalog does not explain: text with Latin letters that is
    neither an Arabic msgstr nor made only of Latin words from the clinic's data."""
    bad = []
    plain_msgstrs = {_plain(m) for m in msgstrs}
    msgstr_words = {w for m in msgstrs for w in LATIN_WORD.findall(m)}
    for where, text in texts:
        plain = _plain(text)
        if not LATIN_WORD.search(plain) or plain in plain_msgstrs or FORMAT_EXAMPLE.fullmatch(plain):
            continue
        unknown = [
            w
            for w in LATIN_WORD.findall(plain)
            if w not in data
            and w not in msgstr_words
            and w.strip(".") not in data
            and not re.fullmatch(r"[A-Z]|F\d+", w)
        ]  # key names
        if unknown:
            bad.append((where, text))
    return bad


def _dialogs(window):
    """Open each dialog of the desk in turn; yields (name, dialog) while it is open."""
    from ui.dialogs.common import AcceptDialog, CancelDialog, RescheduleDialog
    from ui.windows.doctor_mode import ResourcePicker

    state = window.state
    waiting = state.waiting[0]
    booked = next(b for b in state.bookings if b.get("startDateTime") and b.get("status") == "CONFIRMED")
    yield "accept", AcceptDialog(waiting, state.resources_serving(waiting["typeId"]), state.zone, window)
    yield "cancel", CancelDialog(booked, state.zone, window)
    yield (
        "reschedule",
        RescheduleDialog(
            booked,
            state.zone,
            {r["id"]: r for r in state.resources},
            state.day,
            state.today_date(),
            lambda day: window.client.free_times(booked["typeId"], day),
            window.tasks,
            window,
        ),
    )
    yield "provider-picker", ResourcePicker(state.resources, None, window)
    yield "shortcuts", window.shortcut_help.show_shortcuts()
    yield "new-booking", window.booking_desk.new_booking()
    # Dialogs of the other features, when this checkout has them.
    from importlib import import_module

    for name, module, cls, args in (
        ("overbook", "ui.calendar", "OverbookDialog", (booked, "10:00", state.resources[0])),
        ("cloud-settings", "ui.dialogs.cloud_settings", "CloudSettingsDialog", (window.client,)),
        ("pair-desk", "ui.dialogs.pairing", "PairDeskDialog", (window.client,)),
        ("connect", "ui.dialogs.pairing", "ConnectToServerDialog", (None,)),
        ("backups", "ui.dialogs.maintenance", "BackupsDialog", (window.client,)),
        ("first-run", "ui.windows.first_run", "FirstRunPage", ()),
    ):
        try:
            dialog_class = getattr(import_module(module), cls)
        except (ImportError, AttributeError):
            continue
        yield name, dialog_class(*args, parent=window)


async def _visit_dialogs(window, folder: Path, lang: str, check=None) -> list[str]:
    names = []
    for name, dialog in _dialogs(window):
        if not dialog.isVisible():
            dialog.open()
        if hasattr(dialog, "reload"):
            dialog.reload()
        await _settle(window)
        tasks = getattr(dialog, "tasks", None) or window.tasks
        await tasks.wait_idle()  # closing a dialog while it loads is another test's business
        _save(dialog, folder, f"dialog-{name}-{lang}")
        if check is not None:
            check(name, dialog)
        dialog.close()
        await _settle()
        names.append(name)
    return names


# --- tests -------------------------------------------------------------------------------------


def test_arabic_desk_shows_no_untranslated_text(loop, desk, shots):
    from ui.windows.doctor_mode import DoctorMode

    window = desk

    async def scenario():
        _switch("ar")
        await _settle(window)
        msgstrs, data = arabic_msgstrs(), data_words(window)
        problems = untranslated(visible_texts(window), msgstrs, data)

        def check(name, dialog):
            problems.extend(
                (f"{name}: {where}", text)
                for where, text in untranslated(visible_texts(dialog), msgstrs, data)
            )

        await _visit_dialogs(window, shots, "ar-check", check)
        window.screens.open_doctor_mode(window.state.resources[0]["id"])
        doctor = await until(
            lambda: (
                isinstance(window.screens.doctor, DoctorMode)
                and window.screens.doctor.loaded
                and window.screens.doctor
            ),
            what="doctor mode",
        )
        await _settle(doctor)
        problems.extend(
            (f"doctor mode: {w}", t) for w, t in untranslated(visible_texts(doctor), msgstrs, data)
        )
        doctor.close()
        room = window.screens.open_waiting_room(None)
        await _settle()
        # The waiting-room screen shows Arabic and English side by side on purpose: only
        # the window's own title and actions follow the desk's language.
        own = [(f"waiting room: {w}", t) for w, t in visible_texts(room) if w.endswith("windowTitle")]
        own += [("waiting room: action", a.text()) for a in room.actions()]
        problems.extend(untranslated(own, msgstrs, data))
        room.close()
        assert problems == [], (
            "English left in the Arabic desk (run extract/update and translate):\n"
            + "\n".join(f"  {where}: {text!r}" for where, text in problems)
        )

    loop.run_until_complete(scenario())


@pytest.mark.parametrize("lang", ["en", "ar", "pseudo"])
def test_screenshots_of_each_screen_and_dialog(loop, desk, shots, lang):
    window = desk

    async def scenario():
        _switch(lang)
        await _settle(window)
        _save(window, shots, f"main-day-{lang}")
        canvas = window.calendar.canvas
        axis, first = canvas.axis_rect(), canvas.column_rect(0)
        last = canvas.column_rect(canvas.column_count() - 1)
        if lang == "en":
            assert axis.x() < first.x() < last.x()
        else:  # Arabic and pseudo run right to left: axis on the right, first resource rightmost
            assert axis.x() > first.x() > last.x()
            assert (
                window.isRightToLeft()
                and window.splitter.widget(0).geometry().x() > window.splitter.widget(1).geometry().x()
            )  # the calendar pane is on the right
        window.calendar.set_mode("week")
        await _settle(window)
        _save(window, shots, f"main-week-{lang}")
        window.calendar.set_mode("day")
        window.tabs.setCurrentWidget(window.checkins)
        await _settle(window)
        _save(window, shots, f"main-checkins-{lang}")
        window.tabs.setCurrentWidget(window.queue)
        names = await _visit_dialogs(window, shots, lang)
        assert len(names) >= 6
        if lang == "pseudo":
            assert window.act_today.text().startswith("[") and window.menuBar().actions()[
                0
            ].text().startswith("[")

    loop.run_until_complete(scenario())
    assert len(list(shots.glob(f"*-{lang}.png"))) >= 9


def test_live_switch_keeps_selection_and_scroll_and_mirrors(loop, desk):
    from ui.core.language import controller

    window = desk

    async def scenario():
        booking = next(b for b in window.state.bookings if b.get("startDateTime"))
        window.select_booking(booking["id"])
        bar = window.calendar.scroll.verticalScrollBar()
        bar.setValue(bar.maximum() // 2)
        scroll = bar.value()
        await _settle(window)
        prev_icon = window.act_prev.icon().cacheKey()
        english_detail = window.detail.fields["customer"].text()
        english_texts = visible_texts(window)
        # View → Language lists each language in its own name, in any desk language
        translations = {
            en: ar for en, ar in arabic_translations().items() if en not in i18n.LANGUAGES.values()
        }
        translatable = [(w, t) for w, t in english_texts if _plain(t) in translations]
        assert len(translatable) > 50, translatable  # menus, actions, buttons, tabs, headers, labels

        menus = window.language_menus
        arabic = next(a for a in menus.language_menu.actions() if a.data() == "ar")
        arabic.trigger()  # View → Language → العربية
        await _settle(window)
        assert (
            i18n.current_language() == "ar"
            and QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
        )
        # every label, menu, action, button, tab and header of the window changed language
        assert still_english(english_texts, visible_texts(window), translations) == []
        assert window.selected_id == booking["id"] and window.detail.booking["id"] == booking["id"]
        assert (
            window.calendar.canvas.selected_id == booking["id"]
            if hasattr(window.calendar.canvas, "selected_id")
            else True
        )
        assert bar.value() == scroll
        assert window.detail.fields["customer"].text().strip("\u200e\u200f") == english_detail.strip(
            "\u200e\u200f"
        )
        assert window.act_today.text() == i18n._("Today") != "Today"
        assert window.view_menu.title() == i18n._("&View") != "&View"
        assert window.detail.title() == i18n._("Booking") != "Booking"
        assert window.act_prev.icon().cacheKey() != prev_icon  # ◀ became ▶
        assert window.act_prev.shortcut().toString() == "Alt+Right"
        assert desk_prefs.load()["language"] == "ar"  # remembered for this desk
        canvas = window.calendar.canvas
        assert canvas.axis_rect().x() > canvas.column_rect(0).x()
        # Qt's own strings: the qtbase translator is installed and kept referenced.
        assert controller().translators
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        assert box.button(QDialogButtonBox.StandardButton.Cancel).text() not in ("Cancel", "&Cancel")
        box.deleteLater()

        english = next(a for a in menus.language_menu.actions() if a.data() == "en")
        english.trigger()
        await _settle(window)
        assert window.act_today.text() == "Today" and not window.isRightToLeft()
        back = {(w, _plain(t)) for w, t in visible_texts(window)}
        assert [(w, _plain(t)) for w, t in translatable if (w, _plain(t)) not in back] == []  # and back again
        assert window.selected_id == booking["id"] and bar.value() == scroll
        assert window.act_prev.icon().cacheKey() != 0

    loop.run_until_complete(scenario())


def test_digits_menu_shows_arabic_indic_digits_everywhere(loop, desk):
    window = desk

    async def scenario():
        _switch("ar")
        digits = window.language_menus.digits_menu
        assert digits.isEnabled()
        next(a for a in digits.actions() if a.data() == "arab").trigger()
        await _settle(window)
        assert desk_prefs.load()["digits"] == "arab"
        model = window.checkins.model
        times = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
        assert times and all(not re.search(r"[0-9]", t) and re.search(r"[٠-٩]", t) for t in times)
        assert not re.search(r"[0-9]", window.queue.summary.text())
        assert not re.search(r"[0-9]", window.date_label.text()) and re.search(
            r"[٠-٩]", window.hijri_label.text()
        )
        next(a for a in digits.actions() if a.data() == "latn").trigger()
        await _settle(window)
        assert re.search(r"[0-9]", model.data(model.index(0, 0)))

    loop.run_until_complete(scenario())


def test_phone_and_email_fields_stay_left_to_right_in_arabic(loop, desk):
    window = desk

    async def scenario():
        _switch("ar")
        dialog = window.booking_desk.new_booking()
        await _settle(window)
        assert dialog.isRightToLeft()
        for field in (dialog.phone, dialog.email):
            assert field.layoutDirection() == Qt.LayoutDirection.LeftToRight
            assert field.alignment() & Qt.AlignmentFlag.AlignLeft
        dialog.close()

    loop.run_until_complete(scenario())


def test_names_follow_the_language(loop, desk):
    window = desk

    async def scenario():
        both = next(
            r
            for r in window.state.resources
            if isinstance(r.get("name_translations"), dict) and len(set(r["name_translations"].values())) == 2
        )
        _switch("ar")
        await _settle(window)
        assert display_name(both) == both["name_translations"]["ar"]
        names = [a.text() for a in window.calendar.filter.menu_.actions()]
        assert both["name_translations"]["ar"] in names
        _switch("en")
        await _settle(window)
        names = [a.text() for a in window.calendar.filter.menu_.actions()]
        assert both["name_translations"]["en"] in names

    loop.run_until_complete(scenario())


def test_startup_language_pseudo_env_and_saved_setting(monkeypatch):
    from ui.core.language import startup_language

    assert startup_language(None) == "en"
    desk_prefs.save(language="ar")
    assert startup_language(None) == "ar"
    assert startup_language("en") == "en"  # --lang overrides
    monkeypatch.setenv("ISTIQBAL_PSEUDO", "1")
    assert startup_language(None) == "pseudo"


def test_table_cells_take_their_own_direction(loop, desk):
    from PySide6.QtWidgets import QStyleOptionViewItem

    window = desk

    async def scenario():
        _switch("ar")
        await _settle(window)
        table = window.queue.table
        model = table.model()
        directions = {}
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                option = QStyleOptionViewItem()
                option.direction = table.layoutDirection()
                table.itemDelegate().initStyleOption(option, model.index(row, column))
                directions[option.text] = (option.direction, option.displayAlignment)
        latin = [t for t in directions if re.match(r"[A-Za-z]", t)]
        arabic = [t for t in directions if re.match(r"[\u0600-\u06ff]", t)]
        assert latin and arabic
        assert all(directions[t][0] == Qt.LayoutDirection.LeftToRight for t in latin)
        assert all(directions[t][1] & Qt.AlignmentFlag.AlignRight for t in latin)  # the column's side
        assert all(directions[t][0] == Qt.LayoutDirection.RightToLeft for t in arabic)

    loop.run_until_complete(scenario())


def test_pseudo_mode_shows_every_string_went_through_the_catalog(loop, desk):
    """In pseudo mode every translated string is bracketed: Latin text without brackets that
    is not clinic data was put on screen without _() (and would stay English in Arabic)."""
    window = desk

    async def scenario():
        _switch("pseudo")
        await _settle(window)
        assert window.isRightToLeft()
        data = data_words(window)
        raw = []
        for where, text in visible_texts(window):
            plain = _plain(text)
            words = [
                w for w in LATIN_WORD.findall(plain) if w not in data and not re.fullmatch(r"[A-Z]|F\d+", w)
            ]
            if words and "[" not in plain:
                raw.append((where, text))
        assert raw == [], "strings shown without the catalog:\n" + "\n".join(f"  {w}: {t!r}" for w, t in raw)

    loop.run_until_complete(scenario())
