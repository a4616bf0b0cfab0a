"""The main window's booking entries: *Booking → New booking…* (Ctrl+N, also on the
toolbar), *Find customer…* (Ctrl+F), *Accept next* (Ctrl+Enter), *Day → Go to date…*
(Ctrl+D), and the customer's card from the booking pane or the booking dialog.

``BookingDesk(window)`` adds them to a :class:`ui.windows.main.MainWindow` (reusing its
Booking and Day menus) and keeps the booking dialog (one at a time) and the cards and
dialogs it opens referenced."""

from __future__ import annotations

from datetime import date

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar, QWidget

from app.i18n import N_, _
from app.i18n.text import fsi
from ui.core import formatting as f
from ui.core.menus import DeskPart, menu_named
from ui.dialogs.booking import BookingDialog
from ui.dialogs.common import GoToDateDialog
from ui.dialogs.customer_card import CustomerCard
from ui.windows.doctor_mode import ACCEPT_NEXT_SHORTCUT

#: Day → Go to date (Ctrl+G is Start in the Booking menu).
GO_TO_DATE_SHORTCUT = "Ctrl+D"


class BookingDesk(DeskPart):
    """New bookings, customer search and cards, Accept next and Go to date (see the module
    docstring). ``booking_dialog``: the open booking dialog, or None."""

    def __init__(self, window):
        super().__init__(window)
        self.booking_dialog: BookingDialog | None = None
        style = window.style()
        self.act_new_booking = self.action(
            N_("&New booking…"),
            self.new_booking,
            "Ctrl+N",
            style.standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder),
        )
        self.act_find = self.action(N_("&Find customer…"), self.find_customer, QKeySequence.StandardKey.Find)
        self.act_accept_next = self.action(N_("&Accept next"), self.accept_next, ACCEPT_NEXT_SHORTCUT)
        self.act_go_to = self.action(N_("&Go to date…"), self.go_to_date, GO_TO_DATE_SHORTCUT)

        booking = menu_named(window, _("&Booking"))
        first = booking.actions()[0] if booking.actions() else None
        booking.insertActions(first, [self.act_new_booking, self.act_find, self.act_accept_next])
        if first is not None:
            booking.insertSeparator(first)
        menu_named(window, _("&Day")).addAction(self.act_go_to)
        toolbar = next(iter(window.findChildren(QToolBar)), None)
        if toolbar is not None:
            before = toolbar.actions()[0] if toolbar.actions() else None
            toolbar.insertAction(before, self.act_new_booking)
            toolbar.insertSeparator(before)
        detail = getattr(window, "detail", None)
        if detail is not None and hasattr(detail, "customerCardRequested"):
            detail.customerCardRequested.connect(self.open_customer_card)

    def new_booking(self) -> BookingDialog | None:
        """The booking dialog (raised and its search focused when it is open already)."""
        if self.booking_dialog is not None:
            self.booking_dialog.raise_()
            self.booking_dialog.activateWindow()
            self.booking_dialog.focus_search()
            return self.booking_dialog
        if not self.ready():
            return None
        state = self.window.state
        dialog = BookingDialog(
            self.window.client,
            state.resources,
            state.types,
            state.zone,
            state.today_date(),
            self.window,
            cloud_status=self.window.sync_desk.status.status,
        )
        dialog.booked.connect(self._booked)
        dialog.customerCardRequested.connect(lambda customer: self.open_customer_card(customer, dialog))
        dialog.printTicket.connect(lambda booking: self.window.paper.print_ticket(booking["id"]))
        dialog.finished.connect(lambda _r: setattr(self, "booking_dialog", None))
        self.booking_dialog = dialog
        self.keep(dialog)
        dialog.open()
        dialog.focus_search()
        return dialog

    def find_customer(self) -> None:
        self.new_booking()

    def open_customer_card(self, customer: dict, parent: QWidget | None = None) -> CustomerCard:
        """The customer's card over ``parent`` (the main window by default)."""
        card = CustomerCard(
            self.window.client,
            customer,
            self.window.state.zone,
            parent or self.window,
            now=self.window.state.now(),
        )
        self.keep(card)
        card.open()
        card.load()
        return card

    def go_to_date(self) -> GoToDateDialog | None:
        """Day → Go to date (Ctrl+D): a month calendar with the Hijri date beside."""
        state = self.window.state
        dialog = GoToDateDialog(state.day or state.today_date(), state.today_date(), self.window)
        dialog.accepted.connect(lambda: self.window.go_to(dialog.day()))
        self.keep(dialog)
        dialog.open()
        return dialog

    def _booked(self, booking: dict) -> None:
        w = self.window
        name = fsi(f.customer_name(booking))
        if booking.get("startDateTime"):
            text = _("Booked: {name}").format(name=name)
        else:
            # Translators: status message after a walk-in joined the queue.
            text = _("In the queue: {name}, ticket {number}").format(
                name=name, number=fsi(f.ticket_text(booking))
            )
        w.selected_id, w.selected_booking = booking["id"], booking
        day = date.fromisoformat(booking["startDate"]) if booking.get("startDate") else None
        if day is not None and day != w.state.day:
            w.go_to(day)
        else:
            w.state.put(booking)  # the reply is the booking: no refetch
        self.status(text)

    def accept_next(self) -> None:
        """Accept the longest-waiting patient (FIFO); in doctor mode, its own Accept next."""
        doctor = self.window.screens.doctor
        if doctor is not None and doctor.isVisible():
            doctor.accept_next()
            return
        waiting = self.window.state.waiting
        if not waiting:
            self.status(_("Nobody is waiting."))
            return
        first = min(waiting, key=lambda b: (b.get("createdAt") or "", b["id"]))  # FIFO: the longest wait
        self.window.run_action("accept", first["id"])
