"""Fault injection for the simulated cloud, switchable at run time (contract "Transport":
"429 rate limited (honour ``Retry-After`` seconds), 5xx transient"; "There is no
idempotency key. After a transport error on a create (the write may or may not have
committed)..." in "Behaviour").

Kinds (each rule optionally scoped by ``method`` and ``path`` prefix; ``count`` = how many
matching requests it hits — default 1, but until cleared for ``latency`` and for rules
with a ``ratio``; None = until cleared; ``ratio`` = hit each matching request with that
probability, from a seeded generator; the first matching non-latency rule wins):

* ``latency``    — wait ``ms`` before handling (default: every matching request).
* ``fail``       — answer ``status`` (default 503) ``{"error": {"code": "SERVER-UNAVAILABLE"}}``.
* ``rate_limit`` — answer 429 ``RATE-LIMITED`` with ``Retry-After: <retry_after>``.
* ``drop``       — close the connection without any response, nothing handled.
* ``lose_reply`` — handle the request (the write commits), then close without a response.

Python: ``cloud.faults.fail(2)``, ``.latency(300, path="/management")``,
``.rate_limit(retry_after=2)``, ``.drop()``, ``.lose_reply(method="PUT")``, ``.clear()``;
``cloud.expire_tokens()``. HTTP: ``POST /_sim/faults`` with one rule
``{"kind": "fail", "count": 2, "status": 502, "method": "GET", "path": "/management/bookings"}``,
a list ``{"faults": [...]}``, ``{"kind": "expire_tokens"}`` or ``{"kind": "clear"}``;
``GET /_sim/faults`` lists the rules; paths under ``/_sim/`` are never faulted.
"""

from __future__ import annotations

from .. import faults as shared
from ..faults import DEFAULT, KINDS, FaultRule
from .errors import RATE_LIMITED, UNAVAILABLE

__all__ = ["DEFAULT", "KINDS", "FaultMiddleware", "FaultRule", "Faults"]


class Faults(shared.Faults):
    """Ehjzny's faults: a ``fail`` answers 503 unless it names another status."""

    FAIL_STATUS = 503


def _envelope(status: int, code: str | None, message: str) -> dict:
    return {"error": {"code": code or UNAVAILABLE, "message": message}}


def FaultMiddleware(app, faults: Faults):  # noqa: N802 (an ASGI app, named as the class it builds)
    """The shared fault middleware with Ehjzny's envelope: ``SERVER-UNAVAILABLE`` for a
    ``fail``, ``RATE-LIMITED`` (with ``Retry-After``) for a ``rate_limit``."""
    return shared.FaultMiddleware(app, faults, _envelope, RATE_LIMITED)
