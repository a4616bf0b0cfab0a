"""Paper and files: the day sheet printed to PDF (text read back with pypdf), a queue
ticket, the print dialog opened without blocking, and CSV / iCalendar exports parsed back."""

from __future__ import annotations

import csv
import re
from datetime import UTC
from zoneinfo import ZoneInfo

from icalendar import Calendar
from pypdf import PdfReader
from PySide6.QtCore import Qt

from app.domain.clock import from_iso
from app.domain.model import Status
from app.i18n import set_language
from app.i18n.text import strip_bidi_controls
from tests.ui.conftest import until


def _pdf_text(path) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    return re.sub(r"\s+", " ", strip_bidi_controls(text))  # pypdf gives tabs for spaces


def test_day_sheet_to_pdf_through_the_save_dialog(loop, desk, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from ui.paper.printing import day_sheet_html

    window, state = desk, desk.state
    path = tmp_path / "sheet.pdf"

    async def scenario():
        window.paper.act_pdf_day.trigger()
        dialog = await until(
            lambda: next(
                (d for d in window.paper.printer.dialogs if isinstance(d, QFileDialog) and d.isVisible()),
                None,
            ),
            what="the non-blocking save dialog",
        )
        dialog.fileSelected.emit(str(path))  # as if the user chose the file
        dialog.reject()
        await until(lambda: path.exists() and "Saved" in window.statusBar().currentMessage(), what="the PDF")

    loop.run_until_complete(scenario())
    text = _pdf_text(path)
    day = [b for b in state.bookings if b["status"] != Status.CANCELED]
    used = [r for r in state.resources if any(b["resourceId"] == r["id"] for b in day)]
    assert len(PdfReader(str(path)).pages) >= len(used)
    for resource in used:
        assert resource["name_translations"]["en"] in text
    latin = next(b for b in day if b["customer"]["firstName"].isascii())
    assert latin["customer"]["firstName"] in text
    assert "AH" in text  # the Hijri date
    assert str(state.day.year) in text
    assert "Bookings:" in text

    set_language("ar")
    try:
        markup = day_sheet_html(
            state.day, state.resources, state.bookings, state.types, state.zone, state.branch
        )
    finally:
        set_language("en")
    assert 'dir="rtl"' in markup and "page-break-before" in markup


MM = 72 / 25.4  # PDF points per millimetre


def test_ticket_goes_to_the_chosen_ticket_printer_without_a_dialog(loop, desk, tmp_path, monkeypatch):
    """The first ticket asks which printer (here: the PDF choice); the next ones print there
    on an 80 mm roll with no dialog at all, entirely in the desk's language."""
    from PySide6.QtPrintSupport import QPrintDialog

    from app import desk_prefs
    from ui.core import language
    from ui.paper.printing import PDF_PREFIX, TicketPrinterDialog

    monkeypatch.setenv(desk_prefs.ENV_DIR, str(tmp_path / "config"))
    window, state = desk, desk.state
    waiting = state.waiting[0]
    path = tmp_path / "ticket.pdf"
    assert desk_prefs.ticket_printer() is None

    async def scenario():
        window.queue.select(waiting["id"])
        assert window.queue.print_button.isEnabled()
        window.queue.print_button.click()
        chooser = await until(
            lambda: next(
                (
                    d
                    for d in window.paper.printer.dialogs
                    if isinstance(d, TicketPrinterDialog) and d.isVisible()
                ),
                None,
            ),
            what="the ticket printer chooser (first time)",
        )
        pdf_row = chooser.list.count() - 1
        chooser.list.item(pdf_row).setData(256, PDF_PREFIX + str(path))
        chooser.list.setCurrentRow(pdf_row)
        chooser.accept()
        await until(
            lambda: path.exists() and "Sent to the printer" in window.statusBar().currentMessage(),
            what="the first ticket",
        )
        assert desk_prefs.ticket_printer() == PDF_PREFIX + str(path)
        first = _pdf_text(path)
        assert waiting["ticket"] in first and "Your queue number" in first  # the string the queue shows
        assert "Please wait until your number is called." in first
        path.unlink()

        language.controller().apply("ar")
        try:
            window.queue.print_button.click()
            await until(lambda: path.exists(), what="the second ticket, straight to the printer")
            assert not any(
                isinstance(d, (QPrintDialog, TicketPrinterDialog)) for d in window.paper.printer.dialogs
            )
        finally:
            language.controller().apply("en")

    loop.run_until_complete(scenario())
    page = PdfReader(str(path)).pages[0]
    assert abs(float(page.mediabox.width) - 80 * MM) < 1  # an 80 mm roll, not Letter/A4
    assert float(page.mediabox.height) < 150 * MM
    text = _pdf_text(path)
    prefix = re.sub(
        r"[^A-Za-z]", "", waiting["ticket"]
    )  # a ticket's prefix is Latin (A001) in every language
    latin = re.sub(r"[^A-Za-z]", "", text).replace(prefix, "")
    branch = state.branch.get("name_translations", {}).get("ar") if state.branch else None
    assert latin == "" or (branch and latin in re.sub(r"[^A-Za-z]", "", branch)), text  # no English line
    assert any("\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufeff" for ch in text)


def test_arabic_ticket_lays_out_right_to_left_with_the_period_at_the_end():
    """The document is laid out right to left, so a sentence's final period sits at its
    visual left end (its logical end) in Arabic."""
    from PySide6.QtGui import QTextLayout

    from ui.paper.printing import document, ticket_html

    set_language("ar")
    try:
        doc = document(ticket_html({"queueNumber": 7, "customer": {}}, {}, "Asia/Riyadh"))
        doc.setTextWidth(300)
        block = doc.lastBlock()
        text = block.text()
        assert text.endswith(".") and not re.search(r"[A-Za-z]", text)
        doc.size()  # lays the document out
        assert block.textDirection() == Qt.LayoutDirection.RightToLeft
        xs = {}
        line = block.layout().lineAt(0)
        for run in line.glyphRuns(-1, -1, QTextLayout.GlyphRunRetrievalFlag.RetrieveAll):
            for index, position in zip(run.stringIndexes(), run.positions(), strict=False):
                xs[index] = position.x()
        assert xs[len(text) - 1] < min(
            x for i, x in xs.items() if i < len(text) - 1
        )  # the sentence's end (its period) is on the left
    finally:
        set_language("en")


def test_csv_and_ics_exports_parse_back(desk, tmp_path):
    from ui.paper import export

    state = desk.state
    day = desk.paper._day_bookings()
    shown = sorted(
        (b for b in day if b["status"] != Status.CANCELED),
        key=lambda b: (b["startDateTime"], b["resourceId"]),
    )
    assert shown

    csv_path = export.write_csv(tmp_path / "day.csv", day, state.zone, state.types, state.resources)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    with open(csv_path, encoding="utf-8-sig", newline="") as fp:
        rows = list(csv.reader(fp))
    assert rows[0][:3] == ["Date", "Start", "End"]
    assert len(rows) == len(shown) + 1
    zone = ZoneInfo(state.zone)
    for row, booking in zip(rows[1:], shown, strict=True):
        start = from_iso(booking["startDateTime"]).astimezone(zone)
        assert row[0] == start.date().isoformat() and row[1] == start.strftime("%H:%M")
        assert row[4] == f"{booking['customer']['firstName']} {booking['customer']['lastName']}"
    assert any(any("\u0600" <= ch <= "\u06ff" for ch in row[4]) for row in rows[1:])  # Arabic names survive

    ics_path = export.write_ics(
        tmp_path / "day.ics", day, state.zone, state.types, state.resources, state.branch
    )
    calendar = Calendar.from_ical(ics_path.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(shown)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [state.zone]
    by_uid = {str(e["UID"]): e for e in events}
    for booking in shown:
        event = by_uid[f"{booking['id']}@istiqbal"]
        start = event.decoded("DTSTART")
        assert str(event["DTSTART"].params["TZID"]) == state.zone
        assert start.astimezone(UTC) == from_iso(booking["startDateTime"])
        assert event.decoded("DTEND").astimezone(UTC) == from_iso(booking["endDateTime"])
        assert booking["customer"]["firstName"] in str(event["SUMMARY"])
