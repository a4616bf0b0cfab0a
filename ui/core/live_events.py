"""A window's live events from the branch server, consumed and debounced in one place.

The main window, doctor mode and the waiting-room screen each keep their rows current from
the server's events (:meth:`app.client.DeskClient.events`; what an event carries and how a
view applies it: :mod:`app.client.live`). :class:`LiveEvents` owns the part they share: one
stream task per window, the events collected on a single-shot debounce timer (calibre's
pattern: a burst of events redraws once) and handed to the window as one batch, oldest
first. A window that fetches its rows asks :meth:`LiveEvents.collecting` for the events that
arrive while the fetch runs, to apply them to its answer (an older version never wins).

Usage::

    self.live = LiveEvents(client, self._apply_events, self, debounce_ms=150)
    self.live.start()            # open the stream (again: reconnect now)
    ...
    def _apply_events(self, events: list[dict]) -> None: ...
    self.live.stop()             # on close
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer

from app.client import DeskClient

log = logging.getLogger(__name__)

#: the default debounce (milliseconds): a burst of events within it is applied once
DEBOUNCE_MS = 150


class LiveEvents(QObject):
    """The live events of ``client`` for one window.

    ``on_batch(events)`` runs on the GUI thread after ``debounce_ms`` without a new event,
    with every event collected since the last batch (never empty). ``on_event(event)``, when
    given, runs at once for each event as it arrives (e.g. a notification that must not
    wait). ``on_live(live, reason)`` is passed to :meth:`DeskClient.events` (the stream opened,
    or dropped and reconnecting) and is also called with ``False`` when the stream stops on
    an error (e.g. the server refused the desk). ``name`` prefixes the log lines."""

    def __init__(
        self,
        client: DeskClient,
        on_batch: Callable[[list[dict]], None],
        parent: QObject,
        *,
        debounce_ms: int = DEBOUNCE_MS,
        on_event: Callable[[dict], None] | None = None,
        on_live: Callable[[bool, str | None], None] | None = None,
        name: str = "desk",
    ):
        super().__init__(parent)
        self.client = client
        self.on_batch, self.on_event, self.on_live, self.name = on_batch, on_event, on_live, name
        self.pending: list[dict] = []
        self._collectors: list[list[dict]] = []
        self._task: asyncio.Task | None = None
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(debounce_ms)
        self.debounce.timeout.connect(self.flush)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Open the event stream; when one is open already, close it and reconnect now."""
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.ensure_future(self._consume())

    def stop(self) -> None:
        """Close the stream and stop the timer (events not yet applied stay pending)."""
        self.debounce.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @contextmanager
    def collecting(self) -> Iterator[list[dict]]:
        """The events that arrive while the ``with`` block runs, in order (for a fetch to
        apply to its answer); they are still handed to ``on_batch`` as well."""
        seen: list[dict] = []
        self._collectors.append(seen)
        try:
            yield seen
        finally:
            self._collectors.remove(seen)

    def receive(self, event: dict) -> None:
        """One event from the stream: noted, and the debounce timer (re)started."""
        if self.on_event is not None:
            self.on_event(event)
        self.pending.append(event)
        for seen in self._collectors:
            seen.append(event)
        self.debounce.start()

    def flush(self) -> None:
        """Hand the collected events to ``on_batch`` now (the debounce timer's timeout)."""
        events, self.pending = self.pending, []
        if events:
            self.on_batch(events)

    async def _consume(self) -> None:
        try:
            async for event in self.client.events(on_live=self.on_live):
                self.receive(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s: the live event stream stopped", self.name)
            if self.on_live is not None:
                self.on_live(False, str(exc))
