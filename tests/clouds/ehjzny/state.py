"""The in-memory organization of the simulated Ehjzny cloud: dicts guarded by one lock.

Objects are kept in the contract's shapes (``shared/contracts/ehjzny.md``, "Objects"):
resources, booking types and customers exactly as the API returns them (``name`` is
derived per request from ``name_translations``, seed 000 "Localization"); bookings as
records with the field names of :mod:`app.domain.model` (UTC times ``...Z`` without
milliseconds, ``_seq`` breaking ``createdAt`` ties), shaped for output by
:mod:`.views`. :meth:`CloudState.load` takes the dict of ``app.demo.generate_clinic``.
"""

from __future__ import annotations

import itertools
import secrets
import string
import threading
from datetime import timedelta

from app.domain.clock import Clock, from_iso, from_local, to_iso
from app.domain.errors import not_found
from app.domain.model import Status

from .paging import PageTokens

ID_ALPHABET = string.ascii_letters + string.digits
RESOURCE_DEFAULTS = {"on": True, "activated": True, "bookFromWebsite": True, "category": None, "types": []}
TYPE_DEFAULTS = {"minutes": 30, "leaveMinutesBefore": 0, "leaveMinutesAfter": 0, "color": "#3366cc",
                 "price": "0.00", "autoConfirm": True, "on": True}
CUSTOMER_DEFAULTS = {"firstName": "", "lastName": "", "phone": None, "email": None, "note": None, "data": {}}
BOOKING_KEEP = ("id", "status", "startDateTime", "endDateTime", "duration", "typeId", "resourceId",
                "customerId", "note", "info", "createdAt", "assignmentTimeout", "cancelReason")


def cloud_id() -> str:
    """An id in Ehjzny's style (20 letters and digits, like ``djeWd83ncD3989RtebfiR``)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(20))


class CloudState:
    def __init__(self, clock: Clock | None = None, zone: str = "Asia/Riyadh", *, app_id: str | None = None,
                 api_key: str | None = None, access_token_ttl: int = 3600, page_token_ttl: float = 60.0,
                 otp_code: str = "1234"):
        self.clock = clock or Clock()
        self.zone = zone
        self.organization = {"timeZone": zone, "name_translations": {"en": "Simulated clinic", "ar": "عيادة تجريبية"}}
        self.app_id = app_id or "sim-" + secrets.token_hex(6)
        self.api_key = api_key or "key-" + secrets.token_urlsafe(18)
        self.access_token_ttl = access_token_ttl
        self.otp_code = otp_code
        self.lock = threading.RLock()
        self.resources: dict[str, dict] = {}
        self.types: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.bookings: dict[str, dict] = {}
        self.time_rules: dict[str, dict] = {}
        self.pages = PageTokens(self.clock, page_token_ttl)
        self._seq = itertools.count(1)

    # ---- seeding -------------------------------------------------------------------------
    def load(self, clinic: dict) -> None:
        """Add the objects of ``clinic`` (the ``app.demo.generate_clinic`` shape, API objects)."""
        with self.lock:
            org = clinic.get("organization") or {}
            self.organization.update(org)
            self.zone = org.get("timeZone") or self.zone
            self.organization["timeZone"] = self.zone
            for kind, defaults in (("resources", RESOURCE_DEFAULTS), ("types", TYPE_DEFAULTS),
                                   ("customers", CUSTOMER_DEFAULTS)):
                table = getattr(self, kind)
                for obj in clinic.get(kind) or []:
                    table[obj["id"]] = {**defaults, **obj}
            for resource in clinic.get("resources") or []:
                if resource.get("timeRules"):
                    self.time_rules[resource["id"]] = resource["timeRules"]
                    self.resources[resource["id"]].pop("timeRules")
            self.time_rules.update(clinic.get("timeRules") or {})
            for booking in clinic.get("bookings") or []:
                record = self._record_from_api(booking)
                self.bookings[record["id"]] = record

    def _record_from_api(self, api: dict) -> dict:
        record = {k: api.get(k) for k in BOOKING_KEEP}
        record["id"] = record["id"] or cloud_id()
        record["info"] = record["info"] or {}
        minutes = int(api.get("duration") or self.types.get(api.get("typeId"), {}).get("minutes") or 30)
        record["duration"] = minutes
        start = from_iso(api.get("startDateTime"))
        if start is None and api.get("startDate") and api.get("startTime") is not None:
            start = from_local(from_iso(api["startDate"] + "T00:00:00Z").date(), api["startTime"], self.zone)
        end = from_iso(api.get("endDateTime")) or (start and start + timedelta(minutes=minutes))
        record["startDateTime"], record["endDateTime"] = to_iso(start), to_iso(end)
        record["createdAt"] = to_iso(from_iso(api.get("createdAt")) or self.clock.now())
        record["status"] = Status(api.get("status") or Status.CONFIRMED).value
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
        return [r for r in self.resources.values()
                if r.get("on", True) and r.get("activated", True) and type_id in (r.get("types") or [])]

    def next_seq(self) -> int:
        return next(self._seq)
