"""Table models over raw booking dicts (Vorta style: column constants, a raw-value role),
and which desk actions a booking allows (the domain rules decide, not the UI)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.domain import actions
from app.domain.model import Status, VisitStatus
from app.i18n import N_, _
from app.i18n.formats import format_number
from app.i18n.text import display_name
from ui.core import formatting as f

RawRole = Qt.ItemDataRole.UserRole + 1  # the booking dict of a row
Index = QModelIndex | QPersistentModelIndex

#: True when the booking rules accept an action on a booking now (the rules of
#: :data:`app.domain.actions.ACTIONS`).
allowed = actions.allowed


class BookingTable(QAbstractTableModel):
    """Rows of raw booking dicts; subclasses list ``COLUMNS`` (msgids) and ``text(row, col)``."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, zone: str = "UTC", types: dict | None = None, parent=None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.zone, self.types = zone, types or {}
        self.now = datetime.now().astimezone()

    def set_rows(self, rows: list[dict], zone: str, types: dict, now: datetime) -> None:
        self.beginResetModel()
        self.rows, self.zone, self.types, self.now = list(rows), zone, types, now
        self.endResetModel()

    def set_now(self, now: datetime) -> None:
        self.now = now
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.COLUMNS) - 1))

    def retranslate(self) -> None:
        """After a language or digits switch: headers and every cell are text again."""
        if self.COLUMNS:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.COLUMNS) - 1)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.COLUMNS) - 1))

    def booking(self, row: int) -> dict | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, booking_id: str) -> int:
        return next((i for i, b in enumerate(self.rows) if b["id"] == booking_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self.COLUMNS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        booking = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(booking, index.row(), index.column())
        if role == RawRole:
            return booking
        return None

    def text(self, booking: dict, row: int, column: int) -> str:
        raise NotImplementedError


class QueueModel(BookingTable):
    """The unassigned queue, oldest first: place in the line of arrival (the branch's queues are
    FIFO; a booking's ``queuePosition`` is per resource and shown in its detail), ticket,
    customer, booking type, minutes waited."""

    POSITION, TICKET, CUSTOMER, TYPE, WAITED = range(5)
    COLUMNS = (N_("#"), N_("Ticket"), N_("Customer"), N_("Type"), N_("Waited"))

    def text(self, booking: dict, row: int, column: int) -> str:
        if column == self.POSITION:
            return format_number(row + 1)
        if column == self.TICKET:
            return f.ticket_text(booking)
        if column == self.CUSTOMER:
            return f.customer_name(booking)
        if column == self.TYPE:
            return f.type_name(booking, self.types)
        return f.minutes_text(f.minutes_waited(booking, self.now))


#: Check-in filters: key → (msgid, predicate on a booking).
CHECKIN_FILTERS: dict[str, tuple[str, object]] = {
    "all": (N_("All today"), lambda b: True),
    "expected": (N_("Expected"), lambda b: not b.get("visitStatus")),
    "arrived": (N_("Arrived"), lambda b: b.get("visitStatus") == VisitStatus.CHECKED_IN),
    "in_room": (N_("In room"), lambda b: b.get("visitStatus") == VisitStatus.IN_PROGRESS),
    "done": (N_("Done"), lambda b: b.get("visitStatus") == VisitStatus.COMPLETED),
    "no_show": (N_("No-show"), lambda b: b.get("visitStatus") == VisitStatus.NO_SHOW),
}
_VISIT_ORDER = {
    VisitStatus.IN_PROGRESS: 0,
    VisitStatus.CHECKED_IN: 1,
    None: 2,
    "": 2,
    VisitStatus.COMPLETED: 3,
    VisitStatus.NO_SHOW: 4,
}


class CheckinsModel(BookingTable):
    """Today's scheduled bookings, filtered by visit state."""

    TIME, CUSTOMER, TYPE, RESOURCE, STATE = range(5)
    COLUMNS = (N_("Time"), N_("Customer"), N_("Type"), N_("With"), N_("State"))

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.filter = "all"
        self.resources: dict[str, dict] = {}
        self._all: list[dict] = []

    def set_bookings(
        self,
        rows: list[dict],
        zone: str,
        types: dict,
        resources: list[dict],
        now: datetime,
        filter_key: str | None = None,
    ) -> None:
        self.resources = {r["id"]: r for r in resources}
        self.filter = filter_key or self.filter
        self._all = [b for b in rows if b.get("status") in (Status.CONFIRMED, Status.PENDING_APPROVAL)]
        keep = CHECKIN_FILTERS[self.filter][1]
        shown = sorted(
            (b for b in self._all if keep(b)),
            key=lambda b: (_VISIT_ORDER.get(b.get("visitStatus"), 5), b.get("startDateTime") or ""),
        )
        self.set_rows(shown, zone, types, now)

    def set_filter(self, key: str) -> None:
        self.set_bookings(self._all, self.zone, self.types, list(self.resources.values()), self.now, key)

    def count(self, key: str) -> int:
        return sum(1 for b in self._all if CHECKIN_FILTERS[key][1](b))

    def text(self, booking: dict, row: int, column: int) -> str:
        if column == self.TIME:
            return f.time_of(booking.get("startDateTime"), self.zone)
        if column == self.CUSTOMER:
            return f.customer_name(booking)
        if column == self.TYPE:
            return f.type_name(booking, self.types)
        if column == self.RESOURCE:
            resource = self.resources.get(booking.get("resourceId") or "")
            return display_name(resource) if resource else ""
        return f.booking_status(booking)
