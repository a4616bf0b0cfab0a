"""The branch booking server's HTTP API (FastAPI on Starlette).

Paths and shapes follow the Ehjzny management API (the Ehjzny page of ``docs/clouds/``):
``{"result": ...}`` for one object, ``{"result": [...], "pagination": {"nextPageToken",
"hasMore"}}`` for lists, and ``{"error": {"code", "message"}}`` with a 4xx status for a
refused request, after which nothing has been written. Operations the cloud does not have
(check-in, start, no-show, history, attendances, queues, events, desks) sit beside them in
the same style. The OpenAPI document is served at ``/openapi.json``.

Every request passes :class:`app.server.security.DeskGuard` first (Host and Origin
allow-lists, 64 KiB body limit, strict JSON, desk token); every route declares its role with
``dependencies=[require(Role.X)]`` (:mod:`app.server.security`); a provider desk is further
limited here to the bookings and queues of its own resources. Dates and instants, in
queries and bodies alike, are read by :mod:`app.server.schemas` (years
:data:`~app.domain.clock.FIRST_YEAR`–:data:`~app.domain.clock.LAST_YEAR`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import app as app_package
from app.domain import availability, errors, phones
from app.domain.actions import ACTIONS, ref_actions
from app.domain.clock import parse_day, parse_instant, to_iso
from app.domain.errors import BookingError
from app.domain.model import Action, AttendanceKind, DeskRole, EventType, Status
from app.domain.tickets import check_prefix
from app.i18n.text import normalize_arabic
from app.ids import new_id
from app.server import desk_routes, payment_routes, report_routes, schemas
from app.server.desks import DeskRegistry
from app.server.events import encode_sse
from app.server.security import RANK, DeskGuard, ErrorEnvelope, Role, require, undeclared_refused
from app.server.service import BookingService

log = logging.getLogger(__name__)
MAX_LIMIT = 1000
INCLUDES = frozenset({"customer", "type", "resource", "invoice"})
MAX_EVENT_ID = 10**15  # Last-Event-ID / lastEventId: at most 16 ASCII digits


def _check_customer(store, row: dict) -> None:
    """Make ``row`` (a customer about to be stored, ``id`` set) storable, in place: the phone
    in E.164 read in the branch's region, ``searchText`` from name and phone. Raises
    VALIDATION (400, a phone that is no phone) and CUSTOMER-EXISTS (409, ``details.candidate``:
    another customer who has that number, a probable duplicate). Call under the store's lock."""
    try:
        row["phone"] = phones.normalize(row.get("phone"), store.phone_region) if row.get("phone") else None
    except ValueError as exc:
        raise errors.invalid("phone is not a phone number", field="phone") from exc
    existing = store.customer_by(phone=row["phone"]) if row["phone"] else None
    if existing and existing["id"] != row["id"]:
        raise BookingError(
            "CUSTOMER-EXISTS",
            "a customer with this phone number exists",
            409,
            phone=row["phone"],
            candidate=existing,
        )
    row["searchText"] = normalize_arabic(
        f"{row['firstName']} {row.get('lastName') or ''} {row['phone'] or ''}"
    )


def _page(items: list, limit: int, token: str | None) -> dict:
    """Slice ``items`` into the contract's list envelope with an opaque offset token."""
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        if offset < 0:
            raise ValueError(offset)
    except ValueError as exc:
        raise errors.invalid("nextPageToken is not valid", field="nextPageToken") from exc
    chunk = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_token = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return {"result": chunk, "pagination": {"nextPageToken": next_token, "hasMore": more}}


def _day(text: str, field: str = "date") -> date:
    """A branch-local date of the API (:func:`app.domain.clock.parse_day`). Raises VALIDATION."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise errors.invalid(f"{field}: {exc}", field=field) from exc


def _instant(text: str, field: str):
    """An instant of the API (:func:`app.domain.clock.parse_instant`). Raises VALIDATION."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise errors.invalid(f"{field}: {exc}", field=field) from exc


def _event_id(text: str) -> int:
    """``Last-Event-ID``: ASCII digits, at most :data:`MAX_EVENT_ID`. Raises VALIDATION."""
    if not (text.isascii() and text.isdigit() and len(text) <= 16 and int(text) <= MAX_EVENT_ID):
        raise errors.invalid(
            f"Last-Event-ID must be an event id (ASCII digits, at most {MAX_EVENT_ID})", field="Last-Event-ID"
        )
    return int(text)


def _includes(text: str | None) -> set[str]:
    wanted = {w for w in (text or "").split(",") if w}
    if wanted - INCLUDES:
        raise errors.invalid(f"includes takes {', '.join(sorted(INCLUDES))}", field="includes")
    return wanted


def _actor(request: Request) -> dict:
    """Who makes the change: a LAN desk is its authenticated id (the ``X-Desk-User`` header
    only names the person at it); the server's own desk may name itself by header."""
    desk = request.state.desk
    user = (request.headers.get("x-desk-user") or "")[:100] or None
    if desk is None or desk.local:
        return {"deskId": (request.headers.get("x-desk-id") or "")[:100] or "local", "user": user}
    return {"deskId": desk.id, "user": user or desk.name}


def _own(request: Request) -> set[str] | None:
    """The resource ids a provider desk may act for; None = any."""
    desk = request.state.desk
    return set(desk.resource_ids) if desk is not None and desk.role == DeskRole.PROVIDER else None


def _forbid(message: str = "this desk may only work with its own resources") -> BookingError:
    return BookingError("FORBIDDEN", message, 403)


def _check_resource(request: Request, resource_id: str | None) -> None:
    own = _own(request)
    if own is not None and resource_id not in own:
        raise _forbid()


def _mine(service: BookingService, own: set[str]):
    """``mine(booking)``: True when a provider desk with resources ``own`` may see the booking
    (it is on one of them, or waits unassigned for a type one of them serves)."""
    served = {t for r in service.store.resources() if r["id"] in own for t in (r.get("types") or [])}

    def mine(booking: dict) -> bool:
        if booking.get("resourceId"):
            return booking["resourceId"] in own
        return booking.get("typeId") in served

    return mine


def _check_booking(request: Request, service: BookingService, booking: Mapping[str, Any]) -> None:
    own = _own(request)
    if own is not None and not _mine(service, own)(booking):
        raise _forbid()


def create_app(
    service: BookingService,
    *,
    expire_every: float = 30.0,
    extra_lifespan=None,
    desks: DeskRegistry | None = None,
    host_names: frozenset[str] | None = None,
) -> FastAPI:
    """The ASGI app over ``service``. ``extra_lifespan`` (an async context manager factory
    taking the app) runs beside it, e.g. the sync engine. ``desks`` (default: a registry on
    the service's store) pairs and authenticates LAN desks; ``api.state.desks``."""

    @asynccontextmanager
    async def lifespan(api: FastAPI):
        async def expire_loop():
            while True:
                await asyncio.sleep(expire_every)
                try:
                    await service.store.write(service.expire_overdue)
                except Exception:  # keep the loop alive; the error is logged
                    log.exception("expiring overdue queue bookings and holds failed")

        task = asyncio.create_task(expire_loop())
        try:
            if extra_lifespan is not None:
                async with extra_lifespan(api):
                    yield
            else:
                yield
        finally:
            task.cancel()

    api = FastAPI(
        title="Istiqbal branch booking server",
        version=app_package.__version__,
        lifespan=lifespan,
        description=__doc__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(undeclared_refused)],
    )
    api.state.service = service
    api.state.desks = desks or DeskRegistry(service.store)
    api.add_middleware(DeskGuard, registry=api.state.desks, names=host_names)
    api.add_middleware(ErrorEnvelope)
    day_cache = ResponseCache(service.store)
    # the loop never waits on SQLite: reads run on the store's reader threads, writes on its
    # one writer thread (app.store.Store.read / .write); the loop keeps serving meanwhile
    reading, writing = _off_loop(service.store.read), _off_loop(service.store.write)

    @api.exception_handler(BookingError)
    async def booking_error(_: Request, exc: BookingError):
        headers = {"Retry-After": str(exc.details["retryAfter"])} if "retryAfter" in exc.details else None
        if exc.http_status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(exc.to_json(), status_code=exc.http_status, headers=headers)

    @api.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = (
            f"{where}: {first.get('msg', 'invalid request')}"
            if where
            else first.get("msg", "invalid request")
        )
        return JSONResponse({"error": {"code": errors.VALIDATION, "message": message}}, status_code=400)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        code = {
            400: errors.VALIDATION,
            404: errors.NOT_FOUND,
            405: "METHOD-NOT-ALLOWED",
            413: "TOO-LARGE",
        }.get(exc.status_code, "HTTP-ERROR")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @api.get("/openapi.json", include_in_schema=False, dependencies=[require(Role.PROVIDER)])
    async def openapi():
        """The OpenAPI document of every route (with each route's role as ``x-role``)."""
        return JSONResponse(_openapi(api))

    @api.get("/readyz", dependencies=[require(Role.NONE)])
    async def readyz():
        return {"result": {"status": "ok", "version": app_package.__version__}}

    @api.get("/branch", dependencies=[require(Role.PROVIDER)])
    @reading
    def branch():
        return {"result": service.store.branch()}

    # reference data ---------------------------------------------------------------
    @api.get("/management/resources", dependencies=[require(Role.PROVIDER)])
    @reading
    def resources(
        request: Request, limit: int = Query(100, ge=1, le=MAX_LIMIT), nextPageToken: str | None = None
    ):
        return _page(_localized(request, service.store.resources()), limit, nextPageToken)

    @api.get("/management/resources/mine", dependencies=[require(Role.PROVIDER)])
    @reading
    def my_resources(request: Request):
        """A provider desk's own resources (every resource for other desks)."""
        own = _own(request)
        rows = [r for r in service.store.resources() if own is None or r["id"] in own]
        return {"result": rows, "pagination": {"nextPageToken": None, "hasMore": False}}

    @api.get("/management/resources/{resourceId}", dependencies=[require(Role.PROVIDER)])
    @reading
    def resource(request: Request, resourceId: str):
        return {"result": _localized(request, [service._resource(resourceId)])[0]}

    @api.get("/management/resources/{resourceId}/timeRules", dependencies=[require(Role.PROVIDER)])
    @reading
    def time_rules(resourceId: str):
        return {"result": service._resource(resourceId).get("timeRules") or {}}

    @api.put("/management/resources/{resourceId}/timeRules", dependencies=[require(Role.MANAGER)])
    @writing
    def set_time_rules(resourceId: str, body: schemas.TimeRulesBody):
        """Replace a resource's working hours (manager desks; Ehjzny API reference, "Manage Time Rules")."""
        row = service._resource(resourceId)
        rules = body.model_dump(by_alias=True)  # validated: known fields, from < to, 0000–2400
        with service.store.transaction():
            service.store.upsert("resources", [{**row, "timeRules": rules}])
            for listener in service.time_rule_listeners:  # the sync engine queues the cloud's PUT
                listener(resourceId, rules)
        service.events.publish(EventType.RESOURCE_CHANGED, {"resource": service._resource(resourceId)})
        return {"result": rules}

    @api.get("/management/types", dependencies=[require(Role.PROVIDER)])
    @reading
    def types(
        request: Request, limit: int = Query(100, ge=1, le=MAX_LIMIT), nextPageToken: str | None = None
    ):
        return _page(_localized(request, service.store.types()), limit, nextPageToken)

    @api.get("/management/types/{typeId}", dependencies=[require(Role.PROVIDER)])
    @reading
    def booking_type(request: Request, typeId: str):
        return {"result": _localized(request, [service._type(typeId)])[0]}

    @api.put("/management/types/{typeId}/ticketPrefix", dependencies=[require(Role.MANAGER)])
    @writing
    def set_ticket_prefix(request: Request, typeId: str, body: schemas.TicketPrefixBody):
        """Set the booking type's ticket prefix (manager desks; one or two letters, e.g. ``B``
        → tickets B001, B002…; :mod:`app.domain.tickets`). Tickets already given keep theirs."""
        prefix = check_prefix(body.ticketPrefix)
        with service.store.lock, service.store.transaction():
            service._type(typeId)
            service.store.db.execute("update types set ticketPrefix = ? where id = ?", [prefix, typeId])
            service.store.generation += 1
        return {"result": _localized(request, [service._type(typeId)])[0]}

    @api.get("/management/customers", dependencies=[require(Role.RECEPTION)])
    @reading
    def customers(
        search: str | None = Query(None, max_length=100),
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
        nextPageToken: str | None = None,
    ):
        """Customers matching ``search`` by name (Arabic or English, normalised), phone digits
        or customer number."""
        text = (search or "").strip()
        digits = "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())  # ٠١٢ too
        found = service.store.customers(
            search_key=normalize_arabic(text) if text else None,
            phone_digits=phones.search_forms(text, service.store.phone_region),  # 055…, +96655…, 0096655…
            number=int(digits) if digits and len(digits) <= 9 else None,
            limit=MAX_LIMIT * 5,
        )
        return _page(found, limit, nextPageToken)

    @api.post("/management/customers", status_code=201, dependencies=[require(Role.RECEPTION)])
    @writing
    def create_customer(body: schemas.CustomerBody):
        """A new customer; the phone is stored in E.164 (read in the branch's region, any form:
        ``055…``, ``+96655…``). Refused with CUSTOMER-EXISTS (409) and ``details.candidate``
        (the customer who has that number already: a probable duplicate) — the desk offers
        that customer instead."""
        store = service.store
        row = {"id": new_id(), **body.model_dump(), "createdAt": to_iso(service.now())}
        with store.lock:
            _check_customer(store, row)
            with store.transaction():
                row["customerNumber"] = store.next_customer_number()
                store.upsert("customers", [row])
                service.events.record(EventType.CUSTOMER_CHANGED, {"customer": row})
        return {"result": row}

    @api.patch("/management/customers/{customerId}", dependencies=[require(Role.RECEPTION)])
    @writing
    def update_customer(customerId: str, body: schemas.CustomerPatch):
        """Correct a customer's name, phone, e-mail or note (``body``: the fields to change)
        → the customer as stored. The phone is stored in E.164 like a new customer's. Raises
        NOT-FOUND (404), VALIDATION (400: an empty first name, a phone that is no phone) and
        CUSTOMER-EXISTS (409, ``details.candidate``: another customer has that number). The
        change stays on this branch: a cloud keeps its own copy of the customer
        (``docs/clouds/``); desks get ``customer.changed``."""
        store = service.store
        changes = body.model_dump(exclude_unset=True)
        if "firstName" in changes and not (changes["firstName"] or "").strip():
            raise errors.invalid("the first name is required", field="firstName")
        with store.lock:
            current = store.customer(customerId)
            if current is None:
                raise errors.not_found("customer", customerId)
            row = {k: current.get(k) for k in ("id", "firstName", "lastName", "phone", "email", "note")}
            row.update(
                {
                    k: (v.strip() if isinstance(v, str) else v) or (None if k != "lastName" else "")
                    for k, v in changes.items()
                }
            )
            _check_customer(store, row)
            with store.transaction():
                store.upsert("customers", [row])
                saved = store.customer(customerId)
                service.events.record(EventType.CUSTOMER_CHANGED, {"customer": saved})
        return {"result": saved}

    @api.get("/management/customers/{customerId}", dependencies=[require(Role.RECEPTION)])
    @reading
    def customer(customerId: str):
        found = service.store.customer(customerId)
        if found is None:
            raise errors.not_found("customer", customerId)
        return {"result": found}

    @api.get("/management/customers/{customerId}/bookings", dependencies=[require(Role.RECEPTION)])
    @reading
    def customer_bookings(
        customerId: str,
        includes: str | None = Query(None, max_length=100),
        limit: int = Query(200, ge=1, le=MAX_LIMIT),
    ):
        """The customer's bookings (any status), newest start first, waiting ones first of
        all: the desk's customer card (reception role)."""
        rows = service.customer_bookings(customerId, limit)
        return {"result": service.embed(rows, _includes(includes))}

    # bookings ---------------------------------------------------------------------
    @api.get("/management/bookings", dependencies=[require(Role.PROVIDER)])
    @reading
    def bookings(
        request: Request,
        from_: str | None = Query(None, alias="from", max_length=40),
        to: str | None = Query(None, max_length=40),
        date_: str | None = Query(None, alias="date", max_length=10),
        resources: str | None = Query(None, max_length=2000),
        status: str | None = Query(None, max_length=200),
        includes: str | None = Query(None, max_length=100),
        orderDirection: str = Query("asc", pattern="^(asc|desc)$"),
        limit: int = Query(MAX_LIMIT, ge=1, le=5000),
        nextPageToken: str | None = None,
    ):
        """Scheduled bookings overlapping ``from``..``to`` (UTC ISO) or the branch-local
        ``date``; ``resources`` and ``status`` comma-separated filters."""
        if date_:
            start, end = service.day_bounds(_day(date_))
        elif from_ and to:
            start, end = _instant(from_, "from"), _instant(to, "to")
        else:
            raise errors.invalid("give either date or from and to", field="from")
        if end <= start or (end - start).days > 62:
            raise errors.invalid("the range must be positive and at most 62 days", field="to")
        own = _own(request)
        key = (
            start,
            end,
            resources,
            status,
            includes,
            orderDirection,
            limit,
            nextPageToken,
            frozenset(own) if own is not None else None,
        )
        generation = day_cache.generation()
        cached = day_cache.get(key)
        if cached is not None:
            return cached
        wanted = _includes(includes)
        resource_ids = [r for r in (resources or "").split(",") if r] or None
        statuses = [s for s in (status or "").split(",") if s] or None
        if statuses and set(statuses) - set(Status):
            raise errors.invalid(f"status takes {', '.join(Status)}", field="status")
        for rid in resource_ids or ():
            service._resource(rid)
        if own is not None:
            if resource_ids and set(resource_ids) - own:
                raise _forbid()
            resource_ids = resource_ids or sorted(own)
        rows = service.list_bookings(start, end, resource_ids, statuses)
        if orderDirection == "desc":
            rows.reverse()
        page = _page(rows, limit, nextPageToken)
        service.embed(page["result"], wanted)
        return day_cache.put(key, _json(page), generation)

    @api.get("/management/bookings/unassigned", dependencies=[require(Role.PROVIDER)])
    @reading
    def unassigned(
        request: Request,
        resourceId: str = Query(min_length=1, max_length=64),
        includes: str | None = Query(None, max_length=100),
    ):
        """The resource's queue, FIFO, with positions (Ehjzny API reference, "Provider: View Unassigned Bookings")."""
        _check_resource(request, resourceId)
        rows = service.embed(service.queue(resourceId), _includes(includes))
        return {"result": rows, "pagination": {"nextPageToken": None, "hasMore": False}}

    @api.get("/management/bookings/waiting", dependencies=[require(Role.PROVIDER)])
    @reading
    def waiting(request: Request, includes: str | None = Query(None, max_length=100)):
        """Every booking waiting for any resource, oldest first (the desk's queue panel); for a
        provider desk those waiting for its own resources only."""
        wanted, own = _includes(includes), _own(request)
        rows = service.waiting()
        if own is not None:
            mine = _mine(service, own)
            rows = [b for b in rows if mine(b)]
        rows = service.embed(rows, wanted)
        return {"result": rows, "pagination": {"nextPageToken": None, "hasMore": False}}

    @api.get("/management/queues", dependencies=[require(Role.PROVIDER)])
    @reading
    def queues(request: Request, includes: str | None = Query(None, max_length=100)):
        """Every resource's queue: ``[{"resourceId", "queue": [booking with position]}]``; for
        a provider desk its own resources' queues only."""
        wanted, own = _includes(includes), _own(request)
        return {
            "result": [
                {"resourceId": r["id"], "queue": service.embed(service.queue(r["id"]), wanted)}
                for r in service.store.resources()
                if own is None or r["id"] in own
            ]
        }

    @api.get("/management/bookings/{bookingId}", dependencies=[require(Role.PROVIDER)])
    @reading
    def booking(request: Request, bookingId: str, includes: str | None = Query(None, max_length=100)):
        row = service._booking(bookingId)
        _check_booking(request, service, row)
        return {"result": service.embed([service.to_api(row)], _includes(includes))[0]}

    @api.get("/management/bookings/{bookingId}/history", dependencies=[require(Role.PROVIDER)])
    @reading
    def history(request: Request, bookingId: str):
        """Every change of the booking: ``[{id, createdAt, action, actor, deskId, before, after}]``."""
        _check_booking(request, service, service._booking(bookingId))
        return {"result": service.history(bookingId)}

    @api.post(ACTIONS[Action.ACCEPT].route, dependencies=[require(RANK[ACTIONS[Action.ACCEPT].role])])
    @writing
    def assign(body: schemas.AssignBody, request: Request):
        _check_resource(request, body.resourceId)
        return {
            "result": service.accept(
                body.bookingId, body.resourceId, _actor(request), when_free=body.whenFree
            )
        }

    @api.post(ACTIONS[Action.CANCEL].route, dependencies=[require(RANK[ACTIONS[Action.CANCEL].role])])
    @writing
    def cancel(body: schemas.CancelBody, request: Request):
        return {"result": service.cancel(body.bookingId, body.reason, _actor(request))}

    def _visit(action: Action):
        @writing
        def handler(body: schemas.BookingRef, request: Request):
            _check_booking(request, service, service._booking(body.bookingId))
            return {"result": service.act(action, body.bookingId, _actor(request))}

        return handler

    # the actions whose body is {"bookingId"} alone: route, role and service call from the table
    for action, spec in ref_actions():
        api.post(spec.route, name=spec.method or action, dependencies=[require(RANK[spec.role])])(
            _visit(action)
        )

    @api.put(ACTIONS[Action.CREATE].route, dependencies=[require(RANK[ACTIONS[Action.CREATE].role])])
    @writing
    def schedule(body: schemas.SchedulingBody, request: Request):
        return {"result": service.create(body.model_dump(exclude_none=True), _actor(request))}

    @api.put(ACTIONS[Action.HOLD].route, dependencies=[require(RANK[ACTIONS[Action.HOLD].role])])
    @writing
    def temporary(body: schemas.HoldBody, request: Request):
        """Hold a slot for ``reservedForMinutes`` (Ehjzny API reference, "Create Temporary Booking")."""
        return {"result": service.hold(body.model_dump(exclude_none=True), _actor(request))}

    # availability -------------------------------------------------------------------
    @api.post("/availability/times", dependencies=[require(Role.RECEPTION)])
    @reading
    def times(body: schemas.AvailabilityTimesBody):
        fixed = list(body.fixedTimes or [])
        if body.showFixedTimes:
            fixed += [int(t) for t in body.showFixedTimes.replace(" ", "").split(",") if t]
        try:
            grid = availability.grid_from(
                body.granularity,
                body.step,
                fixed,
                body.model_dump(include=set(availability.SHOW_FLAGS)),
                body.showInBetweenSlots,
            )
        except ValueError as exc:
            raise errors.invalid(str(exc), field="granularity") from exc
        result = service.free_times(
            body.type, _day(body.date), body.resourceId, ignore_id=body.rescheduleBookingId, grid=grid
        )
        return {"result": result, "pagination": {"nextPageToken": None, "hasMore": False}}

    @api.post("/availability/types", dependencies=[require(Role.RECEPTION)])
    @reading
    def available_types(body: schemas.AvailabilityTypesBody):
        """Booking types with ``pendingCount`` (Ehjzny API reference, "Queue Booking")."""
        return _page(service.available_types(body.resourceId), body.limit, body.nextPageToken)

    @api.post("/availability/resources", dependencies=[require(Role.RECEPTION)])
    @reading
    def available_resources(body: schemas.AvailabilityResourcesBody):
        return _page(service.available_resources(body.type), body.limit, body.nextPageToken)

    # attendances (Rekaz "Attendances API") -------------------------------------------
    @api.get("/management/attendances", dependencies=[require(Role.RECEPTION)])
    @reading
    def attendances(
        date_: str | None = Query(None, alias="date", max_length=10),
        customerId: str | None = Query(None, max_length=64),
    ):
        """Check-ins and check-outs of a branch-local ``date`` and/or of one customer."""
        if not date_ and not customerId:
            raise errors.invalid("give date or customerId", field="date")
        if date_:
            rows = service.attendances(_day(date_))
        else:
            rows = service.store._rows(
                "select * from attendances where customerId = ? order by createdAt", [customerId]
            )
        return {"result": [r for r in rows if not customerId or r["customerId"] == customerId]}

    @api.post("/management/attendances", status_code=201, dependencies=[require(Role.RECEPTION)])
    @writing
    def add_attendance(body: schemas.AttendanceBody, request: Request):
        """Record a ``CheckIn`` (check-in) or ``CheckOut`` (end of the visit) of a booking."""
        _check_booking(request, service, service._booking(body.bookingId))
        action = service.check_in if body.actionType == AttendanceKind.CHECK_IN else service.end
        booking = action(body.bookingId, _actor(request))
        rows = service.store._rows(
            "select * from attendances where bookingId = ? and type = ? order by createdAt desc limit 1",
            [body.bookingId, body.actionType],
        )
        return {"result": {**(rows[0] if rows else {}), "booking": booking}}

    # live events --------------------------------------------------------------------
    @api.get("/events", dependencies=[require(Role.PROVIDER)])
    async def events(request: Request, lastEventId: int | None = Query(None, ge=0, le=MAX_EVENT_ID)):
        """Server-sent events; resume with the ``Last-Event-ID`` header (or ``lastEventId``).
        Replays what was missed, also across a server restart; ``resync`` when it cannot.
        Raises VALIDATION for a ``Last-Event-ID`` that is not ASCII digits up to 10^15."""
        header = (request.headers.get("last-event-id") or "").strip()
        last = _event_id(header) if header else lastEventId
        log_ = service.events
        keep = await service.store.read(_event_filter, service, _own(request))
        queue = log_.subscribe()

        async def stream():
            try:
                sent = last if last is not None else log_.last_id
                missed = await service.store.read(log_.since, sent)  # older events are read back
                if missed is None:
                    yield {"event": "resync", "id": str(log_.last_id), "data": "{}"}
                    sent = log_.last_id
                else:
                    for event in missed:
                        sent = event["id"]
                        if (shown := keep(event)) is not None:
                            yield _sse(shown)
                yield {"event": "hello", "data": json.dumps({"lastEventId": sent})}
                while True:
                    burst = [await queue.get()]
                    while not queue.empty():  # what came meanwhile goes out in one write
                        burst.append(queue.get_nowait())
                    chunk = []
                    for event in burst:
                        if event["id"] > sent:
                            sent = event["id"]
                            shown = keep(event)
                            if shown is event:
                                chunk.append(log_.wire(event))
                            elif shown is not None:
                                chunk.append(encode_sse(shown))
                    if chunk:
                        yield b"".join(chunk)
            finally:
                log_.unsubscribe(queue)

        return EventSourceResponse(stream(), ping=15)

    @api.get("/sync/status", dependencies=[require(Role.RECEPTION)])
    async def sync_status():
        status = getattr(api.state, "sync_status", None)
        return {
            "result": await service.store.read(status)
            if status
            else {
                "online": False,
                "connected": False,
                "cloud": None,
                "lastPullAt": None,
                "pending": 0,
                "needsAttention": 0,
            }
        }

    desk_routes.add_routes(api)
    api.include_router(payment_routes.router)
    api.include_router(report_routes.router)
    return api


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
_ERROR_RESPONSES = {
    "400": "refused input (code VALIDATION or a booking rule)",
    "401": "no valid desk token",
    "403": "this desk's role may not do this, or another origin or host",
    "404": "no such record",
    "409": "a conflict with the current state",
    "413": "the body is larger than 64 KiB",
    "429": "too many wrong pairing codes",
}


def _openapi(api: FastAPI) -> dict:
    """``api.openapi()`` with each operation's declared role as ``x-role`` (none, provider,
    reception, manager), built once."""
    if api.openapi_schema is None or getattr(api, "_roles_marked", None) is not api.openapi_schema:
        from app.server.security import route_roles

        schema = api.openapi()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "a desk token (the server's own, or a paired desk's)",
        }
        components.setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
        for path, methods, role in route_roles(api):
            item = schema.get("paths", {}).get(path)
            if role is None or item is None:
                continue
            for method in methods:
                operation = item.get(method.lower())
                if operation is None:
                    continue
                operation["x-role"] = role.name.lower()
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)  # refused input is a 400 here (the envelope below)
                for status, text in _ERROR_RESPONSES.items():
                    if role is Role.NONE and status in ("401", "403") and path != "/desks/pair":
                        continue
                    responses.setdefault(
                        status,
                        {
                            "description": text,
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                            },
                        },
                    )
                if role is not Role.NONE:
                    operation["security"] = [{"bearer": []}]
        api._roles_marked = schema  # type: ignore[attr-defined]
    return api.openapi_schema


def _off_loop(run):
    """A decorator: the route's plain function runs through ``run`` (``Store.read`` or
    ``Store.write``) off the event loop; FastAPI still reads its parameters."""

    def decorate(fn):
        @functools.wraps(fn)
        async def route(*args, **kwargs):
            return await run(functools.partial(fn, *args, **kwargs))

        return route

    return decorate


def _json(content) -> Response:
    """A JSON response encoded once with the stdlib encoder (FastAPI's generic encoder costs
    ~60 ms for a day of 600 bookings)."""
    return Response(
        json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode(), media_type="application/json"
    )


class ResponseCache:
    """Encoded list responses keyed by their query, valid while the store's write
    ``generation`` stays the same (any committed write empties it). Holds ``size`` entries."""

    def __init__(self, store, size: int = 64):
        self.store, self.size = store, size
        self._items: OrderedDict = OrderedDict()
        self._generation = -1
        self._lock = threading.Lock()  # reader threads share it

    def get(self, key):
        """The cached response, or None; ``key`` is then remembered with the current
        generation, and :meth:`put` keeps the answer only if no write came in between."""
        with self._lock:
            if self._generation != self.store.generation:
                self._items.clear()
                self._generation = self.store.generation
                return None
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def generation(self) -> int:
        return self.store.generation

    def put(self, key, response: Response, generation: int | None = None) -> Response:
        """Keep ``response`` for ``key`` if it was computed at ``generation`` (read before
        the query) and the store is still at it."""
        with self._lock:
            now = self.store.generation
            if self._generation == now and (generation is None or generation == now):
                self._items[key] = response
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return response


def _localized(request: Request, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """``name`` in the language of the ``lang`` header (``en``/``ar``; Ehjzny API reference, "Localization":
    "Display fields language"), from ``name_translations``; ``name_translations`` stays."""
    lang = (request.headers.get("lang") or "").strip().lower()[:2]
    if lang not in ("en", "ar"):
        return list(rows)
    return [{**r, "name": (r.get("name_translations") or {}).get(lang) or r.get("name")} for r in rows]


def _sse(event: dict) -> dict:
    return {
        "event": event["type"],
        "id": str(event["id"]),
        "data": json.dumps(event["data"], ensure_ascii=False),
    }


def _event_filter(service: BookingService, own: set[str] | None):
    """``keep(event)`` → the event as this desk sees it, or None: all events, or for a provider
    those of its own resources (and waiting bookings of the types they serve)."""
    if own is None:
        return lambda event: event
    served = {t for r in service.store.resources() if r["id"] in own for t in (r.get("types") or [])}

    def keep(event: dict) -> dict | None:
        data = event["data"]
        if event["type"] == EventType.BOOKING_CHANGED:
            b = data["booking"]
            mine = b.get("resourceId") in own if b.get("resourceId") else b["typeId"] in served
            return event if mine else None
        if event["type"] == EventType.QUEUE_CHANGED:
            queues = {r: q for r, q in data.get("queues", {}).items() if r in own}
            return {**event, "data": {**data, "queues": queues}} if queues else None
        if event["type"] == EventType.SLOT_FREED:
            return event if data.get("resourceId") in own else None
        return event if event["type"] in (EventType.RESYNC, EventType.RESOURCE_CHANGED) else None

    return keep
