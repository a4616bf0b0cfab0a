"""kill -9 of the branch server process mid-push and mid-pull, then ``sync --once`` on the
same data dir: the end state equals an uninterrupted run (every desk change is in the cloud
once, every cloud booking is held locally once), for every cloud."""

from __future__ import annotations

import sqlite3

from .branch import DB_NAME
from .checks import Desk, assert_mirrors, assert_settled, live_desk_made
from .declared import require


def _slots(branch, harness, count: int) -> list[tuple]:
    """``count`` free (day, time, desk) the branch offers, over two resources and some days."""
    out = []
    desks = [Desk(branch, harness.desk_pick(n)) for n in (0, 1)]
    for day in harness.work_days(6):
        for desk in desks:
            times = [t for t in branch.free_times(desk.type, day, desk.resource) if t >= 900]
            out += [(day, t, desk) for t in times[::3][:6]]
            if len(out) >= count:
                return out[:count]
    raise AssertionError(f"only {len(out)} free times for {count} bookings")


def _local_count(data_dir) -> int:
    try:
        with sqlite3.connect(f"file:{data_dir / DB_NAME}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("select count(*) from bookings").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_during_push(fresh, new_branch):
    harness, branch = fresh, new_branch(fresh).start()
    assert_settled(branch.settle())
    method, path = harness.create_call
    harness.faults.drop(count=None, method=method, path=path)  # the line is down while the desk books
    made = [
        branch.book(desk.type, day, t, desk.resource, desk.customer)["id"]
        for day, t, desk in _slots(branch, harness, 32)
    ]
    harness.faults.clear()
    harness.faults.latency(400, method=method, path=path)
    branch.call("POST", "/sync/now")
    branch.wait_for(lambda: len(harness.desk_made()) >= 6, what="a few creates in the cloud")
    branch.kill()
    assert len(harness.desk_made()) < len(made)  # killed mid-push
    harness.faults.clear()
    done = branch.sync_once()
    assert done.returncode == 0, done.stdout + done.stderr
    in_cloud = live_desk_made(harness)
    assert len(in_cloud) == len(made)  # each create once: nothing lost, nothing doubled
    branch.start()
    assert {branch.cloud_id(b) for b in made} == {r.id for r in in_cloud}
    assert_settled(branch.status())


def test_kill_9_during_pull(fresh, new_branch):
    harness = fresh
    require(harness.name, pull_modes=("windows", "changed-since", "sync-token"))  # a bulk pull of a listing
    total = harness.load_many(1500)
    method, path = harness.list_call
    harness.faults.latency(40, method=method, path=path)
    branch = new_branch(harness, page_limit=100).start()
    branch.wait_for(lambda: _local_count(branch.data_dir) > 300, timeout=60, what="part of the pull")
    branch.kill()
    assert _local_count(branch.data_dir) < total  # killed mid-pull
    harness.faults.clear()
    done = branch.sync_once()
    assert done.returncode == 0, done.stdout + done.stderr
    branch.start()
    assert_mirrors(harness, branch)  # every cloud booking once, in the cloud's state
