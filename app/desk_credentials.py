"""What a LAN desk keeps after pairing with a branch server (docs/architecture.md).

The bearer token is a secret: it goes to the OS keyring (service :data:`SERVICE`, user =
the server's URL), or — on a machine without a keyring service — to the same 0600
``secrets.json`` in the per-user config directory (:mod:`app.secret_store`).
The rest (certificate fingerprint to pin, desk id, name, role, resources) is not secret and
goes to ``desks.json`` beside it (also 0600: it says which servers this machine trusts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.domain.model import DeskRole
from app.secret_store import (
    delete_secret,
    load_secret,
    read_private_json,
    save_secret,
    secrets_file,
    write_private_json,
)

SERVICE = "istiqbal-desk"


@dataclass
class DeskCredentials:
    url: str
    token: str
    fingerprint: str
    desk_id: str | None = None
    desk_name: str | None = None
    role: str = DeskRole.RECEPTION
    resource_ids: list[str] = field(default_factory=list)
    where: str | None = None  # "keyring" or "file:<path>"


def normalize_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def desks_file() -> Path:
    return secrets_file().with_name("desks.json")


def save(url: str, paired: dict) -> DeskCredentials:
    """Keep what :func:`app.client.pair` returned for ``url``; returns the credentials with
    ``where`` the token went."""
    key = normalize_url(url)
    where = save_secret(key, paired["token"], service=SERVICE)
    data = read_private_json(desks_file())
    data[key] = {
        "fingerprint": paired["fingerprint"],
        "deskId": paired.get("deskId"),
        "deskName": paired.get("deskName"),
        "role": paired.get("role") or DeskRole.RECEPTION,
        "resourceIds": list(paired.get("resourceIds") or []),
    }
    write_private_json(desks_file(), data)
    return DeskCredentials(
        url,
        paired["token"],
        paired["fingerprint"],
        paired.get("deskId"),
        paired.get("deskName"),
        paired.get("role") or DeskRole.RECEPTION,
        list(paired.get("resourceIds") or []),
        where,
    )


def load(url: str) -> DeskCredentials | None:
    """The stored credentials for ``url``, or None (never paired, or the token is gone)."""
    key = normalize_url(url)
    info = read_private_json(desks_file()).get(key)
    token, where = load_secret(key, service=SERVICE)
    if not info or not token:
        return None
    return DeskCredentials(
        url,
        token,
        info["fingerprint"],
        info.get("deskId"),
        info.get("deskName"),
        info.get("role") or DeskRole.RECEPTION,
        list(info.get("resourceIds") or []),
        where,
    )


def forget(url: str) -> None:
    key = normalize_url(url)
    delete_secret(key, service=SERVICE)
    data = read_private_json(desks_file())
    if data.pop(key, None) is not None:
        write_private_json(desks_file(), data)
