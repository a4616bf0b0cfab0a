"""What the desk shows, fetched from the branch server: reference data (branch, resources,
types), the viewed day's bookings, the waiting queue and today's bookings (check-ins).

Everything is raw dicts as the API returns them. ``refresh()`` refetches and then emits
``changed``; the views redraw from the server's answer, never from a guess."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime

from PySide6.QtCore import QObject, Signal

from app.client import DeskClient
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
        self.bookings: list[dict] = []   # the viewed day
        self.waiting: list[dict] = []    # the unassigned queue, oldest first
        self.today: list[dict] = []      # today's bookings (check-ins)
        self.loaded = False
        self._lock = asyncio.Lock()
        self._requested = 0   # refreshes asked for
        self._applied = 0     # the newest request whose answer the state holds

    def now(self) -> datetime:
        return utc_now()

    def today_date(self) -> date:
        return local_date(self.now(), self.zone)

    def resource(self, resource_id: str | None) -> dict | None:
        return next((r for r in self.resources if r["id"] == resource_id), None)

    def resources_serving(self, type_id: str) -> list[dict]:
        return [r for r in self.resources if type_id in (r.get("types") or []) and r.get("on", True) is not False]

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
            self.client.branch(), self.client.resources(), self.client.types())
        self.branch, self.resources = branch, [r for r in resources if r.get("on", True) is not False]
        self.zone = branch.get("timeZone") or self.zone
        self.types = {t["id"]: t for t in types}
        if self.day is None:
            self.day = self.today_date()

    async def refresh(self) -> None:
        """Refetch the viewed day, the queue and today's bookings.

        Refreshes are numbered and serialised: one fetch serves every refresh asked for
        before it started, so a refresh that finds a later-started fetch already applied
        returns at once, and a result is only applied when it is newer than the one shown
        (an older answer never overwrites a newer one)."""
        self._requested += 1
        wanted_seq = self._requested
        async with self._lock:
            if self._applied >= wanted_seq:
                return  # a fetch that started after this request has been applied already
            seq = self._requested
            if not self.branch:
                await self.load_reference()
            day, today = self.day, self.today_date()
            wanted = [self.client.day(day), self.client.waiting()]
            if day != today:
                wanted.append(self.client.day(today))
            results = await asyncio.gather(*wanted)
            if day != self.day or seq <= self._applied:  # moved on meanwhile / an answer older than the shown one
                return
            self.bookings, self.waiting = results[0], results[1]
            self.today = results[2] if day != today else results[0]
            self._applied = seq
            self.loaded = True
        self.changed.emit()
