"""The window a receptionist sees while the desk starts: the day's skeleton (the calendar's
frame, its hour lines and empty columns) and "Starting the branch server…", shown before the
main window's modules are imported and before the embedded branch server has started.

It needs Qt's widgets and the language only (no HTTP client, no asyncio, no FastAPI, no
database): it paints a fraction of a second after the process starts. The main window then
opens in its place (same size and place) and this one closes (:func:`ui.app.run_desk`).
The desk's first steps live here for that reason: :func:`application` and
:func:`setup_language` (re-exported by :mod:`ui.app`).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QRect, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app.i18n import _

log = logging.getLogger(__name__)
HOURS = 12  # hour lines drawn (the clinic's day is drawn by the calendar later)
COLUMNS = 6  # empty resource columns of the skeleton
TOP_BAR, HEADER, STATUS, AXIS = 44, 34, 24, 72  # logical pixels, as the main window's
ICON = Path(__file__).resolve().parents[1] / "resources" / "icons" / "istiqbal.png"


def app_icon() -> QIcon:
    """The desk's icon (an empty icon when the file is missing)."""
    return QIcon(str(ICON)) if ICON.is_file() else QIcon()


def application() -> QApplication:
    """The process's QApplication (created on first use, with the desk's keyboard handling)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Istiqbal")
        app.setOrganizationName("Istiqbal")
        from ui.core import keyboard

        keyboard.install(app)  # shortcuts and mnemonics whatever the keyboard layout
    return app


_set_before_loop: list = []  # the ``lang`` set for the start-up window (the next call skips it once)


def setup_language(app: QApplication, lang: str | None = None) -> None:
    """Once for the whole app: gettext catalog, QLocale default, layout direction, Qt's own
    translations (kept referenced) and a font family that covers the script; then the saved
    digits. ``lang``: ``--lang`` (None: the desk's saved language, or pseudo with
    ``ISTIQBAL_PSEUDO=1``). See :mod:`ui.core.language`."""
    if _set_before_loop and _set_before_loop.pop() == lang:
        return  # done a moment ago, for the start-up window (:func:`show_for`)
    from app import desk_prefs
    from app.i18n import formats
    from ui.core import language

    digits = desk_prefs.load()["digits"]
    if digits in formats.DIGITS:
        formats.set_digits(digits)
    language.controller().apply(language.startup_language(lang))


class StartupWindow(QWidget):
    """The skeleton window (top level): ``painted`` turns True after its first paint, which
    is logged as "window shown" (the start-up benchmark reads that line)."""

    def __init__(self) -> None:
        super().__init__()
        self.painted = False
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)  # the desk ends with its main window
        self.setWindowTitle(_("Istiqbal"))
        # Translators: status bar while the desk's own branch server starts, before the day shows.
        self.message = _("Starting the branch server…")

    def _x(self, x: int, width: int) -> int:
        """``x`` from the leading edge: mirrored in a right-to-left layout."""
        return self.width() - x - width if self.layoutDirection() == Qt.LayoutDirection.RightToLeft else x

    def paintEvent(self, event: QPaintEvent) -> None:
        palette = self.palette()
        base, window = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Window)
        line = palette.color(QPalette.ColorRole.Mid)
        muted = QColor(palette.color(QPalette.ColorRole.Text))
        muted.setAlpha(90)
        w, h = self.width(), self.height()
        body_top, body_bottom = TOP_BAR + HEADER, h - STATUS
        with QPainter(self) as p:
            p.fillRect(self.rect(), window)
            p.fillRect(QRect(0, body_top, w, body_bottom - body_top), base)
            column_width = max(1, (w - AXIS) // COLUMNS)
            for i in range(COLUMNS):  # empty resource headers and their column lines
                x = self._x(AXIS + i * column_width, column_width)
                p.fillRect(QRect(x + 8, TOP_BAR + 10, column_width // 2, HEADER - 20), muted)
                p.setPen(line)
                p.drawLine(x, body_top, x, body_bottom)
            step = max(1, (body_bottom - body_top) // HOURS)
            for i in range(HOURS):  # hour lines and the axis' empty labels
                y = body_top + i * step
                p.setPen(line)
                p.drawLine(0, y, w, y)
                p.fillRect(QRect(self._x(12, AXIS - 24), y + 6, AXIS - 24, 8), muted)
            p.setPen(palette.color(QPalette.ColorRole.Text))
            p.drawText(QRect(0, 0, w, body_bottom), Qt.AlignmentFlag.AlignCenter, self.message)
            p.drawText(
                QRect(8, body_bottom, w - 16, STATUS),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeading,
                self.message,
            )
        if not self.painted:
            self.painted = True
            log.info("window shown")


def show_for(lang: str | None, screenshot: Path | None) -> StartupWindow:
    """The start-up window of a desk run, shown and painted now, before the main window's
    modules load: the language (``--lang``) is set first, the place is the main window's
    (the default size for a ``screenshot``, :mod:`ui.core.window_place`)."""
    from ui.core import window_place

    setup_language(application(), lang)
    _set_before_loop[:] = [lang]

    def place(window: QWidget) -> None:
        if screenshot is not None:
            window.resize(*window_place.DEFAULT_SIZE)
        else:
            window_place.place(window)

    return show(place)


def show(place, *, wait: float = 0.5) -> StartupWindow:
    """Show the skeleton window, placed by ``place(window)``, and let Qt paint it (at most
    ``wait`` seconds; a minimised window may not paint). Call before any event loop runs."""
    window = StartupWindow()
    place(window)
    window.show()
    app, end = QApplication.instance(), time.monotonic() + wait
    while not window.painted and time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    return window
