"""Desks on the LAN (docs/architecture.md).

* :class:`PairDeskDialog` — on the server's desk (or a manager desk), Settings → Pair a
  desk…: a single-use pairing code with its expiry, the server's LAN address and the
  certificate fingerprint the new desk will pin, and the paired desks with Revoke.
* :class:`ConnectToServerDialog` — on a new desk (``main.py --connect https://HOST:PORT``
  with no stored token): asks for the code, a desk name and a role, pairs through
  :func:`app.client.pair`, keeps the token (keyring, or a 0600 file) and the fingerprint
  (:mod:`app.desk_credentials`) and emits ``connected(url, token, fingerprint)``.
* :func:`lan_client` — the desk's client for a LAN server: the stored credentials (or the
  dialog), checked once; a server showing another certificate is refused with a message
  instead of being talked to.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import desk_credentials
from app.client import ApiError, DeskClient, pair
from app.domain.clock import from_iso
from app.domain.model import DeskRole
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.text import display_name, fsi
from ui.core.errors import message_for
from ui.core.tasks import Tasks
from ui.dialogs.cloud_settings import ltr_field

log = logging.getLogger(__name__)
#: roles a new desk can ask for: (role, label)
ROLES = ((DeskRole.RECEPTION, "Reception"), (DeskRole.PROVIDER, "Doctor or room (provider)"))


def role_label(role: str) -> str:
    return {
        DeskRole.RECEPTION: _("Reception"),
        DeskRole.PROVIDER: _("Doctor or room (provider)"),
        DeskRole.MANAGER: _("Manager"),
    }.get(role, role)


def grouped_fingerprint(fingerprint: str | None) -> str:
    """``ab12cd…`` → ``AB12 CD34 …`` (easier to compare by eye), left to right."""
    if not fingerprint:
        return ""
    text = fingerprint.upper()
    return "\u2066" + " ".join(text[i : i + 4] for i in range(0, len(text), 4)) + "\u2069"


def is_pin_mismatch(exc: BaseException) -> bool:
    """The server showed another certificate than the one this desk paired with."""
    if isinstance(exc, ApiError) and exc.code == "PIN-MISMATCH":
        return True
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "PinMismatch":
            return True
        seen = seen.__cause__ or seen.__context__
    return isinstance(exc, ApiError) and exc.code == "NETWORK" and "not the paired one" in exc.message


def pairing_error(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        if exc.code == "PAIRING-FAILED":
            return _("The pairing code is wrong or has expired. Ask for a new code at the server's desk.")
        if is_pin_mismatch(exc):
            return _("The server's certificate changed while pairing. Do not trust this connection.")
        if exc.code == "VALIDATION" and exc.details.get("field") == "resourceIds":
            return _(
                "A provider desk needs a code made for its doctor or room: choose them at the server's "
                "desk when you make the code."
            )
        if exc.code == "NETWORK":
            return _(
                "No branch server answered at this address. Check the address (https://…) and the network."
            )
    return message_for(exc)


class PairDeskDialog(QDialog):
    """``PairDeskDialog(client, parent)`` on the server's desk: codes, address, fingerprint, desks."""

    def __init__(self, client: DeskClient, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.tasks = Tasks(self)
        self.info: dict = {}
        self.setWindowTitle(_("Pair a desk"))
        self.setMinimumWidth(620)

        intro = QLabel(
            _(
                "Another computer on this network can work as a desk of this branch. On that "
                "computer, start Istiqbal with the address below and type the pairing code."
            )
        )
        intro.setWordWrap(True)
        self.role = QComboBox()
        for role, _label in ROLES:
            self.role.addItem(role_label(role), role)
        self.resource = QComboBox()
        self.resource_label = QLabel(_("Doctor or room"))
        self.new_code = QPushButton(_("New code"))
        self.new_code.clicked.connect(self.make_code)
        self.role.currentIndexChanged.connect(lambda _i: self._show_role())

        self.code = QLabel("—")
        font = QFont(self.code.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 2)
        self.code.setFont(font)
        self.code.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expires = QLabel()
        self.expires.setStyleSheet("color: #5f6b7a;")
        self.address = QLabel()
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address.setWordWrap(True)
        self.fingerprint = QLabel()
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint.setWordWrap(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.fingerprint.setFont(mono)

        form = QFormLayout()
        form.addRow(_("Role"), self.role)
        form.addRow(self.resource_label, self.resource)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code)
        code_row.addWidget(self.new_code)
        code_row.addStretch(1)
        form.addRow(_("Pairing code"), code_row)
        form.addRow("", self.expires)
        form.addRow(_("Server address"), self.address)
        form.addRow(_("Certificate fingerprint"), self.fingerprint)

        self.desks = QTableWidget(0, 3)
        self.desks.setHorizontalHeaderLabels([_("Desk"), _("Role"), _("Paired")])
        self.desks.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.desks.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.desks.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.desks.verticalHeader().hide()
        self.desks.horizontalHeader().setStretchLastSection(True)
        self.desks.itemSelectionChanged.connect(self._enable_revoke)
        self.revoke = QPushButton(_("Revoke"))
        self.revoke.clicked.connect(self.revoke_selected)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(QLabel(_("Paired desks")))
        layout.addWidget(self.desks, 1)
        revoke_row = QHBoxLayout()
        revoke_row.addWidget(self.revoke)
        revoke_row.addStretch(1)
        layout.addLayout(revoke_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._show_role()
        self._enable_revoke()
        self.tasks.run(self._load(), self._loaded, self._failed)

    async def _load(self) -> tuple[dict, list[dict], list[dict]]:
        return await asyncio.gather(self.client.server_info(), self.client.desks(), self.client.resources())

    def _loaded(self, result) -> None:
        self.info, desks, resources = result
        for resource in resources:
            self.resource.addItem(display_name(resource), resource["id"])
        lan = self.info.get("lanUrl")
        if lan:
            self.address.setText(f"\u2066{lan}\u2069")
            self.address.setStyleSheet("")
        else:
            self.address.setText(
                _(
                    "This server listens on this computer only. Start it with --host 0.0.0.0 "
                    "(or this computer's network address) so other desks can reach it."
                )
            )
            self.address.setStyleSheet("color: #8a5a00;")
        self.fingerprint.setText(grouped_fingerprint(self.info.get("fingerprint")) or "—")
        self._show_desks(desks)
        self.new_code.setEnabled(bool(lan))

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.status == 403:
            self.message.setText("⚠ " + _("Only the server's own desk or a manager desk can pair desks."))
        else:
            self.message.setText("⚠ " + message_for(exc))

    def _show_role(self) -> None:
        provider = self.role.currentData() == DeskRole.PROVIDER
        self.resource.setVisible(provider)
        self.resource_label.setVisible(provider)

    def _show_desks(self, desks: list[dict]) -> None:
        zone = "UTC"
        parent = self.parent()
        if parent is not None and hasattr(parent, "state"):
            zone = parent.state.zone
        shown = [d for d in desks if not d.get("revokedAt")]
        self.desks.setRowCount(len(shown))
        for row, desk in enumerate(shown):
            paired = (
                fmt.format_datetime(from_iso(desk["createdAt"]), zone, "medium", "short")
                if desk.get("createdAt")
                else ""
            )
            for column, text in enumerate(
                (desk.get("name") or "", role_label(desk.get("role") or ""), paired)
            ):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, desk["id"])
                self.desks.setItem(row, column, item)
        self.desks.resizeColumnsToContents()
        self._enable_revoke()

    def _enable_revoke(self) -> None:
        self.revoke.setEnabled(bool(self.desks.selectedItems()))

    def make_code(self) -> None:
        role = self.role.currentData()
        resources = (
            [self.resource.currentData()]
            if role == DeskRole.PROVIDER and self.resource.currentData()
            else None
        )
        self.message.clear()

        def shown(code: dict) -> None:
            self.code.setText(f"\u2066{code['code']}\u2069")
            zone = getattr(getattr(self.parent(), "state", None), "zone", "UTC")
            self.expires.setText(
                _("Valid once, until %(time)s") % {"time": fmt.format_time(from_iso(code["expiresAt"]), zone)}
            )
            if code.get("fingerprint"):
                self.fingerprint.setText(grouped_fingerprint(code["fingerprint"]))

        self.tasks.run(self.client.pairing_code(role, resources), shown, self._failed)

    def revoke_selected(self) -> None:
        items = self.desks.selectedItems()
        if not items:
            return
        desk_id = items[0].data(Qt.ItemDataRole.UserRole)

        async def revoke_and_list() -> list[dict]:
            await self.client.revoke_desk(desk_id)
            return await self.client.desks()

        self.tasks.run(revoke_and_list(), self._show_desks, self._failed)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


class ConnectToServerDialog(QDialog):
    """``ConnectToServerDialog(url, parent)`` on a new desk; ``connected(url, token,
    fingerprint)`` once paired (the credentials are stored by then)."""

    connected = Signal(str, str, str)

    def __init__(self, url: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = Tasks(self)
        self.credentials: desk_credentials.DeskCredentials | None = None
        self.setWindowTitle(_("Connect to the branch server"))
        self.setMinimumWidth(520)
        intro = QLabel(
            _(
                "At the server's desk, open Settings → Pair a desk… and make a code. Type the "
                "server's address and the code here."
            )
        )
        intro.setWordWrap(True)
        self.url = ltr_field(QLineEdit(url or ""))
        self.url.setPlaceholderText("https://192.168.1.10:8765")
        self.code = ltr_field(QLineEdit())
        self.code.setPlaceholderText("ABCD-EFGH")
        self.code.setMaxLength(12)
        self.name = QLineEdit(socket.gethostname())
        # The code fixes the desk's role (and a provider desk's doctor or room): nothing to choose here.
        self.role_note = QLabel(
            _(
                "The desk works in the role chosen when the code was made: reception, "
                "manager, or the desk of one doctor or room."
            )
        )
        self.role_note.setWordWrap(True)
        self.role_note.setStyleSheet("color: #5f6b7a;")
        form = QFormLayout()
        form.addRow(_("Server address"), self.url)
        form.addRow(_("Pairing code"), self.code)
        form.addRow(_("Desk name"), self.name)
        form.addRow("", self.role_note)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton(_("Connect"), QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(_("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        for field in (self.url, self.code, self.name):
            field.textChanged.connect(lambda _t: self._enable())
        self._working = False
        self._enable()
        (self.code if url else self.url).setFocus()

    def _enable(self) -> None:
        ready = all(f.text().strip() for f in (self.url, self.code, self.name))
        self.ok.setEnabled(ready and not self._working)

    def submit(self) -> None:
        url = self.url.text().strip().rstrip("/")
        if not url.startswith("https://"):
            url = "https://" + url.split("://", 1)[-1]
            self.url.setText(url)
        self._working = True
        self._enable()
        self.message.setStyleSheet("color: #1f7a3a;")
        self.message.setText(_("Connecting…"))
        call = pair(url, self.code.text().strip(), self.name.text().strip())
        self.tasks.run(call, lambda result: self._paired(url, result), self._failed)

    def _paired(self, url: str, result: dict) -> None:
        self._working = False
        self.credentials = desk_credentials.save(url, result)
        self.connected.emit(url, result["token"], result["fingerprint"])
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._working = False
        self._enable()
        self.message.setStyleSheet("color: #b3261e;")
        self.message.setText("⚠ " + pairing_error(exc))

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


def refusal_box(url: str, parent: QWidget | None = None) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        _("Connection refused"),
        _(
            "The server at %(url)s shows a different certificate than when this desk was paired. "
            "It may be another machine pretending to be the branch server, so this desk will not "
            "connect."
        )
        % {"url": fsi(url)},
        QMessageBox.StandardButton.Close,
        parent,
    )
    box.setInformativeText(
        _(
            "If the server was reinstalled on purpose, remove this desk's pairing and pair "
            "it again with a new code."
        )
    )
    box.button(QMessageBox.StandardButton.Close).setText(_("Close"))
    return box


async def _wait_finished(dialog: QDialog) -> int:
    """Open ``dialog`` (never ``exec`` in a coroutine) and wait for its result."""
    done = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda result: done.done() or done.set_result(result))
    dialog.open()
    return await done


async def lan_client(
    url: str, parent: QWidget | None = None, dialogs: list | None = None
) -> DeskClient | None:
    """The client of a paired desk for the LAN server at ``url``: the stored token and
    fingerprint, or pair first (:class:`ConnectToServerDialog`). Checks the server once: a
    server with another certificate is refused with a message (None). ``dialogs`` gets each
    dialog shown (tests)."""
    credentials = desk_credentials.load(url)
    if credentials is None:
        dialog = ConnectToServerDialog(url, parent)
        if dialogs is not None:
            dialogs.append(dialog)
        if await _wait_finished(dialog) != QDialog.DialogCode.Accepted or dialog.credentials is None:
            return None
        credentials = dialog.credentials
    client = DeskClient(
        credentials.url,
        token=credentials.token,
        fingerprint=credentials.fingerprint,
        desk_id=credentials.desk_id,
    )
    try:
        await client.ready()
    except ApiError as exc:
        if not is_pin_mismatch(exc):
            return client  # the window reports other failures (and keeps retrying events)
        await client.aclose()
        log.error("refused %s: %s", url, exc)
        box = refusal_box(url, parent)
        if dialogs is not None:
            dialogs.append(box)
        await _wait_finished(box)
        return None
    return client
