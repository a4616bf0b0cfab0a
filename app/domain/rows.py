"""The rows the store, the branch API, the sync engine and the desk pass around, typed.

Rows stay plain dicts at run time (JSON in, JSON out); these ``TypedDict`` s name their keys
and value types for readers and for the type checker. Keys are the Ehjzny names of the
contract ("Objects", see :mod:`app.domain.model`); a row read from the store has every key
of its table, a row on its way in may lack some, so every class is ``total=False``.

Times: every ``...DateTime`` / ``...At`` value is UTC, ISO-8601 with ``Z``
(``2026-11-21T09:30:00Z``). Durations are whole minutes.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Translations(TypedDict, total=False):
    """A name in each language of the desk (``{"en": ..., "ar": ...}``)."""

    en: str
    ar: str


class BookingRow(TypedDict, total=False):
    """One booking (table ``bookings``; :data:`app.domain.model.BOOKING_FIELDS` in the API)."""

    #: local ULID, stable for the booking's life (also across reschedule)
    id: str
    #: one of :class:`app.domain.model.Status` (Ehjzny booking status)
    status: str
    #: one of :class:`app.domain.model.VisitStatus`, or None (not arrived yet)
    visitStatus: str | None
    #: UTC start; None while the booking waits unassigned in a queue
    startDateTime: str | None
    #: UTC end; None while unassigned
    endDateTime: str | None
    #: minutes (the booking type's ``minutes`` unless ended early)
    duration: int
    typeId: str
    #: None while unassigned
    resourceId: str | None
    customerId: str
    note: str | None
    cancelReason: str | None
    #: the walk-in's ticket number for the branch-local day, or None
    queueNumber: int | None
    #: the ticket as called and printed, prefix + number (``A001``; :mod:`app.domain.tickets`), or None
    ticket: str | None
    #: minutes an unassigned booking may wait (5..180) before it is REJECTED
    assignmentTimeout: int | None
    #: UTC visit times, or None
    checkedInAt: str | None
    startedAt: str | None
    endedAt: str | None
    createdAt: str
    updatedAt: str
    #: UTC end of a temporary hold (Ehjzny "Create Temporary Booking"), None once confirmed;
    #: a hold past it no longer occupies its slot
    heldUntil: str | None
    #: +1 on every change (events and sync compare it)
    version: int
    #: the cloud's payment page (URL) of a booking awaiting payment (Ehjzny
    #: ``PENDING_PAYMENT``, ``payment.paymentLink``), or None
    paymentLink: str | None
    #: stored, not in the API: where it was made, ``desk``, ``walk-in`` or ``cloud``
    #: (:mod:`app.domain.reports`)
    source: str


class CustomerRow(TypedDict, total=False):
    """One customer (table ``customers``)."""

    id: str
    firstName: str
    lastName: str | None
    #: E.164 (:mod:`app.domain.phones`); a number that could not be read is kept as typed
    phone: str | None
    email: str | None
    note: str | None
    #: branch-unique
    customerNumber: int
    #: the name and phone normalised for search (:mod:`app.i18n.search`)
    searchText: str
    createdAt: str
    #: ``{cloud: cloud id}`` on rows read with their cloud ids (``{}`` when none)
    cloudIds: dict[str, str]


class ResourceRow(TypedDict, total=False):
    """A doctor or room (table ``resources``)."""

    id: str
    name: str
    name_translations: Translations
    category: str | None
    #: the booking type ids it serves
    types: list[str]
    on: bool
    activated: bool
    #: working hours (:mod:`app.domain.availability`)
    timeRules: dict[str, Any] | None
    #: ``#rrggbb`` or None
    color: str | None
    sortOrder: int | None
    cloudIds: dict[str, str]


class BookingTypeRow(TypedDict, total=False):
    """A booking type (table ``types``)."""

    id: str
    name: str
    name_translations: Translations
    #: the booking's length
    minutes: int
    #: buffers before and after, minutes
    leaveMinutesBefore: int
    leaveMinutesAfter: int
    #: ``#rrggbb``
    color: str
    #: decimal string ``d+.dd``
    price: str | None
    autoConfirm: bool
    on: bool
    #: one or two letters (:mod:`app.domain.tickets`)
    ticketPrefix: str | None
    cloudIds: dict[str, str]


class OutboxPayload(TypedDict, total=False):
    """What the desk did: the booking before and after the change, and who did it; for a
    working-hours edit, the resource and its new ``timeRules`` (``after``)."""

    before: BookingRow | None
    after: BookingRow | dict[str, Any]
    #: the resource whose working hours changed (time-rule operations only)
    resourceId: str
    #: who did it (the desk's user and desk), as the change listeners get it
    actor: dict[str, Any] | None
    #: the operation makes the booking in the cloud (a create, or a reschedule by re-creating)
    creates: bool


class OutboxOp(TypedDict, total=False):
    """One local change still to be sent to a cloud (table ``sync_outbox``, :mod:`app.sync.outbox`),
    written in the same transaction as the change."""

    #: orders one booking's operations
    seq: int
    #: the operation id, reused on every retry
    id: str
    cloud: str
    #: the local booking, or ``resource:<id>`` for a working-hours edit
    bookingId: str
    #: the cloud operation (:data:`app.sync.outbox.CLOUD_ACTIONS`)
    action: str
    payload: OutboxPayload
    #: the booking fields it sends (None: all the connector syncs)
    fields: list[str] | None
    createdAt: str
    attempts: int
    #: UTC time of the next try
    nextAttemptAt: str | None
    #: UTC, set (and committed) just before a create/reschedule is sent, so a retry knows to
    #: look the booking up first
    requestedAt: str | None
    lastError: str | None
    #: JSON step state of a multi-step operation (:mod:`app.sync.connector`)
    steps: dict[str, Any] | None
