"""Live events for connected desks, resumable after a reconnect and after a server restart.

Every change gets the next sequence number (the SSE ``id``). With a store, events are rows
of the ``events`` table written in the same transaction as the change they describe
(:meth:`EventLog.record` inside ``store.transaction()``; desks get it after the commit), so
ids survive a restart and a desk that reconnects with ``Last-Event-ID`` receives exactly
what it missed, once. The newest ``capacity`` events are also kept in memory; older ones are
read back from SQLite, and only a desk further behind than ``keep`` rows gets ``resync``.

Event shape: ``{"id": int, "type": str, "data": {...}}``; ``type`` is one of
:class:`app.domain.model.EventType`:

* ``booking.changed`` ``{"action", "booking"}``: ``action`` an :class:`~app.domain.model.Action`,
  the booking as the API returns it, with ``customer`` and ``type`` embedded (a desk updates
  its row without a refetch);
* ``booking.deleted`` ``{"id"}``: the cloud deleted a booking the branch had pulled and
  never changed (the sync engine);
* ``queue.changed`` ``{"typeId", "reason", "bookingId", "queues": {resourceId: [{"bookingId",
  "queuePosition", "estimatedWaitMinutes"}]}}``: the new positions of every resource serving
  the type (Ehjzny API reference, "Queue Booking" step 4, ``QUEUE_POSITION_UPDATED``);
* ``slot.freed`` ``{"resourceId", "from", "to", "bookingId", "firstWaiting"}``: a visit ended
  early; ``firstWaiting`` is the first waiting booking the resource could take (or None);
* ``customer.changed`` ``{"customer"}``; ``resource.changed`` ``{"resource"}``: a resource's
  working hours were edited;
* ``resync`` ``{}`` (``{"reason": "sync"}`` after a pull): refetch the view;
* ``sync.connected`` ``{"cloud", "baseUrl"}``, ``sync.disconnected`` ``{}``: the branch was
  connected to a cloud account or disconnected;
* ``sync.moved`` ``{"bookingId", "asked", "resourceId"}``: the cloud placed a booking the
  desk sent on another resource than the desk chose; ``sync.attention`` ``{"bookingId", "code", "message", ...}``: a needs-attention
  case was opened;
* ``hello`` ``{"lastEventId"}``: sent once per stream after the replay (not stored).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict, deque

from app.domain.clock import to_iso, utc_now


class EventLog:
    """``EventLog(store)`` persists; ``EventLog()`` keeps events in memory only (tests)."""

    def __init__(self, store=None, capacity: int = 10_000, first_id: int = 0, keep: int = 100_000):
        self.store = store
        self.keep = keep
        self._events: deque[dict] = deque(maxlen=capacity)
        self._last_id = first_id
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()
        self._wire: OrderedDict[int, bytes] = OrderedDict()  # events encoded once for every desk
        if store is not None:
            row = store.db.execute("select coalesce(max(id), 0) from events").fetchone()
            self._last_id = max(first_id, int(row[0]))
            with store.transaction():
                store.db.execute("delete from events where id <= ?", [self._last_id - keep])

    @property
    def last_id(self) -> int:
        return self._last_id

    # writing ---------------------------------------------------------------------------
    def record(self, type_: str, data: dict) -> dict:
        """Write an event inside the caller's open store transaction; it reaches desks once
        that transaction commits (``Store.after_commit``), and never if it rolls back.
        Without a store this is :meth:`publish`."""
        if self.store is None:
            return self.publish(type_, data)
        text = json.dumps(data, ensure_ascii=False)
        with self.store.transaction():
            cursor = self.store.db.execute(
                "insert into events (type, data, createdAt) values (?, ?, ?)",
                [type_, text, to_iso(utc_now())],
            )
            event = {"id": int(cursor.lastrowid), "type": type_, "data": data}
            self.store.after_commit(lambda: self._fan_out(event))
        return event

    def publish(self, type_: str, data: dict) -> dict:
        """Append one event and deliver it (thread-safe). With a store it is persisted, in the
        caller's transaction when one is open, else in its own."""
        if self.store is not None:
            return self.record(type_, data)
        with self._lock:
            self._last_id += 1
            event = {"id": self._last_id, "type": type_, "data": data}
        self._fan_out(event)
        return event

    def _fan_out(self, event: dict) -> None:
        with self._lock:
            self._last_id = max(self._last_id, event["id"])
            self._events.append(event)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the subscriber's loop is closed
                self._subscribers.discard((loop, queue))

    # reading ---------------------------------------------------------------------------
    def since(self, last_id: int) -> list[dict] | None:
        """Events after ``last_id`` in order, or None when they can no longer be replayed
        (pruned, or ``last_id`` is ahead of this server: another database)."""
        with self._lock:
            if last_id == self._last_id:
                return []
            if last_id > self._last_id or last_id < 0:
                return None
            if self._events and self._events[0]["id"] <= last_id + 1:
                return [e for e in self._events if e["id"] > last_id]
        if self.store is None:
            return None
        rows = self.store.db.execute(
            "select id, type, data from events where id > ? and id <= ? order by id", [last_id, self._last_id]
        ).fetchall()
        if not rows or rows[0][0] != last_id + 1:
            return None
        return [{"id": i, "type": t, "data": json.loads(d)} for i, t, d in rows]

    def wire(self, event: dict) -> bytes:
        """The event as one server-sent-events message (``id``, ``event``, ``data`` lines),
        encoded once however many desks receive it."""
        with self._lock:
            cached = self._wire.get(event["id"])
        if cached is not None:
            return cached
        text = encode_sse(event)
        with self._lock:
            self._wire[event["id"]] = text
            while len(self._wire) > 1000:
                self._wire.popitem(last=False)
        return text

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        with self._lock:
            self._subscribers.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = {s for s in self._subscribers if s[1] is not queue}

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def encode_sse(event: dict) -> bytes:
    """``{"id", "type", "data"}`` as one server-sent-events message (the data on one line)."""
    data = json.dumps(event["data"], ensure_ascii=False, separators=(",", ":"))
    return f"id: {event['id']}\r\nevent: {event['type']}\r\ndata: {data}\r\n\r\n".encode()
