"""The state and rules of the simulated DigitalBooker cloud (DigitalBooker API reference:
the Admin API's Bookings, Payments, Users, Locations, Resources, Workers, Services and Class
types sections, and the Public API's Locations, Views and Services sections; contract
``docs/clouds/digitalbooker.md``, whose one table of inferred names this follows).
One account, in memory, guarded by one lock.

The account keeps its date-times in one local zone (``zone``) and sends them without an
offset (contract "Transport": "datetimes in the account's local time with no offset").
Bookings are records with a local ``date``, ``start_time`` and ``end_time`` (text) and
aware UTC ``_created`` / ``_modified``; :meth:`DigitalBookerCloud.booking_view` shapes them
as the API reference's booking object. Ids are integers, one counter per kind of object.

A deleted booking is gone (404) and its id is listed by the deleted-ids listing under the
local date it was deleted on (API reference "List IDs of deleted bookings"). There is no edit of a
booking: the Admin API can only create, delete, confirm, unconfirm and add payments (API reference
"Bookings", "Payments"). Cloud-side changes for tests (an online booking made in the public
booking site, a move, a worker assigned or a payment taken in the admin calendar) are the
methods under "cloud-side".
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .faults import Faults

BOOKING_TYPES = ("service", "class", "resource")
PAYMENT_TYPES = ("cash", "prepaid", "other", "online")
USER_TYPES = ("normal", "temporary", "company")
GENDERS = ("female", "male", "other")
RESOURCE_TYPES = ("resource", "worker")
VIEW_TYPES = ("services", "classes", "time", "time-list", "courses")
TIME_RANGES = ("day", "week", "next7")
ADMIN, WWW = 1, 2  # booking "interface" (API reference: 1 = admin, 2 = www)
MAX_LIMIT = 100
SLOT_STEP = 15  # minutes between the public available times offered (NOTES.md)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{5,20}$")


class DigitalBookerError(Exception):
    """An API error: HTTP ``status`` and the contract's error reply
    ``{"error": {"code", "message", "errors": [{"param", "message"}]}}`` (API reference "Errors":
    an error code, a human readable message, a list of per-parameter errors)."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, list(errors or [])

    def body(self) -> dict:
        return envelope(self.code, self.message, self.errors)


def envelope(code: str | None, message: str | None, errors: list[dict] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "errors": list(errors or [])}}


def invalid(param: str, message: str) -> DigitalBookerError:
    """400 for one bad argument (contract "Transport" → Errors: 400 invalid arguments)."""
    return DigitalBookerError(
        400, "invalid_argument", f"{param}: {message}", [{"param": param, "message": message}]
    )


def not_found(kind: str, ident) -> DigitalBookerError:
    return DigitalBookerError(404, "not_found", f"no {kind} with id {ident}")


class Clock:
    """The cloud's "now" (aware UTC): the wall clock, or ``Clock(fixed)``; ``shift`` moves it."""

    def __init__(self, start: datetime | None = None):
        self._fixed = start
        self._offset = timedelta()

    def now(self) -> datetime:
        base = self._fixed or datetime.now(UTC)
        return (base + self._offset).astimezone(UTC).replace(microsecond=0)

    def shift(self, delta: timedelta) -> None:
        self._offset += delta


# ---- value formats (contract "Transport": value formats, inferred) ----------------------------
def parse_int(value, param: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An int argument (a JSON number, or decimal text in a query); 400 otherwise."""
    if isinstance(value, bool):
        raise invalid(param, "must be an integer")
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]+", value.strip()):
            raise invalid(param, "must be an integer")
        value = int(value)
    if not isinstance(value, int):
        raise invalid(param, "must be an integer")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise invalid(param, f"must be in the range {minimum} - {maximum}")
    return value


def parse_float(value, param: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(param, "must be a number")
    try:
        number = float(value)
    except ValueError as exc:
        raise invalid(param, "must be a number") from exc
    if not low <= number <= high:
        raise invalid(param, f"must be in the range {low:g} - {high:g}")
    return number


def parse_date(value, param: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise invalid(param, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise invalid(param, "must be a date YYYY-MM-DD") from exc


def parse_time(value, param: str) -> time:
    """``HH:MM`` (``HH:MM:SS`` accepted); also used for durations (``01:30``)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value):
        raise invalid(param, "must be a time HH:MM")
    try:
        return time.fromisoformat(value).replace(second=0)
    except ValueError as exc:
        raise invalid(param, "must be a time HH:MM") from exc


def parse_duration(value, param: str) -> int:
    """A duration as a time (``01:30``) → minutes; at least one minute."""
    moment = parse_time(value, param)
    minutes = moment.hour * 60 + moment.minute
    if minutes <= 0:
        raise invalid(param, "must be longer than 00:00")
    return minutes


def parse_bool(value, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(param, "must be true or false")


def parse_int_list(value, param: str, *, nullable: bool = True) -> list[int]:
    """A JSON array of ints (bodies; ``null`` unsets, API reference "Set to 'null' to unset") or a
    comma-separated list (queries)."""
    if value is None:
        if not nullable:
            raise invalid(param, "is required")
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise invalid(param, "must be a list of integers")
    out = []
    for item in value:
        number = parse_int(item, param)
        if number not in out:
            out.append(number)
    return out


def hhmm(moment: time | datetime) -> str:
    return moment.strftime("%H:%M")


def duration_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def localized(texts: dict | str | None, lang: str) -> str | None:
    """A user-generated localized string: the ``lang`` text, else any defined one (API reference
    "Localization": "the API will fallback to any defined localization")."""
    if texts is None or isinstance(texts, str):
        return texts
    if texts.get(lang):
        return texts[lang]
    return next((t for t in texts.values() if t), None)


@dataclass
class ApiKey:
    """An API key: ``id`` (the Basic user name) and ``password``; ``privileges`` the areas it
    may use (None: all). Areas are ``bookings``, ``payments``, ``users``, ``locations``,
    ``resources``, ``workers``, ``services``, ``classes``, each ``:read`` or ``:write``
    (API reference "Authentication": key-specific privileges; contract: 403 without one)."""

    id: str
    password: str
    privileges: set[str] | None = None

    def allows(self, privilege: str) -> bool:
        return self.privileges is None or privilege in self.privileges


@dataclass
class Span:
    """A stretch of the account's local time (naive datetimes)."""

    start: datetime
    end: datetime

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass
class Service:
    id: int
    name: dict
    category_id: int
    durations: list[int]  # minutes; the first is a booking's length (NOTES.md)
    price: float | None = None
    tax_percent: float = 0.0
    description: dict | None = None
    workers: list[int] = field(default_factory=list)
    locations: list[int] = field(default_factory=list)
    start_offset: int = 0
    end_offset: int = 0
    phone_only: bool = False


class DigitalBookerCloud:
    """One simulated DigitalBooker account.

    ``key_id`` and ``password`` are the first API key (HTTP Basic user and password, API reference
    "Authentication"); more keys with fewer privileges come from :meth:`add_key`. ``zone`` is
    the account's local zone (IANA). ``fault_seed`` seeds the fault injection's generator.
    """

    def __init__(
        self,
        *,
        key_id: str | None = None,
        password: str | None = None,
        zone: str = "Asia/Riyadh",
        clock: Clock | None = None,
        fault_seed: int = 0,
        admin_key: str | None = None,
    ):
        self.zone = ZoneInfo(zone)
        self.clock = clock or Clock()
        self.faults = Faults(fault_seed)
        self.lock = threading.RLock()
        self.keys: dict[str, ApiKey] = {}
        first = self.add_key(key_id, password)
        self.key_id, self.password = first.id, first.password
        self.admin_key = admin_key or "admin-" + secrets.token_urlsafe(18)
        self.locations: dict[int, dict] = {}
        self.views: dict[int, dict] = {}
        self.resources: dict[int, dict] = {}
        self.resource_categories: dict[int, dict] = {}
        self.service_categories: dict[int, dict] = {}
        self.services: dict[int, Service] = {}
        self.class_categories: dict[int, dict] = {}
        self.class_types: dict[int, dict] = {}
        self.classes: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.user_groups: dict[int, dict] = {}
        self.work_hours: dict[tuple[int, int, date], list[tuple[time, time]]] = {}  # (worker, location, day)
        self.bookings: dict[int, dict] = {}
        self.removed: dict[int, dict] = {}  # deleted bookings as they were, for tests to read
        self.deleted: list[tuple[date, datetime, int]] = []  # (local date, UTC moment, booking id)
        self._ids: dict[str, itertools.count] = {}
        self._held: dict[tuple[int, date], set[int]] = {}  # (resource, date) → booking ids
        self._version = 0
        self._listed: dict[tuple, list[dict]] = {}  # (version, filters) → matching records

    # ---- ids, time -----------------------------------------------------------------------------
    def new_id(self, kind: str) -> int:
        """The next integer id of a kind of object (``booking``, ``user``...)."""
        counter = self._ids.setdefault(kind, itertools.count(secrets.randbelow(900) + 100))
        return next(counter)

    def local(self, moment: datetime) -> datetime:
        """Aware UTC → the account's local time, naive, to the second."""
        return moment.astimezone(self.zone).replace(tzinfo=None, microsecond=0)

    def at(self, moment: datetime) -> tuple[date, time]:
        """An aware moment → the account's local date and time (to the minute)."""
        local = self.local(moment)
        return local.date(), local.time().replace(second=0)

    def changed(self) -> None:
        """A booking changed: cached listings are stale. Code that edits ``bookings`` records
        directly (a test arranging state) calls this."""
        self._version += 1
        self._listed.clear()

    def local_now(self) -> datetime:
        return self.local(self.clock.now())

    def today(self) -> date:
        return self.local_now().date()

    def datetime_text(self, moment: datetime) -> str:
        """A stamp as the cloud sends it: local, no offset (``2026-12-07T14:05:00``)."""
        return self.local(moment).isoformat(timespec="seconds")

    def parse_datetime(self, value, param: str) -> datetime:
        """A datetime argument → local naive: ``YYYY-MM-DDTHH:MM:SS`` in the account's time;
        a space separator or an offset is accepted (an offset is converted)."""
        if not isinstance(value, str) or not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?.*", value
        ):
            raise invalid(param, "must be a datetime YYYY-MM-DDTHH:MM:SS")
        try:
            moment = datetime.fromisoformat(value.replace(" ", "T", 1).replace("Z", "+00:00"))
        except ValueError as exc:
            raise invalid(param, "must be a datetime YYYY-MM-DDTHH:MM:SS") from exc
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.zone).replace(tzinfo=None)
        return moment.replace(microsecond=0)

    # ---- keys ----------------------------------------------------------------------------------
    def add_key(
        self, key_id: str | None = None, password: str | None = None, privileges: set[str] | None = None
    ) -> ApiKey:
        """A new API key (API reference: "Multiple API keys is allowed"); ``privileges`` None = all."""
        key = ApiKey(
            key_id or "k" + secrets.token_hex(8),
            password or secrets.token_urlsafe(24),
            set(privileges) if privileges is not None else None,
        )
        with self.lock:
            self.keys[key.id] = key
        return key

    def delete_key(self, key_id: str) -> None:
        """The key is deleted (API reference: "just delete the key"): its calls answer 401."""
        with self.lock:
            self.keys.pop(key_id, None)

    def authenticate(self, key_id: str | None, password: str | None) -> ApiKey:
        key = self.keys.get(key_id or "")
        if key is None or not secrets.compare_digest(key.password.encode(), (password or "").encode()):
            raise DigitalBookerError(
                401, "unauthorized", "a valid API key id and password are required (HTTP Basic)"
            )
        return key

    # ---- reference data (loaded by the generated clinic) ----------------------------------------
    def add_location(
        self,
        name: dict | str,
        url_text: str,
        *,
        address=None,
        zip_code=None,
        city=None,
        country=None,
        phone=None,
        business_hours: bool = True,
        latitude=None,
        longitude=None,
        admin_calendar: bool = True,
        public: bool = True,
        in_menu: bool = True,
        external_id: str | None = None,
    ) -> dict:
        location = {
            "id": self.new_id("location"),
            "name": _texts(name),
            "url_text": url_text,
            "address": _texts(address),
            "zip_code": zip_code,
            "city": _texts(city),
            "country": country,
            "phone": phone,
            "business_hours": business_hours,
            "latitude": latitude,
            "longitude": longitude,
            "admin_calendar": admin_calendar,
            "public": public,
            "in_menu": in_menu,
            "external_id": external_id,
        }
        with self.lock:
            self.locations[location["id"]] = location
        return location

    def add_view(
        self, location_id: int, name: dict | str, url_text: str, view_type: str = "services"
    ) -> dict:
        if view_type not in VIEW_TYPES:
            raise ValueError(f"view type is one of {VIEW_TYPES}")
        view = {
            "id": self.new_id("view"),
            "location_id": location_id,
            "name": _texts(name),
            "url_text": url_text,
            "type": view_type,
        }
        with self.lock:
            self.views[view["id"]] = view
        return view

    def add_resource_category(self, name: dict | str, resource_type: str) -> dict:
        category = {"id": self.new_id("resource_category"), "name": _texts(name), "type": resource_type}
        with self.lock:
            self.resource_categories[category["id"]] = category
        return category

    def add_resource(
        self,
        resource_type: str,
        name: dict | str,
        category_id: int,
        locations: list[int],
        *,
        description=None,
        user_id: int | None = None,
        bookable: bool = True,
        external_id: str | None = None,
    ) -> dict:
        """A worker (a person) or a resource (a room) at ``locations`` (API reference "Resources")."""
        if resource_type not in RESOURCE_TYPES:
            raise ValueError(f"resource type is one of {RESOURCE_TYPES}")
        resource = {
            "id": self.new_id("resource"),
            "type": resource_type,
            "name": _texts(name),
            "category_id": category_id,
            "description": _texts(description),
            "user_id": user_id,
            "bookable": bookable,
            "external_id": external_id,
            "locations": list(locations),
        }
        with self.lock:
            self.resources[resource["id"]] = resource
        return resource

    def add_service_category(self, name: dict | str) -> dict:
        category = {"id": self.new_id("service_category"), "name": _texts(name)}
        with self.lock:
            self.service_categories[category["id"]] = category
        return category

    def add_service(
        self,
        name: dict | str,
        category_id: int,
        durations: list[int],
        workers: list[int],
        locations: list[int],
        *,
        price: float | None = None,
        tax_percent: float = 0.0,
        description=None,
        start_offset: int = 0,
        end_offset: int = 0,
        phone_only: bool = False,
    ) -> Service:
        """A service; ``durations`` in minutes (the public ``durations``), ``price`` including
        tax, ``start_offset``/``end_offset`` minutes blocked before and after (contract
        "Behaviour": offsets read as buffers)."""
        service = Service(
            self.new_id("service"),
            _texts(name),
            category_id,
            list(durations),
            price,
            tax_percent,
            _texts(description),
            list(workers),
            list(locations),
            start_offset,
            end_offset,
            phone_only,
        )
        with self.lock:
            self.services[service.id] = service
        return service

    def add_class_category(self, name: dict | str) -> dict:
        category = {"id": self.new_id("class_category"), "name": _texts(name)}
        with self.lock:
            self.class_categories[category["id"]] = category
        return category

    def add_class_type(self, title: dict | str, category_id: int, description=None) -> dict:
        class_type = {
            "id": self.new_id("class_type"),
            "title": _texts(title),
            "category_id": category_id,
            "description": _texts(description),
        }
        with self.lock:
            self.class_types[class_type["id"]] = class_type
        return class_type

    def add_class(
        self,
        class_type_id: int,
        location_id: int,
        day: date,
        start: time,
        end: time,
        *,
        resources: list[int] | None = None,
        price: float | None = None,
        tax_percent: float = 0.0,
        max_bookings: int = 10,
    ) -> dict:
        """One held class (a course booking's ``course_id`` names it, NOTES.md)."""
        held = {
            "id": self.new_id("class"),
            "class_type_id": class_type_id,
            "location_id": location_id,
            "date": day,
            "start": start,
            "end": end,
            "resources": list(resources or []),
            "price": price,
            "tax_percent": tax_percent,
            "max_bookings": max_bookings,
        }
        with self.lock:
            self.classes[held["id"]] = held
        return held

    def add_user_group(self, name: dict | str) -> dict:
        group = {"id": self.new_id("user_group"), "name": _texts(name), "members": []}
        with self.lock:
            self.user_groups[group["id"]] = group
        return group

    # ---- views of reference data --------------------------------------------------------------------
    def location_view(self, location: dict, lang: str, external_ids: bool = False) -> dict:
        out = {
            "object": "location",
            "id": location["id"],
            "name": localized(location["name"], lang),
            "url_text": location["url_text"],
            "address": localized(location["address"], lang),
            "zip_code": location["zip_code"],
            "city": localized(location["city"], lang),
            "country": location["country"],
            "phone": location["phone"],
            "business_hours": location["business_hours"],
            "latitude": location["latitude"],
            "longitude": location["longitude"],
            "admin_calendar": location["admin_calendar"],
            "public": location["public"],
            "in_menu": location["in_menu"],
        }
        if external_ids and location["external_id"] is not None:
            out["external_id"] = location["external_id"]
        return _set_only(out)

    def public_location_view(self, location: dict, lang: str, expand_views: bool = False) -> dict:
        keys = (
            "object",
            "id",
            "name",
            "url_text",
            "address",
            "zip_code",
            "city",
            "country",
            "phone",
            "business_hours",
            "latitude",
            "longitude",
        )
        full = self.location_view(location, lang)
        out = {k: full[k] for k in keys if k in full}
        if expand_views:
            out["views"] = [self.view_view(v, lang) for v in self.location_views(location["id"])]
        return out

    def location_views(self, location_id: int) -> list[dict]:
        return [v for v in self.views.values() if v["location_id"] == location_id]

    @staticmethod
    def view_view(view: dict, lang: str) -> dict:
        return {
            "object": "view",
            "id": view["id"],
            "type": view["type"],
            "name": localized(view["name"], lang),
            "url_text": view["url_text"],
        }

    def resource_view(self, resource: dict, lang: str) -> dict:
        out = {
            "object": "resource",
            "id": resource["id"],
            "type": resource["type"],
            "name": localized(resource["name"], lang),
            "category_id": resource["category_id"],
            "description": localized(resource["description"], lang),
            "bookable": resource["bookable"],
            "external_id": resource["external_id"],
        }
        user = self.users.get(resource["user_id"] or 0)
        if user:
            out["user"] = self.user_ref(user)
        return _set_only(out)

    @staticmethod
    def resource_category_view(category: dict, lang: str) -> dict:
        return {
            "object": "resource_category",
            "id": category["id"],
            "name": localized(category["name"], lang),
            "type": category["type"],
        }

    @staticmethod
    def service_view(service: Service, lang: str) -> dict:
        """The admin service object (API reference "Services"): no durations, no price."""
        return _set_only(
            {
                "object": "service",
                "id": service.id,
                "name": localized(service.name, lang),
                "description": localized(service.description, lang),
                "category_id": service.category_id,
            }
        )

    @staticmethod
    def public_service_view(service: Service, lang: str) -> dict:
        """The public service object (API reference Public API "Services"): ``durations`` set, so
        ``has_alternatives`` is not (API reference: "If set, has_alternatives will not be set")."""
        out = {
            "object": "service",
            "id": service.id,
            "name": localized(service.name, lang),
            "extra_services": [],
            "durations": [duration_text(m) for m in service.durations],
            "phone_only": service.phone_only,
            "min_extra_services": 0,
        }
        text = localized(service.description, lang)
        if text:
            out["description"] = {"object": "description", "body": text, "icons": []}
        return out

    @staticmethod
    def category_view(category: dict, lang: str, object_name: str = "category") -> dict:
        return {"object": object_name, "id": category["id"], "name": localized(category["name"], lang)}

    @staticmethod
    def class_type_view(class_type: dict, lang: str) -> dict:
        return _set_only(
            {
                "object": "class_type",
                "id": class_type["id"],
                "title": localized(class_type["title"], lang),
                "description": localized(class_type["description"], lang),
                "category_id": class_type["category_id"],
            }
        )

    def find(self, table: dict, ident: int, kind: str):
        found = table.get(ident)
        if found is None:
            raise not_found(kind, ident)
        return found

    def worker(self, ident: int) -> dict:
        resource = self.resources.get(ident)
        if resource is None or resource["type"] != "worker":
            raise not_found("worker", ident)
        return resource

    # ---- users (API reference "Users") ------------------------------------------------------------------
    @staticmethod
    def user_ref(user: dict) -> dict:
        """A user as other objects carry it, not fully expanded (API reference "Users"): id and name."""
        return {"object": "user", "id": user["id"], "name": user["name"]}

    @staticmethod
    def user_view(user: dict) -> dict:
        """The user object (API reference "The user object"): ``email`` and ``type`` always (``email``
        null when none); the attributes it marks "If set" only when set."""
        out = _set_only(
            {
                "object": "user",
                "id": user["id"],
                "name": user["name"],
                "phone": user["phone"],
                "type": user["type"],
                "address": user["address"],
                "zip_code": user["zip_code"],
                "city": user["city"],
                "birth_year": user["birth_year"],
                "gender": user["gender"],
            }
        )
        return {"object": "user", "id": user["id"], "name": user["name"], "email": user["email"], **out}

    def _user_fields(self, body: dict, creating: bool) -> dict:
        errors = []
        out: dict = {}
        for name in ("first_name", "last_name"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append({"param": name, "message": "is required"})
            else:
                out[name] = value.strip()
        for name, pattern in (("email", EMAIL), ("phone", PHONE)):
            value = body.get(name)
            if value in (None, ""):
                out[name] = None
            elif not isinstance(value, str) or not pattern.match(value.strip()):
                errors.append({"param": name, "message": f"is not a valid {name}"})
            else:
                out[name] = value.strip()
        for name in ("address", "zip_code", "city"):
            value = body.get(name)
            if value is not None and not isinstance(value, str):
                errors.append({"param": name, "message": "must be text"})
            out[name] = value or None
        year = body.get("birth_year")
        if year is not None:
            try:
                year = parse_int(year, "birth_year", minimum=1900, maximum=2026)
            except DigitalBookerError as exc:
                errors.extend(exc.errors)
        out["birth_year"] = year
        gender = body.get("gender")
        if gender is not None and gender not in GENDERS:
            errors.append({"param": "gender", "message": f"is one of {', '.join(GENDERS)}"})
        out["gender"] = gender
        if creating:
            kind = body.get("type") or "normal"
            if kind not in USER_TYPES:
                errors.append({"param": "type", "message": f"is one of {', '.join(USER_TYPES)}"})
            out["type"] = kind
            for name, default in (
                ("allow_transactional_email", 1),
                ("allow_marketing_email", 0),
                ("allow_transactional_sms", 1),
                ("allow_marketing_sms", 1),
                ("send_account_info", 0),
            ):
                value = body.get(name, default)
                if value not in (0, 1, True, False):
                    errors.append({"param": name, "message": "is 0 or 1"})
                out[name] = int(bool(value))
            password = body.get("password")
            if password is not None and not isinstance(password, str):
                errors.append({"param": "password", "message": "must be text"})
        if errors:
            raise DigitalBookerError(400, "invalid_argument", "invalid user", errors)
        return out

    def create_user(self, body: dict) -> dict:
        """``POST /admin/v1/users`` (API reference "Create a user object"): ``first_name`` and
        ``last_name`` required; ``type`` defaults to ``normal``. Duplicates are allowed."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            fields = self._user_fields(body, True)
            user = {
                "id": self.new_id("user"),
                "name": f"{fields['first_name']} {fields['last_name']}",
                **fields,
                "_created": self.clock.now(),
            }
            self.users[user["id"]] = user
            return self.user_view(user)

    def edit_user(self, ident: int, body: dict) -> dict:
        """``POST /admin/v1/users/{id}`` (API reference "Edit a user object"): the names are required;
        each optional field sent replaces the stored one (``null`` clears it)."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            user = self.find(self.users, ident, "user")
            fields = self._user_fields(body, False)
            for name in ("first_name", "last_name"):
                user[name] = fields[name]
            for name in ("email", "phone", "address", "zip_code", "city", "birth_year", "gender"):
                if name in body:
                    user[name] = fields[name]
            user["name"] = f"{user['first_name']} {user['last_name']}"
            return self.user_view(user)

    def delete_user(self, ident: int) -> dict:
        """``DELETE /admin/v1/users/{id}`` → ``{"id"}`` (API reference: returns the id of the deleted
        user). Bookings keep their user reference."""
        with self.lock:
            self.find(self.users, ident, "user")
            del self.users[ident]
            for group in self.user_groups.values():
                if ident in group["members"]:
                    group["members"].remove(ident)
            return {"id": ident}

    def list_users(self, group_id: int | None = None) -> list[dict]:
        """Registered users in creation order; never ``temporary`` ones (API reference "List user
        objects": "Does not include temporary users")."""
        with self.lock:
            if group_id is not None:
                members = set(self.find(self.user_groups, group_id, "user group")["members"])
            users = [
                u
                for u in self.users.values()
                if u["type"] != "temporary" and (group_id is None or u["id"] in members)
            ]
            return [self.user_view(u) for u in sorted(users, key=lambda u: u["id"])]

    # ---- work hours (API reference "Workers") ----------------------------------------------------------
    def set_work_hours(
        self, worker_id: int, location_id: int, days: dict[date, list[tuple[time, time]]]
    ) -> None:
        """Replace the hours of each given date at the location (API reference "Add work hours":
        "Removes work hours for defined date before add"); an empty list leaves the day off."""
        with self.lock:
            for day, hours in days.items():
                key = (worker_id, location_id, day)
                if hours:
                    self.work_hours[key] = sorted(hours)
                else:
                    self.work_hours.pop(key, None)

    def add_work_hours(self, worker_id: int, body: dict) -> list[dict]:
        """``POST /admin/v1/workers/{id}/work_hours`` ``{location_id, work_hours: [{date,
        hours: [{start_time, end_time}]}]}`` → the new hours of those dates."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            worker = self.worker(worker_id)
            location_id = self._location_of(worker, body.get("location_id"))
            entries = body.get("work_hours") or []
            if not isinstance(entries, list):
                raise invalid("work_hours", "must be a list of {date, hours}")
            days: dict[date, list[tuple[time, time]]] = {}
            for n, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise invalid(f"work_hours[{n}]", "must be an object {date, hours}")
                day = parse_date(entry.get("date"), f"work_hours[{n}].date")
                hours = []
                for m, span in enumerate(entry.get("hours") or []):
                    param = f"work_hours[{n}].hours[{m}]"
                    if not isinstance(span, dict):
                        raise invalid(param, "must be an object {start_time, end_time}")
                    start = parse_time(span.get("start_time"), param + ".start_time")
                    end = parse_time(span.get("end_time"), param + ".end_time")
                    if end <= start:
                        raise invalid(param + ".end_time", "must be after start_time")
                    hours.append((start, end))
                hours.sort()
                if any(a[1] > b[0] for a, b in itertools.pairwise(hours)):
                    raise invalid(f"work_hours[{n}].hours", "the hours of one date overlap")
                days[day] = hours
            self.set_work_hours(worker_id, location_id, days)
            return [self.work_hours_view(worker_id, location_id, d) for d in sorted(days)]

    def remove_work_hours(self, worker_id: int, location_id, day) -> None:
        """``DELETE /admin/v1/workers/{id}/work_hours?location_id=&date=`` (API reference "Remove work
        hours": all three required)."""
        with self.lock:
            worker = self.worker(worker_id)
            if location_id is None:
                raise invalid("location_id", "is required")
            if day is None:
                raise invalid("date", "is required")
            location = self._location_of(worker, location_id)
            self.work_hours.pop((worker_id, location, parse_date(day, "date")), None)

    def _location_of(self, worker: dict, value) -> int:
        if value is None:
            raise invalid("location_id", "is required")
        location_id = parse_int(value, "location_id")
        self.find(self.locations, location_id, "location")
        if location_id not in worker["locations"]:
            raise invalid("location_id", f"the worker {worker['id']} does not work at location {location_id}")
        return location_id

    def work_hours_view(self, worker_id: int, location_id: int, day: date) -> dict:
        hours = self.work_hours.get((worker_id, location_id, day), [])
        return {
            "object": "work_hours",
            "date": day.isoformat(),
            "location_id": location_id,
            "hours": [{"start_time": hhmm(a), "end_time": hhmm(b)} for a, b in hours],
        }

    def list_work_hours(self, worker_id: int, params: dict, location_id: int | None = None) -> list[dict]:
        """A worker's hours by date (and location), dates with hours only, in date order
        (API reference "List a worker's work hours", "List work hours for location")."""
        with self.lock:
            worker = self.worker(worker_id)
            if location_id is not None:
                self.find(self.locations, location_id, "location")
            low, high = self.date_window(params)
            out = []
            for w, loc, day in sorted(self.work_hours, key=lambda k: (k[2], k[1])):
                if w == worker["id"] and low <= day <= (high or day) and location_id in (None, loc):
                    out.append(self.work_hours_view(w, loc, day))
            return out

    def works(self, worker_id: int, location_id: int, span: Span) -> bool:
        """Whether ``span`` lies inside one of the worker's intervals at the location that day."""
        if span.end.date() != span.start.date() and span.end.time() != time(0):
            return False
        end = span.end.time() if span.end.date() == span.start.date() else time(23, 59, 59)
        return any(
            a <= span.start.time() and end <= b
            for a, b in self.work_hours.get((worker_id, location_id, span.start.date()), [])
        )

    # ---- date windows -------------------------------------------------------------------------
    def date_window(self, params: dict) -> tuple[date, date | None]:
        """``date`` or ``from_date``..``to_date`` (inclusive; an open end without ``to_date``);
        without both ``date`` and ``from_date`` the current date (API reference "List booking
        objects"). ``date`` with a range, or ``to_date`` alone, is a 400 (NOTES.md)."""
        has_date = params.get("date") not in (None, "")
        has_from = params.get("from_date") not in (None, "")
        has_to = params.get("to_date") not in (None, "")
        if has_date and (has_from or has_to):
            raise invalid("date", "cannot be combined with from_date or to_date")
        if has_date:
            day = parse_date(params["date"], "date")
            return day, day
        if has_to and not has_from:
            raise invalid("from_date", "is required with to_date")
        if not has_from:
            return self.today(), self.today()
        low = parse_date(params["from_date"], "from_date")
        high = parse_date(params["to_date"], "to_date") if has_to else None
        if high is not None and high < low:
            raise invalid("to_date", "must not be before from_date")
        return low, high

    # ---- bookings: views ------------------------------------------------------------------------
    def booking(self, ident: int) -> dict:
        record = self.bookings.get(ident)
        if record is None:
            raise not_found("booking", ident)
        return record

    def booking_view(self, record: dict, lang: str = "en") -> dict:
        """The booking object (API reference "The booking object"; contract names). Attributes the API reference
        marks "If set" are left out when unset; ``modified`` only once modified (doc)."""
        user = self.users.get(record["user_id"])
        out = {
            "object": "booking",
            "id": record["id"],
            "type": record["type"],
            "title": self._title(record, lang),
            "location_id": record["location_id"],
            "date": record["date"].isoformat(),
            "start_time": hhmm(record["start"]),
            "end_time": hhmm(record["end"]),
            "service_id": record["service_id"],
            "class_id": record["class_id"],
            "resources": list(record["resources"]) or None,
            "price": record["price"],
            "tax": record["tax"],
            "paid": self.paid(record) if record["price"] is not None or record["payments"] else None,
            "user": self.user_ref(user)
            if user
            else ({"object": "user", "id": record["user_id"]} if record["user_id"] else None),
            "notes": record["notes"] or None,
            "confirmed": record["confirmed"],
            "campaign_code": record["campaign_code"],
            "interface": record["interface"],
            "created": self.datetime_text(record["_created"]),
            "modified": self.datetime_text(record["_modified"]) if record["_modified"] else None,
            "start_offset": record["start_offset"] or None,
            "end_offset": record["end_offset"] or None,
        }
        return _set_only(out)

    def _title(self, record: dict, lang: str) -> str:
        if record["type"] == "service":
            return localized(self.services[record["service_id"]].name, lang) or ""
        if record["type"] == "class":
            held = self.classes[record["class_id"]]
            return localized(self.class_types[held["class_type_id"]]["title"], lang) or ""
        return ", ".join(localized(self.resources[r]["name"], lang) or "" for r in record["resources"])

    @staticmethod
    def paid(record: dict) -> bool:
        """Fully paid: it has payments and they add up to its price (API reference "paid": "Tells if
        the booking has payments so that is considered fully paid")."""
        total = round(sum(p["amount"] for p in record["payments"]), 2)
        return bool(record["payments"]) and total >= (record["price"] or 0)

    @staticmethod
    def payment_view(payment: dict) -> dict:
        return {
            "object": "payment",
            "id": payment["id"],
            "type": payment["type"],
            "amount": payment["amount"],
            "tax": payment["tax"],
        }

    # ---- bookings: listing ----------------------------------------------------------------------
    def list_bookings(self, params: dict) -> list[dict]:
        """``GET /admin/v1/bookings`` (API reference "List booking objects") → the matching records, by
        date, start time and id. ``params``: the query as strings. ``resources`` keeps
        bookings holding any of the ids; ``changed_since`` keeps those created or modified at
        or after it; ``confirmed=true`` keeps confirmed ones only."""
        with self.lock:
            key = (
                self._version,
                tuple(sorted((k, v) for k, v in params.items() if k not in ("limit", "cursor"))),
            )
            if key in self._listed:
                return self._listed[key]
            low, high = self.date_window(params)
            location_id = (
                parse_int(params["location_id"], "location_id") if params.get("location_id") else None
            )
            wanted = set(parse_int_list(params.get("resources"), "resources"))
            since = (
                self.parse_datetime(params["changed_since"], "changed_since")
                if params.get("changed_since")
                else None
            )
            confirmed = parse_bool(params["confirmed"], "confirmed") if params.get("confirmed") else False
            out = []
            for record in self.bookings.values():
                if not (low <= record["date"] <= (high or record["date"])):
                    continue
                if location_id is not None and record["location_id"] != location_id:
                    continue
                if wanted and not wanted & set(record["resources"]):
                    continue
                if since is not None and self.local(record["_modified"] or record["_created"]) < since:
                    continue
                if confirmed and not record["confirmed"]:
                    continue
                out.append(record)
            out.sort(key=lambda r: (r["date"], r["start"], r["id"]))
            self._listed[key] = out
            return out

    def list_deleted(self, params: dict) -> list[int]:
        """``GET /admin/v1/bookings/deleted`` (API reference "List IDs of deleted bookings") → ids of
        bookings deleted on the local dates of the window, in deletion order."""
        with self.lock:
            low, high = self.date_window(params)
            return [ident for day, _, ident in self.deleted if low <= day <= (high or day)]

    # ---- bookings: writes -----------------------------------------------------------------------
    def _user_for(self, value) -> int:
        if value is None:
            raise invalid("user_id", "is required")
        user_id = parse_int(value, "user_id")
        if user_id not in self.users:
            raise invalid("user_id", f"no user with id {user_id}")
        return user_id

    def _location(self, value) -> dict:
        if value is None:
            raise invalid("location_id", "is required")
        location_id = parse_int(value, "location_id")
        location = self.locations.get(location_id)
        if location is None:
            raise invalid("location_id", f"no location with id {location_id}")
        return location

    def _resources_at(self, value, location: dict, required: bool) -> list[int]:
        if required and value is None:
            raise invalid("resources", "is required")
        ids = parse_int_list(value, "resources")
        if required and not ids:
            raise invalid("resources", "needs at least one resource")
        for ident in ids:
            resource = self.resources.get(ident)
            if resource is None:
                raise invalid("resources", f"no resource with id {ident}")
            if location["id"] not in resource["locations"]:
                raise invalid("resources", f"resource {ident} is not at location {location['id']}")
        return ids

    @staticmethod
    def _extra_info(body: dict) -> dict | None:
        info = body.get("extra_info")
        if info is not None and not isinstance(info, dict):
            raise invalid("extra_info", "must be an object")
        return info

    def held(self, record: dict) -> Span:
        """The time a booking blocks its resources: from ``start − start_offset`` to
        ``end + end_offset`` (contract "Behaviour": offsets read as buffers)."""
        start = datetime.combine(record["date"], record["start"]) - timedelta(minutes=record["start_offset"])
        end = datetime.combine(record["date"], record["end"]) + timedelta(minutes=record["end_offset"])
        if record["end"] <= record["start"]:
            end += timedelta(days=1)
        return Span(start, end)

    def clash(self, record: dict, ignore: int | None = None) -> dict | None:
        """The first live booking holding one of ``record``'s resources at an overlapping time."""
        span = self.held(record)
        near = set()
        for resource in record["resources"]:
            for days in (-1, 0, 1):
                near |= self._held.get((resource, record["date"] + timedelta(days=days)), set())
        for ident in sorted(near):
            other = self.bookings[ident]
            if other["id"] not in (record.get("id"), ignore) and other["_span"].overlaps(span):
                return other
        return None

    def _index(self, record: dict, add: bool) -> None:
        """Keep the (resource, date) index of live bookings, and each one's held span."""
        if add:
            record["_span"] = self.held(record)
        for resource in record["resources"]:
            held = self._held.setdefault((resource, record["date"]), set())
            held.add(record["id"]) if add else held.discard(record["id"])

    def control(self, record: dict, check_hours: bool = True) -> None:
        """The slot rules of a create (contract "Transport" → Errors: 409 slot no longer free):
        each worker among the resources works at the location for the whole visit, and no
        resource is held by another booking (offsets included). Both refusals are a 409:
        ``outside_work_hours`` and ``slot_taken`` (NOTES.md)."""
        if check_hours:
            visit = Span(
                datetime.combine(record["date"], record["start"]),
                datetime.combine(record["date"], record["end"]),
            )
            if record["end"] <= record["start"]:
                visit.end += timedelta(days=1)
            for ident in record["resources"]:
                resource = self.resources[ident]
                if resource["type"] == "worker" and not self.works(ident, record["location_id"], visit):
                    raise DigitalBookerError(
                        409,
                        "outside_work_hours",
                        f"worker {ident} does not work then at location {record['location_id']}",
                        [{"param": "start_time", "message": "outside the worker's work hours"}],
                    )
        taken = self.clash(record)
        if taken is not None:
            shared = sorted(set(record["resources"]) & set(taken["resources"]))
            raise DigitalBookerError(
                409,
                "slot_taken",
                f"the time is no longer free for resource {', '.join(map(str, shared))}",
                [{"param": "start_time", "message": "the slot is no longer free"}],
            )

    def _new_record(
        self,
        kind: str,
        location_id: int,
        day: date,
        start: time,
        minutes: int,
        resources: list[int],
        user_id: int,
        interface: int,
    ) -> dict:
        end = (datetime.combine(day, start) + timedelta(minutes=minutes)).time()
        return {
            "id": None,
            "type": kind,
            "location_id": location_id,
            "date": day,
            "start": start,
            "end": end,
            "service_id": None,
            "class_id": None,
            "resources": resources,
            "price": None,
            "tax": None,
            "user_id": user_id,
            "notes": "",
            "confirmed": False,
            "campaign_code": None,
            "interface": interface,
            "_created": self.clock.now(),
            "_modified": None,
            "start_offset": 0,
            "end_offset": 0,
            "payments": [],
            "extra_info": None,
            "extra_services": [],
            "alternatives": [],
        }

    def _store(self, record: dict) -> dict:
        record["id"] = self.new_id("booking")
        self.bookings[record["id"]] = record
        self._index(record, True)
        self.changed()
        return record

    def create_service_booking(
        self, body: dict, *, interface: int = ADMIN, check_hours: bool = True, lang: str = "en"
    ) -> dict:
        """``POST /admin/v1/bookings/service`` (API reference "Create a service booking") → the new
        booking. Required: ``location_id``, ``service_id``, ``date``, ``start_time``,
        ``resources`` (``null`` or ``[]``: no resource, a booking waiting for a worker) and
        ``user_id``. The end is the service's first duration after the start; price and tax
        are the service's. Every worker named must give the service. 400 for bad arguments,
        409 when the slot is not free (:meth:`control`)."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            errors = [
                {"param": p, "message": "is required"}
                for p in ("location_id", "service_id", "date", "start_time", "user_id")
                if p not in body
            ]
            if "resources" not in body:
                errors.append({"param": "resources", "message": "is required (null to unset)"})
            if errors:
                raise DigitalBookerError(400, "invalid_argument", "missing arguments", errors)
            location = self._location(body["location_id"])
            service_id = parse_int(body["service_id"], "service_id")
            service = self.services.get(service_id)
            if service is None:
                raise invalid("service_id", f"no service with id {service_id}")
            if location["id"] not in service.locations:
                raise invalid(
                    "service_id", f"service {service_id} is not offered at location {location['id']}"
                )
            day = parse_date(body["date"], "date")
            start = parse_time(body["start_time"], "start_time")
            resources = self._resources_at(body["resources"], location, False)
            for ident in resources:
                if self.resources[ident]["type"] == "worker" and ident not in service.workers:
                    raise invalid("resources", f"worker {ident} does not give service {service_id}")
            extras = parse_int_list(body.get("extra_services"), "extra_services")
            if extras:
                raise invalid("extra_services", f"service {service_id} has no extra services")
            alternatives = parse_int_list(body.get("alternatives"), "alternatives")
            if alternatives:
                raise invalid("alternatives", f"service {service_id} has no alternatives")
            user_id = self._user_for(body["user_id"])
            record = self._new_record(
                "service", location["id"], day, start, service.durations[0], resources, user_id, interface
            )
            record.update(
                service_id=service.id,
                price=service.price,
                start_offset=service.start_offset,
                end_offset=service.end_offset,
                extra_info=self._extra_info(body),
                tax=_tax(service.price, service.tax_percent),
            )
            self.control(record, check_hours)
            return self.booking_view(self._store(record), lang)

    def create_resource_booking(self, body: dict, *, interface: int = ADMIN, lang: str = "en") -> dict:
        """``POST /admin/v1/bookings/resource`` (API reference "Create a resource booking"): a room (or
        a worker) for ``duration`` from ``start_time``. No price. 400/409 as for a service."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            errors = [
                {"param": p, "message": "is required"}
                for p in ("location_id", "date", "start_time", "duration", "resources", "user_id")
                if body.get(p) is None
            ]
            if errors:
                raise DigitalBookerError(400, "invalid_argument", "missing arguments", errors)
            location = self._location(body["location_id"])
            day = parse_date(body["date"], "date")
            start = parse_time(body["start_time"], "start_time")
            minutes = parse_duration(body["duration"], "duration")
            resources = self._resources_at(body["resources"], location, True)
            user_id = self._user_for(body["user_id"])
            record = self._new_record(
                "resource", location["id"], day, start, minutes, resources, user_id, interface
            )
            record["extra_info"] = self._extra_info(body)
            self.control(record)
            return self.booking_view(self._store(record), lang)

    def create_course_booking(self, body: dict, *, interface: int = ADMIN, lang: str = "en") -> dict:
        """``POST /admin/v1/bookings/course`` (API reference "Create a course booking"): a place in a
        held class (``course_id`` names the class, NOTES.md) → a booking of type ``class``.
        409 when the class is full."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            errors = [
                {"param": p, "message": "is required"}
                for p in ("course_id", "user_id")
                if body.get(p) is None
            ]
            if errors:
                raise DigitalBookerError(400, "invalid_argument", "missing arguments", errors)
            course_id = parse_int(body["course_id"], "course_id")
            held = self.classes.get(course_id)
            if held is None:
                raise invalid("course_id", f"no course with id {course_id}")
            user_id = self._user_for(body["user_id"])
            taken = sum(1 for b in self.bookings.values() if b["class_id"] == course_id)
            if taken >= held["max_bookings"]:
                raise DigitalBookerError(
                    409,
                    "class_full",
                    f"course {course_id} is full",
                    [{"param": "course_id", "message": "the course is full"}],
                )
            minutes = int(
                (
                    datetime.combine(held["date"], held["end"])
                    - datetime.combine(held["date"], held["start"])
                ).total_seconds()
                // 60
            )
            record = self._new_record(
                "class",
                held["location_id"],
                held["date"],
                held["start"],
                minutes,
                list(held["resources"]),
                user_id,
                interface,
            )
            record.update(
                class_id=course_id,
                price=held["price"],
                tax=_tax(held["price"], held["tax_percent"]),
                extra_info=self._extra_info(body),
            )
            self._store(record)  # a class holds its room for all its bookings: no clash between them
            return self.booking_view(record, lang)

    def delete_booking(self, ident: int) -> dict:
        """``DELETE /admin/v1/bookings/{id}`` (API reference "Delete a booking") → ``{"id"}``. The
        booking is gone (404 after) and its id is in the deleted list under today's date."""
        with self.lock:
            self.remove(ident, self.clock.now())
            return {"id": ident}

    def remove(self, ident: int, moment: datetime) -> None:
        """Delete a booking at ``moment`` (aware): it goes to :attr:`removed` and its id to the
        deleted list under the local date of ``moment``."""
        with self.lock:
            record = self.booking(ident)
            self._index(record, False)
            del self.bookings[ident]
            record["_deleted"] = moment
            self.removed[ident] = record
            self.deleted.append((self.local(moment).date(), moment, ident))
            self.deleted.sort(key=lambda d: (d[1], d[2]))
            self.changed()

    def set_confirmed(self, ident: int, confirmed: bool, lang: str = "en") -> dict:
        """``POST …/{id}/confirm`` / ``…/unconfirm`` (API reference "Confirm a booking") → the booking;
        ``modified`` is stamped only when the flag changes."""
        with self.lock:
            record = self.booking(ident)
            if record["confirmed"] != confirmed:
                record["confirmed"] = confirmed
                record["_modified"] = self.clock.now()
                self.changed()
            return self.booking_view(record, lang)

    def add_payment(self, ident: int, body: dict, *, allowed: tuple[str, ...] = ("cash",)) -> dict:
        """``POST /admin/v1/bookings/{id}/payments`` ``{type?, amount, tax}`` (API reference "Add a
        payment to a booking": only ``cash``, the default; amount 0–99999 incl. tax; tax a
        percentage 0–100) → the payment. Stamps the booking's ``modified``."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        with self.lock:
            record = self.booking(ident)
            kind = body.get("type") or "cash"
            if kind not in allowed:
                raise invalid("type", f"is one of {', '.join(allowed)}")
            errors = [
                {"param": p, "message": "is required"} for p in ("amount", "tax") if body.get(p) is None
            ]
            if errors:
                raise DigitalBookerError(400, "invalid_argument", "missing arguments", errors)
            amount = parse_float(body["amount"], "amount", 0, 99999)
            tax = parse_float(body["tax"], "tax", 0, 100)
            payment = {"id": self.new_id("payment"), "type": kind, "amount": round(amount, 2), "tax": tax}
            record["payments"].append(payment)
            record["_modified"] = self.clock.now()
            self.changed()
            return self.payment_view(payment)

    def payment(self, ident: int, payment_id: int) -> dict:
        with self.lock:
            for payment in self.booking(ident)["payments"]:
                if payment["id"] == payment_id:
                    return self.payment_view(payment)
            raise not_found("payment", payment_id)

    # ---- public available times (API reference Public API "List available times") -------------------------
    def public_view(self, url_text: str, view_url_text: str) -> tuple[dict, dict]:
        location = next(
            (loc for loc in self.locations.values() if loc["url_text"] == url_text and loc["public"]), None
        )
        if location is None:
            raise DigitalBookerError(404, "not_found", f"no location {url_text}")
        view = next((v for v in self.location_views(location["id"]) if v["url_text"] == view_url_text), None)
        if view is None:
            raise DigitalBookerError(404, "not_found", f"no view {view_url_text} at {url_text}")
        return location, view

    def view_services(self, location: dict) -> list[Service]:
        return sorted(
            (s for s in self.services.values() if location["id"] in s.locations), key=lambda s: s.id
        )

    def public_service(self, location: dict, value) -> Service:
        service_id = parse_int(value, "service_id")
        service = self.services.get(service_id)
        if service is None or location["id"] not in service.locations:
            raise DigitalBookerError(404, "not_found", f"no service {service_id} at this location")
        return service

    def service_workers(self, location: dict, service: Service) -> list[dict]:
        return [
            self.resources[w]
            for w in service.workers
            if location["id"] in self.resources[w]["locations"] and self.resources[w]["bookable"]
        ]

    def available_times(self, location: dict, view: dict, params: dict) -> dict:
        """Free starts of the service, every ``SLOT_STEP`` minutes inside the workers' hours
        where the worker is free (offsets included) and the start is not past → ``{"data":
        [{date, start_time, end_time, worker_id}], "next_date"?}``. ``range``: ``day``, the
        ISO ``week`` holding ``date`` (default), or ``next7`` days from it. With
        ``next_available`` and nothing in the range, the first later range holding times
        (within 90 days) is answered, with ``next_date``."""
        if view["type"] not in ("services", "time"):
            raise invalid("view", "available times need a view of type services or time")
        service = self.public_service(location, params.get("service_id"))
        workers = self.service_workers(location, service)
        if params.get("worker_id"):
            worker_id = parse_int(params["worker_id"], "worker_id")
            workers = [w for w in workers if w["id"] == worker_id]
            if not workers:
                raise invalid("worker_id", f"worker {worker_id} does not give service {service.id} here")
        if parse_int_list(params.get("extra_services"), "extra_services"):
            raise invalid("extra_services", f"service {service.id} has no extra services")
        if parse_int_list(params.get("alternatives"), "alternatives"):
            raise invalid("alternatives", f"service {service.id} has no alternatives")
        minutes = service.durations[0]
        if params.get("duration"):
            minutes = parse_duration(params["duration"], "duration")
            if minutes not in service.durations:
                raise invalid("duration", "is not one of the service's durations")
        day = parse_date(params["date"], "date") if params.get("date") else self.today()
        span = params.get("range") or "week"
        if span not in TIME_RANGES:
            raise invalid("range", f"is one of {', '.join(TIME_RANGES)}")
        later = (
            parse_bool(params["next_available"], "next_available") if params.get("next_available") else False
        )
        with self.lock:
            first, days = _range_days(day, span)
            times = self._times(location, service, workers, minutes, first, days)
            out: dict = {"data": times}
            moved = 0
            while later and not times and moved < 90:
                moved += days
                times = self._times(location, service, workers, minutes, first + timedelta(days=moved), days)
                if times:
                    out = {"data": times, "next_date": times[0]["date"]}
            return out

    def _times(self, location, service: Service, workers, minutes: int, first: date, days: int) -> list[dict]:
        now = self.local_now()
        out = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            for worker in workers:
                for a, b in self.work_hours.get((worker["id"], location["id"], day), []):
                    start = datetime.combine(day, a)
                    while start + timedelta(minutes=minutes) <= datetime.combine(day, b):
                        probe = {
                            "id": None,
                            "date": day,
                            "start": start.time(),
                            "end": (start + timedelta(minutes=minutes)).time(),
                            "resources": [worker["id"]],
                            "start_offset": service.start_offset,
                            "end_offset": service.end_offset,
                        }
                        if start >= now and self.clash(probe) is None:
                            out.append(
                                {
                                    "date": day.isoformat(),
                                    "start_time": hhmm(start),
                                    "end_time": hhmm(start + timedelta(minutes=minutes)),
                                    "worker_id": worker["id"],
                                }
                            )
                        start += timedelta(minutes=SLOT_STEP)
        out.sort(key=lambda t: (t["date"], t["start_time"], t["worker_id"]))
        return out

    # ---- cloud-side changes (tests act as the clinic's other channels) ---------------------------
    def online_booking(
        self,
        location_id: int,
        service_id: int,
        day: date,
        start: time,
        *,
        user_id: int | None = None,
        worker_id: int | None = None,
        campaign_code: str | None = None,
        confirmed: bool = False,
        lang: str = "en",
    ) -> dict:
        """A customer books on the public booking site (``interface`` 2, API reference "interface":
        2 = www). Without ``worker_id`` no worker is chosen (a booking waiting for one);
        without ``user_id`` the first registered user books. The slot rules apply."""
        with self.lock:
            if user_id is None:
                user_id = next(u["id"] for u in self.users.values() if u["type"] == "normal")
            body = {
                "location_id": location_id,
                "service_id": service_id,
                "date": day.isoformat(),
                "start_time": hhmm(start),
                "resources": [worker_id] if worker_id else [],
                "user_id": user_id,
            }
            made = self.create_service_booking(body, interface=WWW, lang=lang)
            record = self.bookings[made["id"]]
            record["campaign_code"], record["confirmed"] = campaign_code, confirmed
            self.changed()
            return self.booking_view(record, lang)

    def calendar_booking(
        self,
        location_id: int,
        service_id: int,
        day: date,
        start: time,
        *,
        user_id: int,
        worker_id: int | None = None,
        room_id: int | None = None,
        confirmed: bool = True,
        lang: str = "en",
    ) -> dict:
        """Staff book in the admin calendar (``interface`` 1): clashes are refused, work hours
        are not checked (staff may book outside them)."""
        with self.lock:
            body = {
                "location_id": location_id,
                "service_id": service_id,
                "date": day.isoformat(),
                "start_time": hhmm(start),
                "resources": [r for r in (worker_id, room_id) if r],
                "user_id": user_id,
            }
            made = self.create_service_booking(body, check_hours=False, lang=lang)
            record = self.bookings[made["id"]]
            record["confirmed"] = confirmed
            self.changed()
            return self.booking_view(record, lang)

    def start_of(self, record: dict) -> datetime:
        """A booking's start as an aware UTC moment (its local date and start time in the zone)."""
        return datetime.combine(record["date"], record["start"], self.zone).astimezone(UTC)

    def load_bookings(
        self,
        location_id: int,
        count: int,
        *,
        service_id: int | None = None,
        user_id: int | None = None,
        first_day: date | None = None,
        days: int = 25,
        confirmed: bool = True,
    ) -> list[int]:
        """Bulk load for benchmarks: up to ``count`` service bookings at the location, each
        worker's days filled back to back from 00:00 (work hours not checked, clashes
        skipped), from ``first_day`` (default today) over ``days`` days; returns their ids."""
        with self.lock:
            location = self.find(self.locations, location_id, "location")
            service = self.services[service_id] if service_id else self.view_services(location)[0]
            user_id = user_id or next(u["id"] for u in self.users.values() if u["type"] == "normal")
            workers = [w["id"] for w in self.service_workers(location, service)]
            first_day = first_day or self.today()
            step = service.start_offset + service.durations[0] + service.end_offset
            made: list[int] = []
            for offset in range(days):
                day = first_day + timedelta(days=offset)
                for worker in workers:
                    for minutes in range(
                        service.start_offset, 24 * 60 - step + service.start_offset + 1, step
                    ):
                        if len(made) >= count:
                            self.changed()
                            return made
                        record = self._new_record(
                            "service",
                            location_id,
                            day,
                            time(minutes // 60, minutes % 60),
                            service.durations[0],
                            [worker],
                            user_id,
                            ADMIN,
                        )
                        record.update(
                            service_id=service.id,
                            price=service.price,
                            start_offset=service.start_offset,
                            end_offset=service.end_offset,
                            tax=_tax(service.price, service.tax_percent),
                            confirmed=confirmed,
                        )
                        if self.clash(record) is None:
                            made.append(self._store(record)["id"])
            self.changed()
            return made

    def calendar_move(self, ident: int, day: date, start: time, resources: list[int] | None = None) -> dict:
        """Staff drag the booking in the admin calendar: the same id at a new date and time
        (and resources), ``modified`` stamped (contract "Backstop": a booking that moved
        still answers GET). The slot rules apply, work hours aside."""
        with self.lock:
            record = self.booking(ident)
            moved = dict(
                record,
                date=day,
                start=start,
                resources=list(resources) if resources is not None else list(record["resources"]),
            )
            length = datetime.combine(record["date"], record["end"]) - datetime.combine(
                record["date"], record["start"]
            )
            moved["end"] = (datetime.combine(day, start) + length).time()
            self.control(moved, check_hours=False)
            moved["_modified"] = self.clock.now()
            self._index(record, False)
            record.update(moved)
            self._index(record, True)
            self.changed()
            return self.booking_view(record)

    def calendar_assign(self, ident: int, worker_id: int) -> dict:
        """Staff put a worker on a booking in the admin calendar (same id, ``modified``)."""
        with self.lock:
            record = self.booking(ident)
            self.worker(worker_id)
            others = [r for r in record["resources"] if self.resources[r]["type"] != "worker"]
            return self.calendar_move(ident, record["date"], record["start"], [worker_id, *others])

    def calendar_confirm(self, ident: int, confirmed: bool = True) -> dict:
        """Staff confirm (or unconfirm) in the admin calendar."""
        return self.set_confirmed(ident, confirmed)

    def calendar_delete(self, ident: int) -> dict:
        """Staff delete the booking in the admin calendar, or the customer cancels it on the
        booking site (there is no cancel status: a delete)."""
        return self.delete_booking(ident)

    def calendar_payment(self, ident: int, kind: str, amount: float, tax: float = 0.0) -> dict:
        """A payment taken elsewhere: ``online`` on the booking site, ``prepaid`` or ``other``
        in the admin calendar (API reference "The payment object": type)."""
        if kind not in PAYMENT_TYPES:
            raise ValueError(f"payment type is one of {PAYMENT_TYPES}")
        return self.add_payment(ident, {"type": kind, "amount": amount, "tax": tax}, allowed=PAYMENT_TYPES)


def _texts(value) -> dict | None:
    """A localized value: ``{"en": ..., "ar": ...}``, or plain text taken as English."""
    if value is None or isinstance(value, dict):
        return value
    return {"en": value}


def _set_only(out: dict) -> dict:
    return {k: v for k, v in out.items() if v is not None}


def _tax(price: float | None, percent: float) -> float | None:
    """The tax held in a price that includes it (NOTES.md: the booking's ``tax`` is an amount)."""
    if price is None:
        return None
    return round(price - price / (1 + percent / 100), 2)


def _range_days(day: date, span: str) -> tuple[date, int]:
    if span == "day":
        return day, 1
    if span == "next7":
        return day, 7
    return day - timedelta(days=day.weekday()), 7
