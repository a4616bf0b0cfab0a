"""Fault injection of the simulated Rekaz cloud, switchable at run time.

Faults stand for what a real deployment does to a client: slow replies, 5xx (API reference
"HTTP Status Codes": 500), ``RateLimit`` 429 with ``Retry-After`` (API reference "Common Error
Codes"; contract "Transport": "RateLimit comes as 429, with Retry-After honoured"),
dropped connections, and replies lost after the write committed (contract "Behaviour
the desk relies on": the lost-reply rules on create, customer create and attendance).

Kinds (each rule optionally scoped by ``method`` and a ``path`` prefix; ``count`` is how
many matching requests it hits: 1 by default, until cleared for ``latency`` and for rules
with a ``ratio``; ``ratio`` hits each matching request with that probability from a
seeded generator; the first matching rule other than latency wins):

* ``latency``: wait ``ms`` milliseconds before handling.
* ``fail``: answer ``status`` (default 500) with the API reference's error envelope.
* ``rate_limit``: answer 429 ``RateLimit`` with ``Retry-After: <retry_after>`` (seconds).
* ``drop``: close the connection with no response; nothing is handled.
* ``lose_reply``: handle the request (the write commits), then close with no response.

Paths under ``/_sim/`` (the admin interface) are never faulted.

The machinery is shared by the simulated Rekaz and Agendize clouds: :mod:`tests.clouds.faults`.
"""

from __future__ import annotations

from ..faults import DEFAULT, KINDS, FaultMiddleware, FaultRule, Faults

__all__ = ["DEFAULT", "KINDS", "FaultMiddleware", "FaultRule", "Faults"]
