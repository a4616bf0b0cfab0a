"""The vocabulary shared by the store, the API, the sync engine and the desk.

One concept has one name everywhere: the SQLite column, the JSON field of the branch API,
the dict key in Python and the msgid of the UI label all use the Ehjzny names of
``shared/contracts/ehjzny.md`` ("Objects"). Rows travel as plain dicts with these keys.

Times: every ``...DateTime`` / ``...At`` value is UTC, ISO-8601 with ``Z``
(``2026-11-21T09:30:00Z``). Durations are whole minutes. ``startDate``/``startTime`` are the
branch-local view (date ``YYYY-MM-DD`` and military time ``930`` = 09:30) derived on output.

The rows themselves (booking, customer, resource, booking type, outbox operation) are typed
in :mod:`app.domain.rows`, each key with its meaning and unit.

Attendance (table ``attendances``, the Rekaz "Attendances" shape of
``002_8fee4d72956658de.txt``): id, type (``CheckIn``/``CheckOut``), bookingId,
customerId, createdAt.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Booking statuses of Ehjzny (contract, "Objects" → Statuses)."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PENDING_ASSIGNMENT = "PENDING_ASSIGNMENT"
    CONFIRMED = "CONFIRMED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"


class VisitStatus(StrEnum):
    """What happened at the desk for a CONFIRMED booking (not an Ehjzny field).

    None (not arrived) → CHECKED_IN → IN_PROGRESS → COMPLETED; or None → NO_SHOW.
    """

    CHECKED_IN = "CHECKED_IN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


#: Statuses after which nothing more happens to a booking.
FINAL_STATUSES = frozenset({Status.CANCELED, Status.REJECTED})
#: Statuses of a booking that still occupies its resource's time.
ACTIVE_STATUSES = frozenset({Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, Status.CONFIRMED})
#: Statuses of a booking that waits in a queue (contract, "Instant Booking").
QUEUED_STATUSES = frozenset({Status.PENDING_ASSIGNMENT})

BOOKING_FIELDS = (
    "id", "status", "visitStatus", "startDateTime", "endDateTime", "duration", "typeId",
    "resourceId", "customerId", "note", "cancelReason", "queueNumber", "assignmentTimeout",
    "checkedInAt", "startedAt", "endedAt", "createdAt", "updatedAt", "version", "heldUntil", "ticket",
    "paymentLink",
)

#: Assignment timeout bounds and default, minutes (seed 000, "Assignment Timeout").
ASSIGNMENT_TIMEOUT_MIN = 5
ASSIGNMENT_TIMEOUT_MAX = 180
ASSIGNMENT_TIMEOUT_DEFAULT = 120

#: Temporary hold bounds and default, minutes (seed 000 "Create Temporary Booking",
#: ``reservedForMinutes``; the seed gives no bounds, these are the branch's).
HOLD_MINUTES_MIN = 1
HOLD_MINUTES_MAX = 60
HOLD_MINUTES_DEFAULT = 15
