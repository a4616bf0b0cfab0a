"""The state and rules of the simulated Qmatic Cloud Appointments tenant (Qmatic API
reference, "Book an appointment": Services, Service Groups, Branches,
Timeslots, Create a new Reservation, Confirm a reservation; contract
``docs/clouds/qmatic.md``). One tenant, in memory, guarded by one lock.

An appointment is one :class:`Appointment` record from the reserve on: ``RESERVED`` while
its 15-minute hold runs on the cloud's :class:`Clock` (API reference "Create a new Reservation": "If
the reservation is not confirmed the timeslot will become available in 15 minutes"), then
``CONFIRMED`` once the customer is given (API reference "Confirm a reservation"). Ends the API never
shows (GET answers 404): ``EXPIRED`` (the hold lapsed), ``RELEASED``, ``CANCELLED``
(deleted), ``USED`` (a reservation an appointment was rescheduled onto). Times are aware
UTC datetimes; :meth:`QmaticCloud.view` shapes them with the branch's offset
(``2022-03-03T09:00:00+01:00``, contract "Transport").

Availability: a branch's opening hours (or a service's own hours there) cut into
consecutive slots of the service's length from the opening time (API reference "Timeslots": "open
from 8am to 4pm ... duration of 60 minutes ... 8am-9am, 9am-10am"). A named resource serves
one appointment at a time, whatever the service; a virtual pool has ``pool`` anonymous
units. ``NOTES.md`` lists every choice the texts leave open.

Cloud-side changes for tests (a customer booking on the booking page, cancelling, staff
moving or deleting an appointment) are the methods under "cloud-side".
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .faults import Faults

HOLD = timedelta(minutes=15)  # API reference "Create a new Reservation"
#: API reference "Services" → Accept-Language: the possible values (spelled as the API reference spells them)
LANGUAGES = ("en_US", "en_UK", "fr_FR", "nl_NL", "de_DE", "it_IT", "ES_es")
DEFAULT_LANGUAGE = "en_US"
HORIZON_DAYS = 30
RESERVED, CONFIRMED = "RESERVED", "CONFIRMED"
EXPIRED, RELEASED, CANCELLED, USED = "EXPIRED", "RELEASED", "CANCELLED", "USED"
LIVE = (RESERVED, CONFIRMED)
PERSONAL_IDENTIFIER = re.compile(r"[A-Za-z0-9]{10,48}")  # API reference "Confirm a reservation"
PHONE_DIGITS = re.compile(r"[0-9]{1,255}")
MAX_NAME = 255  # API reference: firstName, lastName "max 255 symbols"; email "1- 255 symbols"
MAX_ANSWER = 2048  # API reference: informationQuestions / answer "maxLength: 2048"


class QmaticError(Exception):
    """An API error: HTTP ``status`` and the body ``{"code", "message"}`` (contract
    "Transport" → Errors: ``message`` plus ``code``)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        return envelope(self.code, self.message)


def envelope(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def invalid(message: str, code: str = "validation.error") -> QmaticError:
    return QmaticError(400, code, message)


def not_found(kind: str, ident) -> QmaticError:
    return QmaticError(404, f"{kind}.not.found", f"{kind} {ident} not found")


class Clock:
    """The cloud's "now" (aware UTC): the wall clock, or ``Clock(fixed)``; ``shift`` moves it
    (holds expire on this clock)."""

    def __init__(self, start: datetime | None = None):
        self._fixed = start
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        base = self._fixed or datetime.now(UTC)
        with self._lock:
            offset = self._offset
        return (base + offset).astimezone(UTC).replace(microsecond=0)

    def shift(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta


@dataclass
class Branch:
    """A branch (location). ``hours``: weekday (Monday 0) → [(open, close)] local times;
    ``closed``: local dates it is shut."""

    id: str
    name: str
    zone: ZoneInfo
    address: dict
    location: dict
    hours: dict = field(default_factory=dict)
    closed: set = field(default_factory=set)

    def view(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "address": dict(self.address),
            "location": dict(self.location),
        }


@dataclass
class Resource:
    id: str
    name: str
    branch_id: str

    def view(self) -> dict:
        return {"id": self.id, "name": self.name}


@dataclass
class Offer:
    """A service at a branch: its named ``resources`` (ids; empty = a virtual pool of
    ``pool`` units), whether the customer must pick one, and its own hours (None = the
    branch's)."""

    branch_id: str
    resources: list = field(default_factory=list)
    selection_required: bool = False
    pool: int = 1
    hours: dict | None = None


@dataclass
class Service:
    id: str
    names: dict  # language → name; DEFAULT_LANGUAGE always present
    minutes: int
    max_reservations: int = 1
    online_bookable: bool = True
    index: int = 0
    descriptions: dict = field(default_factory=dict)
    questions: list = field(default_factory=list)  # [{required, questionText, clarificationText}]
    screening: list = field(default_factory=list)  # API reference "Services" → screeningQuestions
    offers: dict = field(default_factory=dict)  # branch id → Offer

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names[DEFAULT_LANGUAGE]

    def description(self, lang: str) -> str:
        return self.descriptions.get(lang) or self.descriptions.get(DEFAULT_LANGUAGE) or ""


@dataclass
class Group:
    id: str
    names: dict
    index: int
    service_ids: list


@dataclass
class Appointment:
    """One reservation / appointment (same id: contract "Bodies" → Reserve). ``start`` and
    ``end`` aware UTC; ``customer`` the confirm's customer without ``personalIdentifier``,
    which is kept in ``personal_identifier``; ``source`` is ``api`` or ``online`` (the
    booking page) or ``staff``."""

    id: str
    state: str
    service_id: str
    branch_id: str
    resource_id: str | None
    start: datetime
    end: datetime
    number: int
    notes: str | None
    created: datetime
    held_until: datetime | None
    customer: dict | None = None
    personal_identifier: str | None = None
    answers: list = field(default_factory=list)
    support_notes: str | None = None
    source: str = "api"

    @property
    def live(self) -> bool:
        return self.state in LIVE


class QmaticCloud:
    """One simulated Qmatic tenant.

    ``tenant`` is the ``X-TENANT-ID`` it answers to (API reference: "must be the same as an existing
    system Id"); ``authorization``, when set, is the exact ``Authorization`` header every
    call must carry (contract "Transport": a gateway in front of the tenant); ``languages``
    the tenant's localizations (a subset of :data:`LANGUAGES`); ``date_of_birth_required``
    the tenant setting that makes ``dateOfBirth`` required on confirm (API reference: "yes/no
    (depends on configs)"). ``admin_key`` guards the ``/_sim/`` test interface.
    """

    def __init__(
        self,
        *,
        tenant: str | None = None,
        authorization: str | None = None,
        languages: tuple[str, ...] = LANGUAGES,
        date_of_birth_required: bool = False,
        clock: Clock | None = None,
        fault_seed: int = 0,
        admin_key: str | None = None,
        horizon_days: int = HORIZON_DAYS,
    ):
        unknown = [lang for lang in languages if lang not in LANGUAGES]
        if unknown or DEFAULT_LANGUAGE not in languages:
            raise ValueError(f"languages are among {LANGUAGES} and include {DEFAULT_LANGUAGE}: {unknown}")
        self.tenant = tenant or "tenant" + secrets.token_hex(6)
        self.authorization = authorization
        self.languages = tuple(languages)
        self.date_of_birth_required = date_of_birth_required
        self.clock = clock or Clock()
        self.faults = Faults(fault_seed)
        self.admin_key = admin_key or "admin-" + secrets.token_urlsafe(18)
        self.horizon_days = horizon_days
        self.lock = threading.RLock()
        self.branches: dict[str, Branch] = {}
        self.resources: dict[str, Resource] = {}
        self.services: dict[str, Service] = {}
        self.groups: dict[str, Group] = {}
        self.appointments: dict[str, Appointment] = {}
        self._index = itertools.count()

    # ---- ids, reference data ----------------------------------------------------------------
    @staticmethod
    def new_id() -> str:
        """A GUID such as ``3fa85f64-5717-4562-b3fc-2c963f66afa6`` (the API reference's examples)."""
        return str(uuid.uuid4())

    def add_branch(
        self,
        name: str,
        zone: str,
        *,
        hours: dict,
        address: dict | None = None,
        location: dict | None = None,
        closed=(),
        ident: str | None = None,
    ) -> Branch:
        """A branch; ``hours`` weekday (Monday 0) → [("08:00", "20:00"), ...] local."""
        parsed = {
            int(day): [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans]
            for day, spans in hours.items()
        }
        branch = Branch(
            ident or self.new_id(),
            name,
            ZoneInfo(zone),
            dict(address or {"streetName": "", "zipCode": "", "city": "", "country": ""}),
            dict(location or {"longitude": 0, "latitude": 0}),
            parsed,
            set(closed),
        )
        with self.lock:
            self.branches[branch.id] = branch
        return branch

    def add_resource(self, branch_id: str, name: str, ident: str | None = None) -> Resource:
        resource = Resource(ident or self.new_id(), name, branch_id)
        with self.lock:
            self.branch(branch_id)
            self.resources[resource.id] = resource
        return resource

    def add_service(
        self,
        names: dict | str,
        minutes: int,
        *,
        max_reservations: int = 1,
        online_bookable: bool = True,
        descriptions: dict | None = None,
        questions=(),
        screening=(),
        ident: str | None = None,
    ) -> Service:
        """A service of ``minutes`` per slot; ``names`` language → name (or one en_US name);
        ``questions`` [{"required", "questionText", "clarificationText"}]."""
        names = {DEFAULT_LANGUAGE: names} if isinstance(names, str) else dict(names)
        service = Service(
            ident or self.new_id(),
            names,
            minutes,
            max_reservations,
            online_bookable,
            next(self._index),
            dict(descriptions or {}),
            [dict(q) for q in questions],
            [dict(q) for q in screening],
        )
        with self.lock:
            self.services[service.id] = service
        return service

    def offer(
        self,
        service_id: str,
        branch_id: str,
        *,
        resources=(),
        selection_required: bool = False,
        pool: int = 1,
        hours: dict | None = None,
    ) -> Offer:
        """Offer a service at a branch, served by the named ``resources`` (ids of that branch)
        or, with none, by a virtual pool of ``pool`` units."""
        with self.lock:
            service, branch = self.service(service_id), self.branch(branch_id)
            for ident in resources:
                if self.resources[ident].branch_id != branch.id:
                    raise ValueError(f"resource {ident} is not at branch {branch.id}")
            parsed = (
                None
                if hours is None
                else {
                    int(day): [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans]
                    for day, spans in hours.items()
                }
            )
            offer = Offer(branch.id, list(resources), selection_required and bool(resources), pool, parsed)
            service.offers[branch.id] = offer
            return offer

    def add_group(self, names: dict | str, service_ids: list[str], ident: str | None = None) -> Group:
        names = {DEFAULT_LANGUAGE: names} if isinstance(names, str) else dict(names)
        group = Group(ident or self.new_id(), names, len(self.groups), list(service_ids))
        with self.lock:
            self.groups[group.id] = group
        return group

    def branch(self, ident: str) -> Branch:
        found = self.branches.get(ident)
        if found is None:
            raise not_found("branch", ident)
        return found

    def service(self, ident: str) -> Service:
        found = self.services.get(ident)
        if found is None:
            raise not_found("service", ident)
        return found

    # ---- reference data views (API reference "Services", "Service Groups", "Branches") ---------------
    def _selection(self, offer: Offer) -> dict:
        """API reference "Services": ``resourceSelection``; a virtual pool gives the API reference's empty form."""
        return {
            "required": offer.selection_required,
            "availableResources": [self.resources[r].view() for r in offer.resources],
        }

    def service_rows(self, lang: str) -> list[dict]:
        """``GET /services``: one row per branch offering a service, by service then branch."""
        rows = []
        with self.lock:
            for service in sorted(self.services.values(), key=lambda s: s.index):
                for branch_id, offer in service.offers.items():
                    rows.append(
                        {
                            "branch": self.branches[branch_id].view(),
                            "service": {
                                "id": service.id,
                                "name": service.name(lang),
                                "config": {
                                    "maxNumberOfReservations": service.max_reservations,
                                    "onlineBookable": service.online_bookable,
                                },
                            },
                            "resourceSelection": self._selection(offer),
                            "informationQuestions": [dict(q) for q in service.questions],
                            "screeningQuestions": [dict(q) for q in service.screening],
                        }
                    )
        return rows

    def _group_service(self, service: Service, lang: str) -> dict:
        return {
            "id": service.id,
            "name": service.name(lang),
            "index": service.index,
            "externalDescription": service.description(lang),
            "onlineBookable": service.online_bookable,
        }

    def groups_view(self, lang: str) -> dict:
        """``GET /services/groups``: ``services`` are those in no group; 404 when the tenant
        has no groups (API reference: "valid only in case if service groups are configured")."""
        with self.lock:
            if not self.groups:
                raise QmaticError(404, "service.groups.not.configured", "no service groups are configured")
            grouped = {i for g in self.groups.values() for i in g.service_ids}
            ordered = sorted(self.services.values(), key=lambda s: s.index)
            return {
                "services": [self._group_service(s, lang) for s in ordered if s.id not in grouped],
                "serviceGroups": [
                    {
                        "id": g.id,
                        "name": g.names.get(lang) or g.names[DEFAULT_LANGUAGE],
                        "index": g.index,
                        "services": [self._group_service(self.services[i], lang) for i in g.service_ids],
                    }
                    for g in sorted(self.groups.values(), key=lambda g: g.index)
                ],
            }

    def service_branches(self, service_id: str) -> list[dict]:
        """``GET /services/{serviceId}``: the branches offering it, with their resources."""
        with self.lock:
            service = self.service(service_id)
            return [
                {"branch": self.branches[b].view(), "resourceSelection": self._selection(o)}
                for b, o in service.offers.items()
            ]

    # ---- availability -----------------------------------------------------------------------
    def sweep(self) -> None:
        """Holds whose 15 minutes have passed on the cloud's clock expire (their slot is free)."""
        now = self.clock.now()
        with self.lock:
            for record in self.appointments.values():
                if record.state == RESERVED and record.held_until is not None and record.held_until <= now:
                    record.state = EXPIRED

    def _offer(self, service: Service, branch_id) -> Offer:
        if not isinstance(branch_id, str) or not branch_id:
            raise invalid("branchId is required")
        if branch_id not in self.branches:
            raise invalid(f"unknown branchId {branch_id}", "branch.not.found")
        offer = service.offers.get(branch_id)
        if offer is None:
            raise invalid(f"service {service.id} is not offered at branch {branch_id}", "service.not.offered")
        return offer

    def _hours_on(self, offer: Offer, branch: Branch, day: date) -> list[tuple[time, time]]:
        if day in branch.closed:
            return []
        return (offer.hours if offer.hours is not None else branch.hours).get(day.weekday(), [])

    def _grid(
        self, service: Service, offer: Offer, branch: Branch, day: date
    ) -> list[tuple[datetime, datetime]]:
        """The day's slots (aware UTC): consecutive service lengths from each opening time."""
        length = timedelta(minutes=service.minutes)
        out = []
        for opens, closes in self._hours_on(offer, branch, day):
            cursor = datetime.combine(day, opens, branch.zone)
            close = datetime.combine(day, closes, branch.zone)
            while cursor + length <= close:
                out.append((cursor.astimezone(UTC), (cursor + length).astimezone(UTC)))
                cursor += length
        return out

    def _inside_hours(self, offer: Offer, branch: Branch, start: datetime, end: datetime) -> bool:
        local_start, local_end = start.astimezone(branch.zone), end.astimezone(branch.zone)
        if local_end.date() != local_start.date():
            return False
        return any(
            opens <= local_start.time() and local_end.time() <= closes
            for opens, closes in self._hours_on(offer, branch, local_start.date())
        )

    def _busy(
        self,
        branch_id: str,
        start: datetime,
        end: datetime,
        skip: str | None = None,
        among: list[Appointment] | None = None,
    ) -> list[Appointment]:
        pool = self.appointments.values() if among is None else among
        return [
            r
            for r in pool
            if r.live and r.branch_id == branch_id and r.id != skip and r.start < end and start < r.end
        ]

    def free_resource(
        self,
        service: Service,
        offer: Offer,
        start: datetime,
        end: datetime,
        requested: str | None = None,
        skip: str | None = None,
        among: list[Appointment] | None = None,
    ) -> tuple[bool, str | None]:
        """Whether ``[start, end)`` is free for this offer, and the resource that would serve
        it (the requested one, else the first free named one; None for a virtual pool).
        ``among``: the records to look at (default: all), to spare a scan per slot."""
        busy = self._busy(offer.branch_id, start, end, skip, among)
        if offer.resources:
            taken = {r.resource_id for r in busy}
            candidates = [requested] if requested else offer.resources
            chosen = next((c for c in candidates if c not in taken), None)
            return chosen is not None, chosen
        used = sum(1 for r in busy if r.resource_id is None and r.service_id == service.id)
        return used < offer.pool, None

    def _requested(self, offer: Offer, requested) -> str | None:
        if requested in (None, ""):
            return None
        if not isinstance(requested, str) or requested not in offer.resources:
            raise invalid(
                f"requestedResourceId {requested} does not serve this service at this branch",
                "resource.not.found",
            )
        return requested

    def _number(self, service: Service, value) -> int:
        """``numberOfReservations``: 1 by default (API reference), at most ``maxNumberOfReservations``."""
        if value in (None, ""):
            return 1
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise invalid("numberOfReservations is an integer") from exc
        if isinstance(value, bool) or number < 1 or number > service.max_reservations:
            raise invalid(f"numberOfReservations is 1 to {service.max_reservations} for this service")
        return number

    def horizon_end(self, branch: Branch) -> datetime:
        today = self.clock.now().astimezone(branch.zone).date()
        return datetime.combine(
            today + timedelta(days=self.horizon_days + 1), time(0), branch.zone
        ).astimezone(UTC)

    def timeslots(self, service_id: str, params: dict) -> list[dict]:
        """``GET /services/{serviceId}/timeslots``: the free slots from now to the end of the
        horizon (today + ``horizon_days``, branch-local), ``[{"startTime", "endTime"}]``."""
        self.sweep()
        with self.lock:
            service = self.service(service_id)
            offer = self._offer(service, params.get("branchId"))
            requested = self._requested(offer, params.get("requestedResourceId"))
            self._number(service, params.get("numberOfReservations"))
            branch = self.branches[offer.branch_id]
            now = self.clock.now()
            day, last = now.astimezone(branch.zone).date(), self.horizon_end(branch)
            out = []
            live = [r for r in self.appointments.values() if r.live and r.branch_id == branch.id]
            while datetime.combine(day, time(0), branch.zone) < last:
                grid = self._grid(service, offer, branch, day)
                if grid:
                    today = self._busy(branch.id, grid[0][0], grid[-1][1], among=live)
                    for start, end in grid:
                        if (
                            start >= now
                            and self.free_resource(service, offer, start, end, requested, among=today)[0]
                        ):
                            out.append(self.slot_view(start, end, branch))
                day += timedelta(days=1)
            return out

    @staticmethod
    def slot_view(start: datetime, end: datetime, branch: Branch) -> dict:
        return {"startTime": iso(start, branch), "endTime": iso(end, branch)}

    # ---- reserve, confirm, release (API reference "Create a new Reservation", "Confirm a reservation")
    def reserve(self, body: dict) -> Appointment:
        """``POST /reservations``: a ``RESERVED`` appointment held 15 minutes. 400 for a body
        that is not valid, a slot off the service's grid, in the past or beyond the horizon;
        409 when the slot (or the requested resource) is no longer free."""
        self.sweep()
        with self.lock:
            if not isinstance(body.get("serviceId"), str) or not body["serviceId"]:
                raise invalid("serviceId is required")
            if body["serviceId"] not in self.services:
                raise invalid(f"unknown serviceId {body['serviceId']}", "service.not.found")
            service = self.services[body["serviceId"]]
            offer = self._offer(service, body.get("branchId"))
            branch = self.branches[offer.branch_id]
            requested = self._requested(offer, body.get("requestedResourceId"))
            if offer.selection_required and requested is None:
                raise invalid(
                    "this service needs a requestedResourceId (resourceSelection.required)",
                    "resource.required",
                )
            number = self._number(service, body.get("numberOfReservations"))
            notes = body.get("notes")
            if notes is not None and not isinstance(notes, str):
                raise invalid("notes is a string")
            slot = body.get("timeSlot")
            if not isinstance(slot, dict):
                raise invalid("timeSlot {startTime, endTime} is required")
            start, end = (
                parse_time(slot.get("startTime"), "timeSlot.startTime"),
                parse_time(slot.get("endTime"), "timeSlot.endTime"),
            )
            now = self.clock.now()
            if start < now:
                raise invalid("the time slot is in the past", "timeslot.not.valid")
            if start >= self.horizon_end(branch):
                raise invalid("the time slot is beyond the bookable horizon", "timeslot.not.valid")
            day = start.astimezone(branch.zone).date()
            if (start, end) not in self._grid(service, offer, branch, day):
                raise invalid("the time slot is not one of the service's time slots", "timeslot.not.valid")
            free, resource = self.free_resource(service, offer, start, end, requested)
            if not free:
                raise QmaticError(409, "timeslot.not.available", "the time slot is no longer available")
            record = Appointment(
                self.new_id(),
                RESERVED,
                service.id,
                branch.id,
                resource,
                start,
                end,
                number,
                notes,
                now,
                now + HOLD,
            )
            self.appointments[record.id] = record
            return record

    def live_record(self, ident: str) -> Appointment:
        self.sweep()
        record = self.appointments.get(ident)
        if record is None or not record.live:
            raise not_found("appointment", ident)
        return record

    def confirm(self, ident: str, body: dict) -> Appointment:
        """``PUT /reservations/{reservationId}``: the customer confirms the held reservation.
        404 unknown or hold expired; 409 already confirmed; 400 customer or answers invalid
        (the reservation stays held)."""
        with self.lock:
            record = self.live_record(ident)
            if record.state == CONFIRMED:
                raise QmaticError(
                    409, "appointment.already.confirmed", f"appointment {ident} is already confirmed"
                )
            customer, pid = self._customer(body.get("customer"))
            answers = self._answers(self.services[record.service_id], body.get("informationQuestions"), True)
            record.customer, record.personal_identifier, record.answers = customer, pid, answers
            record.state, record.held_until = CONFIRMED, None
            return record

    def _customer(self, value) -> tuple[dict, str]:
        """The confirm's customer (API reference "Confirm a reservation" attributes) → (stored customer,
        personalIdentifier); 400 naming the first field that is missing or invalid."""
        if not isinstance(value, dict):
            raise invalid("customer is required")
        pid = value.get("personalIdentifier")
        if not isinstance(pid, str) or not PERSONAL_IDENTIFIER.fullmatch(pid):
            raise invalid("customer.personalIdentifier must contain 10-48 characters matching A-Za-z0-9")
        for name in ("firstName", "lastName", "email"):
            text = value.get(name)
            if not isinstance(text, str) or not text.strip():
                raise invalid(f"customer.{name} is required")
            if len(text) > MAX_NAME:
                raise invalid(f"customer.{name} is longer than {MAX_NAME} characters")
        phone = value.get("phoneNumber")
        if phone is not None:
            digits = (
                str(phone) if isinstance(phone, int) and not isinstance(phone, bool) and phone >= 0 else phone
            )
            if not isinstance(digits, str) or not PHONE_DIGITS.fullmatch(digits):
                raise invalid("customer.phoneNumber is a number (digits only, at most 255)")
        birth = value.get("dateOfBirth")
        if birth is None and self.date_of_birth_required:
            raise invalid("customer.dateOfBirth is required")
        if birth is not None:
            try:
                born = date.fromisoformat(birth) if isinstance(birth, str) and len(birth) == 10 else None
            except ValueError:
                born = None
            if born is None or born > self.clock.now().date():
                raise invalid("customer.dateOfBirth is a past date such as 2000-01-01")
        stored = {
            "firstName": value["firstName"],
            "lastName": value["lastName"],
            "phoneNumber": phone,
            "email": value["email"],
            "dateOfBirth": birth,
        }
        return stored, pid

    @staticmethod
    def _answers(service: Service, value, required_check: bool) -> list[dict]:
        """``informationQuestions`` [{"questionText", "answer": [text]}]: each names one of the
        service's questions; every ``required`` one needs a non-blank answer."""
        if value is None:
            value = []
        if not isinstance(value, list):
            raise invalid("informationQuestions is an array")
        texts = {q["questionText"]: q for q in service.questions}
        out = []
        for item in value:
            if not isinstance(item, dict) or item.get("questionText") not in texts:
                raise invalid(f"informationQuestions: unknown question {item!r}")
            answer = item.get("answer")
            if isinstance(answer, str):
                answer = [answer]
            if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
                raise invalid(
                    f"informationQuestions: the answer to {item['questionText']!r} is an array of text"
                )
            if sum(len(a) for a in answer) > MAX_ANSWER:
                raise invalid(
                    f"informationQuestions: the answer to {item['questionText']!r} exceeds {MAX_ANSWER}"
                )
            out.append({"questionText": item["questionText"], "answer": list(answer)})
        if required_check:
            answered = {a["questionText"] for a in out if any(x.strip() for x in a["answer"])}
            for question in service.questions:
                if question.get("required") and question["questionText"] not in answered:
                    raise invalid(f"informationQuestions: {question['questionText']!r} is required")
        return out

    def release(self, ident: str) -> None:
        """``DELETE /reservations/reservations/{appointmentId}``: free a held reservation;
        404 unknown or expired, 409 once confirmed (contract: release works only until
        ``CONFIRMED``; then cancel)."""
        with self.lock:
            record = self.live_record(ident)
            if record.state != RESERVED:
                raise QmaticError(
                    409,
                    "appointment.confirmed",
                    f"appointment {ident} is confirmed: cancel it instead of releasing it",
                )
            record.state = RELEASED

    # ---- appointments -----------------------------------------------------------------------
    def search(self, body: dict) -> list[Appointment]:
        """``POST /appointments/search`` ``{"customer": {"personalIdentifier"}}``: that customer's
        confirmed appointments, past and future, by start."""
        customer = body.get("customer")
        pid = customer.get("personalIdentifier") if isinstance(customer, dict) else None
        if not isinstance(pid, str) or not PERSONAL_IDENTIFIER.fullmatch(pid):
            raise invalid("customer.personalIdentifier must contain 10-48 characters matching A-Za-z0-9")
        self.sweep()
        with self.lock:
            found = [
                r for r in self.appointments.values() if r.state == CONFIRMED and r.personal_identifier == pid
            ]
            return sorted(found, key=lambda r: (r.start, r.id))

    def reschedule(self, ident: str, body: dict) -> Appointment:
        """``PUT /appointments/{appointmentId}/reschedule`` ``{"reservationId"}``: the confirmed
        appointment takes the held reservation's slot, branch and resource and keeps its id;
        the reservation is used up. 404 either unknown (or the hold expired); 409 the
        appointment is only reserved or the reservation already confirmed; 400 another service."""
        with self.lock:
            record = self.live_record(ident)
            reservation_id = body.get("reservationId")
            if not isinstance(reservation_id, str) or not reservation_id:
                raise invalid("reservationId is required")
            if reservation_id == ident:
                raise invalid("reservationId is the appointment itself")
            if record.state != CONFIRMED:
                raise QmaticError(409, "appointment.not.confirmed", f"appointment {ident} is not confirmed")
            reservation = self.live_record(reservation_id)
            if reservation.state != RESERVED:
                raise QmaticError(
                    409, "reservation.already.confirmed", f"{reservation_id} is not a reservation"
                )
            if reservation.service_id != record.service_id:
                raise invalid(
                    "a reschedule keeps the service: reserve a slot of the same service", "service.mismatch"
                )
            record.start, record.end = reservation.start, reservation.end
            record.branch_id, record.resource_id = reservation.branch_id, reservation.resource_id
            record.number = reservation.number
            reservation.state = USED
            return record

    def delete(self, ident: str) -> None:
        """``DELETE /appointments/{appointmentId}``: cancel; afterwards GET answers 404."""
        with self.lock:
            self.live_record(ident).state = CANCELLED

    def update_customer(self, ident: str, body: dict) -> Appointment:
        """``PUT /appointments/{appointmentId}/customer`` (body as in confirm): new customer
        details; answers, when sent, replace the old ones. 409 for a mere reservation."""
        with self.lock:
            record = self.live_record(ident)
            if record.state != CONFIRMED:
                raise QmaticError(409, "appointment.not.confirmed", f"appointment {ident} is not confirmed")
            customer, pid = self._customer(body.get("customer"))
            if "informationQuestions" in body:
                record.answers = self._answers(
                    self.services[record.service_id], body["informationQuestions"], True
                )
            record.customer, record.personal_identifier = customer, pid
            return record

    def view(self, record: Appointment, lang: str = DEFAULT_LANGUAGE) -> dict:
        """The contract's Appointment object ("Objects"): ``customer`` only once confirmed,
        ``resource`` only when a named resource serves it."""
        branch, service = self.branches[record.branch_id], self.services[record.service_id]
        out = {
            "appointmentId": record.id,
            "status": record.state,
            "timeSlot": self.slot_view(record.start, record.end, branch),
        }
        if record.customer is not None:
            out["customer"] = dict(record.customer)
        out["service"] = {
            "id": service.id,
            "name": service.name(lang),
            "config": {"maxNumberOfReservations": service.max_reservations},
        }
        out["branch"] = branch.view()
        if record.resource_id is not None:
            out["resource"] = self.resources[record.resource_id].view()
        out["numberOfReservations"] = record.number
        out["notes"] = record.notes
        out["supportNotes"] = record.support_notes
        return out

    def admin_view(self, record: Appointment) -> dict:
        """Everything about a record, for tests (``/_sim/appointments``): UTC times, hidden state."""
        return {
            **self.view(record),
            "status": record.state,
            "personalIdentifier": record.personal_identifier,
            "answers": record.answers,
            "source": record.source,
            "start": record.start.isoformat(),
            "end": record.end.isoformat(),
            "created": record.created.isoformat(),
            "heldUntil": record.held_until.isoformat() if record.held_until else None,
            "resourceId": record.resource_id,
            "serviceId": record.service_id,
            "branchId": record.branch_id,
        }

    # ---- cloud-side changes (tests act as the booking page and the staff) ----------------------
    def online_booking(
        self,
        service_id: str,
        branch_id: str,
        start: datetime,
        customer: dict,
        *,
        resource_id: str | None = None,
        answers=None,
        notes: str | None = None,
        source: str = "online",
        check_grid: bool = False,
    ) -> Appointment:
        """A customer books (reserve and confirm at once) on the booking page, or staff book
        (``source="staff"``, which may book a service that is not ``onlineBookable``). The
        start may lie in the past and off the grid unless ``check_grid``; it must lie inside
        the opening hours and be free (ValueError otherwise; a resource not serving the service
        there is a :class:`QmaticError` 400). ``customer`` as in confirm."""
        self.sweep()
        with self.lock:
            service = self.service(service_id)
            offer = self._offer(service, branch_id)
            branch = self.branches[branch_id]
            if source == "online" and not service.online_bookable:
                raise ValueError(f"service {service_id} is not bookable online")
            start = start.astimezone(UTC)
            end = start + timedelta(minutes=service.minutes)
            day = start.astimezone(branch.zone).date()
            if check_grid and (start, end) not in self._grid(service, offer, branch, day):
                raise ValueError(f"{start} is not a time slot of the service")
            if not self._inside_hours(offer, branch, start, end):
                raise ValueError(f"{start} is outside the opening hours")
            free, resource = self.free_resource(
                service, offer, start, end, self._requested(offer, resource_id)
            )
            if not free:
                raise ValueError(f"{start} is not free")
            stored, pid = self._customer(customer)
            record = Appointment(
                self.new_id(),
                CONFIRMED,
                service.id,
                branch.id,
                resource,
                start,
                end,
                1,
                notes,
                self.clock.now(),
                None,
                stored,
                pid,
                self._answers(service, answers, False),
                source=source,
            )
            self.appointments[record.id] = record
            return record

    def customer_cancel(self, ident: str) -> None:
        """The customer cancels on the booking page: gone from search, GET 404."""
        with self.lock:
            self.live_record(ident).state = CANCELLED

    def cloud_move(self, ident: str, start: datetime, resource_id: str | None = None) -> Appointment:
        """Staff move a confirmed appointment in Qmatic (same id); it must stay in the opening
        hours and be free (ValueError otherwise)."""
        with self.lock:
            record = self.live_record(ident)
            service = self.services[record.service_id]
            offer, branch = service.offers[record.branch_id], self.branches[record.branch_id]
            start = start.astimezone(UTC)
            end = start + timedelta(minutes=service.minutes)
            if not self._inside_hours(offer, branch, start, end):
                raise ValueError(f"{start} is outside the opening hours")
            free, resource = self.free_resource(
                service,
                offer,
                start,
                end,
                self._requested(offer, resource_id) or record.resource_id,
                skip=record.id,
            )
            if not free and resource_id is None and offer.resources:
                free, resource = self.free_resource(service, offer, start, end, None, skip=record.id)
            if not free:
                raise ValueError(f"{start} is not free")
            record.start, record.end, record.resource_id = start, end, resource
            return record

    def cloud_delete(self, ident: str) -> None:
        """Staff delete the appointment in Qmatic: the record is gone altogether."""
        with self.lock:
            if self.appointments.pop(ident, None) is None:
                raise KeyError(ident)

    def live(self) -> list[Appointment]:
        """Every held reservation and confirmed appointment, by start."""
        self.sweep()
        with self.lock:
            return sorted((r for r in self.appointments.values() if r.live), key=lambda r: (r.start, r.id))


def iso(moment: datetime, branch: Branch) -> str:
    """``2022-03-03T09:00:00+01:00``: the branch's local time with its offset."""
    return moment.astimezone(branch.zone).isoformat(timespec="seconds")


def parse_time(text, name: str) -> datetime:
    """An ISO-8601 time with an offset (or ``Z``) → aware UTC; 400 otherwise."""
    if not isinstance(text, str):
        raise invalid(f"{name} is required")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"{name} is not an ISO-8601 date-time") from exc
    if moment.tzinfo is None:
        raise invalid(f"{name} needs an offset, e.g. 2022-03-03T09:00:00+01:00")
    return moment.astimezone(UTC)
