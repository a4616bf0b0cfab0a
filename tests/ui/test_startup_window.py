"""The desk's window shows before its embedded branch server has started ("starting…", the
empty day), and fills the day once the server answers; a server that cannot start is
reported and the desk ends with status 2."""

from __future__ import annotations

import asyncio
import threading

from PySide6.QtWidgets import QApplication

from tests.ui.conftest import until


def _main_window():
    from ui.windows.main import MainWindow

    return next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None
    )


def test_the_window_shows_before_the_server_and_fills_when_it_answers(loop, tmp_path):
    from app.composition import BranchServer
    from ui import app as desk_app
    from ui.app import run_desk

    release, servers = threading.Event(), []

    def start_server() -> dict:
        assert threading.current_thread() is not threading.main_thread()  # off the GUI thread
        assert release.wait(20)
        server = BranchServer(tmp_path / "branch", host="127.0.0.1", port=0).start()
        servers.append(server)
        return {
            "url": server.url,
            "token": server.token,
            "server_alive": lambda: server.alive,
            "restart_server": None,
        }

    async def scenario():
        desk = asyncio.ensure_future(run_desk(None, start_server=start_server, failed=[]))
        window = await until(_main_window, what="the window, before the server")
        assert "Starting the branch server" in window.statusBar().currentMessage()
        assert not window.state.loaded and not servers
        assert window.date_label.text().startswith("Today")
        await asyncio.sleep(0.3)
        assert desk.done() is False and window.isVisible()  # the GUI keeps running meanwhile
        release.set()
        await asyncio.wait_for(window.first_load, 30)
        assert window.state.bookings and window.calendar.canvas.visible_bookings()
        assert window.client.base_url == servers[0].url
        assert "Starting" not in window.statusBar().currentMessage()
        for stop in list(desk_app._on_stop_signal):  # as Ctrl+C does: the desk ends
            stop()
        assert await asyncio.wait_for(desk, 10) == 0
        return window

    window = None
    try:
        window = loop.run_until_complete(scenario())
    finally:
        release.set()
        if window is not None:
            window.close()
            window.deleteLater()
        for server in servers:
            server.stop()


def test_a_server_that_cannot_start_ends_the_desk_with_its_reason(loop):
    from ui.app import run_desk

    def start_server() -> dict:
        raise OSError("port 8765 is in use")

    async def scenario():
        failed: list[str] = []
        code = await asyncio.wait_for(run_desk(None, start_server=start_server, failed=failed), 20)
        return code, failed

    code, failed = loop.run_until_complete(scenario())
    assert code == 2 and failed == ["port 8765 is in use"]
    assert _main_window() is None


def test_the_server_starts_once_the_window_has_painted_and_the_day_paint_is_logged(loop, tmp_path, caplog):
    """The branch server's start (its imports hold the interpreter) waits for the main
    window's first paint, so the window is never held up by it; "day painted" follows the
    first full paint of the loaded day."""
    import logging

    from app.composition import BranchServer
    from ui import app as desk_app
    from ui.app import run_desk

    caplog.set_level(logging.INFO, logger="ui.app")
    seen_at_start, servers = [], []

    def start_server() -> dict:
        seen_at_start.extend(r.getMessage() for r in caplog.records)
        server = BranchServer(tmp_path / "branch", host="127.0.0.1", port=0).start()
        servers.append(server)
        return {
            "url": server.url,
            "token": server.token,
            "server_alive": lambda: server.alive,
            "restart_server": None,
        }

    async def scenario():
        desk = asyncio.ensure_future(run_desk(None, start_server=start_server, failed=[]))
        window = await until(_main_window, what="the window")
        await asyncio.wait_for(window.first_load, 30)
        await until(lambda: "day painted" in [r.getMessage() for r in caplog.records], what="the day painted")
        for stop in list(desk_app._on_stop_signal):
            stop()
        assert await asyncio.wait_for(desk, 10) == 0
        return window

    window = None
    try:
        window = loop.run_until_complete(scenario())
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        for server in servers:
            server.stop()
    assert "desk window shown" in seen_at_start
    messages = [r.getMessage() for r in caplog.records]
    assert messages.index("desk window shown") < messages.index("day painted")
