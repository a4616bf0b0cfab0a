"""New booking at full speed (Ctrl+N): find or create the customer, pick the type (and a
provider if it matters), take one of the next free times across resources — or put the
patient in the queue and print the ticket.

Everything works from the keyboard: the dialog opens in the customer search; Enter picks
the highlighted customer and moves on to the type; Tab walks type → provider → free times
→ buttons (Shift+Tab back); Enter on a free time books it; Alt+letter reaches every field
and button; Esc closes. The dialog shows the server's answer, never a guess: a booked
slot is reported only after the server confirmed it, and a refused one shows the
translated reason and reloads the free times."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.lists import format_list
from PySide6.QtCore import QDate, QLocale, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.client import ApiError, DeskClient
from app.domain.clock import from_iso
from app.domain.phones import digits_of as phone_digits
from app.i18n import _, translate
from app.i18n import formats as fmt
from app.i18n.text import display_name, fsi
from ui.core import formatting as f
from ui.core.errors import message_for
from ui.core.tasks import Tasks
from ui.dialogs.common import phone_line_edit
from ui.dialogs.customer_search import CustomerSearch, customer_text

SlotRole = Qt.ItemDataRole.UserRole
WANTED_SLOTS = 10
DAYS_AHEAD = 14
MAX_DAYS_AHEAD = 366  # the date picker's range from today


class DateField(QDateEdit):
    """A date field that Tab leaves (Qt's walks through day, month and year first); Up and
    Down change the day, Alt+Down (or the arrow) opens the month calendar."""

    def focusNextPrevChild(self, next_child: bool) -> bool:
        return QWidget.focusNextPrevChild(self, next_child)

    def stepBy(self, steps: int) -> None:
        """Up/Down move by one day (Page Up/Down by ten), whichever part the cursor is in."""
        self.setDate(self.date().addDays(steps))

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.date() < self.maximumDate():
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self.date() > self.minimumDate():
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


class BookingDialog(QDialog):
    """``booked`` carries the booking the server returned (a scheduled booking or a walk-in);
    ``printTicket`` asks the desk to print a walk-in's ticket."""

    booked = Signal(dict)
    printTicket = Signal(dict)

    customerCardRequested = Signal(dict)  # the chosen customer

    def __init__(
        self,
        client: DeskClient,
        resources: list[dict],
        types: dict[str, dict],
        zone: str,
        today: date,
        parent: QWidget | None = None,
        resource_id: str | None = None,
        start: datetime | None = None,
        cloud_status: dict | None = None,
    ):
        """``resource_id`` / ``start`` (aware): pre-fill the provider and the date, and pick
        that free time once the free times arrive (an empty calendar slot; as
        :meth:`book_at`). ``cloud_status``: the branch's ``/sync/status`` (its
        ``customerRequires`` and ``cloudTitle``: :meth:`book` warns before saving a booking
        whose customer the cloud cannot take)."""
        super().__init__(parent)
        self.cloud_status = cloud_status or {}
        self._warned_for: str | None = None  # the customer whose missing fields were shown
        self.client, self.zone, self.today = client, zone, today
        self.resources = {r["id"]: r for r in resources}
        self.types = types
        self.tasks = Tasks()  # no Qt parent: cancelled tasks report after this widget is gone
        self.customer: dict | None = None
        self.result_booking: dict | None = None
        self._slots_generation = 0
        self._status_about_slots = False  # the status line shows a free-times message
        self.wanted: tuple | None = None  # (resource id, aware start): a slot picked in the calendar
        self.setWindowTitle(_("New booking"))

        # customer ---------------------------------------------------------------------
        self.search = CustomerSearch(lambda text: self.client.customers(text), self.tasks)
        self.search.picked.connect(self.set_customer)
        search_label = QLabel(_("Find &customer:"))
        search_label.setBuddy(self.search.edit)
        self.chosen = QLabel()
        self.chosen.setTextFormat(Qt.TextFormat.PlainText)
        bold = QFont(self.chosen.font())
        bold.setBold(True)
        self.chosen.setFont(bold)
        self.card_button = QPushButton(_("Customer c&ard…"))
        self.card_button.setToolTip(_("The customer's upcoming and past bookings, no-shows and phone"))
        self.card_button.clicked.connect(
            lambda: self.customer and self.customerCardRequested.emit(self.customer)
        )
        self.new_button = QPushButton(_("&New customer…"))
        self.new_button.setCheckable(True)
        self.new_button.toggled.connect(self._toggle_new)

        self.new_box = QGroupBox(_("New customer"))
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.phone = phone_line_edit()
        self.email = QLineEdit()
        self.email.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.email.setInputMethodHints(Qt.InputMethodHint.ImhEmailCharactersOnly)
        self.save_customer = QPushButton(_("&Save customer"))
        self.save_customer.clicked.connect(self.create_customer)
        form = QFormLayout(self.new_box)
        for text, field in (
            (_("&First name:"), self.first_name),
            (_("&Last name:"), self.last_name),
            (_("P&hone:"), self.phone),
            (_("E-&mail:"), self.email),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
            field.returnPressed.connect(self.create_customer)
        form.addRow("", self.save_customer)
        self.new_box.setVisible(False)

        # what and when ------------------------------------------------------------------
        self.type_combo = QComboBox()
        served = {t for r in resources for t in (r.get("types") or [])}
        for booking_type in sorted(
            (t for t in types.values() if t["id"] in served and t.get("on", True) is not False),
            key=display_name,
        ):
            # Translators: a booking type in the new-booking dialog: name and length.
            text = _("{type} ({minutes})").format(
                type=display_name(booking_type), minutes=f.minutes_text(int(booking_type.get("minutes") or 0))
            )
            self.type_combo.addItem(text, booking_type["id"])
        self.resource_combo = QComboBox()
        type_label = QLabel(_("&Type:"))
        type_label.setBuddy(self.type_combo)
        resource_label = QLabel(_("&With:"))
        resource_label.setBuddy(self.resource_combo)
        self.slots = QListWidget()
        self.slots.setMinimumHeight(180)
        self.slots.itemActivated.connect(lambda _item: self.book())
        self.slots.currentItemChanged.connect(lambda _cur, _prev: self._update_buttons())
        self.date_edit = DateField()
        self.date_edit.setCalendarPopup(True)  # Alt+Down or the arrow: a month calendar
        self.date_edit.setDateRange(
            QDate(today.year, today.month, today.day),
            QDate(today.year, today.month, today.day).addDays(MAX_DAYS_AHEAD),
        )
        self.date_edit.setDate(QDate(today.year, today.month, today.day))
        self.date_edit.setDisplayFormat(QLocale().dateFormat(QLocale.FormatType.LongFormat))
        self.hijri = QLabel()
        self.hijri.setStyleSheet("color: #5f6b7a;")
        self.date_label = date_label = QLabel(_("&Date:"))
        date_label.setBuddy(self.date_edit)
        date_row = QHBoxLayout()
        date_row.addWidget(self.date_edit, 1)
        date_row.addWidget(self.hijri)
        slots_label = QLabel(_("Next free t&imes:"))
        slots_label.setBuddy(self.slots)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.book_button = QPushButton(_("&Book"))
        self.book_button.clicked.connect(self.book)
        self.queue_button = QPushButton(_("Put in &queue"))
        self.queue_button.setToolTip(_("Walk-in: the patient waits for the next free provider"))
        self.queue_button.clicked.connect(self.put_in_queue)
        self.print_button = QPushButton(_("&Print ticket"))
        self.print_button.clicked.connect(
            lambda: self.result_booking and self.printTicket.emit(self.result_booking)
        )
        self.print_button.setVisible(False)
        self.close_button = QPushButton(_("Close"))
        self.close_button.clicked.connect(self.reject)
        for button in (
            self.book_button,
            self.queue_button,
            self.print_button,
            self.close_button,
            self.new_button,
            self.save_customer,
            self.card_button,
        ):
            button.setAutoDefault(True)  # Enter on the focused button presses it…
            button.setDefault(False)  # …but Enter in a field never books by surprise

        # layout ----------------------------------------------------------------------------
        left = QVBoxLayout()
        left.addWidget(search_label)
        left.addWidget(self.search, 1)
        chosen_row = QHBoxLayout()
        chosen_row.addWidget(self.chosen, 1)
        chosen_row.addWidget(self.card_button)
        chosen_row.addWidget(self.new_button)
        left.addLayout(chosen_row)
        left.addWidget(self.new_box)
        right = QFormLayout()
        right.addRow(type_label, self.type_combo)
        right.addRow(resource_label, self.resource_combo)
        right.addRow(date_label, date_row)
        right_box = QVBoxLayout()
        right_box.addLayout(right)
        right_box.addWidget(slots_label)
        right_box.addWidget(self.slots, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addSpacing(12)
        columns.addLayout(right_box, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.book_button, self.queue_button, self.print_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(buttons)
        chain = (
            self.search.edit,
            self.search.results,
            self.card_button,
            self.new_button,
            self.first_name,
            self.last_name,
            self.phone,
            self.email,
            self.save_customer,
            self.type_combo,
            self.resource_combo,
            self.date_edit,
            self.slots,
            self.book_button,
            self.queue_button,
            self.print_button,
            self.close_button,
        )
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)
        self.resize(900, 520)

        self.type_combo.currentIndexChanged.connect(lambda _i: self._fill_resources())
        self.resource_combo.currentIndexChanged.connect(lambda _i: self.reload_slots())
        self.date_edit.dateChanged.connect(lambda _d: self._date_changed())
        self._show_customer()
        if start is not None and not resource_id:
            local = start.astimezone(ZoneInfo(zone)).date()
            self.date_edit.setDate(QDate(local.year, local.month, local.day))
        self._show_hijri()
        self._fill_resources()
        if resource_id and start is not None:
            self.book_at(resource_id, start)
        elif resource_id:
            index = self.resource_combo.findData(resource_id)
            if index >= 0:
                self.resource_combo.setCurrentIndex(index)
        self.search.edit.setFocus()

    # customer ------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.edit.setFocus()
        self.search.edit.selectAll()

    def set_customer(self, customer: dict) -> None:
        self.customer = customer
        self._show_customer()
        self.new_button.setChecked(False)
        self.type_combo.setFocus()

    def _show_customer(self) -> None:
        if self.customer:
            # Translators: the chosen customer in the new-booking dialog.
            self.chosen.setText(_("For: {customer}").format(customer=customer_text(self.customer)))
        else:
            self.chosen.setText(_("No customer chosen yet."))
        self.card_button.setEnabled(self.customer is not None)
        self._update_buttons()

    def _toggle_new(self, on: bool) -> None:
        self.new_box.setVisible(on)
        if on:
            typed = self.search.text()
            if typed and not self.first_name.text():
                digits = phone_digits(typed)
                if len(digits.lstrip("+")) >= 6 and len(digits) >= len(typed.replace(" ", "")) - 1:
                    self.phone.setText(digits)
                else:
                    first, _sep, last = typed.partition(" ")
                    self.first_name.setText(first)
                    self.last_name.setText(last)
            self.first_name.setFocus()

    def create_customer(self) -> None:
        first = self.first_name.text().strip()
        if not first:
            self._say(_("The first name is required."), error=True)
            self.first_name.setFocus()
            return
        phone = phone_digits(self.phone.text()) or None
        if phone and not 6 <= len(phone.lstrip("+")) <= 15:
            self._say(_("The phone number needs 6 to 15 digits."), error=True)
            self.phone.setFocus()
            return
        email = self.email.text().strip() or None
        self._busy(True, _("Saving the customer…"))
        self.tasks.run(
            self.client.create_customer(first, self.last_name.text().strip(), phone, email),
            self._customer_created,
            self._customer_failed,
        )

    def _customer_created(self, customer: dict) -> None:
        self._busy(False, _("Customer saved."))
        for field in (self.first_name, self.last_name, self.phone, self.email):
            field.clear()
        self.set_customer(customer)

    def _customer_failed(self, exc: BaseException) -> None:
        self._busy(False)
        if isinstance(exc, ApiError) and exc.code == "CUSTOMER-EXISTS":
            candidate = exc.details.get("candidate")
            if candidate:  # the same number typed another way (055… / +96655…): probably the same person
                from ui.dialogs.customer_search import customer_text

                # Translators: booking dialog; {customer} is e.g. "Ahmed Ali · +966551234567 · No. 1282".
                self._say(
                    _(
                        "Probably the same customer: {customer} has this phone number already;"
                        " they are shown in the list."
                    ).format(customer=customer_text(candidate)),
                    error=True,
                )
            else:
                self._say(
                    _("A customer with this phone number exists already; it is shown in the list."),
                    error=True,
                )
            self.search.edit.setText((candidate or {}).get("phone") or phone_digits(self.phone.text()))
            self.search.search_now()
            self.search.results.setFocus()
            return
        self._say(message_for(exc), error=True)

    # type, provider and free times --------------------------------------------------------
    def type_id(self) -> str | None:
        return self.type_combo.currentData()

    def resource_id(self) -> str | None:
        return self.resource_combo.currentData() or None

    def _fill_resources(self) -> None:
        type_id = self.type_id()
        self.resource_combo.blockSignals(True)
        self.resource_combo.clear()
        self.resource_combo.addItem(_("Any provider"), "")
        for resource in self.resources.values():
            if type_id in (resource.get("types") or []) and resource.get("on", True) is not False:
                self.resource_combo.addItem(display_name(resource), resource["id"])
        self.resource_combo.blockSignals(False)
        self.reload_slots()

    def day(self) -> date:
        """The chosen date (branch-local); the free times start on it."""
        d = self.date_edit.date()
        return date(d.year(), d.month(), d.day())

    def set_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def _show_hijri(self) -> None:
        self.hijri.setText(f.hijri_label(self.day()))

    def _date_changed(self) -> None:
        self._show_hijri()
        self.reload_slots()

    def reload_slots(self, keep_message: bool = False) -> None:
        """The next free times from the chosen date on (today by default), across the chosen
        provider or all serving ones, until about ``WANTED_SLOTS`` are found (at most
        ``DAYS_AHEAD`` days); fetched through ``client.free_times`` in a task."""
        self._slots_generation += 1
        generation = self._slots_generation
        self.slots.clear()
        self._update_buttons()
        type_id, resource_id = self.type_id(), self.resource_id()
        if not type_id:
            return
        if not keep_message:
            self._status_about_slots = True  # a new search: its own message replaces any
            self._say(_("Looking for free times…"), about_slots=True)

        async def load() -> list[dict]:
            found: list[dict] = []
            first = self.day()
            for offset in range(DAYS_AHEAD + 1):
                day = first + timedelta(days=offset)
                found += await self.client.free_times(type_id, day, resource_id=resource_id)
                if len(found) >= WANTED_SLOTS or generation != self._slots_generation:
                    break
            return sorted(found, key=lambda s: (s["startDateTime"], s["resourceId"]))[: WANTED_SLOTS * 2]

        self.tasks.run(
            load(),
            lambda slots: self._show_slots(generation, slots, keep_message),
            lambda exc: (
                generation == self._slots_generation
                and self._say(message_for(exc), error=True, about_slots=True)
            ),
        )

    def _show_slots(self, generation: int, slots: list[dict], keep_message: bool = False) -> None:
        if generation != self._slots_generation:
            return
        self.slots.clear()
        for slot in slots:
            day = date.fromisoformat(slot["date"])
            when = f.time_of(slot["startDateTime"], self.zone)
            if day == self.today:
                # Translators: a free time today in the new-booking dialog, e.g. "Today 10:30 AM".
                when = _("Today {time}").format(time=fsi(when))
            elif day == self.today + timedelta(days=1):
                when = _("Tomorrow {time}").format(time=fsi(when))
            else:
                when = f"{fmt.format_date(day, format='EEE d MMM')} {fsi(when)}"
            resource = self.resources.get(slot["resourceId"])
            text = (
                _("{time}  —  {resource}").format(time=fsi(when), resource=fsi(display_name(resource)))
                if resource
                else when
            )
            item = QListWidgetItem(text)
            item.setData(SlotRole, slot)
            self.slots.addItem(item)
        if slots:
            self.slots.setCurrentRow(0)
            if not keep_message:
                self._say("", about_slots=True)
            if self.wanted is not None:  # a slot picked in the calendar: looked for once
                resource_id, start = self.wanted
                self.wanted = None
                row = next(
                    (
                        i
                        for i, slot in enumerate(slots)
                        if slot["resourceId"] == resource_id and from_iso(slot["startDateTime"]) == start
                    ),
                    None,
                )
                if row is not None:
                    self.slots.setCurrentRow(row)
                else:
                    self._say(_("That time is not free; the next free times are listed."), about_slots=True)
        else:
            if self.day() == self.today:
                self._say(
                    _("No free time in the next two weeks. Put the patient in the queue instead?"),
                    about_slots=True,
                )
            else:
                # Translators: {date} is the date chosen in the new-booking dialog.
                self._say(
                    _("No free time in the two weeks from {date}.").format(
                        date=fsi(fmt.format_date(self.day(), format="medium"))
                    ),
                    about_slots=True,
                )
        self._update_buttons()

    def book_at(self, resource_id: str, start) -> None:
        """Pre-fill a slot picked in the calendar: that resource (and a booking type it serves),
        the free times from that day on, and the slot at ``start`` (an aware datetime) chosen
        if it is free."""
        from zoneinfo import ZoneInfo

        served = (self.resources.get(resource_id) or {}).get("types") or []
        if self.type_id() not in served:
            index = next(
                (i for i in range(self.type_combo.count()) if self.type_combo.itemData(i) in served), -1
            )
            if index >= 0:
                self.type_combo.setCurrentIndex(index)
        index = self.resource_combo.findData(resource_id)
        if index >= 0:
            self.resource_combo.blockSignals(True)
            self.resource_combo.setCurrentIndex(index)
            self.resource_combo.blockSignals(False)
        self.wanted = (resource_id, start)
        day = max(self.today, start.astimezone(ZoneInfo(self.zone)).date())
        if day != self.day():
            self.set_day(day)  # the date picker reloads the free times from that day on
        else:
            self.reload_slots()

    def slot(self) -> dict | None:
        item = self.slots.currentItem()
        return item.data(SlotRole) if item else None

    # actions ----------------------------------------------------------------------------
    def _update_buttons(self, busy: bool = False) -> None:
        has_customer = self.customer is not None and not busy
        self.book_button.setEnabled(has_customer and self.slot() is not None)
        self.queue_button.setEnabled(has_customer and bool(self.type_id()))
        self.save_customer.setEnabled(not busy)

    def _busy(self, busy: bool, message: str | None = None) -> None:
        self._update_buttons(busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)
        if message is not None:
            self._say(message)

    def _say(self, text: str, error: bool = False, about_slots: bool = False) -> None:
        """Show ``text`` in the dialog's status line. A message ``about_slots`` (the free-times
        search) never replaces one about something else the user did meanwhile (a refused
        customer, a probable duplicate): the search finishes in the background."""
        if about_slots and self.status.text() and not self._status_about_slots:
            return
        self._status_about_slots = about_slots
        self.status.setStyleSheet("color: #b3261e;" if error else "color: #3c4650;")
        self.status.setText(("⚠ " + text) if error and text else text)

    def book(self) -> None:
        slot, type_id = self.slot(), self.type_id()
        if not self.customer:
            self._say(_("Choose or create the customer first."), error=True)
            self.search.edit.setFocus()
            return
        if not slot or not type_id or not self.book_button.isEnabled():
            return
        if self._warn_cloud_fields():
            return
        self._busy(True, _("Booking…"))
        self.tasks.run(
            self.client.book(
                type_id,
                self.customer["id"],
                date.fromisoformat(slot["date"]),
                int(slot["time"]),
                resource_id=slot["resourceId"],
            ),
            self._booked,
            self._failed,
        )

    def missing_for_cloud(self) -> list[str]:
        """The fields the branch's cloud requires that the chosen customer lacks."""
        if not self.cloud_status.get("connected") or not self.customer:
            return []
        return [
            k
            for k in self.cloud_status.get("customerRequires") or ()
            if not str(self.customer.get(k) or "").strip()
        ]

    def _warn_cloud_fields(self) -> bool:
        """Warn once per customer, before saving, when the cloud cannot take the booking
        (contract of a cloud such as Qmatic: first name, last name and e-mail); True when
        the warning was shown now (the next Book saves anyway: the booking stays on the
        desk and waits in Needs attention)."""
        missing = self.missing_for_cloud()
        if not missing or self._warned_for == self.customer.get("id"):
            return False
        self._warned_for = self.customer.get("id")
        names = {
            "firstName": _("first name"),
            "lastName": _("last name"),
            "email": _("e-mail"),
            "phone": _("phone number"),
        }
        # Translators: booking dialog, before saving; {cloud} is e.g. "Qmatic", {fields} e.g. "e-mail".
        self._say(
            _(
                "{cloud} needs the customer's {fields}: this booking will stay on the desk and wait in "
                "Needs attention. Book again to save it anyway."
            ).format(
                cloud=translate(self.cloud_status.get("cloudTitle") or self.cloud_status.get("cloud") or ""),
                fields=format_list([names.get(k, k) for k in missing], locale=fmt.babel_locale()),
            ),
            error=True,
        )
        return True

    def _with_customer(self, booking: dict) -> dict:
        """The server's answer carries the customer's id only: add the customer chosen here,
        so "Booked: …" names a customer created a moment ago."""
        if (
            not booking.get("customer")
            and self.customer
            and booking.get("customerId") == self.customer.get("id")
        ):
            booking = {**booking, "customer": self.customer}
        return booking

    def _booked(self, booking: dict) -> None:
        self._busy(False)
        booking = self._with_customer(booking)
        self.result_booking = booking
        self.booked.emit(booking)
        self.accept()

    def put_in_queue(self) -> None:
        type_id = self.type_id()
        if not self.customer:
            self._say(_("Choose or create the customer first."), error=True)
            self.search.edit.setFocus()
            return
        if not type_id or not self.queue_button.isEnabled():
            return
        self._busy(True, _("Putting in the queue…"))
        self.tasks.run(self.client.walk_in(type_id, self.customer["id"]), self._queued, self._failed)

    def _queued(self, booking: dict) -> None:
        self._busy(False)
        booking = self._with_customer(booking)
        self.result_booking = booking
        self.booked.emit(booking)
        number = f.ticket_text(booking)
        # Translators: after a walk-in joined the queue; {number} is the ticket number.
        self._say(_("In the queue with ticket {number}. Print the ticket?").format(number=fsi(number)))
        self.print_button.setVisible(True)
        self.print_button.setFocus()
        self.book_button.setEnabled(False)
        self.queue_button.setEnabled(False)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._say(message_for(exc), error=True)
        if isinstance(exc, ApiError) and exc.code not in ("NETWORK",):
            self.reload_slots(keep_message=True)  # the slot may be gone: show what is free now

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # QDialog presses its default button on Enter; here Enter in a field only does what
        # that field says (pick a customer, book a free time), and on a button presses it.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not isinstance(
            self.focusWidget(), QPushButton
        ):
            event.accept()
            return
        super().keyPressEvent(event)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
