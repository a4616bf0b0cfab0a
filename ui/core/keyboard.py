"""Shortcuts and mnemonics whatever the keyboard layout.

With an Arabic layout the key that carries N sends Qt a key event with the text ``ى``
(``Qt.Key`` 0x649), so ``Ctrl+N`` arrives as ``Ctrl+ى`` and ``Alt+N`` as ``Alt+ى``:
nothing matches, and a line edit types the letter. Qt's xcb backend looks up a Latin key
only for Ctrl and only when a Latin layout is configured too; Alt and single-layout
machines get nothing.

:class:`LayoutKeys`, an application-wide event filter (:func:`install`), finds the Latin
key at the same position — from the native virtual key (Windows VK_A…VK_Z / VK_0…VK_9,
which do not depend on the layout), the native scan code (evdev keycodes on X11/Wayland,
set-1 scan codes on Windows) or, failing both, the Arabic (101) layout's table — and
re-dispatches the press:

* Ctrl (or Alt) + key: a focused field that claims the Latin keys (Ctrl+Z in a line edit)
  gets them; otherwise the enabled ``QAction`` / ``QShortcut`` of the active window with
  that sequence is triggered.
* Alt + letter: the mnemonic (``&N`` in a label's buddy, a button, a tab, a menu title) of
  the active window is pressed. A mnemonic is looked up as typed first (an Arabic
  translation's ``&ج``), then by the Latin key at that position, then by the Arabic letter
  at that position (the Arabic desk on a US layout). An Alt + letter that matches nothing
  is swallowed: it never types into a field.
* In an open menu a plain letter picks the entry with that mnemonic, the same way.

The position tables follow the standard Arabic (101) layout (Windows "Arabic (101)",
xkb ``ara``)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QTabBar,
    QWidget,
)

__all__ = ["ARABIC_101", "LayoutKeys", "install", "latin_key", "mnemonic_of"]

#: Arabic (101) layout: the character a key gives → the US key at that position (lower
#: case; the shifted characters map to their key too).
ARABIC_101: dict[str, str] = {
    "ذ": "`",
    "ض": "q",
    "ص": "w",
    "ث": "e",
    "ق": "r",
    "ف": "t",
    "غ": "y",
    "ع": "u",
    "ه": "i",
    "خ": "o",
    "ح": "p",
    "ج": "[",
    "د": "]",
    "ش": "a",
    "س": "s",
    "ي": "d",
    "ب": "f",
    "ل": "g",
    "ا": "h",
    "ت": "j",
    "ن": "k",
    "م": "l",
    "ك": ";",
    "ط": "'",
    "ئ": "z",
    "ء": "x",
    "ؤ": "c",
    "ر": "v",
    "ى": "n",
    "ة": "m",
    "و": ",",
    "ز": ".",
    "ظ": "/",
    # shifted (the harakat and signs; the shifted ASCII ones are Latin keys already)
    "إ": "y",
    "أ": "h",
    "آ": "n",
    "ـ": "j",
    "،": "k",
    "؛": "p",
    "؟": "/",
    "\u064e": "q",
    "\u064b": "w",
    "\u064f": "e",
    "\u064c": "r",
    "\u0650": "a",
    "\u064d": "s",
    "\u0652": "x",
    "÷": "i",
    "×": "o",
    "‘": "u",
    "’": "m",
    # Arabic-Indic digits (the "digits" variants of the layout)
    **{d: str(i) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")},
}
#: The Latin key → the Arabic letter it carries (unshifted), for the Arabic desk on a US layout.
ARABIC_AT: dict[str, str] = {}
for _ch, _latin in ARABIC_101.items():
    ARABIC_AT.setdefault(_latin, _ch)

_ROW_KEYS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")
#: X11/Wayland (evdev + 8) keycodes of each row's first key.
_XKB_ROWS = (10, 24, 38, 52)
#: Windows set-1 scan codes of each row's first key.
_WIN_ROWS = (0x02, 0x10, 0x1E, 0x2C)


def _scan_table(starts: tuple[int, ...]) -> dict[int, str]:
    return {start + i: ch for start, row in zip(starts, _ROW_KEYS, strict=True) for i, ch in enumerate(row)}


XKB_KEYCODES = _scan_table(_XKB_ROWS)
WINDOWS_SCAN_CODES = _scan_table(_WIN_ROWS)


def _is_latin(key: int) -> bool:
    return 0x20 <= key <= 0x7E


def _key_of(ch: str) -> int:
    return ord(ch.upper())


def latin_key(event: QKeyEvent) -> int | None:
    """The ``Qt.Key`` (as int) of the Latin key at the position of ``event``'s key, or None
    when the key is Latin already or its position is not known."""
    key = int(event.key())
    if _is_latin(key) or key >= 0x01000000 or key == 0:  # Latin, or a function/navigation key
        return None
    if sys.platform != "darwin":
        vk = event.nativeVirtualKey()
        if 0x41 <= vk <= 0x5A or 0x30 <= vk <= 0x39 or 0x61 <= vk <= 0x7A:
            return _key_of(chr(vk))
    platform = QGuiApplication.platformName()
    table = (
        WINDOWS_SCAN_CODES
        if platform == "windows"
        else XKB_KEYCODES
        if platform in ("xcb", "wayland")
        else {}
    )
    ch = table.get(event.nativeScanCode())
    if ch is None:
        text = event.text() or chr(key)
        ch = ARABIC_101.get(text[:1]) or ARABIC_101.get(chr(key).lower())
    return _key_of(ch) if ch else None


def mnemonic_of(text: str) -> str:
    """The mnemonic character of a label (``"Put in &queue"`` → ``"q"``, lower case), or ""."""
    i = 0
    while True:
        i = text.find("&", i)
        if i < 0 or i + 1 >= len(text):
            return ""
        if text[i + 1] != "&":
            return text[i + 1].lower()
        i += 2


def _candidates(event: QKeyEvent) -> list[str]:
    """The characters a mnemonic may carry for this press, in order: as typed, the Latin
    key at that position, the Arabic letter at that position."""
    out: list[str] = []
    key = int(event.key())
    typed = (event.text() or (chr(key) if 0 < key < 0x110000 else "")).lower()[:1]
    if typed:
        out.append(typed)
    latin = latin_key(event)
    latin_ch = chr(latin).lower() if latin else (typed if typed and typed.isascii() else "")
    if latin_ch and latin_ch not in out:
        out.append(latin_ch)
    arabic = ARABIC_AT.get(latin_ch)
    if arabic and arabic not in out:
        out.append(arabic)
    return out


def _owner_window(obj: QObject) -> QWidget | None:
    while obj is not None and not isinstance(obj, QWidget):
        obj = obj.parent()
    return obj.window() if obj is not None else None


def _active_window(receiver: QObject) -> QWidget | None:
    modal = QApplication.activeModalWidget()
    if modal is not None:
        return modal
    if isinstance(receiver, QWidget):
        return receiver.window()
    return QApplication.activeWindow()


def trigger_sequence(window: QWidget, sequence: QKeySequence) -> bool:
    """Trigger the enabled action or shortcut of ``window`` bound to ``sequence``."""
    for action in window.findChildren(QAction):
        if not action.isEnabled() or not any(
            s.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch for s in action.shortcuts()
        ):
            continue
        if (
            action.shortcutContext() != Qt.ShortcutContext.ApplicationShortcut
            and _owner_window(action) is not window
        ):
            continue
        action.trigger()
        return True
    for shortcut in window.findChildren(QShortcut):
        if (
            shortcut.isEnabled()
            and any(k.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch for k in shortcut.keys())
            and _owner_window(shortcut) is window
        ):
            shortcut.activated.emit()
            return True
    return False


def _reachable(widget: QWidget, window: QWidget) -> bool:
    return widget.isEnabled() and widget.isVisibleTo(window) and widget.window() is window


def mnemonic_targets(window: QWidget) -> list[tuple[str, QObject, object]]:
    """``(mnemonic, widget, detail)`` of every mnemonic reachable in ``window`` now:
    buttons, labels with a buddy, checkable group boxes, tabs and menu-bar titles."""
    found: list[tuple[str, QObject, object]] = []
    for button in window.findChildren(QAbstractButton):
        if _reachable(button, window) and (m := mnemonic_of(button.text())):
            found.append((m, button, None))
    for label in window.findChildren(QLabel):
        if label.buddy() is not None and _reachable(label, window) and (m := mnemonic_of(label.text())):
            found.append((m, label, None))
    for box in window.findChildren(QGroupBox):
        if box.isCheckable() and _reachable(box, window) and (m := mnemonic_of(box.title())):
            found.append((m, box, None))
    for bar in window.findChildren(QTabBar):
        if _reachable(bar, window):
            found += [
                (m, bar, i)
                for i in range(bar.count())
                if bar.isTabEnabled(i) and (m := mnemonic_of(bar.tabText(i)))
            ]
    if isinstance(window, QMainWindow) and window.menuWidget() is not None:
        bar = window.menuBar()
        found += [
            (m, bar, a)
            for a in bar.actions()
            if a.isVisible() and a.isEnabled() and (m := mnemonic_of(a.text()))
        ]
    return found


def _press(widget: QObject, detail: object) -> None:
    if isinstance(widget, QLabel):
        buddy = widget.buddy()
        buddy.setFocus(Qt.FocusReason.ShortcutFocusReason)
    elif isinstance(widget, QAbstractButton):
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
        widget.click()
    elif isinstance(widget, QGroupBox):
        widget.setChecked(not widget.isChecked())
    elif isinstance(widget, QTabBar):
        widget.setCurrentIndex(int(detail))
    elif isinstance(widget, QMenuBar):
        widget.setActiveAction(detail)


def press_mnemonic(window: QWidget, candidates: list[str]) -> bool:
    targets = mnemonic_targets(window)
    for ch in candidates:
        for mnemonic, widget, detail in targets:
            if mnemonic == ch:
                _press(widget, detail)
                return True
    return False


class LayoutKeys(QObject):
    """The application-wide filter described in the module docstring."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._resending = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or self._resending or not isinstance(event, QKeyEvent):
            return False
        try:
            return self._key_press(watched, event)
        except RuntimeError:  # a widget went away under the press
            return False

    def _send(self, target: QObject, kind: QEvent.Type, key: int, modifiers, text: str) -> bool:
        copy = QKeyEvent(kind, key, modifiers, text)
        copy.ignore() if kind == QEvent.Type.ShortcutOverride else None
        self._resending = True
        try:
            QApplication.sendEvent(target, copy)
        finally:
            self._resending = False
        return copy.isAccepted()

    def _key_press(self, watched: QObject, event: QKeyEvent) -> bool:
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu) and not (ctrl or alt):
            return self._menu_letter(popup, event)
        if not (ctrl or alt) or (ctrl and alt):  # Ctrl+Alt is AltGr on Windows: typing
            return False
        window = _active_window(watched)
        if window is None:
            return False
        latin = latin_key(event)
        if alt and not ctrl and not (mods & Qt.KeyboardModifier.MetaModifier):
            text = event.text()
            if (
                latin is None
                and not (text and text.isprintable())
                and not (0x20 < int(event.key()) < 0x01000000)
            ):
                return False
            if press_mnemonic(window, _candidates(event)):
                return True
            if latin is not None and trigger_sequence(
                window, QKeySequence(QKeyCombination(mods, Qt.Key(latin)))
            ):
                return True
            return bool(text and text.isprintable()) or latin is not None  # never type Alt+letter
        if latin is None:
            return False
        sequence = QKeySequence(QKeyCombination(mods, Qt.Key(latin)))
        latin_text = chr(latin).lower() if not (mods & Qt.KeyboardModifier.ShiftModifier) else chr(latin)
        if self._send(watched, QEvent.Type.ShortcutOverride, latin, mods, latin_text):
            self._send(watched, QEvent.Type.KeyPress, latin, mods, latin_text)  # the field claims it
            return True
        return trigger_sequence(window, sequence)

    def _menu_letter(self, menu: QMenu, event: QKeyEvent) -> bool:
        if latin_key(event) is None and not ARABIC_AT.get((event.text() or "").lower()):
            return False
        entries = {mnemonic_of(a.text()) for a in menu.actions() if a.isVisible() and a.isEnabled()}
        for ch in _candidates(event):
            if ch in entries:
                if ch == (event.text() or "").lower()[:1]:
                    return False  # the menu matches it as typed
                self._send(
                    menu,
                    QEvent.Type.KeyPress,
                    _key_of(ch) if ch.isascii() else ord(ch),
                    Qt.KeyboardModifier.NoModifier,
                    ch,
                )
                return True
        return False


_installed: dict[int, LayoutKeys] = {}


def install(app: QApplication | None = None) -> LayoutKeys:
    """Install the filter on ``app`` (the running application) once; returns it."""
    app = app or QApplication.instance()
    found = _installed.get(id(app))
    if found is None:
        found = _installed[id(app)] = LayoutKeys(app)
        app.installEventFilter(found)
    return found
