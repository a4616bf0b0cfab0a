"""Qmatic payloads ⇄ rows in the domain's shape (contract ``docs/clouds/qmatic.md``
"Objects", "Bodies"; Qmatic API reference). No I/O.

Times: Qmatic writes ISO-8601 with an offset (``2022-03-03T09:00:00+01:00``, contract
"Transport"). :func:`from_cloud_time` and :func:`to_cloud_time` are the ONE place where
cloud times are converted: to UTC for the store, and to the branch's wall time (its IANA
zone, :mod:`zoneinfo`) with its offset for a body. A cloud time without an offset is read
as branch-local.

JSON names the contract infers come from :data:`app.sync.qmatic.client.NAMES`.

Identity: a desk customer is known to Qmatic by its ``personalIdentifier`` (API reference "Confirm a
reservation": 10–48 characters of ``[A-Za-z0-9]``; the API reference also says "GUID"). The desk
sends its customer's UUID as 32 hex digits (:func:`personal_identifier`), which is both; it
is also the customer's cloud id in the branch's id map.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain import clock, phones
from app.domain.model import Status
from app.domain.timerules import day_name, unknown
from app.i18n.search import search_text
from app.sync.qmatic.client import NAMES

#: minutes of a service whose time slots say nothing (none offered yet)
DEFAULT_MINUTES = 30
#: the hold of a reservation that is not confirmed (API reference "Create a new Reservation")
HOLD = timedelta(minutes=15)
#: ``personalIdentifier`` (API reference "Confirm a reservation")
IDENTIFIER = re.compile(r"[A-Za-z0-9]{10,48}")
#: appointment ``status`` values that are a booking (contract "Objects", inferred); absent:
#: confirmed. ``RESERVED`` is a hold, not a booking.
CONFIRMED_STATUSES = ("CONFIRMED", "FINALIZED")
RESERVED = "RESERVED"
#: the prefix of the virtual pool resource of a branch (a service without named resources,
#: API reference "Services": ``availableResources`` empty)
POOL_PREFIX = "pool:"


class MappingError(ValueError):
    """A Qmatic payload that cannot be read (logged and set aside by the caller)."""


# ---- times ---------------------------------------------------------------------------
def from_cloud_time(value, zone: str, what: str = "time") -> datetime:
    """A Qmatic time (ISO-8601, with an offset; without one: branch-local) → aware UTC.
    Raises MappingError."""
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{what}: missing")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(f"{what}: not an ISO time {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def to_cloud_time(moment: datetime, zone: str) -> str:
    """Aware UTC → the branch's wall time with its offset (``2026-12-08T09:00:00+03:00``)."""
    return moment.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat()


# ---- ids -------------------------------------------------------------------------------
def personal_identifier(local_id: str) -> str:
    """The ``personalIdentifier`` of a desk customer: its ULID as a UUID in 32 hex digits;
    a local id that is not a ULID (an imported one) gets a stable UUID made from it."""
    try:
        from ulid import ULID

        return ULID.from_str(local_id).hex
    except (ValueError, TypeError, AttributeError):
        return uuid.uuid5(uuid.NAMESPACE_URL, f"istiqbal:customer:{local_id}").hex


def valid_identifier(text: str | None) -> bool:
    return bool(text and IDENTIFIER.fullmatch(text))


def appointment_id(obj) -> str | None:
    """The id of a reserve reply or an appointment: ``appointmentId``, else ``id``."""
    if not isinstance(obj, dict):
        return None
    ident = obj.get(NAMES["appointmentId"]) or obj.get(NAMES["id"])
    return str(ident) if ident not in (None, "") else None


def pool_id(branch_id: str) -> str:
    return f"{POOL_PREFIX}{branch_id}"


def is_pool(resource_id: str | None) -> bool:
    return bool(resource_id and str(resource_id).startswith(POOL_PREFIX))


# ---- reference data ---------------------------------------------------------------------
def _id(obj, what: str) -> str:
    if not isinstance(obj, dict) or obj.get("id") in (None, ""):
        raise MappingError(f"{what}: missing id")
    return str(obj["id"])


def branches(service_rows: list) -> dict[str, dict]:
    """Branch id → its ``branch`` object, from the rows of ``GET /services`` (API reference
    "Services": each row names its branch)."""
    out: dict[str, dict] = {}
    for row in service_rows or []:
        branch = row.get("branch") if isinstance(row, dict) else None
        if isinstance(branch, dict) and branch.get("id"):
            out.setdefault(str(branch["id"]), branch)
    return out


def branch_rows(service_rows: list, branch_id: str) -> list[dict]:
    """The rows of ``GET /services`` of one branch, each a well-formed service."""
    out = []
    for row in service_rows or []:
        if not isinstance(row, dict):
            continue
        branch, service = row.get("branch"), row.get("service")
        if (
            isinstance(branch, dict)
            and str(branch.get("id")) == branch_id
            and isinstance(service, dict)
            and service.get("id")
        ):
            out.append(row)
    return out


def named_resources(row: dict) -> list[dict]:
    """``resourceSelection.availableResources`` of a service row (empty: a virtual pool)."""
    selection = row.get("resourceSelection") if isinstance(row.get("resourceSelection"), dict) else {}
    return [r for r in selection.get("availableResources") or [] if isinstance(r, dict) and r.get("id")]


def required_questions(row: dict) -> list[str]:
    """The ``questionText`` of each required information question of a service row."""
    return [
        str(q.get("questionText") or "")
        for q in row.get("informationQuestions") or []
        if isinstance(q, dict) and q.get("required")
    ]


def slot_spans(reply, zone: str) -> list[tuple[datetime, datetime, dict]]:
    """A time-slot reply → ``(start UTC, end UTC, the slot as sent)``, sorted. The schema
    was lost in the API reference's export; the contract takes ``[{"startTime", "endTime"}]`` (the
    shape of an appointment's ``timeSlot``). Raises MappingError for another shape."""
    items = reply
    if isinstance(reply, dict):
        items = next((v for v in reply.values() if isinstance(v, list)), None)
    if not isinstance(items, list):
        raise MappingError("time slots: not a list")
    out = []
    for slot in items:
        if not isinstance(slot, dict):
            raise MappingError("time slots: an item is not an object")
        start = from_cloud_time(slot.get(NAMES["startTime"]), zone, "time slot start")
        end = from_cloud_time(slot.get(NAMES["endTime"]), zone, "time slot end")
        if end <= start:
            raise MappingError("time slots: an end is not after its start")
        out.append((start, end, slot))
    return sorted(out, key=lambda s: s[0])


def duration_minutes(spans: list[tuple[datetime, datetime, dict]]) -> int | None:
    """A service's duration: the most common length of its time slots (contract "Objects":
    duration, inferred), or None when there are none."""
    lengths = Counter(int((end - start).total_seconds() // 60) for start, end, _ in spans)
    return lengths.most_common(1)[0][0] if lengths else None


def _military(moment: datetime) -> int:
    return moment.hour * 100 + moment.minute


def time_rules_from_slots(spans: list[tuple[datetime, datetime, dict]], zone: str) -> dict:
    """Working hours of a resource from its free time slots (contract "Desk operations":
    working hours none; time slots are the only availability signal): one dated rule per
    branch-local day and period covered by slots; a day without slots is closed."""
    tz = ZoneInfo(zone)
    days: dict[date, list[tuple[int, int]]] = {}
    for start, end, _ in spans:
        lo, hi = start.astimezone(tz), end.astimezone(tz)
        to = 2400 if hi.date() > lo.date() else _military(hi)
        days.setdefault(lo.date(), []).append((_military(lo), to))
    rules = []
    for day in sorted(days):
        merged: list[list[int]] = []
        for first, last in sorted(days[day]):  # military times
            if merged and first <= merged[-1][1]:
                merged[-1][1] = max(last, merged[-1][1])
            else:
                merged.append([first, last])
        rules += [
            {
                "days": [day_name(day)],
                "from": first,
                "to": last,
                "fromDate": day.isoformat(),
                "toDate": day.isoformat(),
            }
            for first, last in merged
        ]
    return {"depthOfDays": 0, "scheduleAfterHoursFromNow": 0, "rules": rules, "offRules": []}


def hours_unknown(reason: str, cloud=None) -> dict:
    return unknown(reason, cloud)


def booking_type(service: dict, minutes: int | None, *, known: bool) -> dict:
    """A ``service`` (API reference "Services") → a local ``types`` row (``minutes`` from the time
    slots). Qmatic has no Arabic (contract "Transport"): a new type takes the service name
    in both languages; a known one keeps the names the desk gave it (``name_translations``
    left out, so a manager's Arabic name stays)."""
    ident = _id(service, "service")
    name = str(service.get("name") or ident)
    row = {"id": ident, "name": name, "minutes": minutes or DEFAULT_MINUTES, "on": True, "autoConfirm": True}
    if not known:
        row["name_translations"] = {"en": name, "ar": name}
    return row


def resource_row(resource: dict, types: list[str], rules: dict, *, known: bool) -> dict:
    """A named resource (``availableResources`` item) → a local ``resources`` row serving
    ``types`` (service ids); a known one keeps its desk names (see :func:`booking_type`)."""
    ident = _id(resource, "resource")
    name = str(resource.get("name") or ident)
    row = {
        "id": ident,
        "name": name,
        "category": "provider",
        "types": sorted(set(types)),
        "on": True,
        "activated": True,
        "timeRules": rules,
    }
    if not known:
        row["name_translations"] = {"en": name, "ar": name}
    return row


def pool_row(branch: dict, types: list[str], rules: dict, *, known: bool) -> dict:
    """The branch's virtual pool (services without named resources) → a ``resources`` row
    of category ``room`` named after the branch."""
    branch_id = _id(branch, "branch")
    name = str(branch.get("name") or branch_id)
    row = {
        "id": pool_id(branch_id),
        "name": name,
        "category": "room",
        "types": sorted(set(types)),
        "on": True,
        "activated": True,
        "timeRules": rules,
    }
    if not known:
        row["name_translations"] = {"en": name, "ar": name}
    return row


# ---- customers -------------------------------------------------------------------------
def missing_fields(customer: dict | None, identifier: str | None, questions: Sequence[str] = ()) -> list[str]:
    """What Qmatic requires that the desk customer lacks (contract "Behaviour": customer
    data; API reference "Confirm a reservation"): ``firstName``, ``lastName``, ``email``,
    ``personalIdentifier`` (10–48 of ``[A-Za-z0-9]``), and each required information
    question (the desk keeps no answers, so a required one is always missing). Empty: the
    reservation can be confirmed."""
    customer = customer or {}
    missing = [f for f in ("firstName", "lastName", "email") if not str(customer.get(f) or "").strip()]
    if not valid_identifier(identifier):
        missing.append("personalIdentifier")
    missing += [f"informationQuestions: {q}" for q in questions]
    return missing


def customer_body(customer: dict, identifier: str) -> dict:
    """A desk customer → the ``customer`` of a confirm (API reference "Confirm a reservation"):
    ``phoneNumber`` as a string of digits (typed integer in the API reference; contract "Bodies")."""
    n = NAMES
    body = {
        n["personalIdentifier"]: identifier,
        n["firstName"]: str(customer["firstName"]).strip(),
        n["lastName"]: str(customer["lastName"]).strip(),
        n["email"]: str(customer["email"]).strip(),
    }
    digits = re.sub(r"\D", "", str(customer.get("phone") or ""))
    if digits:
        body[n["phoneNumber"]] = digits
    if customer.get("dateOfBirth"):
        body[n["dateOfBirth"]] = str(customer["dateOfBirth"])
    return body


def confirm_body(customer: dict, identifier: str) -> dict:
    return {NAMES["customer"]: customer_body(customer, identifier)}


def search_body(identifier: str) -> dict:
    return {NAMES["customer"]: {NAMES["personalIdentifier"]: identifier}}


def customer_row(obj: dict | None, identifier: str, region: str = phones.DEFAULT_REGION) -> dict | None:
    """An appointment's ``customer`` → a customer row with the cloud id ``identifier``
    (for the branch to match or create the local customer), or None."""
    if not isinstance(obj, dict):
        return None
    n = NAMES
    raw_phone = obj.get(n["phoneNumber"])
    phone = None
    if raw_phone not in (None, ""):
        text = str(raw_phone)
        try:
            phone = phones.normalize(text if text.startswith(("+", "0")) else f"+{text}", region)
        except ValueError:
            phone = None
    row = {
        "id": identifier,
        "firstName": obj.get(n["firstName"]) or None,
        "lastName": obj.get(n["lastName"]) or None,
        "phone": phone,
        "email": obj.get(n["email"]) or None,
    }
    row["searchText"] = search_text(row["firstName"], row["lastName"], row["phone"])
    return {
        k: v for k, v in row.items() if k in ("id", "firstName", "lastName", "searchText") or v is not None
    }


# ---- appointments ----------------------------------------------------------------------
def is_confirmed(obj: dict) -> bool:
    """An appointment that search or get returns counts as confirmed when its ``status``
    is absent, ``CONFIRMED`` or ``FINALIZED`` (contract "Objects")."""
    status = obj.get(NAMES["status"])
    return status in (None, "") or str(status).upper() in CONFIRMED_STATUSES


def slot_of(obj: dict) -> dict:
    slot = obj.get(NAMES["timeSlot"])
    return slot if isinstance(slot, dict) else {}


def appointment(obj: dict, zone: str, *, pools: dict[str, str] | None = None) -> dict:
    """An appointment (search item or get; contract "Objects") → booking fields with the
    cloud's ids: ``id``, ``status`` (CONFIRMED: a deleted one is absent, never listed),
    ``startDateTime``/``endDateTime`` (UTC), ``duration`` (minutes), ``typeId`` (service
    id), ``resourceId`` (``resource.id`` when sent, else the branch pool for a service
    without named resources: ``pools`` service id → pool id; else left out), ``note``
    (``notes``). Raises MappingError (no id, no service, bad times, a reservation that is
    only held)."""
    ident = appointment_id(obj)
    if not ident:
        raise MappingError("appointment: missing appointmentId")
    what = f"appointment {ident}"
    if not is_confirmed(obj):
        raise MappingError(f"{what}: status {obj.get(NAMES['status'])!r} is not a booking")
    slot = slot_of(obj)
    start = from_cloud_time(slot.get(NAMES["startTime"]), zone, f"{what} start")
    end = from_cloud_time(slot.get(NAMES["endTime"]), zone, f"{what} end")
    if end <= start:
        raise MappingError(f"{what}: the end is not after the start")
    service = obj.get("service")
    if not isinstance(service, dict) or not service.get("id"):
        raise MappingError(f"{what}: missing service")
    row = {
        "id": ident,
        "status": str(Status.CONFIRMED),
        "startDateTime": clock.to_iso(start),
        "endDateTime": clock.to_iso(end),
        "duration": int((end - start).total_seconds() // 60),
        "typeId": str(service["id"]),
    }
    resource = obj.get(NAMES["resource"])
    if isinstance(resource, dict) and resource.get("id"):
        row["resourceId"] = str(resource["id"])
    elif pools and str(service["id"]) in pools:
        row["resourceId"] = pools[str(service["id"])]
    notes = obj.get(NAMES["notes"])
    if isinstance(notes, str):
        row["note"] = notes or None
    return row


def natural_key(obj: dict, zone: str) -> tuple[str, str, datetime] | None:
    """(service id, branch id, start UTC) of an appointment, or None when unreadable
    (contract "Behaviour": lost reply on confirm — the natural key)."""
    try:
        start = from_cloud_time(slot_of(obj).get(NAMES["startTime"]), zone)
    except MappingError:
        return None
    service, branch = obj.get("service") or {}, obj.get("branch") or {}
    return str(service.get("id") or ""), str(branch.get("id") or ""), start


def reserve_body(
    *, service_id: str, branch_id: str, resource_id: str | None, slot: dict, notes: str | None = None
) -> dict:
    """``POST /reservations`` (API reference "Create a new Reservation"): one reservation of the
    slot as Qmatic offered it (``startTime``/``endTime`` as sent in the time-slot reply)."""
    n = NAMES
    body = {
        n["serviceId"]: service_id,
        n["branchId"]: branch_id,
        n["timeSlot"]: {n["startTime"]: slot[n["startTime"]], n["endTime"]: slot[n["endTime"]]},
        n["numberOfReservations"]: 1,
    }
    if resource_id and not is_pool(resource_id):
        body[n["requestedResourceId"]] = resource_id
    if notes:
        body[n["notes"]] = notes
    return body


def composed_slot(start: datetime, minutes: int, zone: str) -> dict:
    """A slot written from the desk's start and duration (when the time-slot reply cannot
    be read)."""
    return {
        NAMES["startTime"]: to_cloud_time(start, zone),
        NAMES["endTime"]: to_cloud_time(start + timedelta(minutes=minutes), zone),
    }
