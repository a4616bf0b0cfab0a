"""Formatting raw values (UTC ISO strings, ids, minutes) for display, in one place.

Models keep raw values; these helpers turn them into text in the desk's language and
the branch time zone (Babel through :mod:`app.i18n.formats`). Every number, time and
date shown goes through :mod:`app.i18n.formats`, so the digits setting (View → Digits)
applies everywhere; a count put into a sentence with ``%`` goes through :func:`digits`."""

from __future__ import annotations

from datetime import date, datetime

from app.domain.clock import from_iso
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.labels import status_label
from app.i18n.text import display_name, fsi


def time_of(iso: str | None, zone: str) -> str:
    return fmt.format_time(from_iso(iso), zone) if iso else ""


def span_of(booking: dict, zone: str) -> str:
    """``9:00 AM – 9:30 AM`` of a scheduled booking ("" while unassigned)."""
    if not booking.get("startDateTime"):
        return ""
    # Translators: a time range, e.g. "9:00 AM – 9:30 AM".
    return _("{start} – {end}").format(
        start=fsi(time_of(booking["startDateTime"], zone)), end=fsi(time_of(booking.get("endDateTime"), zone))
    )


def day_label(day: date) -> str:
    return fmt.format_date(day, format="full")


def hijri_label(day: date) -> str:
    """The Umm al-Qura date of ``day`` (beside the Gregorian one: header, printed sheets)."""
    return fmt.hijri_date(day)


def customer_name(booking: dict) -> str:
    customer = booking.get("customer") or {}
    name = f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip()
    return name or _("(no name)")


def type_name(booking: dict, types: dict[str, dict] | None = None) -> str:
    booking_type = booking.get("type") or (types or {}).get(booking.get("typeId") or "") or {}
    return display_name(booking_type) if booking_type else ""


def phone_of(booking: dict) -> str:
    phone = (booking.get("customer") or {}).get("phone") or ""
    return f"\u2066{phone}\u2069" if phone else ""  # LRI … PDI: a phone number reads left to right


def booking_status(booking: dict) -> str:
    return status_label(booking.get("status"), booking.get("visitStatus"))


def minutes_waited(booking: dict, now: datetime) -> int:
    created = from_iso(booking.get("createdAt"))
    return max(0, int((now - created).total_seconds() // 60)) if created else 0


def minutes_text(n: int) -> str:
    """``79`` → ``1 hr 19 min`` / ``ساعة و19 دقيقة`` (CLDR units and plurals)."""
    return fmt.format_duration_minutes(n)


def digits(text: str) -> str:
    """Arabic-Indic digits in ``text`` when the Arabic desk asks for them."""
    return fmt.localize_digits(text)


def number_text(n: int | None) -> str:
    return fmt.format_number(n) if n is not None else ""


def ticket_text(booking: dict | None) -> str:
    """The walk-in's ticket exactly as the server gave it (``A001``), the same string in the
    queue, doctor mode, on the waiting-room screen and the printed ticket (never localised
    digits: it is read aloud and matched by eye); "" for none."""
    booking = booking or {}
    if booking.get("ticket"):
        return str(booking["ticket"])
    return str(booking["queueNumber"]) if booking.get("queueNumber") else ""
