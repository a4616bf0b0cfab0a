"""The Agendize connector (:class:`app.sync.connector.Connector`): reference data, the
incremental pull with sync tokens, and the desk operations of
``docs/clouds/agendize.md`` ("Desk operations on Agendize", "Behaviour the desk
relies on"; Agendize API reference "List", "Insert", "Update").

Connection (:data:`CONNECTOR` fields): the base URL (``…/api/2.1``), the API key as the
account, the SSO token as the secret (``ISTIQBAL_CLOUD_KEY`` or the keyring), and the
company (one company is one branch, chosen from ``GET /scheduling/companies``; with one
company in the account it is taken by itself).

Pull (cursor ``{"syncToken", "horizon": [start, end], "dayReadAt", "blocks"}``):

1. No sync token: the horizon (``horizon_days`` around today, company-local days) is
   listed with ``showDeleted``, ``personalAppointments`` and ``levelDetail=full``, all
   pages; the last page's ``nextSyncToken`` is in that page's cursor, committed with its
   rows by the engine.
2. With a token: one listing with ``syncToken`` (+ ``showDeleted``,
   ``personalAppointments``, ``levelDetail``) that holds only what changed. A refused
   token (410, or a 400 naming it) is raised; :meth:`AgendizeConnector.classify` calls it
   ``cursor_expired`` and the engine starts again with ``pull(None, full=True)``.
3. Backstop (contract "Behaviour" 5): today is re-read by window every ``day_every``
   seconds and, with ``full``, the whole horizon at most every ``full_every`` seconds
   (nightly); each such window is reported fully read so the engine checks what it did not
   list by GET (404: deleted).

Deleted and cancelled appointments come back as cancelled bookings (``showDeleted``).
Personal appointments (staff blocks) are not bookings: they are kept in the cursor and cut
out of that provider's working hours by :meth:`AgendizeConnector.pull_reference`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

from app.domain import clock
from app.domain.model import Status, VisitStatus
from app.i18n import N_
from app.sync.agendize import mapping
from app.sync.agendize.client import AgendizeClient, CloudError, classify
from app.sync.connector import (
    Capabilities,
    CloudBooking,
    CloudConfig,
    ConfigField,
    ConnectorContext,
    ConnectorInfo,
    Failure,
    FailureKind,
    Operation,
    PlannedOp,
    PullMode,
    PullPage,
    Reference,
    SendResult,
    Window,
)

log = logging.getLogger(__name__)
NAME = "agendize"
DEFAULT_URL = "https://api.agendize.com/api/2.1"
#: the list parameters every appointment read carries (contract "Desk operations": bookings)
LIST_SHAPE = {"showDeleted": True, "personalAppointments": True, "levelDetail": "full"}
#: a lost insert is looked for among appointments created since its request − this margin
LOOKUP_MARGIN = timedelta(minutes=2)
#: the booking fields a pull writes (the cloud owns them); ``visitStatus`` only when the
#: cloud says it (``inProgress``, ``completed``, ``noShow``)
SYNCED_FIELDS = (
    "status",
    "visitStatus",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "note",
    "cancelReason",
    "assignmentTimeout",
    "createdAt",
)
CAPABILITIES = Capabilities(
    pull_mode=PullMode.SYNC_TOKEN,
    queue=True,
    visit_status_push=True,
    restore=True,
    deleted_feed=True,
    payments_down=True,
)
_REQUESTS = (Status.PENDING_ASSIGNMENT, Status.PENDING_APPROVAL)


class AgendizeConnector:
    """One Agendize company (branch) behind the connector interface.

    ``horizon_days``: (first, last) company-local days around today that the full read
    covers; ``day_every``: seconds between backstop re-reads of today; ``full_every``:
    seconds between backstop re-reads of the horizon (a ``full`` pull asks for one, at
    most this often: the contract's "nightly"); ``clients_every``: seconds between reads
    of the Client API (the clients of the appointments come with them in every pull)."""

    name = NAME
    capabilities = CAPABILITIES

    def __init__(
        self,
        config: CloudConfig,
        ctx: ConnectorContext,
        *,
        transport=None,
        horizon_days: tuple[int, int] = (-1, 30),
        day_every: float = 300.0,
        full_every: float = 86_400.0,
        clients_every: float = 1_800.0,
    ):
        self.config, self.ctx, self.transport = config, ctx, transport
        self.horizon_days, self.day_every, self.full_every = horizon_days, day_every, full_every
        self.clients_every = clients_every
        self.company_id: str | None = (config.extra or {}).get("companyId") or None
        self.zone: str | None = None
        self.client: AgendizeClient | None = None
        self.blocks: dict[str, dict] | None = None  # cloud id → block row (personal appointments)
        self._customers: dict[tuple, dict] = {}
        self._clients_read: float | None = None

    # connection ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is None:
            self.client = AgendizeClient(
                self.config.base_url,
                self.config.account,
                self.config.secret or "",
                clients_url=(self.config.extra or {}).get("clientsUrl") or None,
                transport=self.transport,
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def companies(self) -> list[dict]:
        """``GET /scheduling/companies`` → ``[{id, name, timeZone}]`` (ids as text), for
        the settings' choice of company."""
        await self.open()
        return _companies(await self.client.call("companies") or {})

    async def choices(self, key: str) -> list[dict]:
        """The values Agendize lists for a connection field: for ``companyId`` the account's
        companies (``GET /scheduling/companies``, contract "Desk operations on Agendize":
        one company is one branch), ``[{value: id, label: name, labels: {en, ar}}]`` (the
        cloud gives one name, used in both languages; the company's id when it has none).
        Raises ValueError for another field, CloudError/TransportError as the call does
        (a wrong key or token: 401)."""
        if key != "companyId":
            raise ValueError(f"Agendize lists no values for {key!r}")
        out = []
        for company in await self.companies():
            label = str(company.get("name") or company["id"])
            out.append({"value": company["id"], "label": label, "labels": {"en": label, "ar": label}})
        return out

    async def _company(self) -> dict:
        """The chosen company (its ``timeZone`` is the zone of every time sent). Without a
        choice, the account's only company; raises CloudError 400 ``companyRequired`` when
        the account has several and none is chosen."""
        await self.open()
        if not self.company_id:
            found = await self.companies()
            if len(found) != 1:
                names = ", ".join(f"{c['id']} ({c['name']})" for c in found) or "none"
                raise CloudError(400, "companyRequired", f"choose the branch's company: {names}")
            self.company_id = found[0]["id"]
        company = await self.client.call("company", ids={"company": self.company_id}) or {}
        self.zone = str(company.get("timeZone") or self.ctx.zone)
        return company

    async def _zone(self) -> str:
        if self.zone is None:
            await self._company()
        return self.zone

    def _ids(self, ident: str | None = None) -> dict:
        return {"company": self.company_id, **({"id": ident} if ident else {})}

    async def check(self) -> None:
        """One cheap call with the credential: the company (raises on failure)."""
        await self._company()

    # reference data -----------------------------------------------------------------------
    async def pull_reference(self) -> Reference:
        """Staff (providers) and resources (rooms) as resources with their time rules,
        services as booking types, clients as customers (ids the cloud's; contract "Desk
        operations": resources / providers, services / types, customers). The Client API
        is read at most every ``clients_every`` seconds (no customers in between)."""
        company = await self._company()
        ids = self._ids()
        staff = await self.client.all("staff", ids=ids)
        services = await self.client.all("services", ids=ids)
        rooms = await self.client.all("resources", ids=ids)
        clients: list[dict] = []
        if self._clients_read is None or time.monotonic() - self._clients_read >= self.clients_every:
            clients = await self.client.all("clients")  # the account's whole address book: not every pull
            self._clients_read = time.monotonic()
        out = Reference()
        blocks_by_staff: dict[str, list[dict]] = {}
        for block in (self.blocks or {}).values():
            blocks_by_staff.setdefault(block["resourceId"], []).append(block)
        for member in staff:
            try:
                key = mapping.staff_key(member["id"])
                try:
                    rules = mapping.time_rules(company, member, blocks_by_staff.get(key))
                except mapping.MappingError as exc:
                    rules = {"unknown": True, "reason": str(exc), "cloud": member.get("workingHours")}
                    out.hours_unknown.append(key)
                row = mapping.staff_resource(member, company, rules)
                row["types"] = sorted(
                    set(row["types"])
                    | {
                        str(s["id"])
                        for s in services
                        if {"id": str(member["id"])}
                        in [{"id": str(x.get("id"))} for x in s.get("staff") or []]
                    }
                )
                out.resources.append(row)
            except (mapping.MappingError, KeyError, TypeError) as exc:
                log.warning("agendize: staff member set aside: %s", exc)
        try:
            room_rules = mapping.time_rules(company)
        except mapping.MappingError as exc:
            room_rules = {"unknown": True, "reason": str(exc), "cloud": company.get("workingHours")}
        for room in rooms:
            try:
                out.resources.append(mapping.room_resource(room, services, room_rules))
                if room_rules.get("unknown"):
                    out.hours_unknown.append(mapping.room_key(room["id"]))
            except (mapping.MappingError, KeyError, TypeError) as exc:
                log.warning("agendize: resource set aside: %s", exc)
        for service in services:
            try:
                out.types.append(mapping.booking_type(service))
            except mapping.MappingError as exc:
                log.warning("agendize: service set aside: %s", exc)
        for client in clients:
            try:
                out.customers.append({"id": str(client["id"]), **mapping.customer(client)})
            except (mapping.MappingError, KeyError, TypeError) as exc:
                log.warning("agendize: client set aside: %s", exc)
        return out

    # pull ---------------------------------------------------------------------------------
    def _horizon(self) -> tuple[str, str]:
        zone = self.zone or self.ctx.zone
        today = clock.local_date(self.ctx.now(), zone)
        first = clock.local_day_bounds(today + timedelta(days=self.horizon_days[0]), zone)[0]
        last = clock.local_day_bounds(today + timedelta(days=self.horizon_days[1]), zone)[1]
        return clock.to_iso(first), clock.to_iso(last)

    def _today(self) -> tuple[str, str]:
        zone = self.zone or self.ctx.zone
        lo, hi = clock.local_day_bounds(clock.local_date(self.ctx.now(), zone), zone)
        return clock.to_iso(lo), clock.to_iso(hi)

    def _read(self, items: list, zone: str) -> tuple[list[CloudBooking], int]:
        """Listed appointments → bookings (blocks go to :attr:`blocks`); malformed ones are
        logged and counted."""
        out, set_aside = [], 0
        for obj in items:
            try:
                found = mapping.appointment(obj, zone)
            except (mapping.MappingError, TypeError, KeyError, AttributeError) as exc:
                log.warning(
                    "agendize: appointment %s set aside: %s",
                    obj.get("id") if isinstance(obj, dict) else "?",
                    exc,
                )
                set_aside += 1
                continue
            if found.kind == "block":
                if found.deleted:
                    self.blocks.pop(found.cloud_id, None)
                else:
                    self.blocks[found.cloud_id] = found.row
                continue
            out.append(self._booking(found, obj))
        return out, set_aside

    def _booking(self, found: mapping.Appointment, raw: dict) -> CloudBooking:
        row = {"id": found.cloud_id, **found.row}
        if row.get("visitStatus") == VisitStatus.COMPLETED and self.ctx.local_id("booking", found.cloud_id):
            # the cloud keeps the booked end (API reference "end": only for personal appointments):
            # the actual end the desk recorded stays local (contract: end early)
            row.pop("endDateTime", None)
            row.pop("duration", None)
        history = mapping.history_entries(raw, self.zone or self.ctx.zone) if raw.get("history") else None
        change = mapping.change_of(history)
        return CloudBooking(
            found.cloud_id,
            row,
            customer=self._customer(found.client),
            raw=raw,
            change=change,
            money=mapping.money(raw),
            history=history,
        )

    def _customer(self, client: dict | None) -> dict | None:
        """The embedded client as a customer row (cloud id), read once per client and
        contact details (phone parsing is the costly part of a large pull)."""
        if client is None:
            return None
        key = (
            str(client.get("id")),
            client.get("firstName"),
            client.get("lastName"),
            client.get("email"),
            client.get("mobilePhone"),
            client.get("phone"),
            client.get("externalId"),
        )
        cached = self._customers.get(key)
        if cached is None:
            try:
                cached = {"id": key[0], **mapping.customer(client)}
            except mapping.MappingError:
                return None
            if client.get("externalId"):
                cached["externalId"] = str(client["externalId"])
            if len(self._customers) > 50_000:
                self._customers.clear()
            self._customers[key] = cached
        return dict(cached)

    async def _listing(self, params: dict, state: dict, window: Window | None) -> AsyncIterator[PullPage]:
        """Every page of one listing; the last page's cursor holds the new sync token."""
        zone = await self._zone()
        first = True
        async for page in self.client.pages("appointments", ids=self._ids(), params=params):
            bookings, set_aside = self._read(page.get("items") or [], zone)
            last = not page.get("nextPageToken")
            cursor = dict(state)
            if last and page.get("nextSyncToken"):
                cursor["syncToken"] = page["nextSyncToken"]
            cursor["blocks"] = dict(self.blocks)
            yield PullPage(
                bookings=bookings,
                cursor=cursor if last else {**state, "blocks": dict(self.blocks), "reading": True},
                window=window.name if window else None,
                restarted=first and window is not None,
                windows_done=[window] if last and window else [],
                set_aside=set_aside,
            )
            first = False

    async def pull(self, cursor: dict | None, *, full: bool) -> AsyncIterator[PullPage]:
        """The changes since ``cursor`` (module docstring, "Pull"). Raises CloudError
        (``cursor_expired``) when the sync token is refused."""
        await self._zone()
        state = {k: v for k, v in (cursor or {}).items() if k != "reading"}
        self.blocks = dict(state.pop("blocks", None) or {})
        now = clock.to_iso(self.ctx.now())
        if not state.get("syncToken"):
            lo, hi = self._horizon()
            params = {**LIST_SHAPE, "startDate": lo, "endDate": hi}
            state = {"horizon": [lo, hi], "dayReadAt": now, "fullAt": now}
            async for page in self._listing(params, state, Window("horizon", "startDateTime", lo, hi)):
                yield page
            return
        params = {**LIST_SHAPE, "syncToken": state["syncToken"]}
        token_state = dict(state)
        async for page in self._listing(params, token_state, None):
            if page.cursor.get("syncToken"):
                state["syncToken"] = page.cursor["syncToken"]
            yield page
        due = (
            clock.from_iso(state.get("dayReadAt") or now) + timedelta(seconds=self.day_every)
            <= self.ctx.now()
        )
        if (
            full
            and clock.from_iso(state.get("fullAt") or now) + timedelta(seconds=self.full_every)
            > self.ctx.now()
        ):
            full = False  # the horizon was read recently enough: the change feed holds the rest
        if full:
            lo, hi = self._horizon()
            state.update(horizon=[lo, hi], dayReadAt=now, fullAt=now)
            params = {**LIST_SHAPE, "startDate": lo, "endDate": hi}
            async for page in self._listing(params, state, Window("horizon", "startDateTime", lo, hi)):
                yield page
        elif due:
            lo, hi = self._today()
            state["dayReadAt"] = now
            params = {**LIST_SHAPE, "startDate": lo, "endDate": hi}
            async for page in self._listing(params, state, Window("day", "startDateTime", lo, hi)):
                page.cursor["syncToken"] = state["syncToken"]  # a window read keeps the change feed's token
                yield page

    async def fetch(self, cloud_id: str) -> CloudBooking | None:
        """``GET …/appointments/{id}?levelDetail=full``; None on 404 (deleted) and for a
        personal appointment (not a booking)."""
        zone = await self._zone()
        try:
            raw = await self.client.call(
                "appointment", ids=self._ids(cloud_id), params={"levelDetail": "full"}
            )
        except CloudError as exc:
            if exc.status == 404:
                return None
            raise
        found = mapping.appointment(raw, zone)
        return None if found.kind == "block" else self._booking(found, raw)

    # push ---------------------------------------------------------------------------------
    def plan(self, action: str, before: dict | None, after: dict) -> list[PlannedOp]:
        """A desk change → Agendize operations (contract "Desk operations on Agendize"):
        ``create`` (a new timed booking, inserted; a walk-in waiting in the queue or a hold
        stays local), ``accept`` (a request taken by a provider), ``cancel`` (or decline for a
        request), ``restore``, ``reschedule`` (time and/or provider, same id) and ``visit``
        (start → inProgress, end → completed, no-show → noShow; check-in stays local).
        :meth:`send` also takes the engine's own ``end`` (queued after a create-first)."""
        if after.get("heldUntil"):
            return []
        if before is None or before.get("heldUntil"):
            if after.get("startDateTime") and after.get("status") not in (Status.CANCELED, Status.REJECTED):
                return [PlannedOp("create", creates=True)]
            return []
        status, was = after.get("status"), before.get("status")
        if status == Status.CANCELED and was != Status.CANCELED:
            return [PlannedOp("cancel", ("status", "cancelReason", "note"))]
        if was == Status.CANCELED and status != Status.CANCELED:
            return [PlannedOp("restore", ("status",))]
        if was == Status.PENDING_ASSIGNMENT and status == Status.CONFIRMED:
            return [PlannedOp("accept", ("status", "resourceId"))]
        if status in (Status.REJECTED,):
            return []  # an expired request: the desk's own (the cloud keeps it pending)
        out = []
        if before.get("startDateTime") != after.get("startDateTime") or before.get("resourceId") != after.get(
            "resourceId"
        ):
            out.append(PlannedOp("reschedule", ("startDateTime", "endDateTime", "duration", "resourceId")))
        if _cloud_visit(before) != _cloud_visit(after):
            out.append(PlannedOp("visit", ("visitStatus",)))
        return out

    async def send(self, op: Operation) -> SendResult:
        """Send one planned operation; returns the appointment the cloud answered with.
        Raises CloudError / TransportError (see :meth:`classify`); an accept that lost the
        race raises CloudError 409 ``alreadyAccepted``."""
        await self._zone()
        after = op.payload.get("after") or {}
        cloud_id = self.ctx.cloud_id("booking", op.booking_id)
        if op.action == "create" or cloud_id is None:
            return await self._insert(op, after, cloud_id)
        if op.action == "accept":
            return await self._accept(op, after, cloud_id)
        body, params = self._update(op, after)
        if not body:
            return SendResult(None)
        await self.ctx.mark_requested(op)
        try:
            raw = await self.client.call("update", ids=self._ids(cloud_id), params=params, body=body)
        except CloudError as exc:
            if exc.status != 404:
                raise
            if op.action == "cancel":  # gone in the cloud: a re-sent cancel or a delete counts as done
                return SendResult(None)
            if op.action == "restore":  # deleted in the cloud: booked again
                return await self._insert(op, after, None)
            raise
        if op.action not in ("cancel", "restore") and raw.get("status") in ("cancelled", "declined"):
            # cancelled in the cloud meanwhile (contract "Behaviour" 4): the desk's change
            # does not revive it; the case goes to needs-attention with the cloud's state
            raise CloudError(409, "cancelledInCloud", f"the appointment is {raw.get('status')} in Agendize")
        return SendResult(self._result(raw))

    def _result(self, raw: dict) -> CloudBooking | None:
        found = mapping.appointment(raw, self.zone)
        return None if found.kind == "block" else self._booking(found, raw)

    def _resource(self, local_id: str | None) -> tuple[str | None, str | None]:
        """The local resource → (staff id, room id) in Agendize."""
        if not local_id:
            return None, None
        key = self.ctx.cloud_id("resource", local_id) or local_id
        try:
            kind, ident = mapping.split_key(key)
        except mapping.MappingError:
            return None, None
        return (ident, None) if kind == "staff" else (None, ident)

    def _update(self, op: Operation, after: dict) -> tuple[dict, dict]:
        """The partial PUT body and its query (``silent``, ``force``) of one operation."""
        before = op.payload.get("before") or {}
        zone = self.zone
        params = {"silent": False}
        if op.action == "cancel":
            request = before.get("status") in _REQUESTS
            notes = mapping.cancel_notes(
                after.get("note"), after.get("cancelReason") or "cancelled at the desk"
            )
            return {"status": "declined" if request else "cancelled", "notes": notes}, params
        if op.action == "restore":
            note = after.get("note")
            return {"status": _cloud_visit(after) or "accepted", "notes": note or ""}, params
        if op.action == "reschedule":
            body: dict = {}
            staff, room = self._resource(after.get("resourceId"))
            if after.get("startDateTime") and after.get("startDateTime") != before.get("startDateTime"):
                body["start"] = mapping.utc_to_zoned(clock.from_iso(after["startDateTime"]), zone)
            if after.get("resourceId") != before.get("resourceId"):
                body.update({"staff": {"id": staff}} if staff else {"resource": {"id": room}} if room else {})
            if _overbook(op) and staff:
                params["force"] = True
                body["staff"] = {"id": staff}
            return body, params
        if op.action in ("visit", "end", "start", "noshow"):
            status = _cloud_visit(after) or "accepted"
            body = {"status": status}
            if status == "completed":
                ended = clock.from_iso(after.get("endedAt") or after.get("endDateTime"))
                if ended is not None:
                    body["end"] = mapping.utc_to_zoned(ended, zone)
            return body, {"silent": True}
        raise ValueError(f"unknown Agendize operation {op.action!r}")

    async def _client_ref(self, op: Operation, after: dict) -> dict:
        """The ``client`` of an insert: the mapped client's id; else names and email with
        ``externalId`` = the desk's customer id (the cloud matches or creates it); a
        customer without an email is created first with ``POST /clients`` (its id kept in
        the operation's steps, so a retry does not create it twice)."""
        local = after.get("customerId")
        mapped = self.ctx.cloud_id("customer", local) if local else None
        if mapped:
            return {"id": mapped}
        if op.steps.get("clientId"):
            return {"id": op.steps["clientId"]}
        row = self.ctx.customer(local) or {} if local else {}
        body = mapping.client_to_cloud(row, local or op.booking_id)
        if body.get("email"):
            return body
        await self.ctx.save_steps(op, {**op.steps, "clientRequested": True})
        created = await self.client.call("create_client", body=body)
        await self.ctx.save_steps(op, {**op.steps, "clientId": str(created["id"])})
        op.steps["clientId"] = str(created["id"])
        return {"id": str(created["id"])}

    async def _insert(self, op: Operation, after: dict, cloud_id: str | None) -> SendResult:
        if cloud_id:  # a pull already recognised it
            found = await self.fetch(cloud_id)
            if found is not None:
                return SendResult(found)
        if op.requested_at:  # an earlier attempt may have committed without a reply
            for candidate in await self.find_sent(op):
                if ((candidate.raw or {}).get("extendedProperties") or {}).get("private", {}).get(
                    "deskOpId"
                ) == op.id:
                    return SendResult(candidate)
        service = self.ctx.cloud_id("type", after.get("typeId")) or after.get("typeId")
        staff, room = self._resource(after.get("resourceId"))
        body = mapping.insert_body(
            after,
            client=await self._client_ref(op, after),
            service_id=str(service),
            staff_id=staff,
            room_id=room,
            zone=self.zone,
            op_id=op.id,
        )
        params = {"silent": False}
        if _overbook(op) and staff:
            params["force"] = True
        await self.ctx.mark_requested(op)
        raw = await self.client.call("insert", ids=self._ids(), params=params, body=body)
        return SendResult(self._result(raw))

    async def _accept(self, op: Operation, after: dict, cloud_id: str) -> SendResult:
        """Accept a request: GET first; if it is no longer pending, or another staff member
        has it, the accept is lost (409 ``alreadyAccepted`` → needs-attention); else PUT
        ``{status: accepted, staff}``. The reply's staff is the truth (contract "Accept
        race": a small window remains, last write wins)."""
        staff, room = self._resource(after.get("resourceId"))
        current = await self.client.call(
            "appointment", ids=self._ids(cloud_id), params={"levelDetail": "full"}
        )
        holder = str((current.get("staff") or {}).get("id") or "")
        if current.get("status") != "pending" or (holder and holder != staff):
            if current.get("status") == "accepted" and holder == staff and op.requested_at:
                return SendResult(self._result(current))  # our own earlier, unanswered attempt
            raise CloudError(
                409,
                "alreadyAccepted",
                f"the request is {current.get('status')} with staff {holder or 'none'}",
            )
        body = {"status": "accepted", **({"staff": {"id": staff}} if staff else {"resource": {"id": room}})}
        await self.ctx.mark_requested(op)
        raw = await self.client.call("update", ids=self._ids(cloud_id), params={"silent": False}, body=body)
        return SendResult(self._result(raw))

    async def find_sent(self, op: Operation) -> list[CloudBooking]:
        """Appointments an unanswered insert may have made (contract "Lost reply on
        insert"): listed with ``createdStartDate`` = request time − 2 min and the client
        (``externalClientId`` = the desk's customer id, or the mapped ``clientId``),
        ``levelDetail=full``; the one carrying this operation's ``deskOpId`` first, then
        those with the same service, staff and start."""
        zone = await self._zone()
        after = op.payload.get("after") or {}
        since = clock.from_iso(op.requested_at) if op.requested_at else self.ctx.now()
        start = clock.from_iso(after.get("startDateTime")) or self.ctx.now()
        params = {
            "createdStartDate": mapping.gmt(since - LOOKUP_MARGIN),
            "levelDetail": "full",
            "startDate": mapping.gmt(start - timedelta(days=1)),
            "endDate": mapping.gmt(start + timedelta(days=1)),
        }
        mapped = self.ctx.cloud_id("customer", after.get("customerId")) if after.get("customerId") else None
        client = mapped or op.steps.get("clientId")
        if client:
            params["clientId"] = client
        else:
            params["externalClientId"] = after.get("customerId")
        items = await self.client.all("appointments", ids=self._ids(), params=params)
        ours, same = [], []
        service = str(self.ctx.cloud_id("type", after.get("typeId")) or after.get("typeId"))
        staff, _ = self._resource(after.get("resourceId"))
        for raw in items:
            private = (raw.get("extendedProperties") or {}).get("private") or {}
            try:
                found = mapping.appointment(raw, zone)
            except mapping.MappingError:
                continue
            if found.kind != "booking":
                continue
            if private.get("deskOpId") == op.id:
                ours.append(self._booking(found, raw))
            elif (
                private.get("deskOpId") in (None, "")
                and str((raw.get("service") or {}).get("id")) == service
                and str((raw.get("staff") or {}).get("id") or "") == (staff or "")
                and found.row.get("startDateTime") == after.get("startDateTime")
            ):
                same.append(self._booking(found, raw))
        return ours + same

    def classify(self, error: BaseException) -> Failure | None:
        """Agendize errors → :class:`Failure` (contract "Transport" → Errors); None for
        anything that is not a cloud error."""
        verdict = classify(error)
        if verdict is None:
            return None
        return Failure(
            FailureKind(verdict.kind),
            verdict.code,
            verdict.message,
            verdict.retry_after,
            error.status if isinstance(error, CloudError) else None,
        )


def _cloud_visit(booking: dict) -> str | None:
    """The cloud status a booking's visit state means, or None (not arrived, or checked in:
    the desk's own)."""
    if booking.get("status") != Status.CONFIRMED:
        return None
    return mapping.VISIT_OUT.get(booking.get("visitStatus") or "")


def _overbook(op: Operation) -> bool:
    """The desk's audited overbook override (``overbookReason``) → ``force=true``."""
    actor = op.payload.get("actor") or {}
    after = op.payload.get("after") or {}
    return bool((actor.get("overbookReason") or after.get("overbookReason") or "").strip())


def _companies(data: dict) -> list[dict]:
    return [
        {"id": str(c["id"]), "name": c.get("name"), "timeZone": c.get("timeZone")}
        for c in data.get("items") or []
        if isinstance(c, dict) and c.get("id") is not None
    ]


async def list_companies(config: CloudConfig, *, transport=None) -> list[dict]:
    """The companies of the account in ``config`` (API key and token) → ``[{id, name,
    timeZone}]``: the settings dialog's choices for the ``companyId`` field. Raises
    CloudError / TransportError (a wrong key or token: 401)."""
    client = AgendizeClient(
        config.base_url,
        config.account,
        config.secret or "",
        clients_url=(config.extra or {}).get("clientsUrl") or None,
        transport=transport,
    )
    try:
        return _companies(await client.call("companies") or {})
    finally:
        await client.aclose()


def make(
    config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
) -> AgendizeConnector:
    """The connector for ``config``; ``options["horizon_days"]`` (first, last) sets the
    horizon of a full read (the engine's)."""
    horizon = tuple((options or {}).get("horizon_days") or (-1, 30))
    return AgendizeConnector(config, ctx, transport=transport, horizon_days=horizon)


CONNECTOR = ConnectorInfo(
    name=NAME,
    title=N_("Agendize"),
    capabilities=CAPABILITIES,
    fields=(
        ConfigField(
            "baseUrl",
            N_("Server address"),
            kind="url",
            default=DEFAULT_URL,
            help=N_("The Agendize API address, ending in /api/2.1"),
        ),
        ConfigField("account", N_("API key"), help=N_("The Agendize account's API key")),
        ConfigField("secret", N_("Token"), kind="secret", help=N_("The Agendize SSO token")),
        ConfigField(
            "companyId",
            N_("Company"),
            required=False,
            cli="company",
            listed=True,
            help=N_("The Agendize company of this branch (one company is one branch)"),
        ),
    ),
    factory=make,
    synced_fields=SYNCED_FIELDS,
    auth_kinds=(("apiKey", N_("API key and token")),),
    default_url=DEFAULT_URL,
)

__all__ = ["CONNECTOR", "AgendizeConnector", "list_companies", "make"]
