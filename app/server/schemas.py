"""Request bodies of the branch API (Ehjzny management shapes, contract "Operations")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class BookingRef(Body):
    bookingId: str = Field(min_length=1, max_length=64)


class AssignBody(BookingRef):
    resourceId: str = Field(min_length=1, max_length=64)


class CancelBody(BookingRef):
    reason: str = Field(min_length=1, max_length=500)


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
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,15}$")
    email: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
