"""Translatable names for the domain's codes: statuses, desk actions, views and errors.

The tables hold msgids (marked with ``N_`` for extraction); the functions translate them
at call time, so a live language switch shows the new language on the next repaint.
"""

from __future__ import annotations

from app.domain import errors
from app.domain.model import Action, Status, VisitStatus
from app.i18n import N_, _, ngettext
from app.i18n.text import fsi

__all__ = [
    "ACTION_LABELS",
    "ERROR_MESSAGES",
    "HTTP_STATUS_MESSAGES",
    "STATUS_LABELS",
    "VIEW_LABELS",
    "VISIT_STATUS_LABELS",
    "action_label",
    "error_message",
    "offline_label",
    "patients_waiting",
    "status_label",
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

#: Desk actions (buttons, menu entries), keyed by :class:`~app.domain.model.Action`
#: (``"reason"``: the label of a cancel's reason).
ACTION_LABELS: dict[str, str] = {
    Action.ACCEPT: N_("Accept"),
    Action.CHECK_IN: N_("Check in"),
    Action.START: N_("Start"),
    Action.END: N_("End"),
    Action.NO_SHOW: N_("No-show"),
    Action.RESCHEDULE: N_("Reschedule"),
    Action.CANCEL: N_("Cancel booking"),
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
    errors.PROVIDER_BUSY: N_("This provider has a patient called or in the room; finish that visit first."),
    # Branch server and desk client (app/server, app/client).
    "SCH-HOLD-EXPIRED": N_("The held time has expired. Please book it again."),
    "CONFLICT": N_("The booking changed meanwhile. The view was refreshed; please try again."),
    "NETWORK": N_("The branch server did not answer. Check the connection and try again."),
    "AUTH-REQUIRED": N_("This desk is not signed in to the branch server. Pair it again."),
    "FORBIDDEN": N_("This desk's role is not allowed to do this."),
    "TOO-LARGE": N_("The request is too large."),
    "CUSTOMER-EXISTS": N_("A customer with this phone number exists already."),
    "HOST-NOT-ALLOWED": N_(
        "The branch server refused this address. Connect with the address it was set up with."
    ),
    "METHOD-NOT-ALLOWED": N_("The branch server does not support this request. Update the desk."),
    "HTTP-ERROR": N_("The branch server could not handle the request."),
    "PAIRING-FAILED": N_("The pairing code is wrong or has expired."),
    "PIN-MISMATCH": N_("The server's certificate changed during pairing. Do not trust this server."),
    "ORIGIN-NOT-ALLOWED": N_("The branch server refused a request sent from a web page."),
    "PAIRING-RATE-LIMITED": N_("Too many wrong pairing codes. Wait a moment, then try again."),
    "INTERNAL": N_("The branch server met an unexpected error. It was logged; please try again."),
    # Cloud sync (app/sync): shown in the needs-attention list.
    "NOT-SYNCED": N_("This booking is not in the cloud: the cloud refused to create it."),
    "PAGINATION-TOKEN-EXPIRED": N_("The cloud's page token expired; the sync starts the page again."),
    "PAGINATION-TOKEN-INVALID": N_("The cloud refused the page token; the sync starts the page again."),
    "AUTH-UNAUTHORIZED": N_("The cloud refused the sign-in. Check the cloud settings."),
    "AUTH-TOKEN-EXPIRED": N_("The cloud session expired. Sign in to the cloud again."),
    "AUTH-FORBIDDEN": N_("The cloud account may not do this."),
    "AUTH-OTP-INVALID": N_("The verification code is wrong or has expired."),
    "APP-ID-REQUIRED": N_("The cloud settings lack the application id."),
    "APP-ID-UNKNOWN": N_("The cloud does not know this application id. Check the cloud settings."),
    "RATE-LIMITED": N_("The cloud asks to slow down; the sync will try again shortly."),
    "SERVER-UNAVAILABLE": N_("The cloud is not available right now; the sync will try again."),
    "SCH-NO-RESOURCE": N_("No provider is available for this booking in the cloud."),
    "CLOUD-AUTH-FAILED": N_("The cloud refused the credentials. Check the key or the code and try again."),
    "CLOUD-UNREACHABLE": N_("The cloud did not answer. Check the internet connection and try again."),
    "SYNC-NOT-SENT": N_(
        "This booking is not in the cloud: the cloud needs a detail of the customer the desk does not have. Add it, then re-apply."
    ),
    "SYNC-DELETED-DURING-VISIT": N_(
        "The cloud deleted this booking after the patient arrived. It stays on the desk as it is: finish the visit, then cancel it here if it should not have happened."
    ),
    "SYNC-NOT-CONNECTED": N_("This branch is not connected to a cloud account."),
    "SYNC-DEMO-DATA": N_(
        "This branch holds the demo clinic. Connect the cloud account from a new branch: the first-run page or another data folder."
    ),
    # Payments (app.domain.payments, app.server.payments).
    "PAY-BAD-AMOUNT": N_("Type an amount greater than zero, e.g. 150 or 150.50."),
    "PAY-BAD-METHOD": N_("Choose how the patient pays."),
    "PAY-OVER-BALANCE": N_("The amount is more than the balance of this booking."),
    "PAY-REASON-REQUIRED": N_("A refund needs a reason."),
    "PAY-BOOKING-CLOSED": N_("This booking is canceled: it takes no payment. A refund is still possible."),
    "PAY-REFUND-OVER-PAID": N_("A refund cannot be more than has been paid."),
    "PAY-BAD-VAT-RATE": N_("The VAT rate must be between 0 and 100 per cent."),
    "PAY-BAD-CURRENCY": N_("This is not a currency code of three letters."),
    "PAY-CURRENCY-IN-USE": N_("The currency cannot change once payments are recorded."),
    # Cloud connectors (app.sync; Rekaz: app.sync.rekaz, names that cannot be resolved).
    "CLOUD-PROBLEM": N_("The cloud's booking could not be fully read. Check it in the cloud."),
    "NO-ANSWER": N_("The cloud did not answer; the sync will try again."),
    "QMATIC-CUSTOMER-INCOMPLETE": N_(
        "Qmatic needs the customer's first name, last name and e-mail (and the service's required answers). The booking stays on this desk and is not sent to Qmatic."
    ),
    "QMATIC-NOT-MAPPED": N_(
        "Qmatic does not know this booking's service or resource yet. Sync the reference data and try again."
    ),
    "QMATIC-HOLD-LAPSED": N_(
        "Qmatic let the reservation lapse before it was used; the sync reserves the time again."
    ),
    "QMATIC-SLOT-HELD": N_(
        "Qmatic still holds this time, most likely for an earlier try whose answer was lost; the sync tries again until the hold expires."
    ),
    "SLOT-TAKEN": N_("The cloud no longer has this time free. Choose another time."),
    "REKAZ-NOT-MAPPED": N_(
        "Rekaz does not know this booking's service, provider or customer yet. Sync the reference data and try again."
    ),
    "REKAZ-RESOURCE-UNKNOWN": N_(
        "Rekaz names a provider this branch does not know. Choose the provider for this booking."
    ),
    "REKAZ-RESOURCE-AMBIGUOUS": N_(
        "Rekaz names a provider that several providers share. Choose the provider for this booking."
    ),
    "REKAZ-TYPE-UNKNOWN": N_("Rekaz names a service this branch does not know. Check the booking's service."),
    "REKAZ-TYPE-AMBIGUOUS": N_(
        "Rekaz names a service that several services share. Check the booking's service."
    ),
    # DigitalBooker (app.sync.digitalbooker).
    "DIGITALBOOKER-NOT-MAPPED": N_(
        "DigitalBooker does not know this booking's service, worker or customer yet. Sync the reference data and try again."
    ),
    "DIGITALBOOKER-BAD-VALUE": N_("DigitalBooker cannot take this value, e.g. a payment over 99,999."),
    "DIGITALBOOKER-BOOKING-GONE": N_(
        "The booking was deleted in DigitalBooker before the new time could be sent, so it was not booked again. Book the patient again if the visit is still wanted."
    ),
    "DIGITALBOOKER-MOVE-ROLLED-BACK": N_(
        "DigitalBooker refused the new time, so the booking was put back at its old time. Choose another time."
    ),
}
#: ``HTTP-<status>`` codes (a reply without an error body): by the status's first digit.
HTTP_STATUS_MESSAGES: dict[str, str] = {
    "4": N_("The server refused the request."),
    "5": N_("The server had a problem. Please try again in a moment."),
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
    if msgid is None and code.startswith("HTTP-") and code[5:].isdigit():
        msgid = HTTP_STATUS_MESSAGES.get(code[5:6])
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
