"""The desk at full speed: the actions, menus and shortcuts for new bookings, customer
search, doctor mode, the waiting-room screen, printing and export, and the keyboard
shortcut sheet (Help → Keyboard shortcuts, F1).

``DeskExtras(window)`` adds them to a :class:`ui.windows.main.MainWindow` (reusing its
menus by title when they exist) and keeps every dialog and window it opens referenced."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMenu,
    QProxyStyle,
    QPushButton,
    QStyle,
    QStyleOptionMenuItem,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import from_iso, utc_now
from app.i18n import N_, _
from app.i18n.text import fsi
from ui.core import formatting as f
from ui.core import keyboard, language
from ui.core.errors import message_for
from ui.dialogs.booking import BookingDialog
from ui.dialogs.common import GoToDateDialog
from ui.dialogs.customer_card import CustomerCard
from ui.paper import export
from ui.paper.printing import Printer, day_sheet_html, ticket_html
from ui.windows.doctor_mode import ACCEPT_NEXT_SHORTCUT, PATIENT_ACTIONS, DoctorMode, ResourcePicker
from ui.windows.waiting_room import WaitingRoom, fill_screen_menu

log = logging.getLogger(__name__)
#: Day → Go to date (Ctrl+G is Start in the Booking menu).
GO_TO_DATE_SHORTCUT = "Ctrl+D"

#: Keys that are not menu actions, for the shortcut sheet: (keys, msgid).
KEY_HINTS = (
    (("Enter",), N_("New booking: pick the highlighted customer; on a free time, book it")),
    (("Down", "Up"), N_("New booking: move through the customers found")),
    (("Esc",), N_("Close a dialog; leave full screen on the waiting-room screen")),
    (("F11",), N_("Waiting-room screen: full screen on or off")),
    (("Tab", "Shift+Tab"), N_("Next or previous field")),
    (("Enter",), N_("Cancel booking: confirm with the reason chosen or typed")),
)
#: The new-booking dialog's mnemonics, for the shortcut sheet: (label msgid, msgid). The key
#: shown is Alt + the label's mnemonic in the desk's language (ui.core.keyboard makes it work on
#: any keyboard layout).
MNEMONIC_HINTS = (
    (N_("&New customer…"), N_("New booking: new customer")),
    (N_("&Date:"), N_("New booking: choose the date")),
    (N_("&With:"), N_("New booking: choose the provider")),
    (N_("Put in &queue"), N_("New booking: put in the queue (walk-in)")),
    (N_("&Print ticket"), N_("New booking: print the queue ticket")),
    (N_("Customer c&ard…"), N_("New booking: the chosen customer's card")),
)


def native_keys(keys: tuple[str, ...] | list[str]) -> str:
    """``("Down", "Up")`` → ``"Down / Up"`` in Qt's translated key names (الأسفل / الأعلى)."""
    return " / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) or k for k in keys)


def mnemonic_keys(label: str) -> str:
    """``"عميل &جديد…"`` → ``"Alt+ج"``: the key of a translated label's mnemonic."""
    letter = keyboard.mnemonic_of(label)
    return native_keys([f"Alt+{letter.upper()}"]) if letter else ""


class MenuShortcutStyle(QProxyStyle):
    """Menus draw each shortcut as one left-to-right isolate, so the Arabic desk shows
    ``Ctrl+=`` (not ``=+Ctrl``): Qt passes a menu entry as ``label\tshortcut``."""

    def drawControl(self, element, option, painter, widget=None) -> None:
        if element == QStyle.ControlElement.CE_MenuItem and isinstance(option, QStyleOptionMenuItem):
            option = QStyleOptionMenuItem(option)
            option.text = isolate_shortcut(option.text)
        super().drawControl(element, option, painter, widget)


def isolate_shortcut(text: str) -> str:
    """``"Zoom in\tCtrl+="`` → ``"Zoom in\t\u2066Ctrl+=\u2069"`` (idempotent)."""
    label, tab, keys = text.partition("\t")
    if not tab or not keys or keys.startswith("\u2066"):
        return text
    return f"{label}\t\u2066{keys}\u2069"


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _menu(window, title: str) -> QMenu:
    """The menu bar's menu called ``title`` (as translated), created if missing."""
    for action in window.menuBar().actions():
        if action.menu() is not None and _plain(action.text()) == _plain(title):
            return action.menu()
    return window.menuBar().addMenu(title)


class ShortcutSheet(QDialog):
    """Every shortcut of the desk's actions (translated labels), and the keys of dialogs."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Keyboard shortcuts"))
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels([_("Action"), _("Keys")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for row, (text, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(text))
            item = QTableWidgetItem(f"\u2066{keys}\u2069")  # key names read left to right
            self.table.setItem(row, 1, item)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Everything can also be reached with Tab and Shift+Tab.")))
        layout.addWidget(self.table, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(620, 560)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text().strip("\u2066\u2069"))
                for r in range(self.table.rowCount())]


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    rows, seen = [], set()
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if not keys or not action.text():
            continue
        row = (_plain(action.text()), " / ".join(keys))
        if row not in seen:
            seen.add(row)
            rows.append(row)
    return rows


class DeskExtras(QObject):
    """The extra actions of the main window (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.window = window
        self.printer = Printer(window)
        self.printer.done.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.printer.failed.connect(lambda text: window.statusBar().showMessage("⚠ " + text, 15000))
        self.booking_dialog: BookingDialog | None = None
        self.doctor: DoctorMode | None = None
        self.waiting_room: WaitingRoom | None = None
        self.dialogs: list[QDialog] = []
        self._msgids: dict[QAction, str] = {}   # action → msgid, for retranslate_ui
        self._build()
        window.installEventFilter(self)
        keyboard.install()  # shortcuts and mnemonics whatever the keyboard layout

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.close_windows()  # the desk closes: so do its doctor mode and TV screen
        return super().eventFilter(watched, event)

    def close_windows(self) -> None:
        for other in (self.doctor, self.waiting_room):
            if other is not None:
                other.close()

    # building -----------------------------------------------------------------------------
    def _action(self, msgid: str, slot: Callable, shortcut: str | QKeySequence | None = None, icon=None) -> QAction:
        action = QAction(_(msgid), self.window)
        self._msgids[action] = msgid
        if icon is not None:
            action.setIcon(icon)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build(self) -> None:
        w, style = self.window, self.window.style()
        self.act_new_booking = self._action(N_("&New booking…"), self.new_booking, "Ctrl+N",
                                            style.standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder))
        self.act_find = self._action(N_("&Find customer…"), self.find_customer, QKeySequence.StandardKey.Find)
        self.act_accept_next = self._action(N_("&Accept next"), self.accept_next, ACCEPT_NEXT_SHORTCUT)
        self.act_print_day = self._action(N_("&Print day sheet…"), self.print_day, QKeySequence.StandardKey.Print)
        self.act_pdf_day = self._action(N_("Save day sheet as P&DF…"), self.save_day_pdf, "Ctrl+Shift+P")
        self.act_csv = self._action(N_("Export day as &CSV…"), self.export_csv, "Ctrl+Shift+E")
        self.act_ics = self._action(N_("Export day as &iCalendar…"), self.export_ics, "Ctrl+Shift+I")
        self.act_doctor = self._action(N_("Do&ctor mode…"), lambda: self.open_doctor_mode(None), "Ctrl+Shift+D")
        self.act_chime = QAction(_("&Chime on call"), w)
        self.act_chime.setCheckable(True)
        self.act_chime.setChecked(True)
        self.act_chime.toggled.connect(lambda on: self.waiting_room is not None and setattr(self.waiting_room, "chime", on))
        self.act_go_to = self._action(N_("&Go to date…"), self.go_to_date, GO_TO_DATE_SHORTCUT)
        self.act_shortcuts = self._action(N_("&Keyboard shortcuts"), self.show_shortcuts, QKeySequence.StandardKey.HelpContents)

        booking = _menu(w, _("&Booking"))
        first = booking.actions()[0] if booking.actions() else None
        booking.insertActions(first, [self.act_new_booking, self.act_find, self.act_accept_next])
        if first is not None:
            booking.insertSeparator(first)
        day = _menu(w, _("&Day"))
        day.addAction(self.act_go_to)
        day.addSeparator()
        for action in (self.act_print_day, self.act_pdf_day, self.act_csv, self.act_ics):
            day.addAction(action)
        view = _menu(w, _("&View"))
        view.addSeparator()
        view.addAction(self.act_doctor)
        self.screen_menu = view.addMenu(_("Waiting-&room screen"))
        self.screen_menu.aboutToShow.connect(
            lambda: fill_screen_menu(self.screen_menu, self.open_waiting_room, self.act_chime))
        fill_screen_menu(self.screen_menu, self.open_waiting_room, self.act_chime)
        self.help_menu = help_menu = _menu(w, _("&Help"))
        help_menu.addAction(self.act_shortcuts)

        toolbar = next(iter(w.findChildren(QToolBar)), None)
        if toolbar is not None:
            before = toolbar.actions()[0] if toolbar.actions() else None
            toolbar.insertAction(before, self.act_new_booking)
            toolbar.insertSeparator(before)
        detail = getattr(w, "detail", None)
        if detail is not None and hasattr(detail, "customerCardRequested"):
            detail.customerCardRequested.connect(self.open_customer_card)
        queue = getattr(w, "queue", None)
        if queue is not None and hasattr(queue, "printRequested"):
            queue.printRequested.connect(self.print_ticket)

    def finish_menus(self) -> None:
        """Once every part of the window added its menus: File (Quit, Ctrl+Q) first, Help
        last, and every menu drawing its shortcuts left to right."""
        bar = self.window.menuBar()
        self.act_quit = self._action(N_("&Quit"), self.window.close, "Ctrl+Q")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        first = bar.actions()[0] if bar.actions() else None
        self.file_menu = QMenu(_("&File"), self.window)
        self.act_ticket_printer = self._action(N_("Ticket &printer…"), self.printer.choose_ticket_printer)
        self.file_menu.addAction(self.act_ticket_printer)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)
        bar.insertMenu(first, self.file_menu)
        bar.removeAction(self.help_menu.menuAction())
        bar.addMenu(self.help_menu)
        self.style_menus()

    def style_menus(self) -> None:
        self.menu_style = getattr(self, "menu_style", None) or MenuShortcutStyle()
        for menu in self.window.findChildren(QMenu):
            if menu.style() is not self.menu_style:
                menu.setStyle(self.menu_style)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        if getattr(self, "file_menu", None) is not None:
            self.file_menu.setTitle(_("&File"))
            self.style_menus()  # menus rebuilt by a language switch
        for action, msgid in self._msgids.items():
            action.setText(_(msgid))
        self.act_chime.setText(_("&Chime on call"))
        self.screen_menu.setTitle(_("Waiting-&room screen"))
        fill_screen_menu(self.screen_menu, self.open_waiting_room, self.act_chime)
        self.help_menu.setTitle(_("&Help"))

    # helpers --------------------------------------------------------------------------------
    def _status(self, text: str, error: bool = False) -> None:
        self.window.statusBar().showMessage(("⚠ " + text) if error else text, 15000 if error else 8000)

    def _ready(self) -> bool:
        if not self.window.state.loaded:
            self._status(_("Still loading from the branch server; try again in a moment."), error=True)
            return False
        return True

    def _keep(self, dialog: QDialog) -> None:
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.dialogs.remove(dialog) if dialog in self.dialogs else None)

    # new booking and search -------------------------------------------------------------------
    def new_booking(self) -> BookingDialog | None:
        if self.booking_dialog is not None:
            self.booking_dialog.raise_()
            self.booking_dialog.activateWindow()
            self.booking_dialog.focus_search()
            return self.booking_dialog
        if not self._ready():
            return None
        state = self.window.state
        dialog = BookingDialog(self.window.client, state.resources, state.types, state.zone, state.today_date(),
                               self.window, cloud_status=self.window.sync_desk.status.status)
        dialog.booked.connect(self._booked)
        dialog.customerCardRequested.connect(lambda customer: self.open_customer_card(customer, dialog))
        dialog.printTicket.connect(lambda booking: self.print_ticket(booking["id"]))
        dialog.finished.connect(lambda _r: setattr(self, "booking_dialog", None))
        self.booking_dialog = dialog
        self._keep(dialog)
        dialog.open()
        dialog.focus_search()
        return dialog

    def open_customer_card(self, customer: dict, parent: QWidget | None = None) -> CustomerCard:
        """The customer's card over ``parent`` (the main window by default)."""
        card = CustomerCard(self.window.client, customer, self.window.state.zone, parent or self.window,
                            now=self.window.state.now())
        self._keep(card)
        card.open()
        card.load()
        return card

    def go_to_date(self) -> GoToDateDialog | None:
        """Day → Go to date (Ctrl+D): a month calendar with the Hijri date beside."""
        state = self.window.state
        dialog = GoToDateDialog(state.day or state.today_date(), state.today_date(), self.window)
        dialog.accepted.connect(lambda: self.window.go_to(dialog.day()))
        self._keep(dialog)
        dialog.open()
        return dialog

    def find_customer(self) -> None:
        self.new_booking()

    def _booked(self, booking: dict) -> None:
        w = self.window
        name = fsi(f.customer_name(booking))
        if booking.get("startDateTime"):
            text = _("Booked: {name}").format(name=name)
        else:
            # Translators: status message after a walk-in joined the queue.
            text = _("In the queue: {name}, ticket {number}").format(
                name=name, number=fsi(f.ticket_text(booking)))
        w.selected_id, w.selected_booking = booking["id"], booking
        day = date.fromisoformat(booking["startDate"]) if booking.get("startDate") else None
        if day is not None and day != w.state.day:
            w.go_to(day)
        else:
            w.state.put(booking)  # the reply is the booking: no refetch
        self._status(text)

    # queue and doctor mode ----------------------------------------------------------------------
    def accept_next(self) -> None:
        if self.doctor is not None and self.doctor.isVisible():
            self.doctor.accept_next()
            return
        waiting = self.window.state.waiting
        if not waiting:
            self._status(_("Nobody is waiting."))
            return
        first = min(waiting, key=lambda b: (b.get("createdAt") or "", b["id"]))  # FIFO: the longest wait
        self.window.run_action("accept", first["id"])

    def open_doctor_mode(self, resource_id: str | None) -> None:
        """Doctor mode for ``resource_id`` (after the first load), or ask which provider."""
        w = self.window
        if not w.state.loaded:
            if resource_id:
                w.first_load.add_done_callback(
                    lambda fut: not fut.cancelled() and fut.exception() is None and self.open_doctor_mode(resource_id))
            else:
                self._ready()
            return
        if resource_id is None:
            picker = ResourcePicker(w.state.resources, self.doctor.resource_id if self.doctor else None, w)
            picker.accepted.connect(lambda: picker.resource_id() and self.open_doctor_mode(picker.resource_id()))
            self._keep(picker)
            picker.open()
            return
        resource = w.state.resource(resource_id)
        if resource is None:
            # Translators: %(id)s is a resource id given with --provider.
            self._status(_("There is no provider with the id %(id)s.") % {"id": fsi(resource_id)}, error=True)
            return
        if self.doctor is not None:
            self.doctor.close()
            self.doctor.deleteLater()
        doctor = DoctorMode(w.client, resource, w.state.zone, w.state.types, w.state.branch, w)
        self.doctor = doctor
        doctor.start()
        doctor.show()

    # waiting room -----------------------------------------------------------------------------
    def open_waiting_room(self, screen=None) -> WaitingRoom:
        if self.waiting_room is None:
            room = WaitingRoom(self.window.client, self.window)
            room.chime = self.act_chime.isChecked()
            room.destroyed.connect(lambda _obj=None: setattr(self, "waiting_room", None))
            room.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.waiting_room = room
            room.start()
        self.waiting_room.show_on(screen)
        return self.waiting_room

    # printing and export ----------------------------------------------------------------------
    def _day_bookings(self) -> list[dict]:
        """The viewed day's bookings (the state may hold a whole week in week view)."""
        state = self.window.state
        zone = ZoneInfo(state.zone)
        return [b for b in state.bookings if b.get("startDateTime")
                and from_iso(b["startDateTime"]).astimezone(zone).date() == state.day]

    def _resources(self) -> list[dict]:
        w = self.window
        if self.doctor is not None and self.doctor.isActiveWindow():
            return [self.doctor.resource]
        return w.state.resources

    def day_sheet(self) -> str:
        state = self.window.state
        return day_sheet_html(state.day, self._resources(), self._day_bookings(), state.types, state.zone,
                              state.branch, printed_at=utc_now())

    def _title(self) -> str:
        # Translators: a printed document's title; {date} is the day.
        return _("Day sheet {date}").format(date=f.day_label(self.window.state.day))

    def print_day(self) -> None:
        if self._ready():
            self.printer.print_html(self.day_sheet(), self._title())

    def save_day_pdf(self) -> None:
        if self._ready():
            self.printer.save_pdf(self.day_sheet(), f"istiqbal-{self.window.state.day.isoformat()}.pdf")

    def print_ticket(self, booking_id: str) -> None:
        w = self.window

        async def load() -> dict:
            waiting = await w.client.waiting()
            found = next((b for b in waiting if b["id"] == booking_id), None)
            return found or await w.client.booking(booking_id)

        def show(booking: dict) -> None:
            # Translators: a printed ticket's title; {number} is the queue number.
            title = _("Queue ticket {number}").format(number=f.ticket_text(booking))
            self.printer.print_ticket(ticket_html(booking, w.state.types, w.state.zone, w.state.branch, utc_now()),
                                      title)

        self._status(_("Preparing the ticket…"))
        w.tasks.run(load(), show, lambda exc: self._status(message_for(exc), error=True))

    def _save_dialog(self, title: str, suggested: str, file_filter: str, suffix: str,
                     write: Callable[[str], Path]) -> QFileDialog:
        dialog = QFileDialog(self.window, title, str(Path.home() / suggested), file_filter)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(suffix)

        def chosen(path: str) -> None:
            try:
                write(path)
            except OSError as exc:
                self._status(_("Could not save the file: {error}").format(error=exc), error=True)
                return
            self._status(_("Saved: %(path)s") % {"path": f"\u2066{path}\u2069"})

        dialog.fileSelected.connect(chosen)
        self._keep(dialog)
        dialog.open()
        return dialog

    def export_csv(self) -> QFileDialog | None:
        if not self._ready():
            return None
        state = self.window.state
        return self._save_dialog(_("Export day as CSV"), f"istiqbal-{state.day.isoformat()}.csv",
                                 _("CSV files (*.csv)"), "csv",
                                 lambda path: export.write_csv(path, self._day_bookings(), state.zone, state.types,
                                                               state.resources))

    def export_ics(self) -> QFileDialog | None:
        if not self._ready():
            return None
        state = self.window.state
        return self._save_dialog(_("Export day as iCalendar"), f"istiqbal-{state.day.isoformat()}.ics",
                                 _("iCalendar files (*.ics)"), "ics",
                                 lambda path: export.write_ics(path, self._day_bookings(), state.zone, state.types,
                                                               state.resources, state.branch))

    # help -------------------------------------------------------------------------------------
    def shortcut_rows(self) -> list[tuple[str, str]]:
        actions = list(self.window.findChildren(QAction))
        rows = shortcut_rows(actions)
        doctor = [(_("Doctor mode: ") + _plain(_("Accept next")), ACCEPT_NEXT_SHORTCUT)]
        doctor += [(_("Doctor mode: ") + _(label), keys) for label, keys in
                   zip((N_("Start"), N_("End"), N_("No-show")), (k for _n, k in PATIENT_ACTIONS), strict=True)]
        hints = [(_(msgid), native_keys(keys)) for keys, msgid in KEY_HINTS]
        hints += [(_(msgid), keys) for label, msgid in MNEMONIC_HINTS if (keys := mnemonic_keys(_(label)))]
        native = [(text, QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys)
                  for text, keys in doctor]
        return rows + [r for r in native if r not in rows] + hints

    def show_shortcuts(self) -> ShortcutSheet:
        sheet = ShortcutSheet(self.shortcut_rows(), self.window)
        self._keep(sheet)
        sheet.open()
        return sheet

