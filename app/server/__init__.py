"""The branch booking server: store + booking service + HTTP API + live events.

``BranchServer(data_dir).start()`` opens (and on first start fills with the demo clinic)
the branch database, and serves the API from a background thread; the desk then talks to
``.url`` through :mod:`app.client` like any other desk on the LAN.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from app.domain.clock import Clock
from app.server.api import create_app
from app.server.lan import lan_listener
from app.server.runner import ServerThread
from app.server.service import BookingService
from app.store import Store, open_store

log = logging.getLogger(__name__)
DB_NAME = "branch.sqlite3"


def load_demo(store: Store, now: datetime | None = None) -> dict:
    """Fill an empty store with the generated demo clinic, relative to today, through the
    same Ehjzny mapping the cloud sync uses. Returns the import counts."""
    from app.demo import generate_clinic
    from app.domain.clock import local_date, utc_now
    from app.sync.ehjzny.importer import import_clinic

    now = now or utc_now()
    zone = store.zone
    clinic = generate_clinic(local_date(now, zone), zone=zone, now=now)
    counts = import_clinic(store, clinic, cloud="demo")
    log.info("demo clinic imported: %s", counts)
    return counts


class BranchServer:
    """The branch's store, service, API and — with ``cloud`` (an
    :class:`app.sync.settings.CloudConfig`) — the sync engine, run in the server's loop.
    With a cloud the demo clinic is never loaded (the cloud fills the store)."""

    def __init__(self, data_dir: str | Path, host: str = "127.0.0.1", port: int = 0,
                 clock: Clock | None = None, demo: bool = True, cloud=None, sync_options: dict | None = None):
        self.data_dir = Path(data_dir)
        self.store = open_store(self.data_dir / DB_NAME)
        if demo and cloud is None and self.store.is_empty():
            load_demo(self.store, clock.now() if clock else None)
        self.service = BookingService(self.store, clock)
        self.sync = None
        if cloud is not None:
            from app.sync.engine import SyncEngine
            from app.sync.routes import make_router

            self.sync = SyncEngine(self.service, cloud, **(sync_options or {})).attach()
        self.app = create_app(self.service, extra_lifespan=self.sync.lifespan() if self.sync else None)
        if self.sync is not None:
            self.app.state.sync_status = self.sync.status
            self.app.include_router(make_router(self.sync))
        # off loopback: HTTPS with the server's own certificate for LAN desks (paired, pinned),
        # and plain HTTP on 127.0.0.1 for the embedded desk
        lan = lan_listener(self.app, self.data_dir, host, port)
        self.thread = ServerThread(self.app, "127.0.0.1" if lan else host, 0 if lan else port,
                                   extra=[lan] if lan else [])

    @property
    def lan_url(self) -> str | None:
        """The HTTPS address LAN desks use, or None when serving loopback only."""
        return self.thread.urls[1] if len(self.thread.urls) > 1 else None

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the server certificate that paired desks pin."""
        return self.app.state.desks.fingerprint

    @property
    def url(self) -> str:
        return self.thread.url

    def start(self) -> BranchServer:
        self.thread.start()
        log.info("branch server listening on %s", self.url)
        return self

    def stop(self) -> None:
        self.thread.stop()
        self.store.close()
