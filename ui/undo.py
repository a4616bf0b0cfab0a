"""Undo of the desk's last actions, through the server (never by editing local state).

Each action records the booking as it was before; undoing sends the inverse request:

* reschedule (dialog or drag and drop) → reschedule back to the old date, time and resource;
* cancel → there is no un-cancel: the same customer, type, resource and time are booked
  again as a *new* booking (the undo text says so);
* check-in → the check-in is taken back (the patient is "not arrived" again);
* end → the visit is reopened with its scheduled end (the branch's own: the cloud keeps an
  end it has already received).

:class:`UndoStack` owns the ``Undo`` action (Ctrl+Z); the main window runs what
:meth:`UndoStack.inverse` returns like any other action.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from app.domain.clock import from_iso, local_date, military
from app.i18n import _
from app.i18n.text import fsi
from ui import formatting as f

LIMIT = 50
UNDOABLE = ("reschedule", "cancel", "check_in", "end")


@dataclass
class UndoEntry:
    kind: str        # reschedule | cancel | check_in | end
    booking: dict    # the booking before the action

    @property
    def possible(self) -> bool:
        return self.kind in UNDOABLE

    def text(self) -> str:
        name = fsi(f.customer_name(self.booking))
        if self.kind == "reschedule":
            # Translators: the Edit menu's undo entry after moving a booking.
            return _("Undo move of {name}").format(name=name)
        if self.kind == "cancel":
            # Translators: the Edit menu's undo entry after a cancel: it books the same slot again.
            return _("Undo cancel of {name} (books it again as a new booking)").format(name=name)
        if self.kind == "check_in":
            return _("Undo check-in of {name}").format(name=name)
        return _("Undo end of visit of {name} (the visit continues)").format(name=name)

    def why_not(self) -> str:
        return ""


class UndoStack(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.entries: list[UndoEntry] = []
        self.action = QAction(_("&Undo"), self)
        self.action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self._update()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self._update()

    def record(self, kind: str, booking: dict) -> None:
        """Record ``kind`` done on ``booking`` (as it was before the action)."""
        self.entries.append(UndoEntry(kind, dict(booking)))
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
        self._update()
        return entry

    def forget(self, booking_id: str) -> None:
        self.entries = [e for e in self.entries if e.booking["id"] != booking_id]
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


def inverse(entry: UndoEntry, client, zone: str) -> tuple[Awaitable[dict], date]:
    """The request that undoes ``entry`` and the day to show afterwards."""
    before = entry.booking
    start = from_iso(before["startDateTime"])
    day, time = local_date(start, zone), military(start, zone)
    if entry.kind == "reschedule":
        return client.reschedule(before["id"], day, time, resource_id=before.get("resourceId")), day
    if entry.kind == "cancel":
        customer_id = before.get("customerId") or (before.get("customer") or {}).get("id")
        return client.book(before["typeId"], customer_id, day, time, resource_id=before.get("resourceId"),
                           note=before.get("note")), day
    if entry.kind == "check_in":
        return client.undo_check_in(before["id"]), day
    if entry.kind == "end":
        return client.reopen(before["id"]), day
    raise ValueError(f"{entry.kind} cannot be undone")
