"""Routes of the branch's reports (an ``APIRouter`` included by :func:`app.server.api.create_app`).

``GET /reports/{kind}?from=YYYY-MM-DD&to=YYYY-MM-DD`` (branch-local days, both included,
at most :data:`app.domain.reports.MAX_DAYS`), optional ``resourceId``, ``typeId`` and
``groupBy`` (``resource`` or ``type``) → ``{"result": report}``; ``kind`` is one of
``bookings``, ``no-shows``, ``waits``, ``visits``, ``utilisation``, ``revenue`` (shapes and
definitions: :mod:`app.server.reports`). Reception and manager desks; computed from the
branch's own store, so they answer while the cloud is unreachable.

Errors: 400 ``VALIDATION`` (a bad date, a range backwards or too long, an unknown
``groupBy``), 404 ``NOT-FOUND`` (an unknown report).
"""

from __future__ import annotations

import asyncio
import sqlite3

from fastapi import APIRouter, Query, Request

from app.server.reports import Reports
from app.server.security import Role, require

router = APIRouter()


def _day(text: str, field: str):
    from app.server.api import _day as day  # the API's one reading of a branch-local date

    return day(text, field)


@router.get("/reports/{kind}", dependencies=[require(Role.RECEPTION)])
async def report(
    request: Request,
    kind: str,
    first: str = Query(alias="from", max_length=10),
    last: str = Query(alias="to", max_length=10),
    resourceId: str | None = Query(None, max_length=64),
    typeId: str | None = Query(None, max_length=64),
    groupBy: str | None = Query(None, max_length=10),
):
    """One report over a range of branch-local days (module docstring)."""
    service = request.app.state.service
    start, end = _day(first, "from"), _day(last, "to")
    reports = Reports.of_store(service.store, service.zone, service.now)

    def run() -> dict:
        # a connection of its own: a year of bookings is aggregated off the event loop
        # while the writer goes on (WAL readers see the last commit)
        conn = sqlite3.connect(str(service.store.path), timeout=10)
        try:
            conn.execute("PRAGMA query_only = 1")
            conn.execute("PRAGMA mmap_size = 268435456")  # a new connection: read the pages in place
            reports.conn = conn
            return reports.run(kind, start, end, resourceId, typeId, groupBy)
        finally:
            conn.close()

    return {"result": await asyncio.to_thread(run)}
