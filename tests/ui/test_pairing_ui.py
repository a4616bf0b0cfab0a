"""Desks on the LAN with the dialogs: the server's desk makes a pairing code
(Settings → Pair a desk…), a new desk pairs over HTTPS on 127.0.0.2 with
ConnectToServerDialog and loads the day; a desk whose server shows another certificate is
refused with a message. Screenshots (en/ar) go to /tmp."""

from __future__ import annotations

import asyncio
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QFormLayout, QMessageBox

from app import desk_credentials
from app.client import DeskClient
from tests.ui.conftest import until
from tests.ui.test_sync_ui import shot

pytestmark = pytest.mark.usefixtures("keep_running")


@pytest.fixture
def lan_server(tmp_path, no_keyring):
    from app.composition import BranchServer

    try:
        server = BranchServer(tmp_path / "branch", host="127.0.0.2", port=0).start()
    except (OSError, RuntimeError):
        pytest.skip("127.0.0.2 cannot be bound here")
    try:
        yield server
    finally:
        server.stop()


def test_pair_a_desk_with_the_dialogs_and_load_the_day(loop, lan_server):
    from ui.dialogs.pairing import ConnectToServerDialog, PairDeskDialog, lan_client
    from ui.windows.main import MainWindow

    url = lan_server.lan_url

    async def scenario():
        local = DeskClient(lan_server.url, token=lan_server.token)
        pairing = PairDeskDialog(local)
        pairing.open()
        await until(lambda: url in pairing.address.text(), what="the LAN address")
        assert (
            pairing.fingerprint.text().replace(" ", "").strip("\u2066\u2069").lower()
            == lan_server.fingerprint
        )
        pairing.new_code.click()
        code = await until(
            lambda: "-" in pairing.code.text() and pairing.code.text().strip("\u2066\u2069"),
            what="a pairing code",
        )
        assert "Valid once, until" in pairing.expires.text()
        shot(pairing, "istiqbal-pair-desk-en.png")

        dialogs: list = []
        opening = asyncio.ensure_future(lan_client(url, dialogs=dialogs))
        dialog = await until(
            lambda: dialogs and dialogs[0].isVisible() and dialogs[0], what="the connect dialog"
        )
        assert isinstance(dialog, ConnectToServerDialog) and dialog.url.text() == url
        dialog.code.setText("WRNG-CODE")
        dialog.name.setText("Reception 2")
        dialog.ok.click()
        await until(lambda: "wrong or has expired" in dialog.message.text(), what="the wrong-code message")
        dialog.code.setText(code.lower())
        shot(dialog, "istiqbal-connect-en.png")
        dialog.ok.click()
        client = await asyncio.wait_for(opening, 15)
        assert client is not None and client.fingerprint == lan_server.fingerprint
        stored = desk_credentials.load(url)
        assert stored.fingerprint == lan_server.fingerprint and stored.where.startswith("file:")

        window = MainWindow(client)
        window.start()
        window.show()
        await asyncio.wait_for(window.first_load, 15)
        assert window.state.bookings and window.calendar.canvas.visible_bookings()
        await window.tasks.wait_idle()

        # the server's desk lists the new desk; revoking it locks it out
        pairing.done(0)
        pairing.deleteLater()
        pairing = PairDeskDialog(local)
        pairing.open()
        await until(lambda: pairing.desks.rowCount() == 1, what="the paired desk")
        assert pairing.desks.item(0, 0).text() == "Reception 2"
        pairing.desks.selectRow(0)
        pairing.revoke.click()
        await until(lambda: pairing.desks.rowCount() == 0, what="the desk revoked")
        pairing.done(0)
        window.stop()
        await asyncio.sleep(0)
        await client.aclose()
        window.close()
        await local.aclose()
        for widget in (pairing, dialog, window):
            widget.deleteLater()
        await asyncio.sleep(0.05)

    loop.run_until_complete(scenario())


def test_a_code_made_for_a_doctor_pairs_a_doctor_desk_without_choosing_a_role(loop, lan_server):
    """The manager makes a code for one doctor's desk; on the new desk the receptionist types
    the address and the code only, and the desk is that doctor's."""
    from ui.dialogs.pairing import ConnectToServerDialog

    async def scenario():
        local = DeskClient(lan_server.url, token=lan_server.token)
        doctor = (await local.resources())[0]
        made = await local.pairing_code("provider", [doctor["id"]])
        dialog = ConnectToServerDialog(lan_server.lan_url)
        dialog.open()
        dialog.code.setText(made["code"])
        dialog.name.setText("Room 3")
        dialog.ok.click()
        await until(
            lambda: dialog.credentials is not None or "⚠" in dialog.message.text(), what="paired or refused"
        )
        assert dialog.credentials is not None, dialog.message.text()
        assert dialog.credentials.role == "provider" and dialog.credentials.resource_ids == [doctor["id"]]
        await local.aclose()
        dialog.deleteLater()
        await asyncio.sleep(0.05)

    loop.run_until_complete(scenario())


def test_a_server_with_another_certificate_is_refused(loop, lan_server, tmp_path):
    from app.server.tls import ensure_certificate
    from ui.dialogs.pairing import lan_client

    url = lan_server.lan_url
    _, _, other = ensure_certificate(tmp_path / "impostor")
    desk_credentials.save(url, {"token": "t" * 40, "fingerprint": other, "deskId": "d1", "deskName": "Front"})

    async def scenario():
        dialogs: list = []
        opening = asyncio.ensure_future(lan_client(url, dialogs=dialogs))
        box = await until(lambda: dialogs and dialogs[0].isVisible() and dialogs[0], what="the refusal")
        assert isinstance(box, QMessageBox)
        assert "different certificate" in box.text() and url in box.text()
        shot(box, "istiqbal-refused-en.png")
        box.button(QMessageBox.StandardButton.Close).click()
        assert await asyncio.wait_for(opening, 5) is None
        box.deleteLater()
        await asyncio.sleep(0.05)

    loop.run_until_complete(scenario())


def _arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_pairing_dialogs_in_arabic(loop, lan_server):
    """Both pairing dialogs in Arabic: translated, laid out right to left (each label to the
    right of its field), while what is typed or compared character by character (the
    server address, the pairing code, the fingerprint) stays left to right; choosing the
    provider role shows the doctor-or-room chooser with the branch's names in Arabic and,
    on the new desk, the note about provider desks."""
    from app.i18n import _, set_language
    from ui.dialogs.pairing import ConnectToServerDialog, PairDeskDialog

    app = QApplication.instance()

    def isolated(text: str) -> str:
        """The text inside LRI … PDI (left to right inside Arabic text); fails when it is not."""
        match = re.fullmatch("\u2066(.+)\u2069", text)
        assert match, f"not isolated left to right: {text!r}"
        return match.group(1)

    def label_right_of_field(dialog, field) -> bool:
        form = next(
            item.layout()
            for item in (dialog.layout().itemAt(i) for i in range(dialog.layout().count()))
            if isinstance(item.layout(), QFormLayout)
        )
        label = form.labelForField(field)
        return label.geometry().left() > field.geometry().right()

    async def scenario():
        local = DeskClient(lan_server.url, token=lan_server.token)
        pairing = PairDeskDialog(local)
        connect = ConnectToServerDialog(lan_server.lan_url)
        try:
            pairing.open()
            await until(lambda: lan_server.lan_url in pairing.address.text(), what="the LAN address")
            assert pairing.windowTitle() == _("Pair a desk") and _arabic(pairing.windowTitle())
            assert pairing.isRightToLeft() and label_right_of_field(pairing, pairing.role)
            assert isolated(pairing.address.text()) == lan_server.lan_url
            fingerprint = isolated(pairing.fingerprint.text())
            assert fingerprint.replace(" ", "").lower() == lan_server.fingerprint
            assert not pairing.resource.isVisible()
            pairing.role.setCurrentIndex(1)
            assert pairing.role.currentData() == "provider" and _arabic(pairing.role.currentText())
            assert pairing.resource.isVisible() and pairing.resource_label.text() == _("Doctor or room")
            names = [pairing.resource.itemText(i) for i in range(pairing.resource.count())]
            assert len(names) == len(lan_server.store.resources()) and all(_arabic(n) for n in names)
            pairing.new_code.click()
            await until(lambda: "-" in pairing.code.text(), what="a code")
            assert re.fullmatch("[A-Z0-9]{4}-[A-Z0-9]{4}", isolated(pairing.code.text()))
            assert pairing.code.layoutDirection() == Qt.LayoutDirection.LeftToRight
            assert _arabic(pairing.expires.text()) and pairing.message.text() == ""
            shot(pairing, "istiqbal-pair-desk-ar.png")

            connect.open()
            await asyncio.sleep(0.05)
            assert connect.windowTitle() == _("Connect to the branch server") and _arabic(
                connect.windowTitle()
            )
            assert connect.isRightToLeft() and label_right_of_field(connect, connect.code)
            assert connect.url.text() == lan_server.lan_url and not connect.url.isRightToLeft()
            assert not connect.code.isRightToLeft()
            assert not connect.ok.isEnabled() and _arabic(connect.ok.text())  # no code typed yet
            # The role comes with the code: the new desk is told so and has nothing to choose.
            assert connect.role_note.isVisible() and _arabic(connect.role_note.text())
            assert not connect.findChildren(QComboBox)
            await asyncio.sleep(0.05)
            shot(connect, "istiqbal-connect-ar.png")
        finally:
            pairing.done(0)
            connect.done(0)
            await local.aclose()
            pairing.deleteLater()
            connect.deleteLater()
            await asyncio.sleep(0.05)

    set_language("ar")
    app.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    try:
        loop.run_until_complete(scenario())
    finally:
        set_language("en")
        app.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
