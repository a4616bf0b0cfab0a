"""Fixtures shared by all tests. Keep this small and general."""

from __future__ import annotations

import os

# Before anything imports Qt: no display needed, and qasync must pick PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import pytest  # noqa: E402


@pytest.fixture
def branch_server(tmp_path):
    """A real branch server (the demo clinic, relative to now) on 127.0.0.1, any free port."""
    from app.server import BranchServer

    server = BranchServer(tmp_path / "branch", host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()
