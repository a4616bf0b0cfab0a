"""Translatable names for the domain's codes: statuses, desk actions, views and errors.

The tables hold msgids (marked with ``N_`` for extraction); the functions translate them
at call time, so a live language switch shows the new language on the next repaint.
"""

from __future__ import annotations

from app.domain import errors
from app.domain.model import Status, VisitStatus
from app.i18n import N_, _, ngettext
from app.i18n.text import fsi

__all__ = [
    "ACTION_LABELS", "ERROR_MESSAGES", "STATUS_LABELS", "VIEW_LABELS", "VISIT_STATUS_LABELS",
    "action_label", "error_message", "offline_label", "patients_waiting", "status_label",
    "view_label",
]

STATUS_LABELS: dict[str, str] = {
    Status.PENDING_APPROVAL: N_("Pending approval"),
    Status.PENDING_PAYMENT: N_("Pending payment"),
    Status.PENDING_ASSIGNMENT: N_("Waiting in queue"),
    Status.CONFIRMED: N_("Confirmed"),
    Status.CANCELED: N_("Canceled"),
    Status.REJECTED: N_("Rejected"),
}

VISIT_STATUS_LABELS: dict[str, str] = {
    VisitStatus.CHECKED_IN: N_("Checked in"),
    VisitStatus.IN_PROGRESS: N_("In room"),
    VisitStatus.COMPLETED: N_("Done"),
    VisitStatus.NO_SHOW: N_("No-show"),
}

#: Desk actions (buttons, menu entries).
ACTION_LABELS: dict[str, str] = {
    "accept": N_("Accept"),
    "check_in": N_("Check in"),
    "start": N_("Start"),
    "end": N_("End"),
    "no_show": N_("No-show"),
    "reschedule": N_("Reschedule"),
    "cancel": N_("Cancel booking"),
    "reason": N_("Reason"),
}

#: Views of the main window.
VIEW_LABELS: dict[str, str] = {
    "today": N_("Today"),
    "day": N_("Day"),
    "week": N_("Week"),
    "queue": N_("Queue"),
    "checkins": N_("Check-ins"),
}

ERROR_MESSAGES: dict[str, str] = {
    errors.ALREADY_ASSIGNED: N_("Another provider accepted this booking first."),
    errors.EXPIRED: N_("This booking has expired: its waiting time ran out."),
    errors.SLOT_TAKEN: N_("This time is no longer available. Please choose another time."),
    errors.NOT_FOUND: N_("The requested record was not found. It may have been deleted."),
    errors.VALIDATION: N_("Some of the information entered is not valid. Please check it and try again."),
    errors.INVALID_TRANSITION: N_("This action is not possible in the booking's current state."),
    errors.OUTSIDE_WORKING_HOURS: N_("This time is outside the working hours."),
    errors.TYPE_NOT_SERVED: N_("This provider does not offer this type of appointment."),
}


def status_label(status: str | None, visit_status: str | None = None) -> str:
    """The desk's word for a booking: the visit status when there is one, else the status."""
    if visit_status and visit_status in VISIT_STATUS_LABELS:
        return _(VISIT_STATUS_LABELS[visit_status])
    msgid = STATUS_LABELS.get(status or "")
    return _(msgid) if msgid else str(status or "")


def action_label(action: str) -> str:
    return _(ACTION_LABELS[action])


def view_label(view: str) -> str:
    return _(VIEW_LABELS[view])


def error_message(code: str, fallback: str | None = None) -> str:
    """A user-facing message for an API error ``code``; unknown codes name the code."""
    msgid = ERROR_MESSAGES.get(code)
    if msgid:
        return _(msgid)
    if fallback:
        return fallback
    # Translators: shown for an error code the app does not know; %(code)s is e.g. BKS-999.
    return _("Something went wrong (%(code)s).") % {"code": fsi(code)}


def patients_waiting(n: int) -> str:
    return ngettext("%(n)d patient waiting", "%(n)d patients waiting", n) % {"n": n}


def offline_label() -> str:
    return _("offline — local only")
