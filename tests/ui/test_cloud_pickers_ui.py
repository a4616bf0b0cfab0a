"""Settings → Cloud account… picks Agendize's company and DigitalBooker's location from the
list the key sees (contracts ``agendize.md`` and ``digitalbooker.md``: one company / one
location is one desk branch), through the same listed field as Rekaz's branch; a wrong
key shows the cloud's refusal in the dialog and lists nothing."""

from __future__ import annotations

import asyncio

import pytest

from app.client import DeskClient
from tests.clouds import agendize as agendize_sim
from tests.clouds import digitalbooker as digitalbooker_sim
from tests.ui.conftest import until

pytestmark = pytest.mark.usefixtures("keep_running")


async def _open_on(dialog, cloud: str, url: str, account: str):
    """Open the settings dialog on ``cloud`` with its URL and account typed; returns the
    dialog's fields of the cloud's connection (``dialog.extra``)."""
    dialog.open()
    await until(lambda: dialog.state_label.text(), what="settings")
    dialog.cloud.setCurrentIndex(dialog.cloud.findData(cloud))
    dialog.base_url.setText(url)
    dialog.app_id.setText(account)
    return dialog.extra


async def _pick(dialog, field, *, wrong: str, right: str, count: int) -> list[str]:
    """Load the list with a wrong secret (a refusal, nothing listed), then the right one."""
    from ui.dialogs.cloud_settings import ListedField

    assert isinstance(field, ListedField)
    dialog.api_key.setText(wrong)
    assert field.list_button.isEnabled()
    field.list_button.click()
    await until(lambda: "⚠" in dialog.message.text(), what="the refusal")
    assert field.combo.count() == 0
    dialog.api_key.setText(right)
    field.list_button.click()
    await until(lambda: field.combo.count() == count, what="the list")
    return [field.combo.itemText(i) for i in range(count)]


def _close(dialog):
    dialog.done(0)
    dialog.deleteLater()


def test_the_agendize_company_is_picked_from_the_companies_of_the_account(loop, empty_server):
    from ui.dialogs.cloud_settings import CloudSettingsDialog

    cloud = agendize_sim.AgendizeCloud()
    clinic = agendize_sim.generate_clinic(cloud)
    riyadh, dubai = clinic["companies"]

    async def scenario():
        client = DeskClient(empty_server.url, token=empty_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            field = (await _open_on(dialog, "agendize", running.url, cloud.api_key))["companyId"]
            names = await _pick(dialog, field, wrong="not the token", right=cloud.token, count=2)
            assert names == ["Istiqbal Clinic Riyadh", "Istiqbal Clinic Dubai"]
            assert field.text() == ""  # two companies: nothing picked for the manager
            field.combo.setCurrentIndex(1)
            assert field.text() == dubai
            dialog.connect_button.click()
            await until(lambda: dialog.settings.get("connected"), what="connected", timeout=20)
            assert dialog.settings["extra"]["companyId"] == dubai != riyadh
        finally:
            _close(dialog)
            await client.aclose()
            await asyncio.sleep(0.05)

    with agendize_sim.start_cloud(cloud) as running:
        loop.run_until_complete(scenario())


def test_the_digitalbooker_location_is_picked_from_the_locations_the_key_sees(loop, empty_server):
    from ui.dialogs.cloud_settings import CloudSettingsDialog

    cloud = digitalbooker_sim.DigitalBookerCloud()
    clinic = digitalbooker_sim.generate_clinic(cloud, bookings=10)
    olaya, north = clinic["locations"]

    async def scenario():
        client = DeskClient(empty_server.url, token=empty_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            field = (await _open_on(dialog, "digitalbooker", running.url, cloud.key_id))["locationId"]
            names = await _pick(dialog, field, wrong="not the password", right=cloud.password, count=2)
            assert names == ["Istiqbal Clinic Olaya", "Istiqbal Clinic North"]  # the desk's language
            field.combo.setCurrentIndex(1)
            assert field.text() == str(north)
            dialog.connect_button.click()
            await until(lambda: dialog.settings.get("connected"), what="connected", timeout=20)
            assert dialog.settings["extra"]["locationId"] == str(north) != str(olaya)
            # the Arabic names come from the cloud's own localization (the ar segment)
            listed = await client.cloud_choices(
                "locationId", "digitalbooker", running.url, cloud.key_id, cloud.password
            )
            assert [v["labels"]["ar"] for v in listed] == ["عيادة استقبال العليا", "عيادة استقبال الشمال"]
        finally:
            _close(dialog)
            await client.aclose()
            await asyncio.sleep(0.05)

    with digitalbooker_sim.start_cloud(cloud) as running:
        loop.run_until_complete(scenario())
