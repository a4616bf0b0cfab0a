"""A booking's history as a person reads it: the booking pane's *History…* and
*Booking → Booking history…* (Ctrl+H) open :class:`HistoryDialog` on the selected booking.

Each entry of ``client.history`` (the server's audit history: the desk's own actions, the
sync engine's writes and a cloud's own ``history[]`` entries copied by the connector,
``docs/clouds/agendize.md`` "History") becomes one line, newest first: when (the branch's
zone, Babel), what happened in words ("Rescheduled from 10:00 AM to 10:30 AM", "Checked
in", "Canceled: the patient called"), and who ("Reception 1", "the client, online
(Agendize)"). :func:`history_lines` does the wording without Qt. The dialog fetches in a
task (the GUI thread never waits) and fetches again when a live event names its booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.client import DeskClient
from app.domain.clock import from_iso
from app.domain.model import Action
from app.i18n import N_, _
from app.i18n import formats as fmt
from app.i18n.labels import STATUS_LABELS, VISIT_STATUS_LABELS
from app.i18n.text import display_name, fsi
from ui.core import formatting as f
from ui.core.errors import message_for
from ui.core.tables import BidiDelegate
from ui.core.tasks import Tasks
from ui.dialogs.common import header_label

#: the cloud platforms' names as they are written (a product name, not translated)
CLOUD_TITLES = {
    "ehjzny": "Ehjzny",
    "rekaz": "Rekaz",
    "agendize": "Agendize",
    "digitalbooker": "DigitalBooker",
    "qmatic": "Qmatic",
}

#: the server's history actions that read the same every time (both spellings of the
#: actions the branch server renamed)
ACTION_WORDS: dict[str, str] = {
    "create": N_("Booking made"),
    "hold": N_("Held as a temporary booking"),
    "confirm": N_("Booking confirmed"),
    "restore": N_("Cancel undone: the booking is back"),
    "checkin": N_("Checked in"),
    "check_in": N_("Checked in"),
    "undo-checkin": N_("Check-in undone"),
    "undo_check_in": N_("Check-in undone"),
    "start": N_("Visit started (in the room)"),
    "end": N_("Visit ended"),
    "reopen": N_("End undone: the visit goes on"),
    "noshow": N_("No-show"),
    "no_show": N_("No-show"),
    "expire": N_("Rejected: waited longer than the assignment timeout"),
    "hold.expire": N_("Temporary booking expired: not confirmed in time"),
    "time_rules": N_("Working hours changed"),
}

#: a cloud's own history entry (``cloud.<type>``; Agendize API reference, "history[].type") → words
CLOUD_WORDS: dict[str, str] = {
    "booked": N_("Booking made"),
    "pending": N_("Requested, waiting for acceptance"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "in_progress": N_("Visit started (in the room)"),
    "started": N_("Visit started (in the room)"),
    "completed": N_("Visit ended"),
    "finished": N_("Visit ended"),
    "no_show": N_("No-show"),
    "user_deleted": N_("Canceled"),
    "client_deleted": N_("Canceled"),
    "archived": N_("Archived"),
    "payment": N_("Payment recorded"),
    "changed_end": N_("End time changed"),
    "changed_service": N_("Booking type changed"),
    "rescheduled": N_("Rescheduled"),
    "rescheduled_changed_start": N_("Rescheduled to a new time"),
    "rescheduled_changed_staff": N_("Provider changed"),
    "rescheduled_changed_resource": N_("Room changed"),
    "rescheduled_changed_client": N_("Customer changed"),
    "rescheduled_changed_note": N_("Note changed"),
    "rescheduled_changed_field": N_("Details changed"),
}


@dataclass(frozen=True)
class HistoryLine:
    """One line of the history view: ``at`` (UTC), ``what`` and ``who`` in the desk's language."""

    at: datetime | None
    what: str
    who: str


def cloud_title(name: str | None) -> str:
    name = str(name or "")
    return CLOUD_TITLES.get(name.lower(), name[:1].upper() + name[1:])


def history_lines(
    entries: list[dict], zone: str, resources: dict[str, dict] | None = None, currency: str = "SAR"
) -> list[HistoryLine]:
    """The history entries of ``client.history`` (``{"createdAt" (UTC), "action", "actor",
    "deskId", "before", "after"}``) as lines, newest first. A cloud entry that a pull's own
    entry carries (``after.cloudChange.key``) is shown once, as that pull's change;
    ``resources``: id → resource, to name a provider; amounts are minor units of
    ``currency``."""
    carried = {
        (e.get("after") or {}).get("cloudChange", {}).get("key")
        for e in entries
        if isinstance((e.get("after") or {}).get("cloudChange"), dict)
    }
    out: list[tuple[str, int, HistoryLine]] = []
    for order, entry in enumerate(entries):
        after = entry.get("after") or {}
        if str(entry.get("action") or "").startswith("cloud.") and after.get("cloudKey") in carried:
            continue
        change = after.get("cloudChange") if isinstance(after.get("cloudChange"), dict) else None
        at = (change or {}).get("at") or entry.get("createdAt")
        line = HistoryLine(
            from_iso(at) if at else None, _what(entry, zone, resources or {}, currency), _who(entry, change)
        )
        out.append((at or "", order, line))
    out.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [line for _at, _order, line in out]


def when_text(line: HistoryLine, zone: str) -> str:
    return fmt.format_datetime(line.at, zone, "medium", "short") if line.at else ""


# what ---------------------------------------------------------------------------------
def _what(entry: dict, zone: str, resources: dict, currency: str) -> str:
    action = str(entry.get("action") or "")
    before, after = entry.get("before") or {}, entry.get("after") or {}
    if action in ACTION_WORDS:
        return _(ACTION_WORDS[action])
    if action == "reschedule":
        return _moved(before, after, zone, resources) or _("Rescheduled")
    if action == "accept":
        resource = resources.get(after.get("resourceId") or "")
        if resource:
            # Translators: a history line; {resource} is the doctor or room.
            return _("Accepted for {resource}").format(resource=fsi(display_name(resource)))
        return _("Accepted")
    if action == "cancel":
        return _cancelled(after.get("cancelReason"))
    if action in ("payment", "refund"):
        from ui.paper.receipt import money

        amount = int(after.get("paid") or 0) - int(before.get("paid") or 0)
        if action == "refund":
            # Translators: a history line; {amount} is e.g. "SAR 50.00".
            return _("Refund of {amount}").format(amount=fsi(money(abs(amount), currency)))
        # Translators: a history line; {amount} is e.g. "SAR 150.00".
        return _("Payment of {amount}").format(amount=fsi(money(amount, currency)))
    if action == "price":
        from ui.paper.receipt import money

        # Translators: a history line: a manager set this booking's own price, with a reason.
        return _("Price set to {price}: {reason}").format(
            price=fsi(money(int(after.get("price") or 0), currency)),
            reason=fsi(after.get("priceReason") or ""),
        )
    if action == Action.SYNC_MOVED:
        resource = resources.get(after.get("resourceId") or "")
        # Translators: a history line; the cloud booking platform put the booking with
        # another doctor or room than the desk chose.
        return _("Placed with {resource} by {cloud}").format(
            resource=fsi(display_name(resource) if resource else _("another provider")),
            cloud=fsi(cloud_title(entry.get("actor"))),
        )
    if action == Action.SYNC:
        return _synced(entry, zone, resources)
    if action.startswith("cloud."):
        return _cloud_words(action[len("cloud.") :], entry)
    # Translators: a history line of an action this desk has no words for.
    return _("Changed")


def _cloud_words(kind: str, entry: dict) -> str:
    for prefix in ("user_", "client_"):
        if kind.startswith(prefix) and kind[len(prefix) :] in CLOUD_WORDS and kind not in CLOUD_WORDS:
            kind = kind[len(prefix) :]
    if kind in CLOUD_WORDS:
        return _(CLOUD_WORDS[kind])
    # Translators: a history line: a change a cloud booking platform recorded that the desk
    # has no words for; {cloud} is e.g. "Agendize".
    return _("Changed in {cloud}").format(cloud=fsi(cloud_title(entry.get("actor"))))


def _cancelled(reason: str | None) -> str:
    if reason:
        # Translators: a history line; {reason} is the reason given for the cancel.
        return _("Canceled: {reason}").format(reason=fsi(reason))
    return _("Canceled")


def _moved(before: dict, after: dict, zone: str, resources: dict) -> str:
    """``Rescheduled from 10:00 AM to 10:30 AM`` (dates too when the day changed), then the
    new provider when it changed; "" when no time or provider changed."""
    old, new = from_iso(before.get("startDateTime")), from_iso(after.get("startDateTime"))
    parts = []
    if old and new and old != new:
        if fmt.format_date(old, zone) == fmt.format_date(new, zone):
            start, end = fmt.format_time(old, zone), fmt.format_time(new, zone)
        else:
            start, end = (
                fmt.format_datetime(old, zone, "medium", "short"),
                fmt.format_datetime(new, zone, "medium", "short"),
            )
        # Translators: a history line; {start} and {end} are the old and the new time.
        parts.append(_("Rescheduled from {start} to {end}").format(start=fsi(start), end=fsi(end)))
    elif new and not old:
        parts.append(
            _("Booked for {time}").format(time=fsi(fmt.format_datetime(new, zone, "medium", "short")))
        )
    if "resourceId" in after and after.get("resourceId") != before.get("resourceId"):
        resource = resources.get(after.get("resourceId") or "")
        if resource:
            # Translators: a history line: the booking went to another doctor or room.
            parts.append(_("now with {resource}").format(resource=fsi(display_name(resource))))
    return " · ".join(parts)


def _synced(entry: dict, zone: str, resources: dict) -> str:
    """A pull's change in words, from the fields it changed."""
    before, after = entry.get("before") or {}, entry.get("after") or {}
    change = after.get("cloudChange") if isinstance(after.get("cloudChange"), dict) else {}
    parts = []
    moved = _moved(before, after, zone, resources)
    if moved:
        parts.append(moved)
    status = after.get("status")
    if "status" in after and status != before.get("status") and status:
        if status == "CANCELED":
            reason = after.get("cancelReason")
            if change.get("type") == "deleted" and not reason:
                # Translators: a history line: the cloud booking platform no longer has the booking.
                reason = _("deleted in {cloud}").format(cloud=fsi(cloud_title(entry.get("actor"))))
            parts.append(_cancelled(reason))
        elif status in STATUS_LABELS:
            parts.append(_(STATUS_LABELS[status]))
    visit = after.get("visitStatus")
    if "visitStatus" in after and visit != before.get("visitStatus") and visit in VISIT_STATUS_LABELS:
        parts.append(_(VISIT_STATUS_LABELS[visit]))
    if after.get("message"):
        parts.append(fsi(str(after["message"])))
    if parts:
        return " · ".join(parts)
    if change.get("type"):
        return _cloud_words(str(change["type"]), entry)
    # Translators: a history line: a pull from the cloud changed details of the booking.
    return _("Details updated from {cloud}").format(cloud=fsi(cloud_title(entry.get("actor"))))


# who ----------------------------------------------------------------------------------
def _who(entry: dict, change: dict | None) -> str:
    action = str(entry.get("action") or "")
    actor = entry.get("actor")
    if action.startswith("cloud."):
        return _cloud_who(entry.get("after") or {}, actor)
    if action in (Action.SYNC, Action.SYNC_MOVED):
        return _cloud_who(change, actor) if change else fsi(cloud_title(actor))
    if actor == "system":
        # Translators: a history line's "who": the branch server itself (e.g. a timeout).
        return _("The branch server")
    if actor:
        return fsi(str(actor))
    desk = entry.get("deskId")
    if desk in (None, "", "local"):
        # Translators: a history line's "who": the desk on the computer that runs the branch server.
        return _("This computer's desk")
    # Translators: a history line's "who": a paired desk, by its id.
    return _("Desk {desk}").format(desk=fsi(str(desk)))


def _cloud_who(change: dict, actor) -> str:
    """Who acted in the cloud: "the client, online (Agendize)", "Sara Ali, Agendize
    dashboard", "through the Agendize API (this branch's key)"."""
    cloud = fsi(cloud_title(actor))
    by, channel, user = change.get("by"), change.get("channel"), change.get("user")
    if by == "api" or channel == "api":
        # Translators: a history line's "who": the change was made through the cloud's API with
        # this branch's key (how this desk's own changes come back from the cloud).
        return _("Through the {cloud} API (this branch's key)").format(cloud=cloud)
    if by == "client":
        if channel == "online":
            # Translators: a history line's "who": the patient changed it on the booking website.
            return _("The client, online ({cloud})").format(cloud=cloud)
        return _("The client ({cloud})").format(cloud=cloud)
    if channel == "dashboard":
        if user:
            # Translators: a history line's "who": a staff member in the cloud's dashboard.
            return _("{user}, {cloud} dashboard").format(user=fsi(str(user)), cloud=cloud)
        return _("Staff, {cloud} dashboard").format(cloud=cloud)
    if by == "staff":
        return _("Staff ({cloud})").format(cloud=cloud)
    return cloud


# the dialog ---------------------------------------------------------------------------
class HistoryDialog(QDialog):
    """The history of one booking, newest first, in a table (When, What, Who). Loads in a
    task; :meth:`on_events` loads again when an event names the booking."""

    COLUMNS = (N_("When"), N_("What happened"), N_("Who"))

    def __init__(
        self,
        booking: dict,
        client: DeskClient,
        zone: str,
        resources: dict[str, dict] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.booking, self.client, self.zone = booking, client, zone
        self.resources = resources or {}
        self.tasks = Tasks(self)
        self.entries: list[dict] | None = None
        self.error: str | None = None
        self.header = header_label("", self)
        self.status = QLabel(self)
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setItemDelegate(BidiDelegate(self.table))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 420)
        self.retranslate_ui()
        from ui.core import language

        language.follow(self)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        # Translators: the title of a booking's history window.
        self.setWindowTitle(_("Booking history"))
        self.header.setText(
            _("History of {customer}'s booking").format(customer=fsi(f.customer_name(self.booking)))
        )
        self.table.setHorizontalHeaderLabels([_(c) for c in self.COLUMNS])
        self._fill()

    def load(self) -> None:
        """Fetch the history (in a task); the table fills when it arrives."""
        if self.entries is None:
            self.status.setText(_("Loading…"))
        self.tasks.run(self.client.history(self.booking["id"]), self._loaded, self._failed)

    def on_events(self, events: list[dict]) -> None:
        """Live events: load again when one is about this booking (or asks for a refetch)."""
        mine = self.booking["id"]
        for event in events:
            data = event.get("data") or {}
            ids = {data.get("bookingId"), (data.get("booking") or {}).get("id")}
            if event.get("type") == "resync" or mine in ids:
                self.load()
                return

    def lines(self) -> list[HistoryLine]:
        return history_lines(
            self.entries or [], self.zone, self.resources, self.booking.get("currency") or "SAR"
        )

    def _loaded(self, entries: list[dict]) -> None:
        self.entries, self.error = list(entries or []), None
        self._fill()

    def _failed(self, exc: BaseException) -> None:
        self.error = message_for(exc)
        self._fill()

    def _fill(self) -> None:
        if self.error:
            self.status.setText("⚠ " + self.error)
        elif self.entries is not None:
            self.status.setText("" if self.entries else _("Nothing recorded yet."))
        self.status.setVisible(bool(self.status.text()))
        if self.entries is None:
            return
        lines = self.lines()
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            for column, text in enumerate((when_text(line, self.zone), line.what, line.who)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()


class HistoryDesk(QObject):
    """The main window's *Booking → Booking history…* (Ctrl+H) and the booking pane's
    *History…*: one history dialog at a time, on the selected booking, following the
    window's live events."""

    SHORTCUT = "Ctrl+H"

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dialog: HistoryDialog | None = None
        self.action = QAction(window)
        self.action.setShortcut(QKeySequence(self.SHORTCUT))
        self.action.triggered.connect(lambda _checked=False: self.open_selected())
        from ui.core.menus import menu_named as _menu  # the menu bar's Booking menu

        _menu(window, _("&Booking")).addAction(self.action)
        window.events_applied.connect(self._events)
        self.retranslate_ui()
        from ui.core import language

        language.follow(self)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.action.setText(_("Booking &history…"))

    def open_selected(self) -> HistoryDialog | None:
        if self.window.selected_booking:
            return self.open(self.window.selected_booking)
        return None

    def open(self, booking: dict) -> HistoryDialog:
        if self.dialog is not None:
            self.dialog.close()
        w = self.window
        dialog = HistoryDialog(booking, w.client, w.state.zone, {r["id"]: r for r in w.state.resources}, w)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(
            lambda _r, d=dialog: setattr(self, "dialog", None) if self.dialog is d else None
        )
        self.dialog = dialog
        dialog.open()
        dialog.load()
        return dialog

    def _events(self, events: list) -> None:
        if self.dialog is not None:
            self.dialog.on_events(events)
