"""The selected booking: who, what, with whom, when, its state — and what can be done."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGridLayout, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.clock import from_iso
from app.domain.model import Action
from app.i18n import N_, _, translate
from app.i18n import formats as fmt
from app.i18n.labels import STATUS_LABELS, action_label
from app.i18n.text import display_name
from ui.core import formatting as f
from ui.core import language
from ui.core.actions import DESK_ACTIONS
from ui.core.models import allowed

#: Buttons of the pane, in reading order (two rows of three).
ACTIONS = (Action.CHECK_IN, Action.START, Action.END, Action.NO_SHOW, Action.RESCHEDULE, Action.CANCEL)
#: The form's rows: (key, msgid of the label).
FIELDS = (
    ("customer", N_("Customer")),
    ("phone", N_("Phone")),
    ("type", N_("Type")),
    ("resource", N_("With")),
    ("when", N_("When")),
    ("status", N_("Status")),
    ("visit", N_("Visit")),
    ("money", N_("Payment")),
    ("note", N_("Note")),
)


class DetailPane(QGroupBox):
    actionRequested = Signal(str, str)  # action, booking id
    customerCardRequested = Signal(dict)  # the booking's customer

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.booking: dict | None = None
        #: a cloud's name → its title msgid (set from the branch's sync status)
        self.cloud_titles: dict[str, str] = {}
        self.placeholder = QLabel()
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.fields: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, _label in FIELDS:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            self.labels[key] = QLabel()
            form.addRow(self.labels[key], value)
        self.form_box = QWidget()
        self.form_box.setLayout(form)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for i, action in enumerate(ACTIONS):
            button = QPushButton()
            button.clicked.connect(lambda _checked=False, a=action: self._request(a))
            self.buttons[action] = button
            grid.addWidget(button, i // 3, i % 3)
        self.card_button = QPushButton()
        self.card_button.clicked.connect(self._request_card)
        grid.addWidget(self.card_button, 2, 0, 1, 3)
        # Take a payment or make a refund (ui.dialogs.payment); F9 in the main window.
        self.pay_button = QPushButton()
        self.pay_button.clicked.connect(lambda _checked=False: self._request("payment"))
        grid.addWidget(self.pay_button, 3, 0)
        # What happened to the booking, newest first (ui.dialogs.history); Ctrl+H in the main window.
        self.history_button = QPushButton()
        self.history_button.clicked.connect(lambda _checked=False: self._request("history"))
        grid.addWidget(self.history_button, 3, 1)
        # A cloud booking awaiting payment: its payment page as a QR code the patient scans.
        self.pay_link_qr = QLabel()
        self.pay_link_qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pay_link_text = QLabel()
        self.pay_link_text.setWordWrap(True)
        self.pay_link_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pay_link_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pay_link_link: str | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.form_box)
        layout.addWidget(self.pay_link_qr)
        layout.addWidget(self.pay_link_text)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.retranslate_ui()
        self.show_booking(None, None, "UTC", None)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """Static texts; the booking's own values come again with the next show_booking."""
        self.setTitle(_("Booking"))
        self.placeholder.setText(_("Select a booking in the calendar, the queue or the check-ins."))
        for key, label in FIELDS:
            self.labels[key].setText(_(label))
        for action, button in self.buttons.items():
            button.setText(action_label(action) + ("…" if DESK_ACTIONS[action].dialog else ""))
        self.card_button.setText(_("Customer card…"))
        self.pay_button.setText(_("Payment…"))
        self.history_button.setText(_("History…"))

    def show_booking(
        self,
        booking: dict | None,
        resource: dict | None,
        zone: str,
        now: datetime | None,
        types: dict | None = None,
    ) -> None:
        self.booking = booking
        self.placeholder.setVisible(booking is None)
        self.form_box.setVisible(booking is not None)
        for action, button in self.buttons.items():
            button.setEnabled(booking is not None and now is not None and allowed(action, booking, now))
        self.card_button.setEnabled(bool(booking and (booking.get("customer") or {}).get("id")))
        self.history_button.setEnabled(booking is not None)
        self.pay_button.setEnabled(
            booking is not None and "price" in booking and (booking["balance"] > 0 or booking["paid"] > 0)
        )
        self._show_payment_link(booking)
        if booking is None:
            return
        v: dict[str, str] = {}
        v["customer"] = f.customer_name(booking)
        v["phone"] = f.phone_of(booking) or "—"
        v["type"] = f.type_name(booking, types)
        v["resource"] = display_name(resource) if resource else _("Not assigned yet")
        if booking.get("startDateTime"):
            start = from_iso(booking["startDateTime"])
            v["when"] = f"{fmt.format_date(start, zone, 'medium')}\n{f.span_of(booking, zone)}"
        else:
            v["when"] = _("Waiting in the queue")
        status = booking.get("status") or ""
        v["status"] = _(STATUS_LABELS[status]) if status in STATUS_LABELS else status
        v["visit"] = f.booking_status(booking) if booking.get("visitStatus") else _("Not arrived yet")
        v["money"] = _money(booking, self.cloud_titles)
        note = booking.get("note") or ""
        if booking.get("cancelReason"):
            # Translators: shown in the note field of a canceled booking.
            note = (note + "\n" if note else "") + _("Cancel reason: %(reason)s") % {
                "reason": booking["cancelReason"]
            }
        v["note"] = note or "—"
        # Each line starts with the layout's direction mark, so a Latin name in the Arabic UI
        # (or an Arabic one in the English UI) keeps the form's alignment.
        mark = "\u200f" if self.layoutDirection() == Qt.LayoutDirection.RightToLeft else "\u200e"
        for key, text in v.items():
            self.fields[key].setText("\n".join(mark + line for line in text.split("\n")))

    def _show_payment_link(self, booking: dict | None) -> None:
        """The QR code of the booking's payment page while it awaits payment (Ehjzny
        ``PENDING_PAYMENT`` with ``paymentLink``, or a cloud booking with a link and a
        balance left, e.g. a Rekaz reservation's); hidden otherwise, e.g. once the cloud
        reports it paid."""
        b = booking or {}
        awaiting = b.get("status") == "PENDING_PAYMENT" or (b.get("cloud") and int(b.get("balance") or 0) > 0)
        link = b.get("paymentLink") if awaiting else None
        self.pay_link_qr.setVisible(bool(link))
        self.pay_link_text.setVisible(bool(link))
        if link == self.pay_link_link:
            return
        self.pay_link_link = link
        if link:
            from PySide6.QtGui import QPixmap

            from ui.paper.receipt import qr_png

            pixmap = QPixmap()
            pixmap.loadFromData(qr_png(link, scale=3), "PNG")
            self.pay_link_qr.setPixmap(pixmap)
            # Translators: under the QR code of a booking awaiting payment in the cloud.
            self.pay_link_text.setText(_("Awaiting payment: scan to pay") + f"\n\u2066{link}\u2069")
        else:
            self.pay_link_qr.clear()
            self.pay_link_text.clear()

    def _request(self, action: str) -> None:
        if self.booking:
            self.actionRequested.emit(action, self.booking["id"])

    def _request_card(self) -> None:
        customer = (self.booking or {}).get("customer")
        if customer and customer.get("id"):
            self.customerCardRequested.emit(customer)


def _money(booking: dict, cloud_titles: dict[str, str]) -> str:
    """``Price SAR 150.00 · Paid … · Balance …`` (minor units from the server); when a cloud
    reported money on the booking, a second line says what was paid in that cloud and what
    at the desk (local), and a price that is the cloud's says so. ``cloud_titles``: a cloud's
    name → its title msgid (from the branch's sync status), so the pane says "DigitalBooker"
    (Arabic: ديجيتال بوكر), not the connector's name."""
    if "price" not in booking:
        return "—"
    from ui.paper.receipt import money

    currency = booking.get("currency") or "SAR"
    # Translators: the booking pane's payment line.
    text = _("Price {price} · Paid {paid} · Balance {balance}").format(
        price=money(booking["price"], currency),
        paid=money(booking["paid"], currency),
        balance=money(booking["balance"], currency),
    )
    cloud = booking.get("cloud")
    if cloud:
        title = translate(cloud_titles[cloud]) if cloud in cloud_titles else cloud
        source = f"\u2068{title}\u2069"  # the cloud's title, isolated (Latin or Arabic script)
        # Translators: the booking pane, under the payment line: money a cloud booking platform
        # reports paid, and money taken at this desk (kept locally).
        text += "\n" + _("Paid in {cloud}: {cloud_paid} · Paid here (local): {local_paid}").format(
            cloud=source,
            cloud_paid=money(int(booking.get("paidCloud") or 0), currency),
            local_paid=money(int(booking.get("paidLocal") or 0), currency),
        )
        if booking.get("priceSource") == "cloud":
            # Translators: the booking pane: the price shown is the one the cloud gives.
            text += "\n" + _("Price from {cloud}").format(cloud=source)
    return text
