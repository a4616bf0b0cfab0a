"""Live events for connected desks, resumable after a reconnect.

Every change gets the next sequence number (the SSE ``id``). The log keeps the last
``capacity`` events so a desk that reconnects with ``Last-Event-ID`` receives exactly what
it missed, once; a desk too far behind gets a ``resync`` event and refetches its view.

Event shape: ``{"id": int, "type": "booking.changed" | "queue.changed" | "resync" | ...,
"data": {...}}`` — ``booking.changed`` carries the whole booking as the API returns it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque


class EventLog:
    def __init__(self, capacity: int = 10_000, first_id: int = 0):
        self._events: deque[dict] = deque(maxlen=capacity)
        self._last_id = first_id
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()

    @property
    def last_id(self) -> int:
        return self._last_id

    def publish(self, type_: str, data: dict) -> dict:
        """Append an event and hand it to every subscriber (thread-safe)."""
        with self._lock:
            self._last_id += 1
            event = {"id": self._last_id, "type": type_, "data": data}
            self._events.append(event)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the subscriber's loop is closed
                self._subscribers.discard((loop, queue))
        return event

    def since(self, last_id: int) -> list[dict] | None:
        """Events after ``last_id``, or None when some of them are no longer kept."""
        with self._lock:
            if last_id >= self._last_id:
                return []
            if not self._events or self._events[0]["id"] > last_id + 1:
                return None
            return [e for e in self._events if e["id"] > last_id]

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        with self._lock:
            self._subscribers.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = {s for s in self._subscribers if s[1] is not queue}
