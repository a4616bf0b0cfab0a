"""Help → Copy diagnostics and Help → Backups…, and the start-up recovery notice.

:class:`DeskCare` adds both actions to the window's Help menu. Copy diagnostics puts a
redacted report (:mod:`app.diagnostics`: no patient names, phones, e-mails or tokens) on
the clipboard. Backups… lists the branch server's backups and schedules a restore for the
next start (the server never swaps its database under its own connection); the desk then
asks the user to restart. After the first load the desk asks the server what its start-up
integrity check did and tells the user when a damaged database was replaced.
"""

from __future__ import annotations

import logging
import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import diagnostics, logs
from app.client import DeskClient
from app.domain.clock import from_iso
from app.i18n import N_, _, formats
from ui.core import language
from ui.core.tasks import Tasks

log = logging.getLogger(__name__)
#: after the first load (not inside it: a screenshot run's processEvents must not step tasks)
RECOVERY_CHECK_MS = 1000
REASONS = {"scheduled": N_("hourly"), "pre-migration": N_("before an update"), "manual": N_("by hand")}


def _open(parent: QWidget, box: QMessageBox) -> QMessageBox:
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    parent._care_box = box  # kept referenced while open
    box.open()
    return box


class BackupsDialog(QDialog):
    """The server's backups, newest first; Restore schedules the chosen one."""

    def __init__(self, client: DeskClient, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.tasks = Tasks(self)
        self.tasks.failed.connect(self._failed)
        self.setWindowTitle(_("Backups"))
        self.setMinimumSize(520, 360)
        intro = QLabel(
            _(
                "The branch server backs up its database every hour and before every update. "
                "A restored backup replaces today's data when the desk starts again; the "
                "current file is kept beside it and changes not yet sent to the cloud are carried over."
            )
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.back_up = QPushButton(_("Back up now"))
        self.restore = QPushButton(_("Restore at next start…"))
        self.restore.setEnabled(False)
        buttons.addButton(self.back_up, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.restore, QDialogButtonBox.ButtonRole.ActionRole)
        self.back_up.clicked.connect(self.take)
        self.restore.clicked.connect(self.ask_restore)
        self.list.currentItemChanged.connect(lambda item, _old: self.restore.setEnabled(item is not None))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.load()

    def load(self) -> None:
        self.tasks.run(self.client._call("GET", "/backups"), on_done=self._show)

    def _show(self, body: dict) -> None:
        self.list.clear()
        zone = getattr(getattr(self.parent(), "state", None), "zone", None) or "UTC"
        for item in body.get("result", []):
            when = formats.format_datetime(from_iso(item["createdAt"]), zone)
            # Translators: a backup in the list: its time, why it was taken and its size.
            text = _("%(when)s — %(reason)s, %(size)s MB") % {
                "when": when,
                "reason": _(REASONS.get(item["reason"], item["reason"])),
                "size": formats.format_number(round(item["size"] / 1e6, 1)),
            }
            row = QListWidgetItem(text)
            row.setData(Qt.ItemDataRole.UserRole, item["name"])
            self.list.addItem(row)
        pending = body.get("pendingRestore")
        if pending:
            self.status.setText(_("A restore is waiting for the next start of the desk."))
        elif not body.get("result"):
            self.status.setText(_("No backups yet."))
        else:
            self.status.clear()

    def take(self) -> None:
        self.back_up.setEnabled(False)

        def done(_result) -> None:
            self.back_up.setEnabled(True)
            self.load()

        self.tasks.run(self.client._call("POST", "/backups"), on_done=done)

    def ask_restore(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            _("Restore a backup"),
            _(
                "Restore the backup of %(when)s? Bookings made after it are replaced when the "
                "desk starts again."
            )
            % {"when": item.text().split(" — ")[0]},
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.addButton(_("Restore at next start"), QMessageBox.ButtonRole.AcceptRole)
        box.finished.connect(
            lambda _r: (
                self._confirmed(name)
                if box.buttonRole(box.clickedButton()) == QMessageBox.ButtonRole.AcceptRole
                else None
            )
        )
        _open(self, box)

    def _confirmed(self, name: str) -> None:
        def done(_result) -> None:
            self.load()
            _open(
                self,
                QMessageBox(
                    QMessageBox.Icon.Information,
                    _("Restore a backup"),
                    _(
                        "The backup will be restored when the desk starts again. "
                        "Close the desk and open it again now."
                    ),
                    QMessageBox.StandardButton.Ok,
                    self,
                ),
            )

        self.tasks.run(self.client._call("POST", "/backups/restore", json={"name": name}), on_done=done)

    def _failed(self, exc: BaseException) -> None:
        from ui.core.errors import message_for

        self.status.setText(message_for(exc))
        self.back_up.setEnabled(True)


class DeskCare(QObject):
    """Help → Copy diagnostics and Backups… on ``window`` (a :class:`ui.windows.main.MainWindow`)."""

    def __init__(self, window, help_menu: QMenu | None = None):
        super().__init__(window)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.window = window
        self.client: DeskClient = window.client
        self.tasks = Tasks(window)
        self.tasks.failed.connect(lambda exc: log.warning("diagnostics: %s", exc))
        self.act_diagnostics = QAction(window)
        self.act_diagnostics.triggered.connect(self.copy_diagnostics)
        self.act_backups = QAction(window)
        self.act_backups.triggered.connect(self.show_backups)
        menu = help_menu or window.menuBar().addMenu(_("&Help"))
        menu.addSeparator()
        menu.addAction(self.act_backups)
        menu.addAction(self.act_diagnostics)
        self._dialog = None
        self.retranslate_ui()
        first_load = getattr(window, "first_load", None)
        if first_load is not None:
            first_load.add_done_callback(
                lambda fut: (
                    None
                    if fut.cancelled() or fut.exception()
                    else QTimer.singleShot(RECOVERY_CHECK_MS, self.check_recovery)
                )
            )

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.act_diagnostics.setText(_("Copy &diagnostics"))
        self.act_diagnostics.setStatusTip(
            _("Put a report for support on the clipboard, without patient names, phone numbers or keys")
        )
        self.act_backups.setText(_("&Backups…"))

    # diagnostics ---------------------------------------------------------------------
    async def _report(self) -> str:
        info = await diagnostics.collect(
            self.client,
            {
                "qt": {"pyside": pyside_version, "platform": QGuiApplication.platformName()},
                "os": platform.system(),
            },
        )
        error = diagnostics.last_sync_error(info.get("sync"))
        if error:
            log.warning("last sync error: %s", error)
        try:
            customers = await self.client.customers("", limit=1000)
        except Exception:  # the names we cannot fetch are still masked by field and pattern
            customers = []
        return diagnostics.report(info, logs.tail(), diagnostics.customer_names(customers))

    def copy_diagnostics(self) -> None:
        def done(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.window.statusBar().showMessage(_("Diagnostics copied to the clipboard."), 5000)

        self.tasks.run(self._report(), on_done=done)

    # backups ---------------------------------------------------------------------------
    def show_backups(self) -> None:
        dialog = BackupsDialog(self.client, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

    def check_recovery(self) -> None:
        if self.client.http.is_closed:  # the window closed before the check was due
            return
        self.tasks.run(self.client._call("GET", "/backups/recovery"), on_done=self._recovered)

    def _recovered(self, body: dict) -> None:
        report = body.get("result") or {}
        status = report.get("status")
        if status == "recovered":
            text = _(
                "The branch database was damaged. It was put aside and the newest good backup was "
                "restored; bookings made after that backup may be missing."
            )
            if report.get("outboxReadable") is False:
                text += "\n\n" + _(
                    "Changes not yet sent to the cloud could not be read from the damaged file; "
                    "it is kept for support."
                )
        elif status == "damaged-no-backup":
            text = _(
                "The branch database was damaged and there was no backup. It was put aside for "
                "support and the desk started with an empty database."
            )
        elif status == "restored":
            text = _("The backup was restored. The previous database is kept beside it.")
        else:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning if status != "restored" else QMessageBox.Icon.Information,
            _("Istiqbal"),
            text,
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setDetailedText("\n".join(f"{k}: {v}" for k, v in report.items()))
        _open(self.window, box)
