"""Payments at the desk: the dialog driven from the keyboard against a real branch server,
the dialog after check-out, and the receipt printed to PDF (text read back with pypdf, the
QR code decoded from the PDF's image with zxing-cpp back to the five ZATCA TLV fields)."""

from __future__ import annotations

import asyncio
import re

import pytest
import zxingcpp
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from app.client import DeskClient
from app.domain import zatca
from app.domain.model import Status
from app.i18n import formats as fmt
from app.i18n import set_language
from app.i18n.text import strip_bidi_controls
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, clock_at, fill, serve
from tests.ui.conftest import until


def _pdf_text(path) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    return re.sub(r"\s+", " ", strip_bidi_controls(text))


def _qr_texts(path) -> list[str]:
    """Every QR code in the PDF's images, decoded from the pixels."""
    out = []
    for page in PdfReader(str(path)).pages:
        for _name, ref in (page["/Resources"].get("/XObject") or {}).items():
            image = QImage.fromData(ref.get_object()._data)  # Qt writes them as JPEG (DCTDecode)
            out += [
                b.text for b in zxingcpp.read_barcodes(image.convertToFormat(QImage.Format.Format_Grayscale8))
            ]
    return out


@pytest.fixture
def clinic(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    store.set_setting("billing", {"vatNumber": "310122393500003", "sellerName": "عيادة الاختبار"})
    service = BookingService(store, clock_at(1000))
    thread = serve(service)
    yield thread, service
    thread.stop()
    store.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_receipt_pdf_has_the_invoice_and_a_qr_code_with_the_five_fields(loop, clinic, tmp_path, lang):
    from ui.paper.receipt import receipt_html, write_pdf

    thread, service = clinic
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def take():
        client = DeskClient(thread.url, token=thread.token, desk_id="desk-1", user="Huda")
        try:
            await client.take_payment(booking["id"], 5000, "cash")
            second = await client.take_payment(booking["id"], 10000, "card", reference="POS 77")
            return await client.receipt(second["id"])
        finally:
            await client.aclose()

    receipt = loop.run_until_complete(take())
    path = tmp_path / f"receipt-{lang}.pdf"
    set_language(lang)
    try:
        markup = receipt_html(receipt, service.zone)
        write_pdf(markup, path)
        if lang == "ar":  # QTextDocument does not mirror table columns: the row comes reversed
            row = re.search(r"<tr>(.*?)</tr>", markup).group(1)
            assert row.index(">2<") < row.index("رقم الفاتورة")
    finally:
        set_language("en")
    reader = PdfReader(str(path))
    assert len(reader.pages) == 1
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    assert abs(width_mm - 80) < 0.5
    text = _pdf_text(path)
    assert "310122393500003" in text and "invoice" in text  # the title is in both languages
    assert "100.00" in text and "13.04" in text and "86.96" in text  # total, VAT 15 % in it, without VAT
    if lang == "en":
        assert "Invoice number 2" in text and "SAR" in text and "POS 77" in text
    [payload] = _qr_texts(path)
    assert payload == receipt["qr"]
    assert zatca.read_invoice_qr(payload) == {
        "sellerName": "عيادة الاختبار",
        "vatNumber": "310122393500003",
        "timestamp": "2026-11-22T07:00:00Z",
        "total": "100.00",
        "vatTotal": "13.04",
    }


def test_refund_prints_as_a_credit_note_with_negative_amounts(loop, clinic, tmp_path):
    from ui.paper.receipt import receipt_html, write_pdf

    thread, service = clinic
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )

    async def take():
        client = DeskClient(thread.url, token=thread.token)
        try:
            await client.take_payment(booking["id"], 15000, "cash")
            refund = await client.take_payment(booking["id"], -5000, "cash", reason="test not done")
            return await client.receipt(refund["id"])
        finally:
            await client.aclose()

    receipt = loop.run_until_complete(take())
    write_pdf(receipt_html(receipt, service.zone), tmp_path / "refund.pdf")
    text = _pdf_text(tmp_path / "refund.pdf")
    assert "Credit note" in text and "test not done" in text
    assert re.sub(r"\s+", " ", fmt.format_currency(-50, "SAR")) in text  # -SAR 50.00
    assert zatca.read_invoice_qr(_qr_texts(tmp_path / "refund.pdf")[0])["total"] == "-50.00"


def _booking_in_pane(window, state):
    booking = next(
        b
        for b in state.bookings
        if b["status"] == Status.CONFIRMED and b.get("balance", 0) > 0 and not b.get("visitStatus")
    )
    window.select_booking(booking["id"])
    return booking


def test_payment_dialog_from_the_booking_pane_keyboard_only(loop, desk, branch_server):
    from PySide6.QtPrintSupport import QPrintDialog

    from ui.dialogs.payment import PaymentDialog

    window, state = desk, desk.state

    async def scenario():
        booking = _booking_in_pane(window, state)
        assert window.detail.pay_button.isEnabled()
        assert "Balance" in window.detail.fields["money"].text()
        QTest.keyClick(window, Qt.Key.Key_F9)
        dialog = await until(
            lambda: isinstance(window.payments.dialog, PaymentDialog) and window.payments.dialog,
            what="the payment dialog",
        )
        await until(lambda: dialog.amount.hasFocus(), what="the amount to have the keyboard")
        assert dialog.amount.selectedText() == dialog.amount.text() != ""
        QTest.keyClicks(dialog.amount, "abc")
        QTest.keyClick(dialog.amount, Qt.Key.Key_Return)
        await until(lambda: "amount" in dialog.error.text(), what="the refused amount's message")
        dialog.amount.selectAll()
        QTest.keyClicks(dialog.amount, "50")
        QTest.keyClick(dialog, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)  # Alt+M: the method
        assert dialog.method.hasFocus()
        QTest.keyClick(dialog.method, Qt.Key.Key_2)  # 2 = card
        assert dialog.method_code() == "card"
        QTest.keyClick(dialog, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
        QTest.keyClicks(dialog.reference, "POS 1234")
        QTest.keyClick(dialog.reference, Qt.Key.Key_Return)
        await until(lambda: window.payments.dialog is None, what="the dialog to close after the payment")
        printing = await until(
            lambda: next((d for d in window.payments.printer.dialogs if isinstance(d, QPrintDialog)), None),
            what="the receipt's print dialog",
        )
        printing.reject()
        await until(
            lambda: "Payment taken: invoice 1" in window.statusBar().currentMessage(), what="the message"
        )
        await until(lambda: (window.detail.booking or {}).get("paid") == 5000, what="the pane's new balance")
        client = DeskClient(branch_server.url, token=branch_server.token)
        try:
            [taken] = await client.payments(booking_id=booking["id"])
        finally:
            await client.aclose()
        assert (taken["amount"], taken["method"], taken["reference"]) == (5000, "card", "POS 1234")
        assert window.detail.booking["balance"] == booking["balance"] - 5000
        assert fmt.format_currency("50.00", "SAR").replace("\u00a0", " ") in window.detail.fields[
            "money"
        ].text().replace("\u00a0", " ")
        await asyncio.sleep(0.05)

    loop.run_until_complete(scenario())


def test_check_out_opens_the_payment_dialog_for_the_balance(loop, desk):
    from ui.dialogs.payment import PaymentDialog

    window, state = desk, desk.state

    async def scenario():
        now = state.now()
        booking = next(
            (
                b
                for b in state.bookings
                if b.get("visitStatus") in ("CHECKED_IN", "IN_PROGRESS") and b.get("balance", 0) > 0
            ),
            None,
        )
        if booking is None:  # the demo day has none in the room yet: check one in
            booking = _booking_in_pane(window, state)
            await window.client.check_in(booking["id"])
            await window.state.refresh()
        assert now is not None
        window.run_action("end", booking["id"])
        dialog = await until(
            lambda: isinstance(window.payments.dialog, PaymentDialog) and window.payments.dialog,
            what="the payment dialog after check-out",
        )
        assert dialog.booking["id"] == booking["id"]
        assert dialog.amount_minor() == dialog.booking["balance"]
        dialog.reject()

    loop.run_until_complete(scenario())


def test_payment_dialog_in_arabic_with_arabic_indic_digits(loop, clinic):
    from ui.core.tasks import Tasks
    from ui.dialogs.payment import PaymentDialog

    thread, service = clinic
    booking = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )
    booking = service.embed([service.to_api(service.store.booking(booking["id"]))], {"customer", "type"})[0]
    set_language("ar")
    fmt.set_digits("arab")
    try:
        dialog = PaymentDialog(booking, None, Tasks())
        assert dialog.amount.text() == "١٥٠٫٠٠" and dialog.amount_minor() == 15000
        assert "١٥٠٫٠٠" in dialog.figures.text() and "ر.س" in dialog.figures.text()
        assert dialog.windowTitle() == "الدفع"
        dialog.deleteLater()
    finally:
        fmt.set_digits("latn")
        set_language("en")


def test_closing_the_day_counts_the_drawer_after_a_refund(loop, clinic, tmp_path):
    """Cash 150 − refund 50 + card 250 taken by this desk; another desk's cash is not ours.
    A short drawer needs a note; the saved count prints with its difference."""
    from ui.core.tasks import Tasks
    from ui.dialogs.close_day import CloseDayDialog, drawer_html
    from ui.paper.receipt import write_pdf

    thread, service = clinic
    a = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )
    b = service.create(
        {
            "type": "dental",
            "date": DAY.isoformat(),
            "time": 1200,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c3"},
        }
    )
    mine, theirs = (
        DeskClient(thread.url, token=thread.token, desk_id="desk-1", user="Huda"),
        DeskClient(thread.url, token=thread.token, desk_id="desk-2"),
    )
    tasks = Tasks()
    owner = QWidget()  # the closing dialog is not the last window (that would stop the loop)
    owner.show()

    async def scenario():
        await mine.take_payment(a["id"], 10000, "cash")
        await theirs.take_payment(a["id"], 5000, "cash")
        await mine.take_payment(b["id"], 25000, "card")
        await mine.take_payment(a["id"], -5000, "cash", reason="partly refunded")
        dialog = CloseDayDialog(mine, tasks, DAY, service.zone, owner)
        dialog.show()
        dialog.load()
        await until(lambda: dialog.ok.isEnabled(), what="the expected takings")
        assert dialog.expected_labels["cash"].text() == fmt.format_currency("50.00", "SAR")
        assert dialog.expected_labels["card"].text() == fmt.format_currency("250.00", "SAR")
        QTest.keyClicks(dialog.counted["cash"], "45")
        QTest.keyClicks(dialog.counted["card"], "250")
        assert dialog.differences["cash"].text() == fmt.format_currency(-5, "SAR")
        dialog.submit()
        assert "note" in dialog.error.text()
        QTest.keyClicks(dialog.note, "5 SAR short")
        dialog.submit()
        await until(lambda: dialog.report is not None, what="the saved count")
        return dialog.report

    try:
        report = loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(mine.aclose())
        loop.run_until_complete(theirs.aclose())
        owner.close()
    assert report["difference"] == -500 and report["differenceByMethod"]["card"] == 0
    assert report["deskId"] == "desk-1" and report["user"] == "Huda" and report["note"] == "5 SAR short"
    [saved] = service.store.db.execute("select difference, note from drawer_counts").fetchall()
    assert saved == (-500, "5 SAR short")
    write_pdf(drawer_html(report, service.zone), tmp_path / "drawer.pdf")
    text = _pdf_text(tmp_path / "drawer.pdf")
    assert "Cash drawer" in text and "5 SAR short" in text and "desk-1" in text
    assert re.sub(r"\s+", " ", fmt.format_currency(-5, "SAR")) in text


def test_a_manager_changes_the_price_from_the_payment_dialog(loop, clinic):
    from ui.core.tasks import Tasks
    from ui.dialogs.payment import PaymentDialog

    thread, service = clinic
    created = service.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1100,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )
    booking = service.embed([service.to_api(service.store.booking(created["id"]))], {"customer", "type"})[0]
    client, owner = DeskClient(thread.url, token=thread.token, user="Manager Mona"), QWidget()
    owner.show()

    async def scenario():
        dialog = PaymentDialog(booking, client, Tasks(), owner)
        dialog.show()
        prices = dialog.change_price()
        prices.price.selectAll()
        QTest.keyClicks(prices.price, "120")
        prices.submit()
        assert "reason" in prices.error.text()
        QTest.keyClicks(prices.reason, "returning patient")
        prices.submit()
        await until(lambda: dialog.booking["price"] == 12000, what="the new price in the payment dialog")
        assert (
            dialog.amount_minor() == 12000 and fmt.format_currency("120.00", "SAR") in dialog.figures.text()
        )
        dialog.reject()

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(client.aclose())
        owner.close()
    last = service.history(created["id"])[-1]
    assert (last["action"], last["after"]["priceReason"], last["actor"]) == (
        "price",
        "returning patient",
        "Manager Mona",
    )
