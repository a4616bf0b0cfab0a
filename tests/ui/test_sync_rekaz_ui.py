"""Settings → Cloud account… with Rekaz (issue "Settings and CLI"; contract "Transport": one
desk branch = one Rekaz branch): the dialog lists the branches the key can see, by their
names in the desk's language, and the branch picked is the one the desk then syncs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.client import DeskClient
from tests.clouds.rekaz import RekazCloud, generate_clinic, start_cloud
from tests.ui.conftest import until, until_pulled

pytestmark = pytest.mark.usefixtures("keep_running")


def test_the_rekaz_branch_is_picked_from_the_branches_the_key_sees(loop, empty_server):
    from ui.dialogs.cloud_settings import CloudSettingsDialog, ListedField

    cloud = RekazCloud()
    clinic = generate_clinic(cloud)
    main, malqa = clinic["branches"]

    async def scenario():
        client = DeskClient(empty_server.url, token=empty_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            dialog.open()
            await until(lambda: dialog.state_label.text(), what="settings")
            dialog.cloud.setCurrentIndex(dialog.cloud.findData("rekaz"))
            field = dialog.extra["branchId"]
            assert isinstance(field, ListedField) and not field.list_button.isEnabled()  # no key yet
            dialog.base_url.setText(running.url)
            dialog.app_id.setText(cloud.tenant)
            dialog.api_key.setText("not the key")
            assert field.list_button.isEnabled()
            field.list_button.click()
            await until(lambda: "⚠" in dialog.message.text(), what="the refusal")  # a wrong key lists nothing
            assert field.combo.count() == 0
            dialog.api_key.setText(cloud.key)
            field.list_button.click()
            await until(lambda: field.combo.count() == 2, what="the branches")
            names = [field.combo.itemText(i) for i in range(2)]
            assert names == ["Main Branch", "Al Malqa Branch"]  # the desk's language (English)
            assert field.text() == ""  # two branches: nothing picked for the manager
            field.combo.setCurrentIndex(1)
            assert field.text() == malqa
            dialog.connect_button.click()
            await until(lambda: dialog.settings.get("connected"), what="connected", timeout=20)
            assert dialog.settings["extra"]["branchId"] == malqa
            status = await until_pulled(client)
            assert status["cloud"] == "rekaz" and status["lastError"] is None
            now = datetime.now(UTC)
            bookings = await client.bookings(
                (now - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                (now + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            ids = {(b.get("cloudIds") or {}).get("rekaz") for b in bookings}
            assert ids and None not in ids
            assert {cloud.reservations[i]["branchId"] for i in ids} == {malqa}  # the picked branch's only
        finally:
            dialog.done(0)
            dialog.deleteLater()
            await client.aclose()
            await asyncio.sleep(0.05)

    assert main != malqa
    with start_cloud(cloud) as running:
        loop.run_until_complete(scenario())
