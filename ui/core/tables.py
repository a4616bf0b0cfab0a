"""A table view of booking rows (a :class:`ui.core.models.BookingTable`) with row selection by id."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyledItemDelegate, QTableView, QWidget

from app.i18n.text import first_strong
from ui.core.models import BookingTable


class BidiDelegate(QStyledItemDelegate):
    """Each cell laid out in its own text's direction (``docs/architecture.md``, "Pitfalls"): a Latin name, ``39 mins``
    or ``Ahmed (VIP)`` in the Arabic table keeps its order and punctuation, an Arabic name
    in the English table too; the column keeps the table's alignment."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        direction = first_strong(option.text)
        table_rtl = option.direction == Qt.LayoutDirection.RightToLeft
        if direction is None or (direction == "rtl") == table_rtl:
            return
        option.direction = (
            Qt.LayoutDirection.RightToLeft if direction == "rtl" else Qt.LayoutDirection.LeftToRight
        )
        side = Qt.AlignmentFlag.AlignRight if table_rtl else Qt.AlignmentFlag.AlignLeft
        option.displayAlignment = side | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter


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
        self.setItemDelegate(BidiDelegate(self))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)

    def selected_booking(self) -> dict | None:
        index = self.selectionModel().currentIndex()
        return self.booking_model.booking(index.row()) if index.isValid() else None

    def selected_id(self) -> str | None:
        booking = self.selected_booking()
        return booking["id"] if booking else None

    def show_selection(self, booking_id: str | None) -> bool:
        """Show the window's one selection: the row of ``booking_id`` selected, or no row at all
        when it is not in this table (never another row). False when it is not shown."""
        if self.select_id(booking_id):
            return True
        self.selectionModel().clear()
        return False

    def select_id(self, booking_id: str | None) -> bool:
        """Make the row of ``booking_id`` current; False when it is not shown."""
        row = self.booking_model.row_of(booking_id) if booking_id else -1
        if row >= 0:
            self.selectionModel().setCurrentIndex(
                self.booking_model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
        return row >= 0
