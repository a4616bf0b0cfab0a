"""Taking a payment (or making a refund) for one booking, in one dialog.

Reached from the booking pane (*Payment…*, F9) and after ending a visit (check-out).
Keyboard only: the amount is selected on open (the balance), Alt+M picks the method
(or 1–4 on the method list), Alt+R the reference, Alt+F toggles refund, Enter takes the
payment. The dialog sends it itself (``client.take_payment``) and stays open with the
server's message when it is refused; on success it emits ``paid(payment)`` and closes.
Shown with ``open()`` (never ``exec()``: the qasync loop keeps running).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain import payments as pay
from app.domain.errors import BookingError
from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.labels import error_message
from ui.core import formatting as f
from ui.core import language
from ui.core.errors import message_for
from ui.core.tasks import Tasks
from ui.paper.receipt import ReceiptPrinter, method_label, money


def amount_text(amount: int, currency: str) -> str:
    """Minor units → the plain number a receptionist edits: ``150.00``, or ``١٥٠٫٠٠`` with
    Arabic-Indic digits (and their decimal mark, CLDR ``arab``)."""
    text = str(pay.to_major(amount, currency))
    return fmt.localize_digits(text).replace(".", "\u066b") if fmt.current_digits() == "arab" else text


class PaymentDialog(QDialog):
    """``PaymentDialog(booking, client, tasks, parent)``; ``booking`` in API shape with
    ``price``/``paid``/``balance``/``currency`` (minor units)."""

    paid = Signal(dict)  # the payment as the server recorded it (with invoiceNumber)

    def __init__(self, booking: dict, client, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.booking, self.client, self.tasks = booking, client, tasks
        self.currency = booking.get("currency") or pay.CURRENCY_DEFAULT
        self.result_payment: dict | None = None
        self.setWindowTitle(_("Payment"))
        head = " · ".join(x for x in (f.customer_name(booking), f.type_name(booking)) if x)
        self.head = QLabel(head)
        self.figures = QLabel()
        self.figures.setTextFormat(Qt.TextFormat.PlainText)
        self.refund = QCheckBox(_("Re&fund"))
        self.amount = QLineEdit()
        self.amount.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
        self.method = QComboBox()
        self.method.installEventFilter(self)
        for method in pay.METHODS:
            self.method.addItem(method_label(method), method)
        self.reference = QLineEdit()
        self.reference.setMaxLength(200)
        self.reference.setPlaceholderText(_("Card slip, transfer or link number (optional)"))
        self.reason = QLineEdit()
        self.reason.setMaxLength(500)
        self.reason.setPlaceholderText(_("Why is money returned? (required)"))
        self.print_receipt = QCheckBox(_("&Print receipt"))
        self.print_receipt.setChecked(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        form = QFormLayout()
        labels = {}
        for key, text, widget in (
            ("amount", _("&Amount"), self.amount),
            ("method", _("&Method"), self.method),
            ("reference", _("&Reference"), self.reference),
            ("reason", _("Refund rea&son"), self.reason),
        ):
            labels[key] = QLabel(text)
            labels[key].setBuddy(widget)
            form.addRow(labels[key], widget)
        self.reason_label = labels["reason"]
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        # A manager desk changes this booking's price (with a reason kept in its history).
        self.price_button = self.buttons.addButton(
            _("Change &price…"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.price_button.setAutoDefault(False)
        self.price_button.clicked.connect(self.change_price)
        self.price_dialog: PriceDialog | None = None
        layout = QVBoxLayout(self)
        for widget in (self.head, self.figures, self.refund):
            layout.addWidget(widget)
        layout.addLayout(form)
        layout.addWidget(self.print_receipt)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.refund.toggled.connect(self._mode)
        self.amount.textChanged.connect(lambda _t: self.error.clear())
        self._mode(False)
        self.resize(440, 320)

    # state -------------------------------------------------------------------------
    def _mode(self, refund: bool) -> None:
        b = self.booking
        self.ok.setText(_("Refund") if refund else _("Take payment"))
        self.reason.setVisible(refund)
        self.reason_label.setVisible(refund)
        # Translators: the figures of a booking in the payment dialog.
        self.figures.setText(
            _("Price {price} · Paid {paid} · Balance {balance}").format(
                price=money(b.get("price", 0), self.currency),
                paid=money(b.get("paid", 0), self.currency),
                balance=money(b.get("balance", 0), self.currency),
            )
        )
        suggested = b.get("paid", 0) if refund else b.get("balance", 0)
        self.amount.setText(amount_text(max(0, suggested), self.currency))
        self.amount.selectAll()
        self.amount.setFocus()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.amount.setFocus(Qt.FocusReason.OtherFocusReason)
        self.amount.selectAll()

    def amount_minor(self) -> int:
        """The typed amount in minor units, negative for a refund. Raises BookingError."""
        value = pay.parse_amount(self.amount.text(), self.currency)
        return -value if self.refund.isChecked() else value

    def method_code(self) -> str:
        return self.method.currentData()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        """1–4 on the method list choose cash, card, transfer, online."""
        if (
            watched is self.method
            and event.type() == QEvent.Type.KeyPress
            and Qt.Key.Key_1 <= event.key() < Qt.Key.Key_1 + len(pay.METHODS)
        ):
            self.method.setCurrentIndex(event.key() - Qt.Key.Key_1)
            return True
        return super().eventFilter(watched, event)

    # sending -----------------------------------------------------------------------
    def submit(self) -> None:
        try:
            amount = self.amount_minor()
            pay.check_payment(
                amount,
                self.method_code(),
                self.reason.text(),
                price=self.booking.get("price", 0),
                paid=self.booking.get("paid", 0),
                status=self.booking.get("status"),
            )
        except BookingError as exc:
            self._refused(exc)
            return
        self.ok.setEnabled(False)
        call = self.client.take_payment(
            self.booking["id"],
            amount,
            self.method_code(),
            reference=self.reference.text().strip() or None,
            reason=self.reason.text().strip() or None,
        )
        self.tasks.run(call, self._done, self._refused)

    def _refused(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        code = getattr(exc, "code", "")
        self.error.setText(error_message(code) if isinstance(exc, BookingError) else message_for(exc))
        (self.reason if code == pay.REASON_REQUIRED else self.amount).setFocus()

    def change_price(self) -> PriceDialog:
        dialog = self.price_dialog = PriceDialog(self.booking, self.client, self.tasks, self)
        dialog.changed.connect(self._repriced)
        dialog.open()
        return dialog

    def _repriced(self, booking: dict) -> None:
        self.booking = {
            **self.booking,
            **{k: booking[k] for k in ("price", "paid", "balance", "currency") if k in booking},
        }
        self._mode(self.refund.isChecked())

    def _done(self, payment: dict) -> None:
        self.result_payment = payment
        self.paid.emit(payment)
        self.accept()


class PriceDialog(QDialog):
    """A booking's own price (VAT included) with the required reason; ``PUT
    /management/bookings/{id}/price`` (manager desks; others get the server's FORBIDDEN)."""

    changed = Signal(dict)  # the booking with its new price and balance

    def __init__(self, booking: dict, client, tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.booking, self.client, self.tasks = booking, client, tasks
        self.currency = booking.get("currency") or pay.CURRENCY_DEFAULT
        self.setWindowTitle(_("Change price"))
        self.price = QLineEdit(amount_text(booking.get("price", 0), self.currency))
        self.reason = QLineEdit()
        self.reason.setMaxLength(500)
        self.reason.setPlaceholderText(_("Why does this booking cost differently? (required)"))
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        form = QFormLayout()
        for text, widget in ((_("&Price"), self.price), (_("R&eason"), self.reason)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(_("Change price"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f.customer_name(booking)))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.price.selectAll()

    def submit(self) -> None:
        try:
            price = pay.parse_amount(self.price.text(), self.currency)
        except BookingError as exc:
            self.error.setText(error_message(exc.code))
            return
        if not self.reason.text().strip():
            self.error.setText(_("A price change needs a reason."))
            self.reason.setFocus()
            return
        self.ok.setEnabled(False)
        self.tasks.run(
            self.client.set_price(self.booking["id"], price, self.reason.text().strip()),
            self._done,
            self._refused,
        )

    def _refused(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        self.error.setText(message_for(exc))

    def _done(self, booking: dict) -> None:
        self.changed.emit(booking)
        self.accept()


class PaymentDesk(QObject):
    """The main window's payments: the *Payment…* action (F9) on the selected booking, the
    dialog after a check-out that leaves a balance, and the receipt printed after a payment
    when the dialog asks for it. Messages go to the window's status bar."""

    SHORTCUT = "F9"

    def __init__(self, window):
        super().__init__(window)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.window = window
        self.dialog: PaymentDialog | None = None
        self.printer = ReceiptPrinter(window)
        self.printer.done.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.printer.failed.connect(lambda text: window.statusBar().showMessage("⚠ " + text, 15000))
        self.action = QAction(window)
        self.action.setShortcut(QKeySequence(self.SHORTCUT))
        self.action.triggered.connect(lambda _checked=False: self.open_selected())
        window.addAction(self.action)
        self.close_action = QAction(window)
        self.close_action.triggered.connect(lambda _checked=False: self.close_day())
        self.close_dialog = None
        from ui.core.menus import menu_named  # the menu bar's Booking and Day menus

        menu_named(window, _("&Booking")).addAction(self.action)
        day_menu = menu_named(window, _("&Day"))
        day_menu.addSeparator()
        day_menu.addAction(self.close_action)
        self.retranslate_ui()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.action.setText(_("&Payment…"))
        self.close_action.setText(_("C&lose the day…"))

    def close_day(self):
        """This desk's cash drawer for today (ui.dialogs.close_day); the saved count is printed."""
        from ui.dialogs.close_day import CloseDayDialog, drawer_html

        window = self.window
        dialog = CloseDayDialog(
            window.client, window.tasks, window.state.today_date(), window.state.zone, window
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "close_dialog", None))

        def saved(report: dict) -> None:
            window.statusBar().showMessage(_("The day's drawer is saved."), 8000)
            if dialog.print_report.isChecked():
                self.printer.print_markup(drawer_html(report, window.state.zone), _("Cash drawer"))

        dialog.saved.connect(saved)
        self.close_dialog = dialog
        dialog.open()
        dialog.load()
        return dialog

    def open_selected(self) -> None:
        if self.window.selected_booking:
            self.open(self.window.selected_booking)

    def open(self, booking: dict) -> PaymentDialog:
        dialog = PaymentDialog(booking, self.window.client, self.window.tasks, self.window)
        dialog.paid.connect(lambda payment: self._paid(payment, dialog.print_receipt.isChecked()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def after_checkout(self, booking: dict) -> None:
        """Check-out (the visit ended): ask for the balance, if any is left."""
        if int(booking.get("balance") or 0) > 0:
            self.open(booking)

    def _paid(self, payment: dict, print_receipt: bool) -> None:
        # Translators: status bar after a payment; {n} is the invoice number, {amount} money.
        text = (
            _("Payment taken: invoice {n}, {amount}")
            if payment["amount"] > 0
            else _("Refund made: invoice {n}, {amount}")
        )
        self.window.statusBar().showMessage(
            text.format(
                n=fmt.localize_digits(str(payment["invoiceNumber"])),
                amount=money(payment["amount"], payment["currency"]),
            ),
            8000,
        )
        self.window.refresh()
        if print_receipt:
            self.window.tasks.run(
                self.window.client.receipt(payment["id"]),
                lambda receipt: self.printer.print_receipt(receipt, self.window.state.zone),
                self.window.show_error,
            )
