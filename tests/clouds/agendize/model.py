"""The state and rules of the simulated Agendize cloud (Agendize API reference,
"Appointments": resource, delete, get, list, insert, update; contract
``docs/clouds/agendize.md``). One account, in memory, guarded by one lock.

Appointments are records whose times are aware UTC datetimes (``_start``, ``_end``,
``_created``); :meth:`AgendizeCloud.view` shapes them as the API reference's Appointment resource,
with ``{"dateTime": <local, no offset>, "timeZone": <IANA>}`` in the company's zone
(API reference "start.dateTime": RFC 3339 without time zone information).

Every write bumps a change sequence and appends ``(seq, id)`` to a change log; a sync
token (:class:`SyncToken`) remembers the sequence its listing began at, so an incremental
pull costs only the changes since (API reference "List": ``syncToken``, ``nextSyncToken``).

Cloud-side changes for tests (an online booking, the client rescheduling or cancelling,
a staff member's status change or delete in the dashboard, a personal block, tokens
invalidated) are the methods under "cloud-side".
"""

from __future__ import annotations

import bisect
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .faults import Faults

STATUSES = ("pending", "accepted", "inProgress", "completed", "noShow", "declined", "cancelled")
LIST_STATUSES = ("noShow", "accepted", "completed", "cancelled", "pending")  # API reference "List": status
INACTIVE = ("declined", "cancelled")  # they hold no time
STATUS_HISTORY = {
    "pending": "pending",
    "accepted": "accepted",
    "inProgress": "in_progress",
    "completed": "completed",
    "noShow": "no_show",
    "declined": "declined",
}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WINDOW_FILTERS = ("startDate", "endDate", "createdStartDate", "createdEndDate")
QUERY_FILTERS = ("status", "clientId", "serviceId", "staffId", "resourceId", "q", "externalClientId")
EXTENDED_LIMIT = 22 * 1024  # API reference "extendedProperties": size limit 22KB
API_USER = {"firstName": "API", "lastName": "User", "email": "api@agendize.invalid", "userName": "api"}


class AgendizeError(Exception):
    """An API error: HTTP ``status`` and ``{"error": {"code": status, "message", "reason"}}``
    (contract "Transport" → Errors)."""

    def __init__(self, status: int, message: str, reason: str):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason

    def body(self) -> dict:
        return envelope(self.status, self.message, self.reason)


def envelope(status: int, message: str, reason: str | None = None) -> dict:
    return {"error": {"code": status, "message": message, "reason": reason}}


def invalid(message: str) -> AgendizeError:
    return AgendizeError(400, message, "invalid")


def not_found(kind: str, ident) -> AgendizeError:
    return AgendizeError(404, f"{kind} {ident} not found", "notFound")


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


def parse_gmt(text: str, name: str) -> datetime:
    """An RFC 3339 list filter in GMT (API reference "List": ``startDate`` … ``createdEndDate``)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"{name} is not an RFC 3339 timestamp") from exc
    if moment.tzinfo is None:
        raise invalid(f"{name} needs a zone (GMT, e.g. 2025-01-20T00:00:00Z)")
    return moment.astimezone(UTC)


@dataclass
class SyncToken:
    seq: int
    company_id: str
    filters: dict
    issued: datetime


@dataclass
class Company:
    """A company (one branch) and everything scheduled in it."""

    id: str
    name: str
    zone: ZoneInfo
    address: str | None = None
    working_hours: list = field(default_factory=list)
    vacations: list = field(default_factory=list)
    staff: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    appointments: dict = field(default_factory=dict)

    def view(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "timeZone": self.zone.key,
            "address": self.address,
            "workingHours": self.working_hours,
            "vacations": self.vacations,
        }


class AgendizeCloud:
    """One simulated Agendize account.

    ``api_key`` and ``token`` are the credentials (contract "Transport": ``apiKey`` and
    ``token``), ``access_token`` the OAuth2 bearer accepted in their place. ``page_size``
    appointments (and clients) per page; sync tokens live ``sync_token_ttl``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        token: str | None = None,
        clock: Clock | None = None,
        page_size: int = 100,
        sync_token_ttl: timedelta = timedelta(days=7),
        currency: str = "USD",
        fault_seed: int = 0,
        admin_key: str | None = None,
    ):
        self.api_key = api_key or "ak" + secrets.token_hex(12)
        self.token = token or "sso" + secrets.token_hex(16)
        self.access_token = "at" + secrets.token_hex(16)
        self.admin_key = admin_key or "admin-" + secrets.token_urlsafe(18)
        self.clock = clock or Clock()
        self.page_size = page_size
        self.sync_token_ttl = sync_token_ttl
        self.currency = currency
        self.faults = Faults(fault_seed)
        self.lock = threading.RLock()
        self.companies: dict[str, Company] = {}
        self.clients: dict[str, dict] = {}
        self.notifications: list[dict] = []  # the e-mails and text messages "sent" to clients
        self.sync_tokens: dict[str, SyncToken] = {}
        self.pages: dict[str, dict] = {}
        self._ids = itertools.count(secrets.randbelow(10**6) + 10**6)
        self._seq = 0
        self._log_seqs: list[int] = []
        self._log_ids: list[tuple[str, str]] = []

    # ---- ids, sequence -------------------------------------------------------------------
    def new_id(self) -> str:
        """An id as text of at most 16 characters (API reference: ``Max length 16``)."""
        return str(next(self._ids))

    def touch(self, record: dict) -> None:
        self._seq += 1
        record["_seq"] = self._seq
        self._log_seqs.append(self._seq)
        self._log_ids.append((record["_company"], record["id"]))

    # ---- reference data ------------------------------------------------------------------
    def add_company(
        self, name: str, zone: str, *, working_hours=None, vacations=None, address=None
    ) -> Company:
        company = Company(
            self.new_id(), name, ZoneInfo(zone), address, list(working_hours or []), list(vacations or [])
        )
        with self.lock:
            self.companies[company.id] = company
        return company

    def add_staff(
        self,
        company_id: str,
        first: str,
        last: str,
        *,
        working_hours=None,
        custom_hours=None,
        vacations=None,
        email=None,
        phone=None,
        color="#3366cc",
        external_id=None,
    ) -> dict:
        staff = {
            "id": self.new_id(),
            "firstName": first,
            "lastName": last,
            "email": email,
            "phone": phone,
            "color": color,
            "services": [],
            "workingHours": list(working_hours or []),
            "customWorkingHours": list(custom_hours or []),
            "vacations": list(vacations or []),
            "externalId": external_id,
        }
        with self.lock:
            self.company(company_id).staff[staff["id"]] = staff
        return staff

    def add_service(
        self,
        company_id: str,
        name: str,
        minutes: int,
        staff_ids: list[str],
        *,
        price=None,
        buffer=0,
        preparation=0,
        resources=None,
        i18n=None,
        color="#22aa66",
        external_id=None,
    ) -> dict:
        """A service; ``price`` in :attr:`currency` (None = free); ``resources`` [{id, quantity}]."""
        with self.lock:
            company = self.company(company_id)
            service = {
                "id": self.new_id(),
                "name": name,
                "duration": minutes,
                "bufferDuration": buffer,
                "preparationDuration": preparation,
                "price": {"amount": float(price), "currency": self.currency} if price else None,
                "color": color,
                "staff": [{"id": i} for i in staff_ids],
                "resource": list(resources or []),
                "i18n": dict(i18n or {}),
                "workingHours": None,
                "useCompanyWorkingHours": True,
                "externalId": external_id,
            }
            company.services[service["id"]] = service
            for ident in staff_ids:
                company.staff[ident]["services"].append({"id": service["id"], "name": name})
        return service

    def add_resource(self, company_id: str, name: str, external_id: str | None = None) -> dict:
        resource = {"id": self.new_id(), "name": name, "externalId": external_id}
        with self.lock:
            self.company(company_id).resources[resource["id"]] = resource
        return resource

    def company(self, ident: str) -> Company:
        company = self.companies.get(ident)
        if company is None:
            raise not_found("company", ident)
        return company

    def lookup(self, table: dict, ref, kind: str) -> dict:
        """A staff/service/resource by ``{"id"}`` or ``{"externalId"}`` (API reference "Insert":
        "You can also use service.externalId"); 400 when unknown."""
        if not isinstance(ref, dict):
            raise invalid(f"{kind} must be an object with an id")
        if ref.get("id") is not None:
            found = table.get(str(ref["id"]))
        else:
            found = next(
                (
                    o
                    for o in table.values()
                    if ref.get("externalId") is not None and o.get("externalId") == ref.get("externalId")
                ),
                None,
            )
        if found is None:
            raise invalid(f"unknown {kind} {ref.get('id') or ref.get('externalId')}")
        return found

    # ---- clients -------------------------------------------------------------------------
    def create_client(self, body: dict) -> dict:
        """``POST /clients``: ``firstName`` or ``lastName`` required (API reference "client": Max
        length 127 each); duplicates are allowed."""
        first, last = body.get("firstName") or "", body.get("lastName") or ""
        if not (first or last):
            raise invalid("a client needs firstName or lastName")
        for name in ("firstName", "lastName", "email"):
            if len(str(body.get(name) or "")) > 127:
                raise invalid(f"client.{name} is longer than 127 characters")
        client = {
            "id": self.new_id(),
            "firstName": first,
            "lastName": last,
            "email": body.get("email"),
            "phone": body.get("phone"),
            "mobilePhone": body.get("mobilePhone"),
            "externalId": body.get("externalId"),
            "timeZone": body.get("timeZone"),
        }
        with self.lock:
            self.clients[client["id"]] = client
        return client

    def resolve_client(self, ref) -> dict:
        """The appointment's client (API reference "Insert": client.id, or names and email): by
        ``id``; else the first client with that ``externalId``; else by ``email``; else a
        new client (it then needs a name and an email)."""
        if not isinstance(ref, dict):
            raise invalid("client is required")
        if ref.get("id") is not None:
            client = self.clients.get(str(ref["id"]))
            if client is None:
                raise invalid(f"unknown client {ref['id']}")
            return client
        for key in ("externalId", "email"):
            if ref.get(key):
                found = next((c for c in self.clients.values() if c.get(key) == ref[key]), None)
                if found:
                    return found
        if not ref.get("email"):
            raise invalid("a new client needs an email (seed Insert: client.email)")
        return self.create_client(ref)

    # ---- times and working hours ---------------------------------------------------------
    def zoned(self, value, company: Company, name: str) -> datetime:
        """``{"dateTime", "timeZone"?}`` → aware UTC; ``dateTime`` has no offset (API reference)."""
        if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
            raise invalid(f"{name}.dateTime is required")
        try:
            local = datetime.fromisoformat(value["dateTime"])
        except ValueError as exc:
            raise invalid(f"{name}.dateTime is not an RFC 3339 date-time") from exc
        if local.tzinfo is not None:
            raise invalid(f"{name}.dateTime must carry no zone: give it in {name}.timeZone")
        try:
            zone = ZoneInfo(value.get("timeZone") or company.zone.key)
        except (ValueError, KeyError) as exc:
            raise invalid(f"{name}.timeZone is not an IANA time zone") from exc
        return local.replace(tzinfo=zone).astimezone(UTC)

    @staticmethod
    def zoned_view(moment: datetime, company: Company) -> dict:
        return {
            "dateTime": moment.astimezone(company.zone).replace(tzinfo=None).isoformat(timespec="seconds"),
            "timeZone": company.zone.key,
        }

    @staticmethod
    def _within(hours: list, day_date: date, start_t, end_t, custom: list | None = None) -> bool:
        for entry in custom or []:
            if entry.get("date") == day_date.isoformat():
                intervals = entry.get("hours") or []
                break
        else:
            name = DAYS[day_date.weekday()]
            intervals = next((d.get("hours") or [] for d in hours if d.get("day") == name), [])
        return any(h["start"] <= start_t and end_t <= h["end"] for h in intervals)

    @staticmethod
    def _on_vacation(vacations: list, day_date: date) -> bool:
        return any(v["startDate"] <= day_date.isoformat() <= v["endDate"] for v in vacations)

    def working(self, company: Company, staff: dict | None, start: datetime, end: datetime) -> bool:
        """Inside the company's hours (and the staff member's, custom hours first), off
        vacation; one local day (contract "Desk operations": working hours, inferred)."""
        local_start, local_end = start.astimezone(company.zone), end.astimezone(company.zone)
        day_date = local_start.date()
        midnight = local_end.date() == day_date + timedelta(days=1) and local_end.time() == time(0)
        if local_end.date() > day_date and not midnight:
            return False
        end_t = "24:00" if midnight else local_end.strftime("%H:%M")
        start_t = local_start.strftime("%H:%M")
        if self._on_vacation(company.vacations, day_date) or not self._within(
            company.working_hours, day_date, start_t, end_t
        ):
            return False
        if staff is None:
            return True
        return not self._on_vacation(staff["vacations"], day_date) and self._within(
            staff["workingHours"], day_date, start_t, end_t, staff["customWorkingHours"]
        )

    def occupied(self, record: dict, company: Company) -> tuple[datetime, datetime]:
        """The time a record holds: preparation before and buffer after (service fields)."""
        service = company.services.get(record.get("_service") or "")
        before = timedelta(minutes=(service or {}).get("preparationDuration") or 0)
        after = timedelta(minutes=(service or {}).get("bufferDuration") or 0)
        return record["_start"] - before, record["_end"] + after

    def clash(self, company: Company, record: dict) -> str | None:
        """What ``record`` collides with (its staff or resource busy then), or None."""
        low, high = self.occupied(record, company)
        for other in company.appointments.values():
            if other["id"] == record["id"] or other["_deleted"] or other["status"] in INACTIVE:
                continue
            o_low, o_high = self.occupied(other, company)
            if not (o_low < high and low < o_high):
                continue
            if record.get("_staff") and other.get("_staff") == record["_staff"]:
                return "staff"
            if record.get("_resource") and other.get("_resource") == record["_resource"]:
                return "resource"
        return None

    def control(self, company: Company, record: dict, force: bool) -> None:
        """Working time control, skipped with ``force`` (API reference "Insert": force)."""
        if force or record["status"] in INACTIVE:
            return
        staff = company.staff.get(record.get("_staff") or "")
        if record["type"] == "normal" and not self.working(company, staff, record["_start"], record["_end"]):
            raise AgendizeError(
                400,
                "the start is outside working hours (send force=true with a staff id)",
                "outsideWorkingHours",
            )
        taken = self.clash(company, record)
        if taken:
            raise AgendizeError(409, f"the slot is taken: the {taken} is busy then", "slotTaken")

    # ---- appointments: views -------------------------------------------------------------
    def find(self, company: Company, ident: str, deleted: bool = False) -> dict:
        """By id or reference (API reference "Get": "Appointment identifier or appointment reference")."""
        record = company.appointments.get(ident)
        if record is None:
            record = next((r for r in company.appointments.values() if r["reference"] == ident), None)
        if record is None or (record["_deleted"] and not deleted):
            raise not_found("appointment", ident)
        return record

    def view(self, record: dict, level: str = "full", fields: list[str] | None = None) -> dict:
        """The Appointment resource (API reference "Appointments"); ``light`` leaves out ``history``,
        ``form`` and ``extendedProperties``, and the client's contact fields (NOTES.md)."""
        company = self.companies[record["_company"]]
        service = company.services.get(record.get("_service") or "")
        staff = company.staff.get(record.get("_staff") or "")
        resource = company.resources.get(record.get("_resource") or "")
        client = self.clients.get(record.get("_client") or "")
        out = {
            "id": record["id"],
            "reference": record["reference"],
            "company": {"id": company.id, "name": company.name},
        }
        if service:
            out["service"] = {
                "id": service["id"],
                "name": service["name"],
                "externalId": service["externalId"],
            }
        if resource:
            out["resource"] = {
                "id": resource["id"],
                "name": resource["name"],
                "externalId": resource["externalId"],
            }
        if staff:
            out["staff"] = {
                "id": staff["id"],
                "firstName": staff["firstName"],
                "lastName": staff["lastName"],
                "externalId": staff["externalId"],
            }
        if client:
            keys = ("id", "firstName", "lastName", "email", "phone", "mobilePhone", "externalId", "timeZone")
            out["client"] = {k: client[k] for k in (keys if level == "full" else keys[:3] + ("externalId",))}
        out.update(
            start=self.zoned_view(record["_start"], company),
            end=self.zoned_view(record["_end"], company),
            created=self.zoned_view(record["_created"], company),
            status=record["status"],
            notes=record["notes"],
            type=record["type"],
            paid=record["paid"],
            addToWaitingList=record["addToWaitingList"],
            source=record["source"],
            encryptedId=record["encryptedId"],
            location=record["location"],
        )
        if record["_end"] > self.clock.now() and record["type"] == "normal":
            out["rescheduleLink"] = f"https://app.agendize.com/reschedule/{record['encryptedId']}"
        if service and service["price"]:
            out["price"] = dict(service["price"])
        if level == "full":
            out.update(
                history=[dict(h) for h in record["history"]],
                form=list(record["form"]),
                extendedProperties={k: dict(v) for k, v in record["extendedProperties"].items()},
            )
        if fields:
            out = {k: v for k, v in out.items() if k in fields}
        return out

    def _history(self, record: dict, kind: str, source: str, user: dict | None) -> None:
        company = self.companies[record["_company"]]
        record["history"].append(
            {
                "text": record["status"],
                "date": self.zoned_view(self.clock.now(), company),
                "source": source,
                "user": dict(user or API_USER),
                "type": kind,
            }
        )

    def _notify(self, record: dict, event: str, silent: bool) -> None:
        if not silent and record.get("_client"):
            self.notifications.append(
                {"appointmentId": record["id"], "clientId": record["_client"], "event": event}
            )

    # ---- appointments: writes ------------------------------------------------------------
    def insert(
        self,
        company_id: str,
        body: dict,
        *,
        force: bool = False,
        silent: bool = False,
        source: str = "api",
        user: dict | None = None,
        reply: bool = True,
    ) -> dict:
        """``POST …/appointments`` (API reference "Insert") → the new appointment (full; only
        ``{"id"}`` with ``reply=False``, for bulk loading).

        ``client``, ``service`` and ``start`` are required for a normal appointment, whose
        end is the service's duration after the start (``end`` is only for personal ones);
        a personal one needs ``staff``, ``start`` and ``end``. ``status`` defaults to
        ``accepted``. Without ``force``: 400 outside working hours, 409 when taken;
        ``force`` needs ``staff.id`` (API reference "force")."""
        with self.lock:
            company = self.company(company_id)
            kind = body.get("type") or "normal"
            if kind not in ("normal", "personal"):
                raise invalid("type is normal or personal")
            status = self._status(body, "accepted")
            if force and not (body.get("staff") or {}).get("id"):
                raise invalid("force needs staff.id (seed: to force, the staff id need to be set)")
            record = {
                "id": self.new_id(),
                "reference": _reference(),
                "encryptedId": secrets.token_urlsafe(12),
                "_company": company.id,
                "_service": None,
                "_staff": None,
                "_resource": None,
                "_client": None,
                "_created": self.clock.now(),
                "status": status,
                "type": kind,
                "paid": False,
                "addToWaitingList": bool(body.get("addToWaitingList")),
                "source": source,
                "location": body.get("location") or "companyAddress",
                "notes": self._notes(body),
                "history": [],
                "form": list(body.get("form") or []),
                "extendedProperties": {"private": {}, "public": {}},
                "_deleted": False,
            }
            self._extended(record, body)
            start = self.zoned(body.get("start"), company, "start")
            if kind == "personal":
                record["_staff"] = self.lookup(company.staff, body.get("staff"), "staff")["id"]
                end = self.zoned(body.get("end"), company, "end")
                if end <= start:
                    raise invalid("end must be after start")
            else:
                service = self.lookup(company.services, body.get("service"), "service")
                record["_service"] = service["id"]
                if body.get("staff"):
                    record["_staff"] = self._staff_for(company, service, body["staff"])["id"]
                record["_client"] = self.resolve_client(body.get("client"))["id"]
                end = start + timedelta(minutes=service["duration"])
            if body.get("resource"):
                record["_resource"] = self.lookup(company.resources, body["resource"], "resource")["id"]
            record["_start"], record["_end"] = start, end
            self.control(company, record, force)
            self._history(record, "pending" if status == "pending" else "booked", source, user)
            company.appointments[record["id"]] = record
            self.touch(record)
            self._notify(record, "created", silent)
            return self.view(record) if reply else {"id": record["id"]}

    def update(
        self,
        company_id: str,
        ident: str,
        body: dict,
        *,
        force: bool = False,
        silent: bool = False,
        source: str = "api",
        user: dict | None = None,
        actor: str = "user",
    ) -> dict:
        """``PUT …/appointments/{id}`` (API reference "Update"): partial, every property optional
        (contract "Behaviour": PUT is partial). ``end`` changes personal appointments only;
        a finished appointment cannot be moved (API reference "rescheduleLink"). Each change adds
        its ``history[]`` entry (``user_rescheduled_changed_start``…, ``in_progress``…)."""
        with self.lock:
            company = self.company(company_id)
            record = self.find(company, ident)
            if force and not (body.get("staff") or {}).get("id"):
                raise invalid("force needs staff.id (seed: to force, the staff id need to be set)")
            new = dict(record)
            changes: list[str] = []
            if "status" in body or "customStatus" in body:
                status = self._status(body, record["status"])
                if status != record["status"]:
                    new["status"] = status
                    changes.append(STATUS_HISTORY.get(status) or f"{actor}_deleted")
            if body.get("service") is not None and record["type"] == "normal":
                service = self.lookup(company.services, body["service"], "service")
                if service["id"] != record["_service"]:
                    new["_service"] = service["id"]
                    new["_end"] = new["_start"] + timedelta(minutes=service["duration"])
                    changes.append("changed_service")
            if body.get("staff") is not None:
                service = company.services.get(new["_service"] or "")
                staff = (
                    self._staff_for(company, service, body["staff"])
                    if service
                    else self.lookup(company.staff, body["staff"], "staff")
                )
                if staff["id"] != record["_staff"]:
                    new["_staff"] = staff["id"]
                    changes.append(f"{actor}_rescheduled_changed_staff")
            if body.get("resource") is not None:
                resource = self.lookup(company.resources, body["resource"], "resource")
                if resource["id"] != record["_resource"]:
                    new["_resource"] = resource["id"]
                    changes.append(f"{actor}_rescheduled_changed_resource")
            if body.get("client") is not None and record["type"] == "normal":
                client = self.resolve_client(body["client"])
                if client["id"] != record["_client"]:
                    new["_client"] = client["id"]
                    changes.append(f"{actor}_rescheduled_changed_client")
            if body.get("start") is not None:
                start = self.zoned(body["start"], company, "start")
                if start != record["_start"]:
                    if record["_end"] <= self.clock.now() or record["status"] == "completed":
                        raise AgendizeError(400, "a finished appointment can't be rescheduled", "finished")
                    new["_end"] = new["_end"] + (start - record["_start"])
                    new["_start"] = start
                    changes.append(f"{actor}_rescheduled_changed_start")
            if body.get("end") is not None and record["type"] == "personal":
                end = self.zoned(body["end"], company, "end")
                if end <= new["_start"]:
                    raise invalid("end must be after start")
                if end != record["_end"]:
                    new["_end"] = end
                    changes.append("changed_end")
            if "notes" in body and self._notes(body) != record["notes"]:
                new["notes"] = self._notes(body)
                changes.append(f"{actor}_rescheduled_changed_note")
            if "location" in body:
                new["location"] = body["location"] or "companyAddress"
            if "extendedProperties" in body:
                new["extendedProperties"] = {k: dict(v) for k, v in record["extendedProperties"].items()}
                self._extended(new, body)
            timing = any(new[k] != record[k] for k in ("_start", "_end", "_staff", "_resource", "_service"))
            revived = record["status"] in INACTIVE and new["status"] not in INACTIVE
            if timing or revived:
                self.control(company, new, force)
            record.update(new)
            for kind in changes:
                self._history(record, kind, source, user)
            self.touch(record)
            self._notify(record, "updated", silent)
            return self.view(record)

    def delete(
        self,
        company_id: str,
        ident: str,
        *,
        silent: bool = False,
        source: str = "api",
        user: dict | None = None,
        actor: str = "user",
    ) -> None:
        """``DELETE …/appointments/{id}`` (API reference "Delete"): the appointment is deleted. It
        then answers 404 and is listed only with ``showDeleted=true``, as ``cancelled``."""
        with self.lock:
            company = self.company(company_id)
            record = self.find(company, ident)
            record["status"], record["_deleted"] = "cancelled", True
            self._history(record, f"{actor}_deleted", source, user)
            self.touch(record)
            self._notify(record, "deleted", silent)

    def _status(self, body: dict, default: str) -> str:
        if body.get("status") is not None and body.get("customStatus") is not None:
            raise invalid('"status" and "customStatus" cannot be used in the same time')
        if body.get("customStatus") is not None:
            raise invalid("no custom status is defined (the appointment statuses API is not simulated)")
        status = body.get("status") or default
        if status not in STATUSES:
            raise invalid(f"status is one of {', '.join(STATUSES)}")
        return status

    @staticmethod
    def _notes(body: dict) -> str:
        notes = body.get("notes") or ""
        if not isinstance(notes, str) or len(notes) > 65535:
            raise invalid("notes is text of at most 65535 characters")
        return notes

    @staticmethod
    def _extended(record: dict, body: dict) -> None:
        props = body.get("extendedProperties")
        if props is None:
            return
        if not isinstance(props, dict) or not all(
            isinstance(props.get(k, {}), dict) for k in ("private", "public")
        ):
            raise invalid("extendedProperties holds the objects private and public")
        for key in ("private", "public"):
            if key in props:
                record["extendedProperties"][key] = dict(props[key])
        if len(json.dumps(record["extendedProperties"]).encode()) > EXTENDED_LIMIT:
            raise invalid("extendedProperties is larger than 22KB")

    def _staff_for(self, company: Company, service: dict, ref) -> dict:
        staff = self.lookup(company.staff, ref, "staff")
        if {"id": staff["id"]} not in service["staff"]:
            raise invalid(f"staff {staff['id']} does not provide the service {service['id']}")
        return staff

    # ---- appointments: listing and sync --------------------------------------------------
    def list_page(self, company_id: str, params: dict) -> dict:
        """``GET …/appointments`` (API reference "List"; contract "Transport": list envelope) →
        ``{"items", "nextPageToken"?, "nextSyncToken"?}`` (the sync token on the last page).

        ``params``: the query as a dict of strings. With ``syncToken`` the reply holds what
        changed since the token's listing, in change order, filtered as that listing was
        (no window); a token expired or invalidated answers 410 (contract "Transport")."""
        with self.lock:
            company = self.company(company_id)
            level = params.get("levelDetail") or "light"
            if level not in ("light", "full"):
                raise invalid("levelDetail is light or full")
            fields = (
                [f.strip() for f in params["fields"].split(",") if f.strip()]
                if params.get("fields")
                else None
            )
            show_deleted = _flag(params, "showDeleted")
            personal = _flag(params, "personalAppointments")
            if params.get("pageToken"):
                page = self._page_state(params)
            else:
                page = self._first_page(company, params, show_deleted, personal)
            offset, ids = page["offset"], page["ids"]
            items = [
                self.view(company.appointments[i], level, fields)
                for i in ids[offset : offset + self.page_size]
            ]
            out: dict = {"items": items}
            if offset + self.page_size < len(ids):
                token = "pt" + secrets.token_urlsafe(12)
                self.pages[token] = {**page, "offset": offset + self.page_size}
                out["nextPageToken"] = token
            else:
                token = "st" + secrets.token_urlsafe(16)
                self.sync_tokens[token] = SyncToken(
                    page["seq"], company.id, page["filters"], self.clock.now()
                )
                out["nextSyncToken"] = token
            return out

    def _page_state(self, params: dict) -> dict:
        page = self.pages.get(params["pageToken"])
        if page is None or page["query"] != _query_key(params):
            raise invalid("pageToken is unknown or was issued for another query")
        return page

    def _first_page(self, company: Company, params: dict, show_deleted: bool, personal: bool) -> dict:
        filters = {k: params[k] for k in QUERY_FILTERS if params.get(k)}
        if filters.get("status") and filters["status"] not in LIST_STATUSES:
            raise invalid(f"status is one of {', '.join(LIST_STATUSES)}")
        if params.get("syncToken"):
            used = [k for k in (*WINDOW_FILTERS, *QUERY_FILTERS) if params.get(k)]
            if used:
                raise invalid(f"syncToken cannot be combined with {', '.join(used)}")
            token = self.sync_tokens.get(params["syncToken"])
            if (
                token is None
                or token.company_id != company.id
                or (self.clock.now() - token.issued > self.sync_token_ttl)
            ):
                self.sync_tokens.pop(params["syncToken"], None)
                raise AgendizeError(
                    410, "the sync token is no longer valid: a full sync is required", "fullSyncRequired"
                )
            start = bisect.bisect_right(self._log_seqs, token.seq)
            changed = dict.fromkeys(i for c, i in self._log_ids[start:] if c == company.id)
            records = [company.appointments[i] for i in changed]
            records = [r for r in records if _matches(self, r, token.filters)]
            records.sort(key=lambda r: r["_seq"])
            filters = token.filters
        else:
            now = self.clock.now()
            low = (
                parse_gmt(params["startDate"], "startDate")
                if params.get("startDate")
                else now - timedelta(days=30)
            )
            high = (
                parse_gmt(params["endDate"], "endDate") if params.get("endDate") else now + timedelta(days=30)
            )
            c_low = (
                parse_gmt(params["createdStartDate"], "createdStartDate")
                if params.get("createdStartDate")
                else None
            )
            c_high = (
                parse_gmt(params["createdEndDate"], "createdEndDate")
                if params.get("createdEndDate")
                else None
            )
            records = [
                r
                for r in company.appointments.values()
                if r["_end"] > low
                and r["_start"] < high
                and (c_low is None or r["_created"] > c_low)
                and (c_high is None or r["_created"] < c_high)
                and _matches(self, r, filters)
            ]
            records.sort(key=lambda r: (r["_start"], int(r["id"])))
        records = [
            r
            for r in records
            if (show_deleted or not r["_deleted"]) and (personal or r["type"] != "personal")
        ]
        return {
            "ids": [r["id"] for r in records],
            "offset": 0,
            "seq": self._seq,
            "filters": filters,
            "query": _query_key(params),
        }

    def invalidate_sync_tokens(self) -> int:
        """Every sync token issued so far is refused from now on (410); returns how many."""
        with self.lock:
            count = len(self.sync_tokens)
            self.sync_tokens.clear()
            return count

    # ---- cloud-side changes (tests act as the clinic's other channels) --------------------
    def online_booking(
        self,
        company_id: str,
        service_id: str,
        start: datetime,
        *,
        client_id: str | None = None,
        staff_id: str | None = None,
        status: str = "pending",
        notes: str = "",
    ) -> dict:
        """A client books in the Agendize widget (``source: widget``); a request waiting
        in the queue (``pending``, no staff) by default. Without ``client_id`` the first
        client books. Working time is checked as for an insert."""
        with self.lock:
            company = self.company(company_id)
            client = self.clients[client_id] if client_id else next(iter(self.clients.values()))
            body = {
                "client": {"id": client["id"]},
                "service": {"id": service_id},
                "status": status,
                "start": self.zoned_view(start, company),
                "notes": notes,
            }
            if staff_id:
                body["staff"] = {"id": staff_id}
            return self.insert(company_id, body, source="widget", user=_client_user(client))

    def client_reschedule(self, company_id: str, ident: str, start: datetime) -> dict:
        """The client moves the appointment with the reschedule link
        (history ``client_rescheduled_changed_start``)."""
        with self.lock:
            company = self.company(company_id)
            record = self.find(company, ident)
            return self.update(
                company_id,
                ident,
                {"start": self.zoned_view(start, company)},
                source="widget",
                user=_client_user(self.clients.get(record["_client"])),
                actor="client",
            )

    def client_cancel(self, company_id: str, ident: str) -> dict:
        """The client cancels in the widget: ``cancelled`` (history ``client_deleted``)."""
        with self.lock:
            record = self.find(self.company(company_id), ident)
            user = _client_user(self.clients.get(record["_client"]))
            return self.update(
                company_id, ident, {"status": "cancelled"}, source="widget", user=user, actor="client"
            )

    def dashboard_status(self, company_id: str, ident: str, status: str) -> dict:
        """A staff member sets the status in the Agendize dashboard."""
        return self.update(company_id, ident, {"status": status}, source="dashboard", silent=True)

    def dashboard_paid(self, company_id: str, ident: str, paid: bool = True) -> dict:
        """The appointment is paid (or not) in Agendize itself, e.g. online by the client or
        marked in the dashboard (API reference "paid": "true" if the appointment has been paid,
        writable): the flag changes and the change is in the next sync-token page."""
        with self.lock:
            record = self.find(self.company(company_id), ident)
            if record["paid"] != bool(paid):
                record["paid"] = bool(paid)
                self.touch(record)
                self._notify(record, "updated", True)
            return self.view(record)

    def dashboard_delete(self, company_id: str, ident: str) -> None:
        """A staff member deletes the appointment in the dashboard (history ``user_deleted``)."""
        self.delete(company_id, ident, source="dashboard", silent=True)

    def add_personal(
        self, company_id: str, staff_id: str, start: datetime, end: datetime, notes: str = ""
    ) -> dict:
        """A staff member blocks time in the dashboard (``type: personal``)."""
        with self.lock:
            company = self.company(company_id)
            body = {
                "type": "personal",
                "staff": {"id": staff_id},
                "start": self.zoned_view(start, company),
                "end": self.zoned_view(end, company),
                "notes": notes,
            }
            return self.insert(company_id, body, force=True, source="dashboard", silent=True)

    def revoke_token(self) -> str:
        """The SSO token is revoked (calls with it answer 401); returns the new one."""
        with self.lock:
            self.token = "sso" + secrets.token_hex(16)
            return self.token


def _flag(params: dict, name: str) -> bool:
    value = (params.get(name) or "false").lower()
    if value not in ("true", "false"):
        raise invalid(f"{name} is true or false")
    return value == "true"


def _query_key(params: dict) -> str:
    return json.dumps({k: v for k, v in sorted(params.items()) if k != "pageToken"})


def _matches(cloud: AgendizeCloud, r: dict, filters: dict) -> bool:
    company = cloud.companies[r["_company"]]
    if filters.get("status") and r["status"] != filters["status"]:
        return False
    if filters.get("clientId") and r.get("_client") != filters["clientId"]:
        return False
    if filters.get("externalClientId"):
        client = cloud.clients.get(r.get("_client") or "")
        if not client or client.get("externalId") != filters["externalClientId"]:
            return False
    for name, table, key in (
        ("serviceId", company.services, "_service"),
        ("staffId", company.staff, "_staff"),
        ("resourceId", company.resources, "_resource"),
    ):
        wanted = filters.get(name)
        if wanted:
            obj = table.get(r.get(key) or "")
            if not obj or wanted not in (obj["id"], obj.get("externalId")):
                return False
    if filters.get("q"):
        terms = filters["q"].casefold()
        values = " ".join(
            str(i.get("value") or "")
            + " "
            + " ".join(str(v.get("value") or "") for v in i.get("values") or [])
            for i in r["form"]
            if isinstance(i, dict)
        ).casefold()
        if terms not in values:
            return False
    return True


def _reference() -> str:
    """A reference code such as ``9F3A1C0B`` (API reference: "Reference code of the appointment")."""
    return secrets.token_hex(4).upper()


def _client_user(client: dict | None) -> dict:
    client = client or {}
    return {
        "firstName": client.get("firstName"),
        "lastName": client.get("lastName"),
        "email": client.get("email"),
        "userName": client.get("email"),
    }
