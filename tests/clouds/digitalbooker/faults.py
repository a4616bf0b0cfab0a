"""Fault injection of the simulated DigitalBooker cloud, switchable at run time.

Faults stand for what a real deployment does to a client: slow replies, transient 5xx
and 429 with ``Retry-After`` (contract "Transport" → Errors: "429 rate limited (honour
``Retry-After``), 5xx transient"), dropped connections, and replies lost after the write
committed (contract "Behaviour the desk relies on": "Lost reply on a create", and either
step of a reschedule, which is a create then a delete).

Kinds (each rule optionally scoped by ``method`` and a ``path`` prefix; ``count`` is how
many matching requests it hits: 1 by default, until cleared for ``latency`` and for rules
with a ``ratio``; ``ratio`` hits each matching request with that probability from a
seeded generator; the first matching rule other than latency wins):

* ``latency``: wait ``ms`` milliseconds before handling.
* ``fail``: answer ``status`` (default 500) with the error reply
  ``{"error": {"code": "http_<status>", "message", "errors": []}}``.
* ``rate_limit``: answer 429 (code ``rate_limited``) with ``Retry-After: <retry_after>`` (seconds).
* ``drop``: close the connection with no response; nothing is handled.
* ``lose_reply``: handle the request (the write commits), then close with no response.

Paths under ``/_sim/`` (the admin interface) are never faulted.

The machinery is shared by the simulated clouds: :mod:`tests.clouds.faults`.
"""

from __future__ import annotations

from ..faults import DEFAULT, KINDS, FaultMiddleware, FaultRule, Faults

__all__ = ["DEFAULT", "KINDS", "FaultMiddleware", "FaultRule", "Faults"]
