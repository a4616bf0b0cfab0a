"""Cloud sync on the desk: the status bar's sync state, the needs-attention
tab and the Settings menu (cloud account, pairing desks).

:class:`SyncStatus` polls ``GET /sync/status`` every :data:`POLL_MS` through the async
client (the request runs in the event loop; the GUI thread never waits for it), and again
soon after the window applies server events. :class:`SyncDesk` installs it all into a
:class:`~ui.windows.main.MainWindow`: ``SyncDesk(window)``, then ``start()``/``stop()``
with the window.
"""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from app.client import ApiError, DeskClient
from app.domain.clock import from_iso, utc_now
from app.i18n import _, ngettext, translate
from app.i18n import formats as fmt
from app.i18n.labels import offline_label
from ui.core import language

log = logging.getLogger(__name__)
POLL_MS = 5000
SOON_MS = 400  # after server events: one poll, debounced

#: colours of the status text: online, offline / failing, not connected
COLORS = {"online": "#1f7a3a", "offline": "#b3261e", "local": "#8a5a00"}


def count_text(text: str, n: int) -> str:
    return fmt.localize_digits(text % {"n": n})


def ago(moment: datetime, now: datetime) -> str:
    """``just now``, ``3 min ago``, ``2 h ago``, else the date and time."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return count_text(ngettext("%(n)d minute ago", "%(n)d minutes ago", seconds // 60), seconds // 60)
    if seconds < 24 * 3600:
        return count_text(ngettext("%(n)d hour ago", "%(n)d hours ago", seconds // 3600), seconds // 3600)
    return fmt.format_datetime(moment, "UTC")


def describe(status: dict | None, now: datetime | None = None, zone: str = "UTC") -> tuple[str, str, str]:
    """``(text, tooltip, colour key)`` for a ``/sync/status`` answer (None: not known yet)."""
    if not status or not status.get("connected"):
        return (
            offline_label(),
            _("This branch is not connected to a cloud account. Settings → Cloud account… connects it."),
            "local",
        )
    now = now or utc_now()
    parts = [_("online") if status.get("online") else _("offline")]
    last = from_iso(status["lastPullAt"]) if status.get("lastPullAt") else None
    if last is not None:
        # Translators: status bar; {when} is e.g. "3 minutes ago".
        parts.append(_("last pull {when}").format(when=ago(last, now)))
    else:
        parts.append(_("connecting…"))
    pending = int(status.get("pending") or 0)
    if pending:
        parts.append(count_text(ngettext("%(n)d change waiting", "%(n)d changes waiting", pending), pending))
    attention = int(status.get("needsAttention") or 0)
    if attention:
        parts.append(
            count_text(ngettext("%(n)d needs attention", "%(n)d need attention", attention), attention)
        )
    tooltip = _("Cloud: %(url)s") % {"url": f"\u2066{status.get('baseUrl') or ''}\u2069"}
    if last is not None:
        tooltip += "\n" + _("Last successful pull: %(time)s") % {"time": fmt.format_datetime(last, zone)}
    if status.get("lastError") and not status.get("online"):
        tooltip += "\n" + _("Last error: %(error)s") % {"error": status["lastError"]}
    if status.get("pullGap"):  # what this cloud's pull cannot see (a msgid of its connector)
        parts.append(_("push + known customers"))
        tooltip += "\n" + translate(status["pullGap"])
    return " · ".join(parts), tooltip, "online" if status.get("online") else "offline"


class SyncStatus(QObject):
    """Polls the sync status into ``label``; ``changed(status)`` after every answer."""

    changed = Signal(object)  # the status dict
    forbidden = Signal()  # this desk may not see sync state (a provider desk)

    def __init__(
        self, client: DeskClient, label: QLabel, tasks, parent: QObject | None = None, zone=lambda: "UTC"
    ):
        super().__init__(parent)
        self.client, self.label, self.tasks, self.zone = client, label, tasks, zone
        self.status: dict | None = None
        self._inflight = False
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.soon = QTimer(self)
        self.soon.setSingleShot(True)
        self.soon.setInterval(SOON_MS)
        self.soon.timeout.connect(self.poll)

    def start(self) -> None:
        self.timer.start()
        self.poll()

    def stop(self) -> None:
        self.timer.stop()
        self.soon.stop()

    def poll_soon(self) -> None:
        if self.timer.isActive():
            self.soon.start()

    def poll(self) -> None:
        if self._inflight:
            return
        self._inflight = True
        self.tasks.run(self.client.sync_status(), self._got, self._failed)

    def _got(self, status: dict) -> None:
        self._inflight = False
        self.status = status
        self.show()
        self.changed.emit(status)

    def _failed(self, exc: BaseException) -> None:
        self._inflight = False
        if isinstance(exc, ApiError) and exc.status == 403:
            self.stop()
            self.label.hide()
            self.forbidden.emit()
            return
        log.info("sync status not available: %s", exc)

    def show(self) -> None:
        text, tooltip, color = describe(self.status, zone=self.zone())
        self.label.setText(text)
        self.label.setToolTip(tooltip)
        self.label.setStyleSheet(f"color: {COLORS[color]}; padding: 0 8px;")


class SyncDesk(QObject):
    """Everything sync in one main window: status bar, needs-attention tab, Settings menu."""

    def __init__(self, window):
        super().__init__(window)
        language.follow(self)  # retranslate_ui after every language or digits switch
        from ui.panels.attention import AttentionPanel

        self.window = window
        self.status = SyncStatus(
            window.client, window.sync_label, window.tasks, self, zone=lambda: window.state.zone
        )
        self.panel = AttentionPanel(window.client, window.tasks)
        self.panel.set_reference(lambda: window.state)
        self._tab_added = False
        self._last_pull: str | None = ""  # "": not seen yet; None: no pull since (re)connecting
        self._connected: bool | None = None
        self.panel.countChanged.connect(self._show_count)
        self.panel.resolved.connect(self._resolved)
        self.status.changed.connect(self._status_changed)
        self.status.forbidden.connect(self._forbidden)
        window.sync_hint.connect(self.status.poll_soon)
        self._build_menu()

    # menu ------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        title = _("&Settings")
        menu = next(
            (
                a.menu()
                for a in self.window.menuBar().actions()
                if a.menu() is not None and (a.menu().objectName() == "settings-menu" or a.text() == title)
            ),
            None,
        )
        if menu is None:
            menu = self.window.menuBar().addMenu(title)
            menu.setObjectName("settings-menu")
        self.menu = menu
        self.act_cloud = QAction(_("Cloud account…"), self.window)
        self.act_cloud.triggered.connect(self.open_cloud_settings)
        self.act_pair = QAction(_("Pair a desk…"), self.window)
        self.act_pair.triggered.connect(self.open_pairing)
        self.act_sync_now = QAction(_("Sync now"), self.window)
        self.act_sync_now.triggered.connect(self.sync_now)
        for action in (self.act_cloud, self.act_pair, self.act_sync_now):
            menu.addAction(action)

    def _open(self, dialog) -> None:
        self.window._dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self.window, "_dialog", None))
        dialog.open()

    def open_cloud_settings(self) -> None:
        from ui.dialogs.cloud_settings import CloudSettingsDialog

        dialog = CloudSettingsDialog(self.window.client, self.window)
        dialog.saved.connect(lambda _settings: self._reconnected())
        self._open(dialog)

    def open_pairing(self) -> None:
        from ui.dialogs.pairing import PairDeskDialog

        self._open(PairDeskDialog(self.window.client, self.window))

    def sync_now(self) -> None:
        self.window.tasks.run(
            self.window.client.sync_now(), lambda _s: self.status.poll_soon(), self.window.show_error
        )

    # state -----------------------------------------------------------------------------
    def start(self) -> None:
        self.status.start()
        self.panel.reload()

    def stop(self) -> None:
        self.status.stop()

    def _reconnected(self) -> None:
        self._last_pull = None
        self.status.poll()
        self.panel.reload()

    def _status_changed(self, status: dict) -> None:
        connected = bool(status.get("connected"))
        if status.get("cloud") and status.get("cloudTitle"):
            self.window.detail.cloud_titles[status["cloud"]] = status["cloudTitle"]
        self.act_sync_now.setEnabled(connected)
        count = int(status.get("needsAttention") or 0)
        if count != self.panel.count() or connected != self._connected:
            self.panel.reload()
        self._connected = connected
        self._show_count(self.panel.count())
        last = status.get("lastPullAt") if connected else None
        if last and self._last_pull is None:
            # the first pull since connecting may bring new doctors, rooms and types: reload all
            self.window.state.branch = {}
            self.window.refresh()
        self._last_pull = last

    def _show_count(self, count: int) -> None:
        tabs = self.window.tabs
        if (count or self._connected) and not self._tab_added:
            tabs.addTab(self.panel, "")
            self._tab_added = True
        index = tabs.indexOf(self.panel)
        if index >= 0:
            # Translators: the tab of changes the cloud refused; {n} is their number.
            tabs.setTabText(index, _("Needs attention ({n})").format(n=fmt.localize_digits(str(count))))

    def _resolved(self, _case: dict) -> None:
        self.status.poll()
        self.window.refresh()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """After a live language switch (the main window calls it on its children)."""
        if self.menu.objectName() == "settings-menu":
            self.menu.setTitle(_("&Settings"))
        self.act_cloud.setText(_("Cloud account…"))
        self.act_pair.setText(_("Pair a desk…"))
        self.act_sync_now.setText(_("Sync now"))
        self.panel.retranslate()
        self._show_count(self.panel.count())
        if self.status.status is not None:
            self.status.show()

    def _forbidden(self) -> None:
        for action in (self.act_cloud, self.act_pair, self.act_sync_now):
            action.setVisible(False)
