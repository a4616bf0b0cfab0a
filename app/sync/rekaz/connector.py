"""The Rekaz connector (Rekaz API reference; contract ``docs/clouds/rekaz.md``).

It implements :class:`app.sync.connector.Connector` for one Rekaz tenant and one of its
branches (one desk branch = one Rekaz branch, chosen in the settings). What it does is the
contract's "Desk operations on Rekaz" table and its "Behaviour the desk relies on" section;
``docs/clouds/rekaz.md`` says it in prose.

Pull (windows; Rekaz has no change feed and no timestamps): the **hot** window is the
branch-local today, read on every pull; the **horizon**, −1 to +30 days, is read when the
engine asks for a full pull (every few minutes). Each window is listed to its last page
with no ``statuses`` filter, so cancelled rows come too; each page is one
:class:`~app.sync.connector.PullPage`. The engine compares every row with its stored copy
(change detection by comparison) and, for a window read to its end, fetches by id the
bookings it did not see (200: moved; 404: deleted). The first page of the recent
attendances (all customers, newest first) is read with every pull: a ``CheckIn`` made in
Rekaz (a kiosk, the app) makes the listed booking ``CHECKED_IN``, a ``CheckOut`` makes it
``COMPLETED``; only a change since the last pull is applied, so the desk's own
``IN_PROGRESS`` is not undone. In-progress and no-show have no Rekaz form and stay local.

Names: a reservation names its provider, product and price. They are resolved against
the reference data (:class:`~app.sync.rekaz.mapping.NameIndex`), which is read again on the
first unknown name (at most every :data:`NAMES_RETRY` seconds). An unknown or ambiguous
name leaves the field unresolved and is kept in :attr:`RekazConnector.problems` (and in the
booking's ``raw["problems"]``) for needs-attention; it is never guessed.

Push: see :meth:`RekazConnector.plan` and the ``_send_*`` methods. Writes whose reply can
be lost (customer create, reservation create, attendance) save what they are about to send
in the operation's steps first, so a retry looks it up by natural key (:mod:`.lookups`)
before sending it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

from app.domain import clock, errors
from app.domain.model import Action, Status, VisitStatus
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
    Operation,
    PlannedOp,
    PullMode,
    PullPage,
    Reference,
    SendResult,
    Window,
)
from app.sync.rekaz import lookups, mapping
from app.sync.rekaz.client import BUSINESS, MAX_RESULT_COUNT, RekazClient, RekazError, TransportError

log = logging.getLogger(__name__)
NAME = "rekaz"
DEFAULT_URL = "https://platform.rekaz.io/api/public"
#: seconds between two re-reads of the reference data caused by unknown names
NAMES_RETRY = 300.0
#: seconds between two full scans of the customers (contract "Behaviour": nightly)
CUSTOMER_SCAN_EVERY = 24 * 3600.0
#: the horizon, days around the branch-local today (contract "Behaviour" → Pull)
HORIZON_DAYS = (-1, 30)
#: booking fields the pull writes (the others are the desk's own)
SYNCED_FIELDS = (
    *mapping.CLOUD_BOOKING_FIELDS,
    "createdAt",
    "assignmentTimeout",
    "visitStatus",
    "checkedInAt",
    "endedAt",
    "paymentLink",
)

CAPABILITIES = Capabilities(
    pull_mode=PullMode.WINDOWS,
    queue=True,
    walk_ins=True,
    end_early=True,
    holds=False,
    approve=True,
    attendances=True,
    visit_status_push=False,
    payments=False,
    reschedule_new_id=False,
    customer_write=True,
    time_rules_write=False,
    restore=True,
    deleted_feed=False,
    payments_down=True,
)

#: service action → the Rekaz operation (contract "Desk operations on Rekaz"); an action
#: not listed is the desk's own (in progress, no-show, undoing a check-in, expiry)
ACTIONS = {
    Action.CREATE: "create",
    Action.CONFIRM: "confirm",
    Action.RESCHEDULE: "reschedule",
    Action.CANCEL: "cancel",
    Action.ACCEPT: "assign",
    Action.END: "end",
    Action.CHECK_IN: "check_in",
    Action.RESTORE: "restore",
}


class AcceptLost(Exception):
    """Another channel assigned the reservation first (contract "Behaviour": accept race)."""

    def __init__(self, providers: list):
        super().__init__(
            f"the reservation is assigned to {', '.join(map(str, providers)) or 'nobody'} in Rekaz"
        )
        self.providers = providers


class NotReady(Exception):
    """A desk row names something Rekaz does not know yet (an unmapped type or resource)."""


class RekazConnector:
    """One Rekaz tenant and branch. ``config.account`` is the tenant (``__tenant``),
    ``config.secret`` the key as issued, ``config.extra["branchId"]`` the Rekaz branch."""

    name = NAME
    capabilities = CAPABILITIES

    def __init__(
        self, config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
    ):
        self.config, self.ctx, self.transport = config, ctx, transport
        options = options or {}
        self.page_limit = options.get("page_limit") or MAX_RESULT_COUNT
        self.horizon_days = tuple(options.get("horizon_days") or HORIZON_DAYS)
        self.branch_id: str = str((config.extra or {}).get("branchId") or "")
        self.client: RekazClient | None = None
        self.names: mapping.NameIndex | None = None
        self._names_at = 0.0
        self._minutes: dict[str, int] = {}  # price id → minutes
        #: cloud reservation id → the name problems of its last mapping (needs-attention)
        self.problems: dict[str, list[mapping.Problem]] = {}
        #: attendances this desk sent, so that the pull does not play them back over a later
        #: local state (reservation id → kind)
        self._sent_visits: dict[str, str] = {}
        self._customers: dict[tuple, dict] = {}  # (id, name, mobile) → the customer row
        self._customers_at: float | None = None  # monotonic time of the last full customer scan

    @property
    def page_limit(self) -> int:
        """Rows per page of a listing: at most 100 (API reference: ``maxResultCount`` max 100)."""
        return self._page_limit

    @page_limit.setter
    def page_limit(self, value: int) -> None:
        self._page_limit = max(1, min(MAX_RESULT_COUNT, int(value)))

    # lifecycle -----------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is None:
            self.client = RekazClient(
                self.config.base_url, self.config.secret or "", self.config.account, transport=self.transport
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def check(self) -> None:
        """``GET /branches``: the key and tenant work and the branch is one the key sees (a
        connection without a branch takes the key's only branch; with several it is refused
        with the list, contract "Transport": one desk branch = one Rekaz branch)."""
        await self.open()
        branches = await self.client.listing("branches")
        ids = [str(b.get("id")) for b in branches if b.get("id")]
        if not self.branch_id:
            if len(ids) != 1:
                names = ", ".join(f"{b.get('nameEn') or b.get('name')} ({b.get('id')})" for b in branches)
                raise RekazError(400, "ValidationError", f"choose the Rekaz branch of this desk: {names}")
            self.branch_id = ids[0]
        elif self.branch_id not in ids:
            raise RekazError(403, "Forbidden", f"the key does not see the branch {self.branch_id}")

    async def choices(self, key: str) -> list[dict]:
        """The values Rekaz lists for a connection field: for ``branchId`` the branches the
        key can see (``GET /branches``, API reference "Branches API"), ``[{value: id, label, labels:
        {en: nameEn, ar: nameAr}}]`` (a missing name falls back to ``name``). Raises
        ValueError for another field, RekazError/TransportError as the call does."""
        if key != "branchId":
            raise ValueError(f"Rekaz lists no values for {key!r}")
        await self.open()
        out = []
        for branch in await self.client.listing("branches"):
            if not isinstance(branch, dict) or not branch.get("id"):
                continue
            name = str(branch.get("name") or branch["id"])
            labels = {"en": str(branch.get("nameEn") or name), "ar": str(branch.get("nameAr") or name)}
            out.append({"value": str(branch["id"]), "label": labels["en"], "labels": labels})
        return out

    async def _ready(self) -> None:
        await self.open()
        if not self.branch_id:
            await self.check()
        if self.names is None:
            await self._load_names()

    # reference data -------------------------------------------------------------------
    async def _load_names(self) -> tuple[list[dict], list[dict]]:
        products = await self.client.listing("products")
        providers = await self.client.listing("providers")
        self.names = mapping.NameIndex.build(products, providers, self.branch_id)
        self._names_at = time.monotonic()
        for product in products:
            for row in mapping.types_from_product(product) if product.get("id") else []:
                self._minutes[row["id"]] = row["minutes"]
        return products, providers

    async def pull_reference(self) -> Reference:
        """Booking types (products × pricing offered in the branch), resources (the
        providers serving them; hours unknown) and the customers the branch does not have
        yet: all of ``GET /customers`` (paged) is scanned at the first call and then every
        :data:`CUSTOMER_SCAN_EVERY` seconds (contract "Behaviour": at start and nightly);
        between scans new customers come with their reservations. Known customers are not
        sent again: Rekaz has no customer update, so the desk's edits stay local."""
        await self._ready()
        products, providers = await self._load_names()
        types, serves = [], {}
        for product in products:
            if not product.get("id") or not mapping.offered(product, self.branch_id):
                continue
            rows = mapping.types_from_product(product)
            types.extend(rows)
            for provider in product.get("productProviders") or []:
                if provider.get("id"):
                    serves.setdefault(str(provider["id"]), []).extend(r["id"] for r in rows)
        known = {str(p.get("id")): p for p in providers if p.get("id")}
        for product in products:  # a product may list a provider that /providers does not
            for provider in product.get("productProviders") or []:
                known.setdefault(str(provider.get("id")), provider)
        resources = [
            mapping.resource_from_provider(known[pid], sorted(set(tids)))
            for pid, tids in serves.items()
            if pid in known
        ]
        customers = []
        if self._customers_at is None or time.monotonic() - self._customers_at >= CUSTOMER_SCAN_EVERY:
            for obj in await self.client.all("customers"):
                if obj.get("id") and self.ctx.local_id("customer", str(obj["id"])):
                    continue  # known: Rekaz has no customer update, so desk edits stay local
                try:
                    customers.append(mapping.customer_from_cloud(obj))
                except mapping.MappingError as exc:
                    log.warning("Rekaz customer set aside: %s", exc)
            self._customers_at = time.monotonic()
        return Reference(
            resources=resources, types=types, customers=customers, hours_unknown=[r["id"] for r in resources]
        )

    # bookings in the domain's shape -------------------------------------------------------
    def booking(
        self,
        obj: dict,
        visits: dict[str, str] | None = None,
        created_at: str | None = None,
        own: bool = False,
    ) -> CloudBooking:
        """A reservation as a :class:`CloudBooking` (raises MappingError).

        Rekaz gives no creation time: a timed reservation the branch has not mapped yet gets
        ``createdAt`` = ``created_at`` or now (when it was first seen), so the engine's
        natural-key match of an unanswered create can take it; a mapped one leaves
        ``createdAt`` out (the local value stays), and so does the reply to this desk's own
        write (``own``). ``visits``: reservation id → the visit
        status an attendance made in Rekaz gives (with ``checkedInAt``/``endedAt`` = now)."""
        now = self.ctx.now()
        row, problems = mapping.booking_from_cloud(obj, self.names or mapping.NameIndex(), now)
        cloud_id = str(obj["id"])
        row["id"] = cloud_id
        if (
            "createdAt" not in row
            and not own
            and (created_at or self.ctx.local_id("booking", cloud_id) is None)
        ):
            row["createdAt"] = created_at or clock.to_iso(now)
        if visits and cloud_id in visits:
            row["visitStatus"] = visits[cloud_id]
            row["checkedInAt" if visits[cloud_id] == VisitStatus.CHECKED_IN else "endedAt"] = clock.to_iso(
                now
            )
        if problems:
            self.problems[cloud_id] = problems
        else:
            self.problems.pop(cloud_id, None)
        customer = None
        if obj.get("customerId"):
            key = (str(obj["customerId"]), obj.get("customerName"), obj.get("customerMobile"))
            customer = self._customers.get(key)
            if customer is None and (key[1] or key[2]):  # phone parsing is slow: once per customer
                customer = self._customers[key] = mapping.customer_from_cloud(
                    {"id": key[0], "name": key[1], "mobileNumber": key[2]}
                )
            customer = dict(customer) if customer else None
        raw = mapping.cloud_state(obj)
        notes = [
            {
                "code": p.code,
                "field": p.field,
                "reason": p.reason,
                "name": p.name,
                "candidates": list(p.candidates),
                "message": p.message(),
            }
            for p in problems
        ]
        if notes:
            raw["problems"] = notes
        return CloudBooking(
            cloud_id, row, customer=customer, raw=raw, problems=notes, money=mapping.money(obj)
        )

    def _bookings(
        self, objs: list[dict], visits: dict[str, str] | None = None
    ) -> tuple[list[CloudBooking], int]:
        out, set_aside = [], 0
        for obj in objs:
            try:
                out.append(self.booking(obj, visits))
            except mapping.MappingError as exc:
                log.warning("Rekaz reservation set aside: %s", exc)
                set_aside += 1
        return out, set_aside

    async def _maybe_reload_names(self, objs: list[dict]) -> bool:
        """Read the reference data again when a page names something unknown (at most every
        :data:`NAMES_RETRY` seconds); True when it was read."""
        if time.monotonic() - self._names_at < NAMES_RETRY or self.names is None:
            return False
        for obj in objs:
            try:
                _, problems = mapping.booking_from_cloud(obj, self.names)
            except mapping.MappingError:
                continue
            if any(p.reason == "unknown" for p in problems):
                await self._load_names()
                return True
        return False

    # pull ------------------------------------------------------------------------------
    def _windows(self, full: bool) -> list[tuple[str, str, str]]:
        today = clock.local_date(self.ctx.now(), self.ctx.zone)
        if full:
            start, _ = clock.local_day_bounds(today + timedelta(days=self.horizon_days[0]), self.ctx.zone)
            _, end = clock.local_day_bounds(today + timedelta(days=self.horizon_days[1]), self.ctx.zone)
            return [("horizon", clock.to_iso(start), clock.to_iso(end))]
        start, end = clock.local_day_bounds(today, self.ctx.zone)
        return [("day", clock.to_iso(start), clock.to_iso(end))]

    async def _recent_visits(self, state: dict) -> dict[str, str]:
        """Attendances made since the last pull (first page of ``GET /attendances``):
        ``{reservation id: visitStatus}`` of those whose newest kind changed."""
        data = await self.client.call("attendances", params={"skipCount": 0, "maxResultCount": 100})
        items = [i for i in (data or {}).get("items") or [] if isinstance(i, dict)]
        latest = mapping.visit_from_attendances(items)
        seen = state.get("visits") or {}
        changed = {}
        for ident, visit in latest.items():
            if seen.get(ident) == visit:
                continue
            sent = self._sent_visits.get(ident)
            if sent and mapping_visit(sent) == visit:
                continue  # our own check-in/out coming back
            changed[ident] = visit
        state["visits"] = latest
        self._sent_visits = {k: v for k, v in self._sent_visits.items() if k in latest}
        return changed

    async def pull(self, cursor: dict | None, *, full: bool) -> AsyncIterator[PullPage]:
        """The hot window (or, with ``full`` or on the first pull, the horizon), page by page.

        The cursor is ``{"listing": {name, start, end, skip} | None, "visits": {reservation
        id: visitStatus}, "queued": {reservation id: startAt}}``: a listing cut short resumes
        at its page. The engine sweeps a fully read window by ``startDateTime``; a queue
        booking has none locally, so the connector checks its own: a reservation listed as
        waiting in an earlier listing, inside this window and missing from it now (read from
        its first page), is fetched by id: gone (404) → in the page's ``deleted``; else its
        new state is in the page."""
        await self._ready()
        state = dict(cursor or {})
        visits = await self._recent_visits(state)
        listing = state.get("listing")
        windows = self._windows(full or cursor is None)
        if listing and listing.get("name") not in {w[0] for w in windows}:
            windows.insert(0, (listing["name"], listing["start"], listing["end"]))
        for name, start, end in windows:
            skip = int(listing["skip"]) if listing and listing.get("name") == name else 0
            restarted = skip == 0
            whole = restarted  # every page of this listing read in this run
            seen: set[str] = set()
            queued: dict[str, str] = {}
            params = {
                "dateMin": start,
                "dateMax": clock.to_iso(clock.from_iso(end) - timedelta(seconds=1)),
                "branchId": self.branch_id or None,
            }
            while True:
                data = await self.client.call(
                    "reservations", params={**params, "skipCount": skip, "maxResultCount": self.page_limit}
                )
                objs = [o for o in (data or {}).get("items") or [] if isinstance(o, dict)]
                total = int((data or {}).get("totalCount") or 0)
                await self._maybe_reload_names(objs)
                bookings, set_aside = self._bookings(objs, visits)
                for booking in bookings:
                    seen.add(booking.cloud_id)
                    if booking.row["status"] == Status.PENDING_ASSIGNMENT:
                        queued[booking.cloud_id] = booking.row["createdAt"]
                skip += len((data or {}).get("items") or [])
                last = not objs or skip >= total
                state["listing"] = None if last else {"name": name, "start": start, "end": end, "skip": skip}
                deleted: list[str] = []
                if last:
                    deleted = await self._check_queue(state, start, end, seen, queued, bookings, whole)
                done = [Window(name, "startDateTime", start, end)] if last else []
                yield PullPage(
                    bookings=bookings,
                    deleted=deleted,
                    cursor=dict(state),
                    window=name,
                    restarted=restarted,
                    windows_done=done,
                    set_aside=set_aside,
                )
                restarted = False
                if last:
                    break
            listing = None

    async def _check_queue(
        self,
        state: dict,
        start: str,
        end: str,
        seen: set[str],
        queued: dict[str, str],
        bookings: list[CloudBooking],
        whole: bool,
    ) -> list[str]:
        """Queue bookings listed before inside ``[start, end)`` and missing now: fetched by id
        (their new state joins ``bookings``); returns the ids that are gone (404)."""
        before = dict(state.get("queued") or {})
        inside = {i: at for i, at in before.items() if at and start <= at < end}
        deleted = []
        if whole:
            for ident in inside:
                if ident in seen:
                    continue
                current = await self.fetch(ident)
                if current is None:
                    deleted.append(ident)
                else:
                    bookings.append(current)
                    if current.row["status"] == Status.PENDING_ASSIGNMENT:
                        queued[ident] = current.row["createdAt"]
        kept = {i: at for i, at in before.items() if i not in inside or (not whole and i not in seen)}
        state["queued"] = {**kept, **queued}
        return deleted

    async def fetch(self, cloud_id: str) -> CloudBooking | None:
        """``GET /reservations/{id}``; None on 404 (deleted in Rekaz)."""
        await self._ready()
        try:
            obj = await self.client.call("reservation", ids={"id": cloud_id})
        except RekazError as exc:
            if exc.kind == "not_found":
                return None
            raise
        return self.booking(obj)

    # push ------------------------------------------------------------------------------
    def plan(self, action: Action, before: dict | None, after: dict) -> list[PlannedOp]:
        """The Rekaz operation of a desk change (contract "Desk operations on Rekaz"):
        create (creates a reservation), confirm, reschedule (same id; a change of booking
        type is cancel + create, a new id), cancel, accept (assign a provider), end (end
        early + check-out), check-in (and a start straight from "not arrived", which checks
        in), restore (a cancel taken back: Rekaz has no un-cancel, so the reservation is
        booked again, a new id). In progress, no-show, undoing a check-in or an end, holds
        and expiry stay local."""
        if action == Action.START and before is not None and not before.get("visitStatus"):
            return [PlannedOp("check_in", fields=("visitStatus",))]
        kind = ACTIONS.get(action)
        if kind is None:
            return []
        if kind == "reschedule" and before is not None and before.get("typeId") != after.get("typeId"):
            return [PlannedOp("change_service", creates=True)]
        if kind in ("create", "restore"):
            return [PlannedOp(kind, creates=True)]
        if kind in ("check_in", "end"):
            return [PlannedOp(kind, fields=("visitStatus",) if kind == "check_in" else None)]
        return [PlannedOp(kind)]

    async def send(self, op: Operation) -> SendResult:
        await self._ready()
        handler = getattr(self, f"_send_{op.action}", None)
        if handler is None:
            raise RekazError(400, "ValidationError", f"the Rekaz connector has no operation {op.action!r}")
        return await handler(op)

    # helpers of push
    def _cloud(self, entity: str, local_id: str | None) -> str | None:
        return self.ctx.cloud_id(entity, local_id) if local_id else None

    def _reservation_id(self, op: Operation) -> str:
        ident = (op.steps or {}).get("reservationId") or self._cloud("booking", op.booking_id)
        if not ident:
            raise NotReady(f"booking {op.booking_id} has no Rekaz reservation")
        return ident

    async def _get(self, reservation_id: str) -> dict:
        return await self.client.call("reservation", ids={"id": reservation_id})

    async def _result(
        self, reservation_id: str, replaces: str | None = None, extra: dict | None = None
    ) -> SendResult:
        booking = self.booking(await self._get(reservation_id), own=True)
        if extra:
            booking.raw = {**(booking.raw or {}), **extra}
            link = mapping.payment_link(extra.get("paymentLink"))
            if link:  # the create reply's payment page (contract "Create body"); the listing has none
                booking.row["paymentLink"] = link
        return SendResult(booking=booking, replaces=replaces)

    async def _customer_id(self, op: Operation, local_customer: str | None) -> str:
        """The Rekaz id of the booking's customer, created first when new (``POST
        /customers``); after a lost reply, the customer with the same mobile is adopted."""
        known = self._cloud("customer", local_customer) or (op.steps or {}).get("customerId")
        if known:
            return known
        row = self.ctx.customer(local_customer) if local_customer else None
        if not row:
            raise NotReady(f"booking {op.booking_id} has no customer")
        steps = dict(op.steps or {})
        if steps.get("customerRequested"):
            found = await lookups.find_customer(self.client, row.get("phone"))
            if found:
                steps["customerId"] = str(found["id"])
                await self.ctx.save_steps(op, steps)
                op.steps = steps
                return steps["customerId"]
        steps["customerRequested"] = True
        await self.ctx.save_steps(op, steps)
        op.steps = steps
        created = await self.client.call(
            "create_customer", body=mapping.customer_to_cloud(row, self.branch_id)
        )
        steps["customerId"] = str(created)
        await self.ctx.save_steps(op, steps)
        op.steps = steps
        return steps["customerId"]

    def _item(self, after: dict) -> tuple[str, str | None, int]:
        price_id = self._cloud("type", after.get("typeId"))
        if not price_id:
            raise NotReady(f"booking type {after.get('typeId')} is not a Rekaz price")
        provider_id = self._cloud("resource", after.get("resourceId"))
        if after.get("resourceId") and not provider_id:
            raise NotReady(f"resource {after.get('resourceId')} is not a Rekaz provider")
        minutes = int(after.get("duration") or self._minutes.get(price_id) or mapping.DEFAULT_MINUTES)
        return price_id, provider_id, minutes

    async def _create(self, op: Operation, after: dict) -> tuple[str, dict]:
        """Customer first when new, then ``POST /reservations/bulk`` with one item; a
        ``Pending`` result of a confirmed desk booking is confirmed. Returns (reservation
        id, ``{invoiceId, paymentLink}``)."""
        steps = dict(op.steps or {})
        if steps.get("reservationId") and steps.get("body"):  # created; a later step failed
            return steps["reservationId"], {k: steps.get(k) for k in ("invoiceId", "paymentLink")}
        customer_id = await self._customer_id(op, after.get("customerId"))
        price_id, provider_id, minutes = self._item(after)
        steps = dict(op.steps or {})
        body = steps.get("body")
        if body is None:
            start = clock.from_iso(after.get("startDateTime")) or self.ctx.now().replace(microsecond=0)
            body = mapping.create_body(
                customer_id=customer_id,
                branch_id=self.branch_id,
                price_id=price_id,
                start=start,
                minutes=minutes,
                provider_id=provider_id,
            )
            steps["body"] = body
            await self.ctx.save_steps(op, steps)
            op.steps = steps
        elif steps.get("createRequested"):
            found = await self._find_created(body, op.booking_id)
            if found:
                return str(found[0]["id"]), {}
        steps["createRequested"] = True
        await self.ctx.save_steps(op, steps)
        op.steps = steps
        await self.ctx.mark_requested(op)
        reply = await self.client.call("create", body=body)
        ident = str((reply.get("reservationIds") or [None])[0])
        extra = {"invoiceId": reply.get("invoiceId"), "paymentLink": reply.get("paymentLink")}
        steps.update(reservationId=ident, **extra)
        await self.ctx.save_steps(op, steps)
        op.steps = steps
        return ident, extra

    async def _find_created(self, body: dict, own: str | None = None) -> list[dict]:
        """The reservations matching a saved create body, without those another local
        booking than ``own`` already holds."""
        item = body["items"][0]
        exclude = set()
        rows = await lookups.find_reservations(
            self.client,
            self.names,
            customer_id=body["customerId"],
            branch_id=body["branchId"],
            start=item["from"],
            end=item["to"],
            price_id=item["priceId"],
            provider_id=(item.get("providerIds") or [None])[0],
        )
        for row in rows:
            if self.ctx.local_id("booking", str(row["id"])) not in (None, own):
                exclude.add(str(row["id"]))
        return [r for r in rows if str(r["id"]) not in exclude]

    async def _confirm_if_pending(self, reservation_id: str, after: dict) -> None:
        if after.get("status") in (Status.CONFIRMED, Status.PENDING_ASSIGNMENT):
            current = await self._get(reservation_id)
            if mapping.status_key(current.get("status")) == "pending":
                await self.client.call("confirm", ids={"id": reservation_id})

    async def _send_create(self, op: Operation) -> SendResult:
        after = op.payload["after"]
        ident, extra = await self._create(op, after)
        await self._confirm_if_pending(ident, after)
        return await self._result(ident, extra=extra)

    async def _send_confirm(self, op: Operation) -> SendResult:
        ident = self._reservation_id(op)
        await self.client.call("confirm", ids={"id": ident})
        return await self._result(ident)

    async def _current_start(self, ident: str) -> str:
        """The reservation's ``startAt`` now (contract "Behaviour": re-read before a
        provider-only or end-only PUT, so a move made in Rekaz is not undone)."""
        return (await self._get(ident))["startAt"]

    async def _send_reschedule(self, op: Operation) -> SendResult:
        before, after = op.payload.get("before") or {}, op.payload["after"]
        ident = self._reservation_id(op)
        providers = None
        if after.get("resourceId") != before.get("resourceId"):
            provider = self._cloud("resource", after.get("resourceId"))
            providers = [provider] if provider else []
        await self.client.call(
            "update",
            ids={"id": ident},
            body=mapping.update_body(
                after["startDateTime"], end=after.get("endDateTime"), provider_ids=providers
            ),
        )
        return await self._result(ident)

    async def _send_cancel(self, op: Operation) -> SendResult:
        """``PUT …/cancel`` with the reason; a re-sent cancel answered by
        ``BusinessLogicError`` is done when the reservation reads as cancelled."""
        ident = self._reservation_id(op)
        reason = op.payload["after"].get("cancelReason") or ""
        try:
            await self.client.call(
                "cancel", ids={"id": ident}, body={"cancellationReason": reason, "notifyCustomer": True}
            )
        except RekazError as exc:
            if not exc.is_code(BUSINESS) or not mapping.is_cancelled(await self._get(ident)):
                raise
        return await self._result(ident)

    async def _send_assign(self, op: Operation) -> SendResult:
        """Accept as read-check-write-check (contract "Behaviour": accept race): GET; if a
        provider other than the acceptor holds it, the accept is lost; else PUT the provider
        with the desk's accepted start and end (the current ``startAt`` when the desk has
        none); GET again; anything but exactly the acceptor is lost (:class:`AcceptLost`,
        refused with ``SCH-ALREADY_ASSIGNED``)."""
        after = op.payload["after"]
        ident = self._reservation_id(op)
        provider = self._cloud("resource", after.get("resourceId"))
        if not provider:
            raise NotReady(f"resource {after.get('resourceId')} is not a Rekaz provider")
        current = await self._get(ident)
        names = [p for p in current.get("providers") or [] if str(p).strip()]
        mine = [self.names.provider(p)[0] for p in names] if self.names else []
        if names and mine != [provider]:
            raise AcceptLost(names)
        if not names:
            # the desk's accept starts the visit now (its start and end); a provider-only PUT
            # keeps the current startAt: the walk-in's arrival, when the provider may have been
            # busy with someone else, which Rekaz refuses as a double booking
            start = after.get("startDateTime") or current["startAt"]
            end = after.get("endDateTime") if after.get("startDateTime") else None
            await self.client.call(
                "update", ids={"id": ident}, body=mapping.update_body(start, end=end, provider_ids=[provider])
            )
            current = await self._get(ident)
            names = [p for p in current.get("providers") or [] if str(p).strip()]
            if [self.names.provider(p)[0] for p in names] != [provider]:
                raise AcceptLost(names)
        await self._confirm_if_pending(ident, after)
        return await self._result(ident)

    async def _attend(self, op: Operation, ident: str, customer: str, kind: str) -> None:
        """``POST /attendances`` once: after a lost reply the attendances of the customer
        are read first (contract "Behaviour": lost reply on an attendance)."""
        steps = dict(op.steps or {})
        key = f"attend:{kind}"
        if steps.get(key) == "done":
            return
        if steps.get(key) == "requested":
            kinds = await lookups.attendance_state(self.client, customer, ident)
            if kinds and kinds[-1] == kind or (kind == mapping.CHECK_IN and mapping.CHECK_IN in kinds):
                steps[key] = "done"
                await self.ctx.save_steps(op, steps)
                op.steps = steps
                return
        steps[key] = "requested"
        await self.ctx.save_steps(op, steps)
        op.steps = steps
        self._sent_visits[ident] = kind
        try:
            await self.client.call("attend", body=mapping.attendance_body(kind, customer, ident))
        except RekazError as exc:
            kinds = (
                await lookups.attendance_state(self.client, customer, ident) if exc.is_code(BUSINESS) else []
            )
            if not kinds or kinds[-1] != kind:
                raise
        steps[key] = "done"
        await self.ctx.save_steps(op, steps)
        op.steps = steps

    async def _send_check_in(self, op: Operation) -> SendResult:
        ident = self._reservation_id(op)
        current = await self._get(ident)
        await self._attend(op, ident, str(current["customerId"]), mapping.CHECK_IN)
        return SendResult(booking=None)

    async def _send_end(self, op: Operation) -> SendResult:
        """End early: ``PUT`` the end only (with the current ``startAt``) when the desk
        shortened the booking, then check out (checking in first when Rekaz has no
        check-in for it)."""
        before, after = op.payload.get("before") or {}, op.payload["after"]
        ident = self._reservation_id(op)
        current = await self._get(ident)
        steps = dict(op.steps or {})
        if (
            after.get("endDateTime")
            and after.get("endDateTime") != before.get("endDateTime")
            and not steps.get("ended")
        ):
            await self.client.call(
                "update",
                ids={"id": ident},
                body=mapping.update_body(current["startAt"], end=after["endDateTime"]),
            )
            steps["ended"] = True
            await self.ctx.save_steps(op, steps)
            op.steps = steps
        customer = str(current["customerId"])
        kinds = await lookups.attendance_state(self.client, customer, ident)
        if not kinds or kinds[-1] != mapping.CHECK_IN:
            if kinds and kinds[-1] == mapping.CHECK_OUT:
                return await self._result(ident)
            await self._attend(op, ident, customer, mapping.CHECK_IN)
        await self._attend(op, ident, customer, mapping.CHECK_OUT)
        return await self._result(ident)

    async def _send_change_service(self, op: Operation) -> SendResult:
        """A change of booking type: the PUT takes only times and providers, so the old
        reservation is cancelled and a new one created (a new id, mapped old → new)."""
        old = self._reservation_id(op) if not (op.steps or {}).get("oldId") else op.steps["oldId"]
        steps = dict(op.steps or {})
        if not steps.get("oldId"):
            steps["oldId"] = old
            await self.ctx.save_steps(op, steps)
            op.steps = steps
        if not steps.get("cancelled"):
            try:
                await self.client.call(
                    "cancel",
                    ids={"id": old},
                    body={"cancellationReason": "service changed at the desk", "notifyCustomer": False},
                )
            except RekazError as exc:
                if not exc.is_code(BUSINESS) or not mapping.is_cancelled(await self._get(old)):
                    raise
            steps["cancelled"] = True
            await self.ctx.save_steps(op, steps)
            op.steps = steps
        after = op.payload["after"]
        ident, extra = await self._create(op, after)
        await self._confirm_if_pending(ident, after)
        return await self._result(ident, replaces=old, extra=extra)

    async def _send_restore(self, op: Operation) -> SendResult:
        """A cancel taken back at the desk: the cancelled reservation stays cancelled in
        Rekaz (no un-cancel) and the same visit is booked again; the booking follows the
        new id (mapped old → new)."""
        old = (op.steps or {}).get("oldId") or self._cloud("booking", op.booking_id)
        if old and not (op.steps or {}).get("oldId"):
            await self.ctx.save_steps(op, {**(op.steps or {}), "oldId": old})
            op.steps = {**(op.steps or {}), "oldId": old}
        after = op.payload["after"]
        ident, extra = await self._create(op, after)
        await self._confirm_if_pending(ident, after)
        return await self._result(ident, replaces=old, extra=extra)

    async def find_sent(self, op: Operation) -> list[CloudBooking]:
        """What an unanswered create may have made: the reservations matching the saved
        create body (customer, branch, ``from``, ``to``, price, provider)."""
        await self._ready()
        body = (op.steps or {}).get("body")
        if not body:
            return []
        out = []
        for obj in await self._find_created(body, op.booking_id):  # matched on the whole natural key here
            try:
                out.append(self.booking(obj, created_at=op.requested_at))
            except mapping.MappingError as exc:
                log.warning("Rekaz reservation set aside: %s", exc)
        return out

    def classify(self, error: BaseException) -> Failure | None:
        if isinstance(error, TransportError):
            return Failure(FailureKind.TRANSIENT, "NO-ANSWER", str(error))
        if isinstance(error, AcceptLost):
            return Failure(FailureKind.REFUSED, errors.ALREADY_ASSIGNED, str(error), status=409)
        if isinstance(error, NotReady):
            return Failure(FailureKind.REFUSED, "REKAZ-NOT-MAPPED", str(error))
        if isinstance(error, RekazError):
            kind = {
                "transient": FailureKind.TRANSIENT,
                "auth": FailureKind.AUTH,
                "not_found": FailureKind.NOT_FOUND,
            }.get(error.kind, FailureKind.REFUSED)
            return Failure(
                kind, error.code or f"HTTP-{error.status}", error.message, error.retry_after, error.status
            )
        return None


def mapping_visit(kind: str) -> str:
    """An attendance kind → the visit status it gives."""
    return str(VisitStatus.CHECKED_IN if kind == mapping.CHECK_IN else VisitStatus.COMPLETED)


def make(
    config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
) -> RekazConnector:
    """The factory of :data:`CONNECTOR` (``options``: ``page_limit``, ``horizon_days``)."""
    return RekazConnector(config, ctx, transport=transport, options=options)


CONNECTOR = ConnectorInfo(
    name=NAME,
    title=N_("Rekaz"),
    capabilities=CAPABILITIES,
    fields=(
        ConfigField(
            "baseUrl",
            N_("API address"),
            kind="url",
            default=DEFAULT_URL,
            help=N_("The Rekaz public API, e.g. https://platform.rekaz.io/api/public"),
        ),
        ConfigField("account", N_("Tenant ID"), help=N_("The __tenant value Rekaz gave with the key")),
        ConfigField(
            "secret",
            N_("API key"),
            kind="secret",
            help=N_("The key exactly as Rekaz issued it (sent after Basic)"),
        ),
        ConfigField(
            "branchId",
            N_("Rekaz branch"),
            required=False,
            cli="rekaz-branch",
            listed=True,
            help=N_(
                "One desk branch is one Rekaz branch. Leave it empty when the key sees one "
                "branch; otherwise connecting lists the branches the key can see."
            ),
        ),
    ),
    factory=make,
    synced_fields=SYNCED_FIELDS,
    auth_kinds=(("apiKey", N_("API key")),),
    default_url=DEFAULT_URL,
)
