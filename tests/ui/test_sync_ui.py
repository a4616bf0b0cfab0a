"""Cloud sync on the desk against a real branch server and the simulated
Ehjzny cloud: connect through Settings → Cloud account…, see the status bar go online with
the last pull, make the two-branch accept race and resolve it in the needs-attention tab.
Screenshots (en/ar) of the dialog and the panel go to /tmp."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.client import DeskClient
from tests import test_sync_settings_api as sync_api
from tests.ui.conftest import until

SHOTS = Path("/tmp")
cloud = sync_api.cloud  # the fixture


pytestmark = pytest.mark.usefixtures("keep_running")


def open_window(loop, url, token):
    from ui.windows.main import MainWindow

    async def start():
        window = MainWindow(DeskClient(url, token=token))
        window.resize(1400, 900)
        window.start()
        window.show()
        await asyncio.wait_for(window.first_load, 15)
        return window

    return loop.run_until_complete(start())


def close_window(loop, window):
    async def close():
        window.stop()
        await asyncio.sleep(0)
        await window.client.aclose()
        window.close()

    loop.run_until_complete(close())
    window.deleteLater()


def shot(widget, name: str) -> Path:
    path = SHOTS / name
    assert widget.grab().save(str(path), "PNG")
    return path


def test_connect_pull_conflict_and_resolve(loop, empty_server, cloud):
    from ui.dialogs.cloud_settings import CloudSettingsDialog

    window = open_window(loop, empty_server.url, empty_server.token)
    sync = window.sync_desk
    try:

        async def scenario():
            await until(lambda: sync.status.status is not None, what="the first sync status")
            assert window.sync_label.text() == "offline — local only"
            assert window.tabs.indexOf(sync.panel) == -1

            # Settings → Cloud account…: the secret goes to a 0600 file (no keyring here)
            sync.act_cloud.trigger()
            dialog = await until(
                lambda: isinstance(window._dialog, CloudSettingsDialog) and window._dialog,
                what="the cloud settings dialog",
            )
            await until(lambda: dialog.state_label.text(), what="the stored settings")
            assert not dialog.connect_button.isEnabled()
            dialog.base_url.setText(cloud.url)
            dialog.app_id.setText(cloud.app_id)
            dialog.api_key.setText("wrong key")
            dialog.connect_button.click()
            await until(lambda: "refused" in dialog.message.text(), what="the refusal")
            dialog.api_key.setText(cloud.api_key)
            dialog.connect_button.click()
            await until(lambda: dialog.settings.get("connected"), what="connected")
            assert "kept in a file only you can read" in dialog.secret_label.text()
            assert "secrets.json" in dialog.secret_label.text()
            assert dialog.api_key.text() == ""
            await asyncio.sleep(0.1)
            shot(dialog, "istiqbal-cloud-settings-en.png")
            dialog.close_button.click()
            dialog.deleteLater()

            # the status bar goes online with the last pull; the pulled clinic shows
            await until(
                lambda: "online" in window.sync_label.text() and "last pull" in window.sync_label.text(),
                timeout=15,
                what="online with a last pull",
            )
            assert "just now" in window.sync_label.text()
            await until(
                lambda: {r["id"] for r in window.state.resources} == {"resAhmed", "resSara"},
                what="the cloud's resources on the desk",
            )
            assert window.tabs.tabText(window.tabs.indexOf(sync.panel)) == "Needs attention (0)"

            # the two-branch race: the desk accepts a walk-in the cloud gave to another doctor
            walk = cloud.cloud.customer_join_queue("cusLina", "typeGeneral")
            local = await until(lambda: empty_server.store.local_id("ehjzny", walk["id"]), what="the walk-in")
            await until(lambda: window.queue.model.row_of(local) >= 0, what="the walk-in in the queue")
            cloud.cloud.faults.drop(count=None)  # the line drops…
            cloud.cloud.assign(walk["id"], "resSara")  # …while another branch accepts it
            await window.client.accept(local, "resAhmed")
            await until(
                lambda: "offline" in window.sync_label.text() or "waiting" in window.sync_label.text(),
                what="the change waiting",
            )
            cloud.cloud.faults.clear()
            await window.client.sync_now()
            await until(lambda: sync.panel.count() == 1, timeout=15, what="the case in the panel")
            index = window.tabs.indexOf(sync.panel)
            assert window.tabs.tabText(index) == "Needs attention (1)"
            model = sync.panel.model
            assert model.index(0, model.CLOUD).data() == "Another provider accepted this booking first."
            assert model.index(0, model.DESK).data().startswith("Accepted for")
            assert "Lina" in model.index(0, model.BOOKING).data()
            assert "need" in window.sync_label.text()
            window.tabs.setCurrentIndex(index)
            await asyncio.sleep(0.2)
            shot(window, "istiqbal-attention-window-en.png")
            shot(sync.panel, "istiqbal-attention-panel-en.png")

            assert sync.panel.select(sync.panel.model.cases[0]["id"])
            assert sync.panel.accept_cloud.isEnabled()
            sync.panel.accept_cloud.click()
            await until(lambda: sync.panel.count() == 0, what="the case resolved")
            assert window.tabs.tabText(index) == "Needs attention (0)"
            assert sync.panel.empty.isVisible()
            await until(lambda: "need" not in window.sync_label.text(), what="the status bar count")
            await window.tasks.wait_idle()

        loop.run_until_complete(scenario())
    finally:
        close_window(loop, window)


def test_dialogs_render_in_both_languages(loop, branch_server, no_keyring):
    """Screenshots of the settings dialog and the attention panel, English and Arabic."""
    from PySide6.QtWidgets import QApplication

    from app.i18n import set_language
    from ui.core.tasks import Tasks
    from ui.dialogs.cloud_settings import CloudSettingsDialog, secret_place
    from ui.panels.attention import AttentionPanel

    app = QApplication.instance()
    case = {
        "id": "c1",
        "bookingId": "b1",
        "action": "assign",
        "code": "SCH-ALREADY_ASSIGNED",
        "message": "already assigned",
        "createdAt": "2026-01-10T07:30:00Z",
        "desk": {"payload": {"after": {"resourceId": "resSara"}}},
    }
    other = {
        **case,
        "id": "c2",
        "action": "create",
        "code": "XYZ-1",
        "message": "Something odd",
        "desk": {"payload": {"after": {"startDateTime": "2026-01-11T09:00:00Z"}}},
    }
    booking = {
        "id": "b1",
        "customer": {"firstName": "هدى", "lastName": "Ali"},
        "type": {"name": "General"},
        "startDateTime": "2026-01-10T08:00:00Z",
    }

    async def scenario(lang):
        client = DeskClient(branch_server.url, token=branch_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            dialog.open()
            await until(lambda: dialog.state_label.text(), what="settings")
            dialog.base_url.setText("https://api.ehjzny.com")
            dialog.app_id.setText("clinic-42")
            dialog.secret_label.setText(
                secret_place(
                    {
                        "hasSecret": True,
                        "secretStore": "file",
                        "secretPath": "/home/reem/.config/istiqbal/secrets.json",
                    }
                )
            )
            dialog.secret_label.show()
            await asyncio.sleep(0.1)
            shot(
                dialog,
                f"istiqbal-cloud-settings-{lang}.png"
                if lang == "ar"
                else "istiqbal-cloud-settings-file-en.png",
            )
            dialog.use_otp.setChecked(True)
            await asyncio.sleep(0.05)
            shot(dialog, f"istiqbal-cloud-settings-otp-{lang}.png")
            panel = AttentionPanel(client, Tasks(dialog))
            panel.model.set_cases([case, other], {"b1": booking}, None)
            panel._show_empty()
            panel.resize(520, 420)
            panel.show()
            assert panel.select("c1")
            await asyncio.sleep(0.1)
            assert panel.details.isVisible() and panel.accept_cloud.isEnabled()
            shot(panel, f"istiqbal-attention-panel-sample-{lang}.png")
            assert "Something odd (XYZ-1)" in panel.model.index(1, panel.model.CLOUD).data()
            panel.close()
            panel.deleteLater()
        finally:
            dialog.done(0)
            dialog.deleteLater()
            await client.aclose()
            await asyncio.sleep(0.05)

    try:
        for lang in ("en", "ar"):
            set_language(lang)
            app.setLayoutDirection(
                Qt.LayoutDirection.RightToLeft if lang == "ar" else Qt.LayoutDirection.LeftToRight
            )
            loop.run_until_complete(scenario(lang))
    finally:
        set_language("en")
        app.setLayoutDirection(Qt.LayoutDirection.LeftToRight)


def test_the_dialog_is_built_from_the_chosen_clouds_fields(loop, empty_server):
    """A second registered cloud: its own account label and extra field, no sign-in choice;
    the connection goes out with those values (refused here: no such cloud answers)."""
    from app.sync import registry
    from app.sync.connector import Capabilities, ConfigField, ConnectorInfo, PullMode
    from ui.dialogs.cloud_settings import CloudSettingsDialog

    registry.register(
        ConnectorInfo(
            name="testcloud",
            title="Test Cloud",
            capabilities=Capabilities(pull_mode=PullMode.NONE),
            fields=(
                ConfigField("baseUrl", "Address", "url"),
                ConfigField("account", "Tenant"),
                ConfigField("region", "Region"),
                ConfigField("secret", "Password", "secret"),
            ),
            factory=registry.get("ehjzny").factory,
            synced_fields=("status",),
            auth_kinds=(("password", "Password"),),
        )
    )

    async def scenario():
        client = DeskClient(empty_server.url, token=empty_server.token)
        dialog = CloudSettingsDialog(client)
        try:
            dialog.open()
            await until(lambda: dialog.state_label.text(), what="settings")
            assert dialog.cloud.findData("testcloud") >= 0 and dialog.cloud.itemData(0) == "ehjzny"
            assert dialog.account_label.text() == "App id" and dialog.use_otp is not None
            dialog.cloud.setCurrentIndex(dialog.cloud.findData("testcloud"))
            assert dialog.account_label.text() == "Tenant" and dialog.key_label.text() == "Password"
            assert set(dialog.extra) == {"region"} and dialog.use_otp is None and dialog.send_code is None
            assert not dialog.methods_label.isVisibleTo(dialog)
            dialog.base_url.setText("http://127.0.0.1:9")
            dialog.app_id.setText("tenant-1")
            dialog.api_key.setText("pw")
            assert not dialog.connect_button.isEnabled()  # the region is required
            dialog.extra["region"].setText("riyadh")
            assert dialog.connect_button.isEnabled()
            dialog.connect_button.click()
            await until(lambda: "did not answer" in dialog.message.text(), what="the cloud's silence")
        finally:
            dialog.done(0)
            dialog.deleteLater()
            await client.aclose()
            await asyncio.sleep(0.05)

    try:
        loop.run_until_complete(scenario())
    finally:
        registry._registry.pop("testcloud", None)
