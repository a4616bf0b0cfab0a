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

import asyncio
import json
import random
import threading
from dataclasses import asdict, dataclass

from .errors import RATE_LIMITED, UNAVAILABLE

KINDS = ("latency", "fail", "rate_limit", "drop", "lose_reply")
DEFAULT = object()


@dataclass
class FaultRule:
    kind: str
    count: int | None = 1
    ratio: float | None = None
    method: str | None = None
    path: str | None = None
    ms: int = 0
    status: int = 503
    retry_after: int = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method.upper() == method)
                and (self.path is None or path.startswith(self.path)))


class Faults:
    def __init__(self, seed: int = 0):
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def add(self, kind: str, **options) -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if options.get("count", DEFAULT) is DEFAULT:  # once, unless latency or a ratio
            options["count"] = None if kind == "latency" or options.get("ratio") is not None else 1
        rule = FaultRule(kind, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    def latency(self, ms: int, **scope) -> FaultRule:
        return self.add("latency", ms=ms, **scope)

    def fail(self, count=DEFAULT, *, status: int = 503, **scope) -> FaultRule:
        return self.add("fail", count=count, status=status, **scope)

    def rate_limit(self, count=DEFAULT, *, retry_after: int = 1, **scope) -> FaultRule:
        return self.add("rate_limit", count=count, retry_after=retry_after, **scope)

    def drop(self, count=DEFAULT, **scope) -> FaultRule:
        return self.add("drop", count=count, **scope)

    def lose_reply(self, count=DEFAULT, **scope) -> FaultRule:
        return self.add("lose_reply", count=count, **scope)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict]:
        with self._lock:
            return [asdict(r) for r in self._rules]

    def pick(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """For one request: total latency (ms) and the first other rule that fires (consumed)."""
        delay, fired = 0, None
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(method, path) or (fired is not None and rule.kind != "latency"):
                    continue
                if rule.ratio is not None and self._rng.random() >= rule.ratio:
                    continue
                rule.hits += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                if rule.kind == "latency":
                    delay += rule.ms
                else:
                    fired = rule
        return delay, fired


class FaultMiddleware:
    """ASGI wrapper applying :class:`Faults` in front of the cloud (like a flaky proxy)."""

    def __init__(self, app, faults: Faults):
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            return await self.app(scope, receive, send)
        delay, rule = self.faults.pick(scope["method"], scope["path"])
        if delay:
            await asyncio.sleep(delay / 1000)
        if rule is None:
            return await self.app(scope, receive, send)
        if rule.kind == "drop":
            return await _drop(send)
        if rule.kind == "lose_reply":
            async def swallow(message):
                return None
            await self.app(scope, receive, swallow)
            return await _drop(send)
        status, code, headers = rule.status, UNAVAILABLE, [(b"content-type", b"application/json")]
        if rule.kind == "rate_limit":
            status, code = 429, RATE_LIMITED
            headers.append((b"retry-after", str(rule.retry_after).encode()))
        body = json.dumps({"error": {"code": code, "message": f"simulated fault: {rule.kind}"}}).encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drop(send) -> None:
    """Close the client's connection with no response at all.

    uvicorn's ``send`` is a bound method of the request cycle, which holds the transport;
    closing it is a raw disconnect. Other servers: start a response and raise, which
    makes the server abort the connection mid-response.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ConnectionAbortedError("simulated dropped connection")
    transport.close()
    for _ in range(100):  # let uvicorn see the disconnect, so it does not answer 500
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0.001)
