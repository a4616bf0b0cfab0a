"""The composition of a branch: store + booking service + HTTP API + live events + the
sync engine. The one module that builds them together (the layers below it — :mod:`app.server`
and :mod:`app.sync`, over :mod:`app.store` and :mod:`app.domain` — never import each other).

``BranchServer(data_dir).start()`` opens (and on first start fills with the demo clinic)
the branch database, and serves the API from a background thread; the desk then talks to
``.url`` through :mod:`app.client` like any other desk on the LAN. The database is checked
(and, when damaged, recovered from its newest good backup) before it opens, and backed up
every hour into ``<data-dir>/backups`` (:mod:`app.store.backup`, routes in
:mod:`app.server.backup_routes`).

Every request needs a token (:mod:`app.server.security`). The server's own one,
:attr:`BranchServer.token`, is random per process: the embedded desk gets it in-process
(``DeskClient(server.url, token=server.token)``); a headless server
(``local_token_file=True``) also writes it to ``<data-dir>/local-token`` (0600, the token
alone on one line, sent as ``Authorization: Bearer <token>``) for scripts and
``main.py sync`` on the same machine, and removes it when it stops.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from app import private_files
from app.domain.clock import Clock
from app.domain.model import EventType
from app.server.api import create_app
from app.server.desks import DeskRegistry, remove_local_token, write_local_token
from app.server.lan import lan_listener
from app.server.runner import ServerThread
from app.server.security import Role, require
from app.server.service import BookingService
from app.store import BranchInUse, BranchLock, Store, backup, claim_branch, open_store

log = logging.getLogger(__name__)
DB_NAME = "branch.sqlite3"


def load_demo(store: Store, now: datetime | None = None) -> dict:
    """Fill an empty store with the generated demo clinic (:func:`app.demo.load_demo`)."""
    from app.demo.loader import load_demo as load

    return load(store, now)


#: another process holds the branch (the lock is taken by :func:`app.store.open_store`)
DataDirInUse = BranchInUse
#: where a running server says how to reach it: ``{"url", "pid"}`` (0600), for ``main.py sync``
SERVER_INFO_NAME = "server.json"


def claim_data_dir(data_dir: Path) -> BranchLock:
    """Hold the lock of ``<data_dir>/branch.sqlite3`` for this process's life: one process per
    branch file. The operating system releases it when the process ends, even after kill -9.
    Raises :class:`DataDirInUse`."""
    return claim_branch(Path(data_dir) / DB_NAME)


def running_server(data_dir: Path) -> dict | None:
    """``{"url", "pid"}`` of the branch server serving ``data_dir`` now, or None."""
    try:
        info = json.loads((Path(data_dir) / SERVER_INFO_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("url"), str) else None


class BranchServer:
    """The branch's store, service, API and — with ``cloud`` (an
    :class:`app.sync.connection.CloudConfig`) — the sync engine, run in the server's loop.
    With a cloud the demo clinic is never loaded (the cloud fills the store).

    ``claim``: the branch lock the caller already holds (:func:`claim_data_dir`, taken before
    e.g. scheduling a restore); the server owns it from then on and frees it in :meth:`stop`
    or when it fails to start. Without it the server takes the lock itself. Raises
    :class:`DataDirInUse` when another process holds the branch."""

    def __init__(
        self,
        data_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        demo: bool = True,
        cloud=None,
        sync_options: dict | None = None,
        backup_interval: float | None = backup.INTERVAL,
        claim: BranchLock | None = None,
        local_token_file: bool = False,
        forwarded_allow_ips: str | None = None,
        local_token: str | None = None,
    ):
        self.data_dir = Path(data_dir)
        self._local_token = local_token  # None: a new random one (a restart passes the old one on)
        self.local_token_file = local_token_file
        self.forwarded_allow_ips = forwarded_allow_ips
        self._lock = claim if claim is not None else claim_data_dir(self.data_dir)
        self.store: Store | None = None
        self.backups: backup.BackupSchedule | None = None
        try:
            self._build(host, port, clock, demo, cloud, sync_options, backup_interval)
        except BaseException:  # a bind failure, a damaged file…: let the next try have the branch
            if self.store is not None:
                self.store.close()
            self._lock.release()
            raise

    def _build(self, host, port, clock, demo, cloud, sync_options, backup_interval) -> None:
        from app.composition.sync_routes import make_router, make_settings_router

        self.store = open_store(self.data_dir / DB_NAME, claim=self._lock)
        if (self.store.recovery or {}).get("status") not in ("ok", "new"):
            log.warning("branch database recovery at start: %s", self.store.recovery)
        self.backups = backup.BackupSchedule(self.store.path, backup_interval) if backup_interval else None
        if demo and cloud is None and self.store.is_empty():
            load_demo(self.store, clock.now() if clock else None)
        self.service = BookingService(self.store, clock)
        self.sync = None
        self.sync_options = dict(sync_options or {})
        if cloud is not None:
            from app.sync.engine import SyncEngine

            self.sync = SyncEngine(self.service, cloud, **self.sync_options).attach()
        self.app = create_app(
            self.service,
            extra_lifespan=self._sync_lifespan(),
            desks=DeskRegistry(self.store, local_token=self._local_token),
        )
        if self.sync is not None:
            self.app.state.sync_status = self.sync.status
        # the routes follow whichever engine runs now (connect_cloud may start one later)
        self.app.include_router(make_router(lambda: self.sync))
        self.app.include_router(
            make_settings_router(
                self.store, self.connect_cloud, self.disconnect_cloud, lambda: self.sync is not None
            )
        )
        self._add_server_info_route()
        from app.server.backup_routes import make_backup_router

        self.app.include_router(make_backup_router(self.store))
        # off loopback: HTTPS with the server's own certificate for LAN desks (paired, pinned),
        # and plain HTTP on 127.0.0.1 for the embedded desk
        lan = lan_listener(self.app, self.data_dir, host, port)
        self.thread = ServerThread(
            self.app,
            "127.0.0.1" if lan else host,
            0 if lan else port,
            extra=[lan] if lan else [],
            forwarded_allow_ips=self.forwarded_allow_ips,
        )

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

    @property
    def alive(self) -> bool:
        """True while the server's thread serves (a cheap check, for the desk's not-live banner)."""
        return self.thread.alive

    @property
    def token(self) -> str:
        """The server's own desk's bearer token (manager), random per process."""
        return self.app.state.desks.local_token

    def start(self) -> BranchServer:
        """Serve; raises RuntimeError (the branch freed) when the server cannot start."""
        try:
            self.thread.start()
        except BaseException:
            self.stop()
            raise
        if self.local_token_file:
            path = write_local_token(self.data_dir, self.token)
            log.info("local token written to %s", path)
        if self.backups is not None:
            self.backups.start()
        private_files.write_private(
            self.data_dir / SERVER_INFO_NAME, json.dumps({"url": self.url, "pid": os.getpid()})
        )
        log.info("branch server listening on %s", self.url)
        return self

    # the cloud connection, live ---------------------------------------------------------
    def _sync_lifespan(self, _api=None):
        """Run the engine present at start-up (``cloud=``) and close whichever runs at the end."""

        @asynccontextmanager
        async def run(_app):
            if self.sync is not None:
                await self.sync.open()
                self.sync.start()
            try:
                yield
            finally:
                if self.sync is not None:
                    await self.sync.close()

        return run

    async def connect_cloud(self, config, **sync_options) -> None:
        """Start (or restart with ``config``) the sync engine inside the running server's
        loop — call it from that loop, e.g. a route. The attention, sync-now and status
        routes follow the new engine at once."""
        from app.sync.engine import SyncEngine

        await self.disconnect_cloud()
        engine = SyncEngine(self.service, config, **{**self.sync_options, **sync_options}).attach()
        await engine.open()
        engine.start()
        self.sync = engine
        self.app.state.sync_status = engine.status
        self.service.events.publish(
            EventType.SYNC_CONNECTED, {"cloud": config.cloud, "baseUrl": config.base_url}
        )
        log.info("connected to %s at %s", config.cloud, config.base_url)

    async def disconnect_cloud(self) -> None:
        """Stop the running sync engine (if any); local changes queue no more operations."""
        engine, self.sync = self.sync, None
        self.app.state.sync_status = None
        if engine is None:
            return
        engine.detach()
        await engine.close()
        self.service.events.publish(EventType.SYNC_DISCONNECTED, {})

    def _add_server_info_route(self) -> None:
        """``GET /desks/server`` (manager): ``{lanUrl, fingerprint}`` for the pairing screen."""

        @self.app.get("/desks/server", dependencies=[require(Role.MANAGER)])
        async def server_info():
            return {
                "result": {"lanUrl": self.lan_url, "fingerprint": self.fingerprint, "loopbackUrl": self.url}
            }

    def stop(self) -> None:
        """Stop serving, close the store and free the branch (idempotent)."""
        if (running_server(self.data_dir) or {}).get("pid") == os.getpid():
            (self.data_dir / SERVER_INFO_NAME).unlink(missing_ok=True)
        if self.backups is not None:
            self.backups.stop()
        self.thread.stop()
        if self.local_token_file:
            remove_local_token(self.data_dir, self.token)
        self.store.close()
        self._lock.release()
