"""Starting the desk: QApplication, language and direction, fonts, the error hook, and
the qasync loop that runs the main window against a branch server URL."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from qasync import run as run_qasync  # after PySide6, so qasync picks this binding

from app.client import DeskClient
from app.i18n import _

log = logging.getLogger(__name__)
WINDOW_SIZE = (1600, 1000)
_kept: list = []  # message boxes that must stay referenced (Qt's translators: ui.language)


def application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Istiqbal")
        app.setOrganizationName("Istiqbal")
        from ui import keyboard

        keyboard.install(app)  # shortcuts and mnemonics whatever the keyboard layout
    return app


def setup_language(app: QApplication, lang: str | None = None) -> None:
    """Once for the whole app: gettext catalog, QLocale default, layout direction, Qt's own
    translations (kept referenced) and a font family that covers the script; then the saved
    digits. ``lang``: ``--lang`` (None: the desk's saved language, or pseudo with
    ``ISTIQBAL_PSEUDO=1``). See :mod:`ui.language`."""
    from app.i18n import formats, prefs
    from ui import language

    digits = prefs.load()["digits"]
    if digits in formats.DIGITS:
        formats.set_digits(digits)
    language.controller().apply(language.startup_language(lang))


def load_fonts() -> list[str]:
    """Register the bundled fonts; returns their family names."""
    from ui.language import load_fonts as load

    return load()


def collect_garbage_on_gui_thread(app: QApplication, every_ms: int = 5000, full_every: int = 12) -> QTimer:
    """Turn off Python's automatic cycle collection and collect on a GUI-thread timer (as
    Anki does): otherwise a collection that happens to run on the branch server's thread can
    destroy Qt objects from the wrong thread and crash the desk. The young generations are
    collected every ``every_ms`` (cheap); a full collection every ``full_every`` ticks."""
    gc.disable()
    timer = QTimer(app)
    ticks = [0]

    def collect() -> None:
        ticks[0] += 1
        gc.collect() if ticks[0] % full_every == 0 else gc.collect(1)

    timer.timeout.connect(collect)
    timer.start(every_ms)
    return timer


def install_excepthook() -> None:
    """Log uncaught errors (also those of async slots) and tell the user without blocking."""

    def hook(kind, value, tb) -> None:
        log.error("uncaught error", exc_info=(kind, value, tb))
        if QApplication.instance() is None or issubclass(kind, KeyboardInterrupt):
            return
        box = QMessageBox(QMessageBox.Icon.Critical, _("Istiqbal"),
                          _("Something went wrong. The error was logged; the desk keeps running."))
        box.setDetailedText("".join(traceback.format_exception(kind, value, tb)))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: _kept.remove(box) if box in _kept else None)
        _kept.append(box)
        box.open()

    sys.excepthook = hook


async def run_desk(url: str, *, screenshot: Path | None = None, server_label: str | None = None,
                   provider: str | None = None) -> int:
    """Show the main window against ``url`` until it closes (or, with ``screenshot``, until
    the first full paint after the initial fetches, saved as PNG); with ``provider`` (a
    resource id) it also opens doctor mode for that provider."""
    from ui.main_window import MainWindow

    app = application()
    if url.startswith("https://"):  # another machine's server: paired token, pinned certificate
        from ui.pairing import lan_client

        quits = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)  # closing the pairing dialog must not end the loop
        try:
            client = await lan_client(url)
        finally:
            app.setQuitOnLastWindowClosed(quits)
        if client is None:
            return 1
    else:
        client = DeskClient(url)
    window = MainWindow(client, server_label)
    window.resize(*WINDOW_SIZE)
    closed = asyncio.get_running_loop().create_future()
    app.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(True))
    try:
        window.start()
        window.show()
        if provider:  # from the Qt loop, not inside this coroutine (qasync re-entrancy)
            QTimer.singleShot(0, lambda: window.extras.open_doctor_mode(provider))
        if screenshot is not None:
            return await _screenshot(window, screenshot)
        await closed
        return 0
    finally:
        window.stop()
        await client.aclose()


async def _screenshot(window, path: Path) -> int:
    try:
        await asyncio.wait_for(window.first_load, 30)
        await window.tasks.wait_idle()
    except Exception as exc:
        log.error("the desk could not load its data: %s", exc)
        return 1
    for _i in range(4):  # let layouts settle and paint (the qasync loop runs Qt's events while we
        await asyncio.sleep(0.05)  # sleep; processEvents() here would re-enter other tasks)
    canvas = window.calendar.canvas
    pixmap = window.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        log.error("could not save the screenshot to %s", path)
        return 1
    log.info("screenshot saved: %s (%dx%d); calendar axis x=%d, first column x=%d", path,
             pixmap.width(), pixmap.height(), canvas.axis_rect().x(),
             canvas.column_rect(0).x())
    return 0


def main(url: str, *, lang: str | None = None, screenshot: Path | None = None, server_label: str | None = None,
         provider: str | None = None) -> int:
    """Run the desk against the branch server at ``url``; returns the exit code."""
    app = application()
    setup_language(app, lang)
    install_excepthook()
    _kept.append(collect_garbage_on_gui_thread(app))
    # Let Ctrl+C reach Python now and then while Qt's loop runs.
    timer = QTimer()
    timer.start(300)
    timer.timeout.connect(lambda: None)
    return run_qasync(run_desk(url, screenshot=screenshot, server_label=server_label, provider=provider))


def show_fatal(lang: str | None, detail: str) -> None:
    """Tell the user the desk cannot start (outside any event loop, so ``exec`` is safe)."""
    app = application()
    setup_language(app, lang)
    box = QMessageBox(QMessageBox.Icon.Critical, _("Istiqbal"),
                      _("The branch server could not start. Another program may be using its port."))
    box.setDetailedText(detail)
    box.exec()
