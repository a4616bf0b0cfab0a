"""The connectors' one HTTP transport: the httpx client, its auth, timeouts and the retry
of reads (contracts ``docs/clouds/<cloud>.md`` "Transport"; each cloud's client keeps
its routes, its error body and its paging).

* :func:`http_client`: the ``httpx.AsyncClient`` of one cloud account (JSON ``Accept``,
  a timeout in seconds, a bounded pool); create it inside the running event loop.
* Auth: :class:`httpx.BasicAuth` (DigitalBooker), :class:`HeaderAuth` (one header exactly
  as issued: Rekaz's ``Basic <key>``, a Qmatic gateway's ``Authorization``) and
  :class:`BearerAuth` (a token asked for on every call and refreshed once after a 401:
  Ehjzny). A call made with ``auth=None`` goes without the client's auth (a public API).
* :class:`Transport`: one request of a cloud call; a failure without an answer becomes the
  cloud's ``TransportError``, an answer ≥ 400 the cloud's error. A read (the caller says
  which calls are reads) is retried after a transient failure (no answer, 5xx, 429) a few
  times, waiting the ``Retry-After`` seconds when the cloud sends them and a jittered
  exponential backoff otherwise (:func:`backoff_seconds`); a wait longer than
  ``max_wait`` goes to the caller at once, whose own backoff honours it. Writes are never
  retried here: the outbox retries them after its own lost-reply look-up. The retry runs
  on ``tenacity``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

log = logging.getLogger(__name__)


def http_client(
    *,
    base_url: str = "",
    headers: dict | None = None,
    auth: httpx.Auth | None = None,
    timeout: float = 15.0,
    connections: int = 8,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for one cloud account: ``Accept: application/json`` plus
    ``headers``, ``auth`` on every call (unless a call passes ``auth=None``), ``timeout``
    seconds per request, at most ``connections`` connections kept open. ``transport`` is
    for tests (an in-process app)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        transport=transport,
        auth=auth,
        headers={"Accept": "application/json", **(headers or {})},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


class _WaitLongerThan(stop_base):
    """Stop when the next wait would be longer than ``seconds`` (a Retry-After beyond what a
    read may wait)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        return (retry_state.upcoming_sleep or 0.0) > self.seconds


class HeaderAuth(httpx.Auth):
    """Sends the header ``name: value`` exactly as given (the client never composes or
    encodes it), e.g. ``Authorization: Basic <key as issued>``."""

    def __init__(self, name: str, value: str):
        self.name, self.value = name, value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.name] = self.value
        yield request


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token_source()>`` on every call; after a 401,
    ``on_unauthorized()`` (optional) is awaited once, e.g. to refresh an access token, and
    the call is sent again once with the token asked for anew."""

    def __init__(
        self,
        token_source: Callable[[], Awaitable[str]],
        on_unauthorized: Callable[[], Awaitable[None]] | None = None,
    ):
        self.token_source, self.on_unauthorized = token_source, on_unauthorized

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.token_source()}"
        response = yield request
        if response.status_code == 401 and self.on_unauthorized is not None:
            await self.on_unauthorized()
            request.headers["Authorization"] = f"Bearer {await self.token_source()}"
            yield request


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (≥ 0), or None when it is absent or not a
    number of seconds."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def backoff_seconds(
    attempts: int,
    retry_after: float | None = None,
    *,
    base: float = 0.5,
    cap: float = 60.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempts`` (1, 2, ...): ``Retry-After`` when the
    cloud sent it (honour it), else "full jitter" exponential backoff
    ``uniform(0.5, 1) × min(cap, base × 2^(attempts-1))``."""
    if retry_after is not None:
        return max(0.0, float(retry_after))
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling * (rng or random).uniform(0.5, 1.0)


@dataclass(frozen=True)
class ReadRetry:
    """How a read is retried: ``retries`` extra attempts after a transient failure, never a
    wait over ``max_wait`` seconds, the backoff ``base`` and ``cap`` in seconds."""

    retries: int = 0
    max_wait: float = 30.0
    base: float = 0.5
    cap: float = 30.0


def is_transient(error: BaseException, unreachable: type[Exception]) -> bool:
    """No answer (``unreachable``), or a cloud error whose ``transient`` is true (5xx, 429)."""
    return isinstance(error, unreachable) or bool(getattr(error, "transient", False))


class Transport:
    """The requests of one cloud client over ``http`` (:func:`http_client`).

    ``cloud`` names the cloud in the log; ``error(response)`` makes the cloud's exception
    from an answer ≥ 400 (it carries ``retry_after`` and ``transient``); ``unreachable`` is
    the cloud's ``TransportError`` class, raised with ``"<METHOD> <url>: <httpx error>"``;
    ``malformed(status, message)`` the cloud's exception for a 2xx body that is not JSON.
    ``requests`` counts the requests sent (each retry too), ``calls`` the same per
    operation, ``received`` the bytes of the replies."""

    def __init__(
        self,
        cloud: str,
        http: httpx.AsyncClient,
        *,
        error: Callable[[httpx.Response], Exception],
        unreachable: type[Exception],
        malformed: Callable[[int, str], Exception] | None = None,
        reads: ReadRetry | None = None,
        rng: random.Random | None = None,
    ):
        self.cloud, self.http = cloud, http
        self.error, self.unreachable = error, unreachable
        self.malformed = malformed or (lambda status, message: ValueError(message))
        self.reads = reads or ReadRetry()
        self.rng = rng or random.Random()
        self.requests = 0
        self.received = 0
        self.calls: dict[str, int] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(
        self, method: str, url: str, *, operation: str = "", read: bool = False, **kwargs
    ) -> httpx.Response:
        """Send one request (``kwargs`` go to ``httpx.AsyncClient.request``: ``params``,
        ``json``, ``auth``, ``headers``); a ``read`` is retried as :class:`ReadRetry` says.
        Returns the answer (status < 400). Raises ``unreachable`` or ``error(response)``."""

        async def attempt() -> httpx.Response:
            self.requests += 1
            self.calls[operation] = self.calls.get(operation, 0) + 1
            try:
                response = await self.http.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                raise self.unreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
            self.received += len(response.content)
            if response.status_code >= 400:
                raise self.error(response)
            return response

        if not read or self.reads.retries <= 0:
            return await attempt()
        return await self._retrying(method, url)(attempt)

    def _retrying(self, method: str, url: str) -> AsyncRetrying:
        policy = self.reads

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            return backoff_seconds(
                state.attempt_number,
                getattr(failure, "retry_after", None),
                base=policy.base,
                cap=policy.cap,
                rng=self.rng,
            )

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            log.info(
                "%s %s %s: %s; retry %d in %.1f s",
                self.cloud,
                method,
                url,
                failure,
                state.attempt_number,
                state.upcoming_sleep,
            )

        return AsyncRetrying(
            retry=retry_if_exception(lambda exc: is_transient(exc, self.unreachable)),
            wait=wait,
            stop=stop_any(stop_after_attempt(policy.retries + 1), _WaitLongerThan(policy.max_wait)),
            before_sleep=before_sleep,
            reraise=True,
        )

    async def json(self, method: str, url: str, *, operation: str = "", read: bool = False, **kwargs):
        """:meth:`send`, then the decoded JSON answer, or None for 204 or an empty body. A
        body that is not JSON raises ``malformed(status, "<METHOD> <url>: the reply is not
        JSON")``."""
        response = await self.send(method, url, operation=operation, read=read, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise self.malformed(response.status_code, f"{method} {url}: the reply is not JSON") from exc
