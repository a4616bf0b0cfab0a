"""HTTP face of the simulated Ehjzny cloud: the route table of ``docs/clouds/ehjzny.md``
("Operations"; one place, as the contract asks) over an :class:`EhjznyCloud`.

Transport (contract "Transport"; Ehjzny API reference, "Prerequisites", "Localization", "Pagination"):

* ``X-APP-ID`` on every call, else 400 ``APP-ID-REQUIRED`` (another app's id: 400
  ``APP-ID-UNKNOWN``). ``lang: en|ar`` picks ``name`` from ``name_translations``.
* ``Authorization: Bearer <access token or API key>`` on ``/management`` and
  ``/customer`` calls (:mod:`.auth`); ``/auth`` and ``/availability`` need only the app id.
* Customer calls: the customer is the one signed in with ``isOrgMember: false`` (their
  access token); a member's token or the API key is refused there (403).
* Envelopes ``{"result": {...}}``, lists ``{"result": [...], "pagination":
  {"nextPageToken": str|null, "hasMore": bool}}``; errors ``{"error": {"code", "message"}}``.
  ``limit`` defaults to 100 on bookings and 10 elsewhere (API reference "Pagination": default 10),
  at most 500. Page tokens expire after ``page_token_ttl`` seconds (default 60): 400
  ``PAGINATION-TOKEN-EXPIRED`` (:mod:`.paging`).
* ``/_sim/...`` (no headers needed, never faulted): ``GET /_sim/health``,
  ``GET|POST|DELETE /_sim/faults`` (:mod:`.faults`), ``POST /_sim/clock``
  ``{"shiftSeconds": n}`` moves the cloud's clock, ``POST /_sim/bookings/{id}/pay`` (the
  customer pays a ``PENDING_PAYMENT`` booking online, Ehjzny API reference, "Online Payments").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .. import serving
from .cloud import EhjznyCloud
from .errors import APP_ID_REQUIRED, APP_ID_UNKNOWN, FORBIDDEN
from .faults import FaultMiddleware
from .rules import SimError, invalid
from .views import localized

log = logging.getLogger(__name__)
ROUTES: list[tuple[str, str, Callable, str]] = []  # (method, path, handler, access)
MAX_LIMIT = 500


def route(method: str, path: str, access: str = "member"):
    """Register a handler; ``access``: open (app id only), member, customer."""

    def register(handler):
        ROUTES.append((method, path, handler, access))
        return handler

    return register


@dataclass
class Ctx:
    cloud: EhjznyCloud
    request: Request
    user: dict | None
    body: dict

    @property
    def lang(self) -> str:
        return "ar" if (self.request.headers.get("lang") or "").lower().startswith("ar") else "en"

    def arg(self, name: str, default=None):
        return self.request.path_params.get(name) or self.request.query_params.get(name, default)

    def need(self, name: str):
        value = self.body.get(name) if name in self.body else self.arg(name)
        if value in (None, ""):
            raise invalid(f"{name} is required")
        return value

    @property
    def customer_id(self) -> str:
        if self.user and self.user.get("customerId"):
            return self.user["customerId"]
        raise SimError(FORBIDDEN, "customer operations need a customer's access token", 403)

    def page(self, items, key, show, descending: bool = False, default_limit: int = 10) -> dict:
        """List envelope for one page of ``items`` (sorted by ``key``), each shaped by ``show``."""
        source = self.body if self.request.method == "POST" else self.request.query_params
        try:
            limit = int(source.get("limit") or default_limit)
        except ValueError as exc:
            raise invalid("limit must be an integer") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid(f"limit must be within 1..{MAX_LIMIT}")
        rest = {k: v for k, v in source.items() if k not in ("limit", "nextPageToken")}
        scope = self.request.url.path + json.dumps(rest, sort_keys=True, default=str)
        page, token = self.cloud.pages.page(items, key, limit, source.get("nextPageToken"), scope, descending)
        return {
            "result": [show(i) for i in page],
            "pagination": {"nextPageToken": token, "hasMore": bool(token)},
        }


def _by_id(obj: dict) -> str:
    return obj["id"]


def _catalogue(ctx: Ctx, table: str) -> dict:
    with ctx.cloud.lock:
        items = sorted(getattr(ctx.cloud, table).values(), key=_by_id)
    return ctx.page(items, _by_id, lambda o: localized(o, ctx.lang))


# ---- auth ---------------------------------------------------------------------------------
@route("POST", "/auth/otp/request", "open")
def otp_request(ctx: Ctx):
    return ctx.cloud.request_otp(ctx.body)


@route("POST", "/auth/otp/verify", "open")
def otp_verify(ctx: Ctx):
    return ctx.cloud.verify_otp(ctx.body)


@route("GET", "/auth/token", "open")
def access_token(ctx: Ctx):
    return ctx.cloud.token_from_refresh(ctx.need("refreshToken"))


# ---- catalogue ----------------------------------------------------------------------------
@route("GET", "/management/resources")
@route("GET", "/management/resources/mine")
def resources(ctx: Ctx):
    return _catalogue(ctx, "resources")


@route("GET", "/management/resources/{id}")
def resource(ctx: Ctx):
    return localized(ctx.cloud.get("resources", ctx.arg("id")), ctx.lang)


@route("GET", "/management/resources/{id}/timeRules")
def time_rules(ctx: Ctx):
    return ctx.cloud.get_time_rules(ctx.arg("id"))


@route("PUT", "/management/resources/{id}/timeRules")
def put_time_rules(ctx: Ctx):
    return ctx.cloud.put_time_rules(ctx.arg("id"), ctx.body)


@route("GET", "/management/types")
def types(ctx: Ctx):
    return _catalogue(ctx, "types")


@route("GET", "/management/types/{id}")
def booking_type(ctx: Ctx):
    return localized(ctx.cloud.get("types", ctx.arg("id")), ctx.lang)


@route("GET", "/management/customers")
def customers(ctx: Ctx):
    return _catalogue(ctx, "customers")


@route("POST", "/management/customers")
def create_customer(ctx: Ctx):
    return ctx.cloud.create_customer(ctx.body)


@route("GET", "/management/customers/{id}")
def customer(ctx: Ctx):
    return localized(ctx.cloud.get("customers", ctx.arg("id")), ctx.lang)


@route("PUT", "/management/customers/{id}")
def update_customer(ctx: Ctx):
    return ctx.cloud.update_customer(ctx.arg("id"), ctx.body)


# ---- bookings -----------------------------------------------------------------------------
def _bookings(ctx: Ctx, customer_id: str | None = None, default_limit: int = 100) -> dict:
    found, key, descending = ctx.cloud.find_bookings(dict(ctx.request.query_params), customer_id)
    includes = set((ctx.arg("includes") or "").split(",")) if customer_id is None else {"type", "resource"}
    with ctx.cloud.lock:
        return ctx.page(
            found, key, lambda b: ctx.cloud.view(b, ctx.lang, includes), descending, default_limit
        )


@route("GET", "/management/bookings")
def bookings(ctx: Ctx):
    return _bookings(ctx)


@route("GET", "/management/bookings/unassigned")
def unassigned(ctx: Ctx):
    queue = ctx.cloud.unassigned(ctx.need("resourceId"))
    place = {b["id"]: i for i, b in enumerate(queue, 1)}
    with ctx.cloud.lock:
        return ctx.page(
            queue,
            lambda b: (b["createdAt"], b["_seq"]),
            lambda b: ctx.cloud.view(b, ctx.lang, position=place[b["id"]]),
            default_limit=100,
        )


@route("GET", "/management/bookings/{id}")
def booking(ctx: Ctx):
    return ctx.cloud.booking(ctx.arg("id"), ctx.lang)


@route("POST", "/management/bookings/cancel")
def cancel(ctx: Ctx):
    return ctx.cloud.cancel(ctx.need("bookingId"), ctx.body.get("reason"), lang=ctx.lang)


@route("POST", "/management/bookings/assign")
def assign(ctx: Ctx):
    return ctx.cloud.assign(ctx.need("bookingId"), ctx.need("resourceId"), ctx.lang)


@route("POST", "/management/bookings/end")
def end(ctx: Ctx):
    return ctx.cloud.end(ctx.need("bookingId"), ctx.lang)


@route("PUT", "/management/scheduling/new")
def schedule(ctx: Ctx):
    return ctx.cloud.schedule(ctx.body, lang=ctx.lang)


@route("PUT", "/management/scheduling/temporary")
def schedule_temporary(ctx: Ctx):
    minutes = int(ctx.body.get("reservedForMinutes") or 15)
    return ctx.cloud.schedule(ctx.body, reserved_minutes=minutes, lang=ctx.lang)


@route("POST", "/management/scheduling/confirm")
def confirm(ctx: Ctx):
    return ctx.cloud.confirm(ctx.need("bookingId"), ctx.lang)


# ---- availability and customers -----------------------------------------------------------
@route("POST", "/availability/types", "open")
def available_types(ctx: Ctx):
    cloud = ctx.cloud
    with cloud.lock:
        found = sorted(
            (
                t
                for t in cloud.types.values()
                if t.get("on", True) and cloud.serving(t["id"]) and ctx.body.get("type") in (None, t["id"])
            ),
            key=_by_id,
        )
        return ctx.page(
            found, _by_id, lambda t: {**localized(t, ctx.lang), "pendingCount": cloud.pending_count(t["id"])}
        )


@route("POST", "/availability/resources", "open")
def available_resources(ctx: Ctx):
    cloud = ctx.cloud
    with cloud.lock:
        found = cloud.serving(ctx.body["type"]) if ctx.body.get("type") else list(cloud.resources.values())
        return ctx.page(sorted(found, key=_by_id), _by_id, lambda r: localized(r, ctx.lang))


@route("POST", "/availability/times", "open")
def available_times(ctx: Ctx):
    return {
        "result": ctx.cloud.available_times(ctx.body),
        "pagination": {"nextPageToken": None, "hasMore": False},
    }


@route("PUT", "/customer/scheduling/new", "customer")
def customer_schedule(ctx: Ctx):
    return ctx.cloud.schedule(ctx.body, customer_id=ctx.customer_id, customer_side=True, lang=ctx.lang)


@route("POST", "/customer/bookings/cancel", "customer")
def customer_cancel(ctx: Ctx):
    return ctx.cloud.cancel(
        ctx.need("bookingId"), ctx.body.get("reason"), customer_id=ctx.customer_id, lang=ctx.lang
    )


@route("GET", "/customer/bookings", "customer")
def customer_bookings(ctx: Ctx):
    return _bookings(ctx, customer_id=ctx.customer_id, default_limit=10)


# ---- assembly -----------------------------------------------------------------------------
def _error(exc: SimError) -> JSONResponse:
    return JSONResponse(exc.to_json(), status_code=exc.status)


def _endpoint(cloud: EhjznyCloud, handler: Callable, access: str):
    async def endpoint(request: Request):
        try:
            app_id = request.headers.get("x-app-id")
            if not app_id:
                raise SimError(APP_ID_REQUIRED, "the X-APP-ID header is required")
            if app_id != cloud.app_id:
                raise SimError(APP_ID_UNKNOWN, "unknown X-APP-ID")
            user = None if access == "open" else cloud.authenticate(request.headers.get("authorization"))
            if access == "member" and user.get("role") != "member":
                raise SimError(FORBIDDEN, "a customer's token cannot call management operations", 403)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise invalid("the body is not JSON") from exc
            if not isinstance(body, dict):
                raise invalid("the body must be a JSON object")
            result = handler(Ctx(cloud, request, user, body))
        except SimError as exc:
            return _error(exc)
        except Exception:
            log.exception("simulated cloud failed on %s %s", request.method, request.url.path)
            return JSONResponse({"error": {"code": "INTERNAL", "message": "internal error"}}, status_code=500)
        return JSONResponse(
            result if isinstance(result, dict) and "pagination" in result else {"result": result}
        )

    return endpoint


def _sim_routes(cloud: EhjznyCloud) -> list[Route]:
    async def faults(request: Request):
        if request.method == "POST":
            body = await request.json()
            for spec in body.get("faults") or [body]:
                spec = dict(spec)
                kind = spec.pop("kind", None)
                if kind == "expire_tokens":
                    cloud.expire_tokens()
                elif kind == "expire_page_tokens":
                    cloud.pages.expire_all()
                elif kind == "clear":
                    cloud.faults.clear()
                else:
                    try:
                        cloud.faults.add(kind, **spec)
                    except (TypeError, ValueError) as exc:
                        return _error(invalid(str(exc)))
        elif request.method == "DELETE":
            cloud.faults.clear()
        return JSONResponse({"result": cloud.faults.rules()})

    async def clock(request: Request):
        body = await request.json()
        cloud.clock.shift(timedelta(seconds=float(body.get("shiftSeconds") or 0)))
        return JSONResponse({"result": {"now": cloud.clock.now().isoformat()}})

    async def health(request: Request):
        return JSONResponse({"result": {"ok": True, "appId": cloud.app_id}})

    async def pay(request: Request):
        try:
            return JSONResponse({"result": cloud.pay(request.path_params["id"])})
        except SimError as exc:
            return _error(exc)

    return [
        Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/clock", clock, methods=["POST"]),
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/bookings/{id}/pay", pay, methods=["POST"]),
    ]


def _http_error(status: int, detail: str) -> dict:
    return {"error": {"code": "NOT-FOUND" if status == 404 else f"HTTP-{status}", "message": detail}}


def build_app(cloud: EhjznyCloud):
    """The ASGI app (faults in front) serving ``cloud``."""
    routes = [
        Route(path, _endpoint(cloud, handler, access), methods=[method])
        for method, path, handler, access in ROUTES
    ]
    app = Starlette(routes=_sim_routes(cloud) + routes, exception_handlers=serving.http_errors(_http_error))
    return FaultMiddleware(app, cloud.faults)
