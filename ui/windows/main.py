"""The desk's main window: day calendar, queue, check-ins and booking detail.

Data flows one way: actions' replies and server events → ``DeskState`` → ``changed`` →
the views redraw from what the server sent. Server events carry the changed booking and are
applied to the rows (:meth:`DeskState.apply_events`, no request); they are collected on a
150 ms debounce timer (calibre; :class:`ui.core.live_events.LiveEvents`), so a burst redraws once. The view is refetched whole only
on the first load, another day, a ``resync`` (a gap the server could not replay), a
reconnect, F5, or an event the desk does not know."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QWidget,
)

from app.client import ApiError, DeskClient
from app.domain.clock import from_iso
from app.domain.model import Action
from app.i18n import _
from app.i18n.labels import action_label, offline_label, view_label
from app.i18n.text import display_name, fsi
from ui.calendar import CalendarView
from ui.core import formatting as f
from ui.core import keyboard, language, window_place
from ui.core.actions import BOOKING_ACTIONS, DESK_ACTIONS
from ui.core.errors import message_for
from ui.core.live_events import LiveEvents
from ui.core.menus import DeskMenus
from ui.core.models import allowed
from ui.core.state import DeskState
from ui.core.tasks import Tasks
from ui.core.undo import UNDOABLE, UndoStack, failed_message, inverse, stale_message
from ui.dialogs.common import AcceptDialog, CancelDialog, RescheduleDialog
from ui.dialogs.shortcut_sheet import ShortcutsHelp
from ui.panels.checkins import CheckinsPanel
from ui.panels.detail import DetailPane
from ui.panels.queue import QueuePanel
from ui.panels.sync_status import SyncDesk
from ui.windows.booking_desk import BookingDesk
from ui.windows.paper_desk import PaperDesk
from ui.windows.screens_desk import ScreensDesk

log = logging.getLogger(__name__)
DEBOUNCE_MS = 150  # live events collected before the state applies them
CLOCK_MS = 30_000


def server_text(url: str, branch: dict | None = None) -> str:
    """The status bar's server: "this computer" for the embedded one (loopback), else the
    branch's name (the host until the branch is known); the address is the tooltip."""
    host = urlsplit(url).hostname or url
    if host in ("127.0.0.1", "localhost", "::1"):
        return _("Server: this computer")
    # Translators: %(name)s is the branch (or the server's host name) this desk works with.
    return _("Server: %(name)s") % {"name": fsi(display_name(branch) if branch else host)}


class MainWindow(QMainWindow):
    loaded = Signal()  # after every applied refresh or applied events
    #: the server events of each debounced batch, as they arrived (e.g. an open history follows its booking)
    events_applied = Signal(list)
    #: the sync status may have changed: a full refetch or a sync event (else its own timer polls)
    sync_hint = Signal()

    def __init__(self, client: DeskClient, server_label: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        #: keep the window's size and place when it closes (:mod:`ui.core.window_place`; set by ui.app)
        self.remember_place = False
        self.client = client
        self.state = DeskState(client, self)
        self.tasks = Tasks(self)
        self.tasks.failed.connect(self.show_error)
        self.selected_id: str | None = None
        self.selected_booking: dict | None = None
        self._scrolled_day: date | None = None
        self._today: date | None = None
        self._dialog = None  # the open dialog (kept referenced)
        self.first_load: asyncio.Future = asyncio.get_event_loop().create_future()
        #: the newest action's sequence number, and that of the action whose message the
        #: status bar shows: an older action's message, selection or day never overwrites a newer one's
        self._action_seq = 0
        self._shown_seq = 0

        self.setWindowTitle(_("Istiqbal"))
        self.calendar = CalendarView()
        self.calendar.attach(client, self.tasks)
        self.undo = UndoStack(self)
        self.queue = QueuePanel()
        self.checkins = CheckinsPanel()
        self.detail = DetailPane()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.queue, view_label("queue"))
        self.tabs.addTab(self.checkins, view_label("checkins"))
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.tabs)
        side.addWidget(self.detail)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.calendar)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([1080, 520])
        self.setCentralWidget(self.splitter)

        self._build_actions()
        self._build_toolbar()
        self._build_status_bar(server_label or client.base_url)

        self.calendar.bookingClicked.connect(self.select_booking)
        self.calendar.bookHereRequested.connect(self.book_here)
        self.calendar.moveRequested.connect(self._move)
        self.calendar.modeChanged.connect(lambda _mode: self._show_date())
        self.queue.bookingSelected.connect(self.select_booking)
        self.queue.acceptRequested.connect(lambda booking_id: self.run_action("accept", booking_id))
        self.checkins.bookingSelected.connect(self.select_booking)
        self.checkins.actionRequested.connect(self.run_action)
        self.detail.actionRequested.connect(self.run_action)
        self.state.changed.connect(self._apply)

        self.clock = QTimer(self)
        self.clock.setInterval(CLOCK_MS)
        self.clock.timeout.connect(self._tick)
        # The menu bar's frame (Help now; File first and Help last at the end), then the parts
        # that fill the menus: new booking, customers and Go to date; printing and export;
        # doctor mode and the waiting-room screen; the shortcut sheet (F1).
        self.menus = DeskMenus(self)
        self.booking_desk = BookingDesk(self)
        self.paper = PaperDesk(self)
        self.screens = ScreensDesk(self)
        self.shortcut_help = ShortcutsHelp(self, self.menus.help_menu)
        keyboard.install()  # shortcuts and mnemonics whatever the keyboard layout
        # Cloud sync: status bar, needs-attention tab, Settings → Cloud account / Pair a desk.
        self.sync_desk = SyncDesk(self)
        # Help → Backups… / Copy diagnostics, and the start-up recovery notice.
        from ui.dialogs.maintenance import DeskCare

        self.care = DeskCare(self, self.menus.help_menu)
        # Payments, refunds and receipts: the booking pane's Payment…, F9, and after check-out.
        from ui.dialogs.payment import PaymentDesk

        self.payments = PaymentDesk(self)
        # The booking's history: the booking pane's History…, Booking → Booking history… (Ctrl+H).
        from ui.dialogs.history import HistoryDesk

        self.history = HistoryDesk(self)
        # Day → Reports…: the branch's figures and charts for a range of days.
        from ui.windows.reports_desk import ReportsDesk

        self.reports = ReportsDesk(self)
        # View → Language / Digits, switched live: retranslate_ui re-runs on every switch.
        self.view_menu.addSeparator()
        self.language_menus = language.controller().install_menus(self.view_menu)
        # Not live (event stream lost, embedded server stopped): a banner with Retry.
        from ui.panels.live_banner import LiveWatch

        #: the embedded branch server's liveness check and restart (→ new URL), when it has one
        self.server_alive = None
        self.restart_server = None
        self.live_watch = LiveWatch(self)
        self.live = LiveEvents(
            client,
            self._apply_events,
            self,
            debounce_ms=DEBOUNCE_MS,
            on_live=self.live_watch.on_live,
            name="desk",
        )

        self.menus.finish([self.paper.act_ticket_printer])  # File (Ticket printer, Quit) first, Help last
        # Last, so that on a language switch every part built above has retranslated itself
        # (each follows the switch on its own) before the window re-renders from its state.
        language.follow(self)

    # building ------------------------------------------------------------------------
    def _build_actions(self) -> None:
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        style = self.style()
        self.act_prev = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack), _("Previous day"), self
        )
        self.act_prev.setShortcut(QKeySequence("Alt+Right" if rtl else "Alt+Left"))
        self.act_prev.triggered.connect(
            lambda: self.go_to(self.state.day - timedelta(days=self.calendar.step_days()))
        )
        self.act_today = QAction(_("Today"), self)
        self.act_today.setShortcut(QKeySequence("Ctrl+T"))
        self.act_today.triggered.connect(lambda: self.go_to(self.state.today_date()))
        self.act_next = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward), _("Next day"), self
        )
        self.act_next.setShortcut(QKeySequence("Alt+Left" if rtl else "Alt+Right"))
        self.act_next.triggered.connect(
            lambda: self.go_to(self.state.day + timedelta(days=self.calendar.step_days()))
        )
        self.act_refresh = QAction(_("Refresh"), self)
        self.act_refresh.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.act_refresh.triggered.connect(self.refresh)
        self.day_menu = day_menu = self.menuBar().addMenu(_("&Day"))
        for action in (self.act_prev, self.act_today, self.act_next, self.act_refresh):
            day_menu.addAction(action)
        self.edit_menu = edit_menu = self.menuBar().addMenu(_("&Edit"))
        edit_menu.addAction(self.undo.action)
        self.undo.action.triggered.connect(self.undo_last)
        self.view_menu = view_menu = self.menuBar().addMenu(_("&View"))
        for action in self.calendar.view_actions():
            view_menu.addAction(action)
        self.booking_menu = booking_menu = self.menuBar().addMenu(_("&Booking"))
        self.booking_actions: dict[str, QAction] = {}
        for name, shortcut in BOOKING_ACTIONS:
            text = action_label(name) + ("…" if DESK_ACTIONS[name].dialog else "")
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, n=name: self.run_action(n, self.selected_id))
            action.setEnabled(False)
            booking_menu.addAction(action)
            self.booking_actions[name] = action

    def _build_toolbar(self) -> None:
        self.toolbar = bar = QToolBar(_("Day"))
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addAction(self.act_prev)
        bar.addAction(self.act_today)
        bar.addAction(self.act_next)
        bar.widgetForAction(self.act_prev).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.widgetForAction(self.act_next).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.date_label = QLabel()
        font = self.date_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.date_label.setFont(font)
        self.date_label.setContentsMargins(12, 0, 12, 0)
        bar.addWidget(self.date_label)
        self.hijri_label = QLabel()
        self.hijri_label.setStyleSheet("color: #5f6b7a;")
        bar.addWidget(self.hijri_label)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.show_canceled = QCheckBox(_("Show canceled"))
        self.show_canceled.toggled.connect(self.calendar.set_show_canceled)
        bar.addWidget(self.show_canceled)
        bar.addSeparator()
        bar.addAction(self.act_refresh)
        self.addToolBar(bar)

    def _build_status_bar(self, server_label: str) -> None:
        status = self.statusBar()
        self._server_url = server_label
        self.server_label = QLabel(server_text(server_label))
        self.server_label.setToolTip(f"\u2066{server_label}\u2069")
        self.sync_label = QLabel(offline_label())
        self.sync_label.setStyleSheet("color: #8a5a00; padding: 0 8px;")
        status.addPermanentWidget(self.server_label)
        status.addPermanentWidget(self.sync_label)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """After a language (or digits) switch: the window's own texts, mirrored arrows and
        shortcuts, and a re-render from the state, keeping the selection and the scroll
        position. Its panels, menus, dialogs, doctor mode and the waiting room retranslate
        themselves (each follows the switch, :func:`ui.core.language.follow`)."""
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        self.act_prev.setIcon(language.direction_icon(self, forward=False))
        self.act_next.setIcon(language.direction_icon(self, forward=True))
        self.act_prev.setShortcut(QKeySequence("Alt+Right" if rtl else "Alt+Left"))
        self.act_next.setShortcut(QKeySequence("Alt+Left" if rtl else "Alt+Right"))
        self.act_prev.setText(_("Previous day"))
        self.act_today.setText(_("Today"))
        self.act_next.setText(_("Next day"))
        self.act_refresh.setText(_("Refresh"))
        for menu, title in (
            (self.day_menu, _("&Day")),
            (self.edit_menu, _("&Edit")),
            (self.view_menu, _("&View")),
            (self.booking_menu, _("&Booking")),
        ):
            menu.setTitle(title)
        for name, action in self.booking_actions.items():
            action.setText(action_label(name) + ("…" if name in ("accept", "reschedule", "cancel") else ""))
        self.toolbar.setWindowTitle(_("Day"))
        self.show_canceled.setText(_("Show canceled"))
        self.server_label.setText(server_text(self._server_url, self.state.branch))
        self.tabs.setTabText(1, view_label("checkins"))
        if self.state.loaded:
            self._apply()
        else:
            self.setWindowTitle(_("Istiqbal"))
            self.tabs.setTabText(0, view_label("queue"))

    # starting and stopping -------------------------------------------------------------
    def show_starting(self) -> None:
        """The window before its data: the empty day and "starting…" in the status bar (the
        embedded branch server is still starting; :meth:`start` follows once it answers)."""
        self._show_date_of(self.state.today_date())
        # Translators: status bar while the desk's own branch server starts, before the day shows.
        self.statusBar().showMessage(_("Starting the branch server…"))

    def start(self) -> None:
        """Load everything, then follow the server's live events."""
        self.statusBar().clearMessage()  # "starting…" is over
        self.tasks.run(self.state.refresh(), on_error=self._load_failed)
        self.live.start()
        self.clock.start()
        self.sync_desk.start()
        self.live_watch.start()

    def restart_events(self) -> None:
        """Reconnect the live event stream now (the not-live banner's Retry)."""
        self.live.start()

    def _load_failed(self, exc: BaseException) -> None:
        self.show_error(exc)
        if not self.first_load.done():
            self.first_load.set_exception(exc)

    def stop(self) -> None:
        self.clock.stop()
        self.sync_desk.stop()
        self.live.stop()
        self.live_watch.stop()
        self.tasks.cancel_all()
        self.care.tasks.cancel_all()  # e.g. a Copy diagnostics still reading the server

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        if self.remember_place:  # a real run (ui.app), not a screenshot or a test
            window_place.remember(self)
        super().closeEvent(event)

    def _apply_events(self, events: list[dict]) -> None:
        """A debounced batch of server events: applied to the state, or the view refetched."""
        log.debug("applying %d server events", len(events))
        if any(str(e.get("type", "")).startswith("sync.") for e in events):
            self.sync_hint.emit()
        if not self.state.apply_events(events):
            self.refresh()
        self.events_applied.emit(events)

    # data → views ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Refetch the whole view (F5, another day, a gap in the events)."""
        self.tasks.run(self.state.refresh())
        self.sync_hint.emit()

    async def _show_reply(self, result: dict) -> None:
        """Show an action's reply: applied to the rows (its echo then costs nothing), or the
        view refetched when the action moved the view to another day."""
        if self.state.day != self.state.bookings_day:
            await self.state.refresh()
        else:
            self.state.put(result)

    def go_to(self, day: date) -> None:
        if day == self.state.day:
            return
        self.state.day = day
        self._show_date()
        self.refresh()

    def _show_date(self) -> None:
        if self.state.day is not None:
            self._show_date_of(self.state.day)

    def _show_date_of(self, day: date) -> None:
        text = f.day_label(day)
        if day == self.state.today_date():
            # Translators: the date label of the day view when it shows today.
            text = _("Today, {date}").format(date=fsi(text))
        self.date_label.setText(text)
        self.hijri_label.setText(f.hijri_label(day))

    def _apply(self) -> None:
        state, now = self.state, self.state.now()
        branch_name = display_name(state.branch) if state.branch else ""
        self.server_label.setText(server_text(self._server_url, state.branch))
        self.setWindowTitle(f"{_('Istiqbal')} — {branch_name}" if branch_name else _("Istiqbal"))
        self._today = state.today_date()
        self._show_date()
        self.calendar.set_day(state.day, state.resources, state.bookings, state.types, state.zone, now)
        self.queue.set_waiting(state.waiting, state.zone, state.types, now)
        self.checkins.set_bookings(state.today, state.zone, state.types, state.resources, now)
        self.tabs.setTabText(0, f"{view_label('queue')} ({len(state.waiting)})")
        for message in self.undo.prune(state.find):
            self.say("⚠ " + message, 15000)
        self._show_selected()
        if self._scrolled_day != state.day:
            self._scrolled_day = state.day
            self._scroll_to_interest()
        self.loaded.emit()
        if not self.first_load.done():
            self.first_load.set_result(True)

    def _scroll_to_interest(self) -> None:
        state = self.state
        zone = ZoneInfo(state.zone)
        if state.day == state.today_date():
            local = state.now().astimezone(zone)
            minutes = local.hour * 60 + local.minute - 60
        else:
            shown = self.calendar.canvas.visible_bookings()
            starts = [from_iso(b["startDateTime"]).astimezone(zone) for b in shown]
            minutes = min(
                (s.hour * 60 + s.minute for s in starts), default=self.calendar.canvas.first_hour * 60
            )
        self.calendar.scroll_to_minutes(minutes)

    def _tick(self) -> None:
        now = self.state.now()
        self.calendar.set_now(now)
        self.queue.model.set_now(now)
        if self.state.loaded and self.state.today_date() != self._today:
            self.refresh()  # midnight passed: today's check-ins are another day's now

    # selection -------------------------------------------------------------------------
    def select_booking(self, booking_id: str | None) -> None:
        """The one selection of the window: the calendar, the queue, the check-ins and the
        booking pane all show ``booking_id`` (a panel without it shows no row selected)."""
        self.selected_id = booking_id or None
        self._show_selected()

    def book_here(self, resource_id: str, start) -> None:
        """An empty calendar slot double-clicked (or Enter on it): the booking dialog with
        that resource, day and time."""
        dialog = self.booking_desk.new_booking()
        if dialog is not None:
            dialog.book_at(resource_id, start)

    def _show_selection_everywhere(self) -> None:
        self.calendar.set_selected(self.selected_id)
        self.queue.show_selection(self.selected_id)
        self.checkins.show_selection(self.selected_id)

    def _show_selected(self) -> None:
        booking = self.state.find(self.selected_id)
        if booking is None and self.selected_id:
            if self.selected_booking and self.selected_booking["id"] == self.selected_id:
                booking = self.selected_booking  # on another day: keep showing what we had
        self.selected_booking = booking
        self._show_selection_everywhere()
        resource = self.state.resource(booking.get("resourceId")) if booking else None
        now = self.state.now()
        self.detail.show_booking(booking, resource, self.state.zone, now, self.state.types)
        for name, action in self.booking_actions.items():
            action.setEnabled(allowed(name, booking, now))

    # actions ---------------------------------------------------------------------------
    def run_action(self, action: str, booking_id: str | None) -> None:
        booking = self.state.find(booking_id) or (
            self.selected_booking
            if self.selected_booking and self.selected_booking["id"] == booking_id
            else None
        )
        if booking is None:
            return
        self.select_booking(booking_id)
        zone = self.state.zone
        done = _(DESK_ACTIONS[Action(action)].done) if action in DESK_ACTIONS else ""
        if action == Action.ACCEPT:
            dialog = AcceptDialog(
                booking, self.state.resources_serving(booking["typeId"]), zone, self, now=self.state.now()
            )
            dialog.accepted.connect(
                lambda: self._do(self.client.accept(booking_id, dialog.resource_id()), done, booking)
            )
            self._open(dialog)
        elif action == Action.CANCEL:
            dialog = CancelDialog(booking, zone, self)
            dialog.accepted.connect(
                lambda: self._do(
                    self.client.cancel(booking_id, dialog.reason()), done, booking, record=Action.CANCEL
                )
            )
            self._open(dialog)
        elif action == "payment":
            self.payments.open(booking)
        elif action == "history":
            self.history.open(booking)
        elif action == Action.RESCHEDULE:
            dialog = RescheduleDialog(
                booking,
                zone,
                {r["id"]: r for r in self.state.resources},
                self.state.day or self.state.today_date(),
                self.state.today_date(),
                lambda day: self.client.free_times(booking["typeId"], day, ignore_id=booking_id),
                self.tasks,
                self,
            )
            dialog.accepted.connect(lambda: self._reschedule(booking, dialog.slot()))
            self._open(dialog)
            dialog.reload()
        else:
            self._do(
                self.client.act(action, booking_id),
                done,
                booking,
                record=action if action in UNDOABLE else None,
                then=self.payments.after_checkout if action == Action.END else None,
            )

    def _open(self, dialog) -> None:
        self._dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "_dialog", None))
        dialog.open()

    def _reschedule(self, booking: dict, slot: dict | None) -> None:
        if not slot:
            return
        day = date.fromisoformat(slot["date"])
        self._do(
            self.client.reschedule(booking["id"], day, slot["time"], resource_id=slot["resourceId"]),
            _(DESK_ACTIONS[Action.RESCHEDULE].done),
            booking,
            go_to=day,
            record=Action.RESCHEDULE,
        )

    def _move(self, booking_id: str, day: date, time: int, resource_id: str, reason: str) -> None:
        """A booking dropped in the calendar (``reason``: the overbook reason for a taken slot)."""
        booking = self.state.find(booking_id) or self.calendar.current().find(booking_id)
        if booking is None:
            return
        self._do(
            self.client.reschedule(
                booking_id, day, time, resource_id=resource_id, overbook_reason=reason or None
            ),
            _("Overbooked: {name}") if reason else _("Rescheduled: {name}"),
            booking,
            record="reschedule",
        )

    def undo_last(self) -> None:
        entry = self.undo.pop()
        if entry is None:
            return
        name, seq = fsi(f.customer_name(entry.booking)), self._next_seq()

        async def act() -> dict:
            try:
                current = await self.client.booking(entry.booking_id)
                if entry.version is not None and int(current.get("version") or 0) > entry.version:
                    raise UndoImpossible(stale_message(entry))
                call, day = inverse(entry, self.client, self.state.zone)
                result = await call
            except UndoImpossible:
                self.undo.abandon(entry)
                raise
            except ApiError as exc:
                self.undo.abandon(entry)
                await self.state.refresh()
                raise UndoImpossible(failed_message(entry, message_for(exc))) from exc
            self.undo.undone(entry, result)
            self._follow(seq, result, day)
            # Translators: status bar message after Ctrl+Z.
            self.say(_("Undone: {name}").format(name=name), 8000, seq)
            await self._show_reply(result)
            return result

        self.tasks.run(act(), None, lambda exc: self._failed(exc, seq))

    def _do(
        self,
        call,
        message: str,
        booking: dict,
        go_to: date | None = None,
        record: str | None = None,
        then=None,
    ) -> None:
        """Run an action, then show what the server says (its reply); ``record``: the kind of
        action for the undo stack (recorded with the booking as it was before); ``then``:
        called with the server's booking afterwards. Each action has a sequence number: an
        older one finishing late never overwrites a newer one's status message, selection or
        day."""
        name, seq = fsi(f.customer_name(booking)), self._next_seq()

        async def act() -> dict:
            try:
                result = await call
            except ApiError:
                await self.state.refresh()
                raise
            if record:
                self.undo.record(record, booking, result)
            else:  # e.g. start after check-in: the older undos of this booking cannot apply any more
                self.undo.forget(result["id"])
            self._follow(seq, result, go_to)
            self.say(message.format(name=name), 8000, seq)  # the server agreed: say so at once
            await self._show_reply(result)
            return result

        self.tasks.run(act(), then, lambda exc: self._failed(exc, seq))

    def _next_seq(self) -> int:
        self._action_seq += 1
        return self._action_seq

    def _follow(self, seq: int, result: dict, day: date | None) -> None:
        """Select the action's booking and show its day — unless a newer action started since."""
        if seq != self._action_seq:
            return
        self.selected_id = result["id"]
        self.selected_booking = result
        if day is not None and day != self.state.day:
            self.state.day = day

    def say(self, text: str, timeout: int = 8000, seq: int | None = None) -> bool:
        """Show ``text`` in the status bar for action ``seq`` (None: a message of its own, e.g. an
        error or a removed undo);
        a message of an action older than the one shown is dropped (logged). Returns whether
        it was shown."""
        seq = self._action_seq if seq is None else seq  # a message of its own: as new as the newest action
        if seq < self._shown_seq:
            log.info("status message of an older action dropped: %s", text)
            return False
        self._shown_seq = seq
        self.statusBar().showMessage(text, timeout)
        return True

    def _failed(self, exc: BaseException, seq: int) -> None:
        log.warning("desk action failed: %s", exc)
        self.say("⚠ " + (exc.message if isinstance(exc, UndoImpossible) else message_for(exc)), 15000, seq)

    def show_error(self, exc: BaseException) -> None:
        log.warning("desk action failed: %s", exc)
        self.say("⚠ " + message_for(exc), 15000)


class UndoImpossible(ApiError):
    """An undo that cannot apply any more; ``message`` says why (translated)."""

    def __init__(self, message: str):
        super().__init__("UNDO-IMPOSSIBLE", message)
