"""Connecting a branch to an Ehjzny account (issue #3, "Settings").

The connection — ``{"cloud": "ehjzny", "baseUrl", "appId", "auth": "apiKey" | "otp"}`` — is
kept in the branch store's ``settings`` table under :data:`SETTING_KEY`. The secret (the
organization API key, or the refresh token of an OTP login) never goes there: it is kept
in the OS keyring (service :data:`KEYRING_SERVICE`, user ``<appId>@<baseUrl>``). On a
machine without a keyring service ``keyring`` raises ``NoKeyringError``; the secret then
goes to ``secrets.json`` in the per-user config directory (platformdirs), readable by the
user only (0600) — :mod:`app.secret_store`. :func:`save_secret` and :func:`load_secret`
report which was used: ``"keyring"`` or ``"file:<path>"``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from app.secret_store import (  # noqa: F401  (kept importable from here)
    KEYRING_SERVICE,
    delete_secret,
    load_secret,
    save_secret,
    secrets_file,
)
from app.store import Store

log = logging.getLogger(__name__)
SETTING_KEY = "sync.cloud"
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
