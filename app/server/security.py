"""The gate in front of every request (pure ASGI middleware, so event streams pass through).

In order (``shared/STYLE.md``: Anki ``mediasrv``'s token and Host allow-list):

1. Host allow-list against DNS rebinding: over plain loopback HTTP only ``127.0.0.1``,
   ``localhost`` and ``[::1]``; over the LAN (HTTPS) also IP literals, this machine's name
   and ``<name>.local`` and configured names. Else 403 ``HOST-NOT-ALLOWED``.
2. Body size: more than ``max_body`` bytes (64 KiB) → 413 ``TOO-LARGE``, before the app
   reads anything.
3. Who: a request that arrived over plain HTTP from a loopback address is the server's own
   desk (manager, no token, like Anki's mediasrv on 127.0.0.1). Anything else needs
   ``Authorization: Bearer <desk token>`` → 401 ``AUTH-REQUIRED`` (the answer says nothing
   more); only ``POST /desks/pair`` is open (it needs a pairing code).
4. Role: :func:`required_role` per method and path → 403 ``FORBIDDEN``. Finer checks (a
   provider's own resources) are the handlers' (:mod:`app.server.api`).

The authenticated :class:`~app.server.desks.Desk` is left in ``request.state.desk``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket

from app.server import payment_routes
from app.server.desks import LOCAL_DESK, DeskRegistry

MAX_BODY = 64 * 1024
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
OPEN_PATHS = frozenset({("POST", "/desks/pair")})
#: (method or "*", path regex) → least role; first match wins; default "reception".
_PROVIDER_OK = [
    ("GET", r"/(readyz|branch|events|openapi\.json|docs|redoc)"),
    ("GET", r"/management/(resources|types)(/.*)?"),
    ("GET", r"/management/bookings(/unassigned|/[^/]+|/[^/]+/history)?"),
    ("POST", r"/management/bookings/(assign|checkin|start|end|noshow)(/undo)?"),
]
_MANAGER_ONLY = [("*", r"/desks(/.*)?"), ("PUT", r"/management/resources/[^/]+/timeRules"),
                 *payment_routes.MANAGER_ONLY]
RANK = {"provider": 0, "reception": 1, "manager": 2}


def required_role(method: str, path: str) -> str:
    """The least role allowed to call ``method path``."""
    for m, pattern in _MANAGER_ONLY:
        if m in ("*", method) and re.fullmatch(pattern, path):
            return "manager"
    for m, pattern in _PROVIDER_OK:
        if m == method and re.fullmatch(pattern, path):
            return "provider"
    return "reception"


def _is_loopback(host: str | None) -> bool:
    try:
        return bool(host) and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    """``host[:port]`` or ``[v6]:port`` → the bare lower-case host."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def lan_names(extra: list[str] | None = None) -> frozenset[str]:
    """Names a LAN desk may use for this server (IP literals are always allowed)."""
    name = socket.gethostname().lower()
    return frozenset({*LOOPBACK_NAMES, name, f"{name}.local", *(n.lower() for n in extra or [])})


class DeskGuard:
    """``DeskGuard(app, registry=..., names=..., max_body=...)`` — see the module docstring."""

    def __init__(self, app, registry: DeskRegistry, names: frozenset[str] | None = None,
                 max_body: int = MAX_BODY):
        self.app, self.registry, self.max_body = app, registry, max_body
        self.names = names or lan_names()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = (scope.get("client") or ("", 0))[0]
        local = scope.get("scheme") == "http" and _is_loopback(client)
        host = _host_name(headers.get("host", ""))
        if not self._host_ok(host, local):
            return await _deny(send, 403, "HOST-NOT-ALLOWED", "this host name is not served here")
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self.max_body):
            return await _deny(send, 413, "TOO-LARGE", f"the request body is larger than {self.max_body} bytes")
        method, path = scope["method"], scope["path"]
        auth = headers.get("authorization", "")
        desk = None
        if auth.lower().startswith("bearer "):
            desk = self.registry.authenticate(auth[7:].strip())
            if desk is None:
                return await _deny(send, 401, "AUTH-REQUIRED", "a valid desk token is required")
        elif local:
            desk = LOCAL_DESK
        elif (method, path) not in OPEN_PATHS:
            return await _deny(send, 401, "AUTH-REQUIRED", "a valid desk token is required")
        if desk is not None and RANK[desk.role] < RANK[required_role(method, path)]:
            return await _deny(send, 403, "FORBIDDEN", "this desk's role may not do this")
        scope.setdefault("state", {})["desk"] = desk
        if method in ("POST", "PUT", "PATCH", "DELETE") and not length:
            body = await self._read_limited(receive)
            if body is None:
                return await _deny(send, 413, "TOO-LARGE", f"the request body is larger than {self.max_body} bytes")
            receive = _replay(body, receive)
        return await self.app(scope, receive, send)

    def _host_ok(self, host: str, local: bool) -> bool:
        if local:
            return host in LOOPBACK_NAMES
        if host in self.names:
            return True
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return False

    async def _read_limited(self, receive) -> bytes | None:
        """A chunked body read whole, or None once it passes ``max_body``."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return None
            if not message.get("more_body"):
                return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def again():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _deny(send, status: int, code: str, message: str) -> None:
    payload = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
