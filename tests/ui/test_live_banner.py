"""The desk says when it is not live: a real branch server stops under an open main window
(offscreen), the window shows the not-live banner with Retry in English and Arabic instead
of silently keeping a stale day, and the banner goes once the server is back."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.composition import BranchServer
from tests.ui.conftest import until

ARABIC = re.compile("[\u0600-\u06ff]")


async def _open(server):
    from app.client import DeskClient
    from ui.windows.main import MainWindow

    window = MainWindow(DeskClient(server.url, token=server.token))
    window.resize(1400, 900)
    window.start()
    window.show()
    await asyncio.wait_for(window.first_load, 15)
    await until(lambda: window.live_watch.stream_live, what="the event stream open")
    return window


async def _close(window) -> None:
    await window.tasks.wait_idle()
    window.stop()
    await asyncio.sleep(0)
    await window.client.aclose()
    window.close()


def _banner_text(window) -> str:
    return window.live_watch.banner.message.text()


def test_banner_when_the_server_goes_and_gone_when_it_is_back(loop, tmp_path):
    from app.i18n import set_language

    data_dir = tmp_path / "branch"
    servers = [BranchServer(data_dir, demo=True, backup_interval=None).start()]

    async def scenario():
        window = await _open(servers[0])
        try:
            banner = window.live_watch.banner
            assert not banner.isVisible()
            port = servers[0].thread.port
            await asyncio.to_thread(servers[0].stop)
            await until(banner.isVisible, what="the not-live banner")
            assert "Not live" in _banner_text(
                window
            ) and "connection to the branch server was lost" in _banner_text(window)
            assert banner.retry.isVisible() and banner.retry.text() == "Retry"
            set_language("ar")
            window.live_watch.retranslate_ui()
            banner.retranslate_ui()
            assert ARABIC.search(_banner_text(window)) and ARABIC.search(banner.retry.text())
            set_language("en")
            window.live_watch.retranslate_ui()

            servers.append(
                BranchServer(data_dir, port=port, backup_interval=None, local_token=servers[0].token).start()
            )
            booked = servers[-1].service.create(
                {
                    "type": servers[-1].store.types()[0]["id"],
                    "assign": False,
                    "customerIdentifier": {"id": servers[-1].store.customers()[0]["id"]},
                }
            )
            banner.retry.click()
            await until(lambda: not banner.isVisible(), what="the banner gone once live again")
            await until(
                lambda: any(b["id"] == booked["id"] for b in window.state.waiting),
                what="the day refetched once live",
            )
        finally:
            await _close(window)

    try:
        loop.run_until_complete(scenario())
    finally:
        servers[-1].stop()


def test_banner_when_the_embedded_server_thread_dies_and_retry_restarts_it(loop, tmp_path):
    data_dir = tmp_path / "branch"
    running = [BranchServer(data_dir, demo=True, backup_interval=None).start()]

    def restart() -> str:
        old = running[0]
        old.stop()
        running[0] = BranchServer(data_dir, backup_interval=None, local_token=old.token).start()
        return running[0].url

    async def scenario():
        window = await _open(running[0])
        window.server_alive = lambda: running[0].alive
        window.restart_server = restart
        first_url = running[0].url
        try:
            banner = window.live_watch.banner
            for server in running[0].thread.servers:  # the serving thread ends (as after a crash)
                server.should_exit = True
            await until(banner.isVisible, what="the not-live banner")
            assert "branch server in this desk stopped" in _banner_text(window)
            banner.retry.click()
            await until(lambda: not banner.isVisible(), what="the banner gone after Retry")
            assert window.client.base_url == running[0].url != first_url
            assert running[0].alive
        finally:
            await _close(window)

    try:
        loop.run_until_complete(scenario())
    finally:
        running[0].stop()


@pytest.mark.parametrize("seconds", [0.3])
def test_a_short_drop_mended_by_the_reconnect_shows_nothing(loop, tmp_path, seconds):
    data_dir = tmp_path / "branch"
    servers = [BranchServer(data_dir, demo=False, backup_interval=None).start()]

    async def scenario():
        window = await _open(servers[0])
        try:
            port = servers[0].thread.port
            await asyncio.to_thread(servers[0].stop)
            await asyncio.sleep(seconds)
            servers.append(
                BranchServer(data_dir, port=port, backup_interval=None, local_token=servers[0].token).start()
            )
            await until(lambda: window.live_watch.stream_live, what="reconnected")
            await asyncio.sleep(0.2)
            assert not window.live_watch.banner.isVisible()
        finally:
            await _close(window)

    try:
        loop.run_until_complete(scenario())
    finally:
        servers[-1].stop()
