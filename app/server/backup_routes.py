"""The branch server's backup routes, mounted by :class:`app.composition.BranchServer`.

* ``GET /backups`` → ``{"result": [{name, createdAt, reason, size}, ...] (newest first),
  "pendingRestore": {name, requestedAt} | null}``.
* ``GET /backups/recovery`` → ``{"result": report}``: what the start-up check did
  (:func:`app.store.backup.check_and_recover`: ``status`` "ok" | "new" | "restored" |
  "recovered" | "damaged-no-backup", ``problem``, ``movedAside``, ``restored``, ``outboxCarried``).
* ``POST /backups`` → the new backup (reason "manual").
* ``POST /backups/restore`` ``{"name"}`` → ``{name, requestedAt, restartNeeded: true}``: the
  restore happens at the server's next start, before the database opens (the current file
  is kept beside it and its unsent outbox carried over). 404 ``NOT-FOUND`` for an unknown
  backup. Taking and restoring is for a manager desk (the server's own desk is one; 403
  otherwise); each route declares its role (:func:`app.server.security.require`).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

from app.domain.errors import BookingError
from app.server.security import Role, require
from app.store import Store, backup

log = logging.getLogger(__name__)


def make_backup_router(store: Store) -> APIRouter:
    router = APIRouter()

    @router.get("/backups", dependencies=[require(Role.RECEPTION)])
    def backups() -> dict:
        return {
            "result": backup.list_backups(store.path),
            "pendingRestore": backup.pending_restore(store.path),
        }

    @router.get("/backups/recovery", dependencies=[require(Role.RECEPTION)])
    def recovery() -> dict:
        return {"result": store.recovery or {"status": "unchecked"}}

    @router.post("/backups", dependencies=[require(Role.MANAGER)])
    def take() -> dict:
        path = backup.take_backup(store.path, "manual")
        return {"result": next(b for b in backup.list_backups(store.path) if b["name"] == path.name)}

    @router.post("/backups/restore", dependencies=[require(Role.MANAGER)])
    def restore(body: dict) -> dict:
        name = body.get("name")
        if not isinstance(name, str):
            raise BookingError("VALIDATION", "name: the backup to restore is required", 400, field="name")
        try:
            pending = backup.schedule_restore(store.path, name)
        except FileNotFoundError as exc:
            raise BookingError("NOT-FOUND", str(exc), 404) from exc
        log.warning("restore of %s scheduled for the next start", name)
        return {"result": {**pending, "restartNeeded": True}}

    return router
