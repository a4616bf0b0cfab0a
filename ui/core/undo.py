"""Undo of the desk's last actions, through the server (never by editing local state).

Each action records the booking as it was before and the ``version`` the server gave it
after; undoing sends the inverse request on the same booking:

* reschedule (dialog or drag and drop) → reschedule back to the old date, time and resource;
* cancel → the same booking is restored (``POST /management/bookings/cancel/undo``: same
  id, time, resource and ticket);
* check-in → the check-in is taken back (the patient is "not arrived" again);
* end → the visit is reopened with its scheduled end (the branch's own: the cloud keeps an
  end it has already received).

The stack stays valid from top to bottom: an undo gives the booking back the state the
entry below it recorded, so that entry now expects the undo's new version. An entry whose
booking changed since (on another desk, or by an action that is not undoable) cannot be
undone any more: :meth:`UndoStack.prune` removes it (and the older entries of the same
booking, which would skip that change) and says why.

:class:`UndoStack` owns the ``Undo`` action (Ctrl+Z); the main window runs what
:func:`inverse` returns like any other action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from app.domain.actions import ACTIONS
from app.domain.clock import from_iso, local_date, military
from app.domain.model import Action
from app.i18n import _
from app.i18n.text import fsi
from ui.core import formatting as f
from ui.core import language
from ui.core.actions import DESK_ACTIONS

LIMIT = 50
#: the actions the desk can take back (:data:`app.domain.actions.ACTIONS` ``undone_by``)
UNDOABLE = tuple(action for action, spec in ACTIONS.items() if spec.undone_by)


@dataclass
class UndoEntry:
    kind: str  # reschedule | cancel | check_in | end
    booking: dict  # the booking before the action
    version: int | None = None  # the booking's version right after the action (None: unknown)

    @property
    def booking_id(self) -> str:
        return self.booking["id"]

    @property
    def possible(self) -> bool:
        return self.kind in UNDOABLE

    def text(self) -> str:
        name = fsi(f.customer_name(self.booking))
        return _(DESK_ACTIONS[Action(self.kind)].undo).format(name=name)

    def why_not(self) -> str:
        return ""


class UndoStack(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.entries: list[UndoEntry] = []
        #: bookings whose undo is on its way to the server (:meth:`prune` leaves them alone)
        self.busy: set[str] = set()
        self.action = QAction(_("&Undo"), self)
        self.action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self._update()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self._update()

    def record(self, kind: str, booking: dict, after: dict | None = None) -> None:
        """Record ``kind`` done on ``booking`` (as it was before the action); ``after`` is the
        server's answer (its ``version`` is what the undo expects to find)."""
        version = (after or {}).get("version")
        self.entries.append(UndoEntry(kind, dict(booking), int(version) if version is not None else None))
        del self.entries[:-LIMIT]
        self._update()

    def top(self) -> UndoEntry | None:
        return self.entries[-1] if self.entries else None

    def pop(self) -> UndoEntry | None:
        """The last entry, removed — if it can be undone."""
        entry = self.top()
        if entry is None or not entry.possible:
            return None
        self.entries.pop()
        self.busy.add(entry.booking_id)
        self._update()
        return entry

    def abandon(self, entry: UndoEntry) -> None:
        """The undo of ``entry`` (popped) did not happen; it stays off the stack."""
        self.busy.discard(entry.booking_id)

    def undone(self, entry: UndoEntry, result: dict) -> None:
        """``entry`` was undone and the server answered ``result``: the booking is now as the
        next older entry of the same booking left it, so that entry expects this version."""
        self.busy.discard(entry.booking_id)
        below = next((e for e in reversed(self.entries) if e.booking_id == entry.booking_id), None)
        if below is not None and result.get("version") is not None:
            below.version = int(result["version"])
        self._update()

    def prune(self, find: Callable[[str], dict | None]) -> list[str]:
        """Remove the entries that cannot be undone any more: for each booking, its newest
        entry expects the version it recorded, and ``find(id)`` (the desk's current view) shows
        a newer one — the booking changed since. Older entries of that booking go with it.
        Returns one message per removed booking saying why (newest first)."""
        messages, dropped = [], set()
        seen: set[str] = set()
        for entry in reversed(self.entries):
            if entry.booking_id in seen or entry.booking_id in self.busy:
                continue
            seen.add(entry.booking_id)
            current = find(entry.booking_id)
            if current is None or entry.version is None or current.get("version") is None:
                continue
            if int(current["version"]) > entry.version:  # versions only grow: older views are ignored
                dropped.add(entry.booking_id)
                messages.append(stale_message(entry))
        if dropped:
            self.entries = [e for e in self.entries if e.booking_id not in dropped]
            self._update()
        return messages

    def forget(self, booking_id: str) -> None:
        self.entries = [e for e in self.entries if e.booking_id != booking_id]
        self._update()

    def _update(self) -> None:
        entry = self.top()
        if entry is None:
            self.action.setText(_("&Undo"))
            self.action.setEnabled(False)
            self.action.setToolTip(_("Nothing to undo"))
        else:
            self.action.setText(entry.text())
            self.action.setEnabled(entry.possible)
            self.action.setToolTip(entry.why_not() or entry.text())
        self.changed.emit()


def stale_message(entry: UndoEntry) -> str:
    # Translators: status bar message: an undo was taken off the Edit menu; {action} is e.g. "Undo move of Sara".
    return _(
        "“{action}” is no longer possible: the booking has changed since (on this or another desk)"
    ).format(action=entry.text())


def failed_message(entry: UndoEntry, reason: str) -> str:
    # Translators: status bar message after Ctrl+Z failed; {reason} is the server's reason, translated.
    return _("“{action}” is no longer possible: {reason}").format(action=entry.text(), reason=reason)


def inverse(entry: UndoEntry, client, zone: str) -> tuple[Awaitable[dict], date]:
    """The request that undoes ``entry`` and the day to show afterwards."""
    before = entry.booking
    start = from_iso(before["startDateTime"]) if before.get("startDateTime") else None
    day, time = (local_date(start, zone), military(start, zone)) if start else (None, None)
    if entry.kind == Action.RESCHEDULE:
        return client.reschedule(before["id"], day, time, resource_id=before.get("resourceId")), day
    if entry.kind in UNDOABLE:
        return client.act(ACTIONS[Action(entry.kind)].undone_by, before["id"]), day
    raise ValueError(f"{entry.kind} cannot be undone")
