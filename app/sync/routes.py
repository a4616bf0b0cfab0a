"""The branch API's sync routes (issue #3 §4), mounted by :class:`app.server.BranchServer`
next to ``GET /sync/status`` (which :mod:`app.server.api` serves from
``api.state.sync_status``):

* ``GET /sync/attention`` → ``{"result": [case, ...]}`` (open cases, oldest first; the
  shape of :mod:`app.sync.outbox`). ``?all=true`` includes resolved ones.
* ``POST /sync/attention/{id}/resolve`` ``{"resolution": "accept-cloud" | "reapply"}`` →
  the resolved case; 404 ``NOT-FOUND`` for an unknown or already resolved case, 400
  ``VALIDATION`` for another resolution.
* ``POST /sync/now`` → ``{"result": <sync status>}``: retry every waiting operation now and
  pull soon (the reply does not wait for the cycle).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.domain import errors
from app.sync.engine import SyncEngine


class ResolveBody(BaseModel):
    resolution: str


def make_router(engine: SyncEngine) -> APIRouter:
    router = APIRouter(prefix="/sync")

    @router.get("/attention")
    async def attention(all: bool = False):
        return {"result": engine.outbox.attention(include_resolved=all)}

    @router.post("/attention/{case_id}/resolve")
    async def resolve(case_id: str, body: ResolveBody):
        try:
            return {"result": engine.resolve(case_id, body.resolution)}
        except KeyError:
            raise errors.not_found("attention case", case_id) from None
        except ValueError as exc:
            raise errors.invalid(str(exc), field="resolution") from None

    @router.post("/now")
    async def now():
        engine.request_cycle()
        return {"result": engine.status()}

    return router
