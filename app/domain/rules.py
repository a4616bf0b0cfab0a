"""Transitions of one booking. Pure functions: each takes the booking as it is and returns
the booking as it must become, or raises :class:`~app.domain.errors.BookingError`.

Sources: Ehjzny API reference ("Instant Booking", "Assignment Timeout",
"Race Condition Handling", "Cancel / Leave Queue", "End Booking", "Create Confirmed
Booking" → Rescheduling) and the contract's "Behaviour the desk relies on". The visit
states (check-in, start, end, no-show) are the desk's own, recorded as attendances in the
Rekaz "Attendances" shape (Rekaz API reference).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.domain import errors
from app.domain.clock import from_iso, to_iso
from app.domain.errors import BookingError
from app.domain.model import FINAL_STATUSES, Status, VisitStatus
from app.domain.queue import is_expired


def _refuse(booking: Mapping[str, Any], action: str) -> BookingError:
    state = booking.get("visitStatus") or booking["status"]
    return BookingError(
        errors.INVALID_TRANSITION,
        f"cannot {action} a booking that is {state}",
        409,
        bookingId=booking["id"],
        status=booking["status"],
        visitStatus=booking.get("visitStatus"),
    )


def accept(
    booking: Mapping[str, Any], resource: Mapping[str, Any], booking_type: Mapping[str, Any], now: datetime
) -> dict:
    """Assign a waiting booking to ``resource`` → ``CONFIRMED``, starting now.

    Ehjzny API reference, "Instant Booking" step 5 and "Race Condition Handling": an assigned booking is
    never re-assigned (``SCH-ALREADY_ASSIGNED``); an expired one answers ``BKS-110``
    ("Assignment Timeout"). The resource must serve the booking's type
    ("Provider: View Unassigned Bookings"). The queue fields are dropped (step 7).
    """
    if booking.get("resourceId") or booking["status"] == Status.CONFIRMED:
        raise BookingError(
            errors.ALREADY_ASSIGNED,
            "another provider accepted this booking first",
            400,
            bookingId=booking["id"],
            resourceId=booking.get("resourceId"),
        )
    if booking["status"] == Status.REJECTED or is_expired(booking, now):
        raise BookingError(
            errors.EXPIRED, "booking expired: the assignment timeout has passed", 400, bookingId=booking["id"]
        )
    if booking["status"] != Status.PENDING_ASSIGNMENT:
        raise _refuse(booking, "accept")
    if booking["typeId"] not in (resource.get("types") or []):
        raise BookingError(
            errors.TYPE_NOT_SERVED,
            f"{resource.get('name')} does not serve this booking type",
            400,
            resourceId=resource["id"],
            typeId=booking["typeId"],
        )
    start = now.replace(second=0, microsecond=0)
    minutes = int(booking_type["minutes"])
    return {
        **booking,
        "status": Status.CONFIRMED,
        "resourceId": resource["id"],
        "startDateTime": to_iso(start),
        "endDateTime": to_iso(start + timedelta(minutes=minutes)),
        "duration": minutes,
    }


def ensure_waiting(booking: Mapping[str, Any]) -> None:
    """Raise INVALID-TRANSITION unless the booking waits unassigned in a queue
    (``PENDING_ASSIGNMENT``), the one state an accept starts from (Ehjzny API reference, "Instant Booking")."""
    if booking.get("status") != Status.PENDING_ASSIGNMENT:
        raise _refuse(booking, "accept")


def expire(booking: Mapping[str, Any]) -> dict:
    """An unassigned booking past its timeout → ``REJECTED`` (Ehjzny API reference, "Assignment Timeout")."""
    return {**booking, "status": Status.REJECTED}


def cancel(booking: dict, reason: str) -> dict:
    """Cancel, or leave the queue, with a reason (Ehjzny API reference, "Cancel / Leave Queue").

    A visit already started or finished cannot be canceled; the reason is required.
    """
    reason = (reason or "").strip()
    if not reason:
        raise errors.invalid("a reason is required to cancel a booking", field="reason")
    if booking["status"] in FINAL_STATUSES or booking.get("visitStatus") in (
        VisitStatus.IN_PROGRESS,
        VisitStatus.COMPLETED,
    ):
        raise _refuse(booking, "cancel")
    return {**booking, "status": Status.CANCELED, "cancelReason": reason}


def check_in(booking: dict, now: datetime) -> dict:
    """The patient has arrived: a CONFIRMED booking not yet arrived → ``CHECKED_IN``."""
    if booking["status"] != Status.CONFIRMED or booking.get("visitStatus") not in (None, ""):
        raise _refuse(booking, "check in")
    return {**booking, "visitStatus": VisitStatus.CHECKED_IN, "checkedInAt": to_iso(now)}


def start(booking: dict, now: datetime) -> dict:
    """The patient goes into the room → ``IN_PROGRESS``. An accepted walk-in may start
    without a separate check-in (it is at the desk already)."""
    if booking["status"] != Status.CONFIRMED or booking.get("visitStatus") not in (
        None,
        "",
        VisitStatus.CHECKED_IN,
    ):
        raise _refuse(booking, "start")
    return {
        **booking,
        "visitStatus": VisitStatus.IN_PROGRESS,
        "startedAt": to_iso(now),
        "checkedInAt": booking.get("checkedInAt") or to_iso(now),
    }


def end(booking: dict, now: datetime) -> dict:
    """End the visit → ``COMPLETED``; when it ends before its scheduled end, the booking is
    shortened to the time served (Ehjzny API reference, "End Booking": ``endDateTime`` = now,
    ``duration`` recomputed). A visit that overruns keeps its scheduled end."""
    if booking["status"] != Status.CONFIRMED or booking.get("visitStatus") not in (
        VisitStatus.CHECKED_IN,
        VisitStatus.IN_PROGRESS,
    ):
        raise _refuse(booking, "end")
    out = {**booking, "visitStatus": VisitStatus.COMPLETED, "endedAt": to_iso(now)}
    begin, finish = from_iso(booking["startDateTime"]), from_iso(booking["endDateTime"])
    if begin <= now < finish:
        served = max(1, int((now - begin).total_seconds() // 60))
        out.update(endDateTime=to_iso(begin + timedelta(minutes=served)), duration=served)
    return out


def no_show(booking: dict, now: datetime) -> dict:
    """A CONFIRMED booking whose start has passed and whose patient never arrived → ``NO_SHOW``."""
    if booking["status"] != Status.CONFIRMED or booking.get("visitStatus") not in (None, ""):
        raise _refuse(booking, "mark as no-show")
    if from_iso(booking["startDateTime"]) > now:
        raise BookingError(
            errors.INVALID_TRANSITION, "the booking has not started yet", 409, bookingId=booking["id"]
        )
    return {**booking, "visitStatus": VisitStatus.NO_SHOW}


def reschedule(
    booking: Mapping[str, Any], start_at: datetime, resource_id: str, booking_type: Mapping[str, Any]
) -> dict:
    """Move a booking to a new start (and resource), keeping its local id.

    The cloud cancels the old booking and creates one with a new id (Ehjzny API reference, "Create
    Confirmed Booking" → Rescheduling); locally the id stays and the sync engine maps the
    new cloud id. Only bookings that are not under way can move. Free-slot checks are the
    caller's (they need the resource's other bookings).
    """
    ensure_movable(booking)
    minutes = int(booking_type["minutes"])
    return {
        **booking,
        "startDateTime": to_iso(start_at),
        "endDateTime": to_iso(start_at + timedelta(minutes=minutes)),
        "duration": minutes,
        "resourceId": resource_id,
    }


def ensure_movable(booking: Mapping[str, Any]) -> None:
    """Raise INVALID-TRANSITION unless the booking may be rescheduled: scheduled, not final,
    and its visit not under way (a checked-in patient may still be moved)."""
    if (
        booking["status"] in FINAL_STATUSES
        or booking["status"] == Status.PENDING_ASSIGNMENT
        or booking.get("visitStatus") not in (None, "", VisitStatus.CHECKED_IN)
    ):
        raise _refuse(booking, "reschedule")


def undo_check_in(booking: dict) -> dict:
    """Take back a check-in made by mistake: ``CHECKED_IN`` → not arrived. Only before the
    visit starts (the desk's own visit state; nothing of it reaches the cloud)."""
    if booking["status"] != Status.CONFIRMED or booking.get("visitStatus") != VisitStatus.CHECKED_IN:
        raise _refuse(booking, "undo the check-in of")
    return {**booking, "visitStatus": None, "checkedInAt": None}


def reopen(booking: dict, scheduled_end: str | None, scheduled_duration: int | None) -> dict:
    """Take back "end": a ``COMPLETED`` visit goes back to the room (or to arrived if it
    never started), with its scheduled end restored when the end had shortened it.

    The cloud has no reverse of ``/management/bookings/end`` (Ehjzny API reference, "End Booking"), so a
    reopen is the branch's own; an end already pushed keeps its shortened time there.
    """
    if booking["status"] != Status.CONFIRMED or booking.get("visitStatus") != VisitStatus.COMPLETED:
        raise _refuse(booking, "reopen")
    out = {
        **booking,
        "endedAt": None,
        "visitStatus": VisitStatus.IN_PROGRESS if booking.get("startedAt") else VisitStatus.CHECKED_IN,
    }
    if scheduled_end and scheduled_duration:
        out.update(endDateTime=scheduled_end, duration=int(scheduled_duration))
    return out


#: statuses a canceled booking may be restored to (what it was before the cancel)
RESTORABLE_STATUSES = frozenset(
    {Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, Status.PENDING_ASSIGNMENT}
)


def restore(booking: Mapping[str, Any], status_before: str | None, now: datetime) -> dict:
    """Take back a cancel made by mistake (the desk's Undo): the same booking (same id,
    time, resource, ticket) goes back to the status it had, ``cancelReason`` cleared.

    Only a booking canceled at the desk can come back (``status_before`` is the status its
    cancel's history entry recorded; a hold that lapsed or a rejected walk-in cannot). A
    walk-in past its assignment timeout stays canceled (``BKS-110``, Ehjzny API reference, "Assignment
    Timeout"). Whether the slot is still free is the caller's check. The cloud has no
    un-cancel (Ehjzny API reference, "Cancel / Leave Queue"): the sync engine books it there again.
    """
    if booking["status"] != Status.CANCELED or status_before not in RESTORABLE_STATUSES:
        raise _refuse(booking, "restore")
    out = {**booking, "status": Status(status_before), "cancelReason": None}
    if out["status"] == Status.PENDING_ASSIGNMENT and is_expired(out, now):
        raise BookingError(
            errors.EXPIRED, "booking expired: the assignment timeout has passed", 400, bookingId=booking["id"]
        )
    return out
