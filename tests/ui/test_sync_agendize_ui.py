"""Settings → Cloud account… with Agendize (issue "Settings and CLI"): the dialog offers
Agendize with its own fields (API key, token, company), and connecting to the simulated
Agendize cloud on 127.0.0.1 starts syncing its company into the branch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.client import DeskClient
from tests.clouds.agendize import AgendizeCloud, generate_clinic, start_cloud
from tests.ui.conftest import until, until_pulled

pytestmark = pytest.mark.usefixtures("keep_running")


def test_connect_to_agendize_from_the_dialog(loop, empty_server):
    from ui.dialogs.cloud_settings import CloudSettingsDialog

    cloud = AgendizeCloud()
    clinic = generate_clinic(cloud)
    company = clinic["companies"][0]

    async def scenario():
        client = DeskClient(empty_server.url, token=empty_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            dialog.open()
            await until(lambda: dialog.state_label.text(), what="settings")
            dialog.cloud.setCurrentIndex(dialog.cloud.findData("agendize"))
            assert (dialog.account_label.text(), dialog.key_label.text()) == ("API key", "Token")
            assert set(dialog.extra) == {"companyId"} and dialog.use_otp is None
            dialog.base_url.setText(running.url)
            dialog.app_id.setText(cloud.api_key)
            dialog.api_key.setText(cloud.token)
            dialog.extra["companyId"].setText(company)
            assert dialog.connect_button.isEnabled()
            dialog.connect_button.click()
            await until(lambda: dialog.settings.get("connected"), what="connected", timeout=20)
            status = await until_pulled(client)
            assert status["cloud"] == "agendize" and status["lastError"] is None
            now = datetime.now(UTC)
            bookings = await client.bookings(
                (now - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            ids = {(b.get("cloudIds") or {}).get("agendize") for b in bookings}
            assert ids and None not in ids and ids <= set(cloud.companies[company].appointments)
        finally:
            dialog.done(0)
            dialog.deleteLater()
            await client.aclose()
            await asyncio.sleep(0.05)

    with start_cloud(cloud) as running:
        loop.run_until_complete(scenario())
