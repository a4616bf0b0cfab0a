"""HTTP face of the simulated Rekaz cloud: the route table of ``docs/clouds/rekaz.md``
("Operations"; one place) over a :class:`RekazCloud`, and the server runner.

Transport (API reference "Authentication", "Error Handling"; contract "Transport"):

* Paths under ``/api/public`` (API reference "Base URL").
* ``Authorization: Basic <key>`` with the key exactly as issued, and ``__tenant``, on every
  call; a missing or wrong one → 401 ``Unauthorized``.
* Paged listings (attendances, customers, reservations): ``skipCount`` (default 0) and
  ``maxResultCount`` (default 100, max 100) → ``{"items": [...], "totalCount": n}``.
  Branches and products are bare arrays, providers ``{"items": [...]}``, all unpaged.
* Errors: the API reference's envelope, built by :class:`.model.RekazError`.
* An optional rate limit (``rate_limit=(requests, seconds)``) answers 429 ``RateLimit``
  with ``Retry-After``; the faults (:mod:`.faults`) can do the same on demand.

Admin interface for tests (``/_sim/...``; never faulted; header ``X-Sim-Admin: <admin
key>``): ``GET /_sim/health``; ``GET|POST|DELETE /_sim/faults`` (one rule
``{"kind": "fail", "count": 2, "status": 503, "method": "POST", "path": "/api/public/reservations"}``,
a list ``{"faults": [...]}``, or ``{"kind": "clear"}``); ``POST /_sim/clock``
``{"shiftSeconds": n}``; cloud-side changes: ``POST /_sim/attendances``
``{"reservationId", "kind": "CheckIn"|"CheckOut"}`` (a kiosk), ``POST /_sim/reservations``
``{"priceId", "startAt", "endAt"?, "customerId"?, "providerIds"?, "branchId"?}`` (an
online booking), ``POST /_sim/reservations/{id}/cancel`` ``{"reason"?}``,
``POST /_sim/reservations/{id}/move`` ``{"startAt", "endAt"?, "providerIds"?}``,
``POST /_sim/reservations/{id}/pay`` ``{"amount"}`` (paid in Rekaz),
``DELETE /_sim/reservations/{id}``, ``POST /_sim/customers`` ``{"name", "mobileNumber",
"branchId"}``, and ``GET /_sim/reservations/{id}`` (with the hidden fields).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
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
    CHECK_IN,
    MAX_RESULT_COUNT,
    NOT_FOUND,
    RATE_LIMIT,
    UNAUTHORIZED,
    RekazCloud,
    RekazError,
    envelope,
    invalid,
    iso,
    parse_time,
)

log = logging.getLogger(__name__)
BASE = "/api/public"
ROUTES: list[tuple[str, str, Callable]] = []
NO_CONTENT = object()


def route(method: str, path: str):
    def register(handler):
        ROUTES.append((method, BASE + path, handler))
        return handler

    return register


class Ctx:
    def __init__(self, cloud: RekazCloud, request: Request, body):
        self.cloud, self.request, self.body = cloud, request, body

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    def query(self, name: str) -> list[str]:
        """All values of ``name`` (repeated keys, contract "Transport": ASP.NET style);
        names are matched case-insensitively, as ASP.NET binds them."""
        return [v for k, v in self.request.query_params.multi_items() if k.lower() == name.lower()]

    def one(self, name: str) -> str | None:
        values = self.query(name)
        return values[-1] if values else None

    def object_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise invalid("the body must be a JSON object")
        return self.body

    def paged(self, items: list) -> dict:
        """One page (API reference "skipCount", "maxResultCount": default 100, max 100)."""
        skip, count = self._int("skipCount", 0), self._int("maxResultCount", MAX_RESULT_COUNT)
        if skip < 0:
            raise invalid("skipCount must be 0 or more", "skipCount")
        if not 1 <= count <= MAX_RESULT_COUNT:
            raise invalid(f"maxResultCount must be within 1..{MAX_RESULT_COUNT}", "maxResultCount")
        return {"items": items[skip : skip + count], "totalCount": len(items)}

    def _int(self, name: str, default: int) -> int:
        raw = self.one(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise invalid(f"{name} must be an integer", name) from exc


# ---- reference data -----------------------------------------------------------------------
@route("GET", "/branches")
def branches(ctx: Ctx):
    with ctx.cloud.lock:
        return list(ctx.cloud.branches.values())


@route("GET", "/branches/{id}")
def branch(ctx: Ctx):
    return ctx.cloud.get("branches", ctx.path("id"), "branch")


@route("GET", "/products")
def products(ctx: Ctx):
    with ctx.cloud.lock:
        return list(ctx.cloud.products.values())


@route("GET", "/products/{id}")
def product(ctx: Ctx):
    return ctx.cloud.get("products", ctx.path("id"), "product")


@route("GET", "/providers")
def providers(ctx: Ctx):
    with ctx.cloud.lock:
        return {"items": list(ctx.cloud.providers.values())}


# ---- customers ----------------------------------------------------------------------------
@route("GET", "/customers")
def customers(ctx: Ctx):
    with ctx.cloud.lock:
        listed = sorted(ctx.cloud.customers.values(), key=lambda c: c["customerNumber"])
    return ctx.paged(listed)


@route("GET", "/customers/{id}")
def customer(ctx: Ctx):
    return ctx.cloud.get("customers", ctx.path("id"), "customer")


@route("POST", "/customers")
def create_customer(ctx: Ctx):
    return ctx.cloud.create_customer(ctx.object_body())


# ---- reservations -------------------------------------------------------------------------
@route("GET", "/reservations")
def reservations(ctx: Ctx):
    with ctx.cloud.lock:  # view only the page served (a large clinic is listed page by page)
        page = ctx.paged(ctx.cloud.find_reservations(ctx.query, view=False))
        page["items"] = [ctx.cloud.reservation_view(r) for r in page["items"]]
    return page


@route("GET", "/reservations/slots")
def slots(ctx: Ctx):
    return ctx.cloud.slots(ctx.query)


@route("GET", "/reservations/{id}")
def reservation(ctx: Ctx):
    return ctx.cloud.reservation(ctx.path("id"))


@route("POST", "/reservations/bulk")
def bulk(ctx: Ctx):
    return ctx.cloud.bulk_create(ctx.object_body())


@route("PUT", "/reservations/{id}")
def update(ctx: Ctx):
    ctx.cloud.update(ctx.path("id"), ctx.object_body())
    return NO_CONTENT


@route("PUT", "/reservations/{id}/confirm")
def confirm(ctx: Ctx):
    ctx.cloud.confirm(ctx.path("id"))
    return NO_CONTENT


@route("PUT", "/reservations/{id}/cancel")
def cancel(ctx: Ctx):
    body = ctx.object_body()
    reason = body.get("cancellationReason")
    if reason is not None and not isinstance(reason, str):
        raise invalid("cancellationReason must be text", "cancellationReason")
    ctx.cloud.cancel(ctx.path("id"), reason, bool(body.get("notifyCustomer", False)))
    return NO_CONTENT


# ---- attendances --------------------------------------------------------------------------
@route("GET", "/attendances")
def attendances(ctx: Ctx):
    found = ctx.cloud.find_attendances(
        ctx.one("customerId"), ctx.one("mobileNumber"), ctx.one("customerNumber")
    )
    return ctx.paged(found)


@route("POST", "/attendances")
def attend(ctx: Ctx):
    return ctx.cloud.attend(ctx.object_body())


# ---- assembly -----------------------------------------------------------------------------
class RateLimiter:
    """At most ``requests`` calls per ``seconds`` (a sliding window on the wall clock)."""

    def __init__(self, requests: int, seconds: float):
        self.requests, self.seconds = requests, seconds
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def retry_after(self) -> int | None:
        """None when the call may go ahead (and counts it), else whole seconds to wait."""
        now = time.monotonic()
        with self._lock:
            while self._calls and self._calls[0] <= now - self.seconds:
                self._calls.popleft()
            if len(self._calls) >= self.requests:
                return max(1, int(self._calls[0] + self.seconds - now + 0.999))
            self._calls.append(now)
            return None


def _authenticate(cloud: RekazCloud, request: Request) -> None:
    scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic" or key != cloud.key:
        raise RekazError(401, UNAUTHORIZED, "invalid or missing authorization key")
    if request.headers.get("__tenant") != cloud.tenant:
        raise RekazError(401, UNAUTHORIZED, "invalid or missing __tenant header")


def _reply(result) -> Response:
    if result is NO_CONTENT:
        return Response(status_code=204)
    return JSONResponse(result)


def _endpoint(cloud: RekazCloud, handler: Callable, limiter: RateLimiter | None):
    async def endpoint(request: Request):
        try:
            _authenticate(cloud, request)
            if limiter is not None and (wait := limiter.retry_after()) is not None:
                return JSONResponse(
                    envelope(429, RATE_LIMIT, "too many requests"),
                    status_code=429,
                    headers={"Retry-After": str(wait)},
                )
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise invalid("the body is not JSON") from exc
            result = handler(Ctx(cloud, request, body))
        except RekazError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except Exception:
            log.exception("simulated Rekaz failed on %s %s", request.method, request.url.path)
            return JSONResponse(envelope(500, None, "An internal error occurred"), status_code=500)
        return _reply(result)

    return endpoint


def _admin_routes(cloud: RekazCloud) -> list[Route]:
    def admin(handler):
        async def endpoint(request: Request):
            if request.headers.get("x-sim-admin") != cloud.admin_key:
                return JSONResponse(envelope(401, UNAUTHORIZED, "X-Sim-Admin key required"), status_code=401)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
                result = handler(request, body)
            except RekazError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (TypeError, ValueError, KeyError) as exc:
                return JSONResponse(envelope(400, "ValidationError", str(exc)), status_code=400)
            return _reply(result)

        return endpoint

    def faults(request, body):
        if request.method == "POST":
            for spec in body.get("faults") or [body]:
                spec = dict(spec)
                kind = spec.pop("kind", None)
                if kind == "clear":
                    cloud.faults.clear()
                else:
                    cloud.faults.add(kind, **spec)
        elif request.method == "DELETE":
            cloud.faults.clear()
        return {"faults": cloud.faults.rules()}

    def clock(request, body):
        cloud.clock.shift(timedelta(seconds=float(body.get("shiftSeconds") or 0)))
        return {"now": iso(cloud.clock.now())}

    def health(request, body):
        return {"ok": True, "tenant": cloud.tenant, "now": iso(cloud.clock.now())}

    def kiosk(request, body):
        return cloud.kiosk_attendance(body["reservationId"], body.get("kind") or CHECK_IN)

    def online(request, body):
        end = parse_time(body["endAt"], "endAt") if body.get("endAt") else None
        return cloud.online_booking(
            body["priceId"],
            parse_time(body.get("startAt"), "startAt"),
            customer_id=body.get("customerId"),
            provider_ids=body.get("providerIds"),
            branch_id=body.get("branchId"),
            end=end,
        )

    def one(request, body):
        ident = request.path_params["id"]
        if request.method == "DELETE":
            cloud.remove(ident)
            return NO_CONTENT
        with cloud.lock:
            record = cloud.get("reservations", ident, "reservation")
            return {k.lstrip("_"): (iso(v) if k in ("_start", "_end") else v) for k, v in record.items()}

    def cancel_one(request, body):
        return cloud.cloud_cancel(request.path_params["id"], body.get("reason") or "cancelled in Rekaz")

    def move(request, body):
        end = parse_time(body["endAt"], "endAt") if body.get("endAt") else None
        return cloud.cloud_move(
            request.path_params["id"],
            parse_time(body.get("startAt"), "startAt"),
            end,
            body.get("providerIds"),
        )

    def pay(request, body):
        return cloud.cloud_payment(request.path_params["id"], body.get("amount"))

    def new_customer(request, body):
        return cloud.add_customer(body["name"], body["mobileNumber"], body["branchId"], body.get("email"))

    return [
        Route("/_sim/health", admin(health), methods=["GET"]),
        Route("/_sim/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/clock", admin(clock), methods=["POST"]),
        Route("/_sim/attendances", admin(kiosk), methods=["POST"]),
        Route("/_sim/customers", admin(new_customer), methods=["POST"]),
        Route("/_sim/reservations", admin(online), methods=["POST"]),
        Route("/_sim/reservations/{id}", admin(one), methods=["GET", "DELETE"]),
        Route("/_sim/reservations/{id}/cancel", admin(cancel_one), methods=["POST"]),
        Route("/_sim/reservations/{id}/move", admin(move), methods=["POST"]),
        Route("/_sim/reservations/{id}/pay", admin(pay), methods=["POST"]),
    ]


def _http_error(status: int, detail: str) -> dict:
    return envelope(status, NOT_FOUND if status == 404 else None, detail)


def build_app(cloud: RekazCloud, rate_limit: tuple[int, float] | None = None):
    """The ASGI app serving ``cloud``, with the fault injection in front."""
    limiter = RateLimiter(*rate_limit) if rate_limit else None
    routes = [
        Route(path, _endpoint(cloud, handler, limiter), methods=[method]) for method, path, handler in ROUTES
    ]
    app = Starlette(routes=_admin_routes(cloud) + routes, exception_handlers=serving.http_errors(_http_error))
    return FaultMiddleware(
        app, cloud.faults, lambda status, code, message: envelope(status, code, message), RATE_LIMIT
    )


class RunningCloud(serving.RunningCloud):
    """A started cloud: ``url`` (the API base, ``…/api/public``), ``root``, ``cloud``,
    ``headers`` (what a client sends), ``admin`` headers; ``stop()`` or use ``with``."""

    def __init__(self, cloud: RekazCloud, server: uvicorn.Server, thread: threading.Thread, port: int):
        super().__init__(cloud, server, thread, port)
        self.url = self.root + BASE

    @property
    def headers(self) -> dict:
        return {
            "Authorization": f"Basic {self.cloud.key}",
            "__tenant": self.cloud.tenant,
            "Content-Type": "application/json",
        }


def start_cloud(
    cloud: RekazCloud | None = None, port: int = 0, rate_limit: tuple[int, float] | None = None
) -> RunningCloud:
    """Serve ``cloud`` (a new empty one by default) on 127.0.0.1:``port`` (0 = any free).

    A bind failure raises here (:func:`tests.clouds.serving.serve_in_thread`).
    """
    cloud = cloud or RekazCloud()
    server, thread, bound = serve_in_thread(build_app(cloud, rate_limit), port, "rekaz-sim")
    return RunningCloud(cloud, server, thread, bound)
