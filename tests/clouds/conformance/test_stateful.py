"""The sync state machine for every cloud: Hypothesis drives desk actions over the branch's
HTTP API (book, walk-in, accept, cancel, reschedule), cloud-side actions through the
harness (online bookings, queue joins, cancels, another branch accepting) and faults (5xx,
dropped connections, lost replies, 429, an expired cursor), with sync nudges in between.
Queue rules run only where the connector declares ``queue``.

After the faults stop and the branch settles:

* nothing is pending, and every needs-attention case stands for a booking the cloud
  refused or changed first;
* the branch mirrors the cloud for the synced window (:func:`.checks.assert_mirrors`);
* nothing exists twice: every live cloud booking the desk made is mapped to one local
  booking, and each desk booking is in the cloud once (or was refused / never sent).

Desk and cloud-side actions use different customers: with no idempotency key, a
customer booking the same slot online while the desk's create is unanswered is
indistinguishable by natural key (the contracts' lost-reply rules).

``ISTIQBAL_CONFORMANCE_EXAMPLES`` (default 3) sets how many runs per cloud; the default
runs are derandomized, so every run of the suite explores the same ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from .branch import Branch
from .checks import LIVE_LOCAL, Desk, assert_mirrors, free_slot
from .declared import described
from .harness import HARNESSES

DESK_PICKS, CLOUD_PICKS = (0, 1, 2), (5, 6, 7)


class ConformanceMachine(RuleBasedStateMachine):
    cloud_name = ""

    def __init__(self):
        super().__init__()
        self.caps = described(self.cloud_name)["capabilities"]
        self._started = HARNESSES[self.cloud_name]().started()
        self.harness = self._started.__enter__()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"conformance-{self.cloud_name}-"))
        try:
            self.branch = Branch(self.harness, self.tmp, page_limit=7).start()
            self.branch.settle()
        except BaseException:
            self._close()
            raise
        self.harness.mark()
        self.desks = {n: Desk(self.branch, self.harness.desk_pick(n)) for n in DESK_PICKS}
        self.cloud_picks = {n: self.harness.desk_pick(n) for n in CLOUD_PICKS}
        self.made: list[str] = []  # local ids of the desk's bookings

    def _close(self):
        try:
            if getattr(self, "branch", None):
                self.branch.stop()
        finally:
            self._started.__exit__(None, None, None)
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _mine(self, statuses: set[str]) -> list[dict]:
        rows = [self.branch.booking(i) for i in self.made]
        return [b for b in rows if b["status"] in statuses]

    # desk -----------------------------------------------------------------------------
    @rule(n=st.sampled_from(DESK_PICKS), day=st.integers(0, 2), nth=st.integers(0, 12))
    def desk_book(self, n, day, nth):
        desk = self.desks[n]
        try:
            when, time_ = free_slot(self.branch, self.harness, desk, day, nth)
        except AssertionError:
            return
        answer = self.branch.book(desk.type, when, time_, desk.resource, desk.customer, ok=False)
        if answer.status_code == 200:
            self.made.append(answer.json()["result"]["id"])

    @precondition(lambda self: self.caps.get("queue"))
    @rule(n=st.sampled_from(DESK_PICKS))
    def desk_walk_in(self, n):
        desk = self.desks[n]
        answer = self.branch.walk_in(desk.type, desk.customer, ok=False)
        if answer.status_code == 200:
            self.made.append(answer.json()["result"]["id"])

    @precondition(lambda self: self.caps.get("queue"))
    @rule(data=st.data(), n=st.sampled_from(DESK_PICKS))
    def desk_accept(self, data, n):
        waiting = sorted(b["id"] for b in self.branch.call("GET", "/management/bookings/waiting"))
        if waiting:
            self.branch.accept(data.draw(st.sampled_from(waiting)), self.desks[n].resource, ok=False)

    @rule(data=st.data())
    def desk_cancel(self, data):
        live = self._mine(LIVE_LOCAL)
        if live:
            self.branch.cancel(data.draw(st.sampled_from(live))["id"], "desk", ok=False)

    @rule(data=st.data(), day=st.integers(0, 2), nth=st.integers(0, 12))
    def desk_reschedule(self, data, day, nth):
        movable = [
            b for b in self._mine({"CONFIRMED"}) if b.get("startDateTime") and not b.get("visitStatus")
        ]
        if not movable:
            return
        booking = data.draw(st.sampled_from(movable))
        desk = next((d for d in self.desks.values() if d.resource == booking["resourceId"]), self.desks[0])
        try:
            when, time_ = free_slot(self.branch, self.harness, desk, day, nth)
        except AssertionError:
            return
        self.branch.reschedule(booking["id"], when, time_, ok=False)

    # cloud side -----------------------------------------------------------------------
    @rule(n=st.sampled_from(CLOUD_PICKS), day=st.integers(0, 2), nth=st.integers(0, 12))
    def cloud_online_booking(self, n, day, nth):
        pick = self.cloud_picks[n]
        desk = next((d for d in self.desks.values() if d.pick.resource == pick.resource), None)
        if desk is None:
            return
        try:
            when, time_ = free_slot(self.branch, self.harness, desk, day, nth)
            self.harness.online_booking(pick, self.harness.local_start(when, time_))
        except Exception:  # noqa: BLE001 (the cloud refused: taken meanwhile, outside its hours)
            pass

    @precondition(lambda self: self.caps.get("queue"))
    @rule(n=st.sampled_from(CLOUD_PICKS))
    def cloud_customer_joins_queue(self, n):
        try:
            self.harness.join_queue(self.cloud_picks[n])
        except Exception:  # noqa: BLE001
            pass

    def _cloud_live(self, queued: bool | None = None) -> list[str]:
        return sorted(
            r.id
            for r in self.harness.records().values()
            if self.harness.in_scope(r) and not r.canceled and (queued is None or r.queued == queued)
        )

    @rule(data=st.data())
    def cloud_cancel(self, data):
        live = self._cloud_live()
        if live:
            try:
                self.harness.cloud_cancel(data.draw(st.sampled_from(live)))
            except Exception:  # noqa: BLE001 (already over in the cloud)
                pass

    @precondition(lambda self: self.caps.get("queue"))
    @rule(data=st.data(), n=st.sampled_from(DESK_PICKS))
    def another_branch_accepts(self, data, n):
        queued = self._cloud_live(queued=True)
        if queued:
            try:
                self.harness.accept_elsewhere(data.draw(st.sampled_from(queued)), self.desks[n].pick.resource)
            except Exception:  # noqa: BLE001 (accepted first by the desk)
                pass

    # faults and sync ------------------------------------------------------------------
    @rule(
        kind=st.sampled_from(("fail", "drop", "lose_reply", "rate_limit", "cursor")),
        method=st.sampled_from((None, "GET", "PUT", "POST")),
    )
    def fault(self, kind, method):
        faults = self.harness.faults
        if kind == "fail":
            faults.fail(2, method=method)
        elif kind == "drop":
            faults.drop(method=method)
        elif kind == "lose_reply":
            faults.lose_reply(method=method)
        elif kind == "rate_limit":
            faults.rate_limit(retry_after=1, method=method)
        elif self.harness.cursor:
            self.harness.arm_cursor_expiry()

    @rule()
    def sync_step(self):
        self.branch.call("POST", "/sync/now")
        time.sleep(0.3)

    # the end state ----------------------------------------------------------------------
    def teardown(self):
        try:
            self.harness.faults.clear()
            status = self.branch.settle(timeout=90)
            assert status["pending"] == 0, status
            self._check()
        finally:
            self._close()

    def _check(self):
        cases = self.branch.attention()
        attention = {c["bookingId"] for c in cases}
        mirrored = assert_mirrors(self.harness, self.branch)
        by_local = {b["id"]: c for c, b in mirrored.items()}
        for record in self.harness.desk_made():
            if record.canceled or record.retired:
                continue
            assert record.id in mirrored, f"a live cloud booking the desk made is not held locally: {record}"
            # a doubled create comes down as a booking the desk never made
            assert mirrored[record.id]["id"] in self.made, (record, mirrored[record.id])
        for local_id in self.made:
            local = self.branch.booking(local_id)
            if local_id not in by_local:  # never reached the cloud: refused (needs attention) or over first
                kept = (
                    not self.caps.get("walk_ins") and local["status"] == "PENDING_ASSIGNMENT"
                )  # the desk's own
                assert local["status"] in ("CANCELED", "REJECTED") or local_id in attention or kept, local


def _settings() -> settings:
    examples = int(os.environ.get("ISTIQBAL_CONFORMANCE_EXAMPLES") or 3)
    return settings(
        max_examples=examples,
        stateful_step_count=15,
        deadline=None,
        derandomize=examples <= 3,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )


def test_sync_state_machine(cloud_name):
    described(cloud_name)  # skips: connector not registered
    machine = type(f"ConformanceMachine_{cloud_name}", (ConformanceMachine,), {"cloud_name": cloud_name})
    run_state_machine_as_test(machine, settings=_settings())
