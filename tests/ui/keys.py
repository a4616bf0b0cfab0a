"""Key presses as Qt receives them from an Arabic keyboard layout (setxkbmap-independent).

With the Arabic (101) layout the key that carries N gives Qt ``key() == 0x649`` and the
text ``ى``; the native virtual key is still the key's position (VK_N on Windows) and the
scan code is the physical key's. :func:`arabic` sends exactly such an event (press and
release) to the focused widget, through the application's event filters like a real one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from ui.keyboard import ARABIC_AT, XKB_KEYCODES

_SCAN = {ch: code for code, ch in XKB_KEYCODES.items()}
STROKES: list[str] = []  # every key press sent, for the walk's keystroke counts


def _send(kind: QEvent.Type, key: int, modifiers, text: str, scan: int, vk: int) -> QKeyEvent:
    target = QApplication.focusWidget() or QApplication.activeWindow()
    event = QKeyEvent(kind, key, modifiers, scan, vk, 0, text)
    QApplication.sendEvent(target, event)
    return event


def arabic(latin: str, modifiers=Qt.KeyboardModifier.NoModifier, native: bool = True) -> QKeyEvent:
    """Press and release the key at the position of US ``latin`` (e.g. ``"n"``) on the
    Arabic layout. ``native``: with the Latin virtual key and scan code (False: only the
    Arabic text, as some platforms give)."""
    ch = ARABIC_AT[latin.lower()]
    key = ord(ch.upper())
    vk = ord(latin.upper()) if native and latin.isalnum() else 0
    scan = _SCAN.get(latin.lower(), 0) if native else 0
    STROKES.append(latin)
    event = _send(QEvent.Type.KeyPress, key, modifiers, ch, scan, vk)
    _send(QEvent.Type.KeyRelease, key, modifiers, ch, scan, vk)
    return event


def plain(key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier, text: str = "") -> None:
    """A key that reads the same on every layout (Enter, Tab, arrows, Esc, F-keys)."""
    from PySide6.QtTest import QTest

    STROKES.append(str(key))
    QTest.keyClick(QApplication.focusWidget() or QApplication.activeWindow(), key, modifiers)


def typed(text: str) -> None:
    """Type ``text`` (Arabic letters, digits, spaces) one key at a time."""
    for ch in text:
        STROKES.append(ch)
        key = ord(ch.upper()) if ch != " " else Qt.Key.Key_Space
        _send(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, ch, 0, 0)
        _send(QEvent.Type.KeyRelease, key, Qt.KeyboardModifier.NoModifier, ch, 0, 0)
