"""The unassigned queue: who waits, for what, for how long; Accept picks the resource."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.i18n import _
from app.i18n.formats import localize_digits
from app.i18n.labels import patients_waiting
from ui.core import language
from ui.core.models import QueueModel
from ui.core.tables import BookingTableView


class QueuePanel(QWidget):
    acceptRequested = Signal(str)  # booking id
    printRequested = Signal(str)  # booking id: print its queue ticket
    bookingSelected = Signal(str)  # booking id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.model = QueueModel()
        self._selection: str | None = None  # the window's selection (one for the whole window)
        self._quiet = False
        self.table = BookingTableView(self.model, QueueModel.CUSTOMER)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(lambda _index: self._accept())
        self.summary = QLabel()
        self.accept_button = QPushButton()
        self.accept_button.clicked.connect(self._accept)
        self.accept_button.setEnabled(False)
        self.print_button = QPushButton()
        self.print_button.clicked.connect(
            lambda: (bid := self.table.selected_id()) and self.printRequested.emit(bid)
        )
        self.print_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.accept_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.retranslate_ui()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.accept_button.setText(_("Accept…"))
        self.accept_button.setToolTip(_("Assign the selected patient to a provider"))
        self.print_button.setText(_("Print &ticket"))
        self.print_button.setToolTip(_("Print the selected patient's queue ticket"))
        self.model.retranslate()
        self.summary.setText(localize_digits(patients_waiting(len(self.model.rows))))

    def set_waiting(self, rows: list[dict], zone: str, types: dict, now: datetime) -> None:
        self.model.set_rows(rows, zone, types, now)
        self.summary.setText(localize_digits(patients_waiting(len(rows))))
        self.show_selection(self._selection)

    def show_selection(self, booking_id: str | None) -> None:
        """Show the window's selection (its row, or none) without announcing it back."""
        self._selection = booking_id
        self._quiet = True
        try:
            shown = self.table.show_selection(booking_id)
        finally:
            self._quiet = False
        self.accept_button.setEnabled(shown)
        self.print_button.setEnabled(shown)

    def selected_id(self) -> str | None:
        return self.table.selected_id()

    def select(self, booking_id: str) -> bool:
        return self.table.select_id(booking_id)

    def _current_changed(self, current, _previous) -> None:
        booking = self.model.booking(current.row()) if current.isValid() else None
        self.accept_button.setEnabled(booking is not None)
        self.print_button.setEnabled(booking is not None)
        if booking and not self._quiet:
            self._selection = booking["id"]
            self.bookingSelected.emit(booking["id"])

    def _accept(self) -> None:
        booking_id = self.table.selected_id()
        if booking_id:
            self.acceptRequested.emit(booking_id)
