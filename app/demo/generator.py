"""A deterministic demo clinic in the exact shapes the Ehjzny API returns.

Working week: Saturday to Thursday, Friday off. The demo must always show a busy
``today``: when ``today`` is itself a Friday, that generated clinic takes Thursday off
instead (its weekly rules name ``sat``..``wed`` and ``fri``), so today is a working day
with bookings and the week still has six working days. Everything else is unchanged.

Randomness comes from ``random.Random(seed)`` only; the scheduled bookings depend on
``today``, ``zone`` and ``seed``; the walk-ins (and the ``createdAt`` of bookings that
would otherwise be created in the future) also on ``now``.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.demo import catalog
from app.domain import clock, timerules

WINDOW_DAYS = 7  # bookings from today - 7 to today + 7 (branch-local days)
SCHEDULED_BOOKINGS = 600
TODAY_MINIMUM = 5  # bookings per working resource today, placed first
WALK_INS = 12
WALK_IN_WINDOW_MINUTES = 90
WALK_IN_TIMEOUT = 180  # minutes (Ehjzny API reference, "Assignment Timeout": at most 180)
CUSTOMERS = 300
_ID_ALPHABET = string.ascii_letters + string.digits


def _cloud_time(moment: datetime) -> str:
    """UTC in the cloud's own format: ``2023-01-11T18:00:00.000Z`` (Ehjzny API reference sample)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _to_minutes(military: int) -> int:
    return military // 100 * 60 + military % 100


@dataclass
class _Clinic:
    rng: random.Random
    today: date
    zone: str
    now: datetime
    types: dict[str, dict] = field(default_factory=dict)  # catalog key -> payload
    resources: list[dict] = field(default_factory=list)
    time_rules: dict[str, dict] = field(default_factory=dict)
    customers: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)
    busy: dict[tuple[str, date], list[tuple[int, int]]] = field(default_factory=dict)
    customer_busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def new_id(self) -> str:
        return "".join(self.rng.choice(_ID_ALPHABET) for _ in range(20))


def _make_types(c: _Clinic) -> None:
    for key, en, ar, minutes, before, after, color, price in catalog.TYPES:
        c.types[key] = {
            "id": c.new_id(),
            "name": en,
            "name_translations": {"en": en, "ar": ar},
            "minutes": minutes,
            "leaveMinutesBefore": before,
            "leaveMinutesAfter": after,
            "category": "clinic",
            "color": color,
            "on": True,
            "price": price,
            "autoConfirm": True,
            "bookFromWebsite": True,
        }


def _make_resources(c: _Clinic) -> None:
    off_day = "thu" if timerules.day_name(c.today) == "fri" else "fri"
    days = [d for d in ("sat", "sun", "mon", "tue", "wed", "thu", "fri") if d != off_day]
    conference = (c.today + timedelta(days=4)).isoformat()
    for key, en, ar, category, spec_en, spec_ar, served, periods in catalog.RESOURCES:
        resource: dict[str, Any] = {
            "id": c.new_id(),
            "name": en,
            "name_translations": {"en": en, "ar": ar},
            "on": True,
            "description": spec_en,
            "description_translations": {"en": spec_en, "ar": spec_ar},
            "category": category,
            "bookFromWebsite": True,
            "activated": True,
            "meta": {},
            "types": [c.types[t]["id"] for t in served],
        }
        off = [{"from": conference, "to": conference, "reason": "Conference"}] if key == "noura" else []
        c.resources.append(resource)
        c.time_rules[resource["id"]] = {
            "depthOfDays": 30,
            "scheduleAfterHoursFromNow": 0,
            "offRules": off,
            "rules": [{"days": list(days), "from": start, "to": end} for start, end in periods],
        }


def _make_customers(c: _Clinic) -> None:
    phones: set[str] = set()
    midnight = datetime.combine(c.today, time(0), ZoneInfo(c.zone))
    for index in range(CUSTOMERS):
        if c.rng.random() < 0.7:
            first, first_latin = c.rng.choice(
                catalog.ARABIC_MALE if c.rng.random() < 0.5 else catalog.ARABIC_FEMALE
            )
            last, last_latin = c.rng.choice(catalog.ARABIC_FAMILY)
            wants_email = c.rng.random() < 0.25
        else:
            first, last = c.rng.choice(catalog.LATIN_FIRST), c.rng.choice(catalog.LATIN_LAST)
            first_latin, last_latin = first.lower(), last.lower()
            wants_email = c.rng.random() < 0.6
        phone = ""
        while not phone or phone in phones:
            phone = "+9665" + "".join(c.rng.choice(string.digits) for _ in range(8))
        phones.add(phone)
        email = f"{first_latin}.{last_latin}{index}@{c.rng.choice(catalog.EMAIL_DOMAINS)}"
        created = midnight - timedelta(days=c.rng.randint(8, 900), minutes=c.rng.randint(0, 1439))
        c.customers.append(
            {
                "id": c.new_id(),
                "firstName": first,
                "lastName": last,
                "phone": phone,
                "email": email if wants_email else None,
                "note": c.rng.choice(catalog.NOTES),
                "data": {},
                "createdAt": _cloud_time(created),
            }
        )


def _free_starts(c: _Clinic, resource_id: str, day: date, kind: dict) -> list[int]:
    """Start minutes (branch-local) where ``kind`` fits with its buffers, none overlapping."""
    before, minutes, after = kind["leaveMinutesBefore"], kind["minutes"], kind["leaveMinutesAfter"]
    step = 10 if minutes % 10 == 0 else 5
    busy = c.busy.get((resource_id, day), [])
    starts = []
    for start, end in timerules.periods_on(c.time_rules[resource_id], day):
        first, last = _to_minutes(start) + before, _to_minutes(end) - minutes - after
        for begin in range(first, last + 1, step):
            low, high = begin - before, begin + minutes + after
            if all(high <= b_low or low >= b_high for b_low, b_high in busy):
                starts.append(begin)
    return starts


def _status(c: _Clinic, day: date) -> str:
    roll = c.rng.random()
    if roll < 0.09:
        return "CANCELED"
    if day > c.today and roll < 0.17:
        return "PENDING_APPROVAL"
    return "CONFIRMED"


def _pick_customer(c: _Clinic, start: datetime, end: datetime) -> dict:
    for _ in range(20):
        customer = c.rng.choice(c.customers)
        taken = c.customer_busy.setdefault(customer["id"], [])
        if all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            return customer
    return customer


def _place(c: _Clinic, resource: dict, day: date) -> bool:
    """Book one appointment on ``resource`` on the branch-local ``day``; False when full."""
    type_ids = resource["types"]
    weights = [0.65] + [0.35 / max(1, len(type_ids) - 1)] * (len(type_ids) - 1)
    chosen = c.rng.choices(type_ids, weights)[0]
    kind = next(t for t in c.types.values() if t["id"] == chosen)
    starts = _free_starts(c, resource["id"], day, kind)
    if not starts:
        return False
    begin = c.rng.choice(starts)
    c.busy.setdefault((resource["id"], day), []).append(
        (begin - kind["leaveMinutesBefore"], begin + kind["minutes"] + kind["leaveMinutesAfter"])
    )
    military = begin // 60 * 100 + begin % 60
    start = clock.from_local(day, military, c.zone)
    end = start + timedelta(minutes=kind["minutes"])
    created = start - timedelta(hours=c.rng.randint(2, 24 * 14))
    if created > c.now:
        created = c.now - timedelta(minutes=c.rng.randint(5, 72 * 60))
    c.bookings.append(
        {
            "id": c.new_id(),
            "status": _status(c, day),
            "startTime": military,
            "startDate": day.isoformat(),
            "startDateTime": _cloud_time(start),
            "endDateTime": _cloud_time(end),
            "duration": kind["minutes"],
            "info": {},
            "typeId": kind["id"],
            "resourceId": resource["id"],
            "customerId": _pick_customer(c, start, end)["id"],
            "note": c.rng.choice(catalog.BOOKING_NOTES),
            "createdAt": _cloud_time(created),
        }
    )
    return True


def _make_schedule(c: _Clinic) -> None:
    days = [c.today + timedelta(days=k) for k in range(-WINDOW_DAYS, WINDOW_DAYS + 1)]
    slots = [(r, d) for d in days for r in c.resources if timerules.periods_on(c.time_rules[r["id"]], d)]
    for resource, day in slots:
        if day == c.today:
            for _ in range(TODAY_MINIMUM):
                _place(c, resource, day)
    weights = [1.5 if day == c.today else 1.0 for _, day in slots]
    attempts = 0
    while len(c.bookings) < SCHEDULED_BOOKINGS and attempts < SCHEDULED_BOOKINGS * 5:
        attempts += 1
        resource, day = c.rng.choices(slots, weights)[0]
        _place(c, resource, day)
    c.bookings.sort(key=lambda b: (b["startDateTime"], b["resourceId"]))


def _make_walk_ins(c: _Clinic) -> None:
    queue_types = [c.types["consult"], c.types["followup"]]  # each served by several doctors
    arrivals = sorted(c.rng.uniform(1, WALK_IN_WINDOW_MINUTES) for _ in range(WALK_INS))
    walkers = c.rng.sample(c.customers, WALK_INS)
    for waited, customer in zip(reversed(arrivals), walkers, strict=True):
        kind = c.rng.choice(queue_types)
        created = (c.now - timedelta(minutes=waited)).replace(microsecond=0)
        c.bookings.append(
            {
                "id": c.new_id(),
                "status": "PENDING_ASSIGNMENT",
                "duration": kind["minutes"],
                "info": {},
                "typeId": kind["id"],
                "customerId": customer["id"],
                "note": None,
                "createdAt": _cloud_time(created),
                "assignmentTimeout": WALK_IN_TIMEOUT,
            }
        )


def generate_clinic(
    today: date, zone: str = "Asia/Riyadh", seed: int = 7, now: datetime | None = None
) -> dict:
    """A demo clinic as Ehjzny payloads (contract "Objects"; Ehjzny API reference response samples).

    Returns ``{"organization": {"name", "name_translations", "timeZone"}, "resources",
    "types", "customers", "bookings", "timeRules": {resourceId: {"depthOfDays", "rules",
    "scheduleAfterHoursFromNow", "offRules"}}}``: 8 resources (6 doctors, 2 rooms), 6 booking
    types (10–40 minutes), 300 customers (~70 % Arabic names, unique ``+9665XXXXXXXX``),
    ~600 bookings on branch-local days ``today`` ± 7 inside the working hours (rules of
    :mod:`app.domain.timerules`, branch-local military times), never overlapping per
    resource including buffers, with ``startDate``/``startTime`` branch-local and
    ``startDateTime``/``endDateTime`` UTC; plus 12 walk-ins (``PENDING_ASSIGNMENT``, no
    resource or time) created over the 90 minutes before ``now`` (aware; default: now).
    Same arguments, same output. Raises ZoneInfoNotFoundError for an unknown ``zone``.
    """
    now = (now or clock.utc_now()).astimezone(UTC)
    c = _Clinic(random.Random(seed), today, zone, now)
    _make_types(c)
    _make_resources(c)
    _make_customers(c)
    _make_schedule(c)
    _make_walk_ins(c)
    return {
        "organization": {**catalog.ORGANIZATION, "timeZone": zone},
        "resources": c.resources,
        "types": list(c.types.values()),
        "customers": c.customers,
        "bookings": c.bookings,
        "timeRules": c.time_rules,
    }


def counts(clinic: dict) -> dict:
    """``{"resources", "types", "customers", "bookings", "walkIns"}`` of a generated clinic."""
    walk_ins = sum(1 for b in clinic["bookings"] if b["status"] == "PENDING_ASSIGNMENT")
    return {key: len(clinic[key]) for key in ("resources", "types", "customers", "bookings")} | {
        "walkIns": walk_ins
    }
