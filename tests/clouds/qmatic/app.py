"""HTTP face of the simulated Qmatic cloud: the route table of ``docs/clouds/qmatic.md``
("Operations"; one place) over a :class:`QmaticCloud`, and the server runner.

Transport (Qmatic API reference attribute tables; contract "Transport"):

* Paths under ``/external/v1``; JSON bodies; lists are bare arrays, unpaged.
* ``Authorization``: when the cloud is configured with one, every call must carry exactly
  that header, else 401 ``unauthorized``; otherwise none is needed (the API reference names no
  credential).
* ``X-TENANT-ID`` on every call; missing or not the tenant's → 403 ``tenant.unknown``.
* ``Accept-Language``: required on ``GET /services``, ``/services/groups`` and
  ``/services/{serviceId}`` (API reference: "yes" there); wherever it is sent it must be one of the
  tenant's localizations (of ``en_US en_UK fr_FR nl_NL de_DE it_IT ES_es``, matched without
  regard to case), else 400 ``language.not.supported``; there is no Arabic. It chooses the
  language of service and group names (``en_US`` where a name lacks that language).
* Errors: ``{"code", "message"}`` with 400 validation, 401/403, 404 unknown id (a lapsed
  hold too), 409 slot taken or a state that forbids the call, 429 and 5xx from the faults.
* Success codes: 201 for reserve and confirm (API reference "Code 201"), 204 for release and delete
  (contract), 200 otherwise.

Admin interface for tests (``/_sim/...``; never faulted; header ``X-Sim-Admin: <admin
key>``): ``GET /_sim/health``; ``GET|POST|DELETE /_sim/faults`` (one rule
``{"kind": "lose_reply", "method": "POST", "path": "/external/v1/reservations"}``, a list
``{"faults": [...]}``, or ``{"kind": "clear"}``); ``POST /_sim/clock`` ``{"shiftSeconds": n}``
(holds expire on this clock); ``GET /_sim/appointments`` (every record, with its hidden
state: ``RESERVED CONFIRMED EXPIRED RELEASED CANCELLED USED``, ``personalIdentifier``, UTC
``start``/``end``, ``heldUntil``); ``GET /_sim/appointments/{id}``; cloud-side changes:
``POST /_sim/appointments`` ``{"serviceId", "branchId", "start" (ISO with offset),
"customer" (as in confirm), "resourceId"?, "answers"?, "notes"?, "source"?: "online"|"staff"}``
(a booking made on the booking page, confirmed at once), ``POST /_sim/appointments/{id}/cancel``
(the customer cancels), ``POST /_sim/appointments/{id}/move`` ``{"start", "resourceId"?}``
(staff move it, same id), ``DELETE /_sim/appointments/{id}`` (staff delete it).
"""

from __future__ import annotations

import json
import logging
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
from .model import DEFAULT_LANGUAGE, LANGUAGES, QmaticCloud, QmaticError, envelope, invalid, parse_time

log = logging.getLogger(__name__)
BASE = "/external/v1"
NO_CONTENT = object()


class RouteRow:
    """One row of the route table: method, path under :data:`BASE`, handler, success status,
    and whether ``Accept-Language`` is required."""

    def __init__(self, method: str, path: str, handler: Callable, status: int, language: bool):
        self.method, self.path, self.handler, self.status, self.language = (
            method,
            path,
            handler,
            status,
            language,
        )


ROUTES: list[RouteRow] = []


def route(method: str, path: str, status: int = 200, language: bool = False):
    def register(handler):
        ROUTES.append(RouteRow(method, BASE + path, handler, status, language))
        return handler

    return register


class Ctx:
    def __init__(self, cloud: QmaticCloud, request: Request, body, lang: str):
        self.cloud, self.request, self.body, self.lang = cloud, request, body, lang

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    def object_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise invalid("the body must be a JSON object")
        return self.body


# ---- reference data (API reference "Services", "Service Groups", "Branches", "Timeslots") ------------
@route("GET", "/services", language=True)
def services(ctx: Ctx):
    return ctx.cloud.service_rows(ctx.lang)


@route("GET", "/services/groups", language=True)
def service_groups(ctx: Ctx):
    return ctx.cloud.groups_view(ctx.lang)


@route("GET", "/services/{serviceId}", language=True)
def service_branches(ctx: Ctx):
    return ctx.cloud.service_branches(ctx.path("serviceId"))


@route("GET", "/services/{serviceId}/timeslots")
def timeslots(ctx: Ctx):
    return ctx.cloud.timeslots(ctx.path("serviceId"), dict(ctx.request.query_params))


# ---- reservations (API reference "Create a new Reservation", "Confirm a reservation"; contract) -------
@route("POST", "/reservations", status=201)
def reserve(ctx: Ctx):
    return ctx.cloud.view(ctx.cloud.reserve(ctx.object_body()), ctx.lang)


@route("PUT", "/reservations/{reservationId}", status=201)
def confirm(ctx: Ctx):
    return ctx.cloud.view(ctx.cloud.confirm(ctx.path("reservationId"), ctx.object_body()), ctx.lang)


@route("DELETE", "/reservations/reservations/{appointmentId}", status=204)
def release(ctx: Ctx):
    ctx.cloud.release(ctx.path("appointmentId"))
    return NO_CONTENT


# ---- appointments (contract "Operations": public page and inferred rows) --------------------
@route("POST", "/appointments/search")
def search(ctx: Ctx):
    return [ctx.cloud.view(r, ctx.lang) for r in ctx.cloud.search(ctx.object_body())]


@route("GET", "/appointments/{appointmentId}")
def appointment(ctx: Ctx):
    with ctx.cloud.lock:
        return ctx.cloud.view(ctx.cloud.live_record(ctx.path("appointmentId")), ctx.lang)


@route("PUT", "/appointments/{appointmentId}/reschedule")
def reschedule(ctx: Ctx):
    return ctx.cloud.view(ctx.cloud.reschedule(ctx.path("appointmentId"), ctx.object_body()), ctx.lang)


@route("DELETE", "/appointments/{appointmentId}", status=204)
def delete(ctx: Ctx):
    ctx.cloud.delete(ctx.path("appointmentId"))
    return NO_CONTENT


@route("PUT", "/appointments/{appointmentId}/customer")
def update_customer(ctx: Ctx):
    return ctx.cloud.view(ctx.cloud.update_customer(ctx.path("appointmentId"), ctx.object_body()), ctx.lang)


# ---- assembly ------------------------------------------------------------------------------
def _transport(cloud: QmaticCloud, request: Request, language_required: bool) -> str:
    """Check the credential, the tenant and the language; returns the language code."""
    if cloud.authorization is not None and request.headers.get("authorization") != cloud.authorization:
        raise QmaticError(401, "unauthorized", "missing or wrong Authorization")
    if request.headers.get("x-tenant-id") != cloud.tenant:
        raise QmaticError(403, "tenant.unknown", "X-TENANT-ID is missing or names no tenant")
    asked = request.headers.get("accept-language")
    if asked is None:
        if language_required:
            raise invalid("Accept-Language is required", "language.required")
        return DEFAULT_LANGUAGE
    by_case = {lang.lower(): lang for lang in cloud.languages}
    lang = by_case.get(asked.strip().lower())
    if lang is None:
        raise invalid(
            f"Accept-Language {asked!r} is not supported; one of {', '.join(cloud.languages)}",
            "language.not.supported",
        )
    return lang


def _endpoint(cloud: QmaticCloud, row: RouteRow):
    async def endpoint(request: Request):
        try:
            lang = _transport(cloud, request, row.language)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise invalid("the body is not JSON") from exc
            with cloud.lock:  # in-process test code may act on the cloud from other threads
                result = row.handler(Ctx(cloud, request, body, lang))
        except QmaticError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except Exception:
            log.exception("simulated Qmatic failed on %s %s", request.method, request.url.path)
            return JSONResponse(envelope("server.error", "internal error"), status_code=500)
        return (
            Response(status_code=204)
            if result is NO_CONTENT
            else JSONResponse(result, status_code=row.status)
        )

    return endpoint


def _admin_routes(cloud: QmaticCloud) -> list[Route]:
    def admin(handler):
        async def endpoint(request: Request):
            if request.headers.get("x-sim-admin") != cloud.admin_key:
                return JSONResponse(envelope("unauthorized", "X-Sim-Admin key required"), status_code=401)
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
                result = handler(request, body, request.path_params.get("id"))
            except QmaticError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (TypeError, ValueError, KeyError) as exc:
                return JSONResponse(envelope("validation.error", str(exc)), status_code=400)
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
        cloud.clock.shift(timedelta(seconds=float(body.get("shiftSeconds") or 0)))
        cloud.sweep()
        return {"now": cloud.clock.now().isoformat()}

    def health(request, body, _):
        return {
            "ok": True,
            "tenant": cloud.tenant,
            "branches": list(cloud.branches),
            "now": cloud.clock.now().isoformat(),
        }

    def records(request, body, _):
        cloud.sweep()
        with cloud.lock:
            return {"items": [cloud.admin_view(r) for r in cloud.appointments.values()]}

    def one(request, body, ident):
        cloud.sweep()
        with cloud.lock:
            return cloud.admin_view(cloud.appointments[ident])

    def online(request, body, _):
        record = cloud.online_booking(
            str(body["serviceId"]),
            str(body["branchId"]),
            parse_time(body["start"], "start"),
            body["customer"],
            resource_id=body.get("resourceId"),
            answers=body.get("answers"),
            notes=body.get("notes"),
            source=body.get("source") or "online",
        )
        with cloud.lock:
            return cloud.admin_view(record)

    def cancel(request, body, ident):
        cloud.customer_cancel(ident)
        return NO_CONTENT

    def move(request, body, ident):
        record = cloud.cloud_move(ident, parse_time(body["start"], "start"), body.get("resourceId"))
        with cloud.lock:
            return cloud.admin_view(record)

    def remove(request, body, ident):
        cloud.cloud_delete(ident)
        return NO_CONTENT

    return [
        Route("/_sim/health", admin(health), methods=["GET"]),
        Route("/_sim/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/clock", admin(clock), methods=["POST"]),
        Route("/_sim/appointments", admin(records), methods=["GET"]),
        Route("/_sim/appointments", admin(online), methods=["POST"]),
        Route("/_sim/appointments/{id}", admin(one), methods=["GET"]),
        Route("/_sim/appointments/{id}", admin(remove), methods=["DELETE"]),
        Route("/_sim/appointments/{id}/cancel", admin(cancel), methods=["POST"]),
        Route("/_sim/appointments/{id}/move", admin(move), methods=["POST"]),
    ]


def _http_error(status: int, detail: str) -> dict:
    return envelope({404: "not.found", 405: "method.not.allowed"}.get(status, "http.error"), detail)


def build_app(cloud: QmaticCloud):
    """The ASGI app serving ``cloud``, with the fault injection in front."""
    routes = [Route(row.path, _endpoint(cloud, row), methods=[row.method]) for row in ROUTES]
    app = Starlette(routes=_admin_routes(cloud) + routes, exception_handlers=serving.http_errors(_http_error))
    return FaultMiddleware(
        app,
        cloud.faults,
        lambda status, code, message: envelope(code or "server.error", message),
        "rate.limited",
    )


class RunningCloud(serving.RunningCloud):
    """A started cloud: ``url`` (``http://127.0.0.1:<port>/external/v1``), ``root``, ``cloud``,
    ``headers`` (what a client sends: ``X-TENANT-ID``, ``Accept-Language: en_US`` and the
    ``Authorization`` when one is configured), ``admin`` headers; ``stop()`` or use ``with``."""

    def __init__(self, cloud: QmaticCloud, server: uvicorn.Server, thread: threading.Thread, port: int):
        super().__init__(cloud, server, thread, port)
        self.url = self.root + BASE

    @property
    def headers(self) -> dict:
        out = {"X-TENANT-ID": self.cloud.tenant, "Accept-Language": DEFAULT_LANGUAGE}
        if self.cloud.authorization is not None:
            out["Authorization"] = self.cloud.authorization
        return out


def start_cloud(cloud: QmaticCloud | None = None, port: int = 0) -> RunningCloud:
    """Serve ``cloud`` (a new empty one by default) on 127.0.0.1:``port`` (0 = any free).

    A bind failure raises here (:func:`tests.clouds.serving.serve_in_thread`).
    """
    cloud = cloud or QmaticCloud()
    server, thread, bound = serve_in_thread(build_app(cloud), port, "qmatic-sim")
    return RunningCloud(cloud, server, thread, bound)


__all__ = ["BASE", "LANGUAGES", "ROUTES", "RunningCloud", "build_app", "start_cloud"]
