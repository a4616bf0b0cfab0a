"""Routes for payments, refunds, booking prices, receipts, billing settings and the day's
cash drawer (an ``APIRouter`` included by :func:`app.server.api.create_app`).

Money is integer minor units (halalas), VAT rates basis points, times UTC ISO; the rules
are :mod:`app.domain.payments`, the storage :mod:`app.server.payments`.

* ``GET /management/payments?bookingId=…`` or ``?date=YYYY-MM-DD`` (branch-local day;
  optional ``deskId``, ``user``) → ``{"result": [payment]}``
* ``POST /management/payments`` ``{bookingId, amount, method, reference?, reason?}`` → 201
  ``{"result": payment + {"booking": {price, paid, balance, currency}}}``; a refund is a
  negative ``amount`` with a ``reason``
* ``GET /management/payments/{paymentId}`` and ``…/receipt`` (what the printed simplified
  tax invoice shows, with the ZATCA QR payload ``qr``)
* ``PUT /management/bookings/{bookingId}/price`` ``{price, reason}`` (manager)
* ``GET /management/billing``; ``PUT /management/billing`` ``{sellerName?, vatNumber?,
  vatRate?, currency?, typeVatRates?}`` (manager)
* ``GET /management/drawer?date=&deskId=&user=`` → expected takings by method;
  ``POST /management/drawer-counts`` ``{date, deskId?, user?, counted, note?}`` → 201 the saved
  count with its differences; ``GET /management/drawer-counts?date=``

Every route runs its SQLite work off the event loop (reads on the store's reader threads,
writes on its writer thread: :meth:`app.store.Store.read` / :meth:`~app.store.Store.write`).

Payment errors: 400 ``PAY-BAD-AMOUNT``, ``PAY-BAD-METHOD``, ``PAY-OVER-BALANCE``,
``PAY-REASON-REQUIRED``, ``PAY-REFUND-OVER-PAID``, ``PAY-BAD-VAT-RATE``, ``PAY-BAD-CURRENCY``;
404 ``NOT-FOUND``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from app.domain import errors
from app.server.payments import Payments, billing, save_billing
from app.server.schemas import Body
from app.server.security import Role, require

#: Roles of these routes, read by :mod:`app.server.security` ((method, path regex) → least
#: role); every other route here needs a reception desk (the default), never a provider.

router = APIRouter()


class PaymentBody(Body):
    bookingId: str = Field(min_length=1, max_length=64)
    amount: Any = None  # checked by app.domain.payments (PAY-BAD-AMOUNT, not a generic VALIDATION)
    method: str | None = Field(default=None, max_length=20)
    reference: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=500)


class PriceBody(Body):
    price: Any = None
    reason: str = Field(default="", max_length=500)


class BillingBody(Body):
    sellerName: str | None = Field(default=None, max_length=200)
    vatNumber: str | None = Field(default=None, max_length=15)
    vatRate: Any = None
    currency: str | None = Field(default=None, max_length=3)
    typeVatRates: dict[str, Any] | None = Field(default=None, max_length=500)


class DrawerCountBody(Body):
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    deskId: str | None = Field(default=None, max_length=100)
    user: str | None = Field(default=None, max_length=100)
    counted: dict[str, Any] = Field(max_length=10)
    note: str | None = Field(default=None, max_length=1000)


def _payments(request: Request) -> Payments:
    return Payments(request.app.state.service)


async def _read(request: Request, fn, *args):
    """``fn(*args)`` on the store's reader threads: the loop never waits on SQLite."""
    return await request.app.state.service.store.read(fn, *args)


async def _write(request: Request, fn, *args):
    """``fn(*args)`` on the store's one writer thread (:meth:`app.store.Store.write`)."""
    return await request.app.state.service.store.write(fn, *args)


def _actor(request: Request) -> dict:
    from app.server.api import _actor as actor  # the one place that reads the credentials

    return actor(request)


def _day(text: str):
    from app.server.api import _day as day

    return day(text)


@router.get("/management/payments", dependencies=[require(Role.RECEPTION)])
async def list_payments(
    request: Request,
    bookingId: str | None = Query(None, max_length=64),
    date_: str | None = Query(None, alias="date", max_length=10),
    deskId: str | None = Query(None, max_length=100),
    user: str | None = Query(None, max_length=100),
):
    """A booking's payments, or those of a branch-local day, by invoice number."""
    if bookingId:
        rows = await _read(request, _payments(request).of_booking, bookingId)
    elif date_:
        rows = await _read(request, _payments(request).of_day, _day(date_), deskId, user)
    else:
        raise errors.invalid("give bookingId or date", field="bookingId")
    return {"result": rows, "pagination": {"nextPageToken": None, "hasMore": False}}


@router.post("/management/payments", status_code=201, dependencies=[require(Role.RECEPTION)])
async def take_payment(body: PaymentBody, request: Request):
    """Take a payment or make a refund (reception); the desk and user come from the request's
    credentials."""
    return {"result": await _write(request, _payments(request).take, body.model_dump(), _actor(request))}


@router.get("/management/payments/{paymentId}", dependencies=[require(Role.RECEPTION)])
async def payment(request: Request, paymentId: str):
    return {"result": await _read(request, _payments(request).payment, paymentId)}


@router.get("/management/payments/{paymentId}/receipt", dependencies=[require(Role.RECEPTION)])
async def receipt(request: Request, paymentId: str):
    """The simplified tax invoice of a payment (see :meth:`Payments.receipt`)."""
    return {"result": await _read(request, _payments(request).receipt, paymentId)}


@router.put("/management/bookings/{bookingId}/price", dependencies=[require(Role.MANAGER)])
async def set_price(request: Request, bookingId: str, body: PriceBody):
    """A booking's own price (manager), with the reason kept in its history."""
    return {
        "result": await _write(
            request, _payments(request).set_price, bookingId, body.price, body.reason, _actor(request)
        )
    }


@router.get("/management/billing", dependencies=[require(Role.RECEPTION)])
async def get_billing(request: Request):
    return {"result": await _read(request, billing, request.app.state.service.store)}


@router.put("/management/billing", dependencies=[require(Role.MANAGER)])
async def put_billing(request: Request, body: BillingBody):
    """Change the branch's seller name, VAT number, VAT rate, currency or per-type rates (manager)."""
    return {"result": await _write(request, save_billing, request.app.state.service.store, body.model_dump())}


@router.get("/management/drawer", dependencies=[require(Role.RECEPTION)])
async def drawer(
    request: Request,
    date_: str = Query(alias="date", max_length=10),
    deskId: str | None = Query(None, max_length=100),
    user: str | None = Query(None, max_length=100),
):
    """Expected takings by method of a branch-local day for one desk and user (default: the
    calling desk and its user)."""
    me = _actor(request)
    return {
        "result": await _read(
            request, _payments(request).drawer, _day(date_), deskId or me["deskId"], user or me["user"]
        )
    }


@router.post("/management/drawer-counts", status_code=201, dependencies=[require(Role.RECEPTION)])
async def close_drawer(request: Request, body: DrawerCountBody):
    """Close the day: save the counted drawer against the expected (a difference needs a note)."""
    me = _actor(request)
    return {
        "result": await _write(
            request,
            _payments(request).close_drawer,
            _day(body.date),
            body.deskId or me["deskId"],
            body.user or me["user"],
            body.counted,
            body.note,
            me,
        )
    }


@router.get("/management/drawer-counts", dependencies=[require(Role.RECEPTION)])
async def drawer_counts(request: Request, date_: str = Query(alias="date", max_length=10)):
    return {"result": await _read(request, _payments(request).drawer_counts, _day(date_))}
