"""DigitalBooker payloads ⇄ the domain's rows, and the ONE place where the cloud's local
date-times are converted (DigitalBooker API reference "The booking object", "The user
object", "The resource object", "The payment object"; contract
``docs/clouds/digitalbooker.md`` "Transport" → value formats, "Desk operations on
DigitalBooker", "Behaviour the desk relies on").

Pure functions, no I/O. Row field names are the domain's (:mod:`app.domain.model`); every
cloud field name comes from :mod:`app.sync.digitalbooker.names`.

Times: the cloud's dates (``YYYY-MM-DD``), times (``HH:MM``, ``HH:MM:SS`` accepted) and
datetimes (``YYYY-MM-DDTHH:MM:SS``, a space separator or an offset accepted) are the
location's wall time without a zone (contract "Transport"). They are read and written by
:func:`local_to_utc`, :func:`stamp_to_utc`, :func:`utc_to_local` and :func:`utc_to_stamp`
only, with the location's IANA zone (the branch's: one desk branch is one location).

Ids are kept as text. Workers and rooms are both resources in DigitalBooker, in one id
space, so a local resource's cloud id is the resource id. A service is a booking type (cloud
id = service id). Class and resource (room) bookings have no service: they get the booking
types :data:`CLASS_TYPE` and :data:`ROOM_TYPE`, which the connector never sends (read-only).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain import phones
from app.domain.model import Status
from app.i18n.search import search_text
from app.sync.connector import CloudMoney, CloudPayment
from app.sync.digitalbooker.names import name

#: booking types of the bookings the desk shows but never sends (contract "Behaviour":
#: class and course bookings are read-only; resource bookings show on the room's column)
CLASS_TYPE = "class"
ROOM_TYPE = "resource"
READ_ONLY_TYPES = frozenset({CLASS_TYPE, ROOM_TYPE})
#: booking ``type`` values (API reference "The booking object": service, class, resource)
SERVICE, CLASS, RESOURCE = "service", "class", "resource"
#: resource ``type`` values (API reference "The resource object")
WORKER, ROOM = "worker", "resource"
#: ``interface`` of a booking made through the Admin API (API reference: 1 = admin, 2 = www)
ADMIN_INTERFACE = 1
#: minutes of a service whose length the cloud does not give (the Admin API has no
#: duration; contract "Desk operations": durations only in the Public API)
DEFAULT_MINUTES = 30
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


class MappingError(ValueError):
    """A DigitalBooker payload that cannot become a local row (no id, a bad date or time);
    the caller logs it and sets it aside."""


# ---- local date-times: the one place -----------------------------------------------------
def parse_time(text, what: str = "time") -> time:
    """``HH:MM`` or ``HH:MM:SS`` → a time. Raises MappingError."""
    found = _TIME.match(str(text or ""))
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise MappingError(f"{what}: not a time: {text!r}")
    return time(int(found[1]), int(found[2]), int(found[3] or 0))


def parse_date(text, what: str = "date") -> date:
    try:
        return date.fromisoformat(str(text)[:10])
    except (TypeError, ValueError):
        raise MappingError(f"{what}: not a date: {text!r}") from None


def duration_minutes(text, what: str = "duration") -> int:
    """A duration written as a time (``01:30``, contract "Transport") → minutes."""
    value = parse_time(text, what)
    return value.hour * 60 + value.minute


def local_to_utc(day, clock_time, zone: str, what: str = "time") -> datetime:
    """The location's ``date`` + ``time`` (no zone) → aware UTC. A wall time skipped by a
    daylight-saving change resolves forward (``fold=0``). Raises MappingError."""
    moment = datetime.combine(parse_date(day, what), parse_time(clock_time, what), ZoneInfo(zone))
    return moment.astimezone(UTC)


def stamp_to_utc(text, zone: str, what: str = "datetime") -> datetime:
    """A cloud datetime (``created``, ``modified``: ``YYYY-MM-DDTHH:MM:SS`` local; a space or
    an offset accepted) → aware UTC. Raises MappingError."""
    try:
        moment = datetime.fromisoformat(str(text).strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise MappingError(f"{what}: not a datetime: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def utc_to_local(moment: datetime, zone: str) -> tuple[str, str]:
    """Aware UTC → the location's ``(YYYY-MM-DD, HH:MM)``."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.date().isoformat(), local.strftime("%H:%M")


def utc_to_stamp(moment: datetime, zone: str) -> str:
    """Aware UTC → a cloud datetime in the location's wall time, ``YYYY-MM-DDTHH:MM:SS``."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="seconds")


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def normal_stamp(text) -> str | None:
    """A cloud datetime as ``YYYY-MM-DDTHH:MM:SS`` in the cloud's own wall time (the pull's
    mark is compared and sent as the cloud wrote it, never the desk's clock: contract
    "Behaviour" → Pull). None for an empty or unreadable value."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def shift_stamp(stamp: str, minutes: float) -> str:
    """A cloud datetime ``minutes`` later (negative: earlier), same format."""
    moment = datetime.fromisoformat(stamp) + timedelta(minutes=minutes)
    return moment.isoformat(timespec="seconds")


# ---- helpers ------------------------------------------------------------------------------
def _id(obj, what: str) -> str:
    if not isinstance(obj, dict) or obj.get(name(f"{what}.id")) in (None, ""):
        raise MappingError(f"{what} without an id: {obj!r}"[:300])
    return str(obj[name(f"{what}.id")])


def ids_of(values) -> list[str]:
    """An int list (``resources``) → cloud ids as text; anything else → ``[]``."""
    if not isinstance(values, list):
        return []
    return [
        str(v.get("id") if isinstance(v, dict) else v)
        for v in values
        if v is not None and not isinstance(v, bool)
    ]


def user_id(obj: dict) -> str | None:
    """The booking's ``user`` (an object not fully expanded, API reference "Users"; a bare id
    accepted) → its id as text."""
    user = obj.get(name("booking.user"))
    if isinstance(user, dict):
        value = user.get(name("user.id"))
    else:
        value = user
    return None if value in (None, "") else str(value)


# ---- bookings -----------------------------------------------------------------------------
def booking_from_cloud(obj: dict, zone: str, kinds: dict[str, str]) -> dict:
    """A booking object → a booking row (cloud ids; times UTC).

    ``kinds``: resource cloud id → ``worker`` | ``resource`` (the reference data). The
    resource is the first worker of ``resources``; a resource booking (or a service
    booking with only a room) shows on its room's column. ``status``: a service booking
    with no worker waits in the queue (``PENDING_ASSIGNMENT``, contract "Desk operations":
    accept); else ``CONFIRMED`` when ``confirmed``, ``PENDING_APPROVAL`` when not (the flag
    is the only status a booking has). ``createdAt`` is the cloud's ``created``. The
    ``start_offset``/``end_offset`` buffers stay in the payload (the desk has no
    per-booking buffer). Raises MappingError."""
    ident = _id(obj, "booking")
    what = f"booking {ident}"
    kind = str(obj.get(name("booking.type")) or SERVICE)
    day = obj.get(name("booking.date"))
    start = local_to_utc(day, obj.get(name("booking.start_time")), zone, what)
    end_text = obj.get(name("booking.end_time"))
    end = local_to_utc(day, end_text, zone, what) if end_text else None
    if end is not None and end <= start:  # a booking past midnight
        end += timedelta(days=1)
    resources = ids_of(obj.get(name("booking.resources")))
    workers = [r for r in resources if kinds.get(r) == WORKER]
    rooms = [r for r in resources if kinds.get(r) == ROOM]
    unknown = [r for r in resources if r not in kinds]
    if kind == SERVICE:
        service = obj.get(name("booking.service_id"))
        if service in (None, ""):
            raise MappingError(f"{what}: a service booking without a service")
        type_id = str(service)
    elif kind == CLASS:
        type_id = CLASS_TYPE
    elif kind == RESOURCE:
        type_id = ROOM_TYPE
    else:
        raise MappingError(f"{what}: unknown booking type {kind!r}")
    worker = (workers or unknown or [None])[0]
    resource = worker or (rooms[0] if rooms else None)
    if kind == SERVICE and worker is None:
        status = Status.PENDING_ASSIGNMENT
    elif obj.get(name("booking.confirmed")):
        status = Status.CONFIRMED
    else:
        status = Status.PENDING_APPROVAL
    minutes = int((end - start).total_seconds() // 60) if end else None
    row = {
        "status": status.value,
        "startDateTime": _iso(start),
        "typeId": type_id,
        "resourceId": resource,
        "customerId": user_id(obj),
        "note": obj.get(name("booking.notes")) or None,
    }
    if end is not None:
        row["endDateTime"], row["duration"] = _iso(end), minutes
    created = obj.get(name("booking.created"))
    if created:
        row["createdAt"] = _iso(stamp_to_utc(created, zone, what))
    return row


def booking_mark(obj: dict) -> str | None:
    """The newer of the booking's ``created`` and ``modified`` (``modified`` is present only
    on modified bookings, API reference), in the cloud's wall time: the pull's mark."""
    stamps = [normal_stamp(obj.get(name("booking.created"))), normal_stamp(obj.get(name("booking.modified")))]
    stamps = [s for s in stamps if s]
    return max(stamps) if stamps else None


def booking_key(obj: dict) -> tuple:
    """The natural key of a booking the desk made (contract "Behaviour": lost reply on a
    create): ``(user id, service id, date, start HH:MM, sorted resources)``."""
    start = obj.get(name("booking.start_time"))
    try:
        start = parse_time(start).strftime("%H:%M")
    except MappingError:
        start = str(start)
    return (
        user_id(obj),
        str(obj.get(name("booking.service_id"))),
        str(obj.get(name("booking.date")))[:10],
        start,
        tuple(sorted(ids_of(obj.get(name("booking.resources"))))),
    )


def service_booking_body(
    *, location_id: str, service_id: str, start: datetime, zone: str, resources: list[str], user: str
) -> dict:
    """The body of "Create a service booking" (API reference; names inferred): location, service,
    the location's date and start time, ``resources`` = [worker (, room)], ``user_id``."""
    day, clock_time = utc_to_local(start, zone)
    return {
        name("booking.location_id"): _int(location_id),
        name("booking.service_id"): _int(service_id),
        name("booking.date"): day,
        name("booking.start_time"): clock_time,
        name("booking.resources"): [_int(r) for r in resources],
        name("booking.user_id"): _int(user),
    }


def body_key(body: dict) -> tuple:
    """:func:`booking_key` of a create body (what a listed booking must match)."""
    return (
        str(body[name("booking.user_id")]),
        str(body[name("booking.service_id")]),
        body[name("booking.date")],
        body[name("booking.start_time")],
        tuple(sorted(str(r) for r in body[name("booking.resources")])),
    )


def _int(value):
    """Cloud ids are ints (API reference: "int | Booking ID."); a non-numeric id is sent as given."""
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


# ---- payments -----------------------------------------------------------------------------
def payment_body(amount_minor: int, decimals: int, vat_rate_bp: int) -> dict:
    """ "Add a payment to a booking" (API reference): ``type`` cash (the only type that can be added),
    ``amount`` including tax (0–99999, a float in the currency's units) and ``tax`` (a
    percentage 0–100). ``amount_minor``: the desk's minor units; ``vat_rate_bp``: basis
    points (1500 = 15 %). Raises MappingError outside the API reference's ranges."""
    amount = round(amount_minor / (10**decimals), decimals)
    tax = round(vat_rate_bp / 100, 2)
    if not 0 <= amount <= 99999:
        raise MappingError(f"payment amount {amount} is outside 0..99999")
    if not 0 <= tax <= 100:
        raise MappingError(f"tax {tax} % is outside 0..100")
    return {name("payment.type"): "cash", name("payment.amount"): amount, name("payment.tax"): tax}


def payments_from_cloud(items: list) -> list[dict]:
    """Payment objects → ``[{id, type, amount, tax}]`` (amount including tax, tax a
    percentage; API reference "The payment object"); malformed items are left out."""
    out = []
    for item in items or []:
        if not isinstance(item, dict) or item.get(name("payment.id")) is None:
            continue
        try:
            out.append(
                {
                    "id": str(item[name("payment.id")]),
                    "type": str(item.get(name("payment.type")) or ""),
                    "amount": float(item.get(name("payment.amount")) or 0),
                    "tax": float(item.get(name("payment.tax")) or 0),
                }
            )
        except (TypeError, ValueError):
            continue
    return out


#: the API reference's payment types (API reference "The payment object": cash, prepaid, other, online) → the
#: desk's methods (:mod:`app.domain.payments`); ``prepaid`` and ``other`` stay ``other``
PAYMENT_METHODS = {"cash": "cash", "online": "online"}


def has_money(obj: dict) -> bool:
    """The booking object says something about money: a ``price`` or a ``paid`` flag (the
    API reference sends both "If set"); only then are its payments read."""
    return obj.get(name("booking.price")) is not None or obj.get(name("booking.paid")) is not None


def money_from_cloud(obj: dict, items: list) -> CloudMoney:
    """A booking object and its payment objects → :class:`CloudMoney` (API reference "The booking
    object": ``price`` including tax, ``paid`` "has payments so that is considered fully
    paid"; "The payment object": ``amount`` including tax, ``tax`` a percentage). Amounts
    stay major units as text; a malformed payment is left out (logged by the caller's
    count); a price that is no number is None."""
    price = obj.get(name("booking.price"))
    try:
        price_text = None if price is None else str(Decimal(str(float(price))))
    except (TypeError, ValueError):
        price_text = None
    payments = []
    for p in payments_from_cloud(items):
        payments.append(
            CloudPayment(
                p["id"],
                str(Decimal(str(p["amount"]))),
                PAYMENT_METHODS.get(p["type"], "other"),
                p["type"],
                int(round(p["tax"] * 100)),
            )
        )
    paid = obj.get(name("booking.paid"))
    return CloudMoney(
        price=price_text, payments=tuple(payments), fully_paid=None if paid is None else bool(paid)
    )


# ---- users --------------------------------------------------------------------------------
def split_name(full: str | None) -> tuple[str, str]:
    """A full name (the user object has one, API reference) → (first, last): the last word is the
    last name; a single word is the first name."""
    parts = (full or "").split()
    if len(parts) <= 1:
        return (parts[0] if parts else ""), ""
    return " ".join(parts[:-1]), parts[-1]


def customer_from_cloud(user: dict, region: str = phones.DEFAULT_REGION) -> dict:
    """A user object → a customer row with the cloud's id: ``firstName``/``lastName`` from
    the full ``name``, ``phone`` E.164 (None when not a number), ``email``. Raises
    MappingError without an id."""
    ident = _id(user, "user")
    first, last = split_name(user.get(name("user.name")))
    try:
        phone = phones.normalize(user.get(name("user.phone")), region)
    except ValueError:
        phone = None
    row = {
        "id": ident,
        "firstName": first or None,
        "lastName": last or None,
        "phone": phone,
        "email": (user.get(name("user.email")) or None),
    }
    row["searchText"] = search_text(row["firstName"], row["lastName"], row["phone"])
    return {k: v for k, v in row.items() if v is not None or k in ("firstName", "lastName")}


def user_body(customer: dict) -> dict:
    """ "Create a user object" (API reference): first and last name (both required), email, phone and
    ``type`` — ``normal`` whenever there is an email or phone (the user list, scanned after
    a lost reply, omits ``temporary`` users), ``temporary`` for a walk-in with neither
    (contract "Behaviour" → Users)."""
    first = (customer.get("firstName") or "").strip() or "-"
    last = (customer.get("lastName") or "").strip() or "-"
    body = {name("user.first_name"): first, name("user.last_name"): last}
    if customer.get("email"):
        body[name("user.email")] = customer["email"]
    if customer.get("phone"):
        body[name("user.phone")] = customer["phone"]
    body[name("user.type")] = "normal" if (customer.get("email") or customer.get("phone")) else "temporary"
    return body


def same_person(user: dict, customer: dict) -> bool:
    """Does a listed user carry the customer's email (any case) or phone (E.164)?"""
    email = (customer.get("email") or "").strip().lower()
    if email and str(user.get(name("user.email")) or "").strip().lower() == email:
        return True
    if customer.get("phone"):
        try:
            return phones.normalize(user.get(name("user.phone"))) == customer["phone"]
        except ValueError:
            return False
    return False


# ---- reference data -----------------------------------------------------------------------
def booking_type(service: dict, minutes: int | None = None) -> dict:
    """A service → a ``types`` row (cloud id = service id). ``minutes``: the first of the
    public ``durations`` when known, else :data:`DEFAULT_MINUTES` (the desk takes a pulled
    booking's own length from the booking). Names are user-generated and localised by the
    URL's language (API reference "Localization"): the same name in both languages until the desk
    gives its own."""
    ident = _id(service, "service")
    label = str(service.get(name("service.name")) or ident)
    return {
        "id": ident,
        "name": label,
        "name_translations": {"en": label, "ar": label},
        "minutes": int(minutes or DEFAULT_MINUTES),
        "leaveMinutesBefore": 0,
        "leaveMinutesAfter": 0,
        "autoConfirm": True,
        "on": True,
    }


def read_only_types() -> list[dict]:
    """The booking types of class and room bookings (:data:`READ_ONLY_TYPES`)."""
    return [
        {
            "id": CLASS_TYPE,
            "name": "Class",
            "name_translations": {"en": "Class", "ar": "حصة جماعية"},
            "minutes": 60,
            "leaveMinutesBefore": 0,
            "leaveMinutesAfter": 0,
            "autoConfirm": True,
            "on": True,
        },
        {
            "id": ROOM_TYPE,
            "name": "Room booking",
            "name_translations": {"en": "Room booking", "ar": "حجز غرفة"},
            "minutes": 60,
            "leaveMinutesBefore": 0,
            "leaveMinutesAfter": 0,
            "autoConfirm": True,
            "on": True,
        },
    ]


def public_minutes(categories: list) -> dict[str, int]:
    """The Public API's service categories (each with ``services``, each with
    ``durations``, a time list) → service id → minutes of its first duration."""
    out: dict[str, int] = {}
    for category in categories or []:
        services = category.get(name("category.services")) if isinstance(category, dict) else None
        for service in services or ([category] if isinstance(category, dict) else []):
            durations = service.get(name("service.durations")) if isinstance(service, dict) else None
            if not durations or service.get(name("service.id")) is None:
                continue
            try:
                out[str(service[name("service.id")])] = duration_minutes(durations[0])
            except (MappingError, IndexError, TypeError):
                continue
    return out


def resource_row(resource: dict, types: list[str], time_rules: dict | None) -> dict:
    """A resource object → a ``resources`` row: a ``worker`` is a provider, a ``resource``
    a room (API reference "The resource object"); ``types`` the service ids it serves."""
    ident = _id(resource, "resource")
    label = str(resource.get(name("resource.name")) or ident)
    worker = resource.get(name("resource.type")) == WORKER
    row = {
        "id": ident,
        "name": label,
        "name_translations": {"en": label, "ar": label},
        "category": "provider" if worker else "room",
        "types": list(types),
        "on": True,
        "activated": True,
    }
    if time_rules is not None:
        row["timeRules"] = time_rules
    return row


def _military(text, what: str) -> int:
    value = parse_time(text, what)
    return value.hour * 100 + value.minute


def time_rules(work_hours: list, location_id: str, first: date, last: date) -> dict:
    """A worker's dated work hours (contract: ``[{date, location_id, hours: [{start_time,
    end_time}]}]``) at one location → the project's time rules (:mod:`app.domain.timerules`):
    one rule per worked period, limited to its date (``fromDate`` = ``toDate``), and
    ``depthOfDays`` up to ``last``; a date of ``first..last`` without hours is a day off.
    ``end_time`` ``00:00`` is the day's end. Raises MappingError for a shape it cannot read
    (the caller keeps the hours as unknown, never closed)."""
    from app.domain.timerules import day_name

    if not isinstance(work_hours, list):
        raise MappingError(f"work hours: expected a list, got {type(work_hours).__name__}")
    rules = []
    for entry in work_hours:
        if not isinstance(entry, dict):
            raise MappingError(f"work hours: not an object: {entry!r}"[:200])
        place = entry.get(name("work_hours.location_id"))
        if place not in (None, "") and str(place) != str(location_id):
            continue
        day = parse_date(entry.get(name("work_hours.date")), "work hours")
        hours = entry.get(name("work_hours.hours"))
        if not isinstance(hours, list):
            raise MappingError(f"work hours of {day}: no hours list")
        for period in hours:
            if not isinstance(period, dict):
                raise MappingError(f"work hours of {day}: not a period: {period!r}"[:200])
            start = _military(period.get(name("work_hours.start_time")), "work hours")
            end = _military(period.get(name("work_hours.end_time")), "work hours")
            if end == 0:
                end = 2400
            if end <= start:
                raise MappingError(f"work hours of {day}: {start} to {end}")
            rules.append(
                {
                    "days": [day_name(day)],
                    "from": start,
                    "to": end,
                    "fromDate": day.isoformat(),
                    "toDate": day.isoformat(),
                }
            )
    return {
        "depthOfDays": max(0, (last - first).days),
        "scheduleAfterHoursFromNow": 0,
        "rules": rules,
        "offRules": [],
    }
