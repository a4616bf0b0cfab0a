"""Request bodies of the branch API (Ehjzny management shapes, contract "Operations").

Dates (``YYYY-MM-DD``, branch-local) and instants (ISO-8601 with a zone) are the
:data:`Day` and :data:`Instant` types: one validation for every body (and, through
:func:`app.server.api._day` / ``_instant``, every query), with the same year bounds
(:func:`app.domain.clock.parse_day`, :func:`~app.domain.clock.parse_instant`) and the reason
in the 400 message. Military times are ``0``–``2359`` with minutes below 60; a working
period may end at ``2400``, the end of the day.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.domain.clock import END_OF_DAY, parse_day, parse_instant
from app.domain.model import AttendanceKind, DeskRole


def _day(text: str) -> str:
    parse_day(text)
    return text


def _instant(text: str) -> str:
    parse_instant(text)
    return text


def _military(value: int) -> int:
    if value % 100 >= 60:
        raise ValueError(f"not a military time (HHMM, minutes below 60): {value}")
    return value


#: A branch-local date ``YYYY-MM-DD`` within the year bounds (kept as text).
Day = Annotated[str, Field(min_length=10, max_length=10), AfterValidator(_day)]
#: An ISO-8601 instant with a zone within the year bounds (kept as text).
Instant = Annotated[str, Field(max_length=40), AfterValidator(_instant)]
#: A military start time ``HHMM`` of a day, 0000–2359.
Military = Annotated[int, Field(ge=0, le=2359), AfterValidator(_military)]
#: A military end time ``HHMM``: 0000–2359, or 2400 for the end of the day.
MilitaryEnd = Annotated[int, Field(ge=0, le=END_OF_DAY), AfterValidator(_military)]


class Body(BaseModel):
    """Text is stripped of surrounding white space, but its length limit (``max_length``)
    holds for the text as sent, as the OpenAPI document says."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _length_as_sent(cls, data):
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                value = data.get(info.alias or name)
                limit = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)
                if isinstance(value, str) and limit is not None and len(value) > limit:
                    raise ValueError(f"{info.alias or name}: at most {limit} characters")
        return data


class BookingRef(Body):
    bookingId: str = Field(min_length=1, max_length=64)


class AssignBody(BookingRef):
    resourceId: str = Field(min_length=1, max_length=64)
    #: only while the resource has nobody called or in the room (doctor mode's "Accept next")
    whenFree: bool = False


class CancelBody(BookingRef):
    reason: str = Field(min_length=1, max_length=500)


class TicketPrefixBody(Body):
    """``PUT /management/types/{typeId}/ticketPrefix``: one or two Latin letters."""

    ticketPrefix: str = Field(min_length=1, max_length=2)


class CustomerIdentifier(Body):
    id: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=200)


class SchedulingBody(Body):
    """``PUT /management/scheduling/new``: ``date`` (branch-local ``YYYY-MM-DD``) and ``time``
    (military, ``930`` = 09:30) or ``startDateTime`` (UTC); ``assign: false`` = queue."""

    type: str = Field(min_length=1, max_length=64)
    date: Day | None = None
    time: Military | None = None
    startDateTime: Instant | None = None
    customerIdentifier: CustomerIdentifier | None = None
    resourceId: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    assign: bool = True
    assignmentTimeout: int | None = Field(default=None, ge=0, le=10_000)
    rescheduleBookingId: str | None = Field(default=None, max_length=64)
    overbookReason: str | None = Field(default=None, max_length=500)


class AvailabilityBody(Body):
    """``POST /availability/times``: free start times of one branch-local day."""

    type: str = Field(min_length=1, max_length=64)
    date: Day
    resourceId: str | None = Field(default=None, max_length=64)
    rescheduleBookingId: str | None = Field(default=None, max_length=64)
    step: int | None = Field(default=None, ge=5, le=240)


class CustomerBody(Body):
    firstName: str = Field(min_length=1, max_length=100)
    lastName: str = Field(default="", max_length=100)
    #: any usual form (``055 123 4567``, ``+966551234567``, Arabic-Indic digits); stored in E.164
    phone: str | None = Field(default=None, max_length=24, pattern=r"^[+0-9٠-٩ ()\-]*$")
    email: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class CustomerPatch(Body):
    """``PATCH /management/customers/{customerId}``: the fields to change (absent: kept;
    ``lastName``, ``phone``, ``email``, ``note`` may be cleared with ``""`` or null)."""

    firstName: str | None = Field(default=None, min_length=1, max_length=100)
    lastName: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=24, pattern=r"^[+0-9٠-٩ ()\-]*$")
    email: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class HoldBody(SchedulingBody):
    """``PUT /management/scheduling/temporary``: a booking that keeps its slot for
    ``reservedForMinutes`` (Ehjzny API reference, "Create Temporary Booking"; clamped to 1..60)."""

    reservedForMinutes: int | None = Field(default=None, ge=1, le=1440)


class AvailabilityTimesBody(Body):
    """``POST /availability/times`` (Ehjzny API reference, "List Available Times"): free start times of the
    branch-local ``date``. Candidate starts: ``granularity`` (hour, half, third, quarter,
    sixth, fixed, optimize, or the API reference's oclock/oclockAndHalf/20/15/10), the API reference's
    ``show...`` flags, ``step`` minutes, ``fixedTimes`` (military ints) or ``showFixedTimes``
    (``"800,1200"``); default quarter hours."""

    type: str = Field(min_length=1, max_length=64)
    date: Day
    resourceId: str | None = Field(default=None, max_length=64)
    rescheduleBookingId: str | None = Field(default=None, max_length=64)
    step: int | None = Field(default=None, ge=5, le=240)
    granularity: str | None = Field(default=None, max_length=20)
    fixedTimes: list[Military] | None = Field(default=None, max_length=96)
    showFixedTimes: str | None = Field(default=None, max_length=500, pattern=r"^[0-9, ]*$")
    showOclock: bool | None = None
    showHalfHour: bool | None = None
    showThirdHour: bool | None = None
    showQuarterHour: bool | None = None
    showSixthHour: bool | None = None
    showInBetweenSlots: bool = False


class AvailabilityTypesBody(Body):
    """``POST /availability/types``: booking types with ``pendingCount`` (optionally of one
    resource)."""

    resourceId: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=100, ge=1, le=1000)
    nextPageToken: str | None = Field(default=None, max_length=100)


class AvailabilityResourcesBody(Body):
    """``POST /availability/resources``: active resources, optionally serving ``type``."""

    type: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=100, ge=1, le=1000)
    nextPageToken: str | None = Field(default=None, max_length=100)


class AttendanceBody(BookingRef):
    """``POST /management/attendances`` (Rekaz "Attendances"): ``CheckIn`` or ``CheckOut``."""

    actionType: AttendanceKind


class Strict(Body):
    """A body with known fields only: an unknown field is a 400, never ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TimeRule(Strict):
    """One working period on ``days``: ``from`` 0000–2359, ``to`` up to 2400 (end of day),
    ``from < to`` (branch-local military times, :mod:`app.domain.timerules`)."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1, max_length=7)
    from_: Military = Field(alias="from")
    to: MilitaryEnd

    @model_validator(mode="after")
    def _ordered(self):
        if self.from_ >= self.to:
            raise ValueError(f"a working period must start before it ends (from {self.from_} to {self.to})")
        return self


class OffRule(Strict):
    """Days off, ``from`` to ``to`` inclusive (branch-local dates, ``from <= to``)."""

    from_: Day = Field(alias="from")
    to: Day
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _ordered(self):
        if self.from_ > self.to:
            raise ValueError(f"days off must start before they end (from {self.from_} to {self.to})")
        return self


TIME_RULE_FIELDS = ("depthOfDays", "scheduleAfterHoursFromNow", "rules", "offRules")


class TimeRulesBody(Strict):
    """``PUT /management/resources/{id}/timeRules`` (Ehjzny API reference, "Update Resource's Time Rules"):
    replaces the resource's time rules. Known fields only, and at least one of them (a body
    without any, such as ``{"workingHours": "09:00-17:00"}``, is a 400 and changes nothing);
    a field left out takes its default."""

    depthOfDays: int = Field(default=0, ge=0, le=3650)
    scheduleAfterHoursFromNow: int = Field(default=0, ge=-1, le=8760)
    rules: list[TimeRule] = Field(default_factory=list, max_length=100)
    offRules: list[OffRule] = Field(default_factory=list, max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _some_field(cls, data):
        if isinstance(data, dict) and not any(k in data for k in TIME_RULE_FIELDS):
            unknown = ", ".join(sorted(map(str, data))[:5])
            raise ValueError(
                (f"unknown field(s) {unknown}; " if unknown else "")
                + f"give at least one of {', '.join(TIME_RULE_FIELDS)}"
            )
        return data


class PairingCodeBody(Body):
    """``POST /desks/pairing-code``: the role the code pairs (none = ``reception``) and, for
    a provider, its resources."""

    role: DeskRole | None = None
    resourceIds: list[str] = Field(default_factory=list, max_length=50)


class PairBody(Body):
    """``POST /desks/pair``: ``code`` or ``proof`` (see :mod:`app.server.desks`); ``role``
    (and ``resourceIds``), when given, must be what the code was made for."""

    deskName: str = Field(min_length=1, max_length=100)
    role: DeskRole | None = None
    code: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9 -]*$")
    proof: str | None = Field(default=None, max_length=64, pattern=r"^[0-9a-fA-F]*$")
    resourceIds: list[str] = Field(default_factory=list, max_length=50)


class DeskRef(Body):
    deskId: str = Field(min_length=1, max_length=64)
