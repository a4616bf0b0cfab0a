"""What the desk shows, fetched from the branch server: reference data (branch, resources,
types), the viewed day's bookings, the waiting queue and today's bookings (check-ins).

Everything is raw dicts as the API returns them. ``refresh()`` refetches the whole view;
``apply_events()`` applies the server's live events to it and ``put()`` an action's reply
(:class:`app.client.live.LiveDay`), so after the first load a change costs no request: a
full refetch happens only when the server says it cannot replay what was missed
(``resync``), for an event the desk does not know, or for another day. ``changed`` is
emitted after each of them; the views redraw from what the server sent."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime

from PySide6.QtCore import QObject, Signal

from app.client import DeskClient
from app.client.live import APPLIED, REFETCH, LiveDay
from app.domain.clock import local_date, utc_now

log = logging.getLogger(__name__)


class DeskState(QObject):
    changed = Signal()

    def __init__(self, client: DeskClient, parent: QObject | None = None):
        super().__init__(parent)
        self.client = client
        self.branch: dict = {}
        self.zone = "Asia/Riyadh"
        self.resources: list[dict] = []
        self.types: dict[str, dict] = {}
        self.day: date | None = None
        self.loaded = False
        #: the viewed day and the queue, and today (check-ins) when another day is viewed
        self.live = LiveDay(self.zone)
        self.live_today: LiveDay | None = None
        #: full refetches of the view done (the proof that an event cost none)
        self.fetches = 0
        self._lock = asyncio.Lock()
        self._requested = 0  # refreshes asked for
        self._applied = 0  # the newest request whose answer the state holds
        self._during: list[dict] | None = None  # events and replies that arrived while a fetch ran

    # the rows the views show ---------------------------------------------------------
    @property
    def bookings(self) -> list[dict]:
        """The viewed day's bookings."""
        return self.live.bookings

    @property
    def waiting(self) -> list[dict]:
        """The unassigned queue, oldest first."""
        return self.live.waiting

    @property
    def today(self) -> list[dict]:
        """Today's bookings (check-ins)."""
        return self.live_today.bookings if self.live_today is not None else self.live.bookings

    @property
    def bookings_day(self) -> date | None:
        """The day whose bookings the rows hold (``day`` once a fetch of it landed)."""
        return self.live.day

    def now(self) -> datetime:
        return utc_now()

    def today_date(self) -> date:
        return local_date(self.now(), self.zone)

    def resource(self, resource_id: str | None) -> dict | None:
        return next((r for r in self.resources if r["id"] == resource_id), None)

    def resources_serving(self, type_id: str) -> list[dict]:
        return [
            r for r in self.resources if type_id in (r.get("types") or []) and r.get("on", True) is not False
        ]

    def find(self, booking_id: str | None) -> dict | None:
        if not booking_id:
            return None
        for rows in (self.bookings, self.today, self.waiting):
            for row in rows:
                if row["id"] == booking_id:
                    return row
        return None

    async def load_reference(self) -> None:
        branch, resources, types = await asyncio.gather(
            self.client.branch(), self.client.resources(), self.client.types()
        )
        self.branch, self.resources = branch, [r for r in resources if r.get("on", True) is not False]
        self.zone = branch.get("timeZone") or self.zone
        self.types = {t["id"]: t for t in types}
        if self.day is None:
            self.day = self.today_date()

    # a full refetch ------------------------------------------------------------------
    async def refresh(self, reference: bool = False) -> None:
        """Refetch the viewed day, the queue and today's bookings (``reference``: the branch,
        resources and types too).

        Refreshes are numbered and serialised: one fetch serves every refresh asked for
        before it started, so a refresh that finds a later-started fetch already applied
        returns at once, and a result is only applied when it is newer than the one shown
        (an older answer never overwrites a newer one). Events and action replies that
        arrive while the fetch runs are applied again on top of its answer (a row's older
        version never replaces a newer one)."""
        self._requested += 1
        wanted_seq = self._requested
        async with self._lock:
            if self._applied >= wanted_seq:
                return  # a fetch that started after this request has been applied already
            seq = self._requested
            if not self.branch or reference:
                await self.load_reference()
            day, today = self.day, self.today_date()
            self._during = []
            try:
                wanted = [self.client.day(day), self.client.waiting()]
                if day != today:
                    wanted.append(self.client.day(today))
                results = await asyncio.gather(*wanted)
                during = self._during
            finally:
                self._during = None
            self.fetches += 1
            if (
                day != self.day or seq <= self._applied
            ):  # moved on meanwhile / an answer older than the shown one
                return
            self.live = LiveDay(self.zone, day, types=self.types)
            self.live.load(results[0], results[1])
            self.live_today = None
            if day != today:
                self.live_today = LiveDay(self.zone, today, types=self.types, with_waiting=False)
                self.live_today.load(results[2])
            for item in during:
                self._apply_one(item)
            self._applied = seq
            self.loaded = True
        self.changed.emit()

    # deltas --------------------------------------------------------------------------
    def _views(self) -> list[LiveDay]:
        return [v for v in (self.live, self.live_today) if v is not None]

    def _apply_one(self, item: dict) -> str:
        if item.get("type") == "reply":
            return APPLIED if any([v.put(item["booking"]) for v in self._views()]) else "unchanged"
        answers = [v.apply(item) for v in self._views()]
        if REFETCH in answers:
            return REFETCH
        return APPLIED if APPLIED in answers else "unchanged"

    def apply_events(self, events: list[dict]) -> bool:
        """Apply server events to the rows; returns False when the view must be refetched
        (the caller then calls :meth:`refresh`). Emits ``changed`` when a row changed."""
        if self._during is not None:
            self._during.extend(events)
        if not self.loaded:
            return True  # the first fetch is running; it applies them on top of its answer
        answers = {self._apply_one(e) for e in events}
        if REFETCH in answers:
            return False
        if self._missing():
            return False
        if APPLIED in answers:
            self.changed.emit()
        return True

    def put(self, booking: dict) -> None:
        """Apply an action's reply (the changed booking): the action's echo from the event
        stream then changes nothing, and no refetch is needed."""
        item = {"type": "reply", "booking": booking}
        if self._during is not None:
            self._during.append(item)
        if self.loaded:
            self._apply_one(item)
            self.changed.emit()  # also unchanged: the caller's selection follows the reply
        for v in self._views():  # its echo brings the customer, should the reply lack it
            v.missing.clear()

    def _missing(self) -> bool:
        """Bookings that came without their customer and none is known (fetch the view)."""
        missing = set().union(*(v.missing for v in self._views()))
        for v in self._views():
            v.missing.clear()
        return bool(missing)
