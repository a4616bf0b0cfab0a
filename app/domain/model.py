"""The vocabulary shared by the store, the API, the sync engine and the desk.

One concept has one name everywhere: the SQLite column, the JSON field of the branch API,
the dict key in Python and the msgid of the UI label all use the Ehjzny names of
the Ehjzny page of ``docs/clouds/`` ("Objects"). Rows travel as plain dicts with these keys.

Times: every ``...DateTime`` / ``...At`` value is UTC, ISO-8601 with ``Z``
(``2026-11-21T09:30:00Z``). Durations are whole minutes. ``startDate``/``startTime`` are the
branch-local view (date ``YYYY-MM-DD`` and military time ``930`` = 09:30) derived on output.

The rows themselves (booking, customer, resource, booking type, outbox operation) are typed
in :mod:`app.domain.rows`, each key with its meaning and unit.

Attendance (table ``attendances``, the Rekaz "Attendances" shape of
the Rekaz API reference): id, type (:class:`AttendanceKind`), bookingId,
customerId, createdAt.

History (table ``history``): ``action`` is one of :class:`Action`.
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


class Action(StrEnum):
    """What was done to a booking: the ``action`` of a history entry (SQLite ``history``), of a
    ``booking.changed`` event and of a change listener's call, and the key of the desk's
    action tables (:mod:`app.domain.actions`, ``app.i18n.labels.ACTION_LABELS``).

    The branch server's own; a cloud's operation names live in that connector's mapping.
    """

    CREATE = "create"
    HOLD = "hold"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    ACCEPT = "accept"
    CANCEL = "cancel"
    RESTORE = "restore"
    CHECK_IN = "check_in"
    UNDO_CHECK_IN = "undo_check_in"
    START = "start"
    END = "end"
    REOPEN = "reopen"
    NO_SHOW = "no_show"
    EXPIRE = "expire"
    HOLD_EXPIRE = "hold.expire"
    PRICE = "price"
    PAYMENT = "payment"
    REFUND = "refund"
    SYNC = "sync"
    SYNC_MOVED = "sync.moved"
    TIME_RULES = "time_rules"


class EventType(StrEnum):
    """The ``type`` of a live event (SQLite ``events``, SSE ``event:``); shapes in
    :mod:`app.server.events`."""

    BOOKING_CHANGED = "booking.changed"
    BOOKING_DELETED = "booking.deleted"
    QUEUE_CHANGED = "queue.changed"
    SLOT_FREED = "slot.freed"
    CUSTOMER_CHANGED = "customer.changed"
    RESOURCE_CHANGED = "resource.changed"
    RESYNC = "resync"
    HELLO = "hello"
    SYNC_CONNECTED = "sync.connected"
    SYNC_DISCONNECTED = "sync.disconnected"
    SYNC_MOVED = "sync.moved"
    SYNC_ATTENTION = "sync.attention"


class DeskRole(StrEnum):
    """A paired desk's role (SQLite ``desks.role``, pairing JSON ``role``), least first;
    what each may do: :mod:`app.server.desks`."""

    PROVIDER = "provider"
    RECEPTION = "reception"
    MANAGER = "manager"


class AttendanceKind(StrEnum):
    """``type`` of an attendance (SQLite ``attendances``, ``POST /management/attendances``
    ``actionType``): the Rekaz "Attendances" spelling (Rekaz API reference)."""

    CHECK_IN = "CheckIn"
    CHECK_OUT = "CheckOut"


class Resolution(StrEnum):
    """How a needs-attention case was closed (SQLite ``sync_attention.resolution``,
    ``POST /sync/attention/{id}/resolve``): keep the cloud's version, or send the desk's again."""

    ACCEPT_CLOUD = "accept-cloud"
    REAPPLY = "reapply"


#: Statuses after which nothing more happens to a booking.
FINAL_STATUSES = frozenset({Status.CANCELED, Status.REJECTED})
#: Statuses of a booking that still occupies its resource's time.
ACTIVE_STATUSES = frozenset({Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, Status.CONFIRMED})
#: Statuses of a booking that waits in a queue (contract, "Instant Booking").
QUEUED_STATUSES = frozenset({Status.PENDING_ASSIGNMENT})

BOOKING_FIELDS = (
    "id",
    "status",
    "visitStatus",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "note",
    "cancelReason",
    "queueNumber",
    "assignmentTimeout",
    "checkedInAt",
    "startedAt",
    "endedAt",
    "createdAt",
    "updatedAt",
    "version",
    "heldUntil",
    "ticket",
    "paymentLink",
)

#: Assignment timeout bounds and default, minutes (Ehjzny API reference, "Assignment Timeout").
ASSIGNMENT_TIMEOUT_MIN = 5
ASSIGNMENT_TIMEOUT_MAX = 180
ASSIGNMENT_TIMEOUT_DEFAULT = 120

#: Temporary hold bounds and default, minutes (Ehjzny API reference, "Create Temporary Booking",
#: ``reservedForMinutes``; the API reference gives no bounds, these are the branch's).
HOLD_MINUTES_MIN = 1
HOLD_MINUTES_MAX = 60
HOLD_MINUTES_DEFAULT = 15
