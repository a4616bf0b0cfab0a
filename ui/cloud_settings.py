"""Settings → Cloud account… (issue #3 §3): connect this branch to an Ehjzny account.

Base URL and app id, then an organization API key or a one-time code sent by SMS to a
staff member's phone. The branch server tries the key, keeps it in the OS keyring (or, on a
machine without a keyring service, in a file only the user can read — the dialog says
which, and where) and starts syncing at once. Open it with ``dialog.open()``; it runs its
requests in the event loop and never blocks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.client import ApiError, DeskClient
from app.i18n import _, ngettext
from app.i18n.text import fsi
from ui.errors import message_for
from ui.tasks import Tasks

CLOUDS = (("ehjzny", "Ehjzny"),)


def ltr_field(field: QLineEdit) -> QLineEdit:
    """URLs, ids, keys and phone numbers read left to right in any UI language."""
    field.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    field.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return field


def secret_place(settings: dict) -> str:
    """Where the secret is kept, in words (empty when there is none)."""
    if not settings.get("hasSecret"):
        return ""
    if settings.get("secretStore") == "keyring":
        return _("The key is kept in the system keyring.")
    if settings.get("secretStore") == "file":
        # Translators: %(path)s is a file path, e.g. /home/reem/.config/istiqbal/secrets.json.
        return _("The key is kept in a file only you can read: %(path)s — this machine has no keyring "
                 "service.") % {"path": fsi(settings.get("secretPath") or "")}
    return ""


def cloud_error(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        if exc.code == "CLOUD-AUTH-FAILED":
            return _("The cloud refused these details. Check the app id and the key (or the code) and try again.")
        if exc.code == "CLOUD-UNREACHABLE":
            return _("The cloud did not answer. Check the address and the internet connection.")
        if exc.code == "FORBIDDEN":
            return _("Only the server's own desk or a manager desk can change the cloud account.")
    return message_for(exc)


class CloudSettingsDialog(QDialog):
    """``CloudSettingsDialog(client, parent)``; ``saved(settings)`` after connecting or
    disconnecting (the server's ``/sync/settings`` answer)."""

    saved = Signal(object)

    def __init__(self, client: DeskClient, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.tasks = Tasks(self)
        self.settings: dict = {}
        self.setWindowTitle(_("Cloud account"))
        self.setMinimumWidth(560)

        intro = QLabel(_("Connect this branch to its Ehjzny account. Bookings made here are sent to the "
                         "cloud, and online bookings arrive here. Without a connection the branch works "
                         "on its own."))
        intro.setWordWrap(True)
        self.state_label = QLabel()
        font = self.state_label.font()
        font.setBold(True)
        self.state_label.setFont(font)

        self.cloud = QComboBox()
        for key, name in CLOUDS:
            self.cloud.addItem(name, key)
        self.base_url = ltr_field(QLineEdit())
        self.base_url.setPlaceholderText("https://api.ehjzny.com")
        self.app_id = ltr_field(QLineEdit())
        self.use_key = QRadioButton(_("Organization API key"))
        self.use_otp = QRadioButton(_("One-time code by SMS"))
        self.use_key.setChecked(True)
        self.method = QButtonGroup(self)
        self.method.addButton(self.use_key)
        self.method.addButton(self.use_otp)
        methods = QHBoxLayout()
        methods.addWidget(self.use_key)
        methods.addWidget(self.use_otp)
        methods.addStretch(1)
        self.api_key = ltr_field(QLineEdit())
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.phone = ltr_field(QLineEdit())
        self.phone.setPlaceholderText("+9665XXXXXXXX")
        self.send_code = QPushButton(_("Send code"))
        self.send_code.clicked.connect(self.request_code)
        phone_row = QHBoxLayout()
        phone_row.addWidget(self.phone, 1)
        phone_row.addWidget(self.send_code)
        self.code = ltr_field(QLineEdit())
        self.code.setMaxLength(12)

        form = QFormLayout()
        form.addRow(_("Cloud"), self.cloud)
        form.addRow(_("Address"), self.base_url)
        form.addRow(_("App id"), self.app_id)
        form.addRow(_("Sign in with"), methods)
        self.key_label = QLabel(_("API key"))
        form.addRow(self.key_label, self.api_key)
        self.phone_label = QLabel(_("Staff phone"))
        form.addRow(self.phone_label, phone_row)
        self.code_label = QLabel(_("Code"))
        form.addRow(self.code_label, self.code)
        self.form = form

        self.secret_label = QLabel()
        self.secret_label.setWordWrap(True)
        self.secret_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.secret_label.setStyleSheet("color: #5f6b7a;")
        self.message = QLabel()
        self.message.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.connect_button = self.buttons.addButton(_("Connect"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.disconnect_button = self.buttons.addButton(_("Disconnect"), QDialogButtonBox.ButtonRole.DestructiveRole)
        self.close_button = self.buttons.addButton(_("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.save)
        self.disconnect_button.clicked.connect(self.disconnect)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.state_label)
        layout.addLayout(form)
        layout.addWidget(self.secret_label)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.use_key.toggled.connect(lambda _checked: self._show_method())
        for field in (self.base_url, self.app_id, self.api_key, self.phone, self.code):
            field.textChanged.connect(lambda _text: self._enable())
        self._show_method()
        self._busy(True)
        self.tasks.run(client.sync_settings(), self._show, self._failed)

    # showing ---------------------------------------------------------------------------
    def _show_method(self) -> None:
        key = self.use_key.isChecked()
        for widget in (self.key_label, self.api_key):
            widget.setVisible(key)
        for widget in (self.phone_label, self.phone, self.send_code, self.code_label, self.code):
            widget.setVisible(not key)
        self._enable()

    def _show(self, settings: dict) -> None:
        self.settings = settings
        self._busy(False)
        if settings.get("baseUrl"):
            self.base_url.setText(settings["baseUrl"])
            self.app_id.setText(settings.get("appId") or "")
        if settings.get("auth") == "otp":
            self.use_otp.setChecked(True)
        if settings.get("connected"):
            self.state_label.setText(_("Connected to %(url)s") % {"url": fsi(settings.get("baseUrl") or "")})
            self.state_label.setStyleSheet("color: #1f7a3a;")
        elif settings.get("baseUrl"):
            self.state_label.setText(_("Not syncing: connect again to start."))
            self.state_label.setStyleSheet("color: #8a5a00;")
        else:
            self.state_label.setText(_("Not connected: this branch works on its own."))
            self.state_label.setStyleSheet("color: #8a5a00;")
        self.api_key.setPlaceholderText(_("(unchanged — the stored key is used)") if settings.get("hasSecret") else "")
        self.secret_label.setText(secret_place(settings))
        self.secret_label.setVisible(bool(self.secret_label.text()))
        self._enable()

    def _busy(self, busy: bool) -> None:
        self._working = busy
        self._enable()

    def _enable(self) -> None:
        working = getattr(self, "_working", False)
        ready = bool(self.base_url.text().strip() and self.app_id.text().strip())
        if self.use_key.isChecked():
            ready = ready and bool(self.api_key.text().strip() or (self.settings.get("hasSecret") and self._same()))
        else:
            ready = ready and bool(self.phone.text().strip() and self.code.text().strip())
        self.connect_button.setEnabled(ready and not working)
        self.send_code.setEnabled(bool(self.base_url.text().strip() and self.app_id.text().strip()
                                       and self.phone.text().strip()) and not working)
        self.disconnect_button.setEnabled(bool(self.settings.get("baseUrl")) and not working)

    def _same(self) -> bool:
        return (self.base_url.text().strip().rstrip("/") == (self.settings.get("baseUrl") or "")
                and self.app_id.text().strip() == (self.settings.get("appId") or ""))

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(("⚠ " if error else "") + text)
        self.message.setStyleSheet("color: #b3261e;" if error else "color: #1f7a3a;")

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._say(cloud_error(exc), error=True)

    # actions ---------------------------------------------------------------------------
    def _fields(self) -> tuple[str, str, str]:
        return self.base_url.text().strip(), self.app_id.text().strip(), self.cloud.currentData()

    def save(self) -> None:
        url, app_id, cloud = self._fields()
        self._busy(True)
        self._say(_("Connecting…"))
        if self.use_key.isChecked():
            call = self.client.save_sync_settings(url, app_id, self.api_key.text().strip() or None, cloud=cloud)
        else:
            call = self.client.verify_sync_otp(url, app_id, self.phone.text().strip(), self.code.text().strip(),
                                               cloud=cloud)
        self.tasks.run(call, self._connected, self._failed)

    def _connected(self, settings: dict) -> None:
        self.api_key.clear()
        self.code.clear()
        self._show(settings)
        self._say(_("Connected. The branch is syncing with the cloud now."))
        self.saved.emit(settings)
        self.tasks.run(self.client.sync_status(), self._offer_upload, lambda exc: None)

    def _offer_upload(self, status: dict) -> None:
        """Bookings made before the branch was connected reach the cloud only if staff agree."""
        count = int((status or {}).get("unsynced") or 0)
        if not count:
            return
        box = QMessageBox(QMessageBox.Icon.Question, _("Cloud account"),
                          ngettext("%(count)s booking made here before connecting is not in the cloud. "
                                   "Upload it now?",
                                   "%(count)s bookings made here before connecting are not in the cloud. "
                                   "Upload them now?", count) % {"count": count},
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        self.upload_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.tasks.run(self.client.upload_local(), lambda r: self._say(
                    ngettext("%(count)s booking queued for the cloud.", "%(count)s bookings queued for the cloud.",
                             int(r.get("queued") or 0)) % {"count": int(r.get("queued") or 0)}), self._failed)

        box.finished.connect(answered)
        box.open()

    def request_code(self) -> None:
        url, app_id, cloud = self._fields()
        self._busy(True)

        def sent(_result) -> None:
            self._busy(False)
            self._say(_("A code was sent to %(phone)s.") % {"phone": fsi(self.phone.text().strip())})
            self.code.setFocus()

        self.tasks.run(self.client.request_sync_otp(url, app_id, self.phone.text().strip(), cloud=cloud),
                       sent, self._failed)

    def disconnect(self) -> None:
        self._busy(True)

        def done(settings: dict) -> None:
            self.base_url.clear()
            self.app_id.clear()
            self._show(settings)
            self._say(_("Disconnected. The branch works on its own; its bookings stay here."))
            self.saved.emit(settings)

        self.tasks.run(self.client.disconnect_sync(), done, self._failed)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
