"""HTTP face of the simulated DigitalBooker cloud: the route table of
``docs/clouds/digitalbooker.md`` ("The inferred names (one table)"; one place here too)
over a :class:`DigitalBookerCloud`, and the server runner.

Transport (contract "Transport"):

* Paths ``{base}/{lang}/admin/v1/...`` and ``{base}/{lang}/public/v1/...`` with ``base`` =
  ``/api``; ``lang`` is a two-letter code choosing the localized strings (fallback: any
  defined one, API reference "Localization"). Any other ``lang`` segment is a 404.
* Admin API: HTTP Basic with the API key's id and password, else 401; a key without the
  call's privilege gets 403. The Public API needs no authentication (API reference "Authentication").
* Lists ``{"object": "list", "data", "has_more", "total_count"}`` with ``limit`` (1–100,
  default 100) and ``cursor`` (an offset, default 0).
* Errors ``{"error": {"code", "message", "errors": [{"param", "message"}]}}``: 400 invalid
  arguments, 401, 403, 404 unknown id, 409 slot not free, 429 and 5xx from the faults.

Admin interface for tests (``/_sim/...``, not part of DigitalBooker; never faulted; header
``X-Sim-Admin: <admin key>``): ``GET /_sim/health``; ``GET|POST|DELETE /_sim/faults`` (rules
as in :mod:`.faults`); ``POST /_sim/clock`` ``{"shift_seconds"}``; ``POST /_sim/keys``
``{"id"?, "password"?, "privileges"?}`` and ``DELETE /_sim/keys/{id}``; cloud-side changes:
``POST /_sim/bookings`` ``{"location_id", "service_id", "date", "start_time", "worker_id"?,
"user_id"?, "campaign_code"?, "confirmed"?}`` (an online booking, interface 2; with
``"by": "staff"`` and ``"user_id"``, ``"room_id"``? a booking made in the admin calendar,
interface 1, work hours not checked),
``POST /_sim/bookings/{id}/move`` ``{"date", "start_time", "resources"?}`` (same id),
``POST /_sim/bookings/{id}/assign`` ``{"worker_id"}``, ``POST /_sim/bookings/{id}/confirm``
``{"confirmed"}``, ``POST /_sim/bookings/{id}/payments`` ``{"type", "amount", "tax"}`` (any
payment type), ``DELETE /_sim/bookings/{id}`` (deleted in the calendar).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import timedelta

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import serving
from ..serving import serve_in_thread
from .faults import FaultMiddleware
from .model import (
    MAX_LIMIT,
    DigitalBookerCloud,
    DigitalBookerError,
    envelope,
    invalid,
    not_found,
    parse_bool,
    parse_date,
    parse_int,
    parse_int_list,
    parse_time,
)

log = logging.getLogger(__name__)
BASE = "/api"
ADMIN = BASE + "/{lang}/admin/v1"
PUBLIC = BASE + "/{lang}/public/v1"
LANG = re.compile(r"^[a-z]{2}$")
ROUTES: list[tuple[str, str, str | None, Callable]] = []  # method, path, privilege (None: public), handler
NO_CONTENT = object()


def route(method: str, path: str, privilege: str | None):
    """Register a handler; ``privilege`` is the key privilege it needs (``area:read`` /
    ``area:write``), None for the Public API."""

    def register(handler):
        ROUTES.append((method, path, privilege, handler))
        return handler

    return register


class Ctx:
    def __init__(self, cloud: DigitalBookerCloud, request: Request, body):
        self.cloud, self.request, self.body = cloud, request, body
        self.lang = request.path_params["lang"]

    def id(self, name: str = "id") -> int:
        return int(self.request.path_params[name])

    def params(self) -> dict:
        return dict(self.request.query_params)

    def object_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise invalid("body", "must be a JSON object")
        return self.body

    def paged(self, items: list) -> dict:
        """One page of ``items`` (API reference "Pagination"): ``limit`` 1–100 (default 100) from
        ``cursor`` (an offset, default 0)."""
        params = self.request.query_params
        limit = (
            parse_int(params["limit"], "limit", minimum=1, maximum=MAX_LIMIT)
            if params.get("limit")
            else MAX_LIMIT
        )
        cursor = parse_int(params["cursor"], "cursor", minimum=0) if params.get("cursor") else 0
        data = items[cursor : cursor + limit]
        return {
            "object": "list",
            "data": data,
            "has_more": cursor + len(data) < len(items),
            "total_count": len(items),
        }

    def flag(self, name: str) -> bool:
        value = self.request.query_params.get(name)
        return parse_bool(value, name) if value else False


def whole(items: list) -> dict:
    """A list reply for a method the API reference gives no paging arguments: all of it, ``has_more`` false."""
    return {"object": "list", "data": items, "has_more": False, "total_count": len(items)}


def _sorted(table: dict) -> list:
    return [table[k] for k in sorted(table)]


# ---- bookings (API reference "Bookings") ------------------------------------------------------------------
@route("GET", ADMIN + "/bookings", "bookings:read")
def bookings(ctx: Ctx):
    with ctx.cloud.lock:
        page = ctx.paged(ctx.cloud.list_bookings(ctx.params()))
        page["data"] = [ctx.cloud.booking_view(r, ctx.lang) for r in page["data"]]
        return page


@route("GET", ADMIN + "/bookings/deleted", "bookings:read")
def deleted(ctx: Ctx):
    return ctx.paged(ctx.cloud.list_deleted(ctx.params()))


@route("GET", ADMIN + "/bookings/{id:int}", "bookings:read")
def booking(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.booking_view(ctx.cloud.booking(ctx.id()), ctx.lang)


@route("POST", ADMIN + "/bookings/service", "bookings:write")
def create_service(ctx: Ctx):
    return ctx.cloud.create_service_booking(ctx.object_body(), lang=ctx.lang)


@route("POST", ADMIN + "/bookings/course", "bookings:write")
def create_course(ctx: Ctx):
    return ctx.cloud.create_course_booking(ctx.object_body(), lang=ctx.lang)


@route("POST", ADMIN + "/bookings/resource", "bookings:write")
def create_resource(ctx: Ctx):
    return ctx.cloud.create_resource_booking(ctx.object_body(), lang=ctx.lang)


@route("DELETE", ADMIN + "/bookings/{id:int}", "bookings:write")
def delete_booking(ctx: Ctx):
    return ctx.cloud.delete_booking(ctx.id())


@route("POST", ADMIN + "/bookings/{id:int}/confirm", "bookings:write")
def confirm(ctx: Ctx):
    return ctx.cloud.set_confirmed(ctx.id(), True, ctx.lang)


@route("POST", ADMIN + "/bookings/{id:int}/unconfirm", "bookings:write")
def unconfirm(ctx: Ctx):
    return ctx.cloud.set_confirmed(ctx.id(), False, ctx.lang)


# ---- payments (API reference "Payments") -------------------------------------------------------------------
@route("GET", ADMIN + "/bookings/{id:int}/payments", "payments:read")
def payments(ctx: Ctx):
    with ctx.cloud.lock:
        return whole([ctx.cloud.payment_view(p) for p in ctx.cloud.booking(ctx.id())["payments"]])


@route("GET", ADMIN + "/bookings/{id:int}/payments/{payment_id:int}", "payments:read")
def payment(ctx: Ctx):
    return ctx.cloud.payment(ctx.id(), ctx.id("payment_id"))


@route("POST", ADMIN + "/bookings/{id:int}/payments", "payments:write")
def add_payment(ctx: Ctx):
    return ctx.cloud.add_payment(ctx.id(), ctx.object_body())


# ---- users (API reference "Users") -------------------------------------------------------------------------
@route("GET", ADMIN + "/users", "users:read")
def users(ctx: Ctx):
    group = ctx.request.query_params.get("group_id")
    return ctx.paged(ctx.cloud.list_users(parse_int(group, "group_id") if group else None))


@route("GET", ADMIN + "/users/{id:int}", "users:read")
def user(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.user_view(ctx.cloud.find(ctx.cloud.users, ctx.id(), "user"))


@route("POST", ADMIN + "/users", "users:write")
def create_user(ctx: Ctx):
    return ctx.cloud.create_user(ctx.object_body())


@route("POST", ADMIN + "/users/{id:int}", "users:write")
def edit_user(ctx: Ctx):
    return ctx.cloud.edit_user(ctx.id(), ctx.object_body())


@route("DELETE", ADMIN + "/users/{id:int}", "users:write")
def delete_user(ctx: Ctx):
    return ctx.cloud.delete_user(ctx.id())


@route("GET", ADMIN + "/users/{id:int}/groups", "users:read")
def user_groups_of(ctx: Ctx):
    cloud = ctx.cloud
    with cloud.lock:
        cloud.find(cloud.users, ctx.id(), "user")
        groups = [g for g in _sorted(cloud.user_groups) if ctx.id() in g["members"]]
        return whole([cloud.category_view(g, ctx.lang, "user_group") for g in groups])


@route("GET", ADMIN + "/user_groups/{id:int}", "users:read")
def user_group(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.category_view(
            ctx.cloud.find(ctx.cloud.user_groups, ctx.id(), "user group"), ctx.lang, "user_group"
        )


# ---- locations, resources, workers (API reference "Locations", "Resources", "Workers") ----------------------
@route("GET", ADMIN + "/locations", "locations:read")
def locations(ctx: Ctx):
    external = ctx.flag("external_ids")
    with ctx.cloud.lock:
        return ctx.paged(
            [ctx.cloud.location_view(loc, ctx.lang, external) for loc in _sorted(ctx.cloud.locations)]
        )


@route("GET", ADMIN + "/locations/{id:int}", "locations:read")
def location(ctx: Ctx):
    external = ctx.flag("external_ids")
    with ctx.cloud.lock:
        return ctx.cloud.location_view(
            ctx.cloud.find(ctx.cloud.locations, ctx.id(), "location"), ctx.lang, external
        )


def _resource_type(ctx: Ctx) -> str | None:
    kind = ctx.request.query_params.get("type")
    if kind and kind not in ("resource", "worker"):
        raise invalid("type", "is resource or worker")
    return kind or None


@route("GET", ADMIN + "/resources", "resources:read")
def resources(ctx: Ctx):
    params = ctx.request.query_params
    kind = _resource_type(ctx)
    category = parse_int(params["category_id"], "category_id") if params.get("category_id") else None
    location_id = parse_int(params["location_id"], "location_id") if params.get("location_id") else None
    with ctx.cloud.lock:
        rows = [
            r
            for r in _sorted(ctx.cloud.resources)
            if (kind is None or r["type"] == kind)
            and (category is None or r["category_id"] == category)
            and (location_id is None or location_id in r["locations"])
        ]
        return ctx.paged([ctx.cloud.resource_view(r, ctx.lang) for r in rows])


@route("GET", ADMIN + "/resources/{id:int}", "resources:read")
def resource(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.resource_view(ctx.cloud.find(ctx.cloud.resources, ctx.id(), "resource"), ctx.lang)


@route("GET", ADMIN + "/resource_categories", "resources:read")
def resource_categories(ctx: Ctx):
    kind = _resource_type(ctx)
    with ctx.cloud.lock:
        rows = [c for c in _sorted(ctx.cloud.resource_categories) if kind is None or c["type"] == kind]
        return ctx.paged([ctx.cloud.resource_category_view(c, ctx.lang) for c in rows])


@route("GET", ADMIN + "/resource_categories/{id:int}", "resources:read")
def resource_category(ctx: Ctx):
    with ctx.cloud.lock:
        found = ctx.cloud.find(ctx.cloud.resource_categories, ctx.id(), "resource category")
        return ctx.cloud.resource_category_view(found, ctx.lang)


@route("GET", ADMIN + "/workers/{id:int}/work_hours", "workers:read")
def work_hours(ctx: Ctx):
    return whole(ctx.cloud.list_work_hours(ctx.id(), ctx.params()))


@route("GET", ADMIN + "/workers/{id:int}/locations/{location_id:int}/work_hours", "workers:read")
def work_hours_at(ctx: Ctx):
    return whole(ctx.cloud.list_work_hours(ctx.id(), ctx.params(), ctx.id("location_id")))


@route("POST", ADMIN + "/workers/{id:int}/work_hours", "workers:write")
def add_work_hours(ctx: Ctx):
    return whole(ctx.cloud.add_work_hours(ctx.id(), ctx.object_body()))


@route("DELETE", ADMIN + "/workers/{id:int}/work_hours", "workers:write")
def remove_work_hours(ctx: Ctx):
    params = ctx.request.query_params
    ctx.cloud.remove_work_hours(ctx.id(), params.get("location_id") or None, params.get("date") or None)
    return NO_CONTENT


# ---- services and class types (API reference "Services", "Class types") -------------------------------------
@route("GET", ADMIN + "/services", "services:read")
def services(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.paged([ctx.cloud.service_view(s, ctx.lang) for s in _sorted(ctx.cloud.services)])


@route("GET", ADMIN + "/services/{id:int}", "services:read")
def service(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.service_view(ctx.cloud.find(ctx.cloud.services, ctx.id(), "service"), ctx.lang)


@route("GET", ADMIN + "/service_categories", "services:read")
def service_categories(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.paged(
            [ctx.cloud.category_view(c, ctx.lang) for c in _sorted(ctx.cloud.service_categories)]
        )


@route("GET", ADMIN + "/service_categories/{id:int}", "services:read")
def service_category(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.category_view(
            ctx.cloud.find(ctx.cloud.service_categories, ctx.id(), "service category"), ctx.lang
        )


@route("GET", ADMIN + "/class_types", "classes:read")
def class_types(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.paged([ctx.cloud.class_type_view(t, ctx.lang) for t in _sorted(ctx.cloud.class_types)])


@route("GET", ADMIN + "/class_categories", "classes:read")
def class_categories(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.paged([ctx.cloud.category_view(c, ctx.lang) for c in _sorted(ctx.cloud.class_categories)])


# ---- Public API (no authentication) -----------------------------------------------------------------
@route("GET", PUBLIC + "/locations", None)
def public_locations(ctx: Ctx):
    with ctx.cloud.lock:
        rows = [loc for loc in _sorted(ctx.cloud.locations) if loc["public"]]
        return whole([ctx.cloud.public_location_view(loc, ctx.lang) for loc in rows])


@route("GET", PUBLIC + "/locations/{url_text}", None)
def public_location(ctx: Ctx):
    expand = [e for e in (ctx.request.query_params.get("expand") or "").split(",") if e]
    if any(e != "views" for e in expand):
        raise invalid("expand", "allowed values: views")
    with ctx.cloud.lock:
        location = next(
            (
                loc
                for loc in ctx.cloud.locations.values()
                if loc["url_text"] == ctx.request.path_params["url_text"] and loc["public"]
            ),
            None,
        )
        if location is None:
            raise not_found("location", ctx.request.path_params["url_text"])
        return ctx.cloud.public_location_view(location, ctx.lang, "views" in expand)


def _view(ctx: Ctx):
    return ctx.cloud.public_view(ctx.request.path_params["url_text"], ctx.request.path_params["view"])


@route("GET", PUBLIC + "/locations/{url_text}/views/{view}", None)
def public_view(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.view_view(_view(ctx)[1], ctx.lang)


@route("GET", PUBLIC + "/locations/{url_text}/views/{view}/services", None)
def public_services(ctx: Ctx):
    """Service categories with their services (API reference Public API "List service objects":
    "Returns list of service category objects")."""
    cloud = ctx.cloud
    with cloud.lock:
        location, _ = _view(ctx)
        offered = cloud.view_services(location)
        out = []
        for category in _sorted(cloud.service_categories):
            mine = [
                cloud.public_service_view(s, ctx.lang) for s in offered if s.category_id == category["id"]
            ]
            if mine:
                out.append({**cloud.category_view(category, ctx.lang, "service_category"), "services": mine})
        return whole(out)


@route("GET", PUBLIC + "/locations/{url_text}/views/{view}/services/{service_id}/alternatives", None)
def public_alternatives(ctx: Ctx):
    with ctx.cloud.lock:
        location, _ = _view(ctx)
        ctx.cloud.public_service(location, ctx.request.path_params["service_id"])
        parse_int_list(ctx.request.query_params.get("extra_services"), "extra_services")
        return whole([])  # no simulated service has alternatives (NOTES.md)


@route("GET", PUBLIC + "/locations/{url_text}/views/{view}/services/{service_id}/resources", None)
def public_service_resources(ctx: Ctx):
    cloud = ctx.cloud
    with cloud.lock:
        location, _ = _view(ctx)
        found = cloud.public_service(location, ctx.request.path_params["service_id"])
        return whole(
            [
                {
                    "object": "resource",
                    "id": w["id"],
                    "type": w["type"],
                    "name": cloud.resource_view(w, ctx.lang)["name"],
                }
                for w in cloud.service_workers(location, found)
            ]
        )


@route("GET", PUBLIC + "/locations/{url_text}/views/{view}/times", None)
def public_times(ctx: Ctx):
    with ctx.cloud.lock:
        location, view = _view(ctx)
        if not ctx.request.query_params.get("service_id"):
            raise invalid("service_id", "is required")
        found = ctx.cloud.available_times(location, view, ctx.params())
        page = whole(found["data"])
        if "next_date" in found:
            page["next_date"] = found["next_date"]
        return page


# ---- assembly ---------------------------------------------------------------------------------------
def _basic(request: Request) -> tuple[str | None, str | None]:
    scheme, _, encoded = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return (user, password) if sep else (None, None)


def _endpoint(cloud: DigitalBookerCloud, privilege: str | None, handler: Callable):
    async def endpoint(request: Request):
        try:
            if not LANG.match(request.path_params.get("lang", "")):
                raise DigitalBookerError(404, "not_found", "unknown language identifier in the URL")
            if privilege is not None:
                key = cloud.authenticate(*_basic(request))
                if not key.allows(privilege):
                    raise DigitalBookerError(403, "forbidden", f"the API key lacks the privilege {privilege}")
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise invalid("body", "is not JSON") from exc
            result = handler(Ctx(cloud, request, body))
        except DigitalBookerError as exc:
            headers = {"WWW-Authenticate": 'Basic realm="DigitalBooker"'} if exc.status == 401 else None
            return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
        except Exception:
            log.exception("simulated DigitalBooker failed on %s %s", request.method, request.url.path)
            return JSONResponse(envelope("internal_error", "internal error"), status_code=500)
        return Response(status_code=204) if result is NO_CONTENT else JSONResponse(result)

    return endpoint


def _admin_routes(cloud: DigitalBookerCloud) -> list[Route]:
    def admin(handler):
        async def endpoint(request: Request):
            if request.headers.get("x-sim-admin") != cloud.admin_key:
                return JSONResponse(envelope("unauthorized", "X-Sim-Admin key required"), status_code=401)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
                ident = request.path_params.get("id")
                result = handler(request, body, int(ident) if ident and ident.isdigit() else ident)
            except DigitalBookerError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (TypeError, ValueError, KeyError, StopIteration) as exc:
                return JSONResponse(envelope("invalid_argument", str(exc)), status_code=400)
            return Response(status_code=204) if result is NO_CONTENT else JSONResponse(result)

        return endpoint

    def faults(request, body, _):
        if request.method == "POST":
            for spec in body.get("faults") or [body]:
                spec = dict(spec)
                kind = spec.pop("kind", None)
                cloud.faults.clear() if kind == "clear" else cloud.faults.add(kind, **spec)
        elif request.method == "DELETE":
            cloud.faults.clear()
        return {"faults": cloud.faults.rules()}

    def clock(request, body, _):
        cloud.clock.shift(timedelta(seconds=float(body.get("shift_seconds") or 0)))
        return {"now": cloud.datetime_text(cloud.clock.now()), "now_utc": cloud.clock.now().isoformat()}

    def health(request, body, _):
        with cloud.lock:
            return {
                "ok": True,
                "locations": sorted(cloud.locations),
                "bookings": len(cloud.bookings),
                "deleted": len(cloud.deleted),
                "now": cloud.datetime_text(cloud.clock.now()),
                "zone": cloud.zone.key,
            }

    def keys(request, body, ident):
        if request.method == "DELETE":
            cloud.delete_key(str(ident))
            return NO_CONTENT
        privileges = body.get("privileges")
        key = cloud.add_key(
            body.get("id"), body.get("password"), set(privileges) if privileges is not None else None
        )
        return {"id": key.id, "password": key.password, "privileges": sorted(key.privileges or []) or None}

    def online(request, body, _):
        if body.get("by") == "staff":
            return cloud.calendar_booking(
                int(body["location_id"]),
                int(body["service_id"]),
                parse_date(body["date"], "date"),
                parse_time(body["start_time"], "start_time"),
                user_id=int(body["user_id"]),
                worker_id=body.get("worker_id"),
                room_id=body.get("room_id"),
                confirmed=bool(body.get("confirmed", True)),
            )
        return cloud.online_booking(
            int(body["location_id"]),
            int(body["service_id"]),
            parse_date(body["date"], "date"),
            parse_time(body["start_time"], "start_time"),
            user_id=body.get("user_id"),
            worker_id=body.get("worker_id"),
            campaign_code=body.get("campaign_code"),
            confirmed=bool(body.get("confirmed")),
        )

    def move(request, body, ident):
        return cloud.calendar_move(
            ident,
            parse_date(body["date"], "date"),
            parse_time(body["start_time"], "start_time"),
            body.get("resources"),
        )

    def assign(request, body, ident):
        return cloud.calendar_assign(ident, int(body["worker_id"]))

    def confirm_(request, body, ident):
        return cloud.calendar_confirm(ident, bool(body.get("confirmed", True)))

    def pay(request, body, ident):
        return cloud.calendar_payment(
            ident, body.get("type") or "online", float(body["amount"]), float(body.get("tax") or 0)
        )

    def remove(request, body, ident):
        return cloud.calendar_delete(ident)

    return [
        Route("/_sim/health", admin(health), methods=["GET"]),
        Route("/_sim/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/clock", admin(clock), methods=["POST"]),
        Route("/_sim/keys", admin(keys), methods=["POST"]),
        Route("/_sim/keys/{id}", admin(keys), methods=["DELETE"]),
        Route("/_sim/bookings", admin(online), methods=["POST"]),
        Route("/_sim/bookings/{id}", admin(remove), methods=["DELETE"]),
        Route("/_sim/bookings/{id}/move", admin(move), methods=["POST"]),
        Route("/_sim/bookings/{id}/assign", admin(assign), methods=["POST"]),
        Route("/_sim/bookings/{id}/confirm", admin(confirm_), methods=["POST"]),
        Route("/_sim/bookings/{id}/payments", admin(pay), methods=["POST"]),
    ]


def _http_error(status: int, detail: str) -> dict:
    return envelope({404: "not_found", 405: "method_not_allowed"}.get(status, "error"), detail)


def build_app(cloud: DigitalBookerCloud):
    """The ASGI app serving ``cloud``, with the fault injection in front."""
    routes = [
        Route(path, _endpoint(cloud, privilege, handler), methods=[method])
        for method, path, privilege, handler in ROUTES
    ]
    app = Starlette(routes=_admin_routes(cloud) + routes, exception_handlers=serving.http_errors(_http_error))
    return FaultMiddleware(
        app,
        cloud.faults,
        lambda status, code, message: envelope(code or f"http_{status}", message),
        "rate_limited",
    )


class RunningCloud(serving.RunningCloud):
    """A started cloud: ``url`` (the base, ``…/api``; requests go to ``{url}/{lang}/admin/v1/…``),
    ``admin_url`` (``{url}/en/admin/v1``), ``public_url`` (``{url}/en/public/v1``), ``root``,
    ``cloud``, ``auth`` (the ``(key id, password)`` pair for httpx), ``admin`` headers."""

    def __init__(
        self, cloud: DigitalBookerCloud, server: uvicorn.Server, thread: threading.Thread, port: int
    ):
        super().__init__(cloud, server, thread, port)
        self.url = self.root + BASE
        self.admin_url = self.url + "/en/admin/v1"
        self.public_url = self.url + "/en/public/v1"

    @property
    def auth(self) -> tuple[str, str]:
        return self.cloud.key_id, self.cloud.password


def start_cloud(cloud: DigitalBookerCloud | None = None, port: int = 0) -> RunningCloud:
    """Serve ``cloud`` (a new empty one by default) on 127.0.0.1:``port`` (0 = any free).

    A bind failure raises here (:func:`tests.clouds.serving.serve_in_thread`).
    """
    cloud = cloud or DigitalBookerCloud()
    server, thread, bound = serve_in_thread(build_app(cloud), port, "digitalbooker-sim")
    return RunningCloud(cloud, server, thread, bound)
