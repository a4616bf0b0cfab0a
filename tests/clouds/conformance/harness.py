"""One small harness per simulated cloud: start it with a generated clinic, read its state
(in-process, under the simulation's own lock), make cloud-side changes and inject faults.

Every harness gives the cloud's bookings in one neutral shape (:class:`Record`) and says
which local statuses stand for each (from the cloud's contract, ``docs/clouds/*.md``
"Objects" → statuses), so that one suite compares any connector's branch with its cloud.

Faults are the simulations' own (:mod:`tests.clouds.faults`): ``fail`` (5xx),
``rate_limit`` (429 with ``Retry-After``), ``latency`` (a reply slower than the client's
timeout is a timeout), ``drop``, ``lose_reply`` (the write commits, the reply is lost).
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CONFIRMED, CANCELED, REJECTED = "CONFIRMED", "CANCELED", "REJECTED"
PENDING_ASSIGNMENT, PENDING_APPROVAL, PENDING_PAYMENT = (
    "PENDING_ASSIGNMENT",
    "PENDING_APPROVAL",
    "PENDING_PAYMENT",
)


@dataclass
class Record:
    """A cloud booking in a neutral shape: cloud ids, UTC start, and what happened to it."""

    id: str
    status: str  # the cloud's own spelling
    start: datetime | None
    resource: str | None
    customer: str | None
    type: str | None
    canceled: bool = False
    queued: bool = False
    checked_in: bool = False
    ended: bool = False
    no_show: bool = False
    retired: bool = False  # replaced by a reschedule that made a new booking
    created: datetime | None = None


@dataclass
class DeskPick:
    """What the desk books with: a booking type and a resource serving it (cloud ids), and
    a customer (cloud id, and the text that finds them in the branch's customer search)."""

    type: str
    resource: str
    customer: str
    search: str
    other_resource: str | None = None


def _minute(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(second=0, microsecond=0) if moment else None


class CloudHarness:
    """The parts every harness has; subclasses fill in the cloud's own calls."""

    name: str = ""
    #: faults a case may use on the cloud's write calls: (method, path prefix) of a create
    create_call: tuple[str, str] = ("POST", "/")
    #: what kind of listing state can expire here ("page token", "sync token") or None
    cursor: str | None = None
    #: (method, path prefix) of the booking listing a pull reads
    list_call: tuple[str, str] = ("GET", "/")
    #: a reply this slow is far beyond the connectors' HTTP timeout (15 s each)
    slow_reply_ms: int = 90_000
    #: the cloud lists a branch's bookings (False: a branch holds only what it booked itself)
    listed: bool = True

    def __init__(self, seed: int = 7):
        self.seed = seed
        self.rng = random.Random(seed)
        self.cloud_made: set[str] = set()  # bookings made cloud-side by a case
        self.initial: set[str] = set()
        self.since: set[str] = set()
        self.running = None

    # ---- shared helpers ------------------------------------------------------------------
    @property
    def faults(self):
        return self.cloud.faults

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.zone).date()

    def local_start(self, day: date, hhmm: int) -> datetime:
        return datetime.combine(day, time(hhmm // 100, hhmm % 100), self.zone).astimezone(UTC)

    def in_scope(self, record: Record) -> bool:
        """Whether a branch that has pulled everything holds ``record``: a booking starting
        from yesterday to 30 days ahead (branch-local), or one waiting in a queue."""
        if record.retired:
            return False
        if record.start is None:
            return record.queued
        day = record.start.astimezone(self.zone).date()
        return self.today() - timedelta(days=1) <= day <= self.today() + timedelta(days=30)

    def mark(self) -> None:
        """A case begins: :meth:`desk_made` counts from here."""
        self.since = set(self.records())

    def desk_made(self) -> list[Record]:
        """Cloud bookings made since :meth:`mark`, other than those a case made cloud-side."""
        return [
            r
            for r in self.records().values()
            if r.id not in self.initial and r.id not in self.since and r.id not in self.cloud_made
        ]

    def work_days(self, count: int, skip: int = 1) -> list[date]:
        """The next ``count`` days (from today + ``skip``) the generated clinic is open."""
        day, out = self.today() + timedelta(days=skip), []
        while len(out) < count:
            if self.open_on(day):
                out.append(day)
            day += timedelta(days=1)
        return out

    def open_on(self, day: date) -> bool:
        return True

    @staticmethod
    def same_start(a: datetime | None, b: datetime | None) -> bool:
        return _minute(a) == _minute(b)

    def record(self, cloud_id: str) -> Record | None:
        return self.records().get(cloud_id)

    # ---- per cloud -----------------------------------------------------------------------
    @contextmanager
    def started(self):
        raise NotImplementedError

    def config_values(self) -> dict:
        raise NotImplementedError

    def records(self) -> dict[str, Record]:
        raise NotImplementedError

    def local_statuses(self, record: Record) -> set[str]:
        raise NotImplementedError

    def desk_pick(self, n: int = 0) -> DeskPick:
        raise NotImplementedError

    def online_booking(self, pick: DeskPick, start: datetime) -> str:
        raise NotImplementedError

    def started_booking(self, pick: DeskPick) -> str:
        """A booking that began a few minutes ago (the patient is due now), on the pick's
        resource or another one serving its type when the generated clinic holds that one."""
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        refused = None
        for resource in self.resources_for(pick):
            for minutes in (4, 6, 8):
                try:
                    return self.online_booking(
                        replace(pick, resource=resource), now - timedelta(minutes=minutes)
                    )
                except Exception as exc:  # noqa: BLE001 (that resource is busy then)
                    refused = exc
        raise AssertionError(f"no resource is free now for {pick}: {refused}")

    def resources_for(self, pick: DeskPick) -> list[str]:
        """Resources (cloud ids) that serve the pick's type, the pick's own first."""
        return [r for r in (pick.resource, pick.other_resource) if r]

    def reschedule_call(self, cloud_id: str) -> tuple[str, str]:
        """(method, path prefix) of the call that moves ``cloud_id``."""
        raise NotImplementedError

    def cloud_cancel(self, cloud_id: str) -> None:
        raise NotImplementedError

    def cloud_move(self, cloud_id: str, start: datetime) -> str:
        """Move the booking in the cloud; returns its cloud id afterwards (a new one where a
        move makes a new booking)."""
        raise NotImplementedError

    def cloud_delete(self, cloud_id: str) -> None:
        raise NotImplementedError

    def join_queue(self, pick: DeskPick) -> str:
        raise NotImplementedError

    def accept_elsewhere(self, cloud_id: str, resource: str) -> None:
        raise NotImplementedError

    def arm_cursor_expiry(self) -> None:
        """The next listing that presents its cursor finds it expired."""
        raise NotImplementedError

    def cursor_expiries(self) -> int:
        raise NotImplementedError

    def priced_unpaid(self, pick: DeskPick, start: datetime) -> str | None:
        """A cloud booking the branch lists, with a price and nothing paid yet (one of the
        generated clinic's, or made now with ``pick`` at ``start``); None: none to be had."""
        return None

    def cloud_payment(self, cloud_id: str) -> int:
        """Pay booking ``cloud_id`` in the cloud, through the simulation's ``/_sim`` surface
        over HTTP; returns what the cloud then reports paid on it, in minor units."""
        raise NotImplementedError

    def _sim_post(self, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        import httpx

        root = getattr(self.running, "root", None) or self.running.url  # Ehjzny's url is its root
        reply = httpx.post(f"{root}{path}", json=body or {}, headers=headers or {}, timeout=30)
        assert reply.status_code < 300, f"{path}: {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else {}

    def load_many(self, count: int) -> int:
        """Add about ``count`` bookings in the synced window; returns how many were added."""
        raise NotImplementedError


# ================================================================================ Ehjzny ====
class EhjznyHarness(CloudHarness):
    """Ehjzny API reference, contract ``docs/clouds/ehjzny.md``: the sample clinic, two dozen
    more customers and a week of bookings (confirmed, canceled, a queue)."""

    name = "ehjzny"
    create_call = ("PUT", "/management/scheduling")
    cursor = "page token"
    zone = ZoneInfo("Asia/Riyadh")
    TYPES = {"resAhmed": ("typeGeneral", "typeFollowUp"), "resSara": ("typeGeneral", "typeDental")}

    @contextmanager
    def started(self):
        from tests.clouds.ehjzny import sample_clinic, start_cloud

        clinic = sample_clinic(self.today(), self.zone.key)
        clinic["customers"] += [
            {
                "id": f"cusG{i:02d}",
                "firstName": f"Guest{i:02d}",
                "lastName": "Conformance",
                "phone": f"+9665010000{i:02d}",
            }
            for i in range(24)
        ]
        created = (datetime.now(UTC) - timedelta(days=3)).isoformat().replace("+00:00", "Z")
        for day in self.work_days(5):
            for i, hhmm in enumerate((900, 940, 1020, 1100, 1620, 1700, 1740)):
                if self.rng.random() < 0.4:
                    continue
                resource = ("resAhmed", "resSara")[i % 2]
                clinic["bookings"].append(
                    {
                        "id": f"bkG{day:%m%d}{i}",
                        "status": CANCELED if self.rng.random() < 0.15 else CONFIRMED,
                        "typeId": "typeGeneral",
                        "resourceId": resource,
                        "customerId": f"cusG{self.rng.randrange(24):02d}",
                        "startDateTime": self.local_start(day, hhmm).isoformat().replace("+00:00", "Z"),
                        "duration": 20,
                        "createdAt": created,
                    }
                )
        with start_cloud(clinic=clinic, fault_seed=self.seed) as running:
            self.running, self.cloud = running, running.cloud
            for customer in ("cusG20", "cusG21"):
                self.cloud.customer_join_queue(customer, "typeFollowUp")
            self.initial = set(self.cloud.bookings)
            self._expiries = 0
            yield self

    def open_on(self, day: date) -> bool:
        return day.weekday() != 4  # Saturday to Thursday (sample clinic hours)

    def config_values(self) -> dict:
        return {"baseUrl": self.running.url, "account": self.running.app_id, "secret": self.running.api_key}

    def records(self) -> dict[str, Record]:
        def parse(text):
            return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

        with self.cloud.lock:
            rows = [dict(b) for b in self.cloud.bookings.values()]
        out = {}
        for b in rows:
            start = parse(b.get("startDateTime"))
            booked_end = (
                start + timedelta(minutes=int(self.cloud.types[b["typeId"]]["minutes"])) if start else None
            )
            end = parse(b.get("endDateTime"))
            out[b["id"]] = Record(
                id=b["id"],
                status=b["status"],
                start=start,
                resource=b.get("resourceId"),
                customer=b["customerId"],
                type=b["typeId"],
                canceled=b["status"] in (CANCELED, REJECTED),
                queued=b["status"] in (PENDING_ASSIGNMENT, PENDING_PAYMENT),
                ended=bool(end and booked_end and end < booked_end),
                retired=bool(b.get("_rescheduledTo")),
                created=parse(b.get("createdAt")),
            )
        return out

    def local_statuses(self, record: Record) -> set[str]:
        return {record.status}  # the branch keeps Ehjzny's statuses (contract "Objects" → Statuses)

    def desk_pick(self, n: int = 0) -> DeskPick:
        customer = f"cusG{n % 20:02d}"
        resource, other = ("resAhmed", "resSara") if n % 2 == 0 else ("resSara", "resAhmed")
        return DeskPick("typeGeneral", resource, customer, f"+9665010000{n % 20:02d}", other)

    def queue_type(self) -> str:
        return "typeGeneral"

    def online_booking(self, pick: DeskPick, start: datetime) -> str:
        made = self.cloud.add_online_booking(
            pick.type, start, resource_id=pick.resource, customer_id=pick.customer
        )
        self.cloud_made.add(made["id"])
        return made["id"]

    list_call = ("GET", "/management/bookings")

    def reschedule_call(self, cloud_id: str) -> tuple[str, str]:
        return ("PUT", "/management/scheduling/new")  # rescheduleBookingId: a new booking

    def cloud_cancel(self, cloud_id: str) -> None:
        self.cloud.customer_cancel(self.cloud.bookings[cloud_id]["customerId"], cloud_id)

    def cloud_move(self, cloud_id: str, start: datetime) -> str:
        with self.cloud.lock:
            old = self.cloud.bookings[cloud_id]
            day, hhmm = start.astimezone(self.zone).date(), int(start.astimezone(self.zone).strftime("%H%M"))
            made = self.cloud.schedule(
                {
                    "rescheduleBookingId": cloud_id,
                    "date": day.isoformat(),
                    "time": hhmm,
                    "resourceFilters": {"resourceId": old["resourceId"]},
                },
                customer_id=old["customerId"],
            )
        self.cloud_made.add(made["id"])
        return made["id"]

    def cloud_delete(self, cloud_id: str) -> None:
        with self.cloud.lock:  # gone from the cloud: listed no more, GET answers 404
            del self.cloud.bookings[cloud_id]

    def priced_unpaid(self, pick: DeskPick, start: datetime) -> str | None:
        self.cloud.payments = (
            True  # booked online while online payments are on: PENDING_PAYMENT, with its invoice
        )
        try:
            made = self.cloud.add_online_booking(
                "typeGeneral", start, resource_id=pick.resource, customer_id=pick.customer
            )
        finally:
            self.cloud.payments = False
        self.cloud_made.add(made["id"])
        return made["id"] if made.get("payment") else None

    def cloud_payment(self, cloud_id: str) -> int:
        paid = self._sim_post(f"/_sim/bookings/{cloud_id}/pay")["result"]["payment"]["amount"]
        return round(float(paid["total"]) * 100) - round(float(paid["balance"]) * 100)

    def join_queue(self, pick: DeskPick) -> str:
        made = self.cloud.customer_join_queue(pick.customer, pick.type)
        self.cloud_made.add(made["id"])
        return made["id"]

    def accept_elsewhere(self, cloud_id: str, resource: str) -> None:
        self.cloud.assign(cloud_id, resource)

    def arm_cursor_expiry(self) -> None:
        pages = self.cloud.pages
        original = pages.page

        def page(items, key, limit, token, scope, descending=False):
            if token and pages.page is page:
                pages.page = original  # once: this token, and every other one, is now expired
                pages.expire_all()
                self._expiries += 1
            return original(items, key, limit, token, scope, descending)

        pages.page = page

    def cursor_expiries(self) -> int:
        return self._expiries

    def load_many(self, count: int) -> int:
        created = (datetime.now(UTC) - timedelta(days=3)).isoformat().replace("+00:00", "Z")
        bookings = []
        for offset in range(0, 25):
            day = self.today() + timedelta(days=offset)
            for resource in ("resAhmed", "resSara"):
                for minutes in range(0, 24 * 60 - 20, 20):
                    if len(bookings) >= count:
                        break
                    start = self.local_start(day, minutes // 60 * 100 + minutes % 60)
                    bookings.append(
                        {
                            "id": f"load{len(bookings):05d}",
                            "status": CONFIRMED,
                            "typeId": "typeGeneral",
                            "resourceId": resource,
                            "customerId": "cusOmar",
                            "duration": 20,
                            "startDateTime": start.isoformat().replace("+00:00", "Z"),
                            "createdAt": created,
                        }
                    )
        self.cloud.load({"bookings": bookings})
        self.cloud_made.update(b["id"] for b in bookings)
        return len(bookings)


# ================================================================================= Rekaz ====
class RekazHarness(CloudHarness):
    """Rekaz API reference, contract ``docs/clouds/rekaz.md``: the generated Rekaz clinic
    (:func:`tests.clouds.rekaz.generate_clinic`); the branch is its main branch.

    The second branch books nothing here: its providers are the main branch's too, and the
    branch reads its own branch only (contract "Desk operations": ``branchId``), so a
    reservation there takes a provider's time the desk cannot see and Rekaz refuses the
    desk's booking then (a known gap, ``docs/clouds/rekaz.md``; the refusal is needs-attention,
    ``tests/test_sync_rekaz.py``). The suite's cases assume the desk's free times are the
    cloud's."""

    name = "rekaz"
    create_call = ("POST", "/api/public/reservations/bulk")
    cursor = None  # windows polled with skipCount: nothing that expires (contract "incremental sync: none")
    zone = ZoneInfo("Asia/Riyadh")

    @contextmanager
    def started(self):
        from tests.clouds.rekaz import RekazCloud, generate_clinic, start_cloud

        cloud = RekazCloud(fault_seed=self.seed)
        self.clinic = generate_clinic(cloud, seed=self.seed, second_branch_books=False)
        self.branch_id = self.clinic["branches"][0]
        with start_cloud(cloud) as running:
            self.running, self.cloud = running, cloud
            self.initial = set(cloud.reservations)
            yield self

    def config_values(self) -> dict:
        """Tenant, key and the branch (API reference "Authentication": ``__tenant``, ``Basic <key>``)."""
        return {
            "baseUrl": self.running.url,
            "account": self.cloud.tenant,
            "secret": self.cloud.key,
            "branchId": self.branch_id,
        }

    def _provider_ids(self, names: list[str]) -> list[str]:
        by_name = {p["name"]: p["id"] for p in self.cloud.providers.values()}
        return [by_name[n] for n in names if n in by_name]

    def _attendance(self, reservation_id: str) -> tuple[bool, bool]:
        kinds = [a["kind"] for a in self.cloud.attendances if a["reservationId"] == reservation_id]
        return "CheckIn" in kinds, "CheckOut" in kinds

    def records(self) -> dict[str, Record]:
        out = {}
        with self.cloud.lock:
            for r in self.cloud.reservations.values():
                if r["branchId"] != self.branch_id:
                    continue
                checked_in, checked_out = self._attendance(r["id"])
                providers = list(r["_providerIds"])
                out[r["id"]] = Record(
                    id=r["id"],
                    status=r["status"],
                    start=r["_start"],
                    resource=providers[0] if providers else None,
                    customer=r["customerId"],
                    type=r["_priceId"],
                    canceled=r["status"] == "Cancelled",
                    queued=not providers and r["status"] != "Cancelled",
                    checked_in=checked_in,
                    ended=checked_out,
                )
        return out

    def in_scope(self, record: Record) -> bool:
        if record.start is None:
            return False
        day = record.start.astimezone(self.zone).date()  # queue reservations have a start too
        return self.today() - timedelta(days=1) <= day <= self.today() + timedelta(days=30)

    def local_statuses(self, record: Record) -> set[str]:
        if record.canceled:
            return {CANCELED}
        if record.queued:  # an unassigned one whose time has passed no longer waits: the desk's own expiry
            lapsed = record.start is not None and record.start < datetime.now(UTC)
            return {PENDING_ASSIGNMENT, REJECTED} if lapsed else {PENDING_ASSIGNMENT}
        if record.status == "Pending":  # waiting for payment or confirmation (contract "Behaviour")
            return {PENDING_PAYMENT, PENDING_APPROVAL, CONFIRMED}
        return {CONFIRMED}

    def desk_pick(self, n: int = 0) -> DeskPick:
        with self.cloud.lock:
            products = [p for p in self.cloud.products.values() if self.branch_id in p["branchIds"]]
            product = products[0]
            price = (
                next(p for p in product["pricing"] if p["amount"] == 0) if n % 2 else product["pricing"][0]
            )
            staff = [p["id"] for p in product["productProviders"]]
            customers = [c for c in self.cloud.customers.values() if self.branch_id in c["branchIds"]]
            customer = customers[n % len(customers)]
        return DeskPick(
            price["id"], staff[n % len(staff)], customer["id"], customer["name"], staff[(n + 1) % len(staff)]
        )

    def queue_type(self) -> str:
        return self.desk_pick(1).type

    def resources_for(self, pick: DeskPick) -> list[str]:
        with self.cloud.lock:
            product = next(
                p for p in self.cloud.products.values() if any(x["id"] == pick.type for x in p["pricing"])
            )
            staff = [p["id"] for p in product["productProviders"]]
        return [pick.resource] + [s for s in staff if s != pick.resource]

    def online_booking(self, pick: DeskPick, start: datetime) -> str:
        made = self.cloud.online_booking(
            pick.type,
            start,
            customer_id=pick.customer,
            provider_ids=[pick.resource],
            branch_id=self.branch_id,
        )
        self.cloud_made.add(made["id"])
        return made["id"]

    list_call = ("GET", "/api/public/reservations")

    def reschedule_call(self, cloud_id: str) -> tuple[str, str]:
        return ("PUT", f"/api/public/reservations/{cloud_id}")

    def started_booking(self, pick: DeskPick) -> str:
        """As for every cloud, and confirmed in the dashboard (a priced one is ``Pending``
        until then, contract "Behaviour": created state)."""
        made = super().started_booking(pick)
        self.cloud.confirm(made)
        return made

    def cloud_cancel(self, cloud_id: str) -> None:
        self.cloud.cloud_cancel(cloud_id)

    def cloud_move(self, cloud_id: str, start: datetime) -> str:
        self.cloud.cloud_move(cloud_id, start)
        return cloud_id  # same id (contract "reschedule": PUT, same id)

    def cloud_delete(self, cloud_id: str) -> None:
        self.cloud.remove(cloud_id)

    def priced_unpaid(self, pick: DeskPick, start: datetime) -> str | None:
        low, high = datetime.now(UTC) + timedelta(days=1), datetime.now(UTC) + timedelta(days=20)
        with self.cloud.lock:
            return next(
                (
                    r["id"]
                    for r in self.cloud.reservations.values()
                    if r["branchId"] == self.branch_id
                    and r["reservationTotalAmount"] > 10
                    and r["reservationRemainingAmount"] == r["reservationTotalAmount"]
                    and r["_providerIds"]
                    and r["status"] != "Cancelled"
                    and low <= r["_start"] <= high
                ),
                None,
            )

    def cloud_payment(self, cloud_id: str) -> int:
        paid = self._sim_post(f"/_sim/reservations/{cloud_id}/pay", {"amount": 10}, self.running.admin)
        return round(paid["reservationTotalAmount"] * 100) - round(paid["reservationRemainingAmount"] * 100)

    def join_queue(self, pick: DeskPick) -> str:
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
        made = self.cloud.online_booking(
            pick.type, start, customer_id=pick.customer, provider_ids=[], branch_id=self.branch_id
        )
        self.cloud_made.add(made["id"])
        return made["id"]

    def accept_elsewhere(self, cloud_id: str, resource: str) -> None:
        with self.cloud.lock:
            start = self.cloud.reservations[cloud_id]["_start"]
        self.cloud.cloud_move(cloud_id, start, provider_ids=[resource])

    def arm_cursor_expiry(self) -> None:
        raise AssertionError("Rekaz has no cursor that expires")

    def cursor_expiries(self) -> int:
        return 0

    def load_many(self, count: int) -> int:
        pick = self.desk_pick(1)
        with self.cloud.lock:
            staff = [
                p["id"]
                for p in self.cloud.products[
                    next(
                        p["id"]
                        for p in self.cloud.products.values()
                        if any(x["id"] == pick.type for x in p["pricing"])
                    )
                ]["productProviders"]
            ]
        added = 0
        for offset in range(0, 25):
            day = self.today() + timedelta(days=offset)
            for provider in staff:
                for minutes in range(0, 24 * 60 - 15, 15):
                    if added >= count:
                        return added
                    start = self.local_start(day, minutes // 60 * 100 + minutes % 60)
                    try:
                        self.cloud_made.add(
                            self.cloud.online_booking(
                                pick.type,
                                start,
                                customer_id=pick.customer,
                                provider_ids=[provider],
                                branch_id=self.branch_id,
                            )["id"]
                        )
                        added += 1
                    except Exception:  # noqa: BLE001 (the provider is taken then)
                        continue
        return added


# ============================================================================== Agendize ====
class AgendizeHarness(CloudHarness):
    """Agendize API reference, contract ``docs/clouds/agendize.md``: the generated Agendize
    clinic (:func:`tests.clouds.agendize.generate_clinic`); the branch is its first company."""

    name = "agendize"
    create_call = ("POST", "/api/2.1/scheduling/companies")
    cursor = "sync token"

    @contextmanager
    def started(self):
        from tests.clouds.agendize import AgendizeCloud, generate_clinic, start_cloud

        cloud = AgendizeCloud(fault_seed=self.seed)
        self.clinic = generate_clinic(cloud, seed=self.seed)
        self.company_id = self.clinic["companies"][0]
        self.zone = cloud.companies[self.company_id].zone
        with start_cloud(cloud) as running:
            self.running, self.cloud = running, cloud
            self.initial = set(self.company.appointments)
            self._expiries = 0
            yield self

    @property
    def company(self):
        return self.cloud.companies[self.company_id]

    def open_on(self, day: date) -> bool:
        off = (self.today() + timedelta(days=3), self.today() + timedelta(days=10))  # a vacation; the holiday
        return day.weekday() not in (4,) and day not in off

    def config_values(self) -> dict:
        """The connection as the Agendize connector's fields name it: the account is the API key,
        the secret the SSO token, and the company the branch's (contract "Transport")."""
        return {
            "baseUrl": self.running.url,
            "account": self.cloud.api_key,
            "secret": self.cloud.token,
            "companyId": self.company_id,
        }

    def records(self) -> dict[str, Record]:
        out = {}
        with self.cloud.lock:
            for a in self.company.appointments.values():
                if a["type"] == "personal":
                    continue
                status = "cancelled" if a["_deleted"] else a["status"]
                out[a["id"]] = Record(
                    id=a["id"],
                    status=status,
                    start=a["_start"],
                    resource=a["_staff"],
                    customer=a["_client"],
                    type=a["_service"],
                    canceled=status in ("cancelled", "declined"),
                    queued=a["_staff"] is None and status in ("pending", "accepted"),
                    checked_in=status in ("inProgress", "completed"),
                    ended=status == "completed",
                    no_show=status == "noShow",
                    created=a["_created"],
                )
        return out

    def in_scope(self, record: Record) -> bool:
        day = record.start.astimezone(self.zone).date()
        return self.today() - timedelta(days=1) <= day <= self.today() + timedelta(days=30)

    def local_statuses(self, record: Record) -> set[str]:
        """Contract "Objects" → statuses: ``inProgress``, ``completed`` and ``noShow`` are a
        confirmed booking's visit; ``declined`` is refused; no staff is a request in the queue."""
        if record.status == "cancelled":
            return {CANCELED}
        if record.status == "declined":
            return {REJECTED, CANCELED}
        if record.queued:
            return {PENDING_ASSIGNMENT}
        if record.status == "pending":
            return {PENDING_APPROVAL}
        return {CONFIRMED}

    def desk_pick(self, n: int = 0) -> DeskPick:
        with self.cloud.lock:
            staff = self.clinic["staff"][self.company_id]
            service = self.company.services[self.clinic["services"][self.company_id][0]]  # all staff serve it
            clients = self.clinic["clients"]
            client = self.cloud.clients[clients[(n * 5) % len(clients)]]
        return DeskPick(
            service["id"],
            staff[2 if n % 2 == 0 else 0],
            client["id"],
            client["mobilePhone"],
            staff[0 if n % 2 == 0 else 2],
        )

    def queue_type(self) -> str:
        return self.desk_pick().type

    def online_booking(self, pick: DeskPick, start: datetime) -> str:
        made = self.cloud.online_booking(
            self.company_id,
            pick.type,
            start,
            client_id=pick.customer,
            staff_id=pick.resource,
            status="accepted",
        )
        self.cloud_made.add(made["id"])
        return made["id"]

    def started_booking(self, pick: DeskPick) -> str:
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=4)
        with self.cloud.lock:  # the dashboard books it (working time is not checked with force)
            body = {
                "client": {"id": pick.customer},
                "service": {"id": pick.type},
                "staff": {"id": pick.resource},
                "start": self.cloud.zoned_view(start, self.company),
                "status": "accepted",
            }
            made = self.cloud.insert(self.company_id, body, force=True, silent=True, source="dashboard")
        self.cloud_made.add(made["id"])
        return made["id"]

    @property
    def list_call(self) -> tuple[str, str]:
        return ("GET", f"/api/2.1/scheduling/companies/{self.company_id}/appointments")

    def reschedule_call(self, cloud_id: str) -> tuple[str, str]:
        return ("PUT", f"/api/2.1/scheduling/companies/{self.company_id}/appointments/{cloud_id}")

    def cloud_cancel(self, cloud_id: str) -> None:
        self.cloud.client_cancel(self.company_id, cloud_id)

    def cloud_move(self, cloud_id: str, start: datetime) -> str:
        self.cloud.client_reschedule(self.company_id, cloud_id, start)
        return cloud_id

    def cloud_delete(self, cloud_id: str) -> None:
        self.cloud.dashboard_delete(self.company_id, cloud_id)

    def priced_unpaid(self, pick: DeskPick, start: datetime) -> str | None:
        low, high = datetime.now(UTC) + timedelta(days=1), datetime.now(UTC) + timedelta(days=20)
        company = self.cloud.companies[self.company_id]
        with self.cloud.lock:
            return next(
                (
                    i
                    for i, r in company.appointments.items()
                    if r["type"] == "normal"
                    and r["status"] == "accepted"
                    and not r["paid"]
                    and (company.services.get(r["_service"] or "") or {}).get("price")
                    and low <= r["_start"] <= high
                ),
                None,
            )

    def cloud_payment(self, cloud_id: str) -> int:
        paid = self._sim_post(
            f"/_sim/companies/{self.company_id}/appointments/{cloud_id}/paid",
            {"paid": True},
            self.running.admin,
        )
        return round(float(paid["price"]["amount"]) * 100) if paid.get("paid") else 0

    def join_queue(self, pick: DeskPick) -> str:
        """A request in the widget for a free time tomorrow, with no staff (a ``pending`` request)."""
        refused = None
        for hhmm in range(1000, 1400, 15):
            if hhmm % 100 >= 60:
                continue
            try:
                made = self.cloud.online_booking(
                    self.company_id,
                    pick.type,
                    self.local_start(self.work_days(1)[0], hhmm),
                    client_id=pick.customer,
                )
            except Exception as exc:  # noqa: BLE001 (taken in the generated clinic)
                refused = exc
                continue
            self.cloud_made.add(made["id"])
            return made["id"]
        raise AssertionError(f"no free time for a request: {refused}")

    def accept_elsewhere(self, cloud_id: str, resource: str) -> None:
        self.cloud.update(
            self.company_id,
            cloud_id,
            {"status": "accepted", "staff": {"id": resource}},
            source="dashboard",
            silent=True,
            force=True,
        )  # the dashboard may overbook

    def arm_cursor_expiry(self) -> None:
        self._expiries += self.cloud.invalidate_sync_tokens()

    def cursor_expiries(self) -> int:
        return self._expiries

    def load_many(self, count: int) -> int:
        pick = self.desk_pick()
        added = 0
        with self.cloud.lock:
            for offset in range(0, 25):
                day = self.today() + timedelta(days=offset)
                for staff in self.clinic["staff"][self.company_id]:
                    for minutes in range(0, 24 * 60 - 30, 30):
                        if added >= count:
                            return added
                        start = self.local_start(day, minutes // 60 * 100 + minutes % 60)
                        body = {
                            "client": {"id": pick.customer},
                            "service": {"id": pick.type},
                            "staff": {"id": staff},
                            "start": self.cloud.zoned_view(start, self.company),
                            "status": "accepted",
                        }
                        made = self.cloud.insert(self.company_id, body, force=True, silent=True, reply=False)
                        self.cloud_made.add(made["id"])
                        added += 1
        return added


# ========================================================================= DigitalBooker ====
class DigitalBookerHarness(CloudHarness):
    """DigitalBooker API reference, contract ``docs/clouds/digitalbooker.md``: the generated
    DigitalBooker clinic (:func:`tests.clouds.digitalbooker.generate_clinic`); the branch is
    its first location. DigitalBooker has no cancel status: a cancel is a delete, so a
    canceled booking is no longer listed (:meth:`records`); :meth:`record` still answers for
    it, ``canceled``. It has no edit either: a move or an accept through the API makes a new
    booking and deletes the old one."""

    name = "digitalbooker"
    create_call = ("POST", "/api/en/admin/v1/bookings/service")
    list_call = ("GET", "/api/en/admin/v1/bookings")
    cursor = None  # offset paging: nothing that expires (contract "Transport": Paging)
    #: canceled bookings leave the cloud (deleted), so none is listed
    lists_canceled = False
    zone = ZoneInfo("Asia/Riyadh")

    @contextmanager
    def started(self):
        from tests.clouds.digitalbooker import DigitalBookerCloud, generate_clinic, start_cloud

        cloud = DigitalBookerCloud(zone=self.zone.key, fault_seed=self.seed)
        self.clinic = generate_clinic(cloud, seed=self.seed)
        self.location = self.clinic["locations"][0]
        self.workers = self.clinic["workers"][self.location]
        self.service = self.clinic["services"][self.location][0]  # every worker of the location gives it
        with start_cloud(cloud) as running:
            self.running, self.cloud = running, cloud
            self.initial = {str(i) for i in cloud.bookings}
            # queue bookings made cloud-side → (user, service): a desk's accept of one makes a new booking
            self._queued_made: dict[str, tuple] = {
                r.id: (r.customer, r.type) for r in self.records().values() if r.queued
            }
            yield self

    def open_on(self, day: date) -> bool:
        return day.weekday() in (6, 0, 1, 2, 3)  # the generated clinic's Sunday to Thursday

    def config_values(self) -> dict:
        return {
            "baseUrl": self.running.url,
            "account": self.cloud.key_id,
            "secret": self.cloud.password,
            "locationId": str(self.location),
        }

    def _record(self, b: dict) -> Record:
        kinds = {i: r["type"] for i, r in self.cloud.resources.items()}
        workers = [r for r in b["resources"] if kinds.get(r) == "worker"]
        rooms = [r for r in b["resources"] if kinds.get(r) != "worker"]
        start = datetime.combine(b["date"], b["start"], self.zone).astimezone(UTC)
        queued = b["type"] == "service" and not workers
        resource = (workers or rooms or [None])[0]
        return Record(
            id=str(b["id"]),
            status="CONFIRMED" if b["confirmed"] else "UNCONFIRMED",
            start=start,
            resource=str(resource) if resource is not None else None,
            customer=str(b["user_id"]),
            type=str(b["service_id"]) if b["service_id"] else b["type"],
            queued=queued,
            created=b["_created"],
        )

    def records(self) -> dict[str, Record]:
        with self.cloud.lock:
            rows = [dict(b) for b in self.cloud.bookings.values() if b["location_id"] == self.location]
        return {str(b["id"]): self._record(b) for b in rows}

    def record(self, cloud_id: str) -> Record | None:
        found = self.records().get(str(cloud_id))
        if found is not None:
            return found
        with self.cloud.lock:
            deleted = any(str(ident) == str(cloud_id) for _, _, ident in self.cloud.deleted)
        return (
            Record(
                id=str(cloud_id),
                status="deleted",
                start=None,
                resource=None,
                customer=None,
                type=None,
                canceled=True,
            )
            if deleted
            else None
        )

    def desk_made(self) -> list[Record]:
        """As for every cloud, less the new booking of a desk's accept of a queue booking made
        cloud-side: it stands for that booking (accept is create-then-delete here)."""
        made = super().desk_made()
        live = self.records()
        taken = {key for ident, key in self._queued_made.items() if ident not in live}
        return [r for r in made if (r.customer, r.type) not in taken]

    def local_statuses(self, record: Record) -> set[str]:
        if record.canceled:
            return {CANCELED}
        if record.queued:  # one whose time has passed no longer waits: the desk's own expiry
            lapsed = record.start is not None and record.start < datetime.now(UTC)
            return {PENDING_ASSIGNMENT, REJECTED} if lapsed else {PENDING_ASSIGNMENT}
        return {CONFIRMED} if record.status == CONFIRMED else {PENDING_APPROVAL}

    def desk_pick(self, n: int = 0) -> DeskPick:
        users = [u for u in self.clinic["users"] if self.cloud.users[u]["type"] == "normal"]
        user = self.cloud.users[users[n % len(users)]]
        sara, lina = self.workers[0], self.workers[2]  # both work Sunday to Thursday
        resource, other = (sara, lina) if n % 2 == 0 else (lina, sara)
        return DeskPick(str(self.service), str(resource), str(user["id"]), user["phone"], str(other))

    def queue_type(self) -> str:
        return str(self.service)

    def online_booking(self, pick: DeskPick, start: datetime) -> str:
        local = start.astimezone(self.zone)
        made = self.cloud.online_booking(
            self.location,
            int(pick.type),
            local.date(),
            local.time(),
            user_id=int(pick.customer),
            worker_id=int(pick.resource),
            confirmed=True,
        )
        self.cloud_made.add(str(made["id"]))
        return str(made["id"])

    def started_booking(self, pick: DeskPick) -> str:
        """A booking that began a few minutes ago, booked by staff in DigitalBooker's own
        calendar (work hours not checked there), so the case does not depend on the time of day."""
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        refused = None
        for resource in self.resources_for(pick):
            for minutes in (4, 6, 8):
                local = (now - timedelta(minutes=minutes)).astimezone(self.zone)
                try:
                    made = self.cloud.calendar_booking(
                        self.location,
                        int(pick.type),
                        local.date(),
                        local.time(),
                        user_id=int(pick.customer),
                        worker_id=int(resource),
                    )
                except Exception as exc:  # noqa: BLE001 (that worker is busy then)
                    refused = exc
                    continue
                self.cloud_made.add(str(made["id"]))
                return str(made["id"])
        raise AssertionError(f"no resource is free now for {pick}: {refused}")

    def reschedule_call(self, cloud_id: str) -> tuple[str, str]:
        return self.create_call  # a move is a new booking (then the old one is deleted)

    def cloud_cancel(self, cloud_id: str) -> None:
        self.cloud.calendar_delete(int(cloud_id))

    def cloud_move(self, cloud_id: str, start: datetime) -> str:
        local = start.astimezone(self.zone)  # staff drag it in DigitalBooker's own calendar: same id
        self.cloud.calendar_move(int(cloud_id), local.date(), local.time().replace(second=0))
        return cloud_id

    def cloud_delete(self, cloud_id: str) -> None:
        self.cloud.calendar_delete(int(cloud_id))

    def priced_unpaid(self, pick: DeskPick, start: datetime) -> str | None:
        today = self.today()
        with self.cloud.lock:
            return next(
                (
                    str(i)
                    for i, b in self.cloud.bookings.items()
                    if b["location_id"] == self.location
                    and b["price"]
                    and not b["payments"]
                    and today + timedelta(days=1) <= b["date"] <= today + timedelta(days=20)
                ),
                None,
            )

    def cloud_payment(self, cloud_id: str) -> int:
        self._sim_post(
            f"/_sim/bookings/{cloud_id}/payments",
            {"type": "online", "amount": 20.0, "tax": 15},
            self.running.admin,
        )
        with self.cloud.lock:
            return round(sum(p["amount"] for p in self.cloud.bookings[int(cloud_id)]["payments"]) * 100)

    def join_queue(self, pick: DeskPick) -> str:
        """Booked on the public site with no worker chosen, tomorrow at a free time."""
        from tests.clouds.digitalbooker.model import Span

        day = self.work_days(1)[0]
        accepting = (self.workers[0], self.workers[2])
        for hour in range(9, 19):
            for minute in (0, 20, 40):
                begin = datetime.combine(day, time(hour, minute))
                visit = {
                    "id": None,
                    "date": day,
                    "start": begin.time(),
                    "start_offset": 0,
                    "end_offset": 0,
                    "end": (begin + timedelta(minutes=30)).time(),
                }
                with self.cloud.lock:  # a time either accepting worker can take
                    free = all(
                        self.cloud.works(w, self.location, Span(begin, begin + timedelta(minutes=30)))
                        and self.cloud.clash({**visit, "resources": [w]}) is None
                        for w in accepting
                    )
                if not free:
                    continue
                try:
                    made = self.cloud.online_booking(
                        self.location, int(pick.type), day, time(hour, minute), user_id=int(pick.customer)
                    )
                except Exception:  # noqa: BLE001 (the slot rules refused it)
                    continue
                ident = str(made["id"])
                self.cloud_made.add(ident)
                self._queued_made[ident] = (pick.customer, pick.type)
                return ident
        raise AssertionError("no time for a queue booking")

    def accept_elsewhere(self, cloud_id: str, resource: str) -> None:
        """Staff give the queue booking a worker in DigitalBooker's own calendar (same id,
        ``modified``). An accept through the API (create-then-delete, a new id) is followed in
        ``tests/test_sync_digitalbooker.py``."""
        self.cloud.calendar_assign(int(cloud_id), int(resource))

    def arm_cursor_expiry(self) -> None:
        raise AssertionError("DigitalBooker pages by offset: no cursor expires")

    def cursor_expiries(self) -> int:
        return 0

    def load_many(self, count: int) -> int:
        """``count`` confirmed bookings over the next 25 days on the location's workers (the
        simulator's bulk load: back to back, work hours aside, clashes skipped)."""
        made = self.cloud.load_bookings(self.location, count, service_id=self.service, days=25)
        self.cloud_made.update(str(i) for i in made)
        return len(made)


# ================================================================================ Qmatic ====
class _QmaticFaults:
    """The simulated cloud's faults, and one more step when they are cleared: holds a lost
    reply may have orphaned expire, as a real tenant's do after 15 minutes (API reference "Create a
    new Reservation"; contract "Behaviour": lost reply on reserve), by moving the cloud's
    clock past the hold instead of waiting for it."""

    def __init__(self, harness):
        self.harness, self.faults = harness, harness.cloud.faults

    def __getattr__(self, name):
        return getattr(self.faults, name)

    def clear(self) -> None:
        self.faults.clear()
        self.harness.expire_orphans()


class QmaticHarness(CloudHarness):
    """Qmatic API reference, contract ``docs/clouds/qmatic.md``: the generated Qmatic clinic
    (:func:`tests.clouds.qmatic.generate_clinic`); the branch is its first (Riyadh) branch,
    behind a gateway that wants an ``Authorization`` header.

    Qmatic lists no calendar (contract "Desk operations": push plus known-customer pull), so
    a branch holds only the appointments of customers it has booked itself (:meth:`in_scope`).
    The desk's four customers are registered at the desk when a branch starts
    (:meth:`prepare_branch`; their ``personalIdentifier`` is the desk's customer UUID in 32 hex
    digits, contract "Objects"), and each has an appointment booked online before the desk
    ever sees it: it comes down once the desk has booked that customer. The desk books the
    Follow-up (15 minutes, no required question, a doctor of the customer's choice)."""

    name = "qmatic"
    listed = False  # no listing: nothing of the generated clinic is held before the desk books
    create_call = (
        "PUT",
        "/external/v1/reservations/",
    )  # the confirm makes the booking; the reserve only holds
    cursor = None  # no listing, nothing that expires (contract "incremental sync: none")
    list_call = ("POST", "/external/v1/appointments/search")
    AUTHORIZATION = "Bearer conformance-gateway"
    PEOPLE = (
        ("Mona", "Saleh", "+966501110001"),
        ("Khalid", "Amin", "+966501110002"),
        ("Rana", "Fouad", "+966501110003"),
        ("Sami", "Hariri", "+966501110004"),
    )
    #: pick n → customer: the cases' online bookings (picks 6, 12-15) are of customers the desk
    #: booked before them and kept (picks 0, 1); a pick ≥ 8 alternates between those two
    CUSTOMER_OF = (0, 1, 2, 3, 3, 3, 0, 3)

    @contextmanager
    def started(self):
        import uuid

        from tests.clouds.qmatic import QmaticCloud, generate_clinic, start_cloud

        cloud = QmaticCloud(authorization=self.AUTHORIZATION, fault_seed=self.seed)
        self.clinic = generate_clinic(cloud, seed=self.seed)
        self.branch_id = self.clinic["branches"][0]
        self.zone = cloud.branches[self.branch_id].zone
        self.service_id = next(s.id for s in cloud.services.values() if s.name("en_US") == "Follow-up")
        self.doctors = list(cloud.services[self.service_id].offers[self.branch_id].resources)
        # until a branch registers them, the desk's customers have a stand-in identifier
        self.customers = [
            {
                "personalIdentifier": uuid.UUID(int=self.rng.getrandbits(128)).hex,
                "firstName": first,
                "lastName": last,
                "email": f"{first.lower()}@example.com",
                "phoneNumber": phone[1:],
                "search": phone,
            }
            for first, last, phone in self.PEOPLE
        ]
        self.prepared = False
        self.linked: set[str] = set()
        with start_cloud(cloud) as running:
            self.running, self.cloud = running, cloud
            self.initial = set(cloud.appointments)
            yield self

    @property
    def faults(self):
        return _QmaticFaults(self)

    def expire_orphans(self) -> None:
        """Let every open hold lapse (see :class:`_QmaticFaults`) when one is open."""
        from tests.clouds.qmatic import HOLD, RESERVED

        with self.cloud.lock:
            held = any(r.state == RESERVED for r in self.cloud.appointments.values())
        if held:
            self.cloud.clock.shift(HOLD + timedelta(minutes=1))

    def config_values(self) -> dict:
        return {
            "baseUrl": self.running.url,
            "account": self.cloud.tenant,
            "secret": self.AUTHORIZATION,
            "branchId": self.branch_id,
        }

    def prepare_branch(self, branch) -> None:
        """The desk registers its customers (a reception's everyday step: Qmatic has no
        customer list to pull them from); the first time, each gets an appointment booked
        online in Qmatic that the branch cannot see yet."""
        from ulid import ULID

        for person in self.customers:
            answer = branch.call(
                "POST",
                "/management/customers",
                {
                    "firstName": person["firstName"],
                    "lastName": person["lastName"],
                    "phone": person["search"],
                    "email": person["email"],
                },
                ok=False,
            )
            body = answer.json()
            local = (
                body["result"]["id"]
                if answer.status_code == 201
                else body["error"]["details"]["candidate"]["id"]
            )
            person["personalIdentifier"] = ULID.from_str(local).hex
        if self.prepared:
            return
        self.prepared = True
        days = self.work_days(len(self.customers), skip=3)  # one open day each, whatever today's weekday
        for n in range(len(self.customers)):
            made = None
            for minutes in range(11 * 60, 17 * 60, 15):  # the first free time from 11:00 (the generated
                try:  # clinic's own bookings depend on the date)
                    made = self.cloud.online_booking(
                        self.service_id,
                        self.branch_id,
                        self.local_start(days[n], minutes // 60 * 100 + minutes % 60),
                        self.customer(n),
                        resource_id=self.doctors[n % len(self.doctors)],
                    )
                    break
                except ValueError as exc:
                    if "is not free" not in str(exc):
                        raise
            assert made is not None, f"no free time on {days[n]}"
            self.initial.add(made.id)

    def customer(self, n: int) -> dict:
        """The ``n``-th desk customer as a confirm names it."""
        found = dict(self.customers[n % len(self.customers)])
        found.pop("search")
        return found

    def open_on(self, day: date) -> bool:
        with self.cloud.lock:
            service = self.cloud.services[self.service_id]
            return bool(
                self.cloud._grid(
                    service, service.offers[self.branch_id], self.cloud.branches[self.branch_id], day
                )
            )

    def records(self) -> dict[str, Record]:
        from tests.clouds.qmatic import CANCELLED, CONFIRMED

        mine = {c["personalIdentifier"] for c in self.customers}
        with self.cloud.lock:
            self.cloud.sweep()
            rows = [
                r
                for r in self.cloud.appointments.values()
                if r.branch_id == self.branch_id and r.state in (CONFIRMED, CANCELLED)
            ]  # a hold is no booking
        # the customers a branch searches: those of its own live bookings (contract "Behaviour": Pull)
        self.linked = {
            r.personal_identifier
            for r in rows
            if r.state == CONFIRMED
            and r.personal_identifier in mine
            and r.id not in self.initial
            and r.id not in self.cloud_made
        }
        return {
            r.id: Record(
                id=r.id,
                status=r.state,
                start=r.start,
                resource=r.resource_id,
                customer=r.personal_identifier,
                type=r.service_id,
                canceled=r.state == CANCELLED,
                created=r.created,
            )
            for r in rows
        }

    def in_scope(self, record: Record) -> bool:
        """A branch that has pulled everything holds a booking of a customer it booked itself
        and still holds a live booking of, from yesterday to 30 days ahead. One cancelled in
        Qmatic before the branch ever saw it cannot come down (search lists confirmed
        appointments only), so a cancelled one counts only when the desk made it."""
        if record.canceled and (record.id in self.initial or record.id in self.cloud_made):
            return False
        return record.customer in self.linked and super().in_scope(record)

    def local_statuses(self, record: Record) -> set[str]:
        return {CANCELED} if record.canceled else {CONFIRMED}

    def desk_pick(self, n: int = 0) -> DeskPick:
        person = self.customers[self.CUSTOMER_OF[n] if n < len(self.CUSTOMER_OF) else n % 2]
        return DeskPick(
            self.service_id,
            self.doctors[n % 2],
            person["personalIdentifier"],
            person["search"],
            self.doctors[(n + 1) % 2],
        )

    def online_booking(self, pick: DeskPick, start: datetime) -> str:
        n = next(i for i, c in enumerate(self.customers) if c["personalIdentifier"] == pick.customer)
        made = self.cloud.online_booking(
            pick.type, self.branch_id, start, self.customer(n), resource_id=pick.resource
        )
        self.cloud_made.add(made.id)
        return made.id

    def reschedule_call(self, cloud_id: str) -> tuple[str, str]:
        return ("PUT", f"/external/v1/appointments/{cloud_id}/reschedule")

    def cloud_cancel(self, cloud_id: str) -> None:
        self.cloud.customer_cancel(cloud_id)

    def cloud_move(self, cloud_id: str, start: datetime) -> str:
        self.cloud.cloud_move(cloud_id, start)
        return cloud_id  # staff move it, same id

    def cloud_delete(self, cloud_id: str) -> None:
        self.cloud.cloud_delete(cloud_id)

    def join_queue(self, pick: DeskPick) -> str:
        raise AssertionError('Qmatic has no queue (contract "Desk operations on Qmatic")')

    def accept_elsewhere(self, cloud_id: str, resource: str) -> None:
        raise AssertionError('Qmatic has no accept/assign (contract "Desk operations on Qmatic")')

    def arm_cursor_expiry(self) -> None:
        raise AssertionError("Qmatic has no cursor that expires")

    def cursor_expiries(self) -> int:
        return 0

    def load_many(self, count: int) -> int:
        """Online bookings of customers the desk does not know, on the Follow-up's slots."""
        added = 0
        for offset in range(1, 26):
            day = self.today() + timedelta(days=offset)
            with self.cloud.lock:
                service = self.cloud.services[self.service_id]
                grid = self.cloud._grid(
                    service, service.offers[self.branch_id], self.cloud.branches[self.branch_id], day
                )
            for start, _end in grid:
                for doctor in self.doctors:
                    if added >= count:
                        return added
                    customer = {
                        "personalIdentifier": f"{added:032x}",
                        "firstName": "Guest",
                        "lastName": str(added),
                        "email": f"guest{added}@example.com",
                    }
                    try:
                        made = self.cloud.online_booking(
                            self.service_id, self.branch_id, start, customer, resource_id=doctor
                        )
                    except ValueError:  # taken in the generated clinic
                        continue
                    self.cloud_made.add(made.id)
                    added += 1
        return added


HARNESSES = {
    h.name: h for h in (EhjznyHarness, RekazHarness, AgendizeHarness, DigitalBookerHarness, QmaticHarness)
}
