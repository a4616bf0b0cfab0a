"""Agendize payloads ⇄ the domain's rows: the one place where Agendize's shapes and local
times are translated (Agendize API reference "Appointments"; contract
``docs/clouds/agendize.md`` "Objects", "Desk operations on Agendize").

Pure functions, no I/O. Field names of the rows are the domain's (:mod:`app.domain.model`).

Ids: every Agendize id is kept as text. Staff members and resources (rooms) both become
local resources: a staff member's cloud id is its Agendize id, a room's carries its kind,
``room:<id>`` (:func:`staff_key`, :func:`room_key`), so the two never collide. Services are booking types (cloud id = service
id), clients are customers (cloud id = client id). The caller maps cloud ids to local ids.

Times: an appointment's ``start``/``end``/``created`` and a history entry's ``date`` are
``{"dateTime": <local, no offset>, "timeZone": <IANA>}`` (API reference "start.dateTime"); they are
read and written by :func:`zoned_to_utc` and :func:`utc_to_zoned` only. Working hours are
the company's wall times (``"09:00"``) and become the project's branch-local military
times (:mod:`app.domain.timerules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain import clock, phones
from app.domain.model import ASSIGNMENT_TIMEOUT_MAX, Status, VisitStatus
from app.i18n.search import search_text
from app.sync.connector import CloudMoney

#: cloud status → (local status, visit status or None = "the cloud does not say").
#: ``pending`` depends on the staff (:func:`local_status`). Contract "Desk operations".
STATUS_IN = {
    "accepted": (Status.CONFIRMED, None),
    "inProgress": (Status.CONFIRMED, VisitStatus.IN_PROGRESS),
    "completed": (Status.CONFIRMED, VisitStatus.COMPLETED),
    "noShow": (Status.CONFIRMED, VisitStatus.NO_SHOW),
    "declined": (Status.REJECTED, None),
    "cancelled": (Status.CANCELED, None),
}
#: local visit status → cloud status pushed (contract: start → inProgress, end →
#: completed, no-show → noShow; check-in has none and stays local).
VISIT_OUT: dict[str, str] = {
    VisitStatus.IN_PROGRESS: "inProgress",
    VisitStatus.COMPLETED: "completed",
    VisitStatus.NO_SHOW: "noShow",
}
#: the line the desk appends to ``notes`` on a cancel (contract: no reason field)
CANCEL_PREFIX = "Cancelled: "
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHORT = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: history ``source`` → who acted, as the desk says it
CHANNELS = {"widget": "online", "dashboard": "dashboard", "api": "api"}


class MappingError(ValueError):
    """An Agendize payload that cannot become a local row (missing id, bad time, unknown
    status); the caller logs it and sets it aside."""


# ids ----------------------------------------------------------------------------------
def staff_key(staff_id) -> str:
    return str(staff_id)


def room_key(resource_id) -> str:
    return f"room:{resource_id}"


def split_key(key: str) -> tuple[str, str]:
    """``12`` → ``("staff", "12")``, ``room:7`` → ``("room", "7")``; raises MappingError
    for an empty key."""
    text = str(key or "")
    if text.startswith("room:") and len(text) > 5:
        return "room", text[5:]
    if not text or text.startswith("room:"):
        raise MappingError(f"not an Agendize resource key: {key!r}")
    return "staff", text


def _id(obj, what: str) -> str:
    if not isinstance(obj, dict) or obj.get("id") in (None, ""):
        raise MappingError(f"{what}: missing 'id'")
    return str(obj["id"])


# times --------------------------------------------------------------------------------
def _zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MappingError(f"not an IANA time zone: {name!r}") from exc


def zoned_to_utc(value, default_zone: str, what: str = "time") -> datetime:
    """``{"dateTime": "2025-01-20T14:00:00", "timeZone": "Europe/Paris"}`` → aware UTC
    (API reference "start.dateTime": RFC 3339 without zone; ``timeZone`` defaults to the company's,
    ``default_zone``). Raises MappingError for a missing or malformed value."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise MappingError(f"{what}: expected {{dateTime, timeZone}}, got {value!r}")
    try:
        local = datetime.fromisoformat(value["dateTime"])
    except ValueError as exc:
        raise MappingError(f"{what}: bad dateTime {value['dateTime']!r}") from exc
    zone = _zone(value.get("timeZone"), default_zone)
    if local.tzinfo is not None:  # tolerated: an offset says the instant by itself
        return local.astimezone(UTC)
    return local.replace(tzinfo=zone).astimezone(UTC)


def utc_to_zoned(moment: datetime, zone: str) -> dict:
    """Aware datetime → ``{"dateTime": <company-local, no offset>, "timeZone": zone}``: the
    desk always sends the company's zone (contract "Behaviour", last item)."""
    local = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": zone}


def gmt(moment: datetime) -> str:
    """A list filter in GMT (API reference "List": RFC 3339), ``2025-01-20T00:00:00Z``."""
    return clock.to_iso(moment)


# reference data -----------------------------------------------------------------------
def _military(text, what: str) -> int:
    try:
        hours, minutes = str(text).split(":")[:2]
        value = int(hours) * 100 + int(minutes)
    except (TypeError, ValueError):
        raise MappingError(f"{what}: not a time {text!r}") from None
    if not 0 <= value <= 2400 or int(minutes) >= 60:
        raise MappingError(f"{what}: not a time {text!r}")
    return value


def _periods(hours, what: str) -> list[tuple[int, int]]:
    out = []
    for period in hours or []:
        if not isinstance(period, dict):
            raise MappingError(f"{what}: a period must be {{start, end}}")
        lo, hi = _military(period.get("start"), what), _military(period.get("end"), what)
        if hi > lo:
            out.append((lo, hi))
    return sorted(out)


def weekly_hours(working_hours, what: str) -> dict[str, list[tuple[int, int]]]:
    """``[{day: "monday", hours: [{start: "09:00", end: "17:00"}]}]`` (contract "Objects",
    inferred) → ``{"mon": [(900, 1700)], ...}``. Raises MappingError for another shape."""
    out: dict[str, list[tuple[int, int]]] = {}
    for entry in working_hours or []:
        if not isinstance(entry, dict) or str(entry.get("day", "")).lower() not in DAYS:
            raise MappingError(f"{what}: not a working day {entry!r}")
        name = _SHORT[DAYS.index(str(entry["day"]).lower())]
        out[name] = sorted(out.get(name, []) + _periods(entry.get("hours"), what))
    return out


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if hi > lo:
                out.append((lo, hi))
    return sorted(out)


def _vacations(vacations, what: str) -> list[dict]:
    out = []
    for entry in vacations or []:
        try:
            first, last = (
                date.fromisoformat(entry["startDate"][:10]),
                date.fromisoformat(entry["endDate"][:10]),
            )
        except (TypeError, KeyError, ValueError):
            raise MappingError(f"{what}: not a vacation {entry!r}") from None
        out.append({"from": first.isoformat(), "to": last.isoformat(), "reason": "vacation"})
    return out


def _minus(periods: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    out = []
    for a, b in periods:
        if hi <= a or b <= lo:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo))
        if hi < b:
            out.append((hi, b))
    return out


def block_spans(block: dict, zone: str) -> list[tuple[str, int, int]]:
    """A block (a personal appointment's row: UTC ``startDateTime``/``endDateTime``) →
    ``(company-local date, from, to)`` military spans, one per local day it touches."""
    start = clock.from_iso(block["startDateTime"]).astimezone(ZoneInfo(zone))
    end = clock.from_iso(block["endDateTime"]).astimezone(ZoneInfo(zone))
    out = []
    day = start.date()
    while datetime.combine(day, datetime.min.time(), ZoneInfo(zone)) < end:
        lo = start.hour * 100 + start.minute if day == start.date() else 0
        hi = end.hour * 100 + end.minute if day == end.date() else 2400
        if hi > lo:
            out.append((day.isoformat(), lo, hi))
        day += timedelta(days=1)
    return out


def time_rules(company: dict, staff: dict | None = None, blocks: list[dict] | None = None) -> dict:
    """Working hours of a staff member (or of the company alone, for a room) → the project's
    time rules (:mod:`app.domain.timerules`), in the company's wall times (contract "Desk
    operations": working hours; shapes in ``tests/clouds/agendize/NOTES.md``).

    A staff member works inside both their hours and the company's; their
    ``customWorkingHours`` for a date replace the weekly hours of that date (an empty list
    closes it); company and staff vacations are off days. ``blocks`` (the staff member's
    personal appointments, rows of :func:`appointment`) are cut out of the hours of their
    dates: blocked time on the provider's column (contract "Objects": personal
    appointments). Raises MappingError for hours in another shape (the caller keeps them
    as "hours unknown")."""
    what = f"hours of {'staff ' + str(staff.get('id')) if staff else 'company ' + str(company.get('id'))}"
    firm = weekly_hours(company.get("workingHours"), what)
    weekly = (
        firm
        if staff is None
        else {
            d: _intersect(p, firm.get(d, []))
            for d, p in weekly_hours(staff.get("workingHours"), what).items()
        }
    )
    off = _vacations(company.get("vacations"), what)
    custom: dict[str, list[tuple[int, int]]] = {}
    if staff is not None:
        off += _vacations(staff.get("vacations"), what)
        for entry in staff.get("customWorkingHours") or []:
            try:
                on = date.fromisoformat(str(entry["date"])[:10])
            except (TypeError, KeyError, ValueError):
                raise MappingError(f"{what}: not a custom day {entry!r}") from None
            custom[on.isoformat()] = _intersect(
                _periods(entry.get("hours"), what), firm.get(_SHORT[on.weekday()], [])
            )
    zone = str(company.get("timeZone") or "UTC")
    for block in blocks or []:
        for day, lo, hi in block_spans(block, zone):
            base = custom.get(day)
            if base is None:
                base = weekly.get(_SHORT[date.fromisoformat(day).weekday()], [])
            custom[day] = _minus(base, lo, hi)
    rules: list[dict] = []
    for name, periods in weekly.items():
        dates = sorted(d for d in custom if _SHORT[date.fromisoformat(d).weekday()] == name)
        bounds: list[tuple[str | None, str | None]] = []
        first: str | None = None
        for day in dates:  # the weekly hours hold around each custom date, not on it
            before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
            if first is None or first <= before:
                bounds.append((first, before))
            first = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        bounds.append((first, None))
        for lo_date, hi_date in bounds:
            for lo, hi in periods:
                rule = {"days": [name], "from": lo, "to": hi}
                rule.update({k: v for k, v in (("fromDate", lo_date), ("toDate", hi_date)) if v})
                rules.append(rule)
    for day, periods in sorted(custom.items()):
        if not periods:
            off.append({"from": day, "to": day, "reason": "custom hours: closed"})
        for lo, hi in periods:
            rules.append(
                {
                    "days": [_SHORT[date.fromisoformat(day).weekday()]],
                    "from": lo,
                    "to": hi,
                    "fromDate": day,
                    "toDate": day,
                }
            )
    out = {"depthOfDays": 0, "scheduleAfterHoursFromNow": 0, "rules": rules}
    if off:
        out["offRules"] = off
    return out


def _name(obj: dict) -> str:
    return " ".join(p for p in (obj.get("firstName"), obj.get("lastName")) if p) or str(obj.get("id"))


def staff_resource(staff: dict, company: dict, rules: dict | None = None) -> dict:
    """A staff member (contract "Objects": Staff, inferred) → a local ``resources`` row of
    category ``provider``; ``id`` is :func:`staff_key`; ``types`` the service ids they
    provide; ``timeRules`` as given (:func:`time_rules`). Raises MappingError without id."""
    ident = _id(staff, "staff")
    name = _name(staff)
    row = {
        "id": staff_key(ident),
        "name": name,
        "name_translations": {"en": name, "ar": name},
        "category": "provider",
        "types": [str(s["id"]) for s in staff.get("services") or [] if s.get("id")],
        "on": True,
        "activated": True,
    }
    if rules is not None:
        row["timeRules"] = rules
    return row


def room_resource(resource: dict, services: list[dict], rules: dict | None = None) -> dict:
    """A resource (room) → a local ``resources`` row of category ``room``; ``id`` is
    :func:`room_key`; ``types`` the services that use the room (service ``resource[]``)."""
    ident = _id(resource, "resource")
    name = resource.get("name") or ident
    types = [
        str(s["id"]) for s in services if any(str(r.get("id")) == ident for r in s.get("resource") or [])
    ]
    row = {
        "id": room_key(ident),
        "name": name,
        "name_translations": {"en": name, "ar": name},
        "category": "room",
        "types": types,
        "on": True,
        "activated": True,
    }
    if rules is not None:
        row["timeRules"] = rules
    return row


def _minutes(value, what: str, allow_zero: bool = True) -> int:
    try:
        minutes = int(value or 0)
    except (TypeError, ValueError):
        raise MappingError(f"{what}: not a number of minutes {value!r}") from None
    if minutes < 0 or (minutes == 0 and not allow_zero):
        raise MappingError(f"{what}: bad number of minutes {value!r}")
    return minutes


def booking_type(service: dict) -> dict:
    """A service (contract "Objects": Service, inferred) → a local ``types`` row:
    ``minutes`` = ``duration``, ``leaveMinutesBefore`` = ``preparationDuration``,
    ``leaveMinutesAfter`` = ``bufferDuration`` (minutes), ``price`` ``d+.dd`` or None. The
    ``i18n`` map has no Arabic (contract "Transport"): the Arabic name is the service name
    until the desk gives its own. Raises MappingError without id or with bad minutes."""
    ident = _id(service, "service")
    what = f"service {ident}"
    name = service.get("name") or ident
    arabic = ((service.get("i18n") or {}).get("ar") or {}).get("name")
    price = (service.get("price") or {}).get("amount") if isinstance(service.get("price"), dict) else None
    return {
        "id": ident,
        "name": name,
        "name_translations": {"en": name, "ar": arabic or name},
        "minutes": _minutes(service.get("duration"), what, allow_zero=False),
        "leaveMinutesBefore": _minutes(service.get("preparationDuration"), what),
        "leaveMinutesAfter": _minutes(service.get("bufferDuration"), what),
        "color": service.get("color"),
        "price": None if price in (None, "") else f"{float(price):.2f}",
        "autoConfirm": True,
        "on": True,
    }


def customer(client: dict, region: str = phones.DEFAULT_REGION) -> dict:
    """A client (the Client API, or the ``client`` embedded in an appointment; API reference
    "client") → customer fields without ``id`` (the caller's ULID): ``firstName``,
    ``lastName``, ``phone`` (E.164 from ``mobilePhone`` or ``phone``; None when it is not a
    number), ``email``, ``searchText``. Raises MappingError without id."""
    _id(client, "client")
    phone = None
    for raw in (client.get("mobilePhone"), client.get("phone")):
        try:
            phone = phones.normalize(raw, region)
        except ValueError:
            phone = None
        if phone:
            break
    row = {
        "firstName": client.get("firstName") or None,
        "lastName": client.get("lastName") or None,
        "phone": phone,
        "email": client.get("email") or None,
    }
    row["searchText"] = search_text(row["firstName"], row["lastName"], row["phone"])
    return {k: v for k, v in row.items() if k in ("firstName", "lastName", "searchText") or v is not None}


def client_to_cloud(row: dict, desk_id: str) -> dict:
    """A local customer → a client body (``POST /clients``, or the ``client`` of an insert):
    names, email, ``mobilePhone`` and ``externalId`` = the desk's customer id (contract
    "Desk operations": create)."""
    body = {
        "firstName": row.get("firstName") or "",
        "lastName": row.get("lastName") or "",
        "email": row.get("email"),
        "mobilePhone": row.get("phone"),
        "externalId": desk_id,
    }
    if not (body["firstName"] or body["lastName"]):
        body["lastName"] = row.get("phone") or row.get("email") or desk_id
    return {k: v for k, v in body.items() if v not in (None, "")}


# appointments -------------------------------------------------------------------------
@dataclass
class Appointment:
    """One listed appointment, read: ``cloud_id``; ``kind`` ``booking`` or ``block`` (a
    personal appointment: staff time off); ``row`` (the booking's cloud-owned fields, or the
    block's ``resourceId``/``startDateTime``/``endDateTime``/``note``); ``client`` (the
    embedded client, cloud id under ``id``) or None; ``desk_op_id`` (the outbox operation id
    the desk wrote on insert) or None; ``deleted``
    (cancelled or deleted: the local booking is cancelled); ``requested_start`` (UTC) of a
    request waiting in the queue."""

    cloud_id: str
    kind: str
    row: dict
    client: dict | None = None
    desk_op_id: str | None = None
    deleted: bool = False
    requested_start: str | None = None


def local_status(status: str, has_staff: bool) -> tuple[Status, VisitStatus | None]:
    """Cloud status → (status, visit status or None). ``pending`` without staff is a
    request waiting in the queue (``PENDING_ASSIGNMENT``; contract "unassigned queue"),
    with staff a booking waiting for approval. Raises MappingError for another status."""
    if status == "pending":
        return (Status.PENDING_APPROVAL if has_staff else Status.PENDING_ASSIGNMENT), None
    try:
        return STATUS_IN[status]
    except KeyError:
        raise MappingError(f"unknown status {status!r}") from None


def split_notes(notes: str | None) -> tuple[str | None, str | None]:
    """``notes`` → (note, cancel reason): the desk writes the reason as a last line
    ``Cancelled: <reason>`` (contract "Desk operations": cancel with reason)."""
    text = notes or ""
    head, sep, reason = text.rpartition("\n" + CANCEL_PREFIX)
    if not sep and text.startswith(CANCEL_PREFIX):
        head, sep, reason = "", CANCEL_PREFIX, text[len(CANCEL_PREFIX) :]
    if sep:
        return head or None, reason.strip() or None
    return text or None, None


def cancel_notes(note: str | None, reason: str) -> str:
    """The ``notes`` of a cancel: the note, then ``Cancelled: <reason>``."""
    base, _ = split_notes(note)
    line = CANCEL_PREFIX + (reason or "").strip()
    return f"{base}\n{line}" if base else line


def history_entries(obj: dict, default_zone: str) -> list[dict]:
    """``history[]`` (API reference "history") → audit entries ``{"key", "createdAt" (UTC), "action":
    "cloud.<type>", "actor": "agendize", "after": {"cloudKey", "type", "status", "source",
    "channel", "by", "user"}}``: ``channel`` is ``online`` (widget), ``dashboard`` or
    ``api``; ``by`` is ``client`` for a client's own change, ``api`` for one made through the
    API with the branch's key (the desk's own pushes come back so), else ``staff``. ``key``
    (type and UTC time, ``#2``… for a repeat of both) names the entry, so the caller copies
    each once. Entries without a readable date are left out."""
    out = []
    seen: dict[str, int] = {}
    for entry in obj.get("history") or []:
        if not isinstance(entry, dict):
            continue
        try:
            moment = zoned_to_utc(entry.get("date"), default_zone, "history date")
        except MappingError:
            continue
        kind = str(entry.get("type") or "")
        source = str(entry.get("source") or "")
        user = entry.get("user") if isinstance(entry.get("user"), dict) else {}
        stamp = clock.to_iso(moment)
        key = f"{kind}@{stamp}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        by = "client" if kind.startswith("client_") else "api" if source == "api" else "staff"
        out.append(
            {
                "key": key,
                "createdAt": stamp,
                "action": f"cloud.{kind or 'change'}",
                "actor": "agendize",
                "after": {
                    "cloudKey": key,
                    "type": kind,
                    "status": entry.get("text"),
                    "source": source,
                    "channel": CHANNELS.get(source, source or None),
                    "by": by,
                    "user": _name(user)
                    if (user.get("firstName") or user.get("lastName"))
                    else user.get("userName"),
                },
            }
        )
    return out


def change_of(entries: list[dict] | None) -> dict | None:
    """The newest of :func:`history_entries`' entries as ``{"key", "type", "at" (UTC),
    "status", "channel", "by", "user"}``, or None for none."""
    if not entries:
        return None
    last = entries[-1]
    return {
        "key": last["key"],
        "type": last["after"]["type"],
        "at": last["createdAt"],
        **{k: last["after"][k] for k in ("status", "channel", "by", "user")},
    }


def appointment(obj: dict, default_zone: str) -> Appointment:
    """An Appointment resource (API reference "Appointments") → :class:`Appointment`.

    A booking's ``row`` has the domain's keys: ``status``, ``visitStatus`` (only when the
    cloud says it: ``inProgress``, ``completed``, ``noShow``; check-in is the desk's own),
    ``startDateTime``/``endDateTime`` (UTC ``…Z``; None for a request in the queue),
    ``duration`` (minutes), ``typeId`` (the service id), ``resourceId``
    (:func:`staff_key`, else :func:`room_key`, else None), ``customerId`` (the CLOUD client
    id), ``note``, ``cancelReason``, ``createdAt``, ``updatedAt`` (the newest history date,
    else the creation). Raises MappingError for a missing id, service, client or time, a
    bad time, an end not after the start, or an unknown status."""
    ident = _id(obj, "appointment")
    what = f"appointment {ident}"
    zone = ((obj.get("start") or {}).get("timeZone")) or default_zone
    start = zoned_to_utc(obj.get("start"), zone, f"{what} start")
    end = zoned_to_utc(obj.get("end"), zone, f"{what} end")
    if end <= start:
        raise MappingError(f"{what}: end {clock.to_iso(end)} is not after the start")
    staff = obj.get("staff") if isinstance(obj.get("staff"), dict) and obj["staff"].get("id") else None
    room = (
        obj.get("resource") if isinstance(obj.get("resource"), dict) and obj["resource"].get("id") else None
    )
    resource_id = staff_key(staff["id"]) if staff else room_key(room["id"]) if room else None
    deleted = obj.get("status") == "cancelled" or obj.get("deleted") is True
    if obj.get("type") == "personal":
        if not staff:
            raise MappingError(f"{what}: a personal appointment without staff")
        return Appointment(
            ident,
            "block",
            {
                "resourceId": resource_id,
                "startDateTime": clock.to_iso(start),
                "endDateTime": clock.to_iso(end),
                "note": obj.get("notes") or None,
            },
            deleted=deleted,
        )
    service = obj.get("service")
    if not isinstance(service, dict) or not service.get("id"):
        raise MappingError(f"{what}: missing service")
    client = obj.get("client") if isinstance(obj.get("client"), dict) and obj["client"].get("id") else None
    status, visit = local_status(str(obj.get("status") or "accepted"), staff is not None)
    if obj.get("deleted") is True:
        status, visit = Status.CANCELED, None
    created = zoned_to_utc(obj["created"], zone, f"{what} created") if obj.get("created") else None
    created_at = clock.to_iso(created) if created else None
    updated_at = _last_change(obj.get("history"), zone)
    if created_at and (updated_at is None or updated_at < created_at):
        updated_at = created_at
    note, reason = split_notes(obj.get("notes"))
    queued = status == Status.PENDING_ASSIGNMENT
    row = {
        "status": str(status),
        "startDateTime": None if queued else clock.to_iso(start),
        "endDateTime": None if queued else clock.to_iso(end),
        "duration": int((end - start).total_seconds() // 60),
        "typeId": str(service["id"]),
        "resourceId": None if queued else resource_id,
        "customerId": str(client["id"]) if client else None,
        "note": note,
        "cancelReason": reason
        or (_deleted_reason(obj.get("history")) if status == Status.CANCELED else None),
        "createdAt": created_at,
        "updatedAt": updated_at or created_at,
    }
    if queued:
        row["assignmentTimeout"] = ASSIGNMENT_TIMEOUT_MAX
    if visit is not None:
        row["visitStatus"] = str(visit)
    private = (obj.get("extendedProperties") or {}).get("private") or {}
    op_id = private.get("deskOpId") if isinstance(private, dict) else None
    return Appointment(
        ident,
        "booking",
        row,
        client=client,
        desk_op_id=str(op_id) if op_id else None,
        deleted=deleted,
        requested_start=clock.to_iso(start) if queued else None,
    )


def _last_change(history, zone: str) -> str | None:
    """UTC time of the newest ``history[]`` entry (entries are in order), or None."""
    for entry in reversed(history or []):
        if isinstance(entry, dict):
            try:
                return clock.to_iso(zoned_to_utc(entry.get("date"), zone, "history date"))
            except MappingError:
                continue
    return None


def _deleted_reason(history) -> str:
    for entry in reversed(history or []):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind in ("client_deleted", "user_deleted", "declined", "archived"):
            who = "the client" if kind == "client_deleted" else "staff"
            channel = CHANNELS.get(str(entry.get("source") or ""), entry.get("source"))
            return f"cancelled in Agendize by {who}" + (f" ({channel})" if channel else "")
    return "cancelled in Agendize"


# bodies sent --------------------------------------------------------------------------
def money(obj: dict) -> CloudMoney | None:
    """An appointment's ``price{amount, currency}`` and ``paid`` (API reference "Appointment
    resource": ``paid`` "true" if the appointment has been paid, a string or a boolean)
    → :class:`CloudMoney`: ``paid`` is the whole price when the flag is true, else 0 (the
    API reference gives no partial amount). None when the appointment says neither. A price that
    is no number is left out (None)."""
    price = obj.get("price")
    amount = price.get("amount") if isinstance(price, dict) else None
    flag = obj.get("paid")
    if amount is None and flag is None:
        return None
    try:
        text = None if amount is None else str(Decimal(str(amount)))
        if text is not None and not Decimal(text).is_finite():
            text = None
    except InvalidOperation:
        text = None
    paid = flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")
    return CloudMoney(
        price=text, paid=(text or "0") if paid else "0", fully_paid=None if flag is None else paid
    )


def insert_body(
    booking: dict,
    *,
    client: dict,
    service_id: str,
    staff_id: str | None,
    room_id: str | None,
    zone: str,
    op_id: str,
) -> dict:
    """A desk booking → the body of ``POST …/appointments`` (contract "Desk operations":
    create): ``client`` (``{"id"}`` or names and email, always with ``externalId``),
    ``service``, ``staff``, ``resource`` (a room), ``start`` in the company's ``zone``,
    ``status: "accepted"``, ``notes``, ``extendedProperties.private.deskOpId`` = the outbox
    operation id (contract "Lost reply on insert"). Raises MappingError without a start."""
    start = clock.from_iso(booking.get("startDateTime"))
    if start is None:
        raise MappingError(
            f"booking {booking.get('id')}: a booking without a start stays local until accepted"
        )
    body = {
        "client": client,
        "service": {"id": service_id},
        "start": utc_to_zoned(start, zone),
        "status": "accepted",
        "extendedProperties": {"private": {"deskOpId": op_id}},
    }
    if staff_id:
        body["staff"] = {"id": staff_id}
    if room_id:
        body["resource"] = {"id": room_id}
    if booking.get("note"):
        body["notes"] = booking["note"]
    return body
