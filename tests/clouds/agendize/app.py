"""HTTP face of the simulated Agendize cloud: the route table of
``docs/clouds/agendize.md`` ("Operations"; one place) over an
:class:`AgendizeCloud`, and the server runner.

Transport (contract "Transport"):

* Scheduling paths under ``/api/2.1``; the Client API under ``/api/2.0`` (the contract:
  "its base is configured separately").
* Auth on every call: ``apiKey`` and ``token`` as query parameters, or as ``apiKey:`` /
  ``token:`` headers, or ``Authorization: Bearer <access token>``; otherwise 401.
* Errors ``{"error": {"code": <status>, "message", "reason"}}``; 410 for a sync token
  that is no longer valid.
* ``silent`` and ``force`` are ``true``/``false`` query parameters (API reference "Insert",
  "Update", "Delete").

Admin interface for tests (``/_sim/...``; never faulted; header ``X-Sim-Admin: <admin
key>``): ``GET /_sim/health``; ``GET|POST|DELETE /_sim/faults`` (rules as in
:mod:`.faults`); ``POST /_sim/clock`` ``{"shiftSeconds"}``; ``DELETE /_sim/sync-tokens``
(invalidate all); ``POST /_sim/token/revoke`` (new SSO token, returned);
``GET /_sim/notifications``; cloud-side changes under ``/_sim/companies/{companyId}/``:
``POST appointments`` ``{"serviceId", "start" (UTC ISO), "clientId"?, "staffId"?, "status"?}``
(an online booking), ``POST appointments/{id}/reschedule`` ``{"start"}`` (by the client),
``POST appointments/{id}/cancel`` (by the client), ``POST appointments/{id}/status``
``{"status"}`` (dashboard), ``POST appointments/{id}/paid`` ``{"paid"}`` (paid in Agendize),
``DELETE appointments/{id}`` (dashboard), ``POST personal``
``{"staffId", "start", "end", "notes"?}``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import serving
from ..serving import serve_in_thread
from .faults import FaultMiddleware
from .model import AgendizeCloud, AgendizeError, envelope, invalid, not_found

log = logging.getLogger(__name__)
BASE = "/api/2.1"
CLIENTS_BASE = "/api/2.0"
COMPANY = BASE + "/scheduling/companies/{companyId}"
ROUTES: list[tuple[str, str, Callable]] = []
NO_CONTENT = object()


def route(method: str, path: str):
    def register(handler):
        ROUTES.append((method, path, handler))
        return handler

    return register


class Ctx:
    def __init__(self, cloud: AgendizeCloud, request: Request, body):
        self.cloud, self.request, self.body = cloud, request, body

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    @property
    def company(self):
        return self.cloud.company(self.path("companyId"))

    def params(self) -> dict:
        return {k: v for k, v in self.request.query_params.items() if k not in ("apiKey", "token")}

    def flag(self, name: str) -> bool:
        value = (self.request.query_params.get(name) or "false").lower()
        if value not in ("true", "false"):
            raise invalid(f"{name} is true or false")
        return value == "true"

    def object_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise invalid("the body must be a JSON object (an Appointment resource)")
        return self.body


# ---- companies and reference data (contract "Operations": inferred rows) -------------------
@route("GET", BASE + "/scheduling/companies")
def companies(ctx: Ctx):
    with ctx.cloud.lock:
        return {"items": [c.view() for c in ctx.cloud.companies.values()]}


@route("GET", COMPANY)
def company(ctx: Ctx):
    return ctx.company.view()


@route("GET", COMPANY + "/staff")
def staff(ctx: Ctx):
    with ctx.cloud.lock:
        return {"items": list(ctx.company.staff.values())}


@route("GET", COMPANY + "/staff/{staffId}")
def one_staff(ctx: Ctx):
    found = ctx.company.staff.get(ctx.path("staffId"))
    if found is None:
        raise not_found("staff", ctx.path("staffId"))
    return found


@route("GET", COMPANY + "/services")
def services(ctx: Ctx):
    with ctx.cloud.lock:
        return {"items": list(ctx.company.services.values())}


@route("GET", COMPANY + "/resources")
def resources(ctx: Ctx):
    with ctx.cloud.lock:
        return {"items": list(ctx.company.resources.values())}


# ---- appointments (API reference "Appointments") --------------------------------------------------
@route("GET", COMPANY + "/appointments")
def appointments(ctx: Ctx):
    return ctx.cloud.list_page(ctx.path("companyId"), ctx.params())


@route("GET", COMPANY + "/appointments/{appointmentId}")
def appointment(ctx: Ctx):
    params = ctx.params()
    level = params.get("levelDetail") or "full"
    if level not in ("light", "full"):
        raise invalid("levelDetail is light or full")
    fields = [f.strip() for f in params["fields"].split(",")] if params.get("fields") else None
    with ctx.cloud.lock:
        return ctx.cloud.view(ctx.cloud.find(ctx.company, ctx.path("appointmentId")), level, fields)


@route("POST", COMPANY + "/appointments")
def insert(ctx: Ctx):
    return ctx.cloud.insert(
        ctx.path("companyId"), ctx.object_body(), force=ctx.flag("force"), silent=ctx.flag("silent")
    )


@route("PUT", COMPANY + "/appointments/{appointmentId}")
def update(ctx: Ctx):
    return ctx.cloud.update(
        ctx.path("companyId"),
        ctx.path("appointmentId"),
        ctx.object_body(),
        force=ctx.flag("force"),
        silent=ctx.flag("silent"),
    )


@route("DELETE", COMPANY + "/appointments/{appointmentId}")
def delete(ctx: Ctx):
    ctx.cloud.delete(ctx.path("companyId"), ctx.path("appointmentId"), silent=ctx.flag("silent"))
    return NO_CONTENT


# ---- clients (the Client API, contract "Operations") -------------------------------------
@route("GET", CLIENTS_BASE + "/clients")
def clients(ctx: Ctx):
    cloud, token = ctx.cloud, ctx.request.query_params.get("pageToken")
    with cloud.lock:
        offset = 0
        if token:
            page = cloud.pages.get(token)
            if page is None or page.get("clients") is not True:
                raise invalid("pageToken is unknown")
            offset = page["offset"]
        listed = list(cloud.clients.values())
        out = {"items": listed[offset : offset + cloud.page_size]}
        if offset + cloud.page_size < len(listed):
            token = "pc" + secrets.token_urlsafe(12)
            cloud.pages[token] = {"clients": True, "offset": offset + cloud.page_size}
            out["nextPageToken"] = token
        return out


@route("GET", CLIENTS_BASE + "/clients/{clientId}")
def client(ctx: Ctx):
    found = ctx.cloud.clients.get(ctx.path("clientId"))
    if found is None:
        raise not_found("client", ctx.path("clientId"))
    return found


@route("POST", CLIENTS_BASE + "/clients")
def create_client(ctx: Ctx):
    return ctx.cloud.create_client(ctx.object_body())


# ---- assembly -----------------------------------------------------------------------------
def _authenticate(cloud: AgendizeCloud, request: Request) -> None:
    scheme, _, bearer = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and bearer:
        if bearer != cloud.access_token:
            raise AgendizeError(401, "invalid access token", "unauthorized")
        return
    key = request.query_params.get("apiKey") or request.headers.get("apikey")
    token = request.query_params.get("token") or request.headers.get("token")
    if key != cloud.api_key or token != cloud.token:
        raise AgendizeError(401, "invalid or missing apiKey or token", "unauthorized")


def _endpoint(cloud: AgendizeCloud, handler: Callable):
    async def endpoint(request: Request):
        try:
            _authenticate(cloud, request)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise invalid("the body is not JSON") from exc
            result = handler(Ctx(cloud, request, body))
        except AgendizeError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except Exception:
            log.exception("simulated Agendize failed on %s %s", request.method, request.url.path)
            return JSONResponse(envelope(500, "internal error"), status_code=500)
        return Response(status_code=204) if result is NO_CONTENT else JSONResponse(result)

    return endpoint


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("give UTC times with Z")
    return moment.astimezone(UTC)


def _admin_routes(cloud: AgendizeCloud) -> list[Route]:
    def admin(handler):
        async def endpoint(request: Request):
            if request.headers.get("x-sim-admin") != cloud.admin_key:
                return JSONResponse(
                    envelope(401, "X-Sim-Admin key required", "unauthorized"), status_code=401
                )
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
                result = handler(
                    request, body, request.path_params.get("companyId"), request.path_params.get("id")
                )
            except AgendizeError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (TypeError, ValueError, KeyError) as exc:
                return JSONResponse(envelope(400, str(exc), "invalid"), status_code=400)
            return Response(status_code=204) if result is NO_CONTENT else JSONResponse(result)

        return endpoint

    def faults(request, body, *_):
        if request.method == "POST":
            for spec in body.get("faults") or [body]:
                spec = dict(spec)
                kind = spec.pop("kind", None)
                cloud.faults.clear() if kind == "clear" else cloud.faults.add(kind, **spec)
        elif request.method == "DELETE":
            cloud.faults.clear()
        return {"faults": cloud.faults.rules()}

    def clock(request, body, *_):
        cloud.clock.shift(timedelta(seconds=float(body.get("shiftSeconds") or 0)))
        return {"now": cloud.clock.now().isoformat()}

    def health(request, body, *_):
        return {"ok": True, "companies": list(cloud.companies), "now": cloud.clock.now().isoformat()}

    def sync_tokens(request, body, *_):
        return {"invalidated": cloud.invalidate_sync_tokens()}

    def revoke(request, body, *_):
        return {"token": cloud.revoke_token()}

    def notifications(request, body, *_):
        with cloud.lock:
            return {"items": list(cloud.notifications)}

    def online(request, body, company_id, _):
        return cloud.online_booking(
            company_id,
            str(body["serviceId"]),
            _utc(body["start"]),
            client_id=body.get("clientId"),
            staff_id=body.get("staffId"),
            status=body.get("status") or "pending",
            notes=body.get("notes") or "",
        )

    def reschedule(request, body, company_id, ident):
        return cloud.client_reschedule(company_id, ident, _utc(body["start"]))

    def cancel(request, body, company_id, ident):
        return cloud.client_cancel(company_id, ident)

    def status(request, body, company_id, ident):
        return cloud.dashboard_status(company_id, ident, body["status"])

    def paid(request, body, company_id, ident):
        return cloud.dashboard_paid(company_id, ident, bool(body.get("paid", True)))

    def remove(request, body, company_id, ident):
        cloud.dashboard_delete(company_id, ident)
        return NO_CONTENT

    def personal(request, body, company_id, _):
        return cloud.add_personal(
            company_id, str(body["staffId"]), _utc(body["start"]), _utc(body["end"]), body.get("notes") or ""
        )

    base = "/_sim/companies/{companyId}"
    return [
        Route("/_sim/health", admin(health), methods=["GET"]),
        Route("/_sim/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/clock", admin(clock), methods=["POST"]),
        Route("/_sim/sync-tokens", admin(sync_tokens), methods=["DELETE"]),
        Route("/_sim/token/revoke", admin(revoke), methods=["POST"]),
        Route("/_sim/notifications", admin(notifications), methods=["GET"]),
        Route(base + "/appointments", admin(online), methods=["POST"]),
        Route(base + "/appointments/{id}", admin(remove), methods=["DELETE"]),
        Route(base + "/appointments/{id}/reschedule", admin(reschedule), methods=["POST"]),
        Route(base + "/appointments/{id}/cancel", admin(cancel), methods=["POST"]),
        Route(base + "/appointments/{id}/status", admin(status), methods=["POST"]),
        Route(base + "/appointments/{id}/paid", admin(paid), methods=["POST"]),
        Route(base + "/personal", admin(personal), methods=["POST"]),
    ]


def _http_error(status: int, detail: str) -> dict:
    return envelope(status, detail, "notFound" if status == 404 else None)


def build_app(cloud: AgendizeCloud):
    """The ASGI app serving ``cloud``, with the fault injection in front."""
    routes = [Route(path, _endpoint(cloud, handler), methods=[method]) for method, path, handler in ROUTES]
    app = Starlette(routes=_admin_routes(cloud) + routes, exception_handlers=serving.http_errors(_http_error))
    return FaultMiddleware(
        app, cloud.faults, lambda status, code, message: envelope(status, message), "rateLimitExceeded"
    )


class RunningCloud(serving.RunningCloud):
    """A started cloud: ``url`` (``…/api/2.1``), ``clients_url`` (``…/api/2.0``), ``root``,
    ``cloud``, ``params`` (the auth query a client sends), ``admin`` headers."""

    def __init__(self, cloud: AgendizeCloud, server: uvicorn.Server, thread: threading.Thread, port: int):
        super().__init__(cloud, server, thread, port)
        self.url = self.root + BASE
        self.clients_url = self.root + CLIENTS_BASE

    @property
    def params(self) -> dict:
        return {"apiKey": self.cloud.api_key, "token": self.cloud.token}


def start_cloud(cloud: AgendizeCloud | None = None, port: int = 0) -> RunningCloud:
    """Serve ``cloud`` (a new empty one by default) on 127.0.0.1:``port`` (0 = any free).

    A bind failure raises here (:func:`tests.clouds.serving.serve_in_thread`).
    """
    cloud = cloud or AgendizeCloud()
    server, thread, bound = serve_in_thread(build_app(cloud), port, "agendize-sim")
    return RunningCloud(cloud, server, thread, bound)
