"""HTTP client of the Rekaz public API v2 (Rekaz API reference; contract
``docs/clouds/rekaz.md``).

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

Reads (GET) are retried a few times on a transient failure, waiting ``Retry-After``
when the cloud sends it and a jittered exponential backoff otherwise
(:mod:`app.sync.transport`, the engine's convention); writes are never retried here: the
outbox retries them after its own lost-reply look-up.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx

from app.sync import transport as http
from app.sync.transport import retry_after

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

#: the page size limit of every paged listing (API reference: ``maxResultCount`` max 100)
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

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        details: str | None = None,
        validation_errors: list | None = None,
        retry_after: float | None = None,
    ):
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
    return RekazError(
        response.status_code,
        str(code) if code is not None else None,
        str(error.get("message") or response.reason_phrase or "error"),
        details=error.get("details"),
        validation_errors=error.get("validationErrors"),
        retry_after=retry_after(response),
    )


class RekazClient:
    """``RekazClient(base_url, key, tenant)``; create it inside the running event loop.

    ``base_url`` is the API base (``https://platform.rekaz.io/api/public``); ``key`` goes
    after ``Basic `` exactly as issued; ``tenant`` is the ``__tenant`` header.
    ``read_retries``: extra attempts of a GET after a transient failure;
    ``max_wait``: the longest ``Retry-After`` waited inside one call (seconds; a longer one
    is raised to the caller, whose backoff honours it).
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        tenant: str,
        *,
        timeout: float = 15.0,
        read_retries: int = 3,
        max_wait: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.transport = http.Transport(
            "Rekaz",
            http.http_client(
                base_url=self.base_url,
                timeout=timeout,
                transport=transport,
                headers={"__tenant": tenant, "Content-Type": "application/json"},
                auth=http.HeaderAuth("Authorization", f"Basic {key}"),
            ),
            error=_error,
            unreachable=TransportError,
            malformed=lambda status, message: RekazError(status, None, message),
            reads=http.ReadRetry(read_retries, max_wait, base=0.5, cap=30.0),
            rng=rng,
        )
        self.http = self.transport.http
        #: calls made per operation, each retry too (tests, the sync status)
        self.calls: dict[str, int] = self.transport.calls

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def call(self, operation: str, *, ids: dict | None = None, params: dict | None = None, body=None):
        """One call of ``operation`` (a key of :data:`ROUTES`): the decoded JSON reply, or
        None for 204. List values of ``params`` are sent as repeated keys (contract
        "Transport", ASP.NET style); None values are left out. A GET is retried after a
        transient failure (:class:`app.sync.transport.Transport`). Raises TransportError or
        RekazError."""
        method, path = ROUTES[operation]
        kwargs: dict = {"params": {k: v for k, v in (params or {}).items() if v is not None and v != []}}
        if method != "GET":
            kwargs["json"] = body if body is not None else {}
        return await self.transport.json(
            method, path.format(**(ids or {})), operation=operation, read=method == "GET", **kwargs
        )

    async def pages(
        self, operation: str, params: dict | None = None, *, page_size: int = MAX_RESULT_COUNT
    ) -> AsyncIterator[tuple[list[dict], int]]:
        """Yield ``(items, totalCount)`` page by page (``skipCount``/``maxResultCount``,
        API reference "Query Parameters"); the listing ends when ``skipCount + len(items) >=
        totalCount`` or a page comes back empty (contract "Transport": Paging)."""
        skip = 0
        while True:
            data = await self.call(
                operation, params={**(params or {}), "skipCount": skip, "maxResultCount": page_size}
            )
            if not isinstance(data, dict):
                raise RekazError(
                    200, None, f"{operation}: expected {{items, totalCount}}, got {type(data).__name__}"
                )
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
