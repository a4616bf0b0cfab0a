"""Routes for pairing and managing LAN desks (see :mod:`app.server.desks`).

``POST /desks/pairing-code`` (manager) ``{role, resourceIds}`` → ``{code, expiresAt, role,
resourceIds, fingerprint}``; ``POST /desks/pair`` (open, needs the code) → ``{token,
deskId, deskName, role, resourceIds, fingerprint}``; ``GET /desks`` → the paired desks
(never their tokens); ``POST /desks/revoke`` ``{deskId}``. Their SQLite work runs off the
event loop (:meth:`app.store.Store.read` / :meth:`~app.store.Store.write`).
"""

from __future__ import annotations

import functools

from fastapi import FastAPI, Request

from app.domain import errors
from app.server import schemas
from app.server.security import Role, require


def add_routes(api: FastAPI) -> None:
    registry = api.state.desks
    store = api.state.service.store

    @api.post("/desks/pairing-code", status_code=201, dependencies=[require(Role.MANAGER)])
    async def pairing_code(body: schemas.PairingCodeBody):
        """A single-use code, valid 10 minutes, to show on the server's screen; it pairs
        ``role`` (default reception) with ``resourceIds`` only."""
        return {"result": await store.read(registry.pairing_code, body.role, body.resourceIds)}

    @api.post("/desks/pair", status_code=201, dependencies=[require(Role.NONE)])
    async def pair(body: schemas.PairBody, request: Request):
        """Pair a new desk with a code (or its proof) → a bearer token, shown once. Wrong
        codes are counted per source address (429 ``PAIRING-RATE-LIMITED`` with a
        ``Retry-After`` header while it must wait)."""
        if not body.code and not body.proof:
            raise errors.invalid("give the pairing code or its proof", field="code")
        source = (request.client.host if request.client else "") or ""
        pair = functools.partial(
            registry.pair,
            body.deskName,
            body.role,
            code=body.code,
            proof=body.proof,
            resource_ids=body.resourceIds,
            source=source,
        )
        return {"result": await store.write(pair)}

    @api.get("/desks", dependencies=[require(Role.MANAGER)])
    async def desks():
        return {"result": await store.read(registry.list)}

    @api.post("/desks/revoke", dependencies=[require(Role.MANAGER)])
    async def revoke(body: schemas.DeskRef):
        if not await store.write(registry.revoke, body.deskId):
            raise errors.not_found("desk", body.deskId)
        return {"result": {"deskId": body.deskId, "revoked": True}}
