"""The desk says when it is not live.

The main window follows the branch server's event stream; when it drops and the reconnect
fails (the server is gone, the network is down), or when the branch server running inside
this desk stops after start, the day on screen goes stale without a sign. :class:`LiveWatch`
shows a banner above the calendar then — when the connection was lost, that the day may be
out of date, and a *Retry* button — and hides it (refreshing the view) once the stream is
live again. A short drop that the client's own reconnect mends within
:data:`GRACE_MS` shows nothing. The embedded server's liveness is a cheap check on the GUI
thread (``window.server_alive()``, a thread's ``is_alive``); *Retry* restarts that server
through ``window.restart_server`` (run off the GUI thread) when the desk has one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.clock import to_iso
from app.i18n import _
from ui.core import formatting as f
from ui.core import language

log = logging.getLogger(__name__)
GRACE_MS = 2500
SERVER_CHECK_MS = 1000


class LiveBanner(QFrame):
    """The not-live banner: a message and *Retry* (hidden while the desk is live)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.setObjectName("liveBanner")
        self.setStyleSheet(
            "#liveBanner { background: #fdecea; border-bottom: 1px solid #d93025; }"
            "#liveBanner QLabel { color: #8c1d18; font-weight: bold; }"
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.retry = QPushButton()
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addWidget(self.message, 1)
        row.addWidget(self.retry)
        self.retranslate_ui()
        self.hide()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.retry.setText(_("Retry"))


class LiveWatch(QObject):
    """Puts a :class:`LiveBanner` above ``window``'s central widget and keeps it true:
    :meth:`on_live` is the event stream's ``on_live`` callback; a timer checks
    ``window.server_alive`` (None: not an embedded server)."""

    def __init__(self, window):
        super().__init__(window)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.window = window
        self.banner = LiveBanner()
        central = window.takeCentralWidget()
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(central, 1)
        window.setCentralWidget(holder)
        self.stream_live: bool | None = None  # None until the stream first opens
        self.server_stopped = False
        self.lost_at: str | None = None  # UTC ISO of the first failure of this outage
        self.reason: str | None = None
        self._retrying = False
        self._task: asyncio.Task | None = None
        self.grace = QTimer(self)
        self.grace.setSingleShot(True)
        self.grace.setInterval(GRACE_MS)
        self.grace.timeout.connect(self._show)
        self.server_check = QTimer(self)
        self.server_check.setInterval(SERVER_CHECK_MS)
        self.server_check.timeout.connect(self._check_server)
        self.banner.retry.clicked.connect(self.retry)

    @property
    def live(self) -> bool:
        return not self.banner.isVisible()

    def start(self) -> None:
        self.server_check.start()

    def stop(self) -> None:
        self.grace.stop()
        self.server_check.stop()
        if self._task is not None:
            self._task.cancel()

    # what the stream and the server say ----------------------------------------------
    def on_live(self, live: bool, reason: str | None = None) -> None:
        """The event stream opened (``live``) or dropped / failed to reconnect."""
        if live:
            was_down = self.lost_at is not None
            self.stream_live, self.lost_at, self.reason = True, None, None
            self.grace.stop()
            if not self.server_stopped:
                self.banner.hide()
            if was_down:
                self.window.refresh()  # what changed meanwhile
            return
        self.stream_live = False
        self.reason = reason
        if self.lost_at is None:
            self.lost_at = to_iso(datetime.now(UTC))
            log.warning("the desk is not live: %s", reason)
        if not self.banner.isVisible() and not self.grace.isActive():
            self.grace.start()

    def _check_server(self) -> None:
        alive = getattr(self.window, "server_alive", None)
        if alive is None or self.server_stopped or alive():
            return
        log.error("the branch server inside this desk stopped")
        self.server_stopped = True
        self.lost_at = self.lost_at or to_iso(datetime.now(UTC))
        self._show()

    # the banner --------------------------------------------------------------------------
    def _show(self) -> None:
        if self.stream_live and not self.server_stopped:
            return
        self.retranslate_ui()
        self.banner.show()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        when = f.time_of(self.lost_at, self.window.state.zone) if self.lost_at else ""
        if self._retrying:
            text = _("Reconnecting to the branch server…")
        elif self.server_stopped:
            text = _(
                "Not live: the branch server in this desk stopped at {time}. The day shown may be "
                "out of date."
            ).format(time=when)
        else:
            text = _(
                "Not live: the connection to the branch server was lost at {time}. The day shown may "
                "be out of date; the desk keeps trying to reconnect."
            ).format(time=when)
        self.banner.message.setText(text)
        self.banner.retry.setEnabled(not self._retrying)

    def retry(self) -> None:
        """Try again now: restart the desk's own server if it stopped, then reconnect the
        event stream and refetch the view."""
        if self._retrying:
            return
        self._task = asyncio.ensure_future(self._retry())

    async def _retry(self) -> None:
        self._retrying = True
        self.retranslate_ui()
        try:
            restart = getattr(self.window, "restart_server", None)
            if self.server_stopped and restart is not None:
                url = await asyncio.to_thread(restart)
                self.window.client.use_url(url)
                self.server_stopped = False
            self.window.restart_events()
            self.window.refresh()
        except Exception as exc:  # shown in the banner and the status bar; the banner stays
            log.warning("retry failed: %s", exc)
            self.window.show_error(exc)
        finally:
            self._retrying = False
            self.retranslate_ui()
            if self.stream_live is False or self.server_stopped:
                self.grace.start()
