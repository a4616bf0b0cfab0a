"""Small dialogs of the desk. Each is shown with ``open()`` (never ``exec()``: the qasync
loop must keep running) and reports through ``accepted`` / ``finished``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from app.i18n import formats as fmt
from app.i18n.text import display_name, fsi
from ui import formatting as f
from ui.errors import message_for
from ui.tasks import Tasks


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _title(booking: dict, zone: str) -> str:
    return " · ".join(x for x in (f.customer_name(booking), f.type_name(booking), f.span_of(booking, zone)) if x)


class AcceptDialog(QDialog):
    """Choose the resource (only those serving the booking's type) for a waiting booking."""

    def __init__(self, booking: dict, resources: list[dict], zone: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.booking = booking
        self.setWindowTitle(_("Accept booking"))
        self.list = QListWidget()
        for resource in resources:
            item = QListWidgetItem(display_name(resource))
            item.setData(Qt.ItemDataRole.UserRole, resource["id"])
            self.list.addItem(item)
        if resources:
            self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_title(booking, zone)))
        layout.addWidget(QLabel(_("Who will see this patient?")))
        layout.addWidget(self.list)
        self.buttons = _buttons(self, _("Accept"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(resources))
        layout.addWidget(self.buttons)
        self.resize(380, 320)

    def resource_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None


class CancelDialog(QDialog):
    """Ask the required reason for canceling a booking."""

    def __init__(self, booking: dict, zone: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Cancel booking"))
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(_("Why is the booking canceled? (required)"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_title(booking, zone)))
        layout.addWidget(QLabel(_("Reason")))
        layout.addWidget(self.reason_edit)
        self.buttons = _buttons(self, _("Cancel booking"))
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.reason_edit.textChanged.connect(lambda: self.ok.setEnabled(bool(self.reason().strip())))
        layout.addWidget(self.buttons)
        self.resize(420, 240)

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()


class RescheduleDialog(QDialog):
    """Pick a day, then one of the free times the server computes for it."""

    DAYS_AHEAD = 60

    def __init__(self, booking: dict, zone: str, resources: dict[str, dict], start_day: date, today: date,
                 load: Callable[[date], Awaitable[list[dict]]], tasks: Tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.booking, self.zone, self.resources, self._load, self.tasks = booking, zone, resources, load, tasks
        self.setWindowTitle(_("Reschedule"))
        self.days = QListWidget()
        weekend = fmt.weekend_days()
        for offset in range(self.DAYS_AHEAD + 1):
            day = today + timedelta(days=offset)
            item = QListWidgetItem(fmt.format_date(day, format="full"))
            item.setData(Qt.ItemDataRole.UserRole, day)
            if day.weekday() in weekend:
                item.setForeground(QColor("#9e9e9e"))
            self.days.addItem(item)
        self.days.setCurrentRow(max(0, min(self.DAYS_AHEAD, (start_day - today).days)))
        self.days.currentRowChanged.connect(lambda _row: self.reload())
        self.times = QListWidget()
        self.times.itemDoubleClicked.connect(lambda _item: self.accept())
        self.status = QLabel()
        self.status.setWordWrap(True)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel(_("Day")))
        left.addWidget(self.days, 1)
        right.addWidget(QLabel(_("Free times")))
        right.addWidget(self.times, 1)
        right.addWidget(self.status)
        row = QHBoxLayout()
        row.addLayout(left, 2)
        row.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_title(booking, zone)))
        layout.addLayout(row, 1)
        self.buttons = _buttons(self, _("Reschedule"))
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.times.currentItemChanged.connect(lambda cur, _prev: self.ok.setEnabled(cur is not None))
        layout.addWidget(self.buttons)
        self.resize(640, 440)
        self._loading_day: date | None = None

    def day(self) -> date:
        return self.days.currentItem().data(Qt.ItemDataRole.UserRole)

    def reload(self) -> None:
        day = self._loading_day = self.day()
        self.times.clear()
        self.ok.setEnabled(False)
        self.status.setText(_("Looking for free times…"))
        self.tasks.run(self._load(day), lambda slots: self._show(day, slots),
                       lambda exc: self.status.setText(message_for(exc)))

    def _show(self, day: date, slots: list[dict]) -> None:
        if day != self._loading_day:
            return
        for slot in slots:
            resource = self.resources.get(slot["resourceId"])
            text = f.time_of(slot["startDateTime"], self.zone)
            if resource:
                # Translators: a free time in the reschedule dialog: time and provider.
                text = _("{time}  —  {resource}").format(time=fsi(text), resource=fsi(display_name(resource)))
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, slot)
            self.times.addItem(item)
        self.status.setText("" if slots else _("No free time on this day."))

    def slot(self) -> dict | None:
        item = self.times.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None
