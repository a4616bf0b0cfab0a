"""Today's check-ins: expected, arrived, in room, done — with the actions each state allows."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QPushButton, QVBoxLayout, QWidget

from app.domain.model import Action
from app.i18n import _
from app.i18n.formats import format_number
from app.i18n.labels import action_label
from ui.core import language
from ui.core.models import CHECKIN_FILTERS, CheckinsModel, allowed
from ui.core.tables import BookingTableView

ACTIONS = (Action.CHECK_IN, Action.START, Action.END, Action.NO_SHOW)


class CheckinsPanel(QWidget):
    actionRequested = Signal(str, str)  # action, booking id
    bookingSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.model = CheckinsModel()
        self._selection: str | None = None  # the window's selection (one for the whole window)
        self._quiet = False
        self.now: datetime | None = None
        self.filter = QComboBox()
        for key in CHECKIN_FILTERS:
            self.filter.addItem("", key)
        self.filter.currentIndexChanged.connect(self._filter_changed)
        self.table = BookingTableView(self.model, CheckinsModel.CUSTOMER)
        for column in (CheckinsModel.TYPE, CheckinsModel.RESOURCE, CheckinsModel.STATE):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for action in ACTIONS:
            button = QPushButton()
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, a=action: self._request(a))
            self.buttons[action] = button
            row.addWidget(button)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        self.retranslate_ui()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        for action, button in self.buttons.items():
            button.setText(action_label(action))
        self.model.retranslate()
        self._label_filters()

    def set_bookings(
        self, rows: list[dict], zone: str, types: dict, resources: list[dict], now: datetime
    ) -> None:
        self.now = now
        self.model.set_bookings(rows, zone, types, resources, now)
        self._label_filters()
        self._reselect(self._selection)

    def show_selection(self, booking_id: str | None) -> None:
        """Show the window's selection (its row, or none) without announcing it back."""
        self._selection = booking_id
        self._reselect(booking_id)

    def _label_filters(self) -> None:
        for i in range(self.filter.count()):
            key = self.filter.itemData(i)
            # Translators: a check-in filter and how many bookings it shows, e.g. "Arrived (3)".
            self.filter.setItemText(
                i,
                _("{label} ({count})").format(
                    label=_(CHECKIN_FILTERS[key][0]), count=format_number(self.model.count(key))
                ),
            )

    def _reselect(self, booking_id: str | None) -> None:
        self._quiet = True
        try:
            self.table.show_selection(booking_id)
        finally:
            self._quiet = False
        self._update_buttons()

    def selected(self) -> dict | None:
        return self.table.selected_booking()

    def selected_id(self) -> str | None:
        return self.table.selected_id()

    def select(self, booking_id: str) -> bool:
        return self.table.select_id(booking_id)

    def set_filter(self, key: str) -> None:
        self.filter.setCurrentIndex(self.filter.findData(key))

    def _filter_changed(self, _index: int) -> None:
        self.model.set_filter(self.filter.currentData())
        self._reselect(self._selection)

    def _current_changed(self, current, _previous) -> None:
        self._update_buttons()
        booking = self.selected()
        if booking and not self._quiet:
            self._selection = booking["id"]
            self.bookingSelected.emit(booking["id"])

    def _update_buttons(self) -> None:
        booking = self.selected()
        for action, button in self.buttons.items():
            button.setEnabled(bool(self.now) and allowed(action, booking, self.now))

    def _request(self, action: str) -> None:
        booking_id = self.selected_id()
        if booking_id:
            self.actionRequested.emit(action, booking_id)
