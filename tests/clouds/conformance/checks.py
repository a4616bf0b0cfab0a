"""What the cases compare: a branch against its cloud, and the few desk steps every case
takes (pick a free time, book it, find it in the cloud)."""

from __future__ import annotations

from datetime import datetime

from .branch import Branch, parse_utc
from .harness import CloudHarness, DeskPick, Record

LIVE_LOCAL = {"CONFIRMED", "PENDING_ASSIGNMENT", "PENDING_APPROVAL", "PENDING_PAYMENT"}


class Desk:
    """The local ids of a :class:`DeskPick`, read from the branch."""

    def __init__(self, branch: Branch, pick: DeskPick):
        resources, types = branch.local_ids(branch.resources()), branch.local_ids(branch.types())
        self.pick = pick
        assert pick.type in types, f"booking type {pick.type} was not pulled: {sorted(types)}"
        assert pick.resource in resources, f"resource {pick.resource} was not pulled: {sorted(resources)}"
        self.type, self.resource = types[pick.type], resources[pick.resource]
        self.other = resources.get(pick.other_resource) if pick.other_resource else None
        self.customer = branch.customer(pick.search)
        self.resources = resources  # cloud id → local id


def free_slot(
    branch: Branch,
    harness: CloudHarness,
    desk: Desk,
    day_index: int = 1,
    nth: int = 0,
    resource: str | None = None,
) -> tuple:
    """(day, military time) of the ``nth`` free start the branch offers on a working day."""
    for day in harness.work_days(8)[day_index:]:
        times = [t for t in branch.free_times(desk.type, day, resource or desk.resource) if t >= 900]
        if len(times) > nth:
            return day, times[nth]
    raise AssertionError(f"no free time for {desk.pick} in the next working days")


def start_of(local: dict) -> datetime | None:
    return parse_utc(local.get("startDateTime"))


def assert_settled(status: dict) -> None:
    assert status["pending"] == 0, status
    assert status["needsAttention"] == 0, status


def live_desk_made(harness: CloudHarness) -> list[Record]:
    return [r for r in harness.desk_made() if not r.canceled and not r.retired]


def assert_mirrors(harness: CloudHarness, branch: Branch) -> dict[str, dict]:
    """The branch holds every cloud booking of the synced window once, in the cloud's
    state (status as the cloud's contract maps it, start, resource), and no live local
    booking stands for a cloud booking that is gone. Returns cloud id → local booking."""
    local = branch.bookings()
    by_cloud = branch.by_cloud_id(local)
    doubled = {c: [b["id"] for b in rows] for c, rows in by_cloud.items() if len(rows) > 1}
    assert not doubled, f"cloud bookings held twice locally: {doubled}"
    records = harness.records()
    resources = branch.local_ids(branch.resources())
    missing = [r for r in records.values() if harness.in_scope(r) and r.id not in by_cloud]
    assert not missing, f"cloud bookings the branch does not have: {missing[:5]} ({len(missing)})"
    wrong = []
    for r in records.values():
        if not harness.in_scope(r):
            continue
        mine = by_cloud[r.id][0]
        if mine["status"] not in harness.local_statuses(r):
            wrong.append(("status", r, mine["status"]))
        if r.start is not None and not r.queued and not harness.same_start(start_of(mine), r.start):
            wrong.append(("start", r, mine.get("startDateTime")))
        if r.resource is not None and not r.queued and resources.get(r.resource) != mine.get("resourceId"):
            wrong.append(("resource", r, mine.get("resourceId")))
    assert not wrong, f"local bookings that differ from the cloud: {wrong[:5]} ({len(wrong)})"
    gone = [rows[0] for c, rows in by_cloud.items() if c not in records and rows[0]["status"] in LIVE_LOCAL]
    assert not gone, f"live local bookings whose cloud booking is gone: {gone[:5]}"
    return {c: rows[0] for c, rows in by_cloud.items()}
