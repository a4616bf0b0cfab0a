"""Small dialogs of the desk. Each is shown with ``open()`` (never ``exec()``: the qasync
loop must keep running) and reports through ``accepted`` / ``finished``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QRegularExpression, Qt
from PySide6.QtGui import QColor, QFont, QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QApplication,
    QCalendarWidget,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.availability import working_spans
from app.domain.clock import from_iso, local_date, utc_now
from app.domain.timerules import periods_on
from app.i18n import N_, _
from app.i18n import formats as fmt
from app.i18n.text import display_name, fsi
from ui.core import formatting as f
from ui.core.errors import message_for
from ui.core.tasks import Tasks


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _title(booking: dict, zone: str, with_date: bool = False) -> str:
    when = f.span_of(booking, zone)
    if with_date and booking.get("startDateTime"):
        # Translators: a booking's date and time range in a dialog's header, e.g. "Sun, Dec 7, 2026 9:00 AM – 9:30 AM".
        when = _("{date} {times}").format(
            date=fsi(fmt.format_date(from_iso(booking["startDateTime"]), zone, "full")), times=fsi(when)
        )
    return " · ".join(x for x in (fsi(f.customer_name(booking)), fsi(f.type_name(booking)), when) if x)


def phone_line_edit(text: str = "") -> QLineEdit:
    """A phone field: digits left to right in either language, only what a phone number is
    typed with (``+``, digits, Arabic-Indic digits, spaces, brackets, dashes; at most 24)."""
    edit = QLineEdit(text)
    edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # digits read left to right
    edit.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    edit.setInputMethodHints(Qt.InputMethodHint.ImhDialableCharactersOnly)
    edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[+0-9٠-٩ ()\-]{0,24}"), edit))
    edit.setPlaceholderText("+9665…")
    return edit


def header_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A dialog's header in bold, laid out in the desk's direction whatever script the
    names in it use (a direction mark starts it; the names are isolated)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    mark = "\u200f" if QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft else "\u200e"
    label.setText(mark + text)
    return label


def _hours_text(periods: list[tuple[int, int]], day: date, zone: str) -> str:
    def hhmm(military: int) -> str:
        moment = datetime.combine(day, time(military // 100, military % 100), tzinfo=ZoneInfo(zone))
        return fmt.format_time(moment, zone)

    return ", ".join(f"\u2066{hhmm(a)}–{hhmm(b)}\u2069" for a, b in periods)


class AcceptDialog(QDialog):
    """Choose the resource (only those serving the booking's type) for a waiting booking.
    Outside the chosen resource's working hours (its time rules, branch-local) the first
    Accept only warns; Accept again confirms."""

    def __init__(
        self,
        booking: dict,
        resources: list[dict],
        zone: str,
        parent: QWidget | None = None,
        now: datetime | None = None,
    ):
        super().__init__(parent)
        self.booking, self.zone, self.now = booking, zone, now
        self.resources = {r["id"]: r for r in resources}
        self._warned_for: str | None = None
        self.setWindowTitle(_("Accept booking"))
        self.list = QListWidget()
        for resource in resources:
            item = QListWidgetItem(display_name(resource))
            item.setData(Qt.ItemDataRole.UserRole, resource["id"])
            self.list.addItem(item)
        if resources:
            self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._try_accept())
        self.list.currentItemChanged.connect(lambda _cur, _prev: self._clear_warning())
        self.header = header_label(_title(booking, zone))
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8a5a00;")
        self.warning.setVisible(False)
        question = QLabel(_("&Who will see this patient?"))
        question.setBuddy(self.list)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(question)
        layout.addWidget(self.list)
        layout.addWidget(self.warning)
        self.buttons = _buttons(self, _("Accept"))
        self.buttons.accepted.disconnect()
        self.buttons.accepted.connect(self._try_accept)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(bool(resources))
        layout.addWidget(self.buttons)
        self.resize(420, 340)

    def resource_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.focusWidget() is self.list:
            if self.ok.isEnabled():
                self._try_accept()
            event.accept()
            return
        super().keyPressEvent(event)

    def outside_hours(self) -> list[tuple[int, int]] | None:
        """None when the chosen resource works now; else its working periods today ([] = a day off)."""
        resource = self.resources.get(self.resource_id() or "")
        if resource is None:
            return None
        now = self.now or utc_now()
        today = local_date(now, self.zone)
        if any(lo <= now < hi for lo, hi in working_spans(resource.get("timeRules"), today, self.zone)):
            return None
        return periods_on(resource.get("timeRules"), today)

    def _clear_warning(self) -> None:
        self._warned_for = None
        self.warning.setVisible(False)
        self.ok.setText(_("Accept"))

    def _try_accept(self) -> None:
        resource_id = self.resource_id()
        if resource_id is None:
            return
        periods = self.outside_hours()
        if periods is not None and self._warned_for != resource_id:
            name = fsi(display_name(self.resources[resource_id]))
            if periods:
                # Translators: {hours} lists today's working hours, e.g. "9:00 AM–1:00 PM".
                text = _("{name} does not work at this time (today: {hours}). Accept anyway?").format(
                    name=name,
                    hours=_hours_text(periods, local_date(self.now or utc_now(), self.zone), self.zone),
                )
            else:
                text = _("{name} does not work today. Accept anyway?").format(name=name)
            self.warning.setText("⚠ " + text)
            self.warning.setVisible(True)
            self.ok.setText(_("Accept anyway"))
            self._warned_for = resource_id
            return
        self.accept()


#: Common reasons to cancel, offered in the cancel dialog (free text is still allowed).
CANCEL_REASONS = (
    N_("The patient asked to cancel"),
    N_("The patient is ill"),
    N_("The doctor is not available"),
    N_("Booked by mistake"),
    N_("The patient booked another time"),
)


class CancelDialog(QDialog):
    """Ask the required reason for canceling a booking: pick a common one or type one.
    Enter confirms (once a reason is given), Tab moves on, Esc closes."""

    def __init__(self, booking: dict, zone: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Cancel booking"))
        self.reason_edit = QComboBox()
        self.reason_edit.setEditable(True)
        self.reason_edit.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.reason_edit.addItems([_(r) for r in CANCEL_REASONS])
        self.reason_edit.setCurrentIndex(-1)
        self.reason_edit.lineEdit().setPlaceholderText(_("Why is the booking canceled? (required)"))
        self.reason_edit.lineEdit().setMaxLength(500)
        self.header = header_label(_title(booking, zone, with_date=True))
        reason_label = QLabel(_("&Reason:"))
        reason_label.setBuddy(self.reason_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(reason_label)
        layout.addWidget(self.reason_edit)
        hint = QLabel(_("Pick a common reason with Down or type your own; Enter confirms."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #5f6b7a;")
        layout.addWidget(hint)
        layout.addStretch(1)
        self.buttons = _buttons(self, _("&Cancel booking"))
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.ok.setDefault(True)  # Enter in the reason field confirms
        self.reason_edit.currentTextChanged.connect(lambda _t: self.ok.setEnabled(bool(self.reason())))
        layout.addWidget(self.buttons)
        self.resize(460, 240)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter in the reason confirms — never the Close button that Tab passed through
        # (Qt makes a focused auto-default button the default one until focus comes back).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.focusWidget() in (
            self.reason_edit,
            self.reason_edit.lineEdit(),
        ):
            if self.ok.isEnabled():
                self.ok.click()
            event.accept()
            return
        super().keyPressEvent(event)

    def reason(self) -> str:
        return self.reason_edit.currentText().strip()


class RescheduleDialog(QDialog):
    """Pick a day, then one of the free times the server computes for it."""

    DAYS_AHEAD = 60

    def __init__(
        self,
        booking: dict,
        zone: str,
        resources: dict[str, dict],
        start_day: date,
        today: date,
        load: Callable[[date], Awaitable[list[dict]]],
        tasks: Tasks,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.booking, self.zone, self.resources, self._load, self.tasks = (
            booking,
            zone,
            resources,
            load,
            tasks,
        )
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
        layout.addWidget(header_label(_title(booking, zone, with_date=True)))
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
        self.tasks.run(
            self._load(day),
            lambda slots: self._show(day, slots),
            lambda exc: self.status.setText(message_for(exc)),
        )

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


class GoToDateDialog(QDialog):
    """Pick a day for the calendar: a month calendar (arrows move by day, Page Up/Down by
    month; Enter or a double-click goes there) with the Hijri date of the chosen day."""

    def __init__(self, day: date, today: date, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Go to date"))
        self.calendar = QCalendarWidget()
        self.calendar.setGridVisible(True)
        self.calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        self.calendar.activated.connect(lambda _d: self.accept())
        self.hijri = QLabel()
        self.hijri.setStyleSheet("color: #5f6b7a;")
        self.calendar.selectionChanged.connect(self._show)
        self.today_button = QPushButton(_("&Today"))
        self.today_button.clicked.connect(
            lambda: self.calendar.setSelectedDate(QDate(today.year, today.month, today.day))
        )
        self.today_button.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.calendar, 1)
        row = QHBoxLayout()
        row.addWidget(self.hijri, 1)
        row.addWidget(self.today_button)
        layout.addLayout(row)
        self.buttons = _buttons(self, _("&Go"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)
        layout.addWidget(self.buttons)
        self._show()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.calendar.setFocus(Qt.FocusReason.OtherFocusReason)

    def day(self) -> date:
        d = self.calendar.selectedDate()
        return date(d.year(), d.month(), d.day())

    def _show(self) -> None:
        day = self.day()
        self.hijri.setText(f"{fmt.format_date(day, format='full')} — {f.hijri_label(day)}")
