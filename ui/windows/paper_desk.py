"""The main window's paper and files: *Day → Print day sheet…* (Ctrl+P), *Save day sheet as
PDF…* (Ctrl+Shift+P), *Export day as CSV…* (Ctrl+Shift+E) and *as iCalendar…*
(Ctrl+Shift+I), *File → Ticket printer…*, and the queue ticket a walk-in gets (from the
queue panel or the booking dialog). The documents themselves are :mod:`ui.paper`'s.

``PaperDesk(window)`` adds them to a :class:`ui.windows.main.MainWindow`; its
``act_ticket_printer`` goes in the File menu (:meth:`ui.core.menus.DeskMenus.finish`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog

from app.domain.clock import from_iso, utc_now
from app.i18n import N_, _
from ui.core import formatting as f
from ui.core.errors import message_for
from ui.core.menus import DeskPart, menu_named
from ui.paper import export
from ui.paper.printing import Printer, day_sheet_html, ticket_html


class PaperDesk(DeskPart):
    """Day sheets, queue tickets and the day's export (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.printer = Printer(window)
        self.printer.done.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.printer.failed.connect(lambda text: window.statusBar().showMessage("⚠ " + text, 15000))
        self.act_print_day = self.action(
            N_("&Print day sheet…"), self.print_day, QKeySequence.StandardKey.Print
        )
        self.act_pdf_day = self.action(N_("Save day sheet as P&DF…"), self.save_day_pdf, "Ctrl+Shift+P")
        self.act_csv = self.action(N_("Export day as &CSV…"), self.export_csv, "Ctrl+Shift+E")
        self.act_ics = self.action(N_("Export day as &iCalendar…"), self.export_ics, "Ctrl+Shift+I")
        self.act_ticket_printer = self.action(N_("Ticket &printer…"), self.printer.choose_ticket_printer)
        day = menu_named(window, _("&Day"))
        day.addSeparator()
        for action in (self.act_print_day, self.act_pdf_day, self.act_csv, self.act_ics):
            day.addAction(action)
        queue = getattr(window, "queue", None)
        if queue is not None and hasattr(queue, "printRequested"):
            queue.printRequested.connect(self.print_ticket)

    def _day_bookings(self) -> list[dict]:
        """The viewed day's bookings (the state may hold a whole week in week view)."""
        state = self.window.state
        zone = ZoneInfo(state.zone)
        return [
            b
            for b in state.bookings
            if b.get("startDateTime") and from_iso(b["startDateTime"]).astimezone(zone).date() == state.day
        ]

    def _resources(self) -> list[dict]:
        """The resources of the day sheet: doctor mode's provider when it is the active
        window, else every resource."""
        doctor = getattr(getattr(self.window, "screens", None), "doctor", None)
        if doctor is not None and doctor.isActiveWindow():
            return [doctor.resource]
        return self.window.state.resources

    def day_sheet(self) -> str:
        state = self.window.state
        return day_sheet_html(
            state.day,
            self._resources(),
            self._day_bookings(),
            state.types,
            state.zone,
            state.branch,
            printed_at=utc_now(),
        )

    def _title(self) -> str:
        # Translators: a printed document's title; {date} is the day.
        return _("Day sheet {date}").format(date=f.day_label(self.window.state.day))

    def print_day(self) -> None:
        if self.ready():
            self.printer.print_html(self.day_sheet(), self._title())

    def save_day_pdf(self) -> None:
        if self.ready():
            self.printer.save_pdf(self.day_sheet(), f"istiqbal-{self.window.state.day.isoformat()}.pdf")

    def print_ticket(self, booking_id: str) -> None:
        """Print the queue ticket of ``booking_id`` (fetched first: the number and the wait)."""
        w = self.window

        async def load() -> dict:
            waiting = await w.client.waiting()
            found = next((b for b in waiting if b["id"] == booking_id), None)
            return found or await w.client.booking(booking_id)

        def show(booking: dict) -> None:
            # Translators: a printed ticket's title; {number} is the queue number.
            title = _("Queue ticket {number}").format(number=f.ticket_text(booking))
            self.printer.print_ticket(
                ticket_html(booking, w.state.types, w.state.zone, w.state.branch, utc_now()), title
            )

        self.status(_("Preparing the ticket…"))
        w.tasks.run(load(), show, lambda exc: self.status(message_for(exc), error=True))

    def _save_dialog(
        self, title: str, suggested: str, file_filter: str, suffix: str, write: Callable[[str], Path]
    ) -> QFileDialog:
        dialog = QFileDialog(self.window, title, str(Path.home() / suggested), file_filter)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(suffix)

        def chosen(path: str) -> None:
            try:
                write(path)
            except OSError as exc:
                self.status(_("Could not save the file: {error}").format(error=exc), error=True)
                return
            self.status(_("Saved: %(path)s") % {"path": f"\u2066{path}\u2069"})

        dialog.fileSelected.connect(chosen)
        self.keep(dialog)
        dialog.open()
        return dialog

    def export_csv(self) -> QFileDialog | None:
        if not self.ready():
            return None
        state = self.window.state
        return self._save_dialog(
            _("Export day as CSV"),
            f"istiqbal-{state.day.isoformat()}.csv",
            _("CSV files (*.csv)"),
            "csv",
            lambda path: export.write_csv(
                path, self._day_bookings(), state.zone, state.types, state.resources
            ),
        )

    def export_ics(self) -> QFileDialog | None:
        if not self.ready():
            return None
        state = self.window.state
        return self._save_dialog(
            _("Export day as iCalendar"),
            f"istiqbal-{state.day.isoformat()}.ics",
            _("iCalendar files (*.ics)"),
            "ics",
            lambda path: export.write_ics(
                path, self._day_bookings(), state.zone, state.types, state.resources, state.branch
            ),
        )
