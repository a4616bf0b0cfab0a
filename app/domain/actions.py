"""One table of the branch's booking actions: for each :class:`~app.domain.model.Action`,
the rule that allows it, its route, the least desk role that may call it, the
``DeskClient`` / ``BookingService`` method, the attendance it records or takes back, and the
cloud operation it becomes.

The places that used to list actions one by one are built from :data:`ACTIONS`: the routes
of :mod:`app.server.api` (and their roles, :mod:`app.server.security`), the attendances of
:mod:`app.server.service`, :meth:`app.client.DeskClient.act`, the desk's enabled actions
(:func:`allowed`, used by ``ui.core.models``) and the Ehjzny connector's operations
(``ACTIONS`` of its ``connector`` module). What only the desk shows (label, shortcut, message)
is keyed by the same :class:`Action` in ``app.i18n.labels`` and ``ui.core.actions``. Adding an
action: ``docs/adding-an-action.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.domain import rules
from app.domain.errors import BookingError
from app.domain.model import Action, AttendanceKind, DeskRole

__all__ = ["ACTIONS", "ActionSpec", "allowed", "cloud_operations", "ref_actions"]

#: ``check(booking, now)``: returns when the booking rules allow the action now, else
#: raises :class:`BookingError` (the rule itself, run on a copy; nothing is written).
Check = Callable[[dict, datetime], object]


@dataclass(frozen=True)
class ActionSpec:
    """One action of :data:`ACTIONS`.

    ``check``: see :data:`Check` (None: the desk cannot tell beforehand; the server decides).
    ``plain``: ``check`` returns the booking as it must become and nothing else is needed
    (no other row to read), so ``BookingService.act`` applies it and commits; otherwise the
    service's ``method`` does the work.
    ``route``: the branch API's path ("": none of its own); ``ref_only``: its body is ``{"bookingId"}`` alone, so
    the route, the service call and the client call are generic. ``role``: the least desk
    role allowed (:class:`DeskRole`). ``method``: the name of the ``BookingService`` method,
    and of the ``DeskClient`` one. ``records``/``retracts``: the attendance the action
    writes / removes (Rekaz "Attendances" shape). ``cloud``: the operation of the cloud
    contract (the Ehjzny management API, ``docs/`` cloud contracts) a desk change becomes;
    None: the desk's own, nothing reaches the cloud. Other connectors map actions in their
    own ``plan``. ``undone_by``: the action that takes it back (the desk's Undo; a
    reschedule is undone by rescheduling back).
    """

    check: Check | None = None
    plain: bool = False
    route: str = ""
    ref_only: bool = False
    role: DeskRole = DeskRole.RECEPTION
    method: str | None = None
    records: AttendanceKind | None = None
    retracts: AttendanceKind | None = None
    cloud: str | None = None
    undone_by: Action | None = None


_BOOKINGS = "/management/bookings"

ACTIONS: dict[Action, ActionSpec] = {
    Action.CREATE: ActionSpec(route="/management/scheduling/new", method="create", cloud="create"),
    Action.HOLD: ActionSpec(route="/management/scheduling/temporary", method="hold", cloud="hold"),
    Action.CONFIRM: ActionSpec(
        route="/management/scheduling/confirm", ref_only=True, method="confirm", cloud="confirm"
    ),
    Action.RESCHEDULE: ActionSpec(
        check=lambda b, now: rules.ensure_movable(b),
        method="reschedule",
        cloud="reschedule",
        undone_by=Action.RESCHEDULE,
    ),
    Action.ACCEPT: ActionSpec(
        check=lambda b, now: rules.ensure_waiting(b),
        route=f"{_BOOKINGS}/assign",
        role=DeskRole.PROVIDER,
        method="accept",
        cloud="assign",
    ),
    Action.CANCEL: ActionSpec(
        check=lambda b, now: rules.cancel(b, "-"),
        route=f"{_BOOKINGS}/cancel",
        method="cancel",
        cloud="cancel",
        undone_by=Action.RESTORE,
    ),
    # undoing a cancel is reception's, as the cancel itself is
    Action.RESTORE: ActionSpec(
        route=f"{_BOOKINGS}/cancel/undo", ref_only=True, method="restore", cloud="restore"
    ),
    Action.CHECK_IN: ActionSpec(
        check=rules.check_in,
        plain=True,
        route=f"{_BOOKINGS}/checkin",
        ref_only=True,
        role=DeskRole.PROVIDER,
        method="check_in",
        records=AttendanceKind.CHECK_IN,
        undone_by=Action.UNDO_CHECK_IN,
    ),
    Action.UNDO_CHECK_IN: ActionSpec(
        check=lambda b, now: rules.undo_check_in(b),
        plain=True,
        route=f"{_BOOKINGS}/checkin/undo",
        ref_only=True,
        role=DeskRole.PROVIDER,
        method="undo_check_in",
        retracts=AttendanceKind.CHECK_IN,
    ),
    # start records a check-in only for a patient not checked in yet (BookingService.start)
    Action.START: ActionSpec(
        check=rules.start, route=f"{_BOOKINGS}/start", ref_only=True, role=DeskRole.PROVIDER, method="start"
    ),
    Action.END: ActionSpec(
        check=rules.end,
        plain=True,
        route=f"{_BOOKINGS}/end",
        ref_only=True,
        role=DeskRole.PROVIDER,
        method="end",
        records=AttendanceKind.CHECK_OUT,
        cloud="end",
        undone_by=Action.REOPEN,
    ),
    Action.REOPEN: ActionSpec(
        check=lambda b, now: rules.reopen(b, None, None),
        route=f"{_BOOKINGS}/end/undo",
        ref_only=True,
        role=DeskRole.PROVIDER,
        method="reopen",
        retracts=AttendanceKind.CHECK_OUT,
    ),
    Action.NO_SHOW: ActionSpec(
        check=rules.no_show,
        plain=True,
        route=f"{_BOOKINGS}/noshow",
        ref_only=True,
        role=DeskRole.PROVIDER,
        method="no_show",
    ),
    # the server's own: a walk-in past its timeout, a hold not confirmed in time
    Action.EXPIRE: ActionSpec(),
    Action.HOLD_EXPIRE: ActionSpec(),
    # a resource's working hours (PUT /management/resources/{id}/timeRules, manager desks)
    Action.TIME_RULES: ActionSpec(role=DeskRole.MANAGER, cloud="time_rules"),
    # payments and prices (app.server.payment_routes) and the sync engine's own writes
    Action.PRICE: ActionSpec(),
    Action.PAYMENT: ActionSpec(),
    Action.REFUND: ActionSpec(),
    Action.SYNC: ActionSpec(),
    Action.SYNC_MOVED: ActionSpec(),
}


def ref_actions() -> list[tuple[Action, ActionSpec]]:
    """The actions whose route takes ``{"bookingId"}`` alone (generic route and client call)."""
    return [(action, spec) for action, spec in ACTIONS.items() if spec.ref_only]


def cloud_operations() -> dict[Action, str]:
    """``{action: cloud operation}`` of the actions that reach the cloud (Ehjzny contract)."""
    return {action: spec.cloud for action, spec in ACTIONS.items() if spec.cloud}


def allowed(action: str, booking: dict | None, now: datetime) -> bool:
    """True when the booking rules accept ``action`` on ``booking`` at ``now`` (aware UTC);
    False for an action the desk cannot check beforehand or an unknown one."""
    try:
        spec = ACTIONS[Action(action)]
    except ValueError:
        return False
    if not booking or spec.check is None:
        return False
    try:
        spec.check(booking, now)
    except (BookingError, KeyError, TypeError, ValueError):
        return False
    return True
