"""A cloud booking awaiting payment on the desk: the booking pane and the printed ticket show
its payment link as a QR code (decoded back from the pixels), and when the simulated Ehjzny
cloud (real HTTP) marks it paid the desk, refreshed by the live events, shows it paid."""

from __future__ import annotations

import asyncio
import contextlib

import zxingcpp
from PySide6.QtGui import QImage

from app.client import DeskClient
from app.domain.clock import utc_now
from app.domain.model import Status
from tests.clinic import serve
from tests.test_sync_engine import Branch
from tests.test_sync_seed import running  # noqa: F401  (fixture)
from tests.ui.conftest import until
from tests.ui.test_payments_ui import _qr_texts


@contextlib.asynccontextmanager
async def _desk_showing(branch, thread, cloud_id: str):
    """After a first sync of ``branch``, a desk window on ``thread`` (the branch server) with
    the booking of ``cloud_id`` in its booking pane; yields (window, pane)."""
    from ui.windows.main import MainWindow

    await branch.engine.open()
    await branch.engine.sync_once(deadline=10)
    local = branch.store.local_id("ehjzny", cloud_id)
    window = MainWindow(DeskClient(thread.url, token=thread.token))
    window.resize(1400, 900)
    window.start()
    window.show()
    try:
        await asyncio.wait_for(window.first_load, 15)
        await window.tasks.wait_idle()
        window.select_booking(local)
        pane = window.detail
        await until(lambda: pane.booking and pane.booking["id"] == local, what="the booking in the pane")
        yield window, pane
    finally:
        window.stop()
        await asyncio.sleep(0)
        await window.client.aclose()
        window.close()
        await branch.engine.close()


def _decode(image: QImage) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image.convertToFormat(QImage.Format.Format_Grayscale8))]


def test_the_desk_shows_the_payment_link_as_a_qr_code_until_the_cloud_reports_it_paid(
    loop,
    running,  # noqa: F811
    tmp_path,
):
    from ui.paper.printing import ticket_html, write_pdf

    branch = Branch(running, tmp_path)
    thread = serve(branch.service)
    running.cloud.payments = True
    unpaid = running.cloud.customer_join_queue("cusLina", "typeGeneral")  # priced: 150.00
    link = unpaid["payment"]["paymentLink"]

    async def scenario():
        async with _desk_showing(branch, thread, unpaid["id"]) as (window, pane):
            assert pane.booking["status"] == Status.PENDING_PAYMENT
            assert not pane.pay_link_qr.isHidden() and link in pane.pay_link_text.text()
            assert _decode(pane.pay_link_qr.pixmap().toImage()) == [link]

            pdf = write_pdf(
                ticket_html(
                    pane.booking, window.state.types, window.state.zone, window.state.branch, utc_now()
                ),
                tmp_path / "ticket.pdf",
                ticket=True,
            )
            assert link in _qr_texts(pdf)

            running.cloud.pay(unpaid["id"])  # the patient paid on their phone
            await branch.engine.sync_once(deadline=10)
            await until(
                lambda: pane.booking and pane.booking["status"] == Status.PENDING_ASSIGNMENT,
                what="the desk showing the booking paid",
            )
            assert pane.pay_link_qr.isHidden() and pane.pay_link_text.isHidden()

    try:
        loop.run_until_complete(scenario())
    finally:
        thread.stop()
        branch.close()


def test_the_booking_pane_shows_a_payment_made_in_the_cloud_with_its_source(loop, running, tmp_path):  # noqa: F811
    """A booking paid in the cloud (the simulated Ehjzny over HTTP, its ``/_sim`` surface):
    every desk's booking pane shows the cloud's paid, marked with the cloud, beside what was
    paid here (local)."""
    import httpx

    branch = Branch(running, tmp_path)
    thread = serve(branch.service)
    thread.app.state.sync_status = branch.engine.status  # the desk reads the cloud's title from /sync/status
    running.cloud.payments = True
    unpaid = running.cloud.customer_join_queue("cusLina", "typeGeneral")  # priced: 150.00

    async def scenario():
        async with _desk_showing(branch, thread, unpaid["id"]) as (window, pane):
            await until(lambda: pane.cloud_titles.get("ehjzny"), what="the desk knowing the cloud's title")
            text = pane.fields["money"].text()
            assert "0.00" in text and "150.00" in text, text
            assert httpx.post(f"{running.url}/_sim/bookings/{unpaid['id']}/pay").status_code == 200
            await branch.engine.sync_once(deadline=10)
            await until(
                lambda: pane.booking and pane.booking.get("paidCloud") == 15000,
                what="the desk showing the cloud's payment",
            )
            text = pane.fields["money"].text()
            lines = [line.strip("\u200e\u200f") for line in text.split("\n")]
            assert lines[0].endswith("0.00") and "150.00" in lines[0], lines  # balance 0
            # the cloud named by its title, as the desk's menus name it, not by the connector's name
            assert "\u2068Ehjzny\u2069" in lines[1] and "150.00" in lines[1] and "(local)" in lines[1], lines
            await window.tasks.wait_idle()

    try:
        loop.run_until_complete(scenario())
    finally:
        thread.stop()
        branch.close()
