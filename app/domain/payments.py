"""Money at the desk: prices, payments, refunds and VAT, in integer minor units.

Units: every amount is an ``int`` in the currency's minor unit (halalas for SAR: 1 SAR =
100 halalas; the number of decimals comes from CLDR via Babel, e.g. 3 for KWD). VAT rates
are ``int`` basis points (1500 = 15 %). Times are UTC.

Rules (the branch's own, as Saudi simplified tax invoices need them):

- A booking type's ``price`` (string ``d+.dd``, :mod:`app.domain.model`) and a booking's
  price include VAT: a simplified (B2C) invoice shows the total with VAT and the VAT in
  it (ZATCA "E-Invoicing Detailed Guidelines", simplified tax invoice fields).
- The VAT in an amount ``a`` at rate ``r`` bp is ``a * r / (10000 + r)`` rounded half away
  from zero to the minor unit, so a refund's VAT is exactly the negative of the payment's.
- A payment is positive and at most the booking's balance (price − paid); a refund is
  negative, needs a reason, and never takes back more than has been paid.
- A canceled or rejected booking takes no new payment (there is no visit to pay for); a
  refund of what was paid on it is still allowed. A no-show may still be charged (a
  no-show fee is the branch's call).
- Methods: ``cash``, ``card``, ``transfer``, ``online``.

Raises :class:`~app.domain.errors.BookingError` (400) with the codes below; nothing here
touches the store.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from app.domain.errors import BookingError

METHODS = ("cash", "card", "transfer", "online")
CURRENCY_DEFAULT = "SAR"
VAT_RATE_DEFAULT = 1500  # basis points: the Saudi standard rate, 15 % since 2020-07-01
VAT_RATE_MAX = 10000  # 100 %
AMOUNT_MAX = 10**10  # minor units (100 000 000 SAR): anything larger is a typing slip

BAD_AMOUNT = "PAY-BAD-AMOUNT"
BAD_METHOD = "PAY-BAD-METHOD"
OVER_BALANCE = "PAY-OVER-BALANCE"
OVER_REFUND = "PAY-REFUND-OVER-PAID"
REASON_REQUIRED = "PAY-REASON-REQUIRED"
BOOKING_CLOSED = "PAY-BOOKING-CLOSED"
CLOSED_STATUSES = ("CANCELED", "REJECTED")  # :class:`app.domain.model.Status` values
BAD_RATE = "PAY-BAD-VAT-RATE"
BAD_CURRENCY = "PAY-BAD-CURRENCY"


def decimals(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (ISO 4217; CLDR): SAR 2, KWD 3, JPY 0.
    Raises PAY-BAD-CURRENCY for a code that is not three letters."""
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise BookingError(
            BAD_CURRENCY, f"not an ISO 4217 currency code: {currency!r}", 400, field="currency"
        )
    return get_currency_precision(currency)


def to_minor(price: str | int | Decimal | None, currency: str = CURRENCY_DEFAULT) -> int:
    """``"150.00"`` (major units, string or Decimal) → ``15000`` minor units; None or ``""``
    → 0. Rounds half up to the minor unit. Raises PAY-BAD-AMOUNT for text that is no number."""
    if price is None or price == "":
        return 0
    try:
        value = Decimal(str(price))
    except InvalidOperation as exc:
        raise BookingError(BAD_AMOUNT, f"not an amount: {price!r}", 400, field="price") from exc
    if not value.is_finite():
        raise BookingError(BAD_AMOUNT, f"not an amount: {price!r}", 400, field="price")
    return int((value * 10 ** decimals(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_amount(text: str, currency: str = CURRENCY_DEFAULT) -> int:
    """What a receptionist typed (``"150"``, ``"1,234.50"``, ``"١٥٠٫٥٠"``; Latin or
    Arabic-Indic digits, ``٫``/``.`` decimal and ``٬``/``,`` grouping marks) → minor units.
    Raises PAY-BAD-AMOUNT for anything else or more decimals than the currency has."""
    cleaned = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in (text or "").strip())
    cleaned = cleaned.replace("٫", ".").replace("٬", "").replace(",", "").replace(" ", "")
    cleaned = cleaned.replace(" ", "")
    places = decimals(currency)
    whole, _dot, frac = cleaned.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > places or (_dot and not frac):
        raise BookingError(BAD_AMOUNT, f"not an amount: {text!r}", 400, field="amount")
    return to_minor(cleaned, currency)


def to_major(amount: int, currency: str = CURRENCY_DEFAULT) -> Decimal:
    """``15000`` minor units → ``Decimal("150.00")`` (for formatting with Babel)."""
    places = decimals(currency)
    return (Decimal(int(amount)) / (10**places)).quantize(Decimal(1).scaleb(-places))


def vat_in(amount: int, rate: int) -> int:
    """The VAT contained in ``amount`` (minor units, VAT included) at ``rate`` basis points,
    rounded half away from zero to the minor unit: ``vat_in(11500, 1500) == 1500``,
    ``vat_in(-11500, 1500) == -1500``."""
    check_rate(rate)
    exact = Decimal(abs(int(amount))) * rate / (VAT_RATE_MAX + rate)
    vat = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return -vat if amount < 0 else vat


def check_rate(rate) -> int:
    """A VAT rate in basis points, 0..10000. Raises PAY-BAD-VAT-RATE."""
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= VAT_RATE_MAX:
        raise BookingError(
            BAD_RATE,
            f"the VAT rate is basis points from 0 to {VAT_RATE_MAX}, not {rate!r}",
            400,
            field="vatRate",
        )
    return rate


def check_price(price) -> int:
    """A booking's price in minor units (VAT included), 0..AMOUNT_MAX. Raises PAY-BAD-AMOUNT."""
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= AMOUNT_MAX:
        raise BookingError(
            BAD_AMOUNT, "the price is a whole number of minor units (halalas), 0 or more", 400, field="price"
        )
    return price


def check_payment(
    amount, method: str, reason: str | None, *, price: int, paid: int, status: str | None = None
) -> None:
    """Refuse a payment (``amount`` > 0) or refund (``amount`` < 0) the rules do not allow.

    ``price`` and ``paid`` are the booking's, in minor units; ``status`` its status. Raises
    PAY-BAD-AMOUNT (zero, not an int, too large), PAY-BAD-METHOD, PAY-BOOKING-CLOSED (409: a
    payment on a canceled or rejected booking), PAY-OVER-BALANCE (more than price − paid),
    PAY-REASON-REQUIRED (a refund without a reason), PAY-REFUND-OVER-PAID (a refund larger
    than what has been paid)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > AMOUNT_MAX:
        raise BookingError(
            BAD_AMOUNT,
            "the amount is a non-zero whole number of minor units (halalas); a refund is negative",
            400,
            field="amount",
        )
    if method not in METHODS:
        raise BookingError(BAD_METHOD, f"method takes {', '.join(METHODS)}", 400, field="method")
    if amount > 0 and status in CLOSED_STATUSES:
        raise BookingError(
            BOOKING_CLOSED,
            "a canceled or rejected booking takes no payment; a refund is still possible",
            409,
            field="bookingId",
            status=status,
        )
    if amount > 0:
        balance = price - paid
        if amount > balance:
            raise BookingError(
                OVER_BALANCE,
                "the amount is more than the booking's balance",
                400,
                field="amount",
                balance=balance,
            )
    else:
        if not (reason or "").strip():
            raise BookingError(REASON_REQUIRED, "a refund needs a reason", 400, field="reason")
        if -amount > paid:
            raise BookingError(
                OVER_REFUND, "a refund cannot be more than has been paid", 400, field="amount", paid=paid
            )


def figures(price: int, payments: list[dict]) -> dict:
    """``{"price", "paid", "balance"}`` in minor units: ``paid`` is the sum of the booking's
    payments (refunds negative), ``balance`` = price − paid."""
    paid = sum(int(p["amount"]) for p in payments)
    return {"price": price, "paid": paid, "balance": price - paid}


def drawer_expected(payments: list[dict]) -> dict[str, int]:
    """Takings by method (minor units; refunds subtract): ``{"cash": 30000, "card": ...}``
    for every method in :data:`METHODS`."""
    out = dict.fromkeys(METHODS, 0)
    for p in payments:
        out[p["method"]] = out.get(p["method"], 0) + int(p["amount"])
    return out
