"""The branch booking server's HTTP API (FastAPI on Starlette).

Paths and shapes follow the Ehjzny management API (``shared/contracts/ehjzny.md``):
``{"result": ...}`` for one object, ``{"result": [...], "pagination": {"nextPageToken",
"hasMore"}}`` for lists, and ``{"error": {"code", "message"}}`` with a 4xx status for a
refused request, after which nothing has been written. Operations the cloud does not have
(check-in, start, no-show, history, attendances, events) sit beside them in the same style.
The OpenAPI document is served at ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import app as app_package
from app.domain import errors
from app.domain.clock import from_iso, to_iso
from app.domain.errors import BookingError
from app.i18n.text import normalize_arabic
from app.ids import new_id
from app.server import schemas
from app.server.service import BookingService

log = logging.getLogger(__name__)
MAX_LIMIT = 1000


def _page(items: list, limit: int, token: str | None) -> dict:
    """Slice ``items`` into the contract's list envelope with an opaque offset token."""
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError as exc:
        raise errors.invalid("nextPageToken is not valid", field="nextPageToken") from exc
    chunk = items[offset:offset + limit]
    more = offset + limit < len(items)
    next_token = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return {"result": chunk, "pagination": {"nextPageToken": next_token, "hasMore": more}}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise errors.invalid(f"not a date (YYYY-MM-DD): {text!r}", field="date") from exc


def _instant(text: str, field: str):
    try:
        return from_iso(text)
    except ValueError as exc:
        raise errors.invalid(f"{field} must be an ISO-8601 time with a zone", field=field) from exc


def _actor(request: Request) -> dict:
    return {"deskId": request.headers.get("x-desk-id"), "user": request.headers.get("x-desk-user")}


def create_app(service: BookingService, *, expire_every: float = 30.0, extra_lifespan=None) -> FastAPI:
    """The ASGI app over ``service``. ``extra_lifespan`` (an async context manager factory
    taking the app) runs beside it, e.g. the sync engine."""

    @asynccontextmanager
    async def lifespan(api: FastAPI):
        async def expire_loop():
            while True:
                await asyncio.sleep(expire_every)
                try:
                    service.expire_overdue()
                except Exception:  # keep the loop alive; the error is logged
                    log.exception("expiring overdue queue bookings failed")

        task = asyncio.create_task(expire_loop())
        try:
            if extra_lifespan is not None:
                async with extra_lifespan(api):
                    yield
            else:
                yield
        finally:
            task.cancel()

    api = FastAPI(title="Istiqbal branch booking server", version=app_package.__version__, lifespan=lifespan)
    api.state.service = service

    @api.exception_handler(BookingError)
    async def booking_error(_: Request, exc: BookingError):
        return JSONResponse(exc.to_json(), status_code=exc.http_status)

    @api.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
        return JSONResponse({"error": {"code": errors.VALIDATION, "message": message}}, status_code=400)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        code = {400: errors.VALIDATION, 404: errors.NOT_FOUND, 405: "METHOD-NOT-ALLOWED",
                413: "TOO-LARGE"}.get(exc.status_code, "HTTP-ERROR")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code)

    @api.get("/readyz")
    async def readyz():
        return {"result": {"status": "ok", "version": app_package.__version__}}

    @api.get("/branch")
    async def branch():
        return {"result": service.store.branch()}

    # reference data ---------------------------------------------------------------
    @api.get("/management/resources")
    async def resources(limit: int = Query(100, ge=1, le=MAX_LIMIT), nextPageToken: str | None = None):
        return _page(service.store.resources(), limit, nextPageToken)

    @api.get("/management/resources/{resourceId}")
    async def resource(resourceId: str):
        return {"result": service._resource(resourceId)}

    @api.get("/management/types")
    async def types(limit: int = Query(100, ge=1, le=MAX_LIMIT), nextPageToken: str | None = None):
        return _page(service.store.types(), limit, nextPageToken)

    @api.get("/management/types/{typeId}")
    async def booking_type(typeId: str):
        return {"result": service._type(typeId)}

    @api.get("/management/customers")
    async def customers(search: str | None = Query(None, max_length=100),
                        limit: int = Query(50, ge=1, le=MAX_LIMIT), nextPageToken: str | None = None):
        """Customers matching ``search`` by name (Arabic or English, normalised), phone digits
        or customer number."""
        text = (search or "").strip()
        digits = "".join(ch for ch in text if ch.isdigit())
        found = service.store.customers(
            search_key=normalize_arabic(text) if text else None,
            phone_digits=digits if len(digits) >= 3 else None,
            number=int(digits) if digits and len(digits) <= 9 else None,
            limit=MAX_LIMIT * 5)
        return _page(found, limit, nextPageToken)

    @api.post("/management/customers", status_code=201)
    async def create_customer(body: schemas.CustomerBody):
        store = service.store
        if body.phone and store.customer_by(phone=body.phone):
            raise BookingError("CUSTOMER-EXISTS", "a customer with this phone number exists", 409,
                               phone=body.phone)
        row = {"id": new_id(), **body.model_dump(), "createdAt": to_iso(service.now())}
        row["searchText"] = normalize_arabic(f"{row['firstName']} {row['lastName']} {row.get('phone') or ''}")
        with store.transaction():
            row["customerNumber"] = store.next_customer_number()
            store.upsert("customers", [row])
        service.events.publish("customer.changed", {"customer": row})
        return {"result": row}

    @api.get("/management/customers/{customerId}")
    async def customer(customerId: str):
        found = service.store.customer(customerId)
        if found is None:
            raise errors.not_found("customer", customerId)
        return {"result": found}

    # bookings ---------------------------------------------------------------------
    @api.get("/management/bookings")
    async def bookings(request: Request,
                       from_: str | None = Query(None, alias="from"), to: str | None = None,
                       date_: str | None = Query(None, alias="date"),
                       resources: str | None = None, status: str | None = None,
                       includes: str | None = None, orderDirection: str = Query("asc", pattern="^(asc|desc)$"),
                       limit: int = Query(MAX_LIMIT, ge=1, le=5000), nextPageToken: str | None = None):
        """Scheduled bookings overlapping ``from``..``to`` (UTC ISO) or the branch-local ``date``."""
        if date_:
            start, end = service.day_bounds(_day(date_))
        elif from_ and to:
            start, end = _instant(from_, "from"), _instant(to, "to")
        else:
            raise errors.invalid("give either date or from and to", field="from")
        if end <= start or (end - start).days > 62:
            raise errors.invalid("the range must be positive and at most 62 days", field="to")
        rows = service.list_bookings(start, end, resources.split(",") if resources else None,
                                     status.split(",") if status else None)
        if orderDirection == "desc":
            rows.reverse()
        page = _page(rows, limit, nextPageToken)
        _include(service, page["result"], includes)
        return page

    @api.get("/management/bookings/unassigned")
    async def unassigned(resourceId: str = Query(min_length=1), includes: str | None = None):
        """The resource's queue, FIFO, with positions (seed 000 "Provider: View Unassigned Bookings")."""
        rows = service.queue(resourceId)
        _include(service, rows, includes)
        return {"result": rows, "pagination": {"nextPageToken": None, "hasMore": False}}

    @api.get("/management/bookings/waiting")
    async def waiting(includes: str | None = None):
        """Every booking waiting for any resource, oldest first (the desk's queue panel)."""
        rows = service.waiting()
        _include(service, rows, includes)
        return {"result": rows, "pagination": {"nextPageToken": None, "hasMore": False}}

    @api.get("/management/bookings/{bookingId}")
    async def booking(bookingId: str, includes: str | None = None):
        out = service.to_api(service._booking(bookingId))
        _include(service, [out], includes)
        return {"result": out}

    @api.get("/management/bookings/{bookingId}/history")
    async def history(bookingId: str):
        return {"result": service.history(bookingId)}

    @api.post("/management/bookings/assign")
    async def assign(body: schemas.AssignBody, request: Request):
        return {"result": service.accept(body.bookingId, body.resourceId, _actor(request))}

    @api.post("/management/bookings/cancel")
    async def cancel(body: schemas.CancelBody, request: Request):
        return {"result": service.cancel(body.bookingId, body.reason, _actor(request))}

    @api.post("/management/bookings/end")
    async def end(body: schemas.BookingRef, request: Request):
        return {"result": service.end(body.bookingId, _actor(request))}

    @api.post("/management/bookings/checkin")
    async def checkin(body: schemas.BookingRef, request: Request):
        return {"result": service.check_in(body.bookingId, _actor(request))}

    @api.post("/management/bookings/start")
    async def start(body: schemas.BookingRef, request: Request):
        return {"result": service.start(body.bookingId, _actor(request))}

    @api.post("/management/bookings/noshow")
    async def noshow(body: schemas.BookingRef, request: Request):
        return {"result": service.no_show(body.bookingId, _actor(request))}

    @api.put("/management/scheduling/new")
    async def schedule(body: schemas.SchedulingBody, request: Request):
        return {"result": service.create(body.model_dump(exclude_none=True), _actor(request))}

    @api.post("/availability/times")
    async def times(body: schemas.AvailabilityBody):
        return {"result": service.free_times(body.type, _day(body.date), body.resourceId,
                                             ignore_id=body.rescheduleBookingId, step=body.step)}

    @api.get("/management/attendances")
    async def attendances(date_: str = Query(alias="date")):
        return {"result": service.attendances(_day(date_))}

    # live events --------------------------------------------------------------------
    @api.get("/events")
    async def events(request: Request, lastEventId: int | None = None):
        """Server-sent events; resume with the ``Last-Event-ID`` header (or ``lastEventId``)."""
        header = request.headers.get("last-event-id")
        last = int(header) if header and header.isdigit() else lastEventId
        log_ = service.events
        queue = log_.subscribe()

        async def stream():
            try:
                sent = last if last is not None else log_.last_id
                missed = log_.since(sent)
                if missed is None:
                    yield {"event": "resync", "id": str(log_.last_id), "data": "{}"}
                    sent = log_.last_id
                else:
                    for event in missed:
                        yield _sse(event)
                        sent = event["id"]
                yield {"event": "hello", "data": json.dumps({"lastEventId": sent})}
                while True:
                    event = await queue.get()
                    if event["id"] > sent:
                        sent = event["id"]
                        yield _sse(event)
            finally:
                log_.unsubscribe(queue)

        return EventSourceResponse(stream(), ping=15)

    @api.get("/sync/status")
    async def sync_status():
        status = getattr(api.state, "sync_status", None)
        return {"result": status() if status else {"online": False, "connected": False, "cloud": None,
                                                  "lastPullAt": None, "pending": 0, "needsAttention": 0}}

    return api


def _sse(event: dict) -> dict:
    return {"event": event["type"], "id": str(event["id"]), "data": json.dumps(event["data"], ensure_ascii=False)}


def _include(service: BookingService, rows: list[dict], includes: str | None) -> None:
    """Embed ``customer``, ``type`` and ``resource`` objects (the contract's ``includes``)."""
    wanted = set((includes or "").split(","))
    if not rows or not wanted & {"customer", "type", "resource"}:
        return
    types = {t["id"]: t for t in service.store.types()} if "type" in wanted else {}
    resources = {r["id"]: r for r in service.store.resources()} if "resource" in wanted else {}
    customers = {}
    if "customer" in wanted:
        ids = sorted({r["customerId"] for r in rows if r.get("customerId")})
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            for c in service.store._rows(f"select * from customers where id in ({','.join('?' * len(part))})", part):
                customers[c["id"]] = c
    for row in rows:
        if "customer" in wanted:
            row["customer"] = customers.get(row.get("customerId"))
        if "type" in wanted:
            row["type"] = types.get(row.get("typeId"))
        if "resource" in wanted and row.get("resourceId"):
            row["resource"] = resources.get(row["resourceId"])
