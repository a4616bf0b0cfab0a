"""The Qmatic connector (Qmatic API reference; contract ``docs/clouds/qmatic.md``).

It implements :class:`app.sync.connector.Connector` for one Qmatic tenant and one of its
branches (one desk branch = one Qmatic branch). What it does is the contract's "Desk
operations on Qmatic" table and its "Behaviour the desk relies on" section;
``docs/clouds/qmatic.md`` says it in prose.

Qmatic is built for a customer booking page: no calendar listing, no queue, no check-in.
The desk is the system of record for the day; Qmatic holds the appointments (time,
service, branch, resource, customer).

Push (:meth:`QmaticConnector.plan`): a create is ONE outbox operation of two steps —
reserve a slot (a 15-minute hold), commit the reservation id and the time of the reserve
in the operation's steps, then confirm it with the customer. After a crash within the hold
the stored id is confirmed; after it (404 on confirm) the slot is reserved again. A confirm
that is refused releases the reservation at once. A customer without what Qmatic requires
is not sent: the booking stays the desk's and goes to needs-attention naming the field
(:class:`CustomerIncomplete`). Reschedule reserves the new slot and rebases the appointment
onto it; a change of service is a cancel and a new booking; cancel deletes (the reason
stays local).

Pull (``PullMode.NONE``, push plus known-customer pull): ``POST /appointments/search`` per
customer linked to a Qmatic booking from yesterday onward — every :data:`TODAY_EVERY`
seconds for today's customers, every :data:`REST_EVERY` for the rest, everyone on the first
pull and when staff ask for a sync. A held appointment missing from its customer's result
and answering 404 to a GET was cancelled in Qmatic: the local booking is cancelled (a
pending local change wins; its own send then meets the 404 and goes to needs-attention).
**Gap**: online bookings of customers the desk has never seen do not come down
(:data:`PULL_GAP`, shown in the sync status).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from app.domain import clock
from app.domain.model import Status
from app.i18n import N_
from app.sync.connector import (
    Capabilities,
    CloudBooking,
    CloudConfig,
    ConfigField,
    ConnectorContext,
    ConnectorInfo,
    Failure,
    FailureKind,
    NotSendable,
    Operation,
    PlannedOp,
    PullMode,
    PullPage,
    Reference,
    SendResult,
)
from app.sync.qmatic import mapping
from app.sync.qmatic.client import LANGUAGES, NAMES, QUERY, QmaticClient, QmaticError, TransportError

log = logging.getLogger(__name__)
NAME = "qmatic"
#: seconds between two searches of a customer with a booking today (contract "Behaviour": Pull)
TODAY_EVERY = 60.0
#: seconds between two searches of the other known customers
REST_EVERY = 3600.0
#: seconds between two reads of services, branches and time slots (contract: at start and hourly)
REFERENCE_EVERY = 3600.0
#: a re-sent reserve answered 409 is retried until this long after the first attempt
#: (contract "Behaviour": lost reply on reserve — the orphaned hold expires by itself)
ORPHAN_WINDOW = timedelta(minutes=16)
#: what the desk cannot see (contract "Behaviour": Pull → Gap), for the sync status
PULL_GAP = N_(
    "Qmatic lists no calendar: online bookings of customers this desk has never booked do not come down."
)
#: booking fields a pull writes (the rest, e.g. the cancel reason and the note, stay the desk's)
SYNCED_FIELDS = (
    "status",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "createdAt",
)
LIVE = (Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT)

CAPABILITIES = Capabilities(
    pull_mode=PullMode.NONE,
    queue=False,
    walk_ins=False,
    end_early=False,
    holds=False,
    approve=False,
    attendances=False,
    visit_status_push=False,
    payments=False,
    reschedule_new_id=False,
    customer_write=False,
    time_rules_write=False,
    restore=True,
    deleted_feed=False,
    payments_down=False,
)


class NotReady(Exception):
    """A desk row names something Qmatic does not know (an unmapped service or resource)."""


class CustomerIncomplete(NotSendable):
    """The desk customer lacks what Qmatic requires to confirm (contract "Behaviour":
    customer data): the booking stays local, in needs-attention (the engine's
    :class:`~app.sync.connector.NotSendable` path); ``missing`` names the fields."""

    code = "QMATIC-CUSTOMER-INCOMPLETE"

    def __init__(self, missing: list[str]):
        super().__init__("Qmatic needs the customer's " + ", ".join(missing))
        self.missing = missing


class OrphanHeld(Exception):
    """A re-sent reserve met 409 on its own slot, likely the orphaned hold of a reserve
    whose reply was lost: retried until :data:`ORPHAN_WINDOW` after the first attempt."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class HoldLapsed(Exception):
    """A reservation of this operation lapsed before it was used (404): the next attempt
    reserves again (contract "Behaviour": after the hold, reserve again)."""


class QmaticConnector:
    """One Qmatic tenant and branch: ``config.account`` is the tenant (``X-TENANT-ID``),
    ``config.secret`` the optional ``Authorization`` value, ``config.extra["branchId"]``
    the Qmatic branch and ``config.extra["language"]`` the ``Accept-Language`` code."""

    name = NAME
    capabilities = CAPABILITIES
    pull_gap = PULL_GAP

    def __init__(
        self, config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
    ):
        self.config, self.ctx, self.transport = config, ctx, transport
        extra = config.extra or {}
        self.branch_id: str = str(extra.get("branchId") or "")
        self.language: str = str(extra.get("language") or LANGUAGES[0])
        self.page_limit = int(
            (options or {}).get("page_limit") or 500
        )  # no paging in Qmatic; kept for the engine
        self.client: QmaticClient | None = None
        self.rows: dict[str, dict] = {}  # service id → its row of GET /services in this branch
        self.pools: dict[str, str] = {}  # service id → the branch pool (no named resources)
        self.slots: dict[tuple[str, str | None], list] = {}  # (service, resource or None) → slot spans
        self._reference_at: float | None = None  # monotonic time services were read
        self._slots_at: float | None = None  # monotonic time the time slots were read

    # lifecycle -----------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is None:
            self.client = QmaticClient(
                self.config.base_url,
                self.config.account,
                language=self.language,
                authorization=self.config.secret or None,
                transport=self.transport,
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def check(self) -> None:
        """``GET /services``: the tenant answers and the branch is one of its branches (a
        connection without a branch takes the tenant's only branch; with several it is
        refused with the list: one desk branch = one Qmatic branch)."""
        await self.open()
        rows = await self.client.call("services")
        found = mapping.branches(rows if isinstance(rows, list) else [])
        if not self.branch_id:
            if len(found) != 1:
                names = ", ".join(f"{b.get('name')} ({i})" for i, b in found.items()) or "none"
                raise QmaticError(400, "BRANCH", f"choose the Qmatic branch of this desk: {names}")
            self.branch_id = next(iter(found))
        elif self.branch_id not in found:
            raise QmaticError(403, "BRANCH", f"the tenant has no branch {self.branch_id} with services")

    async def _ready(self) -> None:
        await self.open()
        if not self.branch_id:
            await self.check()
        if self._reference_at is None:
            await self._load_services()

    # reference data --------------------------------------------------------------------
    async def _load_services(self) -> list[dict]:
        reply = await self.client.call("services")
        rows = mapping.branch_rows(reply if isinstance(reply, list) else [], self.branch_id)
        self.rows = {str(r["service"]["id"]): r for r in rows}
        self.pools = {
            sid: mapping.pool_id(self.branch_id)
            for sid, r in self.rows.items()
            if not mapping.named_resources(r)
        }
        self._reference_at = time.monotonic()
        return rows

    async def _slots(self, service_id: str, resource_id: str | None) -> list | None:
        """Free time slots of a service (and resource) in the branch; None when the reply
        cannot be read (logged: the hours become unknown, never closed)."""
        params = {
            QUERY["branchId"]: self.branch_id,
            QUERY["numberOfReservations"]: 1,
            QUERY["requestedResourceId"]: resource_id,
        }
        reply = await self.client.call("timeslots", ids={"serviceId": service_id}, params=params)
        try:
            spans = mapping.slot_spans(reply, self.ctx.zone)
        except mapping.MappingError as exc:
            log.warning("Qmatic time slots of %s/%s set aside: %s", service_id, resource_id, exc)
            return None
        self.slots[(service_id, resource_id)] = spans
        return spans

    async def pull_reference(self) -> Reference:
        """Booking types (the branch's services, minutes from their time slots), resources
        (the named resources of each service, and one pool for the services without any),
        their working hours from the free time slots (contract "Desk operations": working
        hours none), no customers (Qmatic lists none). Read at start and every
        :data:`REFERENCE_EVERY` seconds, and whenever staff ask for a sync (fresh free times)."""
        await self._ready()
        if self._slots_at is not None:
            if time.monotonic() - self._slots_at < REFERENCE_EVERY and not self._asked():
                return self._reference()
            await self._load_services()  # read at start by _ready; again now
        self.slots = {}
        for sid, row in self.rows.items():
            named = [str(r["id"]) for r in mapping.named_resources(row)]
            for resource in named or [None]:
                await self._slots(sid, resource)
        self._slots_at = time.monotonic()
        return self._reference()

    def _reference(self) -> Reference:
        zone = self.ctx.zone
        types, serves, names, unknown_hours = [], {}, {}, []
        for sid, row in self.rows.items():
            spans = [s for (service, _), found in self.slots.items() if service == sid for s in found or []]
            types.append(
                mapping.booking_type(
                    row["service"],
                    mapping.duration_minutes(spans),
                    known=self.ctx.local_id("type", sid) is not None,
                )
            )
            for resource in mapping.named_resources(row) or [None]:
                rid = str(resource["id"]) if resource else mapping.pool_id(self.branch_id)
                serves.setdefault(rid, []).append(sid)
                names[rid] = resource
        resources = []
        branch = next((r["branch"] for r in self.rows.values()), {"id": self.branch_id})
        for rid, sids in serves.items():
            cloud_resource = None if mapping.is_pool(rid) else rid
            found = [self.slots.get((sid, cloud_resource)) for sid in sids]
            if any(f is None for f in found):
                rules = mapping.hours_unknown("Qmatic time slots could not be read")
                unknown_hours.append(rid)
            else:
                rules = mapping.time_rules_from_slots([s for f in found for s in f], zone)
            known = self.ctx.local_id("resource", rid) is not None
            if names[rid] is None:
                resources.append(mapping.pool_row(branch, sids, rules, known=known))
            else:
                resources.append(mapping.resource_row(names[rid], sids, rules, known=known))
        return Reference(resources=resources, types=types, customers=[], hours_unknown=unknown_hours)

    def _asked(self) -> bool:
        """Staff asked for a sync now (``POST /sync/now``, ``sync --once``)."""
        return bool(getattr(self.ctx, "pull_asked", False))

    # bookings in the domain's shape ----------------------------------------------------
    def booking(
        self, obj: dict, identifier: str | None = None, *, own: bool = False, created_at: str | None = None
    ) -> CloudBooking:
        """An appointment as a :class:`CloudBooking` (raises MappingError). ``identifier``:
        the customer's ``personalIdentifier`` when known (the search was made with it).
        Qmatic gives no creation time: an appointment the branch has not mapped gets
        ``createdAt`` = ``created_at`` or now (first seen), so the engine's natural-key
        match of an unanswered create can take it; ``own``: the reply to this desk's write."""
        row = mapping.appointment(obj, self.ctx.zone, pools=self.pools)
        cloud_id = row["id"]
        customer = None
        if identifier:
            row["customerId"] = identifier
            customer = mapping.customer_row(obj.get(NAMES["customer"]), identifier)
        if not own and (created_at or self.ctx.local_id("booking", cloud_id) is None):
            row["createdAt"] = created_at or clock.to_iso(self.ctx.now())
        return CloudBooking(cloud_id, row, customer=customer, raw=obj)

    async def _get(self, appointment_id: str) -> dict | None:
        """``GET /appointments/{id}``; None on 404."""
        try:
            return await self.client.call("appointment", ids={"appointmentId": appointment_id})
        except QmaticError as exc:
            if exc.kind == "not_found":
                return None
            raise

    async def fetch(self, cloud_id: str) -> CloudBooking | None:
        await self._ready()
        obj = await self._get(cloud_id)
        if obj is None:
            return None
        return self.booking(obj, self._identifier_of(obj))

    def _identifier_of(self, obj: dict) -> str | None:
        customer = obj.get(NAMES["customer"])
        ident = customer.get(NAMES["personalIdentifier"]) if isinstance(customer, dict) else None
        return str(ident) if ident else None

    async def _search(self, identifier: str) -> list[dict]:
        reply = await self.client.call("search", body=mapping.search_body(identifier))
        if isinstance(reply, dict):
            reply = next((v for v in reply.values() if isinstance(v, list)), [])
        out = []
        for obj in reply if isinstance(reply, list) else []:
            if not isinstance(obj, dict):
                continue
            branch = obj.get("branch")
            if isinstance(branch, dict) and branch.get("id") and str(branch["id"]) != self.branch_id:
                continue  # the customer's appointments at other branches are theirs
            out.append(obj)
        return out

    # pull ------------------------------------------------------------------------------
    def _held(self) -> dict[str, list[dict]]:
        """Known customers (``personalIdentifier``) → the live Qmatic bookings the branch
        holds for them from yesterday onward (branch-local)."""
        today = clock.local_date(self.ctx.now(), self.ctx.zone)
        since, _ = clock.local_day_bounds(today - timedelta(days=1), self.ctx.zone)
        rows = getattr(self.ctx, "held_bookings", lambda _since: [])(clock.to_iso(since))
        out: dict[str, list[dict]] = {}
        for row in rows:
            if row.get("status") not in LIVE:
                continue
            identifier = row.get("customer") or (
                mapping.personal_identifier(row["localCustomer"]) if row.get("localCustomer") else None
            )
            if identifier:
                out.setdefault(identifier, []).append(row)
        return out

    async def pull(self, cursor: dict | None, *, full: bool) -> AsyncIterator[PullPage]:
        """Known-customer pull, one page per customer searched. The cursor is
        ``{"searched": {personalIdentifier: UTC ISO of the last search}}``."""
        await self._ready()
        state = {"searched": dict((cursor or {}).get("searched") or {})}
        everyone = cursor is None or self._asked()
        now = self.ctx.now()
        today = clock.local_date(now, self.ctx.zone)
        since, _ = clock.local_day_bounds(today - timedelta(days=1), self.ctx.zone)
        held = self._held()
        state["searched"] = {k: v for k, v in state["searched"].items() if k in held}
        yielded = False
        for identifier, bookings in sorted(held.items()):
            last = clock.from_iso(state["searched"].get(identifier))
            busy_today = any(
                clock.local_date(clock.from_iso(b["startDateTime"]), self.ctx.zone) == today
                for b in bookings
                if b.get("startDateTime")
            )
            every = TODAY_EVERY if busy_today else REST_EVERY
            if not everyone and last is not None and (now - last).total_seconds() < every:
                continue
            found, set_aside = [], 0
            for obj in await self._search(identifier):
                try:
                    booking = self.booking(obj, identifier)
                except mapping.MappingError as exc:
                    log.warning("Qmatic appointment set aside: %s", exc)
                    set_aside += 1
                    continue
                if clock.from_iso(booking.row["startDateTime"]) >= since:
                    found.append(booking)
            seen = {b.cloud_id for b in found}
            for held_row in bookings:
                if held_row["cloudId"] in seen:
                    continue
                current = await self._get(held_row["cloudId"])  # absent from the search: confirm by GET
                if current is None:
                    found.append(
                        CloudBooking(
                            held_row["cloudId"], {"id": held_row["cloudId"], "status": str(Status.CANCELED)}
                        )
                    )
                else:
                    try:
                        found.append(self.booking(current, identifier))
                    except mapping.MappingError as exc:
                        log.warning("Qmatic appointment set aside: %s", exc)
                        set_aside += 1
            state["searched"][identifier] = clock.to_iso(self.ctx.now())
            yielded = True
            yield PullPage(bookings=found, cursor={"searched": dict(state["searched"])}, set_aside=set_aside)
        if not yielded:
            yield PullPage(cursor=state)

    # push ------------------------------------------------------------------------------
    def plan(self, action: str, before: dict | None, after: dict) -> list[PlannedOp]:
        """The Qmatic operations of a desk change (contract "Desk operations on Qmatic"):
        ``create`` (a timed booking: reserve + confirm), ``cancel`` (delete), ``restore``
        (a cancel taken back: booked again, a new id), ``reschedule`` (a new start, another
        resource, or another service — cancel + new booking). A walk-in stays the desk's
        own until it is accepted, then it is created. Holds, accept/assign otherwise,
        check-in, start, end, no-show are the desk's own."""
        if after.get("heldUntil"):
            return []
        status = after.get("status")
        if before is None or before.get("heldUntil"):
            if after.get("startDateTime") and status in LIVE:
                return [PlannedOp("create", creates=True)]
            return []
        was = before.get("status")
        if status == Status.CANCELED and was != Status.CANCELED:
            return [PlannedOp("cancel", ("status",))] if was != Status.PENDING_ASSIGNMENT else []
        if was == Status.CANCELED and status != Status.CANCELED:
            return [PlannedOp("restore", ("status",), creates=True)] if after.get("startDateTime") else []
        if was == Status.PENDING_ASSIGNMENT and status in LIVE and after.get("startDateTime"):
            return [PlannedOp("create", creates=True)]  # a desk walk-in accepted: now a timed booking
        if status not in LIVE:
            return []
        if (
            before.get("startDateTime"),
            before.get("resourceId"),
            before.get("typeId"),
            before.get("duration"),
        ) != (
            after.get("startDateTime"),
            after.get("resourceId"),
            after.get("typeId"),
            after.get("duration"),
        ):
            return [
                PlannedOp("reschedule", ("startDateTime", "endDateTime", "duration", "resourceId", "typeId"))
            ]
        return []

    async def send(self, op: Operation) -> SendResult:
        await self._ready()
        after = op.payload.get("after") or {}
        if op.action in ("create", "restore"):
            old = self._cloud("booking", op.booking_id) if op.action == "restore" else None
            return SendResult(booking=await self._book(op, after, "book"), replaces=old)
        if op.action == "reschedule":
            before = op.payload.get("before") or {}
            if before.get("typeId") and before.get("typeId") != after.get("typeId"):
                return await self._change_service(op, after)
            return await self._reschedule(op, after)
        if op.action == "cancel":
            await self._cancel(self._appointment_id(op))
            return SendResult(booking=None)
        log.info("Qmatic: %s of %s is the desk's own", op.action, op.booking_id)
        return SendResult(booking=None)

    # helpers of push
    def _cloud(self, entity: str, local_id: str | None) -> str | None:
        return self.ctx.cloud_id(entity, local_id) if local_id else None

    def _appointment_id(self, op: Operation) -> str:
        ident = self._cloud("booking", op.booking_id)
        if not ident:
            raise NotReady(f"booking {op.booking_id} has no Qmatic appointment")
        return ident

    async def _save(self, op: Operation, steps: dict) -> None:
        await self.ctx.save_steps(op, steps)
        op.steps = dict(steps)

    def _customer(self, after: dict) -> tuple[dict, str]:
        """The desk customer and its ``personalIdentifier``; raises CustomerIncomplete."""
        local = after.get("customerId")
        row = self.ctx.customer(local) if local else None
        identifier = self._cloud("customer", local) or (mapping.personal_identifier(local) if local else None)
        service = self._service(after)
        missing = mapping.missing_fields(
            row, identifier, mapping.required_questions(self.rows.get(service) or {})
        )
        if missing:
            raise CustomerIncomplete(missing)
        return row, identifier

    def _service(self, after: dict) -> str:
        service = self._cloud("type", after.get("typeId"))
        if not service:
            raise NotReady(f"booking type {after.get('typeId')} is not a Qmatic service")
        return service

    def _resource(self, after: dict) -> str | None:
        resource = self._cloud("resource", after.get("resourceId"))
        if after.get("resourceId") and not resource:
            raise NotReady(f"resource {after.get('resourceId')} is not a Qmatic resource")
        return resource

    def _slot(self, service: str, resource: str | None, start: datetime, minutes: int) -> dict:
        """The slot Qmatic offered at ``start`` (as it wrote it), else one written from the
        desk's start and duration (the reserve then says whether it is free)."""
        key = (service, None if mapping.is_pool(resource) else resource)
        for lo, _hi, slot in self.slots.get(key) or []:
            if lo == start:
                return {
                    NAMES["startTime"]: slot[NAMES["startTime"]],
                    NAMES["endTime"]: slot[NAMES["endTime"]],
                }
        return mapping.composed_slot(start, minutes, self.ctx.zone)

    async def _reserve(self, op: Operation, steps: dict, part: str, after: dict) -> str:
        """Reserve the desk's slot (a 15-minute hold); the reservation id and the time of
        the reserve are committed in ``steps[part]`` before anything else goes out. A re-sent
        reserve (the last reply was lost) answered 409 raises :class:`OrphanHeld` until
        :data:`ORPHAN_WINDOW` after the first attempt, then the 409 itself."""
        state = dict(steps.get(part) or {})
        now = self.ctx.now()
        service, resource = self._service(after), self._resource(after)
        start = clock.from_iso(after["startDateTime"])
        minutes = int(after.get("duration") or 0) or mapping.DEFAULT_MINUTES
        resent = bool(state.get("reserveRequested"))
        if not state.get("body"):
            slot = self._slot(service, resource, start, minutes)
            state["body"] = mapping.reserve_body(
                service_id=service,
                branch_id=self.branch_id,
                resource_id=resource,
                slot=slot,
                notes=after.get("note"),
            )
        state.setdefault("firstReserveAt", clock.to_iso(now))
        state["reserveRequested"] = True
        steps[part] = state
        await self._save(op, steps)
        await self.ctx.mark_requested(op)
        try:
            reply = await self.client.call("reserve", body=state["body"])
        except QmaticError as exc:
            if exc.kind == "transient":  # it may have committed: the retry counts as re-sent
                raise
            first = clock.from_iso(state["firstReserveAt"])
            if exc.kind == "conflict" and resent and now - first < ORPHAN_WINDOW:
                left = (first + ORPHAN_WINDOW - now).total_seconds()
                raise OrphanHeld(
                    f"the slot is held, likely by the reserve whose reply was lost: {exc.message}",
                    retry_after=min(30.0, max(1.0, left / 8)),
                ) from exc
            steps.pop(part, None)
            await self._save(op, steps)
            raise
        ident = mapping.appointment_id(reply)
        if not ident:
            raise QmaticError(502, "REPLY", "the reserve reply names no appointmentId")
        state.update(reservationId=ident, reservedAt=clock.to_iso(self.ctx.now()), reserveRequested=False)
        state.pop("confirmRequested", None)
        steps[part] = state
        await self._save(op, steps)
        return ident

    async def _release(self, reservation_id: str) -> None:
        """Release an abandoned reservation at once (public page "Release a reservation");
        failures are logged: the hold expires by itself within 15 minutes."""
        try:
            await self.client.call("release", ids={"appointmentId": reservation_id})
        except (QmaticError, TransportError) as exc:
            log.info("Qmatic: release of %s failed (it expires by itself): %s", reservation_id, exc)

    async def _confirm(self, op: Operation, steps: dict, part: str, customer: dict, identifier: str) -> dict:
        """``PUT /reservations/{id}`` with the customer; returns the appointment. A refusal
        (other than 404: the hold is gone) releases the reservation and is raised; a re-sent
        confirm answered 4xx is verified with a GET first (contract "Behaviour")."""
        state = steps[part]
        ident = state["reservationId"]
        state["confirmRequested"] = True
        await self._save(op, steps)
        try:
            reply = await self.client.call(
                "confirm", ids={"reservationId": ident}, body=mapping.confirm_body(customer, identifier)
            )
        except QmaticError as exc:
            if exc.kind in ("refused", "conflict"):
                current = await self._get(ident)
                if current is not None and mapping.is_confirmed(current):
                    return current
                await self._release(ident)
                steps.pop(part, None)
                await self._save(op, steps)
            raise
        if not (
            isinstance(reply, dict)
            and mapping.appointment_id(reply)
            and mapping.slot_of(reply)
            and reply.get("service")
        ):
            reply = await self._get(ident)
            if reply is None:
                raise QmaticError(404, "NOT_FOUND", f"appointment {ident} is not there after its confirm")
        return reply

    async def _book(self, op: Operation, after: dict, part: str) -> CloudBooking:
        """Reserve then confirm, one operation (contract "Behaviour": Hold)."""
        if not after.get("startDateTime"):
            raise NotReady(f"booking {op.booking_id} has no start")
        customer, identifier = self._customer(after)
        steps = dict(op.steps or {})
        state = steps.get(part) or {}
        if state.get("reservationId"):
            ident = state["reservationId"]
            if state.get("confirmRequested"):
                current = await self._get(ident)
                if current is not None and mapping.is_confirmed(current):
                    return self.booking(current, identifier, own=True)
            reserved = clock.from_iso(state.get("reservedAt")) or self.ctx.now()
            if self.ctx.now() - reserved < mapping.HOLD:
                try:
                    return self.booking(
                        await self._confirm(op, steps, part, customer, identifier), identifier, own=True
                    )
                except QmaticError as exc:
                    if exc.kind != "not_found":
                        raise
            log.info("Qmatic: the hold of %s is over; reserving again", ident)
            steps[part] = {"firstReserveAt": clock.to_iso(self.ctx.now())}  # a new reserve, new slot look-up
            await self._save(op, steps)
        await self._reserve(op, steps, part, after)
        try:
            return self.booking(
                await self._confirm(op, steps, part, customer, identifier), identifier, own=True
            )
        except QmaticError as exc:
            if exc.kind == "not_found":  # the hold is gone already: reserve again on the next try
                steps.pop(part, None)
                await self._save(op, steps)
                raise HoldLapsed(f"the reservation lapsed before its confirm: {exc.message}") from exc
            raise

    async def _reschedule(self, op: Operation, after: dict) -> SendResult:
        """Reserve the new slot, then ``PUT /appointments/{id}/reschedule`` onto it (same
        id; a reply with another ``appointmentId`` maps old to new). After a lost reply the
        appointment is read: at the new start, done; else the new hold is used while it
        lasts, otherwise reserved again (contract "Behaviour": Reschedule)."""
        old = self._appointment_id(op)
        steps = dict(op.steps or {})
        state = steps.get("move") or {}
        target = clock.from_iso(after["startDateTime"])
        identifier = self._cloud("customer", after.get("customerId")) or (
            mapping.personal_identifier(after["customerId"]) if after.get("customerId") else None
        )
        if state.get("rescheduleRequested"):
            for ident in (old, state.get("reservationId")):
                current = await self._get(ident) if ident else None
                if current is not None and mapping.is_confirmed(current):
                    start = mapping.natural_key(current, self.ctx.zone)
                    if start and start[2] == target and self._same_resource(current, after):
                        return self._rescheduled(current, identifier, old)
        if state.get("reservationId"):
            reserved = clock.from_iso(state.get("reservedAt")) or self.ctx.now()
            if self.ctx.now() - reserved >= mapping.HOLD:
                steps["move"] = {"firstReserveAt": clock.to_iso(self.ctx.now())}
                await self._save(op, steps)
        if not (steps.get("move") or {}).get("reservationId"):
            await self._reserve(op, steps, "move", after)
        state = steps["move"]
        state["rescheduleRequested"] = True
        await self._save(op, steps)
        try:
            reply = await self.client.call(
                "reschedule",
                ids={"appointmentId": old},
                body={NAMES["reservationId"]: state["reservationId"]},
            )
        except QmaticError as exc:
            if exc.kind == "not_found":
                if await self._get(old) is None:
                    raise  # the appointment itself is gone: needs-attention (the engine reads it)
                steps.pop("move", None)  # the new hold is gone: reserve again on the next try
                await self._save(op, steps)
                raise HoldLapsed(f"the reservation lapsed before the reschedule: {exc.message}") from exc
            if exc.kind in ("refused", "conflict"):
                await self._release(state["reservationId"])
                steps.pop("move", None)
                await self._save(op, steps)
            raise
        if not (isinstance(reply, dict) and mapping.appointment_id(reply) and mapping.slot_of(reply)):
            reply = await self._get(old) or await self._get(state["reservationId"])
            if reply is None:
                raise QmaticError(404, "NOT_FOUND", f"appointment {old} is not there after its reschedule")
        return self._rescheduled(reply, identifier, old)

    def _same_resource(self, obj: dict, after: dict) -> bool:
        resource = obj.get(NAMES["resource"])
        if not isinstance(resource, dict) or not resource.get("id"):
            return True  # not said: the start decides
        wanted = self._cloud("resource", after.get("resourceId"))
        return not wanted or mapping.is_pool(wanted) or str(resource["id"]) == wanted

    def _rescheduled(self, obj: dict, identifier: str | None, old: str) -> SendResult:
        booking = self.booking(obj, identifier, own=True)
        return SendResult(booking=booking, replaces=old if booking.cloud_id != old else None)

    async def _cancel(self, appointment_id: str) -> None:
        """``DELETE /appointments/{id}`` (204); 404 means done (a re-sent cancel)."""
        try:
            await self.client.call("cancel", ids={"appointmentId": appointment_id})
        except QmaticError as exc:
            if exc.kind != "not_found":
                raise

    async def _change_service(self, op: Operation, after: dict) -> SendResult:
        """A change of service: the appointment is cancelled and a new one booked (a new
        id, mapped old → new; contract "Behaviour": Reschedule)."""
        steps = dict(op.steps or {})
        old = steps.get("oldId") or self._appointment_id(op)
        if not steps.get("cancelled"):
            self._customer(after)  # an incomplete customer keeps the old appointment
            steps["oldId"] = old
            await self._save(op, steps)
            await self._cancel(old)
            steps["cancelled"] = True
            await self._save(op, steps)
        return SendResult(booking=await self._book(op, after, "book"), replaces=old)

    async def find_sent(self, op: Operation) -> list[CloudBooking]:
        """What an unanswered creating operation may have made: the customer's
        appointments (``POST /appointments/search``) with the desk's service and start in
        this branch (contract "Behaviour": the natural key). A same-service reschedule
        keeps its id: nothing to look for."""
        await self._ready()
        after = op.payload.get("after") or {}
        before = op.payload.get("before") or {}
        if op.action == "reschedule" and before.get("typeId") == after.get("typeId"):
            return []
        if not after.get("customerId") or not after.get("startDateTime"):
            return []
        identifier = self._cloud("customer", after["customerId"]) or mapping.personal_identifier(
            after["customerId"]
        )
        service = self._cloud("type", after.get("typeId"))
        start = clock.from_iso(after["startDateTime"])
        out = []
        for obj in await self._search(identifier):
            key = mapping.natural_key(obj, self.ctx.zone)
            if key is None or key[0] != service or key[2] != start or key[1] not in ("", self.branch_id):
                continue
            try:
                out.append(self.booking(obj, identifier, created_at=op.requested_at))
            except mapping.MappingError as exc:
                log.warning("Qmatic appointment set aside: %s", exc)
        return out

    def classify(self, error: BaseException) -> Failure | None:
        if isinstance(error, TransportError):
            return Failure(FailureKind.TRANSIENT, "NO-ANSWER", str(error))
        if isinstance(error, HoldLapsed):
            return Failure(FailureKind.TRANSIENT, "QMATIC-HOLD-LAPSED", str(error), 0.0)
        if isinstance(error, OrphanHeld):
            return Failure(FailureKind.TRANSIENT, "QMATIC-SLOT-HELD", str(error), error.retry_after, 409)
        if isinstance(error, NotReady):
            return Failure(FailureKind.REFUSED, "QMATIC-NOT-MAPPED", str(error))
        if isinstance(error, QmaticError):
            kind = {
                "transient": FailureKind.TRANSIENT,
                "auth": FailureKind.AUTH,
                "not_found": FailureKind.NOT_FOUND,
            }.get(error.kind, FailureKind.REFUSED)
            code = error.code or ("SLOT-TAKEN" if error.kind == "conflict" else f"HTTP-{error.status}")
            return Failure(kind, code, error.message, error.retry_after, error.status)
        return None


def make(
    config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
) -> QmaticConnector:
    """The factory of :data:`CONNECTOR`."""
    return QmaticConnector(config, ctx, transport=transport, options=options)


CONNECTOR = ConnectorInfo(
    name=NAME,
    title=N_("Qmatic"),
    capabilities=CAPABILITIES,
    fields=(
        ConfigField(
            "baseUrl",
            N_("API address"),
            kind="url",
            help=N_("The tenant's external API, e.g. https://tenant.example/external/v1"),
        ),
        ConfigField("account", N_("Tenant ID"), help=N_("The X-TENANT-ID value of the Qmatic tenant")),
        ConfigField(
            "secret",
            N_("Authorization"),
            kind="secret",
            required=False,
            help=N_(
                "Only when a gateway in front of the tenant asks for one: the whole "
                "Authorization header value, e.g. Bearer …"
            ),
        ),
        ConfigField(
            "branchId",
            N_("Qmatic branch"),
            required=False,
            cli="qmatic-branch",
            help=N_(
                "One desk branch is one Qmatic branch. Leave it empty when the tenant has one "
                "branch; otherwise connecting lists its branches."
            ),
        ),
        ConfigField(
            "language",
            N_("Language of service names"),
            kind="choice",
            required=False,
            default=LANGUAGES[0],
            cli="qmatic-language",
            choices=tuple((code, code) for code in LANGUAGES),
            help=N_("Qmatic has no Arabic: the desk keeps its own Arabic names, which a manager can edit."),
        ),
    ),
    factory=make,
    synced_fields=SYNCED_FIELDS,
    auth_kinds=(("authorization", N_("Authorization header")),),
    customer_requires=("firstName", "lastName", "email"),
)
