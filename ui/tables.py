"""A table view of booking rows (a :class:`ui.models.BookingTable`) with row selection by id."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from ui.models import BookingTable


class BookingTableView(QTableView):
    def __init__(self, model: BookingTable, stretch_column: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setModel(model)
        self.booking_model = model
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)

    def selected_booking(self) -> dict | None:
        index = self.selectionModel().currentIndex()
        return self.booking_model.booking(index.row()) if index.isValid() else None

    def selected_id(self) -> str | None:
        booking = self.selected_booking()
        return booking["id"] if booking else None

    def select_id(self, booking_id: str | None) -> bool:
        """Make the row of ``booking_id`` current; False when it is not shown."""
        row = self.booking_model.row_of(booking_id) if booking_id else -1
        if row >= 0:
            self.selectionModel().setCurrentIndex(
                self.booking_model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        return row >= 0
