"""Find a customer as you type: name (Arabic or English), phone digits or customer number.

A 200 ms debounce turns keystrokes into one ``client.customers(search)`` call; an answer
to an older query is dropped, so the list always matches the text in the field. Enter in
the field picks the highlighted result (the first one unless the user moved); Down moves
into the list, Enter there picks too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.i18n import _
from app.i18n.formats import localize_digits
from app.i18n.text import fsi
from ui.core.errors import message_for
from ui.core.tasks import Tasks

DEBOUNCE_MS = 200
CustomerRole = Qt.ItemDataRole.UserRole


def customer_text(customer: dict) -> str:
    """``Ahmed Ali · ‪+966…‬ · No. 1282`` (phone left to right inside any sentence)."""
    name = f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip() or _("(no name)")
    parts = [fsi(name)]
    if customer.get("phone"):
        parts.append(f"\u2066{customer['phone']}\u2069")
    if customer.get("customerNumber") is not None:
        # Translators: a customer's number in the search results, e.g. "No. 1282".
        parts.append(_("No. {number}").format(number=localize_digits(str(customer["customerNumber"]))))
    return " · ".join(parts)


class CustomerSearch(QWidget):
    """A search field over a result list; ``picked`` carries the chosen customer dict."""

    picked = Signal(dict)
    searching = Signal(bool)

    def __init__(
        self, search: Callable[[str], Awaitable[list[dict]]], tasks: Tasks, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self._search, self.tasks = search, tasks
        self._generation = 0
        self._in_flight = False
        self._pick_pending = False  # Enter came before the answer: pick when it arrives
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(_("Name, phone or customer number"))
        self.edit.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setMinimumHeight(120)
        self.status = QLabel()
        self.status.setStyleSheet("color: #5f6b7a;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.search_now)
        self.edit.textEdited.connect(lambda _text: self.timer.start())
        self.edit.returnPressed.connect(self._pick_current)
        self.edit.installEventFilter(self)
        self.results.itemActivated.connect(lambda item: self.picked.emit(item.data(CustomerRole)))
        self.setFocusProxy(self.edit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.count():
                row = self.results.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
                self.results.setCurrentRow(max(0, min(self.results.count() - 1, row)))
                return True
        return super().eventFilter(watched, event)

    def text(self) -> str:
        return self.edit.text().strip()

    def search_now(self) -> None:
        self.timer.stop()
        text = self.text()
        self._generation += 1
        generation = self._generation
        if not text:
            self._in_flight = self._pick_pending = False
            self.results.clear()
            self.status.setText("")
            return
        self.status.setText(_("Searching…"))
        self._in_flight = True
        self.searching.emit(True)
        self.tasks.run(
            self._search(text),
            lambda rows: self._show(generation, rows),
            lambda exc: self._failed(generation, exc),
        )

    def _show(self, generation: int, rows: list[dict]) -> None:
        if generation != self._generation:
            return  # an answer to an older query
        self._in_flight = False
        self.searching.emit(False)
        self.results.clear()
        for customer in rows:
            item = QListWidgetItem(customer_text(customer))
            item.setData(CustomerRole, customer)
            self.results.addItem(item)
        if rows:
            self.results.setCurrentRow(0)
            self.status.setText(_("Enter picks the highlighted customer."))
            if self._pick_pending:
                self._pick_pending = False
                self.picked.emit(rows[0])
        else:
            self.status.setText(_("No customer found. Create a new one below."))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._in_flight = self._pick_pending = False
            self.searching.emit(False)
            self.status.setText("⚠ " + message_for(exc))

    def _pick_current(self) -> None:
        if self.timer.isActive() or self._in_flight:  # Enter before the answer: pick on arrival
            self._pick_pending = bool(self.text())
            if self.timer.isActive():
                self.search_now()
            return
        item = self.results.currentItem()
        if item is not None:
            self.picked.emit(item.data(CustomerRole))
