"""The first-run page: how this desk starts.

Shown by ``main.py`` on a plain start when no choice is remembered yet (and with
``--first-run``): try the demo clinic, connect a cloud account, or connect to a branch
server on the LAN (pairing with :class:`ui.dialogs.pairing.ConnectToServerDialog`). The choice is
remembered per user (:mod:`app.desk_prefs`). A cloud choice opens the cloud-connection
dialog (:class:`ui.dialogs.cloud_settings.CloudSettingsDialog`) once the desk's window is up.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QCommandLinkButton,
    QDialog,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from app import desk_prefs
from app.i18n import _
from ui.startup_window import app_icon

log = logging.getLogger(__name__)
FOCUS_STYLE = (
    "QCommandLinkButton { border: 2px solid transparent; border-radius: 6px; }"
    "QCommandLinkButton:focus { border: 2px solid #1a73e8; background: #e8f0fe; }"
)


class FirstRunPage(QDialog):
    """Three choices; ``choice`` is ``"demo"``, ``"cloud"`` or ``"lan"`` once accepted."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice: str | None = None
        self.setWindowTitle(_("Welcome to Istiqbal"))
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(620)
        title = QLabel(_("Welcome to Istiqbal"))
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(_("How will this desk work? Choose one; the desk remembers it."))
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(intro)
        self.buttons: dict[str, QCommandLinkButton] = {}
        for mode, text, note in (
            (
                "demo",
                _("Try the demo clinic"),
                _(
                    "A made-up clinic with eight doctors and rooms and today's bookings, kept on this computer."
                ),
            ),
            (
                "cloud",
                _("Connect to a cloud account"),
                _(
                    "This computer keeps the branch's bookings and syncs them with your cloud booking account; "
                    "it keeps working when the internet drops."
                ),
            ),
            (
                "lan",
                _("Connect to a branch server on the network"),
                _(
                    "Another computer in the clinic runs the branch server; this desk pairs with it "
                    "using a code shown there."
                ),
            ),
        ):
            button = QCommandLinkButton(text, note)
            button.setAutoDefault(True)  # Enter presses the focused choice
            button.clicked.connect(lambda _checked=False, m=mode: self._choose(m))
            layout.addWidget(button)
            self.buttons[mode] = button
        layout.addStretch(1)
        # The keyboard focus must show on every style: a clear frame around the focused
        # choice (Tab / Shift+Tab / arrows move it, Enter or Space takes it).
        self.setStyleSheet(FOCUS_STYLE)
        self.buttons["demo"].setDefault(True)
        self.buttons["demo"].setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not any(b.hasFocus() for b in self.buttons.values()):
            self.buttons["demo"].setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def _choose(self, mode: str) -> None:
        self.choice = mode
        self.accept()


async def _finished(dialog: QDialog) -> int:
    """Open ``dialog`` (never ``exec`` in a coroutine) and wait for its result."""
    done = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda result: done.done() or done.set_result(result))
    dialog.open()
    return await done


async def _pair() -> str | None:
    """The LAN server's address once this desk is paired with it, or None."""
    try:
        from ui.dialogs.pairing import ConnectToServerDialog
    except ImportError:  # pragma: no cover - the pairing dialog ships with the desk
        log.error("the LAN pairing dialog is not available")
        return None
    dialog = ConnectToServerDialog(None)
    if await _finished(dialog) != QDialog.DialogCode.Accepted or dialog.credentials is None:
        return None
    return dialog.credentials.url


async def choose(screenshot: Path | None = None) -> dict | int | None:
    """Show the page until a choice is made and remembered; returns ``{"mode", "url"}``, or
    None when the user closes it. With ``screenshot``: save the page as PNG, return 0/1."""
    app = QApplication.instance()
    quits = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)  # closing a dialog must not end the loop
    try:
        while True:
            page = FirstRunPage()
            if screenshot is not None:
                page.show()
                for _i in range(3):
                    QApplication.processEvents()
                    await asyncio.sleep(0.05)
                ok = page.grab().save(str(screenshot), "PNG")
                log.info("first-run screenshot saved: %s", screenshot) if ok else log.error(
                    "could not save the screenshot to %s", screenshot
                )
                page.close()
                return 0 if ok else 1
            if await _finished(page) != QDialog.DialogCode.Accepted or page.choice is None:
                return None
            if page.choice == "lan":
                url = await _pair()
                if url is None:
                    continue  # back to the three choices
                return desk_prefs.remember_start("lan", url)
            return desk_prefs.remember_start(page.choice)
    finally:
        app.setQuitOnLastWindowClosed(quits)


def run(lang: str | None = None, screenshot: Path | None = None) -> dict | int | None:
    """:func:`choose` in its own short event loop, before the desk's (and before any branch
    server starts: the choice decides whether one does)."""
    from qasync import run as run_qasync

    from ui import app as desk

    app = desk.application()
    app.setWindowIcon(app_icon())
    desk.setup_language(app, lang)
    return run_qasync(choose(screenshot))


def open_cloud_settings_when_shown(tries: int = 100) -> None:
    """After a first run that chose the cloud: open the cloud-connection dialog over the
    desk's window as soon as that window is shown (it holds the client)."""

    def attempt(left: int) -> None:
        window = next(
            (
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QMainWindow) and w.isVisible() and hasattr(w, "client")
            ),
            None,
        )
        if window is None:
            if left:
                QTimer.singleShot(100, lambda: attempt(left - 1))
            return
        try:
            from ui.dialogs.cloud_settings import CloudSettingsDialog
        except ImportError:  # pragma: no cover
            log.error("the cloud-connection dialog is not available")
            return
        dialog = CloudSettingsDialog(window.client, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window._first_run_dialog = dialog  # kept referenced while open
        dialog.open()

    QTimer.singleShot(0, lambda: attempt(tries))
