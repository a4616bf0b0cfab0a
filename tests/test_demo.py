"""The demo clinic (app.demo) and its import into a real store file."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from app.demo import counts, generate_clinic, write_clinic_json
from app.demo.__main__ import main
from app.domain import clock, timerules
from app.store.store import open_store
from app.sync.ehjzny.importer import import_clinic

SATURDAY = date(2026, 11, 21)
FRIDAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)  # 11:30 in Riyadh


@pytest.fixture(scope="module")
def clinic():
    return generate_clinic(SATURDAY, "Asia/Riyadh", seed=7, now=NOW)


def scheduled(clinic):
    return [b for b in clinic["bookings"] if b["status"] != "PENDING_ASSIGNMENT"]


def test_counts(clinic):
    numbers = counts(clinic)
    assert numbers["resources"] >= 8 and numbers["types"] == 6 and numbers["customers"] == 300
    assert 550 <= numbers["bookings"] <= 650
    assert numbers["walkIns"] >= 10
    categories = {r["category"] for r in clinic["resources"]}
    assert categories == {"doctors", "rooms"}
    assert all(10 <= t["minutes"] <= 60 for t in clinic["types"])
    assert len({t["color"] for t in clinic["types"]}) == 6


def test_customers(clinic):
    phones = [c["phone"] for c in clinic["customers"]]
    assert len(set(phones)) == 300
    assert all(p.startswith("+9665") and len(p) == 13 and p[1:].isdigit() for p in phones)
    arabic = sum(1 for c in clinic["customers"] if "\u0600" <= c["firstName"][0] <= "\u06ff")
    assert 0.6 * 300 <= arabic <= 0.8 * 300
    assert any(c["email"] for c in clinic["customers"])


def test_same_seed_same_output():
    first = generate_clinic(SATURDAY, seed=7, now=NOW)
    assert json.dumps(first, sort_keys=True) == json.dumps(
        generate_clinic(SATURDAY, seed=7, now=NOW), sort_keys=True
    )
    assert json.dumps(first) != json.dumps(generate_clinic(SATURDAY, seed=8, now=NOW))


@pytest.mark.parametrize("today", [SATURDAY, FRIDAY])
def test_today_is_busy_in_several_resources(today):
    clinic = generate_clinic(today, "Asia/Riyadh", now=datetime.combine(today, NOW.timetz()))
    today_resources = {
        b["resourceId"]
        for b in scheduled(clinic)
        if clock.local_date(clock.from_iso(b["startDateTime"]), "Asia/Riyadh") == today
    }
    assert len(today_resources) >= 6


def test_walk_ins_wait_in_queues(clinic):
    walk_ins = [b for b in clinic["bookings"] if b["status"] == "PENDING_ASSIGNMENT"]
    serving = defaultdict(int)
    for resource in clinic["resources"]:
        for type_id in resource["types"]:
            serving[type_id] += 1
    for booking in walk_ins:
        assert "resourceId" not in booking and "startDate" not in booking and "startTime" not in booking
        assert booking["assignmentTimeout"] == 180
        assert serving[booking["typeId"]] >= 2
        waited = (NOW - clock.from_iso(booking["createdAt"])).total_seconds() / 60
        assert 0 <= waited <= 90


@pytest.mark.parametrize("zone", ["Asia/Riyadh", "Europe/Berlin"])
def test_no_overlaps_and_inside_working_hours(zone):
    clinic = generate_clinic(date(2026, 10, 25), zone, now=NOW)  # Berlin: a DST change day
    by_resource = defaultdict(list)
    for booking in scheduled(clinic):
        start, end = clock.from_iso(booking["startDateTime"]), clock.from_iso(booking["endDateTime"])
        assert (end - start).total_seconds() == booking["duration"] * 60
        day = clock.local_date(start, zone)
        assert booking["startDate"] == day.isoformat()
        assert booking["startTime"] == clock.military(start, zone)
        periods = timerules.periods_on(clinic["timeRules"][booking["resourceId"]], day)
        assert any(
            lo <= clock.military(start, zone) and clock.military(end, zone) <= hi for lo, hi in periods
        ), booking
        by_resource[booking["resourceId"]].append((start, end))
    for intervals in by_resource.values():
        intervals.sort()
        assert all(
            a_end <= b_start for (_, a_end), (b_start, _) in zip(intervals, intervals[1:], strict=False)
        )


def test_import_into_a_store_file_keeps_arabic_and_utc(clinic, tmp_path):
    path = tmp_path / "branch.sqlite"
    store = open_store(path)
    result = import_clinic(store, clinic)
    assert result == {
        "resources": 8,
        "types": 6,
        "customers": 300,
        "bookings": len(clinic["bookings"]),
        "queued": 12,
        "skipped": 0,
    }
    store.close()

    store = open_store(path)
    assert store.zone == "Asia/Riyadh"
    names = {r["name_translations"]["ar"] for r in store.resources()}
    assert "د. سارة القحطاني" in names
    cloud_customer = clinic["customers"][0]
    local = store.customer(store.local_id("demo", cloud_customer["id"], "customer"))
    assert (local["firstName"], local["lastName"]) == (
        cloud_customer["firstName"],
        cloud_customer["lastName"],
    )
    assert local["customerNumber"] >= 1001 and local["searchText"]
    cloud_booking = scheduled(clinic)[0]
    row = store.booking(store.local_id("demo", cloud_booking["id"]))
    assert row["startDateTime"] == cloud_booking["startDateTime"].replace(".000Z", "Z")
    assert row["customerId"] == store.local_id("demo", cloud_booking["customerId"], "customer")
    queued = store.queued_bookings()
    assert len(queued) == 12
    tickets = [q["ticket"] for q in queued]
    assert len(set(tickets)) == 12 and all(t[0].isalpha() and t[-3:].isdigit() for t in tickets)
    for prefix in {t[:-3] for t in tickets}:  # each type's tickets count 1, 2, 3… in arrival order
        mine = [q["queueNumber"] for q in queued if q["ticket"].startswith(prefix)]
        assert mine == list(range(1, len(mine) + 1))
    assert store.resource(clinic["resources"][0]["id"])["timeRules"]["rules"]
    store.close()


def test_import_twice_does_not_duplicate(clinic, tmp_path):
    store = open_store(tmp_path / "branch.sqlite")
    import_clinic(store, clinic)
    import_clinic(store, clinic)
    assert store.db["customers"].count == 300
    assert store.db["bookings"].count == len(clinic["bookings"])
    store.close()


def test_command_writes_json(tmp_path, capsys):
    out = tmp_path / "clinic.json"
    assert main(["--out", str(out), "--today", "2026-11-21"]) == 0
    assert "customers=300" in capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["organization"]["timeZone"] == "Asia/Riyadh"
    assert write_clinic_json(tmp_path / "again.json", SATURDAY, now=NOW)["walkIns"] == 12
