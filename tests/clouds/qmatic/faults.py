"""Fault injection of the simulated Qmatic cloud, switchable at run time.

Faults stand for what a real deployment does to a client: slow replies, transient 5xx
and 429 with ``Retry-After`` (contract ``docs/clouds/qmatic.md`` "Transport" → Errors:
"429 rate limited (honour Retry-After seconds); 5xx transient"), dropped connections, and
replies lost after the work was done (contract "Behaviour the desk relies on": "Lost reply
on reserve", "Lost reply on confirm").

Kinds (each rule optionally scoped by ``method`` and a ``path`` prefix such as
``/external/v1/reservations``; ``count`` is how many matching requests it hits: 1 by
default, until cleared for ``latency`` and for rules with a ``ratio``):

* ``latency``: wait ``ms`` milliseconds before handling.
* ``fail``: answer ``status`` (default 500) with ``{"code": "server.error", "message"}``.
* ``rate_limit``: answer 429 ``{"code": "rate.limited", "message"}`` with ``Retry-After``.
* ``drop``: close the connection with no response; nothing is handled.
* ``lose_reply``: handle the request (the reserve or confirm is made), then close with no response.

Paths under ``/_sim/`` (the admin interface) are never faulted. The machinery is shared
with the other simulated clouds: :mod:`tests.clouds.faults`.
"""

from __future__ import annotations

from ..faults import DEFAULT, KINDS, FaultMiddleware, FaultRule, Faults

__all__ = ["DEFAULT", "KINDS", "FaultMiddleware", "FaultRule", "Faults"]
