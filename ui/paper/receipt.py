"""The printed receipt: a simplified tax invoice on an 80 mm receipt roll or in a PDF.

Built from the server's ``GET /management/payments/{id}/receipt`` (see
:meth:`app.server.payments.Payments.receipt`): seller name and VAT registration number,
the invoice number, the time in the branch's zone, the service, the amounts without VAT,
the VAT (rate and amount) and the total with VAT, the method, and the QR code of Saudi
simplified tax invoices (ZATCA phase 1: Base64 TLV of seller, VAT number, time stamp,
total, VAT; :mod:`app.domain.zatca`) drawn with ``segno``. The title is in Arabic and
English on every receipt; the rest follows the desk's language and digits. A refund prints
as a credit note with negative amounts and its reason.

HTML rendered by ``QTextDocument`` (the QR code an embedded PNG), so printing and the PDF
are one code path; the page is 80 mm wide and as long as the receipt.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import segno
from PySide6.QtCore import QMarginsF, QSizeF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument, QTextOption
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog

from app.domain.clock import from_iso
from app.domain.payments import to_major
from app.i18n import _, is_rtl
from app.i18n import formats as fmt
from app.i18n.text import display_name
from ui.paper.printing import Printer

log = logging.getLogger(__name__)
PAGE_WIDTH_MM = 80
MARGIN_MM = 3
QR_MM = 34
_SCREEN_DPI = 96  # QTextDocument lays out in 96-dpi pixels and scales to the printer


def method_label(method: str) -> str:
    """The payment method's name in the desk's language."""
    return {
        "cash": _("Cash"),
        "card": _("Card"),
        "transfer": _("Bank transfer"),
        "online": _("Online"),
        # Translators: a payment method a cloud booking platform names that the desk has no word for (prepaid…).
        "other": _("Other"),
    }.get(method, method)


def money(amount: int, currency: str) -> str:
    """Minor units → ``SAR 150.00`` / ``‏١٥٠٫٠٠ ر.س.‏`` (Babel, the desk's digits)."""
    return fmt.format_currency(to_major(amount, currency), currency)


def qr_png(payload: str, scale: int = 4) -> bytes:
    """The QR code of ``payload`` as PNG bytes (error correction M, 4-module border)."""
    import io

    out = io.BytesIO()
    segno.make(payload, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_data_uri(payload: str, scale: int = 4) -> str:
    """The QR code of ``payload`` as a PNG ``data:`` URI (error correction M, 4-module border)."""
    return segno.make(payload, error="m").png_data_uri(scale=scale, border=4)


def ltr_cells(*cells: tuple[str, str]) -> list[tuple[str, str]]:
    """Table cells ``(text, align)`` in reading order → in left-to-right order: QTextDocument
    does not mirror table columns, so a right-to-left row is given reversed and mirrored."""
    if not is_rtl():
        return list(cells)
    flip = {"left": "right", "right": "left"}
    return [(text, flip.get(align, align)) for text, align in reversed(cells)]


def _e(value: object) -> str:
    return html.escape(str(value if value is not None else ""))


def receipt_html(receipt: dict, zone: str) -> str:
    """The simplified tax invoice of one payment (``receipt``: the server's receipt object)."""
    p = receipt["payment"]
    currency = p["currency"]
    d = "rtl" if is_rtl() else "ltr"
    refund = p["amount"] < 0
    title_ar, title_en = (
        ("إشعار دائن", "Credit note") if refund else ("فاتورة ضريبية مبسطة", "Simplified tax invoice")
    )
    customer = receipt.get("customer") or {}
    name = " ".join(x for x in (customer.get("firstName"), customer.get("lastName")) if x)
    booking_type = receipt.get("type") or {}
    when = from_iso(p["createdAt"])
    rate = fmt.format_number(p["vatRate"] / 100)
    rows = [
        (_("Invoice number"), fmt.localize_digits(str(p["invoiceNumber"]))),
        (_("Date"), fmt.format_datetime(when, zone)),
        (_("Customer"), name),
        (_("Service"), display_name(booking_type) if booking_type else ""),
    ]
    amounts = [
        (_("Total without VAT"), money(receipt["net"], currency)),
        # Translators: {rate} is the VAT rate in per cent, e.g. "VAT 15%".
        (_("VAT {rate}%").format(rate=rate), money(p["vatAmount"], currency)),
    ]
    after = [(_("Method"), method_label(p["method"]))]
    if p.get("reference"):
        after.append((_("Reference"), p["reference"]))
    if refund and p.get("reason"):
        after.append((_("Refund reason"), p["reason"]))
    if p.get("actor"):
        after.append((_("Received by"), p["actor"]))

    def table(pairs, bold_last=False):
        out = ['<table width="100%" cellspacing="0" cellpadding="1">']
        for i, (label, value) in enumerate(pairs):
            weight = "font-weight:bold;" if bold_last and i == len(pairs) - 1 else ""
            out.append(
                "<tr>"
                + "".join(
                    f'<td align="{a}" dir="{d}" style="{weight}">{_e(c)}</td>'
                    for c, a in ltr_cells((label, "left"), (value, "right"))
                )
                + "</tr>"
            )
        return "".join(out) + "</table>"

    total = (_("Total with VAT"), money(p["amount"], currency))
    qr_px = round(QR_MM / 25.4 * _SCREEN_DPI)
    vat_number, vat_included = _("VAT number"), _("Prices include VAT.")
    return (
        f'<html><body dir="{d}">'
        f'<p align="center" style="font-size:12pt; font-weight:bold; margin:0;">{_e(title_ar)}</p>'
        f'<p align="center" style="font-size:10pt; font-weight:bold; margin:0;">{_e(title_en)}</p>'
        f'<p align="center" dir="{d}" style="font-size:11pt; margin-top:4px;">{_e(receipt["sellerName"])}</p>'
        f'<p align="center" dir="{d}" style="margin:0;">{_e(vat_number)}: '
        f'<span dir="ltr">{_e(fmt.localize_digits(receipt["vatNumber"] or "—"))}</span></p>'
        f"<hr/>{table(rows)}<hr/>{table([*amounts, total], bold_last=True)}<hr/>{table(after)}"
        f'<p align="center"><img src="{qr_data_uri(receipt["qr"])}" width="{qr_px}" height="{qr_px}"/></p>'
        f'<p align="center" dir="{d}" style="font-size:8pt;">{_e(vat_included)}</p>'
        "</body></html>"
    )


def document(markup: str) -> QTextDocument:
    """The receipt laid out 80 mm wide (less margins); its height is the receipt's."""
    from ui.paper.printing import document_font  # the bundled Latin and Arabic families

    doc = QTextDocument()
    doc.setDefaultFont(document_font())
    option = QTextOption()
    option.setTextDirection(Qt.LayoutDirection.RightToLeft if is_rtl() else Qt.LayoutDirection.LeftToRight)
    doc.setDefaultTextOption(option)
    doc.setDocumentMargin(0)
    doc.setHtml(markup)
    width = (PAGE_WIDTH_MM - 2 * MARGIN_MM) / 25.4 * _SCREEN_DPI
    doc.setTextWidth(width)
    # A page size makes print_() keep this layout (scaled to the printer) instead of laying
    # the text out again with its own 2 cm margins.
    doc.setPageSize(QSizeF(width, doc.size().height() + 4))
    return doc


def page_layout(doc: QTextDocument) -> QPageLayout:
    """An 80 mm wide page exactly as long as ``doc`` (one page, no blank roll)."""
    height_mm = doc.pageSize().height() / _SCREEN_DPI * 25.4 + 2 * MARGIN_MM
    return QPageLayout(
        QPageSize(QSizeF(PAGE_WIDTH_MM, height_mm), QPageSize.Unit.Millimeter),
        QPageLayout.Orientation.Portrait,
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
        QPageLayout.Unit.Millimeter,
    )


def render(markup: str, printer: QPrinter) -> None:
    doc = document(markup)
    printer.setPageLayout(page_layout(doc))
    doc.print_(printer)


def write_pdf(markup: str, path: str | Path) -> Path:
    """The receipt as a PDF at ``path`` (synchronous; it takes milliseconds)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    render(markup, printer)
    return Path(path)


class ReceiptPrinter(Printer):
    """Print (``QPrintDialog`` opened with ``open()``) or save a receipt as PDF (a
    non-blocking ``QFileDialog``) from the desk, on pages as long as the receipt;
    ``done`` / ``failed`` carry a message. Dialogs and printers stay referenced until they
    close (:class:`ui.paper.printing.Printer`)."""

    def print_receipt(self, receipt: dict, zone: str) -> QPrintDialog:
        return self.print_markup(receipt_html(receipt, zone), self.title(receipt))

    def save_pdf(self, receipt: dict, zone: str) -> QFileDialog:
        return self.save_markup(
            receipt_html(receipt, zone), f"invoice-{receipt['payment']['invoiceNumber']}.pdf"
        )

    def print_markup(self, markup: str, title: str) -> QPrintDialog:
        """Any 80 mm document (a receipt, the day's drawer report) through the print dialog."""
        return self.print_html(markup, title, layout=page_layout(document(markup)))

    def save_markup(self, markup: str, suggested: str) -> QFileDialog:
        dialog = QFileDialog(
            self.widget, _("Save as PDF"), str(Path.home() / suggested), _("PDF files (*.pdf)")
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(lambda path: self.write(markup, path))
        self._keep(dialog)
        dialog.open()
        return dialog

    def write(self, markup: str, path: str) -> None:
        try:
            write_pdf(markup, path)
        except Exception as exc:
            log.exception("writing the receipt PDF failed")
            self.failed.emit(_("Could not write the PDF: {error}").format(error=exc))
            return
        self.done.emit(_("Saved: %(path)s") % {"path": f"\u2066{path}\u2069"})

    def _render(self, markup: str, printer: QPrinter) -> None:
        render(markup, printer)  # this module's: the page is as long as the receipt

    @staticmethod
    def title(receipt: dict) -> str:
        # Translators: the printed receipt's document name; {n} is the invoice number.
        return _("Invoice {n}").format(n=fmt.localize_digits(str(receipt["payment"]["invoiceNumber"])))
