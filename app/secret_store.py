"""Secrets kept outside any database: the OS keyring, or — on a
machine without a keyring service (``keyring`` raises ``NoKeyringError``) — ``secrets.json``
in the per-user config directory (:func:`app.user_dirs.config_dir`), readable by the user only (0600).

:func:`save_secret` and :func:`load_secret` report which was used: ``"keyring"`` or
``"file:<path>"``. ``service`` names the keyring service: a cloud's secret
(:func:`cloud_service`, :mod:`app.sync.connection`) or a LAN desk's token
(:mod:`app.desk_credentials`). No Qt, no store: desks and the server both use it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from app import private_files, user_dirs

log = logging.getLogger(__name__)
#: keyring services of cloud secrets are ``istiqbal-<cloud name>`` (:func:`cloud_service`)
CLOUD_SERVICE_PREFIX = "istiqbal-"
#: services whose entries in the secrets file are the bare account (the first cloud's,
#: as they always were; :mod:`app.sync.connection` adds it); others are ``<service>|<account>``
BARE_FILE_SERVICES: set[str] = set()


def cloud_service(cloud: str) -> str:
    """The keyring service of cloud ``cloud``'s secret."""
    return CLOUD_SERVICE_PREFIX + cloud


def secrets_file() -> Path:
    """``secrets.json`` in the per-user config directory (:func:`app.user_dirs.config_dir`)."""
    return user_dirs.config_dir() / "secrets.json"


def read_private_json(path: Path) -> dict:
    """The JSON object in ``path`` ({} when missing or unreadable); a file or folder left
    readable by others by an older version is made private first."""
    if path.exists():
        private_files.private_dir(path.parent)
        private_files.private_file(path)
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def write_private_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` whole, 0600 in a 0700 folder."""
    private_files.private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _file_key(service: str, account: str) -> str:
    """The secrets file's key: the bare account for the first cloud's secret (as it always was),
    ``<service>|<account>`` for other services (e.g. desk tokens)."""
    return account if service in BARE_FILE_SERVICES else f"{service}|{account}"


def save_secret(account: str, secret: str, service: str) -> str:
    """Keep ``secret`` for ``account``; returns ``"keyring"`` or ``"file:<path>"``."""
    try:
        keyring.set_password(service, account, secret)
        return "keyring"
    except (NoKeyringError, KeyringError, RuntimeError) as exc:
        log.info("no usable keyring (%s): keeping the secret in a 0600 file", exc)
    path = secrets_file()
    data = read_private_json(path)
    data[_file_key(service, account)] = secret
    write_private_json(path, data)
    return f"file:{path}"


def load_secret(account: str, service: str) -> tuple[str | None, str | None]:
    """``(secret, where)`` for ``account``: where is ``"keyring"``, ``"file:<path>"`` or None."""
    try:
        secret = keyring.get_password(service, account)
        if secret:
            return secret, "keyring"
    except (NoKeyringError, KeyringError, RuntimeError):
        pass
    path = secrets_file()
    secret = read_private_json(path).get(_file_key(service, account))
    return (secret, f"file:{path}") if secret else (None, None)


def delete_secret(account: str, service: str) -> None:
    try:
        keyring.delete_password(service, account)
    except (NoKeyringError, KeyringError, PasswordDeleteError, RuntimeError):
        pass
    path = secrets_file()
    data = read_private_json(path)
    if data.pop(_file_key(service, account), None) is not None:
        write_private_json(path, data)
