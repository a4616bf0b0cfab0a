"""HTTP client of the Rekaz public API v2 (seed ``002_8fee4d72956658de.txt``; contract
``shared/contracts/rekaz.md``).

:data:`ROUTES` is the contract's "Operations" table in ONE place: a real deployment that
spells a path differently is corrected here. Every call sends ``Authorization: Basic <key>``
with the key exactly as issued (the client never composes or encodes it), ``__tenant`` and
``Content-Type: application/json`` (contract "Transport").

Failures (contract "Transport" → Errors), sorted for the sync engine by :attr:`RekazError.kind`:

* :class:`TransportError`: no answer (refused, reset, timeout, reply lost). A write may or
  may not have been handled: the caller looks it up by natural key (:mod:`.lookups`).
* ``transient``: 5xx, or 429 / ``RateLimit`` (``retry_after`` seconds from ``Retry-After``).
* ``auth``: 401 ``Unauthorized`` (the key or the tenant is wrong: not retried blindly).
* ``not_found``: 404 / ``NotFound``.
* ``refused``: any other 4xx (``ValidationError``, ``BusinessLogicError``: slot taken,
  already cancelled; 403 missing branch or permission). Never retried.

Error codes are compared case-insensitively with ``_`` ignored (``VALIDATION_ERROR`` is
``ValidationError``, contract "Transport"), through :func:`code_key`.

Reads (GET) are retried here a few times on a transient failure, waiting ``Retry-After``
when the cloud sends it and a jittered exponential backoff otherwise
(:func:`backoff_seconds`, the engine's convention); writes are never retried here: the
outbox retries them after its own lost-reply look-up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx

log = logging.getLogger(__name__)

#: operation → (method, path relative to the base URL ``…/api/public``) (contract "Operations")
ROUTES: dict[str, tuple[str, str]] = {
    "branches": ("GET", "/branches"),
    "branch": ("GET", "/branches/{id}"),
    "products": ("GET", "/products"),
    "product": ("GET", "/products/{id}"),
    "providers": ("GET", "/providers"),
    "customers": ("GET", "/customers"),
    "customer": ("GET", "/customers/{id}"),
    "create_customer": ("POST", "/customers"),
    "reservations": ("GET", "/reservations"),
    "reservation": ("GET", "/reservations/{id}"),
    "slots": ("GET", "/reservations/slots"),
    "create": ("POST", "/reservations/bulk"),
    "update": ("PUT", "/reservations/{id}"),
    "confirm": ("PUT", "/reservations/{id}/confirm"),
    "cancel": ("PUT", "/reservations/{id}/cancel"),
    "attendances": ("GET", "/attendances"),
    "attend": ("POST", "/attendances"),
}

#: the page size limit of every paged listing (seed: ``maxResultCount`` max 100)
MAX_RESULT_COUNT = 100


def code_key(code: str | None) -> str:
    """An error code folded for comparison: ``VALIDATION_ERROR``, ``ValidationError`` and
    ``validationerror`` all give ``validationerror`` (contract "Transport")."""
    return (code or "").replace("_", "").replace("-", "").casefold()


VALIDATION = code_key("ValidationError")
NOT_FOUND = code_key("NotFound")
UNAUTHORIZED = code_key("Unauthorized")
RATE_LIMIT = code_key("RateLimit")
BUSINESS = code_key("BusinessLogicError")


class TransportError(Exception):
    """The cloud did not answer (the request may or may not have been handled)."""


class RekazError(Exception):
    """The cloud answered with an error: ``status`` (HTTP), ``code`` as sent (may be None),
    ``message``, ``details``, ``validation_errors`` (``[{field, message}]``) and, for 429,
    ``retry_after`` seconds (None when no ``Retry-After`` came)."""

    def __init__(self, status: int, code: str | None, message: str, *, details: str | None = None,
                 validation_errors: list | None = None, retry_after: float | None = None):
        super().__init__(f"{status} {code or '-'}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details
        self.validation_errors = validation_errors or []
        self.retry_after = retry_after

    def is_code(self, code: str) -> bool:
        """True when the error's code is ``code`` (compared by :func:`code_key`)."""
        return code_key(self.code) == code_key(code)

    @property
    def kind(self) -> str:
        """``transient`` | ``auth`` | ``not_found`` | ``refused`` (see the module text)."""
        key = code_key(self.code)
        if self.status >= 500 or self.status == 429 or key == RATE_LIMIT:
            return "transient"
        if self.status == 401 or key == UNAUTHORIZED:
            return "auth"
        if self.status == 404 or key == NOT_FOUND:
            return "not_found"
        return "refused"

    @property
    def transient(self) -> bool:
        return self.kind == "transient"


def backoff_seconds(attempts: int, retry_after: float | None = None, *, base: float = 0.5,
                    cap: float = 30.0, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempts`` (1, 2, ...): ``Retry-After`` when sent
    (contract "Transport": honoured), else ``uniform(0.5, 1) × min(cap, base × 2^(n-1))``
    (the engine's "full jitter" backoff)."""
    if retry_after is not None:
        return max(0.0, float(retry_after))
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling * (rng or random).uniform(0.5, 1.0)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error(response: httpx.Response) -> RekazError:
    try:
        data = response.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    if code is None and response.status_code == 429:
        code = "RateLimit"
    return RekazError(response.status_code, str(code) if code is not None else None,
                      str(error.get("message") or response.reason_phrase or "error"),
                      details=error.get("details"), validation_errors=error.get("validationErrors"),
                      retry_after=_retry_after(response))


class RekazClient:
    """``RekazClient(base_url, key, tenant)``; create it inside the running event loop.

    ``base_url`` is the API base (``https://platform.rekaz.io/api/public``); ``key`` goes
    after ``Basic `` exactly as issued; ``tenant`` is the ``__tenant`` header.
    ``read_retries``: extra attempts of a GET after a transient failure;
    ``max_wait``: the longest ``Retry-After`` waited inside one call (seconds; a longer one
    is raised to the caller, whose backoff honours it).
    """

    def __init__(self, base_url: str, key: str, tenant: str, *, timeout: float = 15.0,
                 read_retries: int = 3, max_wait: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None, rng: random.Random | None = None):
        self.base_url = base_url.rstrip("/")
        self.read_retries, self.max_wait = read_retries, max_wait
        self.rng = rng or random.Random()
        #: calls made (per operation), for tests and the sync status
        self.calls: dict[str, int] = {}
        self.http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport,
            headers={"Authorization": f"Basic {key}", "__tenant": tenant, "Content-Type": "application/json",
                     "Accept": "application/json"},
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(self, operation: str, *, ids: dict | None = None, params: dict | None = None,
                   body=None):
        """One call of ``operation`` (a key of :data:`ROUTES`): the decoded JSON reply, or
        None for 204. List values of ``params`` are sent as repeated keys (contract
        "Transport", ASP.NET style); None values are left out. Raises TransportError or
        RekazError."""
        method, path = ROUTES[operation]
        path = path.format(**(ids or {}))
        query = {k: v for k, v in (params or {}).items() if v is not None and v != []}
        attempts = 0
        while True:
            attempts += 1
            self.calls[operation] = self.calls.get(operation, 0) + 1
            try:
                kwargs: dict[str, Any] = {"params": query}
                if method != "GET":
                    kwargs["json"] = body if body is not None else {}
                response = await self.http.request(method, path, **kwargs)
                if response.status_code >= 400:
                    raise _error(response)
            except (httpx.HTTPError, RekazError) as exc:
                failure = exc if isinstance(exc, RekazError) else TransportError(
                    f"{method} {path}: {type(exc).__name__}: {exc}")
                transient = isinstance(failure, TransportError) or failure.transient
                wait = backoff_seconds(attempts, getattr(failure, "retry_after", None), rng=self.rng)
                if method != "GET" or not transient or attempts > self.read_retries or wait > self.max_wait:
                    raise failure from (exc if failure is not exc else None)
                log.info("Rekaz %s %s: %s; retry %d in %.1f s", method, path, failure, attempts, wait)
                await asyncio.sleep(wait)
                continue
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise RekazError(response.status_code, None, f"{method} {path}: the reply is not JSON") from exc

    async def pages(self, operation: str, params: dict | None = None, *,
                    page_size: int = MAX_RESULT_COUNT) -> AsyncIterator[tuple[list[dict], int]]:
        """Yield ``(items, totalCount)`` page by page (``skipCount``/``maxResultCount``,
        seed "Query Parameters"); the listing ends when ``skipCount + len(items) >=
        totalCount`` or a page comes back empty (contract "Transport": Paging)."""
        skip = 0
        while True:
            data = await self.call(operation, params={**(params or {}), "skipCount": skip,
                                                      "maxResultCount": page_size})
            if not isinstance(data, dict):
                raise RekazError(200, None, f"{operation}: expected {{items, totalCount}}, got {type(data).__name__}")
            items = [i for i in data.get("items") or [] if isinstance(i, dict)]
            total = int(data.get("totalCount") or 0)
            yield items, total
            skip += len(data.get("items") or [])
            if not items or skip >= total:
                return

    async def all(self, operation: str, params: dict | None = None, *, by_id: bool = True) -> list[dict]:
        """Every item of a paged listing. With ``by_id`` rows are merged by ``id``, the
        later copy winning (offset paging over a changing set can repeat a row: contract
        "Transport")."""
        if not by_id:
            return [item async for items, _ in self.pages(operation, params) for item in items]
        merged: dict[str, dict] = {}
        async for items, _ in self.pages(operation, params):
            for item in items:
                merged[str(item.get("id"))] = item
        return list(merged.values())

    async def listing(self, operation: str) -> list[dict]:
        """An unpaged listing: branches and products are bare arrays, providers is
        ``{"items": [...]}`` (contract "Transport": Paging)."""
        data = await self.call(operation)
        if isinstance(data, dict):
            data = data.get("items")
        if not isinstance(data, list):
            raise RekazError(200, None, f"{operation}: expected a list")
        return [item for item in data if isinstance(item, dict)]
