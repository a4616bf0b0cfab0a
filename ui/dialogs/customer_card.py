"""A customer's card: name, phone, customer number, how many upcoming and past bookings
and no-shows, and the bookings themselves (upcoming first, then the past ones, newest
first). Opened from the new-booking dialog (Customer card, Alt+A) and from the booking
pane (Customer card…). The bookings come from ``client.customer_bookings`` in a task; the
card shows "Loading…" until they arrive, and the error if they do not. *Edit* (Alt+E)
corrects the name, phone, e-mail or note (``client.update_customer``); the change stays on
this branch, and a customer the cloud has too is said to keep the cloud's copy as it was."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.client import ApiError, DeskClient
from app.domain.clock import from_iso, utc_now
from app.domain.model import Status, VisitStatus
from app.domain.phones import digits_of
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.formats import localize_digits
from app.i18n.text import display_name
from ui.core import formatting as f
from ui.core.errors import message_for
from ui.core.tables import BidiDelegate
from ui.core.tasks import Tasks
from ui.dialogs.common import header_label, phone_line_edit


def split_bookings(bookings: list[dict], now: datetime) -> tuple[list[dict], list[dict], int]:
    """``(upcoming, past, no_shows)``: upcoming = waiting or starting from ``now`` on and not
    canceled, soonest first; past = the rest, newest first; no-shows counted in the past."""
    upcoming, past = [], []
    for booking in bookings:
        start = from_iso(booking.get("startDateTime"))
        active = booking.get("status") not in (Status.CANCELED, Status.REJECTED) and booking.get(
            "visitStatus"
        ) not in (VisitStatus.NO_SHOW, VisitStatus.COMPLETED)
        if active and (start is None or start >= now):
            upcoming.append(booking)
        else:
            past.append(booking)
    upcoming.sort(key=lambda b: b.get("startDateTime") or "")
    past.sort(key=lambda b: b.get("startDateTime") or "", reverse=True)
    no_shows = sum(1 for b in past if b.get("visitStatus") == VisitStatus.NO_SHOW)
    return upcoming, past, no_shows


class CustomerEdit(QDialog):
    """Correct ``customer``'s first and last name, phone, e-mail and note. Saves through
    ``client.update_customer`` in a task (the dialog stays responsive, *Save* is disabled
    meanwhile); a refusal (a phone another customer has, an empty first name) is shown in
    the dialog and nothing is lost. ``saved(customer)`` carries the stored customer."""

    saved = Signal(dict)

    def __init__(self, client: DeskClient, customer: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.client, self.customer = client, customer
        self.tasks = Tasks()
        self.setWindowTitle(_("Edit customer"))
        self.first_name = QLineEdit(customer.get("firstName") or "")
        self.last_name = QLineEdit(customer.get("lastName") or "")
        self.phone = phone_line_edit(customer.get("phone") or "")
        self.email = QLineEdit(customer.get("email") or "")
        self.email.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.note = QPlainTextEdit(customer.get("note") or "")
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(80)
        form = QFormLayout()
        for text, field in (
            (_("&First name:"), self.first_name),
            (_("&Last name:"), self.last_name),
            (_("P&hone:"), self.phone),
            (_("E-&mail:"), self.email),
            (_("&Note:"), self.note),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        clouds = sorted((customer.get("cloudIds") or {}).keys())
        self.cloud_note = QLabel(
            _(
                "This customer is also in the cloud booking system. The change is kept on"
                " this branch; the cloud's copy stays as it is."
            )
            if clouds
            else ""
        )
        self.cloud_note.setWordWrap(True)
        self.cloud_note.setVisible(bool(clouds))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(_("&Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.cloud_note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.first_name.setFocus()

    def changes(self) -> dict:
        """The fields that differ from the customer as opened (``""``: cleared)."""
        typed = {
            "firstName": self.first_name.text().strip(),
            "lastName": self.last_name.text().strip(),
            "phone": digits_of(self.phone.text()),
            "email": self.email.text().strip(),
            "note": self.note.toPlainText().strip(),
        }
        was = {k: (self.customer.get(k) or "") for k in typed}
        was["phone"] = digits_of(was["phone"])
        return {k: v for k, v in typed.items() if v != was[k]}

    def save(self) -> None:
        changes = self.changes()
        if "firstName" in changes and not changes["firstName"]:
            self._say(_("The first name is required."))
            self.first_name.setFocus()
            return
        phone = changes.get("phone")
        if phone and not 6 <= len(phone.lstrip("+")) <= 15:
            self._say(_("The phone number needs 6 to 15 digits."))
            self.phone.setFocus()
            return
        if not changes:
            self.accept()
            return
        self.buttons.setEnabled(False)
        self._say(_("Saving the customer…"), error=False)
        self.tasks.run(self.client.update_customer(self.customer["id"], **changes), self._saved, self._failed)

    def _saved(self, customer: dict) -> None:
        self.buttons.setEnabled(True)
        self.saved.emit(customer)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, ApiError) and exc.code == "CUSTOMER-EXISTS" and exc.details.get("candidate"):
            from ui.dialogs.customer_search import customer_text

            # Translators: editing a customer; {customer} is e.g. "Ahmed Ali · +966551234567 · No. 1282".
            self._say(
                _(
                    "{customer} has this phone number already. Check the number, or book that"
                    " customer instead."
                ).format(customer=customer_text(exc.details["candidate"]))
            )
            self.phone.setFocus()
            return
        self._say(message_for(exc))

    def _say(self, text: str, error: bool = True) -> None:
        self.message.setText(("⚠ " if error else "") + text)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


class CustomerCard(QDialog):
    """The card of ``customer`` (a customer dict with ``id``)."""

    def __init__(
        self,
        client: DeskClient,
        customer: dict,
        zone: str,
        parent: QWidget | None = None,
        now: datetime | None = None,
    ):
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
        rows = (
            ("phone", _("Phone")),
            ("number", _("Customer number")),
            ("upcoming", _("Upcoming bookings")),
            ("past", _("Past bookings")),
            ("no_shows", _("No-shows")),
        )
        for key, label in rows:
            value = QLabel("…")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(label, value)
        self._show_customer(customer)
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
        self.edit_button = QPushButton(_("&Edit…"))
        self.edit_button.setToolTip(_("Correct the name, phone, e-mail or note"))
        self.edit_button.clicked.connect(self.edit)
        buttons.addButton(self.edit_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.editor: CustomerEdit | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(640, 480)

    def _show_customer(self, customer: dict) -> None:
        self.customer = customer
        name = f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip() or _("(no name)")
        rtl = QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
        self.header.setText(("\u200f" if rtl else "\u200e") + name)  # as header_label lays it out
        phone = customer.get("phone")
        self.values["phone"].setText(f"\u2066{phone}\u2069" if phone else "—")
        number = customer.get("customerNumber")
        self.values["number"].setText(localize_digits(str(number)) if number is not None else "—")

    def edit(self) -> CustomerEdit:
        """Open the edit form over the card (non-blocking); the card shows what was saved."""
        self.editor = CustomerEdit(self.client, self.customer, self)
        self.editor.saved.connect(self._show_customer)
        self.editor.open()
        return self.editor

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
                when = (
                    f"{fmt.format_date(start, self.zone, 'medium')} {f.time_of(booking['startDateTime'], self.zone)}"
                    if start
                    else _("Waiting in the queue")
                )
                resource = booking.get("resource")
                cells = (
                    when,
                    f.type_name(booking),
                    display_name(resource) if resource else "—",
                    f.booking_status(booking),
                )
                for column, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(Qt.ItemDataRole.UserRole, booking["id"])
                    table.setItem(row, column, item)
            table.resizeColumnsToContents()
        self.status.setText("" if bookings else _("No bookings yet."))

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
