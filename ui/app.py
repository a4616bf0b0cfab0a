"""Starting the desk: QApplication, language and direction, fonts, the error hook, and
the qasync loop that runs the main window against a branch server URL."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox
from qasync import run as run_qasync  # after PySide6, so qasync picks this binding

from app import i18n
from app.client import DeskClient
from app.i18n import _

log = logging.getLogger(__name__)
WINDOW_SIZE = (1600, 1000)
_kept: list = []  # translators and message boxes that must stay referenced


def application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Istiqbal")
        app.setOrganizationName("Istiqbal")
    return app


def setup_language(app: QApplication, lang: str) -> None:
    """Once for the whole app: gettext catalog, QLocale default, layout direction and
    Qt's own translations (kept referenced), and a font family that covers the script."""
    i18n.set_language(lang)
    rtl = i18n.is_rtl(lang)
    QLocale.setDefault(QLocale(QLocale.Language.Arabic, QLocale.Country.SaudiArabia) if lang == "ar"
                       else QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    app.setLayoutDirection(Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight)
    translations = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase",):
        translator = QTranslator(app)
        if translator.load(f"{name}_{lang}", translations):
            app.installTranslator(translator)
            _kept.append(translator)
    families = load_fonts()
    arabic = next((f for f in families if "Arabic" in f), None)
    latin = next((f for f in families if "Arabic" not in f), None)
    wanted = [f for f in ((arabic, latin) if lang == "ar" else (latin, arabic)) if f]
    if wanted:
        font = QFont(app.font())
        font.setFamilies(wanted)
        font.setPointSizeF(10)
        app.setFont(font)


def load_fonts() -> list[str]:
    """Register the bundled fonts; returns their family names."""
    families: list[str] = []
    for path in i18n.font_files():
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            log.warning("could not load font %s", path)
            continue
        families += [f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in families]
    return families


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


async def run_desk(url: str, *, screenshot: Path | None = None, server_label: str | None = None) -> int:
    """Show the main window against ``url`` until it closes (or, with ``screenshot``, until
    the first full paint after the initial fetches, saved as PNG)."""
    from ui.main_window import MainWindow

    app = application()
    client = DeskClient(url)
    window = MainWindow(client, server_label)
    window.resize(*WINDOW_SIZE)
    closed = asyncio.get_running_loop().create_future()
    app.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(True))
    try:
        window.start()
        window.show()
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
    for _i in range(3):  # let layouts settle and paint
        QApplication.processEvents()
        await asyncio.sleep(0.05)
    canvas = window.calendar.canvas
    pixmap = window.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        log.error("could not save the screenshot to %s", path)
        return 1
    log.info("screenshot saved: %s (%dx%d); calendar axis x=%d, first column x=%d", path,
             pixmap.width(), pixmap.height(), canvas.axis_rect().x(),
             canvas.column_rect(0).x())
    return 0


def main(url: str, *, lang: str = "en", screenshot: Path | None = None, server_label: str | None = None) -> int:
    """Run the desk against the branch server at ``url``; returns the exit code."""
    app = application()
    setup_language(app, lang)
    install_excepthook()
    # Let Ctrl+C reach Python now and then while Qt's loop runs.
    timer = QTimer()
    timer.start(300)
    timer.timeout.connect(lambda: None)
    return run_qasync(run_desk(url, screenshot=screenshot, server_label=server_label))


def show_fatal(lang: str, detail: str) -> None:
    """Tell the user the desk cannot start (outside any event loop, so ``exec`` is safe)."""
    app = application()
    setup_language(app, lang)
    box = QMessageBox(QMessageBox.Icon.Critical, _("Istiqbal"),
                      _("The branch server could not start. Another program may be using its port."))
    box.setDetailedText(detail)
    box.exec()
