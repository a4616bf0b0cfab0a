"""The branch's cloud connection: which cloud account (any registered connector,
:mod:`app.sync.registry`) the branch syncs with. A setting of the branch, shared by all its
desks (not a desk preference: those are :mod:`app.desk_prefs`).

The connection — :meth:`CloudConfig.to_setting`: ``{"cloud", "baseUrl", "account",
"appId", "auth", "extra"}`` — is kept in the branch store's ``settings`` table under
:data:`SETTING_KEY` (the connection in use) and, per cloud, under :data:`CONNECTIONS_KEY`
(``{cloud: setting}``, so the dialog finds each cloud's details again). The secret (API
key, token, password, or the refresh token of a sign-in) never goes there: it is kept in
the OS keyring (service ``istiqbal-<cloud>``, :func:`app.secret_store.cloud_service`;
user ``<account>@<baseUrl>``). On a machine without a keyring service ``keyring`` raises
``NoKeyringError``; the secret then goes to ``secrets.json`` in the per-user config
directory (:func:`app.user_dirs.config_dir`), readable by the user only (0600) — :mod:`app.secret_store`.
:func:`save_secret` and :func:`load_secret` report which was used: ``"keyring"`` or
``"file:<path>"``.
"""

from __future__ import annotations

import logging
import os

from app import secret_store
from app.secret_store import cloud_service, secrets_file  # noqa: F401  (kept importable)
from app.store import Store
from app.sync import registry
from app.sync.connector import CloudConfig


def _service(cloud: str | None) -> str:
    """The keyring service of ``cloud`` (None: the default cloud, whose entries in the
    secrets file are the bare account, as they were before there were other clouds)."""
    primary = registry.default_cloud()
    service = cloud_service(cloud or primary)
    if (cloud or primary) == primary:
        secret_store.BARE_FILE_SERVICES.add(service)
    return service


log = logging.getLogger(__name__)
SETTING_KEY = "sync.cloud"
CONNECTIONS_KEY = "sync.connections"
ENV_KEY = "ISTIQBAL_CLOUD_KEY"

__all__ = [
    "CloudConfig",
    "ENV_KEY",
    "SETTING_KEY",
    "connect",
    "disconnect",
    "load_config",
    "load_secret",
    "public_settings",
    "save_secret",
    "delete_secret",
]


def save_secret(account: str, secret: str, cloud: str | None = None) -> str:
    """Keep cloud ``cloud``'s secret for keyring user ``account``; ``"keyring"`` or ``"file:<path>"``."""
    return secret_store.save_secret(account, secret, _service(cloud))


def load_secret(account: str, cloud: str | None = None) -> tuple[str | None, str | None]:
    """``(secret, where)`` of cloud ``cloud`` for keyring user ``account``."""
    return secret_store.load_secret(account, _service(cloud))


def delete_secret(account: str, cloud: str | None = None) -> None:
    secret_store.delete_secret(account, _service(cloud))


def _user(stored: dict) -> str:
    return f"{stored.get('account') or stored.get('appId')}@{str(stored.get('baseUrl') or '').rstrip('/')}"


def connect(store: Store, config: CloudConfig) -> str:
    """Save the connection in the store and its secret outside it; returns where the
    secret went (``"keyring"``, ``"file:<path>"``, or ``"none"`` without a secret)."""
    registry.get(config.cloud)  # KeyError for an unknown cloud
    where = save_secret(config.secret_user, config.secret, config.cloud) if config.secret else "none"
    setting = {
        **config.to_setting(),
        "secretStore": where.split(":")[0],
        "secretPath": where.split(":", 1)[1] if where.startswith("file:") else None,
    }
    with store.transaction():
        store.set_setting(SETTING_KEY, setting)
        store.set_setting(
            CONNECTIONS_KEY, {**(store.setting(CONNECTIONS_KEY, None) or {}), config.cloud: setting}
        )
    return where


def disconnect(store: Store) -> bool:
    """Forget the branch's connection and its secret; False when none was stored."""
    stored = store.setting(SETTING_KEY, None)
    if not stored:
        return False
    delete_secret(_user(stored), stored.get("cloud"))
    store.set_setting(SETTING_KEY, None)
    return True


def public_settings(store: Store, connected: bool = False) -> dict:
    """``GET /sync/settings``: the stored connection without its secret — ``{cloud, baseUrl,
    account, appId (= account), auth, extra, secretStore ("keyring" | "file" | None),
    secretPath (the file, or None), hasSecret, connected, clouds}`` (``connected``: a sync
    engine runs now; ``clouds``: every registered connector's fields and capabilities,
    :func:`app.sync.registry.describe`)."""
    stored = store.setting(SETTING_KEY, None) or {}
    account = stored.get("account") or stored.get("appId")
    has_secret, where = False, None
    if account and stored.get("baseUrl"):
        secret, where = load_secret(_user(stored), stored.get("cloud"))
        has_secret = bool(secret)
    kind = where.split(":")[0] if where else stored.get("secretStore")
    path = where.split(":", 1)[1] if where and where.startswith("file:") else None
    return {
        "cloud": stored.get("cloud"),
        "baseUrl": stored.get("baseUrl"),
        "account": account,
        "appId": account,
        "auth": stored.get("auth"),
        "extra": stored.get("extra") or {},
        "secretStore": kind if kind in ("keyring", "file") else None,
        "secretPath": path,
        "hasSecret": has_secret,
        "connected": connected,
        "clouds": registry.describe(),
    }


def load_config(
    store: Store,
    *,
    cloud: str | None = None,
    base_url: str | None = None,
    account: str | None = None,
    app_id: str | None = None,
    secret: str | None = None,
    extra: dict | None = None,
) -> CloudConfig | None:
    """The branch's connection: arguments win over the stored setting (``app_id`` is
    a cloud's own spelling of ``account``); the secret comes from ``secret``, else the
    environment variable :data:`ENV_KEY`, else keyring/file. None when no base URL and
    account are known. Raises KeyError for an unknown ``cloud``."""
    stored = store.setting(SETTING_KEY, None) or {}
    cloud = cloud or stored.get("cloud") or registry.default_cloud()
    info = registry.get(cloud)
    if (
        stored.get("cloud") and stored["cloud"] != cloud
    ):  # another cloud's details, if it was connected before
        stored = (store.setting(CONNECTIONS_KEY, None) or {}).get(cloud) or {}
    base_url = base_url or stored.get("baseUrl") or info.default_url
    account = account or app_id or stored.get("account") or stored.get("appId")
    if not (base_url and account):
        return None
    same = stored.get("baseUrl") == base_url.rstrip("/")
    config = CloudConfig(
        base_url.rstrip("/"),
        account,
        auth=stored.get("auth", info.auth_kinds[0][0]) if same else info.auth_kinds[0][0],
        cloud=cloud,
        extra={**(stored.get("extra") or {}), **(extra or {})},
    )
    config.secret = secret or os.environ.get(ENV_KEY) or load_secret(config.secret_user, cloud)[0]
    if secret or os.environ.get(ENV_KEY):
        config.auth = info.auth_kinds[0][0]
    return config
