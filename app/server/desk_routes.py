"""Routes for pairing and managing LAN desks (see :mod:`app.server.desks`).

``POST /desks/pairing-code`` (the server's desk or a manager) → ``{code, expiresAt, role,
resourceIds, fingerprint}``; ``POST /desks/pair`` (open, needs the code) → ``{token,
deskId, deskName, role, resourceIds, fingerprint}``; ``GET /desks`` → the paired desks
(never their tokens); ``POST /desks/revoke`` ``{deskId}``.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.domain import errors
from app.server import schemas


def add_routes(api: FastAPI) -> None:
    registry = api.state.desks
    service = api.state.service

    @api.post("/desks/pairing-code", status_code=201)
    async def pairing_code(body: schemas.PairingCodeBody):
        """A single-use code, valid 10 minutes, to show on the server's screen."""
        for rid in body.resourceIds:
            service._resource(rid)
        return {"result": registry.pairing_code(body.role, body.resourceIds)}

    @api.post("/desks/pair", status_code=201)
    async def pair(body: schemas.PairBody):
        """Pair a new desk with a code (or its proof) → a bearer token, shown once."""
        if not body.code and not body.proof:
            raise errors.invalid("give the pairing code or its proof", field="code")
        return {"result": registry.pair(body.deskName, body.role, code=body.code, proof=body.proof,
                                        resource_ids=body.resourceIds)}

    @api.get("/desks")
    async def desks():
        return {"result": registry.list()}

    @api.post("/desks/revoke")
    async def revoke(body: schemas.DeskRef):
        if not registry.revoke(body.deskId):
            raise errors.not_found("desk", body.deskId)
        return {"result": {"deskId": body.deskId, "revoked": True}}
