"""Fixtures shared by all tests. Keep this small and general."""

from __future__ import annotations

import os
import tempfile

# Before anything imports Qt: no display needed, and qasync must pick PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

# The tests (and the desks and servers they start as subprocesses) keep their per-user
# settings, secrets, logs and caches in a throw-away home, never in the tester's own.
_home = tempfile.mkdtemp(prefix="istiqbal-tests-")
for _name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
    os.environ[_name] = os.path.join(_home, _name.lower())

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Property tests check rules, not speed: on a loaded machine one slow draw or example must not
# fail them (the "too slow" health check and the per-example deadline measure the machine).
settings.register_profile("istiqbal", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("istiqbal")


@pytest.fixture
def clinic_server(tmp_path):
    """The small test clinic (:func:`tests.clinic.fill`, clock at 10:00 on ``DAY``) behind a
    real HTTP server on 127.0.0.1: ``(thread, service)``; ``thread.url``, ``.token``, ``.auth``."""
    from app.server.service import BookingService
    from app.store import open_store
    from tests.clinic import clock_at, fill, serve

    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    service = BookingService(store, clock_at(1000))
    thread = serve(service)
    yield thread, service
    thread.stop()
    store.close()


@pytest.fixture
def branch_server(tmp_path):
    """A real branch server (the demo clinic, relative to now) on 127.0.0.1, any free port."""
    from app.composition import BranchServer

    server = BranchServer(tmp_path / "branch", host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


def pytest_xdist_make_scheduler(config, log):
    """Tests run on several workers (pytest-xdist): one scope per test file, so a file's
    module fixtures (a started cloud, the frozen build) are made once; the conformance
    suite's files are split by cloud (``test_x[rekaz]``), each cloud a scope of its own, so
    the clouds' cases run side by side."""
    from xdist.scheduler import LoadScopeScheduling

    from tests.clouds.conformance.harness import HARNESSES

    class ByFileAndCloud(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            if "/conformance/" in path and nodeid.endswith("]"):
                params = nodeid[nodeid.rindex("[") + 1 : -1].split("-")
                cloud = next((p for p in params if p in HARNESSES), None)
                if cloud:
                    return f"{path}[{cloud}]"
            return path

    return ByFileAndCloud(config, log)
