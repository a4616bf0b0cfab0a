"""Doctor mode: a desk set to one provider (``--provider RESOURCE_ID`` or View → Doctor
mode…). It shows the provider's day and queue, a large "Accept next" (position 1 of the
provider's queue), and Start / End / No-show for the current patient.

It follows the server's live events on its own stream and applies the bookings and queue
positions they carry (:mod:`app.client.live`, debounced); it refetches only for an event
it cannot apply (a ``resync``, another day). When a patient joins the provider's empty queue,
or one of the provider's patients is checked in, the doctor is told: a system-tray
message when the platform has a tray, else a banner in the window, and a beep
(``QApplication.beep()``; PySide6-Essentials has no QtMultimedia)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app.client import ApiError, DeskClient
from app.client.live import REFETCH, LiveDay, LiveQueues
from app.domain import errors as domain_errors
from app.domain.clock import local_date, utc_now
from app.domain.model import Action, EventType, Status, VisitStatus
from app.domain.queue import called_to
from app.i18n import _
from app.i18n.formats import localize_digits
from app.i18n.labels import action_label, patients_waiting
from app.i18n.text import display_name, fsi
from ui.core import formatting as f
from ui.core import language
from ui.core.actions import DESK_ACTIONS, PATIENT_ACTIONS
from ui.core.errors import message_for
from ui.core.live_events import LiveEvents
from ui.core.models import CheckinsModel, QueueModel, allowed
from ui.core.tables import BookingTableView
from ui.core.tasks import Tasks

log = logging.getLogger(__name__)
DEBOUNCE_MS = 150
BANNER_MS = 10_000
ACTIVE_VISITS = (None, "", VisitStatus.CHECKED_IN, VisitStatus.IN_PROGRESS)

ACCEPT_NEXT_SHORTCUT = "Ctrl+Return"


class ResourcePicker(QDialog):
    """Which provider is this desk? (opened with ``open()``; Enter or double-click picks)."""

    def __init__(self, resources: list[dict], current: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Doctor mode"))
        self.list = QListWidget()
        for resource in resources:
            item = QListWidgetItem(display_name(resource))
            item.setData(Qt.ItemDataRole.UserRole, resource["id"])
            # Translators: tooltip of a provider in the doctor-mode picker: its id (for --provider).
            item.setToolTip(_("Id: {id}").format(id=fsi(resource["id"])))
            self.list.addItem(item)
            if resource["id"] == current:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and resources:
            self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        label = QLabel(_("&Which provider works at this desk?"))
        label.setBuddy(self.list)
        ok, cancel = QPushButton(_("&Open")), QPushButton(_("Close"))
        ok.clicked.connect(self.accept)
        cancel.clicked.connect(self.reject)
        # Translators: copies the chosen provider's id (for --provider) to the clipboard.
        self.copy_button = QPushButton(_("&Copy id"))
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_id)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(ok)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.resize(360, 380)

    def resource_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def copy_id(self) -> None:
        """Put the chosen provider's id on the clipboard (for ``--provider`` or a script)."""
        if self.resource_id():
            QApplication.clipboard().setText(self.resource_id())


class DoctorMode(QMainWindow):
    """One provider's desk. ``refreshed`` after every applied refetch; ``notified(title, text)``."""

    refreshed = Signal()
    notified = Signal(str, str)

    def __init__(
        self,
        client: DeskClient,
        resource: dict,
        zone: str,
        types: dict[str, dict],
        branch: dict | None = None,
        parent: QWidget | None = None,
        follow_events: bool = True,
    ):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.client, self.resource, self.zone, self.types, self.branch = (
            client,
            resource,
            zone,
            types,
            branch or {},
        )
        self.resource_id = resource["id"]
        self.tasks = Tasks()  # no Qt parent: cancelled tasks report after this widget is gone
        self.tasks.failed.connect(self.show_error)
        self.queue_rows: list[dict] = []
        self.day_rows: list[dict] = []
        self.current_id: str | None = None
        self.notifications: list[tuple[str, str]] = []
        self.loaded = False
        self._acting = False  # an action runs: its buttons stay disabled, the cursor is busy
        self._queue_count: int | None = None
        self._live_day: LiveDay | None = None  # the day and queue as the events keep them
        self._live_queue: LiveQueues | None = None
        self.live = LiveEvents(
            client,
            self._apply_events,
            self,
            debounce_ms=DEBOUNCE_MS,
            on_event=self.on_event,
            name="doctor mode",
        )
        self._follow = follow_events
        self.tray: QSystemTrayIcon | None = None
        self.setWindowTitle(_("Doctor mode — {provider}").format(provider=display_name(resource)))

        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.title = QLabel(display_name(resource))
        self.title.setFont(big)
        self.title.setToolTip(_("Id: {id}").format(id=fsi(resource["id"])))
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.date_label = QLabel()
        self.date_label.setStyleSheet("color: #5f6b7a;")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setStyleSheet(
            "background: #fff4ce; color: #4a3b00; border: 1px solid #e0c060;"
            " border-radius: 4px; padding: 8px; font-weight: bold;"
        )
        self.banner_timer = QTimer(self)
        self.banner_timer.setSingleShot(True)
        self.banner_timer.timeout.connect(lambda: self.banner.setVisible(False))

        self.accept_next_button = QPushButton(_("&Accept next"))
        huge = QFont(big)
        huge.setPointSizeF(big.pointSizeF() * 1.2)
        self.accept_next_button.setFont(huge)
        self.accept_next_button.setMinimumHeight(72)
        self.accept_next_button.setStyleSheet(
            "QPushButton { background: #1f6f43; color: white; border-radius: 6px;"
            " padding: 8px 24px; } QPushButton:disabled { background: #9bb5a6; }"
            " QPushButton:focus { border: 3px solid #f2c94c; }"
        )
        self.accept_next_button.clicked.connect(self.accept_next)
        self.waiting_label = QLabel()
        self.waiting_label.setFont(big)

        self.current_box = QGroupBox(_("Current patient"))
        self.current_name = QLabel()
        self.current_name.setFont(big)
        self.current_name.setTextFormat(Qt.TextFormat.PlainText)
        # Explicit: a plain label aligns an Arabic name to the right even in an English window.
        self.current_name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.current_detail = QLabel()
        self.current_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons: dict[str, QPushButton] = {}
        self.actions: dict[str, QAction] = {}
        button_row = QHBoxLayout()
        for name, shortcut in PATIENT_ACTIONS:
            button = QPushButton(_(DESK_ACTIONS[name].button))
            button.setMinimumHeight(40)
            button.clicked.connect(lambda _checked=False, n=name: self.run(n))
            button.setToolTip(QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText))
            button_row.addWidget(button)
            self.buttons[name] = button
            action = QAction(action_label(name), self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, n=name: self.run(n))
            self.actions[name] = action
        button_row.addStretch(1)
        current = QVBoxLayout(self.current_box)
        current.addWidget(self.current_name)
        current.addWidget(self.current_detail)
        current.addLayout(button_row)

        self.queue_model = QueueModel()
        self.queue_table = BookingTableView(self.queue_model, QueueModel.CUSTOMER)
        self.day_model = CheckinsModel()
        self.day_table = BookingTableView(self.day_model, CheckinsModel.CUSTOMER)
        self.day_table.selectionModel().currentRowChanged.connect(self._day_row_changed)
        self.day_table.activated.connect(lambda index: self._choose(self.day_model.booking(index.row())))
        self.queue_box = queue_box = QGroupBox(_("Queue"))
        self.day_box = day_box = QGroupBox(_("Today"))
        QVBoxLayout(queue_box).addWidget(self.queue_table)
        QVBoxLayout(day_box).addWidget(self.day_table)
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(queue_box)
        tables.addWidget(day_box)
        tables.setStretchFactor(0, 1)
        tables.setStretchFactor(1, 1)
        tables.setSizes([540, 540])

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.date_label)
        header.addLayout(titles, 1)
        header.addWidget(self.waiting_label)
        header.addSpacing(16)
        header.addWidget(self.accept_next_button)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.current_box)
        layout.addWidget(tables, 1)
        self.setCentralWidget(central)

        self.act_accept_next = QAction(_("Accept next"), self)
        self.act_accept_next.setShortcuts([QKeySequence(ACCEPT_NEXT_SHORTCUT), QKeySequence("Ctrl+Enter")])
        self.act_accept_next.triggered.connect(self.accept_next)
        self.act_refresh = QAction(_("Refresh"), self)
        self.act_refresh.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.act_refresh.triggered.connect(self.refresh)
        self.patient_menu = menu = self.menuBar().addMenu(_("&Patient"))
        menu.addAction(self.act_accept_next)
        for action in self.actions.values():
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.act_refresh)
        for a, b in zip(
            (self.accept_next_button, *self.buttons.values(), self.queue_table),
            (*self.buttons.values(), self.queue_table, self.day_table),
            strict=True,
        ):
            QWidget.setTabOrder(a, b)

        self.resize(1100, 760)
        self._show()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """After a language or digits switch (it follows the switch itself)."""
        self.setWindowTitle(_("Doctor mode — {provider}").format(provider=display_name(self.resource)))
        self.title.setText(display_name(self.resource))
        self.accept_next_button.setText(_("&Accept next"))
        self.current_box.setTitle(_("Current patient"))
        self.queue_box.setTitle(_("Queue"))
        self.day_box.setTitle(_("Today"))
        for name, button in self.buttons.items():
            button.setText(_(DESK_ACTIONS[name].button))
            self.actions[name].setText(action_label(name))
        self.act_accept_next.setText(_("Accept next"))
        self.act_refresh.setText(_("Refresh"))
        self.patient_menu.setTitle(_("&Patient"))
        for model in (self.queue_model, self.day_model):
            model.retranslate()
        self._show()

    # life ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.refresh()
        if self._follow:
            self.live.start()

    def stop(self) -> None:
        self.live.stop()
        self.tasks.cancel_all()
        if self._acting:
            self._finish()
        if self.tray is not None:
            self.tray.hide()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)

    def today(self) -> date:
        return local_date(utc_now(), self.zone)

    def on_event(self, event: dict) -> None:
        """A server event as it arrives: a check-in for this provider is notified at once
        (the rows follow with the debounced batch, :meth:`_apply_events`)."""
        data = event.get("data") or {}
        booking = data.get("booking") or {}
        if (
            event.get("type") == EventType.BOOKING_CHANGED
            and data.get("action") == Action.CHECK_IN
            and booking.get("visitStatus") == VisitStatus.CHECKED_IN
            and booking.get("resourceId") == self.resource_id
        ):
            # Translators: a doctor-mode notification; {name} is the patient.
            self.notify(
                _("Patient checked in"), _("{name} has arrived.").format(name=fsi(f.customer_name(booking)))
            )

    def _apply_events(self, events: list[dict]) -> None:
        """A debounced batch of events applied to the day and queue; a refetch when one cannot be."""
        if not self.loaded or self._live_day is None or self._live_day.day != self.today():
            self.refresh()
            return
        answers = {view.apply(e) for e in events for view in (self._live_day, self._live_queue)}
        if REFETCH in answers or self._live_queue.unplaced or self._live_day.missing:
            self.refresh()
            return
        self._apply(self._live_queue.queues[self.resource_id], self._live_day.bookings)

    # data ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.tasks.run(self._load())

    async def _load(self) -> None:
        today = self.today()
        with self.live.collecting() as during:
            queue, day = await asyncio.gather(
                self.client.queue(self.resource_id), self.client.day(today, [self.resource_id])
            )
        live_day = LiveDay(self.zone, today, {self.resource_id}, self.types, with_waiting=False)
        live_day.load(day)
        live_queue = LiveQueues({self.resource_id: set(self.resource.get("types") or [])})
        live_queue.load(self.resource_id, queue)
        for event in during:  # what changed while the fetch ran (an older version never wins)
            live_day.apply(event)
            live_queue.apply(event)
        self._live_day, self._live_queue = live_day, live_queue
        self._apply(live_queue.queues[self.resource_id], live_day.bookings)

    def _apply(self, queue: list[dict], day: list[dict]) -> None:
        before, count = self._queue_count, len(queue)
        self.queue_rows, self.day_rows, self._queue_count = queue, day, count
        if before == 0 and count > 0:
            self.notify(
                _("A patient is waiting"),
                _("Your queue was empty; now: {waiting}.").format(
                    waiting=localize_digits(patients_waiting(count))
                ),
            )
        self.loaded = True
        self._show()
        self.refreshed.emit()

    def current(self) -> dict | None:
        """The patient with (or on the way to) this provider: the one the doctor chose, else
        the one in the room, else the one reception (or this desk) sent: an accepted walk-in
        not yet in the room or a checked-in patient, who came first."""
        rows = [
            b
            for b in self.day_rows
            if b.get("status") == Status.CONFIRMED and b.get("visitStatus") in ACTIVE_VISITS
        ]
        chosen = next((b for b in rows if b["id"] == self.current_id), None)
        if chosen is None:
            chosen = next((b for b in rows if b.get("visitStatus") == VisitStatus.IN_PROGRESS), None)
        if chosen is None:
            chosen = next(iter(called_to(self.resource_id, rows)), None)
        return chosen

    def _busy_in(self, day: list[dict]) -> dict | None:
        return next(iter(called_to(self.resource_id, day)), None)

    def busy_with(self) -> dict | None:
        """The patient this provider must see before calling another ticket (in the room, or
        called / checked in), or None: two tickets are never called to one provider at once."""
        return next(iter(called_to(self.resource_id, self.day_rows)), None)

    def _show(self) -> None:
        now = utc_now()
        day = self.today()
        hijri = f.hijri_label(day)
        self.date_label.setText(" — ".join(x for x in (f.day_label(day), hijri) if x))
        self.queue_model.set_rows(self.queue_rows, self.zone, self.types, now)
        self.day_model.set_bookings(self.day_rows, self.zone, self.types, [self.resource], now)
        self.waiting_label.setText(localize_digits(patients_waiting(len(self.queue_rows))))
        booking = self.current()
        self.current_id = booking["id"] if booking else None
        if booking:
            self.current_name.setText(f.customer_name(booking))
            parts = [
                f.type_name(booking, self.types),
                f.span_of(booking, self.zone),
                f.booking_status(booking),
            ]
            if f.ticket_text(booking):
                # Translators: a walk-in's ticket number in doctor mode.
                parts.insert(0, _("Ticket {number}").format(number=fsi(f.ticket_text(booking))))
            self.current_detail.setText(" · ".join(p for p in parts if p))
        else:
            self.current_name.setText(_("No patient with you now."))
            self.current_detail.setText(
                _("Press “Accept next” to call the first patient in your queue.")
                if self.queue_rows
                else _("Nobody is waiting for you.")
            )
        busy = self._acting
        for name, button in self.buttons.items():
            enabled = not busy and allowed(name, booking, now)
            button.setEnabled(enabled)
            self.actions[name].setEnabled(enabled)
        waiting_for = self.busy_with()
        self.accept_next_button.setEnabled(not busy and self.loaded and waiting_for is None)
        self.accept_next_button.setToolTip(
            # Translators: doctor mode: why "Accept next" is off; {name} is the patient called or in the room.
            _("Finish with {name} first: one patient at a time.").format(
                name=fsi(f.customer_name(waiting_for))
            )
            if waiting_for
            else QKeySequence(ACCEPT_NEXT_SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)
        )
        self.day_table.select_id(self.current_id)

    def _day_row_changed(self, current, _previous) -> None:
        booking = self.day_model.booking(current.row()) if current.isValid() else None
        if booking and booking["id"] != self.current_id:
            self._choose(booking)

    def _choose(self, booking: dict | None) -> None:
        if (
            booking
            and booking.get("status") == Status.CONFIRMED
            and booking.get("visitStatus") in ACTIVE_VISITS
        ):
            self.current_id = booking["id"]
            self._show()

    # actions ------------------------------------------------------------------------------
    def _progress(self, message: str) -> None:
        self.statusBar().showMessage(message)
        if not self._acting:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self._acting = True
        for button in (*self.buttons.values(), self.accept_next_button):
            button.setEnabled(False)

    def _finish(self, message: str | None = None) -> None:
        if self._acting:
            QApplication.restoreOverrideCursor()
        self._acting = False
        if message:
            self.statusBar().showMessage(message, 8000)
        self._show()

    def accept_next(self) -> None:
        if self._acting or not self.loaded:
            return
        waiting_for = self.busy_with()
        if waiting_for is not None:
            self.statusBar().showMessage(
                _("Finish with {name} first: one patient at a time.").format(
                    name=fsi(f.customer_name(waiting_for))
                ),
                8000,
            )
            return
        self._progress(_("Calling the next patient…"))

        async def act() -> dict | None:
            try:
                for _attempt in range(3):  # another provider may take position 1 meanwhile
                    day = await self.client.day(self.today(), [self.resource_id])
                    sent = self._busy_in(day)
                    if sent is not None:  # reception sent someone meanwhile: do not call a second
                        return {"busyWith": sent}
                    queue = await self.client.queue(self.resource_id)
                    if not queue:
                        return None
                    first = min(queue, key=lambda b: b.get("queuePosition") or 0)
                    try:
                        result = await self.client.accept(first["id"], self.resource_id, when_free=True)
                    except ApiError as exc:
                        if exc.code == domain_errors.ALREADY_ASSIGNED:
                            continue
                        raise
                    self.current_id = result["id"]
                    return {**first, **result, "customer": result.get("customer") or first.get("customer")}
                return None
            finally:
                await self._load()

        def done(result: dict | None) -> None:
            if result is None:
                self._finish(_("Nobody is waiting for you."))
            elif result.get("busyWith"):
                self._finish(
                    _("Finish with {name} first: one patient at a time.").format(
                        name=fsi(f.customer_name(result["busyWith"]))
                    )
                )
            else:
                self._finish(_("Accepted: {name}").format(name=fsi(f.customer_name(result))))

        self.tasks.run(act(), done, self._failed)

    def run(self, action: str) -> None:
        booking = self.current()
        if booking is None or not allowed(action, booking, utc_now()) or self._acting:
            return
        desk = DESK_ACTIONS[Action(action)]
        progress, message = _(desk.progress), _(desk.done)
        name = fsi(f.customer_name(booking))
        self._progress(progress)

        async def act() -> dict:
            try:
                return await self.client.act(action, booking["id"])
            finally:
                await self._load()

        self.tasks.run(act(), lambda _result: self._finish(message.format(name=name)), self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.show_error(exc)

    def show_error(self, exc: BaseException) -> None:
        text = message_for(exc)
        log.warning("doctor mode: %s", exc)
        self.statusBar().showMessage("⚠ " + text, 15000)
        self._banner("⚠ " + text, error=True)

    # notifications ------------------------------------------------------------------------
    def notify(self, title: str, text: str) -> None:
        self.notifications.append((title, text))
        self.notified.emit(title, text)
        QApplication.beep()
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                self.tray = QSystemTrayIcon(
                    self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation), self
                )
                self.tray.setToolTip(self.windowTitle())
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, BANNER_MS)
        else:
            self._banner(f"{title}: {text}")

    def _banner(self, text: str, error: bool = False) -> None:
        self.banner.setStyleSheet(
            (
                "background: #fde7e9; color: #7a1020; border: 1px solid #e0a0a8;"
                if error
                else "background: #fff4ce; color: #4a3b00; border: 1px solid #e0c060;"
            )
            + " border-radius: 4px; padding: 8px; font-weight: bold;"
        )
        self.banner.setText(text)
        self.banner.setVisible(True)
        self.banner_timer.start(BANNER_MS)
