"""Connecting a branch to an Ehjzny account (issue #3, "Settings").

The connection — ``{"cloud": "ehjzny", "baseUrl", "appId", "auth": "apiKey" | "otp"}`` — is
kept in the branch store's ``settings`` table under :data:`SETTING_KEY`. The secret (the
organization API key, or the refresh token of an OTP login) never goes there: it is kept
in the OS keyring (service :data:`KEYRING_SERVICE`, user ``<appId>@<baseUrl>``). On a
machine without a keyring service ``keyring`` raises ``NoKeyringError``; the secret then
goes to ``secrets.json`` in the per-user config directory (platformdirs), readable by the
user only (0600). :func:`save_secret` and :func:`load_secret` report which was used:
``"keyring"`` or ``"file:<path>"``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import keyring
import platformdirs
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from app.store import Store

log = logging.getLogger(__name__)
SETTING_KEY = "sync.cloud"
KEYRING_SERVICE = "istiqbal-ehjzny"
ENV_KEY = "ISTIQBAL_CLOUD_KEY"


@dataclass
class CloudConfig:
    """One branch's cloud connection. ``secret``: the API key (``auth="apiKey"``) or the
    refresh token (``auth="otp"``); never stored in the branch database."""

    base_url: str
    app_id: str
    secret: str | None = None
    auth: str = "apiKey"
    cloud: str = "ehjzny"

    @property
    def account(self) -> str:
        return f"{self.app_id}@{self.base_url.rstrip('/')}"

    def to_setting(self) -> dict:
        return {"cloud": self.cloud, "baseUrl": self.base_url.rstrip("/"), "appId": self.app_id, "auth": self.auth}


def secrets_file() -> Path:
    return Path(platformdirs.user_config_dir("istiqbal")) / "secrets.json"


def _read_file(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _write_file(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _file_key(service: str, account: str) -> str:
    """The secrets file's key: the bare account for the cloud secret (as it always was),
    ``<service>|<account>`` for other services (e.g. desk tokens)."""
    return account if service == KEYRING_SERVICE else f"{service}|{account}"


def save_secret(account: str, secret: str, service: str = KEYRING_SERVICE) -> str:
    """Keep ``secret`` for ``account``; returns ``"keyring"`` or ``"file:<path>"``."""
    try:
        keyring.set_password(service, account, secret)
        return "keyring"
    except (NoKeyringError, KeyringError, RuntimeError) as exc:
        log.info("no usable keyring (%s): keeping the secret in a 0600 file", exc)
    path = secrets_file()
    data = _read_file(path)
    data[_file_key(service, account)] = secret
    _write_file(path, data)
    return f"file:{path}"


def load_secret(account: str, service: str = KEYRING_SERVICE) -> tuple[str | None, str | None]:
    """``(secret, where)`` for ``account``: where is ``"keyring"``, ``"file:<path>"`` or None."""
    try:
        secret = keyring.get_password(service, account)
        if secret:
            return secret, "keyring"
    except (NoKeyringError, KeyringError, RuntimeError):
        pass
    path = secrets_file()
    secret = _read_file(path).get(_file_key(service, account))
    return (secret, f"file:{path}") if secret else (None, None)


def delete_secret(account: str, service: str = KEYRING_SERVICE) -> None:
    try:
        keyring.delete_password(service, account)
    except (NoKeyringError, KeyringError, PasswordDeleteError, RuntimeError):
        pass
    path = secrets_file()
    data = _read_file(path)
    if data.pop(_file_key(service, account), None) is not None:
        _write_file(path, data)


def connect(store: Store, config: CloudConfig) -> str:
    """Save the connection in the store and its secret outside it; returns where the
    secret went (``"keyring"``, ``"file:<path>"``, or ``"none"`` without a secret)."""
    where = save_secret(config.account, config.secret) if config.secret else "none"
    store.set_setting(SETTING_KEY, {**config.to_setting(), "secretStore": where.split(":")[0],
                                    "secretPath": where.split(":", 1)[1] if where.startswith("file:") else None})
    return where


def disconnect(store: Store) -> bool:
    """Forget the branch's connection and its secret; False when none was stored."""
    stored = store.setting(SETTING_KEY, None)
    if not stored:
        return False
    delete_secret(f"{stored.get('appId')}@{str(stored.get('baseUrl') or '').rstrip('/')}")
    store.set_setting(SETTING_KEY, None)
    return True


def public_settings(store: Store, connected: bool = False) -> dict:
    """``GET /sync/settings``: the stored connection without its secret — ``{cloud, baseUrl,
    appId, auth, secretStore ("keyring" | "file" | None), secretPath (the file, or None),
    hasSecret, connected}`` (``connected``: a sync engine runs now)."""
    stored = store.setting(SETTING_KEY, None) or {}
    has_secret, where = False, None
    if stored.get("appId") and stored.get("baseUrl"):
        secret, where = load_secret(f"{stored['appId']}@{stored['baseUrl'].rstrip('/')}")
        has_secret = bool(secret)
    kind = where.split(":")[0] if where else stored.get("secretStore")
    path = where.split(":", 1)[1] if where and where.startswith("file:") else None
    return {"cloud": stored.get("cloud"), "baseUrl": stored.get("baseUrl"), "appId": stored.get("appId"),
            "auth": stored.get("auth"), "secretStore": kind if kind in ("keyring", "file") else None,
            "secretPath": path, "hasSecret": has_secret, "connected": connected}


def load_config(store: Store, *, base_url: str | None = None, app_id: str | None = None,
                secret: str | None = None) -> CloudConfig | None:
    """The branch's connection: arguments win over the stored setting; the secret comes from
    ``secret``, else the environment variable :data:`ENV_KEY`, else keyring/file.
    None when no base URL and app id are known."""
    stored = store.setting(SETTING_KEY, None) or {}
    base_url = base_url or stored.get("baseUrl")
    app_id = app_id or stored.get("appId")
    if not (base_url and app_id):
        return None
    config = CloudConfig(base_url.rstrip("/"), app_id, auth=stored.get("auth", "apiKey")
                         if stored.get("baseUrl") == base_url.rstrip("/") else "apiKey")
    config.secret = secret or os.environ.get(ENV_KEY) or load_secret(config.account)[0]
    if secret or os.environ.get(ENV_KEY):
        config.auth = "apiKey"
    return config


async def otp_login(base_url: str, app_id: str, *, phone: str | None = None, email: str | None = None,
                    code: str | None = None) -> dict:
    """OTP sign-in of a staff member (contract "Operations": request/verify OTP).

    Without ``code`` it requests the code and returns ``{"sent": True, ...}``; with ``code``
    it verifies and returns the tokens ``{accessToken, refreshToken, expiresIn, ...}``.
    Raises :class:`~app.sync.ehjzny.client.CloudError` or ``TransportError``.
    """
    from app.sync.ehjzny.client import EhjznyClient

    async def no_token() -> str:
        return ""

    client = EhjznyClient(base_url, app_id, no_token)
    body = {"method": "sms" if phone else "email", "phoneNumber": phone, "email": email, "isOrgMember": True}
    body = {k: v for k, v in body.items() if v is not None}
    try:
        if code is None:
            return await client.call("otp_request", body=body, auth=False)
        return await client.call("otp_verify", body={**body, "code": code}, auth=False)
    finally:
        await client.aclose()
