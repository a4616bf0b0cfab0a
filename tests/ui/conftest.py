"""UI test fixtures: a qasync loop per test (pytest-qt does not drive one; docs/architecture.md "Pitfalls").

Drive a UI flow inside ``loop.run_until_complete(scenario())`` where the scenario awaits
``asyncio.sleep`` while it polls widgets (see :func:`until`)."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from tests.test_sync_settings_api import no_keyring  # noqa: F401 (the fixture, for empty_server)


@pytest.fixture(scope="session", autouse=True)
def collect_on_the_gui_thread():
    """Like the desk (ui.app.collect_garbage_on_gui_thread): no automatic cycle collection,
    which could run on a server thread and destroy Qt objects there; collect between tests."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture
def loop(qapp):
    from qasync import QEventLoop

    from app.i18n import set_language

    set_language("en")
    errors: list[dict] = []
    event_loop = QEventLoop(qapp, already_running=False)
    event_loop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        event_loop.close()
        asyncio.set_event_loop(None)
        gc.collect()
    unexpected = [e for e in errors if not isinstance(e.get("exception"), asyncio.CancelledError)]
    if unexpected:
        raise AssertionError(f"errors in the event loop: {unexpected}")


async def until(predicate, timeout: float = 30.0, what: str = "condition"):
    """Poll ``predicate`` while the loop runs; return its first truthy value. The timeout is
    generous (a loaded 2-core CI machine runs a desk several times slower); a passing wait
    returns as soon as the predicate holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def keep_running(qapp):
    """Closing the last dialog must not quit the app (and stop the test's loop); a test file
    of dialogs asks for it with ``pytestmark = pytest.mark.usefixtures("keep_running")``."""
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(quits)


@pytest.fixture
def empty_server(tmp_path, no_keyring):  # noqa: F811 (the imported fixture)
    """A started branch server with no demo clinic and no cloud yet (its secrets in a file,
    no keyring), pulling every 0.3 s once connected; stopped after the test."""
    from app.composition import BranchServer

    server = BranchServer(tmp_path / "branch", demo=False, sync_options={"hot_every": 0.3}).start()
    try:
        yield server
    finally:
        server.stop()


async def until_pulled(client, tries: int = 200) -> dict:
    """The branch's sync status once it has pulled from its cloud (``lastPullAt`` set),
    polled every 0.1 s; AssertionError after ``tries`` polls."""
    status: dict = {}
    for _ in range(tries):
        status = await client.sync_status()
        if status.get("lastPullAt"):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"no pull: {status}")


@pytest.fixture
def desk(loop, branch_server):
    """A started main window on the branch server; yields it, closes it after the test."""
    from app.client import DeskClient
    from ui.windows.main import MainWindow

    async def open_window():
        window = MainWindow(DeskClient(branch_server.url, token=branch_server.token))
        window.resize(1600, 1000)
        window.start()
        window.show()
        await asyncio.wait_for(window.first_load, 15)
        await window.tasks.wait_idle()
        return window

    window = loop.run_until_complete(open_window())
    try:
        yield window
    finally:

        async def close_window():
            window.stop()
            await asyncio.sleep(0)
            await window.client.aclose()
            window.close()

        loop.run_until_complete(close_window())
        window.deleteLater()
