"""What the desk shows for each booking action, keyed by :class:`~app.domain.model.Action`:
shortcut, the message once done, and doctor mode's button and progress text.

The domain facts of an action (its rule, route, role, client call, attendance, cloud
operation) are in :data:`app.domain.actions.ACTIONS`; the label in
``app.i18n.labels.ACTION_LABELS``. Adding an action: ``docs/adding-an-action.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.model import Action
from app.i18n import N_

__all__ = ["BOOKING_ACTIONS", "DESK_ACTIONS", "DeskAction", "PATIENT_ACTIONS"]


@dataclass(frozen=True)
class DeskAction:
    """``shortcut`` (a ``QKeySequence`` string); ``done``: the msgid shown once it went
    through (``{name}``: the patient); ``dialog``: it asks for more first (the menu entry
    ends with "…"); ``button``/``progress``: doctor mode's button (with its mnemonic) and
    the msgid shown while it runs ("" where doctor mode does not offer the action); ``undo``:
    the Edit menu's entry that takes it back (``{name}``; for the actions with ``undone_by``
    in :data:`app.domain.actions.ACTIONS`)."""

    shortcut: str
    done: str
    dialog: bool = False
    button: str = ""
    progress: str = ""
    undo: str = ""


DESK_ACTIONS: dict[Action, DeskAction] = {
    Action.ACCEPT: DeskAction("Ctrl+Shift+A", N_("Accepted: {name}"), dialog=True),
    Action.CHECK_IN: DeskAction("Ctrl+I", N_("Checked in: {name}"), undo=N_("Undo check-in of {name}")),
    Action.START: DeskAction(
        "Ctrl+G", N_("In room: {name}"), button=N_("&Start"), progress=N_("Starting the visit…")
    ),
    Action.END: DeskAction(
        "Ctrl+E",
        N_("Visit ended: {name}"),
        button=N_("&End visit"),
        progress=N_("Ending the visit…"),
        undo=N_("Undo end of visit of {name} (the visit continues)"),
    ),
    Action.NO_SHOW: DeskAction(
        "Ctrl+Shift+N", N_("No-show: {name}"), button=N_("&No-show"), progress=N_("Marking as no-show…")
    ),
    # Translators: the Edit menu's undo entry after moving a booking.
    Action.RESCHEDULE: DeskAction(
        "Ctrl+R", N_("Rescheduled: {name}"), dialog=True, undo=N_("Undo move of {name}")
    ),
    # Translators: the Edit menu's undo entry after a cancel: the same booking comes back.
    Action.CANCEL: DeskAction(
        "Ctrl+Shift+Del", N_("Canceled: {name}"), dialog=True, undo=N_("Undo cancel of {name}")
    ),
}

#: The main window's Booking menu, in order: (action, shortcut).
BOOKING_ACTIONS = tuple((action, desk.shortcut) for action, desk in DESK_ACTIONS.items())
#: Doctor mode's actions on the current patient: (action, shortcut).
PATIENT_ACTIONS = tuple((action, desk.shortcut) for action, desk in DESK_ACTIONS.items() if desk.button)
