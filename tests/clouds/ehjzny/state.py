"""The in-memory organization of the simulated Ehjzny cloud: dicts guarded by one lock.

Objects are kept in the contract's shapes (``docs/clouds/ehjzny.md``, "Objects"):
resources, booking types and customers exactly as the API returns them (``name`` is
derived per request from ``name_translations``, Ehjzny API reference, "Localization"); bookings as
records in the contract's field names (UTC times with milliseconds, ``_seq`` breaking
``createdAt`` ties; fields the API reference lacks are kept under ``_`` names and never shown unless
an extension is switched on by name, :data:`EXTENSIONS`), shaped for output by
:mod:`.views`. Every change to the bookings (a record added, removed or edited, by the
cloud or by a test) moves :attr:`CloudState.revision`, so a listing sorted once is served
page after page until something changes (:mod:`.listing`). :meth:`CloudState.load` takes ``{"organization", "resources", "types",
"customers", "bookings", "timeRules": {resourceId: TimeRules}}`` in the contract's shapes.
"""

from __future__ import annotations

import itertools
import secrets
import string
import threading
from datetime import date, timedelta

from .paging import PageTokens
from .rules import CONFIRMED, STATUSES, SimClock, at_local, clamp_timeout, invalid, iso, not_found, parse

ID_ALPHABET = string.ascii_letters + string.digits
RESOURCE_DEFAULTS = {"on": True, "activated": True, "bookFromWebsite": True, "category": None, "types": []}
TYPE_DEFAULTS = {
    "minutes": 30,
    "leaveMinutesBefore": 0,
    "leaveMinutesAfter": 0,
    "color": "#3366cc",
    "price": "0.00",
    "autoConfirm": True,
    "on": True,
}
CUSTOMER_DEFAULTS = {"firstName": "", "lastName": "", "phone": None, "email": None, "note": None, "data": {}}
BOOKING_KEEP = (
    "id",
    "status",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "note",
    "info",
    "createdAt",
)
#: Fields some deployments might send but the API reference does not have. Off unless a test names
#: them: ``EhjznyCloud(extensions={"rescheduledTo"})`` shows the old booking's successor.
EXTENSIONS = frozenset({"rescheduledTo", "cancelReason", "assignmentTimeout", "reservedUntil"})


class Revision:
    """A counter that moves on every change to the bookings it watches."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class Record(dict):
    """A booking record: a dict whose every change moves its table's :class:`Revision`."""

    __slots__ = ("_revision",)

    def __init__(self, revision: Revision, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._revision = revision

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._revision.bump()

    def __delitem__(self, key):
        super().__delitem__(key)
        self._revision.bump()

    def __ior__(self, other):
        self.update(other)
        return self

    def update(self, *args, **kwargs):
        super().update(*args, **kwargs)
        self._revision.bump()

    def pop(self, *args):
        self._revision.bump()
        return super().pop(*args)

    def popitem(self):
        self._revision.bump()
        return super().popitem()

    def setdefault(self, key, default=None):
        self._revision.bump()
        return super().setdefault(key, default)

    def clear(self):
        super().clear()
        self._revision.bump()


class Bookings(dict):
    """The bookings table (id → :class:`Record`); adding or removing one moves ``revision``.
    A plain dict stored here is kept as a :class:`Record` copy of it."""

    def __init__(self):
        super().__init__()
        self.revision = Revision()

    def record(self, fields: dict) -> Record:
        return Record(self.revision, fields)

    def __setitem__(self, key, value):
        if not isinstance(value, Record) or value._revision is not self.revision:
            value = self.record(value)
        super().__setitem__(key, value)
        self.revision.bump()

    def __delitem__(self, key):
        super().__delitem__(key)
        self.revision.bump()

    def __ior__(self, other):
        self.update(other)
        return self

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, *args):
        self.revision.bump()
        return super().pop(*args)

    def popitem(self):
        self.revision.bump()
        return super().popitem()

    def clear(self):
        super().clear()
        self.revision.bump()


def cloud_id() -> str:
    """An id in Ehjzny's style (20 letters and digits, like ``djeWd83ncD3989RtebfiR``)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(20))


class CloudState:
    def __init__(
        self,
        clock=None,
        zone: str = "Asia/Riyadh",
        *,
        app_id: str | None = None,
        api_key: str | None = None,
        access_token_ttl: int = 3600,
        page_token_ttl: float = 60.0,
        otp_code: str = "1234",
        extensions=(),
    ):
        unknown = set(extensions) - EXTENSIONS
        if unknown:
            raise ValueError(f"unknown extensions {sorted(unknown)}; known: {sorted(EXTENSIONS)}")
        self.extensions = frozenset(extensions)
        self.clock = clock or SimClock()
        self.zone = zone
        self.organization = {
            "timeZone": zone,
            "name_translations": {"en": "Simulated clinic", "ar": "عيادة تجريبية"},
        }
        self.app_id = app_id or "sim-" + secrets.token_hex(6)
        self.api_key = api_key or "key-" + secrets.token_urlsafe(18)
        self.access_token_ttl = access_token_ttl
        self.otp_code = otp_code
        self.lock = threading.RLock()
        self.resources: dict[str, dict] = {}
        self.types: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.bookings: Bookings = Bookings()
        self.time_rules: dict[str, dict] = {}
        self.pages = PageTokens(self.clock, page_token_ttl)
        self._listings: dict[tuple, tuple[int, list]] = {}  # filters → (revision, sorted records)
        self._ticked: tuple = (None, None)  # (revision, next deadline) of the last full tick
        self._seq = itertools.count(1)

    # ---- seeding -------------------------------------------------------------------------
    def load(self, clinic: dict) -> None:
        """Add the objects of ``clinic`` (API objects in the contract's shapes, see the module doc)."""
        with self.lock:
            org = clinic.get("organization") or {}
            self.organization.update(org)
            self.zone = org.get("timeZone") or self.zone
            self.organization["timeZone"] = self.zone
            for kind, defaults in (
                ("resources", RESOURCE_DEFAULTS),
                ("types", TYPE_DEFAULTS),
                ("customers", CUSTOMER_DEFAULTS),
            ):
                table = getattr(self, kind)
                for obj in clinic.get(kind) or []:
                    table[obj["id"]] = {**defaults, **obj}
            self.time_rules.update(clinic.get("timeRules") or {})
            for booking in clinic.get("bookings") or []:
                record = self._record_from_api(booking)
                self.bookings[record["id"]] = record

    def _record_from_api(self, api: dict) -> dict:
        record = self.bookings.record({k: api.get(k) for k in BOOKING_KEEP})
        record["id"] = record["id"] or cloud_id()
        record["info"] = record["info"] or {}
        minutes = int(api.get("duration") or self.types.get(api.get("typeId"), {}).get("minutes") or 30)
        record["duration"] = minutes
        start = parse(api.get("startDateTime"))
        if start is None and api.get("startDate") and api.get("startTime") is not None:
            start = at_local(date.fromisoformat(api["startDate"]), api["startTime"], self.zone)
        end = parse(api.get("endDateTime")) or (start and start + timedelta(minutes=minutes))
        record["startDateTime"], record["endDateTime"] = iso(start), iso(end)
        record["createdAt"] = iso(parse(api.get("createdAt")) or self.clock.now())
        record["status"] = api.get("status") or CONFIRMED
        if record["status"] not in STATUSES:
            raise invalid(f"unknown status {record['status']!r}")
        record["_timeout"] = clamp_timeout(api.get("assignmentTimeout"))
        record["_seq"] = next(self._seq)
        return record

    # ---- lookups -------------------------------------------------------------------------
    def get(self, kind: str, ident: str | None) -> dict:
        """The object ``ident`` of table ``kind`` (resources, types, customers, bookings); 404."""
        obj = getattr(self, kind).get(ident) if ident else None
        if obj is None:
            raise not_found(kind.rstrip("s").capitalize(), str(ident))
        return obj

    def serving(self, type_id: str) -> list[dict]:
        """Resources that are on, activated and serve ``type_id``, in catalogue order."""
        return [
            r
            for r in self.resources.values()
            if r.get("on", True) and r.get("activated", True) and type_id in (r.get("types") or [])
        ]

    @property
    def revision(self) -> int:
        """Moves on every change to :attr:`bookings` (see :class:`Bookings`)."""
        return self.bookings.revision.value

    def next_seq(self) -> int:
        return next(self._seq)
