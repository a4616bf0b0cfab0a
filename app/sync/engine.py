"""The sync engine: the branch server's link to its cloud, through a connector.

It runs as two asyncio tasks in the branch server's event loop (never in the GUI): the
**pusher** sends the outbox, the **puller** asks the cloud what changed. Neither makes the
loop wait on SQLite: HTTP is async and every write (a pulled page in batches of
:data:`APPLY_BATCH` bookings, one transaction each; a reply; a retry's bookkeeping) runs
on the store's writer thread (:meth:`app.store.Store.write`), with the events for desks in
the same transaction. Everything cloud-specific is the connector's
(:mod:`app.sync.connector`, found in :mod:`app.sync.registry`); what is here holds for
every cloud:

Push:

* The first waiting operation of each booking goes out (one booking's operations in order,
  others in parallel, at most ``concurrency`` at a time). The operation id stays the same
  on every retry.
* Before a write is sent the connector commits ``requestedAt``; it stays until the
  operation is answered for good. A retry of a creating operation with ``requestedAt`` set
  first asks the connector for candidates (:meth:`~app.sync.connector.Connector.find_sent`)
  and takes the unmapped one matching the natural key (customer, booking type, start);
  only when none matches is it sent again.
* When the cloud places a booking on another resource than the desk asked for, the booking
  takes the cloud's resource, with a history entry and a ``sync.moved`` event.
* A change to a booking the cloud never had (made before the branch was connected)
  creates it first (:meth:`SyncEngine.upload_local` offers the rest on connecting).
* Transient failures (no answer, 5xx, 429) and refused credentials → kept, retried after
  an exponential backoff with jitter (:func:`backoff_seconds`; ``Retry-After`` seconds
  when the cloud gives them) without waiting for a new local change.
* A refusal (validation, already assigned, slot taken, not found) → the local booking
  takes the cloud's state (none: a refused create becomes ``REJECTED``) and the case, with
  the later operations of that booking, goes to the needs-attention list; the rest of the
  queue goes on.

Pull: reference data (resources with time rules, booking types, customers) with every
``full`` pull (every ``horizon_every`` s), then the connector's pages (every ``hot_every``
s), each committed with the connector's cursor, in order; a connector whose pages do not
depend on what earlier pages wrote (``read_ahead``) has its next page fetched while one
is written. Bookings the cloud lists as deleted, and
bookings mapped locally but absent from a fully read window whose fetch by id finds
nothing, become ``CANCELED`` locally with their history, attendances and payments (unless
they have pending changes; one whose patient has arrived stays and needs attention). An expired cursor
restarts the pull. Time rules in a shape that cannot be read are kept as "hours unknown"
(:mod:`app.domain.timerules`), never as a closed clinic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from app.domain import clock
from app.domain.model import Action, EventType, Resolution, Status
from app.domain.rows import BookingRow, CustomerRow, OutboxOp
from app.store import Store
from app.store.changes import BookingChange
from app.sync import registry
from app.sync.apply import Applier
from app.sync.connection import save_secret
from app.sync.connector import (
    CloudBooking,
    CloudConfig,
    Connector,
    ConnectorInfo,
    Failure,
    FailureKind,
    NotSendable,
    Operation,
    PullPage,
    Window,
)
from app.sync.outbox import CREATING, Outbox, precise_now, stamp_ms
from app.sync.transport import backoff_seconds

log = logging.getLogger(__name__)
PULL_CURSOR = "pull"
#: pulled bookings written per transaction (:meth:`SyncEngine._apply_page`), whatever size
#: of page a connector pulls: a batch holds the writer for a few milliseconds, and a
#: smaller one costs more commits than it saves (each commit writes the indexes' pages)
APPLY_BATCH = 500
#: :meth:`SyncEngine._send`'s answer when the operation was replaced by others in the outbox
_QUEUED = object()


class Events(Protocol):
    def publish(self, type_: str, data: dict) -> dict: ...


class BookingPort(Protocol):
    """What the engine needs of the branch's booking service (it never imports the server):
    the ``store``, the live ``events``, the change ``listeners`` (``listener(action, before,
    after, actor)`` inside the write's transaction), ``time_rule_listeners``
    (``listener(resource_id, time_rules)``) and ``to_api(booking)`` (the API shape)."""

    store: Store

    @property
    def events(self) -> Events: ...

    listeners: list
    time_rule_listeners: list

    def to_api(self, booking: BookingRow) -> dict: ...


class CloudFailure(Exception):
    """A classified failure of a cloud call (:class:`~app.sync.connector.Failure`)."""

    def __init__(self, failure: Failure, cause: BaseException):
        super().__init__(str(cause))
        self.failure, self.cause = failure, cause


class _Context:
    """The :class:`~app.sync.connector.ConnectorContext` the engine lends its connector."""

    def __init__(self, engine: SyncEngine):
        self.engine = engine
        self._zone: tuple[int, str] | None = None  # (store generation, zone) read last

    @property
    def zone(self) -> str:
        """The branch's zone, read again after any committed write (a connector asks it for
        every booking of a page)."""
        store = self.engine.store
        if self._zone is None or self._zone[0] != store.generation:
            self._zone = (store.generation, store.zone)
        return self._zone[1]

    def now(self) -> datetime:
        return self.engine.now()

    def cloud_id(self, entity: str, local_id: str) -> str | None:
        return self.engine.store.cloud_ids(local_id, entity).get(self.engine.cloud)

    def local_id(self, entity: str, cloud_id: str) -> str | None:
        return self.engine.store.local_id(self.engine.cloud, cloud_id, entity)

    def customer(self, local_id: str) -> CustomerRow | None:
        return self.engine.store.customer(local_id)

    def held_bookings(self, since: str) -> list[dict]:
        cloud = self.engine.cloud
        rows = self.engine.store.db.execute(
            "select c.cloudId, b.id, k.cloudId, b.customerId, b.startDateTime, b.status from cloud_ids c"
            " join bookings b on b.id = c.localId left join cloud_ids k on k.entity = 'customer'"
            " and k.cloud = c.cloud and k.localId = b.customerId"
            " where c.entity = 'booking' and c.cloud = ? and b.startDateTime >= ?",
            [cloud, since],
        ).fetchall()
        return [
            {
                "cloudId": r[0],
                "localId": r[1],
                "customer": r[2],
                "localCustomer": r[3],
                "startDateTime": r[4],
                "status": r[5],
            }
            for r in rows
        ]

    @property
    def pull_asked(self) -> bool:
        return self.engine.pull_asked

    async def off_loop(self, fn, *args):
        """:meth:`ConnectorContext.off_loop`: a worker thread, in turn with page writes."""
        async with self.engine._cpu_turn():
            return await asyncio.to_thread(fn, *args)

    async def mark_requested(self, op: Operation) -> None:
        stamp = clock.to_iso(self.engine.now())
        store = self.engine.store

        def mark():
            with store.transaction():
                store.db.execute(
                    "update sync_outbox set requestedAt = ?, attempts = attempts + 1 where id = ?",
                    [stamp, op.id],
                )

        await store.write(mark)
        op.requested_at = stamp

    async def save_steps(self, op: Operation, steps: dict) -> None:
        def save():
            with self.engine.store.transaction():
                self.engine.outbox.save_steps(op.id, steps)

        await self.engine.store.write(save)
        op.steps = dict(steps)

    async def save_secret(self, secret: str) -> None:
        config = self.engine.config
        await asyncio.to_thread(save_secret, config.secret_user, secret, config.cloud)


def _operation(op: OutboxOp) -> Operation:
    return Operation(
        op["id"],
        op["bookingId"],
        op["action"],
        cast(dict, op["payload"]),
        int(op.get("attempts") or 0),
        op.get("requestedAt"),
        dict(op.get("steps") or {}),
    )


class SyncEngine:
    """``SyncEngine(service, config)``; ``attach()`` registers the outbox listener (do it
    before the first local change); ``lifespan`` runs it beside the branch API.

    ``service``: a :class:`BookingPort`; ``config``: a :class:`CloudConfig` naming its
    cloud (``config.cloud``, a registered connector). Times: ``hot_every``/``horizon_every``
    seconds; ``horizon_days`` (first, last) days around today, branch-local, for a
    connector that lists windows; every stored time UTC. ``transport``: an httpx transport
    for the connector (tests).
    """

    def __init__(
        self,
        service: BookingPort,
        config: CloudConfig,
        *,
        hot_every: float = 5.0,
        horizon_every: float = 60.0,
        horizon_days: tuple[int, int] = (-1, 30),
        concurrency: int = 8,
        page_limit: int = 500,
        transport=None,
        info: ConnectorInfo | None = None,
    ):
        self.service, self.store, self.config = service, service.store, config
        self.info = info or registry.get(config.cloud)
        self.cloud = self.info.name
        self.hot_every, self.horizon_every = hot_every, horizon_every
        self.concurrency, self.transport = concurrency, transport
        self.ctx = _Context(self)
        self.connector: Connector = self.info.factory(
            config,
            self.ctx,
            transport=transport,
            options={"page_limit": page_limit, "horizon_days": horizon_days},
        )
        self.outbox = Outbox(
            self.store,
            self.cloud,
            now=precise_now,
            on_change=self.kick,
            plan=self.connector.plan,
            synced_fields=self.info.synced_fields,
        )
        self.applier = Applier(self.store, self.outbox, self.cloud, self.info.synced_fields)
        self.online: bool | None = None
        self.last_pull_at: str | None = self.store.setting(
            f"sync.{self.cloud}.lastPullAt"
        ) or self.store.setting("sync.lastPullAt")
        self.last_push_at: str | None = None
        self.last_error: str | None = None
        self.hours_unknown: list[str] = []  # resources whose pulled time rules could not be read
        self.pull_asked = False  # the pull running now was asked for (POST /sync/now, sync --once)
        self._opened = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._busy: set[str] = set()
        self._pull_lock: asyncio.Lock | None = None
        self._cpu: asyncio.Lock | None = None  # a page write, or a connector's off-loop reading
        self._pull_now = False
        self._attached = False
        self._key_locks: dict[tuple, asyncio.Lock] = {}

    # options the connector holds ----------------------------------------------------------
    @property
    def page_limit(self) -> int:
        return getattr(self.connector, "page_limit", 500)

    @page_limit.setter
    def page_limit(self, value: int) -> None:
        self.connector.page_limit = value  # type: ignore[attr-defined]  # connectors that page have it

    @property
    def capabilities(self):
        return self.info.capabilities

    # wiring -----------------------------------------------------------------------------
    def attach(self) -> SyncEngine:
        """Queue every later local change of the service (its change listener)."""
        if not self._attached:
            self.service.listeners.append(self.outbox.listener)
            self.service.time_rule_listeners.append(self.outbox.time_rules_listener)
            self._attached = True
        return self

    def detach(self) -> None:
        """Stop queueing the service's local changes (the engine is being disconnected)."""
        for listeners, listener in (
            (self.service.listeners, self.outbox.listener),
            (self.service.time_rule_listeners, self.outbox.time_rules_listener),
        ):
            if listener in listeners:
                listeners.remove(listener)
        self._attached = False

    def kick(self) -> None:
        """Wake the pusher (thread-safe; called after a change is queued)."""
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    def now(self) -> datetime:
        """Aware UTC with sub-second precision (retry times); the wall clock."""
        return precise_now()

    async def open(self) -> None:
        """Open the connector in the running loop (idempotent)."""
        if not self._opened:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._pull_lock = asyncio.Lock()
            self._cpu = asyncio.Lock()
            self._key_locks = {}
            self._busy = set()
            await self.connector.open()
            self._opened = True

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._opened:
            await self.connector.close()
            self._opened = False

    def start(self) -> None:
        """Start the pusher and puller tasks in the running loop (after :meth:`open`)."""
        self._tasks = [
            asyncio.create_task(self._push_loop(), name="sync-push"),
            asyncio.create_task(self._pull_loop(), name="sync-pull"),
        ]

    def lifespan(self, _app=None):
        """An async context manager factory for ``create_app(extra_lifespan=...)``."""

        @asynccontextmanager
        async def run(_api):
            await self.open()
            self.start()
            try:
                yield
            finally:
                await self.close()

        return run

    # failures ---------------------------------------------------------------------------
    def classify(self, exc: BaseException) -> Failure | None:
        if isinstance(exc, CloudFailure):
            return exc.failure
        return self.connector.classify(exc)

    async def _call(self, coro):
        """Await a connector call, raising :class:`CloudFailure` for a cloud error."""
        try:
            return await coro
        except CloudFailure:
            raise
        except Exception as exc:
            failure = self.connector.classify(exc)
            if failure is None:
                raise
            raise CloudFailure(failure, exc) from exc

    # status -----------------------------------------------------------------------------
    def status(self) -> dict:
        """``GET /sync/status``: ``{online, connected, cloud, baseUrl, lastPullAt (UTC),
        lastPushAt, pending, needsAttention, lastError, hoursUnknown, unsynced, pullGap, cloudTitle,
        customerRequires}``
        (``hoursUnknown``: ids of resources whose working hours came in a shape that cannot be
        read; ``unsynced``: local bookings the cloud does not have, see :meth:`upload_local`;
        ``pullGap``: a msgid saying what the cloud's pull cannot see, or None;
        ``customerRequires``: the customer fields the cloud needs to take a booking)."""
        return {
            "online": bool(self.online),
            "connected": True,
            "cloud": self.cloud,
            "baseUrl": self.config.base_url,
            "lastPullAt": self.last_pull_at,
            "lastPushAt": self.last_push_at,
            "pending": self.outbox.pending_count(),
            "needsAttention": self.outbox.attention_count(),
            "lastError": self.last_error,
            "hoursUnknown": list(self.hours_unknown),
            "unsynced": self.unsynced_count(),
            "pullGap": getattr(self.connector, "pull_gap", None),
            "cloudTitle": self.info.title,
            "customerRequires": list(self.info.customer_requires),
        }

    _UNSYNCED = (
        "from bookings b where b.status not in (?, ?) and not exists (select 1 from cloud_ids c"
        " where c.entity = 'booking' and c.cloud = ? and c.localId = b.id) and not exists"
        " (select 1 from sync_outbox o where o.cloud = ? and o.bookingId = b.id)"
    )

    def unsynced_count(self) -> int:
        """Local bookings the cloud does not have and nothing will send (made before the
        branch was connected): what :meth:`upload_local` would queue."""
        args = [Status.CANCELED.value, Status.REJECTED.value, self.cloud, self.cloud]
        return self.store.db.execute("select count(*) " + self._UNSYNCED, args).fetchone()[0]

    def _ok(self) -> None:
        self.online, self.last_error = True, None

    def _failed(self, exc: Exception) -> None:
        failure = self.classify(exc)
        if failure is not None and failure.kind == FailureKind.TRANSIENT:
            self.online = False
        self.last_error = str(exc)

    # loops ------------------------------------------------------------------------------
    async def _push_loop(self) -> None:
        while True:
            self._wake.clear()  # before the push: a change queued while it runs wakes the next one
            try:
                await self.push()
            except Exception as exc:  # keep the loop alive; logged
                log.exception("sync push failed")
                self._failed(exc)
            due = self.outbox.next_attempt_at()
            timeout = 30.0
            if due:
                timeout = max(0.05, min(timeout, (clock.from_iso(due) - self.now()).total_seconds() + 0.01))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _pull_loop(self) -> None:
        next_horizon = next_hot = 0.0
        while True:
            started = time.monotonic()
            try:
                if started >= next_horizon or self._pull_now:
                    self.pull_asked, self._pull_now = self._pull_now, False
                    try:
                        await self.pull(horizon=True)
                    finally:
                        self.pull_asked = False
                    next_horizon = time.monotonic() + self.horizon_every
                else:
                    await self.pull(horizon=False)
                next_hot = time.monotonic() + self.hot_every
            except Exception as exc:
                if self.classify(exc) is None:
                    log.exception("sync pull failed")
                self._failed(exc)
                next_hot = time.monotonic() + self.hot_every
            await asyncio.sleep(max(0.0, min(next_hot, next_horizon) - time.monotonic()))

    def request_cycle(self) -> None:
        """``POST /sync/now``: retry every waiting operation now and pull everything soon."""
        self.outbox.retry_all_now()
        self._pull_now = True
        self.kick()

    def _cloud_error(self, exc: BaseException) -> bool:
        return self.classify(exc) is not None

    async def sync_once(self, deadline: float = 60.0) -> dict:
        """One full push and pull (``sync --once``, tests): every waiting operation is sent,
        retrying transient failures until ``deadline`` seconds have passed, then everything
        is pulled. Returns :meth:`status`. Raises nothing for cloud failures (they are in the
        status)."""
        await self.open()
        end = time.monotonic() + deadline
        self.outbox.retry_all_now()
        try:
            await self.pull_reference()
        except Exception as exc:
            if not self._cloud_error(exc):
                raise
            self._failed(exc)
        while self.outbox.pending_count() and time.monotonic() < end:
            await self.push()
            due = self.outbox.next_attempt_at()
            if self.outbox.pending_count() and due:
                wait = (clock.from_iso(due) - self.now()).total_seconds()
                await asyncio.sleep(min(max(0.02, wait), max(0.0, end - time.monotonic())))
        for _ in range(3):
            try:
                self.pull_asked = True
                await self.pull(horizon=True, reference=False)
                break
            except Exception as exc:
                if not self._cloud_error(exc):
                    raise
                self._failed(exc)
                if time.monotonic() > end:
                    break
                await asyncio.sleep(0.5)
            finally:
                self.pull_asked = False
        return self.status()

    # push -------------------------------------------------------------------------------
    async def push(self) -> int:
        """Send every operation that is due (one per booking at a time, in order per booking)
        until none is due. Returns how many operations were tried."""
        tried = 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(op: OutboxOp) -> None:
            async with semaphore:
                try:
                    await self._push_op(op)
                finally:
                    self._busy.discard(op["bookingId"])

        while True:
            ops = self.outbox.ready(self.now(), self._busy)
            if not ops:
                return tried
            for op in ops:
                self._busy.add(op["bookingId"])
            tried += len(ops)
            await asyncio.gather(*(one(op) for op in ops))

    def _creates(self, op: OutboxOp) -> bool:
        """Does ``op`` make a new cloud booking (looked up by natural key after a lost reply)?"""
        return op["action"] in CREATING or bool((op["payload"] or {}).get("creates"))

    async def _push_op(self, op: OutboxOp) -> None:
        if op["bookingId"].startswith("resource:"):
            return await self._push_time_rules(op)
        booking = self.store.booking(op["bookingId"])
        if booking is None:
            await self.store.write(self._remove, op["id"])
            return
        lock: contextlib.AbstractAsyncContextManager = contextlib.nullcontext()
        if self._creates(op) and op["action"] != "reschedule":  # one create per natural key at a time
            # the key of the look-up after a lost reply (Applier.matches): no resource, so two
            # creates it cannot tell apart never look up while the other's answer is unwritten
            desk = op["payload"]["after"]
            key = (desk["customerId"], desk["typeId"], desk.get("startDateTime"))
            lock = self._key_locks.setdefault(key, asyncio.Lock())
        async with lock:
            await self._push_locked(op, booking)

    async def _push_locked(self, op: OutboxOp, booking: BookingRow) -> None:
        try:
            result = await self._send(op, booking)
        except NotSendable as exc:
            await self.store.write(self._not_sendable, op, exc)
        except Exception as exc:
            failure = self.classify(exc)
            if failure is None:
                raise
            if failure.kind in (FailureKind.TRANSIENT, FailureKind.AUTH, FailureKind.CURSOR_EXPIRED):
                await self._retry_later(op, exc, failure.retry_after)
            else:
                await self._refused(op, failure)
        else:
            self._ok()
            self.last_push_at = clock.to_iso(self.now())
            if result is _QUEUED:
                return
            if result is not None:
                await self.store.write(self._acknowledge, op, result)
            else:  # answered, with nothing to apply
                await self.store.write(self._remove, op["id"])

    def _remove(self, op_id: str) -> None:
        """Drop an answered operation from the outbox (writer thread)."""
        with self.store.transaction():
            self.outbox.remove(op_id)

    async def _send(self, op: OutboxOp, booking: BookingRow):
        """Send one operation; returns the cloud's booking (None: nothing to apply;
        :data:`_QUEUED`: the operation was replaced by others in the outbox)."""
        cloud_id = self.applier.cloud_id(booking["id"])
        creates = self._creates(op)
        if creates and op["action"] != "reschedule":
            if cloud_id and op["action"] != "restore":  # a pull already recognised it
                found = await self._call(self.connector.fetch(cloud_id))
                if found is None:
                    raise CloudFailure(
                        Failure(FailureKind.NOT_FOUND, "NOT-FOUND", f"cloud booking {cloud_id} is gone"),
                        LookupError(cloud_id),
                    )
                return found
        elif cloud_id is None:  # never reached the cloud (made before connecting, or refused)
            await self._create_first(op, booking)
            return _QUEUED
        operation = _operation(op)
        if creates and op.get("requestedAt"):  # an earlier attempt may have committed
            candidates = await self._call(self.connector.find_sent(operation))
            found = self.applier.find_created(candidates, op, self.now())
            if found is not None:
                return found
        result = await self._call(self.connector.send(operation))
        op["requestedAt"] = operation.requested_at
        if result.payment_id:
            await self.store.write(self._map_payment, op, result.payment_id)
        return result.booking

    def _map_payment(self, op: OutboxOp, cloud_payment_id: str) -> None:
        """A pushed payment's cloud id: kept with the desk's payment so a pull does not bring
        it back as a second payment (writer thread)."""
        after = cast(dict[str, Any], op["payload"].get("after") or {})
        payment = after.get("payment") or {}
        if not payment.get("id"):
            return
        with self.store.transaction():
            if self.applier.map_payment(payment["id"], cloud_payment_id, op["bookingId"], self.now()):
                self._publish([op["bookingId"]])

    async def _push_time_rules(self, op: OutboxOp) -> None:
        """A time-rule edit of the desk → the connector. Transient failures retry; a refusal
        (or hours that cannot be written) is logged and the cloud's rules come back with the
        next pull."""
        resource_id = op["payload"]["resourceId"]
        try:
            await self._call(self.connector.send(_operation(op)))
        except CloudFailure as exc:
            if exc.failure.kind in (FailureKind.TRANSIENT, FailureKind.AUTH):
                return await self._retry_later(op, exc, exc.failure.retry_after)
            log.warning("sync: the cloud refused the time rules of %s: %s", resource_id, exc)
        except ValueError as exc:
            log.warning("sync: time rules of %s not sent: %s", resource_id, exc)
        else:
            self._ok()
        await self.store.write(self._remove, op["id"])
        return None

    async def _create_first(self, op: OutboxOp, booking: BookingRow) -> None:
        """A change to a booking the cloud has never had: the booking is created first, in
        its current state, which already holds this change and the later ones. A booking
        that is over (canceled, rejected) has nothing to send. Its ``end`` still follows."""

        def queue_create():
            later = self.outbox.later_ops(op)
            with self.store.transaction():
                for dropped in [op, *later]:
                    self.outbox.remove(dropped["id"])
                if booking["status"] in (Status.CANCELED, Status.REJECTED):
                    log.info(
                        "sync: %s of %s dropped: the cloud never had the booking and it is over",
                        op["action"],
                        booking["id"],
                    )
                    return
                self.outbox.add(
                    booking["id"],
                    "create",
                    {"before": None, "after": booking, "actor": op["payload"].get("actor"), "creates": True},
                    list(self.info.synced_fields),
                )
                if any(o["action"] == "end" for o in [op, *later]):
                    self.outbox.add(
                        booking["id"], "end", {"before": booking, "after": booking, "actor": None}, []
                    )

        await self.store.write(queue_create)
        self.kick()
        return None

    def upload_local(self) -> int:
        """Queue a create for every local booking the cloud does not have (made before the
        branch was connected) that is not over and has nothing waiting in the outbox.
        Returns how many were queued. The caller refuses the demo clinic first."""
        rows = list(
            self.store.db.query(
                "select b.id " + self._UNSYNCED + " order by b.createdAt",
                [Status.CANCELED.value, Status.REJECTED.value, self.cloud, self.cloud],
            )
        )
        count = 0
        with self.store.transaction():
            for row in rows:
                booking = self.store.booking(row["id"])
                self.outbox.add(
                    booking["id"],
                    "create",
                    {"before": None, "after": booking, "actor": {"user": "upload"}, "creates": True},
                    list(self.info.synced_fields),
                )
                count += 1
        self.kick()
        return count

    async def _retry_later(self, op: OutboxOp, exc: Exception, retry_after: float | None) -> None:
        """Keep ``op`` for a retry after the backoff. ``requestedAt`` stays: an earlier
        attempt may have committed whatever the last one met (a 503 or 429 on the look-up
        says nothing about the write), so the retry looks by natural key first."""
        self._failed(exc)
        attempts = int(op.get("attempts") or 0) + 1
        due = self.now() + timedelta(seconds=backoff_seconds(attempts, retry_after))

        def keep():
            with self.store.transaction():
                self.store.db.execute(
                    "update sync_outbox set attempts = max(attempts, ?), nextAttemptAt = ?, lastError = ?"
                    " where id = ?",
                    [attempts, stamp_ms(due), str(exc)[:500], op["id"]],
                )

        await self.store.write(keep)
        log.info(
            "sync: %s of %s kept for retry in %s: %s", op["action"], op["bookingId"], clock.to_iso(due), exc
        )

    def _acknowledge(self, op: OutboxOp, result: CloudBooking) -> None:
        """The cloud accepted ``op``: map ids, drop the row, take the cloud's state (one
        transaction with its events; on the writer thread, :meth:`Store.write`)."""
        local_id, now = op["bookingId"], self.now()
        with self.store.transaction():
            if self._creates(op):
                holder = self.store.local_id(self.cloud, result.cloud_id)
                if holder not in (None, local_id):  # never steal another booking's cloud id
                    log.error(
                        "sync: cloud booking %s is already %s's, not %s's", result.cloud_id, holder, local_id
                    )
                    self.outbox.remove(op["id"])
                    return
                if holder is None:
                    self.applier.remap(local_id, result.cloud_id, now)
            self.outbox.remove(op["id"])
            booking = self.store.booking(local_id)
            changed = (
                self.applier.apply_bookings(
                    [result],
                    self.store.zone,
                    now,
                    fallback_customers={result.cloud_id: booking["customerId"]},
                )
                if booking
                else []
            )
            moved = self._moved(op, result, booking, now)
            self._publish(changed)
            if moved:
                self.service.events.publish(EventType.SYNC_MOVED, moved)

    def _moved(
        self, op: OutboxOp, result: CloudBooking, booking: BookingRow | None, now: datetime
    ) -> dict | None:
        """The cloud placed a booking on another resource than the desk chose (the booking
        takes the cloud's resource and the move is shown). Writes a history entry and
        returns the ``sync.moved`` event data, or None."""
        asked = (op["payload"].get("after") or {}).get("resourceId")
        placed = result.row.get("resourceId")
        if placed:
            placed = self.store.local_id(self.cloud, placed, "resource") or placed
        if not self._creates(op) or not asked or not placed or str(placed) == asked or booking is None:
            return None
        self.store.add_history(
            {
                "bookingId": booking["id"],
                "createdAt": clock.to_iso(now),
                "action": Action.SYNC_MOVED,
                "actor": self.cloud,
                "deskId": None,
                "before": {"resourceId": asked},
                "after": {
                    "resourceId": str(placed),
                    "message": "the cloud placed the booking on another resource",
                },
            }
        )
        log.warning("sync: the cloud placed %s on %s, not on %s", booking["id"], placed, asked)
        return {"bookingId": booking["id"], "asked": asked, "resourceId": str(placed)}

    async def _refused(self, op: OutboxOp, failure: Failure) -> None:
        """A refusal: the local booking takes the cloud's state; the case needs attention."""
        self._ok()
        cloud_id = self.applier.cloud_id(op["bookingId"])
        cloud_state: CloudBooking | None = None
        if cloud_id:
            try:
                cloud_state = await self._call(self.connector.fetch(cloud_id))
            except CloudFailure as exc:
                if exc.failure.kind in (FailureKind.TRANSIENT, FailureKind.AUTH):
                    return await self._retry_later(op, exc, exc.failure.retry_after)
        await self.store.write(self._take_refusal, op, failure, cloud_state)
        return None

    def _take_refusal(self, op: OutboxOp, failure: Failure, cloud_state: CloudBooking | None) -> None:
        """:meth:`_refused`'s write, one transaction with its events (writer thread)."""
        now = self.now()
        with self.store.transaction():
            if self.outbox.op(op["id"]) is None:
                return
            later = self.outbox.later_ops(op)
            for dropped in [op, *later]:
                self.outbox.remove(dropped["id"])
            self.outbox.add_attention(
                op,
                failure.code,
                failure.message,
                (cloud_state.raw or cloud_state.row) if cloud_state else None,
                later,
            )
            if cloud_state is not None:
                changed = self.applier.apply_bookings([cloud_state], self.store.zone, now)
            else:
                changed = self._reject_locally(op["bookingId"], failure, now)
            self._publish(changed)
            self.service.events.publish(
                EventType.SYNC_ATTENTION,
                {"bookingId": op["bookingId"], "code": failure.code, "message": failure.message},
            )
        log.warning(
            "sync: the cloud refused %s of %s: %s %s",
            op["action"],
            op["bookingId"],
            failure.code,
            failure.message,
        )

    def _not_sendable(self, op: OutboxOp, exc: NotSendable) -> None:
        """The connector cannot express ``op`` (:class:`~app.sync.connector.NotSendable`): the
        booking stays as the desk has it; ``op`` and the later operations of the booking leave
        the outbox for a needs-attention case (the exception's ``code``, ``SYNC-NOT-SENT`` unless
        the connector names its own) that a re-apply sends again.
        One transaction with its event (writer thread)."""
        with self.store.transaction():
            if self.outbox.op(op["id"]) is None:
                return
            later = self.outbox.later_ops(op)
            for dropped in [op, *later]:
                self.outbox.remove(dropped["id"])
            self.outbox.add_attention(op, exc.code, str(exc), None, later)
            self.service.events.publish(
                EventType.SYNC_ATTENTION,
                {"bookingId": op["bookingId"], "code": exc.code, "message": str(exc)},
            )
        log.warning("sync: %s of %s not sent: %s", op["action"], op["bookingId"], exc)

    def _reject_locally(self, local_id: str, failure: Failure, now: datetime) -> list[str]:
        booking = self.store.booking(local_id)
        if booking is None or booking["status"] == Status.REJECTED:
            return []
        self._write(booking, {"status": Status.REJECTED.value}, now, f"{failure.code}: {failure.message}")
        return [local_id]

    def _write(self, booking: BookingRow, changes: dict, now: datetime, note: str | None = None) -> None:
        stamp = clock.to_iso(now)
        row = {**booking, **changes, "updatedAt": stamp, "version": int(booking.get("version") or 0) + 1}
        self.store.write_changes(
            [BookingChange(Action.SYNC, booking, row, self.cloud, extra={"message": note} if note else None)],
            stamp,
        )

    def _publish(self, changed: list[str]) -> None:
        """``booking.changed`` for each changed local booking (``resync`` for more than 50);
        inside the write's transaction, the events reach desks after its commit."""
        if not changed:
            return
        if len(changed) > 50:
            self.service.events.publish(EventType.RESYNC, {"reason": "sync"})
            return
        for local_id in changed:
            booking = self.store.booking(local_id)
            if booking is not None:
                self.service.events.publish(
                    EventType.BOOKING_CHANGED,
                    {"action": Action.SYNC, "booking": self.service.to_api(booking)},
                )

    # attention --------------------------------------------------------------------------
    def resolve(self, case_id: str, resolution: str) -> dict:
        """Close a needs-attention case: ``accept-cloud`` keeps the cloud's version (already
        applied); ``reapply`` writes the desk's version back and queues it again as new
        operations. Raises KeyError (unknown or closed case) or ValueError (bad resolution)."""
        if resolution not in tuple(Resolution):
            raise ValueError(f"resolution must be {' or '.join(Resolution)}")
        case = self.outbox.attention_case(case_id)
        if case is None or case.get("resolvedAt"):
            raise KeyError(case_id)
        now = self.now()
        changed: list[str] = []
        synced = self.info.synced_fields
        with self.store.transaction():
            if resolution == Resolution.REAPPLY:
                ops = [
                    {"action": case["desk"]["action"], "payload": case["desk"]["payload"]},
                    *case["desk"]["dropped"],
                ]
                booking = self.store.booking(case["bookingId"])
                if booking is not None:
                    desk = ops[-1]["payload"]["after"]
                    changes = {
                        k: desk.get(k) for k in synced if k != "createdAt" and desk.get(k) != booking.get(k)
                    }
                    if changes:
                        self._write(booking, changes, now, "desk version re-applied")
                        changed.append(booking["id"])
                    in_cloud = self.applier.cloud_id(booking["id"]) is not None
                    for op in ops:
                        action = op["action"]
                        if action == "pull":  # a problem found by a pull: nothing of the desk to send
                            continue
                        if action == "create" and in_cloud:
                            action = "reschedule"
                        if (
                            action != "create"
                            and not in_cloud
                            and not any(o["action"] == "create" for o in ops)
                        ):
                            continue
                        fields = [f for f in synced if f in (op["payload"].get("after") or {})]
                        self.outbox.add(booking["id"], action, op["payload"], fields)
            self.store.db.execute(
                "update sync_attention set resolvedAt = ?, resolution = ? where id = ?",
                [clock.to_iso(now), resolution, case_id],
            )
        self._publish(changed)
        self.kick()
        return self.outbox.attention_case(case_id)

    # pull -------------------------------------------------------------------------------
    async def pull_reference(self) -> dict:
        """Resources (with their time rules), booking types and customers. Raises the
        connector's error for a failed call."""
        ref = await self.connector.pull_reference()
        count, self.hours_unknown = await self.store.write(self._apply_reference, ref)
        self._ok()
        return {"resources": len(ref.resources), "types": len(ref.types), "customers": count}

    def _apply_reference(self, ref) -> tuple[int, list[str]]:
        """Write pulled reference data in one transaction (writer thread). Returns the
        customers written and the local ids of resources whose hours could not be read."""
        edited = self.outbox.time_rules_waiting()  # the desk's edit wins until the cloud has it
        edited_cloud = {self.store.cloud_ids(r, "resource").get(self.cloud) or r for r in edited}
        with self.store.transaction():
            self.applier.apply_reference("types", "type", ref.types)
            self.applier.apply_reference(
                "resources", "resource", ref.resources, keep=edited_cloud, keep_column="timeRules"
            )
            count = self.applier.apply_customers(ref.customers)
        resources = self.applier.reference_map("resource")
        return count, [resources.get(r, r) for r in ref.hours_unknown if r not in edited_cloud]

    def windows(self, horizon: bool) -> dict[str, dict]:
        """The listings of the next pull of a connector that lists windows (name → its
        parameters); ``{}`` for the others."""
        windows = getattr(self.connector, "windows", None)
        return windows(self._cursor(PULL_CURSOR), horizon) if windows else {}

    async def pull(self, horizon: bool = False, reference: bool | None = None) -> None:
        """One pull: reference data (with the horizon), then the connector's pages, each
        committed with its cursor; an expired cursor restarts the pull once. Raises the
        connector's error for a failed call (what :meth:`classify` reads)."""
        try:
            await self._pull(horizon, reference)
        except CloudFailure as exc:
            raise exc.cause from None

    async def _pull(self, horizon: bool, reference: bool | None) -> None:
        async with self._pull_lock:
            if reference if reference is not None else horizon:
                await self.pull_reference()
            cursor = self._cursor(PULL_CURSOR)
            for attempt in (1, 2):
                try:
                    await self._pull_pages(cursor, horizon)
                    break
                except CloudFailure as exc:
                    if exc.failure.kind != FailureKind.CURSOR_EXPIRED or attempt == 2:
                        raise
                    log.info("sync: the %s cursor expired; pulling again from the start", self.cloud)
                    cursor, horizon = None, True
            self.last_pull_at = clock.to_iso(self.now())
            await self.store.write(self.store.set_setting, f"sync.{self.cloud}.lastPullAt", self.last_pull_at)
            self._ok()

    async def _pull_pages(self, cursor: dict | None, full: bool) -> None:
        """The connector's pages, applied one after the other, each committed with its
        cursor. A connector that says ``read_ahead`` has its next page fetched (HTTP, then
        read off the loop) while this one is written; the next is applied only after this
        one (and the sweeps of the windows it ends) committed, and a failed apply drops it."""
        pages = self.connector.pull(cursor, full=full).__aiter__()

        async def fetch() -> PullPage | None:
            try:
                return await self._call(pages.__anext__())
            except StopAsyncIteration:
                return None

        ahead = bool(getattr(self.connector, "read_ahead", False))
        upcoming = asyncio.ensure_future(fetch()) if ahead else None
        try:
            while True:
                page = await upcoming if upcoming is not None else await fetch()
                if page is None:
                    return
                upcoming = asyncio.ensure_future(fetch()) if ahead else None
                await self._apply_page(page)
                for window in page.windows_done:
                    await self._sweep(window)
        finally:
            if upcoming is not None and not upcoming.done():
                upcoming.cancel()
                with contextlib.suppress(BaseException):
                    await upcoming
            elif upcoming is not None and not upcoming.cancelled():
                upcoming.exception()  # retrieved: a failure of a page never applied is not logged as lost
            aclose = getattr(pages, "aclose", None)  # an async generator's: its finally runs now
            if aclose is not None:
                with contextlib.suppress(BaseException):
                    await aclose()

    @asynccontextmanager
    async def _cpu_turn(self):
        """One page write or one off-loop reading at a time: read ahead, the next page's
        HTTP wait overlaps this page's write, its reading does not (two CPU-bound threads
        slow each other down on the interpreter lock, and the desk's GUI thread with them)."""
        if self._cpu is None:
            self._cpu = asyncio.Lock()
        async with self._cpu:
            yield

    async def _apply_page(self, page: PullPage) -> list[str]:
        """One page, in batches of at most :data:`APPLY_BATCH` bookings, each one transaction
        on the store's writer thread (:meth:`Store.write`): the loop serves desks meanwhile
        and a desk's write waits for one batch at most. The page's deletions and its cursor
        commit with the last batch, so a page cut short (a crash) is pulled again from the
        previous cursor and its applied batches are found mapped (nothing twice). Returns
        the local ids whose row changed."""
        bookings = page.bookings
        batches = [bookings[i : i + APPLY_BATCH] for i in range(0, len(bookings), APPLY_BATCH)] or [[]]
        changed: list[str] = []
        async with self._cpu_turn():
            for number, batch in enumerate(batches):
                changed += await self.store.write(
                    self._apply_batch, page, batch, number == 0, number == len(batches) - 1
                )
        return changed

    def _apply_batch(
        self, page: PullPage, bookings: list[CloudBooking], first: bool, last: bool
    ) -> list[str]:
        """One transaction of :meth:`_apply_page` (under the writer lock): ``bookings`` (part of
        ``page``), their needs-attention cases and seen ids, the events for desks; with
        ``last`` also the page's deletions and its cursor."""
        with self.store.transaction():
            if first and page.window and page.restarted:
                self._forget_seen(page.window)
            changed = self.applier.apply_bookings(bookings, self.store.zone, self.now())
            noted = self._note_problems(bookings)
            if page.window and bookings:
                self.store.db.conn.executemany(
                    "insert or ignore into sync_seen (cloud, window, cloudId) values (?, ?, ?)",
                    [(self.cloud, page.window, b.cloud_id) for b in bookings],
                )
            if last and page.deleted:
                dirty = self.outbox.dirty_map()
                mapped = self.applier.booking_ids([str(c) for c in page.deleted])
                gone = {c: local for c, local in mapped.items() if local not in dirty}
                canceled, kept = self.applier.cancel_deleted(gone, self.store.zone, self.now())
                changed = list(dict.fromkeys([*changed, *canceled]))
                noted += self._note_deleted_during_visit(kept)
            if last and page.cursor is not None:
                self._set_cursor(PULL_CURSOR, page.cursor)
            # the events commit with the change they describe and reach desks after it
            for event in noted:
                self.service.events.publish(EventType.SYNC_ATTENTION, event)
            self._publish(changed)
        return changed

    def _note_problems(self, bookings: list[CloudBooking]) -> list[dict]:
        """A needs-attention case for each problem a connector reported on a pulled booking
        (``CloudBooking.problems``), once while it is open (inside the page's transaction).
        Returns the ``sync.attention`` event data of the new cases."""
        troubled = [b for b in bookings if b.problems]
        if not troubled:
            return []
        mapped = self.applier.booking_ids([b.cloud_id for b in troubled])
        noted: list[dict] = []
        for booking in troubled:
            local_id = mapped.get(booking.cloud_id)
            for problem in booking.problems if local_id else ():
                code = str(problem.get("code") or "CLOUD-PROBLEM")
                op = {
                    "id": f"pull:{booking.cloud_id}:{code}",
                    "bookingId": local_id,
                    "action": "pull",
                    "payload": {"cloudId": booking.cloud_id, "problem": problem},
                }
                noted += self._attention_once(
                    op, code, str(problem.get("message") or code), booking.raw or booking.row
                )
        return noted

    def _attention_once(self, op: dict, code: str, message: str, cloud_state: dict | None) -> list[dict]:
        """A needs-attention case found by a pull (``op``: its pseudo-operation), unless one with
        the same booking and ``code`` is still open. Returns its ``sync.attention`` event data
        (empty: already open)."""
        if self.store.db.execute(
            "select 1 from sync_attention where cloud = ? and bookingId = ? and code = ?"
            " and resolvedAt is null",
            [self.cloud, op["bookingId"], code],
        ).fetchone():
            return []
        self.outbox.add_attention(op, code, message, cloud_state, [])
        return [{"bookingId": op["bookingId"], "code": code, "message": message}]

    def _note_deleted_during_visit(self, local_ids: list[str]) -> list[dict]:
        """A needs-attention case (``SYNC-DELETED-DURING-VISIT``, once while open) for each
        booking the cloud deleted after the patient arrived: it stays as the desk has it.
        Returns the ``sync.attention`` event data of the new cases."""
        noted: list[dict] = []
        code = "SYNC-DELETED-DURING-VISIT"
        for local_id in local_ids:
            op = {
                "id": f"pull:{local_id}:{code}",
                "bookingId": local_id,
                "action": "pull",
                "payload": {"deleted": True},
            }
            noted += self._attention_once(
                op,
                code,
                "The cloud deleted this booking after the patient arrived; it is kept here.",
                {"deleted": True},
            )
        return noted

    def _forget_seen(self, window: str) -> None:
        self.store.db.execute("delete from sync_seen where cloud = ? and window = ?", [self.cloud, window])

    def _cursor(self, name: str):
        row = self.store.db.execute(
            "select value from sync_cursors where cloud = ? and name = ?", [self.cloud, name]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def _set_cursor(self, name: str, value) -> None:
        """Keep the pull cursor ``name`` (inside the caller's transaction; one statement)."""
        self.store.db.execute(
            "insert into sync_cursors (cloud, name, value, updatedAt) values (?, ?, ?, ?)"
            " on conflict (cloud, name) do update set value = excluded.value, updatedAt = excluded.updatedAt",
            [self.cloud, name, json.dumps(value), clock.to_iso(self.now())],
        )

    async def _sweep(self, window: Window) -> None:
        """Bookings mapped locally, inside a fully read window, absent from its listing."""
        column = "startDateTime" if window.column == "startDateTime" else "createdAt"
        sql = (
            "select c.cloudId, c.localId from cloud_ids c join bookings b on b.id = c.localId"
            f" where c.entity = 'booking' and c.cloud = ? and b.status not in ('CANCELED', 'REJECTED')"
            f" and b.{column} >= ?"
        )
        args = [self.cloud, window.start]
        if window.end:
            sql += f" and b.{column} < ?"
            args.append(window.end)
        sql += " and c.cloudId not in (select cloudId from sync_seen where cloud = ? and window = ?)"

        def missing_ones():
            return self.store.db.execute(
                sql, [*args, self.cloud, window.name]
            ).fetchall(), self.outbox.dirty_map()

        missing, dirty = await self.store.read(missing_ones)
        for cloud_id, local_id in missing:
            if local_id in dirty:
                continue
            current = await self._call(self.connector.fetch(cloud_id))
            await self.store.write(self._swept, cloud_id, local_id, current)
        await self.store.write(self._forget_window, window.name)

    def _swept(self, cloud_id: str, local_id: str, current: CloudBooking | None) -> None:
        """A booking absent from its window's listing: gone from the cloud (``current`` None)
        → removed here, else its fetched state applied (writer thread, one transaction)."""
        with self.store.transaction():
            if self.store.local_id(self.cloud, cloud_id) != local_id or self.outbox.dirty_fields(local_id):
                return
            if current is None:
                canceled, kept = self.applier.cancel_deleted(
                    {cloud_id: local_id}, self.store.zone, self.now()
                )
                for event in self._note_deleted_during_visit(kept):
                    self.service.events.publish(EventType.SYNC_ATTENTION, event)
                self._publish(canceled)
            else:
                self._publish(self.applier.apply_bookings([current], self.store.zone, self.now()))

    def _forget_window(self, window: str) -> None:
        with self.store.transaction():
            self._forget_seen(window)


__all__ = ["BookingPort", "CloudFailure", "SyncEngine", "backoff_seconds"]
