"""Free times (Ehjzny API reference, "List Available Times", "Manage Time Rules") across daylight-saving
changes in Europe/Berlin and none in Asia/Riyadh, grids, fixed times, depth and lead time,
and the /availability/* API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.domain.availability import grid_from
from app.domain.clock import Clock
from app.server.service import BookingService
from app.store import open_store
from tests.clinic import DAY, clock_at, fill, serve
from tests.test_booking_rules import service as service  # noqa: F401, F811  (fixture: test clinic at 10:00)

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # Berlin: 02:00→03:00, 03:00→02:00


def service_in(tmp_path, zone: str, rules: dict, now: datetime) -> BookingService:
    store = open_store(tmp_path / f"{zone.replace('/', '_')}.sqlite3")
    fill(store, zone)
    store.upsert("resources", [{**store.resource("dr-omar"), "timeRules": rules}])
    return BookingService(store, Clock(lambda: now))


def times(svc, day, **grid):
    return [
        (s["time"], s["startDateTime"]) for s in svc.free_times("gen", day, "dr-omar", grid=grid_from(**grid))
    ]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Riyadh"])
def test_day_hours_stay_on_the_local_clock_across_a_dst_change(tmp_path, zone):
    svc = service_in(
        tmp_path,
        zone,
        {"rules": [{"days": EVERY_DAY, "from": 900, "to": 1200}]},
        datetime(2026, 3, 20, tzinfo=UTC),
    )
    for day in (SPRING - timedelta(days=1), SPRING, SPRING + timedelta(days=1)):
        assert [t for t, _ in times(svc, day, granularity="hour")] == [900, 1000, 1100]
    before = times(svc, SPRING - timedelta(days=1), granularity="hour")[0][1]
    after = times(svc, SPRING + timedelta(days=1), granularity="hour")[0][1]
    if zone == "Europe/Berlin":
        assert (before, after) == ("2026-03-28T08:00:00Z", "2026-03-30T07:00:00Z")
    else:
        assert (before, after) == ("2026-03-28T06:00:00Z", "2026-03-30T06:00:00Z")
    svc.store.close()


def test_a_night_period_has_no_start_in_the_skipped_hour_and_both_in_the_repeated_one(tmp_path):
    svc = service_in(
        tmp_path,
        "Europe/Berlin",
        {"rules": [{"days": EVERY_DAY, "from": 0, "to": 400}]},
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    spring = times(svc, SPRING, granularity="hour")
    assert [t for t, _ in spring] == [0, 100, 300]  # 02:00 does not exist that night
    assert spring[-1][1] == "2026-03-29T01:00:00Z"
    autumn = times(svc, AUTUMN, granularity="hour")
    assert [t for t, _ in autumn] == [0, 100, 200, 200, 300]  # 02:00 comes twice
    assert [u for t, u in autumn if t == 200] == ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"]
    fixed = times(svc, AUTUMN, granularity="fixed", fixed_times=[230])
    assert fixed == [(230, "2026-10-25T00:30:00Z"), (230, "2026-10-25T01:30:00Z")]
    assert times(svc, SPRING, granularity="fixed", fixed_times=[230]) == []
    svc.store.close()


def test_a_booking_across_the_spring_gap_blocks_its_real_duration(tmp_path):
    svc = service_in(
        tmp_path,
        "Europe/Berlin",
        {"rules": [{"days": EVERY_DAY, "from": 0, "to": 400}]},
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    booked = svc.create(
        {
            "type": "gen",
            "date": SPRING.isoformat(),
            "time": 150,
            "resourceId": "dr-omar",
            "customerIdentifier": {"id": "c1"},
        }
    )
    assert booked["endDateTime"] == "2026-03-29T01:10:00Z"  # 01:50 + 20 min = 03:10 local
    free = [t for t, _ in times(svc, SPRING, granularity="sixth")]
    assert 130 in free and 140 not in free and 300 not in free and 310 in free
    svc.store.close()


def test_grids_fixed_times_and_in_between_slots(service):  # noqa: F811
    svc = service
    assert [t for t, _ in times(svc, DAY, granularity="half")][:3] == [1000, 1030, 1100]
    assert [t for t, _ in times(svc, DAY, granularity="third")][:3] == [1000, 1020, 1040]
    assert [t for t, _ in times(svc, DAY, granularity="sixth")][:3] == [1000, 1010, 1020]
    assert [t for t, _ in times(svc, DAY, flags={"showOclock": True, "showHalfHour": True})][:3] == [
        1000,
        1030,
        1100,
    ]
    assert [t for t, _ in times(svc, DAY, fixed_times=[930, 1015, 1700, 2300])] == [1015, 1700]
    svc.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": 1000,
            "resourceId": "dr-omar",
            "customerIdentifier": {"id": "c1"},
        }
    )
    optimized = [t for t, _ in times(svc, DAY, granularity="hour", in_between=True)]
    assert optimized[:2] == [1020, 1100]  # right after the 10:00-10:20 booking
    with pytest.raises(ValueError):
        grid_from("fortnightly")


def test_depth_of_days_lead_time_off_rules_and_breaks(tmp_path):
    week = ["sat", "sun", "mon", "tue", "wed", "thu"]
    rules = {
        "rules": [{"days": week, "from": 900, "to": 1300}, {"days": week, "from": 1600, "to": 2100}],
        "depthOfDays": 2,
        "scheduleAfterHoursFromNow": 2,
        "offRules": [{"from": "2026-11-23", "to": "2026-11-23", "reason": "conference"}],
    }
    svc = service_in(tmp_path, "Asia/Riyadh", rules, clock_at(1000).now())
    today = [t for t, _ in times(svc, DAY, granularity="hour")]
    assert today == [1200, 1600, 1700, 1800, 1900, 2000]  # from 12:00 (2 h lead), none in the break
    assert times(svc, DAY + timedelta(days=1)) == []  # day off
    assert times(svc, DAY + timedelta(days=2)) == []  # beyond depthOfDays
    svc.store.upsert(
        "resources",
        [
            {
                **svc.store.resource("dr-omar"),
                "timeRules": {**rules, "scheduleAfterHoursFromNow": -1, "depthOfDays": 0},
            }
        ],
    )
    assert times(svc, DAY) == [] and times(svc, DAY + timedelta(days=2))
    svc.store.close()


def test_availability_api(service):  # noqa: F811
    svc = service
    svc.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c1"}})
    svc.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c2"}})
    thread = serve(svc)
    try:
        with httpx.Client(base_url=thread.url, headers=thread.auth) as http:
            free = http.post(
                "/availability/times",
                json={"type": "gen", "date": DAY.isoformat(), "resourceId": "dr-omar", "granularity": "half"},
            ).json()
            fixed = http.post(
                "/availability/times",
                json={"type": "gen", "date": DAY.isoformat(), "showFixedTimes": "1030,1600"},
            ).json()
            bad = http.post(
                "/availability/times", json={"type": "gen", "date": DAY.isoformat(), "granularity": "weekly"}
            )
            unknown = http.post("/availability/times", json={"type": "nope", "date": DAY.isoformat()})
            types = http.post("/availability/types", json={}).json()["result"]
            omar_types = http.post("/availability/types", json={"resourceId": "dr-omar"}).json()["result"]
            dental = http.post("/availability/resources", json={"type": "dental"}).json()["result"]
    finally:
        thread.stop()
    assert [s["time"] for s in free["result"]][:2] == [1000, 1030]
    assert sorted({(s["time"], s["resourceId"]) for s in fixed["result"]}) == [
        (1030, "dr-omar"),
        (1030, "dr-sara"),
        (1600, "dr-omar"),
        (1600, "dr-sara"),
    ]
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION"
    assert unknown.status_code == 404
    assert {t["id"]: t["pendingCount"] for t in types} == {"gen": 2, "dental": 0}
    assert [t["id"] for t in omar_types] == ["gen"]
    assert [r["id"] for r in dental] == ["dr-sara"]
