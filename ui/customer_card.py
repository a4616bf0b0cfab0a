"""A customer's card: name, phone, customer number, how many upcoming and past bookings
and no-shows, and the bookings themselves (upcoming first, then the past ones, newest
first). Opened from the new-booking dialog (Customer card, Alt+A) and from the booking
pane (Customer card…). The bookings come from ``client.customer_bookings`` in a task; the
card shows "Loading…" until they arrive, and the error if they do not."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.client import DeskClient
from app.domain.clock import from_iso, utc_now
from app.domain.model import Status, VisitStatus
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.formats import localize_digits
from app.i18n.text import display_name
from ui import formatting as f
from ui.dialogs import header_label
from ui.errors import message_for
from ui.tables import BidiDelegate
from ui.tasks import Tasks


def split_bookings(bookings: list[dict], now: datetime) -> tuple[list[dict], list[dict], int]:
    """``(upcoming, past, no_shows)``: upcoming = waiting or starting from ``now`` on and not
    canceled, soonest first; past = the rest, newest first; no-shows counted in the past."""
    upcoming, past = [], []
    for booking in bookings:
        start = from_iso(booking.get("startDateTime"))
        active = booking.get("status") not in (Status.CANCELED, Status.REJECTED) and booking.get("visitStatus") not in (
            VisitStatus.NO_SHOW, VisitStatus.COMPLETED)
        if active and (start is None or start >= now):
            upcoming.append(booking)
        else:
            past.append(booking)
    upcoming.sort(key=lambda b: b.get("startDateTime") or "")
    past.sort(key=lambda b: b.get("startDateTime") or "", reverse=True)
    no_shows = sum(1 for b in past if b.get("visitStatus") == VisitStatus.NO_SHOW)
    return upcoming, past, no_shows


class CustomerCard(QDialog):
    """The card of ``customer`` (a customer dict with ``id``)."""

    def __init__(self, client: DeskClient, customer: dict, zone: str, parent: QWidget | None = None,
                 now: datetime | None = None):
        super().__init__(parent)
        self.client, self.customer, self.zone = client, customer, zone
        self.now = now or utc_now()
        self.tasks = Tasks()
        self.bookings: list[dict] | None = None
        name = f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip() or _("(no name)")
        self.setWindowTitle(_("Customer card"))
        self.header = header_label(name)
        self.values: dict[str, QLabel] = {}
        form = QFormLayout()
        rows = (("phone", _("Phone")), ("number", _("Customer number")), ("upcoming", _("Upcoming bookings")),
                ("past", _("Past bookings")), ("no_shows", _("No-shows")))
        for key, label in rows:
            value = QLabel("…")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(label, value)
        phone = customer.get("phone")
        self.values["phone"].setText(f"\u2066{phone}\u2069" if phone else "—")
        number = customer.get("customerNumber")
        self.values["number"].setText(localize_digits(str(number)) if number is not None else "—")
        self.tabs = QTabWidget()
        self.upcoming_table = self._table()
        self.past_table = self._table()
        self.tabs.addTab(self.upcoming_table, _("&Upcoming"))
        self.tabs.addTab(self.past_table, _("&Past"))
        self.status = QLabel(_("Loading…"))
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(640, 480)

    def _table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setHorizontalHeaderLabels([_("When"), _("Type"), _("With"), _("State")])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setItemDelegate(BidiDelegate(table))
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def load(self) -> None:
        self.tasks.run(self.client.customer_bookings(self.customer["id"]), self._show, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText("⚠ " + message_for(exc))

    def _show(self, bookings: list[dict]) -> None:
        self.bookings = bookings
        upcoming, past, no_shows = split_bookings(bookings, self.now)
        self.values["upcoming"].setText(fmt.format_number(len(upcoming)))
        self.values["past"].setText(fmt.format_number(len(past)))
        self.values["no_shows"].setText(fmt.format_number(no_shows))
        for table, rows in ((self.upcoming_table, upcoming), (self.past_table, past)):
            table.setRowCount(len(rows))
            for row, booking in enumerate(rows):
                start = from_iso(booking.get("startDateTime"))
                when = (f"{fmt.format_date(start, self.zone, 'medium')} {f.time_of(booking['startDateTime'], self.zone)}"
                        if start else _("Waiting in the queue"))
                resource = booking.get("resource")
                cells = (when, f.type_name(booking), display_name(resource) if resource else "—",
                         f.booking_status(booking))
                for column, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(Qt.ItemDataRole.UserRole, booking["id"])
                    table.setItem(row, column, item)
            table.resizeColumnsToContents()
        self.status.setText("" if bookings else _("No bookings yet."))

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
