"""The harnesses themselves, against their simulated clouds alone (no connector needed):
each starts its generated clinic, reads it in the neutral shape, and each cloud-side change
it offers the cases does what it says in the cloud. So a connector that registers later
meets harnesses that already work."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from .declared import capability, require
from .harness import HARNESSES


@pytest.fixture(params=sorted(HARNESSES))
def sim(request):
    with HARNESSES[request.param]().started() as running:
        running.mark()
        yield running


def test_the_generated_clinic_is_read_in_the_neutral_shape(sim):
    records = sim.records()
    in_scope = [r for r in records.values() if sim.in_scope(r)]
    if sim.listed:
        assert len(in_scope) >= 10
        assert any(r.canceled for r in in_scope) or not getattr(sim, "lists_canceled", True)  # or deleted
        assert any(not r.canceled for r in in_scope)
    else:  # a branch holds only what it booked itself: nothing yet
        assert len(records) >= 10 and in_scope == []
    for r in in_scope:
        assert sim.local_statuses(r), r
        assert r.start is None or r.start.tzinfo is not None
    picks = [sim.desk_pick(n) for n in range(8)]
    assert len({p.customer for p in picks}) >= 4
    assert all(p.resource != p.other_resource for p in picks)
    assert sim.work_days(3)[0] > sim.today()
    assert not sim.desk_made()


def _first_free(make, starts):
    """``make(start)`` for the first start the cloud accepts (the generated clinic holds some)."""
    for start in starts:
        try:
            return make(start), start
        except Exception:  # noqa: BLE001 (taken in the generated clinic)
            continue
    raise AssertionError("no start accepted")


def test_cloud_side_changes_change_the_cloud(sim):
    pick = sim.desk_pick(6)
    # the first open day with a free start (a cloud's own "today" may be a date behind the branch's)
    for day in sim.work_days(4)[1:]:
        starts = [sim.local_start(day, hhmm) for hhmm in (900, 930, 1000, 1030, 1100, 1130, 1200)]
        try:
            made, start = _first_free(lambda at: sim.online_booking(pick, at), starts)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("no start accepted on four open days")
    record = sim.record(made)
    assert sim.same_start(record.start, start) and record.resource == pick.resource and not record.canceled
    moved, moved_to = _first_free(lambda at: sim.cloud_move(made, at), [s for s in starts if s != start])
    assert sim.same_start(sim.record(moved).start, moved_to)
    sim.cloud_cancel(moved)
    assert sim.record(moved).canceled
    other, _ = _first_free(lambda at: sim.online_booking(sim.desk_pick(7), at), starts)
    sim.cloud_delete(other)
    gone = sim.record(other)
    assert gone is None or gone.canceled
    if any(capability(sim.name, k) for k in ("attendances", "end_early", "visit_status_push")):
        begun = sim.record(sim.started_booking(sim.desk_pick(2)))  # what the visit cases start from
        assert begun.start <= datetime.now(UTC) and not begun.canceled
    assert not sim.desk_made()  # everything above was made cloud-side


def test_queue_joins_and_another_branch_accepting(sim):
    require(sim.name, "queue")
    queued = sim.join_queue(sim.desk_pick(5))
    assert sim.record(queued).queued
    sim.accept_elsewhere(queued, sim.desk_pick(5).other_resource)
    record = sim.record(queued)
    assert not record.queued and record.resource == sim.desk_pick(5).other_resource


def test_faults_hit_the_create_call(sim):
    method, path = sim.create_call
    sim.faults.fail(1, status=503, method=method, path=path)
    answer = httpx.request(method, getattr(sim.running, "root", sim.running.url) + path)
    assert answer.status_code == 503
    assert not sim.faults.rules()


def test_a_cursor_can_be_expired_where_the_cloud_has_one(sim):
    if sim.cursor is None:
        with pytest.raises(AssertionError):
            sim.arm_cursor_expiry()
        return
    sim.arm_cursor_expiry()  # armed: the harness counts it when a listing meets it


def test_many_bookings_can_be_loaded(sim):
    before = len(sim.records())
    added = sim.load_many(200)
    assert added == 200 and len(sim.records()) >= before + 150
