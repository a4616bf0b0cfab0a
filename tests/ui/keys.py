"""Key presses as Qt receives them from an Arabic keyboard layout (setxkbmap-independent).

With the Arabic (101) layout the key that carries N gives Qt ``key() == 0x649`` and the
text ``ى``; the native virtual key is still the key's position (VK_N on Windows) and the
scan code is the physical key's. :func:`arabic` sends exactly such an event (press and
release) to the focused widget, the way the window system delivers one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from ui.core.keyboard import ARABIC_AT, XKB_KEYCODES

_SCAN = {ch: code for code, ch in XKB_KEYCODES.items()}
#: What Shift + a key gives on the Arabic (101) layout (the harakat on the letter keys).
SHIFTED_AT = {
    "q": "\u064e",
    "w": "\u064b",
    "e": "\u064f",
    "r": "\u064c",
    "a": "\u0650",
    "s": "\u064d",
    "x": "\u0652",
    "h": "أ",
    "y": "إ",
    "n": "آ",
}
STROKES: list[str] = []  # every key press sent, for the walk's keystroke counts


def arabic_event(
    latin: str,
    modifiers=Qt.KeyboardModifier.NoModifier,
    native: bool = True,
    kind: QEvent.Type = QEvent.Type.KeyPress,
) -> QKeyEvent:
    """The event Qt makes for the key at the position of US ``latin`` on the Arabic layout:
    Arabic key and text; with ``native`` the Latin virtual key and the evdev scan code."""
    ch = ARABIC_AT[latin.lower()]
    vk = ord(latin.upper()) if native and latin.isalnum() else 0
    scan = _SCAN.get(latin.lower(), 0) if native else 0
    return QKeyEvent(kind, ord(ch.upper()), modifiers, scan, vk, 0, ch)


def arabic(latin: str, modifiers=Qt.KeyboardModifier.NoModifier, native: bool = True) -> None:
    """Press and release the key at the position of US ``latin`` (e.g. ``"n"``) on the
    Arabic layout, delivered like a window-system event (QTest: spontaneous, through Qt's
    shortcut map first, then the application's event filters): the Arabic key and text.
    (The virtual key / scan code path is checked on :func:`arabic_event` directly; events
    with native codes cannot be made spontaneous from Python.)"""
    from PySide6.QtTest import QTest

    ch = ARABIC_AT[latin.lower()]
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        ch = SHIFTED_AT.get(latin.lower(), ch)
    STROKES.append(latin)
    target = QApplication.focusWidget() or QApplication.activeWindow()
    QTest.sendKeyEvent(QTest.KeyAction.Click, target, Qt.Key(ord(ch.upper())), ch, modifiers)


def plain(key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier, text: str = "") -> None:
    """A key that reads the same on every layout (Enter, Tab, arrows, Esc, F-keys)."""
    from PySide6.QtTest import QTest

    STROKES.append(str(key))
    QTest.keyClick(QApplication.focusWidget() or QApplication.activeWindow(), key, modifiers)


def typed(text: str) -> None:
    """Type ``text`` (Arabic letters, digits, spaces) one key at a time."""
    from PySide6.QtTest import QTest

    for ch in text:
        STROKES.append(ch)
        key = ord(ch.upper()) if ch != " " else Qt.Key.Key_Space
        QTest.sendKeyEvent(
            QTest.KeyAction.Click, QApplication.focusWidget(), Qt.Key(key), ch, Qt.KeyboardModifier.NoModifier
        )
