"""Request bodies of the branch API (Ehjzny management shapes, contract "Operations")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


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
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    time: int | None = Field(default=None, ge=0, le=2359)
    startDateTime: str | None = Field(default=None, max_length=40)
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
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
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


class HoldBody(SchedulingBody):
    """``PUT /management/scheduling/temporary``: a booking that keeps its slot for
    ``reservedForMinutes`` (seed 000 "Create Temporary Booking"; clamped to 1..60)."""

    reservedForMinutes: int | None = Field(default=None, ge=1, le=1440)


class AvailabilityTimesBody(Body):
    """``POST /availability/times`` (seed 000 "List Available Times"): free start times of the
    branch-local ``date``. Candidate starts: ``granularity`` (hour, half, third, quarter,
    sixth, fixed, optimize, or the seed's oclock/oclockAndHalf/20/15/10), the seed's
    ``show...`` flags, ``step`` minutes, ``fixedTimes`` (military ints) or ``showFixedTimes``
    (``"800,1200"``); default quarter hours."""

    type: str = Field(min_length=1, max_length=64)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    resourceId: str | None = Field(default=None, max_length=64)
    rescheduleBookingId: str | None = Field(default=None, max_length=64)
    step: int | None = Field(default=None, ge=5, le=240)
    granularity: str | None = Field(default=None, max_length=20)
    fixedTimes: list[int] | None = Field(default=None, max_length=96)
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

    actionType: Literal["CheckIn", "CheckOut"]


class TimeRule(Body):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1, max_length=7)
    from_: int = Field(alias="from", ge=0, le=2400)
    to: int = Field(ge=0, le=2400)


class OffRule(Body):
    from_: str = Field(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    to: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    reason: str | None = Field(default=None, max_length=200)


class TimeRulesBody(Body):
    """``PUT /management/resources/{id}/timeRules`` (seed 000 "Update Resource's Time Rules")."""

    depthOfDays: int = Field(default=0, ge=0, le=3650)
    scheduleAfterHoursFromNow: int = Field(default=0, ge=-1, le=8760)
    rules: list[TimeRule] = Field(default_factory=list, max_length=100)
    offRules: list[OffRule] = Field(default_factory=list, max_length=500)


class PairingCodeBody(Body):
    role: Literal["reception", "provider", "manager"] | None = None
    resourceIds: list[str] = Field(default_factory=list, max_length=50)


class PairBody(Body):
    """``POST /desks/pair``: ``code`` or ``proof`` (see :mod:`app.server.desks`)."""

    deskName: str = Field(min_length=1, max_length=100)
    role: Literal["reception", "provider", "manager"]
    code: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9 -]*$")
    proof: str | None = Field(default=None, max_length=64, pattern=r"^[0-9a-fA-F]*$")
    resourceIds: list[str] = Field(default_factory=list, max_length=50)


class DeskRef(Body):
    deskId: str = Field(min_length=1, max_length=64)
