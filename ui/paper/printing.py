"""Paper: a day sheet per resource and a walk-in's queue ticket.

Both are HTML rendered by ``QTextDocument`` (``dir="rtl"`` in Arabic), printed through
``QPrintDialog`` opened with ``open()`` (never ``exec()``: the qasync loop keeps running)
or written to PDF (``QPrinter.PdfFormat``) at a path chosen in a non-blocking
``QFileDialog``. The HTML builders are plain functions, so tests and other views can
reuse them."""

from __future__ import annotations

import html
import logging
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QMarginsF, QObject, QSizeF, Qt, Signal
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QTextDocument, QTextOption
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import desk_prefs
from app.domain.clock import from_iso
from app.domain.model import Status
from app.i18n import _, is_rtl
from app.i18n import formats as fmt
from app.i18n.labels import status_label
from app.i18n.text import display_name
from ui.core import formatting as f

log = logging.getLogger(__name__)
TICKET_SIZE_MM = QSizeF(80, 120)  # a receipt printer's roll
_fonts: list[str] = []


def _e(value: object) -> str:
    return html.escape(str(value or ""))


def _direction() -> str:
    return "rtl" if is_rtl() else "ltr"


def bundled_families(arabic_first: bool | None = None) -> list[str]:
    """The bundled font families (registered once), Latin first unless ``arabic_first``
    (default: the desk's language is right to left)."""
    if not _fonts:
        from ui.app import load_fonts

        _fonts.extend(load_fonts())
    arabic = [x for x in _fonts if "Arabic" in x]
    latin = [x for x in _fonts if "Arabic" not in x]
    first = is_rtl() if arabic_first is None else arabic_first
    return arabic + latin if first else latin + arabic


def document_font() -> QFont:
    """The app's font with the bundled Latin and Arabic families (also outside ``ui.app``)."""
    font = QFont(QApplication.font())
    families = bundled_families()
    if families:
        font.setFamilies(families)
    font.setPointSizeF(10)
    return font


def document(markup: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setDefaultFont(document_font())
    option = QTextOption()
    option.setTextDirection(Qt.LayoutDirection.RightToLeft if is_rtl() else Qt.LayoutDirection.LeftToRight)
    doc.setDefaultTextOption(option)
    doc.setHtml(markup)
    return doc


# --- the documents ----------------------------------------------------------------------


def _header(title: str, day: date) -> str:
    dates = f.day_label(day)
    hijri = f.hijri_label(day)
    if hijri:
        dates = f"{dates} — {hijri}"
    return (
        f'<h2 dir="{_direction()}">{_e(title)}</h2>'
        f'<p dir="{_direction()}" style="color:#444;">{_e(dates)}</p>'
    )


def day_sheet_html(
    day: date,
    resources: list[dict],
    bookings: list[dict],
    types: dict[str, dict],
    zone: str,
    branch: dict | None = None,
    printed_at: datetime | None = None,
    include_canceled: bool = False,
) -> str:
    """One page per resource that has bookings on ``day`` (all ``resources`` if none has):
    time, customer, phone, type, state and note, with the Gregorian and Hijri date."""
    d = _direction()
    align = "right" if d == "rtl" else "left"
    branch_name = display_name(branch) if branch else ""
    shown = [b for b in bookings if include_canceled or b.get("status") != Status.CANCELED]
    used = {b.get("resourceId") for b in shown}
    pages = [r for r in resources if r["id"] in used] or list(resources[:1])
    heads = (_("Time"), _("Customer"), _("Phone"), _("Type"), _("State"), _("Note"))
    parts = [f'<html><body dir="{d}">']
    for number, resource in enumerate(pages):
        rows = sorted(
            (b for b in shown if b.get("resourceId") == resource["id"]),
            key=lambda b: b.get("startDateTime") or "",
        )
        title = " — ".join(x for x in (display_name(resource), branch_name) if x)
        style = ' style="page-break-before: always;"' if number else ""
        parts.append(f'<div dir="{d}"{style}>')
        parts.append(_header(title, day))
        parts.append(
            f'<table dir="{d}" width="100%" border="1" cellspacing="0" cellpadding="4" '
            f'style="border-collapse: collapse; border-color: #999;">'
        )
        parts.append(
            "<tr>"
            + "".join(f'<th align="{align}" style="background:#e8edf3;">{_e(h)}</th>' for h in heads)
            + "</tr>"
        )
        for b in rows:
            phone = (b.get("customer") or {}).get("phone") or ""
            # LRI … PDI: QTextDocument ignores dir on a span; the phone must read left to right
            cells = (
                f.span_of(b, zone),
                f.customer_name(b),
                f"\u2066{_e(phone)}\u2069" if phone else "",
                f.type_name(b, types),
                status_label(b.get("status"), b.get("visitStatus")),
                b.get("note"),
            )
            parts.append(
                "<tr>"
                + "".join(f'<td align="{align}">{c if i == 2 else _e(c)}</td>' for i, c in enumerate(cells))
                + "</tr>"
            )
        if not rows:
            empty = _("No bookings on this day.")
            parts.append(f'<tr><td colspan="{len(heads)}" align="{align}">{_e(empty)}</td></tr>')
        parts.append("</table>")
        count = len(rows)
        # Translators: the foot of a printed day sheet; {n} is the number of bookings.
        foot = _("Bookings: {n}").format(n=fmt.format_number(count))
        if printed_at is not None:
            # Translators: the foot of a printed day sheet; {when} is a date and time.
            foot += " · " + _("Printed {when}").format(when=fmt.format_datetime(printed_at, zone))
        parts.append(f'<p dir="{d}" style="color:#666;">{_e(foot)}</p></div>')
    parts.append("</body></html>")
    return "".join(parts)


def ticket_html(
    booking: dict, types: dict[str, dict], zone: str, branch: dict | None = None, now: datetime | None = None
) -> str:
    """A walk-in's ticket: its number (large), the branch, the booking type, when it was
    taken and how many are ahead in the queue."""
    d = _direction()
    number = f.ticket_text(booking) or "—"
    taken = from_iso(booking.get("createdAt")) or now
    lines = [display_name(branch) if branch else "", f.type_name(booking, types)]
    if taken is not None:
        lines.append(fmt.format_datetime(taken, zone))
    position = booking.get("queuePosition")
    if position:
        ahead = max(0, int(position) - 1)
        # Translators: on a queue ticket: how many patients are before this one.
        lines.append(_("Patients before you: {n}").format(n=fmt.format_number(ahead)))
    body = "".join(f'<p align="center" dir="{d}">{_e(x)}</p>' for x in lines if x)
    link = booking.get("paymentLink") if booking.get("status") == "PENDING_PAYMENT" else None
    if link:  # a cloud booking awaiting payment: the patient scans its payment page
        from ui.paper.receipt import qr_data_uri

        scan = _("Awaiting payment: scan to pay")
        body += (
            f'<p align="center" dir="{d}">{_e(scan)}</p>'
            f'<p align="center"><img src="{qr_data_uri(link)}" width="150" height="150"/></p>'
        )
    heading, wait = _("Your queue number"), _("Please wait until your number is called.")
    return (
        f'<html><body dir="{d}">'
        f'<p align="center" dir="{d}" style="font-size:12pt;">{_e(heading)}</p>'
        f'<p align="center" style="font-size:48pt; font-weight:bold;">{_e(number)}</p>'
        f"{body}"
        f'<p align="center" dir="{d}" style="font-size:9pt;">'
        f"{_e(wait)}</p></body></html>"
    )


# --- printing and PDF -------------------------------------------------------------------


def render(markup: str, printer: QPrinter) -> None:
    document(markup).print_(printer)


def write_pdf(markup: str, path: str | Path, ticket: bool = False) -> Path:
    """Render ``markup`` to a PDF file at ``path`` (synchronously; it is quick)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    if ticket:
        _ticket_page(printer)
    render(markup, printer)
    return Path(path)


def _ticket_page(printer: QPrinter) -> None:
    printer.setPageLayout(
        QPageLayout(
            QPageSize(TICKET_SIZE_MM, QPageSize.Unit.Millimeter),
            QPageLayout.Orientation.Portrait,
            QMarginsF(4, 4, 4, 4),
            QPageLayout.Unit.Millimeter,
        )
    )


PDF_PREFIX = "pdf:"


def ticket_printer(name: str) -> QPrinter | None:
    """A QPrinter for the ticket printer ``name`` (a system printer, or ``pdf:PATH``) on an
    80 mm roll page; None when that printer is not installed any more."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if name.startswith(PDF_PREFIX):
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(name[len(PDF_PREFIX) :])
    else:
        if name not in QPrinterInfo.availablePrinterNames():
            return None
        printer.setPrinterName(name)
    printer.setFullPage(False)
    _ticket_page(printer)
    return printer


class TicketPrinterDialog(QDialog):
    """Choose the printer tickets go to from now on (the system's printers, or a PDF file
    for a desk without a receipt printer); remembered per user (app.desk_prefs)."""

    def __init__(self, current: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Ticket printer"))
        self.list = QListWidget()
        names = QPrinterInfo.availablePrinterNames()
        default = QPrinterInfo.defaultPrinterName()
        for name in names:
            item = QListWidgetItem(f"\u2068{name}\u2069")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        pdf = PDF_PREFIX + str(Path.home() / "istiqbal-ticket.pdf")
        item = QListWidgetItem(_("No ticket printer: save each ticket as a PDF file"))
        item.setData(Qt.ItemDataRole.UserRole, current if current and current.startswith(PDF_PREFIX) else pdf)
        self.list.addItem(item)
        wanted = current or default
        rows = [
            i for i in range(self.list.count()) if self.list.item(i).data(Qt.ItemDataRole.UserRole) == wanted
        ]
        self.list.setCurrentRow(rows[0] if rows else 0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())  # Enter: the default button
        label = QLabel(_("&Print queue tickets on:"))
        label.setBuddy(self.list)
        note = QLabel(
            _(
                "Tickets are printed on an 80 mm roll, without asking again. "
                "Change it with File → Ticket printer."
            )
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Use this printer"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.list.setFocus()
        self.resize(460, 320)

    def choice(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None


class Printer(QObject):
    """Print or save HTML documents from the desk without blocking the event loop. Keeps the
    dialogs it opens referenced until they close; ``done`` / ``failed`` carry a message."""

    done = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.widget = parent
        self.dialogs: list = []
        self.printers: list[QPrinter] = []

    def _keep(self, dialog) -> None:
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.dialogs.remove(dialog) if dialog in self.dialogs else None)

    def print_html(self, markup: str, title: str, ticket: bool = False, layout=None) -> QPrintDialog:
        """``markup`` through the print dialog: on a ticket roll (``ticket``), on ``layout``
        (a ``QPageLayout``) or on the printer's own page."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(title)
        if ticket:
            _ticket_page(printer)
        elif layout is not None:
            printer.setPageLayout(layout)
        dialog = QPrintDialog(printer, self.widget)
        dialog.setWindowTitle(title)
        dialog.accepted.connect(lambda: self._print(markup, printer, title))
        # The dialog points at the printer until Qt deletes it (later than ``finished``):
        # keep the printer until the dialog is destroyed, or the dialog touches freed memory.
        self.printers.append(printer)
        dialog.destroyed.connect(
            lambda _obj=None, p=printer: self.printers.remove(p) if p in self.printers else None
        )
        self._keep(dialog)
        QDialog.open(dialog)  # QPrintDialog.open(receiver, member) hides the plain overload
        return dialog

    def _render(self, markup: str, printer: QPrinter) -> None:
        """Lay ``markup`` out on ``printer`` (a subclass lays out its own kind of page)."""
        render(markup, printer)

    def _print(self, markup: str, printer: QPrinter, title: str) -> None:
        try:
            self._render(markup, printer)
        except Exception as exc:  # a driver error must not end the desk
            log.exception("printing failed")
            self.failed.emit(_("Printing failed: {error}").format(error=exc))
            return
        # Translators: %(title)s is the printed document's title.
        self.done.emit(_("Sent to the printer: %(title)s") % {"title": title})

    def save_pdf(self, markup: str, suggested: str, ticket: bool = False) -> QFileDialog:
        dialog = QFileDialog(
            self.widget, _("Save as PDF"), str(Path.home() / suggested), _("PDF files (*.pdf)")
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(lambda path: self.write(markup, path, ticket))
        self._keep(dialog)
        dialog.open()
        return dialog

    def write(self, markup: str, path: str, ticket: bool = False) -> None:
        try:
            write_pdf(markup, path, ticket)
        except Exception as exc:
            log.exception("writing the PDF failed")
            self.failed.emit(_("Could not write the PDF: {error}").format(error=exc))
            return
        # Translators: %(path)s is the saved file's path.
        self.done.emit(_("Saved: %(path)s") % {"path": f"\u2066{path}\u2069"})

    # queue tickets --------------------------------------------------------------------------
    def print_ticket(self, markup: str, title: str) -> TicketPrinterDialog | None:
        """Print a ticket on the chosen ticket printer without a dialog; the first time (or
        when that printer is gone) ask which printer, remember it, then print."""
        name = desk_prefs.ticket_printer()
        printer = ticket_printer(name) if name else None
        if printer is not None:
            printer.setDocName(title)
            self._print(markup, printer, title)
            return None
        return self.choose_ticket_printer(lambda: self.print_ticket(markup, title))

    def choose_ticket_printer(self, then=None) -> TicketPrinterDialog:
        dialog = TicketPrinterDialog(desk_prefs.ticket_printer(), self.widget)

        def chosen() -> None:
            desk_prefs.remember_ticket_printer(dialog.choice())
            if then is not None:
                then()

        dialog.accepted.connect(chosen)
        self._keep(dialog)
        dialog.open()
        return dialog
