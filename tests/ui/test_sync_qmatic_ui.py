"""Settings → Cloud account… with Qmatic (issue "Settings and CLI"): the dialog offers
Qmatic with its declared fields (tenant id, an optional authorization, the branch, the
language of service names); a tenant without a gateway connects with no authorization at
all, and the branch's services and doctors come down."""

from __future__ import annotations

import asyncio

import pytest

from app.client import DeskClient
from tests.clouds.qmatic import QmaticCloud, generate_clinic, start_cloud
from tests.ui.conftest import until

pytestmark = pytest.mark.usefixtures("keep_running")


def test_connect_to_qmatic_from_the_dialog_without_an_authorization(loop, empty_server):
    from ui.dialogs.cloud_settings import CloudSettingsDialog

    cloud = QmaticCloud()  # no gateway in front of this tenant
    clinic = generate_clinic(cloud)
    branch = clinic["branches"][0]

    async def scenario(running):
        client = DeskClient(empty_server.url, token=empty_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            dialog.open()
            await until(lambda: dialog.state_label.text(), what="settings")
            dialog.cloud.setCurrentIndex(dialog.cloud.findData("qmatic"))
            assert (dialog.account_label.text(), dialog.key_label.text()) == ("Tenant ID", "Authorization")
            assert set(dialog.extra) == {"branchId", "language"} and dialog.use_otp is None
            dialog.base_url.setText(running.url)
            dialog.app_id.setText(cloud.tenant)
            dialog.extra["branchId"].setText(branch)
            assert dialog.api_key.text() == "" and dialog.connect_button.isEnabled()  # optional
            dialog.connect_button.click()
            await until(lambda: dialog.settings.get("connected"), what="connected", timeout=20)
            for _ in range(200):
                status = await client.sync_status()
                if status.get("lastPullAt"):
                    break
                await asyncio.sleep(0.1)
            assert status["cloud"] == "qmatic" and status["lastError"] is None, status
            assert status["pullGap"] and status["customerRequires"] == ["firstName", "lastName", "email"]
            from ui.panels.sync_status import describe

            text, tooltip, _colour = describe(status)  # the gap is shown, not hidden
            assert "push + known customers" in text and "never booked" in tooltip
            types = {t["name"] for t in await client.types()}
            assert {"General consultation", "Follow-up"} <= types
        finally:
            dialog.done(0)
            dialog.deleteLater()
            await client.aclose()
            await asyncio.sleep(0.05)

    with start_cloud(cloud) as running:
        loop.run_until_complete(scenario(running))
