"""The Agendize connector (``app/sync/agendize``) against the simulated Agendize cloud over
real HTTP on 127.0.0.1 (``tests/clouds/agendize``), through the connector interface's
methods (pull_reference, pull with sync tokens, plan/send, find_sent, classify).

The engine's side is :class:`Desk` below: it lends the connector a context (id maps,
customers, the outbox row's commits) and applies each pulled page to dicts keyed by cloud
id, as the engine does per transaction. Each test names the Agendize API
reference's section or the contract's (``docs/clouds/agendize.md``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.model import Status, VisitStatus
from app.sync import registry
from app.sync.agendize import mapping
from app.sync.agendize.client import CloudError
from app.sync.connector import CloudConfig, CloudMoney, FailureKind, Operation
from tests.clouds.agendize import AgendizeCloud, Clock, generate_clinic, start_cloud

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Riyadh


class Desk:
    """The engine's half, kept small: a ConnectorContext and the pulled state."""

    zone = "Asia/Riyadh"

    def __init__(self):
        self.maps: dict[tuple[str, str], str] = {}  # (entity, local) → cloud
        self.customers: dict[str, dict] = {}
        self.bookings: dict[str, dict] = {}  # cloud id → row
        self.cursor: dict | None = None
        self.marked: list[str] = []

    def now(self):
        return NOW

    def cloud_id(self, entity, local_id):
        return self.maps.get((entity, local_id))

    def local_id(self, entity, cloud_id):
        if entity == "booking" and cloud_id in self.bookings:
            return "L" + cloud_id
        return next((lo for (e, lo), c in self.maps.items() if e == entity and c == cloud_id), None)

    def customer(self, local_id):
        return self.customers.get(local_id)

    async def mark_requested(self, op):
        op.requested_at = "2026-12-07T06:00:00Z"
        op.attempts += 1
        self.marked.append(op.id)

    async def save_steps(self, op, steps):
        op.steps = dict(steps)

    async def save_secret(self, secret):
        pass

    async def pull(self, connector, full=False):
        """One pull, applying each page (rows and cursor together); returns the pages."""
        pages = []
        async for page in connector.pull(self.cursor, full=full):
            for booking in page.bookings:
                self.bookings[booking.cloud_id] = {**self.bookings.get(booking.cloud_id, {}), **booking.row}
                self.maps.setdefault(("booking", "L" + booking.cloud_id), booking.cloud_id)
            self.cursor = page.cursor
            pages.append(page)
        return pages


@pytest.fixture
def sim():
    cloud = AgendizeCloud(clock=Clock(NOW), page_size=40)
    clinic = generate_clinic(cloud, seed=3)
    with start_cloud(cloud) as running:
        running.clinic = clinic
        running.company = cloud.companies[clinic["companies"][0]]
        yield running


def connect(sim, desk, company=True):
    config = CloudConfig(
        sim.url,
        sim.cloud.api_key,
        sim.cloud.token,
        cloud="agendize",
        extra={"companyId": sim.company.id} if company else {},
    )
    return registry.get("agendize").factory(config, desk)


def run(coro):
    return asyncio.run(coro)


async def _with(sim, desk, body, company=True):
    connector = connect(sim, desk, company)
    await connector.open()
    try:
        return await body(connector)
    finally:
        await connector.close()


def staff_ids(sim):
    return sim.clinic["staff"][sim.company.id]


def service_ids(sim):
    return sim.clinic["services"][sim.company.id]


# mapping -----------------------------------------------------------------------------------
def test_zoned_times_and_statuses():
    """API reference "start.dateTime" (no offset, ``timeZone`` IANA, default the company's) and
    "status" (seven values); contract "Desk operations": the visit states."""
    assert mapping.zoned_to_utc({"dateTime": "2026-12-07T09:00:00", "timeZone": "Asia/Riyadh"}, "UTC") == NOW
    assert mapping.zoned_to_utc({"dateTime": "2026-12-07T10:00:00"}, "Asia/Dubai") == NOW
    assert mapping.utc_to_zoned(NOW, "Asia/Riyadh") == {
        "dateTime": "2026-12-07T09:00:00",
        "timeZone": "Asia/Riyadh",
    }
    with pytest.raises(mapping.MappingError):
        mapping.zoned_to_utc({"dateTime": "2026-12-07T10:00:00", "timeZone": "Mars/Base"}, "UTC")
    assert mapping.local_status("pending", has_staff=False) == (Status.PENDING_ASSIGNMENT, None)
    assert mapping.local_status("pending", has_staff=True) == (Status.PENDING_APPROVAL, None)
    assert mapping.local_status("inProgress", True) == (Status.CONFIRMED, VisitStatus.IN_PROGRESS)
    assert mapping.local_status("noShow", True) == (Status.CONFIRMED, VisitStatus.NO_SHOW)
    assert mapping.local_status("declined", True) == (Status.REJECTED, None)
    with pytest.raises(mapping.MappingError):
        mapping.local_status("archived", True)
    notes = mapping.cancel_notes("bring the X-ray", "patient travelling")
    assert notes == "bring the X-ray\nCancelled: patient travelling"
    assert mapping.split_notes(notes) == ("bring the X-ray", "patient travelling")


def test_time_rules_custom_hours_vacations_and_blocks():
    """Contract "Desk operations" (working hours: company, staff, custom hours,
    vacations) and "Objects" (personal appointments are blocked time): custom hours replace
    the weekly hours of their date only; a lunch block is cut out of that day."""
    from app.domain.timerules import periods_on

    company = {
        "id": "1",
        "timeZone": "Asia/Riyadh",
        "workingHours": [
            {"day": d, "hours": [{"start": "08:00", "end": "20:00"}]}
            for d in ("sunday", "monday", "tuesday", "wednesday", "thursday")
        ],
        "vacations": [{"startDate": "2026-12-17", "endDate": "2026-12-17"}],
    }
    staff = {
        "id": "9",
        "workingHours": [{"day": "monday", "hours": [{"start": "07:00", "end": "14:00"}]}],
        "customWorkingHours": [
            {"date": "2026-12-14", "hours": [{"start": "10:00", "end": "12:00"}]},
            {"date": "2026-12-21", "hours": []},
        ],
        "vacations": [{"startDate": "2026-12-28", "endDate": "2026-12-28"}],
    }
    lunch = {"startDateTime": "2026-12-07T10:00:00Z", "endDateTime": "2026-12-07T10:45:00Z"}  # 13:00 Riyadh
    rules = mapping.time_rules(company, staff, [lunch])
    day = datetime.fromisoformat
    assert periods_on(rules, day("2026-12-07").date()) == [(800, 1300), (1345, 1400)]  # inside company hours
    assert periods_on(rules, day("2026-12-14").date()) == [(1000, 1200)]  # custom hours replace
    assert periods_on(rules, day("2026-12-21").date()) == []  # custom hours close the day
    assert periods_on(rules, day("2026-12-28").date()) == []  # vacation
    assert periods_on(rules, day("2027-01-04").date()) == [(800, 1400)]  # the weekly hours hold again
    assert periods_on(rules, day("2026-12-08").date()) == []  # no Tuesday hours
    with pytest.raises(mapping.MappingError):
        mapping.time_rules({"workingHours": [{"day": "someday"}]})


# reference data ----------------------------------------------------------------------------
def test_reference_data_and_company_choice(sim):
    """Contract "Operations" (companies, staff, services, resources, clients): staff are
    providers with the services they give, rooms are resources, services are booking types
    with duration and buffers; ids are text; the company is chosen in the settings, and an
    account with several companies and none chosen says which to choose."""
    desk = Desk()

    async def body(connector):
        companies = await connector.companies()
        ref = await connector.pull_reference()
        again = await connector.pull_reference()  # the address book is not read on every pull
        return companies, ref, again

    companies, ref, again = run(_with(sim, desk, body))
    assert again.customers == [] and len(again.resources) == len(ref.resources)
    assert [c["timeZone"] for c in companies] == ["Asia/Riyadh", "Asia/Dubai"]
    providers = [r for r in ref.resources if r["category"] == "provider"]
    rooms = [r for r in ref.resources if r["category"] == "room"]
    assert [p["id"] for p in providers] == list(staff_ids(sim))
    assert {r["name"] for r in rooms} == {"Room 1", "X-ray room"}
    cleaning = next(t for t in ref.types if t["name"] == "Dental cleaning")
    assert cleaning["minutes"] == 45 and cleaning["leaveMinutesAfter"] == 15 and cleaning["price"] == "350.00"
    assert cleaning["id"] in providers[2]["types"] and cleaning["id"] not in providers[0]["types"]
    assert cleaning["id"] in next(r for r in rooms if r["name"] == "Room 1")["types"]
    assert len(ref.customers) == 24 and all(c["phone"].startswith("+96650") for c in ref.customers)
    assert not ref.hours_unknown and providers[0]["timeRules"]["rules"]

    with pytest.raises(CloudError) as refused:
        run(_with(sim, Desk(), lambda c: c.check(), company=False))
    assert refused.value.reason == "companyRequired" and sim.company.id in refused.value.message


# pull --------------------------------------------------------------------------------------
def test_initial_pull_then_incremental_only_changes(sim):
    """Contract "Behaviour" 1–2: the initial full read of the horizon (all pages,
    ``showDeleted``, ``personalAppointments``) ends with a sync token; the next pull with
    that token holds only what changed: a no-change pull is ONE request with no rows; a
    client's reschedule online comes back alone, with its history entry."""
    desk = Desk()

    async def body(connector):
        pages = await desk.pull(connector)
        before = connector.client.requests
        quiet = await desk.pull(connector)
        quiet_requests = connector.client.requests - before
        some = next(
            c
            for c, row in desk.bookings.items()
            if row["status"] == Status.CONFIRMED
            and row.get("visitStatus") is None
            and row["startDateTime"] > "2026-12-08"
        )
        moved = datetime.fromisoformat(
            desk.bookings[some]["startDateTime"].replace("Z", "+00:00")
        ) - timedelta(hours=1)
        sim.cloud.clock.shift(timedelta(minutes=1))
        try:
            sim.cloud.client_reschedule(sim.company.id, some, moved)
        except Exception:  # the hour before may be taken or closed: any change will do
            sim.cloud.dashboard_status(sim.company.id, some, "noShow")
        before = connector.client.requests
        changed = await desk.pull(connector)
        return pages, quiet, quiet_requests, changed, some, connector.client.requests - before

    pages, quiet, quiet_requests, changed, some, changed_requests = run(_with(sim, desk, body))
    in_cloud = [
        r
        for r in sim.company.appointments.values()
        if r["type"] == "normal" and r["_end"] > NOW - timedelta(days=1) - timedelta(hours=3)
    ]
    assert len(pages) > 1 and pages[-1].cursor["syncToken"] and pages[0].restarted
    assert pages[-1].windows_done[0].name == "horizon"
    assert len(desk.bookings) >= len(in_cloud) - 5  # the horizon starts at the local day before
    assert {r["status"] for r in desk.bookings.values()} >= {"CONFIRMED", "CANCELED", "REJECTED"}
    assert desk.cursor["blocks"]  # lunch blocks: personal appointments, not bookings
    assert all(b["resourceId"] in staff_ids(sim) for b in desk.cursor["blocks"].values())
    assert quiet_requests == 1 and sum(len(p.bookings) for p in quiet) == 0
    assert changed_requests == 1 and [b.cloud_id for p in changed for b in p.bookings] == [some]
    entry = changed[0].bookings[0].raw["history"][-1]
    assert entry["type"] in ("client_rescheduled_changed_start", "no_show")


def test_refused_sync_token_restarts_with_full_read_nothing_lost_nothing_doubled(sim):
    """Contract "Behaviour" 3: a token invalidated in the cloud answers 410; the
    connector's classify calls it ``cursor_expired`` and ``pull(None, full=True)`` reads
    the horizon again; the desk ends with exactly the cloud's appointments, each once,
    the change made meanwhile included."""
    desk = Desk()

    async def body(connector):
        await desk.pull(connector)
        first = set(desk.bookings)
        pending = next(
            c
            for c, row in desk.bookings.items()
            if row["status"] == Status.CONFIRMED and row["startDateTime"] > "2026-12-09"
        )
        sim.cloud.dashboard_delete(sim.company.id, pending)
        sim.cloud.invalidate_sync_tokens()
        with pytest.raises(CloudError) as refused:
            await desk.pull(connector)
        verdict = connector.classify(refused.value)
        desk.cursor = None
        pages = await desk.pull(connector, full=True)
        return first, pending, verdict, pages

    first, deleted, verdict, pages = run(_with(sim, desk, body))
    assert verdict.kind == FailureKind.CURSOR_EXPIRED and verdict.status == 410
    listed = [b.cloud_id for p in pages for b in p.bookings]
    assert len(listed) == len(set(listed))  # nothing doubled
    assert set(listed) == first  # nothing lost (the deleted one is listed, cancelled)
    assert desk.bookings[deleted]["status"] == Status.CANCELED
    assert "cancelled in Agendize" in desk.bookings[deleted]["cancelReason"]
    assert pages[-1].cursor["syncToken"]


def test_backstop_reads_today_by_window(sim):
    """Contract "Behaviour" 5: today is re-read by window every few minutes (reported
    fully read, so the engine sweeps it); the change feed's token is kept."""
    desk = Desk()

    async def body(connector):
        connector.day_every = 0
        await desk.pull(connector)
        token = desk.cursor["syncToken"]
        pages = await desk.pull(connector)
        return token, pages

    token, pages = run(_with(sim, desk, body))
    done = [w for p in pages for w in p.windows_done]
    assert [w.name for w in done] == ["day"] and done[0].start == "2026-12-06T21:00:00Z"
    assert pages[-1].cursor["syncToken"] not in (None, "") and desk.cursor["syncToken"] != ""
    assert any(b.row["startDateTime"].startswith("2026-12-07") for p in pages for b in p.bookings)
    assert token


# push --------------------------------------------------------------------------------------
def free_start(sim, staff, service, after):
    """The first half hour from ``after`` that the cloud would book for ``staff`` without
    ``force`` (working hours, no clash)."""
    company, start = sim.company, after
    member = company.staff[staff_ids(sim)[staff]]
    minutes = company.services[service_ids(sim)[service]]["duration"]
    while True:
        probe = {
            "id": "",
            "_start": start,
            "_end": start + timedelta(minutes=minutes),
            "_staff": member["id"],
            "_resource": None,
            "_service": service_ids(sim)[service],
        }
        if (
            sim.cloud.working(company, member, start, probe["_end"])
            and sim.cloud.clash(company, probe) is None
        ):
            return start
        start += timedelta(minutes=30)


def _desk_booking(sim, desk, after=NOW + timedelta(days=2), staff=0, service=0, customer="C1"):
    start = free_start(sim, staff, service, after)
    desk.customers.setdefault(
        customer,
        {"firstName": "Noura", "lastName": "Aziz", "phone": "+966551112233", "email": "noura@example.com"},
    )
    desk.maps[("type", "T")] = service_ids(sim)[service]
    desk.maps[("resource", "R")] = staff_ids(sim)[staff]
    minutes = sim.company.services[service_ids(sim)[service]]["duration"]
    return {
        "id": "B1",
        "status": "CONFIRMED",
        "visitStatus": None,
        "startDateTime": clock_iso(start),
        "endDateTime": clock_iso(start + timedelta(minutes=minutes)),
        "duration": minutes,
        "typeId": "T",
        "resourceId": "R",
        "customerId": customer,
        "note": "first visit",
    }


def _op(action, after, before=None, op_id="01OPERATION", actor=None):
    return Operation(op_id, after["id"], action, {"before": before, "after": after, "actor": actor or {}})


def test_create_carries_desk_ids_and_a_lost_reply_is_found_not_doubled(sim):
    """Contract "Desk operations" (create: client ``externalId`` = the desk's customer id,
    ``extendedProperties.private.deskOpId``, start in the company's zone) and "Lost reply
    on insert": the insert commits but its reply is lost; the retry finds it by
    ``createdStartDate`` + ``externalClientId`` and ``deskOpId`` and adopts it."""
    desk = Desk()
    booking = _desk_booking(sim, desk)
    connector_plan = registry.get("agendize").factory(CloudConfig(sim.url, "k", "t"), desk).plan
    assert [p.action for p in connector_plan("create", None, booking)] == ["create"]
    assert (
        connector_plan("create", None, {**booking, "startDateTime": None, "status": "PENDING_ASSIGNMENT"})
        == []
    )
    op = _op("create", booking)

    async def body(connector):
        sim.cloud.faults.lose_reply(method="POST", path="/api/2.1")
        with pytest.raises(Exception) as lost:
            await connector.send(op)
        assert connector.classify(lost.value).kind == FailureKind.TRANSIENT
        return await connector.send(op)

    count = len(sim.company.appointments)
    result = run(_with(sim, desk, body))
    assert len(sim.company.appointments) == count + 1  # one appointment, not two
    made = sim.cloud.view(sim.company.appointments[result.booking.cloud_id])
    assert made["extendedProperties"]["private"]["deskOpId"] == op.id
    assert made["client"]["externalId"] == "C1" and made["client"]["email"] == "noura@example.com"
    assert made["start"] == mapping.utc_to_zoned(
        datetime.fromisoformat(booking["startDateTime"]), "Asia/Riyadh"
    )
    assert result.booking.row["startDateTime"] == booking["startDateTime"] and made["status"] == "accepted"
    assert result.booking.customer["externalId"] == "C1"


def test_visit_flow_is_pushed_silently(sim):
    """Contract "Desk operations": start → ``inProgress``, end → ``completed``, no-show →
    ``noShow``, all with ``silent=true`` (the patient gets no message); check-in has no
    Agendize status and stays local."""
    desk = Desk()
    booking = _desk_booking(sim, desk)

    async def body(connector):
        made = (await connector.send(_op("create", booking))).booking
        desk.maps[("booking", "B1")] = made.cloud_id
        sent = len(sim.cloud.notifications)
        checked = {**booking, "visitStatus": "CHECKED_IN"}
        assert connector.plan("check_in", booking, checked) == []
        started = {**checked, "visitStatus": "IN_PROGRESS"}
        [visit] = connector.plan("start", checked, started)
        states = [(await connector.send(_op(visit.action, started, checked, "op2"))).booking.raw["status"]]
        ended = {**started, "visitStatus": "COMPLETED", "endedAt": booking["startDateTime"]}
        [visit] = connector.plan("end", started, ended)
        states.append((await connector.send(_op(visit.action, ended, started, "op3"))).booking.raw["status"])
        return made, sent, states

    made, sent, states = run(_with(sim, desk, body))
    assert states == ["inProgress", "completed"]
    assert len(sim.cloud.notifications) == sent  # silent
    history = [h["type"] for h in sim.company.appointments[made.cloud_id]["history"]]
    assert history[-2:] == ["in_progress", "completed"]

    other = Desk()
    no_show = _desk_booking(sim, other, after=NOW + timedelta(days=3))

    async def body2(connector):
        made = (await connector.send(_op("create", no_show))).booking
        other.maps[("booking", "B1")] = made.cloud_id
        after = {**no_show, "visitStatus": "NO_SHOW"}
        [visit] = connector.plan("no_show", no_show, after)
        return (await connector.send(_op(visit.action, after, no_show, "op4"))).booking

    assert run(_with(sim, other, body2)).raw["status"] == "noShow"


def test_cancel_writes_the_reason_and_a_resent_cancel_after_delete_is_done(sim):
    """Contract "Desk operations" (cancel: ``status: cancelled``, the reason in ``notes``)
    and "Behaviour": update/delete can be re-sent; a 404 on a cancel counts as done."""
    desk = Desk()
    booking = _desk_booking(sim, desk)

    async def body(connector):
        made = (await connector.send(_op("create", booking))).booking
        desk.maps[("booking", "B1")] = made.cloud_id
        cancelled = {**booking, "status": "CANCELED", "cancelReason": "patient travelling"}
        [cancel] = connector.plan("cancel", booking, cancelled)
        result = await connector.send(_op(cancel.action, cancelled, booking, "op5"))
        sim.cloud.dashboard_delete(sim.company.id, made.cloud_id)
        again = await connector.send(_op(cancel.action, cancelled, booking, "op5"))
        return result, again

    result, again = run(_with(sim, desk, body))
    assert result.booking.raw["status"] == "cancelled"
    assert result.booking.raw["notes"] == "first visit\nCancelled: patient travelling"
    assert (
        result.booking.row["cancelReason"] == "patient travelling"
        and result.booking.row["note"] == "first visit"
    )
    assert again.booking is None


def test_accept_a_request_and_the_lost_race(sim):
    """Contract "Desk operations" (accept: ``pending`` → ``accepted`` with staff) and
    "Accept race": the client GETs first; a request another staff member took in the
    dashboard is refused (needs-attention), never overwritten."""
    desk = Desk()
    start = datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    while sim.cloud.clash(
        sim.company,
        {
            "id": "",
            "_start": start,
            "_end": start + timedelta(minutes=30),
            "_staff": staff_ids(sim)[0],
            "_resource": None,
            "_service": service_ids(sim)[0],
        },
    ):
        start += timedelta(minutes=30)
    request = sim.cloud.online_booking(sim.company.id, service_ids(sim)[0], start)
    second = sim.cloud.online_booking(sim.company.id, service_ids(sim)[0], start + timedelta(minutes=30))

    async def body(connector):
        await desk.pull(connector)
        row = desk.bookings[request["id"]]
        assert row["status"] == Status.PENDING_ASSIGNMENT and row["startDateTime"] is None
        desk.maps[("booking", "Q1")] = request["id"]
        desk.maps[("booking", "Q2")] = second["id"]
        desk.maps[("resource", "R")] = staff_ids(sim)[0]
        queued = {
            "id": "Q1",
            "status": "PENDING_ASSIGNMENT",
            "resourceId": None,
            "startDateTime": None,
            "typeId": "T",
            "customerId": "C",
        }
        accepted = {
            **queued,
            "status": "CONFIRMED",
            "resourceId": "R",
            "startDateTime": "2026-12-07T06:00:00Z",
        }
        [accept] = connector.plan("accept", queued, accepted)
        won = await connector.send(_op(accept.action, accepted, queued))
        sim.cloud.update(
            sim.company.id,
            second["id"],
            {"status": "accepted", "staff": {"id": staff_ids(sim)[1]}},
            force=True,
            source="dashboard",
        )
        with pytest.raises(CloudError) as lost:
            await connector.send(_op("accept", {**accepted, "id": "Q2"}, {**queued, "id": "Q2"}, "op7"))
        return won, connector.classify(lost.value)

    won, verdict = run(_with(sim, desk, body))
    assert won.booking.raw["status"] == "accepted" and won.booking.row["resourceId"] == staff_ids(sim)[0]
    assert won.booking.row["startDateTime"] == clock_iso(start)  # the requested time stays
    assert verdict.kind == FailureKind.REFUSED and verdict.code == "AGENDIZE-409-alreadyAccepted"
    assert sim.company.appointments[second["id"]]["_staff"] == staff_ids(sim)[1]


def clock_iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_reschedule_same_id_and_overbook_override_forces(sim):
    """Contract "Desk operations": a reschedule is ``PUT {start, staff?}`` keeping the id;
    outside working hours the cloud refuses (400 → refused); the desk's audited overbook
    override is sent as ``force=true`` with the staff id."""
    desk = Desk()
    booking = _desk_booking(sim, desk)

    async def body(connector):
        made = (await connector.send(_op("create", booking))).booking
        desk.maps[("booking", "B1")] = made.cloud_id
        late = {
            **booking,
            "startDateTime": booking["startDateTime"][:10] + "T13:00:00Z",
        }  # 16:00, Sara is off
        [move] = connector.plan("reschedule", booking, late)
        with pytest.raises(CloudError) as refused:
            await connector.send(_op(move.action, late, booking, "op8"))
        forced = await connector.send(
            _op(move.action, late, booking, "op9", actor={"overbookReason": "urgent"})
        )
        return made, connector.classify(refused.value), forced

    made, verdict, forced = run(_with(sim, desk, body))
    assert verdict.kind == FailureKind.REFUSED and verdict.status == 400
    assert forced.booking.cloud_id == made.cloud_id
    assert forced.booking.raw["start"]["dateTime"].endswith("16:00:00")
    assert forced.booking.raw["history"][-1]["type"] == "user_rescheduled_changed_start"


def test_errors_are_classified(sim):
    """Contract "Transport" → Errors: 5xx and 429 (with ``Retry-After``) are transient,
    401 is auth, 404 not found; a dropped connection is transient."""
    desk = Desk()

    async def body(connector):
        out = []
        for fault in (
            lambda: sim.cloud.faults.fail(status=503),
            lambda: sim.cloud.faults.rate_limit(retry_after=7),
            lambda: sim.cloud.faults.drop(),
        ):
            fault()
            try:
                await connector.check()
            except Exception as exc:
                out.append(connector.classify(exc))
        assert await connector.fetch("999999999") is None
        sim.cloud.revoke_token()
        try:
            await connector.check()
        except Exception as exc:
            out.append(connector.classify(exc))
        return out

    verdicts = run(_with(sim, desk, body))
    assert [v.kind for v in verdicts] == ["transient", "transient", "transient", "auth"]
    assert verdicts[1].retry_after == 7 and verdicts[0].status == 503 and verdicts[2].status is None
    assert connect(sim, desk).classify(ValueError("bug")) is None


def test_incremental_pull_figure(sim):
    """The incremental pull's cost next to a full window re-read in the same run (issue's
    benchmark, small clinic): the no-change pull is one request and fewer bytes."""
    desk = Desk()

    async def body(connector):
        await desk.pull(connector)
        requests, received, began = connector.client.requests, connector.client.received, time.perf_counter()
        await desk.pull(connector)
        quiet = (
            connector.client.requests - requests,
            connector.client.received - received,
            time.perf_counter() - began,
        )
        connector.full_every = 0  # the nightly re-read, now
        requests, received, began = connector.client.requests, connector.client.received, time.perf_counter()
        await desk.pull(connector, full=True)
        full = (
            connector.client.requests - requests,
            connector.client.received - received,
            time.perf_counter() - began,
        )
        return quiet, full

    quiet, full = run(_with(sim, desk, body))
    assert quiet[0] == 1 and full[0] > 2 and quiet[1] * 20 < full[1]


def test_history_entries_say_who_changed_what(sim):
    """API reference "history[].type" / "source"; contract "Objects": the cloud's history is read
    into audit entries with their channel, so a desk can say "rescheduled by the client
    online at 09:00"."""
    desk = Desk()
    start = free_start(sim, 2, 0, NOW + timedelta(days=4))
    made = sim.cloud.online_booking(
        sim.company.id, service_ids(sim)[0], start, staff_id=staff_ids(sim)[2], status="accepted"
    )
    later = free_start(sim, 2, 0, start + timedelta(hours=2))
    sim.cloud.client_reschedule(sim.company.id, made["id"], later)

    async def body(connector):
        return await connector.fetch(made["id"])

    booking = run(_with(sim, desk, body))
    entries = mapping.history_entries(booking.raw, "Asia/Riyadh")
    assert [e["after"]["type"] for e in entries] == ["booked", "client_rescheduled_changed_start"]
    moved = entries[-1]
    assert moved["after"]["by"] == "client" and moved["after"]["channel"] == "online"
    assert moved["createdAt"] == "2026-12-07T06:00:00Z" and moved["key"] != entries[0]["key"]
    assert booking.row["startDateTime"] == clock_iso(later)


def test_companies_for_the_settings(sim):
    """Contract "Operations" (list companies): the settings offer the account's companies;
    a wrong token is refused as auth."""
    from app.sync.agendize.connector import list_companies

    config = CloudConfig(sim.url, sim.cloud.api_key, sim.cloud.token, cloud="agendize")
    found = run(list_companies(config))
    assert [c["id"] for c in found] == sim.clinic["companies"] and found[0][
        "name"
    ] == "Istiqbal Clinic Riyadh"
    with pytest.raises(CloudError) as refused:
        run(list_companies(CloudConfig(sim.url, sim.cloud.api_key, "wrong", cloud="agendize")))
    assert connect(sim, Desk()).classify(refused.value).kind == FailureKind.AUTH


def test_plan_follows_the_desk_operations_table():
    """Contract "Desk operations on Agendize": what each desk change sends; check-in, a
    hold, a walk-in still waiting and an expired request stay the desk's own."""
    plan = registry.get("agendize").factory(CloudConfig("http://127.0.0.1:9", "k", "t"), Desk()).plan
    booked = {
        "id": "B",
        "status": "CONFIRMED",
        "visitStatus": None,
        "startDateTime": "2026-12-08T06:00:00Z",
        "resourceId": "R",
        "typeId": "T",
        "customerId": "C",
    }

    def actions(action, before, after):
        return [p.action for p in plan(action, before, after)]

    assert actions("create", None, booked) == ["create"]
    assert actions("hold", None, {**booked, "heldUntil": "2026-12-07T06:15:00Z"}) == []
    assert actions("confirm", {**booked, "heldUntil": "2026-12-07T06:15:00Z"}, booked) == ["create"]
    walk_in = {**booked, "status": "PENDING_ASSIGNMENT", "startDateTime": None, "resourceId": None}
    assert actions("create", None, walk_in) == []
    assert actions("accept", walk_in, booked) == ["accept"]
    assert actions("expire", walk_in, {**walk_in, "status": "REJECTED"}) == []
    assert actions("reschedule", booked, {**booked, "startDateTime": "2026-12-08T07:00:00Z"}) == [
        "reschedule"
    ]
    assert actions("reschedule", booked, {**booked, "resourceId": "R2"}) == ["reschedule"]
    checked = {**booked, "visitStatus": "CHECKED_IN"}
    assert actions("check_in", booked, checked) == []
    assert actions("start", checked, {**checked, "visitStatus": "IN_PROGRESS"}) == ["visit"]
    ended = {**checked, "visitStatus": "COMPLETED", "endDateTime": "2026-12-08T06:10:00Z"}
    assert actions("end", {**checked, "visitStatus": "IN_PROGRESS"}, ended) == ["visit"]
    assert actions("no_show", booked, {**booked, "visitStatus": "NO_SHOW"}) == ["visit"]
    cancelled = {**booked, "status": "CANCELED", "cancelReason": "ill"}
    assert actions("cancel", booked, cancelled) == ["cancel"]
    assert actions("restore", cancelled, booked) == ["restore"]


# through the sync engine ---------------------------------------------------------------------
# A real branch store (SQLite in a temporary directory), the booking service and the sync
# engine with the Agendize connector, against the simulated cloud on the wall clock.
@pytest.fixture
def live():
    cloud = AgendizeCloud(page_size=50)
    clinic = generate_clinic(cloud, seed=5)
    with start_cloud(cloud) as running:
        running.clinic = clinic
        running.company = cloud.companies[clinic["companies"][0]]
        yield running


class Branch:
    def __init__(self, live, path):
        from app.server.service import BookingService
        from app.store import open_store
        from app.sync.engine import SyncEngine

        self.live = live
        self.store = open_store(path / "branch.sqlite3")
        self.service = BookingService(self.store)
        config = CloudConfig(
            live.url,
            live.cloud.api_key,
            live.cloud.token,
            cloud="agendize",
            extra={"companyId": live.company.id},
        )
        self.engine = SyncEngine(self.service, config).attach()

    def sync(self):
        async def once():
            try:
                return await self.engine.sync_once(deadline=20)
            finally:
                await self.engine.close()

        return asyncio.run(once())

    def local(self, cloud_id):
        return self.store.local_id("agendize", cloud_id)

    def booking(self, cloud_id):
        return self.store.booking(self.local(cloud_id))

    def mapped(self):
        return [
            r[0]
            for r in self.store.db.execute(
                "select cloudId from cloud_ids where cloud = 'agendize' and entity = 'booking'"
            )
        ]


@pytest.fixture
def branch(live, tmp_path):
    made = Branch(live, tmp_path)
    yield made
    made.store.close()


def in_horizon(live):
    now = datetime.now(UTC)
    low = now - timedelta(days=2)
    return {
        i
        for i, r in live.company.appointments.items()
        if r["type"] == "normal"
        and r["_start"] >= low + timedelta(days=1, hours=3)
        and r["_start"] < now + timedelta(days=29)
    }


def test_engine_full_then_token_refused_nothing_lost_nothing_doubled(live, branch, caplog):
    """Issue "Done when": a token invalidated in the simulated cloud leads to a full re-read
    with nothing lost and nothing doubled; a cloud delete cancels the local booking."""
    status = branch.sync()
    assert status["lastError"] is None, status
    first = branch.mapped()
    assert in_horizon(live) <= set(first) and len(first) == len(set(first))
    count = branch.store.db.execute("select count(*) from bookings").fetchone()[0]
    target = next(
        c
        for c in first
        if branch.booking(c)["status"] == Status.CONFIRMED
        and branch.booking(c)["startDateTime"] > datetime.now(UTC).isoformat()
    )
    live.cloud.dashboard_delete(live.company.id, target)
    live.cloud.invalidate_sync_tokens()
    with caplog.at_level("INFO", logger="app.sync.engine"):
        status = branch.sync()
    assert status["lastError"] is None, status
    assert "cursor expired" in caplog.text  # the refused token restarted the pull in full
    again = branch.mapped()
    assert sorted(again) == sorted(first)
    assert branch.store.db.execute("select count(*) from bookings").fetchone()[0] == count
    assert branch.booking(target)["status"] == Status.CANCELED
    providers = [r for r in branch.store.resources() if r.get("category") == "provider"]
    assert len(providers) == 3 and all(r["timeRules"]["rules"] for r in providers)


def test_engine_desk_create_and_visit_flow_show_in_the_cloud(live, branch):
    """Issue "Done when": a desk's start/end/no-show shows in the cloud's status; a desk
    booking reaches Agendize with the desk's ids, once, even when the insert's reply is
    lost."""
    branch.sync()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    staff, service = staff_ids(live)[2], service_ids(live)[0]  # Lina works the whole week
    bodies = []
    for minutes in (40, 20):
        with live.cloud.lock:
            made = live.cloud.insert(
                live.company.id,
                {
                    "client": {"id": live.clinic["clients"][1]},
                    "service": {"id": service},
                    "staff": {"id": staff},
                    "start": live.cloud.zoned_view(now - timedelta(minutes=minutes), live.company),
                },
                force=True,
                silent=True,
                source="dashboard",
            )
        bodies.append(made["id"])
    live.cloud.clock.shift(timedelta(seconds=1))
    branch.sync()
    visit, missed = (branch.local(c) for c in bodies)
    sent = len(live.cloud.notifications)
    branch.service.check_in(visit)
    branch.service.start(visit)
    branch.sync()
    assert live.company.appointments[bodies[0]]["status"] == "inProgress"
    branch.service.end(visit)
    branch.service.no_show(missed)
    branch.sync()
    assert live.company.appointments[bodies[0]]["status"] == "completed"
    assert live.company.appointments[bodies[1]]["status"] == "noShow"
    assert len(live.cloud.notifications) == sent  # silent
    assert branch.store.booking(visit)["visitStatus"] == "COMPLETED"

    start = free_start(live, 2, 0, now + timedelta(days=2))
    customer = branch.store.local_id("agendize", live.clinic["clients"][3], "customer")
    local = datetime.fromtimestamp(start.timestamp(), UTC).astimezone(live.company.zone)
    before = len(live.company.appointments)
    live.cloud.faults.lose_reply(method="POST", path="/api/2.1")
    booked = branch.service.create(
        {
            "type": branch.store.local_id("agendize", service, "type") or service,
            "date": local.date().isoformat(),
            "time": local.hour * 100 + local.minute,
            "resourceId": branch.store.local_id("agendize", staff, "resource"),
            "customerIdentifier": {"id": customer},
        }
    )
    status = branch.sync()
    assert status["pending"] == 0 and status["needsAttention"] == 0, status
    assert len(live.company.appointments) == before + 1  # the lost reply did not double it
    cloud_id = branch.store.cloud_ids(booked["id"]).get("agendize")
    record = live.company.appointments[cloud_id]
    assert record["extendedProperties"]["private"]["deskOpId"]
    assert record["_start"] == start and record["_staff"] == staff


def test_command_line_takes_key_token_and_company(tmp_path, monkeypatch):
    """Issue: ``--cloud agendize --cloud-url URL --cloud-account APIKEY`` with the token in
    ``ISTIQBAL_CLOUD_KEY``; the company is the connector's own field (``--company``) and
    is remembered with the connection (no secret stored)."""
    import argparse

    from app.composition.sync_cli import _config, add_sync_arguments
    from app.store import open_store

    monkeypatch.setenv("ISTIQBAL_CLOUD_KEY", "sso-token")
    parser = argparse.ArgumentParser()
    add_sync_arguments(parser)
    args = parser.parse_args(
        [
            "--cloud",
            "agendize",
            "--cloud-url",
            "http://127.0.0.1:9/api/2.1/",
            "--cloud-account",
            "API-KEY",
            "--company",
            "1717074",
        ]
    )
    store = open_store(tmp_path / "branch.sqlite3")
    try:
        config = _config(args, store)
        assert (config.cloud, config.base_url, config.account, config.secret) == (
            "agendize",
            "http://127.0.0.1:9/api/2.1",
            "API-KEY",
            "sso-token",
        )
        assert config.extra["companyId"] == "1717074"
        stored = store.setting("sync.cloud")
        assert stored["extra"]["companyId"] == "1717074" and "sso-token" not in str(stored)
    finally:
        store.close()


def test_engine_cancelled_in_the_cloud_with_a_desk_change_waiting_needs_attention(live, branch):
    """Contract "Behaviour" 4: a cancellation in the cloud cancels the local booking; when
    the desk has a change of it still waiting, the case goes to needs-attention and the
    cloud's state is kept (the desk's change does not revive it)."""
    branch.sync()
    now = datetime.now(UTC)
    cloud_id = next(
        c
        for c in branch.mapped()
        if branch.booking(c)["status"] == Status.CONFIRMED
        and branch.booking(c)["startDateTime"] > (now + timedelta(days=1)).isoformat()
        and live.company.appointments[c]["_staff"] == staff_ids(live)[2]
    )
    booking = branch.booking(cloud_id)
    start = datetime.fromisoformat(booking["startDateTime"].replace("Z", "+00:00"))
    free = free_start(live, 2, 0, start + timedelta(days=1))
    local = free.astimezone(live.company.zone)
    live.cloud.client_cancel(live.company.id, cloud_id)
    branch.service.reschedule(
        booking["id"],
        {"date": local.date().isoformat(), "time": local.hour * 100 + local.minute, "overbookReason": "test"},
    )
    status = branch.sync()
    assert status["needsAttention"] == 1 and status["pending"] == 0, status
    assert branch.booking(cloud_id)["status"] == Status.CANCELED
    case = branch.engine.outbox.attention()[0]
    assert case["code"] == "AGENDIZE-409-cancelledInCloud"


def test_engine_history_says_who_changed_it_in_the_cloud(live, branch):
    """Issue "History" (API reference "history[]"): a change pulled from Agendize is written in the
    booking's history with the cloud's account of it: "rescheduled by the client online"."""
    branch.sync()
    now = datetime.now(UTC)
    cloud_id = next(
        c
        for c in branch.mapped()
        if branch.booking(c)["status"] == Status.CONFIRMED
        and branch.booking(c)["startDateTime"] > (now + timedelta(days=1)).isoformat()
        and live.company.appointments[c]["_staff"] == staff_ids(live)[2]
    )
    start = live.company.appointments[cloud_id]["_start"]
    moved = free_start(live, 2, 0, start + timedelta(days=1))
    live.cloud.client_reschedule(live.company.id, cloud_id, moved)
    branch.sync()
    local = branch.booking(cloud_id)
    assert local["startDateTime"] == clock_iso(moved)
    entry = [h for h in branch.store.history(local["id"]) if h["action"] == "sync"][-1]
    after = entry["after"] if isinstance(entry["after"], dict) else __import__("json").loads(entry["after"])
    change = after["cloudChange"]
    assert change["type"] == "client_rescheduled_changed_start"
    assert (change["by"], change["channel"]) == ("client", "online") and change["at"].endswith("Z")


def test_engine_overbook_override_is_sent_as_force(live, branch):
    """Contract "Desk operations": the desk's audited overbook override (a reschedule out
    of the provider's hours with a reason) goes to Agendize as ``force=true`` with the staff
    id; without it the cloud would refuse (400 outside working hours)."""
    branch.sync()
    now = datetime.now(UTC)
    sara = staff_ids(live)[0]  # works 08:00-14:00
    cloud_id = next(
        c
        for c in branch.mapped()
        if branch.booking(c)["status"] == Status.CONFIRMED
        and branch.booking(c)["startDateTime"] > (now + timedelta(days=1)).isoformat()
        and live.company.appointments[c]["_staff"] == sara
    )
    start = live.company.appointments[cloud_id]["_start"].astimezone(live.company.zone)
    late = start.replace(hour=16, minute=0)  # after her hours, inside the clinic's
    branch.service.reschedule(
        branch.local(cloud_id),
        {"date": late.date().isoformat(), "time": 1600, "overbookReason": "urgent case"},
    )
    status = branch.sync()
    assert status["needsAttention"] == 0 and status["pending"] == 0, status
    assert live.company.appointments[cloud_id]["_start"] == late.astimezone(UTC)


# ---- money coming down ----------------------------------------------------------------------
def test_price_and_the_paid_flag_map_to_cloud_money():
    assert mapping.money({"price": {"amount": 150.5, "currency": "SAR"}, "paid": "true"}) == CloudMoney(
        price="150.5", paid="150.5", fully_paid=True
    )
    assert mapping.money({"price": {"amount": 80, "currency": "SAR"}, "paid": False}).paid == "0"
    assert mapping.money({"paid": False}) == CloudMoney(price=None, paid="0", fully_paid=False)
    assert mapping.money({"price": {"amount": "n/a"}}).price is None and mapping.money({}) is None


def test_engine_price_and_paid_come_down_and_show_once(live, branch):
    """Agendize's ``price`` and ``paid`` (API reference "Appointment resource") reach the booking's
    figures; the appointment paid in Agendize (the simulation's admin surface, over HTTP)
    shows as paid in the cloud, once, however often the branch pulls."""
    import httpx

    from app.server.payments import Payments

    assert branch.sync()["lastError"] is None
    payments = Payments(branch.service)
    with live.cloud.lock:
        priced = next(
            i
            for i, r in live.company.appointments.items()
            if r["type"] == "normal"
            and branch.local(i)
            and live.company.services[r["_service"]]["price"]
            and r["status"] == "accepted"
            and r["_start"] > datetime.now(UTC)
        )
        amount = live.company.services[live.company.appointments[priced]["_service"]]["price"]["amount"]
    local = branch.local(priced)
    figures = payments.figures(local, parts=True)
    assert (figures["price"], figures["priceSource"], figures["paid"], figures["cloudFullyPaid"]) == (
        round(amount * 100),
        "cloud",
        0,
        False,
    )
    reply = httpx.post(
        f"{live.root}/_sim/companies/{live.company.id}/appointments/{priced}/paid",
        headers=live.admin,
        json={"paid": True},
    )
    assert reply.status_code == 200, reply.text
    for _ in range(2):
        assert branch.sync()["lastError"] is None
        figures = payments.figures(local, parts=True)
        assert (figures["paidCloud"], figures["paidLocal"], figures["balance"], figures["cloud"]) == (
            round(amount * 100),
            0,
            0,
            "agendize",
        )
        assert figures["cloudFullyPaid"] is True


def _history(branch, cloud_id):
    import json

    rows = branch.store.history(branch.local(cloud_id))
    return [
        {**h, "after": h["after"] if isinstance(h["after"], dict) else json.loads(h["after"] or "{}")}
        for h in rows
    ]


def cloud_time(entry: dict) -> datetime:
    """A ``history[]`` entry's ``date`` (the company's wall time and zone) in UTC."""
    from zoneinfo import ZoneInfo

    date = entry["date"]
    return datetime.fromisoformat(date["dateTime"]).replace(tzinfo=ZoneInfo(date["timeZone"])).astimezone(UTC)


def test_engine_copies_every_cloud_history_entry_once_with_its_source_and_time(live, branch):
    """Contract "Objects" (``history[].type`` … "The desk copies these into the booking's
    audit history"): every entry of an appointment's ``history[]`` is in the local booking's
    history once, with who acted (the client online, staff in the dashboard, the branch's own
    API key) at the cloud's time, in UTC; a full re-read of the same appointments adds
    nothing; the desk's own reschedule coming back from the cloud is marked as made through
    the API, not as someone else's."""
    branch.sync()
    now = datetime.now(UTC)
    cloud_id = next(
        c
        for c in branch.mapped()
        if branch.booking(c)["status"] == Status.CONFIRMED
        and branch.booking(c)["startDateTime"] > (now + timedelta(days=1)).isoformat()
        and live.company.appointments[c]["_staff"] == staff_ids(live)[2]
    )
    first = _history(branch, cloud_id)
    booked = [h for h in first if h["action"].startswith("cloud.")]
    assert [h["after"]["type"] for h in booked] == [
        e["type"] for e in live.company.appointments[cloud_id]["history"]
    ]

    # two changes in the cloud between pulls: staff put it back to pending in the dashboard,
    # then the client moves it online; both are copied, each at its own time
    live.cloud.dashboard_status(live.company.id, cloud_id, "pending")
    live.cloud.clock.shift(timedelta(minutes=2))
    start = live.company.appointments[cloud_id]["_start"]
    moved = free_start(live, 2, 0, start + timedelta(days=1))
    live.cloud.client_reschedule(live.company.id, cloud_id, moved)
    cloud_entries = live.company.appointments[cloud_id]["history"]
    branch.sync()
    assert branch.booking(cloud_id)["startDateTime"] == clock_iso(moved)
    after_pull = _history(branch, cloud_id)
    keys = [h["after"].get("cloudKey") or h["after"].get("cloudChange", {}).get("key") for h in after_pull]
    keys = [k for k in keys if k]
    assert len(keys) == len(set(keys)) == len(cloud_entries)
    moved_entry = next(h for h in after_pull if h["action"] == "sync")
    change = moved_entry["after"]["cloudChange"]
    assert change["type"] == "client_rescheduled_changed_start"
    assert (change["by"], change["channel"]) == ("client", "online")
    assert change["at"] == clock_iso(cloud_time(cloud_entries[-1]))
    assert moved_entry["after"]["startDateTime"] == clock_iso(moved)
    staff_entry = [h for h in after_pull if h["action"] == "cloud.pending"]
    assert len(staff_entry) == 1 and staff_entry[0]["after"]["by"] == "staff"
    assert staff_entry[0]["after"]["channel"] == "dashboard" and staff_entry[0]["createdAt"].endswith("Z")
    assert staff_entry[0]["createdAt"] < change["at"]

    # a full re-read (the sync token refused) lists the same appointments again: nothing added
    live.cloud.invalidate_sync_tokens()
    branch.sync()
    assert len(_history(branch, cloud_id)) == len(after_pull)

    # the desk's own reschedule comes back in history[] as made through the API (its key)
    later = free_start(live, 2, 0, moved + timedelta(days=1)).astimezone(live.company.zone)
    branch.service.reschedule(
        branch.local(cloud_id), {"date": later.date().isoformat(), "time": later.hour * 100 + later.minute}
    )
    live.cloud.clock.shift(timedelta(minutes=2))
    branch.sync()
    branch.sync()
    mine = _history(branch, cloud_id)
    assert [h["action"] for h in mine].count("reschedule") == 1
    echo = [h for h in mine if h["action"] == "cloud.user_rescheduled_changed_start"]
    assert len(echo) == 1 and echo[0]["after"]["by"] == "api" and echo[0]["after"]["channel"] == "api"
    assert len(_history(branch, cloud_id)) == len(mine)
