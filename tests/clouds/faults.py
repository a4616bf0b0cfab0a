"""Transport faults shared by the simulated Rekaz and Agendize clouds, switchable at run time:
what any real deployment does to a client, whatever its API (slow replies, 5xx, 429 with
``Retry-After``, dropped connections, replies lost after the write committed). Each cloud
gives its own error envelope (``error_body``) and rate-limit code; its ``faults`` module says
which API reference and contract sections the faults stand for.

Kinds (each rule optionally scoped by ``method`` and a ``path`` prefix; ``count`` is how
many matching requests it hits: 1 by default, until cleared for ``latency`` and for rules
with a ``ratio``; ``ratio`` hits each matching request with that probability from a
seeded generator; the first matching rule other than latency wins):

* ``latency``: wait ``ms`` milliseconds before handling.
* ``fail``: answer ``status`` (default 500) with the cloud's error envelope.
* ``rate_limit``: answer 429 with ``Retry-After: <retry_after>`` (seconds).
* ``drop``: close the connection with no response; nothing is handled.
* ``lose_reply``: handle the request (the write commits), then close with no response.

Paths under ``/_sim/`` (the admin interface) are never faulted.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from dataclasses import asdict, dataclass

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
    status: int = 500
    retry_after: int = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or path.startswith(self.path)
        )


class Faults:
    """The active fault rules; thread-safe (tests add rules while the server runs).
    ``FAIL_STATUS``: what a ``fail`` rule answers unless it names a status."""

    FAIL_STATUS = 500

    def __init__(self, seed: int = 0):
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def add(self, kind: str, **options) -> FaultRule:
        """Add one rule; raises ValueError for an unknown kind, TypeError for an unknown option."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if options.get("count", DEFAULT) is DEFAULT:
            options["count"] = None if kind == "latency" or options.get("ratio") is not None else 1
        if kind == "fail" and options.get("status") is None:
            options["status"] = self.FAIL_STATUS
        rule = FaultRule(kind, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    def latency(self, ms: int, **scope) -> FaultRule:
        return self.add("latency", ms=ms, **scope)

    def fail(self, count=DEFAULT, *, status: int | None = None, **scope) -> FaultRule:
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
        """For one request: the total latency (ms) and the first other rule that fires (consumed)."""
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
    """ASGI wrapper that applies :class:`Faults` in front of the cloud, like a flaky proxy.

    ``error_body(status, code, message)`` gives the cloud's error envelope for ``fail``
    (code None) and ``rate_limit`` (code ``rate_code``).
    """

    def __init__(self, app, faults: Faults, error_body, rate_code):
        self.app = app
        self.faults = faults
        self.error_body = error_body
        self.rate_code = rate_code

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
        status, code = rule.status, None
        headers = [(b"content-type", b"application/json")]
        if rule.kind == "rate_limit":
            status, code = 429, self.rate_code
            headers.append((b"retry-after", str(rule.retry_after).encode()))
        body = json.dumps(self.error_body(status, code, f"simulated fault: {rule.kind}")).encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drop(send) -> None:
    """Close the client's connection with no response at all.

    uvicorn's ``send`` is a bound method of its request cycle, which holds the transport;
    closing that transport is a raw disconnect. Elsewhere: start a response and raise,
    which makes the server abort the connection mid-response.
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
