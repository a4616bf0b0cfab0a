"""Ehjzny behind the connector interface (:mod:`app.sync.connector`;
contract ``docs/clouds/ehjzny.md``, Ehjzny API reference).

Push (contract "Operations", "Behaviour"):

* create / hold / restore → ``PUT /management/scheduling/new`` (a hold: ``…/temporary``
  with ``reservedForMinutes``); the desk's resource goes as ``resourceFilters``; the
  customer as ``customerIdentifier`` (its cloud id, else phone, else email).
* reschedule → ``scheduling/new`` with ``rescheduleBookingId``: a NEW cloud booking, the
  old one ``CANCELED`` (contract "Reschedule replies").
* accept → ``bookings/assign``; cancel → ``bookings/cancel`` (a reason is required);
  end → ``bookings/end``; confirm (a hold) → ``scheduling/confirm``; a time-rule edit →
  ``PUT /management/resources/{id}/timeRules`` in the contract's shape.
* No idempotency key: after a lost reply :meth:`EhjznyConnector.find_sent` lists the
  customer's bookings created since the request − 1 min (``GET /management/bookings?
  customerId=&dateType=createdAt&from=``); a reschedule first reads the old booking
  (still active → nothing was made; ``CANCELED`` → look for the new one).

Pull (contract: no changed-since filter, no deleted feed → :attr:`PullMode.WINDOWS`):
windows of ``GET /management/bookings``, each listed to the end page by page:

* ``day`` and ``queues`` every pull: bookings starting on the branch-local today, and
  bookings created since today's start − 3 h (queue bookings have no start);
* ``horizon`` (``full`` pulls): bookings starting ``horizon_days[0]`` to
  ``horizon_days[1]`` days around today;
* ``created`` every pull: bookings created since the last pull (newest ``createdAt`` seen
  − 2 min), for bookings far ahead.

``day``, ``queues`` and ``horizon`` are swept by the engine once fully read. The cursor:
``{"createdSince": UTC ISO, "windows": {name: {"params", "token"} | {"done": True}}}``;
an interrupted listing resumes with its own filters, an expired page token restarts it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from app.domain import clock, timerules
from app.domain.actions import cloud_operations
from app.domain.errors import ALREADY_ASSIGNED
from app.domain.model import Action, Status
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
    SignInResult,
    SignInStep,
    Window,
)
from app.sync.ehjzny import mapping
from app.sync.ehjzny.client import CloudError, EhjznyClient, TransportError

log = logging.getLogger(__name__)
NAME = "ehjzny"
#: queue bookings wait at most this long (contract: assignmentTimeout is clamped to 5..180 minutes)
MAX_QUEUE_MINUTES = 180
#: how far before the request a created booking may carry its ``createdAt`` (contract:
#: "from=<request time - 1 min>")
LOOKUP_MARGIN = timedelta(minutes=1)
#: the windows whose full listing says which bookings are gone (the others only add)
SWEPT_WINDOWS = ("day", "queues", "horizon")
#: booking fields the cloud owns (a pull writes only these)
SYNCED_FIELDS = tuple(f for f in mapping.CLOUD_BOOKING_FIELDS if f != "updatedAt")

CAPABILITIES = Capabilities(
    pull_mode=PullMode.WINDOWS,
    queue=True,
    walk_ins=True,
    end_early=True,
    holds=True,
    approve=False,
    attendances=False,
    visit_status_push=False,
    payments=False,
    reschedule_new_id=True,
    customer_write=False,
    time_rules_write=True,
    restore=True,
    deleted_feed=False,
    payments_down=True,
)

#: the booking service's action → the cloud operation; the others (check-in, start,
#: no-show, expire) are the desk's own or happen in the cloud by itself
#: desk action → Ehjzny operation (the ``cloud`` column of :data:`app.domain.actions.ACTIONS`)
ACTIONS = cloud_operations()
CREATING = frozenset({"create", "hold", "reschedule", "restore"})


def classify(error: BaseException) -> Failure | None:
    """Contract "Transport" → Errors: no answer, 5xx, 429 → transient (``Retry-After``);
    401 → auth; 404 → not found; an expired page token → cursor expired; any other 4xx →
    refused with the cloud's code and message."""
    if isinstance(error, TransportError):
        return Failure(FailureKind.TRANSIENT, "NETWORK", str(error))
    if not isinstance(error, CloudError):
        return None
    if error.transient:
        return Failure(FailureKind.TRANSIENT, error.code, error.message, error.retry_after, error.status)
    if error.page_token_expired:
        return Failure(FailureKind.CURSOR_EXPIRED, error.code, error.message, None, error.status)
    if error.status == 401:
        return Failure(FailureKind.AUTH, error.code, error.message, error.retry_after, error.status)
    if error.status == 404:
        return Failure(FailureKind.NOT_FOUND, error.code, error.message, None, error.status)
    return Failure(FailureKind.REFUSED, error.code, error.message, None, error.status)


def plan(action: Action, before: dict | None, after: dict) -> list[PlannedOp]:
    """The cloud operations of a desk change (:data:`ACTIONS`; ``[]``: the desk's own)."""
    kind = ACTIONS.get(action)
    if kind is None:
        return []
    if kind == "time_rules":
        return [PlannedOp("time_rules", ())]
    return [PlannedOp(kind, None, kind in CREATING)]


class EhjznyConnector:
    """One Ehjzny account (:class:`~app.sync.connector.Connector`). ``options``:
    ``page_limit`` (items per page, 500), ``horizon_days`` ((first, last) days around today,
    branch-local; (-1, 30))."""

    name = NAME
    capabilities = CAPABILITIES
    #: a page is read without the store (only the zone and the clock), so the engine may
    #: fetch the next one while this one is applied (:attr:`Connector.read_ahead`)
    read_ahead = True

    def __init__(
        self, config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
    ):
        self.config, self.ctx, self.transport = config, ctx, transport
        options = options or {}
        self.page_limit = int(options.get("page_limit") or 500)
        self.horizon_days = tuple(options.get("horizon_days") or (-1, 30))
        self.client: EhjznyClient | None = None
        self._access_token: str | None = None

    # connection ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is None:
            self.client = EhjznyClient(
                self.config.base_url,
                self.config.account,
                self._token,
                on_unauthorized=self._refresh,
                transport=self.transport,
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def _token(self) -> str:
        if self.config.auth != "otp":
            return self.config.secret or ""
        if self._access_token is None:
            tokens = await self.client.call("token", params={"refreshToken": self.config.secret}, auth=False)
            self._access_token = tokens["accessToken"]
            if tokens.get("refreshToken") and tokens["refreshToken"] != self.config.secret:
                self.config.secret = tokens["refreshToken"]  # rotated: keep it where the old one was
                await self.ctx.save_secret(self.config.secret)
        return self._access_token

    async def _refresh(self) -> None:
        self._access_token = None

    async def check(self) -> None:
        """One authenticated call (a page of one resource)."""
        await self.open()
        await self.client.call("resources", params={"limit": 1})

    def classify(self, error: BaseException) -> Failure | None:
        return classify(error)

    # reading ------------------------------------------------------------------------------
    def _booking(
        self, obj: dict, zone: str | None = None, customers: dict | None = None
    ) -> CloudBooking | None:
        """A payload → :class:`CloudBooking`; None (logged) when it cannot be read.
        ``zone``: the branch's (default: asked of the context); ``customers``: embedded
        customers read so far in this page (cloud id → (payload, row)), so each is read once."""
        try:
            row = mapping.booking_from_cloud(obj, zone or self.ctx.zone)
        except mapping.MappingError as exc:
            log.warning("booking set aside: %s", exc)
            return None
        customer = None
        embedded = obj.get("customer")
        if isinstance(embedded, dict) and embedded.get("id"):
            key = str(embedded["id"])
            seen = customers.get(key) if customers is not None else None
            if seen is not None and seen[0] == embedded:
                customer = seen[1]
            else:
                try:
                    customer = mapping.customer_from_cloud(embedded, key)
                except mapping.MappingError:
                    customer = None
                if customers is not None:
                    customers[key] = (embedded, customer)
        cloud_id = str(obj["id"])
        return CloudBooking(
            cloud_id,
            {"id": cloud_id, **row},
            customer,
            str(obj["rescheduledTo"]) if obj.get("rescheduledTo") else None,
            obj,
            money=mapping.money(obj),
        )

    def _bookings(
        self, objs: list[dict], zone: str | None = None, customers: dict | None = None
    ) -> tuple[list[CloudBooking], int]:
        """Payloads → (the bookings read, how many were set aside as malformed, logged);
        ``customers``: as :meth:`_booking`'s, kept across the pages of one pull."""
        zone, customers = zone or self.ctx.zone, {} if customers is None else customers
        out = [b for b in (self._booking(o, zone, customers) for o in objs) if b is not None]
        return out, len(objs) - len(out)

    async def fetch(self, cloud_id: str) -> CloudBooking | None:
        try:
            obj = await self.client.call("booking", ids={"id": cloud_id})
        except CloudError as exc:
            if exc.status == 404:
                return None
            raise
        return self._booking(obj)

    async def pull_reference(self) -> Reference:
        """Resources (each with its time rules), booking types, customers. Time rules in a
        shape that cannot be read (or refused) are "hours unknown", never a closed clinic."""
        resources = await self.client.all("resources", limit=self.page_limit)
        out = Reference()
        for obj in resources:
            try:
                raw = await self.client.call("time_rules", ids={"id": obj["id"]})
            except CloudError as exc:
                if exc.transient:
                    raise
                raw = timerules.unknown(f"{exc.code}: {exc.message}")
            rules = mapping.time_rules_from_cloud(raw)
            try:
                row = mapping.resource_from_cloud(obj, time_rules=rules)
            except mapping.MappingError as exc:
                log.warning("resource set aside: %s", exc)
                continue
            if timerules.is_unknown(rules):
                out.hours_unknown.append(row["id"])
                log.warning(
                    "sync: working hours of resource %s cannot be read (%s): hours unknown",
                    row["id"],
                    rules["reason"],
                )
            out.resources.append(row)
        for obj in await self.client.all("types", limit=self.page_limit):
            try:
                out.types.append(mapping.type_from_cloud(obj))
            except mapping.MappingError as exc:
                log.warning("booking type set aside: %s", exc)
        for obj in await self.client.all("customers", limit=self.page_limit):
            try:
                out.customers.append(mapping.customer_from_cloud(obj, str(obj.get("id") or "")))
            except mapping.MappingError as exc:
                log.warning("customer set aside: %s", exc)
        return out

    def windows(self, cursor: dict | None, full: bool) -> dict[str, dict]:
        """The listings of one pull: name → query parameters (contract "list bookings")."""
        zone = self.ctx.zone
        today = clock.local_date(self.ctx.now(), zone)
        day_start, day_end = clock.local_day_bounds(today, zone)
        base = {"orderDirection": "asc", "includes": "customer"}
        out = {
            "day": {
                **base,
                "dateType": "dateTime",
                "from": clock.to_iso(day_start),
                "to": clock.to_iso(day_end),
            },
            "queues": {
                **base,
                "dateType": "createdAt",
                "from": clock.to_iso(day_start - timedelta(minutes=MAX_QUEUE_MINUTES)),
            },
        }
        since = (cursor or {}).get("createdSince")
        if since:
            out["created"] = {**base, "dateType": "createdAt", "from": since}
        if full or not since:
            first = clock.local_day_bounds(today + timedelta(days=self.horizon_days[0]), zone)[0]
            last = clock.local_day_bounds(today + timedelta(days=self.horizon_days[1]), zone)[1]
            out["horizon"] = {
                **base,
                "dateType": "dateTime",
                "from": clock.to_iso(first),
                "to": clock.to_iso(last),
            }
        return out

    async def pull(self, cursor: dict | None, *, full: bool) -> AsyncIterator[PullPage]:
        state = {
            "createdSince": (cursor or {}).get("createdSince"),
            "windows": dict((cursor or {}).get("windows") or {}),
        }
        started = self.ctx.now()
        customers: dict = {}  # the embedded customers read in this pull (each read once)
        for name, params in self.windows(state, full).items():
            async for page in self._window(name, params, state, customers):
                yield page
        if not state.get("createdSince") or full:
            state["createdSince"] = clock.to_iso(started - timedelta(minutes=2))
        yield PullPage(cursor=_copy(state))

    async def _window(self, name: str, params: dict, state: dict, customers: dict) -> AsyncIterator[PullPage]:
        """One window listed to its end, a page at a time (each with the whole cursor)."""
        saved = state["windows"].get(name) or {}
        restarted = True
        if saved.get("token") and saved.get("params", {}).get("dateType") == params["dateType"]:
            params, restarted = saved["params"], False  # resume an interrupted listing with its own filters
        token = saved.get("token") if not restarted else None
        sweep = name in SWEPT_WINDOWS
        restarts = 0
        while True:
            try:
                page = await self.client.call(
                    "bookings",
                    params={**params, "limit": self.page_limit, "nextPageToken": token},
                    envelope=True,
                )
            except CloudError as exc:
                if exc.page_token_expired and restarts < 2:
                    restarts, token, restarted = restarts + 1, None, True
                    continue
                raise
            items = list(page.get("result") or [])
            pagination = page.get("pagination") or {}
            token = pagination.get("nextPageToken") if pagination.get("hasMore", True) else None
            state["windows"][name] = {"params": params, "token": token} if token else {"done": True}
            if name == "created" and items:
                newest = max(str(i.get("createdAt") or "") for i in items)
                since = clock.from_iso(newest) - timedelta(minutes=2)
                if since > clock.from_iso(params["from"]):
                    state["createdSince"] = clock.to_iso(since)
            # read off the loop (one page, at most ``page_limit`` payloads): desks are served meanwhile
            off_loop = getattr(self.ctx, "off_loop", None) or asyncio.to_thread
            bookings, set_aside = await off_loop(self._bookings, items, self.ctx.zone, customers)
            done = []
            if sweep and not token:
                column = "startDateTime" if params["dateType"] == "dateTime" else "createdAt"
                done.append(
                    Window(
                        name,
                        column,
                        clock.to_iso(clock.from_iso(params["from"])),
                        clock.to_iso(clock.from_iso(params["to"])) if params.get("to") else None,
                    )
                )
            yield PullPage(
                bookings=bookings,
                cursor=_copy(state),
                window=name if sweep else None,
                restarted=restarted and sweep,
                windows_done=done,
                set_aside=set_aside,
            )
            restarted = False
            if not token:
                return

    # writing ------------------------------------------------------------------------------
    def plan(self, action: Action, before: dict | None, after: dict) -> list[PlannedOp]:
        return plan(action, before, after)

    def _customer_identifier(self, local_customer_id: str) -> dict:
        cloud = self.ctx.cloud_id("customer", local_customer_id)
        if cloud:
            return {"id": cloud}
        customer = self.ctx.customer(local_customer_id) or {}
        return {"phone": customer["phone"]} if customer.get("phone") else {"email": customer.get("email")}

    def _create_body(self, desk: dict, reschedule: str | None = None) -> dict:
        type_id = self.ctx.cloud_id("type", desk["typeId"]) or desk["typeId"]
        resource = desk.get("resourceId")
        resource = (self.ctx.cloud_id("resource", resource) or resource) if resource else None
        return mapping.booking_to_cloud(
            desk,
            self.ctx.zone,
            type_id,
            resource,
            self._customer_identifier(desk["customerId"]),
            reschedule_booking_id=reschedule,
        )

    async def send(self, op: Operation) -> SendResult:
        action, after = op.action, op.payload.get("after") or {}
        if action == "time_rules":
            resource = op.payload["resourceId"]
            body = mapping.time_rules_to_cloud(after)
            await self.client.call(
                "put_time_rules", ids={"id": self.ctx.cloud_id("resource", resource) or resource}, body=body
            )
            return SendResult()
        cloud_id = self.ctx.cloud_id("booking", op.booking_id)
        if action in ("create", "hold", "restore"):
            body = self._create_body(after)
            if action == "hold":  # Ehjzny API reference, "Create Temporary Booking"
                held = clock.from_iso(after.get("heldUntil"))
                body["reservedForMinutes"] = (
                    max(1, int(((held - self.ctx.now()).total_seconds() + 59) // 60)) if held else 15
                )
            await self.ctx.mark_requested(op)
            obj = await self.client.call("schedule_temporary" if action == "hold" else "schedule", body=body)
            return SendResult(self._booking(obj))
        if action == "reschedule":
            body = self._create_body(after, reschedule=cloud_id)
            await self.ctx.mark_requested(op)
            obj = await self.client.call("schedule", body=body)
            return SendResult(self._booking(obj), replaces=cloud_id)
        await self.ctx.mark_requested(op)
        if action == "assign":
            resource = after["resourceId"]
            resource = self.ctx.cloud_id("resource", resource) or resource
            try:
                obj = await self.client.call("assign", body={"bookingId": cloud_id, "resourceId": resource})
            except CloudError as exc:
                if exc.code != ALREADY_ASSIGNED or op.attempts == 0:
                    raise
                obj = await self.client.call("booking", ids={"id": cloud_id})
                if obj.get("resourceId") != resource:  # not our earlier, unanswered attempt
                    raise
        elif action == "cancel":
            reason = after.get("cancelReason") or "canceled at the desk"
            obj = await self.client.call("cancel", body={"bookingId": cloud_id, "reason": reason})
        elif action == "end":
            obj = await self.client.call("end", body={"bookingId": cloud_id})
        elif action == "confirm":  # Ehjzny API reference, "Convert Temporary Booking into Confirmed Booking"
            obj = await self.client.call("confirm", body={"bookingId": cloud_id})
        else:
            raise ValueError(f"unknown outbox action {action!r}")
        return SendResult(self._booking(obj) if obj else None)

    async def find_sent(self, op: Operation) -> list[CloudBooking]:
        """A reschedule reads the old booking first (contract "Reschedule replies"): still
        active → nothing was made (``[]``); a ``rescheduledTo`` (not a API reference field: used when
        a deployment sends it) → that booking; ``CANCELED`` → the customer's bookings
        created since the request − 1 min, like a create."""
        if op.action == "reschedule":
            cloud_id = self.ctx.cloud_id("booking", op.booking_id)
            if cloud_id:
                old = await self.client.call("booking", ids={"id": cloud_id})
                if old.get("rescheduledTo"):
                    found = await self.fetch(str(old["rescheduledTo"]))
                    return [found] if found else []
                if old.get("status") != Status.CANCELED:
                    return []
        desk = op.payload["after"]
        since = clock.from_iso(op.requested_at) - LOOKUP_MARGIN
        params = {
            "dateType": "createdAt",
            "from": clock.to_iso(since),
            "orderDirection": "asc",
            "customerId": self.ctx.cloud_id("customer", desk["customerId"]),
            "includes": "customer",
        }
        objs = await self.client.all("bookings", params, limit=self.page_limit)
        return self._bookings(objs)[0]


def _copy(state: dict) -> dict:
    return {"createdSince": state.get("createdSince"), "windows": dict(state.get("windows") or {})}


def make(
    config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
) -> EhjznyConnector:
    return EhjznyConnector(config, ctx, transport=transport, options=options)


async def otp_login(
    base_url: str, app_id: str, *, phone: str | None = None, email: str | None = None, code: str | None = None
) -> dict:
    """OTP sign-in of a staff member (contract "Operations": request/verify OTP).

    Without ``code`` it requests the code and returns ``{"sent": True, ...}``; with ``code``
    it verifies and returns the tokens ``{accessToken, refreshToken, expiresIn, ...}``.
    Raises :class:`~app.sync.ehjzny.client.CloudError` or ``TransportError``.
    """

    async def no_token() -> str:
        return ""

    client = EhjznyClient(base_url, app_id, no_token)
    body = {"method": "sms" if phone else "email", "phoneNumber": phone, "email": email, "isOrgMember": True}
    body = {k: v for k, v in body.items() if v is not None}
    try:
        if code is None:
            return await client.call("otp_request", body=body, auth=False)
        return await client.call("otp_verify", body={**body, "code": code}, auth=False)
    finally:
        await client.aclose()


async def sign_in_step(config: CloudConfig, step: str, values: dict) -> SignInResult:
    """OTP sign-in of a staff member (contract "Operations": request / verify OTP).
    ``request`` with ``values["phone"]`` (or ``email``) sends the code; ``verify`` with
    ``code`` as well returns the refresh token as the secret (``auth="otp"``). Raises
    CloudError or TransportError (:func:`classify` them)."""
    phone, email = values.get("phone") or None, values.get("email") or None
    if step == "request":
        answer = await otp_login(config.base_url, config.account, phone=phone, email=email)
        return SignInResult(False, message=N_("A code was sent."), data=answer or {})
    answer = await otp_login(
        config.base_url, config.account, phone=phone, email=email, code=values.get("code")
    )
    return SignInResult(True, secret=answer["refreshToken"], auth="otp", data={})


CONNECTOR = ConnectorInfo(
    name=NAME,
    title=N_("Ehjzny"),
    capabilities=CAPABILITIES,
    factory=make,
    synced_fields=SYNCED_FIELDS,
    fields=(
        ConfigField("baseUrl", N_("Address"), "url", help=N_("The cloud's address, https://…")),
        ConfigField("account", N_("App id"), "text", cli="app-id"),
        ConfigField("secret", N_("API key"), "secret", required=False),
    ),
    auth_kinds=(("apiKey", N_("Organization API key")), ("otp", N_("One-time code by SMS"))),
    sign_in=(
        SignInStep("request", N_("Send code"), (ConfigField("phone", N_("Staff phone"), "phone"),)),
        SignInStep("verify", N_("Connect"), (ConfigField("code", N_("Code"), "text"),)),
    ),
    sign_in_step=sign_in_step,
    default_url=None,
    primary=True,
)
