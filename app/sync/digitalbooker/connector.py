"""The DigitalBooker connector (DigitalBooker API reference; contract
``docs/clouds/digitalbooker.md``): what the contract's "Desk operations on
DigitalBooker" table and "Behaviour the desk relies on" section say, through
:class:`app.sync.connector.Connector`. ``docs/clouds/digitalbooker.md`` says it in prose.

One desk branch is one DigitalBooker location (``locationId``; with one location in the
account it is taken by itself). The key id is the account, its password the secret, and
the language segment of the URL is ``lang``.

Pull (``changed-since``; cursor ``{"mark", "deletedFrom", "dayAt", "horizonAt"}``):

1. The first pull lists the horizon (``horizon_days`` around the location's today) by
   ``from_date``/``to_date`` and ``location_id``, all pages, each page yielded as it comes;
   the window is then swept by the engine.
2. Later pulls list the horizon with ``changed_since`` = the mark − 5 minutes, where the
   mark is the newest ``created``/``modified`` the cloud returned, in the cloud's own wall
   time (never the desk's clock). The deleted ids are listed from the last deletion pull's
   date − 1 day to today + 1 day (the overlap is deliberate), deduplicated; a deleted
   booking the branch holds becomes ``CANCELED`` (dirty fields stay: a pending desk change
   then meets the 404 and goes to needs-attention). The new mark goes with the last page.
3. A deleted booking whose one replacement (a new booking of the same user and service)
   comes in the same pull is followed, old id → new id (how another desk's or the cloud's
   reschedule or accept looks in a cloud without edits).
4. Backstop: today is re-read in full every ``day_every`` seconds and the horizon with a
   ``full`` pull at most every ``full_every`` seconds (nightly); each is swept.
5. Money: each listed or fetched booking with a ``price`` or ``paid`` flag has its payments
   read (API reference "List payments for a booking") and comes with them as ``money``; a payment
   the desk added is known by the id its push got back and is not counted twice.

Push: see :meth:`DigitalBookerConnector.plan`. Reschedule and accept are one two-step
operation (create the new booking, then delete the old one) whose steps are committed as
they happen, the new id as soon as it is known, so a retry never makes a third booking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from app.domain import clock, errors
from app.domain.model import Status
from app.domain.payments import decimals as currency_decimals
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
from app.sync.digitalbooker import mapping
from app.sync.digitalbooker.client import MAX_LIMIT, DigitalBookerClient, DigitalBookerError, TransportError
from app.sync.digitalbooker.names import name

log = logging.getLogger(__name__)
NAME = "digitalbooker"
#: the pull's overlap on the mark (contract "Behaviour" → Pull, changes: minus 5 minutes)
MARK_OVERLAP_MINUTES = 5
#: the look-up of an unanswered create lists bookings changed since the request − this
#: (contract "Behaviour": ``changed_since=<request time − 2 min>``)
LOOKUP_MARGIN = timedelta(minutes=2)
HORIZON_DAYS = (-1, 30)
#: payment listings read at once during a pull (one per booking with a price or paid flag)
PAYMENT_READS = 4
#: seconds between re-reads of the reference data (contract: at start and hourly)
REFERENCE_EVERY = 3600.0
#: booking fields the cloud owns (a pull writes only these)
SYNCED_FIELDS = (
    "status",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "note",
    "createdAt",
)
#: the fields a reschedule or accept changes (left alone by a pull while it waits)
MOVE_FIELDS = ("status", "startDateTime", "endDateTime", "duration", "resourceId")

CAPABILITIES = Capabilities(
    pull_mode=PullMode.CHANGED_SINCE,
    queue=True,
    walk_ins=False,
    end_early=False,
    holds=False,
    approve=False,
    attendances=False,
    visit_status_push=False,
    payments=True,
    reschedule_new_id=True,
    customer_write=True,
    time_rules_write=False,
    restore=True,
    deleted_feed=True,
    payments_down=True,
)


class AcceptLost(Exception):
    """The queue booking was accepted elsewhere first (contract: accept is not race-safe)."""


class BookingGone(Exception):
    """The booking a desk moves was deleted in the cloud before the move went out (a patient
    who cancelled online): moving it would book the visit again."""


class RolledBack(Exception):
    """The new booking of a delete-first reschedule was refused; the old one was booked
    again (``restored``: its new id) and the case goes to needs-attention."""

    def __init__(self, cause: DigitalBookerError, restored: str | None):
        super().__init__(
            f"the move was refused ({cause.message}); the booking was put back"
            + (f" as {restored}" if restored else " but could not be re-created")
        )
        self.cause, self.restored = cause, restored


class NotReady(Exception):
    """A desk row names something the cloud does not know (unmapped type, resource or
    customer, or no location chosen)."""


class DigitalBookerConnector:
    """One DigitalBooker location (:class:`~app.sync.connector.Connector`).

    ``config.account``: the API key's id; ``config.secret``: its password;
    ``config.extra``: ``lang`` (URL language, ``en``) and ``locationId``. ``options``:
    ``page_limit`` (rows per page, at most 100), ``horizon_days``, ``day_every`` and
    ``full_every`` (backstop periods, seconds)."""

    name = NAME
    capabilities = CAPABILITIES

    def __init__(
        self, config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
    ):
        self.config, self.ctx, self.transport = config, ctx, transport
        options = options or {}
        self.page_limit = options.get("page_limit") or MAX_LIMIT
        self.horizon_days = tuple(options.get("horizon_days") or HORIZON_DAYS)
        self.day_every = float(options.get("day_every") or 300.0)
        self.reference_every = float(options.get("reference_every") or REFERENCE_EVERY)
        self._reference: tuple[float, Reference] | None = None
        self.full_every = float(options.get("full_every") or 86_400.0)
        extra = config.extra or {}
        self.lang = str(extra.get("lang") or "en")
        self.location_id: str = str(extra.get("locationId") or "")
        self.client: DigitalBookerClient | None = None
        self.kinds: dict[str, str] = {}  # resource id → worker | resource
        self._kinds_at: float | None = None
        self.users: dict[str, dict] = {}  # user id → customer row (cloud id), fully read
        #: cloud id → (user id, service id) of bookings seen (replacements are matched on it)
        self._seen: dict[str, tuple] = {}
        #: natural keys of the new bookings of two-step operations in flight: a pull holds
        #: them back until the operation is answered (it would otherwise add them twice)
        self._in_flight: dict[tuple, str] = {}
        #: old cloud id → the booking standing in for it now (a rollback, a lost accept)
        self._replaced: dict[str, str] = {}
        #: bookings this desk deleted (never taken for another desk's move)
        self._own_deletes: set[str] = set()

    @property
    def page_limit(self) -> int:
        """Rows per page (API reference "Pagination": 1 to 100)."""
        return self._page_limit

    @page_limit.setter
    def page_limit(self, value: int) -> None:
        self._page_limit = max(1, min(MAX_LIMIT, int(value)))

    # connection ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is None:
            self.client = DigitalBookerClient(
                self.config.base_url,
                self.config.account,
                self.config.secret or "",
                lang=self.lang,
                transport=self.transport,
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def check(self) -> None:
        """``GET /admin/v1/locations`` with the key: the credential works and the location is
        one the key sees (without a location, the account's only one; with several it is
        refused with the list, one desk branch = one location)."""
        await self.open()
        locations = await self.client.all("locations")
        ids = [str(loc.get(name("location.id"))) for loc in locations if isinstance(loc, dict)]
        if not self.location_id:
            if len(ids) != 1:
                names = (
                    ", ".join(
                        f"{loc.get(name('location.name'))} ({loc.get(name('location.id'))})"
                        for loc in locations
                        if isinstance(loc, dict)
                    )
                    or "none"
                )
                raise DigitalBookerError(
                    400, "location_required", f"choose the location of this branch: {names}"
                )
            self.location_id = ids[0]
        elif self.location_id not in ids:
            raise DigitalBookerError(
                403, "location_not_visible", f"the key does not see location {self.location_id}"
            )

    async def choices(self, key: str) -> list[dict]:
        """The values DigitalBooker lists for a connection field: for ``locationId`` the
        locations the key sees (``GET /admin/v1/locations``, contract "Desk operations on
        DigitalBooker": one desk branch = one location), ``[{value: id, label, labels: {en,
        ar}}]``. ``label``/``labels.en`` is the name in the configured language segment,
        ``labels.ar`` the name asked with the ``ar`` segment (contract "Transport" →
        Language: a missing localization falls back to any defined one); when the cloud
        refuses that segment (a 4xx), the configured language's name stands for both. Raises
        ValueError for another field, DigitalBookerError/TransportError as the listing does
        (a wrong key: 401)."""
        if key != "locationId":
            raise ValueError(f"DigitalBooker lists no values for {key!r}")
        await self.open()
        locations = [
            loc
            for loc in await self.client.all("locations")
            if isinstance(loc, dict) and loc.get(name("location.id")) is not None
        ]
        arabic: dict[str, str] = {}
        if self.lang != "ar" and locations:
            other = DigitalBookerClient(
                self.config.base_url,
                self.config.account,
                self.config.secret or "",
                lang="ar",
                transport=self.transport,
            )
            try:
                arabic = {
                    str(loc.get(name("location.id"))): str(loc.get(name("location.name")) or "")
                    for loc in await other.all("locations")
                    if isinstance(loc, dict)
                }
            except DigitalBookerError as exc:
                if exc.status >= 500:
                    raise
                log.info(
                    "DigitalBooker lists no Arabic location names (%s); the configured language's stand", exc
                )
            finally:
                await other.aclose()
        out = []
        for loc in locations:
            ident = str(loc.get(name("location.id")))
            label = str(loc.get(name("location.name")) or ident)
            labels = {"en": label, "ar": arabic.get(ident) or label}
            out.append({"value": ident, "label": label, "labels": labels})
        return out

    async def _ready(self) -> None:
        await self.open()
        if not self.location_id:
            await self.check()
        if self._kinds_at is None:
            await self._load_kinds()

    async def _load_kinds(self) -> list[dict]:
        rows = await self.client.all(
            "resources", params={name("query.location_id"): self.location_id}, limit=self.page_limit
        )
        self.kinds = {
            str(r.get(name("resource.id"))): str(r.get(name("resource.type")) or mapping.WORKER)
            for r in rows
            if isinstance(r, dict) and r.get(name("resource.id")) is not None
        }
        self._kinds_at = time.monotonic()
        return rows

    def classify(self, error: BaseException) -> Failure | None:
        """Contract "Transport" → Errors: no answer, 5xx, 429 → transient; 401/403 → auth;
        404 → not found; 409 (slot taken) and other 4xx → refused; a lost accept →
        ``SCH-ALREADY_ASSIGNED``; a rolled-back move, or a move of a booking deleted meanwhile →
        refused."""
        if isinstance(error, TransportError):
            return Failure(FailureKind.TRANSIENT, "NO-ANSWER", str(error))
        if isinstance(error, AcceptLost):
            return Failure(FailureKind.REFUSED, errors.ALREADY_ASSIGNED, str(error), status=409)
        if isinstance(error, BookingGone):
            return Failure(FailureKind.REFUSED, "DIGITALBOOKER-BOOKING-GONE", str(error), status=404)
        if isinstance(error, RolledBack):
            return Failure(
                FailureKind.REFUSED, "DIGITALBOOKER-MOVE-ROLLED-BACK", str(error), status=error.cause.status
            )
        if isinstance(error, NotReady):
            return Failure(FailureKind.REFUSED, "DIGITALBOOKER-NOT-MAPPED", str(error))
        if isinstance(error, mapping.MappingError):
            return Failure(FailureKind.REFUSED, "DIGITALBOOKER-BAD-VALUE", str(error))
        if isinstance(error, DigitalBookerError):
            kind = {
                "transient": FailureKind.TRANSIENT,
                "auth": FailureKind.AUTH,
                "not_found": FailureKind.NOT_FOUND,
            }.get(error.kind, FailureKind.REFUSED)
            return Failure(kind, error.label, error.message, error.retry_after, error.status)
        return None

    # reading ------------------------------------------------------------------------------
    def _booking(self, obj: dict) -> CloudBooking | None:
        """A booking object → :class:`CloudBooking` (None, logged: it cannot be read, or it
        belongs to another location)."""
        try:
            row = mapping.booking_from_cloud(obj, self.ctx.zone, self.kinds)
        except mapping.MappingError as exc:
            log.warning("DigitalBooker booking set aside: %s", exc)
            return None
        place = obj.get(name("booking.location_id"))
        if place not in (None, "") and self.location_id and str(place) != self.location_id:
            return None
        cloud_id = str(obj[name("booking.id")])
        self._seen[cloud_id] = (row.get("customerId"), str(obj.get(name("booking.service_id"))))
        customer = self.users.get(row["customerId"]) if row.get("customerId") else None
        if customer is None and isinstance(obj.get(name("booking.user")), dict):
            try:
                customer = mapping.customer_from_cloud(obj[name("booking.user")])
            except mapping.MappingError:
                customer = None
        return CloudBooking(cloud_id, {"id": cloud_id, **row}, dict(customer) if customer else None, raw=obj)

    async def _expand_users(self, objs: list[dict]) -> None:
        """Read the users the bookings name that are neither mapped nor read yet (a booking's
        ``user`` is not fully expanded, API reference "Users"): get-user, once each."""
        wanted = set()
        for obj in objs:
            uid = mapping.user_id(obj) if isinstance(obj, dict) else None
            if uid and uid not in self.users and self.ctx.local_id("customer", uid) is None:
                wanted.add(uid)
        for uid in sorted(wanted):
            try:
                user = await self.client.call("user", ids={"id": uid})
                self.users[uid] = mapping.customer_from_cloud(user)
            except DigitalBookerError as exc:
                if exc.transient:
                    raise
                log.info("DigitalBooker user %s not read: %s", uid, exc)
            except mapping.MappingError as exc:
                log.warning("DigitalBooker user %s set aside: %s", uid, exc)

    async def _add_money(self, bookings: list[CloudBooking]) -> None:
        """Each booking whose object has a price or a paid flag gets its payments (``GET
        …/bookings/{id}/payments``, API reference "List payments for a booking"; the booking object
        carries none) as :attr:`CloudBooking.money`, a few calls at a time. A booking whose
        payments cannot be read (404: deleted meanwhile; a refusal) keeps no money (the stored
        figures stay); a transient failure raises (the page is read again)."""
        wanted = [b for b in bookings if isinstance(b.raw, dict) and mapping.has_money(b.raw)]
        gate = asyncio.Semaphore(PAYMENT_READS)

        async def one(booking: CloudBooking) -> None:
            async with gate:
                try:
                    items = await self._payments(booking.cloud_id)
                except DigitalBookerError as exc:
                    if exc.transient:
                        raise
                    log.info("DigitalBooker payments of %s not read: %s", booking.cloud_id, exc)
                    return
            booking.money = mapping.money_from_cloud(booking.raw, items)

        await asyncio.gather(*(one(b) for b in wanted))

    def _bookings(self, objs: list) -> tuple[list[CloudBooking], int]:
        out = []
        for obj in objs:
            found = self._booking(obj) if isinstance(obj, dict) else None
            if found is not None:
                out.append(found)
        return out, len(objs) - len(out)

    async def _get(self, cloud_id: str) -> dict | None:
        try:
            return await self.client.call("booking", ids={"id": cloud_id})
        except DigitalBookerError as exc:
            if exc.kind == "not_found":
                return None
            raise

    async def fetch(self, cloud_id: str) -> CloudBooking | None:
        """``GET /admin/v1/bookings/{id}``. A booking that stands in for ``cloud_id`` now (a
        rolled-back move, an accept lost to another desk) comes as ``replaced_by``; a
        deleted one (404) as ``CANCELED`` (contract "Behaviour": a deleted booking shows as
        cancelled), so a sweep keeps it in the desk's history."""
        await self._ready()
        standing = self._replaced.get(cloud_id)
        if standing:
            obj = await self._get(standing)
            found = self._booking(obj) if obj else None
            return CloudBooking(
                cloud_id,
                dict(found.row, id=cloud_id) if found else {"id": cloud_id},
                found.customer if found else None,
                replaced_by=standing,
                raw=obj,
            )
        obj = await self._get(cloud_id)
        if obj is None:
            return self._deleted(cloud_id)
        await self._expand_users([obj])
        found = self._booking(obj)
        if found is not None:
            await self._add_money([found])
        return found

    @staticmethod
    def _deleted(cloud_id: str) -> CloudBooking:
        return CloudBooking(
            cloud_id,
            {"id": cloud_id, "status": Status.CANCELED.value},
            change={"type": "deleted", "channel": "cloud"},
            raw={"id": cloud_id, "deleted": True},
        )

    # reference data -----------------------------------------------------------------------
    async def pull_reference(self) -> Reference:
        """Resources of the location (``type=worker``: providers, with their dated work
        hours at the location for the horizon; ``type=resource``: rooms, hours unknown),
        services as booking types (minutes from the Public API's ``durations`` where the
        location has a public view), the read-only class and room types, and the users the
        list gives (not ``temporary`` ones, API reference "List user objects"). Read at most every
        :data:`REFERENCE_EVERY` seconds (contract "Behaviour": at start and hourly); in
        between the last reading is given again."""
        await self._ready()
        if self._reference is not None and time.monotonic() - self._reference[0] < self.reference_every:
            return self._reference[1]
        out = await self._read_reference()
        self._reference = (time.monotonic(), out)
        return out

    async def _read_reference(self) -> Reference:
        resources = await self._load_kinds()
        services = await self.client.all("services", limit=self.page_limit)
        minutes, serves = await self._public(services)
        types = []
        for service in services:
            try:
                row = mapping.booking_type(service, minutes.get(str(service.get(name("service.id")))))
            except mapping.MappingError as exc:
                log.warning("DigitalBooker service set aside: %s", exc)
                continue
            types.append(row)
        type_ids = [t["id"] for t in types]
        out = Reference(types=[*types, *mapping.read_only_types()])
        today = mapping.local_today(self.ctx.now(), self.ctx.zone)
        first, last = (
            today + timedelta(days=self.horizon_days[0]),
            today + timedelta(days=self.horizon_days[1]),
        )
        for obj in resources:
            ident = str(obj.get(name("resource.id")))
            worker = self.kinds.get(ident) == mapping.WORKER
            rules = None
            if worker:
                try:
                    hours = await self.client.call(
                        "location_work_hours",
                        ids={"id": ident, "location_id": self.location_id},
                        params={
                            name("query.from_date"): first.isoformat(),
                            name("query.to_date"): last.isoformat(),
                        },
                    )
                    data = hours.get(name("list.data")) if isinstance(hours, dict) else hours
                    rules = mapping.time_rules(data, self.location_id, first, last)
                except DigitalBookerError as exc:
                    if exc.transient:
                        raise
                    rules = {"unknown": True, "reason": f"{exc.label}: {exc.message}", "cloud": None}
                except mapping.MappingError as exc:
                    rules = {"unknown": True, "reason": str(exc), "cloud": None}
            else:
                rules = {"unknown": True, "reason": "DigitalBooker gives no hours for rooms", "cloud": None}
            # a room serves the services the Public API names for it, and its own room bookings: a
            # service booked on a room alone would have no worker (a queue booking in the cloud)
            served = serves.get(ident, type_ids) if worker else [*serves.get(ident, []), mapping.ROOM_TYPE]
            try:
                row = mapping.resource_row(obj, served, rules)
            except mapping.MappingError as exc:
                log.warning("DigitalBooker resource set aside: %s", exc)
                continue
            if worker:
                row["types"] = [*row["types"], mapping.CLASS_TYPE]
            if rules.get("unknown"):
                out.hours_unknown.append(row["id"])
            out.resources.append(row)
        for user in await self.client.all("users", limit=self.page_limit):
            try:
                row = mapping.customer_from_cloud(user)
            except mapping.MappingError as exc:
                log.warning("DigitalBooker user set aside: %s", exc)
                continue
            self.users[row["id"]] = row
            out.customers.append(row)
        return out

    async def _public(self, services: list[dict]) -> tuple[dict[str, int], dict[str, list[str]]]:
        """From the Public API, when the location has a ``services`` or ``time`` view: service
        id → minutes (its first duration), and resource id → the service ids it serves. ``({},
        {})`` when there is no such view or the Public API cannot be read (every worker then
        serves every service; a booking's own length is the desk's)."""
        try:
            location = await self.client.call("location", ids={"id": self.location_id})
            url_text = location.get(name("location.url_text"))
            if not url_text:
                return {}, {}
            public = await self.client.call(
                "public_location",
                ids={"url_text": url_text},
                params={"expand": name("location.views")},
                public=True,
            )
            views = [
                v
                for v in public.get(name("location.views")) or []
                if isinstance(v, dict) and v.get(name("view.type")) in ("services", "time")
            ]
            if not views:
                return {}, {}
            view = views[0][name("view.url_text")]
            ids = {"url_text": url_text, "view_url_text": view}
            categories = await self.client.call("public_services", ids=ids, public=True)
            data = categories.get(name("list.data")) if isinstance(categories, dict) else categories
            minutes = mapping.public_minutes(data or [])
            serves: dict[str, list[str]] = {}
            for service in services:
                sid = str(service.get(name("service.id")))
                reply = await self.client.call(
                    "public_service_resources", ids={**ids, "service_id": sid}, public=True
                )
                for res in (reply.get(name("list.data")) if isinstance(reply, dict) else reply) or []:
                    if isinstance(res, dict) and res.get(name("resource.id")) is not None:
                        serves.setdefault(str(res[name("resource.id")]), []).append(sid)
            return minutes, serves
        except (DigitalBookerError, TransportError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, DigitalBookerError) and exc.transient:
                raise
            log.info("DigitalBooker public API not used: %s", exc)
            return {}, {}

    # pull ---------------------------------------------------------------------------------
    def _horizon(self) -> tuple[str, str, str, str]:
        """(first date, last date, UTC start, UTC end) of the horizon, location-local."""
        zone = self.ctx.zone
        today = mapping.local_today(self.ctx.now(), zone)
        first, last = (
            today + timedelta(days=self.horizon_days[0]),
            today + timedelta(days=self.horizon_days[1]),
        )
        return (
            first.isoformat(),
            last.isoformat(),
            clock.to_iso(clock.local_day_bounds(first, zone)[0]),
            clock.to_iso(clock.local_day_bounds(last, zone)[1]),
        )

    def _today(self) -> tuple[str, str, str]:
        zone = self.ctx.zone
        today = mapping.local_today(self.ctx.now(), zone)
        lo, hi = clock.local_day_bounds(today, zone)
        return today.isoformat(), clock.to_iso(lo), clock.to_iso(hi)

    def _listing_params(self, first: str, last: str, since: str | None = None) -> dict:
        return {
            name("query.location_id"): self.location_id,
            name("query.from_date"): first,
            name("query.to_date"): last,
            name("query.changed_since"): since,
        }

    async def _window(
        self, window: Window, params: dict, state: dict, *, last_cursor: bool
    ) -> AsyncIterator[PullPage]:
        """One listing read to its end, page by page (bookings merged by id across pages by
        the engine's upsert); its window is done with the last page."""
        first = True
        async for data, nxt in self.client.pages("bookings", params=params, limit=self.page_limit):
            objs = [o for o in data if isinstance(o, dict)]
            await self._expand_users(objs)
            for obj in objs:
                state["mark"] = _newer(state.get("mark"), mapping.booking_mark(obj))
            bookings, set_aside = self._bookings(data)
            await self._add_money(bookings)
            done = nxt is None
            yield PullPage(
                bookings=bookings,
                cursor=dict(state) if done and last_cursor else None,
                window=window.name,
                restarted=first,
                windows_done=[window] if done else [],
                set_aside=set_aside,
            )
            first = False

    async def pull(self, cursor: dict | None, *, full: bool) -> AsyncIterator[PullPage]:
        """The changes since ``cursor`` (module docstring, "Pull"), page by page."""
        await self._ready()
        state = dict(cursor or {})
        now = self.ctx.now()
        first, last, lo, hi = self._horizon()
        today = mapping.local_today(now, self.ctx.zone)
        if not state.get("read"):
            state = {
                "read": True,
                "mark": None,
                "deletedFrom": today.isoformat(),
                "dayAt": clock.to_iso(now),
                "horizonAt": clock.to_iso(now),
            }
            async for page in self._window(
                Window("horizon", "startDateTime", lo, hi),
                self._listing_params(first, last),
                state,
                last_cursor=True,
            ):
                yield page
            return
        since = mapping.shift_stamp(state["mark"], -MARK_OVERLAP_MINUTES) if state.get("mark") else None
        changed: dict[str, dict] = {}
        async for data, _ in self.client.pages(
            "bookings", params=self._listing_params(first, last, since), limit=self.page_limit
        ):
            for obj in data:
                if isinstance(obj, dict) and obj.get(name("booking.id")) is not None:
                    changed[str(obj[name("booking.id")])] = obj
        deleted_from = mapping.parse_date(state.get("deletedFrom") or today.isoformat()) - timedelta(days=1)
        deleted_ids: list[str] = []
        seen_ids: set[str] = set()
        for item in await self.client.all(
            "deleted_bookings",
            params={
                name("query.from_date"): deleted_from.isoformat(),
                name("query.to_date"): (today + timedelta(days=1)).isoformat(),
            },
            limit=self.page_limit,
        ):
            ident = str(item.get(name("booking.id")) if isinstance(item, dict) else item)
            if ident and ident not in seen_ids and ident != "None":
                seen_ids.add(ident)
                deleted_ids.append(ident)
        objs = list(changed.values())
        await self._expand_users(objs)
        held = [
            o
            for o in objs
            if mapping.booking_key(o) in self._in_flight
            and self.ctx.local_id("booking", str(o[name("booking.id")])) is None
        ]
        mark = state.get("mark")
        for obj in objs:
            if obj not in held:
                mark = _newer(mark, mapping.booking_mark(obj))
        for obj in held:  # not past a booking held back: it is listed again next time
            stamp = mapping.booking_mark(obj)
            if stamp and mark and stamp <= mark:
                mark = mapping.shift_stamp(stamp, -0.02)
        bookings, set_aside = self._bookings([o for o in objs if o not in held])
        await self._add_money(bookings)
        mapped_deleted = [d for d in deleted_ids if self.ctx.local_id("booking", d) is not None]
        replaced = self._replacements([d for d in mapped_deleted if d not in self._own_deletes], bookings)
        if replaced:
            yield PullPage(
                bookings=[
                    CloudBooking(
                        old, {"id": old}, replaced_by=new, change={"type": "replaced", "channel": "cloud"}
                    )
                    for old, new in replaced.items()
                ]
            )
        gone = [self._deleted(d) for d in mapped_deleted if d not in replaced]
        state.update(mark=mark, deletedFrom=today.isoformat())
        backstop = None
        if (
            full
            and clock.from_iso(state.get("horizonAt") or clock.to_iso(now))
            + timedelta(seconds=self.full_every)
            <= now
        ):
            backstop = ("horizon", first, last, lo, hi)
            state.update(horizonAt=clock.to_iso(now), dayAt=clock.to_iso(now))
        elif (
            clock.from_iso(state.get("dayAt") or clock.to_iso(now)) + timedelta(seconds=self.day_every) <= now
        ):
            day, dlo, dhi = self._today()
            backstop = ("day", day, day, dlo, dhi)
            state["dayAt"] = clock.to_iso(now)
        parts = [bookings[i : i + 500] for i in range(0, len(bookings), 500)] or [[]]
        for index, part in enumerate(parts):
            final = index == len(parts) - 1
            yield PullPage(
                bookings=[*part, *gone] if final else part,
                cursor=dict(state) if final else None,
                set_aside=set_aside if final else 0,
            )
        if backstop:
            wname, wfirst, wlast, wlo, whi = backstop
            async for page in self._window(
                Window(wname, "startDateTime", wlo, whi),
                self._listing_params(wfirst, wlast),
                dict(state),
                last_cursor=False,
            ):
                yield page

    def _replacements(self, deleted: list[str], bookings: list[CloudBooking]) -> dict[str, str]:
        """Deleted booking → its one replacement in the same pull: an unmapped booking of the
        same user and service, when each side has exactly one (a move or an accept made
        elsewhere, which this cloud can only do as create-then-delete)."""
        fresh: dict[tuple, list[str]] = {}
        for booking in bookings:
            if self.ctx.local_id("booking", booking.cloud_id) is None:
                fresh.setdefault(self._seen.get(booking.cloud_id), []).append(booking.cloud_id)
        olds: dict[tuple, list[str]] = {}
        for old in deleted:
            key = self._seen.get(old)
            if key and key[0]:
                olds.setdefault(key, []).append(old)
        return {
            ids[0]: fresh[key][0]
            for key, ids in olds.items()
            if len(ids) == 1 and len(fresh.get(key, [])) == 1
        }

    # push ---------------------------------------------------------------------------------
    def plan(self, action: str, before: dict | None, after: dict) -> list[PlannedOp]:
        """A desk change → DigitalBooker operations (contract "Desk operations"):

        * ``create`` → a service booking (the user first when new), confirmed when the
          desk's booking is; a walk-in waiting in the queue stays local until
          accepted (``walk_ins`` False);
        * ``reschedule`` → the two-step move (create the new booking, delete the old);
        * ``accept`` → the same two-step operation with the accepting worker (a pulled
          queue booking; a local walk-in is created with the worker instead);
        * ``cancel`` → delete (the reason stays local); ``restore`` → booked again (a new
          id), then confirmed; a status change between pending and confirmed → confirm /
          unconfirm;
        * ``payment`` → add a cash payment (other methods and refunds stay local);
        * check-in, start, end, no-show, holds, and every change of a class or room booking
          (read-only) stay local."""
        if (after or {}).get("typeId") in mapping.READ_ONLY_TYPES:
            return []
        if action == "payment":
            payment = (after or {}).get("payment") or {}
            if payment.get("method") == "cash" and int(payment.get("amount") or 0) > 0:
                return [PlannedOp("payment", fields=())]
            return []
        status = after.get("status")
        if action in ("create", "restore"):
            if (
                status not in (Status.CONFIRMED, Status.PENDING_APPROVAL)
                or not after.get("startDateTime")
                or after.get("heldUntil")
            ):
                return []
            return [PlannedOp(action, creates=True)]
        if action in ("reschedule", "accept"):
            return [PlannedOp("reschedule", fields=MOVE_FIELDS, creates=True)]
        if action == "cancel":
            return [PlannedOp("cancel", fields=("status", "cancelReason"))]
        was = (before or {}).get("status")
        if action == "confirm" or (was == Status.PENDING_APPROVAL and status == Status.CONFIRMED):
            return [PlannedOp("confirm", fields=("status",))]
        if was == Status.CONFIRMED and status == Status.PENDING_APPROVAL:
            return [PlannedOp("unconfirm", fields=("status",))]
        return []

    async def send(self, op: Operation) -> SendResult:
        await self._ready()
        handler = getattr(self, f"_send_{op.action}", None)
        if handler is None:
            raise NotReady(f"the DigitalBooker connector has no operation {op.action!r}")
        return await handler(op)

    # helpers of push
    def _cloud(self, entity: str, local_id: str | None) -> str | None:
        return self.ctx.cloud_id(entity, local_id) if local_id else None

    def _booking_id(self, op: Operation) -> str:
        ident = self._cloud("booking", op.booking_id)
        if not ident:
            raise NotReady(f"booking {op.booking_id} has no DigitalBooker booking")
        return ident

    async def _save(self, op: Operation, **changes) -> dict:
        steps = {**(op.steps or {}), **changes}
        await self.ctx.save_steps(op, steps)
        op.steps = steps
        return steps

    async def _user_id(self, op: Operation, local_customer: str | None) -> str:
        """The cloud user of the booking's customer, created first when new. After a lost
        reply the user list is scanned for the email or phone before creating again
        (contract "Behaviour" → Users; a ``temporary`` user is not listed: a known gap)."""
        known = self._cloud("customer", local_customer) or (op.steps or {}).get("userId")
        if known:
            return known
        row = self.ctx.customer(local_customer) if local_customer else None
        if not row:
            raise NotReady(f"booking {op.booking_id} has no customer")
        if (op.steps or {}).get("userRequested") and (row.get("email") or row.get("phone")):
            for user in await self.client.all("users", limit=self.page_limit):
                if isinstance(user, dict) and mapping.same_person(user, row):
                    found = mapping.customer_from_cloud(user)
                    self.users[found["id"]] = found
                    await self._save(op, userId=found["id"])
                    return found["id"]
        await self._save(op, userRequested=True)
        created = await self.client.call("create_user", body=mapping.user_body(row))
        found = mapping.customer_from_cloud(created)
        self.users[found["id"]] = {**found, **{k: row[k] for k in ("phone", "email") if row.get(k)}}
        await self._save(op, userId=found["id"])
        return found["id"]

    def _resources(self, after: dict) -> list[str]:
        resource = after.get("resourceId")
        cloud = self._cloud("resource", resource)
        if not cloud:
            raise NotReady(f"resource {resource} is not a DigitalBooker worker")
        return [cloud]

    async def _create_body(self, op: Operation, desk: dict) -> dict:
        service = self._cloud("type", desk.get("typeId"))
        if not service or service in mapping.READ_ONLY_TYPES:
            raise NotReady(f"booking type {desk.get('typeId')} is not a DigitalBooker service")
        start = clock.from_iso(desk.get("startDateTime"))
        if start is None:
            raise NotReady(f"booking {op.booking_id} has no start")
        user = await self._user_id(op, desk.get("customerId"))
        return mapping.service_booking_body(
            location_id=self.location_id,
            service_id=service,
            start=start,
            zone=self.ctx.zone,
            resources=self._resources(desk),
            user=user,
        )

    async def _lookup(self, body: dict, since: datetime) -> dict | None:
        """The booking an unanswered create made, or None (contract "Behaviour": lost reply
        on a create): bookings of the date, location and worker changed since the request −
        2 min, matched on user, service, start, resources and ``interface`` = 1, not held
        by another local booking."""
        params = {
            name("query.date"): body[name("booking.date")],
            name("query.location_id"): self.location_id,
            name("query.resources"): body[name("booking.resources")][:1],
            name("query.changed_since"): mapping.utc_to_stamp(since - LOOKUP_MARGIN, self.ctx.zone),
        }
        key = mapping.body_key(body)
        for obj in await self.client.all("bookings", params=params, limit=self.page_limit):
            if not isinstance(obj, dict) or mapping.booking_key(obj) != key:
                continue
            if obj.get(name("booking.interface")) not in (
                None,
                mapping.ADMIN_INTERFACE,
                str(mapping.ADMIN_INTERFACE),
            ):
                continue
            return obj
        return None

    async def _post_booking(self, op: Operation, body: dict, step: str) -> str:
        """Create a service booking once: after an unanswered attempt (``<step>Requested``
        in the steps) it is looked up first. Returns the new id (kept in the steps at once)."""
        steps = op.steps or {}
        if steps.get(f"{step}Id"):
            return steps[f"{step}Id"]
        if steps.get(f"{step}Requested"):
            found = await self._lookup(body, clock.from_iso(steps[f"{step}Requested"]))
            if found is not None:
                await self._save(op, **{f"{step}Id": str(found[name("booking.id")])})
                return str(found[name("booking.id")])
        await self._save(op, **{f"{step}Requested": clock.to_iso(self.ctx.now())})
        reply = await self.client.call("create_service_booking", body=body)
        ident = str(reply[name("booking.id")])
        await self._save(op, **{f"{step}Id": ident})
        return ident

    async def _result(
        self, cloud_id: str, replaces: str | None = None, desk: dict | None = None
    ) -> SendResult:
        obj = await self._get(cloud_id)
        if obj is None:
            return SendResult(self._deleted(cloud_id), replaces=replaces)
        if desk is not None:
            obj = await self._confirm_as_desk(obj, desk)
        await self._expand_users([obj])
        return SendResult(self._booking(obj), replaces=replaces)

    async def _send_create(self, op: Operation) -> SendResult:
        """Create (or, for ``restore``, book again): the user first when new, then one
        service booking (``ctx.mark_requested`` first: after a lost reply the engine asks
        :meth:`find_sent` before sending again)."""
        body = (op.steps or {}).get("body") or await self._create_body(op, op.payload["after"])
        if not (op.steps or {}).get("body"):
            await self._save(op, body=body)
        await self.ctx.mark_requested(op)
        reply = await self.client.call("create_service_booking", body=body)
        reply = await self._confirm_as_desk(reply, op.payload["after"])
        await self._expand_users([reply])
        return SendResult(self._booking(reply))

    async def _confirm_as_desk(self, obj: dict, desk: dict) -> dict:
        """Confirm a booking just made when the desk's booking is confirmed and the cloud's
        is not (the ``confirmed`` flag, contract "Desk operations": confirm / set pending);
        returns the booking as it is then."""
        if desk.get("status") == Status.CONFIRMED and not obj.get(name("booking.confirmed")):
            ident = str(obj[name("booking.id")])
            await self.client.call("confirm_booking", ids={"id": ident})
            return await self._get(ident) or obj
        return obj

    _send_restore = _send_create

    async def _send_confirm(self, op: Operation) -> SendResult:
        ident = self._booking_id(op)
        await self.client.call("confirm_booking", ids={"id": ident})
        return await self._result(ident)

    async def _send_unconfirm(self, op: Operation) -> SendResult:
        ident = self._booking_id(op)
        await self.client.call("unconfirm_booking", ids={"id": ident})
        return await self._result(ident)

    async def _delete(self, cloud_id: str) -> None:
        """Delete a booking; a re-sent delete is done on 404 (contract "Behaviour")."""
        self._own_deletes.add(cloud_id)
        try:
            await self.client.call("delete_booking", ids={"id": cloud_id})
        except DigitalBookerError as exc:
            if exc.kind != "not_found":
                raise

    async def _send_cancel(self, op: Operation) -> SendResult:
        """Delete: DigitalBooker has no cancel status and no reason field, so the reason
        stays local (contract "Desk operations")."""
        await self._delete(self._booking_id(op))
        return SendResult(None)

    async def _send_reschedule(self, op: Operation) -> SendResult:
        """Reschedule or accept as create-then-delete (contract "Behaviour": reschedule is two
        steps with separate ids). Steps kept: ``oldId``, ``body``, ``newRequested`` (UTC)
        and ``newId`` (committed as soon as known, so a retry never makes a third booking),
        ``oldDeleted``. A create refused only because it overlaps the old booking (same
        worker) deletes the old one first; if the create then fails, the old booking is
        made again (``restoredId``) and the case goes to needs-attention (:class:`RolledBack`).
        An accept whose queue booking is gone or has a worker was lost (:class:`AcceptLost`); a
        move of a booking deleted in the cloud meanwhile is refused (:class:`BookingGone`:
        the booking takes the cloud's state, cancelled, and needs attention) rather than
        booking the visit again."""
        before, after = op.payload.get("before") or {}, op.payload["after"]
        steps = op.steps or {}
        accept = before.get("status") == Status.PENDING_ASSIGNMENT
        old = steps.get("oldId") or self._booking_id(op)
        if not steps.get("oldId"):
            steps = await self._save(op, oldId=old)
        if accept and not steps.get("newId") and not steps.get("newRequested"):
            await self._check_accept(old, before, after)
        elif (
            not (steps.get("newId") or steps.get("newRequested") or steps.get("oldDeleted"))
            and await self._get(old) is None
        ):
            raise BookingGone(f"booking {old} was deleted in DigitalBooker before the move")
        # an accepted queue booking keeps the time it was booked for (a DigitalBooker booking
        # without a worker is still a timed booking); the desk's accept "now" is the desk's
        desk = (
            {**after, "startDateTime": before.get("startDateTime") or after.get("startDateTime")}
            if accept
            else after
        )
        body = steps.get("body") or await self._create_body(op, desk)
        if not steps.get("body"):
            steps = await self._save(op, body=body)
        key = mapping.body_key(body)
        self._in_flight[key] = op.id
        try:
            try:
                new = await self._post_booking(op, body, "new")
            except DigitalBookerError as exc:
                if (
                    exc.kind != "conflict"
                    or accept
                    or op.steps.get("oldDeleted")
                    or not _overlaps_own(before, after)
                ):
                    raise
                new = await self._delete_first(op, old, before, exc)
            if not op.steps.get("oldDeleted"):
                await self._delete(old)
                await self._save(op, oldDeleted=True)
            return await self._result(new, replaces=old, desk=after)
        finally:
            self._in_flight.pop(key, None)

    async def _delete_first(self, op: Operation, old: str, before: dict, refusal: DigitalBookerError) -> str:
        """The overlap case: delete the old booking, then create the new one; if that is
        refused, book the old one again and raise :class:`RolledBack`."""
        await self._delete(old)
        await self._save(op, oldDeleted=True, deleteFirst=True, newRequested=None)
        try:
            return await self._post_booking(op, op.steps["body"], "new")
        except DigitalBookerError as exc:
            if exc.transient or exc.kind == "auth":
                raise
            restore = await self._create_body(op, before)
            key = mapping.body_key(restore)
            self._in_flight[key] = op.id
            try:
                restored = await self._post_booking(op, restore, "restored")
            except DigitalBookerError as again:
                if again.transient:
                    raise
                restored = None
            finally:
                self._in_flight.pop(key, None)
            if restored:
                self._replaced[old] = restored
            raise RolledBack(exc, restored) from exc

    async def _check_accept(self, old: str, before: dict, after: dict) -> None:
        """Before an accept's create: the queue booking must still be there without a worker.
        Gone, and a booking of the same user and service with a worker came instead, or
        given a worker meanwhile: accepted elsewhere first (:class:`AcceptLost`)."""
        current = await self._get(old)
        if current is not None:
            workers = [
                r
                for r in mapping.ids_of(current.get(name("booking.resources")))
                if self.kinds.get(r) == mapping.WORKER
            ]
            if workers:
                raise AcceptLost(f"the booking has worker {workers[0]} in DigitalBooker already")
            return
        user = self._cloud("customer", before.get("customerId"))
        service = self._cloud("type", before.get("typeId"))
        start = clock.from_iso(before.get("startDateTime")) or self.ctx.now()
        day = mapping.utc_to_local(start, self.ctx.zone)[0]
        for obj in await self.client.all(
            "bookings",
            params={name("query.date"): day, name("query.location_id"): self.location_id},
            limit=self.page_limit,
        ):
            if (
                not isinstance(obj, dict)
                or mapping.user_id(obj) != user
                or str(obj.get(name("booking.service_id"))) != str(service)
            ):
                continue
            ident = str(obj[name("booking.id")])
            holder = self.ctx.local_id("booking", ident)
            if (
                any(
                    self.kinds.get(r) == mapping.WORKER
                    for r in mapping.ids_of(obj.get(name("booking.resources")))
                )
                and holder is None
            ):
                self._replaced[old] = ident
                raise AcceptLost(f"booking {old} was accepted elsewhere as {ident}")
        raise DigitalBookerError(404, "not_found", f"booking {old} is gone from DigitalBooker")

    async def _send_payment(self, op: Operation) -> SendResult:
        """Add a cash payment (amount including tax, tax a percentage; API reference "Add a payment to
        a booking"); the reply's payment id goes back as :attr:`SendResult.payment_id`, so
        the payment is not pulled back as a second one. After a lost reply the booking's
        payments are read first: a cash payment of that amount whose id was not listed
        before the request is this one."""
        payment = op.payload["after"]["payment"]
        ident = self._booking_id(op)
        body = mapping.payment_body(
            int(payment["amount"]),
            currency_decimals(payment.get("currency") or "SAR"),
            int(payment.get("vatRate") or 0),
        )
        steps = op.steps or {}

        def same(listed: list[dict]) -> list[dict]:
            return [
                p
                for p in listed
                if p["type"] == "cash" and abs(p["amount"] - body[name("payment.amount")]) < 1e-6
            ]

        if steps.get("paymentRequested"):
            found = same(mapping.payments_from_cloud(await self._payments(ident)))
            before = steps.get("idsBefore")
            fresh = [p for p in found if p["id"] not in before] if before is not None else []
            if fresh:
                return SendResult(None, payment_id=fresh[0]["id"])
            if before is None and len(found) > int(steps.get("sameBefore") or 0):
                return SendResult(None)  # a push saved before the ids were kept: done, id unknown
        else:
            found = same(mapping.payments_from_cloud(await self._payments(ident)))
            await self._save(
                op, paymentRequested=True, sameBefore=len(found), idsBefore=[p["id"] for p in found]
            )
        reply = await self.client.call("add_payment", ids={"id": ident}, body=body)
        made = reply.get(name("payment.id")) if isinstance(reply, dict) else None
        return SendResult(None, payment_id=None if made is None else str(made))

    async def _payments(self, booking_id: str) -> list:
        reply = await self.client.call("payments", ids={"id": booking_id})
        return (reply.get(name("list.data")) if isinstance(reply, dict) else reply) or []

    async def find_sent(self, op: Operation) -> list[CloudBooking]:
        """What an unanswered create may have made: the contract's listing (date, location,
        worker, changed since the request − 2 min) matched on the saved body's natural key
        and ``interface`` = 1."""
        await self._ready()
        body = (op.steps or {}).get("body")
        if not body or not op.requested_at:
            return []
        found = await self._lookup(body, clock.from_iso(op.requested_at))
        if found is None:
            return []
        found = await self._confirm_as_desk(found, op.payload.get("after") or {})
        await self._expand_users([found])
        booking = self._booking(found)
        return [booking] if booking else []


def _newer(a: str | None, b: str | None) -> str | None:
    return max(x for x in (a, b) if x) if (a or b) else None


def _overlaps_own(before: dict, after: dict) -> bool:
    """Is the move a small shift on the same worker, overlapping the old time (the only
    refusal the delete-first path answers, contract "Behaviour")?"""
    if not before.get("startDateTime") or before.get("resourceId") != after.get("resourceId"):
        return False
    lo, hi = clock.from_iso(before["startDateTime"]), clock.from_iso(before.get("endDateTime"))
    new_lo, new_hi = clock.from_iso(after.get("startDateTime")), clock.from_iso(after.get("endDateTime"))
    if None in (lo, hi, new_lo, new_hi):
        return False
    return new_lo < hi and lo < new_hi


def make(
    config: CloudConfig, ctx: ConnectorContext, *, transport=None, options: dict | None = None
) -> DigitalBookerConnector:
    """The factory of :data:`CONNECTOR` (``options``: ``page_limit``, ``horizon_days``)."""
    return DigitalBookerConnector(config, ctx, transport=transport, options=options)


CONNECTOR = ConnectorInfo(
    name=NAME,
    title=N_("DigitalBooker"),
    capabilities=CAPABILITIES,
    fields=(
        ConfigField(
            "baseUrl",
            N_("API address"),
            kind="url",
            help=N_("The DigitalBooker API address, e.g. https://example.digitalbooker.com/api"),
        ),
        ConfigField("account", N_("API key id"), help=N_("The id of the DigitalBooker API key")),
        ConfigField(
            "secret",
            N_("API key password"),
            kind="secret",
            help=N_("The password of the DigitalBooker API key"),
        ),
        ConfigField(
            "lang",
            N_("Language"),
            kind="choice",
            required=False,
            default="en",
            cli="digitalbooker-lang",
            choices=(("en", N_("English")), ("fi", N_("Finnish")), ("sv", N_("Swedish"))),
            help=N_("The language segment of the API address"),
        ),
        ConfigField(
            "locationId",
            N_("Location"),
            required=False,
            cli="digitalbooker-location",
            listed=True,
            help=N_(
                "One desk branch is one DigitalBooker location. Leave it empty when the key "
                "sees one location; otherwise connecting lists them."
            ),
        ),
    ),
    factory=make,
    synced_fields=SYNCED_FIELDS,
    auth_kinds=(("apiKey", N_("API key")),),
)

__all__ = ["CONNECTOR", "DigitalBookerConnector", "make"]
