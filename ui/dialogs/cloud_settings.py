"""Settings → Cloud account…: connect this branch to its cloud booking platform.

Built from what the branch server says each registered cloud needs (``GET /sync/settings``
→ ``clouds``: every connector's fields, auth kinds and sign-in steps,
:meth:`app.sync.connector.ConnectorInfo.describe`): pick the cloud, then its address,
account and key — or its sign-in steps (e.g. a one-time code sent by SMS to a staff
member's phone). The branch server tries the credential, keeps it in the OS keyring (or, on
a machine without a keyring service, in a file only the user can read — the dialog says
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
from app.i18n import _, current_language, ngettext, translate
from app.i18n.text import fsi
from ui.core.errors import message_for
from ui.core.tasks import Tasks


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
        return _(
            "The key is kept in a file only you can read: %(path)s — this machine has no keyring service."
        ) % {"path": fsi(settings.get("secretPath") or "")}
    return ""


def cloud_error(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        if exc.code == "CLOUD-AUTH-FAILED":
            return _(
                "The cloud refused these details. Check the app id and the key (or the code) and try again."
            )
        if exc.code == "CLOUD-UNREACHABLE":
            return _("The cloud did not answer. Check the address and the internet connection.")
        if exc.code == "FORBIDDEN":
            return _("Only the server's own desk or a manager desk can change the cloud account.")
    return message_for(exc)


class ListedField(QWidget):
    """A connection field whose values the cloud lists (declared ``listed``, e.g. the Rekaz
    branch): an editable list (``combo``; a value may still be typed) and a button
    (``list_button``) that asks the branch server for the cloud's values with the
    credentials typed so far. Reads and writes like a line: :meth:`text` is the picked
    value's id (or the typed text), :meth:`setText` picks the value with that id."""

    textChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.list_button = QPushButton(_("Load the list"))
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.combo, 1)
        box.addWidget(self.list_button)
        self.combo.editTextChanged.connect(lambda _text: self.textChanged.emit(self.text()))

    def text(self) -> str:
        typed = self.combo.currentText().strip()
        index = self.combo.findText(typed, Qt.MatchFlag.MatchExactly)
        return str(self.combo.itemData(index)) if index >= 0 and self.combo.itemData(index) else typed

    def setText(self, value: str) -> None:
        index = self.combo.findData(value) if value else -1
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setEditText(value or "")

    def set_values(self, values: list[dict]) -> None:
        """Offer ``values`` (``[{value, label, labels: {en, ar}}]``), each by its name in the
        desk's language, keeping the current value picked when it is among them."""
        current = self.text()
        self.combo.blockSignals(True)
        self.combo.clear()
        lang = current_language()
        for item in values:
            label = (item.get("labels") or {}).get(lang) or item.get("label") or item["value"]
            self.combo.addItem(str(label), str(item["value"]))
        self.combo.blockSignals(False)
        index = self.combo.findData(current) if current else -1
        self.combo.setCurrentIndex(index if index >= 0 else (0 if len(values) == 1 else -1))
        if index < 0 and len(values) != 1:
            self.combo.setEditText(current)
        self.textChanged.emit(self.text())


class CloudSettingsDialog(QDialog):
    """``CloudSettingsDialog(client, parent)``; ``saved(settings)`` after connecting or
    disconnecting (the server's ``/sync/settings`` answer).

    The form follows the chosen cloud's declared fields: ``base_url`` (``baseUrl``),
    ``app_id`` (``account``, labelled as the cloud names it), ``api_key`` (``secret``) and one
    line per other field (:attr:`extra`); one radio button per auth kind (``use_key`` the
    first, ``use_otp`` the second when there is one); the sign-in steps' fields
    (:attr:`sign_in_inputs`, e.g. ``phone`` and ``code``) with a button per step but the last
    (``send_code`` the first), the last one being *Connect*. A field the cloud lists (e.g.
    the Rekaz branch) is a :class:`ListedField` in :attr:`extra`: *Load the list* fills it
    with the cloud's values (``POST /sync/choices/{key}``) to pick one."""

    saved = Signal(object)

    def __init__(self, client: DeskClient, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.tasks = Tasks(self)
        self.settings: dict = {}
        self.clouds: list[dict] = []
        self.setWindowTitle(_("Cloud account"))
        self.setMinimumWidth(560)

        self.intro = QLabel(
            _(
                "Connect this branch to its cloud booking account. Bookings made here are sent "
                "to the cloud, and online bookings arrive here. Without a connection the "
                "branch works on its own."
            )
        )
        self.intro.setWordWrap(True)
        self.state_label = QLabel()
        font = self.state_label.font()
        font.setBold(True)
        self.state_label.setFont(font)

        self.cloud = QComboBox()
        self.base_url = ltr_field(QLineEdit())
        self.app_id = ltr_field(QLineEdit())
        self.api_key = ltr_field(QLineEdit())
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.method = QButtonGroup(self)
        self.methods = QHBoxLayout()
        self.auth_buttons: dict[str, QRadioButton] = {}
        self.use_key = self.use_otp = None
        self.extra: dict[str, QLineEdit | ListedField] = {}
        self.sign_in_inputs: dict[str, QLineEdit] = {}
        self.step_buttons: dict[str, QPushButton] = {}
        self.phone = self.code = self.send_code = None

        form = QFormLayout()
        form.addRow(_("Cloud"), self.cloud)
        self.url_label, self.account_label, self.key_label = (
            QLabel(_("Address")),
            QLabel(_("App id")),
            QLabel(_("API key")),
        )
        form.addRow(self.url_label, self.base_url)
        form.addRow(self.account_label, self.app_id)
        self.methods_label = QLabel(_("Sign in with"))
        form.addRow(self.methods_label, self.methods)
        form.addRow(self.key_label, self.api_key)
        self.form = form
        self._dynamic_rows: list[QWidget] = []

        self.secret_label = QLabel()
        self.secret_label.setWordWrap(True)
        self.secret_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.secret_label.setStyleSheet("color: #5f6b7a;")
        self.message = QLabel()
        self.message.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.connect_button = self.buttons.addButton(_("Connect"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.disconnect_button = self.buttons.addButton(
            _("Disconnect"), QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.close_button = self.buttons.addButton(_("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.save)
        self.disconnect_button.clicked.connect(self.disconnect)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.state_label)
        layout.addLayout(form)
        layout.addWidget(self.secret_label)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.cloud.currentIndexChanged.connect(lambda _index: self._build_cloud())
        for field in (self.base_url, self.app_id, self.api_key):
            field.textChanged.connect(lambda _text: self._enable())
        self._busy(True)
        self.tasks.run(client.sync_settings(), self._show, self._failed)

    # the chosen cloud's form -------------------------------------------------------------
    def _info(self) -> dict:
        name = self.cloud.currentData()
        return next(
            (c for c in self.clouds if c["name"] == name), {"fields": [], "authKinds": [], "signIn": []}
        )

    def _declared(self, key: str) -> dict | None:
        return next((f for f in self._info().get("fields") or [] if f["key"] == key), None)

    def _line(self, declared: dict) -> QLineEdit:
        line = ltr_field(QLineEdit())
        if declared.get("kind") == "secret":
            line.setEchoMode(QLineEdit.EchoMode.Password)
        if declared.get("kind") == "phone":
            line.setPlaceholderText("+9665XXXXXXXX")
        line.textChanged.connect(lambda _text: self._enable())
        return line

    def _build_cloud(self) -> None:
        """Labels, auth kinds, other fields and sign-in steps of the chosen cloud."""
        info = self._info()
        for widget in self._dynamic_rows:
            self.form.removeRow(widget)
        self._dynamic_rows = []
        for button in list(self.method.buttons()):
            self.method.removeButton(button)
            self.methods.removeWidget(button)
            button.deleteLater()
        self.auth_buttons, self.extra, self.sign_in_inputs, self.step_buttons = {}, {}, {}, {}
        for key, label in (
            (k, lbl)
            for k, lbl in (
                ("baseUrl", self.url_label),
                ("account", self.account_label),
                ("secret", self.key_label),
            )
        ):
            declared = self._declared(key)
            if declared:
                label.setText(translate(declared["label"]))
        self.base_url.setPlaceholderText(info.get("defaultUrl") or "https://")
        for kind, label in info.get("authKinds") or []:
            button = QRadioButton(_(label))
            button.toggled.connect(lambda _checked: self._show_method())
            self.method.addButton(button)
            self.methods.addWidget(button)
            self.auth_buttons[kind] = button
        kinds = list(self.auth_buttons.values())
        self.use_key = kinds[0] if kinds else None
        self.use_otp = kinds[1] if len(kinds) > 1 else None
        if self.use_key is not None:
            self.use_key.setChecked(True)
        self.methods_label.setVisible(len(kinds) > 1)
        for declared in info.get("fields") or []:
            if declared["key"] in ("baseUrl", "account", "secret"):
                continue
            if declared.get("listed"):
                line = ListedField()
                line.textChanged.connect(lambda _text: self._enable())
                line.list_button.clicked.connect(
                    lambda _checked=False, key=declared["key"]: self.list_values(key)
                )
            else:
                line = self._line(declared)
            if declared.get("help"):
                line.setToolTip(translate(declared["help"]))
            self.extra[declared["key"]] = line
            label = QLabel(translate(declared["label"]))
            self.form.addRow(label, line)
            self._dynamic_rows.append(line)
        steps = info.get("signIn") or []
        for number, step in enumerate(steps):
            for declared in step.get("fields") or []:
                line = self._line(declared)
                self.sign_in_inputs[declared["key"]] = line
                row: QWidget = line
                if number < len(steps) - 1:
                    button = QPushButton(translate(step["label"]))
                    button.clicked.connect(lambda _checked=False, name=step["name"]: self.request_code(name))
                    self.step_buttons[step["name"]] = button
                    row = QWidget()
                    box = QHBoxLayout(row)
                    box.setContentsMargins(0, 0, 0, 0)
                    box.addWidget(line, 1)
                    box.addWidget(button)
                self.form.addRow(QLabel(translate(declared["label"])), row)
                self._dynamic_rows.append(row)
        self.phone, self.code = self.sign_in_inputs.get("phone"), self.sign_in_inputs.get("code")
        self.send_code = next(iter(self.step_buttons.values()), None)
        self._show_method()

    def _signing_in(self) -> bool:
        """True when the chosen auth kind is a sign-in (not the first kind, the key)."""
        return bool(self.use_key is not None and not self.use_key.isChecked() and self.sign_in_inputs)

    # showing ---------------------------------------------------------------------------
    def _show_method(self) -> None:
        signing_in = self._signing_in()
        for widget in (self.key_label, self.api_key):
            widget.setVisible(not signing_in)
        for widget in self._dynamic_rows:
            if widget in self.extra.values():
                continue
            widget.setVisible(signing_in)
            label = self.form.labelForField(widget)
            if label is not None:
                label.setVisible(signing_in)
        self._enable()

    def _show(self, settings: dict) -> None:
        self.settings = settings
        self._busy(False)
        clouds = settings.get("clouds") or []
        if clouds and [c["name"] for c in clouds] != [c["name"] for c in self.clouds]:
            self.clouds = clouds
            self.cloud.blockSignals(True)
            self.cloud.clear()
            for info in clouds:
                self.cloud.addItem(
                    translate(info["title"]) if info.get("title") else info["name"], info["name"]
                )
            self.cloud.blockSignals(False)
            if settings.get("cloud"):
                self.cloud.setCurrentIndex(max(0, self.cloud.findData(settings["cloud"])))
            self._build_cloud()
        if settings.get("baseUrl"):
            self.base_url.setText(settings["baseUrl"])
            self.app_id.setText(settings.get("account") or settings.get("appId") or "")
            for key, line in self.extra.items():
                line.setText((settings.get("extra") or {}).get(key) or "")
        if settings.get("auth") in self.auth_buttons:
            self.auth_buttons[settings["auth"]].setChecked(True)
        if settings.get("connected"):
            self.state_label.setText(_("Connected to %(url)s") % {"url": fsi(settings.get("baseUrl") or "")})
            self.state_label.setStyleSheet("color: #1f7a3a;")
        elif settings.get("baseUrl"):
            self.state_label.setText(_("Not syncing: connect again to start."))
            self.state_label.setStyleSheet("color: #8a5a00;")
        else:
            self.state_label.setText(_("Not connected: this branch works on its own."))
            self.state_label.setStyleSheet("color: #8a5a00;")
        self.api_key.setPlaceholderText(
            _("(unchanged — the stored key is used)") if settings.get("hasSecret") else ""
        )
        self.secret_label.setText(secret_place(settings))
        self.secret_label.setVisible(bool(self.secret_label.text()))
        self._enable()

    def _busy(self, busy: bool) -> None:
        self._working = busy
        self._enable()

    def _required_filled(self, lines: dict[str, QLineEdit], declared: list[dict]) -> bool:
        wanted = {f["key"] for f in declared if f.get("required", True)}
        return all(line.text().strip() for key, line in lines.items() if key in wanted)

    def _enable(self) -> None:
        working = getattr(self, "_working", False)
        ready = bool(self.base_url.text().strip() and self.app_id.text().strip())
        ready = ready and self._required_filled(self.extra, self._info().get("fields") or [])
        if self._signing_in():
            ready = ready and all(line.text().strip() for line in self.sign_in_inputs.values())
        else:
            ready = ready and bool(
                self.api_key.text().strip()
                or (self.settings.get("hasSecret") and self._same())
                or not self._info().get("secretRequired", True)
            )  # e.g. an optional gateway key
        self.connect_button.setEnabled(ready and not working)
        first = next(iter(self.sign_in_inputs.values()), None)
        for button in self.step_buttons.values():
            button.setEnabled(
                bool(
                    self.base_url.text().strip()
                    and self.app_id.text().strip()
                    and first is not None
                    and first.text().strip()
                )
                and not working
            )
        self.disconnect_button.setEnabled(bool(self.settings.get("baseUrl")) and not working)
        keyed = bool(self.api_key.text().strip() or (self.settings.get("hasSecret") and self._same()))
        for line in self.extra.values():
            if isinstance(line, ListedField):
                line.list_button.setEnabled(
                    bool(self.base_url.text().strip() and self.app_id.text().strip())
                    and keyed
                    and not working
                )

    def _same(self) -> bool:
        return (
            self.base_url.text().strip().rstrip("/") == (self.settings.get("baseUrl") or "")
            and self.app_id.text().strip()
            == (self.settings.get("account") or self.settings.get("appId") or "")
            and self.cloud.currentData() == (self.settings.get("cloud") or self.cloud.currentData())
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(("⚠ " if error else "") + text)
        self.message.setStyleSheet("color: #b3261e;" if error else "color: #1f7a3a;")

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._say(cloud_error(exc), error=True)

    # actions ---------------------------------------------------------------------------
    def _fields(self) -> tuple[str, str, str]:
        return self.base_url.text().strip(), self.app_id.text().strip(), self.cloud.currentData()

    def _values(self) -> dict:
        return {key: line.text().strip() for key, line in self.sign_in_inputs.items() if line.text().strip()}

    def save(self) -> None:
        url, account, cloud = self._fields()
        self._busy(True)
        self._say(_("Connecting…"))
        if self._signing_in():
            steps = self._info().get("signIn") or []
            call = self.client.sign_in_step(cloud, url, account, steps[-1]["name"], self._values())
        else:
            extra = {key: line.text().strip() for key, line in self.extra.items() if line.text().strip()}
            call = self.client.connect_cloud(cloud, url, account, self.api_key.text().strip() or None, extra)
        self.tasks.run(call, self._connected, self._failed)

    def _connected(self, settings: dict) -> None:
        self.api_key.clear()
        if self.code is not None:
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
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Cloud account"),
            ngettext(
                "%(count)s booking made here before connecting is not in the cloud. Upload it now?",
                "%(count)s bookings made here before connecting are not in the cloud. Upload them now?",
                count,
            )
            % {"count": count},
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        self.upload_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.tasks.run(
                    self.client.upload_local(),
                    lambda r: self._say(
                        ngettext(
                            "%(count)s booking queued for the cloud.",
                            "%(count)s bookings queued for the cloud.",
                            int(r.get("queued") or 0),
                        )
                        % {"count": int(r.get("queued") or 0)}
                    ),
                    self._failed,
                )

        box.finished.connect(answered)
        box.open()

    def list_values(self, key: str) -> None:
        """Ask the branch server for the values the cloud lists for ``key`` with the address,
        account and key typed so far (or the stored key), and offer them in its field."""
        url, account, cloud = self._fields()
        field = self.extra.get(key)
        if not isinstance(field, ListedField) or not (url and account):
            return
        self._busy(True)
        others = {
            k: line.text().strip() for k, line in self.extra.items() if k != key and line.text().strip()
        }

        def listed(values: list[dict]) -> None:
            self._busy(False)
            field.set_values(values or [])
            if values:
                self._say(
                    ngettext(
                        "The cloud lists %(count)s choice: pick it, then connect.",
                        "The cloud lists %(count)s choices: pick one, then connect.",
                        len(values),
                    )
                    % {"count": len(values)}
                )
            else:
                self._say(_("The cloud lists nothing to choose from with this key."), error=True)
            field.combo.setFocus()

        self.tasks.run(
            self.client.cloud_choices(key, cloud, url, account, self.api_key.text().strip() or None, others),
            listed,
            self._failed,
        )

    def request_code(self, step: str | None = None) -> None:
        """Run a sign-in step before the last one (the first by default: send the code)."""
        url, account, cloud = self._fields()
        steps = self._info().get("signIn") or []
        if not steps:
            return
        step = step or steps[0]["name"]
        self._busy(True)

        def sent(_result) -> None:
            self._busy(False)
            where = self.phone.text().strip() if self.phone is not None else ""
            self._say(_("A code was sent to %(phone)s.") % {"phone": fsi(where)})
            if self.code is not None:
                self.code.setFocus()

        self.tasks.run(
            self.client.sign_in_step(cloud, url, account, step, self._values()), sent, self._failed
        )

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
