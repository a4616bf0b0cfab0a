"""Where the main window opens: where it was when it last closed (Qt's ``saveGeometry``,
kept in the desk's settings file, :mod:`app.desk_prefs`), else :data:`DEFAULT_SIZE` shrunk
to the screen's available area (a clinic's 1366×768 laptop as much as a wide monitor) and
centred on it. A remembered place that no connected screen shows any more (a monitor
unplugged) is not used."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from app import desk_prefs

KEY = "windowGeometry"
DEFAULT_SIZE = (1600, 1000)  # logical pixels
MARGIN = 0.96  # of the available area, so the frame fits too


def place(window: QWidget, *, remembered: bool = True) -> None:
    """Size and place ``window`` before it is first shown (``remembered=False``: always the
    default size fitted to the screen, e.g. for a screenshot)."""
    saved = desk_prefs.load().get(KEY) if remembered else None
    if (
        saved
        and window.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii")))
        and _on_a_screen(window)
    ):
        return
    screen = window.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else QRect(0, 0, *DEFAULT_SIZE)
    width = min(DEFAULT_SIZE[0], int(area.width() * MARGIN))
    height = min(DEFAULT_SIZE[1], int(area.height() * MARGIN))
    window.resize(width, height)
    frame = window.frameGeometry()
    frame.moveCenter(area.center())
    window.move(frame.topLeft())


def remember(window: QWidget) -> None:
    """Keep ``window``'s size, place and maximised state for the next start."""
    desk_prefs.save(**{KEY: bytes(window.saveGeometry().toBase64()).decode("ascii")})


def _on_a_screen(window: QWidget) -> bool:
    frame = window.frameGeometry()
    return any(screen.availableGeometry().intersects(frame) for screen in QGuiApplication.screens())
