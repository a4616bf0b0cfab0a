"""The simulated cloud's own rules: errors, clock, times, time rules, free times and queues.

Written from the Ehjzny API reference and the contract
(``docs/clouds/ehjzny.md``) only, and sharing no code with the app: the simulation
is there to disagree with the connector when the connector is wrong, so it must not reuse
the connector's reading of a rule.

* Times are UTC; the cloud shows them with milliseconds, ``2026-12-01T10:00:00.395Z``
  (contract "Shapes the reference lost": ``createdAt`` carries milliseconds).
* Local dates and military times (``1820`` = 18:20) are the organization's zone.
* Time rules (contract "Shapes the reference lost"): ``{"depthOfDays", "scheduleAfterHoursFromNow",
  "rules": [{"weekDays": [0..6] (0 = Sunday), "times": [{"from": 900, "to": 1700}],
  "fromDate"?, "toDate"?}]}``; several rules of one day are merged. ``depthOfDays`` 0 = no
  limit; ``scheduleAfterHoursFromNow`` -1 = from tomorrow (API reference "Update Resource's Time Rules").
* Queues (API reference "Queue Booking", "Resource-Scoped Queues"): a resource's queue holds the
  unassigned bookings whose type it serves, oldest ``createdAt`` first.
* Assignment timeout (API reference "Assignment Timeout"): minutes clamped to 5..180; the "system
  default" when absent is :data:`DEFAULT_TIMEOUT`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# ---- statuses (contract "Objects" → Statuses) -------------------------------------------------
PENDING_APPROVAL, PENDING_PAYMENT, PENDING_ASSIGNMENT = (
    "PENDING_APPROVAL",
    "PENDING_PAYMENT",
    "PENDING_ASSIGNMENT",
)
CONFIRMED, CANCELED, REJECTED = "CONFIRMED", "CANCELED", "REJECTED"
STATUSES = (PENDING_APPROVAL, PENDING_PAYMENT, PENDING_ASSIGNMENT, CONFIRMED, CANCELED, REJECTED)
FINAL = frozenset({CANCELED, REJECTED})
#: statuses that hold a resource's time
OCCUPYING = frozenset({PENDING_APPROVAL, PENDING_PAYMENT, CONFIRMED})

MIN_TIMEOUT, MAX_TIMEOUT, DEFAULT_TIMEOUT = 5, 180, 120


# ---- errors (contract "Transport" → Errors) ---------------------------------------------------
class SimError(Exception):
    """An answered error: ``{"error": {"code", "message"}}`` with HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


NOT_FOUND = "NOT-FOUND"
VALIDATION = "VALIDATION"
ALREADY_ASSIGNED = "SCH-ALREADY_ASSIGNED"  # API reference "Race Condition Handling"
EXPIRED = "BKS-110"  # API reference "Assignment Timeout"
SLOT_TAKEN = "SCH-SLOT-TAKEN"
NOT_ACTIVE = "BKS-NOT-ACTIVE"
OUTSIDE_WORKING_HOURS = "SCH-OUTSIDE-WORKING-HOURS"
TYPE_NOT_SERVED = "SCH-TYPE-NOT-SERVED"


def invalid(message: str) -> SimError:
    return SimError(VALIDATION, message, 400)


def not_found(what: str, ident) -> SimError:
    return SimError(NOT_FOUND, f"{what} {ident!r} does not exist", 404)


# ---- clock and times ----------------------------------------------------------------------
class SimClock:
    """The cloud's "now" (aware UTC, with milliseconds); ``shift`` moves it (tests)."""

    def __init__(self, source=None):
        self._source = source or (lambda: datetime.now(UTC))
        self._offset = timedelta()

    def now(self) -> datetime:
        return (self._source() + self._offset).astimezone(UTC)

    def shift(self, delta: timedelta) -> None:
        self._offset += delta


def iso(moment: datetime | None) -> str | None:
    """Aware datetime → ``2026-12-01T10:00:00.395Z``."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(text) -> datetime | None:
    """ISO-8601 with a zone → aware UTC; None/"" → None. Raises SimError for other text."""
    if text in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"not an ISO date-time: {text!r}") from None
    if moment.tzinfo is None:
        raise invalid(f"a date-time needs a zone: {text!r}")
    return moment.astimezone(UTC)


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def military_of(moment: datetime, zone: str) -> int:
    local = moment.astimezone(ZoneInfo(zone))
    return local.hour * 100 + local.minute


def at_local(day: date, military: int, zone: str) -> datetime:
    """Organization-local ``day`` at military ``military`` (2400 = the next midnight) → UTC."""
    hours, minutes = divmod(int(military), 100)
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise invalid(f"not a military time: {military!r}")
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    return datetime.combine(day, time(hours, minutes), ZoneInfo(zone)).astimezone(UTC)


# ---- time rules ---------------------------------------------------------------------------
def contract_weekday(day: date) -> int:
    """0 = Sunday … 6 = Saturday (contract "Shapes the reference lost")."""
    return (day.weekday() + 1) % 7


def periods(time_rules: dict | None, day: date) -> list[tuple[int, int]]:
    """Merged working periods of ``day`` as ``(from, to)`` military pairs; [] = not working."""
    found = []
    for rule in (time_rules or {}).get("rules") or []:
        if contract_weekday(day) not in (rule.get("weekDays") or []):
            continue
        iso_day = day.isoformat()
        if (rule.get("fromDate") and iso_day < rule["fromDate"]) or (
            rule.get("toDate") and iso_day > rule["toDate"]
        ):
            continue
        found += [
            (int(t["from"]), int(t["to"])) for t in rule.get("times") or [] if int(t["to"]) > int(t["from"])
        ]
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(found):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def working_spans(time_rules: dict | None, day: date, zone: str) -> list[tuple[datetime, datetime]]:
    return [(at_local(day, lo, zone), at_local(day, hi, zone)) for lo, hi in periods(time_rules, day)]


def within_hours(start: datetime, end: datetime, time_rules: dict | None, zone: str) -> bool:
    return any(
        lo <= start and end <= hi for lo, hi in working_spans(time_rules, local_day(start, zone), zone)
    )


def bookable_day(day: date, time_rules: dict | None, now: datetime, zone: str) -> bool:
    """``depthOfDays`` n > 0: only today .. today + n days may be booked."""
    depth = int((time_rules or {}).get("depthOfDays") or 0)
    return depth <= 0 or day <= local_day(now, zone) + timedelta(days=depth)


def not_before(time_rules: dict | None, now: datetime, zone: str) -> datetime:
    hours = int((time_rules or {}).get("scheduleAfterHoursFromNow") or 0)
    if hours < 0:
        return at_local(local_day(now, zone) + timedelta(days=1), 0, zone)
    return now + timedelta(hours=hours)


# ---- occupancy ----------------------------------------------------------------------------
def span(start: datetime, btype: dict) -> tuple[datetime, datetime]:
    """What a booking of ``btype`` at ``start`` occupies, with the type's leave minutes."""
    return (
        start - timedelta(minutes=int(btype.get("leaveMinutesBefore") or 0)),
        start + timedelta(minutes=int(btype["minutes"]) + int(btype.get("leaveMinutesAfter") or 0)),
    )


def taken(
    records: list[dict], types: dict[str, dict], ignore_id: str | None = None
) -> list[tuple[datetime, datetime]]:
    out = []
    for record in records:
        if record["id"] == ignore_id or not record.get("startDateTime"):
            continue
        btype = types.get(record["typeId"]) or {}
        out.append(
            (
                parse(record["startDateTime"]) - timedelta(minutes=int(btype.get("leaveMinutesBefore") or 0)),
                parse(record["endDateTime"]) + timedelta(minutes=int(btype.get("leaveMinutesAfter") or 0)),
            )
        )
    return out


def collides(lo: datetime, hi: datetime, spans: list[tuple[datetime, datetime]]) -> bool:
    return any(lo < b and a < hi for a, b in spans)


def free_times(
    day: date,
    btype: dict,
    time_rules: dict | None,
    records: list[dict],
    types: dict[str, dict],
    zone: str,
    now: datetime,
    step: int = 60,
    fixed: list[int] | None = None,
    ignore_id: str | None = None,
) -> list[datetime]:
    """Free starts on ``day`` for ``btype`` on one resource (API reference "List Available Times"):
    every ``step`` minutes of each working period (or the ``fixed`` military times)."""
    if not bookable_day(day, time_rules, now, zone):
        return []
    busy, earliest, out = taken(records, types, ignore_id), not_before(time_rules, now, zone), []
    for lo, hi in working_spans(time_rules, day, zone):
        if fixed:
            candidates = [at_local(day, t, zone) for t in fixed]
        else:
            candidates, t = [], lo
            while t < hi:
                candidates.append(t)
                t += timedelta(minutes=step)
        for start in candidates:
            a, b = span(start, btype)
            if lo <= a and b <= hi and start >= earliest and not collides(a, b, busy):
                out.append(start)
    return sorted(set(out))


# ---- queues -------------------------------------------------------------------------------
def clamp_timeout(minutes) -> int:
    if minutes in (None, ""):
        return DEFAULT_TIMEOUT
    return max(MIN_TIMEOUT, min(MAX_TIMEOUT, int(minutes)))


def expired(record: dict, now: datetime) -> bool:
    return (
        record["status"] == PENDING_ASSIGNMENT
        and parse(record["createdAt"]) + timedelta(minutes=record["_timeout"]) <= now
    )


def queue_of(resource: dict, waiting: list[dict]) -> list[dict]:
    """``resource``'s queue from ``waiting`` (unassigned, oldest first)."""
    served = set(resource.get("types") or [])
    return [r for r in waiting if r["typeId"] in served]
