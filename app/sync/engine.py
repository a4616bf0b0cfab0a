"""The sync engine: the branch server's link to the Ehjzny cloud (issue #3).

It runs as two asyncio tasks in the branch server's event loop (never in the GUI): the
**pusher** sends the outbox, the **puller** polls the cloud. Neither blocks the loop for
long: HTTP is async (httpx) and pulled pages are written one page per transaction,
yielding between pages.

Push (issue #3 "Outbox", "Replies"; contract "Transport", "Behaviour"):

* The first waiting operation of each booking goes out (one booking's operations in order,
  others in parallel, at most ``concurrency`` at a time). The operation id stays the same
  on every retry.
* Before a create, hold or reschedule is sent, ``requestedAt`` is committed, and it stays
  until the operation is answered for good (a failed look-up is no answer). A retry of an
  operation with ``requestedAt`` set first looks for what an earlier attempt may have
  created, by natural key (``GET /management/bookings?customerId=&dateType=createdAt&
  from=<requestedAt - 1 min>``: customer, type, start; not the resource, which the cloud
  may have changed). A reschedule reads the old booking first: still active → sent again;
  ``CANCELED`` → the new booking is looked up the same way (contract "Reschedule
  replies"). Only when nothing is found is it sent again.
* The desk's resource goes as ``resourceFilters: {"resourceId": ..}``; when the cloud
  places the booking elsewhere the booking takes the cloud's resource, with a history
  entry and a ``sync.moved`` event (contract "Shapes the seed lost").
* A change to a booking the cloud never had (made before the branch was connected)
  creates it first (:meth:`SyncEngine.upload_local` offers the rest on connecting);
  holds go to ``scheduling/temporary`` and their confirmation to ``scheduling/confirm``;
  time-rule edits are sent with ``PUT .../timeRules`` in the contract's shape.
* No answer, 5xx, 429 → kept, retried after an exponential backoff with jitter
  (:func:`backoff_seconds`; ``Retry-After`` seconds when the cloud gives them) without
  waiting for a new local change. 401 → the access token is refreshed and the call retried
  once (an API key that is refused stays an error and is retried with backoff).
* Any other 4xx (validation, ``SCH-ALREADY_ASSIGNED``, ``BKS-110``, slot taken, not
  found) → the local booking takes the cloud's state (none: a refused create becomes
  ``REJECTED``) and the case, with the later operations of that booking, goes to the
  needs-attention list; the rest of the queue goes on.

Pull (issue #3 "Pull"; contract "no changed-since filter"): windows of
``GET /management/bookings``, each listed to the end, page by page; every page commits
with the listing's cursor (page token, cloud ids seen):

* ``day`` and ``queues`` (every ``hot_every`` s): bookings starting on the branch-local
  today, and bookings created since today's start − 3 h (queue bookings have no start);
* ``horizon`` (every ``horizon_every`` s): bookings starting from ``horizon_days[0]`` to
  ``horizon_days[1]`` days around today;
* ``created`` (with every hot pull): bookings created since the last pull (cursor =
  newest ``createdAt`` seen − 2 min), for bookings far ahead.

A booking mapped locally but absent from a fully read ``day``/``queues``/``horizon``
window is fetched by id: 404 → removed locally (unless it has pending changes);
otherwise its new state is applied (it moved out of the window). An expired page token
restarts that listing. Reference data (resources with time rules, booking types,
customers) is pulled with the horizon; time rules in a shape that cannot be read are kept
as "hours unknown" (:mod:`app.domain.timerules`), never as a closed clinic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from app.domain import clock, timerules
from app.domain.errors import ALREADY_ASSIGNED
from app.domain.model import Status
from app.server.service import BookingService
from app.sync.ehjzny import mapping
from app.sync.ehjzny.apply import LOOKUP_MARGIN, Applier
from app.sync.ehjzny.client import CloudError, EhjznyClient, TransportError
from app.sync.outbox import SYNCED_FIELDS, Outbox, precise_now, stamp_ms
from app.sync.settings import CloudConfig, save_secret

log = logging.getLogger(__name__)
CLOUD = "ehjzny"
SWEPT_WINDOWS = ("day", "queues", "horizon")
MAX_QUEUE_MINUTES = 180  # contract: assignmentTimeout is clamped to 5..180 minutes


def backoff_seconds(attempts: int, retry_after: float | None = None, *, base: float = 0.5,
                    cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempts`` (1, 2, ...): ``Retry-After`` when the
    cloud sent it (contract "Transport": honour it), else "full jitter" exponential backoff
    ``uniform(0.5, 1) × min(cap, base × 2^(attempts-1))``."""
    if retry_after is not None:
        return max(0.0, float(retry_after))
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling * (rng or random).uniform(0.5, 1.0)


class SyncEngine:
    """``SyncEngine(service, config)``; ``attach()`` registers the outbox listener (do it
    before the first local change); ``lifespan`` runs it beside the branch API.

    Times: ``hot_every``/``horizon_every`` seconds; ``horizon_days`` (first, last) days
    around today, branch-local; every stored time UTC.
    """

    def __init__(self, service: BookingService, config: CloudConfig, *, hot_every: float = 5.0,
                 horizon_every: float = 60.0, horizon_days: tuple[int, int] = (-1, 30),
                 concurrency: int = 8, page_limit: int = 500, transport=None):
        self.service, self.store, self.config = service, service.store, config
        self.hot_every, self.horizon_every, self.horizon_days = hot_every, horizon_every, horizon_days
        self.concurrency, self.page_limit, self.transport = concurrency, page_limit, transport
        self.outbox = Outbox(self.store, CLOUD, now=precise_now, on_change=self.kick)
        self.applier = Applier(self.store, self.outbox, CLOUD)
        self.client: EhjznyClient | None = None
        self.online: bool | None = None
        self.last_pull_at: str | None = self.store.setting("sync.lastPullAt")
        self.last_push_at: str | None = None
        self.last_error: str | None = None
        self.hours_unknown: list[str] = []  # resources whose pulled time rules could not be read
        self._access_token: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._busy: set[str] = set()
        self._pull_lock: asyncio.Lock | None = None
        self._pull_now = False
        self._attached = False
        self._key_locks: dict[tuple, asyncio.Lock] = {}

    # wiring -----------------------------------------------------------------------------
    def attach(self) -> SyncEngine:
        """Queue every later local change of the service (its change listener)."""
        if not self._attached:
            self.service.listeners.append(self.outbox.listener)
            self.service.time_rule_listeners.append(self.outbox.time_rules_listener)
            self._attached = True
        return self

    def kick(self) -> None:
        """Wake the pusher (thread-safe; called after a change is queued)."""
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    def now(self) -> datetime:
        """Aware UTC with sub-second precision (retry times); the wall clock."""
        return precise_now()

    async def open(self) -> None:
        """Create the HTTP client in the running loop (idempotent)."""
        if self.client is None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._pull_lock = asyncio.Lock()
            self._key_locks = {}
            self._busy = set()
            self.client = EhjznyClient(self.config.base_url, self.config.app_id, self._token,
                                       on_unauthorized=self._refresh, transport=self.transport)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def start(self) -> None:
        """Start the pusher and puller tasks in the running loop (after :meth:`open`)."""
        self._tasks = [asyncio.create_task(self._push_loop(), name="sync-push"),
                       asyncio.create_task(self._pull_loop(), name="sync-pull")]

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

    # auth ---------------------------------------------------------------------------------
    async def _token(self) -> str:
        if self.config.auth != "otp":
            return self.config.secret or ""
        if self._access_token is None:
            tokens = await self.client.call("token", params={"refreshToken": self.config.secret}, auth=False)
            self._access_token = tokens["accessToken"]
            if tokens.get("refreshToken") and tokens["refreshToken"] != self.config.secret:
                self.config.secret = tokens["refreshToken"]  # rotated: keep it where the old one was
                await asyncio.to_thread(save_secret, self.config.account, self.config.secret)
        return self._access_token

    async def _refresh(self) -> None:
        self._access_token = None

    # status -----------------------------------------------------------------------------
    def status(self) -> dict:
        """``GET /sync/status``: ``{online, connected, cloud, baseUrl, lastPullAt (UTC),
        lastPushAt, pending, needsAttention, lastError, hoursUnknown, unsynced}``
        (``hoursUnknown``: ids of resources whose working hours came in a shape that cannot be
        read; ``unsynced``: local bookings the cloud does not have, see :meth:`upload_local`)."""
        return {"online": bool(self.online), "connected": True, "cloud": CLOUD,
                "baseUrl": self.config.base_url, "lastPullAt": self.last_pull_at,
                "lastPushAt": self.last_push_at, "pending": self.outbox.pending_count(),
                "needsAttention": self.outbox.attention_count(), "lastError": self.last_error,
                "hoursUnknown": list(self.hours_unknown), "unsynced": self.unsynced_count()}

    _UNSYNCED = ("from bookings b where b.status not in (?, ?) and not exists (select 1 from cloud_ids c"
                 " where c.entity = 'booking' and c.cloud = ? and c.localId = b.id) and not exists"
                 " (select 1 from sync_outbox o where o.cloud = ? and o.bookingId = b.id)")

    def unsynced_count(self) -> int:
        """Local bookings the cloud does not have and nothing will send (made before the
        branch was connected): what :meth:`upload_local` would queue."""
        args = [Status.CANCELED.value, Status.REJECTED.value, CLOUD, CLOUD]
        return self.store.db.execute("select count(*) " + self._UNSYNCED, args).fetchone()[0]

    def _ok(self) -> None:
        self.online, self.last_error = True, None

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, TransportError) or (isinstance(exc, CloudError) and exc.transient):
            self.online = False
        self.last_error = str(exc)

    # loops ------------------------------------------------------------------------------
    async def _push_loop(self) -> None:
        while True:
            try:
                await self.push()
            except Exception as exc:  # keep the loop alive; logged
                log.exception("sync push failed")
                self._failed(exc)
            self._wake.clear()
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
                    self._pull_now = False
                    await self.pull(horizon=True)
                    next_horizon = time.monotonic() + self.horizon_every
                else:
                    await self.pull(horizon=False)
                next_hot = time.monotonic() + self.hot_every
            except Exception as exc:
                if not isinstance(exc, TransportError | CloudError):
                    log.exception("sync pull failed")
                self._failed(exc)
                next_hot = time.monotonic() + self.hot_every
            await asyncio.sleep(max(0.0, min(next_hot, next_horizon) - time.monotonic()))

    def request_cycle(self) -> None:
        """``POST /sync/now``: retry every waiting operation now and pull everything soon."""
        self.outbox.retry_all_now()
        self._pull_now = True
        self.kick()

    async def sync_once(self, deadline: float = 60.0) -> dict:
        """One full push and pull (``sync --once``, tests): every waiting operation is sent,
        retrying transient failures until ``deadline`` seconds have passed, then every
        window is pulled. Returns :meth:`status`. Raises nothing for cloud failures (they
        are in the status)."""
        await self.open()
        end = time.monotonic() + deadline
        self.outbox.retry_all_now()
        try:
            await self.pull_reference()
        except (TransportError, CloudError) as exc:
            self._failed(exc)
        while self.outbox.pending_count() and time.monotonic() < end:
            await self.push()
            due = self.outbox.next_attempt_at()
            if self.outbox.pending_count() and due:
                wait = (clock.from_iso(due) - self.now()).total_seconds()
                await asyncio.sleep(min(max(0.02, wait), max(0.0, end - time.monotonic())))
        for _ in range(3):
            try:
                await self.pull(horizon=True, reference=False)
                break
            except (TransportError, CloudError) as exc:
                self._failed(exc)
                if time.monotonic() > end:
                    break
                await asyncio.sleep(0.5)
        return self.status()

    # push -------------------------------------------------------------------------------
    async def push(self) -> int:
        """Send every operation that is due (one per booking at a time, in order per booking)
        until none is due. Returns how many operations were tried."""
        tried = 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(op: dict) -> None:
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

    async def _push_op(self, op: dict) -> None:
        if op["action"] == "time_rules":
            return await self._push_time_rules(op)
        booking = self.store.booking(op["bookingId"])
        if booking is None:
            with self.store.transaction():
                self.outbox.remove(op["id"])
            return
        lock = contextlib.nullcontext()
        if op["action"] in ("create", "hold"):  # one create per natural key at a time (no idempotency key)
            desk = op["payload"]["after"]
            key = (desk["customerId"], desk["typeId"], desk.get("startDateTime"), desk.get("resourceId"))
            lock = self._key_locks.setdefault(key, asyncio.Lock())
        async with lock:
            await self._push_locked(op, booking)

    async def _push_locked(self, op: dict, booking: dict) -> None:
        try:
            result = await self._send(op, booking)
        except TransportError as exc:
            self._retry_later(op, exc, None)
        except CloudError as exc:
            if exc.transient or exc.status == 401:
                self._retry_later(op, exc, exc.retry_after)
            else:
                await self._refused(op, exc)
        else:
            self._ok()
            self.last_push_at = clock.to_iso(self.now())
            if result is not None:
                self._acknowledge(op, result)

    async def _send(self, op: dict, booking: dict) -> dict | None:
        """Send one operation; returns the cloud's booking (None: nothing to apply)."""
        action, payload = op["action"], op["payload"]
        cloud_id = self.applier.cloud_id(booking["id"])
        if action in ("create", "hold"):
            if cloud_id:  # a pull already recognised it
                return await self.client.call("booking", ids={"id": cloud_id})
            if op.get("requestedAt"):
                found = await self._find_created(op)
                if found is not None:
                    return found
            body = self._create_body(payload["after"])
            if action == "hold":  # seed 000 "Create Temporary Booking"
                held = clock.from_iso(payload["after"].get("heldUntil"))
                body["reservedForMinutes"] = max(1, int(((held - self.now()).total_seconds() + 59) // 60)) \
                    if held else 15
            self._mark_requested(op)
            return await self.client.call("schedule_temporary" if action == "hold" else "schedule", body=body)
        if action == "restore":  # the cloud has no un-cancel: book the same booking there again
            if op.get("requestedAt"):
                found = await self._find_created(op)
                if found is not None:
                    return found
            body = self._create_body(payload["after"])
            self._mark_requested(op)
            return await self.client.call("schedule", body=body)
        if cloud_id is None:  # never reached the cloud (made before connecting, or refused)
            return await self._create_first(op, booking)
        if action == "reschedule":
            if op.get("requestedAt"):  # an earlier attempt may have committed (contract "Reschedule replies")
                old = await self.client.call("booking", ids={"id": cloud_id})
                if old.get("rescheduledTo"):  # not a seed field: used only when a deployment sends it
                    return await self.client.call("booking", ids={"id": old["rescheduledTo"]})
                if old.get("status") == Status.CANCELED:
                    found = await self._find_created(op)
                    if found is not None:
                        return found
            body = self._create_body(payload["after"], reschedule=cloud_id)
            self._mark_requested(op)
            return await self.client.call("schedule", body=body)
        self._mark_requested(op)
        if action == "assign":
            resource_id = payload["after"]["resourceId"]
            try:
                return await self.client.call("assign", body={"bookingId": cloud_id, "resourceId": resource_id})
            except CloudError as exc:
                if exc.code != ALREADY_ASSIGNED or op["attempts"] == 0:
                    raise
                current = await self.client.call("booking", ids={"id": cloud_id})
                if current.get("resourceId") != resource_id:  # not our earlier, unanswered attempt
                    raise
                return current
        if action == "cancel":
            reason = payload["after"].get("cancelReason") or "canceled at the desk"
            return await self.client.call("cancel", body={"bookingId": cloud_id, "reason": reason})
        if action == "end":
            return await self.client.call("end", body={"bookingId": cloud_id})
        if action == "confirm":  # seed 000 "Convert Temporary Booking into Confirmed Booking"
            return await self.client.call("confirm", body={"bookingId": cloud_id})
        raise ValueError(f"unknown outbox action {action!r}")

    async def _push_time_rules(self, op: dict) -> None:
        """A time-rule edit of the desk → ``PUT /management/resources/{id}/timeRules`` in the
        contract's shape. Transient failures retry; a refusal (or hours that cannot be
        written) is logged and the cloud's rules come back with the next pull."""
        resource_id = op["payload"]["resourceId"]
        try:
            body = mapping.time_rules_to_cloud(op["payload"]["after"])
            await self.client.call("put_time_rules", ids={"id": resource_id}, body=body)
        except TransportError as exc:
            return self._retry_later(op, exc, None)
        except CloudError as exc:
            if exc.transient or exc.status == 401:
                return self._retry_later(op, exc, exc.retry_after)
            log.warning("sync: the cloud refused the time rules of %s: %s", resource_id, exc)
        except mapping.MappingError as exc:
            log.warning("sync: time rules of %s not sent: %s", resource_id, exc)
        else:
            self._ok()
        with self.store.transaction():
            self.outbox.remove(op["id"])
        return None

    async def _create_first(self, op: dict, booking: dict) -> dict | None:
        """A change to a booking the cloud has never had: the booking is created first, in
        its current state, which already holds this change and the later ones. A booking
        that is over (canceled, rejected) has nothing to send. Its ``end`` still follows."""
        later = self.outbox.later_ops(op)
        with self.store.transaction():
            for dropped in [op, *later]:
                self.outbox.remove(dropped["id"])
            if booking["status"] in (Status.CANCELED, Status.REJECTED):
                log.info("sync: %s of %s dropped: the cloud never had the booking and it is over",
                         op["action"], booking["id"])
                return None
            fields = list(SYNCED_FIELDS)
            self.outbox.add(booking["id"], "create", {"before": None, "after": booking, "actor": op["payload"].get("actor")},
                            fields)
            if any(o["action"] == "end" for o in [op, *later]):
                self.outbox.add(booking["id"], "end", {"before": booking, "after": booking, "actor": None}, [])
        self.kick()
        return None

    def upload_local(self) -> int:
        """Queue a create for every local booking the cloud does not have (made before the
        branch was connected) that is not over and has nothing waiting in the outbox.
        Returns how many were queued. The caller refuses the demo clinic first."""
        rows = list(self.store.db.query("select b.id " + self._UNSYNCED + " order by b.createdAt",
                                        [Status.CANCELED.value, Status.REJECTED.value, CLOUD, CLOUD]))
        count = 0
        with self.store.transaction():
            for row in rows:
                booking = self.store.booking(row["id"])
                self.outbox.add(booking["id"], "create", {"before": None, "after": booking,
                                                          "actor": {"user": "upload"}}, list(SYNCED_FIELDS))
                count += 1
        self.kick()
        return count

    def _create_body(self, desk: dict, reschedule: str | None = None) -> dict:
        customer = self.store.customer(desk["customerId"]) or {}
        customer_cloud = self.store.cloud_ids(desk["customerId"], "customer").get(CLOUD)
        identifier = ({"id": customer_cloud} if customer_cloud else
                      {"phone": customer["phone"]} if customer.get("phone") else {"email": customer.get("email")})
        return mapping.booking_to_cloud(desk, self.store.zone, desk["typeId"], desk.get("resourceId"),
                                        identifier, reschedule_booking_id=reschedule)

    def _mark_requested(self, op: dict) -> None:
        stamp = clock.to_iso(self.now())
        with self.store.transaction():
            self.store.db.execute("update sync_outbox set requestedAt = ?, attempts = attempts + 1 where id = ?",
                                  [stamp, op["id"]])
        op["requestedAt"] = stamp

    async def _find_created(self, op: dict) -> dict | None:
        """The booking an unanswered create made, by natural key (contract "Behaviour")."""
        desk = op["payload"]["after"]
        customer_cloud = self.store.cloud_ids(desk["customerId"], "customer").get(CLOUD)
        since = clock.from_iso(op["requestedAt"]) - LOOKUP_MARGIN
        params = {"dateType": "createdAt", "from": clock.to_iso(since), "orderDirection": "asc",
                  "customerId": customer_cloud, "includes": "customer"}
        candidates = await self.client.all("bookings", params, limit=self.page_limit)
        return self.applier.find_created(candidates, op, self.store.zone, self.now())

    def _retry_later(self, op: dict, exc: Exception, retry_after: float | None) -> None:
        """Keep ``op`` for a retry after the backoff. ``requestedAt`` stays: an earlier
        attempt may have committed whatever the last one met (a 503 or 429 on the look-up
        says nothing about the write), so the retry looks by natural key first."""
        self._failed(exc)
        attempts = int(op.get("attempts") or 0) + 1
        due = self.now() + timedelta(seconds=backoff_seconds(attempts, retry_after))
        with self.store.transaction():
            self.store.db.execute(
                "update sync_outbox set attempts = max(attempts, ?), nextAttemptAt = ?, lastError = ?"
                " where id = ?", [attempts, stamp_ms(due), str(exc)[:500], op["id"]])
        log.info("sync: %s of %s kept for retry in %s: %s", op["action"], op["bookingId"],
                 clock.to_iso(due), exc)

    def _acknowledge(self, op: dict, result: dict) -> None:
        """The cloud accepted ``op``: map ids, drop the row, take the cloud's state."""
        local_id, now = op["bookingId"], self.now()
        with self.store.transaction():
            if op["action"] in ("create", "hold", "reschedule", "restore"):
                holder = self.store.local_id(CLOUD, str(result["id"]))
                if holder not in (None, local_id):  # never steal another booking's cloud id
                    log.error("sync: cloud booking %s is already %s's, not %s's", result["id"], holder, local_id)
                    self.outbox.remove(op["id"])
                    return
                if holder is None:
                    self.applier.remap(local_id, str(result["id"]), now)
            self.outbox.remove(op["id"])
            booking = self.store.booking(local_id)
            changed = self.applier.apply_bookings([result], self.store.zone, now,
                                                  fallback_customers={str(result["id"]): booking["customerId"]}
                                                  ) if booking else []
            moved = self._moved(op, result, booking, now)
        self._publish(changed)
        if moved:
            self.service.events.publish("sync.moved", moved)

    def _moved(self, op: dict, result: dict, booking: dict | None, now: datetime) -> dict | None:
        """The cloud placed a booking on another resource than the desk chose (contract
        "Shapes the seed lost": the connector takes the cloud's resource and shows the
        move). Writes a history entry and returns the ``sync.moved`` event data, or None."""
        asked = (op["payload"].get("after") or {}).get("resourceId")
        placed = result.get("resourceId") or (result.get("resource") or {}).get("id")
        if op["action"] not in ("create", "hold", "reschedule") or not asked or not placed or str(placed) == asked \
                or booking is None:
            return None
        self.store.add_history({"bookingId": booking["id"], "createdAt": clock.to_iso(now), "action": "sync.moved",
                                "actor": CLOUD, "deskId": None, "before": {"resourceId": asked},
                                "after": {"resourceId": str(placed),
                                          "message": "the cloud placed the booking on another resource"}})
        log.warning("sync: the cloud placed %s on %s, not on %s", booking["id"], placed, asked)
        return {"bookingId": booking["id"], "asked": asked, "resourceId": str(placed)}

    async def _refused(self, op: dict, exc: CloudError) -> None:
        """A refusal: the local booking takes the cloud's state; the case needs attention."""
        self._ok()
        cloud_id = self.applier.cloud_id(op["bookingId"])
        cloud_state = None
        if cloud_id:
            try:
                cloud_state = await self.client.call("booking", ids={"id": cloud_id})
            except CloudError as state_exc:
                if state_exc.transient or state_exc.status == 401:
                    return self._retry_later(op, state_exc, state_exc.retry_after)
            except TransportError as state_exc:
                return self._retry_later(op, state_exc, None)
        now = self.now()
        with self.store.transaction():
            if self.outbox.op(op["id"]) is None:
                return None
            later = self.outbox.later_ops(op)
            for dropped in [op, *later]:
                self.outbox.remove(dropped["id"])
            self.outbox.add_attention(op, exc.code, exc.message, cloud_state, later)
            if cloud_state is not None:
                changed = self.applier.apply_bookings([cloud_state], self.store.zone, now)
            else:
                changed = self._reject_locally(op["bookingId"], exc, now)
        log.warning("sync: the cloud refused %s of %s: %s", op["action"], op["bookingId"], exc)
        self._publish(changed)
        self.service.events.publish("sync.attention", {"bookingId": op["bookingId"], "code": exc.code,
                                                       "message": exc.message})
        return None

    def _reject_locally(self, local_id: str, exc: CloudError, now: datetime) -> list[str]:
        booking = self.store.booking(local_id)
        if booking is None or booking["status"] == Status.REJECTED:
            return []
        self._write(booking, {"status": Status.REJECTED.value}, now, f"{exc.code}: {exc.message}")
        return [local_id]

    def _write(self, booking: dict, changes: dict, now: datetime, note: str | None = None) -> None:
        stamp = clock.to_iso(now)
        row = {**booking, **changes, "updatedAt": stamp, "version": int(booking.get("version") or 0) + 1}
        self.store.replace_booking(row)
        self.store.add_history({"bookingId": booking["id"], "createdAt": stamp, "action": "sync", "actor": CLOUD,
                                "deskId": None, "before": {k: booking.get(k) for k in changes},
                                "after": {**changes, **({"message": note} if note else {})}})

    def _publish(self, changed: list[str]) -> None:
        if not changed:
            return
        if len(changed) > 50:
            self.service.events.publish("resync", {"reason": "sync"})
            return
        for local_id in changed:
            booking = self.store.booking(local_id)
            if booking is not None:
                self.service.events.publish("booking.changed", {"action": "sync",
                                                                "booking": self.service.to_api(booking)})

    # attention --------------------------------------------------------------------------
    def resolve(self, case_id: str, resolution: str) -> dict:
        """Close a needs-attention case: ``accept-cloud`` keeps the cloud's version (already
        applied); ``reapply`` writes the desk's version back and queues it again as new
        operations. Raises KeyError (unknown or closed case) or ValueError (bad resolution)."""
        if resolution not in ("accept-cloud", "reapply"):
            raise ValueError("resolution must be accept-cloud or reapply")
        case = self.outbox.attention_case(case_id)
        if case is None or case.get("resolvedAt"):
            raise KeyError(case_id)
        now = self.now()
        changed: list[str] = []
        with self.store.transaction():
            if resolution == "reapply":
                ops = [{"action": case["desk"]["action"], "payload": case["desk"]["payload"]},
                       *case["desk"]["dropped"]]
                booking = self.store.booking(case["bookingId"])
                if booking is not None:
                    desk = ops[-1]["payload"]["after"]
                    changes = {k: desk.get(k) for k in SYNCED_FIELDS if k != "createdAt" and desk.get(k) != booking.get(k)}
                    if changes:
                        self._write(booking, changes, now, "desk version re-applied")
                        changed.append(booking["id"])
                    in_cloud = self.applier.cloud_id(booking["id"]) is not None
                    for op in ops:
                        action = op["action"]
                        if action == "create" and in_cloud:
                            action = "reschedule"
                        if action != "create" and not in_cloud and not any(o["action"] == "create" for o in ops):
                            continue
                        fields = [f for f in SYNCED_FIELDS if f in (op["payload"].get("after") or {})]
                        self.outbox.add(booking["id"], action, op["payload"], fields)
            self.store.db.execute("update sync_attention set resolvedAt = ?, resolution = ? where id = ?",
                                  [clock.to_iso(now), resolution, case_id])
        self._publish(changed)
        self.kick()
        return self.outbox.attention_case(case_id)

    # pull -------------------------------------------------------------------------------
    async def pull_reference(self) -> dict:
        """Resources (with their time rules), booking types and customers."""
        resources = await self.client.all("resources", limit=self.page_limit)
        rules, unknown = {}, []
        edited = self.outbox.time_rules_waiting()  # the desk's edit wins until the cloud has it
        for resource in resources:
            rid = str(resource["id"])
            if rid in edited:
                continue
            try:
                raw = await self.client.call("time_rules", ids={"id": resource["id"]})
            except CloudError as exc:
                if exc.transient:
                    raise
                raw = timerules.unknown(f"{exc.code}: {exc.message}")
            rules[rid] = mapping.time_rules_from_cloud(raw)
            if timerules.is_unknown(rules[rid]):  # never "closed": the desk books without the hours
                unknown.append(rid)
                log.warning("sync: working hours of resource %s cannot be read (%s): hours unknown",
                            rid, rules[rid]["reason"])
        self.hours_unknown = unknown
        types = await self.client.all("types", limit=self.page_limit)
        customers = await self.client.all("customers", limit=self.page_limit)
        with self.store.transaction():
            self.store.upsert("types", [mapping.type_from_cloud(t) for t in types])
            self.store.upsert("resources", [mapping.resource_from_cloud(r, time_rules=rules.get(str(r["id"])))
                                            for r in resources])
            count = self.applier.apply_customers(customers)
        self._ok()
        return {"resources": len(resources), "types": len(types), "customers": count}

    def windows(self, horizon: bool) -> dict[str, dict]:
        """The listings of one pull: name → query parameters (contract "list bookings")."""
        zone = self.store.zone
        today = clock.local_date(self.now(), zone)
        day_start, day_end = clock.local_day_bounds(today, zone)
        base = {"orderDirection": "asc", "includes": "customer"}
        out = {"day": {**base, "dateType": "dateTime", "from": clock.to_iso(day_start), "to": clock.to_iso(day_end)},
               "queues": {**base, "dateType": "createdAt",
                          "from": clock.to_iso(day_start - timedelta(minutes=MAX_QUEUE_MINUTES))}}
        cursor = self._cursor("created.since")
        if cursor:
            out["created"] = {**base, "dateType": "createdAt", "from": cursor}
        if horizon or not cursor:
            first = clock.local_day_bounds(today + timedelta(days=self.horizon_days[0]), zone)[0]
            last = clock.local_day_bounds(today + timedelta(days=self.horizon_days[1]), zone)[1]
            out["horizon"] = {**base, "dateType": "dateTime", "from": clock.to_iso(first), "to": clock.to_iso(last)}
        return out

    async def pull(self, horizon: bool = False, reference: bool | None = None) -> None:
        """One pull: reference data (with the horizon), then each window to its end."""
        async with self._pull_lock:
            if reference if reference is not None else horizon:
                await self.pull_reference()
            started = clock.to_iso(self.now())
            for name, params in self.windows(horizon).items():
                await self._pull_window(name, params)
            if not self._cursor("created.since") or horizon:
                since = clock.from_iso(started) - timedelta(minutes=2)
                self._set_cursor("created.since", clock.to_iso(since))
            self.last_pull_at = clock.to_iso(self.now())
            self.store.set_setting("sync.lastPullAt", self.last_pull_at)
            self._ok()

    def _cursor(self, name: str):
        row = self.store.db.execute("select value from sync_cursors where name = ?", [name]).fetchone()
        return json.loads(row[0]) if row else None

    def _set_cursor(self, name: str, value) -> None:
        self.store.db["sync_cursors"].upsert({"name": name, "value": json.dumps(value),
                                              "updatedAt": clock.to_iso(self.now())}, pk="name")

    async def _pull_window(self, name: str, params: dict) -> None:
        """List one window to its end, committing each page with the listing's cursor."""
        key = f"window.{name}"
        state = self._cursor(key) or {}
        if state.get("token") and state.get("params", {}).get("dateType") == params["dateType"]:
            params = state["params"]  # resume an interrupted listing with its own filters
        else:
            state = {}
            with self.store.transaction():
                self.store.db.execute("delete from sync_seen where window = ?", [name])
        token = state.get("token")
        restarts = 0
        sweep = name in SWEPT_WINDOWS
        newest = None
        while True:
            try:
                page = await self.client.call("bookings", params={**params, "limit": self.page_limit,
                                                                  "nextPageToken": token}, envelope=True)
            except CloudError as exc:
                if exc.page_token_expired and restarts < 2:
                    restarts += 1
                    token = None
                    with self.store.transaction():
                        self.store.db.execute("delete from sync_seen where window = ?", [name])
                    continue
                raise
            items = list(page.get("result") or [])
            pagination = page.get("pagination") or {}
            token = pagination.get("nextPageToken") if pagination.get("hasMore", True) else None
            with self.store.transaction():
                changed = self.applier.apply_bookings(items, self.store.zone, self.now())
                if sweep:
                    self.store.db.conn.executemany("insert or ignore into sync_seen (window, cloudId) values (?, ?)",
                                                   [(name, str(i["id"])) for i in items if i.get("id")])
                self._set_cursor(key, {"params": params, "token": token} if token else {"done": True})
                if name == "created" and items:
                    newest = max(str(i.get("createdAt") or "") for i in items)
                    since = clock.from_iso(newest) - timedelta(minutes=2)
                    if since > clock.from_iso(params["from"]):
                        self._set_cursor("created.since", clock.to_iso(since))
            self._publish(changed)
            await asyncio.sleep(0)
            if not token:
                break
        if sweep:
            await self._sweep(name, params)

    async def _sweep(self, name: str, params: dict) -> None:
        """Bookings mapped locally, inside the window, absent from its full listing."""
        column = "startDateTime" if params["dateType"] == "dateTime" else "createdAt"
        lo, hi = params.get("from"), params.get("to")
        sql = ("select c.cloudId, c.localId from cloud_ids c join bookings b on b.id = c.localId"
               f" where c.entity = 'booking' and c.cloud = ? and b.{column} >= ?")
        args = [CLOUD, clock.to_iso(clock.from_iso(lo))]
        if hi:
            sql += f" and b.{column} < ?"
            args.append(clock.to_iso(clock.from_iso(hi)))
        sql += " and c.cloudId not in (select cloudId from sync_seen where window = ?)"
        missing = self.store.db.execute(sql, [*args, name]).fetchall()
        dirty = self.outbox.dirty_map()
        for cloud_id, local_id in missing:
            if local_id in dirty:
                continue
            try:
                current = await self.client.call("booking", ids={"id": cloud_id})
            except CloudError as exc:
                if exc.status != 404:
                    raise
                current = None
            with self.store.transaction():
                if self.store.local_id(CLOUD, cloud_id) != local_id or self.outbox.dirty_fields(local_id):
                    continue
                if current is None:
                    self.applier.delete_booking(local_id)
                    changed = []
                    self.service.events.publish("booking.deleted", {"id": local_id})
                else:
                    changed = self.applier.apply_bookings([current], self.store.zone, self.now())
            self._publish(changed)
        with self.store.transaction():
            self.store.db.execute("delete from sync_seen where window = ?", [name])
