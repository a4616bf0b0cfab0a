"""Fixtures of the conformance suite. Every case runs once per cloud (``cloud_name``).

* ``harness`` and ``branch`` are shared by the cases of a module (one simulated cloud with
  its generated clinic, and one branch server process connected to it and settled after
  its first sync), as one clinic's desk lives through a day. Each case begins with
  :meth:`~.harness.CloudHarness.mark` (it counts the cloud bookings the desk makes from
  there) and ends with the cloud's faults cleared.
* ``fresh`` is a cloud of the case's own (for cases that restart, kill or reconfigure the
  branch), ``new_branch(harness, **options)`` a branch server of the case's own.

A cloud whose connector is not registered is skipped with "connector not registered".
"""

from __future__ import annotations

import sys

import pytest

from .branch import Branch
from .declared import described
from .harness import HARNESSES

if sys.platform == "win32":  # kill -9 and the POSIX signals of the server process
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="module", params=sorted(HARNESSES))
def cloud_name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def harness(cloud_name):
    described(cloud_name)  # skips: connector not registered
    with HARNESSES[cloud_name]().started() as running:
        yield running


@pytest.fixture(scope="module")
def branch(harness, tmp_path_factory):
    b = Branch(harness, tmp_path_factory.mktemp(f"{harness.name}-branch")).start()
    try:
        b.settle()
        yield b
    finally:
        b.stop()


@pytest.fixture(autouse=True)
def _case(request):
    shared = request.getfixturevalue("harness") if "harness" in request.fixturenames else None
    if shared is not None:
        shared.faults.clear()
        shared.mark()
    yield
    if shared is not None:
        shared.faults.clear()


@pytest.fixture
def fresh(cloud_name):
    """A simulated cloud of the case's own, with its generated clinic."""
    described(cloud_name)
    with HARNESSES[cloud_name]().started() as running:
        running.mark()
        yield running


@pytest.fixture
def new_branch(tmp_path):
    """``new_branch(harness, name="branch", **options)``: a branch server (not started) on a
    fresh data dir; every one made is stopped at the end."""
    made = []

    def make(harness, name: str = "branch", **options) -> Branch:
        branch = Branch(harness, tmp_path / name, **options)
        made.append(branch)
        return branch

    yield make
    for branch in made:
        branch.stop()
