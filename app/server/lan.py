"""Serving desks on the LAN: the HTTPS listener beside the loopback one.

With a non-loopback ``--host`` (``0.0.0.0`` or a LAN address) the server keeps its plain
HTTP listener on 127.0.0.1 (any free port; the embedded desk, no token) and adds an HTTPS
listener on ``host:port`` with its own certificate (:mod:`app.server.tls`), where every
request needs a desk token (:mod:`app.server.security`).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from app.server.runner import Listener
from app.server.tls import ensure_certificate


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback and host in ("127.0.0.1", "::1")
    except ValueError:
        return False


def lan_listener(api, data_dir: str | Path, host: str, port: int = 0) -> Listener | None:
    """The HTTPS :class:`~app.server.runner.Listener` for ``host:port`` (None for a loopback
    host), making the certificate on first use and telling the app's desk registry its
    fingerprint (pairing answers with it)."""
    if is_loopback(host):
        return None
    names = [] if host in ("0.0.0.0", "::") else [host]
    cert, key, fingerprint = ensure_certificate(data_dir, names)
    api.state.desks.fingerprint = fingerprint
    return Listener(host, port, str(cert), str(key))
