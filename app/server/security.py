"""The gate in front of every request, and the roles routes declare.

:class:`DeskGuard` (pure ASGI middleware, so event streams pass through) checks, in order
(after Anki's ``mediasrv``: a token and a Host/Origin allow-list):

1. ``Host``, parsed strictly (``name[:port]`` or ``[v6][:port]``, port 1–65535, nothing
   else): over plain loopback HTTP only ``127.0.0.1``, ``localhost`` and ``[::1]``; over the
   LAN (HTTPS) also IP literals, this machine's name, ``<name>.local`` and configured
   names. Else 403 ``HOST-NOT-ALLOWED`` (against DNS rebinding: ``localhost:80@evil.example``
   is refused).
2. ``Origin`` / ``Sec-Fetch-Site``: a request a browser sends from another page (an
   ``Origin`` that is not this server's own ``scheme://host[:port]``, or ``Sec-Fetch-Site``
   other than ``same-origin``/``none``) → 403 ``ORIGIN-NOT-ALLOWED``, before any token or
   body is looked at (a web page can send a ``text/plain`` POST without a preflight).
3. Body size: more than ``max_body`` bytes (64 KiB) → 413 ``TOO-LARGE``, before the app
   reads anything; a JSON body (no ``Content-Type``, ``application/json`` or ``+json``) must
   be strict JSON (no ``NaN``/``Infinity``, integers of at most 4,300 digits) → else 400
   ``VALIDATION``.
4. Who: ``Authorization: Bearer <token>`` names the desk — the server's own token (made per
   process, see :class:`app.server.desks.DeskRegistry`: handed in-process to the embedded
   desk, written to ``<data dir>/local-token`` by a headless server) is the manager desk; a
   paired desk's token is that desk. A token that names no desk → 401 ``AUTH-REQUIRED``.
   Without a token the request goes on with no desk: only routes declared
   :attr:`Role.NONE` answer it, every other route gives 401 ``AUTH-REQUIRED``.

Roles are declared on each route, once, with ``dependencies=[require(Role.X)]``
(:func:`require`; :func:`declared_role` reads the declaration back): insufficient → 403
``FORBIDDEN``; then a query parameter the route does not know, or one given twice → 400
``VALIDATION``. A route without a declaration refuses everyone (:func:`undeclared_refused`,
installed app-wide). Finer checks (a provider's own resources) are the handlers'
(:mod:`app.server.api`).

The authenticated :class:`~app.server.desks.Desk` (or None) is left in ``request.state.desk``.
:class:`ErrorEnvelope` (outermost) answers any unexpected error with the JSON error envelope
(500 ``INTERNAL``) and a log line, keeping the connection open.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import logging
import re
import socket

from fastapi import Depends, Request

from app.domain.errors import BookingError
from app.domain.model import DeskRole
from app.server.desks import DeskRegistry

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_HOST = re.compile(
    r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9](?:[a-z0-9.-]{0,252}[a-z0-9])?))"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_SAME_SITE_OK = frozenset({"same-origin", "none"})
_DEFAULT_PORT = {"http": 80, "https": 443}


class Role(enum.IntEnum):
    """Who may call a route, least first: ``NONE`` (no desk needed), ``PROVIDER`` (a doctor's
    or room's desk), ``RECEPTION`` (all desk work), ``MANAGER`` (also pairing, settings,
    backups, working hours). See :mod:`app.server.desks` for the desks' roles."""

    NONE = 0
    PROVIDER = 1
    RECEPTION = 2
    MANAGER = 3


#: the route role each desk role reaches (:class:`~app.domain.model.DeskRole`)
RANK = {DeskRole.PROVIDER: Role.PROVIDER, DeskRole.RECEPTION: Role.RECEPTION, DeskRole.MANAGER: Role.MANAGER}


def _make_check(role: Role):
    async def check(request: Request) -> None:
        if role is Role.NONE:
            return _known_query_only(request)
        desk = getattr(request.state, "desk", None)
        if desk is None:
            raise BookingError("AUTH-REQUIRED", "a valid desk token is required", 401)
        if RANK[desk.role] < role:
            raise BookingError("FORBIDDEN", "this desk's role may not do this", 403)
        _known_query_only(request)

    check.role = role  # type: ignore[attr-defined]  # read by the route table's role check
    check.__name__ = f"require_{role.name.lower()}"
    return check


_CHECKS = {role: _make_check(role) for role in Role}


def require(role: Role):
    """The dependency declaring (and enforcing) ``role`` for a route:
    ``@api.get(path, dependencies=[require(Role.RECEPTION)])``. Raises 401 ``AUTH-REQUIRED``
    without a desk, 403 ``FORBIDDEN`` for a lesser role."""
    return Depends(_CHECKS[role])


def declared_role(route) -> Role | None:
    """The role a FastAPI route declared with :func:`require`, or None."""
    dependant = getattr(route, "dependant", None)
    for dep in getattr(dependant, "dependencies", ()):
        role = getattr(dep.call, "role", None)
        if isinstance(role, Role):
            return role
    return None


def route_roles(api) -> list[tuple[str, frozenset[str], Role | None]]:
    """Every HTTP route of ``api``, also those of included routers: ``(path, methods,
    declared role or None)``."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI keeps included routes flat in api.routes
        contexts = [(r, getattr(r, "path", None)) for r in api.routes]
    else:
        contexts = [(c.original_route, c.path) for c in iter_route_contexts(api.routes)]
    return [
        (path, frozenset(route.methods), declared_role(route))
        for route, path in contexts
        if path and getattr(route, "methods", None)
    ]


def _known_query_only(request: Request) -> None:
    """A query parameter the route does not know is a 400 (a misspelt filter is never
    silently ignored). Checked once the desk may call the route."""
    route = request.scope.get("route")
    if route is None or not request.query_params:
        return
    unknown = sorted(set(request.query_params) - _query_names(route))
    if unknown:
        raise BookingError(
            "VALIDATION",
            f"unknown query parameter(s): {', '.join(unknown)[:200]}",
            400,
            field=unknown[0][:100],
        )
    repeated = sorted(k for k in set(request.query_params) if len(request.query_params.getlist(k)) > 1)
    if repeated:  # every parameter here takes one value; FastAPI would silently keep the last
        raise BookingError(
            "VALIDATION",
            f"query parameter(s) given more than once: {', '.join(repeated)[:200]}",
            400,
            field=repeated[0][:100],
        )


def _query_names(route) -> frozenset[str]:
    names = getattr(route, "_istiqbal_query_names", None)
    if names is None:
        found, todo = set(), [route.dependant]
        while todo:
            dependant = todo.pop()
            found.update(p.alias for p in dependant.query_params)
            todo.extend(dependant.dependencies)
        names = frozenset(found)
        route._istiqbal_query_names = names
    return names


async def undeclared_refused(request: Request) -> None:
    """App-wide dependency: a route that declares no role answers nobody (fail closed)."""
    route = request.scope.get("route")
    if route is None:
        return
    if declared_role(route) is None:
        log.error("route %s declares no role; refused", getattr(route, "path", "?"))
        raise BookingError("FORBIDDEN", "this route declares no role", 403)


def _is_loopback(host: str | None) -> bool:
    try:
        return bool(host) and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_host(header: str) -> tuple[str, int | None] | None:
    """``host[:port]`` or ``[v6][:port]`` → ``(bare lower-case host, port or None)``, or None
    when the header is anything else (user info, a path, a bad port, an empty name)."""
    match = _HOST.fullmatch(header.strip().lower())
    if match is None:
        return None
    port = match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    host = match["v6"] or match["name"]
    if match["v6"]:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return host, int(port) if port else None


def lan_names(extra: list[str] | None = None) -> frozenset[str]:
    """Names a LAN desk may use for this server (IP literals are always allowed)."""
    name = socket.gethostname().lower()
    return frozenset({*LOOPBACK_NAMES, name, f"{name}.local", *(n.lower() for n in extra or [])})


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


def strict_json_error(body: bytes) -> str | None:
    """Why ``body`` is not strict JSON (RFC 8259: no NaN/Infinity), or None when it is."""
    try:
        json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        return "the JSON body is nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"the body is not valid JSON: {str(exc)[:120]}"
    return None


def _is_json(content_type: str) -> bool:
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = kind.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class DeskGuard:
    """``DeskGuard(app, registry=..., names=..., max_body=...)`` — see the module docstring."""

    def __init__(
        self, app, registry: DeskRegistry, names: frozenset[str] | None = None, max_body: int = MAX_BODY
    ):
        self.app, self.registry, self.max_body = app, registry, max_body
        self.names = names or lan_names()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = (scope.get("client") or ("", 0))[0]
        scheme = scope.get("scheme", "http")
        local = scheme == "http" and _is_loopback(client)
        host = parse_host(headers.get("host", ""))
        if host is None or not self._host_ok(host[0], local):
            return await _deny(send, 403, "HOST-NOT-ALLOWED", "this host name is not served here")
        if not self._origin_ok(headers, scheme, host):
            return await _deny(send, 403, "ORIGIN-NOT-ALLOWED", "requests from other web pages are refused")
        length = headers.get("content-length", "")
        if length and (not (length.isascii() and length.isdigit()) or int(length) > self.max_body):
            return await _deny(
                send, 413, "TOO-LARGE", f"the request body is larger than {self.max_body} bytes"
            )
        auth = headers.get("authorization", "")
        desk = None
        if auth[:7].lower() == "bearer ":
            desk = self.registry.authenticate(auth[7:].strip())
            if desk is None:
                return await _deny(send, 401, "AUTH-REQUIRED", "a valid desk token is required")
        elif auth:
            return await _deny(send, 401, "AUTH-REQUIRED", "a valid desk token is required")
        scope.setdefault("state", {})["desk"] = desk
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            body = await self._read_limited(receive)
            if body is None:
                return await _deny(
                    send, 413, "TOO-LARGE", f"the request body is larger than {self.max_body} bytes"
                )
            if body.strip() and _is_json(headers.get("content-type", "")):
                problem = strict_json_error(body)
                if problem:
                    return await _deny(send, 400, "VALIDATION", problem)
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

    @staticmethod
    def _origin_ok(headers: dict, scheme: str, host: tuple[str, int | None]) -> bool:
        site = headers.get("sec-fetch-site")
        if site is not None and site.strip().lower() not in _SAME_SITE_OK:
            return False
        origin = headers.get("origin")
        if origin is None:
            return True
        o_scheme, sep, rest = origin.strip().lower().partition("://")
        if not sep or o_scheme != scheme or "/" in rest:
            return False
        parsed = parse_host(rest)
        if parsed is None:
            return False
        default = _DEFAULT_PORT.get(scheme)
        return (parsed[0], parsed[1] or default) == (host[0], host[1] or default)

    async def _read_limited(self, receive) -> bytes | None:
        """A (chunked) body read whole, or None once it passes ``max_body``."""
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


class ErrorEnvelope:
    """Outermost middleware: an exception nothing else handled becomes a 500 with the JSON
    error envelope ``{"error": {"code": "INTERNAL", "message"}}`` and a log line. It is not
    re-raised, so the server keeps the keep-alive connection (a desk's next request works)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _deny(
                send, 500, "INTERNAL", "the server could not answer this request; the error was logged"
            )


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
