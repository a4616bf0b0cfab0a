"""The booking dialog warns about a probable duplicate: a new customer with the phone of an
existing one typed another way (``05…`` for ``+9665…``) is not created; the existing customer
is named and listed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.client import DeskClient
from tests.ui.conftest import until
from tests.ui.test_booking_dialog import _open
from ui.dialogs.customer_search import CustomerRole


def test_new_customer_with_an_existing_phone_in_local_form_shows_the_candidate(loop, desk, branch_server):
    window = desk

    async def scenario():
        other = DeskClient(branch_server.url, token=branch_server.token)
        try:
            existing = next(
                c for c in await other.customers("ahmed") if (c.get("phone") or "").startswith("+9665")
            )
        finally:
            await other.aclose()
        local = "0" + existing["phone"][4:]  # +966 5x… → 05x…
        dialog = await _open(window)
        dialog.first_name.setText("Someone")
        dialog.phone.setText(local)
        dialog.create_customer()
        await until(
            lambda: "Probably the same customer" in dialog.status.text(), what="the duplicate warning"
        )
        assert existing["firstName"] in dialog.status.text()
        await dialog.tasks.wait_idle()  # the free-times search ends meanwhile…
        assert "Probably the same customer" in dialog.status.text()  # …and does not erase the warning
        assert dialog.customer is None  # nobody was created
        await until(lambda: dialog.search.results.count() > 0, what="the candidate listed")
        listed = [
            dialog.search.results.item(i).data(CustomerRole)["id"]
            for i in range(dialog.search.results.count())
        ]
        assert existing["id"] in listed
        QTest.keyClick(dialog, Qt.Key.Key_Escape)

    loop.run_until_complete(scenario())
